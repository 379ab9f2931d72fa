/* codec/decode.c: zero-allocation ChatEvent decoder and delimited framer.
 *
 * Two paths, one verdict. The fast path handles the layout producers write
 * (fields 1..10 in increasing order, each at most once, each a one-byte tag
 * and a varint, message of RR_FAST_MIN bytes or more) and nothing else: on
 * anything unusual it gives up without a verdict and the slow path decodes
 * the message from scratch. Only the slow path ever rejects, so every error
 * and every protobuf-c quirk is handled in exactly one place.
 *
 * Slow path: a single pass over the message. protobuf-c scans every field
 * first and parses the values second, but every error either pass can
 * report is a rejection of the whole message, and the values it stores are
 * those of the last occurrence of each field, so one pass that fails fast
 * accepts and stores exactly the same (see decode.h for the list of
 * protobuf-c 1.4.1 behaviours reproduced here).
 */
#include "codec/decode.h"

#include <limits.h>
#include <stddef.h>
#include <string.h>

#if defined(__GNUC__)
#define RR_LIKELY(x) __builtin_expect(!!(x), 1)
#define RR_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define RR_NOINLINE __attribute__((noinline))
#else
#define RR_LIKELY(x) (x)
#define RR_UNLIKELY(x) (x)
#define RR_NOINLINE
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

/* The slow path: any message at all. Kept out of line so that the fast
 * path's caller does not pay for its registers. */
static RR_NOINLINE int decode_slow(const uint8_t *buf, size_t len, rr_event_t *out)
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

/* ---- fast path ----------------------------------------------------------
 *
 * Reads the message in place, 8 bytes at a time, never past its end. While
 * at least a tag and 8 bytes are left (i <= lim) a varint is one unaligned
 * load; nearer the end, the load is of the last 8 bytes of the message,
 * shifted so the varint starts at byte 0 with zero bytes above the end, as
 * if the message were zero-padded. A zero byte ends a varint, and the
 * cursor is then past the end, which the final check (i == len) catches:
 * any varint running off the message, like any other surprise (a field out
 * of order or repeated, an unknown field, a wire type other than 0, a
 * varint of more than 10 bytes), leaves the cursor off the end, and the
 * slow path decides. Past the end no tag is read, so nothing more matches.
 *
 * A varint: the first byte without its continuation bit ends it (found
 * with ctz on ~x & 0x80..80); the 7-bit groups up to it are masked out of
 * the load and squeezed together. Fields 1..6 are squeezed two at a time
 * in vector lanes and stored in pairs. A varint of 9 or 10 bytes takes an
 * out-of-line step (bits 56..63 are patched in after the store); a longer
 * one leaves the cursor on its first byte (>= 0x80, matches no tag). */
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define RR_DECODE_FAST 1
#else
#define RR_DECODE_FAST 0 /* the slow path alone is complete */
#endif

#if RR_DECODE_FAST

/* Shortest message the fast path takes: two fields. */
#define RR_FAST_MIN 9u

#define RR_C80 UINT64_C(0x8080808080808080)

/* Two 64-bit lanes: SSE2 on x86-64, NEON on arm64, plain code elsewhere. */
typedef uint64_t rr_u64x2 __attribute__((vector_size(16)));

static inline uint64_t load64(const uint8_t *p)
{
    uint64_t x;
    memcpy(&x, p, sizeof x);
    return x;
}

/* Squeeze the eight 7-bit groups of each lane (one per byte, high bits
 * clear) into one number, group i at bit 7i: each step halves the
 * sub-lanes, lo + hi << w becoming lo + hi << (w - d). Two varints at once:
 * ~15 vector instructions instead of ~28 scalar ones. */
