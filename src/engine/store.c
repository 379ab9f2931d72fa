/* engine/store.c: the conversation store: conversation records, their life
 * and their eviction (SPEC §3 Lifetime; docs/engine.md, "Memory per
 * conversation", "A conversation's life").
 *
 * Owns conv_t (128 bytes and a conv-day, in the convs slab, found through its partition's id
 * map from its first applied event until it is over and its days are final) and hot_t (in
 * the hots slab, only while a round of the conversation waits for a reply: store_hot_make,
 * store_hot_free); the states a conv_t goes through are drawn beside CONV_FREE in
 * engine_int.h. Eviction only frees memory: whether a conversation is over is decided when
 * an event arrives (store_conv_is_over, engine_int.h), never by when memory is freed. The
 * expiry queue (store_quiet, store_expire) frees conversations nothing can change any more.
 *
 * Uses the records of engine_int.h, ids.c and conv.c's pending timestamps.
 * Not thread-safe. Layer: engine.
 */
#include "engine/engine_int.h"

#include <stdlib.h>

/* Release hot record hi: no round of its conversation waits any more (or
 * the conversation is freed). */
void store_hot_free(rr_engine_t *e, uint32_t hi)
{
    hot_t *hc = HOT(e, hi);
    for (int t = 0; hc->rounds_active && t < 2 * e->n_trk; t++) /* an inactive round holds */
        conv_pend_free(e, &hc->rounds[t]);                      /* no block */
    CONV(e, hc->conv)->hot = NONE32;
    hc->live = 0;
    if (rr_slab_release(&e->hots, hi) < 0) e->oom = 1;
    e->open_hot--;
}

static void store_conv_evict(rr_engine_t *e, uint32_t ci)
{
    conv_t *c = CONV(e, ci);
    if (c->live == CONV_ATTACHED) rr_map64_del(&e->parts.v[c->part].convs, c->id);
    c->live = CONV_OVER; /* its ids are not needed any more */
    if (c->hot != NONE32) store_hot_free(e, c->hot);
    ids_free(e, c);
    c->live = CONV_FREE;
    if (rr_slab_release(&e->convs, ci) < 0) e->oom = 1;
    e->open_convs--;
    e->st.evicted_conversations++;
}

/* ---- the expiry queue -------------------------------------------------- */

/* A conversation is quiet once every day of it is final and none of its
 * events is buffered: only an event of its id can change it then, and that
 * event finds it over once its partition's watermark has passed both its
 * last ts + conversation_ttl and its last day's end + H (SPEC §3 Lifetime;
 * store_conv_is_over). Finalising its last day passed the second, so a quiet
 * conversation waits for the first: it is queued under the hour of event
 * time its ttl ends, and freed once the job watermark (the least partition
 * watermark) has passed that hour. One over already (an event found it so)
 * or of a partition that has ended waits for nothing: it is freed at the
 * next advance.
 *
 * Only memory depends on when this runs, never a result. It replaces an
 * hourly sweep over every conversation record (a day's 1.7M records read
 * 24 times) by work per conversation freed. A conversation can be queued
 * more than once (its last day final, an event, its new day final) and a
 * freed index reused: an entry counts only if its conversation is quiet
 * and its expiry falls in the entry's bucket, so the queue never needs
 * cleaning, and one rebuilt from the records (store_expire_rebuild, after a
 * restore) frees the same conversations at the same advances. A bucket is
 * freed in index order, whatever order its entries came in, so the free
 * lists, and every index handed out after, are the same too. */

#define EXP_HOUR INT64_C(3600000)

static int store_is_quiet(const rr_engine_t *e, const conv_t *c)
{
    return c->live != CONV_FREE && c->cd_head == NONE32 && !conv_buffered(e, c);
}

/* When a quiet conversation may be freed: INT64_MIN at once. */
static int64_t store_expiry(const rr_engine_t *e, const conv_t *c)
{
    if (c->live == CONV_OVER || e->parts.v[c->part].ended) return INT64_MIN;
    return c->last_ts + e->cfg.conversation_ttl_ms;
}

