#!/usr/bin/env bash
# Signals in a bounded run that publishes (issue 13): SIGTERM or SIGINT at a
# random point (before, while or after its reading starts) stops it with
# status 143 or 130 and the summary line naming the signal, and publishes
# nothing: its transaction is aborted, no record of it is readable
# read_committed. A second signal ends it at once, still publishing nothing:
# its transaction is left open (readers read_committed wait at it) until the
# next run in its group fences it, which then publishes everything, once.
source "$(dirname "$0")/lib.bash" signals "$1"
points=${RR_SIGNAL_POINTS:-6}

"$bin" --log-format json gen --events 1000000 --seed 91 --duplicate-rate 0.01 --late-rate 0.002 --invalid-rate 0.002 \
  --brokers "$brokers" --topic "$id.events" --partitions 4 2>"$tmp/gen.log" || fail "gen: $(cat "$tmp/gen.log")"

# Reading slowed to a batch a partition a second (lib.bash, slow_reader), a
# minute or more in all, so that signals land in it.
start() { # group
  "$bin" --log-format json run -q --until-end --now-ms "$now" --brokers "$brokers" --topic "$id.events" --group "$1" \
    --publish --topic-prefix "$id.$1" "${slow_reader[@]}" 2>"$tmp/$1.log" &
}
published() { # prefix: records readable read_committed in its six result topics
  local t args=()
  for t in shop_day agent_day violations alerts late dead_letter; do args+=(--topic "$id.$1.$t"); done
  "$bin" --log-format json export --brokers "$brokers" "${args[@]}" --output "$tmp/$1.export.jsonl" 2>"$tmp/export.log" ||
    fail "export $1: $(cat "$tmp/export.log")"
  wc -l <"$tmp/$1.export.jsonl"
}

for k in $(seq 1 "$points"); do
  sig=TERM; want=143
  [ $((k % 2)) = 0 ] && { sig=INT; want=130; }
  delay=$(python3 -c "import random; print('%.2f' % random.uniform(0.1, 6))")
  start "s$k"
  pid=$!
  sleep "$delay"
  kill -"$sig" "$pid"
  [ "$k" = "$points" ] && { sleep 0.05; kill -"$sig" "$pid" 2>/dev/null || true; } # a second one
  rc=0; wait "$pid" || rc=$?
  echo "point $k: SIG$sig after ${delay}s, status $rc" >>"$tmp/points.log"
  [ "$rc" = "$want" ] || fail "SIG$sig after ${delay}s: status $rc, not $want: $(grep -v '^%' "$tmp/s$k.log")"
  if [ "$k" != "$points" ]; then # the second signal ends it before the summary, by design
    [ "$(summary_field "$tmp/s$k.log" status)" = "$want" ] && [ "$(summary_field "$tmp/s$k.log" signal)" = "SIG$sig" ] &&
      [ "$(summary_field "$tmp/s$k.log" reason)" = signal ] ||
      fail "SIG$sig after ${delay}s: the summary does not say so: $(grep -v '^%' "$tmp/s$k.log")"
  fi
  if [ "$k" != "$points" ]; then
    n=$(published "s$k")
    [ "$n" = 0 ] || fail "SIG$sig after ${delay}s: $n records published ($(tr '\n' ';' <"$tmp/points.log"))"
  fi
done

# The twice-signalled run's group goes on: it fences the open transaction;
# everything is published once, none of it from the stopped run.
last=s$points
"$bin" --log-format json run -q --until-end --now-ms "$now" --brokers "$brokers" --topic "$id.events" --group "$last" \
  --publish --topic-prefix "$id.$last" --output "$tmp/whole.jsonl" --late "$tmp/whole.late.jsonl" \
  --dead-letter "$tmp/whole.dead.jsonl" 2>"$tmp/whole.log" || fail "the run after the signals: $(cat "$tmp/whole.log")"
n=$(published "$last")
wrote=$(cat "$tmp"/whole*.jsonl | wc -l)
[ "$n" -gt 1000 ] && [ "$n" = "$wrote" ] || fail "after the signals, $n records published; the run wrote $wrote"
echo "kafka signals: $points signals ($(grep -o 'after [0-9.]*s' "$tmp/points.log" | tr '\n' ' ')): status 143/130, nothing published; then $n records, once"
