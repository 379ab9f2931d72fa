/* codec/record_csv.c: result records as CSV rows. */
#include "codec/record_csv.h"

#include <string.h>

#include "codec/records.h"
#include "codec/wbuf.h"

static const char RESULTS_HEADER[] =
    "type,shop_id,agent_id,day,final,version,metric,num,den,unanswered,"
    "b0,b1,b2,b3,b4,b5,b6,b7,conversation_id,buyer_id,round_start_ms,reply_ms,wait_ms,"
    "messages,reason,rule,value\n";

static const char REJECTED_HEADER[] =
    "type,reason,source,partition,offset,watermark_ms,event_id,shop_id,conversation_id,"
    "buyer_id,agent_id,ts_ms,event_type,content,rating,flags,raw_hex\n";

const char *rr_record_csv_header(rr_record_csv_layout_t layout, size_t *len)
{
    if (layout == RR_RECORD_CSV_REJECTED) {
        *len = sizeof REJECTED_HEADER - 1;
        return REJECTED_HEADER;
    }
    *len = sizeof RESULTS_HEADER - 1;
    return RESULTS_HEADER;
}

/* A field (NULL: empty), quoted only when it holds , " CR or LF. */
void rr_record_csv_str(rr_wbuf_t *w, const char *s)
{
    s = s ? s : "";
    size_t n = strlen(s);
    if (!strpbrk(s, ",\"\r\n")) {
        rr_wbuf_put(w, s, n);
        return;
    }
    rr_wbuf_putc(w, '"');
    for (;;) {
        const char *q = strchr(s, '"');
        if (!q) {
            rr_wbuf_put(w, s, strlen(s));
            break;
        }
        rr_wbuf_put(w, s, (size_t)(q - s) + 1);
        rr_wbuf_putc(w, '"'); /* the quote doubled */
        s = q + 1;
    }
    rr_wbuf_putc(w, '"');
}

/* Columns type..version of a results row, and the comma after them. */
static void put_head(rr_wbuf_t *w, const char *type, size_t type_len, uint64_t shop_id,
                     int has_agent, uint64_t agent_id, int32_t day, int final, const char *version)
{
    rr_wbuf_put(w, type, type_len);
    rr_wbuf_putc(w, ',');
    rr_wbuf_u64(w, shop_id);
    rr_wbuf_putc(w, ',');
    if (has_agent) rr_wbuf_u64(w, agent_id);
    rr_wbuf_putc(w, ',');
    rr_wbuf_i64(w, day);
    if (final)
        RR_WBUF_LIT(w, ",true,");
    else
        RR_WBUF_LIT(w, ",false,");
    rr_record_csv_str(w, version);
    rr_wbuf_putc(w, ',');
}

size_t rr_record_csv_day(char *buf, size_t cap, const rr_day_record_t *r)
{
    rr_wbuf_t w = rr_wbuf_make(buf, cap);
    /* One row per shown metric (long format); the columns up to version are
     * the same on every row, so render them once and copy. */
    if (r->is_agent)
        put_head(&w, "agent_day", 9, r->shop_id, 1, r->agent_id, r->day, r->final, r->version);
    else
        put_head(&w, "shop_day", 8, r->shop_id, 0, 0, r->day, r->final, r->version);
    size_t head_len = w.len;
    int rows = 0;
    size_t n = rr_records_n_metrics(r);
    for (size_t i = 0; i < n; i++) {
        if (!rr_records_metric_shown(r, i)) continue;
        const rr_value_t *v = &r->values[i];
        if (rows++ > 0) {
            if (rr_wbuf_room(&w, head_len)) /* the head is whole in buf when there is room */
                memcpy(w.p + w.len, w.p, head_len);
            rr_wbuf_skip(&w, head_len);
        }
        rr_record_csv_str(&w, r->cfg->metrics[i].name);
        rr_wbuf_putc(&w, ',');
        rr_wbuf_i64(&w, v->num);
        rr_wbuf_putc(&w, ',');
        rr_wbuf_i64(&w, v->den);
        rr_wbuf_putc(&w, ',');
        if (rr_records_metric_has_buckets(r, i)) {
            rr_wbuf_i64(&w, v->unanswered);
            for (int b = 0; b < RR_BUCKETS; b++) {
                rr_wbuf_putc(&w, ',');
                rr_wbuf_i64(&w, v->buckets[b]);
            }
        } else {
            RR_WBUF_LIT(&w, ",,,,,,,,");
        }
        /* conversation_id .. value do not apply */
        RR_WBUF_LIT(&w, ",,,,,,,,,\n");
    }
    if (rows == 0) /* a day with nothing to show still records the shop (or agent) was active */
        RR_WBUF_LIT(&w, ",,,,,,,,,,,,,,,,,,,,\n");
    return w.len;
}

