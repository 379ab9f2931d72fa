/* io/output.c: SPEC §6 records to JSON Lines, CSV or delimited protobuf.
 *
 * Every record is rendered into o->buf (grown geometrically, never shrunk) and
 * handed to the file sink in one write, so the sink sees whole records only
 * and nothing is allocated per record once the buffer has reached its working
 * size. Integers are formatted by hand (two digits per division); printf is
 * used only for the rare alert value. docs/output.md describes every form.
 */
#include "io/output.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "io/filesink.h"
#include "replyrate/v1/results.pb-c.h"

enum csv_layout { CSV_NONE = 0, CSV_RESULTS, CSV_REJECTED };

struct rr_output {
    rr_format_t fmt;
    rr_filesink_t *fs;
    char *path;      /* owned copy, for messages */
    char *buf;       /* the record being built */
    size_t len, cap;
    uint64_t records;
    int failed;      /* sticky: the first error stops every later write */
    int sink_failed; /* ... and it was the file sink's: its close names the cause */
    char err[256];
    enum csv_layout layout; /* CSV: fixed by the first record */
    rr_pb_hook_t hook;      /* set: records go to it as ResultRecords, no file */
    void *hook_arg;
    rr_sink_t fmt_sink;                  /* the form's callbacks, behind the counting ones */
    uint64_t by_kind[RR_OUTPUT_KINDS]; /* records written, by kind */
};

/* ---------------------------------------------------------------- buffer */

static void set_error(rr_output_t *o, const char *what)
{
    if (o->failed)
        return;
    o->failed = 1;
    snprintf(o->err, sizeof o->err, "%s: %s", o->path ? o->path : "output", what);
}

/* Make room for n more bytes. 0, or -1 once the output has failed. */
static int reserve(rr_output_t *o, size_t n)
{
    if (o->failed)
        return -1;
    if (o->cap - o->len >= n)
        return 0;
    size_t cap = o->cap ? o->cap : 4096;
    while (cap - o->len < n) {
        if (cap > SIZE_MAX / 2) {
            set_error(o, "record too large");
            return -1;
        }
        cap *= 2;
    }
    char *p = realloc(o->buf, cap);
    if (!p) {
        set_error(o, "out of memory");
        return -1;
    }
    o->buf = p;
    o->cap = cap;
    return 0;
}

