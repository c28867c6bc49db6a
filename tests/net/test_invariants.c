/* The fabric's --check invariants trip on a deliberately broken component (the breakage is
 * injected here, by a test event that corrupts state mid-run), with a message naming the
 * invariant and the objects involved; a healthy run with checks on passes them all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "net/fabric/fabric_int.h"
#include "topo/topo.h"
#include "workload/microbench.h"

typedef struct world {
    ifb_sim sim;
    ifb_topo topo;
    ifb_fabric *fab;
} world;

/* PFC modes of make_pfc: dynamic threshold (small alpha, so XOFF happens), static pair. */
enum { PFC_DYNAMIC = 1, PFC_STATIC = 2 };

static void make_cfg(world *w, const ifb_fabric_cfg *cfg)
{
    ifb_err e = {{0}};
    ifb_sim_init(&w->sim, 1);
    w->sim.check = 1;
    w->sim.check_every = 1;
    ifb_topo_init(&w->topo);
    ifb_server_spec s = {.gpus_per_server = 1,
                         .nics_per_server = 1,
                         .nic_bps = 400000000000ull,
                         .host_delay = 25 * IFB_NS,
                         .nvlink_bps = 400000000000ull,
                         .nvlink_latency = IFB_US};
    assert_int_equal(ifb_topo_single_switch(&w->topo, 5, &s, 8, &e), 0);
    assert_int_equal(ifb_topo_route(&w->topo, &e), 0);
    if (ifb_fabric_create(&w->fab, &w->sim, &w->topo, cfg, &e))
        fail_msg("%s", e.msg);
}

static void make(world *w, int ib)
{
    ifb_fabric_cfg cfg;
    ifb_fabric_cfg_default(&cfg);
    if (ib) {
        cfg.l2 = IFB_L2_IB;
        cfg.ctrl_queue = 0;
    }
    make_cfg(w, &cfg);
}

/* RoCE classes on queue 3, lossless with PFC, a 3 MB buffer: the incast pauses its senders. */
static void make_pfc(world *w, int mode)
{
    ifb_fabric_cfg cfg;
    ifb_fabric_cfg_default(&cfg);
    cfg.switch_buffer = 3000000;
    cfg.queue[3].lossless = 1;
    cfg.pfc = 1;
    cfg.pfc_alpha = 1.0 / 16;
    if (mode == PFC_STATIC) {
        cfg.pfc_xoff = 20000;
        cfg.pfc_xon = 10000;
    }
    make_cfg(w, &cfg);
}

static void destroy(world *w)
{
    ifb_fabric_destroy(w->fab);
    ifb_topo_free(&w->topo);
    ifb_sim_destroy(&w->sim);
}

static ifb_stop run_incast(world *w)
{
    ifb_mb_spec s = {.kind = IFB_MB_INCAST, .bytes = 256 << 10, .dst = 4, .nranks = 4};
    ifb_mb_result r;
    ifb_err e;
    ifb_mb_run(&w->sim, ifb_fabric_net(w->fab), &s, &r, &e);
    return w->sim.stop;
}

/* The first switch port with something queued. */
static ifb_port *busy_port(ifb_fabric *f)
{
    for (int i = 0; i < f->nports; i++)
        if (f->ports[i].sw && f->ports[i].qbytes)
            return &f->ports[i];
    return NULL;
}

static void lose_packet(ifb_sim *sim, void *obj, uint64_t arg)
{
    (void)arg;
    ifb_fabric *f = obj;
    ifb_port *p = busy_port(f);
    if (!p) { /* nothing queued yet: try again shortly */
        ifb_sim_after(sim, 100 * IFB_NS, lose_packet, f, 0);
        return;
    }
    for (int q = 0; q < IFB_NQUEUES; q++)
        if (p->q[q].n) {
            ifb_pkt *pk = ifb_port_qpop(p, q); /* a buggy queue forgets a packet */
            p->qbytes -= pk->wire;
            p->sw->buf_used -= pk->wire;
            ifb_pool_put(&sim->pkt_pool, pk);
            return;
        }
}

static void miscount_bytes(ifb_sim *sim, void *obj, uint64_t arg)
{
    (void)arg;
    ifb_fabric *f = obj;
    ifb_port *p = busy_port(f);
    if (!p) {
        ifb_sim_after(sim, 100 * IFB_NS, miscount_bytes, f, 0);
        return;
    }
    p->qbytes += 100; /* a buggy enqueue counts bytes that are not there */
}

static void extra_credits(ifb_sim *sim, void *obj, uint64_t arg)
{
    (void)sim;
    (void)arg;
    ifb_fabric *f = obj;
    f->ports[0].credits[0] += 1000; /* a buggy credit return hands out credits twice */
}

