/* report/csv.c: the strict RFC 4180 reader of the run's CSV files (see csv.h).
 *
 * Bytes come from fill() (a plain file, zstd, or memory) into a window; the
 * row parser is a four-state machine over them:
 *
 *   START   --'"'--> QUOTED --'"'--> QQ --'"'--> QUOTED (a doubled quote)
 *   START/UNQUOTED --','--> START (field ends)   QQ --','--> START
 *   START/UNQUOTED/QQ --'\n'--> row ends          any of them --'\r'--> CR
 *   CR --'\n'--> row ends; anything else after a CR is an error
 */
#include "report/csv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zstd.h>

#include "engine/tz.h"

#define CHUNK ((size_t)64 << 10)

enum { START, UNQUOTED, QUOTED, QQ, CR };

struct rr_csv {
    char *name;
    int fd; /* -1: memory */
    const unsigned char *mem;
    size_t mem_n, mem_pos;
    /* zstd: compressed input in zin (from the file) or mem, decoded into buf */
    ZSTD_DCtx *zd;
    unsigned char *zin;
    ZSTD_inBuffer zib;
    size_t zret; /* the last ZSTD_decompressStream result: 0 between frames */
    int zeof;    /* no more compressed input */
    /* the window of decoded bytes: buf[pos..len) */
    const unsigned char *win;
    unsigned char *buf;
    size_t len, pos;
    /* the current row: each field's bytes then a NUL, in row */
    char *row;
    size_t row_len, row_cap;
    size_t off[RR_CSV_MAX_FIELDS], flen[RR_CSV_MAX_FIELDS];
    unsigned char cut[RR_CSV_MAX_FIELDS];
    size_t nf;
    /* the header, a copy of its row */
    char *hdr;
    size_t hoff[RR_CSV_MAX_FIELDS];
    size_t ncols;
    uint64_t line;     /* the line of the next byte */
    uint64_t row_line; /* the line the current row starts on */
    uint64_t rows;
    int failed;
};

static int fail(rr_csv_t *c, char *err, size_t n, const char *why)
{
    snprintf(err, n, "%s:%llu: %s", c->name, (unsigned long long)c->row_line, why);
    c->failed = 1;
    return -1;
}

/* More decoded bytes into the window: 1, 0 at the end of the input, -1. */
static int fill(rr_csv_t *c, char *err, size_t n)
{
    c->pos = c->len = 0;
    if (!c->zd) {
        if (c->fd < 0) { /* memory: the whole input is one window */
            if (c->mem_pos == c->mem_n) return 0;
            c->win = c->mem;
            c->len = c->mem_n;
            c->mem_pos = c->mem_n;
            return 1;
        }
        for (;;) {
            ssize_t r = read(c->fd, c->buf, CHUNK);
            if (r < 0 && errno == EINTR) continue;
            if (r < 0) {
                char why[160];
                snprintf(why, sizeof why, "read: %s", strerror(errno));
                return fail(c, err, n, why);
            }
            c->win = c->buf;
            c->len = (size_t)r;
            return r > 0;
        }
    }
    for (;;) {
        if (c->zib.pos == c->zib.size && !c->zeof) {
            if (c->fd < 0) {
                c->zib.src = c->mem;
                c->zib.size = c->mem_n;
                c->zib.pos = 0;
                c->zeof = 1;
            } else {
                ssize_t r = read(c->fd, c->zin, CHUNK);
                if (r < 0 && errno == EINTR) continue;
                if (r < 0) {
                    char why[160];
                    snprintf(why, sizeof why, "read: %s", strerror(errno));
                    return fail(c, err, n, why);
                }
                c->zib.src = c->zin;
                c->zib.size = (size_t)r;
                c->zib.pos = 0;
                if (r == 0) c->zeof = 1;
            }
        }
        if (c->zib.pos == c->zib.size && c->zeof) {
            if (c->zret != 0)
                return fail(c, err, n, "the zstd data ends inside a frame (file cut short?)");
            return 0;
        }
        ZSTD_outBuffer ob = {c->buf, CHUNK, 0};
        size_t r = ZSTD_decompressStream(c->zd, &ob, &c->zib);
        if (ZSTD_isError(r)) {
            char why[160];
            snprintf(why, sizeof why, "damaged zstd data: %s", ZSTD_getErrorName(r));
            return fail(c, err, n, why);
        }
        c->zret = r;
        if (ob.pos) {
            c->win = c->buf;
            c->len = ob.pos;
            return 1;
        }
    }
}

