#!/usr/bin/env bash
# A prototype of a design is only a measure of it if it computes what the
# engine computes. On generated days that cross midnights and carry the
# delivery knobs, the verdicts and the digests of the final shop_day,
# agent_day and violation records (bench/digest.h) of each prototype must
# equal the engine's, and it must have needed nothing it does not support:
#   compact-mem  (bench/compact.c) the compact record, metrics as straight code;
#   bucket-mem   (bench/bucket.c) the day in cache-sized passes, with several
#                bucket counts and slices. It cannot see events invalid against
#                their conversation's shop or buyer (bucket.h): the days with
#                --invalid-rate, and the resumed conversations' day (a resumed
#                one names a second buyer while the first is not over), check
#                compact-mem only.
set -euo pipefail
bench=$1
bin=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

same() { # day name, prototype label, its json
  python3 - "$1" "$2" "$tmp/engine.json" "$3" <<'PY'
import json, sys
name, label, e, c = sys.argv[1], sys.argv[2], json.load(open(sys.argv[3])), json.load(open(sys.argv[4]))
keys = ("applied", "duplicate", "late", "invalid", "digest")
bad = [k for k in keys if e[k] != c[k]]
if bad:
    sys.exit("FAIL: %s: %s differs in %s: engine %s, prototype %s" % (
        name, label, bad, [e[k] for k in bad], [c[k] for k in bad]))
if c["unsupported"]:
    sys.exit("FAIL: %s: %s: the day needed %d unsupported events" % (name, label, c["unsupported"]))
if not (e["digest"]["violations"] and e["digest"]["agent_days"]):
    sys.exit("FAIL: %s: no violations or agent-days to compare" % name)
print("ok %s, %s: %d shop-days, %d agent-days, %d violations equal" % (
    name, label, c["digest"]["shop_days"], c["digest"]["agent_days"], c["digest"]["violations"]))
PY
}

check() { # name, buckets (yes|no), gen args...
  local name=$1 buckets=$2; shift 2
  "$bin" gen "$@" --output "$tmp/$name.pb" 2>"$tmp/gen.log" || fail "gen $name: $(cat "$tmp/gen.log")"
  "$bench" --input "$tmp/$name.pb" --mode engine-mem --digest >"$tmp/engine.json"
  "$bench" --input "$tmp/$name.pb" --mode compact-mem >"$tmp/p.json"
  same "$name" compact-mem "$tmp/p.json"
  [ "$buckets" = yes ] || return 0
  for kb in "1 0" "7 5000" "64 0" "3 100"; do
    set -- $kb
    "$bench" --input "$tmp/$name.pb" --mode bucket-mem --buckets "$1" --slice "$2" >"$tmp/p.json"
    same "$name" "bucket-mem --buckets $1 --slice $2" "$tmp/p.json"
  done
}

check days3 no --events 300000 --days 3 --seed 7 --duplicate-rate 0.01 --disorder-rate 0.03 \
  --late-rate 0.002 --invalid-rate 0.002 --garbage-rate 0.001 --redeliver-rate 0.01 \
  --redeliver-max-delay 2h
check days3-valid yes --events 300000 --days 3 --seed 8 --duplicate-rate 0.01 \
  --disorder-rate 0.03 --late-rate 0.002 --garbage-rate 0.001 --redeliver-rate 0.01 \
  --redeliver-max-delay 2h
check busy yes --events 200000 --shops 3 --seed 3 --duplicate-rate 0.05 --disorder-rate 0.1
check lifetime no --events 200000 --days 2 --seed 5 --resume-rate 0.05 --duplicate-rate 0.01 \
  --redeliver-rate 0.01 --disorder-rate 0.02
