/* engine/engine.c: the engine's loop and its public glue: releasing events
 * from the reorder buffers as watermarks pass them, advancing the job
 * watermark (finalisation, sweeps), partitions, hints, stats, construction.
 *
 * Owns the engine object (rr_engine_new/rr_engine_free: every slab, map, pool
 * and vector of engine_int.h is freed here). The parts it drives are listed
 * in engine_int.h. Not thread-safe: one thread per engine; two engines share
 * nothing. Layer: engine (metrics, base).
 *
 * Data path (SPEC §3-§7):
 *
 *   rr_engine_offer ──► accept: invalid? late? duplicate? ──► applied
 *        (arrival order, per partition)                        │
 *                                                              ▼
 *                    per-partition reorder buffer (reorder.h), keyed (ts_ms, event_id)
 *                                                              │ released when ts < partition
 * watermark ▼ conv_apply(): the conversation's state machine, in sorted order; rounds are resolved
 * on a reply, a SESSION_END, or when their day is finalised, and their counts go to per-(shop, day)
 * and per-(shop, agent, day) accumulators and to per-(conversation, day) records ("conv-days") │
 * job watermark > day end + H ▼ day_finalize_oldest(): fold conv-days (sessions, buyers,
 * satisfaction, unassigned), publish shop_day, agent_day, alerts, violations; free.
 *
 * Why release at the partition watermark is exact: an event arriving later
 * with ts < watermark is late and never applied, so once the watermark has
 * passed ts, every applied event with a smaller (ts, event_id) key is already
 * in the buffer.
 *
 * Conversation phases (SPEC §3 Phase):
 *
 *   robot ──TRANSFER_TO_MANUAL / AGENT_ASSIGNED / AGENT_MESSAGE──► manual (for good)
 *
 * A round tracker exists per distinct (reply kind, window, exclusions) among
 * the round-based metrics; each keeps per conversation a current round (still
 * collecting buyer messages) and a previous-day round (split by midnight,
 * still waiting for its reply). Since H <= 12 h (rr_config_validate), a round
 * two midnights old can no longer be answered, so two slots suffice.
 */
#include "engine/engine_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the release loop -------------------------------------------------- */

/* The shop-day and agent-day counts a reply or session end of c will most
 * likely add to: those of its newest day and of its last resolved round. */
static inline void prefetch_counts(const rr_engine_t *e, const conv_t *c)
{
    if (c->hot == NONE32 || c->cd_head == NONE32) return;
    const hot_t *hc = HOT(e, c->hot);
    if (hc->ad_cache != NONE32) prefetch_lines(AD(e, hc->ad_cache), e->ads.size);
    prefetch_lines(SD(e, CD(e, c->cd_head)->shopday), e->sds.size);
}

/* Apply every buffered event of p with ts < limit, in (ts, event_id) order.
 * Most are in the ring, in order: they are applied in runs, straight from
 * their slots, each run ending at the heap's least event (out-of-order
 * arrivals) or the limit; the heap's events go one at a time between runs.
 * Nothing is pushed while releasing, so a slot stays put while applied. */
void engine_release(rr_engine_t *e, partition_t *p, int64_t limit)
{
    rr_reorder_t *r = &p->buf;
    for (;;) {
        const hev_t *hm = r->heap_n ? &r->heap[0] : NULL;
        size_t mask = r->ring_cap - 1;
        while (r->ring_n) {
            const hev_t *q = &r->ring[r->ring_head];
            if (q->ts >= limit || (hm && rr_pending_less(hm, q))) break;
            /* start loading conversations applied a few events from now */
            if (r->ring_n > 16)
                __builtin_prefetch(CONV(e, r->ring[(r->ring_head + 16) & mask].conv));
            if (r->ring_n > 8) {
                const conv_t *c = CONV(e, r->ring[(r->ring_head + 8) & mask].conv);
                /* every line of its hot record (a round waits): the rounds */
                if (c->hot != NONE32) prefetch_lines(HOT(e, c->hot), e->hots.size);
                if (c->cd_head != NONE32) __builtin_prefetch(CD(e, c->cd_head));
            }
            /* and, for events that resolve rounds, the counts they will add to */
            if (r->ring_n > 4) {
                const hev_t *next = &r->ring[(r->ring_head + 4) & mask];
                if (next->type >= RR_EVENT_AGENT_MESSAGE && next->type != RR_EVENT_SYSTEM_MESSAGE)
                    prefetch_counts(e, CONV(e, next->conv));
            }
            r->ring_head = (r->ring_head + 1) & mask;
            r->ring_n--;
            conv_apply(e, q);
        }
        /* the ring is empty, at the limit, or behind the heap's least */
        if (!hm || hm->ts >= limit) {
            if (limit > p->released) p->released = limit;
            return;
        }
        hev_t h;
        rr_reorder_pop(r, &h); /* the heap's least: below the ring's head */
        conv_apply(e, &h);
    }
}

