#!/usr/bin/env bash
# `replyrate run --publish-format json` (issue 18): every value on the result
# topics is the JSON object of the run's own --output line for that record
# (without the newline), under the key protobuf values have, read raw by
# Kafka's own console consumer; `replyrate export` reads the topics back into
# every form equal to the run's files; a topic holding both formats (another
# group's run publishing protobuf to the same prefix) exports whole, record
# by record. A group's shared run (--instance) and a stream publish JSON too.
source "$(dirname "$0")/lib.bash" publish_json "$1"

"$bin" --log-format json gen --events 40000 --seed 43 --days 2 --duplicate-rate 0.02 --disorder-rate 0.05 \
  --late-rate 0.005 --invalid-rate 0.005 --garbage-rate 0.001 --output "$tmp/in.pb" 2>/dev/null
"$bin" --log-format json load -q --brokers "$brokers" --topic "$id.events" --partitions 4 --input "$tmp/in.pb" 2>"$tmp/load.log" ||
  fail "load: $(cat "$tmp/load.log")"

run() { # group, prefix, extra args...
  local g=$1 p=$2; shift 2
  "$bin" --log-format json run -q --until-end --now-ms "$now" --brokers "$brokers" --topic "$id.events" --group "$g" \
    --publish --topic-prefix "$id.$p" "$@"
}
run g1 json --publish-format json --output "$tmp/run.jsonl" --output "$tmp/run.csv" --output "$tmp/run.pb" \
  --late "$tmp/run.late.jsonl" --dead-letter "$tmp/run.dead.jsonl" 2>"$tmp/run.log" || fail "run: $(cat "$tmp/run.log")"
[ "$(wc -l <"$tmp/run.jsonl")" -gt 1000 ] || fail "too few records to mean anything: $(wc -l <"$tmp/run.jsonl")"
[ -s "$tmp/run.late.jsonl" ] && [ -s "$tmp/run.dead.jsonl" ] || fail "no late events or dead letters to compare"

# Every committed record of the result topics $id.PREFIX.*, raw (not a
# stream's changelog): "KEY<tab>VALUE" lines ("null" for no key).
raw() { # prefix, out
  kafka_tool org.apache.kafka.tools.consumer.ConsoleConsumer --bootstrap-server "$brokers" \
    --include "$id\\.$1\\.(shop_day|agent_day|violations|alerts|late|dead_letter)" --from-beginning \
    --isolation-level read_committed --timeout-ms 4000 \
    --property print.key=true --property key.separator=$'\t' >"$2" || fail "console consumer: $(cat "$tmp/tool.log")"
}

# The raw records against JSON Lines files: each value parses as JSON, is a
# line of the files without its newline, and has the key docs/output.md
# gives that record. mode "same": the same records, each as often; "within":
# every record is one of the files' (a stream's open day is not published).
check_raw() { # raw, mode, what, jsonl files...
  python3 - "$@" <<'EOF'
import collections, json, sys
raw, mode, what, files = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
def key(j):
    t = j["type"]
    if t == "shop_day": return "%d:%d" % (j["shop_id"], j["day"])
    if t == "agent_day": return "%d:%d:%d" % (j["shop_id"], j["agent_id"], j["day"])
    if t == "violation": return "%d:%d" % (j["shop_id"], j["day"])
    if t == "alert": return "%d:%d:%s" % (j["shop_id"], j["day"], j["rule"][:80])
    return "%d" % j["event"]["shop_id"] if j["event"] else "null"
want = collections.Counter()
for f in files:
    for line in open(f, "rb"):
        want[(key(json.loads(line)).encode(), line.rstrip(b"\n"))] += 1
got = collections.Counter()
for line in open(raw, "rb").read().split(b"\n")[:-1]:
    k, v = line.split(b"\t", 1)
    if not v.startswith(b"{"): sys.exit("%s: a value that is not JSON: %r" % (what, v[:60]))
    j = json.loads(v)  # raises on anything that does not parse
    if key(j).encode() != k: sys.exit("%s: key %r on a %s record that has key %r" % (what, k, j["type"], key(j)))
    got[(k, v)] += 1
if not got: sys.exit("%s: nothing read" % what)
extra, missing = got - want, want - got
if extra: sys.exit("%s: %d records on the topics are not in the run's files, e.g. %r" % (what, sum(extra.values()), next(iter(extra))))
if mode == "same" and missing:
    sys.exit("%s: %d records of the run's files are not on the topics, e.g. %r" % (what, sum(missing.values()), next(iter(missing))))
print("%s: %d JSON values checked" % (what, sum(got.values())))
EOF
}
raw json "$tmp/raw.txt"
check_raw "$tmp/raw.txt" same "run --publish-format json" "$tmp/run.jsonl" "$tmp/run.late.jsonl" "$tmp/run.dead.jsonl" ||
  fail "the JSON values are not the run's records"

