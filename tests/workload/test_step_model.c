/* The serving step model against values worked out here, not read back from the engine:
 *  - one request on a tiny MoE model (tests/workload/data/tiny-moe-config.json) over an ideal
 *    network: every step's time, TTFT and TPOT from the roofline of each kernel and the
 *    all-to-all bytes at the network's rate, to the nanosecond;
 *  - KV-cache bytes per token per GPU from the model configs (MLA latent, GQA K/V, TP split,
 *    MTP layer) and the KV capacity they give;
 *  - Poisson arrivals at the configured rate: the count over a long window within a bound on
 *    the Poisson spread, and the gaps exponential (Kolmogorov-Smirnov against the configured
 *    rate).
 * tools/mutate.sh breaks the model on purpose; these tests are what catch the serving ones. */
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

#define DATA IFB_TEST_DIR "/workload/data/"

static int load(const char *yaml, ifb_serving_cfg *out, ifb_err *e)
{
    ifb_cfg *c = ifb_cfg_load_string(yaml, "test.yaml", e);
    assert_non_null(c);
    int rc = ifb_serving_cfg_load(c, "workload", out, e);
    ifb_cfg_free(c);
    return rc;
}

typedef struct run {
    ifb_sim sim;
    ifb_ideal *ideal;
    ifb_serving *s;
    ifb_serving_cfg cfg;
    const ifb_serving_result *res;
} run;

/* servers x 1 GPU on an ideal network of `rate_bps` and `lat` between servers (rate 0 and
 * latency 0: zero time). */
