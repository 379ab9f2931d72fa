#!/usr/bin/env bash
# bench/kafka.sh: a bounded run from a real local broker against the raw
# consume rate of the same topic (issue 3: at least 0.8 of it).
#
#   bench/kafka.sh [--events N] [--repeat K] [--partitions P] [--no-restore]
#
# Builds Release into build-bench/, starts a broker of its own
# (deploy/kafka/broker.sh, port 19292, state in bench/data/kafka), generates
# N model events into a topic once (cached by its name), then runs K
# repetitions, each back to back: rr_kafka_bench (a bare consumer with
# run's settings, touching every byte), `replyrate run --brokers` writing
# JSON Lines (shards: one per CPU; and again with --threads 1, one engine,
# its records checked equal), `replyrate run --brokers --publish` (results to topics in
# one transaction, a fresh group each time), and a streaming run (fresh
# group, --commit-every 1s: checkpoints in the changelog every second;
# engines fed on one thread per CPU, and again with --threads 1) timed from
# its start to its first commit that has read every partition to its end.
# Writes the medians and the
# ratios taken within each repetition to bench/results/kafka-DATE-REV.md.
# Then (unless --no-restore) the restore of a million open conversations
# from the changelog: a topic holding the first 16M records of bench/run.sh's
# 20M-event day (built once, cached by its name) is streamed to its end, and
# the stream restarted K times in its group, each restart restoring every
# partition from the changelog.
# The broker shares this machine's cores with what it serves: on 2 cores
# its own CPU is part of every number.
set -euo pipefail

EVENTS=5000000
REPEAT=5
PARTS=4
RESTORE=1
usage() { echo "usage: bench/kafka.sh [--events N] [--repeat K] [--partitions P] [--no-restore]" >&2; exit 2; }
while [ $# -gt 0 ]; do
    case "$1" in
    --events) [ $# -ge 2 ] || usage; EVENTS=$2; shift 2 ;;
    --repeat) [ $# -ge 2 ] || usage; REPEAT=$2; shift 2 ;;
    --partitions) [ $# -ge 2 ] || usage; PARTS=$2; shift 2 ;;
    --no-restore) RESTORE=0; shift ;;
    -h | --help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
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

# records TOPIC: how many records the topic holds, 0 if it does not exist.
# Any other answer (a broker still starting) is asked again: generating into
# a topic that exists would add to it.
records() {
    local i out
    for i in $(seq 1 20); do
        if out=$("$BUILD/bench/rr_kafka_bench" --brokers "$BROKERS" --topic "$1" 2>"$BUILD/records.err"); then
            jq .messages <<<"$out"
            return
        fi
        grep -q "no such topic" "$BUILD/records.err" && { echo 0; return; }
        sleep 1
    done
    cat "$BUILD/records.err" >&2
    exit 1
}

