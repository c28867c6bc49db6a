/* Lossless Ethernet: PFC on a 16->1 incast into a small buffer (no drop, pauses counted, pause
 * frames conserved link by link), the same incast without PFC (drops, go-back-N recovers),
 * headroom too small (drops on the lossless class counted apart), the mlx5 headroom formula,
 * pause-storm detection, and inconsistent configurations rejected through the C API and the
 * scenario keys. Every run checks packet conservation and ends with nothing in flight. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/fabric/fabric.h"
#include "net/switch/pfc.h"
#include "scenario/scenario.h"
#include "topo/topo.h"
#include "workload/microbench.h"

#include "net_world.h"

/* RoCE classes on queue 3, lossless; buffer small enough that 16 x 1 MB cannot fit. */
static void lossless_cfg(ifb_fabric_cfg *cfg, int pfc)
{
    ifb_fabric_cfg_default(cfg);
    cfg->switch_buffer = 3000000; /* 17 ports x 137 KB of headroom + reserve leave ~660 KB */
    /* without PFC a short timeout recovers drops quickly; with PFC the default (67 ms) stays,
     * as a paused sender legitimately sees no ACK for tens of microseconds */
    cfg->rto = pfc ? cfg->rto : 20 * IFB_US;
    cfg->queue[3].lossless = 1;
    cfg->pfc = pfc;
}

static const ifb_mb_spec incast = {
    .kind = IFB_MB_INCAST, .bytes = 1 << 20, .dst = 16, .nranks = 16};

/* The acceptance incast: PFC on, nothing dropped, pauses sent and honoured. */
static void test_incast_pfc_no_drop(void **state)
{
    (void)state;
    ifb_fabric_cfg cfg;
    lossless_cfg(&cfg, 1);
    world w;
    make_single(&w, 1, 17, &cfg);
    ifb_mb_result r;
    ifb_err e;
    assert_int_equal(ifb_mb_run(&w.sim, ifb_fabric_net(w.fab), &incast, &r, &e), 0);
    const ifb_fabric_counters *c = ifb_fabric_counts(w.fab);
    assert_int_equal(r.msgs, 16);
    assert_int_equal(c->msgs_done, 16);
    assert_int_equal(c->pkts_dropped, 0);
    assert_int_equal(c->lossless_drops, 0);
    assert_int_equal(c->retx_pkts, 0);
    assert_true(c->pfc_xoff_sent > 0);
    assert_true(c->pfc_xon_sent > 0);
    assert_int_equal(c->pfc_rcvd, c->pfc_xoff_sent + c->pfc_xon_sent);
    /* every pause frame a switch port sent reached the NIC at the other end of its link */
    uint64_t paused_hosts = 0;
    const ifb_topo *t = &w.topo;
    for (int h = 0; h < 16; h++) {
        int np = host_port(t, h);
        int sp = t->nodes[t->ports[np].peer_node].first_port + t->ports[np].peer_port;
        const ifb_port_cc_stats *n = ifb_fabric_port_cc(w.fab, np);
        const ifb_port_cc_stats *s = ifb_fabric_port_cc(w.fab, sp);
        assert_int_equal(n->pause_rx[3], s->pause_tx[3]);
        assert_int_equal(n->xon_rx[3], s->xon_tx[3]);
        if (n->pause_rx[3]) {
            paused_hosts++;
            assert_true(ifb_fabric_port_paused_time(w.fab, np, 3) > 0);
        }
        assert_int_equal(n->pause_rx[6] + n->pause_rx[0], 0); /* only the lossless class */
    }
    assert_true(paused_hosts >= 8);
    /* the bottleneck's buffer use stayed inside the switch buffer */
    int rp = host_port(t, 16);
    int bp = t->nodes[t->ports[rp].peer_node].first_port + t->ports[rp].peer_port;
    assert_true(ifb_fabric_port_stats(w.fab, bp)->max_queue < cfg.switch_buffer);
    check_conservation(&w);
    destroy(&w);
}

