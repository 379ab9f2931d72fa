/* Engine checkpoints (docs/engine.md, "Checkpoints"): an engine checkpointed
 * between two offers, freed, and restored into a new engine goes on exactly
 * as the uninterrupted one: the same records, late and invalid events, and
 * summary counts. On generated traffic with every delivery knob, two
 * partitions and three days, cut at several points (mid-day, near a
 * midnight, after days were published). Broken checkpoints are refused with
 * a reason, never crash, and leak nothing (the suite runs under ASan and
 * valgrind). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/output.h"
#include "gen_events.h"
#include "base/membuf.h"
#include "io/tzload.h"
#include "replyrate/config.h"
#include "replyrate/engine.h"

#define NOW INT64_C(4000000000000)

static events_t generate(uint64_t events, uint64_t seed)
{
    return generate_shops(events, seed, 0);
}

static rr_tz_t *zone(void)
{
    rr_tz_t *tz = NULL;
    char err[256];
    cr_assert_eq(rr_tz_load("Asia/Shanghai", &tz, err, sizeof err), 0, "%s", err);
    return tz;
}

static rr_engine_t *new_engine(const rr_config_t *cfg, const rr_tz_t *tz, const rr_sink_t *sink,
                               int add_partitions)
{
    rr_engine_t *e = NULL;
    char err[256];
    cr_assert_eq(rr_engine_new(cfg, tz, sink, &e, err, sizeof err), 0, "%s", err);
    if (add_partitions) {
        cr_assert_eq(rr_engine_add_partition(e, "p0"), 0);
        cr_assert_eq(rr_engine_add_partition(e, "p1"), 1);
    }
    return e;
}

/* Run the events through one engine, checkpointing and restoring at each
 * cut (sorted offsets into the stream), into a JSON Lines file at path. */
static rr_stats_t run(const events_t *ev, const size_t *cuts, size_t n_cuts, const char *path)
{
    rr_config_t cfg;
    rr_config_default(&cfg);
    rr_tz_t *tz = zone();
    rr_output_t *out;
    char err[256];
    cr_assert_eq(rr_output_open(path, &out, err, sizeof err), 0, "%s", err);
    rr_sink_t sink;
    rr_output_sink(out, &sink);
    rr_engine_t *e = new_engine(&cfg, tz, &sink, 1);
    size_t c = 0;
    for (size_t i = 0; i < ev->n; i++) {
        if (c < n_cuts && cuts[c] == i) {
            rr_membuf_t b = {0};
            cr_assert_eq(rr_engine_checkpoint(e, rr_membuf_write, &b), 0);
            rr_engine_free(e);
            e = new_engine(&cfg, tz, &sink, 0);
            cr_assert_eq(rr_engine_restore(e, rr_membuf_read, &b, err, sizeof err), 0,
                         "cut at %zu: %s", i, err);
            cr_assert_eq(b.pos, b.n, "the restore read %zu of %zu bytes", b.pos, b.n);
            rr_membuf_free(&b);
            c++;
        }
        int p = (int)rr_shop_partition(ev->v[i].shop_id, 2);
        rr_engine_offer(e, p, &ev->v[i], (int64_t)i, NULL, 0, NOW);
    }
    rr_engine_finish(e);
    cr_assert_null(rr_engine_error(e));
    rr_stats_t st;
    rr_engine_stats(e, &st);
    rr_engine_free(e);
    cr_assert_eq(rr_output_close(out, err, sizeof err), 0, "%s", err);
    rr_tz_free(tz);
    return st;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The file's lines, sorted, as one string. */
static char *sorted_lines(const char *path, size_t *n_lines)
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s", path);
    char **lines = NULL;
    size_t n = 0, cap = 0, total = 0;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t len;
    while ((len = getline(&line, &lcap, f)) > 0) {
        if (n == cap) {
            cap = cap ? 2 * cap : 1024;
            lines = realloc(lines, cap * sizeof *lines);
        }
        lines[n++] = strdup(line);
        total += (size_t)len;
    }
    free(line);
    fclose(f);
    qsort(lines, n, sizeof *lines, cmp_str);
    char *all = malloc(total + 1), *p = all;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(lines[i]);
        memcpy(p, lines[i], l);
        p += l;
        free(lines[i]);
    }
    *p = 0;
    free(lines);
    *n_lines = n;
    return all;
}

static void expect_same_run(const events_t *ev, const size_t *cuts, size_t n_cuts)
{
    char a[] = "/tmp/rr-ck-a-XXXXXX.jsonl", b[] = "/tmp/rr-ck-b-XXXXXX.jsonl";
    int fa = mkstemps(a, 6), fb = mkstemps(b, 6);
    cr_assert(fa >= 0 && fb >= 0);
    close(fa);
    close(fb);
    rr_stats_t sa = run(ev, NULL, 0, a), sb = run(ev, cuts, n_cuts, b);
    size_t na, nb;
    char *la = sorted_lines(a, &na), *lb = sorted_lines(b, &nb);
    cr_assert_gt(na, 1000, "too few records to mean anything: %zu", na);
    cr_expect_eq(na, nb, "uninterrupted: %zu records; with %zu restores: %zu", na, n_cuts, nb);
    cr_expect(strcmp(la, lb) == 0, "the records differ after %zu restores", n_cuts);
    cr_expect_eq(sa.input, sb.input);
    cr_expect_eq(sa.applied, sb.applied);
    cr_expect_eq(sa.duplicate, sb.duplicate);
    cr_expect_eq(sa.late, sb.late);
    cr_expect_eq(sa.invalid, sb.invalid);
    cr_expect_eq(sa.violations, sb.violations);
    /* memory too: a restored expiry queue frees the same conversations */
    cr_expect_eq(sa.evicted_conversations, sb.evicted_conversations, "evicted %llu and %llu",
                 (unsigned long long)sa.evicted_conversations,
                 (unsigned long long)sb.evicted_conversations);
    cr_expect_eq(sa.peak_open_conversations, sb.peak_open_conversations);
    cr_expect_eq(sa.open_conversations, sb.open_conversations);
    cr_expect_gt(sa.evicted_conversations, 0, "nothing freed before the end: a weak test");
    free(la);
    free(lb);
    unlink(a);
    unlink(b);
}

