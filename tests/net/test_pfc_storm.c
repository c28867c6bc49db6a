/* A PFC storm from a misbehaving NIC and the switch's PFC watchdog. One switch, six hosts, PFC
 * on the RoCE priority (3) with a 3 MB buffer. Host 5's NIC sends XOFF on priority 3 from 5 us for
 * 2 ms. Host 0 sends 4 MB to host 5 (the victim destination) and 4 MB to host 1 (innocent);
 * host 2 sends 4 MB to host 3 (unrelated). Without the watchdog the switch queue toward host 5
 * fills, host 0's ingress group pauses host 0, and host 0 -> host 1 stalls until the storm ends
 * (head-of-line blocking on the priority: the spread of a storm). With the watchdog (detect
 * 200 us) the storming queue is drained and ignored, host 0 resumes and host 0 -> host 1 finishes
 * shortly after detection; host 0 -> host 5 finishes after the storm has ended and the queue is
 * restored. Checked invariants stay on throughout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "net/fabric/fabric_int.h"
#include "scenario/scenario.h"
#include "topo/topo.h"

#include "net_world.h"

enum { N_MSG = 3 };

typedef struct storm_run {
    ifb_time done[N_MSG]; /* completion time per message, 0 = not completed */
    ifb_fabric_counters cnt;
    ifb_stop stop;
    char error[1024];
} storm_run;

static void on_done(ifb_sim *sim, void *ctx, const ifb_msg_info *info)
{
    (void)sim;
    *(ifb_time *)ctx = info->done;
}

static void run_storm(int watchdog, storm_run *r)
{
    ifb_fabric_cfg cfg;
    ifb_fabric_cfg_default(&cfg);
    cfg.switch_buffer = 3000000;
    cfg.queue[3].lossless = 1;
    cfg.pfc = 1;
    /* a paused sender sees no ACK for the whole storm; a short timeout recovers the drops of
     * the watchdog quickly once the queue is restored */
    cfg.rto = 500 * IFB_US;
    ifb_pfc_storm st = {.host = 5, .prio = 3, .start = 5 * IFB_US, .duration = 2 * IFB_MS};
    cfg.pfc_storms = &st;
    cfg.npfc_storms = 1;
    if (watchdog) {
        cfg.pfcwd_detect = 200 * IFB_US;
        cfg.pfcwd_restore = 100 * IFB_US;
    }
    world w;
    make_single(&w, 1, 6, &cfg);
    w.sim.check = 1;
    w.sim.check_every = 64;
    memset(r, 0, sizeof *r);
    ifb_net *net = ifb_fabric_net(w.fab);
    static const int src[N_MSG] = {0, 0, 2}, dst[N_MSG] = {5, 1, 3};
    for (int i = 0; i < N_MSG; i++)
        assert_true(ifb_net_send(net, src[i], dst[i], 4 << 20, IFB_TC_A2A, on_done, &r->done[i]));
    r->stop = ifb_sim_run(&w.sim);
    snprintf(r->error, sizeof r->error, "%s", w.sim.error);
    r->cnt = *ifb_fabric_counts(w.fab);
    if (r->stop == IFB_STOP_EMPTY)
        check_conservation(&w);
    destroy(&w);
}

static void test_storm_without_watchdog_spreads(void **state)
{
    (void)state;
    storm_run r;
    run_storm(0, &r);
    if (r.stop != IFB_STOP_EMPTY)
        fail_msg("stopped: %s", r.error);
    print_message("no watchdog: 0->5 %.1f us, 0->1 %.1f us, 2->3 %.1f us, storm frames %llu\n",
                  ifb_time_to_us(r.done[0]), ifb_time_to_us(r.done[1]), ifb_time_to_us(r.done[2]),
                  (unsigned long long)r.cnt.pfc_storm_frames);
    assert_true(r.cnt.pfc_storm_frames > 20); /* 2 ms at one XOFF per ~42 us */
    assert_true(r.cnt.pfc_storms > 0);        /* the paused port counted a pause storm */
    assert_int_equal(r.cnt.pfcwd_storms, 0);
    assert_int_equal(r.cnt.lossless_drops + r.cnt.pfcwd_drops, 0);
    /* the innocent flow from the same sender is held until the storm ends */
    assert_true(r.done[1] > 2 * IFB_MS);
    /* a sender the storm does not reach is unaffected (4 MB at 400G: ~85 us) */
    assert_true(r.done[2] > 0 && r.done[2] < 150 * IFB_US);
    assert_true(r.done[0] > 2 * IFB_MS);
}