/* The switch port facing host h (its ingress carries only ACKs, on a lossy priority). */
static ifb_port *switch_port_of_host(ifb_fabric *f, int h)
{
    return f->nics[h].port->peer;
}

static void flip_xoff(ifb_sim *sim, void *obj, uint64_t arg)
{
    (void)sim;
    (void)arg;
    ifb_fabric *f = obj;
    switch_port_of_host(f, 4)->xoff |= 1u << 3; /* a buggy PFC path asserts XOFF for nothing */
}

static void corrupt_pg(ifb_sim *sim, void *obj, uint64_t arg)
{
    (void)arg;
    ifb_fabric *f = obj;
    ifb_port *p = switch_port_of_host(f, 0);
    if (!p->pg_bytes[3]) {
        ifb_sim_after(sim, 100 * IFB_NS, corrupt_pg, f, 0);
        return;
    }
    p->pg_bytes[3] += 100; /* a buggy release forgets to give bytes back */
}

/* A message taken off its QP's list mid-run: the transport lost track of it. */
static void leak_message(ifb_sim *sim, void *obj, uint64_t arg)
{
    (void)arg;
    ifb_fabric *f = obj;
    for (int h = 0; h < f->nhosts; h++)
        for (uint32_t k = 0; k < f->nics[h].nqps; k++) {
            ifb_qp *qp = f->nics[h].qps[k];
            if (qp->head && qp->head->next) {
                qp->head->next = qp->head->next->next; /* the second message is gone */
                if (!qp->head->next)
                    qp->tail = qp->head;
                return;
            }
        }
    ifb_sim_after(sim, 100 * IFB_NS, leak_message, f, 0);
}

static void test_healthy_run_passes(void **state)
{
    (void)state;
    for (int ib = 0; ib < 2; ib++) {
        world w;
        make(&w, ib);
        assert_int_equal(run_incast(&w), IFB_STOP_EMPTY);
        assert_true(w.sim.ncheckers >= 3);
        int named = 0;
        for (int i = 0; i < w.sim.ncheckers; i++)
            named += strcmp(w.sim.checker_name[i], "message-completion") == 0;
        assert_int_equal(named, 1);
        destroy(&w);
    }
    /* PFC on, both threshold kinds: the pfc-state checker runs after every event while XOFF
     * and XON go back and forth, and finds nothing */
    for (int mode = PFC_DYNAMIC; mode <= PFC_STATIC; mode++) {
        world w;
        make_pfc(&w, mode);
        assert_int_equal(run_incast(&w), IFB_STOP_EMPTY);
        int named = 0;
        for (int i = 0; i < w.sim.ncheckers; i++)
            named += strcmp(w.sim.checker_name[i], "pfc-state") == 0;
        assert_int_equal(named, 1);
        const ifb_fabric_counters *c = ifb_fabric_counts(w.fab);
        assert_true(c->pfc_xoff_sent > 0 && c->pfc_xon_sent > 0);
        assert_int_equal(c->msgs_done, c->msgs_posted);
        destroy(&w);
    }
}

static void test_pfc_state_trips(void **state)
{
    (void)state;
    for (int mode = PFC_DYNAMIC; mode <= PFC_STATIC; mode++) {
        world w;
        make_pfc(&w, mode);
        ifb_sim_at(&w.sim, 2 * IFB_US, flip_xoff, w.fab, 0);
        assert_int_equal(run_incast(&w), IFB_STOP_ERROR);
        assert_non_null(strstr(w.sim.error, "invariant pfc-state violated"));
        assert_non_null(strstr(w.sim.error, "XOFF asserted on an empty priority group"));
        assert_non_null(strstr(w.sim.error, "switch sw0 port 4 ("));
        assert_non_null(strstr(w.sim.error, "priority 3"));
        assert_non_null(strstr(w.sim.error, "XOFF threshold"));
        destroy(&w);
    }
    world w;
    make_pfc(&w, PFC_DYNAMIC);
    ifb_sim_at(&w.sim, 1 * IFB_US, corrupt_pg, w.fab, 0);
    assert_int_equal(run_incast(&w), IFB_STOP_ERROR);
    assert_non_null(strstr(w.sim.error, "invariant pfc-state violated"));
    assert_non_null(strstr(w.sim.error, "port 0 ("));
    assert_non_null(strstr(w.sim.error, "differ from what its packets"));
    destroy(&w);
}

