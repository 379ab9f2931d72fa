/* metrics/config.c: the built-in default job (SPEC §4 table and alerts),
 * validation, and the metric-set version every output record carries. */
#include "replyrate/config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "metrics/alert.h"

#define WIN_08_00 INT32_C(28800000)
#define WIN_23_00 INT32_C(82800000)
#define WIN_24_00 INT32_C(86400000)
#define T_180S INT64_C(180000)

static void set_metric(rr_metric_def_t *m, const char *name, rr_metric_kind_t kind,
                       rr_reply_kind_t reply, int64_t threshold_ms, int32_t from, int32_t to,
                       uint32_t excludes, rr_require_t require)
{
    memset(m, 0, sizeof *m);
    snprintf(m->name, sizeof m->name, "%s", name);
    m->kind = kind;
    m->reply = reply;
    m->threshold_ms = threshold_ms;
    m->window_from_ms = from;
    m->window_to_ms = to;
    m->excludes = excludes;
    m->require = require;
}

static void set_alert(rr_alert_def_t *a, const char *name, const char *expr)
{
    memset(a, 0, sizeof *a);
    snprintf(a->name, sizeof a->name, "%s", name);
    snprintf(a->expr, sizeof a->expr, "%s", expr);
}

/* SPEC §4: the default table, in table order. "—" for T is 0; satisfaction
 * counts manual-phase ratings, hence RR_REPLY_MANUAL. deploy/replyrate.conf
 * spells out exactly this set (tests/unit/test_config.c checks the versions
 * agree). */
void rr_config_default(rr_config_t *cfg)
{
    const uint32_t ex = RR_EXCLUDE_INTERNAL | RR_EXCLUDE_SPAM;

    memset(cfg, 0, sizeof *cfg);
    rr_metric_def_t *m = cfg->metrics;
    snprintf(cfg->timezone, sizeof cfg->timezone, "%s", "Asia/Shanghai");
    cfg->horizon_ms = INT64_C(3600000);
    cfg->lateness_ms = INT64_C(5000);
    cfg->max_future_ms = INT64_C(86400000);
    cfg->idle_timeout_ms = INT64_C(30000);
    cfg->conversation_ttl_ms = INT64_C(21600000);
    cfg->jump_confirm = 1000;

    set_metric(&m[0], "douyin_msg_3min", RR_KIND_MESSAGE_WITHIN, RR_REPLY_MANUAL, T_180S, WIN_08_00,
               WIN_23_00, 0, RR_REQUIRE_ANY);
    set_metric(&m[1], "douyin_session_3min", RR_KIND_SESSION_WITHIN, RR_REPLY_MANUAL, T_180S,
               WIN_08_00, WIN_23_00, 0, RR_REQUIRE_ANY);
    set_metric(&m[2], "douyin_satisfaction", RR_KIND_SATISFACTION, RR_REPLY_MANUAL, 0, WIN_08_00,
               WIN_23_00, 0, RR_REQUIRE_ANY);
    set_metric(&m[3], "douyin_unassigned", RR_KIND_UNASSIGNED, RR_REPLY_MANUAL, 0, 0, WIN_24_00, 0,
               RR_REQUIRE_ANY);
    set_metric(&m[4], "pdd_buyer_3min", RR_KIND_BUYER_WITHIN, RR_REPLY_MANUAL, T_180S, WIN_08_00,
               WIN_23_00, 0, RR_REQUIRE_ANY);
    set_metric(&m[5], "pdd_effective_reply", RR_KIND_BUYER_REPLIED, RR_REPLY_EFFECTIVE, 0,
               WIN_08_00, WIN_23_00, 0, RR_REQUIRE_ANY);
    set_metric(&m[6], "tmall_reply_rate", RR_KIND_BUYER_REPLIED, RR_REPLY_EFFECTIVE, 0, 0,
               WIN_24_00, ex, RR_REQUIRE_LAST);
    set_metric(&m[7], "tmall_response_time", RR_KIND_RESPONSE_TIME, RR_REPLY_EFFECTIVE, 0, 0,
               WIN_24_00, ex, RR_REQUIRE_ANY);
    cfg->n_metrics = 8;

    set_alert(&cfg->alerts[0], "pdd_warning", "pdd_buyer_3min < 0.50");
    set_alert(&cfg->alerts[1], "pdd_penalty",
              "pdd_effective_reply.denominator > 100 and pdd_effective_reply < 0.50");
    cfg->n_alerts = 2;
}

