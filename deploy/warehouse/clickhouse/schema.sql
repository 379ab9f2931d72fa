-- ClickHouse tables for replyrate's results (issue 18). One table per file of
-- `replyrate run --output-dir DIR` (docs/output.md), typed; load.sh fills them from such a
-- directory, kafka.sql from the result topics. Idempotent (IF NOT EXISTS).
--
-- Replacement. Every result table is a ReplacingMergeTree ordered by the record's key and
-- versioned by `ver`: 0xFFFFFFFF for a final record, its revision for a provisional one. So
-- of the rows of one key, a final one wins over provisional revisions, a later revision over
-- an earlier one, and of equal `ver` the last inserted (a reload, a corrected rerun). Merges
-- collapse them in the background; read with FINAL (or after OPTIMIZE TABLE ... FINAL) to
-- see one row per key. load.sh also deletes a batch's (shop_id, day) rows before inserting
-- them, so a row that a corrected rerun no longer produces goes away (load.sh, header).
--
-- Violations have no key the contract guarantees unique. They are ordered by
-- (shop_id, day, metric, conversation_id, round_start): one round of a conversation is
-- judged once per metric, and tests/warehouse/clickhouse.sh checks on a generated night
-- that FINAL keeps every violation of the run. Files replace them per (shop_id, day)
-- (load.sh); from Kafka they are published once, final (docs/kafka.md), and the key
-- collapses what the Kafka engine's at-least-once delivery reads twice.
--
-- late_events and dead_letter are keyed by where the event was read (source, partition,
-- offset); the same input read again gives the same keys.

CREATE DATABASE IF NOT EXISTS replyrate;

-- One row per shop_day record (the key row; its metrics are in shop_day_metrics).
CREATE TABLE IF NOT EXISTS replyrate.shop_day
(
    shop_id  UInt64,
    day      Date,
    final    Bool,
    revision UInt32,
    version  LowCardinality(String),
    ver      UInt64 MATERIALIZED if(final, 4294967295, revision)
)
ENGINE = ReplacingMergeTree(ver)
PARTITION BY toYYYYMM(day)
ORDER BY (shop_id, day);

-- One row per (shop_day record, metric shown). unanswered and b0..b7 (the 8 wait buckets)
-- are set on response_time metrics only, NULL on the others.
CREATE TABLE IF NOT EXISTS replyrate.shop_day_metrics
(
    shop_id    UInt64,
    day        Date,
    metric     LowCardinality(String),
    num        UInt64,
    den        UInt64,
    unanswered Nullable(UInt64),
    b0 Nullable(UInt64), b1 Nullable(UInt64), b2 Nullable(UInt64), b3 Nullable(UInt64),
    b4 Nullable(UInt64), b5 Nullable(UInt64), b6 Nullable(UInt64), b7 Nullable(UInt64),
    final      Bool,
    revision   UInt32,
    version    LowCardinality(String),
    ver        UInt64 MATERIALIZED if(final, 4294967295, revision)
)
ENGINE = ReplacingMergeTree(ver)
PARTITION BY toYYYYMM(day)
ORDER BY (shop_id, day, metric);

CREATE TABLE IF NOT EXISTS replyrate.agent_day
(
    shop_id  UInt64,
    agent_id UInt64,
    day      Date,
    final    Bool,
    revision UInt32,
    version  LowCardinality(String),
    ver      UInt64 MATERIALIZED if(final, 4294967295, revision)
)
ENGINE = ReplacingMergeTree(ver)
PARTITION BY toYYYYMM(day)
ORDER BY (shop_id, day, agent_id);

CREATE TABLE IF NOT EXISTS replyrate.agent_day_metrics
(
    shop_id    UInt64,
    agent_id   UInt64,
    day        Date,
    metric     LowCardinality(String),
    num        UInt64,
    den        UInt64,
    unanswered Nullable(UInt64),
    b0 Nullable(UInt64), b1 Nullable(UInt64), b2 Nullable(UInt64), b3 Nullable(UInt64),
    b4 Nullable(UInt64), b5 Nullable(UInt64), b6 Nullable(UInt64), b7 Nullable(UInt64),
    final      Bool,
    revision   UInt32,
    version    LowCardinality(String),
    ver        UInt64 MATERIALIZED if(final, 4294967295, revision)
)
ENGINE = ReplacingMergeTree(ver)
PARTITION BY toYYYYMM(day)
ORDER BY (shop_id, day, agent_id, metric);

-- reply_at and wait_ms are NULL when the round was not answered within the horizon.
CREATE TABLE IF NOT EXISTS replyrate.violations
(
    shop_id         UInt64,
    day             Date,
    metric          LowCardinality(String),
    conversation_id UInt64,
    buyer_id        UInt64,
    agent_id        UInt64,
    round_start     DateTime64(3, 'UTC'),
    reply_at        Nullable(DateTime64(3, 'UTC')),
    wait_ms         Nullable(UInt64),
    messages        UInt32,
    reason          LowCardinality(String),
    final           Bool,
    version         LowCardinality(String),
    ver             UInt64 MATERIALIZED if(final, 4294967295, 0)
)
ENGINE = ReplacingMergeTree(ver)
PARTITION BY toYYYYMM(day)
ORDER BY (shop_id, day, metric, conversation_id, round_start);

CREATE TABLE IF NOT EXISTS replyrate.alerts
(
    shop_id UInt64,
    day     Date,
    rule    LowCardinality(String),
    value   Float64,
    final   Bool,
    version LowCardinality(String),
    ver     UInt64 MATERIALIZED if(final, 4294967295, 0)
)
ENGINE = ReplacingMergeTree(ver)
PARTITION BY toYYYYMM(day)
ORDER BY (shop_id, day, rule);

-- Late and invalid events: the rejected-events layout (docs/output.md). The event's
-- columns are NULL when its bytes did not decode; watermark_ms NULL when nothing had been
-- applied on the partition yet; ts_ms and watermark_ms are Unix epoch milliseconds.
CREATE TABLE IF NOT EXISTS replyrate.late_events
(
    type            LowCardinality(String),
    reason          LowCardinality(String),
    source          String,
    partition       Int32,
    offset          Int64,
    watermark_ms    Nullable(Int64),
    event_id        Nullable(UInt64),
    shop_id         Nullable(UInt64),
    conversation_id Nullable(UInt64),
    buyer_id        Nullable(UInt64),
    agent_id        Nullable(UInt64),
    ts_ms           Nullable(Int64),
    event_type      Nullable(String),
    content         Nullable(UInt32),
    rating          Nullable(UInt32),
    flags           Nullable(UInt32),
    raw_hex         Nullable(String)
)
ENGINE = ReplacingMergeTree
ORDER BY (source, partition, offset);

CREATE TABLE IF NOT EXISTS replyrate.dead_letter AS replyrate.late_events;
