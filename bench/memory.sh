#!/usr/bin/env bash
# bench/memory.sh: the engine's memory on the bench day, this checkout beside
# another revision, side by side in one run (bench/README.md, "Memory").
#
#   bench/memory.sh [--base REV] [--events N] [--repeat K]
#
# Builds REV (default aea86c8: before event ids were kept for a conversation's
# whole life) in a temporary git worktree and this checkout into build-bench/,
# generates (or reuses) bench/data/day.pb.zst like bench/run.sh, then runs
# `replyrate run --threads 1` of each build in turn, K times, under
# /usr/bin/time. Reports the median peak RSS of each, the difference, and the
# bytes per conversation (peak RSS / conversations of the day), checks that
# both builds wrote the same records (metric-set version aside), and writes
# the report to bench/results/memory-YYYY-MM-DD-<short rev>.md.
set -euo pipefail

BASE=aea86c8
EVENTS=20000000
REPEAT=3
usage() { echo "usage: bench/memory.sh [--base REV] [--events N] [--repeat K]" >&2; exit 2; }
while [ $# -gt 0 ]; do
    case "$1" in
    --base) [ $# -ge 2 ] || usage; BASE=$2; shift 2 ;;
    --events) [ $# -ge 2 ] || usage; EVENTS=$2; shift 2 ;;
    --repeat) [ $# -ge 2 ] || usage; REPEAT=$2; shift 2 ;;
    -h | --help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) usage ;;
    esac
done
[[ "$EVENTS" =~ ^[1-9][0-9]*$ && "$REPEAT" =~ ^[1-9][0-9]*$ ]] || usage
[ -x /usr/bin/time ] || { echo "bench/memory.sh: /usr/bin/time is missing (apt-get install time)" >&2; exit 1; }

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
log() { echo "bench/memory: $*" >&2; }
TMP=$(mktemp -d)
OLD=$TMP/base
trap 'git worktree remove --force "$OLD" >/dev/null 2>&1 || true; rm -rf "$TMP"' EXIT

base_rev=$(git rev-parse --short "$BASE")
this_rev=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src include || echo "+dirty")
log "building $base_rev (base) and $this_rev (this checkout)"
git worktree add -q --detach "$OLD" "$BASE"
cmake -S "$OLD" -B "$OLD/build" -DCMAKE_BUILD_TYPE=Release -DRR_KAFKA_TESTS=OFF -DRR_BENCH=OFF >/dev/null
cmake --build "$OLD/build" -j"$(nproc)" --target replyrate >/dev/null
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-bench -j"$(nproc)" --target replyrate >/dev/null

DAY=bench/data/day.pb.zst
GEN_ARGS="--events $EVENTS --seed 1 --duplicate-rate 0.01 --disorder-rate 0.02"
mkdir -p bench/data
if [ ! -f "$DAY" ] || [ "$(cat "$DAY.args" 2>/dev/null)" != "$GEN_ARGS" ]; then
    log "generating $DAY ($GEN_ARGS)"
    # shellcheck disable=SC2086
    build-bench/replyrate gen $GEN_ARGS --output "$DAY" 2>/dev/null
    echo "$GEN_ARGS" >"$DAY.args"
fi

# one run: binary, name -> "rss_kib conversations" on stdout
one() {
    local extra=()
    # builds that write a manifest beside their output: not wanted here
    "$1" run --help 2>/dev/null | grep -q -- --no-manifest && extra=(--no-manifest)
    /usr/bin/time -f '%M' -o "$TMP/time" "$1" run -q --threads 1 --input "$DAY" \
        --output "$TMP/$2.jsonl" "${extra[@]}" 2>"$TMP/$2.log" ||
        { log "$2 failed: $(tail -2 "$TMP/$2.log")"; exit 1; }
    local convs
    convs=$(sed -n 's/.*"peak_open_conversations":\([0-9]*\).*/\1/p' "$TMP/$2.log" | tail -1)
    echo "$(tail -1 "$TMP/time") $convs"
}
for k in $(seq 1 "$REPEAT"); do
    log "repetition $k of $REPEAT"
    one "$OLD/build/replyrate" base >>"$TMP/base.rss"
    one build-bench/replyrate this >>"$TMP/this.rss"
done
strip() { sed 's/"version":"m[0-9]-[0-9a-f]*"//' "$1" | sort | md5sum | cut -d' ' -f1; }
same=no
[ "$(strip "$TMP/base.jsonl")" = "$(strip "$TMP/this.jsonl")" ] && same=yes

median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR + 1) / 2)]}'; }
b=$(cut -d' ' -f1 "$TMP/base.rss" | median)
t=$(cut -d' ' -f1 "$TMP/this.rss" | median)
convs=$(head -1 "$TMP/this.rss" | cut -d' ' -f2)
out=bench/results/memory-$(date +%F)-$this_rev.md
{
    echo "# Memory: $this_rev beside $base_rev"
    echo
    echo "- Command: \`bench/memory.sh --base $BASE --events $EVENTS --repeat $REPEAT\`"
    echo "- Day: \`replyrate gen $GEN_ARGS\`; $convs conversations; \`replyrate run --threads 1\`"
    echo "- Machine: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo); $(uname -sr)"
    echo "- Same records from both builds (metric-set version aside): $same"
    echo
    echo "| build | peak RSS, median (MiB) | bytes per conversation | runs (KiB) |"
    echo "|---|---:|---:|---|"
    for x in base:"$b":"$base_rev" this:"$t":"$this_rev"; do
        IFS=: read -r name rss rev <<<"$x"
        echo "| $rev ($name) | $((rss / 1024)) | $((rss * 1024 / convs)) | $(cut -d' ' -f1 "$TMP/$name.rss" | tr '\n' ' ')|"
    done
    echo
    echo "Difference: $(((t - b) / 1024)) MiB, $(((t - b) * 1024 / convs)) bytes per conversation."
} >"$out"
cat "$out"
[ "$same" = yes ] || { log "the two builds wrote different records"; exit 1; }
