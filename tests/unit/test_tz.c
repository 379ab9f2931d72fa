/* Unit tests for engine/tz (offset table, local calendar) and io/tzload (the
 * TZif reader). Local dates and times are cross-checked against glibc's
 * localtime_r, which reads the same zone files independently. */
#include <criterion/criterion.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/tz.h"
#include "io/tzload.h"

#define H_MS INT64_C(3600000)
#define DAY_MS INT64_C(86400000)
#define TS_MAX INT64_C(253402300799999) /* 9999-12-31T23:59:59.999Z */

static rr_tz_t *load(const char *name)
{
    rr_tz_t *tz = NULL;
    char err[256] = "";
    int rc = rr_tz_load(name, &tz, err, sizeof err);
    cr_assert_eq(rc, 0, "rr_tz_load(%s): %s", name, err);
    cr_assert_not_null(tz);
    cr_assert_str_eq(rr_tz_name(tz), name);
    return tz;
}

/* UTC ms of a local wall-clock time, given the offset the test expects. */
static int64_t utc_ms(int y, int mo, int d, int h, int mi, int s, int64_t off_ms)
{
    return rr_days_from_civil(y, (unsigned)mo, (unsigned)d) * DAY_MS +
           ((int64_t)h * 3600 + mi * 60 + s) * 1000 - off_ms;
}

static int32_t day_of(int ymd)
{
    int32_t d = rr_yyyymmdd_to_day(ymd);
    cr_assert_neq(d, RR_TZ_BAD_DATE, "bad date %d", ymd);
    return d;
}

/* Asserts the local date (YYYYMMDD) and wall-clock ms of ts, through a fresh
 * cache and through the shared one. */
static void expect_local(const rr_tz_t *tz, rr_tz_cache_t *c, int64_t ts, int32_t ymd, int32_t tod)
{
    int32_t day, t;
    rr_tz_cache_t fresh = {0};
    rr_tz_local(tz, &fresh, ts, &day, &t);
    cr_expect_eq(rr_day_to_yyyymmdd(day), ymd, "%s ts %lld: date %d, want %d", rr_tz_name(tz),
                 (long long)ts, rr_day_to_yyyymmdd(day), ymd);
    cr_expect_eq(t, tod, "%s ts %lld: tod %d, want %d", rr_tz_name(tz), (long long)ts, t, tod);
    rr_tz_local(tz, c, ts, &day, &t);
    cr_expect_eq(rr_day_to_yyyymmdd(day), ymd, "cached date");
    cr_expect_eq(t, tod, "cached tod");
}

static int32_t hms(int h, int m, int s, int ms)
{
    return ((h * 60 + m) * 60 + s) * 1000 + ms;
}

/* ---- glibc reference ---- */

static char saved_tz[512];
static int had_tz;

static void glibc_zone(const char *name)
{
    const char *old = getenv("TZ");
    had_tz = old != NULL;
    if (old) snprintf(saved_tz, sizeof saved_tz, "%s", old);
    setenv("TZ", name, 1);
    tzset();
}

static void glibc_restore(void)
{
    if (had_tz)
        setenv("TZ", saved_tz, 1);
    else
        unsetenv("TZ");
    tzset();
}

static void glibc_local(int64_t ts, int32_t *day, int32_t *tod)
{
    int64_t s = ts / 1000, ms = ts % 1000;
    if (ms < 0) s--, ms += 1000;
    time_t tt = (time_t)s;
    struct tm tm;
    cr_assert_not_null(localtime_r(&tt, &tm));
    *day = (int32_t)rr_days_from_civil((int64_t)tm.tm_year + 1900, (unsigned)tm.tm_mon + 1,
                                       (unsigned)tm.tm_mday);
    *tod = (int32_t)(((tm.tm_hour * 60 + tm.tm_min) * 60 + tm.tm_sec) * 1000 + ms);
}

static uint64_t rng_state = UINT64_C(0x9E3779B97F4A7C15);

