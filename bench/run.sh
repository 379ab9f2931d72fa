#!/usr/bin/env bash
# bench/run.sh: the offline benchmark (bench/README.md).
#
#   bench/run.sh [--events N] [--repeat K] [--against REV]
#
# Builds Release into build-bench/, generates one day of traffic once
# (bench/data/day.pb.zst, cached, regenerated only when the generator
# arguments change), then runs K repetitions; each repetition runs every
# mode back to back (rr_bench read, decode, decode-pbc, engine, decode-mem,
# engine-mem, skeleton-mem, compact-mem, then the real `replyrate run` under /usr/bin/time), so ratios
# can be taken within one repetition. With --against REV, REV is built too
# (from `git archive`, into build-bench-against/) and every mode runs for
# both builds back to back, in alternating order, so old and new are
# compared within each repetition. Prints the report and writes it to
# bench/results/YYYY-MM-DD-<short rev>.md with the raw measurements.
set -euo pipefail

EVENTS=20000000
REPEAT=5
AGAINST=""
usage() { echo "usage: bench/run.sh [--events N] [--repeat K] [--against REV]" >&2; exit 2; }
while [ $# -gt 0 ]; do
    case "$1" in
    --events) [ $# -ge 2 ] || usage; EVENTS=$2; shift 2 ;;
    --repeat) [ $# -ge 2 ] || usage; REPEAT=$2; shift 2 ;;
    --against) [ $# -ge 2 ] || usage; AGAINST=$2; shift 2 ;;
    -h | --help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) usage ;;
    esac
done
[[ "$EVENTS" =~ ^[1-9][0-9]*$ && "$REPEAT" =~ ^[1-9][0-9]*$ ]] || usage

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
COMMAND="bench/run.sh --events $EVENTS --repeat $REPEAT${AGAINST:+ --against $AGAINST}"
BUILD=build-bench
DATA=bench/data
DAY=$DATA/day.pb.zst
# The same day split in two by shop (gen with two outputs): the shard modes.
SPLIT=("$DATA/day-p0.pb.zst" "$DATA/day-p1.pb.zst")
# Small delivery noise, as a real stream has: 1% duplicates, 2% disorder.
GEN_ARGS="--events $EVENTS --seed 1 --duplicate-rate 0.01 --disorder-rate 0.02"

log() { echo "bench: $*" >&2; }

