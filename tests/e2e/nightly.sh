#!/usr/bin/env bash
# What a nightly scheduler relies on (docs/operations.md), attacked:
# - SIGTERM and SIGINT at many random points of a file run (one engine and two
#   shards; .jsonl, .csv.zst and .pb outputs, late and dead-letter files):
#   afterwards every output is either absent (or the file that was there
#   before, untouched) or equal to an uninterrupted run's; the status is 128+N
#   with "signal" in the summary, or 0 when the run had already finished; no
#   temporary file is left.
# - SIGKILL at random points: no final-named partial file, ever; a rerun does
#   not need what the killed run left.
# - A second signal exits at once, leaving nothing.
# - A failed write (file size limit), a typo'd input: status 1, the previous
#   outputs untouched, no temporaries.
# - Every quality gate and refusal, with its status and message; the input
#   intact after a refusal.
# - The manifest: where it goes, and that it describes the outputs exactly.
set -uo pipefail
bin=$(realpath "$1") # the refusal tests run in a directory of their own
tmp=$(mktemp -d)
writer=
cleanup() { [ -n "$writer" ] && kill "$writer" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
events=600000 points=24 kills=6
[ -n "${RR_E2E_QUICK:-}" ] && { events=150000 points=8 kills=3; }
failed=0
fail() { echo "FAIL: $*"; failed=1; }

# ---- input and the uninterrupted reference ----------------------------------
"$bin" --log-format json gen --events $events --seed 31 --late-rate 0.002 --invalid-rate 0.002 \
  --output "$tmp/in.pb.zst" 2>"$tmp/gen.log" || { echo "gen failed"; exit 1; }
"$bin" --log-format json gen --events $events --seed 31 --output "$tmp/p0.pb.zst" --output "$tmp/p1.pb" \
  2>/dev/null || { echo "gen failed"; exit 1; }
now=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().splitlines()[-1])["last_ts_ms"] + 3600000)' "$tmp/gen.log")
OUTS=(m.jsonl m.csv.zst m.pb late.jsonl dead.jsonl m.jsonl.manifest.json)
one() { # dir: the single-engine run's arguments, writing into dir
  echo -q --now-ms "$now" --input "$tmp/in.pb.zst" --output "$1/m.jsonl" --output "$1/m.csv.zst" \
    --output "$1/m.pb" --late "$1/late.jsonl" --dead-letter "$1/dead.jsonl"
}
two() { # dir: two shards, JSON Lines (their records' order across shards varies)
  echo -q --now-ms "$now" --threads 2 --input "$tmp/p0.pb.zst" --input "$tmp/p1.pb" \
    --output "$1/m.jsonl"
}
mkdir "$tmp/ref" "$tmp/ref2"
t0=$(date +%s%N)
# shellcheck disable=SC2046
"$bin" --log-format json run $(one "$tmp/ref") 2>"$tmp/ref/err" || { echo "reference run failed"; cat "$tmp/ref/err"; exit 1; }
ms=$((($(date +%s%N) - t0) / 1000000))
# shellcheck disable=SC2046
"$bin" --log-format json run $(two "$tmp/ref2") 2>"$tmp/ref2/err" || { echo "reference shard run failed"; cat "$tmp/ref2/err"; exit 1; }
sort "$tmp/ref2/m.jsonl" >"$tmp/ref2/sorted"
zstd -q -t "$tmp/ref/m.csv.zst" || fail "reference .csv.zst does not decompress"

# The reference parses whole, and its manifest describes it exactly.
python3 - "$tmp/ref" <<'PY' || failed=1
import hashlib, json, os, sys
d = sys.argv[1]
m = json.load(open(f"{d}/m.jsonl.manifest.json"))
s = [json.loads(l) for l in open(f"{d}/err") if l.startswith('{"type":"summary"')][-1]
def fail(msg): print("FAIL: manifest:", msg); sys.exit(1)
for k in ("input", "applied", "duplicate", "late", "invalid"):
    if m[k] != s[k]: fail(f"{k} {m[k]} != summary {s[k]}")
