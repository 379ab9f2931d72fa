/* Provisional revisions (SPEC §5, docs/engine.md "Provisional revisions").
 *
 * By hand: what a revision counts while rounds still wait for replies (a
 * message is a miss once its limit has passed at the watermark, a round
 * unanswered once H has; what can still go either way is left out), and
 * that revisions are numbered per day across a checkpoint.
 *
 * On generated traffic (every delivery knob, two partitions, three days):
 * a revision made just before a day is final carries exactly the final
 * counts, for every shop_day and agent_day; revisions made along the way
 * change no final record, never count more than the final for the counts
 * that only grow, are numbered 1, 2, ... per key, and every record they
 * published is replaced by a final one. */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/engine_harness.h"
#include "gen_events.h"
#include "base/membuf.h"

/* ---- by hand -------------------------------------------------------------- */

/* The newest record of the key (agent SHOP: the shop_day), or NULL. */
static const cap_day_t *newest(const capture_t *c, uint64_t shop, uint64_t agent, int32_t day)
{
    const cap_day_t *found = NULL;
    for (size_t i = 0; i < c->n_days; i++) {
        const cap_day_t *d = &c->days[i];
        int is_agent = agent != SHOP;
        if (d->is_agent == is_agent && d->shop == shop && d->day == day &&
            (!is_agent || d->agent == agent) && (!found || d->seq > found->seq))
            found = d;
    }
    return found;
}

/* Publish a revision; the shop's newest shop_day must be it. */
static const cap_day_t *revise(harness_t *h, uint64_t shop)
{
    size_t before = h->cap.n_days;
    cr_assert_geq(rr_engine_provisional(h->e), 1);
    const cap_day_t *d = newest(&h->cap, shop, SHOP, DAY1122);
    cr_assert_not_null(d);
    cr_assert_geq(d->seq, before, "no new revision of shop %" PRIu64, shop);
    cr_assert_eq(d->final, 0);
    return d;
}

#define EXPECT_VAL(h, d, metric, n, dn)                                                            \
    do {                                                                                           \
        rr_value_t v_ = cap_value(&(h)->cap, (d), (metric));                                       \
        cr_expect(v_.num == (n) && v_.den == (dn), "%s: %" PRId64 "/%" PRId64 ", want %d/%d",      \
                  (metric), v_.num, v_.den, (n), (dn));                                            \
    } while (0)

/* Events of another shop (2) move the partition's watermark to ts - 5 s. */
static void watermark_to(harness_t *h, const char *hms)
{
    static uint64_t eid = 900000;
    eid++;
    OFFER_AS(h, with_shop(ev_ts(RR_EVENT_SESSION_START, eid, 900, 0, 0, AT(hms) + 5000), 2),
             RR_APPLIED);
}