static void test_message_leak_trips(void **state)
{
    (void)state;
    world w;
    make(&w, 0);
    ifb_net *net = ifb_fabric_net(w.fab);
    for (int i = 0; i < 3; i++)
        assert_true(ifb_net_send(net, 0, 1, 64 << 10, IFB_TC_COLL, NULL, NULL) > 0);
    ifb_sim_at(&w.sim, 1 * IFB_US, leak_message, w.fab, 0);
    assert_int_equal(ifb_sim_run(&w.sim), IFB_STOP_ERROR);
    assert_non_null(strstr(w.sim.error, "invariant message-completion violated"));
    assert_non_null(strstr(w.sim.error, "3 messages posted but 0 completed + 0 failed + 2 "
                                        "outstanding"));
    assert_non_null(strstr(w.sim.error, "oldest outstanding: message 1, endpoint 0 -> 1"));
    destroy(&w);
}

/* A completion dropped: the work item of message 2 is ended but the message never completes
 * (moved to a QP nobody schedules). The counters still balance; the run ends by itself with
 * the message outstanding, which the end-of-run check reports with its id, ends and age. */
static void test_message_never_completed_trips(void **state)
{
    (void)state;
    for (int inject = 0; inject < 2; inject++) {
        world w;
        make(&w, 0);
        ifb_fabric *f = w.fab;
        ifb_net *net = ifb_fabric_net(f);
        assert_int_equal(ifb_net_send(net, 0, 1, 64 << 10, IFB_TC_COLL, NULL, NULL), 1);
        assert_int_equal(ifb_net_send(net, 0, 1, 64 << 10, IFB_TC_COLL, NULL, NULL), 2);
        if (inject) {
            ifb_qp *qp = NULL;
            for (uint32_t k = 0; k < f->nics[0].nqps; k++)
                if (f->nics[0].qps[k]->head)
                    qp = f->nics[0].qps[k];
            assert_non_null(qp);
            ifb_msg *m = qp->tail;
            assert_int_equal(m->id, 2);
            qp->head->next = NULL;
            qp->tail = qp->head;
            qp->psn_end -= m->npkts;
            ifb_qp *limbo = ifb_nic_new_qp(&f->nics[0]);
            limbo->head = limbo->tail = m;
            m->qp = limbo;
            ifb_sim_work_end(&w.sim);
        }
        ifb_stop st = ifb_sim_run(&w.sim);
        if (!inject) {
            assert_int_equal(st, IFB_STOP_EMPTY);
            assert_int_equal(ifb_fabric_counts(f)->msgs_done, 2);
        } else {
            assert_int_equal(st, IFB_STOP_ERROR);
            assert_non_null(strstr(w.sim.error, "invariant message-completion violated"));
            assert_non_null(strstr(w.sim.error, "1 messages were never completed"));
            assert_non_null(strstr(w.sim.error, "message 2, endpoint 0 -> 1, 65536 B"));
            assert_non_null(strstr(w.sim.error, "posted "));
        }
        destroy(&w);
    }
}

static void test_conservation_trips(void **state)
{
    (void)state;
    world w;
    make(&w, 0);
    ifb_sim_at(&w.sim, 2 * IFB_US, lose_packet, w.fab, 0);
    assert_int_equal(run_incast(&w), IFB_STOP_ERROR);
    assert_non_null(strstr(w.sim.error, "invariant packet-conservation violated"));
    assert_non_null(strstr(w.sim.error, "created"));
    destroy(&w);
}

static void test_buffer_accounting_trips(void **state)
{
    (void)state;
    world w;
    make(&w, 0);
    ifb_sim_at(&w.sim, 2 * IFB_US, miscount_bytes, w.fab, 0);
    assert_int_equal(run_incast(&w), IFB_STOP_ERROR);
    assert_non_null(strstr(w.sim.error, "invariant buffer-accounting violated"));
    assert_non_null(strstr(w.sim.error, "sw0:")); /* names the port */
    destroy(&w);
}

static void test_ib_credits_trip(void **state)
{
    (void)state;
    world w;
    make(&w, 1);
    ifb_sim_at(&w.sim, 2 * IFB_US, extra_credits, w.fab, 0);
    assert_int_equal(run_incast(&w), IFB_STOP_ERROR);
    assert_non_null(strstr(w.sim.error, "invariant ib-credits violated"));
    assert_non_null(strstr(w.sim.error, "VL 0"));
    destroy(&w);
}

/* A packet parked where nothing will ever serve it: a switch port's queue 5, paused with no
 * resume on the way (a buggy PFC path that forgets to resume). It is still "in flight" for the
 * counters, so created = consumed + dropped + in flight balances; but the run ends by itself
 * with it there, and a packet that can never be delivered or dropped has vanished as surely
 * as one that was freed without a count. */
