/* The serving components of issue 17 against closed forms worked out here:
 *  - overheads: a decode step's launch-gap term is its kernel count (from the documented kernel
 *    list) x the graph gap; eager launches charge what the host spends beyond the GPU's work;
 *    the element-wise term is the bytes of each kernel at HBM x efficiency; the host gap
 *    separates consecutive steps;
 *  - single-batch overlap: a layer takes max(dispatch, shared experts) + up + max(down, the
 *    combine's pieces) as the schedule says, against the sum without it;
 *  - DeepEP low latency: the WQE posting rate shows in the step when it bounds, and in the
 *    benchmarked kernel per token copy;
 *  - DeepEP normal: the chunked RDMA -> NVLink forwarding on an idle network approaches
 *    max(RDMA time, NVLink time), not their sum;
 *  - MTP: the acceptance draws have the configured mean and the truncated geometric's shape; the
 *    draft passes' all-to-alls are paid every step;
 *  - the prefix cache: exact hits on a synthetic trace with known overlaps, and LRU eviction;
 *  - the routed-expert shape table: DeepGEMM's H20 sample at DeepSeek's shape. */
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
#include "workload/deepep.h"
#include "workload/serving/internal.h"

#define DATA IFB_TEST_DIR "/workload/data/"

typedef struct run {
    ifb_sim sim;
    ifb_ideal *ideal;
    ifb_serving *s;
    ifb_serving_cfg cfg;
    const ifb_serving_result *res;
} run;

static void start(run *w, const char *yaml, int servers, int gpus, uint64_t rate, ifb_time lat)
{
    memset(w, 0, sizeof *w);
    ifb_err e = {{0}};
    ifb_cfg *c = ifb_cfg_load_string(yaml, "test.yaml", &e);
    if (!c)
        fail_msg("yaml: %s", e.msg);
    if (ifb_serving_cfg_load(c, "workload", &w->cfg, &e))
        fail_msg("config: %s", e.msg);
    ifb_cfg_free(c);
    if (ifb_serving_create(&w->s, &w->cfg, servers, gpus, &e))
        fail_msg("create: %s", e.msg);
    ifb_sim_init(&w->sim, 1);
    ifb_ideal_cfg ic = ifb_ideal_cfg_zero(servers * gpus, gpus);
    ic.rate_bps = rate;
    ic.latency = lat;
    assert_int_equal(ifb_ideal_create(&w->ideal, &w->sim, &ic, &e), 0);
    if (ifb_serving_start(w->s, &w->sim, ifb_ideal_net(w->ideal), &e))
        fail_msg("start: %s", e.msg);
}

static void finish(run *w)
{
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

/* One request on tiny-moe (4 MoE layers of 2 experts, both picked, BF16; GPU 0 holds it) over
 * 2 servers, with the overhead keys `extra`. */
static void one_request(run *w, const char *extra, uint64_t rate, ifb_time lat)
{
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "workload:\n  model: " DATA "tiny-moe-config.json\n  weight_dtype: bf16\n"
             "  gpu: H20\n  concurrency: 1\n  input_len: 256\n  output_len: 6\n"
             "  requests: 1\n  warmup: 0\n"
             "  compute: {kernel_tables: false, eff_compute: 0.5, eff_memory: 0.8%s}\n"
             "  deepep: {gpu_work: false, signals: false, wqe_rate: 0}\n",
             extra);
    start(w, yaml, 2, 1, rate, lat);
    finish(w);
}

/* ---- overheads ------------------------------------------------------------------------------ */

/* Kernels of tiny-moe's busiest rank (GPU 0, one decode token) in one step, from the kernel
 * list in serving/overheads.c: per layer the QKV and O GEMMs, the attention core, the router
 * GEMM, the residual add + RMSNorm, RoPE and the KV store (BF16: no quantization), DeepEP's two
 * dispatch kernels; then the two routed GEMMs, the post-attention add + RMSNorm, the top-k, the
 * experts' activation and DeepEP's two combine kernels; after the layers the LM head, the final
 * RMSNorm and the sampler's three passes. */
