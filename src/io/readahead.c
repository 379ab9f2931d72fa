#include "io/readahead.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One buffered item. The reader owns slots[tail % DEPTH] while it fills it;
 * the consumer owns slots[head % DEPTH] from rr_readahead_next() until its
 * next call. Ownership passes under the mutex. */
typedef struct slot {
    rr_readahead_kind_t kind;
    int which;
    rr_record_t *recs; /* max entries */
    size_t n;
    uint64_t bytes_done;
    uint8_t *data; /* the records' bytes, back to back */
    size_t data_cap;
    char error[512];
} slot_t;

struct rr_readahead {
    rr_source_t **src;
    int n_src;
    size_t max;
    rr_record_t *tmp;    /* the reader's batch, pointing into a source's window */
    uint64_t *seen;      /* the reader's: each source's bytes done, as last counted */
    uint64_t bytes_done; /* the reader's: their sum */
    slot_t slots[RR_READAHEAD_DEPTH];
    size_t head, tail; /* items taken by / produced for the consumer */
    int holding;       /* the consumer holds slots[head % DEPTH] */
    int stop;
    int terminal; /* the consumer has seen DONE or ERROR */
    rr_readahead_item_t last;
    char last_error[512];
    pthread_mutex_t mu;
    pthread_cond_t can_fill, can_take;
    pthread_t thread;
    int started;
};

/* The reader's next slot to fill, once the consumer has room; NULL when stopped. */
static slot_t *wait_free(rr_readahead_t *r)
{
    pthread_mutex_lock(&r->mu);
    while (!r->stop && r->tail - r->head >= RR_READAHEAD_DEPTH)
        pthread_cond_wait(&r->can_fill, &r->mu);
    slot_t *s = r->stop ? NULL : &r->slots[r->tail % RR_READAHEAD_DEPTH];
    pthread_mutex_unlock(&r->mu);
    return s;
}

static void publish(rr_readahead_t *r)
{
    pthread_mutex_lock(&r->mu);
    r->tail++;
    pthread_cond_signal(&r->can_take);
    pthread_mutex_unlock(&r->mu);
}

/* Copy the reader's batch into s: one span of the source's window, which
 * holds every record of a batch (rr_source_next_batch does not refill
 * within one), length prefixes included. 0, or -1 when out of memory. */
static int copy_batch(rr_readahead_t *r, slot_t *s, size_t n)
{
    const uint8_t *lo = r->tmp[0].data, *hi = r->tmp[0].data + r->tmp[0].len;
    for (size_t k = 1; k < n; k++) {
        if (r->tmp[k].data < lo) lo = r->tmp[k].data;
        if (r->tmp[k].data + r->tmp[k].len > hi) hi = r->tmp[k].data + r->tmp[k].len;
    }
    size_t bytes = (size_t)(hi - lo);
    if (bytes > s->data_cap) {
        size_t cap = s->data_cap ? s->data_cap : 1 << 20;
        while (cap < bytes)
            cap *= 2;
        uint8_t *d = realloc(s->data, cap);
        if (!d) return -1;
        s->data = d;
        s->data_cap = cap;
    }
    if (bytes) memcpy(s->data, lo, bytes);
    for (size_t k = 0; k < n; k++) {
        s->recs[k] = r->tmp[k];
        s->recs[k].data = s->data + (r->tmp[k].data - lo);
    }
    s->n = n;
    return 0;
}

static void *reader_main(void *arg)
{
    rr_readahead_t *r = arg;
    rr_source_mux_t rr;
    int ok = rr_source_mux_init(&rr, r->src, r->n_src) == 0;
    for (;;) {
        slot_t *s = wait_free(r);
        if (!s) break;
        int which = 0;
        size_t n = 0;
        int step = ok ? rr_source_mux_next(&rr, r->tmp, r->max, &which, &n) : RR_SOURCE_MUX_ERROR;
        s->which = step == RR_SOURCE_MUX_DONE ? -1 : which;
        if (ok && step != RR_SOURCE_MUX_DONE) { /* the source's count moved by this step only */
            uint64_t now = rr_source_bytes_done(r->src[which]);
            r->bytes_done += now - r->seen[which];
            r->seen[which] = now;
        }
        s->bytes_done = r->bytes_done;
        if (step == RR_SOURCE_MUX_ERROR ||
            (step == RR_SOURCE_MUX_BATCH && copy_batch(r, s, n) < 0)) {
            s->kind = RR_READAHEAD_ERROR;
            snprintf(s->error, sizeof s->error, "%s",
                     step == RR_SOURCE_MUX_ERROR && ok ? rr_source_error(r->src[which])
                                                       : "reading input: out of memory");
        } else {
            s->kind = step == RR_SOURCE_MUX_BATCH   ? RR_READAHEAD_BATCH
                      : step == RR_SOURCE_MUX_ENDED ? RR_READAHEAD_END
                                                    : RR_READAHEAD_DONE;
        }
        publish(r);
        if (s->kind == RR_READAHEAD_ERROR || s->kind == RR_READAHEAD_DONE) break;
    }
    rr_source_mux_free(&rr);
    return NULL;
}

