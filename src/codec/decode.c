/* codec/decode.c: zero-allocation ChatEvent decoder and delimited framer.
 *
 * The decoder is a single pass over the message. protobuf-c scans every
 * field first and parses the values second, but every error either pass can
 * report is a rejection of the whole message, and the values it stores are
 * those of the last occurrence of each field, so one pass that fails fast
 * accepts and stores exactly the same (see decode.h for the list of
 * protobuf-c 1.4.1 behaviours reproduced here).
 *
 * Fast path: producers write fields 1..10 in order, each a one-byte tag and
 * a varint of 1..6 bytes (ids, ms timestamps). Values land in a small local
 * array indexed by field number, so the store is one indexed write with no
 * switch; uint32/enum fields take the low 32 bits at the end, which is what
 * protobuf-c's parse_uint32() yields for a varint of any length.
 */
#include "codec/decode.h"

#include <limits.h>
#include <string.h>

#if defined(__GNUC__)
#define RR_LIKELY(x) __builtin_expect(!!(x), 1)
#define RR_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define RR_LIKELY(x) (x)
#define RR_UNLIKELY(x) (x)
#endif

/* Highest field number of ChatEvent (SPEC §2); 1..RR_FIELD_MAX are known. */
#define RR_FIELD_MAX 10u

/* protobuf-c 1.4.1 scans members into 23 slabs of 16 << i entries
 * (MAX_SCANNED_MEMBER_SLAB = 32 - 1 - 5 - 4 = 22) and rejects the member
 * after the last one. Every member takes at least 2 bytes (tag + value), so
 * a message shorter than RR_MANY_FIELDS_BYTES can never get there and the
 * common path does not count. */
#define RR_PBC_MAX_FIELDS ((size_t)16 * ((((size_t)1) << 23) - 1))
#define RR_MANY_FIELDS_BYTES (2 * (RR_PBC_MAX_FIELDS + 1))

/* Varint of up to 10 bytes when at least 10 bytes are readable: no bounds
 * checks, unrolled. Each byte is added whole and its continuation bit taken
 * back off, modulo 2^64: bits above 63 are dropped, as protobuf-c's
 * parse_uint64() does (the 10th byte contributes only its lowest bit).
 * Returns the byte count, or 0 if the 10th byte still has its continuation
 * bit. */
static inline size_t varint_unchecked(const uint8_t *p, uint64_t *out)
{
    uint64_t v = 0, b;
#define RR_VARINT_STEP(i)                                                                          \
    b = p[i];                                                                                      \
    v += b << (7 * (i));                                                                           \
    if (RR_LIKELY(b < 0x80)) {                                                                     \
        *out = v;                                                                                  \
        return (i) + 1;                                                                            \
    }                                                                                              \
    v -= (uint64_t)0x80 << (7 * (i));
    RR_VARINT_STEP(0)
    RR_VARINT_STEP(1)
    RR_VARINT_STEP(2)
    RR_VARINT_STEP(3)
    RR_VARINT_STEP(4)
    RR_VARINT_STEP(5)
    RR_VARINT_STEP(6)
    RR_VARINT_STEP(7)
    RR_VARINT_STEP(8)
#undef RR_VARINT_STEP
    b = p[9];
    if (b >= 0x80) return 0;
    *out = v + (b << 63);
    return 10;
}

/* Varint near the end of the message: bounds-checked. Returns the byte
 * count, or 0 if unterminated within the bytes left (truncated). */
static inline size_t varint_checked(const uint8_t *p, size_t rem, uint64_t *out)
{
    uint64_t v = 0;
    for (size_t i = 0; i < rem; i++) {
        uint64_t b = p[i];
        v |= (b & 0x7f) << (7 * i);
        if (b < 0x80) {
            *out = v;
            return i + 1;
        }
    }
    return 0;
}

/* Skip one unknown field's value, or reject a known field's non-varint wire
 * type. Mirrors the scan switch of protobuf_c_message_unpack() and
 * scan_length_prefixed_data(). */
