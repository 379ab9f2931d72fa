/* tests/unit/engine_harness.h: drive an rr_engine_t through its public API
 * and capture every record it publishes, for tests/unit/test_engine.c.
 *
 * A capture_t copies each record out of its callback (the engine's pointers
 * are borrowed, valid only during the call) together with the number of
 * offers made so far, so a test can tell *when* a day was published.
 * A harness_t owns one engine, its zone, its capture and an event buffer
 * that can be replayed in sorted (ts_ms, event_id) order.
 *
 * Times: ev(...) takes local wall-clock times "HH:MM:SS[.mmm]" on
 * 2026-11-22 in Asia/Shanghai (UTC+8, no DST since 1991); hours >= 24 run on
 * into the next days ("24:30:00" is 2026-11-23 00:30). AT("10:00:00") is
 * 1795312800000.
 *
 * Everything is static: include this header from one test file only.
 */
#ifndef RR_TESTS_ENGINE_HARNESS_H
#define RR_TESTS_ENGINE_HARNESS_H

#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/tz.h"
#include "io/tzload.h"
#include "replyrate/config.h"
#include "replyrate/engine.h"

/* 2026-11-22T00:00:00+08:00 */
#define MIDNIGHT_1122 INT64_C(1795276800000)
#define DAY1122 20261122
#define DAY1123 20261123
#define DAY1124 20261124
#define HOUR_MS INT64_C(3600000)
#define FAR_FUTURE INT64_C(4000000000000) /* wall clock for offers: year 2096 */

/* ---- local times --------------------------------------------------------- */

/* "HH:MM:SS" or "HH:MM:SS.mmm" on 2026-11-22 Asia/Shanghai, as UTC ms. */
static int64_t AT(const char *hms)
{
    int h = 0, m = 0, s = 0, ms = 0;
    int n = sscanf(hms, "%d:%d:%d.%d", &h, &m, &s, &ms);
    cr_assert(n >= 3, "bad time \"%s\"", hms);
    return MIDNIGHT_1122 + (int64_t)h * HOUR_MS + (int64_t)m * 60000 + (int64_t)s * 1000 + ms;
}

/* ---- events --------------------------------------------------------------- */

static rr_event_t ev_ts(uint32_t type, uint64_t eid, uint64_t conv, uint64_t buyer, uint64_t agent,
                        int64_t ts)
{
    rr_event_t e;
    memset(&e, 0, sizeof e);
    e.type = type;
    e.event_id = eid;
    e.shop_id = 1;
    e.conversation_id = conv;
    e.buyer_id = buyer;
    e.agent_id = agent;
    e.ts_ms = ts;
    return e;
}

static rr_event_t ev(uint32_t type, uint64_t eid, uint64_t conv, uint64_t buyer, uint64_t agent,
                     const char *hms)
{
    return ev_ts(type, eid, conv, buyer, agent, AT(hms));
}

static rr_event_t with_shop(rr_event_t e, uint64_t shop)
{
    e.shop_id = shop;
    return e;
}

static rr_event_t with_flags(rr_event_t e, uint32_t flags)
{
    e.flags = flags;
    return e;
}

static rr_event_t with_rating(rr_event_t e, uint32_t rating)
{
    e.rating = rating;
    return e;
}

/* ---- capture sink ------------------------------------------------------- */

typedef struct cap_day {
    int is_agent;
    uint64_t shop, agent;
    int32_t day;
    int final;
    uint32_t revision;
    char version[64];
    rr_value_t v[RR_MAX_METRICS];
    long at_offer; /* offers made when it was published */
    int at_finish; /* published inside rr_engine_finish */
    size_t seq;    /* position among all captured records */
} cap_day_t;

typedef struct cap_viol {
    rr_violation_record_t r; /* metric/version point into the strings below */
    char metric[RR_NAME_MAX];
    char version[64];
    long at_offer;
    size_t seq;
} cap_viol_t;

typedef struct cap_alert {
    uint64_t shop;
    int32_t day;
    char rule[RR_NAME_MAX];
    double value;
    int final;
    long at_offer;
} cap_alert_t;

typedef struct cap_rej {
    rr_verdict_t verdict;
    char reason[64];
    char source[64];
    int32_t partition;
    int64_t offset;
    int decoded;
    rr_event_t event;
    int64_t watermark_ms;
    size_t raw_len;
} cap_rej_t;