static inline rr_u64x2 squeeze7x2(rr_u64x2 x)
{
    const rr_u64x2 h1 = {UINT64_C(0x7f007f007f007f00), UINT64_C(0x7f007f007f007f00)};
    const rr_u64x2 h2 = {UINT64_C(0x3fff00003fff0000), UINT64_C(0x3fff00003fff0000)};
    const rr_u64x2 l2 = {UINT64_C(0x00003fff00003fff), UINT64_C(0x00003fff00003fff)};
    const rr_u64x2 l3 = {UINT64_C(0x000000000fffffff), UINT64_C(0x000000000fffffff)};
    x -= (x & h1) >> 1;
    x = (x & l2) | (x & h2) >> 2;
    return (x & l3) | (x >> 32) << 28;
}

static inline uint64_t squeeze7(uint64_t x)
{
    x -= (x & UINT64_C(0x7f007f007f007f00)) >> 1;
    x = (x & UINT64_C(0x00003fff00003fff)) | (x & UINT64_C(0x3fff00003fff0000)) >> 2;
    return (x & UINT64_C(0x000000000fffffff)) | (x >> 32) << 28;
}

/* BMI2 pext: the bits of x under mask, packed: masking and squeezing a
 * varint's groups in one instruction. Inline assembly rather than the
 * intrinsic, so this file builds for any x86-64: the pext path runs only
 * where the CPU has it, and runs it fast (rr_decode_select). */
#if defined(__x86_64__)
#define RR_HAVE_PEXT 1
static inline uint64_t rr_pext(uint64_t x, uint64_t mask)
{
    uint64_t r;
    __asm__("pextq %2, %1, %0" : "=r"(r) : "r"(x), "rm"(mask));
    return r;
}
#else
#define RR_HAVE_PEXT 0
static inline uint64_t rr_pext(uint64_t x, uint64_t mask)
{
    (void)mask;
    return x; /* never called: pext is 0 on these machines */
}
#endif

/* mask7[k]: the 7-bit groups of bytes 0..k, for a varint whose last byte
 * is byte k. */
static const uint64_t mask7[8] = {
    UINT64_C(0x000000000000007f), UINT64_C(0x0000000000007f7f), UINT64_C(0x00000000007f7f7f),
    UINT64_C(0x000000007f7f7f7f), UINT64_C(0x0000007f7f7f7f7f), UINT64_C(0x00007f7f7f7f7f7f),
    UINT64_C(0x007f7f7f7f7f7f7f), UINT64_C(0x7f7f7f7f7f7f7f7f),
};

/* Varints longer than 8 bytes, rare: bits 56..63 (from the 9th and 10th
 * bytes) of field f, patched in after the lanes are stored. */
typedef struct rr_long_bits {
    unsigned fields; /* bit f: field f had such a varint */
    uint64_t hi[RR_FIELD_MAX + 1];
} rr_long_bits_t;

/* The groups of a varint (as bytes, unsqueezed) and how far to move the
 * cursor past its tag and it. */
typedef struct rr_groups {
    uint64_t g;
    size_t adv;
} rr_groups_t;

/* The varint at q (after its tag, left bytes to the message end) whose
 * first 8 bytes x all continue. As
 * protobuf-c's parse_uint64(), the 10th byte contributes only its lowest
 * bit. A varint longer than 10 bytes, or running past end, moves the
 * cursor onto its first byte (>= 0x80), where no tag matches: the fast
 * path gives up. */
static RR_NOINLINE rr_groups_t varint_long(const uint8_t *q, size_t left, uint64_t x, unsigned f,
                                           rr_long_bits_t *lb)
{
    uint64_t b8, b9;
    if (left <= 8) return (rr_groups_t){0, 1};
    b8 = q[8];
    if (b8 < 0x80) {
        lb->hi[f] = b8 << 56;
        lb->fields |= 1u << f;
        return (rr_groups_t){x & mask7[7], 1 + 9};
    }
    if (left <= 9) return (rr_groups_t){0, 1};
    b9 = q[9];
    if (b9 >= 0x80) return (rr_groups_t){0, 1};
    lb->hi[f] = (b8 & 0x7f) << 56 | b9 << 63;
    lb->fields |= 1u << f;
    return (rr_groups_t){x & mask7[7], 1 + 10};
}

