#!/usr/bin/env bash
# The Kafka Streams contender of bench/peers.sh (timed).
#   bench/peers/kstreams/run.sh INPUT OUTDIR [--stores memory|rocksdb] [--threads N]
# Reads the topic prepare.sh loaded INPUT into (OUTDIR/topic: "HOST:PORT TOPIC", on the
# broker prepare.sh started), from its start to the end offsets found at start, with a Kafka
# Streams app (exactly_once_v2), and leaves OUTDIR/records.jsonl. The app's counts and its own
# time go to stderr as one JSON line. JAVA_OPTS adds JVM options; KSTREAMS_PEER_ARGS adds app
# options when the caller passes only INPUT OUTDIR.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if [ $# -lt 2 ]; then
  echo "usage: $0 INPUT OUTDIR [--stores memory|rocksdb] [--threads N]" >&2
  exit 2
fi
outdir="$(realpath "$2")"
shift 2
[ -f "$outdir/topic" ] || { echo "kstreams: no $outdir/topic: run prepare.sh INPUT OUTDIR first" >&2; exit 1; }
read -r bootstrap topic < "$outdir/topic"
rm -rf "$outdir"/records-*.jsonl "$outdir/records.jsonl" "$outdir/state"
# shellcheck disable=SC2086
java ${JAVA_OPTS:-} -cp "$here/target/classes:$here/target/lib/*" \
  replyrate.peers.kstreams.App "$bootstrap" "$topic" "$outdir" ${KSTREAMS_PEER_ARGS:-} "$@"
cat "$outdir"/records-*.jsonl | LC_ALL=C sort > "$outdir/records.jsonl"
rm -f "$outdir"/records-*.jsonl
