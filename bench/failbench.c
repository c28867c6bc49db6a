/* Recovery from a link failure per path-selection mode, on the foundation's reference fabric
 * (bench/lbbench.c): 128 hosts on a 1:1 leaf-spine (16 leaves x 8 hosts, 8 spines, 400 Gb/s
 * links, 1 us propagation, zero switch latency), a random permutation of long flows, all
 * starting at t = 0. Mid-run the leaf0-spine0 link fails (variant "down"), or fails and comes
 * back (variant "down-up"). Switches detect it after the default detection delay.
 *
 * Goodput is measured at the receivers of the flows that can cross the failed link (those from
 * and to leaf0's hosts: 16 of 128), in 10 us bins; over the whole fabric one link of 128 is
 * lost in the noise. Recovery and dip follow docs/outputs.md (failures), with the steady state
 * ending at the first flow completion. Makespan is the last completion; packets lost counts
 * link-down and unroutable drops; retx is retransmitted data packets.
 *
 * Per-packet modes (spray, adaptive_pkt, int_adaptive_pkt) run with out-of-order placement on the
 * NIC (they need it); the others with go-back-N.
 * The retransmission timeout is the verbs default the fabric uses (67 ms, timeout 14), so a
 * loss that no NAK reports costs that much: this shows in the makespan, not in goodput.
 *
 * Left out: several failures at once, failure placement other than leaf0-spine0.
 *
 * Usage: ifb_failbench [--bytes N] [--seed N] [--down US] [--up US] [mode ...] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "core/rng.h"
#include "net/fabric/fabric.h"
#include "net/fail/failure.h"
#include "net/switch/lb.h"
#include "topo/topo.h"
#include "workload/microbench.h"

enum { LEAVES = 16, PER_LEAF = 8, SPINES = 8, HOSTS = LEAVES * PER_LEAF };
static const uint64_t RATE = 400000000000ull;

typedef struct mode_def {
    const char *name;
    int mode, ooo, intc, unit;
} mode_def;

static const mode_def MODES[] = {
    {"ecmp", IFB_LBA_ECMP, 0, 0, 0},
    {"wcmp", IFB_LBA_WCMP, 0, 0, 0},
    {"flowlet", IFB_LBA_FLOWLET, 0, 0, 0},
    {"spray", IFB_LBA_SPRAY, 1, 0, 0},
    {"adaptive", IFB_LBA_ADAPTIVE, 0, 0, IFB_LB_UNIT_FLOWLET},
    {"adaptive_pkt", IFB_LBA_ADAPTIVE, 1, 0, IFB_LB_UNIT_PACKET},
    {"int_adaptive", IFB_LBA_INT_ADAPTIVE, 0, 1, IFB_LB_UNIT_FLOWLET},
    {"int_adaptive_pkt", IFB_LBA_INT_ADAPTIVE, 1, 1, IFB_LB_UNIT_PACKET},
};
enum { NMODES = sizeof MODES / sizeof MODES[0] };

typedef struct result {
    ifb_recovery rv;
    double makespan_us, wall;
    uint64_t msgs;
    int ok;
} result;

static int run(const mode_def *m, uint64_t seed, uint64_t bytes, ifb_time down, ifb_time up,
               result *res)
{
    memset(res, 0, sizeof *res);
    ifb_err e = {{0}};
    ifb_sim sim;
    ifb_topo topo;
    ifb_sim_init(&sim, seed);
    ifb_topo_init(&topo);
    ifb_server_spec s = bench_server();
    if (ifb_topo_leaf_spine(&topo, HOSTS, &s, LEAVES, SPINES, 1, RATE, IFB_US, 64, &e) ||
        ifb_topo_route(&topo, &e)) {
        fprintf(stderr, "failbench: %s\n", e.msg);
        return -1;
    }
    ifb_fabric_cfg cfg;
    ifb_fabric_cfg_default(&cfg);
    cfg.switch_latency = 0;
    cfg.record_messages = 0;
    cfg.ooo = m->ooo;
    cfg.retry_cnt = 7;
    cfg.intc.on = m->intc;
    ifb_lb_cfg lc;
    ifb_lb_cfg_default(&lc);
    for (int q = 0; q < IFB_NQUEUES; q++) {
        lc.q[q].mode = (uint8_t)m->mode;
        lc.q[q].unit = (uint8_t)m->unit;
    }
    cfg.lb = &lc;
    ifb_fabric *f;
    if (ifb_fabric_create(&f, &sim, &topo, &cfg, &e)) {
        fprintf(stderr, "failbench: %s: %s\n", m->name, e.msg);
        ifb_topo_free(&topo);
        ifb_sim_destroy(&sim);
        return -1;
    }
    /* receivers of the flows that can use leaf0-spine0: leaf0's hosts and their destinations */
    int perm[HOSTS];
    ifb_mb_permutation(seed, HOSTS, perm);
    uint8_t mask[HOSTS] = {0};
    for (int h = 0; h < PER_LEAF; h++)
        mask[h] = mask[perm[h]] = 1;
    ifb_fabric_goodput_hosts(f, mask);
    int leaf0 = ifb_topo_find_node(&topo, "leaf0"), spine0 = ifb_topo_find_node(&topo, "spine0");
    int port = -1;
    for (int k = 0; k < topo.nodes[leaf0].nports && port < 0; k++) {
        int p = topo.nodes[leaf0].first_port + k;
        if (topo.ports[p].link >= 0 && topo.ports[p].peer_node == spine0)
            port = p;
    }
    ifb_failure fl = {.port = port, .sw = -1, .down = down, .up = up};
    if (ifb_fail_schedule(f, &fl, 1, &e)) {
        fprintf(stderr, "failbench: %s\n", e.msg);
        return -1;
    }
    ifb_mb_spec spec = {.kind = IFB_MB_PERMUTATION, .bytes = bytes, .seed = seed};
    ifb_mb_result r;
    double t0 = bench_wall_now();
    if (ifb_mb_run(&sim, ifb_fabric_net(f), &spec, &r, &e)) {
        fprintf(stderr, "failbench: %s\n", e.msg);
        return -1;
    }
    res->wall = bench_wall_now() - t0;
    ifb_fail_recovery(f, r.min_done, &res->rv);
    res->makespan_us = ifb_time_to_us(r.time);
    res->msgs = r.msgs;
    char msg[256];
    res->ok = r.msgs == HOSTS && ifb_fabric_counts(f)->msgs_failed == 0 &&
              ifb_fabric_check_conservation(f, msg, sizeof msg) == 0;
    ifb_fabric_destroy(f);
    ifb_topo_free(&topo);
    ifb_sim_destroy(&sim);
    return 0;
}

