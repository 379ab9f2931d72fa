/* ops/telemetry.c: the run's numbers for Prometheus and the probes (see
 * telemetry.h). */
#include "ops/telemetry.h"

#include <dirent.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/map.h"
#include "ops/log.h"

typedef struct tpart {
    char *name;
    rr_tm_partition_t v;
    int64_t lag; /* -1: unknown */
    int counted; /* v was set: its series are shown */
} tpart_t;

typedef struct teng {
    const void *key;
    uint64_t convs, days, bytes;
} teng_t;

typedef struct tout {
    char *name;
    uint64_t n;
} tout_t;

/* commit latency buckets, seconds (the histogram's upper bounds) */
static const double commit_le[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
#define N_LE (sizeof commit_le / sizeof commit_le[0])

/* checkpoints written, restores done: how many, their bytes, their time */
typedef struct tally {
    uint64_t n, bytes;
    double s;
} tally_t;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
    tpart_t *parts;
    size_t n_parts, cap_parts;
    rr_map64_t by_name; /* hash of a partition's name -> index */
    int map_ok;
    teng_t *engs;
    size_t n_engs, cap_engs;
    tout_t *outs;
    size_t n_outs, cap_outs;
    uint64_t committed, aborted, commit_bucket[N_LE];
    double commit_sum;
    tally_t checkpoints, restores;
    int ready;
    char why[128];
    const char *version;
} tm = {.why = "starting", .version = "unknown"};

static long long beat_ms = -1; /* CLOCK_MONOTONIC ms of the last rr_tm_beat; under mu */
static struct MHD_Daemon *daemon_;

