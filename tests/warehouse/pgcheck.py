#!/usr/bin/env python3
"""Compares the PostgreSQL tables of deploy/warehouse/postgres with what a sequence of loads
must have left there, computed from the runs' JSON Lines outputs (an encoder other than the
CSV files the loader read).

  pgcheck.py [--schema S] [--only N] BATCH [BATCH ...]

BATCH is RESULTS.jsonl:LATE.jsonl:DEAD.jsonl, one per loaded directory in load order (a
directory loaded twice is named twice). The expected state applies the reload rule of
docs/output.md batch after batch: a batch's (shop_id, day) replaces every result table's
rows of that day unless the stored day is final and the batch's provisional, or both are
provisional and the stored revision is higher; late and dead letters are upserted on
(source, partition, offset). Every table is compared whole, every column, as a multiset
(a duplicate row fails). --only N: also require the result tables to hold exactly batch N's
rows (1-based), as after a corrected rerun of the same days. The database is read with psql
(PG* environment). Exit 0 when equal; 1 with the differences.
"""
import argparse
import collections
import datetime
import functools
import json
import os
import subprocess
import sys

RESULTS = ("shop_day", "shop_day_metrics", "agent_day", "agent_day_metrics", "violations", "alerts")
REJECTED = ("late_events", "dead_letter")
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def iso_day(n):
    return f"{n // 10000:04d}-{n // 100 % 100:02d}-{n % 100:02d}"


def ms(ts):  # a timestamptz as row_to_json writes it -> epoch ms
    if ts is None:
        return None
    return (datetime.datetime.fromisoformat(ts) - EPOCH) // datetime.timedelta(milliseconds=1)


def metric_rows(rec, base):
    for name, m in rec["metrics"].items():
        row = dict(base, metric=name, num=m["num"], den=m["den"], unanswered=m.get("unanswered"))
        buckets = m.get("buckets")
        if (buckets is None) != ("unanswered" not in m) or (buckets is not None and len(buckets) != 8):
            raise SystemExit(f"unexpected metric value {m} in {rec}")
        for i in range(8):
            row[f"b{i}"] = buckets[i] if buckets else None
        yield row


@functools.lru_cache(maxsize=None)  # a batch loaded twice is read once
def results_of(path):
    """The rows each result table gets from one run's JSON Lines, by (shop_id, day)."""
    tables = {t: collections.defaultdict(list) for t in RESULTS}
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            key = (r["shop_id"], iso_day(r["day"]))
            common = {"final": r["final"], "version": r["version"]}
            if r["type"] in ("shop_day", "agent_day"):
                rev = {"revision": r.get("revision", 0)}
                ids = {"shop_id": r["shop_id"]}
                if r["type"] == "agent_day":
                    ids["agent_id"] = r["agent_id"]
                ids["day"] = key[1]
                tables[r["type"]][key].append(dict(ids, **common, **rev))
                for row in metric_rows(r, dict(ids)):
                    tables[r["type"] + "_metrics"][key].append(dict(row, **common, **rev))
            elif r["type"] == "violation":
                tables["violations"][key].append({
                    "shop_id": r["shop_id"], "day": key[1], "metric": r["metric"],
                    "conversation_id": r["conversation_id"], "buyer_id": r["buyer_id"],
                    "agent_id": r["agent_id"], "round_start": r["round_start_ms"],
                    "reply_at": r["reply_ms"], "wait_ms": r["wait_ms"], "messages": r["messages"],
                    "reason": r["reason"], **common})
            elif r["type"] == "alert":
                tables["alerts"][key].append({"shop_id": r["shop_id"], "day": key[1], "rule": r["rule"],
                                              "value": r["value"], **common})
            else:
                raise SystemExit(f"{path}: unexpected record {r['type']}")
    return tables


