/* engine/conv.c: the conversation state machine, one event at a time in
 * (ts, event_id) order (SPEC §3 Phase, Rounds; §4 violations).
 *
 * conv_apply is the per-event step after the reorder buffer: it opens the
 * event's conv-day, moves the phase (robot -> manual, for good), the current
 * agent and the first agent event, and drives each round tracker: a buyer
 * message opens or extends a round (split at local midnight), a reply of the
 * tracker's kind or a SESSION_END resolves it. A resolved round adds its
 * counts to the shop-day and agent-day (day.c) or its conv-day bits, and a
 * violation is published at once when its reason is known, else held with
 * its day. Also owns a round's pending buyer-message timestamps (inline
 * pins, spilling to a pooled tsvec_t).
 *
 * Uses the records through engine_int.h, day.c's records, the zone (tz.h)
 * and the engine's pool. Not thread-safe. Layer: engine.
 */
#include "engine/engine_int.h"

#include <string.h>

/* ---- pending timestamps ------------------------------------------------ */

void conv_pend_free(rr_engine_t *e, round_t *r)
{
    if (r->pin_n == PIN_SPILLED)
        rr_pool_put(&e->pool, r->p.pend, sizeof(tsvec_t) + (size_t)r->p.pend->cap * 8);
    r->pin_n = 0;
}

/* A round's first PIN_MAX pending ts stay in the round itself: no block, no
 * cache miss. More spill into a pooled tsvec_t. */
static int conv_pend_push(rr_engine_t *e, round_t *r, int64_t ts, int64_t keep_ms)
{
    if (r->pin_n != PIN_SPILLED) {
        uint32_t k = 0; /* drop messages no reply at >= ts can reach within T */
        while (k < r->pin_n && r->start_ts + r->p.pin[k] < ts - keep_ms)
            k++;
        for (uint32_t i = k; i < r->pin_n; i++)
            r->p.pin[i - k] = r->p.pin[i];
        r->pin_n = (uint8_t)(r->pin_n - k);
        if (r->pin_n < PIN_MAX) {
            r->p.pin[r->pin_n++] = (uint32_t)(ts - r->start_ts);
            return 0;
        }
        size_t got;
        tsvec_t *np = rr_pool_get(&e->pool, sizeof(tsvec_t) + 4 * 8, &got);
        if (!np) return -1;
        np->cap = (uint32_t)((got - sizeof(tsvec_t)) / 8);
        np->head = 0;
        for (np->n = 0; np->n < PIN_MAX; np->n++)
            np->ts[np->n] = r->start_ts + r->p.pin[np->n];
        r->p.pend = np;
        r->pin_n = PIN_SPILLED;
    }
    tsvec_t *p = r->p.pend;
    while (p->head < p->n && p->ts[p->head] < ts - keep_ms)
        p->head++;
    if (p->head == p->n) p->head = p->n = 0;
    if (p->n == p->cap) {
        if (p->head > 0) {
            memmove(p->ts, p->ts + p->head, (size_t)(p->n - p->head) * 8);
            p->n -= p->head;
            p->head = 0;
        } else {
            size_t got;
            tsvec_t *np = rr_pool_get(&e->pool, sizeof(tsvec_t) + (size_t)p->cap * 2 * 8, &got);
            if (!np) return -1;
            np->cap = (uint32_t)((got - sizeof(tsvec_t)) / 8);
            np->head = 0;
            np->n = p->n;
            memcpy(np->ts, p->ts, (size_t)p->n * 8);
            rr_pool_put(&e->pool, p, sizeof(tsvec_t) + (size_t)p->cap * 8);
            r->p.pend = p = np;
        }
    }
    p->ts[p->n++] = ts;
    return 0;
}

/* Messages of the round with ts >= since. */
uint32_t conv_pend_count_since(const round_t *r, int64_t since)
{
    uint32_t k = 0;
    if (r->pin_n != PIN_SPILLED) {
        for (uint32_t i = r->pin_n; i > 0 && r->start_ts + r->p.pin[i - 1] >= since; i--)
            k++;
        return k;
    }
    const tsvec_t *p = r->p.pend;
    for (uint32_t i = p->n; i > p->head && p->ts[i - 1] >= since; i--)
        k++;
    return k;
}

