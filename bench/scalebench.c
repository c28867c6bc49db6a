/* The scaling series of issue 16 (bench/RESULTS.md, "Scaling"): how the cost of a packet-hop
 * and the memory per host grow with the fabric, and how long setting up a large fabric takes.
 *
 *   perm HOSTS   a sprayed permutation (DRILL per packet, out-of-order placement at the NICs)
 *                of 4 MB per host on a 1:1 leaf-spine of HOSTS hosts: HOSTS / k leaves of k
 *                hosts and k spines, k = 8, 16, 32, 64 for 128, 512, 2,048, 8,192 hosts (the
 *                reference fabric's shape at 128); every link 400 Gb/s with 1 us propagation,
 *                zero switch latency, every flow starting at t = 0. Prints wall time, packet-
 *                hops, wall time per packet-hop, events per packet-hop and peak RSS.
 *   build HOSTS  builds the same fabric with WCMP and INT-driven adaptive routing (INT on) and
 *                prints the time and peak RSS of routing the topology and of creating the
 *                fabric, then takes the first leaf's first uplink down and prints how long the
 *                routing rebuild after its detection took (the live-member lists and the WCMP
 *                tables recomputed with the dead link at weight 0).
 * One run per process, so that peak RSS is that run's. Not a test: run by hand (RESULTS.md).
 * Usage: ifb_scalebench perm|build HOSTS [--mb BYTES_PER_HOST] [--seed N] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "net/fabric/fabric.h"
#include "net/fail/failure.h"
#include "net/switch/lb.h"
#include "topo/topo.h"
#include "workload/microbench.h"

static int per_leaf_of(int hosts)
{
    return hosts <= 128 ? 8 : hosts <= 512 ? 16 : hosts <= 2048 ? 32 : 64;
}

static int build_topo(ifb_topo *topo, int hosts, ifb_err *e)
{
    ifb_topo_init(topo);
    ifb_server_spec s = bench_server();
    int k = per_leaf_of(hosts);
    if (hosts % k)
        return ifb_err_msg(e, "hosts must be a multiple of %d", k);
    return ifb_topo_leaf_spine(topo, hosts, &s, hosts / k, k, 1, 400000000000ull, IFB_US, 2 * k, e);
}

static int perm(int hosts, uint64_t bytes, uint64_t seed)
{
    ifb_err e = {{0}};
    ifb_topo topo;
    ifb_sim sim;
    ifb_sim_init(&sim, seed);
    if (build_topo(&topo, hosts, &e) || ifb_topo_route(&topo, &e)) {
        fprintf(stderr, "scalebench: %s\n", e.msg);
        return 1;
    }
    ifb_fabric_cfg cfg;
    ifb_fabric_cfg_default(&cfg);
    cfg.switch_latency = 0;
    cfg.record_messages = 0;
    static ifb_lb_cfg lb;
    ifb_lb_cfg_default(&lb);
    for (int q = 0; q < 8; q++) {
        lb.q[q].mode = IFB_LBA_SPRAY;
        lb.q[q].unit = IFB_LB_UNIT_PACKET;
        lb.q[q].spray = IFB_LB_SPRAY_DRILL;
    }
    cfg.lb = &lb;
    cfg.ooo = 1;
    ifb_fabric *f;
    if (ifb_fabric_create(&f, &sim, &topo, &cfg, &e)) {
        fprintf(stderr, "scalebench: %s\n", e.msg);
        return 1;
    }
    ifb_mb_spec spec = {.seed = seed, .kind = IFB_MB_PERMUTATION, .bytes = bytes};
    ifb_mb_result r;
    double t0 = bench_wall_now();
    if (ifb_mb_run(&sim, ifb_fabric_net(f), &spec, &r, &e)) {
        fprintf(stderr, "scalebench: %s\n", e.msg);
        return 1;
    }
    double wall = bench_wall_now() - t0;
    double hops = (double)(sim.pkt_hops ? sim.pkt_hops : 1);
    double rss = bench_peak_rss_kb() / 1024.0;
    printf("perm hosts %d  leaves %d x %d  spines %d  wall %.3f s  sim %.4f ms  hops %llu  "
           "ns/hop %.1f  events/hop %.3f  events %llu  msgs %llu  drops %llu  peak-RSS %.1f MB  "
           "MB per 1000 hosts %.1f\n",
           hosts, hosts / per_leaf_of(hosts), per_leaf_of(hosts), per_leaf_of(hosts), wall,
           (double)sim.now / (double)IFB_MS, (unsigned long long)sim.pkt_hops, wall * 1e9 / hops,
           (double)sim.events / hops, (unsigned long long)sim.events, (unsigned long long)r.msgs,
           (unsigned long long)ifb_fabric_counts(f)->pkts_dropped, rss, rss * 1000.0 / hosts);
    ifb_fabric_destroy(f);
    ifb_topo_free(&topo);
    ifb_sim_destroy(&sim);
    return 0;
}

static int build(int hosts, uint64_t seed)
{
    ifb_err e = {{0}};
    ifb_topo topo;
    ifb_sim sim;
    ifb_sim_init(&sim, seed);
    double t0 = bench_wall_now();
    if (build_topo(&topo, hosts, &e) || ifb_topo_route(&topo, &e)) {
        fprintf(stderr, "scalebench: %s\n", e.msg);
        return 1;
    }
    double t_route = bench_wall_now() - t0;
    double rss_route = bench_peak_rss_kb() / 1024.0;
    ifb_fabric_cfg cfg;
    ifb_fabric_cfg_default(&cfg);
    cfg.switch_latency = 0;
    cfg.record_messages = 0;
    cfg.intc.on = 1;
    static ifb_lb_cfg lb;
    ifb_lb_cfg_default(&lb);
    /* WCMP on the data classes, INT-driven adaptive routing on the RoCE class */
    for (int q = 0; q < 8; q++)
        lb.q[q].mode = IFB_LBA_WCMP;
    lb.q[3].mode = IFB_LBA_INT_ADAPTIVE;
    lb.q[3].unit = IFB_LB_UNIT_PACKET;
    cfg.lb = &lb;
    cfg.ooo = 1;
    ifb_fabric *f;
    t0 = bench_wall_now();
    if (ifb_fabric_create(&f, &sim, &topo, &cfg, &e)) {
        fprintf(stderr, "scalebench: %s\n", e.msg);
        return 1;
    }
    double t_fabric = bench_wall_now() - t0;
    double rss_fabric = bench_peak_rss_kb() / 1024.0;
    /* the first leaf's first uplink (a leaf port whose peer is a spine) down at t = 0; its
     * detection (cfg.fail_detection later) rebuilds the routing state */
    int port = -1;
    const ifb_topo_node *leaf = &topo.nodes[topo.switch_node[0]];
    for (int k = 0; k < leaf->nports && port < 0; k++) {
        const ifb_topo_port *tp = &topo.ports[leaf->first_port + k];
        if (tp->link >= 0 && topo.nodes[tp->peer_node].kind == IFB_NODE_SWITCH)
            port = leaf->first_port + k;
    }
    ifb_failure fl = {.port = port, .sw = -1, .down = 0, .up = IFB_TIME_NEVER};
    if (port < 0 || ifb_fail_schedule(f, &fl, 1, &e)) {
        fprintf(stderr, "scalebench: no uplink to fail: %s\n", e.msg);
        return 1;
    }
    /* run to just before the detection, then time the detection event alone; one work item
     * outstanding, or the run would end at once (the failure's events are daemons) */
    ifb_sim_work_begin(&sim);
    sim.until = cfg.fail_detection ? cfg.fail_detection - 1 : 0;
    ifb_sim_run(&sim);
    uint64_t ev0 = sim.events;
    sim.until = IFB_TIME_NEVER;
    sim.max_events = ev0 + 1;
    t0 = bench_wall_now();
    ifb_sim_run(&sim);
    double t_fail = bench_wall_now() - t0;
    ifb_sim_work_end(&sim);
    printf("build hosts %d  switches %d  ports %d  route %.3f s (peak-RSS %.1f MB)  fabric with "
           "WCMP + INT-adaptive %.3f s (peak-RSS %.1f MB)  failure detected at %.1f us: rebuild "
           "%.3f s (%llu event)  peak-RSS %.1f MB\n",
           hosts, topo.nswitches, topo.nports, t_route, rss_route, t_fabric, rss_fabric,
           ifb_time_to_us(sim.now), t_fail, (unsigned long long)(sim.events - ev0),
           bench_peak_rss_kb() / 1024.0);
    ifb_fabric_destroy(f);
    ifb_topo_free(&topo);
    ifb_sim_destroy(&sim);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: ifb_scalebench perm|build HOSTS [--mb BYTES] [--seed N]\n");
        return 2;
    }
    int hosts = atoi(argv[2]);
    uint64_t bytes = 4000000, seed = 1;
    for (int i = 3; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--mb"))
            bytes = strtoull(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--seed"))
            seed = strtoull(argv[i + 1], NULL, 10);
    }
    if (hosts < 16) {
        fprintf(stderr, "scalebench: HOSTS: expected at least 16, found %s\n", argv[2]);
        return 2;
    }
    if (!strcmp(argv[1], "perm"))
        return perm(hosts, bytes, seed);
    if (!strcmp(argv[1], "build"))
        return build(hosts, seed);
    fprintf(stderr, "scalebench: expected perm or build, found %s\n", argv[1]);
    return 2;
}
