#!/usr/bin/env bash
# bench/peers/duckdb/run.sh INPUT OUTDIR: the timed run (bench/peers/README.md).
# Runs metrics.sql over OUTDIR/events.parquet (made from INPUT by prepare.sh)
# and writes OUTDIR/records.jsonl. DuckDB uses every core (its default), or
# DUCKDB_THREADS when set.
set -euo pipefail
[ $# = 2 ] || { echo "usage: $0 INPUT OUTDIR" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
exec "$HERE/.venv/bin/python" "$HERE/run.py" --threads "${DUCKDB_THREADS:-0}" \
    "$2/events.parquet" "$2/records.jsonl"
