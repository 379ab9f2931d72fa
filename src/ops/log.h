/* ops/log.h: the process's log lines on stderr, for people and for log
 * shippers.
 *
 * Diagnostics that are not the run's results or its summary go through here:
 * warnings from the pipeline, librdkafka's own log (io/kafka.c routes its log
 * callback here), notices from the subcommands. Two formats:
 *
 *   text  2026-12-06T20:55:01.123Z warn kafka: rdkafka#consumer-1: ...
 *   json  {"type":"log","ts":"2026-12-06T20:55:01.123Z","level":"warn",
 *          "component":"kafka","msg":"..."}
 *
 * Lines below the threshold level are dropped. The settings are process-wide
 * (set once by the command line, before threads start); rr_log itself may be
 * called from any thread: each line is formatted in a local buffer and
 * written with one write(2), so lines never interleave. Uses only libc.
 */
#ifndef RR_OPS_LOG_H
#define RR_OPS_LOG_H

#include <stddef.h>

/* syslog's numbers, as librdkafka's log levels use them */
typedef enum rr_log_level {
    RR_LOG_ERROR = 3,
    RR_LOG_WARN = 4,
    RR_LOG_INFO = 6,
    RR_LOG_DEBUG = 7,
} rr_log_level_t;

typedef enum rr_log_format { RR_LOG_TEXT, RR_LOG_JSON } rr_log_format_t;

/* Lines at levels above max (less severe) are dropped; default RR_LOG_INFO. */
void rr_log_set_level(rr_log_level_t max);
void rr_log_set_format(rr_log_format_t f);

/* "error", "warn", "info", "debug" (also "warning") into *out: 0, or -1. */
int rr_log_parse_level(const char *s, rr_log_level_t *out);
/* "text" or "json" into *out: 0, or -1. */
int rr_log_parse_format(const char *s, rr_log_format_t *out);

/* One line: level, the component speaking ("kafka", "run", ...), printf-style
 * message (no trailing newline). A syslog level between the named ones counts
 * as the next less severe (5 -> info). */
void rr_log(int level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A run's errors: the first (errstr still empty) is kept in errstr for the
 * caller to report as the run's error; every later one is logged at
 * RR_LOG_ERROR by component. errstr is the caller's, as in librdkafka. */
void rr_log_first_error(char *errstr, size_t errstr_size, const char *component, const char *fmt,
                        ...) __attribute__((format(printf, 4, 5)));

#endif
