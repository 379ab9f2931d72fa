/* pipeline/shards.h: what every sharded run shares, whatever feeds its shards
 * (files: drive.c; a Kafka topic's partitions: run_kafka.c).
 *
 * A shard is an engine of its own on a thread of its own, holding some of
 * the run's partitions. Its records reach the run's fan-out through a port
 * (pipeline/fanout.h). Its progress is noted by its thread and summed by
 * the run's into the run's meter (rr_shard_progress_*, ops/progress.h), and
 * its counts add into the run's summary
 * with rr_shard_total, which also counts shops split across partitions
 * (SPEC §2), within and across shards.
 *
 * Ownership: plain values owned by the run. Thread-safety: as each function
 * says. Layer: pipeline (engine, ops, base).
 */
#ifndef RR_PIPELINE_SHARDS_H
#define RR_PIPELINE_SHARDS_H

#include <stdatomic.h>
#include <stdint.h>

#include "base/map.h"
#include "ops/progress.h"
#include "replyrate/engine.h"

/* A shard's progress: written by its thread, read by the run's. work: the
 * units of the run's meter it has done (input bytes, offsets). */
typedef struct rr_shard_progress {
    atomic_ullong input, open_convs, open_days, work;
    atomic_int done;
} rr_shard_progress_t;

/* The shard's thread: note its engine's counts and its work done now. */
void rr_shard_progress_note(rr_shard_progress_t *p, const rr_engine_t *eng, uint64_t work);

/* The run's thread: how many of progress[0..n) are done; and, while some
 * are not, their sums into the meter when it is due. */
int rr_shard_progress_poll(const rr_shard_progress_t *progress, int n, rr_progress_t *meter);

/* The run's summary over its shards: init, add each shard's engine once,
 * then done. Counts add up (peaks to an upper bound of the true peak), and
 * shops seen in several partitions are counted within and across shards.
 * done frees the total and returns 0 with *out, or -1 (*out still set, its
 * shop count short) if counting shops ran out of memory. */
typedef struct rr_shard_total {
    rr_stats_t stats;
    rr_map64_t first; /* shop -> shard that saw it first; bit 31: counted */
    int shard;
    int oom;
} rr_shard_total_t;

void rr_shard_total_init(rr_shard_total_t *t);
void rr_shard_total_add(rr_shard_total_t *t, const rr_engine_t *eng);
int rr_shard_total_done(rr_shard_total_t *t, rr_stats_t *out);

#endif
