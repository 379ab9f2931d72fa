#!/usr/bin/env python3
"""Edge cases of tests/diff/reference.py that the SPEC examples leave open.

    python3 tests/diff/test_reference.py     (unittest; standard library only)

Each case is a tiny event stream written as a delimited file and evaluated by
the reference; it pins one interpretation written in the reference's docstring:
the strict "has passed" of SPEC §3 Lifetime, what a new life forgets (the
assignment: agent of a round, `unassigned`, violation reasons; the buyer), ids
kept for the whole life, and the re-judging of a confirmed batch of jumps
(SPEC §7), one of them held again.
"""
import json
import os
import sys
import tempfile
import unittest
from datetime import datetime, timedelta, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference as R  # noqa: E402

CST = timezone(timedelta(hours=8))
START, TRANSFER, ASSIGNED, BUYER, AGENT, ROBOT, SYSTEM, END, INVITE, RATING = range(1, 11)
HOUR = 3600000
DAY = 24 * HOUR
NOW = 4102444800000  # 2100-01-01: nothing here is ahead of the wall clock


def ts(day, hh, mm=0, ss=0, ms=0):
    """Epoch ms of 2026-11-<day> hh:mm:ss.ms in Asia/Shanghai."""
    d = datetime(2026, 11, day, hh, mm, ss, tzinfo=CST)
    return int(d.timestamp() * 1000) + ms


def varint(x):
    x &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = x & 0x7F
        x >>= 7
        if x:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def event(eid, conv, t, typ, shop=1, buyer=0, agent=0, rating=0):
    msg = b""
    for field, v in ((1, eid), (2, shop), (3, conv), (4, buyer), (5, agent), (6, t), (7, typ),
                     (9, rating)):
        if v:
            msg += varint(field << 3) + varint(v)
    return varint(len(msg)) + msg


