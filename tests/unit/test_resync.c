/* Tests for codec/resync: the rule that says where a broken delimited
 * stream frames again. The claim of resync.h, that no offset other than a
 * true record boundary passes, is checked from every offset of generated
 * traffic with every delivery knob (invalid and undecodable records
 * included) and on random bytes; the edges of the rule one by one. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "codec/decode.h"
#include "codec/encode.h"
#include "codec/resync.h"
#include "gen/gen.h"

typedef struct day {
    bytes_t b;
    uint8_t *boundary; /* b.n + 1 flags: a record starts here */
    size_t records;
} day_t;

static int emit_event(void *opaque, const rr_event_t *ev)
{
    uint8_t buf[RR_EVENT_DELIMITED_MAX_BYTES];
    put(&((day_t *)opaque)->b, buf, rr_encode_event_delimited(ev, buf));
    return 0;
}

static int emit_raw(void *opaque, const uint8_t *msg, size_t len)
{
    uint8_t prefix[10];
    day_t *d = opaque;
    put(&d->b, prefix, rr_encode_varint(len, prefix));
    put(&d->b, msg, len);
    return 0;
}

/* A generated stream with every knob, and where its records start. */
static day_t generated(uint64_t events, uint64_t seed)
{
    rr_gen_opts_t o;
    rr_gen_opts_default(&o);
    o.events = events;
    o.seed = seed;
    o.duplicate_rate = 0.05;
    o.disorder_rate = 0.1;
    o.late_rate = 0.02;
    o.invalid_rate = 0.1;
    o.garbage_rate = 0.1;
    o.emit_raw = emit_raw;
    day_t d = {0};
    char err[256];
    cr_assert_eq(rr_gen_run(&o, emit_event, &d, err, sizeof err), 0, "%s", err);
    d.boundary = calloc(d.b.n + 1, 1);
    size_t pos = 0;
    const uint8_t *m;
    size_t n;
    for (;;) {
        size_t at = pos;
        if (rr_frame_next(d.b.p, d.b.n, 1, &pos, &m, &n) != RR_FRAME_OK) break;
        d.boundary[at] = 1;
        d.records++;
    }
    cr_assert_eq(pos, d.b.n);
    return d;
}

static void day_free(day_t *d)
{
    free(d->b.p);
    free(d->boundary);
}

Test(resync, from_every_offset_of_generated_traffic_only_a_true_boundary_is_found)
{
    for (uint64_t seed = 1; seed <= 2; seed++) {
        day_t d = generated(25000, seed);
        size_t found = 0;
        for (size_t s = 0; s < d.b.n; s++) {
            size_t pos = s;
            int r = rr_resync_find(d.b.p, d.b.n, 1, &pos);
            cr_assert_neq(r, RR_RESYNC_NEED_MORE);
            if (r == RR_RESYNC_NONE) continue;
            cr_assert(d.boundary[pos], "seed %llu: from %zu a resync at %zu, inside a record",
                      (unsigned long long)seed, s, pos);
            cr_assert_lt(pos - s, 4096, "from %zu the resync is %zu bytes away", s, pos - s);
            found++;
        }
        cr_assert_gt(found, d.b.n / 2);
        day_free(&d);
    }
}

Test(resync, every_record_boundary_of_clean_traffic_passes)
{
    rr_gen_opts_t o;
    rr_gen_opts_default(&o);
    o.events = 20000;
    day_t d = {0};
    char err[256];
    cr_assert_eq(rr_gen_run(&o, emit_event, &d, err, sizeof err), 0, "%s", err);
    size_t pos = 0, records = 0;
    const uint8_t *m;
    size_t n;
    for (;;) {
        size_t at = pos;
        if (rr_frame_next(d.b.p, d.b.n, 1, &pos, &m, &n) != RR_FRAME_OK) break;
        cr_assert_eq(rr_resync_at(d.b.p, d.b.n, 1, at), 1, "record %zu at %zu", records, at);
        records++;
    }
    cr_assert_eq(records, 20000);
    free(d.b.p);
}

Test(resync, random_bytes_never_pass)
{
    size_t n = (size_t)8 << 20;
    uint8_t *b = malloc(n);
    uint64_t x = 0x9e3779b97f4a7c15u;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        b[i] = (uint8_t)(x >> 24);
    }
    size_t pos = 0;
    cr_assert_eq(rr_resync_find(b, n, 1, &pos), RR_RESYNC_NONE, "passes at %zu", pos);
    cr_assert_eq(pos, n);
    free(b);
}

/* ChatEvent id with every field the rule asks for. */
static void put_plausible(bytes_t *b, uint64_t id)
{
    rr_event_t ev = {.event_id = id,
                     .shop_id = 3,
                     .conversation_id = 40 + id,
                     .buyer_id = 9,
                     .ts_ms = INT64_C(1795312800000) + (int64_t)id,
                     .type = 4};
    uint8_t buf[RR_EVENT_DELIMITED_MAX_BYTES];
    put(b, buf, rr_encode_event_delimited(&ev, buf));
}

