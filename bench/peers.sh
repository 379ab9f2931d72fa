#!/usr/bin/env bash
# bench/peers.sh: replyrate against its peers on the same input (bench/peers/README.md).
#
#   bench/peers.sh [--events N[,N...]] [--repeat K] [--contenders NAME[,NAME...]]
#                  [--workload day|state-heavy] [--source file|topic]
#                  [--gen-args "ARGS"] [--note TEXT]
#
# Builds replyrate Release into build-bench/ (when not built yet or stale),
# generates one day of traffic per size (bench/data/peers-N.pb, plain,
# cached by its generator arguments; --workload state-heavy: every
# conversation brief, gen --brief-share 1, about N/2.8 conversations open at
# the end, bench/data/peers-state-N.pb), with --source topic loads it into a
# topic on a real broker (bench/peers/topic.sh), prepares every contender
# (bench/peers/NAME/prepare.sh INPUT OUTDIR, untimed), then runs K repetitions;
# each repetition runs replyrate and every contender back to back on the same
# input under /usr/bin/time (wall, user, sys, peak RSS). Every contender's
# records (OUTDIR/records.jsonl) are compared with replyrate's for the metrics
# it lists (bench/peers/NAME/metrics), every repetition. Writes
# bench/results/peers-YYYY-MM-DD-<rev>[-state-heavy][-topic][-N].md and .json
# (medians and raw runs) and PNG plots beside them (bench/peers/plot.py).
# Contenders: every bench/peers/*/run.sh, or those named by --contenders;
# with --source topic those whose `sources` file does not list topic are left out.
# Default: --events 1000000 --repeat 3, gen noise as bench/run.sh
# (--duplicate-rate 0.01 --disorder-rate 0.02). --note adds a line to the
# report (e.g. what else the machine was doing); repeatable.
set -euo pipefail

SIZES=1000000
REPEAT=3
CONTENDERS=""
NOISE="--duplicate-rate 0.01 --disorder-rate 0.02"
WORKLOAD=day
SOURCE=file
NOTES=()
usage() { echo "usage: bench/peers.sh [--events N[,N...]] [--repeat K] [--contenders A,B] [--workload day|state-heavy] [--source file|topic] [--gen-args ARGS] [--note TEXT]" >&2; exit 2; }
while [ $# -gt 0 ]; do
    case "$1" in
    --events) [ $# -ge 2 ] || usage; SIZES=$2; shift 2 ;;
    --repeat) [ $# -ge 2 ] || usage; REPEAT=$2; shift 2 ;;
    --contenders) [ $# -ge 2 ] || usage; CONTENDERS=$2; shift 2 ;;
    --gen-args) [ $# -ge 2 ] || usage; NOISE=$2; shift 2 ;;
    --workload) [ $# -ge 2 ] || usage; WORKLOAD=$2; shift 2 ;;
    --source) [ $# -ge 2 ] || usage; SOURCE=$2; shift 2 ;;
    --note) [ $# -ge 2 ] || usage; NOTES+=("$2"); shift 2 ;;
    -h | --help) sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) usage ;;
    esac
done
[[ "$SIZES" =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ && "$REPEAT" =~ ^[1-9][0-9]*$ ]] || usage
[[ "$WORKLOAD" =~ ^(day|state-heavy)$ && "$SOURCE" =~ ^(file|topic)$ ]] || usage

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
COMMAND="bench/peers.sh --events $SIZES --repeat $REPEAT${CONTENDERS:+ --contenders $CONTENDERS} --workload $WORKLOAD --source $SOURCE --gen-args \"$NOISE\""
PREFIX=peers
WORKLOAD_ARGS=""
if [ "$WORKLOAD" = state-heavy ]; then PREFIX=peers-state; WORKLOAD_ARGS="--brief-share 1 "; fi
BUILD=build-bench
DATA=bench/data
log() { echo "peers: $*" >&2; }