/* Append a byte to the field being read (kept up to RR_CSV_FIELD_KEEP). */
static int put(rr_csv_t *c, unsigned char ch)
{
    size_t f = c->nf;
    if (c->row_len - c->off[f] >= RR_CSV_FIELD_KEEP) {
        c->cut[f] = 1;
        return 0;
    }
    if (c->row_len + 2 > c->row_cap) { /* room for the byte and the field's NUL */
        size_t cap = c->row_cap ? 2 * c->row_cap : 4096;
        char *p = realloc(c->row, cap);
        if (!p) return -1;
        c->row = p;
        c->row_cap = cap;
    }
    c->row[c->row_len++] = (char)ch;
    return 0;
}

/* The field being read ends; the next one starts. */
static int end_field(rr_csv_t *c, char *err, size_t n)
{
    if (c->row_len + 1 > c->row_cap) {
        size_t cap = c->row_cap ? 2 * c->row_cap : 4096;
        char *p = realloc(c->row, cap);
        if (!p) return fail(c, err, n, "out of memory");
        c->row = p;
        c->row_cap = cap;
    }
    c->flen[c->nf] = c->row_len - c->off[c->nf];
    c->row[c->row_len++] = '\0';
    if (++c->nf == RR_CSV_MAX_FIELDS) {
        char why[64];
        snprintf(why, sizeof why, "more than %d fields", RR_CSV_MAX_FIELDS - 1);
        return fail(c, err, n, why);
    }
    c->off[c->nf] = c->row_len;
    c->cut[c->nf] = 0;
    return 0;
}

/* Read one row into c->row: 1, 0 at a clean end, -1. */
static int read_row(rr_csv_t *c, char *err, size_t n)
{
    int state = START, any = 0;
    uint64_t quote_line = 0;
    c->nf = 0;
    c->row_len = 0;
    c->off[0] = 0;
    c->cut[0] = 0;
    c->row_line = c->line;
    for (;;) {
        if (c->pos == c->len) {
            int r = fill(c, err, n);
            if (r < 0) return -1;
            if (r == 0) {
                char why[160];
                if (!any) return 0;
                if (state == QUOTED) {
                    snprintf(why, sizeof why,
                             "a quoted field opened on line %llu is not closed at the end of the "
                             "file (file cut short?)",
                             (unsigned long long)quote_line);
                    return fail(c, err, n, why);
                }
                return fail(c, err, n, "the last row has no line end (file cut short?)");
            }
        }
        unsigned char ch = c->win[c->pos++];
        any = 1;
        if (ch == 0) return fail(c, err, n, "a NUL byte (not a text file?)");
        switch (state) {
        case START:
            if (ch == '"') {
                state = QUOTED;
                quote_line = c->line;
                break;
            }
            state = UNQUOTED;
            /* fall through */
        case UNQUOTED:
            if (ch == ',') {
                if (end_field(c, err, n) < 0) return -1;
                state = START;
            } else if (ch == '\n') {
                c->line++;
                return end_field(c, err, n) < 0 ? -1 : 1;
            } else if (ch == '\r') {
                state = CR;
            } else if (ch == '"') {
                return fail(c, err, n, "a quote inside an unquoted field");
            } else if (put(c, ch) < 0) {
                return fail(c, err, n, "out of memory");
            }
            break;
        case QUOTED:
            if (ch == '"') {
                state = QQ;
                break;
            }
            if (ch == '\n') c->line++;
            if (put(c, ch) < 0) return fail(c, err, n, "out of memory");
            break;
        case QQ:
            if (ch == '"') {
                if (put(c, ch) < 0) return fail(c, err, n, "out of memory");
                state = QUOTED;
            } else if (ch == ',') {
                if (end_field(c, err, n) < 0) return -1;
                state = START;
            } else if (ch == '\n') {
                c->line++;
                return end_field(c, err, n) < 0 ? -1 : 1;
            } else if (ch == '\r') {
                state = CR;
            } else {
                char why[80];
                snprintf(why, sizeof why, "'%c' after a closing quote (expected , or a line end)",
                         ch >= 0x20 && ch < 0x7f ? ch : '?');
                return fail(c, err, n, why);
            }
            break;
        default: /* CR */
            if (ch != '\n') return fail(c, err, n, "a CR not followed by a line feed");
            c->line++;
            return end_field(c, err, n) < 0 ? -1 : 1;
        }
    }
}

