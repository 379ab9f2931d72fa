/* io/manifest.c: the run manifest as JSON (see manifest.h). */
#include "io/manifest.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "io/output.h"

_Static_assert(RR_MANIFEST_KINDS == RR_OUTPUT_KINDS, "records are counted by io/output.h's kinds");

void rr_manifest_init(rr_manifest_t *m, const char *version, int64_t now_ms)
{
    memset(m, 0, sizeof *m);
    snprintf(m->replyrate_version, sizeof m->replyrate_version, "%s", version ? version : "");
    if (!getcwd(m->cwd, sizeof m->cwd)) m->cwd[0] = '\0';
    m->started_ms = now_ms;
}

int rr_manifest_set_config(rr_manifest_t *m, const rr_config_t *cfg)
{
    rr_config_version(cfg, m->metric_set, sizeof m->metric_set);
    snprintf(m->time_zone, sizeof m->time_zone, "%s", cfg->timezone);
    size_t n = rr_config_canonical(cfg, NULL, 0);
    char *text = malloc(n + 1);
    uint8_t d[RR_SHA256_LEN];
    if (!text) return -1;
    rr_config_canonical(cfg, text, n + 1);
    int rc = rr_sha256(text, n, d);
    free(text);
    if (rc < 0) return -1;
    rr_sha256_hex(d, m->config_sha256);
    return 0;
}

/* Room for one more element of a list of size bytes each. */
static int grow(void **p, size_t *cap, size_t n, size_t size)
{
    if (n < *cap) return 0;
    size_t c = *cap ? 2 * *cap : 8;
    void *q = realloc(*p, c * size);
    if (!q) return -1;
    *p = q;
    *cap = c;
    return 0;
}

int rr_manifest_add_file_input(rr_manifest_t *m, const char *path, uint64_t bytes)
{
    if (grow((void **)&m->inputs, &m->cap_inputs, m->n_inputs, sizeof *m->inputs) < 0) return -1;
    rr_manifest_input_t in = {.path = strdup(path), .bytes = bytes};
    if (!in.path) return -1;
    m->inputs[m->n_inputs++] = in;
    return 0;
}

int rr_manifest_add_kafka_input(rr_manifest_t *m, const char *topic, int32_t partition,
                                int64_t from_offset, int64_t to_offset)
{
    if (grow((void **)&m->inputs, &m->cap_inputs, m->n_inputs, sizeof *m->inputs) < 0) return -1;
    rr_manifest_input_t in = {.topic = strdup(topic),
                              .partition = partition,
                              .from_offset = from_offset,
                              .to_offset = to_offset};
    if (!in.topic) return -1;
    m->inputs[m->n_inputs++] = in;
    return 0;
}

int rr_manifest_add_output(rr_manifest_t *m, const rr_manifest_output_t *o)
{
    if (grow((void **)&m->outputs, &m->cap_outputs, m->n_outputs, sizeof *m->outputs) < 0)
        return -1;
    rr_manifest_output_t c = *o;
    c.flag = strdup(o->flag ? o->flag : "");
    c.path = strdup(o->path ? o->path : "");
    c.format = strdup(o->format ? o->format : "");
    if (!c.flag || !c.path || !c.format) {
        free(c.flag);
        free(c.path);
        free(c.format);
        return -1;
    }
    if (!c.has_sha256) c.sha256[0] = '\0';
    m->outputs[m->n_outputs++] = c;
    return 0;
}

void rr_manifest_free(rr_manifest_t *m)
{
    for (size_t i = 0; i < m->n_inputs; i++) {
        free(m->inputs[i].path);
        free(m->inputs[i].topic);
    }
    for (size_t i = 0; i < m->n_outputs; i++) {
        free(m->outputs[i].flag);
        free(m->outputs[i].path);
        free(m->outputs[i].format);
    }
    free(m->inputs);
    free(m->outputs);
    m->inputs = NULL;
    m->outputs = NULL;
    m->n_inputs = m->n_outputs = m->cap_inputs = m->cap_outputs = 0;
}

/* ---- rendering ------------------------------------------------------------ */

typedef struct jbuf {
    char *p;
    size_t len, cap;
    int oom;
} jbuf_t;

