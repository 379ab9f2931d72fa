/* cli/main.c: the replyrate executable: the global options (logging), then
 * dispatch to a subcommand. */
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
#include "ops/log.h"

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
    "  help    show this message\n"
    "\n"
    "global options (before or after COMMAND):\n"
    "  --log-level LEVEL   error, warn, info (default) or debug: the least severe\n"
    "                      log lines printed on stderr (warnings, notices, librdkafka)\n"
    "  --log-format FMT    text (default): TIME LEVEL COMPONENT: MESSAGE;\n"
    "                      json: {\"type\":\"log\",\"ts\":...,\"level\":...,\n"
    "                      \"component\":...,\"msg\":...}\n"
    "The summary and progress lines are JSON whatever the log format\n"
    "(docs/operations.md, \"Logging\").\n"
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

/* Take --log-level and --log-format (also as --opt=value) out of argv, up to
 * a "--", and apply them. The new argc, or -1 after a message (usage error). */
static int log_options(int argc, char **argv)
{
    int out = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int is_level = !strncmp(a, "--log-level", 11) && (a[11] == 0 || a[11] == '=');
        int is_format = !strncmp(a, "--log-format", 12) && (a[12] == 0 || a[12] == '=');
        if (!strcmp(a, "--")) {
            while (i < argc)
                argv[out++] = argv[i++];
            break;
        }
        if (!is_level && !is_format) {
            argv[out++] = argv[i];
            continue;
        }
        const char *name = is_level ? "--log-level" : "--log-format";
        const char *v = strchr(a, '=') ? strchr(a, '=') + 1 : i + 1 < argc ? argv[++i] : NULL;
        rr_log_level_t level;
        rr_log_format_t format;
        if (!v) {
            fprintf(stderr, "replyrate: %s needs a value\n", name);
            return -1;
        }
        if (is_level && rr_log_parse_level(v, &level) < 0) {
            fprintf(stderr,
                    "replyrate: --log-level: expected error, warn, info or debug, got '%s'\n", v);
            return -1;
        }
        if (is_format && rr_log_parse_format(v, &format) < 0) {
            fprintf(stderr, "replyrate: --log-format: expected text or json, got '%s'\n", v);
            return -1;
        }
        if (is_level)
            rr_log_set_level(level);
        else
            rr_log_set_format(format);
    }
    argv[out] = NULL;
    return out;
}

int main(int argc, char **argv)
{
    argc = log_options(argc, argv);
    if (argc < 0) return 2;
    if (argc < 2) {
        fputs(usage, stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "run")) return exiting(rr_cmd_run(argc - 1, argv + 1));
    if (!strcmp(cmd, "gen")) return exiting(rr_cmd_gen(argc - 1, argv + 1));
    if (!strcmp(cmd, "demo")) return exiting(rr_cmd_demo(argc - 1, argv + 1));
    if (!strcmp(cmd, "load")) return exiting(rr_cmd_load(argc - 1, argv + 1));
    if (!strcmp(cmd, "export")) return exiting(rr_cmd_export(argc - 1, argv + 1));
    if (!strcmp(cmd, "config")) return exiting(rr_cmd_config(argc - 1, argv + 1));
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
    fprintf(stderr, "replyrate: unknown command '%s'\n\n%s", cmd, usage);
    return 2;
}
