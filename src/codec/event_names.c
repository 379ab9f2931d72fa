/* event_names.c: EventType names as in proto/replyrate/v1/chat_event.proto. */
#include "replyrate/event.h"

#include <stddef.h>

const char *rr_event_type_name(uint32_t type)
{
    static const char *const names[] = {
        "EVENT_TYPE_UNSPECIFIED", "SESSION_START",  "TRANSFER_TO_MANUAL",
        "AGENT_ASSIGNED",         "BUYER_MESSAGE",  "AGENT_MESSAGE",
        "ROBOT_MESSAGE",          "SYSTEM_MESSAGE", "SESSION_END",
        "RATING_INVITE",          "RATING",
    };
    return type < sizeof names / sizeof names[0] ? names[type] : NULL;
}
