/* io/output.c: result files: records encoded by codec/record_{json,csv,pb}
 * into one growing buffer and written to a file sink, one write per record.
 *
 * The buffer is grown geometrically and never shrunk, so nothing is
 * allocated per record once it has reached the largest record's size; an
 * encoder told its record does not fit says how much room it needs, and the
 * record is encoded again into that. docs/output.md describes every form.
 */
#include "io/output.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "codec/record_csv.h"
#include "codec/record_json.h"
#include "codec/record_pb.h"
#include "codec/record_table.h"
#include "io/filesink.h"

enum csv_layout { CSV_NONE = 0, CSV_RESULTS, CSV_REJECTED };

/* The engine's four callbacks, each a kind of record to encode. */
enum rec { REC_DAY, REC_VIOLATION, REC_ALERT, REC_REJECTED };

struct rr_output {
    rr_format_t fmt;
    rr_filesink_t *fs;
    char *path; /* owned copy, for messages */
    char *buf;  /* the record being written: a CSV header, if first, then the record */
    size_t cap;
    uint64_t records;
    int failed;      /* sticky: the first error stops every later write */
    int sink_failed; /* ... and it was the file sink's: its close names the cause */
    char err[256];
    enum csv_layout layout;            /* CSV: fixed by the first record */
    int table;                         /* a loader table (rr_table_t), or -1: every record */
    uint64_t by_kind[RR_OUTPUT_KINDS]; /* records written, by kind */
};

static void set_error(rr_output_t *o, const char *what)
{
    if (o->failed) return;
    o->failed = 1;
    snprintf(o->err, sizeof o->err, "%s: %s", o->path ? o->path : "output", what);
}

/* Make the buffer hold at least n bytes. 0, or -1 with the output failed. */
static int reserve(rr_output_t *o, size_t n)
{
    if (n <= o->cap) return 0;
    size_t cap = o->cap ? o->cap : 4096;
    while (cap < n) {
        if (cap > SIZE_MAX / 2) {
            set_error(o, "record too large");
            return -1;
        }
        cap *= 2;
    }
    char *p = realloc(o->buf, cap);
    if (!p) {
        set_error(o, "out of memory");
        return -1;
    }
    o->buf = p;
    o->cap = cap;
    return 0;
}

/* Record r (of kind k) in o's form at buf[at..cap): its length, which may
 * exceed the room (codec/records.h). */
static size_t encode(const rr_output_t *o, enum rec k, const void *r, size_t at)
{
    char *b = o->buf + at;
    uint8_t *u = (uint8_t *)b;
    size_t room = o->cap - at;
    if (o->table >= 0) {
        int json = o->fmt == RR_FMT_JSONL;
        switch (k) {
        case REC_DAY:
            return rr_record_table_day(b, room, o->table, json, r);
        case REC_VIOLATION:
            return rr_record_table_violation(b, room, o->table, json, r);
        case REC_ALERT:
            return rr_record_table_alert(b, room, o->table, json, r);
        case REC_REJECTED:
            return 0;
        }
    }
    switch (o->fmt) {
    case RR_FMT_CSV:
        switch (k) {
        case REC_DAY:
            return rr_record_csv_day(b, room, r);
        case REC_VIOLATION:
            return rr_record_csv_violation(b, room, r);
        case REC_ALERT:
            return rr_record_csv_alert(b, room, r);
        case REC_REJECTED:
            return rr_record_csv_rejected(b, room, r);
        }
        break;
    case RR_FMT_PB:
        switch (k) {
        case REC_DAY:
            return rr_record_pb_day(u, room, r, RR_RECORD_PB_DELIMITED);
        case REC_VIOLATION:
            return rr_record_pb_violation(u, room, r, RR_RECORD_PB_DELIMITED);
        case REC_ALERT:
            return rr_record_pb_alert(u, room, r, RR_RECORD_PB_DELIMITED);
        case REC_REJECTED:
            return rr_record_pb_rejected(u, room, r, RR_RECORD_PB_DELIMITED);
        }
        break;
    case RR_FMT_JSONL:
        switch (k) {
        case REC_DAY:
            return rr_record_json_day(b, room, r);
        case REC_VIOLATION:
            return rr_record_json_violation(b, room, r);
        case REC_ALERT:
            return rr_record_json_alert(b, room, r);
        case REC_REJECTED:
            return rr_record_json_rejected(b, room, r);
        }
        break;
    }
    return 0;
}

