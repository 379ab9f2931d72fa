/* gen/gen.c: synthetic chat traffic (see gen.h).
 *
 * Data path of one run:
 *
 *   minute tick --(Poisson arrivals on the diurnal curve)--> conversations
 *   conversation --(script: every event with its ts, built at arrival)--> calendar
 *   calendar --(pop in (key, seq) order)--> knobs --> classify --> emit
 *
 * The calendar holds one entry per open conversation (a cursor on its next
 * event) plus one per knob record in flight, so it stays as small as the
 * number of conversations open at once. Keys are ms since the first local
 * midnight; 256 ms buckets over ~2.3 h (lists of pooled 256-byte chunks), a
 * heap for the current bucket, and an overflow heap for anything further
 * out. Memory: ~48 bytes per open conversation plus 16 per scripted event
 * (rounded up to a power of two), 16 per calendar entry; about 20 MB at
 * 20 million events a day.
 *
 * Two PRNG streams: `model` draws everything about shops and conversations,
 * `knob` draws everything about delivery. The model never reads `knob`, so
 * knobs do not change the conversations (gen.h).
 */
#include "gen/gen.h"

#include "engine/tz.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEC INT64_C(1000)
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)

#define LATENESS_MS (5 * SEC) /* SPEC §5 default allowed lateness */
#define MAX_FUTURE_MS DAY     /* SPEC §7 default max_future */
#define JUMP_CONFIRM 1000     /* SPEC §7 default jump_confirm */
#define HORIZON_MS HOUR       /* SPEC §3 default H */
#define REDELIVER_MIN_MS (20 * MIN)
/* Ids of knob records that are new events (resumes, stale events) start
 * here above ev_base, far above the model's and below the invalid copies'
 * (2^62); stale conversations' ids have bit 62 set. */
#define EXTRA_IDS (UINT64_C(1) << 61)
#define STALE_CONVS (UINT64_C(1) << 62)
#define MAX_GAP_MS (5 * HOUR) /* below the default conversation_ttl (6 h) */
#define SCRIPT_MAX 256        /* events per conversation, hard cap */
#define SCRIPT_SOFT 200       /* no new round once a script is this long */

/* ---------------------------------------------------------------- PRNG */

/* xoshiro256** (Blackman & Vigna), seeded through splitmix64. */
typedef struct rng {
    uint64_t s[4];
    double spare; /* second Box-Muller normal */
    int has_spare;
} rng_t;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static void rng_seed(rng_t *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ (stream * UINT64_C(0xd1b54a32d192ed03));
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
    r->has_spare = 0;
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t rnext(rng_t *r)
{
    uint64_t *s = r->s;
    uint64_t out = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

/* Uniform in [0, 1). */
static inline double runif(rng_t *r)
{
    return (double)(rnext(r) >> 11) * 0x1p-53;
}

/* Uniform in [0, n) for n <= 2^32 only (multiply-shift, bias < 2^-32). */
static inline uint64_t rbelow(rng_t *r, uint64_t n)
{
    return ((rnext(r) >> 32) * n) >> 32;
}

/* Uniform integer in [a, b]. */
static inline int64_t rrange(rng_t *r, int64_t a, int64_t b)
{
    return a + (int64_t)rbelow(r, (uint64_t)(b - a + 1));
}

static double rnorm(rng_t *r)
{
    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare;
    }
    double u1 = runif(r), u2 = runif(r);
    if (u1 < 0x1p-60) u1 = 0x1p-60;
    double m = sqrt(-2.0 * log(u1));
    r->spare = m * sin(6.283185307179586 * u2);
    r->has_spare = 1;
    return m * cos(6.283185307179586 * u2);
}

/* Lognormal with the given median, clamped to [lo, hi]. */
static int64_t rlogn(rng_t *r, double median, double sigma, int64_t lo, int64_t hi)
{
    double v = median * exp(sigma * rnorm(r));
    if (v < (double)lo) return lo;
    if (v > (double)hi) return hi;
    return (int64_t)v;
}

/* Log-uniform in [a, b]. */
static int64_t rlogu(rng_t *r, double a, double b)
{
    return (int64_t)(a * exp(runif(r) * log(b / a)));
}

static uint64_t rpoisson(rng_t *r, double x)
{
    if (x <= 0) return 0;
    if (x > 30) {
        double v = x + sqrt(x) * rnorm(r) + 0.5;
        return v < 0 ? 0 : (uint64_t)v;
    }
    double l = exp(-x), p = 1.0;
    uint64_t k = 0;
    for (;;) {
        p *= runif(r);
        if (p <= l) return k;
        k++;
    }
}

static uint64_t mix64(uint64_t x)
{
    return splitmix64(&x);
}

/* ------------------------------------------------------------ calendar */

typedef struct entry {
    uint64_t k;    /* key ms << SEQ_BITS | insertion seq: (key, seq) order */
    uint32_t conv; /* conversation slot, or minute index for E_TICK */
    uint32_t aux;  /* event index << 4 | kind */
} entry_t;

enum { E_TICK, E_CURSOR, E_DELAYED, E_LATE, E_DUP, E_INVALID, E_REDELIVER };

#define SEQ_BITS 20
#define SLOT_SHIFT 8  /* 256 ms buckets */
#define WHEEL_BITS 15 /* 32768 buckets: ~2.3 h */
#define WHEEL (1u << WHEEL_BITS)

typedef struct vec {
    entry_t *a;
    uint32_t n, cap;
} vec_t;

/* Buckets are lists of small chunks from a shared pool, so the wheel's
 * memory follows the entries alive now, not each bucket's busiest moment. */
#define CHUNK_ENTRIES 15
typedef struct chunk {
    struct chunk *next;
    uint32_t n;
    uint32_t pad;
    entry_t e[CHUNK_ENTRIES];
} chunk_t; /* 256 bytes */

#define CHUNKS_PER_SLAB 512

typedef struct cal {
    chunk_t *slots[WHEEL];
    chunk_t *free_chunks;
    void **slabs;
    size_t n_slabs;
    vec_t cur;  /* heap: entries of bucket cur_slot */
    vec_t over; /* heap: entries beyond the wheel */
    int64_t cur_slot;
    uint64_t n_wheel; /* entries in slots[] */
    uint64_t seq;
    int oom;
} cal_t;

static int vec_grow(vec_t *v)
{
    uint32_t cap = v->cap ? v->cap * 2 : 16;
    entry_t *a = realloc(v->a, (size_t)cap * sizeof *a);
    if (!a) return -1;
    v->a = a;
    v->cap = cap;
    return 0;
}

static void heap_up(entry_t *a, uint32_t i)
{
    entry_t e = a[i];
    while (i) {
        uint32_t p = (i - 1) / 2;
        if (a[p].k <= e.k) break;
        a[i] = a[p];
        i = p;
    }
    a[i] = e;
}

static void heap_down(entry_t *a, uint32_t n, uint32_t i)
{
    entry_t e = a[i];
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && a[c + 1].k < a[c].k) c++;
        if (e.k <= a[c].k) break;
        a[i] = a[c];
        i = c;
    }
    a[i] = e;
}

static void heap_push(cal_t *c, vec_t *h, entry_t e)
{
    if (h->n == h->cap && vec_grow(h)) {
        c->oom = 1;
        return;
    }
    h->a[h->n] = e;
    heap_up(h->a, h->n++);
}

static entry_t heap_pop(vec_t *h)
{
    entry_t top = h->a[0];
    h->a[0] = h->a[--h->n];
    if (h->n) heap_down(h->a, h->n, 0);
    return top;
}

static chunk_t *chunk_get(cal_t *c)
{
    if (!c->free_chunks) {
        void **sl = realloc(c->slabs, (c->n_slabs + 1) * sizeof *sl);
        if (!sl) return NULL;
        c->slabs = sl;
        chunk_t *k = malloc(CHUNKS_PER_SLAB * sizeof *k);
        if (!k) return NULL;
        c->slabs[c->n_slabs++] = k;
        for (int i = 0; i < CHUNKS_PER_SLAB; i++) {
            k[i].next = c->free_chunks;
            c->free_chunks = &k[i];
        }
    }
    chunk_t *k = c->free_chunks;
    c->free_chunks = k->next;
    k->n = 0;
    return k;
}

static void cal_insert(cal_t *c, entry_t e)
{
    int64_t slot = (int64_t)(e.k >> (SEQ_BITS + SLOT_SHIFT));
    if (slot <= c->cur_slot) {
        heap_push(c, &c->cur, e);
    } else if (slot < c->cur_slot + (int64_t)WHEEL) {
        chunk_t **head = &c->slots[slot & (WHEEL - 1)];
        if (!*head || (*head)->n == CHUNK_ENTRIES) {
            chunk_t *k = chunk_get(c);
            if (!k) {
                c->oom = 1;
                return;
            }
            k->next = *head;
            *head = k;
        }
        (*head)->e[(*head)->n++] = e;
        c->n_wheel++;
    } else {
        heap_push(c, &c->over, e);
    }
}

