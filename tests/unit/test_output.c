/* Unit tests for io/output: records through the sink into files of each
 * form (SPEC §6), checked byte for byte (JSONL, CSV) or by unpacking with
 * protobuf-c (delimited ResultRecord). */
#include <criterion/criterion.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "io/output.h"
#include "record_fixtures.h"
#include "replyrate/v1/results.pb-c.h"

/* ---------------------------------------------------------------- fixtures */

static char tmpdir[64];

static void make_tmpdir(void)
{
    strcpy(tmpdir, "/tmp/rr_test_output.XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
    DIR *d = opendir(tmpdir);
    if (!d) return;
    struct dirent *e;
    char p[512];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(tmpdir);
}

TestSuite(output, .init = make_tmpdir, .fini = remove_tmpdir);

static const char *tmp(const char *name)
{
    static char p[2][256];
    static int i;
    i ^= 1;
    snprintf(p[i], sizeof p[i], "%s/%s", tmpdir, name);
    return p[i];
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap + 1);
    size_t r;
    while ((r = fread(b + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) b = realloc(b, (cap *= 2) + 1);
    }
    fclose(f);
    b[n] = '\0';
    if (len) *len = n;
    return b;
}

/* The metric set of these tests: one metric of each kind that matters for
 * output, in a fixed order. */
enum { M_MSG, M_SESSION, M_RT, M_SAT, M_BUYER, M_UNASSIGNED, N_M };

static rr_config_t cfg;
static rr_value_t values[N_M];

static void setup_cfg(void)
{
    static const struct {
        const char *name;
        rr_metric_kind_t kind;
    } defs[N_M] = {
        {"douyin_msg_3min", RR_KIND_MESSAGE_WITHIN},
        {"douyin_session_3min", RR_KIND_SESSION_WITHIN},
        {"tmall_response_time", RR_KIND_RESPONSE_TIME},
        {"douyin_satisfaction", RR_KIND_SATISFACTION},
        {"pdd_buyer_3min", RR_KIND_BUYER_WITHIN},
        {"douyin_unassigned", RR_KIND_UNASSIGNED},
    };
    memset(&cfg, 0, sizeof cfg);
    memset(values, 0, sizeof values);
    for (int i = 0; i < N_M; i++) {
        snprintf(cfg.metrics[i].name, sizeof cfg.metrics[i].name, "%s", defs[i].name);
        cfg.metrics[i].kind = defs[i].kind;
    }
    cfg.n_metrics = N_M;
    values[M_MSG] = (rr_value_t){.num = 3, .den = 4};
    values[M_SESSION] = (rr_value_t){.num = 1, .den = 2};
    values[M_RT] =
        (rr_value_t){.num = 123000, .den = 4, .unanswered = 1, .buckets = {1, 2, 0, 1, 0, 0, 0, 0}};
    values[M_SAT] = (rr_value_t){0}; /* den 0: left out */
    values[M_BUYER] = (rr_value_t){.num = 0, .den = 1};
    values[M_UNASSIGNED] = (rr_value_t){.num = 5, .den = 0}; /* den 0: left out even with num */
}

static rr_day_record_t shop_day(void)
{
    setup_cfg();
    return (rr_day_record_t){
        .shop_id = 7, .day = 20261122, .final = 1, .version = "v1", .cfg = &cfg, .values = values};
}

static rr_violation_record_t violation_late(void)
{
    return (rr_violation_record_t){.shop_id = 1,
                                   .day = 20261122,
                                   .metric = "pdd_buyer_3min",
                                   .conversation_id = 1,
                                   .buyer_id = 1,
                                   .agent_id = 1,
                                   .round_start_ms = 1795312800000,
                                   .answered = 1,
                                   .reply_ms = 1795313010000,
                                   .wait_ms = 210000,
                                   .messages = 2,
                                   .reason = RR_REASON_LATE,
                                   .final = 1,
                                   .version = "v1"};
}

static const uint8_t RAW[] = {0x08, 0x01, 0x10, 0xff};

static rr_rejected_record_t rejected_late(void)
{
    return (rr_rejected_record_t){.verdict = RR_LATE,
                                  .reason = "late",
                                  .source = "in.pb",
                                  .partition = 0,
                                  .offset = 1234,
                                  .raw = RAW,
                                  .raw_len = sizeof RAW,
                                  .decoded = 1,
                                  .event = {.event_id = 1116,
                                            .shop_id = 1,
                                            .conversation_id = 1,
                                            .buyer_id = 1,
                                            .agent_id = 0,
                                            .ts_ms = 1795312810000,
                                            .type = RR_EVENT_BUYER_MESSAGE,
                                            .content = 2,
                                            .rating = 0,
                                            .flags = 3},
                                  .watermark_ms = 1795312815000};
}

static rr_rejected_record_t rejected_undecodable(void)
{
    return (rr_rejected_record_t){.verdict = RR_INVALID,
                                  .reason = "truncated record",
                                  .source = "in.pb",
                                  .partition = 2,
                                  .offset = 77,
                                  .raw = RAW,
                                  .raw_len = sizeof RAW,
                                  .decoded = 0,
                                  .watermark_ms = -5000};
}

static rr_output_t *open_ok(const char *path, rr_sink_t *sink)
{
    rr_output_t *o = NULL;
    char err[256] = "";
    cr_assert_eq(rr_output_open(path, &o, err, sizeof err), 0, "open %s: %s", path, err);
    cr_assert_not_null(o);
    rr_output_sink(o, sink);
    cr_assert_eq(sink->opaque, o);
    return o;
}

static void close_ok(rr_output_t *o)
{
    char err[256] = "";
    cr_assert_eq(rr_output_close(o, err, sizeof err), 0, "close: %s", err);
}

/* Write one day record to a fresh .jsonl and return the file's text. */
static char *jsonl_of_day(const rr_day_record_t *r)
{
    const char *path = tmp("day.jsonl");
    rr_sink_t s;
    rr_output_t *o = open_ok(path, &s);
    s.day(s.opaque, r);
    cr_assert_eq(rr_output_records(o), 1);
    close_ok(o);
    return slurp(path, NULL);
}

/* ------------------------------------------------------------ JSON Lines */

Test(output, jsonl_shop_day_shows_metrics_with_den_or_unanswered)
{
    rr_day_record_t r = shop_day();
    char *got = jsonl_of_day(&r);
    cr_assert_str_eq(
        got,
        "{\"type\":\"shop_day\",\"shop_id\":7,\"day\":20261122,\"final\":true,\"version\":\"v1\","
        "\"metrics\":{\"douyin_msg_3min\":{\"num\":3,\"den\":4},"
        "\"douyin_session_3min\":{\"num\":1,\"den\":2},"
        "\"tmall_response_time\":{\"num\":123000,\"den\":4,\"unanswered\":1,"
        "\"buckets\":[1,2,0,1,0,0,0,0]},"
        "\"pdd_buyer_3min\":{\"num\":0,\"den\":1}}}\n");
    free(got);
}

Test(output, jsonl_response_time_with_only_unanswered_rounds_is_shown)
{
    rr_day_record_t r = shop_day();
    memset(values, 0, sizeof values);
    values[M_RT].unanswered = 1;
    char *got = jsonl_of_day(&r);
    cr_assert_str_eq(
        got,
        "{\"type\":\"shop_day\",\"shop_id\":7,\"day\":20261122,\"final\":true,\"version\":\"v1\","
        "\"metrics\":{\"tmall_response_time\":{\"num\":0,\"den\":0,\"unanswered\":1,"
        "\"buckets\":[0,0,0,0,0,0,0,0]}}}\n");
    free(got);
}

Test(output, jsonl_shop_day_with_no_counts_has_empty_metrics)
{
    rr_day_record_t r = shop_day();
    memset(values, 0, sizeof values);
    char *got = jsonl_of_day(&r);
    cr_assert_str_eq(got, "{\"type\":\"shop_day\",\"shop_id\":7,\"day\":20261122,\"final\":true,"
                          "\"version\":\"v1\",\"metrics\":{}}\n");
    free(got);
}

Test(output, jsonl_agent_day_carries_agent_id_and_only_per_agent_kinds)
{
    rr_day_record_t r = shop_day();
    r.is_agent = 1;
    r.agent_id = 0; /* agent 0 ("no agent") is an agent like any other */
    values[M_SAT] = (rr_value_t){.num = 1, .den = 1};
    char *got = jsonl_of_day(&r);
    cr_assert_str_eq(
        got, "{\"type\":\"agent_day\",\"shop_id\":7,\"agent_id\":0,\"day\":20261122,\"final\":true,"
             "\"version\":\"v1\",\"metrics\":{\"douyin_msg_3min\":{\"num\":3,\"den\":4},"
             "\"tmall_response_time\":{\"num\":123000,\"den\":4,\"unanswered\":1,"
             "\"buckets\":[1,2,0,1,0,0,0,0]},"
             "\"douyin_satisfaction\":{\"num\":1,\"den\":1}}}\n");
    free(got);
}

Test(output, jsonl_provisional_record_carries_revision_and_final_does_not)
{
    rr_day_record_t r = shop_day();
    memset(values, 0, sizeof values);
    r.final = 0;
    r.revision = 3;
    char *got = jsonl_of_day(&r);
    cr_assert_str_eq(got, "{\"type\":\"shop_day\",\"shop_id\":7,\"day\":20261122,\"final\":false,"
                          "\"version\":\"v1\",\"revision\":3,\"metrics\":{}}\n");
    free(got);
    r.is_agent = 1;
    r.agent_id = 18446744073709551615u;
    values[M_MSG] = (rr_value_t){.num = INT64_MIN, .den = INT64_MAX};
    got = jsonl_of_day(&r);
    cr_assert_str_eq(got, "{\"type\":\"agent_day\",\"shop_id\":7,\"agent_id\":18446744073709551615,"
                          "\"day\":20261122,\"final\":false,\"version\":\"v1\",\"revision\":3,"
                          "\"metrics\":{\"douyin_msg_3min\":{\"num\":-9223372036854775808,"
                          "\"den\":9223372036854775807}}}\n");
    free(got);
}

Test(output, jsonl_violations_have_null_reply_and_wait_when_unanswered)
{
    const char *path = tmp("v.jsonl");
    rr_sink_t s;
    rr_output_t *o = open_ok(path, &s);
    rr_violation_record_t a = fx_violation(), b = violation_late(), c = fx_violation();
    c.reason = RR_REASON_UNASSIGNED;
    c.agent_id = 0;
    c.final = 0;
    s.violation(s.opaque, &a);
    s.violation(s.opaque, &b);
    s.violation(s.opaque, &c);
    cr_assert_eq(rr_output_records(o), 3);
    close_ok(o);
    char *got = slurp(path, NULL);
    cr_assert_str_eq(
        got,
        "{\"type\":\"violation\",\"shop_id\":7,\"day\":20261122,\"metric\":\"douyin_msg_3min\","
        "\"conversation_id\":9,\"buyer_id\":5,\"agent_id\":3,\"round_start_ms\":1763776800000,"
        "\"reply_ms\":null,\"wait_ms\":null,\"messages\":2,\"reason\":\"no_reply\","
        "\"final\":true,\"version\":\"v1\"}\n"
        "{\"type\":\"violation\",\"shop_id\":1,\"day\":20261122,\"metric\":\"pdd_buyer_3min\","
        "\"conversation_id\":1,\"buyer_id\":1,\"agent_id\":1,\"round_start_ms\":1795312800000,"
        "\"reply_ms\":1795313010000,\"wait_ms\":210000,\"messages\":2,\"reason\":\"late\","
        "\"final\":true,\"version\":\"v1\"}\n"
        "{\"type\":\"violation\",\"shop_id\":7,\"day\":20261122,\"metric\":\"douyin_msg_3min\","
        "\"conversation_id\":9,\"buyer_id\":5,\"agent_id\":0,\"round_start_ms\":1763776800000,"
        "\"reply_ms\":null,\"wait_ms\":null,\"messages\":2,\"reason\":\"unassigned\","
        "\"final\":false,\"version\":\"v1\"}\n");
    free(got);
}

Test(output, jsonl_alert_value_round_trips_and_reads_as_a_float)
{
    const char *path = tmp("a.jsonl");
    rr_sink_t s;
    rr_output_t *o = open_ok(path, &s);
    const double v[] = {0.41, 0.0, 1.0 / 3.0, 0.5, 1e-300, NAN};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        rr_alert_record_t a = {.shop_id = 1,
                               .day = 20261122,
                               .rule = "pdd_warning",
                               .value = v[i],
                               .final = 1,
                               .version = "v1"};
        s.alert(s.opaque, &a);
    }
    close_ok(o);
    char *got = slurp(path, NULL);
    const char *pre =
        "{\"type\":\"alert\",\"shop_id\":1,\"day\":20261122,\"rule\":\"pdd_warning\",\"value\":";
    const char *post = ",\"final\":true,\"version\":\"v1\"}\n";
    const char *nums[] = {"0.41", "0.0", "0.3333333333333333", "0.5", "1e-300", "null"};
    char want[2048] = "";
    for (size_t i = 0; i < 6; i++) {
        strcat(want, pre);
        strcat(want, nums[i]);
        strcat(want, post);
    }
    cr_assert_str_eq(got, want);
    cr_assert_eq(strtod("0.3333333333333333", NULL), 1.0 / 3.0);
    free(got);
}

