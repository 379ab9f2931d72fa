/* bench/digest.c: order-free record digests (digest.h). */
#include "digest.h"

#include "base/map.h"

static uint64_t mix(uint64_t h, uint64_t x)
{
    return rr_hash64(h ^ rr_hash64(x + UINT64_C(0x9e3779b97f4a7c15)));
}

static uint64_t mix_str(uint64_t h, const char *s)
{
    uint64_t f = UINT64_C(0xcbf29ce484222325); /* FNV-1a */
    for (; s && *s; s++)
        f = (f ^ (uint8_t)*s) * UINT64_C(0x100000001b3);
    return mix(h, f);
}

void rr_digest_day(rr_digest_t *d, int is_agent, uint64_t shop, uint64_t agent, int32_t ymd,
                   const rr_value_t *v, size_t n)
{
    uint64_t h = mix(mix(mix(mix(0, (uint64_t)is_agent), shop), agent), (uint64_t)ymd);
    for (size_t m = 0; m < n; m++) {
        h = mix(mix(mix(h, (uint64_t)v[m].num), (uint64_t)v[m].den), (uint64_t)v[m].unanswered);
        for (int b = 0; b < RR_BUCKETS; b++)
            h = mix(h, (uint64_t)v[m].buckets[b]);
    }
    d->days += h;
    if (is_agent)
        d->n_agent_days++;
    else
        d->n_shop_days++;
}

void rr_digest_violation(rr_digest_t *d, const rr_violation_record_t *r)
{
    uint64_t h =
        mix(mix(mix_str(mix(mix(0, r->shop_id), (uint64_t)r->day), r->metric), r->conversation_id),
            r->buyer_id);
    h = mix(mix(mix(h, r->agent_id), (uint64_t)r->round_start_ms), (uint64_t)r->answered);
    h = mix(mix(mix(h, (uint64_t)r->reply_ms), r->messages), (uint64_t)r->reason);
    d->violations += h;
    d->n_violations++;
}