size_t rr_record_csv_violation(char *buf, size_t cap, const rr_violation_record_t *r)
{
    rr_wbuf_t w = rr_wbuf_make(buf, cap);
    put_head(&w, "violation", 9, r->shop_id, 1, r->agent_id, r->day, r->final, r->version);
    rr_record_csv_str(&w, r->metric);
    RR_WBUF_LIT(&w, ",,,,,,,,,,,,"); /* num .. b7 */
    rr_wbuf_u64(&w, r->conversation_id);
    rr_wbuf_putc(&w, ',');
    rr_wbuf_u64(&w, r->buyer_id);
    rr_wbuf_putc(&w, ',');
    rr_wbuf_i64(&w, r->round_start_ms);
    rr_wbuf_putc(&w, ',');
    if (r->answered) rr_wbuf_i64(&w, r->reply_ms);
    rr_wbuf_putc(&w, ',');
    if (r->answered) rr_wbuf_i64(&w, r->wait_ms);
    rr_wbuf_putc(&w, ',');
    rr_wbuf_u64(&w, r->messages);
    rr_wbuf_putc(&w, ',');
    const char *reason = rr_records_reason_name(r->reason);
    rr_wbuf_put(&w, reason, strlen(reason));
    RR_WBUF_LIT(&w, ",,\n");
    return w.len;
}

size_t rr_record_csv_alert(char *buf, size_t cap, const rr_alert_record_t *r)
{
    rr_wbuf_t w = rr_wbuf_make(buf, cap);
    char num[RR_RECORDS_DOUBLE_MAX];
    size_t n = rr_records_fmt_double(num, r->value);
    put_head(&w, "alert", 5, r->shop_id, 0, 0, r->day, r->final, r->version);
    RR_WBUF_LIT(&w, ",,,,,,,,,,,,,,,,,,,"); /* metric .. reason: 19 empty cells */
    rr_record_csv_str(&w, r->rule);
    rr_wbuf_putc(&w, ',');
    rr_wbuf_put(&w, num, n);
    rr_wbuf_putc(&w, '\n');
    return w.len;
}

size_t rr_record_csv_rejected(char *buf, size_t cap, const rr_rejected_record_t *r)
{
    rr_wbuf_t w = rr_wbuf_make(buf, cap);
    if (r->verdict == RR_LATE)
        RR_WBUF_LIT(&w, "late,");
    else
        RR_WBUF_LIT(&w, "invalid,");
    rr_record_csv_str(&w, r->reason);
    rr_wbuf_putc(&w, ',');
    rr_record_csv_str(&w, r->source);
    rr_wbuf_putc(&w, ',');
    rr_wbuf_i64(&w, r->partition);
    rr_wbuf_putc(&w, ',');
    rr_wbuf_i64(&w, r->offset);
    rr_wbuf_putc(&w, ',');
    if (r->watermark_ms != INT64_MIN) /* empty cell: nothing applied on the partition yet */
        rr_wbuf_i64(&w, r->watermark_ms);
    rr_wbuf_putc(&w, ',');
    if (r->decoded) {
        const rr_event_t *e = &r->event;
        rr_wbuf_u64(&w, e->event_id);
        rr_wbuf_putc(&w, ',');
        rr_wbuf_u64(&w, e->shop_id);
        rr_wbuf_putc(&w, ',');
        rr_wbuf_u64(&w, e->conversation_id);
        rr_wbuf_putc(&w, ',');
        rr_wbuf_u64(&w, e->buyer_id);
        rr_wbuf_putc(&w, ',');
        rr_wbuf_u64(&w, e->agent_id);
        rr_wbuf_putc(&w, ',');
        rr_wbuf_i64(&w, e->ts_ms);
        rr_wbuf_putc(&w, ',');
        const char *tn = rr_records_event_type_name(e->type);
        if (tn)
            rr_wbuf_put(&w, tn, strlen(tn));
        else
            rr_wbuf_u64(&w, e->type);
        rr_wbuf_putc(&w, ',');
        rr_wbuf_u64(&w, e->content);
        rr_wbuf_putc(&w, ',');
        rr_wbuf_u64(&w, e->rating);
        rr_wbuf_putc(&w, ',');
        rr_wbuf_u64(&w, e->flags);
        rr_wbuf_putc(&w, ',');
    } else {
        RR_WBUF_LIT(&w, ",,,,,,,,,,");
    }
    if (r->raw) rr_wbuf_hex(&w, r->raw, r->raw_len);
    rr_wbuf_putc(&w, '\n');
    return w.len;
}
