/* The engine through its public API (SPEC §3-§8): events in through
 * rr_engine_offer, every record captured by a sink (support/engine_harness.h) and
 * checked. Default metric set, Asia/Shanghai, H = 1 h, lateness 5 s unless a
 * test says otherwise; times are local on 2026-11-22 ("24:30:00" is the next
 * day's 00:30). */
#include "support/engine_harness.h"

#define T_START RR_EVENT_SESSION_START
#define T_XFER RR_EVENT_TRANSFER_TO_MANUAL
#define T_ASSIGN RR_EVENT_AGENT_ASSIGNED
#define T_BUYER RR_EVENT_BUYER_MESSAGE
#define T_AGENT RR_EVENT_AGENT_MESSAGE
#define T_ROBOT RR_EVENT_ROBOT_MESSAGE
#define T_SYSTEM RR_EVENT_SYSTEM_MESSAGE
#define T_END RR_EVENT_SESSION_END
#define T_INVITE RR_EVENT_RATING_INVITE
#define T_RATING RR_EVENT_RATING

#define MSG "douyin_msg_3min"
#define SESS "douyin_session_3min"
#define SAT "douyin_satisfaction"
#define UNASSIGNED "douyin_unassigned"
#define BUYER3 "pdd_buyer_3min"
#define EFFECTIVE "pdd_effective_reply"
#define TMALL_RR "tmall_reply_rate"
#define TMALL_RT "tmall_response_time"

/* SPEC §8's conversation: shop 1, conversation 1, buyer 1, TRANSFER_TO_MANUAL
 * and AGENT_ASSIGNED (agent 1) at 07:00. */
static void std_prelude(harness_t *h)
{
    h_add(h, ev(T_XFER, 1, 1, 1, 0, "07:00:00"));
    h_add(h, ev(T_ASSIGN, 2, 1, 1, 1, "07:00:00"));
}

static void expect_rt(const harness_t *h, uint64_t agent, int64_t sum, int64_t den,
                      int64_t unanswered, const int64_t *buckets)
{
    rr_value_t v = agent == SHOP ? shop_val(h, 1, DAY1122, TMALL_RT)
                                 : agent_val(h, 1, agent, DAY1122, TMALL_RT);
    cr_expect_eq(v.num, sum, "response_time sum %" PRId64 ", want %" PRId64, v.num, sum);
    cr_expect_eq(v.den, den, "response_time den %" PRId64 ", want %" PRId64, v.den, den);
    cr_expect_eq(v.unanswered, unanswered, "unanswered %" PRId64 ", want %" PRId64, v.unanswered,
                 unanswered);
    if (buckets)
        for (int b = 0; b < RR_BUCKETS; b++)
            cr_expect_eq(v.buckets[b], buckets[b], "bucket %d: %" PRId64 ", want %" PRId64, b,
                         v.buckets[b], buckets[b]);
}

/* ==== SPEC §8 worked examples ============================================== */

Test(spec_examples, ex1_two_messages_one_late_round_scores_half_and_session_zero)
{
    harness_t h;
    h_init(&h);
    std_prelude(&h);
    h_add(&h, ev(T_BUYER, 3, 1, 1, 0, "10:00:00"));
    h_add(&h, ev(T_BUYER, 4, 1, 1, 0, "10:02:00"));
    h_add(&h, ev(T_AGENT, 5, 1, 1, 1, "10:03:30"));
    h_run(&h);
    EXPECT_3MIN(&h, 1, 2, 0, 1, 0, 1);
    EXPECT_AGENT(&h, 1, MSG, 1, 2);
    cr_expect_eq(cap_count_viols(&h.cap, NULL, 0), 3);
    expect_violation3(&h, 1, AT("10:00:00"), RR_REASON_LATE, 1, 210000, 2, 1);
    const rr_violation_record_t *v = cap_viol(&h.cap, MSG, 1, AT("10:00:00"));
    cr_expect_eq(v->buyer_id, 1);
    cr_expect_eq(v->day, DAY1122);
    cr_expect_eq(cap_count_alerts(&h.cap, "pdd_warning"), 1);
    cr_expect_eq(cap_count_alerts(&h.cap, NULL), 1);
    cr_expect_float_eq(h.cap.alerts[0].value, 0.0, 1e-12);
    h_free(&h);
}

Test(spec_examples, ex2_wait_of_exactly_t_is_within)
{
    harness_t h;
    h_init(&h);
    std_prelude(&h);
    h_add(&h, ev(T_BUYER, 3, 1, 1, 0, "10:00:00"));
    h_add(&h, ev(T_AGENT, 4, 1, 1, 1, "10:03:00"));
    h_run(&h);
    EXPECT_3MIN(&h, 1, 1, 1, 1, 1, 1);
    cr_expect_eq(cap_count_viols(&h.cap, NULL, 0), 0);
    cr_expect_eq(cap_count_alerts(&h.cap, NULL), 0);
    static const int64_t b[RR_BUCKETS] = {0, 0, 0, 0, 1, 0, 0, 0};
    expect_rt(&h, SHOP, 180000, 1, 0, b);
    h_free(&h);
}

Test(spec_examples, ex3_robot_reply_is_no_manual_reply_but_an_effective_wait_of_5s)
{
    harness_t h;
    h_init(&h);
    std_prelude(&h);
    h_add(&h, ev(T_BUYER, 3, 1, 1, 0, "10:00:00"));
    h_add(&h, ev(T_ROBOT, 4, 1, 1, 0, "10:00:05"));
    h_add(&h, ev(T_AGENT, 5, 1, 1, 1, "10:05:00"));
    h_run(&h);
    EXPECT_3MIN(&h, 0, 1, 0, 1, 0, 1);
    expect_violation3(&h, 1, AT("10:00:00"), RR_REASON_LATE, 1, 300000, 1, 1);
    static const int64_t b[RR_BUCKETS] = {1, 0, 0, 0, 0, 0, 0, 0};
    expect_rt(&h, SHOP, 5000, 1, 0, b);
    expect_rt(&h, 1, 5000, 1, 0, b);
    EXPECT_SHOP(&h, EFFECTIVE, 1, 1);
    EXPECT_SHOP(&h, TMALL_RR, 1, 1);
    h_free(&h);
}

Test(spec_examples, ex4_message_at_0759_is_out_of_the_0800_window_but_counts_for_tmall)
{
    harness_t h;
    h_init(&h);
    std_prelude(&h);
    h_add(&h, ev(T_BUYER, 3, 1, 1, 0, "07:59:00"));
    h_add(&h, ev(T_BUYER, 4, 1, 1, 0, "08:00:30"));
    h_add(&h, ev(T_AGENT, 5, 1, 1, 1, "08:02:00"));
    h_run(&h);
    EXPECT_3MIN(&h, 1, 1, 1, 1, 1, 1);
    EXPECT_SHOP(&h, EFFECTIVE, 1, 1);
    cr_expect_eq(cap_count_viols(&h.cap, NULL, 0), 0);
    /* 00:00-24:00 metrics: one round from 07:59:00, answered at 08:02:00 */
    static const int64_t b[RR_BUCKETS] = {0, 0, 0, 0, 1, 0, 0, 0};
    expect_rt(&h, SHOP, 180000, 1, 0, b);
    EXPECT_SHOP(&h, TMALL_RR, 1, 1);
    EXPECT_SHOP(&h, UNASSIGNED, 0, 1);
    h_free(&h);
}

Test(spec_examples, ex5_message_at_225950_is_in_scope_with_its_reply_after_2300)
{
    harness_t h;
    h_init(&h);
    std_prelude(&h);
    h_add(&h, ev(T_BUYER, 3, 1, 1, 0, "22:59:50"));
    h_add(&h, ev(T_AGENT, 4, 1, 1, 1, "23:02:00"));
    h_run(&h);
    EXPECT_3MIN(&h, 1, 1, 1, 1, 1, 1);
    cr_expect_eq(cap_count_viols(&h.cap, NULL, 0), 0);
    expect_rt(&h, SHOP, 130000, 1, 0, NULL);
    h_free(&h);
}

Test(spec_examples, ex6_session_end_before_any_reply_is_no_reply)
{
    harness_t h;
    h_init(&h);
    std_prelude(&h);
    h_add(&h, ev(T_BUYER, 3, 1, 1, 0, "10:00:00"));
    h_add(&h, ev(T_END, 4, 1, 1, 0, "10:01:00"));
    h_run(&h);
    EXPECT_3MIN(&h, 0, 1, 0, 1, 0, 1);
    expect_violation3(&h, 1, AT("10:00:00"), RR_REASON_NO_REPLY, 0, 0, 1, 1);
    expect_rt(&h, SHOP, 0, 0, 1, NULL);
    EXPECT_SHOP(&h, EFFECTIVE, 0, 1);
    EXPECT_SHOP(&h, TMALL_RR, 0, 1);
    EXPECT_SHOP(&h, UNASSIGNED, 0, 1);
    h_free(&h);
}

Test(spec_examples, ex7_never_assigned_conversation_is_unassigned)
{
    harness_t h;
    h_init(&h);
    h_add(&h, ev(T_XFER, 1, 1, 1, 0, "07:00:00"));
    h_add(&h, ev(T_BUYER, 3, 1, 1, 0, "10:00:00"));
    h_run(&h);
    EXPECT_3MIN(&h, 0, 1, 0, 1, 0, 1);
    EXPECT_SHOP(&h, UNASSIGNED, 1, 1);
    expect_violation3(&h, 1, AT("10:00:00"), RR_REASON_UNASSIGNED, 0, 0, 1, 0);
    EXPECT_AGENT(&h, 0, MSG, 0, 1);
    expect_rt(&h, 0, 0, 0, 1, NULL);
    h_free(&h);
}

Test(spec_examples, ex8_duplicate_buyer_event_counts_once)
{
    harness_t h;
    h_init(&h);
    OFFER_AS(&h, ev(T_XFER, 1, 1, 1, 0, "07:00:00"), RR_APPLIED);
    OFFER_AS(&h, ev(T_ASSIGN, 2, 1, 1, 1, "07:00:00"), RR_APPLIED);
    OFFER_AS(&h, ev(T_BUYER, 3, 1, 1, 0, "10:00:00"), RR_APPLIED);
    OFFER_AS(&h, ev(T_BUYER, 3, 1, 1, 0, "10:00:00"), RR_DUPLICATE);
    OFFER_AS(&h, ev(T_AGENT, 4, 1, 1, 1, "10:03:00"), RR_APPLIED);
    h_finish(&h);
    EXPECT_3MIN(&h, 1, 1, 1, 1, 1, 1);
    expect_rt(&h, SHOP, 180000, 1, 0, NULL);
    rr_stats_t st;
    h_stats(&h, &st);
    cr_expect_eq(st.input, 5);
    cr_expect_eq(st.applied, 4);
    cr_expect_eq(st.duplicate, 1);
    cr_expect_eq(h.cap.n_rejs, 0, "a duplicate is not a rejected record");
    h_free(&h);
}

Test(spec_examples, ex9_two_rounds_60s_and_240s)
{
    harness_t h;
    h_init(&h);
    std_prelude(&h);
    h_add(&h, ev(T_BUYER, 3, 1, 1, 0, "10:00:00"));
    h_add(&h, ev(T_AGENT, 4, 1, 1, 1, "10:01:00"));
    h_add(&h, ev(T_BUYER, 5, 1, 1, 0, "10:10:00"));
    h_add(&h, ev(T_AGENT, 6, 1, 1, 1, "10:14:00"));
    h_run(&h);
    EXPECT_3MIN(&h, 1, 2, 0, 1, 0, 1);
    cr_expect_eq(cap_count_viols(&h.cap, NULL, 0), 3);
    expect_violation3(&h, 1, AT("10:10:00"), RR_REASON_LATE, 1, 240000, 1, 1);
    static const int64_t b[RR_BUCKETS] = {0, 0, 1, 0, 0, 1, 0, 0};
    expect_rt(&h, SHOP, 300000, 2, 0, b);
    expect_rt(&h, 1, 300000, 2, 0, b);
    h_free(&h);
}

Test(spec_examples, ex10_robot_phase_message_counts_only_for_effective_metrics)
{
    harness_t h;
    h_init(&h);
    h_add(&h, ev(T_START, 1, 1, 1, 0, "09:00:00"));
    h_add(&h, ev(T_BUYER, 2, 1, 1, 0, "09:00:10"));
    h_add(&h, ev(T_ROBOT, 3, 1, 1, 0, "09:00:11"));
    h_add(&h, ev(T_XFER, 4, 1, 1, 0, "09:59:00"));
    h_add(&h, ev(T_ASSIGN, 5, 1, 1, 1, "09:59:00"));
    h_add(&h, ev(T_BUYER, 6, 1, 1, 0, "10:00:00"));
    h_add(&h, ev(T_AGENT, 7, 1, 1, 1, "10:03:00"));
    h_run(&h);
    EXPECT_3MIN(&h, 1, 1, 1, 1, 1, 1);
    EXPECT_SHOP(&h, EFFECTIVE, 1, 1);
    static const int64_t b[RR_BUCKETS] = {1, 0, 0, 0, 1, 0, 0, 0};
    expect_rt(&h, SHOP, 181000, 2, 0, b);
    /* the robot-phase round had no agent: agent 0; the manual one agent 1 */
    expect_rt(&h, 0, 1000, 1, 0, NULL);
    EXPECT_AGENT(&h, 0, MSG, 0, 0);
    EXPECT_AGENT(&h, 1, MSG, 1, 1);
    expect_rt(&h, 1, 180000, 1, 0, NULL);
    cr_expect_eq(cap_count_viols(&h.cap, NULL, 0), 0);
    h_free(&h);
}

/* ==== SPEC §7: invalid, late, duplicate, applied ============================= */

typedef struct bad_case {
    rr_event_t ev;
    const char *reason;
} bad_case_t;

