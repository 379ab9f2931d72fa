/* Unit tests for io/kafka_sink: each record's topic and key (docs/output.md,
 * "Kafka keys"), and, on librdkafka's in-process mock cluster, that a
 * committed transaction publishes every kind to its topic under its key with
 * the codec's protobuf message as the value, or with RR_KAFKA_SINK_JSON its
 * JSON line without the newline. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h> /* after rdkafka.h */

#include "codec/record_json.h"
#include "codec/record_pb.h"
#include "io/kafka.h"
#include "io/kafka_sink.h"
#include "record_fixtures.h"
#include "replyrate/v1/results.pb-c.h"

static rr_day_record_t shop_day(void)
{
    rr_day_record_t r = fx_shop_day();
    fx_cfg.n_metrics = 1; /* douyin_msg_3min alone */
    return r;
}

static rr_rejected_record_t rejected(rr_verdict_t verdict, int decoded)
{
    rr_rejected_record_t r = verdict == RR_LATE ? fx_late() : fx_invalid();
    r.decoded = decoded;
    r.event.shop_id = 42;
    return r;
}

/* ------------------------------------------------------------ keys, topics */

Test(kafka_sink, shop_day_is_keyed_shop_and_day_on_its_topic)
{
    rr_day_record_t r = shop_day();
    char key[RR_KAFKA_SINK_KEY_MAX];
    int t = -1;
    size_t n = rr_kafka_sink_key_day(&r, key, &t);
    cr_assert_eq(t, RR_KT_SHOP_DAY);
    cr_assert_eq(n, strlen("7:20261122"));
    cr_assert_str_eq(key, "7:20261122");
    cr_assert_str_eq(rr_kafka_topic_suffix[t], "shop_day");
}

Test(kafka_sink, agent_day_key_adds_the_agent_even_agent_zero)
{
    rr_day_record_t r = shop_day();
    r.is_agent = 1;
    r.agent_id = 3;
    char key[RR_KAFKA_SINK_KEY_MAX];
    int t = -1;
    cr_assert_eq(rr_kafka_sink_key_day(&r, key, &t), strlen("7:3:20261122"));
    cr_assert_str_eq(key, "7:3:20261122");
    cr_assert_eq(t, RR_KT_AGENT_DAY);
    cr_assert_str_eq(rr_kafka_topic_suffix[t], "agent_day");
    r.agent_id = 0;
    r.shop_id = UINT64_MAX;
    rr_kafka_sink_key_day(&r, key, &t);
    cr_assert_str_eq(key, "18446744073709551615:0:20261122");
}

Test(kafka_sink, violation_is_keyed_by_its_shop_day)
{
    rr_violation_record_t v = {.shop_id = 7,
                               .day = 20261122,
                               .metric = "m",
                               .conversation_id = 9,
                               .agent_id = 3,
                               .final = 1,
                               .version = "v1"};
    char key[RR_KAFKA_SINK_KEY_MAX];
    int t = -1;
    cr_assert_eq(rr_kafka_sink_key_violation(&v, key, &t), strlen("7:20261122"));
    cr_assert_str_eq(key, "7:20261122");
    cr_assert_eq(t, RR_KT_VIOLATIONS);
    cr_assert_str_eq(rr_kafka_topic_suffix[t], "violations");
}

Test(kafka_sink, alert_key_adds_the_rule_cut_at_80_bytes)
{
    rr_alert_record_t a = {.shop_id = 1,
                           .day = 20261122,
                           .rule = "pdd_warning",
                           .value = 0.4,
                           .final = 1,
                           .version = "v1"};
    char key[RR_KAFKA_SINK_KEY_MAX];
    int t = -1;
    cr_assert_eq(rr_kafka_sink_key_alert(&a, key, &t), strlen("1:20261122:pdd_warning"));
    cr_assert_str_eq(key, "1:20261122:pdd_warning");
    cr_assert_eq(t, RR_KT_ALERTS);
    cr_assert_str_eq(rr_kafka_topic_suffix[t], "alerts");
    char rule[200];
    memset(rule, 'r', sizeof rule - 1);
    rule[sizeof rule - 1] = '\0';
    a.rule = rule;
    a.shop_id = UINT64_MAX;
    size_t n = rr_kafka_sink_key_alert(&a, key, &t);
    cr_assert_eq(n, strlen("18446744073709551615:20261122:") + 80);
    cr_assert_eq(strlen(key), n);
    a.rule = NULL;
    a.shop_id = 1;
    rr_kafka_sink_key_alert(&a, key, &t);
    cr_assert_str_eq(key, "1:20261122:");
}

