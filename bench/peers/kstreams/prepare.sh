#!/usr/bin/env bash
# Untimed: build the Streams app (Maven, Java 17), start a real Kafka broker
# (deploy/kafka/broker.sh, its data in bench/peers/kstreams/.kafka, one for every OUTDIR) and load INPUT into a topic with
# `replyrate load`, so that run.sh times only the Streams app.
#   bench/peers/kstreams/prepare.sh INPUT OUTDIR
# KSTREAMS_PEER_PORT: the broker's port (default 19792; the controller uses PORT+1);
# KSTREAMS_PEER_PARTITIONS: the topic's partitions (default 1, as the file is one stream:
# one watermark, as replyrate's run on the file); REPLYRATE: the binary (default
# build-bench/replyrate, as bench/peers.sh builds it, else build/replyrate, else on PATH).
# The broker keeps running for run.sh; stop it with bench/peers/kstreams/stop.sh.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
[ $# -eq 2 ] || { echo "usage: $0 INPUT OUTDIR" >&2; exit 2; }
input="$(realpath "$1")"
mkdir -p "$2"
outdir="$(realpath "$2")"
command -v mvn >/dev/null || { echo "kstreams: Maven (mvn) is not installed" >&2; exit 1; }
command -v java >/dev/null || { echo "kstreams: Java 17 is not installed" >&2; exit 1; }
(cd "$here" && mvn -q -B package)
touch "$here/target/.built"

port=${KSTREAMS_PEER_PORT:-19792}
parts=${KSTREAMS_PEER_PARTITIONS:-1}
rr=${REPLYRATE:-}
if [ -z "$rr" ]; then
  for rr in "$repo/build-bench/replyrate" "$repo/build/replyrate" replyrate; do
    command -v "$rr" >/dev/null && break
  done
fi
export RR_KAFKA_PORT=$port RR_KAFKA_STATE=$here/.kafka
"$repo/deploy/kafka/broker.sh" start
topic="events-$(basename "$input" | tr -d "\n" | tr -c 'A-Za-z0-9._-' _)-$(stat -c %s-%Y "$input")-p$parts"
if ! grep -qx "127.0.0.1:$port $topic" "$outdir/topic" 2>/dev/null; then
  "$rr" load --quiet --input "$input" --brokers "127.0.0.1:$port" --topic "$topic" --partitions "$parts"
fi
echo "127.0.0.1:$port $topic" > "$outdir/topic"
