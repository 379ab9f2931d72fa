/* report/tally.h: one night's results, read from a `replyrate run --output-dir
 * DIR` directory in csv or csv.zst form and counted for the report page
 * (docs/report.md says what each count is).
 *
 * What is read, and what is kept of it:
 *   manifest.json         the run: versions, time zone, inputs, times, counts
 *                         (report/runinfo.h); required, so a directory that
 *                         is no run's output is refused by name
 *   shop_day              the metrics in the job's config order (its header),
 *                         shop-days and shops
 *   shop_day_metrics      every (shop, day, metric) row: a score num/den; for a
 *                         response_time metric the mean wait num/den ms
 *   alerts                all of them (the worst shop-days show theirs)
 *   violations            counted, by metric and in the heat map (local hour of
 *                         round_start x the wait's response_time bucket); those
 *                         of the worst shop-days kept, the earliest
 *                         RR_TALLY_SHOW_MAX of each
 *   late, dead_letter     rows counted by their reason column
 * Each file is NAME.csv or NAME.csv.zst; when the manifest lists the file
 * its size must be the manifest's, and a file of one row per record its row
 * count, so a file changed or cut after the run is refused.
 *
 * Scores: a rate metric's shop-day is worse the lower num/den is; a
 * response_time metric's the higher its mean wait. Ties: the larger den first
 * (more rounds judged), then the smaller shop_id, then the earlier day.
 * Ratios are compared exactly (64 x 64-bit products), never as doubles. A
 * (shop, day, metric) that appears twice keeps the final row, else the higher
 * revision (the loaders' rule), and the other is counted as superseded.
 *
 * Memory: the shop_day_metrics rows and alerts, plus at most
 * top x metrics x RR_TALLY_SHOW_MAX violations; the violations file is
 * streamed. Ownership: rr_tally_t owns everything it points to
 * (rr_tally_free). Not thread-safe. Layer: report; uses report/csv,
 * report/runinfo, io/tzload, engine/tz.
 */
#ifndef RR_REPORT_TALLY_H
#define RR_REPORT_TALLY_H

#include <stddef.h>
#include <stdint.h>

#include "engine/tz.h"
#include "report/runinfo.h"

#define RR_TALLY_MAX_METRICS 64
#define RR_TALLY_NAME_MAX 128
#define RR_TALLY_MAX_REASONS 64
#define RR_TALLY_SHOW_MAX 200
#define RR_TALLY_TOP_MAX 10000
#define RR_TALLY_RATE_BINS 10 /* [0,10%), [10%,20%), ... [90%,100%] */
#define RR_TALLY_WAIT_BINS 8  /* the response_time buckets */
#define RR_TALLY_HOURS 24
#define RR_TALLY_MAX_DAYS 64 /* distinct days listed (more are counted) */

/* The upper edges (ms, inclusive) of the first seven wait buckets; the
 * eighth is everything above 600 s, and an unanswered round. */
extern const int64_t rr_tally_wait_edges_ms[RR_TALLY_WAIT_BINS - 1];

/* A (shop, day) of one metric: a shop_day_metrics row. */
typedef struct rr_tally_score {
    uint64_t shop_id;
    int32_t day; /* days since 1970-01-01 */
    int final;
    uint64_t revision;
    uint64_t num, den, unanswered;
} rr_tally_score_t;

typedef struct rr_tally_violation {
    uint64_t conversation_id, buyer_id, agent_id, messages;
    int64_t round_start_ms;
    int32_t local_day, local_tod_ms; /* round_start in the run's time zone */
    int64_t wait_ms;                 /* -1: not answered within the horizon */
    char reason[16];
} rr_tally_violation_t;

/* One of a metric's worst shop-days, with its violations of that metric. */
typedef struct rr_tally_worst {
    rr_tally_score_t score;
    uint64_t violations;         /* all of them */
    rr_tally_violation_t *shown; /* the earliest (round start, conversation) */
    size_t n_shown;              /* at most RR_TALLY_SHOW_MAX, sorted */
} rr_tally_worst_t;

