/* base/bigmem.h: large tables on transparent huge pages.
 *
 * The conversation map and slabs span hundreds of MB and are read at random,
 * one cache line per event; with 4 KiB pages nearly every such read also
 * misses the TLB. Blocks of at least RR_BIG_MIN bytes are mapped directly and
 * marked MADV_HUGEPAGE (used where the system's THP mode is "madvise" or
 * "always"), and grow with mremap, which moves page tables, not bytes.
 * Smaller blocks use malloc. The caller passes the block's size back.
 *
 * Not thread-safe per block. Layer: base (no project knowledge; libc only).
 */
#ifndef RR_BASE_BIGMEM_H
#define RR_BASE_BIGMEM_H

#include <stddef.h>

#define RR_BIG_MIN ((size_t)1 << 21)

/* A block of size bytes, or NULL. Not zeroed below RR_BIG_MIN. */
void *rr_big_alloc(size_t size);
/* Grow or shrink p (of old_size bytes) to new_size; contents kept. NULL on
 * failure, p still valid. */
void *rr_big_realloc(void *p, size_t old_size, size_t new_size);
void rr_big_free(void *p, size_t size);

#endif
