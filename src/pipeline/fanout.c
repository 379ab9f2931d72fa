/* pipeline/fanout.c: a run's records to every destination (see fanout.h). */
#include "pipeline/fanout.h"

void rr_fanout_init(rr_fanout_t *f)
{
    *f = (rr_fanout_t){0};
    atomic_init(&f->gap_seen, 0);
}

int rr_fanout_add_output(rr_fanout_t *f, rr_sink_t s)
{
    if (f->n_out == RR_FANOUT_MAX_OUTPUTS) return -1;
    f->out[f->n_out++] = s;
    return 0;
}

void rr_fanout_set_late(rr_fanout_t *f, rr_sink_t s)
{
    f->late = s;
    f->has_late = 1;
}

void rr_fanout_set_dead(rr_fanout_t *f, rr_sink_t s)
{
    f->dead = s;
    f->has_dead = 1;
}

void rr_fanout_set_publish(rr_fanout_t *f, rr_sink_t s)
{
    f->pub = s;
    f->has_pub = 1;
}

void rr_fanout_set_range(rr_fanout_t *f, int32_t from_ymd, int32_t to_ymd,
                         rr_range_bounds_t *const *range_bounds)
{
    f->from_ymd = from_ymd;
    f->to_ymd = to_ymd;
    f->range_bounds = range_bounds;
}

void rr_fanout_gap(rr_fanout_t *f)
{
    atomic_store(&f->gap_seen, 1);
}

void rr_fanout_gap_reset(rr_fanout_t *f)
{
    atomic_store(&f->gap_seen, 0);
}

/* r, or a copy of it with final cleared when input is known missing (used
 * as a statement: it declares the copy). */
#define NOT_FINAL_AFTER_GAP(f, r, T)                                                               \
    T r##_copy;                                                                                    \
    if (r->final && atomic_load_explicit(&(f)->gap_seen, memory_order_relaxed)) {                  \
        r##_copy = *r;                                                                             \
        r##_copy.final = 0;                                                                        \
        r = &r##_copy;                                                                             \
    }

static int day_out(const rr_fanout_t *f, int32_t ymd)
{
    return f->from_ymd && (ymd < f->from_ymd || ymd > f->to_ymd);
}

static void fan_day(void *o, const rr_day_record_t *rec)
{
    rr_fanout_t *f = o;
    if (day_out(f, rec->day)) return;
    NOT_FINAL_AFTER_GAP(f, rec, rr_day_record_t);
    for (int i = 0; i < f->n_out; i++)
        f->out[i].day(f->out[i].opaque, rec);
    if (f->has_pub) f->pub.day(f->pub.opaque, rec);
}

static void fan_violation(void *o, const rr_violation_record_t *rec)
{
    rr_fanout_t *f = o;
    if (day_out(f, rec->day)) return;
    NOT_FINAL_AFTER_GAP(f, rec, rr_violation_record_t);
    for (int i = 0; i < f->n_out; i++)
        f->out[i].violation(f->out[i].opaque, rec);
    if (f->has_pub) f->pub.violation(f->pub.opaque, rec);
}

static void fan_alert(void *o, const rr_alert_record_t *rec)
{
    rr_fanout_t *f = o;
    if (day_out(f, rec->day)) return;
    NOT_FINAL_AFTER_GAP(f, rec, rr_alert_record_t);
    for (int i = 0; i < f->n_out; i++)
        f->out[i].alert(f->out[i].opaque, rec);
    if (f->has_pub) f->pub.alert(f->pub.opaque, rec);
}

static void fan_rejected(void *o, const rr_rejected_record_t *r)
{
    rr_fanout_t *f = o;
    const rr_range_bounds_t *b = f->from_ymd && f->range_bounds ? *f->range_bounds : NULL;
    if (b && (r->offset < b[r->partition].first || r->offset >= b[r->partition].next))
        return; /* arrived in the lookback or after the range: another range's */
    if (r->verdict == RR_LATE && f->has_late)
        f->late.rejected(f->late.opaque, r);
    else if (r->verdict == RR_INVALID && f->has_dead)
        f->dead.rejected(f->dead.opaque, r);
    if (f->has_pub) f->pub.rejected(f->pub.opaque, r);
}

rr_sink_t rr_fanout_sink(rr_fanout_t *f)
{
    return (rr_sink_t){.opaque = f,
                       .day = fan_day,
                       .violation = fan_violation,
                       .alert = fan_alert,
                       .rejected = fan_rejected};
}

/* ---- ports: one engine's records, its partitions renamed, under a lock ---- */

static void port_lock(const rr_fanout_port_t *p)
{
    if (p->mu) pthread_mutex_lock(p->mu);
}

static void port_unlock(const rr_fanout_port_t *p)
{
    if (p->mu) pthread_mutex_unlock(p->mu);
}

static void port_day(void *opaque, const rr_day_record_t *r)
{
    rr_fanout_port_t *p = opaque;
    port_lock(p);
    fan_day(p->fan, r);
    port_unlock(p);
}

static void port_violation(void *opaque, const rr_violation_record_t *r)
{
    rr_fanout_port_t *p = opaque;
    port_lock(p);
    fan_violation(p->fan, r);
    port_unlock(p);
}

static void port_alert(void *opaque, const rr_alert_record_t *r)
{
    rr_fanout_port_t *p = opaque;
    port_lock(p);
    fan_alert(p->fan, r);
    port_unlock(p);
}

static void port_rejected(void *opaque, const rr_rejected_record_t *r)
{
    rr_fanout_port_t *p = opaque;
    rr_rejected_record_t g = *r;
    if (p->global)
        g.partition = p->global[r->partition];
    else if (p->fixed >= 0)
        g.partition = p->fixed;
    port_lock(p);
    fan_rejected(p->fan, &g);
    port_unlock(p);
}

rr_sink_t rr_fanout_port_sink(rr_fanout_port_t *p)
{
    if (!p->mu && !p->global && p->fixed < 0) return rr_fanout_sink(p->fan);
    return (rr_sink_t){.opaque = p,
                       .day = port_day,
                       .violation = port_violation,
                       .alert = port_alert,
                       .rejected = port_rejected};
}