Test(output, jsonl_rejected_events_carry_position_event_and_raw_bytes)
{
    const char *path = tmp("late.jsonl");
    rr_sink_t s;
    rr_output_t *o = open_ok(path, &s);
    rr_rejected_record_t a = rejected_late(), b = rejected_undecodable(), c = rejected_late();
    c.verdict = RR_INVALID;
    c.reason = "type outside 1..10";
    c.event.type = 4000000000u;
    c.raw = NULL;
    c.raw_len = 0;
    s.rejected(s.opaque, &a);
    s.rejected(s.opaque, &b);
    s.rejected(s.opaque, &c);
    close_ok(o);
    char *got = slurp(path, NULL);
    cr_assert_str_eq(
        got, "{\"type\":\"late\",\"reason\":\"late\",\"source\":\"in.pb\",\"partition\":0,"
             "\"offset\":1234,\"watermark_ms\":1795312815000,\"event\":{\"event_id\":1116,"
             "\"shop_id\":1,\"conversation_id\":1,\"buyer_id\":1,\"agent_id\":0,"
             "\"ts_ms\":1795312810000,\"type\":\"BUYER_MESSAGE\",\"content\":2,\"rating\":0,"
             "\"flags\":3},\"raw_hex\":\"080110ff\"}\n"
             "{\"type\":\"invalid\",\"reason\":\"truncated record\",\"source\":\"in.pb\","
             "\"partition\":2,\"offset\":77,\"watermark_ms\":-5000,\"event\":null,"
             "\"raw_hex\":\"080110ff\"}\n"
             "{\"type\":\"invalid\",\"reason\":\"type outside 1..10\",\"source\":\"in.pb\","
             "\"partition\":0,\"offset\":1234,\"watermark_ms\":1795312815000,\"event\":{"
             "\"event_id\":1116,\"shop_id\":1,\"conversation_id\":1,\"buyer_id\":1,\"agent_id\":0,"
             "\"ts_ms\":1795312810000,\"type\":4000000000,\"content\":2,\"rating\":0,"
             "\"flags\":3},\"raw_hex\":null}\n");
    free(got);
}

