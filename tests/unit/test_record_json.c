/* Unit tests for codec/record_json: each record kind as the line
 * docs/output.md shows, string escaping, and the buffer contract. */
#include <criterion/criterion.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "codec/record_json.h"
#include "record_fixtures.h"

Test(record_json, shop_day_shows_metrics_with_counts_and_buckets_on_response_time)
{
    rr_day_record_t r = fx_shop_day();
    char *s;
    FX_ENCODE(rr_record_json_day, &r, s);
    cr_assert_str_eq(s, "{\"type\":\"shop_day\",\"shop_id\":7,\"day\":20261122,\"final\":true,"
                        "\"version\":\"v1\",\"metrics\":{\"douyin_msg_3min\":{\"num\":3,\"den\":4},"
                        "\"tmall_response_time\":{\"num\":123000,\"den\":4,\"unanswered\":1,"
                        "\"buckets\":[1,2,0,1,0,0,0,0]}}}\n");
    free(s);
}

Test(record_json, provisional_agent_day_carries_revision_and_only_per_agent_kinds)
{
    rr_day_record_t r = fx_shop_day();
    fx_cfg.metrics[0].kind = RR_KIND_SESSION_WITHIN; /* not per agent: left out of agent_day */
    r.is_agent = 1;
    r.agent_id = 3;
    r.final = 0;
    r.revision = 2;
    char *s;
    FX_ENCODE(rr_record_json_day, &r, s);
    cr_assert_str_eq(s, "{\"type\":\"agent_day\",\"shop_id\":7,\"agent_id\":3,\"day\":20261122,"
                        "\"final\":false,\"version\":\"v1\",\"revision\":2,\"metrics\":{"
                        "\"tmall_response_time\":{\"num\":123000,\"den\":4,\"unanswered\":1,"
                        "\"buckets\":[1,2,0,1,0,0,0,0]}}}\n");
    free(s);
}

Test(record_json, day_with_nothing_to_show_has_empty_metrics)
{
    rr_day_record_t r = {
        .shop_id = 18446744073709551615u, .day = 20261122, .final = 1, .version = "v1"};
    char *s;
    FX_ENCODE(rr_record_json_day, &r, s);
    cr_assert_str_eq(s, "{\"type\":\"shop_day\",\"shop_id\":18446744073709551615,\"day\":20261122,"
                        "\"final\":true,\"version\":\"v1\",\"metrics\":{}}\n");
    free(s);
}

Test(record_json, violation_unanswered_has_null_reply_and_wait)
{
    rr_violation_record_t r = fx_violation();
    char *s;
    FX_ENCODE(rr_record_json_violation, &r, s);
    cr_assert_str_eq(
        s, "{\"type\":\"violation\",\"shop_id\":7,\"day\":20261122,\"metric\":\"douyin_msg_3min\","
           "\"conversation_id\":9,\"buyer_id\":5,\"agent_id\":3,\"round_start_ms\":1763776800000,"
           "\"reply_ms\":null,\"wait_ms\":null,\"messages\":2,\"reason\":\"no_reply\","
           "\"final\":true,\"version\":\"v1\"}\n");
    free(s);
    r.answered = 1;
    r.reply_ms = 1763777010000;
    r.wait_ms = -210000;
    r.reason = RR_REASON_LATE;
    FX_ENCODE(rr_record_json_violation, &r, s);
    cr_assert(
        strstr(
            s,
            ",\"reply_ms\":1763777010000,\"wait_ms\":-210000,\"messages\":2,\"reason\":\"late\","),
        "%s", s);
    free(s);
    r.reason = (rr_reason_t)9;
    FX_ENCODE(rr_record_json_violation, &r, s);
    cr_assert(strstr(s, "\"reason\":\"unspecified\""), "%s", s);
    free(s);
}