/* CSV: the first record fixes the file's layout, and its header goes in
 * front of it; a file gets results or rejected events, never both (their
 * columns differ). The header's length (0 after the first record), or -1
 * with the output failed. */
static long csv_header(rr_output_t *o, enum rec k)
{
    enum csv_layout want = k == REC_REJECTED ? CSV_REJECTED : CSV_RESULTS;
    if (o->layout == want) return 0;
    if (o->layout != CSV_NONE) {
        set_error(o, want == CSV_REJECTED ? "a CSV results file cannot also hold late/invalid "
                                            "events; give them a file of their own"
                                          : "a CSV file of late/invalid events cannot also hold "
                                            "results; give them a file of their own");
        return -1;
    }
    o->layout = want;
    size_t n;
    const char *h = rr_record_csv_header(
        want == CSV_REJECTED ? RR_RECORD_CSV_REJECTED : RR_RECORD_CSV_RESULTS, &n);
    if (reserve(o, n)) return -1;
    memcpy(o->buf, h, n);
    return (long)n;
}

/* Whether a loader table takes a record of kind k: its day records (shop
 * or agent), its violations, its alerts. */
static int table_takes(int table, enum rec k, const void *r)
{
    switch (k) {
    case REC_DAY: {
        int agent = table == RR_TABLE_AGENT_DAY || table == RR_TABLE_AGENT_DAY_METRICS;
        int shop = table == RR_TABLE_SHOP_DAY || table == RR_TABLE_SHOP_DAY_METRICS;
        return ((const rr_day_record_t *)r)->is_agent ? agent : shop;
    }
    case REC_VIOLATION:
        return table == RR_TABLE_VIOLATIONS;
    case REC_ALERT:
        return table == RR_TABLE_ALERTS;
    case REC_REJECTED:
        break;
    }
    return 0;
}

/* A CSV loader table's header, in front of its first record: the wide
 * tables' columns come from that record's configuration. Its length (0
 * after the first record), or -1 with the output failed. */
static long table_header(rr_output_t *o, enum rec k, const void *r)
{
    if (o->layout != CSV_NONE) return 0;
    const rr_config_t *cfg = k == REC_DAY ? ((const rr_day_record_t *)r)->cfg : NULL;
    size_t n = rr_record_table_header(o->buf, o->cap, o->table, cfg);
    if (n > o->cap) {
        if (reserve(o, n)) return -1;
        n = rr_record_table_header(o->buf, o->cap, o->table, cfg);
    }
    o->layout = CSV_RESULTS;
    return (long)n;
}

/* Encode one record and hand it to the file sink in one write; count it. */
static void write_record(rr_output_t *o, enum rec k, const void *r, rr_output_kind_t kind)
{
    if (o->failed) return;
    if (o->table >= 0 && !table_takes(o->table, k, r)) return;
    size_t at = 0;
    if (o->fmt == RR_FMT_CSV) {
        long h = o->table >= 0 ? table_header(o, k, r) : csv_header(o, k);
        if (h < 0) return;
        at = (size_t)h;
    }
    size_t n = encode(o, k, r, at);
    if (n > o->cap - at) { /* did not fit: once more, with room for it */
        if (n > SIZE_MAX - at) {
            set_error(o, "record too large");
            return;
        }
        if (reserve(o, at + n)) return;
        n = encode(o, k, r, at);
    }
    if (at + n && rr_filesink_write(o->fs, o->buf, at + n) != 0) {
        set_error(o, "write failed");
        o->sink_failed = 1;
        return;
    }
    o->records++;
    o->by_kind[kind]++;
}

