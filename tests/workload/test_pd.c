/* Deployments of instance groups and the prefill-to-decode KV-cache transfer (issue 13, items 1
 * and 2): KV bytes per request against the closed form of each attention kind and layout pair,
 * TTFT of a lone request against its components, the transfer time against the network's rate
 * (ideal network: latency + bytes / rate; packet fabric: twice the NIC rate, half the time),
 * Little's law per stage in a closed loop, KV before the first decode step, per-group TGR, the
 * router policies, and the configuration errors. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/fabric/fabric.h"
#include "net/ideal.h"
#include "scenario/serving_cfg.h"
#include "topo/topo.h"
#include "workload/serving/serving.h"

static int load(const char *yaml, ifb_serving_cfg *out, ifb_err *e)
{
    ifb_cfg *c = ifb_cfg_load_string(yaml, "pd.yaml", e);
    assert_non_null(c);
    int rc = ifb_serving_cfg_load(c, "workload", out, e);
    if (rc == 0) {
        ifb_err u;
        if (ifb_cfg_check_unused(c, &u))
            fail_msg("unused key: %s", u.msg);
    }
    ifb_cfg_free(c);
    return rc;
}

typedef struct run {
    ifb_sim sim;
    ifb_topo topo;
    ifb_fabric *fab;
    ifb_ideal *ideal;
    ifb_serving *s;
    ifb_serving_cfg cfg;
    const ifb_serving_result *res;
} run;

/* net: 0 zero-time ideal network; 1 ideal at `bps` between servers with `lat`; 2 the packet
 * fabric (one switch, 4 NICs per server at `bps`). */
static void run_cfg(run *w, const char *yaml, int servers, int gpus, int net_kind, uint64_t bps,
                    ifb_time lat, int check)
{
    memset(w, 0, sizeof *w);
    ifb_err e = {{0}};
    if (load(yaml, &w->cfg, &e))
        fail_msg("config: %s", e.msg);
    if (ifb_serving_create(&w->s, &w->cfg, servers, gpus, &e))
        fail_msg("create: %s", e.msg);
    ifb_sim_init(&w->sim, 1);
    w->sim.check = check;
    ifb_net *net;
    if (net_kind == 2) {
        ifb_topo_init(&w->topo);
        ifb_server_spec sp = {.gpus_per_server = gpus,
                              .nics_per_server = 4,
                              .nic_bps = bps,
                              .host_delay = 25 * IFB_NS,
                              .nvlink_bps = 3600000000000ull,
                              .nvlink_latency = IFB_US};
        assert_int_equal(ifb_topo_single_switch(&w->topo, servers, &sp, 64, &e), 0);
        assert_int_equal(ifb_topo_route(&w->topo, &e), 0);
        ifb_fabric_cfg fc;
        ifb_fabric_cfg_default(&fc);
        fc.record_messages = 0;
        fc.tclass[IFB_TC_KV].qps = (uint16_t)w->cfg.deploy.kv.connections;
        assert_int_equal(ifb_fabric_create(&w->fab, &w->sim, &w->topo, &fc, &e), 0);
        net = ifb_fabric_net(w->fab);
    } else {
        ifb_ideal_cfg ic = ifb_ideal_cfg_zero(servers * gpus, gpus);
        if (net_kind == 1) {
            ic.rate_bps = bps;
            ic.latency = lat;
        }
        assert_int_equal(ifb_ideal_create(&w->ideal, &w->sim, &ic, &e), 0);
        net = ifb_ideal_net(w->ideal);
    }
    if (ifb_serving_start(w->s, &w->sim, net, &e))
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
    if (w->fab) {
        ifb_fabric_destroy(w->fab);
        ifb_topo_free(&w->topo);
    }
    ifb_ideal_destroy(w->ideal);
    ifb_sim_destroy(&w->sim);
}

