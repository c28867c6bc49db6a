/* Shared by the benchmark programs: wall-clock time and peak memory of this process. */
#ifndef IFB_BENCH_H
#define IFB_BENCH_H
#include <sys/resource.h>
#include <time.h>

#include "topo/topo.h"

static inline double bench_wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline long bench_peak_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* The benchmarks' servers: one GPU and one 400 Gb/s NIC each, 1 us host links. */
static inline ifb_server_spec bench_server(void)
{
    return (ifb_server_spec){.gpus_per_server = 1,
                             .nics_per_server = 1,
                             .nic_bps = 400000000000ull,
                             .host_delay = IFB_US,
                             .nvlink_bps = 3600000000000ull,
                             .nvlink_latency = IFB_US};
}

#endif
