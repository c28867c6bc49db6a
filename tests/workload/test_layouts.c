/* More layouts (issue 13, item 5): DP attention with a tensor-parallel MoE (dp-tp: all-gather,
 * split experts, reduce-scatter per MoE layer, tokens padded to the group's largest rank) with
 * exact collective bytes per step and memory, and EP inside a node with DP across nodes (dp-ep
 * with ep = GPUs per server: no all-to-all byte leaves a server). */
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

static void run_cfg(run *w, const char *yaml, int servers)
{
    memset(w, 0, sizeof *w);
    ifb_err e = {{0}};
    ifb_cfg *c = ifb_cfg_load_string(yaml, "layouts.yaml", &e);
    assert_non_null(c);
    if (ifb_serving_cfg_load(c, "workload", &w->cfg, &e))
        fail_msg("config: %s", e.msg);
    ifb_cfg_free(c);
    if (ifb_serving_create(&w->s, &w->cfg, servers, 8, &e))
        fail_msg("create: %s", e.msg);
    ifb_sim_init(&w->sim, 1);
    ifb_ideal_cfg ic = ifb_ideal_cfg_zero(servers * 8, 8);
    assert_int_equal(ifb_ideal_create(&w->ideal, &w->sim, &ic, &e), 0);
    assert_int_equal(ifb_serving_start(w->s, &w->sim, ifb_ideal_net(w->ideal), &e), 0);
    assert_int_equal(ifb_sim_run(&w->sim), IFB_STOP_EMPTY);
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

/* Mixtral (32 MoE layers, hidden 4096) with dp-tp over the 8 GPUs of each server: a decode step
 * of one request per GPU moves, per MoE layer, an all-gather and a reduce-scatter of n - 1 = 7
 * steps of one padded share (1 token x 4096 x 2 B) from each of the 8 ranks. */
static void test_dp_tp_bytes(void **state)
{
    (void)state;
    for (int servers = 1; servers <= 2; servers++) {
        char yaml[400];
        snprintf(yaml, sizeof yaml,
                 "workload:\n  model: mixtral-8x7b-v0.1-config.json\n  concurrency: %d\n"
                 "  input_len: 32\n  output_len: 5\n  requests: %d\n  warmup: 0\n"
                 "  parallel: {layout: dp-tp, tp: 8}\n",
                 8 * servers, 8 * servers);
        run w;
        run_cfg(&w, yaml, servers);
        const ifb_parallel *p = ifb_serving_layout(w.s);
        assert_int_equal(p->dp, 8 * servers);
        assert_int_equal(p->moe_tp, 8);
        size_t n;
        const ifb_serving_step *st = ifb_serving_steps(w.s, &n);
        int seen = 0;
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(st[i].end - st[i].start, st[i].compute_only); /* zero-time net */
            if (st[i].prefill_tokens || st[i].decode_seqs != 8 * servers)
                continue;
            seen++;
            uint64_t want = (uint64_t)servers * 32 * 2 * 8 * 7 * (1 * 4096 * 2);
            assert_int_equal(st[i].bytes[IFB_TC_COLL], want);
            assert_int_equal(st[i].bytes[IFB_TC_A2A], 0);
            assert_int_equal(st[i].nic_bytes, 0); /* groups stay inside a server */
        }
        assert_true(seen >= 3);
        run_free(&w);
    }
}

/* dp-tp memory: attention and the rest whole on every GPU, the experts split 8 ways: between
 * the tp 8 layout's (everything split) and dp-ep's with ep 1 (everything whole). */
static void test_dp_tp_memory(void **state)
{
    (void)state;
    const char *lay[3] = {"{layout: tp, tp: 8}", "{layout: dp-tp, tp: 8}", "{ep: 1}"};
    double wb[3];
    for (int i = 0; i < 3; i++) {
        char yaml[256];
        snprintf(yaml, sizeof yaml,
                 "workload:\n  model: mixtral-8x7b-v0.1-config.json\n  gpu: H200\n"
                 "  parallel: %s\n",
                 lay[i]);
        ifb_serving_cfg cfg;
        ifb_err e = {{0}};
        ifb_cfg *c = ifb_cfg_load_string(yaml, "m.yaml", &e);
        assert_int_equal(ifb_serving_cfg_load(c, "workload", &cfg, &e), 0);
        ifb_cfg_free(c);
        ifb_serving *s;
        if (ifb_serving_create(&s, &cfg, 1, 8, &e))
            fail_msg("%s: %s", lay[i], e.msg);
        wb[i] = ifb_serving_layout(s)->weight_bytes;
        ifb_serving_destroy(s);
        ifb_serving_cfg_free(&cfg);
    }
    assert_true(wb[0] < wb[1] && wb[1] < wb[2]);
    /* Mixtral's experts are 45.1 of its 46.7 B parameters: dp-tp keeps the other 1.6 B whole */
    double nonexp = wb[2] - (wb[2] - wb[1]) * 8.0 / 7.0;
    assert_true(nonexp > 1.4e9 * 2 && nonexp < 1.8e9 * 2);
}

/* EP inside a node, DP across nodes: R1 with dp-ep and ep 8 on 2 servers keeps every all-to-all
 * byte on NVLink; ep 16 sends some over the NICs. */
static void test_ep_in_node(void **state)
{
    (void)state;
    uint64_t nic[2];
    for (int i = 0; i < 2; i++) {
        char yaml[300];
        snprintf(yaml, sizeof yaml,
                 "workload:\n  gpu: H200\n  concurrency: 16\n"
                 "  input_len: 32\n  output_len: 4\n  requests: 16\n  warmup: 0\n"
                 "  parallel: {ep: %d}\n",
                 i ? 16 : 8);
        run w;
        run_cfg(&w, yaml, 2);
        nic[i] = w.res->nic_bytes;
        assert_true(w.res->bytes[IFB_TC_A2A] > 0);
        run_free(&w);
    }
    assert_int_equal(nic[0], 0);
    assert_true(nic[1] > 0);
}

static void test_bad_dp_tp(void **state)
{
    (void)state;
    ifb_serving_cfg cfg;
    ifb_err e = {{0}};
    ifb_cfg *c = ifb_cfg_load_string(
        "workload:\n  model: mixtral-8x7b-v0.1-config.json\n  parallel: {layout: dp-tp, tp: 3}\n",
        "b.yaml", &e);
    assert_int_equal(ifb_serving_cfg_load(c, "workload", &cfg, &e), 0);
    ifb_cfg_free(c);
    ifb_serving *s = NULL;
    assert_int_equal(ifb_serving_create(&s, &cfg, 2, 8, &e), -1);
    assert_non_null(strstr(e.msg, "workload.parallel.tp"));
    ifb_serving_cfg_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dp_tp_bytes),
        cmocka_unit_test(test_dp_tp_memory),
        cmocka_unit_test(test_ep_in_node),
        cmocka_unit_test(test_bad_dp_tp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
