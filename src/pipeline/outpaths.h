/* pipeline/outpaths.h: refuse, before anything is opened for writing, outputs
 * that would destroy an input or collide with each other.
 *
 * An output is the same file as an input when both exist with one device
 * and inode (the same path, a hard link, a symbolic link to it, a path
 * through another directory); two outputs are one file when they share an
 * inode, or, not existing yet, resolve to one name (a.jsonl and ./a.jsonl,
 * d/../a.jsonl, a link to a directory). "-" is stdout for an output and
 * stdin for an input: stdout given twice is refused (two writers would
 * interleave), and stdin or stdout redirected from or to a file is compared
 * by that file. Stateless and thread-safe; every path is borrowed.
 * Layer: pipeline (libc only); cli/ calls it before a job starts, and `gen`
 * for its outputs.
 */
#ifndef RR_PIPELINE_OUTPATHS_H
#define RR_PIPELINE_OUTPATHS_H

#include <stddef.h>

/* A path and the flag that named it ("--input", "--output", "--late", ...),
 * for the message. A NULL path is skipped. */
typedef struct rr_named_path {
    const char *flag;
    const char *path;
} rr_named_path_t;

/* 0 when no output aliases an input or another output; else -1 with errstr
 * naming both (flag and path), e.g. "--output v.pb is the same file as
 * --input v.pb". Inputs that do not exist are not an error here (opening
 * them says so). */
int rr_outpaths_check(const rr_named_path_t *inputs, size_t n_in, const rr_named_path_t *outputs,
                      size_t n_out, char *errstr, size_t errstr_size);

#endif
