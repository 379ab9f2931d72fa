/* ops/log.c: leveled log lines, text or JSON (see log.h). */
#include "ops/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static rr_log_level_t max_level = RR_LOG_INFO;
static rr_log_format_t format = RR_LOG_TEXT;

void rr_log_set_level(rr_log_level_t max)
{
    max_level = max;
}

void rr_log_set_format(rr_log_format_t f)
{
    format = f;
}

int rr_log_parse_level(const char *s, rr_log_level_t *out)
{
    static const struct {
        const char *name;
        rr_log_level_t level;
    } names[] = {{"error", RR_LOG_ERROR},
                 {"warn", RR_LOG_WARN},
                 {"warning", RR_LOG_WARN},
                 {"info", RR_LOG_INFO},
                 {"debug", RR_LOG_DEBUG}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(s, names[i].name)) {
            *out = names[i].level;
            return 0;
        }
    return -1;
}

int rr_log_parse_format(const char *s, rr_log_format_t *out)
{
    if (!strcmp(s, "text"))
        *out = RR_LOG_TEXT;
    else if (!strcmp(s, "json"))
        *out = RR_LOG_JSON;
    else
        return -1;
    return 0;
}

static const char *level_name(int level)
{
    return level <= RR_LOG_ERROR  ? "error"
           : level <= RR_LOG_WARN ? "warn"
           : level <= RR_LOG_INFO ? "info"
                                  : "debug";
}

/* s JSON-escaped into dst[0..size), always terminated; returns the length. */
static size_t json_escape(char *dst, size_t size, const char *s)
{
    size_t o = 0;
    for (; *s && o + 7 < size; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            dst[o++] = '\\';
            dst[o++] = (char)c;
        } else if (c < 0x20) {
            o += (size_t)snprintf(dst + o, size - o, "\\u%04x", c);
        } else {
            dst[o++] = (char)c;
        }
    }
    dst[o] = 0;
    return o;
}

void rr_log(int level, const char *component, const char *fmt, ...)
{
    if (level > (int)max_level) return;
    struct timespec t;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &t);
    gmtime_r(&t.tv_sec, &tm);
    char ts[48];
    size_t k = strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + k, sizeof ts - k, ".%03dZ", (int)(t.tv_nsec / 1000000L));

    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);

    char line[4608];
    int len;
    if (format == RR_LOG_JSON) {
        char esc[4096];
        json_escape(esc, sizeof esc, msg);
        len = snprintf(line, sizeof line,
                       "{\"type\":\"log\",\"ts\":\"%s\",\"level\":\"%s\",\"component\":\"%s\","
                       "\"msg\":\"%s\"}\n",
                       ts, level_name(level), component, esc);
    } else {
        len = snprintf(line, sizeof line, "%s %s %s: %s\n", ts, level_name(level), component, msg);
    }
    if (len < 0) return;
    size_t n = (size_t)len < sizeof line ? (size_t)len : sizeof line - 1;
    if (n && line[n - 1] != '\n') line[n - 1] = '\n'; /* cut short: still one line */
    for (size_t off = 0; off < n;) {
        ssize_t w = write(STDERR_FILENO, line + off, n - off);
        if (w <= 0) return;
        off += (size_t)w;
    }
}

void rr_log_first_error(char *errstr, size_t errstr_size, const char *component, const char *fmt,
                        ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (errstr[0])
        rr_log(RR_LOG_ERROR, component, "%s", msg);
    else
        snprintf(errstr, errstr_size, "%s", msg);
}
