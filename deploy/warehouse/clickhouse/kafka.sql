-- Kafka engine tables over replyrate's result topics (docs/kafka.md, "Publishing
-- results"), and materialized views that write what they read into the tables of
-- schema.sql (create those first). Placeholders, replaced before running (README.md):
--   __BROKERS__  bootstrap servers, e.g. 127.0.0.1:9092
--   __PREFIX__   the topics' prefix (run --topic-prefix; default replyrate)
--   __GROUP__    ClickHouse's consumer groups' prefix, e.g. clickhouse-replyrate (one
--                group per topic: __GROUP__.shop_day ...)
-- e.g. sed -e s/__BROKERS__/kafka1:9092/ -e s/__PREFIX__/replyrate/ \
--        -e s/__GROUP__/clickhouse-replyrate/ kafka.sql | clickhouse-client --multiquery
--
-- Values are the bare protobuf messages of proto/replyrate/v1/results.proto (the producer
-- compresses them with zstd; librdkafka in ClickHouse decompresses). format_schema names
-- 'results.proto:MESSAGE', which the server reads in its format_schema_path (clickhouse-local
-- and chdb: relative to their working directory), and results.proto imports
-- "replyrate/v1/chat_event.proto" from the same root. So that directory needs both
--   results.proto                     (a copy of proto/replyrate/v1/results.proto)
--   replyrate/v1/chat_event.proto     (a copy of the repository's proto/replyrate)
--
-- Columns map to the messages' fields by name; a repeated message (metrics) maps to the
-- arrays `metrics.FIELD`. proto3 leaves zero values out: they read as 0 / '' / false.
-- The producer is transactional; ClickHouse's librdkafka reads read_committed (its
-- default), so a killed run's aborted records are never read, and an open transaction's
-- only once it commits (tried: after a run killed mid-publish and its rerun, the tables
-- held the rerun's records once). The Kafka engine delivers at least once (a restart may read again
-- what it had inserted): the ReplacingMergeTree keys of schema.sql collapse those rows.

-- day: YYYYMMDD as an integer on Kafka, a Date in the tables.

CREATE TABLE IF NOT EXISTS replyrate.kafka_shop_day
(
    shop_id              UInt64,
    day                  UInt32,
    final                Bool,
    version              String,
    `metrics.name`       Array(String),
    `metrics.num`        Array(Int64),
    `metrics.den`        Array(Int64),
    `metrics.unanswered` Array(Int64),
    `metrics.buckets`    Array(Array(Int64)),
    revision             UInt32
)
ENGINE = Kafka
SETTINGS kafka_broker_list = '__BROKERS__',
         kafka_topic_list = '__PREFIX__.shop_day',
         kafka_group_name = '__GROUP__.shop_day',
         kafka_format = 'ProtobufSingle',
         format_schema = 'results.proto:ShopDay';

CREATE TABLE IF NOT EXISTS replyrate.kafka_agent_day
(
    shop_id              UInt64,
    agent_id             UInt64,
    day                  UInt32,
    final                Bool,
    version              String,
    `metrics.name`       Array(String),
    `metrics.num`        Array(Int64),
    `metrics.den`        Array(Int64),
    `metrics.unanswered` Array(Int64),
    `metrics.buckets`    Array(Array(Int64)),
    revision             UInt32
)
ENGINE = Kafka
SETTINGS kafka_broker_list = '__BROKERS__',
         kafka_topic_list = '__PREFIX__.agent_day',
         kafka_group_name = '__GROUP__.agent_day',
         kafka_format = 'ProtobufSingle',
         format_schema = 'results.proto:AgentDay';

-- reason: the enum's name (LATE, NO_REPLY, UNASSIGNED), lower-cased by the view.
CREATE TABLE IF NOT EXISTS replyrate.kafka_violations
(
    shop_id         UInt64,
    day             UInt32,
    metric          String,
    conversation_id UInt64,
    buyer_id        UInt64,
    agent_id        UInt64,
    round_start_ms  Int64,
    reply_ms        Int64,
    wait_ms         Int64,
    messages        UInt32,
    reason          String,
    final           Bool,
    version         String,
    answered        Bool
)
ENGINE = Kafka
SETTINGS kafka_broker_list = '__BROKERS__',
         kafka_topic_list = '__PREFIX__.violations',
         kafka_group_name = '__GROUP__.violations',
         kafka_format = 'ProtobufSingle',
         format_schema = 'results.proto:Violation';

