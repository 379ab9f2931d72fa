/* pipeline/run_kafka.c: a bounded run over a Kafka topic (see run_kafka.h). */
#include "pipeline/run_kafka.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "ops/log.h"
#include "ops/progress.h"
#include "pipeline/shards.h"
#include "pipeline/watch.h"

#define BATCH 4096
#define WAIT_MS 200
#define QUIET_S 10 /* seconds without a message before asking whether the topic is there */

typedef struct part_state {
    int64_t start, end; /* offsets captured at start: read [start, end); a live
                         * topic's end is INT64_MAX until its writer gives it */
    int64_t next;       /* the offset after the last one fed */
    int64_t eof;        /* where the last end-of-partition event was, or -1 */
    int shard;          /* the shard that reads it */
    int eng_part;       /* its partition in that shard's engine */
    int done;
    int refetches; /* times its next offset was reported gone while the log held it */
    int skip;      /* not the pass's (r->pass): neither read nor committed */
} part_state_t;

typedef struct krun krun_t;

typedef struct kshard {
    krun_t *k;
    int idx;
    rr_engine_t *eng;
    rd_kafka_queue_t *q; /* its partitions' messages (one shard: the consumer's queue) */
    int *global;         /* engine partition j is Kafka partition global[j] */
    int n;
    int remaining; /* partitions not yet read to their end */
    int have_ends; /* a live topic's: its partitions' ends are in ps */
    rr_fanout_port_t port;
    rd_kafka_message_t **msgs;
    rr_record_t *recs;
    int progress; /* print progress lines: the only shard, on the calling thread */
    double last_warn;
    char err[512]; /* non-empty: this shard failed */
    rr_shard_progress_t *prog;
    rr_watch_t watch;
    pthread_t thread;
} kshard_t;

struct krun {
    rr_kafka_run_t *r;
    rd_kafka_t *rk;
    part_state_t *ps;
    int np;
    double t0;
    rd_kafka_queue_t *cq;     /* the consumer's queue, which the calling thread serves */
    rd_kafka_queue_t **pq;    /* shards: each partition's queue, forwarded to its shard's */
    atomic_int stop;          /* something failed: every shard stops early */
    atomic_int incomplete;    /* ... because records the run needs are gone (status 3) */
    char why_incomplete[512]; /* the first partition found lacking, by whoever set incomplete */
    _Atomic uint64_t missing; /* offsets known deleted before they were read */
    rr_progress_t meter;      /* the calling thread's: of the offsets to read */
};

/* A signal asked the run to stop: its number, or 0. */
static int signalled(const krun_t *k)
{
    return k->r->stop ? (int)*k->r->stop : 0;
}

/* A pass in a group (r->pass): serve the member's queue, where its
 * rebalance callback runs, and stop the pass if one of its partitions was
 * revoked. The calling thread only. */
static void serve_member(krun_t *k)
{
    rr_kafka_pass_t *pass = k->r->pass;
    if (!pass || !pass->member) return;
    rd_kafka_message_t *m = rd_kafka_consumer_poll(pass->member, 0);
    if (m) /* its partitions are paused at their ends: an error, if anything */
        rd_kafka_message_destroy(m);
    if (atomic_load(pass->revoked) && !pass->abandoned) {
        pass->abandoned = 1;
        atomic_store(&k->stop, 1);
    }
}

/* The partition has been read to its end offset (input_ended), or past its
 * range's end: it stops holding the watermark back, and is paused so no
 * more is fetched. At a range's end the jumps it holds stay unjudged: they
 * belong to a later range (SPEC §7). */
static void finish_partition(kshard_t *s, int32_t p, int input_ended)
{
    part_state_t *ps = &s->k->ps[p];
    if (ps->done) return;
    ps->done = 1;
    s->remaining--;
    if (input_ended)
        rr_engine_partition_end(s->eng, ps->eng_part);
    else
        rr_engine_partition_stop(s->eng, ps->eng_part);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, s->k->r->topic, p);
    rd_kafka_pause_partitions(s->k->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
}

/* The offsets of its partitions' ranges the shard has read, for progress. */
static uint64_t shard_work(const kshard_t *s)
{
    uint64_t w = 0;
    for (int j = 0; j < s->n; j++) {
        const part_state_t *ps = &s->k->ps[s->global[j]];
        int64_t at = ps->done && ps->end != INT64_MAX ? ps->end : ps->next;
        w += at > ps->start ? (uint64_t)(at - ps->start) : 0;
    }
    return w;
}

/* Offer msgs[0..n) (one partition's consecutive messages) to the engine; a
 * day range's only up to the message that takes the partition's watermark
 * past the range (its end + H), wherever the fetches cut the partition, so
 * that a partition's records and stop offset depend on it alone. Returns
 * how many were offered. */
static size_t feed_run(kshard_t *s, rd_kafka_message_t **msgs, size_t n)
{
    const rr_kafka_run_t *r = s->k->r;
    part_state_t *ps = &s->k->ps[msgs[0]->partition];
    int64_t now = r->have_now ? r->now_ms : rr_now_ms();
    if (r->range_end_ms > 0)
        n = rr_kafka_feed_until(s->eng, ps->eng_part, msgs, n, s->recs, now, r->stop_ms,
                                r->cfg->lateness_ms);
    else
        rr_kafka_feed(s->eng, ps->eng_part, msgs, n, s->recs, now);
    ps->next = msgs[n - 1]->offset + 1;
    if (r->live) rr_kafka_live_read(r->live, msgs[0]->partition, ps->next);
    return n;
}

