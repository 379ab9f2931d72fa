/* pipeline/run_kafka.h: `replyrate run --brokers ... --topic ...`: a bounded run over
 * a Kafka topic.
 *
 * Each Kafka partition is one engine partition (SPEC §5), named
 * "TOPIC[P]", so dead letters carry the partition and the Kafka offset. The
 * end offsets are captured at start; every partition is read from its
 * beginning to that end, in offset order, and then stops holding the
 * watermark back (SPEC §5: a bounded run that has read a partition to its
 * end). When all have ended, the engine is finished (every open day
 * published as final) and, when publishing to topics, the transaction
 * commits together with the group's offsets at those ends.
 *
 * Shards (docs/kafka.md, "Shards"): with threads > 1 the partitions that
 * hold records are dealt to that many engines (pipeline/shards.h), each fed on a
 * thread of its own from its partitions' own queue; the calling thread
 * serves the consumer's other events (client errors) and progress lines.
 * Since a partition holds whole shops, the records are one engine's.
 *
 * A topic still being written (rr_kafka_run_t.live, pipeline/kafka_live.h): no
 * end is captured at start; every partition is read from its log start
 * until its writer gives the ends, and read to them; the writer is told how
 * far each partition has been read, to hold back while too much is unread.
 *
 * Completeness: a run reads every record its range holds or says which it
 * lacks. At start, offsets below a partition's log start offset were deleted
 * (retention, DeleteRecords); during the run, the reader's
 * auto.offset.reset=error (io/kafka.h) reports a partition whose next offset
 * was deleted under it, and the log start offset then tells how many went.
 * Gaps the log keeps on purpose (transaction markers, aborted records,
 * compaction) are never counted: they are not below the log start.
 *
 * Ownership: everything in rr_kafka_run_t is borrowed for the call but the
 * outputs it documents as the caller's to free (read, range_bounds).
 * Threads: called on one thread; with shards it starts and joins its own,
 * which call the fan-out through locked ports. Prints nothing: warnings go
 * to ops/log.h, progress (of the end offsets captured at start) to
 * ops/progress.h, the error to errstr.
 * Layer: pipeline (io/kafka*, io/feed, engine, ops, base).
 */
#ifndef RR_PIPELINE_RUN_KAFKA_H
#define RR_PIPELINE_RUN_KAFKA_H

#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>

#include "pipeline/fanout.h"
#include "pipeline/kafka_live.h"
#include "engine/tz.h"
#include "io/kafka.h"
#include "io/kafka_sink.h"
#include "replyrate/config.h"
#include "replyrate/engine.h"

/* One pass of a bounded run shared by a consumer group
 * (pipeline/run_group.h): rr_run_kafka reads only the partitions in[p]
 * marks, asks nothing about the group's committed offsets (the group
 * did), serves member's queue between batches (its rebalance callback sets
 * *revoked when a partition of the pass goes to another instance: the pass
 * stops, publishes nothing, and is abandoned), and commits its results with
 * member's group metadata, so that a group that has moved on (a new
 * generation) refuses the commit (abandoned too). Every partition of the
 * pass is committed with label as its offset's metadata, the first one
 * with the pass's applied count appended (rr_kafka_label_match). */
typedef struct rr_kafka_pass {
    const unsigned char *in; /* np flags, borrowed */
    int np;
    rd_kafka_t *member;  /* the subscribed consumer, borrowed; served on the calling thread */
    atomic_int *revoked; /* set by member's callback */
    const char *label;   /* "replyrate:FROM..TO" or "replyrate:until-end" */
    int abandoned;       /* out: revoked, or the commit was refused: nothing published */
} rr_kafka_pass_t;

/* The offsets' metadata of a publishing run to the end (a day range's is
 * "replyrate:FROM..TO", pipeline/run.c). */
#define RR_KAFKA_UNTIL_END_LABEL "replyrate:until-end"

/* Whether an offset's metadata md (n bytes) says label committed it: label
 * itself (a run on its own) or label;applied=N (a group's pass, N the
 * events it applied: *applied is set to N then, when applied is not NULL). */
int rr_kafka_label_match(const char *md, size_t n, const char *label, int64_t *applied);

/* What a bounded run read of one partition: offsets [from, to). */
typedef struct rr_kafka_read {
    int32_t partition;
    int64_t from, to;
} rr_kafka_read_t;

