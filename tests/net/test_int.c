/* INT-MD: hop records equal the switch state at push time (read back from the simulator's own
 * pcap), the stack's bytes on the wire, sink and collector, the hop limit, and INT-driven
 * adaptive routing steering around congestion a source switch cannot see locally. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/sim.h"
#include "net/fabric/fabric.h"
#include "net/switch/int.h"
#include "net/switch/lb.h"
#include "net/wire/pcap.h"
#include "net/wire/wire.h"
#include "net_world.h"
#include "topo/topo.h"

/* `leaves` leaves of `per_leaf` single-NIC servers, `spines` spines, fabric links at fab_bps. */
static void make_ls(world *w, int leaves, int per_leaf, int spines, uint64_t fab_bps,
                    ifb_fabric_cfg *cfg)
{
    make_leaf_spine(w, 7, leaves, per_leaf, spines, fab_bps, 100 * IFB_NS, cfg);
}

static int host_node(const ifb_topo *t, int host)
{
    return t->host_node[host];
}

static void done_cb(ifb_sim *sim, void *ctx, const ifb_msg_info *info)
{
    (void)sim;
    int *n = ctx;
    if (!info->failed)
        (*n)++;
}

/* ---- hop records against the switch state --------------------------------------------------- */

#define MAX_REC 4096

typedef struct expect {
    uint32_t src, psn, dqpn;
    int nhops;
    ifb_int_hop hop[IFB_INT_MAX_HOPS];
} expect;

typedef struct observer {
    world *w;
    expect rec[MAX_REC];
    int n;
    int violations;
} observer;

/* Called as a switch pushes: records what the switch state is now, computed from the fabric's
 * public accessors rather than copied from the record, so the comparison means something. */
static void on_push(void *ctx, const ifb_pkt *pk, const ifb_int_hop *h)
{
    observer *o = ctx;
    const ifb_topo *t = &o->w->topo;
    ifb_time now = o->w->sim.now;
    expect *x = NULL;
    for (int i = o->n - 1; i >= 0 && i >= o->n - 64; i--)
        if (o->rec[i].src == pk->src && o->rec[i].psn == pk->psn && o->rec[i].dqpn == pk->dqpn)
            x = &o->rec[i];
    if (!x) {
        assert_true(o->n < MAX_REC);
        x = &o->rec[o->n++];
        x->src = pk->src;
        x->psn = pk->psn;
        x->dqpn = pk->dqpn;
        x->nhops = 0;
    }
    assert_true(h->node_id < (uint32_t)t->nnodes);
    assert_int_equal(t->nodes[h->node_id].kind, IFB_NODE_SWITCH);
    int port = t->nodes[h->node_id].first_port + h->out_port;
    ifb_int_hop *e = &x->hop[x->nhops++];
    e->node_id = h->node_id;
    e->in_port = h->in_port;
    e->out_port = h->out_port;
    e->queue_id = h->queue_id;
    /* one traffic class in these runs: the port's queued bytes are its queue's */
    e->queue_occ = (uint32_t)ifb_fabric_port_queue_bytes(o->w->fab, port);
    e->egress_ts_ns = now / IFB_NS;
    e->hop_latency_ns = h->hop_latency_ns;
    e->tx_util_ppm = h->tx_util_ppm;
    if (h->queue_occ != e->queue_occ || h->egress_ts_ns != e->egress_ts_ns ||
        h->hop_latency_ns < 560 || h->tx_util_ppm > 1000000)
        o->violations++;
}

static observer obs;

static void run_traffic(world *w, const int (*pairs)[2], int npairs, uint64_t bytes)
{
    int done = 0;
    ifb_net *net = ifb_fabric_net(w->fab);
    for (int i = 0; i < npairs; i++)
        assert_true(ifb_net_send(net, pairs[i][0], pairs[i][1], bytes, IFB_TC_A2A, done_cb, &done) >
                    0);
    ifb_sim_run(&w->sim);
    assert_int_equal(done, npairs);
}

/* The simulator's own capture read back one decoded frame at a time. */
typedef struct capture {
    FILE *f;
    uint8_t frame[16384];
    uint32_t len;
    ifb_pkt d;
    ifb_int_hop hops[IFB_INT_MAX_HOPS];
} capture;

