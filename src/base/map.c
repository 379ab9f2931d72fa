#include "base/map.h"

#include <stdlib.h>
#include <string.h>

#include "base/bigmem.h"

static size_t pow2_at_least(size_t n)
{
    size_t c = 16;
    while (c < n)
        c <<= 1;
    return c;
}

/* ---- rr_map64 ---------------------------------------------------------- */

static int map64_alloc(rr_map64_t *m, size_t cap)
{
    rr_map64_slot_t *s = rr_big_alloc(cap * sizeof *s);
    if (!s) return -1;
    for (size_t i = 0; i < cap; i++)
        s[i].val = RR_MAP_NONE;
    m->slots = s;
    m->mask = cap - 1;
    m->count = 0;
    return 0;
}

int rr_map64_init(rr_map64_t *m, size_t capacity_hint)
{
    return map64_alloc(m, pow2_at_least(capacity_hint * 2));
}

void rr_map64_free(rr_map64_t *m)
{
    if (m->slots) rr_big_free(m->slots, (m->mask + 1) * sizeof *m->slots);
    m->slots = NULL;
}

uint32_t rr_map64_get(const rr_map64_t *m, uint64_t key)
{
    return rr_map64_get_h(m, key, rr_hash64(key));
}

static void map64_insert(rr_map64_t *m, uint64_t key, uint32_t val)
{
    size_t i = rr_hash64(key) & m->mask;
    while (m->slots[i].val != RR_MAP_NONE)
        i = (i + 1) & m->mask;
    m->slots[i].key = key;
    m->slots[i].val = val;
    m->count++;
}

int rr_map64_put(rr_map64_t *m, uint64_t key, uint32_t val)
{
    if ((m->count + 1) * 2 > m->mask + 1) {
        rr_map64_t bigger;
        if (map64_alloc(&bigger, (m->mask + 1) * 2) < 0) return -1;
        for (size_t i = 0; i <= m->mask; i++)
            if (m->slots[i].val != RR_MAP_NONE)
                map64_insert(&bigger, m->slots[i].key, m->slots[i].val);
        rr_big_free(m->slots, (m->mask + 1) * sizeof *m->slots);
        *m = bigger;
    }
    map64_insert(m, key, val);
    return 0;
}

uint32_t rr_map64_del(rr_map64_t *m, uint64_t key)
{
    size_t i = rr_hash64(key) & m->mask;
    for (;;) {
        if (m->slots[i].val == RR_MAP_NONE) return RR_MAP_NONE;
        if (m->slots[i].key == key) break;
        i = (i + 1) & m->mask;
    }
    uint32_t val = m->slots[i].val;
    /* Backward-shift deletion keeps every probe chain unbroken. */
    size_t hole = i;
    for (size_t j = (i + 1) & m->mask; m->slots[j].val != RR_MAP_NONE; j = (j + 1) & m->mask) {
        size_t home = rr_hash64(m->slots[j].key) & m->mask;
        /* Move j into the hole unless its home lies cyclically in (hole, j]. */
        if (((j - home) & m->mask) >= ((j - hole) & m->mask)) {
            m->slots[hole] = m->slots[j];
            hole = j;
        }
    }
    m->slots[hole].val = RR_MAP_NONE;
    m->count--;
    return val;
}

/* ---- rr_map3 ----------------------------------------------------------- */

static inline uint64_t hash3(uint64_t a, uint64_t b, uint64_t c)
{
    return rr_hash64(a ^ rr_hash64(b ^ rr_hash64(c + UINT64_C(0x9e3779b97f4a7c15))));
}

static int map3_alloc(rr_map3_t *m, size_t cap)
{
    rr_map3_slot_t *s = rr_big_alloc(cap * sizeof *s);
    if (!s) return -1;
    for (size_t i = 0; i < cap; i++)
        s[i].val = RR_MAP_NONE;
    m->slots = s;
    m->mask = cap - 1;
    m->count = 0;
    return 0;
}

int rr_map3_init(rr_map3_t *m, size_t capacity_hint)
{
    return map3_alloc(m, pow2_at_least(capacity_hint * 2));
}

void rr_map3_free(rr_map3_t *m)
{
    if (m->slots) rr_big_free(m->slots, (m->mask + 1) * sizeof *m->slots);
    m->slots = NULL;
}

void rr_map3_clear(rr_map3_t *m)
{
    for (size_t i = 0; i <= m->mask; i++)
        m->slots[i].val = RR_MAP_NONE;
    m->count = 0;
}

uint32_t rr_map3_get(const rr_map3_t *m, uint64_t a, uint64_t b, uint64_t c)
{
    size_t i = hash3(a, b, c) & m->mask;
    for (;;) {
        const rr_map3_slot_t *s = &m->slots[i];
        if (s->val == RR_MAP_NONE) return RR_MAP_NONE;
        if (s->k[0] == a && s->k[1] == b && s->k[2] == c) return s->val;
        i = (i + 1) & m->mask;
    }
}

static void map3_insert(rr_map3_t *m, const uint64_t k[3], uint32_t val)
{
    size_t i = hash3(k[0], k[1], k[2]) & m->mask;
    while (m->slots[i].val != RR_MAP_NONE)
        i = (i + 1) & m->mask;
    memcpy(m->slots[i].k, k, sizeof m->slots[i].k);
    m->slots[i].val = val;
    m->count++;
}

int rr_map3_put(rr_map3_t *m, uint64_t a, uint64_t b, uint64_t c, uint32_t val)
{
    if ((m->count + 1) * 2 > m->mask + 1) {
        rr_map3_t bigger;
        if (map3_alloc(&bigger, (m->mask + 1) * 2) < 0) return -1;
        for (size_t i = 0; i <= m->mask; i++)
            if (m->slots[i].val != RR_MAP_NONE)
                map3_insert(&bigger, m->slots[i].k, m->slots[i].val);
        rr_big_free(m->slots, (m->mask + 1) * sizeof *m->slots);
        *m = bigger;
    }
    const uint64_t k[3] = {a, b, c};
    map3_insert(m, k, val);
    return 0;
}

uint32_t rr_map3_del(rr_map3_t *m, uint64_t a, uint64_t b, uint64_t c)
{
    size_t i = hash3(a, b, c) & m->mask;
    for (;;) {
        rr_map3_slot_t *s = &m->slots[i];
        if (s->val == RR_MAP_NONE) return RR_MAP_NONE;
        if (s->k[0] == a && s->k[1] == b && s->k[2] == c) break;
        i = (i + 1) & m->mask;
    }
    uint32_t val = m->slots[i].val;
    size_t hole = i;
    for (size_t j = (i + 1) & m->mask; m->slots[j].val != RR_MAP_NONE; j = (j + 1) & m->mask) {
        const uint64_t *k = m->slots[j].k;
        size_t home = hash3(k[0], k[1], k[2]) & m->mask;
        if (((j - home) & m->mask) >= ((j - hole) & m->mask)) {
            m->slots[hole] = m->slots[j];
            hole = j;
        }
    }
    m->slots[hole].val = RR_MAP_NONE;
    m->count--;
    return val;
}

void rr_map3_prefetch(const rr_map3_t *m, uint64_t a, uint64_t b, uint64_t c)
{
    if (m->slots) __builtin_prefetch(&m->slots[hash3(a, b, c) & m->mask]);
}