static void put(rr_output_t *o, const char *s, size_t n)
{
    if (reserve(o, n))
        return;
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

#define PUT_LIT(o, lit) put((o), (lit), sizeof(lit) - 1)

static void put_c(rr_output_t *o, char c)
{
    if (reserve(o, 1))
        return;
    o->buf[o->len++] = c;
}

static const char DIGITS2[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

/* Decimal digits of v at p (at most 20); returns the count. */
static size_t fmt_u64(char *p, uint64_t v)
{
    char tmp[20];
    char *end = tmp + sizeof tmp, *s = end;
    while (v >= 100) {
        unsigned r = (unsigned)(v % 100);
        v /= 100;
        s -= 2;
        memcpy(s, DIGITS2 + 2 * r, 2);
    }
    if (v >= 10) {
        s -= 2;
        memcpy(s, DIGITS2 + 2 * v, 2);
    } else {
        *--s = (char)('0' + v);
    }
    size_t n = (size_t)(end - s);
    memcpy(p, s, n);
    return n;
}

static void put_u64(rr_output_t *o, uint64_t v)
{
    if (reserve(o, 20))
        return;
    o->len += fmt_u64(o->buf + o->len, v);
}

static void put_i64(rr_output_t *o, int64_t v)
{
    if (reserve(o, 21))
        return;
    if (v < 0) {
        o->buf[o->len++] = '-';
        o->len += fmt_u64(o->buf + o->len, (uint64_t)0 - (uint64_t)v);
    } else {
        o->len += fmt_u64(o->buf + o->len, (uint64_t)v);
    }
}

static void put_hex(rr_output_t *o, const uint8_t *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    if (n > (SIZE_MAX - 1) / 2) {
        set_error(o, "record too large");
        return;
    }
    if (reserve(o, 2 * n))
        return;
    char *d = o->buf + o->len;
    for (size_t i = 0; i < n; i++) {
        d[2 * i] = hex[p[i] >> 4];
        d[2 * i + 1] = hex[p[i] & 15];
    }
    o->len += 2 * n;
}

/* Shortest "%.{15,16,17}g" that reads back as v, always with a '.' or an
 * exponent so readers see a float ("0.0", not "0"). Not finite: "" (the
 * caller writes null / an empty cell). */
static size_t fmt_double(char *p, size_t size, double v)
{
    if (!isfinite(v)) {
        p[0] = '\0';
        return 0;
    }
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(p, size, "%.*g", prec, v);
        for (int i = 0; i < n; i++) /* a decimal-comma locale must not leak into JSON */
            if (p[i] == ',')
                p[i] = '.';
        if (strtod(p, NULL) == v)
            break;
    }
    if (n > 0 && (size_t)n + 2 < size && !strpbrk(p, ".eE")) {
        memcpy(p + n, ".0", 3);
        n += 2;
    }
    return n > 0 ? (size_t)n : 0;
}

/* Emit the buffered record as one write; count it. */
static void finish(rr_output_t *o)
{
    if (o->failed) {
        o->len = 0;
        return;
    }
    if (rr_filesink_write(o->fs, o->buf, o->len) != 0) {
        set_error(o, "write failed");
        o->sink_failed = 1;
    }
    else
        o->records++;
    o->len = 0;
}

/* ------------------------------------------------------------ shared bits */

static const char *reason_name(rr_reason_t r)
{
    switch (r) {
    case RR_REASON_LATE: return "late";
    case RR_REASON_NO_REPLY: return "no_reply";
    case RR_REASON_UNASSIGNED: return "unassigned";
    }
    return "unspecified";
}

/* A type is shown by name when valid (1..10), else as its number: SPEC §7
 * calls anything else invalid, and 0 is "missing", not a type. */
static const char *event_type_name(uint32_t t)
{
    return t >= 1 && t <= 10 ? rr_event_type_name(t) : NULL;
}

/* SPEC §6: a metric is shown when its den or unanswered is non-zero; an
 * agent_day shows per-agent kinds only. */
static int metric_included(const rr_day_record_t *r, size_t i)
{
    const rr_value_t *v = &r->values[i];
    if (v->den == 0 && v->unanswered == 0)
        return 0;
    return !r->is_agent || rr_metric_kind_per_agent(r->cfg->metrics[i].kind);
}

static size_t n_metrics(const rr_day_record_t *r)
{
    if (!r->cfg || !r->values)
        return 0;
    return r->cfg->n_metrics < RR_MAX_METRICS ? r->cfg->n_metrics : RR_MAX_METRICS;
}

static const char *str_or_empty(const char *s)
{
    return s ? s : "";
}

/* ------------------------------------------------------------ JSON Lines */

/* A JSON string with its quotes. Control characters are escaped; bytes that
 * are not valid UTF-8 become U+FFFD, so every line is valid JSON whatever a
 * file name or reason holds. */
static void put_jstr(rr_output_t *o, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)str_or_empty(s);
    size_t n = strlen((const char *)p);
    if (n > (SIZE_MAX - 2) / 6) {
        set_error(o, "record too large");
        return;
    }
    if (reserve(o, 6 * n + 2)) /* worst case: every byte as \u00XX */
        return;
    char *d = o->buf + o->len;
    *d++ = '"';
    size_t i = 0;
    while (i < n) {
        unsigned c = p[i];
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            *d++ = (char)c;
            i++;
            continue;
        }
        if (c < 0x80) {
            *d++ = '\\';
            switch (c) {
            case '"': *d++ = '"'; break;
            case '\\': *d++ = '\\'; break;
            case '\n': *d++ = 'n'; break;
            case '\r': *d++ = 'r'; break;
            case '\t': *d++ = 't'; break;
            case '\b': *d++ = 'b'; break;
            case '\f': *d++ = 'f'; break;
            default:
                *d++ = 'u';
                *d++ = '0';
                *d++ = '0';
                *d++ = hex[c >> 4];
                *d++ = hex[c & 15];
            }
            i++;
            continue;
        }
        /* Multi-byte UTF-8: copy a well-formed sequence (RFC 3629 table),
         * replace a bad lead or continuation byte by U+FFFD. */
        size_t len = c >= 0xF5 ? 0 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
        unsigned lo = 0x80, hi = 0xBF; /* the second byte's range */
        if (c == 0xE0)
            lo = 0xA0; /* no overlong 3-byte forms */
        else if (c == 0xED)
            hi = 0x9F; /* no UTF-16 surrogates */
        else if (c == 0xF0)
            lo = 0x90; /* no overlong 4-byte forms */
        else if (c == 0xF4)
            hi = 0x8F; /* nothing above U+10FFFF */
        int ok = len > 0 && i + len <= n && p[i + 1] >= lo && p[i + 1] <= hi;
        for (size_t k = 2; ok && k < len; k++)
            ok = p[i + k] >= 0x80 && p[i + k] <= 0xBF;
        if (ok) {
            memcpy(d, p + i, len);
            d += len;
            i += len;
        } else {
            memcpy(d, "\xEF\xBF\xBD", 3);
            d += 3;
            i++;
        }
    }
    *d++ = '"';
    o->len = (size_t)(d - o->buf);
}

static void put_jbool(rr_output_t *o, int b)
{
    if (b)
        PUT_LIT(o, "true");
    else
        PUT_LIT(o, "false");
}

