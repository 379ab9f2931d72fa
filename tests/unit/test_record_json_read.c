/* Unit tests for codec/record_json_read: what codec/record_json writes reads
 * back into records that are written as the same JSON, byte for byte (the
 * docs' examples, edge cases, random records with any bytes in their
 * strings), from scratch of exactly the JSON's length; JSON laid out
 * differently (whitespace, key order, unknown keys, escapes) reads the same;
 * and what is not a record is refused with a message that says why. */
#include <criterion/criterion.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/record_json.h"
#include "codec/record_json_read.h"
#include "record_fixtures.h"

static rr_record_json_in_t in;

/* Read json (its own length of scratch, malloc'ed so a sanitizer sees an
 * overrun): 0 or -1, the error in err. The scratch is kept until the next
 * call: `in` points into it. */
static int read_json(const char *json, char *err, size_t err_size)
{
    static char *scratch;
    size_t n = strlen(json);
    free(scratch);
    scratch = malloc(n ? n : 1);
    cr_assert_not_null(scratch);
    err[0] = '\0';
    return rr_record_json_read(json, n, scratch, n, &in, err, err_size);
}

/* The JSON of what was read, as the writer writes it. */
static char *write_back(void)
{
    char *s = NULL;
    switch (in.kind) {
    case RR_RECORD_JSON_SHOP_DAY:
    case RR_RECORD_JSON_AGENT_DAY:
        FX_ENCODE(rr_record_json_day, &in.day, s);
        break;
    case RR_RECORD_JSON_VIOLATION:
        FX_ENCODE(rr_record_json_violation, &in.violation, s);
        break;
    case RR_RECORD_JSON_ALERT:
        FX_ENCODE(rr_record_json_alert, &in.alert, s);
        break;
    default:
        FX_ENCODE(rr_record_json_rejected, &in.rejected, s);
    }
    return s;
}

/* json (a line the writer wrote) reads as kind and writes back the same. */
static void round_trip(const char *json, rr_record_json_kind_t kind, const char *what)
{
    char err[256];
    cr_assert_eq(read_json(json, err, sizeof err), 0, "%s: %s\n%s", what, err, json);
    cr_assert_eq(in.kind, kind, "%s: read as %s", what, rr_record_json_kind_name(in.kind));
    char *back = write_back();
    cr_assert_str_eq(back, json, "%s: written back differently", what);
    free(back);
}

/* The line with its '\n' and without (a Kafka value): both read. */
static void round_trip_both(const char *line, rr_record_json_kind_t kind, const char *what)
{
    round_trip(line, kind, what);
    char *value = strdup(line);
    value[strlen(value) - 1] = '\0';
    char err[256];
    cr_assert_eq(read_json(value, err, sizeof err), 0, "%s without its newline: %s", what, err);
    char *back = write_back();
    cr_assert_str_eq(back, line, "%s without its newline", what);
    free(back);
    free(value);
}

static void refused(const char *json, const char *why, const char *what)
{
    char err[256];
    cr_assert_eq(read_json(json, err, sizeof err), -1, "%s: read\n%s", what, json);
    cr_assert(strstr(err, why), "%s: the error \"%s\" does not say \"%s\"", what, err, why);
}