int rr_metric_kind_per_agent(rr_metric_kind_t kind)
{
    return kind == RR_KIND_MESSAGE_WITHIN || kind == RR_KIND_RESPONSE_TIME ||
           kind == RR_KIND_SATISFACTION;
}

const char *rr_metric_kind_name(rr_metric_kind_t kind)
{
    switch (kind) {
    case RR_KIND_MESSAGE_WITHIN:
        return "message_within";
    case RR_KIND_SESSION_WITHIN:
        return "session_within";
    case RR_KIND_BUYER_WITHIN:
        return "buyer_within";
    case RR_KIND_BUYER_REPLIED:
        return "buyer_replied";
    case RR_KIND_RESPONSE_TIME:
        return "response_time";
    case RR_KIND_SATISFACTION:
        return "satisfaction";
    case RR_KIND_UNASSIGNED:
        return "unassigned";
    }
    return "unknown";
}

static int kind_has_threshold(rr_metric_kind_t kind)
{
    return kind == RR_KIND_MESSAGE_WITHIN || kind == RR_KIND_SESSION_WITHIN ||
           kind == RR_KIND_BUYER_WITHIN;
}

/* ---- validation ------------------------------------------------------- */

typedef struct vctx {
    rr_config_where_t *where;
    char *errstr;
    size_t errstr_size;
} vctx_t;

