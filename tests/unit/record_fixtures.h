/* Records for the result-record tests (test_record_*.c, test_kafka_sink.c,
 * test_output.c): the examples of docs/output.md. Header-only, static:
 * include it from one file per test binary. */
#ifndef RR_TEST_RECORD_FIXTURES_H
#define RR_TEST_RECORD_FIXTURES_H

#include <stdlib.h>
#include <string.h>

#include "replyrate/engine.h"

/* douyin_msg_3min (shown), tmall_response_time (shown, with buckets),
 * douyin_satisfaction (den 0: not shown). */
static rr_config_t fx_cfg;
static rr_value_t fx_values[3];

static inline rr_day_record_t fx_shop_day(void)
{
    memset(&fx_cfg, 0, sizeof fx_cfg);
    strcpy(fx_cfg.metrics[0].name, "douyin_msg_3min");
    fx_cfg.metrics[0].kind = RR_KIND_MESSAGE_WITHIN;
    strcpy(fx_cfg.metrics[1].name, "tmall_response_time");
    fx_cfg.metrics[1].kind = RR_KIND_RESPONSE_TIME;
    strcpy(fx_cfg.metrics[2].name, "douyin_satisfaction");
    fx_cfg.metrics[2].kind = RR_KIND_SATISFACTION;
    fx_cfg.n_metrics = 3;
    fx_values[0] = (rr_value_t){.num = 3, .den = 4};
    fx_values[1] =
        (rr_value_t){.num = 123000, .den = 4, .unanswered = 1, .buckets = {1, 2, 0, 1, 0, 0, 0, 0}};
    fx_values[2] = (rr_value_t){.num = 9, .den = 0};
    return (rr_day_record_t){.shop_id = 7,
                             .day = 20261122,
                             .final = 1,
                             .version = "v1",
                             .cfg = &fx_cfg,
                             .values = fx_values};
}

static inline rr_violation_record_t fx_violation(void)
{
    return (rr_violation_record_t){.shop_id = 7,
                                   .day = 20261122,
                                   .metric = "douyin_msg_3min",
                                   .conversation_id = 9,
                                   .buyer_id = 5,
                                   .agent_id = 3,
                                   .round_start_ms = 1763776800000,
                                   .answered = 0,
                                   .reply_ms = 42,
                                   .wait_ms = 42,
                                   .messages = 2,
                                   .reason = RR_REASON_NO_REPLY,
                                   .final = 1,
                                   .version = "v1"};
}

static inline rr_alert_record_t fx_alert(void)
{
    return (rr_alert_record_t){.shop_id = 1,
                               .day = 20261122,
                               .rule = "pdd_warning",
                               .value = 0.41,
                               .final = 1,
                               .version = "v1"};
}

static const uint8_t FX_RAW[] = {0x08, 0x01, 0x10, 0xff};

static inline rr_rejected_record_t fx_late(void)
{
    return (rr_rejected_record_t){.verdict = RR_LATE,
                                  .reason = "late",
                                  .source = "in.pb",
                                  .partition = 0,
                                  .offset = 1234,
                                  .raw = FX_RAW,
                                  .raw_len = sizeof FX_RAW,
                                  .decoded = 1,
                                  .event = {.event_id = 1116,
                                            .shop_id = 1,
                                            .conversation_id = 1,
                                            .buyer_id = 1,
                                            .agent_id = 0,
                                            .ts_ms = 1795312810000,
                                            .type = RR_EVENT_BUYER_MESSAGE,
                                            .content = 0,
                                            .rating = 0,
                                            .flags = 0},
                                  .watermark_ms = 1795312815000};
}

static inline rr_rejected_record_t fx_invalid(void)
{
    return (rr_rejected_record_t){.verdict = RR_INVALID,
                                  .reason = "truncated",
                                  .source = "in.pb",
                                  .partition = 0,
                                  .offset = 77,
                                  .raw = FX_RAW,
                                  .raw_len = 3,
                                  .decoded = 0,
                                  .watermark_ms = INT64_MIN};
}

/* Encode with a function of the codec's contract into a fresh string:
 * first with no room (it must say the length and write nothing), then with
 * exactly that much. */
#define FX_ENCODE(fn, rec, out)                                                                    \
    do {                                                                                           \
        char guard_[8] = "#######";                                                                \
        size_t n_ = fn(guard_, 0, (rec));                                                          \
        cr_assert_str_eq(guard_, "#######", #fn ": wrote into no room");                           \
        (out) = malloc(n_ + 2);                                                                    \
        memset((out), '#', n_ + 2);                                                                \
        cr_assert_eq(fn((out), n_, (rec)), n_, #fn ": the length depends on the room");            \
        cr_assert_eq((out)[n_], '#', #fn ": wrote past the room");                                 \
        (out)[n_] = '\0';                                                                          \
    } while (0)

#endif
