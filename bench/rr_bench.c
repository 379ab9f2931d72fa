/* rr_bench.c: time one stage of the file data path on one input, so that
 * the stages can be compared side by side (bench/README.md).
 *
 *   rr_bench --input FILE --mode MODE [--repeat N]
 *
 * Modes, each a superset of the one before it where it says so:
 *   read        open + read/decompress + frame (rr_source_next_batch)
 *   decode      read + rr_decode_event on every record (the floor of a run)
 *   decode-pbc  read + protobuf-c's replyrate__v1__chat_event__unpack() and
 *               free_unpacked() on every record, instead of rr_decode_event
 *   engine      decode + rr_engine_offer into a counting sink, then
 *               rr_engine_finish: what `replyrate run` does minus writing output
 *   decode-mem  like decode, from the whole decompressed stream loaded into
 *               memory beforehand (untimed) and framed in place
 *   engine-mem  like engine, from that memory buffer (decode + apply only)
 *   skeleton-mem  the engine's architecture without its metrics, from that
 *               buffer (skeleton.c): the floor engine-mem is measured against
 *   compact-mem the prototype of the engine's next design (compact.c): a
 *               compact conversation record, the default metrics as straight
 *               code; from that buffer, its records digested (digest.h)
 *   bucket-mem  the prototype of the design after it (bucket.c): the day in
 *               cache-sized passes, the real engine run on one bucket of
 *               shops at a time (--buckets K, default 64); from that buffer
 *
 * --digest adds to the engine modes a digest of their final records (order
 * free, digest.h), the one compact-mem always prints, so the two compare.
 *
 * Each repetition prints one JSON line on stdout: events, wall and CPU
 * seconds (getrusage user + sys over the timed part only), events per wall
 * second and per CPU second, CPU seconds per million events, and the
 * process's peak RSS so far (ru_maxrss: for the -mem modes it includes the
 * loaded buffer). The engine uses rr_config_default(), Asia/Shanghai and the
 * real clock as now_ms, read once per batch like `replyrate run` does.
 *
 * Single-threaded; everything it allocates is freed before it exits.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "base/clock.h"
#include "codec/decode.h"
#include "io/feed.h"
#include "io/source.h"
#include "io/tzload.h"
#include "replyrate/config.h"
#include "replyrate/engine.h"
#include "replyrate/v1/chat_event.pb-c.h"
#include "bucket.h"
#include "compact.h"
#include "digest.h"
#include "skeleton.h"

#define BATCH 4096

enum mode {
    M_READ,
    M_DECODE,
    M_DECODE_PBC,
    M_ENGINE,
    M_DECODE_MEM,
    M_ENGINE_MEM,
    M_SKELETON_MEM,
    M_COMPACT_MEM,
    M_BUCKET_MEM
};

static const char *const mode_names[] = {"read",         "decode",      "decode-pbc",
                                         "engine",       "decode-mem",  "engine-mem",
                                         "skeleton-mem", "compact-mem", "bucket-mem"};

static const char usage[] =
    "usage: rr_bench --input FILE --mode MODE [--repeat N] [--digest] [--buckets K]\n"
    "\n"
    "  -i, --input FILE   delimited ChatEvent stream, plain or zstd\n"
    "  -m, --mode MODE    read | decode | decode-pbc | engine | decode-mem | engine-mem |\n"
    "                     skeleton-mem | compact-mem | bucket-mem\n"
    "  -r, --repeat N     timed repetitions in this process (default 1); one JSON\n"
    "                     line each on stdout\n"
    "  -d, --digest       engine modes: print a digest of the final records too\n"
    "  -b, --buckets K    bucket-mem: shops dealt to K buckets (default 64)\n"
    "  -s, --slice N      bucket-mem: offer the buckets' events to their engines\n"
    "                     every N events dealt (default 1048576; 0: once, at the end)\n"
    "  -h, --help         this message\n";

/* What a timed pass produced; the sums keep the compiler from discarding work. */
typedef struct pass {
    uint64_t records; /* records framed, any status: the input events */
    uint64_t ok;      /* decoded (decode modes), or framed OK (read) */
    uint64_t bad;     /* broken frames or undecodable records */
    uint64_t sum;     /* bytes (read) or a checksum of decoded fields */
    rr_stats_t st;    /* engine modes */
    uint64_t sink_records;
    rr_memory_t mem;   /* engine modes: the state at its largest (sampled per batch) */
    uint64_t mem_open; /* open conversations then */
    int digest;        /* digest the sink's final records into dg */
    rr_digest_t dg;
    cmp_counts_t cc; /* compact-mem */
    bkt_counts_t bc; /* bucket-mem */
} pass_t;

