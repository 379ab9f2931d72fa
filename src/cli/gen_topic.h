/* cli/gen_topic.h: the generator's stream (gen/gen.h) into a Kafka topic,
 * for `replyrate gen --brokers` and `replyrate demo`.
 *
 * Each event goes to partition rr_shop_partition(shop, partitions) (the
 * split of `gen --output` into as many files), keyed by shop, stamped with
 * its time, its ChatEvent bytes as the value (io/kafka_events.h); an
 * undecodable record (the garbage knob) follows the event before it, in its
 * partition and at its time.
 *
 * Ownership: the producer is borrowed, and so is pace_arg. Thread-safety:
 * one rr_gen_run at a time per context; warnings are logged (ops/log.h).
 */
#ifndef RR_CLI_GEN_TOPIC_H
#define RR_CLI_GEN_TOPIC_H

#include <stddef.h>
#include <stdint.h>

#include "io/kafka_events.h"
#include "replyrate/event.h"

typedef struct rr_gen_topic {
    rr_event_producer_t *prod; /* borrowed; its partitions are the split */
    const char *who;           /* the warnings' log component: "gen" */
    /* Called before each record is put to partition p; non-zero stops the
     * run (err says why, or rr_gen_run's own message stands). May be NULL. */
    int (*pace)(void *pace_arg, int32_t p);
    void *pace_arg;
    /* out */
    uint64_t stream_bytes; /* what files of the stream would hold (delimited) */
    char err[512];         /* non-empty: why a put failed */
    /* the partition and time of the last event: a garbage record's */
    uint32_t last;
    int64_t last_ts;
} rr_gen_topic_t;

/* rr_gen_run's emit and emit_raw (opaque: an rr_gen_topic_t). */
int rr_gen_topic_event(void *opaque, const rr_event_t *ev);
int rr_gen_topic_raw(void *opaque, const uint8_t *msg, size_t len);

#endif
