#include "io/kafka_events.h"

/* librdkafka's RD_KAFKA_V_* macros are GNU statement expressions: fine for
 * GCC in a system header, a -Wpedantic warning for clang where they expand. */
#if defined(__clang__)
#pragma clang diagnostic ignored "-Wgnu-statement-expression"
#endif

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"

struct rr_event_producer {
    rd_kafka_t *rk;
    int64_t now_ms; /* at open */
    uint64_t puts;
    char *topic;
    int partitions;
    uint64_t failed;
    char first_error[256];
    /* An existing topic's retention (rr_event_producer_warning): -1 none */
    int64_t retention_ms, retention_bytes;
    uint64_t *bytes; /* written to each partition, against retention_bytes */
    /* each partition's clock: the greatest timestamp stamped (0: none yet),
     * and how many records in a row came far ahead of it */
    int64_t *clock;
    int *ahead;
    int warn;   /* 1: warning holds a message not yet taken */
    int warned; /* a warning was made: one is enough */
    char warning[768];
};

/* What load and gen create a topic with: replayed history keeps its event
 * times as record timestamps (a day range seeks by them: docs/kafka.md), so
 * a time limit would delete it as soon as it is written; and no size limit. */
static const char *const keep_forever[] = {"retention.ms", "-1", "retention.bytes", "-1", NULL};

/* An existing topic's retention, read once at open: the time limit applies
 * when records are deleted by age (cleanup.policy has delete) and their
 * timestamps are ours (CreateTime); the size limit with delete. A topic
 * whose configs cannot be read is not checked, and said so. */
static void read_retention(rr_event_producer_t *p)
{
    static const char *const names[] = {"cleanup.policy", "retention.ms", "retention.bytes",
                                        "message.timestamp.type"};
    char *v[4], err[512];
    p->retention_ms = p->retention_bytes = -1;
    if (rr_kafka_topic_configs(p->rk, p->topic, names, 4, v, 10000, err, sizeof err) < 0) {
        snprintf(p->warning, sizeof p->warning, "%s: its retention is not checked", err);
        p->warn = p->warned = 1;
        return;
    }
    if (v[0] && strstr(v[0], "delete")) {
        if (v[1] && (!v[3] || !strcmp(v[3], "CreateTime")))
            p->retention_ms = strtoll(v[1], NULL, 10);
        if (v[2]) p->retention_bytes = strtoll(v[2], NULL, 10);
    }
    for (int i = 0; i < 4; i++)
        free(v[i]);
}

/* A record stamped ts_ms of len bytes to partition: one the topic's
 * retention will delete is said once. */
static void check_retention(rr_event_producer_t *p, int32_t partition, int64_t ts_ms, size_t len)
{
    if (p->warned) return;
    char at[32], limit[32];
    if (p->retention_ms >= 0 && ts_ms > 0 && ts_ms < p->now_ms - p->retention_ms) {
        snprintf(p->warning, sizeof p->warning,
                 "topic '%s' has retention.ms=%lld: the broker deletes records stamped "
                 "before %s, and this writes one stamped %s (its event time): it will be deleted "
                 "within minutes. Keep them: set retention.ms=-1 on the topic (docs/kafka.md)",
                 p->topic, (long long)p->retention_ms,
                 rr_utc(p->now_ms - p->retention_ms, limit, sizeof limit),
                 rr_utc(ts_ms, at, sizeof at));
        p->warn = p->warned = 1;
    } else if (p->retention_bytes >= 0 && p->bytes &&
               (p->bytes[partition] += len) > (uint64_t)p->retention_bytes) {
        snprintf(p->warning, sizeof p->warning,
                 "topic '%s' has retention.bytes=%lld: this writes more than that to "
                 "partition %d, and the broker deletes a partition's oldest records beyond it. "
                 "Keep them: set retention.bytes=-1 on the topic (docs/kafka.md)",
                 p->topic, (long long)p->retention_bytes, (int)partition);
        p->warn = p->warned = 1;
    }
}

const char *rr_event_producer_warning(rr_event_producer_t *p)
{
    if (!p->warn) return NULL;
    p->warn = 0;
    return p->warning;
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    rr_event_producer_t *p = opaque;
    if (m->err && !p->failed++)
        snprintf(p->first_error, sizeof p->first_error, "%s", rd_kafka_err2str(m->err));
}

static void hook(rd_kafka_conf_t *conf, void *arg)
{
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, arg);
}

