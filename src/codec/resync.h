/* codec/resync.h: where a delimited ChatEvent stream frames again after a
 * break (SPEC §7 framing; `replyrate run --resync`).
 *
 * When a length prefix is broken (or runs past the end, or past what a
 * source will buffer), every byte after it is suspect: the next record
 * boundary is not written anywhere. rr_resync_find() scans forward for the
 * first offset from which records frame and decode again, by this
 * criterion (the "resync rule"), at a candidate offset c:
 *
 *   RR_RESYNC_RECORDS (4) consecutive records starting at c each have a
 *   length prefix of at most 5 bytes (protobuf-c's limit) and a length in
 *   1..RR_RESYNC_MAX_LEN, and each decodes (rr_decode_event) as a plausible
 *   ChatEvent: event_id, shop_id and conversation_id non-zero, type in
 *   1..10, ts_ms in 1..RR_TS_MAX (the rules of SPEC §7 that need no state);
 *   or, near the end of the stream, fewer such records that end exactly at
 *   its last byte (at least one).
 *
 * Why it is hard to fool: a plausible ChatEvent needs five particular tags
 * with in-range values and no rejected wire type among its other bytes;
 * random bytes pass one test in well under 2^-20 tries, four in a row
 * practically never. Bytes of real records read from a wrong offset are the
 * likelier trap; tests/unit/test_resync.c checks every misaligned offset
 * of a generated day and finds none accepted before the true boundary.
 * The price: a run of fewer than four plausible records between two
 * invalid ones (an undecodable record, an event with type 0) cannot anchor
 * a resync, so the scan goes on past them; what it skips is dead-lettered,
 * not applied.
 *
 * Ownership: everything is borrowed. Thread-safety: pure functions.
 * Layer: codec; uses codec/decode, replyrate/event.h.
 */
#ifndef RR_CODEC_RESYNC_H
#define RR_CODEC_RESYNC_H

#include <stddef.h>
#include <stdint.h>

/* Consecutive plausible records that anchor a resync. */
#define RR_RESYNC_RECORDS 4
/* Longest record a resync may anchor on (a ChatEvent is at most 110 bytes
 * without unknown fields). */
#define RR_RESYNC_MAX_LEN 4096
/* Bytes a candidate may need to be judged: its records and their prefixes. */
#define RR_RESYNC_SPAN (RR_RESYNC_RECORDS * (5 + RR_RESYNC_MAX_LEN))

enum rr_resync_status {
    RR_RESYNC_FOUND = 0,     /* *pos is the first offset that passes the rule */
    RR_RESYNC_NONE = 1,      /* no offset in [*pos, len) passes (eof was set) */
    RR_RESYNC_NEED_MORE = 2, /* candidates before *pos fail; *pos needs bytes past len */
};

/* Judge the candidate at buf[at..len): 1 it passes, 0 it fails, 2 it cannot
 * be judged without bytes past len (only when !eof). eof says buf holds the
 * whole rest of the stream. */
int rr_resync_at(const uint8_t *buf, size_t len, int eof, size_t at);

/* Scan candidates *pos, *pos + 1, ... of buf[0..len) and stop at the first
 * that passes (FOUND), at the first that needs more bytes (NEED_MORE; *pos is
 * that candidate), or at len (NONE with eof; NEED_MORE with *pos == len
 * without). */
int rr_resync_find(const uint8_t *buf, size_t len, int eof, size_t *pos);

#endif
