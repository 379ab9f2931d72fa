#!/usr/bin/env python3
"""compare.py A.jsonl B.jsonl -- exact comparison of two replyrate record files.

Compared: shop_day / agent_day metrics (a metric whose den and unanswered are both 0
counts as absent; absent unanswered/buckets read as zeros), violations as a multiset
with all their fields, alerts as a multiset with value rounded to 6 decimals.
Ignored: version, field order, records marked "final": false, summary lines.
A shop_day / agent_day key present in only one file is a difference (even with no
non-zero metric). Fails if either file publishes a (shop, day) or (shop, agent, day)
key twice as final. Prints the first 20 differences, then 'OK N records' or
'DIFF N differences'; exit status 0 / 1.
"""
import json
import sys
from collections import Counter

ZERO = {"num": 0, "den": 0, "unanswered": 0, "buckets": [0] * 8}
VF = ("shop_id", "day", "metric", "conversation_id", "buyer_id", "agent_id",
      "round_start_ms", "reply_ms", "wait_ms", "messages", "reason")


def load(path, problems):
    tab, viol, alerts, n = {}, Counter(), Counter(), 0
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                r = json.loads(line)
            except ValueError as e:
                problems.append(f"{path}:{lineno}: not JSON: {e}")
                continue
            t = r.get("type")
            if t == "summary" or r.get("final") is False:
                continue
            n += 1
            if t in ("shop_day", "agent_day"):
                key = (t, r.get("shop_id"), r.get("agent_id") if t == "agent_day" else None, r.get("day"))
                if key in tab:
                    problems.append(f"{path}: published twice as final: {key}")
                tab[key] = {name: dict(ZERO, **m) for name, m in (r.get("metrics") or {}).items()
                            if m.get("den") or m.get("unanswered")}
            elif t == "violation":
                viol[tuple(r.get(k) for k in VF)] += 1
            elif t == "alert":
                alerts[(r.get("shop_id"), r.get("day"), r.get("rule"), round(float(r.get("value")), 6))] += 1
            else:
                problems.append(f"{path}:{lineno}: unknown record type {t!r}")
    return tab, viol, alerts, n


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    a_path, b_path = sys.argv[1], sys.argv[2]
    out = []
    at, av, aa, an = load(a_path, out)
    bt, bv, ba, bn = load(b_path, out)
    for key in sorted(set(at) | set(bt), key=str):
        if key not in at or key not in bt:
            # a record with no non-zero metric on one side and missing on the other is a
            # difference too (shop_day presence is part of the contract)
            out.append(f"{key}: only in {'A' if key in at else 'B'}")
            continue
        ea, eb = at[key], bt[key]
        for name in sorted(set(ea) | set(eb)):
            if ea.get(name) != eb.get(name):
                out.append(f"{key} {name}: A {ea.get(name)}, B {eb.get(name)}")
    for label, x, y in (("violation", av, bv), ("alert", aa, ba)):
        for k, c in sorted((x - y).items(), key=str):
            out.append(f"{label} only in A (x{c}): {dict(zip(VF, k)) if label == 'violation' else k}")
        for k, c in sorted((y - x).items(), key=str):
            out.append(f"{label} only in B (x{c}): {dict(zip(VF, k)) if label == 'violation' else k}")
    for line in out[:20]:
        print(line)
    if out:
        print(f"DIFF {len(out)} differences")
        return 1
    print(f"OK {an} records")
    return 0


if __name__ == "__main__":
    sys.exit(main())
