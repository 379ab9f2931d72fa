/* cli/gen_summary.h: the one-line JSON summary `replyrate gen` prints on
 * stderr when it is done (and `replyrate demo`, whose generator is gen's).
 */
#ifndef RR_CLI_GEN_SUMMARY_H
#define RR_CLI_GEN_SUMMARY_H

#include <stdint.h>
#include <stdio.h>

#include "gen/gen.h"

/* {"type":"gen_summary",...} and a newline to f: st as rr_gen_run left it
 * for options o, over seconds; stream_bytes the delimited stream's size;
 * partitions the files or topic partitions it was split into; topic, or
 * NULL for files. The expected verdicts only for one partition, when exact
 * (gen/gen.h). */
void rr_gen_summary_print(FILE *f, const rr_gen_opts_t *o, const rr_gen_stats_t *st, double seconds,
                          uint64_t stream_bytes, uint32_t partitions, const char *topic);

#endif