@functools.lru_cache(maxsize=None)
def rejected_of(path):
    rows = []
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            e = r["event"] or {}
            etype = e.get("type")
            rows.append({
                "type": r["type"], "reason": r["reason"], "source": r["source"],
                "partition": r["partition"], "offset": r["offset"],
                "watermark_ms": r["watermark_ms"], "event_id": e.get("event_id"),
                "shop_id": e.get("shop_id"), "conversation_id": e.get("conversation_id"),
                "buyer_id": e.get("buyer_id"), "agent_id": e.get("agent_id"), "ts_ms": e.get("ts_ms"),
                "event_type": None if etype is None else str(etype), "content": e.get("content"),
                "rating": e.get("rating"), "flags": e.get("flags"), "raw_hex": r["raw_hex"]})
    return rows


def table(schema, name):
    q = f'SELECT row_to_json(x)::text FROM "{schema}"."{name}" x'
    out = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", q],
                         check=True, capture_output=True, text=True,
                         env=dict(os.environ, PGTZ="UTC")).stdout
    rows = [json.loads(line) for line in out.splitlines() if line]
    for r in rows:
        for c in ("round_start", "reply_at"):
            if c in r:
                r[c] = ms(r[c])
    return rows


def freeze(row):
    return tuple(sorted(row.items()))


def compare(name, got, want):
    if got and want and set(got[0]) != set(want[0]):
        print(f"FAIL: {name}: columns {sorted(got[0])} != {sorted(want[0])}")
        return False
    g, w = collections.Counter(map(freeze, got)), collections.Counter(map(freeze, want))
    if g == w:
        return True
    extra, missing = g - w, w - g
    print(f"FAIL: {name}: {len(got)} rows, {len(want)} expected; "
          f"{sum(extra.values())} unexpected, {sum(missing.values())} missing")
    for row, n in list(extra.items())[:3]:
        print(f"  unexpected (x{n}): {dict(row)}")
    for row, n in list(missing.items())[:3]:
        print(f"  missing (x{n}): {dict(row)}")
    return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--schema", default="replyrate")
    ap.add_argument("--only", type=int)
    ap.add_argument("batches", nargs="+")
    a = ap.parse_args()

    state = {t: {} for t in RESULTS}  # table -> (shop_id, day) -> rows
    rejected = {t: {} for t in REJECTED}  # table -> (source, partition, offset) -> row
    batches = []
    for spec in a.batches:
        res, late, dead = spec.split(":")
        b = results_of(res)
        batches.append(b)
        replaced = kept = 0
        for key, rows in b["shop_day"].items():
            if len(rows) != 1:
                raise SystemExit(f"{res}: {len(rows)} shop_day records of {key}")
            new = rows[0]
            old = state["shop_day"].get(key, [None])[0]
            keep = old is not None and ((old["final"] and not new["final"]) or (
                not old["final"] and not new["final"] and old["revision"] > new["revision"]))
            if keep:
                kept += 1
                continue
            replaced += 1
            for t in RESULTS:
                state[t][key] = b[t].get(key, [])
        for t in RESULTS:
            orphans = set(b[t]) - set(b["shop_day"])
            if orphans:
                raise SystemExit(f"{res}: {t} rows of (shop_id, day) without shop_day: {sorted(orphans)[:3]}")
        for t, path in zip(REJECTED, (late, dead)):
            for row in rejected_of(path):
                rejected[t][(row["source"], row["partition"], row["offset"])] = row
        print(f"pgcheck: {res}: {len(b['shop_day'])} days, {replaced} replaced, {kept} kept")

    ok = True
    counts = {}
    for t in RESULTS:
        got = table(a.schema, t)
        want = [r for rows in state[t].values() for r in rows]
        counts[t] = len(got)
        ok &= compare(t, got, want)
        if a.only:
            only = [r for rows in batches[a.only - 1][t].values() for r in rows]
            ok &= compare(f"{t} (batch {a.only} alone)", got, only)
    for t in REJECTED:
        got = table(a.schema, t)
        counts[t] = len(got)
        ok &= compare(t, got, list(rejected[t].values()))
    print("pgcheck:", "equal" if ok else "DIFFERENT", counts)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
