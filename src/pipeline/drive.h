/* pipeline/drive.h: the driver loop of a run over input files: one engine, or
 * one engine per shard on threads of their own.
 *
 * Each input file is one partition (SPEC §5), read in file order. The files
 * are dealt to N shards (file i to shard i mod N); each shard is an engine of
 * its own that reads its files round-robin, a batch at a time, so that every
 * partition's watermark advances and days are finalised (and memory
 * released) while the run goes on. A file that ends stops holding its
 * engine's watermark back; when every file of a shard has ended, its engine
 * publishes every open day as final (not when the run was stopped or an
 * input failed: nothing is to be published then).
 *
 * One loop drives every shard (drive.c, shard_loop). With one shard it runs
 * on the calling thread and reading (read(2), zstd, framing) runs a few
 * batches ahead on a reader thread (io/readahead.h), in exactly the order
 * the loop would read. With several, each shard's thread reads its own
 * files (rr_source_mux) while the calling thread prints progress.
 *
 * Because a partition holds every event of its shops (SPEC §2), every
 * per-shop and per-buyer aggregate stays inside one shard, and the records
 * are the ones one engine publishes over the same files (docs/engine.md,
 * "Shards"): only their order across shards differs. Records go to the
 * run's fan-out (pipeline/fanout.h) through one port per shard, under one
 * lock when there are several, with rejected records' `partition` the
 * input's index.
 *
 * Ownership: the sources, names, config, time zone and fan-out are
 * borrowed for the call. The calling thread only; the sources must not be
 * touched by anyone else during the call. Progress (of the input files'
 * bytes) goes through ops/progress.h; nothing else is printed: errors are
 * returned in err.
 * Layer: pipeline (io, engine, ops, base).
 */
#ifndef RR_PIPELINE_DRIVE_H
#define RR_PIPELINE_DRIVE_H

#include <signal.h>
#include <stdint.h>

#include "engine/tz.h"
#include "io/source.h"
#include "pipeline/fanout.h"
#include "replyrate/config.h"
#include "replyrate/engine.h"

typedef struct rr_drive {
    /* in */
    const rr_config_t *cfg;
    const rr_tz_t *tz;
    rr_fanout_t *fan;         /* every record; a source with unread bytes marks its gap */
    rr_source_t *const *src;  /* n_in sources, one partition each */
    const char *const *names; /* partition names (the input paths) */
    int n_in;
    int n_shards; /* 1..n_in (clamped) */
    int have_now;
    int64_t now_ms;
    int quiet;                   /* no progress */
    volatile sig_atomic_t *stop; /* set by a signal handler: stop reading (may be NULL) */
    /* out */
    rr_stats_t stats; /* the shards' counts added up (pipeline/shards.h) */
    double seconds;
    char *errstr; /* rr_drive_files's errstr, for its own functions */
    size_t errstr_size;
} rr_drive_t;

/* Run every shard to the end of its input (or until *stop). Returns 0; 1
 * after a runtime error (an unreadable input, out of memory, an engine's
 * error: errstr names the first, later ones are logged); 2 when the config
 * is rejected (errstr; nothing was read). stats and seconds are valid
 * unless 2 is returned. */
int rr_drive_files(rr_drive_t *d, char *errstr, size_t errstr_size);

#endif
