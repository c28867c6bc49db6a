/* The InfiniBand fabric and out-of-order placement: credit flow control never overruns a
 * receive buffer and never drops, a single flow reaches NDR line rate x IB payload efficiency,
 * adaptive routing beats static d-mod-k routing on a 2-tier fabric when the NIC places out of
 * order, and spray needs that placement (go-back-N retransmits). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "net/fabric/fabric.h"
#include "net/switch/lb.h"
#include "net/wire/wire.h"
#include "topo/topo.h"
#include "workload/microbench.h"

static const uint64_t G400 = 400000000000ull;

typedef struct world {
    ifb_sim sim;
    ifb_topo topo;
    ifb_fabric *fab;
} world;

static void ib_cfg(ifb_fabric_cfg *c)
{
    ifb_fabric_cfg_default(c);
    c->l2 = IFB_L2_IB;
    c->ctrl_queue = 0;
    c->switch_latency = 300 * IFB_NS;
}

static void make(world *w, int leaves, int hosts_per_leaf, int spines, ifb_fabric_cfg *cfg)
{
    ifb_err e = {{0}};
    ifb_sim_init(&w->sim, 1);
    ifb_topo_init(&w->topo);
    ifb_server_spec s = {.gpus_per_server = 1,
                         .nics_per_server = 1,
                         .nic_bps = G400,
                         .host_delay = 25 * IFB_NS,
                         .nvlink_bps = G400,
                         .nvlink_latency = IFB_US};
    int n = leaves * hosts_per_leaf;
    if (leaves == 1)
        assert_int_equal(ifb_topo_single_switch(&w->topo, n, &s, 64, &e), 0);
    else
        assert_int_equal(
            ifb_topo_leaf_spine(&w->topo, n, &s, leaves, spines, 1, G400, IFB_US, 64, &e), 0);
    assert_int_equal(ifb_topo_route(&w->topo, &e), 0);
    if (ifb_fabric_create(&w->fab, &w->sim, &w->topo, cfg, &e))
        fail_msg("%s", e.msg);
}

static void check_end(world *w)
{
    char msg[256];
    if (ifb_fabric_check_conservation(w->fab, msg, sizeof msg))
        fail_msg("%s", msg);
    assert_int_equal(ifb_fabric_inflight(w->fab), 0);
}

static void destroy(world *w)
{
    ifb_fabric_destroy(w->fab);
    ifb_topo_free(&w->topo);
    ifb_sim_destroy(&w->sim);
}

static void test_line_rate(void **state)
{
    (void)state;
    ifb_fabric_cfg cfg;
    ib_cfg(&cfg);
    world w;
    make(&w, 1, 2, 0, &cfg);
    ifb_mb_spec s = {
        .kind = IFB_MB_BW, .bytes = 1 << 20, .iters = 64, .depth = 8, .src = 0, .dst = 1};
    ifb_mb_result r;
    ifb_err e;
    assert_int_equal(ifb_mb_run(&w.sim, ifb_fabric_net(w.fab), &s, &r, &e), 0);
    ifb_pkt p = {
        .kind = IFB_PK_DATA, .l2 = IFB_L2_IB, .opcode = IFB_OP_WRITE_MIDDLE, .payload = 4096};
    assert_int_equal(ifb_wire_len(&p), 8 + 12 + 4096 + 4 + 2); /* LRH BTH payload ICRC VCRC */
    double expect = 400e9 / 8 * 4096.0 / ifb_wire_len(&p);
    assert_true(fabs(r.algbw - expect) / expect < 0.005);
    check_end(&w);
    destroy(&w);
}

/* 16 -> 1 at 400 Gb/s: credits throttle the senders, nothing is dropped, and no receive buffer
 * ever holds more than its credits. */
static void test_incast_credits(void **state)
{
    (void)state;
    ifb_fabric_cfg cfg;
    ib_cfg(&cfg);
    cfg.ib_vl_buffer = 16 * 1024; /* small: credits bind */
    world w;
    make(&w, 1, 17, 0, &cfg);
    ifb_mb_spec s = {.kind = IFB_MB_INCAST, .bytes = 1 << 20, .dst = 16, .nranks = 16};
    ifb_mb_result r;
    ifb_err e;
    assert_int_equal(ifb_mb_run(&w.sim, ifb_fabric_net(w.fab), &s, &r, &e), 0);
    const ifb_fabric_counters *c = ifb_fabric_counts(w.fab);
    assert_int_equal(r.msgs, 16);
    assert_int_equal(c->pkts_dropped, 0);
    assert_int_equal(c->retx_pkts, 0);
    assert_int_equal(c->ib_credit_violations, 0);
    assert_true(ifb_fabric_ib_max_held(w.fab) <= ifb_fabric_ib_credits(w.fab));
    assert_true(ifb_fabric_ib_max_held(w.fab) > ifb_fabric_ib_credits(w.fab) / 2); /* it filled */
    /* the bottleneck stays busy: 16 MiB through one 400G port at IB efficiency */
    ifb_pkt p = {
        .kind = IFB_PK_DATA, .l2 = IFB_L2_IB, .opcode = IFB_OP_WRITE_MIDDLE, .payload = 4096};
    double ideal = 16.0 * (1 << 20) / (400e9 / 8 * 4096.0 / ifb_wire_len(&p));
    assert_true(ifb_time_to_s(r.time) < ideal * 1.03);
    check_end(&w);
    destroy(&w);
}

