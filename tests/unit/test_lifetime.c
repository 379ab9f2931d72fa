/* A conversation's whole life (SPEC §3 Duplicates, Lifetime) and jumps in a
 * partition's time (SPEC §7): event ids remembered after the hot record is
 * released, a conversation over only past both its TTL and its last day's
 * end + H, judged when an event arrives; jumps held, confirmed by
 * jump_confirm held events, invalidated by an applied one or by the end of
 * the input, left unjudged at a range's end; both kept in checkpoints. */
#include <criterion/criterion.h>
#include <inttypes.h>

#include "support/engine_harness.h"
#include "base/membuf.h"

#define T_START RR_EVENT_SESSION_START
#define T_TRANSFER RR_EVENT_TRANSFER_TO_MANUAL
#define T_ASSIGN RR_EVENT_AGENT_ASSIGNED
#define T_BUYER RR_EVENT_BUYER_MESSAGE
#define T_AGENT RR_EVENT_AGENT_MESSAGE
#define T_ROBOT RR_EVENT_ROBOT_MESSAGE
#define T_SYSTEM RR_EVENT_SYSTEM_MESSAGE

/* Checkpoint the harness's engine, free it, and go on with one restored
 * from the bytes (test_checkpoint.c does this on generated traffic). */
static void h_checkpoint_restore(harness_t *h)
{
    rr_membuf_t b = {0};
    char err[256] = "";
    cr_assert_eq(rr_engine_checkpoint(h->e, rr_membuf_write, &b), 0);
    rr_engine_free(h->e);
    cr_assert_eq(rr_engine_new(&h->cfg, h->tz, &h->sink, &h->e, err, sizeof err), 0, "%s", err);
    cr_assert_eq(rr_engine_restore(h->e, rr_membuf_read, &b, err, sizeof err), 0, "%s", err);
    cr_assert_eq(b.pos, b.n);
    rr_membuf_free(&b);
}

/* Keep partition 0's time moving: a system message of conversation 900
 * (its own buyer) every 10 minutes from..to (event ids from *eid on). */
static void tick(harness_t *h, int64_t from, int64_t to, uint64_t *eid)
{
    for (int64_t t = from; t <= to; t += 600000)
        OFFER_AS(h, ev_ts(T_SYSTEM, (*eid)++, 900, 0, 0, t), RR_APPLIED);
}

/* ---- duplicates for the conversation's whole life ------------------------ */

Test(lifetime, a_redelivery_stamped_anew_hours_later_is_a_duplicate)
{
    static const int64_t delays_min[] = {3, 10, 30, 61, 120, 300};
    for (size_t i = 0; i < sizeof delays_min / sizeof *delays_min; i++) {
        harness_t h;
        h_init(&h);
        uint64_t eid = 1000;
        OFFER_AS(&h, ev(T_BUYER, 1, 1, 1, 0, "10:00:00"), RR_APPLIED);
        /* answered: no round waits, so no round state is held */
        OFFER_AS(&h, ev(T_ROBOT, 2, 1, 1, 0, "10:00:10"), RR_APPLIED);
        int64_t again = AT("10:00:00") + delays_min[i] * 60000;
        tick(&h, AT("10:00:10"), again, &eid);
        rr_stats_t st;
        h_stats(&h, &st);
        if (delays_min[i] >= 30) /* the reply is released: no round state held */
            cr_expect_eq(st.active_conversations, 0, "no round waits: ids come from the record");
        OFFER_AS(&h, ev_ts(T_BUYER, 1, 1, 1, 0, again), RR_DUPLICATE);
        /* a new id of the conversation is not one */
        OFFER_AS(&h, ev_ts(T_AGENT, 3, 1, 1, 7, again), RR_APPLIED);
        h_finish(&h);
        EXPECT_ND(shop_val(&h, 1, DAY1122, "douyin_msg_3min"), 0, 0, "robot phase: not manual");
        EXPECT_ND(shop_val(&h, 1, DAY1122, "tmall_reply_rate"), 1, 1, "one message, once");
        expect_counts_add_up(&h);
        h_free(&h);
    }
}

