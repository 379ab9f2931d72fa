/* pipeline/run_shards.h: `replyrate run` on several cores: one engine per shard.
 *
 * The input files (partitions) are dealt to N shards (file i to shard
 * i mod N); each shard is an engine of its own, fed by its own thread, which
 * reads its files round-robin exactly as a single engine would. Because a
 * partition holds every event of its shops (SPEC §2: partitioned by shop),
 * every per-shop and per-buyer aggregate stays inside one shard, and the
 * records are the ones a single engine publishes over the same files
 * (docs/engine.md, "Shards"): only their order across shards differs.
 *
 * Records go to the caller's sink under one lock, with `partition` of
 * rejected records translated back to the input's index. The summary adds
 * the shards' counts; shops seen in several partitions are counted across
 * shards too.
 */
#ifndef RR_CLI_RUN_SHARDS_H
#define RR_CLI_RUN_SHARDS_H

#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/tz.h"
#include "io/source.h"
#include "replyrate/config.h"
#include "replyrate/engine.h"

typedef struct rr_shard_run {
    /* in */
    const rr_config_t *cfg;
    const rr_tz_t *tz;
    rr_sink_t sink; /* called by one shard at a time */
    rr_source_t **src;
    const char *const *names; /* partition names (the input paths) */
    int n_in;
    int n_shards; /* 1..n_in */
    int have_now;
    int64_t now_ms;
    int quiet; /* no progress lines */
    volatile sig_atomic_t *stop; /* set by a signal handler: stop reading (may be NULL) */
    atomic_int *gap_seen; /* set to 1 when an input is found to have unread bytes (may be NULL) */
    /* out */
    rr_stats_t stats;
    double seconds;
    int input_failed; /* an input could not be read: the shards stopped early */
    int stopped;      /* *stop was set: the shards stopped early, engines not finished */
} rr_shard_run_t;

/* Run every shard to the end of its input (or until *stop) and finish its
 * engines (not when stopped: nothing is to be published). Returns 0;
 * 1 after a runtime error (an unreadable input: input_failed; an engine out
 * of memory: it still finished, as one engine does), named on stderr; 2 when
 * the config is rejected. stats are valid unless 2 is returned. */
int rr_run_shards(rr_shard_run_t *run);

#endif
