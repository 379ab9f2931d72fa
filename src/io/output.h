/* io/output.h: result files in the three forms of SPEC §6.
 *
 * An rr_output_t encodes the engine's records (shop_day, agent_day, violation,
 * alert; late and invalid events when it serves as a --late or --dead-letter
 * file) into one file through an rr_filesink_t (src/io/filesink.h):
 *
 *   .jsonl / .json   JSON Lines, one record per line, exactly SPEC §6
 *   .csv             RFC 4180 CSV, a header row, then long-format rows
 *   .pb              delimited protobuf (varint length prefix) of
 *                    replyrate.v1.ResultRecord (proto/replyrate/v1/results.proto)
 *   any of them + .zst   zstd-compressed (level 3, by the file sink)
 *   "-"              JSON Lines on stdout
 *
 * docs/output.md is the field-by-field description of each form. The
 * encodings are codec/'s (codec/records.h); this module owns the file: its
 * form by extension, the CSV header and layout, the count of records by
 * kind, and the errors.
 *
 * Writing allocates nothing per record: every record is encoded into one
 * reusable, growing buffer owned by the output and handed to the file sink in
 * one write. Write errors are sticky: the first one stops further writes and
 * is what rr_output_finish and rr_output_close report.
 *
 * The file appears under its name only when complete (io/filesink.h): it is
 * written as a temporary beside it and renamed by rr_output_close; a failed
 * output, or one given up with rr_output_abort, leaves the file of that
 * name, if any, as it was. A run with several outputs finishes all of them
 * (rr_output_finish) and then closes all, or aborts all.
 *
 * Thread-safety: an rr_output_t is not thread-safe; use one per engine (or
 * lock around it). Layer: io; uses codec (the encoders), io/filesink, engine
 * (the record types), libc. Prints nothing.
 */
#ifndef RR_IO_OUTPUT_H
#define RR_IO_OUTPUT_H

#include <stddef.h>
#include <stdint.h>

#include "codec/record_table.h"
#include "replyrate/engine.h"

typedef enum rr_format {
    RR_FMT_JSONL,
    RR_FMT_CSV,
    RR_FMT_PB,
} rr_format_t;

typedef struct rr_output rr_output_t;

/* The kinds of record an output counts (rr_output_records_of). */
typedef enum rr_output_kind {
    RR_OUTPUT_SHOP_DAY,
    RR_OUTPUT_AGENT_DAY,
    RR_OUTPUT_VIOLATION,
    RR_OUTPUT_ALERT,
    RR_OUTPUT_LATE,
    RR_OUTPUT_INVALID,
    RR_OUTPUT_KINDS
} rr_output_kind_t;

/* The form a path's extension selects (case-insensitive; a trailing ".zst"
 * is looked through): .jsonl/.json -> RR_FMT_JSONL, .csv -> RR_FMT_CSV,
 * .pb -> RR_FMT_PB; "-" (stdout) -> RR_FMT_JSONL. path is borrowed.
 * Returns 0, or -1 with errstr naming the path and the accepted extensions. */
int rr_format_from_path(const char *path, rr_format_t *fmt, char *errstr, size_t errstr_size);

/* "jsonl", "csv" or "pb". */
const char *rr_format_name(rr_format_t fmt);

/* Start the file that will become path, in the form its extension selects
 * (a temporary beside it; path itself is untouched until rr_output_close).
 * path is borrowed. On success *out is owned by the caller until
 * rr_output_close or rr_output_abort. Returns 0, or -1 with errstr set
 * (unknown extension, file cannot be created, out of memory). */
int rr_output_open(const char *path, rr_output_t **out, char *errstr, size_t errstr_size);

/* As rr_output_open, for one loader table of `run --output-dir`
 * (codec/record_table.h): the file takes only that table's records (a
 * shop_day table its shop_day records, ...) and ignores the others; its
 * form is CSV or JSON Lines (a .pb path is refused). Its record counts are
 * records, not rows (a narrow table's shop_day is a row per metric). */
int rr_output_open_table(const char *path, rr_table_t table, rr_output_t **out, char *errstr,
                         size_t errstr_size);

/* Fill *sink so that the engine's records are written to o: every callback
 * (day, violation, alert, rejected) is set and sink->opaque is o. o is
 * borrowed by the sink: close o only after the last callback. A caller that
 * wants only some records (e.g. the rejected ones for a --late file) copies
 * the callbacks it wants. */
void rr_output_sink(rr_output_t *o, rr_sink_t *sink);

/* Records written so far (a shop_day is one record even when CSV writes it
 * as several rows). */
uint64_t rr_output_records(const rr_output_t *o);

/* Records written so far of one kind ("shop_day", ... by rr_output_kind_name). */
uint64_t rr_output_records_of(const rr_output_t *o, rr_output_kind_t kind);
const char *rr_output_kind_name(rr_output_kind_t kind);

/* The output's form, whether it is zstd-compressed, and the bytes written
 * to its file so far (compressed; final after rr_output_finish). */
rr_format_t rr_output_format(const rr_output_t *o);
int rr_output_compressed(const rr_output_t *o);
uint64_t rr_output_bytes(const rr_output_t *o);

/* Flush, end and fsync the file: complete, not yet under its name, and no
 * more records. Returns 0, or -1 with errstr holding the first error (a
 * failed write, flush or fsync); then only rr_output_close (which reports it
 * again and publishes nothing) or rr_output_abort remain. */
int rr_output_finish(rr_output_t *o, char *errstr, size_t errstr_size);

/* After rr_output_finish: the SHA-256 of the file's bytes. 0; 1 when there
 * is no file to read back (stdout, a FIFO or device); -1 with errstr. */
int rr_output_sha256(rr_output_t *o, uint8_t digest[32], char *errstr, size_t errstr_size);

/* Finish (if not done), publish the file under its name and free o (o may
 * be NULL). Returns 0, or -1 with errstr holding the first error: a failed
 * write, flush, fsync, close or rename; then nothing is published and the
 * file of that name, if any, is left as it was. */
int rr_output_close(rr_output_t *o, char *errstr, size_t errstr_size);

/* Give up: remove the temporary, publish nothing, free o (o may be NULL). */
void rr_output_abort(rr_output_t *o);

#endif