static void run_ideal(run *w, const char *yaml, int servers, uint64_t rate_bps, ifb_time lat)
{
    memset(w, 0, sizeof *w);
    ifb_err e = {{0}};
    if (load(yaml, &w->cfg, &e))
        fail_msg("config: %s", e.msg);
    if (ifb_serving_create(&w->s, &w->cfg, servers, 1, &e))
        fail_msg("create: %s", e.msg);
    ifb_sim_init(&w->sim, 1);
    ifb_ideal_cfg ic = ifb_ideal_cfg_zero(servers, 1);
    ic.rate_bps = rate_bps;
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

/* ---- one request, step by step ------------------------------------------------------------ */

/* tiny-moe-config.json, written out: a Mixtral-style GQA MoE model small enough that every
 * kernel is a handful of numbers. Two routed experts, both picked by every token, so with
 * expert parallelism over two GPUs each token sends exactly one copy to the other GPU: the
 * all-to-all does not depend on the routing draws. */
enum {
    HID = 1024,  /* hidden_size */
    NH = 8,      /* num_attention_heads */
    KVH = 4,     /* num_key_value_heads */
    HD = 128,    /* hidden_size / num_attention_heads */
    LAYERS = 4,  /* num_hidden_layers, every one MoE */
    EXPERTS = 2, /* num_local_experts = num_experts_per_tok */
    FF = 2048,   /* intermediate_size of one expert */
    VOCAB = 32000,
};

/* H20 datasheet (the catalogue's source: LMSYS 2025-09-26 spec table): 148 TFLOP/s dense BF16,
 * 4.0 TB/s HBM; the efficiencies are the scenario's. */
typedef struct hw {
    double peak, bw, ec, em;
} hw;

/* One kernel on the roofline, rounded up to a whole picosecond (the engine's unit). */
static double op_ps(const hw *g, double flops, double bytes)
{
    double tc = flops / (g->peak * g->ec), tm = bytes / (g->bw * g->em);
    return ceil((tc > tm ? tc : tm) * 1e12);
}

/* A BF16 GEMM of an m x k activation by a k x n weight: the weight, the activation and the
 * BF16 output cross HBM once. */
static double gemm_ps(const hw *g, double m, double k, double n)
{
    return op_ps(g, 2 * m * k * n, (k * n + m * k + m * n) * 2);
}

/* A message of `bytes` on the ideal network: its latency, then the bytes at the rate (the two
 * endpoint serializers pipeline; nothing else is in flight). */
static double msg_ps(double bytes, double rate_bps, double lat_ps)
{
    return lat_ps + ceil(bytes * 8 * 1e12 / rate_bps);
}

/* Dispatch payload per token copy in FP8: the hidden vector plus one FP32 scale per 128
 * values; combine in BF16. */
static const double DISPATCH_B = HID + HID / 128 * 4, COMBINE_B = 2.0 * HID;

/* A step of GPU 0 holding the request (n new tokens: the prompt in prefill, 1 in decode; ctx
 * cached keys for the decode token), GPU 1 idle. Per layer: GPU 0's attention and router,
 * then the n copies to GPU 1 (dispatch), GPU 1's expert on them, and the copies back
 * (combine); GPU 0's own expert runs while the dispatch is in flight and is done long before
 * the combine lands, GPU 1 has no tokens of its own (nothing to send, nothing to wait for).
 * Then GPU 0's LM head for the one position that needs logits. */
static double step_ps(const hw *g, int prefill, double n, double ctx, double rate, double lat)
{
    double qkv = gemm_ps(g, n, HID, (NH + 2 * KVH) * HD), o = gemm_ps(g, n, NH * HD, HID);
    double core;
    if (prefill) /* QK^T and PV over n(n+1)/2 pairs; the keys are this chunk's own */
        core = op_ps(g, 4.0 * NH * HD * n * (n + 1) / 2, 0);
    else /* one query over ctx cached tokens: the KV cache (K and V, KVH heads, BF16) is read */
        core = op_ps(g, 4.0 * NH * HD * ctx, ctx * 2 * KVH * HD * 2);
    double router = gemm_ps(g, n, HID, EXPERTS);
    /* one expert (gate, up, down) on n token copies: its weights once, activations in FP32 */
    double expert = op_ps(g, 2 * n * 3 * HID * FF, 3.0 * HID * FF * 2 + n * HID * 4);
    double layer = qkv + o + core + router + msg_ps(n * DISPATCH_B, rate, lat) + expert +
                   msg_ps(n * COMBINE_B, rate, lat);
    return LAYERS * layer + gemm_ps(g, 1, HID, VOCAB);
}

static void check_single_request(int input, int output, uint64_t rate, ifb_time lat)
{
    char yaml[512];
    snprintf(yaml, sizeof yaml,
             "workload:\n  model: " DATA "tiny-moe-config.json\n  weight_dtype: bf16\n"
             "  gpu: H20\n  concurrency: 1\n  input_len: %d\n  output_len: %d\n"
             "  requests: 1\n  warmup: 0\n"
             "  compute: {kernel_tables: false, eff_compute: 0.5, eff_memory: 0.8,\n"
             "            overheads: false}\n"
             "  deepep: {gpu_work: false, signals: false, wqe_rate: 0, chunks: 1}\n",
             input, output);
    run w;
    run_ideal(&w, yaml, 2, rate, lat);
    const ifb_gpu *gpu = w.cfg.gpu;
    assert_true(gpu->bf16_tflops == 148 && gpu->hbm_tbps == 4.0); /* the figures used below */
    hw g = {148e12, 4.0e12, 0.5, 0.8};
    size_t n;
    const ifb_serving_step *st = ifb_serving_steps(w.s, &n);
    /* one prefill step (the prompt, first token), then one decode step per further token */
    assert_int_equal(n, (size_t)output);
    double total = 0, decode = 0;
    for (size_t i = 0; i < n; i++) {
        int pre = i == 0;
        /* decode step i attends to the prompt and the i tokens generated so far */
        double want = pre ? step_ps(&g, 1, input, 0, (double)rate, (double)lat)
                          : step_ps(&g, 0, 1, input + (double)i, (double)rate, (double)lat);
        double got = (double)(st[i].end - st[i].start);
        if (fabs(got - want) > 1000) /* 1 ns: a picosecond of rounding per kernel at most */
            fail_msg("step %zu (%s): %.3f us, expected %.3f us", i, pre ? "prefill" : "decode",
                     got / 1e6, want / 1e6);
        /* the bytes: one copy each way per token and MoE layer, all of it between servers */
        double tok = pre ? input : 1;
        assert_true((double)st[i].bytes[IFB_TC_A2A] == LAYERS * tok * (DISPATCH_B + COMBINE_B));
        assert_int_equal(st[i].nic_bytes, st[i].bytes[IFB_TC_A2A]);
        assert_int_equal(st[i].normal_a2a, pre);
        total += want;
        decode += pre ? 0 : want;
    }
    /* the request: arrives at 0, first token at the end of the prefill step, then one token
     * per decode step; TPOT over the output - 1 tokens after the first */
    size_t nr;
    const ifb_serving_req *q = ifb_serving_requests(w.s, &nr);
    assert_true(nr >= 1);
    assert_int_equal(q[0].arrival, 0);
    assert_int_equal(q[0].generated, output);
    const ifb_serving_result *r = w.res;
    assert_int_equal(r->measured, 1);
    double ttft = step_ps(&g, 1, input, 0, (double)rate, (double)lat) / 1e12;
    double tpot = decode / (output - 1) / 1e12, e2e = total / 1e12;
    if (fabs(r->ttft.mean - ttft) > 1e-9 || fabs(r->e2e.mean - e2e) > output * 1e-9 ||
        fabs(r->tpot.mean - tpot) > 1e-9)
        fail_msg("TTFT %.6f ms (expected %.6f), E2E %.6f ms (%.6f), TPOT %.6f ms (%.6f)",
                 r->ttft.mean * 1e3, ttft * 1e3, r->e2e.mean * 1e3, e2e * 1e3, r->tpot.mean * 1e3,
                 tpot * 1e3);
    printf("  input %d, output %d, %.0f Gb/s: prefill step %.3f us, decode %.3f us (first) to "
           "%.3f us (last), TPOT %.3f us\n",
           input, output, (double)rate / 1e9, ttft * 1e6, (double)(st[1].end - st[1].start) / 1e6,
           (double)(st[n - 1].end - st[n - 1].start) / 1e6, tpot * 1e6);
    /* and the definition, from the request's own times: TPOT = (E2E - TTFT) / (output - 1) */
    assert_true(fabs(r->tpot.mean - (r->e2e.mean - r->ttft.mean) / (output - 1)) <
                1e-9 * r->tpot.mean);
    run_free(&w);
}

static void test_single_request_steps(void **state)
{
    (void)state;
    /* a long prompt: the KV cache is most of what a decode step's attention reads */
    check_single_request(2048, 9, 100000000000ull, 2 * IFB_US);
    /* a short one on a slower network: communication dominates */
    check_single_request(64, 4, 25000000000ull, 5 * IFB_US);
}

/* ---- KV cache per token ------------------------------------------------------------------- */

static const ifb_parallel *layout_of(ifb_serving **s, ifb_serving_cfg *cfg, const char *yaml,
                                     int servers, int gpus)
{
    ifb_err e = {{0}};
    if (load(yaml, cfg, &e))
        fail_msg("config: %s", e.msg);
    if (ifb_serving_create(s, cfg, servers, gpus, &e))
        fail_msg("create: %s", e.msg);
    return ifb_serving_layout(*s);
}

static void expect_kv(const char *yaml, int servers, int gpus, double want)
{
    ifb_serving *s;
    ifb_serving_cfg cfg;
    const ifb_parallel *p = layout_of(&s, &cfg, yaml, servers, gpus);
    if (p->kv_bytes_per_token != want)
        fail_msg("%s: %.1f KV bytes per token per GPU, expected %.1f", yaml, p->kv_bytes_per_token,
                 want);
    /* the capacity is what HBM leaves after weights and reserve, in whole tokens */
    double left = cfg.gpu->hbm_bytes - p->weight_bytes - cfg.reserve_bytes;
    assert_int_equal(p->kv_tokens, (int64_t)floor(left / want));
    ifb_serving_destroy(s);
    ifb_serving_cfg_free(&cfg);
}

static void test_kv_bytes_per_token(void **state)
{
    (void)state;
    /* DeepSeek-R1 (MLA): the compressed latent (kv_lora_rank 512) and the shared RoPE key
     * (qk_rope_head_dim 64) per layer, BF16: 1152 B x 61 layers; every dp-ep GPU holds its own
     * requests' whole cache */
    expect_kv("workload: {}\n", 2, 8, (512 + 64) * 2.0 * 61);
    expect_kv("workload:\n  kv_dtype: fp8\n", 2, 8, (512 + 64) * 1.0 * 61);
    /* with MTP the draft module's layer caches too */
    expect_kv("workload:\n  parallel: {mtp: true}\n", 2, 8, (512 + 64) * 2.0 * 62);
    /* Mixtral (GQA): K and V of 8 KV heads x head_dim 128 per layer, BF16, 32 layers; tensor
     * parallel over 8 GPUs gives each GPU one KV head */
    expect_kv("workload:\n  model: mixtral-8x7b-v0.1-config.json\n", 1, 8, 2.0 * 8 * 128 * 2 * 32);
    expect_kv("workload:\n  model: mixtral-8x7b-v0.1-config.json\n  parallel: {layout: tp}\n", 1, 8,
              2.0 * 8 * 128 * 2 * 32 / 8);
    /* Qwen3-235B-A22B (GQA, 4 KV heads of 128, 94 layers) over TP 8: fewer heads than GPUs, so
     * each GPU keeps a whole KV head (replicated), not half of one */
    expect_kv("workload:\n  model: qwen3-235b-a22b-config.json\n  parallel: {layout: tp}\n", 1, 8,
              2.0 * 4 * 128 * 2 * 94 / 4);
    expect_kv("workload:\n  model: " DATA "tiny-moe-config.json\n", 2, 1,
              2.0 * KVH * HD * 2 * LAYERS);
}

/* What the per-token size decides: with a reserve that leaves room for 1000.5 tokens of R1's
 * cache (by the size above), the instance holds 1000 tokens, a request of 998 + 2 fits and one
 * token more does not. */
static void test_kv_capacity(void **state)
{
    (void)state;
    const double kvtok = (512 + 64) * 2.0 * 61;
    ifb_serving *s;
    ifb_serving_cfg cfg;
    const ifb_parallel *p = layout_of(&s, &cfg, "workload: {}\n", 2, 8);
    double reserve = cfg.gpu->hbm_bytes - p->weight_bytes - 1000.5 * kvtok;
    ifb_serving_destroy(s);
    ifb_serving_cfg_free(&cfg);
    char yaml[256];
    /* the longest request needs input + output + 2 tokens (the engine's margin) */
    snprintf(yaml, sizeof yaml, "workload:\n  reserve: %.0fB\n  input_len: 990\n  output_len: 8\n",
             reserve);
    p = layout_of(&s, &cfg, yaml, 2, 8);
    assert_int_equal(p->kv_tokens, 1000);
    ifb_serving_destroy(s);
    ifb_serving_cfg_free(&cfg);
    snprintf(yaml, sizeof yaml, "workload:\n  reserve: %.0fB\n  input_len: 991\n  output_len: 8\n",
             reserve);
    ifb_err e = {{0}};
    assert_int_equal(load(yaml, &cfg, &e), 0);
    assert_int_equal(ifb_serving_create(&s, &cfg, 2, 8, &e), -1);
    ifb_serving_cfg_free(&cfg);
}

/* ---- Poisson arrivals --------------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* 20,000 arrivals at 250 requests/s (one GPU, one-token requests, zero-time network: nothing
 * the arrivals wait for). A Poisson process of rate lambda has N(T) ~ Poisson(lambda T)
 * arrivals in [0, T] and independent Exp(lambda) gaps. */
static void test_poisson_rate(void **state)
{
    (void)state;
    const double lambda = 250;
    const int N = 20000;
    char yaml[512];
    snprintf(yaml, sizeof yaml,
             "workload:\n  model: " DATA "tiny-moe-config.json\n  arrival: poisson\n"
             "  rate: %g\n  requests: %d\n  input_len: 16\n  output_len: 1\n  seed: 5\n",
             lambda, N);
    run w;
    run_ideal(&w, yaml, 1, 0, 0);
    size_t n;
    const ifb_serving_req *q = ifb_serving_requests(w.s, &n);
    assert_int_equal(n, (size_t)N);
    /* count over [0, T], T = 16,000 expected arrivals: within 5 standard deviations (sqrt of
     * the mean) of lambda T, a false alarm once in 1.7 million seeds */
    const double T = 16000 / lambda;
    int count = 0;
    for (size_t i = 0; i < n; i++)
        count += ifb_time_to_s(q[i].arrival) <= T;
    double mean = lambda * T, sd = sqrt(mean);
    if (fabs(count - mean) > 5 * sd)
        fail_msg("%d arrivals in %.1f s at %g/s: expected %.0f +- %.0f", count, T, lambda, mean,
                 5 * sd);
    /* gaps: Kolmogorov-Smirnov distance to Exp(lambda) (the configured rate, not a fitted
     * one) below the 0.1% critical value 1.95 / sqrt(n) */
    double *gap = malloc(n * sizeof *gap);
    assert_non_null(gap);
    for (size_t i = 0; i < n; i++)
        gap[i] = ifb_time_to_s(q[i].arrival - (i ? q[i - 1].arrival : 0));
    qsort(gap, n, sizeof *gap, cmp_double);
    double d = 0;
    for (size_t i = 0; i < n; i++) {
        double F = 1 - exp(-lambda * gap[i]);
        double lo = F - (double)i / (double)n, hi = (double)(i + 1) / (double)n - F;
        d = fmax(d, fmax(lo, hi));
    }
    free(gap);
    if (d > 1.95 / sqrt((double)n))
        fail_msg("inter-arrival gaps: KS distance %.4f to Exp(%g), critical %.4f", d, lambda,
                 1.95 / sqrt((double)n));
    /* each request is a single prefill step: it leaves in the step after it arrives, so the
     * engine kept up and the arrivals were not held back */
    assert_int_equal(w.res->finished, (uint64_t)N);
    run_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_request_steps),
        cmocka_unit_test(test_kv_bytes_per_token),
        cmocka_unit_test(test_kv_capacity),
        cmocka_unit_test(test_poisson_rate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