Test(accept, every_invalid_rule_is_rejected_with_its_reason)
{
    harness_t h;
    h_init(&h);
    /* conversation 1 of shop 1, buyer 1; partition max ts 10:00:00 */
    OFFER_AS(&h, ev(T_BUYER, 1, 1, 1, 0, "10:00:00"), RR_APPLIED);
    rr_event_t base = ev(T_SYSTEM, 100, 1, 1, 0, "10:00:01");
    bad_case_t cases[32];
    int n = 0;
    rr_event_t x;
    x = base, x.type = 0, cases[n++] = (bad_case_t){x, "type_out_of_range"};
    x = base, x.type = 11, cases[n++] = (bad_case_t){x, "type_out_of_range"};
    x = base, x.type = 0xffffffffu, cases[n++] = (bad_case_t){x, "type_out_of_range"};
    x = base, x.event_id = 0, cases[n++] = (bad_case_t){x, "missing_event_id"};
    x = base, x.shop_id = 0, cases[n++] = (bad_case_t){x, "missing_shop_id"};
    x = base, x.conversation_id = 0, cases[n++] = (bad_case_t){x, "missing_conversation_id"};
    x = base, x.ts_ms = 0, cases[n++] = (bad_case_t){x, "ts_out_of_range"};
    x = base, x.ts_ms = -1, cases[n++] = (bad_case_t){x, "ts_out_of_range"};
    x = base, x.ts_ms = RR_TS_MAX + 1, cases[n++] = (bad_case_t){x, "ts_out_of_range"};
    x = base, x.type = T_BUYER, x.buyer_id = 0, cases[n++] = (bad_case_t){x, "missing_buyer_id"};
    x = base, x.type = T_BUYER, x.buyer_id = 2, cases[n++] = (bad_case_t){x, "buyer_mismatch"};
    x = base, x.type = T_ASSIGN, x.agent_id = 0, cases[n++] = (bad_case_t){x, "missing_agent_id"};
    x = base, x.type = T_RATING, x.rating = 0, cases[n++] = (bad_case_t){x, "rating_out_of_range"};
    x = base, x.type = T_RATING, x.rating = 6, cases[n++] = (bad_case_t){x, "rating_out_of_range"};
    x = base, x.shop_id = 2, cases[n++] = (bad_case_t){x, "shop_mismatch"};
    for (int i = 0; i < n; i++) {
        size_t before = h.cap.n_rejs;
        rr_verdict_t v = h_offer(&h, cases[i].ev);
        cr_expect_eq(v, RR_INVALID, "case %d (%s): verdict %d", i, cases[i].reason, (int)v);
        cr_assert_eq(h.cap.n_rejs, before + 1, "case %d: one rejected record", i);
        const cap_rej_t *r = &h.cap.rejs[before];
        cr_expect_eq(r->verdict, RR_INVALID);
        cr_expect_str_eq(r->reason, cases[i].reason, "case %d", i);
        cr_expect_eq(r->decoded, 1);
        cr_expect_eq(r->event.event_id, cases[i].ev.event_id);
        cr_expect_eq(r->event.ts_ms, cases[i].ev.ts_ms);
        cr_expect_eq(r->event.type, cases[i].ev.type);
        cr_expect_eq(r->partition, h.part[0]);
        cr_expect_str_eq(r->source, "part-0");
        cr_expect_eq(r->offset, h.offset - 1, "the offset the event was offered with");
    }
    /* a jump (SPEC §7): held, not judged nor counted ... */
    x = base, x.event_id = 99, x.ts_ms = AT("10:00:00") + RR_DAY_MS + 1;
    size_t before = h.cap.n_rejs;
    OFFER_AS(&h, x, RR_HELD);
    int64_t jump_offset = h.offset - 1;
    cr_expect_eq(h.cap.n_rejs, before);
    rr_stats_t st;
    h_stats(&h, &st);
    cr_expect_eq(st.held, 1);
    cr_expect_eq(st.input, (uint64_t)n + 1);
    /* wall clock: more than max_future (a day) ahead is invalid, and does not
     * judge the jump */
    h.now = AT("10:00:02") - RR_DAY_MS;
    OFFER_AS(&h, ev(T_SYSTEM, 101, 1, 1, 0, "10:00:02.001"), RR_INVALID);
    cr_expect_str_eq(h.cap.rejs[h.cap.n_rejs - 1].reason, "ts_ahead_of_wall_clock");
    h.now = FAR_FUTURE;
    /* not invalid: another event type naming another buyer, and a second
     * conversation of the buyer in another shop */
    OFFER_AS(&h, ev(T_AGENT, 102, 1, 9, 3, "10:00:03"), RR_APPLIED);
    /* ... until the partition applies another event: then invalid, with the
     * position it arrived at */
    const cap_rej_t *jr = &h.cap.rejs[h.cap.n_rejs - 1];
    cr_expect_str_eq(jr->reason, "ts_too_far_ahead_of_partition");
    cr_expect_eq(jr->event.event_id, 99);
    cr_expect_eq(jr->offset, jump_offset);
    OFFER_AS(&h, with_shop(ev(T_BUYER, 103, 2, 1, 0, "10:00:03"), 2), RR_APPLIED);
    h_finish(&h);
    h_stats(&h, &st);
    cr_expect_eq(st.invalid, (uint64_t)n + 2);
    cr_expect_eq(st.held, 0);
    cr_expect_eq(st.applied, 3);
    cr_expect_eq(st.late + st.duplicate, 0);
    expect_counts_add_up(&h);
    /* nothing invalid reached the results: shop 1's one message, no other shop than 2 */
    EXPECT_ND(shop_val(&h, 1, DAY1122, TMALL_RR), 1, 1, "shop 1 tmall_reply_rate");
    EXPECT_ND(shop_val(&h, 2, DAY1122, TMALL_RR), 0, 1, "shop 2 tmall_reply_rate");
    for (size_t i = 0; i < h.cap.n_days; i++)
        cr_expect(h.cap.days[i].shop == 1 || h.cap.days[i].shop == 2);
    /* shop 1: agent 3's reply answered the robot-phase message (agent of the
     * reply, no assignment); shop 2: an unanswered round of agent 0 */
    cr_expect_eq(h.cap.n_days, 4, "shop_days of shops 1 and 2, their agent_days");
    expect_rt(&h, 3, 3000, 1, 0, NULL);
    EXPECT_ND(agent_val(&h, 2, 0, DAY1122, TMALL_RT), 0, 0, "shop 2 agent 0");
    h_free(&h);
}

Test(accept, ts_1_and_ts_of_year_9999_are_valid)
{
    harness_t h;
    h_init(&h);
    OFFER_AS(&h, ev_ts(T_BUYER, 1, 1, 1, 0, 1), RR_APPLIED);
    h_finish(&h);
    cr_expect_not_null(cap_find(&h.cap, 1, SHOP, 19700101));
    h_free(&h);

    h_init(&h);
    h.now = INT64_MAX;
    OFFER_AS(&h, ev_ts(T_BUYER, 1, 1, 1, 0, RR_TS_MAX), RR_APPLIED);
    h_finish(&h);
    /* 9999-12-31T23:59:59.999Z is 10000-01-01 07:59:59.999 in Shanghai */
    cr_expect_not_null(cap_find(&h.cap, 1, SHOP, 100000101));
    h_free(&h);
}

Test(accept, undecodable_record_is_invalid_with_the_decoder_reason)
{
    harness_t h;
    h_init(&h);
    static const uint8_t raw[] = {0x08, 0x96};
    h.cap.offers++;
    rr_engine_offer_undecodable(h.e, h.part[0], 4242, raw, sizeof raw, "truncated");
    cr_assert_eq(h.cap.n_rejs, 1);
    const cap_rej_t *r = &h.cap.rejs[0];
    cr_expect_eq(r->verdict, RR_INVALID);
    cr_expect_str_eq(r->reason, "truncated");
    cr_expect_eq(r->decoded, 0);
    cr_expect_eq(r->event.event_id, 0);
    cr_expect_eq(r->offset, 4242);
    cr_expect_eq(r->raw_len, sizeof raw);
    cr_expect_str_eq(r->source, "part-0");
    rr_stats_t st;
    h_stats(&h, &st);
    cr_expect_eq(st.input, 1);
    cr_expect_eq(st.invalid, 1);
    h_finish(&h);
    cr_expect_eq(h.cap.n_days, 0);
    h_free(&h);
}

Test(accept, invalid_beats_late)
{
    harness_t h;
    h_init(&h);
    OFFER_AS(&h, ev(T_BUYER, 1, 1, 1, 0, "10:00:00"), RR_APPLIED);
    OFFER_AS(&h, ev(T_SYSTEM, 2, 1, 1, 0, "10:00:10"), RR_APPLIED); /* wm 10:00:05 */
    /* below the watermark and invalid: invalid */
    OFFER_AS(&h, with_shop(ev(T_SYSTEM, 3, 1, 1, 0, "10:00:00"), 2), RR_INVALID);
    cr_expect_str_eq(h.cap.rejs[0].reason, "shop_mismatch");
    OFFER_AS(&h, ev(T_BUYER, 4, 1, 2, 0, "10:00:00"), RR_INVALID);
    cr_expect_str_eq(h.cap.rejs[1].reason, "buyer_mismatch");
    rr_event_t x = ev(T_SYSTEM, 5, 1, 1, 0, "09:00:00");
    x.type = 0;
    OFFER_AS(&h, x, RR_INVALID);
    cr_expect_str_eq(h.cap.rejs[2].reason, "type_out_of_range");
    /* and an invalid duplicate of an applied event is invalid, not duplicate */
    OFFER_AS(&h, with_shop(ev(T_SYSTEM, 2, 1, 1, 0, "10:00:10"), 2), RR_INVALID);
    rr_stats_t st;
    h_stats(&h, &st);
    cr_expect_eq(st.invalid, 4);
    cr_expect_eq(st.late, 0);
    cr_expect_eq(st.duplicate, 0);
    h_free(&h);
}

Test(accept, redelivery_after_the_watermark_passed_is_late_not_duplicate)
{
    harness_t h;
    h_init(&h);
    OFFER_AS(&h, ev(T_BUYER, 1, 1, 1, 0, "10:00:00"), RR_APPLIED);
    OFFER_AS(&h, ev(T_BUYER, 1, 1, 1, 0, "10:00:00"), RR_DUPLICATE);    /* within lateness */
    OFFER_AS(&h, ev(T_SYSTEM, 2, 1, 1, 0, "10:00:05.001"), RR_APPLIED); /* wm 10:00:00.001 */
    OFFER_AS(&h, ev(T_BUYER, 1, 1, 1, 0, "10:00:00"), RR_LATE);
    cr_assert_eq(h.cap.n_rejs, 1);
    cr_expect_eq(h.cap.rejs[0].verdict, RR_LATE);
    cr_expect_str_eq(h.cap.rejs[0].reason, "late");
    cr_expect_eq(h.cap.rejs[0].watermark_ms, AT("10:00:00.001"));
    /* a late event re-delivered is late again */
    OFFER_AS(&h, ev(T_SYSTEM, 3, 1, 1, 0, "09:00:00"), RR_LATE);
    OFFER_AS(&h, ev(T_SYSTEM, 3, 1, 1, 0, "09:00:00"), RR_LATE);
    rr_stats_t st;
    h_stats(&h, &st);
    cr_expect_eq(st.input, 6);
    cr_expect_eq(st.applied, 2);
    cr_expect_eq(st.duplicate, 1);
    cr_expect_eq(st.late, 3);
    expect_counts_add_up(&h);
    h_finish(&h);
    EXPECT_ND(shop_val(&h, 1, DAY1122, TMALL_RR), 0, 1, "one buyer, once");
    h_free(&h);
}

Test(accept, same_event_id_in_another_conversation_is_not_a_duplicate)
{
    harness_t h;
    h_init(&h);
    OFFER_AS(&h, ev(T_BUYER, 7, 1, 1, 0, "10:00:00"), RR_APPLIED);
    OFFER_AS(&h, ev(T_BUYER, 7, 2, 2, 0, "10:00:00"), RR_APPLIED);
    h_finish(&h);
    EXPECT_ND(shop_val(&h, 1, DAY1122, TMALL_RR), 0, 2, "two buyers");
    h_free(&h);
}

Test(accept, duplicate_with_a_later_ts_does_not_move_the_watermark)
{
    harness_t h;
    h_init(&h);
    OFFER_AS(&h, ev(T_BUYER, 1, 1, 1, 0, "10:00:00"), RR_APPLIED);
    /* the same event_id with a ts 20 s later: duplicate, ts ignored */
    OFFER_AS(&h, ev(T_BUYER, 1, 1, 1, 0, "10:00:20"), RR_DUPLICATE);
    /* had the watermark moved to 10:00:15, this would be late */
    OFFER_AS(&h, ev(T_AGENT, 2, 1, 1, 5, "10:00:00"), RR_APPLIED);
    h_finish(&h);
    static const int64_t b[RR_BUCKETS] = {1, 0, 0, 0, 0, 0, 0, 0};
    expect_rt(&h, SHOP, 0, 1, 0, b); /* answered at the same ms, later event_id */
    h_free(&h);
}

Test(accept, invalid_and_late_events_do_not_move_the_watermark)
{
    harness_t h;
    h_init(&h);
    OFFER_AS(&h, ev(T_BUYER, 1, 1, 1, 0, "10:00:00"), RR_APPLIED);
    OFFER_AS(&h, with_shop(ev(T_SYSTEM, 2, 1, 1, 0, "11:00:00"), 9), RR_INVALID);
    OFFER_AS(&h, ev(T_SYSTEM, 3, 1, 1, 0, "35:00:00"), RR_HELD);   /* > 1 day ahead: a jump */
    OFFER_AS(&h, ev(T_AGENT, 4, 1, 1, 1, "09:59:55"), RR_APPLIED); /* = wm; the jump invalid */
    OFFER_AS(&h, ev(T_SYSTEM, 5, 1, 1, 0, "09:00:00"), RR_LATE);
    OFFER_AS(&h, ev(T_SYSTEM, 6, 1, 1, 0, "09:59:55"), RR_APPLIED); /* wm still 09:59:55 */
    rr_stats_t st;
    h_stats(&h, &st);
    cr_expect_eq(st.applied, 3);
    cr_expect_eq(st.invalid, 2);
    cr_expect_eq(st.late, 1);
    h_free(&h);
}

Test(accept, ts_at_watermark_minus_1ms_is_late_and_at_watermark_is_applied)
{
    harness_t h;
    h_init(&h);
    OFFER_AS(&h, ev(T_BUYER, 1, 1, 1, 0, "10:00:10"), RR_APPLIED); /* wm 10:00:05.000 */
    OFFER_AS(&h, ev(T_SYSTEM, 2, 1, 1, 0, "10:00:04.999"), RR_LATE);
    cr_assert_eq(h.cap.n_rejs, 1);
    cr_expect_eq(h.cap.rejs[0].watermark_ms, AT("10:00:05"));
    cr_expect_eq(h.cap.rejs[0].event.event_id, 2);
    cr_expect_eq(h.cap.rejs[0].decoded, 1);
    OFFER_AS(&h, ev(T_AGENT, 3, 1, 1, 4, "10:00:05"), RR_APPLIED);
    h_finish(&h);
    /* the event at the watermark was applied in sorted order: a reply before
     * the message, not after it */
    expect_rt(&h, SHOP, 0, 0, 1, NULL);
    h_free(&h);
}

Test(accept, max_future_one_day_ahead_is_applied_and_one_ms_more_is_invalid)
{
    harness_t h;
    h_init(&h);
    OFFER_AS(&h, ev(T_BUYER, 1, 1, 1, 0, "10:00:00"), RR_APPLIED);
    OFFER_AS(&h, ev(T_SYSTEM, 2, 1, 1, 0, "34:00:00.001"), RR_HELD);
    OFFER_AS(&h, ev(T_SYSTEM, 3, 1, 1, 0, "34:00:00"), RR_APPLIED);
    cr_assert_eq(h.cap.n_rejs, 1, "the held jump, invalid once event 3 applied");
    cr_expect_str_eq(h.cap.rejs[0].reason, "ts_too_far_ahead_of_partition");
    cr_expect_eq(h.cap.rejs[0].event.event_id, 2);
    /* ahead of the new greatest applied ts by a day: fine again */
    OFFER_AS(&h, ev(T_SYSTEM, 4, 1, 1, 0, "58:00:00"), RR_APPLIED);
    h_free(&h);
}

Test(accept, event_more_than_max_future_ahead_of_the_wall_clock_is_invalid)
{
    /* SPEC §7: "more than max_future (one day) ahead of the wall clock at
     * arrival": a clock up to a day fast is tolerated, a ms more is not */
    harness_t h;
    h_init(&h);
    h.now = AT("10:00:00");
    OFFER_AS(&h, ev(T_BUYER, 1, 1, 1, 0, "34:00:00.001"), RR_INVALID);
    cr_expect_str_eq(h.cap.rejs[0].reason, "ts_ahead_of_wall_clock");
    OFFER_AS(&h, ev(T_BUYER, 2, 1, 1, 0, "10:00:00"), RR_APPLIED);
    OFFER_AS(&h, ev(T_AGENT, 3, 1, 1, 1, "10:01:00"), RR_APPLIED);
    OFFER_AS(&h, ev(T_SYSTEM, 4, 1, 1, 0, "34:00:00"), RR_APPLIED);
    h.now = AT("10:05:00");
    OFFER_AS(&h, ev(T_SYSTEM, 5, 1, 1, 0, "34:05:00.001"), RR_INVALID);
    h_finish(&h);
    expect_rt(&h, SHOP, 60000, 1, 0, NULL);
    h_free(&h);
}

