/* ops/progress.h: the progress line a long run prints on stderr.
 *
 * One JSON object a line ({"type":"progress",...}): events read so far, the
 * rate over the elapsed time, open conversations and days. The pipeline's
 * drivers call it about every 5 seconds unless the run is quiet.
 * Uses only libc; thread-safe as far as stdio is (one fprintf a line).
 */
#ifndef RR_OPS_PROGRESS_H
#define RR_OPS_PROGRESS_H

#include <stdint.h>

void rr_progress_print(uint64_t input, double elapsed_s, uint64_t open_convs, uint64_t open_days);

#endif