/* Every request that reached its decode instance got `per_token` bytes per prompt token. */
static void check_kv_bytes(const char *yaml, int servers, int gpus, uint64_t per_token)
{
    run w;
    run_cfg(&w, yaml, servers, gpus, 0, 0, 0, 1);
    size_t n;
    const ifb_serving_req *q = ifb_serving_requests(w.s, &n);
    int seen = 0;
    for (size_t i = 0; i < n; i++) {
        if (q[i].kv_done == IFB_TIME_NEVER)
            continue;
        seen++;
        if (q[i].kv_bytes != (uint64_t)q[i].input * per_token)
            fail_msg("request %zu: %llu KV bytes for %lld tokens, expected %llu per token", i,
                     (unsigned long long)q[i].kv_bytes, (long long)q[i].input,
                     (unsigned long long)per_token);
    }
    assert_true(seen >= 4);
    assert_true(w.res->bytes[IFB_TC_KV] > 0);
    run_free(&w);
}

#define SMALL                                                                                      \
    "  concurrency: 4\n  input_len: uniform:32-160\n  output_len: uniform:2-4\n  requests: 8\n"    \
    "  warmup: 0\n"

static void test_kv_bytes_mla(void **state)
{
    (void)state;
    /* DeepSeek-R1 (config.json): kv_lora_rank 512 + qk_rope_head_dim 64 values per token per
     * layer, 61 layers; BF16 2 B, FP8 1 B; one full copy per destination rank. */
    const uint64_t L = 61, bf16 = (512 + 64) * 2, fp8 = 512 + 64;
    assert_int_equal(bf16, 1152);
    const char *dpep = "workload:\n  gpu: H200\n" SMALL "  deployment:\n    groups:\n"
                       "      - {role: prefill, servers: 0}\n"
                       "      - {role: decode, servers: 1}\n";
    check_kv_bytes(dpep, 2, 8, L * bf16);
    const char *dpep8 =
        "workload:\n  gpu: H200\n  kv_dtype: fp8\n" SMALL "  deployment:\n    groups:\n"
        "      - {role: prefill, servers: 0}\n"
        "      - {role: decode, servers: 1}\n";
    check_kv_bytes(dpep8, 2, 8, L * fp8);
    /* dp-ep prefill -> TP8 decode: each of the 8 decode ranks gets a full latent copy */
    const char *tp = "workload:\n  gpu: H200\n" SMALL "  deployment:\n    groups:\n"
                     "      - {role: prefill, servers: 0}\n"
                     "      - {role: decode, servers: 1, parallel: {layout: tp, tp: 8}}\n";
    check_kv_bytes(tp, 2, 8, L * bf16 * 8);
}

static void test_kv_bytes_gqa(void **state)
{
    (void)state;
    /* Qwen3-235B-A22B: 94 layers, 4 KV heads of 128, BF16: 2 x 4 x 128 x 2 = 2048 B per token
     * and layer, split by heads across TP ranks. TP4 -> TP4: one head each, 2048 in total;
     * TP4 -> TP8: each decode rank needs one head (replicated twice): 8 x 512 = 4096. */
    const uint64_t L = 94, head = 2 * 128 * 2;
    const char *g44 = "workload:\n  model: qwen3-235b-a22b-config.json\n  gpu: B200\n" SMALL
                      "  deployment:\n    groups:\n"
                      "      - {role: prefill, servers: 0, gpus: 0-3,"
                      " parallel: {layout: tp, tp: 4}}\n"
                      "      - {role: decode, servers: 0, gpus: 4-7,"
                      " parallel: {layout: tp, tp: 4}}\n";
    check_kv_bytes(g44, 1, 8, L * head * 4);
    const char *g48 = "workload:\n  model: qwen3-235b-a22b-config.json\n  gpu: B200\n" SMALL
                      "  deployment:\n    groups:\n"
                      "      - {role: prefill, servers: 0, gpus: 0-3,"
                      " parallel: {layout: tp, tp: 4}}\n"
                      "      - {role: decode, servers: 1, parallel: {layout: tp, tp: 8}}\n";
    check_kv_bytes(g48, 2, 8, L * head * 8);
    /* Mixtral-8x7B: 32 layers, 8 KV heads of 128: dp-ep (all heads on one GPU) -> TP2 (4 heads
     * each) moves the cache once, 32 x 8 x 512 B per token; TP2 -> TP4 likewise. */
    const uint64_t ml = 32, mh = 8;
    const char *m1 =
        "workload:\n  model: mixtral-8x7b-v0.1-config.json\n" SMALL "  deployment:\n    groups:\n"
        "      - {role: prefill, servers: 0, parallel: {ep: 8}}\n"
        "      - {role: decode, servers: 1, gpus: 0-1,"
        " parallel: {layout: tp, tp: 2}}\n";
    check_kv_bytes(m1, 2, 8, ml * mh * head);
    const char *m2 =
        "workload:\n  model: mixtral-8x7b-v0.1-config.json\n" SMALL "  deployment:\n    groups:\n"
        "      - {role: prefill, servers: 0, gpus: 0-1,"
        " parallel: {layout: tp, tp: 2}}\n"
        "      - {role: decode, servers: 1, gpus: 0-3,"
        " parallel: {layout: tp, tp: 4}}\n";
    check_kv_bytes(m2, 2, 8, ml * mh * head);
}