Test(accept, events_offered_after_finish_are_late)
{
    harness_t h;
    h_init(&h);
    OFFER_AS(&h, ev(T_BUYER, 1, 1, 1, 0, "10:00:00"), RR_APPLIED);
    h_finish(&h);
    size_t n = h.cap.n_days;
    OFFER_AS(&h, ev(T_AGENT, 2, 1, 1, 1, "10:00:30"), RR_LATE);
    cr_expect_eq(h.cap.n_days, n);
    expect_counts_add_up(&h);
    h_free(&h);
}

Test(accept, the_four_counts_add_up_to_the_input)
{
    harness_t h;
    h_init(&h);
    OFFER_AS(&h, ev(T_XFER, 1, 1, 1, 0, "10:00:00"), RR_APPLIED);
    OFFER_AS(&h, ev(T_BUYER, 2, 1, 1, 0, "10:00:01"), RR_APPLIED);
    OFFER_AS(&h, ev(T_BUYER, 2, 1, 1, 0, "10:00:01"), RR_DUPLICATE);
    OFFER_AS(&h, ev(T_BUYER, 3, 1, 7, 0, "10:00:02"), RR_INVALID);
    OFFER_AS(&h, ev(T_AGENT, 4, 1, 1, 1, "10:01:00"), RR_APPLIED);
    OFFER_AS(&h, ev(T_SYSTEM, 5, 1, 1, 0, "10:00:01"), RR_LATE);
    h.cap.offers++;
    rr_engine_offer_undecodable(h.e, h.part[0], 99, NULL, 0, "varint_too_long");
    OFFER_AS(&h, ev(T_SYSTEM, 2, 1, 1, 0, "10:00:01"), RR_LATE); /* late beats duplicate */
    h_finish(&h);
    rr_stats_t st;
    h_stats(&h, &st);
    cr_expect_eq(st.input, 8);
    cr_expect_eq(st.applied, 3);
    cr_expect_eq(st.duplicate, 1);
    cr_expect_eq(st.late, 2);
    cr_expect_eq(st.invalid, 2);
    expect_counts_add_up(&h);
    cr_expect_eq(h.cap.n_rejs, st.late + st.invalid, "every late or invalid event is published");
    h_free(&h);
}

/* ==== SPEC §3 Order and Duplicates: disorder within the lateness ============ */

#define GEN_MAX 2048

/* A realistic stream of two shops: 16 conversations (robot phases, transfers,
 * (re-)assignments, rounds of 1-3 messages answered by robots or agents fast,
 * slowly, near H or never, spam-flagged messages, ratings, session ends) placed
 * around the window edges and midnight, with events a few seconds apart and
 * same-ts ties, so a 5 s disorder really reorders them. Deterministic. */
static size_t gen_stream(rr_event_t *out, uint64_t seed, uint64_t n_conv)
{
    static const char *const anchors[] = {"07:59:50", "10:00:00", "12:30:00", "22:59:40",
                                          "23:59:30", "08:00:00", "31:59:55", "46:59:40"};
    uint64_t s = seed, eid = 1000;
    size_t n = 0;
    for (uint64_t c = 1; c <= n_conv; c++) {
        uint64_t shop = 1 + c % 2, buyer = 100 + c % 5, agent = 1 + c % 3;
        int64_t t = AT(anchors[(c + seed) % (seed == 42 ? 6 : 8)]) + (int64_t)(rng_next(&s) % 3000);
#define PUT(type, ag)                                                                              \
    do {                                                                                           \
        cr_assert_lt(n, (size_t)GEN_MAX);                                                          \
        out[n++] = with_shop(ev_ts((type), eid++, c, buyer, (ag), t), shop);                       \
    } while (0)
        PUT(T_START, 0);
        if (c % 3 == 0) { /* robot phase first */
            t += 1000;
            PUT(T_BUYER, 0);
            t += (int64_t)(rng_next(&s) % 3000);
            PUT(T_ROBOT, 0);
        }
        if (c % 7 != 6) {
            t += (int64_t)(rng_next(&s) % 2000);
            PUT(T_XFER, 0);
            if (c % 4 != 0) PUT(T_ASSIGN, agent); /* same ts, next event_id */
        }
        int rounds = 1 + (int)(rng_next(&s) % 4);
        for (int r = 0; r < rounds; r++) {
            int msgs = 1 + (int)(rng_next(&s) % 3);
            for (int m = 0; m < msgs; m++) {
                t += (int64_t)(rng_next(&s) % 4000);
                PUT(T_BUYER, 0);
                if (rng_next(&s) % 10 == 0) out[n - 1].flags = RR_FLAG_SPAM;
            }
            switch (rng_next(&s) % 6) {
            case 0:
                t += 500 + (int64_t)(rng_next(&s) % 3000);
                PUT(T_ROBOT, 0);
                break;
            case 1:
                t += 170000 + (int64_t)(rng_next(&s) % 20000);
                PUT(T_AGENT, agent);
                break;
            case 2:
                t += (int64_t)(rng_next(&s) % 4000);
                PUT(T_AGENT, agent);
                break;
            case 3: /* no reply: the next messages join the round */
                break;
            case 4:
                t += 3598000 + (int64_t)(rng_next(&s) % 4000);
                PUT(T_AGENT, agent);
                break;
            default:
                t += (int64_t)(rng_next(&s) % 3000);
                agent = agent % 3 + 1;
                PUT(T_ASSIGN, agent);
                t += (int64_t)(rng_next(&s) % 3000);
                PUT(T_AGENT, agent);
                break;
            }
        }
        if (rng_next(&s) % 2) {
            t += (int64_t)(rng_next(&s) % 3000);
            PUT(T_RATING, 0);
            out[n - 1].rating = 1 + (uint32_t)(rng_next(&s) % 5);
        }
        if (rng_next(&s) % 2) {
            t += (int64_t)(rng_next(&s) % 3000);
            PUT(T_END, 0);
        }
#undef PUT
    }
    return n;
}

static size_t gen_realistic(rr_event_t *out)
{
    return gen_stream(out, 42, 16);
}

/* Run evs in the arrival order idx (NULL: as given), each event offered
 * `copies` times in a row, finish, and return the canonical records. */
static char *run_in_order(const rr_event_t *evs, size_t n, const size_t *idx, int copies)
{
    harness_t h;
    h_init(&h);
    for (size_t i = 0; i < n; i++) {
        const rr_event_t *e = &evs[idx ? idx[i] : i];
        OFFER_AS(&h, *e, RR_APPLIED);
        for (int k = 1; k < copies; k++)
            OFFER_AS(&h, *e, RR_DUPLICATE);
    }
    h_finish(&h);
    rr_stats_t st;
    h_stats(&h, &st);
    cr_assert_eq(st.applied, n);
    char *canon = cap_canon(&h.cap);
    h_free(&h);
    return canon;
}

typedef struct keyed {
    int64_t key;
    size_t i;
} keyed_t;

