#!/usr/bin/env bash
# One logger for stderr, on a real broker (docs/operations.md, "Logging"):
# with --log-format json every line a bounded Kafka run (one engine and
# shards, publishing) and a streaming run (assigned, commits, provisional
# revisions, progress, the summary after SIGTERM) write on stderr is one
# JSON object opening with type, ts, level and component; in text every
# line carries a time and a level; on a terminal a bounded run redraws one
# progress line (the share of the end offsets captured at start), erased
# before any other line and at the end. (tests/e2e/logging.sh: file runs,
# usage errors, an unreachable broker.)
source "$(dirname "$0")/lib.bash" logging "$1"
lines=$(dirname "$0")/../e2e/loglines.py
check() { # what, mode, log, kinds...: loglines.py's verdict
  local what=$1 mode=$2 log=$3 out; shift 3
  out=$(python3 "$lines" "$mode" "$log" "$@") || fail "$what: $out"
  echo "$what: $out"
}

"$bin" --log-format json gen --events 600000 --seed 17 --days 2 --late-rate 0.001 --invalid-rate 0.001 \
  --output "$tmp/in.pb" 2>"$tmp/gen.log" || fail "gen: $(cat "$tmp/gen.log")"
"$bin" --log-format json --progress-every 100ms load --brokers "$brokers" --topic "$id.events" --partitions 4 \
  --input "$tmp/in.pb" 2>"$tmp/load.log" || fail "load: $(cat "$tmp/load.log")"
check "load, json" json "$tmp/load.log" load_summary

# ---- bounded runs, shards, one engine, publishing: json, every line
# (the runs that commit to the group come last: a broker just started may
# not have its group coordinator yet)
bounded() { # group, extra args...
  local g=$1; shift
  "$bin" run --until-end --now-ms "$now" --brokers "$brokers" --topic "$id.events" --group "$g" "$@"
}
# librdkafka's fetch debugging: its own log lines, many, from its threads, amid progress
bounded b2 --log-format json --log-level debug -X debug=fetch --progress-every 100ms --threads 3 \
  --output "$tmp/b2.jsonl" 2>"$tmp/b2.log" || fail "bounded run, shards: $(tail -3 "$tmp/b2.log")"
check "bounded run, three shards, librdkafka's debug log, json" json "$tmp/b2.log" log progress summary
grep -q '^{"type":"log",[^}]*"level":"debug","component":"kafka","msg":"rdkafka#consumer-[0-9]*: FETCH: ' "$tmp/b2.log" ||
  fail "librdkafka's debug lines are not the log's: $(grep -v progress "$tmp/b2.log" | head -3)"

# ---- text: a time and a level on every line
bounded b3 --progress-every 100ms --threads 2 --output "$tmp/b3.jsonl" 2>"$tmp/b3.log" ||
  fail "bounded run, text: $(tail -3 "$tmp/b3.log")"
check "bounded run, text" text "$tmp/b3.log" progress summary

# ---- a terminal: the end offsets' share, on one line redrawn, erased before
# every other line (librdkafka's debug lines, written amid it) and drawn again
python3 "$lines" pty "$tmp/tty.out" "$bin" --log-level debug run -X debug=fetch --until-end --now-ms "$now" \
  --brokers "$brokers" --topic "$id.events" --group b4 --threads 2 --output "$tmp/b4.jsonl" ||
  fail "bounded run on a terminal: exit $?"
check "bounded run on a terminal" tty "$tmp/tty.out" log summary "(status)"
grep -qa $'\033\\[K\r\033\\[K[-0-9]*T[0-9:.]*Z debug kafka: ' "$tmp/tty.out" ||
  fail "no librdkafka line while the progress line was shown: $(head -c 400 "$tmp/tty.out" | od -c | head -8)"
grep -qaE $'\r[0-9.]+k? events  [0-9.]+[kM]? events/s  [0-9.]+% of [0-9.]+k? offsets  ([0-9]+:[0-9]{2}|-:--) left\033\\[K' "$tmp/tty.out" ||
  fail "no progress line of offsets drawn: $(head -c 300 "$tmp/tty.out" | od -c | head -5)"
cmp -s <(sort "$tmp/b3.jsonl") <(sort "$tmp/b4.jsonl") || fail "the terminal's run's records differ"

# ---- publishing, one engine; and again with the same group
bounded b1 --log-format json --progress-every 100ms --threads 1 --publish --topic-prefix "$id.b1" \
  --output "$tmp/b1.jsonl" 2>"$tmp/b1.log" || fail "bounded run: $(tail -3 "$tmp/b1.log")"
check "bounded run, one engine, json" json "$tmp/b1.log" progress summary
grep -q '^{"type":"progress",.*"percent":[0-9.]*' "$tmp/b1.log" ||
  fail "no share of the end offsets in the progress events: $(grep progress "$tmp/b1.log" | head -2)"
# "already published": a message of the log
bounded b1 --log-format json --publish --topic-prefix "$id.b1" --output "$tmp/b1.jsonl" 2>"$tmp/again.log" ||
  fail "again: $(cat "$tmp/again.log")"
check "bounded run again, json" json "$tmp/again.log" log summary
grep -q '"level":"info","component":"run","msg":"[^"]*already published' "$tmp/again.log" ||
  fail "again: not said as a message of the log: $(cat "$tmp/again.log")"

# ---- a stream, until SIGTERM: json, every line
"$bin" --log-format json --progress-every 200ms run --now-ms "$now" --brokers "$brokers" --topic "$id.events" \
  --group s --publish --topic-prefix "$id.s" --commit-every 500ms --provisional-every 1s --threads 2 \
  2>"$tmp/s.log" &
pid=$!
wait_for '"type":"commit".*"lag":0,' "$tmp/s.log" 90 || fail "the stream did not catch up: $(tail -3 "$tmp/s.log")"
sleep 1.5 # a progress event or two, perhaps a provisional revision
kill -TERM "$pid"
wait "$pid" || fail "SIGTERM did not end the stream cleanly: $(tail -3 "$tmp/s.log")"
check "stream, json" json "$tmp/s.log" assigned commit progress summary
grep -q '^{"type":"summary",[^}]*"level":"info",.*"status":0,"signal":"SIGTERM"}$' "$tmp/s.log" ||
  fail "the stream's summary: $(tail -1 "$tmp/s.log")"

echo "kafka logging: bounded runs and a stream write nothing on stderr but the logger's lines"
