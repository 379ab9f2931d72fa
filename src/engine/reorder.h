/* reorder.h: a partition's buffer of applied events, released in
 * (ts_ms, event_id) order (SPEC §3 Order).
 *
 * Events arriving in key order (the common case) queue in a FIFO ring in
 * O(1); only out-of-order ones pay for a binary heap. The least buffered event
 * is the lesser of the two heads. engine_release (engine.c) applies runs of
 * the ring in place: the k-th next ring event is ring[(ring_head + k) &
 * (ring_cap - 1)], and the ring is ascending. Owned by one engine; not
 * thread-safe.
 */
#ifndef RR_ENGINE_REORDER_H
#define RR_ENGINE_REORDER_H

#include <stddef.h>
#include <stdint.h>

/* A buffered applied event: what the state machine needs, 32 bytes. */
typedef struct rr_pending {
    int64_t ts;
    uint64_t eid;
    uint64_t agent;
    uint32_t conv; /* the engine's conversation index */
    uint8_t type, rating, flags, pad;
} rr_pending_t;

typedef struct rr_reorder {
    rr_pending_t *heap;
    size_t heap_n, heap_cap;
    rr_pending_t *ring;
    size_t ring_head, ring_n, ring_cap; /* ring_cap is a power of two */
} rr_reorder_t;

static inline int rr_pending_less(const rr_pending_t *a, const rr_pending_t *b)
{
    return a->ts < b->ts || (a->ts == b->ts && a->eid < b->eid);
}

/* The rare cases of rr_reorder_push: out of order (the heap), or a full ring. */
int rr_reorder_push_slow(rr_reorder_t *r, const rr_pending_t *x);

/* Buffer a copy of *x. 0, or -1 when out of memory (nothing buffered).
 * Inline: the caller builds *x on its stack field by field, and a call would
 * reload it with wide loads that stores cannot forward to. */
static inline int rr_reorder_push(rr_reorder_t *r, const rr_pending_t *x)
{
    size_t mask = r->ring_cap - 1;
    /* Behind the ring's tail: out of order, the heap takes it. The ring stays sorted. */
    if (r->ring_n == r->ring_cap ||
        (r->ring_n && rr_pending_less(x, &r->ring[(r->ring_head + r->ring_n - 1) & mask])))
        return rr_reorder_push_slow(r, x);
    rr_pending_t *d = &r->ring[(r->ring_head + r->ring_n++) & mask];
    d->ts = x->ts; /* field by field: the compiler keeps them in registers */
    d->eid = x->eid;
    d->agent = x->agent;
    d->conv = x->conv;
    d->type = x->type;
    d->rating = x->rating;
    d->flags = x->flags;
    d->pad = 0;
    return 0;
}

/* The least buffered event (borrowed, valid until the next push/pop), or NULL. */
static inline const rr_pending_t *rr_reorder_min(const rr_reorder_t *r)
{
    const rr_pending_t *q = r->ring_n ? &r->ring[r->ring_head] : NULL;
    const rr_pending_t *h = r->heap_n ? &r->heap[0] : NULL;
    if (!q) return h;
    return h && rr_pending_less(h, q) ? h : q;
}

/* Remove the least buffered event into *out; the buffer must not be empty. */
void rr_reorder_pop(rr_reorder_t *r, rr_pending_t *out);

static inline size_t rr_reorder_size(const rr_reorder_t *r)
{
    return r->ring_n + r->heap_n;
}

void rr_reorder_free(rr_reorder_t *r);

#endif
