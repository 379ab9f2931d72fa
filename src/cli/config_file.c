/* cli/config_file.c: the job configuration file (docs/config.md). */
#include "cli/config_file.h"

#include <errno.h>
#include <libconfig.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONFIG_FILE_MAX (16u << 20) /* a config file is small; refuse anything absurd */

typedef struct loader {
    const char *path;
    const char *text; /* the whole file, for the 32-bit integer check */
    rr_config_t *cfg;
    config_setting_t *root;
    config_setting_t *metric_group[RR_MAX_METRICS];
    config_setting_t *alert_group[RR_MAX_ALERTS];
    int metrics_declared, alerts_declared;
    char *errstr;
    size_t errstr_size;
} loader_t;

static const char *const ROOT_KEYS[] = {
    "timezone",         "horizon",      "lateness", "max_future", "idle_timeout",
    "conversation_ttl", "jump_confirm", "metrics",  "alerts",     NULL};
static const char *const METRIC_KEYS[] = {"name",   "kind",    "reply",   "threshold",
                                          "window", "exclude", "require", NULL};
static const char *const ALERT_KEYS[] = {"name", "rule", NULL};

/* ---- messages --------------------------------------------------------- */

static unsigned line_of(const config_setting_t *s)
{
    unsigned line = s ? config_setting_source_line(s) : 0;
    return line ? line : 1;
}

static const char *file_of(const loader_t *l, const config_setting_t *s)
{
    const char *f = s ? config_setting_source_file(s) : NULL;
    return f ? f : l->path;
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int
fail(loader_t *l, const config_setting_t *at, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (l->errstr && l->errstr_size)
        snprintf(l->errstr, l->errstr_size, "%s:%u: %s", file_of(l, at), line_of(at), msg);
    return -1;
}

static const char *type_name(int type)
{
    switch (type) {
    case CONFIG_TYPE_GROUP:
        return "a group";
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64:
        return "an integer";
    case CONFIG_TYPE_FLOAT:
        return "a float";
    case CONFIG_TYPE_STRING:
        return "a string";
    case CONFIG_TYPE_BOOL:
        return "a boolean";
    case CONFIG_TYPE_ARRAY:
        return "an array";
    case CONFIG_TYPE_LIST:
        return "a list";
    default:
        return "nothing";
    }
}

static void join_keys(const char *const *keys, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; keys[i] && len < size; i++) {
        int n = snprintf(buf + len, size - len, "%s%s", i ? ", " : "", keys[i]);
        if (n < 0) break;
        len += (size_t)n;
    }
}

/* Unknown keys are errors: a typo must never be silently ignored. */
static int check_keys(loader_t *l, const config_setting_t *group, const char *const *keys,
                      const char *where)
{
    int n = config_setting_length(group);
    for (int i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
        const char *name = config_setting_name(s);
        size_t k;
        for (k = 0; keys[k]; k++)
            if (name && strcmp(name, keys[k]) == 0) break;
        if (!keys[k]) {
            char known[256];
            join_keys(keys, known, sizeof known);
            return fail(l, s, "%sunknown key \"%s\" (known: %s)", where, name ? name : "?", known);
        }
    }
    return 0;
}