enum { KERNELS_PER_LAYER = 4 + 3 + 2 + 2 + 3 + 2, LAYERS = 4, KERNELS_LM = 1 + 1 + 3 };

static void test_launch_gaps(void **state)
{
    (void)state;
    run w;
    one_request(&w, ", graph_gap: 700ns, host_step: 0us", 0, 0);
    size_t n;
    const ifb_serving_step *st = ifb_serving_steps(w.s, &n);
    assert_true(n == 6);
    for (size_t i = 1; i < n; i++) { /* decode steps replay the graph */
        assert_int_equal(st[i].graph, 2);
        assert_int_equal(st[i].term[IFB_TERM_LAUNCH],
                         (ifb_time)(LAYERS * KERNELS_PER_LAYER + KERNELS_LM) * 700 * IFB_NS);
    }
    run_free(&w);
    /* eager, a launch far slower than any kernel: the host's launches gate every stage, so the
     * busiest rank's compute is its kernel count x the launch cost */
    one_request(&w, ", cuda_graph: false, launch: 1ms, host_step: 0us", 0, 0);
    st = ifb_serving_steps(w.s, &n);
    for (size_t i = 1; i < n; i++) {
        ifb_time sum = 0;
        for (int t = 0; t < IFB_TERM_N; t++)
            sum += st[i].term[t];
        assert_int_equal(st[i].graph, 0);
        assert_int_equal(sum, (ifb_time)(LAYERS * KERNELS_PER_LAYER + KERNELS_LM) * IFB_MS);
    }
    run_free(&w);
}

/* One memory-bound kernel: its bytes at 4.0 TB/s (H20) x 0.5, in whole picoseconds. */
static ifb_time ew(double bytes)
{
    return (ifb_time)llround(bytes / (4.0e12 * 0.5) * 1e12);
}

static void test_elementwise_bytes(void **state)
{
    (void)state;
    run w;
    one_request(&w, ", elementwise_eff: 0.5, kernel_min: 0us, graph_gap: 0us, host_step: 0us", 0,
                0);
    size_t n;
    const ifb_serving_step *st = ifb_serving_steps(w.s, &n);
    /* one decode token on GPU 0 (hidden 1024, 8 query and 4 KV heads of 128, BF16 KV; one copy
     * of each token to each expert, intermediate 2048): the bytes of each kernel */
    double h = 1024, H = 8, kvh = 4, hd = 128, f = 2048, E = 2, K = 2, V = 32000;
    ifb_time layer = ew(4 * h * 2)                             /* residual add + RMSNorm */
                     + ew(4 * (H + kvh) * hd)                  /* RoPE of q and k */
                     + ew(2 * 2 * kvh * hd + 2 * kvh * hd * 2) /* KV store */
                     + ew(4 * h * 2)                           /* post-attention add + RMSNorm */
                     + ew(E * 4 + K * 8)                       /* top-k over the router logits */
                     + ew(2 * f * 2 + 2 * f);                  /* SiLU x up of its copy */
    ifb_time sampling = ew(4 * h) + 3 * ew(V * 4);
    for (size_t i = 1; i < n; i++) {
        assert_int_equal(st[i].term[IFB_TERM_ELEMENTWISE], LAYERS * layer);
        assert_int_equal(st[i].term[IFB_TERM_SAMPLING], sampling);
    }
    run_free(&w);
}

static void test_host_gap(void **state)
{
    (void)state;
    run w;
    one_request(&w, ", host_step: 1234us", 25000000000ull, 2 * IFB_US);
    size_t n;
    const ifb_serving_step *st = ifb_serving_steps(w.s, &n);
    assert_true(n > 2);
    for (size_t i = 0; i + 1 < n; i++) {
        assert_int_equal(st[i].host_gap, 1234 * IFB_US);
        assert_int_equal(st[i + 1].start - st[i].end, 1234 * IFB_US);
    }
    run_free(&w);
    /* off: no gap at all */
    one_request(&w, ", overheads: false", 25000000000ull, 2 * IFB_US);
    st = ifb_serving_steps(w.s, &n);
    for (size_t i = 0; i + 1 < n; i++)
        assert_int_equal(st[i + 1].start, st[i].end);
    run_free(&w);
}

