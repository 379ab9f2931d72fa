#!/usr/bin/env bash
# The command line's contract: exit 0 ok, 1 runtime error, 2 usage or config
# error, and every error names the bad input.
set -uo pipefail
bin=$1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$bin" gen --events 2000 --seed 3 --output "$tmp/in.pb" 2>/dev/null || { echo "gen failed"; exit 1; }
failed=0
expect() { # status, stderr pattern, command...
  local want=$1 pat=$2; shift 2
  "$@" >"$tmp/out" 2>"$tmp/err"; local got=$?
  if [ "$got" != "$want" ] || ! grep -qE -- "$pat" "$tmp/err" "$tmp/out"; then
    echo "FAIL: $* -> exit $got (want $want), output:"; head -5 "$tmp/err" "$tmp/out"; failed=1
  fi
}
expect 0 "usage: replyrate run" "$bin" run --help
expect 0 "usage: replyrate gen" "$bin" gen --help
expect 0 "commands:" "$bin" help
expect 2 "unknown command 'frobnicate'" "$bin" frobnicate
expect 2 "--output, --output-dir or --publish is required" "$bin" run --input "$tmp/in.pb"
expect 2 "--input \(or --brokers and --topic\) is required" "$bin" run --output "$tmp/o.jsonl"
expect 0 "usage: replyrate load" "$bin" load --help
expect 2 "--input and --brokers/--topic exclude each other" "$bin" run --input "$tmp/in.pb" --brokers 127.0.0.1:1 --topic t --output "$tmp/o.jsonl"
expect 2 "--topic needs --brokers" "$bin" run --topic t --output "$tmp/o.jsonl"
expect 2 "--brokers needs --topic" "$bin" run --brokers 127.0.0.1:1 --output "$tmp/o.jsonl"
expect 2 "-X: expected key=value, got 'debug'" "$bin" run --brokers 127.0.0.1:1 --topic t -X debug --output "$tmp/o.jsonl"
expect 2 "--group, --publish, --from/--to and -X need --brokers and --topic" "$bin" run --input "$tmp/in.pb" -X a=b --output "$tmp/o.jsonl"
expect 2 "--from and --to go together" "$bin" run --brokers 127.0.0.1:1 --topic t --from 2026-11-22 --output "$tmp/o.jsonl"
expect 2 "--from is after --to" "$bin" run --brokers 127.0.0.1:1 --topic t --from 2026-11-23 --to 2026-11-22 --output "$tmp/o.jsonl"
expect 2 "--to: expected a date YYYY-MM-DD, got '2026-02-30'" "$bin" run --brokers 127.0.0.1:1 --topic t --from 2026-02-01 --to 2026-02-30 --output "$tmp/o.jsonl"
expect 2 "--lookback: '40d': at most 31d" "$bin" run --brokers 127.0.0.1:1 --topic t --lookback 40d --output "$tmp/o.jsonl"
expect 2 "--lookback needs --from and --to" "$bin" run --until-end --brokers 127.0.0.1:1 --topic t --lookback 2d --output "$tmp/o.jsonl"
expect 2 "streaming from a topic needs --publish" "$bin" run --brokers 127.0.0.1:1 --topic t --output "$tmp/o.jsonl"
expect 2 "--until-end and --from/--to exclude each other" "$bin" run --brokers 127.0.0.1:1 --topic t --until-end --from 2026-11-22 --to 2026-11-22 --output "$tmp/o.jsonl"
expect 2 "--commit-every and --provisional-every are for streaming" "$bin" run --brokers 127.0.0.1:1 --topic t --until-end --commit-every 1s --output "$tmp/o.jsonl"
expect 2 "--instance with --until-end or --from/--to shares the run among the instances of --group: it needs --publish" "$bin" run --brokers 127.0.0.1:1 --topic t --until-end --instance a --output "$tmp/o.jsonl"
expect 2 "--instance with --until-end or --from/--to publishes to topics only" "$bin" run --brokers 127.0.0.1:1 --topic t --from 2026-11-22 --to 2026-11-22 --instance a --publish --dead-letter "$tmp/d.jsonl"
expect 2 "--until-end, --instance, --commit-every and --provisional-every need --brokers and --topic" "$bin" run --input "$tmp/in.pb" --commit-every 1s --output "$tmp/o.jsonl"
expect 2 "--commit-every: '50ms': between 100ms and 5m" "$bin" run --brokers 127.0.0.1:1 --topic t --publish --commit-every 50ms
expect 2 "--provisional-every: '500ms': between 1s and 24h" "$bin" run --brokers 127.0.0.1:1 --topic t --publish --provisional-every 500ms
expect 2 "--provisional-every: 'soon':" "$bin" run --brokers 127.0.0.1:1 --topic t --publish --provisional-every soon
expect 2 "are for streaming" "$bin" run --brokers 127.0.0.1:1 --topic t --until-end --provisional-every 1h --output "$tmp/o.jsonl"
expect 0 "usage: replyrate demo" "$bin" demo --help
expect 0 "usage: replyrate export" "$bin" export --help
expect 2 "topic 'x': its name must end in .shop_day" "$bin" export --brokers 127.0.0.1:1 --topic x --output "$tmp/o.jsonl"
expect 2 "--output and --brokers/--topic exclude each other" "$bin" gen --events 10 --output "$tmp/a.pb" --brokers 127.0.0.1:1 --topic t
expect 2 "--topic is required" "$bin" load --input "$tmp/in.pb" --brokers 127.0.0.1:1
expect 2 "--partitions: expected 1..100000, got '0'" "$bin" load --input "$tmp/in.pb" --brokers 127.0.0.1:1 --topic t --partitions 0
# nothing listens on port 1: the run says it could not reach the cluster, naming the topic
expect 1 "topic 't': no metadata from the cluster" "$bin" run -q --until-end --brokers 127.0.0.1:1 --topic t --output "$tmp/o.jsonl"
expect 2 "o\.txt': unknown file extension" "$bin" run --input "$tmp/in.pb" --output "$tmp/o.txt"
expect 2 "unknown file extension" "$bin" run --input "$tmp/in.pb" --output "$tmp/o.jsonl" --late "$tmp/l.log"
expect 2 "unknown time zone \"Mars/Base\"" "$bin" run --input "$tmp/in.pb" --output "$tmp/o.jsonl" --timezone Mars/Base
expect 2 "--now-ms: not an integer: 'soon'" "$bin" run --input "$tmp/in.pb" --output "$tmp/o.jsonl" --now-ms soon
printf 'horizon = "1h";\nmetrics = ( { name = "x"; kind = "bogus"; } );\n' >"$tmp/bad.conf"
expect 2 "bad.conf:2: metric \"x\": unknown kind \"bogus\"" "$bin" run --input "$tmp/in.pb" --output "$tmp/o.jsonl" --config "$tmp/bad.conf"
expect 1 "$tmp/nope.pb" "$bin" run --input "$tmp/nope.pb" --output "$tmp/o.jsonl"
expect 1 "$tmp/no/such/dir" "$bin" run --input "$tmp/in.pb" --output "$tmp/no/such/dir/o.jsonl"
expect 0 '^\{"type":"summary","ts":"[^"]*","level":"info","component":"run","input":2000,' "$bin" run -q --input "$tmp/in.pb" --output "$tmp/o.jsonl"
expect 0 '^\{"type":"summary",.*"component":"run","input":2000,' "$bin" --log-format json run -q --input "$tmp/in.pb" --output "$tmp/o.jsonl"
expect 0 '"type":"summary"' "$bin" run --log-format json -q --input - --output - <"$tmp/in.pb"
expect 2 "--threads: expected an integer in 1\.\.1024, got '0'" "$bin" run --threads 0 --input "$tmp/in.pb" --output "$tmp/o.jsonl"
expect 2 "--threads: expected an integer" "$bin" run --threads many --input "$tmp/in.pb" --output "$tmp/o.jsonl"
expect 0 '^\{"type":"summary",.*"input":4000,' "$bin" run -q --threads 8 --input "$tmp/in.pb" --input "$tmp/in.pb" --output "$tmp/o.jsonl"
expect 2 "--output $tmp/a.pb given twice" "$bin" gen --events 10 --output "$tmp/a.pb" --output "$tmp/a.pb"
expect 2 "stdout cannot be one of several partitions" "$bin" gen --events 10 --output "$tmp/a.pb" --output -
expect 0 '^\{"type":"gen_summary",.*"events":1000,.*"partitions":2,"expect":null\}$' "$bin" gen --events 1000 --output "$tmp/a.pb" --output "$tmp/b.pb.zst"
# logging: global options, before or after the command; a warning as a text or JSON line
expect 2 "--log-level: expected error, warn, info or debug, got 'loud'" "$bin" --log-level loud help
expect 2 "--log-format: expected text or json, got 'xml'" "$bin" run --log-format=xml --input "$tmp/in.pb" --output "$tmp/o.jsonl"
head -c 30000 "$tmp/in.pb" >"$tmp/cut.pb"; printf '\377\377\377\377\017' >>"$tmp/cut.pb"; tail -c 20000 "$tmp/in.pb" >>"$tmp/cut.pb"
expect 3 '^\{"type":"log","ts":"[^"]*","level":"warn","component":"run","msg":".*cut\.pb: the framing breaks at byte' "$bin" --log-format json run -q --input "$tmp/cut.pb" --output "$tmp/o.jsonl"
expect 3 '^[-0-9T:.]*Z warn run: .*cut\.pb: the framing breaks at byte' "$bin" run -q --input "$tmp/cut.pb" --output "$tmp/o.jsonl"
"$bin" run -q --log-level error --input "$tmp/cut.pb" --output "$tmp/o.jsonl" 2>"$tmp/err"
if grep -q "warn" "$tmp/err" || ! grep -q '^{"type":"summary",.*"level":"error",.*"status":3,"reason":"incomplete_input"}$' "$tmp/err"; then
  echo "FAIL: --log-level error still warns, or no summary:"; cat "$tmp/err"; failed=1