[ -x /usr/bin/time ] || { log "needs /usr/bin/time (apt-get install time)"; exit 1; }
if [ -z "$CONTENDERS" ]; then
    # every folder that follows the contract; one still being built is skipped, and said so
    for d in bench/peers/*/; do
        [ "$d" != bench/peers/common/ ] || continue # the JVM contenders' shared sources
        if [ -x "$d/run.sh" ] && [ -s "$d/metrics" ]; then
            CONTENDERS=${CONTENDERS:+$CONTENDERS,}$(basename "$d")
        else
            log "skipping $d: no executable run.sh and metrics file (bench/peers/README.md)"
        fi
    done
    [ -n "$CONTENDERS" ] || { log "no contender in bench/peers/"; exit 2; }
fi
IFS=, read -r -a NAMES <<<"$CONTENDERS"
LEFT_OUT=()
for name in "${NAMES[@]}"; do
    [ -x "bench/peers/$name/run.sh" ] && [ -s "bench/peers/$name/metrics" ] ||
        { log "bench/peers/$name: no run.sh or metrics file"; exit 2; }
done
if [ "$SOURCE" = topic ]; then # only the contenders that read a topic
    KEEP=()
    for name in "${NAMES[@]}"; do
        if grep -qx topic "bench/peers/$name/sources" 2>/dev/null; then KEEP+=("$name"); else
            log "leaving out $name: it reads no topic (bench/peers/$name/sources)"; LEFT_OUT+=("$name")
        fi
    done
    [ ${#KEEP[@]} -gt 0 ] || { log "no contender reads a topic"; exit 2; }
    NAMES=("${KEEP[@]}")
fi

REV=$(git rev-parse --short HEAD 2>/dev/null || echo norev)
DIRTY=""
[ -z "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] || DIRTY=" (tracked files modified)"

log "building replyrate Release into $BUILD/"
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DRR_TESTS=OFF -DRR_BENCH=ON >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target replyrate rr_bench rr_kafka_bench >/dev/null
RR=$ROOT/$BUILD/replyrate

TMP=$(mktemp -d "${TMPDIR:-/tmp}/rr-peers.XXXXXX")
# on any exit: each contender's stop.sh (a broker it started), then the scratch
stop_all() {
    local name
    for name in ${CONTENDERS//,/ }; do
        [ ! -x "bench/peers/$name/stop.sh" ] || "bench/peers/$name/stop.sh" >&2 || true
    done
    [ "$SOURCE" != topic ] || bench/peers/topic.sh stop >&2 || true
    rm -rf "$TMP"
}
trap stop_all EXIT
RAW=$TMP/raw.jsonl
: >"$RAW"
mkdir -p "$DATA" bench/results
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
STARTED=$(date -u '+%F %H:%M UTC')
DATASETS=()

timed() { # size rep name events outdir command...: one timed run, a JSON line to $RAW
    local size=$1 rep=$2 name=$3 events=$4 dir=$5 e u s m
    shift 5
    if ! /usr/bin/time -f '%e %U %S %M' -o "$TMP/time" "$@" >"$dir/stdout" 2>"$dir/stderr"; then
        log "$name failed at $size events (rep $rep):"; tail -n 20 "$dir/stderr" >&2; exit 1
    fi
    read -r e u s m <"$TMP/time"
    python3 - "$size" "$rep" "$name" "$events" "$e" "$u" "$s" "$m" >>"$RAW" <<'PY'
import json, sys
size, rep, name, events, wall, user, sys_, rss = sys.argv[1:]
events, wall, user, sys_ = int(events), float(wall), float(user), float(sys_)
cpu = user + sys_
print(json.dumps({"size": int(size), "rep": int(rep), "engine": name, "events": events,
                  "wall_s": wall, "user_s": user, "sys_s": sys_, "cpu_s": cpu,
                  "events_per_cpu_s": events / cpu if cpu else None,
                  "cpu_s_per_m": cpu / (events / 1e6), "peak_rss_mib": int(rss) / 1024}))
PY
    log "rep $rep/$REPEAT $name @ $size: wall ${e}s, cpu $(awk "BEGIN{print $u+$s}")s, peak $((m / 1024)) MiB"
}

for size in ${SIZES//,/ }; do
    INPUT=$DATA/$PREFIX-$size.pb
    GEN_ARGS="--events $size --seed 1 $WORKLOAD_ARGS$NOISE"
    if [ ! -s "$INPUT" ] || [ "$(cat "$INPUT.args" 2>/dev/null)" != "$GEN_ARGS" ]; then
        log "generating $INPUT: replyrate gen $GEN_ARGS"
        rm -f "$INPUT" "$INPUT.args"
        # shellcheck disable=SC2086
        "$RR" --log-format json gen $GEN_ARGS --output "$DATA/$PREFIX-$size.tmp.pb" 2>"$INPUT.gen.json"
        mv "$DATA/$PREFIX-$size.tmp.pb" "$INPUT"
        echo "$GEN_ARGS" >"$INPUT.args"
    fi
    # the records in the file (the model events plus the noise), the same count for every engine
    read -r events convs < <(python3 -c 'import json,sys; g = json.load(open(sys.argv[1]))
print(sum(g["expect"].values()), g["conversations"])' "$INPUT.gen.json")
    DATASETS+=("$size|$GEN_ARGS|$(stat -c %s "$INPUT")|$convs")
    SRC=$ROOT/$INPUT # what the engines read: the file, or kafka:HOST:PORT/TOPIC
    RR_SRC=(--input "$INPUT")
    # the floor: reading and decoding the file, or a bare librdkafka consumer of the topic
    FLOOR=("$ROOT/$BUILD/bench/rr_bench" --input "$INPUT" --mode decode --repeat 1)
    if [ "$SOURCE" = topic ]; then
        log "loading $INPUT into a topic (untimed)"
        read -r bootstrap topic < <(REPLYRATE=$RR bench/peers/topic.sh load "$INPUT")
        SRC=kafka:$bootstrap/$topic
        RR_SRC=(--brokers "$bootstrap" --topic "$topic" --until-end)
        FLOOR=("$ROOT/$BUILD/bench/rr_kafka_bench" --brokers "$bootstrap" --topic "$topic")
    fi
    for name in "${NAMES[@]}"; do
        mkdir -p "$TMP/$name-$size"
        if [ -x "bench/peers/$name/prepare.sh" ]; then
            log "preparing $name for $SRC (untimed)"
            REPLYRATE=$RR "bench/peers/$name/prepare.sh" "$SRC" "$TMP/$name-$size" >&2
        fi
    done
    rrdir=$TMP/replyrate-$size
    mkdir -p "$rrdir"
    for rep in $(seq 1 "$REPEAT"); do
        timed "$size" "$rep" replyrate "$events" "$rrdir" \
            "$RR" --log-format json run "${RR_SRC[@]}" --output "$rrdir/out.jsonl" --quiet
        # replyrate's verdicts on this input, beside its run
        python3 - "$RAW" "$rrdir/stderr" "$events" <<'PY'
import json, sys
path, stderr, events = sys.argv[1], sys.argv[2], int(sys.argv[3])
summary = json.loads([l for l in open(stderr) if '"type":"summary"' in l][0])
if summary["input"] != events:
    sys.exit(f"peers: replyrate read {summary['input']} records, the generator wrote {events}")
rows = [json.loads(l) for l in open(path)]
rows[-1]["verdicts"] = {k: summary[k] for k in ("applied", "duplicate", "late", "invalid",
                                                 "peak_open_conversations")}
with open(path, "w") as f:
    f.writelines(json.dumps(r) + "\n" for r in rows)
PY
        mkdir -p "$TMP/floor-$size"
        timed "$size" "$rep" floor "$events" "$TMP/floor-$size" "${FLOOR[@]}"
        for name in "${NAMES[@]}"; do
            dir=$TMP/$name-$size
            rm -f "$dir/records.jsonl"
            timed "$size" "$rep" "$name" "$events" "$dir" "bench/peers/$name/run.sh" "$SRC" "$dir"
            if cmp=$(python3 bench/peers/compare.py "$rrdir/out.jsonl" "$dir/records.jsonl" --json \
                --metrics "$(paste -sd, "bench/peers/$name/metrics")" 2>"$TMP/cmp.err"); then :; else
                log "$name records differ from replyrate's at $size events:"; cat "$TMP/cmp.err" >&2
            fi
            [ -n "$cmp" ] || cmp='{"equal": false, "error": "the comparer failed"}'
            python3 - "$RAW" "$cmp" <<'PY'
import json, sys
path, cmp = sys.argv[1], json.loads(sys.argv[2])
rows = [json.loads(l) for l in open(path)]
rows[-1]["compare"] = cmp
with open(path, "w") as f:
    f.writelines(json.dumps(r) + "\n" for r in rows)
PY
        done
    done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

OUT=bench/results/peers-$(date -u +%F)-$REV
[ "$WORKLOAD" = day ] || OUT=$OUT-$WORKLOAD
[ "$SOURCE" = file ] || OUT=$OUT-$SOURCE
# another run of the same revision that day keeps its report: this one gets -2, -3, ...
n=1 base=$OUT
while [ -e "$OUT.md" ]; do n=$((n + 1)); OUT=$base-$n; done
{
    echo "# replyrate against its peers, $STARTED, rev $REV$DIRTY"
    echo
    echo '```sh'
    echo "$COMMAND"
    echo '```'
    echo
    for d in "${DATASETS[@]}"; do
        IFS='|' read -r size args bytes convs <<<"$d"
        echo "- Input at $size: \`bench/data/$PREFIX-$size.pb\`, \`replyrate gen $args\`, $(numfmt --to=iec "$bytes") plain, $convs conversations"
    done
    if [ "$SOURCE" = topic ]; then
        echo "- Source: a topic of 1 partition on a real Kafka 4.1.1 broker on this machine (bench/peers/topic.sh, loaded untimed); replyrate runs \`replyrate run --brokers HOST:PORT --topic TOPIC --until-end --output out.jsonl\`; floor: \`rr_kafka_bench\`, a bare librdkafka consumer with replyrate's settings reading the topic to its end (bench/README.md)"
    else
        echo "- Source: the file; replyrate runs \`replyrate run --input FILE --output out.jsonl\`; floor: \`rr_bench --mode decode\`, reading and decoding every record and nothing else (bench/README.md)"
    fi
    for name in ${LEFT_OUT[@]+"${LEFT_OUT[@]}"}; do
        echo "- Left out: $name (it reads no topic)"
    done
    echo "- Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')," \
        "$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM," \
        "kernel $(uname -r), $(. /etc/os-release && echo "$PRETTY_NAME")"
    echo "- replyrate: Release ($(cc --version | head -n1)), one engine thread"
    for name in "${NAMES[@]}"; do
        [ ! -s "bench/peers/$name/describe.sh" ] || echo "- $name: $(bash "bench/peers/$name/describe.sh")"
    done
    echo "- Load average (1/5/15 min) before: $LOAD_BEFORE, after: $LOAD_AFTER"
    for note in ${NOTES[@]+"${NOTES[@]}"}; do echo "- $note"; done
    echo
    python3 bench/peers/report.py "$RAW" "$OUT.json"
    bench/peers/plot.py "$OUT.json" "$OUT" # the PNGs beside, and their Markdown
    echo "<details><summary>Raw measurements (one JSON line per engine, size and repetition)</summary>"
    echo
    echo '```json'
    cat "$RAW"
    echo '```'
    echo
    echo "</details>"
} >"$OUT.md"
sed '/^<details>/,$d' "$OUT.md"
log "wrote $OUT.md, $OUT.json and $OUT-*.png"
