/* Unit tests for io/feed: a batch fed with prefetching, its releases
 * deferred to the batch's end (rr_engine_offer_batch), gives exactly the
 * records, in the same order, and the counts, peaks and evictions of
 * offering each record by itself; undecodable and unframeable records are
 * dead-lettered with their reason. */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "codec/decode.h"
#include "codec/encode.h"
#include "codec/record_json.h"
#include "engine/tz.h"
#include "gen_events.h"
#include "io/feed.h"
#include "io/tzload.h"

#define NOW INT64_C(4000000000000) /* wall clock for offers: year 2096 */

/* Every record the engine publishes, as JSON lines in publishing order. */
typedef struct lines {
    char *s;
    size_t n, cap;
} lines_t;

static void add_line(lines_t *l, size_t need, size_t (*fill)(char *, size_t, const void *),
                     const void *r)
{
    if (l->cap - l->n < need + 1) {
        l->cap = 2 * (l->cap + need + 1);
        l->s = realloc(l->s, l->cap);
        cr_assert_not_null(l->s);
    }
    l->n += fill(l->s + l->n, l->cap - l->n, r);
    l->s[l->n] = '\0';
}

/* Results and rejected events go to different files (io/output.c), so
 * each is compared in its own order. */
typedef struct run {
    rr_tz_t *tz;
    rr_engine_t *e;
    lines_t out; /* results: days, violations, alerts */
    lines_t rej; /* rejected events */
    int p;
} run_t;

