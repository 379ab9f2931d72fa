/* io/kafka_events.h: ChatEvents into a Kafka topic, partitioned by shop (SPEC
 * §2), for `replyrate load` and `replyrate gen --brokers`.
 *
 * Partition = rr_shop_partition(shop_id, partitions), the function `gen`
 * uses to split files, so partition k of a topic and file k of a split with
 * as many parts hold the same events in the same order. Key = the shop id
 * in decimal; value = the ChatEvent bytes. The producer is idempotent (a
 * retry neither duplicates nor reorders) and compresses with zstd.
 *
 * Retention (docs/kafka.md, "Topic retention"): records are stamped with
 * their event time, so history older than a topic's retention.ms would be
 * deleted minutes after it is written. A topic created here keeps every
 * record (retention.ms=-1, retention.bytes=-1); an existing one's retention
 * is read at open, and a record it would delete makes a warning
 * (rr_event_producer_warning) for the command to print.
 *
 * Ownership: the producer is the caller's until rr_event_producer_close;
 * values are copied by librdkafka. Thread-safety: one producer is used by
 * one thread. Layer: io; uses io/kafka, base (clock), replyrate/event.h
 * (rr_shop_partition), librdkafka. Prints nothing: the warning is text for the
 * caller, errors go to errstr.
 */
#ifndef RR_IO_KAFKA_EVENTS_H
#define RR_IO_KAFKA_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include "io/kafka.h"

typedef struct rr_event_producer rr_event_producer_t;

/* Connect; create the topic with create_partitions partitions, keeping
 * every record, if it does not exist. An existing topic's retention is read
 * when check_retention is 1; 0 is for a caller that made the topic and
 * knows what it keeps (the demo's, on a mock cluster that cannot be asked:
 * librdkafka 2.0's times out after 10 s). 0; -1 with errstr (the cluster); -2
 * with errstr (a bad property). */
int rr_event_producer_open(const rr_kafka_opts_t *ko, const char *topic, int create_partitions,
                           int check_retention, rr_event_producer_t **out, char *errstr,
                           size_t errstr_size);

/* The topic's partition count. */
int rr_event_producer_partitions(const rr_event_producer_t *p);

/* A warning not yet taken, at most one per producer: a record put that the
 * existing topic's retention.ms or retention.bytes will delete, or configs
 * that could not be read. The text names the topic and the setting; owned
 * by p (valid until the next call). NULL when there is none. */
const char *rr_event_producer_warning(rr_event_producer_t *p);

/* Queue one record: to partition `partition`, keyed by shop when shop != 0,
 * with the Kafka timestamp ts_ms (the event's time, so that a bounded run can
 * seek by time: docs/kafka.md), except that a time outside 1..now, or more
 * than a day ahead of the partition's greatest stamp (unless three records in
 * a row are: a jump), gets that greatest stamp: one record stamped far ahead
 * would be where every earlier seek by time lands. Waits while the local
 * queue is full. 0, or -1 with errstr. */
int rr_event_producer_put(rr_event_producer_t *p, int32_t partition, uint64_t shop, int64_t ts_ms,
                          const uint8_t *value, size_t len, char *errstr, size_t errstr_size);

/* Wait until every record is acknowledged or failed, then free p. *failed
 * (may be NULL) gets the number that failed. 0 when none failed, -1 with
 * errstr naming the first failure. */
int rr_event_producer_close(rr_event_producer_t *p, uint64_t *failed, char *errstr,
                            size_t errstr_size);

#endif
