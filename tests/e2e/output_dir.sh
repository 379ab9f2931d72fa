#!/usr/bin/env bash
# `run --output-dir` (docs/output.md, "Loader files"): one file per table in
# each form, whose every row is what the same run's JSON Lines records say
# (tests/e2e/output_dir.py rebuilds the tables from them), on two shards and
# two days with every kind of bad delivery; the flags it refuses.
set -euo pipefail
bin=$1
src=${RR_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
now=$(( $(date +%s) * 1000 ))

"$bin" gen --events 150000 --seed 5 --days 2 --duplicate-rate 0.01 --late-rate 0.01 \
  --invalid-rate 0.01 --garbage-rate 0.001 --output "$tmp/p0.pb" --output "$tmp/p1.pb.zst" 2>/dev/null
in=(--input "$tmp/p0.pb" --input "$tmp/p1.pb.zst" --threads 2 --now-ms "$now")
"$bin" run -q "${in[@]}" -o "$tmp/r.jsonl" --late "$tmp/l.jsonl" --dead-letter "$tmp/d.jsonl" \
  2>"$tmp/run.log" || fail "run: $(cat "$tmp/run.log")"
for ext in csv jsonl csv.zst jsonl.zst; do
  "$bin" run -q "${in[@]}" --output-dir "$tmp/out-$ext" --output-format "$ext" 2>"$tmp/run.log" ||
    fail "--output-format $ext: $(cat "$tmp/run.log")"
  python3 "$src/tests/e2e/output_dir.py" "$tmp/out-$ext" "$ext" "$tmp/r.jsonl" "$tmp/l.jsonl" "$tmp/d.jsonl" ||
    fail "--output-format $ext: the tables differ from the records"
done
# beside --output, into a directory that exists, the default form is csv
mkdir "$tmp/both"
"$bin" run -q "${in[@]}" -o "$tmp/both/all.csv" --output-dir "$tmp/both" 2>"$tmp/run.log" ||
  fail "--output with --output-dir: $(cat "$tmp/run.log")"
[ -s "$tmp/both/all.csv" ] && [ -s "$tmp/both/shop_day.csv" ] && [ -s "$tmp/both/manifest.json" ] ||
  fail "--output with --output-dir: $(ls "$tmp/both")"

refused() { # the flags, and a word the message must hold
  local want=$1; shift
  if "$bin" run -q "${in[@]}" "$@" 2>"$tmp/err.log"; then fail "accepted: $*"; fi
  grep -q -- "$want" "$tmp/err.log" || fail "$*: the message does not say $want: $(cat "$tmp/err.log")"
}
refused "drop --late" --output-dir "$tmp/x" --late "$tmp/x.jsonl"
refused "use csv, jsonl" --output-dir "$tmp/x" --output-format pb
refused "needs --output-dir" -o "$tmp/y.jsonl" --output-format csv
touch "$tmp/file"
refused "not a directory" --output-dir "$tmp/file"
refused "are the same file" --output-dir "$tmp/both" -o "$tmp/both/shop_day.csv"
echo "ok"
