/* Link and switch failures (net/fail/failure.h): the transport recovers what a failed link loses,
 * switches stop using a dead member once they detect it (locally and, through reachability,
 * remotely), WCMP gives it no slot, a host whose link stays down makes messages fail once, a
 * link coming back is used again, and a flapping link loses nothing for good. Every run checks
 * the fabric invariants (packet conservation, buffer accounting) as it goes. Small leaf-spine:
 * 4 leaves x 2 hosts, 2 spines, 400 Gb/s; on leaf i ports 0..1 face hosts, 2 + j spine j. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "net/fabric/fabric_int.h"
#include "net/fail/failure.h"
#include "net/switch/lb.h"
#include "net_world.h"
#include "topo/topo.h"

enum { LEAVES = 4, PER_LEAF = 2, SPINES = 2, HOSTS = LEAVES * PER_LEAF };

static void make(world *w, uint64_t seed, int mode, int ooo, int qps)
{
    ifb_fabric_cfg cfg;
    ifb_fabric_cfg_default(&cfg);
    cfg.rto = 100 * IFB_US; /* short, so that tail losses recover quickly */
    cfg.fail_detection = 10 * IFB_US;
    cfg.retry_cnt = 7;
    cfg.ooo = ooo;
    cfg.qps_per_conn = qps;
    ifb_lb_cfg_default(&w->lb);
    for (int q = 0; q < IFB_NQUEUES; q++)
        w->lb.q[q].mode = (uint8_t)mode;
    cfg.lb = &w->lb;
    make_leaf_spine(w, seed, LEAVES, PER_LEAF, SPINES, G400, IFB_US, &cfg);
    w->sim.check = 1;
    w->sim.check_every = 16;
}

/* ---- Messages: each callback counted, so "exactly once" can be checked ---------------------- */

typedef struct msg_ctx {
    int calls, failed;
    ifb_time done;
} msg_ctx;

static void on_done(ifb_sim *sim, void *ctx, const ifb_msg_info *info)
{
    (void)sim;
    msg_ctx *m = ctx;
    m->calls++;
    m->failed = info->failed;
    m->done = info->done;
}

#define MAXM 64
typedef struct traffic {
    msg_ctx m[MAXM];
    int n;
} traffic;

static void send(world *w, traffic *tr, int src, int dst, uint64_t bytes)
{
    assert_true(tr->n < MAXM);
    assert_true(ifb_net_send(ifb_fabric_net(w->fab), src, dst, bytes, IFB_TC_COLL, on_done,
                             &tr->m[tr->n++]) > 0);
}

static void check_end(world *w)
{
    char msg[256];
    if (ifb_fabric_check_conservation(w->fab, msg, sizeof msg))
        fail_msg("%s", msg);
    assert_int_equal(ifb_fabric_inflight(w->fab), 0);
    assert_int_equal(w->sim.work, 0);
}

static void run_ok(world *w)
{
    ifb_stop st = ifb_sim_run(&w->sim);
    if (st == IFB_STOP_ERROR)
        fail_msg("%s", w->sim.error);
}

static void schedule(world *w, int port, ifb_time down, ifb_time up)
{
    ifb_err e = {{0}};
    ifb_failure f = {.port = port, .sw = -1, .down = down, .up = up};
    if (ifb_fail_schedule(w->fab, &f, 1, &e))
        fail_msg("%s", e.msg);
}

/* Every host sends to the host two leaves on (all cross the spines), in 4 messages. */
static void cross_traffic(world *w, traffic *tr, uint64_t bytes)
{
    for (int h = 0; h < HOSTS; h++)
        for (int k = 0; k < 4; k++)
            send(w, tr, h, (h + 2 * PER_LEAF) % HOSTS, bytes / 4);
}

static void assert_all_done(const traffic *tr)
{
    for (int i = 0; i < tr->n; i++) {
        assert_int_equal(tr->m[i].calls, 1);
        assert_int_equal(tr->m[i].failed, 0);
    }
}

