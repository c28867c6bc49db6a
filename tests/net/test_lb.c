/* Switch path selection (net/switch/lb.h): WCMP weight shares, flowlet stickiness and expiry, spray
 * evenness, adaptive avoidance of a loaded port, configuration keys and bad input, and whole
 * runs (determinism, spray under go-back-N). Synthetic packets are fed straight to
 * ifb_lb_select with a hand-set clock, so every figure is exact or binomially bounded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "net/fabric/fabric_int.h"
#include "net/switch/lb.h"
#include "scenario/cfg.h"
#include "scenario/lb_cfg.h"
#include "topo/topo.h"
#include "workload/microbench.h"

static const uint64_t G400 = 400000000000ull;

typedef struct world {
    ifb_sim sim;
    ifb_topo topo;
    ifb_fabric *fab;
} world;

/* Leaf-spine of `leaves` leaves with `per_leaf` hosts, `spines` spines. On leaf 0, ports
 * 0..per_leaf-1 face hosts and per_leaf+j goes to spine j. slow_spine >= 0 makes that spine's
 * link to the last leaf run at 100 Gb/s. */
static void make(world *w, uint64_t seed, int leaves, int per_leaf, int spines, int slow_spine)
{
    ifb_err e = {{0}};
    ifb_sim_init(&w->sim, seed);
    ifb_topo_init(&w->topo);
    ifb_server_spec s = {.gpus_per_server = 1,
                         .nics_per_server = 1,
                         .nic_bps = G400,
                         .host_delay = IFB_US,
                         .nvlink_bps = 3600000000000ull,
                         .nvlink_latency = IFB_US};
    assert_int_equal(ifb_topo_leaf_spine(&w->topo, leaves * per_leaf, &s, leaves, spines, 1, G400,
                                         IFB_US, 64, &e),
                     0);
    if (slow_spine >= 0) {
        char sp[32], lf[32];
        snprintf(sp, sizeof sp, "spine%d", slow_spine);
        snprintf(lf, sizeof lf, "leaf%d", leaves - 1);
        int a = ifb_topo_find_node(&w->topo, sp), b = ifb_topo_find_node(&w->topo, lf);
        int found = 0;
        for (int i = 0; i < w->topo.nlinks; i++) {
            ifb_topo_link *l = &w->topo.links[i];
            if ((l->a_node == a && l->b_node == b) || (l->a_node == b && l->b_node == a)) {
                l->rate_bps = G400 / 4;
                found++;
            }
        }
        assert_int_equal(found, 1);
    }
    assert_int_equal(ifb_topo_route(&w->topo, &e), 0);
    ifb_fabric_cfg cfg;
    ifb_fabric_cfg_default(&cfg);
    assert_int_equal(ifb_fabric_create(&w->fab, &w->sim, &w->topo, &cfg, &e), 0);
}

static void destroy(world *w)
{
    ifb_lb_detach(w->fab);
    ifb_fabric_destroy(w->fab);
    ifb_topo_free(&w->topo);
    ifb_sim_destroy(&w->sim);
}

static void all_queues(ifb_lb_cfg *c, int mode)
{
    for (int q = 0; q < IFB_NQUEUES; q++)
        c->q[q].mode = (uint8_t)mode;
}

/* A data packet of flow (src, dst, sport) on queue 3. */
static ifb_pkt flow_pkt(uint32_t src, uint32_t dst, uint16_t sport)
{
    ifb_pkt p = {.kind = IFB_PK_DATA,
                 .src = src,
                 .dst = dst,
                 .sport = sport,
                 .tc = 3,
                 .payload = 4096,
                 .wire = 4178};
    return p;
}

static const ifb_topo_group *group_of(world *w, int sw, int host)
{
    return ifb_topo_route_group(&w->topo, sw, host);
}

/* ---- WCMP ------------------------------------------------------------------------------------ */

