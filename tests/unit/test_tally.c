/* Tests for report/tally and report/html: a hand-written night (the
 * --output-dir contract's files) counted exactly: the metrics in config
 * order and their platforms, a superseded row, the worst shop-days and their
 * ties, response_time's mean waits, the heat map's hours in the run's time
 * zone and its wait buckets at their edges, reasons, alerts; refusals by
 * name; and the page: its numbers in data- attributes, every string from the
 * data escaped. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report/html.h"
#include "report/tally.h"

static char err[1024];
static char dir[64];

static void put(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    fputs(text, f);
    fclose(f);
}

static const char manifest[] =
    "{\"type\":\"replyrate_manifest\",\"manifest_version\":1,\"replyrate_version\":\"0.1.0\","
    "\"metric_set\":\"m2-test\",\"time_zone\":\"Asia/Shanghai\","
    "\"started_at\":\"2026-11-23T01:00:00.000Z\",\"ended_at\":\"2026-11-23T01:00:05.000Z\","
    "\"status\":0,\"complete\":true,\"input\":20,\"applied\":14,\"duplicate\":1,\"late\":3,"
    "\"invalid\":2,\"inputs\":[{\"path\":\"in.pb\",\"bytes\":5}],\"outputs\":[]}\n";

#define REJ_HEADER                                                                                 \
    "type,reason,source,partition,offset,watermark_ms,event_id,shop_id,conversation_id,buyer_id,"  \
    "agent_id,ts_ms,event_type,content,rating,flags,raw_hex\n"

static void night(void)
{
    strcpy(dir, "/tmp/rr_tally_XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    put("manifest.json", manifest);
    put("shop_day.csv",
        "shop_id,day,final,revision,version,pdd_buyer_3min_num,pdd_buyer_3min_den,"
        "tmall_response_time_num,tmall_response_time_den,tmall_response_time_unanswered,"
        "douyin_msg_3min_num,douyin_msg_3min_den\n"
        "1,2026-11-22,true,0,m2,1,4,20000,2,1,0,0\n"
        "2,2026-11-22,true,0,m2,2,8,700000,1,0,0,0\n"
        "3,2026-11-22,true,0,m2,1,4,0,0,2,0,0\n"
        "4,2026-11-22,true,0,m2,9,10,60000,2,0,0,0\n"
        "1,2026-11-23,true,0,m2,0,3,0,0,0,0,0\n");
    put("shop_day_metrics.csv",
        "shop_id,day,metric,num,den,unanswered,b0,b1,b2,b3,b4,b5,b6,b7,final,revision,version\n"
        "1,2026-11-22,pdd_buyer_3min,1,4,,,,,,,,,,true,0,m2\n"
        "2,2026-11-22,pdd_buyer_3min,2,8,,,,,,,,,,true,0,m2\n"
        "4,2026-11-22,pdd_buyer_3min,0,10,,,,,,,,,,false,3,m2\n"
        "3,2026-11-22,pdd_buyer_3min,1,4,,,,,,,,,,true,0,m2\n"
        "4,2026-11-22,pdd_buyer_3min,9,10,,,,,,,,,,true,0,m2\n"
        "1,2026-11-23,pdd_buyer_3min,0,3,,,,,,,,,,true,0,m2\n"
        "1,2026-11-22,tmall_response_time,20000,2,1,2,0,0,0,0,0,0,0,true,0,m2\n"
        "2,2026-11-22,tmall_response_time,700000,1,0,0,0,0,0,0,0,0,1,true,0,m2\n"
        "3,2026-11-22,tmall_response_time,0,0,2,0,0,0,0,0,0,0,0,true,0,m2\n"
        "4,2026-11-22,tmall_response_time,60000,2,0,1,1,0,0,0,0,0,0,true,0,m2\n");
    put("violations.csv",
        "shop_id,day,metric,conversation_id,buyer_id,agent_id,round_start,reply_at,wait_ms,"
        "messages,reason,final,version\n"
        /* local (UTC+8) 2026-11-23 01:00, 00:30: listed by round start */
        "1,2026-11-23,pdd_buyer_3min,101,11,21,2026-11-22T17:00:00.000Z,"
        "2026-11-22T17:03:20.000Z,200000,2,late,true,m2\n"
        "1,2026-11-23,pdd_buyer_3min,100,10,0,2026-11-22T16:30:00.000Z,,,1,no_reply,true,m2\n"
        "2,2026-11-22,pdd_buyer_3min,200,12,22,2026-11-22T02:00:00.000Z,"
        "2026-11-22T02:00:15.001Z,15001,1,late,true,m2\n"
        "2,2026-11-22,tmall_response_time,201,12,22,2026-11-22T02:59:59.999Z,"
        "2026-11-22T03:11:39.999Z,700000,3,late,true,m2\n"
        "9,2026-11-22,douyin_msg_3min,900,19,29,2026-11-21T16:00:00.000Z,"
        "2026-11-21T16:00:15.000Z,15000,1,late,true,m2\n"
        "9,2026-11-22,kuaishou_x,901,19,0,2026-11-22T05:00:00.000Z,,,1,unassigned,true,m2\n");
    put("alerts.csv", "shop_id,day,rule,value,final,version\n"
                      "4,2026-11-22,pdd_warning,0.41,true,m2\n"
                      "1,2026-11-23,pdd_warning,0.0,true,m2\n"
                      "1,2026-11-23,pdd_penalty,0.0,true,m2\n");
    put("late.csv", REJ_HEADER "late,late,in.pb,0,10,5,1,1,1,1,0,4,BUYER_MESSAGE,0,0,0,08\n"
                               "late,late,in.pb,0,20,5,2,1,1,1,0,4,BUYER_MESSAGE,0,0,0,08\n"
                               "late,late,in.pb,0,30,5,3,1,1,1,0,4,BUYER_MESSAGE,0,0,0,08\n");
    put("dead_letter.csv", REJ_HEADER "invalid,truncated,\"a,b.pb\",0,77,,,,,,,,,,,,0801\n"
                                      "invalid,missing_shop_id,in.pb,0,99,,,,,,,,,,,,\n");
    put("agent_day.csv", "");
    put("agent_day_metrics.csv", "");
}