Test(output, jsonl_rejected_before_any_applied_event_has_null_watermark)
{
    const char *path = tmp("nowm.jsonl");
    rr_sink_t s;
    rr_output_t *o = open_ok(path, &s);
    rr_rejected_record_t r = rejected_undecodable();
    r.watermark_ms = INT64_MIN; /* the engine's "no watermark yet" */
    s.rejected(s.opaque, &r);
    close_ok(o);
    char *got = slurp(path, NULL);
    cr_assert(strstr(got, "\"watermark_ms\":null,") != NULL, "got %s", got);
    free(got);
}

Test(output, jsonl_strings_are_escaped_and_kept_valid_utf8)
{
    rr_day_record_t r = shop_day();
    memset(values, 0, sizeof values);
    r.version = "a\"b\\c\nd\te\x01\x7f 店小蜜 \xF0\x9F\x98\x80 \xff\xc3(\xed\xa0\x80";
    snprintf(cfg.metrics[M_MSG].name, RR_NAME_MAX, "%s", "m\"1");
    values[M_MSG].den = 1;
    char *got = jsonl_of_day(&r);
    cr_assert_str_eq(got, "{\"type\":\"shop_day\",\"shop_id\":7,\"day\":20261122,\"final\":true,"
                          "\"version\":\"a\\\"b\\\\c\\nd\\te\\u0001\x7f 店小蜜 \xF0\x9F\x98\x80 "
                          "\xEF\xBF\xBD\xEF\xBF\xBD(\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\","
                          "\"metrics\":{\"m\\\"1\":{\"num\":0,\"den\":1}}}\n");
    free(got);
}

