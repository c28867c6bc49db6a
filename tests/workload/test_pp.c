/* Pipeline parallelism (issue 13, item 3): a 2- and a 4-stage decode step with M micro-batches
 * against the forward pipeline formula (stage times + activation sends + bubbles), activation
 * bytes per boundary exact, a PP prefill instance in a disaggregated deployment (KV bytes of
 * both stages), and the configuration errors. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/ideal.h"
#include "scenario/serving_cfg.h"
#include "workload/serving/serving.h"

typedef struct run {
    ifb_sim sim;
    ifb_ideal *ideal;
    ifb_serving *s;
    ifb_serving_cfg cfg;
    const ifb_serving_result *res;
} run;

static int load(const char *yaml, ifb_serving_cfg *out, ifb_err *e)
{
    ifb_cfg *c = ifb_cfg_load_string(yaml, "pp.yaml", e);
    assert_non_null(c);
    int rc = ifb_serving_cfg_load(c, "workload", out, e);
    ifb_cfg_free(c);
    return rc;
}

/* Servers x gpus on an ideal network: `bps` per GPU between servers (0: infinite), `lat`. */
static void run_cfg(run *w, const char *yaml, int servers, int gpus, uint64_t bps, ifb_time lat)
{
    memset(w, 0, sizeof *w);
    ifb_err e = {{0}};
    if (load(yaml, &w->cfg, &e))
        fail_msg("config: %s", e.msg);
    if (ifb_serving_create(&w->s, &w->cfg, servers, gpus, &e))
        fail_msg("create: %s", e.msg);
    ifb_sim_init(&w->sim, 1);
    w->sim.check = 1;
    ifb_ideal_cfg ic = ifb_ideal_cfg_zero(servers * gpus, gpus);
    ic.rate_bps = bps;
    ic.latency = lat;
    assert_int_equal(ifb_ideal_create(&w->ideal, &w->sim, &ic, &e), 0);
    if (ifb_serving_start(w->s, &w->sim, ifb_ideal_net(w->ideal), &e))
        fail_msg("start: %s", e.msg);
    ifb_stop st = ifb_sim_run(&w->sim);
    if (st != IFB_STOP_EMPTY)
        fail_msg("run stopped: %s %s", ifb_stop_name(st), w->sim.error);
    w->res = ifb_serving_finish(w->s);
    assert_true(w->res->done);
}

static void run_free(run *w)
{
    ifb_serving_destroy(w->s);
    ifb_serving_cfg_free(&w->cfg);
    ifb_ideal_destroy(w->ideal);
    ifb_sim_destroy(&w->sim);
}

/* Mixtral, one GPU per stage (ep 1: no communication inside a stage), 8 requests of equal length
 * started together: every decode step has M equal micro-batches. */
static void check_pipeline(int P, int M, uint64_t bps, ifb_time lat)
{
    char yaml[512];
    snprintf(yaml, sizeof yaml,
             "workload:\n  model: mixtral-8x7b-v0.1-config.json\n  gpu: H200\n"
             "  concurrency: 8\n  input_len: 64\n  output_len: 6\n  requests: 8\n  warmup: 0\n"
             "  parallel: {ep: 1, pp: %d, micro_batches: %d}\n",
             P, M);
    run w;
    run_cfg(&w, yaml, P, 1, bps, lat);
    size_t n;
    const ifb_serving_step *st = ifb_serving_steps(w.s, &n);
    int seen = 0;
    for (size_t i = 0; i < n; i++) {
        const ifb_serving_step *p = &st[i];
        if (p->prefill_tokens || p->decode_seqs != 8)
            continue;
        seen++;
        /* activations: each boundary carries every micro-batch's tokens x hidden x 2 B */
        uint64_t tokens = 8, mb = tokens / (uint64_t)M * 4096 * 2;
        assert_int_equal(p->bytes[IFB_TC_PP], (uint64_t)(P - 1) * tokens * 4096 * 2);
        double sum = 0, mx = 0;
        for (int q = 0; q < P; q++) {
            double t = ifb_time_to_us(p->pp_stage[q]);
            assert_true(t > 0);
            sum += t;
            mx = t > mx ? t : mx;
        }
        double send = bps ? ifb_time_to_us(lat) + (double)mb * 8 / (double)bps * 1e6 : 0;
        assert_true(send < mx); /* the sends hide behind the stages after the first */
        double formula = sum + (P - 1) * send + (M - 1) * mx;
        double got = ifb_time_to_us(p->end - p->start);
        if (fabs(got - formula) > 0.01 * formula)
            fail_msg("P %d M %d: step %.3f us, formula %.3f us (stages %.3f, max %.3f, send "
                     "%.3f)",
                     P, M, got, formula, sum, mx, send);
        /* the bubble: (P - 1) stage times of the slowest stage in a balanced pipeline */
        assert_true(fabs(ifb_time_to_us(p->pp_bubble) - (sum - mx)) < 0.01 * sum);
    }
    assert_true(seen >= 3);
    run_free(&w);
}

