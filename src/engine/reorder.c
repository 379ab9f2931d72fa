#include "engine/reorder.h"

#include <stdlib.h>

static int heap_push(rr_reorder_t *r, const rr_pending_t *x)
{
    if (r->heap_n == r->heap_cap) {
        size_t cap = r->heap_cap ? r->heap_cap * 2 : 256;
        rr_pending_t *h = realloc(r->heap, cap * sizeof *h);
        if (!h) return -1;
        r->heap = h;
        r->heap_cap = cap;
    }
    rr_pending_t *v = r->heap;
    size_t i = r->heap_n++;
    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (!rr_pending_less(x, &v[up])) break;
        v[i] = v[up];
        i = up;
    }
    v[i] = *x;
    return 0;
}

static void heap_pop(rr_reorder_t *r, rr_pending_t *out)
{
    rr_pending_t *v = r->heap;
    *out = v[0];
    rr_pending_t last = v[--r->heap_n];
    size_t n = r->heap_n, i = 0;
    if (!n) return;
    for (;;) {
        size_t l = 2 * i + 1;
        if (l >= n) break;
        size_t m = (l + 1 < n && rr_pending_less(&v[l + 1], &v[l])) ? l + 1 : l;
        if (!rr_pending_less(&v[m], &last)) break;
        v[i] = v[m];
        i = m;
    }
    v[i] = last;
}

int rr_reorder_push_slow(rr_reorder_t *r, const rr_pending_t *x)
{
    size_t mask = r->ring_cap - 1;
    if (r->ring_n && rr_pending_less(x, &r->ring[(r->ring_head + r->ring_n - 1) & mask]))
        return heap_push(r, x);
    if (r->ring_n == r->ring_cap) {
        size_t cap = r->ring_cap ? r->ring_cap * 2 : 1024;
        rr_pending_t *q = malloc(cap * sizeof *q);
        if (!q) return -1;
        for (size_t i = 0; i < r->ring_n; i++)
            q[i] = r->ring[(r->ring_head + i) & mask];
        free(r->ring);
        r->ring = q;
        r->ring_cap = cap;
        r->ring_head = 0;
        mask = cap - 1;
    }
    r->ring[(r->ring_head + r->ring_n++) & mask] = *x;
    return 0;
}

void rr_reorder_pop(rr_reorder_t *r, rr_pending_t *out)
{
    if (r->ring_n && (!r->heap_n || !rr_pending_less(&r->heap[0], &r->ring[r->ring_head]))) {
        *out = r->ring[r->ring_head];
        r->ring_head = (r->ring_head + 1) & (r->ring_cap - 1);
        r->ring_n--;
    } else {
        heap_pop(r, out);
    }
}

void rr_reorder_free(rr_reorder_t *r)
{
    free(r->heap);
    free(r->ring);
    r->heap = r->ring = NULL;
    r->heap_n = r->heap_cap = r->ring_n = r->ring_cap = r->ring_head = 0;
}
