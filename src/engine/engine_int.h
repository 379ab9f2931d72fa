/* engine/engine_int.h: what the engine's files share, private to src/engine/.
 *
 * The engine (include/replyrate/engine.h) is one concept split by what each
 * part decides: engine.c (the offer/release loop, construction, the public
 * API's glue), accept.c (SPEC §7 acceptance and held jumps), store.c
 * (conversation records, their life and eviction), ids.c (each conversation's
 * event ids), conv.c (the per-conversation round machine), day.c (per-day
 * accumulators and finalisation), provisional.c (revisions of open days) and
 * checkpoint.c (the state as a byte stream). This header holds the records
 * they share, the engine's struct, the accessors every part uses on the hot
 * path (static inline, so they inline without LTO too), and the functions one
 * part exports to another, each prefixed by its file (store_*, ids_*, conv_*,
 * day_*, prov_*, accept_*, engine_*).
 *
 * Owns nothing itself: every record hangs off an rr_engine_t. Not
 * thread-safe (an engine is used by one thread at a time). Layer: engine;
 * uses metrics (config, alerts) and base (map, pool, slab, bigmem). Include
 * it from src/engine/ only (tests/lint/layers.sh).
 */
#ifndef RR_ENGINE_ENGINE_INT_H
#define RR_ENGINE_ENGINE_INT_H

#include "replyrate/engine.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "base/map.h"
#include "base/pool.h"
#include "base/slab.h"
#include "engine/reorder.h"
#include "engine/tz.h"
#include "metrics/alert.h"

#define NONE32 UINT32_MAX
#define NO_TS INT64_MIN

/* ---- growable arrays -------------------------------------------------- */

#define VEC(T)                                                                                     \
    struct {                                                                                       \
        T *v;                                                                                      \
        size_t n, cap;                                                                             \
    }

static inline int vec_reserve_(void **v, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return 0;
    size_t c = *cap ? *cap * 2 : 16;
    while (c < need)
        c *= 2;
    void *nv = realloc(*v, c * elem);
    if (!nv) return -1;
    *v = nv;
    *cap = c;
    return 0;
}

#define VEC_PUSH(vec, x)                                                                           \
    (vec_reserve_((void **)&(vec).v, &(vec).cap, (vec).n + 1, sizeof *(vec).v) == 0                \
         ? ((vec).v[(vec).n++] = (x), 0)                                                           \
         : -1)

/* ---- records ------------------------------------------------------------ */

/* Pending buyer-message timestamps of a round, kept only while a reply could
 * still find them within T (message_within). Lives in a pool block. */
typedef struct tsvec {
    uint32_t head, n, cap, pad;
    int64_t ts[];
} tsvec_t;

#define PIN_MAX 2
#define PIN_SPILLED 0xff

typedef struct round {
    int64_t start_ts;          /* ts of the round's first message */
    int64_t last_ts;           /* ts of its latest message */
    uint64_t agent;            /* latest AGENT_ASSIGNED before the start; 0: none */
    union {                    /* the ts of its messages a reply may still answer within T: */
        uint32_t pin[PIN_MAX]; /* pin_n of them, as ts - start_ts (a round is < 2 days) */
        tsvec_t *pend;         /* or, when pin_n == PIN_SPILLED, all of them */
    } p;
    uint32_t msgs;
    uint32_t cd; /* conv-day of the round's day */
    int32_t day;
    uint8_t active;
    uint8_t pin_n;
} round_t;
_Static_assert(sizeof(round_t) == 48, "docs/engine.md: 48 bytes per round");

/* A conversation is two records (docs/engine.md, "Memory"):
 *
 *   conv_t  128 bytes, from its first applied event until it is forgotten:
 *           line 0 what acceptance reads (id, shop, buyer, last ts and its
 *           event ids: a bloom word, the first, the next as varints), line 1
 *           what its open days need (phase, agents, conv-days); the stable
 *           index conv-days and violations refer to. It holds one of its
 *           conv-days (cd_t, below) in line 1 when it fits, as with the
 *           default set, else right after it in its slab record;
 *   hot_t   only while a round of it waits for a reply: the round
 *           trackers. Made when a buyer message opens a round, released
 *           when the last waiting round is resolved (replied, ended, or
 *           unanswered at its day's finalisation).
 *
 * A long day therefore holds ~1.7M summaries but only the conversations
 * waiting for a reply in the big records, and a released record is the
 * next one made, which keeps the per-event working set in cache. hot_t is 16 bytes plus 2 rounds
 * (48 bytes each) per round tracker: 304 bytes with the default set's 3 trackers. */

