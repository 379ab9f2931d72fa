/* bench/compact.c: the prototype of issue 16's next design step (compact.h).
 *
 * What it changes against the engine (src/engine/), and only that:
 *
 *   - one 128-byte record per conversation for its whole life, no hot/cold
 *     split and no separate conv-day records: line 0 is what acceptance
 *     reads (id, shop, buyer, last ts, a 64-bit bloom word, the first event
 *     id and up to 15 bytes of later ids as zigzag varints of their
 *     difference from it), line 1 what a release changes (phase, agents,
 *     and the newest conv-day inline: 24 bytes). Event ids past those bytes
 *     go to a pooled block; conv-days of earlier days (a conversation over
 *     midnight) to a side store; ratings to a per-day list;
 *   - the current rounds (32 bytes each, 32-bit offsets from the start) in
 *     a 128-byte block of their own, held only while a round waits for its
 *     reply: few conversations at a time, so the blocks stay in cache. A
 *     round still open across local midnight moves to a side table;
 *   - the default metric set compiled as straight code: its three round
 *     trackers (manual 08-23; effective 08-23; effective all day without
 *     internal and spam buyers) and their metrics, no loops over metric
 *     definitions.
 *
 * An earlier cut kept the rounds inline in a 192-byte record and one
 * 64-byte conv-day record per day (430 bytes per conversation with the
 * index and id blocks, against the engine's 303): 22% fewer instructions
 * on a small day, but no faster than the engine on the 20M day, where the
 * page faults of its memory cost what its instructions saved
 * (bench/results/2026-12-07-compact.md).
 *
 * What it keeps from the engine: the decoder, one hash per conversation id
 * and prefetching in 64-record chunks, acceptance in SPEC §7's order,
 * exact duplicates over a conversation's life, the reorder buffer
 * (engine/reorder.h) drained once per chunk, conv-days, shop-days and
 * agent-days with the engine's packed counts, finalisation with the same
 * folds, and violations with their reasons (held until known). Its records
 * are digested (digest.h) so a run compares them with the engine's, record
 * for record.
 *
 * What it leaves out: confirmed jumps (1000 in a row, counted as unsupported
 * so a run shows none were needed; fewer are invalid, as the engine judges
 * them), more than one partition, provisional revisions, checkpoints,
 * memory reclamation before the end, alerts. Single-threaded; cmp_free
 * releases everything.
 */
#include "compact.h"

#include <stdlib.h>
#include <string.h>

#include "base/bigmem.h"
#include "base/map.h"
#include "base/pool.h"
#include "codec/decode.h"
#include "engine/reorder.h"
#include "replyrate/config.h"
#include "replyrate/event.h"

#define CHUNK 64
#define AHEAD 8
#define NONE UINT32_MAX
#define NO_TS INT64_MIN
#define H_MS INT64_C(3600000)
#define LATENESS_MS INT64_C(5000)
#define MAX_FUTURE_MS INT64_C(86400000)
#define TTL_MS INT64_C(21600000)
#define T_MS INT64_C(180000)
#define W_FROM (8 * 3600000)
#define W_TO (23 * 3600000)
#define EXCL (RR_EXCLUDE_INTERNAL | RR_EXCLUDE_SPAM)

/* the default metric set, in its order (metrics/config.c) */
enum { M_MSG, M_SESS, M_SAT, M_UNAS, M_BUYER, M_EFF, M_TRATE, M_RT, N_METRICS };
static const char *const metric_name[N_METRICS] = {
    "douyin_msg_3min", "douyin_session_3min", "douyin_satisfaction", "douyin_unassigned",
    "pdd_buyer_3min",  "pdd_effective_reply", "tmall_reply_rate",    "tmall_response_time"};
/* packed counts, as the engine's: two per metric, response time 11 */
enum { C_NUM, C_DEN, C_UNANS, C_BUCKET };
#define OFF(m) ((m)*2)
#define N_COUNTS (OFF(M_RT) + C_BUCKET + RR_BUCKETS)

/* round trackers */
enum { T_MANUAL, T_EFF_DAY, T_EFF_ALL, NTRK };
#define CDF_HAS 1u
#define CDF_ANY_REPLIED 2u
#define CDF_LAST_REPLIED 4u

/* a tracker's round state byte */
#define RS_ACTIVE 1u
#define RS_SPILL 2u /* pending ts in a spilled vector: pin[0] indexes it */
#define RS_PREV 4u  /* a previous-day round waits in the side table */
#define RS_PIN_SH 3 /* pins held, bits 3-4 */
#define RS_PIN_MASK (3u << RS_PIN_SH)

typedef struct cround {
    int64_t start;
    uint64_t agent; /* latest AGENT_ASSIGNED before the start; 0 none */
    uint32_t last;  /* latest message ts - start (a round is < 2 days) */
    uint32_t msgs;
    uint32_t pin[2]; /* pending message ts - start, or pin[0]: a spilled vector */
} cround_t;

/* What a conversation's local day needs at finalisation, but its rating. */
#define NO_DAY INT32_MIN
#define CB_SESS 1u  /* douyin_session_3min: a round of the day waited too long */
#define CB_BUYER 2u /* pdd_buyer_3min: likewise */
#define CB_UNAS 4u  /* douyin_unassigned: a buyer message in the manual phase */
typedef struct cdv {
    uint64_t key_eid; /* T_EFF_ALL's last in-scope message (tmall_reply_rate requires the last) */
    int32_t day;      /* NO_DAY: none */
    uint32_t shopday;
    uint32_t key_tod; /* ... its ts - the day's start */
    uint8_t flags[NTRK];
    uint8_t bits;
} cdv_t;

#define CF_MANUAL 1u   /* in its manual phase */
#define CF_DETACHED 2u /* over; a new conversation has its id */
#define CF_OLD 4u      /* conv-days of earlier days wait in the side store */

typedef struct cconv {
    /* line 0: acceptance */
    uint64_t id, shop, buyer;
    int64_t last_ts;
    uint64_t bloom;
    uint64_t id0;    /* its first event id; 0 none yet */
    uint8_t idb[15]; /* later ids: zigzag varints of id - id0 */
    uint8_t idb_len;
    /* line 1: a release */
    int64_t first_agent_ts;
    uint64_t cur_agent;
    uint32_t more;     /* ids past idb: a block, or NONE */
    uint32_t act;      /* its current rounds (act_t) while one is open, or NONE */
    uint32_t ad_cache; /* agent-day of the last resolved round */
    uint8_t cflags;
    uint8_t rs[NTRK];
    cdv_t cd; /* its newest conv-day */
    uint64_t pad;
} cconv_t;
_Static_assert(sizeof(cconv_t) == 128, "two cache lines");

typedef struct act { /* the current rounds of a conversation waiting for a reply */
    cround_t r[NTRK];
    uint64_t pad[4];
} act_t;
_Static_assert(sizeof(act_t) == 128, "two cache lines");

typedef struct prevr { /* a round split by midnight, waiting for its reply */
    cround_t r;
    uint8_t rs;
} prevr_t;