/* Static thresholds (xoff/xon per priority group) instead of the dynamic one: still lossless. */
static void test_incast_static_threshold(void **state)
{
    (void)state;
    ifb_fabric_cfg cfg;
    lossless_cfg(&cfg, 1);
    cfg.pfc_xoff = 20000;
    cfg.pfc_xon = 10000;
    world w;
    make_single(&w, 1, 17, &cfg);
    ifb_mb_result r;
    ifb_err e;
    assert_int_equal(ifb_mb_run(&w.sim, ifb_fabric_net(w.fab), &incast, &r, &e), 0);
    const ifb_fabric_counters *c = ifb_fabric_counts(w.fab);
    assert_int_equal(c->msgs_done, 16);
    assert_int_equal(c->pkts_dropped, 0);
    assert_true(c->pfc_xoff_sent > 0 && c->pfc_xon_sent > 0);
    check_conservation(&w);
    destroy(&w);
}

/* Same incast with PFC off: the lossless flag alone does not save it; go-back-N recovers. */
static void test_incast_no_pfc_drops(void **state)
{
    (void)state;
    ifb_fabric_cfg cfg;
    lossless_cfg(&cfg, 0);
    world w;
    make_single(&w, 1, 17, &cfg);
    ifb_mb_result r;
    ifb_err e;
    assert_int_equal(ifb_mb_run(&w.sim, ifb_fabric_net(w.fab), &incast, &r, &e), 0);
    const ifb_fabric_counters *c = ifb_fabric_counts(w.fab);
    assert_int_equal(r.msgs, 16);
    assert_int_equal(c->msgs_done, 16);
    assert_true(c->pkts_dropped > 0);
    assert_int_equal(c->lossless_drops, 0); /* counted only while PFC is on */
    assert_true(c->retx_pkts > 0);
    assert_int_equal(c->pfc_xoff_sent + c->pfc_rcvd, 0);
    check_conservation(&w);
    destroy(&w);
}

/* Headroom far below the round trip: drops on the lossless class, counted apart. */
static void test_small_headroom_counted(void **state)
{
    (void)state;
    ifb_fabric_cfg cfg;
    lossless_cfg(&cfg, 1);
    cfg.pfc_headroom = 4500; /* one frame: the link round trip needs ~40 KB */
    cfg.switch_buffer = 400000;
    cfg.rto = 20 * IFB_US;
    world w;
    make_single(&w, 1, 17, &cfg); /* warns on stderr */
    assert_int_equal(ifb_fabric_port_headroom(w.fab, host_port(&w.topo, 0)), 0); /* NICs: none */
    ifb_mb_result r;
    ifb_err e;
    assert_int_equal(ifb_mb_run(&w.sim, ifb_fabric_net(w.fab), &incast, &r, &e), 0);
    const ifb_fabric_counters *c = ifb_fabric_counts(w.fab);
    assert_int_equal(c->msgs_done, 16);
    assert_true(c->lossless_drops > 0);
    assert_int_equal(c->lossless_drops, c->pkts_dropped);
    uint64_t per_port = 0;
    for (int p = 0; p < ifb_fabric_nports(w.fab); p++)
        per_port += ifb_fabric_port_cc(w.fab, p)->lossless_drops;
    assert_int_equal(per_port, c->lossless_drops);
    check_conservation(&w);
    destroy(&w);
}

/* mlx5: (301 + 2.16 x 5) x 400 + 2.72 x 4096 = 135,861.12 -> 135,862 B, the reference's
 * ~136 KB (Asterfusion's SONiC profile: xoff 135,520 B). */
static void test_headroom_formula(void **state)
{
    (void)state;
    uint64_t h = ifb_pfc_headroom(G400, 5000, 4096);
    assert_int_equal(h, 135862);
    assert_true(fabs((double)h - 136000.0) / 136000.0 < 0.01);
    /* ~1.28 ns per quantum at 400G: 65535 quanta = 83.88 us */
    assert_int_equal(ifb_pfc_quanta_time(1, G400), 1280);
    assert_int_equal(ifb_pfc_quanta_time(65535, G400), 65535ull * 1280);
    /* the fabric applies it per switch port (5 m cable here), or the override */
    ifb_fabric_cfg cfg;
    lossless_cfg(&cfg, 1);
    world w;
    make_single(&w, 1, 3, &cfg);
    const ifb_topo *t = &w.topo;
    int np = host_port(t, 0);
    int sp = t->nodes[t->ports[np].peer_node].first_port + t->ports[np].peer_port;
    assert_int_equal(ifb_fabric_port_headroom(w.fab, sp), 135862);
    destroy(&w);
    cfg.pfc_headroom = 200000;
    make_single(&w, 1, 3, &cfg);
    assert_int_equal(ifb_fabric_port_headroom(w.fab, sp), 200000);
    destroy(&w);
}

