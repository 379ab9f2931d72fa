/* report/csv.h: a strict reader of the CSV files `replyrate run --output-dir`
 * writes (docs/output.md, "CSV"), plain or zstd-compressed, for the report.
 *
 * RFC 4180 as the engine writes it: fields separated by ',', a field holding
 * , " CR or LF quoted with '"' doubled, every row ended by '\n' (a "\r\n"
 * is taken as one line end too), the first row the header. A 0-byte file is
 * a file with no header and no rows (an output that received no record).
 *
 * Strict, because the files are the engine's and a file that breaks these
 * rules is damaged, not a dialect: a quote inside an unquoted field, a
 * character after a closing quote, a bare CR, a NUL byte, an unterminated
 * quoted field, a last row without its '\n' (the file was cut), a row whose
 * number of fields is not the header's, and a zstd stream that is damaged
 * or ends inside a frame are errors. Every error is one message naming the
 * file and the line the row starts on ("shop_day_metrics.csv:17: ...").
 *
 * Memory is bounded whatever the input: a field keeps at most
 * RR_CSV_FIELD_KEEP bytes (a longer one is marked cut: its typed getters
 * fail, since its text is not all there; a column the caller does not read,
 * such as raw_hex, may be any length), and a row has at most RR_CSV_MAX_FIELDS
 * fields. Reading allocates only when a row is longer than any before.
 *
 * Ownership: an rr_csv_t owns its buffers and file descriptor; the field
 * pointers it hands out are valid until the next rr_csv_next or rr_csv_close.
 * One reader is used by one thread. Layer: report; uses zstd, libc. Prints
 * nothing: errors go to errstr.
 */
#ifndef RR_REPORT_CSV_H
#define RR_REPORT_CSV_H

#include <stddef.h>
#include <stdint.h>

#define RR_CSV_FIELD_KEEP ((size_t)64 << 10)
#define RR_CSV_MAX_FIELDS 256

typedef struct rr_csv rr_csv_t;

/* Open path (borrowed; "NAME.zst" is read through zstd) and read its header
 * row. 0 with *out a reader (free it with rr_csv_close), or -1 with errstr
 * naming path. An empty file opens with no columns and no rows. */
int rr_csv_open(const char *path, rr_csv_t **out, char *errstr, size_t errstr_size);

/* The same over n bytes in memory (borrowed until rr_csv_close), named name
 * in messages (copied); zstd when zstd is non-zero. For tests and fuzzing. */
int rr_csv_open_mem(const char *name, const void *p, size_t n, int zstd, rr_csv_t **out,
                    char *errstr, size_t errstr_size);

void rr_csv_close(rr_csv_t *c);

/* The name given at open (borrowed from the reader). */
const char *rr_csv_name(const rr_csv_t *c);

/* Number of header columns (0 for an empty file), and the index of the
 * column called name, or -1. */
size_t rr_csv_columns(const rr_csv_t *c);
int rr_csv_column(const rr_csv_t *c, const char *name);

/* The name of header column i (< rr_csv_columns), owned by the reader. */
const char *rr_csv_header(const rr_csv_t *c, size_t i);

/* Look up each of n column names, into idx[i]. 0, or -1 with errstr naming
 * the file and the first missing column. */
int rr_csv_require(const rr_csv_t *c, const char *const *names, int *idx, size_t n, char *errstr,
                   size_t errstr_size);

/* Read the next row. 1 with a row, 0 at the end of the file, -1 with errstr
 * ("FILE:LINE: reason"). After -1 the reader stays failed. */
int rr_csv_next(rr_csv_t *c, char *errstr, size_t errstr_size);

/* The line the current row starts on (the header is line 1). */
uint64_t rr_csv_line(const rr_csv_t *c);

/* Rows read so far, the header not counted. */
uint64_t rr_csv_rows(const rr_csv_t *c);

/* Field i of the current row (i < rr_csv_columns): its bytes, followed by
 * a NUL (fields hold none: the reader refuses NUL bytes), and its length
 * (len may be NULL). *cut (may be NULL) is set when the field was longer
 * than RR_CSV_FIELD_KEEP and only its start is kept. */
const char *rr_csv_field(const rr_csv_t *c, size_t i, size_t *len, int *cut);

/* Typed getters of field i of the current row. Each returns 0, 1 for an
 * empty cell when the getter allows one (the _opt forms; *v untouched), or
 * -1 with errstr "FILE:LINE: column NAME: 'TEXT' is not ..." naming the
 * column by the header's name. */
int rr_csv_u64(const rr_csv_t *c, size_t i, uint64_t *v, char *errstr, size_t errstr_size);
int rr_csv_u64_opt(const rr_csv_t *c, size_t i, uint64_t *v, char *errstr, size_t errstr_size);
/* true / false */
int rr_csv_bool(const rr_csv_t *c, size_t i, int *v, char *errstr, size_t errstr_size);
/* YYYY-MM-DD, a valid date: days since 1970-01-01 */
int rr_csv_day(const rr_csv_t *c, size_t i, int32_t *day, char *errstr, size_t errstr_size);
/* YYYY-MM-DDTHH:MM:SS[.mmm]Z: Unix ms */
int rr_csv_utc_ms(const rr_csv_t *c, size_t i, int64_t *ms, char *errstr, size_t errstr_size);
/* a string of at most max - 1 bytes, not cut, copied into buf (max bytes) */
int rr_csv_str(const rr_csv_t *c, size_t i, char *buf, size_t max, char *errstr,
               size_t errstr_size);

/* The parsers behind the getters, for any text: 0 or -1. */
int rr_csv_parse_u64(const char *s, size_t n, uint64_t *v);
int rr_csv_parse_day(const char *s, size_t n, int32_t *day);
int rr_csv_parse_utc_ms(const char *s, size_t n, int64_t *ms);

#endif