static uint64_t rng(void) /* splitmix64: deterministic */
{
    uint64_t z = (rng_state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static const char *const zones[] = {
    "Asia/Shanghai",       "UTC",
    "America/New_York",    "Europe/London",
    "Australia/Lord_Howe", "America/Sao_Paulo",
    "Asia/Gaza",           "America/Goose_Bay",
    "America/St_Johns",    "Pacific/Apia",
    "Africa/Casablanca",   "Europe/Dublin",
    "Pacific/Chatham",     "America/Santiago",
    "Antarctica/Troll",    "Asia/Tehran",
    "Asia/Kathmandu",      "Pacific/Kiritimati",
    "America/Havana",      "Europe/Moscow",
};

/* ---- civil dates ---- */

Test(tz, yyyymmdd_round_trips_every_day_of_years_0_to_20000)
{
    /* Walk the calendar by hand, independently of Hinnant's formulas. */
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int32_t day = rr_yyyymmdd_to_day(101);
    cr_assert_eq(day, -719528);
    for (int y = 0; y <= 20000; y++) {
        int leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
        for (int m = 1; m <= 12; m++) {
            int n = mdays[m - 1] + (m == 2 && leap);
            for (int d = 1; d <= n; d++, day++) {
                int32_t ymd = y * 10000 + m * 100 + d;
                if (rr_day_to_yyyymmdd(day) != ymd || rr_yyyymmdd_to_day(ymd) != day)
                    cr_assert_fail("day %d <-> %d: got %d and %d", day, ymd,
                                   rr_day_to_yyyymmdd(day), rr_yyyymmdd_to_day(ymd));
            }
        }
    }
    cr_assert_eq(rr_yyyymmdd_to_day(19700101), 0);
    cr_assert_eq(rr_yyyymmdd_to_day(19691231), -1);
    cr_assert_eq(rr_day_to_yyyymmdd(-1), 19691231);
    cr_assert_eq(rr_yyyymmdd_to_day(100000101), 2932897);
    cr_assert_eq(rr_day_to_yyyymmdd(rr_yyyymmdd_to_day(2147481231)), 2147481231);
}

Test(tz, invalid_yyyymmdd_is_rejected)
{
    const int32_t bad[] = {20230229, 21000229, 20241301, 20240100, 20240431,
                           20240001, 0,        -1,       20241232, 2147483647};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect_eq(rr_yyyymmdd_to_day(bad[i]), RR_TZ_BAD_DATE, "%d", bad[i]);
    cr_expect_neq(rr_yyyymmdd_to_day(20240229), RR_TZ_BAD_DATE);
    cr_expect_neq(rr_yyyymmdd_to_day(20000229), RR_TZ_BAD_DATE);
    cr_expect_eq(rr_day_to_yyyymmdd(-719529), RR_TZ_BAD_DATE); /* year -1 */
}

/* ---- fixed and explicit tables ---- */

Test(tz, fixed_offset_zone)
{
    rr_tz_t *tz = rr_tz_fixed(8 * 3600, NULL);
    cr_assert_not_null(tz);
    cr_expect_str_eq(rr_tz_name(tz), "UTC+08:00");
    rr_tz_cache_t c;
    rr_tz_cache_init(&c);
    expect_local(tz, &c, INT64_C(1795312800000), 20261122, hms(10, 0, 0, 0));
    expect_local(tz, &c, 1, 19700101, hms(8, 0, 0, 1));
    cr_expect_eq(rr_tz_day_start(tz, day_of(20261122)), utc_ms(2026, 11, 22, 0, 0, 0, 8 * H_MS));
    rr_tz_free(tz);

    tz = rr_tz_fixed(-(5 * 3600 + 30 * 60 + 15), NULL);
    cr_expect_str_eq(rr_tz_name(tz), "UTC-05:30:15");
    rr_tz_free(tz);
    tz = rr_tz_fixed(0, "Etc/Test");
    cr_expect_str_eq(rr_tz_name(tz), "Etc/Test");
    rr_tz_free(tz);
    cr_expect_null(rr_tz_fixed(49 * 3600, NULL));
}

Test(tz, from_transitions_validates_and_drops_no_op_changes)
{
    const int64_t at[] = {1000, 2000, 3000, 4000};
    const int32_t off[] = {3600, 3600, 0, 7200};
    rr_tz_t *tz = rr_tz_from_transitions("X", at, off, 4, 0);
    cr_assert_not_null(tz);
    cr_expect_eq(rr_tz_transitions(tz), 3); /* 2000 changes nothing */
    cr_expect_eq(rr_tz_offset_at(tz, 999), 0);
    cr_expect_eq(rr_tz_offset_at(tz, 1000), 3600000);
    cr_expect_eq(rr_tz_offset_at(tz, 2999), 3600000);
    cr_expect_eq(rr_tz_offset_at(tz, 3000), 0);
    cr_expect_eq(rr_tz_offset_at(tz, 4000), 7200000);
    rr_tz_free(tz);

    const int64_t unsorted[] = {1000, 1000};
    const int32_t offs[] = {0, 3600};
    cr_expect_null(rr_tz_from_transitions("X", unsorted, offs, 2, 0));
    cr_expect_null(rr_tz_from_transitions(NULL, at, off, 4, 0));
    const int32_t huge[] = {0, 200000};
    const int64_t ok[] = {1000, 2000};
    cr_expect_null(rr_tz_from_transitions("X", ok, huge, 2, 0));
}

/* ---- real zones ---- */

Test(tz, shanghai_dates_and_window_edges)
{
    rr_tz_t *tz = load("Asia/Shanghai");
    rr_tz_cache_t c = {0};
    const int64_t off = 8 * H_MS;
    expect_local(tz, &c, INT64_C(1795312800000), 20261122, hms(10, 0, 0, 0));
    expect_local(tz, &c, utc_ms(2026, 11, 22, 7, 59, 59, off) + 999, 20261122, hms(7, 59, 59, 999));
    expect_local(tz, &c, utc_ms(2026, 11, 22, 8, 0, 0, off), 20261122, hms(8, 0, 0, 0));
    expect_local(tz, &c, utc_ms(2026, 11, 22, 22, 59, 59, off) + 999, 20261122,
                 hms(22, 59, 59, 999));
    expect_local(tz, &c, utc_ms(2026, 11, 22, 23, 0, 0, off), 20261122, hms(23, 0, 0, 0));
    expect_local(tz, &c, utc_ms(2026, 11, 22, 0, 0, 0, off), 20261122, 0);
    expect_local(tz, &c, utc_ms(2026, 11, 22, 0, 0, 0, off) - 1, 20261121, hms(23, 59, 59, 999));
    expect_local(tz, &c, utc_ms(2026, 11, 23, 0, 0, 0, off) - 1, 20261122, hms(23, 59, 59, 999));
    /* SPEC §6's example round start: 2025-11-22T10:00+08:00. */
    expect_local(tz, &c, INT64_C(1763776800000), 20251122, hms(10, 0, 0, 0));
    cr_expect_eq(rr_tz_day_start(tz, day_of(20261122)), INT64_C(1795276800000));
    cr_expect_eq(rr_tz_day_start(tz, day_of(20261123)) - rr_tz_day_start(tz, day_of(20261122)),
                 DAY_MS);
    cr_expect_eq(rr_tz_day_end(tz, day_of(20261122)), rr_tz_day_start(tz, day_of(20261123)));
    /* China observed DST 1986-1991: 1990-04-15 02:00 CST -> 03:00 CDT. */
    cr_expect_eq(rr_tz_day_start(tz, day_of(19900416)) - rr_tz_day_start(tz, day_of(19900415)),
                 23 * H_MS);
    rr_tz_free(tz);
}

Test(tz, utc_zone)
{
    rr_tz_t *tz = load("UTC");
    rr_tz_cache_t c = {0};
    expect_local(tz, &c, 1, 19700101, 1);
    expect_local(tz, &c, INT64_C(1795312800000), 20261122, hms(2, 0, 0, 0));
    expect_local(tz, &c, TS_MAX, 99991231, hms(23, 59, 59, 999));
    cr_expect_eq(rr_tz_day_start(tz, 0), 0);
    cr_expect_eq(rr_tz_day_start(tz, day_of(99991231) + 1), TS_MAX + 1);
    cr_expect_eq(rr_tz_transitions(tz), 0);
    rr_tz_free(tz);
}

Test(tz, new_york_23_and_25_hour_days)
{
    rr_tz_t *tz = load("America/New_York");
    rr_tz_cache_t c = {0};
    const int64_t est = -5 * H_MS, edt = -4 * H_MS;
    /* 2026-03-08 02:00 EST -> 03:00 EDT: a 23-hour day. */
    int32_t mar8 = day_of(20260308);
    cr_expect_eq(rr_tz_day_start(tz, mar8), utc_ms(2026, 3, 8, 0, 0, 0, est));
    cr_expect_eq(rr_tz_day_start(tz, mar8 + 1), utc_ms(2026, 3, 9, 0, 0, 0, edt));
    cr_expect_eq(rr_tz_day_start(tz, mar8 + 1) - rr_tz_day_start(tz, mar8), 23 * H_MS);
    int64_t spring = utc_ms(2026, 3, 8, 2, 0, 0, est);
    expect_local(tz, &c, spring - 1, 20260308, hms(1, 59, 59, 999));
    expect_local(tz, &c, spring, 20260308, hms(3, 0, 0, 0));
    expect_local(tz, &c, utc_ms(2026, 3, 8, 8, 0, 0, edt), 20260308, hms(8, 0, 0, 0));
    /* 2026-11-01 02:00 EDT -> 01:00 EST: a 25-hour day; 01:xx happens twice. */
    int32_t nov1 = day_of(20261101);
    cr_expect_eq(rr_tz_day_start(tz, nov1), utc_ms(2026, 11, 1, 0, 0, 0, edt));
    cr_expect_eq(rr_tz_day_start(tz, nov1 + 1), utc_ms(2026, 11, 2, 0, 0, 0, est));
    cr_expect_eq(rr_tz_day_start(tz, nov1 + 1) - rr_tz_day_start(tz, nov1), 25 * H_MS);
    cr_expect_eq(rr_tz_day_end(tz, nov1), rr_tz_day_start(tz, nov1 + 1));
    int64_t fall = utc_ms(2026, 11, 1, 2, 0, 0, edt);
    expect_local(tz, &c, fall - 1, 20261101, hms(1, 59, 59, 999));
    expect_local(tz, &c, fall, 20261101, hms(1, 0, 0, 0));
    expect_local(tz, &c, fall + H_MS, 20261101, hms(2, 0, 0, 0));
    expect_local(tz, &c, utc_ms(2026, 11, 1, 23, 0, 0, est), 20261101, hms(23, 0, 0, 0));
    /* Far future: the footer rule, second Sunday of March 9999 is the 14th. */
    expect_local(tz, &c, utc_ms(9999, 3, 14, 2, 0, 0, est), 99990314, hms(3, 0, 0, 0));
    expect_local(tz, &c, TS_MAX, 99991231, hms(18, 59, 59, 999));
    rr_tz_free(tz);
}

Test(tz, lord_howe_half_hour_dst)
{
    rr_tz_t *tz = load("Australia/Lord_Howe");
    rr_tz_cache_t c = {0};
    const int64_t std = 10 * H_MS + H_MS / 2, dst = 11 * H_MS;
    /* 2026-04-05 02:00 +11 -> 01:30 +10:30: 24.5 hours. */
    int32_t apr5 = day_of(20260405);
    cr_expect_eq(rr_tz_day_start(tz, apr5), utc_ms(2026, 4, 5, 0, 0, 0, dst));
    cr_expect_eq(rr_tz_day_start(tz, apr5 + 1) - rr_tz_day_start(tz, apr5), 24 * H_MS + H_MS / 2);
    int64_t back = utc_ms(2026, 4, 5, 2, 0, 0, dst);
    expect_local(tz, &c, back - 1, 20260405, hms(1, 59, 59, 999));
    expect_local(tz, &c, back, 20260405, hms(1, 30, 0, 0));
    /* 2026-10-04 02:00 +10:30 -> 02:30 +11: 23.5 hours. */
    int32_t oct4 = day_of(20261004);
    cr_expect_eq(rr_tz_day_start(tz, oct4), utc_ms(2026, 10, 4, 0, 0, 0, std));
    cr_expect_eq(rr_tz_day_start(tz, oct4 + 1) - rr_tz_day_start(tz, oct4), 23 * H_MS + H_MS / 2);
    int64_t fwd = utc_ms(2026, 10, 4, 2, 0, 0, std);
    expect_local(tz, &c, fwd - 1, 20261004, hms(1, 59, 59, 999));
    expect_local(tz, &c, fwd, 20261004, hms(2, 30, 0, 0));
    rr_tz_free(tz);
}

Test(tz, sao_paulo_2018_skipped_midnight)
{
    rr_tz_t *tz = load("America/Sao_Paulo");
    rr_tz_cache_t c = {0};
    /* 2018-11-04 00:00 -03 -> 01:00 -02: the day starts at 01:00 local. */
    int32_t nov4 = day_of(20181104);
    int64_t start = utc_ms(2018, 11, 4, 3, 0, 0, 0);
    cr_expect_eq(rr_tz_day_start(tz, nov4), start);
    cr_expect_eq(rr_tz_day_end(tz, nov4 - 1), start);
    expect_local(tz, &c, start - 1, 20181103, hms(23, 59, 59, 999));
    expect_local(tz, &c, start, 20181104, hms(1, 0, 0, 0));
    cr_expect_eq(rr_tz_day_start(tz, nov4 + 1) - start, 23 * H_MS);
    /* 2019-02-17 00:00 -02 -> 2019-02-16 23:00 -03: the 16th has 25 hours,
     * and the 17th's midnight is not repeated. */
    int32_t feb16 = day_of(20190216);
    cr_expect_eq(rr_tz_day_start(tz, feb16 + 1) - rr_tz_day_start(tz, feb16), 25 * H_MS);
    cr_expect_eq(rr_tz_day_start(tz, feb16 + 1), utc_ms(2019, 2, 17, 3, 0, 0, 0));
    expect_local(tz, &c, utc_ms(2019, 2, 17, 2, 0, 0, 0), 20190216, hms(23, 0, 0, 0));
    /* Brazil has had no DST since 2019. */
    cr_expect_eq(rr_tz_offset_at(tz, utc_ms(2030, 1, 1, 0, 0, 0, 0)), -3 * H_MS);
    rr_tz_free(tz);
}

Test(tz, goose_bay_repeated_midnight)
{
    /* 2006-10-29 00:01 ADT -> 2006-10-28 23:01 AST: 00:00-00:01 of the 29th
     * happens, then the 28th comes back for an hour. */
    rr_tz_t *tz = load("America/Goose_Bay");
    rr_tz_cache_t c = {0};
    int32_t oct29 = day_of(20061029);
    int64_t first = utc_ms(2006, 10, 29, 3, 0, 0, 0);
    cr_expect_eq(rr_tz_day_start(tz, oct29), first);
    cr_expect_eq(rr_tz_day_end(tz, oct29 - 1), first + H_MS);
    expect_local(tz, &c, first, 20061029, 0);
    expect_local(tz, &c, first + 60000, 20061028, hms(23, 1, 0, 0));
    expect_local(tz, &c, first + H_MS, 20061029, 0);
    rr_tz_free(tz);
}

Test(tz, ts_one_and_year_9999)
{
    rr_tz_t *tz = load("Asia/Shanghai");
    rr_tz_cache_t c = {0};
    expect_local(tz, &c, 1, 19700101, hms(8, 0, 0, 1));
    expect_local(tz, &c, TS_MAX, 100000101, hms(7, 59, 59, 999));
    int32_t last = day_of(99991231);
    cr_expect_eq(rr_tz_day_start(tz, last + 1), TS_MAX + 1 - 8 * H_MS);
    cr_expect_eq(rr_tz_day_start(tz, last + 2) - rr_tz_day_start(tz, last + 1), DAY_MS);
    rr_tz_free(tz);

    tz = load("Europe/London");
    c = (rr_tz_cache_t){0};
    expect_local(tz, &c, 1, 19700101, hms(1, 0, 0, 1)); /* BST all year */
    expect_local(tz, &c, TS_MAX, 99991231, hms(23, 59, 59, 999));
    expect_local(tz, &c, utc_ms(9999, 7, 1, 12, 0, 0, 0), 99990701, hms(13, 0, 0, 0));
    rr_tz_free(tz);
}

Test(tz, unknown_or_unsafe_zone_names_are_rejected)
{
    const char *bad[] = {
        "Mars/Olympus_Mons", "Asia/Shanghia", "",         "/etc/localtime", "../zoneinfo/UTC",
        "Asia/../UTC",       "America",       "zone.tab", "UTC ",           "Asia/Shanghai\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rr_tz_t *tz = (rr_tz_t *)1;
        char err[512] = "";
        cr_expect_eq(rr_tz_load(bad[i], &tz, err, sizeof err), -1, "accepted \"%s\"", bad[i]);
        cr_expect_null(tz);
        cr_expect_neq(strstr(err, bad[i]), NULL, "errstr \"%s\" does not name \"%s\"", err, bad[i]);
    }
    rr_tz_t *tz = NULL;
    cr_expect_eq(rr_tz_load("Mars/Olympus_Mons", &tz, NULL, 0), -1);
}

Test(tz, load_is_fast)
{
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < 10; i++)
        rr_tz_free(load("America/New_York"));
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ms = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
    cr_expect_lt(ms / 10, 100.0, "one load took %.1f ms", ms / 10);
}

/* ---- cross-check against glibc ---- */

static void check_against_glibc(const char *name, rr_tz_t *tz, rr_tz_cache_t *c, int64_t ts)
{
    int32_t d0, t0, d1, t1, d2, t2;
    rr_tz_cache_t fresh = {0};
    glibc_local(ts, &d0, &t0);
    rr_tz_local(tz, c, ts, &d1, &t1);
    rr_tz_local(tz, &fresh, ts, &d2, &t2);
    if (d0 != d1 || t0 != t1 || d1 != d2 || t1 != t2)
        cr_assert_fail("%s ts %lld: glibc %d %d, ours %d %d (fresh cache %d %d)", name,
                       (long long)ts, rr_day_to_yyyymmdd(d0), t0, rr_day_to_yyyymmdd(d1), t1,
                       rr_day_to_yyyymmdd(d2), t2);
}

Test(tz, local_time_matches_glibc_localtime_r)
{
    for (size_t z = 0; z < sizeof zones / sizeof zones[0]; z++) {
        rr_tz_t *tz = load(zones[z]);
        rr_tz_cache_t c = {0};
        glibc_zone(zones[z]);
        /* Uniform over the whole SPEC range. */
        for (int i = 0; i < 20000; i++)
            check_against_glibc(zones[z], tz, &c, 1 + (int64_t)(rng() % (uint64_t)TS_MAX));
        /* 1970-2060 every ~2 hours with jitter, in order (exercises the cache). */
        int64_t end = utc_ms(2060, 1, 1, 0, 0, 0, 0);
        for (int64_t ts = 1; ts < end; ts += 2 * H_MS + (int64_t)(rng() % (2 * H_MS)))
            check_against_glibc(zones[z], tz, &c, ts);
        /* Around the table's changes, to the millisecond. */
        for (int64_t ts = 1; ts < end; ts += 6 * H_MS) {
            int32_t o0 = rr_tz_offset_at(tz, ts), o1 = rr_tz_offset_at(tz, ts + 6 * H_MS);
            if (o0 == o1) continue;
            int64_t lo = ts, hi = ts + 6 * H_MS; /* offset(lo) = o0 != offset(hi) */
            while (hi - lo > 1) {
                int64_t mid = lo + (hi - lo) / 2;
                if (rr_tz_offset_at(tz, mid) == o0)
                    lo = mid;
                else
                    hi = mid;
            }
            static const int64_t near[] = {-H_MS - 1, -H_MS, -H_MS / 2, -60000,   -1001, -1000,
                                           -999,      -2,    -1,        0,        1,     999,
                                           1000,      60000, H_MS / 2,  H_MS - 1, H_MS,  2 * H_MS};
            for (size_t i = 0; i < sizeof near / sizeof near[0]; i++)
                check_against_glibc(zones[z], tz, &c, hi + near[i]);
        }
        glibc_restore();
        rr_tz_free(tz);
    }
}

Test(tz, day_start_and_end_match_glibc)
{
    for (size_t z = 0; z < sizeof zones / sizeof zones[0]; z++) {
        rr_tz_t *tz = load(zones[z]);
        glibc_zone(zones[z]);
        int32_t first = day_of(19700102), last = day_of(20600101);
        int64_t prev = rr_tz_day_start(tz, first - 1);
        for (int32_t day = first; day <= last; day++) {
            int64_t s = rr_tz_day_start(tz, day), e = rr_tz_day_end(tz, day);
            int32_t d, t;
            glibc_local(s, &d, &t);
            cr_assert_geq(d, day, "%s day %d: day_start is on %d", zones[z],
                          rr_day_to_yyyymmdd(day), rr_day_to_yyyymmdd(d));
            glibc_local(s - 1, &d, &t);
            cr_assert_lt(d, day, "%s day %d: day_start - 1 is on %d", zones[z],
                         rr_day_to_yyyymmdd(day), rr_day_to_yyyymmdd(d));
            cr_assert_geq(s, prev, "%s day %d: day_start not monotone", zones[z],
                          rr_day_to_yyyymmdd(day));
            /* Apia skipped 2011-12-30 entirely: that day starts where the 31st does. */
            cr_assert_leq(s - prev, 26 * H_MS, "%s day %d", zones[z], rr_day_to_yyyymmdd(day));
            glibc_local(e, &d, &t);
            cr_assert_gt(d, day, "%s day %d: day_end is on %d", zones[z], rr_day_to_yyyymmdd(day),
                         rr_day_to_yyyymmdd(d));
            glibc_local(e - 1, &d, &t);
            cr_assert_leq(d, day, "%s day %d: day_end - 1 is on %d", zones[z],
                          rr_day_to_yyyymmdd(day), rr_day_to_yyyymmdd(d));
            cr_assert_geq(e, rr_tz_day_start(tz, day + 1));
            prev = s;
        }
        glibc_restore();
        rr_tz_free(tz);
    }
}

Test(tz, pacific_apia_skipped_a_whole_day)
{
    /* 2011-12-29 24:00 -10 became 2011-12-31 00:00 +14. */
    rr_tz_t *tz = load("Pacific/Apia");
    int32_t d30 = day_of(20111230);
    cr_expect_eq(rr_tz_day_start(tz, d30), rr_tz_day_start(tz, d30 + 1));
    cr_expect_eq(rr_tz_day_start(tz, d30), utc_ms(2011, 12, 30, 10, 0, 0, 0));
    rr_tz_free(tz);
}

/* ---- TZDIR and damaged files ---- */

static char tmpdir[64];

static void write_file(const char *rel, const void *data, size_t len)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", tmpdir, rel);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "%s", path);
    cr_assert_eq(fwrite(data, 1, len, f), len);
    fclose(f);
}

