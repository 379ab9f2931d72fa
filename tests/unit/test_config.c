/* Job configuration: the built-in default (SPEC §4 table), validation, the
 * metric-set version, and the config file (src/cli/config_file.c). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/config_file.h"
#include "replyrate/config.h"

#define H8 28800000
#define H23 82800000
#define H24 86400000

/* ---- helpers ---------------------------------------------------------- */

static char tmp_path[64];

static void remove_tmp(void)
{
    if (tmp_path[0]) unlink(tmp_path);
    tmp_path[0] = '\0';
}

TestSuite(config, .fini = remove_tmp);

/* Write text to a fresh temporary file; returns its path (static buffer). */
static const char *write_conf(const char *text)
{
    snprintf(tmp_path, sizeof tmp_path, "/tmp/rr_test_config_XXXXXX");
    int fd = mkstemp(tmp_path);
    cr_assert(fd >= 0);
    size_t n = strlen(text);
    cr_assert_eq(write(fd, text, n), (ssize_t)n);
    close(fd);
    return tmp_path;
}

static rr_config_t load_ok(const char *text)
{
    rr_config_t cfg;
    char err[512] = "";
    int rc = rr_config_file_load(write_conf(text), &cfg, err, sizeof err);
    remove_tmp();
    cr_assert_eq(rc, 0, "load failed: %s\n--- file ---\n%s", err, text);
    return cfg;
}

/* Loading text fails with "PATH:line: reason" where reason contains want. */
static void load_err(const char *text, int line, const char *want)
{
    rr_config_t cfg;
    char err[512] = "", prefix[128], path[sizeof tmp_path];
    rr_config_default(&cfg);
    cfg.horizon_ms = 42; /* sentinel: a failed load leaves *cfg alone */
    snprintf(path, sizeof path, "%s", write_conf(text));
    int rc = rr_config_file_load(path, &cfg, err, sizeof err);
    remove_tmp();
    cr_assert_eq(rc, -1, "loaded:\n%s", text);
    snprintf(prefix, sizeof prefix, "%s:%d: ", path, line);
    cr_assert(strncmp(err, prefix, strlen(prefix)) == 0, "want prefix \"%s\", got \"%s\"", prefix,
              err);
    cr_assert(strstr(err, want) != NULL, "want \"%s\" in \"%s\"", want, err);
    cr_assert_eq(cfg.horizon_ms, 42);
}

static void version_of(const rr_config_t *cfg, char *out)
{
    rr_config_version(cfg, out, 32);
}

static const char *deploy_conf(void)
{
    static char path[4096];
    const char *dir = getenv("RR_SOURCE_DIR");
    const char *tries[] = {"deploy/replyrate.conf", "../deploy/replyrate.conf",
                           "../../deploy/replyrate.conf"};
    if (dir && *dir) {
        snprintf(path, sizeof path, "%s/deploy/replyrate.conf", dir);
        return path;
    }
    for (size_t i = 0; i < sizeof tries / sizeof tries[0]; i++)
        if (access(tries[i], R_OK) == 0) return tries[i];
    return tries[0];
}

/* Validation must fail, naming want; where (if given) must match. */
static void invalid(const rr_config_t *cfg, const char *want, rr_config_part_t part, size_t index,
                    const char *key)
{
    char err[512] = "";
    rr_config_where_t w;
    cr_assert_eq(rr_config_validate(cfg, err, sizeof err), -1, "validated; want \"%s\"", want);
    cr_assert(strstr(err, want) != NULL, "want \"%s\" in \"%s\"", want, err);
    cr_assert_eq(rr_config_validate_where(cfg, &w, err, sizeof err), -1);
    cr_assert_eq(w.part, part, "%s", err);
    cr_assert_eq(w.index, index, "%s", err);
    if (key) cr_assert_str_eq(w.key, key, "%s", err);
}

/* ---- the default ------------------------------------------------------ */

Test(config, default_job_settings_match_the_spec)
{
    rr_config_t c;
    rr_config_default(&c);
    cr_assert_str_eq(c.timezone, "Asia/Shanghai");
    cr_assert_eq(c.horizon_ms, 3600000);
    cr_assert_eq(c.lateness_ms, 5000);
    cr_assert_eq(c.max_future_ms, 86400000);
    cr_assert_eq(c.idle_timeout_ms, 30000);
    cr_assert_eq(c.conversation_ttl_ms, 21600000);
}

Test(config, default_metrics_are_the_spec_table_in_order)
{
    static const struct {
        const char *name;
        rr_metric_kind_t kind;
        rr_reply_kind_t reply;
        int64_t t;
        int32_t from, to;
        uint32_t ex;
        rr_require_t req;
    } want[] = {
        {"douyin_msg_3min", RR_KIND_MESSAGE_WITHIN, RR_REPLY_MANUAL, 180000, H8, H23, 0, 0},
        {"douyin_session_3min", RR_KIND_SESSION_WITHIN, RR_REPLY_MANUAL, 180000, H8, H23, 0, 0},
        {"douyin_satisfaction", RR_KIND_SATISFACTION, RR_REPLY_MANUAL, 0, H8, H23, 0, 0},
        {"douyin_unassigned", RR_KIND_UNASSIGNED, RR_REPLY_MANUAL, 0, 0, H24, 0, 0},
        {"pdd_buyer_3min", RR_KIND_BUYER_WITHIN, RR_REPLY_MANUAL, 180000, H8, H23, 0, 0},
        {"pdd_effective_reply", RR_KIND_BUYER_REPLIED, RR_REPLY_EFFECTIVE, 0, H8, H23, 0,
         RR_REQUIRE_ANY},
        {"tmall_reply_rate", RR_KIND_BUYER_REPLIED, RR_REPLY_EFFECTIVE, 0, 0, H24,
         RR_EXCLUDE_INTERNAL | RR_EXCLUDE_SPAM, RR_REQUIRE_LAST},
        {"tmall_response_time", RR_KIND_RESPONSE_TIME, RR_REPLY_EFFECTIVE, 0, 0, H24,
         RR_EXCLUDE_INTERNAL | RR_EXCLUDE_SPAM, 0},
    };
    rr_config_t c;
    rr_config_default(&c);
    cr_assert_eq(c.n_metrics, 8);
    for (size_t i = 0; i < 8; i++) {
        const rr_metric_def_t *m = &c.metrics[i];
        cr_assert_str_eq(m->name, want[i].name);
        cr_assert_eq(m->kind, want[i].kind, "%s", m->name);
        cr_assert_eq(m->reply, want[i].reply, "%s", m->name);
        cr_assert_eq(m->threshold_ms, want[i].t, "%s", m->name);
        cr_assert_eq(m->window_from_ms, want[i].from, "%s", m->name);
        cr_assert_eq(m->window_to_ms, want[i].to, "%s", m->name);
        cr_assert_eq(m->excludes, want[i].ex, "%s", m->name);
        cr_assert_eq(m->require, want[i].req, "%s", m->name);
    }
}

