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

#include "io/clock.h"

struct rr_event_producer {
    rd_kafka_t *rk;
    int64_t now_ms; /* at open */
    uint64_t puts;
    char *topic;
    int partitions;
    uint64_t failed;
    char first_error[256];
};

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
                           rr_event_producer_t **out, char *err, size_t n)
{
    static const char *const defaults[] = {"enable.idempotence", "true", "compression.type", "zstd",
                                           "linger.ms", "20", "batch.size", "1000000",
                                           "queue.buffering.max.kbytes", "262144", NULL};
    *out = NULL;
    rr_event_producer_t *p = calloc(1, sizeof *p);
    if (!p || !(p->topic = strdup(topic))) {
        snprintf(err, n, "out of memory");
        free(p);
        return -1;
    }
    p->rk = rr_kafka_new(RD_KAFKA_PRODUCER, ko, defaults, hook, p, err, n);
    int rc = -1;
    if (!p->rk) {
        rc = -2;
        goto fail;
    }
    int np = rr_kafka_partition_count(p->rk, topic, 10000, err, n);
    if (np == 0) {
        if (rr_kafka_create_topic(p->rk, topic, create_partitions, NULL, 10000, err, n) < 0)
            goto fail;
        for (int i = 0; i < 100 && np == 0; i++) /* until the new topic's metadata is visible */
            if ((np = rr_kafka_partition_count(p->rk, topic, 10000, err, n)) == 0)
                rd_kafka_poll(p->rk, 100);
        if (np == 0)
            snprintf(err, n, "topic '%s': created, but no metadata after 10 s", topic);
    }
    if (np <= 0)
        goto fail;
    p->partitions = np;
    p->now_ms = rr_now_ms();
    *out = p;
    return 0;
fail:
    if (p->rk)
        rd_kafka_destroy(p->rk);
    free(p->topic);
    free(p);
    return rc;
}

int rr_event_producer_partitions(const rr_event_producer_t *p)
{
    return p->partitions;
}

int rr_event_producer_put(rr_event_producer_t *p, int32_t partition, uint64_t shop, int64_t ts_ms,
                          const uint8_t *value, size_t len, char *err, size_t n)
{
    char key[24];
    size_t klen = shop ? (size_t)snprintf(key, sizeof key, "%" PRIu64, shop) : 0;
    if (ts_ms < 1 || ts_ms > p->now_ms) /* brokers refuse timestamps far ahead (Kafka 4: 1 h) */
        ts_ms = 0;                      /* 0: librdkafka stamps the time of sending */
    for (;;) {
        rd_kafka_resp_err_t e = rd_kafka_producev(
            p->rk, RD_KAFKA_V_TOPIC(p->topic), RD_KAFKA_V_PARTITION(partition),
            RD_KAFKA_V_TIMESTAMP(ts_ms),
            RD_KAFKA_V_KEY(klen ? key : NULL, klen), RD_KAFKA_V_VALUE((void *)value, len),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (!e) {
            if (!(++p->puts & 1023)) /* serve delivery reports now and then, not per record */
                rd_kafka_poll(p->rk, 0);
            return 0;
        }
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            snprintf(err, n, "produce to %s[%d]: %s", p->topic, partition, rd_kafka_err2str(e));
            return -1;
        }
        rd_kafka_poll(p->rk, 50);
    }
}

int rr_event_producer_close(rr_event_producer_t *p, uint64_t *failed, char *err, size_t n)
{
    while (rd_kafka_outq_len(p->rk) > 0)
        rd_kafka_flush(p->rk, 1000);
    int rc = 0;
    if (p->failed) {
        snprintf(err, n, "%llu records were not acknowledged: %s", (unsigned long long)p->failed,
                 p->first_error);
        rc = -1;
    }
    if (failed)
        *failed = p->failed;
    rd_kafka_destroy(p->rk);
    free(p->topic);
    free(p);
    return rc;
}
