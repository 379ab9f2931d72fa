/* fuzz_source: libFuzzer target for io/source's breaks, resync and zstd
 * damage handling.
 *
 * The first input byte chooses the mode (bit 0: resync; bits 1-7: the
 * batch size, 0 meaning rr_source_next one record at a time); the rest is
 * read as a memory source: a delimited stream, or zstd when it starts with
 * a frame magic (the seeds hold frames of ours, with checksums, for the
 * fuzzer to damage). Nothing may crash or leak, and for a plain stream
 * every byte is accounted for exactly once:
 *   - records tile the input from offset 0 in order: an OK record covers
 *     its prefix and message, any other record (resync) its bytes, which
 *     are the input's own;
 *   - with resync nothing is unread and the records cover the whole input;
 *   - without, the records are followed by at most one last record at the
 *     break and then either the break's tail is that record, whole (nothing
 *     unread), or every byte from the break on is counted unread.
 * For zstd the counts must only be consistent (unread without resync,
 * skipped with it).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/source.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "check failed: %s (line %d)\n", #c, __LINE__);                         \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static size_t prefix_len(const uint8_t *p)
{
    size_t i = 0;
    while (p[i] & 0x80)
        i++;
    return i + 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    int resync = data[0] & 1;
    size_t batch = data[0] >> 1;
    const uint8_t *in = data + 1;
    size_t n = size - 1;

    rr_source_t *s;
    char err[256];
    if (rr_source_open_mem(in, n, "fuzz", &s, err, sizeof err) < 0) return 0;
    rr_source_set_resync(s, resync);
    int zstd = rr_source_is_zstd(s);

    rr_record_t recs[128];
    size_t acc = 0, others = 0;
    int64_t brk = -1; /* without resync: the break's record */
    size_t brk_len = 0;
    int r;
    for (;;) {
        r = batch ? rr_source_next_batch(s, recs, batch) : rr_source_next(s, &recs[0]);
        if (r <= 0) break;
        CHECK((size_t)r <= (batch ? batch : 1));
        for (int k = 0; k < r; k++) {
            const rr_record_t *rec = &recs[k];
            CHECK(rec->status >= RR_FRAME_OK && rec->status <= RR_FRAME_ZSTD_DAMAGED);
            CHECK(rec->status != RR_FRAME_END && rec->status != RR_FRAME_NEED_MORE);
            if (rec->status != RR_FRAME_OK) {
                CHECK(k == 0); /* alone in its batch: its bytes stay valid */
                others++;
            }
            if (zstd) continue;
            CHECK(brk < 0); /* nothing after the break's record */
            CHECK(rec->offset == (int64_t)acc);
            if (rec->status == RR_FRAME_OK) {
                size_t h = prefix_len(in + acc);
                CHECK(rec->data == in + acc + h);
                acc += h + rec->len;
            } else if (resync) {
                CHECK(rec->status != RR_FRAME_ZSTD_DAMAGED);
                CHECK(rec->len > 0 && rec->len <= n - acc);
                CHECK(memcmp(rec->data, in + acc, rec->len) == 0);
                acc += rec->len;
            } else {
                CHECK(rec->len <= RR_SOURCE_KEEP_BYTES && rec->len <= n - acc);
                CHECK(memcmp(rec->data, in + acc, rec->len) == 0);
                brk = (int64_t)acc;
                brk_len = rec->len;
            }
        }
    }
    CHECK(r == 0 || zstd); /* a memory source fails only on damage it cannot read */
    rr_source_gaps_t g = rr_source_gaps(s);
    if (zstd) {
        CHECK(resync ? g.unread_bytes == 0 : g.skipped_bytes == 0);
        CHECK(g.breaks || (g.unread_bytes == 0 && g.skipped_bytes == 0));
    } else if (resync) {
        CHECK(acc == n);
        CHECK(g.unread_bytes == 0);
    } else {
        CHECK(g.skipped_bytes == 0);
        if (brk < 0) {
            CHECK(acc == n && g.unread_bytes == 0);
        } else if (g.unread_bytes == 0) { /* a break at the end: the tail, whole */
            CHECK(brk_len == n - (size_t)brk);
            CHECK(brk_len <= RR_SOURCE_KEEP_BYTES);
            CHECK(g.breaks == 0);
        } else {
            CHECK(g.unread_bytes == n - (size_t)brk);
            CHECK(g.breaks == 1);
            CHECK(rr_source_notice(s)[0] != '\0');
        }
    }
    (void)others;
    rr_source_close(s);
    return 0;
}
