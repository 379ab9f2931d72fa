/* cli/gen_summary.h: the summary `replyrate gen` logs when it is done (and
 * `replyrate demo`, whose generator is gen's): an event of kind
 * "gen_summary" (ops/log.h), a JSON object a line with --log-format json.
 */
#ifndef RR_CLI_GEN_SUMMARY_H
#define RR_CLI_GEN_SUMMARY_H

#include <stdint.h>

#include "gen/gen.h"

/* The summary, logged by component ("gen", "demo") whatever the log level:
 * st as rr_gen_run left it for options o, over seconds; stream_bytes the
 * delimited stream's size; partitions the files or topic partitions it was
 * split into; topic, or NULL for files. The expected verdicts only for one
 * partition, when exact (gen/gen.h). */
void rr_gen_summary_log(const char *component, const rr_gen_opts_t *o, const rr_gen_stats_t *st,
                        double seconds, uint64_t stream_bytes, uint32_t partitions,
                        const char *topic);

#endif