Test(provisional, counts_what_is_decided_at_the_watermark_and_leaves_the_rest_out)
{
    harness_t h;
    h_init(&h);
    OFFER_AS(&h, ev(RR_EVENT_AGENT_ASSIGNED, 1, 1, 0, 7, "09:00:00"), RR_APPLIED);
    OFFER_AS(&h, ev(RR_EVENT_BUYER_MESSAGE, 2, 1, 5, 0, "10:00:00"), RR_APPLIED);

    /* two minutes on: the message may still be answered in time */
    watermark_to(&h, "10:02:00");
    const cap_day_t *d = revise(&h, 1);
    cr_expect_eq(d->revision, 1);
    EXPECT_VAL(&h, d, "douyin_msg_3min", 0, 0);
    EXPECT_VAL(&h, d, "douyin_session_3min", 0, 0);
    EXPECT_VAL(&h, d, "pdd_buyer_3min", 0, 0);
    EXPECT_VAL(&h, d, "pdd_effective_reply", 0, 0);
    EXPECT_VAL(&h, d, "tmall_reply_rate", 0, 0);
    rr_value_t rt = cap_value(&h.cap, d, "tmall_response_time");
    cr_expect(rt.den == 0 && rt.unanswered == 0);
    /* an agent was there before the day's end + H: decided, not unassigned */
    EXPECT_VAL(&h, d, "douyin_unassigned", 0, 1);
    cr_expect_null(newest(&h.cap, 1, 7, DAY1122), "nothing of agent 7 is decided yet");

    /* exactly T later: a reply at the watermark would still be in time */
    watermark_to(&h, "10:03:00");
    d = revise(&h, 1);
    cr_expect_eq(d->revision, 2);
    EXPECT_VAL(&h, d, "douyin_msg_3min", 0, 0);

    /* past T: a miss for the 3-minute metrics, whatever comes */
    watermark_to(&h, "10:03:00.001");
    d = revise(&h, 1);
    EXPECT_VAL(&h, d, "douyin_msg_3min", 0, 1);
    EXPECT_VAL(&h, d, "douyin_session_3min", 0, 1);
    EXPECT_VAL(&h, d, "pdd_buyer_3min", 0, 1);
    EXPECT_VAL(&h, d, "pdd_effective_reply", 0, 0); /* a reply within H still counts */
    EXPECT_VAL(&h, d, "tmall_reply_rate", 0, 0);
    const cap_day_t *a = newest(&h.cap, 1, 7, DAY1122);
    cr_assert_not_null(a, "the round's agent is known: the miss is agent 7's");
    EXPECT_VAL(&h, a, "douyin_msg_3min", 0, 1);

    /* the reply comes, late */
    OFFER_AS(&h, ev(RR_EVENT_AGENT_MESSAGE, 3, 1, 0, 7, "10:04:00"), RR_APPLIED);
    watermark_to(&h, "10:04:01");
    d = revise(&h, 1);
    EXPECT_VAL(&h, d, "douyin_msg_3min", 0, 1);
    EXPECT_VAL(&h, d, "douyin_session_3min", 0, 1);
    EXPECT_VAL(&h, d, "pdd_effective_reply", 1, 1);
    EXPECT_VAL(&h, d, "tmall_reply_rate", 1, 1);
    rt = cap_value(&h.cap, d, "tmall_response_time");
    cr_expect(rt.num == 240000 && rt.den == 1 && rt.unanswered == 0 && rt.buckets[5] == 1,
              "response time %" PRId64 "/%" PRId64 " unanswered %" PRId64, rt.num, rt.den,
              rt.unanswered);

    /* a robot-phase buyer nobody answers: unanswered once H has passed */
    OFFER_AS(&h, ev(RR_EVENT_BUYER_MESSAGE, 4, 3, 6, 0, "10:10:00"), RR_APPLIED);
    watermark_to(&h, "11:10:00");
    d = revise(&h, 1);
    EXPECT_VAL(&h, d, "pdd_effective_reply", 1, 1);
    rt = cap_value(&h.cap, d, "tmall_response_time");
    cr_expect_eq(rt.unanswered, 0, "exactly H: a reply now would still count");
    watermark_to(&h, "11:10:00.001");
    d = revise(&h, 1);
    EXPECT_VAL(&h, d, "pdd_effective_reply", 1, 2);
    EXPECT_VAL(&h, d, "tmall_reply_rate", 1, 2);
    rt = cap_value(&h.cap, d, "tmall_response_time");
    cr_expect_eq(rt.unanswered, 1);
    a = newest(&h.cap, 1, 0, DAY1122);
    cr_assert_not_null(a, "an unanswered round without an assigned agent is agent 0's");
    cr_expect_eq(cap_value(&h.cap, a, "tmall_response_time").unanswered, 1);

    /* manual phase, no agent: unassigned is only decided at the day's end + H */
    OFFER_AS(&h, ev(RR_EVENT_TRANSFER_TO_MANUAL, 5, 4, 0, 0, "12:00:00"), RR_APPLIED);
    OFFER_AS(&h, ev(RR_EVENT_BUYER_MESSAGE, 6, 4, 8, 0, "12:00:01"), RR_APPLIED);
    watermark_to(&h, "23:30:00");
    d = revise(&h, 1);
    EXPECT_VAL(&h, d, "douyin_unassigned", 0, 1);
    uint32_t last = d->revision;

    h_finish(&h);
    d = newest(&h.cap, 1, SHOP, DAY1122);
    cr_assert(d && d->final, "the final record comes last");
    cr_expect_eq(d->revision, 0);
    EXPECT_VAL(&h, d, "douyin_unassigned", 1, 2);
    EXPECT_VAL(&h, d, "douyin_msg_3min", 0, 2);
    cr_expect_eq(last, 7);
    h_free(&h);
}

