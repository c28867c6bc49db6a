/* The path-selection mechanisms working together, as one switch pipeline composes them
 * (docs/scenario.md, "Mechanisms together"; net/switch/groups.c): per-packet and per-flowlet
 * choice in the same group at once (a2a sprayed, kv per flowlet), a per-packet mode falling
 * back to flowlets for a class whose receivers place in order only, and INT-driven choice
 * weighted by WCMP capacity on an asymmetric fabric. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "net/fabric/fabric_int.h"
#include "net/switch/lb.h"
#include "net_world.h"
#include "topo/topo.h"

enum { PER_LEAF = 4 };

static void on_done(ifb_sim *sim, void *ctx, const ifb_msg_info *info)
{
    (void)sim;
    int *n = ctx;
    assert_false(info->failed);
    (*n)++;
}

/* Every host of leaf0 sends `bytes` to every host of leaf1 in class tclass. */
static void cross(world *w, int tclass, uint64_t bytes, int *done)
{
    for (int s = 0; s < PER_LEAF; s++)
        for (int d = PER_LEAF; d < 2 * PER_LEAF; d++)
            assert_true(ifb_net_send(ifb_fabric_net(w->fab), s, d, bytes, tclass, on_done, done) >
                        0);
}

static uint64_t up(world *w, const char *spine)
{
    return ifb_fabric_port_stats(w->fab, port_to(&w->topo, "leaf0", spine))->tx_payload;
}

static void run_ok(world *w)
{
    ifb_stop st = ifb_sim_run(&w->sim);
    if (st == IFB_STOP_ERROR)
        fail_msg("%s", w->sim.error);
    check_conservation(w);
}

/* a2a (receivers placing out of order) sprayed per packet by DRILL and kv (go-back-N) per
 * flowlet on the least-loaded member, in the same ECMP groups at the same time: a2a spreads
 * evenly over every uplink, kv is never reordered (a go-back-N receiver would NAK and its
 * sender resend), nothing is resent. */
static void test_packet_and_flowlet_in_one_group(void **state)
{
    (void)state;
    world w;
    ifb_fabric_cfg cfg;
    ifb_fabric_cfg_default(&cfg);
    cfg.ooo = 1;
    cfg.tclass[IFB_TC_KV].ooo = IFB_OOO_OFF;
    cfg.qps_per_conn = 2;
    ifb_lb_cfg_default(&w.lb);
    for (int q = 0; q < IFB_NQUEUES; q++) {
        w.lb.q[q].mode = IFB_LBA_SPRAY;
        w.lb.q[q].spray = IFB_LB_SPRAY_DRILL;
    }
    ifb_lb_class *kv = &w.lb.cls[IFB_TC_KV];
    kv->has_mode = 1;
    kv->q = w.lb.q[1];
    kv->q.mode = IFB_LBA_FLOWLET;
    kv->q.flowlet_pick = IFB_LB_PICK_LEAST_LOADED;
    cfg.lb = &w.lb;
    make_leaf_spine(&w, 3, 2, PER_LEAF, 4, G400, IFB_US, &cfg);
    int done = 0;
    cross(&w, IFB_TC_A2A, 512 * 1024, &done);
    cross(&w, IFB_TC_KV, 512 * 1024, &done);
    run_ok(&w);
    const ifb_fabric_counters *c = ifb_fabric_counts(w.fab);
    assert_int_equal(done, 32);
    assert_int_equal(c->retx_pkts, 0);
    assert_int_equal(c->naks, 0);
    uint64_t lo = UINT64_MAX, hi = 0;
    for (int j = 0; j < 4; j++) {
        char name[16];
        snprintf(name, sizeof name, "spine%d", j);
        uint64_t b = up(&w, name);
        lo = b < lo ? b : lo;
        hi = b > hi ? b : hi;
    }
    assert_true((double)lo > 0.6 * (double)hi); /* DRILL spreads a2a over every uplink */
    destroy(&w);
}

/* kv asks for spray but its receivers are go-back-N: with the fallback the switches choose per
 * flowlet for it and nothing is resent; without it, spray reorders and the senders resend. */
