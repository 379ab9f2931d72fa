/* gen/gen.h: the synthetic traffic generator behind `replyrate gen`.
 *
 * Produces a realistic, reproducible stream of ChatEvents (SPEC §1-§3) in
 * arrival order: shops of Zipf-distributed size, each with agents who serve a
 * bounded number of conversations at once and work a shift (nobody overnight),
 * buyers arriving on a diurnal curve, robot phases, queues when every agent
 * is saturated, lognormal reply delays with long tails, follow-up messages,
 * ratings, conversations spanning midnight, repeat buyers, internal and spam
 * buyers. Optional knobs then spoil the delivery the way real pipelines do:
 * duplicates, disorder within the allowed lateness, late events, invalid
 * events and undecodable records.
 *
 * The model ("model events") is drawn from its own PRNG stream and does not
 * depend on the knobs: the same seed, events, days, start day and shops give
 * the same conversations with or without duplicates, disorder, invalid or
 * garbage records, so an engine must compute the same results for both
 * (SPEC §3 Order/Duplicates, §7); late events are model events that the
 * engine must drop. The same options give byte-identical output.
 *
 * Four more knobs (off by default) make what SPEC §3 Lifetime and §7 jumps
 * are about, also from the knob stream: re-deliveries stamped anew 20 min
 * to hours after the original (duplicates for the conversation's whole
 * life), conversations resumed under their id around the moment they are
 * over, stale events in front of the stream, and a jump of the stream's time
 * by days. Re-deliveries leave the results unchanged while the conversation
 * lives; the others change them (new activity, moved ts), as the SPEC says.
 *
 * How it runs: conversations are scripted whole when they arrive (a few
 * hundred bytes each) and their events wait in a calendar of 256 ms
 * buckets with a small heap for the current bucket; memory is bounded by the
 * conversations open at once, not by the total (about 20 MB at 20 million
 * events a day). No allocation per event.
 *
 * Ownership: opts, its stats pointer and the callbacks' opaque are borrowed
 * for the call; events passed to emit are borrowed for the callback.
 * Thread-safety: rr_gen_run keeps all its state in the call; concurrent runs
 * are independent.
 * Layer: gen; uses engine (engine/tz.h: local days), replyrate/event.h,
 * libc. Prints nothing: errors go to errstr.
 */
#ifndef RR_GEN_GEN_H
#define RR_GEN_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "replyrate/event.h"

/* The kinds of invalid record the invalid knob injects (SPEC §7). Each is a
 * copy of an event just delivered, spoiled one way. */
enum rr_gen_invalid_kind {
    RR_GEN_INV_TYPE = 0,      /* type 0 or 11 */
    RR_GEN_INV_ZERO_ID,       /* event_id, shop_id or conversation_id 0 */
    RR_GEN_INV_SHOP_MISMATCH, /* another shop's id on an existing conversation */
    RR_GEN_INV_SECOND_BUYER,  /* BUYER_MESSAGE from another buyer after the first */
    RR_GEN_INV_AGENT_ZERO,    /* AGENT_ASSIGNED with agent_id 0 */
    RR_GEN_INV_RATING,        /* RATING 0 or 6..9 */
    RR_GEN_INV_FUTURE,        /* ts > 1 day past the stream, or past year 9999 */
    RR_GEN_INV_TS_RANGE,      /* ts 0 or negative */
    RR_GEN_INV_KINDS
};

/* What a run produced. The expect_* counts are what an engine reading the
 * stream as one partition (one file) with the default allowed lateness
 * (5 s), max_future (1 day) and jump_confirm (1000) must report (SPEC §7
 * order: invalid, late, duplicate, applied); they add up to records. They
 * are exact only when expect_exact is 1: not once 1000 jumps were held (the
 * emulation does not judge them again), nor with resumes, stale events, a
 * time jump, or re-deliveries later than conversation_ttl_ms (conversation
 * lives are not modelled). The wall-clock check is not modelled either
 * (an event ahead of the wall clock is a jump like any other). */
typedef struct rr_gen_stats {
    uint64_t records;       /* everything emitted: events + raw */
    uint64_t events;        /* passed to emit */
    uint64_t raw;           /* passed to emit_raw (garbage) */
    uint64_t model_events;  /* the model's events (== opts.events) */
    uint64_t conversations; /* conversations started */
    uint64_t shops;         /* shops in the model */
    uint64_t agents;        /* agents in the model */
    uint64_t duplicates;    /* re-deliveries injected */
    uint64_t disordered;    /* model events delivered behind later ones */
    uint64_t late;          /* model events delivered behind the watermark */
    uint64_t invalid;       /* invalid events injected (sum of invalid_kind) */
    uint64_t invalid_kind[RR_GEN_INV_KINDS];
    uint64_t garbage;         /* undecodable records (== raw) */
    uint64_t redelivered;     /* re-deliveries stamped anew (redeliver_rate) */
    uint64_t resumed;         /* conversations resumed (resume_rate) */
    uint64_t resumed_events;  /* events of resumed conversations (records on top) */
    uint64_t resumed_old_ids; /* old events re-delivered as a resume starts */
    uint64_t stale;           /* stale events in front of the stream */
    uint64_t jumped;          /* records whose ts the time jump moved */
    uint64_t expect_applied, expect_duplicate, expect_late, expect_invalid;
    int expect_exact;                /* 1: the expect_* counts are exact (above) */
    int64_t first_ts_ms, last_ts_ms; /* least and greatest model ts (after a jump) */
} rr_gen_stats_t;

