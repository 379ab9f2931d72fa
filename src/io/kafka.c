#include "io/kafka.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "io/feed.h"
#include "ops/log.h"

/* s with every ${NAME} replaced by the environment variable NAME: a new
 * string, or NULL with errstr (an unset variable, an unclosed ${). */
static char *expand_env(const char *s, char *errstr, size_t errstr_size)
{
    size_t cap = strlen(s) + 1, n = 0;
    char *out = malloc(cap);
    if (!out) goto oom;
    for (const char *p = s; *p;) {
        const char *add = p;
        size_t len = 1;
        char name[256];
        if (p[0] == '$' && p[1] == '{') {
            const char *end = strchr(p + 2, '}');
            size_t nl = end ? (size_t)(end - p - 2) : 0;
            if (!end || !nl || nl >= sizeof name) {
                snprintf(errstr, errstr_size, "'${' without a variable name and '}'");
                free(out);
                return NULL;
            }
            memcpy(name, p + 2, nl);
            name[nl] = 0;
            if (!(add = getenv(name))) {
                snprintf(errstr, errstr_size, "environment variable %s is not set", name);
                free(out);
                return NULL;
            }
            len = strlen(add);
            p = end + 1;
        } else {
            p++;
        }
        if (n + len + 1 > cap) {
            cap = (n + len + 1) * 2;
            char *g = realloc(out, cap);
            if (!g) goto oom;
            out = g;
        }
        memcpy(out + n, add, len);
        n += len;
    }
    out[n] = 0;
    return out;
oom:
    free(out);
    snprintf(errstr, errstr_size, "out of memory");
    return NULL;
}

/* Add "key=value" (owned: o frees it, also on error). */
static int add_owned(rr_kafka_opts_t *o, char *kv, const char *what, char *errstr,
                     size_t errstr_size)
{
    if (o->n_props == RR_KAFKA_MAX_PROPS) {
        snprintf(errstr, errstr_size, "%s: more than %d properties", what, RR_KAFKA_MAX_PROPS);
        free(kv);
        return -1;
    }
    o->owned[o->n_owned++] = kv;
    o->props[o->n_props++] = kv;
    return 0;
}

int rr_kafka_add_prop(rr_kafka_opts_t *o, const char *kv, char *errstr, size_t errstr_size)
{
    const char *eq = strchr(kv, '=');
    if (!eq || eq == kv) {
        snprintf(errstr, errstr_size, "-X: expected key=value, got '%s'", kv);
        return -1;
    }
    if (o->n_props == RR_KAFKA_MAX_PROPS) {
        snprintf(errstr, errstr_size, "-X: more than %d properties", RR_KAFKA_MAX_PROPS);
        return -1;
    }
    if (!strstr(kv, "${")) {
        o->props[o->n_props++] = kv;
        return 0;
    }
    char why[300];
    char *x = expand_env(kv, why, sizeof why);
    if (!x) {
        snprintf(errstr, errstr_size, "-X %.*s: %s", (int)(eq - kv), kv, why);
        return -1;
    }
    return add_owned(o, x, "-X", errstr, errstr_size);
}

int rr_kafka_add_props_file(rr_kafka_opts_t *o, const char *path, char *errstr, size_t errstr_size)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(errstr, errstr_size, "-F %s: %s", path, strerror(errno));
        return -1;
    }
    char line[4096];
    int ln = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        ln++;
        size_t len = strlen(line);
        if (len == sizeof line - 1 && line[len - 1] != '\n') {
            snprintf(errstr, errstr_size, "-F %s:%d: line longer than %zu bytes", path, ln,
                     sizeof line - 2);
            rc = -1;
            break;
        }
        char *b = line, *e = line + len;
        while (b < e && isspace((unsigned char)*b))
            b++;
        while (e > b && isspace((unsigned char)e[-1]))
            e--;
        *e = 0;
        if (b == e || *b == '#') continue;
        char *eq = strchr(b, '=');
        char *ke = eq;
        while (ke && ke > b && isspace((unsigned char)ke[-1]))
            ke--;
        if (!eq || ke == b) {
            snprintf(errstr, errstr_size, "-F %s:%d: expected key=value, got '%s'", path, ln, b);
            rc = -1;
            break;
        }
        char *v = eq + 1;
        while (isspace((unsigned char)*v))
            v++;
        char why[300];
        char *val = expand_env(v, why, sizeof why);
        char *kv = val ? malloc((size_t)(ke - b) + 1 + strlen(val) + 1) : NULL;
        if (!kv) {
            snprintf(errstr, errstr_size, "-F %s:%d: %.*s: %s", path, ln, (int)(ke - b), b,
                     val ? "out of memory" : why);
            free(val);
            rc = -1;
            break;
        }
        sprintf(kv, "%.*s=%s", (int)(ke - b), b, val);
        free(val);
        char what[300];
        snprintf(what, sizeof what, "-F %s", path);
        rc = add_owned(o, kv, what, errstr, errstr_size);
    }
    if (rc == 0 && ferror(f)) {
        snprintf(errstr, errstr_size, "-F %s: read error", path);
        rc = -1;
    }
    fclose(f);
    return rc;
}

