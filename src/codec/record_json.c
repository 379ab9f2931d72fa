/* codec/record_json.c: result records as JSON Lines. Integers are formatted
 * by hand (codec/wbuf.h); printf only for the rare alert value. */
#include "codec/record_json.h"

#include <string.h>

#include "codec/records.h"
#include "codec/wbuf.h"

/* A JSON string with its quotes (NULL: ""). Runs of plain ASCII are copied
 * whole; control characters are escaped; a well-formed UTF-8 sequence
 * (RFC 3629 table) is copied, a bad lead or continuation byte becomes U+FFFD. */
void rr_record_json_str(rr_wbuf_t *w, const char *str)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)(str ? str : "");
    size_t n = strlen((const char *)p);
    rr_wbuf_putc(w, '"');
    size_t i = 0;
    while (i < n) {
        size_t run = i;
        while (run < n && p[run] >= 0x20 && p[run] < 0x80 && p[run] != '"' && p[run] != '\\')
            run++;
        if (run > i) {
            rr_wbuf_put(w, p + i, run - i);
            i = run;
            continue;
        }
        unsigned c = p[i];
        if (c < 0x80) {
            char e[6] = {'\\', 0, 0, 0, 0, 0};
            size_t k = 2;
            switch (c) {
            case '"':
                e[1] = '"';
                break;
            case '\\':
                e[1] = '\\';
                break;
            case '\n':
                e[1] = 'n';
                break;
            case '\r':
                e[1] = 'r';
                break;
            case '\t':
                e[1] = 't';
                break;
            case '\b':
                e[1] = 'b';
                break;
            case '\f':
                e[1] = 'f';
                break;
            default:
                e[1] = 'u';
                e[2] = '0';
                e[3] = '0';
                e[4] = hex[c >> 4];
                e[5] = hex[c & 15];
                k = 6;
            }
            rr_wbuf_put(w, e, k);
            i++;
            continue;
        }
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
            rr_wbuf_put(w, p + i, len);
            i += len;
        } else {
            RR_WBUF_LIT(w, "\xEF\xBF\xBD");
            i++;
        }
    }
    rr_wbuf_putc(w, '"');
}

static void put_bool(rr_wbuf_t *w, int b)
{
    if (b)
        RR_WBUF_LIT(w, "true");
    else
        RR_WBUF_LIT(w, "false");
}

size_t rr_record_json_day(char *buf, size_t cap, const rr_day_record_t *r)
{
    rr_wbuf_t w = rr_wbuf_make(buf, cap);
    if (r->is_agent) {
        RR_WBUF_LIT(&w, "{\"type\":\"agent_day\",\"shop_id\":");
        rr_wbuf_u64(&w, r->shop_id);
        RR_WBUF_LIT(&w, ",\"agent_id\":");
        rr_wbuf_u64(&w, r->agent_id);
    } else {
        RR_WBUF_LIT(&w, "{\"type\":\"shop_day\",\"shop_id\":");
        rr_wbuf_u64(&w, r->shop_id);
    }
    RR_WBUF_LIT(&w, ",\"day\":");
    rr_wbuf_i64(&w, r->day);
    RR_WBUF_LIT(&w, ",\"final\":");
    put_bool(&w, r->final);
    RR_WBUF_LIT(&w, ",\"version\":");
    rr_record_json_str(&w, r->version);
    if (!r->final) {
        RR_WBUF_LIT(&w, ",\"revision\":");
        rr_wbuf_u64(&w, r->revision);
    }
    RR_WBUF_LIT(&w, ",\"metrics\":{");
    int first = 1;
    size_t n = rr_records_n_metrics(r);
    for (size_t i = 0; i < n; i++) {
        if (!rr_records_metric_shown(r, i)) continue;
        const rr_value_t *v = &r->values[i];
        if (!first) rr_wbuf_putc(&w, ',');
        first = 0;
        rr_record_json_str(&w, r->cfg->metrics[i].name);
        RR_WBUF_LIT(&w, ":{\"num\":");
        rr_wbuf_i64(&w, v->num);
        RR_WBUF_LIT(&w, ",\"den\":");
        rr_wbuf_i64(&w, v->den);
        if (rr_records_metric_has_buckets(r, i)) {
            RR_WBUF_LIT(&w, ",\"unanswered\":");
            rr_wbuf_i64(&w, v->unanswered);
            RR_WBUF_LIT(&w, ",\"buckets\":[");
            for (int b = 0; b < RR_BUCKETS; b++) {
                if (b) rr_wbuf_putc(&w, ',');
                rr_wbuf_i64(&w, v->buckets[b]);
            }
            rr_wbuf_putc(&w, ']');
        }
        rr_wbuf_putc(&w, '}');
    }
    RR_WBUF_LIT(&w, "}}\n");
    return w.len;
}