/* ---- values ----------------------------------------------------------- */

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int
set_err(char *errstr, size_t size, const char *fmt, ...)
{
    va_list ap;
    if (errstr && size) {
        va_start(ap, fmt);
        vsnprintf(errstr, size, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

int rr_config_file_duration(const char *s, int64_t *ms, char *errstr, size_t errstr_size)
{
    static const struct {
        const char *unit;
        int64_t ms;
    } units[] = {{"ms", 1}, {"s", 1000}, {"min", 60000}, {"h", 3600000}, {"d", 86400000}};
    const char *p = s;
    int64_t v = 0;
    size_t digits = 0;

    while (is_blank(*p))
        p++;
    while (*p >= '0' && *p <= '9') {
        if (v > (INT64_MAX - 9) / 10) return set_err(errstr, errstr_size, "number too large");
        v = v * 10 + (*p++ - '0');
        digits++;
    }
    if (digits == 0)
        return set_err(errstr, errstr_size,
                       "expected digits and a unit (ms, s, min, h or d), e.g. \"5s\"");
    while (is_blank(*p))
        p++;
    size_t n = 0;
    while (p[n] && !is_blank(p[n]))
        n++;
    for (size_t i = 0; i < n; i++)
        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z')))
            return set_err(errstr, errstr_size,
                           "expected digits and a unit (ms, s, min, h or d), e.g. \"5s\"");
    const char *rest = p + n;
    while (is_blank(*rest))
        rest++;
    if (*rest) return set_err(errstr, errstr_size, "unexpected text after the unit");
    if (n == 0)
        return set_err(errstr, errstr_size,
                       "missing unit (ms, s, min, h or d); a bare number of milliseconds is "
                       "written as an integer, not a string");
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strlen(units[i].unit) == n && memcmp(units[i].unit, p, n) == 0) {
            if (v > INT64_MAX / units[i].ms)
                return set_err(errstr, errstr_size, "number too large");
            *ms = v * units[i].ms;
            return 0;
        }
    }
    return set_err(errstr, errstr_size, "unknown unit \"%.*s\" (use ms, s, min, h or d)%s", (int)n,
                   p, n == 1 && p[0] == 'm' ? "; write min for minutes" : "");
}

/* HH:MM or HH:MM:SS at *pp; 24:00[:00] only when is_end. */
static int parse_tod(const char **pp, int is_end, int32_t *ms, char *errstr, size_t errstr_size)
{
    const char *p = *pp;
    int f[3] = {0, 0, 0}, nf = 0;

    for (;;) {
        int digits = 0, v = 0;
        while (*p >= '0' && *p <= '9' && digits < 3) {
            v = v * 10 + (*p++ - '0');
            digits++;
        }
        if (digits == 0 || digits > 2 || (nf > 0 && digits != 2))
            return set_err(errstr, errstr_size, "expected HH:MM or HH:MM:SS");
        f[nf++] = v;
        if (*p != ':' || nf == 3) break;
        p++;
    }
    if (nf < 2) return set_err(errstr, errstr_size, "expected HH:MM or HH:MM:SS");
    if (f[1] > 59 || f[2] > 59)
        return set_err(errstr, errstr_size, "minutes and seconds must be 00..59");
    if (f[0] == 24 && f[1] == 0 && f[2] == 0) {
        if (!is_end)
            return set_err(errstr, errstr_size, "24:00 is allowed only as the end of a window");
    } else if (f[0] > 23) {
        return set_err(errstr, errstr_size, "hours must be 00..23 (or 24:00 as the end)");
    }
    *ms = (int32_t)(f[0] * 3600000 + f[1] * 60000 + f[2] * 1000);
    *pp = p;
    return 0;
}

int rr_config_file_window(const char *s, int32_t *from_ms, int32_t *to_ms, char *errstr,
                          size_t errstr_size)
{
    const char *p = s;
    int32_t from, to;

    while (is_blank(*p))
        p++;
    if (parse_tod(&p, 0, &from, errstr, errstr_size) < 0) return -1;
    while (is_blank(*p))
        p++;
    if (*p == '-')
        p++;
    else if (strncmp(p, "\xe2\x80\x93", 3) == 0) /* en dash, as the SPEC writes windows */
        p += 3;
    else
        return set_err(errstr, errstr_size, "expected FROM-TO, e.g. \"08:00-23:00\"");
    while (is_blank(*p))
        p++;
    if (parse_tod(&p, 1, &to, errstr, errstr_size) < 0) return -1;
    while (is_blank(*p))
        p++;
    if (*p) return set_err(errstr, errstr_size, "unexpected text after the window");
    if (from >= to)
        return set_err(errstr, errstr_size,
                       "the start must be before the end (windows do not wrap midnight)");
    *from_ms = from;
    *to_ms = to;
    return 0;
}

static int is_word_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '*';
}

/* libconfig 1.5 silently truncates a decimal integer that does not fit in
 * 32 bits unless it carries an L suffix (3600000000 reads as -694967296).
 * Find the literal on the setting's source line and refuse it instead. */
static int check_int32_literal(loader_t *l, const config_setting_t *s, const char *key)
{
    if (config_setting_type(s) != CONFIG_TYPE_INT || config_setting_source_file(s) || !l->text)
        return 0;
    unsigned line = config_setting_source_line(s), cur = 1;
    const char *p = l->text;
    while (cur < line && *p) {
        if (*p++ == '\n') cur++;
    }
    const char *eol = strchr(p, '\n');
    size_t klen = strlen(key);
    for (const char *q = p; *q && (!eol || q < eol); q++) {
        if (strncmp(q, key, klen) != 0 || (q > p && is_word_char(q[-1]))) continue;
        const char *v = q + klen;
        while (is_blank(*v))
            v++;
        if (*v != '=' && *v != ':') continue;
        v++;
        while (is_blank(*v))
            v++;
        if (v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) return 0;
        char *end;
        errno = 0;
        long long lit = strtoll(v, &end, 10);
        if (end == v) return 0;
        if (errno == ERANGE || lit > INT32_MAX || lit < INT32_MIN)
            return fail(l, s,
                        "%s: integer %.*s does not fit in 32 bits; write it with an L suffix "
                        "(%.*sL) or as a string with a unit",
                        key, (int)(end - v), v, (int)(end - v), v);
        return 0;
    }
    return 0;
}