typedef struct tsv {
    uint32_t head, n, cap, pad;
    int64_t ts[];
} tsv_t;

typedef struct idblk {
    uint32_t len, cap;
    uint8_t b[];
} idblk_t;

typedef struct ccd { /* an earlier conv-day, in the side store */
    cdv_t v;
    uint32_t conv, next;
} ccd_t;

typedef struct csat { /* a conversation's rating of a day (the last one counts) */
    uint64_t agent;
    uint32_t conv, shopday;
    uint8_t rating;
} csat_t;

typedef struct csd {
    uint64_t shop;
    int32_t day;
    uint32_t ad0;
    int64_t c[N_COUNTS];
} csd_t;

typedef struct cad {
    uint64_t shop, agent;
    int32_t day;
    uint32_t pad;
    int64_t c[N_COUNTS];
} cad_t;

typedef struct cviol {
    uint64_t shop, conv_id, buyer, agent;
    int64_t start, reply;
    uint32_t conv, msgs;
    uint8_t metric, answered;
} cviol_t;

#define VEC(T)                                                                                     \
    struct {                                                                                       \
        T *v;                                                                                      \
        size_t n, cap;                                                                             \
    }

static int reserve(void **v, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return 0;
    size_t c = *cap ? *cap * 2 : 64;
    while (c < need)
        c *= 2;
    void *nv = rr_big_realloc(*v, *cap * elem, c * elem);
    if (!nv) return -1;
    *v = nv;
    *cap = c;
    return 0;
}
#define PUSH(vec, x)                                                                               \
    (reserve((void **)&(vec).v, &(vec).cap, (vec).n + 1, sizeof *(vec).v) == 0                     \
         ? ((vec).v[(vec).n++] = (x), 0)                                                           \
         : -1)
#define VFREE(vec) rr_big_free((vec).v, (vec).cap * sizeof *(vec).v)

typedef struct cday {
    int32_t day;
    int64_t end_ms;
    VEC(uint32_t) convs; /* conversations with a conv-day this day */
    VEC(uint32_t) sds;
    VEC(uint32_t) ads;
    VEC(cviol_t) viols;
    VEC(csat_t) sats;
} cday_t;

typedef struct bacc { /* a (shop, buyer) during finalisation, per buyer metric */
    uint64_t last_eid;
    uint32_t last_tod;
    uint32_t shopday;
    uint8_t has, flag, last_replied;
} bacc_t;

struct cmp {
    const rr_tz_t *tz;
    rr_tz_cache_t tzc;
    rr_map64_t index; /* conversation id -> record */
    VEC(cconv_t) convs;
    VEC(act_t) acts;
    VEC(uint32_t) act_free;
    VEC(ccd_t) old; /* earlier conv-days */
    VEC(uint32_t) old_free;
    rr_map64_t old_map; /* conversation -> its newest earlier conv-day */
    rr_map3_t sat_map;  /* (conversation, day) -> its csat_t in the day */
    VEC(csd_t) sds;
    VEC(cad_t) ads;
    rr_map3_t sd_map, ad_map, buyer_map;
    VEC(bacc_t) bacc;    /* 3 per (shop, buyer) */
    VEC(uint64_t) bkeys; /* (shop, buyer) pairs in buyer_map, to empty it */
    VEC(prevr_t) prev;
    VEC(uint32_t) prev_free;
    rr_map64_t prev_map; /* conversation * NTRK + tracker -> prev */
    VEC(tsv_t *) spills;
    VEC(uint32_t) spill_free;
    VEC(idblk_t *) blocks;
    rr_pool_t pool;
    VEC(cday_t) days;
    rr_reorder_t buf;
    int64_t max_ts, final_through;
    int64_t jump_run; /* jumps since the last applied event */
    int oom;
    cmp_counts_t counts;
    rr_digest_t dg;
};

/* ---- small parts ---------------------------------------------------------- */

static inline int rs_pins(uint8_t rs)
{
    return (rs & RS_PIN_MASK) >> RS_PIN_SH;
}

static inline uint8_t rs_with_pins(uint8_t rs, int n)
{
    return (uint8_t)((rs & ~RS_PIN_MASK) | ((unsigned)n << RS_PIN_SH));
}

static inline int32_t day_of(cmp_t *s, int64_t ts)
{
    int32_t d, tod;
    rr_tz_local(s->tz, &s->tzc, ts, &d, &tod);
    return d;
}

static inline uint64_t bloom_bit(uint64_t id)
{
    return UINT64_C(1) << ((id * UINT64_C(0x9e3779b97f4a7c15)) >> 58);
}

static inline uint64_t zigzag(uint64_t d)
{
    return (d << 1) ^ (uint64_t) - (int64_t)(d >> 63);
}

/* Is zigzag value z among the varints of b[0..len)? */
static inline int varints_have(const uint8_t *b, uint32_t len, uint64_t z)
{
    for (uint32_t i = 0; i < len;) {
        uint64_t v = 0;
        int sh = 0;
        uint8_t x;
        do {
            x = b[i++];
            v |= (uint64_t)(x & 0x7f) << sh;
            sh += 7;
        } while (x & 0x80);
        if (v == z) return 1;
    }
    return 0;
}

static int ids_has(const cmp_t *s, const cconv_t *c, uint64_t id)
{
    if (c->id0 == id) return 1;
    uint64_t z = zigzag(id - c->id0);
    if (varints_have(c->idb, c->idb_len, z)) return 1;
    if (c->more == NONE) return 0;
    const idblk_t *b = s->blocks.v[c->more];
    return varints_have(b->b, b->len, z);
}

static int ids_add(cmp_t *s, cconv_t *c, uint64_t id)
{
    c->bloom |= bloom_bit(id);
    if (!c->id0) {
        c->id0 = id;
        return 0;
    }
    uint8_t v[10];
    uint32_t n = 0;
    uint64_t z = zigzag(id - c->id0);
    for (; z >= 0x80; z >>= 7)
        v[n++] = (uint8_t)(z | 0x80);
    v[n++] = (uint8_t)z;
    if (c->idb_len + n <= sizeof c->idb) {
        memcpy(c->idb + c->idb_len, v, n);
        c->idb_len = (uint8_t)(c->idb_len + n);
        return 0;
    }
    idblk_t *b;
    if (c->more == NONE) {
        size_t got;
        if (!(b = rr_pool_get(&s->pool, sizeof *b + 24, &got))) return -1;
        b->len = 0;
        b->cap = (uint32_t)(got - sizeof *b);
        c->more = (uint32_t)s->blocks.n;
        if (PUSH(s->blocks, b) < 0) return -1;
    }
    b = s->blocks.v[c->more];
    if (b->len + n > b->cap) {
        size_t got;
        idblk_t *nb = rr_pool_get(&s->pool, sizeof *b + (size_t)b->cap * 2, &got);
        if (!nb) return -1;
        memcpy(nb, b, sizeof *b + b->len);
        nb->cap = (uint32_t)(got - sizeof *b);
        rr_pool_put(&s->pool, b, sizeof *b + b->cap);
        s->blocks.v[c->more] = b = nb;
    }
    memcpy(b->b + b->len, v, n);
    b->len += n;
    return 0;
}