static capture cap;

static void capture_open(capture *c, const char *path)
{
    uint8_t gh[24];
    c->f = fopen(path, "rb");
    assert_non_null(c->f);
    assert_int_equal(fread(gh, 1, sizeof gh, c->f), sizeof gh);
}

/* Returns 1 with the next frame decoded into c->d and c->hops, 0 at the end of the file. */
static int capture_next(capture *c)
{
    uint8_t rh[16];
    if (fread(rh, 1, sizeof rh, c->f) != sizeof rh)
        return 0;
    c->len =
        (uint32_t)rh[8] | (uint32_t)rh[9] << 8 | (uint32_t)rh[10] << 16 | (uint32_t)rh[11] << 24;
    assert_true(c->len <= sizeof c->frame);
    assert_int_equal(fread(c->frame, 1, c->len, c->f), c->len);
    memset(&c->d, 0, sizeof c->d);
    assert_int_equal(
        ifb_wire_decode(c->frame, c->len, IFB_L2_ROCEV2, &c->d, c->hops, IFB_INT_MAX_HOPS), 0);
    return 1;
}

static void capture_close(capture *c, const char *path)
{
    fclose(c->f);
    unlink(path);
}

static void test_hops_match_pcap(void **state)
{
    (void)state;
    world w;
    ifb_fabric_cfg cfg;
    ifb_fabric_cfg_default(&cfg);
    cfg.intc.on = 1;
    cfg.intc.sink_nic = 1; /* the stack reaches the host link, where the capture is */
    make_ls(&w, 2, 2, 2, G400, &cfg);
    memset(&obs, 0, sizeof obs);
    obs.w = &w;
    ifb_fabric_int_observe(w.fab, on_push, &obs);
    char path[256];
    snprintf(path, sizeof path, "/tmp/ifb_test_int_%d.pcap", (int)getpid());
    ifb_err e = {{0}};
    ifb_pcap *pc = ifb_pcap_open(path, IFB_L2_ROCEV2, 0, &e);
    assert_non_null(pc);
    /* the leaf's port toward host 2: every packet to it has crossed leaf0, a spine and leaf1 */
    int cap_port = port_to(&w.topo, "leaf1", w.topo.nodes[host_node(&w.topo, 2)].name);
    ifb_fabric_capture(w.fab, cap_port, pc);
    static const int pairs[][2] = {{0, 2}, {1, 2}};
    run_traffic(&w, pairs, 2, 256 * 1024);
    assert_int_equal(ifb_pcap_close(pc, &e), 0);
    assert_int_equal(obs.violations, 0);
    assert_int_equal(ifb_fabric_counts(w.fab)->retx_pkts, 0);

    /* read the capture back: every data frame carries three hop records equal to the state
     * recorded when each switch pushed, and is longer by exactly the INT bytes */
    capture_open(&cap, path);
    int data = 0, max_q = 0;
    while (capture_next(&cap)) {
        const ifb_pkt d = cap.d;
        const ifb_int_hop *hops = cap.hops;
        uint32_t len = cap.len;
        if (d.kind != IFB_PK_DATA)
            continue;
        data++;
        assert_true(d.int_on);
        assert_int_equal(d.int_n, 3);
        /* the same frame without INT is 16 + 3 x 28 bytes shorter */
        ifb_pkt plain = d;
        plain.int_on = 0;
        plain.int_n = 0;
        assert_int_equal(len, ifb_wire_frame_len(&plain) + IFB_INT_SHIM + IFB_INT_MD_HDR +
                                  3 * IFB_INT_HOP_BYTES);
        const expect *x = NULL;
        for (int i = 0; i < obs.n; i++)
            if (obs.rec[i].src == d.src && obs.rec[i].psn == d.psn && obs.rec[i].dqpn == d.dqpn)
                x = &obs.rec[i];
        assert_non_null(x);
        assert_int_equal(x->nhops, 3);
        for (int k = 0; k < 3; k++) {
            assert_int_equal(hops[k].node_id, x->hop[k].node_id);
            assert_int_equal(hops[k].in_port, x->hop[k].in_port);
            assert_int_equal(hops[k].out_port, x->hop[k].out_port);
            assert_int_equal(hops[k].hop_latency_ns, x->hop[k].hop_latency_ns);
            assert_int_equal(hops[k].queue_id, x->hop[k].queue_id);
            assert_int_equal(hops[k].queue_occ, x->hop[k].queue_occ);
            assert_int_equal(hops[k].egress_ts_ns, x->hop[k].egress_ts_ns);
            assert_int_equal(hops[k].tx_util_ppm, x->hop[k].tx_util_ppm);
            if ((int)hops[k].queue_occ > max_q)
                max_q = (int)hops[k].queue_occ;
        }
        /* first hop leaf0, then a spine, then leaf1, in that order */
        assert_string_equal(w.topo.nodes[hops[0].node_id].name, "leaf0");
        assert_string_equal(w.topo.nodes[hops[2].node_id].name, "leaf1");
        assert_int_equal(strncmp(w.topo.nodes[hops[1].node_id].name, "spine", 5), 0);
        /* timestamps increase along the path */
        assert_true(hops[0].egress_ts_ns <= hops[1].egress_ts_ns &&
                    hops[1].egress_ts_ns <= hops[2].egress_ts_ns);
    }
    capture_close(&cap, path);
    assert_int_equal(data, 2 * (256 * 1024 / 4096));
    assert_true(max_q > 0); /* two senders into one host port: the records saw a queue */
    const ifb_int_stats *st = ifb_fabric_int_stats(w.fab);
    assert_int_equal(st->sinks, (uint64_t)data);
    assert_int_equal(st->hops_pushed, 3ull * (uint64_t)data);
    /* the default sink reports one packet in 16 */
    assert_int_equal(cfg.intc.report_every, 16);
    assert_int_equal(st->reports, ((uint64_t)data + 15) / 16);
    destroy(&w);
}

