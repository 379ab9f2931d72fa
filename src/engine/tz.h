/* engine/tz.h: the job's time zone as a table of UTC-offset changes, and the
 * local calendar built on it (SPEC §3 "day", windows; §5 "day's local end").
 *
 * An rr_tz_t is a sorted table of transitions: from transition i's UTC instant
 * (ms) on, the zone's UTC offset is off[i]; before the first one it is the
 * initial offset. It is built from explicit transitions (tests, or
 * io/tzload.c, which reads the system zone database) and is immutable once
 * built, so one rr_tz_t may be read from any number of threads at once.
 *
 * Local day numbers are days since 1970-01-01 in the proleptic Gregorian
 * calendar of the local wall clock; they may be negative. A local time of day
 * ("tod") is wall-clock ms since local midnight, 0 .. 86 399 999.
 *
 * Lookups go through a caller-owned rr_tz_cache_t that remembers the last
 * interval [lo, hi) of UTC ms over which both the offset and the local day are
 * constant, so a run of events on one local day costs two compares each; a
 * miss binary-searches the table (O(log n), no allocation). A cache belongs to
 * one rr_tz_t and to one thread: reset it (rr_tz_cache_init, or zero it) before
 * using it with another zone.
 *
 * Domain: every function is exact for ts in 1 .. 253 402 300 799 999 (SPEC §7,
 * year 9999) and for the days those fall on, and well defined (no overflow)
 * for |ts| <= 10^17 ms. Beyond its last transition the table's last offset
 * holds; io/tzload.c writes transitions up to year 10001, so that is exact.
 *
 * This module is pure: no I/O, no clock, no global state.
 */
#ifndef RR_ENGINE_TZ_H
#define RR_ENGINE_TZ_H

#include <stddef.h>
#include <stdint.h>

/* Same typedef as in replyrate/engine.h (C11 allows the repetition), so this
 * header does not need to pull in the whole engine interface. */
typedef struct rr_tz rr_tz_t;

/* Offsets beyond +-48 h are rejected (real zones stay within +-26 h). */
#define RR_TZ_MAX_OFFSET_S (48 * 3600)

/* A zone with one constant offset (seconds east of UTC), e.g. for tests.
 * name is copied (NULL: "UTC+hh:mm"-style name is made up). Returns NULL when
 * out of memory or |offset_s| > RR_TZ_MAX_OFFSET_S. The result is owned by
 * the caller: free it with rr_tz_free. */
rr_tz_t *rr_tz_fixed(int32_t offset_s, const char *name);

/* A zone from n transitions: from utc_ms[i] on the offset is offset_s[i]
 * (seconds east of UTC); before utc_ms[0] (or always, when n is 0) it is
 * initial_offset_s. utc_ms must be strictly increasing. Transitions that do
 * not change the offset are dropped. name, utc_ms and offset_s are borrowed
 * (copied). Returns NULL when out of memory, name is NULL, the times are not
 * strictly increasing, or an offset is out of range. Owned by the caller. */
rr_tz_t *rr_tz_from_transitions(const char *name, const int64_t *utc_ms, const int32_t *offset_s,
                                size_t n, int32_t initial_offset_s);

void rr_tz_free(rr_tz_t *tz);

/* The zone's name, owned by tz. */
const char *rr_tz_name(const rr_tz_t *tz);

/* Number of transitions kept (after dropping no-op ones); for tests, stats. */
size_t rr_tz_transitions(const rr_tz_t *tz);

/* UTC offset in ms in effect at ts_ms. */
int32_t rr_tz_offset_at(const rr_tz_t *tz, int64_t ts_ms);

/* The cache: [lo, hi) is the last interval of UTC ms with one offset and one
 * local day; in it, day is the local day and ts - base the local tod (base is
 * the UTC ms the local midnight would have under that offset, which need not
 * be a real instant). Empty when lo >= hi, as after zeroing. */
typedef struct rr_tz_cache {
    int64_t lo;
    int64_t hi;
    int64_t base;
    int32_t day;
} rr_tz_cache_t;

static inline void rr_tz_cache_init(rr_tz_cache_t *c)
{
    c->lo = 0;
    c->hi = 0;
    c->base = 0;
    c->day = 0;
}

/* Slow path of rr_tz_local: binary search, then refill the cache. */
void rr_tz_local_miss(const rr_tz_t *tz, rr_tz_cache_t *c, int64_t ts_ms, int32_t *day,
                      int32_t *tod_ms);

/* Local day (days since 1970-01-01) and local time of day (ms since local
 * midnight, 0 .. 86 399 999) of the UTC instant ts_ms. SPEC §3: a message's
 * day is the local date of its ts; windows compare against tod. */
static inline void rr_tz_local(const rr_tz_t *tz, rr_tz_cache_t *c, int64_t ts_ms, int32_t *day,
                               int32_t *tod_ms)
{
    if (ts_ms >= c->lo && ts_ms < c->hi) {
        *day = c->day;
        *tod_ms = (int32_t)(ts_ms - c->base);
        return;
    }
    rr_tz_local_miss(tz, c, ts_ms, day, tod_ms);
}

/* The least UTC ms whose local day is >= day. Where DST skips local midnight
 * (America/Sao_Paulo 2018-11-04) this is the first instant of the day, e.g.
 * 01:00 local. SPEC §5: a day's local end is rr_tz_day_start(tz, day + 1).
 * Monotone: day_start(d) <= day_start(d + 1). */
int64_t rr_tz_day_start(const rr_tz_t *tz, int32_t day);

/* The least UTC ms from which on no instant has a local day <= day. Equals
 * rr_tz_day_start(tz, day + 1) except where a fall-back transition repeats
 * local midnight (e.g. America/Goose_Bay's 00:01 transitions before 2011):
 * then instants of `day` recur after day + 1 began, and this is the end of
 * that repeated stretch. Use it where "no more instants of this day can come"
 * matters (finalisation). */
int64_t rr_tz_day_end(const rr_tz_t *tz, int32_t day);

/* Civil dates (proleptic Gregorian, Howard Hinnant's days_from_civil /
 * civil_from_days). yyyymmdd is year * 10000 + month * 100 + mday.
 * rr_day_to_yyyymmdd: for days of years 0 .. 214747 (day >= -719528);
 * rr_yyyymmdd_to_day: returns RR_TZ_BAD_DATE for a ymd that is not a valid
 * date of years 0 .. 214747. */
#define RR_TZ_BAD_DATE INT32_MIN
int32_t rr_day_to_yyyymmdd(int32_t day);
int32_t rr_yyyymmdd_to_day(int32_t ymd);

/* Days since 1970-01-01 of a civil date (any int32 year; month 1..12, mday
 * 1..31 not checked) and back; for io/tzload.c's rule expansion and tests. */
int64_t rr_days_from_civil(int64_t y, unsigned m, unsigned d);
void rr_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);

#endif
