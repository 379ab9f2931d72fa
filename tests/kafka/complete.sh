#!/usr/bin/env bash
# Completeness of bounded runs (issue 13): records a run needs that were
# deleted (DeleteRecords here, as retention does) make it exit 3 naming the
# partition and the offsets it lacks, publishing nothing; --allow-incomplete
# runs without them and the summary counts them (missing_records), the input
# and the missing adding up to the topic's records.
#  - --until-end: any record below a partition's log start offset;
#  - --from/--to: only when a partition's oldest record left is at or after the
#    lookback start (records deleted from before it are not the range's);
#  - during the run: a partition whose next offset is deleted under the run
#    (the run is frozen with SIGSTOP while the records go) is reported the same
#    way, never skipped silently; with --allow-incomplete the run goes on from
#    the new log start, its partitions on two shards; a topic deleted under
#    the run too.
source "$(dirname "$0")/lib.bash" complete "$1"
ev=$id.events

"$bin" --log-format json gen --events 300000 --days 3 --start-day 2026-11-20 --seed 81 --duplicate-rate 0.01 \
  --brokers "$brokers" --topic "$ev" --partitions 3 2>"$tmp/gen.log" || fail "gen: $(cat "$tmp/gen.log")"
total=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().splitlines()[-1])["events"])' "$tmp/gen.log")

run() { # log, args...
  local log=$1; shift
  local rc=0
  "$bin" --log-format json run -q --now-ms "$now" --brokers "$brokers" --output "$tmp/out.jsonl" "$@" 2>"$log" || rc=$?
  echo "$rc"
}
expect() { # log, status, missing_records, what
  local s m
  s=$(summary_field "$1" status); m=$(summary_field "$1" missing_records)
  [ "$s" = "$2" ] && [ "$m" = "$3" ] ||
    fail "$4: summary status $s missing_records $m, not $2 and $3: $(grep -v '^%' "$1" | tail -3)"
}

[ "$(run "$tmp/a.log" --topic "$ev" --until-end)" = 0 ] || fail "untouched topic: $(cat "$tmp/a.log")"
expect "$tmp/a.log" 0 0 "untouched topic"
[ "$(summary_field "$tmp/a.log" input)" = "$total" ] || fail "untouched topic: input $(summary_field "$tmp/a.log" input) of $total"

# The head of partition 1 goes (day 1's first hours).
delete_records "$ev" 1 5000
rc=$(run "$tmp/b.log" --topic "$ev" --until-end --publish --topic-prefix "$id.b" --group b)
[ "$rc" = 3 ] || fail "--until-end, records deleted: status $rc, not 3: $(cat "$tmp/b.log")"
grep -q "incomplete input: $ev\[1\]: offsets 0\.\.4999 were deleted before the run" "$tmp/b.log" ||
  fail "--until-end did not name the partition and its offsets: $(cat "$tmp/b.log")"
expect "$tmp/b.log" 3 5000 "--until-end, records deleted"
[ "$(summary_field "$tmp/b.log" reason)" = incomplete_input ] || fail "no reason in the summary: $(cat "$tmp/b.log")"
"$bin" --log-format json export --brokers "$brokers" --topic "$id.b.shop_day" --topic "$id.b.violations" \
  --output "$tmp/b.export.jsonl" 2>"$tmp/export.log" || fail "export: $(cat "$tmp/export.log")"
[ ! -s "$tmp/b.export.jsonl" ] || fail "an incomplete run published $(wc -l <"$tmp/b.export.jsonl") records"

rc=$(run "$tmp/c.log" --topic "$ev" --until-end --allow-incomplete --publish --topic-prefix "$id.c" --group c)
[ "$rc" = 0 ] || fail "--until-end --allow-incomplete: status $rc: $(cat "$tmp/c.log")"
expect "$tmp/c.log" 0 5000 "--until-end --allow-incomplete"
# published, but no day as final, in the file or the topics: its input is known incomplete
"$bin" --log-format json export --brokers "$brokers" --topic "$id.c.shop_day" --topic "$id.c.agent_day" \
  --output "$tmp/c.export.jsonl" 2>"$tmp/export.log" || fail "export: $(cat "$tmp/export.log")"
[ -s "$tmp/c.export.jsonl" ] || fail "--allow-incomplete published nothing"
! grep -q '"final":true' "$tmp/c.export.jsonl" "$tmp/out.jsonl" ||
  fail "--allow-incomplete published a day as final from incomplete input"
[ "$(summary_field "$tmp/c.log" input)" = $((total - 5000)) ] || fail "--allow-incomplete: input $(summary_field "$tmp/c.log" input)"
grep -q "$ev\[1\]: offsets 0\.\.4999 were deleted before the run.*going on without them" "$tmp/c.log" ||
  fail "--allow-incomplete did not say what is missing: $(cat "$tmp/c.log")"

# A day range of day 3 reads from day 2 (the lookback): what day 1 lost is not its.
range=(--topic "$ev" --from 2026-11-22 --to 2026-11-22)
[ "$(run "$tmp/d.log" "${range[@]}")" = 0 ] || fail "range, day 1 deleted: $(cat "$tmp/d.log")"
expect "$tmp/d.log" 0 0 "range, day 1 deleted"
# Partition 2 loses its first half: into day 2, after the lookback start.
half=$(( $(end_offset "$ev" 2) / 2 ))
delete_records "$ev" 2 "$half"
rc=$(run "$tmp/e.log" "${range[@]}")
[ "$rc" = 3 ] || fail "range, day 2 deleted: status $rc, not 3: $(cat "$tmp/e.log")"
grep -q "incomplete input: $ev\[2\]: offsets 0\.\.$((half - 1)) were deleted before the run, and its oldest record left is at or after the lookback start 2026-11-20T16:00:00Z" "$tmp/e.log" ||
  fail "the range run did not name the partition and the lookback start: $(cat "$tmp/e.log")"