typedef struct capture {
    char names[RR_MAX_METRICS][RR_NAME_MAX];
    rr_metric_kind_t kinds[RR_MAX_METRICS];
    size_t n_metrics;
    cap_day_t *days;
    size_t n_days, cap_days;
    cap_viol_t *viols;
    size_t n_viols, cap_viols;
    cap_alert_t *alerts;
    size_t n_alerts, cap_alerts;
    cap_rej_t *rejs;
    size_t n_rejs, cap_rejs;
    long offers;
    int finishing;
    size_t seq;
} capture_t;

#define CAP_PUSH(arr, n, capn)                                                                     \
    do {                                                                                           \
        if ((n) == (capn)) {                                                                       \
            (capn) = (capn) ? (capn)*2 : 16;                                                       \
            (arr) = realloc((arr), (capn) * sizeof *(arr));                                        \
            cr_assert_not_null((arr));                                                             \
        }                                                                                          \
    } while (0)

static void cap_on_day(void *opaque, const rr_day_record_t *r)
{
    capture_t *c = opaque;
    CAP_PUSH(c->days, c->n_days, c->cap_days);
    cap_day_t *d = &c->days[c->n_days++];
    memset(d, 0, sizeof *d);
    d->is_agent = r->is_agent;
    d->shop = r->shop_id;
    d->agent = r->agent_id;
    d->day = r->day;
    d->final = r->final;
    d->revision = r->revision;
    snprintf(d->version, sizeof d->version, "%s", r->version ? r->version : "");
    cr_assert_not_null(r->cfg);
    cr_assert_leq(r->cfg->n_metrics, (size_t)RR_MAX_METRICS);
    c->n_metrics = r->cfg->n_metrics;
    for (size_t m = 0; m < r->cfg->n_metrics; m++) {
        snprintf(c->names[m], RR_NAME_MAX, "%s", r->cfg->metrics[m].name);
        c->kinds[m] = r->cfg->metrics[m].kind;
        d->v[m] = r->values[m];
    }
    d->at_offer = c->offers;
    d->at_finish = c->finishing;
    d->seq = c->seq++;
}

static void cap_on_violation(void *opaque, const rr_violation_record_t *r)
{
    capture_t *c = opaque;
    CAP_PUSH(c->viols, c->n_viols, c->cap_viols);
    cap_viol_t *v = &c->viols[c->n_viols++];
    memset(v, 0, sizeof *v);
    v->r = *r;
    snprintf(v->metric, sizeof v->metric, "%s", r->metric ? r->metric : "");
    snprintf(v->version, sizeof v->version, "%s", r->version ? r->version : "");
    v->r.metric = NULL; /* borrowed: do not keep */
    v->r.version = NULL;
    v->at_offer = c->offers;
    v->seq = c->seq++;
}

static void cap_on_alert(void *opaque, const rr_alert_record_t *r)
{
    capture_t *c = opaque;
    CAP_PUSH(c->alerts, c->n_alerts, c->cap_alerts);
    cap_alert_t *a = &c->alerts[c->n_alerts++];
    memset(a, 0, sizeof *a);
    a->shop = r->shop_id;
    a->day = r->day;
    snprintf(a->rule, sizeof a->rule, "%s", r->rule);
    a->value = r->value;
    a->final = r->final;
    a->at_offer = c->offers;
    c->seq++;
}

static void cap_on_rejected(void *opaque, const rr_rejected_record_t *r)
{
    capture_t *c = opaque;
    CAP_PUSH(c->rejs, c->n_rejs, c->cap_rejs);
    cap_rej_t *x = &c->rejs[c->n_rejs++];
    memset(x, 0, sizeof *x);
    x->verdict = r->verdict;
    snprintf(x->reason, sizeof x->reason, "%s", r->reason ? r->reason : "(null)");
    snprintf(x->source, sizeof x->source, "%s", r->source ? r->source : "(null)");
    x->partition = r->partition;
    x->offset = r->offset;
    x->decoded = r->decoded;
    x->event = r->event;
    x->watermark_ms = r->watermark_ms;
    x->raw_len = r->raw_len;
}

static void cap_free(capture_t *c)
{
    free(c->days);
    free(c->viols);
    free(c->alerts);
    free(c->rejs);
    memset(c, 0, sizeof *c);
}

static int cap_metric_index(const capture_t *c, const char *name)
{
    for (size_t m = 0; m < c->n_metrics; m++)
        if (strcmp(c->names[m], name) == 0) return (int)m;
    return -1;
}

/* The one shop_day (agent == UINT64_MAX) or agent_day record for the key, or
 * NULL; fails the test if the key was published more than once. */
