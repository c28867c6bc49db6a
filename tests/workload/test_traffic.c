/* Expert routing and EP all-to-all byte matrices on 2 servers x 8 GPUs with DeepSeek-R1:
 * exact totals for uniform routing, the NVLink/NIC split the placement dictates, node
 * deduplication of the normal style, and Zipf skew raising the largest per-GPU receive volume. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/embedded.h"
#include "workload/model.h"
#include "workload/parallel.h"
#include "workload/traffic.h"

enum { N = 16, G = 8, TOK = 12 }; /* 16 EP ranks, 8 per server, 12 tokens per rank */

typedef struct fx {
    ifb_model m;
    ifb_parallel par;
    ifb_ep_group grp;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    ifb_err e = {{0}};
    const char *txt = ifb_embedded_file("deepseek-r1-config.json");
    assert_non_null(txt);
    assert_int_equal(ifb_model_load_string(&f->m, txt, "deepseek-r1-config.json", &e), 0);
    ifb_par_cfg pc = {.layout = IFB_LAYOUT_DP_EP, .tp = 1, .ep = N, .key = "workload.parallel"};
    assert_int_equal(ifb_parallel_build(&f->par, &f->m, &pc, 2, G, &e), 0);
    f->grp = (ifb_ep_group){N, 0, G, f->par.expert_rank};
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    ifb_parallel_free(&f->par);
    free(f);
    return 0;
}

static void test_group_limited_routing(void **state)
{
    fx *f = *state;
    ifb_router r;
    ifb_err e = {{0}};
    assert_int_equal(ifb_router_init(&r, &f->m, 58, IFB_ROUTE_UNIFORM, 0, 7, &e), 0);
    assert_int_equal(r.topk, 8);
    assert_int_equal(r.n_group, 8);
    assert_int_equal(r.topk_group, 4);
    int ex[1000 * 8];
    ifb_router_route(&r, 3, 1000, ex);
    long hits[256] = {0};
    for (int t = 0; t < 1000; t++) {
        int groups[8] = {0}, ng = 0;
        for (int k = 0; k < 8; k++) {
            int x = ex[t * 8 + k];
            assert_true(x >= 0 && x < 256);
            hits[x]++;
            for (int q = 0; q < k; q++)
                assert_int_not_equal(ex[t * 8 + q], x); /* distinct experts */
            if (!groups[x / 32]++)
                ng++;
        }
        assert_true(ng <= 4); /* at most topk_group groups */
    }
    /* uniform: every expert picked about 1000 * 8 / 256 = 31 times */
    for (int x = 0; x < 256; x++)
        assert_true(hits[x] > 5 && hits[x] < 80);
    /* deterministic for a seed */
    ifb_router r2;
    assert_int_equal(ifb_router_init(&r2, &f->m, 58, IFB_ROUTE_UNIFORM, 0, 7, &e), 0);
    int ex2[1000 * 8];
    ifb_router_route(&r2, 3, 1000, ex2);
    assert_memory_equal(ex, ex2, sizeof ex);
    ifb_router_free(&r);
    ifb_router_free(&r2);
}

