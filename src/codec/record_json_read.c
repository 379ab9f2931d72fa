/* codec/record_json_read.c: a JSON record read back (see the header). A
 * recursive-descent reader of RFC 8259 that knows the records' fields: each
 * member's value is read straight into the type its key calls for. */
#include "codec/record_json_read.h"

#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/records.h"

#define MAX_DEPTH 64 /* of a skipped value: deeper is refused, not recursed into */

typedef struct rd {
    const char *start, *p, *end; /* the JSON, the next byte, its end */
    char *s, *s_end;             /* scratch: the next free byte, its end */
    char *err;
    size_t err_size;
} rd_t;

static int bad(rd_t *r, const char *fmt, ...)
{
    size_t n = (size_t)snprintf(r->err, r->err_size, "byte %zu: ", (size_t)(r->p - r->start));
    if (n < r->err_size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->err + n, r->err_size - n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static void ws(rd_t *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

/* After whitespace, the next byte is c: consumed. */
static int next_is(rd_t *r, char c)
{
    ws(r);
    if (r->p < r->end && *r->p == c) {
        r->p++;
        return 1;
    }
    return 0;
}

static int expect(rd_t *r, char c)
{
    return next_is(r, c) ? 0 : bad(r, "expected '%c'", c);
}

/* The literal word (true, false, null) next: consumed. */
static int word_is(rd_t *r, const char *word)
{
    size_t n = strlen(word);
    ws(r);
    if ((size_t)(r->end - r->p) >= n && !memcmp(r->p, word, n)) {
        r->p += n;
        return 1;
    }
    return 0;
}

static int put(rd_t *r, const char *b, size_t n)
{
    if ((size_t)(r->s_end - r->s) < n) return bad(r, "scratch too small");
    memcpy(r->s, b, n);
    r->s += n;
    return 0;
}

static int hex4(rd_t *r, unsigned *v)
{
    *v = 0;
    if (r->end - r->p < 4) return bad(r, "a \\u escape needs 4 hex digits");
    for (int i = 0; i < 4; i++) {
        char c = *r->p++;
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0) return bad(r, "a \\u escape needs 4 hex digits");
        *v = *v << 4 | (unsigned)d;
    }
    return 0;
}

/* A \u escape (its "\u" read): the code point, a surrogate pair joined, as
 * UTF-8 into scratch. */
static int unicode(rd_t *r)
{
    unsigned cp, lo;
    if (hex4(r, &cp) < 0) return -1;
    if (cp >= 0xDC00 && cp <= 0xDFFF) return bad(r, "a lone low surrogate");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (r->end - r->p < 2 || r->p[0] != '\\' || r->p[1] != 'u')
            return bad(r, "a high surrogate without its low one");
        r->p += 2;
        if (hex4(r, &lo) < 0) return -1;
        if (lo < 0xDC00 || lo > 0xDFFF) return bad(r, "a high surrogate without its low one");
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    }
    if (cp == 0) return bad(r, "\\u0000 in a string (records hold C strings)");
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | cp >> 6);
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | cp >> 12);
        u[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | cp >> 18);
        u[1] = (char)(0x80 | (cp >> 12 & 0x3F));
        u[2] = (char)(0x80 | (cp >> 6 & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return put(r, u, n);
}

/* The length of the well-formed UTF-8 sequence (RFC 3629's table, as
 * codec/record_json.c checks it) of at most n bytes at p that starts with a
 * byte >= 0x80; 0 if it is not one. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    size_t len = c >= 0xF5 ? 0 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
    unsigned lo = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : 0x80; /* no overlong forms */
    unsigned hi = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : 0xBF; /* no surrogates, <= U+10FFFF */
    if (!len || len > n || p[1] < lo || p[1] > hi) return 0;
    for (size_t k = 2; k < len; k++)
        if (p[k] < 0x80 || p[k] > 0xBF) return 0;
    return len;
}

/* A string, unescaped and NUL-terminated into scratch: *out (and its
 * length). Its bytes must be UTF-8 (RFC 8259), as every string the writer
 * writes is: one that is not would be written back as U+FFFD, longer. Each escape is no shorter
 * than what it stands for, and the quotes pay for the NUL, so a string never takes more scratch
 * than its JSON text. */
