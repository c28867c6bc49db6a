/* InfiniBand congestion control (net/switch/fecn.c, net/nic/ibcc.c): a 16 -> 1 incast with a
 * victim flow, default CC settings. Two leaves of 17 hosts, one spine, 6.4 Tb/s fabric links
 * (20 m, 100 ns) so that the only
 * bottleneck is the hot receiver's 400G link: hosts 0..15 (leaf0) send to host 17 (leaf1),
 * and host 16 sends to host 18 on the same VL. Credits back the incast up from leaf1 into the
 * spine, whose egress toward leaf1 then serves the victim's packets only as fast as the hot
 * ones drain: without CC the victim is head-of-line blocked; with CC leaf1 marks FECN at its
 * congested port to host 17, host 17 returns BECNs, the hot QPs' CCTIs rise and space their
 * packets, the back-up clears and the victim gets its bandwidth back; once the incast is
 * over the CCTIs decay back to 0. Bad settings are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "net/fabric/fabric_int.h"
#include "net_world.h"
#include "topo/topo.h"

enum { HOT = 16, VICTIM = 16, HOT_DST = 17, VICTIM_DST = 18 };

typedef struct res {
    double victim_gbps;
    uint64_t ccti_max_hot, ccti_end, fecn, becn;
    ifb_time hot_end;
} res;

typedef struct ctx {
    world *w;
    int done;
    ifb_time hot_end;
} ctx;

static void on_done(ifb_sim *sim, void *p, const ifb_msg_info *info)
{
    ctx *c = p;
    assert_false(info->failed);
    c->done++;
    if (info->src != VICTIM && sim->now > c->hot_end)
        c->hot_end = sim->now;
}

static void post_victim(ifb_sim *sim, void *obj, uint64_t arg)
{
    (void)sim;
    (void)arg;
    ctx *c = obj;
    assert_true(ifb_net_send(ifb_fabric_net(c->w->fab), VICTIM, VICTIM_DST, 2 << 20, IFB_TC_A2A,
                             on_done, c) > 0);
}

static void nothing(ifb_sim *sim, void *obj, uint64_t arg)
{
    (void)sim;
    (void)obj;
    (void)arg;
}

static void incast(int cc, res *r)
{
    world w;
    ifb_fabric_cfg cfg;
    ifb_fabric_cfg_default(&cfg);
    cfg.l2 = IFB_L2_IB;
    cfg.ctrl_queue = 0;
    cfg.switch_latency = 300 * IFB_NS;
    cfg.ib_cc.on = cc != 0;
    if (cc == 2) /* on, but not for the SL of the class that sends */
        cfg.ib_cc.sl_mask = (uint16_t) ~(1u << cfg.tclass[IFB_TC_A2A].sl);
    /* 20 m links: within a row. With 200 m ones the 128 KiB VL buffers hold less than a round
     * trip of the 6.4T links, the back-up stays in the spine (a victim, which does not mark)
     * and the root's queue never reaches the threshold */
    make_leaf_spine(&w, 1, 2, 17, 1, 16 * G400, 100 * IFB_NS, &cfg);
    ctx c = {&w, 0, 0};
    for (int h = 0; h < HOT; h++)
        assert_true(
            ifb_net_send(ifb_fabric_net(w.fab), h, HOT_DST, 4 << 20, IFB_TC_A2A, on_done, &c) > 0);
    ifb_sim_at(&w.sim, 200 * IFB_US, post_victim, &c, 0);
    ifb_sim_at(&w.sim, 8 * IFB_MS, nothing, &c, 0); /* time for the CCTIs to decay */
    ifb_stop st = ifb_sim_run(&w.sim);
    if (st == IFB_STOP_ERROR)
        fail_msg("%s", w.sim.error);
    assert_int_equal(c.done, HOT + 1);
    size_t nm;
    const ifb_msg_rec *m = ifb_fabric_messages(w.fab, &nm);
    for (size_t i = 0; i < nm; i++)
        if (m[i].src == VICTIM)
            r->victim_gbps = (double)m[i].bytes * 8 / ifb_time_to_s(m[i].done - m[i].start) / 1e9;
    const ifb_fabric_counters *k = ifb_fabric_counts(w.fab);
    r->ccti_max_hot = k->ccti_max;
    r->fecn = k->fecn_marks;
    r->becn = k->becns_rcvd;
    r->ccti_end = 0;
    for (int h = 0; h < HOT; h++)
        for (uint32_t q = 0; q < w.fab->nics[h].nqps; q++)
            r->ccti_end += w.fab->nics[h].qps[q]->ccti;
    r->hot_end = c.hot_end;
    assert_int_equal(k->pkts_dropped, 0);
    assert_int_equal(k->ib_credit_violations, 0);
    check_conservation(&w);
    destroy(&w);
}

