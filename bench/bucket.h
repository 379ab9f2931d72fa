/* bench/bucket.h: a prototype of the design after the compact record
 * (issue 16): the day in cache-sized passes. The engine's per-event work
 * reads the state of the event's conversation, one of 1.7 million on the
 * 20M-event day, so most of those reads miss the caches. Here a first step
 * decodes each record once, follows the partition's greatest applied ts in
 * arrival order (all lateness needs; nothing per conversation) and deals the
 * record's bytes, with that ts as it was when the record arrived, to one of
 * k buckets by its shop. Every `slice` records dealt, each bucket's are
 * offered in order to the bucket's own engine (the real one), which is told
 * the partition's ts before each (rr_engine_offer_batch_seen): every
 * watermark decision is the one an engine reading the whole partition makes,
 * while an engine at work has about 1/k of the day's state, which the
 * caches can hold. Measured by rr_bench's bucket-mem mode beside
 * engine-mem, its records digested (digest.h) so a run compares them with
 * the engine's (bench/tests/prototypes_exact.sh).
 *
 * Not a product path: one partition, the engine's default config. Where the
 * first step cannot know what the engine will decide, it counts the event as
 * unsupported, so a run shows whether the day needed it: jumps (confirmed
 * ones move the partition's time in ways the first step does not follow) and
 * records over 64 KiB. Frames that do not decode are invalid whoever judges
 * them: the first bucket's engine counts them. It cannot see events invalid
 * against their conversation (another shop or buyer): such an event moves
 * the first step's ts and not the engine's, and lands in its own shop's
 * bucket, not its conversation's; the verdict counts show whether a day had
 * any. A shop is never split, so the largest shop is one bucket's state. */
#ifndef RR_BENCH_BUCKET_H
#define RR_BENCH_BUCKET_H

#include <stddef.h>
#include <stdint.h>

#include "engine/tz.h"
#include "replyrate/config.h"
#include "replyrate/engine.h"

typedef struct bkt_counts {
    rr_stats_t st;                    /* summed over the buckets' engines */
    uint64_t records;                 /* frames read */
    uint64_t unsupported;             /* jumps, records over 64 KiB: 0 for the result to be exact */
    uint64_t peak_open;               /* the buckets' peak open conversations, summed */
    uint64_t peak_bucket;             /* the largest bucket's */
    uint64_t buffer_bytes;            /* the largest bucket buffer */
    double first_user_s, first_sys_s; /* CPU seconds dealing */
    double second_user_s, second_sys_s; /* CPU seconds in the engines */
} bkt_counts_t;

/* Deal the delimited stream buf[0..len) (plain, framed in place: len < 4
 * GiB) to k buckets, each with an engine of its own publishing into sink;
 * every slice events dealt (0: the whole stream), offer each bucket's to its
 * engine. 0, or -1 with err. */
int bkt_run(const uint8_t *buf, size_t len, const rr_config_t *cfg, const rr_tz_t *tz,
            const rr_sink_t *sink, int k, size_t slice, int64_t now_ms, bkt_counts_t *out,
            char *err, size_t err_size);

#endif