typedef struct rr_gen_opts {
    uint64_t seed;          /* default 1 */
    uint64_t events;        /* model events, exactly (knob records come on top); default 1e6 */
    uint32_t days;          /* days of arrivals; default 1 */
    int32_t start_day;      /* first local day, YYYYMMDD; default 20261122 */
    int32_t utc_offset_min; /* local time = UTC + this; default 480 (Asia/Shanghai) */
    uint32_t shops;         /* 0 = scale with events: events / 2000 per day, at least 1 */
    double zipf_exponent;   /* shop size ~ 1 / rank^s; default 1.1 */
    double top_shop_share;  /* 0: as the zipf law gives; else the biggest shop's share of the
                               conversations (a skewed day), in 0..0.95 */
    double brief_share;     /* share of conversations that are one question, 0..1; default 0.
                               A brief one goes straight to the human queue and gets at most
                               one answer, with no session events: about 3 events that stay
                               open until conversation_ttl (a state-heavy day) */

    /* Knobs: the share of model events that get each treatment; default 0.
     * At most one treatment per event, so their sum must be <= 1. */
    double duplicate_rate; /* delivered again, same event_id: 90 % within 3 s, else 10 min..2 h
                              later */
    double disorder_rate;  /* delivered 1..disorder_ms late: still applicable */
    double late_rate;      /* delivered after the watermark passed it (> 5 s behind) */
    double invalid_rate;   /* followed by an invalid copy (a random rr_gen_invalid_kind) */
    double garbage_rate;   /* followed by an undecodable record (needs emit_raw) */
    int64_t disorder_ms;   /* 1..5000 (the default allowed lateness); default 4000 */

    /* SPEC §3 Lifetime and §7 jumps; default 0 (off). Their records are on
     * top of the model events. */
    double redeliver_rate;          /* share of model events (in the knob sum above) delivered
                                       again, same event_id, stamped anew 20 min..
                                       redeliver_max_delay_ms later */
    int64_t redeliver_max_delay_ms; /* 20 min..7 days; default 5 h */
    double resume_rate;             /* share of conversations that speak again under their id
                                       after their last event: a quarter while they live, a
                                       quarter just before they are over, a quarter just after,
                                       a quarter up to 12 h after (SPEC §3 Lifetime, judged with
                                       conversation_ttl_ms, H 1 h, lateness 5 s); half of them
                                       re-deliver one of their old events stamped anew */
    int64_t conversation_ttl_ms;    /* the engine's conversation_ttl the resumes are placed
                                       around: 1 h..366 days; default 6 h */
    uint32_t stale_events;          /* events ts 2 days..3 years old in front of the stream,
                                       each a buyer message of a conversation of its own */
    uint32_t jump_days;             /* 0, or 2..3660: every ts from jump_at_hour on is this many
                                       days later (a gap of more than max_future, SPEC §7) */
    uint32_t jump_at_hour;          /* hours after the first local midnight, 1..days * 24 - 1;
                                       default 24 */

    /* Undecodable records for the garbage knob: buf holds one record's
     * message bytes (the sink adds the length prefix, as for events),
     * borrowed for the call. NULL disables garbage (a garbage_rate > 0 is
     * then an error). Return 0, or non-zero to stop the run. */
    int (*emit_raw)(void *opaque, const uint8_t *buf, size_t len);

    rr_gen_stats_t *stats; /* filled at the end of rr_gen_run when not NULL; borrowed */
} rr_gen_opts_t;

/* Fill *o with the defaults above. */
void rr_gen_opts_default(rr_gen_opts_t *o);

/* Check options; 0 or -1 with errstr naming the bad option. */
int rr_gen_opts_check(const rr_gen_opts_t *o, char *errstr, size_t errstr_size);

/* Generate the stream: emit(opaque, ev) for every event in arrival order (and
 * o->emit_raw for garbage). emit returning non-zero stops the run. Returns 0,
 * or -1 with errstr set (bad options, out of memory, a callback stopped). */
int rr_gen_run(const rr_gen_opts_t *o, int (*emit)(void *opaque, const rr_event_t *ev),
               void *opaque, char *errstr, size_t errstr_size);

#endif
