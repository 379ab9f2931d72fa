/* bench/compact.h: a prototype of the engine redesigned around a compact
 * conversation record and the default metric set compiled as straight code
 * (issue 16, "the next design step"), measured by rr_bench's compact-mem
 * mode beside engine-mem and checked against the engine record for record
 * (digest.h). Not a product path: default metric set, the zone rr_bench loads,
 * one partition, no confirmed jumps, no alerts; it counts what it does not
 * support so a run shows it was not needed. */
#ifndef RR_BENCH_COMPACT_H
#define RR_BENCH_COMPACT_H

#include <stddef.h>
#include <stdint.h>

#include "digest.h"
#include "engine/tz.h"
#include "io/source.h"

typedef struct cmp cmp_t;

typedef struct cmp_counts {
    uint64_t applied, duplicate, late, invalid;
    uint64_t unsupported;             /* events of confirmed jumps: the prototype has none */
    uint64_t peak_convs, state_bytes; /* at the end: every conversation is kept */
} cmp_counts_t;

int cmp_new(const rr_tz_t *tz, cmp_t **out); /* 0, or -1 out of memory */
void cmp_free(cmp_t *s);
/* judge, buffer, apply n records: 0, or -1 out of memory */
int cmp_feed(cmp_t *s, const rr_record_t *recs, size_t n, int64_t now_ms);
int cmp_finish(cmp_t *s); /* release everything, finalise every day */
const cmp_counts_t *cmp_counts(const cmp_t *s);
const rr_digest_t *cmp_digest(const cmp_t *s);

#endif
