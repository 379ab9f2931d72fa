/* report/html.h: one night's tally (report/tally.h) as a static HTML page.
 *
 * The page stands alone: inline CSS, inline SVG charts, no script, nothing
 * fetched; drill-down is <details>. docs/report.md describes its parts. Every
 * number a reader (or a test) may want to read back carries it exactly in an
 * attribute: data-k names what it is (data-k="applied" data-v="123"), and a
 * score carries data-num and data-den, so nothing has to be parsed back from
 * the formatted text (which groups digits and rounds ratios).
 *
 * Every string that comes from the files (versions, paths, metric and rule
 * names, reasons, the time zone) is escaped for HTML text and attributes;
 * bytes that are not UTF-8, and control characters, show as U+FFFD.
 *
 * Pure: no I/O; the page is the same for the same tally. Layer: report;
 * uses report/tally, report/csv (time parsing), engine/tz.
 */
#ifndef RR_REPORT_HTML_H
#define RR_REPORT_HTML_H

#include <stddef.h>

#include "report/tally.h"

/* The page for t (borrowed) into *out (malloc'd, NUL-terminated; the caller
 * frees it) and its length. 0, or -1 when out of memory. */
int rr_html_render(const rr_tally_t *t, char **out, size_t *len);

/* s escaped for HTML text and attribute values, as the page writes it, into
 * *out (malloc'd). 0, or -1 when out of memory. For tests. */
int rr_html_escape(const char *s, char **out);

#endif