Test(output, jsonl_null_strings_are_written_empty)
{
    rr_day_record_t r = shop_day();
    memset(values, 0, sizeof values);
    r.version = NULL;
    char *got = jsonl_of_day(&r);
    cr_assert_str_eq(got, "{\"type\":\"shop_day\",\"shop_id\":7,\"day\":20261122,\"final\":true,"
                          "\"version\":\"\",\"metrics\":{}}\n");
    free(got);
}

Test(output, jsonl_large_raw_bytes_are_hex_encoded_whole)
{
    const char *path = tmp("big.jsonl");
    rr_sink_t s;
    rr_output_t *o = open_ok(path, &s);
    size_t n = 300000;
    uint8_t *raw = malloc(n);
    for (size_t i = 0; i < n; i++)
        raw[i] = (uint8_t)i;
    rr_rejected_record_t r = rejected_undecodable();
    r.raw = raw;
    r.raw_len = n;
    s.rejected(s.opaque, &r);
    s.rejected(s.opaque, &r);
    close_ok(o);
    size_t len;
    char *got = slurp(path, &len);
    const char *h = strstr(got, "\"raw_hex\":\"");
    cr_assert_not_null(h);
    h += strlen("\"raw_hex\":\"");
    cr_assert_eq(strncmp(h, "000102030405", 12), 0);
    cr_assert_eq(h[2 * n], '"');
    char last[5];
    snprintf(last, sizeof last, "%02x%02x", raw[n - 2], raw[n - 1]);
    cr_assert_eq(strncmp(h + 2 * n - 4, last, 4), 0);
    free(got);
    free(raw);
}