if not (m["status"] == 0 and m["complete"] is True and m["unread_bytes"] == 0 and m["missing_records"] == 0): fail(m)
if m["type"] != "replyrate_manifest" or not m["metric_set"].startswith("m2-") or len(m["config_sha256"]) != 64: fail(m)
if [i["path"] for i in m["inputs"]] != [os.path.join(os.path.dirname(d), "in.pb.zst")]: fail(m["inputs"])
if m["inputs"][0]["bytes"] != os.path.getsize(m["inputs"][0]["path"]): fail("input bytes")
if [o["flag"] for o in m["outputs"]] != ["--output"] * 3 + ["--late", "--dead-letter"]: fail(m["outputs"])
recs = [json.loads(l) for l in open(f"{d}/m.jsonl")]
kinds = {k: sum(1 for r in recs if r["type"] == k) for k in ("shop_day", "agent_day", "violation", "alert")}
for o in m["outputs"]:
    data = open(o["path"], "rb").read()
    if o["bytes"] != len(data) or o["sha256"] != hashlib.sha256(data).hexdigest(): fail(f"{o['path']}: bytes or sha256")
    want_fmt = {"m.jsonl": "jsonl", "m.csv.zst": "csv", "m.pb": "pb", "late.jsonl": "jsonl", "dead.jsonl": "jsonl"}
    name = os.path.basename(o["path"])
    if o["format"] != want_fmt[name] or (o["compression"] == "zstd") != name.endswith(".zst"): fail(o)
    r = o["records"]
    if o["flag"] == "--output":
        if any(r[k] != kinds[k] for k in kinds) or r["late"] or r["invalid"]: fail(f"{name}: {r} vs {kinds}")
    elif o["flag"] == "--late":
        if r["late"] != s["late"] or sum(r.values()) != r["late"] or r["late"] != sum(1 for _ in open(o["path"])): fail(r)
    elif r["invalid"] != s["invalid"] or sum(r.values()) != r["invalid"] or r["invalid"] != sum(1 for _ in open(o["path"])): fail(r)
# .pb: whole delimited records to the last byte
b, i, n = open(f"{d}/m.pb", "rb").read(), 0, 0
while i < len(b):
    ln = sh = 0
    while True:
        c = b[i]; i += 1; ln |= (c & 0x7f) << sh; sh += 7
        if c < 0x80: break
    i += ln; n += 1
if i != len(b) or n != len(recs): fail(f"m.pb: {n} records, ends at {i} of {len(b)}")
print(f"reference: {s['input']} events, {len(recs)} records; manifest matches every output")
PY

# ---- SIGTERM / SIGINT at random points ---------------------------------------
# Delays spread over the reference run's length and a bit beyond (some runs
# finish first: they must publish everything). Every other run finds the
# previous night's files in place: a stopped run must leave them as they were.
RANDOM=7
stopped=0 finished=0
check_dir() { # dir, mode (one|two), rc, pre (1: old files were there), what
  local d=$1 mode=$2 rc=$3 pre=$4 what=$5 f
  ls -A "$d" | grep -q '\.tmp\.' && fail "$what: temporary files left: $(ls -A "$d" | grep '\.tmp\.' | tr '\n' ' ')"
  local outs=("${OUTS[@]}")
  [ "$mode" = two ] && outs=(m.jsonl m.jsonl.manifest.json)
  if [ "$rc" = 0 ]; then
    finished=$((finished + 1))
    for f in "${outs[@]}"; do
      [ "$f" = m.jsonl.manifest.json ] && { [ -s "$d/$f" ] || fail "$what: no manifest"; continue; }
      if [ "$mode" = one ]; then
        cmp -s "$d/$f" "$tmp/ref/$f" || fail "$what: exit 0 but $f differs from the uninterrupted run's"
      else
        sort "$d/$f" | cmp -s - "$tmp/ref2/sorted" || fail "$what: exit 0 but $f differs"
      fi
    done
    grep -q '"status":0}' "$d/err" || fail "$what: summary: $(tail -1 "$d/err")"
    return
  fi
  stopped=$((stopped + 1))
  for f in "${outs[@]}"; do
    if [ "$pre" = 1 ]; then
      [ "$(cat "$d/$f" 2>/dev/null)" = "old $f" ] || fail "$what: exit $rc and the previous $f changed"
    else
      [ -e "$d/$f" ] && fail "$what: exit $rc and $f exists ($(wc -c <"$d/$f") bytes)"
    fi
  done
}
for i in $(seq 1 "$points"); do
  sig=TERM signo=15 mode=one
  ((i % 2)) || { sig=INT signo=2; }
  ((i % 4 == 3)) && mode=two
  pre=$(((i / 2) % 2))
  d=$tmp/sig$i
  mkdir "$d"
  if [ "$pre" = 1 ]; then for f in "${OUTS[@]}"; do echo "old $f" >"$d/$f"; done; fi
  delay_ms=$((20 + RANDOM % (ms * 115 / 100 + 1)))
  # shellcheck disable=SC2046
  "$bin" --log-format json run $($mode "$d") 2>"$d/err" &
  pid=$!
  sleep "$(printf '0.%03d' "$delay_ms")" 2>/dev/null || sleep "$((delay_ms / 1000)).$(printf '%03d' $((delay_ms % 1000)))"
  kill -s "$sig" "$pid" 2>/dev/null
  wait "$pid"
  rc=$?
  what="SIG$sig after ${delay_ms} ms ($mode, run $i)"
  if [ "$rc" = $((128 + signo)) ]; then
    if [ -s "$d/err" ]; then
      grep -q "\"status\":$rc,\"reason\":\"signal\",\"signal\":\"SIG$sig\"}" "$d/err" ||
        fail "$what: exit $rc, summary: $(tail -1 "$d/err")"
    fi # (empty: the signal came before the process installed its handler: nothing was written)
  elif [ "$rc" != 0 ]; then
    fail "$what: exit $rc (want $((128 + signo)) or 0): $(tail -2 "$d/err")"
  fi
  check_dir "$d" "$mode" "$rc" "$pre" "$what"
