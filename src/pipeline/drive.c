/* pipeline/drive.c: one engine or several shards over input files (see drive.h). */
#include "pipeline/drive.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "io/feed.h"
#include "io/readahead.h"
#include "ops/log.h"
#include "ops/progress.h"
#include "pipeline/shards.h"
#include "pipeline/watch.h"

#define BATCH 4096

typedef struct shared shared_t;

typedef struct shard {
    shared_t *sh;
    rr_engine_t *eng;
    int *inputs; /* the run's input indexes: engine partition k is inputs[k] */
    int n;
    rr_fanout_port_t port;
    rr_shard_progress_t *prog;
    rr_watch_t watch;
    /* where its batches come from: a reader thread (the only shard, on the
     * calling thread), or its own files read in turn on its own thread */
    rr_readahead_t *ra;
    rr_source_mux_t mux;
    rr_source_t **mine;
    rr_record_t *recs;
    int failed;    /* err holds why */
    char err[512]; /* written by the shard's thread, read after the join */
    pthread_t thread;
} shard_t;

struct shared {
    rr_drive_t *d;
    pthread_mutex_t sink_mu;
    atomic_int stop; /* some shard failed: the others stop early */
    double t0;
    rr_progress_t meter; /* the calling thread's: of the input files' bytes */
};

static int stopping(const shard_t *s)
{
    const rr_drive_t *d = s->sh->d;
    return atomic_load(&s->sh->stop) || (d->stop && *d->stop);
}

/* The shard's next item, in the order of rr_readahead (io/readahead.h)
 * whichever way it reads. */
static void next_item(shard_t *s, rr_readahead_item_t *it)
{
    if (s->ra) {
        rr_readahead_next(s->ra, it);
        return;
    }
    size_t n = 0;
    int k = 0;
    int step = rr_source_mux_next(&s->mux, s->recs, BATCH, &k, &n);
    *it = (rr_readahead_item_t){.which = k, .recs = s->recs, .n = n};
    for (int j = 0; j < s->n; j++) /* its own files: this thread reads them */
        it->bytes_done += rr_source_bytes_done(s->mine[j]);
    switch (step) {
    case RR_SOURCE_MUX_BATCH:
        it->kind = RR_READAHEAD_BATCH;
        break;
    case RR_SOURCE_MUX_ENDED:
        it->kind = RR_READAHEAD_END;
        break;
    case RR_SOURCE_MUX_ERROR:
        it->kind = RR_READAHEAD_ERROR;
        it->error = rr_source_error(s->mine[k]);
        break;
    default:
        it->kind = RR_READAHEAD_DONE;
        break;
    }
}

/* The driver loop: a shard's files, batch by batch, into its engine. */
static void shard_loop(shard_t *s, int on_caller)
{
    rr_drive_t *d = s->sh->d;
    int64_t now = d->now_ms;
    int ended = 0;
    while (!stopping(s)) {
        rr_readahead_item_t it;
        next_item(s, &it);
        if (it.kind == RR_READAHEAD_DONE) {
            ended = 1;
            break;
        }
        if (it.kind == RR_READAHEAD_ERROR) {
            snprintf(s->err, sizeof s->err, "%s", it.error);
            s->failed = 1;
            atomic_store(&s->sh->stop, 1);
            break;
        }
        if (it.kind == RR_READAHEAD_END) {
            /* the source is done (a reader has moved on): its gaps are known
             * before the partition stops holding days back, so a day final
             * from here on may lack what was unread */
            if (rr_source_gaps(d->src[s->inputs[it.which]]).unread_bytes) rr_fanout_gap(d->fan);
            rr_engine_partition_end(s->eng, it.which);
            continue;
        }
        if (!d->have_now) now = rr_now_ms();
        rr_feed_records(s->eng, it.which, it.recs, it.n, now, NULL);
        rr_watch_engine(&s->watch, s->eng, NULL, 0);
        if (!on_caller) {
            rr_shard_progress_note(s->prog, s->eng, it.bytes_done);
        } else if (rr_progress_due(&s->sh->meter)) {
            rr_stats_t st;
            rr_engine_stats(s->eng, &st);
            rr_progress_update(&s->sh->meter, st.input, it.bytes_done, st.open_conversations,
                               st.open_days);
        }
    }
    if (ended && !stopping(s)) /* every open day final: only for a shard that read everything */
        rr_engine_finish(s->eng);
    rr_watch_engine(&s->watch, s->eng, NULL, 1);
}

static void *shard_main(void *arg)
{
    shard_t *s = arg;
    shard_loop(s, 0);
    atomic_store(&s->prog->done, 1);
    return NULL;
}

