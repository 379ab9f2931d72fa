/* engine/checkpoint.c: an engine's whole state as a byte stream and back
 * (rr_engine_checkpoint, rr_engine_restore; docs/engine.md, "Checkpoints").
 *
 * Owns the stream format: a header that refuses another build's layout, the
 * scalars, every slab as it is in memory with its free list, the contents of
 * the few pointers, the open days, the partitions (buffered events, held
 * jumps, id maps) and a closing magic. Reads and writes the engine's records
 * (engine_int.h) and nothing else; the caller's callbacks do the I/O. Not
 * thread-safe: the engine must not be used during either call. Layer: engine.
 */
#include "engine/engine_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- checkpoints (docs/engine.md, "Checkpoints") ---------------------------
 *
 * The whole state as a byte stream, in the order written here. Records are
 * index-linked, so the slabs go out as they are in memory and come back at
 * the same indexes; the only pointers, a conversation's event-id block and a
 * round's spilled timestamps, go out as their contents and are reallocated.
 * Maps go out as their entries. Native byte order and layout: a checkpoint
 * is read by the build that wrote it (the header checks format, metric-set
 * version and record sizes). */

#define CK_MAGIC UINT32_C(0x4b435252) /* "RRCK" */
#define CK_FORMAT                                                                                  \
    5u /* 2: days carry their provisional revision; 3: cold ids, held jumps;                       \
        * 4: cold ids as arrival-order runs (ids.c); 5: a conv-day inline in the                   \
        * conversation's record (engine_int.h), event ids in it and in blocks,                     \
        * ratings per day */

typedef struct ck_writer {
    rr_ck_write_fn fn;
    void *arg;
    int failed;
} ck_writer_t;

static void ck_put(ck_writer_t *w, const void *p, size_t n)
{
    if (!w->failed && n && w->fn(w->arg, p, n) < 0) w->failed = 1;
}

static void ck_u64(ck_writer_t *w, uint64_t v)
{
    ck_put(w, &v, sizeof v);
}

static void ck_vec(ck_writer_t *w, const void *v, size_t n, size_t elem)
{
    ck_u64(w, n);
    ck_put(w, v, n * elem);
}

/* A slab as its records, then its free list. */
static void ck_slab_put(ck_writer_t *w, const rr_slab_t *s)
{
    ck_vec(w, s->base, s->n, s->size);
    ck_vec(w, s->freed, s->freed_n, sizeof *s->freed);
}

/* A map as its count, then its occupied slots (either map flavour: slots
 * of `size` bytes with the value at val_off). */
static void ck_slots(ck_writer_t *w, const void *slots, size_t mask, size_t count, size_t size,
                     size_t val_off)
{
    ck_u64(w, count);
    for (size_t i = 0; i <= mask; i++) {
        const unsigned char *s = (const unsigned char *)slots + i * size;
        uint32_t val;
        memcpy(&val, s + val_off, sizeof val);
        if (val != RR_MAP_NONE) ck_put(w, s, size);
    }
}
#define ck_map64(w, m)                                                                             \
    ck_slots(w, (m)->slots, (m)->mask, (m)->count, sizeof(rr_map64_slot_t),                        \
             offsetof(rr_map64_slot_t, val))
#define ck_map3(w, m)                                                                              \
    ck_slots(w, (m)->slots, (m)->mask, (m)->count, sizeof(rr_map3_slot_t),                         \
             offsetof(rr_map3_slot_t, val))