/* ---- sink at the switch, collector ------------------------------------------------------------
 */

static void test_switch_sink_collector(void **state)
{
    (void)state;
    world w;
    ifb_fabric_cfg cfg;
    ifb_fabric_cfg_default(&cfg);
    cfg.intc.on = 1;
    cfg.intc.report_every = 1; /* every packet, so the collector's counts are exact */
    make_ls(&w, 2, 2, 2, G400, &cfg);
    /* host links carry no INT: bytes sent to host 2 equal those of a run without INT */
    static const int pairs[][2] = {{0, 2}, {1, 3}, {2, 0}};
    run_traffic(&w, pairs, 3, 64 * 1024);
    int hp = port_to(&w.topo, "leaf1", w.topo.nodes[host_node(&w.topo, 2)].name);
    uint64_t with_int = ifb_fabric_port_stats(w.fab, hp)->tx_bytes;
    const ifb_int_stats *st = ifb_fabric_int_stats(w.fab);
    uint64_t pkts = 3 * 64 * 1024 / 4096;
    assert_int_equal(st->pkts_marked, pkts);
    assert_int_equal(st->sinks, pkts);
    assert_int_equal(st->reports, pkts);
    assert_int_equal(st->hops_pushed, 3 * pkts);
    size_t n;
    const ifb_int_path *ps = ifb_fabric_int_paths(w.fab, &n);
    assert_true(n >= 3 && n <= 6); /* 3 flows, each on one of 2 spines */
    uint64_t reps = 0;
    for (size_t i = 0; i < n; i++) {
        reps += ps[i].reports;
        assert_int_equal(ps[i].nhops, 3);
        /* three switches of 560 ns each at least */
        assert_true(ps[i].lat_sum_ns / (double)ps[i].reports >= 3 * 560.0);
        assert_true(ps[i].lat_max_ns >= 3 * 560);
    }
    assert_int_equal(reps, pkts);
    char *buf = NULL;
    size_t len = 0;
    FILE *mf = open_memstream(&buf, &len);
    assert_int_equal(ifb_fabric_write_int_csv(w.fab, mf), 0);
    fclose(mf);
    int lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += buf[i] == '\n';
    assert_int_equal(lines, (int)n + 1);
    assert_non_null(strstr(buf, "\"leaf0:"));
    free(buf);
    /* every report is a real Telemetry Report v2.0 frame of the length counted */
    assert_true(st->report_bytes >= pkts * (14 + 20 + 8 + 8 + 4 + 8 + 4));
    destroy(&w);

    ifb_fabric_cfg_default(&cfg);
    make_ls(&w, 2, 2, 2, G400, &cfg);
    run_traffic(&w, pairs, 3, 64 * 1024);
    assert_int_equal(ifb_fabric_port_stats(w.fab, hp)->tx_bytes, with_int);
    destroy(&w);
}

