#!/usr/bin/env bash
# bench/kafka.sh: a bounded run from a real local broker against the raw
# consume rate of the same topic (issue 3: at least 0.8 of it).
#
#   bench/kafka.sh [--events N] [--repeat K] [--partitions P]
#
# Builds Release into build-bench/, starts a broker of its own
# (deploy/kafka/broker.sh, port 19292, state in bench/data/kafka), generates
# N model events into a topic once (cached by its name), then runs K
# repetitions, each back to back: rr_kafka_bench (a bare consumer with
# run's settings, touching every byte), `replyrate run --brokers` writing
# JSON Lines, and `replyrate run --brokers --publish` (results to topics in
# one transaction, a fresh group each time). Writes the medians and the
# ratios taken within each repetition to bench/results/kafka-DATE-REV.md.
# The broker shares this machine's cores with what it serves: on 2 cores
# its own CPU is part of every number.
set -euo pipefail

EVENTS=5000000
REPEAT=5
PARTS=4
usage() { echo "usage: bench/kafka.sh [--events N] [--repeat K] [--partitions P]" >&2; exit 2; }
while [ $# -gt 0 ]; do
    case "$1" in
    --events) [ $# -ge 2 ] || usage; EVENTS=$2; shift 2 ;;
    --repeat) [ $# -ge 2 ] || usage; REPEAT=$2; shift 2 ;;
    --partitions) [ $# -ge 2 ] || usage; PARTS=$2; shift 2 ;;
    -h | --help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) usage ;;
    esac
done
[[ "$EVENTS" =~ ^[1-9][0-9]*$ && "$REPEAT" =~ ^[1-9][0-9]*$ && "$PARTS" =~ ^[1-9][0-9]*$ ]] || usage

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BUILD=build-bench
export RR_KAFKA_PORT=19292 RR_KAFKA_STATE=$ROOT/bench/data/kafka
BROKERS=127.0.0.1:$RR_KAFKA_PORT
TOPIC="bench.events.$EVENTS.p$PARTS"
REV=$(git rev-parse --short HEAD 2>/dev/null || echo norev)
log() { echo "bench/kafka: $*" >&2; }

log "building Release into $BUILD/"
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DRR_TESTS=OFF -DRR_BENCH=ON >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target replyrate rr_kafka_bench >/dev/null
deploy/kafka/broker.sh start
trap 'deploy/kafka/broker.sh stop' EXIT

if ! "$BUILD/bench/rr_kafka_bench" --brokers "$BROKERS" --topic "$TOPIC" >/dev/null 2>&1; then
    log "generating $EVENTS model events into $TOPIC"
    "$BUILD/replyrate" gen --events "$EVENTS" --seed 1 --duplicate-rate 0.01 --disorder-rate 0.02 \
        --brokers "$BROKERS" --topic "$TOPIC" --partitions "$PARTS" >&2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; deploy/kafka/broker.sh stop' EXIT
raw=$tmp/raw.jsonl
timed() { # mode, command...: one JSON line with wall and CPU from /usr/bin/time
    local mode=$1; shift
    /usr/bin/time -f '%e %U %S' -o "$tmp/time" "$@" 2>"$tmp/err" >/dev/null ||
        { cat "$tmp/err" >&2; exit 1; }
    local input
    input=$(grep -o '"input":[0-9]*' "$tmp/err" | tail -1 | cut -d: -f2)
    read -r wall user sys <"$tmp/time"
    echo "{\"mode\":\"$mode\",\"rep\":$rep,\"events\":$input,\"wall_s\":$wall,\"cpu_s\":$(echo "$user + $sys" | bc)}"
}
for rep in $(seq 1 "$REPEAT"); do
    log "repetition $rep of $REPEAT"
    "$BUILD/bench/rr_kafka_bench" --brokers "$BROKERS" --topic "$TOPIC" |
        jq -c --argjson rep "$rep" '{mode, rep: $rep, events: .messages, wall_s, cpu_s}' >>"$raw"
    timed run "$BUILD/replyrate" run -q --until-end --brokers "$BROKERS" --topic "$TOPIC" --output "$tmp/out.jsonl" >>"$raw"
    timed publish "$BUILD/replyrate" run -q --until-end --brokers "$BROKERS" --topic "$TOPIC" --publish \
        --topic-prefix "bench.out" --group "bench-$rep-$(date +%s%N)" >>"$raw"
done

out="bench/results/kafka-$(date -u +%Y-%m-%d)-$REV.md"
python3 - "$raw" "$EVENTS" "$PARTS" "$REV" "$TOPIC" >"$out" <<'EOF'
import json, statistics, sys, platform
raw, events, parts, rev, topic = sys.argv[1:6]
rows = [json.loads(l) for l in open(raw)]
modes = ["consume", "run", "publish"]
what = {"consume": "bare librdkafka consumer, run's settings, every byte touched (the floor)",
        "run": "`replyrate run --brokers --topic`, JSON Lines to a file",
        "publish": "`replyrate run --brokers --topic --publish`: results to 6 topics, one transaction"}
by = {m: [r for r in rows if r["mode"] == m] for m in modes}
med = lambda xs: statistics.median(xs)
print(f"# Kafka benchmark, rev {rev}\n")
print(f"```sh\nbench/kafka.sh --events {events} --partitions {parts} --repeat {len(by['run'])}\n```\n")
print(f"- Topic `{topic}`: {by['consume'][0]['events']:,} records in {parts} partitions, on a real broker "
      f"(Apache Kafka 4.1.1, KRaft, deploy/kafka/broker.sh) on the same 2-core machine")
print(f"- Machine: {platform.machine()}, kernel {platform.release()}; medians over {len(by['run'])} repetitions\n")
print("| mode | measures | wall s | events/s (wall) | CPU s |")
print("|---|---|---:|---:|---:|")
for m in modes:
    w = med([r["wall_s"] for r in by[m]]); c = med([r["cpu_s"] for r in by[m]])
    n = by[m][0]["events"]
    print(f"| {m} | {what[m]} | {w:.2f} | {n / w / 1e6:.2f} M | {c:.2f} |")
print("\nRatios of rates within one repetition (run's events/s over the bare consumer's), median (min..max):\n")
print("| ratio | wall |")
print("|---|---:|")
for m in ("run", "publish"):
    rs = [c["wall_s"] / r["wall_s"] for c, r in zip(by["consume"], by[m])]
    print(f"| {m} / consume | {med(rs):.2f} ({min(rs):.2f}..{max(rs):.2f}) |")
rs = [r["wall_s"] / p["wall_s"] for r, p in zip(by["run"], by["publish"])]
print(f"| publish / run (the cost of publishing exactly once) | {med(rs):.2f} ({min(rs):.2f}..{max(rs):.2f}) |")
ok = med([c["wall_s"] / r["wall_s"] for c, r in zip(by["consume"], by["run"])]) >= 0.8
print(f"\nTarget (a bounded run at >= 0.8 of the raw consume rate): **{'met' if ok else 'NOT met'}** for `run`.\n")
print("<details><summary>Raw measurements</summary>\n\n```json")
for r in rows: print(json.dumps(r))
print("```\n</details>")
EOF
cat "$out"
log "wrote $out"
