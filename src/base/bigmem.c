#define _GNU_SOURCE /* mremap */
#include "base/bigmem.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static void *map_big(size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, size, MADV_HUGEPAGE); /* a hint: no huge pages is still correct */
#endif
    return p;
}

void *rr_big_alloc(size_t size)
{
    return size < RR_BIG_MIN ? malloc(size ? size : 1) : map_big(size);
}

void *rr_big_realloc(void *p, size_t old_size, size_t new_size)
{
    if (!p) return rr_big_alloc(new_size);
    if (old_size < RR_BIG_MIN && new_size < RR_BIG_MIN) return realloc(p, new_size ? new_size : 1);
    if (old_size >= RR_BIG_MIN && new_size >= RR_BIG_MIN) {
        void *q = mremap(p, old_size, new_size, MREMAP_MAYMOVE);
        if (q == MAP_FAILED) return NULL;
#ifdef MADV_HUGEPAGE
        madvise(q, new_size, MADV_HUGEPAGE);
#endif
        return q;
    }
    void *q = rr_big_alloc(new_size);
    if (!q) return NULL;
    memcpy(q, p, old_size < new_size ? old_size : new_size);
    rr_big_free(p, old_size);
    return q;
}

void rr_big_free(void *p, size_t size)
{
    if (!p) return;
    if (size < RR_BIG_MIN)
        free(p);
    else
        munmap(p, size);
}
