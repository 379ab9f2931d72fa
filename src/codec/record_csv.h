/* codec/record_csv.h: result records as CSV rows (SPEC §6; docs/output.md,
 * "CSV").
 *
 * RFC 4180: a field holding , " CR or LF is quoted with " doubled; rows end
 * with '\n'; strings are written as given (no byte replacement). Two
 * layouts, whose columns differ: results (27 columns; a shop_day or
 * agent_day is one row per metric shown, or one row with the metric columns
 * empty when it shows none) and rejected events (17 columns). A file holds
 * one layout: the caller writes its header (rr_record_csv_header) before
 * the first row and keeps the other kind out.
 *
 * Contract (codec/records.h): at most cap bytes at buf; returns the
 * record's length (all its rows), which above cap means "encode again with
 * that much room". r and everything it points to are borrowed for the call.
 * Nothing allocates. Thread-safety: pure functions. Layer: codec; uses
 * engine, metrics, libc.
 */
#ifndef RR_CODEC_RECORD_CSV_H
#define RR_CODEC_RECORD_CSV_H

#include <stddef.h>

#include "codec/wbuf.h"
#include "replyrate/engine.h"

typedef enum rr_record_csv_layout {
    RR_RECORD_CSV_RESULTS,  /* shop_day, agent_day, violation, alert */
    RR_RECORD_CSV_REJECTED, /* late and invalid events */
} rr_record_csv_layout_t;

/* The header row of a layout, '\n' included (static storage); its length
 * in *len. */
const char *rr_record_csv_header(rr_record_csv_layout_t layout, size_t *len);

/* Results layout. */
size_t rr_record_csv_day(char *buf, size_t cap, const rr_day_record_t *r);
size_t rr_record_csv_violation(char *buf, size_t cap, const rr_violation_record_t *r);
size_t rr_record_csv_alert(char *buf, size_t cap, const rr_alert_record_t *r);
/* Rejected-events layout. */
size_t rr_record_csv_rejected(char *buf, size_t cap, const rr_rejected_record_t *r);

/* s (NULL: empty) as one CSV field, quoted only when it holds , " CR or LF. */
void rr_record_csv_str(rr_wbuf_t *w, const char *s);

#endif
