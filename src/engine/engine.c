/* engine.c: the conversation state machines, watermarks and per-day results.
 *
 * Data path (SPEC §3-§7):
 *
 *   rr_engine_offer ──► accept: invalid? late? duplicate? ──► applied
 *        (arrival order, per partition)                        │
 *                                                              ▼
 *                    per-partition reorder buffer (reorder.h), keyed (ts_ms, event_id)
 *                                                              │ released when ts < partition watermark
 *                                                              ▼
 *   conv_apply(): the conversation's state machine, in sorted order; rounds are
 *   resolved on a reply, a SESSION_END, or when their day is finalised, and
 *   their counts go to per-(shop, day) and per-(shop, agent, day) accumulators
 *   and to per-(conversation, day) records ("conv-days")
 *                                                              │ job watermark > day end + H
 *                                                              ▼
 *   day_finalize_oldest(): fold conv-days (sessions, buyers, satisfaction,
 *   unassigned), publish shop_day, agent_day, alerts, violations; free.
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

/* The shop-day and agent-day counts a reply or session end of c will most
 * likely add to: those of its newest day and of its last resolved round. */
static inline void prefetch_counts(const rr_engine_t *e, const conv_t *c)
{
    if (c->hot == NONE32 || c->cd_head == NONE32)
        return;
    const hot_t *hc = HOT(e, c->hot);
    if (hc->ad_cache != NONE32)
        prefetch_lines(AD(e, hc->ad_cache), e->ads.size);
    prefetch_lines(SD(e, CD(e, c->cd_head)->shopday), e->sds.size);
}

/* Apply every buffered event of p with ts < limit. */
static void release(rr_engine_t *e, partition_t *p, int64_t limit)
{
    hev_t h;
    const hev_t *m;
    while ((m = rr_reorder_min(&p->buf)) && m->ts < limit) {
        /* start loading conversations applied a few events from now */
        const hev_t *far = rr_reorder_ahead(&p->buf, 16), *near = rr_reorder_ahead(&p->buf, 8);
        if (far)
            __builtin_prefetch(CONV(e, far->conv));
        if (near) {
            const conv_t *c = CONV(e, near->conv);
            /* every line of the hot record: the rounds sit past its header */
            prefetch_lines(HOT(e, c->hot), e->hots.size);
            if (c->cd_head != NONE32)
                __builtin_prefetch(CD(e, c->cd_head));
        }
        /* and, for events that resolve rounds, the counts they will add to */
        const hev_t *next = rr_reorder_ahead(&p->buf, 4);
        if (next && next->type >= RR_EVENT_AGENT_MESSAGE && next->type != RR_EVENT_SYSTEM_MESSAGE)
            prefetch_counts(e, CONV(e, next->conv));
        rr_reorder_pop(&p->buf, &h);
        conv_apply(e, &h);
    }
}

/* ---- finalisation (SPEC §5) -------------------------------------------- */

static int64_t job_wm(const rr_engine_t *e)
{
    int64_t w = INT64_MAX;
    for (size_t i = 0; i < e->parts.n; i++) {
        const partition_t *p = &e->parts.v[i];
        if (p->ended)
            continue;
        int64_t pw = part_wm(e, p);
        if (pw < w)
            w = pw;
    }
    return w;
}

static void advance(rr_engine_t *e)
{
    int64_t w = job_wm(e);
    while (e->days.n && w != NO_TS && w > e->days.v[0].end_ms + e->cfg.horizon_ms)
        day_finalize_oldest(e);
    if (w != NO_TS && w != INT64_MAX && w >= e->next_hot_sweep) {
        store_sweep_hot(e, w);
        e->next_hot_sweep = w + RR_HOT_IDLE_MS / 3;
    }
    if (w != NO_TS && w != INT64_MAX && w >= e->next_sweep) {
        store_sweep(e);
        e->next_sweep = w + 3600000;
    }
}

/* ---- acceptance (SPEC §7) -------------------------------------------------- */

