#include "io/feed.h"

#include "codec/decode.h"

#define CHUNK 64 /* records decoded, then offered as one batch: their rr_offer_t stay in L1 */

const char *rr_feed_frame_reason(int status)
{
    switch (status) {
    case RR_FRAME_BROKEN:
        return "broken_length_prefix";
    case RR_FRAME_PAST_END:
        return "length_past_end_of_file";
    case RR_FRAME_TOO_LARGE:
        return "record_too_large";
    case RR_FRAME_SKIPPED:
        return "resync_skipped_bytes";
    case RR_FRAME_ZSTD_DAMAGED:
        return "damaged_zstd_frame";
    default:
        return "unframeable_record";
    }
}

/* Decode up to n records and offer them as one batch; the batch ends early
 * after an event whose ts is above cut_ts. Returns how many were offered. */
static size_t feed_chunk(rr_engine_t *eng, int p, const rr_record_t *recs, size_t n, int64_t now_ms,
                         rr_feed_counts_t *counts, int64_t cut_ts)
{
    rr_offer_t o[CHUNK];
    for (size_t k = 0; k < n; k++) {
        const rr_record_t *r = &recs[k];
        int st = r->status != RR_FRAME_OK ? -1 : rr_decode_event(r->data, r->len, &o[k].ev);
        o[k].reason = st == RR_DECODE_OK ? NULL
                      : st < 0           ? rr_feed_frame_reason(r->status)
                                         : rr_decode_strerror(st);
        o[k].offset = r->offset;
        o[k].raw = r->data;
        o[k].raw_len = r->len;
        if (st == RR_DECODE_OK)
            counts->decoded++;
        else
            counts->undecodable++;
        if (st == RR_DECODE_OK && o[k].ev.ts_ms > cut_ts) n = k + 1;
    }
    rr_engine_offer_batch(eng, p, o, n, now_ms);
    return n;
}

void rr_feed_records(rr_engine_t *eng, int p, const rr_record_t *recs, size_t n, int64_t now_ms,
                     rr_feed_counts_t *counts)
{
    rr_feed_counts_t dummy = {0};
    if (!counts) counts = &dummy;
    for (size_t i = 0; i < n; i += CHUNK)
        feed_chunk(eng, p, recs + i, n - i < CHUNK ? n - i : CHUNK, now_ms, counts, INT64_MAX);
}

size_t rr_feed_records_until(rr_engine_t *eng, int p, const rr_record_t *recs, size_t n,
                             int64_t now_ms, rr_feed_counts_t *counts, int64_t stop_wm,
                             int64_t lateness_ms)
{
    rr_feed_counts_t dummy = {0};
    if (!counts) counts = &dummy;
    /* only an event above stop_wm + lateness can take the watermark past
     * stop_wm: each batch ends at one, and the watermark is looked at */
    int64_t cut = stop_wm > INT64_MAX - lateness_ms ? INT64_MAX : stop_wm + lateness_ms;
    size_t i = 0;
    while (i < n) {
        i += feed_chunk(eng, p, recs + i, n - i < CHUNK ? n - i : CHUNK, now_ms, counts, cut);
        int64_t wm = rr_engine_partition_watermark(eng, p);
        if (wm != INT64_MIN && wm > stop_wm) break;
    }
    return i;
}