/* ---- round resolution (SPEC §3 Rounds, §4) ------------------------------ */

static int bucket_of(int64_t wait)
{
    static const int64_t upper[RR_BUCKETS - 1] = {15000,  30000,  60000, 120000,
                                                  180000, 300000, 600000};
    int b = 0;
    while (b < RR_BUCKETS - 1 && wait > upper[b])
        b++;
    return b;
}

void conv_emit_violation(rr_engine_t *e, const viol_t *v, int32_t ymd, rr_reason_t reason)
{
    rr_violation_record_t vr = {.shop_id = v->shop,
                                .day = ymd,
                                .metric = e->cfg.metrics[v->metric].name,
                                .conversation_id = v->conv_id,
                                .buyer_id = v->buyer,
                                .agent_id = v->agent,
                                .round_start_ms = v->start,
                                .answered = v->answered,
                                .reply_ms = v->reply,
                                .wait_ms = v->answered ? v->reply - v->start : 0,
                                .messages = v->msgs,
                                .reason = reason,
                                .final = 1,
                                .version = e->version};
    if (e->sink.violation) e->sink.violation(e->sink.opaque, &vr);
    e->st.violations++;
}

/* SPEC §4 violation reasons. A round answered late is `late`. An unanswered
 * one is `unassigned` when the conversation's first AGENT_ASSIGNED or
 * AGENT_MESSAGE is later than round start + H, else `no_reply`; events are
 * applied in order, so once that first agent event has been applied, or
 * the day is final, the reason is known. 0: not known yet. */
rr_reason_t conv_violation_reason(const rr_engine_t *e, const viol_t *v, const conv_t *c,
                                  int day_final)
{
    if (v->answered) return RR_REASON_LATE;
    if (c->first_agent_ts <= v->start + e->cfg.horizon_ms) return RR_REASON_NO_REPLY;
    if (c->first_agent_ts != INT64_MAX || day_final) return RR_REASON_UNASSIGNED;
    return (rr_reason_t)0;
}

