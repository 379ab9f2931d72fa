/* codec/record_table.h: result records as rows of warehouse tables, the
 * files `run --output-dir` writes (docs/output.md, "Loader files").
 *
 * The record forms of record_json.h and record_csv.h mirror the records;
 * these mirror the tables a loader fills: one table per record type, typed
 * columns a database reads without glue:
 *
 *   shop_day           a (shop, day): the key, then NAME_num, NAME_den (and
 *                      NAME_unanswered for response_time) for every metric
 *                      of the job's configuration (wide; 0 when not shown)
 *   shop_day_metrics   a (shop, day, metric shown): num, den, unanswered and
 *                      b0..b7 (the last nine empty off response_time)
 *   agent_day, agent_day_metrics   the same per (shop, agent, day), with the
 *                      per-agent metrics only
 *   violations         a violation; round_start and reply_at as UTC
 *                      timestamps, reply_at and wait_ms empty unanswered
 *   alerts             an alert
 *
 * A day is an ISO date (2026-11-22), a timestamp ISO 8601 UTC with
 * milliseconds (2026-11-22T02:00:00.000Z), ids unsigned 64-bit decimals,
 * final true/false, revision 0 on a final record.
 *
 * Two forms of the same columns: CSV (RFC 4180, as record_csv.h; an empty
 * cell for a value that does not apply) and JSON Lines (one flat object a
 * row, keys as the CSV header, null for an empty cell, the date and
 * timestamps as strings). The header and the rows are written by the same
 * code, so they cannot disagree.
 *
 * Contract (codec/records.h): at most cap bytes at buf; returns the whole
 * length, which above cap means "encode again with that much room". A record
 * of another table is no row (0). Nothing allocates. Thread-safety: pure
 * functions. Layer: codec; uses engine (records, civil dates), metrics, libc.
 */
#ifndef RR_CODEC_RECORD_TABLE_H
#define RR_CODEC_RECORD_TABLE_H

#include <stddef.h>

#include "replyrate/config.h"
#include "replyrate/engine.h"

typedef enum rr_table {
    RR_TABLE_SHOP_DAY,
    RR_TABLE_SHOP_DAY_METRICS,
    RR_TABLE_AGENT_DAY,
    RR_TABLE_AGENT_DAY_METRICS,
    RR_TABLE_VIOLATIONS,
    RR_TABLE_ALERTS,
    RR_TABLES
} rr_table_t;

/* "shop_day", "shop_day_metrics", ...: the table's file name without its
 * extension. Static storage. */
const char *rr_table_name(rr_table_t t);

/* CSV: the header row of t, '\n' included; the wide tables' columns follow
 * cfg's metrics (cfg may be NULL for the others). */
size_t rr_record_table_header(char *buf, size_t cap, rr_table_t t, const rr_config_t *cfg);

/* The rows of one record in table t: a day record gives one row in a wide
 * table, one per metric shown in a narrow one, none in the others; json
 * selects JSON Lines over CSV. */
size_t rr_record_table_day(char *buf, size_t cap, rr_table_t t, int json, const rr_day_record_t *r);
size_t rr_record_table_violation(char *buf, size_t cap, rr_table_t t, int json,
                                 const rr_violation_record_t *r);
size_t rr_record_table_alert(char *buf, size_t cap, rr_table_t t, int json,
                             const rr_alert_record_t *r);

#endif