/* A message that carries a client error rather than a record: a fatal one
 * stops the run (-1, with err); any other is transient (the client
 * retries), warned about now and then. */
static int client_error(krun_t *k, const rd_kafka_message_t *m, double *last_warn, char *err,
                        size_t n)
{
    char fatal[256];
    if (rd_kafka_fatal_error(k->rk, fatal, sizeof fatal)) {
        snprintf(err, n, "%s: %s", k->r->topic, fatal);
        return -1;
    }
    if (!k->r->quiet && rr_mono_s() - *last_warn > 5) {
        rr_log(RR_LOG_WARN, "run", "%s: %s (waiting)", k->r->topic, rd_kafka_message_errstr(m));
        *last_warn = rr_mono_s();
    }
    return 0;
}

/* Records [from, upto) of partition p are known deleted: counted; with
 * --allow-incomplete said in a warning and 0, else -1 with 3's message in err
 * (unless NULL), and in k->why_incomplete if it is the run's first. */
static int missing(krun_t *k, int32_t p, int64_t from, int64_t upto, const char *why, char *err,
                   size_t n)
{
    const rr_kafka_run_t *r = k->r;
    atomic_fetch_add(&k->missing, (uint64_t)(upto - from));
    rr_fanout_gap(r->fan);
    if (r->allow_incomplete) {
        rr_log(RR_LOG_WARN, "run",
               "%s[%d]: offsets %lld..%lld %s: %lld records missing "
               "(--allow-incomplete: going on without them)",
               r->topic, (int)p, (long long)from, (long long)(upto - 1), why,
               (long long)(upto - from));
        return 0;
    }
    char own[512];
    if (!err) { /* a later partition of the same finding: counted, not named */
        err = own;
        n = sizeof own;
    }
    snprintf(err, n,
             "incomplete input: %s[%d]: offsets %lld..%lld %s: %lld records missing "
             "(--allow-incomplete runs without them)",
             r->topic, (int)p, (long long)from, (long long)(upto - 1), why,
             (long long)(upto - from));
    if (!atomic_exchange(&k->incomplete, 1))
        snprintf(k->why_incomplete, sizeof k->why_incomplete, "%s", err);
    return -1;
}

/* Fetch partition p (of shard s) again from offset: after rr_kafka_is_reset
 * librdkafka fetches it no more until it is assigned anew. Unassigning it
 * also undoes the forwarding of its queue to the shard's (librdkafka 2.0:
 * stopping a fetch clears it, and starting one leaves a queue forwarded by
 * the application alone): forwarded again once assigned, when the stop has
 * been served (both go through librdkafka's main thread in order). */
