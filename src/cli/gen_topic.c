#include "cli/gen_topic.h"

#include "codec/encode.h"
#include "ops/log.h"

static int put(rr_gen_topic_t *t, uint64_t shop, int64_t ts_ms, const uint8_t *msg, size_t len)
{
    if (t->pace && t->pace(t->pace_arg, (int32_t)t->last)) return -1;
    int rc = rr_event_producer_put(t->prod, (int32_t)t->last, shop, ts_ms, msg, len, t->err,
                                   sizeof t->err);
    const char *warning = rr_event_producer_warning(t->prod);
    if (warning) rr_log(RR_LOG_WARN, t->who, "%s", warning);
    return rc;
}

int rr_gen_topic_event(void *opaque, const rr_event_t *ev)
{
    rr_gen_topic_t *t = opaque;
    uint32_t n = (uint32_t)rr_event_producer_partitions(t->prod);
    uint8_t buf[RR_EVENT_DELIMITED_MAX_BYTES];
    t->last = n > 1 ? rr_shop_partition(ev->shop_id, n) : 0;
    t->last_ts = ev->ts_ms;
    size_t len = rr_encode_event_delimited(ev, buf);
    t->stream_bytes += len;
    size_t h = 1; /* the message without its length prefix */
    while (buf[h - 1] & 0x80)
        h++;
    return put(t, ev->shop_id, ev->ts_ms, buf + h, len - h);
}

int rr_gen_topic_raw(void *opaque, const uint8_t *msg, size_t len)
{
    rr_gen_topic_t *t = opaque;
    uint8_t prefix[10];
    t->stream_bytes += rr_encode_varint(len, prefix) + len;
    return put(t, 0, t->last_ts, msg, len);
}