Test(kafka_sink, rejected_events_go_to_late_or_dead_letter_keyed_by_shop_if_decoded)
{
    char key[RR_KAFKA_SINK_KEY_MAX];
    int t = -1;
    rr_rejected_record_t r = rejected(RR_LATE, 1);
    cr_assert_eq(rr_kafka_sink_key_rejected(&r, key, &t), 2);
    cr_assert_str_eq(key, "42");
    cr_assert_eq(t, RR_KT_LATE);
    cr_assert_str_eq(rr_kafka_topic_suffix[t], "late");
    r = rejected(RR_INVALID, 1);
    cr_assert_eq(rr_kafka_sink_key_rejected(&r, key, &t), 2);
    cr_assert_eq(t, RR_KT_DEAD_LETTER);
    cr_assert_str_eq(rr_kafka_topic_suffix[t], "dead_letter");
    r = rejected(RR_INVALID, 0);
    cr_assert_eq(rr_kafka_sink_key_rejected(&r, key, &t), 0, "undecoded: no key");
    cr_assert_eq(t, RR_KT_DEAD_LETTER);
}

/* ------------------------------------------------ publishing, mock cluster */

#define PREFIX "rrtest"

/* A mock cluster (in a client of its own) holding every result topic, one
 * partition each, and the options to reach it. */
typedef struct mock {
    rd_kafka_t *host;
    rd_kafka_mock_cluster_t *mc;
    rr_kafka_opts_t ko;
} mock_t;

static mock_t mock_start(void)
{
    char err[512] = "";
    mock_t m = {0};
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
    m.host = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    cr_assert_not_null(m.host, "%s", err);
    m.mc = rd_kafka_mock_cluster_new(m.host, 1);
    cr_assert_not_null(m.mc);
    for (int t = 0; t < RR_KT_COUNT; t++) {
        char name[128];
        snprintf(name, sizeof name, "%s.%s", PREFIX, rr_kafka_topic_suffix[t]);
        rd_kafka_mock_topic_create(m.mc, name, 1, 1);
    }
    m.ko.brokers = rd_kafka_mock_cluster_bootstraps(m.mc);
    cr_assert_eq(rr_kafka_add_prop(&m.ko, "log_level=3", err, sizeof err), 0, "%s", err);
    return m;
}

static void mock_stop(mock_t *m)
{
    rd_kafka_mock_cluster_destroy(m->mc);
    rd_kafka_destroy(m->host);
}

typedef struct got {
    char key[RR_KAFKA_SINK_KEY_MAX];
    int has_key;
    uint8_t value[16384];
    size_t len;
    int n;
} got_t;

static int on_message(void *arg, const rd_kafka_message_t *m, char *errstr, size_t errstr_size)
{
    (void)errstr;
    (void)errstr_size;
    got_t *g = arg;
    g->n++;
    g->has_key = m->key != NULL;
    snprintf(g->key, sizeof g->key, "%.*s", (int)m->key_len, m->key ? (const char *)m->key : "");
    cr_assert_leq(m->len, sizeof g->value);
    memcpy(g->value, m->payload, m->len);
    g->len = m->len;
    return 0;
}

/* The one record of PREFIX.suffix. */
static got_t read_topic(const rr_kafka_opts_t *ko, const char *suffix)
{
    char err[512] = "", topic[128];
    snprintf(topic, sizeof topic, "%s.%s", PREFIX, suffix);
    rd_kafka_t *rk = rr_kafka_reader_new(ko, "test-reader", err, sizeof err);
    cr_assert_not_null(rk, "%s", err);
    got_t g = {0};
    uint64_t deleted = 0;
    cr_assert_eq(
        rr_kafka_read_to_end(rk, ko, topic, on_message, &g, 30, "test", &deleted, err, sizeof err),
        0, "%s: %s", topic, err);
    rd_kafka_destroy(rk);
    return g;
}

static void expect_value(const got_t *g, const uint8_t *want, size_t n, const char *what)
{
    cr_assert_eq(g->n, 1, "%s: %d records", what, g->n);
    cr_assert_eq(g->len, n, "%s: value of %zu bytes, want %zu", what, g->len, n);
    cr_assert_eq(memcmp(g->value, want, n), 0, "%s: value differs", what);
}