static int string(rd_t *r, char **out, size_t *len)
{
    if (!next_is(r, '"')) return bad(r, "expected a string");
    char *s = r->s;
    for (;;) {
        const char *run = r->p;
        while (r->p < r->end && *r->p != '"' && *r->p != '\\' && (unsigned char)*r->p >= 0x20) {
            if ((unsigned char)*r->p < 0x80) {
                r->p++;
                continue;
            }
            size_t k = utf8_len((const unsigned char *)r->p, (size_t)(r->end - r->p));
            if (!k) return bad(r, "a string that is not UTF-8");
            r->p += k;
        }
        if (put(r, run, (size_t)(r->p - run)) < 0) return -1;
        if (r->p == r->end) return bad(r, "a string without its closing quote");
        char c = *r->p++;
        if (c == '"') break;
        if (c != '\\') {
            r->p--;
            return bad(r, "a control character in a string");
        }
        if (r->p == r->end) return bad(r, "a string without its closing quote");
        c = *r->p++;
        char e;
        switch (c) {
        case '"':
        case '\\':
        case '/':
            e = c;
            break;
        case 'b':
            e = '\b';
            break;
        case 'f':
            e = '\f';
            break;
        case 'n':
            e = '\n';
            break;
        case 'r':
            e = '\r';
            break;
        case 't':
            e = '\t';
            break;
        case 'u':
            if (unicode(r) < 0) return -1;
            continue;
        default:
            r->p--;
            return bad(r, "an unknown escape after '\\'");
        }
        if (put(r, &e, 1) < 0) return -1;
    }
    if (put(r, "", 1) < 0) return -1;
    *out = s;
    if (len) *len = (size_t)(r->s - s) - 1;
    return 0;
}

/* A number's text, checked against RFC 8259's grammar; *integer: no
 * fraction, no exponent. */