void engine_flush(rr_engine_t *e, partition_t *p)
{
    p->unreleased = 0;
    engine_release(e, p, part_wm(e, p));
}

/* Why a batch may release late (rr_engine_offer_batch): between two
 * releases, acceptance reads nothing a release writes. It reads the
 * conversation's shop, buyer, last ts, hot record and ids (written on
 * acceptance), the watermarks (written on acceptance) and final_through
 * (written by engine_advance, which a batch flushes before, as it flushes
 * before every call of it). One decision looks as if it could
 * see a release: a conversation found over is freed at once only when it has no conv-day and
 * nothing buffered (store_conv_detach). Events of it that a batch has not released yet are still
 * buffered, and released they would have given it a conv-day: kept either way. The released
 * sequence is the same too: an event accepted after a release has ts >= the watermark it released
 * below, so one release for the batch applies the same events in the same (ts, event_id) order. */
/* The job watermark: the least over partitions still running (SPEC §5). */
static int64_t job_wm(const rr_engine_t *e)
{
    int64_t w = INT64_MAX;
    for (size_t i = 0; i < e->parts.n; i++) {
        const partition_t *p = &e->parts.v[i];
        if (p->ended) continue;
        int64_t pw = part_wm(e, p);
        if (pw < w) w = pw;
    }
    return w;
}

/* Finalise the days the job watermark has passed and free the queued
 * conversations that are due, then say when to look again (next_due).
 *
 * When to call this is decided on acceptance, by a partition watermark
 * reaching next_due, and next_due changes only here: so events offered one
 * by one and in batches (whose releases wait for the batch's end) call it
 * at the same events, whatever either has released in between. A day can
 * be finalised once the job watermark w passes its end + H: the oldest open
 * day's, or that of a day no release has created yet, whose events all have
 * ts >= w (every partition released below its watermark before this call),
 * so a day no older than w's. Freeing is due at next_expire. Calling this
 * when nothing is due does nothing. */
void engine_advance(rr_engine_t *e)
{
    int64_t w = job_wm(e);
    const int64_t H = e->cfg.horizon_ms;
    while (e->days.n && w != NO_TS && w > e->days.v[0].end_ms + H)
        day_finalize_oldest(e);
    if (w >= e->next_expire) store_expire(e, w);
    int64_t due = e->next_expire;
    if (e->days.n && e->days.v[0].end_ms + H < due) due = e->days.v[0].end_ms + H + 1;
    if (w == NO_TS) {
        due = NO_TS; /* a partition has no watermark yet: look at every move */
    } else if (w != INT64_MAX) {
        int32_t d, tod;
        rr_tz_local(e->tz, &e->tzc, w, &d, &tod);
        int64_t fin = rr_tz_day_end(e->tz, d) + H + 1;
        if (fin < due) due = fin;
    }
    e->next_due = due;
}

/* ---- the public API's glue --------------------------------------------- */

int rr_engine_add_partition(rr_engine_t *e, const char *name)
{
    partition_t p = {.max_ts = NO_TS, .expect = NO_TS, .released = NO_TS};
    if (e->parts.n > UINT16_MAX) /* conv_t.part */
        return -1;
    p.name = strdup(name ? name : "");
    if (!p.name || rr_map64_init(&p.convs, 1024) < 0 || VEC_PUSH(e->parts, p) < 0) {
        rr_map64_free(&p.convs);
        free(p.name);
        return -1;
    }
    e->next_due = NO_TS; /* the job watermark may go back: look again (engine_advance) */
    return (int)e->parts.n - 1;
}

int64_t rr_engine_partition_watermark(const rr_engine_t *e, int p)
{
    return part_wm(e, &e->parts.v[p]);
}

int rr_engine_partitions(const rr_engine_t *e)
{
    return (int)e->parts.n;
}

