/* codec/wbuf.h: a bounded writer into a caller's buffer, for the record
 * encoders (codec/record_json.h, record_csv.h, record_pb.h).
 *
 * An rr_wbuf_t writes into p[0..cap) and counts every byte it is asked to
 * write, also those past cap: when an encoder is done, len is the record's
 * length, and len > cap says it did not fit (p then holds an incomplete
 * record: each piece is written whole or not at all; the caller grows its
 * buffer to len and encodes again, as with snprintf). So an
 * encoder needs no allocation and no error path, and the usual record costs
 * one pass.
 *
 * Ownership: p is the caller's, borrowed for the encoder's call.
 * Thread-safety: a writer is used by one thread; the functions keep no state.
 * Layer: codec; uses libc only. Static inline: this is the per-byte path of
 * every result record.
 */
#ifndef RR_CODEC_WBUF_H
#define RR_CODEC_WBUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct rr_wbuf {
    uint8_t *p;
    size_t cap;
    size_t len; /* bytes asked for so far; only the first cap are in p */
} rr_wbuf_t;

static inline rr_wbuf_t rr_wbuf_make(void *buf, size_t cap)
{
    return (rr_wbuf_t){.p = buf, .cap = cap, .len = 0};
}

/* Whether n more bytes fit in p. */
static inline int rr_wbuf_room(const rr_wbuf_t *w, size_t n)
{
    return w->len <= w->cap && n <= w->cap - w->len;
}

/* Count n more bytes (saturating: a length that overflows size_t stays
 * SIZE_MAX, which no buffer holds). */
static inline void rr_wbuf_skip(rr_wbuf_t *w, size_t n)
{
    w->len = n <= SIZE_MAX - w->len ? w->len + n : SIZE_MAX;
}

static inline void rr_wbuf_put(rr_wbuf_t *w, const void *s, size_t n)
{
    if (rr_wbuf_room(w, n)) memcpy(w->p + w->len, s, n);
    rr_wbuf_skip(w, n);
}

#define RR_WBUF_LIT(w, lit) rr_wbuf_put((w), (lit), sizeof(lit) - 1)

static inline void rr_wbuf_putc(rr_wbuf_t *w, char c)
{
    if (rr_wbuf_room(w, 1)) w->p[w->len] = (uint8_t)c;
    rr_wbuf_skip(w, 1);
}

/* Decimal digits of v at d (at most 20, two per division); returns the count. */
static inline size_t rr_wbuf_fmt_u64(uint8_t *d, uint64_t v)
{
    static const char digits2[] =
        "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
        "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
        "8081828384858687888990919293949596979899";
    uint8_t tmp[20];
    uint8_t *end = tmp + sizeof tmp, *s = end;
    while (v >= 100) {
        unsigned r = (unsigned)(v % 100);
        v /= 100;
        s -= 2;
        memcpy(s, digits2 + 2 * r, 2);
    }
    if (v >= 10) {
        s -= 2;
        memcpy(s, digits2 + 2 * v, 2);
    } else {
        *--s = (uint8_t)('0' + v);
    }
    size_t n = (size_t)(end - s);
    memcpy(d, s, n);
    return n;
}

static inline void rr_wbuf_u64(rr_wbuf_t *w, uint64_t v)
{
    if (rr_wbuf_room(w, 20)) {
        w->len += rr_wbuf_fmt_u64(w->p + w->len, v);
    } else {
        uint8_t tmp[20];
        rr_wbuf_put(w, tmp, rr_wbuf_fmt_u64(tmp, v));
    }
}

static inline void rr_wbuf_i64(rr_wbuf_t *w, int64_t v)
{
    if (v < 0) {
        rr_wbuf_putc(w, '-');
        rr_wbuf_u64(w, (uint64_t)0 - (uint64_t)v);
    } else {
        rr_wbuf_u64(w, (uint64_t)v);
    }
}

/* n bytes as 2n lowercase hex digits. */
static inline void rr_wbuf_hex(rr_wbuf_t *w, const uint8_t *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    if (n > SIZE_MAX / 2) {
        rr_wbuf_skip(w, SIZE_MAX);
        return;
    }
    if (rr_wbuf_room(w, 2 * n)) {
        uint8_t *d = w->p + w->len;
        for (size_t i = 0; i < n; i++) {
            d[2 * i] = (uint8_t)hex[s[i] >> 4];
            d[2 * i + 1] = (uint8_t)hex[s[i] & 15];
        }
    }
    rr_wbuf_skip(w, 2 * n);
}

#endif
