/* Simulated time: unsigned 64-bit picoseconds (about 213 days of range).
 * Integer time keeps runs bit-exact across compilers and machines; floating
 * point appears only in reports. */
#ifndef IFB_TIME_H
#define IFB_TIME_H
#include <stdint.h>

typedef uint64_t ifb_time;

#define IFB_PS ((ifb_time)1)
#define IFB_NS ((ifb_time)1000)
#define IFB_US ((ifb_time)1000000)
#define IFB_MS ((ifb_time)1000000000)
#define IFB_SEC ((ifb_time)1000000000000)
#define IFB_TIME_NEVER UINT64_MAX

/* Time to serialize `bytes` at `rate_bps` bits/s, rounded up to a whole picosecond
 * so that back-to-back frames never overlap. */
static inline ifb_time ifb_tx_time(uint64_t bytes, uint64_t rate_bps)
{
    unsigned __int128 num = (unsigned __int128)bytes * 8u * IFB_SEC;
    return (ifb_time)((num + rate_bps - 1) / rate_bps);
}

/* Picoseconds per byte at rate_bps when that is a whole number below 2^32 (every Ethernet and
 * InfiniBand rate in use: 20 ps at 400 Gb/s), else 0. bytes x this equals ifb_tx_time(bytes,
 * rate_bps) exactly for any 32-bit byte count, without the 128-bit divide (per-hop paths). */
static inline uint32_t ifb_ps_per_byte(uint64_t rate_bps)
{
    if (!rate_bps || (8u * IFB_SEC) % rate_bps)
        return 0;
    uint64_t q = 8u * IFB_SEC / rate_bps;
    return q < (1ull << 32) ? (uint32_t)q : 0;
}

/* a + b, or IFB_TIME_NEVER when the sum does not fit: a deadline "after forever" must not wrap
 * around to the past. */
static inline ifb_time ifb_time_add_sat(ifb_time a, ifb_time b)
{
    ifb_time r;
    return __builtin_add_overflow(a, b, &r) ? IFB_TIME_NEVER : r;
}

/* The largest time a configuration value may hold: one hour. A simulated run spans seconds to
 * minutes, and 64-bit picoseconds hold 213 days, so thousands of such values can be summed
 * (timeouts times retries, start plus duration, latencies along a path) without overflowing;
 * larger values are refused where they are read (scenario/cfg.c) rather than wrapped. */
#define IFB_TIME_CFG_MAX (3600 * IFB_SEC)

static inline double ifb_time_to_s(ifb_time t)
{
    return (double)t / (double)IFB_SEC;
}
static inline double ifb_time_to_us(ifb_time t)
{
    return (double)t / (double)IFB_US;
}

#endif