static double cpu_s(struct rusage *ru)
{
    return (double)ru->ru_utime.tv_sec + (double)ru->ru_utime.tv_usec / 1e6 +
           (double)ru->ru_stime.tv_sec + (double)ru->ru_stime.tv_usec / 1e6;
}

static double tv_s(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* The null sink: counts records so the engine does all its work; with
 * --digest, digests the final ones. */
static void sink_day(void *o, const rr_day_record_t *r)
{
    pass_t *ps = o;
    ps->sink_records++;
    if (ps->digest && r->final)
        rr_digest_day(&ps->dg, r->is_agent, r->shop_id, r->agent_id, r->day, r->values,
                      r->cfg->n_metrics);
}
static void sink_violation(void *o, const rr_violation_record_t *r)
{
    pass_t *ps = o;
    ps->sink_records++;
    if (ps->digest && r->final) rr_digest_violation(&ps->dg, r);
}
static void sink_alert(void *o, const rr_alert_record_t *r)
{
    (void)r;
    ((pass_t *)o)->sink_records++;
}
static void sink_rejected(void *o, const rr_rejected_record_t *r)
{
    (void)r;
    ((pass_t *)o)->sink_records++;
}

/* Load a whole file, decompressing it when it starts with a zstd magic, into
 * a malloc'ed buffer (*out, owned by the caller). Returns 0 or -1 with errstr. */
static int load_decompressed(const char *path, uint8_t **out, size_t *out_len, char *errstr,
                             size_t errstr_size)
{
    uint8_t *raw = NULL, *dst = NULL;
    size_t raw_len = 0, cap = 0, len = 0;
    ZSTD_DCtx *zd = NULL;
    int fd = open(path, O_RDONLY);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) < 0) {
        snprintf(errstr, errstr_size, "%s: %s", path, strerror(errno));
        goto fail;
    }
    raw = malloc(sb.st_size > 0 ? (size_t)sb.st_size : 1);
    if (!raw) {
        snprintf(errstr, errstr_size, "%s: out of memory", path);
        goto fail;
    }
    while (raw_len < (size_t)sb.st_size) {
        ssize_t n = read(fd, raw + raw_len, (size_t)sb.st_size - raw_len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            snprintf(errstr, errstr_size, "%s: read: %s", path, n ? strerror(errno) : "short");
            goto fail;
        }
        raw_len += (size_t)n;
    }
    close(fd);
    fd = -1;
    uint32_t magic = raw_len >= 4 ? (uint32_t)raw[0] | (uint32_t)raw[1] << 8 |
                                        (uint32_t)raw[2] << 16 | (uint32_t)raw[3] << 24
                                  : 0;
    if (magic != ZSTD_MAGICNUMBER &&
        (magic & ZSTD_MAGIC_SKIPPABLE_MASK) != ZSTD_MAGIC_SKIPPABLE_START) {
        *out = raw;
        *out_len = raw_len;
        return 0;
    }
    zd = ZSTD_createDCtx();
    cap = raw_len * 4 + (1 << 20);
    dst = malloc(cap);
    if (!zd || !dst) {
        snprintf(errstr, errstr_size, "%s: out of memory", path);
        goto fail;
    }
    ZSTD_inBuffer in = {raw, raw_len, 0};
    size_t zr = 0;
    while (in.pos < in.size || zr != 0) {
        if (cap - len < (1 << 20)) {
            uint8_t *g = realloc(dst, cap * 2);
            if (!g) {
                snprintf(errstr, errstr_size, "%s: out of memory", path);
                goto fail;
            }
            dst = g;
            cap *= 2;
        }
        ZSTD_outBuffer ob = {dst + len, cap - len, 0};
        size_t before = in.pos;
        zr = ZSTD_decompressStream(zd, &ob, &in);
        if (ZSTD_isError(zr)) {
            snprintf(errstr, errstr_size, "%s: zstd: %s", path, ZSTD_getErrorName(zr));
            goto fail;
        }
        len += ob.pos;
        if (in.pos == in.size && zr != 0 && ob.pos == 0 && in.pos == before) {
            snprintf(errstr, errstr_size, "%s: zstd: truncated frame", path);
            goto fail;
        }
    }
    ZSTD_freeDCtx(zd);
    free(raw);
    *out = dst;
    *out_len = len;
    return 0;