/* The cold block keeps ids in the order the hot record held them (arrival
 * order, as differences that may be negative), one run per time the
 * conversation went quiet. Ids arriving in falling order, far apart and in
 * two spells of activity, a second spell long enough (40 ids) that its hot
 * set became a hash set: every one is still a duplicate hours later, and an
 * id between them is not. */
Test(lifetime, ids_in_any_order_over_several_quiet_spells_stay_duplicates)
{
    static const uint64_t first[] = {500, 40, 45, 9, UINT64_C(1) << 40, 7, 1000000};
    harness_t h;
    h_init(&h);
    uint64_t eid = UINT64_C(1) << 50; /* the ticking conversation's ids: far from these */
    int64_t t = AT("10:00:00");
    for (size_t i = 0; i < sizeof first / sizeof *first; i++)
        OFFER_AS(&h, ev_ts(T_SYSTEM, first[i], 1, 0, 0, t + (int64_t)i * 1000), RR_APPLIED);
    tick(&h, t + 60000, AT("10:40:00"), &eid); /* quiet */
    rr_stats_t st;
    h_stats(&h, &st);
    cr_expect_eq(st.active_conversations, 0, "system messages open no round");
    t = AT("10:41:00");
    for (uint64_t i = 0; i < 40; i++) /* falling, then the hash set */
        OFFER_AS(&h, ev_ts(T_SYSTEM, 3000 - 7 * i, 1, 0, 0, t + (int64_t)i * 1000), RR_APPLIED);
    tick(&h, AT("10:42:00"), AT("13:00:00"), &eid);
    h_stats(&h, &st);
    cr_expect_eq(st.active_conversations, 0, "conversation 1 went quiet again");
    t = AT("13:00:30");
    for (size_t i = 0; i < sizeof first / sizeof *first; i++)
        OFFER_AS(&h, ev_ts(T_SYSTEM, first[i], 1, 0, 0, t), RR_DUPLICATE);
    for (uint64_t i = 0; i < 40; i++)
        OFFER_AS(&h, ev_ts(T_SYSTEM, 3000 - 7 * i, 1, 0, 0, t), RR_DUPLICATE);
    OFFER_AS(&h, ev_ts(T_SYSTEM, 41, 1, 0, 0, t), RR_APPLIED);
    OFFER_AS(&h, ev_ts(T_SYSTEM, 3001, 1, 0, 0, t), RR_APPLIED);
    OFFER_AS(&h, ev_ts(T_SYSTEM, 41, 1, 0, 0, t), RR_DUPLICATE);
    h_finish(&h);
    h_free(&h);
}

Test(lifetime, ids_of_a_quiet_conversation_survive_a_checkpoint)
{
    harness_t h;
    h_init(&h);
    uint64_t eid = 1000;
    for (uint64_t k = 0; k < 40; k++) /* enough ids to spill out of the hot record's inline slots */
        OFFER_AS(&h, ev_ts(T_BUYER, 1 + k * 977, 1, 1, 0, AT("10:00:00") + (int64_t)k * 1000),
                 RR_APPLIED);
    OFFER_AS(&h, ev(T_ROBOT, 3, 1, 1, 0, "10:00:50"), RR_APPLIED);
    tick(&h, AT("10:01:00"), AT("12:00:00"), &eid);
    h_checkpoint_restore(&h);
    for (uint64_t k = 0; k < 40; k++)
        OFFER_AS(&h, ev(T_BUYER, 1 + k * 977, 1, 1, 0, "12:00:01"), RR_DUPLICATE);
    /* and again once the conversation is hot and quiet a second time: the
     * ids merged from two hot periods */
    OFFER_AS(&h, ev(T_BUYER, 5, 1, 1, 0, "12:00:02"), RR_APPLIED);
    OFFER_AS(&h, ev_ts(T_SYSTEM, eid++, 900, 0, 0, AT("12:00:30")), RR_APPLIED);
    rr_stats_t st;
    h_stats(&h, &st);
    cr_expect_eq(st.active_conversations, 1, "its round waits");
    OFFER_AS(&h, ev(T_ROBOT, 6, 1, 1, 0, "12:00:40"), RR_APPLIED);
    tick(&h, AT("12:10:00"), AT("13:00:00"), &eid);
    h_stats(&h, &st);
    cr_expect_eq(st.active_conversations, 0, "conversation 1 quiet again");
    h_checkpoint_restore(&h);
    OFFER_AS(&h, ev(T_BUYER, 5, 1, 1, 0, "13:00:01"), RR_DUPLICATE);
    OFFER_AS(&h, ev(T_BUYER, 1 + 39 * 977, 1, 1, 0, "13:00:01"), RR_DUPLICATE);
    h_finish(&h);
    EXPECT_ND(shop_val(&h, 1, DAY1122, "tmall_reply_rate"), 1, 1, "one buyer");
    expect_counts_add_up(&h);
    h_free(&h);
}

