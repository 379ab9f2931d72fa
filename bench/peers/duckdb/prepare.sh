#!/usr/bin/env bash
# bench/peers/duckdb/prepare.sh INPUT OUTDIR: untimed preparation (bench/peers/README.md).
# Makes the venv beside this script (.venv, from requirements.txt) once, then
# exports INPUT (delimited ChatEvents, plain .pb) to OUTDIR/events.parquet.
set -euo pipefail
[ $# = 2 ] || { echo "usage: $0 INPUT OUTDIR" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
VENV=$HERE/.venv
if [ ! -x "$VENV/bin/python" ] || ! cmp -s "$HERE/requirements.txt" "$VENV/requirements.txt"; then
    echo "duckdb: installing $(tr '\n' ' ' <"$HERE/requirements.txt")into $VENV" >&2
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q -r "$HERE/requirements.txt"
    cp "$HERE/requirements.txt" "$VENV/requirements.txt"
fi
mkdir -p "$2"
"$VENV/bin/python" "$HERE/export.py" "$1" "$2/events.parquet"