Test(output, jsonl_zst_output_decompresses_to_the_same_lines)
{
    rr_day_record_t r = shop_day();
    char *plain = jsonl_of_day(&r);
    const char *path = tmp("day.jsonl.zst");
    rr_sink_t s;
    rr_output_t *o = open_ok(path, &s);
    for (int i = 0; i < 1000; i++)
        s.day(s.opaque, &r);
    close_ok(o);
    size_t zlen;
    char *z = slurp(path, &zlen);
    size_t plen = strlen(plain), cap = 1000 * plen + 1;
    char *out = malloc(cap);
    ZSTD_DStream *ds = ZSTD_createDStream();
    ZSTD_inBuffer in = {z, zlen, 0};
    ZSTD_outBuffer ob = {out, cap, 0};
    while (in.pos < in.size) {
        size_t rc = ZSTD_decompressStream(ds, &ob, &in);
        cr_assert(!ZSTD_isError(rc), "zstd: %s", ZSTD_getErrorName(rc));
        if (rc == 0) break;
    }
    ZSTD_freeDStream(ds);
    cr_assert_eq(ob.pos, 1000 * plen);
    for (int i = 0; i < 1000; i++)
        cr_assert_eq(memcmp(out + i * plen, plain, plen), 0);
    free(out);
    free(z);
    free(plain);
}

/* -------------------------------------------------------------------- CSV */

static const char CSV_HEADER[] =
    "type,shop_id,agent_id,day,final,version,metric,num,den,unanswered,b0,b1,b2,b3,b4,b5,b6,b7,"
    "conversation_id,buyer_id,round_start_ms,reply_ms,wait_ms,messages,reason,rule,value\n";

/* Fields of each line, RFC 4180 quotes respected. */
static void assert_columns(const char *text, int want)
{
    int fields = 1, quoted = 0, line = 1;
    for (const char *p = text; *p; p++) {
        if (*p == '"')
            quoted = !quoted;
        else if (!quoted && *p == ',')
            fields++;
        else if (!quoted && *p == '\n') {
            cr_assert_eq(fields, want, "line %d has %d fields, want %d", line, fields, want);
            fields = 1;
            line++;
        }
    }
}

Test(output, csv_writes_header_then_one_row_per_shown_metric)
{
    const char *path = tmp("r.csv");
    rr_sink_t s;
    rr_output_t *o = open_ok(path, &s);
    rr_day_record_t d = shop_day();
    s.day(s.opaque, &d);
    rr_day_record_t ad = d;
    ad.is_agent = 1;
    ad.agent_id = 3;
    ad.final = 0;
    ad.revision = 2;
    s.day(s.opaque, &ad);
    rr_violation_record_t v1 = fx_violation(), v2 = violation_late();
    s.violation(s.opaque, &v1);
    s.violation(s.opaque, &v2);
    rr_alert_record_t a = fx_alert();
    s.alert(s.opaque, &a);
    cr_assert_eq(rr_output_records(o), 5);
    close_ok(o);
    char *got = slurp(path, NULL);
    char want[4096];
    snprintf(
        want, sizeof want, "%s%s", CSV_HEADER,
        "shop_day,7,,20261122,true,v1,douyin_msg_3min,3,4,,,,,,,,,,,,,,,,,,\n"
        "shop_day,7,,20261122,true,v1,douyin_session_3min,1,2,,,,,,,,,,,,,,,,,,\n"
        "shop_day,7,,20261122,true,v1,tmall_response_time,123000,4,1,1,2,0,1,0,0,0,0,,,,,,,,,\n"
        "shop_day,7,,20261122,true,v1,pdd_buyer_3min,0,1,,,,,,,,,,,,,,,,,,\n"
        "agent_day,7,3,20261122,false,v1,douyin_msg_3min,3,4,,,,,,,,,,,,,,,,,,\n"
        "agent_day,7,3,20261122,false,v1,tmall_response_time,123000,4,1,1,2,0,1,0,0,0,0,,,,,,,,,\n"
        "violation,7,3,20261122,true,v1,douyin_msg_3min,,,,,,,,,,,,9,5,1763776800000,,,2,no_reply,,"
        "\n"
        "violation,1,1,20261122,true,v1,pdd_buyer_3min,,,,,,,,,,,,1,1,1795312800000,1795313010000,"
        "210000,2,late,,\n"
        "alert,1,,20261122,true,v1,,,,,,,,,,,,,,,,,,,,pdd_warning,0.41\n");
    cr_assert_str_eq(got, want);
    assert_columns(got, 27);
    free(got);
}

Test(output, csv_day_with_nothing_to_show_is_one_row_without_metric)
{
    const char *path = tmp("e.csv");
    rr_sink_t s;
    rr_output_t *o = open_ok(path, &s);
    rr_day_record_t d = shop_day();
    memset(values, 0, sizeof values);
    s.day(s.opaque, &d);
    close_ok(o);
    char *got = slurp(path, NULL);
    char want[1024];
    snprintf(want, sizeof want, "%sshop_day,7,,20261122,true,v1,,,,,,,,,,,,,,,,,,,,,\n",
             CSV_HEADER);
    cr_assert_str_eq(got, want);
    assert_columns(got, 27);
    free(got);
}

