#!/usr/bin/env bash
# Out of memory is a failed run, never quietly wrong results: under a small
# address-space limit replyrate must exit 1 naming the cause, every event it
# could not hold must be a dead letter with reason engine_out_of_memory (how
# many depends on where memory runs out), and the four counts must still add
# up to the input.
set -euo pipefail
bin=$1
if ldd "$bin" 2>/dev/null | grep -qE 'libasan|libtsan'; then
  echo "skipped: sanitizer builds reserve more address space than the limit allows"; exit 0
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$bin" gen --events 3000000 --seed 21 --output "$tmp/in.pb" 2>/dev/null
set +e
( ulimit -v 120000; exec "$bin" run -q --input "$tmp/in.pb" --output "$tmp/out.jsonl" \
    --dead-letter "$tmp/dead.jsonl" ) 2>"$tmp/err"
rc=$?
set -e
[ "$rc" = 1 ] || { echo "expected exit 1, got $rc"; cat "$tmp/err"; exit 1; }
grep -q "out of memory" "$tmp/err" || { echo "no out-of-memory message"; cat "$tmp/err"; exit 1; }
python3 - "$tmp" <<'PY'
import json, sys
tmp = sys.argv[1]
s = [json.loads(l) for l in open(f"{tmp}/err") if l.startswith('{"type":"summary"')][-1]
assert s["applied"] + s["duplicate"] + s["late"] + s["invalid"] == s["input"], s
oom = sum(1 for l in open(f"{tmp}/dead.jsonl") if json.loads(l)["reason"] == "engine_out_of_memory")
assert oom == s["invalid"], (oom, s)  # clean input: only the engine's own rejections
print(f"out of memory handled: {oom} events dead-lettered, exit 1")
PY