fi
# --version names the libraries it was built with
expect 0 '^replyrate [0-9.]+ \(librdkafka [0-9.]+, zstd [0-9.]+, protobuf-c [0-9.]+, libconfig [0-9.]+\)$' "$bin" --version
# config: print-default writes deploy/replyrate.conf as built; check loads it (and its
# time zone), names its metrics and the metric-set version the run's records carry
expect 0 "usage: replyrate config check" "$bin" config --help
expect 2 "expected check FILE\.\.\. or print-default" "$bin" config
"$bin" config print-default >"$tmp/default.conf" &&
  cmp -s "$tmp/default.conf" "$(dirname "$0")/../../deploy/replyrate.conf" ||
  { echo "FAIL: config print-default is not deploy/replyrate.conf"; failed=1; }
expect 0 "default\.conf: ok, metric-set version m[0-9]+-[0-9a-f]+" "$bin" config check "$tmp/default.conf"
expect 0 "tmall_response_time +response_time +window 00:00-24:00 reply effective excludes internal spam" "$bin" config check "$tmp/default.conf"
want=$(grep -o 'metric-set version [^ ]*' "$tmp/out" | cut -d' ' -f3)
"$bin" run -q --input "$tmp/in.pb" --output "$tmp/v.jsonl" --config "$tmp/default.conf" 2>/dev/null
grep -q "\"version\":\"$want\"" "$tmp/v.jsonl" ||
  { echo "FAIL: config check's metric-set version '$want' is not the run's"; failed=1; }