if [ "$(records "$TOPIC")" = 0 ]; then
    log "generating $EVENTS model events into $TOPIC"
    "$BUILD/replyrate" --log-format json gen --events "$EVENTS" --seed 1 --duplicate-rate 0.01 --disorder-rate 0.02 \
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
# stream_until PATTERN EVERY TOPIC PREFIX GROUP ERRFILE: a streaming run in
# GROUP, committing every EVERY, gets SIGTERM once its stderr shows PATTERN.
stream_until() {
    local pid
    "$BUILD/replyrate" --log-format json run --brokers "$BROKERS" --topic "$3" --publish --topic-prefix "$4" \
        --group "$5" --commit-every "$2" 2>"$6" >/dev/null &
    pid=$!
    until grep -q "$1" "$6"; do
        kill -0 "$pid" 2>/dev/null || { cat "$6" >&2; exit 1; }
        sleep 0.05
    done
    kill -TERM "$pid"
    wait "$pid" || { cat "$6" >&2; exit 1; }
}
# restart_in_group TOPIC PREFIX GROUP ERRFILE: a restart restores every
# partition from the changelog; it gets SIGTERM once assigned.
restart_in_group() { stream_until '"type":"assigned"' 1s "$@"; }
# A streaming run never ends by itself: its time is the time to its first
# commit with nothing left to read (lag 0), then it gets SIGTERM.
# stream_timed MODE [run options...]
stream_timed() {
    local t0 ta t1 pid group="bench-s-$rep-$(date +%s%N)" mode=$1
    shift
    t0=$(date +%s.%N)
    /usr/bin/time -f '%e %U %S' -o "$tmp/time" "$BUILD/replyrate" --log-format json run --brokers "$BROKERS" \
        --topic "$TOPIC" --publish --topic-prefix "bench.sout" --group "$group" \
        --commit-every 1s "$@" 2>"$tmp/err" >/dev/null &
    pid=$!
    until grep -q '"type":"assigned"' "$tmp/err"; do
        kill -0 "$pid" 2>/dev/null || { cat "$tmp/err" >&2; exit 1; }
        sleep 0.02
    done
    ta=$(date +%s.%N)
    until grep -q '"type":"commit".*"lag":0,' "$tmp/err"; do
        kill -0 "$pid" 2>/dev/null || { cat "$tmp/err" >&2; exit 1; }
        sleep 0.05
    done
    t1=$(date +%s.%N)
    pkill -TERM -P "$pid"
    wait "$pid" || { cat "$tmp/err" >&2; exit 1; }
    restart_in_group "$TOPIC" bench.sout "$group" "$tmp/err2"
    python3 - "$tmp/err" "$rep" "$t0" "$t1" "$tmp/time" "$ta" "$tmp/err2" "$mode" <<'EOF'
import json, sys
err, rep, t0, t1, tf, ta = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5], float(sys.argv[6])
mode = sys.argv[8]
lines = [json.loads(l) for l in open(err) if l.startswith("{")]
restored = [json.loads(l) for l in open(sys.argv[7]) if l.startswith('{"type":"restored"')]
commits = [l for l in lines if l["type"] == "commit"]
upto = next(i for i, c in enumerate(commits) if c["lag"] == 0) + 1
_, user, sys_ = open(tf).read().split()
print(json.dumps({"mode": mode, "rep": rep, "events": commits[upto - 1]["input"],
                  "wall_s": round(t1 - t0, 3), "join_s": round(ta - t0, 3), "cpu_s": round(float(user) + float(sys_), 2),
                  "commits": upto, "checkpoint_s": round(sum(c["seconds"] for c in commits[:upto]), 3),
                  "checkpoint_mb": round(sum(c["checkpoint_bytes"] for c in commits[:upto]) / 1e6, 1),
                  "last_checkpoint_raw_mb": round(commits[upto - 1]["checkpoint_raw_bytes"] / 1e6, 1),
                  "restored_partitions": len(restored),
                  "restored_open_conversations": sum(r["open_conversations"] for r in restored),
                  "restored_mb": round(sum(r["checkpoint_bytes"] for r in restored) / 1e6, 1),
                  "restore_s": round(sum(r["seconds"] for r in restored), 3)}))
EOF
}
for rep in $(seq 1 "$REPEAT"); do
    log "repetition $rep of $REPEAT"
    "$BUILD/bench/rr_kafka_bench" --brokers "$BROKERS" --topic "$TOPIC" |
        jq -c --argjson rep "$rep" '{mode, rep: $rep, events: .messages, wall_s, cpu_s}' >>"$raw"
    timed run "$BUILD/replyrate" --log-format json run -q --until-end --brokers "$BROKERS" --topic "$TOPIC" --output "$tmp/out.jsonl" >>"$raw"
    timed run-1 "$BUILD/replyrate" --log-format json run -q --until-end --threads 1 --brokers "$BROKERS" --topic "$TOPIC" \
        --output "$tmp/out1.jsonl" >>"$raw"
    cmp -s <(sort "$tmp/out.jsonl") <(sort "$tmp/out1.jsonl") || { log "one engine and the shards disagree"; exit 1; }
    timed publish "$BUILD/replyrate" --log-format json run -q --until-end --brokers "$BROKERS" --topic "$TOPIC" --publish \
        --topic-prefix "bench.out" --group "bench-$rep-$(date +%s%N)" >>"$raw"
    stream_timed stream >>"$raw"
    stream_timed stream-1 --threads 1 >>"$raw"
