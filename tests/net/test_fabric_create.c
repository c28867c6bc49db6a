/* Fabric construction that fails, and the fabric API's ownership rules.
 * A fabric creation that fails after it has scheduled events (samplers, PFC storm ticks) would
 * leave events in the simulation pointing at the freed fabric: every failing creation must
 * leave the simulation as it found it (no events, no checkers). A simulation with no room for
 * the fabric's invariant checkers must refuse the fabric rather than run with invariants that
 * are silently never checked. The per-QP retransmission counts go into a buffer the caller
 * owns. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "net/fabric/fabric.h"
#include "topo/topo.h"

#include "net_world.h"

/* A configuration that schedules everything fabric creation can schedule (utilization and rate
 * samplers, a PFC storm fault) and then fails in its last step: an INT Ethernet MTU too small
 * for an MTU packet with its hop records, which only ifb_int_setup can tell. */
static void late_failing_cfg(ifb_fabric_cfg *cfg, ifb_pfc_storm *st)
{
    ifb_fabric_cfg_default(cfg);
    cfg->switch_buffer = 3000000;
    cfg->queue[3].lossless = 1;
    cfg->pfc = 1;
    cfg->sample_interval = 10 * IFB_US;
    cfg->rate_sample_interval = 10 * IFB_US;
    *st = (ifb_pfc_storm){.host = 1, .prio = 3, .start = 5 * IFB_US, .duration = 50 * IFB_US};
    cfg->pfc_storms = st;
    cfg->npfc_storms = 1;
    cfg->intc.on = 1;
    cfg->intc.eth_mtu = 1500;
}

static void make_topo(world *w)
{
    ifb_err e = {{0}};
    ifb_sim_init(&w->sim, 1);
    ifb_topo_init(&w->topo);
    ifb_server_spec s = one_nic_server(25 * IFB_NS);
    assert_int_equal(ifb_topo_single_switch(&w->topo, 4, &s, 64, &e), 0);
    assert_int_equal(ifb_topo_route(&w->topo, &e), 0);
    w->fab = NULL;
}

static void test_late_failure_leaves_no_events(void **state)
{
    (void)state;
    ifb_fabric_cfg cfg;
    ifb_pfc_storm st;
    late_failing_cfg(&cfg, &st);
    world w;
    make_topo(&w);
    ifb_err e = {{0}};
    assert_int_equal(ifb_fabric_create(&w.fab, &w.sim, &w.topo, &cfg, &e), -1);
    assert_null(w.fab);
    if (!strstr(e.msg, "fabric.int.eth_mtu"))
        fail_msg("the injected failure was not the late one: %s", e.msg);
    assert_int_equal(w.sim.pending, 0);   /* nothing points at the freed fabric */
    assert_int_equal(w.sim.ncheckers, 0); /* nor do checkers */
    assert_null(w.sim.fabric);
    /* running the simulation now must touch nothing of the fabric (under ASan a stale event
     * would be a use after free) */
    assert_int_equal(ifb_sim_run(&w.sim), IFB_STOP_EMPTY);
    assert_int_equal(w.sim.events, 0);
    /* the same configuration with a large enough MTU builds and runs: the failure was the MTU */
    cfg.intc.eth_mtu = 9216;
    assert_int_equal(ifb_fabric_create(&w.fab, &w.sim, &w.topo, &cfg, &e), 0);
    assert_true(w.sim.pending >= 3);
    destroy(&w);
}

static int nop_check(ifb_sim *sim, void *ctx, char *msg, size_t cap)
{
    (void)sim;
    (void)ctx;
    (void)msg;
    (void)cap;
    return 0;
}

static void test_no_room_for_checkers_refused(void **state)
{
    (void)state;
    ifb_fabric_cfg cfg;
    ifb_fabric_cfg_default(&cfg);
    world w;
    make_topo(&w);
    int other = 0;
    /* another component holds all slots but two; the fabric registers three */
    while (w.sim.ncheckers < IFB_MAX_CHECKERS - 2)
        assert_int_equal(ifb_sim_add_checker(&w.sim, "other", nop_check, &other), 0);
    ifb_err e = {{0}};
    assert_int_equal(ifb_fabric_create(&w.fab, &w.sim, &w.topo, &cfg, &e), -1);
    if (!strstr(e.msg, "invariant checker"))
        fail_msg("unexpected error: %s", e.msg);
    assert_int_equal(w.sim.ncheckers, IFB_MAX_CHECKERS - 2); /* the other component's kept */
    assert_int_equal(w.sim.pending, 0);
    /* with room, all of them are registered */
    w.sim.ncheckers = 0;
    assert_int_equal(ifb_fabric_create(&w.fab, &w.sim, &w.topo, &cfg, &e), 0);
    assert_int_equal(w.sim.ncheckers, 3); /* conservation, buffers, message completion */
    destroy(&w);
}

/* Per-QP retransmission counts: filled into the caller's buffer, up to its capacity, summing to
 * the fabric's counter; a second query does not touch the first one's buffer. */
static void test_qp_retx_caller_buffer(void **state)
{
    (void)state;
    ifb_fabric_cfg cfg;
    ifb_fabric_cfg_default(&cfg);
    cfg.rto = 20 * IFB_US;
    world w;
    make_topo(&w);
    double *loss = calloc((size_t)w.topo.nports, sizeof *loss);
    loss[w.topo.nodes[w.topo.host_node[0]].first_port] = 0.05; /* host 0 corrupts 1 in 20 */
    cfg.port_loss = loss;
    ifb_err e = {{0}};
    assert_int_equal(ifb_fabric_create(&w.fab, &w.sim, &w.topo, &cfg, &e), 0);
    ifb_net *net = ifb_fabric_net(w.fab);
    for (int d = 1; d < 4; d++)
        assert_true(ifb_net_send(net, 0, d, 1 << 20, IFB_TC_A2A, NULL, NULL) > 0);
    assert_int_equal(ifb_sim_run(&w.sim), IFB_STOP_EMPTY);
    size_t n = ifb_fabric_qp_retx(w.fab, NULL, 0);
    assert_int_equal(n, 6); /* one QP at each end of three connections */
    uint64_t a[8], b[8];
    memset(a, 0xee, sizeof a);
    assert_int_equal(ifb_fabric_qp_retx(w.fab, a, 2), n);
    assert_true(a[2] == 0xeeeeeeeeeeeeeeeeull); /* nothing past the capacity */
    assert_int_equal(ifb_fabric_qp_retx(w.fab, a, 8), n);
    assert_int_equal(ifb_fabric_qp_retx(w.fab, b, 8), n);
    uint64_t sum = 0;
    for (size_t k = 0; k < n; k++) {
        assert_int_equal(a[k], b[k]);
        sum += a[k];
    }
    assert_true(sum > 0);
    assert_int_equal(sum, ifb_fabric_counts(w.fab)->retx_pkts);
    destroy(&w);
    free(loss);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_late_failure_leaves_no_events),
        cmocka_unit_test(test_no_room_for_checkers_refused),
        cmocka_unit_test(test_qp_retx_caller_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