#define LONE                                                                                       \
    "workload:\n  model: mixtral-8x7b-v0.1-config.json\n  concurrency: 1\n"                        \
    "  input_len: 2000\n  output_len: 3\n  requests: 1\n  warmup: 0\n"                             \
    "  deployment:\n    groups:\n"                                                                 \
    "      - {role: prefill, servers: 0, parallel: {ep: 8}}\n"                                     \
    "      - {role: decode, servers: 1, parallel: {ep: 8}}\n"

/* The steps of engine `eng` in a run, first one starting at or after t. */
static const ifb_serving_step *step_at(run *w, int eng, ifb_time t)
{
    size_t n;
    const ifb_serving_step *st = ifb_serving_steps(w->s, &n);
    for (size_t i = 0; i < n; i++)
        if (st[i].engine == eng && st[i].start >= t)
            return &st[i];
    fail_msg("no step of engine %d after %.3f us", eng, ifb_time_to_us(t));
    return NULL;
}

/* TTFT of a lone request = its prefill step + KV transfer + its first decode step. */
static void check_lone(run *w, double *xfer_us)
{
    size_t n;
    const ifb_serving_req *q = ifb_serving_requests(w->s, &n);
    const ifb_serving_req *r = &q[0];
    assert_true(r->finish != IFB_TIME_NEVER);
    const ifb_serving_step *p = step_at(w, 0, r->arrival);
    const ifb_serving_step *d = step_at(w, 1, r->kv_done);
    assert_int_equal(p->end, r->prefill_end);
    assert_int_equal(d->start, r->decode_start);
    double pre = ifb_time_to_us(p->end - p->start), x = ifb_time_to_us(r->kv_done - r->kv_start);
    double dec = ifb_time_to_us(d->end - d->start);
    double ttft = ifb_time_to_us(r->first - r->arrival), closed = pre + x + dec;
    if (fabs(ttft - closed) > 0.01 * closed)
        fail_msg("TTFT %.3f us vs prefill %.3f + transfer %.3f + decode step %.3f = %.3f", ttft,
                 pre, x, dec, closed);
    *xfer_us = x;
}

