/* io/source.c: delimited ChatEvent files, plain or zstd (see source.h).
 *
 * The window: buf[start..end) holds stream bytes not yet returned, and
 * buf[0] is at stream offset `base`. rr_frame_next() cuts records out of
 * the window; when it needs more, fill() slides the unread tail to the
 * front, grows the window if a single record does not fit (up to
 * RR_SOURCE_MAX_RECORD), and reads or decompresses into the free space.
 * Only fill() moves bytes, and it only runs at the start of a call, so the
 * records of one call stay valid until the next.
 */
#include "io/source.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#define RR_SOURCE_BUF ((size_t)4 << 20) /* initial window */
#define RR_SOURCE_ZIN ((size_t)1 << 20) /* compressed input buffer */

struct rr_source {
    char *name;         /* path, for messages */
    int fd;             /* -1 for a memory source */
    int close_fd;       /* 0 for stdin */
    const uint8_t *mem; /* memory source input (borrowed) */
    size_t mem_len;

    ZSTD_DCtx *zd;     /* NULL when plain */
    uint8_t *zin;      /* compressed input buffer (file sources) */
    ZSTD_inBuffer zib; /* unconsumed compressed input */
    size_t zret;       /* last ZSTD_decompressStream() result; 0 = at a frame boundary */
    int in_eof;        /* no more raw input */

    uint8_t *buf; /* the window */
    size_t cap;
    int owns_buf; /* 0 when framing a caller's plain buffer in place */
    size_t start, end;
    int64_t base; /* stream offset of buf[0] */
    int eof;      /* buf[start..end) is the whole rest of the stream */
    int done;     /* end reached, or the terminal record returned */
    int failed;   /* sticky error */
    uint64_t bytes_in;
    char err[512];
};

static void set_err(char *errstr, size_t errstr_size, const char *fmt, ...)
{
    va_list ap;
    if (!errstr || !errstr_size) return;
    va_start(ap, fmt);
    vsnprintf(errstr, errstr_size, fmt, ap);
    va_end(ap);
}

static int fail(rr_source_t *s, const char *fmt, const char *detail)
{
    snprintf(s->err, sizeof s->err, fmt, s->name, detail);
    s->failed = 1;
    return -1;
}

static int is_zstd_magic(const uint8_t *b, size_t n)
{
    uint32_t m;
    if (n < 4) return 0;
    m = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    return m == ZSTD_MAGICNUMBER || (m & ZSTD_MAGIC_SKIPPABLE_MASK) == ZSTD_MAGIC_SKIPPABLE_START;
}

/* read(2) retrying EINTR. Returns bytes read, 0 at EOF, -1 on error. */
static ssize_t read_some(int fd, uint8_t *dst, size_t n)
{
    for (;;) {
        ssize_t r = read(fd, dst, n);
        if (r >= 0 || errno != EINTR) return r;
    }
}

/* More raw (compressed) input into zin. Returns 0 (maybe setting in_eof) or -1. */
static int read_compressed(rr_source_t *s)
{
    ssize_t r;
    if (s->fd < 0) { /* memory: all input was handed over at open */
        s->in_eof = 1;
        return 0;
    }
    r = read_some(s->fd, s->zin, RR_SOURCE_ZIN);
    if (r < 0) return fail(s, "%s: read: %s", strerror(errno));
    if (r == 0) s->in_eof = 1;
    s->bytes_in += (uint64_t)r;
    s->zib.src = s->zin;
    s->zib.size = (size_t)r;
    s->zib.pos = 0;
    return 0;
}

/* Produce up to `room` stream bytes at dst. Returns how many (0 only when
 * the stream has ended, which then sets *ended), or -1 on error. */