static int cmp_keyed(const void *a, const void *b)
{
    const keyed_t *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

Test(order, disorder_within_the_lateness_gives_the_same_records_as_sorted_input)
{
    static rr_event_t evs[GEN_MAX];
    static size_t idx[GEN_MAX];
    static keyed_t keys[GEN_MAX];
    size_t n = gen_realistic(evs);
    qsort(evs, n, sizeof *evs, ev_cmp);
    char *want = run_in_order(evs, n, NULL, 1);
    cr_assert(strstr(want, "violation") && strstr(want, "agent_day") && strstr(want, "alert"),
              "the stream should exercise violations, agent days and alerts:\n%s", want);
    cr_assert(strstr(want, "day=20261123"), "and cross midnight");
    for (uint64_t seed = 1; seed <= 10; seed++) {
        uint64_t s = seed * UINT64_C(0x9E3779B97F4A7C15);
        /* arrival key = ts + U[0, lateness]: an event then never arrives after
         * one more than the lateness newer, so none is late */
        for (size_t i = 0; i < n; i++)
            keys[i] = (keyed_t){evs[i].ts_ms + (int64_t)(rng_next(&s) % 5001), i};
        qsort(keys, n, sizeof *keys, cmp_keyed);
        size_t moved = 0;
        for (size_t i = 0; i < n; i++) {
            idx[i] = keys[i].i;
            moved += idx[i] != i;
        }
        cr_assert_gt(moved, n / 10, "seed %" PRIu64 ": the shuffle should reorder", seed);
        char *got = run_in_order(evs, n, idx, 1);
        cr_expect_str_eq(got, want, "seed %" PRIu64 ": records differ from the sorted run", seed);
        free(got);
    }
    free(want);
}

Test(order, disorder_gives_the_same_records_on_other_generated_streams)
{
    static rr_event_t evs[GEN_MAX];
    static size_t idx[GEN_MAX];
    static keyed_t keys[GEN_MAX];
    for (uint64_t gseed = 1; gseed <= 4; gseed++) {
        size_t n = gen_stream(evs, gseed * 7919, 40);
        qsort(evs, n, sizeof *evs, ev_cmp);
        char *want = run_in_order(evs, n, NULL, 1);
        for (uint64_t seed = 1; seed <= 4; seed++) {
            uint64_t s = seed * 1000003 + gseed;
            for (size_t i = 0; i < n; i++)
                keys[i] = (keyed_t){evs[i].ts_ms + (int64_t)(rng_next(&s) % 5001), i};
            qsort(keys, n, sizeof *keys, cmp_keyed);
            for (size_t i = 0; i < n; i++)
                idx[i] = keys[i].i;
            char *got = run_in_order(evs, n, idx, 1);
            cr_expect_str_eq(got, want, "stream %" PRIu64 " shuffle %" PRIu64, gseed, seed);
            free(got);
        }
        free(want);
    }
}

Test(order, redelivered_events_within_the_lateness_change_nothing)
{
    static rr_event_t evs[GEN_MAX];
    size_t n = gen_realistic(evs);
    qsort(evs, n, sizeof *evs, ev_cmp);
    char *want = run_in_order(evs, n, NULL, 1);
    char *got = run_in_order(evs, n, NULL, 3);
    cr_expect_str_eq(got, want);
    free(got);
    free(want);
}

Test(order, same_ts_ties_go_by_event_id_whatever_the_arrival_order)
{
    harness_t h;
    h_init(&h);
    /* conversation 1: the reply has the greater event_id: it answers (wait 0) */
    OFFER_AS(&h, ev(T_XFER, 1, 1, 1, 0, "10:00:00"), RR_APPLIED);
    OFFER_AS(&h, ev(T_AGENT, 11, 1, 1, 1, "10:00:01"), RR_APPLIED);
    OFFER_AS(&h, ev(T_BUYER, 10, 1, 1, 0, "10:00:01"), RR_APPLIED);
    /* conversation 2 (shop 2): the reply has the smaller event_id: it comes first */
    OFFER_AS(&h, with_shop(ev(T_XFER, 1, 2, 2, 0, "10:00:00"), 2), RR_APPLIED);
    OFFER_AS(&h, with_shop(ev(T_BUYER, 21, 2, 2, 0, "10:00:01"), 2), RR_APPLIED);
    OFFER_AS(&h, with_shop(ev(T_AGENT, 20, 2, 2, 1, "10:00:01"), 2), RR_APPLIED);
    h_finish(&h);
    EXPECT_ND(shop_val(&h, 1, DAY1122, MSG), 1, 1, "shop 1");
    EXPECT_ND(shop_val(&h, 2, DAY1122, MSG), 0, 1, "shop 2");
    cr_expect_eq(shop_val(&h, 2, DAY1122, TMALL_RT).unanswered, 1);
    h_free(&h);
}

Test(order, session_end_at_the_replys_ts_with_a_smaller_event_id_ends_the_round_first)
{
    harness_t h;
    h_init(&h);
    std_prelude(&h);
    h_add(&h, ev(T_BUYER, 3, 1, 1, 0, "10:00:00"));
    h_add(&h, ev(T_AGENT, 5, 1, 1, 1, "10:01:00"));
    h_add(&h, ev(T_END, 4, 1, 1, 0, "10:01:00"));
    h_run(&h);
    EXPECT_3MIN(&h, 0, 1, 0, 1, 0, 1);
    expect_violation3(&h, 1, AT("10:00:00"), RR_REASON_NO_REPLY, 0, 0, 1, 1);
    EXPECT_SHOP(&h, TMALL_RR, 0, 1);
    h_free(&h);
}

/* ==== SPEC §3 Scope and Replies: windows, midnight, T and H edges =========== */

/* One answered message per shop, so each shop's counts show one message's scope. */
static void answered_msg(harness_t *h, uint64_t shop, uint64_t conv, int64_t ts, int64_t wait)
{
    uint64_t b = conv * 10;
    h_add(h, with_shop(ev_ts(T_XFER, b + 1, conv, conv, 0, AT("00:00:01")), shop));
    h_add(h, with_shop(ev_ts(T_ASSIGN, b + 2, conv, conv, 7, AT("00:00:01")), shop));
    h_add(h, with_shop(ev_ts(T_BUYER, b + 3, conv, conv, 0, ts), shop));
    h_add(h, with_shop(ev_ts(T_AGENT, b + 4, conv, conv, 7, ts + wait), shop));
}

Test(window, edges_0800_in_075959_999_out_225959_999_in_2300_out)
{
    harness_t h;
    h_init(&h);
    answered_msg(&h, 1, 1, AT("07:59:59.999"), 1000);
    answered_msg(&h, 2, 2, AT("08:00:00.000"), 1000);
    answered_msg(&h, 3, 3, AT("22:59:59.999"), 1000);
    answered_msg(&h, 4, 4, AT("23:00:00.000"), 1000);
    h_run(&h);
    static const int in[] = {0, 0, 1, 1, 0};
    for (uint64_t shop = 1; shop <= 4; shop++) {
        char what[64];
        snprintf(what, sizeof what, "shop %" PRIu64 " " MSG, shop);
        EXPECT_ND(shop_val(&h, shop, DAY1122, MSG), in[shop], in[shop], what);
        EXPECT_ND(shop_val(&h, shop, DAY1122, SESS), in[shop], in[shop], what);
        EXPECT_ND(shop_val(&h, shop, DAY1122, BUYER3), in[shop], in[shop], what);
        EXPECT_ND(shop_val(&h, shop, DAY1122, EFFECTIVE), in[shop], in[shop], what);
        /* the 00:00-24:00 metrics count them all */
        EXPECT_ND(shop_val(&h, shop, DAY1122, TMALL_RR), 1, 1, what);
        cr_expect_eq(shop_val(&h, shop, DAY1122, TMALL_RT).den, 1, "%s", what);
    }
    h_free(&h);
}

Test(window, round_split_by_midnight_gives_a_round_on_each_day_for_00_24_metrics)
{
    harness_t h;
    h_init(&h);
    h_add(&h, ev(T_XFER, 1, 1, 1, 0, "23:50:00"));
    h_add(&h, ev(T_ASSIGN, 2, 1, 1, 1, "23:50:00"));
    h_add(&h, ev(T_BUYER, 3, 1, 1, 0, "23:59:00"));
    h_add(&h, ev(T_BUYER, 4, 1, 1, 0, "24:00:30"));
    h_add(&h, ev(T_AGENT, 5, 1, 1, 1, "24:01:00"));
    h_run(&h);
    rr_value_t a = shop_val(&h, 1, DAY1122, TMALL_RT), b = shop_val(&h, 1, DAY1123, TMALL_RT);
    cr_expect_eq(a.num, 120000);
    cr_expect_eq(a.den, 1);
    cr_expect_eq(a.buckets[3], 1);
    cr_expect_eq(b.num, 30000);
    cr_expect_eq(b.den, 1);
    cr_expect_eq(b.buckets[1], 1);
    EXPECT_ND(shop_val(&h, 1, DAY1122, TMALL_RR), 1, 1, "day 22 buyer");
    EXPECT_ND(shop_val(&h, 1, DAY1123, TMALL_RR), 1, 1, "day 23 buyer");
    EXPECT_ND(shop_val(&h, 1, DAY1122, UNASSIGNED), 0, 1, "day 22");
    EXPECT_ND(shop_val(&h, 1, DAY1123, UNASSIGNED), 0, 1, "day 23");
    /* out of the 08-23 window on both days */
    EXPECT_ND(shop_val(&h, 1, DAY1122, MSG), 0, 0, "day 22");
    EXPECT_ND(shop_val(&h, 1, DAY1123, MSG), 0, 0, "day 23");
    EXPECT_ND(agent_val(&h, 1, 1, DAY1123, TMALL_RT), 30000, 1, "agent 1 day 23");
    h_free(&h);
}

Test(window, round_split_by_midnight_is_two_rounds_for_a_00_24_manual_metric)
{
    rr_config_t cfg;
    rr_config_default(&cfg);
    cfg.metrics[0].window_from_ms = 0;
    cfg.metrics[0].window_to_ms = (int32_t)RR_DAY_MS;
    cfg.metrics[1].window_from_ms = 0;
    cfg.metrics[1].window_to_ms = (int32_t)RR_DAY_MS;
    harness_t h;
    h_init_tz(&h, &cfg, NULL, 1);
    h_add(&h, ev(T_XFER, 1, 1, 1, 0, "23:50:00"));
    h_add(&h, ev(T_ASSIGN, 2, 1, 1, 1, "23:50:00"));
    h_add(&h, ev(T_BUYER, 3, 1, 1, 0, "23:58:00"));
    h_add(&h, ev(T_BUYER, 4, 1, 1, 0, "24:00:30"));
    h_add(&h, ev(T_AGENT, 5, 1, 1, 1, "24:01:30"));
    h_run(&h);
    /* day 22: the 23:58 round waited 210 s: late; day 23: a round of 60 s */
    EXPECT_ND(shop_val(&h, 1, DAY1122, MSG), 0, 1, "day 22");
    EXPECT_ND(shop_val(&h, 1, DAY1122, SESS), 0, 1, "day 22");
    EXPECT_ND(shop_val(&h, 1, DAY1123, MSG), 1, 1, "day 23");
    EXPECT_ND(shop_val(&h, 1, DAY1123, SESS), 1, 1, "day 23");
    const rr_violation_record_t *v = cap_viol(&h.cap, MSG, 1, AT("23:58:00"));
    cr_expect_eq(v->day, DAY1122);
    cr_expect_eq(v->wait_ms, 210000);
    cr_expect_eq(v->messages, 1);
    cr_expect_eq(cap_count_viols(&h.cap, MSG, 0), 1);
    h_free(&h);
}

Test(window, wait_of_t_is_within_and_t_plus_1ms_is_late)
{
    harness_t h;
    h_init(&h);
    std_prelude(&h);
    h_add(&h, ev(T_BUYER, 3, 1, 1, 0, "10:00:00"));
    h_add(&h, ev(T_AGENT, 4, 1, 1, 1, "10:03:00"));
    h_add(&h, ev(T_BUYER, 5, 1, 1, 0, "11:00:00"));
    h_add(&h, ev(T_AGENT, 6, 1, 1, 1, "11:03:00.001"));
    h_run(&h);
    EXPECT_3MIN(&h, 1, 2, 0, 1, 0, 1);
    cr_expect_eq(cap_count_viols(&h.cap, NULL, 0), 3);
    expect_violation3(&h, 1, AT("11:00:00"), RR_REASON_LATE, 1, 180001, 1, 1);
    static const int64_t b[RR_BUCKETS] = {0, 0, 0, 0, 1, 1, 0, 0};
    expect_rt(&h, SHOP, 360001, 2, 0, b);
    h_free(&h);
}

Test(window, reply_at_h_counts_and_at_h_plus_1ms_does_not)
{
    harness_t h;
    h_init(&h);
    h_add(&h, ev(T_XFER, 1, 1, 1, 0, "09:59:00"));
    h_add(&h, ev(T_ASSIGN, 2, 1, 1, 1, "09:59:00"));
    h_add(&h, ev(T_XFER, 3, 2, 2, 0, "09:59:00"));
    h_add(&h, ev(T_ASSIGN, 4, 2, 2, 1, "09:59:00"));
    h_add(&h, ev(T_BUYER, 5, 1, 1, 0, "10:00:00"));
    h_add(&h, ev(T_BUYER, 6, 2, 2, 0, "10:00:00"));
    h_add(&h, ev(T_AGENT, 7, 1, 1, 1, "11:00:00"));
    h_add(&h, ev(T_AGENT, 8, 2, 2, 1, "11:00:00.001"));
    h_run(&h);
    EXPECT_3MIN(&h, 0, 2, 0, 2, 0, 2);
    EXPECT_SHOP(&h, EFFECTIVE, 1, 2);
    EXPECT_SHOP(&h, TMALL_RR, 1, 2);
    static const int64_t b[RR_BUCKETS] = {0, 0, 0, 0, 0, 0, 0, 1};
    expect_rt(&h, SHOP, 3600000, 1, 1, b);
    const rr_violation_record_t *v1 = cap_viol(&h.cap, MSG, 1, AT("10:00:00"));
    cr_expect_eq(v1->reason, RR_REASON_LATE);
    cr_expect_eq(v1->answered, 1);
    cr_expect_eq(v1->wait_ms, 3600000);
    const rr_violation_record_t *v2 = cap_viol(&h.cap, MSG, 2, AT("10:00:00"));
    cr_expect_eq(v2->reason, RR_REASON_NO_REPLY);
    cr_expect_eq(v2->answered, 0, "a reply beyond H is no reply: reply_ms and wait_ms null");
    h_free(&h);
}

Test(window, reply_beyond_h_of_the_round_start_still_answers_a_later_message_within_t)
{
    harness_t h;
    h_init(&h);
    std_prelude(&h);
    h_add(&h, ev(T_BUYER, 3, 1, 1, 0, "10:00:00"));
    h_add(&h, ev(T_BUYER, 4, 1, 1, 0, "10:59:30"));
    h_add(&h, ev(T_AGENT, 5, 1, 1, 1, "11:00:30"));
    h_run(&h);
    /* per message: 10:00:00 has no reply within H, 10:59:30 waited 60 s */
    EXPECT_3MIN(&h, 1, 2, 0, 1, 0, 1);
    expect_violation3(&h, 1, AT("10:00:00"), RR_REASON_NO_REPLY, 0, 0, 2, 1);
    expect_rt(&h, SHOP, 0, 0, 1, NULL);
    /* the buyer's last message was replied to */
    EXPECT_SHOP(&h, TMALL_RR, 1, 1);
    EXPECT_SHOP(&h, EFFECTIVE, 1, 1);
    h_free(&h);
}

Test(window, long_round_counts_each_message_against_its_own_wait)
{
    harness_t h;
    h_init(&h);
    std_prelude(&h);
    /* 13 messages 50 s apart from 10:00:00 to 10:10:00, one reply at 10:10:30:
     * messages from 10:07:30 on waited <= 180 s (4 of them) */
    for (int k = 0; k <= 12; k++)
        h_add(&h, ev_ts(T_BUYER, 10 + (uint64_t)k, 1, 1, 0, AT("10:00:00") + k * 50000));
    h_add(&h, ev(T_AGENT, 50, 1, 1, 1, "10:10:30"));
    h_run(&h);
    EXPECT_3MIN(&h, 4, 13, 0, 1, 0, 1);
    EXPECT_AGENT(&h, 1, MSG, 4, 13);
    expect_violation3(&h, 1, AT("10:00:00"), RR_REASON_LATE, 1, 630000, 13, 1);
    h_free(&h);
}

Test(accept, duplicates_are_found_among_many_events_of_one_conversation)
{
    harness_t h;
    h_init(&h);
    OFFER_AS(&h, ev(T_XFER, 1, 1, 1, 0, "09:00:00"), RR_APPLIED);
    for (uint64_t i = 0; i < 300; i++)
        OFFER_AS(&h, ev(T_BUYER, 1000 + i * 7, 1, 1, 0, "10:00:00"), RR_APPLIED);
    for (uint64_t i = 0; i < 300; i++)
        OFFER_AS(&h, ev(T_BUYER, 1000 + i * 7, 1, 1, 0, "10:00:00"), RR_DUPLICATE);
    OFFER_AS(&h, ev(T_AGENT, 5000, 1, 1, 1, "10:00:00"), RR_APPLIED);
    h_finish(&h);
    EXPECT_3MIN(&h, 300, 300, 1, 1, 1, 1);
    rr_stats_t st;
    h_stats(&h, &st);
    cr_expect_eq(st.duplicate, 300);
    cr_expect_eq(st.applied, 302);
    h_free(&h);
}

Test(window, response_time_buckets_include_their_upper_edges)
{
    static const int64_t waits[] = {0,      15000,  15001,  30000,  30001,  60000,  120000,
                                    180000, 180001, 300000, 600000, 600001, 3600000};
    const size_t n = sizeof waits / sizeof waits[0];
    harness_t h;
    h_init(&h);
    int64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        answered_msg(&h, 1, 1 + i, AT("10:00:00") + (int64_t)i * 1000, waits[i]);
        sum += waits[i];
    }
    h_run(&h);
    static const int64_t b[RR_BUCKETS] = {2, 2, 2, 1, 1, 2, 1, 2};
    expect_rt(&h, SHOP, sum, (int64_t)n, 0, b);
    expect_rt(&h, 7, sum, (int64_t)n, 0, b);
    h_free(&h);
}

Test(window, exclusions_judge_each_events_own_flags)
{
    harness_t h;
    h_init(&h);
    /* conversation 1: a spam-flagged message, unanswered (session end) */
    h_add(&h, ev(T_XFER, 1, 1, 1, 0, "09:59:00"));
    h_add(&h, ev(T_ASSIGN, 2, 1, 1, 1, "09:59:00"));
    h_add(&h, with_flags(ev(T_BUYER, 3, 1, 1, 0, "10:00:00"), RR_FLAG_SPAM));
    h_add(&h, ev(T_END, 4, 1, 1, 0, "10:01:00"));
    /* conversation 2, same buyer, no flag: answered */
    h_add(&h, ev(T_XFER, 5, 2, 1, 0, "10:59:00"));
    h_add(&h, ev(T_ASSIGN, 6, 2, 1, 1, "10:59:00"));
    h_add(&h, ev(T_BUYER, 7, 2, 1, 0, "11:00:00"));
    h_add(&h, ev(T_AGENT, 8, 2, 1, 1, "11:01:00"));
    /* conversation 3, an internal sub-account: answered, excluded from tmall */
    h_add(&h, ev(T_XFER, 9, 3, 3, 0, "10:59:00"));
    h_add(&h, with_flags(ev(T_BUYER, 10, 3, 3, 0, "11:00:00"), RR_FLAG_INTERNAL));
    h_add(&h, ev(T_AGENT, 11, 3, 3, 2, "11:00:10"));
    h_run(&h);
    /* douyin / pdd exclude nothing */
    EXPECT_3MIN(&h, 2, 3, 2, 3, 1, 2);
    /* tmall excludes spam and internal: only buyer 1's 11:00 message */
    EXPECT_SHOP(&h, TMALL_RR, 1, 1);
    expect_rt(&h, SHOP, 60000, 1, 0, NULL);
    h_free(&h);
}

Test(window, session_end_does_not_end_the_manual_phase)
{
    harness_t h;
    h_init(&h);
    std_prelude(&h);
    h_add(&h, ev(T_END, 3, 1, 1, 0, "09:00:00"));
    h_add(&h, ev(T_BUYER, 4, 1, 1, 0, "10:00:00"));
    h_add(&h, ev(T_AGENT, 5, 1, 1, 1, "10:01:00"));
    h_run(&h);
    EXPECT_3MIN(&h, 1, 1, 1, 1, 1, 1);
    h_free(&h);
}

Test(window, system_messages_never_reply)
{
    harness_t h;
    h_init(&h);
    std_prelude(&h);
    h_add(&h, ev(T_BUYER, 3, 1, 1, 0, "10:00:00"));
    h_add(&h, ev(T_SYSTEM, 4, 1, 1, 0, "10:00:01"));
    h_add(&h, ev(T_INVITE, 5, 1, 1, 0, "10:00:02"));
    h_add(&h, ev(T_END, 6, 1, 1, 0, "10:10:00"));
    h_run(&h);
    EXPECT_3MIN(&h, 0, 1, 0, 1, 0, 1);
    EXPECT_SHOP(&h, EFFECTIVE, 0, 1);
    expect_rt(&h, SHOP, 0, 0, 1, NULL);
    h_free(&h);
}

/* ==== SPEC §5 completeness: days, finalisation ============================== */

#define END_1122 AT("24:00:00") /* local end of 2026-11-22 */

Test(days, unanswered_round_without_an_agent_yet_waits_for_its_reason)
{
    /* Closed unanswered at 10:01 with no agent so far: `unassigned` or
     * `no_reply` depends on an agent event up to start + H, so the violation
     * is held; an assignment at 10:30 makes it no_reply. */
    harness_t h;
    h_init(&h);
    OFFER_AS(&h, ev(T_XFER, 1, 1, 1, 0, "10:00:00"), RR_APPLIED);
    OFFER_AS(&h, ev(T_BUYER, 2, 1, 1, 0, "10:00:01"), RR_APPLIED);
    OFFER_AS(&h, ev(T_END, 3, 1, 1, 0, "10:01:00"), RR_APPLIED);
    OFFER_AS(&h, ev(T_START, 4, 2, 2, 0, "10:20:00"), RR_APPLIED);
    cr_assert_eq(h.cap.n_viols, 0, "reason not known yet");
    OFFER_AS(&h, ev(T_ASSIGN, 5, 1, 1, 7, "10:30:00"), RR_APPLIED);
    h_finish(&h);
    cr_assert_eq(cap_count_viols(&h.cap, MSG, 1), 1);
    for (size_t i = 0; i < h.cap.n_viols; i++)
        cr_expect_eq(h.cap.viols[i].r.reason, RR_REASON_NO_REPLY);
    h_free(&h);
}