/* ---- Tests ---------------------------------------------------------------------------------- */

/* leaf0-spine0 dies mid-transfer and stays down: every message completes, the lost packets are
 * counted and resent, nothing leaks. */
static void test_link_down_mid_transfer(void **state)
{
    (void)state;
    world w;
    make(&w, 3, IFB_LBA_ECMP, 0, 4);
    traffic tr = {0};
    cross_traffic(&w, &tr, 4000000);
    schedule(&w, port_to(&w.topo, "leaf0", "spine0"), 20 * IFB_US, IFB_TIME_NEVER);
    run_ok(&w);
    const ifb_fabric_counters *c = ifb_fabric_counts(w.fab);
    assert_all_done(&tr);
    assert_int_equal(c->msgs_done, (uint64_t)tr.n);
    assert_int_equal(c->msgs_failed, 0);
    assert_true(c->link_down_drops > 0);
    assert_true(c->retx_pkts > 0);
    check_end(&w);
    destroy(&w);
}

typedef struct snap {
    world *w;
    int ports[2];
    ifb_port_stats st[2];
    int taken;
} snap;

static void take_snap(ifb_sim *sim, void *obj, uint64_t arg)
{
    (void)sim;
    (void)arg;
    snap *s = obj;
    for (int i = 0; i < 2; i++)
        s->st[i] = *ifb_fabric_port_stats(s->w->fab, s->ports[i]);
    s->taken = 1;
}

/* Spray: before detection half the packets are black-holed on the dead uplink; from detection
 * on, neither end of the dead link sends or drops anything more. */
static void test_no_enqueue_after_detection(void **state)
{
    (void)state;
    world w;
    make(&w, 5, IFB_LBA_SPRAY, 1, 1);
    traffic tr = {0};
    cross_traffic(&w, &tr, 4000000);
    int up = port_to(&w.topo, "leaf0", "spine0"), other = port_to(&w.topo, "leaf0", "spine1");
    schedule(&w, up, 20 * IFB_US, IFB_TIME_NEVER);
    snap s = {.w = &w,
              .ports = {up, w.topo.nodes[w.topo.ports[up].peer_node].first_port +
                                w.topo.ports[up].peer_port}};
    ifb_sim_at(&w.sim, 30 * IFB_US + 1, take_snap, &s, 0); /* just after detection */
    run_ok(&w);
    assert_true(s.taken);
    assert_true(s.st[0].drops > 0); /* the black hole happened */
    for (int i = 0; i < 2; i++) {
        const ifb_port_stats *now = ifb_fabric_port_stats(w.fab, s.ports[i]);
        assert_int_equal(now->tx_pkts, s.st[i].tx_pkts);
        assert_int_equal(now->drops, s.st[i].drops);
    }
    assert_true(ifb_fabric_port_stats(w.fab, other)->tx_pkts > s.st[0].tx_pkts);
    assert_all_done(&tr);
    check_end(&w);
    destroy(&w);
}

static void nop(ifb_sim *sim, void *obj, uint64_t arg)
{
    (void)sim;
    (void)obj;
    (void)arg;
}

/* Picks of switch `sw` toward host `dst` over many flows, per member, with the failure-aware
 * filter bypassed so the WCMP table itself is what is measured. */
static void wcmp_picks(world *w, const char *swname, int dst, int *per_member, int raw)
{
    const ifb_topo *t = &w->topo;
    ifb_switch *sw = &w->fab->switches[t->nodes[ifb_topo_find_node(t, swname)].host];
    const ifb_topo_group *g = ifb_topo_route_group(t, sw->idx, dst);
    const uint32_t *keep = sw->live_idx;
    if (raw)
        sw->live_idx = NULL;
    for (int i = 0; i < 20000; i++) {
        ifb_pkt pk = {.src = (uint32_t)(i % HOSTS),
                      .dst = (uint32_t)dst,
                      .sport = (uint16_t)(49152 + i),
                      .tc = 3};
        per_member[ifb_lb_select(sw, g, &pk)]++;
    }
    sw->live_idx = keep;
}

