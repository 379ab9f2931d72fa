/* tests/unit/support/engine_harness.c: the engine test harness
 * (engine_harness.h): capture sink, record lookups, harness_t. */
#include "engine_harness.h"

int64_t AT(const char *hms)
{
    int h = 0, m = 0, s = 0, ms = 0;
    int n = sscanf(hms, "%d:%d:%d.%d", &h, &m, &s, &ms);
    cr_assert(n >= 3, "bad time \"%s\"", hms);
    return MIDNIGHT_1122 + (int64_t)h * HOUR_MS + (int64_t)m * 60000 + (int64_t)s * 1000 + ms;
}

rr_event_t ev_ts(uint32_t type, uint64_t eid, uint64_t conv, uint64_t buyer, uint64_t agent,
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

rr_event_t ev(uint32_t type, uint64_t eid, uint64_t conv, uint64_t buyer, uint64_t agent,
              const char *hms)
{
    return ev_ts(type, eid, conv, buyer, agent, AT(hms));
}

rr_event_t with_shop(rr_event_t e, uint64_t shop)
{
    e.shop_id = shop;
    return e;
}

rr_event_t with_flags(rr_event_t e, uint32_t flags)
{
    e.flags = flags;
    return e;
}

rr_event_t with_rating(rr_event_t e, uint32_t rating)
{
    e.rating = rating;
    return e;
}

void cap_on_day(void *opaque, const rr_day_record_t *r)
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

void cap_on_violation(void *opaque, const rr_violation_record_t *r)
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

void cap_on_alert(void *opaque, const rr_alert_record_t *r)
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

void cap_on_rejected(void *opaque, const rr_rejected_record_t *r)
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

void cap_free(capture_t *c)
{
    free(c->days);
    free(c->viols);
    free(c->alerts);
    free(c->rejs);
    memset(c, 0, sizeof *c);
}

int cap_metric_index(const capture_t *c, const char *name)
{
    for (size_t m = 0; m < c->n_metrics; m++)
        if (strcmp(c->names[m], name) == 0) return (int)m;
    return -1;
}

const cap_day_t *cap_find(const capture_t *c, uint64_t shop, uint64_t agent, int32_t day)
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

rr_value_t cap_value(const capture_t *c, const cap_day_t *d, const char *metric)
{
    rr_value_t z;
    memset(&z, 0, sizeof z);
    if (!d) return z;
    int m = cap_metric_index(c, metric);
    cr_assert_geq(m, 0, "no metric \"%s\" in the records", metric);
    return d->v[m];
}

size_t cap_count_viols(const capture_t *c, const char *metric, uint64_t conv)
{
    size_t n = 0;
    for (size_t i = 0; i < c->n_viols; i++)
        if ((!metric || strcmp(c->viols[i].metric, metric) == 0) &&
            (!conv || c->viols[i].r.conversation_id == conv))
            n++;
    return n;
}

const rr_violation_record_t *cap_viol(const capture_t *c, const char *metric, uint64_t conv,
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

size_t cap_count_alerts(const capture_t *c, const char *rule)
{
    size_t n = 0;
    for (size_t i = 0; i < c->n_alerts; i++)
        if (!rule || strcmp(c->alerts[i].rule, rule) == 0) n++;
    return n;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char *cap_canon(const capture_t *c)
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

rr_tz_t *load_zone(const char *name)
{
    rr_tz_t *tz = NULL;
    char err[256] = "";
    cr_assert_eq(rr_tz_load(name, &tz, err, sizeof err), 0, "rr_tz_load(%s): %s", name, err);
    return tz;
}

void h_init_tz(harness_t *h, const rr_config_t *cfg, rr_tz_t *tz, int n_parts)
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

void h_init(harness_t *h)
{
    h_init_tz(h, NULL, NULL, 1);
}

void h_free(harness_t *h)
{
    rr_engine_free(h->e);
    rr_tz_free(h->tz);
    cap_free(&h->cap);
    free(h->buf);
    memset(h, 0, sizeof *h);
}

rr_verdict_t h_offer_p(harness_t *h, int p, rr_event_t e)
{
    h->cap.offers++;
    return rr_engine_offer(h->e, h->part[p], &e, h->offset++, NULL, 0, h->now);
}

rr_verdict_t h_offer(harness_t *h, rr_event_t e)
{
    return h_offer_p(h, 0, e);
}

void h_finish(harness_t *h)
{
    h->cap.finishing = 1;
    rr_engine_finish(h->e);
    h->cap.finishing = 0;
}

void h_add(harness_t *h, rr_event_t e)
{
    CAP_PUSH(h->buf, h->n_buf, h->cap_buf);
    h->buf[h->n_buf++] = e;
}

int ev_cmp(const void *a, const void *b)
{
    const rr_event_t *x = a, *y = b;
    if (x->ts_ms != y->ts_ms) return x->ts_ms < y->ts_ms ? -1 : 1;
    if (x->event_id != y->event_id) return x->event_id < y->event_id ? -1 : 1;
    return 0;
}

void h_offer_sorted(harness_t *h)
{
    qsort(h->buf, h->n_buf, sizeof *h->buf, ev_cmp);
    for (size_t i = 0; i < h->n_buf; i++)
        OFFER_AS(h, h->buf[i], RR_APPLIED);
    h->n_buf = 0;
}

void h_run(harness_t *h)
{
    h_offer_sorted(h);
    h_finish(h);
}

void h_stats(const harness_t *h, rr_stats_t *st)
{
    rr_engine_stats(h->e, st);
}

rr_value_t shop_val(const harness_t *h, uint64_t shop, int32_t day, const char *metric)
{
    return cap_value(&h->cap, cap_find(&h->cap, shop, SHOP, day), metric);
}

rr_value_t agent_val(const harness_t *h, uint64_t shop, uint64_t agent, int32_t day,
                     const char *metric)
{
    return cap_value(&h->cap, cap_find(&h->cap, shop, agent, day), metric);
}

void expect_violation3(const harness_t *h, uint64_t conv, int64_t start, rr_reason_t reason,
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

void expect_counts_add_up(const harness_t *h)
{
    rr_stats_t st;
    h_stats(h, &st);
    cr_expect_eq(st.input, st.applied + st.duplicate + st.late + st.invalid,
                 "input %" PRIu64 " != applied %" PRIu64 " + duplicate %" PRIu64 " + late %" PRIu64
                 " + invalid %" PRIu64,
                 st.input, st.applied, st.duplicate, st.late, st.invalid);
}
