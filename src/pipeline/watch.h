/* pipeline/watch.h: an engine's numbers into the run's telemetry
 * (ops/telemetry.h), from the thread that feeds it.
 *
 * Every mode calls rr_watch_engine after each batch it feeds (cheap: it
 * returns at once unless half a second has passed since its last push) and
 * once more with force when the engine is done, so the last numbers shown
 * are the run's last. It pushes each of the engine's partitions' events by
 * verdict and watermark, the engine's open conversations, open days and
 * state bytes, and beats the run's heart (/health).
 *
 * Ownership: rr_watch_t is the caller's, one per engine. Thread-safety: the
 * engine's feeding thread, while the engine is at rest. Layer: pipeline
 * (engine, ops).
 */
#ifndef RR_PIPELINE_WATCH_H
#define RR_PIPELINE_WATCH_H

#include "ops/telemetry.h"
#include "replyrate/engine.h"

typedef struct rr_watch {
    double next; /* rr_mono_s() of the next push; 0: push now */
} rr_watch_t;

/* prior, if not NULL, is added to the engine's partition 0: the counts of
 * earlier engines of the same partition (a stream's partition that was
 * revoked and came back restored). Returns 1 when it pushed (the caller may
 * push its own numbers then), 0 when it was too soon. */
int rr_watch_engine(rr_watch_t *w, const rr_engine_t *e, const rr_tm_partition_t *prior, int force);

/* The engine is gone (freed): its open state no longer counts. */
void rr_watch_engine_gone(const rr_engine_t *e);

#endif