static void out_day(void *opaque, const rr_day_record_t *r)
{
    write_record(opaque, REC_DAY, r, r->is_agent ? RR_OUTPUT_AGENT_DAY : RR_OUTPUT_SHOP_DAY);
}

static void out_violation(void *opaque, const rr_violation_record_t *r)
{
    write_record(opaque, REC_VIOLATION, r, RR_OUTPUT_VIOLATION);
}

static void out_alert(void *opaque, const rr_alert_record_t *r)
{
    write_record(opaque, REC_ALERT, r, RR_OUTPUT_ALERT);
}

static void out_rejected(void *opaque, const rr_rejected_record_t *r)
{
    write_record(opaque, REC_REJECTED, r,
                 r->verdict == RR_LATE ? RR_OUTPUT_LATE : RR_OUTPUT_INVALID);
}

/* ------------------------------------------------------------ public API */

int rr_format_from_path(const char *path, rr_format_t *fmt, char *errstr, size_t errstr_size)
{
    if (path && strcmp(path, "-") == 0) {
        *fmt = RR_FMT_JSONL;
        return 0;
    }
    const char *p = path ? path : "";
    const char *base = strrchr(p, '/');
    base = base ? base + 1 : p;
    size_t n = strlen(base);
    if (n > 4 && strcasecmp(base + n - 4, ".zst") == 0) n -= 4;
    /* The extension of base[0..n): from its last '.', not counting a leading
     * dot of a hidden file's name. */
    size_t dot = n;
    while (dot > 0 && base[dot - 1] != '.')
        dot--;
    if (dot > 1) {
        const char *ext = base + dot;
        size_t elen = n - dot;
        if ((elen == 5 && strncasecmp(ext, "jsonl", 5) == 0) ||
            (elen == 4 && strncasecmp(ext, "json", 4) == 0)) {
            *fmt = RR_FMT_JSONL;
            return 0;
        }
        if (elen == 3 && strncasecmp(ext, "csv", 3) == 0) {
            *fmt = RR_FMT_CSV;
            return 0;
        }
        if (elen == 2 && strncasecmp(ext, "pb", 2) == 0) {
            *fmt = RR_FMT_PB;
            return 0;
        }
    }
    snprintf(errstr, errstr_size,
             "output '%s': unknown file extension; use .jsonl, .json, .csv or .pb, "
             "optionally followed by .zst, or - for JSON Lines on stdout",
             p);
    return -1;
}

/* The output of path, holding every record (table -1) or a loader table's. */
static int open_output(const char *path, int table, rr_output_t **out, char *errstr,
                       size_t errstr_size)
{
    rr_format_t fmt;
    *out = NULL;
    if (rr_format_from_path(path, &fmt, errstr, errstr_size)) return -1;
    if (table >= 0 && fmt == RR_FMT_PB) {
        snprintf(errstr, errstr_size, "output '%s': a loader table is CSV or JSON Lines, not pb",
                 path);
        return -1;
    }
    rr_output_t *o = calloc(1, sizeof *o);
    if (!o) goto oom;
    o->fmt = fmt;
    o->table = table;
    o->path = strdup(path);
    o->cap = 4096; /* grown to the largest record written */
    o->buf = malloc(o->cap);
    if (!o->path || !o->buf) goto oom;
    if (rr_filesink_open(path, 0, &o->fs, errstr, errstr_size)) goto fail;
    *out = o;
    return 0;
oom:
    snprintf(errstr, errstr_size, "output '%s': out of memory", path);
fail:
    if (o) {
        free(o->path);
        free(o->buf);
    }
    free(o);
    return -1;
}