/* Index in sw's group toward dst of the member leading to node `peer`. */
static int member_to(world *w, const char *swname, int dst, const char *peer)
{
    const ifb_topo *t = &w->topo;
    int n = ifb_topo_find_node(t, swname), pn = ifb_topo_find_node(t, peer);
    const ifb_topo_group *g = ifb_topo_route_group(t, t->nodes[n].host, dst);
    for (int i = 0; i < g->count; i++)
        if (t->ports[t->nodes[n].first_port + t->group_ports[g->first + i]].peer_node == pn)
            return i;
    fail_msg("no member of %s toward host %d leads to %s", swname, dst, peer);
    return -1;
}

/* WCMP reweighting: the dead uplink gets no slot at its own leaf, and a remote leaf gives no
 * slot to the spine that can no longer reach leaf0. */
static void test_wcmp_zero_slots(void **state)
{
    (void)state;
    world w;
    make(&w, 7, IFB_LBA_WCMP, 0, 1);
    int local = member_to(&w, "leaf0", 2, "spine0"), remote = member_to(&w, "leaf2", 0, "spine0");
    int before[2] = {0}, before_r[2] = {0};
    wcmp_picks(&w, "leaf0", 2, before, 1);
    wcmp_picks(&w, "leaf2", 0, before_r, 1);
    assert_true(before[local] > 8000 && before_r[remote] > 8000); /* equal weights first */
    schedule(&w, port_to(&w.topo, "leaf0", "spine0"), 5 * IFB_US, IFB_TIME_NEVER);
    ifb_sim_at(&w.sim, 100 * IFB_US, nop, NULL, 0); /* keeps the clock going past detection */
    run_ok(&w);
    int after[2] = {0}, after_r[2] = {0};
    wcmp_picks(&w, "leaf0", 2, after, 1);
    wcmp_picks(&w, "leaf2", 0, after_r, 1);
    assert_int_equal(after[local], 0);
    assert_int_equal(after[1 - local], 20000);
    assert_int_equal(after_r[remote], 0);
    /* leaf2 toward leaf1 does not need spine0-leaf0: both spines keep their weight */
    int other[2] = {0};
    wcmp_picks(&w, "leaf2", 2, other, 1);
    assert_true(other[0] > 8000 && other[1] > 8000);
    destroy(&w);
}

typedef struct later {
    world *w;
    traffic *tr;
    int to_leaf0; /* 1: leaves 2 and 3 send to leaf0's hosts; 0: leaf0 sends out */
} later;

static void send_later(ifb_sim *sim, void *obj, uint64_t arg)
{
    (void)sim;
    (void)arg;
    later *l = obj;
    for (int k = 0; k < 4; k++)
        for (int h = 0; h < PER_LEAF; h++) {
            if (l->to_leaf0) {
                send(l->w, l->tr, 2 * PER_LEAF + h, h, 250000);
                send(l->w, l->tr, 3 * PER_LEAF + h, h, 250000);
            } else {
                send(l->w, l->tr, h, 2 * PER_LEAF + h, 250000);
            }
        }
}

/* spine0-leaf0 died and was detected: leaf2 sends nothing to spine0 for leaf0's hosts (ECMP
 * would put half there), and nothing is lost. */
