/* Unit tests for gen/gen (the traffic generator), codec/encode (checked
 * against protobuf-c itself) and io/sink (read back through libzstd).
 *
 * The SPEC §7 classification of generated streams is re-derived here from
 * the events alone, independently of the generator's own bookkeeping, and
 * the two must agree. */
#include <criterion/criterion.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zstd.h>

#include "codec/encode.h"
#include "gen/gen.h"
#include "io/filesink.h"
#include "replyrate/v1/chat_event.pb-c.h"

#define DAY_MS INT64_C(86400000)
#define LATENESS INT64_C(5000)

/* ------------------------------------------------------------ capture */

typedef struct rec {
    rr_event_t ev;
    int raw; /* an undecodable record: ev unused */
} rec_t;

typedef struct cap {
    rec_t *r;
    size_t n, cap;
    uint8_t *bytes; /* the delimited stream, as a file would hold it */
    size_t nbytes, capbytes;
    int raw_decoded;   /* raw records protobuf-c accepted (must stay 0) */
    size_t fail_after; /* emit fails at this record (0 = never) */
} cap_t;

static void put_bytes(cap_t *c, const void *p, size_t n)
{
    if (c->nbytes + n > c->capbytes) {
        c->capbytes = (c->capbytes + n) * 2;
        c->bytes = realloc(c->bytes, c->capbytes);
        cr_assert_not_null(c->bytes);
    }
    memcpy(c->bytes + c->nbytes, p, n);
    c->nbytes += n;
}

static rec_t *push(cap_t *c)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 1024;
        c->r = realloc(c->r, c->cap * sizeof *c->r);
        cr_assert_not_null(c->r);
    }
    rec_t *r = &c->r[c->n++];
    memset(r, 0, sizeof *r);
    return r;
}

static int cap_emit(void *opaque, const rr_event_t *ev)
{
    cap_t *c = opaque;
    if (c->fail_after && c->n >= c->fail_after) return -1;
    push(c)->ev = *ev;
    uint8_t buf[RR_EVENT_DELIMITED_MAX_BYTES];
    put_bytes(c, buf, rr_encode_event_delimited(ev, buf));
    return 0;
}

static int cap_raw(void *opaque, const uint8_t *buf, size_t len)
{
    cap_t *c = opaque;
    push(c)->raw = 1;
    Replyrate__V1__ChatEvent *m = replyrate__v1__chat_event__unpack(NULL, len, buf);
    if (m) {
        c->raw_decoded++;
        replyrate__v1__chat_event__free_unpacked(m, NULL);
    }
    uint8_t pre[10];
    put_bytes(c, pre, rr_encode_varint(len, pre));
    put_bytes(c, buf, len);
    return 0;
}

static void cap_free(cap_t *c)
{
    free(c->r);
    free(c->bytes);
    memset(c, 0, sizeof *c);
}

static rr_gen_stats_t run(rr_gen_opts_t *o, cap_t *c)
{
    rr_gen_stats_t st;
    char err[256] = "";
    o->stats = &st;
    if (o->garbage_rate > 0) o->emit_raw = cap_raw;
    int rc = rr_gen_run(o, cap_emit, c, err, sizeof err);
    cr_assert_eq(rc, 0, "rr_gen_run: %s", err);
    return st;
}

/* ------------------------------------------------- hash maps for §7 */

typedef struct slot {
    uint64_t key;
    uint64_t a, b;
} slot_t;

typedef struct map {
    slot_t *s;
    size_t cap, n;
} map_t;

static uint64_t hash64(uint64_t x)
{
    x ^= x >> 33;
    x *= UINT64_C(0xff51afd7ed558ccd);
    x ^= x >> 33;
    return x;
}

/* Find key (non-zero); *found says whether it was there; inserts it. */
static slot_t *map_get(map_t *m, uint64_t key, int *found)
{
    if ((m->n + 1) * 2 > m->cap) {
        map_t big = {calloc(m->cap ? m->cap * 2 : 1024, sizeof(slot_t)), m->cap ? m->cap * 2 : 1024,
                     0};
        cr_assert_not_null(big.s);
        for (size_t i = 0; i < m->cap; i++)
            if (m->s[i].key) {
                int f;
                *map_get(&big, m->s[i].key, &f) = m->s[i];
            }
        free(m->s);
        *m = big;
    }
    size_t i = hash64(key) & (m->cap - 1);
    while (m->s[i].key && m->s[i].key != key)
        i = (i + 1) & (m->cap - 1);
    *found = m->s[i].key == key;
    if (!*found) {
        m->s[i].key = key;
        m->s[i].a = m->s[i].b = 0;
        m->n++;
    }
    return &m->s[i];
}

enum { C_APPLIED, C_DUP, C_LATE, C_INVALID };

/* SPEC §7 classification of a captured stream as one partition, default
 * settings (lateness 5 s, max_future 1 day; no wall clock). */
typedef struct spec7 {
    uint64_t n[4];
    map_t convs; /* conversation_id -> a: shop, b: buyer */
    map_t ids;   /* applied event_ids */
    int has_max;
    int64_t max_ts;
} spec7_t;

static int invalid_alone(const rr_event_t *e)
{
    return e->type < 1 || e->type > 10 || !e->event_id || !e->shop_id || !e->conversation_id ||
           e->ts_ms < 1 || e->ts_ms > RR_TS_MAX ||
           (e->type == RR_EVENT_BUYER_MESSAGE && !e->buyer_id) ||
           (e->type == RR_EVENT_AGENT_ASSIGNED && !e->agent_id) ||
           (e->type == RR_EVENT_RATING && (e->rating < 1 || e->rating > 5));
}

static slot_t *map_find(const map_t *m, uint64_t key)
{
    if (!m->cap) return NULL;
    size_t i = hash64(key) & (m->cap - 1);
    while (m->s[i].key && m->s[i].key != key)
        i = (i + 1) & (m->cap - 1);
    return m->s[i].key == key ? &m->s[i] : NULL;
}

