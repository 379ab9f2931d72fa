#include "io/changelog.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "base/clock.h"
#include "base/membuf.h"

#define HDR 24
#define FORMAT 1
#define LEVEL 1 /* ~4x smaller than the raw checkpoint, at about raw write speed */

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_u32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* ---- writing: compress as the engine writes, one record per full chunk ---- */

typedef struct cwriter {
    rr_kafka_sink_t *ks;
    const char *topic, *key;
    int32_t partition;
    ZSTD_CCtx *cc;
    uint8_t *chunk; /* HDR + RR_CHANGELOG_CHUNK */
    size_t fill;    /* compressed bytes in chunk after the header */
    uint32_t index;
    rr_ck_loc_t *loc;
    int failed;
} cwriter_t;

static int emit(cwriter_t *w)
{
    memcpy(w->chunk, "RRCL", 4);
    put_u32(w->chunk + 4, FORMAT);
    put_u64(w->chunk + 8, w->loc->gen);
    put_u32(w->chunk + 16, w->index);
    put_u32(w->chunk + 20, 0);
    char key[320];
    int klen = snprintf(key, sizeof key, "%s:%" PRIu32, w->key, w->index);
    if (rr_kafka_sink_put(w->ks, w->topic, w->partition, key, (size_t)klen, w->chunk, HDR + w->fill,
                          w->index == 0 ? &w->loc->offset : NULL) < 0)
        return -1;
    w->loc->bytes += w->fill;
    w->index++;
    w->fill = 0;
    return 0;
}

static int cw_stream(cwriter_t *w, const void *p, size_t n, ZSTD_EndDirective how)
{
    ZSTD_inBuffer in = {p, n, 0};
    for (;;) {
        ZSTD_outBuffer out = {w->chunk + HDR, RR_CHANGELOG_CHUNK, w->fill};
        size_t r = ZSTD_compressStream2(w->cc, &out, &in, how);
        if (ZSTD_isError(r)) return -1;
        w->fill = out.pos;
        if (w->fill == RR_CHANGELOG_CHUNK && emit(w) < 0) return -1;
        if (how == ZSTD_e_end ? r == 0 : in.pos == in.size) return 0;
    }
}

static int cw_write(void *arg, const void *p, size_t n)
{
    cwriter_t *w = arg;
    w->loc->raw += n;
    if (w->failed || cw_stream(w, p, n, ZSTD_e_continue) < 0) w->failed = 1;
    return w->failed ? -1 : 0;
}

int rr_changelog_put(rr_kafka_sink_t *ks, const char *changelog, int32_t partition, const char *key,
                     const rr_engine_t *e, uint64_t gen, rr_ck_loc_t *loc, char *errstr,
                     size_t errstr_size)
{
    *loc = (rr_ck_loc_t){.offset = -1, .gen = gen};
    cwriter_t w = {.ks = ks, .topic = changelog, .key = key, .partition = partition, .loc = loc};
    w.cc = ZSTD_createCCtx();
    w.chunk = malloc(HDR + RR_CHANGELOG_CHUNK);
    int rc = -1;
    if (!w.cc || !w.chunk ||
        ZSTD_isError(ZSTD_CCtx_setParameter(w.cc, ZSTD_c_compressionLevel, LEVEL))) {
        snprintf(errstr, errstr_size, "%s[%d]: checkpoint: out of memory", changelog,
                 (int)partition);
        goto out;
    }
    if (rr_engine_checkpoint(e, cw_write, &w) < 0 || w.failed ||
        cw_stream(&w, NULL, 0, ZSTD_e_end) < 0 || (w.fill > 0 && emit(&w) < 0)) {
        snprintf(errstr, errstr_size, "%s[%d]: writing the checkpoint failed", changelog,
                 (int)partition);
        goto out;
    }
    loc->chunks = w.index;
    rc = 0;
out:
    ZSTD_freeCCtx(w.cc);
    free(w.chunk);
    return rc;
}

void rr_changelog_format(const rr_ck_loc_t *loc, char *buf, size_t n)
{
    snprintf(buf, n, "rrck1:%" PRId64 ":%" PRIu32 ":%" PRIu64 ":%" PRIu64 ":%" PRIu64, loc->offset,
             loc->chunks, loc->gen, loc->bytes, loc->raw);
}

