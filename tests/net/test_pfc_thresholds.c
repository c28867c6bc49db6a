/* PFC pauses and resumes at the thresholds the configuration gives, worked out here:
 *  - static thresholds: XOFF when a priority group's shared part (its bytes beyond the
 *    reserve) reaches pfc_xoff, XON when it is back at pfc_xon;
 *  - dynamic threshold: XOFF when shared >= alpha x (shared pool - shared), i.e. at
 *    alpha S / (1 + alpha) for a group alone on its switch, XON when shared + xon_offset is
 *    back under the threshold, at (alpha S - xon_offset) / (1 + alpha); the shared pool S is
 *    the switch buffer less every connected port's reserve and headroom.
 * One 400G host sends 8 MiB to a host on another leaf over 100G fabric links, so the first
 * leaf's uplink fills at 300 Gb/s and its only priority group (the sender's port, lossless
 * priority 3) cycles between XOFF and XON. The run is cut into 20 ns slices; the uplink's queue
 * (the group's bytes: nothing else crosses it) is read through the public accessor at each
 * slice, and every XOFF and XON frame the switch sends must fall in a slice where the group's
 * shared part passed its threshold, within the 3 frames a slice can move. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "net/fabric/fabric.h"
#include "net/wire/pkt.h"
#include "net/wire/wire.h"
#include "topo/topo.h"

#include "net_world.h"

#define SLICE (20 * IFB_NS)

static const uint64_t G100 = 100000000000ull, HEADROOM = 200000;

typedef struct result {
    int xoff, xon, bad;
    uint64_t max_q;
} result;

/* Runs the flow with `cfg` (PFC on queue 3); xoff_sh / xon_sh: the shared-part thresholds
 * expected. */
static result run_cycles(ifb_fabric_cfg *cfg, double xoff_sh, double xon_sh)
{
    world w;
    make_leaf_spine(&w, 1, 2, 1, 1, G100, 100 * IFB_NS, cfg);
    int up = port_to(&w.topo, "leaf0", "spine0");
    const ifb_fabric_counters *c = ifb_fabric_counts(w.fab);
    ifb_pkt p = {.kind = IFB_PK_DATA, .opcode = IFB_OP_WRITE_MIDDLE, .payload = 4096};
    const double frame = ifb_wire_len(&p), tol = 3 * frame, r = (double)cfg->pfc_reserved;
    assert_true(ifb_net_send(ifb_fabric_net(w.fab), 0, 1, 8 << 20, IFB_TC_A2A, NULL, NULL) > 0);
    result res = {0, 0, 0, 0};
    uint64_t xoff0 = 0, xon0 = 0;
    double q0 = 0;
    for (;;) {
        w.sim.until = w.sim.now + SLICE;
        ifb_stop st = ifb_sim_run(&w.sim);
        double q = (double)ifb_fabric_port_queue_bytes(w.fab, up);
        double lo = (q < q0 ? q : q0) - tol, hi = (q > q0 ? q : q0) + tol;
        if ((uint64_t)q > res.max_q)
            res.max_q = (uint64_t)q;
        /* the group's bytes are the reserve plus its shared part */
        if (c->pfc_xoff_sent != xoff0) {
            res.xoff += (int)(c->pfc_xoff_sent - xoff0);
            if ((r + xoff_sh < lo || r + xoff_sh > hi) && res.bad++ < 5)
                printf("  XOFF at %.3f us with the group at %.0f-%.0f B, threshold %.0f B\n",
                       ifb_time_to_us(w.sim.now), q0, q, r + xoff_sh);
        }
        if (c->pfc_xon_sent != xon0) {
            res.xon += (int)(c->pfc_xon_sent - xon0);
            if ((r + xon_sh < lo || r + xon_sh > hi) && res.bad++ < 5)
                printf("  XON at %.3f us with the group at %.0f-%.0f B, threshold %.0f B\n",
                       ifb_time_to_us(w.sim.now), q0, q, r + xon_sh);
        }
        xoff0 = c->pfc_xoff_sent;
        xon0 = c->pfc_xon_sent;
        q0 = q;
        if (st == IFB_STOP_EMPTY)
            break;
        assert_int_equal(st, IFB_STOP_TIME);
    }
    assert_int_equal(c->pkts_dropped, 0);
    assert_int_equal(c->lossless_drops, 0);
    assert_int_equal(c->msgs_done, 1);
    check_conservation(&w);
    destroy(&w);
    return res;
}

static void pfc_cfg(ifb_fabric_cfg *cfg)
{
    ifb_fabric_cfg_default(cfg);
    cfg->queue[3].lossless = 1;
    cfg->pfc = 1;
    cfg->pfc_headroom = HEADROOM;
}

static void test_static_thresholds(void **state)
{
    (void)state;
    ifb_fabric_cfg cfg;
    pfc_cfg(&cfg);
    cfg.pfc_xoff = 400000;
    cfg.pfc_xon = 100000;
    result r = run_cycles(&cfg, 400000, 100000);
    printf("  static: %d XOFF, %d XON frames, group peak %llu B\n", r.xoff, r.xon,
           (unsigned long long)r.max_q);
    /* the group drains 300 KB at 100 Gb/s in 24 us between XOFF and XON, less than half the
     * 84 us pause time, so no refresh: one XOFF and one XON per cycle */
    assert_true(r.xoff >= 5);
    assert_int_equal(r.xon, r.xoff);
    assert_int_equal(r.bad, 0);
    /* what arrives after XOFF goes to headroom, which holds it */
    assert_true(r.max_q <= cfg.pfc_reserved + cfg.pfc_xoff + HEADROOM);
}

static void test_dynamic_threshold(void **state)
{
    (void)state;
    ifb_fabric_cfg cfg;
    pfc_cfg(&cfg);
    cfg.switch_buffer = 2000000;
    cfg.pfc_xon_offset = 150000; /* a hysteresis wide enough to see in 20 ns slices */
    /* the shared pool: the buffer less reserve and headroom of every connected port of the
     * switch (one lossless priority) */
    world w;
    make_leaf_spine(&w, 1, 2, 1, 1, G100, 100 * IFB_NS, &cfg);
    int leaf0 = ifb_topo_find_node(&w.topo, "leaf0"), ports = 0;
    for (int k = 0; k < w.topo.nodes[leaf0].nports; k++)
        ports += w.topo.ports[w.topo.nodes[leaf0].first_port + k].link >= 0;
    destroy(&w);
    assert_int_equal(ports, 2);
    double S = (double)cfg.switch_buffer - ports * (double)(HEADROOM + cfg.pfc_reserved);
    double a = cfg.pfc_alpha, off = (double)cfg.pfc_xon_offset;
    double xoff = a * S / (1 + a), xon = (a * S - off) / (1 + a);
    result r = run_cycles(&cfg, xoff, xon);
    printf("  dynamic: pool %.0f B, XOFF at %.0f B, XON at %.0f B shared: %d XOFF, %d XON "
           "frames\n",
           S, xoff, xon, r.xoff, r.xon);
    assert_true(r.xoff >= 5);
    assert_true(r.xon == r.xoff || r.xon == r.xoff - 1);
    assert_int_equal(r.bad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_static_thresholds),
        cmocka_unit_test(test_dynamic_threshold),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