void rr_kafka_opts_free(rr_kafka_opts_t *o)
{
    for (int i = 0; i < o->n_owned; i++)
        free(o->owned[i]);
    o->n_owned = 0;
}

static int set(rd_kafka_conf_t *conf, const char *key, const char *val, char *errstr,
               size_t errstr_size)
{
    char why[256];
    if (rd_kafka_conf_set(conf, key, val, why, sizeof why) != RD_KAFKA_CONF_OK) {
        int secret = strstr(key, "password") || strstr(key, "secret"); /* never echoed */
        snprintf(errstr, errstr_size, "Kafka property %s=%s: %s", key, secret ? "(hidden)" : val,
                 secret ? "not accepted" : why);
        return -1;
    }
    return 0;
}

/* librdkafka's log lines through ops/log.h, component "kafka", but for one: -X applies to every
 * client of a command, so a consumer property set for a streaming run would
 * draw "is a consumer property and will be ignored by this producer" from
 * the producer (and the other way round) on every start. */
static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    if (!strcmp(fac, "CONFWARN") && strstr(buf, "property and will be ignored by this")) return;
    rr_log(level, "kafka", "%s: %s: %s", rk ? rd_kafka_name(rk) : "rdkafka", fac, buf);
}

void rr_kafka_conf_log(rd_kafka_conf_t *conf)
{
    rd_kafka_conf_set_log_cb(conf, on_log);
}

rd_kafka_t *rr_kafka_new(rd_kafka_type_t type, const rr_kafka_opts_t *o,
                         const char *const *defaults, void (*conf_hook)(rd_kafka_conf_t *, void *),
                         void *hook_arg, char *errstr, size_t errstr_size)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (o->brokers && set(conf, "bootstrap.servers", o->brokers, errstr, errstr_size) < 0)
        goto fail;
    for (int i = 0; defaults && defaults[i]; i += 2)
        if (set(conf, defaults[i], defaults[i + 1], errstr, errstr_size) < 0) goto fail;
    for (int i = 0; i < o->n_props; i++) {
        char key[256];
        const char *eq = strchr(o->props[i], '=');
        size_t kl = (size_t)(eq - o->props[i]);
        if (kl >= sizeof key) {
            snprintf(errstr, errstr_size, "-X: property name too long: '%s'", o->props[i]);
            goto fail;
        }
        memcpy(key, o->props[i], kl);
        key[kl] = 0;
        int later = 0; /* a later -X or -F line sets it again: that one wins */
        for (int j = i + 1; j < o->n_props && !later; j++)
            later = !strncmp(o->props[j], o->props[i], kl + 1);
        if (!later && set(conf, key, eq + 1, errstr, errstr_size) < 0) goto fail;
    }
    rr_kafka_conf_log(conf);
    if (conf_hook) conf_hook(conf, hook_arg);
    char why[512];
    rd_kafka_t *rk = rd_kafka_new(type, conf, why, sizeof why);
    if (!rk) {
        snprintf(errstr, errstr_size, "Kafka client: %s", why);
        goto fail;
    }
    return rk; /* it owns conf now */
fail:
    rd_kafka_conf_destroy(conf);
    return NULL;
}

/* Fetching, measured on a bounded 5M-event run (docs/kafka.md): librdkafka
 * (2.0, Debian 12's) stops fetching while its queue holds queued.min.messages
 * and looks again only when its broker thread next wakes, up to 1 s later
 * (librdkafka 2.1 made that fetch.queue.backoff.ms). At the default of
 * 100,000 an engine, slower per event than the fetcher, sat idle for most of
 * each such second: 4.5 s for the run, 2.4 s now. A million keeps it
 * busy through that second. Fetches stay at librdkafka's 1 MB a partition (8 MB ones made
 * both the run and a bare consumer slower, and bigger); the queue is also
 * bounded by queued.max.messages.kbytes. -X changes any of them. */
