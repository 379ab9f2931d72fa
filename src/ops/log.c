/* ops/log.c: stderr's one writer: leveled lines and events, text or JSON,
 * and the terminal's status line (see log.h). */
#include "ops/log.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define MSG_MAX 4096     /* a message, escaped: longer ones are cut */
#define FIELDS_MAX 8192  /* an event's fields as the caller formats them */
#define STATUS_MAX 512   /* the status line */
#define ERASE "\r\033[K" /* to the line's start, and clear it */

static rr_log_level_t max_level = RR_LOG_INFO;
static rr_log_format_t format = RR_LOG_TEXT;

/* The status line: what is drawn (status_len > 0: shown). Under mu, but
 * for status_shown, which the signal path reads without it. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char status[STATUS_MAX];
static size_t status_len;
static volatile sig_atomic_t status_shown;

void rr_log_set_level(rr_log_level_t max)
{
    max_level = max;
}

void rr_log_set_format(rr_log_format_t f)
{
    format = f;
}

rr_log_format_t rr_log_get_format(void)
{
    return format;
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

int rr_log_enabled(int level)
{
    return (level & RR_LOG_SUMMARY) || (level & 0xff) <= (int)max_level;
}

static const char *level_name(int level)
{
    level &= 0xff;
    return level <= RR_LOG_ERROR  ? "error"
           : level <= RR_LOG_WARN ? "warn"
           : level <= RR_LOG_INFO ? "info"
                                  : "debug";
}

/* ---- a line under construction (async-signal-safe: no stdio) ---- */

typedef struct sbuf {
    char *p;
    size_t size, len; /* len <= size; what does not fit is dropped */
} sbuf_t;

static void put(sbuf_t *b, const char *s, size_t n)
{
    if (n > b->size - b->len) n = b->size - b->len;
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void puts_(sbuf_t *b, const char *s)
{
    put(b, s, strlen(s));
}

static void put_uint(sbuf_t *b, unsigned long v, int width)
{
    char d[24];
    int n = 0;
    do {
        d[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v || n < width);
    while (n)
        put(b, &d[--n], 1);
}

/* Now, UTC, "2026-12-06T20:55:01.123Z": clock_gettime and arithmetic
 * only (no gmtime: the signal path uses it). Days to a civil date:
 * H. Hinnant's algorithm (the proleptic Gregorian calendar). */
static void put_ts(sbuf_t *b)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    long long s = t.tv_sec, days = s / 86400, sod = s % 86400;
    if (sod < 0) sod += 86400, days--;
    long long z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
    long long doe = z - era * 146097;
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long long mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1;
    long long m = mp < 10 ? mp + 3 : mp - 9, y = yoe + era * 400 + (m <= 2);
    put_uint(b, (unsigned long)y, 4);
    put(b, "-", 1);
    put_uint(b, (unsigned long)m, 2);
    put(b, "-", 1);
    put_uint(b, (unsigned long)d, 2);
    put(b, "T", 1);
    put_uint(b, (unsigned long)(sod / 3600), 2);
    put(b, ":", 1);
    put_uint(b, (unsigned long)(sod / 60 % 60), 2);
    put(b, ":", 1);
    put_uint(b, (unsigned long)(sod % 60), 2);
    put(b, ".", 1);
    put_uint(b, (unsigned long)(t.tv_nsec / 1000000L), 3);
    put(b, "Z", 1);
}

/* s as the inside of a JSON string, at most max bytes of it (never half an
 * escape). */
static void put_escaped(sbuf_t *b, const char *s, size_t max)
{
    static const char hex[] = "0123456789abcdef";
    size_t start = b->len;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char e[6];
        size_t n = 0;
        if (c == '"' || c == '\\') {
            e[n++] = '\\';
            e[n++] = (char)c;
        } else if (c < 0x20) {
            memcpy(e, "\\u00", 4);
            e[4] = hex[c >> 4];
            e[5] = hex[c & 15];
            n = 6;
        } else {
            e[n++] = (char)c;
        }
        if (b->len - start + n > max || b->size - b->len < n) break;
        put(b, e, n);
    }
}