int rr_engine_checkpoint(const rr_engine_t *e, rr_ck_write_fn fn, void *arg)
{
    ck_writer_t w = {fn, arg, 0};
    uint64_t head[] = {CK_MAGIC,    CK_FORMAT,   e->convs.size,        e->hots.size,  e->cds.size,
                       e->sds.size, e->ads.size, sizeof(rr_pending_t), sizeof(viol_t)};
    ck_put(&w, head, sizeof head);
    ck_put(&w, e->version, sizeof e->version);
    int64_t scal[] = {e->final_through,
                      0, /* was the hourly sweep's time: the expiry queue is rebuilt */
                      0, /* was the idle sweep's time */
                      e->finished,
                      e->oom,
                      (int64_t)e->open_convs,
                      (int64_t)e->peak_convs,
                      (int64_t)e->open_hot,
                      (int64_t)e->peak_hot};
    ck_put(&w, scal, sizeof scal);
    ck_put(&w, &e->st, sizeof e->st);

    ck_slab_put(&w, &e->convs);
    ck_slab_put(&w, &e->hots);
    for (size_t i = 0; i < e->hots.n; i++) /* was each slot's idle time: format 5 */
        ck_u64(&w, 0);
    for (size_t i = 0; i < e->hots.n; i++) { /* what the hot records point to */
        const hot_t *hc = HOT(e, i);
        if (!hc->live) continue;
        for (int t = 0; t < 2 * e->n_trk; t++) {
            const round_t *r = &hc->rounds[t];
            if (r->pin_n == PIN_SPILLED) {
                ck_put(&w, r->p.pend, sizeof *r->p.pend);
                ck_put(&w, r->p.pend->ts, r->p.pend->n * sizeof(int64_t));
            }
        }
    }
    ck_u64(&w, e->ids.n); /* event-id blocks: list or set, then their bytes; free ones are empty */
    for (size_t i = 0; i < e->ids.n; i++) {
        const ids_t *k = IDS(e, i);
        ck_u64(&w, k->n);
        ck_u64(&w, k->set);
        ck_u64(&w, k->len);
        ck_put(&w, k->b, k->set ? (size_t)k->len * 8 : k->len);
    }
    ck_vec(&w, e->ids.freed, e->ids.freed_n, sizeof *e->ids.freed);
    ck_slab_put(&w, &e->cds);
    ck_slab_put(&w, &e->sds);
    ck_map3(&w, &e->sd_map);
    ck_slab_put(&w, &e->ads);
    ck_map3(&w, &e->ad_map);

    ck_u64(&w, e->days.n);
    for (size_t i = 0; i < e->days.n; i++) {
        const day_t *dy = &e->days.v[i];
        int64_t d[] = {dy->day, dy->end_ms, dy->revision};
        ck_put(&w, d, sizeof d);
        ck_vec(&w, dy->cds.v, dy->cds.n, sizeof(uint32_t));
        ck_vec(&w, dy->shopdays.v, dy->shopdays.n, sizeof(uint32_t));
        ck_vec(&w, dy->agentdays.v, dy->agentdays.n, sizeof(uint32_t));
        ck_vec(&w, dy->viols.v, dy->viols.n, sizeof(viol_t));
        ck_vec(&w, dy->sats.v, dy->sats.n, sizeof(sat_t));
    }
    ck_map3(&w, &e->sat_map);
    ck_u64(&w, e->parts.n);
    for (size_t i = 0; i < e->parts.n; i++) {
        const partition_t *p = &e->parts.v[i];
        ck_vec(&w, p->name, strlen(p->name), 1);
        int64_t s[] = {p->max_ts, p->ended, p->stopped};
        ck_put(&w, s, sizeof s);
        ck_vec(&w, p->held.v, p->held.n, sizeof(held_t));
        ck_vec(&w, p->held_raw.v, p->held_raw.n, 1);
        const rr_reorder_t *b = &p->buf; /* ring from its head, then the heap */
        ck_u64(&w, b->ring_n + b->heap_n);
        for (size_t k = 0; k < b->ring_n; k++)
            ck_put(&w, &b->ring[(b->ring_head + k) & (b->ring_cap - 1)], sizeof(rr_pending_t));
        ck_put(&w, b->heap, b->heap_n * sizeof(rr_pending_t));
        ck_map64(&w, &p->convs);
    }
    ck_map64(&w, &e->shop_part);
    ck_u64(&w, CK_MAGIC); /* the end: a truncated checkpoint is caught */
    return w.failed ? -1 : 0;
}

typedef struct ck_reader {
    rr_ck_read_fn fn;
    void *arg;
    int failed;
} ck_reader_t;

static int ck_get(ck_reader_t *r, void *p, size_t n)
{
    if (!r->failed && n && r->fn(r->arg, p, n) < 0) r->failed = 1;
    return r->failed ? -1 : 0;
}

