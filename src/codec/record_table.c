/* codec/record_table.c: result records as rows of the loader tables (see
 * record_table.h). One column writer serves the CSV header, CSV rows and
 * JSON rows, so a table's columns are listed once, in the row functions. */
#include "codec/record_table.h"

#include <stdio.h>
#include <string.h>

#include "codec/record_csv.h"
#include "codec/record_json.h"
#include "codec/records.h"
#include "codec/wbuf.h"
#include "engine/tz.h"

typedef enum mode { HEADER, CSV, JSON } mode_t_;

typedef struct row {
    rr_wbuf_t w;
    mode_t_ mode;
    int cols; /* columns written in this row */
} row_t;

/* The separator before the next column and, in a header, its name; in JSON
 * its key. Returns whether the column's value is to be written (not in a
 * header). */
static int col(row_t *r, const char *name, const char *suffix)
{
    char key[RR_NAME_MAX + 32];
    if (suffix && r->mode != CSV) { /* a CSV row writes no names */
        snprintf(key, sizeof key, "%s%s", name, suffix);
        name = key;
    }
    if (r->mode == JSON)
        rr_wbuf_putc(&r->w, r->cols ? ',' : '{');
    else if (r->cols)
        rr_wbuf_putc(&r->w, ',');
    r->cols++;
    if (r->mode == HEADER) {
        rr_record_csv_str(&r->w, name);
        return 0;
    }
    if (r->mode == JSON) {
        rr_record_json_str(&r->w, name);
        rr_wbuf_putc(&r->w, ':');
    }
    return 1;
}

static void end_row(row_t *r)
{
    if (r->mode == JSON)
        RR_WBUF_LIT(&r->w, "}\n");
    else
        rr_wbuf_putc(&r->w, '\n');
    r->cols = 0;
}

static void col_u64(row_t *r, const char *name, const char *suffix, uint64_t v)
{
    if (col(r, name, suffix)) rr_wbuf_u64(&r->w, v);
}

static void col_i64(row_t *r, const char *name, int64_t v)
{
    if (col(r, name, NULL)) rr_wbuf_i64(&r->w, v);
}

/* A value that does not apply: an empty cell, or null. */
static void col_null(row_t *r, const char *name)
{
    if (col(r, name, NULL) && r->mode == JSON) RR_WBUF_LIT(&r->w, "null");
}

static void col_bool(row_t *r, const char *name, int b)
{
    if (!col(r, name, NULL)) return;
    if (b)
        RR_WBUF_LIT(&r->w, "true");
    else
        RR_WBUF_LIT(&r->w, "false");
}

static void col_str(row_t *r, const char *name, const char *s)
{
    if (!col(r, name, NULL)) return;
    if (r->mode == JSON)
        rr_record_json_str(&r->w, s);
    else
        rr_record_csv_str(&r->w, s);
}

/* Text that needs no quoting (a date, a timestamp): a JSON string, or a
 * bare CSV cell. */
static void col_text(row_t *r, const char *name, const char *s, size_t n)
{
    if (!col(r, name, NULL)) return;
    if (r->mode == JSON) rr_wbuf_putc(&r->w, '"');
    rr_wbuf_put(&r->w, s, n);
    if (r->mode == JSON) rr_wbuf_putc(&r->w, '"');
}

/* YYYYMMDD as YYYY-MM-DD. */
static void col_day(row_t *r, const char *name, int32_t ymd)
{
    char s[32];
    int n = snprintf(s, sizeof s, "%04d-%02d-%02d", (int)(ymd / 10000), (int)(ymd / 100 % 100),
                     (int)(ymd % 100));
    col_text(r, name, s, (size_t)n);
}