Test(kafka_sink, committed_records_land_on_their_topics_with_key_and_protobuf_value, .timeout = 120)
{
    char err[512] = "";
    mock_t m = mock_start();
    rr_kafka_opts_t ko = m.ko;

    rr_kafka_sink_t *ks = NULL;
    cr_assert_eq(
        rr_kafka_sink_open(&ko, PREFIX, "test-txn", 60000, RR_KAFKA_SINK_PB, &ks, err, sizeof err),
        0, "%s", err);
    rr_sink_t sink;
    rr_kafka_sink_callbacks(ks, &sink);
    rr_day_record_t d = shop_day();
    rr_day_record_t ad = shop_day();
    ad.is_agent = 1;
    ad.agent_id = 3;
    rr_violation_record_t v = fx_violation();
    rr_alert_record_t a = fx_alert();
    rr_rejected_record_t late = rejected(RR_LATE, 1), dead = rejected(RR_INVALID, 0);
    sink.day(sink.opaque, &d);
    sink.day(sink.opaque, &ad);
    sink.violation(sink.opaque, &v);
    sink.alert(sink.opaque, &a);
    sink.rejected(sink.opaque, &late);
    sink.rejected(sink.opaque, &dead);
    cr_assert_eq(rr_kafka_sink_commit(ks, NULL, NULL, err, sizeof err), 0, "%s", err);
    rr_kafka_sink_close(ks);

    uint8_t want[4096];
    size_t n;
    got_t g = read_topic(&ko, "shop_day");
    cr_assert_str_eq(g.key, "7:20261122");
    n = rr_record_pb_day(want, sizeof want, &d, RR_RECORD_PB_VALUE);
    expect_value(&g, want, n, "shop_day");
    Replyrate__V1__ShopDay *sd = replyrate__v1__shop_day__unpack(NULL, g.len, g.value);
    cr_assert_not_null(sd, "the value is a ShopDay");
    cr_assert_eq(sd->shop_id, 7);
    cr_assert_eq(sd->n_metrics, 1);
    cr_assert_str_eq(sd->metrics[0]->name, "douyin_msg_3min");
    replyrate__v1__shop_day__free_unpacked(sd, NULL);

    g = read_topic(&ko, "agent_day");
    cr_assert_str_eq(g.key, "7:3:20261122");
    n = rr_record_pb_day(want, sizeof want, &ad, RR_RECORD_PB_VALUE);
    expect_value(&g, want, n, "agent_day");

    g = read_topic(&ko, "violations");
    cr_assert_str_eq(g.key, "7:20261122");
    n = rr_record_pb_violation(want, sizeof want, &v, RR_RECORD_PB_VALUE);
    expect_value(&g, want, n, "violation");

    g = read_topic(&ko, "alerts");
    cr_assert_str_eq(g.key, "1:20261122:pdd_warning");
    n = rr_record_pb_alert(want, sizeof want, &a, RR_RECORD_PB_VALUE);
    expect_value(&g, want, n, "alert");

    g = read_topic(&ko, "late");
    cr_assert_str_eq(g.key, "42");
    n = rr_record_pb_rejected(want, sizeof want, &late, RR_RECORD_PB_VALUE);
    expect_value(&g, want, n, "late");

    g = read_topic(&ko, "dead_letter");
    cr_assert(!g.has_key, "an undecoded event has no key");
    n = rr_record_pb_rejected(want, sizeof want, &dead, RR_RECORD_PB_VALUE);
    expect_value(&g, want, n, "dead_letter");
    Replyrate__V1__RejectedEvent *x = replyrate__v1__rejected_event__unpack(NULL, g.len, g.value);
    cr_assert_not_null(x);
    cr_assert_eq(x->kind, REPLYRATE__V1__REJECTED_EVENT__KIND__INVALID);
    cr_assert_null(x->event);
    cr_assert_eq(x->raw.len, 3);
    replyrate__v1__rejected_event__free_unpacked(x, NULL);

    mock_stop(&m);
}

