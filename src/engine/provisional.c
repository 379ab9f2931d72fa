/* engine/provisional.c: provisional revisions of open days (SPEC "today so
 * far"; docs/engine.md, "Provisional revisions"): rr_engine_provisional.
 *
 * A revision is the day's finalisation (day.c) done on copies of its counts,
 * plus the rule for rounds still waiting for a reply: count what the
 * partition's watermark has decided, leave out what can still go either way.
 * It changes nothing in the engine's results except the agent-days it
 * creates (empty) and their `revised` mark, which makes their final record
 * published even when empty.
 *
 * Owns prov_t, the copies of one revision (freed before it returns). Uses the
 * records through engine_int.h, day.c's folding and publication, conv.c's
 * pending timestamps. Not thread-safe. Layer: engine.
 */
#include "engine/engine_int.h"

#include <stdlib.h>
#include <string.h>

/* ---- provisional revisions (docs/engine.md, "Provisional revisions") ------
 *
 * An open day's shop_day and agent_day records as they stand, for "today so
 * far" dashboards: the day's finalisation done on copies of its counts, with
 * one difference. A final fold knows every round's outcome; here a round may
 * still be waiting for its reply. Its partition's watermark D says what is
 * decided: every event with ts < D has been applied, and any later one has
 * ts >= D. So a buyer message m of a waiting round is already a miss for a
 * metric with limit t = min(T, H) once D - m.ts > t; the round is
 * unanswered once D - start > H; its last message has no reply once
 * D - last > H. What can still go either way is left out (not counted as
 * good or bad), and so is a conversation or buyer whose outcome hangs on
 * it. At the day's end + H nothing is left open and the fold is the final
 * one: the engine's tests check exactly that. */

struct prov {
    uint32_t *sd_row; /* per shop-day slab index: its row in sc (this day's only) */
    int64_t *sc;      /* the day's shop-day counts, n_counts per row */
    uint32_t *ad_row; /* per agent-day slab index: its row in ac, or NONE32 */
    size_t ad_row_cap;
    int64_t *ac; /* agent-day counts copied so far */
    size_t ac_n, ac_cap;
    unsigned char *cd; /* the conv-day being folded, copied */
    int failed;
};

int64_t *prov_sd_counts(rr_engine_t *e, prov_t *pv, uint32_t k)
{
    return pv ? pv->sc + (size_t)pv->sd_row[k] * (size_t)e->n_counts : SD(e, k)->c;
}

/* The copy of agent-day (shop, agent, day)'s counts, the agent-day created
 * if it has none yet (empty, it publishes nothing); NULL out of memory. */
static int64_t *prov_ad(rr_engine_t *e, prov_t *pv, uint64_t shop, uint64_t agent, int32_t day)
{
    uint32_t k = day_agentday(e, shop, agent, day);
    if (k == NONE32) goto fail;
    if (k >= pv->ad_row_cap) {
        size_t cap = pv->ad_row_cap ? pv->ad_row_cap : 1024;
        while (cap <= k)
            cap *= 2;
        uint32_t *nr = realloc(pv->ad_row, cap * sizeof *nr);
        if (!nr) goto fail;
        memset(nr + pv->ad_row_cap, 0xff, (cap - pv->ad_row_cap) * sizeof *nr);
        pv->ad_row = nr;
        pv->ad_row_cap = cap;
    }
    size_t w = (size_t)e->n_counts;
    if (pv->ad_row[k] == NONE32) {
        if (vec_reserve_((void **)&pv->ac, &pv->ac_cap, (pv->ac_n + 1) * w, sizeof(int64_t)) < 0)
            goto fail;
        memcpy(pv->ac + pv->ac_n * w, AD(e, k)->c, w * sizeof(int64_t));
        pv->ad_row[k] = (uint32_t)pv->ac_n++;
    }
    return pv->ac + (size_t)pv->ad_row[k] * w;
fail:
    pv->failed = 1;
    return NULL;
}

/* a - b > t, for a up to INT64_MAX (an ended partition decides everything) */
static inline int passed(int64_t a, int64_t b, int64_t t)
{
    return a > b && a - b > t;
}