static int classify(spec7_t *s, const rec_t *r)
{
    if (r->raw) return C_INVALID;
    const rr_event_t *e = &r->ev;
    if (invalid_alone(e)) return C_INVALID;
    /* A conversation exists once one of its events is applied. */
    slot_t *cv = map_find(&s->convs, e->conversation_id);
    if (cv && cv->a != e->shop_id) return C_INVALID;
    if (e->type == RR_EVENT_BUYER_MESSAGE && cv && cv->b && cv->b != e->buyer_id) return C_INVALID;
    if (s->has_max && e->ts_ms > s->max_ts + DAY_MS) return C_INVALID;
    if (s->has_max && e->ts_ms < s->max_ts - LATENESS) return C_LATE;
    int found;
    map_get(&s->ids, e->event_id, &found);
    if (found) return C_DUP;
    if (!cv) {
        cv = map_get(&s->convs, e->conversation_id, &found);
        cv->a = e->shop_id;
    }
    if (e->type == RR_EVENT_BUYER_MESSAGE && !cv->b) cv->b = e->buyer_id;
    if (!s->has_max || e->ts_ms > s->max_ts) s->max_ts = e->ts_ms;
    s->has_max = 1;
    return C_APPLIED;
}

static void spec7_run(spec7_t *s, const cap_t *c)
{
    memset(s, 0, sizeof *s);
    for (size_t i = 0; i < c->n; i++)
        s->n[classify(s, &c->r[i])]++;
    free(s->convs.s);
    free(s->ids.s);
}

/* -------------------------------------------------------------- encode */