Test(provisional, revision_numbers_go_on_after_a_checkpoint)
{
    harness_t h;
    h_init(&h);
    OFFER_AS(&h, ev(RR_EVENT_BUYER_MESSAGE, 1, 1, 5, 0, "10:00:00"), RR_APPLIED);
    watermark_to(&h, "10:30:00");
    cr_expect_eq(revise(&h, 1)->revision, 1);
    cr_expect_eq(revise(&h, 1)->revision, 2);

    rr_membuf_t b = {0};
    cr_assert_eq(rr_engine_checkpoint(h.e, rr_membuf_write, &b), 0);
    rr_engine_free(h.e);
    char err[256];
    cr_assert_eq(rr_engine_new(&h.cfg, h.tz, &h.sink, &h.e, err, sizeof err), 0, "%s", err);
    cr_assert_eq(rr_engine_restore(h.e, rr_membuf_read, &b, err, sizeof err), 0, "%s", err);
    rr_membuf_free(&b);
    cr_expect_eq(revise(&h, 1)->revision, 3);
    h_free(&h);
}

Test(provisional, a_finished_engine_or_one_without_open_days_publishes_nothing)
{
    harness_t h;
    h_init(&h);
    cr_expect_eq(rr_engine_provisional(h.e), 0);
    OFFER_AS(&h, ev(RR_EVENT_BUYER_MESSAGE, 1, 1, 5, 0, "10:00:00"), RR_APPLIED);
    h_finish(&h);
    size_t n = h.cap.n_days;
    cr_expect_eq(rr_engine_provisional(h.e), 0);
    cr_expect_eq(h.cap.n_days, n);
    h_free(&h);
}

/* ---- generated traffic ------------------------------------------------------ */

#define NOW INT64_C(4000000000000)

/* many keys, each with a few hundred events a day */
static events_t generate(uint64_t events, uint64_t seed)
{
    return generate_shops(events, seed, 300);
}

/* Feed ev into a fresh harness (two partitions by shop); a revision every
 * `every` offers (0: none); at_final: one just before each day is final. */
static void run_gen(harness_t *h, const events_t *ev, size_t every, int at_final)
{
    h_init_tz(h, NULL, NULL, 2);
    rr_engine_set_provisional_at_final(h->e, at_final);
    for (size_t i = 0; i < ev->n; i++) {
        h->cap.offers++;
        rr_engine_offer(h->e, h->part[rr_shop_partition(ev->v[i].shop_id, 2)], &ev->v[i],
                        (int64_t)i, NULL, 0, NOW);
        if (every && i % every == every - 1) cr_assert_geq(rr_engine_provisional(h->e), 0);
    }
    h_finish(h);
    cr_assert_null(rr_engine_error(h->e));
}

static int same_key(const cap_day_t *a, const cap_day_t *b)
{
    return a->is_agent == b->is_agent && a->shop == b->shop && a->day == b->day &&
           (!a->is_agent || a->agent == b->agent);
}