/* ---- single-batch overlap ----------------------------------------------------------------- */

/* A message of b bytes on the ideal network that the sender starts at s0 with its egress and
 * the receiver's ingress free: done at s0 + latency + b / rate. */
static ifb_time ser(uint64_t b, uint64_t rate)
{
    return ifb_tx_time(b, rate);
}

/* The step of one decode token of tiny-ds (2 MoE layers of 2 routed experts, both picked, and
 * one shared expert; the request on GPU 0 of 2 servers), from the parts' own durations, as the
 * schedule composes them. sbo: the shared experts overlap the dispatch, the combine's J pieces
 * leave GPU 1 as its down GEMM produces them. */
static ifb_time tiny_ds_step(ifb_sv_eng *e, int sbo, int J, uint64_t rate, ifb_time L, int ctx)
{
    const ifb_model *m = e->m;
    tokset t = {.nd = 1, .q = 1, .ctx_sum = ctx};
    ifb_time pre0 = ifb_sv_attn_time(e, &t) + ifb_sv_gemm(e, G_RT, 1, m->hidden, m->experts);
    ifb_time sh0 = ifb_sv_shared_time(e, 1), up, down;
    ifb_sv_routed_parts(e, 1, 0, &up, &down); /* one copy on each GPU */
    uint64_t bd = (uint64_t)e->dbytes, bc = (uint64_t)e->cbytes;
    ifb_time t0 = 0, t1 = 0; /* each GPU's layer start */
    for (int l = 0; l < (int)m->layers; l++) {
        ifb_time a = t0 + pre0;              /* GPU 0 posts its copy for GPU 1's expert */
        ifb_time m1 = a + L + ser(bd, rate); /* GPU 1 has it (its barrier: GPU 0 at a) */
        if (m1 < t1)
            m1 = t1;
        ifb_time e0, end0, end1;
        if (sbo) {
            ifb_time d0 = (a + sh0 > t1 ? a + sh0 : t1) + up; /* GPU 0: shared during dispatch */
            ifb_time c1 = m1 + up;                            /* GPU 1 starts its down GEMM */
            /* pieces of the combine as GPU 1's down GEMM produces them */
            ifb_time tx = 0, rx = 0, last = 0;
            for (int j = 0; j < J; j++) {
                ifb_time rel = c1 + down * (ifb_time)(j + 1) / (ifb_time)J;
                uint64_t pb = bc / (uint64_t)J + ((uint64_t)j < bc % (uint64_t)J ? 1 : 0);
                ifb_time s0 = rel > tx ? rel : tx;
                tx = s0 + ser(pb, rate);
                ifb_time arr = s0 + L;
                ifb_time r0 = arr > rx ? arr : rx;
                rx = r0 + ser(pb, rate);
                last = rx;
            }
            e0 = d0;
            end0 = e0 + down > last ? e0 + down : last;
            if (c1 > end0)
                end0 = c1;
            end1 = c1 + down > e0 ? c1 + down : e0;
        } else {
            e0 = a > t1 ? a : t1;
            ifb_time c1 = m1 + up + down; /* GPU 1's shared share is empty */
            ifb_time arr = c1 + L + ser(bc, rate);
            end0 = e0 + sh0 + up + down > arr ? e0 + sh0 + up + down : arr;
            end1 = c1 > e0 + sh0 + up + down ? c1 : e0 + sh0 + up + down;
        }
        t0 = end0;
        t1 = end1;
    }
    ifb_time lm = ifb_sv_gemm(e, G_LM, 1, m->hidden, m->vocab);
    return t0 + lm > t1 ? t0 + lm : t1;
}