static uint64_t xs(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* A value of random magnitude: 0, small, or up to 64 bits. */
static uint64_t rnd_val(uint64_t *s)
{
    switch (xs(s) % 4) {
    case 0:
        return 0;
    case 1:
        return xs(s) % 200;
    case 2:
        return xs(s) >> (xs(s) % 64);
    default:
        return xs(s);
    }
}

Test(encode, matches_protobuf_c_pack_byte_for_byte_and_round_trips)
{
    uint64_t s = 88172645463325252u;
    for (int i = 0; i < 200000; i++) {
        rr_event_t ev = {
            .event_id = rnd_val(&s),
            .shop_id = rnd_val(&s),
            .conversation_id = rnd_val(&s),
            .buyer_id = rnd_val(&s),
            .agent_id = rnd_val(&s),
            .ts_ms = (int64_t)rnd_val(&s),
            .type = (uint32_t)rnd_val(&s),
            .content = (uint32_t)rnd_val(&s),
            .rating = (uint32_t)rnd_val(&s),
            .flags = (uint32_t)rnd_val(&s),
        };
        if (i == 0) ev.ts_ms = -1;
        if (i == 1) ev.type = 0xffffffffu;
        Replyrate__V1__ChatEvent m = REPLYRATE__V1__CHAT_EVENT__INIT;
        m.event_id = ev.event_id;
        m.shop_id = ev.shop_id;
        m.conversation_id = ev.conversation_id;
        m.buyer_id = ev.buyer_id;
        m.agent_id = ev.agent_id;
        m.ts_ms = ev.ts_ms;
        memcpy(&m.type, &ev.type, sizeof ev.type);
        m.content = ev.content;
        m.rating = ev.rating;
        m.flags = ev.flags;
        uint8_t want[128], got[RR_EVENT_MAX_BYTES], del[RR_EVENT_DELIMITED_MAX_BYTES];
        size_t wn = replyrate__v1__chat_event__get_packed_size(&m);
        cr_assert_leq(wn, RR_EVENT_MAX_BYTES);
        replyrate__v1__chat_event__pack(&m, want);
        size_t gn = rr_encode_event(&ev, got);
        cr_assert_eq(gn, wn, "event %d: length %zu, protobuf-c %zu", i, gn, wn);
        cr_assert_eq(memcmp(got, want, wn), 0, "event %d: bytes differ from protobuf-c", i);

        size_t dn = rr_encode_event_delimited(&ev, del);
        cr_assert_eq(dn, gn + 1);
        cr_assert_eq(del[0], gn);
        cr_assert_eq(memcmp(del + 1, got, gn), 0);

        Replyrate__V1__ChatEvent *u = replyrate__v1__chat_event__unpack(NULL, gn, got);
        cr_assert_not_null(u, "event %d does not unpack", i);
        cr_assert_eq(u->event_id, ev.event_id);
        cr_assert_eq(u->shop_id, ev.shop_id);
        cr_assert_eq(u->conversation_id, ev.conversation_id);
        cr_assert_eq(u->buyer_id, ev.buyer_id);
        cr_assert_eq(u->agent_id, ev.agent_id);
        cr_assert_eq(u->ts_ms, ev.ts_ms);
        uint32_t t;
        memcpy(&t, &u->type, sizeof t);
        cr_assert_eq(t, ev.type);
        cr_assert_eq(u->content, ev.content);
        cr_assert_eq(u->rating, ev.rating);
        cr_assert_eq(u->flags, ev.flags);
        replyrate__v1__chat_event__free_unpacked(u, NULL);
    }
}

Test(encode, longest_event_is_exactly_max_bytes_and_empty_event_is_empty)
{
    rr_event_t ev = {UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX,
                     INT64_MIN,  UINT32_MAX, UINT32_MAX, UINT32_MAX, UINT32_MAX};
    uint8_t buf[RR_EVENT_DELIMITED_MAX_BYTES];
    cr_assert_eq(rr_encode_event(&ev, buf), RR_EVENT_MAX_BYTES);
    cr_assert_eq(rr_encode_event_delimited(&ev, buf), RR_EVENT_DELIMITED_MAX_BYTES);
    rr_event_t zero = {0};
    cr_assert_eq(rr_encode_event(&zero, buf), 0);
    cr_assert_eq(rr_encode_event_delimited(&zero, buf), 1);
    cr_assert_eq(buf[0], 0);
}

/* ----------------------------------------------------------------- gen */

static rr_gen_opts_t opts(uint64_t events, uint64_t seed)
{
    rr_gen_opts_t o;
    rr_gen_opts_default(&o);
    o.events = events;
    o.seed = seed;
    return o;
}

Test(gen, same_seed_writes_the_same_bytes_and_another_seed_does_not)
{
    cap_t a = {0}, b = {0}, c = {0};
    rr_gen_opts_t o = opts(60000, 42);
    o.duplicate_rate = 0.01;
    o.disorder_rate = 0.02;
    o.late_rate = 0.01;
    o.invalid_rate = 0.01;
    o.garbage_rate = 0.01;
    run(&o, &a);
    o = opts(60000, 42);
    o.duplicate_rate = 0.01;
    o.disorder_rate = 0.02;
    o.late_rate = 0.01;
    o.invalid_rate = 0.01;
    o.garbage_rate = 0.01;
    run(&o, &b);
    cr_assert_eq(a.nbytes, b.nbytes);
    cr_assert_eq(memcmp(a.bytes, b.bytes, a.nbytes), 0, "same options, different bytes");
    o.seed = 43;
    run(&o, &c);
    cr_assert(c.nbytes != a.nbytes || memcmp(a.bytes, c.bytes, a.nbytes) != 0,
              "another seed wrote the same bytes");
    cap_free(&a);
    cap_free(&b);
    cap_free(&c);
}

Test(gen, writes_exactly_the_requested_number_of_model_events)
{
    static const uint64_t ns[] = {1, 2, 7, 100, 1000, 54321, 300000};
    for (size_t i = 0; i < sizeof ns / sizeof *ns; i++) {
        for (uint32_t days = 1; days <= 3; days += 2) {
            cap_t c = {0};
            rr_gen_opts_t o = opts(ns[i], 7 + i);
            o.days = days;
            rr_gen_stats_t st = run(&o, &c);
            cr_assert_eq(c.n, ns[i], "asked %lu events over %u days, got %zu", (unsigned long)ns[i],
                         days, c.n);
            cr_assert_eq(st.events, ns[i]);
            cr_assert_eq(st.records, ns[i]);
            cr_assert_eq(st.model_events, ns[i]);
            cr_assert_eq(st.expect_applied, ns[i]);
            cap_free(&c);
        }
    }
}

/* One conversation's view, for the structural checks. */
typedef struct cstate {
    uint64_t shop, buyer;
    int64_t last_ts;
    int manual, assigned, started;
} cstate_t;

Test(gen, every_clean_event_is_valid_and_conversations_are_consistent)
{
    cap_t c = {0};
    rr_gen_opts_t o = opts(400000, 5);
    o.days = 2;
    rr_gen_stats_t st = run(&o, &c);
    cr_assert_eq(c.n, 400000);

    /* Local midnight of 2026-11-22 in Asia/Shanghai (UTC+8). */
    const int64_t day0 = INT64_C(1795276800000);
    map_t convs = {0}, ids = {0};
    cstate_t *cs = calloc(st.conversations + 1, sizeof *cs);
    cr_assert_not_null(cs);
    uint64_t n_conv = 0, types[11] = {0}, spans_midnight = 0, repeat_pairs = 0, flagged = 0;
    int64_t prev_ts = INT64_MIN;
    for (size_t i = 0; i < c.n; i++) {
        const rr_event_t *e = &c.r[i].ev;
        cr_assert(!c.r[i].raw);
        cr_assert(!invalid_alone(e), "event %zu is invalid on its own (type %u)", i, e->type);
        cr_assert_geq(e->ts_ms, prev_ts, "stream ts goes back at record %zu", i);
        prev_ts = e->ts_ms;
        cr_assert_geq(e->ts_ms, day0);
        cr_assert_lt(e->ts_ms, day0 + 3 * DAY_MS);
        types[e->type]++;
        int dup;
        map_get(&ids, e->event_id, &dup);
        cr_assert(!dup, "event_id %lu twice", (unsigned long)e->event_id);

        int known;
        slot_t *m = map_get(&convs, e->conversation_id, &known);
        if (!known) m->a = ++n_conv;
        cstate_t *k = &cs[m->a];
        if (!known) {
            cr_assert_eq(e->type, RR_EVENT_SESSION_START, "conversation opens with type %u",
                         e->type);
            k->shop = e->shop_id;
            k->last_ts = e->ts_ms;
        }
        cr_assert_eq(e->shop_id, k->shop, "two shops in conversation %lu",
                     (unsigned long)e->conversation_id);
        cr_assert_leq(e->ts_ms - k->last_ts, 6 * 3600 * 1000, "a gap over 6 h");
        if ((k->last_ts - day0) / DAY_MS != (e->ts_ms - day0) / DAY_MS) spans_midnight++;
        k->last_ts = e->ts_ms;
        switch (e->type) {
        case RR_EVENT_BUYER_MESSAGE:
            if (!k->buyer) k->buyer = e->buyer_id;
            cr_assert_eq(e->buyer_id, k->buyer, "two buyers in one conversation");
            flagged += e->flags != 0;
            break;
        case RR_EVENT_AGENT_ASSIGNED:
        case RR_EVENT_AGENT_MESSAGE:
            cr_assert_neq(e->agent_id, 0);
            k->manual = 1;
            if (e->type == RR_EVENT_AGENT_ASSIGNED)
                k->assigned = 1;
            else
                cr_assert(k->assigned, "an agent message before any assignment");
            break;
        case RR_EVENT_TRANSFER_TO_MANUAL:
            k->manual = 1;
            break;
        default:
            cr_assert_eq(e->agent_id, 0);
            cr_assert_eq(e->flags, 0);
        }
        if (e->type == RR_EVENT_RATING)
            cr_assert(e->rating >= 1 && e->rating <= 5);
        else
            cr_assert_eq(e->rating, 0);
        cr_assert_leq(e->content, 4);
    }
    cr_assert_eq(n_conv, st.conversations);
    /* The model's features all show up. */
    for (int t = 1; t <= 10; t++)
        cr_assert_gt(types[t], 0, "no event of type %d", t);
    cr_assert_gt(spans_midnight, 0, "no conversation spans midnight");
    cr_assert_gt(flagged, 0, "no internal or spam buyer");

    /* Repeat buyers: a (shop, buyer) pair with more than one conversation. */
    map_t pairs = {0};
    for (uint64_t i = 1; i <= n_conv; i++) {
        if (!cs[i].buyer) continue;
        int f;
        map_get(&pairs, hash64(cs[i].shop) ^ cs[i].buyer, &f);
        repeat_pairs += f;
    }
    cr_assert_gt(repeat_pairs, 0, "no repeat buyer");

    /* Every record decodes with protobuf-c. */
    size_t pos = 0, records = 0;
    while (pos < c.nbytes) {
        size_t len = c.bytes[pos++];
        Replyrate__V1__ChatEvent *u = replyrate__v1__chat_event__unpack(NULL, len, c.bytes + pos);
        cr_assert_not_null(u, "record %zu does not decode", records);
        cr_assert_eq(u->event_id, c.r[records].ev.event_id);
        cr_assert_eq(u->ts_ms, c.r[records].ev.ts_ms);
        replyrate__v1__chat_event__free_unpacked(u, NULL);
        pos += len;
        records++;
    }
    cr_assert_eq(records, c.n);

    spec7_t s;
    spec7_run(&s, &c);
    cr_assert_eq(s.n[C_APPLIED], c.n, "clean stream: %lu applied of %zu",
                 (unsigned long)s.n[C_APPLIED], c.n);
    free(pairs.s);
    free(cs);
    free(convs.s);
    free(ids.s);
    cap_free(&c);
}

Test(gen, night_conversations_are_never_assigned_and_day_ones_mostly_are)
{
    cap_t c = {0};
    rr_gen_opts_t o = opts(200000, 9);
    run(&o, &c);
    const int64_t day0 = INT64_C(1795276800000);
    map_t convs = {0};
    uint64_t night_manual = 0, night_assigned = 0, day_manual = 0, day_assigned = 0;
    for (size_t i = 0; i < c.n; i++) {
        const rr_event_t *e = &c.r[i].ev;
        int known;
        slot_t *m = map_get(&convs, e->conversation_id, &known);
        if (!known) m->a = (uint64_t)(e->ts_ms - day0); /* opening time of day */
        int night = m->a >= 2 * 3600000 && m->a < 6 * 3600000;
        int day = m->a >= 10 * 3600000 && m->a < 20 * 3600000;
        if (e->type == RR_EVENT_TRANSFER_TO_MANUAL) {
            night_manual += night;
            day_manual += day;
        }
        if (e->type == RR_EVENT_AGENT_ASSIGNED && !(m->b & 1)) {
            m->b |= 1;
            night_assigned += night;
            day_assigned += day;
        }
    }
    cr_assert_gt(night_manual, 0);
    cr_assert_eq(night_assigned, 0, "an agent at 02:00-06:00");
    cr_assert_gt(day_assigned * 10, day_manual * 8, "day: %lu of %lu assigned",
                 (unsigned long)day_assigned, (unsigned long)day_manual);
    free(convs.s);
    cap_free(&c);
}

Test(gen, invalid_knob_yields_every_requested_kind)
{
    cap_t c = {0};
    rr_gen_opts_t o = opts(200000, 11);
    o.invalid_rate = 0.02;
    rr_gen_stats_t st = run(&o, &c);
    uint64_t sum = 0;
    for (int k = 0; k < RR_GEN_INV_KINDS; k++) {
        cr_assert_gt(st.invalid_kind[k], 0, "no invalid record of kind %d", k);
        sum += st.invalid_kind[k];
    }
    cr_assert_eq(sum, st.invalid);
    cr_assert_gt(st.invalid, 200000 * 0.015);
    cr_assert_lt(st.invalid, 200000 * 0.025);
    cr_assert_eq(c.n, 200000 + st.invalid);

    spec7_t s;
    spec7_run(&s, &c);
    cr_assert_eq(s.n[C_INVALID], st.invalid, "SPEC §7 finds %lu invalid, generator made %lu",
                 (unsigned long)s.n[C_INVALID], (unsigned long)st.invalid);
    cr_assert_eq(s.n[C_APPLIED], 200000);
    cap_free(&c);
}

Test(gen, knob_counts_match_an_independent_spec7_classification)
{
    cap_t c = {0};
    rr_gen_opts_t o = opts(300000, 3);
    o.duplicate_rate = 0.02;
    o.disorder_rate = 0.05;
    o.late_rate = 0.01;
    o.invalid_rate = 0.01;
    o.garbage_rate = 0.005;
    rr_gen_stats_t st = run(&o, &c);
    cr_assert_eq(st.model_events, 300000);
    cr_assert_eq(st.records, c.n);
    cr_assert_eq(st.records, 300000 + st.duplicates + st.invalid + st.garbage);
    cr_assert_eq(c.raw_decoded, 0, "a garbage record decodes with protobuf-c");
    cr_assert_gt(st.duplicates, 0);
    cr_assert_gt(st.disordered, 0);
    cr_assert_gt(st.late, 0);
    cr_assert_gt(st.garbage, 0);

    spec7_t s;
    spec7_run(&s, &c);
    cr_assert_eq(s.n[C_INVALID], st.expect_invalid, "invalid %lu vs %lu",
                 (unsigned long)s.n[C_INVALID], (unsigned long)st.expect_invalid);
    cr_assert_eq(s.n[C_LATE], st.expect_late, "late %lu vs %lu", (unsigned long)s.n[C_LATE],
                 (unsigned long)st.expect_late);
    cr_assert_eq(s.n[C_DUP], st.expect_duplicate, "duplicate %lu vs %lu", (unsigned long)s.n[C_DUP],
                 (unsigned long)st.expect_duplicate);
    cr_assert_eq(s.n[C_APPLIED], st.expect_applied);
    /* Every late-knob event is late, every disordered one applied: the
     * model events not applied are exactly the late ones. */
    cr_assert_leq(st.expect_applied, 300000 - st.late + 10); /* + the stream's last moments */
    cr_assert_geq(st.expect_applied + st.expect_late, 300000);

    /* Disordered events arrive behind later ones, by less than the lateness. */
    int64_t max_ts = INT64_MIN;
    uint64_t behind = 0;
    for (size_t i = 0; i < c.n; i++) {
        if (c.r[i].raw || invalid_alone(&c.r[i].ev)) continue;
        if (c.r[i].ev.ts_ms < max_ts)
            behind++;
        else
            max_ts = c.r[i].ev.ts_ms;
    }
    cr_assert_gt(behind, st.disordered / 2);
    cap_free(&c);
}

Test(gen, late_events_are_late_even_in_a_sparse_stream)
{
    cap_t c = {0};
    rr_gen_opts_t o = opts(5000, 4);
    o.days = 2;
    o.late_rate = 0.05;
    rr_gen_stats_t st = run(&o, &c);
    cr_assert_gt(st.late, 100);
    spec7_t s;
    spec7_run(&s, &c);
    cr_assert_eq(s.n[C_LATE], st.expect_late);
    cr_assert_eq(s.n[C_APPLIED], st.expect_applied);
    /* Only a late event waiting at the very end may find nothing to be
     * late behind. */
    cr_assert_geq(st.expect_late + 3, st.late, "%lu of %lu late-knob events late",
                  (unsigned long)st.expect_late, (unsigned long)st.late);
    cap_free(&c);
}

static int cmp_ev(const void *a, const void *b)
{
    const rr_event_t *x = a, *y = b;
    if (x->event_id != y->event_id) return x->event_id < y->event_id ? -1 : 1;
    return memcmp(x, y, sizeof *x);
}

Test(gen, knobs_other_than_late_leave_the_applied_events_unchanged)
{
    cap_t clean = {0}, noisy = {0};
    rr_gen_opts_t o = opts(150000, 21);
    run(&o, &clean);
    o = opts(150000, 21);
    o.duplicate_rate = 0.03;
    o.disorder_rate = 0.1;
    o.invalid_rate = 0.02;
    o.garbage_rate = 0.01;
    run(&o, &noisy);

    /* Keep what SPEC §7 applies from the noisy stream. */
    spec7_t s;
    memset(&s, 0, sizeof s);
    rr_event_t *kept = malloc(noisy.n * sizeof *kept);
    cr_assert_not_null(kept);
    size_t nk = 0;
    for (size_t i = 0; i < noisy.n; i++)
        if (classify(&s, &noisy.r[i]) == C_APPLIED) kept[nk++] = noisy.r[i].ev;
    free(s.convs.s);
    free(s.ids.s);
    cr_assert_eq(nk, clean.n);
    rr_event_t *want = malloc(clean.n * sizeof *want);
    cr_assert_not_null(want);
    for (size_t i = 0; i < clean.n; i++)
        want[i] = clean.r[i].ev;
    qsort(kept, nk, sizeof *kept, cmp_ev);
    qsort(want, nk, sizeof *want, cmp_ev);
    for (size_t i = 0; i < nk; i++)
        cr_assert_eq(memcmp(&kept[i], &want[i], sizeof *want), 0,
                     "applied event %zu differs from the clean run", i);
    free(kept);
    free(want);
    cap_free(&clean);
    cap_free(&noisy);
}

/* ------------------------------------------- lifetime and jump knobs */

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * UINT64_C(0x100000001b3);
    return h;
}