#define IDS_BYTES 15
typedef struct conv {
    /* line 0: what acceptance reads, the event ids among it (ids.c) */
    uint64_t id, shop, buyer;
    int64_t last_ts; /* greatest applied ts (SPEC §3 Lifetime) */
    uint64_t bloom;  /* bit (id hash % 64) set for every applied id: most ids were never seen */
    uint64_t id0;    /* its first applied event id */
    uint8_t idb[IDS_BYTES]; /* the next ones: zigzag varints of their difference from id0 */
    uint8_t idb_len;
    /* line 1 */
    uint64_t cur_agent;     /* latest AGENT_ASSIGNED processed; 0 none */
    int64_t first_agent_ts; /* least ts of AGENT_ASSIGNED/AGENT_MESSAGE; INT64_MAX none */
    uint32_t cd_head;       /* newest open conv-day */
    uint32_t hot;           /* its hot_t, or NONE32 */
    uint32_t more;          /* its further event ids (ids_t), or NONE32 */
    uint16_t part;          /* its partition: conversations are per partition */
    uint8_t manual;
    uint8_t live;        /* CONV_FREE, CONV_ATTACHED (its id maps to it) or CONV_OVER */
    uint64_t cd_room[4]; /* its conv-day, when one fits (32 bytes with the default set) */
} conv_t;
_Static_assert(sizeof(conv_t) == 128, "conv_t is two cache lines (docs/engine.md)");

/* A conversation's life (SPEC §3 Lifetime):
 *
 *   free ──first applied event──► attached ──an event finds it over──► over ──days final──► free
 *                                     └─────── expiry queue: over and days final ──────────┘
 *
 * Attached: the partition's id map points at it, its events apply to it.
 * Over: its watermark passed last_ts + ttl and its last day's end + H when
 * an event of its id arrived; that event started a new conversation under
 * the id, and this one only waits for its open days to be finalised. */
#define CONV_FREE 0
#define CONV_ATTACHED 1
#define CONV_OVER 2

/* A conversation's event ids past those its record holds (SPEC §3
 * Duplicates: remembered for its whole life; ids.c), in a pooled block:
 * up to IDS_LIST of them as zigzag varints of their difference from id0,
 * then an open-addressing set of the ids (0 marks a free slot: event_id 0
 * is invalid). Ids of one conversation are close together: 1-2 bytes each. */
#define IDS_LIST 32
typedef struct ids {
    uint8_t *b;
    uint32_t len; /* bytes used (list), or the set's slots */
    uint32_t cap; /* bytes of b */
    uint32_t n;   /* ids held */
    uint32_t set; /* 1: b is a set of uint64_t */
} ids_t;
typedef struct hot {
    uint32_t conv;     /* its conv_t */
    uint32_t spare;    /* (was a count of buffered events: conv_buffered tells) */
    uint32_t ad_cache; /* agent-day of the last resolved round: usually the next one's too */
    uint8_t live;
    uint8_t rounds_active; /* rounds with active set: 0 releases the record */
    uint8_t pad[2];
    round_t rounds[]; /* [2*t] current, [2*t+1] previous-day, per tracker t */
} hot_t;

/* A tracker's day flags (one byte per tracker). */
#define CDF_HAS 1u          /* >= 1 in-scope buyer message that day */
#define CDF_ANY_REPLIED 2u  /* some message got a reply within H */
#define CDF_LAST_REPLIED 4u /* the last message got a reply within H */

/* Per (conversation, local day): what the day's finalisation needs but
 * ratings (day_t.sats). 16 bytes, then for each tracker with a require=last
 * metric the day's last in-scope message (SPEC §3 Buyers: the buyer's last
 * message), its event id (uint64_t[n_key]) and its ts - the day's start
 * (uint32_t[n_key]), then n_trk flag bytes: 32 bytes with the default set.
 *
 * A conversation's record holds one conv-day (at e->cd_inline, in line 1 of
 * conv_t when it fits), so the conv-day an event updates is in the record
 * it reads (most conversations live within one day): its index is the
 * conversation's index with CD_INLINE set, and it is free while its day is
 * CD_NO_DAY. A conversation with two open days keeps the other in the cds
 * slab, whose records start with the conversation's index (cd_conv). A
 * conv-day never moves, so its index (in rounds, days and lists) stays
 * valid until it is freed. */