static void test_wcmp_3_to_1(void **state)
{
    (void)state;
    world w;
    make(&w, 1, 2, 2, 2, -1);
    ifb_lb_cfg c;
    ifb_lb_cfg_default(&c);
    all_queues(&c, IFB_LBA_WCMP);
    c.nweights = 2;
    c.weights[0] = (ifb_lb_weight){.sw = "leaf0", .port = 2, .weight = 3};
    c.weights[1] = (ifb_lb_weight){.sw = "leaf0", .port = 3, .weight = 1};
    ifb_err e = {{0}};
    assert_int_equal(ifb_lb_attach(w.fab, &c, &e), 0);
    const ifb_topo_group *g = group_of(&w, 0, 2); /* leaf0 toward a host on leaf1 */
    assert_int_equal(g->count, 2);
    assert_int_equal(w.topo.group_ports[g->first], 2);
    int n0 = 0;
    const int flows = 10000;
    for (int i = 0; i < flows; i++) {
        ifb_pkt p = flow_pkt((uint32_t)(i & 1), 2 + (uint32_t)((i >> 1) & 1),
                             (uint16_t)(0xC000 + (i >> 2)));
        int m = ifb_lb_select(&w.fab->switches[0], g, &p);
        assert_true(m == 0 || m == 1);
        n0 += m == 0;
        /* per-flow: the same flow always hashes to the same member */
        assert_int_equal(ifb_lb_select(&w.fab->switches[0], g, &p), m);
    }
    double share = (double)n0 / flows;
    printf("wcmp 3:1 share on member 0: %.4f\n", share);
    assert_true(share > 0.73 && share < 0.77);
    destroy(&w);
}

/* Capacity weights: one spine reaches the destination leaf at a quarter of the speed, so the
 * source leaf gives it 100/(400+100) = 20% of the slots; other destinations stay 50/50. */
static void test_wcmp_capacity(void **state)
{
    (void)state;
    world w;
    make(&w, 1, 3, 2, 2, 1);
    ifb_lb_cfg c;
    ifb_lb_cfg_default(&c);
    all_queues(&c, IFB_LBA_WCMP);
    ifb_err e = {{0}};
    assert_int_equal(ifb_lb_attach(w.fab, &c, &e), 0);
    int to_slow[2] = {0, 0}, to_fast[2] = {0, 0};
    for (int i = 0; i < 10000; i++) {
        ifb_pkt p = flow_pkt((uint32_t)(i & 1), 4, (uint16_t)(0xC000 + (i >> 1)));
        to_slow[ifb_lb_select(&w.fab->switches[0], group_of(&w, 0, 4), &p)]++;
        ifb_pkt q = flow_pkt((uint32_t)(i & 1), 2, (uint16_t)(0xC000 + (i >> 1)));
        to_fast[ifb_lb_select(&w.fab->switches[0], group_of(&w, 0, 2), &q)]++;
    }
    printf("capacity weights: toward slow leaf %d/%d, toward fast leaf %d/%d\n", to_slow[0],
           to_slow[1], to_fast[0], to_fast[1]);
    assert_true(to_slow[1] > 1800 && to_slow[1] < 2200);
    assert_true(to_fast[1] > 4800 && to_fast[1] < 5200);
    /* weighted: spray's random member follows the same weights */
    ifb_lb_cfg cw = c;
    all_queues(&cw, IFB_LBA_SPRAY);
    cw.weighted = 1;
    assert_int_equal(ifb_lb_attach(w.fab, &cw, &e), 0);
    int ws = 0;
    ifb_pkt sp = flow_pkt(0, 4, 0xC000);
    for (int i = 0; i < 10000; i++)
        ws += ifb_lb_select(&w.fab->switches[0], group_of(&w, 0, 4), &sp);
    printf("weighted spray toward the slow leaf: %d of 10000 on the slow spine\n", ws);
    assert_true(ws > 1800 && ws < 2200);
    /* link_rate weights ignore what lies beyond the first link */
    c.wcmp_source = IFB_LB_W_LINK_RATE;
    assert_int_equal(ifb_lb_attach(w.fab, &c, &e), 0);
    int n1 = 0;
    for (int i = 0; i < 10000; i++) {
        ifb_pkt p = flow_pkt((uint32_t)(i & 1), 4, (uint16_t)(0xC000 + (i >> 1)));
        n1 += ifb_lb_select(&w.fab->switches[0], group_of(&w, 0, 4), &p);
    }
    assert_true(n1 > 4800 && n1 < 5200);

    /* a link goes down (rate 0 here): after ifb_lb_recompute its member gets no slot */
    c.wcmp_source = IFB_LB_W_CAPACITY;
    assert_int_equal(ifb_lb_attach(w.fab, &c, &e), 0);
    ifb_switch *leaf0 = &w.fab->switches[0];
    ifb_port *up1 = &leaf0->ports[w.topo.group_ports[group_of(&w, 0, 2)->first + 1]];
    uint64_t rate = up1->rate;
    up1->rate = 0;
    assert_int_equal(ifb_lb_recompute(w.fab, &e), 0);
    n1 = 0;
    for (int i = 0; i < 1000; i++) {
        ifb_pkt p = flow_pkt((uint32_t)(i & 1), 2, (uint16_t)(0xC000 + (i >> 1)));
        n1 += ifb_lb_select(leaf0, group_of(&w, 0, 2), &p);
    }
    assert_int_equal(n1, 0);
    up1->rate = rate;
    destroy(&w);
}

