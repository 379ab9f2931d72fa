/* ops/log.h: the one writer of the process's stderr: log lines and events,
 * for people and for log shippers.
 *
 * Every line on stderr goes through here: warnings and errors of the
 * pipeline and the commands, librdkafka's own log (io/kafka.c routes its
 * log callback here), and the events a run reports: its progress, a
 * stream's commits and rebalances, the summary (docs/operations.md,
 * "Logging"). A line is a *kind* ("log" for a message, "progress",
 * "commit", "summary", ...), said by a component ("run", "kafka", "gen",
 * ...) at a level, at a time. Two formats:
 *
 *   text  2026-12-06T20:55:01.123Z warn kafka: rdkafka#consumer-1: ...
 *         2026-12-06T20:55:04.002Z info run: progress input=812000 events_per_s=203000
 *   json  {"type":"log","ts":"2026-12-06T20:55:01.123Z","level":"warn",
 *          "component":"kafka","msg":"..."}
 *         {"type":"progress","ts":"...","level":"info","component":"run",
 *          "input":812000,"events_per_s":203000}
 *
 * A command's summary (RR_LOG_SUMMARY) is that JSON object in both formats.
 * In JSON every line is one object whose first members are always type,
 * ts, level and component, then the kind's own fields in the order the
 * caller gave them (the summary's order is a contract: pipeline/summary.h).
 * In text an event's fields follow its kind as key=value (strings with
 * spaces, quotes or '=' quoted as JSON strings; a nested object's members
 * as key.member=value).
 *
 * The status line. On a terminal, in text format, a run's progress is one
 * line redrawn in place (ops/progress.h) rather than lines that scroll:
 * rr_log_status draws it; every other line erases it first and draws it
 * again below itself, in the same write, so the two never tangle. In JSON,
 * or when stderr is not a terminal, there is no status line.
 *
 * Lines below the threshold level are dropped (except RR_LOG_SUMMARY). The
 * settings are process-wide (set once by the command line, before threads
 * start); the rest may be called from any thread: each line is formatted in
 * a local buffer and written with one write(2) under one lock, so lines
 * never interleave. rr_log_signal_safe alone may be called from a signal
 * handler. Uses only libc and pthreads.
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

/* Or'ed into a level: a command's summary, which scripts wait for and
 * parse: written whatever the threshold, and as its JSON object whatever the
 * format (the run's summary line is one JSON line by contract; in text
 * format it is the one line that is not text). */
#define RR_LOG_SUMMARY 0x100

typedef enum rr_log_format { RR_LOG_TEXT, RR_LOG_JSON } rr_log_format_t;

/* Lines at levels above max (less severe) are dropped; default RR_LOG_INFO. */
void rr_log_set_level(rr_log_level_t max);
void rr_log_set_format(rr_log_format_t f);
rr_log_format_t rr_log_get_format(void);

/* "error", "warn", "info", "debug" (also "warning") into *out: 0, or -1. */
int rr_log_parse_level(const char *s, rr_log_level_t *out);
/* "text" or "json" into *out: 0, or -1. */
int rr_log_parse_format(const char *s, rr_log_format_t *out);

/* Whether a line at level would be written (to skip gathering its fields). */
int rr_log_enabled(int level);

/* One message: level, the component speaking ("kafka", "run", ...),
 * printf-style message (no trailing newline). Kind "log": its field is
 * "msg". A syslog level between the named ones counts as the next less
 * severe (5 -> info). */
void rr_log(int level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* One event of kind (a word: "progress", "summary", ...). fields is
 * printf-style and formats the event's fields as the members of a JSON
 * object, without the braces: "\"why\":\"%s\",\"input\":%llu" (may be ""). */
void rr_log_event(int level, const char *component, const char *kind, const char *fields, ...)
    __attribute__((format(printf, 4, 5)));

/* A run's errors: the first (errstr still empty) is kept in errstr for the
 * caller to report as the run's error; every later one is logged at
 * RR_LOG_ERROR by component. errstr is the caller's, as in librdkafka. */
void rr_log_first_error(char *errstr, size_t errstr_size, const char *component, const char *fmt,
                        ...) __attribute__((format(printf, 4, 5)));

/* Whether a status line can be drawn: text format, stderr a terminal (and
 * TERM not "dumb"). */
int rr_log_status_capable(void);

/* Draw text (one line, no newline; cut to the terminal's width) as the
 * status line, replacing the one shown; NULL or "" erases it. Nothing when
 * no status line can be drawn. */
void rr_log_status(const char *text);

/* For a signal handler about to _exit: one message (no format), erasing the
 * status line first. Async-signal-safe: no lock, no stdio, no allocation. */
void rr_log_signal_safe(int level, const char *component, const char *msg);

#endif