static void test_lone_request_ttft(void **state)
{
    (void)state;
    run w;
    double x;
    run_cfg(&w, LONE, 2, 8, 0, 0, 0, 1);
    check_lone(&w, &x);
    assert_true(x == 0); /* zero-time network: the transfer term vanishes */
    run_free(&w);
    /* ideal network at 100 Gb/s per GPU, 2 us: one source GPU to one destination GPU, the
     * chunks pipelined: latency + bytes / rate */
    run_cfg(&w, LONE, 2, 8, 1, 100000000000ull, 2 * IFB_US, 1);
    check_lone(&w, &x);
    size_t n;
    const ifb_serving_req *q = ifb_serving_requests(w.s, &n);
    uint64_t bytes = 2000ull * 32 * 8 * 2 * 128 * 2; /* Mixtral: tokens x layers x KV bytes */
    assert_int_equal(q[0].kv_bytes, bytes);
    double expect = 2.0 + (double)bytes * 8 / 100e9 * 1e6;
    if (fabs(x - expect) > 0.01 * expect)
        fail_msg("transfer %.3f us, closed form %.3f us", x, expect);
    run_free(&w);
    /* first_token: prefill counts the prefill's token: TTFT ends with the prefill step */
    run_cfg(&w, LONE "    kv_transfer: {first_token: prefill}\n", 2, 8, 1, 100000000000ull,
            2 * IFB_US, 0);
    q = ifb_serving_requests(w.s, &n);
    assert_int_equal(q[0].first, q[0].prefill_end);
    assert_true(q[0].kv_done > q[0].first);
    run_free(&w);
}

/* On the packet fabric a large transfer is bound by the NIC: twice the rate, half the time. */
static void test_kv_bandwidth_bound(void **state)
{
    (void)state;
    const char *y = "workload:\n  model: mixtral-8x7b-v0.1-config.json\n  concurrency: 1\n"
                    "  input_len: 8000\n  output_len: 2\n  requests: 1\n  warmup: 0\n"
                    "  deployment:\n    groups:\n"
                    "      - {role: prefill, servers: 0, parallel: {ep: 8}}\n"
                    "      - {role: decode, servers: 1, parallel: {ep: 8}}\n";
    double t[2];
    for (int k = 0; k < 2; k++) {
        run w;
        run_cfg(&w, y, 2, 8, 2, k ? 200000000000ull : 100000000000ull, 0, 1);
        size_t n;
        const ifb_serving_req *q = ifb_serving_requests(w.s, &n);
        t[k] = ifb_time_to_us(q[0].kv_done - q[0].kv_start);
        run_free(&w);
    }
    double ratio = t[0] / t[1];
    if (fabs(ratio - 2) > 0.1)
        fail_msg("100G %.1f us, 200G %.1f us: ratio %.3f, expected 2 within 5%%", t[0], t[1],
                 ratio);
}

/* Closed loop: Little's law per stage, N in the system split over the stages, KV before decode
 * (also checked by the --check invariant), per-group TGR adding up to the total. */
static void test_closed_loop_stages(void **state)
{
    (void)state;
    run w;
    run_cfg(&w,
            "workload:\n  model: mixtral-8x7b-v0.1-config.json\n  concurrency: 12\n"
            "  input_len: uniform:64-512\n  output_len: uniform:4-24\n  requests: 600\n"
            "  warmup: 24\n"
            "  deployment:\n    groups:\n"
            "      - {role: prefill, servers: 0, gpus: 0-3, count: 2,"
            " parallel: {layout: tp, tp: 2}}\n"
            "      - {role: decode, servers: 1, parallel: {ep: 8}}\n",
            2, 8, 1, 100000000000ull, 2 * IFB_US, 1);
    const ifb_serving_result *r = w.res;
    assert_true(r->disaggregated);
    size_t n;
    const ifb_serving_req *q = ifb_serving_requests(w.s, &n);
    double w_stage[3] = {0, 0, 0};
    uint64_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (!q[i].measured)
            continue;
        m++;
        assert_true(q[i].kv_done != IFB_TIME_NEVER && q[i].kv_done <= q[i].decode_start);
        assert_true(q[i].prefill_end <= q[i].kv_start && q[i].kv_start <= q[i].kv_done);
        w_stage[0] += (double)(q[i].prefill_end - q[i].arrival) / IFB_SEC;
        w_stage[1] += (double)(q[i].kv_done - q[i].prefill_end) / IFB_SEC;
        w_stage[2] += (double)(q[i].finish - q[i].kv_done) / IFB_SEC;
    }
    assert_int_equal(m, r->measured);
    double sum = 0;
    for (int k = 0; k < 3; k++) {
        double little = r->req_throughput * w_stage[k] / (double)m;
        double l = r->mean_in_stage[k];
        sum += l;
        if (fabs(little - l) > 0.02 * l)
            fail_msg("stage %d: L %.4f, X x W = %.4f", k, l, little);
    }
    if (fabs(sum - 12) > 1e-6)
        fail_msg("stages %.6f + %.6f + %.6f = %.6f, N = 12 (mean in system %.6f)",
                 r->mean_in_stage[0], r->mean_in_stage[1], r->mean_in_stage[2], sum,
                 r->mean_in_system);
    assert_true(r->mean_in_stage[1] > 0);
    /* per group: the decode group delivers every token (first_token: decode) */
    assert_int_equal(r->ngroups, 2);
    assert_string_equal(r->groups[1].name, "decode");
    assert_true(r->groups[0].tgr == 0);
    assert_true(fabs(r->groups[1].tgr - r->tgr) < 1e-9 * r->tgr);
    assert_true(r->groups[0].prefill_tps > 0 && r->groups[1].prefill_tps == 0);
    assert_true(r->groups[0].step_busy > 0 && r->groups[0].step_busy <= 1 + 1e-9);
    assert_true(r->groups[1].gpu_busy > 0 && r->groups[1].gpu_busy <= 1 + 1e-9);
    assert_int_equal(r->groups[0].engines, 2);
    assert_int_equal(r->groups[0].instances, 2);
    run_free(&w);
}