static int refetch(kshard_t *s, int32_t p, int64_t offset, char *err, size_t n)
{
    krun_t *k = s->k;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, k->r->topic, p)->offset = offset;
    rd_kafka_error_t *e = rd_kafka_incremental_unassign(k->rk, l);
    if (!e) e = rd_kafka_incremental_assign(k->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (e) {
        snprintf(err, n, "%s[%d]: cannot fetch again from offset %lld: %s", k->r->topic, (int)p,
                 (long long)offset, rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        return -1;
    }
    if (k->pq && k->pq[p]) rd_kafka_queue_forward(k->pq[p], s->q);
    return 0;
}

/* Partition p's next offset is gone (rr_kafka_is_reset): its log start
 * offset, asked now, says whether records were deleted under the run and
 * how many. Then: status 3 (-1 with s->err, k->incomplete set), or with
 * --allow-incomplete on from the log start. An offset that is not below the
 * log start (a leader's log truncated and grown again) is fetched again. 0,
 * or -1 with s->err. */
static int offset_gone(kshard_t *s, const rd_kafka_message_t *m)
{
    krun_t *k = s->k;
    int32_t p = m->partition;
    part_state_t *ps = &k->ps[p];
    /* where the consumer was: the offset reported, or past the last record fed */
    int64_t at = m->offset > ps->next ? m->offset : ps->next, lo, hi;
    if (rr_kafka_log_bounds(k->rk, k->r->topic, p, &lo, &hi, s->err, sizeof s->err) < 0) return -1;
    char why[160];
    int64_t upto;
    if (hi < at && ps->end == INT64_MAX) { /* a live topic's, whose end nobody knows */
        snprintf(s->err, sizeof s->err,
                 "%s[%d]: its log now ends at offset %lld, before offset "
                 "%lld it had: the topic was deleted and created again, or truncated, while it "
                 "was written",
                 k->r->topic, (int)p, (long long)hi, (long long)at);
        return -1;
    }
    if (hi < at) { /* the log now ends before: the topic was recreated, or truncated */
        snprintf(why, sizeof why,
                 "are gone (its log now ends at offset %lld: the topic was "
                 "deleted and created again, or truncated)",
                 (long long)hi);
        upto = ps->end;
    } else if (lo > at) {
        snprintf(why, sizeof why,
                 "were deleted during the run (retention or DeleteRecords; its "
                 "log start offset is now %lld)",
                 (long long)lo);
        upto = lo < ps->end ? lo : ps->end;
    } else {
        if (++ps->refetches > 10) {
            snprintf(s->err, sizeof s->err,
                     "%s[%d]: offset %lld reported gone %d times, but the "
                     "log holds %lld..%lld: %s",
                     k->r->topic, (int)p, (long long)at, ps->refetches, (long long)lo,
                     (long long)hi, rd_kafka_message_errstr(m));
            return -1;
        }
        return refetch(s, p, at, s->err, sizeof s->err);
    }
    if (missing(k, p, at, upto, why, s->err, sizeof s->err) < 0) return -1;
    ps->next = upto;
    if (upto >= ps->end) {
        finish_partition(s, p, 1);
        return 0;
    }
    return refetch(s, p, upto, s->err, sizeof s->err);
}

/* Records deleted before the run began: below a partition's log start
 * offset lo[p]. Read to the end, every one is missing. Over a day range
 * only when the partition's oldest record left is at or after the lookback
 * start (the range's first offset is its log start: offsets_for_times found
 * nothing older), since otherwise all that was deleted is older than what
 * the range reads; the count is then every deleted offset, an upper bound.
 * 0 when the run goes on; 3 with r->errstr naming the first partition. */
static int check_log_start(krun_t *k, const int64_t *lo)
{
    rr_kafka_run_t *r = k->r;
    char why[200], msg[512];
    int lacking = 0;
    if (r->range_end_ms > 0) {
        char at[40];
        snprintf(why, sizeof why,
                 "were deleted before the run, and its oldest record left is at "
                 "or after the lookback start %s",
                 rr_utc(r->seek_ms, at, sizeof at));
    } else {
        snprintf(why, sizeof why, "were deleted before the run (retention or DeleteRecords)");
    }
    for (int32_t p = 0; p < k->np; p++) {
        if (k->ps[p].skip || lo[p] <= 0 || (r->range_end_ms > 0 && k->ps[p].start != lo[p]))
            continue;
        if (missing(k, p, 0, lo[p], why, msg, sizeof msg) < 0) lacking++;
    }
    if (!lacking) return 0;
    if (lacking > 1)
        snprintf(r->errstr, r->errstr_size, "%.440s; %d partitions lack records, %llu in all",
                 k->why_incomplete, lacking, (unsigned long long)atomic_load(&k->missing));
    else
        snprintf(r->errstr, r->errstr_size, "%s", k->why_incomplete);
    return 3;
}

/* Feed one consumed batch to the shard's engine, a partition's run of
 * consecutive messages at a time. 0, or -1 with s->err (a fatal error). */
static int feed_batch(kshard_t *s, rd_kafka_message_t **msgs, ssize_t n)
{
    krun_t *k = s->k;
    const rr_kafka_run_t *r = k->r;
    part_state_t *ps = k->ps;
    size_t run_start = 0, run_n = 0;
    for (ssize_t i = 0; i <= n; i++) {
        rd_kafka_message_t *m = i < n ? msgs[i] : NULL;
        int mine =
            m && m->partition >= 0 && m->partition < k->np && ps[m->partition].shard == s->idx;
        int usable = mine && !m->err && !ps[m->partition].done && m->offset < ps[m->partition].end;
        /* flush the run of one partition's messages before anything else */
        if (run_n && (!usable || m->partition != msgs[run_start]->partition)) {
            int32_t p = msgs[run_start]->partition;
            size_t fed = feed_run(s, msgs + run_start, run_n);
            if (fed == run_n && msgs[run_start + run_n - 1]->offset >= ps[p].end - 1)
                finish_partition(s, p, 1); /* read to its end */
            else if (r->range_end_ms > 0 &&
                     rr_engine_partition_watermark(s->eng, ps[p].eng_part) > r->stop_ms)
                finish_partition(s, p, 0); /* past the range */
            run_n = 0;
        }
        if (!m) break;
        if (usable) {
            if (!run_n) run_start = (size_t)i;
            run_n++;
        } else if (!m->err || m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            /* past the end captured at start (or a partition not this shard's) */
            if (mine && m->offset >= ps[m->partition].end)
                finish_partition(s, m->partition, 1);
            else if (mine && m->err) /* a live topic's end may come later */
                ps[m->partition].eof = m->offset;
        } else if (mine && rr_kafka_is_reset(m)) {
            if (!ps[m->partition].done && offset_gone(s, m) < 0) return -1;
        } else if (client_error(k, m, &s->last_warn, s->err, sizeof s->err) < 0) {
            return -1;
        }
    }
    return 0;
}

/* Nothing came for QUIET_S seconds although partitions are left: was the
 * topic deleted under the run? librdkafka only logs that ("desired partition
 * is no longer available") and waits for it to come back. If the cluster no
 * longer has the topic (or the partition), what was not read yet is gone:
 * status 3 (-1 with s->err), or with --allow-incomplete the partitions end
 * there. 0 when the run goes on. */
static int topic_gone(kshard_t *s)
{
    krun_t *k = s->k;
    int np = rr_kafka_partition_count(k->rk, k->r->topic, 10000, s->err, sizeof s->err);
    if (np < 0) { /* the cluster cannot be asked: the client's own errors say why */
        s->err[0] = 0;
        return 0;
    }
    int rc = 0;
    for (int j = 0; j < s->n; j++) { /* every partition gone is counted */
        int32_t p = s->global[j];
        part_state_t *ps = &s->k->ps[p];
        if (ps->done || p < np) continue;
        if (ps->end == INT64_MAX) { /* a live topic's, whose end nobody knows */
            snprintf(s->err, sizeof s->err, "%s[%d]: the topic was deleted while it was written",
                     k->r->topic, (int)p);
            return -1;
        }
        if (missing(k, p, ps->next, ps->end, "are gone: the topic was deleted during the run",
                    rc ? NULL : s->err, sizeof s->err) < 0)
            rc = -1;
        ps->next = ps->end;
        finish_partition(s, p, 1);
    }
    return rc;
}

/* A live topic (pipeline/kafka_live.h): once its writer has given the ends,
 * each of the shard's partitions is read to its own; one read there
 * already (its last record fed, or its end reported: nothing more will
 * come) finishes now. 0, or -1 with s->err when the writer failed. */
static int take_ends(kshard_t *s)
{
    krun_t *k = s->k;
    rr_kafka_live_state_t st = rr_kafka_live_state(k->r->live);
    if (st == RR_KAFKA_LIVE_WRITING) return 0;
    if (st == RR_KAFKA_LIVE_FAILED) {
        snprintf(s->err, sizeof s->err, "%s: its writer stopped before the end", k->r->topic);
        return -1;
    }
    s->have_ends = 1;
    for (int j = 0; j < s->n; j++) {
        part_state_t *ps = &k->ps[s->global[j]];
        ps->end = rr_kafka_live_end_of(k->r->live, s->global[j]);
        if (!ps->done && (ps->next >= ps->end || ps->eof >= ps->end))
            finish_partition(s, s->global[j], 1);
    }
    return 0;
}

/* The telemetry's consumer lag of the shard's partitions: what is left
 * before the end offsets captured at start. */
static void watch_lag(kshard_t *s)
{
    for (int j = 0; j < s->n; j++) {
        const part_state_t *ps = &s->k->ps[s->global[j]];
        if (ps->end == INT64_MAX) continue; /* a live topic's end, not given yet */
        char name[300];
        snprintf(name, sizeof name, "%s[%d]", s->k->r->topic, s->global[j]);
        rr_tm_partition_lag(name,
                            ps->done ? 0 : ps->end - (ps->next > ps->start ? ps->next : ps->start));
    }
}

/* A shard's loop: consume its queue until each of its partitions has been
 * read to its end, then finish its engine. 0, or -1 with s->err; returns
 * early, 0, when the run stops. A live topic's ends are looked for between
 * batches, idle or not: no message says the writer gave them. */
static int shard_consume(kshard_t *s)
{
    krun_t *k = s->k;
    double quiet_since = rr_mono_s();
    while (s->remaining && !atomic_load(&k->stop) && !signalled(k)) {
        if (k->r->live && !s->have_ends) {
            if (take_ends(s) < 0) return -1;
            if (!s->remaining) break;
        }
        ssize_t n = rd_kafka_consume_batch_queue(s->q, WAIT_MS, s->msgs, BATCH);
        if (n < 0) {
            snprintf(s->err, sizeof s->err, "%s: consume: %s", k->r->topic,
                     rd_kafka_err2str(rd_kafka_last_error()));
            return -1;
        }
        if (n > 0) {
            quiet_since = rr_mono_s();
        } else if (rr_mono_s() - quiet_since > QUIET_S) {
            quiet_since = rr_mono_s();
            if (topic_gone(s) < 0) return -1;
            continue;
        }
        int rc = feed_batch(s, s->msgs, n);
        for (ssize_t i = 0; i < n; i++)
            rd_kafka_message_destroy(s->msgs[i]);
        if (rc < 0) return -1;
        rr_shard_progress_note(s->prog, s->eng, shard_work(s));
        if (rr_watch_engine(&s->watch, s->eng, NULL, 0)) watch_lag(s);
        if (s->progress) { /* the only shard, on the calling thread */
            rr_shard_progress_poll(s->prog, 1, &k->meter);
            serve_member(k);
        }
    }
    if (!s->remaining) rr_engine_finish(s->eng);
    rr_watch_engine(&s->watch, s->eng, NULL, 1);
    watch_lag(s);
    return 0;
}

static void *shard_main(void *arg)
{
    kshard_t *s = arg;
    if (shard_consume(s) < 0) atomic_store(&s->k->stop, 1);
    atomic_store(&s->prog->done, 1);
    rd_kafka_queue_yield(s->k->cq); /* the calling thread need not wait out its poll */
    return NULL;
}

/* With shards on threads of their own, the calling thread serves the
 * consumer's queue, where client errors that belong to no partition
 * arrive, and prints progress lines, until every shard is done. 0, or -1
 * with err after a fatal error (the shards are stopped, and waited for). */
static int serve_consumer(krun_t *k, const rr_shard_progress_t *prog, int n,
                          rd_kafka_message_t **msgs, char *err, size_t errn)
{
    int rc = 0;
    double last_warn = 0;
    for (;;) {
        if (rr_shard_progress_poll(prog, n, &k->meter) == n) return rc;
        serve_member(k);
        ssize_t got = rd_kafka_consume_batch_queue(k->cq, 100, msgs, BATCH);
        for (ssize_t i = 0; i < got; i++) {
            const rd_kafka_message_t *m = msgs[i];
            if (rc == 0 && !m->err) { /* every assigned partition goes to a shard's queue */
                snprintf(err, errn, "%s[%d]: a record reached the consumer's own queue",
                         k->r->topic, (int)m->partition);
                rc = -1;
            } else if (rc == 0 && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF &&
                       client_error(k, m, &last_warn, err, errn) < 0) {
                rc = -1;
            }
            rd_kafka_message_destroy(msgs[i]);
        }
        if (got < 0 && rc == 0) {
            snprintf(err, errn, "%s: consume: %s", k->r->topic,
                     rd_kafka_err2str(rd_kafka_last_error()));
            rc = -1;
        }
        if (rc < 0) atomic_store(&k->stop, 1);
    }
}

/* Offsets of the first records at or after ts_ms (by Kafka timestamp), into
 * out[0..np); a partition with none gets its end. 0, or -1 with r->errstr. */
static int offsets_for_time(rd_kafka_t *rk, rr_kafka_run_t *r, const part_state_t *ps, int np,
                            int64_t ts_ms, int64_t *out)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(np);
    for (int32_t p = 0; p < np; p++)
        rd_kafka_topic_partition_list_add(l, r->topic, p)->offset = ts_ms;
    rd_kafka_resp_err_t e = rd_kafka_offsets_for_times(rk, l, 10000);
    for (int i = 0; !e && i < l->cnt; i++) {
        int32_t p = l->elems[i].partition;
        if (l->elems[i].err)
            e = l->elems[i].err;
        else /* -1: no record that late; and never outside what exists */
            out[p] = l->elems[i].offset < 0 || l->elems[i].offset > ps[p].end ? ps[p].end
                     : l->elems[i].offset < ps[p].start                       ? ps[p].start
                                                                              : l->elems[i].offset;
    }
    rd_kafka_topic_partition_list_destroy(l);
    if (e)
        snprintf(r->errstr, r->errstr_size, "%s: offsets for time %lld: %s", r->topic,
                 (long long)ts_ms, rd_kafka_err2str(e));
    return e ? -1 : 0;
}

