/* Wide EP with redundant experts (issue 13, item 4): the placement against a hand-worked
 * example (replicas to the heaviest load per replica, then packed onto the least-loaded rank),
 * the classic maps unchanged without redundancy, EP sizes that do not divide the experts, the
 * busiest GPU's received bytes falling as redundant experts are added under Zipf routing, the
 * routing file round trip and its errors, and the configuration errors. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/ideal.h"
#include "scenario/serving_cfg.h"
#include "workload/eplb.h"
#include "workload/serving/serving.h"

/* E = 8, loads 8 4 2 2 1 1 1 1 (shares .4 .2 .1 .1 .05 x4), ep 4. Without redundancy (2 slots a
 * rank) the packing is e0 r0, e1 r1, e2 r2, e3 r3, e4 r2, e5 r3, e6 r1, e7 r0: rank loads .45
 * .25 .15 .15. With 4 redundant slots e0 gets 3 more and e1 one (0.4/2 = 0.2 > 0.1 each
 * after), every replica then carries .1 except e4..e7 (.05): each rank gets .1 + .1 + .05. */
static void test_place_by_load(void **state)
{
    (void)state;
    const double load[8] = {8, 4, 2, 2, 1, 1, 1, 1};
    ifb_eplb p;
    ifb_err e;
    assert_int_equal(ifb_eplb_place(&p, 8, 0, 4, IFB_PLACE_LOAD, load, &e), 0);
    const double want0[4] = {0.45, 0.25, 0.15, 0.15};
    const int rank0[8] = {0, 1, 2, 3, 2, 3, 1, 0};
    for (int r = 0; r < 4; r++)
        assert_true(fabs(p.rank_load[r] - want0[r]) < 1e-12);
    for (int x = 0; x < 8; x++)
        assert_int_equal(p.slot_rank[p.rep[p.rep_off[x]]], rank0[x]);
    assert_int_equal(p.max_replicas, 1);
    ifb_eplb_free(&p);
    assert_int_equal(ifb_eplb_place(&p, 8, 4, 4, IFB_PLACE_LOAD, load, &e), 0);
    assert_int_equal(p.slots, 12);
    assert_int_equal(p.rep_off[1] - p.rep_off[0], 4);
    assert_int_equal(p.rep_off[2] - p.rep_off[1], 2);
    for (int r = 0; r < 4; r++)
        assert_true(fabs(p.rank_load[r] - 0.25) < 1e-12);
    /* replicas of one expert sit on distinct ranks */
    for (int x = 0; x < 8; x++)
        for (int i = p.rep_off[x]; i < p.rep_off[x + 1]; i++)
            for (int j = p.rep_off[x]; j < i; j++)
                assert_int_not_equal(p.slot_rank[p.rep[i]], p.slot_rank[p.rep[j]]);
    ifb_eplb_free(&p);
}

/* Without redundancy the round-robin and contiguous maps are the old ones; an EP size that does
 * not divide the experts gives ranks of floor and ceil slots. */
static void test_place_classic(void **state)
{
    (void)state;
    ifb_eplb p;
    ifb_err e;
    assert_int_equal(ifb_eplb_place(&p, 256, 0, 16, IFB_PLACE_ROUND_ROBIN, NULL, &e), 0);
    for (int x = 0; x < 256; x++)
        assert_int_equal(p.slot_rank[p.rep[p.rep_off[x]]], x % 16);
    ifb_eplb_free(&p);
    assert_int_equal(ifb_eplb_place(&p, 256, 0, 16, IFB_PLACE_CONTIGUOUS, NULL, &e), 0);
    for (int x = 0; x < 256; x++)
        assert_int_equal(p.slot_rank[p.rep[p.rep_off[x]]], x / 16);
    ifb_eplb_free(&p);
    assert_int_equal(ifb_eplb_place(&p, 256, 0, 24, IFB_PLACE_ROUND_ROBIN, NULL, &e), 0);
    assert_int_equal(p.max_slots, 11); /* 256 = 16 x 11 + 8 x 10 */
    int cnt[24] = {0};
    for (int s = 0; s < 256; s++)
        cnt[p.slot_rank[s]]++;
    for (int r = 0; r < 24; r++)
        assert_int_equal(cnt[r], r < 16 ? 11 : 10);
    ifb_eplb_free(&p);
    /* DeepSeek's decode: 256 + 32 = 288 slots over EP144: 2 each, 32 experts twice */
    assert_int_equal(ifb_eplb_place(&p, 256, 32, 144, IFB_PLACE_LOAD, NULL, &e), 0);
    assert_int_equal(p.max_slots, 2);
    assert_int_equal(p.max_replicas, 2);
    ifb_eplb_free(&p);
    assert_int_equal(ifb_eplb_place(&p, 8, 0, 16, IFB_PLACE_LOAD, NULL, &e), -1);
}