static void cal_push(cal_t *c, int64_t key_ms, uint32_t conv, uint32_t aux)
{
    entry_t e = {((uint64_t)key_ms << SEQ_BITS) | (c->seq++ & ((1u << SEQ_BITS) - 1)), conv, aux};
    cal_insert(c, e);
}

/* Next entry in (key, seq) order; 0 when the calendar is empty. */
static int cal_pop(cal_t *c, entry_t *out)
{
    while (c->cur.n == 0) {
        if (c->n_wheel == 0) {
            if (c->over.n == 0) return 0;
            int64_t s = (int64_t)(c->over.a[0].k >> (SEQ_BITS + SLOT_SHIFT));
            if (s - 1 > c->cur_slot) c->cur_slot = s - 1; /* skip the empty stretch */
        }
        c->cur_slot++;
        chunk_t **head = &c->slots[c->cur_slot & (WHEEL - 1)];
        while (*head) { /* cur is empty: the bucket's entries become its heap */
            chunk_t *k = *head;
            while (c->cur.n + k->n > c->cur.cap)
                if (vec_grow(&c->cur)) {
                    c->oom = 1;
                    return 0;
                }
            memcpy(c->cur.a + c->cur.n, k->e, k->n * sizeof *k->e);
            c->cur.n += k->n;
            c->n_wheel -= k->n;
            *head = k->next;
            k->next = c->free_chunks;
            c->free_chunks = k;
        }
        for (uint32_t i = c->cur.n / 2; i-- > 0;)
            heap_down(c->cur.a, c->cur.n, i);
        while (c->over.n &&
               (int64_t)(c->over.a[0].k >> (SEQ_BITS + SLOT_SHIFT)) < c->cur_slot + (int64_t)WHEEL)
            cal_insert(c, heap_pop(&c->over));
    }
    *out = heap_pop(&c->cur);
    return 1;
}

static uint64_t cal_size(const cal_t *c)
{
    return c->cur.n + c->over.n + c->n_wheel;
}

static void cal_free(cal_t *c)
{
    for (size_t i = 0; i < c->n_slabs; i++)
        free(c->slabs[i]);
    free(c->slabs);
    free(c->cur.a);
    free(c->over.a);
}

/* --------------------------------------------------------------- model */

/* One scripted event: 16 bytes. */
typedef struct gev {
    int64_t ts;
    uint32_t agent; /* global agent index + 1; 0 = none */
    uint8_t type;
    uint8_t content;
    uint8_t rating;
    uint8_t bits; /* GEV_APPLIED */
} gev_t;

#define GEV_APPLIED 0x1u

/* An open conversation: 48 bytes + its script (16 bytes per event, in a
 * power-of-two block of 8..256 events). */
typedef struct conv {
    uint64_t id;
    uint64_t ev_base; /* event_id of script[0]; ids are ev_base + index */
    uint64_t buyer;
    gev_t *ev;
    uint32_t shop;
    uint16_t n, cur; /* events, next for the cursor */
    uint16_t refs;   /* calendar entries pointing here */
    uint8_t flags;   /* buyer flags (BUYER_MESSAGE only) */
    uint8_t cls;     /* size class of ev */
    uint8_t any_applied, buyer_applied;
    uint8_t resumed; /* a resume (resume_rate): not resumed again */
} conv_t;

/* An agent's capacity unit: one conversation at a time. */
typedef struct seat {
    int64_t busy_until;
    uint32_t agent; /* global agent index + 1 */
} seat_t;

typedef struct shop {
    uint64_t id;
    uint32_t seat_off, n_seats; /* min-heap by busy_until in g->seats */
    uint32_t agent_off, n_agents;
    int32_t shift_from, shift_to; /* local ms of day, [from, to) */
    float reply_factor;           /* scales reply delays */
    uint8_t robot;
    uint8_t ring_n, ring_pos;
    uint64_t ring[4]; /* recent buyers, for repeat conversations */
} shop_t;

#define N_CLASSES 6 /* blocks of 8, 16, ..., 256 events */

typedef struct script script_t;

typedef struct gen {
    const rr_gen_opts_t *o;
    int (*emit)(void *, const rr_event_t *);
    void *opaque;
    rng_t model, knob;

    int64_t base_ms;   /* UTC ms of the first local midnight */
    uint32_t minutes;  /* days * 1440 */
    double w[1440];    /* arrival weight per local minute of day */
    double wsfx[1441]; /* suffix sums of w within a day */
    double wday;

    shop_t *shops;
    uint32_t n_shops;
    double *cdf; /* Zipf, cumulative */
    seat_t *seats;
    uint64_t n_agents;

    conv_t *convs;
    uint32_t n_convs, cap_convs;
    uint32_t *free_convs;
    uint32_t n_free;
    gev_t *free_blocks[N_CLASSES];
    void **blocks; /* every block ever allocated, for the final free */
    size_t n_blocks, cap_blocks;

    cal_t cal;

    uint64_t committed; /* model events scripted so far */
    uint64_t n_conv_started;
    uint64_t conv_base, ev_counter, ev_base, inv_counter, agent_base, buyer_base, buyer_space;
    uint64_t flag_salt;
    uint64_t late_pending;
    int64_t *offs; /* arrival offsets of the current minute */
    uint64_t cap_offs;

    /* SPEC §7 emulation for the expect_* counts. */
    int has_max;
    int64_t max_ts;
    uint64_t held; /* jumps held (SPEC §7) */

    double thr[6]; /* cumulative knob thresholds */
    int any_knob;
    uint64_t extra_ids;        /* event ids of resumes and stale events so far */
    int64_t jump_cut, jump_ms; /* ts >= jump_cut is stamped jump_ms later */
    script_t *rsc;             /* a resume's script under construction */

    rr_gen_stats_t st;
    int stop; /* a callback asked to stop */
    char *errstr;
    size_t errstr_size;
} gen_t;

static void seterr(gen_t *g, const char *f, ...)
{
    if (!g->errstr || !g->errstr_size) return;
    va_list ap;
    va_start(ap, f);
    vsnprintf(g->errstr, g->errstr_size, f, ap);
    va_end(ap);
}

/* Relative arrival rate by local hour: night trickle, peaks at 10-11 h and
 * 20-22 h (the shape every platform's traffic reports show). */
static const double hourly[24] = {
    0.40, 0.22, 0.12, 0.08, 0.07, 0.09, 0.18, 0.40, 0.75, 1.10, 1.40, 1.35,
    1.05, 1.10, 1.20, 1.20, 1.15, 1.05, 1.00, 1.15, 1.40, 1.50, 1.30, 0.80,
};

static void build_curve(gen_t *g)
{
    /* Linear between hour midpoints. */
    for (int m = 0; m < 1440; m++) {
        double h = (m + 0.5) / 60.0 - 0.5;
        int h0 = (int)floor(h);
        double f = h - h0;
        g->w[m] = hourly[(h0 + 24) % 24] * (1 - f) + hourly[(h0 + 25) % 24] * f;
    }
    g->wsfx[1440] = 0;
    for (int m = 1439; m >= 0; m--)
        g->wsfx[m] = g->wsfx[m + 1] + g->w[m];
    g->wday = g->wsfx[0];
}

static int32_t tod(const gen_t *g, int64_t ts)
{
    int64_t r = (ts - g->base_ms) % DAY;
    return (int32_t)(r < 0 ? r + DAY : r);
}

static int in_shift(const gen_t *g, const shop_t *s, int64_t ts)
{
    int32_t t = tod(g, ts);
    return t >= s->shift_from && t < s->shift_to;
}

/* A date YYYYMMDD of the years gen supports (calendar check: engine/tz.h). */
static int valid_date(int32_t ymd)
{
    int y = ymd / 10000;
    return y >= 1971 && y <= 9990 && rr_yyyymmdd_to_day(ymd) != RR_TZ_BAD_DATE;
}

/* Events per conversation expected before any is scripted, and the
 * mean time a conversation holds an agent's seat: the shop sizing and the
 * first minutes' arrival rates use them; measured on the model. */
#define PRIOR_EVENTS_PER_CONV 12.0
#define PRIOR_EVENTS_BRIEF 2.9 /* a brief conversation's (brief_share) */
#define SEAT_HOLD_S 900.0

/* PRIOR_EVENTS_PER_CONV with brief conversations mixed in; the default day
 * (no brief ones) gets the constant itself, so its bytes do not move. */
static double prior_events_per_conv(const rr_gen_opts_t *o)
{
    if (o->brief_share <= 0) return PRIOR_EVENTS_PER_CONV;
    return PRIOR_EVENTS_PER_CONV * (1 - o->brief_share) + PRIOR_EVENTS_BRIEF * o->brief_share;
}