/* An integer of ms, or a string with a unit. */
static int get_duration(loader_t *l, const config_setting_t *s, const char *what, int64_t *ms)
{
    int type = config_setting_type(s);
    char why[160];

    if (type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64) {
        if (check_int32_literal(l, s, config_setting_name(s)) < 0) return -1;
        *ms = config_setting_get_int64(s);
        return 0;
    }
    if (type == CONFIG_TYPE_STRING) {
        const char *str = config_setting_get_string(s);
        if (rr_config_file_duration(str, ms, why, sizeof why) < 0)
            return fail(l, s, "%s: bad duration \"%s\": %s", what, str, why);
        return 0;
    }
    return fail(l, s,
                "%s: expected an integer of milliseconds or a string with a unit (\"5s\", "
                "\"3min\", \"1h\"), got %s",
                what, type_name(type));
}

static int get_string(loader_t *l, const config_setting_t *s, const char *what, const char **out)
{
    if (config_setting_type(s) != CONFIG_TYPE_STRING)
        return fail(l, s, "%s: expected a string, got %s", what, type_name(config_setting_type(s)));
    *out = config_setting_get_string(s);
    return 0;
}

/* A string that must fit in a fixed buffer of size bytes including NUL. */
static int copy_string(loader_t *l, const config_setting_t *s, const char *what, char *dst,
                       size_t size)
{
    const char *str = NULL;
    if (get_string(l, s, what, &str) < 0) return -1;
    if (strlen(str) >= size)
        return fail(l, s, "%s: \"%.40s...\" is too long (at most %zu characters)", what, str,
                    size - 1);
    snprintf(dst, size, "%s", str);
    return 0;
}

/* ---- sections --------------------------------------------------------- */

static int load_settings(loader_t *l)
{
    static const struct {
        const char *key;
        size_t offset;
    } durations[] = {
        {"horizon", offsetof(rr_config_t, horizon_ms)},
        {"lateness", offsetof(rr_config_t, lateness_ms)},
        {"max_future", offsetof(rr_config_t, max_future_ms)},
        {"idle_timeout", offsetof(rr_config_t, idle_timeout_ms)},
        {"conversation_ttl", offsetof(rr_config_t, conversation_ttl_ms)},
    };
    config_setting_t *s = config_setting_get_member(l->root, "timezone");

    if (s && copy_string(l, s, "timezone", l->cfg->timezone, sizeof l->cfg->timezone) < 0)
        return -1;
    for (size_t i = 0; i < sizeof durations / sizeof durations[0]; i++) {
        s = config_setting_get_member(l->root, durations[i].key);
        if (s && get_duration(l, s, durations[i].key,
                              (int64_t *)(void *)((char *)l->cfg + durations[i].offset)) < 0)
            return -1;
    }
    s = config_setting_get_member(l->root, "jump_confirm");
    if (s) {
        int type = config_setting_type(s);
        if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64)
            return fail(l, s, "jump_confirm: expected an integer count of events, got %s",
                        type_name(type));
        if (check_int32_literal(l, s, "jump_confirm") < 0) return -1;
        l->cfg->jump_confirm = config_setting_get_int64(s);
    }
    return 0;
}

static int lookup_enum(const char *value, const char *const *names, const int *values, int *out)
{
    for (size_t i = 0; names[i]; i++)
        if (strcmp(value, names[i]) == 0) {
            *out = values[i];
            return 0;
        }
    return -1;
}

