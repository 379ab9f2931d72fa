/* pipeline/run.c: run a job in its mode, judge it, publish it (see job.h).
 *
 * The steps, whatever the mode:
 *   1. open:    the time zone, every input (one that cannot be read fails the
 *               run before any output exists), every output file under its
 *               temporary name, the Kafka producer when publishing
 *   2. read:    drive.c (files, shards), run_kafka.c (a bounded topic range),
 *               run_stream.c (a stream), every record into one fan-out
 *   3. judge:   unread input named, a signal, the quality gates (outcome.h)
 *   4. publish: with status 0 only: the files renamed, then the manifest
 * A usage or configuration error found on the way ends the run at once with
 * status 2 and no summary; any other failure still judges and reports.
 */
#include "pipeline/job.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "engine/tz.h"
#include "io/kafka_sink.h"
#include "io/manifest.h"
#include "io/source.h"
#include "io/tmpfile.h"
#include "io/tzload.h"
#include "ops/log.h"
#include "ops/stop.h"
#include "pipeline/drive.h"
#include "pipeline/fanout.h"
#include "pipeline/run_files.h"
#include "pipeline/run_group.h"
#include "pipeline/run_kafka.h"
#include "pipeline/run_stream.h"

void rr_job_init(rr_job_t *job)
{
    *job = (rr_job_t){.lookback_ms = RR_DAY_MS, .commit_every_ms = 10000, .prefix = "replyrate"};
    rr_gates_default(&job->gates);
}

/* --threads, or one engine per file or partition, at most one per CPU. */
static int resolve_threads(const rr_job_t *job)
{
    if (job->threads > 0) return job->threads;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    return cpus < 1 ? 1 : job->topic || cpus < job->n_inputs ? (int)cpus : job->n_inputs;
}

rr_job_mode_t rr_job_mode(const rr_job_t *job)
{
    if (job->topic) return job->until_end || job->from_ymd ? RR_JOB_KAFKA : RR_JOB_STREAM;
    return resolve_threads(job) > 1 && job->n_inputs > 1 ? RR_JOB_SHARDS : RR_JOB_FILES;
}

/* What comes after a mode's reading. */
typedef enum next { NEXT_JUDGE, NEXT_PUBLISH, NEXT_END } next_t;

typedef struct run {
    const rr_job_t *job;
    rr_outcome_t *oc;
    char *errstr;
    size_t errstr_size;
    rr_tz_t *tz;
    rr_source_t **src; /* job->n_inputs, NULL until opened */
    rr_run_files_t files;
    rr_fanout_t fan;
    rr_kafka_sink_t *pub;
    rr_manifest_t man;
    const char *manifest_path; /* NULL: none (also once nothing is to be touched) */
    char inputs_label[512];
    volatile sig_atomic_t *stop;
    int gated; /* the gates have judged it already (a group's run: pass by pass) */
} run_t;

/* "--input a.pb", "--input a.pb, b.pb", "--input a.pb, b.pb and 3 more", or
 * "topic T": what a gate's message names. */
static void describe_inputs(const rr_job_t *job, char *out, size_t size)
{
    if (job->topic) {
        snprintf(out, size, "topic %s", job->topic);
        return;
    }
    int n_in = job->n_inputs, shown = n_in < 3 ? n_in : 2;
    size_t len = (size_t)snprintf(out, size, "--input");
    for (int i = 0; i < shown && len < size; i++)
        len += (size_t)snprintf(out + len, size - len, "%s %s", i ? "," : "", job->inputs[i]);
    if (n_in > shown && len < size) snprintf(out + len, size - len, " and %d more", n_in - shown);
}