static void test_victim_recovers(void **state)
{
    (void)state;
    res off = {0}, on = {0};
    incast(0, &off);
    incast(1, &on);
    print_message("victim 2 MiB during a 16 -> 1 incast: %.1f Gb/s without CC, %.1f Gb/s with "
                  "(%llu FECN marks, %llu BECNs, CCTI up to %llu); incast done at %.0f / %.0f "
                  "us\n",
                  off.victim_gbps, on.victim_gbps, (unsigned long long)on.fecn,
                  (unsigned long long)on.becn, (unsigned long long)on.ccti_max_hot,
                  ifb_time_to_us(off.hot_end), ifb_time_to_us(on.hot_end));
    /* without CC the victim shares the spine's egress FIFO with 16 hot flows draining at 400G:
     * about 400/17 Gb/s */
    assert_true(off.victim_gbps < 80);
    assert_int_equal(off.fecn, 0);
    assert_int_equal(off.ccti_max_hot, 0);
    /* with CC it gets most of its link back */
    assert_true(on.victim_gbps > 200);
    assert_true(on.fecn > 0 && on.becn > 0);
    assert_true(on.ccti_max_hot > 0);
    assert_int_equal(on.ccti_end, 0); /* decayed to ccti_min once the incast was over */
    /* the incast itself still runs at the bottleneck's rate (16 x 4 MiB at 400G: 1.34 ms plus
     * the IB header overhead) */
    assert_true(ifb_time_to_us(on.hot_end) < 1.5 * ifb_time_to_us(off.hot_end));
    /* per SL: with the class's SL out of the CA control map, the switches mark and the
     * receiver returns BECNs, but no QP reacts */
    res sl = {0};
    incast(2, &sl);
    assert_true(sl.fecn > 0 && sl.becn > 0);
    assert_int_equal(sl.ccti_max_hot, 0);
    assert_true(sl.victim_gbps < 80);
}

static void test_bad_cc(void **state)
{
    (void)state;
    world w;
    ifb_err e = {{0}};
    ifb_fabric_cfg cfg;
    ifb_sim_init(&w.sim, 1);
    ifb_topo_init(&w.topo);
    ifb_server_spec s = one_nic_server(IFB_US);
    assert_int_equal(ifb_topo_single_switch(&w.topo, 2, &s, 8, &e), 0);
    assert_int_equal(ifb_topo_route(&w.topo, &e), 0);
    ifb_fabric_cfg_default(&cfg);
    cfg.ib_cc.on = 1; /* on RoCE */
    assert_int_equal(ifb_fabric_create(&w.fab, &w.sim, &w.topo, &cfg, &e), -1);
    assert_non_null(strstr(e.msg, "RoCE"));
    cfg.l2 = IFB_L2_IB;
    cfg.ctrl_queue = 0;
    cfg.ib_cc.threshold = 16;
    assert_int_equal(ifb_fabric_create(&w.fab, &w.sim, &w.topo, &cfg, &e), -1);
    assert_non_null(strstr(e.msg, "threshold"));
    ifb_topo_free(&w.topo);
    ifb_sim_destroy(&w.sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_victim_recovers),
        cmocka_unit_test(test_bad_cc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