static int build_shops(gen_t *g)
{
    const rr_gen_opts_t *o = g->o;
    rng_t *r = &g->model;
    uint32_t n = g->n_shops;
    g->shops = calloc(n, sizeof *g->shops);
    g->cdf = malloc((size_t)n * sizeof *g->cdf);
    uint32_t *perm = malloc((size_t)n * sizeof *perm);
    if (!g->shops || !g->cdf || !perm) {
        free(perm);
        return -1;
    }
    double sum = 0;
    for (uint32_t i = 0; i < n; i++) {
        sum += pow(i + 1.0, -o->zipf_exponent);
        g->cdf[i] = sum;
        perm[i] = i;
    }
    if (o->top_shop_share > 0 && n > 1) { /* a skewed day: the biggest shop gets this share */
        double rest = sum - g->cdf[0], w0 = o->top_shop_share / (1 - o->top_shop_share) * rest;
        for (uint32_t i = 0; i < n; i++)
            g->cdf[i] += w0 - 1.0; /* the rank-1 weight was 1 */
        sum += w0 - 1.0;
    }
    for (uint32_t i = n; i > 1; i--) { /* ids do not follow size */
        uint32_t j = (uint32_t)rbelow(r, i);
        uint32_t t = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = t;
    }
    uint64_t id_base = 100000 + rbelow(r, 900000);
    double conv_per_day = (double)o->events / prior_events_per_conv(o) / o->days;
    double peak = 1.50 / (g->wday / 1440.0); /* peak rate / mean rate */

    uint64_t seats_total = 0;
    for (uint32_t i = 0; i < n; i++) {
        shop_t *s = &g->shops[i];
        double share = (g->cdf[i] - (i ? g->cdf[i - 1] : 0)) / sum;
        s->id = id_base + perm[i];
        /* Bigger shops run a robot more often. */
        s->robot = runif(r) < (share * n > 2 ? 0.75 : 0.5);
        static const int32_t from[] = {450, 480, 480, 480, 480, 510, 540}; /* minutes */
        static const int32_t to[] = {1380, 1410, 1440, 1440, 1440};
        s->shift_from = from[rbelow(r, 7)] * (int32_t)MIN;
        s->shift_to = to[rbelow(r, 5)] * (int32_t)MIN;
        s->reply_factor = (float)exp(0.45 * rnorm(r));
        if (s->reply_factor < 0.4f) s->reply_factor = 0.4f;
        if (s->reply_factor > 4.0f) s->reply_factor = 4.0f;
        /* Seats for the peak load times a staffing factor: most shops have
         * slack, a quarter are short and queue buyers at the peaks. */
        double staffing = runif(r) < 0.25 ? 0.5 + 0.5 * runif(r) : 1.1 + 0.9 * runif(r);
        double need = conv_per_day * share * peak / 86400.0 * SEAT_HOLD_S * staffing;
        uint32_t conc = (uint32_t)rrange(r, 3, 8);
        double agents = ceil(need / conc);
        if (agents < 1) agents = 1;
        if (agents > 20000) agents = 20000;
        s->n_agents = (uint32_t)agents;
        s->n_seats = s->n_agents * conc;
        s->agent_off = (uint32_t)g->n_agents;
        s->seat_off = (uint32_t)seats_total;
        g->n_agents += s->n_agents;
        seats_total += s->n_seats;
    }
    free(perm);
    if (g->n_agents >= UINT32_MAX / 2 || seats_total >= UINT32_MAX) return -1;
    g->seats = malloc(seats_total * sizeof *g->seats);
    if (!g->seats) return -1;
    for (uint32_t i = 0; i < n; i++) {
        shop_t *s = &g->shops[i];
        for (uint32_t k = 0; k < s->n_seats; k++) {
            /* Seat k belongs to agent k mod n_agents: a fresh agent's first
             * seat comes before anyone's second, spreading the load. */
            seat_t *st = &g->seats[s->seat_off + k];
            st->busy_until = INT64_MIN;
            st->agent = s->agent_off + k % s->n_agents + 1;
        }
    }
    g->st.shops = n;
    g->st.agents = g->n_agents;
    return 0;
}

static uint32_t pick_shop(gen_t *g)
{
    double u = runif(&g->model) * g->cdf[g->n_shops - 1];
    uint32_t lo = 0, hi = g->n_shops - 1;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (g->cdf[mid] <= u)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static uint8_t buyer_flags(const gen_t *g, uint64_t buyer)
{
    uint64_t h = mix64(buyer ^ g->flag_salt);
    uint32_t a = (uint32_t)(h % 1000), b = (uint32_t)((h >> 32) % 1000);
    return (uint8_t)((a < 8 ? RR_FLAG_INTERNAL : 0) | (b < 7 ? RR_FLAG_SPAM : 0));
}

static uint8_t rcontent(rng_t *r)
{
    /* text, emoji, image, video/product card, other */
    uint64_t u = rbelow(r, 100);
    return (uint8_t)(u < 70 ? 0 : u < 78 ? 1 : u < 90 ? 2 : u < 96 ? 3 : 4);
}

static uint8_t rrating(rng_t *r)
{
    uint64_t u = rbelow(r, 100);
    return (uint8_t)(u < 62 ? 5 : u < 78 ? 4 : u < 86 ? 3 : u < 90 ? 2 : 1);
}

/* Script under construction. */
struct script {
    gev_t ev[SCRIPT_MAX + 64];
    uint32_t n;
    int64_t last; /* greatest ts so far */
};

static void add(script_t *sc, int64_t ts, uint8_t type, uint32_t agent, uint8_t content,
                uint8_t rating)
{
    if (sc->n >= SCRIPT_MAX) return;
    gev_t *e = &sc->ev[sc->n++];
    e->ts = ts;
    e->agent = agent;
    e->type = type;
    e->content = content;
    e->rating = rating;
    e->bits = 0;
    if (ts > sc->last) sc->last = ts;
}

static void sift_seat(seat_t *a, uint32_t n, uint32_t i)
{
    seat_t e = a[i];
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && a[c + 1].busy_until < a[c].busy_until) c++;
        if (e.busy_until <= a[c].busy_until) break;
        a[i] = a[c];
        i = c;
    }
    a[i] = e;
}

/* Agent speed: a stable per-agent factor in [0.7, 1.3]. */
static double agent_factor(const gen_t *g, uint32_t agent)
{
    return 0.7 + 0.6 * (double)(mix64(agent ^ g->flag_salt ^ 0x5a5a) >> 11) * 0x1p-53;
}

/* Script a whole conversation of shop s whose buyer opens it at t0 (SPEC §1,
 * §2 event types). Events are appended roughly in time; the caller sorts. */
/* A brief conversation (brief_share): one question, straight into the
 * human queue (no robot, no session events), answered once by the agent
 * whose seat frees soonest while the shift runs (nine in ten), else never.
 * Nothing ends it: it stays open until conversation_ttl. */
static void script_brief(gen_t *g, script_t *sc, shop_t *sh, int64_t t0)
{
    rng_t *r = &g->model;
    add(sc, t0, RR_EVENT_TRANSFER_TO_MANUAL, 0, 0, 0);
    int64_t tb = t0 + rrange(r, 200, 3 * SEC);
    add(sc, tb, RR_EVENT_BUYER_MESSAGE, 0, rcontent(r), 0);
    if (!in_shift(g, sh, tb) || runif(r) < 0.1) return;
    seat_t *heap = g->seats + sh->seat_off;
    uint32_t agent = heap[0].agent;
    double f = sh->reply_factor * agent_factor(g, agent);
    int64_t ready = heap[0].busy_until > tb ? heap[0].busy_until : tb;
    int64_t tr = ready + rlogn(r, 40.0 * SEC * f, 1.0, 1500, 50 * MIN);
    add(sc, tr, RR_EVENT_AGENT_MESSAGE, agent, rcontent(r), 0);
    heap[0].busy_until = tr + 30 * SEC;
    sift_seat(heap, sh->n_seats, 0);
}