/* Close round r of tracker t: replied (reply_ts, reply_agent) or not. */
void conv_round_resolve(rr_engine_t *e, conv_t *c, hot_t *hc, int t, round_t *r, int replied,
                        int64_t reply_ts, uint64_t reply_agent)
{
    const trk_def_t *td = &e->trk[t];
    const int64_t H = e->cfg.horizon_ms;
    int answered = replied && reply_ts - r->start_ts <= H;
    int64_t wait = answered ? reply_ts - r->start_ts : -1;
    uint64_t agent = r->agent ? r->agent : (answered ? reply_agent : 0);
    cd_t *cd = CD(e, r->cd);
    uint8_t *cf = cd_flags(e, cd, t);
    int last_replied = replied && reply_ts - r->last_ts <= H;
    *cf = (uint8_t)((*cf & ~CDF_LAST_REPLIED) |
                    (last_replied ? CDF_ANY_REPLIED | CDF_LAST_REPLIED : 0));

    shopday_t *sd = SD(e, cd->shopday);
    agentday_t *ad = NULL;
    if (td->per_agent) {
        /* the round's day is its conv-day's: sd is (c->shop, r->day) */
        uint32_t ai;
        if (!agent) {
            if ((ai = sd->ad0) == NONE32) ai = sd->ad0 = day_agentday(e, c->shop, 0, r->day);
        } else if ((ai = hc->ad_cache) == NONE32 || AD(e, ai)->shop != c->shop ||
                   AD(e, ai)->agent != agent || AD(e, ai)->day != r->day) {
            ai = hc->ad_cache = day_agentday(e, c->shop, agent, r->day);
        }
        if (ai != NONE32) ad = AD(e, ai);
    }
    day_t *dy = NULL;
    for (int k = 0; k < td->n; k++) {
        int m = td->metric[k];
        const rr_metric_def_t *md = &e->cfg.metrics[m];
        int bad = !answered || wait > md->threshold_ms;
        switch (md->kind) {
        case RR_KIND_MESSAGE_WITHIN: {
            uint32_t within = replied ? conv_pend_count_since(r, reply_ts - e->mi[m].t) : 0;
            CNT(e, sd, m)[C_DEN] += r->msgs;
            CNT(e, sd, m)[C_NUM] += within;
            if (ad) {
                CNT(e, ad, m)[C_DEN] += r->msgs;
                CNT(e, ad, m)[C_NUM] += within;
            }
            break;
        }
        case RR_KIND_SESSION_WITHIN:
        case RR_KIND_BUYER_WITHIN:
            if (bad) cd->bits |= 1u << m;
            break;
        case RR_KIND_RESPONSE_TIME:
            if (answered) {
                int b = bucket_of(wait);
                int64_t *sc = CNT(e, sd, m);
                sc[C_NUM] += wait;
                sc[C_DEN]++;
                sc[C_BUCKET + b]++;
                if (ad) {
                    int64_t *ac = CNT(e, ad, m);
                    ac[C_NUM] += wait;
                    ac[C_DEN]++;
                    ac[C_BUCKET + b]++;
                }
            } else {
                CNT(e, sd, m)[C_UNANS]++;
                if (ad) CNT(e, ad, m)[C_UNANS]++;
            }
            continue;
        default:
            continue;
        }
        if (!bad) continue;
        viol_t v = {.shop = c->shop,
                    .conv_id = c->id,
                    .buyer = c->buyer,
                    .agent = agent,
                    .start = r->start_ts,
                    .reply = answered ? reply_ts : 0,
                    .conv = rr_slab_index(&e->convs, c),
                    .msgs = r->msgs,
                    .metric = (uint8_t)m,
                    .answered = (uint8_t)answered};
        /* A violation never changes once its reason is known: publish it now
         * rather than hold it until its day is final. */
        rr_reason_t reason = conv_violation_reason(e, &v, c, 0);
        if (reason) {
            if (r->day != e->ymd_day) { /* most violations are of one or two days */
                e->ymd_day = r->day;
                e->ymd = rr_day_to_yyyymmdd(r->day);
            }
            conv_emit_violation(e, &v, e->ymd, reason);
            continue;
        }
        if (!dy && !(dy = day_get(e, r->day))) {
            e->oom = 1;
            break;
        }
        if (VEC_PUSH(dy->viols, v) < 0) e->oom = 1;
    }
    conv_pend_free(e, r);
    r->active = 0;
    hc->rounds_active--;
}

/* A reply of kind `manual` (AGENT_MESSAGE) or effective-only (ROBOT_MESSAGE). */
static void on_reply(rr_engine_t *e, conv_t *c, hot_t *hc, const hev_t *h, int manual)
{
    for (int t = 0; t < e->n_trk; t++) {
        if (!manual && e->trk[t].reply == RR_REPLY_MANUAL) continue;
        round_t *r = &hc->rounds[2 * t];
        if (r[1].active) conv_round_resolve(e, c, hc, t, &r[1], 1, h->ts, h->agent);
        if (r[0].active) conv_round_resolve(e, c, hc, t, &r[0], 1, h->ts, h->agent);
    }
}

static void on_session_end(rr_engine_t *e, conv_t *c, hot_t *hc)
{
    for (int t = 0; t < e->n_trk; t++) {
        round_t *r = &hc->rounds[2 * t];
        if (r[1].active) conv_round_resolve(e, c, hc, t, &r[1], 0, 0, 0);
        if (r[0].active) conv_round_resolve(e, c, hc, t, &r[0], 0, 0, 0);
    }
}

static inline int in_window(int32_t tod, int32_t from, int32_t to)
{
    return tod >= from && tod < to;
}