/* Low-latency dispatch/combine: totals exact, split as placement dictates. */
static void test_ll_matrix_uniform(void **state)
{
    fx *f = *state;
    ifb_router r;
    ifb_err e = {{0}};
    assert_int_equal(ifb_router_init(&r, &f->m, 58, IFB_ROUTE_UNIFORM, 0, 1, &e), 0);
    int ntok[N], ex[N * TOK * 8];
    for (int s = 0; s < N; s++)
        ntok[s] = TOK;
    ifb_router_route(&r, 0, N * TOK, ex);
    uint64_t copies[N * N];
    ifb_ep_copies(&f->grp, 8, ntok, ex, copies);
    /* count from the routing itself, independently of the plan */
    uint64_t self = 0, nvl = 0, nic = 0, tot = 0;
    for (int s = 0; s < N; s++)
        for (int t = 0; t < TOK; t++)
            for (int k = 0; k < 8; k++) {
                int d = ex[(s * TOK + t) * 8 + k] % N; /* round-robin placement */
                tot++;
                if (d == s)
                    self++;
                else if (d / G == s / G)
                    nvl++;
                else
                    nic++;
            }
    uint64_t csum = 0;
    for (int i = 0; i < N * N; i++)
        csum += copies[i];
    assert_int_equal(csum, (uint64_t)N * TOK * 8);
    ifb_xplan p;
    ifb_xplan_init(&p);
    ifb_ep_plan(&p, &f->grp, IFB_A2A_LOW_LATENCY, 0, 8, ntok, ex, 7392);
    assert_int_equal(p.total_bytes, (uint64_t)N * TOK * 8 * 7392); /* tokens x top-k x 7392 */
    assert_int_equal(p.self_bytes, self * 7392);
    assert_int_equal(p.nvlink_bytes, nvl * 7392);
    assert_int_equal(p.nic_bytes, nic * 7392);
    assert_true(nic > 0 && nvl > 0);
    /* one message per (src, dst) pair with copies, carrying copies x 7392 */
    for (size_t i = 0; i < p.nx; i++) {
        const ifb_xfer *x = &p.x[i];
        assert_int_equal(x->bytes, copies[x->src * N + x->dst] * 7392);
        assert_int_equal(x->stage, 0);
        assert_int_equal(x->final, 1);
    }
    ifb_ep_plan(&p, &f->grp, IFB_A2A_LOW_LATENCY, 1, 8, ntok, ex, 14336);
    assert_int_equal(p.total_bytes, (uint64_t)N * TOK * 8 * 14336);
    assert_int_equal(p.nic_bytes, nic * 14336);
    for (size_t i = 0; i < p.nx; i++) /* combine flows back: dst -> src */
        assert_int_equal(p.x[i].bytes, copies[p.x[i].dst * N + p.x[i].src] * 14336);
    ifb_xplan_free(&p);
    ifb_router_free(&r);
}

/* Hand-made routing with exact expected values. */
static void test_ll_matrix_exact(void **state)
{
    fx *f = *state;
    int ntok[N] = {0};
    ntok[0] = 2;
    /* token 0: experts 0..7 -> ranks 0..7 (server 0); token 1: experts 8..15 -> ranks 8..15 */
    int ex[16];
    for (int i = 0; i < 16; i++)
        ex[i] = i;
    ifb_xplan p;
    ifb_xplan_init(&p);
    ifb_ep_plan(&p, &f->grp, IFB_A2A_LOW_LATENCY, 0, 8, ntok, ex, 7392);
    assert_int_equal(p.total_bytes, 16 * 7392);
    assert_int_equal(p.self_bytes, 7392);
    assert_int_equal(p.nvlink_bytes, 7 * 7392);
    assert_int_equal(p.nic_bytes, 8 * 7392);
    assert_int_equal(p.nx, 15);
    assert_int_equal(p.max_recv, 7392);
    assert_int_equal(p.expf[0], 0);
    assert_int_equal(p.expf[9], 1);
    /* contiguous placement: experts 0..15 all on rank 0 -> everything stays local */
    ifb_par_cfg pc = {
        .layout = IFB_LAYOUT_DP_EP, .tp = 1, .ep = N, .placement = IFB_PLACE_CONTIGUOUS};
    ifb_parallel par;
    ifb_err e = {{0}};
    assert_int_equal(ifb_parallel_build(&par, &f->m, &pc, 2, G, &e), 0);
    ifb_ep_group g2 = {N, 0, G, par.expert_rank};
    ifb_ep_plan(&p, &g2, IFB_A2A_LOW_LATENCY, 0, 8, ntok, ex, 7392);
    assert_int_equal(p.self_bytes, 16 * 7392);
    assert_int_equal(p.nx, 0);
    ifb_parallel_free(&par);
    ifb_xplan_free(&p);
}

