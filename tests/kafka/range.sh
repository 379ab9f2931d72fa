#!/usr/bin/env bash
# A bounded run over a day range (issue 3): `--from D --to D` seeks each
# partition to a day before D by record timestamp, reads until its watermark
# passes the end of D + H, and publishes only D's records. Those equal file
# mode's records for D over the whole stream, exactly (the lookback rebuilds the
# conversations open at midnight). Re-running the range with the same group
# publishes nothing; with another group, the identical records again. Late and
# invalid events published are ones file mode rejects too.
source "$(dirname "$0")/lib.bash" range "$1"

# Three past days (record timestamps must not be ahead of the broker's clock).
gen=(--events 300000 --days 3 --start-day 2026-11-20 --seed 71 --duplicate-rate 0.01 --disorder-rate 0.03
     --late-rate 0.003 --invalid-rate 0.003 --garbage-rate 0.001)
"$bin" --log-format json gen "${gen[@]}" --output "$tmp/p0.pb" --output "$tmp/p1.pb" --output "$tmp/p2.pb" 2>/dev/null
"$bin" --log-format json gen "${gen[@]}" --brokers "$brokers" --topic "$id.events" --partitions 3 2>"$tmp/gen.log" ||
  fail "gen --brokers: $(cat "$tmp/gen.log")"
"$bin" --log-format json run -q --now-ms "$now" --threads 1 --input "$tmp/p0.pb" --input "$tmp/p1.pb" --input "$tmp/p2.pb" \
  --output "$tmp/file.jsonl" --late "$tmp/file.late.jsonl" --dead-letter "$tmp/file.dead.jsonl" 2>/dev/null

range() { # group, prefix, extra...
  local g=$1 p=$2; shift 2
  "$bin" --log-format json run -q --now-ms "$now" --brokers "$brokers" --topic "$id.events" --group "$g" \
    --from 2026-11-21 --to 2026-11-21 --publish --topic-prefix "$id.$p" "$@"
}
range g1 a --output "$tmp/range.jsonl" --late "$tmp/range.late.jsonl" --dead-letter "$tmp/range.dead.jsonl" \
  2>"$tmp/range.log" || fail "range run: $(cat "$tmp/range.log")"

grep '"day":20261121' "$tmp/file.jsonl" | sort >"$tmp/want.jsonl"
[ "$(wc -l <"$tmp/want.jsonl")" -gt 1000 ] || fail "too few records for the day: $(wc -l <"$tmp/want.jsonl")"
cmp -s "$tmp/want.jsonl" <(sort "$tmp/range.jsonl") ||
  fail "the range run's records differ from file mode's for 2026-11-21: $(wc -l <"$tmp/want.jsonl") vs $(wc -l <"$tmp/range.jsonl")"
python3 - "$tmp/range.log" <<'EOF' || fail "the range run read the whole topic, or nothing"
import json, sys
s = [json.loads(l) for l in open(sys.argv[1]) if l.startswith('{"type":"summary"')][-1]
sys.exit(0 if 120000 < s["input"] < 290000 else 1)  # a lookback day, the day, H: not day 3
EOF
python3 - "$tmp" <<'EOF' || fail "the range run rejected events file mode applied"
import json, sys
t = sys.argv[1]
key = lambda r: (r["reason"], r.get("raw_hex"))
for kind in ("late", "dead"):
    file = {key(json.loads(l)) for l in open(f"{t}/file.{kind}.jsonl")}
    rng = [key(json.loads(l)) for l in open(f"{t}/range.{kind}.jsonl")]
    if not rng or any(k not in file for k in rng):
        print(kind, len(rng), sum(k not in file for k in rng)); sys.exit(1)
EOF

export_results() { # prefix, output
  "$bin" --log-format json export --brokers "$brokers" --topic "$id.$1.shop_day" --topic "$id.$1.agent_day" \
    --topic "$id.$1.violations" --topic "$id.$1.alerts" --output "$2" 2>/dev/null || fail "export $1"
}
export_results a "$tmp/a.jsonl"
cmp -s "$tmp/want.jsonl" <(sort "$tmp/a.jsonl") || fail "the published topics differ from the run's output"

range g1 a 2>"$tmp/again.log" || fail "rerun: $(cat "$tmp/again.log")"
grep -q "already published" "$tmp/again.log" || fail "a rerun by the same group did not stop: $(cat "$tmp/again.log")"
range g2 b 2>"$tmp/g2.log" || fail "rerun by another group: $(cat "$tmp/g2.log")"
export_results b "$tmp/b.jsonl"
cmp -s "$tmp/want.jsonl" <(sort "$tmp/b.jsonl") || fail "re-running the range published other records"

echo "kafka range: 2026-11-21 alone from a 3-day topic equals file mode's day ($(wc -l <"$tmp/want.jsonl") records); reruns are identical or skipped"
