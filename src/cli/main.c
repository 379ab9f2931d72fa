/* main.c: the replyrate executable: dispatch to a subcommand. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/commands.h"

static const char usage[] =
    "usage: replyrate COMMAND [OPTIONS]\n"
    "\n"
    "Grades e-commerce customer service from chat events (reply rates, response\n"
    "time, satisfaction, unassigned sessions) per shop, agent and day.\n"
    "\n"
    "commands:\n"
    "  demo   the whole Kafka pipeline on an in-process mock cluster: generate a\n"
    "         day, grade it, publish and read back the results (no services needed)\n"
    "  run    compute every metric from event files or a Kafka topic\n"
    "         (see: replyrate run --help)\n"
    "  gen    write synthetic chat traffic (see: replyrate gen --help)\n"
    "  load   replay event files into a Kafka topic, partitioned by shop\n"
    "         (see: replyrate load --help)\n"
    "  export read result topics into JSON Lines, CSV or protobuf files\n"
    "         (see: replyrate export --help)\n"
    "  help   show this message\n"
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

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage, stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "run"))
        return exiting(rr_cmd_run(argc - 1, argv + 1));
    if (!strcmp(cmd, "gen"))
        return exiting(rr_cmd_gen(argc - 1, argv + 1));
    if (!strcmp(cmd, "demo"))
        return exiting(rr_cmd_demo(argc - 1, argv + 1));
    if (!strcmp(cmd, "load"))
        return exiting(rr_cmd_load(argc - 1, argv + 1));
    if (!strcmp(cmd, "export"))
        return exiting(rr_cmd_export(argc - 1, argv + 1));
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        fputs(usage, stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
        printf("replyrate %s\n", RR_VERSION);
        return 0;
    }
    fprintf(stderr, "replyrate: unknown command '%s'\n\n%s", cmd, usage);
    return 2;
}
