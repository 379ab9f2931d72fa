/* pipeline/run_stream.c: streaming in a consumer group (see run_stream.h). */
#include "pipeline/run_stream.h"

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "ops/log.h"
#include "ops/progress.h"
#include "io/changelog.h"
#include "pipeline/watch.h"

#define BATCH 4096
#define WAIT_MS 200
/* threads > 1: how long the consumer's queue is waited on when the workers'
 * queues were empty */
#define IDLE_MS 20
#define RESTORE_TIMEOUT_S 60

typedef struct stream stream_t;

/* One input partition this instance owns (or owned: its engine is parked
 * after a revocation, and reused if the partition comes back unchanged). */
typedef struct spart {
    stream_t *s;
    int32_t p;
    rr_engine_t *eng;
    rr_fanout_port_t port; /* into the run's fan-out, rejected records renamed to partition p */
    int owned;
    int64_t next;          /* the offset after the last one fed; -1: nothing fed or committed */
    int dirty;             /* fed since its last checkpoint */
    int revise;            /* fed since its last provisional revision */
    int has_loc;           /* loc: its last committed checkpoint */
    rr_ck_loc_t loc, pend; /* pend: written in the open transaction */
    int written;
    rr_stats_t base; /* the engine's counts when this run got it */
    rr_watch_t watch;
    rr_tm_partition_t prior; /* judged by its earlier engines in this run */
    rd_kafka_queue_t *pq;    /* threads > 1: its queue, forwarded to its worker's */
} spart_t;

/* One partition's consecutive messages of a consumed batch. */
typedef struct sjob {
    spart_t *sp;
    rd_kafka_message_t **msgs;
    size_t n;
} sjob_t;

/* A thread that feeds engines: partition p belongs to worker p % nw, and
 * worker 0 is the calling thread. A worker touches its partitions' engines
 * only while the calling thread waits for it (feed_all), so commits,
 * rebalances and progress find every engine at rest. */
typedef struct sworker {
    stream_t *s;
    pthread_t th;
    int started;
    rd_kafka_queue_t *q;       /* threads > 1: its partitions' messages */
    rd_kafka_message_t **msgs; /* BATCH: a batch of them */
    ssize_t n_msgs;
    rr_record_t *recs; /* BATCH */
    sjob_t *jobs;      /* 2 * BATCH: its partitions' and the consumer queue's */
    size_t n_jobs;
} sworker_t;

struct stream {
    rr_stream_run_t *r;
    int nw;
    sworker_t *w;
    pthread_mutex_t out_mu; /* the fan-out's lock, held by the engines' ports (nw > 1) */
    pthread_mutex_t mu;     /* the workers' round: */
    pthread_cond_t go, done;
    uint64_t round; /* bumped to start the workers on their jobs */
    int busy;       /* workers still feeding this round */
    int quit;
    rd_kafka_t *rk;
    spart_t **ps; /* by partition number, cap entries */
    int cap;
    int changelog_parts;
    char changelog[300];
    uint64_t gen;
    int failed;
    int commits;
    rr_stats_t dropped; /* counts of engines this run let go */
};

static void fail(stream_t *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(stream_t *s, const char *fmt, ...)
{
    if (s->failed++) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->r->errstr, s->r->errstr_size, fmt, ap);
    va_end(ap);
}

/* ---- counts: what this run did with each engine ---- */

static void add_delta(rr_stats_t *acc, const rr_stats_t *now, const rr_stats_t *base)
{
#define D(f) acc->f += now->f - base->f
    D(input);
    D(applied);
    D(duplicate);
    D(late);
    D(invalid);
    D(evicted_conversations);
    D(shop_days);
    D(agent_days);
    D(violations);
    D(alerts);
    D(provisional);
#undef D
    acc->peak_open_conversations += now->peak_open_conversations;
    acc->peak_active_conversations += now->peak_active_conversations;
}