static int load(const char *yaml, ifb_serving_cfg *out, ifb_err *e)
{
    ifb_cfg *c = ifb_cfg_load_string(yaml, "eplb.yaml", e);
    assert_non_null(c);
    int rc = ifb_serving_cfg_load(c, "workload", out, e);
    ifb_cfg_free(c);
    return rc;
}

/* A short closed-loop run on the zero-time network; returns the result's a2a figures. */
static void run_ep(const char *yaml, int servers, uint64_t *max, uint64_t *mean, double *share)
{
    ifb_serving_cfg cfg;
    ifb_err e = {{0}};
    if (load(yaml, &cfg, &e))
        fail_msg("config: %s", e.msg);
    ifb_serving *s;
    if (ifb_serving_create(&s, &cfg, servers, 8, &e))
        fail_msg("create: %s", e.msg);
    ifb_sim sim;
    ifb_sim_init(&sim, 1);
    ifb_ideal_cfg ic = ifb_ideal_cfg_zero(servers * 8, 8);
    ifb_ideal *id;
    assert_int_equal(ifb_ideal_create(&id, &sim, &ic, &e), 0);
    assert_int_equal(ifb_serving_start(s, &sim, ifb_ideal_net(id), &e), 0);
    assert_int_equal(ifb_sim_run(&sim), IFB_STOP_EMPTY);
    const ifb_serving_result *r = ifb_serving_finish(s);
    assert_true(r->done && r->finished > 0);
    *max = r->a2a_recv_max;
    *mean = r->a2a_recv_mean;
    *share = (double)r->a2a_recv_max / ((double)r->a2a_recv_mean * servers * 8);
    ifb_serving_destroy(s);
    ifb_serving_cfg_free(&cfg);
    ifb_ideal_destroy(id);
    ifb_sim_destroy(&sim);
}

#define EPRUN(ep, red, place)                                                                      \
    "workload:\n  concurrency: 64\n  input_len: 16\n  output_len: 6\n  requests: 64\n"             \
    "  warmup: 0\n  routing: zipf:2\n  parallel: {a2a: low-latency, ep: " ep                       \
    ", redundant_experts: " red ", placement: " place "}\n"

/* EP24 on 3 servers and EP32 with 32 redundant experts run; with Zipf routing (s = 2) the
 * busiest GPU's received bytes fall as redundant experts are added (measured on this build:
 * its share of all copies 0.125, 0.076, 0.038 with 0, 4, 32; the floor is 1/32). */
static void test_redundant_lowers_peak(void **state)
{
    (void)state;
    uint64_t mx, mean;
    double sh;
    run_ep(EPRUN("24", "0", "round-robin"), 3, &mx, &mean, &sh);
    assert_true(mx > 0 && mx >= mean);
    uint64_t peak[3];
    double shares[3];
    const char *cfgs[3] = {EPRUN("32", "0", "load"), EPRUN("32", "4", "load"),
                           EPRUN("32", "32", "load")};
    for (int i = 0; i < 3; i++)
        run_ep(cfgs[i], 4, &peak[i], &mean, &shares[i]);
    if (!(peak[0] > peak[1] && peak[1] > peak[2]))
        fail_msg("busiest GPU received %llu, %llu, %llu bytes with 0, 4, 32 redundant",
                 (unsigned long long)peak[0], (unsigned long long)peak[1],
                 (unsigned long long)peak[2]);
    /* the expected busiest share (placement by the router's expected loads) bounds the measured
     * one from below: routing noise and group-limited routing only add imbalance */
    assert_true(shares[2] < shares[0]);
}