expect "$tmp/e.log" 3 "$half" "range, day 2 deleted"
rc=$(run "$tmp/f.log" "${range[@]}" --allow-incomplete)
[ "$rc" = 0 ] || fail "range --allow-incomplete: status $rc: $(cat "$tmp/f.log")"
expect "$tmp/f.log" 0 "$half" "range --allow-incomplete"

# Deleted during the run. Reading is slowed (lib.bash, slow_reader), the run
# frozen, the largest partition's records deleted up to near its end, the run
# thawed.
"$bin" --log-format json gen --events 60000 --seed 82 --brokers "$brokers" --topic "$id.slow" --partitions 2 2>"$tmp/gen2.log" ||
  fail "gen: $(cat "$tmp/gen2.log")"
total2=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().splitlines()[-1])["events"])' "$tmp/gen2.log")
e0=$(end_offset "$id.slow" 0); e1=$(end_offset "$id.slow" 1)
big=0; [ "$e1" -gt "$e0" ] && big=1
cut_at=$(( (big ? e1 : e0) - 1000 ))
under_run() { # log, offset to delete below, args...
  local log=$1 upto=$2; shift 2
  "$bin" --log-format json run -q --now-ms "$now" --brokers "$brokers" --topic "$id.slow" --until-end "${slow_reader[@]}" \
    --output "$tmp/slow.jsonl" "$@" 2>"$log" &
  local pid=$! rc=0
  sleep 2
  kill -STOP "$pid"
  delete_records "$id.slow" "$big" "$upto"
  kill -CONT "$pid"
  wait "$pid" || rc=$?
  echo "$rc"
}
rc=$(under_run "$tmp/g.log" "$cut_at" --threads 1 --publish --topic-prefix "$id.g" --group g)
[ "$rc" = 3 ] || fail "records deleted under the run: status $rc, not 3: $(grep -v '^%' "$tmp/g.log")"
grep -q "incomplete input: $id.slow\[$big\]: offsets [0-9]*\.\.$((cut_at - 1)) were deleted during the run" "$tmp/g.log" ||
  fail "records deleted under the run: not named: $(grep -v '^%' "$tmp/g.log")"
[ "$(summary_field "$tmp/g.log" status)" = 3 ] || fail "no status 3 in the summary: $(grep -v '^%' "$tmp/g.log")"
"$bin" --log-format json export --brokers "$brokers" --topic "$id.g.shop_day" --topic "$id.g.violations" \
  --output "$tmp/g.export.jsonl" 2>"$tmp/export.log" || fail "export: $(cat "$tmp/export.log")"
[ ! -s "$tmp/g.export.jsonl" ] || fail "a run that lost records under it published $(wc -l <"$tmp/g.export.jsonl")"

# Again on a fresh copy, --allow-incomplete, two shards: it goes on from the log start.
"$bin" --log-format json gen --events 60000 --seed 82 --brokers "$brokers" --topic "$id.slow2" --partitions 2 2>/dev/null ||
  fail "gen slow2"
"$bin" --log-format json run -q --now-ms "$now" --brokers "$brokers" --topic "$id.slow2" --until-end "${slow_reader[@]}" \
  --threads 2 --allow-incomplete --output "$tmp/slow2.jsonl" 2>"$tmp/h.log" &
pid=$!
sleep 2
kill -STOP "$pid"
delete_records "$id.slow2" "$big" "$cut_at"
kill -CONT "$pid"
rc=0; wait "$pid" || rc=$?
[ "$rc" = 0 ] || fail "--allow-incomplete, records deleted under the run: status $rc: $(grep -v '^%' "$tmp/h.log")"
grep -q "$id.slow2\[$big\]: offsets [0-9]*\.\.$((cut_at - 1)) were deleted during the run.*going on without them" "$tmp/h.log" ||
  fail "--allow-incomplete under the run: not said: $(grep -v '^%' "$tmp/h.log")"
in=$(summary_field "$tmp/h.log" input); miss=$(summary_field "$tmp/h.log" missing_records)
[ "$miss" -gt 0 ] && [ $((in + miss)) = "$total2" ] ||
  fail "--allow-incomplete under the run: input $in + missing $miss != $total2 records"

# The topic deleted under the run: nothing comes, the cluster no longer has
# it; the partitions' unread records are gone (status 3, after 10 s of quiet).
"$bin" --log-format json gen --events 60000 --seed 83 --brokers "$brokers" --topic "$id.gone" --partitions 2 2>/dev/null || fail "gen gone"
"$bin" --log-format json run -q --now-ms "$now" --brokers "$brokers" --topic "$id.gone" --until-end "${slow_reader[@]}" \
  --threads 2 --output "$tmp/gone.jsonl" 2>"$tmp/i.log" &
pid=$!
sleep 2
kill -STOP "$pid"
kafka_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$brokers" --delete --topic "$id.gone" ||
  fail "delete topic: $(cat "$tmp/tool.log")"
kill -CONT "$pid"
rc=0; wait "$pid" || rc=$?
[ "$rc" = 3 ] || fail "topic deleted under the run: status $rc, not 3: $(grep -v '^%' "$tmp/i.log")"
grep -q "incomplete input: $id.gone\[[01]\]: offsets [0-9]*\.\.[0-9]* are gone: the topic was deleted during the run" "$tmp/i.log" ||
  fail "topic deleted under the run: not said: $(grep -v '^%' "$tmp/i.log")"

echo "kafka complete: deleted heads fail --until-end and a range reaching them (status 3, partition named), not a range after them; records deleted under a run too; --allow-incomplete counts them (input $in + missing $miss = $total2)"