int main(int argc, char **argv)
{
    uint64_t seed = 1, bytes = 32000000;
    ifb_time down = 150 * IFB_US, up = 450 * IFB_US;
    int want[NMODES] = {0}, nwant = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
            seed = strtoull(argv[++i], NULL, 10);
        } else if (!strcmp(argv[i], "--bytes") && i + 1 < argc) {
            bytes = strtoull(argv[++i], NULL, 10);
        } else if (!strcmp(argv[i], "--down") && i + 1 < argc) {
            down = (ifb_time)(atof(argv[++i]) * (double)IFB_US);
        } else if (!strcmp(argv[i], "--up") && i + 1 < argc) {
            up = (ifb_time)(atof(argv[++i]) * (double)IFB_US);
        } else {
            int found = 0;
            for (int k = 0; k < NMODES; k++)
                if (!strcmp(argv[i], MODES[k].name)) {
                    want[k] = found = 1;
                    nwant++;
                }
            if (!found) {
                fprintf(stderr, "usage: ifb_failbench [--bytes N] [--seed N] [--down US] [--up "
                                "US] [mode ...]\nmodes: ecmp wcmp flowlet spray adaptive "
                                "adaptive_pkt int_adaptive int_adaptive_pkt\n");
                return 2;
            }
        }
    }
    if (!nwant)
        for (int k = 0; k < NMODES; k++)
            want[k] = 1;
    printf("permutation of %llu B per host, 128 hosts, 16x8 leaf-spine 1:1 at 400G, seed %llu; "
           "leaf0-spine0 down at %.0f us (down-up: back at %.0f us), detection 100 us\n"
           "goodput of the 16 flows from/to leaf0 in 10 us bins; recovery = failure to the "
           "end of the first bin back at >= 90%% of the pre-failure mean\n\n",
           (unsigned long long)bytes, (unsigned long long)seed, ifb_time_to_us(down),
           ifb_time_to_us(up));
    printf("%-13s %-8s %9s %6s %9s %8s %8s %8s %12s %3s %7s\n", "mode", "variant", "pre Gb/s",
           "dip", "recov us", "lost", "retx", "timeouts", "makespan us", "ok", "wall s");
    for (int k = 0; k < NMODES; k++) {
        if (!want[k])
            continue;
        for (int v = 0; v < 2; v++) {
            result res;
            if (run(&MODES[k], seed, bytes, down, v ? up : IFB_TIME_NEVER, &res))
                continue;
            char rec[32];
            if (res.rv.recovery == IFB_TIME_NEVER)
                snprintf(rec, sizeof rec, "never");
            else
                snprintf(rec, sizeof rec, "%.0f", ifb_time_to_us(res.rv.recovery));
            printf("%-13s %-8s %9.1f %6.3f %9s %8llu %8llu %8llu %12.1f %3s %7.1f\n", MODES[k].name,
                   v ? "down-up" : "down", res.rv.pre_gbps, res.rv.dip, rec,
                   (unsigned long long)res.rv.lost, (unsigned long long)res.rv.retx,
                   (unsigned long long)res.rv.timeouts, res.makespan_us, res.ok ? "yes" : "NO",
                   res.wall);
            fflush(stdout);
        }
    }
    return 0;
}
