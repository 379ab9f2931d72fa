#!/usr/bin/env bash
# Stops the broker prepare.sh started for OUTDIR (its data stays; delete OUTDIR/kafka to drop it).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
outdir="$(realpath "$1")"
read -r bootstrap _ < "$outdir/topic"
RR_KAFKA_PORT=${bootstrap##*:} RR_KAFKA_STATE=$outdir/kafka "$here/../../../deploy/kafka/broker.sh" stop