/* s for a text line: control characters (a newline) as spaces, so a line
 * stays one line. */
static void put_plain(sbuf_t *b, const char *s, size_t max)
{
    for (size_t i = 0; i < max && s[i]; i++) {
        char c = (unsigned char)s[i] < 0x20 ? ' ' : s[i];
        put(b, &c, 1);
    }
}

/* The end of the JSON value at p (one past it) within [p, end). */
static const char *value_end(const char *p, const char *end)
{
    int depth = 0, in_str = 0;
    for (; p < end; p++) {
        char c = *p;
        if (in_str) {
            if (c == '\\' && p + 1 < end) {
                p++;
            } else if (c == '"') {
                in_str = 0;
                if (!depth) return p + 1;
            }
        } else if (c == '"') {
            in_str = 1;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (!depth) return p;
            if (!--depth) return p + 1;
        } else if (c == ',' && !depth) {
            return p;
        }
    }
    return end;
}

/* A JSON string literal [v, e) for a text line: bare when that is
 * unambiguous, else the literal itself (logfmt's quoting). */
static void put_text_string(sbuf_t *b, const char *v, const char *e)
{
    int bare = e - v > 2;
    for (const char *c = v + 1; bare && c < e - 1; c++)
        bare = *c != ' ' && *c != '=' && *c != '\\' && *c != '"';
    if (bare)
        put(b, v + 1, (size_t)(e - v - 2));
    else
        put(b, v, (size_t)(e - v));
}

/* JSON object members [p, end) as " key=value" pairs; an object's members
 * as " key.member=value". Anything not understood goes in as it is. */
static void put_text_fields(sbuf_t *b, const char *p, const char *end, const char *prefix,
                            size_t plen)
{
    while (p < end) {
        while (p < end && (*p == ',' || *p == ' '))
            p++;
        if (p >= end) return;
        const char *k = p + 1, *ke = k;
        while (ke < end && *ke != '"')
            ke++;
        if (*p != '"' || ke + 1 >= end || ke[1] != ':') {
            put(b, " ", 1);
            put(b, p, (size_t)(end - p));
            return;
        }
        const char *v = ke + 2, *ve = value_end(v, end);
        if (v < end && *v == '{' && ve - v >= 2) {
            char np[128];
            size_t n = plen + (size_t)(ke - k) + 1;
            if (n < sizeof np) {
                memcpy(np, prefix, plen);
                memcpy(np + plen, k, (size_t)(ke - k));
                np[n - 1] = '.';
                put_text_fields(b, v + 1, ve - 1, np, n);
                p = ve;
                continue;
            }
        }
        put(b, " ", 1);
        put(b, prefix, plen);
        put(b, k, (size_t)(ke - k));
        put(b, "=", 1);
        if (v < ve && *v == '"')
            put_text_string(b, v, ve);
        else
            put(b, v, (size_t)(ve - v));
        p = ve > v ? ve : end;
    }
}

/* ---- writing ---- */

static void write_all(const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(STDERR_FILENO, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return;
        p += w;
        n -= (size_t)w;
    }
}

/* One finished line (newline included): with the status line erased
 * before it and drawn again after it when one is shown. */
static void write_line(const char *line, size_t n)
{
    pthread_mutex_lock(&mu);
    if (status_len) {
        char buf[MSG_MAX + FIELDS_MAX + STATUS_MAX + 512];
        sbuf_t b = {buf, sizeof buf, 0};
        puts_(&b, ERASE);
        put(&b, line, n);
        put(&b, status, status_len);
        write_all(buf, b.len);
    } else {
        write_all(line, n);
    }
    pthread_mutex_unlock(&mu);
}

/* The line's head: JSON {"type":...,"component":"..." (not closed), text
 * "TS LEVEL COMPONENT:". */
