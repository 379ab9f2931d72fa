/* metrics/alert.h: alert rules on a (shop, day) result (SPEC §4 Alerts).
 *
 * A rule is compiled once, at startup, against the job's metric list into a
 * fixed-size rr_alert_t (no allocation, no pointers: copyable, shareable
 * read-only between threads) and evaluated for every finished (shop, day)
 * from the metrics' additive counts.
 *
 * Grammar (whitespace between tokens is free):
 *
 *   rule    := or
 *   or      := and ( "or" and )*
 *   and     := primary ( "and" primary )*       -- "and" binds tighter than "or"
 *   primary := "(" or ")" | TERM OP NUMBER
 *   TERM    := METRIC                           -- its ratio num / den
 *            | METRIC "." ( "numerator" | "num" )
 *            | METRIC "." ( "denominator" | "den" )
 *   OP      := "<" | "<=" | ">" | ">=" | "==" | "!="
 *   NUMBER  := ["-" | "+"] DIGITS ["." DIGITS] [("e" | "E") ["-" | "+"] DIGITS]
 *
 * METRIC is a metric name ([A-Za-z0-9_]+) of the metric list the rule is
 * compiled against; "and" and "or" are keywords.
 *
 * Semantics: a comparison on a ratio is false when that metric's den is 0
 * (SPEC §4: a rule on a ratio never fires where its denominator is 0);
 * comparisons on .num / .den compare the count itself. A rule fires when the
 * whole expression is true.
 *
 * The value an alert record carries (SPEC §4 "the ratio as value") is the
 * ratio of the first ratio term of the expression, in reading order, whose
 * den is non-zero (0.0 if every ratio term has den 0); a rule without any
 * ratio term reports the value of its first term (a count).
 *
 * Layer: metrics (uses base and the job config, replyrate/config.h).
 */
#ifndef RR_METRICS_ALERT_H
#define RR_METRICS_ALERT_H

#include <stddef.h>
#include <stdint.h>

#include "replyrate/config.h"

#define RR_ALERT_MAX_CMPS 32 /* comparisons per rule; RR_EXPR_MAX limits it anyway */
#define RR_ALERT_MAX_PROG (2 * RR_ALERT_MAX_CMPS - 1)
#define RR_ALERT_MAX_DEPTH 32 /* parenthesis nesting */

typedef enum rr_alert_term {
    RR_ALERT_TERM_RATIO = 0, /* num / den; false when den == 0 */
    RR_ALERT_TERM_NUM = 1,
    RR_ALERT_TERM_DEN = 2,
} rr_alert_term_t;

typedef enum rr_alert_op {
    RR_ALERT_LT = 0,
    RR_ALERT_LE,
    RR_ALERT_GT,
    RR_ALERT_GE,
    RR_ALERT_EQ,
    RR_ALERT_NE,
} rr_alert_op_t;

/* One comparison TERM OP NUMBER. */
typedef struct rr_alert_cmp {
    double rhs;
    uint16_t metric; /* index into the metric array the rule was compiled against */
    uint8_t term;    /* rr_alert_term_t */
    uint8_t op;      /* rr_alert_op_t */
} rr_alert_cmp_t;

/* prog[] is the rule in postfix order: a value < RR_ALERT_PROG_AND is the
 * index of a comparison; RR_ALERT_PROG_AND / _OR pop two truth values and
 * push their conjunction / disjunction. cmps[] are in reading order. */
#define RR_ALERT_PROG_AND 0xfe
#define RR_ALERT_PROG_OR 0xff

typedef struct rr_alert {
    rr_alert_cmp_t cmps[RR_ALERT_MAX_CMPS];
    uint8_t prog[RR_ALERT_MAX_PROG];
    uint8_t n_cmps;
    uint8_t n_prog;
} rr_alert_t;

/* Compile expr against metrics[0..n_metrics) into *out (caller-owned; all
 * pointers borrowed for the call only). 0 ok, -1 with errstr naming the
 * position (1-based column) and the offending token, e.g.
 * `unknown metric "pdd_buyer" at column 1`. */
int rr_alert_compile(const char *expr, const rr_metric_def_t *metrics, size_t n_metrics,
                     rr_alert_t *out, char *errstr, size_t errstr_size);

/* Evaluate a compiled rule on one result. num[i] / den[i] are the counts of
 * metric i, indexed like the metric array the rule was compiled against.
 * Returns 1 when the rule fires, else 0. If value is not NULL it receives the
 * record value described above (whether or not the rule fires). Pure; safe to
 * call concurrently on one rr_alert_t. */
int rr_alert_eval(const rr_alert_t *a, const int64_t *num, const int64_t *den, double *value);

/* Write a canonical text of a compiled rule (postfix, metric names, numbers
 * in %.17g) into out (at most size bytes including NUL); two spellings of the
 * same rule ("x<0.5", "x < 0.50") give the same text. Used for the metric-set
 * version. Returns the length it needed, like snprintf. */
int rr_alert_format(const rr_alert_t *a, const rr_metric_def_t *metrics, size_t n_metrics,
                    char *out, size_t size);

#endif
