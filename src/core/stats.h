/* Statistics accumulators for the reports: a running summary (count, sum, min, max, mean,
 * variance), an exact sample set with percentiles, a log-bucketed histogram of integer
 * quantities with bounded relative error, and a time-weighted average of a piecewise-constant
 * quantity with a time-weighted histogram (queue occupancy).
 * Every result depends only on the sequence of updates, never on addresses or wall time, so
 * reports built from them are byte-identical across runs. Left out: streaming quantile sketches
 * for doubles (use ifb_samples, or scale to integers for ifb_hist_log) and thread safety.
 * Empty accumulators report NaN for undefined quantities (mean of nothing), which the JSON
 * writer prints as null. Memory is allocated only at init (hist_log, timeavg) or on amortized
 * growth (samples); allocation failure aborts, as the pools do. */
#ifndef IFB_STATS_H
#define IFB_STATS_H
#include <stddef.h>
#include <stdint.h>

#include "core/time.h"

/* ---- Running summary (Welford) ---------------------------------------------------------- */

typedef struct ifb_summary {
    uint64_t n;
    double sum;
    double min, max; /* +inf / -inf while empty; read through the accessors */
    double mean;     /* running mean (Welford) */
    double m2;       /* sum of squared deviations from the mean */
} ifb_summary;

void ifb_summary_init(ifb_summary *s);
void ifb_summary_add(ifb_summary *s, double x);
/* Combines src into dst as if dst had seen src's samples too (Chan et al.). */
void ifb_summary_merge(ifb_summary *dst, const ifb_summary *src);
/* NaN when empty. */
double ifb_summary_mean(const ifb_summary *s);
double ifb_summary_min(const ifb_summary *s);
double ifb_summary_max(const ifb_summary *s);
/* Population variance (divides by n): NaN when empty. */
double ifb_summary_var(const ifb_summary *s);
/* Sample variance (divides by n - 1): NaN when n < 2. */
double ifb_summary_var_sample(const ifb_summary *s);
/* Square root of the population variance. */
double ifb_summary_stddev(const ifb_summary *s);

/* Common percentile digest shared by ifb_samples and ifb_hist_log, so reporters print both
 * the same way. Every field but n is NaN when n == 0. */
typedef struct ifb_pctl {
    uint64_t n;
    double mean, min, p50, p90, p99, max;
} ifb_pctl;

/* ---- Exact samples ---------------------------------------------------------------------- */

/* Keeps every sample. Percentiles use linear interpolation between closest ranks, the same
 * definition as numpy.percentile(..., method="linear") (Hyndman & Fan type 7): for sorted
 * x[0..n-1] and p in [0, 100], h = (n - 1) * p / 100, result = x[floor(h)] + (h - floor(h)) *
 * (x[floor(h) + 1] - x[floor(h)]). A sorted copy is made on the first query after an add and
 * kept until the next add. NaN samples sort after everything (they are a caller bug). */
typedef struct ifb_samples {
    double *v;
    size_t n, cap;
    double *sorted; /* sorted copy of v[0..n-1], valid when sorted_ok */
    size_t sorted_cap;
    int sorted_ok;
    double sum;
} ifb_samples;

void ifb_samples_init(ifb_samples *s);
void ifb_samples_destroy(ifb_samples *s);
/* Drops all samples, keeps the memory. */
void ifb_samples_clear(ifb_samples *s);
void ifb_samples_add(ifb_samples *s, double x);
size_t ifb_samples_count(const ifb_samples *s);
/* Arithmetic mean (sum in insertion order / n); NaN when empty. */
double ifb_samples_mean(const ifb_samples *s);
/* p in [0, 100] (clamped); NaN when empty. Sorts on demand, hence non-const. */
double ifb_samples_percentile(ifb_samples *s, double p);
void ifb_samples_pctl(ifb_samples *s, ifb_pctl *out);

/* ---- Log-bucketed histogram of non-negative integers ------------------------------------- */

/* HdrHistogram-like layout for per-packet quantities (latencies in ps, queue sizes in bytes):
 * values below 2^(sub_bits+1) each have their own bucket (exact); above, each power-of-two
 * range [2^e, 2^(e+1)) is split into 2^sub_bits equal buckets, so a bucket is at most
 * 2^-sub_bits of its lower bound wide. A bucket is represented by its midpoint, clamped to the
 * exact [min, max] seen, so any reported quantile is within a relative error of
 * 2^-(sub_bits+1) of the exact one (0.39% for the default 7 bits; 4353 buckets = 34 KiB for a
 * 2^40 range). Percentiles use the same linear definition as ifb_samples, applied to the
 * bucket representatives of the two ranks involved, so the two agree within that bound.
 * Values above max_value are counted in the last bucket (and in `clamped`); min, max, mean
 * stay exact regardless. */
