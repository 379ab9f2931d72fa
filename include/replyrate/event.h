/* replyrate/event.h: the decoded ChatEvent (SPEC §2) as the engine sees it.
 *
 * A plain value type: no pointers, no ownership. Fields hold exactly what
 * protobuf-c's chat_event__unpack() would store for the same bytes; a field
 * absent on the wire is 0 (proto3). Validation (SPEC §7) is the engine's job,
 * not the decoder's: `type` may hold any 32-bit value here.
 *
 * Layer: metrics (a type every layer from metrics up may use).
 */
#ifndef REPLYRATE_EVENT_H
#define REPLYRATE_EVENT_H

#include <stdint.h>

enum rr_event_type {
    RR_EVENT_UNSPECIFIED = 0,
    RR_EVENT_SESSION_START = 1,
    RR_EVENT_TRANSFER_TO_MANUAL = 2,
    RR_EVENT_AGENT_ASSIGNED = 3,
    RR_EVENT_BUYER_MESSAGE = 4,
    RR_EVENT_AGENT_MESSAGE = 5,
    RR_EVENT_ROBOT_MESSAGE = 6,
    RR_EVENT_SYSTEM_MESSAGE = 7,
    RR_EVENT_SESSION_END = 8,
    RR_EVENT_RATING_INVITE = 9,
    RR_EVENT_RATING = 10,
};

#define RR_FLAG_INTERNAL 0x1u /* buyer is an internal sub-account */
#define RR_FLAG_SPAM 0x2u     /* buyer is spam/ad */

/* Greatest valid ts_ms: 9999-12-31T23:59:59.999Z (SPEC §7). */
#define RR_TS_MAX INT64_C(253402300799999)

typedef struct rr_event {
    uint64_t event_id;
    uint64_t shop_id;
    uint64_t conversation_id;
    uint64_t buyer_id;
    uint64_t agent_id;
    int64_t ts_ms;
    uint32_t type; /* enum value as protobuf-c stores it (32 bits), unchecked */
    uint32_t content;
    uint32_t rating;
    uint32_t flags;
} rr_event_t;

/* Name of an event type ("BUYER_MESSAGE"), or NULL outside 0..10. */
const char *rr_event_type_name(uint32_t type);

/* The partition (0..n-1, n >= 1) that holds shop's events when a stream is
 * split by shop (SPEC §2), as `replyrate gen` does for several outputs: a
 * 64-bit mix of the id, so consecutive ids spread evenly. */
static inline uint32_t rr_shop_partition(uint64_t shop, uint32_t n)
{
    shop ^= shop >> 33;
    shop *= UINT64_C(0xff51afd7ed558ccd);
    shop ^= shop >> 33;
    return (uint32_t)(shop % n);
}

#endif