static int cmp_key_seq(const void *x, const void *y)
{
    const cap_day_t *a = x, *b = y;
    const uint64_t ka[] = {(uint64_t)a->is_agent, a->shop, a->agent, (uint64_t)a->day, a->seq};
    const uint64_t kb[] = {(uint64_t)b->is_agent, b->shop, b->agent, (uint64_t)b->day, b->seq};
    for (size_t i = 0; i < sizeof ka / sizeof ka[0]; i++)
        if (ka[i] != kb[i]) return ka[i] < kb[i] ? -1 : 1;
    return 0;
}

static int same_values(const capture_t *c, const cap_day_t *a, const cap_day_t *b)
{
    for (size_t m = 0; m < c->n_metrics; m++)
        if (memcmp(&a->v[m], &b->v[m], sizeof a->v[m]) != 0) return 0;
    return 1;
}

/* Counts no later event can take back: misses and answers of rounds. */
static void expect_at_most(const capture_t *c, const cap_day_t *p, const cap_day_t *f)
{
    for (size_t m = 0; m < c->n_metrics; m++) {
        rr_metric_kind_t k = c->kinds[m];
        if (k != RR_KIND_MESSAGE_WITHIN && k != RR_KIND_RESPONSE_TIME && k != RR_KIND_UNASSIGNED)
            continue;
        const rr_value_t *a = &p->v[m], *b = &f->v[m];
        int ok = a->num <= b->num && a->den <= b->den && a->unanswered <= b->unanswered;
        if (k != RR_KIND_RESPONSE_TIME) /* a miss stays a miss (there num sums waits) */
            ok &= a->den - a->num <= b->den - b->num;
        for (int i = 0; i < RR_BUCKETS; i++)
            ok &= a->buckets[i] <= b->buckets[i];
        cr_expect(
            ok,
            "%s shop %" PRIu64 " agent %" PRIu64 " day %d revision %u: %s %" PRId64 "/%" PRId64
            " (unanswered %" PRId64 ") exceeds the final %" PRId64 "/%" PRId64 " (%" PRId64 ")",
            p->is_agent ? "agent_day" : "shop_day", p->shop, p->agent, (int)p->day, p->revision,
            c->names[m], a->num, a->den, a->unanswered, b->num, b->den, b->unanswered);
    }
}

/* Group the records by key, in publication order, and check each key's
 * revisions against its final record. Returns how many keys had both. */
static size_t check_keys(capture_t *c, int expect_last_equal)
{
    qsort(c->days, c->n_days, sizeof *c->days, cmp_key_seq);
    size_t keys_revised = 0;
    for (size_t i = 0; i < c->n_days;) {
        size_t j = i;
        while (j < c->n_days && same_key(&c->days[i], &c->days[j]))
            j++;
        const cap_day_t *fin = &c->days[j - 1];
        cr_assert(fin->final,
                  "%s shop %" PRIu64 " agent %" PRIu64 " day %d: last is revision %u, "
                  "not a final record",
                  fin->is_agent ? "agent_day" : "shop_day", fin->shop, fin->agent, (int)fin->day,
                  fin->revision);
        for (size_t k = i; k + 1 < j; k++) {
            const cap_day_t *p = &c->days[k];
            cr_assert(!p->final, "two final records for one key");
            if (k > i)
                cr_expect_gt(p->revision, c->days[k - 1].revision, "revisions must grow");
            else
                cr_expect_geq(p->revision, 1);
            expect_at_most(c, p, fin);
        }
        if (j - i > 1) {
            keys_revised++;
            if (expect_last_equal)
                cr_expect(same_values(c, &c->days[j - 2], fin),
                          "%s shop %" PRIu64 " agent %" PRIu64 " day %d: the revision made "
                          "just before the final record differs from it",
                          fin->is_agent ? "agent_day" : "shop_day", fin->shop, fin->agent,
                          (int)fin->day);
        }
        i = j;
    }
    return keys_revised;
}

