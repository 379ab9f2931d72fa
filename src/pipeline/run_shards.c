#include "pipeline/run_shards.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "ops/progress.h"
#include "pipeline/shards.h"
#include "io/feed.h"

#define BATCH 4096

typedef struct shared shared_t;

typedef struct shard {
    shared_t *sh;
    rr_engine_t *eng;
    int *inputs; /* global input indexes, local partition k is inputs[k] */
    int n;
    rr_shard_out_t out;
    int failed; /* an input of this shard failed: its message is on stderr */
    rr_shard_progress_t *prog;
    pthread_t thread;
} shard_t;

struct shared {
    rr_shard_run_t *run;
    pthread_mutex_t sink_mu;
    atomic_int stop; /* some shard failed: the others stop early */
};

/* ---- a shard's thread: the single-engine loop over its own inputs ------- */

static void *shard_main(void *arg)
{
    shard_t *s = arg;
    rr_shard_run_t *run = s->sh->run;
    rr_record_t *recs = malloc(BATCH * sizeof *recs);
    rr_source_t **mine = malloc((size_t)s->n * sizeof *mine);
    rr_source_mux_t rr = {0};
    if (!recs || !mine || rr_source_mux_init(&rr, mine, s->n) < 0) {
        fprintf(stderr, "replyrate run: out of memory\n");
        s->failed = 1;
        atomic_store(&s->sh->stop, 1);
        goto out;
    }
    for (int k = 0; k < s->n; k++)
        mine[k] = run->src[s->inputs[k]];
    int64_t now = run->now_ms;
    int step, k;
    size_t n;
    while (!atomic_load(&s->sh->stop) && !(run->stop && *run->stop) &&
           (step = rr_source_mux_next(&rr, recs, BATCH, &k, &n)) != RR_SOURCE_MUX_DONE) {
        if (step == RR_SOURCE_MUX_ERROR) {
            fprintf(stderr, "replyrate run: %s\n", rr_source_error(mine[k]));
            s->failed = 1;
            atomic_store(&s->sh->stop, 1);
            goto out;
        }
        if (step == RR_SOURCE_MUX_ENDED) {
            /* before the partition stops holding days back: a day final
             * from here on may lack what was unread */
            if (run->gap_seen && rr_source_gaps(mine[k]).unread_bytes)
                atomic_store(run->gap_seen, 1);
            rr_engine_partition_end(s->eng, k);
            continue;
        }
        if (!run->have_now)
            now = rr_now_ms();
        rr_feed_records(s->eng, k, recs, n, now, NULL);
        rr_shard_progress_note(s->prog, s->eng);
    }
    if (!atomic_load(&s->sh->stop) && !(run->stop && *run->stop))
        rr_engine_finish(s->eng);
out:
    rr_source_mux_free(&rr);
    free(mine);
    free(recs);
    atomic_store(&s->prog->done, 1);
    return NULL;
}

int rr_run_shards(rr_shard_run_t *run)
{
    int n = run->n_shards < 1 ? 1 : run->n_shards > run->n_in ? run->n_in : run->n_shards;
    shared_t sh = {.run = run};
    pthread_mutex_init(&sh.sink_mu, NULL);
    shard_t *shards = calloc((size_t)n, sizeof *shards);
    int *inputs = malloc((size_t)run->n_in * sizeof *inputs);
    rr_shard_progress_t *prog = calloc((size_t)n, sizeof *prog);
    int status = 0, started = 0;
    char err[512];
    memset(&run->stats, 0, sizeof run->stats);
    if (!shards || !inputs || !prog) {
        fprintf(stderr, "replyrate run: out of memory\n");
        status = 1;
        goto out;
    }
    /* shard k takes inputs k, k + n, k + 2n, ...: a contiguous slice of `inputs` */
    for (int k = 0, at = 0; k < n; k++) {
        shard_t *s = &shards[k];
        s->sh = &sh;
        s->prog = &prog[k];
        s->inputs = inputs + at;
        for (int i = k; i < run->n_in; i += n)
            inputs[at + s->n++] = i;
        at += s->n;
        s->out = (rr_shard_out_t){.sink = &run->sink, .mu = &sh.sink_mu, .global = s->inputs};
        rr_sink_t sink = rr_shard_sink(&s->out);
        if (rr_engine_new(run->cfg, run->tz, &sink, &s->eng, err, sizeof err) < 0) {
            fprintf(stderr, "replyrate run: config: %s\n", err);
            status = 2;
            goto out;
        }
        for (int j = 0; j < s->n; j++)
            if (rr_engine_add_partition(s->eng, run->names[s->inputs[j]]) != j) {
                fprintf(stderr, "replyrate run: out of memory\n");
                status = 1;
                goto out;
            }
    }
    double t0 = rr_mono_s(), next_progress = t0 + 5;
    /* small stacks: the engine does not recurse; keep the address space for it */
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 1 << 20);
    for (; started < n; started++)
        if (pthread_create(&shards[started].thread, &attr, shard_main, &shards[started]) != 0) {
            fprintf(stderr, "replyrate run: cannot start a shard thread\n");
            atomic_store(&sh.stop, 1);
            status = 1;
            run->input_failed = 1; /* not every input was read: no summary */
            break;
        }
    pthread_attr_destroy(&attr);
    /* wait, with progress lines like the single engine's */
    while (rr_shard_progress_poll(prog, started, run->quiet, t0, &next_progress) < started) {
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    for (int k = 0; k < started; k++)
        pthread_join(shards[k].thread, NULL);
    run->seconds = rr_mono_s() - t0;
    run->stopped = run->stop && *run->stop;

    rr_shard_total_t total;
    rr_shard_total_init(&total);
    for (int k = 0; k < n; k++) {
        shard_t *s = &shards[k];
        if (s->failed) {
            status = 1;
            run->input_failed = 1;
        }
        if (rr_engine_error(s->eng)) {
            fprintf(stderr, "replyrate run: %s\n", rr_engine_error(s->eng));
            status = 1;
        }
        rr_shard_total_add(&total, s->eng);
    }
    if (rr_shard_total_done(&total, &run->stats) < 0) {
        fprintf(stderr, "replyrate run: out of memory counting shops across shards\n");
        status = 1;
    }
out:
    for (int k = 0; shards && k < n; k++)
        rr_engine_free(shards[k].eng);
    free(shards);
    free(inputs);
    free(prog);
    pthread_mutex_destroy(&sh.sink_mu);
    return status;
}