static void check_sbo(int sbo)
{
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "workload:\n  model: " DATA "tiny-ds-config.json\n  weight_dtype: bf16\n"
             "  gpu: H20\n  concurrency: 1\n  input_len: 64\n  output_len: 4\n"
             "  requests: 1\n  warmup: 0\n  parallel: {overlap: %s}\n"
             "  compute: {kernel_tables: false, eff_compute: 0.5, eff_memory: 0.8,"
             " overheads: false}\n"
             "  deepep: {gpu_work: false, signals: false, wqe_rate: 0, chunks: 4}\n",
             sbo ? "sbo" : "false");
    uint64_t rate = 10000000000ull; /* slow enough that the combine's pieces matter */
    ifb_time L = 3 * IFB_US;
    run w;
    start(&w, yaml, 2, 1, rate, L);
    finish(&w);
    size_t n;
    const ifb_serving_step *st = ifb_serving_steps(w.s, &n);
    assert_int_equal(n, 4);
    for (size_t i = 1; i < n; i++) { /* decode step i: the prompt and i - 1 tokens cached */
        ifb_time want = tiny_ds_step(&w.s->eng[0], sbo, 4, rate, L, 64 + (int)i);
        ifb_time got = st[i].end - st[i].start;
        if (got > want + 1000 || want > got + 1000)
            fail_msg("%s decode step %zu: %.3f us, expected %.3f us", sbo ? "SBO" : "plain", i,
                     (double)got / 1e6, (double)want / 1e6);
    }
    run_free(&w);
}

static void test_single_batch_overlap(void **state)
{
    (void)state;
    check_sbo(0);
    check_sbo(1);
}

/* ---- DeepEP low latency: the WQE rate ----------------------------------------------------- */

static void test_wqe_gate_in_step(void **state)
{
    (void)state;
    /* zero-time network, one WQE per microsecond: each layer's dispatch (GPU 0 -> 1) and combine
     * (1 -> 0) of one copy wait 1 us each on the critical path */
    run w;
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "workload:\n  model: " DATA "tiny-moe-config.json\n  weight_dtype: bf16\n"
             "  gpu: H20\n  concurrency: 1\n  input_len: 64\n  output_len: 4\n"
             "  requests: 1\n  warmup: 0\n  compute: {overheads: false}\n"
             "  deepep: {gpu_work: false, wqe_rate: 1e6}\n");
    start(&w, yaml, 2, 1, 0, 0);
    finish(&w);
    size_t n;
    const ifb_serving_step *st = ifb_serving_steps(w.s, &n);
    for (size_t i = 1; i < n; i++)
        assert_int_equal(st[i].end - st[i].start, st[i].compute_only + 2 * LAYERS * IFB_US);
    run_free(&w);
}

static ifb_deepep_bench bench_spec(int normal, int tokens, int topk, int experts)
{
    ifb_deepep_bench b;
    memset(&b, 0, sizeof b);
    ifb_deepep_cfg_defaults(&b.cfg);
    b.normal = normal;
    b.tokens = tokens;
    b.topk = topk;
    b.experts = experts;
    b.topk_groups = 4;
    b.hidden = 1024;
    b.dbytes = 1024 + 32;
    b.cbytes = 2048;
    b.per_token = 1;
    b.hbm_bps = 4e12;
    b.seed = 7;
    return b;
}

static ifb_deepep_result bench_run(const ifb_deepep_bench *b, int n, int G, uint64_t rate,
                                   uint64_t local_rate, ifb_time lat)
{
    ifb_sim sim;
    ifb_sim_init(&sim, 1);
    ifb_ideal *net;
    ifb_ideal_cfg ic = ifb_ideal_cfg_zero(n, G);
    ic.rate_bps = rate;
    ic.local_rate_bps = local_rate;
    ic.latency = ic.local_latency = lat;
    ifb_err e = {{0}};
    assert_int_equal(ifb_ideal_create(&net, &sim, &ic, &e), 0);
    int ep[64];
    for (int i = 0; i < n; i++)
        ep[i] = i;
    ifb_deepep_result r;
    if (ifb_deepep_bench_run(&sim, ifb_ideal_net(net), b, ep, n, G, &r, &e))
        fail_msg("%s", e.msg);
    ifb_ideal_destroy(net);
    ifb_sim_destroy(&sim);
    return r;
}

