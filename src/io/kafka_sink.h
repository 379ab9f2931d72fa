/* kafka_sink.h: the engine's records published to Kafka topics (SPEC §6),
 * in one transaction.
 *
 *   PREFIX.shop_day     ShopDay,   key "shop_id:day"           compacted
 *   PREFIX.agent_day    AgentDay,  key "shop_id:agent_id:day"  compacted
 *   PREFIX.violations   Violation, key "shop_id:day"
 *   PREFIX.alerts       Alert,     key "shop_id:day:rule"      compacted
 *   PREFIX.late         RejectedEvent (late),    key: the event's shop id, if decoded
 *   PREFIX.dead_letter  RejectedEvent (invalid), key: the event's shop id, if decoded
 *
 * Values are the protobuf messages of proto/replyrate/v1/results.proto, one
 * per Kafka record, compressed with zstd by the producer. Topics missing at
 * open are created (docs/kafka.md). The producer is transactional: nothing
 * it writes is visible to read_committed readers until rr_kafka_sink_commit;
 * a sink closed without a commit aborts, and a new sink with the same
 * transactional id fences and aborts whatever an earlier process left open.
 */
#ifndef RR_IO_KAFKA_SINK_H
#define RR_IO_KAFKA_SINK_H

#include <stddef.h>

#include "io/kafka.h"
#include "replyrate/engine.h"

typedef struct rr_kafka_sink rr_kafka_sink_t;

/* Connect, create missing topics, init transactions (fencing an earlier
 * producer with the same id) and begin one. txn_timeout_ms: the broker
 * aborts a transaction left open longer (transaction.timeout.ms; -X
 * overrides). 0, or -1 with err. */
int rr_kafka_sink_open(const rr_kafka_opts_t *ko, const char *prefix, const char *transactional_id,
                       int txn_timeout_ms, rr_kafka_sink_t **out, char *err, size_t n);

/* Callbacks that publish every record kind; sink->opaque is ks. */
void rr_kafka_sink_callbacks(rr_kafka_sink_t *ks, rr_sink_t *sink);

/* The consumer handle whose group's offsets commit with the transaction
 * (may be NULL: no offsets), and the offsets (topic, partition, next offset). */
int rr_kafka_sink_commit(rr_kafka_sink_t *ks, rd_kafka_t *consumer,
                         const rd_kafka_topic_partition_list_t *offsets, char *err, size_t n);

/* Begin the next transaction after a commit (a no-op while one is open).
 * 0, or -1 with err. */
int rr_kafka_sink_begin(rr_kafka_sink_t *ks, char *err, size_t n);

/* The producer, for admin requests (creating the changelog topic). */
rd_kafka_t *rr_kafka_sink_handle(rr_kafka_sink_t *ks);

/* One record of our own (the changelog's) in the open transaction: to that
 * partition of topic, bytes copied. If offset is not NULL it is set to -1 now
 * and to the record's offset once delivered (rr_kafka_sink_flush waits for
 * that). 0, or -1 (the transaction will not commit). */
int rr_kafka_sink_put(rr_kafka_sink_t *ks, const char *topic, int32_t partition, const void *key,
                      size_t klen, const void *val, size_t vlen, int64_t *offset);

/* Wait until every rr_kafka_sink_put record with an offset is delivered.
 * 0, or -1 with err (a record failed; the transaction will not commit). */
int rr_kafka_sink_flush(rr_kafka_sink_t *ks, char *err, size_t n);

/* Whether the producer was fenced: a newer producer with the same
 * transactional id started (a restart, or a second instance by one name). */
int rr_kafka_sink_fenced(rr_kafka_sink_t *ks);

/* After a failure: drop the rr_kafka_sink_put records not yet delivered
 * and stop writing their offsets, so the caller may free the slots (the
 * transaction will not commit). NULL is a no-op. */
void rr_kafka_sink_forget_puts(rr_kafka_sink_t *ks);

/* Abort an open transaction, if any, and free everything. NULL is a no-op. */
void rr_kafka_sink_close(rr_kafka_sink_t *ks);

/* The topic names for a prefix, in the order of the table above. */
enum { RR_KT_SHOP_DAY, RR_KT_AGENT_DAY, RR_KT_VIOLATIONS, RR_KT_ALERTS, RR_KT_LATE,
       RR_KT_DEAD_LETTER, RR_KT_COUNT };
extern const char *const rr_kafka_topic_suffix[RR_KT_COUNT];

#endif
