#!/usr/bin/env bash
# A conversation's whole life and jumps in a partition's time (SPEC §3
# Duplicates/Lifetime, §7 jumps) through a real broker: generated traffic
# with re-deliveries stamped anew hours later, conversations resumed around
# the end of their life, stale events in front of the partitions and a jump
# of days in the middle. A bounded run over the topic equals a run over the
# same partitions as files, record for record, counts included; a streaming
# instance SIGKILLed while every partition holds jumps (after its commit,
# so they are in its checkpoint) and restarted once the rest has arrived
# publishes exactly the bounded run's final records.
source "$(dirname "$0")/lib.bash" lifetime "$1"
x=(-X session.timeout.ms=6000 -X heartbeat.interval.ms=500 -X transaction.timeout.ms=15000)

parts=("$tmp/p0.pb" "$tmp/p1.pb" "$tmp/p2.pb" "$tmp/p3.pb")
outs=()
for p in "${parts[@]}"; do outs+=(--output "$p"); done
# 2 days, the jump 3 days on from hour 30 (the second day's 06:00)
"$bin" --log-format json gen --events 300000 --seed 81 --days 2 --redeliver-rate 0.005 --resume-rate 0.05 \
  --stale-events 2 --jump-days 3 --jump-at-hour 30 --duplicate-rate 0.01 --disorder-rate 0.02 \
  --late-rate 0.002 "${outs[@]}" 2>"$tmp/gen.log" || fail "gen: $(cat "$tmp/gen.log")"
ins=()
for p in "${parts[@]}"; do ins+=(--input "$p"); done
"$bin" --log-format json run -q "${ins[@]}" --now-ms "$now" --output "$tmp/file.jsonl" 2>"$tmp/file.log" ||
  fail "file run: $(cat "$tmp/file.log")"

load() { # topic, files...
  local t=$1; shift
  local a=()
  for f in "$@"; do a+=(--input "$f"); done
  "$bin" --log-format json load -q --brokers "$brokers" --topic "$t" --partitions 4 "${a[@]}" 2>"$tmp/load.log" ||
    fail "load $t: $(cat "$tmp/load.log")"
}
counts() { # log: the summary's five counts
  python3 -c "import json,sys; s=[json.loads(l) for l in open(sys.argv[1]) if l.startswith('{\"type\":\"summary\"')][-1]; print({k: s[k] for k in ('input','applied','duplicate','late','invalid')})" "$1"
}

# -- bounded: the topic's partitions are the files --
load "$id.all" "${parts[@]}"
"$bin" --log-format json run -q --until-end --now-ms "$now" --brokers "$brokers" --topic "$id.all" --group ref \
  --output "$tmp/kafka.jsonl" --publish --topic-prefix "$id.ref" 2>"$tmp/kafka.log" ||
  fail "bounded run: $(cat "$tmp/kafka.log")"
cmp -s <(sort "$tmp/file.jsonl") <(sort "$tmp/kafka.jsonl") ||
  fail "bounded run over the topic and the file run differ: $(wc -l <"$tmp/file.jsonl") vs $(wc -l <"$tmp/kafka.jsonl") records"
[ "$(counts "$tmp/file.log")" = "$(counts "$tmp/kafka.log")" ] ||
  fail "summaries differ: file $(counts "$tmp/file.log"), topic $(counts "$tmp/kafka.log")"
python3 - "$tmp/kafka.log" <<'EOF' || fail "the data does not exercise what this test is for"
import json, sys
s = [json.loads(l) for l in open(sys.argv[1]) if l.startswith('{"type":"summary"')][-1]
assert s["duplicate"] > 0 and s["applied"] > 200000, s
EOF
export_all ref "$tmp/ref"

