/* codec/record_pb.c: result records as protobuf, written by hand in
 * protobuf-c's byte order (codec/record_pb.h says which rules and why).
 *
 * A length-delimited field (a sub-message, the packed buckets, the
 * ResultRecord and its delimiter) is written with a one-byte length
 * placeholder in front of its body; when the body turns out longer than 127
 * bytes it is moved up to make room for the longer varint, as protobuf-c's
 * own prefixed_message_pack does. Short bodies, the usual case, cost no
 * second pass. */
#include "codec/record_pb.h"

#include <string.h>

#include "codec/encode.h"
#include "codec/records.h"
#include "codec/wbuf.h"

enum { WT_VARINT = 0, WT_64BIT = 1, WT_LEN = 2 };

/* ResultRecord's oneof members */
enum {
    RESULT_SHOP_DAY = 1,
    RESULT_AGENT_DAY = 2,
    RESULT_VIOLATION = 3,
    RESULT_ALERT = 4,
    RESULT_REJECTED = 5
};

/* Every field number here is below 16: a tag is one byte. */
static void put_tag(rr_wbuf_t *w, unsigned field, unsigned wire_type)
{
    rr_wbuf_putc(w, (char)(field << 3 | wire_type));
}

static size_t varint_size(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static void put_varint(rr_wbuf_t *w, uint64_t v)
{
    if (rr_wbuf_room(w, 10)) {
        w->len += rr_encode_varint(v, w->p + w->len);
    } else { /* near the end of the room: what fits, counted whole */
        uint8_t tmp[10];
        rr_wbuf_put(w, tmp, rr_encode_varint(v, tmp));
    }
}

/* proto3 scalars: left out when zero. int64 and uint64 are the same varint;
 * int32 and enums are sign-extended to 64 bits first. */
static void put_u64(rr_wbuf_t *w, unsigned field, uint64_t v)
{
    if (v == 0) return;
    put_tag(w, field, WT_VARINT);
    put_varint(w, v);
}

static void put_i32(rr_wbuf_t *w, unsigned field, int32_t v)
{
    put_u64(w, field, (uint64_t)(int64_t)v);
}

static void put_bool(rr_wbuf_t *w, unsigned field, int b)
{
    if (!b) return;
    put_tag(w, field, WT_VARINT);
    rr_wbuf_putc(w, 1);
}

static void put_bytes(rr_wbuf_t *w, unsigned field, const void *p, size_t n)
{
    if (n == 0) return;
    put_tag(w, field, WT_LEN);
    put_varint(w, n);
    rr_wbuf_put(w, p, n);
}

static void put_str(rr_wbuf_t *w, unsigned field, const char *s)
{
    if (s) put_bytes(w, field, s, strlen(s));
}

static void put_double(rr_wbuf_t *w, unsigned field, double v)
{
    if (v == 0) /* protobuf-c's test: -0.0 is left out too */
        return;
    uint8_t le[8];
    uint64_t bits;
    memcpy(&bits, &v, 8);
    for (int i = 0; i < 8; i++)
        le[i] = (uint8_t)(bits >> (8 * i));
    put_tag(w, field, WT_64BIT);
    rr_wbuf_put(w, le, 8);
}

/* Start a length-prefixed body: returns where its length goes. */
static size_t open_len(rr_wbuf_t *w)
{
    size_t at = w->len;
    rr_wbuf_skip(w, 1);
    return at;
}

/* End the body opened at `at`: write its length there, moving the body up
 * when the length takes more than one byte. */
static void close_len(rr_wbuf_t *w, size_t at)
{
    size_t body = w->len - at - 1;
    size_t k = varint_size(body);
    if (k > 1) {
        size_t end = w->len;
        rr_wbuf_skip(w, k - 1);
        if (w->len <= w->cap) /* everything fitted, and fits moved up */
            memmove(w->p + at + k, w->p + at + 1, end - at - 1);
    }
    if (w->len <= w->cap) rr_encode_varint(body, w->p + at);
}

static size_t open_field(rr_wbuf_t *w, unsigned field)
{
    put_tag(w, field, WT_LEN);
    return open_len(w);
}

/* The ResultRecord frame around a record's message, if delimited. */
typedef struct frame {
    size_t outer, inner;
} frame_t;

static frame_t begin(rr_wbuf_t *w, rr_record_pb_form_t form, unsigned member)
{
    frame_t f = {0, 0};
    if (form == RR_RECORD_PB_DELIMITED) {
        f.outer = open_len(w);
        f.inner = open_field(w, member);
    }
    return f;
}

static size_t end(rr_wbuf_t *w, rr_record_pb_form_t form, frame_t f)
{
    if (form == RR_RECORD_PB_DELIMITED) {
        close_len(w, f.inner);
        close_len(w, f.outer);
    }
    return w->len;
}

/* MetricValue: name 1, num 2, den 3, unanswered 4, buckets 5 (packed). */
static void put_metric(rr_wbuf_t *w, unsigned field, const rr_day_record_t *r, size_t i)
{
    const rr_value_t *v = &r->values[i];
    size_t at = open_field(w, field);
    put_str(w, 1, r->cfg->metrics[i].name);
    put_u64(w, 2, (uint64_t)v->num);
    put_u64(w, 3, (uint64_t)v->den);
    if (rr_records_metric_has_buckets(r, i)) {
        put_u64(w, 4, (uint64_t)v->unanswered);
        size_t b = open_field(w, 5);
        for (int k = 0; k < RR_BUCKETS; k++)
            put_varint(w, (uint64_t)v->buckets[k]);
        close_len(w, b);
    }
    close_len(w, at);
}

size_t rr_record_pb_day(uint8_t *buf, size_t cap, const rr_day_record_t *r,
                        rr_record_pb_form_t form)
{
    rr_wbuf_t w = rr_wbuf_make(buf, cap);
    /* ShopDay: shop_id 1, day 2, final 3, version 4, metrics 5, revision 6;
     * AgentDay: shop_id 1, agent_id 2, then the same one number up. */
    unsigned up = r->is_agent ? 1 : 0;
    frame_t f = begin(&w, form, r->is_agent ? RESULT_AGENT_DAY : RESULT_SHOP_DAY);
    put_u64(&w, 1, r->shop_id);
    if (r->is_agent) put_u64(&w, 2, r->agent_id);
    put_u64(&w, 2 + up, (uint32_t)r->day);
    put_bool(&w, 3 + up, r->final != 0);
    put_str(&w, 4 + up, r->version);
    size_t n = rr_records_n_metrics(r);
    for (size_t i = 0; i < n; i++)
        if (rr_records_metric_shown(r, i)) put_metric(&w, 5 + up, r, i);
    put_u64(&w, 6 + up, r->final ? 0 : r->revision);
    return end(&w, form, f);
}

size_t rr_record_pb_violation(uint8_t *buf, size_t cap, const rr_violation_record_t *r,
                              rr_record_pb_form_t form)
{
    rr_wbuf_t w = rr_wbuf_make(buf, cap);
    frame_t f = begin(&w, form, RESULT_VIOLATION);
    put_u64(&w, 1, r->shop_id);
    put_u64(&w, 2, (uint32_t)r->day);
    put_str(&w, 3, r->metric);
    put_u64(&w, 4, r->conversation_id);
    put_u64(&w, 5, r->buyer_id);
    put_u64(&w, 6, r->agent_id);
    put_u64(&w, 7, (uint64_t)r->round_start_ms);
    if (r->answered) {
        put_u64(&w, 8, (uint64_t)r->reply_ms);
        put_u64(&w, 9, (uint64_t)r->wait_ms);
    }
    put_u64(&w, 10, r->messages);
    int32_t reason = 0; /* Violation.Reason: the engine's numbers, 0 for any other */
    if (r->reason == RR_REASON_LATE || r->reason == RR_REASON_NO_REPLY ||
        r->reason == RR_REASON_UNASSIGNED)
        reason = (int32_t)r->reason;
    put_i32(&w, 11, reason);
    put_bool(&w, 12, r->final != 0);
    put_str(&w, 13, r->version);
    put_bool(&w, 14, r->answered != 0);
    return end(&w, form, f);
}

size_t rr_record_pb_alert(uint8_t *buf, size_t cap, const rr_alert_record_t *r,
                          rr_record_pb_form_t form)
{
    rr_wbuf_t w = rr_wbuf_make(buf, cap);
    frame_t f = begin(&w, form, RESULT_ALERT);
    put_u64(&w, 1, r->shop_id);
    put_u64(&w, 2, (uint32_t)r->day);
    put_str(&w, 3, r->rule);
    put_double(&w, 4, r->value);
    put_bool(&w, 5, r->final != 0);
    put_str(&w, 6, r->version);
    return end(&w, form, f);
}

size_t rr_record_pb_rejected(uint8_t *buf, size_t cap, const rr_rejected_record_t *r,
                             rr_record_pb_form_t form)
{
    rr_wbuf_t w = rr_wbuf_make(buf, cap);
    frame_t f = begin(&w, form, RESULT_REJECTED);
    put_i32(&w, 1, r->verdict == RR_LATE ? 1 : 2); /* Kind LATE, INVALID */
    put_str(&w, 2, r->reason);
    put_str(&w, 3, r->source);
    put_i32(&w, 4, r->partition);
    put_u64(&w, 5, (uint64_t)r->offset);
    if (r->raw) put_bytes(&w, 6, r->raw, r->raw_len);
    if (r->decoded) { /* present even when every field is 0 */
        uint8_t ev[RR_EVENT_MAX_BYTES];
        size_t n = rr_encode_event(&r->event, ev);
        put_tag(&w, 7, WT_LEN);
        put_varint(&w, n);
        rr_wbuf_put(&w, ev, n);
    }
    put_u64(&w, 8, (uint64_t)r->watermark_ms);
    return end(&w, form, f);
}
