/* io/filesink.c: buffered plain/zstd file writer (see filesink.h). */
#include "io/filesink.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zstd.h>

#include "io/sha256.h"
#include "io/tmpfile.h"

struct rr_filesink {
    int fd;
    int own_fd;      /* 0 for stdout */
    int failed;      /* sticky: first error is in err */
    int started;     /* zstd: the frame has begun, parameters are frozen */
    ZSTD_CCtx *cctx; /* NULL: plain */
    uint8_t *in;     /* RR_FILESINK_BUF bytes of pending input */
    size_t in_len;
    uint8_t *out; /* zstd output staging, out_cap bytes */
    size_t out_cap;
    uint64_t bytes_in;
    uint64_t bytes_out;
    uint64_t frame_in; /* zstd: bytes accepted into the current frame */
    char path[256];
    char err[256];
    rr_tmpfile_t *tmp; /* the file's names: temporary and final (NULL: stdout) */
    int finished;      /* rr_filesink_finish ran: fd fsynced, nothing more to write */
};

static void fmt(char *dst, size_t size, const char *f, ...)
{
    if (!dst || !size) return;
    va_list ap;
    va_start(ap, f);
    vsnprintf(dst, size, f, ap);
    va_end(ap);
}

static void fail(rr_filesink_t *s, const char *what, const char *detail)
{
    if (s->failed) return;
    s->failed = 1;
    fmt(s->err, sizeof s->err, "%s: %s: %s", s->path, what, detail);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

/* write(2) all of buf, retrying on EINTR and short writes. */
static int write_all(rr_filesink_t *s, const uint8_t *buf, size_t len)
{
    while (len) {
        ssize_t n = write(s->fd, buf, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail(s, "write", strerror(errno));
            return -1;
        }
        buf += n;
        len -= (size_t)n;
        s->bytes_out += (uint64_t)n;
    }
    return 0;
}

/* Hand the pending input to the file: directly, or through zstd with mode
 * ZSTD_e_continue (keep the frame open) or ZSTD_e_end (finish it). */
static int drain(rr_filesink_t *s, ZSTD_EndDirective mode)
{
    if (s->failed) return -1;
    if (!s->cctx) {
        int rc = write_all(s, s->in, s->in_len);
        s->in_len = 0;
        return rc;
    }
    if (!s->started) /* readers verify each frame before using it (io/source.h) */
        ZSTD_CCtx_setParameter(s->cctx, ZSTD_c_checksumFlag, 1);
    s->started = 1;
    ZSTD_inBuffer in = {s->in, s->in_len, 0};
    for (;;) {
        ZSTD_outBuffer out = {s->out, s->out_cap, 0};
        size_t left = ZSTD_compressStream2(s->cctx, &out, &in, mode);
        if (ZSTD_isError(left)) {
            fail(s, "zstd", ZSTD_getErrorName(left));
            return -1;
        }
        if (out.pos && write_all(s, s->out, out.pos) < 0) return -1;
        /* continue: done once the input is consumed; end: once zstd says
         * nothing is left to flush. */
        if (mode == ZSTD_e_end ? left == 0 : in.pos == in.size) break;
    }
    s->in_len = 0;
    return 0;
}

int rr_filesink_open(const char *path, int level, rr_filesink_t **out, char *errstr,
                     size_t errstr_size)
{
    *out = NULL;
    rr_filesink_t *s = calloc(1, sizeof *s);
    if (!s) {
        fmt(errstr, errstr_size, "%s: out of memory", path);
        return -1;
    }
    s->fd = -1;
    snprintf(s->path, sizeof s->path, "%s", path);
    int to_stdout = !strcmp(path, "-");
    if (level == 0 && !to_stdout && ends_with(path, ".zst")) level = RR_FILESINK_ZSTD_DEFAULT_LEVEL;

    s->in = malloc(RR_FILESINK_BUF);
    if (!s->in) goto oom;
    if (level != 0) {
        s->cctx = ZSTD_createCCtx();
        if (!s->cctx) goto oom;
        size_t rc = ZSTD_CCtx_setParameter(s->cctx, ZSTD_c_compressionLevel, level);
        if (ZSTD_isError(rc)) {
            fmt(errstr, errstr_size, "%s: zstd level %d: %s", path, level, ZSTD_getErrorName(rc));
            goto fail;
        }
        s->out_cap = ZSTD_CStreamOutSize() * 8;
        s->out = malloc(s->out_cap);
        if (!s->out) goto oom;
    }
    if (to_stdout) {
        s->fd = STDOUT_FILENO;
    } else {
        if (rr_tmpfile_create(path, &s->tmp, &s->fd, errstr, errstr_size) < 0) goto fail;
        s->own_fd = 1;
    }
    *out = s;
    return 0;

oom:
    fmt(errstr, errstr_size, "%s: out of memory", path);
fail:
    ZSTD_freeCCtx(s->cctx);
    free(s->out);
    free(s->in);
    free(s);
    return -1;
}

int rr_filesink_set_workers(rr_filesink_t *s, int n, char *errstr, size_t errstr_size)
{
    if (!s->cctx) return 0;
    if (s->started) {
        fmt(errstr, errstr_size, "%s: zstd workers must be set before writing", s->path);
        return -1;
    }
    size_t rc = ZSTD_CCtx_setParameter(s->cctx, ZSTD_c_nbWorkers, n);
    if (ZSTD_isError(rc)) {
        fmt(errstr, errstr_size, "%s: zstd workers %d: %s", s->path, n, ZSTD_getErrorName(rc));
        return -1;
    }
    return 0;
}

int rr_filesink_write(rr_filesink_t *s, const void *buf, size_t len)
{
    if (s->failed) return -1;
    /* A write holds whole records: end the frame before it once the frame
     * would pass RR_FILESINK_FRAME_BYTES, so every frame starts at a record. */
    if (s->cctx && s->frame_in && s->frame_in + len > RR_FILESINK_FRAME_BYTES) {
        if (drain(s, ZSTD_e_end) < 0) return -1;
        s->frame_in = 0;
    }
    s->frame_in += len;
    s->bytes_in += len;
    if (len <= RR_FILESINK_BUF - s->in_len) {
        memcpy(s->in + s->in_len, buf, len);
        s->in_len += len;
        return 0;
    }
    /* Top the buffer up, drain it, repeat: the file sees full buffers only. */
    const uint8_t *p = buf;
    while (len) {
        size_t n = RR_FILESINK_BUF - s->in_len;
        if (n > len) n = len;
        memcpy(s->in + s->in_len, p, n);
        s->in_len += n;
        p += n;
        len -= n;
        if (s->in_len == RR_FILESINK_BUF && drain(s, ZSTD_e_continue) < 0) return -1;
    }
    return 0;
}

uint64_t rr_filesink_bytes_in(const rr_filesink_t *s)
{
    return s->bytes_in;
}

uint64_t rr_filesink_bytes_out(const rr_filesink_t *s)
{
    return s->bytes_out;
}

int rr_filesink_compressed(const rr_filesink_t *s)
{
    return s->cctx != NULL;
}

int rr_filesink_finish(rr_filesink_t *s, char *errstr, size_t errstr_size)
{
    if (!s->finished) {
        s->finished = 1;
        drain(s, ZSTD_e_end);
        /* a FIFO or a device has nothing to make durable (and may refuse) */
        if (s->own_fd && !rr_tmpfile_direct(s->tmp) && fsync(s->fd) < 0)
            fail(s, "fsync", strerror(errno));
    }
    if (s->failed) {
        fmt(errstr, errstr_size, "%s", s->err);
        return -1;
    }
    return 0;
}

int rr_filesink_sha256(rr_filesink_t *s, uint8_t digest[32], char *errstr, size_t errstr_size)
{
    if (!s->finished || s->failed) {
        fmt(errstr, errstr_size, "%s: no sha256: %s", s->path, s->failed ? s->err : "not finished");
        return -1;
    }
    if (!s->own_fd || rr_tmpfile_direct(s->tmp)) return 1; /* nothing to read back */
    return rr_sha256_fd(s->fd, s->path, digest, NULL, errstr, errstr_size);
}

/* Free everything but the names. */
static void release(rr_filesink_t *s)
{
    ZSTD_freeCCtx(s->cctx);
    free(s->out);
    free(s->in);
    free(s);
}

int rr_filesink_close(rr_filesink_t *s, char *errstr, size_t errstr_size)
{
    if (!s) return 0;
    rr_filesink_finish(s, NULL, 0);
    if (s->own_fd) {
        if (close(s->fd) < 0) fail(s, "close", strerror(errno));
    }
    if (!s->failed && s->tmp && rr_tmpfile_publish(s->tmp, s->err, sizeof s->err) < 0)
        s->failed = 1;
    int rc = 0;
    if (s->failed) {
        fmt(errstr, errstr_size, "%s", s->err);
        rc = -1;
    }
    rr_tmpfile_free(s->tmp); /* removes the temporary unless published */
    release(s);
    return rc;
}

void rr_filesink_abort(rr_filesink_t *s)
{
    if (!s) return;
    if (s->own_fd) close(s->fd);
    rr_tmpfile_free(s->tmp);
    release(s);
}