static int number(rd_t *r, const char **tok, size_t *n, int *integer)
{
    ws(r);
    const char *p = r->p, *e = r->end;
    *tok = p;
    *integer = 1;
    if (p < e && *p == '-') p++;
    if (p < e && *p == '0')
        p++;
    else if (p < e && *p >= '1' && *p <= '9')
        while (p < e && *p >= '0' && *p <= '9')
            p++;
    else
        return bad(r, "expected a number");
    if (p < e && *p == '.') {
        *integer = 0;
        if (++p == e || *p < '0' || *p > '9') return bad(r, "a number with nothing after its '.'");
        while (p < e && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        *integer = 0;
        p++;
        if (p < e && (*p == '+' || *p == '-')) p++;
        if (p == e || *p < '0' || *p > '9') return bad(r, "a number with an empty exponent");
        while (p < e && *p >= '0' && *p <= '9')
            p++;
    }
    *n = (size_t)(p - *tok);
    r->p = p;
    return 0;
}

/* An integer: its sign and magnitude (up to 2^64 - 1). */
static int integer(rd_t *r, int *neg, uint64_t *mag)
{
    const char *tok;
    size_t n;
    int is_int;
    if (number(r, &tok, &n, &is_int) < 0) return -1;
    if (!is_int) {
        r->p = tok;
        return bad(r, "expected an integer, got %.*s", (int)(n < 40 ? n : 40), tok);
    }
    *neg = *tok == '-';
    *mag = 0;
    for (size_t i = (size_t)*neg; i < n; i++) {
        unsigned d = (unsigned)(tok[i] - '0');
        if (*mag > (UINT64_MAX - d) / 10) {
            r->p = tok;
            return bad(r, "an integer out of range");
        }
        *mag = *mag * 10 + d;
    }
    return 0;
}

static int u64_in(rd_t *r, uint64_t hi, uint64_t *v)
{
    int neg;
    ws(r);
    const char *at = r->p;
    if (integer(r, &neg, v) < 0) return -1;
    if ((neg && *v) || *v > hi) {
        r->p = at;
        return bad(r, "an integer out of range (0..%llu)", (unsigned long long)hi);
    }
    return 0;
}

static int i64_in(rd_t *r, int64_t lo, int64_t hi, int64_t *v)
{
    int neg;
    uint64_t mag;
    ws(r);
    const char *at = r->p;
    if (integer(r, &neg, &mag) < 0) return -1;
    int ok = neg ? mag <= (uint64_t)INT64_MAX + 1 : mag <= (uint64_t)INT64_MAX;
    if (ok) *v = neg ? (mag ? -(int64_t)(mag - 1) - 1 : 0) : (int64_t)mag;
    if (!ok || *v < lo || *v > hi) {
        r->p = at;
        return bad(r, "an integer out of range (%lld..%lld)", (long long)lo, (long long)hi);
    }
    return 0;
}

static int boolean(rd_t *r, int *b)
{
    if (word_is(r, "true"))
        *b = 1;
    else if (word_is(r, "false"))
        *b = 0;
    else
        return bad(r, "expected true or false");
    return 0;
}

/* A number as the double strtod reads (in the C locale's terms whatever
 * the process's locale is). */
static int real(rd_t *r, double *v)
{
    const char *tok;
    size_t n;
    int is_int;
    if (number(r, &tok, &n, &is_int) < 0) return -1;
    char buf[400];
    if (n >= sizeof buf) return bad(r, "a number of more than %zu characters", sizeof buf - 1);
    memcpy(buf, tok, n);
    buf[n] = '\0';
    const char *point = localeconv()->decimal_point;
    char *dot = strchr(buf, '.');
    if (dot && point && point[0] && !point[1]) *dot = point[0];
    *v = strtod(buf, NULL);
    return 0;
}

/* Any value, read and forgotten (its strings' scratch given back). */
static int skip(rd_t *r, int depth)
{
    char *mark = r->s, *s;
    if (depth > MAX_DEPTH) return bad(r, "values nested more than %d deep", MAX_DEPTH);
    ws(r);
    if (r->p == r->end) return bad(r, "expected a value");
    int rc = 0;
    if (next_is(r, '{')) {
        if (!next_is(r, '}')) {
            do {
                rc = string(r, &s, NULL);
                r->s = mark;
                if (!rc) rc = expect(r, ':');
                if (!rc) rc = skip(r, depth + 1);
            } while (!rc && next_is(r, ','));
            if (!rc) rc = expect(r, '}');
        }
    } else if (next_is(r, '[')) {
        if (!next_is(r, ']')) {
            do
                rc = skip(r, depth + 1);
            while (!rc && next_is(r, ','));
            if (!rc) rc = expect(r, ']');
        }
    } else if (*r->p == '"') {
        rc = string(r, &s, NULL);
    } else if (!word_is(r, "true") && !word_is(r, "false") && !word_is(r, "null")) {
        const char *tok;
        size_t n;
        int is_int;
        rc = number(r, &tok, &n, &is_int);
    }
    r->s = mark;
    return rc;
}

/* Members of an object: call with *n 0 after its '{'. 1 with *key (in
 * scratch: the caller gives it back) and r->p at the member's value, 0 after
 * the closing '}', -1 on error. */
static int member(rd_t *r, int *n, char **key, size_t *klen)
{
    if (next_is(r, '}')) return 0;
    if (*n && expect(r, ',') < 0) return -1;
    ++*n;
    if (string(r, key, klen) < 0 || expect(r, ':') < 0) return -1;
    return 1;
}

/* ------------------------------------------------------------- the fields */

enum field {
    F_TYPE,
    F_SHOP_ID,
    F_AGENT_ID,
    F_DAY,
    F_FINAL,
    F_VERSION,
    F_REVISION,
    F_METRICS,
    F_METRIC,
    F_CONVERSATION_ID,
    F_BUYER_ID,
    F_ROUND_START_MS,
    F_REPLY_MS,
    F_WAIT_MS,
    F_MESSAGES,
    F_REASON,
    F_RULE,
    F_VALUE,
    F_SOURCE,
    F_PARTITION,
    F_OFFSET,
    F_WATERMARK_MS,
    F_EVENT,
    F_RAW_HEX,
    F_COUNT
};

static const char *const field_name[F_COUNT] = {
    "type",     "shop_id",        "agent_id", "day",     "final",
    "version",  "revision",       "metrics",  "metric",  "conversation_id",
    "buyer_id", "round_start_ms", "reply_ms", "wait_ms", "messages",
    "reason",   "rule",           "value",    "source",  "partition",
    "offset",   "watermark_ms",   "event",    "raw_hex"};

#define B(f) (1u << (f))
#define DAY_FIELDS (B(F_TYPE) | B(F_SHOP_ID) | B(F_DAY) | B(F_FINAL) | B(F_VERSION) | B(F_METRICS))
#define REJECTED_FIELDS                                                                            \
    (B(F_TYPE) | B(F_REASON) | B(F_SOURCE) | B(F_PARTITION) | B(F_OFFSET) | B(F_WATERMARK_MS) |    \
     B(F_EVENT) | B(F_RAW_HEX))
/* what each kind must have */
static const uint32_t required[RR_RECORD_JSON_KINDS] = {
    DAY_FIELDS,
    DAY_FIELDS | B(F_AGENT_ID),
    B(F_TYPE) | B(F_SHOP_ID) | B(F_DAY) | B(F_METRIC) | B(F_CONVERSATION_ID) | B(F_BUYER_ID) |
        B(F_AGENT_ID) | B(F_ROUND_START_MS) | B(F_REPLY_MS) | B(F_WAIT_MS) | B(F_MESSAGES) |
        B(F_REASON) | B(F_FINAL) | B(F_VERSION),
    B(F_TYPE) | B(F_SHOP_ID) | B(F_DAY) | B(F_RULE) | B(F_VALUE) | B(F_FINAL) | B(F_VERSION),
    REJECTED_FIELDS,
    REJECTED_FIELDS,
};

static const char *const kind_name[RR_RECORD_JSON_KINDS] = {"shop_day", "agent_day", "violation",
                                                            "alert",    "late",      "invalid"};

const char *rr_record_json_kind_name(rr_record_json_kind_t kind)
{
    return (unsigned)kind < RR_RECORD_JSON_KINDS ? kind_name[kind] : "?";
}

/* What the members say, before "type" tells which record they make. */
typedef struct top {
    uint32_t seen, null;
    uint64_t u[F_COUNT];
    int64_t i[F_COUNT];
    char *s[F_COUNT];
    double value;
    uint8_t *raw;
    size_t raw_len;
    rr_event_t ev;
} top_t;

/* "buckets": exactly RR_BUCKETS integers. */
static int buckets(rd_t *r, int64_t b[RR_BUCKETS])
{
    if (expect(r, '[') < 0) return -1;
    for (int k = 0; k < RR_BUCKETS; k++)
        if ((k && expect(r, ',') < 0) || i64_in(r, INT64_MIN, INT64_MAX, &b[k]) < 0) return -1;
    return next_is(r, ']') ? 0 : bad(r, "\"buckets\" holds %d numbers", RR_BUCKETS);
}

/* One metric's {"num":N,"den":N[,"unanswered":N,"buckets":[...]]}. */
static int metric_value(rd_t *r, rr_value_t *v, rr_metric_def_t *def)
{
    enum { NUM, DEN, UNANSWERED, BUCKETS, MEMBERS };
    static const char *const names[MEMBERS] = {"num", "den", "unanswered", "buckets"};
    unsigned seen = 0;
    char *mark = r->s, *key;
    size_t klen;
    int n = 0, m;
    if (expect(r, '{') < 0) return -1;
    while ((m = member(r, &n, &key, &klen)) > 0) {
        int f = 0;
        while (f < MEMBERS && strcmp(key, names[f]))
            f++;
        r->s = mark;
        if (f < MEMBERS && seen & 1u << f) return bad(r, "\"%s\" twice", names[f]);
        if (f < MEMBERS) seen |= 1u << f;
        int rc = f == NUM          ? i64_in(r, INT64_MIN, INT64_MAX, &v->num)
                 : f == DEN        ? i64_in(r, INT64_MIN, INT64_MAX, &v->den)
                 : f == UNANSWERED ? i64_in(r, INT64_MIN, INT64_MAX, &v->unanswered)
                 : f == BUCKETS    ? buckets(r, v->buckets)
                                   : skip(r, 1);
        if (rc < 0) return -1;
    }
    if (m < 0) return -1;
    if ((seen & 3u) != 3u) return bad(r, "a metric without \"num\" and \"den\"");
    int rt = (seen >> UNANSWERED & 1u) + (seen >> BUCKETS & 1u);
    if (rt == 1) return bad(r, "a metric with one of \"unanswered\" and \"buckets\"");
    def->kind = rt ? RR_KIND_RESPONSE_TIME : RR_KIND_MESSAGE_WITHIN;
    if (!rt && !v->den) v->unanswered = 1; /* listed, so shown (rr_records_metric_shown) */
    return 0;
}

/* "metrics": name -> value, into out's cfg and values. */
static int metrics(rd_t *r, rr_record_json_in_t *out)
{
    char *mark = r->s, *name;
    size_t len;
    int n = 0, m;
    if (expect(r, '{') < 0) return -1;
    while ((m = member(r, &n, &name, &len)) > 0) {
        size_t i = out->cfg.n_metrics;
        if (i == RR_MAX_METRICS) return bad(r, "more than %d metrics", RR_MAX_METRICS);
        if (len >= RR_NAME_MAX)
            return bad(r, "a metric name of more than %d bytes", RR_NAME_MAX - 1);
        rr_metric_def_t *def = &out->cfg.metrics[i];
        memset(def, 0, sizeof *def);
        memcpy(def->name, name, len + 1);
        r->s = mark;
        memset(&out->values[i], 0, sizeof out->values[i]);
        if (metric_value(r, &out->values[i], def) < 0) return -1;
        out->cfg.n_metrics = i + 1;
    }
    return m;
}

/* "event": the ChatEvent's fields, its type by name or number. */
static int event(rd_t *r, rr_event_t *ev)
{
    enum {
        EVENT_ID,
        SHOP_ID,
        CONV_ID,
        BUYER_ID,
        AGENT_ID,
        TS_MS,
        TYPE,
        CONTENT,
        RATING,
        FLAGS,
        MEMBERS
    };
    static const char *const names[MEMBERS] = {
        "event_id", "shop_id", "conversation_id", "buyer_id", "agent_id",
        "ts_ms",    "type",    "content",         "rating",   "flags"};
    uint64_t *u64s[] = {&ev->event_id, &ev->shop_id, &ev->conversation_id, &ev->buyer_id,
                        &ev->agent_id};
    uint32_t *u32s[] = {&ev->content, &ev->rating, &ev->flags};
    unsigned seen = 0;
    char *mark = r->s, *key;
    size_t klen;
    int n = 0, m;
    memset(ev, 0, sizeof *ev);
    if (expect(r, '{') < 0) return -1;
    while ((m = member(r, &n, &key, &klen)) > 0) {
        int f = 0;
        while (f < MEMBERS && strcmp(key, names[f]))
            f++;
        r->s = mark;
        if (f < MEMBERS && seen & 1u << f) return bad(r, "\"%s\" twice", names[f]);
        if (f < MEMBERS) seen |= 1u << f;
        int rc = 0;
        uint64_t v = 0;
        if (f <= AGENT_ID) {
            rc = u64_in(r, UINT64_MAX, u64s[f]);
        } else if (f == TS_MS) {
            rc = i64_in(r, INT64_MIN, INT64_MAX, &ev->ts_ms);
        } else if (f == TYPE) {
            ws(r);
            if (r->p < r->end && *r->p == '"') {
                char *name;
                rc = string(r, &name, NULL);
                uint32_t t = 1;
                while (!rc && t <= 10 && strcmp(name, rr_records_event_type_name(t)))
                    t++;
                if (!rc && t > 10) rc = bad(r, "an unknown event type \"%s\"", name);
                r->s = mark;
                ev->type = t;
            } else {
                rc = u64_in(r, UINT32_MAX, &v);
                ev->type = (uint32_t)v;
            }
        } else if (f < MEMBERS) {
            rc = u64_in(r, UINT32_MAX, &v);
            *u32s[f - CONTENT] = (uint32_t)v;
        } else {
            rc = skip(r, 1);
        }
        if (rc < 0) return -1;
    }
    if (m < 0) return -1;
    for (int f = 0; f < MEMBERS; f++)
        if (!(seen & 1u << f)) return bad(r, "an event without \"%s\"", names[f]);
    return 0;
}

/* "raw_hex": hex digits, decoded in place. */
static int raw_hex(rd_t *r, top_t *t)
{
    char *s;
    size_t n;
    if (string(r, &s, &n) < 0) return -1;
    if (n % 2) return bad(r, "\"raw_hex\" of an odd length");
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0) return bad(r, "\"raw_hex\" holds '%c'", c);
        if (i % 2)
            s[i / 2] = (char)(s[i / 2] << 4 | d);
        else
            s[i / 2] = (char)d;
    }
    t->raw = (uint8_t *)s;
    t->raw_len = n / 2;
    return 0;
}