Test(kafka_sink, records_of_an_aborted_transaction_are_not_read, .timeout = 120)
{
    char err[512] = "";
    mock_t m = mock_start();
    rr_kafka_opts_t ko = m.ko;
    rr_kafka_sink_t *ks = NULL;
    cr_assert_eq(rr_kafka_sink_open(&ko, PREFIX, "test-txn-abort", 60000, RR_KAFKA_SINK_PB, &ks,
                                    err, sizeof err),
                 0, "%s", err);
    rr_sink_t sink;
    rr_kafka_sink_callbacks(ks, &sink);
    rr_day_record_t d = shop_day();
    sink.day(sink.opaque, &d);
    rr_kafka_sink_close(ks); /* no commit: aborted */
    got_t g = read_topic(&ko, "shop_day");
    cr_assert_eq(g.n, 0, "an aborted record was read");
    mock_stop(&m);
}

/* The record's JSON line without its '\n' is the value g holds. */
#define EXPECT_JSON(fn, rec, g, what)                                                              \
    do {                                                                                           \
        char *line_;                                                                               \
        FX_ENCODE(fn, rec, line_);                                                                 \
        size_t n_ = strlen(line_);                                                                 \
        cr_assert_eq(line_[n_ - 1], '\n');                                                         \
        expect_value(&(g), (const uint8_t *)line_, n_ - 1, what);                                  \
        free(line_);                                                                               \
    } while (0)

Test(kafka_sink, json_values_are_the_json_lines_without_newline_under_the_same_keys, .timeout = 120)
{
    char err[512] = "";
    mock_t m = mock_start();
    rr_kafka_opts_t ko = m.ko;
    rr_kafka_sink_t *ks = NULL;
    cr_assert_eq(rr_kafka_sink_open(&ko, PREFIX, "test-txn-json", 60000, RR_KAFKA_SINK_JSON, &ks,
                                    err, sizeof err),
                 0, "%s", err);
    rr_sink_t sink;
    rr_kafka_sink_callbacks(ks, &sink);
    rr_day_record_t d = shop_day();
    rr_day_record_t ad = shop_day();
    ad.is_agent = 1;
    ad.agent_id = 3;
    rr_violation_record_t v = fx_violation();
    rr_alert_record_t a = fx_alert();
    rr_rejected_record_t late = rejected(RR_LATE, 1), dead = rejected(RR_INVALID, 0);
    static uint8_t big[6000]; /* its JSON (12000 hex digits) outgrows the first buffer */
    dead.raw = big;
    dead.raw_len = sizeof big;
    sink.day(sink.opaque, &d);
    sink.day(sink.opaque, &ad);
    sink.violation(sink.opaque, &v);
    sink.alert(sink.opaque, &a);
    sink.rejected(sink.opaque, &late);
    cr_assert_eq(rr_kafka_sink_commit(ks, NULL, NULL, err, sizeof err), 0, "%s", err);
    cr_assert_eq(rr_kafka_sink_begin(ks, err, sizeof err), 0, "%s", err);
    sink.rejected(sink.opaque, &dead);
    cr_assert_eq(rr_kafka_sink_commit(ks, NULL, NULL, err, sizeof err), 0, "%s", err);
    rr_kafka_sink_close(ks);

    got_t g = read_topic(&ko, "shop_day");
    cr_assert_str_eq(g.key, "7:20261122");
    EXPECT_JSON(rr_record_json_day, &d, g, "shop_day");
    cr_assert_eq(g.value[0], '{');
    g = read_topic(&ko, "agent_day");
    cr_assert_str_eq(g.key, "7:3:20261122");
    EXPECT_JSON(rr_record_json_day, &ad, g, "agent_day");
    g = read_topic(&ko, "violations");
    cr_assert_str_eq(g.key, "7:20261122");
    EXPECT_JSON(rr_record_json_violation, &v, g, "violation");
    g = read_topic(&ko, "alerts");
    cr_assert_str_eq(g.key, "1:20261122:pdd_warning");
    EXPECT_JSON(rr_record_json_alert, &a, g, "alert");
    g = read_topic(&ko, "late");
    cr_assert_str_eq(g.key, "42");
    EXPECT_JSON(rr_record_json_rejected, &late, g, "late");
    g = read_topic(&ko, "dead_letter");
    cr_assert(!g.has_key);
    cr_assert_gt(g.len, 12000);
    EXPECT_JSON(rr_record_json_rejected, &dead, g, "a dead letter of 6000 bytes");
    mock_stop(&m);
}
