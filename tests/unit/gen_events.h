/* tests/unit/gen_events.h: generated traffic held in memory, for the suites
 * that replay one stream several ways (test_checkpoint.c,
 * test_provisional.c). Three days, every delivery knob (duplicates,
 * disorder, late and invalid events). Static: include from one file per
 * test binary. */
#ifndef RR_TESTS_GEN_EVENTS_H
#define RR_TESTS_GEN_EVENTS_H

#include <criterion/criterion.h>
#include <stdlib.h>

#include "gen/gen.h"

typedef struct events {
    rr_event_t *v;
    size_t n, cap;
} events_t;

static int collect(void *opaque, const rr_event_t *ev)
{
    events_t *e = opaque;
    if (e->n == e->cap) {
        e->cap = e->cap ? 2 * e->cap : 4096;
        e->v = realloc(e->v, e->cap * sizeof *e->v);
        cr_assert_not_null(e->v);
    }
    e->v[e->n++] = *ev;
    return 0;
}

/* shops 0: the generator's default (events / 2000 per day). lifetime: also
 * re-deliveries hours later, resumed conversations, stale events and a
 * jump of two days on the second day (SPEC §3 Lifetime, §7 jumps). */
static events_t generate_knobs(uint64_t events, uint64_t seed, uint32_t shops, int lifetime)
{
    rr_gen_opts_t o;
    rr_gen_opts_default(&o);
    if (lifetime) {
        o.redeliver_rate = 0.01;
        o.resume_rate = 0.05;
        o.stale_events = 2;
        o.jump_days = 2;
        o.jump_at_hour = 30;
    }
    o.events = events;
    o.seed = seed;
    o.days = 3;
    o.shops = shops;
    o.duplicate_rate = 0.03;
    o.disorder_rate = 0.05;
    o.late_rate = 0.01;
    o.invalid_rate = 0.01;
    events_t ev = {0};
    char err[256];
    cr_assert_eq(rr_gen_run(&o, collect, &ev, err, sizeof err), 0, "%s", err);
    return ev;
}

static events_t generate_shops(uint64_t events, uint64_t seed, uint32_t shops)
{
    return generate_knobs(events, seed, shops, 0);
}

#endif
