-- replyrate results in PostgreSQL: the tables that deploy/warehouse/postgres/load.sh fills
-- from a `replyrate run --output-dir DIR` (docs/output.md). Idempotent: run it again at any
-- time, it creates only what is missing. A psql script (it uses psql variables):
--
--   psql -v ON_ERROR_STOP=1 -f schema.sql                    # schema "replyrate"
--   psql -v ON_ERROR_STOP=1 -v schema=rr_test -f schema.sql  # another schema
--
-- Types:
-- - Ids and counts are unsigned 64-bit in replyrate. PostgreSQL has no unsigned 64-bit
--   integer and bigint stops at 2^63-1, so an id above that would not load; they are the
--   domain u64 below, numeric(20,0) limited to 0..2^64-1, which holds every value exactly.
--   If your ids are known to stay below 2^63 (and counts always do in practice), bigint is
--   smaller and faster: change the domain's base type to bigint before the first load
--   (CREATE DOMAIN u64 AS bigint CHECK (VALUE >= 0)); the loader does not care.
-- - day: date (the job's local day). round_start, reply_at: timestamptz (UTC instants).
-- - final: boolean; revision: integer, 0 on final records; version: the metric-set version.
-- Keys are the contract's: a row per key, the loader replaces a (shop_id, day) whole.

\if :{?schema}
\else
\set schema replyrate
\endif

CREATE SCHEMA IF NOT EXISTS :"schema";
SET search_path = :"schema";

-- No CREATE DOMAIN IF NOT EXISTS: created when the schema has no u64 yet.
SELECT format('CREATE DOMAIN %I.u64 AS numeric(20,0) CHECK (VALUE >= 0 AND VALUE <= 18446744073709551615)', :'schema')
WHERE to_regtype(format('%I.u64', :'schema')) IS NULL
\gexec

-- One row per shop_day record: its key columns. The file's wide metric columns
-- (NAME_num, NAME_den, ...) depend on the job's metric config and are not stored;
-- the same counts are in shop_day_metrics, and shop_day_wide pivots them back.
CREATE TABLE IF NOT EXISTS shop_day (
  shop_id  u64     NOT NULL,
  day      date    NOT NULL,
  final    boolean NOT NULL,
  revision integer NOT NULL,
  version  text    NOT NULL,
  PRIMARY KEY (shop_id, day)
);

-- One row per (shop_day record, metric shown). A metric not shown reads as zeros.
-- unanswered and b0..b7 are NULL except on response_time metrics (num: sum of waits, ms).
CREATE TABLE IF NOT EXISTS shop_day_metrics (
  shop_id    u64     NOT NULL,
  day        date    NOT NULL,
  metric     text    NOT NULL,
  num        u64     NOT NULL,
  den        u64     NOT NULL,
  unanswered u64,
  b0 u64, b1 u64, b2 u64, b3 u64, b4 u64, b5 u64, b6 u64, b7 u64,
  final      boolean NOT NULL,
  revision   integer NOT NULL,
  version    text    NOT NULL,
  PRIMARY KEY (shop_id, day, metric)
);

CREATE TABLE IF NOT EXISTS agent_day (
  shop_id  u64     NOT NULL,
  agent_id u64     NOT NULL,
  day      date    NOT NULL,
  final    boolean NOT NULL,
  revision integer NOT NULL,
  version  text    NOT NULL,
  PRIMARY KEY (shop_id, agent_id, day)
);
CREATE INDEX IF NOT EXISTS agent_day_shop_day ON agent_day (shop_id, day);

CREATE TABLE IF NOT EXISTS agent_day_metrics (
  shop_id    u64     NOT NULL,
  agent_id   u64     NOT NULL,
  day        date    NOT NULL,
  metric     text    NOT NULL,
  num        u64     NOT NULL,
  den        u64     NOT NULL,
  unanswered u64,
  b0 u64, b1 u64, b2 u64, b3 u64, b4 u64, b5 u64, b6 u64, b7 u64,
  final      boolean NOT NULL,
  revision   integer NOT NULL,
  version    text    NOT NULL,
  PRIMARY KEY (shop_id, agent_id, day, metric)
);
CREATE INDEX IF NOT EXISTS agent_day_metrics_shop_day ON agent_day_metrics (shop_id, day);

-- No unique key (a round can break several metrics, and a conversation several rounds);
-- the loader replaces a (shop_id, day)'s violations together.
CREATE TABLE IF NOT EXISTS violations (
  shop_id         u64         NOT NULL,
  day             date        NOT NULL,
  metric          text        NOT NULL,
  conversation_id u64         NOT NULL,
  buyer_id        u64         NOT NULL,
  agent_id        u64         NOT NULL,
  round_start     timestamptz NOT NULL,
  reply_at        timestamptz,          -- NULL: not answered within the horizon
  wait_ms         bigint,               -- NULL as reply_at
  messages        integer     NOT NULL,
  reason          text        NOT NULL, -- late, no_reply or unassigned
  final           boolean     NOT NULL,
  version         text        NOT NULL
);
CREATE INDEX IF NOT EXISTS violations_shop_day ON violations (shop_id, day);

CREATE TABLE IF NOT EXISTS alerts (
  shop_id u64              NOT NULL,
  day     date             NOT NULL,
  rule    text             NOT NULL,
  value   double precision NOT NULL, -- the ratio the rule tested
  final   boolean          NOT NULL,
  version text             NOT NULL,
  PRIMARY KEY (shop_id, day, rule)
);

-- Late and invalid events, keyed by where they were read: (file path or topic, partition,
-- byte offset or Kafka offset). The event columns are NULL when the bytes did not decode.
CREATE TABLE IF NOT EXISTS late_events (
  type            text    NOT NULL,
  reason          text    NOT NULL,
  source          text    NOT NULL,
  "partition"     integer NOT NULL,
  "offset"        bigint  NOT NULL,
  watermark_ms    bigint,
  event_id        u64,
  shop_id         u64,
  conversation_id u64,
  buyer_id        u64,
  agent_id        u64,
  ts_ms           bigint,
  event_type      text,   -- the type's name for 1..10, else its number
  content         bigint,
  rating          bigint,
  flags           bigint,
  raw_hex         text,   -- the bytes as read (decode(raw_hex, 'hex') gives bytea)
  PRIMARY KEY (source, "partition", "offset")
);
CREATE TABLE IF NOT EXISTS dead_letter (LIKE late_events INCLUDING ALL);

-- One row per load.sh run that committed: what it loaded and what it decided.
CREATE TABLE IF NOT EXISTS loads (
  load_id      bigserial   PRIMARY KEY,
  loaded_at    timestamptz NOT NULL DEFAULT now(),
  dir          text        NOT NULL, -- the --output-dir as load.sh was given it
  manifest     jsonb       NOT NULL, -- the run's manifest.json
  days         integer     NOT NULL, -- (shop_id, day) in the batch
  days_loaded  integer     NOT NULL, -- replaced or new
  days_kept    integer     NOT NULL, -- kept by the reload rule (stored final, or newer)
  late_events  integer     NOT NULL,
  dead_letter  integer     NOT NULL
);

-- The default metric set (deploy/replyrate.conf) side by side, one row per shop_day.
-- A metric not shown is 0/0; ratio = num / den (NULL when den is 0); for
-- tmall_response_time (response_time) the ratio is the mean wait in ms over the answered
-- rounds, and unanswered counts the rounds not answered within the horizon.
-- Meaningful for jobs with the default metric set: check version.
CREATE OR REPLACE VIEW shop_day_wide AS
SELECT w.*,
  douyin_msg_3min_num::float8 / nullif(douyin_msg_3min_den, 0) AS douyin_msg_3min_ratio,
  douyin_session_3min_num::float8 / nullif(douyin_session_3min_den, 0) AS douyin_session_3min_ratio,
  douyin_satisfaction_num::float8 / nullif(douyin_satisfaction_den, 0) AS douyin_satisfaction_ratio,
  douyin_unassigned_num::float8 / nullif(douyin_unassigned_den, 0) AS douyin_unassigned_ratio,
  pdd_buyer_3min_num::float8 / nullif(pdd_buyer_3min_den, 0) AS pdd_buyer_3min_ratio,
  pdd_effective_reply_num::float8 / nullif(pdd_effective_reply_den, 0) AS pdd_effective_reply_ratio,
  tmall_reply_rate_num::float8 / nullif(tmall_reply_rate_den, 0) AS tmall_reply_rate_ratio,
  tmall_response_time_num::float8 / nullif(tmall_response_time_den, 0) AS tmall_response_time_ratio
FROM (
  SELECT d.shop_id, d.day, d.final, d.revision, d.version,
    coalesce(max(m.num) FILTER (WHERE m.metric = 'douyin_msg_3min'), 0) AS douyin_msg_3min_num,
    coalesce(max(m.den) FILTER (WHERE m.metric = 'douyin_msg_3min'), 0) AS douyin_msg_3min_den,
    coalesce(max(m.num) FILTER (WHERE m.metric = 'douyin_session_3min'), 0) AS douyin_session_3min_num,
    coalesce(max(m.den) FILTER (WHERE m.metric = 'douyin_session_3min'), 0) AS douyin_session_3min_den,
    coalesce(max(m.num) FILTER (WHERE m.metric = 'douyin_satisfaction'), 0) AS douyin_satisfaction_num,
    coalesce(max(m.den) FILTER (WHERE m.metric = 'douyin_satisfaction'), 0) AS douyin_satisfaction_den,
    coalesce(max(m.num) FILTER (WHERE m.metric = 'douyin_unassigned'), 0) AS douyin_unassigned_num,
    coalesce(max(m.den) FILTER (WHERE m.metric = 'douyin_unassigned'), 0) AS douyin_unassigned_den,
    coalesce(max(m.num) FILTER (WHERE m.metric = 'pdd_buyer_3min'), 0) AS pdd_buyer_3min_num,
    coalesce(max(m.den) FILTER (WHERE m.metric = 'pdd_buyer_3min'), 0) AS pdd_buyer_3min_den,
    coalesce(max(m.num) FILTER (WHERE m.metric = 'pdd_effective_reply'), 0) AS pdd_effective_reply_num,
    coalesce(max(m.den) FILTER (WHERE m.metric = 'pdd_effective_reply'), 0) AS pdd_effective_reply_den,
    coalesce(max(m.num) FILTER (WHERE m.metric = 'tmall_reply_rate'), 0) AS tmall_reply_rate_num,
    coalesce(max(m.den) FILTER (WHERE m.metric = 'tmall_reply_rate'), 0) AS tmall_reply_rate_den,
    coalesce(max(m.num) FILTER (WHERE m.metric = 'tmall_response_time'), 0) AS tmall_response_time_num,
    coalesce(max(m.den) FILTER (WHERE m.metric = 'tmall_response_time'), 0) AS tmall_response_time_den,
    coalesce(max(m.unanswered) FILTER (WHERE m.metric = 'tmall_response_time'), 0) AS tmall_response_time_unanswered
  FROM shop_day d
  LEFT JOIN shop_day_metrics m ON m.shop_id = d.shop_id AND m.day = d.day
  GROUP BY d.shop_id, d.day
) w;