static void reject(rr_engine_t *e, int p, rr_verdict_t verdict, const char *reason,
                   const rr_event_t *ev, int64_t offset, const uint8_t *raw, size_t raw_len)
{
    if (verdict == RR_LATE)
        e->st.late++;
    else
        e->st.invalid++;
    if (!e->sink.rejected)
        return;
    const partition_t *pt = &e->parts.v[p];
    rr_rejected_record_t r = {.verdict = verdict,
                              .reason = reason,
                              .source = pt->name,
                              .partition = p,
                              .offset = offset,
                              .raw = raw,
                              .raw_len = raw_len,
                              .decoded = ev != NULL,
                              .watermark_ms = part_wm(e, pt)};
    if (ev)
        r.event = *ev;
    e->sink.rejected(e->sink.opaque, &r);
}

static const char *static_invalid(const rr_event_t *ev)
{
    if (ev->type < 1 || ev->type > 10)
        return "type_out_of_range";
    if (!ev->event_id)
        return "missing_event_id";
    if (!ev->shop_id)
        return "missing_shop_id";
    if (!ev->conversation_id)
        return "missing_conversation_id";
    if (ev->ts_ms < 1 || ev->ts_ms > RR_TS_MAX)
        return "ts_out_of_range";
    switch (ev->type) {
    case RR_EVENT_BUYER_MESSAGE:
        return ev->buyer_id ? NULL : "missing_buyer_id";
    case RR_EVENT_AGENT_ASSIGNED:
        return ev->agent_id ? NULL : "missing_agent_id";
    case RR_EVENT_RATING:
        return ev->rating >= 1 && ev->rating <= 5 ? NULL : "rating_out_of_range";
    default:
        return NULL;
    }
}

/* ---- held jumps (SPEC §7) ------------------------------------------------ */

static rr_verdict_t judge(rr_engine_t *e, int p, const rr_event_t *ev, uint32_t hint,
                          int64_t offset, const uint8_t *raw, size_t raw_len, int64_t now_ms,
                          int exempt);

/* Judge every jump partition p holds invalid: an event was applied after
 * them (the partition's time did not jump, one clock was wrong), or its
 * input ended before they were confirmed. */
static void drop_held(rr_engine_t *e, int p)
{
    partition_t *pt = &e->parts.v[p];
    for (size_t i = 0; i < pt->held.n; i++) {
        const held_t *h = &pt->held.v[i];
        e->st.input++;
        reject(e, p, RR_INVALID, "ts_too_far_ahead_of_partition", &h->ev, h->offset,
               h->raw_len ? pt->held_raw.v + h->raw_off : NULL, h->raw_len);
    }
    pt->held.n = 0;
    pt->held_raw.n = 0;
}

/* jump_confirm jumps are held: the jump is real. Judge them again in arrival
 * order as if they arrived now, the first exempt from the jump rule. At most
 * jump_confirm - 1 of them can be held again, so this never recurses. */
static void confirm_held(rr_engine_t *e, int p, int64_t now_ms)
{
    partition_t *pt = &e->parts.v[p];
    held_t *hv = pt->held.v;
    uint8_t *raw = pt->held_raw.v;
    size_t n = pt->held.n;
    memset(&pt->held, 0, sizeof pt->held);
    memset(&pt->held_raw, 0, sizeof pt->held_raw);
    for (size_t i = 0; i < n; i++)
        judge(e, p, &hv[i].ev, NONE32, hv[i].offset, hv[i].raw_len ? raw + hv[i].raw_off : NULL,
              hv[i].raw_len, now_ms, i == 0);
    free(hv);
    free(raw);
}

/* Hold a jump: not judged, not counted yet. */
static rr_verdict_t hold(rr_engine_t *e, int p, const rr_event_t *ev, int64_t offset,
                         const uint8_t *raw, size_t raw_len, int64_t now_ms)
{
    partition_t *pt = &e->parts.v[p];
    held_t h = {.ev = *ev, .offset = offset, .raw_off = pt->held_raw.n, .raw_len = raw ? raw_len : 0};
    if (vec_reserve_((void **)&pt->held_raw.v, &pt->held_raw.cap, pt->held_raw.n + h.raw_len + 1,
                     1) < 0 ||
        VEC_PUSH(pt->held, h) < 0) {
        e->oom = 1; /* as in judge: to the dead letters, and the run fails */
        e->st.input++;
        reject(e, p, RR_INVALID, "engine_out_of_memory", ev, offset, raw, raw_len);
        return RR_INVALID;
    }
    if (h.raw_len)
        memcpy(pt->held_raw.v + h.raw_off, raw, h.raw_len);
    pt->held_raw.n += h.raw_len;
    if ((int64_t)pt->held.n >= e->cfg.jump_confirm)
        confirm_held(e, p, now_ms);
    return RR_HELD;
}