done

# A million open conversations: the first 16M records of bench/run.sh's
# day (bench/rr_checkpoint_bench: 1.38M open there), streamed to their end.
RTOPIC="bench.restore.16000000.p$PARTS"
if [ "$RESTORE" = 1 ]; then
    have=$(records "$RTOPIC")
    if [ "$have" != 16000000 ]; then
        [ "$have" = 0 ] || { log "$RTOPIC holds $have records, not 16000000: remove bench/data/kafka"; exit 1; }
        log "loading the first 16M records of a 20M-event day into $RTOPIC (once)"
        # gen dies of SIGPIPE when the 16M are taken: not a failure
        { "$BUILD/replyrate" --log-format json gen --events 20000000 --seed 1 --duplicate-rate 0.01 --disorder-rate 0.02 \
            --output - 2>/dev/null || true; } |
            python3 -c '
import sys
want, inp, out = int(sys.argv[1]), sys.stdin.buffer, sys.stdout.buffer
buf, n = b"", 0
while n < want:
    chunk = inp.read(1 << 24)
    if not chunk:
        sys.exit("input ended after %d records" % n)
    buf += chunk
    i = 0
    while n < want:  # one varint length prefix, then the record
        j, size, shift = i, 0, 0
        while j < len(buf) and buf[j] & 0x80:
            size |= (buf[j] & 0x7F) << shift; shift += 7; j += 1
        if j >= len(buf):
            break
        size |= buf[j] << shift; j += 1
        if j + size > len(buf):
            break
        i, n = j + size, n + 1
    out.write(buf[:i])
    buf = buf[i:]
' 16000000 | "$BUILD/replyrate" --log-format json load -q --input - --brokers "$BROKERS" --topic "$RTOPIC" --partitions "$PARTS" >&2
    fi
    log "restore: streaming $RTOPIC to its end"
    group="bench-r-$(date +%s%N)"
    stream_until '"type":"commit".*"lag":0,' 5s "$RTOPIC" bench.rout "$group" "$tmp/rerr"
    for rep in $(seq 1 "$REPEAT"); do
        log "restore: restart $rep of $REPEAT"
        restart_in_group "$RTOPIC" bench.rout "$group" "$tmp/rerr2"
        python3 - "$tmp/rerr2" "$rep" <<'EOF2'
import json, sys
restored = [json.loads(l) for l in open(sys.argv[1]) if l.startswith('{"type":"restored"')]
print(json.dumps({"mode": "restore", "rep": int(sys.argv[2]), "partitions": len(restored),
                  "open_conversations": sum(r["open_conversations"] for r in restored),
                  "mb": round(sum(r["checkpoint_bytes"] for r in restored) / 1e6, 1),
                  "seconds": round(sum(r["seconds"] for r in restored), 3),
                  "slowest_partition_s": max(r["seconds"] for r in restored)}))
EOF2
    done >>"$raw"
fi

out="bench/results/kafka-$(date -u +%Y-%m-%d)-$REV.md"
python3 - "$raw" "$EVENTS" "$PARTS" "$REV" "$TOPIC" >"$out" <<'EOF'
import json, statistics, sys, platform
raw, events, parts, rev, topic = sys.argv[1:6]
rows = [json.loads(l) for l in open(raw)]
modes = ["consume", "run", "run-1", "publish", "stream", "stream-1"]
what = {"consume": "bare librdkafka consumer, run's settings, every byte touched (the floor)",
        "run": "`replyrate run --brokers --topic --until-end`, JSON Lines to a file (shards: one per CPU)",
        "run-1": "the same with `--threads 1`: one engine on one thread",
        "publish": "`replyrate run --brokers --topic --until-end --publish`: results to 6 topics, one transaction",
        "stream": "`replyrate run --brokers --topic --publish --commit-every 1s` (streaming; engines fed on one thread per CPU), start to its first commit at lag 0",
        "stream-1": "the same with `--threads 1`: every engine fed on one thread"}
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
for m in ("run", "run-1", "publish", "stream", "stream-1"):
    rs = [c["wall_s"] / r["wall_s"] for c, r in zip(by["consume"], by[m])]
    print(f"| {m} / consume | {med(rs):.2f} ({min(rs):.2f}..{max(rs):.2f}) |")
