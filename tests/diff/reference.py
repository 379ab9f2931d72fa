#!/usr/bin/env python3
"""Independent reference evaluator for replyrate (differential testing only).

    python3 tests/diff/reference.py run --input A.pb [--input B.pb ...] \
        --output OUT.jsonl [--now-ms N] [--timezone ZONE] [--conversation-ttl MS] \
        [--jump-confirm N] [--stats STATS.json]

(tests/diff/reference is the same as a command, so the SPEC examples' `check`
can run it like the engine.)  --stats writes one JSON line counting what the
input exercised (STAT_KEYS: late re-deliveries, restarted conversations, jumps).

Deliberately simple and unrelated in structure to the C engine: every input
event is first *classified* (invalid / late / duplicate / applied, SPEC §7, in
arrival order per file = partition); afterwards each conversation's applied
events are sorted by (ts_ms, event_id) and scanned once per metric
(SPEC §3/§4).  Writes SPEC §6 JSON Lines (all "final": true, "version": "ref")
and the SPEC §7 summary line to stderr.  Python 3 standard library only.

Interpretations where the SPEC text leaves room (each also noted in place):
  * Wire decoding copies protobuf-c's unpack exactly: a tag varint may be at
    most 5 bytes, a value varint at most 10, a length-delimited header at most
    5 bytes and <= INT_MAX; "field number 0" is rejected the way protobuf-c
    does it, i.e. when the first tag byte has no field-number bits
    ((b & 0xf8) == 0).  An over-long multi-byte encoding of field 0 is, like
    in protobuf-c, an unknown field and skipped.  Enum `type` keeps the low
    32 bits (protobuf-c stores enums in 32 bits).
  * File framing: the length prefix is a varint of at most 10 bytes; one that
    is unterminated (EOF or > 10 bytes) or whose length runs past EOF is one
    final invalid record (examples 42, 43).
  * max_future (jumps) / late only apply once the partition has an applied
    event (there is no "greatest applied ts" before that).  Wall clock: an
    event is invalid when ts - now > max_future (SPEC §7: "more than
    max_future ahead of the wall clock at arrival"; example 51).
  * Order of the SPEC §7 checks for one event: the rules that need neither the
    partition nor the conversation (type, ids, ts range, buyer/agent/rating,
    wall clock); then the jump rule; then the conversation's life (below); then
    shop / buyer mismatch; late; duplicate; applied.  So a jump is held whatever
    its shop or buyer, and those are judged when it is (SPEC §7).
  * Jumps (SPEC §7): ts > greatest applied ts of the partition + max_future
    holds the event (arrival order kept).  The next *applied* event of the
    partition makes every held event invalid; invalid, late and duplicate
    events leave them held.  When the jump_confirm-th event is held (at that
    moment), the held batch is judged again, in arrival order, exactly as if
    each arrived now: the first without the jump rule (it is applied unless a
    conversation rule or a duplicate says otherwise), the rest with it, against
    the partition as the batch's earlier events left it, so one may be held
    again, and an applied one among them invalidates those re-held before it.
    Held events left at the end of a file (partition) are invalid.  Each event
    is counted once, when judged; "input" counts records as they arrive.
  * Lifetime (SPEC §3): a conversation is keyed by (partition, id) and lives in
    *lives*.  When an event is judged, the conversation's current life is over
    if the partition's watermark (greatest applied ts - lateness, at that
    moment) is strictly greater ("has passed", like a day's finality in §5)
    than both the life's greatest applied ts + conversation_ttl and the local
    end (next local midnight) + H of that ts's day.  The event is then judged
    against no conversation at all (no shop, buyer or ids remembered); if it is
    applied it opens the next life.  (An event that is not applied opens
    nothing, but the old life stays over for every later event: the watermark
    never goes back.)  Event ids are remembered for the whole life, whatever the
    duplicate's ts.
  * Each life is scanned as a conversation of its own (SPEC §3 "every rule then
    applies to the new one alone"): its phase starts in the robot phase, reply
    matching, rounds and the agent of a round see only its events, the
    `unassigned` metric and violation reason see only its AGENT_ASSIGNED /
    AGENT_MESSAGE, satisfaction's agent only its assignments, a violation's
    buyer is its own buyer.  A new life's events are all later than the old
    life's day's end + H, so two lives never share a day: session_within,
    satisfaction and unassigned count each life on its own days (as many
    conversations per day as if the lives were one); what differs is what each
    life contains.  tests/diff/test_reference.py pins these readings.
  * "Rounds": any event of the metric's reply kind closes the open round, even
    one more than H after the round start (it is still "a reply of the
    metric's kind between them"); a round's wait is the wait of its first
    message, so a round whose first message's reply is > H away is
    unanswered even if a later message of the round is answered (example 34).
  * unassigned metric / unassigned violation reason: any AGENT_ASSIGNED or
    AGENT_MESSAGE of the conversation's life counts, also one before the day / the
    round (the SPEC bounds only the upper end of ts); "day's local end" is the
    next local midnight, inclusive (example 27).
  * buyer_within is judged per message (none of the buyer's in-scope messages
    waited > T); buyer_replied(any) per message reply(m); require=last uses
    reply(last message).  An exact (ts, event_id) tie between two
    conversations' last messages keeps the first conversation in id order.
  * satisfaction: the rating's own agent_id is ignored; the agent is the
    latest AGENT_ASSIGNED before the last in-scope rating (examples 18, 46).
"""
import bisect
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