static void drop_engine(stream_t *s, spart_t *sp)
{
    if (!sp->eng) return;
    rr_stats_t now;
    rr_engine_stats(sp->eng, &now);
    add_delta(&s->dropped, &now, &sp->base);
    rr_partition_stats_t ps;
    rr_engine_partition_stats(sp->eng, 0, &ps);
    const uint64_t judged[4] = {ps.applied, ps.duplicate, ps.late, ps.invalid};
    for (int k = 0; k < 4; k++)
        sp->prior.judged[k] += judged[k];
    rr_watch_engine_gone(sp->eng);
    rr_engine_free(sp->eng);
    sp->eng = NULL;
    sp->has_loc = 0;
    sp->next = -1;
    sp->dirty = 0;
}

static void totals(const stream_t *s, rr_stats_t *out)
{
    *out = s->dropped; /* open counts: only the engines held now */
    for (int p = 0; p < s->cap; p++) {
        const spart_t *sp = s->ps[p];
        if (sp && sp->eng) {
            rr_stats_t now;
            rr_engine_stats(sp->eng, &now);
            add_delta(out, &now, &sp->base);
            out->open_conversations += now.open_conversations;
            out->open_days += now.open_days;
        }
    }
}

static spart_t *part(stream_t *s, int32_t p)
{
    if (p < 0) return NULL;
    if (p >= s->cap) {
        int cap = p + 1;
        spart_t **ps = realloc(s->ps, (size_t)cap * sizeof *ps);
        if (!ps) return NULL;
        memset(ps + s->cap, 0, (size_t)(cap - s->cap) * sizeof *ps);
        s->ps = ps;
        s->cap = cap;
    }
    if (!s->ps[p]) {
        spart_t *sp = calloc(1, sizeof *sp);
        if (!sp) return NULL;
        sp->s = s;
        sp->p = p;
        sp->next = -1;
        sp->port =
            (rr_fanout_port_t){.fan = s->r->fan, .mu = s->nw > 1 ? &s->out_mu : NULL, .fixed = p};
        s->ps[p] = sp;
    }
    return s->ps[p];
}

/* ---- commits: records, checkpoints and offsets in one transaction ---- */

