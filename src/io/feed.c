#include "io/feed.h"

#include "codec/decode.h"

#define CHUNK 256
#define AHEAD 8 /* records between starting a conversation's load and using it */

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

static void feed_chunk(rr_engine_t *eng, int p, const rr_record_t *recs, size_t n, int64_t now_ms,
                       rr_feed_counts_t *counts)
{
    rr_event_t evs[CHUNK];
    int st[CHUNK];
    uint32_t hint[CHUNK];
    /* Three prefetch stages per conversation, each a few records before the
     * next needs it: its map slot (while decoding), its summary, its state. */
    for (size_t k = 0; k < n; k++) {
        st[k] = recs[k].status != RR_FRAME_OK ? -1
                                              : rr_decode_event(recs[k].data, recs[k].len, &evs[k]);
        hint[k] = UINT32_MAX;
        if (st[k] == RR_DECODE_OK) rr_engine_hint_slot(eng, p, evs[k].conversation_id);
    }
    for (size_t k = 0; k < n && k < AHEAD; k++)
        if (st[k] == RR_DECODE_OK) hint[k] = rr_engine_hint_conv(eng, p, evs[k].conversation_id);
    rr_engine_batch_begin(eng, p);
    for (size_t k = 0; k < n; k++) {
        if (k + AHEAD < n && st[k + AHEAD] == RR_DECODE_OK)
            hint[k + AHEAD] = rr_engine_hint_conv(eng, p, evs[k + AHEAD].conversation_id);
        if (k + AHEAD / 2 < n) rr_engine_hint_hot(eng, hint[k + AHEAD / 2]);
        const rr_record_t *r = &recs[k];
        if (st[k] == RR_DECODE_OK) {
            rr_engine_offer_hinted(eng, p, &evs[k], hint[k], r->offset, r->data, r->len, now_ms);
            counts->decoded++;
        } else {
            rr_engine_offer_undecodable(eng, p, r->offset, r->data, r->len,
                                        st[k] < 0 ? rr_feed_frame_reason(r->status)
                                                  : rr_decode_strerror(st[k]));
            counts->undecodable++;
        }
    }
    rr_engine_batch_end(eng, p);
}

void rr_feed_records(rr_engine_t *eng, int p, const rr_record_t *recs, size_t n, int64_t now_ms,
                     rr_feed_counts_t *counts)
{
    rr_feed_counts_t dummy = {0};
    if (!counts) counts = &dummy;
    for (size_t i = 0; i < n; i += CHUNK)
        feed_chunk(eng, p, recs + i, n - i < CHUNK ? n - i : CHUNK, now_ms, counts);
}
