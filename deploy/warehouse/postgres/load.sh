#!/usr/bin/env bash
# Loads one `replyrate run --output-dir DIR` (CSV or CSV + zstd) into the PostgreSQL tables
# of schema.sql beside this script, in one transaction (README.md beside it).
#
#   load.sh [--dsn CONNINFO] [--schema NAME] [--create] [--no-verify] [--allow-incomplete] DIR
#
# The connection: --dsn (a libpq connection string or URI), else the PG* environment
# (PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD or ~/.pgpass ...), as psql takes them.
# Needs psql, and zstd for .csv.zst files.
#
# The reload rule (docs/output.md): the batch's (shop_id, day) are its shop_day rows. For
# each, the rows of every result table with that (shop_id, day) are replaced by the batch's,
# unless the stored shop_day is final and the batch's provisional, or both are provisional
# and the stored revision is higher: then the stored rows stay. Late events and dead
# letters are upserted on (source, partition, offset). Loading a directory twice, or a
# corrected rerun of the same days, leaves every key once with the latest values. A failed
# load changes nothing.
#
# Exit status: 0 loaded; 1 refused or failed (nothing loaded); 2 usage.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
usage() {
  sed -n '5p' "$0" | sed 's/^#  */usage: /' >&2
  exit 2
}
die() {
  echo "load.sh: $*" >&2
  exit 1
}

dsn= schema=replyrate create=0 verify=1 allow_incomplete=0 dir=
while (($#)); do
  case $1 in
  --dsn) (($# > 1)) || usage; dsn=$2; shift 2 ;;
  --dsn=*) dsn=${1#*=}; shift ;;
  --schema) (($# > 1)) || usage; schema=$2; shift 2 ;;
  --schema=*) schema=${1#*=}; shift ;;
  --create) create=1; shift ;;
  --no-verify) verify=0; shift ;;
  --allow-incomplete) allow_incomplete=1; shift ;;
  -h | --help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  --) shift; break ;;
  -*) echo "load.sh: unknown option $1" >&2; usage ;;
  *) [ -z "$dir" ] || usage; dir=$1; shift ;;
  esac
