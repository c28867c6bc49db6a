/* Path-selection comparison on the foundation's reference fabric (bench/refbench.c): 128 hosts
 * on a 1:1 leaf-spine (16 leaves x 8 hosts, 8 spines, 400 Gb/s links, 1 us propagation, zero
 * switch latency), a random permutation (derangement) of long flows, all starting at t = 0, one
 * run per path-selection mode (net/switch/lb.h) on the same permutation and seed.
 *
 * Per mode: mean and minimum per-flow throughput normalized to line rate (bytes / FCT /
 * (400 Gb/s x 4096/4178), the payload rate of a full-MTU RoCEv2 stream), makespan, the busiest
 * fabric link's utilization over the makespan, the 99th percentile of fabric-port queue occupancy
 * (time-weighted over every switch-to-switch port) and the largest queue seen on any switch port,
 * go-back-N NAKs and retransmitted packets, new flowlets. For ECMP it also prints the
 * balls-into-bins expectation (Monte Carlo over random permutations and uniformly random spine
 * choices) next to what the hash actually did on this seed (flows per fabric link, from the port
 * counters).
 *
 * Usage: ifb_lbbench [--bytes N] [--a2a] [--asym] [--ooo] [--probes NS] [--seed N] [--seeds K]
 *                    [--mc N] [mode ...]
 *   --ooo: NICs place packets out of order (what per-packet modes need)
 *   --a2a: all-to-all, --bytes per ordered pair (16,256 flows) instead of the permutation
 *   --asym: the leaf0-spine0 link runs at 100 Gb/s (a quarter of the others)
 *   --probes NS: with INT on, ToRs probe every path every NS ns (fabric.int.probe_interval)
 *   eff: the ideal makespan (bytes a host sends / payload line rate) over the makespan
 *   --seeds K: seeds seed..seed+K-1 (permutation and hash seeds), figures averaged
 *   modes: ecmp wcmp flowlet flowlet-ll spray-random spray-rr spray-drill adaptive adaptive-pkt
 *          adaptive-ll adaptive-pkt-ll (-ll: ties in the best band broken by instantaneous load)
 *          flowlet-w spray-random-w spray-drill-w (-w: random picks follow the WCMP weights)
 *          int-adaptive int-adaptive-pkt int-adaptive-pkt-ll (INT on, the end-to-end figure from
 *          the sinks' feedback), adaptive-pkt+int spray-drill+int (INT carried but unused:
 *          its cost alone)
 *   (default: all) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "core/rng.h"
#include "net/fabric/fabric.h"
#include "net/switch/lb.h"
#include "topo/topo.h"
#include "workload/microbench.h"

enum { LEAVES = 16, PER_LEAF = 8, SPINES = 8, HOSTS = LEAVES * PER_LEAF };
static const uint64_t RATE = 400000000000ull;

typedef struct mode_def {
    const char *name;
    int mode, pick, spray, unit, ties, weighted, intc; /* intc: INT on (net/switch/int.h) */
} mode_def;