/* ---- current rounds ------------------------------------------------------ */

static inline cround_t *rnd(cmp_t *s, const cconv_t *c, int t)
{
    return &s->acts.v[c->act].r[t];
}

/* Give back c's round block once none of its rounds is open. */
static void act_release(cmp_t *s, cconv_t *c)
{
    if (c->act == NONE || ((c->rs[0] | c->rs[1] | c->rs[2]) & RS_ACTIVE)) return;
    if (PUSH(s->act_free, c->act) < 0) s->oom = 1;
    c->act = NONE;
}

/* ---- pending timestamps of a round (engine/conv.c's, 32-bit pins) -------- */

static tsv_t *spill_of(cmp_t *s, const cround_t *r)
{
    return s->spills.v[r->pin[0]];
}

static void pend_free(cmp_t *s, cround_t *r, uint8_t *rs)
{
    if (*rs & RS_SPILL) {
        tsv_t *p = spill_of(s, r);
        rr_pool_put(&s->pool, p, sizeof *p + (size_t)p->cap * 8);
        if (PUSH(s->spill_free, r->pin[0]) < 0) s->oom = 1;
    }
    *rs = rs_with_pins((uint8_t)(*rs & ~RS_SPILL), 0);
}

static int pend_push(cmp_t *s, cround_t *r, uint8_t *rs, int64_t ts)
{
    if (!(*rs & RS_SPILL)) {
        int n = rs_pins(*rs), k = 0;
        while (k < n && r->start + r->pin[k] < ts - T_MS)
            k++;
        for (int i = k; i < n; i++)
            r->pin[i - k] = r->pin[i];
        n -= k;
        if (n < 2) {
            r->pin[n++] = (uint32_t)(ts - r->start);
            *rs = rs_with_pins(*rs, n);
            return 0;
        }
        size_t got;
        tsv_t *np = rr_pool_get(&s->pool, sizeof *np + 4 * 8, &got);
        if (!np) return -1;
        np->cap = (uint32_t)((got - sizeof *np) / 8);
        np->head = 0;
        for (np->n = 0; np->n < 2; np->n++)
            np->ts[np->n] = r->start + r->pin[np->n];
        uint32_t slot;
        if (s->spill_free.n) {
            slot = s->spill_free.v[--s->spill_free.n];
            s->spills.v[slot] = np;
        } else {
            slot = (uint32_t)s->spills.n;
            if (PUSH(s->spills, np) < 0) return -1;
        }
        r->pin[0] = slot;
        *rs = rs_with_pins((uint8_t)(*rs | RS_SPILL), 0);
    }
    tsv_t *p = spill_of(s, r);
    while (p->head < p->n && p->ts[p->head] < ts - T_MS)
        p->head++;
    if (p->head == p->n) p->head = p->n = 0;
    if (p->n == p->cap) {
        if (p->head > 0) {
            memmove(p->ts, p->ts + p->head, (size_t)(p->n - p->head) * 8);
            p->n -= p->head;
            p->head = 0;
        } else {
            size_t got;
            tsv_t *np = rr_pool_get(&s->pool, sizeof *np + (size_t)p->cap * 2 * 8, &got);
            if (!np) return -1;
            np->cap = (uint32_t)((got - sizeof *np) / 8);
            np->head = 0;
            np->n = p->n;
            memcpy(np->ts, p->ts, (size_t)p->n * 8);
            rr_pool_put(&s->pool, p, sizeof *p + (size_t)p->cap * 8);
            s->spills.v[r->pin[0]] = p = np;
        }
    }
    p->ts[p->n++] = ts;
    return 0;
}

static uint32_t pend_count_since(cmp_t *s, const cround_t *r, uint8_t rs, int64_t since)
{
    uint32_t k = 0;
    if (!(rs & RS_SPILL)) {
        for (int i = rs_pins(rs); i > 0 && r->start + r->pin[i - 1] >= since; i--)
            k++;
        return k;
    }
    const tsv_t *p = spill_of(s, r);
    for (uint32_t i = p->n; i > p->head && p->ts[i - 1] >= since; i--)
        k++;
    return k;
}

/* ---- days, shop-days, agent-days, conv-days ----------------------------- */

static cday_t *day_get(cmp_t *s, int32_t d)
{
    size_t i = s->days.n;
    while (i > 0 && s->days.v[i - 1].day > d)
        i--;
    if (i > 0 && s->days.v[i - 1].day == d) return &s->days.v[i - 1];
    if (reserve((void **)&s->days.v, &s->days.cap, s->days.n + 1, sizeof(cday_t)) < 0) return NULL;
    memmove(&s->days.v[i + 1], &s->days.v[i], (s->days.n - i) * sizeof(cday_t));
    s->days.n++;
    cday_t *dy = &s->days.v[i];
    memset(dy, 0, sizeof *dy);
    dy->day = d;
    dy->end_ms = rr_tz_day_end(s->tz, d);
    return dy;
}

static uint32_t shopday(cmp_t *s, uint64_t shop, int32_t d)
{
    uint32_t i = rr_map3_get(&s->sd_map, shop, (uint64_t)(int64_t)d, 0);
    if (i != NONE) return i;
    cday_t *dy = day_get(s, d);
    csd_t z = {.shop = shop, .day = d, .ad0 = NONE};
    i = (uint32_t)s->sds.n;
    if (!dy || PUSH(s->sds, z) < 0 ||
        rr_map3_put(&s->sd_map, shop, (uint64_t)(int64_t)d, 0, i) < 0 || PUSH(dy->sds, i) < 0) {
        s->oom = 1;
        return NONE;
    }
    return i;
}

static uint32_t agentday(cmp_t *s, uint64_t shop, uint64_t agent, int32_t d)
{
    uint32_t i = rr_map3_get(&s->ad_map, shop, agent, (uint64_t)(int64_t)d);
    if (i != NONE) return i;
    cday_t *dy = day_get(s, d);
    cad_t z = {.shop = shop, .agent = agent, .day = d};
    i = (uint32_t)s->ads.n;
    if (!dy || PUSH(s->ads, z) < 0 ||
        rr_map3_put(&s->ad_map, shop, agent, (uint64_t)(int64_t)d, i) < 0 || PUSH(dy->ads, i) < 0) {
        s->oom = 1;
        return NONE;
    }
    return i;
}

/* Conversation ci's conv-day for local day d, created on first use: its
 * newest in the record, earlier ones in the side store; NULL out of memory. */