static uint64_t ck_get_u64(ck_reader_t *r)
{
    uint64_t v = 0;
    ck_get(r, &v, sizeof v);
    return v;
}

/* A count read from the stream, refused when implausible (a corrupt file must
 * not make us allocate terabytes): at most 2^32 elements. */
static int ck_count(ck_reader_t *r, size_t *n)
{
    uint64_t v = ck_get_u64(r);
    if (r->failed || v > UINT32_MAX) {
        r->failed = 1;
        return -1;
    }
    *n = (size_t)v;
    return 0;
}

#define CK_VEC(r, vec)                                                                             \
    (ck_count((r), &(vec).n) < 0 ||                                                                \
     vec_reserve_((void **)&(vec).v, &(vec).cap, (vec).n ? (vec).n : 1, sizeof *(vec).v) < 0 ||    \
     ck_get((r), (vec).v, (vec).n * sizeof *(vec).v) < 0)

/* A slab as ck_slab_put wrote it: its records back at their indexes
 * (ck_slab_records), then its free list (ck_slab_free_list). */
static int ck_slab_records(ck_reader_t *r, rr_slab_t *s)
{
    size_t n;
    if (ck_count(r, &n) < 0) return -1;
    void *base = rr_slab_load(s, n);
    if (!base) return -1;
    if (ck_get(r, base, n * s->size) < 0) {
        rr_slab_clear(s); /* nothing of it is to be freed record by record */
        return -1;
    }
    return 0;
}

static int ck_slab_free_list(ck_reader_t *r, rr_slab_t *s)
{
    VEC(uint32_t) fl = {0};
    int rc = CK_VEC(r, fl) ? -1 : rr_slab_load_free(s, fl.v, fl.n);
    free(fl.v);
    if (rc == -2) r->failed = 1; /* a free slot past the slab: corrupt */
    return rc < 0 ? -1 : 0;
}

static int ck_slab(ck_reader_t *r, rr_slab_t *s)
{
    return ck_slab_records(r, s) < 0 || ck_slab_free_list(r, s) < 0 ? -1 : 0;
}

static int ck_read_map64(ck_reader_t *r, rr_map64_t *m)
{
    size_t n;
    if (ck_count(r, &n) < 0) return -1;
    for (size_t i = 0; i < n; i++) {
        rr_map64_slot_t s;
        if (ck_get(r, &s, sizeof s) < 0 || rr_map64_put(m, s.key, s.val) < 0) return -1;
    }
    return 0;
}

static int ck_read_map3(ck_reader_t *r, rr_map3_t *m)
{
    size_t n;
    if (ck_count(r, &n) < 0) return -1;
    for (size_t i = 0; i < n; i++) {
        rr_map3_slot_t s;
        if (ck_get(r, &s, sizeof s) < 0 || rr_map3_put(m, s.k[0], s.k[1], s.k[2], s.val) < 0)
            return -1;
    }
    return 0;
}