#define SHOP UINT64_MAX
static const cap_day_t *cap_find(const capture_t *c, uint64_t shop, uint64_t agent, int32_t day)
{
    const cap_day_t *found = NULL;
    for (size_t i = 0; i < c->n_days; i++) {
        const cap_day_t *d = &c->days[i];
        int is_agent = agent != SHOP;
        if (d->is_agent != is_agent || d->shop != shop || d->day != day ||
            (is_agent && d->agent != agent))
            continue;
        cr_assert_null(found, "%s record shop %" PRIu64 " agent %" PRIu64 " day %d published twice",
                       is_agent ? "agent_day" : "shop_day", shop, agent, (int)day);
        found = d;
    }
    return found;
}

/* The metric's value in a record (zero if the record is NULL). */
static rr_value_t cap_value(const capture_t *c, const cap_day_t *d, const char *metric)
{
    rr_value_t z;
    memset(&z, 0, sizeof z);
    if (!d) return z;
    int m = cap_metric_index(c, metric);
    cr_assert_geq(m, 0, "no metric \"%s\" in the records", metric);
    return d->v[m];
}

static size_t cap_count_viols(const capture_t *c, const char *metric, uint64_t conv)
{
    size_t n = 0;
    for (size_t i = 0; i < c->n_viols; i++)
        if ((!metric || strcmp(c->viols[i].metric, metric) == 0) &&
            (!conv || c->viols[i].r.conversation_id == conv))
            n++;
    return n;
}

/* The violation of metric for the round of conv starting at start (fails if
 * absent or repeated). */
static const rr_violation_record_t *cap_viol(const capture_t *c, const char *metric, uint64_t conv,
                                             int64_t start)
{
    const rr_violation_record_t *found = NULL;
    for (size_t i = 0; i < c->n_viols; i++) {
        const cap_viol_t *v = &c->viols[i];
        if (strcmp(v->metric, metric) == 0 && v->r.conversation_id == conv &&
            v->r.round_start_ms == start) {
            cr_assert_null(found, "violation %s conv %" PRIu64 " start %" PRId64 " repeated",
                           metric, conv, start);
            found = &v->r;
        }
    }
    cr_assert_not_null(found, "no violation %s for conv %" PRIu64 " round start %" PRId64, metric,
                       conv, start);
    return found;
}

static size_t cap_count_alerts(const capture_t *c, const char *rule)
{
    size_t n = 0;
    for (size_t i = 0; i < c->n_alerts; i++)
        if (!rule || strcmp(c->alerts[i].rule, rule) == 0) n++;
    return n;
}

/* Every record as one line of text, sorted: two runs that publish the same
 * records (in any order) give equal strings. Caller frees. */
static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *cap_canon(const capture_t *c)
{
    size_t n = c->n_days + c->n_viols + c->n_alerts, k = 0;
    char **lines = calloc(n ? n : 1, sizeof *lines);
    cr_assert_not_null(lines);
    for (size_t i = 0; i < c->n_days; i++) {
        const cap_day_t *d = &c->days[i];
        char buf[8192];
        int len = snprintf(buf, sizeof buf, "%s shop=%" PRIu64 " agent=%" PRIu64 " day=%d final=%d",
                           d->is_agent ? "agent_day" : "shop_day", d->shop,
                           d->is_agent ? d->agent : 0, (int)d->day, d->final);
        for (size_t m = 0; m < c->n_metrics; m++) {
            const rr_value_t *v = &d->v[m];
            len += snprintf(buf + len, sizeof buf - (size_t)len,
                            " %s=%" PRId64 "/%" PRId64 "/%" PRId64, c->names[m], v->num, v->den,
                            v->unanswered);
            for (int b = 0; b < RR_BUCKETS; b++)
                len += snprintf(buf + len, sizeof buf - (size_t)len, ",%" PRId64, v->buckets[b]);
        }
        lines[k++] = strdup(buf);
    }
    for (size_t i = 0; i < c->n_viols; i++) {
        const cap_viol_t *v = &c->viols[i];
        char buf[512];
        snprintf(buf, sizeof buf,
                 "violation shop=%" PRIu64 " day=%d metric=%s conv=%" PRIu64 " buyer=%" PRIu64
                 " agent=%" PRIu64 " start=%" PRId64 " answered=%d reply=%" PRId64 " wait=%" PRId64
                 " msgs=%u reason=%d final=%d",
                 v->r.shop_id, (int)v->r.day, v->metric, v->r.conversation_id, v->r.buyer_id,
                 v->r.agent_id, v->r.round_start_ms, v->r.answered,
                 v->r.answered ? v->r.reply_ms : 0, v->r.answered ? v->r.wait_ms : 0, v->r.messages,
                 (int)v->r.reason, v->r.final);
        lines[k++] = strdup(buf);
    }
    for (size_t i = 0; i < c->n_alerts; i++) {
        const cap_alert_t *a = &c->alerts[i];
        char buf[256];
        snprintf(buf, sizeof buf, "alert shop=%" PRIu64 " day=%d rule=%s value=%.9f final=%d",
                 a->shop, (int)a->day, a->rule, a->value, a->final);
        lines[k++] = strdup(buf);
    }
    qsort(lines, k, sizeof *lines, cmp_str);
    size_t total = 1;
    for (size_t i = 0; i < k; i++)
        total += strlen(lines[i]) + 1;
    char *out = malloc(total);
    cr_assert_not_null(out);
    out[0] = 0;
    size_t pos = 0;
    for (size_t i = 0; i < k; i++) {
        size_t l = strlen(lines[i]);
        memcpy(out + pos, lines[i], l);
        out[pos + l] = '\n';
        pos += l + 1;
        free(lines[i]);
    }
    out[pos] = 0;
    free(lines);
    return out;
}

