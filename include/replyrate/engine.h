/* replyrate/engine.h: the pure core. Events in, records out (SPEC §3-§7).
 *
 * The engine owns every byte of its state; it does no I/O, reads no clock and
 * starts no threads. The caller feeds decoded events per partition with the
 * wall-clock time of arrival, and receives records through an rr_sink_t whose
 * callbacks run synchronously inside rr_engine_* calls. Pointers inside a
 * record are borrowed: valid only during the callback.
 *
 * One engine is single-threaded; two engines share nothing and may run in
 * different threads.
 *
 * Layer: engine (src/engine/ implements it, using metrics and base only).
 */
#ifndef REPLYRATE_ENGINE_H
#define REPLYRATE_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "replyrate/config.h"
#include "replyrate/event.h"

typedef struct rr_tz rr_tz_t;

/* One metric's additive counts for one (shop[, agent], day) (SPEC §4). */
typedef struct rr_value {
    int64_t num;
    int64_t den;
    int64_t unanswered;          /* response_time only */
    int64_t buckets[RR_BUCKETS]; /* response_time only */
} rr_value_t;

/* A shop_day (is_agent 0) or agent_day (is_agent 1) result. */
typedef struct rr_day_record {
    int is_agent;
    uint64_t shop_id;
    uint64_t agent_id; /* agent_day only */
    int32_t day;       /* local date as YYYYMMDD */
    int final;
    uint32_t revision;        /* provisional revisions count from 1; final: 0 */
    const char *version;      /* metric-set version */
    const rr_config_t *cfg;   /* names and kinds, indexed like values */
    const rr_value_t *values; /* cfg->n_metrics entries; agent_day: only per-agent kinds set */
} rr_day_record_t;

typedef enum rr_reason {
    RR_REASON_LATE = 1,       /* answered after T */
    RR_REASON_NO_REPLY = 2,   /* never answered otherwise */
    RR_REASON_UNASSIGNED = 3, /* never answered, no agent within H of the round start */
} rr_reason_t;

typedef struct rr_violation_record {
    uint64_t shop_id;
    int32_t day; /* YYYYMMDD */
    const char *metric;
    uint64_t conversation_id;
    uint64_t buyer_id;
    uint64_t agent_id;
    int64_t round_start_ms;
    int answered; /* 0: reply_ms and wait_ms are null */
    int64_t reply_ms;
    int64_t wait_ms;
    uint32_t messages;
    rr_reason_t reason;
    int final;
    const char *version;
} rr_violation_record_t;

typedef struct rr_alert_record {
    uint64_t shop_id;
    int32_t day; /* YYYYMMDD */
    const char *rule;
    double value;
    int final;
    const char *version;
} rr_alert_record_t;

typedef enum rr_verdict {
    RR_APPLIED = 0,
    RR_DUPLICATE = 1,
    RR_LATE = 2,
    RR_INVALID = 3,
    RR_HELD = 4, /* a jump (SPEC §7): judged later, and counted then */
} rr_verdict_t;

/* An input event that was not applied (SPEC §7): late or invalid. */
typedef struct rr_rejected_record {
    rr_verdict_t verdict; /* RR_LATE or RR_INVALID */
    const char *reason;   /* "late", or why it is invalid */
    const char *source;   /* partition's name: file path or topic */
    int32_t partition;
    int64_t offset;     /* byte offset in the file, or Kafka offset */
    const uint8_t *raw; /* the record's bytes, may be NULL */
    size_t raw_len;
    int decoded; /* 0: bytes did not decode, event is zero */
    rr_event_t event;
    int64_t watermark_ms; /* the partition watermark at arrival; INT64_MIN: none yet */
} rr_rejected_record_t;

typedef struct rr_sink {
    void *opaque;
    void (*day)(void *opaque, const rr_day_record_t *r);
    void (*violation)(void *opaque, const rr_violation_record_t *r);
    void (*alert)(void *opaque, const rr_alert_record_t *r);
    void (*rejected)(void *opaque, const rr_rejected_record_t *r);
} rr_sink_t;

typedef struct rr_stats {
    uint64_t input, applied, duplicate, late, invalid; /* judged events (SPEC §7) */
    uint64_t held; /* jumps held, not judged nor counted in input yet */
    uint64_t open_conversations, peak_open_conversations;
    uint64_t active_conversations,
        peak_active_conversations; /* waiting for a reply: round state in memory */
    uint64_t evicted_conversations;
    uint64_t open_days;
    uint64_t shop_days, agent_days, violations, alerts; /* records published */
    uint64_t provisional; /* provisional shop_day and agent_day records published */
    uint64_t shops_in_several_partitions;
} rr_stats_t;

