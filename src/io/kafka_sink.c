#include "io/kafka_sink.h"

/* librdkafka's RD_KAFKA_V_* macros are GNU statement expressions: fine for
 * GCC in a system header, a -Wpedantic warning for clang where they expand. */
#if defined(__clang__)
#pragma clang diagnostic ignored "-Wgnu-statement-expression"
#endif

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/output.h"
#include "base/clock.h"
#include "replyrate/v1/results.pb-c.h"

#define TOPIC_PARTITIONS 6
#define TXN_TIMEOUT_MS 60000 /* for each transactional call */
#define RETRIES 5

const char *const rr_kafka_topic_suffix[RR_KT_COUNT] = {"shop_day", "agent_day", "violations",
                                                        "alerts", "late", "dead_letter"};
/* keyed results are replaced by later revisions: keep the latest per key */
static const int compacted[RR_KT_COUNT] = {1, 1, 0, 1, 0, 0};

struct rr_kafka_sink {
    rd_kafka_t *rk;
    rr_output_t *out; /* renders engine records as ResultRecords for us */
    char topic[RR_KT_COUNT][256];
    uint8_t *buf;
    size_t cap;
    int in_txn;
    long pending; /* rr_kafka_sink_put records not yet delivered */
    int forgot;   /* rr_kafka_sink_forget_puts: their offset slots may be gone */
    int failed; /* sticky: the first error; the transaction will not commit */
    char err[512];
};

static void fail(rr_kafka_sink_t *ks, const char *fmt, const char *what)
{
    if (ks->failed++)
        return;
    snprintf(ks->err, sizeof ks->err, fmt, what);
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    rr_kafka_sink_t *ks = opaque;
    if (m->err)
        fail(ks, "publishing a result failed: %s", rd_kafka_err2str(m->err));
    if (m->_private) { /* rr_kafka_sink_put: where it landed */
        if (!ks->forgot)
            *(int64_t *)m->_private = m->err ? -1 : m->offset;
        ks->pending--;
    }
}

static void hook_conf(rd_kafka_conf_t *conf, void *arg)
{
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, arg);
}

static int reserve(rr_kafka_sink_t *ks, size_t n)
{
    if (n <= ks->cap)
        return 0;
    size_t c = ks->cap ? ks->cap : 4096;
    while (c < n)
        c *= 2;
    uint8_t *b = realloc(ks->buf, c);
    if (!b) {
        fail(ks, "%s", "out of memory");
        return -1;
    }
    ks->buf = b;
    ks->cap = c;
    return 0;
}

static void produce(rr_kafka_sink_t *ks, int t, const char *key, size_t klen, size_t vlen)
{
    for (;;) {
        rd_kafka_resp_err_t e = rd_kafka_producev(
            ks->rk, RD_KAFKA_V_TOPIC(ks->topic[t]), RD_KAFKA_V_KEY(key, klen),
            RD_KAFKA_V_VALUE(ks->buf, vlen), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (!e)
            return;
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            fail(ks, "publishing a result failed: %s", rd_kafka_err2str(e));
            return;
        }
        rd_kafka_poll(ks->rk, 50);
    }
}

/* One ResultRecord from the renderer: its inner message is the value. */
static void on_record(void *arg, const void *result_record)
{
    rr_kafka_sink_t *ks = arg;
    const Replyrate__V1__ResultRecord *rec = result_record;
    if (ks->failed)
        return;
    const ProtobufCMessage *msg;
    char key[128];
    int klen = 0, t;
    switch (rec->record_case) {
    case REPLYRATE__V1__RESULT_RECORD__RECORD_SHOP_DAY:
        t = RR_KT_SHOP_DAY;
        msg = &rec->shop_day->base;
        klen = snprintf(key, sizeof key, "%" PRIu64 ":%" PRIu32, rec->shop_day->shop_id,
                        rec->shop_day->day);
        break;
    case REPLYRATE__V1__RESULT_RECORD__RECORD_AGENT_DAY:
        t = RR_KT_AGENT_DAY;
        msg = &rec->agent_day->base;
        klen = snprintf(key, sizeof key, "%" PRIu64 ":%" PRIu64 ":%" PRIu32, rec->agent_day->shop_id,
                        rec->agent_day->agent_id, rec->agent_day->day);
        break;
    case REPLYRATE__V1__RESULT_RECORD__RECORD_VIOLATION:
        t = RR_KT_VIOLATIONS;
        msg = &rec->violation->base;
        klen = snprintf(key, sizeof key, "%" PRIu64 ":%" PRIu32, rec->violation->shop_id,
                        rec->violation->day);
        break;
    case REPLYRATE__V1__RESULT_RECORD__RECORD_ALERT:
        t = RR_KT_ALERTS;
        msg = &rec->alert->base;
        klen = snprintf(key, sizeof key, "%" PRIu64 ":%" PRIu32 ":%.80s", rec->alert->shop_id,
                        rec->alert->day, rec->alert->rule ? rec->alert->rule : "");
        break;
    case REPLYRATE__V1__RESULT_RECORD__RECORD_REJECTED:
        t = rec->rejected->kind == REPLYRATE__V1__REJECTED_EVENT__KIND__LATE ? RR_KT_LATE
                                                                            : RR_KT_DEAD_LETTER;
        msg = &rec->rejected->base;
        if (rec->rejected->event)
            klen = snprintf(key, sizeof key, "%" PRIu64, rec->rejected->event->shop_id);
        break;
    default:
        return;
    }
    size_t n = protobuf_c_message_get_packed_size(msg);
    if (reserve(ks, n ? n : 1) < 0)
        return;
    protobuf_c_message_pack(msg, ks->buf);
    produce(ks, t, klen ? key : NULL, (size_t)klen, n);
}