Test(record_json_read, docs_examples_read_back_as_the_same_lines)
{
    char *s;
    rr_day_record_t d = fx_shop_day();
    FX_ENCODE(rr_record_json_day, &d, s);
    round_trip_both(s, RR_RECORD_JSON_SHOP_DAY, "shop_day");
    cr_assert_eq(in.day.shop_id, 7);
    cr_assert_eq(in.day.day, 20261122);
    cr_assert(in.day.final);
    cr_assert_str_eq(in.day.version, "v1");
    cr_assert_eq(in.cfg.n_metrics, 2, "the metric not shown is not in the JSON");
    cr_assert_str_eq(in.cfg.metrics[1].name, "tmall_response_time");
    cr_assert_eq(in.cfg.metrics[1].kind, RR_KIND_RESPONSE_TIME);
    cr_assert_eq(in.values[1].num, 123000);
    cr_assert_eq(in.values[1].unanswered, 1);
    cr_assert_eq(in.values[1].buckets[3], 1);
    free(s);

    d.is_agent = 1;
    d.agent_id = 3;
    d.final = 0;
    d.revision = 2;
    FX_ENCODE(rr_record_json_day, &d, s);
    round_trip_both(s, RR_RECORD_JSON_AGENT_DAY, "provisional agent_day");
    cr_assert(in.day.is_agent);
    cr_assert_eq(in.day.agent_id, 3);
    cr_assert_eq(in.day.revision, 2);
    free(s);

    rr_violation_record_t v = fx_violation();
    FX_ENCODE(rr_record_json_violation, &v, s);
    round_trip_both(s, RR_RECORD_JSON_VIOLATION, "unanswered violation");
    cr_assert(!in.violation.answered);
    cr_assert_eq(in.violation.reason, RR_REASON_NO_REPLY);
    cr_assert_eq(in.violation.round_start_ms, 1763776800000);
    free(s);
    v.answered = 1;
    v.reason = RR_REASON_LATE;
    FX_ENCODE(rr_record_json_violation, &v, s);
    round_trip_both(s, RR_RECORD_JSON_VIOLATION, "answered violation");
    cr_assert(in.violation.answered);
    cr_assert_eq(in.violation.reply_ms, 42);
    free(s);

    rr_alert_record_t a = fx_alert();
    FX_ENCODE(rr_record_json_alert, &a, s);
    round_trip_both(s, RR_RECORD_JSON_ALERT, "alert");
    cr_assert_eq(in.alert.value, 0.41);
    cr_assert_str_eq(in.alert.rule, "pdd_warning");
    free(s);

    rr_rejected_record_t x = fx_late();
    FX_ENCODE(rr_record_json_rejected, &x, s);
    round_trip_both(s, RR_RECORD_JSON_LATE, "late event");
    cr_assert_eq(in.rejected.verdict, RR_LATE);
    cr_assert(in.rejected.decoded);
    cr_assert_eq(in.rejected.event.event_id, 1116);
    cr_assert_eq(in.rejected.event.type, RR_EVENT_BUYER_MESSAGE);
    cr_assert_eq(in.rejected.raw_len, sizeof FX_RAW);
    cr_assert_eq(memcmp(in.rejected.raw, FX_RAW, sizeof FX_RAW), 0);
    free(s);
    x = fx_invalid();
    FX_ENCODE(rr_record_json_rejected, &x, s);
    round_trip_both(s, RR_RECORD_JSON_INVALID, "invalid event");
    cr_assert_eq(in.rejected.verdict, RR_INVALID);
    cr_assert(!in.rejected.decoded);
    cr_assert_eq(in.rejected.watermark_ms, INT64_MIN);
    free(s);
}