static void test_report_encoding(void **state)
{
    (void)state;
    static union {
        ifb_pkt p;
        uint8_t room[sizeof(ifb_pkt) + IFB_INT_MAX_HOPS * sizeof(ifb_int_hop)];
    } b;
    memset(&b, 0, sizeof b);
    ifb_pkt *p = &b.p;
    p->l2 = IFB_L2_ROCEV2;
    p->kind = IFB_PK_DATA;
    p->opcode = IFB_OP_WRITE_MIDDLE;
    p->src = 1;
    p->dst = 2;
    p->payload = 4096;
    p->int_on = 1;
    p->int_n = 2;
    p->int_hops[0] = (ifb_int_hop){.node_id = 5, .out_port = 3, .hop_latency_ns = 600};
    p->int_hops[1] = (ifb_int_hop){.node_id = 9, .out_port = 1, .hop_latency_ns = 700};
    static uint8_t buf[2048];
    uint32_t n = ifb_wire_int_report_len(p);
    assert_int_equal(ifb_wire_int_report(p, 77, 5, buf, n - 1), 0);
    assert_int_equal(ifb_wire_int_report(p, 77, 5, buf, sizeof buf), n);
    /* Ethernet / IPv4 / UDP to the report port */
    assert_int_equal(buf[12] << 8 | buf[13], 0x0800);
    const uint8_t *udp = buf + 14 + 20, *g = udp + 8, *r = g + 8;
    assert_int_equal(udp[2] << 8 | udp[3], IFB_INT_REPORT_UDP_PORT);
    assert_int_equal((udp[4] << 8 | udp[5]) + 20 + 14 + 4, (int)n);
    /* group header: version 2, sequence 5, node 77 */
    assert_int_equal(g[0] >> 4, 2);
    assert_int_equal(g[3], 5);
    assert_int_equal(g[7], 77);
    /* individual report: INT, inner Ethernet, lengths in words covering the rest */
    assert_int_equal(r[0] >> 4, 1);
    assert_int_equal(r[0] & 0xf, 3);
    assert_int_equal(14 + 20 + 8 + 8 + 4 + r[1] * 4 + 4, (int)n);
    /* the truncated original frame starts with its Ethernet header: destination host 2 */
    const uint8_t *inner = r + 4 + 8;
    assert_int_equal(inner[5], 2);
    assert_int_equal(inner[12] << 8 | inner[13], 0x0800);
}

static void test_hop_limit(void **state)
{
    (void)state;
    world w;
    ifb_fabric_cfg cfg;
    ifb_fabric_cfg_default(&cfg);
    cfg.intc.on = 1;
    cfg.intc.max_hops = 1;
    make_ls(&w, 2, 1, 2, G400, &cfg);
    static const int pairs[][2] = {{0, 1}};
    run_traffic(&w, pairs, 1, 16 * 4096);
    const ifb_int_stats *st = ifb_fabric_int_stats(w.fab);
    assert_int_equal(st->hops_pushed, 16);
    assert_int_equal(st->hop_limit, 32); /* spine and last leaf refused */
    destroy(&w);
}

/* ---- INT-driven adaptive routing ------------------------------------------------------------- */

/* The steering world: three leaves of two hosts, two spines, 800G fabric links, 400G hosts;
 * every queue WCMP except queue 3, which routes with `mode` per `unit`; leaf2's link to spine1
 * at WCMP weight 0, so leaf2's background traffic to leaf1 all goes through spine0. Starts
 * the two 8 MiB background transfers (hosts 4 and 5 to host 2, KV class on queue 1). */
