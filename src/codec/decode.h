/* codec/decode.h: the hot-path ChatEvent decoder and the delimited-stream
 * framer (SPEC §2, §7).
 *
 * rr_decode_event() turns the bytes of one ChatEvent into an rr_event_t
 * without allocating. It accepts exactly the inputs protobuf-c 1.4.1's
 * replyrate__v1__chat_event__unpack() accepts and stores exactly the values
 * it would store, so "invalid" in SPEC §7 means the same thing whichever
 * decoder a tool uses. The protobuf-c behaviours it reproduces (checked by
 * tests/unit/test_decode.c and tests/fuzz/fuzz_decode.c against the real
 * library):
 *
 *   - a field given twice: the last occurrence wins; unknown fields (any
 *     field number other than 1..10, including 0 written as a multi-byte
 *     tag, and numbers up to 2^32-1) are skipped;
 *   - a tag is at most 5 bytes; its first byte in 0x00..0x07 (field number
 *     0 in a one-byte tag) is rejected;
 *   - a varint value is at most 10 bytes; the 10th byte may carry any bits
 *     below 0x80, only its lowest bit lands in the value (bit 63);
 *   - uint32 and enum fields keep the low 32 bits of a varint of any length
 *     (so a 10-byte -1 for `type` stores 0xffffffff); enums are not checked;
 *   - wire types 3, 4, 6 and 7 are rejected, known or unknown field; a known
 *     field (all are varints) with wire type 1, 2 or 5 is rejected;
 *   - a length prefix is at most 5 bytes, its value (up to 35 bits) must be
 *     <= INT_MAX and fit in what is left of the message;
 *   - more than 134217712 fields in one message are rejected (protobuf-c's
 *     scanned-member slabs run out; only reachable above 256 MiB).
 * The one case it cannot reproduce is protobuf-c failing to allocate memory
 * (a message with huge unknown fields on a machine without the memory).
 *
 * rr_frame_next() cuts a buffer holding a "delimited" stream (each message
 * prefixed by its varint length) into messages, for sources that read
 * files, Kafka batches or memory.
 *
 * Ownership: everything is borrowed; nothing is retained across calls.
 * Thread-safety: pure functions; the fast path's form is chosen once at
 * start-up (rr_decode_select changes it, for tests).
 * Layer: codec; uses replyrate/event.h and libc only.
 */
#ifndef RR_CODEC_DECODE_H
#define RR_CODEC_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "replyrate/event.h"

/* Why a message was rejected. 0 is success; every other value is one reason
 * protobuf-c would also reject the bytes for (SPEC §7 "invalid"). */
enum rr_decode_status {
    RR_DECODE_OK = 0,
    RR_DECODE_TRUNCATED = 1,             /* a tag, varint, fixed value or length-delimited
                                            field runs past the end of the message */
    RR_DECODE_VARINT_TOO_LONG = 2,       /* a varint value longer than 10 bytes */
    RR_DECODE_TAG_TOO_LONG = 3,          /* a tag longer than 5 bytes */
    RR_DECODE_LENGTH_TOO_LONG = 4,       /* a length prefix longer than 5 bytes */
    RR_DECODE_LENGTH_TOO_LARGE = 5,      /* a length prefix above INT_MAX */
    RR_DECODE_FIELD_NUMBER_ZERO = 6,     /* a one-byte tag with field number 0 */
    RR_DECODE_WRONG_WIRE_TYPE = 7,       /* a known field with wire type 1, 2 or 5 */
    RR_DECODE_UNSUPPORTED_WIRE_TYPE = 8, /* wire type 3, 4, 6 or 7 (groups, undefined) */
    RR_DECODE_TOO_MANY_FIELDS = 9,       /* more fields than protobuf-c can scan */
};

/* Decode one ChatEvent from buf[0..len). Returns RR_DECODE_OK and fills *out
 * (absent fields are 0), or a positive enum rr_decode_status code, in which
 * case *out holds garbage. buf may be NULL when len is 0. Allocates nothing;
 * buf and out are borrowed. */
int rr_decode_event(const uint8_t *buf, size_t len, rr_event_t *out);

/* The fast path's two forms, one result: the portable one squeezes varints
 * with shifts, the pext one with BMI2's pext. The process starts with pext
 * where the CPU runs it in hardware (not AMD before Zen 3) unless
 * RR_DECODE=portable is set. rr_decode_select switches (for tests and
 * benchmarks; not while another thread decodes): 0, or -1 when this CPU or
 * build has no pext. */
enum { RR_DECODE_IMPL_PORTABLE = 0, RR_DECODE_IMPL_PEXT = 1 };
int rr_decode_select(int impl);
const char *rr_decode_impl_name(void); /* "pext" or "portable" */

/* Short snake_case reason for a status ("truncated", "varint_too_long",
 * ...), for dead letters and logs; "ok" for 0, "unknown" outside the enum.
 * Static storage. */
const char *rr_decode_strerror(int status);

/* Outcomes of rr_frame_next(). */
enum rr_frame_status {
    RR_FRAME_OK = 0,           /* a message: *msg and *msg_len set, *pos advanced past it */
    RR_FRAME_END = 1,          /* *pos == len and eof: the stream ended cleanly */
    RR_FRAME_NEED_MORE = 2,    /* incomplete prefix or message and !eof; *pos unchanged */
    RR_FRAME_BROKEN = 3,       /* the length prefix is longer than 10 bytes, or
                                  unterminated at the end of data with eof */
    RR_FRAME_PAST_END = 4,     /* the length runs past the end of data with eof */
    RR_FRAME_TOO_LARGE = 5,    /* (sources only) the length is above what the source
                                  will buffer: taken as a broken prefix */
    RR_FRAME_SKIPPED = 6,      /* (sources only, --resync) stream bytes skipped after a
                                  break, or between damaged zstd data and records
                                  that decode again */
    RR_FRAME_ZSTD_DAMAGED = 7, /* (sources only, --resync) compressed bytes of damaged
                                  zstd frames, skipped to the next intact frame */
};

/* Longest length prefix of a delimited stream (a 64-bit varint). */
#define RR_FRAME_PREFIX_MAX 10

/* Frame the next message of a delimited stream held in buf[0..len), starting
 * at *pos. eof says whether buf holds the whole rest of the stream.
 *
 * RR_FRAME_BROKEN and RR_FRAME_PAST_END are terminal (SPEC §7: such a tail
 * is one last invalid record, and the stream ends there): *msg and *msg_len then
 * cover every byte from the old *pos (prefix included) to len, and *pos is
 * set to len. A prefix longer than 10 bytes is BROKEN even without eof.
 * Otherwise *msg and *msg_len are only written on RR_FRAME_OK and point into buf
 * (borrowed). A length that does not fit in size_t never fits in buf. */
int rr_frame_next(const uint8_t *buf, size_t len, int eof, size_t *pos, const uint8_t **msg,
                  size_t *msg_len);

#endif