done
if (($#)); then [ -z "$dir" ] && (($# == 1)) || usage; dir=$1; fi
[ -n "$dir" ] || usage
[ -d "$dir" ] || die "$dir: not a directory"
command -v psql >/dev/null || die "psql not found (Debian: apt-get install postgresql-client)"

# A run writes manifest.json last, once every file is complete: without it the run did not
# finish (or this is not an --output-dir at all), and the files may be partial or stale.
[ -f "$dir/manifest.json" ] ||
  die "$dir/manifest.json is missing: not the directory of a completed \`replyrate run --output-dir\` (the run writes the manifest last); refusing to load"

# The files: all CSV or all CSV + zstd.
tables=(shop_day shop_day_metrics agent_day agent_day_metrics violations alerts late dead_letter)
ext=
for e in csv csv.zst; do [ -f "$dir/shop_day.$e" ] && ext=$e; done
if [ -z "$ext" ]; then
  for e in jsonl jsonl.zst; do
    [ -f "$dir/shop_day.$e" ] && die "$dir holds .$e files: load.sh loads CSV; run with --output-format csv (or csv.zst)"
  done
  die "$dir/shop_day.csv (or .csv.zst) is missing"
fi
for t in "${tables[@]}"; do
  [ -f "$dir/$t.$ext" ] || die "$dir/$t.$ext is missing (the other files are .$ext)"
done
[ "$ext" = csv ] || command -v zstd >/dev/null || die "zstd not found, needed for .$ext files"

psql_() { # the connection, quiet, stopping at the first error, no ~/.psqlrc
  if [ -n "$dsn" ]; then psql -X -q -v ON_ERROR_STOP=1 -d "$dsn" "$@"; else psql -X -q -v ON_ERROR_STOP=1 "$@"; fi
}

if ((create)); then
  PGOPTIONS="${PGOPTIONS:+$PGOPTIONS }-c client_min_messages=warning" \
    psql_ -v schema="$schema" -f "$here/schema.sql" >/dev/null || die "creating the tables failed"
fi

absdir=$(cd "$dir" && pwd)
cd "$absdir" # psql reads manifest.json and \copy the files here, client side
# What the manifest says, read by the server (no JSON tool needed here): whether the run
# was complete, and each file's size and sha256; and whether the tables exist.
info_sql=$(
  cat <<'SQL'
\set manifest `cat manifest.json`
SELECT 'tables', to_regclass(format('%I.shop_day', :'schema')) IS NOT NULL
               AND to_regclass(format('%I.loads', :'schema')) IS NOT NULL;
SELECT 'complete', coalesce((:'manifest'::jsonb ->> 'complete')::boolean, true);
SELECT 'file', regexp_replace(o ->> 'path', '^.*/', ''), o ->> 'bytes', o ->> 'sha256'
FROM jsonb_array_elements(coalesce(:'manifest'::jsonb -> 'outputs', '[]')) o
WHERE coalesce(o ->> 'flag', '--output-dir') = '--output-dir';
SELECT 'end', true;
SQL
)
info=$(psql_ -At -F ' ' -v schema="$schema" <<<"$info_sql") ||
  die "$dir/manifest.json: cannot read it (not JSON?), or the database is unreachable"
grep -qx 'end t' <<<"$info" || die "$dir/manifest.json: unexpected content"
grep -qx 'tables t' <<<"$info" ||
  die "no table $schema.shop_day (or $schema.loads): create them first (psql -v schema=$schema -f $here/schema.sql, or load.sh --create)"
if ! grep -qx 'complete t' <<<"$info" && ((!allow_incomplete)); then
  die "$dir/manifest.json: the run was incomplete (input known missing; see its unread_bytes, missing_records); --allow-incomplete loads it anyway"
fi
if ((verify)); then
  for t in "${tables[@]}"; do
    f=$t.$ext
    line=$(grep "^file $f " <<<"$info" | head -1) || die "$dir/manifest.json does not list $f"
    read -r _ _ bytes sum <<<"$line"
    [ "$(stat -c %s "$f")" = "$bytes" ] ||
      die "$dir/$f: $(stat -c %s "$f") bytes, the manifest says $bytes: damaged or replaced since the run (--no-verify loads it anyway)"
    [ "$(sha256sum <"$f" | cut -d' ' -f1)" = "$sum" ] ||
      die "$dir/$f: sha256 differs from the manifest's: damaged or replaced since the run (--no-verify loads it anyway)"
  done
fi

header() { # file: its first line (a CSV header has no quoted field here)
  if [ "$ext" = csv ]; then head -n1 "$1"; else zstd -dcq "$1" | head -n1 || true; fi
}
narrow='shop_id,day,metric,num,den,unanswered,b0,b1,b2,b3,b4,b5,b6,b7,final,revision,version'
rejected='type,reason,source,partition,offset,watermark_ms,event_id,shop_id,conversation_id,buyer_id,agent_id,ts_ms,event_type,content,rating,flags,raw_hex'
declare -A want=(
  [shop_day_metrics]=$narrow
  [agent_day_metrics]=${narrow/shop_id,day,/shop_id,agent_id,day,}
  [violations]='shop_id,day,metric,conversation_id,buyer_id,agent_id,round_start,reply_at,wait_ms,messages,reason,final,version'
  [alerts]='shop_id,day,rule,value,final,version'
  [late]=$rejected
  [dead_letter]=$rejected
)

# The script of the load.
script=$(mktemp)
trap 'rm -f "$script"' EXIT
{
  echo '\set manifest `cat manifest.json`'
  echo 'BEGIN;'
  echo 'SET LOCAL search_path = :"schema";'
  for t in "${tables[@]}"; do
    f=$t.$ext
    case $t in
    shop_day | agent_day)
      # Only the key columns are kept; the wide ones (per the job's metrics) are staged as text.
      keys='shop_id u64, day date' prefix=shop_id,day,final,revision,version
      [ $t = agent_day ] && keys='shop_id u64, agent_id u64, day date' prefix=shop_id,agent_id,day,final,revision,version
      h=$(header "$f")
      extra=
      if [ -n "$h" ]; then
        [[ $h == "$prefix" || $h == "$prefix",* ]] || die "$dir/$f: header '$h' does not start with '$prefix'"
        IFS=, read -r -a cols <<<"$h"
        IFS=, read -r -a pcols <<<"$prefix"
        for ((i = ${#pcols[@]}; i < ${#cols[@]}; i++)); do extra+=", x$i text"; done
      fi
      echo "CREATE TEMP TABLE stage_$t ($keys, final boolean, revision integer, version text$extra) ON COMMIT DROP;"
      ;;
    late) echo 'CREATE TEMP TABLE stage_late (LIKE late_events) ON COMMIT DROP;' ;;
    *) echo "CREATE TEMP TABLE stage_$t (LIKE $t) ON COMMIT DROP;" ;;
    esac
    [ -s "$f" ] || continue # no record: 0 bytes, no header
    if [ "$t" != shop_day ] && [ "$t" != agent_day ]; then
      h=$(header "$f")
      [ "$h" = "${want[$t]}" ] || die "$dir/$f: header '$h' is not the expected '${want[$t]}'"
    fi
    if [ "$ext" = csv ]; then
      echo "\\copy stage_$t FROM '$f' WITH (FORMAT csv, HEADER true)"
    else
      echo "\\copy stage_$t FROM PROGRAM 'zstd -dcq $f' WITH (FORMAT csv, HEADER true)"
    fi
    echo "ANALYZE stage_$t;"
  done
  cat <<'SQL'
-- Every row of the batch belongs to one of its shop_day rows.
DO $$
DECLARE n bigint;
BEGIN
  SELECT count(*) INTO n FROM (
    SELECT shop_id, day FROM stage_shop_day_metrics UNION ALL
    SELECT shop_id, day FROM stage_agent_day UNION ALL
    SELECT shop_id, day FROM stage_agent_day_metrics UNION ALL
    SELECT shop_id, day FROM stage_violations UNION ALL
    SELECT shop_id, day FROM stage_alerts) r
  WHERE NOT EXISTS (SELECT 1 FROM stage_shop_day d WHERE d.shop_id = r.shop_id AND d.day = r.day);
  IF n > 0 THEN
    RAISE EXCEPTION 'the batch has % rows whose (shop_id, day) has no shop_day row: not a run''s --output-dir as docs/output.md describes it', n;
  END IF;
END $$;

-- Loads apply one after the other (each decides from what the one before stored); their
-- staging above runs side by side, and readers are never blocked.
LOCK TABLE shop_day IN SHARE ROW EXCLUSIVE MODE;

-- The reload rule: take the batch's day unless the stored one is final and the batch's
-- provisional, or both are provisional and the stored revision is higher.
CREATE TEMP TABLE batch_days ON COMMIT DROP AS
SELECT b.shop_id, b.day,
       s.shop_id IS NULL
       OR NOT ((s.final AND NOT b.final) OR (NOT s.final AND NOT b.final AND s.revision > b.revision)) AS take
FROM stage_shop_day b
LEFT JOIN shop_day s ON s.shop_id = b.shop_id AND s.day = b.day;
DELETE FROM batch_days WHERE NOT take;
ANALYZE batch_days;
SQL
  for t in shop_day shop_day_metrics agent_day agent_day_metrics violations alerts; do
    cols='s.*'
    [ "$t" = shop_day ] && cols='s.shop_id, s.day, s.final, s.revision, s.version'
    [ "$t" = agent_day ] && cols='s.shop_id, s.agent_id, s.day, s.final, s.revision, s.version'
    echo "DELETE FROM $t t USING batch_days k WHERE t.shop_id = k.shop_id AND t.day = k.day;"
    echo "INSERT INTO $t SELECT $cols FROM stage_$t s JOIN batch_days k ON k.shop_id = s.shop_id AND k.day = s.day;"
  done
  for t in late:late_events dead_letter:dead_letter; do
    cat <<SQL
INSERT INTO ${t#*:} AS t SELECT * FROM stage_${t%%:*}
ON CONFLICT (source, "partition", "offset") DO UPDATE SET
  type = excluded.type, reason = excluded.reason, watermark_ms = excluded.watermark_ms,
  event_id = excluded.event_id, shop_id = excluded.shop_id,
  conversation_id = excluded.conversation_id, buyer_id = excluded.buyer_id,
  agent_id = excluded.agent_id, ts_ms = excluded.ts_ms, event_type = excluded.event_type,
  content = excluded.content, rating = excluded.rating, flags = excluded.flags,
  raw_hex = excluded.raw_hex
WHERE (t.*) IS DISTINCT FROM (excluded.*);
SQL
  done
  cat <<'SQL'
INSERT INTO loads (dir, manifest, days, days_loaded, days_kept, late_events, dead_letter)
SELECT :'dir', :'manifest'::jsonb, (SELECT count(*) FROM stage_shop_day),
       (SELECT count(*) FROM batch_days), (SELECT count(*) FROM stage_shop_day) - (SELECT count(*) FROM batch_days),
       (SELECT count(*) FROM stage_late), (SELECT count(*) FROM stage_dead_letter)
RETURNING load_id, days, days_loaded, days_kept, late_events, dead_letter \gset
COMMIT;
\echo load.sh: :dir: load :load_id: :days (shop_id, day) in the batch: :days_loaded loaded, :days_kept kept (stored final, or a newer revision); :late_events late events and :dead_letter dead letters upserted
SQL
} >"$script"

psql_ -v schema="$schema" -v dir="$absdir" -f "$script" ||
  die "$dir: the load failed and was rolled back: nothing changed"