# ---------------------------------------------------------------- constants
SESSION_START, TRANSFER, ASSIGNED, BUYER, AGENT, ROBOT, SYSTEM, SESSION_END, INVITE, RATING = range(1, 11)

H = 3600000                 # reply horizon
LATENESS = 5000             # allowed lateness
MAX_FUTURE = 86400000       # max_future
CONVERSATION_TTL = 6 * 3600000  # conversation_ttl (default; --conversation-ttl)
JUMP_CONFIRM = 1000         # jump_confirm (default; --jump-confirm)
MAX_TS = 253402300799999    # 9999-12-31T23:59:59.999Z
DAY_MS = 86400000
TZ = ZoneInfo("Asia/Shanghai")
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
M64 = (1 << 64) - 1
M32 = (1 << 32) - 1
# What the reference's stats line counts (so a test can show which rules its data exercised)
STAT_KEYS = ("duplicates_15min_after_original", "conversations_restarted", "ids_forgotten",
             "events_near_end_of_life", "jumps_held", "jump_batches_confirmed", "jumps_invalidated",
             "jumps_invalid_at_end")
BUCKET_BOUNDS = [15000, 30000, 60000, 120000, 180000, 300000, 600000]  # then (600 s, H]

EX_INTERNAL, EX_SPAM = 1, 2
# name, kind, manual-reply?, T, window from, window to (ms of local day), excluded flag bits, require
METRICS = [
    ("douyin_msg_3min", "message_within", True, 180000, 8 * 3600000, 23 * 3600000, 0, None),
    ("douyin_session_3min", "session_within", True, 180000, 8 * 3600000, 23 * 3600000, 0, None),
    ("douyin_satisfaction", "satisfaction", True, None, 8 * 3600000, 23 * 3600000, 0, None),
    ("douyin_unassigned", "unassigned", True, None, 0, DAY_MS, 0, None),
    ("pdd_buyer_3min", "buyer_within", True, 180000, 8 * 3600000, 23 * 3600000, 0, None),
    ("pdd_effective_reply", "buyer_replied", False, None, 8 * 3600000, 23 * 3600000, 0, "any"),
    ("tmall_reply_rate", "buyer_replied", False, None, 0, DAY_MS, EX_INTERNAL | EX_SPAM, "last"),
    ("tmall_response_time", "response_time", False, None, 0, DAY_MS, EX_INTERNAL | EX_SPAM, None),
]
PER_AGENT_KINDS = ("message_within", "response_time", "satisfaction")
VIOLATION_KINDS = ("message_within", "session_within", "buyer_within")


# ---------------------------------------------------------------- time zone
_off_cache = {}


def _raw_offset(ts):
    """UTC offset in ms of TZ at instant ts (ms); instants past year 9999 use the last one."""
    dt = EPOCH + timedelta(milliseconds=min(max(ts, 0), MAX_TS))
    try:
        off = dt.astimezone(TZ).utcoffset()
    except (OverflowError, ValueError):
        # local date beyond year 9999: ask the zone with the naive UTC time
        off = TZ.utcoffset(dt.replace(tzinfo=None))
    return off // timedelta(milliseconds=1)


