/* Tests for core/stats: summary (Welford against two-pass), exact percentiles against
 * hand-computed numpy "linear" values, the log histogram against exact percentiles within its
 * stated bound, and the time average against a hand-computed piecewise-constant signal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "core/stats.h"

static void assert_close(double got, double want, double tol)
{
    if (!(fabs(got - want) <= tol)) {
        print_error("got %.17g, want %.17g (tolerance %g)\n", got, want, tol);
        fail();
    }
}

/* ---- summary ---- */

static void test_summary_basic(void **state)
{
    (void)state;
    ifb_summary s;
    ifb_summary_init(&s);
    assert_true(isnan(ifb_summary_mean(&s)));
    assert_true(isnan(ifb_summary_min(&s)));
    assert_true(isnan(ifb_summary_max(&s)));
    assert_true(isnan(ifb_summary_var(&s)));
    const double x[] = {2, 4, 4, 4, 5, 5, 7, 9};
    for (size_t i = 0; i < 8; i++)
        ifb_summary_add(&s, x[i]);
    assert_int_equal(s.n, 8);
    assert_close(s.sum, 40, 0);
    assert_close(ifb_summary_mean(&s), 5, 0);
    assert_close(ifb_summary_min(&s), 2, 0);
    assert_close(ifb_summary_max(&s), 9, 0);
    assert_close(ifb_summary_var(&s), 4, 1e-15);
    assert_close(ifb_summary_var_sample(&s), 32.0 / 7.0, 1e-15);
    assert_close(ifb_summary_stddev(&s), 2, 1e-15);

    ifb_summary one;
    ifb_summary_init(&one);
    ifb_summary_add(&one, -3.5);
    assert_close(ifb_summary_var(&one), 0, 0);
    assert_true(isnan(ifb_summary_var_sample(&one)));
    assert_close(ifb_summary_min(&one), -3.5, 0);
    assert_close(ifb_summary_max(&one), -3.5, 0);
}

/* Welford against the textbook two-pass formula on data with a large offset, where the naive
 * sum-of-squares formula would lose every digit. Merging halves gives the same answer. */
static void test_summary_welford_vs_two_pass(void **state)
{
    (void)state;
    enum { N = 100000 };
    double *x = malloc(N * sizeof *x);
    assert_non_null(x);
    ifb_rng r;
    ifb_rng_seed(&r, 42, 1);
    ifb_summary s, a, b;
    ifb_summary_init(&s);
    ifb_summary_init(&a);
    ifb_summary_init(&b);
    for (int i = 0; i < N; i++) {
        x[i] = 1e9 + ifb_rng_double(&r) * 10.0;
        ifb_summary_add(&s, x[i]);
        ifb_summary_add(i < N / 3 ? &a : &b, x[i]);
    }
    double mean = 0;
    for (int i = 0; i < N; i++)
        mean += x[i];
    mean /= N;
    double ss = 0;
    for (int i = 0; i < N; i++)
        ss += (x[i] - mean) * (x[i] - mean);
    double var = ss / N;
    assert_close(ifb_summary_mean(&s), mean, 1e-12 * mean);
    assert_close(ifb_summary_var(&s), var, 1e-6 * var); /* ~100/12 */
    assert_close(ifb_summary_var_sample(&s), ss / (N - 1), 1e-6 * var);

    ifb_summary_merge(&a, &b);
    assert_int_equal(a.n, N);
    assert_close(ifb_summary_mean(&a), mean, 1e-12 * mean);
    assert_close(ifb_summary_var(&a), var, 1e-6 * var);
    assert_close(ifb_summary_min(&a), ifb_summary_min(&s), 0);
    assert_close(ifb_summary_max(&a), ifb_summary_max(&s), 0);

    ifb_summary empty;
    ifb_summary_init(&empty);
    ifb_summary_merge(&a, &empty);
    assert_int_equal(a.n, N);
    ifb_summary_merge(&empty, &s);
    assert_int_equal(empty.n, N);
    assert_close(ifb_summary_var(&empty), ifb_summary_var(&s), 0);
    free(x);
}

/* ---- samples ---- */