static int load_metric(loader_t *l, config_setting_t *g, size_t idx)
{
    static const char *const kinds[] = {
        "message_within", "session_within", "buyer_within", "buyer_replied",
        "response_time",  "satisfaction",   "unassigned",   NULL};
    static const int kind_values[] = {
        RR_KIND_MESSAGE_WITHIN, RR_KIND_SESSION_WITHIN, RR_KIND_BUYER_WITHIN, RR_KIND_BUYER_REPLIED,
        RR_KIND_RESPONSE_TIME,  RR_KIND_SATISFACTION,   RR_KIND_UNASSIGNED};
    static const char *const replies[] = {"manual", "effective", NULL};
    static const int reply_values[] = {RR_REPLY_MANUAL, RR_REPLY_EFFECTIVE};
    static const char *const requires[] = {"any", "last", NULL};
    static const int require_values[] = {RR_REQUIRE_ANY, RR_REQUIRE_LAST};
    rr_metric_def_t *m = &l->cfg->metrics[idx];
    config_setting_t *s;
    const char *str = NULL;
    char where[RR_NAME_MAX + 32], why[160];
    int v;

    memset(m, 0, sizeof *m);
    if (config_setting_type(g) != CONFIG_TYPE_GROUP)
        return fail(l, g, "metrics: element %zu is %s; each metric is a group { name = ...; }",
                    idx + 1, type_name(config_setting_type(g)));
    snprintf(where, sizeof where, "metric %zu: ", idx + 1);
    if (check_keys(l, g, METRIC_KEYS, where) < 0) return -1;

    if (!(s = config_setting_get_member(g, "name")))
        return fail(l, g, "metric %zu: missing key \"name\"", idx + 1);
    if (copy_string(l, s, "metric name", m->name, sizeof m->name) < 0) return -1;
    snprintf(where, sizeof where, "metric \"%s\"", m->name);

    if (!(s = config_setting_get_member(g, "kind")))
        return fail(l, g, "%s: missing key \"kind\"", where);
    if (get_string(l, s, where, &str) < 0) return -1;
    if (lookup_enum(str, kinds, kind_values, &v) < 0)
        return fail(l, s,
                    "%s: unknown kind \"%s\" (use message_within, session_within, buyer_within, "
                    "buyer_replied, response_time, satisfaction or unassigned)",
                    where, str);
    m->kind = (rr_metric_kind_t)v;
    int has_t = m->kind == RR_KIND_MESSAGE_WITHIN || m->kind == RR_KIND_SESSION_WITHIN ||
                m->kind == RR_KIND_BUYER_WITHIN;

    /* reply: required except for satisfaction, whose ratings always count
     * in the manual phase (SPEC §4); there "manual" may be spelt out. */
    m->reply = RR_REPLY_MANUAL;
    if ((s = config_setting_get_member(g, "reply"))) {
        if (get_string(l, s, where, &str) < 0) return -1;
        if (lookup_enum(str, replies, reply_values, &v) < 0)
            return fail(l, s, "%s: unknown reply \"%s\" (use manual or effective)", where, str);
        m->reply = (rr_reply_kind_t)v;
    } else if (m->kind != RR_KIND_SATISFACTION) {
        return fail(l, g, "%s: missing key \"reply\" (manual or effective)", where);
    }

    m->threshold_ms = has_t ? INT64_C(180000) : 0; /* SPEC §3: T defaults to 180 000 ms */
    if ((s = config_setting_get_member(g, "threshold"))) {
        if (!has_t)
            return fail(l, s,
                        "%s: threshold applies only to message_within, session_within and "
                        "buyer_within, not %s",
                        where, rr_metric_kind_name(m->kind));
        if (get_duration(l, s, "threshold", &m->threshold_ms) < 0) return -1;
    }

    m->window_from_ms = 0;
    m->window_to_ms = (int32_t)RR_DAY_MS;
    if ((s = config_setting_get_member(g, "window"))) {
        if (get_string(l, s, where, &str) < 0) return -1;
        if (rr_config_file_window(str, &m->window_from_ms, &m->window_to_ms, why, sizeof why) < 0)
            return fail(l, s, "%s: bad window \"%s\": %s", where, str, why);
    }

    if ((s = config_setting_get_member(g, "exclude"))) {
        int type = config_setting_type(s);
        if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST)
            return fail(l, s, "%s: exclude must be an array like [\"internal\", \"spam\"], got %s",
                        where, type_name(type));
        for (int i = 0; i < config_setting_length(s); i++) {
            const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
            if (config_setting_type(e) != CONFIG_TYPE_STRING)
                return fail(l, s, "%s: exclude entries are strings, got %s", where,
                            type_name(config_setting_type(e)));
            str = config_setting_get_string(e);
            if (strcmp(str, "internal") == 0)
                m->excludes |= RR_EXCLUDE_INTERNAL;
            else if (strcmp(str, "spam") == 0)
                m->excludes |= RR_EXCLUDE_SPAM;
            else
                return fail(l, s, "%s: unknown exclude \"%s\" (use internal or spam)", where, str);
        }
    }

    m->require = RR_REQUIRE_ANY;
    if ((s = config_setting_get_member(g, "require"))) {
        if (m->kind != RR_KIND_BUYER_REPLIED)
            return fail(l, s, "%s: require applies only to buyer_replied, not %s", where,
                        rr_metric_kind_name(m->kind));
        if (get_string(l, s, where, &str) < 0) return -1;
        if (lookup_enum(str, requires, require_values, &v) < 0)
            return fail(l, s, "%s: unknown require \"%s\" (use any or last)", where, str);
        m->require = (rr_require_t)v;
    }
    return 0;
}

