/* The fabric's --check invariants trip on a deliberately broken component (the breakage is
 * injected here, by a test event that corrupts state mid-run), with a message naming the
 * invariant and the objects involved; a healthy run with checks on passes them all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "net/fabric_int.h"
#include "topo/topo.h"
#include "workload/microbench.h"

typedef struct world {
    ifb_sim sim;
    ifb_topo topo;
    ifb_fabric *fab;
} world;

static void make(world *w, int ib)
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
    ifb_fabric_cfg cfg;
    ifb_fabric_cfg_default(&cfg);
    if (ib) {
        cfg.l2 = IFB_L2_IB;
        cfg.ctrl_queue = 0;
    }
    assert_int_equal(ifb_fabric_create(&w->fab, &w->sim, &w->topo, &cfg, &e), 0);
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
            ifb_pkt *pk = ifb_fifo_pop(&p->q[q]); /* a buggy queue forgets a packet */
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

static void test_healthy_run_passes(void **state)
{
    (void)state;
    for (int ib = 0; ib < 2; ib++) {
        world w;
        make(&w, ib);
        assert_int_equal(run_incast(&w), IFB_STOP_EMPTY);
        assert_true(w.sim.ncheckers >= 2);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_healthy_run_passes),
        cmocka_unit_test(test_conservation_trips),
        cmocka_unit_test(test_buffer_accounting_trips),
        cmocka_unit_test(test_ib_credits_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