static cdv_t *convday_other(cmp_t *s, uint32_t ci, int32_t d)
{
    cconv_t *c = &s->convs.v[ci];
    if (c->cflags & CF_OLD)
        for (uint32_t k = rr_map64_get(&s->old_map, ci); k != NONE; k = s->old.v[k].next)
            if (s->old.v[k].v.day == d) return &s->old.v[k].v;
    uint32_t sd = shopday(s, c->shop, d);
    cday_t *dy = day_get(s, d);
    if (sd == NONE || !dy || PUSH(dy->convs, ci) < 0) {
        s->oom = 1;
        return NULL;
    }
    cdv_t fresh = {.day = d, .shopday = sd};
    if (c->cd.day == NO_DAY) {
        c->cd = fresh;
        return &c->cd;
    }
    /* into the side store: the record's conv-day when d is newer, else d's */
    uint32_t k;
    if (s->old_free.n) {
        k = s->old_free.v[--s->old_free.n];
    } else {
        ccd_t z = {.conv = ci};
        k = (uint32_t)s->old.n;
        if (PUSH(s->old, z) < 0) {
            s->oom = 1;
            return NULL;
        }
    }
    uint32_t head = (c->cflags & CF_OLD) ? rr_map64_del(&s->old_map, ci) : NONE;
    s->old.v[k].conv = ci;
    s->old.v[k].next = head;
    if (rr_map64_put(&s->old_map, ci, k) < 0) s->oom = 1;
    c->cflags |= CF_OLD;
    if (c->cd.day < d) {
        s->old.v[k].v = c->cd;
        c->cd = fresh;
        return &c->cd;
    }
    s->old.v[k].v = fresh;
    return &s->old.v[k].v;
}

static inline cdv_t *convday(cmp_t *s, uint32_t ci, int32_t d)
{
    cconv_t *c = &s->convs.v[ci];
    return c->cd.day == d ? &c->cd : convday_other(s, ci, d);
}

/* Forget ci's conv-day of day d (finalised). */
static void convday_drop(cmp_t *s, uint32_t ci, int32_t d)
{
    cconv_t *c = &s->convs.v[ci];
    if (c->cd.day == d) {
        c->cd.day = NO_DAY;
        return;
    }
    if (!(c->cflags & CF_OLD)) return;
    uint32_t head = rr_map64_del(&s->old_map, ci), *link = &head;
    while (*link != NONE && s->old.v[*link].v.day != d)
        link = &s->old.v[*link].next;
    if (*link != NONE) {
        uint32_t k = *link;
        *link = s->old.v[k].next;
        if (PUSH(s->old_free, k) < 0) s->oom = 1;
    }
    if (head == NONE)
        c->cflags &= (uint8_t)~CF_OLD;
    else if (rr_map64_put(&s->old_map, ci, head) < 0)
        s->oom = 1;
}

/* ---- rounds (engine/conv.c, specialised) -------------------------------- */

static void emit_violation(cmp_t *s, const cviol_t *v, int32_t day, rr_reason_t reason)
{
    rr_violation_record_t r = {.shop_id = v->shop,
                               .day = rr_day_to_yyyymmdd(day),
                               .metric = metric_name[v->metric],
                               .conversation_id = v->conv_id,
                               .buyer_id = v->buyer,
                               .agent_id = v->agent,
                               .round_start_ms = v->start,
                               .answered = v->answered,
                               .reply_ms = v->reply,
                               .messages = v->msgs,
                               .reason = reason,
                               .final = 1};
    rr_digest_violation(&s->dg, &r);
}

static rr_reason_t reason_of(const cviol_t *v, const cconv_t *c, int day_final)
{
    if (v->answered) return RR_REASON_LATE;
    if (c->first_agent_ts <= v->start + H_MS) return RR_REASON_NO_REPLY;
    if (c->first_agent_ts != INT64_MAX || day_final) return RR_REASON_UNASSIGNED;
    return (rr_reason_t)0;
}

static void violation(cmp_t *s, const cviol_t *v, int32_t day)
{
    rr_reason_t reason = reason_of(v, &s->convs.v[v->conv], 0);
    if (reason) {
        emit_violation(s, v, day, reason);
        return;
    }
    cday_t *dy = day_get(s, day);
    if (!dy || PUSH(dy->viols, *v) < 0) s->oom = 1;
}

static int bucket_of(int64_t wait)
{
    static const int64_t upper[RR_BUCKETS - 1] = {15000,  30000,  60000, 120000,
                                                  180000, 300000, 600000};
    int b = 0;
    while (b < RR_BUCKETS - 1 && wait > upper[b])
        b++;
    return b;
}

/* Close tracker t's round r (of conversation ci), replied or not. */
static void resolve(cmp_t *s, uint32_t ci, int t, cround_t *r, uint8_t *rs, int replied,
                    int64_t reply_ts, uint64_t reply_agent)
{
    cconv_t *c = &s->convs.v[ci];
    int answered = replied && reply_ts - r->start <= H_MS;
    int64_t wait = answered ? reply_ts - r->start : -1;
    uint64_t agent = r->agent ? r->agent : (answered ? reply_agent : 0);
    int32_t day = day_of(s, r->start);
    cdv_t *cd = convday(s, ci, day);
    if (!cd) return;
    int last_replied = replied && reply_ts - (r->start + r->last) <= H_MS;
    cd->flags[t] = (uint8_t)((cd->flags[t] & ~CDF_LAST_REPLIED) |
                             (last_replied ? CDF_ANY_REPLIED | CDF_LAST_REPLIED : 0));
    csd_t *sd = &s->sds.v[cd->shopday];
    cad_t *ad = NULL;
    if (t != T_EFF_DAY) { /* message_within and response_time count per agent */
        uint32_t ai;
        if (!agent) {
            if ((ai = sd->ad0) == NONE) ai = agentday(s, c->shop, 0, day);
            sd = &s->sds.v[cd->shopday];
            sd->ad0 = ai;
        } else if ((ai = c->ad_cache) == NONE || s->ads.v[ai].shop != c->shop ||
                   s->ads.v[ai].agent != agent || s->ads.v[ai].day != day) {
            ai = c->ad_cache = agentday(s, c->shop, agent, day);
            sd = &s->sds.v[cd->shopday];
        }
        if (ai != NONE) ad = &s->ads.v[ai];
    }
    if (t == T_MANUAL) {
        int bad = !answered || wait > T_MS;
        uint32_t within = replied ? pend_count_since(s, r, *rs, reply_ts - T_MS) : 0;
        sd->c[OFF(M_MSG) + C_DEN] += r->msgs;
        sd->c[OFF(M_MSG) + C_NUM] += within;
        if (ad) {
            ad->c[OFF(M_MSG) + C_DEN] += r->msgs;
            ad->c[OFF(M_MSG) + C_NUM] += within;
        }
        if (bad) {
            cd->bits |= CB_SESS | CB_BUYER;
            cviol_t v = {.shop = c->shop,
                         .conv_id = c->id,
                         .buyer = c->buyer,
                         .agent = agent,
                         .start = r->start,
                         .reply = answered ? reply_ts : 0,
                         .conv = ci,
                         .msgs = r->msgs,
                         .answered = (uint8_t)answered};
            static const uint8_t ms[3] = {M_MSG, M_SESS, M_BUYER};
            for (int i = 0; i < 3; i++) {
                v.metric = ms[i];
                violation(s, &v, day);
            }
        }
    } else if (t == T_EFF_ALL) {
        int64_t *sc = sd->c + OFF(M_RT), *ac = ad ? ad->c + OFF(M_RT) : NULL;
        if (answered) {
            int b = bucket_of(wait);
            sc[C_NUM] += wait;
            sc[C_DEN]++;
            sc[C_BUCKET + b]++;
            if (ac) {
                ac[C_NUM] += wait;
                ac[C_DEN]++;
                ac[C_BUCKET + b]++;
            }
        } else {
            sc[C_UNANS]++;
            if (ac) ac[C_UNANS]++;
        }
    }
    pend_free(s, r, rs);
    *rs = (uint8_t)(*rs & ~RS_ACTIVE);
}