void rr_readahead_stop(rr_readahead_t *r)
{
    if (!r) return;
    if (r->started) {
        pthread_mutex_lock(&r->mu);
        r->stop = 1;
        pthread_cond_broadcast(&r->can_fill);
        pthread_mutex_unlock(&r->mu);
        pthread_join(r->thread, NULL);
    }
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->can_fill);
    pthread_cond_destroy(&r->can_take);
    for (int i = 0; i < RR_READAHEAD_DEPTH; i++) {
        free(r->slots[i].recs);
        free(r->slots[i].data);
    }
    free(r->tmp);
    free(r->seen);
    free(r->src);
    free(r);
}

int rr_readahead_start(rr_source_t *const *src, int n_src, size_t max, rr_readahead_t **out,
                       char *errstr, size_t errstr_size)
{
    *out = NULL;
    rr_readahead_t *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(errstr, errstr_size, "reading input: out of memory");
        return -1;
    }
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->can_fill, NULL);
    pthread_cond_init(&r->can_take, NULL);
    r->n_src = n_src;
    r->max = max ? max : 1;
    r->src = malloc((size_t)(n_src > 0 ? n_src : 1) * sizeof *r->src);
    r->tmp = malloc(r->max * sizeof *r->tmp);
    r->seen = calloc((size_t)(n_src > 0 ? n_src : 1), sizeof *r->seen);
    int ok = r->src && r->tmp && r->seen;
    for (int i = 0; ok && i < RR_READAHEAD_DEPTH; i++)
        ok = (r->slots[i].recs = malloc(r->max * sizeof(rr_record_t))) != NULL;
    if (!ok) {
        rr_readahead_stop(r);
        snprintf(errstr, errstr_size, "reading input: out of memory");
        return -1;
    }
    for (int i = 0; i < n_src; i++)
        r->src[i] = src[i];
    /* the reader needs little stack; keep the address space for the engine */
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    int rc = pthread_create(&r->thread, &attr, reader_main, r);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        rr_readahead_stop(r);
        snprintf(errstr, errstr_size, "reading input: cannot start the reader thread: %s",
                 strerror(rc));
        return -1;
    }
    r->started = 1;
    *out = r;
    return 0;
}

void rr_readahead_next(rr_readahead_t *r, rr_readahead_item_t *item)
{
    if (r->terminal) {
        *item = r->last;
        return;
    }
    pthread_mutex_lock(&r->mu);
    if (r->holding) { /* hand the previous batch's slot back */
        r->head++;
        r->holding = 0;
        pthread_cond_signal(&r->can_fill);
    }
    while (r->head == r->tail)
        pthread_cond_wait(&r->can_take, &r->mu);
    r->holding = 1;
    pthread_mutex_unlock(&r->mu);

    const slot_t *s = &r->slots[r->head % RR_READAHEAD_DEPTH];
    item->kind = s->kind;
    item->which = s->which;
    item->recs = s->kind == RR_READAHEAD_BATCH ? s->recs : NULL;
    item->n = s->kind == RR_READAHEAD_BATCH ? s->n : 0;
    item->error = NULL;
    item->bytes_done = s->bytes_done;
    if (s->kind == RR_READAHEAD_ERROR || s->kind == RR_READAHEAD_DONE) {
        snprintf(r->last_error, sizeof r->last_error, "%s",
                 s->kind == RR_READAHEAD_ERROR ? s->error : "");
        item->error = s->kind == RR_READAHEAD_ERROR ? r->last_error : NULL;
        r->last = *item;
        r->terminal = 1;
    }
}
