/* pipeline/summary.h: the summary of a run, the one event of kind
 * "summary" every run that started logs when it ends (docs/operations.md,
 * "The summary line"; README "What a run does"): a JSON object with
 * --log-format json, key=value pairs in text (ops/log.h).
 *
 * Its fields and their order are a contract: scripts and tests parse it.
 * The five SPEC counts come first (input, applied, duplicate, late,
 * invalid: SPEC "The summary"), then held (jumps left unjudged at a range's
 * end, not in input: SPEC §7), the records published, memory, time, and the
 * outcome: unread_bytes, skipped_bytes, missing_records, status, reason
 * (when status is not 0), signal (when stopped by one).
 *
 * Formats the fields into the caller's buffer; the caller (cli/) logs them.
 * Pure: no state, any thread. Layer: pipeline (outcome, ops/stop's signal
 * names).
 */
#ifndef RR_PIPELINE_SUMMARY_H
#define RR_PIPELINE_SUMMARY_H

#include <stddef.h>

#include "pipeline/outcome.h"

/* The most rr_summary_format writes, its terminating NUL included. */
#define RR_SUMMARY_MAX 1024

/* The fields of o's summary as the members of a JSON object, without the
 * braces ("\"input\":5,...,\"status\":0"), into buf[0..size) (always
 * terminated). Returns their length, as snprintf does (>= size: cut short). */
int rr_summary_format(const rr_outcome_t *o, char *buf, size_t size);

#endif
