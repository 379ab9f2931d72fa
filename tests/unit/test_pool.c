/* Tests for base/pool: size classes, usable size, reuse of returned blocks
 * (last returned first, per class), and the live-bytes count. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "base/pool.h"

Test(pool, sizes_round_up_to_a_power_of_two_from_32)
{
    rr_pool_t p = {0};
    size_t cap;
    struct {
        size_t ask, cap;
    } cases[] = {{1, 32}, {32, 32}, {33, 64}, {100, 128}, {4096, 4096}, {4097, 8192}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        void *b = rr_pool_get(&p, cases[i].ask, &cap);
        cr_assert_not_null(b);
        cr_assert_eq(cap, cases[i].cap, "ask %zu", cases[i].ask);
        memset(b, 0x5a, cap); /* the whole usable size is writable (ASan) */
        rr_pool_put(&p, b, cap);
    }
    cr_assert_eq(p.bytes_live, 0);
    rr_pool_drain(&p);
}

Test(pool, returned_blocks_are_reused_last_first_within_their_class)
{
    rr_pool_t p = {0};
    void *a = rr_pool_get(&p, 40, NULL), *b = rr_pool_get(&p, 40, NULL);
    void *big = rr_pool_get(&p, 1000, NULL);
    cr_assert_neq(a, b);
    rr_pool_put(&p, a, 40);
    rr_pool_put(&p, b, 64); /* by its cap: the same class */
    rr_pool_put(&p, big, 1000);
    cr_assert_eq(rr_pool_get(&p, 50, NULL), b);
    cr_assert_eq(rr_pool_get(&p, 64, NULL), a);
    cr_assert_eq(rr_pool_get(&p, 1024, NULL), big, "its own class, not a smaller one's");
    void *fresh = rr_pool_get(&p, 40, NULL);
    cr_assert(fresh != a && fresh != b, "the class is empty: a new block");
    rr_pool_put(&p, a, 64);
    rr_pool_put(&p, b, 64);
    rr_pool_put(&p, fresh, 64);
    rr_pool_put(&p, big, 1024);
    rr_pool_drain(&p);
}

Test(pool, counts_live_bytes_by_class_size)
{
    rr_pool_t p = {0};
    void *x = rr_pool_get(&p, 100, NULL), *y = rr_pool_get(&p, 10, NULL);
    cr_assert_eq(p.bytes_live, 128 + 32);
    rr_pool_put(&p, x, 100);
    cr_assert_eq(p.bytes_live, 32);
    rr_pool_put(&p, y, 10);
    rr_pool_put(&p, NULL, 10); /* ignored */
    cr_assert_eq(p.bytes_live, 0);
    rr_pool_drain(&p);
    cr_assert_null(p.free[0]);
}

Test(pool, blocks_keep_their_contents_until_returned)
{
    rr_pool_t p = {0};
    uint64_t *v[50];
    for (int i = 0; i < 50; i++) {
        v[i] = rr_pool_get(&p, 8 * 8, NULL);
        for (int k = 0; k < 8; k++)
            v[i][k] = (uint64_t)(i * 8 + k);
    }
    for (int i = 0; i < 50; i += 2)
        rr_pool_put(&p, v[i], 64);
    for (int i = 1; i < 50; i += 2)
        for (int k = 0; k < 8; k++)
            cr_assert_eq(v[i][k], (uint64_t)(i * 8 + k));
    for (int i = 1; i < 50; i += 2)
        rr_pool_put(&p, v[i], 64);
    rr_pool_drain(&p);
}