static ssize_t produce(rr_source_t *s, uint8_t *dst, size_t room, int *ended)
{
    *ended = 0;
    if (!s->zd) {
        ssize_t r = read_some(s->fd, dst, room);
        if (r < 0) return fail(s, "%s: read: %s", strerror(errno));
        if (r == 0) *ended = 1;
        s->bytes_in += (uint64_t)r;
        return r;
    }

    ZSTD_outBuffer out = {dst, room, 0};
    while (out.pos < out.size) {
        if (s->zib.pos == s->zib.size && !s->in_eof) {
            if (read_compressed(s) < 0) return -1;
            continue;
        }
        if (s->zib.pos == s->zib.size && s->zret == 0) {
            *ended = out.pos == 0; /* input gone, last frame complete */
            break;
        }
        size_t in_before = s->zib.pos, out_before = out.pos;
        s->zret = ZSTD_decompressStream(s->zd, &out, &s->zib);
        if (ZSTD_isError(s->zret)) return fail(s, "%s: zstd: %s", ZSTD_getErrorName(s->zret));
        if (s->in_eof && s->zib.pos == s->zib.size && s->zret != 0 && out.pos == out_before &&
            s->zib.pos == in_before)
            return fail(s, "%s: zstd: %s", "stream ends inside a frame (truncated file)");
        if (out.pos > 0 && s->zib.pos == s->zib.size && !s->in_eof)
            break; /* hand over what we have rather than block on more input */
    }
    return (ssize_t)out.pos;
}

static int parse_prefix(const uint8_t *p, size_t n, uint64_t *len, size_t *hdr)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n && i < RR_FRAME_PREFIX_MAX; i++) {
        v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
        if (p[i] < 0x80) {
            *len = v;
            *hdr = i + 1;
            return 1;
        }
    }
    return 0;
}

/* The record at the window start is longer than the window may grow: keep
 * its first bytes, read past the rest. Fills *rec; returns 1 or -1. */
static int skip_oversize(rr_source_t *s, rr_record_t *rec)
{
    uint64_t len;
    size_t hdr, keep = RR_SOURCE_KEEP_BYTES;
    int64_t rec_off = s->base; /* start is 0 after the slide */

    if (!parse_prefix(s->buf, s->end, &len, &hdr)) /* frame_next made sure */
        return fail(s, "%s: %s", "internal error: oversize record without prefix");
    /* not yet read; a length near 2^64 can only run past the end */
    uint64_t left = len > UINT64_MAX - hdr ? UINT64_MAX : hdr + len - s->end;
    while (left > 0) {
        int ended;
        size_t room = s->cap - keep;
        if (room > left) room = (size_t)left;
        ssize_t r = produce(s, s->buf + keep, room, &ended);
        if (r < 0) return -1;
        if (ended) break;
        left -= (uint64_t)r;
    }
    rec->data = s->buf;
    rec->len = keep;
    rec->offset = rec_off;
    if (left > 0) { /* SPEC §7: runs past the end, the file ends here */
        rec->status = RR_FRAME_PAST_END;
        s->done = 1;
        s->eof = 1;
        s->start = s->end = keep;
        return 1;
    }
    rec->status = RR_FRAME_TOO_LARGE;
    /* the next stream byte (offset rec_off + hdr + len) goes to buf[keep] */
    s->base = rec_off + (int64_t)(hdr + len) - (int64_t)keep;
    s->start = s->end = keep;
    return 1;
}

/* Make progress after RR_FRAME_NEED_MORE: 0 (more bytes or eof), 1 (an
 * oversize record was produced into *rec), -1 (error). */
static int fill(rr_source_t *s, rr_record_t *rec)
{
    if (s->start > 0) {
        memmove(s->buf, s->buf + s->start, s->end - s->start);
        s->base += (int64_t)s->start;
        s->end -= s->start;
        s->start = 0;
    }
    if (s->end == s->cap) { /* one record does not fit */
        size_t limit = RR_SOURCE_MAX_RECORD + RR_FRAME_PREFIX_MAX;
        if (s->cap >= limit) return skip_oversize(s, rec);
        size_t ncap = s->cap * 2 < limit ? s->cap * 2 : limit;
        uint8_t *nbuf = realloc(s->buf, ncap);
        if (!nbuf) return fail(s, "%s: %s", "out of memory growing the read buffer");
        s->buf = nbuf;
        s->cap = ncap;
    }
    int ended;
    ssize_t r = produce(s, s->buf + s->end, s->cap - s->end, &ended);
    if (r < 0) return -1;
    s->end += (size_t)r;
    if (ended) s->eof = 1;
    return 0;
}

