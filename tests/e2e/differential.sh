#!/usr/bin/env bash
# Differential test: the engine against tests/diff/reference.py, an independent,
# deliberately simple evaluator (sort each conversation's events, scan), on
# generated data with duplicates, disorder, late and invalid events, on
# several seeds and with several input files (partitions). Record for record.
set -euo pipefail
bin=$1
src=${RR_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
events=150000; seeds="1 2 3 4 5 6"
[ -n "${RR_E2E_QUICK:-}" ] && { events=40000; seeds="1 2"; }
now=$(( $(date +%s) * 1000 ))
for seed in $seeds; do
  args=(--events $events --seed "$seed" --duplicate-rate 0.02 --disorder-rate 0.05
        --late-rate 0.01 --invalid-rate 0.01 --garbage-rate 0.001)
  if [ "$seed" = 2 ]; then args+=(--days 2); fi
  # One large case where the rules combine at scale: a million events over
  # three days, with every kind of bad delivery, more disorder and reordering.
  if [ "$seed" = 5 ]; then
    args=(--events $((events * 7)) --seed 5 --days 3 --duplicate-rate 0.03 --disorder-rate 0.2
          --disorder-ms 5000 --late-rate 0.02 --invalid-rate 0.02 --garbage-rate 0.002)
  fi
  "$bin" gen "${args[@]}" --output "$tmp/a.pb" 2>/dev/null
  inputs=(--input "$tmp/a.pb")
  zone=()
  # A DST zone across its fall-back (America/New_York, 2026-11-01 has 25 hours):
  # our TZif reader against Python's zoneinfo.
  if [ "$seed" = 6 ]; then
    "$bin" gen --events $events --seed 6 --start-day 2026-10-31 --days 3 --duplicate-rate 0.02 \
      --disorder-rate 0.05 --late-rate 0.01 --invalid-rate 0.01 --output "$tmp/a.pb" 2>/dev/null
    zone=(--timezone America/New_York)
  fi
  if [ "$seed" = 3 ]; then  # a second partition with other shops
    "$bin" gen --events $((events / 3)) --seed 1003 --shops 50 --late-rate 0.01 --output "$tmp/b.pb.zst" 2>/dev/null
    inputs+=(--input "$tmp/b.pb.zst")
  fi
  "$bin" run -q "${inputs[@]}" "${zone[@]}" --output "$tmp/engine.jsonl" --now-ms "$now" 2>"$tmp/engine.log"
  python3 "$src/tests/diff/reference.py" run "${inputs[@]}" "${zone[@]}" --output "$tmp/ref.jsonl" \
    --now-ms "$now" 2>"$tmp/ref.log"
  # Summaries must match too.
  python3 - "$tmp/engine.log" "$tmp/ref.log" <<'PY'
import json, sys
def summ(p):
    s = [json.loads(l) for l in open(p) if l.startswith('{"type":"summary"')][-1]
    return {k: s[k] for k in ("input", "applied", "duplicate", "late", "invalid")}
a, b = summ(sys.argv[1]), summ(sys.argv[2])
assert a == b, f"summary differs: engine {a} reference {b}"
PY
  if ! python3 "$src/tests/diff/compare.py" "$tmp/ref.jsonl" "$tmp/engine.jsonl" >"$tmp/cmp.txt"; then
    echo "seed $seed: engine and reference differ:"; cat "$tmp/cmp.txt"; exit 1
  fi
  echo "seed $seed: $(tail -1 "$tmp/cmp.txt")"
done
