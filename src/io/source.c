/* io/source.c: delimited ChatEvent files, plain or zstd (see source.h).
 *
 * The window: buf[0] is at stream offset `base`; buf[start..end) holds
 * stream bytes released to framing and not yet returned, buf[end..pend) the
 * decompressed bytes of a zstd frame not verified yet (held back; plain
 * sources have pend == end). `eof` says buf[start..end) is the rest of the
 * segment: the stream has ended, or (`cut`) damaged zstd data ends it and a
 * resync follows.
 *
 * The states of a source, one step per loop of rr_source_next():
 *
 *   FRAME --break--> SCAN --records decode again (resync)--> FRAME
 *     |                |---no resync, R found--> COUNT --> done
 *     |                `---end of segment--> FRAME (then END)
 *     `--END of segment--> done, or ZSEEK after damaged zstd data (resync)
 *   ZSEEK --an intact frame at M: its compressed gap returned--> SCAN (from
 *                                 the frame's first byte, inclusive)
 *
 * Only fill() and the zstd code move or produce bytes, and they only run
 * when a step asks for more, never after a record was cut in the same
 * call, so the records of one call stay valid until the next.
 */
#include "io/source.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "codec/resync.h"

#define RR_SOURCE_BUF ((size_t)4 << 20) /* initial window */
#define RR_SOURCE_ZIN ((size_t)1 << 20) /* compressed input read at a time */
/* The window never grows past this: a record, or a resync's skipped bytes
 * and the lookahead that judges a candidate. */
#define WINDOW_LIMIT (RR_SOURCE_MAX_RECORD + RR_RESYNC_SPAN + RR_FRAME_PREFIX_MAX)
/* A zstd block the decoder may hold partly consumed (header + content). */
#define ZSTD_BLOCK_LOOK ((size_t)ZSTD_BLOCKSIZE_MAX + 3)

enum { ST_FRAME, ST_SCAN, ST_ZSEEK, ST_COUNT };
enum { Z_MORE, Z_END, Z_DAMAGE, Z_ERR };

/* The first thing found missing, for the notice. */
typedef struct first_gap {
    int kind;       /* 0 none, 1 framing break, 2 damaged zstd data */
    int64_t at;     /* stream offset of the break / compressed offset of the frame */
    int64_t resume; /* where records (or an intact frame) start again; -1 none */
    char why[96];   /* the break's reason or zstd's error */
} first_gap_t;

struct rr_source {
    char *name;
    int fd;       /* -1 for a memory source */
    int close_fd; /* 0 for stdin */
    int regular;  /* a regular file: its size is checked at its end */
    int hit_eof;  /* read(2) has returned 0 */
    int resync;

    /* zstd input: zin[0..zib.size) are the file's compressed bytes from
     * offset zbase, zib.pos the next the decoder takes. A file source slides
     * and refills zin keeping zin[zkeep..) (what a resync may return); a
     * memory source's zin is the caller's buffer. */
    ZSTD_DCtx *zd; /* NULL when plain */
    uint8_t *zin;
    size_t zcap;
    ZSTD_inBuffer zib;
    int64_t zbase;
    size_t zkeep;
    size_t zret;      /* last ZSTD_decompressStream() result; 0 = between frames */
    int in_eof;       /* no more compressed input */
    int zdead;        /* without resync: the stream ended at damaged data */
    int64_t frame_c;  /* compressed offset of the current frame's first byte */
    int loose;        /* the current frame is released as it decodes (too big to hold) */
    int frame_done;   /* a frame ended intact since the flag was cleared */
    int64_t zerr_c;   /* compressed offset before the call that failed */
    const char *zwhy; /* and why */

    uint8_t *buf; /* the window */
    size_t cap;
    int owns_buf; /* 0 when framing a caller's plain buffer in place */
    size_t start, end, pend;
    int64_t base;
    int eof, cut, done, failed;
    int state;
    uint64_t bytes_in;

