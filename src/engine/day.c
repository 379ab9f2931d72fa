/* engine/day.c: per-day accumulators and a day's finalisation (SPEC §5).
 *
 * Owns the day records: open days (day_t, ascending in e->days), and per
 * (shop, day) shop-days, per (shop, agent, day) agent-days and per
 * (conversation, local day) conv-days in their slabs and maps, created on
 * first use by the round machine (conv.c). When the job watermark has passed
 * a day's end + H, day_finalize_oldest folds its conv-days (sessions, buyers
 * one shop at a time, satisfaction, unassigned), closes its rounds still
 * waiting as unanswered, publishes shop_day, agent_day, alert and held
 * violation records, final, once, and frees the day.
 *
 * Uses the records through engine_int.h, conv.c's round resolution and
 * violations, provisional.c's revision at finalisation (when asked for) and
 * metrics/alert. Not thread-safe. Layer: engine.
 */
#include "engine/engine_int.h"

#include <stdlib.h>
#include <string.h>

/* ---- days ------------------------------------------------------------- */

day_t *day_get(rr_engine_t *e, int32_t d)
{
    size_t i = e->days.n;
    while (i > 0 && e->days.v[i - 1].day > d)
        i--;
    if (i > 0 && e->days.v[i - 1].day == d) return &e->days.v[i - 1];
    if (vec_reserve_((void **)&e->days.v, &e->days.cap, e->days.n + 1, sizeof(day_t)) < 0)
        return NULL;
    memmove(&e->days.v[i + 1], &e->days.v[i], (e->days.n - i) * sizeof(day_t));
    e->days.n++;
    day_t *dy = &e->days.v[i];
    memset(dy, 0, sizeof *dy);
    dy->day = d;
    dy->end_ms = rr_tz_day_end(e->tz, d);
    return dy;
}

static uint32_t day_shopday(rr_engine_t *e, uint64_t shop, int32_t d)
{
    uint32_t i = rr_map3_get(&e->sd_map, shop, (uint64_t)(int64_t)d, 0);
    if (i != NONE32) return i;
    day_t *dy = day_get(e, d);
    if (!dy) return NONE32;
    i = rr_slab_alloc(&e->sds);
    if (i == NONE32 || rr_map3_put(&e->sd_map, shop, (uint64_t)(int64_t)d, 0, i) < 0 ||
        VEC_PUSH(dy->shopdays, i) < 0)
        return NONE32;
    SD(e, i)->shop = shop;
    SD(e, i)->day = d;
    SD(e, i)->ad0 = NONE32;
    return i;
}

/* The index of (shop, agent, d)'s agent-day, created on first use; NONE32
 * (and e->oom) when out of memory. */
uint32_t day_agentday(rr_engine_t *e, uint64_t shop, uint64_t agent, int32_t d)
{
    uint32_t i = rr_map3_get(&e->ad_map, shop, agent, (uint64_t)(int64_t)d);
    if (i != NONE32) return i;
    day_t *dy = day_get(e, d);
    if (!dy) goto oom;
    i = rr_slab_alloc(&e->ads);
    if (i == NONE32 || rr_map3_put(&e->ad_map, shop, agent, (uint64_t)(int64_t)d, i) < 0 ||
        VEC_PUSH(dy->agentdays, i) < 0)
        goto oom;
    agentday_t *a = AD(e, i);
    a->shop = shop;
    a->agent = agent;
    a->day = d;
    return i;
oom:
    e->oom = 1;
    return NONE32;
}

/* The conversation's record for local day d, created on first use; its
 * index in *k_out. */
cd_t *day_convday(rr_engine_t *e, uint32_t ci, int32_t d, uint32_t *k_out)
{
    conv_t *c = CONV(e, ci);
    for (uint32_t k = c->cd_head; k != NONE32; k = CD(e, k)->next)
        if (CD(e, k)->day == d) {
            *k_out = k;
            return CD(e, k);
        }
    uint32_t sd = day_shopday(e, c->shop, d);
    day_t *dy = day_get(e, d);
    /* the record's own conv-day when it is free (engine_int.h), else one from the slab */
    uint32_t k = CD(e, ci | CD_INLINE)->day == CD_NO_DAY ? ci | CD_INLINE : rr_slab_alloc(&e->cds);
    if (sd == NONE32 || !dy || k == NONE32 || VEC_PUSH(dy->cds, k) < 0) {
        e->oom = 1;
        return NULL;
    }
    memset(CD(e, k), 0, e->cd_size);
    if (!(k & CD_INLINE)) *(uint32_t *)rr_slab_at(&e->cds, k) = ci; /* cd_conv */
    c = CONV(e, ci); /* slabs do not move convs, but keep the habit */
    cd_t *r = CD(e, k);
    r->shopday = sd;
    r->day = d;
    r->next = c->cd_head;
    c->cd_head = k;
    *k_out = k;
    return r;
}

