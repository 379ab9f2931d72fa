#!/usr/bin/env python3
"""clickhouse_check.py [options] DB RESULTS.jsonl LATE.jsonl DEAD.jsonl

Checks that the ClickHouse tables of deploy/warehouse/clickhouse/schema.sql, in the chdb
database DB, hold exactly the records of a run's JSON Lines output (`run -o RESULTS.jsonl
--late LATE.jsonl --dead-letter DEAD.jsonl`, docs/output.md), read with FINAL: every
table key for key and column for column (shop_day and agent_day as key rows plus one row
per metric shown in the *_metrics tables), no key twice, nothing else. Exit 0 when they
match, 1 naming the first differences per table.

  --setup FILE        run this SQL first (repeatable; kafka.sql, already filled in)
  --wait SECONDS      poll (every second, up to SECONDS) until every table holds at least
                      the expected rows: the Kafka engine inserts in the background
  --raw-unique        also require one row per key without FINAL (the file loader deletes
                      a batch's rows before inserting it, so nothing is left to merge)
  --summary           print each table's row count

Uses chdb (deploy/warehouse/clickhouse/chdb_sql.py loads it); run it with a Python where
chdb is installed (tests/warehouse/clickhouse.sh makes one).
"""
import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "deploy", "warehouse", "clickhouse"))
import chdb_sql  # noqa: E402

BUCKETS = ["b0", "b1", "b2", "b3", "b4", "b5", "b6", "b7"]
TYPES = {1: "SESSION_START", 2: "TRANSFER_TO_MANUAL", 3: "AGENT_ASSIGNED", 4: "BUYER_MESSAGE",
         5: "AGENT_MESSAGE", 6: "ROBOT_MESSAGE", 7: "SYSTEM_MESSAGE", 8: "SESSION_END",
         9: "RATING_INVITE", 10: "RATING"}

# table -> (key columns, compared columns in SELECT form)
DAYCOLS = "toYYYYMMDD(day) AS day"
TABLES = {
    "shop_day": (["shop_id", "day"], ["shop_id", DAYCOLS, "final", "revision", "version"]),
    "shop_day_metrics": (["shop_id", "day", "metric"],
                         ["shop_id", DAYCOLS, "metric", "num", "den", "unanswered"] + BUCKETS
                         + ["final", "revision", "version"]),
    "agent_day": (["shop_id", "agent_id", "day"],
                  ["shop_id", "agent_id", DAYCOLS, "final", "revision", "version"]),
    "agent_day_metrics": (["shop_id", "agent_id", "day", "metric"],
                          ["shop_id", "agent_id", DAYCOLS, "metric", "num", "den", "unanswered"]
                          + BUCKETS + ["final", "revision", "version"]),
    "violations": (["shop_id", "day", "metric", "conversation_id", "round_start_ms"],
                   ["shop_id", DAYCOLS, "metric", "conversation_id", "buyer_id", "agent_id",
                    "toUnixTimestamp64Milli(round_start) AS round_start_ms",
                    "toUnixTimestamp64Milli(reply_at) AS reply_ms", "wait_ms", "messages",
                    "reason", "final", "version"]),
    "alerts": (["shop_id", "day", "rule"],
               ["shop_id", DAYCOLS, "rule", "value", "final", "version"]),
    "late_events": (["source", "partition", "offset"],
                    ["type", "reason", "source", "partition", "offset", "watermark_ms",
                     "event_id", "shop_id", "conversation_id", "buyer_id", "agent_id", "ts_ms",
                     "event_type", "content", "rating", "flags", "raw_hex"]),
}
TABLES["dead_letter"] = TABLES["late_events"]


def colname(c):
    return c.split(" AS ")[-1]


