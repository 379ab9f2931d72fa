/* pipeline/run_group.c: a bounded run shared by a consumer group (see run_group.h). */
#include "pipeline/run_group.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "ops/log.h"

#define POLL_MS 200
#define LOOK_S 1.0 /* how often the group's committed offsets are read while waiting */
#define COMMITTED_TIMEOUT_MS 10000
#define WARN_S 10.0

typedef struct group {
    rr_kafka_run_t *r;
    rd_kafka_t *gk; /* the member */
    int np;
    unsigned char *owned; /* assigned to this instance */
    unsigned char *in;    /* the running pass's partitions */
    unsigned char *todo;  /* owned, known not published yet: the next pass */
    atomic_int revoked;   /* a partition of the running pass went */
    int changed;          /* the assignment changed since the last look */
    char failed[512];     /* non-empty: the callback could not do its part */
    double last_warn;
} group_t;

/* "0,3,5": the partitions set in set[0..np). */
static void list_parts(const unsigned char *set, int np, char *out, size_t size)
{
    size_t len = 0;
    out[0] = 0;
    for (int p = 0; p < np && len < size; p++)
        if (set[p]) len += (size_t)snprintf(out + len, size - len, "%s%d", len ? "," : "", p);
}

static void event_parts(const group_t *g, const char *type, const unsigned char *set)
{
    char parts[2048];
    list_parts(set, g->np, parts, sizeof parts);
    rr_log_event(RR_LOG_INFO, "run", type, "\"partitions\":[%s]", parts);
}

/* The member's rebalance callback, on the calling thread (inside a poll of
 * the member). What it is assigned it only notes: it starts fetching there
 * at the end and pauses, since passes read on readers of their own. A pass
 * stops (serve_member in run_kafka.c) when one of its partitions goes to
 * another member:
 *   - eager assignors (librdkafka's default, range): a rebalance revokes
 *     every partition of every member, then assigns anew. The pass goes on
 *     through it, and stops only if the new assignment lacks one of its
 *     partitions: until then no other member can own them. Should it commit
 *     in between, its generation decides: the old one is still the group's
 *     (accepted: the next owner finds the label), or it is not (refused);
 *   - cooperative ones: what is revoked is what moves, and stops the pass;
 *   - lost (this member's session expired): the pass stops at once. */
static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *l, void *opaque)
{
    group_t *g = opaque;
    int coop = !strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE");
    unsigned char *set = calloc((size_t)g->np, 1);
    g->changed = 1;
    for (int i = 0; i < l->cnt; i++) {
        int32_t p = l->elems[i].partition;
        if (p >= 0 && p < g->np && !strcmp(l->elems[i].topic, g->r->topic) && set) set[p] = 1;
    }
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        if (!coop) /* eager: the whole assignment */
            memset(g->owned, 0, (size_t)g->np);
        for (int i = 0; i < l->cnt; i++) {
            l->elems[i].offset = RD_KAFKA_OFFSET_END;
            int32_t p = l->elems[i].partition;
            if (p >= 0 && p < g->np) g->owned[p] = 1;
        }
        for (int p = 0; p < g->np; p++)
            if (g->in[p] && !g->owned[p]) /* eager: the pass lost it in this rebalance */
                atomic_store(&g->revoked, 1);
        rd_kafka_error_t *e = coop ? rd_kafka_incremental_assign(rk, l) : NULL;
        rd_kafka_resp_err_t ae = coop ? RD_KAFKA_RESP_ERR_NO_ERROR : rd_kafka_assign(rk, l);
        if (e || ae)
            snprintf(g->failed, sizeof g->failed, "%s: assign: %s", g->r->topic,
                     e ? rd_kafka_error_string(e) : rd_kafka_err2str(ae));
        if (e) rd_kafka_error_destroy(e);
        rd_kafka_pause_partitions(rk, l);
        if (set) event_parts(g, "assigned", set);
        free(set);
        return;
    }
    /* revoked, lost, or a failed rebalance: let go */
    int lost = rd_kafka_assignment_lost(rk) || err != RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS;
    for (int p = 0; p < g->np; p++) {
        int gone = !coop || (set && set[p]);
        if (gone && g->in[p] && (coop || lost)) atomic_store(&g->revoked, 1);
        if (gone) g->owned[p] = 0;
    }
    if (coop) {
        rd_kafka_error_t *e = rd_kafka_incremental_unassign(rk, l);
        if (e) rd_kafka_error_destroy(e);
    } else {
        rd_kafka_assign(rk, NULL);
    }
    if (set) event_parts(g, lost ? "lost" : "revoked", set);
    free(set);
}

/* The member's configuration, after -X: the callback. The assignor stays
 * librdkafka's default (eager, range): with cooperative-sticky, librdkafka
 * 2.0 (Debian 12's) fails an assertion in rd_kafka_sticky_assignor_state_destroy
 * when a member closes while a rebalance waits for its SyncGroup (several
 * instances that find the range published at once; tried). */
