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

/* Why a record could not even be framed (SPEC §7): its dead-letter reason. */
const char *rr_feed_frame_reason(int frame_status);

#endif
