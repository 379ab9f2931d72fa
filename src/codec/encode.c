/* codec/encode.c: ChatEvent encoder (see encode.h). */
#include "codec/encode.h"

static inline uint8_t *put_varint(uint8_t *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

/* Tag byte of field n (1..15) with wire type 0 (varint). */
#define TAG(n) ((uint8_t)((n) << 3))

size_t rr_encode_varint(uint64_t v, uint8_t *buf)
{
    return (size_t)(put_varint(buf, v) - buf);
}

size_t rr_encode_event(const rr_event_t *ev, uint8_t *buf)
{
    uint8_t *p = buf;
    if (ev->event_id) {
        *p++ = TAG(1);
        p = put_varint(p, ev->event_id);
    }
    if (ev->shop_id) {
        *p++ = TAG(2);
        p = put_varint(p, ev->shop_id);
    }
    if (ev->conversation_id) {
        *p++ = TAG(3);
        p = put_varint(p, ev->conversation_id);
    }
    if (ev->buyer_id) {
        *p++ = TAG(4);
        p = put_varint(p, ev->buyer_id);
    }
    if (ev->agent_id) {
        *p++ = TAG(5);
        p = put_varint(p, ev->agent_id);
    }
    if (ev->ts_ms) {
        /* int64: a negative value is its 64-bit two's complement (10 bytes). */
        *p++ = TAG(6);
        p = put_varint(p, (uint64_t)ev->ts_ms);
    }
    if (ev->type) {
        /* protobuf-c packs an enum as int32: values >= 2^31 are negative and
         * sign-extended to 64 bits. Done in unsigned arithmetic to stay
         * clear of implementation-defined conversions. */
        uint64_t v = ev->type;
        if (v & 0x80000000u) v |= UINT64_C(0xffffffff00000000);
        *p++ = TAG(7);
        p = put_varint(p, v);
    }
    if (ev->content) {
        *p++ = TAG(8);
        p = put_varint(p, ev->content);
    }
    if (ev->rating) {
        *p++ = TAG(9);
        p = put_varint(p, ev->rating);
    }
    if (ev->flags) {
        *p++ = TAG(10);
        p = put_varint(p, ev->flags);
    }
    return (size_t)(p - buf);
}

size_t rr_encode_event_delimited(const rr_event_t *ev, uint8_t *buf)
{
    /* The body never exceeds 127 bytes, so the prefix is one byte. */
    size_t n = rr_encode_event(ev, buf + 1);
    buf[0] = (uint8_t)n;
    return n + 1;
}
