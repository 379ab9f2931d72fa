/* io/manifest.h: the run manifest, the marker a loader trusts.
 *
 * A bounded run that publishes its files writes, last, one JSON document
 * beside them (by default `<first --output>.manifest.json`): what produced
 * them (replyrate version, metric-set id, the SHA-256 of the effective
 * configuration), what they were made from (input files with their byte
 * counts; Kafka topic partitions with the offset range read), every output
 * (path, form, records by kind, bytes, SHA-256 of the file as published), the
 * run's counts, whether its input was complete, its status and its start
 * and end times. It is written only when every output has been published
 * (rename), itself atomically (io/tmpfile.h), so a manifest that exists
 * describes files that are all there and whole; a loader checks the
 * sha256s to know they are still the ones described. docs/operations.md
 * documents every field.
 *
 * rr_manifest_t is a plain struct the caller fills (scalars directly, lists
 * through rr_manifest_add_*, which copy their strings); it owns its lists
 * until rr_manifest_free. Rendering and writing do not change it. Not
 * thread-safe: fill it from one thread.
 * Layer: io; uses io/output (record kinds), io/filesink, io/sha256,
 * metrics (the configuration). Prints nothing: errors go to errstr.
 */
#ifndef RR_IO_MANIFEST_H
#define RR_IO_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "io/sha256.h"
#include "io/filesink.h"
#include "replyrate/config.h"

#define RR_MANIFEST_VERSION 1

/* The record kinds an output counts: io/output.h's rr_output_kind_t,
 * in its order and by its names. */
#define RR_MANIFEST_KINDS 6

typedef struct rr_manifest_input {
    char *path;     /* a file (as given; "-" for stdin), or NULL for a Kafka partition */
    uint64_t bytes; /* file bytes read (compressed bytes for zstd) */
    char *topic;    /* a Kafka partition: topic, partition, offsets [from, to) read */
    int32_t partition;
    int64_t from_offset, to_offset;
} rr_manifest_input_t;

typedef struct rr_manifest_output {
    char *flag;     /* how it was named: "--output", "--late", "--dead-letter" */
    char *path;     /* as given; "-" for stdout */
    char *format;   /* "jsonl", "csv", "pb" */
    int compressed; /* zstd */
    uint64_t bytes; /* of the file (compressed) */
    int has_sha256; /* 0 for stdout, FIFOs, devices: nothing to read back */
    char sha256[RR_SHA256_HEX_LEN];
    uint64_t records[RR_MANIFEST_KINDS]; /* shop_day, agent_day, violation, alert, late, invalid */
} rr_manifest_output_t;

typedef struct rr_manifest {
    /* what made the outputs */
    char replyrate_version[32];
    char metric_set[32];                   /* rr_config_version */
    char config_sha256[RR_SHA256_HEX_LEN]; /* of rr_config_canonical's text */
    char time_zone[RR_NAME_MAX];           /* the job's: its days are local dates there */
    char cwd[1024];                        /* relative paths are relative to it */
    int64_t started_ms, ended_ms;          /* Unix ms, rendered as UTC ISO 8601 */
    /* the run's outcome */
    int status; /* its exit status (0 when published) */
    uint64_t input, applied, duplicate, late, invalid;
    uint64_t unread_bytes, missing_records; /* complete when both are 0 */
    /* the gates it ran with */
    int allow_empty, allow_incomplete;
    double max_invalid_ratio;
    /* lists, owned */
    rr_manifest_input_t *inputs;
    size_t n_inputs, cap_inputs;
    rr_manifest_output_t *outputs;
    size_t n_outputs, cap_outputs;
} rr_manifest_t;

/* Zero *m, then fill the version, the working directory and started_ms
 * (now). version is borrowed. */
void rr_manifest_init(rr_manifest_t *m, const char *version, int64_t now_ms);

/* metric_set, config_sha256 and time_zone from the run's configuration. 0, or -1 when
 * out of memory. */
int rr_manifest_set_config(rr_manifest_t *m, const rr_config_t *cfg);

/* Append an input file / a Kafka partition's offset range; strings are
 * copied. 0, or -1 when out of memory. The Kafka one is for bounded runs:
 * [from_offset, to_offset) is what was read of the partition. */
int rr_manifest_add_file_input(rr_manifest_t *m, const char *path, uint64_t bytes);
int rr_manifest_add_kafka_input(rr_manifest_t *m, const char *topic, int32_t partition,
                                int64_t from_offset, int64_t to_offset);

/* Append an output; o's strings are copied, sha256 used when has_sha256.
 * 0, or -1 when out of memory. */
int rr_manifest_add_output(rr_manifest_t *m, const rr_manifest_output_t *o);

/* The manifest as JSON (one document, an entry per line, a final newline)
 * into *json (malloc'd, the caller frees) and its length. 0, or -1 when
 * out of memory. */
int rr_manifest_render(const rr_manifest_t *m, char **json, size_t *len);

/* Write the rendered manifest to a file that will become path and finish
 * it (written and fsynced, not yet under its name): *out is the finished
 * sink, which the caller publishes with rr_filesink_close once every output
 * is published, or drops with rr_filesink_abort. 0, or -1 with errstr
 * naming path. */
int rr_manifest_prepare(const rr_manifest_t *m, const char *path, rr_filesink_t **out, char *errstr,
                        size_t errstr_size);

/* Free the lists (m itself is the caller's). */
void rr_manifest_free(rr_manifest_t *m);

#endif
