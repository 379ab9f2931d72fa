#!/usr/bin/env bash
# Scale-out (issue 17): a day-range run shared by the instances of one
# consumer group (--instance) publishes what one instance alone publishes.
# Over a 6-partition topic, 2 and then 3 instances run the range in a group
# of their own, with reading slowed so each pass takes seconds. The last
# instance joins while the first reads: the first's pass loses partitions
# to it and is abandoned (its transaction aborted). One instance is
# SIGKILLed in the middle of a pass (after its "pass" line, before its
# "published" one) and never restarted. Then:
#   - every survivor exits 0 once every partition is published;
#   - each partition was published by exactly one pass (the "published"
#     lines), the killed instance's too, by a survivor that took it over;
#   - every result topic, read_committed, holds exactly the records of the
#     run of a single instance (no --instance) over the same range: each
#     record once, none missing;
#   - the summaries of the survivors add up to the single run's counts, and
#     their manifests name the partitions and offsets the single run read
#     (the killed one published nothing, and wrote no manifest).
# Last, two instances share an --until-end run and publish what one does.
source "$(dirname "$0")/lib.bash" scale "$1"
# a killed instance's partitions move after its session times out; its open
# transaction holds read_committed readers until the broker aborts it
x=(-X session.timeout.ms=6000 -X heartbeat.interval.ms=500 -X transaction.timeout.ms=30000)

"$bin" gen --events 300000 --days 3 --start-day 2026-11-20 --seed 83 --duplicate-rate 0.01 \
  --disorder-rate 0.03 --late-rate 0.003 --invalid-rate 0.003 --garbage-rate 0.001 \
  --brokers "$brokers" --topic "$id.events" --partitions 6 2>"$tmp/gen.log" ||
  fail "gen --brokers: $(cat "$tmp/gen.log")"

range() { # prefix (also the group), run options...
  local p=$1
  shift
  exec "$bin" --log-format json run --now-ms "$now" --brokers "$brokers" --topic "$id.events" --group "$p" \
    --from 2026-11-21 --to 2026-11-21 --publish --topic-prefix "$id.$p" "$@"
}
(range one -q --manifest "$tmp/one.manifest.json") 2>"$tmp/one.log" ||
  fail "the single run: $(cat "$tmp/one.log")"
export_all one "$tmp/one"
[ "$(wc -l <"$tmp/one.violations.jsonl")" -gt 1000 ] || fail "too few records to mean anything"
[ "$(wc -l <"$tmp/one.late.jsonl")" -gt 100 ] || fail "too few late events to mean anything"

# The partitions of a log's lines of one type, one a line.
parts_of() { # type, logs...
  local t=$1
  shift
  cat "$@" | python3 -c 'import json,sys
for l in sys.stdin:
    if l.startswith("{\"type\":\"%s\"" % sys.argv[1]):
        for p in json.loads(l)["partitions"]: print(p)' "$t"
}