static int commit_all(stream_t *s, const char *why)
{
    rr_stream_run_t *r = s->r;
    if (s->failed) return -1;
    int any = 0;
    double t0 = rr_mono_s();
    uint64_t bytes = 0, raw = 0;
    for (int p = 0; p < s->cap; p++) {
        spart_t *sp = s->ps[p];
        if (sp) sp->written = 0;
        if (!sp || !sp->owned || !sp->eng || !(sp->dirty || (!sp->has_loc && sp->next >= 0)))
            continue;
        if (p >= s->changelog_parts) {
            fail(s, "%s has %d partitions, fewer than %s (partition %d): add partitions to it",
                 s->changelog, s->changelog_parts, r->topic, (int)p);
            return -1;
        }
        char key[300];
        snprintf(key, sizeof key, "%s:%d", r->topic, (int)p);
        double tp = rr_mono_s();
        if (rr_changelog_put(r->publish, s->changelog, p, key, sp->eng, ++s->gen, &sp->pend,
                             r->errstr, r->errstr_size) < 0) {
            s->failed = 1;
            return -1;
        }
        rr_tm_checkpoint(sp->pend.bytes, rr_mono_s() - tp);
        sp->written = 1;
        bytes += sp->pend.bytes;
        raw += sp->pend.raw;
        any = 1;
    }
    if (!any) return 0; /* nothing fed since the last commit: no record, nothing to commit */
    if (rr_kafka_sink_flush(r->publish, r->errstr, r->errstr_size) < 0) {
        s->failed = 1;
        return -1;
    }
    rd_kafka_topic_partition_list_t *offs = rd_kafka_topic_partition_list_new(s->cap);
    int n_parts = 0;
    for (int p = 0; p < s->cap; p++) {
        spart_t *sp = s->ps[p];
        if (!sp || !sp->owned || !(sp->written || sp->has_loc) || sp->next < 0) continue;
        char md[128];
        rr_changelog_format(sp->written ? &sp->pend : &sp->loc, md, sizeof md);
        rd_kafka_topic_partition_t *t = rd_kafka_topic_partition_list_add(offs, r->topic, p);
        t->offset = sp->next;
        t->metadata = strdup(md); /* freed with the list */
        t->metadata_size = t->metadata ? strlen(md) : 0;
        n_parts++;
    }
    int rc = rr_kafka_sink_commit(r->publish, s->rk, offs, r->errstr, r->errstr_size);
    rd_kafka_topic_partition_list_destroy(offs);
    if (rc < 0 || rr_kafka_sink_begin(r->publish, r->errstr, r->errstr_size) < 0) {
        s->failed = 1;
        return -1;
    }
    for (int p = 0; p < s->cap; p++) {
        spart_t *sp = s->ps[p];
        if (sp && sp->written) {
            sp->loc = sp->pend;
            sp->has_loc = 1;
            sp->dirty = 0;
            sp->written = 0;
        }
    }
    s->commits++;
    if (rr_log_enabled(RR_LOG_INFO)) {
        rr_stats_t st;
        totals(s, &st);
        int64_t lag = 0; /* to the ends the consumer last saw */
        for (int p = 0; p < s->cap; p++) {
            const spart_t *sp = s->ps[p];
            int64_t lo, hi;
            if (sp && sp->owned && !rd_kafka_get_watermark_offsets(s->rk, r->topic, p, &lo, &hi) &&
                hi >= 0)
                lag += hi - (sp->next >= 0 ? sp->next : lo > 0 ? lo : 0);
        }
        rr_log_event(RR_LOG_INFO, "run", "commit",
                     "\"why\":\"%s\",\"partitions\":%d,\"input\":%llu,\"lag\":%lld,"
                     "\"checkpoint_bytes\":%llu,\"checkpoint_raw_bytes\":%llu,\"seconds\":%.3f",
                     why, n_parts, (unsigned long long)st.input, (long long)lag,
                     (unsigned long long)bytes, (unsigned long long)raw, rr_mono_s() - t0);
    }
    return 0;
}

/* ---- rebalances ---- */

/* A fresh engine for partition p, or the one restored from loc. */
static int open_engine(stream_t *s, spart_t *sp, const rr_ck_loc_t *loc)
{
    rr_stream_run_t *r = s->r;
    char err[512];
    rr_sink_t sink = rr_fanout_port_sink(&sp->port);
    if (rr_engine_new(r->cfg, r->tz, &sink, &sp->eng, err, sizeof err) < 0) {
        fail(s, "config: %s", err);
        return -1;
    }
    if (loc) {
        char key[300];
        snprintf(key, sizeof key, "%s:%d", r->topic, (int)sp->p);
        double t0 = rr_mono_s();
        if (rr_changelog_restore(r->ko, s->changelog, sp->p, key, loc, sp->eng, RESTORE_TIMEOUT_S,
                                 err, sizeof err) < 0) {
            rr_engine_free(sp->eng);
            sp->eng = NULL;
            fail(s, "%s[%d]: cannot restore its state: %s", r->topic, (int)sp->p, err);
            return -1;
        }
        rr_tm_restore(loc->bytes, rr_mono_s() - t0);
        if (rr_log_enabled(RR_LOG_INFO)) {
            rr_stats_t st;
            rr_engine_stats(sp->eng, &st);
            rr_log_event(RR_LOG_INFO, "run", "restored",
                         "\"partition\":%d,\"checkpoint_bytes\":%" PRIu64
                         ",\"open_conversations\":%" PRIu64 ",\"seconds\":%.3f",
                         (int)sp->p, loc->bytes, st.open_conversations, rr_mono_s() - t0);
        }
    } else {
        char name[300];
        snprintf(name, sizeof name, "%s[%d]", r->topic, (int)sp->p);
        if (rr_engine_add_partition(sp->eng, name) < 0) {
            rr_engine_free(sp->eng);
            sp->eng = NULL;
            fail(s, "out of memory");
            return -1;
        }
    }
    rr_engine_stats(sp->eng, &sp->base);
    sp->watch.next = 0; /* its numbers at the next look */
    return 0;
}