def offset_ms(ts):
    hb = ts // 3600000
    o = _off_cache.get(hb)
    if o is None:
        a = _raw_offset(hb * 3600000)
        b = _raw_offset(hb * 3600000 + 3599999)
        if a != b:           # a transition inside this hour: no caching
            return _raw_offset(ts)
        _off_cache[hb] = o = a
    return o


def civil(dayn):
    """local epoch-day number -> (y, m, d) (Hinnant's algorithm, any year)."""
    z = dayn + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return (y + 1 if m <= 2 else y), m, d


_ymd_cache = {}


def yyyymmdd(dayn):
    r = _ymd_cache.get(dayn)
    if r is None:
        y, m, d = civil(dayn)
        _ymd_cache[dayn] = r = y * 10000 + m * 100 + d
    return r


_end_cache = {}


def day_end_utc(dayn):
    """UTC ms of the local midnight that ends local day dayn."""
    r = _end_cache.get(dayn)
    if r is None:
        y, m, d = civil(dayn + 1)
        if 1 <= y <= 9999:
            r = (datetime(y, m, d, tzinfo=TZ) - EPOCH) // timedelta(milliseconds=1)
        else:
            # local date past 9999-12-31: the zone's last offset (clamped in _raw_offset)
            guess = (dayn + 1) * DAY_MS
            r = guess - offset_ms(guess)
        _end_cache[dayn] = r
    return r


# ---------------------------------------------------------------- decoding
def decode(b, p, end):
    """Decode one ChatEvent from b[p:end] with protobuf-c's acceptance rules.
    Returns [_, eid, shop, conv, buyer, agent, ts, type, content, rating, flags] or None."""
    v = [0] * 11
    while p < end:
        b0 = b[p]
        if not (b0 & 0xF8):          # protobuf-c: "0 is not a valid tag value"
            return None
        wt = b0 & 7
        if b0 < 0x80:
            tag = b0 >> 3
            p += 1
        else:                        # protobuf-c: tag varint at most 5 bytes
            tag = (b0 & 0x7F) >> 3
            shift = 4
            q = p + 1
            lim = min(p + 5, end)
            while True:
                if q >= lim:
                    return None
                c = b[q]
                q += 1
                if c & 0x80:
                    tag |= (c & 0x7F) << shift
                    shift += 7
                else:
                    tag |= c << shift
                    break
            p = q
        if wt == 0:
            lim = min(p + 10, end)
            x = 0
            shift = 0
            while True:
                if p >= lim:
                    return None      # truncated, or longer than 10 bytes
                c = b[p]
                p += 1
                x |= (c & 0x7F) << shift
                if c < 0x80:
                    break
                shift += 7
            if 1 <= tag <= 10:
                v[tag] = x           # last occurrence wins
        elif 1 <= tag <= 10:
            return None              # known field (all varint) with another wire type
        elif wt == 1:
            if end - p < 8:
                return None
            p += 8
        elif wt == 5:
            if end - p < 4:
                return None
            p += 4
        elif wt == 2:                # length header at most 5 bytes, <= INT_MAX
            lim = min(p + 5, end)
            ln = 0
            shift = 0
            q = p
            while True:
                if q >= lim:
                    return None
                c = b[q]
                q += 1
                ln |= (c & 0x7F) << shift
                shift += 7
                if c < 0x80:
                    break
            if ln > 0x7FFFFFFF or q + ln > end:
                return None
            p = q + ln
        else:                        # 3, 4 (groups: unsupported by protobuf-c), 6, 7
            return None
    for i in (1, 2, 3, 4, 5):
        v[i] &= M64
    ts = v[6] & M64
    v[6] = ts - (1 << 64) if ts >> 63 else ts
    for i in (7, 8, 9, 10):
        v[i] &= M32
    return v


def records(data):
    """Yield (start, end) of every delimited record; (None, None) for a broken tail."""
    n = len(data)
    p = 0
    while p < n:
        ln = 0
        shift = 0
        q = p
        lim = min(p + 10, n)
        ok = False
        while q < lim:
            c = data[q]
            q += 1
            ln |= (c & 0x7F) << shift
            shift += 7
            if c < 0x80:
                ok = True
                break
        if not ok or q + ln > n:
            yield None, None
            return
        yield q, q + ln
        p = q + ln


