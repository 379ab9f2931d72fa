/* bench/skeleton.h: the engine's data path reduced to its architecture
 * (decode, one hash, prefetch, acceptance, dedup, reorder drained per batch,
 * two touches of a 128-byte record), no metric logic: the floor that
 * rr_bench's skeleton-mem mode measures the engine against (skeleton.c). */
#ifndef RR_BENCH_SKELETON_H
#define RR_BENCH_SKELETON_H

#include <stddef.h>
#include <stdint.h>

#include "io/source.h"

typedef struct skel skel_t;

typedef struct skel_counts {
    uint64_t applied, duplicate, late, invalid, released;
} skel_counts_t;

int skel_new(skel_t **out); /* 0, or -1 out of memory */
void skel_free(skel_t *s);
/* judge and buffer n records, release what the watermark passed: 0, or -1 out of memory */
int skel_feed(skel_t *s, const rr_record_t *recs, size_t n, int64_t now_ms);
void skel_finish(skel_t *s); /* release everything buffered */
const skel_counts_t *skel_counts(const skel_t *s);

#endif