fail:
    if (fd >= 0) close(fd);
    ZSTD_freeDCtx(zd);
    free(raw);
    free(dst);
    return -1;
}

/* One timed pass over src in the given mode. eng is NULL unless an engine mode. */
static int run_pass(enum mode m, rr_source_t *src, rr_engine_t *eng, skel_t *sk, cmp_t *cp,
                    int part, pass_t *ps)
{
    static rr_record_t recs[BATCH];
    for (;;) {
        int n = rr_source_next_batch(src, recs, BATCH);
        if (n < 0) {
            fprintf(stderr, "rr_bench: %s\n", rr_source_error(src));
            return -1;
        }
        if (n == 0) break;
        int64_t now = eng || sk || cp ? rr_now_ms() : 0;
        ps->records += (uint64_t)n;
        if (cp) {
            if (cmp_feed(cp, recs, (size_t)n, now) < 0) {
                fprintf(stderr, "rr_bench: compact: out of memory\n");
                return -1;
            }
            continue;
        }
        if (sk) {
            if (skel_feed(sk, recs, (size_t)n, now) < 0) {
                fprintf(stderr, "rr_bench: skeleton: out of memory\n");
                return -1;
            }
            continue;
        }
        if (eng) { /* exactly what replyrate run does with a batch */
            rr_feed_counts_t fc = {0};
            rr_feed_records(eng, part, recs, (size_t)n, now, &fc);
            ps->ok += fc.decoded;
            ps->bad += fc.undecodable;
            rr_stats_t st; /* the state when the most conversations are open */
            rr_engine_stats(eng, &st);
            if (st.open_conversations > ps->mem_open) {
                rr_engine_memory(eng, &ps->mem);
                ps->mem_open = st.open_conversations;
            }
            continue;
        }
        for (int k = 0; k < n; k++) {
            const rr_record_t *rec = &recs[k];
            if (rec->status != RR_FRAME_OK) {
                ps->bad++;
                continue;
            }
            if (m == M_READ) {
                ps->ok++;
                ps->sum += rec->len;
            } else if (m == M_DECODE_PBC) {
                Replyrate__V1__ChatEvent *pe =
                    replyrate__v1__chat_event__unpack(NULL, rec->len, rec->data);
                if (!pe) {
                    ps->bad++;
                    continue;
                }
                ps->ok++;
                ps->sum += pe->event_id ^ (uint64_t)pe->ts_ms;
                replyrate__v1__chat_event__free_unpacked(pe, NULL);
            } else {
                rr_event_t ev;
                if (rr_decode_event(rec->data, rec->len, &ev) != RR_DECODE_OK) {
                    ps->bad++;
                    continue;
                }
                ps->ok++;
                ps->sum += ev.event_id ^ (uint64_t)ev.ts_ms;
            }
        }
    }
    if (eng) {
        rr_engine_partition_end(eng, part);
        rr_engine_finish(eng);
        rr_engine_stats(eng, &ps->st);
    }
    if (sk) { /* its verdicts in the engine's fields, for the same report */
        skel_finish(sk);
        const skel_counts_t *c = skel_counts(sk);
        ps->st.applied = c->applied;
        ps->st.duplicate = c->duplicate;
        ps->st.late = c->late;
        ps->st.invalid = c->invalid;
        ps->ok = c->applied + c->duplicate + c->late + c->invalid;
        ps->sum = c->released;
    }
    if (cp) {
        if (cmp_finish(cp) < 0) {
            fprintf(stderr, "rr_bench: compact: out of memory\n");
            return -1;
        }
        ps->cc = *cmp_counts(cp);
        ps->dg = *cmp_digest(cp);
        ps->st.applied = ps->cc.applied;
        ps->st.duplicate = ps->cc.duplicate;
        ps->st.late = ps->cc.late;
        ps->st.invalid = ps->cc.invalid;
        ps->ok = ps->cc.applied + ps->cc.duplicate + ps->cc.late + ps->cc.invalid;
    }
    return 0;
}