int rr_engine_restore(rr_engine_t *e, rr_ck_read_fn fn, void *arg, char *errstr, size_t errstr_size)
{
    ck_reader_t r = {fn, arg, 0};
    if (e->parts.n || e->convs.n || e->days.n) {
        snprintf(errstr, errstr_size, "checkpoint: the engine must be new");
        return -1;
    }
    uint64_t head[9],
        want[] = {CK_MAGIC,    CK_FORMAT,   e->convs.size,        e->hots.size,  e->cds.size,
                  e->sds.size, e->ads.size, sizeof(rr_pending_t), sizeof(viol_t)};
    char version[sizeof e->version];
    if (ck_get(&r, head, sizeof head) < 0 || ck_get(&r, version, sizeof version) < 0) {
        snprintf(errstr, errstr_size, "checkpoint: truncated header");
        return -1;
    }
    if (head[0] != CK_MAGIC) {
        snprintf(errstr, errstr_size, "checkpoint: not a replyrate checkpoint");
        return -1;
    }
    if (head[1] != CK_FORMAT) {
        snprintf(errstr, errstr_size,
                 "checkpoint: of format %llu, and this build reads format %u only (finish "
                 "it with the build that wrote it, or start afresh)",
                 (unsigned long long)head[1], CK_FORMAT);
        return -1;
    }
    if (memcmp(head, want, sizeof want) || memcmp(version, e->version, sizeof version)) {
        snprintf(errstr, errstr_size,
                 "checkpoint: written for metric set %.60s with other record sizes "
                 "or metrics than this job's (%.60s)",
                 version, e->version);
        return -1;
    }
    int64_t scal[9];
    ck_get(&r, scal, sizeof scal);
    ck_get(&r, &e->st, sizeof e->st);
    e->final_through = scal[0];
    e->finished = (int)scal[3];
    e->oom = (int)scal[4];
    e->open_convs = (size_t)scal[5];
    e->peak_convs = (size_t)scal[6];
    e->open_hot = (size_t)scal[7];
    e->peak_hot = (size_t)scal[8];

    uint64_t *had = NULL;
    if (ck_slab(&r, &e->convs) < 0 || ck_slab_records(&r, &e->hots) < 0) goto fail;
    /* The pointers read are the writer's: note which were set, clear them
     * all at once (so a failure from here on frees only what was rebuilt),
     * then rebuild each from the stream, in the order the writer wrote them. */
    had = calloc(e->hots.n ? e->hots.n : 1, sizeof *had); /* bit t: round t */
    if (!had) {
        rr_slab_clear(&e->hots);
        goto fail;
    }
    for (size_t i = 0; i < e->hots.n; i++) {
        hot_t *hc = HOT(e, i);
        for (int t = 0; t < 2 * e->n_trk; t++)
            if (hc->rounds[t].pin_n == PIN_SPILLED) {
                if (hc->live) had[i] |= UINT64_C(1) << t;
                hc->rounds[t].pin_n = 0;
            }
    }
    if (ck_slab_free_list(&r, &e->hots) < 0) goto fail_had;
    for (size_t i = 0; i < e->hots.n; i++) /* each slot's idle time, unused since */
        ck_get_u64(&r);
    if (r.failed) goto fail_had;
    for (size_t i = 0; i < e->hots.n; i++) {
        hot_t *hc = HOT(e, i);
        for (int t = 0; t < 2 * e->n_trk; t++) {
            if (!(had[i] >> t & 1)) continue;
            tsvec_t tv;
            if (ck_get(&r, &tv, sizeof tv) < 0 || tv.n > tv.cap || tv.head > tv.n) {
                r.failed = 1;
                goto fail_had;
            }
            size_t sz = sizeof(tsvec_t) + (size_t)tv.cap * 8;
            tsvec_t *p = rr_pool_get(&e->pool, sz, NULL);
            if (!p) goto fail_had;
            *p = tv;
            if (ck_get(&r, p->ts, (size_t)tv.n * sizeof(int64_t)) < 0) {
                rr_pool_put(&e->pool, p, sz);
                goto fail_had;
            }
            hc->rounds[t].p.pend = p;
            hc->rounds[t].pin_n = PIN_SPILLED;
        }
    }
    free(had);
    size_t nk;
    ids_t *blocks;
    if (ck_count(&r, &nk) < 0 || !(blocks = rr_slab_load(&e->ids, nk))) goto fail;
    memset(blocks, 0, nk * sizeof *blocks); /* a failure from here frees only what was read */
    for (size_t i = 0; i < nk; i++) {
        ids_t *k = IDS(e, i);
        size_t n, set, len, cap = 0;
        if (ck_count(&r, &n) < 0 || ck_count(&r, &set) < 0 || ck_count(&r, &len) < 0) goto fail;
        /* a set's slots are a power of two, at least twice its ids (ids.c) */
        if (set > 1 || len > UINT32_MAX / 8 || (set && (len < 2 * n || (len & (len - 1)) != 0))) {
            r.failed = 1;
            goto fail;
        }
        size_t bytes = set ? len * 8 : len;
        if (bytes && !(k->b = rr_pool_get(&e->pool, bytes, &cap))) goto fail;
        k->n = (uint32_t)n;
        k->set = (uint32_t)set;
        k->len = (uint32_t)len;
        k->cap = (uint32_t)cap;
        if (ck_get(&r, k->b, bytes) < 0) goto fail;
    }
    if (ck_slab_free_list(&r, &e->ids) < 0) goto fail;
    for (size_t i = 0; i < e->convs.n; i++) { /* a corrupt index must not reach memory */
        const conv_t *c = CONV(e, i);
        if (c->live != CONV_FREE && c->more != NONE32 && c->more >= e->ids.n) {
            r.failed = 1;
            goto fail;
        }
    }
    if (ck_slab(&r, &e->cds) < 0 || ck_slab(&r, &e->sds) < 0 || ck_read_map3(&r, &e->sd_map) < 0 ||
        ck_slab(&r, &e->ads) < 0 || ck_read_map3(&r, &e->ad_map) < 0)
        goto fail;

    size_t nd;
    if (ck_count(&r, &nd) < 0) goto fail;
    for (size_t i = 0; i < nd; i++) {
        int64_t d[3];
        day_t dy = {0};
        if (ck_get(&r, d, sizeof d) < 0) goto fail;
        dy.day = (int32_t)d[0];
        dy.end_ms = d[1];
        dy.revision = (uint32_t)d[2];
        int bad = CK_VEC(&r, dy.cds) || CK_VEC(&r, dy.shopdays) || CK_VEC(&r, dy.agentdays) ||
                  CK_VEC(&r, dy.viols) || CK_VEC(&r, dy.sats);
        if (bad || VEC_PUSH(e->days, dy) < 0) {
            free(dy.cds.v);
            free(dy.shopdays.v);
            free(dy.agentdays.v);
            free(dy.viols.v);
            free(dy.sats.v);
            goto fail;
        }
    }
    if (ck_read_map3(&r, &e->sat_map) < 0) goto fail;
    size_t np;
    if (ck_count(&r, &np) < 0 || np > UINT16_MAX + 1u) goto fail;
    for (size_t i = 0; i < np; i++) {
        size_t len;
        char name[1024];
        if (ck_count(&r, &len) < 0 || len >= sizeof name || ck_get(&r, name, len) < 0) goto fail;
        name[len] = 0;
        int p = rr_engine_add_partition(e, name);
        int64_t s[3];
        if (p < 0 || ck_get(&r, s, sizeof s) < 0) goto fail;
        partition_t *pt = &e->parts.v[p];
        pt->max_ts = s[0];
        pt->ended = (int)s[1];
        pt->stopped = (int)s[2];
        /* a checkpoint is taken between offers, all released below the watermark */
        pt->released = pt->ended ? INT64_MAX : part_wm(e, pt);
        if (CK_VEC(&r, pt->held) || CK_VEC(&r, pt->held_raw)) goto fail;
        for (size_t k = 0; k < pt->held.n; k++)
            if (pt->held.v[k].raw_off > pt->held_raw.n ||
                pt->held.v[k].raw_len > pt->held_raw.n - pt->held.v[k].raw_off) {
                r.failed = 1;
                goto fail;
            }
        size_t nb;
        if (ck_count(&r, &nb) < 0) goto fail;
        for (size_t k = 0; k < nb; k++) {
            rr_pending_t h;
            if (ck_get(&r, &h, sizeof h) < 0 || h.conv >= e->convs.n ||
                rr_reorder_push(&pt->buf, &h) < 0)
                goto fail;
        }
        if (ck_read_map64(&r, &pt->convs) < 0) goto fail;
    }
    if (ck_read_map64(&r, &e->shop_part) < 0 || ck_get_u64(&r) != CK_MAGIC) goto fail;
    for (size_t i = 0; i < e->convs.n; i++) { /* the expiry queue reads these */
        const conv_t *c = CONV(e, i);
        if (c->live != CONV_FREE &&
            (c->part >= e->parts.n || (c->hot != NONE32 && c->hot >= e->hots.n))) {
            r.failed = 1;
            goto fail;
        }
    }
    if (store_expire_rebuild(e) < 0) goto fail;
    e->next_due = NO_TS; /* the first watermark move looks (engine_advance) */
    return 0;
fail_had:
    free(had);
fail:
    snprintf(errstr, errstr_size, "checkpoint: %s",
             r.failed ? "truncated or corrupt" : "out of memory");
    return -1;
}