static void test_routing_file_round_trip(void **state)
{
    (void)state;
    char path[] = "/tmp/ifb-routing-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    ifb_routing_file r = {.layers = 3, .experts = 5};
    snprintf(r.name, sizeof r.name, "%s", path);
    double v[15] = {1, 2, 3, 4, 5, 0.1, 1e-3, 7, 0, 123456.789, 9, 8, 7, 6, 1.0 / 3};
    r.load = v;
    ifb_err e;
    assert_int_equal(ifb_routing_file_write(&r, f, &e), 0);
    fclose(f);
    ifb_routing_file back;
    assert_int_equal(ifb_routing_file_load(&back, path, 5, 3, 3, &e), 0);
    assert_int_equal(back.layers, 3);
    for (int i = 0; i < 15; i++)
        assert_true(back.load[i] == v[i]);
    ifb_routing_file_free(&back);
    /* the model has 4 MoE layers: the file's 3 rows are too few */
    assert_int_equal(ifb_routing_file_load(&back, path, 5, 4, 4, &e), -1);
    assert_non_null(strstr(e.msg, "3 rows for 4 MoE layers"));
    /* 6 experts: line 2 (the first row) has 5 */
    assert_int_equal(ifb_routing_file_load(&back, path, 6, 3, 3, &e), -1);
    if (!strstr(e.msg, ":2:") || !strstr(e.msg, "5 loads for 6 experts"))
        fail_msg("message: %s", e.msg);
    unlink(path);
    /* a file whose layers jump names the line */
    f = fopen(path, "w");
    fprintf(f, "0: 1 1\n# comment\n2: 1 1\n");
    fclose(f);
    assert_int_equal(ifb_routing_file_load(&back, path, 2, 1, 3, &e), -1);
    if (!strstr(e.msg, ":3:") || !strstr(e.msg, "layer 2 after 1 rows"))
        fail_msg("message: %s", e.msg);
    unlink(path);
}

/* A routing file drives the router: a run with a file whose loads all sit on 8 experts of one
 * group sends every copy to those experts' ranks. */
static void test_routing_file_drives(void **state)
{
    (void)state;
    char path[] = "/tmp/ifb-routing-XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    for (int l = 0; l < 58; l++) {
        fprintf(f, "%d:", l);
        for (int x = 0; x < 256; x++)
            fprintf(f, " %d", x < 8 ? 100 : 0);
        fprintf(f, "\n");
    }
    fclose(f);
    char yaml[512];
    snprintf(
        yaml, sizeof yaml,
        "workload:\n  concurrency: 16\n  input_len: 16\n  output_len: 4\n  requests: 16\n"
        "  warmup: 0\n  routing: file:%s\n  parallel: {placement: contiguous, a2a: low-latency}\n",
        path);
    uint64_t mx, mean;
    double sh;
    run_ep(yaml, 2, &mx, &mean, &sh);
    /* contiguous over EP16: experts 0..15 on rank 0: it receives every copy (share 1) */
    if (fabs(sh - 1) > 1e-6)
        fail_msg("rank 0's share of the copies %.9f, expected 1", sh);
    unlink(path);
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

/* DeepSeek's decode layouts: EP72 and EP144 with 32 redundant experts (288 slots) build, and a
 * GPU holds 4 and 2 expert slots per MoE layer. */
static void test_wide_ep_builds(void **state)
{
    (void)state;
    const int servers[2] = {9, 18}, slots[2] = {4, 2};
    for (int i = 0; i < 2; i++) {
        char yaml[256];
        snprintf(yaml, sizeof yaml,
                 "workload:\n  parallel: {ep: %d, redundant_experts: 32, placement: load}\n",
                 servers[i] * 8);
        ifb_serving_cfg cfg;
        ifb_err e = {{0}};
        assert_int_equal(load(yaml, &cfg, &e), 0);
        ifb_serving *s = NULL;
        if (ifb_serving_create(&s, &cfg, servers[i], 8, &e))
            fail_msg("EP%d: %s", servers[i] * 8, e.msg);
        const ifb_parallel *p = ifb_serving_layout(s);
        assert_int_equal(p->ep, servers[i] * 8);
        assert_int_equal(p->slots_per_rank, slots[i]);
        ifb_serving_destroy(s);
        ifb_serving_cfg_free(&cfg);
    }
}

static void test_bad_eplb(void **state)
{
    (void)state;
    expect_error("workload:\n  parallel: {layout: tp, tp: 16, redundant_experts: 8}\n", 2,
                 "workload.parallel.redundant_experts", "no expert parallelism");
    expect_error("workload:\n  parallel: {ep: 1, redundant_experts: 8}\n", 2,
                 "workload.parallel.redundant_experts", "ep 1");
    expect_error("workload:\n  routing: file:/nonexistent/routes.txt\n", 2, "workload.routing",
                 "cannot open");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_place_by_load),
        cmocka_unit_test(test_place_classic),
        cmocka_unit_test(test_redundant_lowers_peak),
        cmocka_unit_test(test_routing_file_round_trip),
        cmocka_unit_test(test_routing_file_drives),
        cmocka_unit_test(test_bad_eplb),
        cmocka_unit_test(test_wide_ep_builds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