#define IFB_HIST_LOG_DEFAULT_BITS 7

typedef struct ifb_hist_log {
    uint64_t *counts;
    size_t nbuckets;
    unsigned sub_bits;
    uint64_t max_value; /* highest value with its own bucket */
    uint64_t n;
    uint64_t clamped;      /* values above max_value */
    uint64_t min, max;     /* exact; min is UINT64_MAX while empty */
    unsigned __int128 sum; /* exact, so merge order cannot change the mean */
} ifb_hist_log;

/* max_value: highest value to resolve (e.g. 1 s of ps = 10^12); sub_bits in [1, 16]
 * (IFB_HIST_LOG_DEFAULT_BITS for ~0.4% error). Returns -1 if sub_bits is out of range. */
int ifb_hist_log_init(ifb_hist_log *h, uint64_t max_value, unsigned sub_bits);
void ifb_hist_log_destroy(ifb_hist_log *h);
void ifb_hist_log_reset(ifb_hist_log *h);
/* No allocation, no loop: constant time. */
void ifb_hist_log_add(ifb_hist_log *h, uint64_t v);
void ifb_hist_log_add_n(ifb_hist_log *h, uint64_t v, uint64_t count);
/* dst += src. Both must have been initialized with the same max_value and sub_bits; returns -1
 * (dst unchanged) otherwise. */
int ifb_hist_log_merge(ifb_hist_log *dst, const ifb_hist_log *src);
/* Relative error bound of reported quantiles: 2^-(sub_bits+1). */
double ifb_hist_log_rel_error(const ifb_hist_log *h);
/* Mean from the exact sum; NaN when empty. */
double ifb_hist_log_mean(const ifb_hist_log *h);
/* p in [0, 100] (clamped); NaN when empty. */
double ifb_hist_log_percentile(const ifb_hist_log *h, double p);
void ifb_hist_log_pctl(const ifb_hist_log *h, ifb_pctl *out);
/* Bucket index of v and the inclusive range [lo, hi] of values a bucket holds (for dumping
 * the histogram itself). Buckets with a zero count can be skipped. */
size_t ifb_hist_log_bucket(const ifb_hist_log *h, uint64_t v);
void ifb_hist_log_bucket_range(const ifb_hist_log *h, size_t idx, uint64_t *lo, uint64_t *hi);

/* ---- Time-weighted average of a piecewise-constant quantity ------------------------------ */

/* The quantity (e.g. queued bytes at a port) holds `value` from the time of one update to the
 * next. Tracks the exact integral (128-bit value x ps), the largest value ever set (including
 * values held for zero time, so a burst that drains at the same instant still counts), and the
 * time spent in fixed-width value bins: bin i covers [i * bin_width, (i + 1) * bin_width), the
 * last bin is open-ended. Queries take `now` and include the pending segment [last, now]
 * without changing the state. */
typedef struct ifb_timeavg {
    ifb_time t0;    /* start of the measured interval */
    ifb_time last;  /* time of the latest update */
    uint64_t value; /* current value */
    uint64_t max;
    unsigned __int128 area; /* integral of value over [t0, last], value x ps */
    uint64_t bin_width;
    size_t nbins;
    ifb_time *bin_time; /* nbins entries: time spent in each bin over [t0, last] */
} ifb_timeavg;

/* Starts measuring at t0 with the given initial value. nbins == 0 disables the histogram;
 * otherwise bin_width must be > 0 (returns -1 if not). */
int ifb_timeavg_init(ifb_timeavg *a, ifb_time t0, uint64_t initial, uint64_t bin_width,
                     size_t nbins);
void ifb_timeavg_destroy(ifb_timeavg *a);
/* The value changes to `value` at `now`. now earlier than the previous update is treated as
 * equal to it (simulated time never goes back). No allocation; constant time. */
void ifb_timeavg_update(ifb_timeavg *a, ifb_time now, uint64_t value);
/* Restarts the measurement at now (e.g. after a warm-up), keeping the current value; max
 * restarts at the current value. */
void ifb_timeavg_reset(ifb_timeavg *a, ifb_time now);
/* Time-weighted mean over [t0, now]; NaN if now <= t0. */
double ifb_timeavg_mean(const ifb_timeavg *a, ifb_time now);
uint64_t ifb_timeavg_max(const ifb_timeavg *a);
/* Exact integral of the value over [t0, now], in value x ps. */
unsigned __int128 ifb_timeavg_area(const ifb_timeavg *a, ifb_time now);
/* Fills out[0..nbins-1] with the time (ps) spent in each bin over [t0, now]; the entries sum
 * to now - t0. */
void ifb_timeavg_hist(const ifb_timeavg *a, ifb_time now, ifb_time *out);

#endif
