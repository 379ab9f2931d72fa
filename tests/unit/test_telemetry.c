/* Tests for ops/telemetry: what the registry renders: label values escaped,
 * a dropped partition's series gone and back when set again, lag only once
 * known, engines summed and dropped, records added by output, the commit
 * histogram cumulative, readiness. Criterion runs each test in a process of
 * its own, so the process-wide registry starts empty in each. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/telemetry.h"

static char *render(void)
{
    char *t;
    cr_assert_geq(rr_tm_render(&t), 0);
    return t;
}

Test(telemetry, partition_labels_are_escaped)
{
    rr_tm_partition_t v = {.judged = {5, 1, 2, 3}, .watermark_ms = 1500};
    rr_tm_partition("a\"b\\c\nd", &v);
    char *t = render();
    cr_assert(
        strstr(t, "replyrate_events_total{partition=\"a\\\"b\\\\c\\nd\",outcome=\"applied\"} 5\n"),
        "%s", t);
    cr_assert(strstr(t, ",outcome=\"invalid\"} 3\n"));
    cr_assert(
        strstr(t, "replyrate_watermark_timestamp_seconds{partition=\"a\\\"b\\\\c\\nd\"} 1.500\n"));
    free(t);
}

Test(telemetry, dropped_partitions_vanish_until_set_again)
{
    rr_tm_partition_t v = {.judged = {7}, .watermark_ms = INT64_MIN};
    rr_tm_partition("t[0]", &v);
    rr_tm_partition_lag("t[0]", 40);
    char *t = render();
    cr_assert(strstr(t, "replyrate_consumer_lag_messages{partition=\"t[0]\"} 40\n"));
    cr_assert_null(strstr(t, "replyrate_watermark_timestamp_seconds{"), "no watermark yet");
    free(t);
    rr_tm_partition_drop("t[0]");
    t = render();
    cr_assert_null(strstr(t, "partition=\"t[0]\""), "%s", t);
    free(t);
    v.judged[0] = 9;
    rr_tm_partition("t[0]", &v);
    t = render();
    cr_assert(strstr(t, "{partition=\"t[0]\",outcome=\"applied\"} 9\n"));
    cr_assert_null(strstr(t, "replyrate_consumer_lag_messages{"), "lag unknown until set again");
    free(t);
}

Test(telemetry, many_partitions_each_found_again)
{
    char name[32];
    for (int round = 1; round <= 2; round++)
        for (int p = 0; p < 500; p++) {
            snprintf(name, sizeof name, "topic[%d]", p);
            rr_tm_partition_t v = {.judged = {(uint64_t)(p * round)}, .watermark_ms = INT64_MIN};
            rr_tm_partition(name, &v);
        }
    char *t = render();
    cr_assert(strstr(t, "{partition=\"topic[499]\",outcome=\"applied\"} 998\n"));
    size_t n = 0;
    for (const char *s = t; (s = strstr(s, "outcome=\"applied\"")); s++)
        n++;
    cr_assert_eq(n, 500, "one series per partition, got %zu", n);
    free(t);
}

Test(telemetry, engines_sum_and_go)
{
    int a = 0, b = 0; /* only their addresses matter: keys */
    rr_tm_engine(&a, 10, 2, 1000);
    rr_tm_engine(&b, 5, 1, 500);
    rr_tm_engine(&a, 11, 2, 1100); /* a's newer numbers replace its older */
    char *t = render();
    cr_assert(strstr(t, "replyrate_open_conversations 16\n"), "%s", t);
    cr_assert(strstr(t, "replyrate_state_bytes 1600\n"));
    free(t);
    rr_tm_engine_drop(&a);
    t = render();
    cr_assert(strstr(t, "replyrate_open_conversations 5\n"));
    free(t);
}

Test(telemetry, records_transactions_and_readiness)
{
    rr_tm_records("p.shop_day", 3);
    rr_tm_records("p.shop_day", 4);
    rr_tm_records("out.jsonl", 1);
    rr_tm_txn_committed(0.02);
    rr_tm_txn_committed(3);
    rr_tm_txn_aborted();
    rr_tm_ready(1, NULL);
    char *t = render();
    cr_assert(strstr(t, "replyrate_records_published_total{output=\"p.shop_day\"} 7\n"));
    cr_assert(strstr(t, "replyrate_records_published_total{output=\"out.jsonl\"} 1\n"));
    cr_assert(strstr(t, "replyrate_transactions_total{result=\"committed\"} 2\n"));
    cr_assert(strstr(t, "replyrate_transactions_total{result=\"aborted\"} 1\n"));
    cr_assert(strstr(t, "_bucket{le=\"0.01\"} 0\n"));
    cr_assert(strstr(t, "_bucket{le=\"0.025\"} 1\n"), "cumulative buckets");
    cr_assert(strstr(t, "_bucket{le=\"5\"} 2\n"));
    cr_assert(strstr(t, "_bucket{le=\"+Inf\"} 2\n"));
    cr_assert(strstr(t, "replyrate_ready 1\n"));
    free(t);
}
