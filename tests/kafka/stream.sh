#!/usr/bin/env bash
# Streaming in a consumer group (issue 3): what read_committed readers see in
# the result topics equals a bounded run's over the same events, exactly once,
# for every final day (the stream's last day is still open, so it is left
# out of the keyed kinds; every late event and dead letter is compared):
#   restart  an instance stopped by SIGTERM halfway through the input and
#            started again after the rest arrived resumes from its checkpoint;
#   crash    an instance killed with SIGKILL at random points and restarted;
#   rebalance two instances in one group, one killed after its first commit
#            and never restarted: the other takes its partitions over from the
#            changelog.
# Every instance also publishes provisional revisions of the open days each
# second: every key's revisions in the topic are numbered upwards, across
# restarts, and each final day's last record is its final one. Instances
# feed their engines on one thread or on two (--threads), in turns, so each
# restores checkpoints the other kind wrote.
source "$(dirname "$0")/lib.bash" stream "$1"
x=(-X session.timeout.ms=6000 -X heartbeat.interval.ms=500 -X transaction.timeout.ms=15000)

"$bin" --log-format json gen --events 1000000 --seed 71 --days 3 --duplicate-rate 0.02 --disorder-rate 0.05 \
  --late-rate 0.005 --invalid-rate 0.005 --garbage-rate 0.001 --output "$tmp/in.pb" 2>/dev/null