need=()
[ -x /usr/bin/time ] || need+=(time)
command -v jq >/dev/null || need+=(jq)
if ((${#need[@]})); then
    log "installing ${need[*]}"
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get install -y "${need[@]}" >/dev/null
fi

# The revision being measured, taken before building (HEAD may move while this runs).
REV=$(git rev-parse --short HEAD 2>/dev/null || echo norev)
DIRTY=""
[ -z "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] || DIRTY=" (tracked files modified)"
[ -z "$(git status --porcelain 2>/dev/null | grep '^??' | grep -v '^?? bench/')" ] ||
    DIRTY="$DIRTY (untracked sources present)"

log "building Release into $BUILD/"
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DRR_TESTS=OFF -DRR_BENCH=ON >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target replyrate rr_bench >/dev/null
RR="$BUILD/replyrate"
BENCH="$BUILD/bench/rr_bench"
if [ -n "$AGAINST" ]; then
    OLD_REV=$(git rev-parse --short "$AGAINST^{commit}")
    OLD=build-bench-against
    log "building $AGAINST ($OLD_REV) Release into $OLD/"
    rm -rf "$OLD/src"
    mkdir -p "$OLD/src"
    git archive "$OLD_REV" | tar -x -C "$OLD/src"
    cmake -S "$OLD/src" -B "$OLD/build" -DCMAKE_BUILD_TYPE=Release -DRR_TESTS=OFF -DRR_BENCH=ON >/dev/null
    cmake --build "$OLD/build" -j"$(nproc)" --target replyrate rr_bench >/dev/null
fi

mkdir -p "$DATA" bench/results
if [ ! -s "$DAY" ] || [ "$(cat "$DAY.args" 2>/dev/null)" != "$GEN_ARGS" ]; then
    log "generating $DAY: replyrate gen $GEN_ARGS"
    rm -f "$DAY" "$DAY.args"
    # gen picks compression by the name, so the temporary file ends in .pb.zst too.
    # shellcheck disable=SC2086
    "$RR" --log-format json gen $GEN_ARGS --output "$DATA/day.tmp.pb.zst" 2>"$DAY.gen.json"
    mv "$DATA/day.tmp.pb.zst" "$DAY"
    echo "$GEN_ARGS" >"$DAY.args"
else
    log "using cached $DAY ($GEN_ARGS)"
fi
if [ ! -s "${SPLIT[1]}" ] || [ "$(cat "${SPLIT[0]}.args" 2>/dev/null)" != "$GEN_ARGS" ]; then
    log "generating ${SPLIT[*]}: replyrate gen $GEN_ARGS, split by shop"
    rm -f "${SPLIT[@]}" "${SPLIT[0]}.args"
    # shellcheck disable=SC2086
    "$RR" --log-format json gen $GEN_ARGS --output "$DATA/p0.tmp.pb.zst" --output "$DATA/p1.tmp.pb.zst" 2>/dev/null
    mv "$DATA/p0.tmp.pb.zst" "${SPLIT[0]}"
    mv "$DATA/p1.tmp.pb.zst" "${SPLIT[1]}"
    echo "$GEN_ARGS" >"${SPLIT[0]}.args"
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/rr-bench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
RAW=$TMP/raw.jsonl
: >"$RAW"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
STARTED=$(date -u '+%F %H:%M UTC')

run_mode() { # mode rep run-arguments...  (the binary: $RRBIN)
    local mode=$1 rep=$2 e u s m
    shift 2
    /usr/bin/time -f '%e %U %S %M' -o "$TMP/time" \
        "$RRBIN" --log-format json run "$@" --output "$TMP/out.jsonl" --quiet 2>"$TMP/run.err"
    read -r e u s m <"$TMP/time"
    grep '"type":"summary"' "$TMP/run.err" | jq -c --arg mode "$mode" --argjson rep "$rep" \
        --argjson wall "$e" --argjson user "$u" --argjson sys "$s" --argjson rss "$m" \
        --argjson outb "$(stat -c %s "$TMP/out.jsonl")" '{
            mode: $mode, rep: $rep, events: .input, wall_s: $wall,
            cpu_s: ($user + $sys), user_s: $user, sys_s: $sys,
            events_per_s: (.input / $wall), events_per_cpu_s: (.input / ($user + $sys)),
            cpu_s_per_m: (($user + $sys) / (.input / 1e6)), peak_rss_mib: ($rss / 1024),
            applied, duplicate, late, invalid, shop_days, agent_days, violations,
            loop_s: .seconds, output_bytes: $outb}' >>"$RAW"
    log "rep $rep/$REPEAT $mode: $(tail -n1 "$RAW" | jq -r '"\(.events_per_s/1e6*100|floor/100) M events/s wall, \(.events_per_cpu_s/1e6*100|floor/100) M events/CPU-s"')"
    rm -f "$TMP/out.jsonl"
}

one_build() { # rep prefix: every mode with the build in $RRBIN and $BENCHBIN
    local rep=$1 pre=$2 mode
    local modes="read decode decode-pbc engine decode-mem engine-mem"
    # the skeleton floor, where the build has it (an --against build may not)
    if { "$BENCHBIN" 2>&1 || true; } | grep -q skeleton-mem; then modes="$modes skeleton-mem"; fi
    # the prototype of the next design (bench/compact.c), likewise
    if { "$BENCHBIN" 2>&1 || true; } | grep -q compact-mem; then modes="$modes compact-mem"; fi
    for mode in $modes; do
        "$BENCHBIN" --input "$DAY" --mode "$mode" |
            sed "s/\"rep\":1,/\"rep\":$rep,/; s/\"mode\":\"/\"mode\":\"$pre/" >>"$RAW"
        log "rep $rep/$REPEAT $pre$mode: $(tail -n1 "$RAW" | jq -r '"\(.events_per_cpu_s/1e6*100|floor/100) M events/CPU-s"')"
    done
    # The real binary, as a user runs it; its summary line is on stderr. Then
    # the split day with one engine and with two shards (--threads).
    run_mode "${pre}run" "$rep" --input "$DAY"
    run_mode "${pre}run-split" "$rep" --threads 1 --input "${SPLIT[0]}" --input "${SPLIT[1]}"
    run_mode "${pre}run-shards" "$rep" --threads 2 --input "${SPLIT[0]}" --input "${SPLIT[1]}"
}

for rep in $(seq 1 "$REPEAT"); do
    # with --against, the two builds take turns going first
    if [ -n "$AGAINST" ] && [ $((rep % 2)) = 0 ]; then
        RRBIN=$OLD/build/replyrate BENCHBIN=$OLD/build/bench/rr_bench one_build "$rep" old:
    fi
    RRBIN=$RR BENCHBIN=$BENCH one_build "$rep" ""
    if [ -n "$AGAINST" ] && [ $((rep % 2)) = 1 ]; then
        RRBIN=$OLD/build/replyrate BENCHBIN=$OLD/build/bench/rr_bench one_build "$rep" old:
    fi
done
# The prototype's records against the engine's, by digest (untimed for the tables).
if { "$BENCH" 2>&1 || true; } | grep -q compact-mem; then
    "$BENCH" --input "$DAY" --mode engine-mem --digest |
        sed 's/"mode":"engine-mem"/"mode":"engine-digest"/' >>"$RAW"
fi
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

OUT=bench/results/$(date -u +%F)-$REV.md
{
    echo "# replyrate benchmark, $STARTED, rev $REV$DIRTY"
    echo
    echo '```sh'
    echo "$COMMAND"
    echo '```'
    echo
    echo "- Input: \`$DAY\`, \`replyrate gen $GEN_ARGS\`:" \
        "$(stat -c %s "$DAY" | numfmt --to=iec) compressed;" \
        "$(jq -r '"\(.events) records, \(.stream_bytes) bytes decompressed, \(.shops) shops, \(.conversations) conversations"' "$DAY.gen.json" 2>/dev/null || echo "generator summary missing")"
    echo "- Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')," \
        "$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM," \
        "kernel $(uname -r), $(. /etc/os-release && echo "$PRETTY_NAME")"
    echo "- Build: Release, link-time optimisation (RR_LTO) ($(cc --version | head -n1)), zstd $(pkg-config --modversion libzstd)," \
        "protobuf-c $(pkg-config --modversion libprotobuf-c)"
    [ -z "$AGAINST" ] || echo "- Against: $AGAINST ($OLD_REV), built the same way into $OLD/; its modes are named old:MODE"
    echo "- Load average (1/5/15 min) before: $LOAD_BEFORE, after: $LOAD_AFTER"
    echo
    python3 bench/report.py "$RAW" ${AGAINST:+"$OLD_REV"}
    echo "<details><summary>Raw measurements (one JSON line per mode and repetition)</summary>"
    echo
    echo '```json'
    cat "$RAW"
    echo '```'
    echo
    echo "</details>"
} >"$OUT"
cat "$OUT" | sed '/^<details>/,$d'
log "wrote $OUT"