static void steer_world(world *w, ifb_fabric_cfg *cfg, int mode, int unit, int *done)
{
    cfg->intc.on = 1;
    cfg->tclass[IFB_TC_KV].queue = 1; /* background */
    ifb_lb_cfg *lb = &w->lb;
    ifb_lb_cfg_default(lb);
    for (int q = 0; q < IFB_NQUEUES; q++)
        lb->q[q].mode = IFB_LBA_WCMP;
    lb->q[3].mode = (uint8_t)mode;
    lb->q[3].unit = (uint8_t)unit;
    cfg->lb = lb;
    /* the weights need port numbers: build the topology once to find them */
    ifb_sim_init(&w->sim, 7);
    ifb_topo_init(&w->topo);
    ifb_server_spec s = one_nic_server(25 * IFB_NS);
    ifb_err e = {{0}};
    assert_int_equal(ifb_topo_leaf_spine(&w->topo, 6, &s, 3, 2, 1, 2 * G400, 100 * IFB_NS, 64, &e),
                     0);
    assert_int_equal(ifb_topo_route(&w->topo, &e), 0);
    int l2s1 = port_to(&w->topo, "leaf2", "spine1");
    int leaf2 = ifb_topo_find_node(&w->topo, "leaf2");
    lb->nweights = 1;
    snprintf(lb->weights[0].sw, sizeof lb->weights[0].sw, "leaf2");
    lb->weights[0].port = l2s1 - w->topo.nodes[leaf2].first_port;
    lb->weights[0].weight = 0;
    if (ifb_fabric_create(&w->fab, &w->sim, &w->topo, cfg, &e))
        fail_msg("%s", e.msg);
    ifb_net *net = ifb_fabric_net(w->fab);
    assert_true(ifb_net_send(net, 4, 2, 8 << 20, IFB_TC_KV, done_cb, done) > 0);
    assert_true(ifb_net_send(net, 5, 2, 8 << 20, IFB_TC_KV, done_cb, done) > 0);
}

/* Share of the bytes leaf0 sent toward spine1. */
static double leaf0_spine1_share(const world *w)
{
    double b0 =
        (double)ifb_fabric_port_stats(w->fab, port_to(&w->topo, "leaf0", "spine0"))->tx_payload;
    double b1 =
        (double)ifb_fabric_port_stats(w->fab, port_to(&w->topo, "leaf0", "spine1"))->tx_payload;
    return b1 / (b0 + b1);
}

/* Three leaves, two spines, 800G fabric links, 400G hosts. Two hosts of leaf2 send to host 2
 * (leaf1) through spine0 only (WCMP weight 0 on leaf2's link to spine1), saturating
 * spine0 -> leaf1. Host 0 (leaf0) sends to host 3 (leaf1) per packet: leaf0's own uplinks look
 * alike, so only the end-to-end figure can tell it that spine0's path is congested. Returns the
 * share of host 0's bytes leaf0 sent toward spine1, and the transfer's completion time. */
static double steer_share(int mode, ifb_time *fct)
{
    world w;
    ifb_fabric_cfg cfg;
    ifb_fabric_cfg_default(&cfg);
    cfg.ooo = 1;
    int done = 0;
    steer_world(&w, &cfg, mode, IFB_LB_UNIT_PACKET, &done);
    ifb_time fg_done = 0;
    assert_true(ifb_net_send(ifb_fabric_net(w.fab), 0, 3, 4 << 20, IFB_TC_A2A, done_cb, &done) > 0);
    ifb_sim_run(&w.sim);
    assert_int_equal(done, 3);
    size_t nm;
    const ifb_msg_rec *m = ifb_fabric_messages(w.fab, &nm);
    for (size_t i = 0; i < nm; i++)
        if (m[i].src == 0)
            fg_done = m[i].done - m[i].start;
    *fct = fg_done;
    if (mode == IFB_LBA_INT_ADAPTIVE)
        assert_true(ifb_fabric_int_stats(w.fab)->feedback > 0);
    double share = leaf0_spine1_share(&w);
    destroy(&w);
    return share;
}

