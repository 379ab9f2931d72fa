#!/usr/bin/env bash
# Differential test: the engine against tests/diff/reference.py, an independent,
# deliberately simple evaluator (sort each conversation's events, scan), on
# generated data with duplicates, disorder, late and invalid events, on
# several seeds and with several input files (partitions). Record for record.
#
# Seeds 7-11 are about conversation lifetimes and jumps (SPEC §3 Duplicates and
# Lifetime, §7 jumps): re-deliveries stamped anew hours later, conversations that
# resume while they live and around the moment they are over, with the default
# conversation_ttl and shorter ones, stale events in front of a partition, time
# jumping by days, jumps left held at the end. Each prints what the reference
# saw it exercise and fails if one of its rules was not reached.
#
# First the reference itself must pass its own edge cases (tests/diff/
# test_reference.py) and the SPEC's worked examples (beside the repository in
# ../shared/examples), so a difference is the engine's.
# RR_E2E_QUICK=1: smaller and fewer seeds (sanitizer builds). RR_DIFF_SEEDS="7 9":
# only those seeds.
set -euo pipefail
bin=$1
src=${RR_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
events=150000; seeds="1 2 3 4 5 6 7 8 9 10 11"
[ -n "${RR_E2E_QUICK:-}" ] && { events=40000; seeds="1 2 10 11"; }
seeds=${RR_DIFF_SEEDS:-$seeds}
now=$(( $(date +%s) * 1000 ))

if ! python3 "$src/tests/diff/test_reference.py" >"$tmp/ref_tests.txt" 2>&1; then
  echo "the reference fails its edge cases:"; cat "$tmp/ref_tests.txt"; exit 1
fi
check="$src/../shared/examples/check"
if [ -x "$check" ]; then
  if ! python3 "$check" "$src/tests/diff/reference" >"$tmp/examples.txt"; then
    echo "the reference fails the SPEC examples:"; cat "$tmp/examples.txt"; exit 1
  fi
  echo "reference on the SPEC examples: $(tail -1 "$tmp/examples.txt")"
elif [ "${CI:-}" = true ]; then
  echo "differential: $check not found (shared/ must sit beside the repository)" >&2; exit 1
else
  echo "differential: $check not found: the reference is not checked on the SPEC examples"
fi

for seed in $seeds; do
  args=(--events $events --seed "$seed" --duplicate-rate 0.02 --disorder-rate 0.05
        --late-rate 0.01 --invalid-rate 0.01 --garbage-rate 0.001)
  outputs=(--output "$tmp/a.pb")
  inputs=(--input "$tmp/a.pb")
  zone=()
  conf=()     # engine: --config FILE
  ref_conf=() # the reference's equivalent options
  need=()     # reference stats that must be > 0: the rules the seed is for
  if [ "$seed" = 2 ]; then args+=(--days 2); fi
  # A third of the conversations brief (one question, at most one answer, no
  # session events): many small ones that only their ttl ends.
  if [ "$seed" = 4 ]; then args+=(--brief-share 0.3); fi
  # One large case where the rules combine at scale: a million events over
  # three days, with every kind of bad delivery, more disorder and reordering.
  if [ "$seed" = 5 ]; then
    args=(--events $((events * 7)) --seed 5 --days 3 --duplicate-rate 0.03 --disorder-rate 0.2
          --disorder-ms 5000 --late-rate 0.02 --invalid-rate 0.02 --garbage-rate 0.002)
  fi
  # A DST zone across its fall-back (America/New_York, 2026-11-01 has 25 hours):
  # our TZif reader against Python's zoneinfo.
  if [ "$seed" = 6 ]; then
    args=(--events $events --seed 6 --start-day 2026-10-31 --days 3 --duplicate-rate 0.02
          --disorder-rate 0.05 --late-rate 0.01 --invalid-rate 0.01)
    zone=(--timezone America/New_York)
  fi
  # Lifetimes, default conversation_ttl (6 h): re-deliveries 20 min..5 h after the
  # original are duplicates; conversations resumed while they live, just before
  # and just after they are over (then with nothing remembered), hours later.
  if [ "$seed" = 7 ]; then
    args=(--events $((events * 4 / 5)) --seed 7 --days 2 --redeliver-rate 0.005 --resume-rate 0.05
          --duplicate-rate 0.01 --disorder-rate 0.03 --late-rate 0.005 --invalid-rate 0.005
          --garbage-rate 0.001)
    need=(duplicates_15min_after_original conversations_restarted ids_forgotten
          events_near_end_of_life)
  fi
  # The same with conversation_ttl 1 h (= H): the day's end + H decides, model
  # conversations crossing midnight restart too, and re-deliveries up to 30 h
  # later land in the conversation's next life.
  if [ "$seed" = 8 ]; then
    args=(--events $((events * 4 / 5)) --seed 8 --days 3 --redeliver-rate 0.005
          --redeliver-max-delay 30h --resume-rate 0.05 --conversation-ttl 1h
          --duplicate-rate 0.01 --disorder-rate 0.03 --late-rate 0.005 --invalid-rate 0.005)
    printf 'conversation_ttl = "1h";\n' >"$tmp/seed.conf"
    conf=(--config "$tmp/seed.conf"); ref_conf=(--conversation-ttl 3600000)
    need=(duplicates_15min_after_original conversations_restarted ids_forgotten
          events_near_end_of_life)
  fi
  # Jumps: a stale event in front (the whole stream is a jump, confirmed after
  # 1000 held), then time jumps 3 days at 10:00 of day 2 (confirmed again, after
  # disordered stragglers invalidated the first held), bad clocks (invalid copies
  # a day or more ahead, held then invalidated).
  if [ "$seed" = 9 ]; then
    args=(--events $((events * 4 / 5)) --seed 9 --days 2 --stale-events 1 --jump-days 3
          --jump-at-hour 34 --invalid-rate 0.01 --duplicate-rate 0.01 --disorder-rate 0.05
          --late-rate 0.005 --redeliver-rate 0.002)
    need=(jump_batches_confirmed jumps_invalidated)
  fi
  # Everything at once in two partitions, conversation_ttl 2 h, jump_confirm 2.
  if [ "$seed" = 10 ]; then
    args=(--events $((events * 2 / 3)) --seed 10 --days 3 --shops 30 --redeliver-rate 0.005
          --redeliver-max-delay 12h --resume-rate 0.05 --conversation-ttl 2h --stale-events 2
          --jump-days 2 --jump-at-hour 40 --duplicate-rate 0.01 --disorder-rate 0.03
          --late-rate 0.005 --invalid-rate 0.01)
    outputs=(--output "$tmp/a.pb" --output "$tmp/b.pb.zst")
    inputs=(--input "$tmp/a.pb" --input "$tmp/b.pb.zst")
    printf 'conversation_ttl = "2h";\n' >"$tmp/seed.conf"
    conf=(--config "$tmp/seed.conf"); ref_conf=(--conversation-ttl 7200000)
    printf 'jump_confirm = 2;\n' >>"$tmp/seed.conf"; ref_conf+=(--jump-confirm 2)
    need=(duplicates_15min_after_original conversations_restarted ids_forgotten
          events_near_end_of_life jump_batches_confirmed jumps_invalidated)
  fi
  # A small stream whose time jumps in its last hour: too few to confirm, the
  # jumps are still held at the end, and invalid.
  if [ "$seed" = 11 ]; then
    args=(--events 3000 --seed 11 --days 2 --jump-days 2 --jump-at-hour 47
          --duplicate-rate 0.02 --disorder-rate 0.05 --invalid-rate 0.01)
    need=(jumps_invalid_at_end)
  fi
  "$bin" --log-format json gen "${args[@]}" "${outputs[@]}" 2>/dev/null
  if [ "$seed" = 3 ]; then  # a second partition with other shops
    "$bin" --log-format json gen --events $((events / 3)) --seed 1003 --shops 50 --late-rate 0.01 --output "$tmp/b.pb.zst" 2>/dev/null
    inputs+=(--input "$tmp/b.pb.zst")
  fi
  "$bin" --log-format json run -q "${inputs[@]}" "${zone[@]}" "${conf[@]}" --output "$tmp/engine.jsonl" --now-ms "$now" \
    2>"$tmp/engine.log" &
  engine=$!
  python3 "$src/tests/diff/reference.py" run "${inputs[@]}" "${zone[@]}" "${ref_conf[@]}" \
    --output "$tmp/ref.jsonl" --now-ms "$now" --stats "$tmp/ref_stats.json" 2>"$tmp/ref.log"
  if ! wait "$engine"; then
    echo "seed $seed: the engine failed:"; tail -5 "$tmp/engine.log"; exit 1
  fi
  # What the seed exercised, and the rules it is for reached.
  exercised=$(python3 - "$tmp/ref_stats.json" "${need[@]}" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
missing = [k for k in sys.argv[2:] if not s[k] > 0]
print(", ".join(f"{k} {v}" for k, v in s.items() if k != "type" and v))
if missing:
    sys.exit(f"the data did not exercise: {', '.join(missing)}")
PY
  ) || { echo "seed $seed: $exercised"; exit 1; }
  # Summaries must match too.
  if ! python3 - "$tmp/engine.log" "$tmp/ref.log" >"$tmp/summ.txt" <<'PY'
import json, sys
def summ(p):
    s = [json.loads(l) for l in open(p) if l.startswith('{"type":"summary"')][-1]
    return {k: s[k] for k in ("input", "applied", "duplicate", "late", "invalid")}
a, b = summ(sys.argv[1]), summ(sys.argv[2])
if a != b:
    print(f"summary differs: engine {a} reference {b}")
    sys.exit(1)
PY
  then
    echo "seed $seed: $(cat "$tmp/summ.txt") (exercised $exercised)"; exit 1
  fi
  if ! python3 "$src/tests/diff/compare.py" "$tmp/ref.jsonl" "$tmp/engine.jsonl" >"$tmp/cmp.txt"; then
    echo "seed $seed: engine and reference differ (exercised $exercised):"; cat "$tmp/cmp.txt"; exit 1
  fi
  echo "seed $seed: $(tail -1 "$tmp/cmp.txt")${exercised:+; exercised $exercised}"
done