/* Field f's value into t (or out, for the metrics). */
static int field(rd_t *r, enum field f, top_t *t, rr_record_json_in_t *out)
{
    switch (f) {
    case F_SHOP_ID:
    case F_AGENT_ID:
    case F_CONVERSATION_ID:
    case F_BUYER_ID:
        return u64_in(r, UINT64_MAX, &t->u[f]);
    case F_DAY:
    case F_PARTITION:
        return i64_in(r, INT32_MIN, INT32_MAX, &t->i[f]);
    case F_REVISION:
    case F_MESSAGES:
        return i64_in(r, 0, UINT32_MAX, &t->i[f]);
    case F_ROUND_START_MS:
    case F_OFFSET:
        return i64_in(r, INT64_MIN, INT64_MAX, &t->i[f]);
    case F_REPLY_MS:
    case F_WAIT_MS:
    case F_WATERMARK_MS:
        if (word_is(r, "null")) {
            t->null |= B(f);
            return 0;
        }
        return i64_in(r, INT64_MIN, INT64_MAX, &t->i[f]);
    case F_FINAL: {
        int b = 0;
        int rc = boolean(r, &b);
        t->i[f] = b;
        return rc;
    }
    case F_TYPE:
    case F_VERSION:
    case F_METRIC:
    case F_REASON:
    case F_RULE:
    case F_SOURCE:
        return string(r, &t->s[f], NULL);
    case F_VALUE:
        if (word_is(r, "null")) {
            t->value = NAN;
            return 0;
        }
        return real(r, &t->value);
    case F_METRICS:
        return metrics(r, out);
    case F_EVENT:
        if (word_is(r, "null")) {
            t->null |= B(f);
            return 0;
        }
        return event(r, &t->ev);
    case F_RAW_HEX:
        if (word_is(r, "null")) {
            t->null |= B(f);
            return 0;
        }
        return raw_hex(r, t);
    case F_COUNT:
        break;
    }
    return skip(r, 1);
}

