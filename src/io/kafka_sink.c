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

#include "base/clock.h"
#include "codec/record_json.h"
#include "codec/record_pb.h"
#include "ops/telemetry.h"

#define TOPIC_PARTITIONS 6
#define TXN_TIMEOUT_MS 60000 /* for each transactional call */
#define RETRIES 5

const char *const rr_kafka_topic_suffix[RR_KT_COUNT] = {"shop_day", "agent_day", "violations",
                                                        "alerts",   "late",      "dead_letter"};
/* keyed results are replaced by later revisions: keep the latest per key */
static const int compacted[RR_KT_COUNT] = {1, 1, 0, 1, 0, 0};

struct rr_kafka_sink {
    rd_kafka_t *rk;
    rr_kafka_sink_format_t format;
    char topic[RR_KT_COUNT][256];
    uint8_t *buf;
    size_t cap;
    int in_txn;
    uint64_t txn_records[RR_KT_COUNT]; /* produced in the open transaction, by topic */
    int txn_puts;                      /* rr_kafka_sink_put records in it */
    long pending;                      /* rr_kafka_sink_put records not yet delivered */
    int forgot; /* rr_kafka_sink_forget_puts: their offset slots may be gone */
    int failed; /* sticky: the first error; the transaction will not commit */
    char err[512];
    rd_kafka_resp_err_t last_code; /* of the last transactional call that failed */
};

static void fail(rr_kafka_sink_t *ks, const char *fmt, const char *what)
{
    if (ks->failed++) return;
    snprintf(ks->err, sizeof ks->err, fmt, what);
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    rr_kafka_sink_t *ks = opaque;
    if (m->err) fail(ks, "publishing a result failed: %s", rd_kafka_err2str(m->err));
    if (m->_private) { /* rr_kafka_sink_put: where it landed */
        if (!ks->forgot) *(int64_t *)m->_private = m->err ? -1 : m->offset;
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
    if (n <= ks->cap) return 0;
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
        rd_kafka_resp_err_t e =
            rd_kafka_producev(ks->rk, RD_KAFKA_V_TOPIC(ks->topic[t]), RD_KAFKA_V_KEY(key, klen),
                              RD_KAFKA_V_VALUE(ks->buf, vlen),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (!e) {
            ks->txn_records[t]++;
            return;
        }
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            fail(ks, "publishing a result failed: %s", rd_kafka_err2str(e));
            return;
        }
        rd_kafka_poll(ks->rk, 50);
    }
}

/* The open transaction ended: its records published, or nothing of it
 * (counted as aborted when anything went into it). */
static void txn_ended(rr_kafka_sink_t *ks, int committed, double seconds)
{
    int any = ks->txn_puts > 0;
    for (int t = 0; t < RR_KT_COUNT; t++) {
        any |= ks->txn_records[t] > 0;
        if (committed && ks->txn_records[t]) rr_tm_records(ks->topic[t], ks->txn_records[t]);
        ks->txn_records[t] = 0;
    }
    ks->txn_puts = 0;
    if (committed)
        rr_tm_txn_committed(seconds);
    else if (any)
        rr_tm_txn_aborted();
}

size_t rr_kafka_sink_key_day(const rr_day_record_t *r, char key[RR_KAFKA_SINK_KEY_MAX], int *topic)
{
    int n;
    if (r->is_agent) {
        *topic = RR_KT_AGENT_DAY;
        n = snprintf(key, RR_KAFKA_SINK_KEY_MAX, "%" PRIu64 ":%" PRIu64 ":%" PRIu32, r->shop_id,
                     r->agent_id, (uint32_t)r->day);
    } else {
        *topic = RR_KT_SHOP_DAY;
        n = snprintf(key, RR_KAFKA_SINK_KEY_MAX, "%" PRIu64 ":%" PRIu32, r->shop_id,
                     (uint32_t)r->day);
    }
    return n > 0 ? (size_t)n : 0;
}

size_t rr_kafka_sink_key_violation(const rr_violation_record_t *r, char key[RR_KAFKA_SINK_KEY_MAX],
                                   int *topic)
{
    *topic = RR_KT_VIOLATIONS;
    int n =
        snprintf(key, RR_KAFKA_SINK_KEY_MAX, "%" PRIu64 ":%" PRIu32, r->shop_id, (uint32_t)r->day);
    return n > 0 ? (size_t)n : 0;
}

size_t rr_kafka_sink_key_alert(const rr_alert_record_t *r, char key[RR_KAFKA_SINK_KEY_MAX],
                               int *topic)
{
    *topic = RR_KT_ALERTS;
    int n = snprintf(key, RR_KAFKA_SINK_KEY_MAX, "%" PRIu64 ":%" PRIu32 ":%.80s", r->shop_id,
                     (uint32_t)r->day, r->rule ? r->rule : "");
    return n > 0 ? (size_t)n : 0;
}

