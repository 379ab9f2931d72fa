/* io/source.h: a file of delimited ChatEvents (SPEC §2), plain or zstd,
 * read as a sequence of records.
 *
 * A source reads one file (or "-" for stdin, or a caller's memory buffer)
 * and yields its records one at a time or in batches, without allocating
 * per record: records point into the source's window buffer. Compression
 * is detected by the zstd frame magic (or a skippable-frame magic) in the
 * first four bytes, whatever the file is called; decompression streams
 * (ZSTD_decompressStream) through a fixed input buffer into the window, and
 * concatenated frames are one stream.
 *
 * Records (SPEC §7 "Nothing lost"): every record is either a message
 * (status RR_FRAME_OK) or one last invalid record when the length prefix is
 * broken (RR_FRAME_BROKEN) or runs past the end of the file
 * (RR_FRAME_PAST_END); the file ends there, and the next call returns 0.
 * A message longer than RR_SOURCE_MAX_RECORD is not buffered: it is skipped
 * and reported as one record with status RR_FRAME_TOO_LARGE whose data is
 * only its first bytes (the caller counts it invalid), and reading goes on
 * after it; if the file ends inside it, that record is RR_FRAME_PAST_END.
 * `offset` is the byte offset of the record's length prefix in the
 * (decompressed) stream, for dead letters (SPEC §7 "source position").
 *
 * A zstd stream that is corrupt, or ends inside a frame, is an error (-1),
 * not a record: the bytes after the last complete record are unknown.
 *
 * Ownership: rr_source_open*() return a source owned by the caller and freed
 * by rr_source_close(). path is copied. A memory source borrows buf, which
 * must outlive the source. Record data is owned by the source and valid
 * until the next rr_source_next*() or rr_source_close() on it.
 * Thread-safety: a source is used by one thread at a time; distinct sources
 * are independent.
 */
#ifndef RR_IO_SOURCE_H
#define RR_IO_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "codec/decode.h" /* RR_FRAME_* statuses */

/* Messages above this many bytes are skipped, not buffered (RR_FRAME_TOO_LARGE). */
#define RR_SOURCE_MAX_RECORD ((size_t)64 << 20)
/* How many leading bytes of a skipped or oversize record are kept as its data. */
#define RR_SOURCE_KEEP_BYTES ((size_t)4096)

typedef struct rr_record {
    const uint8_t *data; /* OK: the message bytes; BROKEN/PAST_END: every remaining
                            byte from the length prefix on (as far as buffered);
                            TOO_LARGE: the first bytes from the prefix on. Borrowed. */
    size_t len;
    int64_t offset; /* byte offset of the length prefix in the (decompressed) stream */
    int status;     /* RR_FRAME_OK, RR_FRAME_BROKEN, RR_FRAME_PAST_END or RR_FRAME_TOO_LARGE */
} rr_record_t;

typedef struct rr_source rr_source_t;

/* Open a file ("-" reads stdin, which is not closed). Returns 0 and sets
 * *out, or -1 with errstr naming the file. Reads the first bytes to detect
 * compression. */
int rr_source_open(const char *path, rr_source_t **out, char *errstr, size_t errstr_size);

/* A source over buf[0..len) (plain or zstd, detected the same way). A plain
 * buffer is framed in place with no copy. name (may be NULL) is used in
 * error messages. Returns 0 or -1 with errstr. */
int rr_source_open_mem(const uint8_t *buf, size_t len, const char *name, rr_source_t **out,
                       char *errstr, size_t errstr_size);

/* The next record: 1 and *rec filled, 0 at the end, -1 on an I/O or zstd
 * error (rr_source_error() says which, naming the file; errors are sticky). */
int rr_source_next(rr_source_t *s, rr_record_t *rec);

/* Up to max records (max >= 1) at once: returns how many (> 0), 0 at the
 * end, -1 on error. Stops early rather than refilling, so every record of a
 * batch stays valid until the next call. */
int rr_source_next_batch(rr_source_t *s, rr_record_t *recs, size_t max);

/* The last error message ("" if none). Owned by the source. */
const char *rr_source_error(const rr_source_t *s);

/* Whether the input is zstd-compressed. */
int rr_source_is_zstd(const rr_source_t *s);

/* Bytes of input (compressed, for zstd) consumed so far, for progress. */
uint64_t rr_source_bytes_in(const rr_source_t *s);

/* Close the file and free everything. NULL is a no-op. */
void rr_source_close(rr_source_t *s);

/* Several sources read round-robin, a batch at a time, so that every
 * partition's watermark advances (SPEC §5): source 0, 1, ..., n-1, 0, ...,
 * skipping those that have ended. The sources stay the caller's. */
typedef struct rr_round_robin {
    rr_source_t *const *src;
    int n, next, remaining;
    unsigned char *ended;
} rr_round_robin_t;

/* 0, or -1 when out of memory. */
int rr_round_robin_init(rr_round_robin_t *rr, rr_source_t *const *src, int n);
void rr_round_robin_free(rr_round_robin_t *rr);

enum { RR_RR_BATCH = 1, RR_RR_ENDED = 0, RR_RR_ERROR = -1, RR_RR_DONE = 2 };
/* The next step: RR_RR_BATCH with *n records (up to max) of source *which;
 * RR_RR_ENDED when source *which has just ended; RR_RR_ERROR when it failed
 * (rr_source_error); RR_RR_DONE when every source has ended. */
int rr_round_robin_next(rr_round_robin_t *rr, rr_record_t *recs, size_t max, int *which,
                        size_t *n);

#endif