static void json_day(void *opaque, const rr_day_record_t *r)
{
    rr_output_t *o = opaque;
    if (o->failed)
        return;
    if (r->is_agent) {
        PUT_LIT(o, "{\"type\":\"agent_day\",\"shop_id\":");
        put_u64(o, r->shop_id);
        PUT_LIT(o, ",\"agent_id\":");
        put_u64(o, r->agent_id);
    } else {
        PUT_LIT(o, "{\"type\":\"shop_day\",\"shop_id\":");
        put_u64(o, r->shop_id);
    }
    PUT_LIT(o, ",\"day\":");
    put_i64(o, r->day);
    PUT_LIT(o, ",\"final\":");
    put_jbool(o, r->final);
    PUT_LIT(o, ",\"version\":");
    put_jstr(o, r->version);
    if (!r->final) {
        PUT_LIT(o, ",\"revision\":");
        put_u64(o, r->revision);
    }
    PUT_LIT(o, ",\"metrics\":{");
    int first = 1;
    size_t n = n_metrics(r);
    for (size_t i = 0; i < n; i++) {
        if (!metric_included(r, i))
            continue;
        const rr_value_t *v = &r->values[i];
        if (!first)
            put_c(o, ',');
        first = 0;
        put_jstr(o, r->cfg->metrics[i].name);
        PUT_LIT(o, ":{\"num\":");
        put_i64(o, v->num);
        PUT_LIT(o, ",\"den\":");
        put_i64(o, v->den);
        if (r->cfg->metrics[i].kind == RR_KIND_RESPONSE_TIME) {
            PUT_LIT(o, ",\"unanswered\":");
            put_i64(o, v->unanswered);
            PUT_LIT(o, ",\"buckets\":[");
            for (int b = 0; b < RR_BUCKETS; b++) {
                if (b)
                    put_c(o, ',');
                put_i64(o, v->buckets[b]);
            }
            put_c(o, ']');
        }
        put_c(o, '}');
    }
    PUT_LIT(o, "}}\n");
    finish(o);
}

static void json_violation(void *opaque, const rr_violation_record_t *r)
{
    rr_output_t *o = opaque;
    if (o->failed)
        return;
    PUT_LIT(o, "{\"type\":\"violation\",\"shop_id\":");
    put_u64(o, r->shop_id);
    PUT_LIT(o, ",\"day\":");
    put_i64(o, r->day);
    PUT_LIT(o, ",\"metric\":");
    put_jstr(o, r->metric);
    PUT_LIT(o, ",\"conversation_id\":");
    put_u64(o, r->conversation_id);
    PUT_LIT(o, ",\"buyer_id\":");
    put_u64(o, r->buyer_id);
    PUT_LIT(o, ",\"agent_id\":");
    put_u64(o, r->agent_id);
    PUT_LIT(o, ",\"round_start_ms\":");
    put_i64(o, r->round_start_ms);
    if (r->answered) {
        PUT_LIT(o, ",\"reply_ms\":");
        put_i64(o, r->reply_ms);
        PUT_LIT(o, ",\"wait_ms\":");
        put_i64(o, r->wait_ms);
    } else {
        PUT_LIT(o, ",\"reply_ms\":null,\"wait_ms\":null");
    }
    PUT_LIT(o, ",\"messages\":");
    put_u64(o, r->messages);
    PUT_LIT(o, ",\"reason\":\"");
    const char *reason = reason_name(r->reason);
    put(o, reason, strlen(reason));
    PUT_LIT(o, "\",\"final\":");
    put_jbool(o, r->final);
    PUT_LIT(o, ",\"version\":");
    put_jstr(o, r->version);
    PUT_LIT(o, "}\n");
    finish(o);
}

static void json_alert(void *opaque, const rr_alert_record_t *r)
{
    rr_output_t *o = opaque;
    if (o->failed)
        return;
    char num[40];
    size_t n = fmt_double(num, sizeof num, r->value);
    PUT_LIT(o, "{\"type\":\"alert\",\"shop_id\":");
    put_u64(o, r->shop_id);
    PUT_LIT(o, ",\"day\":");
    put_i64(o, r->day);
    PUT_LIT(o, ",\"rule\":");
    put_jstr(o, r->rule);
    PUT_LIT(o, ",\"value\":");
    if (n)
        put(o, num, n);
    else
        PUT_LIT(o, "null");
    PUT_LIT(o, ",\"final\":");
    put_jbool(o, r->final);
    PUT_LIT(o, ",\"version\":");
    put_jstr(o, r->version);
    PUT_LIT(o, "}\n");
    finish(o);
}