static void test_wqe_rate_per_token(void **state)
{
    (void)state;
    /* 4 ranks, one per server, 4 experts, every token to all 4: each rank posts 3 remote copies
     * per token, then 3 signals, one WQE each, at 1 per us; rank q is done when the last
     * sender's signal to it was posted. Zero-time network, no GPU work. */
    int n = 4, T = 10;
    ifb_deepep_bench b = bench_spec(0, T, 4, 4);
    b.cfg.gpu_work = 0;
    b.cfg.wqe_rate = 1e6;
    ifb_deepep_result r = bench_run(&b, n, 1, 0, 0, 0);
    /* sender s's signal to q is WQE number T (n - 1) + (position of q among the others) */
    double sum = 0;
    for (int q = 0; q < n; q++) {
        int last = 0;
        for (int s = 0; s < n; s++) {
            if (s == q)
                continue;
            int pos = q < s ? q + 1 : q; /* 1-based among s's other ranks, in rank order */
            int w = T * (n - 1) + pos;
            last = w > last ? w : last;
        }
        sum += last;
    }
    assert_int_equal(r.mean, (ifb_time)llround(sum / n * 1e6));
    assert_int_equal(r.copies, (uint64_t)(n * T * 4));
    /* no rate limit: the same phase takes no time at all */
    b.cfg.wqe_rate = 0;
    r = bench_run(&b, n, 1, 0, 0, 0);
    assert_int_equal(r.mean, 0);
}

/* ---- DeepEP normal: chunked forwarding ---------------------------------------------------- */

static void test_normal_chunked_forwarding(void **state)
{
    (void)state;
    /* 2 servers x 4 GPUs, 64 experts, top-8: the RDMA hops and the NVLink forwards are each
     * bandwidth-bound at their own rate. Idle network (nothing else in flight). */
    int n = 8, G = 4;
    uint64_t rdma = 50000000000ull, nvl = 20000000000ull * 8; /* 50 and 160 Gb/s x 8 ... */
    ifb_deepep_bench b = bench_spec(1, 512, 8, 64);
    b.cfg.gpu_work = 0;
    /* each stage alone (the other infinitely fast), cut in the same pieces as the run */
    ifb_time alone[2][2]; /* [pieces 1 or 32][RDMA, NVLink] */
    for (int i = 0; i < 2; i++) {
        b.cfg.chunks = i ? 32 : 1;
        alone[i][0] = bench_run(&b, n, G, rdma, 0, IFB_US).mean;
        alone[i][1] = bench_run(&b, n, G, 0, nvl, IFB_US).mean;
    }
    b.cfg.chunks = 1;
    ifb_time t_seq = bench_run(&b, n, G, rdma, nvl, IFB_US).mean;
    b.cfg.chunks = 32;
    ifb_time t_pipe = bench_run(&b, n, G, rdma, nvl, IFB_US).mean;
    printf(
        "  whole messages: RDMA alone %.1f us, NVLink alone %.1f us, both %.1f us; in 32 pieces: "
        "%.1f, %.1f, both %.1f us\n",
        (double)alone[0][0] / 1e6, (double)alone[0][1] / 1e6, (double)t_seq / 1e6,
        (double)alone[1][0] / 1e6, (double)alone[1][1] / 1e6, (double)t_pipe / 1e6);
    /* forwarding after every RDMA piece arrived: the forwards come after the RDMA time (the
     * direct copies inside a server overlap it), well above the larger of the two */
    ifb_time mx1 = alone[0][0] > alone[0][1] ? alone[0][0] : alone[0][1];
    assert_true((double)t_seq > 1.15 * (double)mx1);
    /* pipelined: the larger of the two plus about one piece of the other, not the sum */
    ifb_time mx = alone[1][0] > alone[1][1] ? alone[1][0] : alone[1][1];
    ifb_time sum = alone[1][0] + alone[1][1];
    assert_true((double)t_pipe < (double)mx * (1 + 2.0 / 32) + 4 * IFB_US);
    assert_true((double)t_pipe < 0.7 * (double)sum);
    assert_true(t_pipe + IFB_US >= mx);
}