static uint64_t prev_key(uint32_t ci, int t)
{
    return (uint64_t)ci * NTRK + (uint64_t)t;
}

/* Tracker t's previous-day round of ci, resolved and dropped. */
static void resolve_prev(cmp_t *s, uint32_t ci, int t, int replied, int64_t ts, uint64_t agent)
{
    uint32_t i = rr_map64_del(&s->prev_map, prev_key(ci, t));
    prevr_t *p = &s->prev.v[i];
    resolve(s, ci, t, &p->r, &p->rs, replied, ts, agent);
    if (PUSH(s->prev_free, i) < 0) s->oom = 1;
    s->convs.v[ci].rs[t] &= (uint8_t)~RS_PREV;
}

static void on_reply(cmp_t *s, uint32_t ci, const rr_pending_t *x, int manual)
{
    cconv_t *c = &s->convs.v[ci];
    for (int t = manual ? T_MANUAL : T_EFF_DAY; t < NTRK; t++) {
        if (c->rs[t] & RS_PREV) resolve_prev(s, ci, t, 1, x->ts, x->agent);
        if (c->rs[t] & RS_ACTIVE) resolve(s, ci, t, rnd(s, c, t), &c->rs[t], 1, x->ts, x->agent);
    }
    act_release(s, c);
}

static void on_session_end(cmp_t *s, uint32_t ci)
{
    cconv_t *c = &s->convs.v[ci];
    for (int t = 0; t < NTRK; t++) {
        if (c->rs[t] & RS_PREV) resolve_prev(s, ci, t, 0, 0, 0);
        if (c->rs[t] & RS_ACTIVE) resolve(s, ci, t, rnd(s, c, t), &c->rs[t], 0, 0, 0);
    }
    act_release(s, c);
}

static void on_buyer(cmp_t *s, uint32_t ci, cdv_t *cd, const rr_pending_t *x, int32_t d,
                     int32_t tod)
{
    cconv_t *c = &s->convs.v[ci];
    int manual = (c->cflags & CF_MANUAL) != 0;
    int in_day = tod >= W_FROM && tod < W_TO;
    int in_scope[NTRK] = {in_day && manual, in_day, !(x->flags & EXCL)};
    for (int t = 0; t < NTRK; t++) {
        if (!in_scope[t]) continue;
        if ((c->rs[t] & RS_ACTIVE) && day_of(s, rnd(s, c, t)->start) != d) { /* midnight */
            if (c->rs[t] & RS_PREV) resolve_prev(s, ci, t, 0, 0, 0);
            uint32_t i;
            if (s->prev_free.n) {
                i = s->prev_free.v[--s->prev_free.n];
            } else {
                i = (uint32_t)s->prev.n;
                prevr_t z = {0};
                if (PUSH(s->prev, z) < 0) {
                    s->oom = 1;
                    return;
                }
            }
            s->prev.v[i].r = *rnd(s, c, t);
            s->prev.v[i].rs = (uint8_t)(c->rs[t] & (RS_ACTIVE | RS_SPILL | RS_PIN_MASK));
            if (rr_map64_put(&s->prev_map, prev_key(ci, t), i) < 0) s->oom = 1;
            c->rs[t] = RS_PREV;
        }
        if (c->act == NONE) {
            if (s->act_free.n) {
                c->act = s->act_free.v[--s->act_free.n];
            } else if (reserve((void **)&s->acts.v, &s->acts.cap, s->acts.n + 1, sizeof(act_t)) <
                       0) {
                s->oom = 1;
                return;
            } else {
                c->act = (uint32_t)s->acts.n++;
            }
        }
        cround_t *r = rnd(s, c, t);
        if (!(c->rs[t] & RS_ACTIVE)) {
            c->rs[t] = (uint8_t)(rs_with_pins(c->rs[t], 0) | RS_ACTIVE);
            r->start = x->ts;
            r->agent = c->cur_agent;
            r->msgs = 0;
        }
        r->msgs++;
        r->last = (uint32_t)(x->ts - r->start);
        if (t == T_MANUAL && pend_push(s, r, &c->rs[t], x->ts) < 0) s->oom = 1;
        cd->flags[t] = (uint8_t)((cd->flags[t] | CDF_HAS) & ~CDF_LAST_REPLIED);
        if (t == T_EFF_ALL) {
            cd->key_tod = (uint32_t)tod;
            cd->key_eid = x->eid;
        }
    }
    if (manual) cd->bits |= CB_UNAS; /* all day, no exclusions */
}

static void on_rating(cmp_t *s, uint32_t ci, const cdv_t *cd, const rr_pending_t *x, int32_t d)
{
    uint32_t sd = cd->shopday;
    cday_t *dy = day_get(s, d);
    if (!dy) {
        s->oom = 1;
        return;
    }
    uint32_t i = rr_map3_get(&s->sat_map, ci, (uint64_t)(int64_t)d, 0);
    if (i == NONE) {
        csat_t z = {.conv = ci, .shopday = sd};
        i = (uint32_t)dy->sats.n;
        if (PUSH(dy->sats, z) < 0 || rr_map3_put(&s->sat_map, ci, (uint64_t)(int64_t)d, 0, i) < 0) {
            s->oom = 1;
            return;
        }
    }
    dy->sats.v[i].rating = x->rating;
    dy->sats.v[i].agent = s->convs.v[ci].cur_agent;
}

static void apply(cmp_t *s, const rr_pending_t *x)
{
    uint32_t ci = x->conv;
    int32_t d, tod;
    rr_tz_local(s->tz, &s->tzc, x->ts, &d, &tod);
    cdv_t *cd = convday(s, ci, d);
    if (!cd) return;
    cconv_t *c = &s->convs.v[ci];
    switch (x->type) {
    case RR_EVENT_BUYER_MESSAGE:
        on_buyer(s, ci, cd, x, d, tod);
        break;
    case RR_EVENT_AGENT_MESSAGE:
        if (x->ts < c->first_agent_ts) c->first_agent_ts = x->ts;
        c->cflags |= CF_MANUAL;
        on_reply(s, ci, x, 1);
        break;
    case RR_EVENT_ROBOT_MESSAGE:
        on_reply(s, ci, x, 0);
        break;
    case RR_EVENT_AGENT_ASSIGNED:
        if (x->ts < c->first_agent_ts) c->first_agent_ts = x->ts;
        c->cur_agent = x->agent;
        c->cflags |= CF_MANUAL;
        break;
    case RR_EVENT_TRANSFER_TO_MANUAL:
        c->cflags |= CF_MANUAL;
        break;
    case RR_EVENT_SESSION_END:
        on_session_end(s, ci);
        break;
    case RR_EVENT_RATING:
        if ((c->cflags & CF_MANUAL) && tod >= W_FROM && tod < W_TO) on_rating(s, ci, cd, x, d);
        break;
    default:
        break;
    }
}