rs = [(s1["wall_s"] - s1["join_s"]) / (s["wall_s"] - s["join_s"]) for s, s1 in zip(by["stream"], by["stream-1"])]
print(f"| stream / stream-1 (engines on every core vs one thread; from assignment) | {med(rs):.2f} ({min(rs):.2f}..{max(rs):.2f}) |")
rs = [r["wall_s"] / p["wall_s"] for r, p in zip(by["run"], by["publish"])]
print(f"| publish / run (the cost of publishing exactly once) | {med(rs):.2f} ({min(rs):.2f}..{max(rs):.2f}) |")
rs = [p["wall_s"] / s["wall_s"] for p, s in zip(by["publish"], by["stream"])]
print(f"| stream / publish (streaming with 1 s checkpoints vs one bounded transaction) | {med(rs):.2f} ({min(rs):.2f}..{max(rs):.2f}) |")
st = by["stream"]
rs = [c["wall_s"] / (s["wall_s"] - s["join_s"]) for c, s in zip(by["consume"], st)]
print(f"| stream / consume, from the stream's assignment (not counting {med([s['join_s'] for s in st]):.2f} s to join the group) | {med(rs):.2f} ({min(rs):.2f}..{max(rs):.2f}) |")
print(f"\nStreaming checkpoints (median): {med([s['commits'] for s in st]):.0f} commits to catch up, "
      f"{med([s['checkpoint_s'] for s in st]):.2f} s spent checkpointing and committing in all, "
      f"{med([s['checkpoint_mb'] for s in st]):.1f} MB written to the changelog; the last checkpoint "
      f"{med([s['last_checkpoint_raw_mb'] for s in st]):.1f} MB raw.")
mbps = [s["restored_mb"] / s["restore_s"] for s in st if s["restore_s"] > 0]
print(f"\nRestore from the changelog (a restart of the stream in its group, after SIGTERM; median): "
      f"{med([s['restored_partitions'] for s in st]):.0f} partitions, "
      f"{med([s['restored_open_conversations'] for s in st]):,.0f} open conversations from "
      f"{med([s['restored_mb'] for s in st]):.1f} MB of changelog in {med([s['restore_s'] for s in st]):.2f} s, "
      f"read, decompressed and restored one partition after another ({med(mbps):.0f} MB/s).")
rs = [r for r in rows if r["mode"] == "restore"]
if rs:
    print(f"\nRestore of a million open conversations (`bench.restore.16000000.p{parts}`: the first 16M "
          f"records of bench/run.sh's 20M-event day, streamed to their end, then the stream restarted "
          f"in its group {len(rs)} times): {med([r['open_conversations'] for r in rs]):,.0f} open "
          f"conversations in {med([r['partitions'] for r in rs]):.0f} partitions, "
          f"{med([r['mb'] for r in rs]):.1f} MB of changelog, restored in "
          f"**{med([r['seconds'] for r in rs]):.2f} s** (median; {min(r['seconds'] for r in rs):.2f}.."
          f"{max(r['seconds'] for r in rs):.2f}), read, decompressed and restored one partition after "
          f"another. Target (issue 3): one million open conversations restored in under 2 s: "
          f"**{'met' if med([r['seconds'] for r in rs]) < 2 and med([r['open_conversations'] for r in rs]) >= 1e6 else 'NOT met'}**.")
ok = med([c["wall_s"] / r["wall_s"] for c, r in zip(by["consume"], by["run"])]) >= 0.8
print(f"\nTarget (a bounded run at >= 0.8 of the raw consume rate): **{'met' if ok else 'NOT met'}** for `run`.\n")
print("<details><summary>Raw measurements</summary>\n\n```json")
for r in rows: print(json.dumps(r))
print("```\n</details>")
EOF
cat "$out"
log "wrote $out"