int rr_output_open(const char *path, rr_output_t **out, char *errstr, size_t errstr_size)
{
    return open_output(path, -1, out, errstr, errstr_size);
}

int rr_output_open_table(const char *path, rr_table_t table, rr_output_t **out, char *errstr,
                         size_t errstr_size)
{
    return open_output(path, (int)table, out, errstr, errstr_size);
}

void rr_output_sink(rr_output_t *o, rr_sink_t *sink)
{
    *sink = (rr_sink_t){.opaque = o,
                        .day = out_day,
                        .violation = out_violation,
                        .alert = out_alert,
                        .rejected = out_rejected};
}

uint64_t rr_output_records(const rr_output_t *o)
{
    return o ? o->records : 0;
}

uint64_t rr_output_records_of(const rr_output_t *o, rr_output_kind_t kind)
{
    return o && kind >= 0 && kind < RR_OUTPUT_KINDS ? o->by_kind[kind] : 0;
}

const char *rr_output_kind_name(rr_output_kind_t kind)
{
    static const char *const names[RR_OUTPUT_KINDS] = {"shop_day", "agent_day", "violation",
                                                       "alert",    "late",      "invalid"};
    return kind >= 0 && kind < RR_OUTPUT_KINDS ? names[kind] : "?";
}

const char *rr_format_name(rr_format_t fmt)
{
    return fmt == RR_FMT_CSV ? "csv" : fmt == RR_FMT_PB ? "pb" : "jsonl";
}

rr_format_t rr_output_format(const rr_output_t *o)
{
    return o->fmt;
}

int rr_output_compressed(const rr_output_t *o)
{
    return o->fs && rr_filesink_compressed(o->fs);
}

uint64_t rr_output_bytes(const rr_output_t *o)
{
    return o->fs ? rr_filesink_bytes_out(o->fs) : 0;
}

/* The error to report after the file sink returned rc (its message in
 * cerr): the output's own first error, unless it was the sink's and the
 * sink says more. 0 or -1. */
static int report(const rr_output_t *o, int rc, const char *cerr, char *errstr, size_t errstr_size)
{
    if (o->failed && !(o->sink_failed && rc && cerr[0])) {
        snprintf(errstr, errstr_size, "%s", o->err);
        return -1;
    }
    if (rc) { /* the sink's own message names the path and the cause */
        if (cerr[0])
            snprintf(errstr, errstr_size, "%s", cerr);
        else
            snprintf(errstr, errstr_size, "%s: close failed", o->path);
        return -1;
    }
    return 0;
}

int rr_output_finish(rr_output_t *o, char *errstr, size_t errstr_size)
{
    char cerr[256] = "";
    int rc = rr_filesink_finish(o->fs, cerr, sizeof cerr);
    return report(o, rc, cerr, errstr, errstr_size);
}

int rr_output_sha256(rr_output_t *o, uint8_t digest[32], char *errstr, size_t errstr_size)
{
    return rr_filesink_sha256(o->fs, digest, errstr, errstr_size);
}

void rr_output_abort(rr_output_t *o)
{
    if (!o) return;
    rr_filesink_abort(o->fs);
    free(o->buf);
    free(o->path);
    free(o);
}

int rr_output_close(rr_output_t *o, char *errstr, size_t errstr_size)
{
    if (!o) return 0;
    char cerr[256] = "";
    /* A failed output is never published. When its file sink failed, the
     * sink's close discards the file and says why; when the output itself
     * did (a record it could not render), the sink is sound and would publish
     * a file missing records: abort it. */
    int rc = 0;
    if (o->failed && !o->sink_failed)
        rr_filesink_abort(o->fs);
    else
        rc = rr_filesink_close(o->fs, cerr, sizeof cerr);
    rc = report(o, rc, cerr, errstr, errstr_size);
    free(o->buf);
    free(o->path);
    free(o);
    return rc;
}
