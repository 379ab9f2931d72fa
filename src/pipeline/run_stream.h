/* pipeline/run_stream.h: `replyrate run --brokers ... --topic ... --group ... --publish`
 * without --until-end or a day range: streaming in a consumer group.
 *
 * The run subscribes to the topic in the group; Kafka deals the partitions
 * to the group's instances. Each assigned partition gets an engine of its own
 * (one engine partition named "TOPIC[P]"): a partition holds whole shops, so
 * its days are finalised on its own watermark, with the records one engine
 * over everything would publish (docs/engine.md, "Decisions"), and a quiet
 * partition holds nobody back.
 *
 * Every commit interval, one transaction holds the records published since
 * the last one, a checkpoint of every partition fed since then in the
 * compacted changelog topic PREFIX.changelog (io/changelog.h), and the
 * group's offsets with each checkpoint's location as their metadata. On
 * assignment a partition's engine is restored from the location committed
 * with its offset, and reading resumes there; on revocation everything is
 * committed first. SIGTERM or SIGINT (*stop set) commits and ends the run.
 *
 * With provisional_every_ms, the first commit after each interval also
 * carries a provisional revision of the open days of every partition fed
 * since its last one (rr_engine_provisional), with the checkpoint that
 * counts it: revisions are numbered on across restarts.
 *
 * With threads > 1 the engines are fed on that many threads: partition p's
 * engine by thread p % threads (the calling thread is thread 0), every
 * consumed batch's messages at once, their records through the fan-out's
 * lock. Commits, rebalances and progress run on the calling thread between
 * batches, when every engine is at rest, so a checkpoint is never taken of
 * an engine at work.
 *
 * Ownership: everything in rr_stream_run_t is borrowed for the call; the
 * engines, the consumer, the threads and the per-partition state are its
 * own and freed before it returns. librdkafka's rebalance callback runs on
 * the calling thread, inside the consumer's poll. Prints nothing: the commit, assigned,
 * restored and provisional events are logged at info (ops/log.h), progress
 * goes to ops/progress.h (unless quiet), transient client errors are
 * warnings, the error goes to errstr.
 * Layer: pipeline (io/kafka*, io/changelog, engine, ops, base).
 */
#ifndef RR_PIPELINE_RUN_STREAM_H
#define RR_PIPELINE_RUN_STREAM_H

#include <signal.h>
#include <stdint.h>

#include "engine/tz.h"
#include "io/kafka.h"
#include "io/kafka_sink.h"
#include "pipeline/fanout.h"
#include "replyrate/engine.h"

typedef struct rr_stream_run {
    const rr_kafka_opts_t *ko;
    const char *topic, *group, *prefix;
    const rr_config_t *cfg;
    const rr_tz_t *tz;
    rr_fanout_t *fan;         /* every record, the publishing sink among them */
    rr_kafka_sink_t *publish; /* its transactions carry checkpoints and offsets */
    int threads;              /* engines fed on this many threads (< 1: one) */
    int64_t commit_every_ms;
    int64_t provisional_every_ms; /* 0: none; else open days' revisions with the first
                                   * commit after each interval */
    int have_now;
    int64_t now_ms;
    int quiet;
    volatile sig_atomic_t *stop; /* set by a signal handler: commit and return */
    /* out */
    rr_stats_t stats; /* what this run applied, summed over its engines */
    double seconds;
    char *errstr; /* rr_run_stream's errstr, for the run's own functions */
    size_t errstr_size;
} rr_stream_run_t;

/* 0 when stopped by *stop after a final commit; 1 with errstr on a runtime
 * error (a failed commit, a checkpoint that cannot be restored, a fatal
 * client error: the next run resumes from the last commit); 2 with errstr
 * on a client configuration error. */
int rr_run_stream(rr_stream_run_t *r, char *errstr, size_t errstr_size);

#endif
