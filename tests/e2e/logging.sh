#!/usr/bin/env bash
# One logger for stderr (docs/operations.md, "Logging"): with --log-format json
# every line a command writes there is one JSON object opening with type, ts,
# level and component, whatever the line is (progress, a warning, a usage
# error, librdkafka's own log, the summary); in text every line carries a
# timestamp and a level. On a terminal a file run redraws one progress line,
# erased before any other line and at the end; elsewhere it logs progress
# events. An unreachable broker's errors come through the logger, as
# component kafka. (tests/kafka/logging.sh: the same of Kafka runs.)
set -uo pipefail
bin=$1
lines=$(dirname "$0")/loglines.py
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
failed=0
fail() { echo "FAIL: $*"; failed=1; }
check() { # what, mode, log, kinds...: loglines.py's verdict
  local what=$1 mode=$2 log=$3 out; shift 3
  out=$(python3 "$lines" "$mode" "$log" "$@") || { fail "$what: $out"; return 1; }
  echo "$what: $out"
}

events=600000; [ -n "${RR_E2E_QUICK:-}" ] && events=300000
"$bin" --log-format json gen --events $events --seed 7 --late-rate 0.001 --invalid-rate 0.001 \
  --output "$tmp/day.pb" 2>"$tmp/gen.log" || { echo "gen failed: $(cat "$tmp/gen.log")"; exit 1; }
check "gen, json" json "$tmp/gen.log" gen_summary
# Runs that must log progress have to outlast the shortest interval (100 ms): the day above
# once ran in 0.1 s on a fast machine and logged none, so they read one 8 times longer.
# (The damaged file stays cut from the day above: where its break falls depends on the bytes.)
"$bin" gen --events $((events * 8)) --seed 8 --output "$tmp/long.pb" 2>"$tmp/gen8.log" ||
  { echo "gen failed: $(cat "$tmp/gen8.log")"; exit 1; }
# a file whose framing breaks before its end: a warning, an error, a failed summary
head -c 300000 "$tmp/day.pb" >"$tmp/cut.pb"; printf '\377\377\377\377\017' >>"$tmp/cut.pb"
tail -c 200000 "$tmp/day.pb" >>"$tmp/cut.pb"

# ---- json: every line of a file run, one engine and two shards, parses
"$bin" --log-format json --progress-every 100ms run --input "$tmp/long.pb" --output "$tmp/o.jsonl" \
  2>"$tmp/run.log" || fail "run: exit $?"
check "file run, json" json "$tmp/run.log" progress summary
grep -q '^{"type":"progress",.*"percent":[0-9.]*' "$tmp/run.log" ||
  fail "no share done in the progress events: $(head -2 "$tmp/run.log")"
"$bin" run --log-format=json --progress-every=100ms --threads 2 --input "$tmp/long.pb" --input "$tmp/cut.pb" \
  --output "$tmp/o.jsonl" 2>"$tmp/shards.log"
[ $? = 3 ] || fail "damaged input: exit not 3: $(tail -2 "$tmp/shards.log")"
check "two shards, a damaged file, json" json "$tmp/shards.log" log progress summary
grep -q '^{"type":"log",[^}]*"level":"warn","component":"run","msg":".*cut\.pb: the framing breaks' "$tmp/shards.log" ||
  fail "the damage is not a warning of the log: $(grep -v progress "$tmp/shards.log")"
grep -q '^{"type":"log",[^}]*"level":"error","component":"run","msg":"[^"]*incomplete input' "$tmp/shards.log" ||
  fail "the run's error is not an error of the log: $(grep -v progress "$tmp/shards.log")"
grep -q '^{"type":"summary",[^}]*"level":"error",.*"status":3,' "$tmp/shards.log" ||
  fail "the failed run's summary is not at level error: $(tail -1 "$tmp/shards.log")"
# a summary is written whatever the level; nothing else at --log-level error but the error
"$bin" --log-format json --log-level error run -q --input "$tmp/day.pb" --output "$tmp/o.jsonl" 2>"$tmp/quiet.log"
check "--log-level error" json "$tmp/quiet.log" summary
[ "$(wc -l <"$tmp/quiet.log")" = 1 ] || fail "--log-level error: more than the summary: $(cat "$tmp/quiet.log")"

# ---- json: usage errors, getopt's own complaints, other commands' errors and summaries
for args in "run --bogus" "run --input" "run --input $tmp/day.pb" "run --from nope --brokers b --topic t" \
  "gen --events" "gen --frobnicate" "load --input $tmp/day.pb" "load -Z" "export --topic x" \
  "export --nope" "demo --partitions 0" "demo --what" "config" "config check $tmp/none.conf" "frobnicate"; do
  # shellcheck disable=SC2086
  "$bin" --log-format json $args >/dev/null 2>"$tmp/usage.log"
  rc=$?
  [ "$rc" = 2 ] || fail "$args: exit $rc, not 2"
  python3 "$lines" json "$tmp/usage.log" log >/dev/null || fail "$args: $(python3 "$lines" json "$tmp/usage.log"; cat "$tmp/usage.log")"
  grep -q '"level":"error"' "$tmp/usage.log" || fail "$args: not an error: $(cat "$tmp/usage.log")"