typedef struct rr_engine rr_engine_t;

/* cfg is copied; tz is borrowed and must outlive the engine; sink is copied.
 * Returns 0, or -1 with errstr set (config invalid, out of memory). */
int rr_engine_new(const rr_config_t *cfg, const rr_tz_t *tz, const rr_sink_t *sink,
                  rr_engine_t **out, char *errstr, size_t errstr_size);
void rr_engine_free(rr_engine_t *e);

/* Register an input partition; returns its index. name is copied. */
int rr_engine_add_partition(rr_engine_t *e, const char *name);

/* Offer one decoded event that arrived on partition p at wall-clock now_ms.
 * offset locates it in its source; raw/raw_len are its bytes (for rejected
 * records; may be NULL; copied when the event is held). Returns its verdict,
 * or RR_HELD for a jump (SPEC §7): an event more than max_future ahead of
 * the partition's greatest applied ts is held, and judged (with a verdict
 * reported through the sink and the stats only) once the partition applies
 * another event (it is invalid), holds jump_confirm of them (they are judged
 * again in arrival order, the first exempt from the rule) or ends (invalid). */
rr_verdict_t rr_engine_offer(rr_engine_t *e, int p, const rr_event_t *ev, int64_t offset,
                             const uint8_t *raw, size_t raw_len, int64_t now_ms);

/* One record of a batch offered to a partition: a decoded event, or (reason
 * not NULL) bytes that did not decode, offered as invalid with that reason.
 * offset, raw and raw_len as for rr_engine_offer. */
typedef struct rr_offer {
    rr_event_t ev;
    const char *reason;
    int64_t offset;
    const uint8_t *raw;
    size_t raw_len;
} rr_offer_t;

/* Offer o[0..n) to partition p in order, as if each were offered by itself
 * (rr_engine_offer, rr_engine_offer_undecodable): every record, count and
 * eviction is the same (tests/unit/test_feed.c). Faster, for two reasons:
 *   - each conversation id is hashed once, and its map slot, summary and
 *     active state are prefetched a few records ahead, so the cache misses
 *     of consecutive events overlap instead of queueing;
 *   - an applied event that moves the watermark no longer releases the
 *     events it passed at once: they are released together at the batch's
 *     end, or earlier where the per-event order would show (before a day is
 *     finalised or a sweep runs; src/engine/engine.c says why nothing else
 *     sees it).
 * One difference shows: a rejected event's record may reach the sink before
 * the results of events offered ahead of it in the batch (results and
 * rejected events never share an output). */
void rr_engine_offer_batch(rr_engine_t *e, int p, const rr_offer_t *o, size_t n, int64_t now_ms);

/* As rr_engine_offer_batch, with one partition's input split across
 * engines by shop (bench/bucket.c, issue 16's cache-sized passes): before
 * o[i], partition p's greatest applied ts becomes seen[i] if that is more
 * (INT64_MIN: unchanged), as if an event at seen[i] had been applied, so
 * every watermark decision (late, releases, finalised days, conversations
 * over) is the one the whole partition's engine makes. */
void rr_engine_offer_batch_seen(rr_engine_t *e, int p, const rr_offer_t *o, const int64_t *seen,
                                size_t n, int64_t now_ms);

/* Record bytes on partition p that did not decode (SPEC §7): counted invalid. */
void rr_engine_offer_undecodable(rr_engine_t *e, int p, int64_t offset, const uint8_t *raw,
                                 size_t raw_len, const char *reason);

/* Partition p was read to its end: it stops holding the job watermark back,
 * and the jumps it still holds are invalid (SPEC §7). */
void rr_engine_partition_end(rr_engine_t *e, int p);

/* Partition p's input starts at records stamped ts_ms or later: its reader
 * sought there by time (a bounded run over a range of days). Until an event
 * of p is applied, one more than max_future past ts_ms is a jump (SPEC §7:
 * held, then invalid unless confirmed), as if p's time were ts_ms; without
 * it, p's first event sets p's time whatever it is, and a far-future record
 * the seek landed on would make every later event late. No effect once an
 * event of p was applied. */
void rr_engine_partition_expect(rr_engine_t *e, int p, int64_t ts_ms);

/* Partition p was read to a range's end but its input goes on (a bounded run
 * over a range of days): as rr_engine_partition_end, except that the jumps
 * it holds stay unjudged and uncounted (they belong to a later range;
 * rr_stats_t.held counts them), also through rr_engine_finish. */
