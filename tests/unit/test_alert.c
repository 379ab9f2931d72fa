/* Alert rules (SPEC §4 Alerts): compile errors, and/or precedence, the den-0
 * rule, and the value an alert record carries. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "metrics/alert.h"

static rr_metric_def_t M[3];

static void setup(void)
{
    memset(M, 0, sizeof M);
    snprintf(M[0].name, sizeof M[0].name, "a");
    snprintf(M[1].name, sizeof M[1].name, "b");
    snprintf(M[2].name, sizeof M[2].name, "c_3min");
}

TestSuite(alert, .init = setup);

static rr_alert_t compile_ok(const char *expr)
{
    rr_alert_t a;
    char err[256] = "";
    int rc = rr_alert_compile(expr, M, 3, &a, err, sizeof err);
    cr_assert_eq(rc, 0, "compile \"%s\": %s", expr, err);
    return a;
}

static void compile_err(const char *expr, const char *want)
{
    rr_alert_t a;
    char err[256] = "";
    cr_assert_eq(rr_alert_compile(expr, M, 3, &a, err, sizeof err), -1, "\"%s\" compiled", expr);
    cr_assert_str_eq(err, want, "\"%s\"", expr);
}

/* Evaluate with counts num[i]/den[i] for metrics a, b, c_3min. */
static int fires(const char *expr, int64_t n0, int64_t d0, int64_t n1, int64_t d1, int64_t n2,
                 int64_t d2, double *value)
{
    rr_alert_t a = compile_ok(expr);
    int64_t num[3] = {n0, n1, n2}, den[3] = {d0, d1, d2};
    return rr_alert_eval(&a, num, den, value);
}

Test(alert, default_rules_compile_against_default_metrics)
{
    rr_config_t cfg;
    rr_alert_t a;
    char err[256];
    rr_config_default(&cfg);
    for (size_t i = 0; i < cfg.n_alerts; i++)
        cr_assert_eq(
            rr_alert_compile(cfg.alerts[i].expr, cfg.metrics, cfg.n_metrics, &a, err, sizeof err),
            0, "%s: %s", cfg.alerts[i].name, err);
}

Test(alert, pdd_warning_fires_below_half_only)
{
    rr_config_t cfg;
    rr_alert_t a;
    int64_t num[RR_MAX_METRICS] = {0}, den[RR_MAX_METRICS] = {0};
    double v = -1;
    rr_config_default(&cfg);
    cr_assert_eq(rr_alert_compile(cfg.alerts[0].expr, cfg.metrics, cfg.n_metrics, &a, NULL, 0), 0);
    num[4] = 4, den[4] = 10; /* pdd_buyer_3min */
    cr_assert_eq(rr_alert_eval(&a, num, den, &v), 1);
    cr_assert_float_eq(v, 0.4, 1e-12);
    num[4] = 5;
    cr_assert_eq(rr_alert_eval(&a, num, den, &v), 0);
    cr_assert_float_eq(v, 0.5, 1e-12);
}

Test(alert, pdd_penalty_needs_more_than_100_buyers_and_below_half)
{
    rr_config_t cfg;
    rr_alert_t a;
    int64_t num[RR_MAX_METRICS] = {0}, den[RR_MAX_METRICS] = {0};
    double v = -1;
    rr_config_default(&cfg);
    cr_assert_eq(rr_alert_compile(cfg.alerts[1].expr, cfg.metrics, cfg.n_metrics, &a, NULL, 0), 0);
    num[5] = 40, den[5] = 101; /* pdd_effective_reply */
    cr_assert_eq(rr_alert_eval(&a, num, den, &v), 1);
    cr_assert_float_eq(v, 40.0 / 101.0, 1e-12, "value is the ratio, not the denominator");
    den[5] = 100, num[5] = 10;
    cr_assert_eq(rr_alert_eval(&a, num, den, &v), 0);
    den[5] = 200, num[5] = 100;
    cr_assert_eq(rr_alert_eval(&a, num, den, &v), 0);
}

Test(alert, ratio_comparison_never_fires_when_den_is_zero)
{
    const char *rules[] = {"a < 0.5", "a <= 0.5", "a > -1", "a >= 0",
                           "a == 0",  "a != 0.5", "a != 0", "a < 1e300"};
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        double v = -1;
        cr_assert_eq(fires(rules[i], 0, 0, 0, 0, 0, 0, &v), 0, "%s", rules[i]);
        cr_assert_float_eq(v, 0.0, 0, "%s: value with den 0", rules[i]);
    }
    /* counts are compared as they are, den 0 included */
    cr_assert_eq(fires("a.den == 0", 0, 0, 0, 0, 0, 0, NULL), 1);
    cr_assert_eq(fires("a.num <= 0", 0, 0, 0, 0, 0, 0, NULL), 1);
    /* the den-0 comparison is false, the rest of the rule still counts */
    cr_assert_eq(fires("a < 0.5 or b.num > 2", 0, 0, 3, 0, 0, 0, NULL), 1);
    cr_assert_eq(fires("a < 0.5 and b.num > 2", 0, 0, 3, 0, 0, 0, NULL), 0);
}

