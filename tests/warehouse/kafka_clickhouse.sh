#!/usr/bin/env bash
# deploy/warehouse/clickhouse/kafka.sql, for real: ClickHouse's Kafka engine (in chdb,
# tests/warehouse/chdb_env.bash) reads the result topics of a bounded `run --publish`
# from the test broker (ctest fixture kafka_broker), and its materialized views fill the
# tables of schema.sql. Read with FINAL, every table equals the same run's JSON Lines
# (--output, --late, --dead-letter) key for key and column for column
# (tests/warehouse/clickhouse_check.py): the protobuf messages as ClickHouse decodes them,
# days from YYYYMMDD, metrics ARRAY JOINed into the narrow tables, unanswered rounds and
# undecodable events as NULLs.
# Usage: tests/warehouse/kafka_clickhouse.sh path/to/replyrate
src=${RR_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=tests/kafka/lib.bash
source "$src/tests/kafka/lib.bash" warehouse-ch "$1"
# shellcheck source=tests/warehouse/chdb_env.bash
source "$src/tests/warehouse/chdb_env.bash"
kit=$src/deploy/warehouse/clickhouse

"$bin" gen --events 100000 --days 2 --late-rate 0.01 --invalid-rate 0.01 --duplicate-rate 0.01 \
  --garbage-rate 0.001 --output "$tmp/in.pb" 2>"$tmp/gen.log" || fail "gen: $(cat "$tmp/gen.log")"
"$bin" load -q --brokers "$brokers" --topic "$id.events" --partitions 4 --input "$tmp/in.pb" 2>"$tmp/load.log" ||
  fail "load: $(cat "$tmp/load.log")"
# A broker just started may not have its group coordinator yet: the run then stops
# before it reads anything ("Not coordinator"), and publishing is exactly once, so it is
# run again.
for try in 1 2 3 4 5; do
  "$bin" run -q --until-end --now-ms "$now" --brokers "$brokers" --topic "$id.events" --group g1 \
    --publish --topic-prefix "$id.out" --output "$tmp/x.jsonl" --late "$tmp/l.jsonl" \
    --dead-letter "$tmp/d.jsonl" 2>"$tmp/run.log" && break
  grep -q "committed offsets: Broker: \(Not coordinator\|Coordinator load in progress\)" "$tmp/run.log" &&
    [ "$try" -lt 5 ] || fail "run: $(tail -3 "$tmp/run.log")"
  sleep 2
done
for kind in shop_day agent_day violation alert; do
  grep -q "\"type\":\"$kind\"" "$tmp/x.jsonl" || fail "the run published no $kind"
done
grep -q '"event":null' "$tmp/d.jsonl" || fail "the run has no undecodable dead letter"
[ -s "$tmp/l.jsonl" ] || fail "the run has no late event"

# The .proto files where the Kafka engine looks for results.proto and its import. A
# server reads them under its format_schema_path; chdb (as clickhouse-local) relative to
# its working directory.
mkdir -p "$tmp/schemas"
cp "$src/proto/replyrate/v1/results.proto" "$tmp/schemas/"
cp -r "$src/proto/replyrate" "$tmp/schemas/"
sed -e "s/__BROKERS__/$brokers/g" -e "s/__PREFIX__/$id.out/g" -e "s/__GROUP__/$id.clickhouse/g" \
  "$kit/kafka.sql" >"$tmp/kafka.sql"
cd "$tmp/schemas"
"$py" "$src/tests/warehouse/clickhouse_check.py" --summary --wait 120 --setup "$kit/schema.sql" \
  --setup "$tmp/kafka.sql" "$tmp/wh" "$tmp/x.jsonl" "$tmp/l.jsonl" "$tmp/d.jsonl" >"$tmp/check.log" 2>&1 ||
  fail "the tables the Kafka engine filled: $(cat "$tmp/check.log")"
cat "$tmp/check.log"