def read_input(path):
    if path.endswith(".zst"):
        return subprocess.run(["zstd", "-dc", path], check=True, stdout=subprocess.PIPE).stdout
    with open(path, "rb") as f:
        return f.read()


# ---------------------------------------------------------------- classification
def static_invalid(v, now_ms):
    """SPEC §7 rules that need neither the partition nor the conversation."""
    _, eid, shop, cid, buyer, agent, ts, typ, _content, rating, _flags = v
    return (not 1 <= typ <= 10 or eid == 0 or shop == 0 or cid == 0 or not 1 <= ts <= MAX_TS
            or (typ == BUYER and buyer == 0)
            or (typ == ASSIGNED and agent == 0)
            or (typ == RATING and not 1 <= rating <= 5)
            or ts - now_ms > MAX_FUTURE)


def local_day(ts):
    return (ts + offset_ms(ts)) // DAY_MS


def classify(paths, now_ms, ttl=CONVERSATION_TTL, jump_confirm=JUMP_CONFIRM):
    """SPEC §7 verdict of every record, in arrival order, one partition per file.

    Returns (counts, convs, stats).  convs maps (conversation id, partition, life)
    to [shop, buyer (0 = none yet), {event id: ts}, [event tuples], greatest ts,
    the life before's {event id: ts} (stats only)]:
    one entry per *life* of a conversation (SPEC §3 Lifetime), life 0, 1, ...
    A conversation lives in its partition (an event naming another shop goes to
    that shop's partition, where it is another conversation).  stats counts what
    the differential test wants to see exercised (see STAT_KEYS)."""
    counts = {"input": 0, "applied": 0, "duplicate": 0, "late": 0, "invalid": 0}
    stats = dict.fromkeys(STAT_KEYS, 0)
    convs = {}
    live = {}  # (conversation id, partition) -> key in convs of its current life
    for part, path in enumerate(paths):  # each file is one partition, read in file order
        data = read_input(path)
        pmax = None  # greatest applied ts of this partition
        held = []    # SPEC §7 jumps held, in arrival order

        def judge(v, exempt):
            """Judge one decoded event now; exempt: the first of a confirmed batch."""
            nonlocal pmax, held
            _, eid, shop, cid, buyer, agent, ts, typ, _content, rating, flags = v
            if static_invalid(v, now_ms):
                counts["invalid"] += 1
                return
            # A jump: held, not judged; the conversation's rules wait for the judgement.
            if not exempt and pmax is not None and ts > pmax + MAX_FUTURE:
                held.append(v)
                stats["jumps_held"] += 1
                if len(held) >= jump_confirm:
                    # The jump is real: judge the held events again in arrival
                    # order as if they arrived now, the first exempt from the rule.
                    batch, held = held, []
                    stats["jump_batches_confirmed"] += 1
                    for k, w in enumerate(batch):
                        judge(w, k == 0)
                return
            key = live.get((cid, part))
            cs = convs[key] if key is not None else None
            old = None
            if cs is not None:
                # SPEC §3 Lifetime: over once the partition's watermark has passed
                # (strictly) both its greatest ts + ttl and that ts's day's end + H.
                wm = pmax - LATENESS
                a = wm > cs[4] + ttl
                b = wm > day_end_utc(local_day(cs[4])) + H
                if a and b:
                    old, cs = cs, None
                elif a or b:
                    stats["events_near_end_of_life"] += 1
            if cs is not None and (cs[0] != shop or (typ == BUYER and cs[1] and cs[1] != buyer)):
                counts["invalid"] += 1
                return
            if pmax is not None and ts < pmax - LATENESS:
                counts["late"] += 1
                return
            if cs is not None and eid in cs[2]:
                counts["duplicate"] += 1
                if pmax - cs[2][eid] > 15 * 60000:
                    stats["duplicates_15min_after_original"] += 1
                return
            counts["applied"] += 1
            if cs is None:
                life = 0 if key is None else key[2] + 1
                key = (cid, part, life)
                live[(cid, part)] = key
                cs = convs[key] = [shop, 0, {}, [], ts, None]
                if old is not None:
                    stats["conversations_restarted"] += 1
                    cs[5] = old[2]
            if cs[5] is not None and eid in cs[5]:
                stats["ids_forgotten"] += 1  # a duplicate of the life before: applied
            if typ == BUYER and not cs[1]:
                cs[1] = buyer
            cs[2][eid] = ts
            cs[3].append((ts, eid, typ, buyer, agent, rating, flags))
            if ts > cs[4]:
                cs[4] = ts
            if pmax is None or ts > pmax:
                pmax = ts
            if held:  # the partition went on: every held jump is invalid
                counts["invalid"] += len(held)
                stats["jumps_invalidated"] += len(held)
                held = []

        for s, e in records(data):
            counts["input"] += 1
            v = None if s is None else decode(data, s, e)
            if v is None:
                counts["invalid"] += 1
                continue
            judge(v, False)
        # Jumps still held when the input ends are invalid.
        counts["invalid"] += len(held)
        stats["jumps_invalid_at_end"] += len(held)
    return counts, convs, stats