/* ---- harness -------------------------------------------------------------- */

#define H_MAX_PARTS 8

typedef struct harness {
    rr_config_t cfg;
    rr_tz_t *tz;
    rr_engine_t *e;
    rr_sink_t sink;
    capture_t cap;
    int part[H_MAX_PARTS];
    int n_parts;
    int64_t now;    /* wall clock passed with offers */
    int64_t offset; /* next source offset */
    rr_event_t *buf;
    size_t n_buf, cap_buf;
} harness_t;

static rr_tz_t *load_zone(const char *name)
{
    rr_tz_t *tz = NULL;
    char err[256] = "";
    cr_assert_eq(rr_tz_load(name, &tz, err, sizeof err), 0, "rr_tz_load(%s): %s", name, err);
    return tz;
}

/* cfg NULL: the built-in default. tz is taken over (NULL: Asia/Shanghai). */
static void h_init_tz(harness_t *h, const rr_config_t *cfg, rr_tz_t *tz, int n_parts)
{
    char err[512] = "";
    memset(h, 0, sizeof *h);
    if (cfg)
        h->cfg = *cfg;
    else
        rr_config_default(&h->cfg);
    h->tz = tz ? tz : load_zone("Asia/Shanghai");
    h->sink.opaque = &h->cap;
    h->sink.day = cap_on_day;
    h->sink.violation = cap_on_violation;
    h->sink.alert = cap_on_alert;
    h->sink.rejected = cap_on_rejected;
    cr_assert_eq(rr_engine_new(&h->cfg, h->tz, &h->sink, &h->e, err, sizeof err), 0,
                 "rr_engine_new: %s", err);
    cr_assert_leq(n_parts, H_MAX_PARTS);
    for (int i = 0; i < n_parts; i++) {
        char name[32];
        snprintf(name, sizeof name, "part-%d", i);
        h->part[i] = rr_engine_add_partition(h->e, name);
        cr_assert_geq(h->part[i], 0);
    }
    h->n_parts = n_parts;
    h->now = FAR_FUTURE;
}

static void h_init(harness_t *h)
{
    h_init_tz(h, NULL, NULL, 1);
}

static void h_free(harness_t *h)
{
    rr_engine_free(h->e);
    rr_tz_free(h->tz);
    cap_free(&h->cap);
    free(h->buf);
    memset(h, 0, sizeof *h);
}

static rr_verdict_t h_offer_p(harness_t *h, int p, rr_event_t e)
{
    h->cap.offers++;
    return rr_engine_offer(h->e, h->part[p], &e, h->offset++, NULL, 0, h->now);
}

static rr_verdict_t h_offer(harness_t *h, rr_event_t e)
{
    return h_offer_p(h, 0, e);
}

/* Offer and require the verdict. */
#define OFFER_AS(h, e, want)                                                                       \
    do {                                                                                           \
        rr_event_t ev_ = (e);                                                                      \
        rr_verdict_t got_ = h_offer((h), ev_);                                                     \
        cr_assert_eq(got_, (want), "event %" PRIu64 " (ts %" PRId64 "): verdict %d, want %d",      \
                     ev_.event_id, ev_.ts_ms, (int)got_, (int)(want));                             \
    } while (0)

static void h_finish(harness_t *h)
{
    h->cap.finishing = 1;
    rr_engine_finish(h->e);
    h->cap.finishing = 0;
}

/* Buffer an event for h_run_* */
static void h_add(harness_t *h, rr_event_t e)
{
    CAP_PUSH(h->buf, h->n_buf, h->cap_buf);
    h->buf[h->n_buf++] = e;
}