Test(record_json, alert_value_is_the_shortest_round_trip_and_always_a_float)
{
    rr_alert_record_t r = fx_alert();
    char *s;
    FX_ENCODE(rr_record_json_alert, &r, s);
    cr_assert_str_eq(s,
                     "{\"type\":\"alert\",\"shop_id\":1,\"day\":20261122,\"rule\":\"pdd_warning\","
                     "\"value\":0.41,\"final\":true,\"version\":\"v1\"}\n");
    free(s);
    const struct {
        double v;
        const char *text;
    } cases[] = {{0.0, "\"value\":0.0,"},
                 {1.0, "\"value\":1.0,"},
                 {1.0 / 3, "\"value\":0.3333333333333333,"},
                 {1e300, "\"value\":1e+300,"},
                 {NAN, "\"value\":null,"},
                 {INFINITY, "\"value\":null,"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        r.value = cases[i].v;
        FX_ENCODE(rr_record_json_alert, &r, s);
        cr_assert(strstr(s, cases[i].text), "%g: %s", cases[i].v, s);
        free(s);
    }
}

Test(record_json, late_event_carries_position_event_and_raw_bytes)
{
    rr_rejected_record_t r = fx_late();
    char *s;
    FX_ENCODE(rr_record_json_rejected, &r, s);
    cr_assert_str_eq(
        s, "{\"type\":\"late\",\"reason\":\"late\",\"source\":\"in.pb\",\"partition\":0,"
           "\"offset\":1234,\"watermark_ms\":1795312815000,\"event\":{\"event_id\":1116,"
           "\"shop_id\":1,\"conversation_id\":1,\"buyer_id\":1,\"agent_id\":0,"
           "\"ts_ms\":1795312810000,\"type\":\"BUYER_MESSAGE\",\"content\":0,\"rating\":0,"
           "\"flags\":0},\"raw_hex\":\"080110ff\"}\n");
    free(s);
    r.event.type = 11; /* not a type: its number */
    FX_ENCODE(rr_record_json_rejected, &r, s);
    cr_assert(strstr(s, "\"type\":11,"), "%s", s);
    free(s);
    r.event.type = 0;
    FX_ENCODE(rr_record_json_rejected, &r, s);
    cr_assert(strstr(s, "\"type\":0,"), "%s", s);
    free(s);
}

Test(record_json, invalid_event_without_watermark_or_bytes_has_nulls)
{
    rr_rejected_record_t r = fx_invalid();
    char *s;
    FX_ENCODE(rr_record_json_rejected, &r, s);
    cr_assert_str_eq(
        s, "{\"type\":\"invalid\",\"reason\":\"truncated\",\"source\":\"in.pb\",\"partition\":0,"
           "\"offset\":77,\"watermark_ms\":null,\"event\":null,\"raw_hex\":\"080110\"}\n");
    free(s);
    r.raw = NULL;
    r.reason = NULL;
    FX_ENCODE(rr_record_json_rejected, &r, s);
    cr_assert(strstr(s, "\"reason\":\"\","), "%s", s);
    cr_assert(strstr(s, ",\"raw_hex\":null}\n"), "%s", s);
    free(s);
}

/* A string through the rejected record's source field. */
static char *escaped_source(const char *src)
{
    rr_rejected_record_t r = fx_invalid();
    r.source = src;
    char *s;
    FX_ENCODE(rr_record_json_rejected, &r, s);
    const char *a = strstr(s, "\"source\":") + 9, *b = strstr(s, ",\"partition\"");
    char *out = strndup(a, (size_t)(b - a));
    free(s);
    return out;
}

Test(record_json, strings_escape_quotes_backslashes_and_control_characters)
{
    char *s = escaped_source("a\"b\\c\nd\re\tf\bg\fh\x01i\x1fj\x7fk/");
    cr_assert_str_eq(s, "\"a\\\"b\\\\c\\nd\\re\\tf\\bg\\fh\\u0001i\\u001fj\x7fk/\"");
    free(s);
}

Test(record_json, valid_utf8_is_kept_and_invalid_bytes_become_replacement_characters)
{
    char *s = escaped_source("caf\xC3\xA9 \xE4\xB8\xAD \xF0\x9F\x98\x80");
    cr_assert_str_eq(s, "\"caf\xC3\xA9 \xE4\xB8\xAD \xF0\x9F\x98\x80\"");
    free(s);
    /* a lone continuation byte, an overlong form, a surrogate, above U+10FFFF,
     * a sequence cut by the end */
    s = escaped_source("a\x80"
                       "b\xC0\xAF"
                       "c\xED\xA0\x80"
                       "d\xF4\x90\x80\x80"
                       "e\xE4\xB8");
    cr_assert_str_eq(s, "\"a\xEF\xBF\xBD"
                        "b\xEF\xBF\xBD\xEF\xBF\xBD"
                        "c\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
                        "d\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
                        "e\xEF\xBF\xBD\xEF\xBF\xBD\"");
    free(s);
}

Test(record_json, every_room_short_of_the_record_gives_the_same_length)
{
    rr_rejected_record_t r = fx_late();
    r.source = "dir/\"quoted\"\n\xC3\xA9\x80.pb";
    char full[1024];
    size_t n = rr_record_json_rejected(full, sizeof full, &r);
    cr_assert_lt(n, sizeof full);
    for (size_t cap = 0; cap <= n; cap++) {
        char buf[1024];
        memset(buf, '#', sizeof buf);
        cr_assert_eq(rr_record_json_rejected(buf, cap, &r), n, "room %zu", cap);
        for (size_t i = cap; i < sizeof buf; i++)
            cr_assert_eq(buf[i], '#', "room %zu: wrote byte %zu", cap, i);
        if (cap == n) cr_assert_eq(memcmp(buf, full, n), 0);
    }
}