CREATE TABLE IF NOT EXISTS replyrate.kafka_alerts
(
    shop_id UInt64,
    day     UInt32,
    rule    String,
    value   Float64,
    final   Bool,
    version String
)
ENGINE = Kafka
SETTINGS kafka_broker_list = '__BROKERS__',
         kafka_topic_list = '__PREFIX__.alerts',
         kafka_group_name = '__GROUP__.alerts',
         kafka_format = 'ProtobufSingle',
         format_schema = 'results.proto:Alert';

-- RejectedEvent, for both .late and .dead_letter. event.type is read as its number (an
-- invalid event may hold any value); the view names 1..10 as the CSV layout does.
CREATE TABLE IF NOT EXISTS replyrate.kafka_late
(
    kind                    String,
    reason                  String,
    source                  String,
    partition               Int32,
    offset                  Int64,
    raw                     String,
    `event.event_id`        UInt64,
    `event.shop_id`         UInt64,
    `event.conversation_id` UInt64,
    `event.buyer_id`        UInt64,
    `event.agent_id`        UInt64,
    `event.ts_ms`           Int64,
    `event.type`            Int32,
    `event.content`         UInt32,
    `event.rating`          UInt32,
    `event.flags`           UInt32,
    watermark_ms            Int64
)
ENGINE = Kafka
SETTINGS kafka_broker_list = '__BROKERS__',
         kafka_topic_list = '__PREFIX__.late',
         kafka_group_name = '__GROUP__.late',
         kafka_format = 'ProtobufSingle',
         format_schema = 'results.proto:RejectedEvent';

CREATE TABLE IF NOT EXISTS replyrate.kafka_dead_letter AS replyrate.kafka_late
ENGINE = Kafka
SETTINGS kafka_broker_list = '__BROKERS__',
         kafka_topic_list = '__PREFIX__.dead_letter',
         kafka_group_name = '__GROUP__.dead_letter',
         kafka_format = 'ProtobufSingle',
         format_schema = 'results.proto:RejectedEvent';

-- The views. A metric with 8 buckets is a response_time one: only those carry unanswered
-- and the buckets (NULL on the others, as in the CSV files).

CREATE MATERIALIZED VIEW IF NOT EXISTS replyrate.kafka_shop_day_mv TO replyrate.shop_day AS
SELECT shop_id,
       makeDate(intDiv(day, 10000), intDiv(day, 100) % 100, day % 100) AS day,
       final, revision, version
FROM replyrate.kafka_shop_day;

CREATE MATERIALIZED VIEW IF NOT EXISTS replyrate.kafka_shop_day_metrics_mv
TO replyrate.shop_day_metrics AS
SELECT shop_id,
       makeDate(intDiv(day, 10000), intDiv(day, 100) % 100, day % 100) AS day,
       m_name AS metric,
       toUInt64(m_num) AS num,
       toUInt64(m_den) AS den,
       if(length(m_buckets) = 8, toNullable(toUInt64(m_unanswered)), NULL) AS unanswered,
       if(length(m_buckets) = 8, toNullable(toUInt64(m_buckets[1])), NULL) AS b0,
       if(length(m_buckets) = 8, toNullable(toUInt64(m_buckets[2])), NULL) AS b1,
       if(length(m_buckets) = 8, toNullable(toUInt64(m_buckets[3])), NULL) AS b2,
       if(length(m_buckets) = 8, toNullable(toUInt64(m_buckets[4])), NULL) AS b3,
       if(length(m_buckets) = 8, toNullable(toUInt64(m_buckets[5])), NULL) AS b4,
       if(length(m_buckets) = 8, toNullable(toUInt64(m_buckets[6])), NULL) AS b5,
       if(length(m_buckets) = 8, toNullable(toUInt64(m_buckets[7])), NULL) AS b6,
       if(length(m_buckets) = 8, toNullable(toUInt64(m_buckets[8])), NULL) AS b7,
       final, revision, version
