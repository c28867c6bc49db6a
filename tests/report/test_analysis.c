/* The experiment analysis (report/analysis.h) on synthetic run objects whose answers are known:
 * Student-t critical values against the tables, intervals computed by hand, points grouped by
 * series and x, ratios paired by seed (a difference that is constant across seeds is beyond
 * noise even when the seeds vary a lot), the baseline on InfiniBand, the kind of the x axis, and
 * the verdict naming the better configuration, the size of the difference, whether it exceeds
 * noise and the dominant reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/analysis.h"
#include "report/report.h"

static void test_t95(void **state)
{
    (void)state;
    assert_true(isnan(ifb_t95(0)));
    assert_true(fabs(ifb_t95(1) - 12.706) < 1e-3);
    assert_true(fabs(ifb_t95(2) - 4.303) < 1e-3);
    assert_true(fabs(ifb_t95(30) - 2.042) < 1e-3);
    /* above the table: t(0.975) from the expansion, against published values */
    assert_true(fabs(ifb_t95(40) - 2.0211) < 2e-4);
    assert_true(fabs(ifb_t95(60) - 2.0003) < 2e-4);
    assert_true(fabs(ifb_t95(120) - 1.9799) < 2e-4);
    assert_true(fabs(ifb_t95(100000) - 1.95998) < 1e-4);
    for (int df = 1; df < 200; df++) /* decreasing towards the normal quantile */
        assert_true(ifb_t95(df + 1) < ifb_t95(df) && ifb_t95(df) > 1.959963);
}

static void test_stat(void **state)
{
    (void)state;
    const double v[] = {1, NAN, 2, 3};
    ifb_stat s;
    ifb_stat_of(v, 4, &s);
    assert_int_equal(s.n, 3);
    assert_true(fabs(s.mean - 2) < 1e-12);
    assert_true(fabs(s.sd - 1) < 1e-12);
    double hw = 4.303 / sqrt(3.0);
    assert_true(fabs(s.lo - (2 - hw)) < 1e-9 && fabs(s.hi - (2 + hw)) < 1e-9);
    ifb_stat_of(v, 1, &s);
    assert_int_equal(s.n, 1);
    assert_true(s.mean == 1 && isnan(s.lo) && isnan(s.hi));
}

/* A run object as `infabric run` writes it, with the metrics the analysis reads. */
static json_t *run(const char *scenario, const char *fabric, const char *xkey, const char *x,
                   int seed, double tput, double tpot, double step, double compute, double retx)
{
    json_t *j = json_object();
    json_object_set_new(j, "scenario", json_string(scenario));
    json_object_set_new(j, "fabric", json_string(fabric));
    json_t *sw = json_object();
    if (xkey)
        json_object_set_new(sw, xkey, json_string(x));
    json_object_set_new(j, "sweep", sw);
    json_object_set_new(j, "seed", json_integer(seed));
    json_object_set_new(j, "status", json_string("complete"));
    json_t *m = json_object();
    json_object_set_new(m, "output_throughput", json_real(tput));
    json_object_set_new(m, "p90_tpot_ms", json_real(tpot));
    json_object_set_new(m, "p90_ttft_ms", json_real(100 * step));
    json_object_set_new(m, "p90_e2e_latency_ms", json_real(300 * tpot));
    json_object_set_new(m, "step_ms", json_real(step));
    json_object_set_new(m, "compute_ms", json_real(compute));
    json_object_set_new(m, "exposed_comm_ms", json_real(step - compute));
    json_object_set_new(m, "retransmitted_pkts", json_real(retx));
    json_object_set_new(m, "timeouts", json_real(retx > 0 ? 2 : 0));
    json_object_set_new(m, "pfc_paused_ms", json_real(0));
    json_object_set_new(m, "completed", json_integer(40));
    json_object_set_new(j, "metrics", m);
    return j;
}

static void free_runs(json_t **r, int n)
{
    for (int i = 0; i < n; i++)
        json_decref(r[i]);
}