/* Take the partitions in l: each resumes where the group committed, from
 * the state committed with it. Sets each element's offset for assign. */
static int take(stream_t *s, rd_kafka_topic_partition_list_t *l)
{
    rr_stream_run_t *r = s->r;
    rr_tm_ready(0, "restoring the partitions assigned");
    rd_kafka_topic_partition_list_t *c = rd_kafka_topic_partition_list_copy(l);
    rd_kafka_resp_err_t e = rr_kafka_committed(s->rk, c, 60000);
    if (e) {
        rd_kafka_topic_partition_list_destroy(c);
        fail(s, "%s: cannot read the group's committed offsets: %s", r->topic, rd_kafka_err2str(e));
        return -1;
    }
    int restored = 0;
    for (int i = 0; i < c->cnt && !s->failed; i++) {
        const rd_kafka_topic_partition_t *t = &c->elems[i];
        spart_t *sp = part(s, t->partition);
        if (!sp) {
            fail(s, "out of memory");
            break;
        }
        rr_ck_loc_t loc;
        if (t->err || t->offset < 0) { /* never committed: from the beginning, fresh */
            drop_engine(s, sp);
            if (open_engine(s, sp, NULL) < 0) break;
            l->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
        } else if (rr_changelog_parse(t->metadata, t->metadata_size, &loc) < 0) {
            fail(s,
                 "%s[%d]: group '%s' committed offset %" PRId64
                 " without a checkpoint (a bounded run's group?): stream with another --group",
                 r->topic, (int)t->partition, r->group, t->offset);
            break;
        } else {
            /* our parked engine is exactly that state: keep it */
            if (!(sp->eng && sp->has_loc && sp->loc.gen == loc.gen && sp->next == t->offset &&
                  !sp->dirty)) {
                drop_engine(s, sp);
                if (open_engine(s, sp, &loc) < 0) break;
                sp->loc = loc;
                sp->has_loc = 1;
                restored++;
            }
            sp->next = t->offset;
            l->elems[i].offset = t->offset;
        }
        sp->owned = 1;
        sp->dirty = 0;
        /* its messages to its worker's queue, before assigning (librdkafka
         * clears the forwarding when the partition's fetch stops) */
        if (s->nw > 1) {
            if (!sp->pq) sp->pq = rd_kafka_queue_get_partition(s->rk, r->topic, sp->p);
            if (!sp->pq) {
                fail(s, "%s[%d]: no queue for the partition", r->topic, (int)sp->p);
                break;
            }
            rd_kafka_queue_forward(sp->pq, s->w[sp->p % s->nw].q);
        }
    }
    rd_kafka_topic_partition_list_destroy(c);
    if (s->failed) return -1;
    /* parked engines that did not come back are another instance's now */
    for (int p = 0; p < s->cap; p++)
        if (s->ps[p] && !s->ps[p]->owned) drop_engine(s, s->ps[p]);
    rr_tm_ready(1, NULL);
    if (rr_log_enabled(RR_LOG_INFO)) {
        char line[4096];
        size_t len = (size_t)snprintf(line, sizeof line, "\"partitions\":[");
        for (int i = 0; i < l->cnt && len < sizeof line; i++)
            len += (size_t)snprintf(line + len, sizeof line - len, "%s%d", i ? "," : "",
                                    (int)l->elems[i].partition);
        if (len < sizeof line)
            snprintf(line + len, sizeof line - len, "],\"restored\":%d", restored);
        rr_log_event(RR_LOG_INFO, "run", "assigned", "%s", line);
    }
    return 0;
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *l, void *opaque)
{
    stream_t *s = opaque;
    int coop = !strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE");
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        if (!s->failed) take(s, l);
        rd_kafka_error_t *e = NULL;
        rd_kafka_resp_err_t ae = 0;
        if (coop)
            e = rd_kafka_incremental_assign(rk, s->failed ? NULL : l);
        else
            ae = rd_kafka_assign(rk, s->failed ? NULL : l);
        if (e) {
            fail(s, "assign: %s", rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
        } else if (ae) {
            fail(s, "assign: %s", rd_kafka_err2str(ae));
        }
        return;
    }
    /* revoked (or lost): commit what was read first, then let go */
    if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS && !rd_kafka_assignment_lost(rk))
        commit_all(s, "revoke");
    if (!coop) rr_tm_ready(0, "rebalancing");
    for (int i = 0; i < l->cnt; i++) {
        int32_t p = l->elems[i].partition;
        char name[300];
        snprintf(name, sizeof name, "%s[%d]", s->r->topic, (int)p);
        rr_tm_partition_drop(name);
        if (p >= 0 && p < s->cap && s->ps[p]) {
            s->ps[p]->owned = 0;
            if (s->ps[p]->dirty) /* lost before its commit: that state is not the group's */
                drop_engine(s, s->ps[p]);
        }
    }
    if (coop) {
        rd_kafka_error_t *e = rd_kafka_incremental_unassign(rk, l);
        if (e) rd_kafka_error_destroy(e);
    } else {
        rd_kafka_assign(rk, NULL);
    }
}