/* ---- finalisation (SPEC §5) -------------------------------------------- */

/* Fold a conv-day into its buyer's accumulators. pend (provisional
 * revisions only; 0 when final) has bit m set where the conv-day's outcome
 * for buyer metric m is not decided yet. */
void day_fold_buyer(rr_engine_t *e, const conv_t *c, cd_t *cd, uint32_t pend)
{
    if (!e->n_buyer) return;
    int any = 0;
    for (int b = 0; b < e->n_buyer; b++)
        any |= *cd_flags(e, cd, e->mi[e->buyer_metric[b]].trk) & CDF_HAS;
    if (!any) return;
    uint32_t i = rr_map3_get(&e->buyer_map, c->shop, c->buyer, 0);
    if (i == NONE32) {
        /* Reserve everything before the map entry exists: an entry must never
         * point past the accumulators or miss from the keys that empty it. */
        i = (uint32_t)(e->buyer_acc.n / (size_t)e->n_buyer);
        if (vec_reserve_((void **)&e->buyer_acc.v, &e->buyer_acc.cap,
                         e->buyer_acc.n + (size_t)e->n_buyer, sizeof(buyer_acc_t)) < 0 ||
            vec_reserve_((void **)&e->buyer_keys.v, &e->buyer_keys.cap, e->buyer_keys.n + 2,
                         sizeof(uint64_t)) < 0 ||
            rr_map3_put(&e->buyer_map, c->shop, c->buyer, 0, i) < 0) {
            e->oom = 1;
            return;
        }
        memset(&e->buyer_acc.v[e->buyer_acc.n], 0, (size_t)e->n_buyer * sizeof(buyer_acc_t));
        e->buyer_acc.n += (size_t)e->n_buyer;
        e->buyer_keys.v[e->buyer_keys.n++] = c->shop;
        e->buyer_keys.v[e->buyer_keys.n++] = c->buyer;
    }
    buyer_acc_t *acc = &e->buyer_acc.v[(size_t)i * (size_t)e->n_buyer];
    for (int b = 0; b < e->n_buyer; b++) {
        int m = e->buyer_metric[b];
        const rr_metric_def_t *md = &e->cfg.metrics[m];
        const uint8_t cf = *cd_flags(e, cd, e->mi[m].trk);
        if (!(cf & CDF_HAS)) continue;
        buyer_acc_t *a = &acc[b];
        a->shopday = cd->shopday;
        uint8_t p = (uint8_t)((pend >> m) & 1u);
        if (md->kind == RR_KIND_BUYER_WITHIN) {
            a->flag |= (cd->bits >> m) & 1u; /* flag: some message waited > T */
            a->pend |= p;
        } else if (md->require == RR_REQUIRE_ANY) {
            a->flag |= (cf & CDF_ANY_REPLIED) != 0;
            a->pend |= p;
        } else {
            /* require=last: its tracker has a key; the conv-days folded together are
             * of one day, so its time of day orders them as its ts would */
            int t = e->mi[m].trk;
            int64_t ts = *cd_key_tod(e, cd, t);
            uint64_t eid = *cd_key_eid(e, cd, t);
            if (!a->has || ts > a->last_ts || (ts == a->last_ts && eid > a->last_eid)) {
                a->last_ts = ts;
                a->last_eid = eid;
                a->last_replied = (cf & CDF_LAST_REPLIED) != 0;
                a->pend = p; /* only the last message's reply counts */
            }
        }
        a->has = 1;
    }
}

/* Score the accumulated buyers into their shop-days' counts (pv: into a
 * provisional revision's copies). A buyer whose outcome is still open is
 * left out: decided bad, decided good, or not counted yet. */
