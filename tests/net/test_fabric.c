/* Whole tiny simulations of the RoCEv2 fabric checked against closed-form values:
 * one-way latency through one switch, single-flow goodput, incast fairness, plus packet
 * conservation and determinism. */
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
#include "net/wire/wire.h"
#include "net_world.h"
#include "topo/topo.h"
#include "workload/microbench.h"

/* One-way latency of a 64 B WRITE through one switch, to the picosecond. */
static void pingpong_latency(int cut_through)
{
    ifb_fabric_cfg cfg;
    ifb_fabric_cfg_default(&cfg);
    cfg.cut_through = cut_through;
    cfg.switch_latency = 560 * IFB_NS;
    cfg.nic_tx_latency = 700 * IFB_NS;
    cfg.nic_rx_latency = 300 * IFB_NS;
    ifb_time prop = 25 * IFB_NS; /* 5 m at 5 ns/m */
    world w;
    make_single_delay(&w, 1, 2, &cfg, prop);
    ifb_pkt p = {
        .kind = IFB_PK_DATA, .opcode = IFB_OP_WRITE_ONLY, .flags = IFB_PF_FIRST, .payload = 64};
    uint32_t wire = ifb_wire_len(&p);
    assert_int_equal(wire, 8 + 14 + 20 + 8 + 12 + 16 + 64 + 4 + 4 + 12);
    ifb_time ser = ifb_tx_time(wire, G400);
    assert_int_equal(ser, (ifb_time)wire * 20); /* 20 ps per byte at 400 Gb/s */
    ifb_time expect = cfg.nic_tx_latency + ser + prop + cfg.switch_latency + prop +
                      cfg.nic_rx_latency + (cut_through ? 0 : ser);
    ifb_mb_spec s = {.kind = IFB_MB_PINGPONG, .bytes = 64, .iters = 10, .src = 0, .dst = 1};
    ifb_mb_result r;
    ifb_err e;
    assert_int_equal(ifb_mb_run(&w.sim, ifb_fabric_net(w.fab), &s, &r, &e), 0);
    assert_int_equal(r.msgs, 20);
    assert_int_equal(r.time, 20 * expect);
    check_conservation(&w);
    destroy(&w);
}

static void test_latency_cut_through(void **state)
{
    (void)state;
    pingpong_latency(1);
}

static void test_latency_store_forward(void **state)
{
    (void)state;
    pingpong_latency(0);
}

/* A single 400 Gb/s flow's goodput = line rate x payload / wire bytes within 0.5%. */
static void test_single_flow_goodput(void **state)
{
    (void)state;
    ifb_fabric_cfg cfg;
    ifb_fabric_cfg_default(&cfg);
    world w;
    make_single_delay(&w, 1, 2, &cfg, 25 * IFB_NS);
    ifb_mb_spec s = {
        .kind = IFB_MB_BW, .bytes = 1 << 20, .iters = 64, .depth = 8, .src = 0, .dst = 1};
    ifb_mb_result r;
    ifb_err e;
    assert_int_equal(ifb_mb_run(&w.sim, ifb_fabric_net(w.fab), &s, &r, &e), 0);
    ifb_pkt p = {.kind = IFB_PK_DATA, .opcode = IFB_OP_WRITE_MIDDLE, .payload = 4096};
    double eff = 4096.0 / ifb_wire_len(&p);
    double expect = 400e9 / 8 * eff;
    double got = r.algbw;
    assert_true(fabs(got - expect) / expect < 0.005);
    check_conservation(&w);
    assert_int_equal(ifb_fabric_counts(w.fab)->pkts_dropped, 0);
    destroy(&w);
}

/* N->1 incast with ample buffer: every sender gets 1/N of the bottleneck within 2%. */
static void test_incast_fair(void **state)
{
    (void)state;
    ifb_fabric_cfg cfg;
    ifb_fabric_cfg_default(&cfg);
    world w;
    const int n = 8;
    cfg.queue_bin = 1 << 20; /* 64 bins of 1 MiB hold the whole incast queue */
    make_single_delay(&w, 1, n + 1, &cfg, 25 * IFB_NS);
    ifb_mb_spec s = {.kind = IFB_MB_INCAST, .bytes = 4 << 20, .dst = n, .nranks = n};
    ifb_mb_result r;
    ifb_err e;
    assert_int_equal(ifb_mb_run(&w.sim, ifb_fabric_net(w.fab), &s, &r, &e), 0);
    assert_int_equal(r.msgs, n);
    assert_int_equal(ifb_fabric_counts(w.fab)->pkts_dropped, 0);
    /* Each sender's throughput over the run is within 2% of 1/N of the bottleneck goodput. */
    ifb_pkt p = {.kind = IFB_PK_DATA, .opcode = IFB_OP_WRITE_MIDDLE, .payload = 4096};
    double share = 400e9 / 8 * 4096.0 / ifb_wire_len(&p) / n;
    size_t nrec;
    const ifb_msg_rec *rec = ifb_fabric_messages(w.fab, &nrec);
    assert_int_equal(nrec, n);
    for (size_t i = 0; i < nrec; i++) {
        double rate = (double)rec[i].bytes / ifb_time_to_s(rec[i].done - rec[i].start);
        assert_true(fabs(rate - share) / share < 0.02);
    }
    assert_true(r.jain > 0.999);
    /* the bottleneck (switch port toward the receiver) queued most of the time; its occupancy
     * histogram agrees with its time-average within one bin */
    const ifb_topo *t = ifb_fabric_topo(w.fab);
    int sw = t->switch_node[0], bottleneck = -1;
    for (int k = 0; k < t->nodes[sw].nports; k++) {
        const ifb_topo_port *tp = &t->ports[t->nodes[sw].first_port + k];
        if (tp->peer_node == t->host_node[n])
            bottleneck = t->nodes[sw].first_port + k;
    }
    assert_true(bottleneck >= 0);
    uint32_t nb, bw;
    const uint64_t *h = ifb_fabric_queue_hist(w.fab, bottleneck, &nb, &bw);
    assert_non_null(h);
    const ifb_port_stats *st = ifb_fabric_port_stats(w.fab, bottleneck);
    double total = 0, weighted = 0;
    for (uint32_t k = 0; k < nb; k++) {
        total += (double)h[k];
        weighted += (double)h[k] * ((double)k + 0.5) * bw;
    }
    assert_true(fabs(total - (double)st->last_change) < 1.0);
    double mean = st->queue_byte_ps / (double)st->last_change;
    assert_int_equal(h[nb - 1], 0); /* nothing in the open-ended bin: midpoints are exact */
    assert_true(fabs(weighted / total - mean) <= bw / 2.0);
    assert_true(mean > 1e6); /* megabytes queued: 8 senders into one port */
    check_conservation(&w);
    destroy(&w);
}