static void on_buyer_message(rr_engine_t *e, uint32_t ci, conv_t *c, hot_t **phc, cd_t *cd,
                             uint32_t cdi, const hev_t *h, int32_t d, int32_t tod)
{
    hot_t *hc = *phc;
    for (int t = 0; t < e->n_trk; t++) {
        const trk_def_t *td = &e->trk[t];
        if (!in_window(tod, td->from, td->to) || (h->flags & td->excl) ||
            (td->reply == RR_REPLY_MANUAL && !c->manual))
            continue;
        if (!hc && !(*phc = hc = store_hot_make(e, ci))) { /* a round opens: its record */
            e->oom = 1;
            return;
        }
        round_t *r = &hc->rounds[2 * t];
        if (r[0].active && r[0].day != d) { /* local midnight splits the round */
            if (r[1].active)                /* two midnights old: no reply can reach it */
                conv_round_resolve(e, c, hc, t, &r[1], 0, 0, 0);
            r[1] = r[0];
            r[0].active = 0;
            r[0].pin_n = 0; /* its pending ts went with it */
        }
        if (!r[0].active) {
            r[0].active = 1;
            hc->rounds_active++;
            r[0].start_ts = h->ts;
            r[0].agent = c->cur_agent;
            r[0].msgs = 0;
            r[0].cd = cdi;
            r[0].day = d;
            r[0].pin_n = 0;
        }
        r[0].msgs++;
        r[0].last_ts = h->ts;
        if (td->keep_ms && conv_pend_push(e, &r[0], h->ts, td->keep_ms) < 0) e->oom = 1;
        uint8_t *cf = cd_flags(e, cd, t);
        *cf = (uint8_t)((*cf | CDF_HAS) & ~CDF_LAST_REPLIED); /* a new last message */
        if (td->key >= 0) { /* its ts as the time of day: the conv-day is of day d */
            *cd_key_eid(e, cd, t) = h->eid;
            *cd_key_tod(e, cd, t) = (uint32_t)tod;
        }
    }
    for (int u = 0; u < e->n_unas && c->manual; u++) {
        int m = e->unas_metric[u];
        const rr_metric_def_t *md = &e->cfg.metrics[m];
        if (in_window(tod, md->window_from_ms, md->window_to_ms) && !(h->flags & md->excludes))
            cd->bits |= 1u << m;
    }
}

static void on_rating(rr_engine_t *e, uint32_t ci, conv_t *c, cd_t *cd, const hev_t *h, int32_t tod)
{
    for (int s = 0; s < e->n_sat; s++) {
        const rr_metric_def_t *md = &e->cfg.metrics[e->sat_metric[s]];
        if (!c->manual || !in_window(tod, md->window_from_ms, md->window_to_ms) ||
            (h->flags & md->excludes))
            continue;
        day_rate(e, ci, cd, s, h->rating, c->cur_agent);
    }
}

/* Apply one event to its conversation, in (ts, event_id) order. */
void conv_apply(rr_engine_t *e, const hev_t *h)
{
    uint32_t ci = h->conv;
    conv_t *c = CONV(e, ci);
    hot_t *hc = c->hot == NONE32 ? NULL : HOT(e, c->hot); /* while a round waits */
    int32_t d, tod;
    rr_tz_local(e->tz, &e->tzc, h->ts, &d, &tod);
    uint32_t cdi;
    cd_t *cd = day_convday(e, ci, d, &cdi);
    if (!cd) return;

    switch (h->type) {
    case RR_EVENT_BUYER_MESSAGE:
        on_buyer_message(e, ci, c, &hc, cd, cdi, h, d, tod);
        break;
    case RR_EVENT_AGENT_MESSAGE:
        if (h->ts < c->first_agent_ts) c->first_agent_ts = h->ts;
        c->manual = 1;
        if (hc) on_reply(e, c, hc, h, 1);
        break;
    case RR_EVENT_ROBOT_MESSAGE:
        if (hc) on_reply(e, c, hc, h, 0);
        break;
    case RR_EVENT_AGENT_ASSIGNED:
        if (h->ts < c->first_agent_ts) c->first_agent_ts = h->ts;
        c->cur_agent = h->agent;
        c->manual = 1;
        break;
    case RR_EVENT_TRANSFER_TO_MANUAL:
        c->manual = 1;
        break;
    case RR_EVENT_SESSION_END:
        if (hc) on_session_end(e, c, hc);
        break;
    case RR_EVENT_RATING:
        on_rating(e, ci, c, cd, h, tod);
        break;
    default: /* SESSION_START, SYSTEM_MESSAGE, RATING_INVITE: only open the day */
        break;
    }
    if (hc && !hc->rounds_active) store_hot_free(e, c->hot); /* no round waits */
}