expect 2 "error config: .*bad\.conf:2: metric \"x\": unknown kind \"bogus\"" "$bin" config check "$tmp/default.conf" "$tmp/bad.conf"
printf 'timezone = "Mars/Base";\n' >"$tmp/mars.conf"
expect 2 "mars\.conf: unknown time zone \"Mars/Base\"" "$bin" config check "$tmp/mars.conf"
expect 2 "nope\.conf: cannot read" "$bin" config check "$tmp/nope.conf"
# librdkafka properties from a file (-F) and ${NAME} from the environment: they reach
# librdkafka (its own range check, or its configuration dump), in command-line order
printf '# a comment\n\n  message.max.bytes = ${RR_T_BYTES}  \nclient.id=cli-test\n' >"$tmp/k.props"
RR_T_BYTES=5 expect 2 "Kafka property message.max.bytes=5: .*outside allowed range" "$bin" run --brokers 127.0.0.1:1 --topic t --until-end -F "$tmp/k.props" --output "$tmp/o.jsonl"
expect 2 "-F $tmp/k.props:3: message.max.bytes: environment variable RR_T_BYTES is not set" env -u RR_T_BYTES "$bin" load --brokers 127.0.0.1:1 --topic t --input "$tmp/in.pb" --kafka-config "$tmp/k.props"
expect 2 "-X message.max.bytes: environment variable RR_T_NONE is not set" "$bin" export --brokers 127.0.0.1:1 --topic x.shop_day --output "$tmp/o.jsonl" -X 'message.max.bytes=${RR_T_NONE}'
printf 'no equals sign\n' >"$tmp/bad.props"
expect 2 "-F $tmp/bad.props:1: expected key=value, got 'no equals sign'" "$bin" gen --events 10 --brokers 127.0.0.1:1 --topic t -F "$tmp/bad.props"
expect 2 "-F $tmp/none.props: No such file" "$bin" run --brokers 127.0.0.1:1 --topic t --until-end -F "$tmp/none.props" --output "$tmp/o.jsonl"
# a secret from the environment through -F: not on the command line, given to librdkafka
# (which says so, redacted), and a later -X overriding the file
printf 'security.protocol=sasl_plaintext\nsasl.mechanisms=PLAIN\nsasl.username=u\nsasl.password=${RR_T_SECRET}\nmessage.max.bytes=5\n' >"$tmp/sasl.props"
RR_T_SECRET=s3cret-value-42 "$bin" --log-level debug run -q --brokers 127.0.0.1:1 --topic t --until-end \
  -F "$tmp/sasl.props" -X message.max.bytes=200000 -X debug=conf --output "$tmp/o.jsonl" 2>"$tmp/sasl.err" &
pid=$!
for _ in $(seq 100); do grep -q "sasl.password = " "$tmp/sasl.err" && break; sleep 0.1; done
cmdline=$(tr '\0' ' ' </proc/$pid/cmdline 2>/dev/null)
kill $pid 2>/dev/null; wait $pid 2>/dev/null
if [ -z "$cmdline" ] || echo "$cmdline" | grep -q s3cret; then
  echo "FAIL: the secret is on the command line, or the run ended too soon: '$cmdline'"; failed=1
fi
grep -q "sasl.password = \[redacted\]" "$tmp/sasl.err" && grep -q "message.max.bytes = 200000" "$tmp/sasl.err" &&
  grep -q "sasl_plaintext://127.0.0.1:1" "$tmp/sasl.err" && ! grep -q s3cret "$tmp/sasl.err" ||
  { echo "FAIL: -F's properties did not reach librdkafka as expected:"; grep -i "conf\|sasl" "$tmp/sasl.err" | head -5; failed=1; }
[ "$failed" = 0 ] && echo "cli: all exit statuses and messages as documented"
exit $failed
