/* INT hop latency against the queueing it should report. A switch's hop record holds the time
 * the packet spent in it: the queueing delay at the egress plus the pipeline (the switch
 * latency, cut-through). Both are worked out here from outside the INT code:
 *  - the packet reaches a switch's egress queue one link delay plus one switch latency after
 *    the previous switch sent it (cut-through forwarding), which the previous hop's push
 *    time gives;
 *  - the egress is a FIFO at line rate, so the packet leaves at max(its arrival, the previous
 *    packet's departure + that packet's serialization at 400 Gb/s, 20 ps a byte): the queueing
 *    delay is the bytes ahead of it at the line rate (Lindley's recursion).
 * Three flows meet on a 3-leaf, 1-spine fabric so that two hops queue: h0 and h2 (leaves 0 and
 * 1) both send to h4 through the spine's port toward leaf 2, and h5 (leaf 2) sends to h4 too,
 * joining them at leaf 2's port toward h4. Every packet's second and third records are
 * checked to the nanosecond, and its leaving time to the picosecond. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/fabric/fabric.h"
#include "net/switch/int.h"
#include "net/wire/pkt.h"
#include "topo/topo.h"

#include "net_world.h"

#define DELAY (100 * IFB_NS) /* every link */
#define MAXP 4096

typedef struct rec {
    uint32_t src, psn, dqpn;
    int nh;
    ifb_time t[IFB_INT_MAX_HOPS]; /* when each switch pushed (dequeued it) */
} rec;

typedef struct port_last {
    int seen;
    ifb_time t;    /* departure of the last packet the port sent */
    uint32_t wire; /* its frame, preamble and IFG included, INT stack as sent */
} port_last;

typedef struct obs {
    world *w;
    ifb_time sl; /* switch latency */
    rec r[MAXP];
    int n;
    port_last *last; /* per topology port */
    uint64_t checked, queued, wrong_time, wrong_lat;
    ifb_time max_wait;
} obs;

static rec *find(obs *o, const ifb_pkt *pk)
{
    for (int i = o->n - 1; i >= 0; i--)
        if (o->r[i].src == pk->src && o->r[i].psn == pk->psn && o->r[i].dqpn == pk->dqpn)
            return &o->r[i];
    assert_true(o->n < MAXP);
    rec *r = &o->r[o->n++];
    memset(r, 0, sizeof *r);
    r->src = pk->src;
    r->psn = pk->psn;
    r->dqpn = pk->dqpn;
    return r;
}

static void on_push(void *ctx, const ifb_pkt *pk, const ifb_int_hop *h)
{
    obs *o = ctx;
    const ifb_topo *t = &o->w->topo;
    ifb_time now = o->w->sim.now;
    int port = t->nodes[h->node_id].first_port + h->out_port;
    rec *r = find(o, pk);
    int hop = r->nh++;
    assert_int_equal(hop, pk->int_n - 1);
    r->t[hop] = now;
    port_last *l = &o->last[port];
    if (hop > 0) {
        ifb_time arrive = r->t[hop - 1] + DELAY + o->sl;
        ifb_time leave = arrive;
        if (l->seen && l->t + (ifb_time)l->wire * 20 > leave)
            leave = l->t + (ifb_time)l->wire * 20;
        uint32_t lat_ns = (uint32_t)((leave - arrive + o->sl) / IFB_NS);
        o->checked++;
        o->queued += leave > arrive;
        if (leave - arrive > o->max_wait)
            o->max_wait = leave - arrive;
        if (now != leave && o->wrong_time++ < 5)
            printf("  packet %u/%u hop %d: left at %llu ps, FIFO at line rate gives %llu\n",
                   pk->src, pk->psn, hop, (unsigned long long)now, (unsigned long long)leave);
        if (h->hop_latency_ns != lat_ns && o->wrong_lat++ < 5)
            printf("  packet %u/%u hop %d: hop latency %u ns, expected %u ns (queue %.1f ns + "
                   "switch %.0f ns)\n",
                   pk->src, pk->psn, hop, h->hop_latency_ns, lat_ns,
                   (double)(leave - arrive) / IFB_NS, (double)o->sl / IFB_NS);
    }
    l->seen = 1;
    l->t = now;
    l->wire = pk->wire; /* this hop's record included: what the link serializes */
}

static void test_hop_latency_is_queueing_plus_pipeline(void **state)
{
    (void)state;
    ifb_fabric_cfg cfg;
    ifb_fabric_cfg_default(&cfg);
    cfg.intc.on = 1;
    cfg.intc.sink_nic = 1; /* the stack rides to the NIC: every frame as the observer saw it */
    world w;
    make_leaf_spine(&w, 5, 3, 2, 1, G400, DELAY, &cfg);
    static obs o;
    memset(&o, 0, sizeof o);
    o.w = &w;
    o.sl = cfg.switch_latency;
    assert_true(cfg.cut_through);
    o.last = calloc((size_t)w.topo.nports, sizeof *o.last);
    assert_non_null(o.last);
    ifb_fabric_int_observe(w.fab, on_push, &o);
    ifb_net *net = ifb_fabric_net(w.fab);
    static const int src[] = {0, 2, 5};
    for (int i = 0; i < 3; i++)
        assert_true(ifb_net_send(net, src[i], 4, 1 << 20, IFB_TC_A2A, NULL, NULL) > 0);
    assert_int_equal(ifb_sim_run(&w.sim), IFB_STOP_EMPTY);
    const ifb_fabric_counters *c = ifb_fabric_counts(w.fab);
    assert_int_equal(c->pkts_dropped, 0);
    assert_int_equal(c->retx_pkts, 0);
    printf("  %llu hop records checked, %llu of them queued (longest %.2f us)\n",
           (unsigned long long)o.checked, (unsigned long long)o.queued,
           (double)o.max_wait / IFB_US);
    /* h0 and h2: 256 packets each, two records each after the first switch's */
    assert_int_equal(o.checked, 2 * 256 * 2);
    assert_true(o.queued > 500); /* the records under test hold real queueing */
    assert_true(o.max_wait > 10 * IFB_US);
    assert_int_equal(o.wrong_time, 0);
    assert_int_equal(o.wrong_lat, 0);
    free(o.last);
    check_conservation(&w);
    destroy(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hop_latency_is_queueing_plus_pipeline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
