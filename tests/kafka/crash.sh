#!/usr/bin/env bash
# Exactly once across crashes (issue 3): a publishing bounded run is killed
# with SIGKILL at random points, then restarted until one run ends by itself.
# What read_committed readers see in the result topics equals one uninterrupted
# run's: every record once, none missing, none twice. Kills land before the
# transaction began, while records are produced, and (when the kill comes late)
# after the commit; each restart fences the killed producer and aborts its
# transaction, or finds the group's offsets committed and publishes nothing.
source "$(dirname "$0")/lib.bash" crash "$1"
kills=${RR_CRASH_KILLS:-6}

"$bin" --log-format json gen --events 300000 --seed 51 --days 2 --duplicate-rate 0.02 --disorder-rate 0.05 \
  --late-rate 0.005 --invalid-rate 0.005 --garbage-rate 0.001 --output "$tmp/in.pb" 2>/dev/null
"$bin" --log-format json load -q --brokers "$brokers" --topic "$id.events" --partitions 4 --input "$tmp/in.pb" 2>"$tmp/load.log" ||
  fail "load: $(cat "$tmp/load.log")"

run() { # prefix (also the group)
  exec "$bin" --log-format json run -q --until-end --now-ms "$now" --brokers "$brokers" --topic "$id.events" --group "$1" \
    --publish --topic-prefix "$id.$1"
}

t0=$(date +%s%N)
(run ref) 2>"$tmp/ref.log" || fail "uninterrupted run: $(cat "$tmp/ref.log")"
ref_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
export_all ref "$tmp/ref"

# Kill at random points over 1.2x the uninterrupted run's time.
for k in $(seq 1 "$kills"); do
  delay=$(python3 -c "import random; print('%.3f' % (random.uniform(0.05, 1.2) * $ref_ms / 1000))")
  (run crash) 2>>"$tmp/crash.log" &
  pid=$!
  sleep "$delay"
  if kill -9 "$pid" 2>/dev/null; then
    echo "kill $k: SIGKILL after ${delay}s" >>"$tmp/kills.log"
  else
    echo "kill $k: the run had ended before ${delay}s" >>"$tmp/kills.log"
  fi
  wait "$pid" 2>/dev/null || true
done
# Then let one run finish.
(run crash) 2>>"$tmp/crash.log" || fail "the run after the kills failed: $(tail -5 "$tmp/crash.log")"
export_all crash "$tmp/crash"

same_exports "$tmp/ref" "$tmp/crash" "uninterrupted / after $kills kills ($(tr '\n' ';' <"$tmp/kills.log"))"
[ "$(wc -l <"$tmp/ref.violations.jsonl")" -gt 1000 ] || fail "too few records to mean anything"
echo "kafka crash: $kills SIGKILLs ($(grep -c SIGKILL "$tmp/kills.log") during a run), results published exactly once; uninterrupted run ${ref_ms} ms"