/* Every input, then every output file into the fan-out. 0, or -1 (errstr). */
static int open_files(run_t *r)
{
    const rr_job_t *job = r->job;
    char err[512];
    for (int i = 0; i < job->n_inputs; i++) {
        if (rr_source_open(job->inputs[i], &r->src[i], err, sizeof err) < 0) {
            rr_log_first_error(r->errstr, r->errstr_size, "run", "%s", err);
            return -1;
        }
        rr_source_set_resync(r->src[i], job->resync);
    }
    for (int t = 0; job->tables && t < RR_TABLES; t++) {
        rr_sink_t sink;
        if (rr_run_files_open_table(&r->files, "--output-dir", job->tables[t], (rr_table_t)t, &sink,
                                    err, sizeof err) < 0) {
            rr_log_first_error(r->errstr, r->errstr_size, "run", "%s", err);
            return -1;
        }
        if (rr_fanout_add_output(&r->fan, sink) < 0) {
            rr_log_first_error(r->errstr, r->errstr_size, "run", "more than %d outputs",
                               RR_FANOUT_MAX_OUTPUTS);
            return -1;
        }
    }
    for (int i = 0; i < job->n_outputs + 2; i++) {
        int n_out = job->n_outputs;
        const char *flag = i < n_out     ? "--output"
                           : job->tables ? "--output-dir"
                           : i == n_out  ? "--late"
                                         : "--dead-letter";
        const char *path = i < n_out    ? job->outputs[i]
                           : i == n_out ? job->late_path
                                        : job->dead_path;
        rr_sink_t sink;
        if (!path) continue;
        if (rr_run_files_open(&r->files, flag, path, &sink, err, sizeof err) < 0) {
            rr_log_first_error(r->errstr, r->errstr_size, "run", "%s", err);
            return -1;
        }
        if (i < n_out) {
            if (rr_fanout_add_output(&r->fan, sink) < 0) {
                rr_log_first_error(r->errstr, r->errstr_size, "run", "more than %d --output files",
                                   RR_FANOUT_MAX_OUTPUTS);
                return -1;
            }
        } else if (i == n_out) {
            rr_fanout_set_late(&r->fan, sink);
        } else {
            rr_fanout_set_dead(&r->fan, sink);
        }
    }
    return 0;
}

/* Files and shards: one driver loop (drive.h). */
static next_t read_files(run_t *r, int threads, int *status)
{
    const rr_job_t *job = r->job;
    rr_drive_t d = {.cfg = job->cfg,
                    .tz = r->tz,
                    .fan = &r->fan,
                    .src = r->src,
                    .names = job->inputs,
                    .n_in = job->n_inputs,
                    .n_shards = rr_job_mode(job) == RR_JOB_SHARDS ? threads : 1,
                    .have_now = job->have_now,
                    .now_ms = job->now_ms,
                    .quiet = job->quiet,
                    .stop = r->stop};
    char err[1024];
    int rc = rr_drive_files(&d, err, sizeof err);
    if (rc == 2) { /* a rejected config: no run */
        rr_log_first_error(r->errstr, r->errstr_size, "run", "%s", err);
        *status = 2;
        return NEXT_END;
    }
    r->oc->stats = d.stats;
    r->oc->seconds = d.seconds;
    if (rc) { /* an unreadable input, an engine's error, out of memory */
        rr_log_first_error(r->errstr, r->errstr_size, "run", "%s", err);
        rr_outcome_error(r->oc);
    }
    return NEXT_JUDGE;
}

/* The producer of --publish: its transactions carry every record. 0, or -1
 * (errstr). */
static int open_publish(run_t *r, int streaming)
{
    const rr_job_t *job = r->job;
    const char *group = job->group ? job->group : "replyrate";
    char idbuf[512], err[512];
    const char *txn_id = job->txn_id;
    if (!txn_id) {
        if (streaming || job->instance) /* one per instance of the group */
            snprintf(idbuf, sizeof idbuf, "replyrate-%s-%s-%s", group, job->topic,
                     job->instance ? job->instance : "0");
        else
            snprintf(idbuf, sizeof idbuf, "replyrate-%s-%s", group, job->topic);
        txn_id = idbuf;
    }
    /* a bounded run is one transaction: up to the broker's maximum;
     * streaming commits often, and a killed instance's open transaction
     * should not hold readers back long */
    int64_t txn_timeout = streaming ? 60000 + 3 * job->commit_every_ms : 900000;
    if (txn_timeout > 900000) /* the broker's default transaction.max.timeout.ms */
        txn_timeout = 900000;
    if (rr_kafka_sink_open(job->kafka, job->prefix, txn_id, (int)txn_timeout,
                           job->publish_json ? RR_KAFKA_SINK_JSON : RR_KAFKA_SINK_PB, &r->pub, err,
                           sizeof err) < 0) {
        rr_log_first_error(r->errstr, r->errstr_size, "run", "%s", err);
        return -1;
    }
    rr_sink_t s;
    rr_kafka_sink_callbacks(r->pub, &s);
    rr_fanout_set_publish(&r->fan, s);
    return 0;
}

