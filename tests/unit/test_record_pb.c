/* Unit tests for codec/record_pb: the hand-written protobuf encoder writes
 * exactly the bytes protobuf-c packs for the same records (the reference
 * below builds the protobuf-c structs the way io/output.c did before the
 * encoders moved to codec/), in both forms, on edge cases and on random
 * records; and it never writes past the room it is given. */
#include <criterion/criterion.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/record_pb.h"
#include "codec/records.h"
#include "record_fixtures.h"
#include "replyrate/v1/results.pb-c.h"

/* ------------------------------------------------ the protobuf-c reference */

static char *s_(const char *s)
{
    return (char *)(uintptr_t)(s ? s : "");
}

typedef struct bytes {
    uint8_t *p;
    size_t n;
} bytes_t;

/* The message alone, or the delimited ResultRecord around it. */
static bytes_t pack(const ProtobufCMessage *inner, Replyrate__V1__ResultRecord *rec,
                    rr_record_pb_form_t form)
{
    bytes_t b;
    if (form == RR_RECORD_PB_VALUE) {
        b.n = protobuf_c_message_get_packed_size(inner);
        b.p = malloc(b.n + 1);
        cr_assert_eq(protobuf_c_message_pack(inner, b.p), b.n);
        return b;
    }
    size_t n = replyrate__v1__result_record__get_packed_size(rec);
    b.p = malloc(n + 10);
    size_t k = 0;
    uint64_t v = n;
    while (v >= 0x80) {
        b.p[k++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    b.p[k++] = (uint8_t)v;
    cr_assert_eq(replyrate__v1__result_record__pack(rec, b.p + k), n);
    b.n = k + n;
    return b;
}

static bytes_t ref_day(const rr_day_record_t *r, rr_record_pb_form_t form)
{
    Replyrate__V1__MetricValue mv[RR_MAX_METRICS];
    Replyrate__V1__MetricValue *mvp[RR_MAX_METRICS];
    size_t k = 0, n = rr_records_n_metrics(r);
    for (size_t i = 0; i < n; i++) {
        if (!rr_records_metric_shown(r, i)) continue;
        const rr_value_t *v = &r->values[i];
        replyrate__v1__metric_value__init(&mv[k]);
        mv[k].name = s_(r->cfg->metrics[i].name);
        mv[k].num = v->num;
        mv[k].den = v->den;
        if (r->cfg->metrics[i].kind == RR_KIND_RESPONSE_TIME) {
            mv[k].unanswered = v->unanswered;
            mv[k].n_buckets = RR_BUCKETS;
            mv[k].buckets = (int64_t *)(uintptr_t)v->buckets;
        }
        mvp[k] = &mv[k];
        k++;
    }
    Replyrate__V1__ResultRecord rec = REPLYRATE__V1__RESULT_RECORD__INIT;
    Replyrate__V1__ShopDay sd = REPLYRATE__V1__SHOP_DAY__INIT;
    Replyrate__V1__AgentDay ad = REPLYRATE__V1__AGENT_DAY__INIT;
    if (r->is_agent) {
        ad.shop_id = r->shop_id;
        ad.agent_id = r->agent_id;
        ad.day = (uint32_t)r->day;
        ad.final = r->final != 0;
        ad.version = s_(r->version);
        ad.n_metrics = k;
        ad.metrics = k ? mvp : NULL;
        ad.revision = r->final ? 0 : r->revision;
        rec.record_case = REPLYRATE__V1__RESULT_RECORD__RECORD_AGENT_DAY;
        rec.agent_day = &ad;
        return pack(&ad.base, &rec, form);
    }
    sd.shop_id = r->shop_id;
    sd.day = (uint32_t)r->day;
    sd.final = r->final != 0;
    sd.version = s_(r->version);
    sd.n_metrics = k;
    sd.metrics = k ? mvp : NULL;
    sd.revision = r->final ? 0 : r->revision;
    rec.record_case = REPLYRATE__V1__RESULT_RECORD__RECORD_SHOP_DAY;
    rec.shop_day = &sd;
    return pack(&sd.base, &rec, form);
}

static bytes_t ref_violation(const rr_violation_record_t *r, rr_record_pb_form_t form)
{
    Replyrate__V1__Violation v = REPLYRATE__V1__VIOLATION__INIT;
    v.shop_id = r->shop_id;
    v.day = (uint32_t)r->day;
    v.metric = s_(r->metric);
    v.conversation_id = r->conversation_id;
    v.buyer_id = r->buyer_id;
    v.agent_id = r->agent_id;
    v.round_start_ms = r->round_start_ms;
    v.answered = r->answered != 0;
    if (r->answered) {
        v.reply_ms = r->reply_ms;
        v.wait_ms = r->wait_ms;
    }
    v.messages = r->messages;
    switch (r->reason) {
    case RR_REASON_LATE:
        v.reason = REPLYRATE__V1__VIOLATION__REASON__LATE;
        break;
    case RR_REASON_NO_REPLY:
        v.reason = REPLYRATE__V1__VIOLATION__REASON__NO_REPLY;
        break;
    case RR_REASON_UNASSIGNED:
        v.reason = REPLYRATE__V1__VIOLATION__REASON__UNASSIGNED;
        break;
    default:
        v.reason = REPLYRATE__V1__VIOLATION__REASON__REASON_UNSPECIFIED;
        break;
    }
    v.final = r->final != 0;
    v.version = s_(r->version);
    Replyrate__V1__ResultRecord rec = REPLYRATE__V1__RESULT_RECORD__INIT;
    rec.record_case = REPLYRATE__V1__RESULT_RECORD__RECORD_VIOLATION;
    rec.violation = &v;
    return pack(&v.base, &rec, form);
}

static bytes_t ref_alert(const rr_alert_record_t *r, rr_record_pb_form_t form)
{
    Replyrate__V1__Alert a = REPLYRATE__V1__ALERT__INIT;
    a.shop_id = r->shop_id;
    a.day = (uint32_t)r->day;
    a.rule = s_(r->rule);
    a.value = r->value;
    a.final = r->final != 0;
    a.version = s_(r->version);
    Replyrate__V1__ResultRecord rec = REPLYRATE__V1__RESULT_RECORD__INIT;
    rec.record_case = REPLYRATE__V1__RESULT_RECORD__RECORD_ALERT;
    rec.alert = &a;
    return pack(&a.base, &rec, form);
}

static bytes_t ref_rejected(const rr_rejected_record_t *r, rr_record_pb_form_t form)
{
    Replyrate__V1__RejectedEvent x = REPLYRATE__V1__REJECTED_EVENT__INIT;
    Replyrate__V1__ChatEvent ev = REPLYRATE__V1__CHAT_EVENT__INIT;
    x.kind = r->verdict == RR_LATE ? REPLYRATE__V1__REJECTED_EVENT__KIND__LATE
                                   : REPLYRATE__V1__REJECTED_EVENT__KIND__INVALID;
    x.reason = s_(r->reason);
    x.source = s_(r->source);
    x.partition = r->partition;
    x.offset = r->offset;
    if (r->raw) {
        x.raw.len = r->raw_len;
        x.raw.data = (uint8_t *)(uintptr_t)r->raw;
    }
    if (r->decoded) {
        const rr_event_t *e = &r->event;
        ev.event_id = e->event_id;
        ev.shop_id = e->shop_id;
        ev.conversation_id = e->conversation_id;
        ev.buyer_id = e->buyer_id;
        ev.agent_id = e->agent_id;
        ev.ts_ms = e->ts_ms;
        ev.type = (Replyrate__V1__EventType)(int32_t)e->type;
        ev.content = e->content;
        ev.rating = e->rating;
        ev.flags = e->flags;
        x.event = &ev;
    }
    x.watermark_ms = r->watermark_ms;
    Replyrate__V1__ResultRecord rec = REPLYRATE__V1__RESULT_RECORD__INIT;
    rec.record_case = REPLYRATE__V1__RESULT_RECORD__RECORD_REJECTED;
    rec.rejected = &x;
    return pack(&x.base, &rec, form);
}

/* ------------------------------------------------------------- the checks */

enum rec { DAY, VIOLATION, ALERT, REJECTED };

static size_t encode(enum rec k, const void *r, uint8_t *buf, size_t cap, rr_record_pb_form_t form)
{
    switch (k) {
    case DAY:
        return rr_record_pb_day(buf, cap, r, form);
    case VIOLATION:
        return rr_record_pb_violation(buf, cap, r, form);
    case ALERT:
        return rr_record_pb_alert(buf, cap, r, form);
    case REJECTED:
        return rr_record_pb_rejected(buf, cap, r, form);
    }
    return 0;
}

static bytes_t reference(enum rec k, const void *r, rr_record_pb_form_t form)
{
    switch (k) {
    case DAY:
        return ref_day(r, form);
    case VIOLATION:
        return ref_violation(r, form);
    case ALERT:
        return ref_alert(r, form);
    case REJECTED:
        return ref_rejected(r, form);
    }
    return (bytes_t){0};
}

#define GUARD 16

/* In both forms: the bytes equal protobuf-c's; with too little room the
 * encoder says the same length and writes nothing past the room. */
static void check(enum rec k, const void *r, const char *what)
{
    for (int form = RR_RECORD_PB_VALUE; form <= RR_RECORD_PB_DELIMITED; form++) {
        bytes_t want = reference(k, r, (rr_record_pb_form_t)form);
        uint8_t *buf = malloc(want.n + GUARD);
        memset(buf, 0xA5, want.n + GUARD);
        size_t n = encode(k, r, buf, want.n, (rr_record_pb_form_t)form);
        cr_assert_eq(n, want.n, "%s (form %d): length %zu, protobuf-c %zu", what, form, n, want.n);
        for (size_t i = 0; i < n; i++)
            cr_assert_eq(buf[i], want.p[i],
                         "%s (form %d): byte %zu of %zu is %02x, protobuf-c %02x", what, form, i, n,
                         buf[i], want.p[i]);
        for (size_t cut = 0; cut < want.n; cut += 1 + want.n / 7) {
            memset(buf, 0xA5, want.n + GUARD);
            cr_assert_eq(encode(k, r, buf, cut, (rr_record_pb_form_t)form), want.n,
                         "%s (form %d): room %zu", what, form, cut);
            for (size_t i = cut; i < want.n + GUARD; i++)
                cr_assert_eq(buf[i], 0xA5, "%s (form %d): room %zu, wrote byte %zu", what, form,
                             cut, i);
        }
        free(buf);
        free(want.p);
    }
}

/* A metric set with one metric of each kind, long names included. */
static rr_config_t cfg;
static rr_value_t values[RR_MAX_METRICS];

static void setup_cfg(size_t n, size_t name_len)
{
    memset(&cfg, 0, sizeof cfg);
    memset(values, 0, sizeof values);
    for (size_t i = 0; i < n; i++) {
        /* written whole, then cut to name_len (at most RR_NAME_MAX - 1) */
        char full[128], name[RR_NAME_MAX] = {0};
        snprintf(full, sizeof full, "m%zu_%s", i,
                 "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnop");
        size_t len = strlen(full);
        if (len > name_len) len = name_len;
        if (len > sizeof name - 1) len = sizeof name - 1;
        memcpy(name, full, len);
        memcpy(cfg.metrics[i].name, name, sizeof name);
        cfg.metrics[i].kind = (rr_metric_kind_t)(RR_KIND_MESSAGE_WITHIN + i % 7);
    }
    cfg.n_metrics = n;
}

Test(record_pb, shop_day_and_agent_day_match_protobuf_c)
{
    setup_cfg(7, 20);
    values[0] = (rr_value_t){.num = 3, .den = 4};
    values[4] =
        (rr_value_t){.num = 123000, .den = 4, .unanswered = 1, .buckets = {1, 2, 0, 1, 0, 0, 0, 0}};
    values[5] = (rr_value_t){.num = 0, .den = 0, .unanswered = 2}; /* shown by unanswered alone */
    values[6] = (rr_value_t){.num = 5, .den = 0};                  /* not shown */
    rr_day_record_t r = {
        .shop_id = 7, .day = 20261122, .final = 1, .version = "v1", .cfg = &cfg, .values = values};
    check(DAY, &r, "final shop_day");
    r.final = 0;
    r.revision = 3;
    check(DAY, &r, "provisional shop_day");
    r.is_agent = 1;
    r.agent_id = 0; /* agent 0 is an agent like any other: its id is left out as zero */
    check(DAY, &r, "provisional agent_day of agent 0");
    r.agent_id = UINT64_MAX;
    r.final = 1;
    check(DAY, &r, "final agent_day");
}

Test(record_pb, day_without_metrics_or_config_is_the_bare_message)
{
    rr_day_record_t r = {.shop_id = 1, .day = 20260101, .final = 1, .version = "v1"};
    check(DAY, &r, "no config");
    setup_cfg(3, 10);
    r.cfg = &cfg;
    r.values = values; /* all zero: nothing shown */
    check(DAY, &r, "nothing shown");
    rr_day_record_t z = {.cfg = &cfg, .values = values, .version = ""};
    check(DAY, &z, "every field zero");
    z.version = NULL;
    check(DAY, &z, "NULL version");
}

Test(record_pb, lengths_past_one_byte_move_the_body)
{
    /* 32 metrics with 63-byte names and buckets: sub-messages over 127
     * bytes and a ShopDay over 16383, so lengths take 2 and 3 bytes. */
    setup_cfg(RR_MAX_METRICS, 63);
    for (int i = 0; i < RR_MAX_METRICS; i++) {
        cfg.metrics[i].kind = RR_KIND_RESPONSE_TIME;
        values[i] = (rr_value_t){.num = INT64_MAX,
                                 .den = INT64_MIN,
                                 .unanswered = -1,
                                 .buckets = {-1, INT64_MIN, INT64_MAX, 0, 1, 127, 128, 16384}};
    }
    rr_day_record_t r = {.shop_id = UINT64_MAX,
                         .day = -1,
                         .final = 0,
                         .revision = UINT32_MAX,
                         .version = "v1",
                         .cfg = &cfg,
                         .values = values};
    check(DAY, &r, "32 wide metrics");
    bytes_t b = ref_day(&r, RR_RECORD_PB_DELIMITED);
    cr_assert_gt(b.n, 4096, "the case must exercise multi-byte lengths (%zu bytes)", b.n);
    free(b.p);
}

Test(record_pb, violation_matches_protobuf_c)
{
    rr_violation_record_t v = {.shop_id = 7,
                               .day = 20261122,
                               .metric = "douyin_msg_3min",
                               .conversation_id = 9,
                               .buyer_id = 5,
                               .agent_id = 3,
                               .round_start_ms = 1763776800000,
                               .answered = 0,
                               .reply_ms = 42,
                               .wait_ms = 42,
                               .messages = 2,
                               .reason = RR_REASON_NO_REPLY,
                               .final = 1,
                               .version = "v1"};
    check(VIOLATION, &v, "unanswered (reply_ms and wait_ms left out)");
    v.answered = 1;
    v.reason = RR_REASON_LATE;
    v.reply_ms = -1;
    v.wait_ms = 0;
    check(VIOLATION, &v, "answered");
    v.reason = RR_REASON_UNASSIGNED;
    v.round_start_ms = INT64_MIN;
    check(VIOLATION, &v, "unassigned");
    v.reason = (rr_reason_t)0;
    v.final = 0;
    v.metric = NULL;
    check(VIOLATION, &v, "unspecified reason");
    v.reason = (rr_reason_t)77;
    check(VIOLATION, &v, "out-of-range reason");
}

Test(record_pb, alert_value_zero_is_left_out_as_protobuf_c_does)
{
    rr_alert_record_t a = {.shop_id = 1,
                           .day = 20261122,
                           .rule = "pdd_warning",
                           .value = 0.41,
                           .final = 1,
                           .version = "v1"};
    check(ALERT, &a, "0.41");
    const double vals[] = {
        0.0, -0.0, 1.0, -2.5, 1e-300, INFINITY, -INFINITY, NAN, 0.3333333333333333};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        a.value = vals[i];
        char what[64];
        snprintf(what, sizeof what, "value %g", vals[i]);
        check(ALERT, &a, what);
    }
    a.value = -0.0;
    uint8_t buf[64];
    size_t n = rr_record_pb_alert(buf, sizeof buf, &a, RR_RECORD_PB_VALUE);
    for (size_t i = 0; i < n; i++)
        cr_assert_neq(buf[i], 0x21, "-0.0 must not be written (tag of field 4, fixed64)");
}

Test(record_pb, rejected_events_match_protobuf_c)
{
    rr_rejected_record_t r = fx_late();
    check(REJECTED, &r, "late");
    r.verdict = RR_INVALID;
    r.decoded = 0;
    r.watermark_ms = INT64_MIN;
    r.partition = -1;
    r.offset = -7;
    check(REJECTED, &r, "undecodable, no watermark yet");
    r.raw_len = 0; /* bytes there but empty: left out */
    check(REJECTED, &r, "empty raw");
    r.raw = NULL;
    r.reason = "";
    r.source = NULL;
    check(REJECTED, &r, "no raw, empty strings");
    r.decoded = 1;
    memset(&r.event, 0, sizeof r.event); /* decoded but all zero: an empty event, still present */
    check(REJECTED, &r, "all-zero event");
    r.event.type = 0x80000000u; /* an int32 enum: sign-extended */
    r.event.ts_ms = -1;
    r.event.rating = UINT32_MAX;
    check(REJECTED, &r, "type >= 2^31, negative ts");
    static uint8_t big[70000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i * 7);
    r.raw = big;
    r.raw_len = sizeof big; /* a resync's skipped bytes: a 3-byte length */
    check(REJECTED, &r, "70000 raw bytes");
}

/* ------------------------------------------------------------- random ones */

static uint64_t rng = 0x9E3779B97F4A7C15u;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Values around every varint length boundary, and anything. */
static uint64_t any64(void)
{
    static const uint64_t edge[] = {0,           1,
                                    127,         128,
                                    16383,       16384,
                                    0x7fffffff,  0x80000000u,
                                    0xffffffffu, (uint64_t)1 << 63,
                                    UINT64_MAX,  UINT64_MAX - 1};
    uint64_t r = next();
    if (r % 3 == 0) return edge[(r >> 8) % (sizeof edge / sizeof edge[0])];
    return next() >> (r % 64);
}

static const char *any_str(char *buf, size_t cap)
{
    uint64_t r = next();
    if (r % 5 == 0) return r % 10 == 0 ? NULL : "";
    size_t n = (size_t)(next() % (cap - 1));
    for (size_t i = 0; i < n; i++)
        buf[i] = (char)(1 + next() % 255);
    buf[n] = '\0';
    return buf;
}

Test(record_pb, random_records_match_protobuf_c)
{
    static uint8_t raw[300];
    char s1[200], s2[200];
    for (int iter = 0; iter < 3000; iter++) {
        setup_cfg((size_t)(next() % (RR_MAX_METRICS + 1)), (size_t)(next() % 64));
        for (size_t i = 0; i < cfg.n_metrics; i++) {
            values[i].num = (int64_t)any64();
            values[i].den = next() % 4 ? (int64_t)any64() : 0;
            values[i].unanswered = next() % 2 ? (int64_t)any64() : 0;
            for (int b = 0; b < RR_BUCKETS; b++)
                values[i].buckets[b] = (int64_t)any64();
        }
        rr_day_record_t d = {.is_agent = (int)(next() % 2),
                             .shop_id = any64(),
                             .agent_id = any64(),
                             .day = (int32_t)any64(),
                             .final = (int)(next() % 2),
                             .revision = (uint32_t)any64(),
                             .version = any_str(s1, sizeof s1),
                             .cfg = &cfg,
                             .values = values};
        check(DAY, &d, "random day");
        rr_violation_record_t v = {.shop_id = any64(),
                                   .day = (int32_t)any64(),
                                   .metric = any_str(s1, sizeof s1),
                                   .conversation_id = any64(),
                                   .buyer_id = any64(),
                                   .agent_id = any64(),
                                   .round_start_ms = (int64_t)any64(),
                                   .answered = (int)(next() % 2),
                                   .reply_ms = (int64_t)any64(),
                                   .wait_ms = (int64_t)any64(),
                                   .messages = (uint32_t)any64(),
                                   .reason = (rr_reason_t)(next() % 5),
                                   .final = (int)(next() % 2),
                                   .version = any_str(s2, sizeof s2)};
        check(VIOLATION, &v, "random violation");
        uint64_t bits = any64();
        double dv;
        memcpy(&dv, &bits, 8);
        rr_alert_record_t a = {.shop_id = any64(),
                               .day = (int32_t)any64(),
                               .rule = any_str(s1, sizeof s1),
                               .value = next() % 2 ? dv : (double)any64(),
                               .final = (int)(next() % 2),
                               .version = any_str(s2, sizeof s2)};
        check(ALERT, &a, "random alert");
        for (size_t i = 0; i < sizeof raw; i++)
            raw[i] = (uint8_t)next();
        rr_rejected_record_t x = {.verdict = next() % 2 ? RR_LATE : RR_INVALID,
                                  .reason = any_str(s1, sizeof s1),
                                  .source = any_str(s2, sizeof s2),
                                  .partition = (int32_t)any64(),
                                  .offset = (int64_t)any64(),
                                  .raw = next() % 4 ? raw : NULL,
                                  .raw_len = (size_t)(next() % sizeof raw),
                                  .decoded = (int)(next() % 2),
                                  .event = {.event_id = any64(),
                                            .shop_id = any64(),
                                            .conversation_id = any64(),
                                            .buyer_id = any64(),
                                            .agent_id = any64(),
                                            .ts_ms = (int64_t)any64(),
                                            .type = (uint32_t)any64(),
                                            .content = (uint32_t)any64(),
                                            .rating = (uint32_t)any64(),
                                            .flags = (uint32_t)any64()},
                                  .watermark_ms = (int64_t)any64()};
        check(REJECTED, &x, "random rejected");
    }
}