/* ---- MTP --------------------------------------------------------------------------------------
 */

static void test_accept_p(void **state)
{
    (void)state;
    for (int d = 1; d <= 5; d++)
        for (double mean = 1.05; mean < d + 1; mean += 0.25) {
            double p = ifb_mtp_accept_p(mean, d), f = 0, t = 1;
            for (int i = 0; i <= d; i++, t *= p)
                f += t;
            assert_true(fabs(f - mean) < 1e-9);
        }
    assert_true(ifb_mtp_accept_p(1.0, 3) == 0);
    assert_true(ifb_mtp_accept_p(4.0, 3) == 1);
}

static void test_mtp_acceptance_and_drafts(void **state)
{
    (void)state;
    /* 3 draft steps, top-1, 4 tokens verified, mean accept 2.5: 400 long decodes */
    const char *yaml = "workload:\n  model: " DATA "tiny-ds-config.json\n  weight_dtype: bf16\n"
                       "  gpu: H20\n  concurrency: 4\n  input_len: 32\n  output_len: 600\n"
                       "  requests: 8\n  warmup: 0\n"
                       "  parallel: {mtp: true, mtp_steps: 3, mtp_topk: 1, accept_length: 2.5}\n"
                       "  compute: {kernel_tables: false}\n  deepep: {signals: false}\n";
    run w;
    start(&w, yaml, 2, 1, 0, 0);
    finish(&w);
    const ifb_serving_result *r = w.res;
    double mean = (double)r->mtp_accepted / (double)r->mtp_verifies;
    double p = ifb_mtp_accept_p(2.5, 3);
    /* variance of 1 + min(Geometric, 3) with P(X >= k) = p^k */
    double ex = 0, ex2 = 0;
    for (int k = 0; k <= 3; k++) {
        double pk = k < 3 ? pow(p, k) * (1 - p) : pow(p, 3);
        ex += (1 + k) * pk;
        ex2 += (1.0 + k) * (1 + k) * pk;
    }
    double sd = sqrt(ex2 - ex * ex);
    assert_true(fabs(ex - 2.5) < 1e-9);
    if (fabs(mean - 2.5) > 4 * sd / sqrt((double)r->mtp_verifies))
        fail_msg("mean accepted %.4f over %llu verifies, configured 2.5 (sd %.3f)", mean,
                 (unsigned long long)r->mtp_verifies, sd);
    /* the draft passes' all-to-alls every decode step: per request the main model's 4 verified
     * tokens in each of 2 layers, 3 draft passes of 1 token and the extend pass of 4, one copy
     * of each to the other GPU each way */
    size_t n;
    const ifb_serving_step *st = ifb_serving_steps(w.s, &n);
    uint64_t per = (uint64_t)(w.s->eng[0].dbytes + w.s->eng[0].cbytes);
    int checked = 0;
    for (size_t i = 0; i < n; i++) {
        if (st[i].prefill_tokens || !st[i].decode_seqs)
            continue;
        uint64_t nd = (uint64_t)st[i].decode_seqs;
        assert_int_equal(st[i].bytes[IFB_TC_A2A], (2 * 4 + 3 * 1 + 4) * nd * per);
        assert_true(st[i].term[IFB_TERM_DRAFT] > 0);
        checked++;
    }
    assert_true(checked > 100);
    run_free(&w);
}

/* ---- prefix cache --------------------------------------------------------------------------- */

