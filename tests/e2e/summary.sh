#!/usr/bin/env bash
# Whole program on generated data with every kind of bad input: the four counts
# add up to the input, late/dead-letter files hold exactly the late/invalid
# events, and the JSONL, CSV and protobuf outputs carry the same records.
set -euo pipefail
bin=$1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
events=300000; [ -n "${RR_E2E_QUICK:-}" ] && events=60000
"$bin" --log-format json gen --events $events --seed 11 --duplicate-rate 0.02 --disorder-rate 0.05 --late-rate 0.01 \
  --invalid-rate 0.01 --garbage-rate 0.002 --output "$tmp/in.pb.zst" 2>"$tmp/gen.log"
"$bin" --log-format json run -q --input "$tmp/in.pb.zst" --output "$tmp/out.jsonl" --output "$tmp/out.csv" \
  --output "$tmp/out.pb.zst" --late "$tmp/late.jsonl" --dead-letter "$tmp/dead.jsonl" 2>"$tmp/run.log"
python3 - "$tmp" <<'PY'
import json, sys, os
tmp = sys.argv[1]
summary = [json.loads(l) for l in open(f"{tmp}/run.log") if l.startswith('{"type":"summary"')][-1]
n = summary["input"]
parts = summary["applied"] + summary["duplicate"] + summary["late"] + summary["invalid"]
assert n > 0 and parts == n, f"counts do not add up: {summary}"
for k in ("duplicate", "late", "invalid"):
    assert summary[k] > 0, f"generator knobs produced no {k} events: {summary}"
late = [json.loads(l) for l in open(f"{tmp}/late.jsonl")]
dead = [json.loads(l) for l in open(f"{tmp}/dead.jsonl")]
assert len(late) == summary["late"], (len(late), summary)
assert len(dead) == summary["invalid"], (len(dead), summary)
assert all(r["type"] == "late" for r in late) and all(r["type"] == "invalid" and r["reason"] for r in dead)
recs = [json.loads(l) for l in open(f"{tmp}/out.jsonl")]
kinds = {}
for r in recs:
    kinds[r["type"]] = kinds.get(r["type"], 0) + 1
for k in ("shop_day", "agent_day", "violation", "alert"):
    assert kinds.get(k, 0) > 0, f"no {k} records: {kinds}"
assert kinds["shop_day"] == summary["shop_days"] and kinds["violation"] == summary["violations"]
keys = [(r["shop_id"], r.get("agent_id"), r["day"], r["type"]) for r in recs if r["type"] in ("shop_day", "agent_day")]
assert len(keys) == len(set(keys)), "a (shop, day) published twice"
# CSV: one row per metric of each day record, plus one per violation/alert.
import csv
rows = list(csv.DictReader(open(f"{tmp}/out.csv")))
metric_rows = sum(len(r["metrics"]) for r in recs if r["type"] in ("shop_day", "agent_day"))
csv_metric_rows = sum(1 for r in rows if r["type"] in ("shop_day", "agent_day") and r["metric"])
assert csv_metric_rows == metric_rows, (csv_metric_rows, metric_rows)
assert sum(1 for r in rows if r["type"] == "violation") == kinds["violation"]
assert os.path.getsize(f"{tmp}/out.pb.zst") > 0
print(f"summary ok: {summary['input']} events, {len(recs)} records, {kinds}")
PY
