/* Tests for io/source: delimited ChatEvent files, plain and zstd, written to
 * a temporary directory; broken tails (SPEC §7), offsets, window growth,
 * oversize records, the batch API and memory sources. */
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

/* ChatEvent {event_id = id, shop_id = 7, ts_ms = 1763776800000 + id, type = BUYER_MESSAGE} */
static void put_event(bytes_t *b, uint64_t id)
{
    bytes_t m = {0};
    uint8_t t;
    t = 0x08, put(&m, &t, 1), put_varint(&m, id);
    t = 0x10, put(&m, &t, 1), put_varint(&m, 7);
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

static bytes_t zstd_of(const uint8_t *p, size_t n, int frames)
{
    bytes_t z = {0};
    size_t per = frames > 1 ? n / (size_t)frames + 1 : n;
    for (size_t off = 0; off < n || (n == 0 && z.n == 0); off += per) {
        size_t chunk = n - off < per ? n - off : per;
        size_t bound = ZSTD_compressBound(chunk);
        uint8_t *tmp = malloc(bound);
        size_t r = ZSTD_compress(tmp, bound, p + off, chunk, 3);
        cr_assert(!ZSTD_isError(r), "%s", ZSTD_getErrorName(r));
        put(&z, tmp, r);
        free(tmp);
        if (n == 0) break;
    }
    return z;
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

/* SPEC §7: a length running past the end is one last invalid record. */
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

Test(source, truncated_zstd_is_an_error_naming_the_file)
{
    bytes_t b = stream_of(20000, NULL);
    bytes_t z = zstd_of(b.p, b.n, 1);
    z.n -= 10;
    const char *path = write_file("cut.pb.zst", &z);
    rr_source_t *s = open_ok(path);
    rr_record_t rec;
    int r;
    while ((r = rr_source_next(s, &rec)) == 1)
        cr_assert_eq(rec.status, RR_FRAME_OK);
    cr_assert_eq(r, -1);
    cr_assert_not_null(strstr(rr_source_error(s), path), "%s", rr_source_error(s));
    cr_assert_eq(rr_source_next(s, &rec), -1, "errors are sticky");
    rr_source_close(s);
    free(b.p);
    free(z.p);
}

Test(source, corrupt_zstd_is_an_error)
{
    bytes_t b = stream_of(2000, NULL);
    bytes_t z = zstd_of(b.p, b.n, 1);
    for (size_t i = 20; i < z.n; i += 7)
        z.p[i] ^= 0x5a;
    rr_source_t *s = open_ok(write_file("bad.pb.zst", &z));
    rr_record_t rec;
    int r;
    while ((r = rr_source_next(s, &rec)) == 1)
        ;
    cr_assert_eq(r, -1);
    cr_assert_not_null(strstr(rr_source_error(s), "zstd"), "%s", rr_source_error(s));
    rr_source_close(s);
    free(b.p);
    free(z.p);
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

/* Over RR_SOURCE_MAX_RECORD: skipped as one TOO_LARGE record, reading goes
 * on; or PAST_END if the file ends inside it. */
static void oversize_case(int zstd, int complete)
{
    size_t big = RR_SOURCE_MAX_RECORD + 5000; /* beyond the window even when cut short */
    int64_t off[4];
    bytes_t b = stream_of(2, off);
    int64_t big_at = (int64_t)b.n;
    uint8_t *zeros = calloc(1, big);
    put_varint(&b, big);
    put(&b, zeros, complete ? big : big - 1000);
    free(zeros);
    if (complete) { /* two more events, ids 3 and 4 */
        bytes_t more = stream_of(4, NULL);
        size_t cut = 1 + more.p[0];
        cut += 1 + more.p[cut];
        off[2] = (int64_t)b.n;
        off[3] = (int64_t)b.n + (int64_t)(1 + more.p[cut]);
        put(&b, more.p + cut, more.n - cut);
        free(more.p);
    }
    bytes_t f = zstd ? zstd_of(b.p, b.n, 1) : b;
    rr_source_t *s = open_ok(write_file(zstd ? "huge.pb.zst" : "huge.pb", &f));
    rr_record_t rec;
    uint64_t want_id = 1;
    int saw_big = 0;
    int r;
    while ((r = rr_source_next(s, &rec)) == 1) {
        if (rec.offset == big_at) {
            cr_assert_eq(rec.status, complete ? RR_FRAME_TOO_LARGE : RR_FRAME_PAST_END);
            cr_assert_eq(rec.len, RR_SOURCE_KEEP_BYTES);
            saw_big = 1;
            continue;
        }
        cr_assert_eq(rec.status, RR_FRAME_OK);
        cr_assert_eq(rec.offset, off[want_id - 1]);
        rr_event_t e;
        cr_assert_eq(rr_decode_event(rec.data, rec.len, &e), RR_DECODE_OK);
        cr_assert_eq(e.event_id, want_id);
        want_id++;
    }
    cr_assert_eq(r, 0, "%s", rr_source_error(s));
    cr_assert(saw_big);
    cr_assert_eq(want_id, complete ? 5 : 3);
    rr_source_close(s);
    if (zstd) free(f.p);
    free(b.p);
}

Test(source, oversize_record_is_skipped_and_reading_goes_on, .timeout = 120)
{
    oversize_case(0, 1);
    oversize_case(1, 1);
}

Test(source, oversize_record_running_past_end_ends_the_file, .timeout = 120)
{
    oversize_case(0, 0);
    oversize_case(1, 0);
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