/* The sink's callbacks: each record as a JSON line into the run's lines `to`. */
#define CAPTURE(name, type, enc, to)                                                               \
    static size_t fill_##name(char *b, size_t cap, const void *r)                                  \
    {                                                                                              \
        return enc(b, cap, r);                                                                     \
    }                                                                                              \
    static void on_##name(void *opaque, const type *r)                                             \
    {                                                                                              \
        add_line(&((run_t *)opaque)->to, enc(NULL, 0, r), fill_##name, r);                         \
    }
CAPTURE(day, rr_day_record_t, rr_record_json_day, out)
CAPTURE(violation, rr_violation_record_t, rr_record_json_violation, out)
CAPTURE(alert, rr_alert_record_t, rr_record_json_alert, out)
CAPTURE(rejected, rr_rejected_record_t, rr_record_json_rejected, rej)

static void run_init(run_t *r)
{
    char err[256] = "";
    memset(r, 0, sizeof *r);
    cr_assert_eq(rr_tz_load("Asia/Shanghai", &r->tz, err, sizeof err), 0, "%s", err);
    rr_config_t cfg;
    rr_config_default(&cfg);
    rr_sink_t sink = {.opaque = r,
                      .day = on_day,
                      .violation = on_violation,
                      .alert = on_alert,
                      .rejected = on_rejected};
    cr_assert_eq(rr_engine_new(&cfg, r->tz, &sink, &r->e, err, sizeof err), 0, "%s", err);
    r->p = rr_engine_add_partition(r->e, "in.pb");
}

static void run_free(run_t *r)
{
    rr_engine_free(r->e);
    rr_tz_free(r->tz);
    free(r->out.s);
    free(r->rej.s);
}

/* A stream of records: generated events (some invalid by SPEC §7), bytes
 * that do not decode, and records whose framing broke. */
typedef struct stream {
    rr_record_t *rec;
    uint8_t (*bytes)[RR_EVENT_MAX_BYTES];
    size_t n;
    uint64_t want_undecodable;
} stream_t;

static const uint8_t TRUNCATED[] = {0x08, 0x81};                    /* a varint cut short */
static const uint8_t WRONG_WIRE[] = {0x09, 1, 2, 3, 4, 5, 6, 7, 8}; /* field 1 as fixed64 */

static stream_t make_stream(size_t events, int lifetime)
{
    events_t ev = lifetime ? generate_knobs(events, 15, 20, 1) : generate_shops(events, 15, 20);
    stream_t s = {0};
    s.rec = calloc(ev.n + ev.n / 50 + 4, sizeof *s.rec);
    s.bytes = calloc(ev.n, sizeof *s.bytes);
    cr_assert(s.rec && s.bytes);
    int64_t off = 0;
    for (size_t i = 0; i < ev.n; i++) {
        if (i % 97 == 5 || i % 131 == 7) { /* undecodable between events */
            const uint8_t *b = i % 97 == 5 ? TRUNCATED : WRONG_WIRE;
            size_t len = i % 97 == 5 ? sizeof TRUNCATED : sizeof WRONG_WIRE;
            s.rec[s.n++] =
                (rr_record_t){.data = b, .len = len, .offset = off, .status = RR_FRAME_OK};
            off += (int64_t)len + 1;
            s.want_undecodable++;
        }
        size_t len = rr_encode_event(&ev.v[i], s.bytes[i]);
        s.rec[s.n++] =
            (rr_record_t){.data = s.bytes[i], .len = len, .offset = off, .status = RR_FRAME_OK};
        off += (int64_t)len + 1;
    }
    /* the stream's end: a broken length prefix */
    s.rec[s.n++] =
        (rr_record_t){.data = TRUNCATED, .len = 1, .offset = off, .status = RR_FRAME_BROKEN};
    s.want_undecodable++;
    free(ev.v);
    return s;
}

/* What rr_feed_records promises to equal: each record offered by itself. */
static void offer_one_by_one(run_t *r, const stream_t *s)
{
    for (size_t i = 0; i < s->n; i++) {
        const rr_record_t *x = &s->rec[i];
        rr_event_t e;
        int st = x->status == RR_FRAME_OK ? rr_decode_event(x->data, x->len, &e) : -1;
        if (st == RR_DECODE_OK)
            rr_engine_offer(r->e, r->p, &e, x->offset, x->data, x->len, NOW);
        else
            rr_engine_offer_undecodable(r->e, r->p, x->offset, x->data, x->len,
                                        st < 0 ? rr_feed_frame_reason(x->status)
                                               : rr_decode_strerror(st));
    }
}

static void expect_same(run_t *a, run_t *b)
{
    rr_engine_finish(a->e);
    rr_engine_finish(b->e);
    rr_stats_t sa, sb;
    rr_engine_stats(a->e, &sa);
    rr_engine_stats(b->e, &sb);
    cr_assert_eq(sa.input, sb.input);
    cr_assert_eq(sa.applied, sb.applied);
    cr_assert_eq(sa.duplicate, sb.duplicate);
    cr_assert_eq(sa.late, sb.late);
    cr_assert_eq(sa.invalid, sb.invalid);
    /* memory over time, not only results: evictions happen at the same events */
    cr_assert_eq(sa.peak_open_conversations, sb.peak_open_conversations);
    cr_assert_eq(sa.peak_active_conversations, sb.peak_active_conversations);
    cr_assert_eq(sa.evicted_conversations, sb.evicted_conversations, "evicted %llu and %llu",
                 (unsigned long long)sa.evicted_conversations,
                 (unsigned long long)sb.evicted_conversations);
    cr_assert_eq(memcmp(&sa, &sb, sizeof sa), 0, "the stats differ");
    cr_assert_gt(a->out.n, 0);
    cr_assert_gt(a->rej.n, 0);
    cr_assert_eq(a->out.n, b->out.n, "output lengths %zu and %zu", a->out.n, b->out.n);
    cr_assert_eq(memcmp(a->out.s, b->out.s, a->out.n), 0, "the records differ");
    cr_assert_eq(a->rej.n, b->rej.n, "rejected lengths %zu and %zu", a->rej.n, b->rej.n);
    cr_assert_eq(memcmp(a->rej.s, b->rej.s, a->rej.n), 0, "the rejected records differ");
}

static void feed_matches_one_by_one(size_t events, int lifetime)
{
    stream_t s = make_stream(events, lifetime);
    run_t fed, ref;
    run_init(&fed);
    run_init(&ref);
    rr_feed_counts_t c = {0};
    /* batches of every size around the feeder's chunk of 256 */
    size_t sizes[] = {1, 7, 255, 256, 257, 1000, 3};
    size_t i = 0, k = 0;
    while (i < s.n) {
        size_t m = sizes[k++ % (sizeof sizes / sizeof sizes[0])];
        if (m > s.n - i) m = s.n - i;
        rr_feed_records(fed.e, fed.p, s.rec + i, m, NOW, &c);
        i += m;
    }
    offer_one_by_one(&ref, &s);
    cr_assert_eq(c.undecodable, s.want_undecodable);
    cr_assert_eq(c.decoded + c.undecodable, s.n);
    expect_same(&fed, &ref);
    run_free(&fed);
    run_free(&ref);
    free(s.rec);
    free(s.bytes);
}

Test(feed, batches_give_the_records_of_one_by_one_offers)
{
    feed_matches_one_by_one(20000, 0);
}

/* Conversations that outlive conversation_ttl and are found over by a
 * later event (detached mid-batch), re-deliveries hours later, a jump of
 * two days held and confirmed, across three days of finalisations. */
Test(feed, batches_match_one_by_one_over_conversation_lifetimes)
{
    feed_matches_one_by_one(60000, 1);
}

Test(feed, undecodable_records_are_dead_lettered_with_their_reason)
{
    run_t r;
    run_init(&r);
    rr_record_t recs[] = {
        {.data = TRUNCATED, .len = sizeof TRUNCATED, .offset = 0, .status = RR_FRAME_OK},
        {.data = WRONG_WIRE, .len = sizeof WRONG_WIRE, .offset = 3, .status = RR_FRAME_OK},
        {.data = TRUNCATED, .len = 1, .offset = 13, .status = RR_FRAME_PAST_END},
    };
    rr_feed_records(r.e, r.p, recs, 3, NOW, NULL); /* counts may be NULL */
    rr_engine_finish(r.e);
    cr_assert(strstr(r.rej.s, "\"type\":\"invalid\",\"reason\":\"truncated\",\"source\":\"in.pb\","
                              "\"partition\":0,\"offset\":0,"),
              "%s", r.rej.s);
    cr_assert(strstr(r.rej.s, "\"reason\":\"wrong_wire_type\",\"source\":\"in.pb\",\"partition\":0,"
                              "\"offset\":3,"),
              "%s", r.rej.s);
    cr_assert(strstr(r.rej.s, "\"reason\":\"length_past_end_of_file\",\"source\":\"in.pb\","
                              "\"partition\":0,\"offset\":13,\"watermark_ms\":null,\"event\":null,"
                              "\"raw_hex\":\"08\"}"),
              "%s", r.rej.s);
    rr_stats_t st;
    rr_engine_stats(r.e, &st);
    cr_assert_eq(st.invalid, 3);
    cr_assert_eq(st.applied, 0);
    run_free(&r);
}

Test(feed, frame_reasons_name_each_break)
{
    cr_assert_str_eq(rr_feed_frame_reason(RR_FRAME_BROKEN), "broken_length_prefix");
    cr_assert_str_eq(rr_feed_frame_reason(RR_FRAME_PAST_END), "length_past_end_of_file");
    cr_assert_str_eq(rr_feed_frame_reason(RR_FRAME_TOO_LARGE), "record_too_large");
    cr_assert_str_eq(rr_feed_frame_reason(RR_FRAME_SKIPPED), "resync_skipped_bytes");
    cr_assert_str_eq(rr_feed_frame_reason(RR_FRAME_ZSTD_DAMAGED), "damaged_zstd_frame");
    cr_assert_str_eq(rr_feed_frame_reason(RR_FRAME_OK), "unframeable_record");
    cr_assert_str_eq(rr_feed_frame_reason(99), "unframeable_record");
}

/* A day range's stop (rr_feed_records_until) is a record of the partition,
 * whatever cut the records into calls: the one after which the partition's
 * watermark first passes the stop, as offering one record at a time finds
 * it; nothing after it is offered. */
static void stop_is_the_same_however_cut(const size_t *sizes, size_t n_sizes)
{
    stream_t s = make_stream(20000, 1);
    run_t ref, fed;
    run_init(&ref);
    run_init(&fed);
    rr_config_t cfg;
    rr_config_default(&cfg);
    /* the stop: the watermark the first half of the records reach */
    run_t probe;
    run_init(&probe);
    stream_t half = s;
    half.n = s.n / 2;
    offer_one_by_one(&probe, &half);
    int64_t stop = rr_engine_partition_watermark(probe.e, probe.p);
    run_free(&probe);
    size_t want = 0;
    while (want < s.n && !(rr_engine_partition_watermark(ref.e, ref.p) > stop)) {
        stream_t one = s;
        one.rec += want;
        one.n = 1;
        offer_one_by_one(&ref, &one);
        want++;
    }
    cr_assert(want > s.n / 4 && want < s.n, "the stop is inside the stream: %zu of %zu", want, s.n);
    size_t i = 0, k = 0;
    for (;;) {
        size_t m = sizes[k++ % n_sizes];
        if (m > s.n - i) m = s.n - i;
        size_t got =
            rr_feed_records_until(fed.e, fed.p, s.rec + i, m, NOW, NULL, stop, cfg.lateness_ms);
        i += got;
        if (got < m || i == s.n) break;
    }
    cr_assert_eq(i, want, "stopped after %zu records, one by one after %zu", i, want);
    expect_same(&fed, &ref);
    run_free(&fed);
    run_free(&ref);
    free(s.rec);
    free(s.bytes);
}

Test(feed, a_range_stops_at_the_same_record_however_the_records_are_cut)
{
    size_t whole[] = {SIZE_MAX}, small[] = {1, 7, 64, 65, 3}, large[] = {4096, 100, 999};
    stop_is_the_same_however_cut(whole, 1);
    stop_is_the_same_however_cut(small, 5);
    stop_is_the_same_however_cut(large, 3);
}