int rr_event_producer_open(const rr_kafka_opts_t *ko, const char *topic, int create_partitions,
                           int check_retention, rr_event_producer_t **out, char *errstr,
                           size_t errstr_size)
{
    static const char *const defaults[] = {
        "enable.idempotence", "true",    "compression.type",           "zstd",   "linger.ms", "20",
        "batch.size",         "1000000", "queue.buffering.max.kbytes", "262144", NULL};
    *out = NULL;
    rr_event_producer_t *p = calloc(1, sizeof *p);
    if (!p || !(p->topic = strdup(topic))) {
        snprintf(errstr, errstr_size, "out of memory");
        free(p);
        return -1;
    }
    p->rk = rr_kafka_new(RD_KAFKA_PRODUCER, ko, defaults, hook, p, errstr, errstr_size);
    int rc = -1;
    if (!p->rk) {
        rc = -2;
        goto fail;
    }
    int np = rr_kafka_partition_count(p->rk, topic, 10000, errstr, errstr_size);
    p->now_ms = rr_now_ms();
    p->retention_ms = p->retention_bytes = -1;
    if (np > 0 && check_retention) read_retention(p);
    if (np == 0) {
        if (rr_kafka_create_topic(p->rk, topic, create_partitions, keep_forever, 10000, errstr,
                                  errstr_size) < 0)
            goto fail;
        for (int i = 0; i < 100 && np == 0; i++) /* until the new topic's metadata is visible */
            if ((np = rr_kafka_partition_count(p->rk, topic, 10000, errstr, errstr_size)) == 0)
                rd_kafka_poll(p->rk, 100);
        if (np == 0)
            snprintf(errstr, errstr_size, "topic '%s': created, but no metadata after 10 s", topic);
    }
    if (np <= 0) goto fail;
    p->partitions = np;
    p->clock = calloc((size_t)np, sizeof *p->clock);
    p->ahead = calloc((size_t)np, sizeof *p->ahead);
    if (!p->clock || !p->ahead ||
        (p->retention_bytes >= 0 && !(p->bytes = calloc((size_t)np, sizeof *p->bytes)))) {
        snprintf(errstr, errstr_size, "out of memory");
        goto fail;
    }
    *out = p;
    return 0;
fail:
    if (p->rk) rd_kafka_destroy(p->rk);
    free(p->topic);
    free(p);
    return rc;
}

int rr_event_producer_partitions(const rr_event_producer_t *p)
{
    return p->partitions;
}

/* The Kafka timestamp of a record of the event time ts_ms. A day range seeks
 * by timestamp (offsets_for_times: the first record stamped at or after a
 * time), so one record stamped far ahead of its neighbours, an invalid
 * event's time or a wrong clock, would be where every seek before its time
 * lands, days early, and the engine would take it for the partition's time.
 * As the engine does with jumps (SPEC §7), a time more than RR_STAMP_AHEAD_MS
 * past the partition's clock gets the clock instead, unless RR_STAMP_CONFIRM
 * records in a row come that far ahead (the partition's time did jump). A
 * time outside 1..now (brokers refuse those far ahead) gets the clock too, or
 * before any, 0: librdkafka stamps the time of sending. */
#define RR_STAMP_AHEAD_MS INT64_C(86400000)
#define RR_STAMP_CONFIRM 3
static int64_t stamp(rr_event_producer_t *p, int32_t partition, int64_t ts_ms)
{
    int64_t *clock = &p->clock[partition];
    if (ts_ms < 1 || ts_ms > p->now_ms) return *clock;
    if (*clock && ts_ms - *clock > RR_STAMP_AHEAD_MS && ++p->ahead[partition] < RR_STAMP_CONFIRM)
        return *clock;
    p->ahead[partition] = 0;
    if (ts_ms > *clock) *clock = ts_ms;
    return ts_ms;
}

int rr_event_producer_put(rr_event_producer_t *p, int32_t partition, uint64_t shop, int64_t ts_ms,
                          const uint8_t *value, size_t len, char *errstr, size_t errstr_size)
{
    char key[24];
    size_t klen = shop ? (size_t)snprintf(key, sizeof key, "%" PRIu64, shop) : 0;
    ts_ms = stamp(p, partition, ts_ms);
    check_retention(p, partition, ts_ms, len + klen);
    for (;;) {
        rd_kafka_resp_err_t e =
            rd_kafka_producev(p->rk, RD_KAFKA_V_TOPIC(p->topic), RD_KAFKA_V_PARTITION(partition),
                              RD_KAFKA_V_TIMESTAMP(ts_ms), RD_KAFKA_V_KEY(klen ? key : NULL, klen),
                              RD_KAFKA_V_VALUE((void *)value, len),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (!e) {
            if (!(++p->puts & 1023)) /* serve delivery reports now and then, not per record */
                rd_kafka_poll(p->rk, 0);
            return 0;
        }
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            snprintf(errstr, errstr_size, "produce to %s[%d]: %s", p->topic, partition,
                     rd_kafka_err2str(e));
            return -1;
        }
        rd_kafka_poll(p->rk, 50);
    }
}

int rr_event_producer_close(rr_event_producer_t *p, uint64_t *failed, char *errstr,
                            size_t errstr_size)
{
    while (rd_kafka_outq_len(p->rk) > 0)
        rd_kafka_flush(p->rk, 1000);
    int rc = 0;
    if (p->failed) {
        snprintf(errstr, errstr_size, "%llu records were not acknowledged: %s",
                 (unsigned long long)p->failed, p->first_error);
        rc = -1;
    }
    if (failed) *failed = p->failed;
    rd_kafka_destroy(p->rk);
    free(p->bytes);
    free(p->clock);
    free(p->ahead);
    free(p->topic);
    free(p);
    return rc;
}