static int skip_value(const uint8_t **pp, const uint8_t *end, uint32_t tag, unsigned wt)
{
    const uint8_t *p = *pp;
    size_t rem = (size_t)(end - p);

    if (wt == 3 || wt == 4 || wt == 6 || wt == 7) return RR_DECODE_UNSUPPORTED_WIRE_TYPE;
    if (tag - 1u < RR_FIELD_MAX)
        return RR_DECODE_WRONG_WIRE_TYPE; /* every ChatEvent field is a varint */
    switch (wt) {
    case 1: /* 64-bit */
        if (rem < 8) return RR_DECODE_TRUNCATED;
        *pp = p + 8;
        return RR_DECODE_OK;
    case 5: /* 32-bit */
        if (rem < 4) return RR_DECODE_TRUNCATED;
        *pp = p + 4;
        return RR_DECODE_OK;
    default: { /* 2: length-delimited; a 5-byte prefix may carry 35 bits */
        size_t max = rem < 5 ? rem : 5;
        uint64_t n = 0;
        size_t i;
        for (i = 0; i < max; i++) {
            n |= (uint64_t)(p[i] & 0x7f) << (7 * i);
            if (p[i] < 0x80) break;
        }
        if (i == max) return rem < 5 ? RR_DECODE_TRUNCATED : RR_DECODE_LENGTH_TOO_LONG;
        if (n > (uint64_t)INT_MAX) return RR_DECODE_LENGTH_TOO_LARGE;
        if (n > rem - (i + 1)) return RR_DECODE_TRUNCATED;
        *pp = p + (i + 1) + (size_t)n;
        return RR_DECODE_OK;
    }
    }
}

/* The loop proper. count_fields is a compile-time constant at each call
 * site, so the common instance carries no counter. val[f] receives field f. */
static inline int decode_fields(const uint8_t *p, const uint8_t *end,
                                uint64_t val[RR_FIELD_MAX + 1], int count_fields)
{
    size_t nfields = 0;

    while (p < end) {
        uint32_t tag;
        unsigned wt;
        unsigned b0 = p[0];

        if (RR_LIKELY(b0 < 0x80)) {
            /* protobuf-c 1.4.1 rejects (data[0] & 0xf8) == 0, one-byte
             * tags only: field 0 as a multi-byte tag is an unknown field. */
            if (RR_UNLIKELY(b0 < 0x08)) return RR_DECODE_FIELD_NUMBER_ZERO;
            tag = b0 >> 3;
            wt = b0 & 7;
            p++;
        } else {
            /* parse_tag_and_wiretype(): up to 5 bytes, all 32 bits kept
             * (field numbers above 2^29 are just unknown fields). */
            size_t rem = (size_t)(end - p);
            size_t max = rem < 5 ? rem : 5;
            unsigned shift = 4;
            size_t i;
            tag = (b0 & 0x7f) >> 3;
            wt = b0 & 7;
            for (i = 1; i < max; i++) {
                uint32_t b = p[i];
                if (b < 0x80) {
                    tag |= b << shift;
                    break;
                }
                tag |= (b & 0x7f) << shift;
                shift += 7;
            }
            if (i == max) return rem < 5 ? RR_DECODE_TRUNCATED : RR_DECODE_TAG_TOO_LONG;
            p += i + 1;
        }

        if (RR_LIKELY(wt == 0)) {
            uint64_t v;
            size_t n;
            if (RR_LIKELY(end - p >= 10)) {
                n = varint_unchecked(p, &v);
                if (RR_UNLIKELY(n == 0)) return RR_DECODE_VARINT_TOO_LONG;
            } else {
                n = varint_checked(p, (size_t)(end - p), &v);
                if (RR_UNLIKELY(n == 0)) return RR_DECODE_TRUNCATED;
            }
            p += n;
            if (RR_LIKELY(tag - 1u < RR_FIELD_MAX)) val[tag] = v; /* last occurrence wins */
        } else {
            int r = skip_value(&p, end, tag, wt);
            if (r != RR_DECODE_OK) return r;
        }
        if (count_fields && ++nfields > RR_PBC_MAX_FIELDS) return RR_DECODE_TOO_MANY_FIELDS;
    }
    return RR_DECODE_OK;
}