/* Unix epoch ms as 2026-11-22T02:00:00.000Z. */
static void col_ts(row_t *r, const char *name, int64_t ms)
{
    int64_t days = ms / RR_DAY_MS, rem = ms % RR_DAY_MS;
    if (rem < 0) {
        rem += RR_DAY_MS;
        days--;
    }
    int64_t y;
    unsigned mo, d;
    rr_civil_from_days(days, &y, &mo, &d);
    char s[64];
    int n = snprintf(s, sizeof s, "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ", (long long)y, mo, d,
                     (int)(rem / 3600000), (int)(rem / 60000 % 60), (int)(rem / 1000 % 60),
                     (int)(rem % 1000));
    col_text(r, name, s, (size_t)n);
}

static row_t row_make(char *buf, size_t cap, int mode)
{
    return (row_t){.w = rr_wbuf_make(buf, cap), .mode = mode};
}

const char *rr_table_name(rr_table_t t)
{
    static const char *const names[RR_TABLES] = {
        "shop_day", "shop_day_metrics", "agent_day", "agent_day_metrics", "violations", "alerts"};
    return t >= 0 && t < RR_TABLES ? names[t] : "?";
}

static int is_agent_table(rr_table_t t)
{
    return t == RR_TABLE_AGENT_DAY || t == RR_TABLE_AGENT_DAY_METRICS;
}

/* The key columns of a day row: shop_id, [agent_id,] day. */
static void day_key(row_t *w, const rr_day_record_t *r)
{
    col_u64(w, "shop_id", NULL, r->shop_id);
    if (r->is_agent) col_u64(w, "agent_id", NULL, r->agent_id);
    col_day(w, "day", r->day);
}

static void day_tail(row_t *w, const rr_day_record_t *r)
{
    col_bool(w, "final", r->final);
    col_u64(w, "revision", NULL, r->final ? 0 : r->revision);
    col_str(w, "version", r->version);
}

/* The wide row: the key, then every metric of the configuration (per-agent
 * ones only in agent_day). */
static void wide_row(row_t *w, const rr_day_record_t *r)
{
    day_key(w, r);
    day_tail(w, r);
    size_t n = rr_records_n_metrics(r);
    for (size_t i = 0; i < n; i++) {
        const rr_metric_def_t *m = &r->cfg->metrics[i];
        if (r->is_agent && !rr_metric_kind_per_agent(m->kind)) continue;
        /* a metric not shown reads as zeros, as in every other form */
        static const rr_value_t zero;
        const rr_value_t *v = rr_records_metric_shown(r, i) ? &r->values[i] : &zero;
        col_u64(w, m->name, "_num", (uint64_t)v->num);
        col_u64(w, m->name, "_den", (uint64_t)v->den);
        if (rr_records_metric_has_buckets(r, i))
            col_u64(w, m->name, "_unanswered", (uint64_t)v->unanswered);
    }
    end_row(w);
}

/* One narrow row: metric i of r (in a header, the columns only). */
static void narrow_row(row_t *w, const rr_day_record_t *r, size_t i)
{
    static const char *const b[RR_BUCKETS] = {"b0", "b1", "b2", "b3", "b4", "b5", "b6", "b7"};
    day_key(w, r);
    const rr_value_t *v = w->mode == HEADER ? NULL : &r->values[i];
    col_str(w, "metric", v ? r->cfg->metrics[i].name : NULL);
    col_u64(w, "num", NULL, v ? (uint64_t)v->num : 0);
    col_u64(w, "den", NULL, v ? (uint64_t)v->den : 0);
    if (v && !rr_records_metric_has_buckets(r, i)) {
        col_null(w, "unanswered");
        for (int k = 0; k < RR_BUCKETS; k++)
            col_null(w, b[k]);
    } else {
        col_u64(w, "unanswered", NULL, v ? (uint64_t)v->unanswered : 0);
        for (int k = 0; k < RR_BUCKETS; k++)
            col_u64(w, b[k], NULL, v ? (uint64_t)v->buckets[k] : 0);
    }
    day_tail(w, r);
    end_row(w);
}

