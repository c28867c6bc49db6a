/* The foundation's reference fabric benchmark: 128 hosts on a 2-tier leaf-spine (16 leaves x 8
 * hosts, 8 spines, 1:1), every link 400 Gb/s with 1 us propagation, zero switch latency,
 * per-flow ECMP, all flows starting at t=0.
 *   (a) permutation: a random derangement, 16 MB per host
 *   (b) alltoall: 64 KiB per ordered pair (16,256 flows)
 * Prints wall time, simulated time, events, packet-hops per second and peak RSS.
 * With `cc`: queue 3 lossless with ECN marking, PFC and DCQCN (nvidia-cx) on, to check that the
 * lossless machinery keeps the speed targets.
 * With `int`: INT-MD on every data packet (first switch inserts, every switch pushes a hop
 * record, last switch strips and reports), routing unchanged: the cost of INT alone. With
 * `intar`: INT plus INT-driven adaptive routing per packet and out-of-order placement at the
 * NICs, the configuration the data-plane issue's speed target is checked with. With `spray`:
 * DRILL packet spray and out-of-order placement without INT, for comparison: a mode that fills
 * the fabric shortens the simulated span, so wall time per simulated ms rises with the work done
 * per simulated ms; wall time per packet-hop ("ns/hop") compares modes on equal work.
 * `intar-flowlet`: the same with int_adaptive choosing per flowlet (its default unit, as SAI's).
 * Usage: ifb_refbench [a|b|all] [cc] [int|intar|intar-flowlet|spray] [SEED] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "bench.h"
#include "net/fabric/fabric.h"
#include "net/switch/lb.h"
#include "topo/topo.h"
#include "workload/microbench.h"

static int cc_on, int_on, intar_on, intar_flowlet, spray_on;
static int run(const char *which, uint64_t seed)
{
    ifb_err e = {{0}};
    ifb_sim sim;
    ifb_topo topo;
    ifb_sim_init(&sim, seed);
    ifb_topo_init(&topo);
    ifb_server_spec s = bench_server();
    if (ifb_topo_leaf_spine(&topo, 128, &s, 16, 8, 1, 400000000000ull, IFB_US, 64, &e) ||
        ifb_topo_route(&topo, &e)) {
        fprintf(stderr, "refbench: %s\n", e.msg);
        return 1;
    }
    ifb_fabric_cfg cfg;
    ifb_fabric_cfg_default(&cfg);
    cfg.switch_latency = 0;
    cfg.record_messages = 0;
    if (cc_on) {
        /* lossless Ethernet: the RoCE classes' queue 3 lossless with ECN, PFC and DCQCN on */
        cfg.queue[3].lossless = 1;
        cfg.queue[3].ecn = 1;
        cfg.pfc = 1;
        cfg.dcqcn = 1;
    }
    static ifb_lb_cfg lb;
    if (int_on || intar_on)
        cfg.intc.on = 1;
    if (intar_on || spray_on) {
        ifb_lb_cfg_default(&lb);
        for (int q = 0; q < 8; q++) {
            lb.q[q].mode = intar_on ? IFB_LBA_INT_ADAPTIVE : IFB_LBA_SPRAY;
            lb.q[q].unit = intar_flowlet ? IFB_LB_UNIT_FLOWLET : IFB_LB_UNIT_PACKET;
            if (spray_on)
                lb.q[q].spray = IFB_LB_SPRAY_DRILL;
        }
        cfg.lb = &lb;
        cfg.ooo = 1;
    }
    ifb_fabric *f;
    if (ifb_fabric_create(&f, &sim, &topo, &cfg, &e)) {
        fprintf(stderr, "refbench: %s\n", e.msg);
        return 1;
    }
    ifb_mb_spec spec = {.seed = seed};
    if (!strcmp(which, "a")) {
        spec.kind = IFB_MB_PERMUTATION;
        spec.bytes = 16ull * 1000 * 1000;
    } else {
        spec.kind = IFB_MB_ALLTOALL;
        spec.bytes = 64 * 1024;
    }
    ifb_mb_result r;
    double t0 = bench_wall_now();
    if (ifb_mb_run(&sim, ifb_fabric_net(f), &spec, &r, &e)) {
        fprintf(stderr, "refbench: %s\n", e.msg);
        return 1;
    }
    double wall = bench_wall_now() - t0;
    char msg[256];
    int cons = ifb_fabric_check_conservation(f, msg, sizeof msg);
    double sim_ms = (double)sim.now / (double)IFB_MS;
    printf("%-12s wall %.3f s  sim %.4f ms  wall/sim-ms %.3f s  ns/hop %.0f  events %llu  "
           "hops %llu  hops/s %.3g  peak-events %zu  peak-RSS %.1f MB  msgs %llu  drops %llu  %s  "
           "marks %llu "
           "cnp %llu pfc %llu\n",
           which[0] == 'a' ? "(a) perm" : "(b) a2a", wall, sim_ms, wall / sim_ms,
           wall * 1e9 / (double)(sim.pkt_hops ? sim.pkt_hops : 1), (unsigned long long)sim.events,
           (unsigned long long)sim.pkt_hops, (double)sim.pkt_hops / wall, sim.pending_peak,
           bench_peak_rss_kb() / 1024.0, (unsigned long long)r.msgs,
           (unsigned long long)ifb_fabric_counts(f)->pkts_dropped, cons ? msg : "conservation ok",
           (unsigned long long)ifb_fabric_counts(f)->ecn_marks,
           (unsigned long long)ifb_fabric_counts(f)->cnps_sent,
           (unsigned long long)ifb_fabric_counts(f)->pfc_xoff_sent);
    ifb_fabric_destroy(f);
    ifb_topo_free(&topo);
    ifb_sim_destroy(&sim);
    return cons ? 1 : 0;
}

int main(int argc, char **argv)
{
    const char *which = argc > 1 ? argv[1] : "all";
    uint64_t seed = 1;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "cc"))
            cc_on = 1;
        else if (!strcmp(argv[i], "int"))
            int_on = 1;
        else if (!strcmp(argv[i], "intar"))
            intar_on = 1;
        else if (!strcmp(argv[i], "intar-flowlet"))
            intar_on = intar_flowlet = 1;
        else if (!strcmp(argv[i], "spray"))
            spray_on = 1;
        else
            seed = strtoull(argv[i], NULL, 10);
    }
    int rc = 0;
    if (!strcmp(which, "a") || !strcmp(which, "all"))
        rc |= run("a", seed);
    if (!strcmp(which, "b") || !strcmp(which, "all"))
        rc |= run("b", seed);
    return rc;
}