#define CD_INLINE UINT32_C(0x80000000)
#define CD_NO_DAY INT32_MIN
typedef struct cd {
    uint32_t next, shopday;
    int32_t day;   /* CD_NO_DAY: a free inline conv-day */
    uint32_t bits; /* bit m: session/buyer_within had a bad round; unassigned: had a message */
} cd_t;
#define CD_SLAB_HEAD 8 /* a cds slab record: the conversation's index, padding, the cd_t */

/* A conversation's rating of a local day, for a satisfaction metric: the
 * last in-scope one counts (day_t.sats, found through e->sat_map). */
typedef struct sat {
    uint64_t agent;
    uint32_t conv, shopday;
    uint32_t rating;
    uint32_t s; /* its satisfaction slot */
} sat_t;

/* Counts of a (shop, day) or (shop, agent, day), packed: each metric owns
 * C_NUM and C_DEN at metric_info.off, response_time also C_UNANS and the 8
 * buckets. 200 bytes with the default set, where rr_value_t per metric would
 * take 704: fewer cache lines per resolved round. Expanded at publication. */
#define C_NUM 0
#define C_DEN 1
#define C_UNANS 2
#define C_BUCKET 3

typedef struct shopday {
    uint64_t shop;
    int32_t day;
    uint32_t ad0; /* its agent-0 ("no agent") agent-day, or NONE32: a third of
                   * the rounds resolve to agent 0, and a conversation's
                   * ad_cache should keep its real agent */
    int64_t c[];
} shopday_t;

typedef struct agentday {
    uint64_t shop, agent;
    int32_t day;
    uint32_t revised; /* a provisional revision of it was published: so is its
                       * final record, even empty, to replace it (compacted topics) */
    int64_t c[];
} agentday_t;

typedef struct viol {
    uint64_t shop, conv_id, buyer, agent;
    int64_t start, reply;
    uint32_t conv, msgs;
    uint8_t metric, answered;
} viol_t;

typedef struct day {
    int32_t day;
    uint32_t revision; /* provisional revisions published so far */
    int64_t end_ms;    /* local end: first instant of the next local day */
    VEC(uint32_t) cds;
    VEC(uint32_t) shopdays;
    VEC(uint32_t) agentdays;
    VEC(viol_t) viols;
    VEC(sat_t) sats;
} day_t;

typedef rr_pending_t hev_t;

/* Quiet conversations whose conversation_ttl ends within one hour of
 * event time (store.c): freed once the job watermark has passed the hour. */
typedef struct exp_bucket {
    int64_t hour; /* ts / 3600000 */
    VEC(uint32_t) convs;
} exp_bucket_t;

/* A held jump (SPEC §7): an event more than max_future ahead of its
 * partition's greatest applied ts, not judged yet. Its bytes are copied
 * into the partition's held_raw, for the dead letter it may become. */
typedef struct held {
    rr_event_t ev;
    int64_t offset;
    size_t raw_off, raw_len;
} held_t;

typedef struct partition {
    char *name;
    int64_t max_ts;   /* greatest applied ts; NO_TS none */
    int64_t expect;   /* rr_engine_partition_expect's ts: the partition's time for the
                       * jump rule until an event is applied; NO_TS none */
    int ended;        /* read to its end: held jumps were judged invalid */
    int stopped;      /* a range's end: what it holds belongs to a later range */
    VEC(held_t) held; /* held jumps in arrival order */
    VEC(uint8_t) held_raw;
    rr_reorder_t buf; /* applied events not yet released */
    int64_t released; /* the greatest limit released below: every event of the partition
                       * with a lesser ts is released, every buffered one has ts >= it */
    int batch;        /* in rr_engine_offer_batch: releases wait for the batch's end */
    int unreleased;   /* (batch) the watermark moved past buffered events since the last release */
    rr_map64_t convs; /* conversation id -> conv_t index: a conversation is per
                       * partition (docs/engine.md, "Decisions") */
    uint64_t judged[4]; /* events judged here, by verdict (RR_APPLIED..RR_INVALID), since the
                         * partition was added or restored: not in checkpoints */
} partition_t;

typedef struct trk_def {
    rr_reply_kind_t reply;
    int32_t from, to;
    uint32_t excl;
    int64_t keep_ms; /* pending-ts horizon: max T' of its message_within metrics; 0 none */
    int per_agent;   /* has message_within or response_time metrics */
    int key;         /* its key slot in a conv-day (a require=last metric uses it), or -1 */
    int n;
    uint8_t metric[RR_MAX_METRICS];
} trk_def_t;

