/* pipeline/outdir.c: see outdir.h. */
#include "pipeline/outdir.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

int rr_outdir_prepare(const char *dir, const char *ext, rr_outdir_t *d, char *errstr,
                      size_t errstr_size)
{
    ext = ext ? ext : "csv";
    if (strcmp(ext, "csv") && strcmp(ext, "jsonl") && strcmp(ext, "csv.zst") &&
        strcmp(ext, "jsonl.zst")) {
        snprintf(errstr, errstr_size, "--output-format: '%s': use csv, jsonl, csv.zst or jsonl.zst",
                 ext);
        return -1;
    }
    struct stat st;
    if (mkdir(dir, 0777) < 0 && errno != EEXIST) {
        snprintf(errstr, errstr_size, "--output-dir %s: cannot create it: %s", dir,
                 strerror(errno));
        return -1;
    }
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
        snprintf(errstr, errstr_size, "--output-dir %s: not a directory", dir);
        return -1;
    }
    for (int i = 0; i <= RR_OUTDIR_FILES; i++) {
        const char *name = i < RR_TABLES         ? rr_table_name((rr_table_t)i)
                           : i == RR_OUTDIR_LATE ? "late"
                           : i == RR_OUTDIR_DEAD ? "dead_letter"
                                                 : "manifest";
        char *p = i < RR_OUTDIR_FILES ? d->path[i] : d->manifest;
        size_t n = (size_t)snprintf(p, RR_OUTDIR_PATH_MAX, "%s/%s.%s", dir, name,
                                    i < RR_OUTDIR_FILES ? ext : "json");
        if (n >= RR_OUTDIR_PATH_MAX) {
            snprintf(errstr, errstr_size, "--output-dir %s: path too long", dir);
            return -1;
        }
    }
    return 0;
}
