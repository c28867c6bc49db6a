/* Random numbers: xoshiro256** seeded through splitmix64. Each entity (flow, switch, workload
 * stream) owns its own generator derived from (scenario seed, stream id), so adding one entity
 * never perturbs another's draws. Not cryptographic. */
#ifndef IFB_RNG_H
#define IFB_RNG_H
#include <stdint.h>

typedef struct ifb_rng {
    uint64_t s[4];
} ifb_rng;

uint64_t ifb_splitmix64(uint64_t *state);
/* Stream `stream` of scenario seed `seed`. */
void ifb_rng_seed(ifb_rng *r, uint64_t seed, uint64_t stream);
uint64_t ifb_rng_next(ifb_rng *r);
/* Uniform integer in [0, n), unbiased (Lemire). n > 0. */
uint64_t ifb_rng_below(ifb_rng *r, uint64_t n);
/* Uniform double in [0, 1). */
double ifb_rng_double(ifb_rng *r);
/* Exponential with the given mean. */
double ifb_rng_exp(ifb_rng *r, double mean);
/* Stable 64-bit mixing hash of a value (used for stream ids and hashing). */
uint64_t ifb_hash64(uint64_t x);

#endif