static const mode_def MODES[] = {
    {"ecmp", IFB_LBA_ECMP, 0, 0, 0, 0, 0, 0},
    {"wcmp", IFB_LBA_WCMP, 0, 0, 0, 0, 0, 0},
    {"flowlet", IFB_LBA_FLOWLET, IFB_LB_PICK_RANDOM, 0, 0, 0, 0, 0},
    {"flowlet-ll", IFB_LBA_FLOWLET, IFB_LB_PICK_LEAST_LOADED, 0, 0, 0, 0, 0},
    {"spray-random", IFB_LBA_SPRAY, 0, IFB_LB_SPRAY_RANDOM, 0, 0, 0, 0},
    {"spray-rr", IFB_LBA_SPRAY, 0, IFB_LB_SPRAY_ROUND_ROBIN, 0, 0, 0, 0},
    {"spray-drill", IFB_LBA_SPRAY, 0, IFB_LB_SPRAY_DRILL, 0, 0, 0, 0},
    {"adaptive", IFB_LBA_ADAPTIVE, 0, 0, IFB_LB_UNIT_FLOWLET, 0, 0, 0},
    {"adaptive-pkt", IFB_LBA_ADAPTIVE, 0, 0, IFB_LB_UNIT_PACKET, 0, 0, 0},
    {"adaptive-ll", IFB_LBA_ADAPTIVE, 0, 0, IFB_LB_UNIT_FLOWLET, IFB_LB_PICK_LEAST_LOADED, 0, 0},
    {"adaptive-pkt-ll", IFB_LBA_ADAPTIVE, 0, 0, IFB_LB_UNIT_PACKET, IFB_LB_PICK_LEAST_LOADED, 0, 0},
    {"flowlet-w", IFB_LBA_FLOWLET, IFB_LB_PICK_RANDOM, 0, 0, 0, 1, 0},
    {"spray-random-w", IFB_LBA_SPRAY, 0, IFB_LB_SPRAY_RANDOM, 0, 0, 1, 0},
    {"spray-drill-w", IFB_LBA_SPRAY, 0, IFB_LB_SPRAY_DRILL, 0, 0, 1, 0},
    {"int-adaptive", IFB_LBA_INT_ADAPTIVE, 0, 0, IFB_LB_UNIT_FLOWLET, 0, 0, 1},
    {"int-adaptive-pkt", IFB_LBA_INT_ADAPTIVE, 0, 0, IFB_LB_UNIT_PACKET, 0, 0, 1},
    {"int-adaptive-pkt-ll", IFB_LBA_INT_ADAPTIVE, 0, 0, IFB_LB_UNIT_PACKET,
     IFB_LB_PICK_LEAST_LOADED, 0, 1},
    {"adaptive-pkt+int", IFB_LBA_ADAPTIVE, 0, 0, IFB_LB_UNIT_PACKET, 0, 0, 1},
    {"spray-drill+int", IFB_LBA_SPRAY, 0, IFB_LB_SPRAY_DRILL, 0, 0, 0, 1},
};
enum { NMODES = sizeof MODES / sizeof MODES[0] };

typedef struct bins {
    double share_up;  /* fraction of inter-leaf flows sharing their leaf uplink */
    double share_any; /* ... sharing the uplink or the spine downlink */
    double inv_load;  /* mean over all flows of 1 / (most flows on a link of its path) */
    double max_load;  /* most flows on any link */
} bins;

/* Flows per link given each flow's spine; intra-leaf flows use no fabric link. */
static void bins_eval(const int *perm, const int *spine, bins *b)
{
    int up[LEAVES][SPINES] = {{0}}, down[SPINES][LEAVES] = {{0}};
    for (int i = 0; i < HOSTS; i++) {
        int sl = i / PER_LEAF, dl = perm[i] / PER_LEAF;
        if (sl != dl) {
            up[sl][spine[i]]++;
            down[spine[i]][dl]++;
        }
    }
    int inter = 0, su = 0, sa = 0, mx = 1;
    double inv = 0;
    for (int i = 0; i < HOSTS; i++) {
        int sl = i / PER_LEAF, dl = perm[i] / PER_LEAF;
        if (sl == dl) {
            inv += 1;
            continue;
        }
        int u = up[sl][spine[i]], d = down[spine[i]][dl];
        int l = u > d ? u : d;
        inter++;
        su += u > 1;
        sa += l > 1;
        inv += 1.0 / l;
        if (l > mx)
            mx = l;
    }
    b->share_up = (double)su / inter;
    b->share_any = (double)sa / inter;
    b->inv_load = inv / HOSTS;
    b->max_load = mx;
}

static void bins_expect(int trials, bins *out)
{
    memset(out, 0, sizeof *out);
    ifb_rng rng;
    ifb_rng_seed(&rng, 12345, 1);
    int perm[HOSTS], spine[HOSTS];
    for (int t = 0; t < trials; t++) {
        ifb_mb_permutation(ifb_rng_next(&rng), HOSTS, perm);
        for (int i = 0; i < HOSTS; i++)
            spine[i] = (int)ifb_rng_below(&rng, SPINES);
        bins b;
        bins_eval(perm, spine, &b);
        out->share_up += b.share_up / trials;
        out->share_any += b.share_any / trials;
        out->inv_load += b.inv_load / trials;
        out->max_load += b.max_load / trials;
    }
}

typedef struct result {
    double mean, min, makespan_us, eff, max_util, wall;
    uint64_t peak_q, naks, retx, drops, timeouts, flowlets;
    double p99_q; /* bytes: 99th percentile of fabric-port queue occupancy over port-time */
    int flows_per_up[HOSTS], flows_per_down[HOSTS]; /* histogram: links carrying k flows */
    int ok;
} result;

typedef struct opts {
    uint64_t bytes;
    int a2a;           /* pattern: 0 permutation, 1 all-to-all (bytes per ordered pair) */
    int asym;          /* leaf0-spine0 link at 100 Gb/s */
    int ooo;           /* NICs place out of order (no go-back-N on reordering) */
    uint64_t probe_ns; /* INT probe interval, 0 = no probes */
} opts;