Test(alert, every_operator)
{
    /* a = 1/4 = 0.25 */
    cr_assert_eq(fires("a < 0.25", 1, 4, 0, 0, 0, 0, NULL), 0);
    cr_assert_eq(fires("a <= 0.25", 1, 4, 0, 0, 0, 0, NULL), 1);
    cr_assert_eq(fires("a > 0.25", 1, 4, 0, 0, 0, 0, NULL), 0);
    cr_assert_eq(fires("a >= 0.25", 1, 4, 0, 0, 0, 0, NULL), 1);
    cr_assert_eq(fires("a == 0.25", 1, 4, 0, 0, 0, 0, NULL), 1);
    cr_assert_eq(fires("a != 0.25", 1, 4, 0, 0, 0, 0, NULL), 0);
    cr_assert_eq(fires("a == 0.3", 3, 10, 0, 0, 0, 0, NULL), 1, "3/10 equals the literal 0.3");
    cr_assert_eq(fires("a.num == 1", 1, 4, 0, 0, 0, 0, NULL), 1);
    cr_assert_eq(fires("a.numerator == 1", 1, 4, 0, 0, 0, 0, NULL), 1);
    cr_assert_eq(fires("a.den == 4", 1, 4, 0, 0, 0, 0, NULL), 1);
    cr_assert_eq(fires("a.denominator > 3.5", 1, 4, 0, 0, 0, 0, NULL), 1);
    cr_assert_eq(fires("a.num > -1e3", 1, 4, 0, 0, 0, 0, NULL), 1);
    cr_assert_eq(fires("a.num < +2", 1, 4, 0, 0, 0, 0, NULL), 1);
    cr_assert_eq(fires("a < .5", 1, 4, 0, 0, 0, 0, NULL), 1);
    cr_assert_eq(fires("c_3min.num>=7", 0, 0, 0, 0, 7, 9, NULL), 1);
}

Test(alert, and_binds_tighter_than_or)
{
    /* "A or B and C" is "A or (B and C)": with A true and C false it fires;
     * "(A or B) and C" would not. A = a.num==1, B = b.num==1, C = c_3min.num==1 */
    cr_assert_eq(fires("a.num == 1 or b.num == 1 and c_3min.num == 1", 1, 0, 0, 0, 0, 0, NULL), 1);
    cr_assert_eq(fires("b.num == 1 and c_3min.num == 1 or a.num == 1", 1, 0, 0, 0, 0, 0, NULL), 1);
    cr_assert_eq(fires("(a.num == 1 or b.num == 1) and c_3min.num == 1", 1, 0, 0, 0, 0, 0, NULL),
                 0);
    cr_assert_eq(fires("(a.num == 1 or b.num == 1) and c_3min.num == 1", 1, 0, 0, 0, 1, 0, NULL),
                 1);
    cr_assert_eq(fires("a.num == 0 and (b.num == 1 or (c_3min.num == 1))", 0, 0, 0, 0, 1, 0, NULL),
                 1);
    cr_assert_eq(fires("a.num == 1 and b.num == 1 and c_3min.num == 1", 1, 0, 1, 0, 0, 0, NULL), 0);
    cr_assert_eq(fires("a.num == 1 or b.num == 1 or c_3min.num == 1", 0, 0, 0, 0, 1, 0, NULL), 1);
}

Test(alert, value_is_the_first_ratio_term_with_a_denominator)
{
    double v = -1;
    /* a count term first: the value is still the ratio */
    fires("a.den > 5 and b < 0.5", 1, 10, 1, 5, 0, 0, &v);
    cr_assert_float_eq(v, 0.2, 1e-12);
    /* first ratio term in reading order, even inside parentheses */
    fires("(c_3min < 0.9 or b < 0.5) and a.num > 0", 1, 10, 1, 5, 3, 4, &v);
    cr_assert_float_eq(v, 0.75, 1e-12);
    /* a ratio term whose den is 0 is skipped */
    cr_assert_eq(fires("a < 0.5 or b < 0.5", 0, 0, 1, 4, 0, 0, &v), 1);
    cr_assert_float_eq(v, 0.25, 1e-12);
    /* no ratio term at all: the first term's count */
    fires("b.den > 100 or a.num > 1", 7, 9, 3, 150, 0, 0, &v);
    cr_assert_float_eq(v, 150.0, 0);
    /* reported whether or not the rule fires */
    cr_assert_eq(fires("a < 0.1", 1, 2, 0, 0, 0, 0, &v), 0);
    cr_assert_float_eq(v, 0.5, 1e-12);
}

