/* codec/records.h: what the three encodings of result records share
 * (SPEC §6; docs/output.md is the field-by-field contract).
 *
 * The engine hands out shop_day, agent_day, violation and alert records and
 * the events it did not apply (replyrate/engine.h). Each form has its own
 * encoder, which writes one record into a caller's buffer and knows nothing
 * of files, sinks or Kafka:
 *
 *   codec/record_json.h   one JSON line
 *   codec/record_csv.h    CSV rows (the caller writes the header, once)
 *   codec/record_pb.h     a protobuf message: a Kafka value, or the
 *                         delimited ResultRecord of a .pb file
 *
 * Every encoder has the contract of snprintf: it writes at most cap bytes
 * at buf and returns the record's whole length; a return above cap means
 * the record did not fit, buf holds an incomplete record, and the caller
 * encodes it again into at least that much room (codec/wbuf.h). SIZE_MAX: a record no
 * buffer can hold. Nothing allocates; a record's strings and bytes are only
 * read.
 *
 * This header holds the rules every form applies the same way: which
 * metrics a day record shows, the names of reasons and event types, and how
 * an alert's ratio is written.
 *
 * Thread-safety: pure functions. Layer: codec; uses engine (the record
 * types), metrics (metric kinds) and libc.
 */
#ifndef RR_CODEC_RECORDS_H
#define RR_CODEC_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#include "replyrate/engine.h"

/* How many metric slots of r to look at: cfg->n_metrics, at most
 * RR_MAX_METRICS; 0 without a config or values. */
size_t rr_records_n_metrics(const rr_day_record_t *r);

/* SPEC §6: metric i is shown when its den or unanswered is non-zero; an
 * agent_day shows per-agent kinds only. */
int rr_records_metric_shown(const rr_day_record_t *r, size_t i);

/* Whether metric i of r carries unanswered and buckets (response_time). */
int rr_records_metric_has_buckets(const rr_day_record_t *r, size_t i);

/* "late", "no_reply", "unassigned"; "unspecified" for anything else.
 * Static storage. */
const char *rr_records_reason_name(rr_reason_t reason);

/* An event type's name when valid (1..10: SPEC §7 calls anything else
 * invalid, and 0 is "missing", not a type); NULL otherwise, and the caller
 * writes the number. Static storage. */
const char *rr_records_event_type_name(uint32_t type);

/* Longest text rr_records_fmt_double writes, with its NUL. */
#define RR_RECORDS_DOUBLE_MAX 40

/* An alert's ratio as the shortest "%.{15,16,17}g" that reads back as v,
 * always with a '.' or an exponent so readers see a float ("0.0", "0.41"),
 * whatever the locale's decimal point. Into p (RR_RECORDS_DOUBLE_MAX bytes);
 * returns the length, 0 when v is not finite (JSON writes null, CSV an
 * empty cell). */
size_t rr_records_fmt_double(char *p, double v);

#endif
