/* engine/tz.c: offset table lookups and the local calendar (see tz.h). */
#include "engine/tz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS INT64_C(86400000)

/* One allocation: the struct, then at[n], off[n], then the name. */
struct rr_tz {
    size_t n;
    const int64_t *at;  /* UTC ms, strictly increasing */
    const int32_t *off; /* offset in ms from at[i] on; consecutive entries differ */
    int32_t initial;    /* offset in ms before at[0] */
    int32_t min_off;    /* bounds over initial and off[]: they bound the UTC */
    int32_t max_off;    /* instants of one local midnight (day_start, day_end) */
    const char *name;
};

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b) < 0) q--;
    return q;
}

static int offset_ok(int64_t offset_s)
{
    return offset_s >= -RR_TZ_MAX_OFFSET_S && offset_s <= RR_TZ_MAX_OFFSET_S;
}

rr_tz_t *rr_tz_from_transitions(const char *name, const int64_t *utc_ms, const int32_t *offset_s,
                                size_t n, int32_t initial_offset_s)
{
    if (!name || (n && (!utc_ms || !offset_s)) || !offset_ok(initial_offset_s)) return NULL;
    /* Validate and count the transitions that change the offset. */
    size_t kept = 0;
    int32_t prev = initial_offset_s;
    for (size_t i = 0; i < n; i++) {
        if (!offset_ok(offset_s[i]) || (i > 0 && utc_ms[i] <= utc_ms[i - 1])) return NULL;
        /* Keep every time convertible to local without overflow. */
        if (utc_ms[i] > INT64_MAX / 2 || utc_ms[i] < INT64_MIN / 2) return NULL;
        if (offset_s[i] != prev) kept++;
        prev = offset_s[i];
    }
    size_t name_len = strlen(name);
    size_t size = sizeof(struct rr_tz) + kept * (sizeof(int64_t) + sizeof(int32_t)) + name_len + 1;
    struct rr_tz *tz = malloc(size);
    if (!tz) return NULL;
    int64_t *at = (int64_t *)(void *)(tz + 1);
    int32_t *off = (int32_t *)(void *)(at + kept);
    char *nm = (char *)(off + kept);
    memcpy(nm, name, name_len + 1);

    tz->initial = initial_offset_s * 1000;
    tz->min_off = tz->max_off = tz->initial;
    size_t k = 0;
    prev = initial_offset_s;
    for (size_t i = 0; i < n; i++) {
        if (offset_s[i] != prev) {
            at[k] = utc_ms[i];
            off[k] = offset_s[i] * 1000;
            if (off[k] < tz->min_off) tz->min_off = off[k];
            if (off[k] > tz->max_off) tz->max_off = off[k];
            k++;
        }
        prev = offset_s[i];
    }
    tz->n = kept;
    tz->at = at;
    tz->off = off;
    tz->name = nm;
    return tz;
}

rr_tz_t *rr_tz_fixed(int32_t offset_s, const char *name)
{
    char buf[32];
    if (!name) {
        int32_t a = offset_s < 0 ? -offset_s : offset_s;
        if (a % 60)
            snprintf(buf, sizeof buf, "UTC%c%02d:%02d:%02d", offset_s < 0 ? '-' : '+',
                     (int)(a / 3600), (int)(a / 60 % 60), (int)(a % 60));
        else
            snprintf(buf, sizeof buf, "UTC%c%02d:%02d", offset_s < 0 ? '-' : '+', (int)(a / 3600),
                     (int)(a / 60 % 60));
        name = buf;
    }
    return rr_tz_from_transitions(name, NULL, NULL, 0, offset_s);
}

void rr_tz_free(rr_tz_t *tz)
{
    free(tz);
}

const char *rr_tz_name(const rr_tz_t *tz)
{
    return tz->name;
}

size_t rr_tz_transitions(const rr_tz_t *tz)
{
    return tz->n;
}

/* Interval k of the table is [at[k-1], at[k]) (unbounded at the ends), with
 * offset interval_off(tz, k). Returns the k whose interval holds ts: the
 * number of transitions at or before ts. */