/* A stream: until a signal (status 0) or its error (no summary). */
static next_t read_stream(run_t *r, int threads, int *status)
{
    const rr_job_t *job = r->job;
    rr_stream_run_t sr = {.ko = job->kafka,
                          .topic = job->topic,
                          .group = job->group ? job->group : "replyrate",
                          .prefix = job->prefix,
                          .cfg = job->cfg,
                          .tz = r->tz,
                          .fan = &r->fan,
                          .publish = r->pub,
                          .threads = threads,
                          .commit_every_ms = job->commit_every_ms,
                          .provisional_every_ms = job->provisional_every_ms,
                          .have_now = job->have_now,
                          .now_ms = job->now_ms,
                          .quiet = job->quiet,
                          .stop = r->stop};
    char err[1024];
    *status = rr_run_stream(&sr, err, sizeof err);
    if (*status) {
        rr_log_first_error(r->errstr, r->errstr_size, "run", "%s%s", err,
                           rr_kafka_sink_fenced(r->pub)
                               ? " (fenced: another instance runs with the same --instance)"
                               : "");
        return NEXT_END;
    }
    r->oc->stats = sr.stats;
    r->oc->seconds = sr.seconds;
    r->oc->signo = rr_stop_signal(); /* a stream's normal end: status 0 */
    return NEXT_PUBLISH;
}

/* The quality gates, asked by a publishing Kafka run before it commits (in
 * a group: each pass, over its partitions). */
typedef struct kafka_judge {
    rr_gates_t gates;
    rr_outcome_t failed; /* the verdict that stopped a commit */
    char msg[1024];      /* and why */
} kafka_judge_t;

static int kafka_judge(void *opaque, const rr_kafka_run_t *kr)
{
    kafka_judge_t *kj = opaque;
    rr_outcome_t o = {.stats = kr->stats, .missing_records = kr->missing_records};
    int status = rr_outcome_judge(&o, &kj->gates, kr->topic, kj->msg, sizeof kj->msg);
    if (status) kj->failed = o;
    return status;
}

/* A bounded run shared by a consumer group (pipeline/run_group.h) has been
 * judged pass by pass; its outcome: the status it returned, and the
 * empty-input gate over what the group's passes applied. */
static next_t group_outcome(run_t *r, const rr_kafka_run_t *kr, const kafka_judge_t *kj, int status,
                            const char *err)
{
    const rr_job_t *job = r->job;
    rr_outcome_t *oc = r->oc;
    r->gated = 1;
    if (status == 0 && kr->range_applied == 0 && !job->gates.allow_empty) {
        rr_log_first_error(r->errstr, r->errstr_size, "run",
                           "%s: empty input: no pass of group '%s' applied an event (its "
                           "partitions are marked done all the same: another --group runs "
                           "it again; --allow-empty accepts an empty run)",
                           r->inputs_label, job->group ? job->group : "replyrate");
        oc->status = 4;
        oc->reason = "empty_input"; /* as rr_outcome_judge's */
    } else if (status == 0) {
        if (kr->already_published) { /* this instance published nothing: no file is touched */
            rr_run_files_abort(&r->files);
            r->manifest_path = NULL;
        }
    } else if (kj->failed.status && status == kj->failed.status) { /* a pass's gate */
        rr_log_first_error(r->errstr, r->errstr_size, "run", "%s", kj->msg);
        oc->status = kj->failed.status;
        oc->reason = kj->failed.reason;
    } else if (status == 3) { /* records deleted, found while reading */
        rr_log_first_error(r->errstr, r->errstr_size, "run", "%s", err);
        oc->status = 3;
        oc->reason = "incomplete_input";
    } else if (!*r->stop) {
        rr_log_first_error(r->errstr, r->errstr_size, "run", "%s%s", err,
                           rr_kafka_sink_fenced(r->pub)
                               ? " (fenced: another instance runs with the same --instance)"
                               : "");
        rr_outcome_error(oc);
    }
    return NEXT_JUDGE; /* a signal, if any */
}

