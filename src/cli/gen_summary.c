#include "cli/gen_summary.h"

#include <inttypes.h>
#include <stdio.h>

#include "ops/log.h"

void rr_gen_summary_log(const char *component, const rr_gen_opts_t *o, const rr_gen_stats_t *st,
                        double seconds, uint64_t stream_bytes, uint32_t partitions,
                        const char *topic)
{
    char f[2048];
    size_t n = (size_t)snprintf(
        f, sizeof f,
        "\"events\":%" PRIu64 ",\"conversations\":%" PRIu64 ",\"shops\":%" PRIu64
        ",\"seconds\":%.3f,\"model_events\":%" PRIu64 ",\"agents\":%" PRIu64
        ",\"duplicates\":%" PRIu64 ",\"disordered\":%" PRIu64 ",\"late\":%" PRIu64
        ",\"invalid\":%" PRIu64 ",\"garbage\":%" PRIu64 ",\"stream_bytes\":%" PRIu64
        ",\"first_ts_ms\":%" PRId64 ",\"last_ts_ms\":%" PRId64 ",\"partitions\":%" PRIu32,
        st->records, st->conversations, st->shops, seconds, st->model_events, st->agents,
        st->duplicates, st->disordered, st->late, st->invalid, st->garbage, stream_bytes,
        st->first_ts_ms, st->last_ts_ms, partitions);
    if (n < sizeof f &&
        (o->redeliver_rate > 0 || o->resume_rate > 0 || o->stale_events || o->jump_days))
        n += (size_t)snprintf(f + n, sizeof f - n,
                              ",\"redelivered\":%" PRIu64 ",\"resumed\":%" PRIu64
                              ",\"resumed_events\":%" PRIu64 ",\"resumed_old_ids\":%" PRIu64
                              ",\"stale\":%" PRIu64 ",\"jumped\":%" PRIu64,
                              st->redelivered, st->resumed, st->resumed_events, st->resumed_old_ids,
                              st->stale, st->jumped);
    if (n < sizeof f && topic)
        n += (size_t)snprintf(f + n, sizeof f - n, ",\"topic\":\"%s\"", topic);
    /* The expected verdicts emulate one stream; split by shop, a partition's
     * watermark differs from the whole stream's, so lateness may differ.
     * Some knobs make them inexact (gen.h). */
    if (n < sizeof f && partitions == 1 && st->expect_exact)
        snprintf(f + n, sizeof f - n,
                 ",\"expect\":{\"applied\":%" PRIu64 ",\"duplicate\":%" PRIu64 ",\"late\":%" PRIu64
                 ",\"invalid\":%" PRIu64 "}",
                 st->expect_applied, st->expect_duplicate, st->expect_late, st->expect_invalid);
    else if (n < sizeof f)
        snprintf(f + n, sizeof f - n, ",\"expect\":null");
    rr_log_event(RR_LOG_SUMMARY | RR_LOG_INFO, component, "gen_summary", "%s", f);
}
