#!/usr/bin/env bash
# Against a real Kafka broker (deploy/kafka/broker.sh; RR_KAFKA_BROKERS):
# `replyrate load` (and `gen --brokers`) put a generated, shop-partitioned stream into a topic, and
# a bounded `replyrate run --brokers --topic` over it publishes exactly the
# records of file mode over the same partitions, whatever its --threads: same results, same late
# events, same dead letters (by reason and bytes; their positions are Kafka
# offsets), same summary counts. Also: a topic with empty partitions ends,
# a missing topic fails naming it, and a bad -X property is a usage error.
source "$(dirname "$0")/lib.bash" bounded "$1"
topic=$id

"$bin" --log-format json gen --events 150000 --seed 31 --days 2 --duplicate-rate 0.02 --disorder-rate 0.05 \
  --late-rate 0.005 --invalid-rate 0.005 --garbage-rate 0.001 \
  --output "$tmp/p0.pb" --output "$tmp/p1.pb.zst" --output "$tmp/p2.pb" 2>"$tmp/gen.log"
"$bin" --log-format json load -q --brokers "$brokers" --topic "$topic" --partitions 3 \
  --input "$tmp/p0.pb" --input "$tmp/p1.pb.zst" --input "$tmp/p2.pb" 2>"$tmp/load.log" ||
  fail "load: $(cat "$tmp/load.log")"
records=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().splitlines()[-1])["records"])' "$tmp/load.log")
[ "$records" -gt 150000 ] || fail "load wrote $records records"

"$bin" --log-format json run -q --now-ms "$now" --threads 1 --input "$tmp/p0.pb" --input "$tmp/p1.pb.zst" --input "$tmp/p2.pb" \
  --output "$tmp/file.jsonl" --late "$tmp/file.late.jsonl" --dead-letter "$tmp/file.dead.jsonl" 2>"$tmp/file.log" ||
  fail "file run: $(cat "$tmp/file.log")"
# one engine, a shard per partition, and two shards (one of them holding two partitions)
for t in 1 3 2; do
"$bin" --log-format json run -q --until-end --now-ms "$now" --threads $t --brokers "$brokers" --topic "$topic" \
  --output "$tmp/kafka.jsonl" --late "$tmp/kafka.late.jsonl" --dead-letter "$tmp/kafka.dead.jsonl" 2>"$tmp/kafka.log" ||
  fail "kafka run, --threads $t: $(cat "$tmp/kafka.log")"

python3 - "$tmp" "$records" <<'EOF' || fail "file mode and the Kafka run with --threads $t differ"
import json, sys
tmp, records = sys.argv[1], int(sys.argv[2])
def lines(name): return [json.loads(l) for l in open(f"{tmp}/{name}")]
def summary(name): return [json.loads(l) for l in open(f"{tmp}/{name}") if l.startswith('{"type":"summary"')][-1]
ok = True
def check(what, a, b):
    global ok
    if a != b:
        ok = False
        print(f"{what}: file mode {len(a) if isinstance(a, list) else a} != kafka {len(b) if isinstance(b, list) else b}")
        if isinstance(a, list):
            sa, sb = set(map(str, a)), set(map(str, b))
            for x in list(sa - sb)[:3]: print("  only in file mode:", x)
            for x in list(sb - sa)[:3]: print("  only in kafka:", x)
key = lambda r: json.dumps(r, sort_keys=True)
check("results", sorted(map(key, lines("file.jsonl"))), sorted(map(key, lines("kafka.jsonl"))))
# late events: the same events at the same watermark, in the same partition;
# only where they were read from differs (file byte offset, Kafka offset)
def late(name):
    out = []
    for r in lines(name):
        r.pop("source"); r.pop("offset")
        out.append(key(r))
    return sorted(out)
check("late", late("file.late.jsonl"), late("kafka.late.jsonl"))
# dead letters: garbage has no shop, so load puts it in partition 0
dead = lambda name: sorted((r["reason"], r.get("raw_hex")) for r in lines(name))
check("dead letters", dead("file.dead.jsonl"), dead("kafka.dead.jsonl"))
for r in lines("kafka.dead.jsonl"):
    if not (r["source"].startswith("it-bounded-") and isinstance(r["offset"], int) and r["offset"] >= 0):
        ok = False; print("dead letter without topic partition and offset:", r); break
