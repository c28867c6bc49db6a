/* The out-of-order receiver's loss rule (net/nic/ooo.c): a hole is NAKed only once it has been open
 * for the reorder window W since the first packet beyond it arrived, by a timer when nothing
 * else arrives, again after the re-NAK interval while it stays open; a reordering shorter than W
 * causes no NAK and is measured (reorder_max_time, reorder_max_psn). W's default is the bound on
 * the delay difference of two paths: 2 x top tier switch-to-switch hops, each at most a full
 * egress queue (alpha / (1 + alpha) of the shared buffer lossy, the buffer lossless, every
 * ingress VL buffer on InfiniBand), derived here from the configuration, not read back.
 * The arrivals are crafted (ifb_nic_receive at chosen times) on one QP, so every time is exact;
 * the old rule (a NAK once 256 later packets had arrived) passes none of the timing checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "net/fabric/fabric_int.h"
#include "net_world.h"

/* ---- W, derived ---------------------------------------------------------------------------- */

/* Time to drain `bytes` at 400 Gb/s: 1 B = 20 ps. */
static ifb_time queue_time(double bytes)
{
    return (ifb_time)(bytes * 20.0);
}

static void test_reorder_bound(void **state)
{
    (void)state;
    ifb_fabric_cfg cfg;
    /* lossy leaf-spine, 200 MB buffers, alpha 1: a queue holds at most half the buffer; two
     * switch-to-switch hops may differ (leaf uplink, spine downlink); equal link delays */
    ifb_fabric_cfg_default(&cfg);
    world w;
    make_leaf_spine(&w, 1, 2, 2, 2, G400, IFB_US, &cfg);
    ifb_time one = queue_time(0.5 * 200e6);
    assert_int_equal(w.fab->reorder_wnd, 2 * one);
    assert_true(w.fab->renak_wnd >= w.fab->reorder_wnd);
    destroy(&w);
    /* alpha 2: two thirds */
    cfg.dt_alpha = 2.0;
    make_leaf_spine(&w, 1, 2, 2, 2, G400, IFB_US, &cfg);
    ifb_time two = 2 * queue_time(2.0 / 3.0 * 200e6); /* 133,333,333.3 B: allow the rounding */
    assert_true(w.fab->reorder_wnd >= two - 40 && w.fab->reorder_wnd <= two + 40);
    destroy(&w);
    /* lossless: an egress queue can take every ingress group's bytes, up to the buffer */
    ifb_fabric_cfg_default(&cfg);
    cfg.queue[3].lossless = 1;
    cfg.pfc = 1;
    make_leaf_spine(&w, 1, 2, 2, 2, G400, IFB_US, &cfg);
    assert_int_equal(w.fab->reorder_wnd, 2 * queue_time(200e6));
    destroy(&w);
    /* InfiniBand: every ingress VL buffer of the switch (2 hosts + 2 spines on a leaf, 4 ports;
     * a spine has 2 ports: the leaf's figure is the larger) */
    ifb_fabric_cfg_default(&cfg);
    cfg.l2 = IFB_L2_IB;
    cfg.ctrl_queue = 0;
    make_leaf_spine(&w, 1, 2, 2, 2, G400, IFB_US, &cfg);
    assert_int_equal(w.fab->reorder_wnd, 2 * queue_time(4.0 * 128 * 1024));
    destroy(&w);
    /* one switch: one path, nothing can overtake, a hole is a loss at once */
    ifb_fabric_cfg_default(&cfg);
    make_single(&w, 1, 2, &cfg);
    assert_int_equal(w.fab->reorder_wnd, 0);
    destroy(&w);
    /* an explicit window is used as given */
    cfg.reorder_window = 7 * IFB_US;
    make_leaf_spine(&w, 1, 2, 2, 2, G400, IFB_US, &cfg);
    assert_int_equal(w.fab->reorder_wnd, 7 * IFB_US);
    destroy(&w);
}

/* ---- Arrivals on one QP ------------------------------------------------------------------- */

typedef struct arrival {
    world *w;
    uint32_t psn;
    uint8_t flags;
} arrival;

enum { W_US = 10 };

static ifb_qp *receiver(world *w)
{
    ifb_nic *nic = &w->fab->nics[1];
    assert_int_equal(nic->nqps, 1);
    return nic->qps[0];
}

static void arrive(ifb_sim *sim, void *obj, uint64_t arg)
{
    (void)sim;
    (void)arg;
    arrival *a = obj;
    ifb_fabric *f = a->w->fab;
    ifb_qp *r = receiver(a->w);
    ifb_pkt *pk = ifb_fabric_new_pkt(f);
    pk->kind = IFB_PK_DATA;
    pk->l2 = IFB_L2_ROCEV2;
    pk->src = 0;
    pk->dst = 1;
    pk->sqpn = r->dqpn;
    pk->dqpn = r->qpn;
    pk->psn = a->psn;
    pk->flags = a->flags;
    pk->payload = 4096;
    pk->wire = 4178;
    ifb_nic_receive(&f->nics[1], pk);
}

/* A world whose QP pair 0 -> 1 exists (one 64 B message sent and done), reorder window 10 us. */
static void make_qp(world *w)
{
    ifb_fabric_cfg cfg;
    ifb_fabric_cfg_default(&cfg);
    cfg.ooo = 1;
    cfg.reorder_window = W_US * IFB_US;
    make_single(w, 1, 2, &cfg);
    assert_true(ifb_net_send(ifb_fabric_net(w->fab), 0, 1, 64, IFB_TC_COLL, NULL, NULL) > 0);
    assert_int_equal(ifb_sim_run(&w->sim), IFB_STOP_EMPTY);
    assert_int_equal(receiver(w)->epsn, 1);
    /* a message outstanding, as when a real hole is open: timers (daemons) run only then */
    ifb_sim_work_begin(&w->sim);
}