# ---------------------------------------------------------------- metrics
def new_cell(kind):
    return [0, 0, 0, [0] * 8] if kind == "response_time" else [0, 0]


def compute(convs):
    shop_days = set()
    shop_agg = {}        # (shop, day) -> {metric: cell}
    agent_agg = {}       # (shop, agent, day) -> {metric: cell}
    violations = []
    buyer_within = {}    # (metric, shop, day) -> {buyer: ok}
    buyer_any = {}       # (metric, shop, day) -> {buyer: replied}
    buyer_last = {}      # (metric, shop, day) -> {buyer: ((ts, eid), replied)}

    def cell(key, agent, name, kind):
        d = shop_agg.setdefault(key, {})
        c = d.get(name)
        if c is None:
            c = d[name] = new_cell(kind)
        if agent is None:
            return c, None
        d2 = agent_agg.setdefault((key[0], agent, key[1]), {})
        c2 = d2.get(name)
        if c2 is None:
            c2 = d2[name] = new_cell(kind)
        return c, c2

    for key in sorted(convs):
        cid = key[0]
        shop, cbuyer, _, evs, _, _ = convs[key]
        evs.sort()                   # (ts_ms, event_id); event ids unique in a conversation
        n = len(evs)
        days = [0] * n
        tods = [0] * n
        for i in range(n):
            ts = evs[i][0]
            local = ts + offset_ms(ts)
            dn = local // DAY_MS
            days[i] = dn
            tods[i] = local - dn * DAY_MS
            shop_days.add((shop, dn))

        man_idx = n                  # index of the event that starts the manual phase
        first_assist_ts = None       # earliest AGENT_ASSIGNED / AGENT_MESSAGE ts
        for i in range(n):
            t = evs[i][2]
            if t in (TRANSFER, ASSIGNED, AGENT) and man_idx == n:
                man_idx = i
            if t in (ASSIGNED, AGENT) and first_assist_ts is None:
                first_assist_ts = evs[i][0]

        # reply(m) for each buyer message, per reply kind (backward scan)
        rep_manual = [None] * n
        rep_eff = [None] * n
        nm = ne = None
        for i in range(n - 1, -1, -1):
            e = evs[i]
            t = e[2]
            if t == SESSION_END:
                nm = ne = None
            elif t == AGENT:
                nm = ne = e
            elif t == ROBOT:
                ne = e
            elif t == BUYER:
                ts = e[0]
                if nm is not None and nm[0] - ts <= H:
                    rep_manual[i] = nm
                if ne is not None and ne[0] - ts <= H:
                    rep_eff[i] = ne

        for name, kind, manual, T, wfrom, wto, excl, require in METRICS:
            if kind == "satisfaction":
                last = {}            # day -> (ok, agent)
                assigned = None
                for i in range(n):
                    e = evs[i]
                    t = e[2]
                    if t == RATING and i > man_idx and wfrom <= tods[i] < wto and not (e[6] & excl):
                        last[days[i]] = (e[5] >= 4, assigned if assigned is not None else 0)
                    elif t == ASSIGNED:
                        assigned = e[4]
                for dn, (ok, agent) in last.items():
                    c, c2 = cell((shop, dn), agent, name, kind)
                    c[1] += 1
                    c2[1] += 1
                    if ok:
                        c[0] += 1
                        c2[0] += 1
                continue

            rep = rep_manual if manual else rep_eff
            closers = (SESSION_END, AGENT) if manual else (SESSION_END, AGENT, ROBOT)
            conv_days = {}           # day -> all rounds within T (session_within) / True (unassigned)
            cur = None               # open round: [day, first index, messages, agent]

            def finish(r):
                dn, i0, cnt, agent = r
                start = evs[i0][0]
                rp = rep[i0]
                wait = None if rp is None else rp[0] - start
                if kind == "response_time":
                    c, c2 = cell((shop, dn), agent, name, kind)
                    if wait is None:
                        c[2] += 1
                        c2[2] += 1
                    else:
                        b = bisect.bisect_left(BUCKET_BOUNDS, wait)
                        for x in (c, c2):
                            x[0] += wait
                            x[1] += 1
                            x[3][b] += 1
                    return
                if kind not in VIOLATION_KINDS:
                    return
                ok = wait is not None and wait <= T
                if kind == "session_within":
                    conv_days[dn] = conv_days.get(dn, True) and ok
                if not ok:
                    if wait is not None:
                        reason = "late"
                    elif first_assist_ts is None or first_assist_ts > start + H:
                        reason = "unassigned"
                    else:
                        reason = "no_reply"
                    violations.append({
                        "type": "violation", "shop_id": shop, "day": yyyymmdd(dn), "metric": name,
                        "conversation_id": cid, "buyer_id": cbuyer, "agent_id": agent,
                        "round_start_ms": start, "reply_ms": None if rp is None else rp[0],
                        "wait_ms": wait, "messages": cnt, "reason": reason})

            assigned = None
            for i in range(n):
                e = evs[i]
                t = e[2]
                if t == BUYER:
                    if not (wfrom <= tods[i] < wto) or (e[6] & excl) or (manual and i <= man_idx):
                        continue     # out of scope: neither joins nor breaks a round
                    dn = days[i]
                    if cur is not None and cur[0] == dn:
                        cur[2] += 1
                    else:            # new round (also: local midnight splits a round)
                        if cur is not None:
                            finish(cur)
                        if assigned is not None:
                            agent = assigned
                        else:
                            r0 = rep[i]
                            agent = r0[4] if r0 is not None else 0
                        cur = [dn, i, 1, agent]
                    rp = rep[i]
                    key = (shop, dn)
                    if kind == "message_within":
                        c, c2 = cell(key, cur[3], name, kind)
                        c[1] += 1
                        c2[1] += 1
                        if rp is not None and rp[0] - e[0] <= T:
                            c[0] += 1
                            c2[0] += 1
                    elif kind == "buyer_within":
                        d = buyer_within.setdefault((name,) + key, {})
                        d[e[3]] = d.get(e[3], True) and rp is not None and rp[0] - e[0] <= T
                    elif kind == "buyer_replied":
                        if require == "any":
                            d = buyer_any.setdefault((name,) + key, {})
                            d[e[3]] = d.get(e[3], False) or rp is not None
                        else:
                            d = buyer_last.setdefault((name,) + key, {})
                            old = d.get(e[3])
                            if old is None or (e[0], e[1]) > old[0]:
                                d[e[3]] = ((e[0], e[1]), rp is not None)
                    elif kind == "unassigned":
                        conv_days[dn] = True
                elif t in closers:
                    if cur is not None:
                        finish(cur)
                        cur = None
                if t == ASSIGNED:
                    assigned = e[4]
            if cur is not None:
                finish(cur)

            if kind == "session_within":
                for dn, ok in conv_days.items():
                    c, _ = cell((shop, dn), None, name, kind)
                    c[1] += 1
                    c[0] += ok
            elif kind == "unassigned":
                for dn in conv_days:
                    c, _ = cell((shop, dn), None, name, kind)
                    c[1] += 1
                    if first_assist_ts is None or first_assist_ts > day_end_utc(dn) + H:
                        c[0] += 1

    kinds = {m[0]: m[1] for m in METRICS}
    for src, fold in ((buyer_within, lambda x: x), (buyer_any, lambda x: x), (buyer_last, lambda x: x[1])):
        for (name, shop, dn), d in src.items():
            c, _ = cell((shop, dn), None, name, kinds[name])
            c[1] += len(d)
            c[0] += sum(1 for x in d.values() if fold(x))
    return shop_days, shop_agg, agent_agg, violations