Test(resync, four_plausible_records_pass_and_three_need_the_end_of_the_stream)
{
    bytes_t b = {0};
    for (uint64_t id = 1; id <= 3; id++)
        put_plausible(&b, id);
    cr_assert_eq(rr_resync_at(b.p, b.n, 0, 0), 2, "three, more may come: undecided");
    cr_assert_eq(rr_resync_at(b.p, b.n, 1, 0), 1, "three that end the stream pass");
    cr_assert_eq(rr_resync_at(b.p, b.n - 1, 1, 0), 0, "the third cut short fails");
    put_plausible(&b, 4);
    cr_assert_eq(rr_resync_at(b.p, b.n, 0, 0), 1, "four pass without the end");
    free(b.p);
}

Test(resync, a_record_missing_a_required_field_fails_the_candidate)
{
    static const struct {
        rr_event_t ev;
        const char *what;
    } bad[] = {
        {{.shop_id = 3, .conversation_id = 4, .ts_ms = 5, .type = 4}, "no event_id"},
        {{.event_id = 1, .conversation_id = 4, .ts_ms = 5, .type = 4}, "no shop_id"},
        {{.event_id = 1, .shop_id = 3, .ts_ms = 5, .type = 4}, "no conversation_id"},
        {{.event_id = 1, .shop_id = 3, .conversation_id = 4, .type = 4}, "no ts"},
        {{.event_id = 1, .shop_id = 3, .conversation_id = 4, .ts_ms = 5, .type = 11}, "type 11"},
        {{.event_id = 1, .shop_id = 3, .conversation_id = 4, .ts_ms = RR_TS_MAX + 1, .type = 4},
         "ts past 9999"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bytes_t b = {0};
        uint8_t buf[RR_EVENT_DELIMITED_MAX_BYTES];
        put(&b, buf, rr_encode_event_delimited(&bad[i].ev, buf));
        for (uint64_t id = 1; id <= 4; id++)
            put_plausible(&b, id);
        cr_assert_eq(rr_resync_at(b.p, b.n, 1, 0), 0, "%s", bad[i].what);
        size_t pos = 0;
        cr_assert_eq(rr_resync_find(b.p, b.n, 1, &pos), RR_RESYNC_FOUND);
        cr_assert_eq(pos, (size_t)(1 + b.p[0]), "%s: the next record", bad[i].what);
        free(b.p);
    }
}

/* Bytes before a true boundary that read as a length and a varint field
 * (0x20, buyer_id) swallow the true record's prefix as that field's value:
 * both offsets pass and end their first record at the same place. The true
 * one, the shorter first record, wins. */
Test(resync, a_record_swallowing_the_true_first_record_loses_to_it)
{
    bytes_t tail = {0};
    for (uint64_t id = 1; id <= 4; id++)
        put_plausible(&tail, id);
    bytes_t b = {0};
    static const uint8_t buyer_tag = 0x20;
    put_varint(&b, 1 + 1 + tail.p[0]); /* the tag, the true prefix, the true message */
    put(&b, &buyer_tag, 1);
    put(&b, tail.p, tail.n);
    cr_assert_eq(rr_resync_at(b.p, b.n, 1, 0), 1, "the swallowing offset passes by itself");
    size_t pos = 0;
    cr_assert_eq(rr_resync_find(b.p, b.n, 1, &pos), RR_RESYNC_FOUND);
    cr_assert_eq(pos, 2, "the true boundary");
    free(b.p);
    free(tail.p);
}

Test(resync, a_candidate_that_needs_bytes_past_the_buffer_stops_the_scan)
{
    bytes_t b = {0};
    /* six continuation bytes before two records: candidates 0..4 read a
     * length prefix of 5 bytes or more, or a length over RR_RESYNC_MAX_LEN,
     * and fail at once; candidate 5 reads 0x80 and the first record's
     * prefix (17) as a length of 17 << 7 = 2176, which more bytes may hold */
    static const uint8_t junk[6] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80};
    put(&b, junk, sizeof junk);
    for (uint64_t id = 1; id <= 2; id++)
        put_plausible(&b, id);
    cr_assert_eq(b.p[6], 17);
    size_t pos = 0;
    cr_assert_eq(rr_resync_find(b.p, b.n, 0, &pos), RR_RESYNC_NEED_MORE);
    cr_assert_eq(pos, 5, "the first undecided candidate");
    pos = 0;
    cr_assert_eq(rr_resync_find(b.p, b.n, 1, &pos), RR_RESYNC_FOUND);
    cr_assert_eq(pos, 6);
    free(b.p);
}
