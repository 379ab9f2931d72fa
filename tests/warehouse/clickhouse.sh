#!/usr/bin/env bash
# deploy/warehouse/clickhouse, for real, in chdb (ClickHouse in-process, from PyPI: no
# server package exists here; tests/warehouse/chdb_env.bash makes its venv). A generated
# night (2 days, late, invalid, duplicate and undecodable events) is written by
# `run --output-dir` as csv and as csv.zst, and by `run -o/--late/--dead-letter` as
# JSON Lines; then, on one database:
#   1. schema.sql twice (idempotent); load the csv: every table, read with FINAL, equals
#      the JSON Lines key for key and column for column, and holds one row per key even
#      without FINAL (tests/warehouse/clickhouse_check.py);
#   2. load the same night again from csv.zst: still exactly the night;
#   3. a directory without manifest.json is refused and changes nothing;
#   4. the night again with every shop_day made provisional: the stored final days outrank
#      it, nothing changes;
#   5. a corrected rerun (the night without 20 conversations that had violations,
#      tests/warehouse/drop_conversations.py): the tables equal the rerun's JSON Lines,
#      so the violations it no longer has, and its late events at moved offsets, are gone;
#   6. on a new database, provisional revision 7 of every day is loaded, revision 3 then
#      is not, and the final night replaces revision 7;
#   7. the version rule on its own: of one key's provisional revisions and final record,
#      inserted in any order, FINAL and OPTIMIZE keep the final one, else the highest
#      revision.
# Usage: tests/warehouse/clickhouse.sh path/to/replyrate
set -euo pipefail
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
src=${RR_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
tmp=$(mktemp -d)
trap '[ -n "${RR_KEEP_TMP:-}" ] || rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
# shellcheck source=tests/warehouse/chdb_env.bash
source "$src/tests/warehouse/chdb_env.bash"
kit=$src/deploy/warehouse/clickhouse
db=$tmp/wh

sql() { "$py" "$kit/chdb_sql.py" "$db" "$@"; }
load() { # dir
  RR_CLICKHOUSE="$py $kit/chdb_sql.py $db" bash "$kit/load.sh" "$1" >"$tmp/load.log" 2>&1 ||
    fail "load.sh $1: $(cat "$tmp/load.log")"
  cat "$tmp/load.log"
}
check() { # what, directory of the run's x.jsonl, l.jsonl, d.jsonl
  "$py" "$src/tests/warehouse/clickhouse_check.py" --raw-unique --summary "$db" \
    "$2/x.jsonl" "$2/l.jsonl" "$2/d.jsonl" >"$tmp/check.log" 2>&1 || fail "$1: $(cat "$tmp/check.log")"
  echo "$1: every table equals the run's JSON Lines"
}
runs() { # in a night's directory: the loader files in both forms, and the JSON Lines
  "$bin" run -q -i in.pb --output-dir csv 2>run.log || fail "run --output-dir: $(cat run.log)"
  "$bin" run -q -i in.pb --output-dir zst --output-format csv.zst 2>run.log ||
    fail "run --output-dir --output-format csv.zst: $(cat run.log)"
  "$bin" run -q -i in.pb -o x.jsonl --late l.jsonl --dead-letter d.jsonl 2>run.log || fail "run -o: $(cat run.log)"
}

# The night, and its correction. Both inputs are named in.pb, as a rerun of the same
# file would be, so their late and dead-letter rows share a source.
mkdir "$tmp/night" "$tmp/fixed"
cd "$tmp/night"
"$bin" gen -n 200000 --days 2 --late-rate 0.01 --invalid-rate 0.01 --duplicate-rate 0.01 \
  --garbage-rate 0.001 -o in.pb 2>gen.log || fail "gen: $(cat gen.log)"
runs
python3 "$src/tests/warehouse/drop_conversations.py" in.pb x.jsonl 20 ../fixed/in.pb >../dropped.txt
cd "$tmp/fixed"
runs
cd "$tmp"
dropped=$(paste -sd, dropped.txt)
[ "$(wc -l <dropped.txt)" = 20 ] || fail "the night has fewer than 20 conversations with violations"
grep -q '"type":"alert"' night/x.jsonl || fail "the night has no alert to load"
grep -q '"event":null' night/d.jsonl || fail "the night has no undecodable dead letter to load"

# 1, 2: the night, loaded twice
sql "$kit/schema.sql"
sql "$kit/schema.sql"
load night/csv
check "the night (csv)" night
load night/zst
check "the night loaded again (csv.zst)" night

# 3: no manifest, no load
cp -r night/csv unfinished
rm unfinished/manifest.json
if RR_CLICKHOUSE="$py $kit/chdb_sql.py $db" bash "$kit/load.sh" unfinished >load.log 2>&1; then
  fail "load.sh loaded a directory without manifest.json"
fi
grep -q "no manifest.json" load.log || fail "load.sh without manifest.json: $(cat load.log)"
check "after the refused directory" night

# 4: a provisional batch does not replace final days
provisional() { # revision, directory
  cp -r night/csv "$2"
  awk -F, -v OFS=, -v r="$1" 'NR > 1 { $3 = "false"; $4 = r } 1' night/csv/shop_day.csv >"$2/shop_day.csv"
  : >"$2/violations.csv"
}
provisional 7 rev7
load rev7 | tee prov.log
grep -q " 0 of [0-9]* (shop, day)s loaded" prov.log || fail "a provisional batch was loaded over final days"
check "after a provisional batch" night

# 5: the corrected rerun
before=$(sql <<<"SELECT count() FROM replyrate.violations FINAL WHERE conversation_id IN ($dropped)")
[ "$before" -gt 0 ] || fail "the dropped conversations had no violations loaded"
load fixed/csv
check "the corrected rerun" fixed
after=$(sql <<<"SELECT count() FROM replyrate.violations WHERE conversation_id IN ($dropped)")
[ "$after" = 0 ] || fail "$after stale violations of the dropped conversations remain"
echo "the corrected rerun: $before violations of the 20 dropped conversations are gone"

# 6: between batches of provisional days, the higher revision stays; the final night
# replaces them
db=$tmp/prov
sql "$kit/schema.sql"
provisional 3 rev3
days=$(($(wc -l <night/csv/shop_day.csv) - 1))
load rev7 >l.out
grep -q " $days of $days " l.out || fail "revision 7 was not loaded on an empty database: $(cat l.out)"
load rev3 >l.out
grep -q " 0 of $days " l.out || fail "revision 3 was loaded over revision 7: $(cat l.out)"
[ "$(sql <<<"SELECT DISTINCT revision FROM replyrate.shop_day FINAL")" = 7 ] || fail "revision 7 is not what is stored"
load night/csv >l.out
grep -q " $days of $days " l.out || fail "the final night was not loaded over revision 7: $(cat l.out)"
check "the final night over provisional days" night

# 7: the version rule of the tables themselves (the Kafka views insert without load.sh)
db=$tmp/ver
sql "$kit/schema.sql"
got=$(sql <<'EOF'
INSERT INTO replyrate.shop_day VALUES (1, '2026-11-22', false, 2, 'v'), (2, '2026-11-22', false, 1, 'v');
INSERT INTO replyrate.shop_day VALUES (1, '2026-11-22', true, 0, 'v'), (2, '2026-11-22', false, 3, 'v');
INSERT INTO replyrate.shop_day VALUES (1, '2026-11-22', false, 9, 'v'), (2, '2026-11-22', false, 2, 'v');
SELECT shop_id, final, revision FROM replyrate.shop_day FINAL ORDER BY shop_id FORMAT CSV;
OPTIMIZE TABLE replyrate.shop_day FINAL;
SELECT shop_id, final, revision FROM replyrate.shop_day ORDER BY shop_id FORMAT CSV;
EOF
)
want=$(printf '1,true,0\n2,false,3\n1,true,0\n2,false,3')
[ "$got" = "$want" ] || fail "version rule: got $(echo "$got" | paste -sd' '), want $(echo "$want" | paste -sd' ')"
echo "the version rule: a final record outranks any revision, a higher revision a lower"