static void set_old_knobs(rr_gen_opts_t *o)
{
    o->days = 2;
    o->duplicate_rate = 0.02;
    o->disorder_rate = 0.05;
    o->late_rate = 0.01;
    o->invalid_rate = 0.01;
    o->garbage_rate = 0.005;
}

Test(gen, knobs_off_write_the_bytes_they_always_wrote)
{
    /* Benches and tests depend on the generator's output: the stream of
     * these options, hashed as written before the lifetime and jump knobs
     * came, must not change, whatever those knobs' parameters are while
     * their rates and counts are 0. */
    cap_t c = {0};
    rr_gen_opts_t o = opts(30000, 5);
    set_old_knobs(&o);
    rr_gen_stats_t st = run(&o, &c);
    cr_assert_eq(c.nbytes, 1128010);
    cr_assert_eq(fnv1a(c.bytes, c.nbytes), UINT64_C(0xe7a26e1f3e15d4c5), "the stream changed");
    cr_assert(st.expect_exact);
    cap_free(&c);
    o = opts(30000, 5);
    set_old_knobs(&o);
    o.redeliver_max_delay_ms = 3 * DAY_MS;
    o.conversation_ttl_ms = 2 * 3600000;
    o.jump_at_hour = 7;
    run(&o, &c);
    cr_assert_eq(fnv1a(c.bytes, c.nbytes), UINT64_C(0xe7a26e1f3e15d4c5), "the stream changed");
    cap_free(&c);
}