/* Frame one record from the window without refilling. Returns 1 (record),
 * 0 (end), or 2 (need more). */
static int frame_one(rr_source_t *s, rr_record_t *rec)
{
    size_t pos = s->start;
    const uint8_t *m = NULL;
    size_t n = 0;
    int st = rr_frame_next(s->buf, s->end, s->eof, &pos, &m, &n);

    switch (st) {
    case RR_FRAME_OK:
        rec->data = m;
        rec->len = n;
        rec->offset = s->base + (int64_t)s->start;
        rec->status = RR_FRAME_OK;
        s->start = pos;
        return 1;
    case RR_FRAME_END:
        s->done = 1;
        return 0;
    case RR_FRAME_NEED_MORE:
        return 2;
    default: /* BROKEN, PAST_END: SPEC §7, one last invalid record */
        rec->data = m;
        rec->len = n;
        rec->offset = s->base + (int64_t)s->start;
        rec->status = st;
        s->start = pos;
        s->done = 1;
        return 1;
    }
}

int rr_source_next(rr_source_t *s, rr_record_t *rec)
{
    for (;;) {
        if (s->failed) return -1;
        if (s->done) return 0;
        int r = frame_one(s, rec);
        if (r != 2) return r;
        r = fill(s, rec);
        if (r != 0) return r;
    }
}

int rr_source_next_batch(rr_source_t *s, rr_record_t *recs, size_t max)
{
    size_t n;
    int r = rr_source_next(s, &recs[0]);
    if (r <= 0) return r;
    if (recs[0].status != RR_FRAME_OK) return 1;
    for (n = 1; n < max && !s->done; n++) {
        /* The common record: a one-byte length prefix (under 128 bytes)
         * and the whole message in the window. Framed here without a
         * call; anything else, including the end of the window, goes
         * through frame_one() and rr_frame_next(), which decide it. */
        const uint8_t *buf = s->buf;
        size_t pos = s->start, end = s->end;
        int64_t base = s->base;
        while (n < max && pos < end) {
            size_t len = buf[pos];
            if (len >= 0x80 || len >= end - pos) break; /* message not all here */
            recs[n].data = buf + pos + 1;
            recs[n].len = len;
            recs[n].offset = base + (int64_t)pos;
            recs[n].status = RR_FRAME_OK;
            pos += 1 + len;
            n++;
        }
        s->start = pos;
        if (n == max || frame_one(s, &recs[n]) != 1) break;
    }
    return (int)n;
}

static rr_source_t *source_new(const char *name, char *errstr, size_t errstr_size)
{
    rr_source_t *s = calloc(1, sizeof *s);
    if (!s || !(s->name = strdup(name))) {
        free(s);
        set_err(errstr, errstr_size, "%s: out of memory", name);
        return NULL;
    }
    s->fd = -1;
    return s;
}

static int start_zstd(rr_source_t *s, char *errstr, size_t errstr_size)
{
    s->zd = ZSTD_createDCtx();
    if (!s->zd) {
        set_err(errstr, errstr_size, "%s: zstd: cannot create a decompression context", s->name);
        return -1;
    }
    s->zret = 0;
    return 0;
}