/* What round r (still waiting, of tracker t) adds to the copies, decided at
 * D; the copy cd takes its bad-round bits. (Its reply flags need nothing: a
 * waiting round's last message cleared CDF_LAST_REPLIED, and a reply from
 * now on sets them or nothing.) Returns the metrics whose outcome for this
 * conv-day it leaves open. */
static uint32_t prov_round(rr_engine_t *e, prov_t *pv, const conv_t *c, int t, const round_t *r,
                           int64_t D, cd_t *cd)
{
    const trk_def_t *td = &e->trk[t];
    const int64_t H = e->cfg.horizon_ms;
    /* a reply from now on comes too late to count for the round: unanswered,
     * so its agent is settled (conv_round_resolve: the replier's only if answered) */
    int dead = passed(D, r->start_ts, H);
    uint32_t open = 0;
    int64_t *ad = NULL;
    if (td->per_agent && (r->agent || dead)) ad = prov_ad(e, pv, c->shop, r->agent, r->day);
    int64_t *sc = prov_sd_counts(e, pv, cd->shopday);
    for (int k = 0; k < td->n; k++) {
        int m = td->metric[k];
        const rr_metric_def_t *md = &e->cfg.metrics[m];
        int64_t *s = sc + e->mi[m].off, *a = ad ? ad + e->mi[m].off : NULL;
        switch (md->kind) {
        case RR_KIND_MESSAGE_WITHIN: {
            /* messages before D - t can no longer be answered within t */
            int64_t since = D == INT64_MAX ? INT64_MAX : D - e->mi[m].t;
            uint32_t missed = r->msgs - conv_pend_count_since(r, since);
            s[C_DEN] += missed;
            if (a) a[C_DEN] += missed;
            break;
        }
        case RR_KIND_SESSION_WITHIN:
        case RR_KIND_BUYER_WITHIN:
            if (passed(D, r->start_ts, e->mi[m].t))
                cd->bits |= 1u << m;
            else
                open |= 1u << m;
            break;
        case RR_KIND_RESPONSE_TIME:
            if (dead) {
                s[C_UNANS]++;
                if (a) a[C_UNANS]++;
            }
            break;
        case RR_KIND_BUYER_REPLIED: /* a reply within H of its last message */
            if (!passed(D, r->last_ts, H)) open |= 1u << m;
            break;
        default:
            break;
        }
    }
    return open;
}

/* day_fold_cd on copies: conv-day k of open day dy as it stands. */
static void prov_fold_cd(rr_engine_t *e, prov_t *pv, const day_t *dy, uint32_t k)
{
    cd_t *cd = (cd_t *)pv->cd;
    memcpy(cd, CD(e, k), e->cd_size);
    const uint32_t ci = cd_conv(e, k);
    const conv_t *c = CONV(e, ci);
    const partition_t *p = &e->parts.v[c->part];
    const int64_t D = p->ended ? INT64_MAX : part_wm(e, p);
    const int64_t H = e->cfg.horizon_ms;
    uint32_t open = 0;
    const hot_t *hc = c->hot == NONE32 ? NULL : HOT(e, c->hot);
    for (int t = 0; hc && t < e->n_trk; t++) {
        const round_t *r = &hc->rounds[2 * t];
        if (r[1].active && r[1].day == dy->day) open |= prov_round(e, pv, c, t, &r[1], D, cd);
        if (r[0].active && r[0].day == dy->day) open |= prov_round(e, pv, c, t, &r[0], D, cd);
    }
    for (size_t m = 0; m < e->cfg.n_metrics; m++) {
        const rr_metric_def_t *md = &e->cfg.metrics[m];
        int64_t *s = prov_sd_counts(e, pv, cd->shopday) + e->mi[m].off;
        int bad = (cd->bits >> m) & 1u;
        switch (md->kind) {
        case RR_KIND_SESSION_WITHIN:
            if (!(*cd_flags(e, cd, e->mi[m].trk) & CDF_HAS) || (!bad && ((open >> m) & 1u))) break;
            s[C_DEN]++;
            s[C_NUM] += !bad;
            break;
        case RR_KIND_UNASSIGNED: /* decided by an agent in time, or by end + H */
            if (!bad) break;
            if (c->first_agent_ts <= dy->end_ms + H) {
                s[C_DEN]++;
            } else if (passed(D, dy->end_ms, H)) {
                s[C_DEN]++;
                s[C_NUM]++;
            }
            break;
        case RR_KIND_SATISFACTION: { /* the last rating so far */
            const sat_t *cs = bad ? day_sat(e, dy, ci, e->mi[m].sat) : NULL;
            if (!cs) break;
            int good = cs->rating >= 4;
            s[C_DEN]++;
            s[C_NUM] += good;
            int64_t *a = prov_ad(e, pv, c->shop, cs->agent, dy->day);
            if (a) {
                a[e->mi[m].off + C_DEN]++;
                a[e->mi[m].off + C_NUM] += good;
            }
            break;
        }
        default:
            break;
        }
    }
    day_fold_buyer(e, c, cd, open);
}