void rr_engine_partition_stats(const rr_engine_t *e, int p, rr_partition_stats_t *out)
{
    const partition_t *pt = &e->parts.v[p];
    *out = (rr_partition_stats_t){.name = pt->name,
                                  .applied = pt->judged[RR_APPLIED],
                                  .duplicate = pt->judged[RR_DUPLICATE],
                                  .late = pt->judged[RR_LATE],
                                  .invalid = pt->judged[RR_INVALID],
                                  .watermark_ms = part_wm(e, pt)};
}

/* Partition p delivers nothing more: everything buffered is applied, and
 * it stops holding the job watermark back. Its held jumps are judged invalid
 * when its input ended (SPEC §7), left unjudged at a range's end. */
static void end_partition(rr_engine_t *e, int p, int input_ended)
{
    partition_t *pt = &e->parts.v[p];
    if (pt->ended) return;
    if (input_ended)
        accept_drop_held(e, p);
    else
        pt->stopped = 1;
    engine_release(e, pt, INT64_MAX);
    pt->ended = 1;
}

void rr_engine_partition_end(rr_engine_t *e, int p)
{
    if (e->parts.v[p].ended) return;
    end_partition(e, p, 1);
    store_partition_ended(e, p);
    engine_advance(e);
}

void rr_engine_partition_expect(rr_engine_t *e, int p, int64_t ts_ms)
{
    partition_t *pt = &e->parts.v[p];
    if (pt->max_ts == NO_TS) pt->expect = ts_ms;
}

void rr_engine_partition_stop(rr_engine_t *e, int p)
{
    if (e->parts.v[p].ended) return;
    end_partition(e, p, 0);
    store_partition_ended(e, p);
    engine_advance(e);
}

void rr_engine_finish(rr_engine_t *e)
{
    if (e->finished) return;
    for (size_t i = 0; i < e->parts.n; i++)
        end_partition(e, (int)i, 1);
    e->finished = 1; /* no event can come: nothing is queued to be freed (store_quiet) */
    while (e->days.n)
        day_finalize_oldest(e);
}

void rr_engine_set_provisional_at_final(rr_engine_t *e, int on)
{
    e->provisional_at_final = on;
}

const char *rr_engine_error(const rr_engine_t *e)
{
    return e->oom ? "out of memory: some results are incomplete" : NULL;
}

void rr_engine_each_shop(const rr_engine_t *e,
                         void (*fn)(void *opaque, uint64_t shop, int partition, int several),
                         void *opaque)
{
    const rr_map64_t *m = &e->shop_part;
    for (size_t i = 0; m->slots && i <= m->mask; i++)
        if (m->slots[i].val != RR_MAP_NONE)
            fn(opaque, m->slots[i].key, (int)(m->slots[i].val & 0x7fffffffu),
               (m->slots[i].val & 0x80000000u) != 0);
}

void rr_engine_stats(const rr_engine_t *e, rr_stats_t *out)
{
    *out = e->st;
    out->open_conversations = e->open_convs;
    out->peak_open_conversations = e->peak_convs;
    out->active_conversations = e->open_hot;
    out->peak_active_conversations = e->peak_hot;
    out->open_days = e->days.n;
    out->held = 0;
    for (size_t i = 0; i < e->parts.n; i++)
        out->held += e->parts.v[i].held.n;
}

static size_t slab_bytes(const rr_slab_t *s)
{
    return s->cap * s->size + s->freed_cap * sizeof *s->freed;
}

static size_t map64_bytes(const rr_map64_t *m)
{
    return m->slots ? (m->mask + 1) * sizeof *m->slots : 0;
}

static size_t map3_bytes(const rr_map3_t *m)
{
    return m->slots ? (m->mask + 1) * sizeof *m->slots : 0;
}

