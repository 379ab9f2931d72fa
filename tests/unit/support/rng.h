/* tests/unit/support/rng.h: a small deterministic PRNG (xorshift64*) for
 * tests that shuffle or draw random keys: the same seed, the same sequence
 * on every machine. State is the caller's (a uint64_t, never 0). Header-only,
 * no dependencies; not thread-safe per state. */
#ifndef RR_TESTS_RNG_H
#define RR_TESTS_RNG_H

#include <stdint.h>

static inline uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * UINT64_C(2685821657736338717);
}

#endif