size_t rr_record_json_violation(char *buf, size_t cap, const rr_violation_record_t *r)
{
    rr_wbuf_t w = rr_wbuf_make(buf, cap);
    RR_WBUF_LIT(&w, "{\"type\":\"violation\",\"shop_id\":");
    rr_wbuf_u64(&w, r->shop_id);
    RR_WBUF_LIT(&w, ",\"day\":");
    rr_wbuf_i64(&w, r->day);
    RR_WBUF_LIT(&w, ",\"metric\":");
    rr_record_json_str(&w, r->metric);
    RR_WBUF_LIT(&w, ",\"conversation_id\":");
    rr_wbuf_u64(&w, r->conversation_id);
    RR_WBUF_LIT(&w, ",\"buyer_id\":");
    rr_wbuf_u64(&w, r->buyer_id);
    RR_WBUF_LIT(&w, ",\"agent_id\":");
    rr_wbuf_u64(&w, r->agent_id);
    RR_WBUF_LIT(&w, ",\"round_start_ms\":");
    rr_wbuf_i64(&w, r->round_start_ms);
    if (r->answered) {
        RR_WBUF_LIT(&w, ",\"reply_ms\":");
        rr_wbuf_i64(&w, r->reply_ms);
        RR_WBUF_LIT(&w, ",\"wait_ms\":");
        rr_wbuf_i64(&w, r->wait_ms);
    } else {
        RR_WBUF_LIT(&w, ",\"reply_ms\":null,\"wait_ms\":null");
    }
    RR_WBUF_LIT(&w, ",\"messages\":");
    rr_wbuf_u64(&w, r->messages);
    RR_WBUF_LIT(&w, ",\"reason\":\"");
    const char *reason = rr_records_reason_name(r->reason);
    rr_wbuf_put(&w, reason, strlen(reason));
    RR_WBUF_LIT(&w, "\",\"final\":");
    put_bool(&w, r->final);
    RR_WBUF_LIT(&w, ",\"version\":");
    rr_record_json_str(&w, r->version);
    RR_WBUF_LIT(&w, "}\n");
    return w.len;
}

size_t rr_record_json_alert(char *buf, size_t cap, const rr_alert_record_t *r)
{
    rr_wbuf_t w = rr_wbuf_make(buf, cap);
    char num[RR_RECORDS_DOUBLE_MAX];
    size_t n = rr_records_fmt_double(num, r->value);
    RR_WBUF_LIT(&w, "{\"type\":\"alert\",\"shop_id\":");
    rr_wbuf_u64(&w, r->shop_id);
    RR_WBUF_LIT(&w, ",\"day\":");
    rr_wbuf_i64(&w, r->day);
    RR_WBUF_LIT(&w, ",\"rule\":");
    rr_record_json_str(&w, r->rule);
    RR_WBUF_LIT(&w, ",\"value\":");
    if (n)
        rr_wbuf_put(&w, num, n);
    else
        RR_WBUF_LIT(&w, "null");
    RR_WBUF_LIT(&w, ",\"final\":");
    put_bool(&w, r->final);
    RR_WBUF_LIT(&w, ",\"version\":");
    rr_record_json_str(&w, r->version);
    RR_WBUF_LIT(&w, "}\n");
    return w.len;
}

size_t rr_record_json_rejected(char *buf, size_t cap, const rr_rejected_record_t *r)
{
    rr_wbuf_t w = rr_wbuf_make(buf, cap);
    if (r->verdict == RR_LATE)
        RR_WBUF_LIT(&w, "{\"type\":\"late\",\"reason\":");
    else
        RR_WBUF_LIT(&w, "{\"type\":\"invalid\",\"reason\":");
    rr_record_json_str(&w, r->reason);
    RR_WBUF_LIT(&w, ",\"source\":");
    rr_record_json_str(&w, r->source);
    RR_WBUF_LIT(&w, ",\"partition\":");
    rr_wbuf_i64(&w, r->partition);
    RR_WBUF_LIT(&w, ",\"offset\":");
    rr_wbuf_i64(&w, r->offset);
    RR_WBUF_LIT(&w, ",\"watermark_ms\":");
    if (r->watermark_ms == INT64_MIN) /* nothing applied on the partition yet */
        RR_WBUF_LIT(&w, "null");
    else
        rr_wbuf_i64(&w, r->watermark_ms);
    if (r->decoded) {
        const rr_event_t *e = &r->event;
        RR_WBUF_LIT(&w, ",\"event\":{\"event_id\":");
        rr_wbuf_u64(&w, e->event_id);
        RR_WBUF_LIT(&w, ",\"shop_id\":");
        rr_wbuf_u64(&w, e->shop_id);
        RR_WBUF_LIT(&w, ",\"conversation_id\":");
        rr_wbuf_u64(&w, e->conversation_id);
        RR_WBUF_LIT(&w, ",\"buyer_id\":");
        rr_wbuf_u64(&w, e->buyer_id);
        RR_WBUF_LIT(&w, ",\"agent_id\":");
        rr_wbuf_u64(&w, e->agent_id);
        RR_WBUF_LIT(&w, ",\"ts_ms\":");
        rr_wbuf_i64(&w, e->ts_ms);
        RR_WBUF_LIT(&w, ",\"type\":");
        const char *tn = rr_records_event_type_name(e->type);
        if (tn) {
            rr_wbuf_putc(&w, '"');
            rr_wbuf_put(&w, tn, strlen(tn));
            rr_wbuf_putc(&w, '"');
        } else {
            rr_wbuf_u64(&w, e->type);
        }
        RR_WBUF_LIT(&w, ",\"content\":");
        rr_wbuf_u64(&w, e->content);
        RR_WBUF_LIT(&w, ",\"rating\":");
        rr_wbuf_u64(&w, e->rating);
        RR_WBUF_LIT(&w, ",\"flags\":");
        rr_wbuf_u64(&w, e->flags);
        rr_wbuf_putc(&w, '}');
    } else {
        RR_WBUF_LIT(&w, ",\"event\":null");
    }
    if (r->raw) {
        RR_WBUF_LIT(&w, ",\"raw_hex\":\"");
        rr_wbuf_hex(&w, r->raw, r->raw_len);
        RR_WBUF_LIT(&w, "\"}\n");
    } else {
        RR_WBUF_LIT(&w, ",\"raw_hex\":null}\n");
    }
    return w.len;
}
