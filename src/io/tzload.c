/* io/tzload.c: TZif (RFC 8536) reader and POSIX TZ rule expander (see tzload.h). */
#include "io/tzload.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TZIF_MAX_BYTES (4u << 20)             /* real files are < 10 KB */
#define TIME_LIMIT_S INT64_C(100000000000000) /* 10^14 s: beyond are sentinels */
#define LAST_YEAR 10001                       /* expand footer rules through this year */

static void set_err(char *errstr, size_t errstr_size, const char *fmt, ...)
{
    if (!errstr || !errstr_size) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errstr, errstr_size, fmt, ap);
    va_end(ap);
}

static int name_ok(const char *name)
{
    if (!name || !*name || name[0] == '/' || strstr(name, "..") || strlen(name) > 255) return 0;
    for (const char *p = name; *p; p++) {
        char ch = *p;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '/' || ch == '_' || ch == '-' || ch == '+' || ch == '.'))
            return 0;
    }
    return 1;
}

/* Reads a whole regular file. Returns 0, or -1 with errno-ish reason in *why. */
static int read_file(const char *path, uint8_t **data, size_t *len, const char **why)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    uint8_t *buf = NULL;
    if (fd < 0) {
        *why = errno == ENOENT ? "no such zone file" : strerror(errno);
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        *why = "not a zone file";
        goto fail;
    }
    if ((uintmax_t)st.st_size > TZIF_MAX_BYTES) {
        *why = "zone file too large";
        goto fail;
    }
    size_t size = (size_t)st.st_size;
    buf = malloc(size ? size : 1);
    if (!buf) {
        *why = "out of memory";
        goto fail;
    }
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            *why = r < 0 ? strerror(errno) : "zone file shrank while reading";
            goto fail;
        }
        got += (size_t)r;
    }
    close(fd);
    *data = buf;
    *len = size;
    return 0;
fail:
    free(buf);
    close(fd);
    return -1;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const uint8_t *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* ---- POSIX TZ strings (RFC 8536 section 3.3, POSIX.1 TZ) ---- */

typedef struct rule_date {
    char kind; /* 'J': Jn, 1..365 without Feb 29; 'D': n, 0..365; 'M': Mm.w.d */
    int n, m, w, d;
    int32_t time_s; /* local wall time of the change, -167 h .. 167 h */
} rule_date_t;

typedef struct posix_tz {
    int32_t std_off; /* seconds east of UTC */
    int32_t dst_off;
    int has_dst;
    rule_date_t start, end;
} posix_tz_t;

static const char *parse_tzname(const char *p)
{
    if (*p == '<') {
        const char *q = ++p;
        while (*q && *q != '>')
            q++;
        if (*q != '>' || q - p < 3) return NULL;
        return q + 1;
    }
    const char *q = p;
    while ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z'))
        q++;
    return q - p >= 3 ? q : NULL;
}

static const char *parse_num(const char *p, int lo, int hi, int *out)
{
    if (*p < '0' || *p > '9') return NULL;
    int v = 0;
    while (*p >= '0' && *p <= '9') {
        v = v * 10 + (*p++ - '0');
        if (v > hi) return NULL;
    }
    if (v < lo) return NULL;
    *out = v;
    return p;
}

/* [+-]hh[:mm[:ss]] with hh <= max_h; returns seconds (sign applied). */
static const char *parse_hms(const char *p, int max_h, int32_t *out)
{
    int sign = 1, h, m = 0, s = 0;
    if (*p == '+' || *p == '-') sign = *p++ == '-' ? -1 : 1;
    if (!(p = parse_num(p, 0, max_h, &h))) return NULL;
    if (*p == ':') {
        if (!(p = parse_num(p + 1, 0, 59, &m))) return NULL;
        if (*p == ':' && !(p = parse_num(p + 1, 0, 59, &s))) return NULL;
    }
    *out = sign * (h * 3600 + m * 60 + s);
    return p;
}

static const char *parse_rule_date(const char *p, rule_date_t *r)
{
    if (*p == 'J') {
        r->kind = 'J';
        p = parse_num(p + 1, 1, 365, &r->n);
    } else if (*p == 'M') {
        r->kind = 'M';
        if (!(p = parse_num(p + 1, 1, 12, &r->m)) || *p != '.') return NULL;
        if (!(p = parse_num(p + 1, 1, 5, &r->w)) || *p != '.') return NULL;
        p = parse_num(p + 1, 0, 6, &r->d);
    } else {
        r->kind = 'D';
        p = parse_num(p, 0, 365, &r->n);
    }
    if (!p) return NULL;
    r->time_s = 2 * 3600;
    if (*p == '/') p = parse_hms(p + 1, 167, &r->time_s);
    return p;
}

