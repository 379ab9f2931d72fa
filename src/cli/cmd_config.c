/* cmd_config.c: `replyrate config check FILE...` and `replyrate config
 * print-default`: a job configuration checked before a night depends on it,
 * and the built-in default written out to start one from.
 *
 * check loads each file the way `run --config` does (cli/config_file.h:
 * errors as FILE:LINE: reason), loads its time zone from the system's zone
 * database as a run would, and prints what the file sets: the settings, the
 * metrics, the alerts and the metric-set version its records will carry.
 * print-default writes deploy/replyrate.conf as the binary was built with it
 * (compiled in: cli/default_conf.h), the file that spells out the built-in
 * default and loads to exactly it (tests/unit/test_config.c).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/config_file.h"
#include "cli/default_conf.h"
#include "io/tzload.h"
#include "ops/log.h"
#include "replyrate/config.h"

static const char config_usage[] =
    "usage: replyrate config check FILE [FILE ...]\n"
    "       replyrate config print-default\n"
    "\n"
    "  check           load each job configuration file as `run --config` does, and its\n"
    "                  time zone; print what it sets and the metric-set version its\n"
    "                  records will carry. Exit 0 when every file is good, 2 with\n"
    "                  FILE:LINE: reason for the first that is not\n"
    "  print-default   write the built-in default job configuration to stdout, key by\n"
    "                  key (docs/config.md): copy it and edit\n"
    "  -h, --help      this message\n";

static void print_ms(const char *key, int64_t ms)
{
    printf("  %-17s %lld ms\n", key, (long long)ms);
}

static void print_tod(int32_t ms)
{
    printf("%02d:%02d", ms / 3600000, ms / 60000 % 60);
    if (ms % 60000) printf(":%02d", ms / 1000 % 60);
    if (ms % 1000) printf(".%03d", ms % 1000);
}

static int check(const char *path)
{
    rr_config_t cfg;
    rr_config_default(&cfg);
    char err[1024];
    if (rr_config_file_load(path, &cfg, err, sizeof err) < 0) {
        rr_log(RR_LOG_ERROR, "config", "%s", err);
        return 2;
    }
    rr_tz_t *tz = NULL;
    if (rr_tz_load(cfg.timezone, &tz, err, sizeof err) < 0) {
        rr_log(RR_LOG_ERROR, "config", "%s: %s", path, err);
        return 2;
    }
    rr_tz_free(tz);
    char version[64];
    rr_config_version(&cfg, version, sizeof version);
    printf("%s: ok, metric-set version %s\n", path, version);
    printf("  %-17s %s\n", "timezone", cfg.timezone);
    print_ms("horizon", cfg.horizon_ms);
    print_ms("lateness", cfg.lateness_ms);
    print_ms("max_future", cfg.max_future_ms);
    print_ms("idle_timeout", cfg.idle_timeout_ms);
    print_ms("conversation_ttl", cfg.conversation_ttl_ms);
    printf("  %-17s %lld\n", "jump_confirm", (long long)cfg.jump_confirm);
    printf("  metrics (%zu):\n", cfg.n_metrics);
    for (size_t i = 0; i < cfg.n_metrics; i++) {
        const rr_metric_def_t *m = &cfg.metrics[i];
        printf("    %-22s %-15s window ", m->name, rr_metric_kind_name(m->kind));
        print_tod(m->window_from_ms);
        printf("-");
        print_tod(m->window_to_ms);
        if (m->kind != RR_KIND_SATISFACTION)
            printf(" reply %s", m->reply == RR_REPLY_EFFECTIVE ? "effective" : "manual");
        if (m->kind == RR_KIND_MESSAGE_WITHIN || m->kind == RR_KIND_SESSION_WITHIN ||
            m->kind == RR_KIND_BUYER_WITHIN)
            printf(" threshold %lld ms", (long long)m->threshold_ms);
        if (m->kind == RR_KIND_BUYER_REPLIED)
            printf(" require %s", m->require == RR_REQUIRE_LAST ? "last" : "any");
        if (m->excludes)
            printf(" excludes%s%s", m->excludes & RR_EXCLUDE_INTERNAL ? " internal" : "",
                   m->excludes & RR_EXCLUDE_SPAM ? " spam" : "");
        printf("\n");
    }
    printf("  alerts (%zu):\n", cfg.n_alerts);
    for (size_t i = 0; i < cfg.n_alerts; i++)
        printf("    %-22s %s\n", cfg.alerts[i].name, cfg.alerts[i].expr);
    return 0;
}

int rr_cmd_config(int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : NULL;
    if (sub && (!strcmp(sub, "-h") || !strcmp(sub, "--help"))) {
        fputs(config_usage, stdout);
        return 0;
    }
    if (sub && !strcmp(sub, "print-default") && argc == 2) {
        if (fwrite(rr_default_conf, 1, rr_default_conf_len, stdout) != rr_default_conf_len ||
            fflush(stdout) != 0) {
            rr_log(RR_LOG_ERROR, "config", "print-default: stdout: %s", strerror(errno));
            return 1;
        }
        return 0;
    }
    if (sub && !strcmp(sub, "check") && argc > 2) {
        for (int i = 2; i < argc; i++) {
            int rc = check(argv[i]);
            if (rc) return rc;
        }
        return 0;
    }
    rr_log(RR_LOG_ERROR, "config",
           "expected check FILE... or print-default (see replyrate config --help)");
    return 2;
}
