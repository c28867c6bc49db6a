/* ECN marking against the RED curve: p(q) = 0 up to kmin, pmax (q - kmin) / (kmax - kmin) up
 * to kmax, 1 above (every ECT packet), where q is the queue a packet leaves behind when it is
 * dequeued (the default, fabric.h ecn_at_enqueue = 0). Repeated 8 -> 1 incasts on one switch
 * drain the receiver's queue through the whole band again and again; each data packet's mark
 * and the queue at its dequeue are read at the switch's egress (the INT push hook, called right
 * after the marking decision) and the queue through the public port accessor, not from the
 * marking code. Marks per part of the band are compared with the sum of p(q) over its packets,
 * within 4.5 binomial standard deviations. */
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
#include "net/switch/int.h"
#include "net/wire/pkt.h"
#include "topo/topo.h"

#include "net_world.h"

enum { NBANDS = 4 };

typedef struct tally {
    world *w;
    int port; /* the switch port toward the receiver */
    double kmin, kmax, pmax;
    uint64_t below, below_marked, above, above_marked;
    uint64_t n[NBANDS], marked[NBANDS];
    double p[NBANDS], var[NBANDS]; /* sums of p(q) and p(q)(1 - p(q)) */
} tally;

static double red(const tally *t, double q)
{
    if (q <= t->kmin)
        return 0;
    if (q > t->kmax)
        return 1;
    return t->pmax * (q - t->kmin) / (t->kmax - t->kmin);
}

static void on_push(void *ctx, const ifb_pkt *pk, const ifb_int_hop *h)
{
    tally *t = ctx;
    const ifb_topo *topo = &t->w->topo;
    if (topo->nodes[h->node_id].first_port + h->out_port != t->port || pk->kind != IFB_PK_DATA)
        return;
    /* one class on this port: its queued bytes are the marked queue's */
    double q = (double)ifb_fabric_port_queue_bytes(t->w->fab, t->port);
    int ce = pk->ecn == IFB_ECN_CE;
    if (q <= t->kmin) {
        t->below++;
        t->below_marked += (uint64_t)ce;
    } else if (q > t->kmax) {
        t->above++;
        t->above_marked += (uint64_t)ce;
    } else {
        int b = (int)((q - t->kmin) / ((t->kmax - t->kmin) / NBANDS));
        if (b >= NBANDS)
            b = NBANDS - 1;
        double p = red(t, q);
        t->n[b]++;
        t->marked[b] += (uint64_t)ce;
        t->p[b] += p;
        t->var[b] += p * (1 - p);
    }
}

/* `rounds` incasts of 8 x `bytes` into host 8 of a 9-host switch, one after the other, with
 * ECN (kmin, kmax, pmax) on the RoCE queue; every data packet leaving toward host 8 tallied. */
static void incasts(world *w, tally *t, uint64_t kmin, uint64_t kmax, double pmax, int rounds,
                    uint64_t bytes)
{
    ifb_fabric_cfg cfg;
    ifb_fabric_cfg_default(&cfg);
    cfg.queue[3].ecn = 1;
    cfg.queue[3].ecn_kmin = kmin;
    cfg.queue[3].ecn_kmax = kmax;
    cfg.queue[3].ecn_pmax = pmax;
    cfg.intc.on = 1; /* for the egress hook only; INT does not change the marking */
    make_single(w, 3, 9, &cfg);
    memset(t, 0, sizeof *t);
    t->w = w;
    t->kmin = (double)kmin;
    t->kmax = (double)kmax;
    t->pmax = pmax;
    t->port = peer_port(&w->topo, host_port(&w->topo, 8));
    ifb_fabric_int_observe(w->fab, on_push, t);
    ifb_net *net = ifb_fabric_net(w->fab);
    for (int round = 0; round < rounds; round++) {
        for (int s = 0; s < 8; s++)
            assert_true(ifb_net_send(net, s, 8, bytes, IFB_TC_A2A, NULL, NULL) > 0);
        assert_int_equal(ifb_sim_run(&w->sim), IFB_STOP_EMPTY);
    }
    assert_int_equal(ifb_fabric_counts(w->fab)->pkts_dropped, 0);
    uint64_t marks = t->below_marked + t->above_marked, total = t->below + t->above;
    for (int b = 0; b < NBANDS; b++) {
        total += t->n[b];
        marks += t->marked[b];
    }
    assert_int_equal(total, (uint64_t)rounds * 8 * (bytes / 4096)); /* each data packet once */
    assert_int_equal(marks, ifb_fabric_counts(w->fab)->ecn_marks);
}

static void test_red_curve(void **state)
{
    (void)state;
    world w;
    static tally t;
    /* a band narrower than the default (100-400 KB) so that each 512 KB incast drains through
     * all of it: 150 rounds of 8 x 64 KiB, the queue climbing to ~450 KB each time */
    incasts(&w, &t, 40000, 240000, 0.3, 150, 64 * 1024);
    printf("  q <= kmin: %llu packets, %llu marked; q > kmax: %llu, %llu marked\n",
           (unsigned long long)t.below, (unsigned long long)t.below_marked,
           (unsigned long long)t.above, (unsigned long long)t.above_marked);
    /* nothing marked at or below kmin, everything above kmax */
    assert_true(t.below > 1000);
    assert_int_equal(t.below_marked, 0);
    assert_true(t.above > 1000);
    assert_int_equal(t.above_marked, t.above);
    for (int b = 0; b < NBANDS; b++) {
        double sd = sqrt(t.var[b]);
        printf("  band %d (%.0f-%.0f KB): %llu packets, %llu marked, RED expects %.1f +- %.1f\n", b,
               (t.kmin + b * (t.kmax - t.kmin) / NBANDS) / 1e3,
               (t.kmin + (b + 1) * (t.kmax - t.kmin) / NBANDS) / 1e3, (unsigned long long)t.n[b],
               (unsigned long long)t.marked[b], t.p[b], sd);
        assert_true(t.n[b] >= 500); /* enough packets for the comparison to mean something */
        if (fabs((double)t.marked[b] - t.p[b]) > 4.5 * sd + 1)
            fail_msg("band %d: %llu marks, RED curve expects %.1f (sd %.1f)", b,
                     (unsigned long long)t.marked[b], t.p[b], sd);
    }
    check_conservation(&w);
    destroy(&w);
}

/* kmin = kmax: a step, every ECT packet marked once the queue it leaves is above the
 * threshold, none at or below it (fabric.c accepts kmin = kmax). */
static void test_step_marking(void **state)
{
    (void)state;
    world w;
    static tally t;
    incasts(&w, &t, 100000, 100000, 1.0, 10, 256 * 1024);
    assert_true(t.below > 100 && t.above > 100);
    assert_int_equal(t.below_marked, 0);
    assert_int_equal(t.above_marked, t.above);
    check_conservation(&w);
    destroy(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_red_curve),
        cmocka_unit_test(test_step_marking),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