static long long mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static uint64_t hash_name(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* grow *v (n used, *cap slots of size sz) to hold one more; 0 or -1 */
static int grow(void **v, size_t n, size_t *cap, size_t sz)
{
    if (n < *cap) return 0;
    size_t c = *cap ? *cap * 2 : 16;
    void *p = realloc(*v, c * sz);
    if (!p) return -1;
    *v = p;
    *cap = c;
    return 0;
}

/* The partition named name (made if missing and make), or NULL. Lock held. */
static tpart_t *find_part(const char *name, int make)
{
    if (!tm.map_ok) {
        if (rr_map64_init(&tm.by_name, 64) < 0) return NULL;
        tm.map_ok = 1;
    }
    uint64_t h = hash_name(name);
    uint32_t i = rr_map64_get(&tm.by_name, h);
    if (i != RR_MAP_NONE && !strcmp(tm.parts[i].name, name)) return &tm.parts[i];
    if (i != RR_MAP_NONE) /* two names, one hash: look through them all */
        for (size_t k = 0; k < tm.n_parts; k++)
            if (!strcmp(tm.parts[k].name, name)) return &tm.parts[k];
    if (!make) return NULL;
    if (grow((void **)&tm.parts, tm.n_parts, &tm.cap_parts, sizeof *tm.parts) < 0) return NULL;
    tpart_t *p = &tm.parts[tm.n_parts];
    *p = (tpart_t){.name = strdup(name), .lag = -1, .v.watermark_ms = INT64_MIN};
    if (!p->name) return NULL;
    if (i == RR_MAP_NONE && rr_map64_put(&tm.by_name, h, (uint32_t)tm.n_parts) < 0) {
        free(p->name);
        return NULL;
    }
    tm.n_parts++;
    return p;
}

void rr_tm_partition(const char *name, const rr_tm_partition_t *v)
{
    pthread_mutex_lock(&mu);
    tpart_t *p = find_part(name, 1);
    if (p) {
        p->v = *v;
        p->counted = 1;
    }
    pthread_mutex_unlock(&mu);
}

void rr_tm_partition_lag(const char *name, int64_t messages)
{
    pthread_mutex_lock(&mu);
    tpart_t *p = find_part(name, 1);
    if (p) p->lag = messages < 0 ? 0 : messages;
    pthread_mutex_unlock(&mu);
}

void rr_tm_partition_drop(const char *name)
{
    pthread_mutex_lock(&mu);
    tpart_t *p = find_part(name, 0);
    if (p) { /* kept for the map's sake, shown no more until set again */
        p->counted = 0;
        p->lag = -1;
    }
    pthread_mutex_unlock(&mu);
}

void rr_tm_engine(const void *key, uint64_t open_conversations, uint64_t open_days,
                  uint64_t state_bytes)
{
    pthread_mutex_lock(&mu);
    size_t i = 0;
    while (i < tm.n_engs && tm.engs[i].key != key)
        i++;
    if (i < tm.n_engs || !grow((void **)&tm.engs, tm.n_engs, &tm.cap_engs, sizeof *tm.engs)) {
        if (i == tm.n_engs) tm.n_engs++;
        tm.engs[i] = (teng_t){key, open_conversations, open_days, state_bytes};
    }
    pthread_mutex_unlock(&mu);
}

void rr_tm_engine_drop(const void *key)
{
    pthread_mutex_lock(&mu);
    for (size_t i = 0; i < tm.n_engs; i++)
        if (tm.engs[i].key == key) {
            tm.engs[i] = tm.engs[--tm.n_engs];
            break;
        }
    pthread_mutex_unlock(&mu);
}

void rr_tm_records(const char *output, uint64_t n)
{
    pthread_mutex_lock(&mu);
    size_t i = 0;
    while (i < tm.n_outs && strcmp(tm.outs[i].name, output))
        i++;
    if (i == tm.n_outs && !grow((void **)&tm.outs, tm.n_outs, &tm.cap_outs, sizeof *tm.outs) &&
        (tm.outs[i].name = strdup(output))) {
        tm.outs[i].n = 0;
        tm.n_outs++;
    }
    if (i < tm.n_outs) tm.outs[i].n += n;
    pthread_mutex_unlock(&mu);
}

void rr_tm_txn_committed(double seconds)
{
    pthread_mutex_lock(&mu);
    tm.committed++;
    tm.commit_sum += seconds;
    for (size_t b = 0; b < N_LE; b++)
        if (seconds <= commit_le[b]) tm.commit_bucket[b]++;
    pthread_mutex_unlock(&mu);
}

void rr_tm_txn_aborted(void)
{
    pthread_mutex_lock(&mu);
    tm.aborted++;
    pthread_mutex_unlock(&mu);
}

static void add_tally(tally_t *t, uint64_t bytes, double seconds)
{
    pthread_mutex_lock(&mu);
    t->n++;
    t->bytes += bytes;
    t->s += seconds;
    pthread_mutex_unlock(&mu);
}

void rr_tm_checkpoint(uint64_t bytes, double seconds)
{
    add_tally(&tm.checkpoints, bytes, seconds);
}

void rr_tm_restore(uint64_t bytes, double seconds)
{
    add_tally(&tm.restores, bytes, seconds);
}

void rr_tm_ready(int ready, const char *why_not)
{
    pthread_mutex_lock(&mu);
    tm.ready = ready;
    snprintf(tm.why, sizeof tm.why, "%s", ready || !why_not ? "" : why_not);
    pthread_mutex_unlock(&mu);
}

void rr_tm_beat(void)
{
    long long now = mono_ms();
    pthread_mutex_lock(&mu); /* a few times a second: the lock costs nothing, and thread
                              * checkers see it (a relaxed atomic they took for a race) */
    beat_ms = now;
    pthread_mutex_unlock(&mu);
}

void rr_tm_set_version(const char *version)
{
    pthread_mutex_lock(&mu);
    tm.version = version;
    pthread_mutex_unlock(&mu);
}

/* ---- the text format ---- */

typedef struct text {
    char *p;
    size_t n, cap;
    int oom;
} text_t;

static void put(text_t *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(text_t *t, const char *fmt, ...)
{
    for (int tries = 0; !t->oom && tries < 2; tries++) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(t->p + t->n, t->cap - t->n, fmt, ap);
        va_end(ap);
        if (k < 0) {
            t->oom = 1;
        } else if ((size_t)k < t->cap - t->n) {
            t->n += (size_t)k;
            return;
        } else {
            size_t c = (t->cap + (size_t)k + 1) * 2;
            char *q = realloc(t->p, c);
            if (!q)
                t->oom = 1;
            else {
                t->p = q;
                t->cap = c;
            }
        }
    }
}

/* a label value, escaped as the format says (backslash, quote, newline) */
static void put_label(text_t *t, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\')
            put(t, "\\\\");
        else if (*s == '"')
            put(t, "\\\"");
        else if (*s == '\n')
            put(t, "\\n");
        else
            put(t, "%c", *s);
    }
}