static void hook(rd_kafka_conf_t *conf, void *arg)
{
    rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    rd_kafka_conf_set_opaque(conf, arg);
}

static void warn_now_and_then(group_t *g, const char *what, const char *why)
{
    if (g->r->quiet || rr_mono_s() - g->last_warn < WARN_S) return;
    rr_log(RR_LOG_WARN, "run", "%s: group '%s': %s: %s (waiting)", g->r->topic,
           g->r->group ? g->r->group : "replyrate", what, why);
    g->last_warn = rr_mono_s();
}

/* Read the group's committed offsets of every partition: how many carry
 * label (published), and in g->todo the owned partitions known not to. A
 * partition whose offsets a transaction still holds (an instance killed
 * between sending them and committing: the broker answers once that
 * transaction is aborted or committed) is neither. *applied: the events
 * the group's passes applied, added up, or -1 when no pass said. -1 when
 * the group cannot be asked now. */
static int look(group_t *g, const char *label, int64_t *applied)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(g->np);
    for (int32_t p = 0; p < g->np; p++)
        rd_kafka_topic_partition_list_add(l, g->r->topic, p);
    rd_kafka_resp_err_t e = rd_kafka_committed(g->gk, l, COMMITTED_TIMEOUT_MS);
    if (e) {
        rd_kafka_topic_partition_list_destroy(l);
        warn_now_and_then(g, "cannot read its committed offsets", rd_kafka_err2str(e));
        return -1;
    }
    int done = 0, said = 0;
    int64_t sum = 0;
    memset(g->todo, 0, (size_t)g->np);
    for (int i = 0; i < l->cnt; i++) {
        const rd_kafka_topic_partition_t *c = &l->elems[i];
        int64_t a = -1;
        if (c->err) {
            warn_now_and_then(g, "a partition's committed offset", rd_kafka_err2str(c->err));
        } else if (c->metadata && rr_kafka_label_match(c->metadata, c->metadata_size, label, &a)) {
            done++;
            if (a >= 0) {
                sum += a;
                said = 1;
            }
        } else if (g->owned[c->partition]) {
            g->todo[c->partition] = 1;
        }
    }
    rd_kafka_topic_partition_list_destroy(l);
    *applied = said ? sum : -1;
    return done;
}

/* What a pass published, into the instance's totals. */
static void add_pass(rr_stats_t *sum, const rr_stats_t *s)
{
#define A(f) sum->f += s->f
    A(input);
    A(applied);
    A(duplicate);
    A(late);
    A(invalid);
    A(held);
    A(peak_open_conversations); /* an upper bound, as over shards */
    A(peak_active_conversations);
    A(evicted_conversations);
    A(shop_days);
    A(agent_days);
    A(violations);
    A(alerts);
    A(shops_in_several_partitions); /* within each pass */
#undef A
}

/* One pass over g->todo. 0 (published, or abandoned: *abandoned), or the
 * failed pass's status with errstr. */
static int run_pass(group_t *g, const char *label, rr_stats_t *total, rr_kafka_read_t *read,
                    size_t *n_read, uint64_t *missing, int *abandoned)
{
    rr_kafka_run_t *r = g->r;
    char *errstr = r->errstr;
    size_t errstr_size = r->errstr_size;
    memcpy(g->in, g->todo, (size_t)g->np);
    atomic_store(&g->revoked, 0);
    rr_kafka_pass_t pass = {
        .in = g->in, .np = g->np, .member = g->gk, .revoked = &g->revoked, .label = label};
    r->pass = &pass;
    rr_fanout_gap_reset(r->fan);
    event_parts(g, "pass", g->in);
    double t0 = rr_mono_s();
    int st = rr_run_kafka(r, errstr, errstr_size);
    r->pass = NULL;
    free(r->range_bounds); /* the fan-out reads it no more: no engine is left */
    r->range_bounds = NULL;
    *abandoned = st == 0 && pass.abandoned;
    if (st == 0 && !pass.abandoned) {
        if (rr_kafka_sink_begin(r->publish, errstr, errstr_size) < 0) /* the next pass's */
            st = 1;
        add_pass(total, &r->stats);
        *missing += r->missing_records;
        for (size_t i = 0; i < r->n_read && *n_read < (size_t)g->np; i++)
            read[(*n_read)++] = r->read[i]; /* a partition is published once: np at most */
        char parts[2048];
        list_parts(g->in, g->np, parts, sizeof parts);
        rr_log_event(RR_LOG_INFO, "run", "published",
                     "\"partitions\":[%s],\"input\":%llu,\"applied\":%llu,\"seconds\":%.3f", parts,
                     (unsigned long long)r->stats.input, (unsigned long long)r->stats.applied,
                     rr_mono_s() - t0);
    } else if (*abandoned) {
        char parts[2048];
        list_parts(g->in, g->np, parts, sizeof parts);
        rr_log_event(RR_LOG_INFO, "run", "abandoned", "\"partitions\":[%s],\"why\":\"%s\"", parts,
                     atomic_load(&g->revoked) ? "revoked" : "commit refused: the group moved on");
        if (errstr[0]) rr_log(RR_LOG_INFO, "run", "%s (abandoned: nothing published)", errstr);
        errstr[0] = 0;
        if (rr_kafka_sink_abort(r->publish, errstr, errstr_size) < 0) st = 1;
    }
    free(r->read);
    r->read = NULL;
    r->n_read = 0;
    memset(g->in, 0, (size_t)g->np);
    return st;
}