static int parse_posix_tz(const char *s, posix_tz_t *tz)
{
    const char *p = parse_tzname(s);
    int32_t west;
    if (!p || !(p = parse_hms(p, 24, &west))) return -1;
    tz->std_off = -west;
    tz->dst_off = tz->std_off + 3600;
    tz->has_dst = 0;
    if (!*p) return 0;
    if (!(p = parse_tzname(p))) return -1;
    tz->has_dst = 1;
    if (*p && *p != ',') {
        if (!(p = parse_hms(p, 24, &west))) return -1;
        tz->dst_off = -west;
    }
    /* A DST zone without a rule means "posixrules"; zic never writes one. */
    if (*p != ',' || !(p = parse_rule_date(p + 1, &tz->start))) return -1;
    if (*p != ',' || !(p = parse_rule_date(p + 1, &tz->end))) return -1;
    return *p ? -1 : 0;
}

static int is_leap(int64_t y)
{
    return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

/* Day number (since 1970-01-01) on which rule date r falls in year y. */
static int64_t rule_day(const rule_date_t *r, int64_t y)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int64_t jan1 = rr_days_from_civil(y, 1, 1);
    switch (r->kind) {
    case 'J':
        return jan1 + r->n - 1 + (is_leap(y) && r->n >= 60);
    case 'D':
        return jan1 + r->n;
    default: {
        int64_t first = rr_days_from_civil(y, (unsigned)r->m, 1);
        int len = mdays[r->m - 1] + (r->m == 2 && is_leap(y));
        int wd = (int)(((first + 4) % 7 + 7) % 7); /* 1970-01-01 was a Thursday */
        int64_t z = first + (r->d - wd + 7) % 7 + (int64_t)(r->w - 1) * 7;
        while (z >= first + len) /* w == 5: the last such weekday */
            z -= 7;
        return z;
    }
    }
}

/* ---- the table being built ---- */

typedef struct table {
    int64_t *at_ms;
    int32_t *off_s;
    size_t n, cap;
} table_t;

static int table_push(table_t *t, int64_t at_s, int32_t off_s)
{
    if (t->n && at_s * 1000 <= t->at_ms[t->n - 1]) {
        /* Same instant (all-year DST rules end and restart at once): the later
         * change wins. Earlier ones cannot come from well-formed input. */
        if (at_s * 1000 < t->at_ms[t->n - 1]) return -1;
        t->off_s[t->n - 1] = off_s;
        return 0;
    }
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 256;
        int64_t *a = realloc(t->at_ms, cap * sizeof *a);
        if (!a) return -1;
        t->at_ms = a;
        int32_t *o = realloc(t->off_s, cap * sizeof *o);
        if (!o) return -1;
        t->off_s = o;
        t->cap = cap;
    }
    t->at_ms[t->n] = at_s * 1000;
    t->off_s[t->n] = off_s;
    t->n++;
    return 0;
}

static int offset_ok(int64_t off)
{
    return off >= -RR_TZ_MAX_OFFSET_S && off <= RR_TZ_MAX_OFFSET_S;
}