def metric_json(name, c):
    if len(c) == 4:
        return {"num": c[0], "den": c[1], "unanswered": c[2], "buckets": list(c[3])}
    return {"num": c[0], "den": c[1]}


def metrics_json(d):
    out = {}
    for name in sorted(d):
        c = d[name]
        if c[1] or (len(c) == 4 and c[2]):
            out[name] = metric_json(name, c)
    return out


def build_records(shop_days, shop_agg, agent_agg, violations):
    recs = []
    alerts = []
    for shop, dn in sorted(shop_days):
        m = shop_agg.get((shop, dn), {})
        day = yyyymmdd(dn)
        recs.append({"type": "shop_day", "shop_id": shop, "day": day, "final": True, "version": "ref",
                     "metrics": metrics_json(m)})
        # alerts: a rule on a ratio never fires where its denominator is 0
        c = m.get("pdd_buyer_3min")
        if c and c[1] and c[0] / c[1] < 0.50:
            alerts.append({"type": "alert", "shop_id": shop, "day": day, "rule": "pdd_warning",
                           "final": True, "version": "ref", "value": c[0] / c[1]})
        c = m.get("pdd_effective_reply")
        if c and c[1] > 100 and c[0] / c[1] < 0.50:
            alerts.append({"type": "alert", "shop_id": shop, "day": day, "rule": "pdd_penalty",
                           "final": True, "version": "ref", "value": c[0] / c[1]})
    for (shop, agent, dn) in sorted(agent_agg):
        mj = metrics_json(agent_agg[(shop, agent, dn)])
        if mj:
            recs.append({"type": "agent_day", "shop_id": shop, "agent_id": agent, "day": yyyymmdd(dn),
                         "final": True, "version": "ref", "metrics": mj})
    for v in sorted(violations, key=lambda v: (v["shop_id"], v["day"], v["metric"], v["conversation_id"],
                                               v["round_start_ms"])):
        v["final"] = True
        v["version"] = "ref"
        recs.append(v)
    recs.extend(alerts)
    return recs