static void test_wcmp_bad_weights(void **state)
{
    (void)state;
    world w;
    make(&w, 1, 2, 2, 2, -1);
    ifb_lb_cfg c;
    ifb_lb_cfg_default(&c);
    all_queues(&c, IFB_LBA_WCMP);
    snprintf(c.weights_key, sizeof c.weights_key, "fabric.load_balancing.weights");
    c.nweights = 2;
    c.weights[0] = (ifb_lb_weight){.sw = "leaf0", .port = 2, .weight = 0};
    c.weights[1] = (ifb_lb_weight){.sw = "leaf0", .port = 3, .weight = 0};
    ifb_err e = {{0}};
    assert_int_equal(ifb_lb_attach(w.fab, &c, &e), -1);
    printf("%s\n", e.msg);
    assert_non_null(strstr(e.msg, "fabric.load_balancing.weights"));
    assert_non_null(strstr(e.msg, "leaf0"));
    assert_non_null(strstr(e.msg, "weigh 0"));
    assert_null(w.fab->switches[0].lb);
    /* a weight for a switch that does not exist */
    c.nweights = 1;
    c.weights[0] = (ifb_lb_weight){.sw = "leaf9", .port = 2, .weight = 1};
    assert_int_equal(ifb_lb_attach(w.fab, &c, &e), -1);
    assert_non_null(strstr(e.msg, "weights[0].switch"));
    assert_non_null(strstr(e.msg, "leaf9"));
    /* a flowlet table of size zero */
    ifb_lb_cfg_default(&c);
    c.flowlet_table = 0;
    assert_int_equal(ifb_lb_attach(w.fab, &c, &e), -1);
    assert_non_null(strstr(e.msg, "flowlet_table"));
    destroy(&w);
}

/* ---- Flowlets -------------------------------------------------------------------------------- */