static void print_json(enum mode m, int rep, const pass_t *ps, double wall, double cpu, double user,
                       double sys, long maxrss_kb, size_t mem_bytes)
{
    double ev = (double)ps->records;
    printf("{\"mode\":\"%s\",\"rep\":%d,\"events\":%llu,\"ok\":%llu,\"bad\":%llu,"
           "\"wall_s\":%.4f,\"cpu_s\":%.4f,\"user_s\":%.4f,\"sys_s\":%.4f,"
           "\"events_per_s\":%.0f,\"events_per_cpu_s\":%.0f,\"cpu_s_per_m\":%.5f,"
           "\"peak_rss_mib\":%.1f,\"mem_buffer_mib\":%.1f,\"checksum\":%llu",
           mode_names[m], rep, (unsigned long long)ps->records, (unsigned long long)ps->ok,
           (unsigned long long)ps->bad, wall, cpu, user, sys, wall > 0 ? ev / wall : 0.0,
           cpu > 0 ? ev / cpu : 0.0, ev > 0 ? cpu / (ev / 1e6) : 0.0, (double)maxrss_kb / 1024.0,
           (double)mem_bytes / 1048576.0, (unsigned long long)ps->sum);
    if (m == M_ENGINE || m == M_ENGINE_MEM || m == M_BUCKET_MEM)
        printf(",\"applied\":%llu,\"duplicate\":%llu,\"late\":%llu,\"invalid\":%llu,"
               "\"shop_days\":%llu,\"agent_days\":%llu,\"violations\":%llu,"
               "\"peak_open_conversations\":%llu,\"sink_records\":%llu",
               (unsigned long long)ps->st.applied, (unsigned long long)ps->st.duplicate,
               (unsigned long long)ps->st.late, (unsigned long long)ps->st.invalid,
               (unsigned long long)ps->st.shop_days, (unsigned long long)ps->st.agent_days,
               (unsigned long long)ps->st.violations,
               (unsigned long long)ps->st.peak_open_conversations,
               (unsigned long long)ps->sink_records);
    if (m == M_ENGINE || m == M_ENGINE_MEM) { /* the state at the most open conversations */
        const rr_memory_t *x = &ps->mem;
        printf(",\"state_mib\":%.1f,\"state_open_conversations\":%llu,"
               "\"state_bytes_per_open_conversation\":%.0f,\"state_parts_mib\":{"
               "\"conversations\":%.1f,\"active\":%.1f,\"blocks\":%.1f,\"days\":%.1f,"
               "\"buffered\":%.1f}",
               (double)x->total / 1048576.0, (unsigned long long)ps->mem_open,
               ps->mem_open ? (double)x->total / (double)ps->mem_open : 0.0,
               (double)x->conversations / 1048576.0, (double)x->active / 1048576.0,
               (double)x->blocks / 1048576.0, (double)x->days / 1048576.0,
               (double)x->buffered / 1048576.0);
    }
    if (m == M_BUCKET_MEM)
        printf(",\"unsupported\":%llu,\"deal_user_s\":%.4f,\"deal_sys_s\":%.4f,"
               "\"engines_user_s\":%.4f,\"engines_sys_s\":%.4f,\"largest_bucket_mib\":%.1f,"
               "\"largest_bucket_open_conversations\":%llu",
               (unsigned long long)ps->bc.unsupported, ps->bc.first_user_s, ps->bc.first_sys_s,
               ps->bc.second_user_s, ps->bc.second_sys_s, (double)ps->bc.buffer_bytes / 1048576.0,
               (unsigned long long)ps->bc.peak_bucket);
    if (m == M_COMPACT_MEM)
        printf(",\"unsupported\":%llu,\"peak_open_conversations\":%llu,\"state_mib\":%.1f,"
               "\"state_bytes_per_open_conversation\":%.0f",
               (unsigned long long)ps->cc.unsupported, (unsigned long long)ps->cc.peak_convs,
               (double)ps->cc.state_bytes / 1048576.0,
               ps->cc.peak_convs ? (double)ps->cc.state_bytes / (double)ps->cc.peak_convs : 0.0);
    if (ps->digest || m == M_COMPACT_MEM)
        printf(",\"digest\":{\"shop_days\":%llu,\"agent_days\":%llu,\"violations\":%llu,"
               "\"days\":\"%016llx\",\"violation_records\":\"%016llx\"}",
               (unsigned long long)ps->dg.n_shop_days, (unsigned long long)ps->dg.n_agent_days,
               (unsigned long long)ps->dg.n_violations, (unsigned long long)ps->dg.days,
               (unsigned long long)ps->dg.violations);
    if (m == M_SKELETON_MEM || m == M_COMPACT_MEM)
        printf(",\"applied\":%llu,\"duplicate\":%llu,\"late\":%llu,\"invalid\":%llu",
               (unsigned long long)ps->st.applied, (unsigned long long)ps->st.duplicate,
               (unsigned long long)ps->st.late, (unsigned long long)ps->st.invalid);
    printf("}\n");
    fflush(stdout);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"input", required_argument, NULL, 'i'},   {"mode", required_argument, NULL, 'm'},
        {"repeat", required_argument, NULL, 'r'},  {"digest", no_argument, NULL, 'd'},
        {"buckets", required_argument, NULL, 'b'}, {"slice", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0}};
    const char *input = NULL, *mode_s = NULL;
    int repeat = 1, digest = 0, buckets = 64, c;
    long slice = 1 << 20;
    while ((c = getopt_long(argc, argv, "i:m:r:db:s:h", opts, NULL)) != -1) {
        switch (c) {
        case 'i':
            input = optarg;
            break;
        case 'm':
            mode_s = optarg;
            break;
        case 'r':
            repeat = atoi(optarg);
            break;
        case 'd':
            digest = 1;
            break;
        case 'b':
            buckets = atoi(optarg);
            break;
        case 's':
            slice = atol(optarg);
            break;
        case 'h':
            fputs(usage, stdout);
            return 0;
        default:
            fputs(usage, stderr);
            return 2;
        }
    }
    int m = -1;
    for (int i = 0; mode_s && i < (int)(sizeof mode_names / sizeof *mode_names); i++)
        if (!strcmp(mode_s, mode_names[i])) m = i;
    if (!input || m < 0 || repeat < 1 || buckets < 1 || slice < 0 || optind < argc) {
        fputs(usage, stderr);
        return 2;
    }

    int status = 1;
    char err[512];
    rr_config_t cfg;
    rr_tz_t *tz = NULL;
    uint8_t *mem = NULL;
    size_t mem_len = 0;
    int engine_mode = m == M_ENGINE || m == M_ENGINE_MEM;
    int mem_mode = m == M_DECODE_MEM || m == M_ENGINE_MEM || m == M_SKELETON_MEM ||
                   m == M_COMPACT_MEM || m == M_BUCKET_MEM;

    rr_config_default(&cfg);
    if ((engine_mode || m == M_COMPACT_MEM || m == M_BUCKET_MEM) &&
        rr_tz_load("Asia/Shanghai", &tz, err, sizeof err) < 0) {
        fprintf(stderr, "rr_bench: %s\n", err);
        goto out;
    }
    if (mem_mode && load_decompressed(input, &mem, &mem_len, err, sizeof err) < 0) {
        fprintf(stderr, "rr_bench: %s\n", err);
        goto out;
    }

    for (int rep = 1; rep <= repeat; rep++) {
        pass_t ps = {.digest = (digest && engine_mode) || m == M_BUCKET_MEM};
        rr_engine_t *eng = NULL;
        rr_source_t *src = NULL;
        int part = 0;
        rr_sink_t sink = {.opaque = &ps,
                          .day = sink_day,
                          .violation = sink_violation,
                          .alert = sink_alert,
                          .rejected = sink_rejected};
        if (engine_mode) {
            if (rr_engine_new(&cfg, tz, &sink, &eng, err, sizeof err) < 0) {
                fprintf(stderr, "rr_bench: engine: %s\n", err);
                goto out;
            }
            part = rr_engine_add_partition(eng, input);
        }

        skel_t *sk = NULL;
        if (m == M_SKELETON_MEM && skel_new(&sk) < 0) {
            fprintf(stderr, "rr_bench: skeleton: out of memory\n");
            goto out;
        }
        cmp_t *cp = NULL;
        if (m == M_COMPACT_MEM && cmp_new(tz, &cp) < 0) {
            fprintf(stderr, "rr_bench: compact: out of memory\n");
            skel_free(sk);
            goto out;
        }

        struct rusage r0, r1;
        getrusage(RUSAGE_SELF, &r0);
        double t0 = rr_mono_s();
        if (m == M_BUCKET_MEM) { /* its own passes over the buffer */
            int brc = bkt_run(mem, mem_len, &cfg, tz, &sink, buckets, slice, rr_now_ms(), &ps.bc,
                              err, sizeof err);
            double bwall = rr_mono_s() - t0;
            getrusage(RUSAGE_SELF, &r1);
            if (brc < 0) {
                fprintf(stderr, "rr_bench: bucket: %s\n", err);
                skel_free(sk);
                cmp_free(cp);
                goto out;
            }
            ps.records = ps.bc.records;
            ps.st = ps.bc.st;
            ps.st.peak_open_conversations = ps.bc.peak_open;
            ps.ok = ps.st.input;
            print_json((enum mode)m, rep, &ps, bwall, cpu_s(&r1) - cpu_s(&r0),
                       tv_s(r1.ru_utime) - tv_s(r0.ru_utime), tv_s(r1.ru_stime) - tv_s(r0.ru_stime),
                       r1.ru_maxrss, mem_len);
            continue;
        }
        int rc = mem_mode ? rr_source_open_mem(mem, mem_len, input, &src, err, sizeof err)
                          : rr_source_open(input, &src, err, sizeof err);
        if (rc < 0) {
            fprintf(stderr, "rr_bench: %s\n", err);
            rr_engine_free(eng);
            skel_free(sk);
            cmp_free(cp);
            goto out;
        }
        rc = run_pass((enum mode)m, src, eng, sk, cp, part, &ps);
        rr_source_close(src);
        double wall = rr_mono_s() - t0;
        getrusage(RUSAGE_SELF, &r1);
        rr_engine_free(eng);
        skel_free(sk);
        cmp_free(cp);
        if (rc < 0) goto out;
        double user = tv_s(r1.ru_utime) - tv_s(r0.ru_utime);
        double sys = tv_s(r1.ru_stime) - tv_s(r0.ru_stime);
        print_json((enum mode)m, rep, &ps, wall, cpu_s(&r1) - cpu_s(&r0), user, sys, r1.ru_maxrss,
                   mem_len);
    }
    status = 0;
out:
    free(mem);
    rr_tz_free(tz);
    return status;
}
