/* pipeline/outdir.h: the directory of loader files (`--output-dir`, in `run`
 * and `export`): its form, its files' paths, the manifest's.
 *
 * A directory holds RR_OUTDIR_FILES files: the RR_TABLES loader tables of
 * codec/record_table.h (shop_day.EXT, ...), then late.EXT and
 * dead_letter.EXT, and manifest.json. EXT is the form: csv, jsonl, csv.zst
 * or jsonl.zst (docs/output.md, "Loader files").
 *
 * Stateless and thread-safe; dir and ext are borrowed. Layer: pipeline
 * (codec for the table names, libc).
 */
#ifndef RR_PIPELINE_OUTDIR_H
#define RR_PIPELINE_OUTDIR_H

#include <stddef.h>

#include "codec/record_table.h"

#define RR_OUTDIR_FILES (RR_TABLES + 2)
#define RR_OUTDIR_LATE RR_TABLES
#define RR_OUTDIR_DEAD (RR_TABLES + 1)
#define RR_OUTDIR_PATH_MAX 4096

typedef struct rr_outdir {
    char path[RR_OUTDIR_FILES][RR_OUTDIR_PATH_MAX]; /* the tables, late, dead_letter */
    char manifest[RR_OUTDIR_PATH_MAX];
} rr_outdir_t;

/* Check ext (NULL: csv), create dir if it does not exist (its parent must)
 * and fill *d with the paths of its files. 0, or -1 with errstr naming the
 * flag's value (an unknown form, a directory that cannot be created, not a
 * directory, a path too long). */
int rr_outdir_prepare(const char *dir, const char *ext, rr_outdir_t *d, char *errstr,
                      size_t errstr_size);

#endif
