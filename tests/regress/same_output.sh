#!/usr/bin/env bash
# tests/regress/same_output.sh --against REV [--events N]
#
# A change that must not change results (a restructuring, a speed-up) proves
# it here: REV is built (git archive into build-regress/REV, Release), a day
# of N generated events (default 5,000,000) with every delivery knob on is
# written once as four files (two plain, two zstd), and both builds run it
# with every output format: JSON Lines, CSV, zstd protobuf, late events and
# dead letter. With one thread every file must be byte-identical, the
# manifest too (once its run-specific fields are dropped); with two shards,
# whose records interleave by thread timing, the files must hold the same
# lines. Prints SAME or the first differences; exit 0 only when the same.
set -euo pipefail
usage() { echo "usage: tests/regress/same_output.sh --against REV [--events N]" >&2; exit 2; }
REV="" EVENTS=5000000
while [ $# -gt 0 ]; do
  case "$1" in
    --against) [ $# -ge 2 ] || usage; REV=$2; shift 2 ;;
    --events) [ $# -ge 2 ] || usage; EVENTS=$2; shift 2 ;;
    -h | --help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) usage ;;
  esac
done
[ -n "$REV" ] && [[ "$EVENTS" =~ ^[1-9][0-9]*$ ]] || usage
cd "$(dirname "$0")/../.."
log() { echo "same_output: $*" >&2; }

OLD_REV=$(git rev-parse --short "$REV^{commit}")
OLDB=build-regress/$OLD_REV
if [ ! -x "$OLDB/build/replyrate" ]; then
  log "building $REV ($OLD_REV) into $OLDB/"
  rm -rf "$OLDB"; mkdir -p "$OLDB/src"
  git archive "$OLD_REV" | tar -x -C "$OLDB/src"
  cmake -S "$OLDB/src" -B "$OLDB/build" -DCMAKE_BUILD_TYPE=Release -DRR_TESTS=OFF -DRR_BENCH=OFF >/dev/null
  cmake --build "$OLDB/build" -j"$(nproc)" --target replyrate >/dev/null
fi
log "building this tree into build-regress/new/"
cmake -S . -B build-regress/new -DCMAKE_BUILD_TYPE=Release -DRR_TESTS=OFF -DRR_BENCH=OFF >/dev/null
cmake --build build-regress/new -j"$(nproc)" --target replyrate >/dev/null
old=$PWD/$OLDB/build/replyrate new=$PWD/build-regress/new/replyrate

data=$PWD/build-regress/data-$EVENTS
GEN=(-n "$EVENTS" --seed 15 --duplicate-rate 0.01 --disorder-rate 0.02 --late-rate 0.002
     --invalid-rate 0.002 --garbage-rate 0.0005 --redeliver-rate 0.003 --resume-rate 0.02)
if [ ! -s "$data/d.pb.zst" ]; then
  log "generating $EVENTS events into $data/ (with the old build: the new one must read what it wrote)"
  mkdir -p "$data"
  "$old" gen "${GEN[@]}" -o "$data/a.pb" -o "$data/b.pb" -o "$data/c.pb.zst" -o "$data/d.pb.zst" 2>/dev/null
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/rr-same.XXXXXX"); trap 'rm -rf "$work"' EXIT
for bin in old new; do
  for j in 1 2; do
    d=$work/$bin-$j; mkdir -p "$d"
    (cd "$d" && { "${!bin}" --log-format json run -i "$data/a.pb" -i "$data/b.pb" -i "$data/c.pb.zst" -i "$data/d.pb.zst" \
        -j $j --now-ms 1900000000000 -o r.jsonl -o r.csv -o r.pb.zst --late late.jsonl \
        --dead-letter dead.jsonl 2>stderr; echo $? >status; })
    # the summary, without its timings and the log line's own fields (ts, level, component)
    python3 -c 'import json, sys
for l in open(sys.argv[1]):
    if l.startswith("{\"type\":\"summary\""):
        s = json.loads(l)
        for k in ("ts", "level", "component", "seconds", "events_per_s"):
            s.pop(k, None)
        print(json.dumps(s))' "$d/stderr" >"$d/summary" || true
    rm -f "$d/stderr"
    if [ $j = 1 ]; then
      python3 - "$d/r.jsonl.manifest.json" >"$d/manifest" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
for k in ("cwd", "started_at", "ended_at", "seconds"):
    m.pop(k, None)
print(json.dumps(m, sort_keys=True, indent=1))
PY
    else
      for f in r.jsonl r.csv late.jsonl dead.jsonl; do sort "$d/$f" >"$d/$f.sorted"; done
      rm -f "$d/r.jsonl" "$d/r.csv" "$d/late.jsonl" "$d/dead.jsonl" "$d/r.pb.zst"
    fi
    rm -f "$d/r.jsonl.manifest.json"
  done
done
rc=0
for j in 1 2; do
  if diff -r "$work/old-$j" "$work/new-$j" >"$work/diff"; then
    echo "same_output: --threads $j SAME: status $(cat "$work/new-$j/status"), $(cat "$work/new-$j"/r.jsonl* | wc -l) records"
  else
    echo "same_output: --threads $j DIFFERS from $OLD_REV:"; head -20 "$work/diff"; rc=1
  fi
done
exit $rc