Test(days, day_is_published_once_the_watermark_passes_day_end_plus_h_and_not_before)
{
    harness_t h;
    h_init(&h);
    OFFER_AS(&h, ev(T_XFER, 1, 1, 1, 0, "10:00:00"), RR_APPLIED);
    OFFER_AS(&h, ev(T_BUYER, 2, 1, 1, 0, "10:00:01"), RR_APPLIED);
    OFFER_AS(&h, ev(T_AGENT, 3, 1, 1, 1, "10:05:00"), RR_APPLIED);
    /* shop 2 drives the watermark: end + H + lateness gives wm = end + H */
    OFFER_AS(&h, with_shop(ev_ts(T_START, 10, 2, 2, 0, END_1122 + HOUR_MS - 60000), 2), RR_APPLIED);
    OFFER_AS(&h, with_shop(ev_ts(T_START, 11, 2, 2, 0, END_1122 + HOUR_MS + 5000), 2), RR_APPLIED);
    cr_assert_eq(h.cap.n_days, 0, "wm = day end + H: not final yet");
    /* the round answered late closed at 10:05: its violation cannot change any
     * more and is already out, before its day */
    cr_assert_eq(h.cap.n_viols, 3);
    long at = h.cap.offers + 1;
    OFFER_AS(&h, with_shop(ev_ts(T_START, 12, 2, 2, 0, END_1122 + HOUR_MS + 5001), 2), RR_APPLIED);
    const cap_day_t *d = cap_find(&h.cap, 1, SHOP, DAY1122);
    cr_assert_not_null(d, "wm = day end + H + 1 ms: day 22 is final");
    cr_expect_eq(d->at_offer, at);
    cr_expect_eq(d->at_finish, 0);
    cr_expect(d->final);
    cr_expect_eq(d->revision, 0);
    const cap_day_t *a = cap_find(&h.cap, 1, 1, DAY1122);
    cr_assert_not_null(a);
    cr_expect_eq(a->at_offer, at);
    cr_expect_eq(cap_count_viols(&h.cap, MSG, 1), 1, "each violation published once");
    cr_expect_lt(h.cap.viols[0].at_offer, at);
    cr_expect_null(cap_find(&h.cap, 2, SHOP, DAY1123), "day 23 is still open");
    /* a reply to day 22's round now is late, and republishes nothing */
    size_t n_days = h.cap.n_days;
    OFFER_AS(&h, ev_ts(T_AGENT, 4, 1, 1, 1, END_1122 + HOUR_MS), RR_LATE);
    h_finish(&h);
    const cap_day_t *d23 = cap_find(&h.cap, 2, SHOP, DAY1123);
    cr_assert_not_null(d23);
    cr_expect_eq(d23->at_finish, 1);
    cr_expect_eq(h.cap.n_days, n_days + 1);
    cap_find(&h.cap, 1, SHOP, DAY1122); /* still exactly once */
    rr_stats_t st;
    h_stats(&h, &st);
    cr_expect_eq(st.open_days, 0);
    cr_expect_eq(st.shop_days, 2);
    h_free(&h);
}

Test(days, multi_day_conversation_publishes_each_day_once_and_in_order)
{
    harness_t h;
    h_init(&h);
    /* one conversation over three days, never idle for long; the manual
     * phase and the agent carry over midnight */
    static const struct {
        uint32_t type;
        uint64_t agent;
        const char *t;
    } script[] = {
        {T_XFER, 0, "21:00:00"},  {T_ASSIGN, 1, "21:00:00"}, {T_BUYER, 0, "22:00:00"},
        {T_AGENT, 1, "22:01:00"}, {T_BUYER, 0, "26:00:00"},  {T_AGENT, 1, "26:02:00"},
        {T_BUYER, 0, "30:00:00"}, {T_AGENT, 1, "30:05:00"},  {T_BUYER, 0, "34:00:00"},
        {T_AGENT, 1, "34:00:30"}, {T_BUYER, 0, "38:00:00"},  {T_AGENT, 1, "38:00:30"},
        {T_BUYER, 0, "42:00:00"}, {T_AGENT, 1, "42:00:30"},  {T_BUYER, 0, "46:00:00"},
        {T_AGENT, 1, "46:10:00"}, {T_BUYER, 0, "48:30:00"},  {T_AGENT, 1, "48:30:10"},
    };
    const size_t n = sizeof script / sizeof script[0];
    for (size_t i = 0; i < n; i++)
        OFFER_AS(&h, ev(script[i].type, 1 + i, 1, 1, script[i].agent, script[i].t), RR_APPLIED);
    /* the last event (day 24 00:30:10) made wm > day 22 end + H, not day 23's */
    cr_expect_not_null(cap_find(&h.cap, 1, SHOP, DAY1122));
    cr_expect_null(cap_find(&h.cap, 1, SHOP, DAY1123));
    h_finish(&h);
    const cap_day_t *d22 = cap_find(&h.cap, 1, SHOP, DAY1122);
    const cap_day_t *d23 = cap_find(&h.cap, 1, SHOP, DAY1123);
    const cap_day_t *d24 = cap_find(&h.cap, 1, SHOP, DAY1124);
    cr_assert(d22 && d23 && d24);
    cr_expect_lt(d22->seq, d23->seq);
    cr_expect_lt(d23->seq, d24->seq);
    cr_expect_eq(d22->at_finish, 0);
    cr_expect_eq(d23->at_finish, 1);
    for (size_t i = 0; i < h.cap.n_days; i++)
        cr_expect(h.cap.days[i].final);
    /* day 22: 22:00 (60 s); day 23: 02:00 (120 s) and 06:00 (300 s) out of the
     * window, 10:00, 14:00, 18:00 (30 s each), 22:00 (600 s); day 24: 00:30 (10 s) */
    EXPECT_ND(shop_val(&h, 1, DAY1122, MSG), 1, 1, "day 22");
    EXPECT_ND(shop_val(&h, 1, DAY1123, MSG), 3, 4, "day 23");
    EXPECT_ND(shop_val(&h, 1, DAY1123, SESS), 0, 1, "day 23");
    EXPECT_ND(shop_val(&h, 1, DAY1124, MSG), 0, 0, "day 24");
    EXPECT_ND(shop_val(&h, 1, DAY1123, TMALL_RT), 120000 + 300000 + 3 * 30000 + 600000, 6,
              "day 23");
    EXPECT_ND(shop_val(&h, 1, DAY1124, TMALL_RT), 10000, 1, "day 24");
    EXPECT_ND(shop_val(&h, 1, DAY1123, UNASSIGNED), 0, 1, "day 23");
    EXPECT_ND(agent_val(&h, 1, 1, DAY1123, MSG), 3, 4, "agent 1 day 23");
    const rr_violation_record_t *v = cap_viol(&h.cap, SESS, 1, AT("46:00:00"));
    cr_expect_eq(v->day, DAY1123);
    cr_expect_eq(v->wait_ms, 600000);
    h_free(&h);
}

Test(days, any_applied_event_opens_a_shop_day)
{
    harness_t h;
    h_init(&h);
    h_add(&h, ev(T_START, 1, 1, 1, 0, "10:00:00"));
    h_add(&h, with_rating(with_shop(ev(T_RATING, 2, 2, 2, 0, "11:00:00"), 2), 5));
    h_run(&h);
    const cap_day_t *d1 = cap_find(&h.cap, 1, SHOP, DAY1122);
    const cap_day_t *d2 = cap_find(&h.cap, 2, SHOP, DAY1122);
    cr_assert(d1 && d2);
    cr_expect_eq(h.cap.n_days, 2, "no agent_day without per-agent counts");
    /* a robot-phase rating is not a manual satisfaction rating */
    EXPECT_ND(shop_val(&h, 2, DAY1122, SAT), 0, 0, "shop 2");
    for (size_t m = 0; m < h.cap.n_metrics; m++)
        cr_expect(d1->v[m].num == 0 && d1->v[m].den == 0 && d1->v[m].unanswered == 0);
    h_free(&h);
}

/* ==== SPEC §3 Agent of a round; §4 per-agent counts ========================== */

Test(agents, round_agent_is_the_latest_assignment_before_its_first_message)
{
    harness_t h;
    h_init(&h);
    h_add(&h, ev(T_XFER, 1, 1, 1, 0, "07:00:00"));
    h_add(&h, ev(T_ASSIGN, 2, 1, 1, 1, "07:00:00"));
    h_add(&h, ev(T_ASSIGN, 3, 1, 1, 2, "09:00:00"));
    h_add(&h, ev(T_BUYER, 4, 1, 1, 0, "10:00:00"));
    h_add(&h, ev(T_ASSIGN, 5, 1, 1, 3, "10:00:30")); /* after the first message */
    h_add(&h, ev(T_BUYER, 6, 1, 1, 0, "10:01:00"));
    h_add(&h, ev(T_AGENT, 7, 1, 1, 3, "10:04:00"));
    h_run(&h);
    EXPECT_AGENT(&h, 2, MSG, 1, 2);
    cr_expect_null(cap_find(&h.cap, 1, 1, DAY1122));
    cr_expect_null(cap_find(&h.cap, 1, 3, DAY1122));
    expect_violation3(&h, 1, AT("10:00:00"), RR_REASON_LATE, 1, 240000, 2, 2);
    h_free(&h);
}

Test(agents, assignment_at_the_rounds_ts_with_a_greater_event_id_does_not_name_the_round)
{
    harness_t h;
    h_init(&h);
    std_prelude(&h);
    h_add(&h, ev(T_BUYER, 3, 1, 1, 0, "10:00:00"));
    h_add(&h, ev(T_ASSIGN, 4, 1, 1, 2, "10:00:00"));
    h_add(&h, ev(T_AGENT, 5, 1, 1, 2, "10:04:00"));
    h_run(&h);
    EXPECT_AGENT(&h, 1, MSG, 0, 1);
    cr_expect_null(cap_find(&h.cap, 1, 2, DAY1122));
    expect_violation3(&h, 1, AT("10:00:00"), RR_REASON_LATE, 1, 240000, 1, 1);
    h_free(&h);
}

Test(agents, round_agent_falls_back_to_the_replying_agent_then_to_0)
{
    harness_t h;
    h_init(&h);
    /* conversation 1: transfer only, agent 5 replies */
    h_add(&h, ev(T_XFER, 1, 1, 1, 0, "07:00:00"));
    h_add(&h, ev(T_BUYER, 2, 1, 1, 0, "10:00:00"));
    h_add(&h, ev(T_AGENT, 3, 1, 1, 5, "10:01:00"));
    /* conversation 2: transfer only, no reply */
    h_add(&h, ev(T_XFER, 4, 2, 2, 0, "07:00:00"));
    h_add(&h, ev(T_BUYER, 5, 2, 2, 0, "10:00:00"));
    /* conversation 3: transfer only, a reply beyond H is no reply: agent 0 */
    h_add(&h, ev(T_XFER, 6, 3, 3, 0, "07:00:00"));
    h_add(&h, ev(T_BUYER, 7, 3, 3, 0, "10:00:00"));
    h_add(&h, ev(T_AGENT, 8, 3, 3, 6, "11:00:01"));
    h_run(&h);
    EXPECT_AGENT(&h, 5, MSG, 1, 1);
    expect_rt(&h, 5, 60000, 1, 0, NULL);
    EXPECT_AGENT(&h, 0, MSG, 0, 2);
    expect_rt(&h, 0, 0, 0, 2, NULL);
    cr_expect_null(cap_find(&h.cap, 1, 6, DAY1122));
    cr_expect_eq(cap_viol(&h.cap, MSG, 2, AT("10:00:00"))->agent_id, 0);
    cr_expect_eq(cap_viol(&h.cap, MSG, 3, AT("10:00:00"))->agent_id, 0);
    /* conversation 3's only agent event came later than start + H */
    cr_expect_eq(cap_viol(&h.cap, MSG, 3, AT("10:00:00"))->reason, RR_REASON_UNASSIGNED);
    cr_expect_eq(cap_viol(&h.cap, MSG, 2, AT("10:00:00"))->reason, RR_REASON_UNASSIGNED);
    h_free(&h);
}

Test(agents, reassignment_mid_conversation_moves_later_rounds_to_the_new_agent)
{
    harness_t h;
    h_init(&h);
    std_prelude(&h);
    h_add(&h, ev(T_BUYER, 3, 1, 1, 0, "10:00:00"));
    h_add(&h, ev(T_AGENT, 4, 1, 1, 1, "10:01:00"));
    h_add(&h, ev(T_ASSIGN, 5, 1, 1, 2, "10:05:00"));
    h_add(&h, ev(T_BUYER, 6, 1, 1, 0, "10:10:00"));
    h_add(&h, ev(T_BUYER, 7, 1, 1, 0, "10:11:00"));
    h_add(&h, ev(T_AGENT, 8, 1, 1, 2, "10:12:00"));
    h_run(&h);
    EXPECT_AGENT(&h, 1, MSG, 1, 1);
    EXPECT_AGENT(&h, 2, MSG, 2, 2);
    expect_rt(&h, 1, 60000, 1, 0, NULL);
    expect_rt(&h, 2, 120000, 1, 0, NULL);
    EXPECT_3MIN(&h, 3, 3, 1, 1, 1, 1);
    h_free(&h);
}

Test(agents, satisfaction_goes_to_the_agent_assigned_before_the_last_in_window_rating)
{
    harness_t h;
    h_init(&h);
    std_prelude(&h);
    h_add(&h, ev(T_BUYER, 3, 1, 1, 0, "10:00:00"));
    h_add(&h, ev(T_AGENT, 4, 1, 1, 1, "10:01:00"));
    h_add(&h, ev(T_ASSIGN, 5, 1, 1, 2, "10:05:00"));
    h_add(&h, with_rating(ev(T_RATING, 6, 1, 1, 9, "10:10:00"), 2));
    h_add(&h, with_rating(ev(T_RATING, 7, 1, 1, 9, "10:20:00"), 5));
    /* conversation 2: agent 3; last in-window rating 5 at 22:59, the 23:00 one is out */
    h_add(&h, ev(T_XFER, 8, 2, 2, 0, "09:59:00"));
    h_add(&h, ev(T_ASSIGN, 9, 2, 2, 3, "09:59:00"));
    h_add(&h, with_rating(ev(T_RATING, 10, 2, 2, 0, "22:59:00"), 5));
    h_add(&h, with_rating(ev(T_RATING, 11, 2, 2, 0, "23:00:00"), 1));
    /* conversation 3: rated 4 with no assignment: agent 0; conversation 4: rated 3 */
    h_add(&h, ev(T_XFER, 12, 3, 3, 0, "09:59:00"));
    h_add(&h, with_rating(ev(T_RATING, 13, 3, 3, 4, "12:00:00"), 4));
    h_add(&h, ev(T_XFER, 14, 4, 4, 0, "09:59:00"));
    h_add(&h, ev(T_ASSIGN, 15, 4, 4, 3, "09:59:00"));
    h_add(&h, with_rating(ev(T_RATING, 16, 4, 4, 0, "12:00:00"), 3));
    /* conversation 5: a robot-phase rating does not count */
    h_add(&h, with_rating(ev(T_RATING, 17, 5, 5, 0, "12:00:00"), 5));
    h_run(&h);
    EXPECT_SHOP(&h, SAT, 3, 4);
    EXPECT_AGENT(&h, 2, SAT, 1, 1);
    EXPECT_AGENT(&h, 1, SAT, 0, 0);
    EXPECT_AGENT(&h, 3, SAT, 1, 2);
    EXPECT_AGENT(&h, 0, SAT, 1, 1);
    cr_expect_null(cap_find(&h.cap, 1, 9, DAY1122), "the rating event's own agent_id is ignored");
    h_free(&h);
}

/* ==== SPEC §3 Buyers; §4 buyer_within, buyer_replied ========================= */

Test(buyers, buyer_with_one_late_conversation_fails_buyer_within_across_conversations)
{
    harness_t h;
    h_init(&h);
    answered_msg(&h, 1, 1, AT("10:00:00"), 60000); /* buyer 1 */
    answered_msg(&h, 1, 2, AT("11:00:00"), 60000); /* buyer 2 */
    /* buyer 1's second conversation: late */
    h_add(&h, ev(T_XFER, 101, 3, 1, 0, "11:59:00"));
    h_add(&h, ev(T_BUYER, 102, 3, 1, 0, "12:00:00"));
    h_add(&h, ev(T_AGENT, 103, 3, 1, 7, "12:05:00"));
    h_run(&h);
    EXPECT_SHOP(&h, BUYER3, 1, 2);
    EXPECT_SHOP(&h, SESS, 2, 3);
    EXPECT_SHOP(&h, MSG, 2, 3);
    EXPECT_SHOP(&h, EFFECTIVE, 2, 2);
    EXPECT_SHOP(&h, TMALL_RR, 2, 2);
    cr_expect_eq(cap_viol(&h.cap, BUYER3, 3, AT("12:00:00"))->buyer_id, 1);
    h_free(&h);
}