Test(record_json_read, edge_values_read_back_as_written)
{
    char *s;
    rr_alert_record_t a = fx_alert();
    const double vals[] = {
        0.0, -0.0,    1.0, -2.5, 1e-300, 1.7976931348623157e308, 5e-324, 0.3333333333333333,
        NAN, INFINITY};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        a.value = vals[i];
        FX_ENCODE(rr_record_json_alert, &a, s);
        round_trip(s, RR_RECORD_JSON_ALERT, s);
        free(s);
    }
    a.version = NULL; /* written "" */
    a.rule = "tab\there \"quoted\" back\\slash \x01 \x7f caf\xc3\xa9 \xf0\x9f\x98\x80 \xff bad";
    FX_ENCODE(rr_record_json_alert, &a, s);
    round_trip(s, RR_RECORD_JSON_ALERT, "escapes, UTF-8 and a byte that is not");
    free(s);

    rr_violation_record_t v = fx_violation();
    v.shop_id = UINT64_MAX;
    v.day = INT32_MIN;
    v.round_start_ms = INT64_MIN;
    v.answered = 1;
    v.reply_ms = INT64_MAX;
    v.wait_ms = -1;
    v.messages = UINT32_MAX;
    v.reason = (rr_reason_t)0; /* "unspecified" */
    FX_ENCODE(rr_record_json_violation, &v, s);
    round_trip(s, RR_RECORD_JSON_VIOLATION, "extreme integers, reason unspecified");
    free(s);

    rr_rejected_record_t x = fx_late();
    x.partition = -1;
    x.offset = INT64_MIN;
    x.event.type = 0x80000000u; /* not a type: written as the number */
    x.event.rating = UINT32_MAX;
    x.raw_len = 0; /* bytes, none of them: "" */
    FX_ENCODE(rr_record_json_rejected, &x, s);
    round_trip(s, RR_RECORD_JSON_LATE, "an event type as a number, empty raw");
    cr_assert_not_null(in.rejected.raw);
    free(s);
    x.raw = NULL;
    x.decoded = 0;
    FX_ENCODE(rr_record_json_rejected, &x, s);
    round_trip(s, RR_RECORD_JSON_LATE, "no raw bytes, no event");
    cr_assert_null(in.rejected.raw);
    free(s);

    /* a day with no metric shown, and one shown by unanswered alone */
    rr_day_record_t d = fx_shop_day();
    fx_values[0].den = 0;
    fx_values[1] = (rr_value_t){0};
    FX_ENCODE(rr_record_json_day, &d, s);
    cr_assert(strstr(s, "\"metrics\":{}"), "%s", s);
    round_trip(s, RR_RECORD_JSON_SHOP_DAY, "no metric shown");
    free(s);
    d = fx_shop_day();
    fx_values[0] = (rr_value_t){.num = 0, .den = 0, .unanswered = 2};
    FX_ENCODE(rr_record_json_day, &d, s);
    round_trip(s, RR_RECORD_JSON_SHOP_DAY, "a metric shown by unanswered alone");
    free(s);
}

Test(record_json_read, layout_key_order_unknown_keys_and_escapes_do_not_matter)
{
    char err[256];
    const char *json =
        " \r\n\t{ \"metrics\" : { \"m\\u0031\" : { \"den\" : 4 , \"later\" : [1, {\"x\": null}],"
        " \"num\" : 3 } } , \"future\" : {\"a\": [true, false, -1.5e3, \"\\\"\"]},"
        " \"final\" : false , \"revision\" : 7 , \"version\" : \"v\\/2\\ud83d\\ude00\","
        " \"day\" : 20261122 , \"shop_id\" : 1 , \"type\" : \"shop_day\" }\n\n";
    cr_assert_eq(read_json(json, err, sizeof err), 0, "%s", err);
    char *back = write_back();
    cr_assert_str_eq(back, "{\"type\":\"shop_day\",\"shop_id\":1,\"day\":20261122,\"final\":false,"
                           "\"version\":\"v/2\xf0\x9f\x98\x80\",\"revision\":7,\"metrics\":{\"m1\":"
                           "{\"num\":3,\"den\":4}}}\n");
    free(back);
    /* an event's type by its number too, and upper-case hex */
    json = "{\"type\":\"invalid\",\"reason\":\"r\",\"source\":\"s\",\"partition\":0,\"offset\":1,"
           "\"watermark_ms\":null,\"event\":{\"flags\":0,\"rating\":0,\"content\":0,\"type\":2,"
           "\"ts_ms\":-5,\"agent_id\":0,\"buyer_id\":1,\"conversation_id\":2,\"shop_id\":3,"
           "\"event_id\":4},\"raw_hex\":\"0A0b\"}";
    cr_assert_eq(read_json(json, err, sizeof err), 0, "%s", err);
    cr_assert_eq(in.rejected.event.type, 2);
    cr_assert_eq(in.rejected.event.ts_ms, -5);
    cr_assert_eq(in.rejected.raw_len, 2);
    cr_assert_eq(in.rejected.raw[0], 0x0a);
    cr_assert_eq(in.rejected.raw[1], 0x0b);
}