Test(output, csv_quotes_fields_holding_commas_quotes_or_newlines)
{
    const char *path = tmp("q.csv");
    rr_sink_t s;
    rr_output_t *o = open_ok(path, &s);
    rr_alert_record_t a = {.shop_id = 1,
                           .day = 20261122,
                           .rule = "r,\"x\"\ny",
                           .value = 0.5,
                           .final = 1,
                           .version = "plain"};
    s.alert(s.opaque, &a);
    close_ok(o);
    char *got = slurp(path, NULL);
    char want[1024];
    snprintf(want, sizeof want,
             "%salert,1,,20261122,true,plain,,,,,,,,,,,,,,,,,,,,\"r,\"\"x\"\"\ny\",0.5\n",
             CSV_HEADER);
    cr_assert_str_eq(got, want);
    assert_columns(got, 27);
    free(got);
}

Test(output, csv_rejected_events_get_a_layout_of_their_own)
{
    const char *path = tmp("dead.csv");
    rr_sink_t s;
    rr_output_t *o = open_ok(path, &s);
    rr_rejected_record_t a = rejected_late(), b = rejected_undecodable();
    b.reason = "bad, \"really\"";
    s.rejected(s.opaque, &a);
    s.rejected(s.opaque, &b);
    close_ok(o);
    char *got = slurp(path, NULL);
    cr_assert_str_eq(
        got, "type,reason,source,partition,offset,watermark_ms,event_id,shop_id,conversation_id,"
             "buyer_id,agent_id,ts_ms,event_type,content,rating,flags,raw_hex\n"
             "late,late,in.pb,0,1234,1795312815000,1116,1,1,1,0,1795312810000,BUYER_MESSAGE,2,0,3,"
             "080110ff\n"
             "invalid,\"bad, \"\"really\"\"\",in.pb,2,77,-5000,,,,,,,,,,,080110ff\n");
    assert_columns(got, 17);
    free(got);
}

Test(output, csv_file_refuses_to_mix_results_and_rejected_events)
{
    const char *path = tmp("mix.csv");
    rr_sink_t s;
    rr_output_t *o = open_ok(path, &s);
    rr_alert_record_t a = {
        .shop_id = 1, .day = 20261122, .rule = "r", .value = 0.5, .final = 1, .version = "v"};
    rr_rejected_record_t r = rejected_late();
    s.alert(s.opaque, &a);
    s.rejected(s.opaque, &r);
    s.alert(s.opaque, &a);
    cr_assert_eq(rr_output_records(o), 1);
    char err[256] = "";
    cr_assert_eq(rr_output_close(o, err, sizeof err), -1);
    cr_assert(strstr(err, path) != NULL, "error names the file: %s", err);
}

Test(output, empty_output_is_an_empty_file)
{
    const char *names[] = {"n.csv", "n.jsonl", "n.pb"};
    for (int i = 0; i < 3; i++) {
        rr_sink_t s;
        rr_output_t *o = open_ok(tmp(names[i]), &s);
        cr_assert_eq(rr_output_records(o), 0);
        close_ok(o);
        size_t len;
        free(slurp(tmp(names[i]), &len));
        cr_assert_eq(len, 0);
    }
}

/* ------------------------------------------------------ delimited protobuf */

/* Read the next delimited ResultRecord at *pos; NULL at end of data. */
static Replyrate__V1__ResultRecord *next_pb(const char *buf, size_t len, size_t *pos)
{
    if (*pos >= len) return NULL;
    uint64_t n = 0;
    int shift = 0;
    while (1) {
        cr_assert_lt(*pos, len, "truncated varint");
        uint8_t b = (uint8_t)buf[(*pos)++];
        n |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) break;
        shift += 7;
    }
    cr_assert_leq(*pos + n, len, "record runs past the end");
    Replyrate__V1__ResultRecord *r =
        replyrate__v1__result_record__unpack(NULL, (size_t)n, (const uint8_t *)buf + *pos);
    cr_assert_not_null(r, "record at %zu does not unpack", *pos);
    *pos += (size_t)n;
    return r;
}