void day_flush_buyers(rr_engine_t *e, prov_t *pv)
{
    if (!e->n_buyer || !e->buyer_map.count) return;
    /* the accumulators are dense, n_buyer per (shop, buyer): walk them, not the map */
    for (size_t i = 0; i < e->buyer_acc.n; i += (size_t)e->n_buyer) {
        const buyer_acc_t *acc = &e->buyer_acc.v[i];
        for (int b = 0; b < e->n_buyer; b++) {
            int m = e->buyer_metric[b];
            const rr_metric_def_t *md = &e->cfg.metrics[m];
            const buyer_acc_t *a = &acc[b];
            if (!a->has) continue;
            int64_t *sc = prov_sd_counts(e, pv, a->shopday) + e->mi[m].off;
            if (md->kind == RR_KIND_BUYER_WITHIN) {
                if (a->pend && !a->flag) /* bad once one message waited too long */
                    continue;
                sc[C_NUM] += !a->flag;
            } else if (md->require == RR_REQUIRE_ANY) {
                if (a->pend && !a->flag) /* good once one message got its reply */
                    continue;
                sc[C_NUM] += a->flag;
            } else {
                if (a->pend) continue;
                sc[C_NUM] += a->last_replied;
            }
            sc[C_DEN]++;
        }
    }
    for (size_t i = 0; i + 1 < e->buyer_keys.n; i += 2)
        rr_map3_del(&e->buyer_map, e->buyer_keys.v[i], e->buyer_keys.v[i + 1], 0);
    e->buyer_keys.n = 0;
    e->buyer_acc.n = 0;
}

/* Conversation ci's rating of day dy for satisfaction slot s (its conv-day
 * has bit m of the metric set), or NULL. */
const sat_t *day_sat(const rr_engine_t *e, const day_t *dy, uint32_t ci, int s)
{
    uint32_t i = rr_map3_get(&e->sat_map, ci, (uint64_t)(int64_t)dy->day, (uint64_t)s);
    return i == NONE32 ? NULL : &dy->sats.v[i];
}

/* Record conversation ci's in-scope rating of conv-day cd for satisfaction
 * slot s: the last one counts. */
void day_rate(rr_engine_t *e, uint32_t ci, cd_t *cd, int s, uint32_t rating, uint64_t agent)
{
    day_t *dy = day_get(e, cd->day); /* exists: cd is open */
    if (!dy) {
        e->oom = 1;
        return;
    }
    uint64_t day = (uint64_t)(int64_t)cd->day;
    uint32_t i = rr_map3_get(&e->sat_map, ci, day, (uint64_t)s);
    if (i == NONE32) {
        sat_t z = {.conv = ci, .shopday = cd->shopday, .s = (uint32_t)s};
        i = (uint32_t)dy->sats.n;
        if (VEC_PUSH(dy->sats, z) < 0 || rr_map3_put(&e->sat_map, ci, day, (uint64_t)s, i) < 0) {
            e->oom = 1;
            return;
        }
    }
    dy->sats.v[i].rating = rating;
    dy->sats.v[i].agent = agent;
    cd->bits |= 1u << e->sat_metric[s];
}

static void day_fold_cd(rr_engine_t *e, const day_t *dy, uint32_t k)
{
    cd_t *cd = CD(e, k);
    uint32_t ci = cd_conv(e, k);
    conv_t *c = CONV(e, ci);
    /* Rounds of this day still waiting: every reply that could count has been
     * applied by now (ts <= day end + H < watermark), so they went unanswered. */
    hot_t *hc = c->hot == NONE32 ? NULL : HOT(e, c->hot);
    for (int t = 0; hc && t < e->n_trk; t++) {
        round_t *r = &hc->rounds[2 * t];
        if (r[1].active && r[1].day == dy->day) conv_round_resolve(e, c, hc, t, &r[1], 0, 0, 0);
        if (r[0].active && r[0].day == dy->day) conv_round_resolve(e, c, hc, t, &r[0], 0, 0, 0);
    }
    if (hc && !hc->rounds_active) store_hot_free(e, c->hot); /* no round waits any more */
    shopday_t *sd = SD(e, cd->shopday);
    for (size_t m = 0; m < e->cfg.n_metrics; m++) {
        const rr_metric_def_t *md = &e->cfg.metrics[m];
        switch (md->kind) {
        case RR_KIND_SESSION_WITHIN:
            if (*cd_flags(e, cd, e->mi[m].trk) & CDF_HAS) {
                CNT(e, sd, m)[C_DEN]++;
                CNT(e, sd, m)[C_NUM] += !((cd->bits >> m) & 1u);
            }
            break;
        case RR_KIND_UNASSIGNED:
            if ((cd->bits >> m) & 1u) {
                CNT(e, sd, m)[C_DEN]++;
                CNT(e, sd, m)[C_NUM] += c->first_agent_ts > dy->end_ms + e->cfg.horizon_ms;
            }
            break;
        case RR_KIND_SATISFACTION: {
            const sat_t *cs = (cd->bits >> m) & 1u ? day_sat(e, dy, ci, e->mi[m].sat) : NULL;
            if (!cs) break;
            int good = cs->rating >= 4;
            CNT(e, sd, m)[C_DEN]++;
            CNT(e, sd, m)[C_NUM] += good;
            uint32_t ai = day_agentday(e, c->shop, cs->agent, dy->day);
            sd = SD(e, cd->shopday);
            if (ai != NONE32) {
                agentday_t *ad = AD(e, ai);
                CNT(e, ad, m)[C_DEN]++;
                CNT(e, ad, m)[C_NUM] += good;
            }
            break;
        }
        default:
            break;
        }
    }
    day_fold_buyer(e, c, cd, 0);
    /* unlink from the conversation's list */
    uint32_t *link = &c->cd_head;
    while (*link != NONE32 && *link != k)
        link = &CD(e, *link)->next;
    if (*link == k) *link = cd->next;
    if (k & CD_INLINE)
        cd->day = CD_NO_DAY;
    else if (rr_slab_release(&e->cds, k) < 0)
        e->oom = 1;
    if (c->cd_head == NONE32) store_quiet(e, ci); /* its last open day: it may be freed */
}

