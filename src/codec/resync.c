/* codec/resync.c: the resync rule (see resync.h). */
#include "codec/resync.h"

#include "codec/decode.h"
#include "replyrate/event.h"

/* SPEC §7's rules that need no conversation state, and a sane length. */
static int plausible(const uint8_t *m, size_t n)
{
    rr_event_t ev;
    if (n < 1 || n > RR_RESYNC_MAX_LEN || rr_decode_event(m, n, &ev) != RR_DECODE_OK) return 0;
    return ev.event_id && ev.shop_id && ev.conversation_id && ev.type >= 1 && ev.type <= 10 &&
           ev.ts_ms >= 1 && ev.ts_ms <= RR_TS_MAX;
}

int rr_resync_at(const uint8_t *buf, size_t len, int eof, size_t at)
{
    size_t p = at;
    for (int k = 0; k < RR_RESYNC_RECORDS; k++) {
        if (p == len) /* the stream ends right after k plausible records */
            return eof ? k > 0 : 2;
        uint64_t n = 0;
        size_t i = 0;
        for (;; i++) {
            if (p + i == len) return eof ? 0 : 2;
            if (i == 5) /* longer than protobuf-c's length prefix */
                return 0;
            n |= (uint64_t)(buf[p + i] & 0x7f) << (7 * i);
            if (buf[p + i] < 0x80) break;
        }
        size_t hdr = i + 1;
        if (n < 1 || n > RR_RESYNC_MAX_LEN) return 0;
        if (n > len - p - hdr) return eof ? 0 : 2;
        if (!plausible(buf + p + hdr, (size_t)n)) return 0;
        p += hdr + (size_t)n;
    }
    return 1;
}

/* The end of the record framed at c (prefix already checked by the caller's
 * rr_resync_at). */
static size_t first_end(const uint8_t *buf, size_t c)
{
    uint64_t n = 0;
    size_t i = 0;
    for (; buf[c + i] >= 0x80; i++)
        n |= (uint64_t)(buf[c + i] & 0x7f) << (7 * i);
    n |= (uint64_t)buf[c + i] << (7 * i);
    return c + i + 1 + (size_t)n;
}

/* c passes. A record of bytes before a true boundary can swallow the true
 * first record when those bytes read as a length and a varint field (the
 * true prefix byte becoming that field's value): both candidates then end
 * their first record at the same offset and share the rest. A producer's
 * record never ends in a whole plausible delimited record, so of such
 * candidates the one with the shortest first record is the true one. */
static size_t innermost(const uint8_t *buf, size_t len, int eof, size_t c)
{
    size_t e = first_end(buf, c), best = c;
    for (size_t d = c + 1; d < e; d++)
        if (rr_resync_at(buf, len, eof, d) == 1 && first_end(buf, d) == e) best = d;
    return best;
}

int rr_resync_find(const uint8_t *buf, size_t len, int eof, size_t *pos)
{
    for (size_t c = *pos; c < len; c++) {
        int r = rr_resync_at(buf, len, eof, c);
        if (r == 1) {
            *pos = innermost(buf, len, eof, c);
            return RR_RESYNC_FOUND;
        }
        if (r == 2) {
            *pos = c;
            return RR_RESYNC_NEED_MORE;
        }
    }
    *pos = len;
    return eof ? RR_RESYNC_NONE : RR_RESYNC_NEED_MORE;
}