static int run(const mode_def *m, uint64_t seed, const opts *o, result *res)
{
    uint64_t bytes = o->bytes;
    memset(res, 0, sizeof *res);
    ifb_err e = {{0}};
    ifb_sim sim;
    ifb_topo topo;
    ifb_sim_init(&sim, seed);
    ifb_topo_init(&topo);
    ifb_server_spec s = bench_server();
    if (ifb_topo_leaf_spine(&topo, HOSTS, &s, LEAVES, SPINES, 1, RATE, IFB_US, 64, &e)) {
        fprintf(stderr, "lbbench: %s\n", e.msg);
        return -1;
    }
    if (o->asym) {
        int a = ifb_topo_find_node(&topo, "leaf0"), b = ifb_topo_find_node(&topo, "spine0");
        for (int i = 0; i < topo.nlinks; i++) {
            ifb_topo_link *l = &topo.links[i];
            if ((l->a_node == a && l->b_node == b) || (l->a_node == b && l->b_node == a))
                l->rate_bps = RATE / 4;
        }
    }
    if (ifb_topo_route(&topo, &e)) {
        fprintf(stderr, "lbbench: %s\n", e.msg);
        return -1;
    }
    ifb_fabric_cfg cfg;
    ifb_fabric_cfg_default(&cfg);
    cfg.switch_latency = 0;
    cfg.record_messages = 1;
    cfg.intc.on = m->intc;
    if (m->intc)
        cfg.intc.probe_interval = o->probe_ns * IFB_NS;
    cfg.queue_bin = 16384; /* fine enough for p99, wide enough for ECMP's megabyte queues */
    cfg.queue_bins = 2048;
    cfg.ooo = o->ooo;
    ifb_fabric *f;
    if (ifb_fabric_create(&f, &sim, &topo, &cfg, &e)) {
        fprintf(stderr, "lbbench: %s\n", e.msg);
        return -1;
    }
    ifb_lb_cfg lc;
    ifb_lb_cfg_default(&lc);
    lc.quality_ties = (uint8_t)m->ties;
    lc.weighted = (uint8_t)m->weighted;
    for (int q = 0; q < IFB_NQUEUES; q++) {
        lc.q[q].mode = (uint8_t)m->mode;
        lc.q[q].flowlet_pick = (uint8_t)m->pick;
        lc.q[q].spray = (uint8_t)m->spray;
        lc.q[q].unit = (uint8_t)m->unit;
    }
    if (ifb_lb_attach(f, &lc, &e)) {
        fprintf(stderr, "lbbench: %s\n", e.msg);
        return -1;
    }
    ifb_mb_spec spec = {
        .kind = o->a2a ? IFB_MB_ALLTOALL : IFB_MB_PERMUTATION, .bytes = bytes, .seed = seed};
    ifb_mb_result r;
    double t0 = bench_wall_now();
    if (ifb_mb_run(&sim, ifb_fabric_net(f), &spec, &r, &e)) {
        fprintf(stderr, "lbbench: %s\n", e.msg);
        return -1;
    }
    res->wall = bench_wall_now() - t0;
    double line = (double)RATE / 8.0 * 4096.0 / 4178.0;
    size_t n;
    const ifb_msg_rec *rec = ifb_fabric_messages(f, &n);
    res->min = 1e9;
    for (size_t i = 0; i < n; i++) {
        double thr = (double)rec[i].bytes / ifb_time_to_s(rec[i].done - rec[i].start) / line;
        res->mean += thr / (double)n;
        if (thr < res->min)
            res->min = thr;
    }
    res->makespan_us = ifb_time_to_us(r.time);
    res->eff = (double)bytes * (o->a2a ? HOSTS - 1 : 1) / line / ifb_time_to_s(r.time);
    /* fabric links: switch-to-switch ports; flows per link from payload bytes (exact when
     * nothing is retransmitted) */
    for (int p = 0; p < topo.nports; p++) {
        const ifb_topo_port *tp = &topo.ports[p];
        if (tp->link < 0 || topo.nodes[tp->node].kind != IFB_NODE_SWITCH)
            continue;
        const ifb_port_stats *st = ifb_fabric_port_stats(f, p);
        if (st->max_queue > res->peak_q)
            res->peak_q = st->max_queue;
        if (topo.nodes[tp->peer_node].kind != IFB_NODE_SWITCH)
            continue;
        double util = (double)st->tx_bytes * 8.0 /
                      ((double)ifb_fabric_port_rate(f, p) * ifb_time_to_s(r.time));
        if (util > res->max_util)
            res->max_util = util;
        int k = (int)((st->tx_payload + bytes / 2) / bytes);
        if (k < HOSTS) {
            if (topo.nodes[tp->node].tier == 0)
                res->flows_per_up[k]++;
            else
                res->flows_per_down[k]++;
        }
    }
    /* p99 queue: time-weighted occupancy histograms of every switch port facing a switch,
     * summed (the last bin is open-ended) */
    {
        static uint64_t agg[4096];
        uint32_t nb = 0, bb = 0;
        memset(agg, 0, sizeof agg);
        double tot = 0;
        for (int p = 0; p < topo.nports; p++) {
            const ifb_topo_port *tp = &topo.ports[p];
            if (tp->link < 0 || topo.nodes[tp->node].kind != IFB_NODE_SWITCH ||
                topo.nodes[tp->peer_node].kind != IFB_NODE_SWITCH)
                continue;
            const uint64_t *h = ifb_fabric_queue_hist(f, p, &nb, &bb);
            for (uint32_t k = 0; h && k < nb && k < 4096; k++) {
                agg[k] += h[k];
                tot += (double)h[k];
            }
        }
        double cum = 0;
        for (uint32_t k = 0; k < nb && k < 4096; k++) {
            cum += (double)agg[k];
            if (cum >= 0.99 * tot) {
                res->p99_q = (double)(k + 1) * bb;
                break;
            }
        }
    }
    const ifb_fabric_counters *c = ifb_fabric_counts(f);
    res->naks = c->naks;
    res->retx = c->retx_pkts;
    res->drops = c->pkts_dropped;
    res->timeouts = c->timeouts;
    ifb_lb_stats ls;
    ifb_lb_get_stats(f, &ls);
    res->flowlets = ls.flowlets;
    char msg[256];
    res->ok = r.msgs == (uint64_t)(o->a2a ? HOSTS * (HOSTS - 1) : HOSTS) &&
              ifb_fabric_check_conservation(f, msg, sizeof msg) == 0;
    ifb_lb_detach(f);
    ifb_fabric_destroy(f);
    ifb_topo_free(&topo);
    ifb_sim_destroy(&sim);
    return 0;
}