static void json_rejected(void *opaque, const rr_rejected_record_t *r)
{
    rr_output_t *o = opaque;
    if (o->failed)
        return;
    if (r->verdict == RR_LATE)
        PUT_LIT(o, "{\"type\":\"late\",\"reason\":");
    else
        PUT_LIT(o, "{\"type\":\"invalid\",\"reason\":");
    put_jstr(o, r->reason);
    PUT_LIT(o, ",\"source\":");
    put_jstr(o, r->source);
    PUT_LIT(o, ",\"partition\":");
    put_i64(o, r->partition);
    PUT_LIT(o, ",\"offset\":");
    put_i64(o, r->offset);
    PUT_LIT(o, ",\"watermark_ms\":");
    if (r->watermark_ms == INT64_MIN) /* nothing applied on the partition yet */
        PUT_LIT(o, "null");
    else
        put_i64(o, r->watermark_ms);
    if (r->decoded) {
        const rr_event_t *e = &r->event;
        PUT_LIT(o, ",\"event\":{\"event_id\":");
        put_u64(o, e->event_id);
        PUT_LIT(o, ",\"shop_id\":");
        put_u64(o, e->shop_id);
        PUT_LIT(o, ",\"conversation_id\":");
        put_u64(o, e->conversation_id);
        PUT_LIT(o, ",\"buyer_id\":");
        put_u64(o, e->buyer_id);
        PUT_LIT(o, ",\"agent_id\":");
        put_u64(o, e->agent_id);
        PUT_LIT(o, ",\"ts_ms\":");
        put_i64(o, e->ts_ms);
        PUT_LIT(o, ",\"type\":");
        const char *tn = event_type_name(e->type);
        if (tn) {
            put_c(o, '"');
            put(o, tn, strlen(tn));
            put_c(o, '"');
        } else {
            put_u64(o, e->type);
        }
        PUT_LIT(o, ",\"content\":");
        put_u64(o, e->content);
        PUT_LIT(o, ",\"rating\":");
        put_u64(o, e->rating);
        PUT_LIT(o, ",\"flags\":");
        put_u64(o, e->flags);
        put_c(o, '}');
    } else {
        PUT_LIT(o, ",\"event\":null");
    }
    if (r->raw) {
        PUT_LIT(o, ",\"raw_hex\":\"");
        put_hex(o, r->raw, r->raw_len);
        PUT_LIT(o, "\"}\n");
    } else {
        PUT_LIT(o, ",\"raw_hex\":null}\n");
    }
    finish(o);
}

/* ------------------------------------------------------------------- CSV */

static const char CSV_RESULTS_HEADER[] =
    "type,shop_id,agent_id,day,final,version,metric,num,den,unanswered,"
    "b0,b1,b2,b3,b4,b5,b6,b7,conversation_id,buyer_id,round_start_ms,reply_ms,wait_ms,"
    "messages,reason,rule,value\n";

static const char CSV_REJECTED_HEADER[] =
    "type,reason,source,partition,offset,watermark_ms,event_id,shop_id,conversation_id,"
    "buyer_id,agent_id,ts_ms,event_type,content,rating,flags,raw_hex\n";

/* A CSV field, quoted (RFC 4180) only when it holds , " CR or LF. */
static void put_cstr(rr_output_t *o, const char *s)
{
    s = str_or_empty(s);
    size_t n = strlen(s);
    if (!strpbrk(s, ",\"\r\n")) {
        put(o, s, n);
        return;
    }
    if (n > (SIZE_MAX - 2) / 2) {
        set_error(o, "record too large");
        return;
    }
    if (reserve(o, 2 * n + 2))
        return;
    char *d = o->buf + o->len;
    *d++ = '"';
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            *d++ = '"';
        *d++ = s[i];
    }
    *d++ = '"';
    o->len = (size_t)(d - o->buf);
}

/* The first record fixes the file's layout and writes its header; a file
 * gets results or rejected events, never both (their columns differ). */
static int csv_layout(rr_output_t *o, enum csv_layout want)
{
    if (o->layout == want)
        return 0;
    if (o->layout != CSV_NONE) {
        set_error(o, want == CSV_REJECTED
                    ? "a CSV results file cannot also hold late/invalid events; give them a file of their own"
                    : "a CSV file of late/invalid events cannot also hold results; give them a file of their own");
        return -1;
    }
    o->layout = want;
    if (want == CSV_RESULTS)
        PUT_LIT(o, CSV_RESULTS_HEADER);
    else
        PUT_LIT(o, CSV_REJECTED_HEADER);
    return o->failed ? -1 : 0;
}

/* Columns type..version of a results row. */
static void csv_head(rr_output_t *o, const char *type, size_t type_len, uint64_t shop_id,
                     int has_agent, uint64_t agent_id, int32_t day, int final, const char *version)
{
    put(o, type, type_len);
    put_c(o, ',');
    put_u64(o, shop_id);
    put_c(o, ',');
    if (has_agent)
        put_u64(o, agent_id);
    put_c(o, ',');
    put_i64(o, day);
    if (final)
        PUT_LIT(o, ",true,");
    else
        PUT_LIT(o, ",false,");
    put_cstr(o, version);
    put_c(o, ',');
}