rr_verdict_t rr_engine_offer(rr_engine_t *e, int p, const rr_event_t *ev, int64_t offset,
                             const uint8_t *raw, size_t raw_len, int64_t now_ms)
{
    return judge(e, p, ev, NONE32, offset, raw, raw_len, now_ms, 0);
}

rr_verdict_t rr_engine_offer_hinted(rr_engine_t *e, int p, const rr_event_t *ev, uint32_t hint,
                                    int64_t offset, const uint8_t *raw, size_t raw_len,
                                    int64_t now_ms)
{
    return judge(e, p, ev, hint, offset, raw, raw_len, now_ms, 0);
}

/* SPEC §7, in its order: invalid (a jump is held instead), late, duplicate,
 * applied. exempt: the first of confirmed jumps, not judged a jump again. */
static rr_verdict_t judge(rr_engine_t *e, int p, const rr_event_t *ev, uint32_t hint,
                          int64_t offset, const uint8_t *raw, size_t raw_len, int64_t now_ms,
                          int exempt)
{
    partition_t *pt = &e->parts.v[p];
    const char *why = static_invalid(ev);
    if (!why && ev->ts_ms - e->cfg.max_future_ms > now_ms) /* no overflow: ts >= 1 */
        why = "ts_ahead_of_wall_clock";
    if (!why && !exempt && pt->max_ts != NO_TS && ev->ts_ms - pt->max_ts > e->cfg.max_future_ms)
        return hold(e, p, ev, offset, raw, raw_len, now_ms);
    e->st.input++;
    conv_t *c = NULL;
    uint32_t ci = NONE32;
    if (!why) {
        /* The hint is a conversation index looked up a few events ago: still
         * good if that slot holds this attached conversation (slots are only
         * reused after an eviction, which clears live, and ids are unique). */
        ci = hint;
        if (ci == NONE32 || ci >= e->convs.n || CONV(e, ci)->live != CONV_ATTACHED ||
            CONV(e, ci)->id != ev->conversation_id || CONV(e, ci)->part != p)
            ci = rr_map64_get(&pt->convs, ev->conversation_id);
        if (ci != NONE32 && store_conv_is_over(e, CONV(e, ci))) {
            store_conv_detach(e, ci); /* this event's conversation is a new one */
            ci = NONE32;
        }
        c = ci == NONE32 ? NULL : CONV(e, ci);
    }
    if (!why && c) {
        if (c->shop != ev->shop_id)
            why = "shop_mismatch";
        else if (ev->type == RR_EVENT_BUYER_MESSAGE && c->buyer && c->buyer != ev->buyer_id)
            why = "buyer_mismatch";
    }
    if (why) {
        reject(e, p, RR_INVALID, why, ev, offset, raw, raw_len);
        return RR_INVALID;
    }
    int64_t wm = part_wm(e, pt);
    if ((wm != NO_TS && ev->ts_ms < wm) || (e->final_through != NO_TS && ev->ts_ms <= e->final_through) ||
        e->finished) {
        reject(e, p, RR_LATE, "late", ev, offset, raw, raw_len);
        return RR_LATE;
    }
    hot_t *hc = c && c->hot != NONE32 ? HOT(e, c->hot) : NULL;
    if (c && ids_seen(e, c, hc, ev->event_id)) {
        e->st.duplicate++;
        return RR_DUPLICATE;
    }
    if (!c) {
        ci = store_conv_new(e, p, ev);
        if (ci == NONE32)
            goto oom;
        c = CONV(e, ci);
    }
    if (!hc && !(hc = store_hot_make(e, ci, c->last_ts)))
        goto oom;
    if (ids_add(e, hc, ev->event_id) < 0)
        goto oom;
    if (ev->type == RR_EVENT_BUYER_MESSAGE && !c->buyer)
        c->buyer = ev->buyer_id;
    if (ev->ts_ms > c->last_ts)
        c->last_ts = ev->ts_ms;
    e->hot_last[c->hot] = c->last_ts;
    hev_t h = {.ts = ev->ts_ms,
               .eid = ev->event_id,
               .agent = ev->agent_id,
               .conv = ci,
               .type = (uint8_t)ev->type,
               .rating = (uint8_t)ev->rating,
               .flags = (uint8_t)(ev->flags & 0xffu)};
    if (rr_reorder_push(&pt->buf, &h) < 0)
        goto oom;
    hc->pending++;
    e->st.applied++;
    if (pt->held.n) /* the partition's time did not jump after all */
        drop_held(e, p);
    if (pt->max_ts == NO_TS || ev->ts_ms > pt->max_ts) {
        pt->max_ts = ev->ts_ms;
        int64_t pw = part_wm(e, pt);
        release(e, pt, pw);
        /* the job watermark is at most this partition's: skip the scan
         * unless it could finalise a day or start a sweep */
        if ((e->days.n && pw > e->days.v[0].end_ms + e->cfg.horizon_ms) || pw >= e->next_sweep ||
            pw >= e->next_hot_sweep)
            advance(e);
    }
    return RR_APPLIED;
oom:
    /* No memory to hold it: the event goes to the dead letters with that
     * reason (nothing is dropped silently) and the engine reports itself
     * failed (rr_engine_error), so the run ends in an error, not in results
     * that quietly miss it. */
    e->oom = 1;
    reject(e, p, RR_INVALID, "engine_out_of_memory", ev, offset, raw, raw_len);
    return RR_INVALID;
}