FROM replyrate.kafka_shop_day
ARRAY JOIN `metrics.name` AS m_name, `metrics.num` AS m_num, `metrics.den` AS m_den,
           `metrics.unanswered` AS m_unanswered, `metrics.buckets` AS m_buckets;

CREATE MATERIALIZED VIEW IF NOT EXISTS replyrate.kafka_agent_day_mv TO replyrate.agent_day AS
SELECT shop_id, agent_id,
       makeDate(intDiv(day, 10000), intDiv(day, 100) % 100, day % 100) AS day,
       final, revision, version
FROM replyrate.kafka_agent_day;

CREATE MATERIALIZED VIEW IF NOT EXISTS replyrate.kafka_agent_day_metrics_mv
TO replyrate.agent_day_metrics AS
SELECT shop_id, agent_id,
       makeDate(intDiv(day, 10000), intDiv(day, 100) % 100, day % 100) AS day,
       m_name AS metric,
       toUInt64(m_num) AS num,
       toUInt64(m_den) AS den,
       if(length(m_buckets) = 8, toNullable(toUInt64(m_unanswered)), NULL) AS unanswered,
       if(length(m_buckets) = 8, toNullable(toUInt64(m_buckets[1])), NULL) AS b0,
       if(length(m_buckets) = 8, toNullable(toUInt64(m_buckets[2])), NULL) AS b1,
       if(length(m_buckets) = 8, toNullable(toUInt64(m_buckets[3])), NULL) AS b2,
       if(length(m_buckets) = 8, toNullable(toUInt64(m_buckets[4])), NULL) AS b3,
       if(length(m_buckets) = 8, toNullable(toUInt64(m_buckets[5])), NULL) AS b4,
       if(length(m_buckets) = 8, toNullable(toUInt64(m_buckets[6])), NULL) AS b5,
       if(length(m_buckets) = 8, toNullable(toUInt64(m_buckets[7])), NULL) AS b6,
       if(length(m_buckets) = 8, toNullable(toUInt64(m_buckets[8])), NULL) AS b7,
       final, revision, version
FROM replyrate.kafka_agent_day
ARRAY JOIN `metrics.name` AS m_name, `metrics.num` AS m_num, `metrics.den` AS m_den,
           `metrics.unanswered` AS m_unanswered, `metrics.buckets` AS m_buckets;

CREATE MATERIALIZED VIEW IF NOT EXISTS replyrate.kafka_violations_mv TO replyrate.violations AS
SELECT shop_id,
       makeDate(intDiv(day, 10000), intDiv(day, 100) % 100, day % 100) AS day,
       metric, conversation_id, buyer_id, agent_id,
       fromUnixTimestamp64Milli(round_start_ms, 'UTC') AS round_start,
       if(answered, toNullable(fromUnixTimestamp64Milli(reply_ms, 'UTC')), NULL) AS reply_at,
       if(answered, toNullable(toUInt64(wait_ms)), NULL) AS wait_ms,
       messages,
       lower(reason) AS reason,
       final, version
FROM replyrate.kafka_violations;

CREATE MATERIALIZED VIEW IF NOT EXISTS replyrate.kafka_alerts_mv TO replyrate.alerts AS
SELECT shop_id,
       makeDate(intDiv(day, 10000), intDiv(day, 100) % 100, day % 100) AS day,
       rule, value, final, version
FROM replyrate.kafka_alerts;

-- The event is NULL when its bytes did not decode: the reasons of the first two rows of
-- docs/metrics.md, "Invalid events" (protobuf cannot say whether a message field was set).
-- watermark_ms is INT64_MIN on Kafka when none; raw empty when not available.

