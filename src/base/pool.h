/* base/pool.h: recycled variable-size blocks for per-conversation vectors.
 *
 * Blocks come in power-of-two size classes (32 B .. 2^31 B) and go back to a
 * per-class free list on release, so a steady-state engine allocates nothing
 * per event: conversations and rounds come and go, their blocks are reused.
 * Owned by one engine; not thread-safe.
 *
 * Layer: base (no project knowledge; libc only).
 */
#ifndef RR_BASE_POOL_H
#define RR_BASE_POOL_H

#include <stddef.h>

#define RR_POOL_CLASSES 27

typedef struct rr_pool {
    void *free[RR_POOL_CLASSES]; /* singly linked through the first word */
    size_t bytes_live;           /* bytes handed out, by class size */
} rr_pool_t;

/* A block of at least size bytes, or NULL when out of memory. *cap_out (if
 * not NULL) receives the usable size. */
void *rr_pool_get(rr_pool_t *p, size_t size, size_t *cap_out);
/* Return a block got with the same size (or its cap). NULL is ignored. */
void rr_pool_put(rr_pool_t *p, void *block, size_t size);
/* Release every cached block to the system. Live blocks are the caller's. */
void rr_pool_drain(rr_pool_t *p);

#endif