void rr_engine_memory(const rr_engine_t *e, rr_memory_t *out)
{
    memset(out, 0, sizeof *out);
    out->conversations = slab_bytes(&e->convs) + map64_bytes(&e->shop_part) +
                         e->exp.cap * sizeof *e->exp.v + e->exp_now.cap * sizeof(uint32_t) +
                         e->exp_bits_n * sizeof *e->exp_bits;
    for (size_t i = 0; i < e->exp.n; i++)
        out->conversations += e->exp.v[i].convs.cap * sizeof(uint32_t);
    out->active = slab_bytes(&e->hots);
    out->blocks = e->pool.bytes_live + slab_bytes(&e->ids);
    out->days = slab_bytes(&e->cds) + slab_bytes(&e->sds) + slab_bytes(&e->ads) +
                map3_bytes(&e->sd_map) + map3_bytes(&e->ad_map) + map3_bytes(&e->buyer_map) +
                map3_bytes(&e->sat_map) + e->days.cap * sizeof *e->days.v +
                e->buyer_acc.cap * sizeof *e->buyer_acc.v +
                e->buyer_keys.cap * sizeof *e->buyer_keys.v;
    for (size_t i = 0; i < e->days.n; i++) {
        const day_t *d = &e->days.v[i];
        out->days += (d->cds.cap + d->shopdays.cap + d->agentdays.cap) * sizeof(uint32_t) +
                     d->viols.cap * sizeof *d->viols.v + d->sats.cap * sizeof *d->sats.v;
    }
    for (size_t i = 0; i < e->parts.n; i++) {
        const partition_t *p = &e->parts.v[i];
        out->conversations += map64_bytes(&p->convs);
        out->buffered += (p->buf.ring_cap + p->buf.heap_cap) * sizeof(rr_pending_t) +
                         p->held.cap * sizeof *p->held.v + p->held_raw.cap;
    }
    out->total = out->conversations + out->active + out->blocks + out->days + out->buffered;
}

/* ---- construction ------------------------------------------------------ */

static int same_scope(const trk_def_t *t, const rr_metric_def_t *m)
{
    return t->reply == m->reply && t->from == m->window_from_ms && t->to == m->window_to_ms &&
           t->excl == m->excludes;
}

int rr_engine_new(const rr_config_t *cfg, const rr_tz_t *tz, const rr_sink_t *sink,
                  rr_engine_t **out, char *errstr, size_t errstr_size)
{
    if (rr_config_validate(cfg, errstr, errstr_size) < 0) return -1;
    rr_engine_t *e = calloc(1, sizeof *e);
    if (!e) goto oom;
    e->cfg = *cfg;
    e->tz = tz;
    if (sink) e->sink = *sink;
    e->final_through = NO_TS;
    e->next_expire = INT64_MAX;
    e->next_due = NO_TS;
    e->ymd_day = INT32_MIN;
    rr_config_version(cfg, e->version, sizeof e->version);
    for (size_t a = 0; a < cfg->n_alerts; a++)
        if (rr_alert_compile(cfg->alerts[a].expr, cfg->metrics, cfg->n_metrics, &e->alerts[a],
                             errstr, errstr_size) < 0)
            goto fail;
    for (size_t m = 0; m < cfg->n_metrics; m++) {
        const rr_metric_def_t *md = &cfg->metrics[m];
        metric_info_t *mi = &e->mi[m];
        mi->trk = mi->sat = mi->buyer = -1;
        mi->t = md->threshold_ms < cfg->horizon_ms ? md->threshold_ms : cfg->horizon_ms;
        switch (md->kind) {
        case RR_KIND_SATISFACTION:
            mi->sat = e->n_sat;
            e->sat_metric[e->n_sat++] = (uint8_t)m;
            continue;
        case RR_KIND_UNASSIGNED:
            e->unas_metric[e->n_unas++] = (uint8_t)m;
            continue;
        case RR_KIND_BUYER_WITHIN:
        case RR_KIND_BUYER_REPLIED:
            mi->buyer = e->n_buyer;
            e->buyer_metric[e->n_buyer++] = (uint8_t)m;
            break;
        default:
            break;
        }
        int t = 0;
        while (t < e->n_trk && !same_scope(&e->trk[t], md))
            t++;
        if (t == e->n_trk) {
            trk_def_t *td = &e->trk[e->n_trk++];
            td->reply = md->reply;
            td->from = md->window_from_ms;
            td->to = md->window_to_ms;
            td->excl = md->excludes;
        }
        trk_def_t *td = &e->trk[t];
        td->metric[td->n++] = (uint8_t)m;
        if (md->kind == RR_KIND_MESSAGE_WITHIN && mi->t > td->keep_ms) td->keep_ms = mi->t;
        if (md->kind == RR_KIND_MESSAGE_WITHIN || md->kind == RR_KIND_RESPONSE_TIME)
            td->per_agent = 1;
        mi->trk = t;
    }
    rr_slab_init(&e->ids, sizeof(ids_t));
    /* whole cache lines: a record never straddles one more than it needs */
    rr_slab_init(&e->hots, sizeof(hot_t) + (size_t)(2 * e->n_trk) * sizeof(round_t));
    for (int t = 0; t < e->n_trk; t++) {
        trk_def_t *td = &e->trk[t];
        td->key = -1;
        for (int k = 0; k < td->n; k++) {
            const rr_metric_def_t *md = &cfg->metrics[td->metric[k]];
            if (md->kind == RR_KIND_BUYER_REPLIED && md->require == RR_REQUIRE_LAST)
                td->key = e->n_key;
        }
        if (td->key >= 0) e->n_key++;
    }
    /* a conv-day: cd_t, its keys' event ids and times of day, a flag byte per tracker */
    e->cd_size = (sizeof(cd_t) + (size_t)e->n_key * 12 + (size_t)e->n_trk + 7) & ~(size_t)7;
    rr_slab_init(&e->cds, CD_SLAB_HEAD + e->cd_size);
    /* a conversation's record: its summary with a conv-day in line 1 where it
     * fits, else right after it (engine_int.h) */
    int fits = e->cd_size <= sizeof(((conv_t *)0)->cd_room);
    e->cd_inline = fits ? offsetof(conv_t, cd_room) : sizeof(conv_t);
    rr_slab_init(&e->convs, fits ? sizeof(conv_t) : sizeof(conv_t) + e->cd_size);
    for (size_t m = 0; m < cfg->n_metrics; m++) {
        e->mi[m].off = e->n_counts;
        e->n_counts += cfg->metrics[m].kind == RR_KIND_RESPONSE_TIME ? C_BUCKET + RR_BUCKETS : 2;
    }
    rr_slab_init(&e->sds, sizeof(shopday_t) + (size_t)e->n_counts * sizeof(int64_t));
    rr_slab_init(&e->ads, sizeof(agentday_t) + (size_t)e->n_counts * sizeof(int64_t));
    if (rr_map64_init(&e->shop_part, 1024) < 0 || rr_map3_init(&e->sd_map, 1024) < 0 ||
        rr_map3_init(&e->ad_map, 1024) < 0 || rr_map3_init(&e->buyer_map, 1024) < 0 ||
        rr_map3_init(&e->sat_map, 1024) < 0)
        goto oom;
    *out = e;
    return 0;
oom:
    snprintf(errstr, errstr_size, "out of memory creating the engine");
fail:
    rr_engine_free(e);
    return -1;
}

