/* report/runinfo.c: the fields of manifest.json the report shows (see
 * runinfo.h): a JSON parser into a flat tree of nodes, then lookups. */
#include "report/runinfo.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- JSON into nodes ------------------------------------------------------- */

/* A value of the document. Children of an object or array are a list
 * (kid, then next); an object's children carry their key. Strings (keys,
 * string values, the text of numbers) are decoded into one arena. */
typedef struct jnode {
    char type; /* 'o' object, 'a' array, 's' string, 'n' number, 'b' boolean, 'z' null */
    int boolean;
    const char *key; /* NULL unless a member of an object */
    const char *str; /* a string's decoded bytes, a number's text */
    size_t len;
    int kid, next; /* -1: none */
} jnode_t;

typedef struct jparse {
    const char *name;
    const char *p;
    size_t n, pos;
    jnode_t *nodes;
    size_t n_nodes, cap_nodes;
    char *arena;
    size_t arena_len;
    char *err;
    size_t errn;
    int failed;
} jparse_t;

static int jfail(jparse_t *j, const char *why)
{
    if (j->failed) return -1;
    unsigned long long line = 1;
    for (size_t i = 0; i < j->pos && i < j->n; i++)
        line += j->p[i] == '\n';
    snprintf(j->err, j->errn, "%s:%llu: %s", j->name, line, why);
    j->failed = 1;
    return -1;
}

static void ws(jparse_t *j)
{
    while (j->pos < j->n && (j->p[j->pos] == ' ' || j->p[j->pos] == '\t' || j->p[j->pos] == '\n' ||
                             j->p[j->pos] == '\r'))
        j->pos++;
}

static int new_node(jparse_t *j, char type)
{
    if (j->n_nodes == j->cap_nodes) {
        size_t cap = j->cap_nodes ? 2 * j->cap_nodes : 64;
        jnode_t *q = realloc(j->nodes, cap * sizeof *q);
        if (!q) return jfail(j, "out of memory");
        j->nodes = q;
        j->cap_nodes = cap;
    }
    jnode_t *x = &j->nodes[j->n_nodes];
    memset(x, 0, sizeof *x);
    x->type = type;
    x->kid = x->next = -1;
    return (int)j->n_nodes++;
}

static int hex4(const char *s)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

