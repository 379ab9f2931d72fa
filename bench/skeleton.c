/* bench/skeleton.c: the engine's data path reduced to its architecture, as
 * a floor to measure the engine against (issue 16; bench/README.md).
 *
 * Per batch of 256 records: decode each (the project's decoder), hash its
 * conversation id once and start loading its index slot; look the slot up
 * and start loading the conversation's 128-byte record; judge it (static
 * checks, ahead of the wall clock, late against max ts - 5 s, shop and buyer
 * mismatch, duplicate against a 64-bit bloom word and its latest 3 ids); buffer
 * the applied ones in a FIFO ring (in order) or a binary heap (out of
 * order); at the batch's end release everything below the watermark in
 * (ts, event_id) order, touching the record again with a small per-type
 * update and one per-shop sum.
 *
 * It computes no metric of SPEC §4: what it costs is what any design with
 * this state layout pays before the metric logic. Its duplicate check keeps
 * only the latest 3 ids per conversation (the bloom word rules most others
 * out), so it misses re-deliveries of older events and its verdict counts
 * differ from the engine's by those; the bench prints them beside the
 * engine's.
 *
 * Single-threaded; skel_free releases everything.
 */
#include "skeleton.h"

#include <stdlib.h>
#include <string.h>

#include "base/map.h"
#include "codec/decode.h"
#include "engine/reorder.h"

#define CHUNK 256
#define LATENESS_MS 5000
#define MAX_FUTURE_MS INT64_C(86400000)
#define SHOP_SUMS 4096

typedef struct skel_conv { /* two cache lines */
    /* line 0: what acceptance reads */
    uint64_t id, shop, buyer;
    int64_t last_ts;
    uint64_t bloom;
    uint64_t ids[3];
    /* line 1: what a release updates */
    int64_t round_start, round_last;
    uint64_t agent;
    uint32_t msgs, pending;
    uint32_t n_ids, manual;
    int64_t waited;
    uint64_t pad[2];
} skel_conv_t;
_Static_assert(sizeof(skel_conv_t) == 128, "two cache lines");

typedef struct skel_slot {
    uint64_t key; /* 0: empty (conversation id 0 is invalid) */
    uint32_t val, pad;
} skel_slot_t;

struct skel {
    skel_slot_t *slots;
    size_t mask, count;
    skel_conv_t *convs;
    size_t n_convs, cap_convs;
    rr_reorder_t buf; /* the engine's: a FIFO ring for in-order events, a heap for the rest */
    int64_t max_ts;
    int64_t shop_sum[SHOP_SUMS];
    skel_counts_t counts;
};

int skel_new(skel_t **out)
{
    skel_t *s = calloc(1, sizeof *s);
    if (!s) return -1;
    s->mask = (1u << 16) - 1;
    s->slots = calloc(s->mask + 1, sizeof *s->slots);
    s->max_ts = INT64_MIN;
    if (!s->slots) {
        skel_free(s);
        return -1;
    }
    *out = s;
    return 0;
}

void skel_free(skel_t *s)
{
    if (!s) return;
    free(s->slots);
    free(s->convs);
    rr_reorder_free(&s->buf);
    free(s);
}

const skel_counts_t *skel_counts(const skel_t *s)
{
    return &s->counts;
}

static int grow_index(skel_t *s)
{
    size_t cap = 2 * (s->mask + 1);
    skel_slot_t *n = calloc(cap, sizeof *n);
    if (!n) return -1;
    for (size_t i = 0; i <= s->mask; i++) {
        if (!s->slots[i].key) continue;
        size_t j = rr_hash64(s->slots[i].key) & (cap - 1);
        while (n[j].key)
            j = (j + 1) & (cap - 1);
        n[j] = s->slots[i];
    }
    free(s->slots);
    s->slots = n;
    s->mask = cap - 1;
    return 0;
}

/* The conversation's record index, created when absent; UINT32_MAX out of memory. */
static uint32_t conv_of(skel_t *s, uint64_t id, uint64_t h, const rr_event_t *ev)
{
    size_t j = h & s->mask;
    for (;; j = (j + 1) & s->mask) {
        if (s->slots[j].key == id) return s->slots[j].val;
        if (!s->slots[j].key) break;
    }
    if (s->n_convs == s->cap_convs) {
        size_t cap = s->cap_convs ? 2 * s->cap_convs : 4096;
        skel_conv_t *c = realloc(s->convs, cap * sizeof *c);
        if (!c) return UINT32_MAX;
        s->convs = c;
        s->cap_convs = cap;
    }
    uint32_t ci = (uint32_t)s->n_convs++;
    memset(&s->convs[ci], 0, sizeof s->convs[ci]);
    s->convs[ci].id = id;
    s->convs[ci].shop = ev->shop_id;
    s->slots[j].key = id;
    s->slots[j].val = ci;
    if (++s->count * 2 > s->mask + 1 && grow_index(s) < 0) return UINT32_MAX;
    return ci;
}