static void test_samples_percentiles(void **state)
{
    (void)state;
    ifb_samples s;
    ifb_samples_init(&s);
    assert_true(isnan(ifb_samples_percentile(&s, 50)));
    assert_true(isnan(ifb_samples_mean(&s)));
    const double x[] = {40, 15, 50, 20, 35}; /* sorted: 15 20 35 40 50 */
    for (size_t i = 0; i < 5; i++)
        ifb_samples_add(&s, x[i]);
    /* numpy.percentile([15,20,35,40,50], p): h = 4 p / 100 */
    assert_close(ifb_samples_percentile(&s, 0), 15, 0);
    assert_close(ifb_samples_percentile(&s, 10), 17, 1e-12);   /* h=0.4: 15 + 0.4*5 */
    assert_close(ifb_samples_percentile(&s, 25), 20, 0);       /* h=1 */
    assert_close(ifb_samples_percentile(&s, 40), 29, 1e-12);   /* h=1.6: 20 + 0.6*15 */
    assert_close(ifb_samples_percentile(&s, 50), 35, 0);       /* h=2 */
    assert_close(ifb_samples_percentile(&s, 90), 46, 1e-12);   /* h=3.6: 40 + 0.6*10 */
    assert_close(ifb_samples_percentile(&s, 99), 49.6, 1e-12); /* h=3.96 */
    assert_close(ifb_samples_percentile(&s, 100), 50, 0);
    assert_close(ifb_samples_percentile(&s, 150), 50, 0); /* clamped */
    assert_close(ifb_samples_percentile(&s, -5), 15, 0);
    assert_close(ifb_samples_mean(&s), 32, 0);

    ifb_pctl p;
    ifb_samples_pctl(&s, &p);
    assert_int_equal(p.n, 5);
    assert_close(p.mean, 32, 0);
    assert_close(p.min, 15, 0);
    assert_close(p.p50, 35, 0);
    assert_close(p.p90, 46, 1e-12);
    assert_close(p.p99, 49.6, 1e-12);
    assert_close(p.max, 50, 0);

    /* adding after a query invalidates the sorted copy */
    ifb_samples_add(&s, 1);
    assert_close(ifb_samples_percentile(&s, 0), 1, 0);
    assert_close(ifb_samples_percentile(&s, 50), 27.5, 1e-12); /* 1 15 20 35 40 50: h=2.5 */
    assert_int_equal(ifb_samples_count(&s), 6);

    ifb_samples_clear(&s);
    assert_int_equal(ifb_samples_count(&s), 0);
    assert_true(isnan(ifb_samples_percentile(&s, 50)));
    ifb_samples_add(&s, 7.25);
    assert_close(ifb_samples_percentile(&s, 0), 7.25, 0);
    assert_close(ifb_samples_percentile(&s, 37), 7.25, 0);
    assert_close(ifb_samples_percentile(&s, 100), 7.25, 0);
    ifb_samples_destroy(&s);
}

/* Many samples through growth; percentiles against a reference sort; even count. */
static void test_samples_growth(void **state)
{
    (void)state;
    enum { N = 10000 };
    ifb_samples s;
    ifb_samples_init(&s);
    for (int i = N; i >= 1; i--)
        ifb_samples_add(&s, (double)i);
    assert_int_equal(ifb_samples_count(&s), N);
    assert_close(ifb_samples_percentile(&s, 50), 5000.5, 1e-9);
    assert_close(ifb_samples_percentile(&s, 90), 9000.1, 1e-9); /* h = 8999.1 */
    assert_close(ifb_samples_percentile(&s, 99), 9900.01, 1e-9);
    assert_close(ifb_samples_mean(&s), 5000.5, 1e-9);
    ifb_samples_destroy(&s);
}

/* Infinities and signed zeros do not turn into NaN; NaN sorts last. */
static void test_samples_special_values(void **state)
{
    (void)state;
    ifb_samples s;
    ifb_samples_init(&s);
    ifb_samples_add(&s, INFINITY);
    ifb_samples_add(&s, INFINITY);
    ifb_samples_add(&s, 1);
    assert_true(isinf(ifb_samples_percentile(&s, 75)));
    assert_close(ifb_samples_percentile(&s, 0), 1, 0);
    ifb_samples_clear(&s);
    ifb_samples_add(&s, NAN);
    ifb_samples_add(&s, 2);
    ifb_samples_add(&s, 1);
    assert_close(ifb_samples_percentile(&s, 0), 1, 0);
    assert_close(ifb_samples_percentile(&s, 50), 2, 0);
    assert_true(isnan(ifb_samples_percentile(&s, 100)));
    ifb_samples_destroy(&s);
}