done
"$bin" --log-format json --log-level loud run 2>"$tmp/usage.log"
check "a bad --log-level" json "$tmp/usage.log" log
"$bin" --log-format json load --input "$tmp/cut.pb" --brokers 127.0.0.1:1 --topic t -X test.mock.num.brokers=1 \
  2>"$tmp/load.log"
[ $? = 3 ] || fail "load of a damaged file: exit not 3: $(tail -3 "$tmp/load.log")"
check "load on librdkafka's mock cluster, json" json "$tmp/load.log" log load_summary

# ---- text: every line has a time and a level; events are KIND key=value
"$bin" --progress-every 100ms run --threads 2 --input "$tmp/long.pb" --input "$tmp/cut.pb" \
  --output "$tmp/o.jsonl" 2>"$tmp/text.log"
check "two shards, a damaged file, text" text "$tmp/text.log" log progress summary
grep -qE '^\{"type":"summary","ts":"[-0-9]{10}T[0-9:.]{12}Z","level":"error","component":"run","input":[0-9]+,"applied":[0-9]+,.*"status":3,"reason":"incomplete_input"\}$' "$tmp/text.log" ||
  fail "text summary: $(tail -1 "$tmp/text.log")"
grep -qE ' info run: progress input=[0-9]+ events_per_s=[0-9]+ open_conversations=[0-9]+ open_days=[0-9]+ percent=[0-9.]+' "$tmp/text.log" ||
  fail "text progress: $(grep progress "$tmp/text.log" | head -1)"
"$bin" gen --events 1000 --output "$tmp/small.pb" 2>"$tmp/gen.txt"
grep -qE '^\{"type":"gen_summary",.*"level":"info","component":"gen","events":1000,.*"expect":\{"applied":[0-9]+,' "$tmp/gen.txt" || fail "text gen_summary: $(cat "$tmp/gen.txt")"
"$bin" run --bogus 2>"$tmp/usage.txt"
check "a usage error, text" text "$tmp/usage.txt" log

# ---- a terminal: one line redrawn, erased before every other line and at the end
python3 "$lines" pty "$tmp/tty.out" "$bin" run --input "$tmp/long.pb" --output "$tmp/o.jsonl" ||
  fail "run on a terminal: exit $?"
check "file run on a terminal" tty "$tmp/tty.out" summary "(status)"
grep -qaE $'\r[0-9.]+k? events  [0-9.]+[kM]? events/s  [0-9.]+% of [0-9.]+ [kMG]?B  ([0-9]+:[0-9]{2}|-:--) left\033\\[K' "$tmp/tty.out" ||
  fail "no progress line drawn: $(head -c 300 "$tmp/tty.out" | od -c | head -5)"
python3 "$lines" pty "$tmp/tty2.out" "$bin" run --threads 2 --input "$tmp/day.pb" --input "$tmp/cut.pb" \
  --output "$tmp/o.jsonl"
check "two shards, a damaged file, on a terminal" tty "$tmp/tty2.out" log summary "(status)"
# json, or quiet, on a terminal: no status line (loglines.py json refuses \r)
python3 "$lines" pty "$tmp/tty3.out" "$bin" --log-format json run --input "$tmp/day.pb" --output "$tmp/o.jsonl"
check "json on a terminal" json "$tmp/tty3.out" summary
python3 "$lines" pty "$tmp/tty4.out" "$bin" run -q --input "$tmp/day.pb" --output "$tmp/o.jsonl"
check "-q on a terminal" text "$tmp/tty4.out" summary
grep -q progress "$tmp/tty4.out" && fail "-q on a terminal: progress: $(cat "$tmp/tty4.out")"

# ---- an unreachable broker: librdkafka's errors through the logger, nothing raw
timeout 60 "$bin" --log-format json run --brokers 127.0.0.1:1 --topic t --until-end --output "$tmp/o.jsonl" \
  2>"$tmp/broker.log"
rc=$?
[ "$rc" = 1 ] || fail "an unreachable broker: exit $rc, not 1"
check "an unreachable broker, json" json "$tmp/broker.log" log
grep -q '^{"type":"log",[^}]*"level":"error","component":"kafka","msg":"rdkafka#[a-z]*-[0-9]*: [A-Z]*: .*127\.0\.0\.1:1.*Connection refused' "$tmp/broker.log" ||
  fail "librdkafka's connection error is not an error of the log, component kafka: $(cat "$tmp/broker.log")"
grep -q '"component":"run","msg":"topic '"'"'t'"'"': no metadata from the cluster' "$tmp/broker.log" ||
  fail "the run's error: $(tail -2 "$tmp/broker.log")"

[ "$failed" = 0 ] && echo "logging: every line of stderr is the logger's, JSON or text; a terminal gets one progress line"
exit $failed