typedef struct metric_info {
    int trk;   /* round tracker, or -1 */
    int sat;   /* satisfaction slot, or -1 */
    int buyer; /* buyer-metric slot, or -1 */
    int64_t t; /* min(T, H) */
    int off;   /* its counts in shopday_t.c / agentday_t.c */
} metric_info_t;

/* Per (shop, buyer) during a day's finalisation. */
typedef struct buyer_acc {
    int64_t last_ts;
    uint64_t last_eid;
    uint32_t shopday; /* the buyer's shop-day, so flushing needs no lookup */
    uint8_t has, flag, last_replied;
    uint8_t pend; /* provisional only: the outcome is not decided yet */
} buyer_acc_t;

struct rr_engine {
    rr_config_t cfg;
    const rr_tz_t *tz;
    rr_tz_cache_t tzc;
    rr_sink_t sink;
    char version[64];
    rr_alert_t alerts[RR_MAX_ALERTS];
    metric_info_t mi[RR_MAX_METRICS];
    trk_def_t trk[RR_MAX_METRICS];
    int n_trk, n_sat, n_buyer, n_key;
    int n_counts;                        /* int64 counts per shop-day/agent-day */
    size_t cd_size;                      /* a conv-day's bytes (cd_t and what follows) */
    size_t cd_inline;                    /* where a conversation's record holds its conv-day */
    rr_value_t expanded[RR_MAX_METRICS]; /* publication scratch */
    uint8_t sat_metric[RR_MAX_METRICS];
    uint8_t buyer_metric[RR_MAX_METRICS];
    uint8_t unas_metric[RR_MAX_METRICS];
    int n_unas;

    rr_pool_t pool;

    /* conversations: summary slab + id map, and the hot records */
    rr_slab_t convs; /* conv_t */
    size_t open_convs, peak_convs;
    rr_slab_t hots; /* hot_t and its rounds */
    size_t open_hot, peak_hot;
    rr_slab_t ids; /* ids_t: event ids past those a conversation's record holds */

    /* conv-days */
    rr_slab_t cds; /* cd_t and its keys, ratings and flags */

    /* shop-days and agent-days */
    rr_slab_t sds; /* shopday_t and its counts */
    rr_map3_t sd_map;
    rr_slab_t ads; /* agentday_t and its counts */
    rr_map3_t ad_map;

    VEC(day_t) days;       /* open days, ascending */
    int64_t final_through; /* greatest finalised day end + H; NO_TS none */

    VEC(partition_t) parts;
    rr_map64_t shop_part; /* shop -> partition (bit 31: counted as split) */

    rr_map3_t sat_map;   /* (conversation, day, slot) -> its sat_t in the day's sats */
    rr_map3_t buyer_map; /* finalisation scratch: one shop's buyers at a time */
    VEC(buyer_acc_t) buyer_acc;
    VEC(uint64_t) buyer_keys; /* (shop, buyer) pairs in buyer_map, to empty it cheaply */

    /* conversations with every day final and nothing buffered, waiting to
     * be freed (store.c): by the hour their conversation_ttl ends, and
     * those over or of an ended partition, freed at the next advance */
    VEC(exp_bucket_t) exp;
    VEC(uint32_t) exp_now;
    int64_t next_expire; /* the first bucket's end; INT64_MIN with exp_now; INT64_MAX none */
    int64_t next_due;    /* a partition watermark reaching it calls engine_advance (engine.c) */
    uint64_t *exp_bits;  /* a bit per conversation: a bucket in index order */
    size_t exp_bits_n;   /* words */

    int32_t ymd_day, ymd; /* the last day a violation was published for, as YYYYMMDD */
    int finished;
    int oom;
    int provisional_at_final; /* rr_engine_set_provisional_at_final */
    rr_stats_t st;
};

#define CONV(e, i) ((conv_t *)rr_slab_at(&(e)->convs, (i)))
#define CNT(e, rec, m) ((rec)->c + (e)->mi[m].off) /* metric m's counts in a shop/agent-day */
#define HOT(e, i) ((hot_t *)rr_slab_at(&(e)->hots, (i)))
#define CD(e, i) cd_at((e), (i))
#define SD(e, i) ((shopday_t *)rr_slab_at(&(e)->sds, (i)))
#define AD(e, i) ((agentday_t *)rr_slab_at(&(e)->ads, (i)))
#define IDS(e, i) ((ids_t *)rr_slab_at(&(e)->ids, (i)))

