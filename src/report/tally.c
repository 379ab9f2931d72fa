/* report/tally.c: one night's output directory read and counted (see tally.h). */
#include "report/tally.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io/tzload.h"
#include "report/csv.h"

const int64_t rr_tally_wait_edges_ms[RR_TALLY_WAIT_BINS - 1] = {15000,  30000,  60000, 120000,
                                                                180000, 300000, 600000};

const char *const rr_tally_file_names[RR_TALLY_FILES] = {
    "shop_day", "shop_day_metrics", "violations", "alerts", "late", "dead_letter"};

/* ---- exact arithmetic ------------------------------------------------------- */

static void mul64(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo)
{
    uint64_t al = a & 0xffffffffu, ah = a >> 32, bl = b & 0xffffffffu, bh = b >> 32;
    uint64_t ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
    uint64_t mid = (ll >> 32) + (lh & 0xffffffffu) + (hl & 0xffffffffu);
    *lo = (mid << 32) | (ll & 0xffffffffu);
    *hi = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
}

int rr_tally_cmp_products(uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
    uint64_t h1, l1, h2, l2;
    mul64(a, b, &h1, &l1);
    mul64(c, d, &h2, &l2);
    if (h1 != h2) return h1 < h2 ? -1 : 1;
    if (l1 != l2) return l1 < l2 ? -1 : 1;
    return 0;
}

int rr_tally_cmp_worse(const rr_tally_score_t *a, const rr_tally_score_t *b, int is_time)
{
    /* a/b's ratio against b's: num_a * den_b vs num_b * den_a */
    int r = rr_tally_cmp_products(a->num, b->den, b->num, a->den);
    if (r) return is_time ? -r : r; /* rates: lower is worse; waits: higher is worse */
    if (a->den != b->den) return a->den > b->den ? -1 : 1;
    if (a->shop_id != b->shop_id) return a->shop_id < b->shop_id ? -1 : 1;
    if (a->day != b->day) return a->day < b->day ? -1 : 1;
    return 0;
}

size_t rr_tally_bin(const rr_tally_score_t *s, int is_time)
{
    size_t k = 0;
    if (is_time) { /* the first bucket whose edge the mean wait num/den does not pass */
        while (k < RR_TALLY_WAIT_BINS - 1 &&
               rr_tally_cmp_products(s->num, 1, (uint64_t)rr_tally_wait_edges_ms[k], s->den) > 0)
            k++;
        return k;
    }
    /* the largest k <= 9 with k/10 <= num/den */
    while (k + 1 < RR_TALLY_RATE_BINS && rr_tally_cmp_products(s->num, 10, k + 1, s->den) >= 0)
        k++;
    return k;
}

size_t rr_tally_wait_bucket(int64_t wait_ms)
{
    size_t k = 0;
    if (wait_ms < 0) return RR_TALLY_WAIT_BINS - 1;
    while (k < RR_TALLY_WAIT_BINS - 1 && wait_ms > rr_tally_wait_edges_ms[k])
        k++;
    return k;
}

/* ---- files ------------------------------------------------------------------ */

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* The manifest's entry of the file at path, matched by its name (the
 * manifest's paths are as the run was given them, relative to its cwd):
 * an --output-dir file first, as an --output may share its name. NULL when
 * the manifest does not list it. */
static const rr_runinfo_output_t *listed(const rr_tally_t *t, const char *path)
{
    const rr_runinfo_output_t *found = NULL;
    for (size_t i = 0; i < t->run.n_outputs; i++) {
        const rr_runinfo_output_t *o = &t->run.outputs[i];
        if (!o->path || strcmp(base_name(o->path), base_name(path))) continue;
        if (o->flag && !strcmp(o->flag, "--output-dir")) return o;
        if (!found) found = o;
    }
    return found;
}

