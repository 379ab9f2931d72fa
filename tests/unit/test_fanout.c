/* Tests for pipeline/fanout: which destination each record reaches, the day
 * range and its lookback filter, "nothing final after a gap", and ports that
 * rename partitions. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <string.h>

#include "pipeline/fanout.h"

/* A destination that counts what reached it and keeps the last record's
 * final flag and partition. */
typedef struct dest {
    int days, violations, alerts, rejected;
    int last_final, last_partition;
    rr_verdict_t last_verdict;
} dest_t;

static void d_day(void *o, const rr_day_record_t *r)
{
    dest_t *d = o;
    d->days++;
    d->last_final = r->final;
}

static void d_violation(void *o, const rr_violation_record_t *r)
{
    dest_t *d = o;
    d->violations++;
    d->last_final = r->final;
}

static void d_alert(void *o, const rr_alert_record_t *r)
{
    dest_t *d = o;
    d->alerts++;
    d->last_final = r->final;
}

static void d_rejected(void *o, const rr_rejected_record_t *r)
{
    dest_t *d = o;
    d->rejected++;
    d->last_partition = r->partition;
    d->last_verdict = r->verdict;
}

static rr_sink_t sink_of(dest_t *d)
{
    return (rr_sink_t){.opaque = d,
                       .day = d_day,
                       .violation = d_violation,
                       .alert = d_alert,
                       .rejected = d_rejected};
}

static rr_day_record_t day_rec(int32_t ymd)
{
    return (rr_day_record_t){.shop_id = 7, .day = ymd, .final = 1};
}

static rr_rejected_record_t rejected(rr_verdict_t v, int partition, int64_t offset)
{
    return (rr_rejected_record_t){.verdict = v,
                                  .reason = v == RR_LATE ? "late" : "bad",
                                  .partition = partition,
                                  .offset = offset};
}

Test(fanout, results_reach_every_output_and_the_topics_rejects_their_own_file)
{
    dest_t a = {0}, b = {0}, late = {0}, dead = {0}, pub = {0};
    rr_fanout_t f;
    rr_fanout_init(&f);
    cr_assert_eq(rr_fanout_add_output(&f, sink_of(&a)), 0);
    cr_assert_eq(rr_fanout_add_output(&f, sink_of(&b)), 0);
    rr_fanout_set_late(&f, sink_of(&late));
    rr_fanout_set_dead(&f, sink_of(&dead));
    rr_fanout_set_publish(&f, sink_of(&pub));
    rr_sink_t s = rr_fanout_sink(&f);

    rr_day_record_t d = day_rec(20261122);
    rr_violation_record_t v = {.shop_id = 7, .day = 20261122, .final = 1};
    rr_alert_record_t al = {.shop_id = 7, .day = 20261122, .final = 1};
    s.day(s.opaque, &d);
    s.violation(s.opaque, &v);
    s.alert(s.opaque, &al);
    rr_rejected_record_t l = rejected(RR_LATE, 0, 5), i = rejected(RR_INVALID, 0, 6);
    s.rejected(s.opaque, &l);
    s.rejected(s.opaque, &i);

    dest_t *outs[] = {&a, &b};
    for (int k = 0; k < 2; k++) {
        cr_assert_eq(outs[k]->days, 1);
        cr_assert_eq(outs[k]->violations, 1);
        cr_assert_eq(outs[k]->alerts, 1);
        cr_assert_eq(outs[k]->rejected, 0, "result files get no rejected events");
    }
    cr_assert_eq(pub.days + pub.violations + pub.alerts, 3);
    cr_assert_eq(pub.rejected, 2, "the topics get late and invalid events both");
    cr_assert_eq(late.rejected, 1);
    cr_assert_eq(late.last_verdict, RR_LATE);
    cr_assert_eq(dead.rejected, 1);
    cr_assert_eq(dead.last_verdict, RR_INVALID);
    cr_assert_eq(late.days + dead.days, 0);
}

Test(fanout, at_most_max_outputs)
{
    dest_t d = {0};
    rr_fanout_t f;
    rr_fanout_init(&f);
    for (int k = 0; k < RR_FANOUT_MAX_OUTPUTS; k++)
        cr_assert_eq(rr_fanout_add_output(&f, sink_of(&d)), 0);
    cr_assert_eq(rr_fanout_add_output(&f, sink_of(&d)), -1);
}

