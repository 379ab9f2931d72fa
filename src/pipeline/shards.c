/* pipeline/shards.c: what sharded runs share (see shards.h). */
#include "pipeline/shards.h"

void rr_shard_progress_note(rr_shard_progress_t *p, const rr_engine_t *eng, uint64_t work)
{
    rr_stats_t st;
    rr_engine_stats(eng, &st);
    atomic_store(&p->input, st.input);
    atomic_store(&p->open_convs, st.open_conversations);
    atomic_store(&p->open_days, st.open_days);
    atomic_store(&p->work, work);
}

int rr_shard_progress_poll(const rr_shard_progress_t *progress, int n, rr_progress_t *meter)
{
    int done = 0;
    unsigned long long in = 0, convs = 0, days = 0, work = 0;
    for (int i = 0; i < n; i++) {
        done += atomic_load(&progress[i].done);
        in += atomic_load(&progress[i].input);
        convs += atomic_load(&progress[i].open_convs);
        days += atomic_load(&progress[i].open_days);
        work += atomic_load(&progress[i].work);
    }
    if (done < n && rr_progress_due(meter)) rr_progress_update(meter, in, work, convs, days);
    return done;
}

static void add_stats(rr_stats_t *sum, const rr_stats_t *s)
{
    sum->input += s->input;
    sum->applied += s->applied;
    sum->duplicate += s->duplicate;
    sum->late += s->late;
    sum->invalid += s->invalid;
    sum->held += s->held;
    sum->open_conversations += s->open_conversations;
    sum->peak_open_conversations += s->peak_open_conversations; /* an upper bound */
    sum->active_conversations += s->active_conversations;
    sum->peak_active_conversations += s->peak_active_conversations;
    sum->evicted_conversations += s->evicted_conversations;
    sum->open_days += s->open_days;
    sum->shop_days += s->shop_days;
    sum->agent_days += s->agent_days;
    sum->violations += s->violations;
    sum->alerts += s->alerts;
    sum->provisional += s->provisional;
}

static void count_shop(void *opaque, uint64_t shop, int partition, int several)
{
    (void)partition;
    rr_shard_total_t *t = opaque;
    uint32_t v = rr_map64_get(&t->first, shop);
    if (v == RR_MAP_NONE) {
        if (several) t->stats.shops_in_several_partitions++;
        if (rr_map64_put(&t->first, shop, (uint32_t)t->shard | (several ? 0x80000000u : 0)) < 0)
            t->oom = 1;
    } else if (!(v & 0x80000000u) && (several || (int)(v & 0x7fffffffu) != t->shard)) {
        t->stats.shops_in_several_partitions++;
        rr_map64_del(&t->first, shop);
        if (rr_map64_put(&t->first, shop, v | 0x80000000u) < 0) t->oom = 1;
    }
}

void rr_shard_total_init(rr_shard_total_t *t)
{
    *t = (rr_shard_total_t){0};
    if (rr_map64_init(&t->first, 1024) < 0) t->oom = 1;
}

void rr_shard_total_add(rr_shard_total_t *t, const rr_engine_t *eng)
{
    rr_stats_t st;
    rr_engine_stats(eng, &st);
    add_stats(&t->stats, &st);
    if (!t->oom) rr_engine_each_shop(eng, count_shop, t);
    t->shard++;
}

int rr_shard_total_done(rr_shard_total_t *t, rr_stats_t *out)
{
    *out = t->stats;
    rr_map64_free(&t->first);
    return t->oom ? -1 : 0;
}
