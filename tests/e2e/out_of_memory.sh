#!/usr/bin/env bash
# Out of memory is a failed run, never quietly wrong results or a crash:
# under a small address-space limit replyrate must exit 1 naming the cause,
# the four counts must still add up to the input, and, the run having failed,
# no output or dead-letter file is published (docs/operations.md) nor any
# temporary left. (This test found a crash: a buyer-map entry inserted
# before its accumulator could be allocated.)
set -euo pipefail
bin=$1
# (no pipe into grep -q: with pipefail, ldd's SIGPIPE would make the test flaky)
libs=$(ldd "$bin" 2>/dev/null || true)
if [[ $libs == *libasan* || $libs == *libtsan* ]]; then
  echo "skipped: sanitizer builds reserve more address space than the limit allows"; exit 0
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# Margins both ways: a run on tiny input fits in 30 MB of address space; this
# input needs over 80 MB of resident memory. The limit sits between.
"$bin" --log-format json gen --events 4000000 --seed 21 --output "$tmp/in.pb" 2>/dev/null
# and the same traffic split by shop into two files, for two shards
"$bin" --log-format json gen --events 4000000 --seed 21 --output "$tmp/p0.pb" --output "$tmp/p1.pb" 2>/dev/null
check() { # what, run arguments...
  local what=$1 rc
  shift
  set +e
  rm -rf "$tmp/out"
  mkdir "$tmp/out"
  ( ulimit -v 52000; exec "$bin" --log-format json run -q "$@" --output "$tmp/out/out.jsonl" \
      --dead-letter "$tmp/out/dead.jsonl" ) 2>"$tmp/err"
  rc=$?
  set -e
  [ "$rc" = 1 ] || { echo "$what: expected exit 1, got $rc"; cat "$tmp/err"; exit 1; }
  grep -q "out of memory" "$tmp/err" || { echo "$what: no out-of-memory message"; cat "$tmp/err"; exit 1; }
  python3 - "$tmp" "$what" <<'PY'
import json, os, sys
tmp, what = sys.argv[1], sys.argv[2]
err = open(f"{tmp}/err").read()
s = [json.loads(l) for l in err.splitlines() if l.startswith('{"type":"summary"')][-1]
assert s["applied"] + s["duplicate"] + s["late"] + s["invalid"] == s["input"], s
assert s["invalid"] > 0, s  # clean input: these are the events the engine could not hold
assert s["status"] == 1 and s["reason"] == "error", s
left = os.listdir(f"{tmp}/out")
assert not left, f"{what}: a failed run left {left}"
print(f"{what}: out of memory handled: exit 1, {s['invalid']} events not held, nothing published")
PY
}
check "one engine" --input "$tmp/in.pb"
check "two shards" --threads 2 --input "$tmp/p0.pb" --input "$tmp/p1.pb"