static void test_storm_with_watchdog_contained(void **state)
{
    (void)state;
    storm_run r;
    run_storm(1, &r);
    if (r.stop != IFB_STOP_EMPTY)
        fail_msg("stopped: %s", r.error);
    print_message("watchdog: 0->5 %.1f us, 0->1 %.1f us, 2->3 %.1f us, detected %llu, restored "
                  "%llu, dropped %llu\n",
                  ifb_time_to_us(r.done[0]), ifb_time_to_us(r.done[1]), ifb_time_to_us(r.done[2]),
                  (unsigned long long)r.cnt.pfcwd_storms, (unsigned long long)r.cnt.pfcwd_restored,
                  (unsigned long long)r.cnt.pfcwd_drops);
    assert_true(r.cnt.pfcwd_storms >= 1);
    assert_int_equal(r.cnt.pfcwd_restored, r.cnt.pfcwd_storms);
    assert_true(r.cnt.pfcwd_drops > 0);
    assert_int_equal(r.cnt.lossless_drops, 0);
    /* the innocent flow completes within the detection time plus its own transfer */
    assert_true(r.done[1] > 0 && r.done[1] < 600 * IFB_US);
    assert_true(r.done[2] > 0 && r.done[2] < 150 * IFB_US);
    /* the flow into the storming host is retransmitted after the storm, and completes */
    assert_true(r.done[0] > 2 * IFB_MS);
    assert_true(r.cnt.retx_pkts > 0);
    assert_int_equal(r.cnt.msgs_done, N_MSG);
}

/* faults: [{pfc_storm: ...}] and fabric.pfc.watchdog reach the fabric configuration. */
static void test_scenario_keys(void **state)
{
    (void)state;
    const char *sets[] = {
        "fabric.queues=[{}, {}, {}, {lossless: true}]",
        "fabric.pfc.enable=true",
        "fabric.pfc.watchdog.detect=1ms",
        "faults=[{pfc_storm: s1n2, priority: 3, start: 1ms, duration: 5ms}, {link: s0n0, loss: "
        "0.001}]",
    };
    ifb_scenario sc;
    ifb_err e = {{0}};
    if (ifb_scenario_load(&sc, "reference-roce.yaml", sets, 4, &e))
        fail_msg("%s", e.msg);
    assert_int_equal(sc.fab.npfc_storms, 1);
    const ifb_pfc_storm *st = &sc.fab.pfc_storms[0];
    int node = ifb_topo_find_node(&sc.topo, "s1n2");
    assert_true(node >= 0);
    assert_int_equal(st->host, sc.topo.nodes[node].host);
    assert_int_equal(st->prio, 3);
    assert_int_equal(st->start, 1 * IFB_MS);
    assert_int_equal(st->duration, 5 * IFB_MS);
    assert_int_equal(sc.fab.pfcwd_detect, 1 * IFB_MS);
    assert_int_equal(sc.fab.pfcwd_restore, 200 * IFB_MS); /* SONiC's default */
    assert_non_null(sc.fab.port_loss);
    ifb_scenario_free(&sc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_storm_without_watchdog_spreads),
        cmocka_unit_test(test_storm_with_watchdog_contained),
        cmocka_unit_test(test_scenario_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