int rr_changelog_parse(const char *md, size_t len, rr_ck_loc_t *loc)
{
    char buf[128];
    if (!md || len < 6 || len >= sizeof buf || memcmp(md, "rrck1:", 6)) return -1;
    memcpy(buf, md, len);
    buf[len] = 0;
    int k = 0;
    int64_t off;
    uint32_t chunks;
    uint64_t gen, bytes, raw;
    if (sscanf(buf, "rrck1:%" SCNd64 ":%" SCNu32 ":%" SCNu64 ":%" SCNu64 ":%" SCNu64 "%n", &off,
               &chunks, &gen, &bytes, &raw, &k) != 5 ||
        (size_t)k != len || off < 0 || chunks == 0)
        return -1;
    *loc = (rr_ck_loc_t){.offset = off, .chunks = chunks, .gen = gen, .bytes = bytes, .raw = raw};
    return 0;
}

/* ---- reading: gather the chunks, decompress as the engine reads ---- */

typedef struct creader {
    ZSTD_DCtx *dc;
    ZSTD_inBuffer in;
} creader_t;

static int cr_read(void *arg, void *p, size_t n)
{
    creader_t *r = arg;
    ZSTD_outBuffer out = {p, n, 0};
    while (out.pos < n) {
        size_t before = out.pos, at = r->in.pos;
        size_t x = ZSTD_decompressStream(r->dc, &out, &r->in);
        if (ZSTD_isError(x) || (out.pos == before && r->in.pos == at))
            return -1; /* corrupt, or the stream ended short */
    }
    return 0;
}

int rr_changelog_restore(const rr_kafka_opts_t *ko, const char *changelog, int32_t partition,
                         const char *key, const rr_ck_loc_t *loc, rr_engine_t *e, int timeout_s,
                         char *errstr, size_t errstr_size)
{
    char where[300];
    snprintf(where, sizeof where, "%s[%d] at offset %" PRId64, changelog, (int)partition,
             loc->offset);
    rd_kafka_t *rk = rr_kafka_reader_new(ko, "replyrate-restore", errstr, errstr_size);
    if (!rk) return -1;
    rr_membuf_t buf = {0};
    creader_t cr = {0};
    int rc = -1;
    size_t klen = strlen(key);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, changelog, partition)->offset = loc->offset;
    rd_kafka_resp_err_t ae = rd_kafka_assign(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (ae) {
        snprintf(errstr, errstr_size, "%s: assign: %s", where, rd_kafka_err2str(ae));
        goto out;
    }
    uint32_t got = 0;
    double last = rr_mono_s();
    while (got < loc->chunks) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
        if (!m) {
            if (rr_mono_s() - last > timeout_s) {
                snprintf(errstr, errstr_size,
                         "%s: checkpoint chunk %" PRIu32 " of %" PRIu32 " not found in %d s", where,
                         got, loc->chunks, timeout_s);
                goto out;
            }
            continue;
        }
        const uint8_t *v = m->payload;
        int mine = !m->err && m->key_len > klen && !memcmp(m->key, key, klen) &&
                   ((const char *)m->key)[klen] == ':' && v && m->len >= HDR &&
                   !memcmp(v, "RRCL", 4) && get_u64(v + 8) == loc->gen;
        if (rr_kafka_is_reset(m)) { /* waiting would find nothing: say so now */
            snprintf(errstr, errstr_size,
                     "%s: checkpoint records from offset %lld on were deleted from the "
                     "changelog (retention or DeleteRecords): %s",
                     where, (long long)m->offset, rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            goto out;
        }
        if (m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            char fatal[256];
            if (rd_kafka_fatal_error(rk, fatal, sizeof fatal)) {
                snprintf(errstr, errstr_size, "%s: %s", where, fatal);
                rd_kafka_message_destroy(m);
                goto out;
            }
        }
        if (mine) {
            last = rr_mono_s();
            if (get_u32(v + 4) != FORMAT || get_u32(v + 16) != got) {
                snprintf(errstr, errstr_size,
                         "%s: checkpoint chunk %" PRIu32 " is format %" PRIu32 ", index %" PRIu32
                         ": not this build's, or out of order",
                         where, got, get_u32(v + 4), get_u32(v + 16));
                rd_kafka_message_destroy(m);
                goto out;
            }
            if (rr_membuf_write(&buf, v + HDR, m->len - HDR) < 0) {
                snprintf(errstr, errstr_size, "%s: out of memory", where);
                rd_kafka_message_destroy(m);
                goto out;
            }
            got++;
        }
        rd_kafka_message_destroy(m);
    }
    cr.dc = ZSTD_createDCtx();
    if (!cr.dc) {
        snprintf(errstr, errstr_size, "%s: out of memory", where);
        goto out;
    }
    cr.in = (ZSTD_inBuffer){buf.p, buf.n, 0};
    char why[256];
    if (rr_engine_restore(e, cr_read, &cr, why, sizeof why) < 0) {
        snprintf(errstr, errstr_size, "%s: %s", where, why);
        goto out;
    }
    rc = 0;
out:
    ZSTD_freeDCtx(cr.dc);
    rr_membuf_free(&buf);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return rc;
}
