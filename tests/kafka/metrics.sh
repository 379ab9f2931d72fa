#!/usr/bin/env bash
# --metrics-addr on the real broker (issue 17): scraped during a bounded
# publishing run and during a stream, the metrics pass `promtool check
# metrics`; their events by outcome equal the summary (the bounded run's
# --metrics-file; the stream's last scrape before SIGTERM), their records
# published equal each result topic's, transactions and checkpoints are
# counted. A restarted stream restores its partitions from the changelog:
# /ready is 503 until every partition is restored (all "restored" lines are
# out when it first says ready) and the restore is counted.
source "$(dirname "$0")/lib.bash" metrics "$1"
src=${RR_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
prom="python3 $src/tests/lib/prom.py"
command -v promtool >/dev/null || fail "promtool is not installed (deploy/setup.sh --deps installs prometheus)"
source "$src/tests/lib/metrics.bash"
# every result topic's record count against replyrate_records_published_total
published_equal() { # metrics file, prefix
  local t n m
  for t in shop_day agent_day violations alerts late dead_letter; do
    "$bin" --log-format json export --brokers "$brokers" --topic "$id.$2.$t" --output "$tmp/x.jsonl" 2>"$tmp/export.log" ||
      fail "export $2.$t: $(cat "$tmp/export.log")"
    n=$(wc -l <"$tmp/x.jsonl")
    m=$($prom sum "$1" replyrate_records_published_total output="$id.$2.$t")
    [ "$n" = "$m" ] || fail "$2.$t: $n records, metrics say $m"
  done
}

"$bin" --log-format json gen --events 1000000 --seed 83 --duplicate-rate 0.01 --disorder-rate 0.02 --late-rate 0.002 \
  --invalid-rate 0.002 --brokers "$brokers" --topic "$id.events" --partitions 4 2>"$tmp/gen.log" ||
  fail "gen: $(cat "$tmp/gen.log")"

# 1. a bounded run, scraped while it runs
"$bin" --log-format json run --until-end --now-ms "$now" --brokers "$brokers" --topic "$id.events" --group "$id.b" \
  --publish --topic-prefix "$id.b" --threads 1 --metrics-addr 127.0.0.1:0 \
  --metrics-file "$tmp/b-end.prom" 2>"$tmp/b.log" &
pid=$!
port=$(port_of "$tmp/b.log")
scrapes=0
while kill -0 "$pid" 2>/dev/null; do # quick scrapes while it runs, checked after
  curl -sf "http://127.0.0.1:$port/metrics" >"$tmp/b.$scrapes.prom" 2>/dev/null && scrapes=$((scrapes + 1))
  sleep 0.05
done
wait "$pid" || fail "bounded run: $(tail -3 "$tmp/b.log")"
ready=0 last=0
for i in $(seq 0 $((scrapes - 1))); do
  promtool check metrics <"$tmp/b.$i.prom" || fail "promtool: the bounded run's metrics"
  n=$($prom sum "$tmp/b.$i.prom" replyrate_events_total)
  [ "$n" -ge "$last" ] || fail "events_total went down: $last, then $n"
  last=$n
  [ "$($prom sum "$tmp/b.$i.prom" replyrate_ready)" = 1 ] && ready=$((ready + 1))
done
[ "$ready" -gt 0 ] || fail "no scrape saw the bounded run ready ($scrapes scrapes)"
promtool check metrics <"$tmp/b-end.prom" || fail "promtool: the bounded run's --metrics-file"
$prom summary "$tmp/b-end.prom" "$tmp/b.log" || fail "bounded run: metrics and summary differ"
[ "$last" -le "$($prom sum "$tmp/b-end.prom" replyrate_events_total)" ] || fail "a scrape counted more than the end"
[ "$($prom sum "$tmp/b-end.prom" replyrate_transactions_total result=committed)" = 1 ] ||
  fail "the bounded run's transaction is not counted once"
[ "$($prom sum "$tmp/b-end.prom" replyrate_consumer_lag_messages)" = 0 ] || fail "lag left at the end"
published_equal "$tmp/b-end.prom" b

# 2. a stream, scraped once it has read everything, then stopped
stream() { # log [port: polled from before the run listens]
  "$bin" --log-format json run --now-ms "$now" --brokers "$brokers" --topic "$id.events" --group "$id.s" --publish \
    --topic-prefix "$id.s" --commit-every 500ms --metrics-addr "127.0.0.1:${2:-0}" 2>"$1" &
  pid=$!
  [ -n "${2:-}" ] && port=$2 || port=$(port_of "$1")
}
stream "$tmp/s1.log"
total=$(summary_field "$tmp/b.log" input)
for _ in $(seq 1 600); do
  curl -sf "http://127.0.0.1:$port/metrics" >"$tmp/s.prom" 2>/dev/null &&
    [ "$($prom sum "$tmp/s.prom" replyrate_events_total)" = "$total" ] &&
    [ "$($prom sum "$tmp/s.prom" replyrate_consumer_lag_messages)" = 0 ] && break
  sleep 0.1
done
[ "$($prom sum "$tmp/s.prom" replyrate_events_total)" = "$total" ] || fail "the stream never counted all $total events"
sleep 1.5 # a commit after the last batch
curl -sf "http://127.0.0.1:$port/metrics" >"$tmp/s.prom"
promtool check metrics <"$tmp/s.prom" || fail "promtool: the stream's metrics"
[ "$(curl -s "http://127.0.0.1:$port/ready")" = ready ] || fail "stream /ready: $(curl -s "http://127.0.0.1:$port/ready")"
[ "$(curl -s "http://127.0.0.1:$port/health")" = ok ] || fail "stream /health"
kill -TERM "$pid"
wait "$pid" || fail "stream: $(tail -3 "$tmp/s1.log")"
$prom summary "$tmp/s.prom" "$tmp/s1.log" || fail "stream: metrics and summary differ"
[ "$($prom sum "$tmp/s.prom" replyrate_checkpoints_total)" -ge 4 ] || fail "stream: checkpoints not counted"
[ "$($prom sum "$tmp/s.prom" replyrate_transactions_total result=committed)" -ge 1 ] || fail "stream: no commit counted"
published_equal "$tmp/s.prom" s

# 3. the stream again: its four partitions come back from the changelog
# a port free now, so that /ready is asked from before the run listens: it
# must answer 503 (starting, joining, restoring) before its first 200
free=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
stream "$tmp/s2.log" "$free"
url=http://127.0.0.1:$port
first_ready=
not_ready=0
for _ in $(seq 1 3000); do
  code=$(curl -s -o "$tmp/ready.txt" -w '%{http_code}' "$url/ready" || true)
  if [ "$code" = 200 ]; then
    first_ready=$(grep -c '"type":"restored"' "$tmp/s2.log" || true)
    break
  fi
  [ "$code" = 503 ] && not_ready=$((not_ready + 1))
  sleep 0.01
done
[ -n "$first_ready" ] || fail "the restarted stream never became ready: $(tail -3 "$tmp/s2.log")"
[ "$not_ready" -gt 0 ] || fail "/ready never said 503 before the restore"
[ "$first_ready" = 4 ] || fail "/ready said ready with $first_ready of 4 partitions restored"
curl -sf "$url/metrics" >"$tmp/s2.prom"
[ "$($prom sum "$tmp/s2.prom" replyrate_restores_total)" = 4 ] || fail "restores not counted"
[ "$($prom sum "$tmp/s2.prom" replyrate_restore_bytes_total)" -gt 0 ] || fail "restore bytes not counted"
kill -TERM "$pid"
wait "$pid" || fail "restarted stream: $(tail -3 "$tmp/s2.log")"
# every stderr line of the stream in json mode is a JSON object
python3 -c 'import json,sys
for l in open(sys.argv[1]): json.loads(l)' "$tmp/s2.log" || fail "a stderr line of --log-format json is not JSON"
echo "kafka metrics: $scrapes scrapes of a bounded run, a stream and its restart (503 $not_ready times before the restore); counts equal summaries and topics"