void rr_engine_hint_slot(const rr_engine_t *e, int p, uint64_t conversation_id)
{
    const rr_map64_t *m = &e->parts.v[p].convs;
    __builtin_prefetch(&m->slots[rr_hash64(conversation_id) & m->mask]);
}

uint32_t rr_engine_hint_conv(const rr_engine_t *e, int p, uint64_t conversation_id)
{
    uint32_t ci = rr_map64_get(&e->parts.v[p].convs, conversation_id);
    if (ci != NONE32)
        __builtin_prefetch(CONV(e, ci));
    return ci;
}

void rr_engine_hint_hot(const rr_engine_t *e, uint32_t hint)
{
    if (hint == NONE32 || hint >= e->convs.n)
        return;
    const conv_t *c = CONV(e, hint);
    if (c->live == CONV_ATTACHED && c->hot != NONE32)
        __builtin_prefetch(HOT(e, c->hot)); /* header and inline event ids */
}

void rr_engine_offer_undecodable(rr_engine_t *e, int p, int64_t offset, const uint8_t *raw,
                                 size_t raw_len, const char *reason)
{
    e->st.input++;
    reject(e, p, RR_INVALID, reason, NULL, offset, raw, raw_len);
}

int rr_engine_add_partition(rr_engine_t *e, const char *name)
{
    partition_t p = {.max_ts = NO_TS};
    if (e->parts.n > UINT16_MAX) /* conv_t.part */
        return -1;
    p.name = strdup(name ? name : "");
    if (!p.name || rr_map64_init(&p.convs, 1024) < 0 || VEC_PUSH(e->parts, p) < 0) {
        rr_map64_free(&p.convs);
        free(p.name);
        return -1;
    }
    return (int)e->parts.n - 1;
}

int64_t rr_engine_partition_watermark(const rr_engine_t *e, int p)
{
    return part_wm(e, &e->parts.v[p]);
}

/* Partition p delivers nothing more: everything buffered is applied, and
 * it stops holding the job watermark back. Its held jumps are judged invalid
 * when its input ended (SPEC §7), left unjudged at a range's end. */
static void end_partition(rr_engine_t *e, int p, int input_ended)
{
    partition_t *pt = &e->parts.v[p];
    if (pt->ended)
        return;
    if (input_ended)
        drop_held(e, p);
    else
        pt->stopped = 1;
    release(e, pt, INT64_MAX);
    pt->ended = 1;
}

void rr_engine_partition_end(rr_engine_t *e, int p)
{
    if (e->parts.v[p].ended)
        return;
    end_partition(e, p, 1);
    advance(e);
}