static void at(world *w, arrival *a, ifb_time t, uint32_t psn, uint8_t flags)
{
    *a = (arrival){w, psn, flags};
    ifb_sim_at(&w->sim, t, arrive, a, 0);
}

/* Hole at PSN 1 (2 and 3 arrive at t0 and t0 + 4 us): no NAK before t0 + W, the timer NAKs at
 * exactly t0 + W although nothing arrives then, and again one re-NAK interval later; the original
 * filling it late is not counted as a reordering (it came after the NAK: RETX-flagged resend) */
static void test_hole_naked_after_window(void **state)
{
    (void)state;
    world w;
    make_qp(&w);
    ifb_qp *r = receiver(&w);
    ifb_time t0 = w.sim.now + IFB_US;
    arrival a[4];
    at(&w, &a[0], t0, 2, 0);
    at(&w, &a[1], t0 + 4 * IFB_US, 3, 0);
    w.sim.until = t0 + W_US * IFB_US - 1;
    ifb_sim_run(&w.sim);
    assert_false(r->nak_sent);
    w.sim.until = t0 + W_US * IFB_US;
    ifb_sim_run(&w.sim);
    assert_true(r->nak_sent);
    assert_int_equal(r->nak_at, t0 + W_US * IFB_US);
    ifb_time renak = w.fab->renak_wnd;
    w.sim.until = t0 + W_US * IFB_US + renak;
    ifb_sim_run(&w.sim);
    assert_int_equal(r->nak_at, t0 + W_US * IFB_US + renak);
    /* the resend fills it: epsn runs past the placed 2 and 3 */
    at(&w, &a[2], w.sim.now + IFB_US, 1, IFB_PF_RETX);
    w.sim.until = IFB_TIME_NEVER;
    ifb_sim_work_end(&w.sim);
    ifb_sim_run(&w.sim);
    assert_int_equal(r->epsn, 4);
    assert_int_equal(r->hole_t, IFB_TIME_NEVER);
    assert_int_equal(ifb_fabric_counts(w.fab)->reorder_max_time, 0);
    assert_int_equal(ifb_fabric_counts(w.fab)->reorder_max_psn, 2);
    check_conservation(&w);
    destroy(&w);
}

/* A reordering shorter than W: the original arrives 9 us after the first later packet. No NAK,
 * and the reordering is measured: 9 us, 3 PSNs ahead at most. */
static void test_reordering_within_window(void **state)
{
    (void)state;
    world w;
    make_qp(&w);
    ifb_qp *r = receiver(&w);
    ifb_time t0 = w.sim.now + IFB_US;
    arrival a[3];
    at(&w, &a[0], t0, 3, 0);
    at(&w, &a[1], t0 + 2 * IFB_US, 4, 0);
    at(&w, &a[2], t0 + 9 * IFB_US, 1, 0);
    w.sim.until = t0 + 9 * IFB_US + IFB_US / 2;
    ifb_sim_run(&w.sim);
    assert_false(r->nak_sent);
    assert_int_equal(ifb_fabric_counts(w.fab)->reorder_max_time, 9 * IFB_US);
    assert_int_equal(ifb_fabric_counts(w.fab)->reorder_max_psn, 3);
    /* PSN 2 still missing: a new hole, timed from 3's arrival (t0), the earliest beyond it ... */
    assert_int_equal(r->epsn, 2);
    assert_int_equal(r->hole_t, t0);
    /* ... so it is due W after t0, not W after now: the timer NAKs it at t0 + W */
    w.sim.until = t0 + W_US * IFB_US;
    ifb_sim_run(&w.sim);
    assert_true(r->nak_sent);
    assert_int_equal(r->nak_at, t0 + W_US * IFB_US);
    destroy(&w);
}

/* The receiver goes idle in the middle of a window word after placing and consuming packets
 * there; much later a new hole opens in the same word. It must be timed from the new arrival,
 * not from what the word held before (that made a 17.9 ms "reordering" and a spurious NAK in a
 * serving run). */
static void test_idle_word_does_not_age_new_hole(void **state)
{
    (void)state;
    world w;
    make_qp(&w);
    ifb_qp *r = receiver(&w);
    ifb_time t0 = w.sim.now + IFB_US;
    arrival a[4];
    at(&w, &a[0], t0, 2, 0);              /* ahead: placed in word 0 */
    at(&w, &a[1], t0 + IFB_US, 1, 0);     /* fills: epsn 3, word 0 empty again */
    ifb_time t1 = t0 + 50 * IFB_MS;       /* idle */
    at(&w, &a[2], t1, 5, 0);              /* a hole at 3 opens now */
    at(&w, &a[3], t1 + 5 * IFB_US, 3, 0); /* reordered 5 us: no NAK */
    w.sim.until = t1 + 6 * IFB_US;
    ifb_sim_run(&w.sim);
    assert_int_equal(r->epsn, 4);
    assert_int_equal(r->hole_t, t1); /* the hole at 4: its evidence is 5, which came at t1 */
    assert_false(r->nak_sent);
    assert_int_equal(ifb_fabric_counts(w.fab)->reorder_max_time, 5 * IFB_US);
    destroy(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reorder_bound),
        cmocka_unit_test(test_hole_naked_after_window),
        cmocka_unit_test(test_reordering_within_window),
        cmocka_unit_test(test_idle_word_does_not_age_new_hole),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