static void test_flowlet_gap(void **state)
{
    (void)state;
    world w;
    make(&w, 7, 2, 4, 4, -1);
    ifb_lb_cfg c;
    ifb_lb_cfg_default(&c);
    all_queues(&c, IFB_LBA_FLOWLET);
    const ifb_time gap = c.q[3].flowlet_gap;
    ifb_err e = {{0}};
    assert_int_equal(ifb_lb_attach(w.fab, &c, &e), 0);
    ifb_switch *sw = &w.fab->switches[0];
    const ifb_topo_group *g = group_of(&w, 0, 5);
    assert_int_equal(g->count, 4);
    /* 64 flows interleaved, a packet of each every 1 us for 2 ms: no flow ever moves, even
     * where flows share a (tagless) table entry */
    enum { NF = 64 };
    int member[NF];
    for (int f = 0; f < NF; f++) {
        ifb_pkt p = flow_pkt((uint32_t)(f & 3), 4 + (uint32_t)(f & 3), (uint16_t)(0xC000 + f));
        member[f] = ifb_lb_select(sw, g, &p);
    }
    for (int t = 1; t <= 2000; t++) {
        w.sim.now = (ifb_time)t * IFB_US;
        for (int f = 0; f < NF; f++) {
            ifb_pkt p = flow_pkt((uint32_t)(f & 3), 4 + (uint32_t)(f & 3), (uint16_t)(0xC000 + f));
            assert_int_equal(ifb_lb_select(sw, g, &p), member[f]);
        }
    }
    /* exactly the gap apart still sticks; one picosecond more starts a new flowlet, which may
     * move: over 200 flowlet starts with 4 members some must move, about 3/4 of them */
    ifb_pkt p = flow_pkt(0, 4, 0xC000);
    w.sim.now += gap;
    assert_int_equal(ifb_lb_select(sw, g, &p), member[0]);
    ifb_lb_stats st0, st1;
    ifb_lb_get_stats(w.fab, &st0);
    int moved = 0, m = member[0];
    for (int i = 0; i < 200; i++) {
        w.sim.now += gap + 1;
        int n = ifb_lb_select(sw, g, &p);
        moved += n != m;
        m = n;
    }
    ifb_lb_get_stats(w.fab, &st1);
    printf("flowlet: %d of 200 new flowlets moved\n", moved);
    assert_int_equal(st1.flowlets - st0.flowlets, 200);
    assert_true(moved > 120 && moved < 180);
    destroy(&w);
}

/* New flowlets with least_loaded avoid a port with a queue. */
static void test_flowlet_least_loaded(void **state)
{
    (void)state;
    world w;
    make(&w, 3, 2, 4, 4, -1);
    ifb_lb_cfg c;
    ifb_lb_cfg_default(&c);
    all_queues(&c, IFB_LBA_FLOWLET);
    for (int q = 0; q < IFB_NQUEUES; q++)
        c.q[q].flowlet_pick = IFB_LB_PICK_LEAST_LOADED;
    ifb_err e = {{0}};
    assert_int_equal(ifb_lb_attach(w.fab, &c, &e), 0);
    ifb_switch *sw = &w.fab->switches[0];
    const ifb_topo_group *g = group_of(&w, 0, 5);
    ifb_port *loaded = &sw->ports[w.topo.group_ports[g->first + 2]];
    loaded->qbytes = 100000;
    int cnt[4] = {0};
    for (int f = 0; f < 400; f++) {
        ifb_pkt p = flow_pkt(0, 5, (uint16_t)(0xC000 + f));
        cnt[ifb_lb_select(sw, g, &p)]++;
    }
    loaded->qbytes = 0;
    assert_int_equal(cnt[2], 0);
    for (int i = 0; i < 4; i++)
        if (i != 2)
            assert_true(cnt[i] > 90);
    destroy(&w);
}

/* ---- Spray ----------------------------------------------------------------------------------- */

static void test_spray(void **state)
{
    (void)state;
    world w;
    make(&w, 5, 2, 4, 4, -1);
    ifb_lb_cfg c;
    ifb_lb_cfg_default(&c);
    all_queues(&c, IFB_LBA_SPRAY);
    ifb_err e = {{0}};
    ifb_switch *sw = &w.fab->switches[0];
    const ifb_topo_group *g = group_of(&w, 0, 5);
    ifb_pkt p = flow_pkt(0, 5, 0xC000);

    /* round robin: exact, and in cyclic order */
    for (int q = 0; q < IFB_NQUEUES; q++)
        c.q[q].spray = IFB_LB_SPRAY_ROUND_ROBIN;
    assert_int_equal(ifb_lb_attach(w.fab, &c, &e), 0);
    int cnt[4] = {0};
    for (int i = 0; i < 4000; i++) {
        int m = ifb_lb_select(sw, g, &p);
        assert_int_equal(m, i % 4);
        cnt[m]++;
    }
    for (int i = 0; i < 4; i++)
        assert_int_equal(cnt[i], 1000);

    /* random: 40,000 packets, each member within 4% of 10,000 (4.6 standard deviations) */
    for (int q = 0; q < IFB_NQUEUES; q++)
        c.q[q].spray = IFB_LB_SPRAY_RANDOM;
    assert_int_equal(ifb_lb_attach(w.fab, &c, &e), 0);
    memset(cnt, 0, sizeof cnt);
    for (int i = 0; i < 40000; i++)
        cnt[ifb_lb_select(sw, g, &p)]++;
    for (int i = 0; i < 4; i++)
        assert_true(cnt[i] > 9600 && cnt[i] < 10400);

    /* DRILL on idle ports spreads like random; a loaded port is never taken once a better
     * port is remembered (only the very first packet could, if both samples hit it) */
    for (int q = 0; q < IFB_NQUEUES; q++)
        c.q[q].spray = IFB_LB_SPRAY_DRILL;
    assert_int_equal(ifb_lb_attach(w.fab, &c, &e), 0);
    memset(cnt, 0, sizeof cnt);
    for (int i = 0; i < 40000; i++)
        cnt[ifb_lb_select(sw, g, &p)]++;
    for (int i = 0; i < 4; i++)
        assert_true(cnt[i] > 9600 && cnt[i] < 10400);
    ifb_port *loaded = &sw->ports[w.topo.group_ports[g->first + 1]];
    loaded->qbytes = 50000;
    memset(cnt, 0, sizeof cnt);
    for (int i = 0; i < 4000; i++)
        cnt[ifb_lb_select(sw, g, &p)]++;
    loaded->qbytes = 0;
    assert_true(cnt[1] <= 1);
    destroy(&w);
}