/* The packed counts as the rr_value_t array records carry (engine scratch). */
static const rr_value_t *expand(rr_engine_t *e, const int64_t *c)
{
    for (size_t m = 0; m < e->cfg.n_metrics; m++) {
        const int64_t *x = c + e->mi[m].off;
        rr_value_t *v = &e->expanded[m];
        memset(v, 0, sizeof *v);
        v->num = x[C_NUM];
        v->den = x[C_DEN];
        if (e->cfg.metrics[m].kind == RR_KIND_RESPONSE_TIME) {
            v->unanswered = x[C_UNANS];
            memcpy(v->buckets, x + C_BUCKET, sizeof v->buckets);
        }
    }
    return e->expanded;
}

/* Publish one shop_day or agent_day record of counts c: final when
 * revision is 0, else that provisional revision. */
void day_publish(rr_engine_t *e, int is_agent, uint64_t shop, uint64_t agent, int32_t ymd,
                 uint32_t revision, const int64_t *c)
{
    rr_day_record_t rec = {.is_agent = is_agent,
                           .shop_id = shop,
                           .agent_id = agent,
                           .day = ymd,
                           .final = revision == 0,
                           .revision = revision,
                           .version = e->version,
                           .cfg = &e->cfg,
                           .values = expand(e, c)};
    if (e->sink.day) e->sink.day(e->sink.opaque, &rec);
}

/* An agent-day is published when a per-agent metric has a non-zero den or
 * unanswered (SPEC §6). */
int day_agent_counts_any(const rr_engine_t *e, const int64_t *c)
{
    for (size_t m = 0; m < e->cfg.n_metrics; m++)
        if (c[e->mi[m].off + C_DEN] != 0 ||
            (e->cfg.metrics[m].kind == RR_KIND_RESPONSE_TIME && c[e->mi[m].off + C_UNANS] != 0))
            return 1;
    return 0;
}

static void day_emit(rr_engine_t *e, day_t *dy)
{
    int32_t ymd = rr_day_to_yyyymmdd(dy->day);
    int64_t num[RR_MAX_METRICS], den[RR_MAX_METRICS];
    for (size_t i = 0; i < dy->shopdays.n; i++) {
        uint32_t k = dy->shopdays.v[i];
        shopday_t *sd = SD(e, k);
        day_publish(e, 0, sd->shop, 0, ymd, 0, sd->c);
        e->st.shop_days++;
        for (size_t m = 0; m < e->cfg.n_metrics; m++) {
            num[m] = CNT(e, sd, m)[C_NUM];
            den[m] = CNT(e, sd, m)[C_DEN];
        }
        for (size_t a = 0; a < e->cfg.n_alerts; a++) {
            double value = 0;
            if (!rr_alert_eval(&e->alerts[a], num, den, &value)) continue;
            rr_alert_record_t ar = {.shop_id = sd->shop,
                                    .day = ymd,
                                    .rule = e->cfg.alerts[a].name,
                                    .value = value,
                                    .final = 1,
                                    .version = e->version};
            if (e->sink.alert) e->sink.alert(e->sink.opaque, &ar);
            e->st.alerts++;
        }
        rr_map3_del(&e->sd_map, sd->shop, (uint64_t)(int64_t)dy->day, 0);
        if (rr_slab_release(&e->sds, k) < 0) e->oom = 1;
    }
    for (size_t i = 0; i < dy->agentdays.n; i++) {
        uint32_t k = dy->agentdays.v[i];
        agentday_t *ad = AD(e, k);
        if (ad->revised || day_agent_counts_any(e, ad->c)) {
            day_publish(e, 1, ad->shop, ad->agent, ymd, 0, ad->c);
            e->st.agent_days++;
        }
        rr_map3_del(&e->ad_map, ad->shop, ad->agent, (uint64_t)(int64_t)dy->day);
        ad->day = INT32_MIN; /* a conversation's ad_cache must not match it any more */
        if (rr_slab_release(&e->ads, k) < 0) e->oom = 1;
    }
    for (size_t i = 0; i < dy->viols.n; i++) {
        const viol_t *v = &dy->viols.v[i];
        conv_emit_violation(e, v, ymd, conv_violation_reason(e, v, CONV(e, v->conv), 1));
    }
}