/* Events by event id, then arrival: a record's first delivery comes first. */
static int cmp_id_then_arrival(const void *a, const void *b)
{
    const rec_t *x = a, *y = b;
    if (x->ev.event_id != y->ev.event_id) return x->ev.event_id < y->ev.event_id ? -1 : 1;
    return (x > y) - (x < y);
}

/* The records of c that first deliver a model event (id below 2^61), sorted by id. */
static rr_event_t *model_events(const cap_t *c, size_t *n)
{
    rec_t *r = malloc(c->n * sizeof *r);
    cr_assert_not_null(r);
    memcpy(r, c->r, c->n * sizeof *r);
    qsort(r, c->n, sizeof *r, cmp_id_then_arrival);
    rr_event_t *out = malloc(c->n * sizeof *out);
    cr_assert_not_null(out);
    size_t k = 0;
    for (size_t i = 0; i < c->n; i++)
        if (!r[i].raw && r[i].ev.event_id < UINT64_C(1) << 61 &&
            (i == 0 || r[i - 1].ev.event_id != r[i].ev.event_id))
            out[k++] = r[i].ev;
    free(r);
    *n = k;
    return out;
}

Test(gen, redeliveries_repeat_an_event_stamped_anew_20_min_to_max_delay_later)
{
    cap_t clean = {0}, c = {0};
    rr_gen_opts_t o = opts(150000, 17);
    run(&o, &clean);
    o.redeliver_rate = 0.01;
    o.redeliver_max_delay_ms = 5 * 3600000;
    rr_gen_stats_t st = run(&o, &c);
    cr_assert_gt(st.redelivered, 1000);
    cr_assert_eq(c.n, 150000 + st.redelivered);

    /* Each copy: the original's fields, a ts 20 min..5 h later, arriving in
     * time order (not late). */
    map_t first = {0}; /* event_id -> a: record index + 1 of its first delivery */
    uint64_t copies = 0, buyer_copies = 0;
    int64_t max_ts = INT64_MIN;
    for (size_t i = 0; i < c.n; i++) {
        const rr_event_t *e = &c.r[i].ev;
        int found;
        slot_t *s = map_get(&first, e->event_id, &found);
        if (e->ts_ms > max_ts) max_ts = e->ts_ms;
        if (!found) {
            s->a = i + 1;
            continue;
        }
        const rr_event_t *f = &c.r[s->a - 1].ev;
        rr_event_t same = *e;
        same.ts_ms = f->ts_ms;
        cr_assert_eq(memcmp(&same, f, sizeof same), 0, "copy %zu differs beyond its ts", i);
        int64_t d = e->ts_ms - f->ts_ms;
        cr_assert(d >= 20 * 60000 && d <= 5 * 3600000, "copy %zu is %lld ms after", i,
                  (long long)d);
        cr_assert_geq(e->ts_ms, max_ts - LATENESS, "copy %zu arrives late", i);
        copies++;
        buyer_copies += e->type == RR_EVENT_BUYER_MESSAGE;
    }
    cr_assert_eq(copies, st.redelivered);
    cr_assert_gt(buyer_copies, copies / 5, "%lu buyer messages of %lu copies",
                 (unsigned long)buyer_copies, (unsigned long)copies);

    /* Duplicates all (the conversation still lives: 5 h < conversation_ttl),
     * and the model is the clean run's. */
    cr_assert(st.expect_exact);
    cr_assert_eq(st.expect_duplicate, st.redelivered);
    spec7_t s7;
    spec7_run(&s7, &c);
    cr_assert_eq(s7.n[C_DUP], st.redelivered);
    cr_assert_eq(s7.n[C_APPLIED], 150000);
    size_t nm;
    rr_event_t *m = model_events(&c, &nm), *w = model_events(&clean, &nm);
    cr_assert_eq(nm, 150000);
    cr_assert_eq(memcmp(m, w, nm * sizeof *m), 0, "redeliveries changed the model");
    free(m);
    free(w);
    free(first.s);
    cap_free(&c);
    cap_free(&clean);
}