static void csv_day(void *opaque, const rr_day_record_t *r)
{
    rr_output_t *o = opaque;
    if (o->failed || csv_layout(o, CSV_RESULTS))
        return;
    /* One row per shown metric (long format); the columns up to version are
     * the same on every row, so render them once and copy. */
    size_t start = o->len;
    if (r->is_agent)
        csv_head(o, "agent_day", 9, r->shop_id, 1, r->agent_id, r->day, r->final, r->version);
    else
        csv_head(o, "shop_day", 8, r->shop_id, 0, 0, r->day, r->final, r->version);
    size_t head_len = o->len - start;
    int rows = 0;
    size_t n = n_metrics(r);
    for (size_t i = 0; i < n && !o->failed; i++) {
        if (!metric_included(r, i))
            continue;
        const rr_value_t *v = &r->values[i];
        if (rows++ > 0) {
            if (reserve(o, head_len))
                break;
            memcpy(o->buf + o->len, o->buf + start, head_len);
            o->len += head_len;
        }
        put_cstr(o, r->cfg->metrics[i].name);
        put_c(o, ',');
        put_i64(o, v->num);
        put_c(o, ',');
        put_i64(o, v->den);
        put_c(o, ',');
        if (r->cfg->metrics[i].kind == RR_KIND_RESPONSE_TIME) {
            put_i64(o, v->unanswered);
            for (int b = 0; b < RR_BUCKETS; b++) {
                put_c(o, ',');
                put_i64(o, v->buckets[b]);
            }
        } else {
            PUT_LIT(o, ",,,,,,,,");
        }
        /* conversation_id .. value do not apply */
        PUT_LIT(o, ",,,,,,,,,\n");
    }
    if (rows == 0) /* a day with nothing to show still records the shop (or agent) was active */
        PUT_LIT(o, ",,,,,,,,,,,,,,,,,,,,\n");
    finish(o);
}

static void csv_violation(void *opaque, const rr_violation_record_t *r)
{
    rr_output_t *o = opaque;
    if (o->failed || csv_layout(o, CSV_RESULTS))
        return;
    csv_head(o, "violation", 9, r->shop_id, 1, r->agent_id, r->day, r->final, r->version);
    put_cstr(o, r->metric);
    PUT_LIT(o, ",,,,,,,,,,,,"); /* num .. b7 */
    put_u64(o, r->conversation_id);
    put_c(o, ',');
    put_u64(o, r->buyer_id);
    put_c(o, ',');
    put_i64(o, r->round_start_ms);
    put_c(o, ',');
    if (r->answered)
        put_i64(o, r->reply_ms);
    put_c(o, ',');
    if (r->answered)
        put_i64(o, r->wait_ms);
    put_c(o, ',');
    put_u64(o, r->messages);
    put_c(o, ',');
    const char *reason = reason_name(r->reason);
    put(o, reason, strlen(reason));
    PUT_LIT(o, ",,\n");
    finish(o);
}

static void csv_alert(void *opaque, const rr_alert_record_t *r)
{
    rr_output_t *o = opaque;
    if (o->failed || csv_layout(o, CSV_RESULTS))
        return;
    char num[40];
    size_t n = fmt_double(num, sizeof num, r->value);
    csv_head(o, "alert", 5, r->shop_id, 0, 0, r->day, r->final, r->version);
    PUT_LIT(o, ",,,,,,,,,,,,,,,,,,,"); /* metric .. reason: 19 empty cells */
    put_cstr(o, r->rule);
    put_c(o, ',');
    put(o, num, n);
    put_c(o, '\n');
    finish(o);
}

static void csv_rejected(void *opaque, const rr_rejected_record_t *r)
{
    rr_output_t *o = opaque;
    if (o->failed || csv_layout(o, CSV_REJECTED))
        return;
    if (r->verdict == RR_LATE)
        PUT_LIT(o, "late,");
    else
        PUT_LIT(o, "invalid,");
    put_cstr(o, r->reason);
    put_c(o, ',');
    put_cstr(o, r->source);
    put_c(o, ',');
    put_i64(o, r->partition);
    put_c(o, ',');
    put_i64(o, r->offset);
    put_c(o, ',');
    if (r->watermark_ms != INT64_MIN) /* empty cell: nothing applied on the partition yet */
        put_i64(o, r->watermark_ms);
    put_c(o, ',');
    if (r->decoded) {
        const rr_event_t *e = &r->event;
        put_u64(o, e->event_id);
        put_c(o, ',');
        put_u64(o, e->shop_id);
        put_c(o, ',');
        put_u64(o, e->conversation_id);
        put_c(o, ',');
        put_u64(o, e->buyer_id);
        put_c(o, ',');
        put_u64(o, e->agent_id);
        put_c(o, ',');
        put_i64(o, e->ts_ms);
        put_c(o, ',');
        const char *tn = event_type_name(e->type);
        if (tn)
            put(o, tn, strlen(tn));
        else
            put_u64(o, e->type);
        put_c(o, ',');
        put_u64(o, e->content);
        put_c(o, ',');
        put_u64(o, e->rating);
        put_c(o, ',');
        put_u64(o, e->flags);
        put_c(o, ',');
    } else {
        PUT_LIT(o, ",,,,,,,,,,");
    }
    if (r->raw)
        put_hex(o, r->raw, r->raw_len);
    put_c(o, '\n');
    finish(o);
}

/* ------------------------------------------------------ delimited protobuf */

/* protobuf-c's message structs hold non-const pointers; packing only reads
 * them, so borrowing the record's const data is safe. */
static char *pb_str(const char *s)
{
    return (char *)(uintptr_t)str_or_empty(s);
}

