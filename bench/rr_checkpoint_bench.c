/* rr_checkpoint_bench: how big an engine checkpoint is and how fast it is
 * written and restored (issue 3: one million open conversations restored in
 * under 2 s), at a point of a real run.
 *
 *   rr_checkpoint_bench --input FILE [--at FRACTION] [--level N]
 *
 * Feeds the first FRACTION (default 0.5) of the file's records to an engine,
 * as `replyrate run` does, then times: the checkpoint into memory, its zstd
 * compression (level N, default 1), decompression, and the restore into a
 * new engine. One JSON line: open and active conversations, bytes raw and
 * compressed, and the seconds of each step. The restored engine then reads
 * the rest of the file and must end with the same counts as the original
 * (checked; exit 1 otherwise), so the numbers are of a checkpoint that works.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zstd.h>

#include "base/clock.h"
#include "io/feed.h"
#include "base/membuf.h"
#include "io/source.h"
#include "io/tzload.h"
#include "replyrate/config.h"
#include "replyrate/engine.h"

#define BATCH 4096
#define NOW INT64_C(4000000000000)

/* Feed records [from, to) of the file (by index) to eng; -1 on error. */
static int feed(const char *path, rr_engine_t *eng, uint64_t from, uint64_t to, uint64_t *total)
{
    char err[512];
    rr_source_t *src;
    if (rr_source_open(path, &src, err, sizeof err) < 0) {
        fprintf(stderr, "rr_checkpoint_bench: %s\n", err);
        return -1;
    }
    static rr_record_t recs[BATCH];
    uint64_t i = 0;
    int n;
    while ((n = rr_source_next_batch(src, recs, BATCH)) > 0) {
        uint64_t lo = i, hi = i + (uint64_t)n;
        i = hi;
        if (!eng) continue;
        if (hi <= from || lo >= to) continue;
        uint64_t a = from > lo ? from - lo : 0, b = (to < hi ? to : hi) - lo;
        rr_feed_records(eng, 0, recs + a, (size_t)(b - a), NOW, NULL);
    }
    rr_source_close(src);
    if (total) *total = i;
    return n < 0 ? -1 : 0;
}

/* Feed events [from, to) of path, end the run, and keep its counts. */
static int run_to_end(const char *path, rr_engine_t *eng, uint64_t from, uint64_t to,
                      rr_stats_t *st)
{
    if (feed(path, eng, from, to, NULL) < 0) return -1;
    rr_engine_partition_end(eng, 0);
    rr_engine_finish(eng);
    rr_engine_stats(eng, st);
    rr_engine_free(eng);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"input", required_argument, NULL, 'i'},
                                         {"at", required_argument, NULL, 'a'},
                                         {"level", required_argument, NULL, 'l'},
                                         {NULL, 0, NULL, 0}};
    const char *input = NULL;
    double at = 0.5;
    int level = 1, c;
    while ((c = getopt_long(argc, argv, "i:a:l:", opts, NULL)) != -1) {
        if (c == 'i')
            input = optarg;
        else if (c == 'a')
            at = atof(optarg);
        else if (c == 'l')
            level = atoi(optarg);
        else
            return 2;
    }
    if (!input || at <= 0 || at >= 1) {
        fprintf(stderr, "usage: rr_checkpoint_bench --input FILE [--at FRACTION] [--level N]\n");
        return 2;
    }
    char err[512];
    rr_config_t cfg;
    rr_config_default(&cfg);
    rr_tz_t *tz = NULL;
    if (rr_tz_load("Asia/Shanghai", &tz, err, sizeof err) < 0) {
        fprintf(stderr, "rr_checkpoint_bench: %s\n", err);
        return 1;
    }
    uint64_t total = 0;
    if (feed(input, NULL, 0, 0, &total) < 0) return 1;
    uint64_t cut = (uint64_t)((double)total * at);

    /* the reference: straight through */
    rr_engine_t *ref, *a, *b;
    if (rr_engine_new(&cfg, tz, NULL, &ref, err, sizeof err) < 0 ||
        rr_engine_new(&cfg, tz, NULL, &a, err, sizeof err) < 0 ||
        rr_engine_new(&cfg, tz, NULL, &b, err, sizeof err) < 0) {
        fprintf(stderr, "rr_checkpoint_bench: %s\n", err);
        return 1;
    }
    rr_engine_add_partition(ref, input);
    rr_engine_add_partition(a, input);
    rr_stats_t want;
    if (run_to_end(input, ref, 0, total, &want) < 0) return 1;

    if (feed(input, a, 0, cut, NULL) < 0) return 1;
    rr_stats_t at_cut;
    rr_engine_stats(a, &at_cut);
    rr_membuf_t raw = {0};
    double t0 = rr_mono_s();
    if (rr_engine_checkpoint(a, rr_membuf_write, &raw) < 0) return 1;
    double t_write = rr_mono_s() - t0;
    rr_engine_free(a);

    size_t zcap = ZSTD_compressBound(raw.n);
    unsigned char *z = malloc(zcap);
    t0 = rr_mono_s();
    size_t zn = ZSTD_compress(z, zcap, raw.p, raw.n, level);
    double t_compress = rr_mono_s() - t0;
    if (ZSTD_isError(zn)) return 1;
    rr_membuf_t back = {.p = malloc(raw.n), .cap = raw.n};
    t0 = rr_mono_s();
    size_t dn = ZSTD_decompress(back.p, back.cap, z, zn);
    double t_decompress = rr_mono_s() - t0;
    if (ZSTD_isError(dn) || dn != raw.n || memcmp(back.p, raw.p, raw.n)) return 1;
    back.n = dn;
    t0 = rr_mono_s();
    if (rr_engine_restore(b, rr_membuf_read, &back, err, sizeof err) < 0) {
        fprintf(stderr, "rr_checkpoint_bench: %s\n", err);
        return 1;
    }
    double t_restore = rr_mono_s() - t0;

    rr_stats_t got;
    if (run_to_end(input, b, cut, total, &got) < 0) return 1;
    int same = got.input == want.input && got.applied == want.applied &&
               got.duplicate == want.duplicate && got.late == want.late &&
               got.shop_days == want.shop_days && got.agent_days == want.agent_days &&
               got.violations == want.violations && got.alerts == want.alerts;
    printf("{\"at_event\":%llu,\"events\":%llu,\"open_conversations\":%llu,"
           "\"active_conversations\":%llu,\"open_days\":%llu,\"raw_bytes\":%zu,\"zstd_bytes\":%zu,"
           "\"zstd_level\":%d,\"checkpoint_s\":%.3f,\"compress_s\":%.3f,\"decompress_s\":%.3f,"
           "\"restore_s\":%.3f,\"decompress_and_restore_s\":%.3f,\"restored_run_equal\":%s}\n",
           (unsigned long long)cut, (unsigned long long)total,
           (unsigned long long)at_cut.open_conversations,
           (unsigned long long)at_cut.active_conversations, (unsigned long long)at_cut.open_days,
           raw.n, zn, level, t_write, t_compress, t_decompress, t_restore, t_decompress + t_restore,
           same ? "true" : "false");
    rr_membuf_free(&raw);
    rr_membuf_free(&back);
    free(z);
    rr_tz_free(tz);
    return same ? 0 : 1;
}