static void hook(rd_kafka_conf_t *conf, void *arg)
{
    rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    rd_kafka_conf_set_opaque(conf, arg);
}

/* The changelog topic: compacted, a partition for each input partition. */
static int changelog_topic(stream_t *s, int np)
{
    rr_stream_run_t *r = s->r;
    rd_kafka_t *prk = rr_kafka_sink_handle(r->publish);
    int n = rr_kafka_partition_count(prk, s->changelog, 10000, r->errstr, r->errstr_size);
    if (n < 0) return -1;
    if (n == 0) {
        static const char *const cfg[] = {"cleanup.policy", "compact", NULL};
        if (rr_kafka_create_topic(prk, s->changelog, np, cfg, 10000, r->errstr, r->errstr_size) < 0)
            return -1;
        n = np;
    }
    if (n < np) {
        snprintf(r->errstr, r->errstr_size,
                 "%s has %d partitions, fewer than %s's %d: add partitions to it", s->changelog, n,
                 r->topic, np);
        return -1;
    }
    s->changelog_parts = n;
    return 0;
}

/* ---- feeding: each partition's engine on its worker's thread ---- */

static void run_jobs(sworker_t *w)
{
    const rr_stream_run_t *r = w->s->r;
    for (size_t i = 0; i < w->n_jobs; i++) {
        const sjob_t *j = &w->jobs[i];
        rr_kafka_feed(j->sp->eng, 0, j->msgs, j->n, w->recs, r->have_now ? r->now_ms : rr_now_ms());
    }
    w->n_jobs = 0;
}