results=(--topic "$id.json.shop_day" --topic "$id.json.agent_day" --topic "$id.json.violations" --topic "$id.json.alerts")
export_to() { # output, topics...
  local out=$1; shift
  "$bin" --log-format json export --brokers "$brokers" "$@" --output "$out" 2>"$tmp/export.log" || fail "export: $(cat "$tmp/export.log")"
}
same() { # a b what
  cmp -s <(sort "$1") <(sort "$2") || fail "$3: $(sort "$1" | wc -l) records from the run, $(sort "$2" | wc -l) exported; first difference: $(diff <(sort "$1") <(sort "$2") | head -3)"
}
# delimited protobuf files: the same records (ResultRecord elements), each as often
same_pb() { # a b what
  python3 - "$1" "$2" "$(dirname "$0")" <<'EOF' || fail "$3: the exported .pb's records differ from the run's"
import sys
sys.path.insert(0, sys.argv[3])
from delimited import frames
a, b = (sorted(whole for whole, _ in frames(open(p, "rb").read())) for p in sys.argv[1:3])
sys.exit(0 if a == b and a else 1)
EOF
}
export_to "$tmp/exp.jsonl" "${results[@]}"
export_to "$tmp/exp.csv" "${results[@]}"
export_to "$tmp/exp.pb" "${results[@]}"
export_to "$tmp/exp.late.jsonl" --topic "$id.json.late"
export_to "$tmp/exp.dead.jsonl" --topic "$id.json.dead_letter"
same "$tmp/run.jsonl" "$tmp/exp.jsonl" "results (JSON Lines)"
same "$tmp/run.csv" "$tmp/exp.csv" "results (CSV)"
same_pb "$tmp/run.pb" "$tmp/exp.pb" "results (protobuf)"
same "$tmp/run.late.jsonl" "$tmp/exp.late.jsonl" "late events"
same "$tmp/run.dead.jsonl" "$tmp/exp.dead.jsonl" "dead letters"

# Another group publishes the same records as protobuf to the same topics:
# they hold both formats, and export reads each record in its own.
run g2 json 2>"$tmp/g2.log" || fail "run publishing protobuf: $(cat "$tmp/g2.log")"
export_to "$tmp/mixed.jsonl" "${results[@]}" --topic "$id.json.late" --topic "$id.json.dead_letter"
cmp -s <(sort "$tmp/run.jsonl" "$tmp/run.late.jsonl" "$tmp/run.dead.jsonl" "$tmp/run.jsonl" "$tmp/run.late.jsonl" "$tmp/run.dead.jsonl") \
  <(sort "$tmp/mixed.jsonl") || fail "topics holding JSON and protobuf values: the export is not every record twice"
raw json "$tmp/mixed.raw"
n=$(cat "$tmp/run.jsonl" "$tmp/run.late.jsonl" "$tmp/run.dead.jsonl" | wc -l)
[ "$(cut -f2- "$tmp/mixed.raw" | grep -c '^{')" = "$n" ] || fail "the topics do not hold $n JSON values after the protobuf run"

# A group's shared run (--instance, run_group) publishes JSON values too.
run g3 grp --instance i0 --publish-format json 2>"$tmp/g3.log" || fail "group run: $(cat "$tmp/g3.log")"
raw grp "$tmp/grp.raw"
check_raw "$tmp/grp.raw" same "--instance run" "$tmp/run.jsonl" "$tmp/run.late.jsonl" "$tmp/run.dead.jsonl" ||
  fail "a group's run did not publish the run's records as JSON"

# So does a stream (run_stream): its final days' records and every rejected
# event, once it has caught up.
"$bin" --log-format json run --now-ms "$now" --brokers "$brokers" --topic "$id.events" --group g4 --publish \
  --publish-format json --topic-prefix "$id.str" --commit-every 1s 2>"$tmp/s.log" &
spid=$!
wait_for '"type":"commit".*"lag":0,' "$tmp/s.log" 60 || fail "the stream did not catch up: $(tail -3 "$tmp/s.log")"
kill -TERM "$spid"
wait "$spid" || fail "the stream failed: $(tail -3 "$tmp/s.log")"
raw str "$tmp/str.raw"
check_raw "$tmp/str.raw" within "stream" "$tmp/run.jsonl" "$tmp/run.late.jsonl" "$tmp/run.dead.jsonl" ||
  fail "a stream published what the bounded run did not"
grep -P '^[^\t]*\t\{"type":"(late|invalid)"' "$tmp/str.raw" >"$tmp/str.rejected.raw" || true
check_raw "$tmp/str.rejected.raw" same "stream, rejected events" "$tmp/run.late.jsonl" "$tmp/run.dead.jsonl" ||
  fail "a stream's late events and dead letters are not the bounded run's"
grep -q $'\t{"type":"shop_day"' "$tmp/str.raw" || fail "the stream published no final day"

echo "kafka publish_json: $n JSON values equal the run's records under their keys; export reads them (and protobuf beside them) into every form"
