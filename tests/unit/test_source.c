/* Tests for io/source: delimited ChatEvent files, plain and zstd, written to
 * a temporary directory; broken tails (SPEC §7), offsets, window growth,
 * the batch API and memory sources; breaks before the end (unread or, with
 * resync, skipped whole) and damaged zstd frames. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "bytes.h"
#include "codec/decode.h"
#include "io/source.h"

/* ---- stream builders ---------------------------------------------------- */

/* ChatEvent {event_id = id, shop_id = 7, conversation_id = id % 97 + 1,
 * ts_ms = 1763776800000 + id, type = BUYER_MESSAGE}: plausible for a resync
 * (codec/resync.h). */
static void put_event(bytes_t *b, uint64_t id)
{
    bytes_t m = {0};
    uint8_t t;
    t = 0x08, put(&m, &t, 1), put_varint(&m, id);
    t = 0x10, put(&m, &t, 1), put_varint(&m, 7);
    t = 0x18, put(&m, &t, 1), put_varint(&m, id % 97 + 1);
    t = 0x30, put(&m, &t, 1), put_varint(&m, UINT64_C(1763776800000) + id);
    t = 0x38, put(&m, &t, 1), put_varint(&m, 4);
    put_varint(b, m.n);
    put(b, m.p, m.n);
    free(m.p);
}

/* n events with ids 1..n; offsets[i] receives the offset of event i+1. */
static bytes_t stream_of(size_t n, int64_t *offsets)
{
    bytes_t b = {0};
    for (size_t i = 0; i < n; i++) {
        if (offsets) offsets[i] = (int64_t)b.n;
        put_event(&b, i + 1);
    }
    return b;
}

/* p[0..n) as `frames` zstd frames of equal size (boundaries anywhere),
 * with a content checksum each when `sum`. */
static bytes_t zstd_sum_of(const uint8_t *p, size_t n, int frames, int sum)
{
    bytes_t z = {0};
    size_t per = frames > 1 ? n / (size_t)frames + 1 : n;
    ZSTD_CCtx *cc = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, 3);
    ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, sum);
    for (size_t off = 0; off < n || (n == 0 && z.n == 0); off += per) {
        size_t chunk = n - off < per ? n - off : per;
        size_t bound = ZSTD_compressBound(chunk);
        uint8_t *tmp = malloc(bound);
        size_t r = ZSTD_compress2(cc, tmp, bound, p + off, chunk);
        cr_assert(!ZSTD_isError(r), "%s", ZSTD_getErrorName(r));
        put(&z, tmp, r);
        free(tmp);
        if (n == 0) break;
    }
    ZSTD_freeCCtx(cc);
    return z;
}

static bytes_t zstd_of(const uint8_t *p, size_t n, int frames)
{
    return zstd_sum_of(p, n, frames, 0);
}

static char dir[64];

