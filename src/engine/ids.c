/* engine/ids.c: each conversation's applied event ids, for its whole life
 * (SPEC §3 Duplicates; docs/engine.md, "Memory per conversation").
 *
 * Owns the id storage: a hot record's set (IDS_INLINE ids inline, then an
 * array of up to IDS_SMALL, then an open-addressing set, in pooled blocks),
 * and a quiet conversation's cold block (runs of ids as zigzag varint
 * deltas, in a pooled block, indexed from conv_t.cold). A 64-bit bloom word per hot
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
 * A hot record's ids move here when it is released, appended as one run:
 * the ids in the order the hot set holds them (arrival order; sorted for a
 * set that grew into a hash set), each as a zigzag LEB128 varint of its
 * difference from the one before (the first from 0), and a 0 byte ending
 * the run (ids in a conversation are unique, so no difference is 0, and a
 * longer varint has no 0 byte). Ids of one conversation are few and close
 * together, so most take 1-2 bytes; releasing a hot record costs a pass
 * over its own ids, whatever the conversation gathered before (the block
 * used to be one sorted run, decoded, merged and encoded again each time:
 * 5% of the engine's instructions). A lookup decodes the block: it is
 * consulted only when the bloom bits, which store_hot_make sets for the
 * cold ids too, do not rule the id out. */

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

static inline uint64_t zigzag(uint64_t d) /* d = a - b, two's complement */
{
    return (d << 1) ^ (uint64_t) - (int64_t)(d >> 63);
}

static inline uint64_t unzigzag(uint64_t z)
{
    return (z >> 1) ^ (uint64_t) - (int64_t)(z & 1);
}

/* The ids of c's cold block, run by run: for (it = cold_iter(e, c); cold_next(&it);) it.v */
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
    uint64_t z;
    for (;;) {
        if (it->p >= it->end) return 0;
        it->p = varint_get(it->p, it->end, &z);
        if (z) {
            it->v += unzigzag(z);
            return 1;
        }
        it->v = 0; /* a run's end: the next starts from 0 */
    }
}

/* Out of line: inlined into judge() it cost more in register pressure on
 * the common path than the call costs on this rare one (cachegrind). */
__attribute__((noinline)) int ids_cold_has(const rr_engine_t *e, const conv_t *c, uint64_t id)
{
    for (cold_iter_t it = cold_iter(e, c); cold_next(&it);)
        if (it.v == id) return 1;
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

/* Append hot record hc's ids to its conversation's cold block as one run.
 * 0, or -1 when out of memory (the cold block is then unchanged). */
int ids_cold_merge(rr_engine_t *e, conv_t *c, const hot_t *hc)
{
    if (!hc->ids_n) return 0;
    const uint64_t *a;
    uint64_t *sorted = NULL;
    if (hc->ids_cap <= IDS_SMALL) {
        a = hc->ids ? hc->ids : hc->ids_inline;
    } else { /* a hash set: in id order, so the differences stay small */
        if (!(sorted = malloc((size_t)hc->ids_n * sizeof *sorted))) return -1;
        size_t n = 0;
        for (uint32_t i = 0; i < hc->ids_cap; i++)
            if (hc->ids[i]) sorted[n++] = hc->ids[i];
        qsort(sorted, n, sizeof *sorted, cmp_u64);
        a = sorted;
    }
    size_t n = hc->ids_n, need = 1; /* the run's bytes, its end marker included */
    uint64_t prev = 0;
    for (size_t i = 0; i < n; i++) {
        for (uint64_t z = zigzag(a[i] - prev); z >= 0x80; z >>= 7)
            need++;
        need++;
        prev = a[i];
    }
    if (c->cold == NONE32) { /* an empty block (on failure below it stays so: no ids) */
        uint32_t ki = rr_slab_alloc(&e->colds);
        if (ki == NONE32) goto oom;
        c->cold = ki;
        COLD(e, ki)->b = NULL;
        COLD(e, ki)->len = COLD(e, ki)->cap = 0;
    }
    cold_t *k = COLD(e, c->cold);
    size_t len = k->len;
    if (len + need > k->cap) { /* a block with room: the old bytes, then the run */
        size_t cap;
        uint8_t *b = rr_pool_get(&e->pool, len + need, &cap);
        if (!b) goto oom;
        if (len) memcpy(b, k->b, len);
        rr_pool_put(&e->pool, k->b, k->cap);
        k->b = b;
        k->cap = (uint32_t)cap;
    }
    uint8_t *q = k->b + len;
    prev = 0;
    for (size_t i = 0; i < n; i++) {
        q = varint_put(q, zigzag(a[i] - prev));
        prev = a[i];
    }
    *q++ = 0;
    k->len = (uint32_t)(q - k->b);
    free(sorted);
    return 0;
oom:
    free(sorted);
    return -1;
}