/* The release-side update: a round opens on a buyer message and closes on a reply. */
static void process(skel_t *s, const rr_pending_t *x)
{
    skel_conv_t *c = &s->convs[x->conv];
    c->pending--;
    switch (x->type) {
    case RR_EVENT_BUYER_MESSAGE:
        if (!c->msgs) c->round_start = x->ts;
        c->msgs++;
        c->round_last = x->ts;
        break;
    case RR_EVENT_AGENT_MESSAGE:
        c->manual = 1;
        /* fall through */
    case RR_EVENT_ROBOT_MESSAGE:
        if (c->msgs) {
            int64_t w = x->ts - c->round_start;
            c->waited += w;
            s->shop_sum[(c->shop * UINT64_C(0x9e3779b97f4a7c15)) >> 52] += w;
            c->msgs = 0;
        }
        break;
    case RR_EVENT_AGENT_ASSIGNED:
        c->agent = x->agent;
        c->manual = 1;
        break;
    default:
        break;
    }
    s->counts.released++;
}

/* Release every buffered event below limit, in (ts, event_id) order. */
static void drain(skel_t *s, int64_t limit)
{
    rr_reorder_t *r = &s->buf;
    const rr_pending_t *m;
    while ((m = rr_reorder_min(r)) && m->ts < limit) {
        if (r->ring_n > 16)
            __builtin_prefetch(
                &s->convs[r->ring[(r->ring_head + 16) & (r->ring_cap - 1)].conv].round_start, 1);
        rr_pending_t x;
        rr_reorder_pop(r, &x);
        process(s, &x);
    }
}

static int judge(skel_t *s, const rr_event_t *ev, uint32_t ci, int64_t now_ms)
{
    skel_conv_t *c = &s->convs[ci];
    if (ev->ts_ms - MAX_FUTURE_MS > now_ms || c->shop != ev->shop_id ||
        (ev->type == RR_EVENT_BUYER_MESSAGE && c->buyer && c->buyer != ev->buyer_id)) {
        s->counts.invalid++;
        return 0;
    }
    if (s->max_ts != INT64_MIN && ev->ts_ms < s->max_ts - LATENESS_MS) {
        s->counts.late++;
        return 0;
    }
    uint64_t bit = UINT64_C(1) << ((ev->event_id * UINT64_C(0x9e3779b97f4a7c15)) >> 58);
    if (c->bloom & bit)
        for (uint32_t i = 0; i < c->n_ids && i < 3; i++)
            if (c->ids[i] == ev->event_id) {
                s->counts.duplicate++;
                return 0;
            }
    c->bloom |= bit;
    c->ids[c->n_ids++ % 3] = ev->event_id; /* the latest 3: re-deliveries are mostly recent */
    if (ev->type == RR_EVENT_BUYER_MESSAGE && !c->buyer) c->buyer = ev->buyer_id;
    if (ev->ts_ms > c->last_ts) c->last_ts = ev->ts_ms;
    c->pending++;
    rr_pending_t x = {.ts = ev->ts_ms,
                      .eid = ev->event_id,
                      .agent = ev->agent_id,
                      .conv = ci,
                      .type = (uint8_t)ev->type};
    if (rr_reorder_push(&s->buf, &x) < 0) return -1;
    if (ev->ts_ms > s->max_ts) s->max_ts = ev->ts_ms;
    s->counts.applied++;
    return 0;
}

static int chunk(skel_t *s, const rr_record_t *recs, size_t n, int64_t now_ms)
{
    rr_event_t ev[CHUNK];
    uint64_t h[CHUNK];
    uint32_t ci[CHUNK];
    uint8_t ok[CHUNK];
    for (size_t k = 0; k < n; k++) { /* decode, hash once, start loading the slot */
        ok[k] = recs[k].status == RR_FRAME_OK &&
                rr_decode_event(recs[k].data, recs[k].len, &ev[k]) == RR_DECODE_OK &&
                ev[k].type >= 1 && ev[k].type <= 10 && ev[k].event_id && ev[k].shop_id &&
                ev[k].conversation_id && ev[k].ts_ms >= 1;
        if (!ok[k]) continue;
        h[k] = rr_hash64(ev[k].conversation_id);
        __builtin_prefetch(&s->slots[h[k] & s->mask]);
    }
    for (size_t k = 0; k < n; k++) { /* look up, start loading the record */
        if (!ok[k]) continue;
        ci[k] = conv_of(s, ev[k].conversation_id, h[k], &ev[k]);
        if (ci[k] == UINT32_MAX) return -1;
        __builtin_prefetch(&s->convs[ci[k]]);
    }
    for (size_t k = 0; k < n; k++) {
        if (!ok[k]) {
            s->counts.invalid++;
            continue;
        }
        if (judge(s, &ev[k], ci[k], now_ms) < 0) return -1;
    }
    drain(s, s->max_ts == INT64_MIN ? INT64_MIN : s->max_ts - LATENESS_MS);
    return 0;
}

int skel_feed(skel_t *s, const rr_record_t *recs, size_t n, int64_t now_ms)
{
    for (size_t i = 0; i < n; i += CHUNK)
        if (chunk(s, recs + i, n - i < CHUNK ? n - i : CHUNK, now_ms) < 0) return -1;
    return 0;
}

void skel_finish(skel_t *s)
{
    drain(s, INT64_MAX);
}
