/* The path-selection mechanisms working together, as one switch pipeline composes them
 * (docs/scenario.md, "Mechanisms together"; net/switch/groups.c): per-packet and per-flowlet
 * choice in the same group at once (a2a sprayed, kv per flowlet), a per-packet mode falling
 * back to flowlets for a class whose receivers place in order only. */
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_packet_and_flowlet_in_one_group),
        cmocka_unit_test(test_spray_falls_back_to_flowlets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