void rr_engine_partition_stop(rr_engine_t *e, int p);

/* Partition p's watermark (SPEC §5: its greatest applied ts minus the
 * allowed lateness); INT64_MIN before its first applied event. */
int64_t rr_engine_partition_watermark(const rr_engine_t *e, int p);

/* The partitions added (or restored), and what each has judged since: its
 * name as added, its events by verdict (not carried by checkpoints: a
 * restored partition starts again from 0), its watermark as above. For
 * watching a run (ops/telemetry.h); a few loads each. */
typedef struct rr_partition_stats {
    const char *name; /* the engine's: valid while the engine lives */
    uint64_t applied, duplicate, late, invalid;
    int64_t watermark_ms;
} rr_partition_stats_t;
int rr_engine_partitions(const rr_engine_t *e);
void rr_engine_partition_stats(const rr_engine_t *e, int p, rr_partition_stats_t *out);

/* End of a bounded run: apply everything buffered, judge held jumps invalid
 * (except those of stopped partitions), publish every open day as final.
 * The engine accepts no events afterwards. */
void rr_engine_finish(rr_engine_t *e);

/* Provisional revisions (SPEC §5): publish every open day's shop_day and
 * agent_day records as they stand, final 0, numbered with the day's next
 * revision (1, 2, ...; checkpoints keep the count). Counted is only what is
 * decided at the watermark of the conversation's partition: a message, round,
 * conversation or buyer whose outcome a reply still to come could change is
 * left out (docs/engine.md, "Provisional revisions"). Changes no result and
 * no final record. Returns the records published, or -1 when out of memory
 * (the revision that failed published nothing). */
int64_t rr_engine_provisional(rr_engine_t *e);

/* A self-check for tests: when on, each day publishes a provisional revision
 * just before its final records. At that point nothing is undecided, so the
 * two must carry the same counts. */
void rr_engine_set_provisional_at_final(rr_engine_t *e, int on);

void rr_engine_stats(const rr_engine_t *e, rr_stats_t *out);

/* Bytes the engine's state holds now, by what they are for: allocated
 * capacity (slabs, maps and vectors as grown, not only the slots in use),
 * and pooled blocks handed out. Not the process's RSS (no allocator
 * overhead, no input buffers), but what grows with the traffic. A few dozen
 * loads: cheap enough to sample once per batch. */
typedef struct rr_memory {
    size_t conversations; /* summaries and the conversation-id maps */
    size_t active;        /* hot records (round state) and their idle array */
    size_t blocks;        /* pooled blocks: event-id sets, cold ids, pending timestamps */
    size_t days;          /* conv-days, shop-days, agent-days, their maps, open days */
    size_t buffered;      /* reorder buffers and held jumps */
    size_t total;
} rr_memory_t;
void rr_engine_memory(const rr_engine_t *e, rr_memory_t *out);

/* Call fn once for every shop the engine has applied an event of: its first
 * partition, and whether it was seen in several of this engine's partitions.
 * For a caller running several engines (shards) that must count shops split
 * across them (SPEC §2). Any order. */
void rr_engine_each_shop(const rr_engine_t *e,
                         void (*fn)(void *opaque, uint64_t shop, int partition, int several),
                         void *opaque);

/* NULL while all is well; else why the engine's results cannot be trusted
 * (it ran out of memory: an event it could not hold went to the dead
 * letters as "engine_out_of_memory", or a record could not be updated). */
const char *rr_engine_error(const rr_engine_t *e);

/* Checkpoints (docs/engine.md, "Checkpoints"): the engine's whole state,
 * between two calls, as a byte stream; restored into a new engine of the same
 * configuration (and build), it goes on exactly as this one would have.
 * rr_engine_checkpoint hands the bytes to write (0 ok, -1 stop) and returns
 * 0, or -1 when write failed. rr_engine_restore reads them with read (0 when
 * all n bytes were read, -1 otherwise) into e, fresh from rr_engine_new with
 * no partition added (it adds the checkpoint's); 0, or -1 with errstr (not a
 * checkpoint, another configuration, truncated, out of memory): free e then. */
typedef int (*rr_ck_write_fn)(void *arg, const void *p, size_t n);
typedef int (*rr_ck_read_fn)(void *arg, void *p, size_t n);
int rr_engine_checkpoint(const rr_engine_t *e, rr_ck_write_fn write, void *arg);
int rr_engine_restore(rr_engine_t *e, rr_ck_read_fn read, void *arg, char *errstr,
                      size_t errstr_size);

#endif