/* Local day end + H and ttl, as SPEC §3 Lifetime judges them (UTC+8). */
static int64_t over_point(int64_t last, int64_t ttl)
{
    const int64_t off = 8 * 3600000;
    int64_t end_h = ((last + off) / DAY_MS + 1) * DAY_MS - off + 3600000;
    return (end_h > last + ttl ? end_h : last + ttl) + LATENESS;
}

Test(gen, resumed_conversations_speak_again_around_the_end_of_their_life)
{
    cap_t clean = {0}, c = {0};
    rr_gen_opts_t o = opts(150000, 19);
    o.days = 2;
    run(&o, &clean);
    const int64_t ttl = 3 * 3600000;
    o.resume_rate = 0.1;
    o.conversation_ttl_ms = ttl;
    rr_gen_stats_t st = run(&o, &c);
    cr_assert_gt(st.resumed, 500);
    cr_assert_eq(c.n, 150000 + st.resumed_events + st.resumed_old_ids);
    cr_assert(!st.expect_exact);

    /* Per conversation: the last ts of its model events, then where its
     * resume starts relative to the moment it is over. */
    map_t convs = {0}; /* conversation_id -> a: last model ts, b: 1 once resumed */
    map_t ids = {0};
    uint64_t resumed = 0, resumed_events = 0, old_ids = 0, bucket[4] = {0};
    for (size_t i = 0; i < c.n; i++) {
        const rr_event_t *e = &c.r[i].ev;
        int found, again;
        slot_t *s = map_get(&convs, e->conversation_id, &found);
        map_get(&ids, e->event_id, &again);
        if (again) { /* an old event re-delivered as its conversation resumes */
            cr_assert_lt(e->event_id, UINT64_C(1) << 61);
            old_ids++;
            continue;
        }
        if (e->event_id < UINT64_C(1) << 61) {
            s->a = (uint64_t)e->ts_ms;
            continue;
        }
        resumed_events++;
        cr_assert(found, "a resume of a conversation never seen");
        if (s->b) continue;
        s->b = 1;
        resumed++;
        int64_t last = (int64_t)s->a, over = over_point(last, ttl);
        cr_assert_gt(e->ts_ms, last);
        if (e->ts_ms < last + ttl)
            bucket[0]++; /* while it lives */
        else if (e->ts_ms < over)
            bucket[1]++; /* just before it is over */
        else if (e->ts_ms <= over + 20 * 60000)
            bucket[2]++; /* just after */
        else
            bucket[3]++;
        cr_assert_leq(e->ts_ms, over + 12 * 3600000 + 2 * 60000);
    }
    cr_assert_eq(resumed, st.resumed);
    cr_assert_eq(resumed_events, st.resumed_events);
    cr_assert_eq(old_ids, st.resumed_old_ids);
    cr_assert_gt(old_ids, st.resumed / 3);
    for (int k = 0; k < 4; k++)
        cr_assert_gt(bucket[k], st.resumed / 10, "bucket %d: %lu of %lu", k,
                     (unsigned long)bucket[k], (unsigned long)st.resumed);

    /* The model events are the clean run's. */
    size_t nm, nw;
    rr_event_t *m = model_events(&c, &nm), *w = model_events(&clean, &nw);
    cr_assert_eq(nm, nw);
    cr_assert_eq(memcmp(m, w, nm * sizeof *m), 0, "resumes changed the model");
    free(m);
    free(w);
    free(convs.s);
    free(ids.s);
    cap_free(&c);
    cap_free(&clean);

    /* At rate 1 every model conversation resumes, once (slots are reused). */
    o = opts(50000, 19);
    o.resume_rate = 1;
    st = run(&o, &c);
    cr_assert_eq(st.resumed, st.conversations);
    cap_free(&c);
}

Test(gen, stale_events_come_first_and_make_the_rest_a_jump)
{
    cap_t c = {0};
    rr_gen_opts_t o = opts(800, 23);
    o.stale_events = 1;
    rr_gen_stats_t st = run(&o, &c);
    cr_assert_eq(st.stale, 1);
    cr_assert_eq(c.n, 801);
    const int64_t day0 = INT64_C(1795276800000);
    cr_assert_leq(c.r[0].ev.ts_ms, day0 - 2 * DAY_MS);
    cr_assert_eq(c.r[0].ev.type, RR_EVENT_BUYER_MESSAGE);
    cr_assert(!invalid_alone(&c.r[0].ev));
    /* Fewer than jump_confirm (1000) held: all invalid at the end. */
    cr_assert(st.expect_exact);
    cr_assert_eq(st.expect_applied, 1);
    cr_assert_eq(st.expect_invalid, 800);
    cap_free(&c);

    o = opts(20000, 23);
    o.stale_events = 3;
    st = run(&o, &c);
    cr_assert_eq(c.n, 20003);
    for (int i = 0; i < 3; i++)
        cr_assert_leq(c.r[i].ev.ts_ms, day0 - 2 * DAY_MS);
    cr_assert_neq(c.r[0].ev.conversation_id, c.r[1].ev.conversation_id);
    cr_assert(!st.expect_exact, "1000 jumps held: judged again, not emulated");
    cap_free(&c);
}

Test(gen, a_time_jump_moves_every_ts_from_its_hour_on_and_nothing_else)
{
    cap_t clean = {0}, c = {0};
    rr_gen_opts_t o = opts(100000, 29);
    o.days = 2;
    o.duplicate_rate = 0.02;
    o.invalid_rate = 0.01;
    run(&o, &clean);
    o.jump_days = 3;
    o.jump_at_hour = 30;
    rr_gen_stats_t st = run(&o, &c);
    cr_assert_eq(c.n, clean.n);
    const int64_t cut = INT64_C(1795276800000) + 30 * 3600000, shift = 3 * DAY_MS;
    uint64_t moved = 0;
    int64_t before = INT64_MIN, after = INT64_MAX;
    for (size_t i = 0; i < c.n; i++) {
        rr_event_t a = clean.r[i].ev, b = c.r[i].ev;
        /* Invalid copies (id 0 or from 2^62) may differ: their ts, and their
         * kind when it needs an applied conversation (held jumps are not). */
        if (!a.event_id || a.event_id >= UINT64_C(1) << 62) continue;
        cr_assert_eq(b.ts_ms, a.ts_ms >= cut ? a.ts_ms + shift : a.ts_ms, "record %zu", i);
        moved += a.ts_ms >= cut;
        if (b.ts_ms < cut && b.ts_ms > before) before = b.ts_ms;
        if (b.ts_ms >= cut && b.ts_ms < after) after = b.ts_ms;
        a.ts_ms = b.ts_ms;
        cr_assert_eq(memcmp(&a, &b, sizeof a), 0, "record %zu differs beyond its ts", i);
    }
    cr_assert_gt(moved, c.n / 4);
    cr_assert_geq(st.jumped, moved);
    cr_assert_gt(after - before, DAY_MS, "the gap is not more than max_future");
    cap_free(&c);
    cap_free(&clean);
}