/* The 64-bit fields are stored two at a time, straight from the lanes. */
_Static_assert(offsetof(rr_event_t, shop_id) == offsetof(rr_event_t, event_id) + 8 &&
                   offsetof(rr_event_t, buyer_id) == offsetof(rr_event_t, conversation_id) + 8 &&
                   offsetof(rr_event_t, ts_ms) == offsetof(rr_event_t, agent_id) + 8,
               "rr_event_t: 64-bit fields in pairs");

/* Returns 1 with *out filled when the message has the common layout, 0
 * (and *out partly written) when the slow path must decide. len >=
 * RR_FAST_MIN. */
/* pext (a constant at each caller): squeeze with BMI2 pext instead of the
 * shifts of squeeze7; everything else is the same code. */
static inline __attribute__((always_inline)) int decode_fast(const uint8_t *buf, size_t len,
                                                             rr_event_t *out, const int pext)
{
    size_t i = 0;                                /* the cursor */
    const size_t lim = len - 9;                  /* a tag and 8 bytes from here on */
    const uint64_t last = load64(buf + len - 8); /* for varints nearer the end */
    rr_long_bits_t lb;
    /* Kept in registers: without the empty asm the compiler rebuilds them
     * for every field. */
    uint64_t c80 = RR_C80;
    const uint64_t *m7 = mask7;
    __asm__("" : "+r"(c80), "+r"(m7));

    lb.fields = 0;

    /* Field f present: its one-byte tag (wire type 0) is next. var gets
     * its groups; it keeps its value (0) when the field is absent. */
#define RR_GROUPS(f, var)                                                                          \
    if (RR_LIKELY(i <= lim)) {                                                                     \
        if (RR_LIKELY(buf[i] == (f) << 3)) {                                                       \
            uint64_t x = load64(buf + i + 1), stop = ~x & c80; /* 0x80 where a varint ends */      \
            if (RR_LIKELY(stop != 0)) {                                                            \
                unsigned k = (unsigned)__builtin_ctzll(stop) / 8; /* its last byte */              \
                var = pext ? rr_pext(x, m7[k]) : x & m7[k];                                        \
                i += k + 2;                                                                        \
            } else {                                                                               \
                rr_groups_t r = varint_long(buf + i + 1, len - i - 1, x, f, &lb);                  \
                var = pext ? rr_pext(r.g, m7[7]) : r.g;                                            \
                i += r.adv;                                                                        \
            }                                                                                      \
        }                                                                                          \
    } else if (i + 1 < len && buf[i] == (f) << 3) {                                                \
        /* i + 1 is within the last 7 bytes; shift it to byte 0. The top                           \
         * byte is then 0, so stop != 0. (A tag as the last byte matches                           \
         * nothing: the cursor stays before the end.) */                                           \
        uint64_t x = last >> (8 * (i + 1 - (len - 8))), stop = ~x & c80;                           \
        unsigned k = (unsigned)__builtin_ctzll(stop) / 8;                                          \
        var = pext ? rr_pext(x, m7[k]) : x & m7[k];                                                \
        i += k + 2;                                                                                \
    }

    /* Fields 1..6 (uint64, int64), in pairs: gather each varint's groups,
     * squeeze both lanes, store both. */
#define RR_PAIR(fa, fb, first)                                                                     \
    {                                                                                              \
        uint64_t ga = 0, gb = 0;                                                                   \
        rr_u64x2 lanes;                                                                            \
        RR_GROUPS(fa, ga)                                                                          \
        RR_GROUPS(fb, gb)                                                                          \
        lanes = pext ? (rr_u64x2){ga, gb} : squeeze7x2((rr_u64x2){ga, gb});                        \
        memcpy((unsigned char *)out + offsetof(rr_event_t, first), &lanes, sizeof lanes);          \
    }
    RR_PAIR(1, 2, event_id)
    RR_PAIR(3, 4, conversation_id)
    RR_PAIR(5, 6, agent_id) /* ts_ms: two's complement, as protobuf-c's cast */
#undef RR_PAIR

    /* Fields 7..10 (enum, uint32): usually one byte; of a longer varint
     * only the low 32 bits count, as protobuf-c's parse_uint32(). */
#define RR_SMALL(f, member)                                                                        \
    {                                                                                              \
        uint64_t g = 0;                                                                            \
        RR_GROUPS(f, g)                                                                            \
        out->member = (uint32_t)(pext || RR_LIKELY(g < 0x80) ? g : squeeze7(g));                   \
    }
    RR_SMALL(7, type)
    RR_SMALL(8, content)
    RR_SMALL(9, rating)
    RR_SMALL(10, flags)
#undef RR_SMALL
#undef RR_GROUPS

    if (RR_UNLIKELY(lb.fields != 0)) { /* 9- or 10-byte varints */
        if (lb.fields & (1u << 1)) out->event_id |= lb.hi[1];
        if (lb.fields & (1u << 2)) out->shop_id |= lb.hi[2];
        if (lb.fields & (1u << 3)) out->conversation_id |= lb.hi[3];
        if (lb.fields & (1u << 4)) out->buyer_id |= lb.hi[4];
        if (lb.fields & (1u << 5)) out->agent_id |= lb.hi[5];
        if (lb.fields & (1u << 6)) out->ts_ms = (int64_t)((uint64_t)out->ts_ms | lb.hi[6]);
    }
    return i == len;
}