static void test_prefix_lru(void **state)
{
    (void)state;
    ifb_pcache c;
    ifb_pc_init(&c);
    uint64_t a[] = {1, 2, 3}, b[] = {1, 2, 4}, x[] = {9};
    int added;
    assert_int_equal(ifb_pc_lookup(&c, a, 3), 0);
    ifb_pc_insert(&c, a, 0, 3, &added);
    assert_int_equal(added, 3);
    assert_int_equal(ifb_pc_lookup(&c, b, 3), 2); /* 1, 2 shared */
    ifb_pc_insert(&c, b, 2, 3, &added);
    assert_int_equal(added, 1);
    assert_int_equal(c.blocks, 4);
    /* pinned blocks cannot go */
    assert_int_equal(ifb_pc_evict(&c, 10), 0);
    ifb_pc_release(&c, a, 3); /* 3 released first: least recently */
    assert_int_equal(ifb_pc_evict(&c, 1), 1);
    assert_int_equal(ifb_pc_lookup(&c, a, 3), 2); /* 3 is gone; 1 and 2 still held by b */
    ifb_pc_release(&c, a, 2);
    ifb_pc_release(&c, b, 3); /* now 1, 2, 4 released in this order */
    assert_int_equal(ifb_pc_evict(&c, 2), 2);
    assert_int_equal(ifb_pc_lookup(&c, b, 3), 0); /* 1 went first */
    assert_int_equal(ifb_pc_lookup(&c, x, 1), 0);
    assert_int_equal(c.blocks, 1);
    /* many blocks through the table: every one found, then every one evicted */
    ifb_pc_free(&c);
    ifb_pc_init(&c);
    uint64_t *ids = malloc(5000 * sizeof *ids);
    for (int i = 0; i < 5000; i++)
        ids[i] = (uint64_t)i * 7919u;
    ifb_pc_insert(&c, ids, 0, 5000, &added);
    assert_int_equal(ifb_pc_lookup(&c, ids, 5000), 5000);
    ifb_pc_release(&c, ids, 5000);
    ifb_pc_release(&c, ids, 5000);
    assert_int_equal(ifb_pc_evict(&c, 4000), 4000);
    assert_int_equal(ifb_pc_lookup(&c, ids + 4000, 1000), 1000);
    assert_int_equal(ifb_pc_lookup(&c, ids, 1), 0);
    free(ids);
    ifb_pc_free(&c);
}

static void test_prefix_hits_exact(void **state)
{
    (void)state;
    /* five prompts of 512-token blocks, one at a time (concurrency 1): A = 1 2 3, B = 1 2 4
     * (hits 1 2), C = 1 2 3 5 plus 100 tokens (hits 1 2 3), D = 6 (no hit), E = 1 2 3 5 in
     * exactly 4 blocks (hits 1 2 3: the last block is computed, at most input - 1 tokens hit) */
    const char *trace =
        "{\"timestamp\": 0, \"input_length\": 1536, \"output_length\": 2, \"hash_ids\": [1, 2, "
        "3]}\n"
        "{\"timestamp\": 0, \"input_length\": 1536, \"output_length\": 2, \"hash_ids\": [1, 2, "
        "4]}\n"
        "{\"timestamp\": 0, \"input_length\": 2148, \"output_length\": 2, \"hash_ids\": [1, 2, 3, "
        "5, "
        "7]}\n"
        "{\"timestamp\": 0, \"input_length\": 512, \"output_length\": 2, \"hash_ids\": [6]}\n"
        "{\"timestamp\": 0, \"input_length\": 2048, \"output_length\": 2, \"hash_ids\": [1, 2, 3, "
        "5]}\n";
    FILE *f = fopen("prefix_trace.jsonl", "w");
    assert_non_null(f);
    fputs(trace, f);
    fclose(f);
    const char *yaml = "workload:\n  model: " DATA "tiny-moe-config.json\n  weight_dtype: bf16\n"
                       "  gpu: H20\n  concurrency: 1\n  trace: prefix_trace.jsonl\n"
                       "  requests: 5\n  warmup: 0\n  parallel: {ep: 1}\n"
                       "  prefix_cache: {enable: true}\n";
    run w;
    start(&w, yaml, 1, 1, 0, 0);
    finish(&w);
    const ifb_serving_result *r = w.res;
    assert_int_equal(r->pc_lookups, 5);
    assert_int_equal(r->pc_tokens, 1536 + 1536 + 2148 + 512 + 2048);
    assert_int_equal(r->pc_hit_tokens, (2 + 3 + 0 + 3) * 512);
    /* the prefill tokens computed are the prompts less the hits */
    size_t n;
    const ifb_serving_step *st = ifb_serving_steps(w.s, &n);
    int64_t pf = 0, hit = 0;
    for (size_t i = 0; i < n; i++) {
        pf += st[i].prefill_tokens;
        hit += st[i].prefix_hit_tokens;
    }
    assert_int_equal(hit, (2 + 3 + 0 + 3) * 512);
    assert_int_equal(pf, 1536 + 1536 + 2148 + 512 + 2048 - hit);
    run_free(&w);
    remove("prefix_trace.jsonl");
}