/* Short pause times refreshed often and a tiny storm interval: storms are counted, and paused
 * ports can be listed mid-run; the run still completes. */
static void test_storm_detect_and_list(void **state)
{
    (void)state;
    ifb_fabric_cfg cfg;
    lossless_cfg(&cfg, 1);
    cfg.pfc_quanta = 2000;           /* 2.56 us at 400G, refreshed every 1.28 us */
    cfg.pfc_storm_time = 3 * IFB_US; /* "long" here, to exercise the detector */
    world w;
    make_single(&w, 1, 17, &cfg);
    ifb_net *net = ifb_fabric_net(w.fab);
    for (int s = 0; s < 16; s++)
        assert_true(ifb_net_send(net, s, 16, 1 << 20, IFB_TC_A2A, NULL, NULL) > 0);
    w.sim.until = 100 * IFB_US;
    assert_int_equal(ifb_sim_run(&w.sim), IFB_STOP_TIME);
    ifb_paused_port pp[32];
    int n = ifb_fabric_paused_ports(w.fab, 0, pp, 32);
    assert_true(n > 0);
    for (int i = 0; i < n && i < 32; i++) {
        assert_int_equal(pp[i].prio, 3);
        assert_true(pp[i].since <= w.sim.now);
    }
    w.sim.until = IFB_TIME_NEVER;
    assert_int_equal(ifb_sim_run(&w.sim), IFB_STOP_EMPTY);
    const ifb_fabric_counters *c = ifb_fabric_counts(w.fab);
    assert_int_equal(c->msgs_done, 16);
    assert_int_equal(c->pkts_dropped, 0);
    assert_true(c->pfc_storms > 0);
    assert_int_equal(ifb_fabric_paused_ports(w.fab, 0, pp, 32), 0); /* all resumed at the end */
    check_conservation(&w);
    destroy(&w);
}

/* A pause held past deadlock_time stops the run with a report naming the paused ports instead
 * of letting it spin; resuming the run (as a driver may after reporting) still completes it. */
static void test_deadlock_time_stops(void **state)
{
    (void)state;
    ifb_fabric_cfg cfg;
    lossless_cfg(&cfg, 1);
    cfg.pfc_quanta = 2000;
    cfg.pfc_storm_time = 3 * IFB_US;
    cfg.pfc_deadlock_time = 6 * IFB_US;
    world w;
    make_single(&w, 1, 17, &cfg);
    ifb_net *net = ifb_fabric_net(w.fab);
    for (int s = 0; s < 16; s++)
        assert_true(ifb_net_send(net, s, 16, 1 << 20, IFB_TC_A2A, NULL, NULL) > 0);
    assert_int_equal(ifb_sim_run(&w.sim), IFB_STOP_ERROR);
    if (!strstr(w.sim.error, "PFC deadlock or pause storm") || !strstr(w.sim.error, "prio 3") ||
        !strstr(w.sim.error, "no cycle"))
        fail_msg("unexpected report: %s", w.sim.error);
    printf("  report: %s\n", w.sim.error);
    char msg[256];
    if (ifb_fabric_check_conservation(w.fab, msg, sizeof msg)) /* mid-run: in flight counted */
        fail_msg("%s", msg);
    int stops = 1;
    while (ifb_sim_run(&w.sim) == IFB_STOP_ERROR)
        stops++;
    assert_true(stops < 100000);
    assert_int_equal(ifb_fabric_counts(w.fab)->msgs_done, 16);
    check_conservation(&w);
    destroy(&w);
}

/* A ring of five switches, one host each: shortest paths to the host two switches clockwise
 * are unique, so five flows h(i) -> h(i+2) load every ring link twice and make the classic
 * cyclic buffer dependency. With a small buffer the ring deadlocks under PFC; the run must stop
 * with a report naming the cycle instead of spinning (the deadlock itself never drains, so
 * this one test ends with packets inside: conservation still holds). */
