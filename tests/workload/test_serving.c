/* The serving engine end to end: configuration errors, the closed loop's invariants (N in the
 * system, Little's law, token accounting), open-loop and trace arrivals, the zero-time network
 * giving compute-only step times exactly, and the coupling to the packet-level fabric (more NIC
 * bandwidth, shorter communication, higher TGR). */
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

#define DATA IFB_TEST_DIR "/workload/data/"

/* Loads `yaml` and the serving config under "workload". Returns the cfg return code. */
static int load(const char *yaml, ifb_serving_cfg *out, ifb_err *e)
{
    ifb_cfg *c = ifb_cfg_load_string(yaml, "test.yaml", e);
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

static void expect_cfg_error(const char *yaml, const char *n1, const char *n2)
{
    ifb_serving_cfg cfg;
    ifb_err e = {{0}};
    assert_int_equal(load(yaml, &cfg, &e), -1);
    if (!strstr(e.msg, n1) || (n2 && !strstr(e.msg, n2)))
        fail_msg("message '%s' lacks '%s' / '%s'", e.msg, n1, n2 ? n2 : "");
}

static void expect_create_error(const char *yaml, int servers, int gpus, const char *n1,
                                const char *n2)
{
    ifb_serving_cfg cfg;
    ifb_err e = {{0}};
    if (load(yaml, &cfg, &e))
        fail_msg("config: %s", e.msg);
    ifb_serving *s = NULL;
    assert_int_equal(ifb_serving_create(&s, &cfg, servers, gpus, &e), -1);
    assert_null(s);
    if (!strstr(e.msg, n1) || (n2 && !strstr(e.msg, n2)))
        fail_msg("message '%s' lacks '%s' / '%s'", e.msg, n1, n2 ? n2 : "");
    ifb_serving_cfg_free(&cfg);
}

static void test_cfg_defaults(void **state)
{
    (void)state;
    ifb_serving_cfg cfg;
    ifb_err e = {{0}};
    assert_int_equal(load("workload: {}\n", &cfg, &e), 0);
    assert_string_equal(cfg.model.name, "deepseek-r1-config.json");
    assert_string_equal(cfg.gpu->name, "H20");
    assert_int_equal(cfg.weight_dtype, IFB_DTYPE_FP8);
    assert_int_equal(cfg.par.layout, IFB_LAYOUT_DP_EP);
    assert_int_equal(cfg.concurrency, 64);
    assert_int_equal(cfg.input.kind, IFB_LEN_UNIFORM);
    assert_int_equal(cfg.input.lo, 512);
    assert_int_equal(cfg.input.hi, 1536);
    assert_int_equal(cfg.output.lo, 128);
    assert_int_equal(cfg.output.hi, 384);
    ifb_serving_cfg_free(&cfg);
    assert_int_equal(load("workload:\n  input_len: uniform:10-20\n  routing: zipf:1.5\n"
                          "  parallel: {layout: tp, tp: 8}\n  gpu: h800\n",
                          &cfg, &e),
                     0);
    assert_int_equal(cfg.input.kind, IFB_LEN_UNIFORM);
    assert_int_equal(cfg.input.hi, 20);
    assert_int_equal(cfg.routing, IFB_ROUTE_ZIPF);
    assert_true(cfg.zipf_s == 1.5);
    assert_int_equal(cfg.par.tp, 8);
    assert_string_equal(cfg.gpu->name, "H800");
    ifb_serving_cfg_free(&cfg);
}

static void test_cfg_errors(void **state)
{
    (void)state;
    expect_cfg_error("workload:\n  concurrency: 0\n", "workload.concurrency", "test.yaml:2");
    expect_cfg_error("workload:\n  concurrency: -5\n", "workload.concurrency", NULL);
    expect_cfg_error("workload:\n  model: nope.json\n", "workload.model", "no such file");
    expect_cfg_error("workload:\n  gpu: A100\n", "workload.gpu", "A100");
    expect_cfg_error("workload:\n  input_len: uniform:9-3\n", "workload.input_len", "9-3");
    expect_cfg_error("workload:\n  routing: zipf:-1\n", "workload.routing", NULL);
    expect_cfg_error("workload:\n  parallel: {layout: pp}\n", "workload.parallel.layout", NULL);
    expect_cfg_error("workload:\n  arrival: trace\n", "workload.trace", "no trace");
    expect_cfg_error("workload:\n  trace: " DATA "azure_bad.csv\n", "workload.trace", "row 3");
    expect_cfg_error("workload:\n  parallel: {mtp: true, accept_length: 2.5}\n",
                     "workload.parallel.accept_length", NULL);
    expect_cfg_error("workload:\n  model: mixtral-8x7b-v0.1-config.json\n"
                     "  parallel: {mtp: true}\n",
                     "workload.parallel.mtp", NULL);
}

static void test_bad_parallelism(void **state)
{
    (void)state;
    expect_create_error("workload:\n  parallel: {ep: 3}\n", 2, 8, "workload.parallel.ep",
                        "divisor of the 16 GPUs");
    expect_create_error("workload:\n  model: mixtral-8x7b-v0.1-config.json\n"
                        "  parallel: {ep: 16}\n",
                        2, 8, "workload.parallel.ep", "8 routed experts");
    expect_create_error("workload:\n  parallel: {layout: tp, tp: 3}\n", 2, 8,
                        "workload.parallel.tp", NULL);
    expect_create_error("workload:\n  parallel: {layout: dp-ep, tp: 2}\n", 2, 8,
                        "workload.parallel.tp", "dp-ep");
    expect_create_error("workload:\n  parallel: {layout: dp-ep, dp: 4}\n", 2, 8,
                        "workload.parallel.dp", NULL);
}

static void test_does_not_fit(void **state)
{
    (void)state;
    /* R1 in BF16 split 8 ways: ~168 GB per GPU */
    expect_create_error("workload:\n  weight_dtype: bf16\n  parallel: {layout: tp}\n", 1, 8,
                        "H20 memory", "misses by");
    /* R1 FP8 on 2 GPUs with EP 2 */
    expect_create_error("workload: {}\n", 1, 2, "does not fit", "misses by");
}

/* The ideal network: serializers at each end plus latency; zero mode completes at once. */
static void on_done(ifb_sim *sim, void *ctx, const ifb_msg_info *info)
{
    (void)sim;
    ifb_time *t = ctx;
    *t = info->done;
}

static void test_ideal_net(void **state)
{
    (void)state;
    ifb_sim sim;
    ifb_sim_init(&sim, 1);
    ifb_ideal *n;
    ifb_err e = {{0}};
    ifb_ideal_cfg c = {.nendpoints = 4,
                       .gpus_per_server = 2,
                       .rate_bps = 8000000000ull,
                       .latency = 2 * IFB_US,
                       .local_rate_bps = 0,
                       .local_latency = 0};
    assert_int_equal(ifb_ideal_create(&n, &sim, &c, &e), 0);
    ifb_net *net = ifb_ideal_net(n);
    ifb_time t1 = 0, t2 = 0, t3 = 0;
    /* 1 MB at 1 GB/s: starts at once, first byte 2 us later at the receiver, which takes
     * 1 ms to place it: done at 1.002 ms */
    assert_true(ifb_net_send(net, 0, 2, 1000000, IFB_TC_A2A, on_done, &t1) > 0);
    /* a second message from the same sender queues behind the first */
    assert_true(ifb_net_send(net, 0, 3, 1000000, IFB_TC_A2A, on_done, &t2) > 0);
    /* inside a server, infinitely fast */
    assert_true(ifb_net_send(net, 0, 1, 1000000, IFB_TC_A2A, on_done, &t3) > 0);
    assert_int_equal(ifb_net_send(net, 0, 9, 1, IFB_TC_A2A, on_done, &t3), 0);
    assert_int_equal(ifb_sim_run(&sim), IFB_STOP_EMPTY);
    assert_int_equal(t1, 1 * IFB_MS + 2 * IFB_US);
    assert_int_equal(t2, 2 * IFB_MS + 2 * IFB_US); /* sender busy until 1 ms */
    assert_int_equal(t3, 0);
    assert_int_equal(ifb_ideal_counts(n)->msgs_done, 3);
    assert_int_equal(ifb_ideal_counts(n)->remote_bytes, 2000000);
    assert_int_equal(sim.work, 0);
    ifb_ideal_destroy(n);
    ifb_sim_destroy(&sim);
}

/* ---- runs --------------------------------------------------------------------------------- */

typedef struct run {
    ifb_sim sim;
    ifb_topo topo;
    ifb_fabric *fab;
    ifb_ideal *ideal;
    ifb_serving *s;
    ifb_serving_cfg cfg;
    const ifb_serving_result *res;
} run;

static void run_cfg(run *w, const char *yaml, int servers, int gpus, int fabric, uint64_t nic_bps)
{
    memset(w, 0, sizeof *w);
    ifb_err e = {{0}};
    if (load(yaml, &w->cfg, &e))
        fail_msg("config: %s", e.msg);
    if (ifb_serving_create(&w->s, &w->cfg, servers, gpus, &e))
        fail_msg("create: %s", e.msg);
    ifb_sim_init(&w->sim, 1);
    ifb_net *net;
    if (fabric) {
        ifb_topo_init(&w->topo);
        ifb_server_spec sp = {.gpus_per_server = gpus,
                              .nics_per_server = 4,
                              .nic_bps = nic_bps,
                              .host_delay = 25 * IFB_NS,
                              .nvlink_bps = 3600000000000ull,
                              .nvlink_latency = IFB_US};
        assert_int_equal(ifb_topo_single_switch(&w->topo, servers, &sp, 64, &e), 0);
        assert_int_equal(ifb_topo_route(&w->topo, &e), 0);
        ifb_fabric_cfg fc;
        ifb_fabric_cfg_default(&fc);
        fc.record_messages = 0;
        assert_int_equal(ifb_fabric_create(&w->fab, &w->sim, &w->topo, &fc, &e), 0);
        net = ifb_fabric_net(w->fab);
    } else {
        ifb_ideal_cfg ic = ifb_ideal_cfg_zero(servers * gpus, gpus);
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

/* Closed loop: N in the system at all times after warm-up, Little's law, token accounting. */
static void test_closed_loop_invariants(void **state)
{
    (void)state;
    run w;
    run_cfg(&w,
            "workload:\n  model: mixtral-8x7b-v0.1-config.json\n  concurrency: 6\n"
            "  input_len: uniform:16-64\n  output_len: uniform:2-12\n  requests: 360\n"
            "  warmup: 12\n",
            1, 8, 0, 0);
    const ifb_serving_result *r = w.res;
    assert_int_equal(r->min_in_system, 6);
    assert_int_equal(r->max_in_system, 6);
    assert_true(fabs(r->mean_in_system - 6) < 1e-9);
    assert_true(r->measured >= 360);
    /* Little's law: N = throughput x mean E2E */
    double little = r->req_throughput * r->e2e.mean;
    if (fabs(little - 6) / 6 > 0.02)
        fail_msg("Little: X %.4f req/s x W %.4f s = %.4f, N = 6", r->req_throughput, r->e2e.mean,
                 little);
    /* tokens: every finished request produced exactly its output length */
    size_t n;
    const ifb_serving_req *q = ifb_serving_requests(w.s, &n);
    uint64_t sum_fin = 0, sum_all = 0, fin = 0;
    for (size_t i = 0; i < n; i++) {
        sum_all += (uint64_t)q[i].generated;
        if (q[i].finish != IFB_TIME_NEVER) {
            fin++;
            assert_int_equal(q[i].generated, q[i].output);
            sum_fin += (uint64_t)q[i].output;
            assert_true(q[i].first <= q[i].finish && q[i].arrival <= q[i].first);
        } else {
            assert_true(q[i].generated < q[i].output);
        }
    }
    assert_int_equal(fin, r->finished);
    assert_int_equal(sum_all, r->tokens_emitted);
    assert_true(sum_fin <= r->tokens_emitted);
    assert_true(sum_fin > 0);
    assert_true(r->tgr > 0);
    run_free(&w);
}

/* Zero-time network: every step takes exactly its compute-only time, in both layouts, with
 * prefill (normal all-to-all) and decode (low-latency) steps. The low-latency kernels' WQE
 * posting is communication (it gates messages, not compute): unlimited here. */
static void check_zero_time(const char *yaml0, int servers, int gpus)
{
    run w;
    char yaml[1024];
    snprintf(yaml, sizeof yaml, "%s  deepep: {wqe_rate: 0}\n", yaml0);
    run_cfg(&w, yaml, servers, gpus, 0, 0);
    size_t n;
    const ifb_serving_step *st = ifb_serving_steps(w.s, &n);
    assert_true(n > 3);
    int normal = 0, ll = 0;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(st[i].end - st[i].start, st[i].compute_only);
        assert_true(st[i].compute_only > 0);
        normal += st[i].normal_a2a;
        ll += !st[i].normal_a2a;
    }
    assert_true(ll > 0);
    assert_true(w.res->exposed_mean == 0);
    run_free(&w);
}

static void test_zero_time_is_compute_only(void **state)
{
    (void)state;
    check_zero_time("workload:\n  concurrency: 16\n  input_len: 64\n  output_len: 4\n"
                    "  requests: 8\n  warmup: 0\n",
                    2, 8);
    check_zero_time("workload:\n  concurrency: 4\n  input_len: 64\n  output_len: 4\n"
                    "  requests: 4\n  warmup: 0\n  parallel: {layout: tp}\n",
                    2, 8);
    check_zero_time("workload:\n  concurrency: 16\n  input_len: 64\n  output_len: 6\n"
                    "  requests: 8\n  warmup: 0\n  parallel: {mtp: true, accept_length: 1.5}\n"
                    "  routing: zipf:1.0\n",
                    2, 8);
    check_zero_time("workload:\n  concurrency: 16\n  input_len: 64\n  output_len: 6\n"
                    "  requests: 8\n  warmup: 0\n  fidelity: sample:4\n",
                    2, 8);
}

/* Packet-level fabric, network-bound (25 Gb/s NICs): doubling NIC bandwidth shortens the
 * communication and raises TGR. */
static void test_coupling_nic_bandwidth(void **state)
{
    (void)state;
    const char *yaml = "workload:\n  concurrency: 32\n  input_len: 16\n  output_len: 6\n"
                       "  requests: 32\n  warmup: 0\n";
    run a, b;
    run_cfg(&a, yaml, 2, 8, 1, 25000000000ull);
    run_cfg(&b, yaml, 2, 8, 1, 50000000000ull);
    /* same work on both */
    assert_int_equal(a.res->steps, b.res->steps);
    assert_int_equal(a.res->bytes[IFB_TC_A2A], b.res->bytes[IFB_TC_A2A]);
    assert_true(a.res->nic_bytes > 0);
    /* network-bound: communication is exposed */
    assert_true(a.res->exposed_mean > 0.2 * a.res->step_mean);
    assert_true(b.res->comm_mean < a.res->comm_mean);
    assert_true(b.res->exposed_mean < a.res->exposed_mean);
    assert_true(b.res->tgr > a.res->tgr * 1.05);
    assert_true(b.res->tpot.mean < a.res->tpot.mean);
    /* compute is the same; the step takes longer than compute alone */
    assert_true(fabs(a.res->compute_mean - b.res->compute_mean) < 1e-12);
    assert_true(a.res->step_mean > a.res->compute_mean);
    char msg[256];
    assert_int_equal(ifb_fabric_check_conservation(a.fab, msg, sizeof msg), 0);
    run_free(&a);
    run_free(&b);
}

/* Open loop: Poisson and trace arrivals all finish; outputs are deterministic. */
static char *dump(ifb_serving *s, int steps)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ifb_err e;
    if (steps)
        assert_int_equal(ifb_serving_write_steps_csv(s, f, &e), 0);
    else
        assert_int_equal(ifb_serving_write_requests_csv(s, f, &e), 0);
    ifb_json j;
    ifb_json_init(&j, f, 2);
    ifb_serving_write_summary(s, &j);
    assert_int_equal(ifb_json_finish(&j, &e), 0);
    fclose(f);
    return buf;
}

static void test_open_loop(void **state)
{
    (void)state;
    const char *yaml = "workload:\n  arrival: poisson\n  rate: 50\n  requests: 12\n"
                       "  input_len: 32\n  output_len: uniform:2-5\n  seed: 9\n";
    run a, b;
    run_cfg(&a, yaml, 2, 8, 0, 0);
    run_cfg(&b, yaml, 2, 8, 0, 0);
    assert_int_equal(a.res->finished, 12);
    assert_int_equal(a.res->measured, 12);
    char *ra = dump(a.s, 0), *rb = dump(b.s, 0), *sa = dump(a.s, 1), *sb = dump(b.s, 1);
    assert_string_equal(ra, rb);
    assert_string_equal(sa, sb);
    assert_non_null(strstr(ra, "\"tgr_tokens_per_s\""));
    free(ra);
    free(rb);
    free(sa);
    free(sb);
    run_free(&a);
    run_free(&b);
    /* trace replay: three Azure rows at their times, with their lengths */
    run t;
    run_cfg(&t, "workload:\n  arrival: trace\n  trace: " DATA "azure_small.csv\n", 2, 8, 0, 0);
    assert_int_equal(t.res->finished, 3);
    size_t n;
    const ifb_serving_req *q = ifb_serving_requests(t.s, &n);
    assert_int_equal(n, 3);
    assert_int_equal(q[1].arrival, 52 * IFB_MS);
    assert_int_equal(q[0].input, 4808);
    assert_int_equal(q[2].output, 27);
    assert_int_equal(q[2].generated, 27);
    run_free(&t);
}

/* A KV cache too small for every running request: requests are preempted and recomputed, and
 * each still produces exactly its output length. */
static void test_preemption(void **state)
{
    (void)state;
    /* Mixtral on 8 GPUs (dp-ep): weights per GPU from a first layout, then a reserve that leaves
     * room for about 300 tokens per instance */
    ifb_serving_cfg cfg;
    ifb_err e = {{0}};
    assert_int_equal(load("workload:\n  model: mixtral-8x7b-v0.1-config.json\n", &cfg, &e), 0);
    ifb_serving *s;
    assert_int_equal(ifb_serving_create(&s, &cfg, 1, 8, &e), 0);
    const ifb_parallel *p = ifb_serving_layout(s);
    double reserve = cfg.gpu->hbm_bytes - p->weight_bytes - 300 * p->kv_bytes_per_token;
    ifb_serving_destroy(s);
    ifb_serving_cfg_free(&cfg);
    char yaml[512];
    snprintf(yaml, sizeof yaml,
             "workload:\n  model: mixtral-8x7b-v0.1-config.json\n  reserve: %.0fB\n"
             "  concurrency: 24\n  input_len: 100\n  output_len: 60\n  requests: 24\n"
             "  warmup: 0\n",
             reserve);
    run w;
    run_cfg(&w, yaml, 1, 8, 0, 0);
    assert_true(w.res->kv_tokens >= 290 && w.res->kv_tokens <= 300);
    assert_true(w.res->preemptions > 0);
    size_t n;
    const ifb_serving_req *q = ifb_serving_requests(w.s, &n);
    int preempted = 0;
    for (size_t i = 0; i < n; i++) {
        if (q[i].finish != IFB_TIME_NEVER)
            assert_int_equal(q[i].generated, q[i].output);
        preempted += q[i].preemptions > 0;
    }
    assert_true(preempted > 0);
    assert_true(w.res->finished >= 24);
    run_free(&w);
    /* a request longer than the whole KV cache is rejected up front */
    snprintf(yaml, sizeof yaml,
             "workload:\n  model: mixtral-8x7b-v0.1-config.json\n  reserve: %.0fB\n"
             "  input_len: 400\n",
             reserve);
    expect_create_error(yaml, 1, 8, "does not fit", "KV cache");
}

/* Sampled fidelity: most all-to-all phases replayed, TGR close to full fidelity on the
 * network-bound configuration, same bytes accounted, far fewer messages. */
static void test_sampled_fidelity(void **state)
{
    (void)state;
    /* whole messages in normal mode (deepep.chunks 1): the count below is of phases' messages,
     * which the pieces of the prefill steps (never sampled: first of their kind) would swamp */
    const char *base = "workload:\n  concurrency: 32\n  input_len: 16\n  output_len: 6\n"
                       "  requests: 32\n  warmup: 0\n  deepep: {chunks: 1}\n";
    char yaml[256];
    snprintf(yaml, sizeof yaml, "%s  fidelity: sample:4\n", base);
    run a, b;
    run_cfg(&a, base, 2, 8, 1, 25000000000ull);
    run_cfg(&b, yaml, 2, 8, 1, 25000000000ull);
    assert_int_equal(a.res->bytes[IFB_TC_A2A], b.res->bytes[IFB_TC_A2A]);
    assert_int_equal(a.res->nic_bytes, b.res->nic_bytes);
    if (!(b.res->msgs * 4 < a.res->msgs * 3)) /* first steps of each kind run in full */
        fail_msg("messages full %llu sampled %llu, TGR %g %g", (unsigned long long)a.res->msgs,
                 (unsigned long long)b.res->msgs, a.res->tgr, b.res->tgr);
    size_t n;
    const ifb_serving_step *st = ifb_serving_steps(b.s, &n);
    int replayed = 0;
    for (size_t i = 0; i < n; i++)
        replayed += st[i].replayed_a2a;
    assert_true(replayed > 0);
    double err = fabs(b.res->tgr - a.res->tgr) / a.res->tgr;
    if (err > 0.03)
        fail_msg("TGR full %.2f sampled %.2f", a.res->tgr, b.res->tgr);
    run_free(&a);
    run_free(&b);
    expect_cfg_error("workload:\n  fidelity: sample:0\n", "workload.fidelity", NULL);
}

/* Two micro-batches on an ideal network with a long latency: one chain's all-to-all hides behind
 * the other's compute, so the communication the step exposes shrinks. */
static void run_ideal_latency(run *w, const char *yaml, ifb_time lat)
{
    memset(w, 0, sizeof *w);
    ifb_err e = {{0}};
    if (load(yaml, &w->cfg, &e))
        fail_msg("config: %s", e.msg);
    if (ifb_serving_create(&w->s, &w->cfg, 2, 8, &e))
        fail_msg("create: %s", e.msg);
    ifb_sim_init(&w->sim, 1);
    ifb_ideal_cfg ic = ifb_ideal_cfg_zero(16, 8);
    ic.latency = ic.local_latency = lat;
    assert_int_equal(ifb_ideal_create(&w->ideal, &w->sim, &ic, &e), 0);
    assert_int_equal(ifb_serving_start(w->s, &w->sim, ifb_ideal_net(w->ideal), &e), 0);
    assert_int_equal(ifb_sim_run(&w->sim), IFB_STOP_EMPTY);
    w->res = ifb_serving_finish(w->s);
    assert_true(w->res->done);
}

static void test_overlap_hides_communication(void **state)
{
    (void)state;
    const char *base = "workload:\n  concurrency: 64\n  input_len: 32\n  output_len: 8\n"
                       "  requests: 64\n  warmup: 0\n";
    char ya[256], yb[256];
    snprintf(ya, sizeof ya, "%s  parallel: {a2a: low-latency}\n", base);
    snprintf(yb, sizeof yb, "%s  parallel: {a2a: low-latency, overlap: true}\n", base);
    run a, b;
    run_ideal_latency(&a, ya, 300 * IFB_US);
    run_ideal_latency(&b, yb, 300 * IFB_US);
    size_t na, nb;
    const ifb_serving_step *sa = ifb_serving_steps(a.s, &na), *sb = ifb_serving_steps(b.s, &nb);
    assert_int_equal(na, nb);
    /* without overlap every phase's latency adds to the step: 2 x 58 MoE layers x 300 us */
    for (size_t i = 0; i < na; i++)
        assert_true(sa[i].end - sa[i].start >= sa[i].compute_only + 116 * 300 * IFB_US);
    /* with overlap the exposed part (step - the GPU's own compute) is smaller */
    double exp_a = a.res->step_mean - a.res->compute_mean;
    double busy_b = 0, step_b = 0;
    for (size_t i = 0; i < nb; i++) {
        step_b += ifb_time_to_s(sb[i].end - sb[i].start);
        busy_b += sb[i].gpu_busy * ifb_time_to_s(sb[i].end - sb[i].start);
    }
    if (!(b.res->gpu_busy > a.res->gpu_busy) || !(step_b - busy_b < exp_a * (double)nb * 0.8))
        fail_msg("busy %.3f -> %.3f, exposed per step %.3f ms -> %.3f ms", a.res->gpu_busy,
                 b.res->gpu_busy, exp_a * 1e3, (step_b - busy_b) / (double)nb * 1e3);
    run_free(&a);
    run_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cfg_defaults),
        cmocka_unit_test(test_cfg_errors),
        cmocka_unit_test(test_bad_parallelism),
        cmocka_unit_test(test_does_not_fit),
        cmocka_unit_test(test_ideal_net),
        cmocka_unit_test(test_closed_loop_invariants),
        cmocka_unit_test(test_zero_time_is_compute_only),
        cmocka_unit_test(test_coupling_nic_bandwidth),
        cmocka_unit_test(test_open_loop),
        cmocka_unit_test(test_preemption),
        cmocka_unit_test(test_sampled_fidelity),
        cmocka_unit_test(test_overlap_hides_communication),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
