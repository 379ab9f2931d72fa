/* report/runinfo.h: what the report needs of a run's manifest.json (io/manifest.h,
 * docs/operations.md "The run manifest"): the few fields it shows, read with a
 * small, strict JSON parser of its own.
 *
 * The parser takes any JSON text (RFC 8259: objects, arrays, strings with
 * every escape including surrogate pairs, numbers, true/false/null) up to
 * RR_RUNINFO_MAX_BYTES and RR_RUNINFO_MAX_DEPTH levels, and refuses the rest
 * with "FILE:LINE: reason". Of the document it keeps only the fields below;
 * unknown fields are skipped, so a newer manifest still reads. Required:
 * replyrate_version, metric_set and the counts input, applied, duplicate,
 * late, invalid (unsigned integers); optional: time_zone (a manifest written
 * before it had one reads as RR_RUNINFO_DEFAULT_TZ, has_time_zone 0),
 * started_at, ended_at, status, complete, inputs, outputs. A field of the
 * wrong JSON type is an error naming it.
 *
 * Ownership: rr_runinfo_t owns its lists (rr_runinfo_free). Pure functions
 * apart from rr_runinfo_load's read of the file. Layer: report; libc.
 * Prints nothing: errors go to errstr.
 */
#ifndef RR_REPORT_RUNINFO_H
#define RR_REPORT_RUNINFO_H

#include <stddef.h>
#include <stdint.h>

#define RR_RUNINFO_MAX_BYTES ((size_t)16 << 20)
#define RR_RUNINFO_MAX_DEPTH 32
/* SPEC §3: the job's time zone when none is configured */
#define RR_RUNINFO_DEFAULT_TZ "Asia/Shanghai"

typedef struct rr_runinfo_input {
    char *path;  /* an input file, or NULL for a Kafka partition */
    char *topic; /* a Kafka partition: topic, partition, [from, to) */
    int64_t partition, from_offset, to_offset;
    uint64_t bytes;
} rr_runinfo_input_t;

typedef struct rr_runinfo_output {
    char *flag;       /* how the run was told: "--output-dir", "--output", ... (NULL: absent) */
    char *path;       /* as the manifest names it */
    uint64_t bytes;   /* the file's size when published */
    uint64_t records; /* the sum of its records by kind */
    int has_bytes, has_records;
} rr_runinfo_output_t;

typedef struct rr_runinfo {
    char replyrate_version[64];
    char metric_set[64];
    char time_zone[128];
    int has_time_zone;
    char started_at[40], ended_at[40]; /* as written (UTC ISO 8601), "" when absent */
    int64_t status;                    /* -1 when absent */
    int complete;                      /* 1, 0, or -1 when absent */
    uint64_t input, applied, duplicate, late, invalid;
    rr_runinfo_input_t *inputs;
    size_t n_inputs;
    rr_runinfo_output_t *outputs;
    size_t n_outputs;
} rr_runinfo_t;

/* Parse the manifest text json[0..len) (borrowed), named name in messages,
 * into *ri (zeroed first). 0, or -1 with errstr; *ri is then empty. */
int rr_runinfo_parse(const char *name, const char *json, size_t len, rr_runinfo_t *ri, char *errstr,
                     size_t errstr_size);

/* Read and parse the file at path. 0, or -1 with errstr naming path (a
 * missing file: "PATH: No such file or directory"). */
int rr_runinfo_load(const char *path, rr_runinfo_t *ri, char *errstr, size_t errstr_size);

void rr_runinfo_free(rr_runinfo_t *ri);

#endif
