/* bench/bucket.c: the day in cache-sized passes (bucket.h). */
#include "bucket.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "base/clock.h"
#include "base/map.h"
#include "codec/decode.h"
#include "io/feed.h"
#include "io/source.h"

#define BATCH 4096
#define CHUNK 64 /* events offered as one batch, as io/feed.c does */
#define NO_TS INT64_MIN
#define DELTA_NONE INT32_MIN /* raise nothing (delta_of) */

/* One event in a bucket: its frame's offset in the stream, the
 * partition's greatest applied ts when it arrived as that minus the
 * event's ts (delta_of), its length, then its bytes: the second pass reads
 * each bucket in order. */
typedef struct ent {
    uint32_t off;
    int32_t delta;
    uint16_t len;
} __attribute__((packed)) ent_t;

typedef struct bucket {
    uint8_t *v;
    size_t n, cap; /* bytes */
    size_t events;
} bucket_t;

/* The rules of SPEC §7 that need nothing but the event and the clock
 * (src/engine/accept.c judges the same; an event failing them never
 * moves the partition's time). */
static int statically_valid(const rr_event_t *ev, int64_t now_ms, int64_t max_future_ms)
{
    if (ev->type < 1 || ev->type > 10 || !ev->event_id || !ev->shop_id || !ev->conversation_id ||
        ev->ts_ms < 1 || ev->ts_ms > RR_TS_MAX)
        return 0;
    if (ev->type == RR_EVENT_BUYER_MESSAGE && !ev->buyer_id) return 0;
    if (ev->type == RR_EVENT_AGENT_ASSIGNED && !ev->agent_id) return 0;
    if (ev->type == RR_EVENT_RATING && (ev->rating < 1 || ev->rating > 5)) return 0;
    return ev->ts_ms - max_future_ms <= now_ms;
}

static int push(bucket_t *b, ent_t x, const uint8_t *bytes)
{
    size_t need = b->n + sizeof x + x.len;
    if (need > b->cap) {
        size_t c = b->cap ? b->cap * 2 : 65536;
        while (c < need)
            c *= 2;
        uint8_t *v = realloc(b->v, c);
        if (!v) return -1;
        b->v = v;
        b->cap = c;
    }
    memcpy(b->v + b->n, &x, sizeof x);
    memcpy(b->v + b->n + sizeof x, bytes, x.len);
    b->n = need;
    b->events++;
    return 0;
}

/* What an engine told ts + delta before the event decides as it would
 * told max_ts: a delta past int32 is clamped only to a value below max_ts
 * (an event more than 24 days behind is late either way), and an event more
 * than 24 days ahead raises nothing (it is a jump, or invalid, either way). */
static int32_t delta_of(int64_t max_ts, int64_t ts)
{
    if (max_ts == NO_TS || ts < 1 || ts > RR_TS_MAX) return DELTA_NONE;
    int64_t d = max_ts - ts;
    if (d > INT32_MAX) return INT32_MAX;
    if (d <= INT32_MIN) return DELTA_NONE;
    return (int32_t)d;
}

static double cpu_now(int sys)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    struct timeval tv = sys ? ru.ru_stime : ru.ru_utime;
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

typedef struct run {
    const rr_config_t *cfg;
    int k;
    int64_t now_ms;
    bucket_t *bk;
    rr_engine_t **eng; /* one per bucket, alive for the whole day */
    bkt_counts_t *out;
    int64_t max_ts; /* the partition's greatest applied ts so far */
} run_t;

/* Deal one record: decoded once, the partition's greatest applied ts
 * followed in arrival order, the event with that ts dealt to its shop's
 * bucket. 0, or -1 out of memory. */
static int deal(run_t *r, const rr_record_t *rec)
{
    const rr_config_t *cfg = r->cfg;
    rr_event_t ev;
    int st = rec->status != RR_FRAME_OK ? -1 : rr_decode_event(rec->data, rec->len, &ev);
    if (st != RR_DECODE_OK) { /* invalid whoever judges it: the first engine does */
        rr_engine_offer_undecodable(r->eng[0], 0, rec->offset, rec->data, rec->len,
                                    st < 0 ? rr_feed_frame_reason(rec->status)
                                           : rr_decode_strerror(st));
        return 0;
    }
    if (rec->len > UINT16_MAX) {
        r->out->unsupported++;
        return 0;
    }
    ent_t x = {(uint32_t)rec->offset, delta_of(r->max_ts, ev.ts_ms), (uint16_t)rec->len};
    if (push(&r->bk[rr_hash64(ev.shop_id) % (uint64_t)r->k], x, rec->data) < 0) return -1;
    if (!statically_valid(&ev, r->now_ms, cfg->max_future_ms)) return 0;
    if (r->max_ts != NO_TS && ev.ts_ms - r->max_ts > cfg->max_future_ms) {
        r->out->unsupported++; /* a jump: held, maybe confirmed later */
        return 0;
    }
    if (r->max_ts != NO_TS && ev.ts_ms < r->max_ts - cfg->lateness_ms) return 0; /* late */
    if (r->max_ts == NO_TS || ev.ts_ms > r->max_ts) r->max_ts = ev.ts_ms;
    return 0;
}

