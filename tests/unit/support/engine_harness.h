/* tests/unit/support/engine_harness.h: drive an rr_engine_t through its
 * public API and capture every record it publishes, for the engine's unit
 * tests (test_engine.c, test_lifetime.c, test_provisional.c).
 *
 * A capture_t copies each record out of its callback (the engine's pointers
 * are borrowed, valid only during the call) together with the number of
 * offers made so far, so a test can tell *when* a day was published.
 * A harness_t owns one engine, its zone, its capture and an event buffer
 * that can be replayed in sorted (ts_ms, event_id) order.
 *
 * Times: ev(...) takes local wall-clock times "HH:MM:SS[.mmm]" on
 * 2026-11-22 in Asia/Shanghai (UTC+8, no DST since 1991); hours >= 24 run on
 * into the next days ("24:30:00" is 2026-11-23 00:30). AT("10:00:00") is
 * 1795312800000.
 *
 * Compiled once (engine_harness.c) into the rr_test_support library that
 * every unit test links (CMakeLists.txt). Records captured are copies owned
 * by their capture_t (cap_free); a harness_t owns its engine, zone, capture
 * and buffer (h_free). Failures are Criterion assertions in the calling
 * test. Not thread-safe.
 */
#ifndef RR_TESTS_ENGINE_HARNESS_H
#define RR_TESTS_ENGINE_HARNESS_H

#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/tz.h"
#include "io/tzload.h"
#include "replyrate/config.h"
#include "replyrate/engine.h"
#include "rng.h"

/* 2026-11-22T00:00:00+08:00 */
#define MIDNIGHT_1122 INT64_C(1795276800000)
#define DAY1122 20261122
#define DAY1123 20261123
#define DAY1124 20261124
#define HOUR_MS INT64_C(3600000)
#define FAR_FUTURE INT64_C(4000000000000) /* wall clock for offers: year 2096 */

/* ---- local times --------------------------------------------------------- */

/* "HH:MM:SS" or "HH:MM:SS.mmm" on 2026-11-22 Asia/Shanghai, as UTC ms. */
int64_t AT(const char *hms);

/* ---- events --------------------------------------------------------------- */

rr_event_t ev_ts(uint32_t type, uint64_t eid, uint64_t conv, uint64_t buyer, uint64_t agent,
                 int64_t ts);

rr_event_t ev(uint32_t type, uint64_t eid, uint64_t conv, uint64_t buyer, uint64_t agent,
              const char *hms);

rr_event_t with_shop(rr_event_t e, uint64_t shop);

rr_event_t with_flags(rr_event_t e, uint32_t flags);

rr_event_t with_rating(rr_event_t e, uint32_t rating);

/* ---- capture sink ------------------------------------------------------- */

typedef struct cap_day {
    int is_agent;
    uint64_t shop, agent;
    int32_t day;
    int final;
    uint32_t revision;
    char version[64];
    rr_value_t v[RR_MAX_METRICS];
    long at_offer; /* offers made when it was published */
    int at_finish; /* published inside rr_engine_finish */
    size_t seq;    /* position among all captured records */
} cap_day_t;

typedef struct cap_viol {
    rr_violation_record_t r; /* metric/version point into the strings below */
    char metric[RR_NAME_MAX];
    char version[64];
    long at_offer;
    size_t seq;
} cap_viol_t;

typedef struct cap_alert {
    uint64_t shop;
    int32_t day;
    char rule[RR_NAME_MAX];
    double value;
    int final;
    long at_offer;
} cap_alert_t;

typedef struct cap_rej {
    rr_verdict_t verdict;
    char reason[64];
    char source[64];
    int32_t partition;
    int64_t offset;
    int decoded;
    rr_event_t event;
    int64_t watermark_ms;
    size_t raw_len;
} cap_rej_t;

typedef struct capture {
    char names[RR_MAX_METRICS][RR_NAME_MAX];
    rr_metric_kind_t kinds[RR_MAX_METRICS];
    size_t n_metrics;
    cap_day_t *days;
    size_t n_days, cap_days;
    cap_viol_t *viols;
    size_t n_viols, cap_viols;
    cap_alert_t *alerts;
    size_t n_alerts, cap_alerts;
    cap_rej_t *rejs;
    size_t n_rejs, cap_rejs;
    long offers;
    int finishing;
    size_t seq;
} capture_t;

#define CAP_PUSH(arr, n, capn)                                                                     \
    do {                                                                                           \
        if ((n) == (capn)) {                                                                       \
            (capn) = (capn) ? (capn)*2 : 16;                                                       \
            (arr) = realloc((arr), (capn) * sizeof *(arr));                                        \
            cr_assert_not_null((arr));                                                             \
        }                                                                                          \
    } while (0)

void cap_on_day(void *opaque, const rr_day_record_t *r);

void cap_on_violation(void *opaque, const rr_violation_record_t *r);

void cap_on_alert(void *opaque, const rr_alert_record_t *r);

void cap_on_rejected(void *opaque, const rr_rejected_record_t *r);

void cap_free(capture_t *c);

int cap_metric_index(const capture_t *c, const char *name);

/* The one shop_day (agent == UINT64_MAX) or agent_day record for the key, or
 * NULL; fails the test if the key was published more than once. */
