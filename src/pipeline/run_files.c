/* pipeline/run_files.c: finish, hash, rename, manifest (see run_files.h). */
#include "pipeline/run_files.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/tmpfile.h"
#include "ops/telemetry.h"

/* rr_run_files_open, of every record (table -1) or of a loader table. */
static int open_file(rr_run_files_t *rf, const char *flag, const char *path, int table,
                     rr_sink_t *sink, char *errstr, size_t errstr_size)
{
    char err[512];
    if (rf->n == RR_RUN_FILES_MAX) {
        snprintf(errstr, errstr_size, "more than %d output files", RR_RUN_FILES_MAX);
        return -1;
    }
    rr_output_t *o;
    if ((table < 0 ? rr_output_open(path, &o, err, sizeof err)
                   : rr_output_open_table(path, (rr_table_t)table, &o, err, sizeof err)) < 0) {
        snprintf(errstr, errstr_size, "%s: %s", flag, err);
        return -1;
    }
    rr_output_sink(o, sink);
    rf->f[rf->n].flag = flag;
    rf->f[rf->n].path = path;
    rf->f[rf->n].out = o;
    rf->n++;
    return 0;
}

int rr_run_files_open(rr_run_files_t *rf, const char *flag, const char *path, rr_sink_t *sink,
                      char *errstr, size_t errstr_size)
{
    return open_file(rf, flag, path, -1, sink, errstr, errstr_size);
}

int rr_run_files_open_table(rr_run_files_t *rf, const char *flag, const char *path,
                            rr_table_t table, rr_sink_t *sink, char *errstr, size_t errstr_size)
{
    return open_file(rf, flag, path, (int)table, sink, errstr, errstr_size);
}

void rr_run_files_abort(rr_run_files_t *rf)
{
    for (int i = 0; i < rf->n; i++)
        rr_output_abort(rf->f[i].out);
    rf->n = 0;
}

/* The output's line of the manifest. 0, or -1 with errstr. */
static int describe(rr_run_files_t *rf, int i, rr_manifest_t *m, char *errstr, size_t errstr_size)
{
    rr_output_t *o = rf->f[i].out;
    rr_manifest_output_t mo = {.flag = (char *)rf->f[i].flag,
                               .path = (char *)rf->f[i].path,
                               .format = (char *)rr_format_name(rr_output_format(o)),
                               .compressed = rr_output_compressed(o),
                               .bytes = rr_output_bytes(o)};
    for (int k = 0; k < RR_OUTPUT_KINDS; k++)
        mo.records[k] = rr_output_records_of(o, (rr_output_kind_t)k);
    uint8_t d[RR_SHA256_LEN];
    char err[512];
    int rc = rr_output_sha256(o, d, err, sizeof err);
    if (rc < 0) {
        snprintf(errstr, errstr_size, "%s: %s", rf->f[i].flag, err);
        return -1;
    }
    if (rc == 0) { /* else stdout, a FIFO, a device: "sha256": null */
        rr_sha256_hex(d, mo.sha256);
        mo.has_sha256 = 1;
    }
    if (rr_manifest_add_output(m, &mo) < 0) {
        snprintf(errstr, errstr_size, "out of memory writing the manifest");
        return -1;
    }
    return 0;
}

int rr_run_files_publish(rr_run_files_t *rf, rr_manifest_t *m, const char *manifest_path,
                         char *errstr, size_t errstr_size)
{
    char err[512];
    rr_filesink_t *ms = NULL;
    int i;
    /* 1. every file complete and durable under its temporary name */
    for (i = 0; i < rf->n; i++)
        if (rr_output_finish(rf->f[i].out, err, sizeof err) < 0) {
            snprintf(errstr, errstr_size, "%s: %s", rf->f[i].flag, err);
            goto fail;
        }
    /* 2. the manifest, complete too, still unpublished */
    if (m) {
        for (i = 0; i < rf->n; i++)
            if (describe(rf, i, m, errstr, errstr_size) < 0) goto fail;
        if (rr_manifest_prepare(m, manifest_path, &ms, err, sizeof err) < 0) {
            snprintf(errstr, errstr_size, "--manifest: %s", err);
            goto fail;
        }
        /* 3. a previous manifest no longer describes what is about to be
         * there: it goes first (a link to one is replaced at step 5) */
        struct stat st;
        if (strcmp(manifest_path, "-") && lstat(manifest_path, &st) == 0 && S_ISREG(st.st_mode)) {
            if (unlink(manifest_path) < 0) {
                snprintf(errstr, errstr_size, "--manifest: %s: cannot remove the previous one: %s",
                         manifest_path, strerror(errno));
                goto fail;
            }
            if (rr_tmpfile_sync_dir(manifest_path, err, sizeof err) < 0) {
                snprintf(errstr, errstr_size, "--manifest: %s", err);
                goto fail;
            }
        }
    }
    /* 4. every output under its name */
    for (i = 0; i < rf->n; i++) {
        rr_output_t *o = rf->f[i].out;
        rf->f[i].out = NULL;
        uint64_t records = 0;
        for (int k = 0; k < RR_OUTPUT_KINDS; k++)
            records += rr_output_records_of(o, (rr_output_kind_t)k);
        if (rr_output_close(o, err, sizeof err) < 0) {
            snprintf(errstr, errstr_size, "%s: %s", rf->f[i].flag, err);
            goto fail;
        }
        rr_tm_records(rf->f[i].path, records);
    }
    rf->n = 0;
    /* 5. the manifest, last */
    if (ms && rr_filesink_close(ms, err, sizeof err) < 0) {
        ms = NULL;
        snprintf(errstr, errstr_size, "--manifest: %s", err);
        return -1;
    }
    return 0;
fail:
    rr_filesink_abort(ms);
    for (i = 0; i < rf->n; i++)
        rr_output_abort(rf->f[i].out); /* NULL for those already published */
    rf->n = 0;
    return -1;
}