/* ---- log histogram ---- */

/* Bucket ranges tile [0, max_value] without gaps and respect the width bound. */
static void test_hist_log_buckets(void **state)
{
    (void)state;
    for (unsigned bits = 1; bits <= 10; bits++) {
        ifb_hist_log h;
        assert_int_equal(ifb_hist_log_init(&h, UINT64_MAX, bits), 0);
        uint64_t next = 0;
        for (size_t i = 0; i < h.nbuckets; i++) {
            uint64_t lo, hi;
            ifb_hist_log_bucket_range(&h, i, &lo, &hi);
            assert_int_equal(lo, next);
            assert_true(hi >= lo);
            if (lo >= (2ull << bits))
                assert_true((hi - lo + 1) <= (lo >> bits)); /* width <= lo * 2^-bits */
            else
                assert_int_equal(hi, lo); /* exact region */
            assert_int_equal(ifb_hist_log_bucket(&h, lo), i);
            assert_int_equal(ifb_hist_log_bucket(&h, hi), i);
            next = hi + 1;
            if (i == h.nbuckets - 1)
                assert_int_equal(hi, UINT64_MAX);
        }
        ifb_hist_log_destroy(&h);
    }
    ifb_hist_log h;
    assert_int_equal(ifb_hist_log_init(&h, 0, 0), -1);
    assert_int_equal(ifb_hist_log_init(&h, 0, 17), -1);
    /* 1 s of picoseconds at the default precision: a few thousand buckets */
    assert_int_equal(ifb_hist_log_init(&h, 1000000000000ull, IFB_HIST_LOG_DEFAULT_BITS), 0);
    assert_true(h.nbuckets < 5000);
    assert_close(ifb_hist_log_rel_error(&h), 1.0 / 256, 0);
    ifb_hist_log_destroy(&h);
}

static void test_hist_log_small_exact(void **state)
{
    (void)state;
    ifb_hist_log h;
    assert_int_equal(ifb_hist_log_init(&h, 1u << 20, 7), 0);
    assert_true(isnan(ifb_hist_log_percentile(&h, 50)));
    assert_true(isnan(ifb_hist_log_mean(&h)));
    ifb_samples s;
    ifb_samples_init(&s);
    const uint64_t x[] = {40, 15, 50, 20, 35}; /* all below 2^8: exact buckets */
    for (size_t i = 0; i < 5; i++) {
        ifb_hist_log_add(&h, x[i]);
        ifb_samples_add(&s, (double)x[i]);
    }
    for (double p = 0; p <= 100; p += 0.5)
        assert_close(ifb_hist_log_percentile(&h, p), ifb_samples_percentile(&s, p), 0);
    assert_close(ifb_hist_log_mean(&h), 32, 0);
    ifb_pctl a, b;
    ifb_hist_log_pctl(&h, &a);
    ifb_samples_pctl(&s, &b);
    assert_int_equal(a.n, b.n);
    assert_close(a.mean, b.mean, 0);
    assert_close(a.min, b.min, 0);
    assert_close(a.p50, b.p50, 0);
    assert_close(a.p90, b.p90, 0);
    assert_close(a.p99, b.p99, 0);
    assert_close(a.max, b.max, 0);
    ifb_samples_destroy(&s);
    ifb_hist_log_destroy(&h);
}

/* Draws for the accuracy test: exponential latencies around 10 us, uniform queue sizes,
 * and a heavy tail spanning many powers of two. */
static uint64_t draw(ifb_rng *r, int kind)
{
    switch (kind) {
    case 0:
        return (uint64_t)ifb_rng_exp(r, 10e6); /* ps */
    case 1:
        return ifb_rng_below(r, 1u << 22); /* bytes */
    default:
        return (uint64_t)exp(ifb_rng_double(r) * 40.0);
    }
}

