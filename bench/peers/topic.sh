#!/usr/bin/env bash
# The peers' shared broker and topics (untimed; bench/peers/README.md).
#   bench/peers/topic.sh load INPUT   start the broker if it is not running, load INPUT (a .pb
#                                     file) into a topic once (the file's name, size and mtime
#                                     say whether it is loaded), and print "HOST:PORT TOPIC"
#   bench/peers/topic.sh stop         stop the broker (its data stays in bench/peers/.kafka;
#                                     delete that folder to drop the topics)
# A real Kafka broker (deploy/kafka/broker.sh, KRaft, 127.0.0.1). PEERS_KAFKA_PORT: its port
# (default 19792; the controller uses PORT+1); PEERS_PARTITIONS: the topic's partitions
# (default 1: the file is one stream, one watermark, as replyrate's run on the file);
# REPLYRATE: the binary that loads it (default build-bench/replyrate, as bench/peers.sh
# builds it, else build/replyrate, else on PATH).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
port=${PEERS_KAFKA_PORT:-19792}
export RR_KAFKA_PORT=$port RR_KAFKA_STATE=$here/.kafka
case "${1:-}" in
stop) exec "$repo/deploy/kafka/broker.sh" stop ;;
load) [ $# -eq 2 ] || { echo "usage: $0 load INPUT" >&2; exit 2; } ;;
*) echo "usage: $0 load INPUT | stop" >&2; exit 2 ;;
esac
input="$(realpath "$2")"
parts=${PEERS_PARTITIONS:-1}
rr=${REPLYRATE:-}
if [ -z "$rr" ]; then
  for rr in "$repo/build-bench/replyrate" "$repo/build/replyrate" replyrate; do
    command -v "$rr" >/dev/null && break
  done
fi
"$repo/deploy/kafka/broker.sh" start >&2
key="$(basename "$input" | tr -d "\n" | tr -c 'A-Za-z0-9._-' _)-$(stat -c %s-%Y "$input")-p$parts"
mkdir -p "$RR_KAFKA_STATE"
topic=$(awk -v k="$key" '$1 == k {t = $2} END {print t}' "$RR_KAFKA_STATE/loaded" 2>/dev/null || true)
if [ -z "$topic" ]; then
  # a fresh topic each load: one an interrupted load left half full is never appended to
  topic="events-$key-$(date +%s)"
  "$rr" load --quiet --input "$input" --brokers "127.0.0.1:$port" --topic "$topic" --partitions "$parts" >&2
  echo "$key $topic" >> "$RR_KAFKA_STATE/loaded"
fi
echo "127.0.0.1:$port $topic"
