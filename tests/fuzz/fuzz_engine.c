/* fuzz_engine.c: libFuzzer target for the engine's state machines.
 *
 * Random bytes rarely decode into valid ChatEvents, so this target reads
 * them as a compact event script instead: 8 bytes an event over a handful
 * of shops, conversations, buyers and agents, with small time steps that
 * cross windows, midnights, T, H, the lateness and max_future, duplicate
 * ids and out-of-range fields. Once in a script (at an event whose fourth
 * byte is 0xfc) the engine is checkpointed, freed and restored (docs/engine.md, "Checkpoints"). It
 * checks that nothing crashes or leaks (ASan/UBSan), that the four verdicts
 * add up to the input, and that no (shop, day) is published twice.
 *
 *   cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DRR_FUZZ=ON
 *   cmake --build build-fuzz --target fuzz_engine && build-fuzz/fuzz_engine -max_total_time=60
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/tz.h"
#include "base/membuf.h"
#include "replyrate/engine.h"

#define MAX_KEYS 4096

typedef struct seen {
    uint64_t keys[MAX_KEYS];
    size_t n;
} seen_t;

static void on_day(void *o, const rr_day_record_t *r)
{
    seen_t *s = o;
    uint64_t key =
        r->shop_id * 1000003u ^ (uint64_t)r->day * 31u ^ (r->is_agent ? r->agent_id + 7 : 0);
    for (size_t i = 0; i < s->n; i++)
        if (s->keys[i] == key && r->final) abort(); /* published twice as final */
    if (s->n < MAX_KEYS) s->keys[s->n++] = key;
}

/* Checkpoint e, free it, and restore into a new engine: which must go on
 * exactly as e would have (the verdict counts below check part of that). */
static rr_engine_t *reincarnate(rr_engine_t *e, const rr_config_t *cfg, const rr_tz_t *tz,
                                const rr_sink_t *sink)
{
    rr_membuf_t b = {0};
    char err[256];
    if (rr_engine_checkpoint(e, rr_membuf_write, &b) < 0) abort();
    rr_engine_free(e);
    if (rr_engine_new(cfg, tz, sink, &e, err, sizeof err) < 0 ||
        rr_engine_restore(e, rr_membuf_read, &b, err, sizeof err) < 0 || b.pos != b.n)
        abort();
    rr_membuf_free(&b);
    return e;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static rr_tz_t *tz;
    if (!tz) tz = rr_tz_fixed(8 * 3600, "UTC+08:00");
    rr_config_t cfg;
    rr_config_default(&cfg);
    seen_t seen = {.n = 0};
    rr_sink_t sink = {.opaque = &seen, .day = on_day};
    rr_engine_t *e;
    char err[256];
    if (rr_engine_new(&cfg, tz, &sink, &e, err, sizeof err) < 0) abort();
    int parts[2] = {rr_engine_add_partition(e, "p0"), rr_engine_add_partition(e, "p1")};
    int64_t ts = INT64_C(1795276800000); /* 2026-11-22 00:00 +08:00 */
    uint64_t eid = 1;
    size_t n = 0;
    int reincarnated = 0;
    for (size_t i = 0; i + 8 <= size; i += 8, n++) {
        const uint8_t *b = data + i;
        rr_event_t ev = {0};
        ev.type = b[0] % 12; /* 0 and 11 are invalid */
        ev.conversation_id = 1 + b[1] % 8;
        ev.shop_id = 1 + (b[1] >> 3) % 2; /* sometimes a shop mismatch */
        ev.buyer_id = b[2] % 4;           /* 0: invalid on a buyer message */
        ev.agent_id = (b[2] >> 2) % 4;
        ev.rating = (b[2] >> 4) % 7;
        ev.flags = b[3] & 3;
        static const int64_t steps[8] = {0, 1, 1000, 30000, 179999, 600000, 3600001, 21600000};
        int64_t step = steps[b[4] & 7] * ((b[4] >> 3) % 4);
        ts += (b[5] & 0x80) ? -step / 4 : step;    /* occasional disorder or lateness */
        if (b[5] == 0xff) ts += INT64_C(86400001); /* beyond max_future */
        ev.ts_ms = ts;
        ev.event_id = (b[6] & 0x80) && eid > 1 ? 1 + b[6] % (eid - 1) : eid++; /* re-deliveries */
        if (b[7] == 0) ev.event_id = 0;
        rr_engine_offer(e, parts[b[7] & 1 ? 1 : 0], &ev, (int64_t)i, b, 8, INT64_MAX);
        if (b[3] == 0xfc && !reincarnated) { /* at most once a script: a restore is costly */
            e = reincarnate(e, &cfg, tz, &sink);
            reincarnated = 1;
        }
    }
    rr_engine_finish(e);
    rr_stats_t st;
    rr_engine_stats(e, &st);
    if (st.input != n || st.applied + st.duplicate + st.late + st.invalid != n) abort();
    rr_engine_free(e);
    return 0;
}