/* ---- finalisation (engine/day.c, specialised) ---------------------------- */

static const uint8_t buyer_metric[3] = {M_BUYER, M_EFF, M_TRATE};
static const uint8_t buyer_trk[3] = {T_MANUAL, T_EFF_DAY, T_EFF_ALL};

static void fold_buyer(cmp_t *s, const cconv_t *c, const cdv_t *cd)
{
    if (!((cd->flags[0] | cd->flags[1] | cd->flags[2]) & CDF_HAS)) return;
    uint32_t i = rr_map3_get(&s->buyer_map, c->shop, c->buyer, 0);
    if (i == NONE) {
        i = (uint32_t)(s->bacc.n / 3);
        if (reserve((void **)&s->bacc.v, &s->bacc.cap, s->bacc.n + 3, sizeof(bacc_t)) < 0 ||
            rr_map3_put(&s->buyer_map, c->shop, c->buyer, 0, i) < 0) {
            s->oom = 1;
            return;
        }
        memset(&s->bacc.v[s->bacc.n], 0, 3 * sizeof(bacc_t));
        s->bacc.n += 3;
        if (PUSH(s->bkeys, c->shop) < 0 || PUSH(s->bkeys, c->buyer) < 0) s->oom = 1;
    }
    bacc_t *acc = &s->bacc.v[(size_t)i * 3];
    for (int b = 0; b < 3; b++) {
        uint8_t cf = cd->flags[buyer_trk[b]];
        if (!(cf & CDF_HAS)) continue;
        bacc_t *a = &acc[b];
        a->shopday = cd->shopday;
        if (b == 0) {
            a->flag |= (cd->bits & CB_BUYER) != 0;
        } else if (b == 1) {
            a->flag |= (cf & CDF_ANY_REPLIED) != 0;
        } else if (!a->has || cd->key_tod > a->last_tod ||
                   (cd->key_tod == a->last_tod && cd->key_eid > a->last_eid)) {
            a->last_tod = cd->key_tod;
            a->last_eid = cd->key_eid;
            a->last_replied = (cf & CDF_LAST_REPLIED) != 0;
        }
        a->has = 1;
    }
}

static void flush_buyers(cmp_t *s)
{
    for (size_t i = 0; i < s->bacc.n; i += 3)
        for (int b = 0; b < 3; b++) {
            const bacc_t *a = &s->bacc.v[i + (size_t)b];
            if (!a->has) continue;
            int64_t *sc = s->sds.v[a->shopday].c + OFF(buyer_metric[b]);
            sc[C_NUM] += b == 0 ? !a->flag : b == 1 ? a->flag : a->last_replied;
            sc[C_DEN]++;
        }
    for (size_t i = 0; i + 1 < s->bkeys.n; i += 2)
        rr_map3_del(&s->buyer_map, s->bkeys.v[i], s->bkeys.v[i + 1], 0);
    s->bkeys.n = 0;
    s->bacc.n = 0;
}

static void fold_conv(cmp_t *s, size_t di, uint32_t ci)
{
    const int32_t day = s->days.v[di].day;
    cconv_t *c = &s->convs.v[ci];
    for (int t = 0; t < NTRK; t++) { /* rounds of the day still waiting went unanswered */
        if (c->rs[t] & RS_PREV) {
            const prevr_t *p = &s->prev.v[rr_map64_get(&s->prev_map, prev_key(ci, t))];
            if (day_of(s, p->r.start) == day) resolve_prev(s, ci, t, 0, 0, 0);
        }
        if ((c->rs[t] & RS_ACTIVE) && day_of(s, rnd(s, c, t)->start) == day)
            resolve(s, ci, t, rnd(s, c, t), &c->rs[t], 0, 0, 0);
    }
    act_release(s, c);
    const cdv_t *cd = convday(s, ci, day); /* exists: the day lists it */
    if (!cd) return;
    int64_t *sc = s->sds.v[cd->shopday].c;
    if (cd->flags[T_MANUAL] & CDF_HAS) {
        sc[OFF(M_SESS) + C_DEN]++;
        sc[OFF(M_SESS) + C_NUM] += !(cd->bits & CB_SESS);
    }
    if (cd->bits & CB_UNAS) {
        sc[OFF(M_UNAS) + C_DEN]++;
        sc[OFF(M_UNAS) + C_NUM] += c->first_agent_ts > s->days.v[di].end_ms + H_MS;
    }
    fold_buyer(s, c, cd);
    convday_drop(s, ci, day);
}

static void fold_sats(cmp_t *s, const cday_t *dy)
{
    for (size_t i = 0; i < dy->sats.n; i++) {
        const csat_t st = dy->sats.v[i];
        int good = st.rating >= 4;
        int64_t *sc = s->sds.v[st.shopday].c;
        sc[OFF(M_SAT) + C_DEN]++;
        sc[OFF(M_SAT) + C_NUM] += good;
        uint32_t ai = agentday(s, s->convs.v[st.conv].shop, st.agent, dy->day);
        if (ai != NONE) {
            s->ads.v[ai].c[OFF(M_SAT) + C_DEN]++;
            s->ads.v[ai].c[OFF(M_SAT) + C_NUM] += good;
        }
        rr_map3_del(&s->sat_map, st.conv, (uint64_t)(int64_t)dy->day, 0);
    }
}

static void expand(const int64_t *c, rr_value_t *v)
{
    memset(v, 0, N_METRICS * sizeof *v);
    for (int m = 0; m < N_METRICS; m++) {
        v[m].num = c[OFF(m) + C_NUM];
        v[m].den = c[OFF(m) + C_DEN];
    }
    v[M_RT].unanswered = c[OFF(M_RT) + C_UNANS];
    memcpy(v[M_RT].buckets, c + OFF(M_RT) + C_BUCKET, sizeof v[M_RT].buckets);
}