/* Offer what bucket b holds to its engine, in order, each event after the
 * partition's ts it arrived with; empty the bucket. */
static void drain_bucket(run_t *r, int b)
{
    bucket_t *bk = &r->bk[b];
    rr_engine_t *e = r->eng[b];
    rr_offer_t o[CHUNK];
    int64_t seen[CHUNK];
    for (size_t at = 0; at < bk->n;) {
        size_t k = 0;
        while (k < CHUNK && at < bk->n) {
            ent_t x;
            memcpy(&x, bk->v + at, sizeof x);
            const uint8_t *m = bk->v + at + sizeof x;
            at += sizeof x + x.len;
            if (rr_decode_event(m, x.len, &o[k].ev) != RR_DECODE_OK) continue; /* decoded before */
            o[k].reason = NULL;
            o[k].offset = x.off;
            o[k].raw = m;
            o[k].raw_len = x.len;
            seen[k] = x.delta == DELTA_NONE ? NO_TS : o[k].ev.ts_ms + (int64_t)x.delta;
            k++;
        }
        rr_engine_offer_batch_seen(e, 0, o, seen, k, r->now_ms);
    }
    bk->n = 0;
    bk->events = 0;
}

static void drain_all(run_t *r)
{
    double u0 = cpu_now(0), s0 = cpu_now(1);
    for (int b = 0; b < r->k; b++)
        drain_bucket(r, b);
    r->out->second_user_s += cpu_now(0) - u0;
    r->out->second_sys_s += cpu_now(1) - s0;
}

static void add_stats(rr_stats_t *acc, const rr_stats_t *s)
{
    acc->input += s->input;
    acc->applied += s->applied;
    acc->duplicate += s->duplicate;
    acc->late += s->late;
    acc->invalid += s->invalid;
    acc->shop_days += s->shop_days;
    acc->agent_days += s->agent_days;
    acc->violations += s->violations;
    acc->evicted_conversations += s->evicted_conversations;
}

int bkt_run(const uint8_t *buf, size_t len, const rr_config_t *cfg, const rr_tz_t *tz,
            const rr_sink_t *sink, int k, size_t slice, int64_t now_ms, bkt_counts_t *out,
            char *err, size_t err_size)
{
    memset(out, 0, sizeof *out);
    if (len >= UINT32_MAX || k < 1) {
        snprintf(err, err_size, "bucket: the stream must be under 4 GiB, k >= 1");
        return -1;
    }
    run_t r = {.cfg = cfg, .k = k, .now_ms = now_ms, .out = out, .max_ts = NO_TS};
    r.bk = calloc((size_t)k, sizeof *r.bk);
    r.eng = calloc((size_t)k, sizeof *r.eng);
    rr_source_t *src = NULL;
    int rc = -1;
    if (!r.bk || !r.eng) {
        snprintf(err, err_size, "out of memory");
        goto out;
    }
    for (int b = 0; b < k; b++) {
        if (rr_engine_new(cfg, tz, sink, &r.eng[b], err, err_size) < 0) goto out;
        rr_engine_add_partition(r.eng[b], "bucket");
    }
    if (rr_source_open_mem(buf, len, "bucket", &src, err, err_size) < 0) goto out;
    static rr_record_t recs[BATCH];
    size_t dealt = 0;
    for (;;) {
        double u0 = cpu_now(0), s0 = cpu_now(1);
        int got = rr_source_next_batch(src, recs, BATCH);
        if (got < 0) {
            snprintf(err, err_size, "%s", rr_source_error(src));
            goto out;
        }
        out->records += (uint64_t)got;
        for (int i = 0; i < got; i++)
            if (deal(&r, &recs[i]) < 0) {
                snprintf(err, err_size, "out of memory");
                goto out;
            }
        out->first_user_s += cpu_now(0) - u0;
        out->first_sys_s += cpu_now(1) - s0;
        dealt += (size_t)got;
        if (got == 0 || (slice && dealt >= slice)) {
            drain_all(&r);
            dealt = 0;
        }
        if (got == 0) break;
    }
    double u0 = cpu_now(0), s0 = cpu_now(1);
    rc = 0;
    for (int b = 0; b < k; b++) {
        rr_engine_partition_end(r.eng[b], 0);
        rr_engine_finish(r.eng[b]);
        rr_stats_t st;
        rr_engine_stats(r.eng[b], &st);
        add_stats(&out->st, &st);
        out->peak_open += st.peak_open_conversations;
        if (st.peak_open_conversations > out->peak_bucket)
            out->peak_bucket = st.peak_open_conversations;
        if (rr_engine_error(r.eng[b])) {
            snprintf(err, err_size, "engine: %s", rr_engine_error(r.eng[b]));
            rc = -1;
        }
    }
    out->second_user_s += cpu_now(0) - u0;
    out->second_sys_s += cpu_now(1) - s0;
    for (int b = 0; b < k; b++)
        if (r.bk[b].cap > out->buffer_bytes) out->buffer_bytes = r.bk[b].cap;
out:
    rr_source_close(src);
    for (int b = 0; r.eng && b < k; b++)
        rr_engine_free(r.eng[b]);
    for (int b = 0; r.bk && b < k; b++)
        free(r.bk[b].v);
    free(r.bk);
    free(r.eng);
    return rc;
}