static void script_conv(gen_t *g, script_t *sc, shop_t *sh, int64_t t0, uint8_t bflags)
{
    rng_t *r = &g->model;
    int spam = (bflags & RR_FLAG_SPAM) != 0;
    sc->n = 0;
    sc->last = t0;
    if (g->o->brief_share > 0 && runif(r) < g->o->brief_share) {
        script_brief(g, sc, sh, t0);
        return;
    }
    add(sc, t0, RR_EVENT_SESSION_START, 0, 0, 0);
    int64_t t = t0, tq;

    if (sh->robot) {
        /* Robot phase: greeting, a few questions the bot answers in seconds. */
        if (runif(r) < 0.8) add(sc, t + rrange(r, 200, 1500), RR_EVENT_SYSTEM_MESSAGE, 0, 0, 0);
        int64_t tb = t + rlogn(r, 6 * SEC, 0.7, 1 * SEC, 2 * MIN), last = tb;
        int k = 1;
        while (k < 5 && runif(r) < 0.45)
            k++;
        for (int i = 0; i < k; i++) {
            add(sc, tb, RR_EVENT_BUYER_MESSAGE, 0, rcontent(r), 0);
            last = tb;
            if (runif(r) < 0.9) {
                last = tb + rrange(r, 400, 3500);
                add(sc, last, RR_EVENT_ROBOT_MESSAGE, 0, rcontent(r), 0);
            }
            tb = last + rlogn(r, 12 * SEC, 0.8, 2 * SEC, 10 * MIN);
        }
        t = last;
        if (runif(r) < 0.3) { /* the robot settled it: never manual */
            if (runif(r) < 0.9)
                add(sc, t + rlogn(r, 90 * SEC, 0.8, 5 * SEC, 20 * MIN), RR_EVENT_SESSION_END, 0, 0,
                    0);
            return;
        }
        t += rrange(r, 1 * SEC, 15 * SEC);
        add(sc, t, RR_EVENT_TRANSFER_TO_MANUAL, 0, 0, 0);
        tq = t + rrange(r, 500, 8 * SEC);
    } else {
        /* No robot: the conversation enters the human queue at once. */
        t += rrange(r, 1, 300);
        add(sc, t, RR_EVENT_TRANSFER_TO_MANUAL, 0, 0, 0);
        if (runif(r) < 0.5) add(sc, t + rrange(r, 200, 1000), RR_EVENT_SYSTEM_MESSAGE, 0, 0, 0);
        tq = t + rlogn(r, 8 * SEC, 0.8, 1 * SEC, 2 * MIN);
    }

    /* The human queue: the seat free soonest, if the buyer waits for it and
     * the shift still runs then. Nobody works overnight. */
    seat_t *heap = g->seats + sh->seat_off;
    int64_t patience = rlogn(r, 6 * MIN, 0.7, 30 * SEC, 40 * MIN);
    int64_t ta = -1;
    if (in_shift(g, sh, t)) {
        int64_t ready = heap[0].busy_until > t ? heap[0].busy_until : t;
        ready += rrange(r, 1 * SEC, 10 * SEC);
        if (ready - t <= patience && in_shift(g, sh, ready)) ta = ready;
    }

    if (ta < 0) {
        /* Never assigned: offline message, or the buyer gave up queueing. */
        int64_t tb = tq;
        add(sc, tb, RR_EVENT_BUYER_MESSAGE, 0, rcontent(r), 0);
        if (runif(r) < 0.4)
            add(sc, t + rrange(r, 1 * SEC, 3 * SEC), RR_EVENT_SYSTEM_MESSAGE, 0, 0, 0);
        for (int i = 0; i < 3 && runif(r) < 0.5; i++) {
            tb += rlogn(r, 60 * SEC, 0.8, 3 * SEC, 15 * MIN);
            add(sc, tb, RR_EVENT_BUYER_MESSAGE, 0, rcontent(r), 0);
        }
        if (runif(r) < 0.85)
            add(sc, sc->last + rrange(r, 2 * MIN, 30 * MIN), RR_EVENT_SESSION_END, 0, 0, 0);
        return;
    }

    seat_t *seat = &heap[0];
    uint32_t agent = seat->agent;
    double f = sh->reply_factor * agent_factor(g, agent);
    add(sc, ta, RR_EVENT_AGENT_ASSIGNED, agent, 0, 0);
    if (runif(r) < 0.2) /* a quick hello: it answers whatever is pending */
        add(sc, ta + rrange(r, 1 * SEC, 6 * SEC), RR_EVENT_AGENT_MESSAGE, agent, 0, 0);

    int rounds = 1;
    while (rounds < 15 && runif(r) < 0.62)
        rounds++;
    int reassigned = 0, ended = 0;
    int64_t tb = tq;
    for (int rd = 0; rd < rounds && sc->n < SCRIPT_SOFT; rd++) {
        add(sc, tb, RR_EVENT_BUYER_MESSAGE, 0, rcontent(r), 0);
        int64_t base = tb > ta ? tb : ta, tr = -1;
        double u = runif(r), p_none = spam ? 0.5 : 0.04;
        if (u < p_none)
            tr = -1; /* this round is never answered */
        else if (u < p_none + 0.012)
            tr = base + rlogu(r, 1.0 * HOUR, 3.0 * HOUR); /* forgotten, answered much later */
        else
            tr = base + rlogn(r, 40.0 * SEC * f, 1.0, 1500, 50 * MIN);

        /* Follow-ups while the buyer waits (multi-message rounds). */
        int64_t horizon = tr >= 0 ? tr : tb + rlogn(r, 3 * MIN, 0.8, 20 * SEC, 30 * MIN);
        int64_t fu = tb;
        for (int i = 0; i < 4 && runif(r) < 0.45; i++) {
            fu += rlogn(r, 40 * SEC, 0.8, 2 * SEC, 20 * MIN);
            if (fu >= horizon) break;
            add(sc, fu, RR_EVENT_BUYER_MESSAGE, 0, rcontent(r), 0);
        }

        if (tr < 0) {
            if (runif(r) < 0.6) { /* the buyer gives up and leaves */
                int64_t te = sc->last + rlogn(r, 4 * MIN, 0.7, 20 * SEC, 30 * MIN);
                add(sc, te, RR_EVENT_SESSION_END, 0, 0, 0);
                if (runif(r) < 0.2) /* a reply after the end counts for nothing */
                    add(sc, te + rrange(r, 10 * SEC, 10 * MIN), RR_EVENT_AGENT_MESSAGE, agent,
                        rcontent(r), 0);
                ended = 1;
                break;
            }
            tb = sc->last + rlogn(r, 2 * MIN, 1.0, 5 * SEC, 2 * HOUR);
            continue;
        }
        if (runif(r) < 0.025 && tr - tb > 20 * SEC) {
            /* The session closes before the reply arrives. */
            int64_t te = tb + rrange(r, 10 * SEC, tr - tb - 1);
            if (te > sc->last)
                add(sc, te, RR_EVENT_SESSION_END, 0, 0, 0);
            else
                add(sc, sc->last + 1, RR_EVENT_SESSION_END, 0, 0, 0);
            if (runif(r) < 0.5)
                add(sc, sc->last + rrange(r, 1 * SEC, 60 * SEC), RR_EVENT_AGENT_MESSAGE, agent,
                    rcontent(r), 0);
            ended = 1;
            break;
        }
        if (tr <= sc->last) tr = sc->last + 1;
        add(sc, tr, RR_EVENT_AGENT_MESSAGE, agent, rcontent(r), 0);
        for (int i = 0; i < 2 && runif(r) < 0.35; i++)
            add(sc, sc->last + rlogn(r, 8 * SEC, 0.7, 1 * SEC, 2 * MIN), RR_EVENT_AGENT_MESSAGE,
                agent, rcontent(r), 0);
        if (!reassigned && rd + 1 < rounds && sh->n_agents > 1 && runif(r) < 0.05) {
            /* Handed over to a colleague, who answers from now on. */
            uint32_t other = sh->agent_off + (uint32_t)rbelow(r, sh->n_agents) + 1;
            if (other == agent) other = sh->agent_off + (other - sh->agent_off) % sh->n_agents + 1;
            agent = other;
            add(sc, sc->last + rrange(r, 5 * SEC, 60 * SEC), RR_EVENT_AGENT_ASSIGNED, agent, 0, 0);
            reassigned = 1;
        }
        tb = sc->last + rlogn(r, 30 * SEC, 1.1, 2 * SEC, 2 * HOUR);
    }

    if (!ended) {
        int64_t tl = sc->last;
        if (runif(r) < 0.55) {
            int64_t ti = tl + rrange(r, 2 * SEC, 60 * SEC);
            add(sc, ti, RR_EVENT_RATING_INVITE, 0, 0, 0);
            if (runif(r) < 0.35)
                add(sc, ti + rlogn(r, 20 * SEC, 0.8, 2 * SEC, 20 * MIN), RR_EVENT_RATING, 0, 0,
                    rrating(r));
        }
        if (runif(r) < 0.92)
            add(sc, sc->last + rlogn(r, 3 * MIN, 0.8, 5 * SEC, 30 * MIN), RR_EVENT_SESSION_END, 0,
                0, 0);
    }
    /* The seat is taken until the conversation is over (or idle 5 min). */
    seat->busy_until = sc->last + 5 * MIN;
    sift_seat(heap, sh->n_seats, 0);
}

/* Sort by ts (stable: script order breaks ties), make ts strictly
 * increasing, and pull in any gap above MAX_GAP_MS. */