done
echo "signals: $points runs, $stopped stopped, $finished finished first (reference run ${ms} ms)"
[ "$stopped" -ge $((points / 3)) ] || fail "only $stopped of $points runs were stopped: the delays miss the run"

# ---- SIGKILL: only temporaries can be left -----------------------------------
for i in $(seq 1 "$kills"); do
  d=$tmp/kill$i
  mkdir "$d"
  delay_ms=$((20 + RANDOM % (ms * 115 / 100 + 1)))
  # shellcheck disable=SC2046
  "$bin" --log-format json run $(one "$d") 2>"$d/err" &
  pid=$!
  sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null # (bash would say "Killed")
  rc=$?
  what="SIGKILL after ${delay_ms} ms (run $i)"
  # Killed while publishing (or after: the process may still be exiting),
  # some outputs may have their final names: each one complete, and the
  # manifest only once they all do.
  [ "$rc" = 137 ] || [ "$rc" = 0 ] || fail "$what: exit $rc"
  left=$(ls -A "$d" | grep -v '^err$' | grep -vE '^\.(m\.jsonl|m\.csv\.zst|m\.pb|late\.jsonl|dead\.jsonl|m\.jsonl\.manifest\.json)\.tmp\.[0-9]+$')
  for f in $left; do
    case $f in
      m.jsonl | m.csv.zst | m.pb | late.jsonl | dead.jsonl)
        cmp -s "$d/$f" "$tmp/ref/$f" || fail "$what: exit $rc and $f is not the complete file" ;;
      m.jsonl.manifest.json)
        for g in m.jsonl m.csv.zst m.pb late.jsonl dead.jsonl; do
          [ -e "$d/$g" ] || fail "$what: a manifest, but no $g"
        done ;;
      *) fail "$what: unexpected file $f" ;;
    esac
  done
  [ "$rc" = 0 ] && [ ! -e "$d/m.jsonl.manifest.json" ] && fail "$what: exit 0 without a manifest"
  # the next run needs nothing the killed one left, and leaves it alone
  stale=$(ls -A "$d" | grep -c '\.tmp\.')
  # shellcheck disable=SC2046
  "$bin" --log-format json run $(one "$d") 2>"$d/err2" || fail "$what: the rerun failed: $(tail -1 "$d/err2")"
  for f in m.jsonl m.csv.zst m.pb late.jsonl dead.jsonl; do
    cmp -s "$d/$f" "$tmp/ref/$f" || fail "$what: rerun's $f differs"
  done
  [ "$(ls -A "$d" | grep -c '\.tmp\.')" = "$stale" ] || fail "$what: the rerun changed the temporaries"
done
echo "SIGKILL: $kills runs, no final-named partial file"

# ---- a second signal exits at once --------------------------------------------
# Input from a FIFO whose writer stalls after the data: the run is stuck in a
# read, so the first SIGTERM cannot take effect; the second ends it at once.
d=$tmp/second
mkdir "$d"
mkfifo "$d/in.fifo"
(zstd -dc <"$tmp/in.pb.zst"; touch "$tmp/written"; sleep 60) >"$d/in.fifo" &
writer=$!
"$bin" --log-format json run -q --now-ms "$now" --input "$d/in.fifo" --output "$d/m.jsonl" --output "$d/m.pb" 2>"$d/err" &
pid=$!
for _ in $(seq 1 600); do # all written: the run has read all but the pipe's buffer
  [ -e "$tmp/written" ] && break
  sleep 0.05
