/* Shared by the benchmark programs: wall-clock time and peak memory of this process. */
#ifndef IFB_BENCH_H
#define IFB_BENCH_H
#include <sys/resource.h>
#include <time.h>

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

#endif