Test(fanout, a_day_range_publishes_its_days_and_the_rejects_between_its_offsets)
{
    dest_t out = {0}, dead = {0};
    rr_fanout_t f;
    rr_fanout_init(&f);
    rr_fanout_add_output(&f, sink_of(&out));
    rr_fanout_set_dead(&f, sink_of(&dead));
    rr_range_bounds_t *bounds = NULL;
    rr_fanout_set_range(&f, 20261122, 20261123, &bounds);
    rr_sink_t s = rr_fanout_sink(&f);

    int32_t days[] = {20261121, 20261122, 20261123, 20261124};
    for (int k = 0; k < 4; k++) {
        rr_day_record_t d = day_rec(days[k]);
        s.day(s.opaque, &d);
    }
    cr_assert_eq(out.days, 2, "only the range's two days");

    /* before the Kafka run knows its first offsets, nothing is filtered */
    rr_rejected_record_t r = rejected(RR_INVALID, 1, 3);
    s.rejected(s.opaque, &r);
    cr_assert_eq(dead.rejected, 1);

    rr_range_bounds_t b[2] = {{100, 200}, {10, 20}};
    bounds = b;
    r = rejected(RR_INVALID, 1, 9); /* partition 1 before its first offset: the lookback */
    s.rejected(s.opaque, &r);
    cr_assert_eq(dead.rejected, 1);
    r = rejected(RR_INVALID, 1, 10);
    s.rejected(s.opaque, &r);
    cr_assert_eq(dead.rejected, 2);
    r = rejected(RR_INVALID, 0, 99);
    s.rejected(s.opaque, &r);
    cr_assert_eq(dead.rejected, 2);
    r = rejected(RR_INVALID, 1, 19); /* the range's last */
    s.rejected(s.opaque, &r);
    cr_assert_eq(dead.rejected, 3);
    r = rejected(RR_INVALID, 1, 20); /* the next range's first: published by it */
    s.rejected(s.opaque, &r);
    r = rejected(RR_INVALID, 0, 250);
    s.rejected(s.opaque, &r);
    cr_assert_eq(dead.rejected, 3);
}

Test(fanout, nothing_is_final_after_a_gap_and_the_engines_record_is_untouched)
{
    dest_t out = {0};
    rr_fanout_t f;
    rr_fanout_init(&f);
    rr_fanout_add_output(&f, sink_of(&out));
    rr_sink_t s = rr_fanout_sink(&f);

    rr_day_record_t d = day_rec(20261122);
    s.day(s.opaque, &d);
    cr_assert_eq(out.last_final, 1);
    rr_fanout_gap(&f);
    s.day(s.opaque, &d);
    cr_assert_eq(out.last_final, 0);
    cr_assert_eq(d.final, 1, "the fan-out clears a copy, not the engine's record");
    rr_violation_record_t v = {.day = 20261122, .final = 1};
    s.violation(s.opaque, &v);
    cr_assert_eq(out.last_final, 0);
    rr_alert_record_t al = {.day = 20261122, .final = 1};
    s.alert(s.opaque, &al);
    cr_assert_eq(out.last_final, 0);
}

Test(fanout, ports_rename_partitions_and_hold_the_lock)
{
    dest_t dead = {0};
    rr_fanout_t f;
    rr_fanout_init(&f);
    rr_fanout_set_dead(&f, sink_of(&dead));
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

    int global[] = {4, 2};
    rr_fanout_port_t shard = {.fan = &f, .mu = &mu, .global = global, .fixed = -1};
    rr_sink_t s = rr_fanout_port_sink(&shard);
    rr_rejected_record_t r = rejected(RR_INVALID, 1, 0);
    s.rejected(s.opaque, &r);
    cr_assert_eq(dead.last_partition, 2, "engine partition 1 is the run's global[1]");
    cr_assert_eq(r.partition, 1, "the engine's record is not changed");

    rr_fanout_port_t stream = {.fan = &f, .mu = NULL, .global = NULL, .fixed = 9};
    s = rr_fanout_port_sink(&stream);
    r = rejected(RR_INVALID, 0, 0);
    s.rejected(s.opaque, &r);
    cr_assert_eq(dead.last_partition, 9, "a stream's one-partition engine is its Kafka partition");

    rr_fanout_port_t plain = {.fan = &f, .mu = NULL, .global = NULL, .fixed = -1};
    s = rr_fanout_port_sink(&plain);
    cr_assert_eq(s.opaque, (void *)&f, "a port with nothing to do is the fan-out's own sink");

    /* the lock is released after every call */
    cr_assert_eq(pthread_mutex_trylock(&mu), 0);
    pthread_mutex_unlock(&mu);
}