/* A bounded topic range: to its end, or a day range. */
static next_t read_kafka(run_t *r, int threads, int *status)
{
    const rr_job_t *job = r->job;
    rr_kafka_run_t kr = {.ko = job->kafka,
                         .topic = job->topic,
                         .group = job->group,
                         .cfg = job->cfg,
                         .tz = r->tz,
                         .fan = &r->fan,
                         .threads = threads,
                         .have_now = job->have_now,
                         .now_ms = job->now_ms,
                         .quiet = job->quiet,
                         .publish = r->pub};
    char label[64];
    if (job->from_ymd) {
        int64_t H = job->cfg->horizon_ms;
        kr.range_start_ms = rr_tz_day_start(r->tz, rr_yyyymmdd_to_day(job->from_ymd));
        kr.range_end_ms = rr_tz_day_end(r->tz, rr_yyyymmdd_to_day(job->to_ymd));
        kr.next_start_ms = rr_tz_day_start(r->tz, rr_yyyymmdd_to_day(job->to_ymd) + 1);
        kr.seek_ms = kr.range_start_ms - job->lookback_ms;
        kr.stop_ms = kr.range_end_ms + H;
        snprintf(label, sizeof label, "replyrate:%d..%d", (int)job->from_ymd, (int)job->to_ymd);
        kr.range_label = label;
        rr_fanout_set_range(&r->fan, job->from_ymd, job->to_ymd, &kr.range_bounds);
    }
    /* The gates judge the run before its transaction commits; the outcome
     * judges it again for the files, the same way. A group judges each
     * pass, whose partitions may hold nothing of a range: the empty-input
     * gate is the group's, once every partition is published. */
    kafka_judge_t kj = {.gates = job->gates};
    kj.gates.allow_empty |= job->instance != NULL;
    kr.allow_incomplete = job->gates.allow_incomplete;
    kr.stop = r->stop;
    kr.judge = kafka_judge;
    kr.judge_opaque = &kj;
    kr.live = job->live;
    char err[1024];
    *status = job->instance ? rr_run_kafka_group(&kr, err, sizeof err)
                            : rr_run_kafka(&kr, err, sizeof err);
    rr_fanout_set_range(&r->fan, job->from_ymd, job->to_ymd, NULL); /* no reader is left */
    free(kr.range_bounds);
    kr.range_bounds = NULL;
    r->oc->stats = kr.stats;
    r->oc->seconds = kr.seconds;
    r->oc->missing_records = kr.missing_records;
    for (size_t i = 0; i < kr.n_read; i++)
        if (rr_manifest_add_kafka_input(&r->man, job->topic, kr.read[i].partition, kr.read[i].from,
                                        kr.read[i].to) < 0)
            rr_outcome_error(r->oc);
    free(kr.read);
    if (*status == 2) { /* a client or engine configuration error: no run */
        rr_log_first_error(r->errstr, r->errstr_size, "run", "%s", err);
        return NEXT_END;
    }
    if (job->instance) return group_outcome(r, &kr, &kj, *status, err);
    if (*status == 3) { /* records deleted: named; the gate says the rest */
        rr_log_first_error(r->errstr, r->errstr_size, "run", "%s", err);
        if (!r->oc->missing_records) /* cannot be, but then nothing may be published */
            rr_outcome_error(r->oc);
    } else if (*status >= 4 && *status <= 5) {
        /* a gate stopped the commit; judging says which */
    } else if (*status && !*r->stop) {
        rr_log_first_error(r->errstr, r->errstr_size, "run", "%s", err);
        rr_outcome_error(r->oc);
    } else if (kr.already_published) {
        /* nothing to do (logged): no gate, and no file is touched */
        rr_run_files_abort(&r->files);
        r->manifest_path = NULL;
        return NEXT_PUBLISH;
    } else if (kr.engine_error[0]) {
        rr_log_first_error(r->errstr, r->errstr_size, "run", "%s", kr.engine_error);
        rr_outcome_error(r->oc);
    }
    return NEXT_JUDGE;
}

/* Unread input is never silent (io/source.h): every break is named, and
 * bytes known missing make the run incomplete (rule 3); then a signal, then
 * the gates. */
static void judge(run_t *r)
{
    const rr_job_t *job = r->job;
    rr_outcome_t *oc = r->oc;
    for (int i = 0; r->src && i < job->n_inputs; i++) {
        if (!r->src[i]) continue;
        rr_source_gaps_t g = rr_source_gaps(r->src[i]);
        if (!g.breaks && !g.unread_bytes) continue;
        rr_log(RR_LOG_WARN, "run", "%s", rr_source_notice(r->src[i]));
        oc->unread_bytes += g.unread_bytes;
        oc->skipped_bytes += g.skipped_bytes;
    }
    if (*r->stop) rr_outcome_stopped(oc, rr_stop_signal());
    if (oc->status == 0 && !r->gated) {
        char msg[1024];
        if (rr_outcome_judge(oc, &job->gates, r->inputs_label, msg, sizeof msg))
            rr_log_first_error(r->errstr, r->errstr_size, "run", "%s", msg);
    }
}

/* Everything the manifest says but its outputs. 0, or -1 out of memory. */
static int fill_manifest(run_t *r)
{
    const rr_job_t *job = r->job;
    const rr_outcome_t *oc = r->oc;
    rr_manifest_t *m = &r->man;
    int rc = rr_manifest_set_config(m, job->cfg);
    m->ended_ms = rr_now_ms();
    m->status = oc->status;
    m->input = oc->stats.input;
    m->applied = oc->stats.applied;
    m->duplicate = oc->stats.duplicate;
    m->late = oc->stats.late;
    m->invalid = oc->stats.invalid;
    m->unread_bytes = oc->unread_bytes;
    m->missing_records = oc->missing_records;
    m->allow_empty = job->gates.allow_empty;
    m->allow_incomplete = job->gates.allow_incomplete;
    m->max_invalid_ratio = job->gates.max_invalid_ratio;
    for (int i = 0; i < job->n_inputs; i++)
        if (rr_manifest_add_file_input(m, job->inputs[i], rr_source_bytes_in(r->src[i])) < 0)
            rc = -1;
    return rc < 0 ? -1 : 0;
}