/* ---- the routed experts at DeepSeek's shape on H20 ---------------------------------------- */

static void test_expert_shape_table(void **state)
{
    (void)state;
    /* DeepSeek-R1 over 2 x 8 H20 (EP16, 16 experts per GPU): 64 tokens per GPU, 8 copies each,
     * is DeepGEMM's sample of 32 tokens per expert: 154 us up, 84 us down (DeepGEMM PR #192) */
    run w;
    start(&w, "workload: {concurrency: 1, requests: 1, warmup: 0}\n", 2, 8, 0, 0);
    ifb_sv_eng *e = &w.s->eng[0];
    ifb_time up, down;
    ifb_sv_routed_parts(e, 64 * 8, 0, &up, &down);
    assert_int_equal(up, 154 * IFB_US);
    assert_int_equal(down, 84 * IFB_US);
    assert_true(e->ksrc[KS_ROUTED][KSRC_TABLE] == 1);
    /* below the table's samples: its own efficiency at the nearest sample, counted as
     * extrapolated */
    ifb_sv_routed_parts(e, 8 * 8, 0, &up, &down);
    assert_true(e->ksrc[KS_ROUTED][KSRC_EXTRAP] == 1);
    finish(&w);
    run_free(&w);
}

/* ---- decode-only instances ---------------------------------------------------------------- */

static void test_prefilled_decode_only(void **state)
{
    (void)state;
    /* 4 requests on 2 GPUs, prompts already prefilled: no step prefills, every request's first
     * token is there on admission (TTFT 0 in the closed loop without a host gap), each then
     * decodes output - 1
     * tokens, one per step; the batch stays at the concurrency */
    const char *yaml = "workload:\n  model: " DATA "tiny-moe-config.json\n  weight_dtype: bf16\n"
                       "  gpu: H20\n  concurrency: 4\n  input_len: 300\n  output_len: 9\n"
                       "  requests: 8\n  warmup: 0\n  prefilled: true\n"
                       "  compute: {overheads: false}\n";
    run w;
    start(&w, yaml, 2, 1, 25000000000ull, 2 * IFB_US);
    finish(&w);
    size_t n;
    const ifb_serving_step *st = ifb_serving_steps(w.s, &n);
    assert_true(n >= 8);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(st[i].prefill_tokens, 0);
        assert_int_equal(st[i].normal_a2a, 0);
    }
    assert_int_equal(st[0].decode_seqs, 4);
    const ifb_serving_result *r = w.res;
    assert_true(r->ttft.max == 0);
    /* the window's tokens are the decode steps' own: 8 requests x 8 decoded tokens at least */
    assert_true(r->tokens_emitted >= 8 * 8);
    size_t nr;
    const ifb_serving_req *q = ifb_serving_requests(w.s, &nr);
    for (size_t i = 0; i < nr; i++)
        if (q[i].measured)
            assert_int_equal(q[i].generated, 9);
    run_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_launch_gaps),
        cmocka_unit_test(test_elementwise_bytes),
        cmocka_unit_test(test_host_gap),
        cmocka_unit_test(test_single_batch_overlap),
        cmocka_unit_test(test_wqe_gate_in_step),
        cmocka_unit_test(test_wqe_rate_per_token),
        cmocka_unit_test(test_normal_chunked_forwarding),
        cmocka_unit_test(test_accept_p),
        cmocka_unit_test(test_mtp_acceptance_and_drafts),
        cmocka_unit_test(test_prefix_lru),
        cmocka_unit_test(test_prefix_hits_exact),
        cmocka_unit_test(test_expert_shape_table),
        cmocka_unit_test(test_prefilled_decode_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