/* The group's offsets where each partition stopped, for the results'
 * transaction, with the run's label as their metadata: a day range's at its
 * stop (every partition), a run to the end at its end offsets (partitions
 * with records). A pass's: every partition of it, the first label with
 * the pass's applied count. NULL when out of memory. */
static rd_kafka_topic_partition_list_t *commit_offsets(krun_t *k)
{
    const rr_kafka_run_t *r = k->r;
    const char *label = r->pass          ? r->pass->label
                        : r->range_label ? r->range_label
                                         : RR_KAFKA_UNTIL_END_LABEL;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(k->np);
    int first = 1;
    for (int32_t p = 0; p < k->np; p++) {
        const part_state_t *ps = &k->ps[p];
        if (ps->skip || (ps->end <= ps->start && !r->range_label && !r->pass)) continue;
        rd_kafka_topic_partition_t *t = rd_kafka_topic_partition_list_add(l, r->topic, p);
        t->offset = r->range_label ? ps->next : ps->end;
        char md[300];
        if (r->pass && first)
            snprintf(md, sizeof md, "%s;applied=%llu", label, (unsigned long long)r->stats.applied);
        else
            snprintf(md, sizeof md, "%s", label);
        first = 0;
        t->metadata = strdup(md); /* freed with the list */
        if (!t->metadata) {
            rd_kafka_topic_partition_list_destroy(l);
            return NULL;
        }
        t->metadata_size = strlen(md);
    }
    return l;
}

