/* Unit tests for codec/record_csv: each record kind as the rows
 * docs/output.md shows, RFC 4180 quoting, the headers, and the buffer
 * contract. */
#include <criterion/criterion.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "codec/record_csv.h"
#include "record_fixtures.h"

/* Columns in a row or header. */
static int columns(const char *row)
{
    int n = 1;
    for (; *row && *row != '\n'; row++)
        n += *row == ',';
    return n;
}

Test(record_csv, headers_name_27_and_17_columns)
{
    size_t n;
    const char *h = rr_record_csv_header(RR_RECORD_CSV_RESULTS, &n);
    cr_assert_eq(strlen(h), n);
    cr_assert_eq(columns(h), 27);
    cr_assert_eq(h[n - 1], '\n');
    static const char start[] =
        "type,shop_id,agent_id,day,final,version,metric,num,den,unanswered,b0,";
    cr_assert_eq(strncmp(h, start, sizeof start - 1), 0);
    h = rr_record_csv_header(RR_RECORD_CSV_REJECTED, &n);
    cr_assert_eq(strlen(h), n);
    cr_assert_eq(columns(h), 17);
    cr_assert_str_eq(
        h, "type,reason,source,partition,offset,watermark_ms,event_id,shop_id,conversation_id,"
           "buyer_id,agent_id,ts_ms,event_type,content,rating,flags,raw_hex\n");
}

Test(record_csv, shop_day_is_one_row_per_shown_metric)
{
    rr_day_record_t r = fx_shop_day();
    char *s;
    FX_ENCODE(rr_record_csv_day, &r, s);
    cr_assert_str_eq(
        s,
        "shop_day,7,,20261122,true,v1,douyin_msg_3min,3,4,,,,,,,,,,,,,,,,,,\n"
        "shop_day,7,,20261122,true,v1,tmall_response_time,123000,4,1,1,2,0,1,0,0,0,0,,,,,,,,,\n");
    free(s);
}

Test(record_csv, agent_day_rows_carry_the_agent_and_provisional_says_false)
{
    rr_day_record_t r = fx_shop_day();
    r.is_agent = 1;
    r.agent_id = 3;
    r.final = 0;
    r.revision = 5; /* CSV has no revision column */
    char *s;
    FX_ENCODE(rr_record_csv_day, &r, s);
    cr_assert_str_eq(s, "agent_day,7,3,20261122,false,v1,douyin_msg_3min,3,4,,,,,,,,,,,,,,,,,,\n"
                        "agent_day,7,3,20261122,false,v1,tmall_response_time,123000,4,1,1,2,0,1,0,"
                        "0,0,0,,,,,,,,,\n");
    free(s);
}

Test(record_csv, day_with_nothing_to_show_is_one_row_without_metric)
{
    rr_day_record_t r = {.shop_id = 7, .day = 20261122, .final = 1, .version = "v1"};
    char *s;
    FX_ENCODE(rr_record_csv_day, &r, s);
    cr_assert_str_eq(s, "shop_day,7,,20261122,true,v1,,,,,,,,,,,,,,,,,,,,,\n");
    cr_assert_eq(columns(s), 27);
    free(s);
}

Test(record_csv, violation_and_alert_rows)
{
    rr_violation_record_t v = fx_violation();
    char *s;
    FX_ENCODE(rr_record_csv_violation, &v, s);
    cr_assert_str_eq(s, "violation,7,3,20261122,true,v1,douyin_msg_3min,,,,,,,,,,,,9,5,"
                        "1763776800000,,,2,no_reply,,\n");
    cr_assert_eq(columns(s), 27);
    free(s);
    v.answered = 1;
    v.reply_ms = 1763777010000;
    v.wait_ms = 210000;
    v.reason = RR_REASON_UNASSIGNED;
    FX_ENCODE(rr_record_csv_violation, &v, s);
    cr_assert(strstr(s, ",1763776800000,1763777010000,210000,2,unassigned,,\n"), "%s", s);
    free(s);
    rr_alert_record_t a = fx_alert();
    FX_ENCODE(rr_record_csv_alert, &a, s);
    cr_assert_str_eq(s, "alert,1,,20261122,true,v1,,,,,,,,,,,,,,,,,,,,pdd_warning,0.41\n");
    cr_assert_eq(columns(s), 27);
    free(s);
    a.value = NAN; /* an empty cell */
    FX_ENCODE(rr_record_csv_alert, &a, s);
    cr_assert(strstr(s, ",pdd_warning,\n"), "%s", s);
    free(s);
}

Test(record_csv, rejected_events_flatten_the_event)
{
    rr_rejected_record_t r = fx_late();
    char *s;
    FX_ENCODE(rr_record_csv_rejected, &r, s);
    cr_assert_str_eq(s, "late,late,in.pb,0,1234,1795312815000,1116,1,1,1,0,1795312810000,BUYER_"
                        "MESSAGE,0,0,0,080110ff\n");
    free(s);
    r = fx_invalid();
    FX_ENCODE(rr_record_csv_rejected, &r, s);
    cr_assert_str_eq(s, "invalid,truncated,in.pb,0,77,,,,,,,,,,,,080110\n");
    cr_assert_eq(columns(s), 17);
    free(s);
    r.raw = NULL;
    FX_ENCODE(rr_record_csv_rejected, &r, s);
    cr_assert_str_eq(s, "invalid,truncated,in.pb,0,77,,,,,,,,,,,,\n");
    free(s);
}

Test(record_csv, fields_with_commas_quotes_or_line_breaks_are_quoted)
{
    rr_rejected_record_t r = fx_invalid();
    const struct {
        const char *in, *out;
    } cases[] = {
        {"plain.pb", ",plain.pb,"},
        {"a,b.pb", ",\"a,b.pb\","},
        {"say \"hi\".pb", ",\"say \"\"hi\"\".pb\","},
        {"\"", ",\"\"\"\","},
        {"line\nbreak", ",\"line\nbreak\","},
        {"cr\rhere", ",\"cr\rhere\","},
        {"caf\xC3\xA9\x80", ",caf\xC3\xA9\x80,"}, /* bytes as given */
        {"", ",,"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        r.source = cases[i].in;
        char *s;
        FX_ENCODE(rr_record_csv_rejected, &r, s);
        cr_assert(strstr(s, cases[i].out), "%s -> %s", cases[i].in, s);
        free(s);
    }
}

Test(record_csv, every_room_short_of_the_record_gives_the_same_length)
{
    rr_day_record_t r = fx_shop_day();
    r.version = "v,\"1\"";
    char full[1024];
    size_t n = rr_record_csv_day(full, sizeof full, &r);
    cr_assert_lt(n, sizeof full);
    cr_assert(strstr(full, "\"v,\"\"1\"\"\",tmall_response_time"));
    for (size_t cap = 0; cap <= n; cap++) {
        char buf[1024];
        memset(buf, '#', sizeof buf);
        cr_assert_eq(rr_record_csv_day(buf, cap, &r), n, "room %zu", cap);
        for (size_t i = cap; i < sizeof buf; i++)
            cr_assert_eq(buf[i], '#', "room %zu: wrote byte %zu", cap, i);
        if (cap == n) cr_assert_eq(memcmp(buf, full, n), 0);
    }
}