/* Ethernet 10% faster than InfiniBand at every seed, although the seeds differ by 30%. */
static void test_paired_ratio_beyond_noise(void **state)
{
    (void)state;
    json_t *r[12];
    int n = 0;
    const char *xs[] = {"20", "40"};
    const double base[] = {1000, 1300, 700};
    for (int sc = 0; sc < 2; sc++)
        for (int x = 0; x < 2; x++)
            for (int s = 0; s < 3; s++) {
                double t = base[s] * (x + 1) * (sc == 0 ? 1.1 : 1.0);
                double step = sc == 0 ? 40 : 44; /* the IB step is longer: exposed comm */
                r[n++] =
                    run(sc == 0 ? "eth" : "ib", sc == 0 ? "roce" : "infiniband",
                        "workload.concurrency", xs[x], 1 + s, t, step, step, 38, sc == 0 ? 0 : 500);
            }
    ifb_analysis a;
    ifb_err e = {{0}};
    assert_int_equal(ifb_analysis_build(&a, r, n, &e), 0);
    assert_string_equal(a.xkey, "workload.concurrency");
    assert_int_equal(a.xkind, IFB_X_NUMERIC);
    assert_int_equal(a.ns, 2);
    assert_int_equal(a.nx, 2);
    assert_int_equal(a.seeds, 3);
    assert_int_equal(a.mode, IFB_CMP_SERIES);
    assert_int_equal(a.baseline, 1); /* the InfiniBand series, although it is listed second */
    assert_int_equal(a.nr, 2);
    /* the unpaired intervals overlap widely... */
    const ifb_an_point *pe = ifb_an_point_at(&a, 0, 0), *pi = ifb_an_point_at(&a, 1, 0);
    assert_true(pe->m[IFB_MX_OUTPUT_THROUGHPUT].lo < pi->m[IFB_MX_OUTPUT_THROUGHPUT].hi);
    /* ...but paired by seed the ratio is exactly 1.1 with no spread: beyond noise */
    const ifb_an_ratio *q = &a.r[0];
    assert_int_equal(q->num_s, 0);
    assert_int_equal(q->den_s, 1);
    assert_true(fabs(q->r[IFB_MX_OUTPUT_THROUGHPUT].mean - 1.1) < 1e-12);
    assert_int_equal(q->exceeds[IFB_MX_OUTPUT_THROUGHPUT], 1);
    assert_true(fabs(q->r[IFB_MX_P90_TPOT].mean - 40.0 / 44) < 1e-12);
    const char *v = a.verdict;
    assert_non_null(strstr(v, "eth against the baseline ib"));
    assert_non_null(strstr(v, "Output token throughput: eth is 10.0% higher (better"));
    assert_non_null(strstr(v, "beyond run-to-run noise at every point"));
    assert_non_null(strstr(v, "P90 TPOT: eth is 9.1% lower (better"));
    /* the step differs in exposed communication, and the slower side retransmits */
    assert_non_null(strstr(v, "dominant reason is retransmissions (ib: 500 packets"));
    assert_non_null(strstr(v, "Verdict: eth is better than ib on 4 headline metrics, beyond "
                              "run-to-run noise, by at most 10.0%"));
    assert_non_null(strstr(v, "rest on 40 measured requests"));
    ifb_analysis_free(&a);
    free_runs(r, n);
}

/* Differences that change sign across seeds stay within noise; one seed: noise unknown. */
static void test_within_noise_and_one_seed(void **state)
{
    (void)state;
    json_t *r[6];
    int n = 0;
    const double d[] = {1.02, 0.97, 1.01};
    for (int s = 0; s < 3; s++) {
        r[n++] = run("a", "roce", NULL, NULL, s, 1000 * d[s], 30, 40, 38, 0);
        r[n++] = run("b", "infiniband", NULL, NULL, s, 1000, 30, 40, 38, 0);
    }
    ifb_analysis a;
    ifb_err e = {{0}};
    assert_int_equal(ifb_analysis_build(&a, r, n, &e), 0);
    assert_int_equal(a.xkind, IFB_X_NONE);
    assert_int_equal(a.nr, 1);
    assert_int_equal(a.r[0].exceeds[IFB_MX_OUTPUT_THROUGHPUT], 0);
    assert_non_null(strstr(a.verdict, "within run-to-run noise"));
    assert_non_null(strstr(a.verdict, "Verdict: a and b are equal on every headline metric"));
    assert_non_null(strstr(a.verdict, "so the step time is the same"));
    ifb_analysis_free(&a);
    /* the first seed alone: a 2% difference, noise not measured */
    json_t *one[2] = {r[0], r[1]};
    assert_int_equal(ifb_analysis_build(&a, one, 2, &e), 0);
    assert_int_equal(a.r[0].exceeds[IFB_MX_OUTPUT_THROUGHPUT], -1);
    assert_non_null(strstr(a.verdict, "noise not measured"));
    assert_non_null(strstr(a.verdict, "One seed per point"));
    ifb_analysis_free(&a);
    free_runs(r, n);
}

