#include "pipeline/kafka_live.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

struct rr_kafka_live {
    int np;
    _Atomic int64_t *read; /* np: each partition's next offset to feed (the run's) */
    int64_t *end;          /* np: the writer's ends, published by state (release) */
    atomic_int state;      /* rr_kafka_live_state_t */
    atomic_int over;       /* the run returned */
};

rr_kafka_live_t *rr_kafka_live_new(int np)
{
    rr_kafka_live_t *l = calloc(1, sizeof *l);
    if (!l) return NULL;
    l->np = np;
    l->read = calloc((size_t)np, sizeof *l->read);
    l->end = calloc((size_t)np, sizeof *l->end);
    if (!l->read || !l->end) {
        rr_kafka_live_free(l);
        return NULL;
    }
    for (int p = 0; p < np; p++)
        atomic_init(&l->read[p], 0);
    atomic_init(&l->state, RR_KAFKA_LIVE_WRITING);
    atomic_init(&l->over, 0);
    return l;
}

void rr_kafka_live_free(rr_kafka_live_t *l)
{
    if (!l) return;
    free(l->read);
    free(l->end);
    free(l);
}

int rr_kafka_live_partitions(const rr_kafka_live_t *l)
{
    return l->np;
}

/* The run feeds a batch of up to a few thousand records at a time, a
 * millisecond or so of work: polling as often costs nothing worth a
 * condition variable in the run's loop. */
static void nap(void)
{
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
}

int rr_kafka_live_pace(rr_kafka_live_t *l, int32_t p, int64_t written, int64_t ahead)
{
    if (atomic_load_explicit(&l->over, memory_order_relaxed)) return -1;
    if (written - atomic_load_explicit(&l->read[p], memory_order_relaxed) <= ahead) return 0;
    while (written - atomic_load_explicit(&l->read[p], memory_order_relaxed) > ahead / 2) {
        if (atomic_load_explicit(&l->over, memory_order_relaxed)) return -1;
        nap();
    }
    return 0;
}

void rr_kafka_live_end(rr_kafka_live_t *l, const int64_t *ends)
{
    for (int p = 0; p < l->np; p++)
        l->end[p] = ends[p];
    atomic_store_explicit(&l->state, RR_KAFKA_LIVE_ENDED, memory_order_release);
}

void rr_kafka_live_fail(rr_kafka_live_t *l)
{
    atomic_store_explicit(&l->state, RR_KAFKA_LIVE_FAILED, memory_order_release);
}

int rr_kafka_live_is_over(const rr_kafka_live_t *l)
{
    return atomic_load_explicit(&l->over, memory_order_relaxed);
}

void rr_kafka_live_read(rr_kafka_live_t *l, int32_t p, int64_t next)
{
    atomic_store_explicit(&l->read[p], next, memory_order_relaxed);
}

rr_kafka_live_state_t rr_kafka_live_state(const rr_kafka_live_t *l)
{
    return (rr_kafka_live_state_t)atomic_load_explicit(&l->state, memory_order_acquire);
}

int64_t rr_kafka_live_end_of(const rr_kafka_live_t *l, int32_t p)
{
    return l->end[p];
}

void rr_kafka_live_over(rr_kafka_live_t *l)
{
    atomic_store_explicit(&l->over, 1, memory_order_relaxed);
}
