#!/usr/bin/env bash
# Shards (docs/engine.md, "Shards"): `replyrate run --threads N` deals the input
# files to N engines on N threads. On input partitioned by shop (SPEC §2) the
# records, late events and dead letters are exactly those of one engine and of
# the reference evaluator, whatever N; only their order differs. Shops split
# across shards are still counted; an unreadable input still fails the run.
set -euo pipefail
bin=$1
src=${RR_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
now=$(( $(date +%s) * 1000 ))
fail() { echo "FAIL: $*"; exit 1; }

# One stream split by shop into three partitions, with every kind of bad delivery.
"$bin" --log-format json gen --events 120000 --seed 11 --days 2 --duplicate-rate 0.02 --disorder-rate 0.05 \
  --late-rate 0.01 --invalid-rate 0.01 --garbage-rate 0.001 \
  --output "$tmp/p0.pb" --output "$tmp/p1.pb.zst" --output "$tmp/p2.pb" 2>"$tmp/gen.log"
grep -q '"partitions":3' "$tmp/gen.log" || fail "gen did not write 3 partitions: $(cat "$tmp/gen.log")"
for f in p0.pb p1.pb.zst p2.pb; do [ -s "$tmp/$f" ] || fail "partition $f is empty"; done
inputs=(--input "$tmp/p0.pb" --input "$tmp/p1.pb.zst" --input "$tmp/p2.pb")

summary() { # the counts that must not depend on the sharding
  python3 -c '
import json, sys
s = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{\"type\":\"summary\"")][-1]
print(" ".join("%s=%s" % (k, s[k]) for k in ("input", "applied", "duplicate", "late", "invalid",
      "shop_days", "agent_days", "violations", "alerts", "shops_in_several_partitions")))' "$1"
}
for t in 1 2 3; do
  "$bin" --log-format json run -q --threads $t "${inputs[@]}" --output "$tmp/out$t.jsonl" --late "$tmp/late$t.jsonl" \
    --dead-letter "$tmp/dead$t.jsonl" --now-ms "$now" 2>"$tmp/run$t.log" || fail "--threads $t: $(cat "$tmp/run$t.log")"
  summary "$tmp/run$t.log" >"$tmp/sum$t"
  for k in out late dead; do sort "$tmp/$k$t.jsonl" >"$tmp/$k$t.sorted"; done
done
[ -s "$tmp/late1.sorted" ] && [ -s "$tmp/dead1.sorted" ] || fail "the input has no late or invalid events"
for t in 2 3; do
  cmp -s "$tmp/sum1" "$tmp/sum$t" || fail "--threads $t summary: $(cat "$tmp/sum$t"), one engine: $(cat "$tmp/sum1")"
  for k in out late dead; do
    cmp -s "$tmp/${k}1.sorted" "$tmp/$k$t.sorted" || fail "--threads $t: $k records differ from one engine's"
  done
done
# and against the independent reference evaluator
python3 "$src/tests/diff/reference.py" run "${inputs[@]}" --output "$tmp/ref.jsonl" --now-ms "$now" 2>/dev/null
python3 "$src/tests/diff/compare.py" "$tmp/ref.jsonl" "$tmp/out3.jsonl" >"$tmp/cmp.txt" ||
  { cat "$tmp/cmp.txt"; fail "--threads 3 differs from the reference"; }
echo "3 partitions: --threads 1, 2, 3 agree ($(cat "$tmp/sum1")); reference: $(tail -1 "$tmp/cmp.txt")"

# A producer bug: the same shops in two files, which go to two shards. Both
# the single engine and the shards count every shop as split.
"$bin" --log-format json gen --events 20000 --seed 12 --output "$tmp/a.pb" 2>"$tmp/gen_a.log"
"$bin" --log-format json gen --events 20000 --seed 12 --output "$tmp/b.pb" 2>/dev/null
shops=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read())["shops"])' "$tmp/gen_a.log")
for t in 1 2; do
  "$bin" --log-format json run -q --threads $t --input "$tmp/a.pb" --input "$tmp/b.pb" --output "$tmp/split$t.jsonl" \
    --now-ms "$now" 2>"$tmp/split$t.log"
  grep -q "\"shops_in_several_partitions\":$shops," "$tmp/split$t.log" ||
    fail "--threads $t: want $shops shops in several partitions: $(tail -1 "$tmp/split$t.log")"
done
echo "split shops: $shops counted with one engine and with two shards"

# An unreadable input fails the whole run, naming it.
head -c 1000 "$tmp/p1.pb.zst" >"$tmp/cut.pb.zst"
if "$bin" --log-format json run -q --threads 2 --input "$tmp/p0.pb" --input "$tmp/cut.pb.zst" --output "$tmp/x.jsonl" \
     --now-ms "$now" 2>"$tmp/cut.log"; then
  fail "a truncated zstd input did not fail the run"
fi
grep -q "cut.pb.zst" "$tmp/cut.log" || fail "the error does not name the bad input: $(cat "$tmp/cut.log")"
echo "truncated input: exit 1, named"