    /* SCAN: a break, or the start of a segment after a zstd gap */
    int brk_status;   /* status of its first record */
    int brk_tail;     /* a break (not a segment start): may be the file's last record */
    int64_t brk_off;  /* stream offset of the break */
    int pieces;       /* records of it returned so far (resync) */
    size_t scan;      /* window index of the next candidate */
    uint64_t dropped; /* without resync: bytes of it dropped from the window */
    uint8_t keep[RR_SOURCE_KEEP_BYTES];
    size_t keep_len;

    /* ZSEEK */
    int64_t dmg_c;  /* compressed offset of the first damaged byte not yet returned */
    int64_t zscan;  /* compressed offset of the next magic candidate */
    int cand;       /* a candidate frame is being decoded */
    int64_t cand_c; /* its offset */

    rr_source_gaps_t gaps;
    first_gap_t first;
    char notice[768];
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

static uint32_t le32(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static int is_zstd_magic(const uint8_t *b, size_t n)
{
    if (n < 4) return 0;
    uint32_t m = le32(b);
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

/* read(2) of the file, counted. A regular file whose end comes before the
 * bytes already read shrank under the run: an error. */
static ssize_t read_input(rr_source_t *s, uint8_t *dst, size_t n)
{
    ssize_t r = read_some(s->fd, dst, n);
    if (r < 0) return fail(s, "%s: read: %s", strerror(errno));
    s->bytes_in += (uint64_t)r;
    struct stat st;
    if (r > 0 || !s->regular) return r;
    s->hit_eof = 1;
    if (fstat(s->fd, &st) == 0 && (uint64_t)st.st_size < s->bytes_in)
        return fail(s, "%s: %s", "the file shrank while it was read (truncated under the run?)");
    return 0;
}

/* Bytes a regular file has gained since its end was read: it is still
 * being written, and they are unread. */
static uint64_t grown(const rr_source_t *s)
{
    struct stat st;
    if (!s->hit_eof || fstat(s->fd, &st) < 0 || (uint64_t)st.st_size <= s->bytes_in) return 0;
    return (uint64_t)st.st_size - s->bytes_in;
}

static void note_first(rr_source_t *s, int kind, int64_t at, const char *why)
{
    if (s->first.kind) return;
    s->first.kind = kind;
    s->first.at = at;
    s->first.resume = -1;
    snprintf(s->first.why, sizeof s->first.why, "%s", why);
}

static const char *frame_why(int status)
{
    switch (status) {
    case RR_FRAME_BROKEN:
        return "broken length prefix";
    case RR_FRAME_PAST_END:
        return "length past the end";
    case RR_FRAME_TOO_LARGE:
        return "length over 64 MiB";
    default:
        return "unframeable bytes";
    }
}

/* ---- zstd input ---------------------------------------------------------- */

/* What zin must keep at the next slide: nothing consumed without resync;
 * with it, the current frame from its start while its bytes are held (a
 * damaged frame is returned whole), only the block the decoder may be
 * holding once it is released as it decodes, and everything from the first
 * damaged byte while seeking. */
static void set_zkeep(rr_source_t *s)
{
    int64_t from;
    if (!s->resync)
        from = s->zbase + (int64_t)s->zib.pos;
    else if (s->state == ST_ZSEEK)
        from = s->dmg_c;
    else if (!s->loose)
        from = s->frame_c;
    else {
        from = s->zbase + (int64_t)s->zib.pos - (int64_t)ZSTD_BLOCK_LOOK;
        if (from < s->frame_c) from = s->frame_c;
    }
    if (from < s->zbase) from = s->zbase; /* already slid past (cannot happen) */
    if (from > s->zbase + (int64_t)s->zib.pos) from = s->zbase + (int64_t)s->zib.pos;
    s->zkeep = (size_t)(from - s->zbase);
}

/* More compressed input: slide zin to zkeep, grow it if the kept bytes
 * fill it, read. Returns 0 (maybe setting in_eof) or -1. */
static int read_compressed(rr_source_t *s)
{
    if (s->fd < 0) { /* memory: all input was handed over at open */
        s->in_eof = 1;
        return 0;
    }
    set_zkeep(s);
    if (s->zkeep > 0) {
        memmove(s->zin, s->zin + s->zkeep, s->zib.size - s->zkeep);
        s->zbase += (int64_t)s->zkeep;
        s->zib.size -= s->zkeep;
        s->zib.pos -= s->zkeep;
        s->zkeep = 0;
    }
    if (s->zcap - s->zib.size < RR_SOURCE_ZIN) {
        size_t ncap = s->zcap * 2;
        uint8_t *n = realloc(s->zin, ncap);
        if (!n) return fail(s, "%s: %s", "out of memory holding compressed input");
        s->zin = n;
        s->zcap = ncap;
    }
    ssize_t r = read_input(s, s->zin + s->zib.size, s->zcap - s->zib.size);
    if (r < 0) return -1;
    if (r == 0) s->in_eof = 1;
    s->zib.src = s->zin;
    s->zib.size += (size_t)r;
    return 0;
}

/* Compressed bytes from offset `from` to the end of the file, reading the
 * rest (which is then gone). Returns -1 on a read error. */
static int64_t count_compressed_rest(rr_source_t *s, int64_t from)
{
    int64_t total = s->zbase + (int64_t)s->zib.size;
    if (s->fd >= 0) {
        while (!s->in_eof) {
            ssize_t r = read_input(s, s->zin, s->zcap);
            if (r < 0) return -1;
            if (r == 0) s->in_eof = 1;
            total += r;
        }
    }
    s->in_eof = 1;
    s->zbase = total;
    s->zib.size = s->zib.pos = 0;
    return total > from ? total - from : 0;
}

/* Errors that say this decoder cannot read the frame (it needs a bigger
 * window, a dictionary, memory), not that its bytes are damaged: without
 * resync the input is unreadable here (exit 1), not incomplete. */
static int undecodable_here(size_t zret)
{
    ZSTD_ErrorCode c = ZSTD_getErrorCode(zret);
    return c == ZSTD_error_frameParameter_windowTooLarge || c == ZSTD_error_dictionary_wrong ||
           c == ZSTD_error_memory_allocation;
}

/* Decompress into buf[pend..cap). A frame's bytes are released (end moves)
 * when it ends intact, or as they come once it holds RR_SOURCE_HOLD_BYTES.
 * Z_MORE: some progress (or the window is full); Z_END: the input ended
 * between frames; Z_DAMAGE: zerr_c and zwhy say what failed; Z_ERR: I/O. */
static int zproduce(rr_source_t *s)
{
    for (;;) {
        if (s->pend == s->cap) return Z_MORE;
        if (s->zib.pos == s->zib.size && !s->in_eof) {
            if (read_compressed(s) < 0) return Z_ERR;
            continue;
        }
        if (s->zib.pos == s->zib.size && s->zret == 0) return Z_END;
        size_t pos0 = s->zib.pos, out0 = s->pend;
        ZSTD_outBuffer out = {s->buf, s->cap, s->pend};
        s->zret = ZSTD_decompressStream(s->zd, &out, &s->zib);
        if (ZSTD_isError(s->zret)) {
            s->zerr_c = s->zbase + (int64_t)pos0;
            s->zwhy = ZSTD_getErrorName(s->zret);
            if (!s->resync && s->state != ST_ZSEEK && undecodable_here(s->zret)) {
                snprintf(s->err, sizeof s->err, "%s: zstd: %s (compressed byte %lld)", s->name,
                         s->zwhy, (long long)s->zerr_c);
                s->failed = 1;
                return Z_ERR;
            }
            return Z_DAMAGE;
        }
        s->pend = out.pos;
        if (s->zret == 0) { /* a frame ended intact: the next starts here */
            s->end = s->pend;
            s->loose = 0;
            s->frame_done = 1;
            s->frame_c = s->zbase + (int64_t)s->zib.pos;
            return Z_MORE;
        }
        if (s->in_eof && s->zib.pos == s->zib.size && s->pend == out0 && s->zib.pos == pos0) {
            s->zerr_c = s->zbase + (int64_t)pos0;
            s->zwhy = "the file ends inside a frame";
            return Z_DAMAGE;
        }
        if (s->loose || s->pend - s->end >= RR_SOURCE_HOLD_BYTES) {
            s->loose = 1;
            s->end = s->pend;
        }
        /* hand over what is released rather than block on more input */
        if (s->end > s->start && s->zib.pos == s->zib.size && !s->in_eof) return Z_MORE;
    }
}

/* zstd data failed while reading records: the held bytes of its frame are
 * dropped. Without resync the stream ends before it and the compressed
 * rest of the file is unread; with it, the segment ends (cut) and ZSEEK
 * looks for the next intact frame. */
static int zdamage(rr_source_t *s)
{
    int64_t from = s->loose ? s->zerr_c : s->frame_c;
    s->pend = s->end;
    s->gaps.breaks++;
    note_first(s, 2, s->frame_c, s->zwhy);
    if (!s->resync) {
        int64_t n = count_compressed_rest(s, from);
        if (n < 0) return -1;
        s->gaps.unread_bytes += (uint64_t)n;
        s->zdead = 1;
        return 0;
    }
    if (s->loose) { /* released up to here: from the block the decoder may have held */
        from = s->zerr_c - (int64_t)ZSTD_BLOCK_LOOK;
        if (from < s->frame_c) from = s->frame_c;
        if (from < s->zbase) from = s->zbase;
    }
    s->dmg_c = from;
    s->zscan = s->frame_c + 1 > from ? s->frame_c + 1 : from;
    s->cut = 1;
    return 0;
}

/* ---- the window ----------------------------------------------------------- */

/* More stream bytes: slide the window to `start`, make room (grow it, or
 * release held bytes of a frame too big to hold), read or decompress.
 * Returns 0 once more bytes are released or the segment has ended (eof),
 * or -1 on error. */
static int fill(rr_source_t *s)
{
    for (;;) {
        if (s->start > 0) {
            memmove(s->buf, s->buf + s->start, s->pend - s->start);
            s->base += (int64_t)s->start;
            s->end -= s->start;
            s->pend -= s->start;
            s->scan -= s->scan >= s->start ? s->start : s->scan;
            s->start = 0;
        }
        if (s->pend == s->cap) {
            size_t held = s->pend - s->end;
            if (held && (held >= RR_SOURCE_HOLD_BYTES || s->cap >= WINDOW_LIMIT)) {
                s->end = s->pend; /* a frame too big to hold back */
                s->loose = 1;
                return 0;
            }
            if (s->cap >= WINDOW_LIMIT)
                return fail(s, "%s: %s", "internal error: the read window is full");
            size_t ncap = s->cap * 2 < WINDOW_LIMIT ? s->cap * 2 : WINDOW_LIMIT;
            uint8_t *nbuf = realloc(s->buf, ncap);
            if (!nbuf) return fail(s, "%s: %s", "out of memory growing the read buffer");
            s->buf = nbuf;
            s->cap = ncap;
        }
        if (!s->zd) {
            ssize_t r = read_input(s, s->buf + s->end, s->cap - s->end);
            if (r < 0) return -1;
            if (r == 0) s->eof = 1;
            s->end = s->pend = s->end + (size_t)r;
            return 0;
        }
        if (s->zdead) {
            s->eof = 1;
            return 0;
        }
        size_t end0 = s->end;
        switch (zproduce(s)) {
        case Z_ERR:
            return -1;
        case Z_END:
            s->end = s->pend; /* nothing held between frames */
            s->eof = 1;
            return 0;
        case Z_DAMAGE:
            if (s->state == ST_ZSEEK) { /* the candidate frame is no frame: seek on */
                s->pend = s->end;
                s->cand = 0;
                return 0;
            }
            if (zdamage(s) < 0) return -1;
            s->eof = 1;
            return 0;
        default:
            if (s->end > end0 || (s->state == ST_ZSEEK && s->frame_done)) return 0;
        }
    }
}

/* ---- framing --------------------------------------------------------------- */

/* The window starts with a complete length prefix above RR_SOURCE_MAX_RECORD. */
static int too_large(const rr_source_t *s)
{
    uint64_t v = 0;
    for (size_t i = 0; s->start + i < s->end && i < RR_FRAME_PREFIX_MAX; i++) {
        v |= (uint64_t)(s->buf[s->start + i] & 0x7f) << (7 * i);
        if (s->buf[s->start + i] < 0x80) return v > RR_SOURCE_MAX_RECORD;
    }
    return 0;
}

static void begin_scan(rr_source_t *s, int status, int tail)
{
    s->state = ST_SCAN;
    s->brk_status = status;
    s->brk_tail = tail;
    s->brk_off = s->base + (int64_t)s->start;
    s->scan = s->start + (tail ? 1 : 0); /* a segment's first byte is a candidate */
    s->pieces = 0;
    s->dropped = 0;
    s->keep_len = 0;
}

/* The end of the segment: the end of the stream, or a cut after which the
 * next intact zstd frame is sought. */
static int segment_end(rr_source_t *s)
{
    if (s->cut) {
        s->cut = 0;
        s->eof = 0;
        s->cand = 0;
        s->state = ST_ZSEEK;
        return 0;
    }
    s->done = 1;
    return 0;
}

/* One record from the window without refilling: 1 (an OK record), 0 (the
 * state changed: a break, or the end of the segment), 2 (need more). */
static int frame_step(rr_source_t *s, rr_record_t *rec)
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
        return segment_end(s);
    case RR_FRAME_NEED_MORE:
        if (!too_large(s)) return 2;
        st = RR_FRAME_TOO_LARGE;
        /* fall through */
    default: /* BROKEN, PAST_END, TOO_LARGE */
        begin_scan(s, st, 1);
        return 0;
    }
}

/* A record of window bytes [start, upto) from a break or a segment start. */
static void cut_record(rr_source_t *s, rr_record_t *rec, size_t upto, int status)
{
    rec->data = s->buf + s->start;
    rec->len = upto - s->start;
    rec->offset = s->base + (int64_t)s->start;
    rec->status = status;
    s->start = upto;
}

/* With resync: bytes up to `upto` skipped whole, as one invalid record. */
static int skip_record(rr_source_t *s, rr_record_t *rec, size_t upto)
{
    if (upto == s->start) return 0;
    s->gaps.skipped_bytes += upto - s->start;
    cut_record(s, rec, upto, s->pieces++ ? RR_FRAME_SKIPPED : s->brk_status);
    return 1;
}

/* Without resync: the break's one record, its first RR_SOURCE_KEEP_BYTES. */
static void kept_record(rr_source_t *s, rr_record_t *rec)
{
    if (s->dropped) {
        rec->data = s->keep;
        rec->len = s->keep_len;
    } else {
        size_t n = s->end - s->start;
        rec->data = s->buf + s->start;
        rec->len = n < RR_SOURCE_KEEP_BYTES ? n : RR_SOURCE_KEEP_BYTES;
    }
    rec->offset = s->brk_off;
    rec->status = s->brk_status;
}

/* Without resync, scanning far from the break: keep its first bytes aside
 * and drop the window up to the next candidate. */
static void drop_to(rr_source_t *s, size_t pos)
{
    if (!s->dropped && s->keep_len == 0) {
        size_t n = s->end - s->start;
        s->keep_len = n < RR_SOURCE_KEEP_BYTES ? n : RR_SOURCE_KEEP_BYTES;
        memcpy(s->keep, s->buf + s->start, s->keep_len);
    }
    s->dropped += pos - s->start;
    s->start = pos;
}

static int scan_step(rr_source_t *s, rr_record_t *rec)
{
    size_t pos = s->scan;
    int r = rr_resync_find(s->buf, s->end, s->eof, &pos);

    int gave_up = 0;
    if (r == RR_RESYNC_NEED_MORE) {
        s->scan = pos;
        if (s->resync) {
            if (pos - s->start >= RR_SOURCE_SKIP_PIECE)
                return skip_record(s, rec, pos); /* bound memory: one piece now */
            return 2;
        }
        if (pos - s->start > RR_SOURCE_KEEP_BYTES) drop_to(s, pos);
        if (s->dropped < RR_SOURCE_SKIP_PIECE) return 2;
        gave_up = 1; /* the break is before the end whatever follows: count, stop looking */
    }
    uint64_t region = s->dropped + (s->end - s->start); /* to the segment's end */
    if (r == RR_RESYNC_NONE && s->brk_tail && !s->dropped && !s->pieces &&
        region <= RR_SOURCE_KEEP_BYTES) {
        /* SPEC §7: one last invalid record, the whole tail (a length over
         * 64 MiB in a tail this short runs past the end) */
        cut_record(s, rec, s->end,
                   s->brk_status == RR_FRAME_TOO_LARGE ? RR_FRAME_PAST_END : s->brk_status);
        s->state = ST_FRAME;
        return 1;
    }
    if (s->brk_tail) {
        s->gaps.breaks++;
        note_first(s, 1, s->brk_off, frame_why(s->brk_status));
    }
    if (r == RR_RESYNC_FOUND && s->first.kind && s->first.resume < 0)
        s->first.resume = s->base + (int64_t)pos;
    s->state = ST_FRAME;
    if (s->resync) return skip_record(s, rec, r == RR_RESYNC_FOUND ? pos : s->end);
    /* SPEC §7: the file ends at the break; what follows is unread */
    kept_record(s, rec);
    s->gaps.unread_bytes += s->dropped;
    if (r == RR_RESYNC_FOUND || gave_up) {
        s->state = ST_COUNT; /* the window's bytes and the rest, next call */
    } else {
        s->gaps.unread_bytes += s->end - s->start;
        s->start = s->end;
    }
    return 1;
}

/* Without resync, after a break before the end: count every byte left. */
static int count_step(rr_source_t *s)
{
    for (;;) {
        s->gaps.unread_bytes += s->pend - s->start;
        s->base += (int64_t)s->pend;
        s->start = s->end = s->pend = 0;
        if (s->eof || s->zdead || (s->fd < 0 && !s->zd)) break;
        if (!s->zd) {
            ssize_t r = read_input(s, s->buf, s->cap);
            if (r < 0) return -1;
            if (r == 0) break;
            s->end = s->pend = (size_t)r;
            continue;
        }
        int z = zproduce(s);
        if (z == Z_ERR) return -1;
        if (z == Z_END) break;
        if (z == Z_DAMAGE) { /* and the compressed rest, in its own unit */
            int64_t n = count_compressed_rest(s, s->zerr_c);
            if (n < 0) return -1;
            s->gaps.unread_bytes += (uint64_t)n;
            s->pend = 0;
            break;
        }
        s->end = s->pend; /* counted, held or not */
    }
    s->eof = 1;
    s->done = 1;
    return 0;
}

/* ---- damaged zstd data (resync) --------------------------------------------- */

/* The compressed bytes [dmg_c, upto) as one record. */
static int gap_record(rr_source_t *s, rr_record_t *rec, int64_t upto)
{
    if (upto <= s->dmg_c) return 0;
    rec->data = (const uint8_t *)s->zib.src + (s->dmg_c - s->zbase);
    rec->len = (size_t)(upto - s->dmg_c);
    rec->offset = s->dmg_c;
    rec->status = RR_FRAME_ZSTD_DAMAGED;
    s->gaps.skipped_bytes += (uint64_t)(upto - s->dmg_c);
    s->dmg_c = upto;
    return 1;
}

/* The window is empty; look for the next frame from which zstd decodes
 * intact. 1 with a record (skipped compressed bytes), 0 (state changed or
 * keep going), 2 (decode more of the candidate). */
static int zseek_step(rr_source_t *s, rr_record_t *rec)
{
    if (s->cand) {
        if (!s->frame_done && !s->loose) return 2;
        /* the candidate is a frame: return the gap before it, read on */
        s->cand = 0;
        if (s->first.kind == 2 && s->first.resume < 0) s->first.resume = s->cand_c;
        begin_scan(s, RR_FRAME_SKIPPED, 0);
        return gap_record(s, rec, s->cand_c);
    }
    size_t i = (size_t)(s->zscan - s->zbase);
    const uint8_t *z = s->zib.src;
    for (; i + 4 <= s->zib.size; i++)
        if (z[i] == 0x28 && le32(z + i) == ZSTD_MAGICNUMBER) break;
    if (i + 4 <= s->zib.size) { /* a candidate: decode its frame, held back */
        s->cand = 1;
        s->cand_c = s->zbase + (int64_t)i;
        s->zscan = s->cand_c + 1;
        s->frame_c = s->cand_c;
        s->frame_done = 0;
        s->loose = 0;
        s->zret = 1;
        ZSTD_DCtx_reset(s->zd, ZSTD_reset_session_only);
        s->zib.pos = i;
        return 2;
    }
    s->zscan = s->zbase + (int64_t)i; /* the last 3 bytes may start a magic */
    if (s->zscan - s->dmg_c >= (int64_t)RR_SOURCE_SKIP_PIECE)
        return gap_record(s, rec, s->zscan); /* bound memory: one piece now */
    if (!s->in_eof) {
        s->zib.pos = s->zib.size; /* all searched; nothing for the decoder */
        return read_compressed(s) < 0 ? -1 : 0;
    }
    /* no intact frame after the damage: the gap runs to the end */
    int64_t total = s->zbase + (int64_t)s->zib.size;
    s->zib.pos = s->zib.size;
    s->zret = 0;
    s->zdead = 1;
    s->eof = 1;
    s->state = ST_FRAME;
    return gap_record(s, rec, total);
}

/* ---- records ---------------------------------------------------------------- */

int rr_source_next(rr_source_t *s, rr_record_t *rec)
{
    for (;;) {
        if (s->failed) return -1;
        if (s->done) return 0;
        int r;
        switch (s->state) {
        case ST_FRAME:
            r = frame_step(s, rec);
            break;
        case ST_SCAN:
            r = scan_step(s, rec);
            break;
        case ST_ZSEEK:
            r = zseek_step(s, rec);
            break;
        default:
            r = count_step(s);
            break;
        }
        if (r == 1 || r < 0) return r;
        if (r == 2 && fill(s) < 0) return -1;
    }
}

int rr_source_next_batch(rr_source_t *s, rr_record_t *recs, size_t max)
{
    size_t n;
    int r = rr_source_next(s, &recs[0]);
    if (r <= 0) return r;
    if (recs[0].status != RR_FRAME_OK) return 1;
    for (n = 1; n < max && s->state == ST_FRAME && !s->done; n++) {
        /* The common record: a one-byte length prefix (under 128 bytes)
         * and the whole message in the window. Framed here without a
         * call; anything else, including the end of the window, goes
         * through frame_step() and rr_frame_next(), which decide it. */
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
        if (n == max || frame_step(s, &recs[n]) != 1) break;
    }
    return (int)n;
}

/* ---- open and close ----------------------------------------------------------- */

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
        struct stat st;
        s->regular = fstat(s->fd, &st) == 0 && S_ISREG(st.st_mode);
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
            s->hit_eof = s->regular;
            break;
        }
        s->end += (size_t)r;
    }
    s->bytes_in = s->end;
    if (is_zstd_magic(s->buf, s->end)) {
        if (start_zstd(s, errstr, errstr_size) < 0) goto fail;
        s->zcap = 2 * (RR_SOURCE_ZIN > s->end ? RR_SOURCE_ZIN : s->end);
        if (!(s->zin = malloc(s->zcap))) {
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
    s->pend = s->end;
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
        s->cap = s->end = s->pend = len;
        s->eof = 1;
    }
    *out = s;
    return 0;

fail:
    rr_source_close(s);
    return -1;
}

