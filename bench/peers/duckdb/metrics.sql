-- The four peer-benchmark metrics of replyrate's default set (docs/metrics.md),
-- per (shop, local day), over the view `raw` (export.py's columns: one row per
-- delivered record, `seq` = arrival position in the one partition).
-- Result: one row per (shop_id, day, metric) with num, den and, for
-- tmall_response_time, unanswered and the 8 wait buckets. What this does not
-- model is listed in README.md beside this file.

-- Settings of the default metric set: T = 180 s, H = 1 h, lateness 5 s,
-- conversation_ttl 6 h, Asia/Shanghai as the fixed UTC+8 it has been since
-- 1991 (no DST).
CREATE OR REPLACE MACRO t_ms() AS 180000;
CREATE OR REPLACE MACRO h_ms() AS 3600000;
CREATE OR REPLACE MACRO ttl_ms() AS 6 * 3600000;
CREATE OR REPLACE MACRO local_ms(ts) AS ts + 8 * 3600000;
-- the first instant of the next local day
CREATE OR REPLACE MACRO day_end_ms(ts) AS (local_ms(ts) // 86400000 + 1) * 86400000 - 8 * 3600000;

CREATE OR REPLACE TEMP TABLE result AS
WITH
-- Invalid by the field rules (docs/metrics.md, "Invalid events"): never applied,
-- and they never move the watermark. The wall-clock rule and jumps are not
-- modelled (README.md).
valid AS (
    SELECT *
    FROM raw
    WHERE decodes = 1
      AND type BETWEEN 1 AND 10
      AND event_id <> 0 AND shop_id <> 0 AND conversation_id <> 0
      AND ts_ms BETWEEN 1 AND 253402300799999
      AND (type <> 4 OR buyer_id <> 0)
      AND (type <> 3 OR agent_id <> 0)
      AND (type <> 10 OR rating BETWEEN 1 AND 5)
),
-- Late: below the partition's watermark (greatest ts applied so far - 5 s) on
-- arrival. Late and duplicate events carry no ts above what was applied before
-- them, so the running max over every earlier record is that watermark.
watermarked AS (
    SELECT *,
           coalesce(max(ts_ms) OVER (ORDER BY seq ROWS BETWEEN UNBOUNDED PRECEDING
                                                  AND 1 PRECEDING), 0) - 5000 AS wm
    FROM valid
),
-- A conversation's life: a record arriving once the watermark has passed both
-- the greatest ts before it under its conversation_id + conversation_ttl (6 h)
-- and the end of that ts's local day + H starts a new conversation under the
-- same id. `conv`, the position of a life's first record, names the life.
-- (Records on time carry ts >= wm, above everything of the life before, so the
-- running max of the id is the greatest ts of its current life; the contract
-- takes the greatest *applied* ts, and this max also sees the records dropped
-- below as mismatched or duplicate: README.md.)
aged AS (
    SELECT *,
           max(ts_ms) OVER (PARTITION BY conversation_id ORDER BY seq
                            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_ts
    FROM watermarked
    WHERE ts_ms >= wm
),
lives AS (
    SELECT *,
           max(CASE WHEN prev_ts IS NULL
                      OR wm > greatest(prev_ts + ttl_ms(),
                                       day_end_ms(prev_ts) + h_ms()) THEN seq END)
               OVER (PARTITION BY conversation_id ORDER BY seq ROWS UNBOUNDED PRECEDING) AS conv
    FROM aged
),
-- Invalid by the conversation rules: a conversation's shop is the shop of its
-- first record, its buyer the buyer of its first BUYER_MESSAGE (arrival order);
-- a record naming another shop, or a buyer message naming another buyer, is
-- invalid (shop_mismatch, buyer_mismatch).
consistent AS (
    SELECT *
    FROM lives
    WINDOW c AS (PARTITION BY conv ORDER BY seq ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
    QUALIFY shop_id = first_value(shop_id) OVER c
        AND (type <> 4 OR buyer_id = first_value(CASE WHEN type = 4 THEN buyer_id END IGNORE NULLS) OVER c)
),
-- Duplicates: a conversation applies each event_id once, the first delivered.
applied AS (
    SELECT *
    FROM consistent
    QUALIFY row_number() OVER (PARTITION BY conv, event_id ORDER BY seq) = 1
),
-- Each conversation replayed in (ts_ms, event_id) order. g_man / g_eff: how many
-- replies of that kind or SESSION_ENDs come strictly before the row, so a buyer
-- message's next "stop" (reply or end) is the stop with the same g; manual: the
-- conversation has entered the manual phase at or before the row.
replayed AS (
    SELECT shop_id, conv, event_id, buyer_id, ts_ms, type, flags,
           count(*) FILTER (WHERE type IN (5, 8)) OVER w - (type IN (5, 8))::INT AS g_man,
           count(*) FILTER (WHERE type IN (5, 6, 8)) OVER w - (type IN (5, 6, 8))::INT AS g_eff,
           bool_or(type IN (2, 3, 5)) OVER w AS manual,
           row_number() OVER w AS rn
    FROM applied
    WINDOW w AS (PARTITION BY conv ORDER BY ts_ms, event_id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
),
stops_man AS (
    SELECT conv, g_man, ts_ms AS stop_ts, type = 5 AS is_reply
    FROM replayed WHERE type IN (5, 8)
),
stops_eff AS (
    SELECT conv, g_eff, ts_ms AS stop_ts, type IN (5, 6) AS is_reply
    FROM replayed WHERE type IN (5, 6, 8)
),
buyer_msgs AS (
    SELECT shop_id, conv, buyer_id, ts_ms, flags, manual, rn, g_man, g_eff,
           local_ms(ts_ms) // 86400000 AS day_n,
           local_ms(ts_ms) % 86400000 AS tod_ms
    FROM replayed WHERE type = 4
),
-- Manual reply kind, 08:00-23:00, no exclusions: the three 3-minute metrics.
-- wait: the message's reply (the next stop, if a reply within H), else NULL.
manual_msgs AS (
    SELECT m.shop_id, m.conv, m.buyer_id, m.day_n, m.g_man, m.rn,
           CASE WHEN s.is_reply AND s.stop_ts - m.ts_ms <= h_ms() THEN s.stop_ts - m.ts_ms END AS wait
    FROM buyer_msgs m
    LEFT JOIN stops_man s USING (conv, g_man)
    WHERE m.manual AND m.tod_ms >= 8 * 3600000 AND m.tod_ms < 23 * 3600000
),
-- A round: the in-scope messages of one conversation and day between two stops;
-- its wait is its first message's.
manual_rounds AS (
    SELECT shop_id, conv, day_n, arg_min_null(wait, rn) AS wait
    FROM manual_msgs
    GROUP BY shop_id, conv, day_n, g_man
),
-- Effective reply kind, 00:00-24:00, internal and spam excluded.
effective_rounds AS (
    SELECT m.shop_id, m.day_n,
           arg_min_null(CASE WHEN s.is_reply AND s.stop_ts - m.ts_ms <= h_ms()
                             THEN s.stop_ts - m.ts_ms END, m.rn) AS wait
    FROM buyer_msgs m
    LEFT JOIN stops_eff s USING (conv, g_eff)
    WHERE m.flags & 3 = 0
    GROUP BY m.shop_id, m.conv, m.day_n, m.g_eff
),
douyin_msg AS (
    SELECT shop_id, day_n, 'douyin_msg_3min' AS metric,
           count(*) FILTER (WHERE wait <= t_ms()) AS num, count(*) AS den
    FROM manual_msgs GROUP BY ALL
),
douyin_session AS (
    SELECT shop_id, day_n, 'douyin_session_3min' AS metric,
           count(*) FILTER (WHERE all_in_time) AS num, count(*) AS den
    FROM (SELECT shop_id, day_n, bool_and(coalesce(wait <= t_ms(), false)) AS all_in_time
          FROM manual_rounds GROUP BY shop_id, conv, day_n)
    GROUP BY ALL
),
pdd_buyer AS (
    SELECT shop_id, day_n, 'pdd_buyer_3min' AS metric,
           count(*) FILTER (WHERE all_in_time) AS num, count(*) AS den
    FROM (SELECT shop_id, day_n, bool_and(coalesce(wait <= t_ms(), false)) AS all_in_time
          FROM manual_msgs GROUP BY shop_id, day_n, buyer_id)
    GROUP BY ALL
),
tmall_rt AS (
    SELECT shop_id, day_n, 'tmall_response_time' AS metric,
           coalesce(sum(wait), 0)::BIGINT AS num, count(wait) AS den,
           count(*) - count(wait) AS unanswered,
           [count(*) FILTER (WHERE wait <= 15000),
            count(*) FILTER (WHERE wait > 15000 AND wait <= 30000),
            count(*) FILTER (WHERE wait > 30000 AND wait <= 60000),
            count(*) FILTER (WHERE wait > 60000 AND wait <= 120000),
            count(*) FILTER (WHERE wait > 120000 AND wait <= 180000),
            count(*) FILTER (WHERE wait > 180000 AND wait <= 300000),
            count(*) FILTER (WHERE wait > 300000 AND wait <= 600000),
            count(*) FILTER (WHERE wait > 600000)] AS buckets
    FROM effective_rounds GROUP BY ALL
)
SELECT shop_id, day_n, metric, num, den, NULL::BIGINT AS unanswered, NULL::BIGINT[] AS buckets
FROM douyin_msg
UNION ALL BY NAME SELECT * FROM douyin_session
UNION ALL BY NAME SELECT * FROM pdd_buyer
UNION ALL BY NAME SELECT * FROM tmall_rt;