static inline int decode_fast_portable(const uint8_t *buf, size_t len, rr_event_t *out)
{
    return decode_fast(buf, len, out, 0);
}

static inline int decode_fast_pext(const uint8_t *buf, size_t len, rr_event_t *out)
{
    return decode_fast(buf, len, out, RR_HAVE_PEXT);
}

#endif /* RR_DECODE_FAST */

/* ---- which fast path -----------------------------------------------------
 * pext where the CPU has BMI2 and runs pext in hardware: Intel since
 * Haswell, AMD since Zen 3 (family 0x19); Zen 1 and 2 (and Hygon) have it in
 * microcode, ~250 cycles each, slower than the shifts. RR_DECODE=portable
 * in the environment keeps the shifts (for comparing the two). */

static int use_pext;

#if RR_DECODE_FAST && RR_HAVE_PEXT
#include <cpuid.h>
#include <stdlib.h>

static int has_bmi2(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(0, &a, &b, &c, &d) || a < 7) return 0;
    __cpuid_count(7, 0, a, b, c, d);
    return (b & (1u << 8)) != 0;
}

static int pext_is_fast(void)
{
    unsigned a, b, c, d;
    if (!has_bmi2() || !__get_cpuid(0, &a, &b, &c, &d)) return 0;
    char vendor[13];
    memcpy(vendor, &b, 4);
    memcpy(vendor + 4, &d, 4);
    memcpy(vendor + 8, &c, 4);
    vendor[12] = '\0';
    if (strcmp(vendor, "AuthenticAMD") && strcmp(vendor, "HygonGenuine")) return 1;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    unsigned family = (a >> 8) & 0xf;
    if (family == 0xf) family += (a >> 20) & 0xff;
    return family >= 0x19;
}

__attribute__((constructor)) static void decode_choose(void)
{
    const char *v = getenv("RR_DECODE");
    use_pext = pext_is_fast() && !(v && !strcmp(v, "portable"));
}
#endif

int rr_decode_select(int impl)
{
#if RR_DECODE_FAST && RR_HAVE_PEXT
    if (impl == RR_DECODE_IMPL_PEXT) {
        if (!has_bmi2()) return -1;
        use_pext = 1;
        return 0;
    }
#endif
    if (impl != RR_DECODE_IMPL_PORTABLE) return -1;
    use_pext = 0;
    return 0;
}

const char *rr_decode_impl_name(void)
{
    return use_pext ? "pext" : "portable";
}

int rr_decode_event(const uint8_t *buf, size_t len, rr_event_t *out)
{
#if RR_DECODE_FAST
    if (RR_LIKELY(len >= RR_FAST_MIN) &&
        (use_pext ? decode_fast_pext(buf, len, out) : decode_fast_portable(buf, len, out)))
        return RR_DECODE_OK;
#endif
    return decode_slow(buf, len, out);
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
