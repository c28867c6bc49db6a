/* xoshiro256** (Blackman & Vigna) with splitmix64 seeding; see rng.h. */
#include "core/rng.h"

#include <math.h>

uint64_t ifb_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t ifb_hash64(uint64_t x)
{
    uint64_t s = x;
    return ifb_splitmix64(&s);
}

void ifb_rng_seed(ifb_rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t st = seed ^ ifb_hash64(stream + 0x632be59bd9b4e019ULL);
    for (int i = 0; i < 4; i++)
        r->s[i] = ifb_splitmix64(&st);
    if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3]))
        r->s[0] = 1;
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t ifb_rng_next(ifb_rng *r)
{
    uint64_t *s = r->s;
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t ifb_rng_below(ifb_rng *r, uint64_t n)
{
    unsigned __int128 m = (unsigned __int128)ifb_rng_next(r) * n;
    uint64_t l = (uint64_t)m;
    if (l < n) {
        uint64_t t = -n % n;
        while (l < t) {
            m = (unsigned __int128)ifb_rng_next(r) * n;
            l = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

double ifb_rng_double(ifb_rng *r)
{
    return (double)(ifb_rng_next(r) >> 11) * 0x1.0p-53;
}

double ifb_rng_exp(ifb_rng *r, double mean)
{
    return -mean * log1p(-ifb_rng_double(r));
}
