/* cli.h: the subcommands of the replyrate executable and what they share.
 * Each rr_cmd_* takes argv starting at the subcommand's name and returns the
 * process exit status: 0 ok, 1 runtime error, 2 usage error; `run` also 3, 4,
 * 5 and 128+N (pipeline/outcome.h, docs/operations.md). */
#ifndef RR_CLI_CLI_H
#define RR_CLI_CLI_H

#include <stdint.h>

int rr_cmd_run(int argc, char **argv);

/* `replyrate run --brokers B --topic T --until-end ...` over a topic still
 * being written by another thread of the process (pipeline/kafka_live.h: the
 * writer gives the ends, and is told how far each partition was read);
 * live is marked over when it returns. For `replyrate demo`. */
struct rr_kafka_live;
int rr_cmd_run_live(int argc, char **argv, struct rr_kafka_live *live);

#include "base/clock.h" /* rr_now_ms, rr_mono_s */

#endif