void rr_engine_partition_stop(rr_engine_t *e, int p)
{
    if (e->parts.v[p].ended)
        return;
    end_partition(e, p, 0);
    advance(e);
}

void rr_engine_finish(rr_engine_t *e)
{
    if (e->finished)
        return;
    for (size_t i = 0; i < e->parts.n; i++)
        end_partition(e, (int)i, 1);
    while (e->days.n)
        day_finalize_oldest(e);
    e->finished = 1;
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

/* ---- construction ------------------------------------------------------ */

static int same_scope(const trk_def_t *t, const rr_metric_def_t *m)
{
    return t->reply == m->reply && t->from == m->window_from_ms && t->to == m->window_to_ms &&
           t->excl == m->excludes;
}

int rr_engine_new(const rr_config_t *cfg, const rr_tz_t *tz, const rr_sink_t *sink,
                  rr_engine_t **out, char *errstr, size_t errstr_size)
{
    if (rr_config_validate(cfg, errstr, errstr_size) < 0)
        return -1;
    rr_engine_t *e = calloc(1, sizeof *e);
    if (!e)
        goto oom;
    e->cfg = *cfg;
    e->tz = tz;
    if (sink)
        e->sink = *sink;
    e->final_through = NO_TS;
    e->next_sweep = NO_TS;
    e->next_hot_sweep = NO_TS;
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
        if (md->kind == RR_KIND_MESSAGE_WITHIN && mi->t > td->keep_ms)
            td->keep_ms = mi->t;
        if (md->kind == RR_KIND_MESSAGE_WITHIN || md->kind == RR_KIND_RESPONSE_TIME)
            td->per_agent = 1;
        mi->trk = t;
    }
    rr_slab_init(&e->convs, sizeof(conv_t));
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
        if (td->key >= 0)
            e->n_key++;
    }
    size_t flags = ((size_t)e->n_trk + 7) & ~(size_t)7;
    rr_slab_init(&e->cds, sizeof(cd_t) + (size_t)e->n_key * sizeof(cd_key_t) +
                              (size_t)e->n_sat * sizeof(cd_sat_t) + flags);
    for (size_t m = 0; m < cfg->n_metrics; m++) {
        e->mi[m].off = e->n_counts;
        e->n_counts += cfg->metrics[m].kind == RR_KIND_RESPONSE_TIME ? C_BUCKET + RR_BUCKETS : 2;
    }
    rr_slab_init(&e->sds, sizeof(shopday_t) + (size_t)e->n_counts * sizeof(int64_t));
    rr_slab_init(&e->ads, sizeof(agentday_t) + (size_t)e->n_counts * sizeof(int64_t));
    if (rr_map64_init(&e->shop_part, 1024) < 0 ||
        rr_map3_init(&e->sd_map, 1024) < 0 || rr_map3_init(&e->ad_map, 1024) < 0 ||
        rr_map3_init(&e->buyer_map, 1024) < 0)
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
    if (!e)
        return;
    for (size_t i = 0; i < e->hots.n; i++) {
        hot_t *hc = HOT(e, i);
        if (!hc->live)
            continue;
        ids_release(e, hc);
        for (int t = 0; t < 2 * e->n_trk; t++)
            conv_pend_free(e, &hc->rounds[t]);
    }
    for (size_t i = 0; i < e->days.n; i++) {
        free(e->days.v[i].cds.v);
        free(e->days.v[i].shopdays.v);
        free(e->days.v[i].agentdays.v);
        free(e->days.v[i].viols.v);
    }
    for (size_t i = 0; i < e->colds.n; i++)
        rr_pool_put(&e->pool, e->colds.v[i].b, e->colds.v[i].cap);
    free(e->colds.v);
    free(e->cold_free.v);
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
    free(e->hot_last);
    rr_slab_free(&e->cds);
    rr_slab_free(&e->sds);
    rr_slab_free(&e->ads);
    free(e->buyer_acc.v);
    free(e->buyer_keys.v);
    rr_map64_free(&e->shop_part);
    rr_map3_free(&e->sd_map);
    rr_map3_free(&e->ad_map);
    rr_map3_free(&e->buyer_map);
    rr_pool_drain(&e->pool);
    free(e);
}