Test(checkpoint, restored_engines_publish_exactly_what_an_uninterrupted_one_does)
{
    events_t ev = generate(120000, 5);
    size_t n = ev.n;
    /* early (before any day is final), a third in, mid-stream, and late */
    size_t cuts[] = {n / 50, n / 3, n / 2, n / 2 + 1, (n * 9) / 10, n - 1};
    expect_same_run(&ev, cuts, sizeof cuts / sizeof *cuts);
    free(ev.v);
}

/* Restore about every `every` events (the cut wobbles by up to `wobble`, so
 * cuts fall at every phase of the stream), and free the events. */
static void expect_same_run_cut_every(events_t *ev, size_t every, size_t wobble)
{
    size_t n_cuts = ev->n / every;
    size_t *cuts = malloc(n_cuts * sizeof *cuts);
    cr_assert_not_null(cuts);
    for (size_t i = 0; i < n_cuts; i++)
        cuts[i] = (i + 1) * every - 1 - i % wobble;
    expect_same_run(ev, cuts, n_cuts);
    free(cuts);
    free(ev->v);
}

Test(checkpoint, a_restore_at_every_thousandth_event_changes_nothing)
{
    events_t ev = generate(30000, 9);
    expect_same_run_cut_every(&ev, 1000, 7);
}

/* Conversations that live for hours, resume after they are over, and
 * re-deliveries stamped anew: cold event ids and over conversations are in
 * the checkpoints; and a two-day jump whose held events are cut through. */
Test(checkpoint, ids_kept_for_life_and_held_jumps_survive_restores)
{
    events_t ev = generate_knobs(60000, 12, 0, 1);
    expect_same_run_cut_every(&ev, 500, 5);
}

/* A checkpoint of a small run, and a fresh engine to restore it into. */
static rr_membuf_t small_checkpoint(rr_config_t *cfg, rr_tz_t **tz)
{
    rr_config_default(cfg);
    *tz = zone();
    events_t ev = generate(5000, 3);
    rr_engine_t *e = new_engine(cfg, *tz, NULL, 1);
    for (size_t i = 0; i < ev.n; i++)
        rr_engine_offer(e, (int)rr_shop_partition(ev.v[i].shop_id, 2), &ev.v[i], (int64_t)i, NULL,
                        0, NOW);
    rr_membuf_t b = {0};
    cr_assert_eq(rr_engine_checkpoint(e, rr_membuf_write, &b), 0);
    rr_engine_free(e);
    free(ev.v);
    return b;
}

Test(checkpoint, truncated_checkpoints_are_refused_at_every_length)
{
    rr_config_t cfg;
    rr_tz_t *tz;
    rr_membuf_t b = small_checkpoint(&cfg, &tz);
    char err[256];
    size_t step = b.n / 97 + 1;
    for (size_t len = 0; len < b.n; len += step) {
        rr_membuf_t t = {.p = b.p, .n = len};
        rr_engine_t *e = new_engine(&cfg, tz, NULL, 0);
        cr_expect_eq(rr_engine_restore(e, rr_membuf_read, &t, err, sizeof err), -1,
                     "%zu of %zu bytes", len, b.n);
        cr_expect(strstr(err, "checkpoint:") != NULL, "%s", err);
        rr_engine_free(e);
    }
    free(b.p);
    rr_tz_free(tz);
}

Test(checkpoint, another_metric_set_or_garbage_is_refused_with_a_reason)
{
    rr_config_t cfg;
    rr_tz_t *tz;
    rr_membuf_t b = small_checkpoint(&cfg, &tz);
    char err[256];
    rr_config_t other = cfg;
    other.metrics[0].threshold_ms += 1000; /* another metric set version */
    rr_engine_t *e = new_engine(&other, tz, NULL, 0);
    cr_expect_eq(rr_engine_restore(e, rr_membuf_read, &b, err, sizeof err), -1);
    cr_expect(strstr(err, "metric set") != NULL, "%s", err);
    rr_engine_free(e);

    b.pos = 0;
    b.p[0] ^= 0xff; /* not the magic */
    e = new_engine(&cfg, tz, NULL, 0);
    cr_expect_eq(rr_engine_restore(e, rr_membuf_read, &b, err, sizeof err), -1);
    cr_expect(strstr(err, "not a replyrate checkpoint") != NULL, "%s", err);
    rr_engine_free(e);

    b.pos = 0;
    b.p[0] ^= 0xff;
    b.p[8] = 4; /* format 4: conv-days had no place in the conversation's record then */
    e = new_engine(&cfg, tz, NULL, 0);
    cr_expect_eq(rr_engine_restore(e, rr_membuf_read, &b, err, sizeof err), -1);
    cr_expect(strstr(err, "of format 4, and this build reads format 5 only") != NULL, "%s", err);
    rr_engine_free(e);

    b.pos = 0;
    b.p[8] = 4;
    e = new_engine(&cfg, tz, NULL, 1); /* not new: has partitions */
    cr_expect_eq(rr_engine_restore(e, rr_membuf_read, &b, err, sizeof err), -1);
    cr_expect(strstr(err, "must be new") != NULL, "%s", err);
    rr_engine_free(e);
    free(b.p);
    rr_tz_free(tz);
}