int rr_csv_next(rr_csv_t *c, char *err, size_t n)
{
    if (c->failed) {
        snprintf(err, n, "%s: not read further after an error", c->name);
        return -1;
    }
    if (!c->ncols) return 0; /* an empty file */
    int r = read_row(c, err, n);
    if (r <= 0) return r;
    if (c->nf != c->ncols) {
        char why[96];
        snprintf(why, sizeof why, "%zu field%s, the header has %zu", c->nf, c->nf == 1 ? "" : "s",
                 c->ncols);
        return fail(c, err, n, why);
    }
    c->rows++;
    return 1;
}

static int start(rr_csv_t *c, rr_csv_t **out, char *err, size_t n)
{
    *out = NULL;
    c->buf = malloc(CHUNK);
    if (!c->buf) goto oom;
    if (c->zd && c->fd >= 0 && !(c->zin = malloc(CHUNK))) goto oom;
    c->line = 1;
    int r = read_row(c, err, n);
    if (r < 0) goto fail;
    if (r > 0) { /* the header */
        c->hdr = malloc(c->row_len);
        if (!c->hdr) goto oom;
        memcpy(c->hdr, c->row, c->row_len);
        memcpy(c->hoff, c->off, c->nf * sizeof c->off[0]);
        c->ncols = c->nf;
    }
    *out = c;
    return 0;
oom:
    snprintf(err, n, "%s: out of memory", c->name);
fail:
    rr_csv_close(c);
    return -1;
}

static rr_csv_t *alloc(const char *name, int zstd, char *err, size_t n)
{
    rr_csv_t *c = calloc(1, sizeof *c);
    if (c) c->fd = -1;
    if (c && !(c->name = strdup(name))) {
        free(c);
        c = NULL;
    }
    if (c && zstd && !(c->zd = ZSTD_createDCtx())) {
        rr_csv_close(c);
        c = NULL;
    }
    if (!c) snprintf(err, n, "%s: out of memory", name);
    return c;
}

int rr_csv_open(const char *path, rr_csv_t **out, char *err, size_t n)
{
    size_t pl = strlen(path);
    int zstd = pl > 4 && !strcmp(path + pl - 4, ".zst");
    rr_csv_t *c = alloc(path, zstd, err, n);
    *out = NULL;
    if (!c) return -1;
    c->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (c->fd < 0) {
        snprintf(err, n, "%s: %s", path, strerror(errno));
        rr_csv_close(c);
        return -1;
    }
    return start(c, out, err, n);
}

int rr_csv_open_mem(const char *name, const void *p, size_t n, int zstd, rr_csv_t **out, char *err,
                    size_t errn)
{
    rr_csv_t *c = alloc(name, zstd, err, errn);
    *out = NULL;
    if (!c) return -1;
    c->mem = p;
    c->mem_n = n;
    return start(c, out, err, errn);
}

void rr_csv_close(rr_csv_t *c)
{
    if (!c) return;
    if (c->fd >= 0) close(c->fd);
    ZSTD_freeDCtx(c->zd);
    free(c->zin);
    free(c->buf);
    free(c->row);
    free(c->hdr);
    free(c->name);
    free(c);
}

const char *rr_csv_name(const rr_csv_t *c)
{
    return c->name;
}

size_t rr_csv_columns(const rr_csv_t *c)
{
    return c->ncols;
}

int rr_csv_column(const rr_csv_t *c, const char *name)
{
    for (size_t i = 0; i < c->ncols; i++)
        if (!strcmp(c->hdr + c->hoff[i], name)) return (int)i;
    return -1;
}

const char *rr_csv_header(const rr_csv_t *c, size_t i)
{
    return c->hdr + c->hoff[i];
}

int rr_csv_require(const rr_csv_t *c, const char *const *names, int *idx, size_t n, char *err,
                   size_t errn)
{
    for (size_t i = 0; i < n; i++) {
        idx[i] = rr_csv_column(c, names[i]);
        if (idx[i] < 0) {
            snprintf(err, errn, "%s:1: the header has no column '%s'", c->name, names[i]);
            return -1;
        }
    }
    return 0;
}

uint64_t rr_csv_line(const rr_csv_t *c)
{
    return c->row_line;
}

uint64_t rr_csv_rows(const rr_csv_t *c)
{
    return c->rows;
}

const char *rr_csv_field(const rr_csv_t *c, size_t i, size_t *len, int *cut)
{
    if (len) *len = c->flen[i];
    if (cut) *cut = c->cut[i];
    return c->row + c->off[i];
}

/* ---- typed fields ---------------------------------------------------------- */