static void test_ring_deadlock_reported(void **state)
{
    (void)state;
    ifb_err e = {{0}};
    world w;
    ifb_sim_init(&w.sim, 1);
    ifb_topo_init(&w.topo);
    enum { N = 5 };
    int sw[N];
    for (int i = 0; i < N; i++) {
        char nm[16];
        snprintf(nm, sizeof nm, "r%d", i);
        sw[i] = ifb_topo_add_node(&w.topo, IFB_NODE_SWITCH, nm, 4, 0);
    }
    for (int i = 0; i < N; i++) {
        char nm[16];
        snprintf(nm, sizeof nm, "h%d", i);
        int h = ifb_topo_add_node(&w.topo, IFB_NODE_HOST, nm, 1, -1);
        assert_true(ifb_topo_connect(&w.topo, h, sw[i], G400, 25 * IFB_NS, &e) >= 0);
    }
    for (int i = 0; i < N; i++)
        assert_true(ifb_topo_connect(&w.topo, sw[i], sw[(i + 1) % N], G400, 25 * IFB_NS, &e) >= 0);
    w.topo.nservers = N;
    w.topo.gpus_per_server = w.topo.nics_per_server = 1;
    w.topo.server_host = malloc(N * sizeof(int));
    w.topo.gpu_nic = calloc(1, sizeof(int));
    for (int i = 0; i < N; i++)
        w.topo.server_host[i] = i;
    w.topo.nvlink_bps = 3600000000000ull;
    w.topo.nvlink_latency = IFB_US;
    assert_int_equal(ifb_topo_route(&w.topo, &e), 0);
    ifb_fabric_cfg cfg;
    lossless_cfg(&cfg, 1);
    cfg.switch_buffer = 4 * 140000 + 60000; /* four ports of headroom and a 60 KB pool */
    cfg.pfc_storm_time = 100 * IFB_US;
    cfg.pfc_deadlock_time = 500 * IFB_US;
    if (ifb_fabric_create(&w.fab, &w.sim, &w.topo, &cfg, &e))
        fail_msg("%s", e.msg);
    ifb_net *net = ifb_fabric_net(w.fab);
    for (int i = 0; i < N; i++)
        assert_true(ifb_net_send(net, i, (i + 2) % N, 64 << 20, IFB_TC_A2A, NULL, NULL) > 0);
    ifb_stop st = ifb_sim_run(&w.sim);
    printf("  ring: %s after %.1f us, %llu of 5 messages: %s\n", ifb_stop_name(st),
           ifb_time_to_us(w.sim.now), (unsigned long long)ifb_fabric_counts(w.fab)->msgs_done,
           w.sim.error);
    assert_int_equal(st, IFB_STOP_ERROR);
    if (!strstr(w.sim.error, "cyclic buffer dependency"))
        fail_msg("no cycle reported: %s", w.sim.error);
    assert_true(ifb_fabric_counts(w.fab)->pfc_storms > 0);
    ifb_paused_port pp[16];
    assert_true(ifb_fabric_paused_ports(w.fab, cfg.pfc_storm_time, pp, 16) >= N);
    char msg[256];
    if (ifb_fabric_check_conservation(w.fab, msg, sizeof msg))
        fail_msg("%s", msg);
    assert_int_equal(ifb_fabric_counts(w.fab)->pkts_dropped, 0);
    destroy(&w);
}

static void expect_create_error(const ifb_fabric_cfg *cfg, const char *needle)
{
    ifb_sim sim;
    ifb_topo topo;
    ifb_err e = {{0}};
    ifb_sim_init(&sim, 1);
    ifb_topo_init(&topo);
    ifb_server_spec s = {.gpus_per_server = 1,
                         .nics_per_server = 1,
                         .nic_bps = G400,
                         .host_delay = 25 * IFB_NS,
                         .nvlink_bps = 3600000000000ull,
                         .nvlink_latency = IFB_US};
    assert_int_equal(ifb_topo_single_switch(&topo, 4, &s, 64, &e), 0);
    assert_int_equal(ifb_topo_route(&topo, &e), 0);
    ifb_fabric *f = NULL;
    assert_int_equal(ifb_fabric_create(&f, &sim, &topo, cfg, &e), -1);
    assert_null(f);
    if (!strstr(e.msg, needle))
        fail_msg("error '%s' does not mention '%s'", e.msg, needle);
    ifb_topo_free(&topo);
    ifb_sim_destroy(&sim);
}