# -- streaming: the first part ends a few hundred events into the jump in
# every partition, so each holds jumps (fewer than jump_confirm) when the
# instance commits and is killed --
python3 - "$tmp" "$(dirname "$0")" <<'EOF' || fail "splitting the partitions at the jump"
import sys
tmp = sys.argv[1]
sys.path.insert(0, sys.argv[2])
from delimited import frames, varint_field
DAY = 86400000
for k in range(4):
    fr = list(frames(open("%s/p%d.pb" % (tmp, k), "rb").read()))
    top, cut = None, None
    for n, (whole, msg) in enumerate(fr):
        ts = varint_field(msg, 6)  # ts_ms
        if ts is None: continue
        if top is not None and ts - top > DAY and n > 100:  # the jump (not a stale event's end)
            cut = n + 300; break
        top = ts if top is None or ts > top else top
    if cut is None or cut >= len(fr): raise SystemExit("partition %d: no jump found" % k)
    open("%s/a%d.pb" % (tmp, k), "wb").write(b"".join(w for w, _ in fr[:cut]))
    open("%s/b%d.pb" % (tmp, k), "wb").write(b"".join(w for w, _ in fr[cut:]))
EOF
load "$id.events" "$tmp/a0.pb" "$tmp/a1.pb" "$tmp/a2.pb" "$tmp/a3.pb"
stream() { # log
  exec "$bin" --log-format json run --now-ms "$now" --brokers "$brokers" --topic "$id.events" --group s \
    --instance 0 --publish --topic-prefix "$id.s" --commit-every 300ms "${x[@]}" 2>>"$1"
}
(stream "$tmp/s1.log") &
pid=$!
wait_for '"type":"commit".*"lag":0,' "$tmp/s1.log" 90 || fail "the instance did not catch up: $(tail -3 "$tmp/s1.log")"
sleep 1 # another commit or two at lag 0: the checkpoint holds the jumps
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null || true
load "$id.events" "$tmp/b0.pb" "$tmp/b1.pb" "$tmp/b2.pb" "$tmp/b3.pb"
(stream "$tmp/s2.log") &
pid=$!
wait_for '"type":"restored"' "$tmp/s2.log" 60 || fail "nothing restored: $(head -5 "$tmp/s2.log")"
wait_for '"type":"commit".*"lag":0,' "$tmp/s2.log" 90 || fail "the restarted instance did not catch up"
sleep 2
kill -TERM "$pid"
wait "$pid" || fail "the restarted instance failed: $(tail -3 "$tmp/s2.log")"
export_all s "$tmp/s"

# Final records of every day but the last two, and every rejected event: the
# same in both. (The stream's last days are still open: resumed conversations
# spill a few events into a day after the traffic's last, so the one before
# it is not final either.)
last=$(python3 -c "import json,sys; print(sorted({json.loads(l)['day'] for l in open(sys.argv[1])})[-2])" "$tmp/ref.shop_day.jsonl")
for t in shop_day agent_day violations alerts late dead_letter; do
  for side in ref s; do
    python3 - "$tmp/$side.$t.jsonl" "$t" "$last" "$id" >"$tmp/$side.$t.cmp" <<'EOF'
import json, re, sys
path, kind, last, topic_id = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
out = []
for line in open(path):
    j = json.loads(line)
    if kind in ("late", "dead_letter"):
        out.append(re.sub(re.escape(topic_id) + r"\.[a-z]+\[", "TOPIC[", line))
    elif j.get("final", True) and j["day"] < last:
        out.append(line)
sys.stdout.write("".join(sorted(out)))
EOF
  done
  cmp -s "$tmp/ref.$t.cmp" "$tmp/s.$t.cmp" ||
    fail "$t: $(wc -l <"$tmp/ref.$t.cmp") records in the bounded run, $(wc -l <"$tmp/s.$t.cmp") streamed across the kill"
done
echo "kafka lifetime: topic = files ($(counts "$tmp/kafka.log")); streaming killed while jumps were held, restarted: final records exactly the bounded run's ($(wc -l <"$tmp/ref.shop_day.cmp") shop-days)"
