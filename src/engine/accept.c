/* engine/accept.c: acceptance (SPEC §7): each offered event classified once,
 * in arrival order per partition, as invalid, late, duplicate or applied; and
 * held jumps (SPEC §7 "Jumps"; docs/engine.md, "Decisions").
 *
 * rr_engine_offer is the engine's entry for one event: field and wall-clock
 * rules; a jump (more than max_future ahead of the partition) is held with a
 * copy of its bytes instead of judged; the conversation's shop and buyer;
 * late against the partition watermark and finalised days; duplicate against
 * the conversation's ids (ids.c). An applied event goes into its partition's
 * reorder buffer, and when it moves the partition's time, engine.c releases
 * what the watermark has passed. A rejected event goes to the sink's
 * `rejected` callback with its reason.
 *
 * Owns each partition's held jumps (partition_t.held, held_raw). Uses the
 * store (store.c), ids (ids.c) and engine.c's release loop. Not
 * thread-safe. Layer: engine.
 */
#include "engine/engine_int.h"

#include <stdlib.h>
#include <string.h>

/* ---- acceptance (SPEC §7) -------------------------------------------------- */

static void reject(rr_engine_t *e, int p, rr_verdict_t verdict, const char *reason,
                   const rr_event_t *ev, int64_t offset, const uint8_t *raw, size_t raw_len)
{
    partition_t *pt = &e->parts.v[p];
    pt->judged[verdict]++;
    if (verdict == RR_LATE)
        e->st.late++;
    else
        e->st.invalid++;
    if (!e->sink.rejected) return;
    rr_rejected_record_t r = {.verdict = verdict,
                              .reason = reason,
                              .source = pt->name,
                              .partition = p,
                              .offset = offset,
                              .raw = raw,
                              .raw_len = raw_len,
                              .decoded = ev != NULL,
                              .watermark_ms = part_wm(e, pt)};
    if (ev) r.event = *ev;
    e->sink.rejected(e->sink.opaque, &r);
}

static const char *static_invalid(const rr_event_t *ev)
{
    if (ev->type < 1 || ev->type > 10) return "type_out_of_range";
    if (!ev->event_id) return "missing_event_id";
    if (!ev->shop_id) return "missing_shop_id";
    if (!ev->conversation_id) return "missing_conversation_id";
    if (ev->ts_ms < 1 || ev->ts_ms > RR_TS_MAX) return "ts_out_of_range";
    switch (ev->type) {
    case RR_EVENT_BUYER_MESSAGE:
        return ev->buyer_id ? NULL : "missing_buyer_id";
    case RR_EVENT_AGENT_ASSIGNED:
        return ev->agent_id ? NULL : "missing_agent_id";
    case RR_EVENT_RATING:
        return ev->rating >= 1 && ev->rating <= 5 ? NULL : "rating_out_of_range";
    default:
        return NULL;
    }
}

/* ---- held jumps (SPEC §7) ------------------------------------------------ */

static rr_verdict_t judge(rr_engine_t *e, int p, const rr_event_t *ev, uint32_t hint, uint64_t hash,
                          int64_t offset, const uint8_t *raw, size_t raw_len, int64_t now_ms,
                          int exempt);

/* Judge every jump partition p holds invalid: an event was applied after
 * them (the partition's time did not jump, one clock was wrong), or its
 * input ended before they were confirmed. */
void accept_drop_held(rr_engine_t *e, int p)
{
    partition_t *pt = &e->parts.v[p];
    for (size_t i = 0; i < pt->held.n; i++) {
        const held_t *h = &pt->held.v[i];
        e->st.input++;
        reject(e, p, RR_INVALID, "ts_too_far_ahead_of_partition", &h->ev, h->offset,
               h->raw_len ? pt->held_raw.v + h->raw_off : NULL, h->raw_len);
    }
    pt->held.n = 0;
    pt->held_raw.n = 0;
}

/* jump_confirm jumps are held: the jump is real. Judge them again in arrival
 * order as if they arrived now, the first exempt from the jump rule. At most
 * jump_confirm - 1 of them can be held again, so this never recurses. */
static void confirm_held(rr_engine_t *e, int p, int64_t now_ms)
{
    partition_t *pt = &e->parts.v[p];
    held_t *hv = pt->held.v;
    uint8_t *raw = pt->held_raw.v;
    size_t n = pt->held.n;
    memset(&pt->held, 0, sizeof pt->held);
    memset(&pt->held_raw, 0, sizeof pt->held_raw);
    for (size_t i = 0; i < n; i++)
        judge(e, p, &hv[i].ev, NONE32, rr_hash64(hv[i].ev.conversation_id), hv[i].offset,
              hv[i].raw_len ? raw + hv[i].raw_off : NULL, hv[i].raw_len, now_ms, i == 0);
    free(hv);
    free(raw);
}