static void test_int_adaptive_steers(void **state)
{
    (void)state;
    ifb_time t_int, t_loc;
    double s_int = steer_share(IFB_LBA_INT_ADAPTIVE, &t_int);
    double s_loc = steer_share(IFB_LBA_ADAPTIVE, &t_loc);
    print_message("share of leaf0's bytes via the uncongested spine: int_adaptive %.3f "
                  "(%.1f us), adaptive %.3f (%.1f us)\n",
                  s_int, ifb_time_to_us(t_int), s_loc, ifb_time_to_us(t_loc));
    assert_true(s_int > 0.8);
    assert_true(s_loc < 0.7);
}

/* ---- probes -----------------------------------------------------------------------------------
 */

/* Three leaves of one host, two spines, probes every 2 us while 1 MiB crosses leaf0 -> leaf1:
 * every ToR probes both spines toward both other ToRs each tick, every probe is taken in at its
 * destination ToR (none reaches a host), its frame has the analytic size, and the collector sees
 * each of the 12 probe paths. */
static void test_probes(void **state)
{
    (void)state;
    world w;
    ifb_fabric_cfg cfg;
    ifb_fabric_cfg_default(&cfg);
    cfg.intc.on = 1;
    cfg.intc.probe_interval = 2 * IFB_US;
    cfg.intc.report_every = 1; /* every probe reaches the collector */
    make_ls(&w, 3, 1, 2, G400, &cfg);
    char path[256];
    snprintf(path, sizeof path, "/tmp/ifb_test_probe_%d.pcap", (int)getpid());
    ifb_err e = {{0}};
    ifb_pcap *pc = ifb_pcap_open(path, IFB_L2_ROCEV2, 0, &e);
    assert_non_null(pc);
    ifb_fabric_capture(w.fab, port_to(&w.topo, "spine0", "leaf1"), pc);
    static const int pairs[][2] = {{0, 1}};
    run_traffic(&w, pairs, 1, 1 << 20);
    assert_int_equal(ifb_pcap_close(pc, &e), 0);
    const ifb_int_stats *st = ifb_fabric_int_stats(w.fab);
    /* spine0 -> leaf1 carries the probes of leaf0 and leaf2 to leaf1 via spine0: a sixth of all;
     * each decodes as a probe (INT-MD D bit) with two records, leaf then spine0 */
    capture_open(&cap, path);
    uint64_t probes_seen = 0;
    while (capture_next(&cap)) {
        if (cap.d.kind != IFB_PK_PROBE)
            continue;
        probes_seen++;
        assert_int_equal(cap.d.int_n, 2);
        assert_int_equal(cap.len, 78 + 2 * IFB_INT_HOP_BYTES);
        assert_int_equal(w.topo.nodes[cap.hops[0].node_id].tier, 0);
        assert_string_equal(w.topo.nodes[cap.hops[1].node_id].name, "spine0");
        assert_int_equal(cap.d.dst, 1);
    }
    capture_close(&cap, path);
    assert_int_equal(probes_seen, st->probes / 6);
    print_message("probes %llu, received %llu, %llu B, run %.2f us\n",
                  (unsigned long long)st->probes, (unsigned long long)st->probes_sunk,
                  (unsigned long long)st->probe_bytes, ifb_time_to_us(w.sim.now));
    /* 1 MiB at 400G takes ~22 us: about ten ticks, each 3 ToRs x 2 others x 2 spines */
    assert_true(st->probes >= 8 * 12);
    assert_int_equal(st->probes % 12, 0);
    assert_int_equal(st->probes_sunk, st->probes);
    /* Ethernet + IPv4 + UDP + BTH + ICRC + INT shim and metadata header + FCS, preamble, IFG */
    assert_int_equal(st->probe_bytes, st->probes * (14 + 20 + 8 + 12 + 4 + 4 + 12 + 4 + 8 + 12));
    assert_int_equal(ifb_fabric_counts(w.fab)->pkts_dropped, 0);
    char msg[256];
    assert_int_equal(ifb_fabric_check_conservation(w.fab, msg, sizeof msg), 0);
    size_t np;
    const ifb_int_path *ps = ifb_fabric_int_paths(w.fab, &np);
    int two_hop = 0;
    for (size_t i = 0; i < np; i++)
        if (ps[i].nhops == 2) {
            two_hop++;
            /* leaf up to a spine, spine down to another leaf */
            assert_int_equal(w.topo.nodes[ps[i].node[0]].tier, 0);
            assert_int_equal(w.topo.nodes[ps[i].node[1]].tier, 1);
        }
    assert_int_equal(two_hop, 12);
    destroy(&w);
}

