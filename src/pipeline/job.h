/* pipeline/job.h: one run of replyrate, described and run: the whole of
 * `replyrate run` below its command line.
 *
 * A job says what to read (input files, or a Kafka topic: to its end, a day
 * range, or streaming in a consumer group), where results go (result files,
 * the late and dead-letter files, the manifest, Kafka topics), with which
 * configuration and time zone, under which quality gates, on how many
 * threads. cli/cmd_run.c fills one from flags and hands it to rr_job_run,
 * which runs it in one of four modes:
 *
 *   RR_JOB_FILES   input files, one engine (pipeline/drive.h)
 *   RR_JOB_SHARDS  input files dealt to several engines on threads (drive.h)
 *   RR_JOB_KAFKA   a bounded topic range: --until-end or --from/--to
 *                  (pipeline/run_kafka.h)
 *   RR_JOB_STREAM  a topic in a consumer group until SIGTERM
 *                  (pipeline/run_stream.h)
 *
 * and then judges it (pipeline/outcome.h: exit status, gates), publishes its
 * files or not (pipeline/run_files.h: all or nothing, then the manifest),
 * and returns the outcome that the summary line reports
 * (pipeline/summary.h). Every record of every mode goes through one fan-out
 * (pipeline/fanout.h).
 *
 * What is printed: nothing but log lines (ops/log.h: warnings such as a
 * file's unread bytes, a Kafka client's transient errors; a stream's
 * commits and rebalances) and progress (ops/progress.h, unless quiet: a
 * status line on a terminal, events otherwise). The error that decides a failed
 * run's status is returned in errstr for the caller to print; further
 * errors of the same run are logged.
 *
 * Signals: rr_job_run installs the SIGINT/SIGTERM handling of ops/stop.h
 * (a bounded run stops and publishes nothing, a stream commits and returns)
 * and settles it before it returns: a signal after the run's outcome is
 * decided is ignored, so the status returned is the status the process
 * exits with. So one job at a time per process.
 *
 * Ownership: every pointer in rr_job_t is borrowed for the call (paths,
 * config, Kafka options, the live hand-off). The calling thread only.
 * Layer: pipeline (io, codec, engine, metrics, ops, base).
 */
#ifndef RR_PIPELINE_JOB_H
#define RR_PIPELINE_JOB_H

#include <stddef.h>
#include <stdint.h>

#include "io/kafka.h"
#include "pipeline/kafka_live.h"
#include "codec/record_table.h"
#include "pipeline/outcome.h"
#include "replyrate/config.h"

typedef enum rr_job_mode {
    RR_JOB_FILES,
    RR_JOB_SHARDS,
    RR_JOB_KAFKA,
    RR_JOB_STREAM,
} rr_job_mode_t;

typedef struct rr_job {
    /* input: files ... */
    const char *const *inputs; /* n_inputs paths ('-': stdin), one partition each */
    int n_inputs;
    int resync; /* read on past a file's damage (io/source.h) */
    /* ... or a topic (topic != NULL) */
    const rr_kafka_opts_t *kafka; /* brokers and -X properties */
    const char *topic;
    const char *group;            /* consumer group (default "replyrate") */
    int until_end;                /* bounded: every partition to its end at start */
    int32_t from_ymd, to_ymd;     /* a day range (YYYYMMDD, both or neither): bounded */
    int64_t lookback_ms;          /* a range's partitions are read from this long before FROM */
    int64_t commit_every_ms;      /* streaming: a transaction this often */
    int64_t provisional_every_ms; /* streaming: open days' revisions (0: none) */
    const char *instance;         /* streaming: this instance's name (default "0") */
    int publish;                  /* every record to Kafka topics PREFIX.* too */
    const char *prefix;           /* those topics' prefix (default "replyrate") */
    int publish_json;             /* their values JSON objects, not protobuf */
    const char *txn_id;           /* transactional id (default from group, topic, instance) */
    rr_kafka_live_t *live;        /* a topic still being written (bounded runs only); marked over */
    /* outputs */
    const char *const *outputs; /* n_outputs result files (.jsonl, .csv, .pb[.zst]; '-') */
    int n_outputs;
    const char *const *tables;         /* --output-dir: RR_TABLES loader tables' paths
                                        * (codec/record_table.h), or NULL */
    const char *late_path, *dead_path; /* or NULL */
    const char *manifest_path;         /* or NULL: no manifest */
    /* settings */
    const rr_config_t *cfg; /* the effective configuration, its time zone included */
    rr_gates_t gates;
    int threads; /* engines (files) or shards (bounded Kafka); 0: one per file or
                  * partition, at most one per CPU */
    int have_now;
    int64_t now_ms;      /* with have_now: the wall clock events are judged against */
    int quiet;           /* no progress */
    const char *version; /* the program's version, for the manifest */
} rr_job_t;

typedef struct rr_job_result {
    rr_outcome_t outcome; /* counts, seconds, unread/skipped/missing, status, reason, signal */
    int summary;          /* the run started: print its summary line (0 after a usage or
                           * configuration error, or a stream that failed) */
} rr_job_result_t;

/* The defaults: no input or output, group "replyrate", prefix "replyrate",
 * lookback 1 day, commit every 10 s, the default gates, threads 0. */
void rr_job_init(rr_job_t *job);

/* The mode job runs in (with threads 0 resolved as rr_job_run does). */
rr_job_mode_t rr_job_mode(const rr_job_t *job);

/* Run job. Returns the exit status (docs/operations.md, "Exit status": 0 ok,
 * 1 runtime error, 2 configuration error, 3..5 a gate, 128+N a signal),
 * also in res->outcome.status when res->summary is set. When the run
 * failed, errstr says why (empty when the outcome alone says it, as for a
 * signal). The job's flags are assumed consistent (cli/cmd_run.c checks
 * them: a topic or files, a manifest only for bounded runs, ...). */
int rr_job_run(const rr_job_t *job, rr_job_result_t *res, char *errstr, size_t errstr_size);

#endif