static int load_alert(loader_t *l, config_setting_t *g, size_t idx)
{
    rr_alert_def_t *a = &l->cfg->alerts[idx];
    config_setting_t *s;
    char where[RR_NAME_MAX + 32];

    memset(a, 0, sizeof *a);
    if (config_setting_type(g) != CONFIG_TYPE_GROUP)
        return fail(l, g,
                    "alerts: element %zu is %s; each alert is a group "
                    "{ name = ...; rule = ...; }",
                    idx + 1, type_name(config_setting_type(g)));
    snprintf(where, sizeof where, "alert %zu: ", idx + 1);
    if (check_keys(l, g, ALERT_KEYS, where) < 0) return -1;
    if (!(s = config_setting_get_member(g, "name")))
        return fail(l, g, "alert %zu: missing key \"name\"", idx + 1);
    if (copy_string(l, s, "alert name", a->name, sizeof a->name) < 0) return -1;
    if (!(s = config_setting_get_member(g, "rule")))
        return fail(l, g, "alert \"%s\": missing key \"rule\"", a->name);
    snprintf(where, sizeof where, "alert \"%s\": rule", a->name);
    return copy_string(l, s, where, a->expr, sizeof a->expr);
}

/* metrics / alerts: a list of groups; an empty list or array is allowed. */
static int get_list(loader_t *l, const char *key, config_setting_t **out, size_t max)
{
    config_setting_t *s = config_setting_get_member(l->root, key);
    *out = s;
    if (!s) return 0;
    int type = config_setting_type(s);
    if (!(type == CONFIG_TYPE_LIST || (type == CONFIG_TYPE_ARRAY && config_setting_length(s) == 0)))
        return fail(l, s, "%s must be a list of groups: %s = ( { ... }, { ... } ); got %s", key,
                    key, type_name(type));
    if ((size_t)config_setting_length(s) > max)
        return fail(l, s, "%s: %d declared, at most %zu allowed", key, config_setting_length(s),
                    max);
    return 0;
}

/* Map a validation failure back to the line that declared the bad item. */
static const config_setting_t *where_setting(loader_t *l, const rr_config_where_t *w)
{
    const config_setting_t *s = NULL;
    switch (w->part) {
    case RR_CONFIG_PART_SETTING:
        if (w->key) s = config_setting_get_member(l->root, w->key);
        if (!s && w->key2) s = config_setting_get_member(l->root, w->key2);
        break;
    case RR_CONFIG_PART_METRIC:
        if (l->metrics_declared && w->index < RR_MAX_METRICS && l->metric_group[w->index]) {
            s = w->key ? config_setting_get_member(l->metric_group[w->index], w->key) : NULL;
            if (!s) s = l->metric_group[w->index];
        } else {
            s = config_setting_get_member(l->root, "metrics");
        }
        break;
    case RR_CONFIG_PART_ALERT:
        if (l->alerts_declared && w->index < RR_MAX_ALERTS && l->alert_group[w->index]) {
            s = w->key ? config_setting_get_member(l->alert_group[w->index], w->key) : NULL;
            if (!s) s = l->alert_group[w->index];
        } else {
            s = config_setting_get_member(l->root, "metrics");
        }
        break;
    default:
        if (w->key) s = config_setting_get_member(l->root, w->key);
        break;
    }
    return s;
}