/* Order the day's conv-days by shop-day (a counting sort), so buyers can be
 * scored one shop at a time in a small map that stays in cache, instead of
 * in one map holding every buyer of the day. */
uint32_t *day_cds_by_shop(rr_engine_t *e, const day_t *dy)
{
    uint32_t *count = calloc(e->sds.n + 1, sizeof *count);
    uint32_t *order = malloc((dy->cds.n ? dy->cds.n : 1) * sizeof *order);
    if (!count || !order) {
        free(count);
        free(order);
        return NULL;
    }
    for (size_t i = 0; i < dy->cds.n; i++)
        count[CD(e, dy->cds.v[i])->shopday + 1]++;
    for (size_t i = 1; i <= e->sds.n; i++)
        count[i] += count[i - 1];
    for (size_t i = 0; i < dy->cds.n; i++)
        order[count[CD(e, dy->cds.v[i])->shopday]++] = dy->cds.v[i];
    free(count);
    return order;
}

void day_finalize_oldest(rr_engine_t *e)
{
    if (e->provisional_at_final && prov_publish_day(e, 0) < 0) e->oom = 1;
    day_t *dy = &e->days.v[0];
    uint32_t *order = day_cds_by_shop(e, dy);
    if (!order) { /* out of memory: still exact, one map for all the day's buyers */
        e->oom = 1;
        order = dy->cds.v;
    }
    /* day_fold_cd may append to dy's vectors (violations, agent-days): index, not pointer */
    uint32_t shopday = NONE32;
    size_t n = e->days.v[0].cds.n;
    for (size_t i = 0; i < n; i++) {
        /* shop order is random in memory: load conv-days, then their conversations, ahead */
        if (i + 16 < n) __builtin_prefetch(CD(e, order[i + 16]));
        if (i + 8 < n) __builtin_prefetch(CONV(e, cd_conv(e, order[i + 8])));
        if (i + 4 < n) { /* and what day_fold_cd reads through the conversation */
            const conv_t *c = CONV(e, cd_conv(e, order[i + 4]));
            if (c->hot != NONE32) prefetch_lines(HOT(e, c->hot), e->hots.size);
            if (e->n_buyer) rr_map3_prefetch(&e->buyer_map, c->shop, c->buyer, 0);
        }
        uint32_t k = order[i];
        if (CD(e, k)->shopday != shopday && order != e->days.v[0].cds.v) {
            day_flush_buyers(e, NULL);
            shopday = CD(e, k)->shopday;
        }
        day_fold_cd(e, &e->days.v[0], k);
    }
    dy = &e->days.v[0];
    day_flush_buyers(e, NULL);
    if (order != dy->cds.v) free(order);
    day_emit(e, dy);
    int64_t through = dy->end_ms + e->cfg.horizon_ms;
    if (through > e->final_through) e->final_through = through;
    for (size_t i = 0; i < dy->sats.n; i++)
        rr_map3_del(&e->sat_map, dy->sats.v[i].conv, (uint64_t)(int64_t)dy->day, dy->sats.v[i].s);
    free(dy->cds.v);
    free(dy->shopdays.v);
    free(dy->agentdays.v);
    free(dy->viols.v);
    free(dy->sats.v);
    memmove(&e->days.v[0], &e->days.v[1], (e->days.n - 1) * sizeof(day_t));
    e->days.n--;
}
