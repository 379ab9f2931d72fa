/* base/map.h: open-addressing hash maps from fixed-size keys to uint32 indexes.
 *
 * Linear probing with backward-shift deletion (no tombstones), power-of-two
 * capacity, load factor at most 1/2. Values are indexes into the caller's own
 * record arrays; RR_MAP_NONE (UINT32_MAX) means "absent". Two flavours:
 *   rr_map64_t   key = one uint64_t (conversation ids; 0 is a valid key)
 *   rr_map3_t    key = three uint64_t (shop, day), (shop, agent, day), ...
 * A map owns its slot array; not thread-safe.
 *
 * Layer: base (no project knowledge; uses base/bigmem).
 */
#ifndef RR_BASE_MAP_H
#define RR_BASE_MAP_H

#include <stddef.h>
#include <stdint.h>

#define RR_MAP_NONE UINT32_MAX

static inline uint64_t rr_hash64(uint64_t x)
{
    x ^= x >> 33;
    x *= UINT64_C(0xff51afd7ed558ccd);
    x ^= x >> 33;
    x *= UINT64_C(0xc4ceb9fe1a85ec53);
    x ^= x >> 33;
    return x;
}

typedef struct rr_map64_slot {
    uint64_t key;
    uint32_t val; /* RR_MAP_NONE: empty */
    uint32_t pad;
} rr_map64_slot_t;

typedef struct rr_map64 {
    rr_map64_slot_t *slots;
    size_t mask; /* capacity - 1 */
    size_t count;
} rr_map64_t;

int rr_map64_init(rr_map64_t *m, size_t capacity_hint);
void rr_map64_free(rr_map64_t *m);
uint32_t rr_map64_get(const rr_map64_t *m, uint64_t key);
/* The same with key's rr_hash64 computed by the caller (hashed once for a
 * prefetch and the lookup). */
static inline uint32_t rr_map64_get_h(const rr_map64_t *m, uint64_t key, uint64_t h)
{
    for (size_t i = h & m->mask;; i = (i + 1) & m->mask) {
        const rr_map64_slot_t *s = &m->slots[i];
        if (s->val == RR_MAP_NONE) return RR_MAP_NONE;
        if (s->key == key) return s->val;
    }
}
/* Insert key -> val (key must be absent). 0, or -1 when out of memory. */
int rr_map64_put(rr_map64_t *m, uint64_t key, uint32_t val);
/* Remove key if present; returns its value or RR_MAP_NONE. */
uint32_t rr_map64_del(rr_map64_t *m, uint64_t key);

typedef struct rr_map3_slot {
    uint64_t k[3];
    uint32_t val;
    uint32_t pad;
} rr_map3_slot_t;

typedef struct rr_map3 {
    rr_map3_slot_t *slots;
    size_t mask;
    size_t count;
} rr_map3_t;

int rr_map3_init(rr_map3_t *m, size_t capacity_hint);
void rr_map3_free(rr_map3_t *m);
uint32_t rr_map3_get(const rr_map3_t *m, uint64_t a, uint64_t b, uint64_t c);
int rr_map3_put(rr_map3_t *m, uint64_t a, uint64_t b, uint64_t c, uint32_t val);
uint32_t rr_map3_del(rr_map3_t *m, uint64_t a, uint64_t b, uint64_t c);
/* Start loading the slot a lookup of (a, b, c) will probe first. */
void rr_map3_prefetch(const rr_map3_t *m, uint64_t a, uint64_t b, uint64_t c);
void rr_map3_clear(rr_map3_t *m);

#endif