static int read_whole_file(const char *path, char **out, char *errstr, size_t errstr_size)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, cap = 0;

    if (!f) return set_err(errstr, errstr_size, "%s: cannot read: %s", path, strerror(errno));
    for (;;) {
        if (len + 4096 + 1 > cap) {
            size_t ncap = cap ? cap * 2 : 8192;
            char *nbuf;
            if (ncap > CONFIG_FILE_MAX + 1) ncap = CONFIG_FILE_MAX + 1;
            if (len + 1 >= ncap) {
                set_err(errstr, errstr_size, "%s: cannot read: larger than %u bytes", path,
                        CONFIG_FILE_MAX);
                goto fail;
            }
            nbuf = realloc(buf, ncap);
            if (!nbuf) {
                set_err(errstr, errstr_size, "%s: cannot read: out of memory", path);
                goto fail;
            }
            buf = nbuf;
            cap = ncap;
        }
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0) {
            if (ferror(f)) {
                set_err(errstr, errstr_size, "%s: cannot read: %s", path, strerror(errno));
                goto fail;
            }
            break;
        }
    }
    buf[len] = '\0';
    if (strlen(buf) != len) {
        set_err(errstr, errstr_size, "%s: cannot read: the file contains a NUL byte", path);
        goto fail;
    }
    fclose(f);
    *out = buf;
    return 0;
fail:
    free(buf);
    fclose(f);
    return -1;
}

int rr_config_file_load(const char *path, rr_config_t *cfg, char *errstr, size_t errstr_size)
{
    config_t cf;
    char *text = NULL, *dir = NULL, *slash;
    rr_config_t *tmp = NULL;
    loader_t l;
    config_setting_t *metrics, *alerts;
    rr_config_where_t w;
    char why[512];
    int rc = -1;

    if (errstr && errstr_size) errstr[0] = '\0';
    if (read_whole_file(path, &text, errstr, errstr_size) < 0) return -1;
    config_init(&cf);

    /* @include "x" resolves beside the file, as a reader would expect. */
    dir = strdup(path);
    tmp = calloc(1, sizeof *tmp);
    if (!dir || !tmp) {
        set_err(errstr, errstr_size, "%s: cannot read: out of memory", path);
        goto fail;
    }
    slash = strrchr(dir, '/');
    if (slash) {
        slash[slash == dir ? 1 : 0] = '\0';
        config_set_include_dir(&cf, dir);
    }

    if (!config_read_string(&cf, text)) {
        const char *file = config_error_file(&cf);
        set_err(errstr, errstr_size, "%s:%d: %s", file ? file : path,
                config_error_line(&cf) > 0 ? config_error_line(&cf) : 1, config_error_text(&cf));
        goto fail;
    }

    memset(&l, 0, sizeof l);
    l.path = path;
    l.text = text;
    l.cfg = tmp;
    l.root = config_root_setting(&cf);
    l.errstr = errstr;
    l.errstr_size = errstr_size;
    rr_config_default(tmp);

    if (check_keys(&l, l.root, ROOT_KEYS, "") < 0 || load_settings(&l) < 0) goto fail;
    if (get_list(&l, "metrics", &metrics, RR_MAX_METRICS) < 0 ||
        get_list(&l, "alerts", &alerts, RR_MAX_ALERTS) < 0)
        goto fail;
    if (metrics) {
        l.metrics_declared = 1;
        memset(tmp->metrics, 0, sizeof tmp->metrics);
        tmp->n_metrics = (size_t)config_setting_length(metrics);
        for (size_t i = 0; i < tmp->n_metrics; i++) {
            l.metric_group[i] = config_setting_get_elem(metrics, (unsigned)i);
            if (load_metric(&l, l.metric_group[i], i) < 0) goto fail;
        }
    }
    if (alerts) {
        l.alerts_declared = 1;
        memset(tmp->alerts, 0, sizeof tmp->alerts);
        tmp->n_alerts = (size_t)config_setting_length(alerts);
        for (size_t i = 0; i < tmp->n_alerts; i++) {
            l.alert_group[i] = config_setting_get_elem(alerts, (unsigned)i);
            if (load_alert(&l, l.alert_group[i], i) < 0) goto fail;
        }
    }

    if (rr_config_validate_where(tmp, &w, why, sizeof why) < 0) {
        const config_setting_t *at = where_setting(&l, &w);
        if (w.part == RR_CONFIG_PART_ALERT && !l.alerts_declared)
            fail(&l, at,
                 "default %s (declaring metrics replaces the default list, and the default "
                 "alerts refer to it: declare alerts too, or alerts = ();)",
                 why);
        else
            fail(&l, at, "%s", why);
        goto fail;
    }

    *cfg = *tmp;
    rc = 0;
fail:
    config_destroy(&cf);
    free(tmp);
    free(dir);
    free(text);
    return rc;
}