def expected(results, late, dead):
    """The rows each table must hold, as dicts, from the run's JSON Lines."""
    exp = {t: [] for t in TABLES}
    with open(results, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            t = r["type"]
            if t in ("shop_day", "agent_day"):
                key = {"shop_id": r["shop_id"], "day": r["day"]}
                if t == "agent_day":
                    key["agent_id"] = r["agent_id"]
                tail = {"final": r["final"], "revision": r.get("revision", 0), "version": r["version"]}
                exp[t].append({**key, **tail})
                for name, m in r["metrics"].items():
                    row = {**key, "metric": name, "num": m["num"], "den": m["den"], **tail}
                    buckets = m.get("buckets")
                    row["unanswered"] = m["unanswered"] if buckets is not None else None
                    for i, b in enumerate(BUCKETS):
                        row[b] = buckets[i] if buckets is not None else None
                    exp[t + "_metrics"].append(row)
            elif t == "violation":
                exp["violations"].append({k: r[k] for k in (
                    "shop_id", "day", "metric", "conversation_id", "buyer_id", "agent_id",
                    "round_start_ms", "reply_ms", "wait_ms", "messages", "reason", "final",
                    "version")})
            elif t == "alert":
                exp["alerts"].append({k: r[k] for k in ("shop_id", "day", "rule", "value",
                                                         "final", "version")})
            else:
                raise ValueError(f"{results}: unexpected record type {t}")
    for table, path in (("late_events", late), ("dead_letter", dead)):
        with open(path, encoding="utf-8") as f:
            for line in f:
                r = json.loads(line)
                ev = r["event"] or {}
                etype = ev.get("type")
                if isinstance(etype, int):  # a number only outside 1..10
                    etype = TYPES.get(etype, str(etype))
                exp[table].append({
                    "type": r["type"], "reason": r["reason"], "source": r["source"],
                    "partition": r["partition"], "offset": r["offset"],
                    "watermark_ms": r["watermark_ms"], "event_id": ev.get("event_id"),
                    "shop_id": ev.get("shop_id"), "conversation_id": ev.get("conversation_id"),
                    "buyer_id": ev.get("buyer_id"), "agent_id": ev.get("agent_id"),
                    "ts_ms": ev.get("ts_ms"), "event_type": etype, "content": ev.get("content"),
                    "rating": ev.get("rating"), "flags": ev.get("flags"), "raw_hex": r["raw_hex"]})
    return exp


def fetch(conn, table, final):
    cols = TABLES[table][1]
    sql = (f"SELECT {', '.join(cols)} FROM replyrate.{table}{' FINAL' if final else ''} "
           "SETTINGS output_format_json_quote_64bit_integers = 0, "
           "output_format_json_quote_denormals = 0")
    out = chdb_sql.query(conn, sql, "JSONEachRow").decode()
    return [json.loads(line) for line in out.splitlines() if line]


def count(conn, table):
    return int(chdb_sql.query(conn, f"SELECT count() FROM replyrate.{table}", "TSV"))


def compare(table, got, want):
    """The differences between two row lists of table, as lines (empty: equal)."""
    keycols = TABLES[table][0]
    names = [colname(c) for c in TABLES[table][1]]
    problems = []

    def index(rows, what):
        by = {}
        for r in rows:
            k = tuple(r[c] for c in keycols)
            if k in by:
                problems.append(f"{table}: key {k} twice in {what}")
            by[k] = tuple(r[c] for c in names)
        return by

    g, w = index(got, "the table"), index(want, "the run's output")
    missing = [k for k in w if k not in g]
    extra = [k for k in g if k not in w]
    differ = [k for k in w if k in g and g[k] != w[k]]
    for what, keys in (("missing", missing), ("not in the run's output (stale?)", extra)):
        if keys:
            problems.append(f"{table}: {len(keys)} rows {what}, e.g. {keys[:3]}")
    for k in differ[:3]:
        diff = {n: (gv, wv) for n, gv, wv in zip(names, g[k], w[k]) if gv != wv}
        problems.append(f"{table}: key {k} differs (table, run): {diff}")
    if len(differ) > 3:
        problems.append(f"{table}: {len(differ)} rows differ in all")
    return problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("db")
    ap.add_argument("results")
    ap.add_argument("late")
    ap.add_argument("dead")
    ap.add_argument("--setup", action="append", default=[])
    ap.add_argument("--wait", type=float, default=0)
    ap.add_argument("--raw-unique", action="store_true")
    ap.add_argument("--summary", action="store_true")
    a = ap.parse_args()

    exp = expected(a.results, a.late, a.dead)
    conn = chdb_sql.connect(a.db)
    for path in a.setup:
        with open(path, encoding="utf-8") as f:
            chdb_sql.query(conn, f.read())
    deadline = time.monotonic() + a.wait
    while True:
        short = [t for t in TABLES if count(conn, t) < len(exp[t])]
        if not short or time.monotonic() >= deadline:
            break
        time.sleep(1)
    if short and a.wait:
        print(f"clickhouse_check: after {a.wait:.0f} s, fewer rows than expected in: "
              + ", ".join(f"{t} ({count(conn, t)} of {len(exp[t])})" for t in short))

    problems = []
    for t in TABLES:
        got = fetch(conn, t, final=True)
        problems += compare(t, got, exp[t])
        raw = count(conn, t)
        if a.raw_unique and raw != len(got):
            problems.append(f"{t}: {raw} rows without FINAL, {len(got)} with it")
        if a.summary:
            print(f"  {t}: {len(got)} rows (FINAL), {raw} stored, {len(exp[t])} expected")
    conn.close()
    for p in problems:
        print("FAIL:", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