static void test_remote_avoids_spine(void **state)
{
    (void)state;
    world w;
    make(&w, 9, IFB_LBA_ECMP, 0, 4);
    traffic tr = {0};
    later l = {&w, &tr, 1};
    schedule(&w, port_to(&w.topo, "spine0", "leaf0"), 10 * IFB_US, IFB_TIME_NEVER);
    ifb_sim_at(&w.sim, 50 * IFB_US, send_later, &l, 0);
    run_ok(&w);
    const ifb_fabric_counters *c = ifb_fabric_counts(w.fab);
    assert_int_equal(tr.n, 16);
    assert_all_done(&tr);
    assert_int_equal(ifb_fabric_port_stats(w.fab, port_to(&w.topo, "leaf2", "spine0"))->tx_pkts, 0);
    assert_int_equal(ifb_fabric_port_stats(w.fab, port_to(&w.topo, "leaf3", "spine0"))->tx_pkts, 0);
    assert_true(ifb_fabric_port_stats(w.fab, port_to(&w.topo, "leaf2", "spine1"))->tx_pkts > 0);
    assert_int_equal(c->link_down_drops + c->unroutable_drops, 0);
    assert_int_equal(c->retx_pkts, 0);
    check_end(&w);
    destroy(&w);
}

typedef struct chain {
    world *w;
    traffic *tr;
    int sent;
} chain;

/* The first failure makes one more message to the dead host, which must fail as well. */
static void on_fail_resend(ifb_sim *sim, void *ctx, const ifb_msg_info *info)
{
    chain *ch = ctx;
    on_done(sim, &ch->tr->m[0], info);
    if (!ch->sent) {
        ch->sent = 1;
        send(ch->w, ch->tr, 0, 3, 100000);
    }
}

/* host3's link goes down for good: messages to and from it fail exactly once after the retry
 * limit, later ones too, other traffic is unaffected, and the run ends. */
static void test_host_down_fails(void **state)
{
    (void)state;
    world w;
    make(&w, 11, IFB_LBA_ECMP, 0, 1);
    w.fab->cfg.retry_cnt = 2;
    traffic tr = {0};
    tr.n = 1; /* m[0]: the first message to host3, through the chain callback */
    chain ch = {&w, &tr, 0};
    assert_true(
        ifb_net_send(ifb_fabric_net(w.fab), 0, 3, 1000000, IFB_TC_COLL, on_fail_resend, &ch) > 0);
    send(&w, &tr, 3, 4, 1000000); /* m[1]: from host3 */
    send(&w, &tr, 1, 5, 1000000); /* m[2], m[3]: unaffected */
    send(&w, &tr, 6, 2, 1000000);
    schedule(&w, host_port(&w.topo, 3), 10 * IFB_US, IFB_TIME_NEVER);
    run_ok(&w);
    const ifb_fabric_counters *c = ifb_fabric_counts(w.fab);
    assert_int_equal(tr.n, 5);
    for (int i = 0; i < tr.n; i++)
        assert_int_equal(tr.m[i].calls, 1);
    /* each names the end that could not be reached: host3, as destination or as a source whose
     * own link is down */
    assert_int_equal(tr.m[0].failed, IFB_MSG_DST_UNREACHABLE);
    assert_int_equal(tr.m[1].failed, IFB_MSG_SRC_DOWN);
    assert_int_equal(tr.m[4].failed, IFB_MSG_DST_UNREACHABLE);
    assert_int_equal(tr.m[2].failed, 0);
    assert_int_equal(tr.m[3].failed, 0);
    assert_int_equal(c->msgs_failed, 3);
    assert_int_equal(c->msgs_done, 2);
    assert_true(c->unroutable_drops > 0);
    /* (retry_cnt + 1) timeouts after the failure, not forever */
    assert_true(tr.m[0].done >= 3 * w.fab->cfg.rto &&
                tr.m[0].done < 10 * IFB_US + 4 * w.fab->cfg.rto);
    assert_true(w.sim.now < 20 * w.fab->cfg.rto);
    check_end(&w);
    destroy(&w);
}

