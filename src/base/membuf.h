/* base/membuf.h: a growable memory buffer with the write and read callbacks of
 * rr_engine_checkpoint / rr_engine_restore (replyrate/engine.h), so a
 * checkpoint can be taken into memory (to compress it, to cut it into
 * changelog records) and restored from there.
 *
 * Owned by its user; not thread-safe. Layer: base (no project knowledge: it
 * fits the engine's callbacks by their C types alone).
 */
#ifndef RR_BASE_MEMBUF_H
#define RR_BASE_MEMBUF_H

#include <stddef.h>

typedef struct rr_membuf {
    unsigned char *p;
    size_t n, cap; /* bytes written, allocated */
    size_t pos;    /* bytes read */
} rr_membuf_t;

/* Append n bytes (arg: an rr_membuf_t). 0, or -1 when out of memory. */
int rr_membuf_write(void *arg, const void *p, size_t n);

/* Take the next n bytes. 0, or -1 when fewer than n are left. */
int rr_membuf_read(void *arg, void *p, size_t n);

void rr_membuf_free(rr_membuf_t *b);

#endif