/* Normal style: one RDMA copy per remote node to the same-index GPU, then NVLink forwarding. */
static void test_normal_dedup(void **state)
{
    fx *f = *state;
    int ntok[N] = {0};
    ntok[1] = 1;
    /* rank 1's token: experts on ranks 9, 9, 10, 12 (server 1) and 2, 3 (server 0) */
    int ex[8] = {9, 25, 10, 12, 2, 3, 41, 44}; /* 25 % 16 = 9, 41 % 16 = 9, 44 % 16 = 12 */
    ifb_xplan p;
    ifb_xplan_init(&p);
    ifb_ep_plan(&p, &f->grp, IFB_A2A_NORMAL, 0, 8, ntok, ex, 7392);
    /* stage 0: 1 -> 9 (relay, non-final, once), 1 -> 2 and 1 -> 3 (final, direct)
     * stage 1: 9 -> 10, 9 -> 12 (final); rank 9 itself got its copy with the relay hop */
    assert_int_equal(p.nx, 5);
    assert_int_equal(p.nic_bytes, 7392);
    assert_int_equal(p.nvlink_bytes, 4 * 7392);
    assert_int_equal(p.exp0[9], 1);
    assert_int_equal(p.expf[10], 1);
    assert_int_equal(p.expf[12], 1);
    assert_int_equal(p.expf[2], 1);
    assert_int_equal(p.expf[9], 0);
    int seen_relay = 0;
    for (size_t i = 0; i < p.nx; i++) {
        const ifb_xfer *x = &p.x[i];
        if (x->src == 1 && x->dst == 9) {
            seen_relay = 1;
            assert_int_equal(x->stage, 0);
            assert_int_equal(x->final, 0);
        }
        if (x->src == 9)
            assert_int_equal(x->stage, 1);
    }
    assert_true(seen_relay);
    /* combine: 10 -> 9, 12 -> 9 (NVLink, non-final), 9 -> 1 (RDMA, final), 2 -> 1, 3 -> 1 */
    ifb_ep_plan(&p, &f->grp, IFB_A2A_NORMAL, 1, 8, ntok, ex, 14336);
    assert_int_equal(p.nx, 5);
    assert_int_equal(p.nic_bytes, 14336);
    assert_int_equal(p.exp0[9], 2);
    assert_int_equal(p.expf[1], 3);
    ifb_xplan_free(&p);
}

/* Zipf: the hottest GPU receives more than under uniform routing, same tokens. */
static void test_zipf_raises_max_receive(void **state)
{
    fx *f = *state;
    ifb_err e = {{0}};
    int ntok[N], ex[N * 64 * 8];
    for (int s = 0; s < N; s++)
        ntok[s] = 64;
    ifb_xplan p;
    ifb_xplan_init(&p);
    uint64_t max_u = 0, max_z = 0;
    ifb_router r;
    assert_int_equal(ifb_router_init(&r, &f->m, 4, IFB_ROUTE_UNIFORM, 0, 3, &e), 0);
    for (int l = 0; l < 4; l++) {
        ifb_router_route(&r, l, N * 64, ex);
        ifb_ep_plan(&p, &f->grp, IFB_A2A_LOW_LATENCY, 0, 8, ntok, ex, 7392);
        assert_int_equal(p.total_bytes, (uint64_t)N * 64 * 8 * 7392);
        max_u += p.max_recv;
    }
    ifb_router_free(&r);
    assert_int_equal(ifb_router_init(&r, &f->m, 4, IFB_ROUTE_ZIPF, 1.2, 3, &e), 0);
    for (int l = 0; l < 4; l++) {
        ifb_router_route(&r, l, N * 64, ex);
        for (int t = 0; t < N * 64; t++) /* still group-limited and distinct */
            for (int k = 1; k < 8; k++)
                for (int q = 0; q < k; q++)
                    assert_int_not_equal(ex[t * 8 + k], ex[t * 8 + q]);
        ifb_ep_plan(&p, &f->grp, IFB_A2A_LOW_LATENCY, 0, 8, ntok, ex, 7392);
        assert_int_equal(p.total_bytes, (uint64_t)N * 64 * 8 * 7392);
        max_z += p.max_recv;
    }
    ifb_router_free(&r);
    /* uniform mean receive is 64 x 8 x 7392 per GPU; Zipf 1.2 piles onto a few experts */
    assert_true(max_u < (uint64_t)4 * 64 * 8 * 7392 * 13 / 10);
    assert_true(max_z > max_u * 3 / 2);
    ifb_xplan_free(&p);
    /* bad skew */
    assert_int_equal(ifb_router_init(&r, &f->m, 4, IFB_ROUTE_ZIPF, 0, 3, &e), -1);
}

static void test_ring_bytes(void **state)
{
    (void)state;
    assert_int_equal(ifb_ring_step_bytes(16 * 7168 * 2, 16), 7168 * 2);
    assert_int_equal(ifb_ring_step_bytes(17, 16), 2);
    assert_int_equal(ifb_ring_step_bytes(5, 1), 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_group_limited_routing),   cmocka_unit_test(test_ll_matrix_uniform),
        cmocka_unit_test(test_ll_matrix_exact),         cmocka_unit_test(test_normal_dedup),
        cmocka_unit_test(test_zipf_raises_max_receive), cmocka_unit_test(test_ring_bytes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
