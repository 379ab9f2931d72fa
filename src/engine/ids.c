/* engine/ids.c: each conversation's applied event ids, for its whole life
 * (SPEC §3 Duplicates; docs/engine.md, "Memory per conversation").
 *
 * Owns the id storage. A conversation's record holds a 64-bit bloom word
 * (bit (id hash % 64) of every id: most ids were never seen, and ids_seen,
 * inline in engine_int.h, stops there), its first id, and up to IDS_BYTES
 * bytes of the next ones, each a zigzag LEB128 varint of its difference
 * from the first. Ids of one conversation are close together, so most take
 * 1-2 bytes and most conversations need nothing more. The rest go to a
 * pooled block (ids_t, in the ids slab): a list of varints likewise, and
 * past IDS_LIST ids an open-addressing set, so a long conversation's
 * lookups stay short. The ids stay with the conversation until it is
 * forgotten: nothing moves them when it goes quiet.
 *
 * Uses the engine's pool and the records of engine_int.h. Not thread-safe.
 * Layer: engine.
 */
#include "engine/engine_int.h"

#include <stdlib.h>
#include <string.h>

static inline uint64_t zigzag(uint64_t d) /* d = a - b, two's complement */
{
    return (d << 1) ^ (uint64_t) - (int64_t)(d >> 63);
}

static inline uint64_t unzigzag(uint64_t z)
{
    return (z >> 1) ^ (uint64_t) - (int64_t)(z & 1);
}

/* The varint of v into p (10 bytes at most): its length. */
static inline uint32_t varint_put(uint8_t *p, uint64_t v)
{
    uint32_t n = 0;
    for (; v >= 0x80; v >>= 7)
        p[n++] = (uint8_t)(v | 0x80);
    p[n++] = (uint8_t)v;
    return n;
}

/* The varint at b[*i] (of len bytes), *i moved past it. */
static inline uint64_t varint_get(const uint8_t *b, uint32_t len, uint32_t *i)
{
    uint64_t v = 0;
    for (int sh = 0; *i < len && sh < 64; sh += 7) {
        uint8_t x = b[(*i)++];
        v |= (uint64_t)(x & 0x7f) << sh;
        if (!(x & 0x80)) break;
    }
    return v;
}

/* Is zigzag value z among the varints of b[0..len)? */
static int varints_have(const uint8_t *b, uint32_t len, uint64_t z)
{
    for (uint32_t i = 0; i < len;)
        if (varint_get(b, len, &i) == z) return 1;
    return 0;
}

static void set_insert(uint64_t *set, uint32_t slots, uint64_t id)
{
    uint32_t mask = slots - 1;
    uint32_t i = (uint32_t)rr_hash64(id) & mask;
    while (set[i])
        i = (i + 1) & mask;
    set[i] = id;
}

static int set_has(const uint64_t *set, uint32_t slots, uint64_t id)
{
    uint32_t mask = slots - 1;
    for (uint32_t i = (uint32_t)rr_hash64(id) & mask;; i = (i + 1) & mask) {
        if (set[i] == id) return 1;
        if (!set[i]) return 0;
    }
}

/* Out of line: past the bloom word and the first id, rare (cachegrind:
 * inlining the like of it into judge() cost more than the call). */
__attribute__((noinline)) int ids_seen_rest(const rr_engine_t *e, const conv_t *c, uint64_t id)
{
    uint64_t z = zigzag(id - c->id0);
    if (varints_have(c->idb, c->idb_len, z)) return 1;
    if (c->more == NONE32) return 0;
    const ids_t *k = IDS(e, c->more);
    return k->set ? set_has((const uint64_t *)(void *)k->b, k->len, id)
                  : varints_have(k->b, k->len, z);
}

/* The list of block k (n ids, varints from id0) as a set of twice as many
 * slots as ids, at least 4 * IDS_LIST: 0, or -1 out of memory (unchanged). */
static int to_set(rr_engine_t *e, ids_t *k, uint64_t id0, uint32_t slots)
{
    size_t cap;
    uint64_t *set = rr_pool_get(&e->pool, (size_t)slots * 8, &cap);
    if (!set) return -1;
    memset(set, 0, (size_t)slots * 8);
    if (k->set) {
        const uint64_t *old = (const uint64_t *)(void *)k->b;
        for (uint32_t i = 0; i < k->len; i++)
            if (old[i]) set_insert(set, slots, old[i]);
    } else {
        for (uint32_t i = 0; i < k->len;)
            set_insert(set, slots, id0 + unzigzag(varint_get(k->b, k->len, &i)));
    }
    rr_pool_put(&e->pool, k->b, k->cap);
    k->b = (uint8_t *)set;
    k->cap = (uint32_t)cap;
    k->len = slots;
    k->set = 1;
    return 0;
}

/* Add id to block k: 0, or -1 out of memory (unchanged). */
static int block_add(rr_engine_t *e, ids_t *k, uint64_t id0, uint64_t id, const uint8_t *v,
                     uint32_t n)
{
    if (!k->set && k->n >= IDS_LIST && to_set(e, k, id0, 4 * IDS_LIST) < 0) return -1;
    if (k->set) {
        if ((k->n + 1) * 2 > k->len && to_set(e, k, id0, k->len * 2) < 0) return -1;
        set_insert((uint64_t *)(void *)k->b, k->len, id);
        k->n++;
        return 0;
    }
    if (k->len + n > k->cap) {
        size_t cap;
        uint8_t *b = rr_pool_get(&e->pool, k->cap ? (size_t)k->cap * 2 : 16, &cap);
        if (!b) return -1;
        if (k->len) memcpy(b, k->b, k->len);
        rr_pool_put(&e->pool, k->b, k->cap);
        k->b = b;
        k->cap = (uint32_t)cap;
    }
    memcpy(k->b + k->len, v, n);
    k->len += n;
    k->n++;
    return 0;
}

int ids_add(rr_engine_t *e, conv_t *c, uint64_t id)
{
    if (!c->id0) {
        c->id0 = id;
        c->bloom |= ids_bit(id);
        return 0;
    }
    uint8_t v[10];
    uint32_t n = varint_put(v, zigzag(id - c->id0));
    if (c->idb_len + n <= IDS_BYTES) {
        memcpy(c->idb + c->idb_len, v, n);
        c->idb_len = (uint8_t)(c->idb_len + n);
        c->bloom |= ids_bit(id);
        return 0;
    }
    if (c->more == NONE32) {
        uint32_t ki = rr_slab_alloc(&e->ids); /* zeroed: an empty list */
        if (ki == NONE32) return -1;
        c->more = ki;
    }
    if (block_add(e, IDS(e, c->more), c->id0, id, v, n) < 0) return -1;
    c->bloom |= ids_bit(id);
    return 0;
}

void ids_free(rr_engine_t *e, conv_t *c)
{
    if (c->more == NONE32) return;
    ids_t *k = IDS(e, c->more);
    rr_pool_put(&e->pool, k->b, k->cap);
    memset(k, 0,
           sizeof *k); /* a free slot holds nothing: freeing and checkpoints walk every slot */
    if (rr_slab_release(&e->ids, c->more) < 0) e->oom = 1;
    c->more = NONE32;
}