Test(buyers, require_last_follows_the_buyers_last_message_across_conversations)
{
    for (int reversed = 0; reversed <= 1; reversed++) {
        harness_t h;
        h_init(&h);
        /* conversation A at 10:00, conversation B at 11:00, same buyer; one
         * answered, the other ended without reply */
        h_add(&h, ev(T_XFER, 1, 1, 1, 0, "09:59:00"));
        h_add(&h, ev(T_ASSIGN, 2, 1, 1, 1, "09:59:00"));
        h_add(&h, ev(T_BUYER, 3, 1, 1, 0, "10:00:00"));
        h_add(&h, ev(reversed ? T_END : T_AGENT, 4, 1, 1, 1, "10:01:00"));
        h_add(&h, ev(T_XFER, 5, 2, 1, 0, "10:59:00"));
        h_add(&h, ev(T_ASSIGN, 6, 2, 1, 1, "10:59:00"));
        h_add(&h, ev(T_BUYER, 7, 2, 1, 0, "11:00:00"));
        h_add(&h, ev(reversed ? T_AGENT : T_END, 8, 2, 1, 1, "11:01:00"));
        h_run(&h);
        /* any: some message replied; last: only if the 11:00 one was */
        EXPECT_SHOP(&h, EFFECTIVE, 1, 1);
        EXPECT_SHOP(&h, TMALL_RR, reversed ? 1 : 0, 1);
        EXPECT_SHOP(&h, BUYER3, 0, 1);
        EXPECT_SHOP(&h, SESS, 1, 2);
        h_free(&h);
    }
}

Test(buyers, require_last_ties_across_conversations_go_by_event_id)
{
    for (int flip = 0; flip <= 1; flip++) {
        harness_t h;
        h_init(&h);
        /* both conversations' last message at 12:00:00; conversation 1's has
         * event_id 17 (flip: 16), conversation 2's 16 (flip: 17) */
        h_add(&h, ev(T_XFER, 1, 1, 1, 0, "09:59:00"));
        h_add(&h, ev(T_XFER, 2, 2, 1, 0, "09:59:00"));
        h_add(&h, ev(T_BUYER, flip ? 16 : 17, 1, 1, 0, "12:00:00"));
        h_add(&h, ev(T_BUYER, flip ? 17 : 16, 2, 1, 0, "12:00:00"));
        h_add(&h, ev(T_AGENT, 18, 1, 1, 1, "12:01:00")); /* answers conversation 1 */
        h_add(&h, ev(T_END, 19, 2, 1, 0, "12:01:00"));
        h_run(&h);
        EXPECT_SHOP(&h, TMALL_RR, flip ? 0 : 1, 1);
        EXPECT_SHOP(&h, EFFECTIVE, 1, 1);
        h_free(&h);
    }
}

/* ==== SPEC §4 unassigned, violation reasons ================================= */

Test(unassigned, unassigned_metric_counts_an_agent_at_day_end_plus_h_but_not_1ms_later)
{
    harness_t h;
    h_init(&h);
    h_add(&h, ev(T_XFER, 1, 1, 1, 0, "09:59:00"));
    h_add(&h, ev(T_XFER, 2, 2, 2, 0, "09:59:00"));
    h_add(&h, ev(T_BUYER, 3, 1, 1, 0, "10:00:00"));
    h_add(&h, ev(T_BUYER, 4, 2, 2, 0, "10:00:00"));
    h_add(&h, ev_ts(T_ASSIGN, 5, 1, 1, 5, END_1122 + HOUR_MS));
    h_add(&h, ev_ts(T_ASSIGN, 6, 2, 2, 5, END_1122 + HOUR_MS + 1));
    h_run(&h);
    EXPECT_SHOP(&h, UNASSIGNED, 1, 2);
    /* both rounds: no agent within start + H */
    expect_violation3(&h, 1, AT("10:00:00"), RR_REASON_UNASSIGNED, 0, 0, 1, 0);
    expect_violation3(&h, 2, AT("10:00:00"), RR_REASON_UNASSIGNED, 0, 0, 1, 0);
    /* day 23 holds only the assignments */
    const cap_day_t *d23 = cap_find(&h.cap, 1, SHOP, DAY1123);
    cr_assert_not_null(d23);
    EXPECT_ND(shop_val(&h, 1, DAY1123, UNASSIGNED), 0, 0, "day 23");
    h_free(&h);
}

Test(unassigned, robot_phase_messages_do_not_make_a_conversation_unassigned)
{
    harness_t h;
    h_init(&h);
    h_add(&h, ev(T_START, 1, 1, 1, 0, "10:00:00"));
    h_add(&h, ev(T_BUYER, 2, 1, 1, 0, "10:00:01"));
    h_add(&h, ev(T_ROBOT, 3, 1, 1, 0, "10:00:02"));
    h_run(&h);
    EXPECT_SHOP(&h, UNASSIGNED, 0, 0);
    EXPECT_SHOP(&h, MSG, 0, 0);
    EXPECT_SHOP(&h, TMALL_RR, 1, 1);
    cr_expect_eq(cap_count_viols(&h.cap, NULL, 0), 0);
    h_free(&h);
}

Test(unassigned,
     violation_reason_is_no_reply_with_an_agent_at_start_plus_h_and_unassigned_1ms_later)
{
    harness_t h;
    h_init(&h);
    h_add(&h, ev(T_XFER, 1, 1, 1, 0, "09:59:00"));
    h_add(&h, ev(T_XFER, 2, 2, 2, 0, "09:59:00"));
    h_add(&h, ev(T_BUYER, 3, 1, 1, 0, "10:00:00"));
    h_add(&h, ev(T_BUYER, 4, 2, 2, 0, "10:00:00"));
    h_add(&h, ev(T_END, 5, 1, 1, 0, "10:01:00"));
    h_add(&h, ev(T_END, 6, 2, 2, 0, "10:01:00"));
    h_add(&h, ev(T_ASSIGN, 7, 1, 1, 5, "11:00:00"));
    h_add(&h, ev(T_ASSIGN, 8, 2, 2, 5, "11:00:00.001"));
    h_run(&h);
    expect_violation3(&h, 1, AT("10:00:00"), RR_REASON_NO_REPLY, 0, 0, 1, 0);
    expect_violation3(&h, 2, AT("10:00:00"), RR_REASON_UNASSIGNED, 0, 0, 1, 0);
    EXPECT_SHOP(&h, UNASSIGNED, 0, 2);
    h_free(&h);
}

Test(unassigned, an_agent_message_also_counts_as_assignment_for_the_reason)
{
    harness_t h;
    h_init(&h);
    h_add(&h, ev(T_XFER, 1, 1, 1, 0, "09:59:00"));
    h_add(&h, ev(T_BUYER, 2, 1, 1, 0, "10:00:00"));
    h_add(&h, ev(T_END, 3, 1, 1, 0, "10:01:00"));
    h_add(&h, ev(T_AGENT, 4, 1, 1, 5, "10:30:00"));
    h_run(&h);
    expect_violation3(&h, 1, AT("10:00:00"), RR_REASON_NO_REPLY, 0, 0, 1, 0);
    EXPECT_SHOP(&h, UNASSIGNED, 0, 1);
    h_free(&h);
}

/* ==== SPEC §5 watermarks over several partitions ============================= */

Test(partitions, job_watermark_is_the_least_over_partitions)
{
    harness_t h;
    h_init_tz(&h, NULL, NULL, 2);
    cr_assert_eq(h_offer_p(&h, 0, ev(T_BUYER, 1, 1, 1, 0, "10:00:00")), RR_APPLIED);
    cr_assert_eq(h_offer_p(&h, 1, with_shop(ev(T_BUYER, 2, 2, 2, 0, "10:00:00"), 2)), RR_APPLIED);
    /* partition 0 runs an hour past day 22's end + H */
    cr_assert_eq(h_offer_p(&h, 0, ev_ts(T_START, 3, 3, 3, 0, END_1122 + 2 * HOUR_MS)), RR_APPLIED);
    cr_assert_eq(h.cap.n_days, 0, "partition 1 (wm 09:59:55) holds day 22 back");
    cr_assert_eq(
        h_offer_p(&h, 1, with_shop(ev_ts(T_START, 4, 4, 4, 0, END_1122 + HOUR_MS + 5000), 2)),
        RR_APPLIED);
    cr_assert_eq(h.cap.n_days, 0, "job wm = day end + H: not yet");
    long at = h.cap.offers + 1;
    cr_assert_eq(
        h_offer_p(&h, 1, with_shop(ev_ts(T_START, 5, 4, 4, 0, END_1122 + HOUR_MS + 5001), 2)),
        RR_APPLIED);
    const cap_day_t *d1 = cap_find(&h.cap, 1, SHOP, DAY1122);
    const cap_day_t *d2 = cap_find(&h.cap, 2, SHOP, DAY1122);
    cr_assert(d1 && d2);
    cr_expect_eq(d1->at_offer, at);
    cr_expect_eq(d2->at_offer, at);
    EXPECT_ND(shop_val(&h, 2, DAY1122, TMALL_RR), 0, 1, "shop 2");
    h_finish(&h);
    h_free(&h);
}

Test(partitions, ended_partition_stops_holding_the_watermark_back)
{
    harness_t h;
    h_init_tz(&h, NULL, NULL, 2);
    cr_assert_eq(h_offer_p(&h, 1, with_shop(ev(T_BUYER, 2, 2, 2, 0, "10:00:00"), 2)), RR_APPLIED);
    cr_assert_eq(h_offer_p(&h, 1, with_shop(ev(T_ROBOT, 3, 2, 2, 0, "10:00:01"), 2)), RR_APPLIED);
    cr_assert_eq(h_offer_p(&h, 0, ev(T_BUYER, 1, 1, 1, 0, "10:00:00")), RR_APPLIED);
    cr_assert_eq(h_offer_p(&h, 0, ev_ts(T_START, 4, 3, 3, 0, END_1122 + 2 * HOUR_MS)), RR_APPLIED);
    cr_assert_eq(h.cap.n_days, 0);
    rr_engine_partition_end(h.e, h.part[1]);
    /* partition 1's buffered events were applied, then day 22 became final */
    const cap_day_t *d2 = cap_find(&h.cap, 2, SHOP, DAY1122);
    cr_assert_not_null(d2, "day 22 is final once partition 1 ended");
    cr_expect_eq(d2->at_finish, 0);
    EXPECT_ND(shop_val(&h, 2, DAY1122, TMALL_RR), 1, 1, "shop 2: the robot reply was applied");
    cr_expect_not_null(cap_find(&h.cap, 1, SHOP, DAY1122));
    /* an ended partition that delivers again: day 22 is final, so late */
    cr_expect_eq(h_offer_p(&h, 1, with_shop(ev(T_AGENT, 6, 2, 2, 1, "10:01:00"), 2)), RR_LATE);
    h_finish(&h);
    cap_find(&h.cap, 2, SHOP, DAY1122); /* still exactly once */
    expect_counts_add_up(&h);
    h_free(&h);
}

Test(partitions, partition_that_delivered_nothing_holds_the_watermark_until_it_ends)
{
    harness_t h;
    h_init_tz(&h, NULL, NULL, 2);
    cr_assert_eq(h_offer_p(&h, 0, ev(T_BUYER, 1, 1, 1, 0, "10:00:00")), RR_APPLIED);
    cr_assert_eq(h_offer_p(&h, 0, ev_ts(T_START, 2, 2, 2, 0, END_1122 + 2 * HOUR_MS)), RR_APPLIED);
    cr_expect_eq(h.cap.n_days, 0);
    rr_engine_partition_end(h.e, h.part[1]);
    cr_expect_not_null(cap_find(&h.cap, 1, SHOP, DAY1122));
    cr_expect_null(cap_find(&h.cap, 1, SHOP, DAY1123));
    h_free(&h);
}

Test(partitions, rejected_records_name_their_partition_and_a_split_shop_is_counted)
{
    harness_t h;
    h_init_tz(&h, NULL, NULL, 3);
    cr_assert_eq(h_offer_p(&h, 0, ev(T_BUYER, 1, 1, 1, 0, "10:00:00")), RR_APPLIED);
    cr_assert_eq(h_offer_p(&h, 2, ev(T_BUYER, 2, 2, 2, 0, "10:00:00")), RR_APPLIED);
    cr_assert_eq(h_offer_p(&h, 2, ev(T_BUYER, 3, 3, 3, 0, "10:00:00")), RR_APPLIED);
    cr_assert_eq(h_offer_p(&h, 2, ev(T_BUYER, 4, 2, 9, 0, "10:00:00")), RR_INVALID);
    cr_assert_eq(h.cap.n_rejs, 1);
    cr_expect_eq(h.cap.rejs[0].partition, h.part[2]);
    cr_expect_str_eq(h.cap.rejs[0].source, "part-2");
    rr_stats_t st;
    h_stats(&h, &st);
    cr_expect_eq(st.shops_in_several_partitions, 1);
    h_free(&h);
}

/* A conversation lives in its partition (docs/engine.md, "Decisions"): the
 * same conversation id in another partition is another conversation, with
 * its own shop, buyer and event ids. So results never depend on which
 * partitions share an engine (shards, Kafka instances). */
Test(partitions, a_conversation_id_in_two_partitions_is_two_conversations)
{
    harness_t h;
    h_init_tz(&h, NULL, NULL, 2);
    cr_assert_eq(h_offer_p(&h, 0, ev(T_BUYER, 1, 7, 1, 0, "10:00:00")), RR_APPLIED);
    /* another shop and another buyer: no shop or buyer mismatch across partitions */
    cr_assert_eq(h_offer_p(&h, 1, with_shop(ev(T_BUYER, 2, 7, 2, 0, "10:00:00"), 2)), RR_APPLIED);
    /* the same event id: no duplicate across partitions */
    cr_assert_eq(h_offer_p(&h, 1, with_shop(ev(T_BUYER, 1, 7, 2, 0, "10:00:01"), 2)), RR_APPLIED);
    /* within a partition the rules hold */
    cr_assert_eq(h_offer_p(&h, 0, ev(T_BUYER, 1, 7, 1, 0, "10:00:02")), RR_DUPLICATE);
    cr_assert_eq(h_offer_p(&h, 0, with_shop(ev(T_BUYER, 3, 7, 1, 0, "10:00:02"), 2)), RR_INVALID);
    cr_assert_eq(h_offer_p(&h, 1, ev(T_BUYER, 4, 7, 2, 0, "10:00:02")), RR_INVALID);
    cr_expect_str_eq(h.cap.rejs[0].reason, "shop_mismatch");
    cr_expect_str_eq(h.cap.rejs[1].reason, "shop_mismatch");
    rr_stats_t st;
    h_stats(&h, &st);
    cr_expect_eq(st.open_conversations, 2);
    cr_expect_eq(st.shops_in_several_partitions, 0, "a rejected event does not place its shop");
    /* shop 1 with a conversation of its own in partition 1: a split shop */
    cr_assert_eq(h_offer_p(&h, 1, ev(T_BUYER, 5, 8, 1, 0, "10:00:03")), RR_APPLIED);
    h_finish(&h);
    h_stats(&h, &st);
    cr_expect_eq(st.shops_in_several_partitions, 1);
    cr_expect_not_null(cap_find(&h.cap, 1, SHOP, DAY1122));
    cr_expect_not_null(cap_find(&h.cap, 2, SHOP, DAY1122));
    h_free(&h);
}

