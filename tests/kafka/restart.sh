#!/usr/bin/env bash
# The broker stops in the middle of a publishing bounded run and comes back
# (issue 3): replyrate waits, resumes and ends with exit 0, and what
# read_committed readers see equals an uninterrupted run's, exactly once.
# Needs the broker this test may stop: RR_KAFKA_PORT and RR_KAFKA_STATE as the
# ctest fixture sets them (deploy/kafka/broker.sh).
source "$(dirname "$0")/lib.bash" restart "$1"
: "${RR_KAFKA_STATE:?"RR_KAFKA_STATE is not set: this test stops and starts the fixture's broker"}"
src=${RR_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
broker="$src/deploy/kafka/broker.sh"
trap '"$broker" start >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT # leave the broker up for the next test

"$bin" --log-format json gen --events 1500000 --seed 61 --duplicate-rate 0.01 --disorder-rate 0.02 --late-rate 0.001 \
  --invalid-rate 0.001 --brokers "$brokers" --topic "$id.events" --partitions 4 2>"$tmp/gen.log" ||
  fail "gen: $(cat "$tmp/gen.log")"
run() { # prefix (also the group)
  "$bin" --log-format json run -q --until-end --now-ms "$now" --brokers "$brokers" --topic "$id.events" --group "$1" \
    --publish --topic-prefix "$id.$1" -X message.timeout.ms=600000
}

t0=$(date +%s%N)
run ref 2>"$tmp/ref.log" || fail "uninterrupted run: $(cat "$tmp/ref.log")"
ref_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
export_all ref "$tmp/ref"

run bounce 2>"$tmp/bounce.log" &
pid=$!
sleep "$(python3 -c "print('%.3f' % ($ref_ms / 3000))")" # a third of the way through
kill -0 "$pid" 2>/dev/null || fail "the run ended before the broker could be stopped (${ref_ms} ms); make the input larger"
"$broker" stop >/dev/null 2>&1
sleep 3
kill -0 "$pid" 2>/dev/null || fail "the run ended while the broker was down: $(tail -3 "$tmp/bounce.log")"
"$broker" start >/dev/null 2>&1 || fail "the broker did not come back"
wait "$pid" || fail "the run did not survive the broker's restart: $(tail -5 "$tmp/bounce.log")"
export_all bounce "$tmp/bounce"

same_exports "$tmp/ref" "$tmp/bounce" "uninterrupted / across the broker's restart"
echo "kafka restart: the broker stopped for 3 s a third into a ${ref_ms} ms run; the run waited, and published exactly once"