/* ---- when a conversation is over ------------------------------------------ */

/* The partition's watermark is its greatest applied ts - 5 s (lateness). An
 * event of conversation 1 arriving at watermark wm, a buyer message of
 * another buyer: invalid while the conversation lives, applied (a new
 * conversation) once it is over. */
static rr_verdict_t other_buyer_at_wm(harness_t *h, int64_t wm, uint64_t *eid)
{
    OFFER_AS(h, ev_ts(T_SYSTEM, (*eid)++, 900, 0, 0, wm + 5000), RR_APPLIED);
    cr_assert_eq(rr_engine_partition_watermark(h->e, h->part[0]), wm);
    return h_offer(h, ev_ts(T_BUYER, (*eid)++, 1, 2, 0, wm + 5000));
}

Test(lifetime, over_once_the_watermark_passes_the_ttl_when_the_day_ended_before)
{
    /* last event 22:00 on 11-22: day end + H = 01:00 on 11-23, ttl 6 h = 04:00 */
    int64_t last = AT("22:00:00"), over = last + 6 * HOUR_MS;
    for (int past = 0; past <= 1; past++) {
        harness_t h;
        h_init(&h);
        uint64_t eid = 1000;
        OFFER_AS(&h, ev_ts(T_BUYER, 1, 1, 1, 0, last), RR_APPLIED);
        tick(&h, last, over - 600000, &eid);
        rr_verdict_t v = other_buyer_at_wm(&h, over + past, &eid);
        cr_expect_eq(v, past ? RR_APPLIED : RR_INVALID, "watermark at ttl %s: verdict %d",
                     past ? "+ 1 ms" : "exactly", (int)v);
        h_finish(&h);
        expect_counts_add_up(&h);
        h_free(&h);
    }
}

Test(lifetime, over_only_once_the_watermark_also_passes_the_day_end_plus_h)
{
    /* last event 10:00: ttl passes at 16:00, but day end + H only at 01:00 */
    int64_t last = AT("10:00:00"), day_end_h = AT("25:00:00");
    for (int past = 0; past <= 1; past++) {
        harness_t h;
        h_init(&h);
        uint64_t eid = 1000;
        OFFER_AS(&h, ev_ts(T_BUYER, 1, 1, 1, 0, last), RR_APPLIED);
        tick(&h, last, AT("17:00:00"), &eid);
        /* past the ttl, not the day's end + H: the conversation lives */
        cr_expect_eq(other_buyer_at_wm(&h, AT("17:00:00"), &eid), RR_INVALID);
        OFFER_AS(&h, ev(T_BUYER, 1, 1, 1, 0, "17:00:00"), RR_DUPLICATE);
        tick(&h, AT("17:10:00"), day_end_h - 600000, &eid);
        rr_verdict_t v = other_buyer_at_wm(&h, day_end_h + past, &eid);
        cr_expect_eq(v, past ? RR_APPLIED : RR_INVALID, "verdict %d", (int)v);
        h_finish(&h);
        expect_counts_add_up(&h);
        h_free(&h);
    }
}