Test(provisional, just_before_the_final_record_a_revision_carries_the_final_counts, .timeout = 120)
{
    events_t ev = generate(120000, 21);
    harness_t h;
    run_gen(&h, &ev, 0, 1);
    size_t finals = 0;
    for (size_t i = 0; i < h.cap.n_days; i++)
        finals += h.cap.days[i].final;
    cr_assert_gt(finals, 1000, "too few records to mean anything: %zu", finals);
    cr_expect_eq(check_keys(&h.cap, 1), finals, "every final record has its revision");
    h_free(&h);

    /* and along the way: revisions every 700 offers as well */
    run_gen(&h, &ev, 700, 1);
    cr_expect_geq(check_keys(&h.cap, 1), finals);
    h_free(&h);
    free(ev.v);
}

/* A final agent_day with no counts: published only to replace revisions. */
static int empty(const capture_t *c, const cap_day_t *d)
{
    for (size_t m = 0; m < c->n_metrics; m++)
        if (d->v[m].den || d->v[m].unanswered) return 0;
    return 1;
}

Test(provisional, revisions_along_the_way_change_no_final_record, .timeout = 120)
{
    events_t ev = generate(120000, 22);
    harness_t plain, revised;
    run_gen(&plain, &ev, 0, 0);
    run_gen(&revised, &ev, 500, 0);
    size_t revisions = 0, emptied = 0;
    /* the revised run's finals, less the empty ones that replace a revision */
    capture_t finals = revised.cap;
    finals.days = malloc(revised.cap.n_days * sizeof *finals.days);
    finals.n_days = 0;
    for (size_t i = 0; i < revised.cap.n_days; i++) {
        const cap_day_t *d = &revised.cap.days[i];
        if (!d->final)
            revisions++;
        else if (d->is_agent && empty(&revised.cap, d))
            emptied++;
        else
            finals.days[finals.n_days++] = *d;
    }
    cr_assert_gt(revisions, 10000, "too few revisions to mean anything: %zu", revisions);
    char *a = cap_canon(&plain.cap), *b = cap_canon(&finals);
    cr_expect(strcmp(a, b) == 0, "final records differ once revisions are published");
    free(a);
    free(b);
    free(finals.days);
    check_keys(&revised.cap, 0); /* every revision is replaced by its final record */
    rr_stats_t st;
    h_stats(&revised, &st);
    cr_expect_eq(st.provisional, revisions);
    cr_log_info("%zu revisions, %zu empty final agent_days replace one", revisions, emptied);
    h_free(&plain);
    h_free(&revised);
    free(ev.v);
}

Test(provisional, an_agent_day_a_revision_published_gets_a_final_record_even_empty)
{
    harness_t h;
    h_init(&h);
    OFFER_AS(&h, ev(RR_EVENT_AGENT_ASSIGNED, 1, 1, 0, 7, "09:00:00"), RR_APPLIED);
    OFFER_AS(&h, with_rating(ev(RR_EVENT_RATING, 2, 1, 0, 0, "10:00:00"), 5), RR_APPLIED);
    watermark_to(&h, "10:30:00");
    revise(&h, 1);
    const cap_day_t *a = newest(&h.cap, 1, 7, DAY1122);
    cr_assert_not_null(a);
    EXPECT_VAL(&h, a, "douyin_satisfaction", 1, 1);
    /* the last rating, under another agent, replaces it */
    OFFER_AS(&h, ev(RR_EVENT_AGENT_ASSIGNED, 3, 1, 0, 8, "10:40:00"), RR_APPLIED);
    OFFER_AS(&h, with_rating(ev(RR_EVENT_RATING, 4, 1, 0, 0, "10:50:00"), 2), RR_APPLIED);
    h_finish(&h);
    a = newest(&h.cap, 1, 7, DAY1122);
    cr_assert(a && a->final, "agent 7's revision must be replaced by a final record");
    EXPECT_VAL(&h, a, "douyin_satisfaction", 0, 0);
    a = newest(&h.cap, 1, 8, DAY1122);
    cr_assert(a && a->final);
    EXPECT_VAL(&h, a, "douyin_satisfaction", 0, 1);
    h_free(&h);
}