static uint64_t spray_kv(int fallback)
{
    world w;
    ifb_fabric_cfg cfg;
    ifb_fabric_cfg_default(&cfg);
    cfg.ooo = 1;
    cfg.tclass[IFB_TC_KV].ooo = IFB_OOO_OFF;
    cfg.rto = 200 * IFB_US;
    ifb_lb_cfg_default(&w.lb);
    w.lb.ooo_fallback = (uint8_t)fallback;
    ifb_lb_class *kv = &w.lb.cls[IFB_TC_KV];
    kv->has_mode = 1;
    kv->q = w.lb.q[1];
    kv->q.mode = IFB_LBA_SPRAY;
    cfg.lb = &w.lb;
    make_leaf_spine(&w, 3, 2, PER_LEAF, 4, G400, IFB_US, &cfg);
    int done = 0;
    cross(&w, IFB_TC_KV, 256 * 1024, &done);
    run_ok(&w);
    assert_int_equal(done, 16);
    uint64_t retx = ifb_fabric_counts(w.fab)->retx_pkts;
    destroy(&w);
    return retx;
}

static void test_spray_falls_back_to_flowlets(void **state)
{
    (void)state;
    assert_int_equal(spray_kv(1), 0);
    assert_true(spray_kv(0) > 0);
}

/* Two leaves of four hosts, two spines; spine1's link to leaf1 runs at 100 Gb/s, so leaf0's
 * capacity toward leaf1 is 400 Gb/s through spine0 and 100 through spine1 (WCMP weights 4:1).
 * INT-driven choice per flowlet, weighted or not: the share of leaf0's bytes on spine0. */
static double int_share(int weighted)
{
    world w;
    ifb_fabric_cfg cfg;
    ifb_fabric_cfg_default(&cfg);
    cfg.intc.on = 1;
    cfg.qps_per_conn = 8;
    ifb_lb_cfg_default(&w.lb);
    for (int q = 0; q < IFB_NQUEUES; q++)
        w.lb.q[q].mode = IFB_LBA_INT_ADAPTIVE;
    w.lb.weighted = (uint8_t)weighted;
    cfg.lb = &w.lb;
    ifb_err e = {{0}};
    ifb_sim_init(&w.sim, 5);
    ifb_topo_init(&w.topo);
    ifb_server_spec s = one_nic_server(IFB_US);
    assert_int_equal(ifb_topo_leaf_spine(&w.topo, 2 * PER_LEAF, &s, 2, 2, 1, G400, IFB_US, 64, &e),
                     0);
    int a = ifb_topo_find_node(&w.topo, "spine1"), b = ifb_topo_find_node(&w.topo, "leaf1");
    for (int i = 0; i < w.topo.nlinks; i++) {
        ifb_topo_link *l = &w.topo.links[i];
        if ((l->a_node == a && l->b_node == b) || (l->a_node == b && l->b_node == a))
            l->rate_bps = G400 / 4;
    }
    assert_int_equal(ifb_topo_route(&w.topo, &e), 0);
    if (ifb_fabric_create(&w.fab, &w.sim, &w.topo, &cfg, &e))
        fail_msg("%s", e.msg);
    int done = 0;
    cross(&w, IFB_TC_A2A, 256 * 1024, &done);
    run_ok(&w);
    assert_int_equal(done, 16);
    double s0 = (double)up(&w, "spine0"), s1 = (double)up(&w, "spine1");
    destroy(&w);
    return s0 / (s0 + s1);
}

static void test_int_adaptive_weighted_by_capacity(void **state)
{
    (void)state;
    double plain = int_share(0), weighted = int_share(1);
    print_message("leaf0's bytes via the 400G path: int_adaptive %.3f, weighted %.3f\n", plain,
                  weighted);
    /* 128 flowlets start on an idle fabric: without weights the local queues split them evenly
     * (0.500 here), with weights a member may hold four times the queue of the other before it
     * looks as loaded, which moves the split toward the 4:1 capacity ratio (0.688 here; 0.8 is
     * the ratio itself) */
    assert_true(plain < 0.55);
    assert_true(weighted > 0.6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_packet_and_flowlet_in_one_group),
        cmocka_unit_test(test_spray_falls_back_to_flowlets),
        cmocka_unit_test(test_int_adaptive_weighted_by_capacity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