/* ---- Adaptive -------------------------------------------------------------------------------- */

static void test_adaptive(void **state)
{
    (void)state;
    world w;
    make(&w, 11, 2, 4, 4, -1);
    ifb_lb_cfg c;
    ifb_lb_cfg_default(&c);
    all_queues(&c, IFB_LBA_ADAPTIVE);
    for (int q = 0; q < IFB_NQUEUES; q++)
        c.q[q].unit = IFB_LB_UNIT_PACKET;
    ifb_err e = {{0}};
    assert_int_equal(ifb_lb_attach(w.fab, &c, &e), 0);
    ifb_switch *sw = &w.fab->switches[0];
    const ifb_topo_group *g = group_of(&w, 0, 5);
    ifb_pkt p = flow_pkt(0, 5, 0xC000);

    /* no load anywhere: every band is 0 and ties spread at random */
    int cnt[4] = {0};
    for (int i = 0; i < 4000; i++)
        cnt[ifb_lb_select(sw, g, &p)]++;
    for (int i = 0; i < 4; i++)
        assert_true(cnt[i] > 850 && cnt[i] < 1150);

    /* member 1 holds a 2 MB queue when the next sample is taken: it is in the worst band */
    ifb_port *qport = &sw->ports[w.topo.group_ports[g->first + 1]];
    qport->qbytes = 2000000;
    /* member 3 transmitted a full interval's worth of bytes: busy, a worse band than idle */
    ifb_port *txport = &sw->ports[w.topo.group_ports[g->first + 3]];
    txport->st.tx_bytes += 800000; /* 400 Gb/s x 16 us */
    w.sim.now = c.quality_interval + 1;
    memset(cnt, 0, sizeof cnt);
    for (int i = 0; i < 4000; i++)
        cnt[ifb_lb_select(sw, g, &p)]++;
    printf("adaptive with a long queue on member 1 and a busy member 3: %d %d %d %d\n", cnt[0],
           cnt[1], cnt[2], cnt[3]);
    assert_int_equal(cnt[1], 0);
    assert_int_equal(cnt[3], 0);
    assert_true(cnt[0] > 1800 && cnt[2] > 1800);

    /* the queue drains; after a few intervals the EWMA forgets it and member 1 is used again */
    qport->qbytes = 0;
    w.sim.now = 10 * c.quality_interval + 1;
    memset(cnt, 0, sizeof cnt);
    for (int i = 0; i < 4000; i++)
        cnt[ifb_lb_select(sw, g, &p)]++;
    assert_true(cnt[1] > 850);

    /* per flowlet: new flowlets avoid the loaded member, and a flow stays put inside the gap
     * even after its port becomes the worst */
    for (int q = 0; q < IFB_NQUEUES; q++)
        c.q[q].unit = IFB_LB_UNIT_FLOWLET;
    assert_int_equal(ifb_lb_attach(w.fab, &c, &e), 0);
    w.sim.now = 20 * c.quality_interval;
    qport->qbytes = 2000000;
    w.sim.now += c.quality_interval;
    memset(cnt, 0, sizeof cnt);
    for (int f = 0; f < 400; f++) {
        ifb_pkt q = flow_pkt(1, 6, (uint16_t)(0xC000 + f));
        cnt[ifb_lb_select(sw, g, &q)]++;
    }
    qport->qbytes = 0;
    assert_int_equal(cnt[1], 0);

    /* quality_ties: least_loaded -- inside the best band the instantaneous queue decides: a
     * 10 KB queue is far below one band (100 KB at 400 Gb/s x 16 us / 8) but still avoided */
    c.quality_ties = IFB_LB_PICK_LEAST_LOADED;
    for (int q = 0; q < IFB_NQUEUES; q++)
        c.q[q].unit = IFB_LB_UNIT_PACKET;
    assert_int_equal(ifb_lb_attach(w.fab, &c, &e), 0);
    w.sim.now = 40 * c.quality_interval;
    qport->qbytes = 10000;
    memset(cnt, 0, sizeof cnt);
    for (int i = 0; i < 4000; i++)
        cnt[ifb_lb_select(sw, g, &p)]++;
    qport->qbytes = 0;
    assert_int_equal(cnt[1], 0);
    for (int i = 0; i < 4; i++)
        if (i != 1)
            assert_true(cnt[i] > 1150);
    destroy(&w);
}