/* librdkafka's transactional calls return an error object: its text, and
 * whether the transaction must be aborted. */
static int txn_error(rr_kafka_sink_t *ks, rd_kafka_error_t *e, const char *what, char *err, size_t n)
{
    if (!e)
        return 0;
    snprintf(err, n, "%s: %s", what, rd_kafka_error_string(e));
    int abortable = rd_kafka_error_txn_requires_abort(e);
    rd_kafka_error_destroy(e);
    if (abortable && ks->in_txn) {
        rd_kafka_error_t *a = rd_kafka_abort_transaction(ks->rk, TXN_TIMEOUT_MS);
        if (a)
            rd_kafka_error_destroy(a);
        ks->in_txn = 0;
    }
    return -1;
}

int rr_kafka_sink_open(const rr_kafka_opts_t *ko, const char *prefix, const char *transactional_id,
                       int txn_timeout_ms, rr_kafka_sink_t **out, char *err, size_t n)
{
    *out = NULL;
    rr_kafka_sink_t *ks = calloc(1, sizeof *ks);
    if (!ks || rr_output_open_hook(on_record, ks, &ks->out) < 0) {
        snprintf(err, n, "out of memory");
        free(ks);
        return -1;
    }
    for (int t = 0; t < RR_KT_COUNT; t++)
        snprintf(ks->topic[t], sizeof ks->topic[t], "%s.%s", prefix, rr_kafka_topic_suffix[t]);
    char timeout[32];
    snprintf(timeout, sizeof timeout, "%d", txn_timeout_ms);
    const char *defaults[] = {"transactional.id", transactional_id,
                              "enable.idempotence", "true",
                              "compression.type", "zstd",
                              "linger.ms", "20",
                              "batch.size", "1000000",
                              "queue.buffering.max.kbytes", "262144",
                              "transaction.timeout.ms", timeout,
                              "partitioner", "murmur2_random", /* as Java clients, for keyed joins */
                              NULL};
    ks->rk = rr_kafka_new(RD_KAFKA_PRODUCER, ko, defaults, hook_conf, ks, err, n);
    if (!ks->rk)
        goto fail;
    for (int t = 0; t < RR_KT_COUNT; t++) {
        int np = rr_kafka_partition_count(ks->rk, ks->topic[t], 10000, err, n);
        if (np < 0)
            goto fail;
        static const char *const compact[] = {"cleanup.policy", "compact", NULL};
        if (np == 0 && rr_kafka_create_topic(ks->rk, ks->topic[t], TOPIC_PARTITIONS,
                                             compacted[t] ? compact : NULL, 10000, err, n) < 0)
            goto fail;
    }
    if (txn_error(ks, rd_kafka_init_transactions(ks->rk, TXN_TIMEOUT_MS), "init transactions", err,
                  n) < 0 ||
        txn_error(ks, rd_kafka_begin_transaction(ks->rk), "begin transaction", err, n) < 0)
        goto fail;
    ks->in_txn = 1;
    *out = ks;
    return 0;
fail:
    rr_kafka_sink_close(ks);
    return -1;
}

void rr_kafka_sink_callbacks(rr_kafka_sink_t *ks, rr_sink_t *sink)
{
    rr_output_sink(ks->out, sink);
}


rd_kafka_t *rr_kafka_sink_handle(rr_kafka_sink_t *ks)
{
    return ks->rk;
}

