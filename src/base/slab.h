/* base/slab.h: an array of fixed-size records addressed by a stable uint32 index.
 *
 * For records that link to each other by index (so a checkpoint can write the
 * array as it is in memory and read it back at the same indexes): a slab hands
 * out zeroed slots, takes them back on a free list, and reuses a freed slot
 * before it grows. An index stays valid, and keeps its record, until it is
 * released; the records may move in memory when the slab grows (the storage is
 * one block, rr_big_realloc), so hold indexes across allocations, not pointers.
 *
 * The element size is given once, at rr_slab_init; index <-> pointer conversion
 * is the slab's (rr_slab_at, rr_slab_index), never computed by the caller.
 * Capacity doubles from 1024 slots. Each allocation starts loading the slot the
 * next one will take, which is usually cold by then.
 *
 * Owns its storage and free list; the records' contents are the caller's (a
 * record that points to memory is freed by the caller before rr_slab_free).
 * Not thread-safe. Layer: base (no project knowledge).
 */
#ifndef RR_BASE_SLAB_H
#define RR_BASE_SLAB_H

#include <stddef.h>
#include <stdint.h>

#define RR_SLAB_NONE UINT32_MAX

typedef struct rr_slab {
    unsigned char *base; /* cap slots of size bytes */
    size_t size;         /* bytes per slot, as given to rr_slab_init */
    size_t n;            /* slots [0, n) have been handed out at least once */
    size_t cap;
    uint32_t *freed; /* released slots, the next one to reuse last */
    size_t freed_n, freed_cap;
} rr_slab_t;

/* An empty slab of slots of size bytes (size > 0). Allocates nothing. */
void rr_slab_init(rr_slab_t *s, size_t size);
/* Free the storage and the free list; the slab is empty again (same size). */
void rr_slab_free(rr_slab_t *s);

/* A zeroed slot: a freed one if any, else a new one. RR_SLAB_NONE when out
 * of memory (the slab is unchanged). */
uint32_t rr_slab_alloc(rr_slab_t *s);
/* Give slot i back for reuse. 0, or -1 when out of memory (the slot is then
 * lost for reuse, not for correctness). i must be allocated and not released. */
int rr_slab_release(rr_slab_t *s, uint32_t i);

/* The record at index i (< s->n). Borrowed: valid until the slab grows. */
static inline void *rr_slab_at(const rr_slab_t *s, uint32_t i)
{
    return s->base + (size_t)i * s->size;
}

/* The index of record p, which must be a record of this slab. */
static inline uint32_t rr_slab_index(const rr_slab_t *s, const void *p)
{
    return (uint32_t)((size_t)((const unsigned char *)p - s->base) / s->size);
}

/* Slots handed out so far (allocated or on the free list): the indexes to
 * walk, [0, rr_slab_len). */
static inline size_t rr_slab_len(const rr_slab_t *s)
{
    return s->n;
}

/* For restoring a slab from a byte stream (a checkpoint). rr_slab_load makes
 * an empty slab n slots long, contents unset, and returns its storage for the
 * caller to fill (n * size bytes), or NULL when out of memory. Capacity is as
 * rr_slab_alloc's would be. rr_slab_load_free sets the free list (indexes < n,
 * each once): 0, -1 when out of memory, -2 when an index is out of range
 * (a corrupt stream must not reach memory). rr_slab_clear
 * forgets every slot (n = 0) but keeps the storage: for a half-read stream. */
void *rr_slab_load(rr_slab_t *s, size_t n);
int rr_slab_load_free(rr_slab_t *s, const uint32_t *v, size_t n);
void rr_slab_clear(rr_slab_t *s);

#endif
