/* test_readahead.c: the reader thread yields exactly what the single-threaded
 * round-robin loop over the same sources yields, item for item; a source's
 * error ends the sequence; stopping early does not hang or leak. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "io/readahead.h"
#include "io/source.h"

/* n delimited records of pseudo-random length 0..299 (content is not decoded here) */
static bytes_t records(size_t n, uint32_t seed)
{
    bytes_t b = {0};
    uint8_t body[300];
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        size_t len = (seed >> 8) % 300;
        for (size_t k = 0; k < len; k++)
            body[k] = (uint8_t)(i + k);
        put_varint(&b, len);
        put(&b, body, len);
    }
    return b;
}

typedef struct item {
    int kind, which;
    size_t n;
    uint64_t hash; /* over the records' status, offset, length and bytes */
} item_t;

static uint64_t hash_recs(const rr_record_t *r, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h = (h ^ (uint64_t)r[i].status) * 1099511628211ull;
        h = (h ^ (uint64_t)r[i].offset) * 1099511628211ull;
        h = (h ^ (uint64_t)r[i].len) * 1099511628211ull;
        for (size_t k = 0; k < r[i].len; k++)
            h = (h ^ r[i].data[k]) * 1099511628211ull;
    }
    return h;
}

static void open_all(bytes_t *in, int n, rr_source_t **src)
{
    char err[256];
    for (int i = 0; i < n; i++)
        cr_assert_eq(rr_source_open_mem(in[i].p, in[i].n, "mem", &src[i], err, sizeof err), 0, "%s",
                     err);
}

/* The loop `replyrate run` had before the reader thread. */
static size_t direct(rr_source_t **src, int n_src, size_t max, item_t *out)
{
    rr_record_t *recs = malloc(max * sizeof *recs);
    int done[8] = {0}, remaining = n_src;
    size_t k = 0;
    while (remaining) {
        for (int i = 0; i < n_src; i++) {
            if (done[i]) continue;
            int n = rr_source_next_batch(src[i], recs, max);
            cr_assert_geq(n, 0);
            if (n == 0) {
                done[i] = 1;
                remaining--;
                out[k++] = (item_t){RR_READAHEAD_END, i, 0, 0};
            } else {
                out[k++] = (item_t){RR_READAHEAD_BATCH, i, (size_t)n, hash_recs(recs, (size_t)n)};
            }
        }
    }
    out[k++] = (item_t){RR_READAHEAD_DONE, -1, 0, 0};
    free(recs);
    return k;
}

static size_t threaded(rr_source_t **src, int n_src, size_t max, item_t *out)
{
    rr_readahead_t *r;
    char err[256];
    cr_assert_eq(rr_readahead_start(src, n_src, max, &r, err, sizeof err), 0, "%s", err);
    size_t k = 0;
    for (;;) {
        rr_readahead_item_t it;
        rr_readahead_next(r, &it);
        out[k++] = (item_t){(int)it.kind, it.which, it.n,
                            it.kind == RR_READAHEAD_BATCH ? hash_recs(it.recs, it.n) : 0};
        if (it.kind == RR_READAHEAD_DONE || it.kind == RR_READAHEAD_ERROR) break;
    }
    rr_readahead_stop(r);
    return k;
}

Test(readahead, yields_the_round_robin_sequence_of_the_direct_loop)
{
    size_t counts[] = {20000, 1, 0, 777};
    bytes_t in[4];
    for (int i = 0; i < 4; i++)
        in[i] = records(counts[i], 7u + (uint32_t)i);
    /* source 3 ends inside a record: one last RR_FRAME_PAST_END record */
    const uint8_t cut[] = {100, 1, 2, 3};
    put(&in[3], cut, sizeof cut);
    size_t maxes[] = {1, 7, 4096};
    for (size_t m = 0; m < 3; m++) {
        rr_source_t *a[4], *b[4];
        open_all(in, 4, a);
        open_all(in, 4, b);
        static item_t x[30000], y[30000];
        size_t nx = direct(a, 4, maxes[m], x);
        size_t ny = threaded(b, 4, maxes[m], y);
        cr_assert_eq(ny, nx, "max %zu: %zu items, want %zu", maxes[m], ny, nx);
        for (size_t k = 0; k < nx; k++) {
            cr_assert_eq(y[k].kind, x[k].kind, "max %zu item %zu", maxes[m], k);
            cr_assert_eq(y[k].which, x[k].which, "max %zu item %zu", maxes[m], k);
            cr_assert_eq(y[k].n, x[k].n, "max %zu item %zu", maxes[m], k);
            cr_assert_eq(y[k].hash, x[k].hash, "max %zu item %zu: record bytes differ", maxes[m],
                         k);
        }
        for (int i = 0; i < 4; i++) {
            rr_source_close(a[i]);
            rr_source_close(b[i]);
        }
    }
    for (int i = 0; i < 4; i++)
        free(in[i].p);
}

Test(readahead, a_source_error_ends_the_sequence_with_its_message)
{
    bytes_t in[2];
    in[0] = records(5000, 1);
    /* a zstd frame asking for a 2^41-byte window: the source cannot read it
     * (damaged bytes would not fail it: they are a gap, io/source.h) */
    in[1] = (bytes_t){0};
    const uint8_t bad[] = {0x28, 0xb5, 0x2f, 0xfd, 0x00, 0xf8, 0xff, 0xff, 1, 2, 3, 4, 5, 6, 7, 8};
    put(&in[1], bad, sizeof bad);
    rr_source_t *src[2];
    open_all(in, 2, src);
    rr_readahead_t *r;
    char err[256];
    cr_assert_eq(rr_readahead_start(src, 2, 100, &r, err, sizeof err), 0, "%s", err);
    rr_readahead_item_t it;
    size_t batches = 0;
    do {
        rr_readahead_next(r, &it);
        batches += it.kind == RR_READAHEAD_BATCH;
    } while (it.kind == RR_READAHEAD_BATCH);
    cr_assert_eq(it.kind, RR_READAHEAD_ERROR);
    cr_assert_eq(it.which, 1);
    cr_assert_eq(batches, 1, "source 0's first batch comes before source 1's error");
    cr_assert_not_null(it.error);
    cr_assert_str_eq(it.error, rr_source_error(src[1]));
    rr_readahead_next(r, &it); /* and stays there */
    cr_assert_eq(it.kind, RR_READAHEAD_ERROR);
    rr_readahead_stop(r);
    for (int i = 0; i < 2; i++) {
        rr_source_close(src[i]);
        free(in[i].p);
    }
}

Test(readahead, stopping_with_batches_still_buffered_returns)
{
    bytes_t in = records(100000, 3);
    rr_source_t *src;
    open_all(&in, 1, &src);
    rr_readahead_t *r;
    char err[256];
    cr_assert_eq(rr_readahead_start(&src, 1, 10, &r, err, sizeof err), 0, "%s", err);
    rr_readahead_item_t it;
    rr_readahead_next(r, &it);
    cr_assert_eq(it.kind, RR_READAHEAD_BATCH);
    rr_readahead_stop(r); /* the reader is blocked on a full queue, or reading */
    rr_source_close(src);
    free(in.p);
}
