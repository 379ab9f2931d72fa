/* Tests for base/map: both flavours against a plain array as the model,
 * through growth, colliding keys (same home slot), and deletions that must
 * not break the probe chains of the keys after them (backward shift). */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "base/map.h"
#include "support/rng.h"

static uint64_t rng = 0x2545f4914f6cdd1dull;
static uint64_t next(void)
{
    return rng_next(&rng);
}

/* n keys whose hash lands on the same slot of a map of mask m, from k0 on */
static size_t colliding(uint64_t *out, size_t n, size_t mask, uint64_t k0)
{
    size_t home = rr_hash64(k0) & mask, got = 0;
    for (uint64_t k = k0; got < n; k++)
        if ((rr_hash64(k) & mask) == home) out[got++] = k;
    return home;
}

Test(map64, grows_and_finds_every_key)
{
    rr_map64_t m;
    cr_assert_eq(rr_map64_init(&m, 4), 0);
    size_t first_cap = m.mask + 1;
    for (uint32_t i = 0; i < 20000; i++)
        cr_assert_eq(rr_map64_put(&m, (uint64_t)i * 7919, i), 0);
    cr_assert_gt(m.mask + 1, first_cap);
    cr_assert_leq(m.count * 2, m.mask + 1, "load factor at most 1/2");
    cr_assert_eq(m.count, 20000);
    for (uint32_t i = 0; i < 20000; i++)
        cr_assert_eq(rr_map64_get(&m, (uint64_t)i * 7919), i);
    cr_assert_eq(rr_map64_get(&m, 1), RR_MAP_NONE);
    cr_assert_eq(rr_map64_get(&m, 0), 0, "0 is a valid key");
    rr_map64_free(&m);
}

Test(map64, deleting_inside_a_collision_chain_keeps_the_rest_reachable)
{
    rr_map64_t m;
    cr_assert_eq(rr_map64_init(&m, 64), 0);
    uint64_t k[6];
    size_t home = colliding(k, 6, m.mask, 1000);
    for (int i = 0; i < 6; i++)
        cr_assert_eq(rr_map64_put(&m, k[i], (uint32_t)i), 0);
    cr_assert_eq(m.slots[home].key, k[0]);
    cr_assert_eq(rr_map64_del(&m, k[1]), 1); /* the middle of the chain */
    cr_assert_eq(rr_map64_del(&m, k[1]), RR_MAP_NONE, "already gone");
    for (int i = 0; i < 6; i++)
        cr_assert_eq(rr_map64_get(&m, k[i]), i == 1 ? RR_MAP_NONE : (uint32_t)i);
    cr_assert_eq(rr_map64_del(&m, k[0]), 0); /* the head */
    for (int i = 2; i < 6; i++)
        cr_assert_eq(rr_map64_get(&m, k[i]), (uint32_t)i);
    cr_assert_eq(m.count, 4);
    cr_assert_eq(rr_map64_put(&m, k[1], 11), 0); /* a removed key can come back */
    cr_assert_eq(rr_map64_get(&m, k[1]), 11);
    rr_map64_free(&m);
}

Test(map64, random_puts_and_deletes_agree_with_a_model)
{
    enum { N = 4096 };
    static uint32_t model[N]; /* key i -> value, or RR_MAP_NONE */
    rr_map64_t m;
    cr_assert_eq(rr_map64_init(&m, 16), 0);
    for (size_t i = 0; i < N; i++)
        model[i] = RR_MAP_NONE;
    size_t live = 0;
    for (int step = 0; step < 200000; step++) {
        uint64_t i = next() % N;
        if (model[i] == RR_MAP_NONE) {
            model[i] = (uint32_t)step;
            cr_assert_eq(rr_map64_put(&m, i << 40, model[i]), 0);
            live++;
        } else if (next() % 3 == 0) {
            cr_assert_eq(rr_map64_del(&m, i << 40), model[i]);
            model[i] = RR_MAP_NONE;
            live--;
        } else {
            cr_assert_eq(rr_map64_get(&m, i << 40), model[i]);
        }
    }
    cr_assert_eq(m.count, live);
    for (uint64_t i = 0; i < N; i++)
        cr_assert_eq(rr_map64_get(&m, i << 40), model[i]);
    rr_map64_free(&m);
}

Test(map3, keys_differ_in_any_of_their_three_parts)
{
    rr_map3_t m;
    cr_assert_eq(rr_map3_init(&m, 8), 0);
    cr_assert_eq(rr_map3_put(&m, 1, 2, 3, 10), 0);
    cr_assert_eq(rr_map3_put(&m, 3, 2, 1, 11), 0);
    cr_assert_eq(rr_map3_put(&m, 1, 3, 2, 12), 0);
    cr_assert_eq(rr_map3_put(&m, 1, 2, 4, 13), 0);
    cr_assert_eq(rr_map3_get(&m, 1, 2, 3), 10);
    cr_assert_eq(rr_map3_get(&m, 3, 2, 1), 11);
    cr_assert_eq(rr_map3_get(&m, 1, 3, 2), 12);
    cr_assert_eq(rr_map3_get(&m, 1, 2, 4), 13);
    cr_assert_eq(rr_map3_get(&m, 2, 1, 3), RR_MAP_NONE);
    cr_assert_eq(rr_map3_del(&m, 1, 2, 3), 10);
    cr_assert_eq(rr_map3_get(&m, 1, 2, 3), RR_MAP_NONE);
    cr_assert_eq(rr_map3_get(&m, 1, 2, 4), 13);
    rr_map3_free(&m);
}

Test(map3, grows_deletes_and_clears)
{
    rr_map3_t m;
    cr_assert_eq(rr_map3_init(&m, 4), 0);
    size_t first_cap = m.mask + 1;
    for (uint32_t i = 0; i < 10000; i++)
        cr_assert_eq(rr_map3_put(&m, i % 97, i, (uint64_t)(int64_t) - (int64_t)i, i), 0);
    cr_assert_gt(m.mask + 1, first_cap);
    for (uint32_t i = 0; i < 10000; i += 2)
        cr_assert_eq(rr_map3_del(&m, i % 97, i, (uint64_t)(int64_t) - (int64_t)i), i);
    cr_assert_eq(m.count, 5000);
    for (uint32_t i = 0; i < 10000; i++) {
        rr_map3_prefetch(&m, i % 97, i, (uint64_t)(int64_t) - (int64_t)i);
        cr_assert_eq(rr_map3_get(&m, i % 97, i, (uint64_t)(int64_t) - (int64_t)i),
                     i % 2 ? i : RR_MAP_NONE);
    }
    rr_map3_clear(&m);
    cr_assert_eq(m.count, 0);
    cr_assert_eq(rr_map3_get(&m, 1, 1, (uint64_t)(int64_t)-1), RR_MAP_NONE);
    cr_assert_eq(rr_map3_put(&m, 1, 1, 1, 7), 0);
    cr_assert_eq(rr_map3_get(&m, 1, 1, 1), 7);
    rr_map3_free(&m);
}
