/* io/source.h: a file of delimited ChatEvents (SPEC §2), plain or zstd,
 * read as a sequence of records.
 *
 * A source reads one file (or "-" for stdin, or a caller's memory buffer)
 * and yields its records one at a time or in batches, without allocating
 * per record: records point into the source's window buffer. Compression
 * is detected by the zstd frame magic (or a skippable-frame magic) in the
 * first four bytes, whatever the file is called; decompression streams
 * (ZSTD_decompressStream) into the window, and concatenated frames are one
 * stream. `offset` is the byte offset of a record's length prefix in the
 * (decompressed) stream, for dead letters (SPEC §7 "source position").
 *
 * Unread input is never silent. Every record is a message (RR_FRAME_OK) or
 * an invalid record, and every byte of the input ends in a record, or is
 * counted in rr_source_gaps() and described by rr_source_notice():
 *
 * Framing breaks. A length prefix is broken (RR_FRAME_BROKEN: unterminated,
 * or longer than 10 bytes), runs past the end (RR_FRAME_PAST_END), or says
 * more than RR_SOURCE_MAX_RECORD (RR_FRAME_TOO_LARGE: no ChatEvent comes
 * near it, so it is damage, and skipping it would jump over up to 2^64
 * bytes). From the break at byte B the source scans for the first offset R
 * where records decode again (codec/resync.h's rule). Then:
 *   - a break at the end of the file: no R, and at most RR_SOURCE_KEEP_BYTES
 *     from B to the end (a writer killed mid-record; SPEC examples 42, 43).
 *     SPEC §7: one last invalid record holding that whole tail. Nothing is
 *     unread.
 *   - a break before the end: an R exists, or the tail is longer. Without
 *     resync, SPEC §7 still: one last invalid record holding the tail's
 *     first RR_SOURCE_KEEP_BYTES, the file ends there, and every byte from B
 *     to the end is counted as unread (the source reads on to count them;
 *     it looks for R only within RR_SOURCE_SKIP_PIECE of B, for the notice).
 *     With resync (rr_source_set_resync): the bytes from B to R (or to the
 *     end) are returned whole as invalid records, the first with the break's
 *     status, then RR_FRAME_SKIPPED, each of at most RR_SOURCE_SKIP_PIECE
 *     bytes (memory stays bounded); they are counted as skipped, and
 *     reading goes on at R.
 *
 * Damaged zstd data. A zstd frame's bytes reach the records only once the
 * frame has ended intact (its checksum verified when it has one): frames
 * larger than RR_SOURCE_HOLD_BYTES (not ours; io/filesink.h writes frames of
 * RR_FILESINK_FRAME_BYTES) are released as they decode instead, so memory
 * stays bounded. A frame that fails to decode, fails its checksum or is cut
 * off by the end of the file ends the stream before it, without resync: its
 * compressed bytes from the frame's start to the end of the file are
 * counted as unread. With resync the source scans the compressed bytes for
 * the next frame magic from which a frame decodes intact, returns the
 * skipped compressed bytes whole as RR_FRAME_ZSTD_DAMAGED records (their
 * `offset` is the compressed offset in the file), counts them as skipped,
 * and reads on from the resync rule at that frame's first byte (our frames
 * start at a record boundary; other writers' may not). Stream offsets after
 * such a gap count the bytes decompressed, not the lost ones.
 *
 * An I/O error, or a zstd context that cannot be created, is an error (-1).
 *
 * Ownership: rr_source_open*() return a source owned by the caller and freed
 * by rr_source_close(). path is copied. A memory source borrows buf, which
 * must outlive the source. Record data is owned by the source and valid
 * until the next rr_source_next*() or rr_source_close() on it.
 * Thread-safety: a source is used by one thread at a time; distinct sources
 * are independent.
 * Layer: io; uses codec (decode, resync), zstd, libc. Prints nothing: what
 * a caller must say is in rr_source_notice() and errstr.
 */
#ifndef RR_IO_SOURCE_H
#define RR_IO_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "codec/decode.h" /* RR_FRAME_* statuses */