size_t rr_kafka_sink_key_rejected(const rr_rejected_record_t *r, char key[RR_KAFKA_SINK_KEY_MAX],
                                  int *topic)
{
    *topic = r->verdict == RR_LATE ? RR_KT_LATE : RR_KT_DEAD_LETTER;
    if (!r->decoded) return 0;
    int n = snprintf(key, RR_KAFKA_SINK_KEY_MAX, "%" PRIu64, r->event.shop_id);
    return n > 0 ? (size_t)n : 0;
}

/* The engine's four callbacks, each a kind of record to publish. */
enum rec { REC_DAY, REC_VIOLATION, REC_ALERT, REC_REJECTED };

/* Record r's topic and key (rr_kafka_sink_key_*). */
static size_t route(enum rec k, const void *r, char key[RR_KAFKA_SINK_KEY_MAX], int *topic)
{
    switch (k) {
    case REC_DAY:
        return rr_kafka_sink_key_day(r, key, topic);
    case REC_VIOLATION:
        return rr_kafka_sink_key_violation(r, key, topic);
    case REC_ALERT:
        return rr_kafka_sink_key_alert(r, key, topic);
    case REC_REJECTED:
        return rr_kafka_sink_key_rejected(r, key, topic);
    }
    return 0;
}

/* Record r's JSON object, with the '\n' that ends its line (left out of the
 * value), into ks->buf. */
static size_t encode_json(rr_kafka_sink_t *ks, enum rec k, const void *r)
{
    char *b = (char *)ks->buf;
    switch (k) {
    case REC_DAY:
        return rr_record_json_day(b, ks->cap, r);
    case REC_VIOLATION:
        return rr_record_json_violation(b, ks->cap, r);
    case REC_ALERT:
        return rr_record_json_alert(b, ks->cap, r);
    case REC_REJECTED:
        return rr_record_json_rejected(b, ks->cap, r);
    }
    return 0;
}

/* Record r's Kafka value into ks->buf, in the sink's format: its length
 * (a JSON value's '\n' included), which may exceed ks->cap (codec/records.h). */
static size_t encode(rr_kafka_sink_t *ks, enum rec k, const void *r)
{
    if (ks->format == RR_KAFKA_SINK_JSON) return encode_json(ks, k, r);
    switch (k) {
    case REC_DAY:
        return rr_record_pb_day(ks->buf, ks->cap, r, RR_RECORD_PB_VALUE);
    case REC_VIOLATION:
        return rr_record_pb_violation(ks->buf, ks->cap, r, RR_RECORD_PB_VALUE);
    case REC_ALERT:
        return rr_record_pb_alert(ks->buf, ks->cap, r, RR_RECORD_PB_VALUE);
    case REC_REJECTED:
        return rr_record_pb_rejected(ks->buf, ks->cap, r, RR_RECORD_PB_VALUE);
    }
    return 0;
}

static void publish(rr_kafka_sink_t *ks, enum rec k, const void *r)
{
    if (ks->failed) return;
    char key[RR_KAFKA_SINK_KEY_MAX];
    int topic = 0;
    size_t klen = route(k, r, key, &topic);
    size_t n = encode(ks, k, r);
    if (n > ks->cap) { /* did not fit: once more, with room for it */
        if (n == SIZE_MAX) {
            fail(ks, "%s", "a result record too large to publish");
            return;
        }
        if (reserve(ks, n) < 0) return;
        n = encode(ks, k, r);
    }
    if (ks->format == RR_KAFKA_SINK_JSON && n > 0) n--; /* a value, not a line */
    produce(ks, topic, klen ? key : NULL, klen, n);
}

static void ks_day(void *opaque, const rr_day_record_t *r)
{
    publish(opaque, REC_DAY, r);
}

static void ks_violation(void *opaque, const rr_violation_record_t *r)
{
    publish(opaque, REC_VIOLATION, r);
}

static void ks_alert(void *opaque, const rr_alert_record_t *r)
{
    publish(opaque, REC_ALERT, r);
}

static void ks_rejected(void *opaque, const rr_rejected_record_t *r)
{
    publish(opaque, REC_REJECTED, r);
}

/* librdkafka's transactional calls return an error object: its text, and
 * whether the transaction must be aborted. */
static int txn_error(rr_kafka_sink_t *ks, rd_kafka_error_t *e, const char *what, char *errstr,
                     size_t errstr_size)
{
    if (!e) return 0;
    ks->last_code = rd_kafka_error_code(e);
    snprintf(errstr, errstr_size, "%s: %s", what, rd_kafka_error_string(e));
    int abortable = rd_kafka_error_txn_requires_abort(e);
    rd_kafka_error_destroy(e);
    if (abortable && ks->in_txn) {
        rd_kafka_error_t *a = rd_kafka_abort_transaction(ks->rk, TXN_TIMEOUT_MS);
        if (a) rd_kafka_error_destroy(a);
        ks->in_txn = 0;
        txn_ended(ks, 0, 0);
    }
    return -1;
}