static void script_finish(script_t *sc)
{
    gev_t *a = sc->ev;
    for (uint32_t i = 1; i < sc->n; i++) {
        gev_t e = a[i];
        uint32_t j = i;
        while (j && a[j - 1].ts > e.ts) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = e;
    }
    int64_t shift = 0;
    for (uint32_t i = 1; i < sc->n; i++) {
        a[i].ts -= shift;
        if (a[i].ts <= a[i - 1].ts) a[i].ts = a[i - 1].ts + 1;
        if (a[i].ts - a[i - 1].ts > MAX_GAP_MS) {
            int64_t excess = a[i].ts - a[i - 1].ts - MAX_GAP_MS;
            shift += excess;
            a[i].ts -= excess;
        }
    }
}

static uint8_t size_class(uint32_t n)
{
    uint8_t c = 0;
    while ((8u << c) < n)
        c++;
    return c;
}

static gev_t *block_get(gen_t *g, uint8_t cls)
{
    gev_t *b = g->free_blocks[cls];
    if (b) {
        memcpy(&g->free_blocks[cls], (const void *)b, sizeof g->free_blocks[cls]); /* next link */
        return b;
    }
    if (g->n_blocks == g->cap_blocks) {
        size_t cap = g->cap_blocks ? g->cap_blocks * 2 : 1024;
        void **nb = realloc(g->blocks, cap * sizeof *nb);
        if (!nb) return NULL;
        g->blocks = nb;
        g->cap_blocks = cap;
    }
    b = malloc(((size_t)8 << cls) * sizeof(gev_t));
    if (b) g->blocks[g->n_blocks++] = b;
    return b;
}

static void block_put(gen_t *g, gev_t *b, uint8_t cls)
{
    memcpy((void *)b, &g->free_blocks[cls], sizeof g->free_blocks[cls]); /* link to the old head */
    g->free_blocks[cls] = b;
}

static int conv_alloc(gen_t *g, uint32_t *out)
{
    if (g->n_free) {
        *out = g->free_convs[--g->n_free];
        return 0;
    }
    if (g->n_convs == g->cap_convs) {
        uint32_t cap = g->cap_convs ? g->cap_convs * 2 : 4096;
        conv_t *c = realloc(g->convs, (size_t)cap * sizeof *c);
        uint32_t *f = realloc(g->free_convs, (size_t)cap * sizeof *f);
        if (c) g->convs = c;
        if (f) g->free_convs = f;
        if (!c || !f) return -1;
        g->cap_convs = cap;
    }
    *out = g->n_convs++;
    return 0;
}

static void conv_release(gen_t *g, uint32_t ci)
{
    conv_t *c = &g->convs[ci];
    if (--c->refs) return;
    block_put(g, c->ev, c->cls);
    c->ev = NULL;
    g->free_convs[g->n_free++] = ci;
}