#if defined(__GNUC__)
__attribute__((format(printf, 6, 7)))
#endif
static int
verr(vctx_t *v, rr_config_part_t part, size_t index, const char *key, const char *key2,
     const char *fmt, ...)
{
    va_list ap;
    if (v->where) {
        v->where->part = part;
        v->where->index = index;
        v->where->key = key;
        v->where->key2 = key2;
    }
    if (v->errstr && v->errstr_size) {
        va_start(ap, fmt);
        vsnprintf(v->errstr, v->errstr_size, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* "08:00", "08:00:30", "08:00:30.500" for messages. */
static void fmt_tod(int64_t ms, char *buf, size_t size)
{
    if (ms < 0 || ms > RR_DAY_MS) {
        snprintf(buf, size, "%lld ms", (long long)ms);
        return;
    }
    int h = (int)(ms / 3600000), mi = (int)(ms / 60000 % 60), s = (int)(ms / 1000 % 60),
        frac = (int)(ms % 1000);
    if (frac)
        snprintf(buf, size, "%02d:%02d:%02d.%03d", h, mi, s, frac);
    else if (s)
        snprintf(buf, size, "%02d:%02d:%02d", h, mi, s);
    else
        snprintf(buf, size, "%02d:%02d", h, mi);
}

/* 0 if name is a valid identifier (non-empty, [A-Za-z0-9_], NUL-terminated
 * within RR_NAME_MAX), else a static reason. */
static const char *name_problem(const char *name, int is_metric)
{
    size_t n = strnlen(name, RR_NAME_MAX);
    if (n == RR_NAME_MAX) return "is not NUL-terminated within RR_NAME_MAX";
    if (n == 0) return "is empty";
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return "may contain only A-Z a-z 0-9 and _";
    }
    /* alert rules would read a metric called "and" or "or" as a keyword */
    if (is_metric && (strcmp(name, "and") == 0 || strcmp(name, "or") == 0))
        return "is an alert-rule keyword";
    return NULL;
}

static int check_duration(vctx_t *v, const char *key, int64_t value, int64_t min_ms,
                          const char *min_text)
{
    if (value < min_ms)
        return verr(v, RR_CONFIG_PART_SETTING, 0, key, NULL, "%s must be %s, got %lld ms", key,
                    min_text, (long long)value);
    if (value > RR_DURATION_MAX_MS)
        return verr(v, RR_CONFIG_PART_SETTING, 0, key, NULL,
                    "%s must be at most 366d (%lld ms), got %lld ms", key,
                    (long long)RR_DURATION_MAX_MS, (long long)value);
    return 0;
}

static int validate_settings(const rr_config_t *cfg, vctx_t *v)
{
    size_t n = strnlen(cfg->timezone, sizeof cfg->timezone);
    if (n == sizeof cfg->timezone)
        return verr(v, RR_CONFIG_PART_SETTING, 0, "timezone", NULL,
                    "timezone is not NUL-terminated");
    if (n == 0)
        return verr(v, RR_CONFIG_PART_SETTING, 0, "timezone", NULL,
                    "timezone is empty (an IANA zone name like \"Asia/Shanghai\")");
    for (size_t i = 0; i < n; i++) {
        char c = cfg->timezone[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '+' || c == '/') ||
            (c == '/' && (i == 0 || cfg->timezone[i - 1] == '/')))
            return verr(v, RR_CONFIG_PART_SETTING, 0, "timezone", NULL,
                        "timezone \"%s\" is not an IANA zone name like \"Asia/Shanghai\"",
                        cfg->timezone);
    }

    if (cfg->horizon_ms <= 0 || cfg->horizon_ms > RR_HORIZON_MAX_MS)
        return verr(v, RR_CONFIG_PART_SETTING, 0, "horizon", NULL,
                    "horizon must be > 0 and at most 12h (%lld ms): the engine relies on two "
                    "local midnights being further apart than the horizon; got %lld ms",
                    (long long)RR_HORIZON_MAX_MS, (long long)cfg->horizon_ms);
    if (check_duration(v, "lateness", cfg->lateness_ms, 0, ">= 0") < 0 ||
        check_duration(v, "max_future", cfg->max_future_ms, 1, "> 0") < 0 ||
        check_duration(v, "idle_timeout", cfg->idle_timeout_ms, 1, "> 0") < 0 ||
        check_duration(v, "conversation_ttl", cfg->conversation_ttl_ms, 1, "> 0") < 0)
        return -1;
    /* A conversation must outlive the horizon: replies up to H after a
     * message still count (SPEC §3 Replies). */
    if (cfg->conversation_ttl_ms < cfg->horizon_ms)
        return verr(v, RR_CONFIG_PART_SETTING, 0, "conversation_ttl", "horizon",
                    "conversation_ttl (%lld ms) must be >= horizon (%lld ms)",
                    (long long)cfg->conversation_ttl_ms, (long long)cfg->horizon_ms);
    if (cfg->jump_confirm < 1 || cfg->jump_confirm > RR_JUMP_CONFIRM_MAX)
        return verr(v, RR_CONFIG_PART_SETTING, 0, "jump_confirm", NULL,
                    "jump_confirm must be between 1 and %d events; got %lld", RR_JUMP_CONFIRM_MAX,
                    (long long)cfg->jump_confirm);
    return 0;
}

static int validate_metric(const rr_config_t *cfg, size_t i, vctx_t *v)
{
    const rr_metric_def_t *m = &cfg->metrics[i];
    const char *why = name_problem(m->name, 1);
    char a[32], b[32];

    if (why)
        return verr(v, RR_CONFIG_PART_METRIC, i, "name", NULL, "metric %zu: name \"%.*s\" %s",
                    i + 1, RR_NAME_MAX - 1, m->name, why);
    for (size_t j = 0; j < i; j++)
        if (strcmp(cfg->metrics[j].name, m->name) == 0)
            return verr(v, RR_CONFIG_PART_METRIC, i, "name", NULL,
                        "metric \"%s\" is declared twice (metrics %zu and %zu)", m->name, j + 1,
                        i + 1);
    if (m->kind < RR_KIND_MESSAGE_WITHIN || m->kind > RR_KIND_UNASSIGNED)
        return verr(v, RR_CONFIG_PART_METRIC, i, "kind", NULL, "metric \"%s\": unknown kind %d",
                    m->name, (int)m->kind);
    if (m->reply != RR_REPLY_MANUAL && m->reply != RR_REPLY_EFFECTIVE)
        return verr(v, RR_CONFIG_PART_METRIC, i, "reply", NULL,
                    "metric \"%s\": unknown reply kind %d", m->name, (int)m->reply);
    if (m->kind == RR_KIND_SATISFACTION && m->reply != RR_REPLY_MANUAL)
        return verr(v, RR_CONFIG_PART_METRIC, i, "reply", NULL,
                    "metric \"%s\": satisfaction counts manual-phase ratings; its reply must be "
                    "manual",
                    m->name);
    if (m->window_from_ms < 0 || m->window_from_ms >= RR_DAY_MS || m->window_to_ms <= 0 ||
        m->window_to_ms > RR_DAY_MS || m->window_from_ms >= m->window_to_ms) {
        fmt_tod(m->window_from_ms, a, sizeof a);
        fmt_tod(m->window_to_ms, b, sizeof b);
        return verr(v, RR_CONFIG_PART_METRIC, i, "window", NULL,
                    "metric \"%s\": window %s-%s must satisfy 00:00 <= from < to <= 24:00 "
                    "(windows do not wrap midnight)",
                    m->name, a, b);
    }
    if (kind_has_threshold(m->kind) &&
        (m->threshold_ms <= 0 || m->threshold_ms > RR_DURATION_MAX_MS))
        return verr(v, RR_CONFIG_PART_METRIC, i, "threshold", NULL,
                    "metric \"%s\": threshold must be > 0 and at most 366d for %s, got %lld ms",
                    m->name, rr_metric_kind_name(m->kind), (long long)m->threshold_ms);
    if (m->excludes & ~(RR_EXCLUDE_INTERNAL | RR_EXCLUDE_SPAM))
        return verr(v, RR_CONFIG_PART_METRIC, i, "exclude", NULL,
                    "metric \"%s\": unknown exclusion bits 0x%x", m->name,
                    (unsigned)(m->excludes & ~(RR_EXCLUDE_INTERNAL | RR_EXCLUDE_SPAM)));
    if (m->require != RR_REQUIRE_ANY && m->require != RR_REQUIRE_LAST)
        return verr(v, RR_CONFIG_PART_METRIC, i, "require", NULL,
                    "metric \"%s\": unknown require %d", m->name, (int)m->require);
    return 0;
}

static int validate_alert(const rr_config_t *cfg, size_t i, vctx_t *v)
{
    const rr_alert_def_t *a = &cfg->alerts[i];
    const char *why = name_problem(a->name, 0);
    char msg[256];
    rr_alert_t compiled;

    if (why)
        return verr(v, RR_CONFIG_PART_ALERT, i, "name", NULL, "alert %zu: name \"%.*s\" %s", i + 1,
                    RR_NAME_MAX - 1, a->name, why);
    for (size_t j = 0; j < i; j++)
        if (strcmp(cfg->alerts[j].name, a->name) == 0)
            return verr(v, RR_CONFIG_PART_ALERT, i, "name", NULL,
                        "alert \"%s\" is declared twice (alerts %zu and %zu)", a->name, j + 1,
                        i + 1);
    if (strnlen(a->expr, RR_EXPR_MAX) == RR_EXPR_MAX)
        return verr(v, RR_CONFIG_PART_ALERT, i, "rule", NULL,
                    "alert \"%s\": rule is not NUL-terminated", a->name);
    if (rr_alert_compile(a->expr, cfg->metrics, cfg->n_metrics, &compiled, msg, sizeof msg) < 0)
        return verr(v, RR_CONFIG_PART_ALERT, i, "rule", NULL, "alert \"%s\": %s", a->name, msg);
    return 0;
}

int rr_config_validate_where(const rr_config_t *cfg, rr_config_where_t *where, char *errstr,
                             size_t errstr_size)
{
    vctx_t v = {where, errstr, errstr_size};

    if (where) memset(where, 0, sizeof *where);
    if (errstr && errstr_size) errstr[0] = '\0';
    if (validate_settings(cfg, &v) < 0) return -1;
    if (cfg->n_metrics == 0)
        return verr(&v, RR_CONFIG_PART_NONE, 0, "metrics", NULL, "no metrics declared");
    if (cfg->n_metrics > RR_MAX_METRICS)
        return verr(&v, RR_CONFIG_PART_NONE, 0, "metrics", NULL,
                    "%zu metrics declared, at most %d allowed", cfg->n_metrics, RR_MAX_METRICS);
    if (cfg->n_alerts > RR_MAX_ALERTS)
        return verr(&v, RR_CONFIG_PART_NONE, 0, "alerts", NULL,
                    "%zu alerts declared, at most %d allowed", cfg->n_alerts, RR_MAX_ALERTS);
    for (size_t i = 0; i < cfg->n_metrics; i++)
        if (validate_metric(cfg, i, &v) < 0) return -1;
    for (size_t i = 0; i < cfg->n_alerts; i++)
        if (validate_alert(cfg, i, &v) < 0) return -1;
    return 0;
}

int rr_config_validate(const rr_config_t *cfg, char *errstr, size_t errstr_size)
{
    return rr_config_validate_where(cfg, NULL, errstr, errstr_size);
}

/* ---- version ---------------------------------------------------------- */

#define FNV_OFFSET UINT64_C(14695981039346656037)
#define FNV_PRIME UINT64_C(1099511628211)

static uint64_t fnv_bytes(uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= FNV_PRIME;
    }
    return h;
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static uint64_t
fnv_printf(uint64_t h, const char *fmt, ...)
{
    char buf[RR_EXPR_MAX * 4];
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0) return h;
    return fnv_bytes(h, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

/* The version hashes a canonical text of what defines the numbers: tz, H,
 * conversation_ttl (it decides where a conversation ends, SPEC §3 Lifetime,
 * so it changes sessions and duplicates), and every metric and alert
 * declaration, with fields a kind does not use normalised away (so the same
 * declaration spelt differently, e.g. an alert rule with other spacing,
 * keeps its version). Lateness, max_future, jump_confirm and idle_timeout
 * judge the input's delivery, not the metrics, and are not part of it. The
 * "m2-" prefix names this canonical form; change it if the form changes
 * (m1 did not hash the TTL). */
void rr_config_version(const rr_config_t *cfg, char *out, size_t size)
{
    uint64_t h = FNV_OFFSET;
    size_t n_metrics = cfg->n_metrics <= RR_MAX_METRICS ? cfg->n_metrics : RR_MAX_METRICS;
    size_t n_alerts = cfg->n_alerts <= RR_MAX_ALERTS ? cfg->n_alerts : RR_MAX_ALERTS;
    char canon[RR_EXPR_MAX * 3];

    h = fnv_printf(h, "tz=%.*s\nH=%lld\nttl=%lld\n", RR_NAME_MAX, cfg->timezone,
                   (long long)cfg->horizon_ms, (long long)cfg->conversation_ttl_ms);
    for (size_t i = 0; i < n_metrics; i++) {
        const rr_metric_def_t *m = &cfg->metrics[i];
        int64_t t = kind_has_threshold(m->kind) ? m->threshold_ms : 0;
        rr_reply_kind_t reply = m->kind == RR_KIND_SATISFACTION ? RR_REPLY_MANUAL : m->reply;
        const char *req = m->kind != RR_KIND_BUYER_REPLIED ? "-"
                          : m->require == RR_REQUIRE_LAST  ? "last"
                                                           : "any";
        h = fnv_printf(h, "metric %.*s %s reply=%s T=%lld window=%ld-%ld exclude=%u require=%s\n",
                       RR_NAME_MAX, m->name, rr_metric_kind_name(m->kind),
                       reply == RR_REPLY_EFFECTIVE ? "effective" : "manual", (long long)t,
                       (long)m->window_from_ms, (long)m->window_to_ms, (unsigned)m->excludes, req);
    }
    for (size_t i = 0; i < n_alerts; i++) {
        const rr_alert_def_t *a = &cfg->alerts[i];
        rr_alert_t compiled;
        if (rr_alert_compile(a->expr, cfg->metrics, n_metrics, &compiled, NULL, 0) == 0) {
            rr_alert_format(&compiled, cfg->metrics, n_metrics, canon, sizeof canon);
            h = fnv_printf(h, "alert %.*s %s\n", RR_NAME_MAX, a->name, canon);
        } else {
            h = fnv_printf(h, "alert %.*s raw %.*s\n", RR_NAME_MAX, a->name, RR_EXPR_MAX, a->expr);
        }
    }
    h ^= h >> 48; /* fold the high bits into the 48 we print */
    if (out && size)
        snprintf(out, size, "m2-%012llx", (unsigned long long)(h & UINT64_C(0xffffffffffff)));
}

/* ---- canonical form ------------------------------------------------------ */

/* Appends to a buffer with snprintf's contract: what does not fit is
 * counted, not written. */
typedef struct canon {
    char *out;
    size_t size, len;
} canon_t;

static void canon_printf(canon_t *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = c->len < c->size ? c->size - c->len : 0;
    int n = vsnprintf(room ? c->out + c->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n > 0) c->len += (size_t)n;
}

/* A string field: in double quotes, with \" \\ and \xHH for bytes outside
 * printable ASCII, so every value is one token on its line. */
static void canon_str(canon_t *c, const char *s, size_t max)
{
    canon_printf(c, "\"");
    for (size_t i = 0; i < max && s[i]; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\')
            canon_printf(c, "\\%c", ch);
        else if (ch < 0x20 || ch > 0x7e)
            canon_printf(c, "\\x%02x", ch);
        else
            canon_printf(c, "%c", ch);
    }
    canon_printf(c, "\"");
}

/* Every field of rr_config_t, so a new field cannot be forgotten here: the
 * size below changes and this stops compiling until it is added (and the
 * format's number, line 1, raised). */
#if SIZE_MAX == UINT64_MAX
_Static_assert(sizeof(rr_config_t) == 64 + 6 * 8 + RR_MAX_METRICS * sizeof(rr_metric_def_t) + 8 +
                                          RR_MAX_ALERTS * sizeof(rr_alert_def_t) + 8,
               "rr_config_t changed: add the new field to rr_config_canonical");
_Static_assert(sizeof(rr_metric_def_t) == RR_NAME_MAX + 4 + 4 + 8 + 4 + 4 + 4 + 4,
               "rr_metric_def_t changed: add the new field to rr_config_canonical");
_Static_assert(sizeof(rr_alert_def_t) == RR_NAME_MAX + RR_EXPR_MAX,
               "rr_alert_def_t changed: add the new field to rr_config_canonical");
#endif

size_t rr_config_canonical(const rr_config_t *cfg, char *out, size_t size)
{
    canon_t c = {out, size, 0};
    size_t n_metrics = cfg->n_metrics <= RR_MAX_METRICS ? cfg->n_metrics : RR_MAX_METRICS;
    size_t n_alerts = cfg->n_alerts <= RR_MAX_ALERTS ? cfg->n_alerts : RR_MAX_ALERTS;
    canon_printf(&c, "replyrate-config 2\ntimezone ");
    canon_str(&c, cfg->timezone, sizeof cfg->timezone);
    canon_printf(&c,
                 "\nhorizon_ms %lld\nlateness_ms %lld\nmax_future_ms %lld\nidle_timeout_ms %lld\n"
                 "conversation_ttl_ms %lld\njump_confirm %lld\nmetrics %zu\n",
                 (long long)cfg->horizon_ms, (long long)cfg->lateness_ms,
                 (long long)cfg->max_future_ms, (long long)cfg->idle_timeout_ms,
                 (long long)cfg->conversation_ttl_ms, (long long)cfg->jump_confirm, n_metrics);
    for (size_t i = 0; i < n_metrics; i++) {
        const rr_metric_def_t *m = &cfg->metrics[i];
        canon_printf(&c, "metric ");
        canon_str(&c, m->name, sizeof m->name);
        canon_printf(
            &c, " kind %d reply %d threshold_ms %lld window_ms %ld %ld excludes %u require %d\n",
            (int)m->kind, (int)m->reply, (long long)m->threshold_ms, (long)m->window_from_ms,
            (long)m->window_to_ms, (unsigned)m->excludes, (int)m->require);
    }
    canon_printf(&c, "alerts %zu\n", n_alerts);
    for (size_t i = 0; i < n_alerts; i++) {
        canon_printf(&c, "alert ");
        canon_str(&c, cfg->alerts[i].name, sizeof cfg->alerts[i].name);
        canon_printf(&c, " ");
        canon_str(&c, cfg->alerts[i].expr, sizeof cfg->alerts[i].expr);
        canon_printf(&c, "\n");
    }
    return c.len;
}
