/* ops/progress.h: how far a run has got, for people watching and for log
 * shippers.
 *
 * A run's driver owns an rr_progress_t and calls rr_progress_update as it
 * reads (every batch is fine: the meter decides when to say something, and
 * rr_progress_due says whether gathering the numbers is worth it now). It
 * says it one of two ways (ops/log.h):
 *
 *   - a status line, redrawn about 4 times a second, when the run is
 *     bounded (files, --until-end, --from/--to) and a status line can be
 *     drawn (text format, stderr a terminal):
 *       run: 1.21M events  243k events/s  48.3% of 251 MB  0:07 left
 *     the rate over the last second or so; the share of the work done and
 *     the time left when the total is known (the input files' bytes, the
 *     end offsets a bounded Kafka run captured at start);
 *   - otherwise, an event of kind "progress" every interval (5 s unless
 *     rr_progress_set_interval; --progress-every):
 *       {"type":"progress",...,"input":N,"events_per_s":N,
 *        "open_conversations":N,"open_days":N,"percent":48.3,"seconds_left":7}
 *     events_per_s over the whole run so far; percent and seconds_left
 *     only when the total is known.
 *
 * A quiet meter (--quiet) says nothing. rr_progress_finish erases the status
 * line; the logger erases and redraws it around any other line meanwhile.
 *
 * Ownership: the meter is the caller's, plain values. One thread per meter;
 * the interval is process-wide, set before threads start. Uses ops/log,
 * base/clock.
 */
#ifndef RR_OPS_PROGRESS_H
#define RR_OPS_PROGRESS_H

#include <stdint.h>

typedef struct rr_progress {
    int quiet, bounded, status;
    uint64_t total;   /* units of work: input bytes, offsets; 0: unknown */
    const char *unit; /* "bytes" (shown as MB), "offsets" */
    double t0, next_status, next_event;
    double window_t; /* the status line's rate: over [window_t, now) */
    uint64_t window_input;
    double rate;
} rr_progress_t;

/* A meter starting now. bounded: the run ends with its input (a status line
 * may be drawn); total units of work (0: unknown), unit names them (a
 * static string). */
void rr_progress_init(rr_progress_t *p, int quiet, int bounded, uint64_t total, const char *unit);

/* Whether rr_progress_update would say something now. */
int rr_progress_due(const rr_progress_t *p);

/* The run so far: events read (input), units of work done, open
 * conversations and days. Says it if due. */
void rr_progress_update(rr_progress_t *p, uint64_t input, uint64_t done, uint64_t open_convs,
                        uint64_t open_days);

/* The run has read all it will: erase the status line. */
void rr_progress_finish(rr_progress_t *p);

/* Seconds between progress events (> 0); default 5. Process-wide. */
void rr_progress_set_interval(double seconds);
double rr_progress_interval(void);

#endif