/* leaf0-spine0 down, then up again: after the up is detected leaf0 uses it again. */
static void test_link_up_restores(void **state)
{
    (void)state;
    world w;
    make(&w, 13, IFB_LBA_ECMP, 0, 4);
    traffic tr = {0};
    later l = {&w, &tr, 0};
    int up = port_to(&w.topo, "leaf0", "spine0");
    schedule(&w, up, 10 * IFB_US, 40 * IFB_US);
    snap s = {.w = &w, .ports = {up, up}};
    ifb_sim_at(&w.sim, 45 * IFB_US, take_snap, &s, 0); /* up, not yet detected */
    ifb_sim_at(&w.sim, 45 * IFB_US, send_later, &l, 0);
    run_ok(&w);
    assert_int_equal(s.st[0].tx_pkts, 0);
    assert_true(ifb_fabric_port_stats(w.fab, up)->tx_pkts > 100);
    assert_all_done(&tr);
    check_end(&w);
    destroy(&w);
}

/* host3's link flaps five times while messages cross it both ways: all complete. */
static void test_flapping_link(void **state)
{
    (void)state;
    world w;
    make(&w, 17, IFB_LBA_ECMP, 0, 1);
    traffic tr = {0};
    for (int k = 0; k < 4; k++) {
        send(&w, &tr, 0, 3, 2000000);
        send(&w, &tr, 3, 6, 2000000);
    }
    ifb_err e = {{0}};
    ifb_failure f = {.port = host_port(&w.topo, 3),
                     .sw = -1,
                     .down = 20 * IFB_US,
                     .flap_period = 60 * IFB_US,
                     .flap_down = 20 * IFB_US,
                     .flap_count = 5};
    if (ifb_fail_schedule(w.fab, &f, 1, &e))
        fail_msg("%s", e.msg);
    run_ok(&w);
    const ifb_fabric_counters *c = ifb_fabric_counts(w.fab);
    assert_all_done(&tr);
    assert_int_equal(c->msgs_failed, 0);
    assert_true(c->link_down_drops > 0);
    check_end(&w);
    destroy(&w);
}

/* A whole spine fails mid-transfer: traffic moves to the other, all completes. */
static void test_switch_down(void **state)
{
    (void)state;
    world w;
    make(&w, 19, IFB_LBA_ECMP, 0, 4);
    traffic tr = {0};
    cross_traffic(&w, &tr, 4000000);
    ifb_err e = {{0}};
    ifb_failure f = {.port = -1,
                     .sw = ifb_topo_find_node(&w.topo, "spine1"),
                     .down = 20 * IFB_US,
                     .up = IFB_TIME_NEVER};
    if (ifb_fail_schedule(w.fab, &f, 1, &e))
        fail_msg("%s", e.msg);
    run_ok(&w);
    assert_all_done(&tr);
    assert_true(ifb_fabric_counts(w.fab)->link_down_drops > 0);
    check_end(&w);
    destroy(&w);
}

/* Bad schedules are refused with a message. */
static void test_bad_schedule(void **state)
{
    (void)state;
    world w;
    make(&w, 1, IFB_LBA_ECMP, 0, 1);
    ifb_err e = {{0}};
    ifb_failure f = {.port = port_to(&w.topo, "leaf0", "spine0"), .sw = -1, .down = 10, .up = 5};
    assert_int_equal(ifb_fail_schedule(w.fab, &f, 1, &e), -1);
    assert_non_null(strstr(e.msg, "not after down"));
    f = (ifb_failure){.port = -1, .sw = w.topo.host_node[0], .down = 10, .up = 50};
    assert_int_equal(ifb_fail_schedule(w.fab, &f, 1, &e), -1);
    assert_non_null(strstr(e.msg, "not a switch"));
    destroy(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_link_down_mid_transfer),
        cmocka_unit_test(test_no_enqueue_after_detection),
        cmocka_unit_test(test_wcmp_zero_slots),
        cmocka_unit_test(test_remote_avoids_spine),
        cmocka_unit_test(test_host_down_fails),
        cmocka_unit_test(test_link_up_restores),
        cmocka_unit_test(test_flapping_link),
        cmocka_unit_test(test_switch_down),
        cmocka_unit_test(test_bad_schedule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