static void exp_next(rr_engine_t *e)
{
    e->next_expire = e->exp_now.n ? INT64_MIN
                     : e->exp.n   ? (e->exp.v[0].hour + 1) * EXP_HOUR
                                  : INT64_MAX;
}

static void exp_push(rr_engine_t *e, uint32_t ci, int64_t at)
{
    if (at == INT64_MIN) {
        if (VEC_PUSH(e->exp_now, ci) < 0) e->oom = 1;
        e->next_expire = INT64_MIN;
        return;
    }
    int64_t hour = at / EXP_HOUR; /* at > 0: ts >= 1 */
    size_t i = e->exp.n;          /* buckets ascend, and most pushes go to a late one */
    while (i > 0 && e->exp.v[i - 1].hour > hour)
        i--;
    if (i == 0 || e->exp.v[i - 1].hour != hour) {
        exp_bucket_t b = {.hour = hour};
        if (VEC_PUSH(e->exp, b) < 0) {
            e->oom = 1;
            return;
        }
        memmove(&e->exp.v[i + 1], &e->exp.v[i], (e->exp.n - 1 - i) * sizeof *e->exp.v);
        e->exp.v[i] = b;
        i++;
    }
    if (VEC_PUSH(e->exp.v[i - 1].convs, ci) < 0) e->oom = 1;
    exp_next(e);
}

void store_quiet(rr_engine_t *e, uint32_t ci)
{
    const conv_t *c = CONV(e, ci);
    if (!e->finished && store_is_quiet(e, c)) exp_push(e, ci, store_expiry(e, c));
}

/* Free the conversations of one bucket (hour; INT64_MIN: exp_now) that are
 * still quiet with their expiry in it, in index order. */
static void exp_free_list(rr_engine_t *e, const uint32_t *v, size_t n, int64_t hour)
{
    size_t words = (e->convs.n + 63) / 64;
    if (!n || !words) return;
    if (words > e->exp_bits_n) {
        uint64_t *b = realloc(e->exp_bits, words * sizeof *b);
        if (!b) {
            e->oom = 1;
            return;
        }
        memset(b + e->exp_bits_n, 0, (words - e->exp_bits_n) * sizeof *b);
        e->exp_bits = b;
        e->exp_bits_n = words;
    }
    size_t lo = words, hi = 0;
    for (size_t i = 0; i < n; i++) {
        size_t w = v[i] / 64;
        if (w >= words) continue;
        e->exp_bits[w] |= UINT64_C(1) << (v[i] % 64);
        if (w < lo) lo = w;
        if (w > hi) hi = w;
    }
    for (size_t w = lo; w <= hi && w < words; w++)
        while (e->exp_bits[w]) {
            uint32_t ci = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(e->exp_bits[w]));
            e->exp_bits[w] &= e->exp_bits[w] - 1;
            if (ci >= e->convs.n) continue;
            conv_t *c = CONV(e, ci);
            if (!store_is_quiet(e, c)) continue;
            int64_t at = store_expiry(e, c);
            int in_bucket =
                hour == INT64_MIN ? at == INT64_MIN : at != INT64_MIN && at / EXP_HOUR == hour;
            if (!in_bucket) continue; /* an earlier entry of it, or of the conversation it was */
            /* over by now (store_conv_is_over): its partition's watermark has
             * passed last ts + ttl (the job watermark has: the bucket's hour),
             * and its last day's end + H, when that day was finalised */
            if (at == INT64_MIN || part_wm(e, &e->parts.v[c->part]) > at) store_conv_evict(e, ci);
        }
}

void store_expire(rr_engine_t *e, int64_t w)
{
    /* freeing queues nothing: no push while these run */
    exp_free_list(e, e->exp_now.v, e->exp_now.n, INT64_MIN);
    e->exp_now.n = 0;
    size_t k = 0;
    if (w != NO_TS && w != INT64_MAX)
        while (k < e->exp.n && (e->exp.v[k].hour + 1) * EXP_HOUR <= w) {
            exp_bucket_t *b = &e->exp.v[k++];
            exp_free_list(e, b->convs.v, b->convs.n, b->hour);
            free(b->convs.v);
        }
    if (k) {
        memmove(e->exp.v, e->exp.v + k, (e->exp.n - k) * sizeof *e->exp.v);
        e->exp.n -= k;
    }
    exp_next(e);
}