/* Publish open day e->days.v[di] as it stands, as its next revision.
 * Returns the records published, or -1 out of memory (then none). */
int64_t prov_publish_day(rr_engine_t *e, size_t di)
{
    const day_t *dy = &e->days.v[di];
    const size_t w = (size_t)e->n_counts, nsd = dy->shopdays.n;
    prov_t pv = {0};
    int64_t published = 0;
    uint32_t *order = NULL;
    pv.sd_row = malloc((e->sds.n ? e->sds.n : 1) * sizeof *pv.sd_row);
    pv.sc = malloc((nsd ? nsd : 1) * w * sizeof *pv.sc);
    pv.cd = malloc(e->cd_size);
    order = day_cds_by_shop(e, dy); /* as finalisation: buyers one shop at a time */
    if (!pv.sd_row || !pv.sc || !pv.cd || !order) {
        published = -1;
        goto out;
    }
    for (size_t i = 0; i < nsd; i++) {
        uint32_t k = dy->shopdays.v[i];
        pv.sd_row[k] = (uint32_t)i;
        memcpy(pv.sc + i * w, SD(e, k)->c, w * sizeof *pv.sc);
    }
    uint32_t shopday = NONE32;
    for (size_t i = 0; i < dy->cds.n; i++) { /* prov_ad may grow dy's agent-days: not its cds */
        uint32_t k = order[i];
        if (CD(e, k)->shopday != shopday) {
            day_flush_buyers(e, &pv);
            shopday = CD(e, k)->shopday;
        }
        prov_fold_cd(e, &pv, dy, k);
    }
    day_flush_buyers(e, &pv);
    if (pv.failed) {
        published = -1;
        goto out;
    }
    day_t *d = &e->days.v[di];
    d->revision++;
    int32_t ymd = rr_day_to_yyyymmdd(d->day);
    for (size_t i = 0; i < nsd; i++) {
        day_publish(e, 0, SD(e, d->shopdays.v[i])->shop, 0, ymd, d->revision, pv.sc + i * w);
        published++;
    }
    for (size_t i = 0; i < d->agentdays.n; i++) {
        uint32_t k = d->agentdays.v[i];
        agentday_t *ad = AD(e, k);
        const int64_t *ac =
            k < pv.ad_row_cap && pv.ad_row[k] != NONE32 ? pv.ac + (size_t)pv.ad_row[k] * w : ad->c;
        /* an earlier revision is replaced, even by nothing */
        if (!ad->revised && !day_agent_counts_any(e, ac)) continue;
        ad->revised = 1;
        day_publish(e, 1, ad->shop, ad->agent, ymd, d->revision, ac);
        published++;
    }
    e->st.provisional += (uint64_t)published;
out:
    free(order);
    free(pv.sd_row);
    free(pv.sc);
    free(pv.cd);
    free(pv.ad_row);
    free(pv.ac);
    return published;
}

int64_t rr_engine_provisional(rr_engine_t *e)
{
    int64_t n = 0;
    for (size_t i = 0; !e->finished && i < e->days.n; i++) {
        int64_t k = prov_publish_day(e, i);
        if (k < 0) return -1;
        n += k;
    }
    return n;
}