int rr_source_open(const char *path, rr_source_t **out, char *errstr, size_t errstr_size)
{
    rr_source_t *s;
    *out = NULL;
    if (!(s = source_new(path, errstr, errstr_size))) return -1;
    if (strcmp(path, "-") == 0) {
        s->fd = STDIN_FILENO;
    } else {
        s->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (s->fd < 0) {
            set_err(errstr, errstr_size, "%s: %s", path, strerror(errno));
            goto fail;
        }
        s->close_fd = 1;
#ifdef POSIX_FADV_SEQUENTIAL
        (void)posix_fadvise(s->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    }
    s->cap = RR_SOURCE_BUF;
    s->owns_buf = 1;
    if (!(s->buf = malloc(s->cap))) {
        set_err(errstr, errstr_size, "%s: out of memory", path);
        goto fail;
    }

    /* Sniff the first bytes: they stay in the window if plain, and become
     * the first compressed input if zstd. */
    while (s->end < 4) {
        ssize_t r = read_some(s->fd, s->buf + s->end, s->cap - s->end);
        if (r < 0) {
            set_err(errstr, errstr_size, "%s: read: %s", path, strerror(errno));
            goto fail;
        }
        if (r == 0) {
            s->eof = 1;
            break;
        }
        s->end += (size_t)r;
    }
    s->bytes_in = s->end;
    if (is_zstd_magic(s->buf, s->end)) {
        if (start_zstd(s, errstr, errstr_size) < 0) goto fail;
        if (!(s->zin = malloc(RR_SOURCE_ZIN > s->end ? RR_SOURCE_ZIN : s->end))) {
            set_err(errstr, errstr_size, "%s: out of memory", path);
            goto fail;
        }
        memcpy(s->zin, s->buf, s->end);
        s->zib.src = s->zin;
        s->zib.size = s->end;
        s->zib.pos = 0;
        s->in_eof = s->eof;
        s->eof = 0;
        s->end = 0;
    }
    *out = s;
    return 0;

fail:
    rr_source_close(s);
    return -1;
}

int rr_source_open_mem(const uint8_t *buf, size_t len, const char *name, rr_source_t **out,
                       char *errstr, size_t errstr_size)
{
    rr_source_t *s;
    *out = NULL;
    if (!(s = source_new(name ? name : "<memory>", errstr, errstr_size))) return -1;
    s->mem = buf;
    s->mem_len = len;
    s->bytes_in = len;
    if (is_zstd_magic(buf, len)) {
        if (start_zstd(s, errstr, errstr_size) < 0) goto fail;
        s->zib.src = buf;
        s->zib.size = len;
        s->zib.pos = 0;
        s->in_eof = 1;
        s->cap = RR_SOURCE_BUF;
        s->owns_buf = 1;
        if (!(s->buf = malloc(s->cap))) {
            set_err(errstr, errstr_size, "%s: out of memory", s->name);
            goto fail;
        }
    } else {                                /* frame the caller's bytes in place */
        s->buf = (uint8_t *)(uintptr_t)buf; /* never written: eof is set, fill() never runs */
        s->cap = s->end = len;
        s->eof = 1;
    }
    *out = s;
    return 0;

fail:
    rr_source_close(s);
    return -1;
}

const char *rr_source_error(const rr_source_t *s)
{
    return s->err;
}

int rr_source_is_zstd(const rr_source_t *s)
{
    return s->zd != NULL;
}

uint64_t rr_source_bytes_in(const rr_source_t *s)
{
    if (s->fd < 0 && s->zd) return (uint64_t)s->zib.pos;
    return s->bytes_in;
}

void rr_source_close(rr_source_t *s)
{
    if (!s) return;
    if (s->close_fd && s->fd >= 0) close(s->fd);
    if (s->owns_buf) free(s->buf);
    free(s->zin);
    ZSTD_freeDCtx(s->zd);
    free(s->name);
    free(s);
}

int rr_round_robin_init(rr_round_robin_t *rr, rr_source_t *const *src, int n)
{
    rr->src = src;
    rr->n = rr->remaining = n;
    rr->next = 0;
    rr->ended = calloc(n > 0 ? (size_t)n : 1, 1);
    return rr->ended ? 0 : -1;
}

void rr_round_robin_free(rr_round_robin_t *rr)
{
    free(rr->ended);
    rr->ended = NULL;
}

int rr_round_robin_next(rr_round_robin_t *rr, rr_record_t *recs, size_t max, int *which,
                        size_t *n)
{
    *n = 0;
    if (!rr->remaining)
        return RR_RR_DONE;
    int i = rr->next;
    while (rr->ended[i])
        i = (i + 1) % rr->n;
    rr->next = (i + 1) % rr->n;
    *which = i;
    int got = rr_source_next_batch(rr->src[i], recs, max);
    if (got < 0)
        return RR_RR_ERROR;
    if (got == 0) {
        rr->ended[i] = 1;
        rr->remaining--;
        return RR_RR_ENDED;
    }
    *n = (size_t)got;
    return RR_RR_BATCH;
}