static void setup_dir(void)
{
    strcpy(dir, "/tmp/rr_test_source_XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void teardown_dir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

static const char *write_file(const char *name, const bytes_t *b)
{
    static char path[4][256];
    static int k;
    char *p = path[k++ % 4];
    snprintf(p, 256, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    cr_assert_not_null(f);
    if (b->n) cr_assert_eq(fwrite(b->p, 1, b->n, f), b->n);
    cr_assert_eq(fclose(f), 0);
    return p;
}

static rr_source_t *open_ok(const char *path)
{
    rr_source_t *s = NULL;
    char err[256];
    cr_assert_eq(rr_source_open(path, &s, err, sizeof err), 0, "%s", err);
    return s;
}

/* Read all records; check ids 1..n in order at the expected offsets; return
 * the count of OK records and leave the terminal record (if any) in *last. */
static size_t read_all(rr_source_t *s, const int64_t *offsets, rr_record_t *last)
{
    rr_record_t rec;
    size_t n = 0;
    int r;
    memset(last, 0, sizeof *last);
    last->status = -1;
    while ((r = rr_source_next(s, &rec)) == 1) {
        if (rec.status != RR_FRAME_OK) {
            *last = rec;
            continue;
        }
        rr_event_t e;
        cr_assert_eq(rr_decode_event(rec.data, rec.len, &e), RR_DECODE_OK);
        cr_assert_eq(e.event_id, n + 1, "record %zu has id %llu", n,
                     (unsigned long long)e.event_id);
        if (offsets)
            cr_assert_eq(rec.offset, offsets[n], "record %zu at %lld, expected %lld", n,
                         (long long)rec.offset, (long long)offsets[n]);
        n++;
    }
    cr_assert_eq(r, 0, "error: %s", rr_source_error(s));
    cr_assert_eq(rr_source_next(s, &rec), 0, "end is sticky");
    return n;
}

TestSuite(source, .init = setup_dir, .fini = teardown_dir);

/* ---- tests ------------------------------------------------------------- */

Test(source, plain_file_yields_every_record_with_offsets)
{
    int64_t off[1000];
    bytes_t b = stream_of(1000, off);
    rr_source_t *s = open_ok(write_file("events.pb", &b));
    rr_record_t last;
    cr_assert_not(rr_source_is_zstd(s));
    cr_assert_eq(read_all(s, off, &last), 1000);
    cr_assert_eq(last.status, -1, "no invalid tail");
    cr_assert_eq(rr_source_bytes_in(s), b.n);
    rr_source_close(s);
    free(b.p);
}

Test(source, zstd_file_is_detected_by_magic_not_name)
{
    int64_t off[1000];
    bytes_t b = stream_of(1000, off);
    bytes_t z = zstd_of(b.p, b.n, 1);
    const char *names[] = {"events.pb.zst", "events.pb"};
    for (int i = 0; i < 2; i++) {
        rr_source_t *s = open_ok(write_file(names[i], &z));
        rr_record_t last;
        cr_assert(rr_source_is_zstd(s));
        cr_assert_eq(read_all(s, off, &last), 1000);
        cr_assert_eq(last.status, -1);
        cr_assert_eq(rr_source_bytes_in(s), z.n);
        rr_source_close(s);
    }
    free(b.p);
    free(z.p);
}

Test(source, concatenated_zstd_frames_are_one_stream)
{
    int64_t off[5000];
    bytes_t b = stream_of(5000, off);
    bytes_t z = zstd_of(b.p, b.n, 7); /* frame boundaries fall inside records */
    rr_source_t *s = open_ok(write_file("multi.pb.zst", &z));
    rr_record_t last;
    cr_assert_eq(read_all(s, off, &last), 5000);
    rr_source_close(s);
    free(b.p);
    free(z.p);
}

Test(source, large_files_refill_across_record_boundaries)
{
    size_t n = 600000; /* ~17 MB: several 4 MiB windows */
    int64_t *off = malloc(n * sizeof *off);
    bytes_t b = stream_of(n, off);
    bytes_t z = zstd_of(b.p, b.n, 3);
    rr_record_t last;

    rr_source_t *s = open_ok(write_file("big.pb", &b));
    cr_assert_eq(read_all(s, off, &last), n);
    rr_source_close(s);
    s = open_ok(write_file("big.pb.zst", &z));
    cr_assert_eq(read_all(s, off, &last), n);
    rr_source_close(s);
    free(off);
    free(b.p);
    free(z.p);
}

Test(source, empty_file_has_no_records)
{
    bytes_t b = {0};
    rr_source_t *s = open_ok(write_file("empty.pb", &b));
    rr_record_t rec;
    cr_assert_eq(rr_source_next(s, &rec), 0);
    rr_source_close(s);
    bytes_t z = zstd_of((const uint8_t *)"", 0, 1);
    s = open_ok(write_file("empty.pb.zst", &z));
    cr_assert(rr_source_is_zstd(s));
    cr_assert_eq(rr_source_next(s, &rec), 0);
    rr_source_close(s);
    free(z.p);
}

Test(source, missing_file_error_names_it)
{
    rr_source_t *s = (rr_source_t *)1;
    char err[256] = "";
    cr_assert_eq(rr_source_open("/nonexistent/dir/x.pb", &s, err, sizeof err), -1);
    cr_assert_null(s);
    cr_assert_not_null(strstr(err, "/nonexistent/dir/x.pb"), "%s", err);
}

/* SPEC §7: a length running past the end is one last invalid record; a
 * break at the end of the file (a short tail, nothing decoding in it) is
 * nothing missing, with or without resync. */
static void check_tail(const uint8_t *tail, size_t tail_len, int want_status, int zstd)
{
    int64_t off[10];
    bytes_t b = stream_of(10, off);
    size_t tail_at = b.n;
    put(&b, tail, tail_len);
    bytes_t f = zstd ? zstd_of(b.p, b.n, 1) : b;
    rr_source_t *s = open_ok(write_file(zstd ? "tail.pb.zst" : "tail.pb", &f));
    rr_record_t last;
    cr_assert_eq(read_all(s, off, &last), 10);
    cr_assert_eq(last.status, want_status);
    cr_assert_eq(last.offset, (int64_t)tail_at);
    cr_assert_eq(last.len, tail_len);
    cr_assert_eq(memcmp(last.data, tail, tail_len), 0);
    rr_source_gaps_t g = rr_source_gaps(s); /* a break at the end: nothing missing */
    cr_assert_eq(g.unread_bytes + g.skipped_bytes + g.breaks, 0);
    cr_assert_str_empty(rr_source_notice(s));
    rr_source_close(s);
    if (zstd) free(f.p);
    free(b.p);
}

Test(source, length_past_end_is_last_invalid_record)
{
    static const uint8_t tail[] = {0x09, 0x08, 0x01, 0x10};
    check_tail(tail, sizeof tail, RR_FRAME_PAST_END, 0);
    check_tail(tail, sizeof tail, RR_FRAME_PAST_END, 1);
}

Test(source, unterminated_prefix_is_last_invalid_record)
{
    static const uint8_t tail[] = {0x80, 0x80};
    check_tail(tail, sizeof tail, RR_FRAME_BROKEN, 0);
    check_tail(tail, sizeof tail, RR_FRAME_BROKEN, 1);
}

Test(source, prefix_longer_than_ten_bytes_ends_the_file)
{
    uint8_t tail[40];
    memset(tail, 0xff, 11);
    memset(tail + 11, 0x00, sizeof tail - 11); /* would frame as empty messages */
    check_tail(tail, sizeof tail, RR_FRAME_BROKEN, 0);
    check_tail(tail, sizeof tail, RR_FRAME_BROKEN, 1);
}

Test(source, huge_length_runs_past_end)
{
    static const uint8_t tail[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                   0xff, 0xff, 0xff, 0x01, 0x08};
    check_tail(tail, sizeof tail, RR_FRAME_PAST_END, 0);
    check_tail(tail, sizeof tail, RR_FRAME_PAST_END, 1);
}

/* A record bigger than the initial window: the window grows, data intact. */
Test(source, record_larger_than_window_is_buffered_whole)
{
    size_t big = (size_t)10 << 20;
    bytes_t b = stream_of(3, NULL);
    bytes_t m = {0};
    uint8_t t = 0x5a; /* unknown field 11, bytes */
    put(&m, &t, 1);
    put_varint(&m, big);
    uint8_t *payload = calloc(1, big);
    put(&m, payload, big);
    t = 0x08, put(&m, &t, 1), put_varint(&m, 4);
    int64_t big_at = (int64_t)b.n;
    put_varint(&b, m.n);
    put(&b, m.p, m.n);
    bytes_t after = stream_of(6, NULL); /* ids 1..6, keep 5 and 6 */
    size_t cut = 0;
    for (int i = 0; i < 4; i++) /* skip the first 4 events of `after` */
        cut += 1 + after.p[cut];
    put(&b, after.p + cut, after.n - cut);

    for (int zstd = 0; zstd < 2; zstd++) {
        bytes_t f = zstd ? zstd_of(b.p, b.n, 1) : b;
        rr_source_t *s = open_ok(write_file(zstd ? "bigrec.pb.zst" : "bigrec.pb", &f));
        rr_record_t last;
        rr_record_t rec;
        for (uint64_t id = 1; id <= 6; id++) {
            cr_assert_eq(rr_source_next(s, &rec), 1);
            cr_assert_eq(rec.status, RR_FRAME_OK);
            rr_event_t e;
            cr_assert_eq(rr_decode_event(rec.data, rec.len, &e), RR_DECODE_OK);
            cr_assert_eq(e.event_id, id);
            if (id == 4) {
                cr_assert_eq(rec.len, m.n);
                cr_assert_eq(rec.offset, big_at);
            }
        }
        (void)last;
        cr_assert_eq(rr_source_next(s, &rec), 0);
        rr_source_close(s);
        if (zstd) free(f.p);
    }
    free(payload);
    free(m.p);
    free(after.p);
    free(b.p);
}

Test(source, batch_api_yields_the_same_records)
{
    size_t n = 300000;
    int64_t *off = malloc(n * sizeof *off);
    bytes_t b = stream_of(n, off);
    static const uint8_t tail[] = {0x30, 0x08};
    put(&b, tail, sizeof tail);
    for (int zstd = 0; zstd < 2; zstd++) {
        bytes_t f = zstd ? zstd_of(b.p, b.n, 2) : b;
        rr_source_t *s = open_ok(write_file(zstd ? "batch.pb.zst" : "batch.pb", &f));
        rr_record_t recs[256];
        size_t seen = 0;
        int got, tail_seen = 0;
        while ((got = rr_source_next_batch(s, recs, 256)) > 0) {
            for (int i = 0; i < got; i++) {
                if (recs[i].status == RR_FRAME_PAST_END) {
                    cr_assert_eq(recs[i].offset, (int64_t)(b.n - sizeof tail));
                    tail_seen = 1;
                    continue;
                }
                rr_event_t e;
                cr_assert_eq(rr_decode_event(recs[i].data, recs[i].len, &e), RR_DECODE_OK);
                cr_assert_eq(e.event_id, seen + 1);
                cr_assert_eq(recs[i].offset, off[seen]);
                seen++;
            }
        }
        cr_assert_eq(got, 0);
        cr_assert_eq(seen, n);
        cr_assert(tail_seen);
        rr_source_close(s);
        if (zstd) free(f.p);
    }
    free(off);
    free(b.p);
}

/* rr_source_next_batch() frames one-byte prefixes in a loop of its own and
 * leaves everything else to rr_frame_next(): with one- and two-byte
 * prefixes, empty messages and a broken tail mixed, every batch size must
 * yield exactly the records rr_source_next() yields, one by one. */
Test(source, batch_of_mixed_prefixes_matches_one_by_one)
{
    bytes_t b = {0};
    for (uint64_t i = 0; i < 5000; i++) {
        size_t len = (i * 7919) % 9 == 0 ? 0 : (i * 7919) % 300; /* 0..299 bytes */
        uint8_t m[300];
        for (size_t j = 0; j < len; j++)
            m[j] = (uint8_t)(i + j);
        put_varint(&b, len);
        put(&b, m, len);
    }
    static const uint8_t tail[] = {0x80, 0x80}; /* unterminated prefix */
    put(&b, tail, sizeof tail);

    rr_record_t *want = malloc(6000 * sizeof *want);
    size_t nwant = 0;
    rr_source_t *s;
    char err[256];
    cr_assert_eq(rr_source_open_mem(b.p, b.n, NULL, &s, err, sizeof err), 0, "%s", err);
    while (rr_source_next(s, &want[nwant]) == 1)
        nwant++;
    rr_source_close(s);
    cr_assert_eq(nwant, 5001);
    cr_assert_eq(want[5000].status, RR_FRAME_BROKEN);

    static const size_t sizes[] = {1, 2, 3, 7, 64, 256, 10000};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++)
        for (int from_file = 0; from_file < 2; from_file++) {
            rr_record_t recs[10000];
            size_t seen = 0;
            int got;
            if (from_file)
                s = open_ok(write_file("mixed.pb", &b));
            else
                cr_assert_eq(rr_source_open_mem(b.p, b.n, NULL, &s, err, sizeof err), 0);
            while ((got = rr_source_next_batch(s, recs, sizes[k])) > 0) {
                cr_assert_leq((size_t)got, sizes[k]);
                for (int i = 0; i < got; i++, seen++) {
                    cr_assert_lt(seen, nwant);
                    cr_assert_eq(recs[i].status, want[seen].status, "record %zu", seen);
                    cr_assert_eq(recs[i].offset, want[seen].offset, "record %zu", seen);
                    cr_assert_eq(recs[i].len, want[seen].len, "record %zu", seen);
                    if (recs[i].status == RR_FRAME_OK)
                        cr_assert_eq(
                            memcmp(recs[i].data,
                                   b.p + want[seen].offset + (want[seen].len < 128 ? 1 : 2),
                                   recs[i].len),
                            0, "record %zu", seen);
                }
            }
            cr_assert_eq(got, 0, "batch size %zu: %s", sizes[k], rr_source_error(s));
            cr_assert_eq(seen, nwant, "batch size %zu", sizes[k]);
            rr_source_close(s);
        }
    free(want);
    free(b.p);
}

Test(source, memory_source_plain_and_zstd)
{
    int64_t off[3000];
    bytes_t b = stream_of(3000, off);
    bytes_t z = zstd_of(b.p, b.n, 2);
    rr_source_t *s = NULL;
    char err[256];
    rr_record_t last;

    cr_assert_eq(rr_source_open_mem(b.p, b.n, "mem", &s, err, sizeof err), 0, "%s", err);
    cr_assert_not(rr_source_is_zstd(s));
    cr_assert_eq(read_all(s, off, &last), 3000);
    rr_source_close(s);

    cr_assert_eq(rr_source_open_mem(z.p, z.n, NULL, &s, err, sizeof err), 0, "%s", err);
    cr_assert(rr_source_is_zstd(s));
    cr_assert_eq(read_all(s, off, &last), 3000);
    cr_assert_eq(rr_source_bytes_in(s), z.n);
    rr_source_close(s);

    /* the plain memory source frames in place: no copy */
    cr_assert_eq(rr_source_open_mem(b.p, b.n, "mem", &s, err, sizeof err), 0, "%s", err);
    rr_record_t rec;
    cr_assert_eq(rr_source_next(s, &rec), 1);
    cr_assert(rec.data > b.p && rec.data < b.p + b.n);
    rr_source_close(s);
    free(b.p);
    free(z.p);
}

Test(source, memory_source_broken_tail)
{
    static const uint8_t bytes[] = {0x02, 0x08, 0x01, 0x80};
    rr_source_t *s = NULL;
    char err[256];
    rr_record_t rec;
    cr_assert_eq(rr_source_open_mem(bytes, sizeof bytes, "mem", &s, err, sizeof err), 0);
    cr_assert_eq(rr_source_next(s, &rec), 1);
    cr_assert_eq(rec.status, RR_FRAME_OK);
    cr_assert_eq(rr_source_next(s, &rec), 1);
    cr_assert_eq(rec.status, RR_FRAME_BROKEN);
    cr_assert_eq(rec.offset, 3);
    cr_assert_eq(rec.len, 1);
    cr_assert_eq(rr_source_next(s, &rec), 0);
    rr_source_close(s);
}

/* ---- breaks before the end, resync, damaged zstd frames ------------------ */

/* Everything a source returns: the ids of its OK records in order, and
 * copies of the others. */
typedef struct got {
    uint64_t *ids;
    size_t n_ids;
    struct {
        int status;
        int64_t offset;
        size_t len;
        uint8_t *data;
    } other[64];
    size_t n_other;
} got_t;

static got_t read_got(rr_source_t *s)
{
    got_t g = {0};
    size_t cap = 1024;
    rr_record_t rec;
    int r;
    g.ids = malloc(cap * sizeof *g.ids);
    while ((r = rr_source_next(s, &rec)) == 1) {
        if (rec.status == RR_FRAME_OK) {
            rr_event_t e;
            cr_assert_eq(rr_decode_event(rec.data, rec.len, &e), RR_DECODE_OK,
                         "record at %lld does not decode", (long long)rec.offset);
            if (g.n_ids == cap) g.ids = realloc(g.ids, (cap *= 2) * sizeof *g.ids);
            g.ids[g.n_ids++] = e.event_id;
            continue;
        }
        cr_assert_lt(g.n_other, 64);
        g.other[g.n_other].status = rec.status;
        g.other[g.n_other].offset = rec.offset;
        g.other[g.n_other].len = rec.len;
        g.other[g.n_other].data = malloc(rec.len ? rec.len : 1);
        memcpy(g.other[g.n_other].data, rec.data, rec.len);
        g.n_other++;
    }
    cr_assert_eq(r, 0, "error: %s", rr_source_error(s));
    cr_assert_eq(rr_source_next(s, &rec), 0, "the end is sticky");
    return g;
}

static void got_free(got_t *g)
{
    for (size_t i = 0; i < g->n_other; i++)
        free(g->other[i].data);
    free(g->ids);
}

/* The ids are exactly lo..hi in order, except those in [skip_lo, skip_hi]. */
static void assert_ids(const got_t *g, uint64_t lo, uint64_t hi, uint64_t skip_lo, uint64_t skip_hi)
{
    size_t k = 0;
    for (uint64_t id = lo; id <= hi; id++) {
        if (id >= skip_lo && id <= skip_hi) continue;
        cr_assert_lt(k, g->n_ids, "id %llu missing", (unsigned long long)id);
        cr_assert_eq(g->ids[k], id, "record %zu: id %llu, want %llu", k,
                     (unsigned long long)g->ids[k], (unsigned long long)id);
        k++;
    }
    cr_assert_eq(k, g->n_ids, "%zu records, want %zu", g->n_ids, k);
}

static rr_source_t *open_resync(const char *path, int resync)
{
    rr_source_t *s = open_ok(path);
    rr_source_set_resync(s, resync);
    return s;
}

static void assert_notice_has(const rr_source_t *s, const char *what)
{
    cr_assert_not_null(strstr(rr_source_notice(s), what), "notice '%s' lacks '%s'",
                       rr_source_notice(s), what);
}

/* 3000 events with the length prefix of event 1001 overwritten by 4 bytes
 * saying 2^28 - 1 (the corruption); *brk is its offset, *again the
 * next record's. */
static bytes_t broken_stream(int64_t *off, int64_t *brk, int64_t *again)
{
    bytes_t b = stream_of(3000, off);
    static const uint8_t junk[] = {0xff, 0xff, 0xff, 0x7f};
    memcpy(b.p + off[1000], junk, sizeof junk);
    *brk = off[1000];
    *again = off[1001];
    return b;
}

/* The broken stream, plain and in one zstd frame. Without resync: the
 * file ends at the break with one record of the tail's first bytes, and
 * every byte from the break on is unread. With it: the bytes up to the
 * next record come back whole as one record, then every later event. */
static void broken_case(int resync)
{
    static int64_t off[3000];
    int64_t brk, again;
    bytes_t b = broken_stream(off, &brk, &again);
    for (int zstd = 0; zstd < 2; zstd++) {
        bytes_t f = zstd ? zstd_of(b.p, b.n, 1) : b;
        const char *path = write_file(zstd ? "brk.pb.zst" : "brk.pb", &f);
        rr_source_t *s = open_resync(path, resync);
        got_t g = read_got(s);
        rr_source_gaps_t gaps = rr_source_gaps(s);
        size_t len = resync ? (size_t)(again - brk) : RR_SOURCE_KEEP_BYTES;
        if (resync)
            assert_ids(&g, 1, 3000, 1001, 1001);
        else
            assert_ids(&g, 1, 1000, 1, 0);
        cr_assert_eq(g.n_other, 1, "one invalid record at the break");
        cr_assert_eq(g.other[0].status, RR_FRAME_TOO_LARGE);
        cr_assert_eq(g.other[0].offset, brk);
        cr_assert_eq(g.other[0].len, len);
        cr_assert_eq(memcmp(g.other[0].data, b.p + brk, len), 0);
        cr_assert_eq(gaps.unread_bytes, resync ? 0 : b.n - (size_t)brk);
        cr_assert_eq(gaps.skipped_bytes, resync ? len : 0);
        cr_assert_eq(gaps.breaks, 1);
        char want[128];
        assert_notice_has(s, path);
        snprintf(want, sizeof want, "breaks at byte %lld", (long long)brk);
        assert_notice_has(s, want);
        snprintf(want, sizeof want,
                 resync ? "read on from byte %lld" : "records decode again at byte %lld",
                 (long long)again);
        assert_notice_has(s, want);
        snprintf(want, sizeof want, "%llu bytes",
                 (unsigned long long)(resync ? len : b.n - (size_t)brk));
        assert_notice_has(s, want);
        got_free(&g);
        rr_source_close(s);
        if (zstd) free(f.p);
    }
    free(b.p);
}

Test(source, break_before_the_end_ends_the_file_and_every_byte_after_it_is_unread)
{
    broken_case(0);
}

Test(source, resync_skips_from_the_break_to_where_records_decode_again_whole)
{
    broken_case(1);
}

/* A tail longer than RR_SOURCE_KEEP_BYTES is not the SPEC's last record even
 * when nothing decodes in it: the dead letter would not hold it. */
Test(source, a_long_tail_where_nothing_decodes_is_unread_or_skipped_whole)
{
    int64_t off[10];
    bytes_t b = stream_of(10, off);
    size_t at = b.n, n = 5000;
    uint8_t *junk = malloc(n);
    memset(junk, 0xff, n);
    put(&b, junk, n);
    for (int resync = 0; resync < 2; resync++) {
        rr_source_t *s = open_resync(write_file("long.pb", &b), resync);
        got_t g = read_got(s);
        assert_ids(&g, 1, 10, 1, 0);
        cr_assert_eq(g.n_other, 1);
        cr_assert_eq(g.other[0].status, RR_FRAME_BROKEN);
        cr_assert_eq(g.other[0].offset, (int64_t)at);
        cr_assert_eq(g.other[0].len, resync ? n : RR_SOURCE_KEEP_BYTES);
        rr_source_gaps_t gaps = rr_source_gaps(s);
        cr_assert_eq(gaps.unread_bytes, resync ? 0 : n);
        cr_assert_eq(gaps.skipped_bytes, resync ? n : 0);
        cr_assert_eq(gaps.breaks, 1);
        if (!resync)
            assert_notice_has(s, "broken length prefix");
        else
            assert_notice_has(s, "nothing decodes after it");
        got_free(&g);
        rr_source_close(s);
    }
    free(junk);
    free(b.p);
}

/* A short tail in which records decode again is not the SPEC's last record
 * either: those records would be lost. */
Test(source, a_short_tail_where_records_decode_again_is_unread_or_resynced)
{
    int64_t off[12];
    bytes_t all = stream_of(12, off);
    bytes_t b = {0};
    put(&b, all.p, (size_t)off[10]); /* ids 1..10 */
    size_t at = b.n;
    uint8_t junk[11];
    memset(junk, 0xff, sizeof junk);
    put(&b, junk, sizeof junk);
    put(&b, all.p + off[10], all.n - (size_t)off[10]); /* ids 11, 12 */
    for (int resync = 0; resync < 2; resync++) {
        rr_source_t *s = open_resync(write_file("short.pb", &b), resync);
        got_t g = read_got(s);
        assert_ids(&g, 1, resync ? 12 : 10, 1, 0);
        cr_assert_eq(g.n_other, 1);
        cr_assert_eq(g.other[0].status, RR_FRAME_BROKEN);
        cr_assert_eq(g.other[0].offset, (int64_t)at);
        cr_assert_eq(g.other[0].len, resync ? sizeof junk : b.n - at);
        rr_source_gaps_t gaps = rr_source_gaps(s);
        cr_assert_eq(gaps.unread_bytes, resync ? 0 : b.n - at);
        cr_assert_eq(gaps.skipped_bytes, resync ? sizeof junk : 0);
        got_free(&g);
        rr_source_close(s);
    }
    free(all.p);
    free(b.p);
}

/* A length over RR_SOURCE_MAX_RECORD is a break, not a record to skip: a
 * corrupt prefix saying 100 MB would otherwise jump over 100 MB of events.
 * With resync the skipped bytes come back whole, in pieces of at most
 * RR_SOURCE_SKIP_PIECE, contiguous. */
static void oversize_case(int zstd, int complete, int resync)
{
    size_t big = RR_SOURCE_MAX_RECORD + 5000;
    int64_t off[4];
    bytes_t b = stream_of(2, off);
    int64_t big_at = (int64_t)b.n;
    uint8_t *zeros = calloc(1, big);
    put_varint(&b, big);
    put(&b, zeros, complete ? big : big - 1000);
    free(zeros);
    int64_t again = (int64_t)b.n;
    if (complete) { /* ids 3 and 4 */
        bytes_t more = stream_of(4, NULL);
        size_t cut = 1 + more.p[0];
        cut += 1 + more.p[cut];
        put(&b, more.p + cut, more.n - cut);
        free(more.p);
    }
    bytes_t f = zstd ? zstd_of(b.p, b.n, 1) : b;
    rr_source_t *s = open_resync(write_file(zstd ? "huge.pb.zst" : "huge.pb", &f), resync);
    got_t g = read_got(s);
    assert_ids(&g, 1, complete && resync ? 4 : 2, 1, 0);
    rr_source_gaps_t gaps = rr_source_gaps(s);
    uint64_t gap = (uint64_t)((complete ? again : (int64_t)b.n) - big_at);
    if (!resync) {
        cr_assert_eq(g.n_other, 1);
        cr_assert_eq(g.other[0].status, RR_FRAME_TOO_LARGE);
        cr_assert_eq(g.other[0].offset, big_at);
        cr_assert_eq(g.other[0].len, RR_SOURCE_KEEP_BYTES);
        cr_assert_eq(gaps.unread_bytes, b.n - (size_t)big_at);
    } else {
        cr_assert_geq(g.n_other, 2, "more than one piece");
        int64_t at = big_at;
        for (size_t i = 0; i < g.n_other; i++) {
            cr_assert_eq(g.other[i].status, i ? RR_FRAME_SKIPPED : RR_FRAME_TOO_LARGE);
            cr_assert_eq(g.other[i].offset, at, "piece %zu", i);
            cr_assert_leq(g.other[i].len, RR_SOURCE_SKIP_PIECE);
            cr_assert_eq(memcmp(g.other[i].data, b.p + at, g.other[i].len), 0);
            at += (int64_t)g.other[i].len;
        }
        cr_assert_eq((uint64_t)(at - big_at), gap);
        cr_assert_eq(gaps.skipped_bytes, gap);
        cr_assert_eq(gaps.unread_bytes, 0);
    }
    got_free(&g);
    rr_source_close(s);
    if (zstd) free(f.p);
    free(b.p);
}

Test(source, length_over_64_mib_is_a_break_read_on_with_resync, .timeout = 240)
{
    for (int k = 0; k < 8; k++)
        oversize_case(k & 1, k >> 1 & 1, k >> 2 & 1);
}

/* rr_source_next_batch() stops at every record of a break, so each batch's
 * records stay valid, and yields what rr_source_next() yields. */
Test(source, batches_with_a_resync_match_one_by_one)
{
    static int64_t off[3000];
    int64_t brk, again;
    bytes_t b = broken_stream(off, &brk, &again);
    static const size_t sizes[] = {1, 7, 256, 5000};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        rr_source_t *one = open_resync(write_file("b1.pb", &b), 1);
        rr_source_t *bat = open_resync(write_file("b2.pb", &b), 1);
        rr_record_t recs[5000], want;
        int got;
        size_t seen = 0;
        while ((got = rr_source_next_batch(bat, recs, sizes[k])) > 0)
            for (int i = 0; i < got; i++, seen++) {
                cr_assert_eq(rr_source_next(one, &want), 1);
                cr_assert_eq(recs[i].status, want.status);
                cr_assert_eq(recs[i].offset, want.offset);
                cr_assert_eq(recs[i].len, want.len);
                cr_assert_eq(memcmp(recs[i].data, want.data, want.len), 0, "record %zu", seen);
            }
        cr_assert_eq(got, 0);
        cr_assert_eq(rr_source_next(one, &want), 0);
        cr_assert_eq(seen, 3000);
        rr_source_close(one);
        rr_source_close(bat);
    }
    free(b.p);
}

/* zstd frames of `per` records each, at record boundaries, with checksums
 * (as io/filesink.h writes them); fstart[i] is frame i's compressed offset. */
static bytes_t zstd_frames(const bytes_t *b, const int64_t *off, size_t n, size_t per,
                           int64_t *fstart)
{
    bytes_t z = {0};
    size_t i = 0;
    for (size_t r = 0; r < n; r += per, i++) {
        size_t from = (size_t)off[r], to = r + per < n ? (size_t)off[r + per] : b->n;
        bytes_t one = zstd_sum_of(b->p + from, to - from, 1, 1);
        fstart[i] = (int64_t)z.n;
        put(&z, one.p, one.n);
        free(one.p);
    }
    fstart[i] = (int64_t)z.n;
    return z;
}

enum { DAMAGE_MIDDLE, DAMAGE_CHECKSUM, DAMAGE_CUT, DAMAGE_INSERT };

/* 5 frames of 1000 events; frame 2 damaged as `how` says. Without resync
 * the stream ends before frame 2 and its compressed bytes to the end are
 * unread; with it, the damaged bytes come back whole as one record and
 * every event of the other frames is read. */
static void damaged_frame_case(int how, int resync)
{
    static int64_t off[5000];
    int64_t fs[6];
    bytes_t b = stream_of(5000, off);
    bytes_t z = zstd_frames(&b, off, 5000, 1000, fs);
    int64_t gap_from = fs[2], gap_to = fs[3];
    uint64_t lost_lo = 2001, lost_hi = 3000, last = 5000;
    switch (how) {
    case DAMAGE_MIDDLE: /* 16 bytes in the middle of the frame */
        memset(z.p + (fs[2] + fs[3]) / 2, 0xff, 16);
        break;
    case DAMAGE_CHECKSUM: /* decodes whole, then fails its checksum */
        z.p[fs[3] - 1] ^= 0x01;
        break;
    case DAMAGE_CUT: /* the file ends inside frame 2 */
        z.n = (size_t)(fs[2] + fs[3]) / 2;
        gap_to = (int64_t)z.n;
        last = 2000;
        break;
    default: { /* 1000 bytes of junk between frames 1 and 2 */
        bytes_t y = {0};
        uint8_t junk[1000];
        for (size_t i = 0; i < sizeof junk; i++)
            junk[i] = (uint8_t)(i * 37 + 11);
        put(&y, z.p, (size_t)fs[2]);
        put(&y, junk, sizeof junk);
        put(&y, z.p + fs[2], z.n - (size_t)fs[2]);
        free(z.p);
        z = y;
        gap_to = fs[2] + (int64_t)sizeof junk;
        lost_lo = 1, lost_hi = 0;
    }
    }
    const char *path = write_file("dmg.pb.zst", &z);
    rr_source_t *s = open_resync(path, resync);
    got_t g = read_got(s);
    rr_source_gaps_t gaps = rr_source_gaps(s);
    cr_assert_eq(gaps.breaks, 1, "damage %d resync %d", how, resync);
    char want[64];
    snprintf(want, sizeof want, "frame at compressed byte %lld", (long long)gap_from);
    assert_notice_has(s, path);
    assert_notice_has(s, want);
    if (!resync) {
        assert_ids(&g, 1, 2000, 1, 0);
        cr_assert_eq(g.n_other, 0);
        cr_assert_eq(gaps.unread_bytes, z.n - (size_t)gap_from, "damage %d: unread %llu", how,
                     (unsigned long long)gaps.unread_bytes);
    } else {
        assert_ids(&g, 1, last, lost_lo, lost_hi);
        cr_assert_eq(g.n_other, 1, "damage %d", how);
        cr_assert_eq(g.other[0].status, RR_FRAME_ZSTD_DAMAGED);
        cr_assert_eq(g.other[0].offset, gap_from);
        cr_assert_eq(g.other[0].len, (size_t)(gap_to - gap_from), "damage %d: %zu bytes", how,
                     g.other[0].len);
        cr_assert_eq(memcmp(g.other[0].data, z.p + gap_from, g.other[0].len), 0);
        cr_assert_eq(gaps.skipped_bytes, (uint64_t)(gap_to - gap_from));
        cr_assert_eq(gaps.unread_bytes, 0);
    }
    got_free(&g);
    rr_source_close(s);
    free(z.p);
    free(b.p);
}

Test(source, a_damaged_zstd_frame_ends_the_file_or_is_skipped_whole)
{
    for (int resync = 0; resync < 2; resync++) {
        damaged_frame_case(DAMAGE_MIDDLE, resync);
        damaged_frame_case(DAMAGE_INSERT, resync);
    }
}

/* Silent damage (zstd decodes garbage) is caught by the checksum at the end
 * of the frame; its records were held back, so none of them is returned. */
Test(source, a_frame_failing_its_checksum_returns_none_of_its_records)
{
    damaged_frame_case(DAMAGE_CHECKSUM, 0);
    damaged_frame_case(DAMAGE_CHECKSUM, 1);
}

Test(source, a_zstd_file_cut_inside_a_frame_is_incomplete_not_an_error)
{
    damaged_frame_case(DAMAGE_CUT, 0);
    damaged_frame_case(DAMAGE_CUT, 1);
}

/* Another writer's frames need not start at a record boundary: after the
 * damaged frame the resync rule finds the first record that decodes again,
 * and what lies between is returned whole. Every event wholly inside an
 * intact frame, bar the few next to the damage, is read; no other record
 * is OK. */
Test(source, damaged_frames_of_another_writer_resync_inside_the_next_frame)
{
    static int64_t off[20000];
    bytes_t b = stream_of(20000, off);
    bytes_t z = zstd_sum_of(b.p, b.n, 7, 1); /* boundaries inside records */
    /* frame 3: find it by walking the frames */
    size_t fs[8], at = 0;
    for (int i = 0; i < 7; i++) {
        fs[i] = at;
        at += ZSTD_findFrameCompressedSize(z.p + at, z.n - at);
    }
    fs[7] = at;
    memset(z.p + (fs[3] + fs[4]) / 2, 0xff, 16);
    rr_source_t *s = open_resync(write_file("foreign.pb.zst", &z), 1);
    got_t g = read_got(s);
    size_t per = b.n / 7 + 1; /* decompressed bytes per frame */
    uint64_t first_lost = 0, last_lost = 0;
    for (size_t k = 0, id = 1; id <= 20000; id++) {
        if (k < g.n_ids && g.ids[k] == id) {
            k++;
            continue;
        }
        if (!first_lost) first_lost = id;
        last_lost = id;
    }
    cr_assert_eq(g.n_ids, 20000 - (last_lost - first_lost + 1), "the lost ids are one run");
    /* the run covers frame 3 and at most the records across its edges and
     * the few before the resync rule's four */
    cr_assert_leq((size_t)off[first_lost - 1], 3 * per);
    cr_assert_geq((size_t)off[first_lost - 1], 3 * per - 200);
    cr_assert_geq((size_t)off[last_lost - 1], 4 * per - 200);
    cr_assert_leq((size_t)off[last_lost - 1], 4 * per + 200);
    int saw_zstd = 0;
    for (size_t i = 0; i < g.n_other; i++) {
        saw_zstd += g.other[i].status == RR_FRAME_ZSTD_DAMAGED;
        int st = g.other[i].status;
        cr_assert(st == RR_FRAME_ZSTD_DAMAGED || st == RR_FRAME_SKIPPED || st == RR_FRAME_PAST_END,
                  "status %d", st);
    }
    cr_assert_eq(saw_zstd, 1);
    cr_assert_eq(rr_source_gaps(s).unread_bytes, 0);
    got_free(&g);
    rr_source_close(s);
    free(z.p);
    free(b.p);
}

Test(source, a_zstd_frame_this_decoder_cannot_read_is_an_error)
{
    /* a frame asking for a 2^41-byte window: intact, just not readable here */
    static const uint8_t big_window[] = {0x28, 0xb5, 0x2f, 0xfd, 0x00, 0xf8, 0, 0, 0, 0};
    bytes_t z = {0};
    put(&z, big_window, sizeof big_window);
    const char *path = write_file("window.pb.zst", &z);
    rr_source_t *s = open_ok(path);
    rr_record_t rec;
    cr_assert_eq(rr_source_next(s, &rec), -1);
    cr_assert_not_null(strstr(rr_source_error(s), path), "%s", rr_source_error(s));
    cr_assert_not_null(strstr(rr_source_error(s), "compressed byte 0"), "%s", rr_source_error(s));
    cr_assert_eq(rr_source_next(s, &rec), -1, "errors are sticky");
    rr_source_close(s);
    free(z.p);
}

/* A file still being written when the run reads its end: what it gains
 * afterwards is unread, counted until the gaps are asked for. */
Test(source, a_file_that_grows_after_its_end_was_read_counts_the_growth_unread)
{
    bytes_t b = stream_of(100, NULL);
    const char *path = write_file("growing.pb", &b);
    rr_source_t *s = open_ok(path);
    rr_record_t last;
    cr_assert_eq(read_all(s, NULL, &last), 100);
    cr_assert_eq(rr_source_gaps(s).unread_bytes, 0);
    cr_assert_str_empty(rr_source_notice(s));
    FILE *f = fopen(path, "ab");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(b.p, 1, 50, f), 50);
    cr_assert_eq(fclose(f), 0);
    cr_assert_eq(rr_source_gaps(s).unread_bytes, 50);
    assert_notice_has(s, "grew by 50 bytes after its end was read");
    rr_source_close(s);
    free(b.p);
}

Test(source, a_file_that_shrinks_under_the_reader_is_an_error)
{
    size_t n = 400000; /* ~14 MB: the first read takes 4 MiB */
    bytes_t b = stream_of(n, NULL);
    const char *path = write_file("shrinking.pb", &b);
    rr_source_t *s = open_ok(path);
    cr_assert_eq(truncate(path, 1 << 20), 0);
    rr_record_t rec;
    int r;
    while ((r = rr_source_next(s, &rec)) == 1)
        ;
    cr_assert_eq(r, -1);
    cr_assert_not_null(strstr(rr_source_error(s), "shrank"), "%s", rr_source_error(s));
    rr_source_close(s);
    free(b.p);
}
