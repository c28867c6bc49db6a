/* Statistics accumulators (see stats.h). Percentile arithmetic follows numpy's "linear" method
 * operation for operation, so exact-sample percentiles match numpy bit for bit. */
#include "core/stats.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

/* numpy's _lerp: exact at both ends, monotone in t. */
static double lerp(double a, double b, double t)
{
    if (a == b)
        return a; /* also keeps +-inf from turning into NaN */
    double d = b - a;
    return t >= 0.5 ? b - d * (1.0 - t) : a + d * t;
}

/* Virtual index of percentile p among n sorted values, as numpy computes it. */
static void rank_of(uint64_t n, double p, uint64_t *k, double *t)
{
    if (!(p >= 0.0)) /* also catches NaN */
        p = 0.0;
    if (p > 100.0)
        p = 100.0;
    double h = (double)(n - 1) * (p / 100.0);
    double fl = floor(h);
    *k = (uint64_t)fl;
    *t = h - fl;
    if (*k >= n - 1) {
        *k = n - 1;
        *t = 0.0;
    }
}

/* ---- Summary ---------------------------------------------------------------------------- */

void ifb_summary_init(ifb_summary *s)
{
    memset(s, 0, sizeof *s);
    s->min = INFINITY;
    s->max = -INFINITY;
}

void ifb_summary_add(ifb_summary *s, double x)
{
    s->n++;
    s->sum += x;
    if (x < s->min)
        s->min = x;
    if (x > s->max)
        s->max = x;
    double delta = x - s->mean;
    s->mean += delta / (double)s->n;
    s->m2 += delta * (x - s->mean);
}

