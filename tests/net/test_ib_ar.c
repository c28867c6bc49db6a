/* InfiniBand adaptive routing (net/switch/ib_ar.h) on a 2-tier InfiniBand fat tree (4 leaves of
 * 8 hosts, 4 spines, 400G NDR, credit flow control): a permutation finishes sooner with `ar`
 * than with static d-mod-k routing, and exactly as d-mod-k when AR is off for the class's SL;
 * after a spine link fails, SHIELD's fault notifications reach the upstream switches and far
 * fewer packets are lost than while waiting for the subnet manager; adaptive routing
 * notifications steer a leaf away from a spine whose downlink is congested by traffic the leaf
 * cannot see; `ar` is refused on a fabric with one path and on RoCE. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "net/fabric/fabric_int.h"
#include "net/fail/failure.h"
#include "net/switch/ib_ar.h"
#include "net/switch/lb.h"
#include "net_world.h"
#include "topo/topo.h"
#include "workload/microbench.h"

static void ib_cfg(ifb_fabric_cfg *c, ifb_lb_cfg *lb, int mode)
{
    ifb_fabric_cfg_default(c);
    c->l2 = IFB_L2_IB;
    c->ctrl_queue = 0;
    c->switch_latency = 300 * IFB_NS;
    c->ooo = 1;
    ifb_lb_cfg_default(lb);
    for (int q = 0; q < IFB_NQUEUES; q++)
        lb->q[q].mode = (uint8_t)mode;
    c->lb = lb;
}

typedef struct perm_out {
    ifb_time t;
    uint64_t lost, retx;
    ifb_ar_stats ar;
} perm_out;

/* A random permutation of 1 MiB messages on 4 leaves x 8 hosts, 4 spines; optionally the link
 * leaf1-spine2 down at `fail_at` for good. */
static void permutation(ifb_fabric_cfg *cfg, ifb_time fail_at, perm_out *o)
{
    world w;
    make_leaf_spine(&w, 1, 4, 8, 4, G400, IFB_US, cfg);
    if (fail_at) {
        ifb_failure f = {.port = port_to(&w.topo, "leaf1", "spine2"),
                         .sw = -1,
                         .down = fail_at,
                         .up = IFB_TIME_NEVER};
        ifb_err e = {{0}};
        if (ifb_fail_schedule(w.fab, &f, 1, &e))
            fail_msg("%s", e.msg);
    }
    ifb_mb_spec s = {.kind = IFB_MB_PERMUTATION, .bytes = 1 << 20, .seed = 3};
    ifb_mb_result r;
    ifb_err e;
    assert_int_equal(ifb_mb_run(&w.sim, ifb_fabric_net(w.fab), &s, &r, &e), 0);
    assert_int_equal(r.msgs, 32);
    const ifb_fabric_counters *c = ifb_fabric_counts(w.fab);
    o->t = r.time;
    o->lost = c->link_down_drops + c->unroutable_drops;
    o->retx = c->retx_pkts;
    ifb_ar_get_stats(w.fab, &o->ar);
    check_conservation(&w);
    destroy(&w);
}

static void test_ar_beats_dmodk(void **state)
{
    (void)state;
    ifb_fabric_cfg cfg;
    ifb_lb_cfg st, ar;
    perm_out s, a, off;
    ib_cfg(&cfg, &st, IFB_LBA_DMODK);
    permutation(&cfg, 0, &s);
    ib_cfg(&cfg, &ar, IFB_LBA_AR);
    permutation(&cfg, 0, &a);
    print_message("permutation 1 MiB: d-mod-k %.1f us, ar %.1f us (%llu packets off their LFT "
                  "port, %llu AR groups)\n",
                  ifb_time_to_us(s.t), ifb_time_to_us(a.t), (unsigned long long)a.ar.moved,
                  (unsigned long long)a.ar.ar_groups);
    assert_true(a.t < s.t);
    assert_true(a.ar.moved > 0);
    assert_true(a.ar.ar_groups > 0);
    assert_int_equal(a.retx, 0); /* reordered, placed out of order, nothing resent */
    /* AR off for every SL (ar_sl_mask 0): the LFT, event for event */
    ib_cfg(&cfg, &ar, IFB_LBA_AR);
    cfg.ib_ar.sl_mask = 0;
    permutation(&cfg, 0, &off);
    assert_int_equal(off.t, s.t);
    assert_int_equal(off.ar.moved, 0);
}

/* leaf1-spine2 fails at 20 us; the subnet manager (fabric.failure_detection) reroutes after
 * 2 ms. With SHIELD, leaf1 stops using the link 10 us after it failed (FLFR) and spine2, left
 * without a way to leaf1, tells the three other leaves (FRN), which avoid spine2 for leaf1's
 * hosts from then on. Without it, packets go on being sent into the dead link until the
 * subnet manager acts. */