done
sleep 1 # ... and has read and applied that too: it waits in read(2)
kill -TERM "$pid"
sleep 0.2
kill -TERM "$pid"
wait "$pid"
rc=$?
kill "$writer" 2>/dev/null
wait "$writer" 2>/dev/null
writer=
[ "$rc" = 143 ] || fail "second signal: exit $rc, want 143: $(cat "$d/err")"
ls -A "$d" | grep -qv '^\(in\.fifo\|err\)$' && fail "second signal: files left: $(ls -A "$d")"
grep -q "stopped by a signal" "$d/err" || fail "second signal: no message: $(cat "$d/err")"
echo "second signal: exit 143 at once, nothing left"

# ---- failed writes and unreadable input: the previous files stay ------------------
d=$tmp/fail
mkdir "$d"
for f in m.jsonl m.pb m.jsonl.manifest.json; do echo "good $f" >"$d/$f"; done
# a file size limit: the output's write(2) fails (EFBIG) as on a full disk
(
  trap '' XFSZ
  ulimit -f 2048
  exec "$bin" --log-format json run -q --now-ms "$now" --input "$tmp/in.pb.zst" --output "$d/m.jsonl" --output "$d/m.pb"
) 2>"$d/err"
rc=$?
[ "$rc" = 1 ] || fail "failed write: exit $rc, want 1: $(tail -2 "$d/err")"
grep -q "m.jsonl: write: File too large" "$d/err" || fail "failed write: message: $(cat "$d/err")"
grep -q '"status":1,"reason":"error"' "$d/err" || fail "failed write: summary: $(tail -1 "$d/err")"
"$bin" --log-format json run -q --input "$d/typo.pb" --output "$d/m.jsonl" --output "$d/m.pb" 2>"$d/err2"
rc=$?
[ "$rc" = 1 ] || fail "typo'd input: exit $rc"
grep -q "typo.pb" "$d/err2" || fail "typo'd input: message: $(cat "$d/err2")"
for f in m.jsonl m.pb m.jsonl.manifest.json; do
  [ "$(cat "$d/$f")" = "good $f" ] || fail "a failed run changed the previous $f"
done
ls -A "$d" | grep -q '\.tmp\.' && fail "failed runs left temporaries: $(ls -A "$d")"
echo "failed write and unreadable input: exit 1, previous files untouched"

# ---- refusals and gates: status and message ------------------------------------
expect() { # status, stderr pattern, command...
  local want=$1 pat=$2
  shift 2
  "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  if [ "$got" != "$want" ] || ! grep -qE -- "$pat" "$tmp/err"; then
    echo "FAIL: $* -> exit $got (want $want), stderr:"; head -5 "$tmp/err"; failed=1
  fi
}
d=$tmp/refuse
mkdir "$d"
cd "$d" || exit 1
"$bin" --log-format json gen --events 3000 --seed 5 --output v.pb 2>/dev/null
ln v.pb hard.pb
ln -s v.pb sym.pb
mkdir sub
sum=$(sha256sum <v.pb)
expect 2 "--output v.pb is the same file as --input v.pb: refusing to overwrite an input" \
  "$bin" --log-format json run --input v.pb --output v.pb
expect 2 "--output hard.pb is the same file as --input v.pb" "$bin" --log-format json run --input v.pb --output hard.pb
expect 2 "--output sym.pb is the same file as --input v.pb" "$bin" --log-format json run --input v.pb --output sym.pb
expect 2 "--output $d/sub/../v.pb is the same file as --input sym.pb" \
  "$bin" --log-format json run --input sym.pb --output "$d/sub/../v.pb"
expect 2 "--late v.pb is the same file as --input v.pb" "$bin" --log-format json run --input v.pb --output o.jsonl --late v.pb
expect 2 "--dead-letter hard.pb is the same file as --input sym.pb" \
  "$bin" --log-format json run --input sym.pb --output o.jsonl --dead-letter hard.pb
expect 2 "--manifest v.pb is the same file as --input v.pb" "$bin" --log-format json run --input v.pb --output o.jsonl --manifest v.pb
expect 2 "--output a.jsonl and --late ./a.jsonl are the same file" \
  "$bin" --log-format json run --input v.pb --output a.jsonl --late ./a.jsonl --dead-letter a.jsonl
expect 2 "--output a.jsonl and --output sub/../a.jsonl are the same file" \
  "$bin" --log-format json run --input v.pb --output a.jsonl --output sub/../a.jsonl