Test(output, pb_records_round_trip_through_protobuf_c)
{
    const char *path = tmp("r.pb");
    rr_sink_t s;
    rr_output_t *o = open_ok(path, &s);
    rr_day_record_t d = shop_day();
    s.day(s.opaque, &d);
    rr_day_record_t ad = d;
    ad.is_agent = 1;
    ad.agent_id = 3;
    ad.final = 0;
    ad.revision = 2;
    s.day(s.opaque, &ad);
    rr_violation_record_t v1 = fx_violation(), v2 = violation_late();
    s.violation(s.opaque, &v1);
    s.violation(s.opaque, &v2);
    rr_alert_record_t a = fx_alert();
    s.alert(s.opaque, &a);
    rr_rejected_record_t j1 = rejected_late(), j2 = rejected_undecodable();
    s.rejected(s.opaque, &j1);
    s.rejected(s.opaque, &j2);
    cr_assert_eq(rr_output_records(o), 7);
    close_ok(o);

    size_t len, pos = 0;
    char *buf = slurp(path, &len);
    Replyrate__V1__ResultRecord *r;

    r = next_pb(buf, len, &pos);
    cr_assert_eq(r->record_case, REPLYRATE__V1__RESULT_RECORD__RECORD_SHOP_DAY);
    Replyrate__V1__ShopDay *sd = r->shop_day;
    cr_assert_eq(sd->shop_id, 7);
    cr_assert_eq(sd->day, 20261122);
    cr_assert(sd->final);
    cr_assert_str_eq(sd->version, "v1");
    cr_assert_eq(sd->revision, 0);
    cr_assert_eq(sd->n_metrics, 4);
    cr_assert_str_eq(sd->metrics[0]->name, "douyin_msg_3min");
    cr_assert_eq(sd->metrics[0]->num, 3);
    cr_assert_eq(sd->metrics[0]->den, 4);
    cr_assert_eq(sd->metrics[0]->n_buckets, 0);
    cr_assert_str_eq(sd->metrics[2]->name, "tmall_response_time");
    cr_assert_eq(sd->metrics[2]->num, 123000);
    cr_assert_eq(sd->metrics[2]->unanswered, 1);
    cr_assert_eq(sd->metrics[2]->n_buckets, 8);
    const int64_t wantb[8] = {1, 2, 0, 1, 0, 0, 0, 0};
    for (int i = 0; i < 8; i++)
        cr_assert_eq(sd->metrics[2]->buckets[i], wantb[i]);
    cr_assert_str_eq(sd->metrics[3]->name, "pdd_buyer_3min");
    replyrate__v1__result_record__free_unpacked(r, NULL);

    r = next_pb(buf, len, &pos);
    cr_assert_eq(r->record_case, REPLYRATE__V1__RESULT_RECORD__RECORD_AGENT_DAY);
    cr_assert_eq(r->agent_day->agent_id, 3);
    cr_assert_not(r->agent_day->final);
    cr_assert_eq(r->agent_day->revision, 2);
    cr_assert_eq(r->agent_day->n_metrics,
                 2); /* message_within and response_time; satisfaction den 0 */
    cr_assert_str_eq(r->agent_day->metrics[0]->name, "douyin_msg_3min");
    cr_assert_str_eq(r->agent_day->metrics[1]->name, "tmall_response_time");
    replyrate__v1__result_record__free_unpacked(r, NULL);

    r = next_pb(buf, len, &pos);
    cr_assert_eq(r->record_case, REPLYRATE__V1__RESULT_RECORD__RECORD_VIOLATION);
    Replyrate__V1__Violation *v = r->violation;
    cr_assert_eq(v->shop_id, 7);
    cr_assert_str_eq(v->metric, "douyin_msg_3min");
    cr_assert_eq(v->conversation_id, 9);
    cr_assert_eq(v->buyer_id, 5);
    cr_assert_eq(v->agent_id, 3);
    cr_assert_eq(v->round_start_ms, 1763776800000);
    cr_assert_not(v->answered);
    cr_assert_eq(v->reply_ms, 0);
    cr_assert_eq(v->wait_ms, 0);
    cr_assert_eq(v->messages, 2);
    cr_assert_eq(v->reason, REPLYRATE__V1__VIOLATION__REASON__NO_REPLY);
    cr_assert(v->final);
    replyrate__v1__result_record__free_unpacked(r, NULL);

    r = next_pb(buf, len, &pos);
    v = r->violation;
    cr_assert(v->answered);
    cr_assert_eq(v->reply_ms, 1795313010000);
    cr_assert_eq(v->wait_ms, 210000);
    cr_assert_eq(v->reason, REPLYRATE__V1__VIOLATION__REASON__LATE);
    replyrate__v1__result_record__free_unpacked(r, NULL);

    r = next_pb(buf, len, &pos);
    cr_assert_eq(r->record_case, REPLYRATE__V1__RESULT_RECORD__RECORD_ALERT);
    cr_assert_str_eq(r->alert->rule, "pdd_warning");
    cr_assert_eq(r->alert->value, 0.41);
    cr_assert_eq(r->alert->day, 20261122);
    replyrate__v1__result_record__free_unpacked(r, NULL);

    r = next_pb(buf, len, &pos);
    cr_assert_eq(r->record_case, REPLYRATE__V1__RESULT_RECORD__RECORD_REJECTED);
    Replyrate__V1__RejectedEvent *x = r->rejected;
    cr_assert_eq(x->kind, REPLYRATE__V1__REJECTED_EVENT__KIND__LATE);
    cr_assert_str_eq(x->reason, "late");
    cr_assert_str_eq(x->source, "in.pb");
    cr_assert_eq(x->offset, 1234);
    cr_assert_eq(x->watermark_ms, 1795312815000);
    cr_assert_eq(x->raw.len, sizeof RAW);
    cr_assert_eq(memcmp(x->raw.data, RAW, sizeof RAW), 0);
    cr_assert_not_null(x->event);
    cr_assert_eq(x->event->event_id, 1116);
    cr_assert_eq(x->event->ts_ms, 1795312810000);
    cr_assert_eq((int)x->event->type, RR_EVENT_BUYER_MESSAGE);
    cr_assert_eq(x->event->flags, 3);
    cr_assert_eq(x->event->content, 2);
    replyrate__v1__result_record__free_unpacked(r, NULL);

    r = next_pb(buf, len, &pos);
    x = r->rejected;
    cr_assert_eq(x->kind, REPLYRATE__V1__REJECTED_EVENT__KIND__INVALID);
    cr_assert_str_eq(x->reason, "truncated record");
    cr_assert_eq(x->partition, 2);
    cr_assert_eq(x->watermark_ms, -5000);
    cr_assert_null(x->event);
    replyrate__v1__result_record__free_unpacked(r, NULL);

    cr_assert_null(next_pb(buf, len, &pos));
    free(buf);
}

