/* io/tmpfile.c: temporary beside the final name, rename when whole (see
 * tmpfile.h). */
#include "io/tmpfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Tries of ".NAME.tmp.PID.N" when ".NAME.tmp.PID" exists (a killed run of a
 * process that had this pid, or two writers of one path in one process). */
#define MAX_TRIES 100

enum { SLOT_FREE = 0, SLOT_FILLING, SLOT_LIVE };

/* The registry: a slot is claimed (FREE -> FILLING) by compare-and-swap, its
 * path written, then published to a signal handler (LIVE); released by
 * storing FREE. The handler reads only LIVE slots. */
static struct {
    atomic_int state;
    char path[RR_TMPFILE_PATH_MAX];
} slots[RR_TMPFILE_SLOTS];

struct rr_tmpfile {
    char *target; /* the final name, symbolic links resolved */
    char *temp;   /* NULL: target written directly */
    int slot;     /* registry slot, or -1 */
    int published;
};

static int reg_add(const char *path)
{
    size_t n = strlen(path);
    if (n >= RR_TMPFILE_PATH_MAX) return -1;
    for (int i = 0; i < RR_TMPFILE_SLOTS; i++) {
        int expect = SLOT_FREE;
        if (atomic_load_explicit(&slots[i].state, memory_order_relaxed) == SLOT_FREE &&
            atomic_compare_exchange_strong(&slots[i].state, &expect, SLOT_FILLING)) {
            memcpy(slots[i].path, path, n + 1);
            atomic_store(&slots[i].state, SLOT_LIVE);
            return i;
        }
    }
    return -1;
}

static void reg_remove(int slot)
{
    if (slot >= 0) atomic_store(&slots[slot].state, SLOT_FREE);
}

void rr_tmpfile_discard_all_signal_safe(void)
{
    for (int i = 0; i < RR_TMPFILE_SLOTS; i++)
        if (atomic_load(&slots[i].state) == SLOT_LIVE) unlink(slots[i].path);
}

/* Where path lands: a symbolic link's target (when it resolves), else path. */
static char *resolve(const char *path)
{
    struct stat lst;
    if (lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode)) {
        char *real = realpath(path, NULL);
        if (real) return real;
    }
    return strdup(path);
}

/* Paths under /dev and /proc name devices and other processes' files
 * (/dev/stdout -> /proc/self/fd/1 -> wherever the shell pointed it): they
 * are written directly, never replaced. */
static int special(const char *path)
{
    return !strncmp(path, "/dev/", 5) || !strncmp(path, "/proc/", 6);
}

int rr_tmpfile_create(const char *path, rr_tmpfile_t **out, int *fd, char *errstr,
                      size_t errstr_size)
{
    *out = NULL;
    *fd = -1;
    rr_tmpfile_t *t = calloc(1, sizeof *t);
    if (!t || !(t->target = special(path) ? strdup(path) : resolve(path))) {
        snprintf(errstr, errstr_size, "%s: out of memory", path);
        goto fail;
    }
    t->slot = -1;
    struct stat st;
    if (special(path) || (stat(t->target, &st) == 0 && !S_ISREG(st.st_mode))) {
        *fd = open(t->target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
        if (*fd < 0) {
            snprintf(errstr, errstr_size, "%s: cannot open for writing: %s", path, strerror(errno));
            goto fail;
        }
        *out = t;
        return 0;
    }
    const char *slash = strrchr(t->target, '/');
    size_t dir_len = slash ? (size_t)(slash - t->target) + 1 : 0;
    const char *base = t->target + dir_len;
    size_t cap = strlen(t->target) + 48;
    if (!(t->temp = malloc(cap))) {
        snprintf(errstr, errstr_size, "%s: out of memory", path);
        goto fail;
    }
    long pid = (long)getpid();
    for (int n = 0; n < MAX_TRIES; n++) {
        if (n == 0)
            snprintf(t->temp, cap, "%.*s.%s.tmp.%ld", (int)dir_len, t->target, base, pid);
        else
            snprintf(t->temp, cap, "%.*s.%s.tmp.%ld.%d", (int)dir_len, t->target, base, pid, n);
        /* registered before it exists: a signal between open and here would
         * otherwise leave it; unlinking a name not yet created is harmless */
        t->slot = reg_add(t->temp);
        *fd = open(t->temp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
                   0666); /* read back for its sha256 */
        if (*fd >= 0) {
            *out = t;
            return 0;
        }
        int e = errno;
        reg_remove(t->slot);
        t->slot = -1;
        if (e != EEXIST) {
            snprintf(errstr, errstr_size, "%s: cannot open for writing: %s", path, strerror(e));
            goto fail;
        }
    }
    snprintf(errstr, errstr_size, "%s: cannot create a temporary file beside it: %d names taken",
             path, MAX_TRIES);
fail:
    if (t) {
        free(t->temp);
        free(t->target);
    }
    free(t);
    return -1;
}

const char *rr_tmpfile_temp_path(const rr_tmpfile_t *t)
{
    return t->temp;
}

int rr_tmpfile_direct(const rr_tmpfile_t *t)
{
    return t->temp == NULL;
}

int rr_tmpfile_sync_dir(const char *path, char *errstr, size_t errstr_size)
{
    const char *slash = strrchr(path, '/');
    char dir[PATH_MAX];
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) < 0) {
        snprintf(errstr, errstr_size, "%s: fsync of its directory %s: %s", path, dir,
                 strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

int rr_tmpfile_publish(rr_tmpfile_t *t, char *errstr, size_t errstr_size)
{
    if (!t->temp || t->published) return 0;
    if (rename(t->temp, t->target) < 0) {
        snprintf(errstr, errstr_size, "%s: cannot rename %s into place: %s", t->target, t->temp,
                 strerror(errno));
        return -1;
    }
    t->published = 1;
    reg_remove(t->slot);
    t->slot = -1;
    return rr_tmpfile_sync_dir(t->target, errstr, errstr_size);
}

void rr_tmpfile_free(rr_tmpfile_t *t)
{
    if (!t) return;
    if (t->temp && !t->published) unlink(t->temp);
    reg_remove(t->slot);
    free(t->temp);
    free(t->target);
    free(t);
}
