# tests/kafka/lib.bash: what the integration tests share (sourced, not a test:
# ctest runs tests/kafka/*.sh). Sets bin, brokers, tmp (removed on exit), now
# and id (a name prefix no earlier run used), and defines fail, export_all,
# same_exports and wait_for.
# Usage: source "$(dirname "$0")/lib.bash" NAME BINARY
set -euo pipefail
bin=$2
brokers=${RR_KAFKA_BROKERS:?"RR_KAFKA_BROKERS is not set: run under ctest (fixture kafka_broker) or deploy/kafka/broker.sh start"}
tmp=$(mktemp -d)
# On any exit, a failure's too, nothing started in the background outlives
# the test: a leftover instance holds ctest's output pipe open, and ctest
# waits for it (11 minutes, once).
reap() {
  local p
  for p in $(jobs -p); do
    pkill -9 -P "$p" 2>/dev/null || true
    kill -9 "$p" 2>/dev/null || true
  done
}
trap 'reap; [ -n "${RR_KEEP_TMP:-}" ] || rm -rf "$tmp"' EXIT
now=$(( $(date +%s) * 1000 ))
id="it-$1-$(date +%s%N)"

fail() { echo "FAIL: $*"; exit 1; }

# Export every result topic of prefix $id.$1 (read_committed) to $2.KIND.jsonl.
export_all() {
  local t
  for t in shop_day agent_day violations alerts late dead_letter; do
    "$bin" export --brokers "$brokers" --topic "$id.$1.$t" --output "$2.$t.jsonl" 2>"$tmp/export.log" ||
      fail "export $1.$t: $(cat "$tmp/export.log")"
  done
}

# The six result kinds of two exports are the same records, each as often.
same_exports() { # stem a, stem b, what
  local t
  for t in shop_day agent_day violations alerts late dead_letter; do
    cmp -s <(sort "$1.$t.jsonl") <(sort "$2.$t.jsonl") ||
      fail "$t $3: $(wc -l <"$1.$t.jsonl") records vs $(wc -l <"$2.$t.jsonl")"
  done
}

# Wait until a line of log matches pattern: 0, or 1 after seconds.
wait_for() { # pattern, log, seconds
  for _ in $(seq 1 $(( $3 * 10 ))); do
    grep -q "$1" "$2" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# Apache Kafka's own command-line tools, from the jars deploy/kafka/broker.sh
# fetched (DeleteRecordsCommand, GetOffsetShell, kafka.admin.ConfigCommand).
kafka_tool() { # main class, args...
  local v
  v=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "${RR_SOURCE_DIR:?}/deploy/kafka/pom.xml")
  java -Xmx256m -cp "${RR_KAFKA_CACHE:-$HOME/.cache/replyrate/kafka-$v}/libs/*" "$@" 2>"$tmp/tool.log"
}

# Delete partition $2 of topic $1 below offset $3 (what kafka-delete-records does).
delete_records() { # topic, partition, offset
  echo "{\"partitions\":[{\"topic\":\"$1\",\"partition\":$2,\"offset\":$3}],\"version\":1}" >"$tmp/delete.json"
  kafka_tool org.apache.kafka.tools.DeleteRecordsCommand --bootstrap-server "$brokers" \
    --offset-json-file "$tmp/delete.json" >"$tmp/delete.log" || fail "delete records: $(cat "$tmp/delete.log" "$tmp/tool.log")"
  grep -q "low_watermark: $3" "$tmp/delete.log" || fail "delete records: $(cat "$tmp/delete.log")"
}

# Partition $2 of topic $1's end offset.
end_offset() { # topic, partition
  kafka_tool org.apache.kafka.tools.GetOffsetShell --bootstrap-server "$brokers" --topic "$1" \
    --partitions "$2" --time -1 | cut -d: -f3
}

# The last summary line of a run's stderr, field $2.
summary_field() { # log, field
  python3 -c 'import json,sys
s=[json.loads(l) for l in open(sys.argv[1]) if l.startswith("{\"type\":\"summary\"")][-1]
print(s.get(sys.argv[2], ""))' "$1" "$2"
}

# Consumer properties that slow a run's reading to a batch a partition a
# second, whatever the machine: the broker holds each fetch until
# fetch.wait.max.ms, since fetch.min.bytes is more than a fetch may carry.
# For tests that must land something (a signal, a deletion) inside a run.
slow_reader=(-X fetch.min.bytes=10000000 -X fetch.max.bytes=200000 -X message.max.bytes=200000
  -X max.partition.fetch.bytes=100000 -X fetch.wait.max.ms=1000 -X queued.min.messages=1000)