int rr_decode_event(const uint8_t *buf, size_t len, rr_event_t *out)
{
    uint64_t val[RR_FIELD_MAX + 1] = {0};
    int r;

    if (len == 0) {
        memset(out, 0, sizeof *out);
        return RR_DECODE_OK;
    }
    if (RR_LIKELY(len < RR_MANY_FIELDS_BYTES))
        r = decode_fields(buf, buf + len, val, 0);
    else
        r = decode_fields(buf, buf + len, val, 1);
    if (RR_UNLIKELY(r != RR_DECODE_OK)) return r;

    out->event_id = val[1];
    out->shop_id = val[2];
    out->conversation_id = val[3];
    out->buyer_id = val[4];
    out->agent_id = val[5];
    out->ts_ms = (int64_t)val[6]; /* two's complement, as protobuf-c's cast */
    out->type = (uint32_t)val[7];
    out->content = (uint32_t)val[8];
    out->rating = (uint32_t)val[9];
    out->flags = (uint32_t)val[10];
    return RR_DECODE_OK;
}

const char *rr_decode_strerror(int status)
{
    switch (status) {
    case RR_DECODE_OK:
        return "ok";
    case RR_DECODE_TRUNCATED:
        return "truncated";
    case RR_DECODE_VARINT_TOO_LONG:
        return "varint_too_long";
    case RR_DECODE_TAG_TOO_LONG:
        return "tag_too_long";
    case RR_DECODE_LENGTH_TOO_LONG:
        return "length_too_long";
    case RR_DECODE_LENGTH_TOO_LARGE:
        return "length_too_large";
    case RR_DECODE_FIELD_NUMBER_ZERO:
        return "field_number_zero";
    case RR_DECODE_WRONG_WIRE_TYPE:
        return "wrong_wire_type";
    case RR_DECODE_UNSUPPORTED_WIRE_TYPE:
        return "unsupported_wire_type";
    case RR_DECODE_TOO_MANY_FIELDS:
        return "too_many_fields";
    default:
        return "unknown";
    }
}

/* SPEC §7: a broken or overlong tail is one last invalid record covering
 * every remaining byte, and the stream ends there. */
static int frame_tail(const uint8_t *buf, size_t len, size_t *pos, const uint8_t **msg,
                      size_t *msg_len, int status)
{
    *msg = buf + *pos;
    *msg_len = len - *pos;
    *pos = len;
    return status;
}

int rr_frame_next(const uint8_t *buf, size_t len, int eof, size_t *pos, const uint8_t **msg,
                  size_t *msg_len)
{
    size_t p = *pos;
    size_t avail, max, hdr, i;
    uint64_t n = 0;

    if (p >= len) return eof ? RR_FRAME_END : RR_FRAME_NEED_MORE;
    avail = len - p;

    if (RR_LIKELY(buf[p] < 0x80)) { /* messages under 128 bytes */
        n = buf[p];
        hdr = 1;
    } else {
        max = avail < RR_FRAME_PREFIX_MAX ? avail : RR_FRAME_PREFIX_MAX;
        for (i = 0; i < max; i++) {
            n |= (uint64_t)(buf[p + i] & 0x7f) << (7 * i);
            if (buf[p + i] < 0x80) break;
        }
        if (i == max) {
            if (max == RR_FRAME_PREFIX_MAX || eof)
                return frame_tail(buf, len, pos, msg, msg_len, RR_FRAME_BROKEN);
            return RR_FRAME_NEED_MORE;
        }
        /* A 10th byte above 1 means a length beyond 64 bits: no writer
         * produces that, the prefix is corrupt. */
        if (i == RR_FRAME_PREFIX_MAX - 1 && buf[p + i] > 1)
            return frame_tail(buf, len, pos, msg, msg_len, RR_FRAME_BROKEN);
        hdr = i + 1;
    }

    if (n <= (uint64_t)(avail - hdr)) {
        *msg = buf + p + hdr;
        *msg_len = (size_t)n;
        *pos = p + hdr + (size_t)n;
        return RR_FRAME_OK;
    }
    if (!eof) return RR_FRAME_NEED_MORE;
    return frame_tail(buf, len, pos, msg, msg_len, RR_FRAME_PAST_END);
}