static void test_hist_log_accuracy(void **state)
{
    (void)state;
    enum { N = 200000 };
    for (int kind = 0; kind < 3; kind++) {
        for (unsigned bits = 4; bits <= 10; bits += 3) {
            ifb_hist_log h;
            assert_int_equal(ifb_hist_log_init(&h, UINT64_MAX, bits), 0);
            ifb_samples s;
            ifb_samples_init(&s);
            ifb_rng r;
            ifb_rng_seed(&r, 7, (uint64_t)kind);
            double exact_sum = 0;
            for (int i = 0; i < N; i++) {
                uint64_t v = draw(&r, kind);
                ifb_hist_log_add(&h, v);
                ifb_samples_add(&s, (double)v);
                exact_sum += (double)v;
            }
            double bound = ifb_hist_log_rel_error(&h);
            for (double p = 0; p <= 100; p += 0.25) {
                double want = ifb_samples_percentile(&s, p);
                double got = ifb_hist_log_percentile(&h, p);
                if (!(fabs(got - want) <= bound * want + 1e-9)) {
                    print_error("kind %d bits %u p %g: got %.17g want %.17g\n", kind, bits, p, got,
                                want);
                    fail();
                }
            }
            double precise[] = {99.9, 99.99, 99.999};
            for (int i = 0; i < 3; i++) {
                double want = ifb_samples_percentile(&s, precise[i]);
                assert_close(ifb_hist_log_percentile(&h, precise[i]), want, bound * want);
            }
            assert_close(ifb_hist_log_mean(&h), exact_sum / N, 1e-9 * exact_sum / N);
            assert_close(ifb_hist_log_percentile(&h, 0), ifb_samples_percentile(&s, 0), 0);
            assert_close(ifb_hist_log_percentile(&h, 100), ifb_samples_percentile(&s, 100), 0);
            ifb_samples_destroy(&s);
            ifb_hist_log_destroy(&h);
        }
    }
}

static void test_hist_log_merge_and_clamp(void **state)
{
    (void)state;
    ifb_hist_log all, a, b, other;
    assert_int_equal(ifb_hist_log_init(&all, 1u << 30, 7), 0);
    assert_int_equal(ifb_hist_log_init(&a, 1u << 30, 7), 0);
    assert_int_equal(ifb_hist_log_init(&b, 1u << 30, 7), 0);
    assert_int_equal(ifb_hist_log_init(&other, 1u << 30, 6), 0);
    ifb_rng r;
    ifb_rng_seed(&r, 3, 0);
    for (int i = 0; i < 50000; i++) {
        uint64_t v = ifb_rng_below(&r, 1u << 28);
        ifb_hist_log_add(&all, v);
        ifb_hist_log_add(i & 1 ? &a : &b, v);
    }
    ifb_hist_log_add_n(&all, 12345, 10);
    ifb_hist_log_add_n(&b, 12345, 10);
    ifb_hist_log_add_n(&b, 99, 0); /* no-op */
    assert_int_equal(ifb_hist_log_merge(&a, &b), 0);
    assert_int_equal(a.n, all.n);
    assert_int_equal(a.min, all.min);
    assert_int_equal(a.max, all.max);
    assert_memory_equal(a.counts, all.counts, all.nbuckets * sizeof *all.counts);
    assert_close(ifb_hist_log_mean(&a), ifb_hist_log_mean(&all), 0);
    assert_close(ifb_hist_log_percentile(&a, 99), ifb_hist_log_percentile(&all, 99), 0);
    assert_int_equal(ifb_hist_log_merge(&a, &other), -1);
    assert_int_equal(a.n, all.n);

    /* values above max_value: counted, flagged, exact max kept */
    ifb_hist_log_reset(&b);
    assert_int_equal(b.n, 0);
    ifb_hist_log_add(&b, 5);
    ifb_hist_log_add(&b, (1ull << 40) + 3);
    assert_int_equal(b.clamped, 1);
    assert_int_equal(b.max, (1ull << 40) + 3);
    assert_close(ifb_hist_log_percentile(&b, 100), (double)((1ull << 40) + 3), 0);
    assert_close(ifb_hist_log_mean(&b), ((double)(1ull << 40) + 8) / 2, 0);

    ifb_hist_log_destroy(&all);
    ifb_hist_log_destroy(&a);
    ifb_hist_log_destroy(&b);
    ifb_hist_log_destroy(&other);
}

/* ---- time average ---- */

/* Value over time (bins of 100: [0,100) [100,200) [200,300) [300,inf)):
 *   [0,10) 0 | [10,30) 150 | at 30: 50 for zero time | [30,60) 500 | [60,100) 250 | [100,..) 0
 * Area to 120: 150*20 + 500*30 + 250*40 = 28000; per bin: 30, 20, 40, 30. */
