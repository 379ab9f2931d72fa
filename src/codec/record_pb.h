/* codec/record_pb.h: result records as protobuf (SPEC §6; docs/output.md,
 * "Protobuf"; proto/replyrate/v1/results.proto).
 *
 * Two forms of each record:
 *   RR_RECORD_PB_VALUE       the bare message (ShopDay, AgentDay, Violation,
 *                            Alert, RejectedEvent): a Kafka record's value;
 *   RR_RECORD_PB_DELIMITED   a ResultRecord holding it, behind its varint
 *                            length: one element of a delimited .pb file.
 *
 * The bytes are exactly those protobuf-c 1.4.1 packs for the messages the
 * records map to (as codec/encode.h does for ChatEvent): fields in number
 * order (Violation.answered, field 14, last), a proto3 field holding its
 * zero value left out (0, false, an empty or NULL string, empty bytes, a
 * double equal to 0.0, which -0.0 is), int32 and enum fields sign-extended
 * to 10 bytes when negative, repeated int64 `buckets` packed, sub-messages
 * and the oneof member always present when set, even empty. The mapping:
 *   - a day record shows the metrics rr_records_metric_shown picks;
 *     unanswered and the 8 buckets only on response_time metrics; revision
 *     0 on final records; day as the uint32 of the record's int32;
 *   - a violation's reply_ms and wait_ms only when answered; reason LATE,
 *     NO_REPLY, UNASSIGNED or REASON_UNSPECIFIED;
 *   - a rejected event: kind LATE for RR_LATE, else INVALID; raw when the
 *     record has bytes; event when it decoded (its type as an int32, any
 *     value); watermark_ms as it is (INT64_MIN when none yet).
 * tests/unit/test_record_pb.c checks byte equality with protobuf-c on
 * random and edge-case records.
 *
 * Contract (codec/records.h): at most cap bytes at buf; returns the
 * record's length, which above cap means "encode again with that much
 * room". r and everything it points to are borrowed for the call. Nothing
 * allocates. Thread-safety: pure functions. Layer: codec; uses codec/encode
 * (ChatEvent), engine, metrics, libc; not protobuf-c.
 */
#ifndef RR_CODEC_RECORD_PB_H
#define RR_CODEC_RECORD_PB_H

#include <stddef.h>
#include <stdint.h>

#include "replyrate/engine.h"

typedef enum rr_record_pb_form {
    RR_RECORD_PB_VALUE,
    RR_RECORD_PB_DELIMITED,
} rr_record_pb_form_t;

size_t rr_record_pb_day(uint8_t *buf, size_t cap, const rr_day_record_t *r,
                        rr_record_pb_form_t form);
size_t rr_record_pb_violation(uint8_t *buf, size_t cap, const rr_violation_record_t *r,
                              rr_record_pb_form_t form);
size_t rr_record_pb_alert(uint8_t *buf, size_t cap, const rr_alert_record_t *r,
                          rr_record_pb_form_t form);
size_t rr_record_pb_rejected(uint8_t *buf, size_t cap, const rr_rejected_record_t *r,
                             rr_record_pb_form_t form);

#endif
