/* pipeline/outcome.h: how a run ended: its exit status and the quality gates
 * that decide it (pipeline/summary.h reports it in the summary line).
 *
 * The exit statuses (README "Exit status", docs/operations.md):
 *   0  ok: every output complete under its final name, manifest written
 *   1  runtime error                      reason "error"
 *   2  usage or configuration error       (before the run: no summary)
 *   3  incomplete input                   reason "incomplete_input"
 *   4  empty input: no event applied      reason "empty_input"
 *   5  invalid/input > max_invalid_ratio  reason "invalid_ratio"
 *   128+N  stopped by signal N            reason "signal"
 * A run that read its input without error is judged by rr_outcome_judge;
 * when several gates fail, the first in this order decides.
 *
 * rr_outcome_t is a plain value filled by the run's thread; nothing here is
 * shared or kept between calls. Layer: pipeline (engine's stats only).
 */
#ifndef RR_PIPELINE_OUTCOME_H
#define RR_PIPELINE_OUTCOME_H

#include <stddef.h>
#include <stdint.h>

#include "replyrate/engine.h"

/* Ratios are judged only from this many input events on (rule 5). */
#define RR_GATE_MIN_INPUT 10000
#define RR_GATE_DEFAULT_MAX_INVALID_RATIO 0.05

typedef struct rr_gates {
    int allow_empty;          /* --allow-empty: rule 4 off */
    int allow_incomplete;     /* --allow-incomplete: rule 3 off (counted, not failed) */
    double max_invalid_ratio; /* --max-invalid-ratio, 0..1; 1 turns rule 5 off */
} rr_gates_t;

typedef struct rr_outcome {
    rr_stats_t stats;
    double seconds;
    uint64_t unread_bytes;    /* file bytes never read as records (broken framing) */
    uint64_t skipped_bytes;   /* file bytes --resync skipped (dead-lettered whole) */
    uint64_t missing_records; /* Kafka offsets never read (deleted by retention, ...) */
    int status;               /* the exit status */
    const char *reason;       /* static string; NULL when status is 0 */
    int signo;                /* stopped by this signal, else 0 */
} rr_outcome_t;

/* The defaults: nothing allowed, max_invalid_ratio 0.05. */
void rr_gates_default(rr_gates_t *g);

/* Parse --max-invalid-ratio's argument (a number in [0, 1]). 0, or -1. */
int rr_gates_parse_ratio(const char *s, double *out);

/* Judge a run that read its input without error or signal: sets status and
 * reason (0/NULL, 3, 4 or 5) and returns the status; when it is not 0, errstr
 * says why in a sentence that names inputs (e.g. "--input day.pb") and the
 * flag that would accept it. */
int rr_outcome_judge(rr_outcome_t *o, const rr_gates_t *g, const char *inputs, char *errstr,
                     size_t errstr_size);

/* Mark a runtime error (1, "error") / a stop by signal signo (128+signo,
 * "signal"). A signal overrides an error: the run was told to stop. */
void rr_outcome_error(rr_outcome_t *o);
void rr_outcome_stopped(rr_outcome_t *o, int signo);

#endif
