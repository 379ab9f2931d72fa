/* Unit tests for codec/record_table: the loader tables of --output-dir, in
 * CSV and JSON Lines, their headers, typed cells, and the buffer contract. */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "codec/record_table.h"
#include "record_fixtures.h"

/* The encoders with the (buf, cap, record) shape FX_ENCODE calls. */
#define TABLE_FN(name, fn, table, json, type)                                                      \
    static size_t name(char *buf, size_t cap, const type *r)                                       \
    {                                                                                              \
        return fn(buf, cap, table, json, r);                                                       \
    }
TABLE_FN(shop_wide_csv, rr_record_table_day, RR_TABLE_SHOP_DAY, 0, rr_day_record_t)
TABLE_FN(shop_narrow_csv, rr_record_table_day, RR_TABLE_SHOP_DAY_METRICS, 0, rr_day_record_t)
TABLE_FN(shop_narrow_json, rr_record_table_day, RR_TABLE_SHOP_DAY_METRICS, 1, rr_day_record_t)
TABLE_FN(agent_wide_csv, rr_record_table_day, RR_TABLE_AGENT_DAY, 0, rr_day_record_t)
TABLE_FN(agent_narrow_csv, rr_record_table_day, RR_TABLE_AGENT_DAY_METRICS, 0, rr_day_record_t)
TABLE_FN(violation_csv, rr_record_table_violation, RR_TABLE_VIOLATIONS, 0, rr_violation_record_t)
TABLE_FN(violation_json, rr_record_table_violation, RR_TABLE_VIOLATIONS, 1, rr_violation_record_t)
TABLE_FN(alert_csv, rr_record_table_alert, RR_TABLE_ALERTS, 0, rr_alert_record_t)
TABLE_FN(alert_json, rr_record_table_alert, RR_TABLE_ALERTS, 1, rr_alert_record_t)

static char *header(rr_table_t t, const rr_config_t *cfg)
{
    size_t n = rr_record_table_header(NULL, 0, t, cfg);
    char *s = malloc(n + 1);
    cr_assert_eq(rr_record_table_header(s, n, t, cfg), n);
    s[n] = '\0';
    return s;
}

Test(record_table, names_are_the_files_of_output_dir)
{
    cr_assert_str_eq(rr_table_name(RR_TABLE_SHOP_DAY), "shop_day");
    cr_assert_str_eq(rr_table_name(RR_TABLE_AGENT_DAY_METRICS), "agent_day_metrics");
    cr_assert_str_eq(rr_table_name(RR_TABLE_VIOLATIONS), "violations");
    cr_assert_str_eq(rr_table_name(RR_TABLE_ALERTS), "alerts");
}

Test(record_table, wide_shop_day_has_a_column_pair_per_configured_metric_zero_when_not_shown)
{
    rr_day_record_t r = fx_shop_day();
    char *h = header(RR_TABLE_SHOP_DAY, &fx_cfg), *s;
    cr_assert_str_eq(h, "shop_id,day,final,revision,version,douyin_msg_3min_num,"
                        "douyin_msg_3min_den,tmall_response_time_num,tmall_response_time_den,"
                        "tmall_response_time_unanswered,douyin_satisfaction_num,"
                        "douyin_satisfaction_den\n");
    FX_ENCODE(shop_wide_csv, &r, s);
    /* douyin_satisfaction: den 0, not shown: its columns are there, zeros */
    cr_assert_str_eq(s, "7,2026-11-22,true,0,v1,3,4,123000,4,1,0,0\n");
    free(h);
    free(s);
}

Test(record_table, narrow_shop_day_is_a_row_per_metric_shown_buckets_only_on_response_time)
{
    rr_day_record_t r = fx_shop_day();
    char *h = header(RR_TABLE_SHOP_DAY_METRICS, NULL), *s;
    cr_assert_str_eq(h, "shop_id,day,metric,num,den,unanswered,b0,b1,b2,b3,b4,b5,b6,b7,final,"
                        "revision,version\n");
    FX_ENCODE(shop_narrow_csv, &r, s);
    cr_assert_str_eq(s, "7,2026-11-22,douyin_msg_3min,3,4,,,,,,,,,,true,0,v1\n"
                        "7,2026-11-22,tmall_response_time,123000,4,1,1,2,0,1,0,0,0,0,true,0,v1\n");
    free(h);
    free(s);
}

Test(record_table, narrow_json_rows_are_flat_objects_with_null_for_empty_cells)
{
    rr_day_record_t r = fx_shop_day();
    r.final = 0;
    r.revision = 3;
    r.values = (rr_value_t[3]){{.num = 3, .den = 4}, {0}, {0}};
    char *s;
    FX_ENCODE(shop_narrow_json, &r, s);
    cr_assert_str_eq(s, "{\"shop_id\":7,\"day\":\"2026-11-22\",\"metric\":\"douyin_msg_3min\","
                        "\"num\":3,\"den\":4,\"unanswered\":null,\"b0\":null,\"b1\":null,"
                        "\"b2\":null,\"b3\":null,\"b4\":null,\"b5\":null,\"b6\":null,\"b7\":null,"
                        "\"final\":false,\"revision\":3,\"version\":\"v1\"}\n");
    free(s);
}

