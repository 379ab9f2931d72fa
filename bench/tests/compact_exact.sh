#!/usr/bin/env bash
# The compact prototype (bench/compact.c) is only a measure of a design if it
# computes what the engine computes: on generated days that cross midnights
# and carry every delivery knob, its verdicts and the digests of its final
# shop_day, agent_day and violation records (bench/digest.h) must equal the
# engine's, and it must have needed nothing it does not support.
set -euo pipefail
bench=$1
bin=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

check() { # name, gen args...
  local name=$1; shift
  "$bin" gen "$@" --output "$tmp/$name.pb" 2>"$tmp/gen.log" || fail "gen $name: $(cat "$tmp/gen.log")"
  "$bench" --input "$tmp/$name.pb" --mode engine-mem --digest >"$tmp/engine.json"
  "$bench" --input "$tmp/$name.pb" --mode compact-mem >"$tmp/compact.json"
  python3 - "$name" "$tmp/engine.json" "$tmp/compact.json" <<'PY'
import json, sys
name, e, c = sys.argv[1], json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
keys = ("applied", "duplicate", "late", "invalid", "digest")
bad = [k for k in keys if e[k] != c[k]]
if bad:
    sys.exit("FAIL: %s: compact differs in %s: engine %s, compact %s" % (
        name, bad, [e[k] for k in bad], [c[k] for k in bad]))
if c["unsupported"]:
    sys.exit("FAIL: %s: the day needed %d unsupported events" % (name, c["unsupported"]))
if not (e["digest"]["violations"] and e["digest"]["agent_days"]):
    sys.exit("FAIL: %s: no violations or agent-days to compare" % name)
print("ok %s: %d shop-days, %d agent-days, %d violations equal" % (
    name, c["digest"]["shop_days"], c["digest"]["agent_days"], c["digest"]["violations"]))
PY
}

check days3 --events 300000 --days 3 --seed 7 --duplicate-rate 0.01 --disorder-rate 0.03 \
  --late-rate 0.002 --invalid-rate 0.002 --garbage-rate 0.001 --redeliver-rate 0.01 \
  --redeliver-max-delay 2h
check busy --events 200000 --shops 3 --seed 3 --duplicate-rate 0.05 --disorder-rate 0.1
check lifetime --events 200000 --days 2 --seed 5 --resume-rate 0.05 --duplicate-rate 0.01 \
  --redeliver-rate 0.01 --disorder-rate 0.02
