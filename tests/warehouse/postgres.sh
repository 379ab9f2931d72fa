#!/usr/bin/env bash
# deploy/warehouse/postgres against a real PostgreSQL 15 (started here in a temporary
# directory, as user nobody when run as root, on a free loopback port; stopped on exit):
# - two days of generated traffic with late, invalid, duplicate and garbage records, in two
#   files (partitions); `run --output-dir` as CSV and as CSV + zstd, and the same run's
#   JSON Lines (--output, --late, --dead-letter), the reference;
# - loaded once, then again from CSV and from CSV + zstd (over TCP, --dsn): every table
#   equals the reference, every column, each key once (tests/warehouse/pgcheck.py);
# - a corrected rerun (one of the two files delivered again, fewer events late): afterwards the result tables
#   hold exactly the corrected run's rows (nothing stale of the first load), late events
#   and dead letters are the first load's upserted with the rerun's;
# - the reload rule's other branches on derived batches (tests/warehouse/fixture.py):
#   provisional over final is kept, a lower provisional revision is kept, a higher one and
#   a final replace;
# - refusals that change nothing: a directory without manifest.json, a file whose sha256
#   is not the manifest's, JSON Lines files, missing tables; and a load that fails midway
#   (a duplicate key, after the first tables were replaced) rolls back whole.
# 77 (skipped): PostgreSQL 15 is not installed (deploy/setup.sh --deps installs it), or
# running as root with no user to run it as.
set -uo pipefail
bin=$(realpath "$1")
src=${RR_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
kit=$src/deploy/warehouse/postgres
here=$src/tests/warehouse
pgbin=/usr/lib/postgresql/15/bin
if [ ! -x "$pgbin/initdb" ] || ! command -v psql >/dev/null; then
  echo "SKIP: PostgreSQL 15 is not installed ($pgbin/initdb, psql; deploy/setup.sh --deps installs postgresql-15)"
  exit 77
fi
as=() # PostgreSQL refuses to run as root
if [ "$(id -u)" = 0 ]; then
  if ! command -v runuser >/dev/null || ! id -u nobody >/dev/null 2>&1; then
    echo "SKIP: running as root, and no runuser or no user nobody to run PostgreSQL as"
    exit 77
  fi
  as=(runuser -u nobody --)
fi

tmp=$(mktemp -d)
pgdir=$(mktemp -d) # the server's data, socket and log, owned by the user it runs as
[ ${#as[@]} = 0 ] || chown nobody "$pgdir"
cleanup() {
  "${as[@]}" "$pgbin/pg_ctl" -D "$pgdir/data" -m immediate stop >/dev/null 2>&1
  rm -rf "$tmp" "$pgdir"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
failed=0
fail() { echo "FAIL: $*"; failed=1; }

# ---- the server ----------------------------------------------------------------------
"${as[@]}" "$pgbin/initdb" -D "$pgdir/data" -U replyrate --auth=trust -E UTF8 --locale=C \
  >"$tmp/initdb.log" 2>&1 || { echo "FAIL: initdb"; cat "$tmp/initdb.log"; exit 1; }
port=
for _ in 1 2 3; do # a free port, unless someone takes it first
  p=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  if "${as[@]}" "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/log" -w -t 60 -o \
    "-p $p -k $pgdir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null; then
    port=$p
    break
  fi
done
[ -n "$port" ] || { echo "FAIL: PostgreSQL did not start"; cat "$pgdir/log"; exit 1; }
unset PGSERVICE PGSERVICEFILE PGPASSWORD PGPASSFILE PGHOSTADDR PGOPTIONS PGSSLMODE
export PGHOST=$pgdir PGPORT=$port PGUSER=replyrate PGDATABASE=postgres PGTZ=UTC
psql -XAtqc 'SELECT 1' >/dev/null || { echo "FAIL: cannot connect"; cat "$pgdir/log"; exit 1; }

# ---- the nights: a first run, and a corrected rerun of the same days ------------------
gen() {
  "$bin" --log-format json gen --events 200000 --days 2 --shops 40 --seed 41 \
    --invalid-rate 0.003 --duplicate-rate 0.01 --garbage-rate 0.001 "$@"
}
# The same conversations twice; the first night's partition 1 arrived with many events
# late (not applied), the corrected rerun reads it as delivered again.
gen --late-rate 0.003 -o "$tmp/p0.pb" -o "$tmp/good1.pb" 2>"$tmp/gen_a.log" || { echo "FAIL: gen"; exit 1; }
gen --late-rate 0.05 -o "$tmp/x0.pb" -o "$tmp/bad1.pb" 2>"$tmp/gen_b.log" || { echo "FAIL: gen"; exit 1; }
now=$(python3 -c '
import json, sys
print(max(json.loads(open(p).read().splitlines()[-1])["last_ts_ms"] for p in sys.argv[1:]) + 3600000)
' "$tmp/gen_a.log" "$tmp/gen_b.log")
mkdir "$tmp/in"
run() { # the run of in/p0.pb and in/p1.pb (the same paths, so the same late sources)
  "$bin" --log-format json run -q --now-ms "$now" -i "$tmp/in/p0.pb" -i "$tmp/in/p1.pb" "$@" \
    2>>"$tmp/run.log" || { echo "FAIL: run $*"; cat "$tmp/run.log"; exit 1; }
}
cp "$tmp/p0.pb" "$tmp/in/p0.pb" && cp "$tmp/bad1.pb" "$tmp/in/p1.pb"
run --output-dir "$tmp/A"
run --output-dir "$tmp/Az" --output-format csv.zst
run --output-dir "$tmp/Aj" --output-format jsonl
run -o "$tmp/A.jsonl" --late "$tmp/A.late.jsonl" --dead-letter "$tmp/A.dead.jsonl"
cp "$tmp/good1.pb" "$tmp/in/p1.pb" # corrected: partition 1 anew, partition 0 as it was
run --output-dir "$tmp/B"
run -o "$tmp/B.jsonl" --late "$tmp/B.late.jsonl" --dead-letter "$tmp/B.dead.jsonl"
# The corrected input again with lateness 10 s: fewer events late, and those still late
# at the same positions with other watermarks (the upsert updates them).
sed 's/^lateness = "5s";/lateness = "10s";/' "$src/deploy/replyrate.conf" >"$tmp/late10.conf"
grep -q '^lateness = "10s";' "$tmp/late10.conf" || { echo "FAIL: deploy/replyrate.conf has no lateness = \"5s\""; exit 1; }
run -c "$tmp/late10.conf" --output-dir "$tmp/C"
run -c "$tmp/late10.conf" -o "$tmp/C.jsonl" --late "$tmp/C.late.jsonl" --dead-letter "$tmp/C.dead.jsonl"
A="$tmp/A.jsonl:$tmp/A.late.jsonl:$tmp/A.dead.jsonl"
B="$tmp/B.jsonl:$tmp/B.late.jsonl:$tmp/B.dead.jsonl"
C="$tmp/C.jsonl:$tmp/C.late.jsonl:$tmp/C.dead.jsonl"

# The input reaches every table, and the rerun changes what it must for the test to mean
# something: the same (shop, day) keys, many of them with other rows.
python3 - "$tmp" <<'PY' || failed=1
import collections, json, os, sys
t = sys.argv[1]
for name in sorted(os.listdir(f"{t}/A")):
    if name != "manifest.json" and sum(1 for _ in open(f"{t}/A/{name}")) < 2:
        print(f"FAIL: {name} has no row: the input does not exercise every table"); sys.exit(1)
def days(p):
    d = collections.defaultdict(list)
    for line in open(p):
        r = json.loads(line)
        d[(r["shop_id"], r["day"])].append(line)
    return d
a, b = days(f"{t}/A.jsonl"), days(f"{t}/B.jsonl")
if set(a) != set(b) or set(a) != set(days(f"{t}/C.jsonl")):
    print(f"FAIL: the reruns' (shop, day) differ"); sys.exit(1)
changed = sum(1 for k in a if sorted(a[k]) != sorted(b[k]))
if not (len(a) // 4 <= changed < len(a)):
    print(f"FAIL: the rerun changes {changed} of {len(a)} days"); sys.exit(1)
def late(p):
    return {(r["source"], r["partition"], r["offset"]): r["watermark_ms"] for r in map(json.loads, open(p))}
lb, lc = late(f"{t}/B.late.jsonl"), late(f"{t}/C.late.jsonl")
moved = sum(1 for k in lc if k in lb and lb[k] != lc[k])
if not (moved and len(lc) < len(lb)):
    print(f"FAIL: lateness 10 s: {len(lc)} late events, {len(lb)} before, {moved} with another watermark"); sys.exit(1)
print(f"input: {len(a)} (shop, day), {changed} changed by the rerun; {moved} late events with another watermark")
PY
((failed)) && exit 1

load() { "$kit/load.sh" "$@" >>"$tmp/load.log" 2>&1; }
check() { # the batches loaded so far (pgcheck.py): what follows builds on them
  python3 "$here/pgcheck.py" "$@" >"$tmp/check.out" 2>&1 && return
  cat "$tmp/check.out"
  echo "FAIL: the tables after loading: ${*//$tmp\//}"
  echo "--- load.sh output"
  cat "$tmp/load.log"
  exit 1
}
snapshot() { # every table, sorted, to compare before and after a refusal
  for t in shop_day shop_day_metrics agent_day agent_day_metrics violations alerts late_events dead_letter loads; do
    echo "== $t"
    psql -XAtq -c "SELECT row_to_json(x)::text FROM replyrate.$t x ORDER BY 1"
  done >"$1"
}
refused() { # name, message expected, load.sh arguments: refused and nothing changed
  local name=$1 want=$2
  shift 2
  snapshot "$tmp/before"
  if "$kit/load.sh" "$@" >"$tmp/refused.out" 2>&1; then
    fail "$name: loaded"
  elif ! grep -q -- "$want" "$tmp/refused.out"; then
    fail "$name: no '$want' in: $(cat "$tmp/refused.out")"
  fi
  snapshot "$tmp/after"
  cmp -s "$tmp/before" "$tmp/after" || fail "$name: the tables changed"
}

# ---- refused before any table exists ----------------------------------------------------
"$kit/load.sh" "$tmp/A" >"$tmp/refused.out" 2>&1 && fail "loaded with no tables"
grep -q "create them first" "$tmp/refused.out" || fail "no tables: $(cat "$tmp/refused.out")"

# ---- the night, loaded three times ------------------------------------------------------
load --create "$tmp/A" || fail "load A: $(cat "$tmp/load.log")"
check "$A"
load "$tmp/A" || fail "load A again: $(tail -3 "$tmp/load.log")"
(cd "$tmp" && load --dsn "host=127.0.0.1 port=$port user=replyrate dbname=postgres" Az) ||
  fail "load A as csv.zst over TCP, the directory relative: $(tail -3 "$tmp/load.log")"
check "$A" "$A" "$A"

# ---- the corrected rerun ---------------------------------------------------------------
load "$tmp/B" || fail "load B: $(tail -3 "$tmp/load.log")"
check --only 4 "$A" "$A" "$A" "$B"

# ---- the corrected input with lateness 10 s (loaded in another session time zone) ---------
PGTZ=America/New_York load "$tmp/C" || fail "load C: $(tail -3 "$tmp/load.log")"
check --only 5 "$A" "$A" "$A" "$B" "$C"

# ---- refusals, and a failed load: nothing changes ---------------------------------------
cp -r "$tmp/A" "$tmp/nomanifest" && rm "$tmp/nomanifest/manifest.json"
refused "no manifest" "manifest.json is missing" "$tmp/nomanifest"
cp -r "$tmp/A" "$tmp/damaged" && sed -i '2s/^./x/' "$tmp/damaged/alerts.csv" # the same size
refused "damaged file" "alerts.csv: sha256 differs from the manifest" "$tmp/damaged"
refused "a bad value, --no-verify" "rolled back" --no-verify "$tmp/damaged"
refused "JSON Lines" "load.sh loads CSV" "$tmp/Aj"
cp -r "$tmp/A" "$tmp/incomplete" && sed -i 's/"complete":true/"complete":false/' "$tmp/incomplete/manifest.json"
refused "an incomplete run" "the run was incomplete" "$tmp/incomplete"
# A (which differs from what is stored) with a duplicate agent_day_metrics row: the
# shop_day tables are replaced before its INSERT fails, and all of it is rolled back.
cp -r "$tmp/A" "$tmp/dup" && sed -n 2p "$tmp/A/agent_day_metrics.csv" >>"$tmp/dup/agent_day_metrics.csv"
refused "a duplicate key midway" "agent_day_metrics_pkey" --no-verify "$tmp/dup"
check --only 5 "$A" "$A" "$A" "$B" "$C"

# ---- the reload rule's other branches ----------------------------------------------------
fixture() { # name, source run (A or B), fixture.py options
  python3 "$here/fixture.py" "$tmp/$2" "$tmp/$1" "$tmp/$2.jsonl" "$tmp/$1.jsonl" "${@:3}" ||
    { echo "FAIL: fixture $1"; exit 1; }
  cp "$tmp/$2.late.jsonl" "$tmp/$1.late.jsonl" && cp "$tmp/$2.dead.jsonl" "$tmp/$1.dead.jsonl"
  load --no-verify "$tmp/$1" || fail "load $1: $(tail -3 "$tmp/load.log")"
}
spec() { echo "$tmp/$1.jsonl:$tmp/$1.late.jsonl:$tmp/$1.dead.jsonl"; }
fixture P1 A --revision 2           # provisional over final: kept
check --only 5 "$A" "$A" "$A" "$B" "$C" "$(spec P1)"
fixture P2 A --shift-days 7 --revision 2 # new days, provisional
fixture P3 B --shift-days 7 --revision 1 # a lower revision: kept
check "$A" "$A" "$A" "$B" "$C" "$(spec P1)" "$(spec P2)" "$(spec P3)"
fixture P4 B --shift-days 7 --revision 3 # a higher one: replaces
fixture P5 A --shift-days 7              # final over provisional: replaces
check "$A" "$A" "$A" "$B" "$C" "$(spec P1)" "$(spec P2)" "$(spec P3)" "$(spec P4)" "$(spec P5)"
kept=$(psql -XAtqc "SELECT string_agg(days_kept::text, ' ' ORDER BY load_id) FROM replyrate.loads")
days=$(psql -XAtqc "SELECT count(*) FROM replyrate.shop_day WHERE day < '2026-11-29'")
[ "$kept" = "0 0 0 0 0 $days 0 $days 0 0" ] || fail "days kept per load: $kept (expected 0 0 0 0 0 $days 0 $days 0 0)"

# ---- the view --------------------------------------------------------------------------
psql -XAtq -v ON_ERROR_STOP=1 >"$tmp/view.out" 2>&1 <<'SQL' || fail "shop_day_wide: $(cat "$tmp/view.out")"
SELECT count(*) = (SELECT count(*) FROM replyrate.shop_day) FROM replyrate.shop_day_wide;
SELECT bool_and(w.pdd_buyer_3min_num = coalesce(m.num, 0)
                AND w.pdd_buyer_3min_den = coalesce(m.den, 0)
                AND w.pdd_buyer_3min_ratio IS NOT DISTINCT FROM m.num::float8 / nullif(m.den, 0)
                AND w.tmall_response_time_unanswered = coalesce(t.unanswered, 0))
FROM replyrate.shop_day_wide w
LEFT JOIN replyrate.shop_day_metrics m ON (m.shop_id, m.day, m.metric) = (w.shop_id, w.day, 'pdd_buyer_3min')
LEFT JOIN replyrate.shop_day_metrics t ON (t.shop_id, t.day, t.metric) = (w.shop_id, w.day, 'tmall_response_time');
SELECT count(*) > 0 FROM replyrate.shop_day_wide WHERE tmall_response_time_ratio > 0 AND douyin_msg_3min_ratio > 0;
SQL
[ "$(tr '\n' ' ' <"$tmp/view.out")" = "t t t " ] || fail "shop_day_wide: $(cat "$tmp/view.out")"

# ---- the schema again: idempotent ------------------------------------------------------
snapshot "$tmp/before"
psql -XAtq -v ON_ERROR_STOP=1 -c 'SET client_min_messages = warning' -f "$kit/schema.sql" >/dev/null 2>"$tmp/schema.err" ||
  fail "schema.sql a second time: $(cat "$tmp/schema.err")"
snapshot "$tmp/after"
cmp -s "$tmp/before" "$tmp/after" || fail "schema.sql a second time changed the tables"

if ((failed)); then
  echo "--- load.sh output"
  cat "$tmp/load.log"
  exit 1
fi
echo "ok: $(grep -c '^load.sh: .*: load ' "$tmp/load.log") loads"