static void family(text_t *t, const char *name, const char *type, const char *help)
{
    put(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void part_series(text_t *t, const char *metric, const tpart_t *p, const char *extra)
{
    put(t, "%s{partition=\"", metric);
    put_label(t, p->name);
    put(t, "\"%s}", extra ? extra : "");
}

/* a tally's three counters: replyrate_PLURAL_total, replyrate_ONE_bytes_total,
 * replyrate_ONE_duration_seconds_total */
static void put_tally(text_t *t, const char *one, const char *plural, const tally_t *v,
                      const char *help)
{
    char name[64];
    snprintf(name, sizeof name, "replyrate_%s_total", plural);
    family(t, name, "counter", help);
    put(t, "%s %llu\n", name, (unsigned long long)v->n);
    snprintf(name, sizeof name, "replyrate_%s_bytes_total", one);
    family(t, name, "counter", help);
    put(t, "%s %llu\n", name, (unsigned long long)v->bytes);
    snprintf(name, sizeof name, "replyrate_%s_duration_seconds_total", one);
    family(t, name, "counter", help);
    put(t, "%s %.6f\n", name, v->s);
}

static void render_process(text_t *t)
{
    struct rusage ru;
    if (!getrusage(RUSAGE_SELF, &ru)) {
        family(t, "process_cpu_seconds_total", "counter", "User and system CPU time spent.");
        put(t, "process_cpu_seconds_total %.3f\n",
            (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6);
    }
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long vm, rss;
    if (f && fscanf(f, "%llu %llu", &vm, &rss) == 2) {
        unsigned long long page = (unsigned long long)sysconf(_SC_PAGESIZE);
        family(t, "process_resident_memory_bytes", "gauge", "Resident memory size.");
        put(t, "process_resident_memory_bytes %llu\n", rss * page);
        family(t, "process_virtual_memory_bytes", "gauge", "Virtual memory size.");
        put(t, "process_virtual_memory_bytes %llu\n", vm * page);
    }
    if (f) fclose(f);
    DIR *d = opendir("/proc/self/fd");
    if (d) {
        long n = 0;
        for (struct dirent *e; (e = readdir(d));)
            n += e->d_name[0] != '.';
        closedir(d);
        family(t, "process_open_fds", "gauge", "Open file descriptors.");
        put(t, "process_open_fds %ld\n", n - 1); /* not the one reading the directory */
    }
    struct rlimit rl;
    if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur != RLIM_INFINITY) {
        family(t, "process_max_fds", "gauge", "Limit on open file descriptors.");
        put(t, "process_max_fds %llu\n", (unsigned long long)rl.rlim_cur);
    }
}

static void render(text_t *t)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    double now_s = (double)now.tv_sec + (double)now.tv_nsec / 1e9;
    static const char *const outcome[4] = {"applied", "duplicate", "late", "invalid"};

    pthread_mutex_lock(&mu);
    family(t, "replyrate_build_info", "gauge", "The running build; always 1.");
    put(t, "replyrate_build_info{version=\"");
    put_label(t, tm.version);
    put(t, "\"} 1\n");
    family(t, "replyrate_ready", "gauge",
           "1 while the run reads its input (assigned, restored, consuming), else 0.");
    put(t, "replyrate_ready %d\n", tm.ready);

    family(t, "replyrate_events_total", "counter",
           "Events judged, by input partition and outcome (applied, duplicate, late, invalid).");
    for (size_t i = 0; i < tm.n_parts; i++)
        for (int k = 0; tm.parts[i].counted && k < 4; k++) {
            char extra[32];
            snprintf(extra, sizeof extra, ",outcome=\"%s\"", outcome[k]);
            part_series(t, "replyrate_events_total", &tm.parts[i], extra);
            put(t, " %llu\n", (unsigned long long)tm.parts[i].v.judged[k]);
        }
    family(t, "replyrate_watermark_timestamp_seconds", "gauge",
           "The partition's watermark (greatest applied event time minus the allowed lateness), "
           "Unix time.");
    for (size_t i = 0; i < tm.n_parts; i++)
        if (tm.parts[i].counted && tm.parts[i].v.watermark_ms != INT64_MIN) {
            part_series(t, "replyrate_watermark_timestamp_seconds", &tm.parts[i], NULL);
            put(t, " %.3f\n", (double)tm.parts[i].v.watermark_ms / 1000);
        }
    family(t, "replyrate_watermark_lag_seconds", "gauge",
           "Wall-clock time minus the partition's watermark.");
    for (size_t i = 0; i < tm.n_parts; i++)
        if (tm.parts[i].counted && tm.parts[i].v.watermark_ms != INT64_MIN) {
            part_series(t, "replyrate_watermark_lag_seconds", &tm.parts[i], NULL);
            put(t, " %.3f\n", now_s - (double)tm.parts[i].v.watermark_ms / 1000);
        }
    family(t, "replyrate_consumer_lag_messages", "gauge",
           "Messages of the partition not read yet: its end offset minus the next one to read.");
    for (size_t i = 0; i < tm.n_parts; i++)
        if (tm.parts[i].lag >= 0) {
            part_series(t, "replyrate_consumer_lag_messages", &tm.parts[i], NULL);
            put(t, " %lld\n", (long long)tm.parts[i].lag);
        }

    uint64_t convs = 0, days = 0, bytes = 0;
    for (size_t i = 0; i < tm.n_engs; i++) {
        convs += tm.engs[i].convs;
        days += tm.engs[i].days;
        bytes += tm.engs[i].bytes;
    }
    family(t, "replyrate_open_conversations", "gauge", "Conversations held in memory.");
    put(t, "replyrate_open_conversations %llu\n", (unsigned long long)convs);
    family(t, "replyrate_open_day_results", "gauge", "(shop, day) results not final yet.");
    put(t, "replyrate_open_day_results %llu\n", (unsigned long long)days);
    family(t, "replyrate_state_bytes", "gauge",
           "Bytes the engines' state holds (allocated capacity; not the process's RSS).");
    put(t, "replyrate_state_bytes %llu\n", (unsigned long long)bytes);

    family(t, "replyrate_records_published_total", "counter",
           "Records published, by output (a Kafka topic: counted when its transaction commits; a "
           "result file: when it is complete).");
    for (size_t i = 0; i < tm.n_outs; i++) {
        put(t, "replyrate_records_published_total{output=\"");
        put_label(t, tm.outs[i].name);
        put(t, "\"} %llu\n", (unsigned long long)tm.outs[i].n);
    }

    family(t, "replyrate_transactions_total", "counter",
           "Kafka transactions of results, by how they ended.");
    put(t, "replyrate_transactions_total{result=\"committed\"} %llu\n",
        (unsigned long long)tm.committed);
    put(t, "replyrate_transactions_total{result=\"aborted\"} %llu\n",
        (unsigned long long)tm.aborted);
    family(t, "replyrate_transaction_commit_duration_seconds", "histogram",
           "Time to commit a transaction: its offsets and the commit itself.");
    for (size_t b = 0; b < N_LE; b++)
        put(t, "replyrate_transaction_commit_duration_seconds_bucket{le=\"%g\"} %llu\n",
            commit_le[b], (unsigned long long)tm.commit_bucket[b]);
    put(t, "replyrate_transaction_commit_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
        (unsigned long long)tm.committed);
    put(t, "replyrate_transaction_commit_duration_seconds_sum %.6f\n", tm.commit_sum);
    put(t, "replyrate_transaction_commit_duration_seconds_count %llu\n",
        (unsigned long long)tm.committed);

    put_tally(t, "checkpoint", "checkpoints", &tm.checkpoints,
              "Engine checkpoints written (bytes compressed; time taking and writing them).");
    put_tally(t, "restore", "restores", &tm.restores,
              "Engines restored from checkpoints (bytes read; time reading and restoring).");
    pthread_mutex_unlock(&mu);
    render_process(t);
}

long rr_tm_render(char **out)
{
    text_t t = {0};
    render(&t);
    if (t.oom || !t.p) {
        free(t.p);
        *out = NULL;
        return -1;
    }
    *out = t.p;
    return (long)t.n;
}

int rr_tm_write_file(const char *path, char *errstr, size_t errstr_size)
{
    char *text;
    long n = rr_tm_render(&text);
    if (n < 0) {
        snprintf(errstr, errstr_size, "%s: out of memory", path);
        return -1;
    }
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    int ok = f && fwrite(text, 1, (size_t)n, f) == (size_t)n;
    if (f && fclose(f)) ok = 0;
    free(text);
    if (!ok || rename(tmp, path)) {
        snprintf(errstr, errstr_size, "%s: %s", path, strerror(errno));
        if (f) unlink(tmp);
        return -1;
    }
    return 0;
}

/* ---- the HTTP server ---- */

static char start_err[256]; /* libmicrohttpd's message while starting */
static int starting;

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    line[strcspn(line, "\r\n")] = 0;
    if (starting)
        snprintf(start_err, sizeof start_err, "%.*s", (int)sizeof start_err - 1, line);
    else
        rr_log(RR_LOG_WARN, "metrics", "%s", line);
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, char *body, size_t n,
                             const char *type)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(n, body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    enum MHD_Result ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result text_reply(struct MHD_Connection *c, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static enum MHD_Result text_reply(struct MHD_Connection *c, unsigned status, const char *fmt, ...)
{
    char *body = malloc(256);
    if (!body) return MHD_NO;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(body, 256, fmt, ap);
    va_end(ap);
    return reply(c, status, body,
                 n < 0     ? 0
                 : n > 255 ? 255
                           : (size_t)n,
                 "text/plain; charset=utf-8");
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    (void)cls, (void)version, (void)upload, (void)upload_size, (void)con_cls;
    if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
        return text_reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET only\n");
    if (!strcmp(url, "/metrics")) {
        char *text;
        long n = rr_tm_render(&text);
        if (n < 0) return text_reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
        return reply(c, MHD_HTTP_OK, text, (size_t)n, "text/plain; version=0.0.4; charset=utf-8");
    }
    if (!strcmp(url, "/health")) {
        pthread_mutex_lock(&mu);
        long long b = beat_ms;
        pthread_mutex_unlock(&mu);
        long long idle = b < 0 ? 0 : (mono_ms() - b) / 1000;
        if (idle > RR_TM_STALL_S)
            return text_reply(c, MHD_HTTP_SERVICE_UNAVAILABLE,
                              "stalled: the run's loop has not moved for %lld s\n", idle);
        return text_reply(c, MHD_HTTP_OK, "ok\n");
    }
    if (!strcmp(url, "/ready")) {
        pthread_mutex_lock(&mu);
        int ready = tm.ready;
        char why[sizeof tm.why];
        memcpy(why, tm.why, sizeof why);
        pthread_mutex_unlock(&mu);
        if (ready) return text_reply(c, MHD_HTTP_OK, "ready\n");
        return text_reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, "not ready: %s\n", why);
    }
    return text_reply(c, MHD_HTTP_NOT_FOUND, "not found: /metrics, /health, /ready\n");
}

int rr_tm_serve(const char *addr, int *port_out, char *errstr, size_t errstr_size)
{
    const char *colon = strrchr(addr, ':');
    if (!colon || !colon[1]) {
        snprintf(errstr, errstr_size, "--metrics-addr '%s': give HOST:PORT", addr);
        return -1;
    }
    char host[256];
    size_t hl = (size_t)(colon - addr);
    if (hl >= 2 && addr[0] == '[' && addr[hl - 1] == ']') { /* [v6]:port */
        addr++;
        hl -= 2;
    }
    if (hl >= sizeof host) {
        snprintf(errstr, errstr_size, "--metrics-addr: host too long");
        return -1;
    }
    memcpy(host, addr, hl);
    host[hl] = 0;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535) {
        snprintf(errstr, errstr_size, "--metrics-addr: bad port '%s'", colon + 1);
        return -1;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    int g = getaddrinfo(hl ? host : NULL, colon + 1, &hints, &ai);
    if (g) {
        snprintf(errstr, errstr_size, "--metrics-addr '%s': %s", host, gai_strerror(g));
        return -1;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
    if (ai->ai_family == AF_INET6) flags |= MHD_USE_IPv6;
    starting = 1;
    start_err[0] = 0;
    daemon_ = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, handle, NULL,
                               MHD_OPTION_SOCK_ADDR, ai->ai_addr, MHD_OPTION_EXTERNAL_LOGGER,
                               mhd_log, NULL, MHD_OPTION_CONNECTION_TIMEOUT, 10u,
                               MHD_OPTION_CONNECTION_LIMIT, 64u, MHD_OPTION_END);
    starting = 0;
    freeaddrinfo(ai);
    if (!daemon_) {
        snprintf(errstr, errstr_size, "--metrics-addr %s%s: %s", hl ? host : "", colon,
                 start_err[0] ? start_err : "cannot listen");
        return -1;
    }
    if (port_out) {
        const union MHD_DaemonInfo *i = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
        *port_out = i ? (int)i->port : (int)port;
    }
    return 0;
}

void rr_tm_shutdown(void)
{
    if (daemon_) MHD_stop_daemon(daemon_);
    daemon_ = NULL;
}
