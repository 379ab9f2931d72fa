/* pipeline/watch.c: engines' numbers into the telemetry (see watch.h). */
#include "pipeline/watch.h"

#include "base/clock.h"

#define EVERY_S 0.5

int rr_watch_engine(rr_watch_t *w, const rr_engine_t *e, const rr_tm_partition_t *prior, int force)
{
    double now = rr_mono_s();
    if (!force && now < w->next) return 0;
    w->next = now + EVERY_S;
    rr_tm_beat();
    int n = rr_engine_partitions(e);
    for (int p = 0; p < n; p++) {
        rr_partition_stats_t ps;
        rr_engine_partition_stats(e, p, &ps);
        rr_tm_partition_t v = {
            .judged = {ps.applied, ps.duplicate, ps.late, ps.invalid},
            .watermark_ms = ps.watermark_ms,
        };
        if (prior && p == 0)
            for (int k = 0; k < 4; k++)
                v.judged[k] += prior->judged[k];
        rr_tm_partition(ps.name, &v);
    }
    rr_stats_t st;
    rr_memory_t mem;
    rr_engine_stats(e, &st);
    rr_engine_memory(e, &mem);
    rr_tm_engine(e, st.open_conversations, st.open_days, mem.total);
    return 1;
}

void rr_watch_engine_gone(const rr_engine_t *e)
{
    rr_tm_engine_drop(e);
}