/* Round-robin sends arrivals to every prefill instance in turn. */
static void test_router_round_robin(void **state)
{
    (void)state;
    run w;
    run_cfg(&w,
            "workload:\n  model: mixtral-8x7b-v0.1-config.json\n  concurrency: 8\n"
            "  input_len: 64\n  output_len: 2\n  requests: 8\n  warmup: 0\n"
            "  deployment:\n    router: round-robin\n    groups:\n"
            "      - {role: prefill, servers: 0, gpus: 0-3, count: 2,"
            " parallel: {layout: tp, tp: 2}}\n"
            "      - {role: decode, servers: 1, parallel: {ep: 8}}\n",
            2, 8, 0, 0, 0, 0);
    size_t n;
    const ifb_serving_req *q = ifb_serving_requests(w.s, &n);
    for (size_t i = 0; i < 8; i++)
        assert_int_equal(q[i].p_inst, (int)(i % 2));
    /* decode instances 2..9 (8 dp-ep ranks), in turn as the prefills end */
    int seen[16] = {0};
    for (size_t i = 0; i < 8; i++) {
        assert_true(q[i].d_inst >= 2 && q[i].d_inst < 10);
        seen[q[i].d_inst]++;
    }
    for (int i = 2; i < 10; i++)
        assert_int_equal(seen[i], 1);
    run_free(&w);
}

static void expect_error(const char *yaml, int servers, int gpus, const char *n1, const char *n2)
{
    ifb_serving_cfg cfg;
    ifb_err e = {{0}};
    int rc = load(yaml, &cfg, &e);
    if (rc == 0) {
        ifb_serving *s = NULL;
        rc = ifb_serving_create(&s, &cfg, servers, gpus, &e);
        assert_null(s);
        ifb_serving_cfg_free(&cfg);
    }
    assert_int_equal(rc, -1);
    if (!strstr(e.msg, n1) || (n2 && !strstr(e.msg, n2)))
        fail_msg("message '%s' lacks '%s' / '%s'", e.msg, n1, n2 ? n2 : "");
}