static inline cd_t *cd_at(const rr_engine_t *e, uint32_t k)
{
    if (k & CD_INLINE) return (cd_t *)((unsigned char *)CONV(e, k & ~CD_INLINE) + e->cd_inline);
    return (cd_t *)((unsigned char *)rr_slab_at(&e->cds, k) + CD_SLAB_HEAD);
}

/* The conversation conv-day k belongs to. */
static inline uint32_t cd_conv(const rr_engine_t *e, uint32_t k)
{
    if (k & CD_INLINE) return k & ~CD_INLINE;
    return *(const uint32_t *)rr_slab_at(&e->cds, k);
}

/* What follows a conv-day's cd_t: uint64_t key event ids [n_key], uint32_t
 * key times of day [n_key], uint8_t flags [n_trk]. Tracker t's key slot is
 * trk[t].key (>= 0 only for trackers with a require=last metric). */
static inline uint64_t *cd_key_eid(const rr_engine_t *e, cd_t *c, int t)
{
    return (uint64_t *)(void *)(c + 1) + e->trk[t].key;
}
static inline uint32_t *cd_key_tod(const rr_engine_t *e, cd_t *c, int t)
{
    return (uint32_t *)(void *)((unsigned char *)(c + 1) + 8 * (size_t)e->n_key) + e->trk[t].key;
}
static inline uint8_t *cd_flags(const rr_engine_t *e, cd_t *c, int t)
{
    return (unsigned char *)(c + 1) + 12 * (size_t)e->n_key + t;
}

/* ---- prefetching ------------------------------------------------------------ */

/* Start loading (for writing) the cache lines of the n bytes at p. */
static inline void prefetch_lines(const void *p, size_t n)
{
    for (size_t off = 0; off < n; off += 64)
        __builtin_prefetch((const unsigned char *)p + off, 1);
}

static inline int64_t part_wm(const rr_engine_t *e, const partition_t *p)
{
    return p->max_ts == NO_TS ? NO_TS : p->max_ts - e->cfg.lateness_ms;
}

/* ---- event ids (ids.c) -------------------------------------------------- */

static inline uint64_t ids_bit(uint64_t id)
{
    return UINT64_C(1) << ((id * UINT64_C(0x9e3779b97f4a7c15)) >> 58);
}

/* ids.c: past the first id */
int ids_seen_rest(const rr_engine_t *e, const conv_t *c, uint64_t id);

/* Was id applied to conversation c? Its record answers most: the bloom word
 * rules out ids never seen, and the first id is a re-delivery's usual one. */
static inline int ids_seen(const rr_engine_t *e, const conv_t *c, uint64_t id)
{
    if (!(c->bloom & ids_bit(id))) return 0;
    return c->id0 == id || ids_seen_rest(e, c, id);
}

/* Are events of conversation c waiting in its partition's reorder buffer?
 * Its last_ts is the greatest ts applied to it: buffered iff not released
 * yet, i.e. not below the partition's greatest release limit. */
static inline int conv_buffered(const rr_engine_t *e, const conv_t *c)
{
    return c->last_ts >= e->parts.v[c->part].released;
}

/* ---- between the engine's files ---------------------------------------- */

/* engine.c: apply every buffered event of p with ts < limit; finalise the
 * days the job watermark has passed and run the sweeps that are due */
void engine_release(rr_engine_t *e, partition_t *p, int64_t limit);
/* engine.c: release what p's watermark has passed (a batch's deferred releases) */
void engine_flush(rr_engine_t *e, partition_t *p);
void engine_advance(rr_engine_t *e);

/* accept.c: judge every jump partition p holds invalid (its input ended, or
 * an event was applied after them) */
void accept_drop_held(rr_engine_t *e, int p);

/* store.c (inline: every offered event of a known conversation asks): is
 * conversation c over for an event arriving now on its partition (SPEC §3
 * Lifetime)? Its partition's watermark has passed both its greatest
 * applied ts + conversation_ttl and its last day's local end + H. */
static inline int store_conv_is_over(rr_engine_t *e, const conv_t *c)
{
    int64_t wm = part_wm(e, &e->parts.v[c->part]);
    if (wm == NO_TS || wm <= c->last_ts + e->cfg.conversation_ttl_ms)
        return 0; /* the common case: no day arithmetic */
    int32_t d, tod;
    rr_tz_local(e->tz, &e->tzc, c->last_ts, &d, &tod);
    return wm > rr_tz_day_end(e->tz, d) + e->cfg.horizon_ms;
}