int rr_kafka_sink_open(const rr_kafka_opts_t *ko, const char *prefix, const char *transactional_id,
                       int txn_timeout_ms, rr_kafka_sink_format_t format, rr_kafka_sink_t **out,
                       char *errstr, size_t errstr_size)
{
    *out = NULL;
    rr_kafka_sink_t *ks = calloc(1, sizeof *ks);
    if (ks) {
        ks->format = format;
        ks->cap = 4096; /* grown to the largest record published */
        ks->buf = malloc(ks->cap);
    }
    if (!ks || !ks->buf) {
        snprintf(errstr, errstr_size, "out of memory");
        free(ks);
        return -1;
    }
    for (int t = 0; t < RR_KT_COUNT; t++)
        snprintf(ks->topic[t], sizeof ks->topic[t], "%s.%s", prefix, rr_kafka_topic_suffix[t]);
    char timeout[32];
    snprintf(timeout, sizeof timeout, "%d", txn_timeout_ms);
    const char *defaults[] = {"transactional.id",
                              transactional_id,
                              "enable.idempotence",
                              "true",
                              "compression.type",
                              "zstd",
                              "linger.ms",
                              "20",
                              "batch.size",
                              "1000000",
                              "queue.buffering.max.kbytes",
                              "262144",
                              "transaction.timeout.ms",
                              timeout,
                              "partitioner",
                              "murmur2_random", /* as Java clients, for keyed joins */
                              NULL};
    ks->rk = rr_kafka_new(RD_KAFKA_PRODUCER, ko, defaults, hook_conf, ks, errstr, errstr_size);
    if (!ks->rk) goto fail;
    for (int t = 0; t < RR_KT_COUNT; t++) {
        int np = rr_kafka_partition_count(ks->rk, ks->topic[t], 10000, errstr, errstr_size);
        if (np < 0) goto fail;
        static const char *const compact[] = {"cleanup.policy", "compact", NULL};
        if (np == 0 &&
            rr_kafka_create_topic(ks->rk, ks->topic[t], TOPIC_PARTITIONS,
                                  compacted[t] ? compact : NULL, 10000, errstr, errstr_size) < 0)
            goto fail;
    }
    if (txn_error(ks, rd_kafka_init_transactions(ks->rk, TXN_TIMEOUT_MS), "init transactions",
                  errstr, errstr_size) < 0 ||
        txn_error(ks, rd_kafka_begin_transaction(ks->rk), "begin transaction", errstr,
                  errstr_size) < 0)
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
    *sink = (rr_sink_t){.opaque = ks,
                        .day = ks_day,
                        .violation = ks_violation,
                        .alert = ks_alert,
                        .rejected = ks_rejected};
}

rd_kafka_t *rr_kafka_sink_handle(rr_kafka_sink_t *ks)
{
    return ks->rk;
}

int rr_kafka_sink_put(rr_kafka_sink_t *ks, const char *topic, int32_t partition, const void *key,
                      size_t klen, const void *val, size_t vlen, int64_t *offset)
{
    if (offset) *offset = -1;
    ks->forgot = 0;
    for (;;) {
        rd_kafka_resp_err_t e = rd_kafka_producev(
            ks->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
            RD_KAFKA_V_KEY(key, klen), RD_KAFKA_V_VALUE((void *)val, vlen),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(offset), RD_KAFKA_V_END);
        if (!e) {
            if (offset) ks->pending++;
            ks->txn_puts++;
            return 0;
        }
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            fail(ks, "writing to the changelog failed: %s", rd_kafka_err2str(e));
            return -1;
        }
        rd_kafka_poll(ks->rk, 50);
    }
}