/* The steering world above, but the foreground is a short transfer that starts at 60 us, routed
 * per flowlet: its first packet picks the path for all of it, at a time leaf0 has sent nothing
 * to leaf1. Only probes can have told leaf0 that spine0's path is busy. Returns the share of the
 * transfer's bytes that went via spine1. */
typedef struct late_send {
    ifb_net *net;
    int *done;
} late_send;

static void start_late(ifb_sim *sim, void *obj, uint64_t arg)
{
    (void)sim;
    (void)arg;
    late_send *l = obj;
    assert_true(ifb_net_send(l->net, 0, 3, 256 << 10, IFB_TC_A2A, done_cb, l->done) > 0);
}

static double probe_steer_share(ifb_time probe_interval, uint64_t *feedback)
{
    world w;
    ifb_fabric_cfg cfg;
    ifb_fabric_cfg_default(&cfg);
    cfg.intc.probe_interval = probe_interval;
    int done = 0;
    steer_world(&w, &cfg, IFB_LBA_INT_ADAPTIVE, IFB_LB_UNIT_FLOWLET, &done);
    late_send l = {ifb_fabric_net(w.fab), &done};
    ifb_sim_at(&w.sim, 60 * IFB_US, start_late, &l, 0);
    ifb_sim_run(&w.sim);
    assert_int_equal(done, 3);
    *feedback = ifb_fabric_int_stats(w.fab)->feedback;
    double share = leaf0_spine1_share(&w);
    destroy(&w);
    return share;
}

static void test_probes_steer_new_flowlet(void **state)
{
    (void)state;
    uint64_t fb_off, fb_on;
    double off = probe_steer_share(0, &fb_off);
    double on = probe_steer_share(5 * IFB_US, &fb_on);
    print_message("share of the late transfer via the free spine: no probes %.3f (%llu updates), "
                  "probes every 5 us %.3f (%llu updates)\n",
                  off, (unsigned long long)fb_off, on, (unsigned long long)fb_on);
    assert_true(fb_on > fb_off);
    assert_true(on > 0.99);
}

static void test_int_adaptive_needs_int(void **state)
{
    (void)state;
    world w;
    ifb_fabric_cfg cfg;
    ifb_fabric_cfg_default(&cfg);
    static ifb_lb_cfg lb;
    ifb_lb_cfg_default(&lb);
    lb.q[3].mode = IFB_LBA_INT_ADAPTIVE;
    cfg.lb = &lb;
    ifb_sim_init(&w.sim, 1);
    ifb_topo_init(&w.topo);
    ifb_server_spec s = {.gpus_per_server = 1, .nics_per_server = 1, .nic_bps = G400};
    ifb_err e = {{0}};
    assert_int_equal(ifb_topo_leaf_spine(&w.topo, 4, &s, 2, 2, 1, G400, 100 * IFB_NS, 64, &e), 0);
    assert_int_equal(ifb_topo_route(&w.topo, &e), 0);
    assert_int_not_equal(ifb_fabric_create(&w.fab, &w.sim, &w.topo, &cfg, &e), 0);
    assert_non_null(strstr(e.msg, "int_adaptive"));
    ifb_topo_free(&w.topo);
    ifb_sim_destroy(&w.sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hops_match_pcap),
        cmocka_unit_test(test_switch_sink_collector),
        cmocka_unit_test(test_report_encoding),
        cmocka_unit_test(test_hop_limit),
        cmocka_unit_test(test_int_adaptive_steers),
        cmocka_unit_test(test_int_adaptive_needs_int),
        cmocka_unit_test(test_probes),
        cmocka_unit_test(test_probes_steer_new_flowlet),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