/* Pack rec behind its varint length into the buffer and write it. */
static void pb_emit(rr_output_t *o, const Replyrate__V1__ResultRecord *rec)
{
    if (o->hook) {
        o->hook(o->hook_arg, rec);
        o->records++;
        return;
    }
    size_t n = replyrate__v1__result_record__get_packed_size(rec);
    if (reserve(o, n + 10))
        return;
    uint8_t *d = (uint8_t *)o->buf;
    size_t k = 0;
    uint64_t v = n;
    while (v >= 0x80) {
        d[k++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    d[k++] = (uint8_t)v;
    size_t w = replyrate__v1__result_record__pack(rec, d + k);
    if (w != n) {
        set_error(o, "protobuf pack size mismatch");
        return;
    }
    o->len = k + w;
    finish(o);
}

static void pb_day(void *opaque, const rr_day_record_t *r)
{
    rr_output_t *o = opaque;
    if (o->failed)
        return;
    Replyrate__V1__MetricValue mv[RR_MAX_METRICS];
    Replyrate__V1__MetricValue *mvp[RR_MAX_METRICS];
    size_t k = 0, n = n_metrics(r);
    for (size_t i = 0; i < n; i++) {
        if (!metric_included(r, i))
            continue;
        const rr_value_t *v = &r->values[i];
        replyrate__v1__metric_value__init(&mv[k]);
        mv[k].name = pb_str(r->cfg->metrics[i].name);
        mv[k].num = v->num;
        mv[k].den = v->den;
        if (r->cfg->metrics[i].kind == RR_KIND_RESPONSE_TIME) {
            mv[k].unanswered = v->unanswered;
            mv[k].n_buckets = RR_BUCKETS;
            mv[k].buckets = (int64_t *)(uintptr_t)v->buckets;
        }
        mvp[k] = &mv[k];
        k++;
    }
    Replyrate__V1__ResultRecord rec = REPLYRATE__V1__RESULT_RECORD__INIT;
    Replyrate__V1__ShopDay sd = REPLYRATE__V1__SHOP_DAY__INIT;
    Replyrate__V1__AgentDay ad = REPLYRATE__V1__AGENT_DAY__INIT;
    if (r->is_agent) {
        ad.shop_id = r->shop_id;
        ad.agent_id = r->agent_id;
        ad.day = (uint32_t)r->day;
        ad.final = r->final != 0;
        ad.version = pb_str(r->version);
        ad.n_metrics = k;
        ad.metrics = k ? mvp : NULL;
        ad.revision = r->final ? 0 : r->revision;
        rec.record_case = REPLYRATE__V1__RESULT_RECORD__RECORD_AGENT_DAY;
        rec.agent_day = &ad;
    } else {
        sd.shop_id = r->shop_id;
        sd.day = (uint32_t)r->day;
        sd.final = r->final != 0;
        sd.version = pb_str(r->version);
        sd.n_metrics = k;
        sd.metrics = k ? mvp : NULL;
        sd.revision = r->final ? 0 : r->revision;
        rec.record_case = REPLYRATE__V1__RESULT_RECORD__RECORD_SHOP_DAY;
        rec.shop_day = &sd;
    }
    pb_emit(o, &rec);
}

static void pb_violation(void *opaque, const rr_violation_record_t *r)
{
    rr_output_t *o = opaque;
    if (o->failed)
        return;
    Replyrate__V1__Violation v = REPLYRATE__V1__VIOLATION__INIT;
    v.shop_id = r->shop_id;
    v.day = (uint32_t)r->day;
    v.metric = pb_str(r->metric);
    v.conversation_id = r->conversation_id;
    v.buyer_id = r->buyer_id;
    v.agent_id = r->agent_id;
    v.round_start_ms = r->round_start_ms;
    v.answered = r->answered != 0;
    if (r->answered) {
        v.reply_ms = r->reply_ms;
        v.wait_ms = r->wait_ms;
    }
    v.messages = r->messages;
    switch (r->reason) {
    case RR_REASON_LATE: v.reason = REPLYRATE__V1__VIOLATION__REASON__LATE; break;
    case RR_REASON_NO_REPLY: v.reason = REPLYRATE__V1__VIOLATION__REASON__NO_REPLY; break;
    case RR_REASON_UNASSIGNED: v.reason = REPLYRATE__V1__VIOLATION__REASON__UNASSIGNED; break;
    default: v.reason = REPLYRATE__V1__VIOLATION__REASON__REASON_UNSPECIFIED; break;
    }
    v.final = r->final != 0;
    v.version = pb_str(r->version);
    Replyrate__V1__ResultRecord rec = REPLYRATE__V1__RESULT_RECORD__INIT;
    rec.record_case = REPLYRATE__V1__RESULT_RECORD__RECORD_VIOLATION;
    rec.violation = &v;
    pb_emit(o, &rec);
}

static void pb_alert(void *opaque, const rr_alert_record_t *r)
{
    rr_output_t *o = opaque;
    if (o->failed)
        return;
    Replyrate__V1__Alert a = REPLYRATE__V1__ALERT__INIT;
    a.shop_id = r->shop_id;
    a.day = (uint32_t)r->day;
    a.rule = pb_str(r->rule);
    a.value = r->value;
    a.final = r->final != 0;
    a.version = pb_str(r->version);
    Replyrate__V1__ResultRecord rec = REPLYRATE__V1__RESULT_RECORD__INIT;
    rec.record_case = REPLYRATE__V1__RESULT_RECORD__RECORD_ALERT;
    rec.alert = &a;
    pb_emit(o, &rec);
}

static void pb_rejected(void *opaque, const rr_rejected_record_t *r)
{
    rr_output_t *o = opaque;
    if (o->failed)
        return;
    Replyrate__V1__RejectedEvent x = REPLYRATE__V1__REJECTED_EVENT__INIT;
    Replyrate__V1__ChatEvent ev = REPLYRATE__V1__CHAT_EVENT__INIT;
    x.kind = r->verdict == RR_LATE ? REPLYRATE__V1__REJECTED_EVENT__KIND__LATE
                                   : REPLYRATE__V1__REJECTED_EVENT__KIND__INVALID;
    x.reason = pb_str(r->reason);
    x.source = pb_str(r->source);
    x.partition = r->partition;
    x.offset = r->offset;
    if (r->raw) {
        x.raw.len = r->raw_len;
        x.raw.data = (uint8_t *)(uintptr_t)r->raw;
    }
    if (r->decoded) {
        const rr_event_t *e = &r->event;
        ev.event_id = e->event_id;
        ev.shop_id = e->shop_id;
        ev.conversation_id = e->conversation_id;
        ev.buyer_id = e->buyer_id;
        ev.agent_id = e->agent_id;
        ev.ts_ms = e->ts_ms;
        ev.type = (Replyrate__V1__EventType)(int32_t)e->type; /* open enum: any value round-trips */
        ev.content = e->content;
        ev.rating = e->rating;
        ev.flags = e->flags;
        x.event = &ev;
    }
    x.watermark_ms = r->watermark_ms;
    Replyrate__V1__ResultRecord rec = REPLYRATE__V1__RESULT_RECORD__INIT;
    rec.record_case = REPLYRATE__V1__RESULT_RECORD__RECORD_REJECTED;
    rec.rejected = &x;
    pb_emit(o, &rec);
}

/* ------------------------------------------------------------ public API */

int rr_format_from_path(const char *path, rr_format_t *fmt, char *errstr, size_t errstr_size)
{
    if (path && strcmp(path, "-") == 0) {
        *fmt = RR_FMT_JSONL;
        return 0;
    }
    const char *p = path ? path : "";
    const char *base = strrchr(p, '/');
    base = base ? base + 1 : p;
    size_t n = strlen(base);
    if (n > 4 && strcasecmp(base + n - 4, ".zst") == 0)
        n -= 4;
    /* The extension of base[0..n): from its last '.', not counting a leading
     * dot of a hidden file's name. */
    size_t dot = n;
    while (dot > 0 && base[dot - 1] != '.')
        dot--;
    if (dot > 1) {
        const char *ext = base + dot;
        size_t elen = n - dot;
        if ((elen == 5 && strncasecmp(ext, "jsonl", 5) == 0) ||
            (elen == 4 && strncasecmp(ext, "json", 4) == 0)) {
            *fmt = RR_FMT_JSONL;
            return 0;
        }
        if (elen == 3 && strncasecmp(ext, "csv", 3) == 0) {
            *fmt = RR_FMT_CSV;
            return 0;
        }
        if (elen == 2 && strncasecmp(ext, "pb", 2) == 0) {
            *fmt = RR_FMT_PB;
            return 0;
        }
    }
    snprintf(errstr, errstr_size,
             "output '%s': unknown file extension; use .jsonl, .json, .csv or .pb, "
             "optionally followed by .zst, or - for JSON Lines on stdout",
             p);
    return -1;
}

int rr_output_open(const char *path, rr_output_t **out, char *errstr, size_t errstr_size)
{
    rr_format_t fmt;
    *out = NULL;
    if (rr_format_from_path(path, &fmt, errstr, errstr_size))
        return -1;
    rr_output_t *o = calloc(1, sizeof *o);
    if (!o)
        goto oom;
    o->fmt = fmt;
    o->path = strdup(path);
    if (!o->path)
        goto oom;
    if (rr_filesink_open(path, 0, &o->fs, errstr, errstr_size))
        goto fail;
    *out = o;
    return 0;
oom:
    snprintf(errstr, errstr_size, "output '%s': out of memory", path);
fail:
    if (o)
        free(o->path);
    free(o);
    return -1;
}

/* The callbacks rr_output_sink hands out: the form's own, then the count
 * of what it wrote by kind (the manifest's "records by type"). */
static void count_day(void *opaque, const rr_day_record_t *r)
{
    rr_output_t *o = opaque;
    uint64_t before = o->records;
    o->fmt_sink.day(o, r);
    o->by_kind[r->is_agent ? RR_OUTPUT_AGENT_DAY : RR_OUTPUT_SHOP_DAY] += o->records - before;
}

static void count_violation(void *opaque, const rr_violation_record_t *r)
{
    rr_output_t *o = opaque;
    uint64_t before = o->records;
    o->fmt_sink.violation(o, r);
    o->by_kind[RR_OUTPUT_VIOLATION] += o->records - before;
}

static void count_alert(void *opaque, const rr_alert_record_t *r)
{
    rr_output_t *o = opaque;
    uint64_t before = o->records;
    o->fmt_sink.alert(o, r);
    o->by_kind[RR_OUTPUT_ALERT] += o->records - before;
}

static void count_rejected(void *opaque, const rr_rejected_record_t *r)
{
    rr_output_t *o = opaque;
    uint64_t before = o->records;
    o->fmt_sink.rejected(o, r);
    o->by_kind[r->verdict == RR_LATE ? RR_OUTPUT_LATE : RR_OUTPUT_INVALID] += o->records - before;
}

void rr_output_sink(rr_output_t *o, rr_sink_t *sink)
{
    rr_sink_t *f = &o->fmt_sink;
    f->opaque = o;
    switch (o->fmt) {
    case RR_FMT_CSV:
        f->day = csv_day;
        f->violation = csv_violation;
        f->alert = csv_alert;
        f->rejected = csv_rejected;
        break;
    case RR_FMT_PB:
        f->day = pb_day;
        f->violation = pb_violation;
        f->alert = pb_alert;
        f->rejected = pb_rejected;
        break;
    case RR_FMT_JSONL:
    default:
        f->day = json_day;
        f->violation = json_violation;
        f->alert = json_alert;
        f->rejected = json_rejected;
        break;
    }
    *sink = (rr_sink_t){.opaque = o,
                        .day = count_day,
                        .violation = count_violation,
                        .alert = count_alert,
                        .rejected = count_rejected};
}

int rr_output_open_hook(rr_pb_hook_t hook, void *arg, rr_output_t **out)
{
    rr_output_t *o = calloc(1, sizeof *o);
    if (!o)
        return -1;
    o->fmt = RR_FMT_PB;
    o->hook = hook;
    o->hook_arg = arg;
    *out = o;
    return 0;
}

uint64_t rr_output_records(const rr_output_t *o)
{
    return o ? o->records : 0;
}

uint64_t rr_output_records_of(const rr_output_t *o, rr_output_kind_t kind)
{
    return o && kind >= 0 && kind < RR_OUTPUT_KINDS ? o->by_kind[kind] : 0;
}

const char *rr_output_kind_name(rr_output_kind_t kind)
{
    static const char *const names[RR_OUTPUT_KINDS] = {"shop_day", "agent_day", "violation",
                                                       "alert",    "late",      "invalid"};
    return kind >= 0 && kind < RR_OUTPUT_KINDS ? names[kind] : "?";
}

const char *rr_format_name(rr_format_t fmt)
{
    return fmt == RR_FMT_CSV ? "csv" : fmt == RR_FMT_PB ? "pb" : "jsonl";
}

rr_format_t rr_output_format(const rr_output_t *o)
{
    return o->fmt;
}

int rr_output_compressed(const rr_output_t *o)
{
    return o->fs && rr_filesink_compressed(o->fs);
}

uint64_t rr_output_bytes(const rr_output_t *o)
{
    return o->fs ? rr_filesink_bytes_out(o->fs) : 0;
}

/* The error to report after the file sink returned rc (its message in
 * cerr): the output's own first error, unless it was the sink's and the
 * sink says more. 0 or -1. */
static int report(const rr_output_t *o, int rc, const char *cerr, char *errstr, size_t errstr_size)
{
    if (o->failed && !(o->sink_failed && rc && cerr[0])) {
        snprintf(errstr, errstr_size, "%s", o->err);
        return -1;
    }
    if (rc) { /* the sink's own message names the path and the cause */
        if (cerr[0])
            snprintf(errstr, errstr_size, "%s", cerr);
        else
            snprintf(errstr, errstr_size, "%s: close failed", o->path);
        return -1;
    }
    return 0;
}

int rr_output_finish(rr_output_t *o, char *errstr, size_t errstr_size)
{
    char cerr[256] = "";
    int rc = o->hook ? 0 : rr_filesink_finish(o->fs, cerr, sizeof cerr);
    return report(o, rc, cerr, errstr, errstr_size);
}

int rr_output_sha256(rr_output_t *o, uint8_t digest[32], char *errstr, size_t errstr_size)
{
    if (o->hook)
        return 1;
    return rr_filesink_sha256(o->fs, digest, errstr, errstr_size);
}

void rr_output_abort(rr_output_t *o)
{
    if (!o)
        return;
    rr_filesink_abort(o->fs);
    free(o->buf);
    free(o->path);
    free(o);
}

int rr_output_close(rr_output_t *o, char *errstr, size_t errstr_size)
{
    if (!o)
        return 0;
    char cerr[256] = "";
    /* A failed output is never published. When its file sink failed, the
     * sink's close discards the file and says why; when the output itself
     * did (a record it could not render), the sink is sound and would publish
     * a file missing records: abort it. */
    int rc = 0;
    if (o->failed && !o->sink_failed)
        rr_filesink_abort(o->fs);
    else if (!o->hook)
        rc = rr_filesink_close(o->fs, cerr, sizeof cerr);
    rc = report(o, rc, cerr, errstr, errstr_size);
    free(o->buf);
    free(o->path);
    free(o);
    return rc;
}