/* ==== SPEC §3 time zone ===================================================== */

static void tz_events(harness_t *h)
{
    /* shop 1: a message at 06:00 Shanghai = 22:00 UTC the day before */
    h_add(h, ev(T_XFER, 1, 1, 1, 0, "05:00:00"));
    h_add(h, ev(T_ASSIGN, 2, 1, 1, 1, "05:00:00"));
    h_add(h, ev(T_BUYER, 3, 1, 1, 0, "06:00:00"));
    h_add(h, ev(T_AGENT, 4, 1, 1, 1, "06:01:00"));
    /* shop 2: a message at 09:00 Shanghai = 01:00 UTC */
    h_add(h, with_shop(ev(T_XFER, 5, 2, 2, 0, "08:30:00"), 2));
    h_add(h, with_shop(ev(T_ASSIGN, 6, 2, 2, 1, "08:30:00"), 2));
    h_add(h, with_shop(ev(T_BUYER, 7, 2, 2, 0, "09:00:00"), 2));
    h_add(h, with_shop(ev(T_AGENT, 8, 2, 2, 1, "09:01:00"), 2));
}

Test(tz, utc_puts_the_same_events_on_other_days_and_windows)
{
    harness_t h;
    h_init(&h);
    tz_events(&h);
    h_run(&h);
    EXPECT_ND(shop_val(&h, 1, DAY1122, MSG), 0, 0, "Shanghai shop 1 (06:00)");
    EXPECT_ND(shop_val(&h, 1, DAY1122, TMALL_RR), 1, 1, "Shanghai shop 1");
    EXPECT_ND(shop_val(&h, 2, DAY1122, MSG), 1, 1, "Shanghai shop 2 (09:00)");
    cr_expect_null(cap_find(&h.cap, 1, SHOP, 20261121));
    h_free(&h);

    h_init_tz(&h, NULL, rr_tz_fixed(0, "UTC"), 1);
    tz_events(&h);
    h_run(&h);
    EXPECT_ND(shop_val(&h, 1, 20261121, MSG), 1, 1, "UTC shop 1 (22:00 on the 21st)");
    EXPECT_ND(shop_val(&h, 1, 20261121, TMALL_RR), 1, 1, "UTC shop 1");
    cr_expect_null(cap_find(&h.cap, 1, SHOP, DAY1122));
    EXPECT_ND(shop_val(&h, 2, DAY1122, MSG), 0, 0, "UTC shop 2 (01:00)");
    EXPECT_ND(shop_val(&h, 2, DAY1122, TMALL_RR), 1, 1, "UTC shop 2");
    h_free(&h);
}

static char *run_sorted_in_zone(const rr_event_t *evs, size_t n, rr_tz_t *tz)
{
    harness_t h;
    h_init_tz(&h, NULL, tz, 1);
    for (size_t i = 0; i < n; i++)
        OFFER_AS(&h, evs[i], RR_APPLIED);
    h_finish(&h);
    char *canon = cap_canon(&h.cap);
    h_free(&h);
    return canon;
}

Test(tz, fixed_utc_plus_8_gives_the_same_records_as_asia_shanghai)
{
    static rr_event_t evs[GEN_MAX];
    size_t n = gen_realistic(evs);
    qsort(evs, n, sizeof *evs, ev_cmp);
    char *a = run_sorted_in_zone(evs, n, load_zone("Asia/Shanghai"));
    char *b = run_sorted_in_zone(evs, n, rr_tz_fixed(8 * 3600, NULL));
    char *c = run_sorted_in_zone(evs, n, rr_tz_fixed(0, NULL));
    cr_expect_str_eq(a, b);
    cr_expect_str_neq(a, c);
    free(a);
    free(b);
    free(c);
}

/* America/New_York 2026-11-01: EDT (UTC-4) until 06:00Z, then EST (UTC-5):
 * the local day is 25 hours long. */
#define NY_1101_0700 INT64_C(1793534400000) /* 07:00 EST (08:00 under EDT) */
#define NY_1101_2259 INT64_C(1793591999999) /* 22:59:59.999 EST */
#define NY_1101_2330 INT64_C(1793593800000) /* 23:30 EST (00:30 under EDT) */
#define NY_1102_0000 INT64_C(1793595600000) /* 2026-11-02 00:00 EST: day 1101's end */

Test(tz, new_york_fall_back_day_has_25_hours)
{
    harness_t h;
    h_init_tz(&h, NULL, load_zone("America/New_York"), 1);
    h_add(&h, ev_ts(T_XFER, 1, 1, 1, 0, NY_1101_0700 - 60000));
    h_add(&h, ev_ts(T_ASSIGN, 2, 1, 1, 1, NY_1101_0700 - 60000));
    h_add(&h, ev_ts(T_BUYER, 3, 1, 1, 0, NY_1101_0700 + 60000)); /* 07:01: out of window */
    h_add(&h, ev_ts(T_AGENT, 4, 1, 1, 1, NY_1101_0700 + 120000));
    h_add(&h, ev_ts(T_BUYER, 5, 1, 1, 0, NY_1101_2259)); /* in window */
    h_add(&h, ev_ts(T_AGENT, 6, 1, 1, 1, NY_1101_2259 + 60000));
    h_add(&h, ev_ts(T_BUYER, 7, 1, 1, 0, NY_1101_2330)); /* out of window, still Nov 1 */
    h_add(&h, ev_ts(T_AGENT, 8, 1, 1, 1, NY_1101_2330 + 60000));
    h_add(&h, with_shop(ev_ts(T_START, 9, 2, 2, 0, NY_1102_0000), 2));
    h_add(&h, with_shop(ev_ts(T_BUYER, 10, 2, 2, 0, NY_1102_0000), 2));
    h_offer_sorted(&h);
    /* day 1101 is final only when wm > its end + H */
    OFFER_AS(&h, with_shop(ev_ts(T_START, 11, 3, 3, 0, NY_1102_0000 + HOUR_MS + 5000), 3),
             RR_APPLIED);
    cr_expect_null(cap_find(&h.cap, 1, SHOP, 20261101), "wm = end + H: not final");
    OFFER_AS(&h, with_shop(ev_ts(T_START, 12, 3, 3, 0, NY_1102_0000 + HOUR_MS + 5001), 3),
             RR_APPLIED);
    cr_assert_not_null(cap_find(&h.cap, 1, SHOP, 20261101), "wm = end + H + 1: final");
    h_finish(&h);
    EXPECT_ND(shop_val(&h, 1, 20261101, MSG), 1, 1, "Nov 1: only 22:59:59.999 EST");
    EXPECT_ND(shop_val(&h, 1, 20261101, TMALL_RT), 180000, 3, "Nov 1: three rounds");
    EXPECT_ND(shop_val(&h, 1, 20261101, TMALL_RR), 1, 1, "Nov 1");
    cr_expect_null(cap_find(&h.cap, 1, SHOP, 20261102), "23:30 EST is still Nov 1");
    cr_expect_null(cap_find(&h.cap, 2, SHOP, 20261101), "00:00 EST is Nov 2");
    EXPECT_ND(shop_val(&h, 2, 20261102, TMALL_RR), 0, 1, "Nov 2");
    h_free(&h);
}

/* ==== a job's own metrics and alerts ======================================== */

static void set_metric(rr_metric_def_t *m, const char *name, rr_metric_kind_t kind,
                       rr_reply_kind_t reply, int64_t t, int32_t from, int32_t to, uint32_t excl)
{
    memset(m, 0, sizeof *m);
    snprintf(m->name, sizeof m->name, "%s", name);
    m->kind = kind;
    m->reply = reply;
    m->threshold_ms = t;
    m->window_from_ms = from;
    m->window_to_ms = to;
    m->excludes = excl;
}

static void custom_config(rr_config_t *cfg)
{
    rr_config_default(cfg);
    memset(cfg->metrics, 0, sizeof cfg->metrics);
    memset(cfg->alerts, 0, sizeof cfg->alerts);
    const int32_t h9 = 9 * 3600000, h18 = 18 * 3600000;
    set_metric(&cfg->metrics[0], "fast_msg", RR_KIND_MESSAGE_WITHIN, RR_REPLY_MANUAL, 60000, h9,
               h18, RR_EXCLUDE_SPAM);
    set_metric(&cfg->metrics[1], "fast_session", RR_KIND_SESSION_WITHIN, RR_REPLY_MANUAL, 60000, h9,
               h18, RR_EXCLUDE_SPAM);
    set_metric(&cfg->metrics[2], "eff_rt", RR_KIND_RESPONSE_TIME, RR_REPLY_EFFECTIVE, 0, 0,
               (int32_t)RR_DAY_MS, 0);
    cfg->n_metrics = 3;
    snprintf(cfg->alerts[0].name, RR_NAME_MAX, "slow_shop");
    snprintf(cfg->alerts[0].expr, RR_EXPR_MAX, "fast_msg < 0.75");
    snprintf(cfg->alerts[1].name, RR_NAME_MAX, "busy");
    snprintf(cfg->alerts[1].expr, RR_EXPR_MAX, "fast_msg.den >= 3 and fast_session < 1");
    snprintf(cfg->alerts[2].name, RR_NAME_MAX, "huge");
    snprintf(cfg->alerts[2].expr, RR_EXPR_MAX, "eff_rt.den > 100");
    cfg->n_alerts = 3;
}

Test(config, custom_metrics_use_their_own_threshold_window_exclusions_and_alerts)
{
    rr_config_t cfg;
    custom_config(&cfg);
    harness_t h;
    h_init_tz(&h, &cfg, NULL, 1);
    /* conversation 1: 08:59:59.999 out of the 09-18 window, 09:00 in, 50 s */
    h_add(&h, ev(T_XFER, 1, 1, 1, 0, "08:00:00"));
    h_add(&h, ev(T_ASSIGN, 2, 1, 1, 1, "08:00:00"));
    h_add(&h, ev(T_BUYER, 3, 1, 1, 0, "08:59:59.999"));
    h_add(&h, ev(T_BUYER, 4, 1, 1, 0, "09:00:00"));
    h_add(&h, ev(T_AGENT, 5, 1, 1, 1, "09:00:50"));
    /* conversation 2: a spam message does not start the round; 61 s > T */
    h_add(&h, ev(T_XFER, 6, 2, 2, 0, "09:00:00"));
    h_add(&h, ev(T_ASSIGN, 7, 2, 2, 2, "09:00:00"));
    h_add(&h, with_flags(ev(T_BUYER, 8, 2, 2, 0, "10:00:00"), RR_FLAG_SPAM));
    h_add(&h, ev(T_BUYER, 9, 2, 2, 0, "10:00:30"));
    h_add(&h, ev(T_AGENT, 10, 2, 2, 2, "10:01:31"));
    /* conversation 3: 17:59:59.999 in, 18:00 out */
    h_add(&h, ev(T_XFER, 11, 3, 3, 0, "17:00:00"));
    h_add(&h, ev(T_ASSIGN, 12, 3, 3, 3, "17:00:00"));
    h_add(&h, ev(T_BUYER, 13, 3, 3, 0, "17:59:59.999"));
    h_add(&h, ev(T_BUYER, 14, 3, 3, 0, "18:00:00"));
    h_add(&h, ev(T_AGENT, 15, 3, 3, 3, "18:00:30"));
    h_run(&h);
    cr_assert_eq(h.cap.n_metrics, 3);
    EXPECT_SHOP(&h, "fast_msg", 2, 3);
    EXPECT_SHOP(&h, "fast_session", 2, 3);
    rr_value_t rt = shop_val(&h, 1, DAY1122, "eff_rt");
    cr_expect_eq(rt.num, 50001 + 91000 + 30001);
    cr_expect_eq(rt.den, 3);
    EXPECT_AGENT(&h, 1, "fast_msg", 1, 1);
    EXPECT_AGENT(&h, 2, "fast_msg", 0, 1);
    EXPECT_AGENT(&h, 3, "fast_msg", 1, 1);
    cr_expect_eq(cap_count_viols(&h.cap, NULL, 0), 2);
    const rr_violation_record_t *v = cap_viol(&h.cap, "fast_msg", 2, AT("10:00:30"));
    cr_expect_eq(v->reason, RR_REASON_LATE);
    cr_expect_eq(v->wait_ms, 61000);
    cr_expect_eq(v->messages, 1);
    cr_expect_eq(v->agent_id, 2);
    cap_viol(&h.cap, "fast_session", 2, AT("10:00:30"));
    /* alerts: the ratio as value; "busy" reports its first ratio term */
    cr_assert_eq(cap_count_alerts(&h.cap, NULL), 2);
    for (size_t i = 0; i < h.cap.n_alerts; i++) {
        const cap_alert_t *a = &h.cap.alerts[i];
        cr_expect(strcmp(a->rule, "slow_shop") == 0 || strcmp(a->rule, "busy") == 0, "%s", a->rule);
        cr_expect_float_eq(a->value, 2.0 / 3.0, 1e-9, "%s", a->rule);
        cr_expect_eq(a->shop, 1);
        cr_expect_eq(a->day, DAY1122);
        cr_expect(a->final);
    }
    /* every record carries the job's metric-set version */
    char version[64], dflt[64];
    rr_config_t d;
    rr_config_default(&d);
    rr_config_version(&cfg, version, sizeof version);
    rr_config_version(&d, dflt, sizeof dflt);
    cr_expect_str_neq(version, dflt);
    for (size_t i = 0; i < h.cap.n_days; i++)
        cr_expect_str_eq(h.cap.days[i].version, version);
    for (size_t i = 0; i < h.cap.n_viols; i++)
        cr_expect_str_eq(h.cap.viols[i].version, version);
    h_free(&h);
}

Test(config, a_shorter_horizon_finalises_days_sooner_and_drops_replies_beyond_it)
{
    rr_config_t cfg;
    rr_config_default(&cfg);
    cfg.horizon_ms = 10 * 60000;
    harness_t h;
    h_init_tz(&h, &cfg, NULL, 1);
    OFFER_AS(&h, ev(T_XFER, 1, 1, 1, 0, "09:00:00"), RR_APPLIED);
    OFFER_AS(&h, ev(T_BUYER, 2, 1, 1, 0, "10:00:00"), RR_APPLIED);
    OFFER_AS(&h, ev(T_AGENT, 3, 1, 1, 1, "10:10:00.001"), RR_APPLIED);
    OFFER_AS(&h, with_shop(ev_ts(T_START, 4, 2, 2, 0, END_1122 + 10 * 60000 + 5000), 2),
             RR_APPLIED);
    cr_expect_eq(h.cap.n_days, 0);
    OFFER_AS(&h, with_shop(ev_ts(T_START, 5, 2, 2, 0, END_1122 + 10 * 60000 + 5001), 2),
             RR_APPLIED);
    cr_expect_not_null(cap_find(&h.cap, 1, SHOP, DAY1122));
    EXPECT_SHOP(&h, TMALL_RR, 0, 1);
    /* the only agent event came after start + H: unassigned */
    expect_violation3(&h, 1, AT("10:00:00"), RR_REASON_UNASSIGNED, 0, 0, 1, 0);
    h_free(&h);
}