Test(lifetime, a_conversation_over_starts_afresh_in_the_robot_phase_with_no_ids)
{
    harness_t h;
    h_init(&h);
    uint64_t eid = 1000;
    /* manual from 09:00, buyer 1 answered by agent 7 */
    OFFER_AS(&h, ev(T_TRANSFER, 1, 1, 1, 0, "09:00:00"), RR_APPLIED);
    OFFER_AS(&h, ev(T_ASSIGN, 2, 1, 1, 7, "09:00:00"), RR_APPLIED);
    OFFER_AS(&h, ev(T_BUYER, 3, 1, 1, 0, "10:00:00"), RR_APPLIED);
    OFFER_AS(&h, ev(T_AGENT, 4, 1, 1, 7, "10:01:00"), RR_APPLIED);
    /* the next day, past 01:00 (day end + H) and 16:01 (ttl) */
    tick(&h, AT("10:10:00"), AT("34:00:00"), &eid);
    /* the same id again: over, so a new conversation, in the robot phase;
     * event id 3 is not remembered; buyer 2 is its buyer */
    OFFER_AS(&h, ev(T_BUYER, 3, 1, 2, 0, "34:00:00"), RR_APPLIED);
    OFFER_AS(&h, ev(T_ROBOT, 5, 1, 2, 0, "34:00:30"), RR_APPLIED);
    OFFER_AS(&h, ev(T_BUYER, 6, 1, 3, 0, "34:01:00"), RR_INVALID); /* buyer 2's conversation now */
    h_finish(&h);
    EXPECT_ND(shop_val(&h, 1, DAY1122, "douyin_msg_3min"), 1, 1, "day 1: manual, answered in 60 s");
    EXPECT_ND(shop_val(&h, 1, DAY1123, "douyin_msg_3min"), 0, 0, "day 2: robot phase");
    EXPECT_ND(shop_val(&h, 1, DAY1123, "pdd_effective_reply"), 1, 1, "day 2: the robot answered");
    expect_counts_add_up(&h);
    h_free(&h);
}

Test(lifetime, where_a_sweep_ran_does_not_change_what_an_event_finds)
{
    /* Two runs of the same events, one with a checkpoint (which keeps the
     * sweep's schedule) and one without, and a third conversation that
     * resumes exactly at its limit: the outcome is decided on arrival. */
    for (int cut = 0; cut <= 1; cut++) {
        harness_t h;
        h_init(&h);
        uint64_t eid = 1000;
        OFFER_AS(&h, ev(T_BUYER, 1, 1, 1, 0, "22:00:00"), RR_APPLIED);
        OFFER_AS(&h, ev(T_BUYER, 2, 2, 2, 0, "22:00:01"), RR_APPLIED);
        tick(&h, AT("22:00:00"), AT("28:00:00"), &eid);
        if (cut) h_checkpoint_restore(&h);
        cr_expect_eq(other_buyer_at_wm(&h, AT("28:00:00") + 1, &eid), RR_APPLIED, "1 is over");
        OFFER_AS(&h, ev(T_BUYER, 2, 2, 2, 0, "28:00:06"), RR_DUPLICATE); /* 2 lives, 1 s longer */
        h_finish(&h);
        expect_counts_add_up(&h);
        h_free(&h);
    }
}

/* ---- jumps (SPEC §7) ------------------------------------------------------ */

static void h_init_confirm(harness_t *h, int64_t jump_confirm)
{
    rr_config_t cfg;
    rr_config_default(&cfg);
    cfg.jump_confirm = jump_confirm;
    h_init_tz(h, &cfg, NULL, 1);
}

#define DAY_AFTER(hms) (AT(hms) + 2 * RR_DAY_MS) /* 11-24: two days on */