static void test_bad_config(void **state)
{
    (void)state;
    ifb_fabric_cfg cfg;
    ifb_err e = {{0}};
    world w;
    ifb_sim_init(&w.sim, 1);
    ifb_topo_init(&w.topo);
    ifb_server_spec s = {.gpus_per_server = 1,
                         .nics_per_server = 1,
                         .nic_bps = G400,
                         .host_delay = 25 * IFB_NS,
                         .nvlink_bps = G400,
                         .nvlink_latency = IFB_US};
    assert_int_equal(ifb_topo_single_switch(&w.topo, 2, &s, 8, &e), 0);
    assert_int_equal(ifb_topo_route(&w.topo, &e), 0);
    ib_cfg(&cfg);
    cfg.tclass[IFB_TC_KV].sl = 5;
    cfg.ib_sl2vl[5] = 6; /* only 4 VLs */
    assert_int_equal(ifb_fabric_create(&w.fab, &w.sim, &w.topo, &cfg, &e), -1);
    assert_non_null(strstr(e.msg, "fabric.classes.kv.sl"));
    ib_cfg(&cfg);
    cfg.ib_vl_buffer = 2048; /* smaller than one 4 KiB packet */
    assert_int_equal(ifb_fabric_create(&w.fab, &w.sim, &w.topo, &cfg, &e), -1);
    assert_non_null(strstr(e.msg, "fabric.ib.vl_buffer"));
    ifb_topo_free(&w.topo);
    ifb_sim_destroy(&w.sim);
}

static ifb_time permutation(ifb_fabric_cfg *cfg, uint64_t *retx, int l2ib)
{
    (void)l2ib;
    world w;
    make(&w, 4, 8, 4, cfg);
    ifb_mb_spec s = {.kind = IFB_MB_PERMUTATION, .bytes = 1 << 20, .seed = 3};
    ifb_mb_result r;
    ifb_err e;
    assert_int_equal(ifb_mb_run(&w.sim, ifb_fabric_net(w.fab), &s, &r, &e), 0);
    assert_int_equal(r.msgs, 32);
    *retx = ifb_fabric_counts(w.fab)->retx_pkts;
    assert_int_equal(ifb_fabric_counts(w.fab)->pkts_dropped, 0);
    check_end(&w);
    destroy(&w);
    return r.time;
}

/* Adaptive routing (per packet, least-loaded of two random uplinks plus the last best, the
 * receiver placing out of order) finishes a permutation sooner than static d-mod-k routing. */
static void test_adaptive_beats_static(void **state)
{
    (void)state;
    ifb_lb_cfg st, ar;
    ifb_lb_cfg_default(&st);
    ifb_lb_cfg_default(&ar);
    for (int q = 0; q < IFB_NQUEUES; q++) {
        st.q[q].mode = IFB_LBA_DMODK;
        ar.q[q].mode = IFB_LBA_SPRAY;
        ar.q[q].spray = IFB_LB_SPRAY_DRILL;
    }
    ifb_fabric_cfg cfg;
    ib_cfg(&cfg);
    cfg.lb = &st;
    uint64_t retx_static, retx_ar;
    ifb_time t_static = permutation(&cfg, &retx_static, 1);
    cfg.lb = &ar;
    cfg.ooo = 1;
    ifb_time t_ar = permutation(&cfg, &retx_ar, 1);
    assert_true(t_ar < t_static);
    assert_int_equal(retx_ar, 0);
    assert_int_equal(retx_static, 0);
}

/* RoCE spray: out-of-order placement completes everything without a retransmission; classic
 * go-back-N NAKs the reordering and retransmits. */
static void test_spray_needs_ooo(void **state)
{
    (void)state;
    ifb_lb_cfg sp;
    ifb_lb_cfg_default(&sp);
    for (int q = 0; q < IFB_NQUEUES; q++)
        sp.q[q].mode = IFB_LBA_SPRAY;
    ifb_fabric_cfg cfg;
    ifb_fabric_cfg_default(&cfg);
    cfg.lb = &sp;
    cfg.rto = 100 * IFB_US;
    cfg.ooo = 1;
    uint64_t retx_ooo, retx_gbn;
    ifb_time t_ooo = permutation(&cfg, &retx_ooo, 0);
    cfg.ooo = 0;
    ifb_time t_gbn = permutation(&cfg, &retx_gbn, 0);
    assert_int_equal(retx_ooo, 0);
    assert_true(retx_gbn > 0);
    assert_true(t_ooo < t_gbn);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_rate),       cmocka_unit_test(test_incast_credits),
        cmocka_unit_test(test_bad_config),      cmocka_unit_test(test_adaptive_beats_static),
        cmocka_unit_test(test_spray_needs_ooo),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