void store_partition_ended(rr_engine_t *e, int p)
{
    const rr_map64_t *m = &e->parts.v[p].convs;
    for (size_t i = 0; m->count && i <= m->mask; i++) {
        uint32_t ci = m->slots[i].val;
        if (ci != RR_MAP_NONE) store_quiet(e, ci);
    }
}

int store_expire_rebuild(rr_engine_t *e)
{
    for (size_t i = 0; i < e->convs.n; i++)
        store_quiet(e, (uint32_t)i);
    exp_next(e);
    return e->oom ? -1 : 0;
}

void store_expire_free(rr_engine_t *e)
{
    for (size_t i = 0; i < e->exp.n; i++)
        free(e->exp.v[i].convs.v);
    free(e->exp.v);
    free(e->exp_now.v);
    free(e->exp_bits);
}

/* Give conversation ci a hot record: a round of it opens. */
hot_t *store_hot_make(rr_engine_t *e, uint32_t ci)
{
    uint32_t hi = rr_slab_alloc(&e->hots);
    if (hi == NONE32) return NULL;
    hot_t *hc = HOT(e, hi);
    hc->conv = ci;
    hc->ad_cache = NONE32;
    hc->live = 1;
    CONV(e, ci)->hot = hi;
    if (++e->open_hot > e->peak_hot) e->peak_hot = e->open_hot;
    return hc;
}

uint32_t store_conv_new(rr_engine_t *e, int p, const rr_event_t *ev)
{
    uint32_t ci = rr_slab_alloc(&e->convs);
    if (ci != NONE32 && ci >= CD_INLINE) { /* its inline conv-day's index needs the top bit */
        if (rr_slab_release(&e->convs, ci) < 0) e->oom = 1;
        return NONE32;
    }
    if (ci == NONE32 || rr_map64_put(&e->parts.v[p].convs, ev->conversation_id, ci) < 0)
        return NONE32;
    conv_t *c = CONV(e, ci);
    c->id = ev->conversation_id;
    c->part = (uint16_t)p;
    c->shop = ev->shop_id;
    c->first_agent_ts = INT64_MAX;
    c->last_ts = ev->ts_ms;
    c->cd_head = NONE32;
    c->hot = NONE32;
    c->more = NONE32;
    c->live = CONV_ATTACHED;
    CD(e, ci | CD_INLINE)->day = CD_NO_DAY; /* its inline conv-day is free */
    if (++e->open_convs > e->peak_convs) e->peak_convs = e->open_convs;
    /* SPEC §2: a shop seen in more than one partition makes results partial */
    uint32_t sp = rr_map64_get(&e->shop_part, ev->shop_id);
    if (sp == NONE32) {
        if (rr_map64_put(&e->shop_part, ev->shop_id, (uint32_t)p) < 0) return NONE32;
    } else if ((sp & 0x7fffffffu) != (uint32_t)p && !(sp & 0x80000000u)) {
        e->st.shops_in_several_partitions++;
        rr_map64_del(&e->shop_part, ev->shop_id);
        if (rr_map64_put(&e->shop_part, ev->shop_id, sp | 0x80000000u) < 0) return NONE32;
    }
    return ci;
}

/* Take conversation ci out of its id's map: it is over (SPEC §3 Lifetime),
 * and the event that found it so starts a new one under the id. It stays
 * until its open days are final; its event ids are not needed any more. */
void store_conv_detach(rr_engine_t *e, uint32_t ci)
{
    conv_t *c = CONV(e, ci);
    rr_map64_del(&e->parts.v[c->part].convs, c->id);
    c->live = CONV_OVER;
    ids_free(e, c);
    if (store_is_quiet(e, c)) store_conv_evict(e, ci);
}