# the same events cut in n consecutive parts: FILE.0.pb ... (the restart and
# the crash runs get more to read each time)
split() { # file, n
  python3 - "$1" "$2" "$(dirname "$0")" <<'EOF'
import sys
path, n = sys.argv[1], int(sys.argv[2])
sys.path.insert(0, sys.argv[3])
from delimited import frames
frames = [whole for whole, _ in frames(open(path, "rb").read())]
for k in range(n):
    part = frames[len(frames) * k // n:len(frames) * (k + 1) // n]
    open("%s.%d.pb" % (path, k), "wb").write(b"".join(part))
EOF
}
load() { # file, topic
  "$bin" --log-format json load -q --brokers "$brokers" --topic "$2" --partitions 4 --input "$1" 2>"$tmp/load.log" ||
    fail "load $1: $(cat "$tmp/load.log")"
}
load "$tmp/in.pb" "$id.all"
split "$tmp/in.pb" 2
load "$tmp/in.pb.0.pb" "$id.events"

"$bin" --log-format json run -q --until-end --now-ms "$now" --brokers "$brokers" --topic "$id.all" --group ref \
  --publish --topic-prefix "$id.ref" 2>"$tmp/ref.log" || fail "bounded run: $(cat "$tmp/ref.log")"
export_all ref "$tmp/ref"
last=$(python3 -c "import json,sys; print(max(json.loads(l)['day'] for l in open(sys.argv[1])))" "$tmp/ref.shop_day.jsonl")

# Final records of days before the last, and every rejected event, with the
# topic's name made neutral: the form both sides are compared in.
final_part() { # stem, topic[, strict: fail on a record of the open day]
  local t
  for t in shop_day agent_day violations alerts late dead_letter; do
    python3 - "$1.$t.jsonl" "$t" "$last" "$2" "${3:-}" >"$1.$t.cmp" <<'EOF'
import json, sys
path, kind, last, topic, strict = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
out = []
for line in open(path):
    j = json.loads(line)
    if kind in ("late", "dead_letter"):
        out.append(line.replace(topic + "[", "TOPIC["))
    elif not j.get("final", True):  # provisional revisions: checked by revisions()
        continue
    elif j["day"] < last:
        out.append(line)
    elif strict and kind != "violations":  # the open day: nothing of it may be final yet
        sys.exit("%s: a record of the open day %d was published" % (kind, last))
sys.stdout.write("".join(sorted(out)))
EOF
  done
}
final_part "$tmp/ref" "$id.all"

stream() { # group, instance, log (appended)[, topic, commit interval, threads]
  exec "$bin" --log-format json run --now-ms "$now" --brokers "$brokers" --topic "${4:-$id.events}" --group "$1" \
    --instance "$2" --publish --topic-prefix "$id.$1" --commit-every "${5:-1s}" \
    --threads "${6:-2}" --provisional-every 1s "${x[@]}" 2>>"$3"
}
# In topic order, per key: revisions 1, 2, ... upwards, never after the
# final record, and a final day ends with its final record. Prints how many
# revisions there were.
revisions() { # stem, what
  python3 - "$1.shop_day.jsonl" "$1.agent_day.jsonl" "$last" "$2" <<'EOF' || fail "revisions, $2"
import json, sys
last, what, n, keys = int(sys.argv[3]), sys.argv[4], 0, {}
for path in sys.argv[1:3]:
    for line in open(path):
        j = json.loads(line)
        key = (j["type"], j["shop_id"], j.get("agent_id"), j["day"])
        prev = keys.get(key)
        if prev == "final":
            sys.exit("%s: %s: a record after the final one: %s" % (what, key, line.strip()))
        if j["final"]:
            keys[key] = "final"
            continue
        n += 1
        if prev is not None and j["revision"] <= prev:
            sys.exit("%s: %s: revision %d after %d" % (what, key, j["revision"], prev))
        keys[key] = j["revision"]
open_ = [k for k, v in keys.items() if v != "final" and k[3] < last]
if open_:
    sys.exit("%s: %d keys of final days end with a revision, e.g. %s" % (what, len(open_), open_[0]))
print(n)
EOF
}
# Wait until group's topics hold every final record of the reference.
complete() { # group, seconds[, topic]
  local want have end=$(( $(date +%s) + $2 ))
  want=$(cat "$tmp/ref.shop_day.cmp" "$tmp/ref.late.cmp" "$tmp/ref.dead_letter.cmp" | wc -l)
  while [ "$(date +%s)" -lt "$end" ]; do
    export_all "$1" "$tmp/$1"
    final_part "$tmp/$1" "${3:-$id.events}" strict
    have=$(cat "$tmp/$1.shop_day.cmp" "$tmp/$1.late.cmp" "$tmp/$1.dead_letter.cmp" | wc -l)
    [ "$have" -ge "$want" ] && return 0
    sleep 1
  done
  return 1
}
same_final() { # group, what[, topic]
  local t
  export_all "$1" "$tmp/$1"
  final_part "$tmp/$1" "${3:-$id.events}" strict
  for t in shop_day agent_day violations alerts late dead_letter; do
    cmp -s "$tmp/ref.$t.cmp" "$tmp/$1.$t.cmp" ||
      fail "$t, $2: $(wc -l <"$tmp/ref.$t.cmp") records in the bounded run, $(wc -l <"$tmp/$1.$t.cmp") streamed"
  done
}

# -- restart: SIGTERM after the first part, the rest arrives, start again --
(stream s 0 "$tmp/s.log" "$id.events" 1s 1) &
pid=$!
wait_for '"type":"commit".*"lag":0,' "$tmp/s.log" 60 || fail "restart: the instance did not catch up: $(tail -3 "$tmp/s.log")"
kill -TERM "$pid"
wait "$pid" || fail "restart: SIGTERM did not end the run cleanly: $(tail -3 "$tmp/s.log")"
load "$tmp/in.pb.1.pb" "$id.events"
: >"$tmp/s2.log"
(stream s 0 "$tmp/s2.log") &
pid=$!
wait_for '"type":"restored"' "$tmp/s2.log" 30 ||
  fail "restart: nothing restored from the changelog: $(head -5 "$tmp/s2.log")"
complete s 90 || fail "restart: the results did not arrive"
kill -TERM "$pid"
wait "$pid" || fail "restart: the second run failed: $(tail -3 "$tmp/s2.log")"
same_final s "stopped halfway and restarted"
n=$(revisions "$tmp/s" "stopped halfway and restarted")
[ "$n" -gt 0 ] || fail "restart: no provisional revision was published"
grep -q '"type":"provisional"' "$tmp/s2.log" || fail "restart: the second run made no revision"

# -- crash: SIGKILL at random points, restarted each time, with a part of
# the input arriving before each start so every run has something to read --
kills=${RR_STREAM_KILLS:-4}
split "$tmp/in.pb" $(( kills + 1 ))
for k in $(seq 0 "$kills"); do
  load "$tmp/in.pb.$k.pb" "$id.crash"
  (stream c 0 "$tmp/c$k.log" "$id.crash" 300ms $(( k % 2 + 1 ))) &
  pid=$!
  [ "$k" = "$kills" ] && break
  # a restarted instance waits for the group to drop the killed one first
  wait_for '"type":"assigned"' "$tmp/c$k.log" 30 || fail "crash: no assignment: $(tail -3 "$tmp/c$k.log")"
  delay=$(python3 -c "import random; print('%.2f' % random.uniform(0.05, 1.0))")
  sleep "$delay"
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null || true
  echo "kill $((k + 1)) after ${delay}s: $(grep -c '"type":"commit"' "$tmp/c$k.log") commits" >>"$tmp/kills.log"
done
complete c 120 "$id.crash" || fail "crash: the results did not arrive: $(tail -3 "$tmp/c$kills.log")"
kill -TERM "$pid"
wait "$pid" || fail "crash: the last run failed: $(tail -3 "$tmp/c$kills.log")"
same_final c "after $kills SIGKILLs ($(tr '\n' ';' <"$tmp/kills.log"))" "$id.crash"
revisions "$tmp/c" "after $kills SIGKILLs" >/dev/null
commits=$(cat "$tmp"/c?.log | grep -c '"type":"commit"' || true)

# -- rebalance: two instances, one killed after its first commit --
(stream r a "$tmp/ra.log") &
pa=$!
(stream r b "$tmp/rb.log" "$id.events" 1s 1) &
pb=$!
wait_for '"type":"commit"' "$tmp/rb.log" 30
kill -9 "$pb" 2>/dev/null
wait "$pb" 2>/dev/null || true
grep -q '"type":"commit"' "$tmp/rb.log" || fail "rebalance: b never committed: $(tail -3 "$tmp/rb.log")"
grep '"type":"commit"' "$tmp/rb.log" | head -1 | grep -q '"lag":0,' &&
  echo "note: b had read all of its partitions by its first commit"
complete r 120 || fail "rebalance: the results did not arrive: $(tail -3 "$tmp/ra.log")"
# b may have published all its final records before it was killed (it reads
# its partitions to the end by its first commit when fetches are quick), so
# the results can be complete before a takes b's partitions over: wait for it
wait_for '"type":"restored"' "$tmp/ra.log" 60 ||
  fail "rebalance: a restored nothing of b's: $(head "$tmp/ra.log")"
kill -TERM "$pa"
wait "$pa" || fail "rebalance: a failed: $(tail -3 "$tmp/ra.log")"
same_final r "b killed, a took over"
revisions "$tmp/r" "b killed, a took over" >/dev/null

echo "kafka stream: final records exactly once after a SIGTERM restart, $kills SIGKILLs ($(tr '\n' ';' <"$tmp/kills.log") $commits commits in all) and a rebalance; $n revisions in the restart; $(wc -l <"$tmp/ref.shop_day.cmp") shop-days, $(wc -l <"$tmp/ref.violations.cmp") violations"