int rr_kafka_sink_put(rr_kafka_sink_t *ks, const char *topic, int32_t partition, const void *key,
                      size_t klen, const void *val, size_t vlen, int64_t *offset)
{
    if (offset)
        *offset = -1;
    ks->forgot = 0;
    for (;;) {
        rd_kafka_resp_err_t e = rd_kafka_producev(
            ks->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
            RD_KAFKA_V_KEY(key, klen), RD_KAFKA_V_VALUE((void *)val, vlen),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(offset), RD_KAFKA_V_END);
        if (!e) {
            if (offset)
                ks->pending++;
            return 0;
        }
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            fail(ks, "writing to the changelog failed: %s", rd_kafka_err2str(e));
            return -1;
        }
        rd_kafka_poll(ks->rk, 50);
    }
}

int rr_kafka_sink_flush(rr_kafka_sink_t *ks, char *err, size_t n)
{
    double t0 = rr_mono_s();
    while (ks->pending > 0 && !ks->failed) {
        rd_kafka_poll(ks->rk, 100);
        if (rr_mono_s() - t0 > TXN_TIMEOUT_MS / 1000.0) {
            fail(ks, "%s", "writing to the changelog timed out");
            break;
        }
    }
    if (ks->failed)
        snprintf(err, n, "%s", ks->err);
    return ks->failed ? -1 : 0;
}

int rr_kafka_sink_fenced(rr_kafka_sink_t *ks)
{
    rd_kafka_resp_err_t e = ks ? rd_kafka_fatal_error(ks->rk, NULL, 0) : RD_KAFKA_RESP_ERR_NO_ERROR;
    return e == RD_KAFKA_RESP_ERR__FENCED || e == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
           e == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH;
}

void rr_kafka_sink_forget_puts(rr_kafka_sink_t *ks)
{
    if (!ks || ks->pending <= 0)
        return;
    ks->forgot = 1;
    rd_kafka_purge(ks->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    double t0 = rr_mono_s();
    while (ks->pending > 0 && rr_mono_s() - t0 < 10)
        rd_kafka_poll(ks->rk, 100);
}

int rr_kafka_sink_begin(rr_kafka_sink_t *ks, char *err, size_t n)
{
    if (ks->in_txn)
        return 0;
    if (txn_error(ks, rd_kafka_begin_transaction(ks->rk), "begin transaction", err, n) < 0)
        return -1;
    ks->in_txn = 1;
    return 0;
}

int rr_kafka_sink_commit(rr_kafka_sink_t *ks, rd_kafka_t *consumer,
                         const rd_kafka_topic_partition_list_t *offsets, char *err, size_t n)
{
    if (!ks->in_txn) {
        snprintf(err, n, "commit: no open transaction");
        return -1;
    }
    rd_kafka_poll(ks->rk, 0);
    if (ks->failed) { /* some record did not get out: publish none of them */
        snprintf(err, n, "%s", ks->err);
        rd_kafka_error_t *a = rd_kafka_abort_transaction(ks->rk, TXN_TIMEOUT_MS);
        if (a)
            rd_kafka_error_destroy(a);
        ks->in_txn = 0;
        return -1;
    }
    /* A retriable error (the coordinator moving, a broker restarting) is
     * retried for up to RETRIES x TXN_TIMEOUT_MS; anything else aborts. */
    rd_kafka_error_t *e = NULL;
    if (consumer && offsets && offsets->cnt) {
        rd_kafka_consumer_group_metadata_t *md = rd_kafka_consumer_group_metadata(consumer);
        for (int i = 0; i < RETRIES; i++) {
            e = rd_kafka_send_offsets_to_transaction(ks->rk, offsets, md, TXN_TIMEOUT_MS);
            if (!e || !rd_kafka_error_is_retriable(e) || i == RETRIES - 1)
                break;
            rd_kafka_error_destroy(e);
        }
        rd_kafka_consumer_group_metadata_destroy(md);
        if (txn_error(ks, e, "commit input offsets", err, n) < 0)
            return -1;
    }
    for (int i = 0; i < RETRIES; i++) {
        e = rd_kafka_commit_transaction(ks->rk, TXN_TIMEOUT_MS);
        if (!e || !rd_kafka_error_is_retriable(e) || i == RETRIES - 1)
            break;
        rd_kafka_error_destroy(e);
    }
    if (txn_error(ks, e, "commit transaction", err, n) < 0)
        return -1;
    ks->in_txn = 0;
    if (ks->failed) { /* a delivery failure reported during the commit's flush */
        snprintf(err, n, "%s", ks->err);
        return -1;
    }
    return 0;
}

void rr_kafka_sink_close(rr_kafka_sink_t *ks)
{
    if (!ks)
        return;
    if (ks->rk) {
        if (ks->in_txn) {
            rd_kafka_error_t *e = rd_kafka_abort_transaction(ks->rk, TXN_TIMEOUT_MS);
            if (e)
                rd_kafka_error_destroy(e);
        }
        rd_kafka_destroy(ks->rk);
    }
    char e[64];
    rr_output_close(ks->out, e, sizeof e);
    free(ks->buf);
    free(ks);
}