/* ---- Configuration --------------------------------------------------------------------------- */

static void test_cfg_load(void **state)
{
    (void)state;
    const char *yaml = "fabric:\n"
                       "  load_balancing:\n"
                       "    mode: flowlet\n"
                       "    flowlet_gap: 20us\n"
                       "    flowlet_table: 1024\n"
                       "    flowlet_pick: least_loaded\n"
                       "    wcmp_width: 128\n"
                       "    wcmp_weights: link_rate\n"
                       "    spray: drill\n"
                       "    drill_choices: 3\n"
                       "    adaptive: packet\n"
                       "    quality_interval: 8us\n"
                       "    quality_ewma: 0.25\n"
                       "    quality_tx_weight: 2\n"
                       "    quality_queue_weight: 0.5\n"
                       "    quality_bands: 4\n"
                       "    quality_ties: least_loaded\n"
                       "    weighted: true\n"
                       "    weights:\n"
                       "      - {switch: leaf0, port: 2, weight: 3}\n"
                       "    per_class:\n"
                       "      3: {mode: spray, spray: round_robin}\n"
                       "      6: ecmp\n"
                       "      1: {mode: adaptive, flowlet_gap: 100us}\n";
    ifb_err e = {{0}};
    ifb_cfg *c = ifb_cfg_load_string(yaml, "t.yaml", &e);
    assert_non_null(c);
    ifb_lb_cfg l;
    if (ifb_lb_cfg_load(c, "fabric.load_balancing", IFB_LBA_ECMP, &l, &e))
        fail_msg("%s", e.msg);
    assert_int_equal(ifb_cfg_check_unused(c, &e), 0);
    assert_int_equal(l.q[0].mode, IFB_LBA_FLOWLET);
    assert_int_equal(l.q[0].flowlet_gap, 20 * IFB_US);
    assert_int_equal(l.q[0].flowlet_pick, IFB_LB_PICK_LEAST_LOADED);
    assert_int_equal(l.q[3].mode, IFB_LBA_SPRAY);
    assert_int_equal(l.q[3].spray, IFB_LB_SPRAY_ROUND_ROBIN);
    assert_int_equal(l.q[3].flowlet_gap, 20 * IFB_US); /* inherited */
    assert_int_equal(l.q[6].mode, IFB_LBA_ECMP);
    assert_int_equal(l.q[1].mode, IFB_LBA_ADAPTIVE);
    assert_int_equal(l.q[1].unit, IFB_LB_UNIT_PACKET);
    assert_int_equal(l.q[1].flowlet_gap, 100 * IFB_US);
    assert_int_equal(l.flowlet_table, 1024);
    assert_int_equal(l.wcmp_width, 128);
    assert_int_equal(l.wcmp_source, IFB_LB_W_LINK_RATE);
    assert_int_equal(l.drill_choices, 3);
    assert_int_equal(l.quality_interval, 8 * IFB_US);
    assert_true(l.quality_ewma == 0.25 && l.quality_tx_weight == 2 && l.quality_q_weight == 0.5);
    assert_int_equal(l.quality_bands, 4);
    assert_int_equal(l.quality_ties, IFB_LB_PICK_LEAST_LOADED);
    assert_int_equal(l.weighted, 1);
    assert_int_equal(l.nweights, 1);
    assert_string_equal(l.weights[0].sw, "leaf0");
    assert_int_equal(l.weights[0].port, 2);
    assert_int_equal(l.weights[0].weight, 3);
    assert_int_equal(l.weights[0].line, 20);
    ifb_cfg_free(c);

    /* a scalar is the mode of every queue */
    c = ifb_cfg_load_string("fabric: {load_balancing: spray}\n", "s.yaml", &e);
    assert_int_equal(ifb_lb_cfg_load(c, "fabric.load_balancing", IFB_LBA_ECMP, &l, &e), 0);
    for (int q = 0; q < IFB_NQUEUES; q++)
        assert_int_equal(l.q[q].mode, IFB_LBA_SPRAY);
    ifb_cfg_free(c);
}