static void *worker_main(void *arg)
{
    sworker_t *w = arg;
    stream_t *s = w->s;
    uint64_t round = 0;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (s->round == round && !s->quit)
            pthread_cond_wait(&s->go, &s->mu);
        if (s->quit) break;
        round = s->round;
        pthread_mutex_unlock(&s->mu);
        run_jobs(w);
        pthread_mutex_lock(&s->mu);
        if (--s->busy == 0) pthread_cond_signal(&s->done);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* Queue one partition's consecutive messages for its worker. Its next
 * offset moves now, so that a later message of the batch at an offset
 * already queued (fetched twice around a rebalance) is not fed again. */
static void add_job(stream_t *s, spart_t *sp, rd_kafka_message_t **msgs, size_t n)
{
    sworker_t *w = &s->w[sp->p % s->nw];
    w->jobs[w->n_jobs++] = (sjob_t){.sp = sp, .msgs = msgs, .n = n};
    sp->next = msgs[n - 1]->offset + 1;
    sp->dirty = 1;
    sp->revise = 1;
}

/* Every worker feeds its queued messages; returns when all are done. */
static void feed_all(stream_t *s)
{
    int others = 0;
    for (int i = 1; i < s->nw; i++)
        others |= s->w[i].n_jobs > 0;
    if (others) {
        pthread_mutex_lock(&s->mu);
        s->busy = s->nw - 1;
        s->round++;
        pthread_cond_broadcast(&s->go);
        pthread_mutex_unlock(&s->mu);
    }
    run_jobs(&s->w[0]);
    if (others) {
        pthread_mutex_lock(&s->mu);
        while (s->busy)
            pthread_cond_wait(&s->done, &s->mu);
        pthread_mutex_unlock(&s->mu);
    }
}

/* The workers: 0 (the calling thread) and nw - 1 threads. 0, or -1. */
static int start_workers(stream_t *s, int nw)
{
    s->w = calloc((size_t)nw, sizeof *s->w);
    if (!s->w) return -1;
    s->nw = nw;
    for (int i = 0; i < nw; i++) {
        sworker_t *w = &s->w[i];
        w->s = s;
        w->recs = malloc(BATCH * sizeof *w->recs);
        w->jobs = malloc(2 * BATCH * sizeof *w->jobs);
        w->msgs = malloc(BATCH * sizeof *w->msgs);
        if (!w->recs || !w->jobs || !w->msgs) return -1;
        if (i > 0) {
            if (pthread_create(&w->th, NULL, worker_main, w) != 0) return -1;
            w->started = 1;
        }
    }
    return 0;
}

static void stop_workers(stream_t *s)
{
    pthread_mutex_lock(&s->mu);
    s->quit = 1;
    pthread_cond_broadcast(&s->go);
    pthread_mutex_unlock(&s->mu);
    for (int i = 0; i < s->nw; i++) {
        if (s->w[i].started) pthread_join(s->w[i].th, NULL);
        for (ssize_t k = 0; k < s->w[i].n_msgs; k++)
            rd_kafka_message_destroy(s->w[i].msgs[k]);
        if (s->w[i].q) rd_kafka_queue_destroy(s->w[i].q);
        free(s->w[i].recs);
        free(s->w[i].jobs);
        free(s->w[i].msgs);
    }
    for (int p = 0; p < s->cap; p++)
        if (s->ps[p] && s->ps[p]->pq) {
            rd_kafka_queue_destroy(s->ps[p]->pq);
            s->ps[p]->pq = NULL;
        }
    free(s->w);
    s->w = NULL;
    s->nw = 0;
}

/* A provisional revision of every partition fed since its last one, into
 * the open transaction; the checkpoint that counts it goes with it. */
static int revise_all(stream_t *s)
{
    uint64_t records = 0;
    int parts = 0;
    for (int p = 0; p < s->cap; p++) {
        spart_t *sp = s->ps[p];
        if (!sp || !sp->owned || !sp->eng || !sp->revise) continue;
        int64_t n = rr_engine_provisional(sp->eng);
        if (n < 0) {
            fail(s, "%s[%d]: out of memory making a provisional revision", s->r->topic, (int)p);
            return -1;
        }
        records += (uint64_t)n;
        parts++;
        sp->revise = 0;
        sp->dirty = 1;
    }
    if (parts)
        rr_log_event(RR_LOG_INFO, "run", "provisional", "\"partitions\":%d,\"records\":%llu", parts,
                     (unsigned long long)records);
    return 0;
}

/* Queue a consumed batch's messages for the workers, a partition's run of
 * consecutive messages at a time; warn of client errors, fail on a fatal
 * one. The messages stay the caller's. */
static void queue_batch(stream_t *s, rd_kafka_message_t **msgs, ssize_t n, double *last_warn)
{
    rr_stream_run_t *r = s->r;
    size_t run_start = 0, run_n = 0;
    spart_t *run_sp = NULL;
    for (ssize_t i = 0; i <= n; i++) {
        rd_kafka_message_t *m = i < n ? msgs[i] : NULL;
        spart_t *sp =
            m && !m->err && m->partition >= 0 && m->partition < s->cap ? s->ps[m->partition] : NULL;
        /* a message of a partition we own, not one fetched before a rebalance */
        int usable = m && sp && sp->owned && sp->eng && m->offset >= sp->next;
        if (run_n && (!usable || sp != run_sp)) {
            add_job(s, run_sp, msgs + run_start, run_n);
            run_n = 0;
        }
        if (!m) break;
        if (usable) {
            if (!run_n) {
                run_start = (size_t)i;
                run_sp = sp;
            }
            run_n++;
            continue;
        }
        if (m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            char fatal[256];
            if (rd_kafka_fatal_error(s->rk, fatal, sizeof fatal)) {
                fail(s, "%s: %s", r->topic, fatal);
            } else if (!r->quiet && rr_mono_s() - *last_warn > 5) {
                rr_log(RR_LOG_WARN, "run", "%s: %s (waiting)", r->topic,
                       rd_kafka_message_errstr(m));
                *last_warn = rr_mono_s();
            }
        }
    }
}

/* Every owned engine's numbers into the telemetry (each at most every half
 * second unless force), with its partition's lag to the end the consumer
 * last saw. The engines are at rest. */
static void watch_all(stream_t *s, int force)
{
    rr_tm_beat();
    for (int p = 0; p < s->cap; p++) {
        spart_t *sp = s->ps[p];
        if (!sp || !sp->owned || !sp->eng ||
            !rr_watch_engine(&sp->watch, sp->eng, &sp->prior, force))
            continue;
        int64_t lo, hi;
        if (!rd_kafka_get_watermark_offsets(s->rk, s->r->topic, p, &lo, &hi) && hi >= 0) {
            char name[300];
            snprintf(name, sizeof name, "%s[%d]", s->r->topic, p);
            rr_tm_partition_lag(name, hi - (sp->next >= 0 ? sp->next : lo > 0 ? lo : 0));
        }
    }
}

int rr_run_stream(rr_stream_run_t *r, char *errstr, size_t errstr_size)
{
    errstr[0] = 0;
    r->errstr = errstr;
    r->errstr_size = errstr_size;
    stream_t s = {.r = r};
    pthread_mutex_init(&s.out_mu, NULL);
    pthread_mutex_init(&s.mu, NULL);
    pthread_cond_init(&s.go, NULL);
    pthread_cond_init(&s.done, NULL);
    snprintf(s.changelog, sizeof s.changelog, "%s.changelog", r->prefix);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    s.gen = ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec) ^ ((uint64_t)getpid() << 48);
    double t0 = rr_mono_s();
    int status = 1;
    rd_kafka_message_t **msgs = malloc(BATCH * sizeof *msgs);
    rd_kafka_queue_t *q = NULL;
    if (start_workers(&s, r->threads < 1 ? 1 : r->threads) < 0) {
        snprintf(r->errstr, r->errstr_size, "out of memory or threads");
        goto out;
    }
    s.rk = rr_kafka_consumer_new(r->ko, r->group, 0, hook, &s, r->errstr, r->errstr_size);
    if (!s.rk) {
        status = 2;
        goto out;
    }
    if (!msgs) {
        snprintf(r->errstr, r->errstr_size, "out of memory");
        goto out;
    }
    for (int w = 0; s.nw > 1 && w < s.nw; w++)
        if (!(s.w[w].q = rd_kafka_queue_new(s.rk))) {
            snprintf(r->errstr, r->errstr_size, "out of memory");
            goto out;
        }
    int np = rr_kafka_partition_count(s.rk, r->topic, 10000, r->errstr, r->errstr_size);
    if (np == 0) snprintf(r->errstr, r->errstr_size, "topic '%s' does not exist", r->topic);
    if (np <= 0 || changelog_topic(&s, np) < 0) goto out;
    rd_kafka_poll_set_consumer(s.rk);
    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, r->topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t se = rd_kafka_subscribe(s.rk, sub);
    rd_kafka_topic_partition_list_destroy(sub);
    if (se) {
        snprintf(r->errstr, r->errstr_size, "%s: subscribe: %s", r->topic, rd_kafka_err2str(se));
        goto out;
    }
    rr_tm_ready(0, "joining the group");
    q = rd_kafka_queue_get_consumer(s.rk);
    double next_commit = rr_mono_s() + (double)r->commit_every_ms / 1000.0;
    double next_revision =
        r->provisional_every_ms ? rr_mono_s() + (double)r->provisional_every_ms / 1000.0 : HUGE_VAL;
    double last_warn = 0;
    rr_progress_t meter; /* no end, no share done: events, never a status line */
    rr_progress_init(&meter, r->quiet, 0, 0, NULL);
    while (!*r->stop && !s.failed) {
        /* threads > 1: what every worker's partitions hold, fed before the
         * consumer's queue is served (a rebalance there may commit) */
        ssize_t got = 0;
        for (int w = 0; s.nw > 1 && w < s.nw; w++) {
            sworker_t *wk = &s.w[w];
            wk->n_msgs = rd_kafka_consume_batch_queue(wk->q, 0, wk->msgs, BATCH);
            if (wk->n_msgs < 0) wk->n_msgs = 0;
            got += wk->n_msgs;
            queue_batch(&s, wk->msgs, wk->n_msgs, &last_warn);
        }
        if (got) {
            feed_all(&s);
            for (int w = 0; w < s.nw; w++) {
                for (ssize_t i = 0; i < s.w[w].n_msgs; i++)
                    rd_kafka_message_destroy(s.w[w].msgs[i]);
                s.w[w].n_msgs = 0;
            }
        }
        /* rebalances, client errors, and (one thread) the messages */
        ssize_t n = rd_kafka_consume_batch_queue(q,
                                                 got        ? 0
                                                 : s.nw > 1 ? IDLE_MS
                                                            : WAIT_MS,
                                                 msgs, BATCH);
        if (n < 0) {
            fail(&s, "%s: consume: %s", r->topic, rd_kafka_err2str(rd_kafka_last_error()));
            break;
        }
        queue_batch(&s, msgs, n, &last_warn);
        feed_all(&s);
        for (ssize_t i = 0; i < n; i++)
            rd_kafka_message_destroy(msgs[i]);
        if (!s.failed && rr_mono_s() >= next_commit) {
            if (rr_mono_s() >= next_revision) {
                revise_all(&s);
                next_revision = rr_mono_s() + (double)r->provisional_every_ms / 1000.0;
            }
            commit_all(&s, "interval");
            next_commit = rr_mono_s() + (double)r->commit_every_ms / 1000.0;
        }
        watch_all(&s, 0);
        if (rr_progress_due(&meter)) {
            rr_stats_t st;
            totals(&s, &st);
            rr_progress_update(&meter, st.input, 0, st.open_conversations, st.open_days);
        }
    }
    if (!s.failed) commit_all(&s, "stop");
    watch_all(&s, 1);
    rr_tm_ready(0, "stopping");
    /* leaving the group revokes what is left (nothing to commit now) */
    if (q) {
        rd_kafka_queue_destroy(q);
        q = NULL;
    }
    rd_kafka_consumer_close(s.rk);
    if (!s.failed) status = 0;
out:
    if (s.w) stop_workers(&s);
    totals(&s, &r->stats);
    r->seconds = rr_mono_s() - t0;
    if (q) rd_kafka_queue_destroy(q);
    if (s.rk) rd_kafka_destroy(s.rk);
    rr_kafka_sink_forget_puts(r->publish); /* a failed commit's chunks point into s.ps */
    for (int p = 0; p < s.cap; p++) {
        if (s.ps[p]) rr_engine_free(s.ps[p]->eng);
        free(s.ps[p]);
    }
    free(s.ps);
    free(msgs);
    pthread_mutex_destroy(&s.out_mu);
    pthread_mutex_destroy(&s.mu);
    pthread_cond_destroy(&s.go);
    pthread_cond_destroy(&s.done);
    return status;
}