expect 2 "--output a.jsonl and --manifest ./a.jsonl are the same file" \
  "$bin" --log-format json run --input v.pb --output a.jsonl --manifest ./a.jsonl
expect 2 "--output - and --dead-letter - are the same file" "$bin" --log-format json run --input v.pb --output - --dead-letter -
expect 2 "--output a.pb and --output ./a.pb are the same file" "$bin" --log-format json gen --events 10 --output a.pb --output ./a.pb
[ "$(sha256sum <v.pb)" = "$sum" ] || fail "a refused run changed its input"
[ -z "$(ls -A | grep -vE '^(v|hard|sym)\.pb$|^sub$')" ] || fail "a refused run created files: $(ls -A)"
# gates
expect 4 "--input /dev/null: empty input: no event applied .*--allow-empty" "$bin" --log-format json run --input /dev/null --output e.jsonl
[ -e e.jsonl ] && fail "empty input published e.jsonl"
expect 0 '"status":0}' "$bin" --log-format json run --input /dev/null --output e.jsonl --allow-empty
[ -e e.jsonl ] && [ -e e.jsonl.manifest.json ] || fail "--allow-empty did not publish"
# 12000 records that frame but do not decode: all invalid; "empty" comes first
python3 -c 'import sys; sys.stdout.buffer.write(b"\x03\xff\xff\xff" * 12000)' >junk.pb
expect 4 '"status":4,"reason":"empty_input"' "$bin" --log-format json run --input junk.pb --output j.jsonl
"$bin" --log-format json gen --events 20000 --seed 6 --invalid-rate 0.1 --output inv.pb 2>/dev/null
expect 5 "--input inv.pb: [0-9]+ of [0-9]+ events invalid \([0-9.]+%\), above --max-invalid-ratio 0.05" \
  "$bin" --log-format json run --input inv.pb --output i.jsonl
grep -q '"status":5,"reason":"invalid_ratio"' "$tmp/err" || fail "ratio: summary: $(tail -1 "$tmp/err")"
[ -e i.jsonl ] && fail "an invalid-ratio run published i.jsonl"
expect 0 '"status":0}' "$bin" --log-format json run --input inv.pb --output i.jsonl --max-invalid-ratio 0.2
expect 0 '"status":0}' "$bin" --log-format json run --input inv.pb --output i.jsonl --max-invalid-ratio 1
"$bin" --log-format json gen --events 5000 --seed 6 --invalid-rate 0.1 --output small.pb 2>/dev/null
expect 0 '"status":0}' "$bin" --log-format json run --input small.pb --output s.jsonl # under 10000 events: not judged
expect 2 "--max-invalid-ratio: expected a number in 0..1, got '5%'" "$bin" --log-format json run --input v.pb --output x.jsonl --max-invalid-ratio 5%
# where the manifest goes
rm -f *.jsonl *.manifest.json
expect 0 '"status":0}' "$bin" --log-format json run --input v.pb --output o.jsonl --no-manifest
[ -e o.jsonl.manifest.json ] && fail "--no-manifest wrote one"
expect 0 '"status":0}' "$bin" --log-format json run --input v.pb --output o.jsonl --manifest sub/run.json
[ -s sub/run.json ] && [ ! -e o.jsonl.manifest.json ] || fail "--manifest PATH: not there"
expect 0 '"status":0}' "$bin" --log-format json run --input v.pb --output - --output o2.jsonl
ls ./*.manifest.json 2>/dev/null | grep -q . && fail "a first output '-' got a manifest: $(ls ./*.manifest.json)"
expect 2 "--manifest and --no-manifest exclude each other" "$bin" --log-format json run --input v.pb --output o.jsonl --manifest m.json --no-manifest
# the config hash: the same config gives the same hash, another time zone another
"$bin" --log-format json run -q --input v.pb --output c1.jsonl 2>/dev/null
"$bin" --log-format json run -q --input v.pb --output c2.jsonl 2>/dev/null
"$bin" --log-format json run -q --input v.pb --output c3.jsonl --timezone UTC 2>/dev/null
h() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["config_sha256"])' "$1"; }
[ "$(h c1.jsonl.manifest.json)" = "$(h c2.jsonl.manifest.json)" ] || fail "config_sha256 differs between identical runs"
[ "$(h c1.jsonl.manifest.json)" != "$(h c3.jsonl.manifest.json)" ] || fail "config_sha256 ignores --timezone"
cd "$tmp" || exit 1

[ "$failed" = 0 ] && echo "nightly: every interrupted, failed, refused and gated run left its files whole or untouched"
exit $failed
