/* cli/main.c: the replyrate executable: the global options (logging and
 * progress), then dispatch to a subcommand. Whatever is said on stderr, here
 * and below, goes through ops/log.h. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <libconfig.h>
#include <librdkafka/rdkafka.h>
#include <protobuf-c/protobuf-c.h>
#include <zstd.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/config_file.h"
#include "ops/log.h"
#include "ops/progress.h"

static const char usage[] =
    "usage: replyrate COMMAND [OPTIONS]\n"
    "\n"
    "Grades e-commerce customer service from chat events (reply rates, response\n"
    "time, satisfaction, unassigned sessions) per shop, agent and day.\n"
    "\n"
    "commands:\n"
    "  demo    the whole Kafka pipeline on an in-process mock cluster: generate a\n"
    "          day, grade it, publish and read back the results (no services needed)\n"
    "  run     compute every metric from event files or a Kafka topic\n"
    "          (see: replyrate run --help)\n"
    "  gen     write synthetic chat traffic (see: replyrate gen --help)\n"
    "  load    replay event files into a Kafka topic, partitioned by shop\n"
    "          (see: replyrate load --help)\n"
    "  export  read result topics into JSON Lines, CSV or protobuf files\n"
    "          (see: replyrate export --help)\n"
    "  config  check job configuration files, print the default one\n"
    "          (see: replyrate config --help)\n"
    "  report  one night's results (run --output-dir) as a static HTML page\n"
    "          (see: replyrate report --help)\n"
    "  help    show this message\n"
    "\n"
    "global options (before or after COMMAND):\n"
    "  --log-level LEVEL   error, warn, info (default) or debug: the least severe\n"
    "                      lines written on stderr\n"
    "  --log-format FMT    text (default): TIME LEVEL COMPONENT: MESSAGE, or an event\n"
    "                      as TIME LEVEL COMPONENT: KIND key=value ...;\n"
    "                      json: one object a line, {\"type\":KIND,\"ts\":...,\n"
    "                      \"level\":...,\"component\":...,...}; for scripts\n"
    "  --progress-every DUR  how often progress is logged when stderr is not a\n"
    "                      terminal (default 5s; on one, a line is redrawn)\n"
    "Every line on stderr is one of these: messages, progress, a stream's\n"
    "commits, the summary (docs/operations.md, \"Logging\").\n"
    "\n"
    "replyrate --version prints the version.\n";

/* The command has decided its exit status (its files published or not): a
 * SIGTERM or SIGINT while the process exits (atexit handlers, a sanitizer's
 * leak check) stays pending instead of turning that status into 128+N. */
static int exiting(int status)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, NULL);
    return status;
}

/* Take the global options --log-level, --log-format and --progress-every
 * (also as --opt=value) out of argv, up to a "--", and apply them. The new
 * argc, or -1 after a message (usage error). */
static int global_options(int argc, char **argv)
{
    static const char *const names[] = {"--log-level", "--log-format", "--progress-every"};
    int out = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int which = -1;
        for (int k = 0; k < 3 && which < 0; k++) {
            size_t n = strlen(names[k]);
            if (!strncmp(a, names[k], n) && (a[n] == 0 || a[n] == '=')) which = k;
        }
        if (!strcmp(a, "--")) {
            while (i < argc)
                argv[out++] = argv[i++];
            break;
        }
        if (which < 0) {
            argv[out++] = argv[i];
            continue;
        }
        const char *v = strchr(a, '=') ? strchr(a, '=') + 1 : i + 1 < argc ? argv[++i] : NULL;
        rr_log_level_t level;
        rr_log_format_t format;
        int64_t ms = 0;
        char err[256];
        if (!v) {
            rr_log(RR_LOG_ERROR, "cli", "%s needs a value", names[which]);
            return -1;
        }
        if (which == 0 && rr_log_parse_level(v, &level) < 0) {
            rr_log(RR_LOG_ERROR, "cli",
                   "--log-level: expected error, warn, info or debug, got '%s'", v);
            return -1;
        }
        if (which == 1 && rr_log_parse_format(v, &format) < 0) {
            rr_log(RR_LOG_ERROR, "cli", "--log-format: expected text or json, got '%s'", v);
            return -1;
        }
        if (which == 2) {
            int unparsed = rr_config_file_duration(v, &ms, err, sizeof err) < 0;
            if (unparsed || ms < 100 || ms > 86400000) {
                rr_log(RR_LOG_ERROR, "cli", "--progress-every: '%s': %s", v,
                       unparsed ? err : "between 100ms and 24h");
                return -1;
            }
        }
        if (which == 0)
            rr_log_set_level(level);
        else if (which == 1)
            rr_log_set_format(format);
        else
            rr_progress_set_interval((double)ms / 1000.0);
    }
    argv[out] = NULL;
    return out;
}

int main(int argc, char **argv)
{
    argc = global_options(argc, argv);
    if (argc < 0) return 2;
    if (argc < 2) { /* asked for nothing: what there is to ask for, as help does */
        fputs(usage, stdout);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "run")) return exiting(rr_cmd_run(argc - 1, argv + 1));
    if (!strcmp(cmd, "gen")) return exiting(rr_cmd_gen(argc - 1, argv + 1));
    if (!strcmp(cmd, "demo")) return exiting(rr_cmd_demo(argc - 1, argv + 1));
    if (!strcmp(cmd, "load")) return exiting(rr_cmd_load(argc - 1, argv + 1));
    if (!strcmp(cmd, "export")) return exiting(rr_cmd_export(argc - 1, argv + 1));
    if (!strcmp(cmd, "config")) return exiting(rr_cmd_config(argc - 1, argv + 1));
    if (!strcmp(cmd, "report")) return exiting(rr_cmd_report(argc - 1, argv + 1));
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        fputs(usage, stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
        printf("replyrate %s (librdkafka %s, zstd %s, protobuf-c %s, libconfig %d.%d.%d)\n",
               RR_VERSION, rd_kafka_version_str(), ZSTD_versionString(), protobuf_c_version(),
               LIBCONFIG_VER_MAJOR, LIBCONFIG_VER_MINOR, LIBCONFIG_VER_REVISION);
        return 0;
    }
    rr_log(RR_LOG_ERROR, "cli", "unknown command '%s' (see replyrate --help)", cmd);
    return 2;
}