static rd_kafka_t *consumer(const rr_kafka_opts_t *o, const char *group, int eof, const char *reset,
                            void (*conf_hook)(rd_kafka_conf_t *, void *), void *hook_arg,
                            char *errstr, size_t errstr_size)
{
    const char *defaults[] = {"group.id",
                              group,
                              "enable.auto.commit",
                              "false",
                              "enable.auto.offset.store",
                              "false",
                              "enable.partition.eof",
                              eof ? "true" : "false",
                              "auto.offset.reset",
                              reset,
                              "isolation.level",
                              "read_committed",
                              "queued.max.messages.kbytes",
                              "262144",
                              "queued.min.messages",
                              "1000000",
                              NULL};
    return rr_kafka_new(RD_KAFKA_CONSUMER, o, defaults, conf_hook, hook_arg, errstr, errstr_size);
}

rd_kafka_t *rr_kafka_consumer_new(const rr_kafka_opts_t *o, const char *group, int eof,
                                  void (*conf_hook)(rd_kafka_conf_t *, void *), void *hook_arg,
                                  char *errstr, size_t errstr_size)
{
    return consumer(o, group, eof, "earliest", conf_hook, hook_arg, errstr, errstr_size);
}

/* A reader assigns every partition at an offset of its own choosing, so the
 * only time librdkafka applies auto.offset.reset is when that offset is gone:
 * records deleted under it (retention, DeleteRecords, a topic recreated).
 * "earliest" would skip them silently, with a log line at most; "error"
 * hands the partition's queue a RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET message
 * at the offset that is gone and stops fetching it (rr_kafka_is_reset). */
rd_kafka_t *rr_kafka_reader_new(const rr_kafka_opts_t *o, const char *group, char *errstr,
                                size_t errstr_size)
{
    return consumer(o, group, 1, "error", NULL, NULL, errstr, errstr_size);
}

int rr_kafka_is_reset(const rd_kafka_message_t *m)
{
    return m->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET;
}

typedef struct destroyer {
    rd_kafka_t *rk;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done, abandoned;
} destroyer_t;

static void *destroy_main(void *arg)
{
    destroyer_t *d = arg;
    rd_kafka_destroy(d->rk);
    pthread_mutex_lock(&d->mu);
    d->done = 1;
    int abandoned = d->abandoned;
    pthread_cond_signal(&d->cv);
    pthread_mutex_unlock(&d->mu);
    if (abandoned) { /* the caller went on without us: ours to free */
        pthread_cond_destroy(&d->cv);
        pthread_mutex_destroy(&d->mu);
        free(d);
    }
    return NULL;
}

int rr_kafka_destroy_within(rd_kafka_t *rk, int timeout_ms)
{
    destroyer_t *d = calloc(1, sizeof *d);
    pthread_t t;
    if (d) {
        d->rk = rk;
        pthread_mutex_init(&d->mu, NULL);
        pthread_cond_init(&d->cv, NULL);
    }
    if (!d || pthread_create(&t, NULL, destroy_main, d) != 0) { /* then, as ever */
        if (d) {
            pthread_cond_destroy(&d->cv);
            pthread_mutex_destroy(&d->mu);
        }
        free(d);
        rd_kafka_destroy(rk);
        return 1;
    }
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&d->mu);
    while (!d->done && pthread_cond_timedwait(&d->cv, &d->mu, &until) == 0)
        ;
    int done = d->done;
    d->abandoned = !done;
    pthread_mutex_unlock(&d->mu);
    if (done) {
        pthread_join(t, NULL);
        pthread_cond_destroy(&d->cv);
        pthread_mutex_destroy(&d->mu);
        free(d);
    } else {
        pthread_detach(t);
    }
    return done;
}

int rr_kafka_log_bounds(rd_kafka_t *rk, const char *topic, int32_t p, int64_t *lo, int64_t *hi,
                        char *errstr, size_t errstr_size)
{
    rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(rk, topic, p, lo, hi, 10000);
    if (e)
        snprintf(errstr, errstr_size, "%s[%d]: cannot read its log start offset: %s", topic, (int)p,
                 rd_kafka_err2str(e));
    return e ? -1 : 0;
}

