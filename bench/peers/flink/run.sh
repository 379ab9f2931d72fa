#!/usr/bin/env bash
# The Apache Flink contender of bench/peers.sh.
#   bench/peers/flink/run.sh INPUT OUTDIR [--parallelism N] [--state hashmap|rocksdb]
#                            [--watermarks event|periodic] [--rocksdb-timers rocksdb|heap]
# INPUT is a delimited ChatEvent file (.pb), or kafka:HOST:PORT/TOPIC for the Kafka source
# (the topic from its start to the end offsets found at start).
# Builds the job with Maven when its sources changed (target/ is the cache), runs it on a
# local MiniCluster and leaves OUTDIR/records.jsonl: one line per (shop, day, metric),
# {shop_id, day, metric, num, den, unanswered, buckets}. The job's counts (applied,
# duplicate, late) and its own time go to stderr as one JSON line.
# JAVA_OPTS adds JVM options (e.g. -Xmx2g); FLINK_PEER_ARGS adds job options when the caller
# (bench/peers.sh) passes only INPUT OUTDIR; FLINK_PEER_SKIP_BUILD=1 skips the build check.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if [ $# -lt 2 ]; then
  echo "usage: $0 INPUT|kafka:HOST:PORT/TOPIC OUTDIR [--parallelism N] [--state hashmap|rocksdb] [--watermarks event|periodic] [--rocksdb-timers rocksdb|heap]" >&2
  exit 2
fi
case "$1" in
  kafka:*) input="$1" ;;
  *) input="$(realpath "$1")" ;;
esac
outdir="$2"
shift 2

stamp="$here/target/.built"
if [ "${FLINK_PEER_SKIP_BUILD:-0}" != 1 ]; then
  if [ ! -f "$stamp" ] || [ -n "$(find "$here/pom.xml" "$here/src" -newer "$stamp" -print -quit)" ]; then
    (cd "$here" && mvn -q -B -Dstyle.color=never package) >&2
    touch "$stamp"
  fi
fi

mkdir -p "$outdir"
outdir="$(realpath "$outdir")"
rm -f "$outdir"/records-*.jsonl "$outdir/records.jsonl"
# shellcheck disable=SC2086
java ${JAVA_OPTS:-} \
  --add-opens java.base/java.util=ALL-UNNAMED \
  --add-opens java.base/java.lang=ALL-UNNAMED \
  -cp "$here/target/classes:$here/target/lib/*" \
  replyrate.peers.flink.PeersJob "$input" "$outdir" ${FLINK_PEER_ARGS:-} "$@"
cat "$outdir"/records-*.jsonl | LC_ALL=C sort > "$outdir/records.jsonl"
rm -f "$outdir"/records-*.jsonl