int rr_tz_load(const char *name, rr_tz_t **out, char *errstr, size_t errstr_size)
{
    uint8_t *data = NULL;
    size_t len = 0;
    table_t t = {0};
    char *footer = NULL;
    const char *why = NULL;
    char path[4096];
    int rc = -1;

    *out = NULL;
    if (!name_ok(name)) {
        set_err(errstr, errstr_size, "time zone \"%s\": not a valid zone name", name ? name : "");
        return -1;
    }
    const char *dir = getenv("TZDIR");
    if (!dir || !*dir) dir = "/usr/share/zoneinfo";
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path) {
        set_err(errstr, errstr_size, "time zone \"%s\": path too long", name);
        return -1;
    }
    if (read_file(path, &data, &len, &why) != 0) {
        set_err(errstr, errstr_size, "unknown time zone \"%s\" (%s: %s)", name, path, why);
        return -1;
    }

    /* Header: "TZif", version, 15 reserved, six big-endian counts. */
    if (len < 44 || memcmp(data, "TZif", 4) != 0) {
        why = "not a TZif file";
        goto fail;
    }
    int version = data[4] ? data[4] : '1';
    size_t pos = 0;
    uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
    int tsize = 4;
    for (int pass = 0;; pass++) {
        if (len - pos < 44 || memcmp(data + pos, "TZif", 4) != 0) {
            why = "truncated TZif header";
            goto fail;
        }
        const uint8_t *h = data + pos + 20;
        isutcnt = be32(h), isstdcnt = be32(h + 4), leapcnt = be32(h + 8);
        timecnt = be32(h + 12), typecnt = be32(h + 16), charcnt = be32(h + 20);
        pos += 44;
        uint64_t block = (uint64_t)timecnt * ((unsigned)tsize + 1) + (uint64_t)typecnt * 6 +
                         charcnt + (uint64_t)leapcnt * ((unsigned)tsize + 4) + isstdcnt + isutcnt;
        if (block > len - pos) {
            why = "truncated TZif data";
            goto fail;
        }
        if (pass == 1 || version < '2') break;
        pos += (size_t)block; /* skip the v1 (32-bit) block: use the 64-bit one */
        tsize = 8;
    }
    if (typecnt == 0 || typecnt > 256) {
        why = "bad local time type count";
        goto fail;
    }
    if (leapcnt) {
        why = "leap-second (\"right/\") zones are not supported";
        goto fail;
    }
    const uint8_t *times = data + pos;
    const uint8_t *idx = times + (size_t)timecnt * (size_t)tsize;
    const uint8_t *types = idx + timecnt;
    for (uint32_t i = 0; i < typecnt; i++) {
        int32_t off = (int32_t)be32(types + 6 * i);
        if (!offset_ok(off)) {
            why = "UTC offset out of range";
            goto fail;
        }
    }
    int32_t initial = (int32_t)be32(types); /* RFC 8536: type 0 before the first transition */
    int64_t last_s = INT64_MIN;
    for (uint32_t i = 0; i < timecnt; i++) {
        int64_t at = tsize == 8 ? be64(times + 8 * (size_t)i)
                                : (int64_t)(int32_t)be32(times + 4 * (size_t)i);
        if (idx[i] >= typecnt) {
            why = "bad local time type index";
            goto fail;
        }
        int32_t off = (int32_t)be32(types + 6 * (size_t)idx[i]);
        if (at <= last_s) {
            why = "transitions out of order";
            goto fail;
        }
        last_s = at;
        if (at < -TIME_LIMIT_S) {
            initial = off;
            continue;
        }
        if (at > TIME_LIMIT_S) break;
        if (table_push(&t, at, off) != 0) {
            why = "out of memory";
            goto fail;
        }
    }

    /* The footer "\n<POSIX TZ>\n" governs times after the last transition. */
    if (version >= '2') {
        size_t end = pos + (size_t)timecnt * 9 + (size_t)typecnt * 6 + charcnt +
                     (size_t)leapcnt * 12 + isstdcnt + isutcnt;
        if (end >= len || data[end] != '\n') {
            why = "missing TZ string footer";
            goto fail;
        }
        const uint8_t *nl = memchr(data + end + 1, '\n', len - end - 1);
        if (!nl) {
            why = "unterminated TZ string footer";
            goto fail;
        }
        size_t flen = (size_t)(nl - (data + end + 1));
        footer = malloc(flen + 1);
        if (!footer) {
            why = "out of memory";
            goto fail;
        }
        memcpy(footer, data + end + 1, flen);
        footer[flen] = '\0';
    }
    if (footer && *footer) {
        posix_tz_t rule;
        if (parse_posix_tz(footer, &rule) != 0 || !offset_ok(rule.std_off) ||
            !offset_ok(rule.dst_off)) {
            why = "unsupported TZ string footer";
            goto fail;
        }
        int64_t after = t.n ? t.at_ms[t.n - 1] / 1000 : INT64_MIN;
        if (!rule.has_dst) {
            /* The footer agrees with the last type in any well-formed file,
             * so this entry is normally a no-op (and dropped). */
            if (!t.n)
                initial = rule.std_off;
            else if (table_push(&t, after + 1, rule.std_off) != 0) {
                why = "out of memory";
                goto fail;
            }
        } else {
            size_t first_gen = t.n;
            int64_t y0 = 1900;
            if (t.n) {
                int64_t y;
                unsigned m, d;
                rr_civil_from_days(after / 86400 - 1, &y, &m, &d);
                y0 = y - 1;
            }
            for (int64_t y = y0; y <= LAST_YEAR; y++) {
                int64_t s = rule_day(&rule.start, y) * 86400 + rule.start.time_s - rule.std_off;
                int64_t e = rule_day(&rule.end, y) * 86400 + rule.end.time_s - rule.dst_off;
                int64_t ta = s <= e ? s : e, tb = s <= e ? e : s;
                int32_t oa = s <= e ? rule.dst_off : rule.std_off;
                int32_t ob = s <= e ? rule.std_off : rule.dst_off;
                if ((ta > after && table_push(&t, ta, oa) != 0) ||
                    (tb > after && table_push(&t, tb, ob) != 0)) {
                    why = "inconsistent TZ string footer";
                    goto fail;
                }
            }
            /* With no transitions in the file, the rule governs all time:
             * before its first change the other offset holds. */
            if (first_gen == 0 && t.n)
                initial = t.off_s[0] == rule.dst_off ? rule.std_off : rule.dst_off;
        }
    }

    *out = rr_tz_from_transitions(name, t.at_ms, t.off_s, t.n, initial);
    if (!*out) {
        why = "out of memory";
        goto fail;
    }
    rc = 0;
fail:
    if (rc != 0) set_err(errstr, errstr_size, "time zone \"%s\" (%s): %s", name, path, why);
    free(t.at_ms);
    free(t.off_s);
    free(footer);
    free(data);
    return rc;
}