int rr_run_kafka_group(rr_kafka_run_t *r, char *errstr, size_t errstr_size)
{
    errstr[0] = 0;
    r->errstr = errstr;
    r->errstr_size = errstr_size;
    memset(&r->stats, 0, sizeof r->stats);
    r->engine_error[0] = 0;
    r->range_applied = -1;
    r->already_published = 0;
    r->missing_records = 0;
    r->read = NULL;
    r->n_read = 0;
    double t0 = rr_mono_s();
    const char *label = r->range_label ? r->range_label : RR_KAFKA_UNTIL_END_LABEL;
    group_t g = {.r = r};
    atomic_init(&g.revoked, 0);
    rr_stats_t total = {0};
    uint64_t missing = 0;
    rr_kafka_read_t *read = NULL;
    size_t n_read = 0;
    int status = 1, passes = 0;
    g.gk = rr_kafka_consumer_new(r->ko, r->group ? r->group : "replyrate", 0, hook, &g, errstr,
                                 errstr_size);
    if (!g.gk) return 2;
    g.np = rr_kafka_partition_count(g.gk, r->topic, 10000, errstr, errstr_size);
    if (g.np == 0) snprintf(errstr, errstr_size, "topic '%s' does not exist", r->topic);
    if (g.np <= 0) goto out;
    g.owned = calloc((size_t)g.np, 1);
    g.in = calloc((size_t)g.np, 1);
    g.todo = calloc((size_t)g.np, 1);
    read = calloc((size_t)g.np, sizeof *read);
    if (!g.owned || !g.in || !g.todo || !read) {
        snprintf(errstr, errstr_size, "out of memory");
        goto out;
    }
    rd_kafka_poll_set_consumer(g.gk);
    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, r->topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t se = rd_kafka_subscribe(g.gk, sub);
    rd_kafka_topic_partition_list_destroy(sub);
    if (se) {
        snprintf(errstr, errstr_size, "%s: subscribe: %s", r->topic, rd_kafka_err2str(se));
        goto out;
    }
    double next_look = 0;
    for (;;) {
        if (r->stop && *r->stop) {
            status = 128 + (int)*r->stop;
            break;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(g.gk, POLL_MS);
        if (m) {
            char fatal[256];
            if (m->err && rd_kafka_fatal_error(g.gk, fatal, sizeof fatal))
                snprintf(g.failed, sizeof g.failed, "%s: %s", r->topic, fatal);
            else if (m->err)
                warn_now_and_then(&g, "the consumer", rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
        }
        if (g.failed[0]) {
            snprintf(errstr, errstr_size, "%s", g.failed);
            break;
        }
        if (!g.changed && rr_mono_s() < next_look) continue;
        g.changed = 0;
        next_look = rr_mono_s() + LOOK_S;
        int64_t applied;
        int done = look(&g, label, &applied);
        if (done == g.np) {
            r->range_applied = applied;
            status = 0;
            rr_log_event(RR_LOG_INFO, "run", "complete", "\"partitions\":%d,\"passes\":%d", g.np,
                         passes);
            break;
        }
        if (done < 0 || !memchr(g.todo, 1, (size_t)g.np)) continue;
        int abandoned = 0;
        int st = run_pass(&g, label, &total, read, &n_read, &missing, &abandoned);
        if (st) {
            status = st;
            break;
        }
        passes += !abandoned;
        g.changed = 1; /* look again at once */
    }
out:
    if (g.gk) { /* leaving the group hands what this instance owns to the others */
        rd_kafka_consumer_close(g.gk);
        if (!rr_kafka_destroy_within(g.gk, 10000))
            rr_log(RR_LOG_WARN, "run",
                   "%s: the Kafka client did not shut down in 10 s; left behind", r->topic);
    }
    r->stats = total;
    r->missing_records = missing;
    r->read = read;
    r->n_read = n_read;
    r->already_published = status == 0 && !passes;
    r->seconds = rr_mono_s() - t0;
    r->errstr = errstr; /* a pass's (rr_run_kafka's) was this one too */
    free(g.owned);
    free(g.in);
    free(g.todo);
    return status;
}