static void finalize_oldest(cmp_t *s)
{
    /* one shop at a time, as the engine does: the buyers' map stays small */
    const int32_t day = s->days.v[0].day;
    size_t n = s->days.v[0].convs.n;
    uint32_t *count = calloc(s->sds.n + 1, sizeof *count);
    uint32_t *key = malloc((n + 1) * sizeof *key), *by_shop = malloc((n + 1) * sizeof *by_shop);
    if (!count || !key || !by_shop) {
        s->oom = 1;
        free(count);
        free(key);
        free(by_shop);
        return;
    }
    for (size_t i = 0; i < n; i++) { /* each conversation's shop-day that day */
        key[i] = convday(s, s->days.v[0].convs.v[i], day)->shopday; /* exists: listed */
        count[key[i] + 1]++;
    }
    for (size_t i = 1; i <= s->sds.n; i++)
        count[i] += count[i - 1];
    for (size_t i = 0; i < n; i++)
        by_shop[count[key[i]]++] = s->days.v[0].convs.v[i];
    uint32_t shop_sd = NONE;
    for (size_t i = 0; i < n; i++) {
        if (i + 8 < n) __builtin_prefetch(&s->convs.v[by_shop[i + 8]].first_agent_ts);
        uint32_t sd = convday(s, by_shop[i], day)->shopday;
        if (sd != shop_sd) {
            flush_buyers(s);
            shop_sd = sd;
        }
        fold_conv(s, 0, by_shop[i]);
    }
    flush_buyers(s);
    free(count);
    free(key);
    free(by_shop);
    fold_sats(s, &s->days.v[0]);
    cday_t *dy = &s->days.v[0];
    int32_t ymd = rr_day_to_yyyymmdd(dy->day);
    rr_value_t v[N_METRICS];
    for (size_t i = 0; i < dy->sds.n; i++) {
        csd_t *sd = &s->sds.v[dy->sds.v[i]];
        expand(sd->c, v);
        rr_digest_day(&s->dg, 0, sd->shop, 0, ymd, v, N_METRICS);
        rr_map3_del(&s->sd_map, sd->shop, (uint64_t)(int64_t)dy->day, 0);
    }
    for (size_t i = 0; i < dy->ads.n; i++) {
        cad_t *ad = &s->ads.v[dy->ads.v[i]];
        if (ad->c[OFF(M_MSG) + C_DEN] || ad->c[OFF(M_SAT) + C_DEN] || ad->c[OFF(M_RT) + C_DEN] ||
            ad->c[OFF(M_RT) + C_UNANS]) {
            expand(ad->c, v);
            rr_digest_day(&s->dg, 1, ad->shop, ad->agent, ymd, v, N_METRICS);
        }
        rr_map3_del(&s->ad_map, ad->shop, ad->agent, (uint64_t)(int64_t)dy->day);
        ad->day = INT32_MIN;
    }
    for (size_t i = 0; i < dy->viols.n; i++) {
        const cviol_t *vi = &dy->viols.v[i];
        emit_violation(s, vi, dy->day, reason_of(vi, &s->convs.v[vi->conv], 1));
    }
    if (dy->end_ms + H_MS > s->final_through) s->final_through = dy->end_ms + H_MS;
    VFREE(dy->convs);
    VFREE(dy->sds);
    VFREE(dy->ads);
    VFREE(dy->viols);
    VFREE(dy->sats);
    memmove(&s->days.v[0], &s->days.v[1], (s->days.n - 1) * sizeof(cday_t));
    s->days.n--;
}

/* ---- the data path ---------------------------------------------------------- */

/* Release every buffered event below limit, in (ts, event_id) order: the
 * ring's in-order events in place, in runs ending at the heap's least (as
 * the engine's release does), then that one. */
static void drain(cmp_t *s, int64_t limit)
{
    rr_reorder_t *r = &s->buf;
    for (;;) {
        const rr_pending_t *hm = r->heap_n ? &r->heap[0] : NULL;
        const size_t mask = r->ring_cap - 1;
        while (r->ring_n) {
            const rr_pending_t *q = &r->ring[r->ring_head];
            if (q->ts >= limit || (hm && rr_pending_less(hm, q))) break;
            if (r->ring_n > 8)
                __builtin_prefetch(&s->convs.v[r->ring[(r->ring_head + 8) & mask].conv].cur_agent,
                                   1);
            if (r->ring_n > 4) {
                const cconv_t *c = &s->convs.v[r->ring[(r->ring_head + 4) & mask].conv];
                if (c->act != NONE) __builtin_prefetch(&s->acts.v[c->act], 1);
            }
            r->ring_head = (r->ring_head + 1) & mask;
            r->ring_n--;
            apply(s, q);
        }
        if (!hm || hm->ts >= limit) return;
        rr_pending_t x;
        rr_reorder_pop(r, &x); /* the heap's least: below the ring's head */
        apply(s, &x);
    }
}

static void advance(cmp_t *s)
{
    int64_t wm = s->max_ts == NO_TS ? NO_TS : s->max_ts - LATENESS_MS;
    drain(s, wm);
    while (s->days.n && wm > s->days.v[0].end_ms + H_MS)
        finalize_oldest(s);
}

static const char *static_invalid(const rr_event_t *ev)
{
    if (ev->type < 1 || ev->type > 10) return "type";
    if (!ev->event_id || !ev->shop_id || !ev->conversation_id) return "missing";
    if (ev->ts_ms < 1 || ev->ts_ms > RR_TS_MAX) return "ts";
    switch (ev->type) {
    case RR_EVENT_BUYER_MESSAGE:
        return ev->buyer_id ? NULL : "buyer";
    case RR_EVENT_AGENT_ASSIGNED:
        return ev->agent_id ? NULL : "agent";
    case RR_EVENT_RATING:
        return ev->rating >= 1 && ev->rating <= 5 ? NULL : "rating";
    default:
        return NULL;
    }
}

static uint32_t conv_new(cmp_t *s, const rr_event_t *ev)
{
    if (reserve((void **)&s->convs.v, &s->convs.cap, s->convs.n + 1, sizeof(cconv_t)) < 0)
        return NONE;
    uint32_t ci = (uint32_t)s->convs.n++;
    cconv_t *c = &s->convs.v[ci];
    memset(c, 0, sizeof *c);
    c->id = ev->conversation_id;
    c->shop = ev->shop_id;
    c->last_ts = INT64_MIN;
    c->first_agent_ts = INT64_MAX;
    c->more = c->act = c->ad_cache = NONE;
    c->cd.day = NO_DAY;
    if (rr_map64_put(&s->index, ev->conversation_id, ci) < 0) return NONE;
    return ci;
}

