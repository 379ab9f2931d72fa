/* io/tmpfile.h: files that appear under their final name only when whole.
 *
 * A writer creates its file as a temporary beside the final one, in the same
 * directory (".NAME.tmp.PID", or ".NAME.tmp.PID.N" when that name is taken),
 * writes, flushes and fsyncs it, and publishes it: rename(2) onto the final
 * name, then fsync of the directory so the rename itself survives a crash.
 * Until then a file of that final name, if any, is untouched; a writer that
 * fails or is told to give up discards the temporary. Whatever happens to
 * the process, a reader of the final name sees the old file or the complete
 * new one, never a part. SIGKILL (or a power cut) can leave a temporary
 * behind; nothing reads it, and the next run writes its own.
 *
 * The final name is where the file lands: a symbolic link is followed (its
 * target is replaced, the link stays), and a path that exists but is not a
 * regular file (a FIFO, /dev/null, /dev/stdout, a terminal) is written
 * directly, because it cannot be replaced and was never a file to protect.
 *
 * Temporaries in flight are also listed in a process-wide registry of
 * RR_TMPFILE_SLOTS fixed slots, so that a signal handler, which can reach no
 * context, can remove them (rr_tmpfile_discard_all_signal_safe) before
 * _exit. This registry is the module's only global state; it is lock-free
 * and may be used from any thread. A temporary whose path does not fit a
 * slot (RR_TMPFILE_PATH_MAX) or that finds every slot taken is still
 * written and published; only a signal cannot remove it.
 *
 * Ownership: rr_tmpfile_t owns its paths, not the file descriptor
 * rr_tmpfile_create hands out (the caller writes, fsyncs and closes it).
 * One rr_tmpfile_t is used by one thread.
 * Layer: io; uses libc (POSIX). Prints nothing: errors go to errstr.
 */
#ifndef RR_IO_TMPFILE_H
#define RR_IO_TMPFILE_H

#include <stddef.h>

#define RR_TMPFILE_SLOTS 320
#define RR_TMPFILE_PATH_MAX 1024

typedef struct rr_tmpfile rr_tmpfile_t;

/* Open a file to become path: a new temporary (O_EXCL, mode 0666 & ~umask)
 * beside path's target, or path itself when it exists and is not a regular
 * file. path is borrowed. On success *fd is open for writing (a temporary
 * also for reading, to hash it back), *out owns the names (free it with
 * rr_tmpfile_free) and 0 is returned; on failure -1 with errstr naming path
 * (not the temporary) and the reason. */
int rr_tmpfile_create(const char *path, rr_tmpfile_t **out, int *fd, char *errstr,
                      size_t errstr_size);

/* The temporary's name, or NULL when path is written directly. Borrowed. */
const char *rr_tmpfile_temp_path(const rr_tmpfile_t *t);

/* 1 when the file is written directly (not a regular file: nothing to
 * publish or discard), else 0. */
int rr_tmpfile_direct(const rr_tmpfile_t *t);

/* Give the complete temporary its final name: rename(2), then fsync(2) of
 * the directory. The caller has written, fsynced and closed the file. 0, or
 * -1 with errstr naming the final path (the temporary stays, and is removed
 * by rr_tmpfile_free). A direct file: nothing to do, 0. */
int rr_tmpfile_publish(rr_tmpfile_t *t, char *errstr, size_t errstr_size);

/* Remove the temporary unless it was published, and free t (NULL: no-op).
 * Never removes the final path nor a direct file. */
void rr_tmpfile_free(rr_tmpfile_t *t);

/* For a signal handler about to _exit: unlink(2) every registered
 * temporary. Async-signal-safe; the registry is left as it is. */
void rr_tmpfile_discard_all_signal_safe(void);

/* fsync(2) the directory that holds path (its dirname), so entries created,
 * renamed or removed there are durable. 0, or -1 with errstr. */
int rr_tmpfile_sync_dir(const char *path, char *errstr, size_t errstr_size);

#endif