/* Status 0: every file under its name, then the manifest (run_files.h). */
static void publish(run_t *r)
{
    char err[1024];
    if (r->oc->status != 0) return;
    /* a signal from here on is too late to stop it (the renames take
     * microseconds; cutting them short would publish part of the run) */
    rr_stop_hold(1);
    rr_manifest_t *m = NULL;
    if (r->manifest_path) {
        m = &r->man;
        if (fill_manifest(r) < 0) {
            rr_log_first_error(r->errstr, r->errstr_size, "run",
                               "out of memory writing the manifest");
            rr_outcome_error(r->oc);
        }
    }
    if (r->oc->status == 0 &&
        rr_run_files_publish(&r->files, m, r->manifest_path, err, sizeof err) < 0) {
        rr_log_first_error(r->errstr, r->errstr_size, "run", "%s", err);
        rr_outcome_error(r->oc);
    }
}

int rr_job_run(const rr_job_t *job, rr_job_result_t *res, char *errstr, size_t errstr_size)
{
    *res = (rr_job_result_t){0};
    errstr[0] = 0;
    run_t r = {.job = job,
               .oc = &res->outcome,
               .errstr = errstr,
               .errstr_size = errstr_size,
               .manifest_path = job->manifest_path};
    rr_fanout_init(&r.fan);
    rr_manifest_init(&r.man, job->version ? job->version : "", rr_now_ms());
    describe_inputs(job, r.inputs_label, sizeof r.inputs_label);
    rr_job_mode_t mode = rr_job_mode(job);
    int threads = resolve_threads(job);
    int status = 1;
    next_t next = NEXT_JUDGE;
    char err[512];

    /* SIGINT/SIGTERM from here on: a bounded run stops and publishes nothing
     * (a second signal exits at once), a stream commits and returns. */
    rr_stop_install(mode == RR_JOB_STREAM ? RR_STOP_FLAG : RR_STOP_GRACEFUL,
                    rr_tmpfile_discard_all_signal_safe);
    r.stop = rr_stop_flag();

    if (job->n_inputs && !(r.src = calloc((size_t)job->n_inputs, sizeof *r.src))) {
        rr_log_first_error(r.errstr, r.errstr_size, "run", "out of memory");
        rr_outcome_error(r.oc);
        goto judge;
    }
    if (rr_tz_load(job->cfg->timezone, &r.tz, err, sizeof err) < 0) {
        rr_log_first_error(r.errstr, r.errstr_size, "run", "%s", err);
        status = 2;
        goto end;
    }
    if (open_files(&r) < 0) { /* named in errstr, before or at the start of reading */
        rr_outcome_error(r.oc);
        goto judge;
    }
    if (job->topic && rr_config_validate(job->cfg, err, sizeof err) < 0) {
        rr_log_first_error(r.errstr, r.errstr_size, "run", "config: %s", err);
        status = 2;
        goto end;
    }
    if (job->topic && job->publish && open_publish(&r, mode == RR_JOB_STREAM) < 0) {
        rr_outcome_error(r.oc);
        goto judge;
    }
    switch (mode) {
    case RR_JOB_FILES:
    case RR_JOB_SHARDS:
        next = read_files(&r, threads, &status);
        break;
    case RR_JOB_KAFKA:
        next = read_kafka(&r, threads, &status);
        break;
    case RR_JOB_STREAM:
        next = read_stream(&r, threads, &status);
        break;
    }
    if (next == NEXT_END) goto end;
judge:
    if (next == NEXT_JUDGE) judge(&r);
    publish(&r);
    res->summary = 1;
    status = res->outcome.status;

end:
    for (int i = 0; r.src && i < job->n_inputs; i++)
        if (r.src[i]) rr_source_close(r.src[i]);
    free(r.src);
    rr_run_files_abort(&r.files); /* whatever was not published */
    rr_kafka_sink_close(r.pub);   /* aborts what was not committed */
    rr_tz_free(r.tz);
    rr_manifest_free(&r.man);
    /* the outcome is decided: a signal from here on must not turn a
     * published run into 128+N (ops/stop.h) */
    rr_stop_settle();
    if (job->live) /* also when it stopped before reading */
        rr_kafka_live_over(job->live);
    return status;
}