static void jprintf(jbuf_t *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = b->oom ? 0 : vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (b->oom || n < 0) return;
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = 2 * b->cap + (size_t)n;
        char *q = realloc(b->p, cap);
        if (!q) {
            b->oom = 1;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
}

/* A JSON string: quotes, \" \\ and \u00XX for control bytes; other bytes as
 * they are (paths are bytes; UTF-8 ones stay readable). */
static void jstr(jbuf_t *b, const char *s)
{
    jprintf(b, "\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            jprintf(b, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            jprintf(b, "\\u%04x", c);
        else
            jprintf(b, "%c", c);
    }
    jprintf(b, "\"");
}

/* 2026-11-25T10:00:00.123Z */
static void jtime(jbuf_t *b, int64_t ms)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    if (ms < 0 || !gmtime_r(&s, &tm)) {
        jprintf(b, "null");
        return;
    }
    jprintf(b, "\"%04d-%02d-%02dT%02d:%02d:%02d.%03dZ\"", tm.tm_year + 1900, tm.tm_mon + 1,
            tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

int rr_manifest_render(const rr_manifest_t *m, char **json, size_t *len)
{
    jbuf_t b = {0};
    b.cap = 4096;
    b.p = malloc(b.cap);
    if (!b.p) return -1;
    jprintf(&b, "{\"type\":\"replyrate_manifest\",\"manifest_version\":%d,\n", RR_MANIFEST_VERSION);
    jprintf(&b, "\"replyrate_version\":");
    jstr(&b, m->replyrate_version);
    jprintf(&b, ",\"metric_set\":");
    jstr(&b, m->metric_set);
    jprintf(&b, ",\"config_sha256\":");
    jstr(&b, m->config_sha256);
    jprintf(&b, ",\"time_zone\":");
    jstr(&b, m->time_zone);
    jprintf(&b, ",\n\"started_at\":");
    jtime(&b, m->started_ms);
    jprintf(&b, ",\"ended_at\":");
    jtime(&b, m->ended_ms);
    jprintf(&b, ",\"cwd\":");
    jstr(&b, m->cwd);
    jprintf(&b,
            ",\n\"status\":%d,\"complete\":%s,\"input\":%llu,\"applied\":%llu,\"duplicate\":%llu,"
            "\"late\":%llu,\"invalid\":%llu,\"unread_bytes\":%llu,\"missing_records\":%llu,\n",
            m->status, m->unread_bytes == 0 && m->missing_records == 0 ? "true" : "false",
            (unsigned long long)m->input, (unsigned long long)m->applied,
            (unsigned long long)m->duplicate, (unsigned long long)m->late,
            (unsigned long long)m->invalid, (unsigned long long)m->unread_bytes,
            (unsigned long long)m->missing_records);
    /* the shortest decimal that reads back as the same double: 0.05, not 0.050000000000000003 */
    char ratio[32];
    snprintf(ratio, sizeof ratio, "%.15g", m->max_invalid_ratio);
    if (strtod(ratio, NULL) != m->max_invalid_ratio)
        snprintf(ratio, sizeof ratio, "%.17g", m->max_invalid_ratio);
    jprintf(&b,
            "\"gates\":{\"allow_empty\":%s,\"allow_incomplete\":%s,\"max_invalid_ratio\":%s},\n",
            m->allow_empty ? "true" : "false", m->allow_incomplete ? "true" : "false", ratio);
    jprintf(&b, "\"inputs\":[");
    for (size_t i = 0; i < m->n_inputs; i++) {
        const rr_manifest_input_t *in = &m->inputs[i];
        jprintf(&b, "%s\n  {", i ? "," : "");
        if (in->path) {
            jprintf(&b, "\"path\":");
            jstr(&b, in->path);
            jprintf(&b, ",\"bytes\":%llu}", (unsigned long long)in->bytes);
        } else {
            jprintf(&b, "\"topic\":");
            jstr(&b, in->topic ? in->topic : "");
            jprintf(&b, ",\"partition\":%ld,\"from_offset\":%lld,\"to_offset\":%lld}",
                    (long)in->partition, (long long)in->from_offset, (long long)in->to_offset);
        }
    }
    jprintf(&b, "],\n\"outputs\":[");
    for (size_t i = 0; i < m->n_outputs; i++) {
        const rr_manifest_output_t *o = &m->outputs[i];
        jprintf(&b, "%s\n  {\"flag\":", i ? "," : "");
        jstr(&b, o->flag);
        jprintf(&b, ",\"path\":");
        jstr(&b, o->path);
        jprintf(&b, ",\"format\":");
        jstr(&b, o->format);
        jprintf(&b, ",\"compression\":%s,\"bytes\":%llu,\"sha256\":",
                o->compressed ? "\"zstd\"" : "null", (unsigned long long)o->bytes);
        if (o->has_sha256)
            jstr(&b, o->sha256);
        else
            jprintf(&b, "null");
        jprintf(&b, ",\"records\":{");
        for (int k = 0; k < RR_MANIFEST_KINDS; k++)
            jprintf(&b, "%s\"%s\":%llu", k ? "," : "", rr_output_kind_name((rr_output_kind_t)k),
                    (unsigned long long)o->records[k]);
        jprintf(&b, "}}");
    }
    jprintf(&b, "]}\n");
    if (b.oom) {
        free(b.p);
        return -1;
    }
    *json = b.p;
    *len = b.len;
    return 0;
}

int rr_manifest_prepare(const rr_manifest_t *m, const char *path, rr_filesink_t **out, char *errstr,
                        size_t errstr_size)
{
    char *json = NULL;
    size_t len = 0;
    *out = NULL;
    if (rr_manifest_render(m, &json, &len) < 0) {
        snprintf(errstr, errstr_size, "%s: out of memory", path);
        return -1;
    }
    rr_filesink_t *s = NULL;
    int rc = rr_filesink_open(path, 0, &s, errstr, errstr_size);
    if (rc == 0 &&
        (rr_filesink_write(s, json, len) < 0 || rr_filesink_finish(s, errstr, errstr_size) < 0)) {
        rr_filesink_finish(s, errstr, errstr_size);
        rr_filesink_abort(s);
        rc = -1;
    } else if (rc == 0) {
        *out = s;
    }
    free(json);
    return rc;
}