Test(jump, jump_confirm_held_events_are_judged_again_the_first_exempt)
{
    harness_t h;
    h_init_confirm(&h, 3);
    OFFER_AS(&h, ev(T_BUYER, 1, 1, 1, 0, "10:00:00"), RR_APPLIED);
    OFFER_AS(&h, ev_ts(T_BUYER, 2, 2, 2, 0, DAY_AFTER("10:00:00")), RR_HELD);
    OFFER_AS(&h, ev_ts(T_BUYER, 3, 3, 3, 0, DAY_AFTER("10:00:01")), RR_HELD);
    rr_stats_t st;
    h_stats(&h, &st);
    cr_expect_eq(st.held, 2);
    cr_expect_eq(st.input, 1, "held events are not counted yet");
    /* the third confirms: all three applied, the partition's time moved on */
    OFFER_AS(&h, ev_ts(T_BUYER, 4, 4, 4, 0, DAY_AFTER("10:00:02")), RR_HELD);
    h_stats(&h, &st);
    cr_expect_eq(st.held, 0);
    cr_expect_eq(st.applied, 4);
    cr_expect_eq(rr_engine_partition_watermark(h.e, h.part[0]), DAY_AFTER("10:00:02") - 5000);
    /* an event of the old time is late now */
    OFFER_AS(&h, ev(T_BUYER, 5, 5, 5, 0, "10:00:01"), RR_LATE);
    h_finish(&h);
    EXPECT_ND(shop_val(&h, 1, 20261124, "tmall_reply_rate"), 0, 3, "the confirmed day");
    expect_counts_add_up(&h);
    h_free(&h);
}

Test(jump, a_stale_first_event_does_not_invalidate_the_partition)
{
    harness_t h;
    h_init_confirm(&h, 3);
    OFFER_AS(&h, ev_ts(T_SYSTEM, 1, 1, 0, 0, 1000), RR_APPLIED); /* 1970 */
    for (uint64_t k = 0; k < 3; k++)
        OFFER_AS(&h, ev_ts(T_BUYER, 10 + k, 10 + k, 10 + k, 0, AT("10:00:00") + (int64_t)k),
                 RR_HELD);
    for (uint64_t k = 3; k < 6; k++) /* within a day of the new time: applied */
        OFFER_AS(&h, ev_ts(T_BUYER, 10 + k, 10 + k, 10 + k, 0, AT("10:00:00") + (int64_t)k),
                 RR_APPLIED);
    h_finish(&h);
    EXPECT_ND(shop_val(&h, 1, DAY1122, "tmall_reply_rate"), 0, 6, "every buyer counted");
    expect_counts_add_up(&h);
    h_free(&h);
}

Test(jump, a_far_ahead_first_event_of_a_partition_sought_by_time_is_a_jump)
{
    harness_t h;
    h_init_confirm(&h, 3);
    /* a range's reader sought to 10:00 by record time and landed on a record
     * two days ahead: not the partition's time, but a jump, invalid once the
     * next event is applied */
    rr_engine_partition_expect(h.e, h.part[0], AT("10:00:00"));
    OFFER_AS(&h, ev_ts(T_BUYER, 1, 1, 1, 0, DAY_AFTER("10:00:00")), RR_HELD);
    OFFER_AS(&h, ev(T_BUYER, 2, 2, 2, 0, "10:00:01"), RR_APPLIED);
    OFFER_AS(&h, ev(T_BUYER, 3, 3, 3, 0, "10:00:02"), RR_APPLIED);
    rr_stats_t st;
    h_stats(&h, &st);
    cr_expect_eq(st.invalid, 1);
    cr_expect_str_eq(h.cap.rejs[h.cap.n_rejs - 1].reason, "ts_too_far_ahead_of_partition");
    /* once an event is applied, the expectation is moot */
    rr_engine_partition_expect(h.e, h.part[0], DAY_AFTER("10:00:00"));
    OFFER_AS(&h, ev_ts(T_BUYER, 4, 4, 4, 0, DAY_AFTER("10:00:00")), RR_HELD);
    h_finish(&h);
    expect_counts_add_up(&h);
    h_free(&h);
}