static void run_perm(uint64_t seed, ifb_msg_rec **out, size_t *n, uint64_t *retx)
{
    ifb_fabric_cfg cfg;
    ifb_fabric_cfg_default(&cfg);
    cfg.switch_latency = 0;
    world w;
    make_leaf_spine(&w, seed, 4, 8, 4, G400, IFB_US, &cfg);
    ifb_mb_spec s = {.kind = IFB_MB_PERMUTATION, .bytes = 256 << 10, .seed = 7};
    ifb_mb_result r;
    ifb_err e;
    assert_int_equal(ifb_mb_run(&w.sim, ifb_fabric_net(w.fab), &s, &r, &e), 0);
    check_conservation(&w);
    const ifb_msg_rec *rec = ifb_fabric_messages(w.fab, n);
    *out = malloc(*n * sizeof **out);
    memcpy(*out, rec, *n * sizeof **out);
    *retx = ifb_fabric_counts(w.fab)->retx_pkts;
    destroy(&w);
}

/* Same seed: identical per-message results. Different seed: ECMP placement changes them. */
static void test_determinism(void **state)
{
    (void)state;
    ifb_msg_rec *a, *b, *c;
    size_t na, nb, nc;
    uint64_t ra, rb, rc;
    run_perm(1, &a, &na, &ra);
    run_perm(1, &b, &nb, &rb);
    run_perm(2, &c, &nc, &rc);
    assert_int_equal(na, 32);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, na * sizeof *a);
    assert_int_equal(na, nc);
    assert_true(memcmp(a, c, na * sizeof *a) != 0);
    free(a);
    free(b);
    free(c);
}

/* A buffer too small for a 16->1 incast drops, and go-back-N still delivers every message. */
static void test_drop_and_recover(void **state)
{
    (void)state;
    ifb_fabric_cfg cfg;
    ifb_fabric_cfg_default(&cfg);
    cfg.switch_buffer = 256 * 1024;
    cfg.rto = 20 * IFB_US;
    world w;
    const int n = 16;
    make_single_delay(&w, 1, n + 1, &cfg, 25 * IFB_NS);
    ifb_mb_spec s = {.kind = IFB_MB_INCAST, .bytes = 1 << 20, .dst = n, .nranks = n};
    ifb_mb_result r;
    ifb_err e;
    assert_int_equal(ifb_mb_run(&w.sim, ifb_fabric_net(w.fab), &s, &r, &e), 0);
    assert_int_equal(r.msgs, n);
    const ifb_fabric_counters *c = ifb_fabric_counts(w.fab);
    assert_true(c->pkts_dropped > 0);
    assert_true(c->retx_pkts > 0);
    assert_int_equal(c->msgs_done, n);
    check_conservation(&w);
    destroy(&w);
}

/* Messages between GPUs of one server use NVLink: bytes / rate + latency, no NIC traffic. */
static void test_nvlink(void **state)
{
    (void)state;
    ifb_fabric_cfg cfg;
    ifb_fabric_cfg_default(&cfg);
    ifb_err e = {{0}};
    world w;
    ifb_sim_init(&w.sim, 1);
    ifb_topo_init(&w.topo);
    ifb_server_spec s = {.gpus_per_server = 8,
                         .nics_per_server = 4,
                         .nic_bps = G400,
                         .host_delay = 25 * IFB_NS,
                         .nvlink_bps = 3600000000000ull,
                         .nvlink_latency = IFB_US};
    assert_int_equal(ifb_topo_single_switch(&w.topo, 2, &s, 64, &e), 0);
    assert_int_equal(ifb_topo_route(&w.topo, &e), 0);
    assert_int_equal(ifb_fabric_create(&w.fab, &w.sim, &w.topo, &cfg, &e), 0);
    assert_int_equal(ifb_fabric_net(w.fab)->nendpoints, 16);
    ifb_mb_spec m = {.kind = IFB_MB_PINGPONG, .bytes = 1 << 20, .iters = 1, .src = 0, .dst = 5};
    ifb_mb_result r;
    assert_int_equal(ifb_mb_run(&w.sim, ifb_fabric_net(w.fab), &m, &r, &e), 0);
    assert_int_equal(r.time, 2 * (ifb_tx_time(1 << 20, s.nvlink_bps) + IFB_US));
    assert_int_equal(ifb_fabric_counts(w.fab)->pkts_created, 0);
    destroy(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_latency_cut_through),
        cmocka_unit_test(test_latency_store_forward),
        cmocka_unit_test(test_single_flow_goodput),
        cmocka_unit_test(test_incast_fair),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_drop_and_recover),
        cmocka_unit_test(test_nvlink),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
