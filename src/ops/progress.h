/* ops/progress.h: the progress lines a run prints on stderr, for people
 * watching and for scripts that wait on them.
 *
 * One JSON object a line, never interleaved with another line:
 *   {"type":"progress",...}  rr_progress_print: events read so far, the
 *                            rate over the elapsed time, open conversations
 *                            and days; the pipeline's drivers call it about
 *                            every 5 seconds unless the run is quiet
 *   {"type":"commit",...}, {"type":"assigned",...}, {"type":"restored",...},
 *   {"type":"provisional",...}
 *                            rr_progress_event: what a streaming run does
 *                            (pipeline/run_stream.c; tests wait on them)
 * Progress is not logging (ops/log.h): its lines are JSON whatever the log
 * format, and --quiet, not --log-level, turns them off (the callers check).
 * Owns nothing; any thread (each line is one write(2)). Uses only libc.
 */
#ifndef RR_OPS_PROGRESS_H
#define RR_OPS_PROGRESS_H

#include <stdint.h>

void rr_progress_print(uint64_t input, double elapsed_s, uint64_t open_convs, uint64_t open_days);

/* One line: fmt formats a whole JSON object (no trailing newline). */
void rr_progress_event(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