static void put_head(sbuf_t *b, int json, int level, const char *component, const char *kind)
{
    if (json) {
        puts_(b, "{\"type\":\"");
        puts_(b, kind);
        puts_(b, "\",\"ts\":\"");
        put_ts(b);
        puts_(b, "\",\"level\":\"");
        puts_(b, level_name(level));
        puts_(b, "\",\"component\":\"");
        puts_(b, component);
        puts_(b, "\"");
    } else {
        put_ts(b);
        puts_(b, " ");
        puts_(b, level_name(level));
        puts_(b, " ");
        puts_(b, component);
        puts_(b, ":");
    }
}

/* A message line (fields NULL) or an event line (msg NULL). */
static void emit(int level, const char *component, const char *kind, const char *msg,
                 const char *fields, size_t fields_len)
{
    char line[MSG_MAX + FIELDS_MAX + 512];
    sbuf_t b = {line, sizeof line - 1, 0}; /* room for the newline */
    int json = format == RR_LOG_JSON || (level & RR_LOG_SUMMARY);
    put_head(&b, json, level, component, kind);
    if (json) {
        if (msg) {
            puts_(&b, ",\"msg\":\"");
            put_escaped(&b, msg, MSG_MAX);
            puts_(&b, "\"");
        }
        if (fields && fields_len) {
            puts_(&b, ",");
            put(&b, fields, fields_len);
        }
        puts_(&b, "}");
    } else if (msg) {
        puts_(&b, " ");
        put_plain(&b, msg, MSG_MAX);
    } else {
        puts_(&b, " ");
        puts_(&b, kind);
        if (fields) put_text_fields(&b, fields, fields + fields_len, "", 0);
    }
    line[b.len++] = '\n';
    write_line(line, b.len);
}

void rr_log(int level, const char *component, const char *fmt, ...)
{
    if (!rr_log_enabled(level)) return;
    char msg[MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    emit(level, component, "log", msg, NULL, 0);
}

void rr_log_event(int level, const char *component, const char *kind, const char *fields, ...)
{
    if (!rr_log_enabled(level)) return;
    char f[FIELDS_MAX];
    va_list ap;
    va_start(ap, fields);
    int n = vsnprintf(f, sizeof f, fields, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof f) /* cut short, it would not parse: say so instead */
        n = snprintf(f, sizeof f, "\"truncated\":true");
    emit(level, component, kind, NULL, f, (size_t)n);
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

/* ---- the status line ---- */

int rr_log_status_capable(void)
{
    const char *term = getenv("TERM");
    return format == RR_LOG_TEXT && isatty(STDERR_FILENO) && !(term && !strcmp(term, "dumb"));
}

void rr_log_status(const char *text)
{
    if (!rr_log_status_capable()) return;
    size_t n = text ? strlen(text) : 0;
    /* a line longer than the terminal would wrap, and \r could not take it back */
    struct winsize ws;
    size_t cols = ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col ? ws.ws_col : 80;
    if (n > cols - 1) n = cols - 1;
    if (n > STATUS_MAX - 1) n = STATUS_MAX - 1;
    pthread_mutex_lock(&mu);
    if (n) {
        char buf[STATUS_MAX + 16];
        sbuf_t b = {buf, sizeof buf, 0};
        puts_(&b, "\r");
        put(&b, text, n);
        puts_(&b, "\033[K");
        write_all(buf, b.len);
        memcpy(status, text, n);
        status_len = n;
        status_shown = 1;
    } else if (status_len) {
        write_all(ERASE, sizeof ERASE - 1);
        status_len = 0;
        status_shown = 0;
    }
    pthread_mutex_unlock(&mu);
}

void rr_log_signal_safe(int level, const char *component, const char *msg)
{
    char line[1024];
    sbuf_t b = {line, sizeof line - 1, 0};
    if (status_shown) puts_(&b, ERASE);
    put_head(&b, format == RR_LOG_JSON, level, component, "log");
    if (format == RR_LOG_JSON) {
        puts_(&b, ",\"msg\":\"");
        put_escaped(&b, msg, 512);
        puts_(&b, "\"}");
    } else {
        puts_(&b, " ");
        put_plain(&b, msg, 512);
    }
    line[b.len++] = '\n';
    write_all(line, b.len);
}