/* Find NAME.csv or NAME.csv.zst in dir into t->paths[f]. */
static int find_file(rr_tally_t *t, const char *dir, int f, char *err, size_t n)
{
    const char *name = rr_tally_file_names[f];
    char plain[4096], zst[4096], other[4096];
    snprintf(plain, sizeof plain, "%s/%s.csv", dir, name);
    snprintf(zst, sizeof zst, "%s/%s.csv.zst", dir, name);
    int has_plain = exists(plain), has_zst = exists(zst);
    if (has_plain && has_zst) { /* the manifest says which is this run's */
        int lp = listed(t, plain) != NULL, lz = listed(t, zst) != NULL;
        if (lp == lz) {
            snprintf(err, n,
                     "%s: both %s.csv and %s.csv.zst, and the manifest does not say which is "
                     "the run's",
                     dir, name, name);
            return -1;
        }
        has_plain = lp;
    }
    if (has_plain || has_zst) {
        snprintf(t->paths[f], sizeof t->paths[f], "%s", has_plain ? plain : zst);
        return 0;
    }
    snprintf(other, sizeof other, "%s/%s.jsonl", dir, name);
    if (!exists(other)) snprintf(other, sizeof other, "%s/%s.jsonl.zst", dir, name);
    if (exists(other))
        snprintf(err, n,
                 "%s: holds %s, the JSON Lines form; the report reads the csv or csv.zst form "
                 "(run --output-dir DIR --output-format csv)",
                 dir, base_name(other));
    else
        snprintf(err, n,
                 "%s: no %s.csv or %s.csv.zst (is it a `replyrate run --output-dir` "
                 "directory?)",
                 dir, name, name);
    return -1;
}

/* Before reading: the file's size is the one the manifest lists, if it does. */
static int check_bytes(const rr_tally_t *t, int f, char *err, size_t n)
{
    const rr_runinfo_output_t *o = listed(t, t->paths[f]);
    struct stat st;
    if (!o || !o->has_bytes || stat(t->paths[f], &st) < 0) return 0;
    if ((uint64_t)st.st_size != o->bytes) {
        snprintf(err, n, "%s: %llu bytes, the manifest says %llu: changed or cut since the run",
                 t->paths[f], (unsigned long long)st.st_size, (unsigned long long)o->bytes);
        return -1;
    }
    return 0;
}

/* After reading a file of one row per record: as many rows as the manifest
 * counts records. */
static int check_rows(const rr_tally_t *t, int f, char *err, size_t n)
{
    const rr_runinfo_output_t *o = listed(t, t->paths[f]);
    if (!o || !o->has_records || f == RR_TALLY_METRICS || o->records == t->rows[f]) return 0;
    snprintf(err, n, "%s: %llu rows, the manifest says %llu records: changed since the run",
             t->paths[f], (unsigned long long)t->rows[f], (unsigned long long)o->records);
    return -1;
}

static int open_file(rr_tally_t *t, int f, rr_csv_t **c, char *err, size_t n)
{
    if (check_bytes(t, f, err, n) < 0) return -1;
    return rr_csv_open(t->paths[f], c, err, n);
}

/* ---- metrics and platforms ---------------------------------------------------- */

/* The metric called name (created when absent), or -1 with errstr. */
static int metric_of(rr_tally_t *t, const rr_csv_t *c, const char *name, char *err, size_t n)
{
    for (size_t i = 0; i < t->n_metrics; i++)
        if (!strcmp(t->metrics[i].name, name)) return (int)i;
    if (!name[0] || t->n_metrics == RR_TALLY_MAX_METRICS) {
        snprintf(err, n, "%s:%llu: %s", rr_csv_name(c), (unsigned long long)rr_csv_line(c),
                 name[0] ? "more than 64 metrics" : "an empty metric name");
        return -1;
    }
    rr_tally_metric_t *m = &t->metrics[t->n_metrics];
    snprintf(m->name, sizeof m->name, "%s", name);
    /* the platform: the name up to its first '_' (all of it when none) */
    char platform[RR_TALLY_NAME_MAX];
    size_t pl = strcspn(name, "_");
    snprintf(platform, sizeof platform, "%.*s", (int)pl, name);
    size_t p = 0;
    while (p < t->n_platforms && strcmp(t->platforms[p], platform))
        p++;
    if (p == t->n_platforms)
        snprintf(t->platforms[t->n_platforms++], RR_TALLY_NAME_MAX, "%s", platform);
    m->platform = (int)p;
    return (int)t->n_metrics++;
}

