/* engine/ids.c: each conversation's applied event ids, for its whole life
 * (SPEC §3 Duplicates; docs/engine.md, "Memory per conversation").
 *
 * Owns the id storage: a hot record's set (IDS_INLINE ids inline, then an
 * array of up to IDS_SMALL, then an open-addressing set, in pooled blocks),
 * and a quiet conversation's cold block (ascending ids as varint deltas, in
 * a pooled block, indexed from conv_t.cold). A 64-bit bloom word per hot
 * record rules most lookups out; ids_seen (engine_int.h, inline: it runs for
 * every offered event) consults the hot set, then the cold block.
 *
 * Uses the engine's pool and the records of engine_int.h. Not thread-safe.
 * Layer: engine.
 */
#include "engine/engine_int.h"

#include <stdlib.h>
#include <string.h>

/* ---- a hot record's set (lookups: ids_has, engine_int.h) ----------------- */

static void ids_set_insert(uint64_t *set, size_t cap, uint64_t id)
{
    size_t mask = cap - 1;
    size_t i = rr_hash64(id) & mask;
    while (set[i])
        i = (i + 1) & mask;
    set[i] = id;
}

void ids_release(rr_engine_t *e, hot_t *c)
{
    if (c->ids) rr_pool_put(&e->pool, c->ids, (size_t)c->ids_cap * 8);
    c->ids = NULL;
}

int ids_add(rr_engine_t *e, hot_t *c, uint64_t id)
{
    c->ids_bloom |= ids_bit(id);
    if (c->ids_cap <= IDS_SMALL) {
        uint64_t *a = c->ids ? c->ids : c->ids_inline;
        if (c->ids_n < c->ids_cap) {
            a[c->ids_n++] = id;
            return 0;
        }
        if (c->ids_cap < IDS_SMALL) {
            size_t cap;
            uint64_t *n = rr_pool_get(&e->pool, (size_t)c->ids_cap * 2 * 8, &cap);
            if (!n) return -1;
            memcpy(n, a, (size_t)c->ids_n * 8);
            ids_release(e, c);
            c->ids = n;
            c->ids_cap = (uint32_t)(cap / 8);
            if (c->ids_cap > IDS_SMALL) c->ids_cap = IDS_SMALL;
            c->ids[c->ids_n++] = id;
            return 0;
        }
        /* array full at IDS_SMALL: become a hash set */
    } else if ((c->ids_n + 1) * 2 <= c->ids_cap) {
        ids_set_insert(c->ids, c->ids_cap, id);
        c->ids_n++;
        return 0;
    }
    size_t ncap = (size_t)(c->ids_cap < IDS_SMALL * 2 ? IDS_SMALL * 4 : c->ids_cap * 2);
    uint64_t *n = rr_pool_get(&e->pool, ncap * 8, NULL);
    if (!n) return -1;
    memset(n, 0, ncap * 8);
    if (c->ids_cap <= IDS_SMALL) {
        for (uint32_t i = 0; i < c->ids_n; i++)
            ids_set_insert(n, ncap, c->ids[i]);
    } else {
        for (uint32_t i = 0; i < c->ids_cap; i++)
            if (c->ids[i]) ids_set_insert(n, ncap, c->ids[i]);
    }
    ids_release(e, c);
    c->ids = n;
    c->ids_cap = (uint32_t)ncap;
    ids_set_insert(n, ncap, id);
    c->ids_n++;
    return 0;
}

/* ---- cold event ids (SPEC §3 Duplicates, for a conversation's life) -------
 * A hot record's ids move here when it is released, and the ids it gathers
 * when it is rebuilt are merged in when it is released again. A lookup
 * consults the hot ids first: the cold block only when the bloom bits,
 * which store_hot_make sets for the cold ids too, do not rule the id out. */

static inline const uint8_t *varint_get(const uint8_t *p, const uint8_t *end, uint64_t *v)
{
    uint64_t x = 0;
    for (int sh = 0; p < end && sh < 64; sh += 7) {
        uint8_t b = *p++;
        x |= (uint64_t)(b & 0x7f) << sh;
        if (!(b & 0x80)) break;
    }
    *v = x;
    return p;
}