/* Hold a jump: not judged, not counted yet. */
static rr_verdict_t hold(rr_engine_t *e, int p, const rr_event_t *ev, int64_t offset,
                         const uint8_t *raw, size_t raw_len, int64_t now_ms)
{
    partition_t *pt = &e->parts.v[p];
    held_t h = {
        .ev = *ev, .offset = offset, .raw_off = pt->held_raw.n, .raw_len = raw ? raw_len : 0};
    if (vec_reserve_((void **)&pt->held_raw.v, &pt->held_raw.cap, pt->held_raw.n + h.raw_len + 1,
                     1) < 0 ||
        VEC_PUSH(pt->held, h) < 0) {
        e->oom = 1; /* as in judge: to the dead letters, and the run fails */
        e->st.input++;
        reject(e, p, RR_INVALID, "engine_out_of_memory", ev, offset, raw, raw_len);
        return RR_INVALID;
    }
    if (h.raw_len) memcpy(pt->held_raw.v + h.raw_off, raw, h.raw_len);
    pt->held_raw.n += h.raw_len;
    if ((int64_t)pt->held.n >= e->cfg.jump_confirm) confirm_held(e, p, now_ms);
    return RR_HELD;
}

rr_verdict_t rr_engine_offer(rr_engine_t *e, int p, const rr_event_t *ev, int64_t offset,
                             const uint8_t *raw, size_t raw_len, int64_t now_ms)
{
    return judge(e, p, ev, NONE32, rr_hash64(ev->conversation_id), offset, raw, raw_len, now_ms, 0);
}

/* A batch, in chunks: hash each conversation id once and start loading its
 * map slot; a few records ahead of judging one, look it up (the slot should
 * have arrived) and start loading its summary; a little nearer, its hot
 * record. judge() takes the index found as a hint and checks it still
 * names the event's conversation (an earlier event of the chunk may have
 * created or detached one). */
#define BATCH_CHUNK 64
#define AHEAD 8

static inline uint32_t batch_lookup(const rr_engine_t *e, const partition_t *pt,
                                    const rr_offer_t *o, uint64_t h)
{
    if (o->reason) return NONE32;
    uint32_t ci = rr_map64_get_h(&pt->convs, o->ev.conversation_id, h);
    if (ci != NONE32) { /* both lines of its summary: ids in one, its life in the other */
        __builtin_prefetch(CONV(e, ci));
        __builtin_prefetch((const unsigned char *)CONV(e, ci) + 64);
    }
    return ci;
}

/* Partition pt's greatest applied ts moves up to ts (an applied event's, or
 * one told by rr_engine_offer_batch_seen): release what its watermark
 * passed, at once or at the batch's end. The job watermark is at most this
 * partition's: the scan is skipped unless it could finalise a day or free
 * conversations. */
static void raise_max_ts(rr_engine_t *e, partition_t *pt, int64_t ts)
{
    pt->max_ts = ts;
    int due = part_wm(e, pt) >= e->next_due;
    if (pt->batch && !due) {
        pt->unreleased = 1; /* released at the batch's end */
    } else {
        engine_flush(e, pt);
        if (due) engine_advance(e);
    }
}

/* Inlined into both batch entries (offer_batch), so that plain batches
 * (seen NULL) carry no test for it. */
static inline __attribute__((always_inline)) void offer_chunk(rr_engine_t *e, int p,
                                                              const rr_offer_t *o,
                                                              const int64_t *seen, size_t n,
                                                              int64_t now_ms)
{
    partition_t *pt = &e->parts.v[p];
    uint64_t h[BATCH_CHUNK];
    uint32_t ci[BATCH_CHUNK];
    for (size_t k = 0; k < n; k++) {
        h[k] = 0;
        if (o[k].reason) continue; /* its ev is not an event */
        h[k] = rr_hash64(o[k].ev.conversation_id);
        __builtin_prefetch(&pt->convs.slots[h[k] & pt->convs.mask]);
    }
    for (size_t k = 0; k < n && k < AHEAD; k++)
        ci[k] = batch_lookup(e, pt, &o[k], h[k]);
    for (size_t k = 0; k < n; k++) {
        if (k + AHEAD < n) ci[k + AHEAD] = batch_lookup(e, pt, &o[k + AHEAD], h[k + AHEAD]);
        if (seen && seen[k] != NO_TS && (pt->max_ts == NO_TS || seen[k] > pt->max_ts))
            raise_max_ts(e, pt, seen[k]);
        if (o[k].reason)
            rr_engine_offer_undecodable(e, p, o[k].offset, o[k].raw, o[k].raw_len, o[k].reason);
        else
            judge(e, p, &o[k].ev, ci[k], h[k], o[k].offset, o[k].raw, o[k].raw_len, now_ms, 0);
    }
}

static inline __attribute__((always_inline)) void offer_batch(rr_engine_t *e, int p,
                                                              const rr_offer_t *o,
                                                              const int64_t *seen, size_t n,
                                                              int64_t now_ms)
{
    partition_t *pt = &e->parts.v[p];
    pt->batch = 1;
    for (size_t i = 0; i < n; i += BATCH_CHUNK)
        offer_chunk(e, p, o + i, seen ? seen + i : NULL, n - i < BATCH_CHUNK ? n - i : BATCH_CHUNK,
                    now_ms);
    pt->batch = 0;
    if (pt->unreleased) engine_flush(e, pt);
}