static int cmp_ev(const void *a, const void *b)
{
    const rr_event_t *x = a, *y = b;
    if (x->ts_ms != y->ts_ms) return x->ts_ms < y->ts_ms ? -1 : 1;
    if (x->event_id != y->event_id) return x->event_id < y->event_id ? -1 : 1;
    return 0;
}

/* Offer the buffered events in sorted (ts, event_id) order, all applied. */
static void h_offer_sorted(harness_t *h)
{
    qsort(h->buf, h->n_buf, sizeof *h->buf, cmp_ev);
    for (size_t i = 0; i < h->n_buf; i++)
        OFFER_AS(h, h->buf[i], RR_APPLIED);
    h->n_buf = 0;
}

/* Offer the buffered events sorted, then finish the run. */
static void h_run(harness_t *h)
{
    h_offer_sorted(h);
    h_finish(h);
}

static void h_stats(const harness_t *h, rr_stats_t *st)
{
    rr_engine_stats(h->e, st);
}

/* shop_day / agent_day value lookups */
static rr_value_t shop_val(const harness_t *h, uint64_t shop, int32_t day, const char *metric)
{
    return cap_value(&h->cap, cap_find(&h->cap, shop, SHOP, day), metric);
}

static rr_value_t agent_val(const harness_t *h, uint64_t shop, uint64_t agent, int32_t day,
                            const char *metric)
{
    return cap_value(&h->cap, cap_find(&h->cap, shop, agent, day), metric);
}

#define EXPECT_ND(val, n, d, what)                                                                 \
    do {                                                                                           \
        rr_value_t v_ = (val);                                                                     \
        cr_expect(v_.num == (n) && v_.den == (d), "%s: got %" PRId64 "/%" PRId64 ", want %d/%d",   \
                  (what), v_.num, v_.den, (int)(n), (int)(d));                                     \
    } while (0)

/* shop 1, day 2026-11-22 */
#define EXPECT_SHOP(h, metric, n, d) EXPECT_ND(shop_val((h), 1, DAY1122, (metric)), n, d, metric)
#define EXPECT_AGENT(h, agent, metric, n, d)                                                       \
    EXPECT_ND(agent_val((h), 1, (agent), DAY1122, (metric)), n, d, "agent " #agent " " metric)

/* The three 3-minute metrics of SPEC §8: message, session, buyer. */
#define EXPECT_3MIN(h, mn, md, sn, sd, bn, bd)                                                     \
    do {                                                                                           \
        EXPECT_SHOP(h, "douyin_msg_3min", mn, md);                                                 \
        EXPECT_SHOP(h, "douyin_session_3min", sn, sd);                                             \
        EXPECT_SHOP(h, "pdd_buyer_3min", bn, bd);                                                  \
    } while (0)

/* One violation per 3-minute metric for conv's round at start. */
static void expect_violation3(const harness_t *h, uint64_t conv, int64_t start, rr_reason_t reason,
                              int answered, int64_t wait, uint32_t msgs, uint64_t agent)
{
    static const char *const names[] = {"douyin_msg_3min", "douyin_session_3min", "pdd_buyer_3min"};
    for (int i = 0; i < 3; i++) {
        const rr_violation_record_t *v = cap_viol(&h->cap, names[i], conv, start);
        cr_expect_eq(v->reason, reason, "%s: reason %d, want %d", names[i], (int)v->reason,
                     (int)reason);
        cr_expect_eq(v->answered, answered, "%s: answered", names[i]);
        if (answered) {
            cr_expect_eq(v->wait_ms, wait, "%s: wait %" PRId64 ", want %" PRId64, names[i],
                         v->wait_ms, wait);
            cr_expect_eq(v->reply_ms, start + wait, "%s: reply_ms", names[i]);
        }
        cr_expect_eq(v->messages, msgs, "%s: messages %u, want %u", names[i], v->messages, msgs);
        cr_expect_eq(v->agent_id, agent, "%s: agent %" PRIu64 ", want %" PRIu64, names[i],
                     v->agent_id, agent);
        cr_expect_eq(v->shop_id, 1);
        cr_expect(v->final);
    }
}

/* input == applied + duplicate + late + invalid */
static void expect_counts_add_up(const harness_t *h)
{
    rr_stats_t st;
    h_stats(h, &st);
    cr_expect_eq(st.input, st.applied + st.duplicate + st.late + st.invalid,
                 "input %" PRIu64 " != applied %" PRIu64 " + duplicate %" PRIu64 " + late %" PRIu64
                 " + invalid %" PRIu64,
                 st.input, st.applied, st.duplicate, st.late, st.invalid);
}

/* A small deterministic PRNG (xorshift64*) for shuffles. */
static uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * UINT64_C(2685821657736338717);
}

#endif
