/* base/slab.c: fixed-size records by stable index (slab.h). */
#include "base/slab.h"

#include <stdlib.h>
#include <string.h>

#include "base/bigmem.h"

#define SLAB_MIN_CAP 1024

void rr_slab_init(rr_slab_t *s, size_t size)
{
    memset(s, 0, sizeof *s);
    s->size = size;
}

void rr_slab_free(rr_slab_t *s)
{
    if (s->base) rr_big_free(s->base, s->cap * s->size);
    free(s->freed);
    rr_slab_init(s, s->size);
}

/* Start loading (for writing) the cache lines of the n bytes at p. */
static inline void prefetch_lines(const void *p, size_t n)
{
    for (size_t off = 0; off < n; off += 64)
        __builtin_prefetch((const unsigned char *)p + off, 1);
}

static int slab_grow(rr_slab_t *s, size_t need)
{
    size_t c = s->cap ? s->cap : SLAB_MIN_CAP;
    while (c < need)
        c *= 2;
    if (c == s->cap) return 0;
    unsigned char *nb = rr_big_realloc(s->base, s->cap * s->size, c * s->size);
    if (!nb) return -1;
    s->base = nb;
    s->cap = c;
    return 0;
}

uint32_t rr_slab_alloc(rr_slab_t *s)
{
    uint32_t i;
    if (s->freed_n) {
        i = s->freed[--s->freed_n];
    } else {
        if (s->n == s->cap && (s->n >= RR_SLAB_NONE || slab_grow(s, s->n + 1) < 0))
            return RR_SLAB_NONE;
        i = (uint32_t)s->n++;
    }
    memset(rr_slab_at(s, i), 0, s->size);
    /* the slot the next allocation will take: usually cold by then */
    if (s->freed_n)
        prefetch_lines(rr_slab_at(s, s->freed[s->freed_n - 1]), s->size);
    else if (s->n < s->cap)
        prefetch_lines(rr_slab_at(s, (uint32_t)s->n), s->size);
    return i;
}

static int free_reserve(rr_slab_t *s, size_t need)
{
    if (need <= s->freed_cap) return 0;
    size_t c = s->freed_cap ? s->freed_cap * 2 : 16;
    while (c < need)
        c *= 2;
    uint32_t *v = realloc(s->freed, c * sizeof *v);
    if (!v) return -1;
    s->freed = v;
    s->freed_cap = c;
    return 0;
}

int rr_slab_release(rr_slab_t *s, uint32_t i)
{
    if (free_reserve(s, s->freed_n + 1) < 0) return -1;
    s->freed[s->freed_n++] = i;
    return 0;
}

void *rr_slab_load(rr_slab_t *s, size_t n)
{
    rr_slab_free(s);
    if (n > RR_SLAB_NONE) return NULL;
    size_t c = SLAB_MIN_CAP;
    while (c < n)
        c *= 2;
    if (!(s->base = rr_big_alloc(c * s->size))) return NULL;
    s->cap = c;
    s->n = n;
    return s->base;
}

int rr_slab_load_free(rr_slab_t *s, const uint32_t *v, size_t n)
{
    if (free_reserve(s, n ? n : 1) < 0) return -1;
    for (size_t k = 0; k < n; k++)
        if (v[k] >= s->n) return -2;
    memcpy(s->freed, v, n * sizeof *v);
    s->freed_n = n;
    return 0;
}

void rr_slab_clear(rr_slab_t *s)
{
    s->n = 0;
    s->freed_n = 0;
}
