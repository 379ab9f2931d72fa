/* pipeline/run_files.h: a run's result files, published together or not at all.
 *
 * `replyrate run` writes up to RR_RUN_FILES_MAX files (every --output, the
 * --late and --dead-letter files, --output-dir's) and, last, the manifest (io/manifest.h).
 * Each is written under a temporary name (io/output.h, io/tmpfile.h).
 * rr_run_files_publish finishes them all (flush, fsync) and hashes them;
 * only when every one is complete does it remove the previous manifest,
 * rename every output into place and then write the new manifest, so a
 * manifest that exists always describes complete files. rr_run_files_abort
 * removes every temporary and touches no file under a final name.
 *
 * A failure while renaming (a rename(2) refused between two outputs: a
 * disk gone read-only) can leave the outputs renamed before it published
 * and no manifest: the run exits 1, and the absent manifest says not to
 * trust what is there.
 *
 * Owns its outputs; paths and flags are borrowed for the struct's life.
 * One thread (the sinks it hands out are called by one caller at a time:
 * pipeline/fanout.h). Layer: pipeline (io/output, io/manifest, io/tmpfile).
 */
#ifndef RR_PIPELINE_RUN_FILES_H
#define RR_PIPELINE_RUN_FILES_H

#include <stddef.h>

#include "io/output.h"
#include "io/manifest.h"

#define RR_RUN_FILES_MAX 24

typedef struct rr_run_files {
    struct {
        const char *flag; /* "--output", "--late", "--dead-letter" */
        const char *path;
        rr_output_t *out;
    } f[RR_RUN_FILES_MAX];
    int n;
} rr_run_files_t;

/* Start the file for path (named by flag) and fill *sink with its record
 * callbacks. 0, or -1 with errstr naming flag and path. */
int rr_run_files_open(rr_run_files_t *rf, const char *flag, const char *path, rr_sink_t *sink,
                      char *errstr, size_t errstr_size);

/* As rr_run_files_open, for a loader table of --output-dir (io/output.h,
 * rr_output_open_table). */
int rr_run_files_open_table(rr_run_files_t *rf, const char *flag, const char *path,
                            rr_table_t table, rr_sink_t *sink, char *errstr, size_t errstr_size);

/* Publish every file; with m (not NULL) add each output to m and write m to
 * manifest_path after them. 0, or -1 with errstr; either way every output
 * is closed or aborted and rf is empty. */
int rr_run_files_publish(rr_run_files_t *rf, rr_manifest_t *m, const char *manifest_path,
                         char *errstr, size_t errstr_size);

/* Give every file up: temporaries removed, nothing published; rf is empty. */
void rr_run_files_abort(rr_run_files_t *rf);

#endif