CREATE MATERIALIZED VIEW IF NOT EXISTS replyrate.kafka_late_mv TO replyrate.late_events AS
SELECT lower(kind) AS type, reason, source, partition, offset,
       if(watermark_ms = -9223372036854775808, NULL, toNullable(watermark_ms)) AS watermark_ms,
       if(undecoded, NULL, toNullable(`event.event_id`)) AS event_id,
       if(undecoded, NULL, toNullable(`event.shop_id`)) AS shop_id,
       if(undecoded, NULL, toNullable(`event.conversation_id`)) AS conversation_id,
       if(undecoded, NULL, toNullable(`event.buyer_id`)) AS buyer_id,
       if(undecoded, NULL, toNullable(`event.agent_id`)) AS agent_id,
       if(undecoded, NULL, toNullable(`event.ts_ms`)) AS ts_ms,
       if(undecoded, NULL, toNullable(if(`event.type` BETWEEN 1 AND 10,
          ['SESSION_START', 'TRANSFER_TO_MANUAL', 'AGENT_ASSIGNED', 'BUYER_MESSAGE',
           'AGENT_MESSAGE', 'ROBOT_MESSAGE', 'SYSTEM_MESSAGE', 'SESSION_END',
           'RATING_INVITE', 'RATING'][`event.type`], toString(`event.type`)))) AS event_type,
       if(undecoded, NULL, toNullable(`event.content`)) AS content,
       if(undecoded, NULL, toNullable(`event.rating`)) AS rating,
       if(undecoded, NULL, toNullable(`event.flags`)) AS flags,
       if(raw = '', NULL, toNullable(lower(hex(raw)))) AS raw_hex
FROM (SELECT *, reason IN ('truncated', 'varint_too_long', 'tag_too_long', 'length_too_long',
          'length_too_large', 'field_number_zero', 'wrong_wire_type', 'unsupported_wire_type',
          'too_many_fields', 'broken_length_prefix', 'length_past_end_of_file',
          'record_too_large', 'resync_skipped_bytes', 'damaged_zstd_frame') AS undecoded
      FROM replyrate.kafka_late);

CREATE MATERIALIZED VIEW IF NOT EXISTS replyrate.kafka_dead_letter_mv TO replyrate.dead_letter AS
SELECT lower(kind) AS type, reason, source, partition, offset,
       if(watermark_ms = -9223372036854775808, NULL, toNullable(watermark_ms)) AS watermark_ms,
       if(undecoded, NULL, toNullable(`event.event_id`)) AS event_id,
       if(undecoded, NULL, toNullable(`event.shop_id`)) AS shop_id,
       if(undecoded, NULL, toNullable(`event.conversation_id`)) AS conversation_id,
       if(undecoded, NULL, toNullable(`event.buyer_id`)) AS buyer_id,
       if(undecoded, NULL, toNullable(`event.agent_id`)) AS agent_id,
       if(undecoded, NULL, toNullable(`event.ts_ms`)) AS ts_ms,
       if(undecoded, NULL, toNullable(if(`event.type` BETWEEN 1 AND 10,
          ['SESSION_START', 'TRANSFER_TO_MANUAL', 'AGENT_ASSIGNED', 'BUYER_MESSAGE',
           'AGENT_MESSAGE', 'ROBOT_MESSAGE', 'SYSTEM_MESSAGE', 'SESSION_END',
           'RATING_INVITE', 'RATING'][`event.type`], toString(`event.type`)))) AS event_type,
       if(undecoded, NULL, toNullable(`event.content`)) AS content,
       if(undecoded, NULL, toNullable(`event.rating`)) AS rating,
       if(undecoded, NULL, toNullable(`event.flags`)) AS flags,
       if(raw = '', NULL, toNullable(lower(hex(raw)))) AS raw_hex
FROM (SELECT *, reason IN ('truncated', 'varint_too_long', 'tag_too_long', 'length_too_long',
          'length_too_large', 'field_number_zero', 'wrong_wire_type', 'unsupported_wire_type',
          'too_many_fields', 'broken_length_prefix', 'length_past_end_of_file',
          'record_too_large', 'resync_skipped_bytes', 'damaged_zstd_frame') AS undecoded
      FROM replyrate.kafka_dead_letter);
