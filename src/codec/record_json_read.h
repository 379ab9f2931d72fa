/* codec/record_json_read.h: a JSON Lines result record read back into the
 * engine's record types (docs/output.md, "JSON Lines"): the inverse of
 * codec/record_json.h, so `replyrate export` can read topics published with
 * `run --publish-format json` into any file form.
 *
 * The promise: for every record r, what rr_record_json_read makes of the
 * JSON rr_record_json_* wrote for r is written again as the same JSON, byte
 * for byte (tests/unit/test_record_json_read.c, on the docs' examples, edge
 * cases and random records). What it accepts:
 *   - one JSON object (RFC 8259), with whitespace anywhere (a JSON Lines
 *     line's '\n' too) and nothing after it; keys in any order; keys it does
 *     not know are skipped (a later version's fields); a key given twice is
 *     an error;
 *   - "type" naming the record: shop_day, agent_day, violation, alert, late
 *     or invalid, and every field docs/output.md lists for that type, each
 *     with its JSON type: ids and counts integers within their C type's
 *     range (no fraction, no exponent), "final" a boolean, strings; only
 *     "revision" may be missing (0);
 *   - null where the writer writes it: a violation's reply_ms and wait_ms
 *     (both: answered 0; neither), an alert's value (NaN), watermark_ms
 *     (INT64_MIN), event (decoded 0) and raw_hex (raw NULL).
 * Strings must be UTF-8 (RFC 8259), as the writer's always are; \u escapes
 * are decoded (a surrogate pair joined; a lone surrogate and \u0000, which
 * a C string cannot hold, are refused).
 * Lossy only where the JSON is: bytes of a string that were not UTF-8 were
 * written as U+FFFD and read as such; metric kinds are not in the JSON, so
 * a metric with "buckets" reads as RR_KIND_RESPONSE_TIME and any other as
 * RR_KIND_MESSAGE_WITHIN (both per-agent kinds, so an agent_day shows them
 * all), and every metric listed stays shown (its unanswered, which only
 * response_time metrics write, is set non-zero when its den is 0).
 *
 * Ownership: the strings and raw bytes of the records in *out are decoded
 * into the caller's scratch (at least len bytes: nothing decodes longer than
 * its JSON text), a day record's cfg and values into *out itself; the
 * records borrow both until the next call with them. Nothing allocates.
 * Thread-safety: pure functions. Layer: codec; uses codec/records, engine,
 * metrics, libc.
 */
#ifndef RR_CODEC_RECORD_JSON_READ_H
#define RR_CODEC_RECORD_JSON_READ_H

#include <stddef.h>

#include "replyrate/engine.h"

typedef enum rr_record_json_kind {
    RR_RECORD_JSON_SHOP_DAY,
    RR_RECORD_JSON_AGENT_DAY,
    RR_RECORD_JSON_VIOLATION,
    RR_RECORD_JSON_ALERT,
    RR_RECORD_JSON_LATE,
    RR_RECORD_JSON_INVALID,
    RR_RECORD_JSON_KINDS
} rr_record_json_kind_t;

/* A record read: kind says which member holds it. */
typedef struct rr_record_json_in {
    rr_record_json_kind_t kind;
    rr_day_record_t day;             /* SHOP_DAY, AGENT_DAY: cfg and values point below */
    rr_violation_record_t violation; /* VIOLATION */
    rr_alert_record_t alert;         /* ALERT */
    rr_rejected_record_t rejected;   /* LATE, INVALID */
    rr_config_t cfg;                 /* a day record's metrics: names and kinds only */
    rr_value_t values[RR_MAX_METRICS];
} rr_record_json_in_t;

/* The JSON "type" of a kind ("shop_day", ..., "late", "invalid"). Static. */
const char *rr_record_json_kind_name(rr_record_json_kind_t kind);

/* Read the JSON object json[0..len) into *out. scratch: at least len bytes.
 * 0, or -1 with errstr saying what is wrong and at which byte. */
int rr_record_json_read(const char *json, size_t len, char *scratch, size_t scratch_size,
                        rr_record_json_in_t *out, char *errstr, size_t errstr_size);

#endif
