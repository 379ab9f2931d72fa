/* Tests for base/slab: zeroed slots by stable index, freed slots reused
 * before the slab grows, records kept across growth, and the checkpoint
 * helpers (load, load_free, clear). */
#include <criterion/criterion.h>
#include <string.h>

#include "base/slab.h"

typedef struct rec {
    uint64_t key;
    uint32_t tag;
    unsigned char pad[44]; /* 56 bytes: not a power of two */
} rec_t;

static rec_t *at(const rr_slab_t *s, uint32_t i)
{
    return rr_slab_at(s, i);
}

Test(slab, indexes_are_dense_and_slots_zeroed)
{
    rr_slab_t s;
    rr_slab_init(&s, sizeof(rec_t));
    cr_assert_eq(rr_slab_len(&s), 0);
    for (uint32_t i = 0; i < 10; i++) {
        uint32_t k = rr_slab_alloc(&s);
        cr_assert_eq(k, i);
        rec_t *r = at(&s, k);
        for (size_t b = 0; b < sizeof *r; b++)
            cr_assert_eq(((unsigned char *)r)[b], 0);
        memset(r, 0xab, sizeof *r); /* dirty it: a reuse must zero it again */
    }
    cr_assert_eq(rr_slab_len(&s), 10);
    rr_slab_free(&s);
}

Test(slab, records_keep_their_index_across_growth)
{
    rr_slab_t s;
    rr_slab_init(&s, sizeof(rec_t));
    const uint32_t n = 5000; /* past the first capacity (1024) and two doublings */
    for (uint32_t i = 0; i < n; i++) {
        uint32_t k = rr_slab_alloc(&s);
        cr_assert_eq(k, i);
        at(&s, k)->key = UINT64_C(0x9e3779b97f4a7c15) * (i + 1);
        at(&s, k)->tag = i;
    }
    cr_assert_geq(s.cap, n);
    for (uint32_t i = 0; i < n; i++) {
        cr_assert_eq(at(&s, i)->key, UINT64_C(0x9e3779b97f4a7c15) * (i + 1));
        cr_assert_eq(at(&s, i)->tag, i);
    }
    rr_slab_free(&s);
}

Test(slab, index_and_pointer_convert_both_ways)
{
    rr_slab_t s;
    rr_slab_init(&s, sizeof(rec_t));
    for (uint32_t i = 0; i < 2000; i++)
        cr_assert_eq(rr_slab_alloc(&s), i);
    for (uint32_t i = 0; i < 2000; i += 7) {
        rec_t *r = at(&s, i);
        cr_assert_eq((unsigned char *)r - s.base, (ptrdiff_t)i * (ptrdiff_t)sizeof(rec_t));
        cr_assert_eq(rr_slab_index(&s, r), i);
    }
    rr_slab_free(&s);
}

Test(slab, released_slots_are_reused_last_first_and_zeroed)
{
    rr_slab_t s;
    rr_slab_init(&s, sizeof(rec_t));
    for (uint32_t i = 0; i < 100; i++) {
        rr_slab_alloc(&s);
        at(&s, i)->tag = i + 1;
    }
    cr_assert_eq(rr_slab_release(&s, 17), 0);
    cr_assert_eq(rr_slab_release(&s, 42), 0);
    cr_assert_eq(rr_slab_alloc(&s), 42);
    cr_assert_eq(at(&s, 42)->tag, 0);
    cr_assert_eq(rr_slab_alloc(&s), 17);
    cr_assert_eq(at(&s, 17)->tag, 0);
    cr_assert_eq(rr_slab_alloc(&s), 100, "no slot free: the slab grows");
    cr_assert_eq(rr_slab_len(&s), 101);
    cr_assert_eq(at(&s, 18)->tag, 19, "a neighbour is untouched");
    rr_slab_free(&s);
}

Test(slab, churn_never_grows_beyond_the_peak)
{
    rr_slab_t s;
    rr_slab_init(&s, 24);
    uint32_t live[64];
    for (int i = 0; i < 64; i++)
        live[i] = rr_slab_alloc(&s);
    for (int round = 0; round < 1000; round++) {
        int j = (round * 37) % 64;
        cr_assert_eq(rr_slab_release(&s, live[j]), 0);
        live[j] = rr_slab_alloc(&s);
        cr_assert_lt(live[j], 64);
    }
    cr_assert_eq(rr_slab_len(&s), 64);
    rr_slab_free(&s);
}

Test(slab, load_restores_records_and_free_list)
{
    rr_slab_t a, b;
    rr_slab_init(&a, sizeof(rec_t));
    rr_slab_init(&b, sizeof(rec_t));
    for (uint32_t i = 0; i < 1500; i++)
        at(&a, rr_slab_alloc(&a))->tag = i * 3;
    rr_slab_release(&a, 5);
    rr_slab_release(&a, 1400);
    void *dst = rr_slab_load(&b, rr_slab_len(&a));
    cr_assert_not_null(dst);
    memcpy(dst, a.base, rr_slab_len(&a) * sizeof(rec_t));
    cr_assert_eq(rr_slab_load_free(&b, a.freed, a.freed_n), 0);
    cr_assert_eq(b.cap, 2048);
    cr_assert_eq(at(&b, 777)->tag, 777 * 3);
    cr_assert_eq(rr_slab_alloc(&b), 1400, "the restored slab reuses as the original would");
    cr_assert_eq(rr_slab_alloc(&a), 1400);
    cr_assert_eq(rr_slab_alloc(&b), 5);
    cr_assert_eq(rr_slab_alloc(&b), 1500);
    uint32_t bad[] = {3, 1501};
    cr_assert_eq(rr_slab_load_free(&b, bad, 2), -2, "an index past the slab is refused");
    rr_slab_clear(&b);
    cr_assert_eq(rr_slab_len(&b), 0);
    cr_assert_eq(rr_slab_alloc(&b), 0);
    rr_slab_free(&a);
    rr_slab_free(&b);
}