/* store.c: a new attached conversation for ev in partition p; a hot record
 * for conversation ci (a round of it opens); NONE32/NULL out of memory.
 * store_hot_free releases one (no round of it waits any more). */
uint32_t store_conv_new(rr_engine_t *e, int p, const rr_event_t *ev);
hot_t *store_hot_make(rr_engine_t *e, uint32_t ci);
void store_hot_free(rr_engine_t *e, uint32_t hi);
/* store.c: conversation ci is over: out of its id's map, freed once its days are */
void store_conv_detach(rr_engine_t *e, uint32_t ci);
/* store.c: conversation ci's last open day was finalised: queue it to be
 * freed once it is over (nothing happens if events of it are buffered) */
void store_quiet(rr_engine_t *e, uint32_t ci);
/* store.c: free the queued conversations that are over at job watermark w
 * (NO_TS or INT64_MAX: only those over or of an ended partition) */
void store_expire(rr_engine_t *e, int64_t w);
/* store.c: partition p ended: its quiet conversations are freed at the next
 * advance; store_expire_rebuild queues every quiet one (a restored engine) */
void store_partition_ended(rr_engine_t *e, int p);
int store_expire_rebuild(rr_engine_t *e);
void store_expire_free(rr_engine_t *e);

/* conv.c: apply one released event to its conversation */
void conv_apply(rr_engine_t *e, const hev_t *h);
/* conv.c: a round's pending buyer-message timestamps */
void conv_pend_free(rr_engine_t *e, round_t *r);
/* messages of round r with ts >= since */
uint32_t conv_pend_count_since(const round_t *r, int64_t since);
/* conv.c: close round r of tracker t, replied (reply_ts, reply_agent) or not */
void conv_round_resolve(rr_engine_t *e, conv_t *c, hot_t *hc, int t, round_t *r, int replied,
                        int64_t reply_ts, uint64_t reply_agent);
/* conv.c: SPEC §4 violations: the reason once known (0: not yet), publication */
rr_reason_t conv_violation_reason(const rr_engine_t *e, const viol_t *v, const conv_t *c,
                                  int day_final);
void conv_emit_violation(rr_engine_t *e, const viol_t *v, int32_t ymd, rr_reason_t reason);

/* ids.c: add id to conversation c's ids (0, or -1 out of memory: then
 * unchanged); free its block */
int ids_add(rr_engine_t *e, conv_t *c, uint64_t id);
void ids_free(rr_engine_t *e, conv_t *c);

/* day.c: per-day records, created on first use; NONE32/NULL out of memory */
day_t *day_get(rr_engine_t *e, int32_t d);
/* (and e->oom when out of memory) */
uint32_t day_agentday(rr_engine_t *e, uint64_t shop, uint64_t agent, int32_t d);
/* conversation ci's conv-day for local day d; its index in *k_out */
cd_t *day_convday(rr_engine_t *e, uint32_t ci, int32_t d, uint32_t *k_out);

/* day.c: a conversation's rating of a conv-day's day for satisfaction slot
 * s (the last counts; sets the metric's bit in cd->bits), and reading it back */
void day_rate(rr_engine_t *e, uint32_t ci, cd_t *cd, int s, uint32_t rating, uint64_t agent);
const sat_t *day_sat(const rr_engine_t *e, const day_t *dy, uint32_t ci, int s);

/* day.c: folding and publication, shared with provisional revisions */
typedef struct prov prov_t; /* provisional.c: one revision's copies of the counts */
void day_fold_buyer(rr_engine_t *e, const conv_t *c, cd_t *cd, uint32_t pend);
void day_flush_buyers(rr_engine_t *e, prov_t *pv);
uint32_t *day_cds_by_shop(rr_engine_t *e, const day_t *dy);
void day_publish(rr_engine_t *e, int is_agent, uint64_t shop, uint64_t agent, int32_t ymd,
                 uint32_t revision, const int64_t *c);
int day_agent_counts_any(const rr_engine_t *e, const int64_t *c);
/* finalise e->days.v[0], publish its records and free it */
void day_finalize_oldest(rr_engine_t *e);

/* provisional.c */
/* the counts shop-day k's fold adds to: its own, or (pv) the revision's copy */
int64_t *prov_sd_counts(rr_engine_t *e, prov_t *pv, uint32_t k);
/* publish open day e->days.v[di] as its next revision: records published, or -1 */
int64_t prov_publish_day(rr_engine_t *e, size_t di);

#endif
