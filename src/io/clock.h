/* clock.h: the two clocks every command and client reads. */
#ifndef RR_IO_CLOCK_H
#define RR_IO_CLOCK_H

#include <stdint.h>

/* Wall-clock time in Unix ms. */
int64_t rr_now_ms(void);

/* Monotonic seconds, for rates and timeouts. */
double rr_mono_s(void);

#endif