/* A sweep over a categorical key with one scenario compares its values. */
static void test_categorical_and_size_x(void **state)
{
    (void)state;
    json_t *r[4];
    r[0] = run("s", "roce", "fabric.load_balancing", "ecmp", 1, 1000, 30, 40, 30, 0);
    r[1] = run("s", "roce", "fabric.load_balancing", "spray", 1, 1250, 24, 32, 30, 0);
    ifb_analysis a;
    ifb_err e = {{0}};
    assert_int_equal(ifb_analysis_build(&a, r, 2, &e), 0);
    assert_int_equal(a.xkind, IFB_X_CATEGORICAL);
    assert_int_equal(a.mode, IFB_CMP_X);
    assert_int_equal(a.nr, 1);
    assert_true(fabs(a.r[0].r[IFB_MX_OUTPUT_THROUGHPUT].mean - 1.25) < 1e-12);
    assert_non_null(strstr(a.verdict, "load_balancing=spray against the baseline "
                                      "load_balancing=ecmp"));
    assert_non_null(strstr(a.verdict, "25.0% higher (better"));
    assert_non_null(strstr(a.verdict, "dominant reason is exposed communication"));
    ifb_analysis_free(&a);
    free_runs(r, 2);
    r[0] = run("s", "roce", "fabric.mtu", "1024B", 1, 1, 1, 1, 1, 0);
    r[1] = run("s", "roce", "fabric.mtu", "4KiB", 1, 1, 1, 1, 1, 0);
    assert_int_equal(ifb_analysis_build(&a, r, 2, &e), 0);
    assert_int_equal(a.xkind, IFB_X_SIZE);
    assert_true(a.x[0].v == 1024 && a.x[1].v == 4096);
    ifb_analysis_free(&a);
    free_runs(r, 2);
    /* a load sweep of one scenario has nothing to compare */
    r[0] = run("s", "roce", "workload.concurrency", "20", 1, 1, 1, 1, 1, 0);
    r[1] = run("s", "roce", "workload.concurrency", "40", 1, 2, 1, 1, 1, 0);
    assert_int_equal(ifb_analysis_build(&a, r, 2, &e), 0);
    assert_int_equal(a.mode, IFB_CMP_NONE);
    assert_int_equal(a.nr, 0);
    assert_non_null(strstr(a.verdict, "nothing to compare"));
    ifb_analysis_free(&a);
    free_runs(r, 2);
}

/* Failed runs count in their point but add no figure; a point with none measured has none. */
static void test_failed_runs(void **state)
{
    (void)state;
    json_t *r[3];
    r[0] = run("a", "roce", "workload.concurrency", "4", 1, 100, 1, 1, 1, 0);
    r[1] = json_pack("{s:s, s:s, s:{s:s}, s:s, s:s}", "scenario", "a", "fabric", "roce", "sweep",
                     "workload.concurrency", "4", "status", "failed", "error", "PFC deadlock");
    r[2] = run("a", "roce", "workload.concurrency", "4", 3, 300, 1, 1, 1, 0);
    ifb_analysis a;
    ifb_err e = {{0}};
    assert_int_equal(ifb_analysis_build(&a, r, 3, &e), 0);
    const ifb_an_point *p = ifb_an_point_at(&a, 0, 0);
    assert_int_equal(p->nruns, 3);
    assert_int_equal(p->measured, 2);
    assert_int_equal(p->m[IFB_MX_OUTPUT_THROUGHPUT].n, 2);
    assert_true(fabs(p->m[IFB_MX_OUTPUT_THROUGHPUT].mean - 200) < 1e-12);
    ifb_analysis_free(&a);
    free_runs(r, 3);
}

/* The sweep label of the tables and runs.csv: every member in order, last key component,
 * a value that is not a string as "?", "" without a sweep; never NULL. */
static void test_sweep_label(void **state)
{
    (void)state;
    json_t *j = json_pack("{s:{s:s, s:s, s:i, s:s}}", "sweep", "workload.concurrency", "20",
                          "fabric.mtu", "4096", "fabric.nic.rto", 7, "seed", "x=y");
    char *s = ifb_report_sweep_label(j);
    assert_string_equal(s, "concurrency=20 mtu=4096 rto=? seed=x=y");
    free(s);
    json_t *none = json_pack("{s:s}", "scenario", "a");
    s = ifb_report_sweep_label(none);
    assert_string_equal(s, "");
    free(s);
    json_t *one = json_pack("{s:{s:s}}", "sweep", "k", "");
    s = ifb_report_sweep_label(one);
    assert_string_equal(s, "k=");
    free(s);
    json_decref(j);
    json_decref(none);
    json_decref(one);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_t95),
        cmocka_unit_test(test_stat),
        cmocka_unit_test(test_paired_ratio_beyond_noise),
        cmocka_unit_test(test_within_noise_and_one_seed),
        cmocka_unit_test(test_categorical_and_size_x),
        cmocka_unit_test(test_failed_runs),
        cmocka_unit_test(test_sweep_label),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