/* o is refused with a message naming what. */
static void refused(rr_gen_opts_t o, const char *what)
{
    char err[256] = "";
    cr_assert_eq(rr_gen_opts_check(&o, err, sizeof err), -1, "accepted; expected: %s", what);
    cr_assert(strstr(err, what), "%s", err);
}

/* --top-shop-share: the biggest shop takes that share of the conversations
 * (a skewed day, issue 16's no-regression case), the others keep their
 * proportions; off, the zipf law alone (its biggest shop ~15% of them). */
static int cmp_pair(const void *a, const void *b)
{
    const uint64_t *x = a, *y = b;
    return x[0] < y[0] ? -1 : x[0] > y[0];
}

static double top_shop_share_of_conversations(double share)
{
    cap_t c = {0};
    rr_gen_opts_t o = opts(200000, 5);
    o.shops = 100;
    o.top_shop_share = share;
    run(&o, &c);
    /* (conversation, shop) of every event, sorted: one per conversation */
    uint64_t(*pair)[2] = calloc(c.n, sizeof *pair), shops[100] = {0};
    size_t count[100] = {0}, n_conv = 0, n_shops = 0, best = 0;
    cr_assert_not_null(pair);
    for (size_t i = 0; i < c.n; i++) {
        pair[i][0] = c.r[i].ev.conversation_id;
        pair[i][1] = c.r[i].ev.shop_id;
    }
    qsort(pair, c.n, sizeof *pair, cmp_pair);
    for (size_t i = 0; i < c.n; i++) {
        if (i && pair[i][0] == pair[i - 1][0]) continue;
        n_conv++;
        size_t k = 0;
        while (k < n_shops && shops[k] != pair[i][1])
            k++;
        cr_assert_lt(k, 100, "more than 100 shops");
        if (k == n_shops) shops[n_shops++] = pair[i][1];
        if (++count[k] > best) best = count[k];
    }
    free(pair);
    cap_free(&c);
    return (double)best / (double)n_conv;
}

Test(gen, top_shop_share_skews_the_day_to_one_shop)
{
    double zipf = top_shop_share_of_conversations(0), skewed = top_shop_share_of_conversations(0.3);
    cr_expect(zipf > 0.12 && zipf < 0.25, "zipf alone: the biggest shop has %.3f", zipf);
    cr_expect(skewed > 0.27 && skewed < 0.33, "asked 0.3, got %.3f", skewed);
    char err[256];
    rr_gen_opts_t o = opts(10, 1);
    o.top_shop_share = 0.96;
    cr_expect_eq(rr_gen_opts_check(&o, err, sizeof err), -1);
    cr_expect(strstr(err, "top shop share") != NULL, "%s", err);
}

/* --brief-share 1: every conversation is one question straight into the
 * human queue (TRANSFER_TO_MANUAL, a buyer message, at most one agent
 * message), nothing else, so a day holds about events / 3 conversations
 * (the state-heavy day of bench/peers.sh); 0.3 mixes them into the model. */
Test(gen, brief_conversations_are_one_question_and_at_most_one_answer)
{
    cap_t c = {0};
    rr_gen_opts_t o = opts(300000, 3);
    o.brief_share = 1;
    rr_gen_stats_t st = run(&o, &c);
    cr_assert_eq(c.n, 300000);
    cr_expect(st.conversations > 300000 / 3 && st.conversations < 300000 / 2.5,
              "%llu conversations", (unsigned long long)st.conversations);
    rr_event_t *ev = malloc(c.n * sizeof *ev);
    cr_assert_not_null(ev);
    for (size_t i = 0; i < c.n; i++)
        ev[i] = c.r[i].ev;
    qsort(ev, c.n, sizeof *ev, cmp_ev); /* by id: a conversation's, consecutive in ts order */
    size_t answered = 0, convs = 0;
    for (size_t i = 0; i < c.n;) {
        size_t j = i;
        while (j < c.n && ev[j].conversation_id == ev[i].conversation_id)
            j++;
        convs++;
        /* the run's last conversation may be cut after its first event */
        cr_assert(j - i <= 3, "conversation %llu has %zu events",
                  (unsigned long long)ev[i].conversation_id, j - i);
        cr_assert_eq(ev[i].type, RR_EVENT_TRANSFER_TO_MANUAL);
        if (j - i > 1) cr_assert_eq(ev[i + 1].type, RR_EVENT_BUYER_MESSAGE);
        if (j - i > 2) {
            cr_assert_eq(ev[i + 2].type, RR_EVENT_AGENT_MESSAGE);
            cr_assert_neq(ev[i + 2].agent_id, 0);
            cr_assert_gt(ev[i + 2].ts_ms, ev[i + 1].ts_ms);
            answered++;
        }
        i = j;
    }
    cr_expect_eq(convs, st.conversations);
    cr_expect(answered > convs / 2 && answered < convs * 95 / 100, "%zu of %zu answered", answered,
              convs);
    free(ev);
    cap_free(&c);

    /* mixed into the model: the default's longer conversations remain */
    o = opts(300000, 3);
    rr_gen_stats_t plain = run(&o, &c);
    cap_free(&c);
    o.brief_share = 0.3;
    st = run(&o, &c);
    cap_free(&c);
    cr_expect(st.conversations > plain.conversations * 115 / 100 &&
                  st.conversations < plain.conversations * 2,
              "%llu conversations, %llu without brief ones", (unsigned long long)st.conversations,
              (unsigned long long)plain.conversations);
}

