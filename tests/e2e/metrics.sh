#!/usr/bin/env bash
# --metrics-addr and --metrics-file on a file run (issue 17): while the run
# waits on its input (a FIFO we hold open), /ready says ready, /health ok,
# /metrics passes `promtool check metrics` and counts what was read so far;
# the file written at the end passes too and its events by outcome and
# records published equal the summary and the output. Bad addresses, a port
# in use, unknown paths and methods are refused by name.
set -euo pipefail
bin=$1
src=${RR_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
prom="python3 $src/tests/lib/prom.py"
tmp=$(mktemp -d)
trap 'exec 7>&- 2>/dev/null; kill -9 $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
if ! command -v promtool >/dev/null; then
  [ -n "${CI:-}" ] && fail "promtool is not installed (deploy/setup.sh --deps installs prometheus)"
  echo "skipped: promtool is not installed (deploy/setup.sh --deps)"; exit 77
fi
source "$src/tests/lib/metrics.bash"

"$bin" --log-format json gen --events 200000 --seed 5 --duplicate-rate 0.01 --late-rate 0.01 --invalid-rate 0.01 \
  --output "$tmp/in.pb" 2>/dev/null
size=$(stat -c %s "$tmp/in.pb")
mkfifo "$tmp/fifo"
"$bin" --log-format json run -i "$tmp/fifo" -o "$tmp/out.jsonl" --metrics-addr 127.0.0.1:0 \
  --metrics-file "$tmp/end.prom" 2>"$tmp/run.log" &
pid=$!
exec 7>"$tmp/fifo"
head -c $((size / 2)) "$tmp/in.pb" >&7
port=$(port_of "$tmp/run.log")
url=http://127.0.0.1:$port
# half the input is in: the run waits for the rest
read_so_far=0
for _ in $(seq 1 100); do
  curl -sf "$url/metrics" >"$tmp/mid.prom" || fail "GET /metrics failed"
  read_so_far=$($prom sum "$tmp/mid.prom" replyrate_events_total)
  [ "$read_so_far" -gt 0 ] && break
  sleep 0.1
done
[ "$read_so_far" -gt 0 ] || fail "no event counted while the run reads"
promtool check metrics <"$tmp/mid.prom" || fail "promtool: the served metrics"
[ "$(curl -s "$url/ready")" = "ready" ] || fail "/ready while reading: $(curl -s "$url/ready")"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$url/ready")" = 200 ] || fail "/ready is not 200"
[ "$(curl -s "$url/health")" = "ok" ] || fail "/health: $(curl -s "$url/health")"
[ "$($prom sum "$tmp/mid.prom" replyrate_ready)" = 1 ] || fail "replyrate_ready is not 1 while reading"
code=$(curl -s -o /dev/null -w '%{http_code}' "$url/nothing")
[ "$code" = 404 ] || fail "an unknown path answered $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$url/metrics")
[ "$code" = 405 ] || fail "POST answered $code"
# a second run cannot take the port
if "$bin" --log-format json run -i "$tmp/in.pb" -o "$tmp/other.jsonl" --metrics-addr "127.0.0.1:$port" 2>"$tmp/busy.log"; then
  fail "a second run served on a port in use"
fi
grep -q "metrics-addr.*$port" "$tmp/busy.log" || fail "the port in use is not named: $(cat "$tmp/busy.log")"
[ -e "$tmp/other.jsonl" ] && fail "a run that could not serve its metrics wrote results"
tail -c +$((size / 2 + 1)) "$tmp/in.pb" >&7
exec 7>&-
wait "$pid" || fail "the run failed: $(tail -3 "$tmp/run.log")"

promtool check metrics <"$tmp/end.prom" || fail "promtool: --metrics-file"
$prom summary "$tmp/end.prom" "$tmp/run.log" || fail "--metrics-file and the summary differ"
final=$($prom sum "$tmp/end.prom" replyrate_events_total)
[ "$read_so_far" -le "$final" ] || fail "counted $read_so_far mid-run, $final at the end"
published=$($prom sum "$tmp/end.prom" replyrate_records_published_total output="$tmp/out.jsonl")
[ "$published" = "$(wc -l <"$tmp/out.jsonl")" ] ||
  fail "records published: metrics $published, output $(wc -l <"$tmp/out.jsonl")"
[ "$($prom sum "$tmp/end.prom" replyrate_ready)" = 0 ] || fail "replyrate_ready is not 0 after the end"

for bad in nohost 127.0.0.1:http 127.0.0.1:70000 "no.such.host.invalid:9"; do
  if "$bin" --log-format json run -i "$tmp/in.pb" -o "$tmp/bad.jsonl" --metrics-addr "$bad" 2>"$tmp/bad.log"; then
    fail "--metrics-addr $bad was taken"
  fi
  grep -q -- "--metrics-addr" "$tmp/bad.log" || fail "--metrics-addr $bad: not named: $(cat "$tmp/bad.log")"
done
echo "metrics: $read_so_far events counted mid-run, $final at the end, equal to the summary; promtool passes both"
