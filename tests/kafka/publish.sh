#!/usr/bin/env bash
# `replyrate run --publish` writes every record to the result topics in one
# transaction; `replyrate export` reads them back (read_committed) into the same
# file forms. The export equals the run's own --output, --late and --dead-letter
# files record for record, in every form; a second run with the same group
# publishes nothing (its offsets are committed), one with another group publishes
# the same records again.
source "$(dirname "$0")/lib.bash" publish "$1"

"$bin" --log-format json gen --events 80000 --seed 41 --days 2 --duplicate-rate 0.02 --disorder-rate 0.05 \
  --late-rate 0.005 --invalid-rate 0.005 --garbage-rate 0.001 --output "$tmp/in.pb" 2>/dev/null
"$bin" --log-format json load -q --brokers "$brokers" --topic "$id.events" --partitions 4 --input "$tmp/in.pb" 2>"$tmp/load.log" ||
  fail "load: $(cat "$tmp/load.log")"

run() { # group, extra args...
  local g=$1; shift
  "$bin" --log-format json run -q --until-end --now-ms "$now" --brokers "$brokers" --topic "$id.events" --group "$g" \
    --publish --topic-prefix "$id.out" "$@"
}
run g1 --output "$tmp/run.jsonl" --output "$tmp/run.csv" --late "$tmp/run.late.jsonl" \
  --dead-letter "$tmp/run.dead.jsonl" 2>"$tmp/run.log" || fail "run: $(cat "$tmp/run.log")"
results=(--topic "$id.out.shop_day" --topic "$id.out.agent_day" --topic "$id.out.violations" --topic "$id.out.alerts")
export_to() { # output, topics...
  local out=$1; shift
  "$bin" --log-format json export --brokers "$brokers" "$@" --output "$out" 2>"$tmp/export.log" || fail "export: $(cat "$tmp/export.log")"
}
export_to "$tmp/exp.jsonl" "${results[@]}"
export_to "$tmp/exp.csv" "${results[@]}"
export_to "$tmp/exp.late.jsonl" --topic "$id.out.late"
export_to "$tmp/exp.dead.jsonl" --topic "$id.out.dead_letter"

same() { # a b what
  cmp -s <(sort "$1") <(sort "$2") || fail "$3: $(sort "$1" | wc -l) records from the run, $(sort "$2" | wc -l) exported; first difference: $(diff <(sort "$1") <(sort "$2") | head -3)"
}
same "$tmp/run.jsonl" "$tmp/exp.jsonl" "results (JSON Lines)"
same "$tmp/run.csv" "$tmp/exp.csv" "results (CSV)"
same "$tmp/run.late.jsonl" "$tmp/exp.late.jsonl" "late events"
same "$tmp/run.dead.jsonl" "$tmp/exp.dead.jsonl" "dead letters"
[ "$(wc -l <"$tmp/run.jsonl")" -gt 1000 ] || fail "too few records to mean anything: $(wc -l <"$tmp/run.jsonl")"
[ -s "$tmp/run.late.jsonl" ] && [ -s "$tmp/run.dead.jsonl" ] || fail "no late events or dead letters to compare"

# The same group again: everything is committed, nothing is published twice.
run g1 2>"$tmp/again.log" || fail "second run: $(cat "$tmp/again.log")"
grep -q "already published" "$tmp/again.log" || fail "second run did not say it had nothing to do: $(cat "$tmp/again.log")"
export_to "$tmp/exp2.jsonl" "${results[@]}"
same "$tmp/run.jsonl" "$tmp/exp2.jsonl" "after a second run with the same group"

# Another group publishes the same records again (compacted topics keep one per key).
run g2 2>"$tmp/g2.log" || fail "run as another group: $(cat "$tmp/g2.log")"
export_to "$tmp/exp3.jsonl" "${results[@]}"
cmp -s <(sort "$tmp/run.jsonl" "$tmp/run.jsonl") <(sort "$tmp/exp3.jsonl") ||
  fail "another group's run did not publish the same records once more"

echo "kafka publish: exported topics equal the run's files ($(wc -l <"$tmp/run.jsonl") results); a rerun by the same group publishes nothing"