static void cleanup(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

static const rr_tally_metric_t *metric(const rr_tally_t *t, const char *name)
{
    for (size_t i = 0; i < t->n_metrics; i++)
        if (!strcmp(t->metrics[i].name, name)) return &t->metrics[i];
    cr_assert_fail("no metric %s", name);
    return NULL;
}

Test(tally, a_night_is_counted_exactly, .init = night, .fini = cleanup)
{
    rr_tally_t *t;
    cr_assert_eq(rr_tally_load(dir, 3, &t, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(t->run.metric_set, "m2-test");
    cr_assert_eq(t->run.applied, 14);
    cr_assert_eq(t->shop_days, 5);
    cr_assert_eq(t->shops, 4);
    cr_assert_eq(t->n_days, 2);
    /* the config's order (shop_day's header), then a metric only violations name */
    cr_assert_eq(t->n_metrics, 4);
    cr_assert_str_eq(t->metrics[0].name, "pdd_buyer_3min");
    cr_assert_str_eq(t->metrics[1].name, "tmall_response_time");
    cr_assert_str_eq(t->metrics[2].name, "douyin_msg_3min");
    cr_assert_str_eq(t->metrics[3].name, "kuaishou_x");
    cr_assert_eq(t->n_platforms, 4);
    cr_assert_str_eq(t->platforms[0], "pdd");
    cr_assert_str_eq(t->platforms[2], "douyin");
    cr_assert_eq(t->metrics[1].platform, 1);
    cr_assert(t->metrics[1].is_time && !t->metrics[0].is_time);

    const rr_tally_metric_t *pdd = metric(t, "pdd_buyer_3min");
    cr_assert_eq(pdd->n_scores, 5);
    cr_assert_eq(pdd->superseded, 1, "shop 4's provisional row gives way to its final one");
    cr_assert_eq(pdd->scored, 5);
    cr_assert_eq(pdd->num, 13);
    cr_assert_eq(pdd->den, 29);
    cr_assert_eq(pdd->hist[0], 1);
    cr_assert_eq(pdd->hist[2], 3);
    cr_assert_eq(pdd->hist[9], 1);
    cr_assert_eq(pdd->violations, 3);
    /* worst first: 0/3; then 1/4 three times: the larger den (2/8) first, then shop 1, 3 */
    cr_assert_eq(pdd->n_worst, 3);
    cr_assert_eq(pdd->worst[0].score.shop_id, 1);
    cr_assert_eq(pdd->worst[0].score.num, 0);
    cr_assert_eq(pdd->worst[1].score.shop_id, 2);
    cr_assert_eq(pdd->worst[2].score.shop_id, 1);
    cr_assert_eq(pdd->worst[2].score.den, 4);
    const rr_tally_worst_t *w = &pdd->worst[0];
    cr_assert_eq(w->violations, 2);
    cr_assert_eq(w->n_shown, 2);
    cr_assert_eq(w->shown[0].conversation_id, 100, "by round start");
    cr_assert_eq(w->shown[0].wait_ms, -1);
    cr_assert_str_eq(w->shown[0].reason, "no_reply");
    cr_assert_eq(w->shown[0].local_tod_ms, 30 * 60000, "00:30 in Asia/Shanghai");
    cr_assert_eq(w->shown[1].wait_ms, 200000);
    cr_assert_eq(pdd->worst[1].violations, 1);
    cr_assert_eq(pdd->worst[2].violations, 0);

    const rr_tally_metric_t *rt = metric(t, "tmall_response_time");
    cr_assert_eq(rt->n_scores, 4);
    cr_assert_eq(rt->scored, 3, "unanswered rounds only: no mean wait");
    cr_assert_eq(rt->unanswered, 3);
    cr_assert_eq(rt->hist[0], 1);
    cr_assert_eq(rt->hist[1], 1, "a mean of exactly 30 s is in (15, 30]");
    cr_assert_eq(rt->hist[7], 1);
    cr_assert_eq(rt->worst[0].score.shop_id, 2, "the longest mean wait first");
    cr_assert_eq(rt->worst[1].score.shop_id, 4);
    cr_assert_eq(rt->worst[0].violations, 1);
    cr_assert_eq(metric(t, "douyin_msg_3min")->scored, 0);

    /* the heat map: local hour x wait bucket, all platforms at [RR_TALLY_MAX_METRICS] */
    uint64_t(*all)[RR_TALLY_WAIT_BINS] = t->heat[RR_TALLY_MAX_METRICS];
    uint64_t total = 0;
    for (int h = 0; h < RR_TALLY_HOURS; h++)
        for (int b = 0; b < RR_TALLY_WAIT_BINS; b++)
            total += all[h][b];
    cr_assert_eq(total, 6);
    cr_assert_eq(all[0][7], 1, "unanswered: the last bucket");
    cr_assert_eq(all[1][5], 1);
    cr_assert_eq(all[10][1], 1, "15.001 s is in (15, 30]");
    cr_assert_eq(all[10][7], 1, "700 s");
    cr_assert_eq(all[0][0], 1, "15 s is in [0, 15]; 16:00Z is local midnight");
    cr_assert_eq(all[13][7], 1);
    cr_assert_eq(t->heat[0][0][7] + t->heat[0][1][5] + t->heat[0][10][1], 3, "pdd's own");

    cr_assert_eq(t->n_late_reasons, 1);
    cr_assert_eq(t->late_reasons[0].count, 3);
    cr_assert_eq(t->n_invalid_reasons, 2);
    cr_assert_eq(t->rows[RR_TALLY_DEAD_LETTER], 2);
    cr_assert_eq(t->n_alerts, 3);
    cr_assert_str_eq(t->alerts[0].rule, "pdd_penalty", "sorted by shop, day, rule");
    rr_tally_free(t);
}

Test(tally, the_page_carries_its_numbers_in_attributes, .init = night, .fini = cleanup)
{
    rr_tally_t *t;
    cr_assert_eq(rr_tally_load(dir, 20, &t, err, sizeof err), 0, "%s", err);
    char *html;
    size_t len;
    cr_assert_eq(rr_html_render(t, &html, &len), 0);
    cr_assert_eq(strlen(html), len);
    static const char *const want[] = {
        "<span data-k=\"applied\" data-v=\"14\">14</span>",
        "<span data-k=\"input\" data-v=\"20\">20</span>",
        "data-k=\"time_zone\">Asia/Shanghai<",
        "data-reason=\"truncated\" data-v=\"1\"",
        "data-metric=\"pdd_buyer_3min\" data-kind=\"rate\"",
        "data-metric=\"tmall_response_time\" data-kind=\"response_time\"",
        "<details class=\"shop\" data-rank=\"1\" data-shop=\"1\" data-day=\"2026-11-23\" "
        "data-num=\"0\" data-den=\"3\" data-unanswered=\"0\" data-violations=\"2\" "
        "data-shown=\"2\" data-alerts=\"2\">",
        "data-conversation=\"100\" data-buyer=\"10\" data-agent=\"0\" "
        "data-round-start=\"2026-11-22T16:30:00.000Z\" data-wait-ms=\"\" data-reason=\"no_reply\"",
        "<td>2026-11-23 00:30:00</td>",
        "data-rule=\"pdd_penalty\" data-value=\"0.0\"",
        "<span data-k=\"heat_total\" data-v=\"6\">6</span>",
        "<g data-hour=\"10\" data-bucket=\"1\" data-count=\"1\">",
        "data-bin=\"9\" data-lo=\"90\" data-hi=\"100\" data-count=\"1\"",
        "data-k=\"scored\" data-v=\"3\"",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        cr_assert(strstr(html, want[i]), "the page lacks %s", want[i]);
    cr_assert_null(strstr(html, "<script"), "no script");
    free(html);
    rr_tally_free(t);
}

Test(tally, strings_from_the_data_are_escaped, .init = night, .fini = cleanup)
{
    put("dead_letter.csv", REJ_HEADER "invalid,<script>alert('x')</script>,in.pb,0,1,,,,,,,,,,,,\n"
                                      "invalid,\"a\"\"&b\xff\x01\",in.pb,0,2,,,,,,,,,,,,\n");
    put("alerts.csv", "shop_id,day,rule,value,final,version\n"
                      "1,2026-11-23,<img src=x onerror=alert(1)>,0.0,true,m2\n");
    rr_tally_t *t;
    cr_assert_eq(rr_tally_load(dir, 20, &t, err, sizeof err), 0, "%s", err);
    char *html;
    size_t len;
    cr_assert_eq(rr_html_render(t, &html, &len), 0);
    cr_assert_null(strstr(html, "<script"));
    cr_assert_null(strstr(html, "<img"));
    cr_assert(strstr(html, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
    cr_assert(strstr(html, "a&quot;&amp;b&#xfffd;&#xfffd;"), "odd bytes as U+FFFD");
    cr_assert(strstr(html, "&lt;img src=x onerror=alert(1)&gt;"));
    free(html);
    rr_tally_free(t);
    char *e;
    cr_assert_eq(rr_html_escape("caf\xc3\xa9 \xe2\x82 \xed\xa0\x80 <&>", &e), 0);
    cr_assert_str_eq(e, "caf\xc3\xa9 &#xfffd;&#xfffd; &#xfffd;&#xfffd;&#xfffd; &lt;&amp;&gt;",
                     "UTF-8 kept; a cut sequence and a surrogate replaced");
    free(e);
}

Test(tally, refusals_name_the_directory_or_file, .init = night, .fini = cleanup)
{
    rr_tally_t *t = NULL;
    char m[128], doc[512];
    struct stat st;
    snprintf(m, sizeof m, "%s/alerts.csv", dir);
    cr_assert_eq(stat(m, &st), 0);
    /* a manifest listing a file whose size is not the file's */
    static const char listing[] =
        "{\"replyrate_version\":\"1\",\"metric_set\":\"m\",\"input\":0,\"applied\":0,"
        "\"duplicate\":0,\"late\":0,\"invalid\":0,\"outputs\":[{\"path\":\"x/alerts.csv\","
        "\"bytes\":%lld,\"records\":{\"alert\":%d}}]}";
    snprintf(doc, sizeof doc, listing, (long long)st.st_size + 1, 3);
    put("manifest.json", doc);
    cr_assert_eq(rr_tally_load(dir, 20, &t, err, sizeof err), -1);
    snprintf(m, sizeof m, "alerts.csv: %lld bytes, the manifest says %lld: changed or cut since",
             (long long)st.st_size, (long long)st.st_size + 1);
    cr_assert(strstr(err, m), "%s", err);
    /* the right size, but not the row count the manifest gives */
    snprintf(doc, sizeof doc, listing, (long long)st.st_size, 4);
    put("manifest.json", doc);
    cr_assert_eq(rr_tally_load(dir, 20, &t, err, sizeof err), -1);
    cr_assert(strstr(err, "alerts.csv: 3 rows, the manifest says 4 records"), "%s", err);
    snprintf(doc, sizeof doc, listing, (long long)st.st_size, 3);
    put("manifest.json", doc);
    cr_assert_eq(rr_tally_load(dir, 20, &t, err, sizeof err), 0, "%s", err);
    rr_tally_free(t);
    t = NULL;
    put("manifest.json", manifest);
    /* a damaged row: file and line */
    put("violations.csv", "shop_id,day,metric,conversation_id,buyer_id,agent_id,round_start,"
                          "reply_at,wait_ms,messages,reason,final,version\n"
                          "1,2026-11-23,pdd_buyer_3min,1,1,1,2026-11-22T17:00:00Z,,,1,x,true,m\n"
                          "1,2026-11-23,pdd_buyer_3min,1,1,1,yesterday,,,1,x,true,m\n");
    cr_assert_eq(rr_tally_load(dir, 20, &t, err, sizeof err), -1);
    cr_assert(strstr(err, "/violations.csv:3: column round_start: 'yesterday' is not a UTC time"),
              "%s", err);
    /* the JSON Lines form is not read, and said so */
    snprintf(m, sizeof m, "%s/violations.csv", dir);
    cr_assert_eq(unlink(m), 0);
    put("violations.jsonl", "");
    cr_assert_eq(rr_tally_load(dir, 20, &t, err, sizeof err), -1);
    cr_assert(strstr(err, "holds violations.jsonl, the JSON Lines form; the report reads the csv"),
              "%s", err);
    /* an unknown time zone */
    put("manifest.json", "{\"replyrate_version\":\"1\",\"metric_set\":\"m\",\"input\":0,"
                         "\"applied\":0,\"duplicate\":0,\"late\":0,\"invalid\":0,"
                         "\"time_zone\":\"Mars/Olympus\"}");
    cr_assert_eq(rr_tally_load(dir, 20, &t, err, sizeof err), -1);
    cr_assert(strstr(err, "manifest.json: time_zone: "), "%s", err);
    cr_assert(strstr(err, "Mars/Olympus"), "%s", err);
    /* no manifest: not a run's directory */
    snprintf(m, sizeof m, "%s/manifest.json", dir);
    cr_assert_eq(unlink(m), 0);
    cr_assert_eq(rr_tally_load(dir, 20, &t, err, sizeof err), -1);
    cr_assert(strstr(err, ": no manifest.json: not a `replyrate run --output-dir` directory"), "%s",
              err);
    cr_assert_null(t);
}

Test(tally, ratios_are_compared_exactly)
{
    cr_assert_eq(rr_tally_cmp_products(UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX - 1), 1);
    cr_assert_eq(rr_tally_cmp_products(UINT64_MAX, 2, 2, UINT64_MAX), 0);
    cr_assert_eq(rr_tally_cmp_products(1ull << 32, 1ull << 32, 1, UINT64_MAX), 1);
    /* 1/3 and 333333333333333333/1000000000000000000 are one double, not one ratio */
    rr_tally_score_t a = {.shop_id = 1, .num = 1, .den = 3};
    rr_tally_score_t b = {
        .shop_id = 2, .num = 333333333333333333ull, .den = 1000000000000000000ull};
    cr_assert_gt(rr_tally_cmp_worse(&a, &b, 0), 0, "b is the lower rate");
    cr_assert_lt(rr_tally_cmp_worse(&a, &b, 1), 0, "a is the longer wait");
    rr_tally_score_t s = {.num = 1, .den = 10};
    cr_assert_eq(rr_tally_bin(&s, 0), 1, "10%% opens the second bin");
    s.num = 99, s.den = 1000;
    cr_assert_eq(rr_tally_bin(&s, 0), 0);
    s.num = s.den = 7;
    cr_assert_eq(rr_tally_bin(&s, 0), 9, "100%% is in the last bin");
    s.num = 600001, s.den = 1;
    cr_assert_eq(rr_tally_bin(&s, 1), 7);
    s.num = 600000;
    cr_assert_eq(rr_tally_bin(&s, 1), 6);
    cr_assert_eq(rr_tally_wait_bucket(0), 0);
    cr_assert_eq(rr_tally_wait_bucket(-1), 7);
    cr_assert_eq(rr_tally_wait_bucket(180000), 4);
    cr_assert_eq(rr_tally_wait_bucket(180001), 5);
}