/* A commit refused because the consumer group has moved on since the pass
 * began: this instance is no longer the owner it was (a new generation),
 * or no longer a member. Another instance publishes those partitions. */
static int group_moved_on(rd_kafka_resp_err_t e)
{
    return e == RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION || e == RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID ||
           e == RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID ||
           e == RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS;
}

int rr_kafka_label_match(const char *md, size_t n, const char *label, int64_t *applied)
{
    size_t ll = strlen(label);
    if (n < ll || memcmp(md, label, ll)) return 0;
    if (n == ll) return 1;
    static const char key[] = ";applied=";
    size_t kl = sizeof key - 1;
    if (n <= ll + kl || memcmp(md + ll, key, kl)) return 0;
    int64_t v = 0;
    for (size_t i = ll + kl; i < n; i++) {
        if (md[i] < '0' || md[i] > '9' || v > (INT64_MAX - 9) / 10) return 0;
        v = v * 10 + (md[i] - '0');
    }
    if (applied) *applied = v;
    return 1;
}

/* Deal the partitions that hold records to at most r->threads shards
 * (partition order, round-robin; the empty ones to shard 0) and make each
 * shard's engine, its partitions added in partition order. 0, or -1 with
 * r->errstr (status 2 for a rejected config in *status). */
static int make_shards(krun_t *k, kshard_t *sh, rr_shard_progress_t *prog, int nsh,
                       pthread_mutex_t *mu, int *status)
{
    rr_kafka_run_t *r = k->r;
    for (int32_t p = 0, i = 0; p < k->np; p++)
        k->ps[p].shard = k->ps[p].skip ? -1 : k->ps[p].start < k->ps[p].end ? i++ % nsh : 0;
    for (int j = 0; j < nsh; j++) {
        kshard_t *s = &sh[j];
        s->k = k;
        s->idx = j;
        s->prog = &prog[j];
        s->global = malloc((size_t)k->np * sizeof *s->global);
        s->msgs = malloc(BATCH * sizeof *s->msgs);
        s->recs = malloc(BATCH * sizeof *s->recs);
        if (!s->global || !s->msgs || !s->recs) {
            snprintf(r->errstr, r->errstr_size, "out of memory");
            return -1;
        }
        s->port = (rr_fanout_port_t){.fan = r->fan, .mu = mu, .global = s->global, .fixed = -1};
        rr_sink_t sink = rr_fanout_port_sink(&s->port);
        char err[256];
        if (rr_engine_new(r->cfg, r->tz, &sink, &s->eng, err, sizeof err) < 0) {
            snprintf(r->errstr, r->errstr_size, "config: %s", err);
            *status = 2;
            return -1;
        }
        /* Every partition joins its engine before any event: the engine's
         * watermark waits for all of them (SPEC §5). */
        for (int32_t p = 0; p < k->np; p++) {
            if (k->ps[p].shard != j) continue;
            char name[300];
            snprintf(name, sizeof name, "%s[%d]", r->topic, p);
            k->ps[p].eng_part = rr_engine_add_partition(s->eng, name);
            if (k->ps[p].eng_part < 0) {
                snprintf(r->errstr, r->errstr_size, "out of memory");
                return -1;
            }
            s->global[s->n++] = p;
            s->remaining++;
        }
    }
    return 0;
}