typedef struct rr_kafka_run {
    const rr_kafka_opts_t *ko;
    const char *topic;
    const char *group; /* consumer group id (no offsets are committed yet) */
    const rr_config_t *cfg;
    const rr_tz_t *tz;
    rr_fanout_t *fan; /* every record: each shard through a port, one at a time */
    int threads;      /* shards: at most this many, one per partition that holds records */
    int have_now;
    int64_t now_ms;
    int quiet;
    rr_kafka_sink_t *publish; /* or NULL: its transaction commits with the input's end offsets */
    /* A day range (docs/kafka.md, "Day ranges"): range_end_ms > 0 turns it on.
     * Each partition is read from its first record at or after seek_ms (by
     * Kafka timestamp) until its watermark passes stop_ms, or its end. */
    int64_t seek_ms, range_start_ms, stop_ms, range_end_ms;
    int64_t next_start_ms;           /* the next range's range_start_ms: the day after TO's */
    const char *range_label;         /* "FROM..TO": committed as the offsets' metadata */
    rr_range_bounds_t *range_bounds; /* out, np entries, set before the first event: each
                                      * partition's first offsets at or after
                                      * range_start_ms and next_start_ms */
    /* Completeness (docs/kafka.md, "Completeness"): records the run needs that
     * were deleted, before it began (below a partition's log start offset) or
     * under it, make it stop with status 3, unless allow_incomplete: then it
     * goes on without them, says so in a warning (ops/log.h), and counts
     * them; as soon as records are known missing, fan publishes nothing as
     * final (rr_fanout_gap). */
    int allow_incomplete;
    /* A topic still being written (pipeline/kafka_live.h), or NULL: every
     * partition is read from its log start until the ends the writer gives,
     * and how far each was read is told to the writer. Not with a day range;
     * the group's committed offsets are not asked first (no end is known at
     * start, and the writer is writing the records now: no earlier run can
     * have published them). Marked over when the run returns. */
    rr_kafka_live_t *live;
    /* Non-zero (the signal's number, set by a handler): read no further,
     * publish nothing, return 128 + that number. May be NULL. */
    volatile sig_atomic_t *stop;
    /* Publishing: called once every partition was read and the engines
     * finished, just before the commit, with stats and missing_records set;
     * 0 commits, anything else aborts and is returned as the run's status
     * (the quality gates: pipeline/outcome.h). May be NULL. */
    int (*judge)(void *opaque, const struct rr_kafka_run *r);
    void *judge_opaque;
    /* One pass of a group's run (pipeline/run_group.h), or NULL: the run
     * reads every partition. */
    rr_kafka_pass_t *pass;
    /* out */
    uint64_t missing_records; /* offsets known deleted before the run read them */
    rr_kafka_read_t *read;    /* n_read entries (caller frees), partitions with records:
                               * what was read, whatever the status; NULL if the run
                               * stopped before it knew */
    size_t n_read;
    int already_published;  /* publishing: the group had committed every end offset */
    int64_t range_applied;  /* group (run_group.h): events applied over the whole range by
                             * every pass of the group, or -1 when unknown */
    rr_stats_t stats;       /* the shards' counts added up (pipeline/shards.h) */
    char engine_error[256]; /* non-empty: an engine's results cannot be trusted (rr_engine_error) */
    double seconds;
    char *errstr; /* rr_run_kafka's errstr, for the run's own functions */
    size_t errstr_size;
} rr_kafka_run_t;

/* errstr (errstr_size bytes) says why when the status is not 0 (empty for
 * a signal or a gate).
 * 0 when every partition was read to its end and the engines finished (and,
 * when publishing, the results committed); a non-empty r->engine_error then
 * says an engine's results cannot be trusted (written all the same, as file
 * mode does). 1 with errstr on a runtime error (no such topic, unreachable
 * cluster at start, fatal client error, failed commit; an engine's error
 * when publishing: nothing is committed; a live topic's writer that failed,
 * or whose partition count differs); 2 with errstr on a client or engine
 * configuration error (or a live topic with a day range); 3 with errstr
 * naming the first partition that lacks records (nothing committed);
 * 128 + N when *r->stop became N (nothing committed); what r->judge
 * returned when it was not 0 (nothing committed). r->stats and
 * r->missing_records hold what was read and missed whatever the status. */
int rr_run_kafka(rr_kafka_run_t *r, char *errstr, size_t errstr_size);

#endif