Test(record_json_read, what_is_not_a_record_is_refused_and_said_why)
{
    static const char alert[] = "{\"type\":\"alert\",\"shop_id\":1,\"day\":2,\"rule\":\"r\","
                                "\"value\":0.5,\"final\":true,\"version\":\"v\"";
    char buf[512], err[256];
#define WITH(tail) (snprintf(buf, sizeof buf, "%s%s", alert, tail), buf)
    cr_assert_eq(read_json(WITH("}"), err, sizeof err), 0, "the base case reads: %s", err);
    refused("", "expected '{'", "empty");
    refused("[1]", "expected '{'", "an array");
    refused(WITH(""), "expected ','", "cut short");
    refused(WITH("}x"), "after the record", "trailing bytes");
    refused(WITH("}{}"), "after the record", "two objects");
    refused(WITH(",}"), "expected a string", "a trailing comma");
    refused(WITH(",\"rule\":\"x\"}"), "\"rule\" twice", "a key twice");
    refused("{\"type\":\"alert\",\"shop_id\":1,\"day\":2,\"rule\":\"r\",\"final\":true,"
            "\"version\":\"v\"}",
            "without \"value\"", "a field missing");
    refused("{\"shop_id\":1}", "without \"type\"", "no type");
    refused("{\"type\":\"shopday\"}", "unknown record type", "an unknown type");
    refused(WITH(",\"agent_id\":-1}"), "out of range", "a negative id");
    refused("{\"type\":\"alert\",\"shop_id\":18446744073709551616}", "out of range", "2^64");
    refused("{\"type\":\"alert\",\"day\":2147483648}", "out of range", "a day past int32");
    refused("{\"type\":\"alert\",\"shop_id\":1.0}", "expected an integer", "a fraction");
    refused("{\"type\":\"alert\",\"shop_id\":1e3}", "expected an integer", "an exponent");
    refused("{\"type\":\"alert\",\"shop_id\":01}", "expected ','", "a leading zero");
    refused("{\"type\":\"alert\",\"shop_id\":\"1\"}", "expected a number", "an id as a string");
    refused("{\"type\":\"alert\",\"value\":.5}", "expected a number", "no integer part");
    refused("{\"type\":\"alert\",\"value\":1.}", "nothing after its '.'", "no fraction digits");
    refused("{\"type\":\"alert\",\"final\":1}", "expected true or false", "final as a number");
    refused("{\"type\":\"alert\",\"rule\":null}", "expected a string", "a string null");
    refused("{\"type\":\"alert\",\"rule\":\"a\\u0000b\"}", "\\u0000", "a NUL in a string");
    refused("{\"type\":\"alert\",\"rule\":\"a\\qb\"}", "unknown escape", "a bad escape");
    refused("{\"type\":\"alert\",\"rule\":\"a\\u12\"}", "4 hex digits", "a short \\u");
    refused("{\"type\":\"alert\",\"rule\":\"\\ud800x\"}", "without its low",
            "a lone high surrogate");
    refused("{\"type\":\"alert\",\"rule\":\"\\udc00\"}", "lone low surrogate", "a low surrogate");
    refused("{\"type\":\"alert\",\"rule\":\"a\nb\"}", "control character", "a raw newline");
    refused("{\"type\":\"alert\",\"rule\":\"ab}", "closing quote", "an open string");
    refused("{\"type\":\"alert\",\"rule\":\"a\xff\"}", "not UTF-8", "a byte that is not UTF-8");
    refused("{\"type\":\"alert\",\"rule\":\"a\xc3\"}", "not UTF-8", "a sequence cut short");
    refused("{\"type\":\"alert\",\"rule\":\"\xc0\xaf\"}", "not UTF-8", "an overlong form");
    refused("{\"type\":\"alert\",\"rule\":\"\xed\xa0\x80\"}", "not UTF-8", "a surrogate in UTF-8");
    refused("{\"type\":\"violation\",\"shop_id\":1,\"day\":2,\"metric\":\"m\","
            "\"conversation_id\":1,\"buyer_id\":1,\"agent_id\":1,\"round_start_ms\":1,"
            "\"reply_ms\":null,\"wait_ms\":3,\"messages\":1,\"reason\":\"late\",\"final\":true,"
            "\"version\":\"v\"}",
            "one of reply_ms and wait_ms", "half an answer");
    refused("{\"type\":\"violation\",\"shop_id\":1,\"day\":2,\"metric\":\"m\","
            "\"conversation_id\":1,\"buyer_id\":1,\"agent_id\":1,\"round_start_ms\":1,"
            "\"reply_ms\":null,\"wait_ms\":null,\"messages\":1,\"reason\":\"tardy\","
            "\"final\":true,\"version\":\"v\"}",
            "unknown violation reason", "an unknown reason");
    refused("{\"type\":\"shop_day\",\"metrics\":{\"m\":{\"num\":1}}}",
            "without \"num\" and \"den\"", "a metric without den");
    refused("{\"type\":\"shop_day\",\"metrics\":{\"m\":{\"num\":1,\"den\":1,\"unanswered\":0}}}",
            "one of \"unanswered\" and \"buckets\"", "unanswered without buckets");
    refused("{\"type\":\"shop_day\",\"metrics\":{\"m\":{\"num\":1,\"den\":1,\"unanswered\":0,"
            "\"buckets\":[1,2,3]}}}",
            "expected ','", "three buckets");
    refused("{\"type\":\"shop_day\",\"metrics\":{\"m\":{\"num\":1,\"den\":1,\"unanswered\":0,"
            "\"buckets\":[1,2,3,4,5,6,7,8,9]}}}",
            "holds 8 numbers", "nine buckets");
    char name[200];
    snprintf(name, sizeof name,
             "{\"type\":\"shop_day\",\"metrics\":{\"%064d\":{\"num\":1,\"den\":1}}}", 1);
    refused(name, "more than 63 bytes", "a metric name of 64 bytes");
    snprintf(name, sizeof name,
             "{\"type\":\"shop_day\",\"metrics\":{\"%063d\":{\"num\":1,\"den\":1}}}", 1);
    cr_assert_eq(read_json(name, err, sizeof err), -1, "no version: refused, but not for the name");
    cr_assert(strstr(err, "without \"shop_id\""), "a name of 63 bytes is refused: %s", err);
    refused("{\"type\":\"late\",\"event\":{\"type\":\"BUYER\"}}", "unknown event type",
            "an unknown event type name");
    refused("{\"type\":\"late\",\"event\":{\"type\":1}}", "without \"event_id\"",
            "an event without its ids");
    refused("{\"type\":\"late\",\"raw_hex\":\"abc\"}", "odd length", "odd hex");
    refused("{\"type\":\"late\",\"raw_hex\":\"zz\"}", "holds 'z'", "not hex");
    char deep[300];
    memset(deep, '[', sizeof deep);
    memcpy(deep, "{\"x\":", 5);
    deep[sizeof deep - 1] = '\0';
    refused(deep, "nested more than", "an unknown key's value nested too deep");
#undef WITH
}

