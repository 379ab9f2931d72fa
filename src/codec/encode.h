/* codec/encode.h: the ChatEvent encoder (SPEC §2), for the traffic generator
 * and for tests that need input bytes.
 *
 * rr_encode_event() writes exactly the bytes protobuf-c 1.4's
 * replyrate__v1__chat_event__pack() writes for the same values: fields 1..10
 * in number order, each as a varint, a field holding 0 omitted (proto3),
 * `ts_ms` as the two's complement of a negative value (10 bytes), `type` as
 * protobuf-c packs an enum: an int32, so a value >= 2^31 is sign-extended to
 * 10 bytes. tests/unit/test_gen.c checks byte equality and the round trip
 * through replyrate__v1__chat_event__unpack().
 *
 * Ownership: ev and buf are borrowed; buf must hold RR_EVENT_MAX_BYTES
 * (RR_EVENT_DELIMITED_MAX_BYTES for the delimited form). Nothing allocates.
 * Thread-safety: pure functions.
 * Layer: codec; uses replyrate/event.h and libc only.
 */
#ifndef RR_CODEC_ENCODE_H
#define RR_CODEC_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "replyrate/event.h"

/* Longest encoding of one ChatEvent: six 64-bit fields (1-byte tag + 10-byte
 * varint), `type` sign-extended (1 + 10), three uint32 fields (1 + 5). */
#define RR_EVENT_MAX_BYTES 95
/* The delimited form: a 1-byte length prefix (RR_EVENT_MAX_BYTES < 128). */
#define RR_EVENT_DELIMITED_MAX_BYTES (RR_EVENT_MAX_BYTES + 1)

/* Encode ev into buf; returns the length (0 for an all-zero event). */
size_t rr_encode_event(const rr_event_t *ev, uint8_t *buf);

/* Encode ev prefixed by its varint length (the delimited stream form of
 * SPEC §2); returns the total length, prefix included. */
size_t rr_encode_event_delimited(const rr_event_t *ev, uint8_t *buf);

/* Write v as a varint into buf (at most 10 bytes); returns the length. */
size_t rr_encode_varint(uint64_t v, uint8_t *buf);

#endif