# ---------------------------------------------------------------- CLI
def main(argv):
    global TZ
    usage = ("usage: reference.py run --input FILE [--input FILE ...] --output OUT.jsonl [--now-ms N]"
             " [--timezone ZONE] [--conversation-ttl MS] [--jump-confirm N] [--stats FILE]")
    if not argv or argv[0] != "run":
        sys.exit(usage)
    inputs, output, now_ms, stats_path = [], None, None, None
    ttl, jump_confirm = CONVERSATION_TTL, JUMP_CONFIRM
    flags = ("--input", "--output", "--now-ms", "--timezone", "--conversation-ttl", "--jump-confirm",
             "--stats")
    i = 1
    while i < len(argv):
        a = argv[i]
        if a in flags and i + 1 < len(argv):
            val = argv[i + 1]
            i += 2
        elif a.startswith(tuple(f + "=" for f in flags)):
            a, val = a.split("=", 1)
            i += 1
        else:
            sys.exit(f"unknown argument {a!r}\n{usage}")
        if a == "--input":
            inputs.append(val)
        elif a == "--output":
            output = val
        elif a == "--timezone":
            TZ = ZoneInfo(val)  # every time function reads the global; caches are still empty
        elif a == "--stats":
            stats_path = val
        elif a == "--conversation-ttl":
            ttl = int(val)
            if ttl < H:
                sys.exit(f"--conversation-ttl must be at least H ({H} ms)")
        elif a == "--jump-confirm":
            jump_confirm = int(val)
            if jump_confirm < 1:
                sys.exit("--jump-confirm must be at least 1")
        else:
            now_ms = int(val)
    if not inputs or output is None:
        sys.exit(usage)
    if now_ms is None:
        now_ms = time.time_ns() // 1000000
    counts, convs, stats = classify(inputs, now_ms, ttl, jump_confirm)
    recs = build_records(*compute(convs))
    tmp = output + ".tmp%d" % os.getpid()
    with open(tmp, "w") as f:
        for r in recs:
            f.write(json.dumps(r, separators=(",", ":")))
            f.write("\n")
    os.replace(tmp, output)
    if stats_path is not None:
        with open(stats_path, "w") as f:
            f.write(json.dumps(dict({"type": "reference_stats"}, **stats), separators=(",", ":")) + "\n")
    sys.stderr.write(json.dumps(dict({"type": "summary"}, **counts), separators=(",", ":")) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
