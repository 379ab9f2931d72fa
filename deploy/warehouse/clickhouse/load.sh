#!/usr/bin/env bash
# load.sh: loads one `replyrate run --output-dir DIR` directory (CSV, plain or .zst) into
# the tables of schema.sql, replacing what an earlier load of the same (shop, day)s put
# there.
#
#   deploy/warehouse/clickhouse/load.sh DIR            run the load
#   deploy/warehouse/clickhouse/load.sh --print DIR    print its SQL instead
#
# The SQL is one script read by a client on stdin: RR_CLICKHOUSE (default
# `clickhouse-client --multiquery`; add --host, --user ... there) runs it. The files are
# read by the client (INSERT ... FROM INFILE), so they need not be on the server. chdb
# (in-process ClickHouse) runs the same script:
#   RR_CLICKHOUSE="python3 deploy/warehouse/clickhouse/chdb_sql.py DBDIR" load.sh DIR
#
# What one load does (the contract's reload rule, docs/output.md):
# 1. Reads the eight files into temporary tables (the batch). A directory without
#    manifest.json (a run that did not finish writes none) is refused, as is one missing a
#    file. shop_day's metric columns are skipped: its metrics are in shop_day_metrics.
# 2. The batch's (shop_id, day)s are its shop_day rows. It takes those whose stored
#    shop_day row (FINAL) is absent or does not outrank the batch's: a stored final row
#    outranks a provisional one, a stored provisional one with a higher revision outranks a
#    lower; the rest are kept as stored and skipped.
# 3. For each taken (shop_id, day), every result table's rows are deleted (lightweight
#    DELETE) and the batch's inserted: a reload leaves one row per key, and a row that a
#    corrected rerun no longer produces (a violation that is gone) goes away.
# 4. Late and dead-letter rows are replaced per source: the rows of every source the batch
#    or its manifest names are deleted, then the batch's inserted.
# Steps 3 and 4 are not one transaction: a reader in between sees the (shop, day)s taken
# without rows. The (shop, day)s to delete are kept in database replyrate_load for the
# mutations to read (tables named after the batch, dropped at the end).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
die() { echo "load.sh: $*" >&2; exit 2; }

print=0
[ "${1:-}" = "--print" ] && { print=1; shift; }
[ $# -eq 1 ] || die "usage: load.sh [--print] DIR"
dir=$1
[ -d "$dir" ] || die "$dir: not a directory"
dir=$(cd "$dir" && pwd)
[ -f "$dir/manifest.json" ] || die "$dir: no manifest.json (not the output of a run that finished)"

# SQL string literal
lit() { local s=${1//\\/\\\\}; printf "'%s'" "${s//\'/\\\'}"; }

tables=(shop_day shop_day_metrics agent_day agent_day_metrics violations alerts late_events dead_letter)
declare -A file_of=([late_events]=late [dead_letter]=dead_letter)
keyed=(shop_day shop_day_metrics agent_day agent_day_metrics violations alerts)
batch=b$(date +%s)_$$_$RANDOM

sql() {
  cat <<EOF
SET date_time_input_format = 'best_effort';
SET input_format_skip_unknown_fields = 1;
SET input_format_csv_empty_as_default = 1;
SET join_use_nulls = 0;
SET mutations_sync = 2;
SET lightweight_deletes_sync = 2;
EOF
  local t base f comp
  for t in "${tables[@]}"; do
    base=${file_of[$t]:-$t}
    if [ -f "$dir/$base.csv" ]; then f=$dir/$base.csv comp=""
    elif [ -f "$dir/$base.csv.zst" ]; then f=$dir/$base.csv.zst comp=" COMPRESSION 'zstd'"
    elif [ -f "$dir/$base.jsonl" ] || [ -f "$dir/$base.jsonl.zst" ]; then
      die "$dir: JSON Lines; load.sh reads the CSV forms (run --output-format csv or csv.zst)"
    else die "$dir: no $base.csv or $base.csv.zst"
    fi
    echo "CREATE TEMPORARY TABLE batch_$t AS replyrate.$t ENGINE = Memory;"
    # an empty file (no record, no header) inserts nothing
    [ -s "$f" ] && echo "INSERT INTO batch_$t FROM INFILE $(lit "$f")$comp FORMAT CSVWithNames;"
  done
  cat <<EOF
CREATE TEMPORARY TABLE manifest (doc String) ENGINE = Memory;
INSERT INTO manifest FROM INFILE $(lit "$dir/manifest.json") FORMAT JSONAsString;
CREATE DATABASE IF NOT EXISTS replyrate_load;
CREATE TABLE replyrate_load.keys_$batch ENGINE = Memory AS
  SELECT b.shop_id AS shop_id, b.day AS day
  FROM batch_shop_day AS b
  LEFT JOIN (SELECT shop_id, day, ver FROM replyrate.shop_day FINAL) AS s
    ON b.shop_id = s.shop_id AND b.day = s.day
  WHERE b.ver >= s.ver;
CREATE TABLE replyrate_load.sources_$batch ENGINE = Memory AS
  SELECT DISTINCT source FROM (
    SELECT source FROM batch_late_events
    UNION ALL SELECT source FROM batch_dead_letter
    UNION ALL SELECT arrayJoin(JSONExtract(doc, 'inputs', 'Array(Tuple(path String))')).1 AS source
      FROM manifest);
EOF
  for t in "${keyed[@]}"; do
    echo "DELETE FROM replyrate.$t WHERE (shop_id, day) IN (SELECT shop_id, day FROM replyrate_load.keys_$batch);"
  done
  for t in "${keyed[@]}"; do
    echo "INSERT INTO replyrate.$t SELECT * FROM batch_$t"
    echo "  WHERE (shop_id, day) IN (SELECT shop_id, day FROM replyrate_load.keys_$batch);"
  done
  for t in late_events dead_letter; do
    echo "DELETE FROM replyrate.$t WHERE source IN (SELECT source FROM replyrate_load.sources_$batch);"
    echo "INSERT INTO replyrate.$t SELECT * FROM batch_$t;"
  done
  cat <<EOF
SELECT concat('load.sh: ', $(lit "$dir"), ': ',
  toString((SELECT count() FROM replyrate_load.keys_$batch)), ' of ',
  toString((SELECT count() FROM batch_shop_day)), ' (shop, day)s loaded, ',
  toString((SELECT count() FROM batch_shop_day) - (SELECT count() FROM replyrate_load.keys_$batch)),
  ' kept (the stored rows outrank them); late ', toString((SELECT count() FROM batch_late_events)),
  ', dead letter ', toString((SELECT count() FROM batch_dead_letter))) FORMAT TSVRaw;
DROP TABLE replyrate_load.keys_$batch;
DROP TABLE replyrate_load.sources_$batch;
EOF
}

script=$(sql)
if [ "$print" = 1 ]; then
  printf '%s\n' "$script"
else
  # shellcheck disable=SC2086 # RR_CLICKHOUSE is a command line
  printf '%s\n' "$script" | ${RR_CLICKHOUSE:-clickhouse-client --multiquery}
fi
