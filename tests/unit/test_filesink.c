/* Tests for io/sink: the zstd layout readers rely on to read past damage
 * (io/source.h): frames of at most RR_FILESINK_FRAME_BYTES of input, each
 * starting at a write (a record) and carrying a checksum; and that a file
 * written so, with one frame damaged, reads back whole but for that frame. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "codec/decode.h"
#include "codec/encode.h"
#include "io/filesink.h"
#include "io/source.h"

static char path[64];

static void setup(void)
{
    strcpy(path, "/tmp/rr_test_sink_XXXXXX");
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    strcat(path, ".zst");
}

static void teardown(void)
{
    unlink(path);
    path[strlen(path) - 4] = '\0';
    unlink(path);
}

TestSuite(sink, .init = setup, .fini = teardown);

/* Record i: a delimited ChatEvent with event_id i + 1. */
static size_t record(uint64_t i, uint8_t *buf)
{
    rr_event_t ev = {.event_id = i + 1,
                     .shop_id = 1 + i % 50,
                     .conversation_id = 1 + i / 7,
                     .buyer_id = 1 + i / 7,
                     .ts_ms = INT64_C(1795312800000) + (int64_t)i * 37,
                     .type = 4};
    return rr_encode_event_delimited(&ev, buf);
}

static uint64_t id_of(const uint8_t *m, size_t n)
{
    rr_event_t ev;
    cr_assert_eq(rr_decode_event(m, n, &ev), RR_DECODE_OK);
    return ev.event_id - 1;
}

static uint8_t *slurp(size_t *n)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    rewind(f);
    uint8_t *p = malloc(*n);
    cr_assert_eq(fread(p, 1, *n, f), *n);
    fclose(f);
    return p;
}

static size_t write_records(uint64_t n)
{
    rr_filesink_t *s;
    char err[256];
    cr_assert_eq(rr_filesink_open(path, 0, &s, err, sizeof err), 0, "%s", err);
    size_t bytes = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint8_t buf[RR_EVENT_DELIMITED_MAX_BYTES];
        size_t len = record(i, buf);
        cr_assert_eq(rr_filesink_write(s, buf, len), 0);
        bytes += len;
    }
    cr_assert_eq(rr_filesink_close(s, err, sizeof err), 0, "%s", err);
    return bytes;
}

Test(sink, zstd_frames_end_at_a_record_every_few_mib_with_a_checksum)
{
    uint64_t n = 600000; /* ~18 MB: five frames */
    size_t bytes = write_records(n);
    size_t zn;
    uint8_t *z = slurp(&zn);
    size_t cap = RR_FILESINK_FRAME_BYTES;
    uint8_t *out = malloc(cap);
    size_t at = 0, frames = 0, total = 0;
    uint64_t next = 0;
    while (at < zn) {
        size_t fz = ZSTD_findFrameCompressedSize(z + at, zn - at);
        cr_assert(!ZSTD_isError(fz), "frame %zu: %s", frames, ZSTD_getErrorName(fz));
        cr_assert(z[at + 4] & 0x04, "frame %zu has a content checksum", frames);
        size_t dn = ZSTD_decompress(out, cap, z + at, fz);
        cr_assert(!ZSTD_isError(dn), "frame %zu: %s", frames, ZSTD_getErrorName(dn));
        /* on its own, the frame frames into whole records, in order */
        size_t pos = 0;
        const uint8_t *m;
        size_t ml;
        int st;
        while ((st = rr_frame_next(out, dn, 1, &pos, &m, &ml)) == RR_FRAME_OK) {
            uint64_t i = id_of(m, ml);
            cr_assert_eq(i, next, "frame %zu starts at record %llu", frames,
                         (unsigned long long)next);
            next++;
        }
        cr_assert_eq(st, RR_FRAME_END, "frame %zu ends inside a record", frames);
        /* full: the next record would not have fitted */
        if (at + fz < zn) {
            uint8_t buf[RR_EVENT_DELIMITED_MAX_BYTES];
            cr_assert_gt(dn + record(next, buf), RR_FILESINK_FRAME_BYTES);
        }
        total += dn;
        at += fz;
        frames++;
    }
    cr_assert_eq(next, n);
    cr_assert_eq(total, bytes);
    cr_assert_geq(frames, bytes / RR_FILESINK_FRAME_BYTES);
    cr_assert_geq(frames, 3);
    free(out);
    free(z);
}

/* A file we wrote, a byte run damaged in its third frame: with resync every
 * record of the other frames is read, and the damaged frame's compressed
 * bytes come back whole. */
Test(sink, a_damaged_frame_of_ours_loses_that_frame_only)
{
    uint64_t n = 600000;
    write_records(n);
    size_t zn;
    uint8_t *z = slurp(&zn);
    size_t fs[3] = {0};
    for (int i = 1; i < 3; i++)
        fs[i] = fs[i - 1] + ZSTD_findFrameCompressedSize(z + fs[i - 1], zn - fs[i - 1]);
    size_t f2 = ZSTD_findFrameCompressedSize(z + fs[2], zn - fs[2]);
    memset(z + fs[2] + f2 / 2, 0x55, 8);
    rr_source_t *s;
    char err[256];
    cr_assert_eq(rr_source_open_mem(z, zn, "ours", &s, err, sizeof err), 0, "%s", err);
    rr_source_set_resync(s, 1);
    rr_record_t rec;
    uint64_t want = 0, lost = 0;
    int r, damaged = 0;
    while ((r = rr_source_next(s, &rec)) == 1) {
        if (rec.status != RR_FRAME_OK) {
            cr_assert_eq(rec.status, RR_FRAME_ZSTD_DAMAGED);
            cr_assert_eq(rec.offset, (int64_t)fs[2]);
            cr_assert_eq(rec.len, f2);
            damaged++;
            continue;
        }
        uint64_t i = id_of(rec.data, rec.len);
        if (i != want) { /* the damaged frame's records, once */
            cr_assert_eq(lost, 0);
            cr_assert_gt(i, want);
            lost = i - want;
        }
        want = i + 1;
    }
    cr_assert_eq(r, 0, "%s", rr_source_error(s));
    cr_assert_eq(want, n);
    cr_assert_eq(damaged, 1);
    cr_assert_gt(lost, 0);
    cr_assert_lt(lost * 20, RR_FILESINK_FRAME_BYTES, "one frame's records at most");
    cr_assert_eq(rr_source_gaps(s).skipped_bytes, f2);
    rr_source_close(s);
    free(z);
}