/* A buyer opens a conversation with a random shop at t0. */
static int start_conv(gen_t *g, script_t *sc, int64_t t0)
{
    rng_t *r = &g->model;
    uint32_t si = pick_shop(g);
    shop_t *sh = &g->shops[si];
    uint64_t buyer;
    if (sh->ring_n && runif(r) < 0.15) {
        buyer = sh->ring[rbelow(r, sh->ring_n)]; /* a repeat buyer */
    } else {
        buyer = g->buyer_base + rbelow(r, g->buyer_space);
        sh->ring[sh->ring_pos] = buyer;
        sh->ring_pos = (uint8_t)((sh->ring_pos + 1) % 4);
        if (sh->ring_n < 4) sh->ring_n++;
    }
    uint8_t flags = buyer_flags(g, buyer);
    script_conv(g, sc, sh, t0, flags);
    script_finish(sc);

    uint64_t left = g->o->events - g->committed;
    if (sc->n > left) /* the run ends inside this conversation */
        sc->n = (uint32_t)left;

    uint32_t ci;
    if (conv_alloc(g, &ci)) return -1;
    conv_t *c = &g->convs[ci];
    c->cls = size_class(sc->n);
    c->ev = block_get(g, c->cls);
    if (!c->ev) return -1;
    memcpy(c->ev, sc->ev, sc->n * sizeof(gev_t));
    c->id = g->conv_base + g->n_conv_started;
    c->ev_base = g->ev_base + g->ev_counter;
    c->buyer = buyer;
    c->shop = si;
    c->n = (uint16_t)sc->n;
    c->cur = 0;
    c->refs = 1;
    c->flags = flags;
    c->any_applied = c->buyer_applied = c->resumed = 0;
    if (!g->n_conv_started || c->ev[0].ts < g->st.first_ts_ms) g->st.first_ts_ms = c->ev[0].ts;
    if (c->ev[sc->n - 1].ts > g->st.last_ts_ms) g->st.last_ts_ms = c->ev[sc->n - 1].ts;
    g->ev_counter += sc->n;
    g->committed += sc->n;
    g->n_conv_started++;
    cal_push(&g->cal, c->ev[0].ts - g->base_ms, ci, E_CURSOR);
    return 0;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Arrivals of minute j: as many conversations as keep the run on course for
 * exactly opts.events model events, spread over the curve's remaining mass
 * (a Poisson count of the expected share). The last minute takes whatever
 * is left, and the last conversation is cut where the run ends. */
static int tick(gen_t *g, uint32_t j, script_t *sc)
{
    rng_t *r = &g->model;
    uint64_t left = g->o->events - g->committed;
    int64_t t_min = g->base_ms + (int64_t)j * MIN;
    double m = (g->committed + prior_events_per_conv(g->o) * 64.0) / (g->n_conv_started + 64.0);
    int last = j + 1 == g->minutes;
    double wrem = g->wsfx[j % 1440] + (double)(g->minutes / 1440 - 1 - j / 1440) * g->wday;
    double x = (double)left / m * g->w[j % 1440] / wrem;
    uint64_t n = last ? (uint64_t)(1.3 * x) + 8 : rpoisson(r, x);
    if (n > g->cap_offs) {
        int64_t *a = realloc(g->offs, n * sizeof *a);
        if (!a) return -1;
        g->offs = a;
        g->cap_offs = n;
    }
    for (uint64_t i = 0; i < n; i++)
        g->offs[i] = (int64_t)rbelow(r, (uint64_t)MIN);
    if (n > 1) qsort(g->offs, n, sizeof *g->offs, cmp_i64);
    for (uint64_t i = 0; i < n && g->committed < g->o->events; i++)
        if (start_conv(g, sc, t_min + g->offs[i])) return -1;
    while (last && g->committed < g->o->events)
        if (start_conv(g, sc, t_min + MIN - 1)) return -1;
    if (!last && g->committed < g->o->events)
        cal_push(&g->cal, (int64_t)(j + 1) * MIN, j + 1, E_TICK);
    return 0;
}

/* ------------------------------------------------------------ delivery */

static void fill_event(const gen_t *g, const conv_t *c, uint32_t i, rr_event_t *ev)
{
    const gev_t *e = &c->ev[i];
    ev->event_id = c->ev_base + i;
    ev->shop_id = g->shops[c->shop].id;
    ev->conversation_id = c->id;
    ev->buyer_id = c->buyer;
    ev->agent_id = e->agent ? g->agent_base + e->agent : 0;
    ev->ts_ms = e->ts;
    ev->type = e->type;
    ev->content = e->content;
    ev->rating = e->rating;
    ev->flags = e->type == RR_EVENT_BUYER_MESSAGE ? c->flags : 0;
}

static void do_emit(gen_t *g, const rr_event_t *ev)
{
    if (g->stop) return;
    if (g->emit(g->opaque, ev)) {
        g->stop = 1;
        seterr(g, "gen: the event writer failed after %llu records",
               (unsigned long long)g->st.records);
        return;
    }
    g->st.records++;
    g->st.events++;
}

/* Model time to the time of the stream: moved by the time jump. */
static inline int64_t moved(const gen_t *g, int64_t ts)
{
    return ts < g->jump_cut ? ts : ts + g->jump_ms;
}

/* The ts a record is stamped with, counted when the jump moved it. */
static inline int64_t stamp(gen_t *g, int64_t ts)
{
    int64_t t = moved(g, ts);
    g->st.jumped += t != ts;
    return t;
}

/* Classify model event e of conversation c, delivered with ts, as an
 * engine with the default settings would (SPEC §5, §7; conversation lives
 * are not modelled, gen.h). */
static void emulate(gen_t *g, conv_t *c, gev_t *e, int64_t ts)
{
    if (g->has_max && ts > g->max_ts + MAX_FUTURE_MS) {
        /* A jump: held, and invalid once the next event is applied or the
         * stream ends (a silent day in a sparse run, a bad clock). When
         * JUMP_CONFIRM are held the engine judges them again: not modelled,
         * they count as applied. */
        if (++g->held == JUMP_CONFIRM) {
            g->st.expect_applied += g->held;
            g->held = 0;
            g->max_ts = ts;
            g->st.expect_exact = 0;
        }
    } else if (g->has_max && ts < g->max_ts - LATENESS_MS) {
        g->st.expect_late++;
    } else if (e->bits & GEV_APPLIED) {
        g->st.expect_duplicate++;
    } else {
        g->st.expect_applied++;
        g->st.expect_invalid += g->held; /* the partition went on */
        g->held = 0;
        e->bits |= GEV_APPLIED;
        if (!g->has_max || ts > g->max_ts) g->max_ts = ts;
        g->has_max = 1;
        c->any_applied = 1;
        if (e->type == RR_EVENT_BUYER_MESSAGE) c->buyer_applied = 1;
    }
}

/* Deliver model event i of conversation ci at its own ts (or, with ts_anew
 * >= 0, a re-delivery of it stamped anew with that model time). */
static void deliver_at(gen_t *g, uint32_t ci, uint32_t i, int64_t ts_anew)
{
    conv_t *c = &g->convs[ci];
    gev_t *e = &c->ev[i];
    rr_event_t ev;
    fill_event(g, c, i, &ev);
    ev.ts_ms = stamp(g, ts_anew >= 0 ? ts_anew : e->ts);
    emulate(g, c, e, ev.ts_ms);
    do_emit(g, &ev);
}

static void deliver(gen_t *g, uint32_t ci, uint32_t i)
{
    deliver_at(g, ci, i, -1);
}

/* An invalid copy of event i of conversation ci at ts (SPEC §7 list). */
static void deliver_invalid(gen_t *g, uint32_t ci, uint32_t i, int64_t ts)
{
    rng_t *r = &g->knob;
    conv_t *c = &g->convs[ci];
    rr_event_t ev;
    fill_event(g, c, i, &ev);
    ev.ts_ms = ts = stamp(g, ts);
    ev.event_id = g->ev_base + (UINT64_C(1) << 62) + g->inv_counter++;
    int kind = (int)rbelow(r, RR_GEN_INV_KINDS);
    /* Mismatches need the engine to know the conversation (and its buyer). */
    if ((kind == RR_GEN_INV_SHOP_MISMATCH && !c->any_applied) ||
        (kind == RR_GEN_INV_SECOND_BUYER && !c->buyer_applied))
        kind = RR_GEN_INV_TYPE;
    switch (kind) {
    case RR_GEN_INV_TYPE:
        ev.type = rbelow(r, 2) ? 11 : 0;
        break;
    case RR_GEN_INV_ZERO_ID: {
        uint64_t w = rbelow(r, 3);
        if (w == 0)
            ev.event_id = 0;
        else if (w == 1)
            ev.shop_id = 0;
        else
            ev.conversation_id = 0;
        break;
    }
    case RR_GEN_INV_SHOP_MISMATCH:
        if (g->n_shops > 1)
            ev.shop_id = g->shops[(c->shop + 1 + rbelow(r, g->n_shops - 1)) % g->n_shops].id;
        else
            ev.shop_id += 1;
        break;
    case RR_GEN_INV_SECOND_BUYER:
        ev.type = RR_EVENT_BUYER_MESSAGE;
        ev.buyer_id = c->buyer + 1 + rbelow(r, 1000000);
        ev.agent_id = 0;
        ev.rating = 0;
        ev.flags = buyer_flags(g, ev.buyer_id);
        break;
    case RR_GEN_INV_AGENT_ZERO:
        ev.type = RR_EVENT_AGENT_ASSIGNED;
        ev.agent_id = 0;
        ev.content = 0;
        break;
    case RR_GEN_INV_RATING:
        ev.type = RR_EVENT_RATING;
        ev.rating = rbelow(r, 2) ? 6 + (uint32_t)rbelow(r, 4) : 0;
        ev.agent_id = 0;
        break;
    case RR_GEN_INV_FUTURE:
        if (g->has_max && rbelow(r, 4)) { /* beyond max_future */
            ev.ts_ms = (ts > g->max_ts ? ts : g->max_ts) + MAX_FUTURE_MS + 1 +
                       rlogu(r, (double)MIN, 10 * 365.0 * DAY);
        } else { /* beyond year 9999 */
            ev.ts_ms = RR_TS_MAX + 1 + (int64_t)(rnext(r) >> 24);
        }
        break;
    default: /* RR_GEN_INV_TS_RANGE */
        ev.ts_ms = rbelow(r, 4) ? -1 - (int64_t)(rnext(r) >> 24) : 0;
        break;
    }
    g->st.invalid++;
    g->st.invalid_kind[kind]++;
    g->st.expect_invalid++;
    do_emit(g, &ev);
}

/* One record protobuf-c's unpack rejects (SPEC §7), message bytes only. */
static void deliver_garbage(gen_t *g)
{
    rng_t *r = &g->knob;
    uint8_t b[48];
    size_t n = 0;
    switch (rbelow(r, 6)) {
    case 0: /* truncated varint */
        b[n++] = 0x08;
        b[n++] = (uint8_t)(0x80 | rbelow(r, 128));
        break;
    case 1:                                    /* field number 0 */
        b[n++] = (uint8_t)rbelow(r, 6) & 0x05; /* wire type 0 or 1 or 5 */
        b[n++] = 0x01;
        break;
    case 2: /* known field with wire type 2 */
        b[n++] = (uint8_t)((1 + rbelow(r, 10)) << 3 | 2);
        b[n++] = 0x01;
        b[n++] = 0x00;
        break;
    case 3: /* varint longer than 10 bytes */
        b[n++] = 0x10;
        for (int i = 0; i < 11; i++)
            b[n++] = 0xff;
        b[n++] = 0x01;
        break;
    case 4: /* unknown length-delimited field running past the end */
        b[n++] = 0x08;
        b[n++] = 0x2a;
        b[n++] = (uint8_t)(15 << 3 | 2);
        b[n++] = (uint8_t)(20 + rbelow(r, 100));
        b[n++] = 0x00;
        break;
    default: /* undefined wire type 7 */
        b[n++] = (uint8_t)((1 + rbelow(r, 15)) << 3 | 7);
        for (uint64_t i = rbelow(r, 8); i > 0; i--)
            b[n++] = (uint8_t)rbelow(r, 256);
        break;
    }
    if (g->stop) return;
    if (g->o->emit_raw(g->opaque, b, n)) {
        g->stop = 1;
        seterr(g, "gen: the raw record writer failed after %llu records",
               (unsigned long long)g->st.records);
        return;
    }
    g->st.garbage++;
    g->st.raw++;
    g->st.records++;
    g->st.expect_invalid++;
}

/* Stale event k, in front of the stream: a buyer message of a conversation
 * of its own, 2 days to 3 years before the first local midnight. Applied
 * (the stream's first event), it makes the stream a jump (SPEC §7). */
static void deliver_stale(gen_t *g, uint32_t k)
{
    rng_t *r = &g->knob;
    int64_t age = rlogu(r, 2.0 * DAY, 3 * 365.0 * DAY);
    if (age > g->base_ms - 1) age = g->base_ms - 1;
    gev_t e = {.ts = g->base_ms - age, .type = RR_EVENT_BUYER_MESSAGE};
    conv_t c = {.id = STALE_CONVS + g->conv_base + k,
                .ev_base = g->ev_base + EXTRA_IDS + g->extra_ids++,
                .buyer = g->buyer_base + rbelow(r, g->buyer_space),
                .ev = &e,
                .shop = (uint32_t)rbelow(r, g->n_shops),
                .n = 1};
    c.flags = buyer_flags(g, c.buyer);
    rr_event_t ev;
    fill_event(g, &c, 0, &ev);
    emulate(g, &c, &e, ev.ts_ms);
    g->st.stale++;
    do_emit(g, &ev);
}

enum { K_NONE, K_DUP, K_DISORDER, K_LATE, K_INVALID, K_GARBAGE, K_REDELIVER };

static int draw_knob(gen_t *g)
{
    double u = runif(&g->knob);
    for (int k = 0; k < 6; k++)
        if (u < g->thr[k]) return k + 1;
    return K_NONE;
}

/* The stream time from which a conversation whose greatest ts is last is
 * over (SPEC §3 Lifetime): the watermark (stream time - lateness) has
 * passed both last + conversation_ttl and the local end + H of last's day. */
static int64_t over_at(const gen_t *g, int64_t last)
{
    int64_t off = (int64_t)g->o->utc_offset_min * MIN, local = last + off;
    int64_t day = local / DAY - (local % DAY < 0);
    int64_t end_h = (day + 1) * DAY - off + HORIZON_MS, ttl = last + g->o->conversation_ttl_ms;
    return (end_h > ttl ? end_h : ttl) + LATENESS_MS;
}

/* Conversation ci has delivered its last scripted event: with resume_rate,
 * it speaks again under its id (gen.h), as a conversation slot of its own
 * that the calendar's cursor delivers like any other (knobs included). A
 * short script from the knob stream: maybe a start, a transfer and an
 * assignment, one to three buyer messages with agent or robot replies,
 * maybe a rating and an end; mostly the same buyer and shop. */
static int resume(gen_t *g, uint32_t ci)
{
    rng_t *r = &g->knob;
    if (g->convs[ci].resumed || runif(r) >= g->o->resume_rate) return 0;
    int64_t last = g->convs[ci].ev[g->convs[ci].n - 1].ts, over = over_at(g, last), t0;
    switch (rbelow(r, 4)) {
    case 0: /* while it lives, past any hot record's idle time */
        t0 = last + rrange(r, 20 * MIN, g->o->conversation_ttl_ms - 1);
        break;
    case 1: /* just before it is over */
        t0 = over - rrange(r, 1 * SEC, 20 * MIN);
        break;
    case 2: /* just after */
        t0 = over + rrange(r, 1 * SEC, 20 * MIN);
        break;
    default:
        t0 = over + rrange(r, 20 * MIN, 12 * HOUR);
        break;
    }
    if (t0 <= last) t0 = last + 1;

    const shop_t *sh = &g->shops[g->convs[ci].shop];
    uint32_t agent = sh->agent_off + (uint32_t)rbelow(r, sh->n_agents) + 1;
    script_t *sc = g->rsc;
    sc->n = 0;
    sc->last = t0;
    int64_t t = t0;
    if (runif(r) < 0.3) add(sc, t, RR_EVENT_SESSION_START, 0, 0, 0);
    if (runif(r) < 0.5) add(sc, t += rrange(r, 1, 5 * SEC), RR_EVENT_TRANSFER_TO_MANUAL, 0, 0, 0);
    if (runif(r) < 0.4) add(sc, t += rrange(r, 1 * SEC, MIN), RR_EVENT_AGENT_ASSIGNED, agent, 0, 0);
    for (int k = 1 + (int)rbelow(r, 3); k > 0; k--) {
        add(sc, t += rrange(r, 1 * SEC, 2 * MIN), RR_EVENT_BUYER_MESSAGE, 0, rcontent(r), 0);
        double u = runif(r);
        if (u < 0.6)
            add(sc, t += rlogn(r, 60 * SEC, 1.0, 2 * SEC, 30 * MIN), RR_EVENT_AGENT_MESSAGE, agent,
                rcontent(r), 0);
        else if (u < 0.75)
            add(sc, t += rrange(r, 400, 3500), RR_EVENT_ROBOT_MESSAGE, 0, rcontent(r), 0);
    }
    if (runif(r) < 0.25)
        add(sc, t += rrange(r, 5 * SEC, 5 * MIN), RR_EVENT_RATING, 0, 0, rrating(r));
    if (runif(r) < 0.5) add(sc, t += rrange(r, 5 * SEC, 10 * MIN), RR_EVENT_SESSION_END, 0, 0, 0);
    script_finish(sc);

    uint32_t ni;
    if (conv_alloc(g, &ni)) return -1; /* may move g->convs */
    conv_t *c = &g->convs[ci], *nc = &g->convs[ni];
    nc->cls = size_class(sc->n);
    nc->ev = block_get(g, nc->cls);
    if (!nc->ev) return -1;
    memcpy(nc->ev, sc->ev, sc->n * sizeof(gev_t));
    nc->id = c->id;
    nc->ev_base = g->ev_base + EXTRA_IDS + g->extra_ids;
    g->extra_ids += sc->n;
    nc->buyer = runif(r) < 0.85 ? c->buyer : g->buyer_base + rbelow(r, g->buyer_space);
    nc->shop = runif(r) < 0.95 ? c->shop : (uint32_t)rbelow(r, g->n_shops);
    nc->n = (uint16_t)sc->n;
    nc->cur = 0;
    nc->refs = 1;
    nc->flags = buyer_flags(g, nc->buyer);
    nc->any_applied = nc->buyer_applied = 0;
    nc->resumed = 1;
    cal_push(&g->cal, nc->ev[0].ts - g->base_ms, ni, E_CURSOR);
    g->st.resumed++;
    g->st.resumed_events += sc->n;
    if (runif(r) < 0.5) { /* one of its old events re-delivered as it resumes */
        c->refs++;
        g->st.resumed_old_ids++;
        cal_push(&g->cal, t0 - g->base_ms + rrange(r, 0, 10 * MIN), ci,
                 (uint32_t)rbelow(r, c->n) << 4 | E_REDELIVER);
    }
    return 0;
}

/* The calendar's cursor reached event i of conversation ci. */
static void on_cursor(gen_t *g, uint32_t ci)
{
    conv_t *c = &g->convs[ci];
    uint32_t i = c->cur;
    int64_t ts = c->ev[i].ts, rel = ts - g->base_ms;
    rng_t *r = &g->knob;
    int k = g->any_knob ? draw_knob(g) : K_NONE;
    switch (k) {
    case K_NONE:
        deliver(g, ci, i);
        break;
    case K_DUP:
        deliver(g, ci, i);
        /* Mostly a quick redelivery; sometimes a replay much later, which
         * the engine then counts as late (SPEC §7 order). */
        c->refs++;
        g->st.duplicates++;
        cal_push(&g->cal,
                 rel + (rbelow(r, 10) ? rrange(r, 1, 3 * SEC) : rrange(r, 10 * MIN, 2 * HOUR)), ci,
                 i << 4 | E_DUP);
        break;
    case K_DISORDER:
        c->refs++;
        g->st.disordered++;
        cal_push(&g->cal, rel + rrange(r, 1, g->o->disorder_ms), ci, i << 4 | E_DELAYED);
        break;
    case K_LATE:
        c->refs++;
        g->st.late++;
        g->late_pending++;
        cal_push(&g->cal, rel + LATENESS_MS + rlogn(r, 20 * SEC, 1.2, 1, 2 * HOUR), ci,
                 i << 4 | E_LATE);
        break;
    case K_INVALID:
        deliver(g, ci, i);
        c->refs++;
        cal_push(&g->cal, rel + rrange(r, 1, 2 * SEC), ci, i << 4 | E_INVALID);
        break;
    case K_GARBAGE:
        deliver(g, ci, i);
        deliver_garbage(g);
        break;
    default: /* K_REDELIVER: the same event_id, stamped anew (SPEC §3 Duplicates) */
        deliver(g, ci, i);
        c->refs++;
        g->st.redelivered++;
        cal_push(&g->cal, rel + rrange(r, REDELIVER_MIN_MS, g->o->redeliver_max_delay_ms), ci,
                 i << 4 | E_REDELIVER);
        break;
    }
    if (++c->cur < c->n) {
        cal_push(&g->cal, c->ev[c->cur].ts - g->base_ms, ci, E_CURSOR);
        return;
    }
    if (g->o->resume_rate > 0 && resume(g, ci)) {
        g->stop = 1;
        seterr(g, "gen: out of memory");
    }
    conv_release(g, ci);
}

static void on_entry(gen_t *g, const entry_t *e, script_t *sc)
{
    uint32_t ci = e->conv, i = e->aux >> 4;
    int64_t key = (int64_t)(e->k >> SEQ_BITS);
    switch (e->aux & 15) {
    case E_TICK:
        if (tick(g, e->conv, sc)) {
            g->stop = 1;
            seterr(g, "gen: out of memory");
        }
        return;
    case E_CURSOR:
        on_cursor(g, ci);
        return;
    case E_LATE:
        /* Late means behind the watermark when it arrives: wait until the
         * stream has moved more than the lateness past it (unless nothing
         * but late events is left). */
        if (!(g->has_max && moved(g, g->convs[ci].ev[i].ts) < g->max_ts - LATENESS_MS) &&
            cal_size(&g->cal) > g->late_pending - 1) {
            cal_push(&g->cal, key + SEC, ci, e->aux);
            return;
        }
        g->late_pending--;
        deliver(g, ci, i);
        break;
    case E_INVALID:
        deliver_invalid(g, ci, i, key + g->base_ms);
        break;
    case E_REDELIVER:
        deliver_at(g, ci, i, key + g->base_ms);
        break;
    default: /* E_DELAYED, E_DUP */
        deliver(g, ci, i);
        break;
    }
    conv_release(g, ci);
}

/* A bucket just became current: its conversations were last touched long
 * ago and are out of cache. Ask for all of them at once (memory-level
 * parallelism) instead of one miss per event. */
static void prefetch_bucket(const gen_t *g)
{
    const vec_t *h = &g->cal.cur;
    for (uint32_t i = 0; i < h->n; i++)
        if ((h->a[i].aux & 15) != E_TICK) __builtin_prefetch(&g->convs[h->a[i].conv]);
    for (uint32_t i = 0; i < h->n; i++) {
        if ((h->a[i].aux & 15) == E_TICK) continue;
        const conv_t *c = &g->convs[h->a[i].conv];
        uint32_t k = (h->a[i].aux & 15) == E_CURSOR ? c->cur : h->a[i].aux >> 4;
        __builtin_prefetch(&c->ev[k]);
    }
}

/* ----------------------------------------------------------------- API */

void rr_gen_opts_default(rr_gen_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->seed = 1;
    o->events = 1000000;
    o->days = 1;
    o->start_day = 20261122;
    o->utc_offset_min = 480;
    o->shops = 0;
    o->zipf_exponent = 1.1;
    o->disorder_ms = 4000;
    o->redeliver_max_delay_ms = 5 * HOUR;
    o->conversation_ttl_ms = 6 * HOUR;
    o->jump_at_hour = 24;
}

int rr_gen_opts_check(const rr_gen_opts_t *o, char *errstr, size_t errstr_size)
{
#define BAD(...)                                                                                   \
    do {                                                                                           \
        if (errstr && errstr_size) snprintf(errstr, errstr_size, __VA_ARGS__);                     \
        return -1;                                                                                 \
    } while (0)
    if (o->events < 1 || o->events > UINT64_C(1) << 40)
        BAD("events must be in 1..2^40 (got %llu)", (unsigned long long)o->events);
    if (o->days < 1 || o->days > 3660) BAD("days must be in 1..3660 (got %u)", o->days);
    if (!valid_date(o->start_day))
        BAD("start day %d is not a date YYYYMMDD in 1971..9990", (int)o->start_day);
    if (o->utc_offset_min < -18 * 60 || o->utc_offset_min > 18 * 60)
        BAD("UTC offset %d min is out of range", (int)o->utc_offset_min);
    if (!(o->brief_share >= 0 && o->brief_share <= 1))
        BAD("brief share must be in 0..1 (got %g)", o->brief_share);
    if (o->shops > 10000000) BAD("shops must be at most 10000000 (got %u)", o->shops);
    if (!(o->zipf_exponent >= 0 && o->zipf_exponent <= 10)) BAD("zipf exponent must be in 0..10");
    if (!(o->top_shop_share >= 0 && o->top_shop_share <= 0.95))
        BAD("top shop share must be in 0..0.95");
    const double rates[] = {o->duplicate_rate, o->disorder_rate, o->late_rate,
                            o->invalid_rate,   o->garbage_rate,  o->redeliver_rate};
    static const char *names[] = {"duplicate", "disorder", "late",
                                  "invalid",   "garbage",  "redeliver"};
    double sum = 0;
    for (int k = 0; k < 6; k++) {
        if (!(rates[k] >= 0 && rates[k] <= 1))
            BAD("%s rate must be in 0..1 (got %g)", names[k], rates[k]);
        sum += rates[k];
    }
    if (sum > 1 + 1e-12) BAD("the knob rates add up to %g, more than 1", sum);
    if (o->disorder_ms < 1 || o->disorder_ms > LATENESS_MS)
        BAD("disorder ms must be in 1..%lld (the allowed lateness; got %lld)",
            (long long)LATENESS_MS, (long long)o->disorder_ms);
    if (o->garbage_rate > 0 && !o->emit_raw)
        BAD("a garbage rate needs a raw record writer (emit_raw)");
    if (o->redeliver_max_delay_ms < REDELIVER_MIN_MS || o->redeliver_max_delay_ms > 7 * DAY)
        BAD("redeliver max delay must be in 20 min..7 days (got %lld ms)",
            (long long)o->redeliver_max_delay_ms);
    if (!(o->resume_rate >= 0 && o->resume_rate <= 1))
        BAD("resume rate must be in 0..1 (got %g)", o->resume_rate);
    if (o->conversation_ttl_ms < HORIZON_MS || o->conversation_ttl_ms > 366 * DAY)
        BAD("conversation ttl must be in 1 h..366 days (got %lld ms)",
            (long long)o->conversation_ttl_ms);
    if (o->stale_events > 1000000)
        BAD("stale events must be at most 1000000 (got %u)", o->stale_events);
    if (o->jump_days && (o->jump_days < 2 || o->jump_days > 3660))
        BAD("jump days must be 0 or in 2..3660 (got %u)", o->jump_days);
    if (o->jump_days && (o->jump_at_hour < 1 || o->jump_at_hour >= o->days * 24))
        BAD("jump at hour must be in 1..%u, inside the %u day(s) of traffic (got %u)",
            o->days * 24 - 1, o->days, o->jump_at_hour);
    return 0;
#undef BAD
}

static void gen_free(gen_t *g)
{
    cal_free(&g->cal);
    for (size_t i = 0; i < g->n_blocks; i++)
        free(g->blocks[i]);
    free(g->blocks);
    free(g->convs);
    free(g->free_convs);
    free(g->seats);
    free(g->cdf);
    free(g->shops);
    free(g->offs);
    free(g->rsc);
}

int rr_gen_run(const rr_gen_opts_t *o, int (*emit)(void *opaque, const rr_event_t *ev),
               void *opaque, char *errstr, size_t errstr_size)
{
    if (rr_gen_opts_check(o, errstr, errstr_size)) return -1;
    int rc = -1;
    gen_t *g = calloc(1, sizeof *g);
    script_t *sc = malloc(sizeof *sc);
    if (!g || !sc) {
        if (errstr && errstr_size) snprintf(errstr, errstr_size, "gen: out of memory");
        free(g);
        free(sc);
        return -1;
    }
    g->o = o;
    g->emit = emit;
    g->opaque = opaque;
    g->errstr = errstr;
    g->errstr_size = errstr_size;
    g->cal.cur_slot = -1;
    rng_seed(&g->model, o->seed, 1);
    rng_seed(&g->knob, o->seed, 2);

    int32_t d = o->start_day;
    g->base_ms = (int64_t)rr_yyyymmdd_to_day(d) * DAY - (int64_t)o->utc_offset_min * MIN;
    g->minutes = o->days * 1440u;
    build_curve(g);

    rng_t *r = &g->model;
    g->conv_base = UINT64_C(1000000000000) + rbelow(r, UINT64_C(1) << 32) * 1000;
    g->ev_base = UINT64_C(1000000000000000) + rbelow(r, UINT64_C(1) << 32) * 1000000;
    g->agent_base = 1000000 + rbelow(r, 1000000);
    g->buyer_base = 100000000 + rbelow(r, 100000000);
    g->buyer_space = 3 * (uint64_t)((double)o->events / prior_events_per_conv(o)) + 1024;
    if (g->buyer_space > UINT32_MAX) g->buyer_space = UINT32_MAX;
    g->flag_salt = rnext(r);

    uint64_t shops = o->shops ? o->shops : o->events / o->days / 2000;
    if (shops < 1) shops = 1;
    if (shops > 10000000) shops = 10000000;
    g->n_shops = (uint32_t)shops;
    if (build_shops(g)) {
        seterr(g, "gen: out of memory building %u shops", g->n_shops);
        goto done;
    }

    const double rates[] = {o->duplicate_rate, o->disorder_rate, o->late_rate,
                            o->invalid_rate,   o->garbage_rate,  o->redeliver_rate};
    double acc = 0;
    for (int k = 0; k < 6; k++) {
        acc += rates[k];
        g->thr[k] = acc;
        g->any_knob |= rates[k] > 0;
    }
    /* Conversation lives are not emulated: a re-delivery must come before
     * the conversation can be over, also between two model events. */
    g->st.expect_exact =
        o->resume_rate == 0 &&
        (o->redeliver_rate == 0 || (o->redeliver_max_delay_ms <= o->conversation_ttl_ms &&
                                    o->conversation_ttl_ms >= MAX_GAP_MS));
    g->jump_cut = o->jump_days ? g->base_ms + (int64_t)o->jump_at_hour * HOUR : INT64_MAX;
    g->jump_ms = (int64_t)o->jump_days * DAY;
    if (o->resume_rate > 0 && !(g->rsc = malloc(sizeof *g->rsc))) {
        seterr(g, "gen: out of memory");
        goto done;
    }
    for (uint32_t k = 0; k < o->stale_events && !g->stop; k++)
        deliver_stale(g, k);

    cal_push(&g->cal, 0, 0, E_TICK);
    entry_t e;
    int64_t slot = g->cal.cur_slot;
    while (!g->stop && cal_pop(&g->cal, &e)) {
        if (g->cal.cur_slot != slot) {
            slot = g->cal.cur_slot;
            prefetch_bucket(g);
        }
        on_entry(g, &e, sc);
        if (g->cal.oom) break;
    }
    if (g->cal.oom) seterr(g, "gen: out of memory");
    if (g->stop || g->cal.oom) goto done;
    g->st.expect_invalid += g->held; /* jumps held at the end of the stream */
    if (g->st.last_ts_ms >= g->jump_cut) g->st.last_ts_ms += g->jump_ms;
    if (g->st.first_ts_ms >= g->jump_cut) g->st.first_ts_ms += g->jump_ms;
    rc = 0;

done:
    g->st.model_events = g->committed;
    g->st.conversations = g->n_conv_started;
    if (o->stats) *o->stats = g->st;
    gen_free(g);
    free(g);
    free(sc);
    return rc;
}