static void expect_bad(const char *yaml, const char *needle)
{
    ifb_err e = {{0}};
    ifb_cfg *c = ifb_cfg_load_string(yaml, "bad.yaml", &e);
    assert_non_null(c);
    ifb_lb_cfg l;
    assert_int_equal(ifb_lb_cfg_load(c, "fabric.load_balancing", IFB_LBA_ECMP, &l, &e), -1);
    printf("%s\n", e.msg);
    if (!strstr(e.msg, needle))
        fail_msg("'%s' does not name '%s'", e.msg, needle);
    ifb_cfg_free(c);
}

static void test_cfg_bad(void **state)
{
    (void)state;
    expect_bad("fabric:\n  load_balancing:\n    flowlet_table: 0\n",
               "bad.yaml:3: fabric.load_balancing.flowlet_table");
    expect_bad("fabric:\n  load_balancing:\n    mode: sprya\n", "fabric.load_balancing.mode");
    expect_bad("fabric:\n  load_balancing:\n    per_class:\n      9: spray\n",
               "fabric.load_balancing.per_class.9");
    expect_bad("fabric:\n  load_balancing:\n    per_class:\n      3: {spray: fast}\n",
               "fabric.load_balancing.per_class.3.spray");
    expect_bad("fabric:\n  load_balancing:\n    wcmp_width: 0\n",
               "fabric.load_balancing.wcmp_width");
    expect_bad("fabric:\n  load_balancing:\n    weights:\n      - {switch: leaf0, weight: 2}\n",
               "weights[0].port");
    expect_bad("fabric:\n  load_balancing:\n    flowlet_gap: 10\n",
               "fabric.load_balancing.flowlet_gap");

    /* all-zero weights from a file: the message points at the file and the key */
    ifb_err e = {{0}};
    ifb_cfg *c = ifb_cfg_load_string("fabric:\n  load_balancing:\n    mode: wcmp\n    weights:\n"
                                     "      - {switch: leaf0, port: 2, weight: 0}\n"
                                     "      - {switch: leaf0, port: 3, weight: 0}\n",
                                     "z.yaml", &e);
    ifb_lb_cfg l;
    assert_int_equal(ifb_lb_cfg_load(c, "fabric.load_balancing", IFB_LBA_ECMP, &l, &e), 0);
    world w;
    make(&w, 1, 2, 2, 2, -1);
    assert_int_equal(ifb_lb_attach(w.fab, &l, &e), -1);
    printf("%s\n", e.msg);
    assert_non_null(strstr(e.msg, "z.yaml:4: fabric.load_balancing.weights"));
    destroy(&w);
    ifb_cfg_free(c);
}

