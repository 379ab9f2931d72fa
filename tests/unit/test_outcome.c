/* Tests for pipeline/outcome and pipeline/summary: the exit-status table's
 * gates (which wins, where the ratio is judged) and the summary line's fields
 * in their order. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/outcome.h"
#include "pipeline/summary.h"

static int judge(uint64_t input, uint64_t applied, uint64_t invalid, uint64_t unread,
                 const rr_gates_t *g, char *msg, size_t size)
{
    rr_outcome_t o = {0};
    o.stats.input = input;
    o.stats.applied = applied;
    o.stats.invalid = invalid;
    o.unread_bytes = unread;
    int s = rr_outcome_judge(&o, g, "--input day.pb", msg, size);
    cr_assert_eq(s, o.status);
    cr_assert_eq(!!o.reason, s != 0);
    return s;
}

Test(outcome, gates_by_the_table)
{
    rr_gates_t g;
    rr_gates_default(&g);
    char msg[512];
    cr_assert_eq(judge(100, 100, 0, 0, &g, msg, sizeof msg), 0);
    cr_assert_eq(judge(0, 0, 0, 0, &g, msg, sizeof msg), 4);
    cr_assert(strstr(msg, "--input day.pb: empty input") && strstr(msg, "--allow-empty"), "%s",
              msg);
    cr_assert_eq(judge(20000, 18000, 2000, 0, &g, msg, sizeof msg), 5);
    cr_assert(strstr(msg, "--input day.pb: 2000 of 20000 events invalid (10.00%)"), "%s", msg);
    cr_assert_eq(judge(20000, 19000, 1000, 0, &g, msg, sizeof msg), 0, "5%% is not above 5%%");
    cr_assert_eq(judge(9999, 5000, 4999, 0, &g, msg, sizeof msg), 0, "under 10000: not judged");
    cr_assert_eq(judge(100, 100, 0, 7, &g, msg, sizeof msg), 3);
    cr_assert(strstr(msg, "7 bytes unread") && strstr(msg, "--allow-incomplete"), "%s", msg);
}

Test(outcome, the_first_failing_gate_decides)
{
    rr_gates_t g;
    rr_gates_default(&g);
    char msg[512];
    cr_assert_eq(judge(20000, 0, 20000, 5, &g, msg, sizeof msg), 3);
    cr_assert_eq(judge(20000, 0, 20000, 0, &g, msg, sizeof msg), 4);
    g.allow_empty = 1;
    cr_assert_eq(judge(20000, 0, 20000, 0, &g, msg, sizeof msg), 5);
    g.max_invalid_ratio = 1;
    cr_assert_eq(judge(20000, 0, 20000, 0, &g, msg, sizeof msg), 0);
    g.allow_incomplete = 1;
    cr_assert_eq(judge(20000, 10, 0, 5, &g, msg, sizeof msg), 0);
}

Test(outcome, ratio_parses_zero_to_one_only)
{
    double r = -1;
    cr_assert_eq(rr_gates_parse_ratio("0", &r), 0);
    cr_assert_eq(r, 0);
    cr_assert_eq(rr_gates_parse_ratio("0.25", &r), 0);
    cr_assert_eq(r, 0.25);
    cr_assert_eq(rr_gates_parse_ratio("1", &r), 0);
    cr_assert_eq(rr_gates_parse_ratio("1.5", &r), -1);
    cr_assert_eq(rr_gates_parse_ratio("-0.1", &r), -1);
    cr_assert_eq(rr_gates_parse_ratio("5%", &r), -1);
    cr_assert_eq(rr_gates_parse_ratio("", &r), -1);
    cr_assert_eq(rr_gates_parse_ratio("nan", &r), -1);
}

static int str_ends(const char *s, const char *tail)
{
    size_t n = strlen(s), t = strlen(tail);
    return n >= t && !strcmp(s + n - t, tail);
}

static const char *print(const rr_outcome_t *o)
{
    static char line[RR_SUMMARY_MAX];
    int n = rr_summary_format(o, line, sizeof line);
    cr_assert(n > 0 && (size_t)n < sizeof line, "%d", n);
    return line;
}

Test(outcome, summary_keeps_the_spec_counts_first_and_adds_the_outcome)
{
    rr_outcome_t o = {0};
    o.stats.input = 5, o.stats.applied = 2, o.stats.duplicate = 1, o.stats.late = 1;
    o.stats.invalid = 1;
    const char *l = print(&o);
    const char *head = "\"input\":5,\"applied\":2,\"duplicate\":1,\"late\":1,\"invalid\":1,";
    cr_assert_eq(strncmp(l, head, strlen(head)), 0, "%s", l);
    cr_assert(
        strstr(l, ",\"unread_bytes\":0,\"skipped_bytes\":0,\"missing_records\":0,\"status\":0"),
        "%s", l);
    cr_assert(strstr(l, ",\"held\":0,"), "%s", l);
    rr_outcome_error(&o);
    cr_assert(str_ends(print(&o), ",\"status\":1,\"reason\":\"error\""));
    rr_outcome_stopped(&o, SIGTERM);
    cr_assert(str_ends(print(&o), ",\"status\":143,\"reason\":\"signal\",\"signal\":\"SIGTERM\""));
    rr_outcome_error(&o); /* a stopped run's errors do not change its status */
    cr_assert_eq(o.status, 143);
    rr_outcome_stopped(&o, SIGINT);
    cr_assert(str_ends(print(&o), ",\"status\":130,\"reason\":\"signal\",\"signal\":\"SIGINT\""));
}

Test(outcome, summary_fields_keep_their_order)
{
    rr_outcome_t o = {0};
    o.stats = (rr_stats_t){.input = 10,
                           .applied = 6,
                           .duplicate = 1,
                           .late = 1,
                           .invalid = 2,
                           .held = 3,
                           .shop_days = 4,
                           .agent_days = 5,
                           .violations = 7,
                           .alerts = 8,
                           .peak_open_conversations = 9,
                           .peak_active_conversations = 11,
                           .evicted_conversations = 12,
                           .shops_in_several_partitions = 13};
    o.seconds = 2;
    o.unread_bytes = 14, o.skipped_bytes = 15, o.missing_records = 16;
    rr_outcome_stopped(&o, SIGTERM);
    cr_assert_str_eq(
        print(&o),
        "\"input\":10,\"applied\":6,\"duplicate\":1,\"late\":1,"
        "\"invalid\":2,\"held\":3,\"shop_days\":4,\"agent_days\":5,\"violations\":7,"
        "\"alerts\":8,\"peak_open_conversations\":9,\"peak_active_conversations\":11,"
        "\"evicted_conversations\":12,\"shops_in_several_partitions\":13,"
        "\"seconds\":2.000,\"events_per_s\":5,\"unread_bytes\":14,\"skipped_bytes\":15,"
        "\"missing_records\":16,\"status\":143,\"reason\":\"signal\",\"signal\":\"SIGTERM\"");
}
