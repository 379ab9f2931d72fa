/* engine/store.c: the conversation store: conversation records, their life
 * and their eviction (SPEC §3 Lifetime; docs/engine.md, "Memory per
 * conversation", "A conversation's life").
 *
 * Owns conv_t (128 bytes and a conv-day, in the convs slab, found through its partition's id
 * map from its first applied event until it is over and its days are final)
 * and hot_t (in the hots slab, with the dense hot_last array, only while the
 * conversation is active); the states a conv_t goes through are drawn
 * beside CONV_FREE in engine_int.h. Eviction only frees memory: whether a conversation is over is
 * decided when an event arrives (store_conv_is_over, engine_int.h), never by when a sweep ran.
 * store_sweep_hot releases quiet hot records (rounds only: the ids stay with the conversation,
 * ids.c); store_sweep frees
 * conversations nothing can change any more.
 *
 * Uses the records of engine_int.h, ids.c and conv.c's pending timestamps.
 * Not thread-safe. Layer: engine.
 */
#include "engine/engine_int.h"

#include <stdlib.h>

static void store_hot_evict(rr_engine_t *e, uint32_t hi)
{
    hot_t *hc = HOT(e, hi);
    for (int t = 0; t < 2 * e->n_trk; t++)
        conv_pend_free(e, &hc->rounds[t]);
    CONV(e, hc->conv)->hot = NONE32;
    hc->live = 0;
    e->hot_last[hi] = INT64_MAX;
    if (rr_slab_release(&e->hots, hi) < 0) e->oom = 1;
    e->open_hot--;
}

static void store_conv_evict(rr_engine_t *e, uint32_t ci)
{
    conv_t *c = CONV(e, ci);
    if (c->live == CONV_ATTACHED) rr_map64_del(&e->parts.v[c->part].convs, c->id);
    c->live = CONV_OVER; /* its ids are not needed any more */
    if (c->hot != NONE32) store_hot_evict(e, c->hot);
    ids_free(e, c);
    c->live = CONV_FREE;
    if (rr_slab_release(&e->convs, ci) < 0) e->oom = 1;
    e->open_convs--;
    e->st.evicted_conversations++;
}

/* Release the hot records of conversations that went quiet: nothing
 * buffered, no round waiting for a reply, idle for RR_HOT_IDLE_MS. Their
 * event ids stay in the conversation's record (ids.c): a re-delivery may be
 * stamped anew hours later, and is still a duplicate. */
void store_sweep_hot(rr_engine_t *e, int64_t wm)
{
    for (size_t i = 0; i < e->hots.n; i++) {
        if (e->hot_last[i] >= wm - RR_HOT_IDLE_MS) /* free slots are INT64_MAX */
            continue;
        const hot_t *hc = HOT(e, i);
        if (!hc->pending && !hc->rounds_active)
            store_hot_evict(e, (uint32_t)i);
        else if (!hc->pending)           /* a round waits for its day's end: until an event */
            e->hot_last[i] = HOT_PARKED; /* or day_fold_cd changes it, do not look again */
    }
}

/* Free conversations nothing can change or match any more: all their days
 * final and nothing buffered, and over (SPEC §3 Lifetime) or of a partition
 * that has ended. This only frees memory: an event of an attached
 * conversation that is over finds it over on arrival, evicted or not
 * (rr_engine_offer), so when the sweep runs changes no result. */
void store_sweep(rr_engine_t *e)
{
    for (size_t i = 0; i < e->convs.n; i++) {
        conv_t *c = CONV(e, i);
        if (c->live == CONV_FREE || c->cd_head != NONE32 ||
            (c->hot != NONE32 && HOT(e, c->hot)->pending))
            continue;
        if (c->live == CONV_OVER || e->parts.v[c->part].ended || store_conv_is_over(e, c))
            store_conv_evict(e, (uint32_t)i);
    }
}

/* Give conversation ci a hot record (new, or speaking again after going quiet). */
hot_t *store_hot_make(rr_engine_t *e, uint32_t ci, int64_t last_ts)
{
    /* the slot taken is a free one or hot_n */
    if (e->hots.n >= e->hot_last_cap) {
        size_t cap = e->hot_last_cap ? 2 * e->hot_last_cap : 1024;
        int64_t *v = realloc(e->hot_last, cap * sizeof *v);
        if (!v) return NULL;
        e->hot_last = v;
        e->hot_last_cap = cap;
    }
    uint32_t hi = rr_slab_alloc(&e->hots);
    if (hi == NONE32) return NULL;
    hot_t *hc = HOT(e, hi);
    hc->conv = ci;
    hc->ad_cache = NONE32;
    hc->live = 1;
    e->hot_last[hi] = last_ts;
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
    if (c->cd_head == NONE32 && (c->hot == NONE32 || !HOT(e, c->hot)->pending))
        store_conv_evict(e, ci);
}
