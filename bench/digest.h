/* bench/digest.h: an order-free digest of result records, so two
 * implementations of the same job can be compared record for record without
 * sorting: the sum (mod 2^64) of one hash per record. Used by rr_bench's
 * --digest for the engine's records and by the compact prototype
 * (compact.c) for its own. Alerts are not included (the prototype computes
 * none). */
#ifndef RR_BENCH_DIGEST_H
#define RR_BENCH_DIGEST_H

#include <stdint.h>

#include "replyrate/engine.h"

typedef struct rr_digest {
    uint64_t days, violations; /* sums of record hashes */
    uint64_t n_shop_days, n_agent_days, n_violations;
} rr_digest_t;

/* A final shop_day (agent 0, is_agent 0) or agent_day record: n values. */
void rr_digest_day(rr_digest_t *d, int is_agent, uint64_t shop, uint64_t agent, int32_t ymd,
                   const rr_value_t *v, size_t n);
void rr_digest_violation(rr_digest_t *d, const rr_violation_record_t *r);

#endif