static void park_packet(ifb_sim *sim, void *obj, uint64_t arg)
{
    (void)arg;
    ifb_fabric *f = obj;
    ifb_port *p = switch_port_of_host(f, 4);
    ifb_pkt *pk = ifb_fabric_new_pkt(f);
    pk->kind = IFB_PK_ACK;
    pk->src = 0;
    pk->dst = 4;
    pk->tc = 5;
    pk->wire = 84;
    p->paused |= 1u << 5;
    p->paused_since[5] = sim->now;
    ifb_port_qpush(p, 5, pk);
    p->qbytes += pk->wire;
    p->sw->buf_used += pk->wire;
}

static void test_stuck_packet_trips(void **state)
{
    (void)state;
    for (int check = 0; check < 2; check++) {
        world w;
        make(&w, 0);
        w.sim.check = check;
        ifb_sim_at(&w.sim, 2 * IFB_US, park_packet, w.fab, 0);
        char msg[sizeof w.sim.error] = "";
        if (check) {
            assert_int_equal(run_incast(&w), IFB_STOP_ERROR);
            snprintf(msg, sizeof msg, "%s", w.sim.error);
            assert_non_null(strstr(msg, "invariant packet-conservation violated"));
        } else { /* the end-of-run call every driver makes, --check or not */
            assert_int_equal(run_incast(&w), IFB_STOP_EMPTY);
            assert_int_equal(ifb_fabric_check_conservation(w.fab, msg, sizeof msg), -1);
        }
        assert_non_null(strstr(msg, "1 of the 1 packets in flight can never be delivered"));
        assert_non_null(strstr(msg, "the run ended with nothing left to move them"));
        assert_non_null(strstr(msg, "ACK from host 0 to host 4 in queue 5 of sw0:4"));
        destroy(&w);
    }
}

/* Control packets sent to a VL the fabric does not have (the loader refuses a ctrl_queue
 * outside the data VLs; here it is set behind its back, after ifb_fabric_create, as DCQCN's
 * CNPs on priority 6 once were): the responder's ACKs go to VL 6 of this 4-VL fabric, where
 * nothing would ever serve them. The first one stops the run with queue-exists (checks on or
 * off), dropped and counted, so packet conservation still balances. (Switches mark no ECN on
 * InfiniBand, so DCQCN switched on behind the loader's back no longer produces CNPs.) */
static void test_missing_vl_trips(void **state)
{
    (void)state;
    for (int check = 0; check < 2; check++) {
        ifb_fabric_cfg cfg;
        ifb_fabric_cfg_default(&cfg);
        cfg.l2 = IFB_L2_IB;
        cfg.ctrl_queue = 0;
        world w;
        make_cfg(&w, &cfg);
        w.sim.check = check;
        w.fab->cfg.ctrl_queue = 6;
        assert_int_equal(run_incast(&w), IFB_STOP_ERROR);
        assert_non_null(strstr(w.sim.error, "invariant queue-exists violated"));
        assert_non_null(strstr(w.sim.error, "ACK packet from host 4 to host"));
        assert_non_null(strstr(w.sim.error, "sent to VL 6 of s4n0:0, which has 4 data VLs"));
        const ifb_fabric_counters *c = ifb_fabric_counts(w.fab);
        assert_int_equal(c->no_queue_drops, 1);
        char msg[512];
        assert_int_equal(ifb_fabric_check_conservation(w.fab, msg, sizeof msg), 0);
        destroy(&w);
    }
    /* and the C API refuses the configuration outright */
    ifb_fabric_cfg cfg;
    ifb_fabric_cfg_default(&cfg);
    cfg.l2 = IFB_L2_IB;
    cfg.ctrl_queue = 0;
    cfg.dcqcn = 1;
    world w;
    ifb_err e = {{0}};
    ifb_sim_init(&w.sim, 1);
    ifb_topo_init(&w.topo);
    ifb_server_spec s = {.gpus_per_server = 1, .nics_per_server = 1, .nic_bps = 400000000000ull};
    assert_int_equal(ifb_topo_single_switch(&w.topo, 2, &s, 8, &e), 0);
    assert_int_equal(ifb_topo_route(&w.topo, &e), 0);
    assert_int_equal(ifb_fabric_create(&w.fab, &w.sim, &w.topo, &cfg, &e), -1);
    assert_non_null(strstr(e.msg, "DCQCN is a RoCEv2 mechanism"));
    ifb_topo_free(&w.topo);
    ifb_sim_destroy(&w.sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_healthy_run_passes),
        cmocka_unit_test(test_conservation_trips),
        cmocka_unit_test(test_buffer_accounting_trips),
        cmocka_unit_test(test_ib_credits_trip),
        cmocka_unit_test(test_pfc_state_trips),
        cmocka_unit_test(test_message_leak_trips),
        cmocka_unit_test(test_message_never_completed_trips),
        cmocka_unit_test(test_stuck_packet_trips),
        cmocka_unit_test(test_missing_vl_trips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