static void violation_row(row_t *w, const rr_violation_record_t *r)
{
    col_u64(w, "shop_id", NULL, r->shop_id);
    col_day(w, "day", r->day);
    col_str(w, "metric", r->metric);
    col_u64(w, "conversation_id", NULL, r->conversation_id);
    col_u64(w, "buyer_id", NULL, r->buyer_id);
    col_u64(w, "agent_id", NULL, r->agent_id);
    col_ts(w, "round_start", r->round_start_ms);
    if (r->answered) {
        col_ts(w, "reply_at", r->reply_ms);
        col_i64(w, "wait_ms", r->wait_ms);
    } else {
        col_null(w, "reply_at");
        col_null(w, "wait_ms");
    }
    col_u64(w, "messages", NULL, r->messages);
    col_str(w, "reason", rr_records_reason_name(r->reason));
    col_bool(w, "final", r->final);
    col_str(w, "version", r->version);
    end_row(w);
}

static void alert_row(row_t *w, const rr_alert_record_t *r)
{
    char num[RR_RECORDS_DOUBLE_MAX];
    size_t n = w->mode == HEADER ? 0 : rr_records_fmt_double(num, r->value);
    col_u64(w, "shop_id", NULL, r->shop_id);
    col_day(w, "day", r->day);
    col_str(w, "rule", r->rule);
    if (n) {
        if (col(w, "value", NULL)) rr_wbuf_put(&w->w, num, n);
    } else {
        col_null(w, "value");
    }
    col_bool(w, "final", r->final);
    col_str(w, "version", r->version);
    end_row(w);
}

size_t rr_record_table_header(char *buf, size_t cap, rr_table_t t, const rr_config_t *cfg)
{
    row_t w = row_make(buf, cap, HEADER);
    rr_value_t zero[RR_MAX_METRICS];
    memset(zero, 0, sizeof zero);
    rr_day_record_t d = {.is_agent = is_agent_table(t), .cfg = cfg, .values = zero};
    switch (t) {
    case RR_TABLE_SHOP_DAY:
    case RR_TABLE_AGENT_DAY:
        wide_row(&w, &d);
        break;
    case RR_TABLE_SHOP_DAY_METRICS:
    case RR_TABLE_AGENT_DAY_METRICS:
        narrow_row(&w, &d, 0);
        break;
    case RR_TABLE_VIOLATIONS:
        violation_row(&w, &(rr_violation_record_t){.answered = 1});
        break;
    case RR_TABLE_ALERTS:
        alert_row(&w, &(rr_alert_record_t){0});
        break;
    default:
        break;
    }
    return w.w.len;
}

size_t rr_record_table_day(char *buf, size_t cap, rr_table_t t, int json, const rr_day_record_t *r)
{
    row_t w = row_make(buf, cap, json ? JSON : CSV);
    if (is_agent_table(t) != (r->is_agent != 0)) return 0;
    if (t == RR_TABLE_SHOP_DAY || t == RR_TABLE_AGENT_DAY) {
        wide_row(&w, r);
    } else if (t == RR_TABLE_SHOP_DAY_METRICS || t == RR_TABLE_AGENT_DAY_METRICS) {
        size_t n = rr_records_n_metrics(r);
        for (size_t i = 0; i < n; i++)
            if (rr_records_metric_shown(r, i)) narrow_row(&w, r, i);
    }
    return w.w.len;
}

size_t rr_record_table_violation(char *buf, size_t cap, rr_table_t t, int json,
                                 const rr_violation_record_t *r)
{
    row_t w = row_make(buf, cap, json ? JSON : CSV);
    if (t == RR_TABLE_VIOLATIONS) violation_row(&w, r);
    return w.w.len;
}

size_t rr_record_table_alert(char *buf, size_t cap, rr_table_t t, int json,
                             const rr_alert_record_t *r)
{
    row_t w = row_make(buf, cap, json ? JSON : CSV);
    if (t == RR_TABLE_ALERTS) alert_row(&w, r);
    return w.w.len;
}