/* Lengths above this are taken as broken (RR_FRAME_TOO_LARGE). */
#define RR_SOURCE_MAX_RECORD ((size_t)64 << 20)
/* The largest record of skipped bytes a resync returns: a longer gap comes
 * back in pieces, so memory stays bounded (the readahead buffers a few
 * batches, a dead letter line holds twice this in hex). */
#define RR_SOURCE_SKIP_PIECE ((size_t)16 << 20)
/* A tail up to this long after a break, with no record decoding in it, is
 * the file's SPEC §7 last invalid record; without resync, the first bytes of
 * a longer tail are kept as that record. */
#define RR_SOURCE_KEEP_BYTES ((size_t)4096)
/* zstd frames up to this many decompressed bytes are verified whole before
 * their records are returned. */
#define RR_SOURCE_HOLD_BYTES ((size_t)8 << 20)

typedef struct rr_record {
    const uint8_t *data; /* OK: the message bytes; otherwise the bytes from the
                            break on (see above). Borrowed. */
    size_t len;
    int64_t offset; /* byte offset of the length prefix in the (decompressed) stream;
                       ZSTD_DAMAGED: of the first skipped byte in the file */
    int status;     /* RR_FRAME_OK, _BROKEN, _PAST_END, _TOO_LARGE, _SKIPPED, _ZSTD_DAMAGED */
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

/* Read on after a break before the end of the file, or damaged zstd data,
 * instead of ending there (see above). Before the first record. */
void rr_source_set_resync(rr_source_t *s, int on);

/* What the source could not return as records, so far (final once it has
 * ended). Bytes are stream bytes after framing breaks and compressed bytes
 * of damaged zstd data. */
typedef struct rr_source_gaps {
    uint64_t unread_bytes;  /* without resync: from a break before the end, or from
                               a damaged zstd frame, to the end of the file */
    uint64_t skipped_bytes; /* with resync: returned whole as invalid records */
    uint64_t breaks;        /* framing breaks before the end and damaged zstd frames */
    /* A regular file that has grown since its end was read (still being
     * written) counts what it gained as unread, up to this call; one that
     * shrank under the reader is an error. */
} rr_source_gaps_t;
rr_source_gaps_t rr_source_gaps(const rr_source_t *s);

/* "" while nothing is missing; else one line naming the file, the first
 * break (byte offset, reason, where records decode again) and the bytes
 * unread or skipped. Owned by the source. */
const char *rr_source_notice(const rr_source_t *s);

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

/* For progress: the input's size in bytes now (compressed, for zstd) when
 * it is a regular file, 0 when it has none (a pipe, a terminal, a memory
 * source); and how far into it the records returned so far reach: the next
 * record's offset, or for zstd the compressed bytes the decoder has taken
 * (up to a window of records ahead). */
uint64_t rr_source_size(const rr_source_t *s);
uint64_t rr_source_bytes_done(const rr_source_t *s);

/* Close the file and free everything. NULL is a no-op. */
void rr_source_close(rr_source_t *s);

/* Several sources read round-robin, a batch at a time, so that every
 * partition's watermark advances (SPEC §5): source 0, 1, ..., n-1, 0, ...,
 * skipping those that have ended. The sources stay the caller's. */
typedef struct rr_source_mux {
    rr_source_t *const *src;
    int n, next, remaining;
    unsigned char *ended;
} rr_source_mux_t;

/* 0, or -1 when out of memory. */
int rr_source_mux_init(rr_source_mux_t *rr, rr_source_t *const *src, int n);
void rr_source_mux_free(rr_source_mux_t *rr);

enum {
    RR_SOURCE_MUX_BATCH = 1,
    RR_SOURCE_MUX_ENDED = 0,
    RR_SOURCE_MUX_ERROR = -1,
    RR_SOURCE_MUX_DONE = 2
};
/* The next step: RR_SOURCE_MUX_BATCH with *n records (up to max) of source *which;
 * RR_SOURCE_MUX_ENDED when source *which has just ended; RR_SOURCE_MUX_ERROR when it failed
 * (rr_source_error); RR_SOURCE_MUX_DONE when every source has ended. */
int rr_source_mux_next(rr_source_mux_t *rr, rr_record_t *recs, size_t max, int *which, size_t *n);

#endif