static inline uint8_t *varint_put(uint8_t *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

/* The ids of c's cold block, ascending: for (it = cold_iter(e, c); cold_next(&it);) it.v */
typedef struct cold_iter {
    const uint8_t *p, *end;
    uint64_t v;
} cold_iter_t;

static inline cold_iter_t cold_iter(const rr_engine_t *e, const conv_t *c)
{
    const cold_t *k = c->cold == NONE32 ? NULL : COLD(e, c->cold);
    return (cold_iter_t){k ? k->b : NULL, k ? k->b + k->len : NULL, 0};
}

static inline int cold_next(cold_iter_t *it)
{
    uint64_t d;
    if (it->p >= it->end) return 0;
    it->p = varint_get(it->p, it->end, &d);
    it->v += d;
    return 1;
}

int ids_cold_has(const rr_engine_t *e, const conv_t *c, uint64_t id)
{
    for (cold_iter_t it = cold_iter(e, c); cold_next(&it);)
        if (it.v >= id) return it.v == id;
    return 0;
}

/* Every cold id's bloom bit. */
uint64_t ids_cold_bloom(const rr_engine_t *e, const conv_t *c)
{
    uint64_t bloom = 0;
    for (cold_iter_t it = cold_iter(e, c); cold_next(&it);)
        bloom |= ids_bit(it.v);
    return bloom;
}

void ids_cold_free(rr_engine_t *e, conv_t *c)
{
    if (c->cold == NONE32) return;
    cold_t *k = COLD(e, c->cold);
    rr_pool_put(&e->pool, k->b, k->cap);
    k->b = NULL; /* a free slot holds nothing: freeing and checkpoints walk every slot */
    k->len = k->cap = 0;
    if (rr_slab_release(&e->colds, c->cold) < 0) e->oom = 1;
    c->cold = NONE32;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* a[0..n) ascending, where a[0..sorted) already is: the cold block's ids come
 * sorted and a hot record adds a few, so inserting those few costs less than
 * sorting everything (qsort took 6% of the engine's instructions here). */
static void sort_ids(uint64_t *a, size_t sorted, size_t n)
{
    if (n - sorted > 64) {
        qsort(a, n, sizeof *a, cmp_u64);
        return;
    }
    for (size_t i = sorted ? sorted : 1; i < n; i++) {
        uint64_t v = a[i];
        size_t j = i;
        for (; j > 0 && a[j - 1] > v; j--)
            a[j] = a[j - 1];
        a[j] = v;
    }
}

/* Merge hot record hc's ids into its conversation's cold block. 0, or -1
 * when out of memory (the cold block is then unchanged). */
int ids_cold_merge(rr_engine_t *e, conv_t *c, const hot_t *hc)
{
    if (!hc->ids_n) return 0;
    size_t n_cold = 0;
    cold_t *k = c->cold == NONE32 ? NULL : COLD(e, c->cold);
    if (k) /* every id takes at least one byte */
        n_cold = k->len;
    uint64_t stack[128];
    size_t most = n_cold + hc->ids_n;
    uint64_t *all = most <= 128 ? stack : malloc(most * sizeof *all);
    if (!all) return -1;
    size_t n = 0;
    for (cold_iter_t it = cold_iter(e, c); cold_next(&it);) /* ascending */
        all[n++] = it.v;
    size_t sorted = n;
    if (hc->ids_cap <= IDS_SMALL) {
        const uint64_t *a = hc->ids ? hc->ids : hc->ids_inline;
        for (uint32_t i = 0; i < hc->ids_n; i++)
            all[n++] = a[i];
    } else {
        for (uint32_t i = 0; i < hc->ids_cap; i++)
            if (hc->ids[i]) all[n++] = hc->ids[i];
    }
    sort_ids(all, sorted, n);
    size_t need = 0;
    uint64_t prev = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t d = all[i] - prev;
        do {
            need++;
            d >>= 7;
        } while (d);
        prev = all[i];
    }
    size_t cap;
    uint8_t *b = rr_pool_get(&e->pool, need, &cap);
    if (!b) {
        if (all != stack) free(all);
        return -1;
    }
    uint8_t *q = b;
    prev = 0;
    for (size_t i = 0; i < n; i++) {
        if (i && all[i] == all[i - 1])
            continue; /* cannot happen (an id is applied once), but costs nothing */
        q = varint_put(q, all[i] - prev);
        prev = all[i];
    }
    if (all != stack) free(all);
    if (!k) {
        uint32_t ki = rr_slab_alloc(&e->colds);
        if (ki == NONE32) {
            rr_pool_put(&e->pool, b, cap);
            return -1;
        }
        c->cold = ki;
        k = COLD(e, ki);
    } else {
        rr_pool_put(&e->pool, k->b, k->cap);
    }
    k->b = b;
    k->len = (uint32_t)(q - b);
    k->cap = (uint32_t)cap;
    return 0;
}