static size_t interval_of(const rr_tz_t *tz, int64_t ts)
{
    size_t lo = 0, hi = tz->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (tz->at[mid] <= ts)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int32_t interval_off(const rr_tz_t *tz, size_t k)
{
    return k == 0 ? tz->initial : tz->off[k - 1];
}

static int64_t interval_lo(const rr_tz_t *tz, size_t k)
{
    return k == 0 ? INT64_MIN : tz->at[k - 1];
}

static int64_t interval_hi(const rr_tz_t *tz, size_t k)
{
    return k == tz->n ? INT64_MAX : tz->at[k];
}

int32_t rr_tz_offset_at(const rr_tz_t *tz, int64_t ts_ms)
{
    return interval_off(tz, interval_of(tz, ts_ms));
}

void rr_tz_local_miss(const rr_tz_t *tz, rr_tz_cache_t *c, int64_t ts_ms, int32_t *day,
                      int32_t *tod_ms)
{
    size_t k = interval_of(tz, ts_ms);
    int64_t off = interval_off(tz, k);
    int64_t d = floor_div(ts_ms + off, DAY_MS);
    int64_t base = d * DAY_MS - off; /* ts - base = local ms since local midnight */
    int64_t lo = interval_lo(tz, k), hi = interval_hi(tz, k);
    /* The cached interval: this offset's interval intersected with this
     * local day under this offset. */
    c->lo = lo > base ? lo : base;
    c->hi = hi < base + DAY_MS ? hi : base + DAY_MS;
    c->base = base;
    c->day = (int32_t)d;
    *day = (int32_t)d;
    *tod_ms = (int32_t)(ts_ms - base);
}

/* Local wall-clock time is increasing within one interval, so the least
 * instant of an interval [a, b) with offset o whose local time is >= M is
 * max(a, M - o) if that is < b. Instants before M - max_off are local < M for
 * every offset, so the scan starts there. */
int64_t rr_tz_day_start(const rr_tz_t *tz, int32_t day)
{
    int64_t m = (int64_t)day * DAY_MS;
    int64_t from = m - tz->max_off;
    for (size_t k = interval_of(tz, from);; k++) {
        int64_t a = interval_lo(tz, k), b = interval_hi(tz, k);
        if (a < from) a = from;
        int64_t t = m - interval_off(tz, k);
        if (t < a) t = a;
        if (t < b) return t; /* the last interval is unbounded, so this ends */
    }
}

/* The greatest instant with local time < E = (day + 1) midnight lies in
 * [E - max_off, E - min_off); in interval [a, b) with offset o the instants
 * with local time < E are [a, min(b, E - o)). */
int64_t rr_tz_day_end(const rr_tz_t *tz, int32_t day)
{
    int64_t e = ((int64_t)day + 1) * DAY_MS;
    int64_t from = e - tz->max_off, to = e - tz->min_off;
    int64_t end = from;
    for (size_t k = interval_of(tz, from); k <= tz->n; k++) {
        int64_t a = interval_lo(tz, k), b = interval_hi(tz, k);
        if (a >= to) break;
        if (a < from) a = from;
        int64_t t = e - interval_off(tz, k);
        if (t > b) t = b;
        if (t > a && t > end) end = t;
    }
    return end;
}

/* Howard Hinnant, "chrono-Compatible Low-Level Date Algorithms". */
int64_t rr_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;                                   /* [0, 399] */
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

void rr_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;                                      /* [0, 146096] */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
    int64_t mp = (5 * doy + 2) / 153;                                    /* [0, 11] */
    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

#define YEAR_MAX 214748 /* 214748-12-31 is the last yyyymmdd below INT32_MAX */

int32_t rr_day_to_yyyymmdd(int32_t day)
{
    int64_t y;
    unsigned m, d;
    rr_civil_from_days(day, &y, &m, &d);
    if (y < 0 || y > YEAR_MAX) return RR_TZ_BAD_DATE;
    return (int32_t)(y * 10000 + m * 100 + d);
}

int32_t rr_yyyymmdd_to_day(int32_t ymd)
{
    static const unsigned char mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (ymd < 0) return RR_TZ_BAD_DATE;
    int64_t y = ymd / 10000;
    unsigned m = (unsigned)(ymd / 100 % 100), d = (unsigned)(ymd % 100);
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1]) return RR_TZ_BAD_DATE;
    if (m == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))) return RR_TZ_BAD_DATE;
    return (int32_t)rr_days_from_civil(y, m, d);
}
