#include "base/pool.h"

#include <stdlib.h>

static unsigned size_class(size_t size)
{
    unsigned c = 0;
    size_t s = 32;
    while (s < size && c + 1 < RR_POOL_CLASSES) {
        s <<= 1;
        c++;
    }
    return c;
}

void *rr_pool_get(rr_pool_t *p, size_t size, size_t *cap_out)
{
    unsigned c = size_class(size);
    size_t cap = (size_t)32 << c;
    void *b = p->free[c];
    if (b) {
        p->free[c] = *(void **)b;
        if (p->free[c]) /* a freed block is cold: load the next one's link early */
            __builtin_prefetch(p->free[c], 1);
    } else if (!(b = malloc(cap)))
        return NULL;
    p->bytes_live += cap;
    if (cap_out) *cap_out = cap;
    return b;
}

void rr_pool_put(rr_pool_t *p, void *block, size_t size)
{
    if (!block) return;
    unsigned c = size_class(size);
    *(void **)block = p->free[c];
    p->free[c] = block;
    p->bytes_live -= (size_t)32 << c;
}

void rr_pool_drain(rr_pool_t *p)
{
    for (unsigned c = 0; c < RR_POOL_CLASSES; c++) {
        void *b = p->free[c];
        while (b) {
            void *next = *(void **)b;
            free(b);
            b = next;
        }
        p->free[c] = NULL;
    }
}