static void remove_file(const char *rel)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", tmpdir, rel);
    remove(path);
}

Test(tz, tzdir_is_honoured)
{
    setenv("TZDIR", "/usr/share/zoneinfo/America", 1);
    rr_tz_t *tz = load("New_York");
    rr_tz_free(tz);
    char err[512] = "";
    cr_expect_eq(rr_tz_load("Asia/Shanghai", &tz, err, sizeof err), -1);
    cr_expect_neq(strstr(err, "/usr/share/zoneinfo/America/Asia/Shanghai"), NULL, "%s", err);
    unsetenv("TZDIR");
}

Test(tz, damaged_zone_files_are_rejected_without_crashing)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/rr_test_tz.XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
    setenv("TZDIR", tmpdir, 1);
    char err[512];
    rr_tz_t *tz = NULL;

    write_file("Bogus", "hello, world\n", 13);
    cr_expect_eq(rr_tz_load("Bogus", &tz, err, sizeof err), -1);
    cr_expect_neq(strstr(err, "Bogus"), NULL, "%s", err);
    cr_expect_neq(strstr(err, "TZif"), NULL, "%s", err);

    /* Every truncation of a real file either fails cleanly or, when only the
     * footer's end is cut, still loads. */
    FILE *f = fopen("/usr/share/zoneinfo/America/New_York", "rb");
    cr_assert_not_null(f);
    static unsigned char buf[1 << 16];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    cr_assert_gt(len, 100);
    for (size_t n = 0; n < len; n++) {
        write_file("Cut", buf, n);
        tz = NULL;
        if (rr_tz_load("Cut", &tz, err, sizeof err) == 0)
            rr_tz_free(tz);
        else
            cr_expect_neq(strstr(err, "Cut"), NULL, "%s", err);
    }
    write_file("Cut", buf, len);
    cr_expect_eq(rr_tz_load("Cut", &tz, err, sizeof err), 0, "%s", err);
    rr_tz_free(tz);

    /* Corrupt counts and indexes byte by byte. */
    for (size_t i = 4; i < len && i < 2000; i += 7) {
        unsigned char save = buf[i];
        buf[i] ^= 0xA5;
        write_file("Flip", buf, len);
        tz = NULL;
        if (rr_tz_load("Flip", &tz, err, sizeof err) == 0) rr_tz_free(tz);
        buf[i] = save;
    }
    remove_file("Bogus");
    remove_file("Cut");
    remove_file("Flip");
    rmdir(tmpdir);
    unsetenv("TZDIR");
}
