/* Tests for engine/reorder: events come out in (ts, event_id) order whatever
 * the arrival order, through both the in-order ring and the heap. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "engine/reorder.h"

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int cmp(const void *a, const void *b)
{
    const rr_pending_t *x = a, *y = b;
    return rr_pending_less(x, y) ? -1 : rr_pending_less(y, x) ? 1 : 0;
}

/* Push n events, mostly in order with a share displaced backwards, popping
 * everything below a moving limit as the engine does; compare with a sort. */
static void run(size_t n, unsigned disorder_pct, int64_t max_back)
{
    rr_reorder_t r = {0};
    rr_pending_t *in = calloc(n, sizeof *in), *out = calloc(n, sizeof *out);
    int64_t ts = 1000;
    for (size_t i = 0; i < n; i++) {
        ts += (int64_t)(next() % 3);
        in[i].ts = next() % 100 < disorder_pct ? ts - (int64_t)(next() % (uint64_t)max_back) : ts;
        in[i].eid = next() % 50 + 1; /* many ties on ts, broken by event id */
        in[i].conv = (uint32_t)i;
    }
    size_t k = 0;
    int64_t maxts = 0;
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(rr_reorder_push(&r, &in[i]), 0);
        if (in[i].ts > maxts) maxts = in[i].ts;
        const rr_pending_t *m;
        /* release below max - max_back: later pushes are never below it */
        while ((m = rr_reorder_min(&r)) && m->ts < maxts - max_back)
            rr_reorder_pop(&r, &out[k++]);
    }
    while (rr_reorder_size(&r))
        rr_reorder_pop(&r, &out[k++]);
    cr_assert_eq(k, n);
    qsort(in, n, sizeof *in, cmp);
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(out[i].ts, in[i].ts, "at %zu", i);
        cr_assert_eq(out[i].eid, in[i].eid, "at %zu", i);
    }
    rr_reorder_free(&r);
    free(in);
    free(out);
}

Test(reorder, in_order_events_come_out_in_order)
{
    run(100000, 0, 1);
}

Test(reorder, displaced_events_come_out_in_key_order)
{
    run(100000, 10, 50);
}

Test(reorder, heavy_disorder_and_ties_come_out_in_key_order)
{
    run(50000, 60, 500);
}

/* engine_release applies the ring's events in place, the k-th next at
 * ring[(ring_head + k) & (ring_cap - 1)], across ring growth and wrap. */
#define RING_AT(r, k) (&(r).ring[((r).ring_head + (k)) & ((r).ring_cap - 1)])

Test(reorder, the_ring_holds_in_order_events_at_head_plus_k)
{
    rr_reorder_t r = {0};
    for (int i = 0; i < 3000; i++) { /* past the first ring growth */
        rr_pending_t x = {.ts = i, .eid = 1};
        cr_assert_eq(rr_reorder_push(&r, &x), 0);
    }
    rr_pending_t out;
    for (int i = 0; i < 1500; i++)
        rr_reorder_pop(&r, &out);
    cr_assert_eq(r.ring_n, 1500);
    cr_assert_eq(r.heap_n, 0);
    for (int k = 0; k < 1500; k++)
        cr_assert_eq(RING_AT(r, k)->ts, 1500 + k);
    rr_reorder_free(&r);
}