static void test_bad_cfg_api(void **state)
{
    (void)state;
    ifb_fabric_cfg c;
    ifb_fabric_cfg_default(&c);
    c.pfc = 1;
    expect_create_error(&c, "no queue is lossless");
    c.queue[3].lossless = 1;
    c.pfc_prios = 1u << 2;
    expect_create_error(&c, "not lossless");
    c.pfc_prios = 0;
    c.pfc_headroom = 0;
    expect_create_error(&c, "no PFC headroom");
    c.pfc_headroom = IFB_PFC_AUTO;
    c.pfc_xoff = 10000;
    c.pfc_xon = 20000;
    expect_create_error(&c, "XON");
    c.pfc_xoff = c.pfc_xon = 0;
    c.switch_buffer = 100000; /* less than the headroom of four ports */
    expect_create_error(&c, "no shared pool");
}

static void expect_scenario_error(const char *const *sets, int n, const char *key)
{
    ifb_scenario sc;
    ifb_err e = {{0}};
    int rc = ifb_scenario_load(&sc, NULL, sets, n, &e);
    if (rc == 0)
        fail_msg("scenario with %s accepted", sets[n - 1]);
    if (!strstr(e.msg, key))
        fail_msg("error '%s' does not name %s", e.msg, key);
    ifb_scenario_free(&sc);
}

#define Q3 "fabric.queues=[{}, {}, {}, {lossless: true}]"
#define Q6 "fabric.queues=[{}, {}, {}, {}, {}, {}, {lossless: true}]"

static void test_bad_cfg_keys(void **state)
{
    (void)state;
    const char *no_lossless[] = {"fabric.pfc.enable=true"};
    expect_scenario_error(no_lossless, 1, "fabric.pfc.enable");
    const char *no_headroom[] = {Q3, "fabric.pfc.enable=true", "fabric.pfc.headroom=0B"};
    expect_scenario_error(no_headroom, 3, "fabric.pfc.headroom");
    const char *xon_above[] = {Q3, "fabric.pfc.enable=true", "fabric.pfc.xoff=50KB",
                               "fabric.pfc.xon=60KB"};
    expect_scenario_error(xon_above, 4, "fabric.pfc.xon");
    const char *lossy_pause[] = {Q3, "fabric.pfc.enable=true", "fabric.pfc.priorities=[3, 4]"};
    expect_scenario_error(lossy_pause, 3, "fabric.pfc.priorities[1]");
    const char *kmax_below[] = {"fabric.queues=[{}, {}, {}, {ecn_kmin: 200KB, ecn_kmax: 100KB}]"};
    expect_scenario_error(kmax_below, 1, "fabric.queues[3].ecn_kmax");
    const char *bad_profile[] = {"fabric.dcqcn.profile=nvidia"};
    expect_scenario_error(bad_profile, 1, "fabric.dcqcn.profile");
    const char *cnp_lossless[] = {Q6, "fabric.pfc.enable=true", "fabric.dcqcn.enable=true"};
    expect_scenario_error(cnp_lossless, 3, "fabric.dcqcn.cnp_priority");
    /* and a consistent set loads, with the profile and overrides applied */
    const char *good[] = {Q3,
                          "fabric.pfc.enable=true",
                          "fabric.dcqcn.enable=true",
                          "fabric.dcqcn.profile=dcqcn-paper",
                          "fabric.dcqcn.rate_ai=80Mbps",
                          "fabric.pfc.headroom=auto"};
    ifb_scenario sc;
    ifb_err e = {{0}};
    if (ifb_scenario_load(&sc, NULL, good, 6, &e))
        fail_msg("%s", e.msg);
    assert_true(sc.fab.pfc && sc.fab.dcqcn && sc.fab.queue[3].lossless);
    assert_int_equal(sc.fab.pfc_headroom, IFB_PFC_AUTO);
    assert_int_equal(sc.fab.dcqcn_p.rate_ai, 80000000);
    assert_int_equal(sc.fab.dcqcn_p.cnp_interval, 50 * IFB_US);
    assert_true(sc.fab.queue[3].ecn); /* DCQCN turns marking on for the class queues */
    ifb_scenario_free(&sc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_incast_pfc_no_drop),  cmocka_unit_test(test_incast_static_threshold),
        cmocka_unit_test(test_incast_no_pfc_drops), cmocka_unit_test(test_small_headroom_counted),
        cmocka_unit_test(test_headroom_formula),    cmocka_unit_test(test_storm_detect_and_list),
        cmocka_unit_test(test_deadlock_time_stops), cmocka_unit_test(test_ring_deadlock_reported),
        cmocka_unit_test(test_bad_cfg_api),         cmocka_unit_test(test_bad_cfg_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
