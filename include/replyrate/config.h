/* replyrate/config.h: what a job computes (SPEC §4) and how it treats time
 * (SPEC §3, §5).
 *
 * rr_config_t is a plain value: fixed arrays, no pointers, copyable. The
 * built-in default (rr_config_default) declares the platforms' metrics and
 * alerts, so a run with no configuration computes them all. A config file
 * (src/cli/config_file.c, docs/config.md) starts from the default job
 * settings and replaces the metric and alert lists when it declares them.
 *
 * All functions here are pure (no I/O, no global state) and thread-safe.
 *
 * Layer: metrics (src/metrics/config.c implements it).
 */
#ifndef REPLYRATE_CONFIG_H
#define REPLYRATE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define RR_MAX_METRICS 32
#define RR_MAX_ALERTS 32
#define RR_NAME_MAX 64
#define RR_EXPR_MAX 256
#define RR_BUCKETS 8

typedef enum rr_metric_kind {
    RR_KIND_MESSAGE_WITHIN = 1,
    RR_KIND_SESSION_WITHIN,
    RR_KIND_BUYER_WITHIN,
    RR_KIND_BUYER_REPLIED,
    RR_KIND_RESPONSE_TIME,
    RR_KIND_SATISFACTION,
    RR_KIND_UNASSIGNED,
} rr_metric_kind_t;

typedef enum rr_reply_kind {
    RR_REPLY_MANUAL = 1,    /* AGENT_MESSAGE only */
    RR_REPLY_EFFECTIVE = 2, /* AGENT_MESSAGE or ROBOT_MESSAGE */
} rr_reply_kind_t;

typedef enum rr_require {
    RR_REQUIRE_ANY = 0,  /* buyer_replied: a reply to >= 1 in-scope message */
    RR_REQUIRE_LAST = 1, /* buyer_replied: a reply to the buyer's last in-scope message */
} rr_require_t;

#define RR_EXCLUDE_INTERNAL 0x1u /* same bit as RR_FLAG_INTERNAL */
#define RR_EXCLUDE_SPAM 0x2u     /* same bit as RR_FLAG_SPAM */

#define RR_DAY_MS INT64_C(86400000)
/* Largest H: the engine relies on two local midnights (23 h apart at the
 * least, across a DST change) being further apart than H. */
#define RR_HORIZON_MAX_MS INT64_C(43200000)
/* Largest value of any duration setting or threshold (366 days): keeps
 * ts + duration far from int64 overflow. */
#define RR_DURATION_MAX_MS INT64_C(31622400000)
/* Largest jump_confirm: the engine holds up to this many events per partition. */
#define RR_JUMP_CONFIRM_MAX 1000000

typedef struct rr_metric_def {
    char name[RR_NAME_MAX];
    rr_metric_kind_t kind;
    rr_reply_kind_t reply;  /* satisfaction: RR_REPLY_MANUAL (manual-phase ratings) */
    int64_t threshold_ms;   /* T; *_within kinds only */
    int32_t window_from_ms; /* local time of day, [from, to); 0..86400000 */
    int32_t window_to_ms;
    uint32_t excludes;    /* RR_EXCLUDE_* */
    rr_require_t require; /* buyer_replied only */
} rr_metric_def_t;

typedef struct rr_alert_def {
    char name[RR_NAME_MAX];
    char expr[RR_EXPR_MAX]; /* e.g. "pdd_buyer_3min < 0.50" (src/metrics/alert.h) */
} rr_alert_def_t;

typedef struct rr_config {
    char timezone[RR_NAME_MAX];  /* IANA zone name, default "Asia/Shanghai" */
    int64_t horizon_ms;          /* H, default 3 600 000 */
    int64_t lateness_ms;         /* allowed lateness, default 5 000 */
    int64_t max_future_ms;       /* default 86 400 000 */
    int64_t idle_timeout_ms;     /* wall clock, default 30 000 */
    int64_t conversation_ttl_ms; /* a conversation is over this long after its last event
                                  * (and after its day's end + H), default 6 h (SPEC §3 Lifetime) */
    int64_t jump_confirm;        /* held jumps that confirm a jump in a partition's time,
                                  * default 1000 (SPEC §7) */
    rr_metric_def_t metrics[RR_MAX_METRICS];
    size_t n_metrics;
    rr_alert_def_t alerts[RR_MAX_ALERTS];
    size_t n_alerts;
} rr_config_t;

/* Fill *cfg with the built-in default job (SPEC §4 table and alerts). */
void rr_config_default(rr_config_t *cfg);

/* Check a config for consistency (names unique, windows in range, H within
 * limits, alert expressions compile). 0 or -1 with errstr naming the bad item. */
int rr_config_validate(const rr_config_t *cfg, char *errstr, size_t errstr_size);

/* Where rr_config_validate_where found the problem, so a config file loader
 * can point at the line that declared it. */
typedef enum rr_config_part {
    RR_CONFIG_PART_NONE = 0,    /* the config as a whole (e.g. no metrics) */
    RR_CONFIG_PART_SETTING = 1, /* a job setting: key is its config-file name */
    RR_CONFIG_PART_METRIC = 2,  /* metrics[index]; key is the field ("window", ...) */
    RR_CONFIG_PART_ALERT = 3,   /* alerts[index]; key is the field ("name" or "rule") */
} rr_config_part_t;

typedef struct rr_config_where {
    rr_config_part_t part;
    size_t index;
    const char *key;  /* static string: "horizon", "window", "rule", ...; NULL if none */
    const char *key2; /* a second setting the check involves (ttl vs horizon), or NULL */
} rr_config_where_t;

/* rr_config_validate, also filling *where (if not NULL) on error. */
int rr_config_validate_where(const rr_config_t *cfg, rr_config_where_t *where, char *errstr,
                             size_t errstr_size);

/* The metric-set version every output record carries: a short stable string
 * derived from the metric and alert declarations and the job settings that
 * change results. Writes at most size bytes including NUL. */
void rr_config_version(const rr_config_t *cfg, char *out, size_t size);

/* The configuration as canonical text, for a hash that identifies it (the
 * run manifest's config_sha256): every field of rr_config_t, as stored, in
 * declaration order, one setting per line, integers in decimal, strings
 * quoted with \" \\ and \xHH escapes; nothing normalised (unlike
 * rr_config_version, two spellings of one metric differ here). Line 1 names
 * the format and its number ("replyrate-config 1"), raised whenever a field
 * is added. docs/operations.md shows an example. Writes at most size bytes
 * including a NUL (out may be NULL when size is 0) and returns the length of
 * the whole text, as snprintf does. */
size_t rr_config_canonical(const rr_config_t *cfg, char *out, size_t size);

/* Does this kind produce per-agent (agent_day) counts? */
int rr_metric_kind_per_agent(rr_metric_kind_t kind);

const char *rr_metric_kind_name(rr_metric_kind_t kind);

#endif