int rr_csv_parse_u64(const char *s, size_t n, uint64_t *v)
{
    uint64_t x = 0;
    if (n == 0 || n > 20) return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        unsigned d = (unsigned)(s[i] - '0');
        if (x > (UINT64_MAX - d) / 10) return -1;
        x = x * 10 + d;
    }
    *v = x;
    return 0;
}

/* n digits at s as an int, or -1. */
static int digits(const char *s, int n)
{
    int x = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        x = x * 10 + (s[i] - '0');
    }
    return x;
}

int rr_csv_parse_day(const char *s, size_t n, int32_t *day)
{
    if (n != 10 || s[4] != '-' || s[7] != '-') return -1;
    int y = digits(s, 4), m = digits(s + 5, 2), d = digits(s + 8, 2);
    if (y < 0 || m < 0 || d < 0) return -1;
    int32_t r = rr_yyyymmdd_to_day(y * 10000 + m * 100 + d);
    if (r == RR_TZ_BAD_DATE) return -1;
    *day = r;
    return 0;
}

int rr_csv_parse_utc_ms(const char *s, size_t n, int64_t *ms)
{
    int32_t day;
    int frac = 0;
    if (n != 20 && n != 24) return -1;
    if (s[n - 1] != 'Z' || s[10] != 'T' || s[13] != ':' || s[16] != ':') return -1;
    if (rr_csv_parse_day(s, 10, &day) < 0) return -1;
    int h = digits(s + 11, 2), mi = digits(s + 14, 2), sec = digits(s + 17, 2);
    if (h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59) return -1;
    if (n == 24 && (s[19] != '.' || (frac = digits(s + 20, 3)) < 0)) return -1;
    *ms = (int64_t)day * 86400000 + (int64_t)h * 3600000 + mi * 60000 + sec * 1000 + frac;
    return 0;
}

/* "FILE:LINE: column NAME: 'TEXT' what" (TEXT shortened, odd bytes as '?'). */
static int bad(const rr_csv_t *c, size_t i, const char *what, char *err, size_t n)
{
    char text[48];
    size_t k = 0;
    const char *s = c->row + c->off[i];
    for (; k < c->flen[i] && k < 40; k++)
        text[k] = s[k] >= 0x20 && s[k] < 0x7f ? s[k] : '?';
    text[k] = '\0';
    snprintf(err, n, "%s:%llu: column %s: '%s%s' %s", c->name, (unsigned long long)c->row_line,
             c->hdr + c->hoff[i], text, c->flen[i] > 40 || c->cut[i] ? "..." : "", what);
    return -1;
}

int rr_csv_u64_opt(const rr_csv_t *c, size_t i, uint64_t *v, char *err, size_t n)
{
    if (c->flen[i] == 0) return 1;
    if (c->cut[i] || rr_csv_parse_u64(c->row + c->off[i], c->flen[i], v) < 0)
        return bad(c, i, "is not an unsigned 64-bit integer", err, n);
    return 0;
}

int rr_csv_u64(const rr_csv_t *c, size_t i, uint64_t *v, char *err, size_t n)
{
    int r = rr_csv_u64_opt(c, i, v, err, n);
    return r == 1 ? bad(c, i, "is empty, expected an unsigned 64-bit integer", err, n) : r;
}

int rr_csv_bool(const rr_csv_t *c, size_t i, int *v, char *err, size_t n)
{
    const char *s = c->row + c->off[i];
    if (!strcmp(s, "true"))
        *v = 1;
    else if (!strcmp(s, "false"))
        *v = 0;
    else
        return bad(c, i, "is not true or false", err, n);
    return 0;
}

int rr_csv_day(const rr_csv_t *c, size_t i, int32_t *day, char *err, size_t n)
{
    if (rr_csv_parse_day(c->row + c->off[i], c->flen[i], day) < 0)
        return bad(c, i, "is not a date YYYY-MM-DD", err, n);
    return 0;
}

int rr_csv_utc_ms(const rr_csv_t *c, size_t i, int64_t *ms, char *err, size_t n)
{
    if (rr_csv_parse_utc_ms(c->row + c->off[i], c->flen[i], ms) < 0)
        return bad(c, i, "is not a UTC time YYYY-MM-DDTHH:MM:SS.mmmZ", err, n);
    return 0;
}

int rr_csv_str(const rr_csv_t *c, size_t i, char *buf, size_t max, char *err, size_t n)
{
    if (c->cut[i] || c->flen[i] + 1 > max) {
        char what[64];
        snprintf(what, sizeof what, "is longer than %zu bytes", max - 1);
        return bad(c, i, what, err, n);
    }
    memcpy(buf, c->row + c->off[i], c->flen[i] + 1);
    return 0;
}
