/* base/clock.h: the two clocks every command and client reads.
 *
 * Thread-safe. Layer: base (no project knowledge; libc only).
 */
#ifndef RR_BASE_CLOCK_H
#define RR_BASE_CLOCK_H

#include <stddef.h>
#include <stdint.h>

/* Wall-clock time in Unix ms. */
int64_t rr_now_ms(void);

/* Monotonic seconds, for rates and timeouts. */
double rr_mono_s(void);

/* Unix ms as UTC for messages, "2026-11-21T16:00:00Z", into buf (n bytes;
 * 21 hold it). Returns buf. */
char *rr_utc(int64_t ms, char *buf, size_t n);

#endif