int rr_run_kafka(rr_kafka_run_t *r, char *errstr, size_t errstr_size)
{
    errstr[0] = 0;
    r->errstr = errstr;
    r->errstr_size = errstr_size;
    krun_t k = {.r = r, .t0 = rr_mono_s()};
    memset(&r->stats, 0, sizeof r->stats);
    r->engine_error[0] = 0;
    rd_kafka_t *rk = k.rk =
        rr_kafka_reader_new(r->ko, r->group ? r->group : "replyrate", r->errstr, r->errstr_size);
    if (!rk) {
        if (r->live) rr_kafka_live_over(r->live);
        return 2;
    }
    int status = 1, nsh = 0, started = 0, ranged = 0;
    kshard_t *sh = NULL;
    rr_shard_progress_t *prog = NULL;
    part_state_t *ps = NULL;
    rd_kafka_message_t **msgs = NULL;
    rd_kafka_topic_partition_list_t *assign = NULL;
    rd_kafka_queue_t *q = NULL;
    rd_kafka_queue_t **pq = NULL; /* partition queues forwarded to their shard's */
    int64_t *lo_hi = NULL;
    pthread_mutex_t mu;
    pthread_mutex_init(&mu, NULL);

    int np = k.np = rr_kafka_partition_count(rk, r->topic, 10000, r->errstr, r->errstr_size);
    if (np == 0) snprintf(r->errstr, r->errstr_size, "topic '%s' does not exist", r->topic);
    if (np <= 0) goto out;
    if (r->live && (r->range_end_ms > 0 || rr_kafka_live_partitions(r->live) != np)) {
        if (r->range_end_ms > 0) status = 2;
        snprintf(r->errstr, r->errstr_size, "%s: %s", r->topic,
                 r->range_end_ms > 0 ? "a topic still being written is read to its end, not by day"
                                     : "its writer writes another number of partitions");
        goto out;
    }
    ps = k.ps = calloc((size_t)np, sizeof *ps);
    pq = k.pq = calloc((size_t)np, sizeof *pq);
    msgs = malloc(BATCH * sizeof *msgs);
    assign = rd_kafka_topic_partition_list_new(np);
    lo_hi = malloc(2 * (size_t)np * sizeof *lo_hi);
    if (!ps || !pq || !msgs || !assign || !lo_hi) {
        snprintf(r->errstr, r->errstr_size, "out of memory");
        goto out;
    }
    if (rr_kafka_watermarks(r->ko, r->topic, np, lo_hi, lo_hi + np, r->errstr, r->errstr_size) < 0)
        goto out;
    int readable = 0;
    for (int32_t p = 0; p < np; p++) {
        ps[p].start = lo_hi[p];
        ps[p].end = r->live ? INT64_MAX : lo_hi[np + p]; /* a live topic's: given later */
        ps[p].eof = -1;
        ps[p].skip = ps[p].done = r->pass && (p >= r->pass->np || !r->pass->in[p]);
        if (ps[p].start < ps[p].end && !ps[p].skip) {
            rd_kafka_topic_partition_list_add(assign, r->topic, p)->offset = ps[p].start;
            readable++;
        }
    }
    nsh = r->threads < 1 ? 1 : r->threads;
    if (nsh > readable) nsh = readable > 0 ? readable : 1;
    sh = calloc((size_t)nsh, sizeof *sh);
    prog = calloc((size_t)nsh, sizeof *prog);
    if (!sh || !prog) {
        snprintf(r->errstr, r->errstr_size, "out of memory");
        goto out;
    }
    if (make_shards(&k, sh, prog, nsh, &mu, &status) < 0) goto out;
    if (r->range_end_ms > 0) {
        /* a day range: start at the lookback, and note where the range proper
         * starts and where the next one starts in each partition (rejected
         * records before the first are the previous range's to publish, from
         * the second on the next range's) */
        int64_t *seek = malloc(3 * (size_t)np * sizeof *seek), *first = seek + np,
                *next = seek + 2 * np;
        r->range_bounds = malloc((size_t)np * sizeof *r->range_bounds);
        if (!seek || !r->range_bounds) {
            free(seek);
            snprintf(r->errstr, r->errstr_size, "out of memory");
            goto out;
        }
        int rc = offsets_for_time(rk, r, ps, np, r->seek_ms, seek);
        if (!rc) rc = offsets_for_time(rk, r, ps, np, r->range_start_ms, first);
        if (!rc) rc = offsets_for_time(rk, r, ps, np, r->next_start_ms, next);
        for (int32_t p = 0; !rc && p < np; p++)
            r->range_bounds[p] = (rr_range_bounds_t){.first = first[p], .next = next[p]};
        for (int i = 0; !rc && i < assign->cnt; i++) {
            int32_t p = assign->elems[i].partition;
            assign->elems[i].offset = ps[p].start = seek[p];
            /* offsets_for_times finds the first record stamped at or after
             * seek_ms: one stamped far ahead (a producer's clock, an invalid
             * event's time) can be that record; it must not become the
             * partition's time */
            rr_engine_partition_expect(sh[ps[p].shard].eng, ps[p].eng_part, r->seek_ms);
        }
        free(seek);
        if (rc) goto out;
    }
    for (int32_t p = 0; p < np; p++) {
        ps[p].next = ps[p].start;
        if (r->live) rr_kafka_live_read(r->live, p, ps[p].next);
    }
    ranged = 1;
    if (r->publish && assign->cnt && !r->live && !r->pass) {
        /* Published before? The group's offsets commit in the results'
         * transaction, so offsets at every end mean an earlier run (perhaps
         * killed between its commit and its exit) published exactly this:
         * doing it again would publish every record twice. */
        rd_kafka_topic_partition_list_t *done = rd_kafka_topic_partition_list_copy(assign);
        rd_kafka_resp_err_t e = rr_kafka_committed(rk, done, 60000);
        int all = !e;
        for (int i = 0; all && i < done->cnt; i++) {
            const rd_kafka_topic_partition_t *c = &done->elems[i];
            if (r->range_label) /* this range's run committed (its stop offsets vary) */
                all = !c->err && c->metadata &&
                      rr_kafka_label_match(c->metadata, c->metadata_size, r->range_label, NULL);
            else
                all = !c->err && c->offset >= ps[c->partition].end;
        }
        rd_kafka_topic_partition_list_destroy(done);
        if (e) {
            snprintf(r->errstr, r->errstr_size, "%s: cannot read the group's committed offsets: %s",
                     r->topic, rd_kafka_err2str(e));
            goto out;
        }
        if (all) {
            rr_log(RR_LOG_INFO, "run",
                   "%s: group '%s' has committed %s: already published, nothing to "
                   "do (another --group publishes again)",
                   r->topic, r->group ? r->group : "replyrate",
                   r->range_label ? "this day range" : "every end offset");
            r->already_published = 1;
            for (int32_t p = 0; p < np; p++)
                ps[p].start = ps[p].end; /* read nothing */
        }
    }
    if (!r->already_published) {
        int lacking = check_log_start(&k, lo_hi);
        if (lacking) {
            status = lacking;
            goto out;
        }
    }
    for (int32_t p = 0; p < np; p++)
        if (ps[p].start >= ps[p].end && !ps[p].skip) /* nothing to read */
            finish_partition(&sh[ps[p].shard], p, 1);
    q = k.cq = rd_kafka_queue_get_consumer(rk);
    if (nsh == 1) {
        sh[0].q = q;
        sh[0].progress = 1;
    } else {
        /* each partition's messages to its shard's queue, before assigning */
        for (int j = 0; j < nsh; j++)
            if (!(sh[j].q = rd_kafka_queue_new(rk))) {
                snprintf(r->errstr, r->errstr_size, "out of memory");
                goto out;
            }
        for (int i = 0; i < assign->cnt; i++) {
            int32_t p = assign->elems[i].partition;
            if (!(pq[p] = rd_kafka_queue_get_partition(rk, r->topic, p))) {
                snprintf(r->errstr, r->errstr_size, "%s[%d]: no queue for the partition", r->topic,
                         p);
                goto out;
            }
            rd_kafka_queue_forward(pq[p], sh[ps[p].shard].q);
        }
    }
    int remaining = 0;
    for (int j = 0; j < nsh; j++)
        remaining += sh[j].remaining;
    if (signalled(&k)) goto out;
    if (remaining && !r->already_published) {
        rd_kafka_resp_err_t e = rd_kafka_assign(rk, assign);
        if (e) {
            snprintf(r->errstr, r->errstr_size, "%s: assign: %s", r->topic, rd_kafka_err2str(e));
            goto out;
        }
    }
    rr_tm_ready(1, NULL);
    uint64_t to_read = 0; /* the end offsets captured at start (a live topic's are not known) */
    for (int32_t p = 0; p < np && !r->live; p++)
        to_read += ps[p].end > ps[p].start ? (uint64_t)(ps[p].end - ps[p].start) : 0;
    rr_progress_init(&k.meter, r->quiet, 1, to_read, "offsets");
    int rc = 0;
    if (nsh == 1) {
        if (shard_consume(&sh[0]) < 0) {
            snprintf(r->errstr, r->errstr_size, "%s", sh[0].err);
            rc = -1;
        }
    } else {
        /* small stacks: the engine does not recurse */
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 1 << 20);
        for (; started < nsh; started++)
            if (pthread_create(&sh[started].thread, &attr, shard_main, &sh[started]) != 0) break;
        pthread_attr_destroy(&attr);
        if (started < nsh) {
            snprintf(r->errstr, r->errstr_size, "cannot start a shard thread");
            atomic_store(&k.stop, 1);
            rc = -1;
        }
        if (serve_consumer(&k, prog, started, msgs, r->errstr, r->errstr_size) < 0) rc = -1;
        for (int j = 0; j < started; j++)
            pthread_join(sh[j].thread, NULL);
        for (int j = 0; j < started; j++)
            if (sh[j].err[0] && !rc) {
                snprintf(r->errstr, r->errstr_size, "%s", sh[j].err);
                rc = -1;
            }
    }
    rr_tm_ready(0, "finished reading");
    rr_progress_finish(&k.meter);
    /* what was read, whatever comes of it: the summary counts it */
    rr_shard_total_t total;
    rr_shard_total_init(&total);
    for (int j = 0; j < nsh; j++) {
        rr_shard_total_add(&total, sh[j].eng);
        if (rr_engine_error(sh[j].eng) && !r->engine_error[0])
            snprintf(r->engine_error, sizeof r->engine_error, "%s", rr_engine_error(sh[j].eng));
    }
    if (rr_shard_total_done(&total, &r->stats) < 0 && !r->engine_error[0])
        snprintf(r->engine_error, sizeof r->engine_error,
                 "out of memory counting shops across shards");
    if (rc < 0) {
        if (atomic_load(&k.incomplete)) { /* what stopped the run, whichever shard saw it */
            status = 3;
            snprintf(r->errstr, r->errstr_size, "%s", k.why_incomplete);
        }
        goto out;
    }
    if (signalled(&k)) /* stopped before the end: nothing is published */
        goto out;
    if (r->pass && r->pass->abandoned) { /* a partition went to another instance */
        status = 0;
        goto out;
    }
    if (r->publish && !r->already_published) {
        if (r->engine_error[0]) {
            snprintf(r->errstr, r->errstr_size, "%s: nothing published", r->engine_error);
            goto out;
        }
        r->missing_records = atomic_load(&k.missing);
        int judged = r->judge ? r->judge(r->judge_opaque, r) : 0;
        if (judged) { /* a quality gate failed: the transaction aborts */
            status = judged;
            goto out;
        }
        rd_kafka_topic_partition_list_t *ends = commit_offsets(&k);
        if (!ends) {
            snprintf(r->errstr, r->errstr_size, "out of memory");
            goto out;
        }
        rc = rr_kafka_sink_commit(r->publish, r->pass ? r->pass->member : rk, ends, r->errstr,
                                  r->errstr_size);
        rd_kafka_topic_partition_list_destroy(ends);
        if (rc < 0 && r->pass && group_moved_on(rr_kafka_sink_last_error(r->publish))) {
            r->pass->abandoned = 1; /* a zombie's commit: another instance has its partitions */
            status = 0;
            goto out;
        }
        if (rc < 0) goto out;
    }
    status = 0;
