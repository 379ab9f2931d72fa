#!/usr/bin/env bash
# Untimed: build the Streams app (Maven, Java 17) and find its topic, so that run.sh times
# only the Streams app.
#   bench/peers/kstreams/prepare.sh INPUT OUTDIR
# INPUT is a .pb file, loaded once into a topic on the peers' broker (bench/peers/topic.sh,
# a real Kafka broker; KSTREAMS_PEER_PARTITIONS sets the topic's partitions, default 1), or
# kafka:HOST:PORT/TOPIC when bench/peers.sh runs with --source topic. Leaves
# "HOST:PORT TOPIC" in OUTDIR/topic. The broker keeps running for run.sh; bench/peers.sh
# stops it at its end (stop.sh).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
[ $# -eq 2 ] || { echo "usage: $0 INPUT OUTDIR" >&2; exit 2; }
mkdir -p "$2"
outdir="$(realpath "$2")"
command -v mvn >/dev/null || { echo "kstreams: Maven (mvn) is not installed" >&2; exit 1; }
command -v java >/dev/null || { echo "kstreams: Java 17 is not installed" >&2; exit 1; }
(cd "$here" && mvn -q -B -Dstyle.color=never package)
touch "$here/target/.built"
case "$1" in
kafka:*/*) where=${1#kafka:}; echo "${where%%/*} ${where#*/}" >"$outdir/topic" ;;
*) PEERS_PARTITIONS=${KSTREAMS_PEER_PARTITIONS:-1} "$here/../topic.sh" load "$1" >"$outdir/topic" ;;
esac