int rr_kafka_sink_flush(rr_kafka_sink_t *ks, char *errstr, size_t errstr_size)
{
    double t0 = rr_mono_s();
    while (ks->pending > 0 && !ks->failed) {
        rd_kafka_poll(ks->rk, 100);
        if (rr_mono_s() - t0 > TXN_TIMEOUT_MS / 1000.0) {
            fail(ks, "%s", "writing to the changelog timed out");
            break;
        }
    }
    if (ks->failed) snprintf(errstr, errstr_size, "%s", ks->err);
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
    if (!ks || ks->pending <= 0) return;
    ks->forgot = 1;
    rd_kafka_purge(ks->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    double t0 = rr_mono_s();
    while (ks->pending > 0 && rr_mono_s() - t0 < 10)
        rd_kafka_poll(ks->rk, 100);
}

int rr_kafka_sink_begin(rr_kafka_sink_t *ks, char *errstr, size_t errstr_size)
{
    if (ks->in_txn) return 0;
    if (txn_error(ks, rd_kafka_begin_transaction(ks->rk), "begin transaction", errstr,
                  errstr_size) < 0)
        return -1;
    ks->in_txn = 1;
    return 0;
}

rd_kafka_resp_err_t rr_kafka_sink_last_error(const rr_kafka_sink_t *ks)
{
    return ks->last_code;
}

int rr_kafka_sink_abort(rr_kafka_sink_t *ks, char *errstr, size_t errstr_size)
{
    /* Records still queued are sent first: librdkafka 2.0 aborts by purging
     * them, and the next transaction's records to their partitions then
     * skip sequence numbers the broker never saw (OUT_OF_ORDER_SEQUENCE, a
     * failed transaction). Sent, they are discarded by the abort as well. */
    if (ks->in_txn) rd_kafka_flush(ks->rk, TXN_TIMEOUT_MS);
    if (ks->in_txn) {
        rd_kafka_error_t *e = rd_kafka_abort_transaction(ks->rk, TXN_TIMEOUT_MS);
        ks->in_txn = 0;
        if (e) {
            snprintf(errstr, errstr_size, "abort transaction: %s", rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
            return -1;
        }
    }
    /* the aborted records' delivery reports (purged) are not failures of
     * the next transaction */
    double t0 = rr_mono_s();
    while (rd_kafka_outq_len(ks->rk) > 0 && rr_mono_s() - t0 < TXN_TIMEOUT_MS / 1000.0)
        rd_kafka_poll(ks->rk, 50);
    rd_kafka_poll(ks->rk, 0);
    ks->failed = 0;
    ks->err[0] = 0;
    ks->last_code = RD_KAFKA_RESP_ERR_NO_ERROR;
    return rr_kafka_sink_begin(ks, errstr, errstr_size);
}

int rr_kafka_sink_commit(rr_kafka_sink_t *ks, rd_kafka_t *consumer,
                         const rd_kafka_topic_partition_list_t *offsets, char *errstr,
                         size_t errstr_size)
{
    ks->last_code = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (!ks->in_txn) {
        snprintf(errstr, errstr_size, "commit: no open transaction");
        return -1;
    }
    double t0 = rr_mono_s();
    rd_kafka_poll(ks->rk, 0);
    if (ks->failed) { /* some record did not get out: publish none of them */
        snprintf(errstr, errstr_size, "%s", ks->err);
        rd_kafka_error_t *a = rd_kafka_abort_transaction(ks->rk, TXN_TIMEOUT_MS);
        if (a) rd_kafka_error_destroy(a);
        ks->in_txn = 0;
        txn_ended(ks, 0, 0);
        return -1;
    }
    /* A retriable error (the coordinator moving, a broker restarting) is
     * retried for up to RETRIES x TXN_TIMEOUT_MS; anything else aborts. */
    rd_kafka_error_t *e = NULL;
    if (consumer && offsets && offsets->cnt) {
        rd_kafka_consumer_group_metadata_t *md = rd_kafka_consumer_group_metadata(consumer);
        for (int i = 0; i < RETRIES; i++) {
            e = rd_kafka_send_offsets_to_transaction(ks->rk, offsets, md, TXN_TIMEOUT_MS);
            if (!e || !rd_kafka_error_is_retriable(e) || i == RETRIES - 1) break;
            rd_kafka_error_destroy(e);
        }
        rd_kafka_consumer_group_metadata_destroy(md);
        if (txn_error(ks, e, "commit input offsets", errstr, errstr_size) < 0) return -1;
    }
    for (int i = 0; i < RETRIES; i++) {
        e = rd_kafka_commit_transaction(ks->rk, TXN_TIMEOUT_MS);
        if (!e || !rd_kafka_error_is_retriable(e) || i == RETRIES - 1) break;
        rd_kafka_error_destroy(e);
    }
    if (txn_error(ks, e, "commit transaction", errstr, errstr_size) < 0) return -1;
    ks->in_txn = 0;
    txn_ended(ks, 1, rr_mono_s() - t0);
    if (ks->failed) { /* a delivery failure reported during the commit's flush */
        snprintf(errstr, errstr_size, "%s", ks->err);
        return -1;
    }
    return 0;
}

void rr_kafka_sink_close(rr_kafka_sink_t *ks)
{
    if (!ks) return;
    if (ks->rk) {
        if (ks->in_txn) {
            rd_kafka_error_t *e = rd_kafka_abort_transaction(ks->rk, TXN_TIMEOUT_MS);
            if (e) rd_kafka_error_destroy(e);
            txn_ended(ks, 0, 0);
        }
        rd_kafka_destroy(ks->rk);
    }
    free(ks->buf);
    free(ks);
}