out:
    if (r->live) /* its writer waits no more */
        rr_kafka_live_over(r->live);
    r->seconds = rr_mono_s() - k.t0;
    r->missing_records = atomic_load(&k.missing);
    /* what was read of each partition that holds records, for the manifest */
    if (ranged && (r->read = calloc((size_t)np, sizeof *r->read)))
        for (int32_t p = 0; p < np; p++)
            if (ps[p].start < ps[p].end && !ps[p].skip)
                r->read[r->n_read++] = (rr_kafka_read_t){
                    p, ps[p].start, ps[p].next > ps[p].start ? ps[p].next : ps[p].start};
    if (signalled(&k) && status != 0 && status != 2) /* a signal outranks what it interrupted */
        status = 128 + signalled(&k);
    for (int32_t p = 0; pq && p < np; p++)
        if (pq[p]) {
            rd_kafka_queue_forward(pq[p], NULL);
            rd_kafka_queue_destroy(pq[p]);
        }
    for (int j = 0; sh && nsh > 1 && j < nsh; j++)
        if (sh[j].q) rd_kafka_queue_destroy(sh[j].q);
    if (q) rd_kafka_queue_destroy(q);
    if (assign) rd_kafka_topic_partition_list_destroy(assign);
    rd_kafka_consumer_close(rk);
    if (!rr_kafka_destroy_within(rk, 10000))
        rr_log(RR_LOG_WARN, "run", "%s: the Kafka client did not shut down in 10 s; left behind",
               r->topic);
    for (int j = 0; sh && j < nsh; j++) {
        rr_engine_free(sh[j].eng);
        free(sh[j].global);
        free(sh[j].msgs);
        free(sh[j].recs);
    }
    free(sh);
    free(prog);
    free(ps);
    free(pq);
    free(lo_hi);
    free(msgs);
    pthread_mutex_destroy(&mu);
    return status;
}