Test(config, default_alerts_are_the_spec_rules)
{
    rr_config_t c;
    rr_config_default(&c);
    cr_assert_eq(c.n_alerts, 2);
    cr_assert_str_eq(c.alerts[0].name, "pdd_warning");
    cr_assert_str_eq(c.alerts[0].expr, "pdd_buyer_3min < 0.50");
    cr_assert_str_eq(c.alerts[1].name, "pdd_penalty");
    cr_assert_str_eq(c.alerts[1].expr,
                     "pdd_effective_reply.denominator > 100 and pdd_effective_reply < 0.50");
}

Test(config, default_validates)
{
    rr_config_t c;
    char err[256] = "x";
    rr_config_default(&c);
    cr_assert_eq(rr_config_validate(&c, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(err, "");
}

Test(config, kind_names_and_per_agent_kinds)
{
    cr_assert_str_eq(rr_metric_kind_name(RR_KIND_MESSAGE_WITHIN), "message_within");
    cr_assert_str_eq(rr_metric_kind_name(RR_KIND_SESSION_WITHIN), "session_within");
    cr_assert_str_eq(rr_metric_kind_name(RR_KIND_BUYER_WITHIN), "buyer_within");
    cr_assert_str_eq(rr_metric_kind_name(RR_KIND_BUYER_REPLIED), "buyer_replied");
    cr_assert_str_eq(rr_metric_kind_name(RR_KIND_RESPONSE_TIME), "response_time");
    cr_assert_str_eq(rr_metric_kind_name(RR_KIND_SATISFACTION), "satisfaction");
    cr_assert_str_eq(rr_metric_kind_name(RR_KIND_UNASSIGNED), "unassigned");
    cr_assert_str_eq(rr_metric_kind_name((rr_metric_kind_t)99), "unknown");
    cr_assert(rr_metric_kind_per_agent(RR_KIND_MESSAGE_WITHIN));
    cr_assert(rr_metric_kind_per_agent(RR_KIND_RESPONSE_TIME));
    cr_assert(rr_metric_kind_per_agent(RR_KIND_SATISFACTION));
    cr_assert_not(rr_metric_kind_per_agent(RR_KIND_SESSION_WITHIN));
    cr_assert_not(rr_metric_kind_per_agent(RR_KIND_BUYER_WITHIN));
    cr_assert_not(rr_metric_kind_per_agent(RR_KIND_BUYER_REPLIED));
    cr_assert_not(rr_metric_kind_per_agent(RR_KIND_UNASSIGNED));
}

/* ---- validation ------------------------------------------------------- */

Test(config, validate_rejects_bad_names)
{
    rr_config_t c;
    rr_config_default(&c);
    strcpy(c.metrics[3].name, "pdd_buyer_3min");
    invalid(&c, "metric \"pdd_buyer_3min\" is declared twice (metrics 4 and 5)",
            RR_CONFIG_PART_METRIC, 4, "name");
    rr_config_default(&c);
    c.metrics[2].name[0] = '\0';
    invalid(&c, "metric 3: name \"\" is empty", RR_CONFIG_PART_METRIC, 2, "name");
    rr_config_default(&c);
    strcpy(c.metrics[0].name, "douyin-msg");
    invalid(&c, "name \"douyin-msg\" may contain only A-Z a-z 0-9 and _", RR_CONFIG_PART_METRIC, 0,
            "name");
    rr_config_default(&c);
    strcpy(c.metrics[0].name, "or");
    invalid(&c, "is an alert-rule keyword", RR_CONFIG_PART_METRIC, 0, "name");
    rr_config_default(&c);
    memset(c.metrics[0].name, 'x', sizeof c.metrics[0].name);
    invalid(&c, "not NUL-terminated", RR_CONFIG_PART_METRIC, 0, "name");
    rr_config_default(&c);
    strcpy(c.alerts[1].name, "pdd_warning");
    invalid(&c, "alert \"pdd_warning\" is declared twice", RR_CONFIG_PART_ALERT, 1, "name");
    rr_config_default(&c);
    strcpy(c.alerts[0].name, "pdd warning");
    invalid(&c, "alert 1: name \"pdd warning\" may contain only", RR_CONFIG_PART_ALERT, 0, "name");
}

Test(config, validate_rejects_bad_windows)
{
    rr_config_t c;
    rr_config_default(&c);
    c.metrics[1].window_from_ms = H23;
    c.metrics[1].window_to_ms = H8;
    invalid(&c,
            "metric \"douyin_session_3min\": window 23:00-08:00 must satisfy 00:00 <= from < to "
            "<= 24:00",
            RR_CONFIG_PART_METRIC, 1, "window");
    rr_config_default(&c);
    c.metrics[0].window_to_ms = c.metrics[0].window_from_ms;
    invalid(&c, "window 08:00-08:00", RR_CONFIG_PART_METRIC, 0, "window");
    rr_config_default(&c);
    c.metrics[0].window_to_ms = H24 + 1;
    invalid(&c, "window 08:00-86400001 ms", RR_CONFIG_PART_METRIC, 0, "window");
    rr_config_default(&c);
    c.metrics[0].window_from_ms = -1;
    invalid(&c, "window -1 ms-23:00", RR_CONFIG_PART_METRIC, 0, "window");
    rr_config_default(&c);
    c.metrics[0].window_from_ms = H8 + 30500;
    cr_assert_eq(rr_config_validate(&c, NULL, 0), 0, "sub-minute windows are fine");
}

Test(config, validate_requires_a_threshold_on_within_kinds_only)
{
    rr_config_t c;
    rr_config_default(&c);
    c.metrics[4].threshold_ms = 0;
    invalid(&c,
            "metric \"pdd_buyer_3min\": threshold must be > 0 and at most 366d for buyer_within, "
            "got 0 ms",
            RR_CONFIG_PART_METRIC, 4, "threshold");
    rr_config_default(&c);
    c.metrics[0].threshold_ms = -5;
    invalid(&c, "got -5 ms", RR_CONFIG_PART_METRIC, 0, "threshold");
    rr_config_default(&c);
    c.metrics[1].threshold_ms = 0;
    invalid(&c, "douyin_session_3min", RR_CONFIG_PART_METRIC, 1, "threshold");
    rr_config_default(&c);
    c.metrics[7].threshold_ms = 0; /* response_time: T unused */
    c.metrics[2].threshold_ms = 0;
    cr_assert_eq(rr_config_validate(&c, NULL, 0), 0);
}

Test(config, validate_rejects_bad_enums)
{
    rr_config_t c;
    rr_config_default(&c);
    c.metrics[0].kind = (rr_metric_kind_t)0;
    invalid(&c, "metric \"douyin_msg_3min\": unknown kind 0", RR_CONFIG_PART_METRIC, 0, "kind");
    rr_config_default(&c);
    c.metrics[0].reply = (rr_reply_kind_t)3;
    invalid(&c, "unknown reply kind 3", RR_CONFIG_PART_METRIC, 0, "reply");
    rr_config_default(&c);
    c.metrics[2].reply = RR_REPLY_EFFECTIVE;
    invalid(&c, "satisfaction counts manual-phase ratings", RR_CONFIG_PART_METRIC, 2, "reply");
    rr_config_default(&c);
    c.metrics[6].require = (rr_require_t)2;
    invalid(&c, "unknown require 2", RR_CONFIG_PART_METRIC, 6, "require");
    rr_config_default(&c);
    c.metrics[6].excludes = 0x4;
    invalid(&c, "unknown exclusion bits 0x4", RR_CONFIG_PART_METRIC, 6, "exclude");
}

Test(config, validate_limits_the_horizon_to_12h_and_says_why)
{
    rr_config_t c;
    rr_config_default(&c);
    c.horizon_ms = 0;
    invalid(&c, "horizon must be > 0 and at most 12h (43200000 ms)", RR_CONFIG_PART_SETTING, 0,
            "horizon");
    c.horizon_ms = 43200001;
    c.conversation_ttl_ms = 86400000;
    invalid(&c, "two local midnights being further apart than the horizon; got 43200001 ms",
            RR_CONFIG_PART_SETTING, 0, "horizon");
    c.horizon_ms = 43200000;
    cr_assert_eq(rr_config_validate(&c, NULL, 0), 0);
}

Test(config, validate_checks_the_time_settings)
{
    rr_config_t c;
    rr_config_where_t w;
    rr_config_default(&c);
    c.lateness_ms = -1;
    invalid(&c, "lateness must be >= 0, got -1 ms", RR_CONFIG_PART_SETTING, 0, "lateness");
    c.lateness_ms = 0;
    cr_assert_eq(rr_config_validate(&c, NULL, 0), 0, "lateness 0 is allowed");
    c.lateness_ms = RR_DURATION_MAX_MS + 1;
    invalid(&c, "lateness must be at most 366d", RR_CONFIG_PART_SETTING, 0, "lateness");
    rr_config_default(&c);
    c.max_future_ms = 0;
    invalid(&c, "max_future must be > 0, got 0 ms", RR_CONFIG_PART_SETTING, 0, "max_future");
    rr_config_default(&c);
    c.idle_timeout_ms = 0;
    invalid(&c, "idle_timeout must be > 0", RR_CONFIG_PART_SETTING, 0, "idle_timeout");
    rr_config_default(&c);
    c.conversation_ttl_ms = 3599999;
    invalid(&c, "conversation_ttl (3599999 ms) must be >= horizon (3600000 ms)",
            RR_CONFIG_PART_SETTING, 0, "conversation_ttl");
    rr_config_validate_where(&c, &w, NULL, 0);
    cr_assert_str_eq(w.key2, "horizon");
    c.conversation_ttl_ms = 3600000;
    cr_assert_eq(rr_config_validate(&c, NULL, 0), 0);
    rr_config_default(&c);
    c.timezone[0] = '\0';
    invalid(&c, "timezone is empty", RR_CONFIG_PART_SETTING, 0, "timezone");
    strcpy(c.timezone, "Asia/Shang hai");
    invalid(&c, "timezone \"Asia/Shang hai\" is not an IANA zone name", RR_CONFIG_PART_SETTING, 0,
            "timezone");
    strcpy(c.timezone, "../etc/passwd");
    invalid(&c, "is not an IANA zone name", RR_CONFIG_PART_SETTING, 0, "timezone");
    strcpy(c.timezone, "America/Argentina/Buenos_Aires");
    cr_assert_eq(rr_config_validate(&c, NULL, 0), 0);
    strcpy(c.timezone, "Etc/GMT-8");
    cr_assert_eq(rr_config_validate(&c, NULL, 0), 0);
    strcpy(c.timezone, "UTC");
    cr_assert_eq(rr_config_validate(&c, NULL, 0), 0);
}

Test(config, validate_compiles_every_alert_against_the_metrics)
{
    rr_config_t c;
    rr_config_default(&c);
    strcpy(c.alerts[1].expr, "pdd_effective_reply.den > 100 and pdd_buyer < 0.5");
    invalid(&c, "alert \"pdd_penalty\": unknown metric \"pdd_buyer\" at column 35",
            RR_CONFIG_PART_ALERT, 1, "rule");
    rr_config_default(&c);
    strcpy(c.metrics[4].name, "pdd_buyer_5min"); /* pdd_warning refers to it */
    invalid(&c, "alert \"pdd_warning\": unknown metric \"pdd_buyer_3min\" at column 1",
            RR_CONFIG_PART_ALERT, 0, "rule");
}

Test(config, validate_needs_metrics_within_limits)
{
    rr_config_t c;
    rr_config_default(&c);
    c.n_metrics = 0;
    c.n_alerts = 0;
    invalid(&c, "no metrics declared", RR_CONFIG_PART_NONE, 0, "metrics");
    rr_config_default(&c);
    c.n_metrics = RR_MAX_METRICS + 1;
    invalid(&c, "at most 32 allowed", RR_CONFIG_PART_NONE, 0, "metrics");
    rr_config_default(&c);
    c.n_alerts = 0;
    cr_assert_eq(rr_config_validate(&c, NULL, 0), 0, "no alerts is fine");
}

/* ---- version ---------------------------------------------------------- */

Test(config, version_is_stable_and_well_formed)
{
    rr_config_t a, b;
    char va[32], vb[32];
    rr_config_default(&a);
    rr_config_default(&b);
    version_of(&a, va);
    version_of(&b, vb);
    cr_assert_str_eq(va, vb);
    cr_assert_eq(strlen(va), 15);
    cr_assert(strncmp(va, "m2-", 3) == 0);
    for (size_t i = 3; i < 15; i++)
        cr_assert(strchr("0123456789abcdef", va[i]) != NULL, "%s", va);
    /* truncates safely */
    char small[6];
    rr_config_version(&a, small, sizeof small);
    cr_assert_eq(strlen(small), 5);
    cr_assert(strncmp(small, va, 5) == 0);
}

Test(config, version_changes_when_a_declaration_changes)
{
    rr_config_t base, c;
    char v0[32], v[32];
    rr_config_default(&base);
    version_of(&base, v0);

#define CHANGED(stmt)                                                                              \
    do {                                                                                           \
        c = base;                                                                                  \
        stmt;                                                                                      \
        version_of(&c, v);                                                                         \
        cr_assert_str_neq(v, v0, "version unchanged by: %s", #stmt);                               \
    } while (0)
    CHANGED(c.metrics[0].threshold_ms = 120000);
    CHANGED(c.metrics[0].window_to_ms = H24);
    CHANGED(c.metrics[1].window_from_ms = 0);
    CHANGED(strcpy(c.metrics[2].name, "douyin_csat"));
    CHANGED(c.metrics[3].reply = RR_REPLY_EFFECTIVE);
    CHANGED(c.metrics[5].require = RR_REQUIRE_LAST);
    CHANGED(c.metrics[6].excludes = RR_EXCLUDE_SPAM);
    CHANGED(c.metrics[7].kind = RR_KIND_MESSAGE_WITHIN);
    CHANGED(c.n_metrics = 7);
    CHANGED(c.n_alerts = 1);
    CHANGED(strcpy(c.alerts[0].name, "pdd_warn"));
    CHANGED(strcpy(c.alerts[0].expr, "pdd_buyer_3min < 0.6"));
    CHANGED(strcpy(c.alerts[0].expr, "pdd_buyer_3min <= 0.5"));
    CHANGED(strcpy(c.timezone, "UTC"));
    CHANGED(c.horizon_ms = 7200000);
    /* the TTL decides where a conversation ends (SPEC §3 Lifetime) */
    CHANGED(c.conversation_ttl_ms = 86400000);
    /* swapping two metrics changes the output order, hence the version */
    CHANGED((c.metrics[0] = base.metrics[1], c.metrics[1] = base.metrics[0]));
#undef CHANGED
}

Test(config, version_ignores_operational_settings_and_spelling)
{
    rr_config_t base, c;
    char v0[32], v[32];
    rr_config_default(&base);
    version_of(&base, v0);

#define SAME(stmt)                                                                                 \
    do {                                                                                           \
        c = base;                                                                                  \
        stmt;                                                                                      \
        version_of(&c, v);                                                                         \
        cr_assert_str_eq(v, v0, "version changed by: %s", #stmt);                                  \
    } while (0)
    SAME(c.lateness_ms = 0);
    SAME(c.max_future_ms = 1000);
    SAME(c.idle_timeout_ms = 1);
    SAME(c.jump_confirm = 5);
    SAME(strcpy(c.alerts[0].expr, "pdd_buyer_3min<0.5"));
    SAME(strcpy(c.alerts[1].expr, "pdd_effective_reply.den>100 and (pdd_effective_reply < 5e-1)"));
    SAME(c.metrics[7].threshold_ms = 999);         /* unused by response_time */
    SAME(c.metrics[0].require = RR_REQUIRE_LAST);  /* unused by message_within */
    SAME(c.metrics[2].reply = RR_REPLY_EFFECTIVE); /* satisfaction has no reply kind */
    SAME(memset(c.metrics[10].name, 'x', 10));     /* beyond n_metrics */
    SAME(strcpy(c.alerts[5].expr, "garbage"));     /* beyond n_alerts */
#undef SAME
}

/* ---- the canonical form (the manifest's config_sha256) ----------------- */

static char *canonical_of(const rr_config_t *c)
{
    size_t n = rr_config_canonical(c, NULL, 0);
    char *s = malloc(n + 1);
    cr_assert_not_null(s);
    cr_assert_eq(rr_config_canonical(c, s, n + 1), n);
    cr_assert_eq(strlen(s), n);
    return s;
}

Test(config, canonical_text_names_every_setting_in_order)
{
    rr_config_t c;
    rr_config_default(&c);
    char *s = canonical_of(&c);
    const char *head =
        "replyrate-config 2\ntimezone \"Asia/Shanghai\"\nhorizon_ms 3600000\n"
        "lateness_ms 5000\nmax_future_ms 86400000\nidle_timeout_ms 30000\n"
        "conversation_ttl_ms 21600000\njump_confirm 1000\nmetrics 8\nmetric \"douyin_msg_3min\" "
        "kind 1 "
        "reply 1 threshold_ms 180000 window_ms 28800000 82800000 excludes 0 require 0\n";
    cr_assert_eq(strncmp(s, head, strlen(head)), 0, "%s", s);
    cr_assert(strstr(s, "\nalerts 2\nalert \""), "%s", s);
    cr_assert_eq(s[strlen(s) - 1], '\n');
    free(s);
}

Test(config, canonical_text_changes_with_every_field_the_version_ignores_too)
{
    rr_config_t base, c;
    rr_config_default(&base);
    char *s0 = canonical_of(&base);
#define DIFFERS(stmt)                                                                              \
    do {                                                                                           \
        c = base;                                                                                  \
        stmt;                                                                                      \
        char *s = canonical_of(&c);                                                                \
        cr_assert_str_neq(s, s0, "canonical text unchanged by: %s", #stmt);                        \
        free(s);                                                                                   \
    } while (0)
    DIFFERS(strcpy(c.timezone, "UTC"));
    DIFFERS(c.horizon_ms = 7200000);
    DIFFERS(c.lateness_ms = 0);
    DIFFERS(c.max_future_ms = 1000);
    DIFFERS(c.idle_timeout_ms = 1);
    DIFFERS(c.conversation_ttl_ms = 86400000);
    DIFFERS(c.jump_confirm = 2);
    DIFFERS(c.metrics[3].name[0] = 'X');
    DIFFERS(c.metrics[0].kind = RR_KIND_SESSION_WITHIN);
    DIFFERS(c.metrics[2].reply = RR_REPLY_EFFECTIVE);
    DIFFERS(c.metrics[7].threshold_ms = 999);
    DIFFERS(c.metrics[0].window_from_ms = 1);
    DIFFERS(c.metrics[0].window_to_ms = 1);
    DIFFERS(c.metrics[0].excludes = RR_EXCLUDE_SPAM);
    DIFFERS(c.metrics[0].require = RR_REQUIRE_LAST);
    DIFFERS(c.n_metrics--);
    DIFFERS(c.n_alerts--);
    DIFFERS(strcpy(c.alerts[0].name, "other"));
    DIFFERS(strcpy(c.alerts[0].expr, "pdd_buyer_3min<0.5"));
#undef DIFFERS
    free(s0);
}

Test(config, canonical_text_quotes_strings_and_truncates_like_snprintf)
{
    rr_config_t c;
    rr_config_default(&c);
    strcpy(c.alerts[0].name, "a\"b\\c\nd\xe4");
    char *s = canonical_of(&c);
    cr_assert(strstr(s, "alert \"a\\\"b\\\\c\\x0ad\\xe4\" "), "%s", s);
    char small[16];
    size_t n = rr_config_canonical(&c, small, sizeof small);
    cr_assert_eq(n, strlen(s));
    cr_assert_str_eq(small, "replyrate-confi");
    free(s);
}

/* ---- the config file -------------------------------------------------- */

Test(config, shipped_example_is_exactly_the_default)
{
    rr_config_t def, file;
    char err[512] = "", v1[32], v2[32];
    const char *path = deploy_conf();
    rr_config_default(&def);
    cr_assert_eq(rr_config_file_load(path, &file, err, sizeof err), 0, "%s: %s", path, err);
    version_of(&def, v1);
    version_of(&file, v2);
    cr_assert_str_eq(v2, v1);
    cr_assert_eq(memcmp(&def, &file, sizeof def), 0, "fields differ beyond the version");
}

Test(config, empty_file_gives_the_default)
{
    rr_config_t def, c = load_ok("# nothing\n");
    rr_config_default(&def);
    cr_assert_eq(memcmp(&def, &c, sizeof def), 0);
}

Test(config, settings_take_integers_of_ms_or_strings_with_units)
{
    rr_config_t c = load_ok("timezone = \"UTC\";\n"
                            "horizon = 7200000;\n"
                            "lateness = \"2500ms\";\n"
                            "max_future = \"2d\";\n"
                            "idle_timeout = \"1 min\";\n"
                            "conversation_ttl = 3600000000L;\n");
    cr_assert_str_eq(c.timezone, "UTC");
    cr_assert_eq(c.horizon_ms, 7200000);
    cr_assert_eq(c.lateness_ms, 2500);
    cr_assert_eq(c.max_future_ms, 2 * 86400000LL);
    cr_assert_eq(c.idle_timeout_ms, 60000);
    cr_assert_eq(c.conversation_ttl_ms, 3600000000LL);
    cr_assert_eq(c.n_metrics, 8, "metrics kept when not declared");
    cr_assert_eq(c.n_alerts, 2, "alerts kept when not declared");
}

Test(config, durations_parse_every_unit)
{
    static const struct {
        const char *s;
        int64_t ms;
    } ok[] = {{"3600000ms", 3600000}, {"5s", 5000},     {"3min", 180000},
              {"1h", 3600000},        {"1d", 86400000}, {"0s", 0},
              {" 5 s ", 5000},        {"180s", 180000}, {"12h", 43200000},
              {"366d", 31622400000LL}};
    static const struct {
        const char *s, *why;
    } bad[] = {{"5", "missing unit"},
               {"5m", "unknown unit \"m\""},
               {"5 sec", "unknown unit"},
               {"", "expected digits"},
               {"s", "expected digits"},
               {"-5s", "expected digits"},
               {"1.5h", "expected digits"},
               {"5s 3ms", "unexpected text"},
               {"99999999999999999999s", "number too large"},
               {"9999999999999999d", "number too large"}};
    char err[160];
    int64_t ms;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        cr_assert_eq(rr_config_file_duration(ok[i].s, &ms, err, sizeof err), 0, "%s: %s", ok[i].s,
                     err);
        cr_assert_eq(ms, ok[i].ms, "%s", ok[i].s);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_eq(rr_config_file_duration(bad[i].s, &ms, err, sizeof err), -1, "%s", bad[i].s);
        cr_assert(strstr(err, bad[i].why) != NULL, "%s: want \"%s\" in \"%s\"", bad[i].s,
                  bad[i].why, err);
    }
}

Test(config, windows_parse_minutes_seconds_and_24_00)
{
    static const struct {
        const char *s;
        int32_t from, to;
    } ok[] = {{"08:00-23:00", H8, H23},
              {"00:00-24:00", 0, H24},
              {"08:00:30-22:59:59", H8 + 30000, H23 - 1000},
              {"00:00:00-24:00:00", 0, H24},
              {"8:00 - 23:00", H8, H23},
              {"08:00\xe2\x80\x93"
               "23:00",
               H8, H23},
              {"23:59:59-24:00", H24 - 1000, H24}};
    static const struct {
        const char *s, *why;
    } bad[] = {{"23:00-08:00", "the start must be before the end"},
               {"08:00-08:00", "the start must be before the end"},
               {"24:00-24:00", "24:00 is allowed only as the end"},
               {"08:00-24:01", "hours must be 00..23"},
               {"08:00-25:00", "hours must be 00..23"},
               {"08:60-23:00", "minutes and seconds must be 00..59"},
               {"08:00:60-23:00", "minutes and seconds must be 00..59"},
               {"08-23", "expected HH:MM or HH:MM:SS"},
               {"08:0-23:00", "expected HH:MM or HH:MM:SS"},
               {"008:00-23:00", "expected HH:MM or HH:MM:SS"},
               {"08:00", "expected FROM-TO"},
               {"08:00 23:00", "expected FROM-TO"},
               {"08:00-23:00x", "unexpected text after the window"},
               {"08:00:00:00-23:00", "expected FROM-TO"}};
    char err[160];
    int32_t from, to;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        cr_assert_eq(rr_config_file_window(ok[i].s, &from, &to, err, sizeof err), 0, "%s: %s",
                     ok[i].s, err);
        cr_assert_eq(from, ok[i].from, "%s", ok[i].s);
        cr_assert_eq(to, ok[i].to, "%s", ok[i].s);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_eq(rr_config_file_window(bad[i].s, &from, &to, err, sizeof err), -1, "%s",
                     bad[i].s);
        cr_assert(strstr(err, bad[i].why) != NULL, "%s: want \"%s\" in \"%s\"", bad[i].s,
                  bad[i].why, err);
    }
}

Test(config, declaring_metrics_and_alerts_replaces_the_defaults)
{
    rr_config_t c =
        load_ok("metrics = (\n"
                "  { name = \"fast\"; kind = \"message_within\"; reply = \"effective\";\n"
                "    threshold = \"30s\"; window = \"09:00:00-18:00:00\";\n"
                "    exclude = [\"spam\"]; },\n"
                "  { name = \"replied\"; kind = \"buyer_replied\"; reply = \"manual\";\n"
                "    require = \"last\"; },\n"
                "  { name = \"csat\"; kind = \"satisfaction\"; reply = \"manual\"; },\n"
                "  { name = \"within_default_t\"; kind = \"session_within\";\n"
                "    reply = \"manual\"; exclude = (\"internal\", \"spam\"); }\n"
                ");\n"
                "alerts = ( { name = \"slow\"; rule = \"fast < 0.8 or csat < 0.9\"; } );\n");
    cr_assert_eq(c.n_metrics, 4);
    cr_assert_str_eq(c.metrics[0].name, "fast");
    cr_assert_eq(c.metrics[0].kind, RR_KIND_MESSAGE_WITHIN);
    cr_assert_eq(c.metrics[0].reply, RR_REPLY_EFFECTIVE);
    cr_assert_eq(c.metrics[0].threshold_ms, 30000);
    cr_assert_eq(c.metrics[0].window_from_ms, 9 * 3600000);
    cr_assert_eq(c.metrics[0].window_to_ms, 18 * 3600000);
    cr_assert_eq(c.metrics[0].excludes, RR_EXCLUDE_SPAM);
    cr_assert_eq(c.metrics[1].kind, RR_KIND_BUYER_REPLIED);
    cr_assert_eq(c.metrics[1].require, RR_REQUIRE_LAST);
    cr_assert_eq(c.metrics[1].window_from_ms, 0, "window defaults to the whole day");
    cr_assert_eq(c.metrics[1].window_to_ms, H24);
    cr_assert_eq(c.metrics[1].threshold_ms, 0);
    cr_assert_eq(c.metrics[2].reply, RR_REPLY_MANUAL);
    cr_assert_eq(c.metrics[3].threshold_ms, 180000, "T defaults to 180 s (SPEC §3)");
    cr_assert_eq(c.metrics[3].excludes, RR_EXCLUDE_INTERNAL | RR_EXCLUDE_SPAM);
    cr_assert_eq(c.n_alerts, 1);
    cr_assert_str_eq(c.alerts[0].name, "slow");
    cr_assert_str_eq(c.alerts[0].expr, "fast < 0.8 or csat < 0.9");
}

Test(config, empty_alert_list_means_no_alerts)
{
    rr_config_t c = load_ok("alerts = ();\n");
    cr_assert_eq(c.n_alerts, 0);
    c = load_ok("alerts = [];\n");
    cr_assert_eq(c.n_alerts, 0);
    c = load_ok("metrics = ( { name = \"x\"; kind = \"unassigned\"; reply = \"manual\"; } );\n"
                "alerts = ();\n");
    cr_assert_eq(c.n_metrics, 1);
}

Test(config, a_loaded_copy_of_the_default_has_the_default_version)
{
    /* the same set spelt differently (integers, other spacing in a rule) */
    rr_config_t def, c;
    char v1[32], v2[32];
    c = load_ok(
        "horizon = 3600000; lateness = 1000;\n"
        "alerts = ( { name = \"pdd_warning\"; rule = \"pdd_buyer_3min<0.5\"; },\n"
        "  { name = \"pdd_penalty\";\n"
        "    rule = \"pdd_effective_reply.den > 100 and pdd_effective_reply < .5\"; } );\n");
    rr_config_default(&def);
    version_of(&def, v1);
    version_of(&c, v2);
    cr_assert_str_eq(v1, v2);
}

Test(config, file_errors_name_file_line_and_key)
{
    load_err("horizon = \"1h\";\nhorizn = \"2h\";\n", 2,
             "unknown key \"horizn\" (known: timezone, horizon, lateness, max_future, "
             "idle_timeout, conversation_ttl, jump_confirm, metrics, alerts)");
    load_err("horizon = \"1h\";\nlateness = ;\n", 2, "syntax error");
    load_err("\nhorizon = 1.5;\n", 2,
             "horizon: expected an integer of milliseconds or a string with a unit");
    load_err("\n\nlateness = \"5m\";\n", 3,
             "lateness: bad duration \"5m\": unknown unit \"m\" (use ms, s, min, h or d); write "
             "min for minutes");
    load_err("idle_timeout = \"30\";\n", 1, "idle_timeout: bad duration \"30\": missing unit");
    load_err("timezone = 8;\n", 1, "timezone: expected a string, got an integer");
    load_err("timezone = \"Asia/Shang hai\";\n", 1, "timezone \"Asia/Shang hai\" is not an IANA");
    load_err("horizon = 3600000000;\n", 1,
             "horizon: integer 3600000000 does not fit in 32 bits; write it with an L suffix "
             "(3600000000L)");
    load_err("horizon = \"13h\";\n", 1, "horizon must be > 0 and at most 12h");
    load_err("lateness = -1;\n", 1, "lateness must be >= 0, got -1 ms");
    load_err("max_future = 0;\n", 1, "max_future must be > 0");
    load_err("a = 1;\nhorizon = \"7h\";\n", 1, "unknown key \"a\"");
    /* the TTL check points at the setting the file declared */
    load_err("\nhorizon = \"7h\";\n", 2, "conversation_ttl (21600000 ms) must be >= horizon");
    load_err("horizon = \"1h\";\nconversation_ttl = \"30min\";\n", 2,
             "conversation_ttl (1800000 ms) must be >= horizon");
    load_err("horizon = 1;\nhorizon = 2;\n", 2, "duplicate setting name");
}

#define M1 "metrics = (\n"
#define OKM "  { name = \"ok\"; kind = \"message_within\"; reply = \"manual\"; },\n"

Test(config, metric_errors_name_file_line_and_key)
{
    load_err(M1 OKM "  { name = \"x\"; kind = \"message_within\"; reply = \"manual\";\n"
                    "    treshold = \"3min\"; }\n);\nalerts = ();\n",
             4,
             "metric 2: unknown key \"treshold\" (known: name, kind, reply, threshold, window, "
             "exclude, require)");
    load_err(M1 OKM "  { kind = \"message_within\"; reply = \"manual\"; }\n);\nalerts = ();\n", 3,
             "metric 2: missing key \"name\"");
    load_err(M1 "  { name = \"x\"; reply = \"manual\"; }\n);\nalerts = ();\n", 2,
             "metric \"x\": missing key \"kind\"");
    load_err(M1 "  { name = \"x\";\n    kind = \"message_in\"; reply = \"manual\"; }\n);\n", 3,
             "metric \"x\": unknown kind \"message_in\" (use message_within");
    load_err(M1 "  { name = \"x\"; kind = \"buyer_within\"; }\n);\nalerts = ();\n", 2,
             "metric \"x\": missing key \"reply\" (manual or effective)");
    load_err(M1 "  { name = \"x\"; kind = \"buyer_within\";\n reply = \"robot\"; }\n);\n", 3,
             "metric \"x\": unknown reply \"robot\" (use manual or effective)");
    load_err(M1 "  { name = \"x\"; kind = \"satisfaction\";\n reply = \"effective\"; }\n);\n"
                "alerts = ();\n",
             3, "satisfaction counts manual-phase ratings; its reply must be manual");
    load_err(M1 "  { name = \"x\"; kind = \"response_time\"; reply = \"manual\";\n"
                "    threshold = \"180s\"; }\n);\n",
             3,
             "metric \"x\": threshold applies only to message_within, session_within and "
             "buyer_within, not response_time");
    load_err(M1 "  { name = \"x\"; kind = \"message_within\"; reply = \"manual\";\n"
                "    threshold = \"0s\"; }\n);\nalerts = ();\n",
             3, "metric \"x\": threshold must be > 0");
    load_err(M1 "  { name = \"x\"; kind = \"message_within\"; reply = \"manual\";\n"
                "    threshold = \"3 mins\"; }\n);\n",
             3, "threshold: bad duration \"3 mins\": unknown unit \"mins\"");
    load_err(M1 "  { name = \"x\"; kind = \"message_within\"; reply = \"manual\";\n"
                "    require = \"last\"; }\n);\n",
             3, "metric \"x\": require applies only to buyer_replied, not message_within");
    load_err(M1 "  { name = \"x\"; kind = \"buyer_replied\"; reply = \"manual\";\n"
                "    require = \"all\"; }\n);\n",
             3, "metric \"x\": unknown require \"all\" (use any or last)");
    load_err(M1 "  { name = \"x\"; kind = \"message_within\"; reply = \"manual\";\n"
                "    window = \"23:00-08:00\"; }\n);\n",
             3, "metric \"x\": bad window \"23:00-08:00\": the start must be before the end");
    load_err(M1 "  { name = \"x\"; kind = \"message_within\"; reply = \"manual\";\n"
                "    window = \"8-23\"; }\n);\n",
             3, "metric \"x\": bad window \"8-23\": expected HH:MM or HH:MM:SS");
    load_err(M1 "  { name = \"x\"; kind = \"message_within\"; reply = \"manual\";\n"
                "    exclude = [\"internal\", \"robots\"]; }\n);\n",
             3, "metric \"x\": unknown exclude \"robots\" (use internal or spam)");
    load_err(M1 "  { name = \"x\"; kind = \"message_within\"; reply = \"manual\";\n"
                "    exclude = \"spam\"; }\n);\n",
             3,
             "metric \"x\": exclude must be an array like [\"internal\", \"spam\"], got a string");
    load_err(M1 OKM "  { name = \"ok\"; kind = \"unassigned\"; reply = \"manual\"; }\n);\n"
                    "alerts = ();\n",
             3, "metric \"ok\" is declared twice (metrics 1 and 2)");
    load_err(M1 "  { name = \"bad-name\"; kind = \"unassigned\"; reply = \"manual\"; }\n);\n"
                "alerts = ();\n",
             2, "metric 1: name \"bad-name\" may contain only A-Z a-z 0-9 and _");
    load_err(M1 "  { name = "
                "\"a123456789012345678901234567890123456789012345678901234567890123456789\";\n"
                "    kind = \"unassigned\"; reply = \"manual\"; }\n);\n",
             2,
             "metric name: \"a123456789012345678901234567890123456789...\" is too long (at "
             "most 63 characters)");
    load_err("\nmetrics = { name = \"x\"; };\n", 2,
             "metrics must be a list of groups: metrics = ( { ... }, { ... } ); got a group");
    load_err("metrics = (\n  \"x\", \"y\"\n);\n", 2,
             "metrics: element 1 is a string; each metric is a group");
    load_err("alerts = ();\nmetrics = ();\n", 2, "no metrics declared");
    load_err(M1 "  { name = \"x\"; kind = \"message_within\"; reply = \"manual\";\n"
                "    threshold = 4294967296; }\n);\n",
             3, "threshold: integer 4294967296 does not fit in 32 bits");
}

Test(config, alert_errors_name_file_line_and_key)
{
    load_err("alerts = (\n  { name = \"a\";\n    rule = \"pdd_buyer < 0.5\"; }\n);\n", 3,
             "alert \"a\": unknown metric \"pdd_buyer\" at column 1");
    load_err("alerts = (\n  { name = \"a\"; rule = \"pdd_buyer_3min < 0.5\";\n"
             "    severity = \"high\"; }\n);\n",
             3, "alert 1: unknown key \"severity\" (known: name, rule)");
    load_err("alerts = (\n  { name = \"a\"; }\n);\n", 2, "alert \"a\": missing key \"rule\"");
    load_err("alerts = (\n  { rule = \"pdd_buyer_3min < 0.5\"; }\n);\n", 2,
             "alert 1: missing key \"name\"");
    load_err("alerts = (\n { name = \"a\"; rule = \"pdd_buyer_3min < 0.5\"; },\n"
             " { name = \"a\"; rule = \"pdd_buyer_3min < 0.4\"; }\n);\n",
             3, "alert \"a\" is declared twice (alerts 1 and 2)");
    load_err("alerts = (\n { name = \"a\"; rule = 0.5; }\n);\n", 2,
             "alert \"a\": rule: expected a string, got a float");
    /* replacing the metrics leaves the default alerts pointing nowhere */
    load_err("\nmetrics = (\n"
             "  { name = \"ok\"; kind = \"message_within\"; reply = \"manual\"; }\n);\n",
             2,
             "default alert \"pdd_warning\": unknown metric \"pdd_buyer_3min\" at column 1 "
             "(declaring metrics replaces the default list");
}

Test(config, unreadable_file_is_an_error_without_a_line)
{
    rr_config_t c;
    char err[256];
    cr_assert_eq(rr_config_file_load("/nonexistent/replyrate.conf", &c, err, sizeof err), -1);
    cr_assert_str_eq(err, "/nonexistent/replyrate.conf: cannot read: No such file or directory");
}