Test(config, engine_rejects_an_invalid_config_with_a_message)
{
    rr_config_t cfg;
    rr_tz_t *tz = load_zone("Asia/Shanghai");
    rr_engine_t *e = NULL;
    char err[512] = "";

    rr_config_default(&cfg);
    cfg.horizon_ms = RR_HORIZON_MAX_MS + 1;
    cr_expect_eq(rr_engine_new(&cfg, tz, NULL, &e, err, sizeof err), -1);
    cr_expect_null(e);
    cr_expect(strstr(err, "horizon") != NULL, "message: %s", err);

    cfg.horizon_ms = RR_HORIZON_MAX_MS; /* 12 h is allowed (with a ttl >= H) */
    cfg.conversation_ttl_ms = RR_HORIZON_MAX_MS;
    err[0] = 0;
    cr_expect_eq(rr_engine_new(&cfg, tz, NULL, &e, err, sizeof err), 0, "%s", err);
    rr_engine_free(e);
    e = NULL;

    rr_config_default(&cfg);
    snprintf(cfg.alerts[0].expr, RR_EXPR_MAX, "no_such_metric < 0.5");
    err[0] = 0;
    cr_expect_eq(rr_engine_new(&cfg, tz, NULL, &e, err, sizeof err), -1);
    cr_expect_null(e);
    cr_expect(strstr(err, "no_such_metric") != NULL, "message: %s", err);

    rr_config_default(&cfg);
    cfg.metrics[0].window_from_ms = 23 * 3600000;
    cfg.metrics[0].window_to_ms = 8 * 3600000;
    err[0] = 0;
    cr_expect_eq(rr_engine_new(&cfg, tz, NULL, &e, err, sizeof err), -1);
    cr_expect(strstr(err, "window") != NULL, "message: %s", err);
    rr_tz_free(tz);
}

Test(config, engine_without_a_sink_callback_still_counts)
{
    rr_config_t cfg;
    rr_config_default(&cfg);
    rr_tz_t *tz = rr_tz_fixed(8 * 3600, NULL);
    rr_engine_t *e = NULL;
    char err[256];
    rr_sink_t sink;
    memset(&sink, 0, sizeof sink);
    cr_assert_eq(rr_engine_new(&cfg, tz, &sink, &e, err, sizeof err), 0, "%s", err);
    int p = rr_engine_add_partition(e, "only");
    rr_event_t x = ev(T_XFER, 1, 1, 1, 0, "09:00:00");
    cr_expect_eq(rr_engine_offer(e, p, &x, 0, NULL, 0, FAR_FUTURE), RR_APPLIED);
    x = ev(T_BUYER, 2, 1, 1, 0, "10:00:00");
    cr_expect_eq(rr_engine_offer(e, p, &x, 1, NULL, 0, FAR_FUTURE), RR_APPLIED);
    x = ev(T_BUYER, 3, 1, 1, 0, "00:00:00");
    cr_expect_eq(rr_engine_offer(e, p, &x, 2, NULL, 0, FAR_FUTURE), RR_LATE);
    rr_engine_finish(e);
    rr_stats_t st;
    rr_engine_stats(e, &st);
    cr_expect_eq(st.shop_days, 1);
    cr_expect_eq(st.violations, 3);
    cr_expect_eq(st.late, 1);
    rr_engine_free(e);
    rr_tz_free(tz);
}

/* America/Goose_Bay until 2011 fell back at 00:01 local: on 2010-11-07 at
 * 03:01Z (00:01 ADT) clocks went back to 23:01 AST, so local day 2010-11-06
 * recurs from 03:01Z to 04:00Z, after day 2010-11-07 began at 03:00Z
 * (engine/tz.h: rr_tz_day_end(Nov 6) = 04:00Z > rr_tz_day_start(Nov 7)). With
 * H = 10 min, a watermark between 03:10Z and 04:10Z must not make Nov 6 final:
 * events of Nov 6 can still come (they are not late), and SPEC §5 publishes a
 * (shop, day) once. ENGINE BUG (reported): the engine finalises at
 * day_start(Nov 7) + H, then applies the 23:10 AST event and publishes
 * shop 1's Nov 6 a second time. */
#define GB_1107_0300Z INT64_C(1289098800000)

Test(tz, day_recurring_after_a_midnight_fall_back_is_published_once)
{
    rr_config_t cfg;
    rr_config_default(&cfg);
    cfg.horizon_ms = 10 * 60000;
    harness_t h;
    h_init_tz(&h, &cfg, load_zone("America/Goose_Bay"), 1);
    /* Nov 6 21:00 ADT, buyer 1 */
    OFFER_AS(&h, ev_ts(T_BUYER, 1, 1, 1, 0, GB_1107_0300Z - 3 * HOUR_MS), RR_APPLIED);
    /* Nov 6 23:10:05.001 AST (03:10:05.001Z), buyer 2: wm passes 03:10Z */
    OFFER_AS(&h, ev_ts(T_BUYER, 2, 2, 2, 0, GB_1107_0300Z + 10 * 60000 + 5001), RR_APPLIED);
    /* Nov 6 23:30 AST (03:30Z), shop 3 */
    OFFER_AS(&h, with_shop(ev_ts(T_START, 3, 3, 3, 0, GB_1107_0300Z + 30 * 60000), 3), RR_APPLIED);
    h_finish(&h);
    size_t n = 0;
    for (size_t i = 0; i < h.cap.n_days; i++)
        n += !h.cap.days[i].is_agent && h.cap.days[i].shop == 1 && h.cap.days[i].day == 20101106;
    cr_expect_eq(n, 1, "shop 1 day 20101106 published %zu times", n);
    if (n == 1) EXPECT_ND(shop_val(&h, 1, 20101106, TMALL_RR), 0, 2, "two buyers on Nov 6");
    h_free(&h);
}

/* A conversation is freed once nothing can change it any more: its days
 * final, and its conversation_ttl ended in an hour of event time the job
 * watermark has passed, or its partition ended. Pins when memory is given
 * back (the expiry queue, store.c). */
Test(memory, conversations_are_freed_once_final_and_over_their_ttl_or_partition)
{
    harness_t h;
    h_init_tz(&h, NULL, NULL, 2);
    rr_stats_t st;
    OFFER_AS_P(&h, 1, ev(T_BUYER, 2, 2, 2, 0, "10:00:00"), RR_APPLIED);
    /* both partitions keep pace until Nov 23 01:30: Nov 22 is final at 01:00 */
    uint64_t eid = 100;
    for (int64_t t = AT("10:10:00"); t <= AT("25:30:00"); t += 10 * 60000) {
        if (t == AT("23:30:00")) OFFER_AS_P(&h, 0, ev(T_BUYER, 1, 1, 1, 0, "23:30:00"), RR_APPLIED);
        OFFER_AS_P(&h, 0, ev_ts(T_SYSTEM, eid++, 9, 0, 0, t), RR_APPLIED);
        OFFER_AS_P(&h, 1, ev_ts(T_SYSTEM, eid++, 8, 0, 0, t), RR_APPLIED);
        h_stats(&h, &st);
        if (t < AT("25:00:00") + 5000)
            cr_expect_eq(st.evicted_conversations, 0, "nothing final at %lld", (long long)t);
    }
    h_stats(&h, &st);
    cr_expect_eq(st.shop_days, 1, "Nov 22 published");
    cr_expect_eq(st.evicted_conversations, 1, "conversation 2 (6 h idle since 16:00): %llu",
                 (unsigned long long)st.evicted_conversations);
    cr_expect_eq(st.open_conversations, 3, "1 waits for its ttl (05:30), 8 and 9 have Nov 23");
    /* partition 0 ends: conversation 1 is freed now, not at its ttl */
    rr_engine_partition_end(h.e, h.part[0]);
    h_stats(&h, &st);
    cr_expect_eq(st.evicted_conversations, 2, "evicted %llu",
                 (unsigned long long)st.evicted_conversations);
    for (int64_t t = AT("25:40:00"); t <= AT("28:00:00"); t += 10 * 60000)
        OFFER_AS_P(&h, 1, ev_ts(T_SYSTEM, eid++, 8, 0, 0, t), RR_APPLIED);
    h_stats(&h, &st);
    cr_expect_eq(st.evicted_conversations, 2);
    cr_expect_eq(st.open_conversations, 2, "8 speaks, 9 has Nov 23 open");
    h_finish(&h);
    h_free(&h);
}

/* A partition added mid-run (a Kafka rebalance) can bring a day older than
 * any open one; it is final as soon as the job watermark, now held back by
 * that partition, passes its end + H, as when it was there from the start. */
Test(partitions, a_day_brought_by_a_partition_added_late_is_final_on_time)
{
    harness_t h;
    h_init_tz(&h, NULL, NULL, 1);
    uint64_t eid = 100;
    /* partition 0 lives on Nov 23 only */
    for (int64_t t = AT("24:00:00"); t <= AT("29:00:00"); t += 10 * 60000)
        OFFER_AS_P(&h, 0, ev_ts(T_SYSTEM, eid++, 9, 0, 0, t), RR_APPLIED);
    h.part[1] = rr_engine_add_partition(h.e, "late");
    h.n_parts = 2;
    cr_assert_geq(h.part[1], 0);
    /* partition 1 starts on Nov 22 evening (shop 2) */
    OFFER_AS_P(&h, 1, with_shop(ev(T_BUYER, 1, 1, 1, 0, "20:00:00"), 2), RR_APPLIED);
    rr_stats_t st;
    for (int64_t t = AT("20:10:00"); t <= AT("25:00:00"); t += 10 * 60000)
        OFFER_AS_P(&h, 1, with_shop(ev_ts(T_SYSTEM, eid++, 8, 0, 0, t), 2), RR_APPLIED);
    h_stats(&h, &st);
    cr_expect_eq(st.shop_days, 0, "Nov 22 not final at 01:00 + 5 s lateness");
    OFFER_AS_P(&h, 1, with_shop(ev_ts(T_SYSTEM, eid++, 8, 0, 0, AT("25:00:05") + 1), 2),
               RR_APPLIED);
    h_stats(&h, &st);
    cr_expect_eq(st.shop_days, 1, "Nov 22 final once the job watermark passed 01:00");
    h_finish(&h);
    h_free(&h);
}

/* A conversation whose last day is final before its ttl ends waits for the
 * hour its ttl ends in, by the job watermark: not freed a moment earlier. */
Test(memory, a_final_conversation_waits_for_the_hour_its_ttl_ends_in)
{
    harness_t h;
    h_init(&h);
    rr_stats_t st;
    OFFER_AS(&h, ev(T_BUYER, 1, 1, 1, 0, "23:30:00"), RR_APPLIED); /* ttl ends 05:30 */
    uint64_t eid = 100;
    int64_t freed_at = 0;
    for (int64_t t = AT("23:40:00"); t <= AT("31:00:00"); t += 5 * 60000) {
        OFFER_AS(&h, ev_ts(T_SYSTEM, eid++, 9, 0, 0, t), RR_APPLIED);
        h_stats(&h, &st);
        if (st.evicted_conversations && !freed_at) freed_at = t;
    }
    /* the watermark (ts - 5 s lateness) passes 06:00 at the event of 06:05 */
    cr_expect_eq(freed_at, AT("30:05:00"), "freed at %lld, not %lld", (long long)freed_at,
                 (long long)AT("30:05:00"));
    cr_expect_eq(st.evicted_conversations, 1);
    h_finish(&h);
    h_free(&h);
}

/* rr_engine_memory: its parts add up, and conversations cost their summaries
 * and map slots at least (64 + 16 bytes each), without a round open. */
Test(memory, state_bytes_add_up_and_grow_with_conversations)
{
    harness_t h;
    h_init(&h);
    rr_memory_t m0, m1;
    rr_engine_memory(h.e, &m0);
    cr_expect_eq(m0.total, m0.conversations + m0.active + m0.blocks + m0.days + m0.buffered);
    for (uint64_t c = 1; c <= 5000; c++)
        OFFER_AS(&h, ev_ts(T_SYSTEM, c, c, 0, 0, AT("10:00:00") + (int64_t)c), RR_APPLIED);
    rr_engine_memory(h.e, &m1);
    cr_expect_gt(m1.buffered, 0, "events wait for the watermark");
    /* a minute later: all of them applied, each with its conv-day */
    OFFER_AS(&h, ev(T_SYSTEM, 9999, 1, 0, 0, "10:01:00"), RR_APPLIED);
    rr_engine_memory(h.e, &m1);
    cr_expect_eq(m1.total, m1.conversations + m1.active + m1.blocks + m1.days + m1.buffered);
    /* each: a 64-byte summary with its conv-day inline (64 bytes with the
     * default set) and a map slot; the day lists each conv-day */
    cr_expect_geq(m1.conversations - m0.conversations, 5000 * (64 + 64 + 16), "%zu",
                  m1.conversations - m0.conversations);
    cr_expect_geq(m1.days - m0.days, 5000 * sizeof(uint32_t), "a conv-day each, listed");
    h_finish(&h);
    h_free(&h);
}

/* A conversation's round state (its "hot" record) is held exactly while a
 * round of it waits for a reply: made by the buyer message that opens one,
 * released by the reply that closes the last, or, for a round nobody
 * answered, when its day is final. */
Test(memory, round_state_is_held_exactly_while_a_round_waits)
{
    harness_t h;
    h_init(&h);
    rr_stats_t st;
    /* conversation 2 keeps the watermark moving, and never opens a round */
    uint64_t eid = 100;
    for (int64_t t = AT("10:30:00"); t <= AT("22:30:00"); t += HOUR_MS / 2)
        OFFER_AS(&h, ev_ts(T_SYSTEM, eid++, 2, 0, 0, t), RR_APPLIED);
    h_stats(&h, &st);
    cr_expect_eq(st.active_conversations, 0, "no round waits");
    /* conversation 1: one unanswered buyer message late on Nov 22, so that it
     * is still far from conversation_ttl (6 h) when its day is final;
     * conversation 3: a buyer message answered meanwhile */
    OFFER_AS(&h, ev(T_BUYER, 30, 3, 3, 0, "22:31:00"), RR_APPLIED);
    OFFER_AS(&h, ev(T_XFER, 1, 1, 1, 0, "22:39:00"), RR_APPLIED);
    OFFER_AS(&h, ev(T_BUYER, 2, 1, 1, 0, "22:40:00"), RR_APPLIED);
    OFFER_AS(&h, ev(T_AGENT, 31, 3, 3, 7, "22:45:00"), RR_APPLIED);
    for (int64_t t = AT("22:50:00"); t <= AT("23:50:00"); t += 10 * 60000)
        OFFER_AS(&h, ev_ts(T_SYSTEM, eid++, 2, 0, 0, t), RR_APPLIED);
    h_stats(&h, &st);
    cr_expect_eq(st.active_conversations, 1, "conversation 1's round waits; 3 was answered");
    cr_expect_eq(st.peak_active_conversations, 2, "both from 22:40 to 22:45");
    /* Nov 22 ends at Nov 23 00:00: final once wm > 00:00 + H = 01:00 */
    for (int64_t t = AT("24:00:00"); t <= AT("25:00:00"); t += 10 * 60000)
        OFFER_AS(&h, ev_ts(T_SYSTEM, eid++, 2, 0, 0, t), RR_APPLIED);
    h_stats(&h, &st);
    cr_expect_eq(st.shop_days, 0, "Nov 22 not final yet");
    cr_expect_eq(st.active_conversations, 1, "its round still waits for Nov 22's end");
    OFFER_AS(&h, ev_ts(T_SYSTEM, eid++, 2, 0, 0, AT("25:00:05") + 1), RR_APPLIED);
    h_stats(&h, &st);
    cr_expect_eq(st.shop_days, 1, "Nov 22 published");
    cr_expect_eq(st.active_conversations, 0, "conversation 1's state released with its day");
    cr_expect_eq(st.open_conversations, 3, "the 128-byte records stay (conversation_ttl)");
    h_finish(&h);
    cr_expect_eq(cap_count_viols(&h.cap, SESS, 1), 1);
    h_free(&h);
}
