/* run_kafka.h: `replyrate run --brokers ... --topic ...`: a bounded run over
 * a Kafka topic.
 *
 * Each Kafka partition is one engine partition (SPEC §5), named
 * "TOPIC[P]", so dead letters carry the partition and the Kafka offset. The
 * end offsets are captured at start; every partition is read from its
 * beginning to that end, in offset order, and then stops holding the
 * watermark back (SPEC §5: a bounded run that has read a partition to its
 * end). When all have ended the caller finishes the engine.
 */
#ifndef RR_CLI_RUN_KAFKA_H
#define RR_CLI_RUN_KAFKA_H

#include <stdint.h>

#include "io/kafka.h"
#include "replyrate/engine.h"

typedef struct rr_kafka_run {
    const rr_kafka_opts_t *ko;
    const char *topic;
    const char *group; /* consumer group id (no offsets are committed yet) */
    rr_engine_t *eng;
    int have_now;
    int64_t now_ms;
    int quiet;
    /* out */
    double seconds;
    char err[512];
} rr_kafka_run_t;

/* 0 when every partition was read to its end, 1 with r->err on a runtime
 * error (no such topic, unreachable cluster at start, fatal client error),
 * 2 with r->err on a client configuration error. */
int rr_run_kafka(rr_kafka_run_t *r);

#endif