Test(gen, rejects_bad_options_naming_them)
{
    char err[256];
    rr_gen_opts_t o = opts(10, 1);
    cr_assert_eq(rr_gen_opts_check(&o, err, sizeof err), 0);
    o.duplicate_rate = 0.7;
    o.disorder_rate = 0.7;
    refused(o, "add up");
    o = opts(10, 1);
    o.disorder_ms = 5001;
    refused(o, "disorder");
    o = opts(10, 1);
    o.garbage_rate = 0.1;
    refused(o, "garbage");
    o = opts(10, 1);
    o.start_day = 20261131;
    refused(o, "20261131");
    refused(opts(0, 1), "events");
    o = opts(10, 1);
    o.redeliver_rate = 0.5;
    o.duplicate_rate = 0.6;
    refused(o, "add up");
    o = opts(10, 1);
    o.redeliver_max_delay_ms = 60000;
    refused(o, "redeliver max delay");
    o = opts(10, 1);
    o.conversation_ttl_ms = 1800000;
    refused(o, "conversation ttl");
    o = opts(10, 1);
    o.jump_days = 1;
    refused(o, "jump days");
    o = opts(10, 1);
    o.jump_days = 2;
    o.jump_at_hour = 24;
    refused(o, "jump at hour");
    o = opts(10, 1);
    o.brief_share = 1.5;
    refused(o, "brief share");
    cap_t c = {0};
    o = opts(0, 1);
    cr_assert_eq(rr_gen_run(&o, cap_emit, &c, err, sizeof err), -1);
    cr_assert_eq(c.n, 0);
}

Test(gen, a_failing_writer_stops_the_run_with_an_error)
{
    cap_t c = {0};
    c.fail_after = 1000;
    rr_gen_opts_t o = opts(100000, 1);
    char err[256] = "";
    cr_assert_eq(rr_gen_run(&o, cap_emit, &c, err, sizeof err), -1);
    cr_assert_eq(c.n, 1000);
    cr_assert(strstr(err, "writer"), "%s", err);
    cap_free(&c);
}

/* ---------------------------------------------------------------- sink */

static char *tmp_path(const char *suffix)
{
    static char p[256];
    snprintf(p, sizeof p, "/tmp/rr_test_gen_%d%s", (int)getpid(), suffix);
    return p;
}

static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)len + 1);
    cr_assert_eq(fread(b, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return b;
}

/* Writes of every size, crossing the buffer boundary many times. */
static uint8_t *fill_sink(rr_filesink_t *s, size_t total)
{
    uint8_t *want = malloc(total);
    uint64_t x = 1;
    for (size_t i = 0; i < total; i++)
        want[i] = (uint8_t)(xs(&x) % 7); /* compressible */
    size_t pos = 0, step = 1;
    while (pos < total) {
        size_t n = step < total - pos ? step : total - pos;
        cr_assert_eq(rr_filesink_write(s, want + pos, n), 0);
        pos += n;
        step = step * 3 % 3000001 + 1;
    }
    return want;
}

Test(sink, plain_file_holds_exactly_what_was_written)
{
    char err[256];
    const char *p = tmp_path(".pb");
    rr_filesink_t *s;
    cr_assert_eq(rr_filesink_open(p, 0, &s, err, sizeof err), 0, "%s", err);
    size_t total = 3 * RR_FILESINK_BUF + 12345;
    uint8_t *want = fill_sink(s, total);
    cr_assert_eq(rr_filesink_bytes_in(s), total);
    cr_assert_eq(rr_filesink_close(s, err, sizeof err), 0, "%s", err);
    size_t n;
    uint8_t *got = slurp(p, &n);
    cr_assert_eq(n, total);
    cr_assert_eq(memcmp(got, want, n), 0);
    free(got);
    free(want);
    unlink(p);
}

static void check_zst(const char *p, int level, int workers)
{
    char err[256];
    rr_filesink_t *s;
    cr_assert_eq(rr_filesink_open(p, level, &s, err, sizeof err), 0, "%s", err);
    if (workers) cr_assert_eq(rr_filesink_set_workers(s, workers, err, sizeof err), 0, "%s", err);
    size_t total = 5 * RR_FILESINK_BUF + 777;
    uint8_t *want = fill_sink(s, total);
    cr_assert_eq(rr_filesink_close(s, err, sizeof err), 0, "%s", err);
    size_t n;
    uint8_t *z = slurp(p, &n);
    cr_assert_lt(n, total / 2, "not compressed: %zu bytes", n);
    cr_assert_eq(ZSTD_getFrameContentSize(z, n) == ZSTD_CONTENTSIZE_ERROR, 0);
    uint8_t *got = malloc(total + 1);
    size_t dn = ZSTD_decompress(got, total + 1, z, n);
    cr_assert(!ZSTD_isError(dn), "%s", ZSTD_getErrorName(dn));
    cr_assert_eq(dn, total);
    cr_assert_eq(memcmp(got, want, total), 0);
    free(got);
    free(z);
    free(want);
    unlink(p);
}

Test(sink, zst_extension_compresses_and_decompresses_to_the_input)
{
    check_zst(tmp_path(".pb.zst"), 0, 0);
}

Test(sink, explicit_level_and_workers_compress_too)
{
    check_zst(tmp_path(".bin"), 1, 2);
}

Test(sink, an_empty_zst_file_is_a_valid_empty_frame)
{
    char err[256];
    const char *p = tmp_path(".zst");
    rr_filesink_t *s;
    cr_assert_eq(rr_filesink_open(p, 0, &s, err, sizeof err), 0, "%s", err);
    cr_assert_eq(rr_filesink_close(s, err, sizeof err), 0, "%s", err);
    size_t n;
    uint8_t *z = slurp(p, &n);
    uint8_t out[1];
    size_t dn = ZSTD_decompress(out, sizeof out, z, n);
    cr_assert(!ZSTD_isError(dn), "%s", ZSTD_getErrorName(dn));
    cr_assert_eq(dn, 0);
    free(z);
    unlink(p);
}

Test(sink, open_failure_names_the_path)
{
    char err[256] = "";
    rr_filesink_t *s = (rr_filesink_t *)1;
    cr_assert_eq(rr_filesink_open("/nonexistent-dir/x.pb", 0, &s, err, sizeof err), -1);
    cr_assert_null(s);
    cr_assert(strstr(err, "/nonexistent-dir/x.pb"), "%s", err);
}

Test(sink, a_failed_write_is_sticky_and_reported_at_close)
{
    if (access("/dev/full", W_OK)) cr_skip_test("no /dev/full");
    char err[256] = "";
    rr_filesink_t *s;
    cr_assert_eq(rr_filesink_open("/dev/full", 0, &s, err, sizeof err), 0, "%s", err);
    uint8_t *buf = calloc(1, RR_FILESINK_BUF + 1);
    rr_filesink_write(s, buf, RR_FILESINK_BUF + 1); /* forces a write(2) */
    cr_assert_eq(rr_filesink_write(s, buf, 10), -1);
    cr_assert_eq(rr_filesink_close(s, err, sizeof err), -1);
    cr_assert(strstr(err, "/dev/full"), "%s", err);
    free(buf);
}