static void test_pipeline_formula(void **state)
{
    (void)state;
    check_pipeline(2, 2, 0, 0);
    check_pipeline(2, 4, 0, 0);
    check_pipeline(4, 4, 0, 0);
    check_pipeline(4, 8, 0, 0);
    /* activation sends over a 100 Gb/s, 5 us network */
    check_pipeline(2, 4, 100000000000ull, 5 * IFB_US);
    check_pipeline(4, 4, 100000000000ull, 5 * IFB_US);
}

/* A disaggregated deployment with a PP prefill instance: the KV cache of each prefill stage's
 * layers reaches the decode GPU, 32 layers x 8 KV heads x 128 x 2 x 2 B per token in all. */
static void test_pp_prefill_instance(void **state)
{
    (void)state;
    run w;
    run_cfg(&w,
            "workload:\n  model: mixtral-8x7b-v0.1-config.json\n  gpu: H200\n"
            "  concurrency: 4\n  input_len: uniform:32-96\n  output_len: 4\n  requests: 8\n"
            "  warmup: 0\n  deployment:\n    groups:\n"
            "      - {role: prefill, servers: 0-1, parallel: {ep: 1, pp: 2}}\n"
            "      - {role: decode, servers: 2, parallel: {ep: 1}}\n",
            3, 1, 100000000000ull, IFB_US);
    size_t n;
    const ifb_serving_req *q = ifb_serving_requests(w.s, &n);
    int seen = 0;
    for (size_t i = 0; i < n; i++) {
        if (q[i].kv_done == IFB_TIME_NEVER)
            continue;
        seen++;
        assert_int_equal(q[i].kv_bytes, (uint64_t)q[i].input * 32 * 8 * 128 * 2 * 2);
        assert_true(q[i].kv_done <= q[i].decode_start);
    }
    assert_true(seen >= 4);
    assert_true(w.res->bytes[IFB_TC_PP] > 0 && w.res->bytes[IFB_TC_KV] > 0);
    run_free(&w);
}

static void expect_error(const char *yaml, int servers, const char *n1, const char *n2)
{
    ifb_serving_cfg cfg;
    ifb_err e = {{0}};
    int rc = load(yaml, &cfg, &e);
    if (rc == 0) {
        ifb_serving *s = NULL;
        rc = ifb_serving_create(&s, &cfg, servers, 8, &e);
        ifb_serving_cfg_free(&cfg);
    }
    assert_int_equal(rc, -1);
    if (!strstr(e.msg, n1) || (n2 && !strstr(e.msg, n2)))
        fail_msg("message '%s' lacks '%s' / '%s'", e.msg, n1, n2 ? n2 : "");
}

static void test_bad_pp(void **state)
{
    (void)state;
#define MX "workload:\n  model: mixtral-8x7b-v0.1-config.json\n"
    expect_error(MX "  parallel: {pp: 2, pp_layers: [10, 20]}\n", 2, "workload.parallel.pp_layers",
                 "a sum of 30 for 32 layers");
    expect_error(MX "  parallel: {pp: 2, pp_layers: [32]}\n", 2, "workload.parallel.pp_layers",
                 "1 counts for 2 stages");
    expect_error(MX "  parallel: {pp: 2, pp_layers: [0, 32]}\n", 2, "pp_layers[0]", NULL);
    expect_error(MX "  parallel: {pp: 3}\n", 2, "workload.parallel.pp", "divisor of the 2 servers");
    expect_error(MX "  parallel: {pp: 2, overlap: true}\n", 2, "workload.parallel.overlap",
                 "pipeline");
#undef MX
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pipeline_formula),
        cmocka_unit_test(test_pp_prefill_instance),
        cmocka_unit_test(test_bad_pp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