void ifb_summary_merge(ifb_summary *dst, const ifb_summary *src)
{
    if (src->n == 0)
        return;
    if (dst->n == 0) {
        *dst = *src;
        return;
    }
    double na = (double)dst->n, nb = (double)src->n, n = na + nb;
    double delta = src->mean - dst->mean;
    dst->mean += delta * (nb / n);
    dst->m2 += src->m2 + delta * delta * (na * nb / n);
    dst->n += src->n;
    dst->sum += src->sum;
    if (src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
}

double ifb_summary_mean(const ifb_summary *s)
{
    return s->n ? s->mean : NAN;
}
double ifb_summary_min(const ifb_summary *s)
{
    return s->n ? s->min : NAN;
}
double ifb_summary_max(const ifb_summary *s)
{
    return s->n ? s->max : NAN;
}
double ifb_summary_var(const ifb_summary *s)
{
    return s->n ? s->m2 / (double)s->n : NAN;
}

double ifb_summary_var_sample(const ifb_summary *s)
{
    return s->n >= 2 ? s->m2 / (double)(s->n - 1) : NAN;
}

double ifb_summary_stddev(const ifb_summary *s)
{
    return sqrt(ifb_summary_var(s));
}

/* ---- Samples ---------------------------------------------------------------------------- */

void ifb_samples_init(ifb_samples *s)
{
    memset(s, 0, sizeof *s);
}

void ifb_samples_destroy(ifb_samples *s)
{
    free(s->v);
    free(s->sorted);
    memset(s, 0, sizeof *s);
}

void ifb_samples_clear(ifb_samples *s)
{
    s->n = 0;
    s->sum = 0.0;
    s->sorted_ok = 0;
}

void ifb_samples_add(ifb_samples *s, double x)
{
    s->v = ifb_xgrow(s->v, &s->cap, s->n, sizeof *s->v, 256, "statistics samples");
    s->v[s->n++] = x;
    s->sum += x;
    s->sorted_ok = 0;
}

size_t ifb_samples_count(const ifb_samples *s)
{
    return s->n;
}

double ifb_samples_mean(const ifb_samples *s)
{
    return s->n ? s->sum / (double)s->n : NAN;
}

/* Total order: -0 before +0 and NaN last, so the sorted copy never depends on qsort's
 * handling of ties between distinguishable values. */
static int cmp_double(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    int na = isnan(a), nb = isnan(b);
    if (na || nb)
        return na - nb;
    if (a < b)
        return -1;
    if (a > b)
        return 1;
    return (int)(signbit(b) != 0) - (int)(signbit(a) != 0);
}

static const double *sorted_values(ifb_samples *s)
{
    if (!s->sorted_ok) {
        if (s->sorted_cap < s->n) {
            s->sorted_cap = s->cap;
            s->sorted = ifb_xrealloc(s->sorted, s->sorted_cap, sizeof *s->sorted,
                                     "sorted statistics samples");
        }
        if (s->n)
            memcpy(s->sorted, s->v, s->n * sizeof *s->v);
        qsort(s->sorted, s->n, sizeof *s->sorted, cmp_double);
        s->sorted_ok = 1;
    }
    return s->sorted;
}

double ifb_samples_percentile(ifb_samples *s, double p)
{
    if (s->n == 0)
        return NAN;
    const double *x = sorted_values(s);
    uint64_t k;
    double t;
    rank_of(s->n, p, &k, &t);
    if (t == 0.0)
        return x[k];
    return lerp(x[k], x[k + 1], t);
}

void ifb_samples_pctl(ifb_samples *s, ifb_pctl *out)
{
    out->n = s->n;
    out->mean = ifb_samples_mean(s);
    out->min = ifb_samples_percentile(s, 0.0);
    out->p50 = ifb_samples_percentile(s, 50.0);
    out->p90 = ifb_samples_percentile(s, 90.0);
    out->p99 = ifb_samples_percentile(s, 99.0);
    out->max = ifb_samples_percentile(s, 100.0);
}

/* ---- Log histogram ---------------------------------------------------------------------- */

static size_t bucket_of(unsigned bits, uint64_t v)
{
    if (v >> (bits + 1) == 0)
        return (size_t)v; /* exact region */
    unsigned e = 63u - (unsigned)__builtin_clzll(v);
    unsigned shift = e - bits;
    /* (v >> shift) is in [2^bits, 2^(bits+1)): the bucket's mantissa */
    return ((size_t)shift << bits) + (size_t)(v >> shift);
}

int ifb_hist_log_init(ifb_hist_log *h, uint64_t max_value, unsigned sub_bits)
{
    memset(h, 0, sizeof *h);
    if (sub_bits < 1 || sub_bits > 16)
        return -1;
    h->sub_bits = sub_bits;
    h->max_value = max_value;
    h->nbuckets = bucket_of(sub_bits, max_value) + 1;
    h->counts = ifb_xcalloc(h->nbuckets, sizeof *h->counts, "a histogram");
    h->min = UINT64_MAX;
    return 0;
}

void ifb_hist_log_destroy(ifb_hist_log *h)
{
    free(h->counts);
    memset(h, 0, sizeof *h);
}

void ifb_hist_log_reset(ifb_hist_log *h)
{
    memset(h->counts, 0, h->nbuckets * sizeof *h->counts);
    h->n = h->clamped = h->max = 0;
    h->min = UINT64_MAX;
    h->sum = 0;
}

void ifb_hist_log_add_n(ifb_hist_log *h, uint64_t v, uint64_t count)
{
    if (!count)
        return;
    size_t b;
    if (v > h->max_value) {
        b = h->nbuckets - 1;
        h->clamped += count;
    } else {
        b = bucket_of(h->sub_bits, v);
    }
    h->counts[b] += count;
    h->n += count;
    h->sum += (unsigned __int128)v * count;
    if (v < h->min)
        h->min = v;
    if (v > h->max)
        h->max = v;
}

void ifb_hist_log_add(ifb_hist_log *h, uint64_t v)
{
    ifb_hist_log_add_n(h, v, 1);
}

int ifb_hist_log_merge(ifb_hist_log *dst, const ifb_hist_log *src)
{
    if (dst->sub_bits != src->sub_bits || dst->max_value != src->max_value ||
        dst->nbuckets != src->nbuckets)
        return -1;
    for (size_t i = 0; i < dst->nbuckets; i++)
        dst->counts[i] += src->counts[i];
    dst->n += src->n;
    dst->clamped += src->clamped;
    dst->sum += src->sum;
    if (src->n) {
        if (src->min < dst->min)
            dst->min = src->min;
        if (src->max > dst->max)
            dst->max = src->max;
    }
    return 0;
}

double ifb_hist_log_rel_error(const ifb_hist_log *h)
{
    return ldexp(1.0, -(int)h->sub_bits - 1);
}

void ifb_hist_log_bucket_range(const ifb_hist_log *h, size_t idx, uint64_t *lo, uint64_t *hi)
{
    unsigned bits = h->sub_bits;
    if (idx >> (bits + 1) == 0) {
        *lo = *hi = (uint64_t)idx;
        return;
    }
    unsigned shift = (unsigned)(idx >> bits) - 1u;
    uint64_t mant = (uint64_t)idx - ((uint64_t)shift << bits);
    *lo = mant << shift;
    *hi = *lo + ((((uint64_t)1) << shift) - 1u);
}

size_t ifb_hist_log_bucket(const ifb_hist_log *h, uint64_t v)
{
    return v > h->max_value ? h->nbuckets - 1 : bucket_of(h->sub_bits, v);
}

double ifb_hist_log_mean(const ifb_hist_log *h)
{
    if (!h->n)
        return NAN;
    /* quotient and remainder separately: exact to the last bit that matters */
    unsigned __int128 q = h->sum / h->n, r = h->sum % h->n;
    return (double)q + (double)(uint64_t)r / (double)h->n;
}

/* Representative value of the sample at 0-based rank k: exact for the extreme ranks, else the
 * midpoint of its bucket clamped to [min, max]. */
static double value_at_rank(const ifb_hist_log *h, uint64_t k)
{
    if (k == 0)
        return (double)h->min;
    if (k >= h->n - 1)
        return (double)h->max;
    uint64_t cum = 0;
    size_t i = 0;
    for (; i < h->nbuckets; i++) {
        cum += h->counts[i];
        if (cum > k)
            break;
    }
    uint64_t lo, hi;
    ifb_hist_log_bucket_range(h, i, &lo, &hi);
    if (i == h->nbuckets - 1 && h->max > hi)
        hi = h->max; /* the clamped top bucket really extends to max */
    double mid = (double)lo + (double)(hi - lo) / 2.0;
    if (mid < (double)h->min)
        mid = (double)h->min;
    if (mid > (double)h->max)
        mid = (double)h->max;
    return mid;
}

double ifb_hist_log_percentile(const ifb_hist_log *h, double p)
{
    if (!h->n)
        return NAN;
    uint64_t k;
    double t;
    rank_of(h->n, p, &k, &t);
    double a = value_at_rank(h, k);
    if (t == 0.0)
        return a;
    return lerp(a, value_at_rank(h, k + 1), t);
}

void ifb_hist_log_pctl(const ifb_hist_log *h, ifb_pctl *out)
{
    out->n = h->n;
    out->mean = ifb_hist_log_mean(h);
    out->min = h->n ? (double)h->min : NAN;
    out->max = h->n ? (double)h->max : NAN;
    out->p50 = ifb_hist_log_percentile(h, 50.0);
    out->p90 = ifb_hist_log_percentile(h, 90.0);
    out->p99 = ifb_hist_log_percentile(h, 99.0);
}

/* ---- Time average ----------------------------------------------------------------------- */

int ifb_timeavg_init(ifb_timeavg *a, ifb_time t0, uint64_t initial, uint64_t bin_width,
                     size_t nbins)
{
    memset(a, 0, sizeof *a);
    if (nbins && !bin_width)
        return -1;
    a->t0 = a->last = t0;
    a->value = a->max = initial;
    a->bin_width = bin_width;
    a->nbins = nbins;
    if (nbins)
        a->bin_time = ifb_xcalloc(nbins, sizeof *a->bin_time, "a time-average's bins");
    return 0;
}

void ifb_timeavg_destroy(ifb_timeavg *a)
{
    free(a->bin_time);
    memset(a, 0, sizeof *a);
}

static size_t bin_of(const ifb_timeavg *a, uint64_t v)
{
    uint64_t b = v / a->bin_width;
    return b >= a->nbins ? a->nbins - 1 : (size_t)b;
}

void ifb_timeavg_update(ifb_timeavg *a, ifb_time now, uint64_t value)
{
    if (now > a->last) {
        ifb_time dt = now - a->last;
        a->area += (unsigned __int128)a->value * dt;
        if (a->nbins)
            a->bin_time[bin_of(a, a->value)] += dt;
        a->last = now;
    }
    a->value = value;
    if (value > a->max)
        a->max = value;
}

void ifb_timeavg_reset(ifb_timeavg *a, ifb_time now)
{
    if (now < a->last)
        now = a->last;
    a->t0 = a->last = now;
    a->area = 0;
    a->max = a->value;
    if (a->nbins)
        memset(a->bin_time, 0, a->nbins * sizeof *a->bin_time);
}

unsigned __int128 ifb_timeavg_area(const ifb_timeavg *a, ifb_time now)
{
    unsigned __int128 area = a->area;
    if (now > a->last)
        area += (unsigned __int128)a->value * (now - a->last);
    return area;
}

double ifb_timeavg_mean(const ifb_timeavg *a, ifb_time now)
{
    if (now < a->last)
        now = a->last;
    if (now <= a->t0)
        return NAN;
    ifb_time dur = now - a->t0;
    unsigned __int128 area = ifb_timeavg_area(a, now);
    unsigned __int128 q = area / dur, r = area % dur;
    return (double)q + (double)(uint64_t)r / (double)dur;
}

uint64_t ifb_timeavg_max(const ifb_timeavg *a)
{
    return a->max;
}

void ifb_timeavg_hist(const ifb_timeavg *a, ifb_time now, ifb_time *out)
{
    if (!a->nbins)
        return;
    memcpy(out, a->bin_time, a->nbins * sizeof *out);
    if (now > a->last)
        out[bin_of(a, a->value)] += now - a->last;
}