Test(alert, compile_errors_name_the_column_and_token)
{
    compile_err("pdd_buyer < 0.5", "unknown metric \"pdd_buyer\" at column 1");
    compile_err("a < 0.5 and zz > 1", "unknown metric \"zz\" at column 13");
    compile_err("a.ratio < 0.5",
                "unknown field \"ratio\" of metric \"a\" at column 3 (use numerator, num, "
                "denominator or den)");
    compile_err("a. < 1",
                "expected numerator, num, denominator or den after \".\" at column 3, got \" \"");
    compile_err("a 0.5",
                "expected a comparison operator (< <= > >= == !=) at column 3, got \"0.5\"");
    compile_err("a = 0.5",
                "expected a comparison operator (< <= > >= == !=) at column 3, got \"=\"");
    compile_err("a => 0.5",
                "expected a comparison operator (< <= > >= == !=) at column 3, got \"=>\"");
    compile_err("a <> 0.5",
                "expected a comparison operator (< <= > >= == !=) at column 3, got \"<>\"");
    compile_err("a <", "expected a number at end of rule (column 4)");
    compile_err("a < half", "expected a number at column 5, got \"half\"");
    compile_err("a < 0.5and b < 1", "expected a number at column 5, got \"0.5and\"");
    compile_err("a < 1e", "expected a number at column 5, got \"1e\"");
    compile_err("a < 1e999", "number out of range at column 5, got \"1e999\"");
    compile_err("a < 0.5 b < 1", "expected \"and\", \"or\" or the end at column 9, got \"b\"");
    compile_err("a < 0.5 and", "expected a metric name at end of rule (column 12)");
    compile_err("a < 0.5 && b < 1", "expected \"and\", \"or\" or the end at column 9, got \"&\"");
    compile_err("(a < 0.5", "missing \")\" to close the \"(\" at column 1");
    compile_err("(a < 0.5 b",
                "expected \")\" at column 10 to close the \"(\" at column 1, got \"b\"");
    compile_err("a < 0.5)", "unmatched \")\" at column 8, got \")\"");
    compile_err("", "empty rule");
    compile_err("   ", "empty rule");
    compile_err("< 0.5", "expected a metric name at column 1, got \"<\"");
    compile_err("a < 0.5 or ()", "expected a metric name at column 13, got \")\"");
}

Test(alert, too_many_comparisons_or_parentheses_are_errors_not_overflows)
{
    char expr[2048] = "", err[256];
    rr_alert_t a;
    for (int i = 0; i < RR_ALERT_MAX_CMPS + 1; i++)
        strcat(expr, i ? " or a<1" : "a<1");
    cr_assert_eq(rr_alert_compile(expr, M, 3, &a, err, sizeof err), -1);
    cr_assert(strstr(err, "too many comparisons") != NULL, "%s", err);

    expr[0] = '\0';
    for (int i = 0; i < RR_ALERT_MAX_DEPTH + 1; i++)
        strcat(expr, "(");
    strcat(expr, "a<1");
    for (int i = 0; i < RR_ALERT_MAX_DEPTH + 1; i++)
        strcat(expr, ")");
    cr_assert_eq(rr_alert_compile(expr, M, 3, &a, err, sizeof err), -1);
    cr_assert(strstr(err, "nested too deeply") != NULL, "%s", err);

    /* exactly the maximum compiles and evaluates */
    expr[0] = '\0';
    for (int i = 0; i < RR_ALERT_MAX_CMPS; i++)
        strcat(expr, i ? " and a.num==1" : "a.num==1");
    a = compile_ok(expr);
    int64_t num[3] = {1, 0, 0}, den[3] = {0, 0, 0};
    cr_assert_eq(rr_alert_eval(&a, num, den, NULL), 1);
}

Test(alert, canonical_text_ignores_spelling)
{
    char x[256], y[256];
    rr_alert_t a1 = compile_ok("a.numerator>100 and b<0.50");
    rr_alert_t a2 = compile_ok("  a.num  >  1e2\tand (b < .5)  ");
    rr_alert_t a3 = compile_ok("a.num > 100 or b < 0.5");
    rr_alert_format(&a1, M, 3, x, sizeof x);
    rr_alert_format(&a2, M, 3, y, sizeof y);
    cr_assert_str_eq(x, "a.num>100 b.ratio<0.5 and");
    cr_assert_str_eq(x, y);
    rr_alert_format(&a3, M, 3, y, sizeof y);
    cr_assert_str_neq(x, y);
    /* truncation is safe and reports the needed length */
    cr_assert_eq(rr_alert_format(&a1, M, 3, x, 5), (int)strlen("a.num>100 b.ratio<0.5 and"));
    cr_assert_str_eq(x, "a.nu");
}

Test(alert, keywords_are_whole_words)
{
    rr_metric_def_t m[2];
    memset(m, 0, sizeof m);
    snprintf(m[0].name, sizeof m[0].name, "order_rate");
    snprintf(m[1].name, sizeof m[1].name, "android");
    rr_alert_t a;
    char err[256];
    cr_assert_eq(rr_alert_compile("order_rate < 1 or android < 1", m, 2, &a, err, sizeof err), 0,
                 "%s", err);
    cr_assert_eq(rr_alert_compile("android < 1 and order_rate < 1", m, 2, &a, err, sizeof err), 0,
                 "%s", err);
}