static void test_bad_deployments(void **state)
{
    (void)state;
#define MX "workload:\n  model: mixtral-8x7b-v0.1-config.json\n  deployment:\n"
    expect_error(MX "    groups:\n      - {role: prefill, servers: []}\n"
                    "      - {role: decode, servers: 1}\n",
                 2, 8, "workload.deployment.groups[0].servers", "no GPUs");
    expect_error(MX "    groups:\n      - {role: prefill}\n      - {role: decode, servers: 1}\n", 2,
                 8, "workload.deployment.groups[0].servers", "no GPUs");
    expect_error(MX "    groups:\n      - {role: prefill, servers: 0}\n"
                    "      - {role: decode, servers: 0-1}\n",
                 2, 8, "workload.deployment.groups[1].servers", "server 0 GPU 0");
    expect_error(MX "    groups:\n      - {role: prefill, servers: 0, gpus: 0-4}\n"
                    "      - {role: decode, servers: 0, gpus: 4-7}\n",
                 1, 8, "groups[1].servers", "server 0 GPU 4");
    expect_error(MX "    groups:\n      - {role: prefill, servers: 0}\n", 2, 8,
                 "workload.deployment.groups", "1 prefill and 0 decode");
    expect_error(MX "    groups:\n      - {role: decode, servers: 0}\n", 2, 8,
                 "workload.deployment.groups", "0 prefill and 1 decode");
    expect_error(MX "    kv_transfer: {chunk: 0B}\n    groups:\n"
                    "      - {role: prefill, servers: 0}\n      - {role: decode, servers: 1}\n",
                 2, 8, "workload.deployment.kv_transfer.chunk", "0");
    expect_error(MX "    groups:\n      - {role: prefill, servers: 0}\n"
                    "      - {role: decode, servers: 5}\n",
                 2, 8, "groups[1].servers", "server 5");
    /* R1 on one H20 server: the prefill group misses by a stated amount */
    expect_error("workload:\n  deployment:\n    groups:\n      - {role: prefill, servers: 0}\n"
                 "      - {role: decode, servers: 1-2}\n",
                 3, 8, "group 'prefill'", "misses by");
    expect_error(MX "    groups:\n      - {role: prefill, servers: 0, count: 3}\n"
                    "      - {role: decode, servers: 1}\n",
                 2, 8, "groups[0].count", "3 for 1 servers");
    expect_error(MX "    router: fastest\n    groups:\n      - {role: mixed, servers: 0}\n", 1, 8,
                 "workload.deployment.router", "fastest");
#undef MX
}

/* A single mixed group on every GPU is the workload without a deployment. */
static void test_single_group_matches(void **state)
{
    (void)state;
    const char *base = "workload:\n  model: mixtral-8x7b-v0.1-config.json\n  concurrency: 6\n"
                       "  input_len: uniform:16-64\n  output_len: uniform:2-12\n"
                       "  requests: 60\n  warmup: 6\n  parallel: {ep: 8}\n";
    char dep[1024];
    snprintf(dep, sizeof dep, "%s  deployment:\n    groups:\n      - {role: mixed, servers: 0-1}\n",
             base);
    run a, b;
    run_cfg(&a, base, 2, 8, 1, 100000000000ull, IFB_US, 0);
    run_cfg(&b, dep, 2, 8, 1, 100000000000ull, IFB_US, 0);
    assert_int_equal(a.res->steps, b.res->steps);
    assert_true(a.res->tgr == b.res->tgr);
    assert_true(a.res->ttft.p90 == b.res->ttft.p90);
    assert_int_equal(b.res->ngroups, 1);
    run_free(&a);
    run_free(&b);
}

/* docs/scenario.md holds the keys' documentation as the program has it. */
static void test_keys_doc_pasted(void **state)
{
    (void)state;
    FILE *f = fopen(IFB_TEST_DIR "/../docs/scenario.md", "rb");
    assert_non_null(f);
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    if (!strstr(buf, IFB_SERVING_KEYS_DOC))
        fail_msg("docs/scenario.md does not contain IFB_SERVING_KEYS_DOC verbatim");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kv_bytes_mla),       cmocka_unit_test(test_kv_bytes_gqa),
        cmocka_unit_test(test_lone_request_ttft),  cmocka_unit_test(test_kv_bandwidth_bound),
        cmocka_unit_test(test_closed_loop_stages), cmocka_unit_test(test_router_round_robin),
        cmocka_unit_test(test_bad_deployments),    cmocka_unit_test(test_single_group_matches),
        cmocka_unit_test(test_keys_doc_pasted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