static int reason_of(rd_t *r, const char *name, rr_reason_t *reason)
{
    for (int k = 0; k <= RR_REASON_UNASSIGNED; k++)
        if (!strcmp(name, rr_records_reason_name((rr_reason_t)k))) {
            *reason = (rr_reason_t)k;
            return 0;
        }
    return bad(r, "an unknown violation reason \"%s\"", name);
}

int rr_record_json_read(const char *json, size_t len, char *scratch, size_t scratch_size,
                        rr_record_json_in_t *out, char *errstr, size_t errstr_size)
{
    rd_t r = {.start = json,
              .p = json,
              .end = json + len,
              .s = scratch,
              .s_end = scratch + scratch_size,
              .err = errstr,
              .err_size = errstr_size};
    top_t t;
    memset(&t, 0, sizeof t);
    out->cfg.n_metrics = 0;
    char *key;
    size_t klen;
    int n = 0, m;
    if (expect(&r, '{') < 0) return -1;
    while ((m = member(&r, &n, &key, &klen)) > 0) {
        int f = 0;
        while (f < F_COUNT && strcmp(key, field_name[f]))
            f++;
        r.s = key; /* the key's scratch back */
        if (f < F_COUNT && t.seen & B(f)) return bad(&r, "\"%s\" twice", field_name[f]);
        if (f < F_COUNT) t.seen |= B(f);
        if (field(&r, (enum field)f, &t, out) < 0) return -1;
    }
    if (m < 0) return -1;
    ws(&r);
    if (r.p != r.end) return bad(&r, "something after the record's '}'");
    if (!(t.seen & B(F_TYPE))) return bad(&r, "a record without \"type\"");
    int k = 0;
    while (k < RR_RECORD_JSON_KINDS && strcmp(t.s[F_TYPE], kind_name[k]))
        k++;
    if (k == RR_RECORD_JSON_KINDS) return bad(&r, "an unknown record type \"%s\"", t.s[F_TYPE]);
    out->kind = (rr_record_json_kind_t)k;
    uint32_t need = required[k];
    for (int f = 0; f < F_COUNT; f++)
        if (need & ~t.seen & B(f))
            return bad(&r, "a %s record without \"%s\"", kind_name[k], field_name[f]);
    switch (out->kind) {
    case RR_RECORD_JSON_SHOP_DAY:
    case RR_RECORD_JSON_AGENT_DAY:
        out->day = (rr_day_record_t){.is_agent = out->kind == RR_RECORD_JSON_AGENT_DAY,
                                     .shop_id = t.u[F_SHOP_ID],
                                     .agent_id = t.u[F_AGENT_ID],
                                     .day = (int32_t)t.i[F_DAY],
                                     .final = (int)t.i[F_FINAL],
                                     .revision = (uint32_t)t.i[F_REVISION],
                                     .version = t.s[F_VERSION],
                                     .cfg = &out->cfg,
                                     .values = out->values};
        return 0;
    case RR_RECORD_JSON_VIOLATION: {
        uint32_t nulls = t.null & (B(F_REPLY_MS) | B(F_WAIT_MS));
        if (nulls && nulls != (B(F_REPLY_MS) | B(F_WAIT_MS)))
            return bad(&r, "a violation with one of reply_ms and wait_ms null");
        rr_reason_t reason = (rr_reason_t)0;
        if (reason_of(&r, t.s[F_REASON], &reason) < 0) return -1;
        out->violation = (rr_violation_record_t){.shop_id = t.u[F_SHOP_ID],
                                                 .day = (int32_t)t.i[F_DAY],
                                                 .metric = t.s[F_METRIC],
                                                 .conversation_id = t.u[F_CONVERSATION_ID],
                                                 .buyer_id = t.u[F_BUYER_ID],
                                                 .agent_id = t.u[F_AGENT_ID],
                                                 .round_start_ms = t.i[F_ROUND_START_MS],
                                                 .answered = !nulls,
                                                 .reply_ms = t.i[F_REPLY_MS],
                                                 .wait_ms = t.i[F_WAIT_MS],
                                                 .messages = (uint32_t)t.i[F_MESSAGES],
                                                 .reason = reason,
                                                 .final = (int)t.i[F_FINAL],
                                                 .version = t.s[F_VERSION]};
        return 0;
    }
    case RR_RECORD_JSON_ALERT:
        out->alert = (rr_alert_record_t){.shop_id = t.u[F_SHOP_ID],
                                         .day = (int32_t)t.i[F_DAY],
                                         .rule = t.s[F_RULE],
                                         .value = t.value,
                                         .final = (int)t.i[F_FINAL],
                                         .version = t.s[F_VERSION]};
        return 0;
    case RR_RECORD_JSON_LATE:
    case RR_RECORD_JSON_INVALID:
        out->rejected = (rr_rejected_record_t){
            .verdict = out->kind == RR_RECORD_JSON_LATE ? RR_LATE : RR_INVALID,
            .reason = t.s[F_REASON],
            .source = t.s[F_SOURCE],
            .partition = (int32_t)t.i[F_PARTITION],
            .offset = t.i[F_OFFSET],
            .raw = t.null & B(F_RAW_HEX) ? NULL : t.raw,
            .raw_len = t.null & B(F_RAW_HEX) ? 0 : t.raw_len,
            .decoded = !(t.null & B(F_EVENT)),
            .event = t.ev,
            .watermark_ms = t.null & B(F_WATERMARK_MS) ? INT64_MIN : t.i[F_WATERMARK_MS]};
        return 0;
    case RR_RECORD_JSON_KINDS:
        break;
    }
    return -1;
}