static void test_timeavg_piecewise(void **state)
{
    (void)state;
    ifb_timeavg a;
    assert_int_equal(ifb_timeavg_init(&a, 0, 0, 100, 4), 0);
    assert_true(isnan(ifb_timeavg_mean(&a, 0)));
    ifb_timeavg_update(&a, 10, 150);
    ifb_timeavg_update(&a, 30, 50);
    ifb_timeavg_update(&a, 30, 500);
    ifb_timeavg_update(&a, 60, 250);
    ifb_timeavg_update(&a, 100, 0);
    assert_int_equal(ifb_timeavg_max(&a), 500);
    assert_true(ifb_timeavg_area(&a, 120) == 28000);
    assert_close(ifb_timeavg_mean(&a, 120), 28000.0 / 120.0, 1e-12);
    assert_close(ifb_timeavg_mean(&a, 100), 280, 0); /* queries do not change the state */
    assert_close(ifb_timeavg_mean(&a, 120), 28000.0 / 120.0, 1e-12);
    assert_close(ifb_timeavg_mean(&a, 50), 280, 0); /* before the last update: = last */
    ifb_time hist[4];
    ifb_timeavg_hist(&a, 120, hist);
    assert_int_equal(hist[0], 30);
    assert_int_equal(hist[1], 20);
    assert_int_equal(hist[2], 40);
    assert_int_equal(hist[3], 30);

    /* time going back is clamped to the last update */
    ifb_timeavg_update(&a, 90, 1000);
    assert_int_equal(ifb_timeavg_max(&a), 1000);
    ifb_timeavg_hist(&a, 100, hist);
    assert_int_equal(hist[0] + hist[1] + hist[2] + hist[3], 100);
    ifb_timeavg_update(&a, 100, 0);

    /* restart after a warm-up */
    ifb_timeavg_reset(&a, 200);
    assert_int_equal(ifb_timeavg_max(&a), 0);
    assert_true(isnan(ifb_timeavg_mean(&a, 200)));
    ifb_timeavg_update(&a, 250, 100);
    assert_close(ifb_timeavg_mean(&a, 300), 50, 0);
    assert_int_equal(ifb_timeavg_max(&a), 100);
    ifb_timeavg_hist(&a, 300, hist);
    assert_int_equal(hist[0], 50);
    assert_int_equal(hist[1], 50);
    assert_int_equal(hist[2], 0);
    assert_int_equal(hist[3], 0);
    ifb_timeavg_destroy(&a);
}

static void test_timeavg_edges(void **state)
{
    (void)state;
    ifb_timeavg a;
    assert_int_equal(ifb_timeavg_init(&a, 0, 0, 0, 4), -1);
    /* no histogram; starting late with a non-zero value; 128-bit area */
    assert_int_equal(ifb_timeavg_init(&a, 1000, 7, 0, 0), 0);
    assert_int_equal(ifb_timeavg_max(&a), 7);
    assert_close(ifb_timeavg_mean(&a, 2000), 7, 0);
    ifb_timeavg_update(&a, 2000, 1ull << 40);
    ifb_time end = 2000 + (1ull << 60);
    assert_true(ifb_timeavg_area(&a, end) ==
                (unsigned __int128)7 * 1000 + ((unsigned __int128)1 << 100));
    double want = (7.0 * 1000 + ldexp(1, 100)) / (double)(end - 1000);
    assert_close(ifb_timeavg_mean(&a, end), want, want * 1e-15);
    ifb_timeavg_hist(&a, end, NULL); /* nbins 0: nothing to fill */
    ifb_timeavg_destroy(&a);

    /* one bin: everything lands in the open-ended bin */
    assert_int_equal(ifb_timeavg_init(&a, 0, 5, 1, 1), 0);
    ifb_timeavg_update(&a, 10, 0);
    ifb_time h1[1];
    ifb_timeavg_hist(&a, 30, h1);
    assert_int_equal(h1[0], 30);
    ifb_timeavg_destroy(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_summary_basic),
        cmocka_unit_test(test_summary_welford_vs_two_pass),
        cmocka_unit_test(test_samples_percentiles),
        cmocka_unit_test(test_samples_growth),
        cmocka_unit_test(test_samples_special_values),
        cmocka_unit_test(test_hist_log_buckets),
        cmocka_unit_test(test_hist_log_small_exact),
        cmocka_unit_test(test_hist_log_accuracy),
        cmocka_unit_test(test_hist_log_merge_and_clamp),
        cmocka_unit_test(test_timeavg_piecewise),
        cmocka_unit_test(test_timeavg_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
