/* pipeline/fanout.h: where a run's records go: the one sink fan-out every mode
 * uses (files, shards, a bounded topic range, a stream).
 *
 * An engine publishes into one rr_sink_t (include/replyrate/engine.h); a run
 * has several destinations: every --output file, the --late and
 * --dead-letter files, the Kafka topics of --publish. rr_fanout_t calls each
 * destination a record belongs to:
 *   day, violation, alert records   every output, and the topics
 *   late rejected records           --late, and the topics
 *   invalid rejected records        --dead-letter, and the topics
 * and applies the run's two filters on the way:
 *   - a day range (docs/kafka.md, "Day ranges"): only the range's days are
 *     published, and only the rejected records that arrived at or after
 *     each partition's first offset of the range (those before belong to the
 *     previous range);
 *   - input known missing (rr_fanout_gap): from then on no record is
 *     published as final (docs/operations.md, "Quality gates").
 *
 * Several engines feed one fan-out through ports (rr_fanout_port_t): a
 * port is one engine's entry point, which translates the engine's partition
 * numbers back to the run's (a shard's engine partition k is the run's
 * global[k]; a stream's one-partition engine is Kafka partition `fixed`)
 * and, when the engines run on threads of their own, holds the run's lock
 * around every call so that one engine at a time writes.
 *
 * Ownership: the fan-out borrows its destinations' sinks (their opaque
 * pointers must outlive it) and the range offsets pointer; a port borrows
 * its fan-out, lock and partition map. Thread-safety: the fan-out's
 * callbacks are not thread-safe (one caller at a time: use ports with a
 * lock); rr_fanout_gap may be called from any thread.
 * Layer: pipeline; uses only the engine's public record types.
 */
#ifndef RR_PIPELINE_FANOUT_H
#define RR_PIPELINE_FANOUT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "replyrate/engine.h"

#define RR_FANOUT_MAX_OUTPUTS 16

/* A day range's part of one partition, by Kafka offset: the rejected records
 * (late, invalid) of offsets [first, next) are the range's to publish; those
 * before are the previous range's, those from next on the following one's,
 * so consecutive ranges publish each exactly once. */
typedef struct rr_range_bounds {
    int64_t first; /* the first record at or after the range's start (by timestamp) */
    int64_t next;  /* the first at or after the next range's start: the day after TO */
} rr_range_bounds_t;

typedef struct rr_fanout {
    rr_sink_t out[RR_FANOUT_MAX_OUTPUTS]; /* --output files: every day, violation, alert */
    int n_out;
    rr_sink_t late, dead, pub; /* --late, --dead-letter, --publish's topics */
    int has_late, has_dead, has_pub;
    /* a day range: from_ymd != 0 turns it on; *range_bounds (set by the
     * Kafka run before its first event, NULL until then) holds each
     * partition's offsets of the range; range_bounds may be NULL */
    int32_t from_ymd, to_ymd;
    rr_range_bounds_t *const *range_bounds;
    atomic_int gap_seen; /* input known missing: nothing final from here on */
} rr_fanout_t;

/* An empty fan-out: no destination, no range, no gap. */
void rr_fanout_init(rr_fanout_t *f);

/* Add a destination. rr_fanout_add_output: 0, or -1 when there are already
 * RR_FANOUT_MAX_OUTPUTS. */
int rr_fanout_add_output(rr_fanout_t *f, rr_sink_t s);
void rr_fanout_set_late(rr_fanout_t *f, rr_sink_t s);
void rr_fanout_set_dead(rr_fanout_t *f, rr_sink_t s);
void rr_fanout_set_publish(rr_fanout_t *f, rr_sink_t s);

/* Only days from_ymd..to_ymd (YYYYMMDD), and, once *range_bounds is set,
 * rejected records in [first, next) of (*range_bounds)[partition]. */
void rr_fanout_set_range(rr_fanout_t *f, int32_t from_ymd, int32_t to_ymd,
                         rr_range_bounds_t *const *range_bounds);

/* Input is known missing: every record published from now on has final
 * cleared. Any thread. */
void rr_fanout_gap(rr_fanout_t *f);

/* A new pass of a run in a consumer group (pipeline/run_group.h) starts:
 * what an earlier pass (published or abandoned) found missing does not
 * concern it. Not while a record is being published. */
void rr_fanout_gap_reset(rr_fanout_t *f);

/* The fan-out as one sink (for a single engine on the caller's thread). */
rr_sink_t rr_fanout_sink(rr_fanout_t *f);

/* One engine's entry point into a fan-out. */
typedef struct rr_fanout_port {
    rr_fanout_t *fan;
    pthread_mutex_t *mu; /* held around every call; NULL: the engine is the only caller */
    const int *global;   /* engine partition k is the run's global[k]; NULL: see fixed */
    int fixed;           /* with global NULL: every rejected record's partition, or -1
                          * to keep the engine's */
} rr_fanout_port_t;

/* The port's sink; the port must outlive the engine it is given to. A port
 * with no lock and no renaming is the fan-out's own sink. */
rr_sink_t rr_fanout_port_sink(rr_fanout_port_t *p);

#endif