/* A string at j->pos (its opening quote) decoded into the arena: *out, *len. */
static int jstring(jparse_t *j, const char **out, size_t *len)
{
    char *d = j->arena + j->arena_len;
    size_t k = 0;
    j->pos++;
    for (;;) {
        if (j->pos >= j->n) return jfail(j, "a string is not closed");
        unsigned char c = (unsigned char)j->p[j->pos++];
        if (c == '"') break;
        if (c < 0x20) return jfail(j, "a control character inside a string");
        if (c != '\\') {
            d[k++] = (char)c;
            continue;
        }
        if (j->pos >= j->n) return jfail(j, "a string is not closed");
        c = (unsigned char)j->p[j->pos++];
        const char *simple = strchr("\"\\/bfnrt", c);
        if (c && simple) {
            static const char to[] = "\"\\/\b\f\n\r\t";
            d[k++] = to[simple - "\"\\/bfnrt"];
            continue;
        }
        if (c != 'u') return jfail(j, "an unknown escape in a string");
        long cp = j->pos + 4 <= j->n ? hex4(j->p + j->pos) : -1;
        if (cp < 0) return jfail(j, "a \\u escape without four hex digits");
        j->pos += 4;
        if (cp >= 0xd800 && cp < 0xdc00) { /* a surrogate pair */
            long lo = j->pos + 6 <= j->n && j->p[j->pos] == '\\' && j->p[j->pos + 1] == 'u'
                          ? hex4(j->p + j->pos + 2)
                          : -1;
            if (lo < 0xdc00 || lo > 0xdfff) return jfail(j, "a lone surrogate in a \\u escape");
            j->pos += 6;
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        } else if (cp >= 0xdc00 && cp < 0xe000) {
            return jfail(j, "a lone surrogate in a \\u escape");
        }
        if (cp == 0) return jfail(j, "\\u0000 in a string");
        if (cp < 0x80) {
            d[k++] = (char)cp;
        } else if (cp < 0x800) {
            d[k++] = (char)(0xc0 | cp >> 6);
            d[k++] = (char)(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
            d[k++] = (char)(0xe0 | cp >> 12);
            d[k++] = (char)(0x80 | (cp >> 6 & 0x3f));
            d[k++] = (char)(0x80 | (cp & 0x3f));
        } else {
            d[k++] = (char)(0xf0 | cp >> 18);
            d[k++] = (char)(0x80 | (cp >> 12 & 0x3f));
            d[k++] = (char)(0x80 | (cp >> 6 & 0x3f));
            d[k++] = (char)(0x80 | (cp & 0x3f));
        }
    }
    d[k] = '\0';
    j->arena_len += k + 1;
    *out = d;
    *len = k;
    return 0;
}

static int jdigits(jparse_t *j)
{
    size_t from = j->pos;
    while (j->pos < j->n && j->p[j->pos] >= '0' && j->p[j->pos] <= '9')
        j->pos++;
    return j->pos > from ? 0 : jfail(j, "a number without digits");
}

static int jvalue(jparse_t *j, int depth);

/* An object or array at j->pos; its node is x. */
static int jcontainer(jparse_t *j, int x, int depth)
{
    char close = j->p[j->pos] == '{' ? '}' : ']';
    int last = -1;
    j->pos++;
    ws(j);
    if (j->pos < j->n && j->p[j->pos] == close) {
        j->pos++;
        return x;
    }
    for (;;) {
        const char *key = NULL;
        size_t key_len;
        ws(j);
        if (close == '}') {
            if (j->pos >= j->n || j->p[j->pos] != '"') return jfail(j, "expected a key");
            if (jstring(j, &key, &key_len) < 0) return -1;
            ws(j);
            if (j->pos >= j->n || j->p[j->pos] != ':') return jfail(j, "expected ':' after a key");
            j->pos++;
        }
        int v = jvalue(j, depth + 1);
        if (v < 0) return -1;
        j->nodes[v].key = key;
        if (last < 0)
            j->nodes[x].kid = v;
        else
            j->nodes[last].next = v;
        last = v;
        ws(j);
        if (j->pos < j->n && j->p[j->pos] == ',') {
            j->pos++;
            continue;
        }
        if (j->pos < j->n && j->p[j->pos] == close) {
            j->pos++;
            return x;
        }
        if (j->pos >= j->n) return jfail(j, "the document ends early (file cut short?)");
        return jfail(j, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

/* A value at j->pos: its node's index, or -1. */
static int jvalue(jparse_t *j, int depth)
{
    ws(j);
    if (depth > RR_RUNINFO_MAX_DEPTH) return jfail(j, "nested too deeply");
    if (j->pos >= j->n) return jfail(j, "expected a value, found the end");
    char c = j->p[j->pos];
    if (c == '{' || c == '[') {
        int x = new_node(j, c == '{' ? 'o' : 'a');
        return x < 0 ? -1 : jcontainer(j, x, depth);
    }
    if (c == '"') {
        int x = new_node(j, 's');
        if (x < 0 || jstring(j, &j->nodes[x].str, &j->nodes[x].len) < 0) return -1;
        return x;
    }
    static const char *const words[] = {"true", "false", "null"};
    for (int w = 0; w < 3; w++) {
        size_t wl = strlen(words[w]);
        if (j->n - j->pos >= wl && !memcmp(j->p + j->pos, words[w], wl)) {
            int x = new_node(j, w < 2 ? 'b' : 'z');
            if (x < 0) return -1;
            j->nodes[x].boolean = w == 0;
            j->pos += wl;
            return x;
        }
    }
    if (c != '-' && (c < '0' || c > '9')) return jfail(j, "expected a value");
    size_t from = j->pos;
    if (c == '-') j->pos++;
    if (j->pos < j->n && j->p[j->pos] == '0')
        j->pos++;
    else if (jdigits(j) < 0)
        return -1;
    if (j->pos < j->n && j->p[j->pos] == '.') {
        j->pos++;
        if (jdigits(j) < 0) return -1;
    }
    if (j->pos < j->n && (j->p[j->pos] == 'e' || j->p[j->pos] == 'E')) {
        j->pos++;
        if (j->pos < j->n && (j->p[j->pos] == '+' || j->p[j->pos] == '-')) j->pos++;
        if (jdigits(j) < 0) return -1;
    }
    int x = new_node(j, 'n');
    if (x < 0) return -1;
    char *d = j->arena + j->arena_len;
    memcpy(d, j->p + from, j->pos - from);
    d[j->pos - from] = '\0';
    j->nodes[x].str = d;
    j->nodes[x].len = j->pos - from;
    j->arena_len += j->pos - from + 1;
    return x;
}

/* ---- the fields ---------------------------------------------------------- */

/* obj's member called key, or -1; of two with one name the last counts, as
 * in most JSON readers (Python's, JavaScript's). */
static int member(const jparse_t *j, int obj, const char *key)
{
    int found = -1;
    if (obj < 0 || j->nodes[obj].type != 'o') return -1;
    for (int k = j->nodes[obj].kid; k >= 0; k = j->nodes[k].next)
        if (!strcmp(j->nodes[k].key, key)) found = k;
    return found;
}

static int wrong(jparse_t *j, const char *where, const char *key, const char *want)
{
    snprintf(j->err, j->errn, "%s: \"%s\"%s: expected %s", j->name, key, where, want);
    return -1;
}

static int num_u64(const jnode_t *x, uint64_t *v)
{
    uint64_t r = 0;
    if (x->type != 'n' || x->len == 0 || x->len > 20) return -1;
    for (size_t i = 0; i < x->len; i++) {
        if (x->str[i] < '0' || x->str[i] > '9') return -1;
        unsigned d = (unsigned)(x->str[i] - '0');
        if (r > (UINT64_MAX - d) / 10) return -1;
        r = r * 10 + d;
    }
    *v = r;
    return 0;
}

static int num_i64(const jnode_t *x, int64_t *v)
{
    uint64_t u;
    int neg = x->type == 'n' && x->len > 1 && x->str[0] == '-';
    jnode_t y = *x;
    if (neg) {
        y.str++;
        y.len--;
    }
    if (num_u64(&y, &u) < 0 || u > (uint64_t)INT64_MAX) return -1;
    *v = neg ? -(int64_t)u : (int64_t)u;
    return 0;
}

/* obj.key as a u64 into *v: 0, 1 when absent (and not required), -1. */
static int get_u64(jparse_t *j, int obj, const char *where, const char *key, int required,
                   uint64_t *v)
{
    int k = member(j, obj, key);
    if (k < 0 && !required) return 1;
    if (k < 0 || num_u64(&j->nodes[k], v) < 0) return wrong(j, where, key, "an unsigned integer");
    return 0;
}

static int get_i64(jparse_t *j, int obj, const char *where, const char *key, int64_t *v)
{
    int k = member(j, obj, key);
    if (k < 0) return 1;
    if (num_i64(&j->nodes[k], v) < 0) return wrong(j, where, key, "an integer");
    return 0;
}

/* obj.key, a string, copied into buf[max]: 0, 1 when absent or null (and not
 * required), -1. */
static int get_str(jparse_t *j, int obj, const char *where, const char *key, int required,
                   char *buf, size_t max)
{
    int k = member(j, obj, key);
    if ((k < 0 || j->nodes[k].type == 'z') && !required) return 1;
    if (k < 0 || j->nodes[k].type != 's') return wrong(j, where, key, "a string");
    if (j->nodes[k].len + 1 > max) return wrong(j, where, key, "a shorter string");
    memcpy(buf, j->nodes[k].str, j->nodes[k].len + 1);
    return 0;
}

static int get_dup(jparse_t *j, int obj, const char *where, const char *key, char **out)
{
    int k = member(j, obj, key);
    if (k < 0 || j->nodes[k].type == 'z') return 1;
    if (j->nodes[k].type != 's') return wrong(j, where, key, "a string");
    *out = strdup(j->nodes[k].str);
    if (!*out) return wrong(j, where, key, "memory for it");
    return 0;
}

/* The array obj.key: its node, and its length in *count; -1 when absent or
 * null, -2 (errstr set) when not an array. */
static int array_of(jparse_t *j, int obj, const char *key, size_t *count)
{
    int k = member(j, obj, key);
    *count = 0;
    if (k < 0 || j->nodes[k].type == 'z') return -1;
    if (j->nodes[k].type != 'a') {
        wrong(j, "", key, "an array");
        return -2;
    }
    for (int e = j->nodes[k].kid; e >= 0; e = j->nodes[e].next)
        ++*count;
    return k;
}

static int fill_inputs(jparse_t *j, int root, rr_runinfo_t *ri)
{
    size_t n;
    int a = array_of(j, root, "inputs", &n);
    if (a == -2) return -1;
    if (a < 0 || n == 0) return 0;
    ri->inputs = calloc(n, sizeof *ri->inputs);
    if (!ri->inputs) return wrong(j, "", "inputs", "memory for it");
    for (int e = j->nodes[a].kid; e >= 0; e = j->nodes[e].next) {
        rr_runinfo_input_t *in = &ri->inputs[ri->n_inputs++];
        if (j->nodes[e].type != 'o') return wrong(j, "", "inputs", "objects");
        if (get_dup(j, e, " of an input", "path", &in->path) < 0 ||
            get_dup(j, e, " of an input", "topic", &in->topic) < 0 ||
            get_u64(j, e, " of an input", "bytes", 0, &in->bytes) < 0 ||
            get_i64(j, e, " of an input", "partition", &in->partition) < 0 ||
            get_i64(j, e, " of an input", "from_offset", &in->from_offset) < 0 ||
            get_i64(j, e, " of an input", "to_offset", &in->to_offset) < 0)
            return -1;
    }
    return 0;
}

static int fill_outputs(jparse_t *j, int root, rr_runinfo_t *ri)
{
    size_t n;
    int a = array_of(j, root, "outputs", &n);
    if (a == -2) return -1;
    if (a < 0 || n == 0) return 0;
    ri->outputs = calloc(n, sizeof *ri->outputs);
    if (!ri->outputs) return wrong(j, "", "outputs", "memory for it");
    for (int e = j->nodes[a].kid; e >= 0; e = j->nodes[e].next) {
        rr_runinfo_output_t *o = &ri->outputs[ri->n_outputs++];
        if (j->nodes[e].type != 'o') return wrong(j, "", "outputs", "objects");
        int rc = get_u64(j, e, " of an output", "bytes", 0, &o->bytes);
        if (rc < 0 || get_dup(j, e, " of an output", "path", &o->path) < 0 ||
            get_dup(j, e, " of an output", "flag", &o->flag) < 0)
            return -1;
        o->has_bytes = rc == 0;
        int rec = member(j, e, "records");
        if (rec >= 0 && j->nodes[rec].type == 'o') {
            o->has_records = 1;
            for (int k = j->nodes[rec].kid; k >= 0; k = j->nodes[k].next) {
                uint64_t v;
                if (num_u64(&j->nodes[k], &v) < 0 || o->records + v < v)
                    return wrong(j, " of an output's records", j->nodes[k].key,
                                 "an unsigned integer");
                o->records += v;
            }
        } else if (rec >= 0 && j->nodes[rec].type != 'z') {
            return wrong(j, " of an output", "records", "an object");
        }
    }
    return 0;
}

int rr_runinfo_parse(const char *name, const char *json, size_t len, rr_runinfo_t *ri, char *err,
                     size_t errn)
{
    memset(ri, 0, sizeof *ri);
    ri->status = -1;
    ri->complete = -1;
    jparse_t j = {.name = name, .p = json, .n = len, .err = err, .errn = errn};
    int rc = -1;
    if (len > RR_RUNINFO_MAX_BYTES) {
        snprintf(err, errn, "%s: larger than %zu bytes: not a manifest", name,
                 RR_RUNINFO_MAX_BYTES);
        return -1;
    }
    j.arena = malloc(len + 1);
    if (!j.arena) {
        snprintf(err, errn, "%s: out of memory", name);
        return -1;
    }
    int root = jvalue(&j, 0);
    if (root < 0) goto done;
    ws(&j);
    if (j.pos != j.n) {
        jfail(&j, "more after the document");
        goto done;
    }
    if (j.nodes[root].type != 'o') {
        jfail(&j, "not a JSON object");
        goto done;
    }
    char type[64];
    if (get_str(&j, root, "", "type", 0, type, sizeof type) == 0 &&
        strcmp(type, "replyrate_manifest")) {
        snprintf(err, errn, "%s: \"type\" is \"%.40s\", not a replyrate_manifest", name, type);
        goto done;
    }
    if (get_str(&j, root, "", "replyrate_version", 1, ri->replyrate_version,
                sizeof ri->replyrate_version) < 0 ||
        get_str(&j, root, "", "metric_set", 1, ri->metric_set, sizeof ri->metric_set) < 0 ||
        get_u64(&j, root, "", "input", 1, &ri->input) < 0 ||
        get_u64(&j, root, "", "applied", 1, &ri->applied) < 0 ||
        get_u64(&j, root, "", "duplicate", 1, &ri->duplicate) < 0 ||
        get_u64(&j, root, "", "late", 1, &ri->late) < 0 ||
        get_u64(&j, root, "", "invalid", 1, &ri->invalid) < 0 ||
        get_str(&j, root, "", "started_at", 0, ri->started_at, sizeof ri->started_at) < 0 ||
        get_str(&j, root, "", "ended_at", 0, ri->ended_at, sizeof ri->ended_at) < 0 ||
        get_i64(&j, root, "", "status", &ri->status) < 0)
        goto done;
    int tz = get_str(&j, root, "", "time_zone", 0, ri->time_zone, sizeof ri->time_zone);
    if (tz < 0) goto done;
    ri->has_time_zone = tz == 0;
    if (!ri->has_time_zone) snprintf(ri->time_zone, sizeof ri->time_zone, RR_RUNINFO_DEFAULT_TZ);
    int complete = member(&j, root, "complete");
    if (complete >= 0 && j.nodes[complete].type != 'b') {
        wrong(&j, "", "complete", "true or false");
        goto done;
    }
    if (complete >= 0) ri->complete = j.nodes[complete].boolean;
    if (fill_inputs(&j, root, ri) < 0 || fill_outputs(&j, root, ri) < 0) goto done;
    rc = 0;
done:
    free(j.nodes);
    free(j.arena);
    if (rc < 0) rr_runinfo_free(ri);
    return rc;
}

int rr_runinfo_load(const char *path, rr_runinfo_t *ri, char *err, size_t errn)
{
    memset(ri, 0, sizeof *ri);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errn, "%s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    char *text = NULL;
    size_t len = 0;
    int rc = -1;
    if (fstat(fd, &st) < 0) {
        snprintf(err, errn, "%s: %s", path, strerror(errno));
        goto done;
    }
    if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > RR_RUNINFO_MAX_BYTES) {
        snprintf(err, errn, "%s: not a regular file of at most %zu bytes", path,
                 RR_RUNINFO_MAX_BYTES);
        goto done;
    }
    text = malloc((size_t)st.st_size + 1);
    if (!text) {
        snprintf(err, errn, "%s: out of memory", path);
        goto done;
    }
    while (len < (size_t)st.st_size) {
        ssize_t r = read(fd, text + len, (size_t)st.st_size - len);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            snprintf(err, errn, "%s: %s", path, r < 0 ? strerror(errno) : "shorter than it was");
            goto done;
        }
        len += (size_t)r;
    }
    rc = rr_runinfo_parse(path, text, len, ri, err, errn);
done:
    free(text);
    close(fd);
    return rc;
}

void rr_runinfo_free(rr_runinfo_t *ri)
{
    for (size_t i = 0; i < ri->n_inputs; i++) {
        free(ri->inputs[i].path);
        free(ri->inputs[i].topic);
    }
    for (size_t i = 0; i < ri->n_outputs; i++) {
        free(ri->outputs[i].path);
        free(ri->outputs[i].flag);
    }
    free(ri->inputs);
    free(ri->outputs);
    ri->inputs = NULL;
    ri->outputs = NULL;
    ri->n_inputs = ri->n_outputs = 0;
}