#define SHOP UINT64_MAX
const cap_day_t *cap_find(const capture_t *c, uint64_t shop, uint64_t agent, int32_t day);

/* The metric's value in a record (zero if the record is NULL). */
rr_value_t cap_value(const capture_t *c, const cap_day_t *d, const char *metric);

size_t cap_count_viols(const capture_t *c, const char *metric, uint64_t conv);

/* The violation of metric for the round of conv starting at start (fails if
 * absent or repeated). */
const rr_violation_record_t *cap_viol(const capture_t *c, const char *metric, uint64_t conv,
                                      int64_t start);

size_t cap_count_alerts(const capture_t *c, const char *rule);

/* Every record as one line of text, sorted: two runs that publish the same
 * records (in any order) give equal strings. Caller frees. */
char *cap_canon(const capture_t *c);

/* ---- harness -------------------------------------------------------------- */

#define H_MAX_PARTS 8

typedef struct harness {
    rr_config_t cfg;
    rr_tz_t *tz;
    rr_engine_t *e;
    rr_sink_t sink;
    capture_t cap;
    int part[H_MAX_PARTS];
    int n_parts;
    int64_t now;    /* wall clock passed with offers */
    int64_t offset; /* next source offset */
    rr_event_t *buf;
    size_t n_buf, cap_buf;
} harness_t;

rr_tz_t *load_zone(const char *name);

/* cfg NULL: the built-in default. tz is taken over (NULL: Asia/Shanghai). */
void h_init_tz(harness_t *h, const rr_config_t *cfg, rr_tz_t *tz, int n_parts);

void h_init(harness_t *h);

void h_free(harness_t *h);

rr_verdict_t h_offer_p(harness_t *h, int p, rr_event_t e);

rr_verdict_t h_offer(harness_t *h, rr_event_t e);

/* Offer and require the verdict. */
#define OFFER_AS(h, e, want)                                                                       \
    do {                                                                                           \
        rr_event_t ev_ = (e);                                                                      \
        rr_verdict_t got_ = h_offer((h), ev_);                                                     \
        cr_assert_eq(got_, (want), "event %" PRIu64 " (ts %" PRId64 "): verdict %d, want %d",      \
                     ev_.event_id, ev_.ts_ms, (int)got_, (int)(want));                             \
    } while (0)

/* The same on partition p. */
#define OFFER_AS_P(h, p, e, want)                                                                  \
    do {                                                                                           \
        rr_event_t ev_ = (e);                                                                      \
        rr_verdict_t got_ = h_offer_p((h), (p), ev_);                                              \
        cr_assert_eq(got_, (want), "event %" PRIu64 " (ts %" PRId64 "): verdict %d, want %d",      \
                     ev_.event_id, ev_.ts_ms, (int)got_, (int)(want));                             \
    } while (0)

void h_finish(harness_t *h);

/* Buffer an event for h_run_* */
void h_add(harness_t *h, rr_event_t e);

/* qsort comparator for rr_event_t: (ts_ms, event_id) order, as the engine sorts */
int ev_cmp(const void *a, const void *b);

/* Offer the buffered events in sorted (ts, event_id) order, all applied. */
void h_offer_sorted(harness_t *h);

/* Offer the buffered events sorted, then finish the run. */
void h_run(harness_t *h);

void h_stats(const harness_t *h, rr_stats_t *st);

/* shop_day / agent_day value lookups */
rr_value_t shop_val(const harness_t *h, uint64_t shop, int32_t day, const char *metric);

rr_value_t agent_val(const harness_t *h, uint64_t shop, uint64_t agent, int32_t day,
                     const char *metric);

#define EXPECT_ND(val, n, d, what)                                                                 \
    do {                                                                                           \
        rr_value_t v_ = (val);                                                                     \
        cr_expect(v_.num == (n) && v_.den == (d), "%s: got %" PRId64 "/%" PRId64 ", want %d/%d",   \
                  (what), v_.num, v_.den, (int)(n), (int)(d));                                     \
    } while (0)

/* shop 1, day 2026-11-22 */
#define EXPECT_SHOP(h, metric, n, d) EXPECT_ND(shop_val((h), 1, DAY1122, (metric)), n, d, metric)
#define EXPECT_AGENT(h, agent, metric, n, d)                                                       \
    EXPECT_ND(agent_val((h), 1, (agent), DAY1122, (metric)), n, d, "agent " #agent " " metric)

/* The three 3-minute metrics of SPEC §8: message, session, buyer. */
#define EXPECT_3MIN(h, mn, md, sn, sd, bn, bd)                                                     \
    do {                                                                                           \
        EXPECT_SHOP(h, "douyin_msg_3min", mn, md);                                                 \
        EXPECT_SHOP(h, "douyin_session_3min", sn, sd);                                             \
        EXPECT_SHOP(h, "pdd_buyer_3min", bn, bd);                                                  \
    } while (0)

/* One violation per 3-minute metric for conv's round at start. */
void expect_violation3(const harness_t *h, uint64_t conv, int64_t start, rr_reason_t reason,
                       int answered, int64_t wait, uint32_t msgs, uint64_t agent);

/* input == applied + duplicate + late + invalid */
void expect_counts_add_up(const harness_t *h);

#endif