Test(record_table, agent_tables_hold_agent_days_and_per_agent_metrics_only)
{
    rr_day_record_t r = fx_shop_day();
    fx_cfg.metrics[0].kind = RR_KIND_SESSION_WITHIN; /* not per agent */
    char *h = header(RR_TABLE_AGENT_DAY, &fx_cfg), *s;
    cr_assert_str_eq(h, "shop_id,agent_id,day,final,revision,version,tmall_response_time_num,"
                        "tmall_response_time_den,tmall_response_time_unanswered,"
                        "douyin_satisfaction_num,douyin_satisfaction_den\n");
    /* a shop_day is no row of an agent table, nor an agent_day of a shop table */
    cr_assert_eq(rr_record_table_day(NULL, 0, RR_TABLE_AGENT_DAY, 0, &r), 0);
    r.is_agent = 1;
    r.agent_id = 18446744073709551615u;
    cr_assert_eq(rr_record_table_day(NULL, 0, RR_TABLE_SHOP_DAY_METRICS, 0, &r), 0);
    FX_ENCODE(agent_wide_csv, &r, s);
    cr_assert_str_eq(s, "7,18446744073709551615,2026-11-22,true,0,v1,123000,4,1,0,0\n");
    free(s);
    FX_ENCODE(agent_narrow_csv, &r, s);
    cr_assert_str_eq(
        s, "7,18446744073709551615,2026-11-22,tmall_response_time,123000,4,1,1,2,0,1,0,0,0,0,"
           "true,0,v1\n");
    free(h);
    free(s);
}

Test(record_table, violations_have_utc_timestamps_and_empty_reply_when_unanswered)
{
    rr_violation_record_t r = fx_violation();
    char *h = header(RR_TABLE_VIOLATIONS, NULL), *s;
    cr_assert_str_eq(h, "shop_id,day,metric,conversation_id,buyer_id,agent_id,round_start,"
                        "reply_at,wait_ms,messages,reason,final,version\n");
    FX_ENCODE(violation_csv, &r, s);
    cr_assert_str_eq(s, "7,2026-11-22,douyin_msg_3min,9,5,3,2025-11-22T02:00:00.000Z,,,2,"
                        "no_reply,true,v1\n");
    free(s);
    r.answered = 1;
    r.reason = RR_REASON_LATE;
    r.reply_ms = 1763776800000 + 200123;
    r.wait_ms = 200123;
    FX_ENCODE(violation_json, &r, s);
    cr_assert_str_eq(s, "{\"shop_id\":7,\"day\":\"2026-11-22\",\"metric\":\"douyin_msg_3min\","
                        "\"conversation_id\":9,\"buyer_id\":5,\"agent_id\":3,"
                        "\"round_start\":\"2025-11-22T02:00:00.000Z\","
                        "\"reply_at\":\"2025-11-22T02:03:20.123Z\",\"wait_ms\":200123,"
                        "\"messages\":2,\"reason\":\"late\",\"final\":true,\"version\":\"v1\"}\n");
    free(h);
    free(s);
}

Test(record_table, timestamps_before_the_epoch_floor_to_the_day_before)
{
    rr_violation_record_t r = fx_violation();
    r.round_start_ms = -1;
    char *s;
    FX_ENCODE(violation_csv, &r, s);
    cr_assert(strstr(s, ",1969-12-31T23:59:59.999Z,"), "%s", s);
    free(s);
}

Test(record_table, alerts_keep_the_ratio_as_a_decimal_and_quote_strings_that_need_it)
{
    rr_alert_record_t r = fx_alert();
    char *h = header(RR_TABLE_ALERTS, NULL), *s;
    cr_assert_str_eq(h, "shop_id,day,rule,value,final,version\n");
    FX_ENCODE(alert_csv, &r, s);
    cr_assert_str_eq(s, "1,2026-11-22,pdd_warning,0.41,true,v1\n");
    free(s);
    r.version = "a,\"b\"";
    FX_ENCODE(alert_csv, &r, s);
    cr_assert_str_eq(s, "1,2026-11-22,pdd_warning,0.41,true,\"a,\"\"b\"\"\"\n");
    free(s);
    FX_ENCODE(alert_json, &r, s);
    cr_assert_str_eq(s, "{\"shop_id\":1,\"day\":\"2026-11-22\",\"rule\":\"pdd_warning\","
                        "\"value\":0.41,\"final\":true,\"version\":\"a,\\\"b\\\"\"}\n");
    free(h);
    free(s);
}

Test(record_table, a_record_of_another_table_is_no_row)
{
    rr_violation_record_t v = fx_violation();
    rr_alert_record_t a = fx_alert();
    cr_assert_eq(rr_record_table_violation(NULL, 0, RR_TABLE_ALERTS, 0, &v), 0);
    cr_assert_eq(rr_record_table_alert(NULL, 0, RR_TABLE_VIOLATIONS, 1, &a), 0);
}