/* Share of inter-leaf flows on links that carry more than one flow, from a histogram. */
static double shared_share(const int *hist)
{
    long tot = 0, sh = 0;
    for (int k = 1; k < HOSTS; k++) {
        tot += (long)k * hist[k];
        if (k > 1)
            sh += (long)k * hist[k];
    }
    return tot ? (double)sh / (double)tot : 0;
}

int main(int argc, char **argv)
{

    uint64_t seed = 1;
    opts o = {.bytes = 4000000};
    int mc = 20000, nseeds = 1;
    int want[NMODES] = {0}, nwant = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
            seed = strtoull(argv[++i], NULL, 10);
        } else if (!strcmp(argv[i], "--seeds") && i + 1 < argc) {
            nseeds = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--bytes") && i + 1 < argc) {
            o.bytes = strtoull(argv[++i], NULL, 10);
        } else if (!strcmp(argv[i], "--a2a")) {
            o.a2a = 1;
        } else if (!strcmp(argv[i], "--asym")) {
            o.asym = 1;
        } else if (!strcmp(argv[i], "--ooo")) {
            o.ooo = 1;
        } else if (!strcmp(argv[i], "--probes") && i + 1 < argc) {
            o.probe_ns = strtoull(argv[++i], NULL, 10);
        } else if (!strcmp(argv[i], "--mc") && i + 1 < argc) {
            mc = atoi(argv[++i]);
        } else {
            int found = 0;
            for (int k = 0; k < NMODES; k++)
                if (!strcmp(argv[i], MODES[k].name)) {
                    want[k] = found = 1;
                    nwant++;
                }
            if (!found) {
                fprintf(stderr,
                        "usage: ifb_lbbench [--bytes N] [--a2a] [--asym] [--ooo] [--probes NS] "
                        "[--seed N] "
                        "[--seeds K] "
                        "[--mc N] "
                        "[mode ...]\n"
                        "modes: ecmp wcmp flowlet flowlet-ll spray-random spray-rr spray-drill "
                        "adaptive adaptive-pkt adaptive-ll adaptive-pkt-ll flowlet-w "
                        "spray-random-w spray-drill-w int-adaptive int-adaptive-pkt "
                        "int-adaptive-pkt-ll adaptive-pkt+int spray-drill+int\n");
                return 2;
            }
        }
    }
    if (nseeds < 1)
        nseeds = 1;
    if (!nwant)
        for (int k = 0; k < NMODES; k++)
            want[k] = 1;
    printf("%s of %llu B per %s, 128 hosts, 16x8 leaf-spine 1:1 at 400G%s, seed %llu%s",
           o.a2a ? "all-to-all" : "permutation", (unsigned long long)o.bytes,
           o.a2a ? "ordered pair" : "host", o.asym ? " (leaf0-spine0 at 100G)" : "",
           (unsigned long long)seed, nseeds > 1 ? "" : "\n");
    if (nseeds > 1)
        printf("..%llu (each figure the mean over %d seeds; min thr = mean of per-run minima)\n",
               (unsigned long long)(seed + (uint64_t)nseeds - 1), nseeds);
    printf("| mode | mean thr | min thr | makespan (us) | eff | max link util | p99 queue (KB) | "
           "peak queue (KB) | NAKs | retx pkts | timeouts | drops | flowlets | wall (s) |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    int rc = 0;
    double ecmp_up = 0, ecmp_down = 0;
    result ecmp_res;
    int have_ecmp = 0;
    for (int k = 0; k < NMODES; k++) {
        if (!want[k])
            continue;
        double a[8] = {0}, cnt[5] = {0};
        int ok = 1;
        for (int si = 0; si < nseeds; si++) {
            result r;
            if (run(&MODES[k], seed + (uint64_t)si, &o, &r))
                return 1;
            a[0] += r.mean / nseeds;
            a[1] += r.min / nseeds;
            a[2] += r.makespan_us / nseeds;
            a[3] += r.max_util / nseeds;
            a[4] += (double)r.peak_q / 1000 / nseeds;
            a[5] += r.wall;
            a[6] += r.eff / nseeds;
            a[7] += r.p99_q / 1000 / nseeds;
            cnt[0] += (double)r.naks / nseeds;
            cnt[1] += (double)r.retx / nseeds;
            cnt[2] += (double)r.timeouts / nseeds;
            cnt[3] += (double)r.drops / nseeds;
            cnt[4] += (double)r.flowlets / nseeds;
            ok &= r.ok;
            if (MODES[k].mode == IFB_LBA_ECMP) {
                ecmp_up += shared_share(r.flows_per_up) / nseeds;
                ecmp_down += shared_share(r.flows_per_down) / nseeds;
                if (!have_ecmp)
                    ecmp_res = r;
                have_ecmp = 1;
            }
        }
        printf(
            "| %s | %.3f | %.3f | %.1f | %.3f | %.3f | %.0f | %.0f | %.0f | %.0f | %.1f | %.0f | "
            "%.0f | %.2f |%s\n",
            MODES[k].name, a[0], a[1], a[2], a[6], a[3], a[7], a[4], cnt[0], cnt[1], cnt[2], cnt[3],
            cnt[4], a[5], ok ? "" : " INCOMPLETE/NONCONSERVED");
        fflush(stdout);
        if (!ok)
            rc = 1;
    }
    if (have_ecmp && mc > 0 && !o.a2a && !o.asym) {
        bins b;
        bins_expect(mc, &b);
        int perm[HOSTS];
        ifb_mb_permutation(seed, HOSTS, perm);
        int intra = 0;
        for (int i = 0; i < HOSTS; i++)
            intra += i / PER_LEAF == perm[i] / PER_LEAF;
        printf("\nballs into bins (%d random permutations, uniformly random spine per flow):\n",
               mc);
        printf("  expected: %.3f of inter-leaf flows share their leaf uplink (the same for the "
               "spine downlink), %.3f share the uplink or the downlink; E[1/most flows on path] = "
               "%.3f (the mean throughput if every flow ran at its bottleneck's fair share); "
               "E[most flows on a link] = %.2f\n",
               b.share_up, b.share_any, b.inv_load, b.max_load);
        printf("  ECMP here (port counters, mean over seeds): %.3f of inter-leaf flows on a shared "
               "uplink, %.3f on a shared downlink\n",
               ecmp_up, ecmp_down);
        printf("  seed %llu (%d intra-leaf flows), fabric links by flows carried (k: "
               "uplinks/downlinks):",
               (unsigned long long)seed, intra);
        for (int k = 0; k < 6; k++)
            printf("  %d: %d/%d", k, ecmp_res.flows_per_up[k], ecmp_res.flows_per_down[k]);
        printf("\n");
    }
    return rc;
}