typedef struct rr_tally_metric {
    char name[RR_TALLY_NAME_MAX];
    int platform; /* index into rr_tally_t.platforms */
    int is_time;  /* response_time: unanswered and buckets; lower is better */
    rr_tally_score_t *scores;
    size_t n_scores, cap_scores;
    uint64_t superseded;               /* rows replaced by a final or later revision */
    uint64_t scored;                   /* shop-days with den > 0: those with a score */
    uint64_t num, den, unanswered;     /* summed over the shop-days */
    uint64_t hist[RR_TALLY_RATE_BINS]; /* RR_TALLY_RATE_BINS or _WAIT_BINS used */
    uint64_t violations;
    rr_tally_worst_t *worst; /* the worst min(top, scored), worst first */
    size_t n_worst;
} rr_tally_metric_t;

typedef struct rr_tally_count {
    char name[RR_TALLY_NAME_MAX];
    uint64_t count;
} rr_tally_count_t;

typedef struct rr_tally_alert {
    uint64_t shop_id;
    int32_t day;
    int final;
    char rule[RR_TALLY_NAME_MAX];
    char value[48];
} rr_tally_alert_t;

/* The six files read, by this index. */
enum {
    RR_TALLY_SHOP_DAY,
    RR_TALLY_METRICS,
    RR_TALLY_VIOLATIONS,
    RR_TALLY_ALERTS,
    RR_TALLY_LATE,
    RR_TALLY_DEAD_LETTER,
    RR_TALLY_FILES
};
extern const char *const rr_tally_file_names[RR_TALLY_FILES];

typedef struct rr_tally {
    rr_runinfo_t run;
    rr_tz_t *tz; /* the run's time_zone (owned) */
    size_t top;
    char paths[RR_TALLY_FILES][4096];
    uint64_t rows[RR_TALLY_FILES];
    /* the metrics, in the config's order, and their platforms (name up to '_') */
    rr_tally_metric_t metrics[RR_TALLY_MAX_METRICS];
    size_t n_metrics;
    char platforms[RR_TALLY_MAX_METRICS][RR_TALLY_NAME_MAX];
    size_t n_platforms;
    /* shop_day */
    uint64_t shop_days, shops;
    int32_t days[RR_TALLY_MAX_DAYS];
    size_t n_days; /* distinct days, sorted; more_days when there were more */
    int more_days;
    /* late and dead_letter rows by reason (in first-seen order; past
     * RR_TALLY_MAX_REASONS distinct reasons the rest count as "(other)") */
    rr_tally_count_t late_reasons[RR_TALLY_MAX_REASONS], invalid_reasons[RR_TALLY_MAX_REASONS];
    size_t n_late_reasons, n_invalid_reasons;
    /* violations: every row, in the heat map of all platforms ([n_platforms])
     * and of its metric's platform */
    uint64_t heat[RR_TALLY_MAX_METRICS + 1][RR_TALLY_HOURS][RR_TALLY_WAIT_BINS];
    /* alerts, sorted by (shop, day, rule) */
    rr_tally_alert_t *alerts;
    size_t n_alerts;
} rr_tally_t;

/* Read the run in dir (borrowed) and count it, keeping the top (1 ..
 * RR_TALLY_TOP_MAX) worst shop-days of each metric. 0 with *out (free it
 * with rr_tally_free), or -1 with errstr naming the file, and line, that
 * stopped it. */
int rr_tally_load(const char *dir, size_t top, rr_tally_t **out, char *errstr, size_t errstr_size);

void rr_tally_free(rr_tally_t *t);

/* Worse-first order of two scores of a metric (is_time: higher mean wait is
 * worse): < 0 when a is worse than b, > 0 when better, 0 for the same
 * (shop, day). */
int rr_tally_cmp_worse(const rr_tally_score_t *a, const rr_tally_score_t *b, int is_time);

/* The histogram bin of a scored (den > 0) score. */
size_t rr_tally_bin(const rr_tally_score_t *s, int is_time);

/* The wait bucket of a violation's wait (-1: unanswered, the last bucket). */
size_t rr_tally_wait_bucket(int64_t wait_ms);

/* Exact comparison of a * b with c * d (64 x 64 bits): -1, 0 or 1. */
int rr_tally_cmp_products(uint64_t a, uint64_t b, uint64_t c, uint64_t d);

#endif