Test(record_json_read, many_metrics_read_back_up_to_the_limit)
{
    char json[8192], *p = json;
    p += sprintf(p, "{\"type\":\"agent_day\",\"shop_id\":1,\"agent_id\":0,\"day\":1,\"final\":true,"
                    "\"version\":\"v\",\"metrics\":{");
    for (int i = 0; i < RR_MAX_METRICS; i++)
        p += sprintf(p, "%s\"m%d\":{\"num\":%d,\"den\":1}", i ? "," : "", i, i);
    strcpy(p, "}}\n");
    round_trip(json, RR_RECORD_JSON_AGENT_DAY, "RR_MAX_METRICS metrics");
    cr_assert_eq(in.cfg.n_metrics, RR_MAX_METRICS);
    strcpy(p, ",\"one_more\":{\"num\":1,\"den\":1}}}");
    refused(json, "more than 32 metrics", "one metric too many");
}

/* ------------------------------------------------------------- random ones */

static uint64_t rng = 0x2545F4914F6CDD1Du;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static uint64_t any64(void)
{
    static const uint64_t edge[] = {0,           1,
                                    9,           10,
                                    0x7fffffff,  0x80000000u,
                                    0xffffffffu, (uint64_t)1 << 63,
                                    UINT64_MAX,  UINT64_MAX - 1};
    uint64_t r = next();
    if (r % 3 == 0) return edge[(r >> 8) % (sizeof edge / sizeof edge[0])];
    return next() >> (r % 64);
}

