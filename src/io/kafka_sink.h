/* io/kafka_sink.h: the engine's records published to Kafka topics (SPEC §6),
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
 * per Kafka record, encoded by codec/record_pb.h (RR_RECORD_PB_VALUE), or
 * with RR_KAFKA_SINK_JSON the JSON objects of codec/record_json.h (a JSON
 * Lines line without its '\n', for Kafka Connect's JSON converter); keys are
 * the same either way. The producer compresses them with zstd. A protobuf
 * value never starts with '{' and a JSON one always does, so a reader tells
 * them apart by the first byte (docs/kafka.md). Topics missing at
 * open are created (docs/kafka.md). The producer is transactional: nothing
 * it writes is visible to read_committed readers until rr_kafka_sink_commit;
 * a sink closed without a commit aborts, and a new sink with the same
 * transactional id fences and aborts whatever an earlier process left open.
 *
 * Ownership: the sink owns its producer and its encoding buffer; records
 * handed to its callbacks are borrowed for the call (the producer copies
 * keys and values). Thread-safety: one sink is used by one thread (the
 * producer's delivery reports run inside its rd_kafka_poll calls).
 * Layer: io; uses codec (record_pb, record_json), io/kafka, engine (the record types),
 * base (clock), librdkafka. Prints nothing: errors are returned in errstr.
 */
#ifndef RR_IO_KAFKA_SINK_H
#define RR_IO_KAFKA_SINK_H

#include <stddef.h>

#include "io/kafka.h"
#include "replyrate/engine.h"

typedef struct rr_kafka_sink rr_kafka_sink_t;

/* The topic names for a prefix, in the order of the table above. */
enum {
    RR_KT_SHOP_DAY,
    RR_KT_AGENT_DAY,
    RR_KT_VIOLATIONS,
    RR_KT_ALERTS,
    RR_KT_LATE,
    RR_KT_DEAD_LETTER,
    RR_KT_COUNT
};
extern const char *const rr_kafka_topic_suffix[RR_KT_COUNT];

/* Where a record goes (docs/output.md, "Kafka keys"): *topic is set to its
 * topic (RR_KT_*), its key (ASCII, decimal ids, day as YYYYMMDD; an alert's
 * rule cut at 80 bytes) is written NUL-terminated into key, and its length is
 * returned; 0 means no key (a rejected event that did not decode). Pure
 * functions: r is borrowed for the call. */
#define RR_KAFKA_SINK_KEY_MAX 128
size_t rr_kafka_sink_key_day(const rr_day_record_t *r, char key[RR_KAFKA_SINK_KEY_MAX], int *topic);
size_t rr_kafka_sink_key_violation(const rr_violation_record_t *r, char key[RR_KAFKA_SINK_KEY_MAX],
                                   int *topic);
size_t rr_kafka_sink_key_alert(const rr_alert_record_t *r, char key[RR_KAFKA_SINK_KEY_MAX],
                               int *topic);
size_t rr_kafka_sink_key_rejected(const rr_rejected_record_t *r, char key[RR_KAFKA_SINK_KEY_MAX],
                                  int *topic);

/* The form of the result records' values (run --publish-format). */
typedef enum rr_kafka_sink_format {
    RR_KAFKA_SINK_PB,   /* the protobuf message (the default) */
    RR_KAFKA_SINK_JSON, /* the JSON object, no '\n' */
} rr_kafka_sink_format_t;

/* Connect, create missing topics, init transactions (fencing an earlier
 * producer with the same id) and begin one. txn_timeout_ms: the broker
 * aborts a transaction left open longer (transaction.timeout.ms; -X
 * overrides); format: the values' (the changelog's records of
 * rr_kafka_sink_put are the caller's bytes either way). 0, or -1 with
 * errstr. */
int rr_kafka_sink_open(const rr_kafka_opts_t *ko, const char *prefix, const char *transactional_id,
                       int txn_timeout_ms, rr_kafka_sink_format_t format, rr_kafka_sink_t **out,
                       char *errstr, size_t errstr_size);

/* Callbacks that publish every record kind; sink->opaque is ks. */
void rr_kafka_sink_callbacks(rr_kafka_sink_t *ks, rr_sink_t *sink);

/* The consumer handle whose group's offsets commit with the transaction
 * (may be NULL: no offsets), and the offsets (topic, partition, next offset). */
int rr_kafka_sink_commit(rr_kafka_sink_t *ks, rd_kafka_t *consumer,
                         const rd_kafka_topic_partition_list_t *offsets, char *errstr,
                         size_t errstr_size);

/* Abort the open transaction, if any (nothing published in it is ever
 * visible read_committed), forget the failures of its records, and begin
 * the next one. 0, or -1 with errstr (the producer cannot go on). */
int rr_kafka_sink_abort(rr_kafka_sink_t *ks, char *errstr, size_t errstr_size);

/* The error code of the last transactional call that failed (commit,
 * offsets, begin), or RD_KAFKA_RESP_ERR_NO_ERROR: lets a caller tell a
 * commit refused because its consumer group moved on (ILLEGAL_GENERATION,
 * UNKNOWN_MEMBER_ID, ...) from any other failure. */
rd_kafka_resp_err_t rr_kafka_sink_last_error(const rr_kafka_sink_t *ks);

/* Begin the next transaction after a commit (a no-op while one is open).
 * 0, or -1 with errstr. */
int rr_kafka_sink_begin(rr_kafka_sink_t *ks, char *errstr, size_t errstr_size);

/* The producer, for admin requests (creating the changelog topic). */
rd_kafka_t *rr_kafka_sink_handle(rr_kafka_sink_t *ks);

/* One record of our own (the changelog's) in the open transaction: to that
 * partition of topic, bytes copied. If offset is not NULL it is set to -1 now
 * and to the record's offset once delivered (rr_kafka_sink_flush waits for
 * that). 0, or -1 (the transaction will not commit). */
int rr_kafka_sink_put(rr_kafka_sink_t *ks, const char *topic, int32_t partition, const void *key,
                      size_t klen, const void *val, size_t vlen, int64_t *offset);

/* Wait until every rr_kafka_sink_put record with an offset is delivered.
 * 0, or -1 with errstr (a record failed; the transaction will not commit). */
int rr_kafka_sink_flush(rr_kafka_sink_t *ks, char *errstr, size_t errstr_size);

/* Whether the producer was fenced: a newer producer with the same
 * transactional id started (a restart, or a second instance by one name). */
int rr_kafka_sink_fenced(rr_kafka_sink_t *ks);

/* After a failure: drop the rr_kafka_sink_put records not yet delivered
 * and stop writing their offsets, so the caller may free the slots (the
 * transaction will not commit). NULL is a no-op. */
void rr_kafka_sink_forget_puts(rr_kafka_sink_t *ks);

/* Abort an open transaction, if any, and free everything. NULL is a no-op. */
void rr_kafka_sink_close(rr_kafka_sink_t *ks);

#endif