void rr_engine_offer_batch(rr_engine_t *e, int p, const rr_offer_t *o, size_t n, int64_t now_ms)
{
    offer_batch(e, p, o, NULL, n, now_ms);
}

void rr_engine_offer_batch_seen(rr_engine_t *e, int p, const rr_offer_t *o, const int64_t *seen,
                                size_t n, int64_t now_ms)
{
    offer_batch(e, p, o, seen, n, now_ms);
}

/* SPEC §7, in its order: invalid (a jump is held instead), late, duplicate,
 * applied. exempt: the first of confirmed jumps, not judged a jump again. */
static rr_verdict_t judge(rr_engine_t *e, int p, const rr_event_t *ev, uint32_t hint, uint64_t hash,
                          int64_t offset, const uint8_t *raw, size_t raw_len, int64_t now_ms,
                          int exempt)
{
    partition_t *pt = &e->parts.v[p];
    const char *why = static_invalid(ev);
    if (!why && ev->ts_ms - e->cfg.max_future_ms > now_ms) /* no overflow: ts >= 1 */
        why = "ts_ahead_of_wall_clock";
    /* the partition's time: its greatest applied ts, or before the first
     * what its reader expects (a seek by time), so that a far-future record
     * the seek landed on is not taken for the partition's time */
    int64_t ref = pt->max_ts != NO_TS ? pt->max_ts : pt->expect;
    if (!why && !exempt && ref != NO_TS && ev->ts_ms - ref > e->cfg.max_future_ms)
        return hold(e, p, ev, offset, raw, raw_len, now_ms);
    e->st.input++;
    conv_t *c = NULL;
    uint32_t ci = NONE32;
    if (!why) {
        /* The hint is a conversation index looked up a few events ago: still
         * good if that slot holds this attached conversation (slots are only
         * reused after an eviction, which clears live, and ids are unique). */
        ci = hint;
        if (ci == NONE32 || ci >= e->convs.n || CONV(e, ci)->live != CONV_ATTACHED ||
            CONV(e, ci)->id != ev->conversation_id || CONV(e, ci)->part != p)
            ci = rr_map64_get_h(&pt->convs, ev->conversation_id, hash);
        if (ci != NONE32 && store_conv_is_over(e, CONV(e, ci))) {
            store_conv_detach(e, ci); /* this event's conversation is a new one */
            ci = NONE32;
        }
        c = ci == NONE32 ? NULL : CONV(e, ci);
    }
    if (!why && c) {
        if (c->shop != ev->shop_id)
            why = "shop_mismatch";
        else if (ev->type == RR_EVENT_BUYER_MESSAGE && c->buyer && c->buyer != ev->buyer_id)
            why = "buyer_mismatch";
    }
    if (why) {
        reject(e, p, RR_INVALID, why, ev, offset, raw, raw_len);
        return RR_INVALID;
    }
    int64_t wm = part_wm(e, pt);
    if ((wm != NO_TS && ev->ts_ms < wm) ||
        (e->final_through != NO_TS && ev->ts_ms <= e->final_through) || e->finished) {
        reject(e, p, RR_LATE, "late", ev, offset, raw, raw_len);
        return RR_LATE;
    }
    if (c && ids_seen(e, c, ev->event_id)) {
        e->st.duplicate++;
        pt->judged[RR_DUPLICATE]++;
        return RR_DUPLICATE;
    }
    if (!c) {
        ci = store_conv_new(e, p, ev);
        if (ci == NONE32) goto oom;
        c = CONV(e, ci);
    }
    if (ids_add(e, c, ev->event_id) < 0) goto oom;
    if (ev->type == RR_EVENT_BUYER_MESSAGE && !c->buyer) c->buyer = ev->buyer_id;
    if (ev->ts_ms > c->last_ts) c->last_ts = ev->ts_ms;
    hev_t h = {.ts = ev->ts_ms,
               .eid = ev->event_id,
               .agent = ev->agent_id,
               .conv = ci,
               .type = (uint8_t)ev->type,
               .rating = (uint8_t)ev->rating,
               .flags = (uint8_t)(ev->flags & 0xffu)};
    if (rr_reorder_push(&pt->buf, &h) < 0) goto oom;
    e->st.applied++;
    pt->judged[RR_APPLIED]++;
    if (pt->held.n) /* the partition's time did not jump after all */
        accept_drop_held(e, p);
    if (pt->max_ts == NO_TS || ev->ts_ms > pt->max_ts) raise_max_ts(e, pt, ev->ts_ms);
    return RR_APPLIED;
oom:
    /* No memory to hold it: the event goes to the dead letters with that
     * reason (nothing is dropped silently) and the engine reports itself
     * failed (rr_engine_error), so the run ends in an error, not in results
     * that quietly miss it. */
    e->oom = 1;
    reject(e, p, RR_INVALID, "engine_out_of_memory", ev, offset, raw, raw_len);
    return RR_INVALID;
}

void rr_engine_offer_undecodable(rr_engine_t *e, int p, int64_t offset, const uint8_t *raw,
                                 size_t raw_len, const char *reason)
{
    e->st.input++;
    reject(e, p, RR_INVALID, reason, NULL, offset, raw, raw_len);
}
