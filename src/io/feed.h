/* io/feed.h: drive an engine from framed records (file sources, Kafka batches).
 *
 * Decodes a batch of records and offers them to one partition in order as
 * one batch (rr_engine_offer_batch: prefetching, one release per batch).
 * Undecodable records are offered as invalid with their reason. Results are
 * exactly those of offering the records one by one.
 *
 * Ownership: records and their bytes are borrowed for the call; the engine
 * is the caller's. Thread-safety: the engine's (one thread per engine); no
 * state of its own. Layer: io; uses codec (decode), io/source (the record
 * type), engine. Prints nothing.
 */
#ifndef RR_IO_FEED_H
#define RR_IO_FEED_H

#include <stddef.h>
#include <stdint.h>

#include "io/source.h"
#include "replyrate/engine.h"

/* Counts of one call: records that decoded and that did not. */
typedef struct rr_feed_counts {
    uint64_t decoded, undecodable;
} rr_feed_counts_t;

/* Offer recs[0..n) (borrowed) to partition p, arrived at wall-clock now_ms. */
void rr_feed_records(rr_engine_t *eng, int p, const rr_record_t *recs, size_t n, int64_t now_ms,
                     rr_feed_counts_t *counts);

/* As rr_feed_records, but stop right after the record that takes partition
 * p's watermark (rr_engine_partition_watermark) past stop_wm: returns how
 * many records were offered (n if none did). The stop does not depend on
 * how the records are cut into calls: a day range's end (docs/kafka.md,
 * "Day ranges") is the same record however they were fetched. lateness_ms:
 * the engine's (config lateness_ms): the watermark is the greatest applied
 * ts less it, so only an event above stop_wm + lateness_ms can move it
 * past, and each such event ends a batch. (An event held as a jump and
 * applied later, when a later event confirms it, moves it as that later
 * event is offered: only then is the stop one batch late.) */
size_t rr_feed_records_until(rr_engine_t *eng, int p, const rr_record_t *recs, size_t n,
                             int64_t now_ms, rr_feed_counts_t *counts, int64_t stop_wm,
                             int64_t lateness_ms);

/* Why a record could not even be framed (SPEC §7): its dead-letter reason. */
const char *rr_feed_frame_reason(int frame_status);

#endif