/* --------------------------------------------------------- formats, errors */

Test(output, format_follows_the_extension_through_zst)
{
    static const struct {
        const char *path;
        rr_format_t fmt;
    } ok[] = {
        {"out.jsonl", RR_FMT_JSONL},
        {"out.json", RR_FMT_JSONL},
        {"a/b.c/out.jsonl.zst", RR_FMT_JSONL},
        {"OUT.JSONL", RR_FMT_JSONL},
        {"out.csv", RR_FMT_CSV},
        {"out.csv.zst", RR_FMT_CSV},
        {"out.pb", RR_FMT_PB},
        {"out.pb.zst", RR_FMT_PB},
        {"-", RR_FMT_JSONL},
        {"dir.x/.hidden.pb", RR_FMT_PB},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        rr_format_t f = (rr_format_t)-1;
        char err[256] = "";
        cr_assert_eq(rr_format_from_path(ok[i].path, &f, err, sizeof err), 0, "%s: %s", ok[i].path,
                     err);
        cr_assert_eq(f, ok[i].fmt, "%s", ok[i].path);
    }
    static const char *bad[] = {"out.txt", "out.zst",           "out", "out.pb.gz", "a.csv/out",
                                ".csv",    "out.jsonl.zst.zst", "",    "out."};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rr_format_t f;
        char err[256] = "";
        cr_assert_eq(rr_format_from_path(bad[i], &f, err, sizeof err), -1, "%s accepted", bad[i]);
        char quoted[64];
        snprintf(quoted, sizeof quoted, "'%s'", bad[i]);
        cr_assert(strstr(err, quoted) != NULL, "error names the path: %s", err);
        cr_assert(strstr(err, ".jsonl") && strstr(err, ".csv") && strstr(err, ".pb") &&
                      strstr(err, ".zst"),
                  "error lists the accepted extensions: %s", err);
    }
}

Test(output, open_fails_on_unknown_extension_or_missing_directory)
{
    rr_output_t *o = (rr_output_t *)1;
    char err[256] = "";
    cr_assert_eq(rr_output_open(tmp("x.txt"), &o, err, sizeof err), -1);
    cr_assert_null(o);
    cr_assert(strstr(err, "x.txt") != NULL, "%s", err);
    err[0] = '\0';
    cr_assert_eq(rr_output_open(tmp("no/such/dir/x.jsonl"), &o, err, sizeof err), -1);
    cr_assert_null(o);
    cr_assert_neq(err[0], '\0');
}

Test(output, write_errors_are_reported_at_close)
{
    const char *link = tmp("full.jsonl");
    cr_assert_eq(symlink("/dev/full", link), 0);
    rr_sink_t s;
    rr_output_t *o = open_ok(link, &s);
    rr_day_record_t d = shop_day();
    for (int i = 0; i < 20000; i++) /* well past any write buffer */
        s.day(s.opaque, &d);
    char err[256] = "";
    cr_assert_eq(rr_output_close(o, err, sizeof err), -1);
    cr_assert(strstr(err, "full.jsonl") != NULL, "error names the file: %s", err);
}

Test(output, close_of_null_is_a_no_op)
{
    char err[16] = "";
    cr_assert_eq(rr_output_close(NULL, err, sizeof err), 0);
    cr_assert_eq(rr_output_records(NULL), 0);
}