Test(jump, conversation_rules_apply_when_held_events_are_judged)
{
    harness_t h;
    h_init_confirm(&h, 3);
    OFFER_AS(&h, ev(T_BUYER, 1, 1, 1, 0, "10:00:00"), RR_APPLIED);
    /* the first held names conversation 1 with another shop: invalid when
     * judged; then the rest are jumps again, held anew */
    OFFER_AS(&h, with_shop(ev_ts(T_BUYER, 2, 1, 1, 0, DAY_AFTER("10:00:00")), 2), RR_HELD);
    OFFER_AS(&h, ev_ts(T_BUYER, 3, 3, 3, 0, DAY_AFTER("10:00:01")), RR_HELD);
    OFFER_AS(&h, ev_ts(T_BUYER, 4, 4, 4, 0, DAY_AFTER("10:00:02")), RR_HELD);
    rr_stats_t st;
    h_stats(&h, &st);
    cr_expect_eq(st.invalid, 1);
    cr_expect_eq(st.held, 2);
    cr_expect_str_eq(h.cap.rejs[h.cap.n_rejs - 1].reason, "shop_mismatch");
    h_finish(&h); /* the input ends: the two still held are invalid */
    h_stats(&h, &st);
    cr_expect_eq(st.invalid, 3);
    cr_expect_eq(st.held, 0);
    cr_expect_eq(st.input, 4);
    expect_counts_add_up(&h);
    h_free(&h);
}

Test(jump, the_end_of_the_input_judges_held_jumps_invalid_a_range_end_does_not)
{
    for (int stop = 0; stop <= 1; stop++) {
        harness_t h;
        h_init_confirm(&h, 3);
        OFFER_AS(&h, ev(T_BUYER, 1, 1, 1, 0, "10:00:00"), RR_APPLIED);
        OFFER_AS(&h, ev_ts(T_BUYER, 2, 2, 2, 0, DAY_AFTER("10:00:00")), RR_HELD);
        OFFER_AS(&h, ev_ts(T_BUYER, 3, 3, 3, 0, DAY_AFTER("10:00:01")), RR_HELD);
        if (stop)
            rr_engine_partition_stop(h.e, h.part[0]);
        else
            rr_engine_partition_end(h.e, h.part[0]);
        h_finish(&h);
        rr_stats_t st;
        h_stats(&h, &st);
        cr_expect_eq(st.held, stop ? 2 : 0);
        cr_expect_eq(st.input, stop ? 1 : 3, "held events are counted when judged");
        cr_expect_eq(st.invalid, stop ? 0 : 2);
        cr_expect_eq(h.cap.n_rejs, stop ? 0 : 2);
        expect_counts_add_up(&h);
        h_free(&h);
    }
}

Test(jump, held_jumps_survive_a_checkpoint_with_their_bytes)
{
    harness_t h;
    h_init_confirm(&h, 3);
    OFFER_AS(&h, ev(T_BUYER, 1, 1, 1, 0, "10:00:00"), RR_APPLIED);
    static const uint8_t raw[] = {0x08, 0x02, 0x10, 0x01};
    rr_event_t j = ev_ts(T_BUYER, 2, 2, 2, 0, DAY_AFTER("10:00:00"));
    cr_assert_eq(rr_engine_offer(h.e, h.part[0], &j, 77, raw, sizeof raw, h.now), RR_HELD);
    h_checkpoint_restore(&h);
    rr_stats_t st;
    h_stats(&h, &st);
    cr_expect_eq(st.held, 1);
    /* an applied event after them: the held one is invalid, bytes and position kept */
    OFFER_AS(&h, ev(T_BUYER, 3, 3, 3, 0, "10:00:01"), RR_APPLIED);
    cr_assert_eq(h.cap.n_rejs, 1);
    cr_expect_eq(h.cap.rejs[0].offset, 77);
    cr_expect_eq(h.cap.rejs[0].event.event_id, 2);
    cr_expect_eq(h.cap.rejs[0].raw_len, sizeof raw);
    h_finish(&h);
    expect_counts_add_up(&h);
    h_free(&h);
}
