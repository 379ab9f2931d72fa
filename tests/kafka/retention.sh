#!/usr/bin/env bash
# Topic retention of `load` and `gen --brokers` (issue 13): they stamp records
# with their event time, so a topic with the broker's default retention.ms
# (7 days) would delete replayed history minutes after it is written. Topics
# they create keep everything (retention.ms=-1, retention.bytes=-1); into an
# existing topic whose retention.ms or retention.bytes would delete what they
# write, each warns, naming the topic and the setting; into one that keeps
# everything, neither does.
source "$(dirname "$0")/lib.bash" retention "$1"

configs() { # topic: its retention settings, as the broker describes them
  kafka_tool kafka.admin.ConfigCommand --bootstrap-server "$brokers" --describe --all \
    --entity-type topics --entity-name "$1" | grep -o ' retention\.\(ms\|bytes\)=[-0-9]*' | sort | tr -d ' ' | tr '\n' ' '
}
create() { # topic, extra TopicCommand args...
  local t=$1; shift
  kafka_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$brokers" --create --topic "$t" \
    --partitions 2 --replication-factor 1 "$@" >/dev/null || fail "create $t: $(cat "$tmp/tool.log")"
}
# Two past days (a week and more before the broker's clock).
"$bin" --log-format json gen --events 20000 --days 2 --start-day 2026-01-10 --seed 3 --output "$tmp/old.pb" 2>/dev/null

"$bin" --log-format json gen --events 20000 --days 2 --start-day 2026-01-10 --seed 3 --brokers "$brokers" --topic "$id.gen" \
  2>"$tmp/gen.log" || fail "gen: $(cat "$tmp/gen.log")"
"$bin" --log-format json load -q --input "$tmp/old.pb" --brokers "$brokers" --topic "$id.load" 2>"$tmp/load.log" ||
  fail "load: $(cat "$tmp/load.log")"
for t in gen load; do
  grep -q '"level":"warn".*retention' "$tmp/$t.log" && fail "$t into a topic it created warned: $(cat "$tmp/$t.log")"
  c=$(configs "$id.$t")
  [ "$c" = "retention.bytes=-1 retention.ms=-1 " ] || fail "$t created $id.$t with $c"
done

# The broker's defaults: 7 days.
create "$id.week"
"$bin" --log-format json gen --events 20000 --days 2 --start-day 2026-01-10 --seed 3 --brokers "$brokers" --topic "$id.week" \
  2>"$tmp/week.gen.log" || fail "gen: $(cat "$tmp/week.gen.log")"
"$bin" --log-format json load -q --input "$tmp/old.pb" --brokers "$brokers" --topic "$id.week" 2>"$tmp/week.load.log" ||
  fail "load: $(cat "$tmp/week.load.log")"
for t in gen load; do
  [ "$(grep -c "\"level\":\"warn\",\"component\":\"$t\",\"msg\":\"topic '$id.week' has retention.ms=604800000: the broker deletes records stamped before .* stamped 2026-01-" "$tmp/week.$t.log")" = 1 ] ||
    fail "$t into a 7-day topic: not one warning: $(cat "$tmp/week.$t.log")"
done
create "$id.small" --config retention.bytes=100000
"$bin" --log-format json load -q --input "$tmp/old.pb" --brokers "$brokers" --topic "$id.small" 2>"$tmp/small.log" ||
  fail "load: $(cat "$tmp/small.log")"
grep -q "\"level\":\"warn\",\"component\":\"load\",\"msg\":\"topic '$id.small' has retention.ms=604800000" "$tmp/small.log" ||
  fail "load into a small topic: $(cat "$tmp/small.log")"
# ... and a topic kept forever but small: its size limit
create "$id.bytes" --config retention.bytes=100000 --config retention.ms=-1
"$bin" --log-format json load -q --input "$tmp/old.pb" --brokers "$brokers" --topic "$id.bytes" 2>"$tmp/bytes.log" ||
  fail "load: $(cat "$tmp/bytes.log")"
grep -q "\"level\":\"warn\",\"component\":\"load\",\"msg\":\"topic '$id.bytes' has retention.bytes=100000: this writes more than that to partition [01]" "$tmp/bytes.log" ||
  fail "load into a 100 kB topic: $(cat "$tmp/bytes.log")"
# Loading again into the topic gen created: kept forever, no warning.
"$bin" --log-format json load -q --input "$tmp/old.pb" --brokers "$brokers" --topic "$id.gen" 2>"$tmp/again.log" ||
  fail "load: $(cat "$tmp/again.log")"
grep -q '"level":"warn".*retention' "$tmp/again.log" && fail "load into a topic kept forever warned: $(cat "$tmp/again.log")"
echo "kafka retention: load and gen create topics with retention.ms=-1 retention.bytes=-1; warn of a 7-day and a 100 kB topic, not of one kept forever"