/* Any bytes but NUL: control characters, quotes, UTF-8 and what is not. */
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

Test(record_json_read, random_records_read_back_as_the_same_json)
{
    static rr_config_t cfg;
    static rr_value_t values[RR_MAX_METRICS];
    static uint8_t raw[300];
    char s1[200], s2[200], *s;
    for (int iter = 0; iter < 3000; iter++) {
        memset(&cfg, 0, sizeof cfg);
        cfg.n_metrics = (size_t)(next() % (RR_MAX_METRICS + 1));
        for (size_t i = 0; i < cfg.n_metrics; i++) {
            /* distinct names (a JSON object's keys) of ASCII, escapes too; not
             * other bytes: U+FFFD for one would take a 63-byte name past the
             * limit (config names are plain words anyway) */
            size_t len = (size_t)snprintf(cfg.metrics[i].name, RR_NAME_MAX, "%zu:", i);
            size_t more = (size_t)(next() % (RR_NAME_MAX - len));
            for (size_t k = 0; k < more; k++)
                cfg.metrics[i].name[len + k] = (char)(1 + next() % 127);
            cfg.metrics[i].name[len + more] = '\0';
            cfg.metrics[i].kind = (rr_metric_kind_t)(RR_KIND_MESSAGE_WITHIN + next() % 7);
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
        FX_ENCODE(rr_record_json_day, &d, s);
        round_trip(s, d.is_agent ? RR_RECORD_JSON_AGENT_DAY : RR_RECORD_JSON_SHOP_DAY,
                   "random day");
        free(s);
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
                                   .reason = (rr_reason_t)(next() % 4),
                                   .final = (int)(next() % 2),
                                   .version = any_str(s2, sizeof s2)};
        FX_ENCODE(rr_record_json_violation, &v, s);
        round_trip(s, RR_RECORD_JSON_VIOLATION, "random violation");
        free(s);
        uint64_t bits = any64();
        double dv;
        memcpy(&dv, &bits, 8);
        rr_alert_record_t a = {.shop_id = any64(),
                               .day = (int32_t)any64(),
                               .rule = any_str(s1, sizeof s1),
                               .value = next() % 2 ? dv : (double)any64(),
                               .final = (int)(next() % 2),
                               .version = any_str(s2, sizeof s2)};
        FX_ENCODE(rr_record_json_alert, &a, s);
        round_trip(s, RR_RECORD_JSON_ALERT, "random alert");
        free(s);
        for (size_t i = 0; i < sizeof raw; i++)
            raw[i] = (uint8_t)next();
        int late = (int)(next() % 2);
        rr_rejected_record_t x = {.verdict = late ? RR_LATE : RR_INVALID,
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
                                            .type = (uint32_t)(next() % 2 ? next() % 12 : any64()),
                                            .content = (uint32_t)any64(),
                                            .rating = (uint32_t)any64(),
                                            .flags = (uint32_t)any64()},
                                  .watermark_ms = (int64_t)any64()};
        FX_ENCODE(rr_record_json_rejected, &x, s);
        round_trip(s, late ? RR_RECORD_JSON_LATE : RR_RECORD_JSON_INVALID, "random rejected");
        free(s);
    }
}
