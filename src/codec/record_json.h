/* codec/record_json.h: result records as JSON Lines (SPEC §6; docs/output.md,
 * "JSON Lines").
 *
 * Each function writes one record as one JSON object and its '\n', in the
 * field order docs/output.md shows, with no spaces. Ids and counts are
 * numbers; strings are escaped (" \ and control characters), and bytes that
 * are not valid UTF-8 become U+FFFD so every line parses whatever a file name
 * or reason holds.
 *
 * Contract (codec/records.h): at most cap bytes at buf; returns the record's
 * length, which above cap means "encode again with that much room". r and
 * everything it points to are borrowed for the call. Nothing allocates.
 * Thread-safety: pure functions. Layer: codec; uses engine, metrics, libc.
 */
#ifndef RR_CODEC_RECORD_JSON_H
#define RR_CODEC_RECORD_JSON_H

#include <stddef.h>

#include "codec/wbuf.h"
#include "replyrate/engine.h"

size_t rr_record_json_day(char *buf, size_t cap, const rr_day_record_t *r);
size_t rr_record_json_violation(char *buf, size_t cap, const rr_violation_record_t *r);
size_t rr_record_json_alert(char *buf, size_t cap, const rr_alert_record_t *r);
/* A late or invalid event ("type":"late" / "invalid"). */
size_t rr_record_json_rejected(char *buf, size_t cap, const rr_rejected_record_t *r);

/* str (NULL: "") as a JSON string with its quotes, escaped as above. */
void rr_record_json_str(rr_wbuf_t *w, const char *str);

#endif