void rr_engine_free(rr_engine_t *e)
{
    if (!e) return;
    for (size_t i = 0; i < e->hots.n; i++) {
        hot_t *hc = HOT(e, i);
        if (!hc->live) continue;
        for (int t = 0; t < 2 * e->n_trk; t++)
            conv_pend_free(e, &hc->rounds[t]);
    }
    for (size_t i = 0; i < e->days.n; i++) {
        free(e->days.v[i].cds.v);
        free(e->days.v[i].shopdays.v);
        free(e->days.v[i].agentdays.v);
        free(e->days.v[i].viols.v);
        free(e->days.v[i].sats.v);
    }
    for (size_t i = 0; i < e->ids.n; i++)
        rr_pool_put(&e->pool, IDS(e, i)->b, IDS(e, i)->cap);
    rr_slab_free(&e->ids);
    for (size_t i = 0; i < e->parts.n; i++) {
        free(e->parts.v[i].name);
        free(e->parts.v[i].held.v);
        free(e->parts.v[i].held_raw.v);
        rr_reorder_free(&e->parts.v[i].buf);
        rr_map64_free(&e->parts.v[i].convs);
    }
    free(e->days.v);
    free(e->parts.v);
    rr_slab_free(&e->convs);
    rr_slab_free(&e->hots);
    store_expire_free(e);
    rr_slab_free(&e->cds);
    rr_slab_free(&e->sds);
    rr_slab_free(&e->ads);
    free(e->buyer_acc.v);
    free(e->buyer_keys.v);
    rr_map64_free(&e->shop_part);
    rr_map3_free(&e->sd_map);
    rr_map3_free(&e->ad_map);
    rr_map3_free(&e->buyer_map);
    rr_map3_free(&e->sat_map);
    rr_pool_drain(&e->pool);
    free(e);
}