class Case(unittest.TestCase):
    def run_ref(self, events, **opts):
        """Classify and evaluate; returns (counts, records, stats)."""
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "in.pb")
            with open(path, "wb") as f:
                f.write(b"".join(events))
            counts, convs, stats = R.classify([path], NOW, **opts)
        recs = R.build_records(*R.compute(convs))
        return counts, recs, stats

    @staticmethod
    def metric(recs, day, name, shop=1):
        for r in recs:
            if r["type"] == "shop_day" and r["shop_id"] == shop and r["day"] == day:
                return r["metrics"].get(name)
        return None

    # ------------------------------------------------------------ lifetime
    def lifetime_stream(self, wm_push_ms):
        """Conversation 1 (buyer 1) ends at 11-22 20:02; conversation 2 moves the
        watermark to wm_push_ms - 5 s; then buyer 77 speaks in conversation 1.
        Over at: max(20:02 + 6 h, 11-23 00:00 + H) = 11-23 02:02."""
        return [
            event(1, 1, ts(22, 19), TRANSFER, buyer=1),
            event(2, 1, ts(22, 19), ASSIGNED, buyer=1, agent=7),
            event(3, 1, ts(22, 20), BUYER, buyer=1),
            event(4, 1, ts(22, 20, 2), AGENT, buyer=1, agent=7),
            event(10, 2, ts(22, 20, 30), BUYER, buyer=2),
            event(11, 2, wm_push_ms, BUYER, buyer=2),
            event(5, 1, wm_push_ms + 1000, BUYER, buyer=77),
        ]

    def test_not_over_while_the_watermark_is_exactly_at_the_bound(self):
        counts, _, stats = self.run_ref(self.lifetime_stream(ts(23, 2, 2, 5)))
        self.assertEqual(counts["invalid"], 1, counts)  # buyer 77: still the old life
        self.assertEqual(stats["conversations_restarted"], 0)
        self.assertEqual(stats["events_near_end_of_life"], 1)  # day's end + H passed, ttl not

    def test_over_one_ms_later_a_new_life_with_another_buyer(self):
        counts, recs, stats = self.run_ref(self.lifetime_stream(ts(23, 2, 2, 5, 1)))
        self.assertEqual(counts["invalid"], 0, counts)
        self.assertEqual(stats["conversations_restarted"], 1)
        v = [r for r in recs if r["type"] == "violation" and r["conversation_id"] == 1]
        self.assertEqual({r["buyer_id"] for r in v}, set(), "02:02 is outside the 3-min windows")
        self.assertEqual(self.metric(recs, 20261123, "tmall_reply_rate"), {"num": 0, "den": 2})

    def test_the_longer_of_ttl_and_days_end_decides(self):
        # ttl 30 h: not over at 02:02, nor at 20:00
        counts, _, stats = self.run_ref(self.lifetime_stream(ts(23, 20)), ttl=30 * HOUR)
        self.assertEqual((counts["invalid"], stats["conversations_restarted"]), (1, 0))
        # ttl = H: the day's end + H (11-23 01:00) decides
        counts, _, stats = self.run_ref(self.lifetime_stream(ts(23, 1, 0, 5, 1)), ttl=HOUR)
        self.assertEqual((counts["invalid"], stats["conversations_restarted"]), (0, 1))
        counts, _, _ = self.run_ref(self.lifetime_stream(ts(23, 1, 0, 5)), ttl=HOUR)
        self.assertEqual(counts["invalid"], 1)

    def restart_stream(self):
        """Conversation 1: assigned to agent 7 and answered on 11-22; on 11-23 at
        10:00 (over since 01:00 + lateness) it transfers again and the buyer
        waits, with no reply and no assignment in the new life."""
        return [
            event(1, 1, ts(22, 10), TRANSFER, buyer=1),
            event(2, 1, ts(22, 10), ASSIGNED, buyer=1, agent=7),
            event(3, 1, ts(22, 10, 1), BUYER, buyer=1),
            event(4, 1, ts(22, 10, 2), AGENT, buyer=1, agent=7),
            event(10, 2, ts(23, 9), BUYER, buyer=2),
            event(20, 1, ts(23, 10), TRANSFER, buyer=1),
            event(3, 1, ts(23, 10, 0, 30), BUYER, buyer=1),  # an old id: forgotten
            event(21, 1, ts(23, 10, 1), BUYER, buyer=1),
            event(22, 1, ts(23, 12), SYSTEM, buyer=1),
        ]

    def test_a_new_life_forgets_the_assignment(self):
        counts, recs, stats = self.run_ref(self.restart_stream())
        self.assertEqual(counts, {"input": 9, "applied": 9, "duplicate": 0, "late": 0, "invalid": 0})
        self.assertEqual((stats["conversations_restarted"], stats["ids_forgotten"]), (1, 1))
        # unassigned: the assignment of 11-22 belongs to the life before
        self.assertEqual(self.metric(recs, 20261123, "douyin_unassigned"), {"num": 1, "den": 1})
        v = [r for r in recs if r["type"] == "violation" and r["conversation_id"] == 1]
        self.assertEqual({(r["day"], r["agent_id"], r["reason"], r["messages"]) for r in v},
                         {(20261123, 0, "unassigned", 2)})
        self.assertEqual(self.metric(recs, 20261123, "douyin_session_3min"), {"num": 0, "den": 1})
        self.assertEqual(self.metric(recs, 20261122, "douyin_session_3min"), {"num": 1, "den": 1})

    def test_the_same_conversation_still_living_keeps_its_assignment_and_ids(self):
        counts, recs, stats = self.run_ref(self.restart_stream(), ttl=30 * HOUR)
        self.assertEqual((counts["applied"], counts["duplicate"]), (8, 1))
        self.assertEqual(stats["duplicates_15min_after_original"], 1)
        self.assertEqual(self.metric(recs, 20261123, "douyin_unassigned"), {"num": 0, "den": 1})
        v = [r for r in recs if r["type"] == "violation" and r["conversation_id"] == 1]
        self.assertEqual({(r["agent_id"], r["reason"], r["messages"]) for r in v}, {(7, "no_reply", 1)})

    # --------------------------------------------------------------- jumps
    def test_a_confirmed_batch_is_judged_again_and_may_hold_one_again(self):
        t0 = ts(22, 10)
        evs = [
            event(1, 1, t0, BUYER, buyer=1),
            event(2, 2, t0 + 2 * DAY, BUYER, buyer=2),          # held
            event(3, 3, t0 + 4 * DAY, BUYER, buyer=3),          # held
            event(4, 4, t0 + 2 * DAY + 60000, BUYER, buyer=4),  # held: 3 = jump_confirm
            event(5, 5, t0 + 2 * DAY + 120000, BUYER, buyer=5),
        ]
        # 2 applied (exempt), 3 still a jump (held again), 4 applied: 3 invalid
        counts, _, stats = self.run_ref(evs, jump_confirm=3)
        self.assertEqual(counts, {"input": 5, "applied": 4, "duplicate": 0, "late": 0, "invalid": 1})
        self.assertEqual((stats["jumps_held"], stats["jump_batches_confirmed"],
                          stats["jumps_invalidated"]), (4, 1, 1))
        # jump_confirm 4: 5 held too, confirms: 2 applied, 3 held again, 4 applied
        # (3 invalid), 5 applied
        counts, _, stats = self.run_ref(evs, jump_confirm=4)
        self.assertEqual((counts["applied"], counts["invalid"]), (4, 1))
        self.assertEqual(stats["jumps_held"], 5)
        # jump_confirm 5: never confirmed, all four invalid at the end
        counts, _, stats = self.run_ref(evs, jump_confirm=5)
        self.assertEqual((counts["applied"], counts["invalid"], stats["jumps_invalid_at_end"]), (1, 4, 4))

    def test_conversation_rules_apply_when_a_held_event_is_judged(self):
        t0 = ts(22, 10)
        evs = [
            event(1, 1, t0, BUYER, buyer=1),
            event(2, 1, t0 + 2 * DAY, BUYER, shop=2, buyer=1),  # another shop: judged at confirm
            event(3, 1, t0 + 2 * DAY + 1, BUYER, buyer=9),       # another buyer
        ]
        counts, _, _ = self.run_ref(evs, jump_confirm=2)
        # 2 is exempt but its shop differs (conversation 1 lives): invalid; 3 is
        # still a jump (nothing moved), held, and invalid at the end
        self.assertEqual((counts["applied"], counts["invalid"]), (1, 2))
        # a late, duplicate or invalid event leaves held jumps held
        evs = [
            event(1, 1, t0, BUYER, buyer=1),
            event(2, 2, t0 + 2 * DAY, BUYER, buyer=2),
            event(1, 1, t0, BUYER, buyer=1),            # duplicate
            event(5, 1, t0 - HOUR, BUYER, buyer=1),     # late
            event(6, 1, t0, BUYER, buyer=0),            # invalid
            event(7, 3, t0 + 2 * DAY + 5, BUYER, buyer=3),
        ]
        counts, _, stats = self.run_ref(evs, jump_confirm=2)
        self.assertEqual(counts, {"input": 6, "applied": 3, "duplicate": 1, "late": 1, "invalid": 1})
        self.assertEqual(stats["jump_batches_confirmed"], 1)


if __name__ == "__main__":
    unittest.main(verbosity=1)