fs, ks = summary("file.log"), summary("kafka.log")
for k in ("input", "applied", "duplicate", "late", "invalid", "shop_days", "agent_days", "violations", "alerts",
          "shops_in_several_partitions"):
    check("summary " + k, fs[k], ks[k])
check("kafka input = loaded records", records, ks["input"])
check("counts add up", ks["input"], ks["applied"] + ks["duplicate"] + ks["late"] + ks["invalid"])
sys.exit(0 if ok else 1)
EOF
done

# `gen --brokers` writes the same stream straight into a topic, split as the files are:
# the same results again.
"$bin" --log-format json gen --events 150000 --seed 31 --days 2 --duplicate-rate 0.02 --disorder-rate 0.05 \
  --late-rate 0.005 --invalid-rate 0.005 --garbage-rate 0.001 \
  --brokers "$brokers" --topic "$topic-gen" --partitions 3 2>"$tmp/gen-kafka.log" ||
  fail "gen --brokers: $(cat "$tmp/gen-kafka.log")"
"$bin" --log-format json run -q --until-end --now-ms "$now" --brokers "$brokers" --topic "$topic-gen" --output "$tmp/gen.jsonl" \
  2>"$tmp/gen-run.log" || fail "run over gen's topic: $(cat "$tmp/gen-run.log")"
cmp -s <(sort "$tmp/file.jsonl") <(sort "$tmp/gen.jsonl") ||
  fail "gen --brokers: results differ from the files': $(sort "$tmp/file.jsonl" | wc -l) vs $(sort "$tmp/gen.jsonl" | wc -l)"

# Empty partitions end at once: two shops in a topic of eight partitions.
"$bin" --log-format json gen --events 3000 --shops 2 --seed 5 --output "$tmp/small.pb" 2>/dev/null
"$bin" --log-format json load -q --brokers "$brokers" --topic "$topic-sparse" --partitions 8 --input "$tmp/small.pb" 2>"$tmp/sparse-load.log" ||
  fail "sparse load: $(cat "$tmp/sparse-load.log")"
timeout 60 "$bin" --log-format json run -q --until-end --brokers "$brokers" --topic "$topic-sparse" --output "$tmp/sparse.jsonl" 2>"$tmp/sparse.log" ||
  fail "a topic with empty partitions did not end: $(cat "$tmp/sparse.log")"
grep -q '"input":3' "$tmp/sparse.log" || true
python3 -c '
import json, sys
s = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{\"type\":\"summary\"")][-1]
sys.exit(0 if s["input"] >= 3000 and s["input"] == s["applied"] + s["duplicate"] + s["late"] + s["invalid"] else 1)' \
  "$tmp/sparse.log" || fail "sparse topic summary: $(cat "$tmp/sparse.log")"

# A topic that does not exist: exit 1, naming it.
set +e
"$bin" --log-format json run -q --until-end --brokers "$brokers" --topic "$topic-missing" --output "$tmp/x.jsonl" 2>"$tmp/missing.log"
st=$?
set -e
[ $st -eq 1 ] || fail "missing topic: exit $st, want 1"
grep -q "$topic-missing" "$tmp/missing.log" || fail "missing topic not named: $(cat "$tmp/missing.log")"

# A property librdkafka does not know: exit 2, naming it.
set +e
"$bin" --log-format json run -q --until-end --brokers "$brokers" --topic "$topic" -X no.such.property=1 --output "$tmp/x.jsonl" 2>"$tmp/prop.log"
st=$?
set -e
[ $st -eq 2 ] || fail "unknown -X property: exit $st, want 2"
grep -q "no.such.property" "$tmp/prop.log" || fail "unknown property not named: $(cat "$tmp/prop.log")"

echo "kafka bounded run: equals file mode ($records records) with 1, 2 and 3 shards, also from gen --brokers; empty partitions end; errors named"
