/* pipeline/kafka_live.h: a bounded Kafka run over a topic that is still being
 * written: the hand-off between its writer (a producer on a thread of its
 * own) and the run (pipeline/run_kafka.h, rr_kafka_run_t.live).
 *
 * Why: a broker that keeps only so much of a partition (librdkafka's mock
 * cluster keeps 5 MiB, and `replyrate demo` runs on it) deletes the oldest
 * records beyond, read or not. A topic written whole before it is read
 * loses its head there; read while it is written, with the writer held back
 * while a partition's unread records exceed a bound, nothing is deleted
 * before it was read, however much is written.
 *
 *   writer                                   run
 *                                            assigns every partition at its log
 *                                            start, with no end (none is known)
 *   rr_kafka_live_pace before each record:   rr_kafka_live_read as it feeds them
 *   waits while the partition's unread
 *   records are more than a bound
 *   everything acknowledged (flushed):
 *   rr_kafka_live_end(each partition's end)  finishes each partition read to its
 *   (or rr_kafka_live_fail: the run fails)   end; when all are, ends as any
 *                                            bounded run (commit, summary)
 *   rr_kafka_live_pace says stop             rr_kafka_live_over when it returns
 *
 * Completeness stays the run's (docs/kafka.md, "Completeness"): a record
 * deleted all the same (a bound too large for the broker) stops it with
 * status 3, as in any bounded run.
 *
 * Ownership: the caller creates it before starting either side and frees it
 * after both are done. Thread-safety: one writer thread, and the run's
 * threads (each partition's progress written by one of them); every call
 * may be made from any of them. Layer: pipeline (libc and C11 atomics only).
 */
#ifndef RR_PIPELINE_KAFKA_LIVE_H
#define RR_PIPELINE_KAFKA_LIVE_H

#include <stdint.h>

typedef struct rr_kafka_live rr_kafka_live_t;

typedef enum rr_kafka_live_state {
    RR_KAFKA_LIVE_WRITING, /* no end known yet */
    RR_KAFKA_LIVE_ENDED,   /* rr_kafka_live_end_of holds every partition's end */
    RR_KAFKA_LIVE_FAILED,  /* the writer gave up: no end will come */
} rr_kafka_live_state_t;

/* For a topic of np partitions, each read from offset 0 so far. NULL when
 * out of memory. */
rr_kafka_live_t *rr_kafka_live_new(int np);
void rr_kafka_live_free(rr_kafka_live_t *l);
int rr_kafka_live_partitions(const rr_kafka_live_t *l);

/* The writer, before it puts a record to partition p: written is the
 * partition's end offset once it is put (the topic's offsets count its
 * records from 0 when it starts new). Waits while the partition's records
 * not yet read would be more than ahead, and then until they are at most
 * ahead / 2 (fewer, longer waits). 0; -1 once the run is over (it reads no
 * more: stop writing). */
int rr_kafka_live_pace(rr_kafka_live_t *l, int32_t p, int64_t written, int64_t ahead);

/* The writer: every record is acknowledged, and ends[0..np) are the
 * partitions' end offsets (their high watermarks now). */
void rr_kafka_live_end(rr_kafka_live_t *l, const int64_t *ends);

/* The writer: it stopped short; the run fails (status 1). */
void rr_kafka_live_fail(rr_kafka_live_t *l);

/* Whether the run is over (rr_kafka_live_over): the writer's check between
 * records. */
int rr_kafka_live_is_over(const rr_kafka_live_t *l);

/* The run: partition p has been read (fed) up to offset next. */
void rr_kafka_live_read(rr_kafka_live_t *l, int32_t p, int64_t next);

/* The run: what the writer has said. */
rr_kafka_live_state_t rr_kafka_live_state(const rr_kafka_live_t *l);

/* The run: partition p's end, once the state is RR_KAFKA_LIVE_ENDED. */
int64_t rr_kafka_live_end_of(const rr_kafka_live_t *l, int32_t p);

/* The run: it returns, and reads no more. */
void rr_kafka_live_over(rr_kafka_live_t *l);

#endif