void rr_source_set_resync(rr_source_t *s, int on)
{
    s->resync = on != 0;
}

rr_source_gaps_t rr_source_gaps(const rr_source_t *s)
{
    rr_source_gaps_t g = s->gaps;
    g.unread_bytes += grown(s);
    return g;
}

/* Append to the notice. */
static void say(rr_source_t *w, const char *fmt, ...)
{
    size_t n = strlen(w->notice);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->notice + n, sizeof w->notice - n, fmt, ap);
    va_end(ap);
}

const char *rr_source_notice(const rr_source_t *s)
{
    rr_source_t *w = (rr_source_t *)(uintptr_t)s; /* the notice is a cache */
    const first_gap_t *f = &s->first;
    w->notice[0] = '\0';
    if (f->kind == 1)
        say(w, "%s: the framing breaks at byte %lld (%s)", s->name, (long long)f->at, f->why);
    else if (f->kind == 2)
        say(w, "%s: damaged zstd data (%s) in the frame at compressed byte %lld", s->name, f->why,
            (long long)f->at);
    if (f->kind && s->resync) {
        if (f->resume >= 0)
            say(w, "; read on from %sbyte %lld",
                f->kind == 2 ? "the intact frame at compressed " : "", (long long)f->resume);
        else
            say(w, "; nothing decodes after it");
        say(w, "; %llu bytes skipped in %llu gap%s, all in the dead letter",
            (unsigned long long)s->gaps.skipped_bytes, (unsigned long long)s->gaps.breaks,
            s->gaps.breaks == 1 ? "" : "s");
    } else if (f->kind) {
        if (f->resume >= 0) say(w, "; records decode again at byte %lld", (long long)f->resume);
        say(w, "; the %llu %sbytes from the %s to the end are unread (run --resync reads on %s)",
            (unsigned long long)s->gaps.unread_bytes, f->kind == 2 ? "compressed " : "",
            f->kind == 2 ? "frame" : "break",
            f->kind == 2 ? "from the next intact frame" : "where records decode again");
    }
    uint64_t more = grown(s);
    if (more && f->kind)
        say(w, "; and the file grew by %llu bytes after its end was read: they are unread",
            (unsigned long long)more);
    else if (more)
        say(w,
            "%s: the file grew by %llu bytes after its end was read (still being written?): "
            "they are unread",
            s->name, (unsigned long long)more);
    return w->notice;
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

uint64_t rr_source_bytes_done(const rr_source_t *s)
{
    int64_t at = s->zd ? s->zbase + (int64_t)s->zib.pos : s->base + (int64_t)s->start;
    return at > 0 ? (uint64_t)at : 0;
}

uint64_t rr_source_size(const rr_source_t *s)
{
    struct stat st;
    if (s->fd < 0 || fstat(s->fd, &st) < 0 || !S_ISREG(st.st_mode)) return 0;
    return (uint64_t)st.st_size;
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

int rr_source_mux_init(rr_source_mux_t *rr, rr_source_t *const *src, int n)
{
    rr->src = src;
    rr->n = rr->remaining = n;
    rr->next = 0;
    rr->ended = calloc(n > 0 ? (size_t)n : 1, 1);
    return rr->ended ? 0 : -1;
}

void rr_source_mux_free(rr_source_mux_t *rr)
{
    free(rr->ended);
    rr->ended = NULL;
}

int rr_source_mux_next(rr_source_mux_t *rr, rr_record_t *recs, size_t max, int *which, size_t *n)
{
    *n = 0;
    if (!rr->remaining) return RR_SOURCE_MUX_DONE;
    int i = rr->next;
    while (rr->ended[i])
        i = (i + 1) % rr->n;
    rr->next = (i + 1) % rr->n;
    *which = i;
    int got = rr_source_next_batch(rr->src[i], recs, max);
    if (got < 0) return RR_SOURCE_MUX_ERROR;
    if (got == 0) {
        rr->ended[i] = 1;
        rr->remaining--;
        return RR_SOURCE_MUX_ENDED;
    }
    *n = (size_t)got;
    return RR_SOURCE_MUX_BATCH;
}