rd_kafka_resp_err_t rr_kafka_committed(rd_kafka_t *rk, rd_kafka_topic_partition_list_t *l,
                                       int timeout_ms)
{
    double until = rr_mono_s() + timeout_ms / 1000.0;
    for (;;) {
        double left = until - rr_mono_s();
        rd_kafka_resp_err_t e = rd_kafka_committed(rk, l, left > 1 ? (int)(left * 1000) : 1000);
        int transient = e == RD_KAFKA_RESP_ERR_NOT_COORDINATOR ||
                        e == RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS ||
                        e == RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE;
        if (!transient || rr_mono_s() >= until) return e;
        struct timespec ts = {0, 200 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

int rr_kafka_partition_count(rd_kafka_t *rk, const char *topic, int timeout_ms, char *errstr,
                             size_t errstr_size)
{
    rd_kafka_topic_t *t = rd_kafka_topic_new(rk, topic, NULL);
    if (!t) {
        snprintf(errstr, errstr_size, "topic '%s': %s", topic,
                 rd_kafka_err2str(rd_kafka_last_error()));
        return -1;
    }
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, t, &md, timeout_ms);
    rd_kafka_topic_destroy(t);
    if (e) {
        snprintf(errstr, errstr_size, "topic '%s': no metadata from the cluster: %s", topic,
                 rd_kafka_err2str(e));
        return -1;
    }
    int count = 0;
    if (md->topic_cnt == 1) {
        e = md->topics[0].err;
        if (e == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
            count = 0;
        else if (e) {
            snprintf(errstr, errstr_size, "topic '%s': %s", topic, rd_kafka_err2str(e));
            count = -1;
        } else {
            count = md->topics[0].partition_cnt;
        }
    }
    rd_kafka_metadata_destroy(md);
    return count;
}

/* An admin request's options, timeout_ms for the cluster to answer. */
static rd_kafka_AdminOptions_t *admin_options(rd_kafka_t *rk, rd_kafka_admin_op_t op,
                                              int timeout_ms)
{
    char why[256];
    rd_kafka_AdminOptions_t *ao = rd_kafka_AdminOptions_new(rk, op);
    if (op == RD_KAFKA_ADMIN_OP_CREATETOPICS)
        rd_kafka_AdminOptions_set_operation_timeout(ao, timeout_ms, why, sizeof why);
    else
        rd_kafka_AdminOptions_set_request_timeout(ao, timeout_ms, why, sizeof why);
    return ao;
}

/* The answer to an admin request sent to q: its event (the caller destroys
 * it), or NULL with errstr after what (no answer in time, or the request
 * failed as a whole). */
static rd_kafka_event_t *admin_answer(rd_kafka_queue_t *q, int timeout_ms, const char *what,
                                      char *errstr, size_t errstr_size)
{
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, timeout_ms + 5000);
    if (!ev) {
        snprintf(errstr, errstr_size, "%s: no answer from the cluster in %d ms", what, timeout_ms);
    } else if (rd_kafka_event_error(ev)) {
        snprintf(errstr, errstr_size, "%s: %s", what, rd_kafka_event_error_string(ev));
        rd_kafka_event_destroy(ev);
        ev = NULL;
    }
    return ev;
}

int rr_kafka_create_topic(rd_kafka_t *rk, const char *topic, int partitions,
                          const char *const *configs, int timeout_ms, char *errstr,
                          size_t errstr_size)
{
    char why[512];
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, partitions, -1, why, sizeof why);
    if (!nt) {
        snprintf(errstr, errstr_size, "create topic '%s': %s", topic, why);
        return -1;
    }
    for (int i = 0; configs && configs[i]; i += 2)
        rd_kafka_NewTopic_set_config(nt, configs[i], configs[i + 1]);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *ao = admin_options(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS, timeout_ms);
    rd_kafka_CreateTopics(rk, &nt, 1, ao, q);
    snprintf(why, sizeof why, "create topic '%s'", topic);
    rd_kafka_event_t *ev = admin_answer(q, timeout_ms, why, errstr, errstr_size);
    int rc = -1;
    if (ev) {
        size_t cnt = 0;
        const rd_kafka_topic_result_t **res =
            rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &cnt);
        rd_kafka_resp_err_t e =
            cnt ? rd_kafka_topic_result_error(res[0]) : RD_KAFKA_RESP_ERR_NO_ERROR;
        if (e && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
            snprintf(errstr, errstr_size, "create topic '%s': %s", topic,
                     rd_kafka_topic_result_error_string(res[0])
                         ? rd_kafka_topic_result_error_string(res[0])
                         : rd_kafka_err2str(e));
        else
            rc = 0;
    }
    if (ev) rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(ao);
    rd_kafka_queue_destroy(q);
    rd_kafka_NewTopic_destroy(nt);
    return rc;
}

int rr_kafka_topic_configs(rd_kafka_t *rk, const char *topic, const char *const *names, int count,
                           char **values, int timeout_ms, char *errstr, size_t errstr_size)
{
    for (int i = 0; i < count; i++)
        values[i] = NULL;
    char what[320];
    rd_kafka_ConfigResource_t *res = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *ao = admin_options(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, timeout_ms);
    rd_kafka_DescribeConfigs(rk, &res, 1, ao, q);
    snprintf(what, sizeof what, "topic '%s': describe configs", topic);
    rd_kafka_event_t *ev = admin_answer(q, timeout_ms, what, errstr, errstr_size);
    int rc = -1;
    if (ev) {
        size_t nres = 0, ncfg = 0;
        const rd_kafka_DescribeConfigs_result_t *dr = rd_kafka_event_DescribeConfigs_result(ev);
        const rd_kafka_ConfigResource_t **rs = rd_kafka_DescribeConfigs_result_resources(dr, &nres);
        if (nres != 1 || rd_kafka_ConfigResource_error(rs[0])) {
            snprintf(errstr, errstr_size, "%s: %s", what,
                     nres == 1 ? rd_kafka_ConfigResource_error_string(rs[0]) : "no answer for it");
        } else {
            const rd_kafka_ConfigEntry_t **cs = rd_kafka_ConfigResource_configs(rs[0], &ncfg);
            rc = 0;
            for (size_t c = 0; c < ncfg && !rc; c++)
                for (int i = 0; i < count; i++) {
                    const char *v = rd_kafka_ConfigEntry_value(cs[c]);
                    if (v && !values[i] && !strcmp(rd_kafka_ConfigEntry_name(cs[c]), names[i]) &&
                        !(values[i] = strdup(v))) {
                        snprintf(errstr, errstr_size, "out of memory");
                        rc = -1;
                    }
                }
        }
    }
    if (rc < 0)
        for (int i = 0; i < count; i++) {
            free(values[i]);
            values[i] = NULL;
        }
    if (ev) rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(ao);
    rd_kafka_queue_destroy(q);
    rd_kafka_ConfigResource_destroy(res);
    return rc;
}

/* Errors a partition's leader answers with while leadership settles. */
static int leadership_settling(rd_kafka_resp_err_t e)
{
    return e == RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION ||
           e == RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE ||
           e == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
           e == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION || e == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC;
}

int rr_kafka_watermarks(const rr_kafka_opts_t *o, const char *topic, int np, int64_t *lo,
                        int64_t *hi, char *errstr, size_t errstr_size)
{
    static const char *const defaults[] = {"group.id", "replyrate-watermarks", "isolation.level",
                                           "read_uncommitted", NULL};
    rr_kafka_opts_t plain = *o;
    plain.n_props = 0; /* -X may set isolation.level for the reader; not for this */
    for (int i = 0; i < o->n_props; i++)
        if (strncmp(o->props[i], "isolation.level=", 16) && strncmp(o->props[i], "group.id=", 9))
            plain.props[plain.n_props++] = o->props[i];
    rd_kafka_t *rk =
        rr_kafka_new(RD_KAFKA_CONSUMER, &plain, defaults, NULL, NULL, errstr, errstr_size);
    if (!rk) return -1;
    int rc = 0;
    double give_up = rr_mono_s() + 15;
    for (int32_t p = 0; p < np && !rc; p++) {
        rd_kafka_resp_err_t e;
        /* a topic just created, or a leader just moved: asked again, for a while */
        while ((e = rd_kafka_query_watermark_offsets(rk, topic, p, &lo[p], &hi[p], 10000)) &&
               leadership_settling(e) && rr_mono_s() < give_up) {
            struct timespec ts = {0, 200 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        if (e) {
            snprintf(errstr, errstr_size, "%s[%d]: cannot read its end offset: %s", topic, p,
                     rd_kafka_err2str(e));
            rc = -1;
        }
    }
    rd_kafka_destroy(rk);
    return rc;
}

int rr_kafka_read_to_end(rd_kafka_t *rk, const rr_kafka_opts_t *ko, const char *topic,
                         rr_kafka_record_fn fn, void *arg, int timeout_s, const char *who,
                         uint64_t *deleted, char *errstr, size_t errstr_size)
{
    if (deleted) *deleted = 0;
    int np = rr_kafka_partition_count(rk, topic, 10000, errstr, errstr_size);
    if (np == 0) snprintf(errstr, errstr_size, "topic '%s' does not exist", topic);
    if (np <= 0) return -1;
    int64_t *end = calloc((size_t)np, sizeof *end), *start = calloc((size_t)np, sizeof *start);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(np);
    int remaining = 0, rc = -1;
    if (!end || !start) {
        snprintf(errstr, errstr_size, "out of memory");
        goto out;
    }
    if (rr_kafka_watermarks(ko, topic, np, start, end, errstr, errstr_size) < 0) goto out;
    for (int32_t p = 0; p < np; p++) {
        if (deleted) *deleted += (uint64_t)start[p];
        if (start[p] < end[p]) {
            rd_kafka_topic_partition_list_add(l, topic, p)->offset = start[p];
            remaining++;
        } else {
            end[p] = -1; /* done: nothing to read */
        }
    }
    if (remaining && rd_kafka_assign(rk, l)) {
        snprintf(errstr, errstr_size, "%s: assign failed", topic);
        goto out;
    }
    double last_progress = rr_mono_s(), last_warn = 0;
    while (remaining > 0) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
        if (!m) {
            if (rr_mono_s() - last_progress > timeout_s) {
                snprintf(errstr, errstr_size, "%s: no progress in %d s", topic, timeout_s);
                goto out;
            }
            continue;
        }
        int32_t p = m->partition;
        /* a message of a topic read before may still be queued: not ours */
        int known = m->rkt && !strcmp(rd_kafka_topic_name(m->rkt), topic) && p >= 0 && p < np &&
                    end[p] >= 0;
        int stop = 0;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            stop = known && m->offset >= end[p];
        } else if (known && rr_kafka_is_reset(m)) {
            snprintf(errstr, errstr_size,
                     "%s[%d]: records from offset %lld on were deleted while reading them "
                     "(retention or DeleteRecords): %s",
                     topic, (int)p, (long long)m->offset, rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            goto out;
        } else if (m->err) {
            char fatal[256];
            if (rd_kafka_fatal_error(rk, fatal, sizeof fatal)) {
                snprintf(errstr, errstr_size, "%s: %s", topic, fatal);
                rd_kafka_message_destroy(m);
                goto out;
            }
            if (rr_mono_s() - last_warn > 5) { /* transient: the client retries */
                rr_log(RR_LOG_WARN, "kafka", "%s: %s: %s (waiting)", who, topic,
                       rd_kafka_message_errstr(m));
                last_warn = rr_mono_s();
            }
        } else if (known) {
            last_progress = rr_mono_s();
            if (m->offset < end[p] && fn(arg, m, errstr, errstr_size) < 0) {
                rd_kafka_message_destroy(m);
                goto out;
            }
            stop = m->offset >= end[p] - 1;
        }
        if (stop) {
            end[p] = -1;
            remaining--;
        }
        rd_kafka_message_destroy(m);
    }
    rc = 0;
out:
    rd_kafka_assign(rk, NULL);
    rd_kafka_topic_partition_list_destroy(l);
    free(end);
    free(start);
    return rc;
}

static void to_records(rd_kafka_message_t *const *msgs, size_t n, rr_record_t *recs)
{
    static const uint8_t empty[1];
    for (size_t i = 0; i < n; i++) {
        recs[i].data = msgs[i]->payload ? msgs[i]->payload : empty;
        recs[i].len = msgs[i]->len;
        recs[i].offset = msgs[i]->offset;
        recs[i].status = RR_FRAME_OK;
    }
}

void rr_kafka_feed(rr_engine_t *eng, int p, rd_kafka_message_t *const *msgs, size_t n,
                   rr_record_t *recs, int64_t now_ms)
{
    to_records(msgs, n, recs);
    rr_feed_records(eng, p, recs, n, now_ms, NULL);
}

size_t rr_kafka_feed_until(rr_engine_t *eng, int p, rd_kafka_message_t *const *msgs, size_t n,
                           rr_record_t *recs, int64_t now_ms, int64_t stop_wm, int64_t lateness_ms)
{
    to_records(msgs, n, recs);
    return rr_feed_records_until(eng, p, recs, n, now_ms, NULL, stop_wm, lateness_ms);
}