/* Make shard k's engine and its reading. 0, 1 or 2 (as rr_drive_files). */
static int shard_open(shard_t *s, int one)
{
    rr_drive_t *d = s->sh->d;
    char err[512];
    rr_sink_t sink = rr_fanout_port_sink(&s->port);
    if (rr_engine_new(d->cfg, d->tz, &sink, &s->eng, err, sizeof err) < 0) {
        rr_log_first_error(d->errstr, d->errstr_size, "run", "config: %s", err);
        return 2;
    }
    for (int j = 0; j < s->n; j++)
        if (rr_engine_add_partition(s->eng, d->names[s->inputs[j]]) != j) {
            rr_log_first_error(d->errstr, d->errstr_size, "run", "out of memory");
            return 1;
        }
    s->mine = malloc((size_t)s->n * sizeof *s->mine);
    if (!s->mine) {
        rr_log_first_error(d->errstr, d->errstr_size, "run", "out of memory");
        return 1;
    }
    for (int j = 0; j < s->n; j++)
        s->mine[j] = d->src[s->inputs[j]];
    if (one) {
        if (rr_readahead_start(s->mine, s->n, BATCH, &s->ra, err, sizeof err) < 0) {
            rr_log_first_error(d->errstr, d->errstr_size, "run", "%s", err);
            return 1;
        }
        return 0;
    }
    s->recs = malloc(BATCH * sizeof *s->recs);
    if (!s->recs || rr_source_mux_init(&s->mux, s->mine, s->n) < 0) {
        rr_log_first_error(d->errstr, d->errstr_size, "run", "out of memory");
        return 1;
    }
    return 0;
}

int rr_drive_files(rr_drive_t *d, char *errstr, size_t errstr_size)
{
    errstr[0] = 0;
    d->errstr = errstr;
    d->errstr_size = errstr_size;
    int n = d->n_shards < 1 ? 1 : d->n_shards > d->n_in ? d->n_in : d->n_shards;
    shared_t sh = {.d = d};
    pthread_mutex_init(&sh.sink_mu, NULL);
    shard_t *shards = calloc((size_t)n, sizeof *shards);
    int *inputs = malloc((size_t)d->n_in * sizeof *inputs);
    rr_shard_progress_t *prog = calloc((size_t)n, sizeof *prog);
    int status = 0, started = 0;
    d->seconds = 0;
    memset(&d->stats, 0, sizeof d->stats);
    if (!shards || !inputs || !prog) {
        rr_log_first_error(d->errstr, d->errstr_size, "run", "out of memory");
        status = 1;
        goto out;
    }
    /* shard k takes inputs k, k + n, k + 2n, ...: a contiguous slice of `inputs` */
    for (int k = 0, at = 0; k < n; k++) {
        shard_t *s = &shards[k];
        s->sh = &sh;
        s->prog = &prog[k];
        s->inputs = inputs + at;
        for (int i = k; i < d->n_in; i += n)
            inputs[at + s->n++] = i;
        at += s->n;
        /* one shard: its engine partitions are the inputs, nothing to lock */
        s->port = (rr_fanout_port_t){.fan = d->fan,
                                     .mu = n > 1 ? &sh.sink_mu : NULL,
                                     .global = n > 1 ? s->inputs : NULL,
                                     .fixed = -1};
        if ((status = shard_open(s, n == 1)) != 0) goto out;
    }
    sh.t0 = rr_mono_s();
    rr_tm_ready(1, NULL);
    uint64_t size = 0; /* the input's, when every file has one */
    for (int i = 0; i < d->n_in && (i == 0 || size); i++)
        size = rr_source_size(d->src[i]) ? size + rr_source_size(d->src[i]) : 0;
    rr_progress_init(&sh.meter, d->quiet, 1, size, "bytes");
    if (n == 1) {
        shard_loop(&shards[0], 1);
    } else {
        /* small stacks: the engine does not recurse; keep the address space for it */
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 1 << 20);
        for (; started < n; started++)
            if (pthread_create(&shards[started].thread, &attr, shard_main, &shards[started]) != 0) {
                rr_log_first_error(d->errstr, d->errstr_size, "run", "cannot start a shard thread");
                atomic_store(&sh.stop, 1);
                status = 1;
                break;
            }
        pthread_attr_destroy(&attr);
        /* wait, with progress lines like the single engine's */
        while (rr_shard_progress_poll(prog, started, &sh.meter) < started) {
            struct timespec ts = {0, 20 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        for (int k = 0; k < started; k++)
            pthread_join(shards[k].thread, NULL);
    }
    rr_readahead_stop(shards[0].ra); /* before anyone touches the sources again */
    shards[0].ra = NULL;
    d->seconds = rr_mono_s() - sh.t0;
    rr_tm_ready(0, "finished reading");
    rr_progress_finish(&sh.meter);

    for (int k = 0; k < n; k++) {
        shard_t *s = &shards[k];
        if (s->failed) {
            rr_log_first_error(d->errstr, d->errstr_size, "run", "%s", s->err);
            status = 1;
        }
        if (rr_engine_error(s->eng)) {
            rr_log_first_error(d->errstr, d->errstr_size, "run", "%s", rr_engine_error(s->eng));
            status = 1;
        }
    }
    if (n == 1) {
        rr_engine_stats(shards[0].eng, &d->stats);
    } else {
        rr_shard_total_t total;
        rr_shard_total_init(&total);
        for (int k = 0; k < n; k++)
            rr_shard_total_add(&total, shards[k].eng);
        if (rr_shard_total_done(&total, &d->stats) < 0) {
            rr_log_first_error(d->errstr, d->errstr_size, "run",
                               "out of memory counting shops across shards");
            status = 1;
        }
    }
out:
    for (int k = 0; shards && k < n; k++) {
        rr_readahead_stop(shards[k].ra);
        rr_source_mux_free(&shards[k].mux);
        free(shards[k].mine);
        free(shards[k].recs);
        rr_engine_free(shards[k].eng);
    }
    free(shards);
    free(inputs);
    free(prog);
    pthread_mutex_destroy(&sh.sink_mu);
    return status;
}
