/* io/readahead.h: read a set of sources on a background thread.
 *
 * `replyrate run` reads its input files round-robin, a batch at a time, so
 * that every partition's watermark advances. Reading a batch (read(2), zstd
 * decompression, framing) costs about a sixth of what the engine spends on
 * it, and it does not depend on the engine: a reader thread does it for the
 * next batches while the engine applies this one, on another core.
 *
 * The reader produces exactly the sequence the single-threaded loop would:
 * for each source still open, in index order, round after round, one batch
 * (up to `max` records) or the source's end or its error. The consumer sees
 * those items in that order, so results do not depend on the threading.
 * Record bytes are copied out of the source's window into the item, so a
 * batch stays valid while the reader goes on; up to RR_READAHEAD_DEPTH
 * batches are buffered, which bounds memory.
 *
 * Ownership: the sources stay the caller's and must outlive the reader; the
 * reader uses them from its thread only between rr_readahead_start() and
 * rr_readahead_stop(), so the caller must not touch them in between.
 * Thread-safety: one consumer thread.
 * Layer: io; uses io/source, pthreads. Prints nothing.
 */
#ifndef RR_IO_READAHEAD_H
#define RR_IO_READAHEAD_H

#include <stddef.h>
#include <stdint.h>

#include "io/source.h"

#define RR_READAHEAD_DEPTH 4

typedef struct rr_readahead rr_readahead_t;

typedef enum rr_readahead_kind {
    RR_READAHEAD_BATCH = 1, /* n >= 1 records of source `which` */
    RR_READAHEAD_END,       /* source `which` has no more records */
    RR_READAHEAD_ERROR,     /* source `which` failed: error says why; nothing follows */
    RR_READAHEAD_DONE,      /* every source has ended */
} rr_readahead_kind_t;

typedef struct rr_readahead_item {
    rr_readahead_kind_t kind;
    int which;
    const rr_record_t *recs; /* BATCH: valid until the next rr_readahead_next()/stop() */
    size_t n;
    const char *error;   /* ERROR: the source's message, naming the file */
    uint64_t bytes_done; /* how far the sources have been read, this item
                          included: rr_source_bytes_done's sum, for progress */
} rr_readahead_item_t;

/* Start reading src[0..n_src) in batches of up to max records. 0, or -1
 * with errstr (out of memory, no thread). */
int rr_readahead_start(rr_source_t *const *src, int n_src, size_t max, rr_readahead_t **out,
                       char *errstr, size_t errstr_size);

/* The next item, waiting for the reader if need be. After DONE or ERROR it
 * keeps returning that item. */
void rr_readahead_next(rr_readahead_t *r, rr_readahead_item_t *item);

/* Stop the reader (wherever it is) and free everything. NULL is a no-op. */
void rr_readahead_stop(rr_readahead_t *r);

#endif
