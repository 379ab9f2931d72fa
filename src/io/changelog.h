/* io/changelog.h: engine checkpoints in a compacted Kafka topic, so a streaming
 * run's state survives crashes and moves with its partitions (docs/kafka.md,
 * "Streaming").
 *
 * The checkpoint of the engine of input partition P (rr_engine_checkpoint)
 * is compressed with zstd as it is written and cut into records of at most
 * RR_CHANGELOG_CHUNK bytes, put in partition P of the changelog topic in the
 * sink's open transaction, keyed "KEY:i" for chunk i (compaction keeps the
 * newest chunk i). Each value is a 24-byte header (magic "RRCL", format,
 * the checkpoint's generation, i) and the bytes. The records of one
 * checkpoint are consecutive in committed order, so its location is three
 * numbers: where chunk 0 landed, how many chunks, which generation. That
 * location travels as the metadata of the group's offset for P, committed in
 * the same transaction: offset, state and results are one atomic step.
 *
 * Ownership: the records go through the caller's sink (the producer copies
 * them); the engine is borrowed, read for a checkpoint or restored into.
 * Thread-safety: used from the thread that owns the sink and the engine.
 * Layer: io; uses io/kafka_sink, io/kafka, engine (checkpoints), base
 * (membuf, clock), zstd, librdkafka. Prints nothing: errors go to errstr.
 */
#ifndef RR_IO_CHANGELOG_H
#define RR_IO_CHANGELOG_H

#include <stddef.h>
#include <stdint.h>

#include "io/kafka.h"
#include "io/kafka_sink.h"
#include "replyrate/engine.h"

#define RR_CHANGELOG_CHUNK (512 * 1024)

typedef struct rr_ck_loc {
    int64_t offset; /* chunk 0's offset in the changelog partition; -1 until delivered */
    uint32_t chunks;
    uint64_t gen;
    uint64_t bytes; /* compressed */
    uint64_t raw;   /* the checkpoint's own size */
} rr_ck_loc_t;

/* Write e's checkpoint as the records above (generation gen) through ks.
 * loc->offset is filled in when chunk 0 is delivered: call
 * rr_kafka_sink_flush before reading it. 0, or -1 with errstr. */
int rr_changelog_put(rr_kafka_sink_t *ks, const char *changelog, int32_t partition, const char *key,
                     const rr_engine_t *e, uint64_t gen, rr_ck_loc_t *loc, char *errstr,
                     size_t errstr_size);

/* The location as offset metadata text, and back. Parse: 0, or -1 when md
 * is not a checkpoint location. */
void rr_changelog_format(const rr_ck_loc_t *loc, char *buf, size_t n);
int rr_changelog_parse(const char *md, size_t len, rr_ck_loc_t *loc);

/* Read the checkpoint at loc from partition of changelog (read_committed)
 * and restore it into e (fresh from rr_engine_new). Waits at most timeout_s
 * without progress. 0, or -1 with errstr (missing or foreign records, a
 * corrupt or incompatible checkpoint: free e then). */
int rr_changelog_restore(const rr_kafka_opts_t *ko, const char *changelog, int32_t partition,
                         const char *key, const rr_ck_loc_t *loc, rr_engine_t *e, int timeout_s,
                         char *errstr, size_t errstr_size);

#endif