static void test_shield_notifies(void **state)
{
    (void)state;
    ifb_fabric_cfg cfg;
    ifb_lb_cfg ar;
    perm_out on, off;
    ib_cfg(&cfg, &ar, IFB_LBA_AR);
    cfg.fail_detection = 2 * IFB_MS;
    cfg.reorder_window = 50 * IFB_US;
    cfg.rto = 1 * IFB_MS;
    permutation(&cfg, 20 * IFB_US, &on);
    cfg.ib_ar.shield = 0;
    permutation(&cfg, 20 * IFB_US, &off);
    print_message("leaf1-spine2 down at 20 us: SHIELD %llu FRNs, %llu packets lost, %.1f us; "
                  "without %llu lost, %.1f us\n",
                  (unsigned long long)on.ar.frn_sent, (unsigned long long)on.lost,
                  ifb_time_to_us(on.t), (unsigned long long)off.lost, ifb_time_to_us(off.t));
    assert_int_equal(on.ar.frn_sent, 3); /* spine2 to leaves 0, 2 and 3 */
    assert_int_equal(off.ar.frn_sent, 0);
    assert_true(on.lost > 0); /* what was queued at the link's ends, and the 10 us before the
                                 switch knows */
    assert_true(on.lost < off.lost);
    assert_true(on.t < off.t);
}

static void test_ar_refused(void **state)
{
    (void)state;
    ifb_fabric_cfg cfg;
    ifb_lb_cfg ar;
    ifb_err e = {{0}};
    world w;
    /* one switch: one path between every pair */
    ib_cfg(&cfg, &ar, IFB_LBA_AR);
    ifb_sim_init(&w.sim, 1);
    ifb_topo_init(&w.topo);
    ifb_server_spec s = one_nic_server(IFB_US);
    assert_int_equal(ifb_topo_single_switch(&w.topo, 4, &s, 8, &e), 0);
    assert_int_equal(ifb_topo_route(&w.topo, &e), 0);
    assert_int_equal(ifb_fabric_create(&w.fab, &w.sim, &w.topo, &cfg, &e), -1);
    assert_non_null(strstr(e.msg, "one path between every pair of hosts"));
    /* RoCE */
    ib_cfg(&cfg, &ar, IFB_LBA_AR);
    cfg.l2 = IFB_L2_ROCEV2;
    cfg.ctrl_queue = 6;
    assert_int_equal(ifb_fabric_create(&w.fab, &w.sim, &w.topo, &cfg, &e), -1);
    assert_non_null(strstr(e.msg, "InfiniBand"));
    ifb_topo_free(&w.topo);
    ifb_sim_destroy(&w.sim);
}

/* ---- ARN --------------------------------------------------------------------------------- */

static void done_cb(ifb_sim *sim, void *ctx, const ifb_msg_info *info)
{
    (void)sim;
    int *n = ctx;
    assert_false(info->failed);
    (*n)++;
}

/* Three leaves of six hosts, two spines. Hosts 12 and 13 (leaf2) send to hosts 6 and 8 (leaf1)
 * on an SL outside the AR mask: the LFT sends both through spine0 (d-mod-k: even destinations),
 * overloading spine0's downlink to leaf1. Host 0 (leaf0) sends to host 10 (leaf1), whose LFT
 * port is spine0 too, adaptively: leaf0's own uplinks look alike until credits back up to it,
 * so spine0's notification is what tells it early. Returns the share of host 0's bytes leaf0
 * sent via spine1, and the notifications sent. */
static double arn_share(int arn, uint64_t *sent)
{
    world w;
    ifb_fabric_cfg cfg;
    ifb_lb_cfg lb;
    ib_cfg(&cfg, &lb, IFB_LBA_AR);
    cfg.tclass[IFB_TC_KV].sl = 1; /* background, static */
    cfg.ib_ar.sl_mask = (uint16_t)(1u << cfg.tclass[IFB_TC_A2A].sl);
    cfg.ib_ar.arn = (uint8_t)arn;
    make_leaf_spine(&w, 7, 3, 6, 2, G400, 100 * IFB_NS, &cfg);
    ifb_net *net = ifb_fabric_net(w.fab);
    int done = 0;
    assert_true(ifb_net_send(net, 12, 6, 8 << 20, IFB_TC_KV, done_cb, &done) > 0);
    assert_true(ifb_net_send(net, 13, 8, 8 << 20, IFB_TC_KV, done_cb, &done) > 0);
    assert_true(ifb_net_send(net, 0, 10, 4 << 20, IFB_TC_A2A, done_cb, &done) > 0);
    ifb_stop st = ifb_sim_run(&w.sim);
    if (st == IFB_STOP_ERROR)
        fail_msg("%s", w.sim.error);
    assert_int_equal(done, 3);
    double b0 =
        (double)ifb_fabric_port_stats(w.fab, port_to(&w.topo, "leaf0", "spine0"))->tx_payload;
    double b1 =
        (double)ifb_fabric_port_stats(w.fab, port_to(&w.topo, "leaf0", "spine1"))->tx_payload;
    ifb_ar_stats s;
    ifb_ar_get_stats(w.fab, &s);
    *sent = s.arn_sent;
    check_conservation(&w);
    destroy(&w);
    return b1 / (b0 + b1);
}

static void test_arn_steers(void **state)
{
    (void)state;
    uint64_t n_on, n_off;
    double on = arn_share(1, &n_on), off = arn_share(0, &n_off);
    print_message("share of host 0's bytes via the uncongested spine: ARN %.3f (%llu "
                  "notifications), none %.3f\n",
                  on, (unsigned long long)n_on, off);
    assert_true(n_on > 0);
    assert_int_equal(n_off, 0);
    assert_true(on > off + 0.1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ar_beats_dmodk),
        cmocka_unit_test(test_shield_notifies),
        cmocka_unit_test(test_ar_refused),
        cmocka_unit_test(test_arn_steers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
