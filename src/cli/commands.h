/* cli/commands.h: the subcommands of the replyrate executable.
 *
 * Each rr_cmd_* takes argv starting at the subcommand's name (argv[0] ==
 * "gen") and returns the process exit status: 0 ok, 1 runtime error,
 * 2 usage error. */
#ifndef RR_CLI_COMMANDS_H
#define RR_CLI_COMMANDS_H

/* `replyrate gen`: write synthetic chat traffic to a .pb / .pb.zst file or
 * stdout (src/gen/gen.h describes the model); see `replyrate gen --help`. */
int rr_cmd_gen(int argc, char **argv);

/* `replyrate load`: replay event files into a Kafka topic, partitioned by
 * shop; see `replyrate load --help`. */
int rr_cmd_load(int argc, char **argv);

/* `replyrate export`: result topics into files; see `replyrate export --help`. */
int rr_cmd_export(int argc, char **argv);

/* `replyrate demo`: the Kafka pipeline on librdkafka's in-process mock
 * cluster; see `replyrate demo --help`. */
int rr_cmd_demo(int argc, char **argv);

/* `replyrate config`: check job configuration files, print the default;
 * see `replyrate config --help`. */
int rr_cmd_config(int argc, char **argv);

/* `replyrate report`: one night's --output-dir as a static HTML page; see
 * `replyrate report --help`. */
int rr_cmd_report(int argc, char **argv);

#endif