static int add_day(rr_tally_t *t, int32_t day)
{
    size_t i = 0;
    while (i < t->n_days && t->days[i] < day)
        i++;
    if (i < t->n_days && t->days[i] == day) return 0;
    if (t->n_days == RR_TALLY_MAX_DAYS) {
        t->more_days = 1;
        return 0;
    }
    memmove(&t->days[i + 1], &t->days[i], (t->n_days - i) * sizeof t->days[0]);
    t->days[i] = day;
    t->n_days++;
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* shop_day: the metrics in config order (its header: NAME_num, NAME_den and,
 * for response_time, NAME_unanswered after version), shop-days, shops, days. */
static int read_shop_day(rr_tally_t *t, char *err, size_t n)
{
    rr_csv_t *c = NULL;
    uint64_t *shops = NULL;
    size_t cap = 0;
    int rc = -1;
    if (open_file(t, RR_TALLY_SHOP_DAY, &c, err, n) < 0) return -1;
    static const char *const cols[] = {"shop_id", "day"};
    int idx[2];
    if (rr_csv_columns(c) && rr_csv_require(c, cols, idx, 2, err, n) < 0) goto done;
    for (size_t i = 0; i < rr_csv_columns(c); i++) {
        const char *h = rr_csv_header(c, i);
        size_t hl = strlen(h);
        if (hl <= 4 || strcmp(h + hl - 4, "_num") || hl - 4 >= RR_TALLY_NAME_MAX) continue;
        char name[RR_TALLY_NAME_MAX], unanswered[RR_TALLY_NAME_MAX + 16];
        snprintf(name, sizeof name, "%.*s", (int)(hl - 4), h);
        int m = metric_of(t, c, name, err, n);
        if (m < 0) goto done;
        snprintf(unanswered, sizeof unanswered, "%s_unanswered", name);
        t->metrics[m].is_time = rr_csv_column(c, unanswered) >= 0;
    }
    for (;;) {
        int r = rr_csv_next(c, err, n);
        if (r < 0) goto done;
        if (r == 0) break;
        uint64_t shop;
        int32_t day;
        if (rr_csv_u64(c, (size_t)idx[0], &shop, err, n) < 0 ||
            rr_csv_day(c, (size_t)idx[1], &day, err, n) < 0)
            goto done;
        if (t->shop_days == cap) {
            size_t nc = cap ? 2 * cap : 1024;
            uint64_t *q = realloc(shops, nc * sizeof *q);
            if (!q) {
                snprintf(err, n, "%s: out of memory", rr_csv_name(c));
                goto done;
            }
            shops = q;
            cap = nc;
        }
        shops[t->shop_days++] = shop;
        add_day(t, day);
    }
    qsort(shops, t->shop_days, sizeof *shops, cmp_u64);
    for (size_t i = 0; i < t->shop_days; i++)
        t->shops += i == 0 || shops[i] != shops[i - 1];
    t->rows[RR_TALLY_SHOP_DAY] = rr_csv_rows(c);
    rc = check_rows(t, RR_TALLY_SHOP_DAY, err, n);
done:
    free(shops);
    rr_csv_close(c);
    return rc;
}

/* ---- shop_day_metrics: the scores ------------------------------------------- */

static int add_score(rr_tally_metric_t *m, const rr_tally_score_t *s)
{
    if (m->n_scores == m->cap_scores) {
        size_t cap = m->cap_scores ? 2 * m->cap_scores : 1024;
        rr_tally_score_t *q = realloc(m->scores, cap * sizeof *q);
        if (!q) return -1;
        m->scores = q;
        m->cap_scores = cap;
    }
    m->scores[m->n_scores++] = *s;
    return 0;
}

static int read_metrics(rr_tally_t *t, char *err, size_t n)
{
    enum { SHOP, DAY, METRIC, NUM, DEN, UNANSWERED, B0, FINAL, REVISION, NCOLS };
    static const char *const cols[NCOLS] = {"shop_id",    "day", "metric", "num",     "den",
                                            "unanswered", "b0",  "final",  "revision"};
    int idx[NCOLS];
    rr_csv_t *c = NULL;
    int rc = -1;
    if (open_file(t, RR_TALLY_METRICS, &c, err, n) < 0) return -1;
    if (rr_csv_columns(c) && rr_csv_require(c, cols, idx, NCOLS, err, n) < 0) goto done;
    for (;;) {
        int r = rr_csv_next(c, err, n);
        if (r < 0) goto done;
        if (r == 0) break;
        char name[RR_TALLY_NAME_MAX];
        rr_tally_score_t s = {0};
        uint64_t b0;
        int has_buckets;
        if (rr_csv_u64(c, (size_t)idx[SHOP], &s.shop_id, err, n) < 0 ||
            rr_csv_day(c, (size_t)idx[DAY], &s.day, err, n) < 0 ||
            rr_csv_str(c, (size_t)idx[METRIC], name, sizeof name, err, n) < 0 ||
            rr_csv_u64(c, (size_t)idx[NUM], &s.num, err, n) < 0 ||
            rr_csv_u64(c, (size_t)idx[DEN], &s.den, err, n) < 0 ||
            rr_csv_u64_opt(c, (size_t)idx[UNANSWERED], &s.unanswered, err, n) < 0 ||
            (has_buckets = rr_csv_u64_opt(c, (size_t)idx[B0], &b0, err, n)) < 0 ||
            rr_csv_bool(c, (size_t)idx[FINAL], &s.final, err, n) < 0 ||
            rr_csv_u64_opt(c, (size_t)idx[REVISION], &s.revision, err, n) < 0)
            goto done;
        int m = metric_of(t, c, name, err, n);
        if (m < 0) goto done;
        if (has_buckets == 0) t->metrics[m].is_time = 1; /* response_time rows carry buckets */
        if (add_score(&t->metrics[m], &s) < 0) {
            snprintf(err, n, "%s: out of memory", rr_csv_name(c));
            goto done;
        }
    }
    t->rows[RR_TALLY_METRICS] = rr_csv_rows(c);
    rc = 0;
done:
    rr_csv_close(c);
    return rc;
}

/* (shop, day), then the row a loader keeps first: final, then the higher revision */
static int cmp_key(const void *a, const void *b)
{
    const rr_tally_score_t *x = a, *y = b;
    if (x->shop_id != y->shop_id) return x->shop_id < y->shop_id ? -1 : 1;
    if (x->day != y->day) return x->day < y->day ? -1 : 1;
    if (x->final != y->final) return x->final ? -1 : 1;
    if (x->revision != y->revision) return x->revision > y->revision ? -1 : 1;
    return 0;
}

static int cmp_worse_rate(const void *a, const void *b)
{
    return rr_tally_cmp_worse(a, b, 0);
}

static int cmp_worse_time(const void *a, const void *b)
{
    return rr_tally_cmp_worse(a, b, 1);
}

/* Keep one row per (shop, day), sum, bin, and pick the worst. */
static int finish_metric(rr_tally_metric_t *m, size_t top)
{
    if (m->n_scores) qsort(m->scores, m->n_scores, sizeof *m->scores, cmp_key);
    size_t w = 0;
    for (size_t i = 0; i < m->n_scores; i++) {
        if (w && m->scores[w - 1].shop_id == m->scores[i].shop_id &&
            m->scores[w - 1].day == m->scores[i].day) {
            m->superseded++;
            continue;
        }
        m->scores[w++] = m->scores[i];
    }
    m->n_scores = w;
    rr_tally_score_t *scored = malloc((m->n_scores ? m->n_scores : 1) * sizeof *scored);
    if (!scored) return -1;
    size_t k = 0;
    for (size_t i = 0; i < m->n_scores; i++) {
        const rr_tally_score_t *s = &m->scores[i];
        m->num += s->num;
        m->den += s->den;
        m->unanswered += s->unanswered;
        if (s->den == 0) continue; /* a response_time with unanswered rounds only: no mean */
        m->hist[rr_tally_bin(s, m->is_time)]++;
        scored[k++] = *s;
    }
    m->scored = k;
    if (k) qsort(scored, k, sizeof *scored, m->is_time ? cmp_worse_time : cmp_worse_rate);
    m->n_worst = k < top ? k : top;
    m->worst = calloc(m->n_worst ? m->n_worst : 1, sizeof *m->worst);
    if (!m->worst) {
        free(scored);
        return -1;
    }
    for (size_t i = 0; i < m->n_worst; i++)
        m->worst[i].score = scored[i];
    free(scored);
    return 0;
}

/* ---- alerts ------------------------------------------------------------------- */

static int cmp_alert(const void *a, const void *b)
{
    const rr_tally_alert_t *x = a, *y = b;
    if (x->shop_id != y->shop_id) return x->shop_id < y->shop_id ? -1 : 1;
    if (x->day != y->day) return x->day < y->day ? -1 : 1;
    return strcmp(x->rule, y->rule);
}

static int read_alerts(rr_tally_t *t, char *err, size_t n)
{
    enum { SHOP, DAY, RULE, VALUE, FINAL, NCOLS };
    static const char *const cols[NCOLS] = {"shop_id", "day", "rule", "value", "final"};
    int idx[NCOLS];
    rr_csv_t *c = NULL;
    size_t cap = 0;
    int rc = -1;
    if (open_file(t, RR_TALLY_ALERTS, &c, err, n) < 0) return -1;
    if (rr_csv_columns(c) && rr_csv_require(c, cols, idx, NCOLS, err, n) < 0) goto done;
    for (;;) {
        int r = rr_csv_next(c, err, n);
        if (r < 0) goto done;
        if (r == 0) break;
        if (t->n_alerts == cap) {
            size_t nc = cap ? 2 * cap : 256;
            rr_tally_alert_t *q = realloc(t->alerts, nc * sizeof *q);
            if (!q) {
                snprintf(err, n, "%s: out of memory", rr_csv_name(c));
                goto done;
            }
            t->alerts = q;
            cap = nc;
        }
        rr_tally_alert_t *a = &t->alerts[t->n_alerts];
        if (rr_csv_u64(c, (size_t)idx[SHOP], &a->shop_id, err, n) < 0 ||
            rr_csv_day(c, (size_t)idx[DAY], &a->day, err, n) < 0 ||
            rr_csv_str(c, (size_t)idx[RULE], a->rule, sizeof a->rule, err, n) < 0 ||
            rr_csv_str(c, (size_t)idx[VALUE], a->value, sizeof a->value, err, n) < 0 ||
            rr_csv_bool(c, (size_t)idx[FINAL], &a->final, err, n) < 0)
            goto done;
        t->n_alerts++;
    }
    if (t->n_alerts) qsort(t->alerts, t->n_alerts, sizeof *t->alerts, cmp_alert);
    t->rows[RR_TALLY_ALERTS] = rr_csv_rows(c);
    rc = check_rows(t, RR_TALLY_ALERTS, err, n);
done:
    rr_csv_close(c);
    return rc;
}

/* ---- violations ----------------------------------------------------------------- */

/* A worst shop-day of a metric, found by (metric, shop, day). */
typedef struct worst_key {
    size_t metric;
    uint64_t shop_id;
    int32_t day;
    rr_tally_worst_t *w;
} worst_key_t;

static int cmp_worst_key(const void *a, const void *b)
{
    const worst_key_t *x = a, *y = b;
    if (x->metric != y->metric) return x->metric < y->metric ? -1 : 1;
    if (x->shop_id != y->shop_id) return x->shop_id < y->shop_id ? -1 : 1;
    if (x->day != y->day) return x->day < y->day ? -1 : 1;
    return 0;
}

/* Earlier first: round start, then conversation, buyer, agent. */
static int cmp_violation(const void *a, const void *b)
{
    const rr_tally_violation_t *x = a, *y = b;
    if (x->round_start_ms != y->round_start_ms)
        return x->round_start_ms < y->round_start_ms ? -1 : 1;
    if (x->conversation_id != y->conversation_id)
        return x->conversation_id < y->conversation_id ? -1 : 1;
    if (x->buyer_id != y->buyer_id) return x->buyer_id < y->buyer_id ? -1 : 1;
    if (x->agent_id != y->agent_id) return x->agent_id < y->agent_id ? -1 : 1;
    return 0;
}

/* Keep v among w's earliest RR_TALLY_SHOW_MAX. */
static int keep_violation(rr_tally_worst_t *w, const rr_tally_violation_t *v)
{
    w->violations++;
    if (w->n_shown < RR_TALLY_SHOW_MAX) {
        if ((w->n_shown & (w->n_shown - 1)) == 0) { /* 0, 1, 2, 4, ...: room for twice as many */
            size_t cap = w->n_shown ? 2 * w->n_shown : 1;
            if (cap > RR_TALLY_SHOW_MAX) cap = RR_TALLY_SHOW_MAX;
            rr_tally_violation_t *q = realloc(w->shown, cap * sizeof *q);
            if (!q) return -1;
            w->shown = q;
        }
        w->shown[w->n_shown++] = *v;
        return 0;
    }
    size_t last = 0; /* full: replace the latest kept, if v is earlier */
    for (size_t i = 1; i < w->n_shown; i++)
        if (cmp_violation(&w->shown[i], &w->shown[last]) > 0) last = i;
    if (cmp_violation(v, &w->shown[last]) < 0) w->shown[last] = *v;
    return 0;
}

static int read_violations(rr_tally_t *t, char *err, size_t n)
{
    enum { SHOP, DAY, METRIC, CONV, BUYER, AGENT, START, WAIT, MESSAGES, REASON, NCOLS };
    static const char *const cols[NCOLS] = {
        "shop_id",  "day",         "metric",  "conversation_id", "buyer_id",
        "agent_id", "round_start", "wait_ms", "messages",        "reason"};
    int idx[NCOLS];
    rr_csv_t *c = NULL;
    worst_key_t *keys = NULL;
    size_t n_keys = 0, cap = 0;
    int rc = -1;
    for (size_t m = 0; m < t->n_metrics; m++)
        cap += t->metrics[m].n_worst;
    keys = malloc((cap ? cap : 1) * sizeof *keys);
    if (!keys) {
        snprintf(err, n, "out of memory");
        return -1;
    }
    for (size_t m = 0; m < t->n_metrics; m++)
        for (size_t i = 0; i < t->metrics[m].n_worst; i++) {
            rr_tally_worst_t *w = &t->metrics[m].worst[i];
            keys[n_keys++] = (worst_key_t){m, w->score.shop_id, w->score.day, w};
        }
    if (n_keys) qsort(keys, n_keys, sizeof *keys, cmp_worst_key);
    rr_tz_cache_t cache;
    rr_tz_cache_init(&cache);
    if (open_file(t, RR_TALLY_VIOLATIONS, &c, err, n) < 0) goto done;
    if (rr_csv_columns(c) && rr_csv_require(c, cols, idx, NCOLS, err, n) < 0) goto done;
    for (;;) {
        int r = rr_csv_next(c, err, n);
        if (r < 0) goto done;
        if (r == 0) break;
        char name[RR_TALLY_NAME_MAX];
        rr_tally_violation_t v = {0};
        uint64_t wait;
        int unanswered;
        worst_key_t key = {0};
        if (rr_csv_u64(c, (size_t)idx[SHOP], &key.shop_id, err, n) < 0 ||
            rr_csv_day(c, (size_t)idx[DAY], &key.day, err, n) < 0 ||
            rr_csv_str(c, (size_t)idx[METRIC], name, sizeof name, err, n) < 0 ||
            rr_csv_u64(c, (size_t)idx[CONV], &v.conversation_id, err, n) < 0 ||
            rr_csv_u64(c, (size_t)idx[BUYER], &v.buyer_id, err, n) < 0 ||
            rr_csv_u64(c, (size_t)idx[AGENT], &v.agent_id, err, n) < 0 ||
            rr_csv_utc_ms(c, (size_t)idx[START], &v.round_start_ms, err, n) < 0 ||
            (unanswered = rr_csv_u64_opt(c, (size_t)idx[WAIT], &wait, err, n)) < 0 ||
            rr_csv_u64(c, (size_t)idx[MESSAGES], &v.messages, err, n) < 0 ||
            rr_csv_str(c, (size_t)idx[REASON], v.reason, sizeof v.reason, err, n) < 0)
            goto done;
        if (!unanswered && wait > (uint64_t)INT64_MAX) {
            snprintf(err, n, "%s:%llu: column wait_ms: out of range", rr_csv_name(c),
                     (unsigned long long)rr_csv_line(c));
            goto done;
        }
        v.wait_ms = unanswered ? -1 : (int64_t)wait;
        int m = metric_of(t, c, name, err, n);
        if (m < 0) goto done;
        t->metrics[m].violations++;
        rr_tz_local(t->tz, &cache, v.round_start_ms, &v.local_day, &v.local_tod_ms);
        size_t hour = (size_t)(v.local_tod_ms / 3600000), bucket = rr_tally_wait_bucket(v.wait_ms);
        t->heat[RR_TALLY_MAX_METRICS][hour][bucket]++;
        t->heat[t->metrics[m].platform][hour][bucket]++;
        key.metric = (size_t)m;
        const worst_key_t *k =
            n_keys ? bsearch(&key, keys, n_keys, sizeof *keys, cmp_worst_key) : NULL;
        if (k && keep_violation(k->w, &v) < 0) {
            snprintf(err, n, "%s: out of memory", rr_csv_name(c));
            goto done;
        }
    }
    for (size_t i = 0; i < n_keys; i++)
        if (keys[i].w->n_shown)
            qsort(keys[i].w->shown, keys[i].w->n_shown, sizeof *keys[i].w->shown, cmp_violation);
    t->rows[RR_TALLY_VIOLATIONS] = rr_csv_rows(c);
    rc = check_rows(t, RR_TALLY_VIOLATIONS, err, n);
done:
    free(keys);
    rr_csv_close(c);
    return rc;
}

/* ---- late and dead_letter ----------------------------------------------------------- */

static void count_reason(rr_tally_count_t *list, size_t *n, const char *reason)
{
    size_t i = 0;
    while (i < *n && strcmp(list[i].name, reason))
        i++;
    if (i == *n && *n == RR_TALLY_MAX_REASONS) { /* the last slot takes every further reason */
        i = RR_TALLY_MAX_REASONS - 1;
        snprintf(list[i].name, sizeof list[i].name, "(other)");
    } else if (i == *n) {
        snprintf(list[i].name, sizeof list[i].name, "%s", reason);
        list[i].count = 0;
        ++*n;
    }
    list[i].count++;
}

static int read_rejected(rr_tally_t *t, int f, rr_tally_count_t *list, size_t *n_list, char *err,
                         size_t n)
{
    static const char *const cols[] = {"reason"};
    int idx[1];
    rr_csv_t *c = NULL;
    int rc = -1;
    if (open_file(t, f, &c, err, n) < 0) return -1;
    if (rr_csv_columns(c) && rr_csv_require(c, cols, idx, 1, err, n) < 0) goto done;
    for (;;) {
        int r = rr_csv_next(c, err, n);
        if (r < 0) goto done;
        if (r == 0) break;
        char reason[RR_TALLY_NAME_MAX];
        if (rr_csv_str(c, (size_t)idx[0], reason, sizeof reason, err, n) < 0) goto done;
        count_reason(list, n_list, reason);
    }
    t->rows[f] = rr_csv_rows(c);
    rc = check_rows(t, f, err, n);
done:
    rr_csv_close(c);
    return rc;
}

/* More first, then by name. */
static int cmp_count(const void *a, const void *b)
{
    const rr_tally_count_t *x = a, *y = b;
    if (x->count != y->count) return x->count > y->count ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* ---- the whole night ------------------------------------------------------------------ */

int rr_tally_load(const char *dir_arg, size_t top, rr_tally_t **out, char *err, size_t n)
{
    char dir[3072]; /* dir_arg without trailing '/': its files' names are built on it */
    size_t dl = strlen(dir_arg);
    *out = NULL;
    if (top < 1 || top > RR_TALLY_TOP_MAX) {
        snprintf(err, n, "top: %zu is not in 1..%d", top, RR_TALLY_TOP_MAX);
        return -1;
    }
    if (dl >= sizeof dir) {
        snprintf(err, n, "%.64s...: a path longer than %zu bytes", dir_arg, sizeof dir - 1);
        return -1;
    }
    while (dl > 1 && dir_arg[dl - 1] == '/')
        dl--;
    memcpy(dir, dir_arg, dl);
    dir[dl] = '\0';
    struct stat st;
    if (stat(dir, &st) < 0) {
        snprintf(err, n, "%s: %s", dir, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, n, "%s: not a directory", dir);
        return -1;
    }
    rr_tally_t *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, n, "%s: out of memory", dir);
        return -1;
    }
    t->top = top;
    char path[4096], why[512];
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    if (!exists(path)) {
        snprintf(err, n,
                 "%s: no manifest.json: not a `replyrate run --output-dir` directory, or its run "
                 "did not finish (the manifest is written last)",
                 dir);
        goto fail;
    }
    if (rr_runinfo_load(path, &t->run, err, n) < 0) goto fail;
    if (rr_tz_load(t->run.time_zone, &t->tz, why, sizeof why) < 0) {
        snprintf(err, n, "%s: time_zone: %s", path, why);
        goto fail;
    }
    for (int f = 0; f < RR_TALLY_FILES; f++)
        if (find_file(t, dir, f, err, n) < 0) goto fail;
    if (read_shop_day(t, err, n) < 0 || read_metrics(t, err, n) < 0) goto fail;
    for (size_t m = 0; m < t->n_metrics; m++)
        if (finish_metric(&t->metrics[m], top) < 0) {
            snprintf(err, n, "%s: out of memory", t->paths[RR_TALLY_METRICS]);
            goto fail;
        }
    if (read_alerts(t, err, n) < 0 || read_violations(t, err, n) < 0 ||
        read_rejected(t, RR_TALLY_LATE, t->late_reasons, &t->n_late_reasons, err, n) < 0 ||
        read_rejected(t, RR_TALLY_DEAD_LETTER, t->invalid_reasons, &t->n_invalid_reasons, err, n) <
            0)
        goto fail;
    qsort(t->late_reasons, t->n_late_reasons, sizeof t->late_reasons[0], cmp_count);
    qsort(t->invalid_reasons, t->n_invalid_reasons, sizeof t->invalid_reasons[0], cmp_count);
    *out = t;
    return 0;
fail:
    rr_tally_free(t);
    return -1;
}

void rr_tally_free(rr_tally_t *t)
{
    if (!t) return;
    for (size_t m = 0; m < t->n_metrics; m++) {
        rr_tally_metric_t *x = &t->metrics[m];
        for (size_t i = 0; i < x->n_worst; i++)
            free(x->worst[i].shown);
        free(x->worst);
        free(x->scores);
    }
    free(t->alerts);
    rr_tz_free(t->tz);
    rr_runinfo_free(&t->run);
    free(t);
}