/* ---- Whole runs ------------------------------------------------------------------------------ */

typedef struct run_out {
    ifb_time time;
    uint64_t events, naks, retx, drops, msgs;
    ifb_lb_stats st;
} run_out;

static run_out run_perm(uint64_t seed, int mode, int spray, int unit)
{
    world w;
    make(&w, seed, 4, 8, 4, -1);
    ifb_lb_cfg c;
    ifb_lb_cfg_default(&c);
    all_queues(&c, mode);
    for (int q = 0; q < IFB_NQUEUES; q++) {
        c.q[q].spray = (uint8_t)spray;
        c.q[q].unit = (uint8_t)unit;
    }
    ifb_err e = {{0}};
    assert_int_equal(ifb_lb_attach(w.fab, &c, &e), 0);
    ifb_mb_spec s = {.kind = IFB_MB_PERMUTATION, .bytes = 256 * 1024, .seed = seed};
    ifb_mb_result r;
    if (ifb_mb_run(&w.sim, ifb_fabric_net(w.fab), &s, &r, &e))
        fail_msg("%s", e.msg);
    char msg[256];
    if (ifb_fabric_check_conservation(w.fab, msg, sizeof msg))
        fail_msg("%s", msg);
    const ifb_fabric_counters *k = ifb_fabric_counts(w.fab);
    run_out o = {.time = r.time,
                 .events = w.sim.events,
                 .naks = k->naks,
                 .retx = k->retx_pkts,
                 .drops = k->pkts_dropped,
                 .msgs = r.msgs};
    ifb_lb_get_stats(w.fab, &o.st);
    destroy(&w);
    return o;
}

static void test_determinism(void **state)
{
    (void)state;
    const int modes[][3] = {{IFB_LBA_FLOWLET, 0, 0},
                            {IFB_LBA_SPRAY, IFB_LB_SPRAY_DRILL, 0},
                            {IFB_LBA_ADAPTIVE, 0, IFB_LB_UNIT_PACKET},
                            {IFB_LBA_WCMP, 0, 0}};
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        run_out a = run_perm(42, modes[i][0], modes[i][1], modes[i][2]);
        run_out b = run_perm(42, modes[i][0], modes[i][1], modes[i][2]);
        assert_int_equal(a.msgs, 32);
        assert_int_equal(a.time, b.time);
        assert_int_equal(a.events, b.events);
        assert_int_equal(a.naks, b.naks);
        assert_int_equal(a.st.selects, b.st.selects);
        assert_int_equal(a.st.flowlets, b.st.flowlets);
        assert_true(a.st.selects > 0);
    }
}

/* Spray reorders packets; the go-back-N NIC answers every gap with a NAK and resends from it.
 * Every message still completes, but retransmissions are counted. Per-flow ECMP never
 * reorders, so it has none. */
static void test_spray_needs_nic_support(void **state)
{
    (void)state;
    run_out ecmp = run_perm(9, IFB_LBA_ECMP, 0, 0);
    run_out spray = run_perm(9, IFB_LBA_SPRAY, IFB_LB_SPRAY_RANDOM, 0);
    printf("ecmp: naks %llu retx %llu; spray: naks %llu retx %llu\n", (unsigned long long)ecmp.naks,
           (unsigned long long)ecmp.retx, (unsigned long long)spray.naks,
           (unsigned long long)spray.retx);
    assert_int_equal(ecmp.msgs, 32);
    assert_int_equal(spray.msgs, 32);
    assert_int_equal(ecmp.naks, 0);
    assert_int_equal(ecmp.retx, 0);
    assert_true(spray.naks > 0);
    assert_true(spray.retx > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wcmp_3_to_1),
        cmocka_unit_test(test_wcmp_capacity),
        cmocka_unit_test(test_wcmp_bad_weights),
        cmocka_unit_test(test_flowlet_gap),
        cmocka_unit_test(test_flowlet_least_loaded),
        cmocka_unit_test(test_spray),
        cmocka_unit_test(test_adaptive),
        cmocka_unit_test(test_cfg_load),
        cmocka_unit_test(test_cfg_bad),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_spray_needs_nic_support),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
