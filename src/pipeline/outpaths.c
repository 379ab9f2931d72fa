/* pipeline/outpaths.c: output aliasing checks (see outpaths.h). */
#include "pipeline/outpaths.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct ident {
    int exists; /* dev/ino valid */
    dev_t dev;
    ino_t ino;
    char name[PATH_MAX]; /* resolved name, "" when it cannot be resolved */
} ident_t;

/* The name a path that may not exist would land at: realpath of the whole
 * path when it exists; else (following a dangling link's target, up to a
 * few hops) realpath of its directory plus its last component. */
static void resolve_name(const char *path, char *out)
{
    char cur[PATH_MAX], link[PATH_MAX], real[PATH_MAX];
    out[0] = '\0';
    if (strlen(path) >= sizeof cur) return;
    strcpy(cur, path);
    for (int hops = 0; hops < 16; hops++) {
        if (realpath(cur, real)) { /* (glibc leaves a partial path in real on failure) */
            memcpy(out, real, PATH_MAX);
            return;
        }
        ssize_t n = readlink(cur, link, sizeof link - 1);
        if (n < 0) break;
        link[n] = '\0';
        /* absolute, or relative to the link's directory (cur up to its last '/') */
        char *slash = strrchr(cur, '/');
        size_t keep = link[0] == '/' || !slash ? 0 : (size_t)(slash - cur) + 1;
        if (keep + (size_t)n >= sizeof cur) return;
        memcpy(cur + keep, link, (size_t)n + 1);
    }
    const char *slash = strrchr(cur, '/');
    const char *base = slash ? slash + 1 : cur;
    char dir[PATH_MAX] = ".";
    if (slash == cur)
        strcpy(dir, "/");
    else if (slash) {
        memcpy(dir, cur, (size_t)(slash - cur));
        dir[slash - cur] = '\0';
    }
    if (!*base || !strcmp(base, ".") || !strcmp(base, "..")) return;
    size_t rl, bl = strlen(base);
    if (!realpath(dir, real) || (rl = strlen(real)) + 1 + bl >= PATH_MAX) return;
    if (rl == 1) /* "/" */
        rl = 0;
    memcpy(out, real, rl);
    out[rl] = '/';
    memcpy(out + rl + 1, base, bl + 1);
}

/* "-": the standard stream fd, compared only when it is a regular file. */
static void identify(const char *path, int std_fd, ident_t *id)
{
    struct stat st;
    memset(id, 0, sizeof *id);
    if (!strcmp(path, "-")) {
        if (fstat(std_fd, &st) == 0 && S_ISREG(st.st_mode)) {
            id->exists = 1;
            id->dev = st.st_dev;
            id->ino = st.st_ino;
        }
        return;
    }
    if (stat(path, &st) == 0) {
        id->exists = 1;
        id->dev = st.st_dev;
        id->ino = st.st_ino;
    }
    resolve_name(path, id->name);
}

static int same(const ident_t *a, const ident_t *b)
{
    if (a->exists && b->exists) return a->dev == b->dev && a->ino == b->ino;
    return a->name[0] && !strcmp(a->name, b->name);
}

int rr_outpaths_check(const rr_named_path_t *inputs, size_t n_in, const rr_named_path_t *outputs,
                      size_t n_out, char *errstr, size_t errstr_size)
{
    int rc = -1;
    ident_t *in = calloc(n_in ? n_in : 1, sizeof *in),
            *out = calloc(n_out ? n_out : 1, sizeof *out);
    if (!in || !out) {
        snprintf(errstr, errstr_size, "out of memory checking the output paths");
        goto done;
    }
    for (size_t i = 0; i < n_in; i++)
        if (inputs[i].path) identify(inputs[i].path, STDIN_FILENO, &in[i]);
    for (size_t j = 0; j < n_out; j++) {
        const rr_named_path_t *o = &outputs[j];
        if (!o->path) continue;
        identify(o->path, STDOUT_FILENO, &out[j]);
        for (size_t i = 0; i < n_in; i++) {
            /* an input that does not exist cannot be overwritten */
            if (inputs[i].path && in[i].exists && out[j].exists && same(&in[i], &out[j])) {
                snprintf(errstr, errstr_size,
                         "%s %s is the same file as %s %s: refusing to overwrite an input", o->flag,
                         o->path, inputs[i].flag, inputs[i].path);
                goto done;
            }
        }
        for (size_t k = 0; k < j; k++) {
            const rr_named_path_t *p = &outputs[k];
            int both_stdout = p->path && !strcmp(o->path, "-") && !strcmp(p->path, "-");
            if (p->path && (both_stdout || same(&out[k], &out[j]))) {
                snprintf(errstr, errstr_size,
                         "%s %s and %s %s are the same file: give each output a path of its own",
                         p->flag, p->path, o->flag, o->path);
                goto done;
            }
        }
    }
    rc = 0;
done:
    free(in);
    free(out);
    return rc;
}