static int judge(cmp_t *s, const rr_event_t *ev, uint32_t ci, int64_t now_ms)
{
    int64_t wm = s->max_ts == NO_TS ? NO_TS : s->max_ts - LATENESS_MS;
    const char *why = static_invalid(ev);
    if (!why && ev->ts_ms - MAX_FUTURE_MS > now_ms) why = "ahead";
    if (!why && s->max_ts != NO_TS && ev->ts_ms - s->max_ts > MAX_FUTURE_MS) {
        /* the engine holds a jump and judges it invalid when an event is
         * applied after it, unless jump_confirm (1000) come in a row */
        if (++s->jump_run >= 1000) s->counts.unsupported++;
        why = "jump";
    }
    cconv_t *c = NULL;
    int over = 0;
    if (!why && ci != NONE) {
        c = &s->convs.v[ci];
        /* SPEC §3 Lifetime: quiet past the ttl and its last day final: this
         * event starts a new conversation under the id; the old record
         * stays for its open days */
        over = wm != NO_TS && wm > c->last_ts + TTL_MS &&
               wm > rr_tz_day_end(s->tz, day_of(s, c->last_ts)) + H_MS;
        if (over) c = NULL;
    }
    if (!why && c) {
        if (c->shop != ev->shop_id)
            why = "shop";
        else if (ev->type == RR_EVENT_BUYER_MESSAGE && c->buyer && c->buyer != ev->buyer_id)
            why = "buyer";
    }
    if (why) {
        s->counts.invalid++;
        return 0;
    }
    if ((wm != NO_TS && ev->ts_ms < wm) ||
        (s->final_through != NO_TS && ev->ts_ms <= s->final_through)) {
        s->counts.late++;
        return 0;
    }
    if (c && (c->bloom & bloom_bit(ev->event_id)) && ids_has(s, c, ev->event_id)) {
        s->counts.duplicate++;
        return 0;
    }
    if (!c) {
        if (over) {
            s->convs.v[rr_map64_del(&s->index, ev->conversation_id)].cflags |= CF_DETACHED;
        }
        if ((ci = conv_new(s, ev)) == NONE) return -1;
        c = &s->convs.v[ci];
    }
    if (ids_add(s, c, ev->event_id) < 0) return -1;
    if (ev->type == RR_EVENT_BUYER_MESSAGE && !c->buyer) c->buyer = ev->buyer_id;
    if (ev->ts_ms > c->last_ts) c->last_ts = ev->ts_ms;
    rr_pending_t x = {.ts = ev->ts_ms,
                      .eid = ev->event_id,
                      .agent = ev->agent_id,
                      .conv = ci,
                      .type = (uint8_t)ev->type,
                      .rating = (uint8_t)ev->rating,
                      .flags = (uint8_t)(ev->flags & 0xffu)};
    if (rr_reorder_push(&s->buf, &x) < 0) return -1;
    if (s->max_ts == NO_TS || ev->ts_ms > s->max_ts) s->max_ts = ev->ts_ms;
    s->counts.applied++;
    s->jump_run = 0;
    return 0;
}

static int chunk(cmp_t *s, const rr_record_t *recs, size_t n, int64_t now_ms)
{
    rr_event_t ev[CHUNK];
    uint64_t h[CHUNK];
    uint32_t ci[CHUNK];
    uint8_t ok[CHUNK];
    for (size_t k = 0; k < n; k++) { /* decode, hash once, start loading the slot */
        ok[k] = recs[k].status == RR_FRAME_OK &&
                rr_decode_event(recs[k].data, recs[k].len, &ev[k]) == RR_DECODE_OK;
        if (!ok[k]) continue;
        h[k] = rr_hash64(ev[k].conversation_id);
        __builtin_prefetch(&s->index.slots[h[k] & s->index.mask]);
    }
    for (size_t k = 0; k < n; k++) {
        if (k + AHEAD < n && ok[k + AHEAD]) { /* look up ahead, start loading line 0 */
            ci[k + AHEAD] = rr_map64_get_h(&s->index, ev[k + AHEAD].conversation_id, h[k + AHEAD]);
            if (ci[k + AHEAD] != NONE) __builtin_prefetch(&s->convs.v[ci[k + AHEAD]]);
        }
        if (!ok[k]) {
            s->counts.invalid++;
            continue;
        }
        /* the first AHEAD, and any conversation an earlier record created */
        uint32_t c = k < AHEAD ? NONE : ci[k];
        if (c == NONE || c >= s->convs.n || s->convs.v[c].id != ev[k].conversation_id ||
            (s->convs.v[c].cflags & CF_DETACHED))
            c = rr_map64_get_h(&s->index, ev[k].conversation_id, h[k]);
        if (judge(s, &ev[k], c, now_ms) < 0) return -1;
    }
    advance(s);
    return s->oom ? -1 : 0;
}

int cmp_feed(cmp_t *s, const rr_record_t *recs, size_t n, int64_t now_ms)
{
    for (size_t i = 0; i < n; i += CHUNK)
        if (chunk(s, recs + i, n - i < CHUNK ? n - i : CHUNK, now_ms) < 0) return -1;
    return 0;
}

int cmp_finish(cmp_t *s)
{
    s->counts.peak_convs = s->convs.n;
    size_t day_lists = 0;
    for (size_t i = 0; i < s->days.n; i++)
        day_lists += s->days.v[i].convs.cap * sizeof(uint32_t);
    s->counts.state_bytes = s->convs.n * sizeof(cconv_t) +
                            (s->index.mask + 1) * sizeof *s->index.slots +
                            s->acts.cap * sizeof(act_t) + s->old.cap * sizeof(ccd_t) +
                            s->pool.bytes_live + s->blocks.cap * sizeof(idblk_t *) + day_lists;
    drain(s, INT64_MAX);
    while (s->days.n)
        finalize_oldest(s);
    return s->oom ? -1 : 0;
}

/* ---- construction ------------------------------------------------------ */

int cmp_new(const rr_tz_t *tz, cmp_t **out)
{
    cmp_t *s = calloc(1, sizeof *s);
    if (!s) return -1;
    s->tz = tz;
    rr_tz_cache_init(&s->tzc);
    s->max_ts = s->final_through = NO_TS;
    if (rr_map64_init(&s->index, 1 << 15) < 0 || rr_map3_init(&s->sd_map, 1024) < 0 ||
        rr_map3_init(&s->ad_map, 1024) < 0 || rr_map3_init(&s->buyer_map, 1024) < 0 ||
        rr_map64_init(&s->prev_map, 1024) < 0 || rr_map64_init(&s->old_map, 1024) < 0 ||
        rr_map3_init(&s->sat_map, 1024) < 0) {
        cmp_free(s);
        return -1;
    }
    *out = s;
    return 0;
}

void cmp_free(cmp_t *s)
{
    if (!s) return;
    rr_map64_free(&s->index);
    rr_map64_free(&s->prev_map);
    rr_map64_free(&s->old_map);
    rr_map3_free(&s->sat_map);
    rr_map3_free(&s->sd_map);
    rr_map3_free(&s->ad_map);
    rr_map3_free(&s->buyer_map);
    for (size_t i = 0; i < s->days.n; i++) {
        VFREE(s->days.v[i].convs);
        VFREE(s->days.v[i].sds);
        VFREE(s->days.v[i].ads);
        VFREE(s->days.v[i].viols);
        VFREE(s->days.v[i].sats);
    }
    VFREE(s->days);
    for (size_t i = 0; i < s->blocks.n; i++)
        if (s->blocks.v[i])
            rr_pool_put(&s->pool, s->blocks.v[i], sizeof(idblk_t) + s->blocks.v[i]->cap);
    VFREE(s->blocks);
    VFREE(s->convs);
    VFREE(s->acts);
    VFREE(s->act_free);
    VFREE(s->old);
    VFREE(s->old_free);
    VFREE(s->sds);
    VFREE(s->ads);
    VFREE(s->bacc);
    VFREE(s->bkeys);
    VFREE(s->prev);
    VFREE(s->prev_free);
    VFREE(s->spills);
    VFREE(s->spill_free);
    rr_pool_drain(&s->pool);
    rr_reorder_free(&s->buf);
    free(s);
}

const cmp_counts_t *cmp_counts(const cmp_t *s)
{
    return &s->counts;
}

const rr_digest_t *cmp_digest(const cmp_t *s)
{
    return &s->dg;
}