# n instances in group gN; the last one joins while instance 0 reads (its
# pass loses partitions to it: abandoned, aborted); instance v is killed in
# the middle of a pass.
scale() { # n, v
  local n=$1 v=$2 g=g$1 pids=() i last delay
  for i in $(seq 0 $((n - 1))); do
    if [ "$i" = $((n - 1)) ]; then
      wait_for '"type":"pass"' "$tmp/$g.0.log" 60 || fail "$g: instance 0 began no pass: $(cat "$tmp/$g.0.log")"
      sleep 1
    fi
    (range "$g" --instance "i$i" --manifest "$tmp/$g.$i.manifest.json" "${x[@]}" "${slow_reader[@]}") \
      2>"$tmp/$g.$i.log" &
    pids+=($!)
  done
  wait_for '"type":"pass"' "$tmp/$g.$v.log" 60 || fail "$g: instance $v began no pass: $(cat "$tmp/$g.$v.log")"
  delay=$(python3 -c "import random; print('%.2f' % random.uniform(1, 3))")
  sleep "$delay"
  last=$(grep -o '"type":"\(pass\|published\|abandoned\)"' "$tmp/$g.$v.log" | tail -1)
  [ "$last" = '"type":"pass"' ] ||
    fail "$g: the kill would not land in a pass of instance $v (its last step: $last): $(cat "$tmp/$g.$v.log")"
  kill -9 "${pids[$v]}"
  wait "${pids[$v]}" 2>/dev/null || true
  # the survivors end once every partition is published (or the test fails)
  local end=$(($(date +%s) + 240))
  for i in $(seq 0 $((n - 1))); do
    [ "$i" = "$v" ] && continue
    while kill -0 "${pids[$i]}" 2>/dev/null && [ "$(date +%s)" -lt "$end" ]; do sleep 0.2; done
    kill -0 "${pids[$i]}" 2>/dev/null &&
      fail "$g: instance $i still runs 4 minutes on (nobody took the killed one's partitions over?): $(tail -5 "$tmp/$g.$i.log")"
    wait "${pids[$i]}" || fail "$g: instance $i failed: $(tail -3 "$tmp/$g.$i.log")"
  done
  local survivors=()
  for i in $(seq 0 $((n - 1))); do [ "$i" = "$v" ] || survivors+=("$tmp/$g.$i.log"); done
  # each partition published once, by one pass of one survivor
  local published
  published=$(parts_of published "${survivors[@]}" | sort -n | tr '\n' ' ')
  [ "$published" = "0 1 2 3 4 5 " ] ||
    fail "$g: partitions published by the survivors: '$published' (each of 0..5 once expected)"
  parts_of published "$tmp/$g.$v.log" | grep -q . && fail "$g: the killed instance had published a pass"
  [ -n "$(parts_of pass "$tmp/$g.$v.log")" ] || fail "$g: the killed instance read nothing"
  grep -q '"type":"abandoned"' "$tmp/$g.0.log" ||
    fail "$g: instance 0 kept all its pass when instance $((n - 1)) joined: $(cat "$tmp/$g.0.log")"
  # what the survivors applied adds up to the single run's
  python3 - "$tmp/one.log" "${survivors[@]}" <<'EOF' || fail "$g: the survivors' summaries do not add up to the single run's"
import json, sys
def summary(path):
    return [json.loads(l) for l in open(path) if l.startswith('{"type":"summary"')][-1]
one, parts = summary(sys.argv[1]), [summary(p) for p in sys.argv[2:]]
for k in ("input", "applied", "duplicate", "late", "invalid", "violations", "alerts"):
    if sum(s[k] for s in parts) != one[k]:
        sys.exit("%s: %d in the single run, %s in the group" % (k, one[k], [s[k] for s in parts]))
EOF
  # their manifests name, between them, the offsets the single run read
  local manifests=()
  for i in $(seq 0 $((n - 1))); do [ "$i" = "$v" ] || manifests+=("$tmp/$g.$i.manifest.json"); done
  python3 - "$tmp/one.manifest.json" "${manifests[@]}" <<'EOF' || fail "$g: the survivors' manifests"
import json, sys
def inputs(path):
    return sorted((i["partition"], i["from_offset"], i["to_offset"]) for i in json.load(open(path))["inputs"])
one, group = inputs(sys.argv[1]), sorted(sum((inputs(p) for p in sys.argv[2:]), []))
if one != group:
    sys.exit("the single run read %s, the group %s" % (one, group))
EOF
  [ ! -e "$tmp/$g.$v.manifest.json" ] || fail "$g: the killed instance wrote a manifest"
  export_all "$g" "$tmp/$g"
  same_exports "$tmp/one" "$tmp/$g" "single run / $n instances, instance $v killed ${delay}s into a pass"
  echo "$n instances: instance $v killed ${delay}s into its pass over partitions $(grep '"type":"pass"' "$tmp/$g.$v.log" | tail -1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["partitions"])'); $(cat "${survivors[@]}" | grep -c '"type":"abandoned"') passes abandoned by the survivors" >>"$tmp/report"
}
scale 2 1
scale 3 1

# --until-end too: two instances (no kill) publish the single run's records
whole() { # prefix, run options...
  local p=$1
  shift
  exec "$bin" --log-format json run -q --now-ms "$now" --brokers "$brokers" --topic "$id.events" --group "$p" \
    --until-end --publish --topic-prefix "$id.$p" "$@"
}
(whole all) 2>"$tmp/all.log" || fail "the single run to the end: $(cat "$tmp/all.log")"
(whole e2 --instance a "${x[@]}") 2>"$tmp/e2.a.log" &
pa=$!
(whole e2 --instance b "${x[@]}") 2>"$tmp/e2.b.log" || fail "--until-end, instance b: $(cat "$tmp/e2.b.log")"
wait "$pa" || fail "--until-end, instance a: $(cat "$tmp/e2.a.log")"
export_all all "$tmp/all"
export_all e2 "$tmp/e2"
same_exports "$tmp/all" "$tmp/e2" "--until-end: single run / 2 instances"
echo "--until-end shared by 2 instances" >>"$tmp/report"

echo "kafka scale: a range run shared by 2 and 3 instances of a group, one SIGKILLed mid-pass each time, published the single run's records each once ($(wc -l <"$tmp/one.violations.jsonl") violations, $(wc -l <"$tmp/one.late.jsonl") late, $(wc -l <"$tmp/one.dead_letter.jsonl") dead letters); $(tr '\n' ';' <"$tmp/report")"
