/* Innocent flow: one long flow X->Y and a 16->1 incast to Z, X and the incast senders on leaf 0,
 * Y and Z on leaf 1 (2 leaves x 17 hosts, 2 spines x 8 uplinks (1:1), 400G, 1 us links). */
#include "net/fabric/fabric.h"
#include "topo/topo.h"
#include <stdio.h>
#include <string.h>

typedef struct res {
    ifb_time x_done, inc_done;
    int n;
} res;
static void on_done(ifb_sim *sim, void *ctx, const ifb_msg_info *i)
{
    (void)sim;
    res *r = ctx;
    if (i->src == 16)
        r->x_done = i->done;
    else if (i->done > r->inc_done)
        r->inc_done = i->done;
    r->n++;
}

static void run(const char *name, int incast, int pfc, int dcqcn, int ecn)
{
    ifb_err e = {{0}};
    ifb_sim sim;
    ifb_topo topo;
    ifb_sim_init(&sim, 1);
    ifb_topo_init(&topo);
    ifb_server_spec s = {.gpus_per_server = 1,
                         .nics_per_server = 1,
                         .nic_bps = 400000000000ull,
                         .host_delay = IFB_US,
                         .nvlink_bps = 3600000000000ull,
                         .nvlink_latency = IFB_US};
    if (ifb_topo_leaf_spine(&topo, 34, &s, 2, 2, 8, 400000000000ull, IFB_US, 64, &e) ||
        ifb_topo_route(&topo, &e)) {
        printf("%s\n", e.msg);
        return;
    }
    ifb_fabric_cfg cfg;
    ifb_fabric_cfg_default(&cfg);
    cfg.switch_buffer = 16000000; /* 16 MB: small enough for the incast to need PFC */
    if (!pfc)
        cfg.rto = 100 * IFB_US; /* lossy: recover tail drops fast; PFC: the 67 ms default */
    cfg.queue[3].lossless = 1;
    cfg.queue[3].ecn = ecn;
    cfg.pfc = pfc;
    cfg.dcqcn = dcqcn;
    ifb_fabric *f;
    if (ifb_fabric_create(&f, &sim, &topo, &cfg, &e)) {
        printf("%s\n", e.msg);
        return;
    }
    ifb_net *net = ifb_fabric_net(f);
    res r = {0};
    ifb_net_send(net, 16, 18, 64ull << 20, IFB_TC_A2A, on_done, &r);
    if (incast)
        for (int h = 0; h < 16; h++)
            ifb_net_send(net, h, 17, 8ull << 20, IFB_TC_A2A, on_done, &r);
    ifb_sim_run(&sim);
    const ifb_fabric_counters *c = ifb_fabric_counts(f);
    char msg[256];
    int cons = ifb_fabric_check_conservation(f, msg, sizeof msg);
    double xg = (64.0 * (1 << 20)) * 8 / ifb_time_to_s(r.x_done) / 1e9;
    printf("| %-28s | %8.1f | %6.1f | %9.1f | %7llu | %6llu | %6llu | %5llu | %s |\n", name,
           ifb_time_to_us(r.x_done), xg, incast ? ifb_time_to_us(r.inc_done) : 0.0,
           (unsigned long long)c->pfc_xoff_sent, (unsigned long long)c->pkts_dropped,
           (unsigned long long)c->cnps_sent, (unsigned long long)c->retx_pkts,
           cons ? "VIOLATED" : (ifb_fabric_inflight(f) ? "inflight" : "ok"));
    ifb_fabric_destroy(f);
    ifb_topo_free(&topo);
    ifb_sim_destroy(&sim);
}

int main(void)
{
    printf("| case | X FCT (us) | X Gb/s | incast done (us) | XOFF frames | drops | CNPs | retx | "
           "conservation |\n|---|---|---|---|---|---|---|---|---|\n");
    run("X alone", 0, 0, 0, 0);
    run("X alone, PFC + ECN/DCQCN", 0, 1, 1, 1);
    run("incast, lossy, no CC", 1, 0, 0, 0);
    run("incast, lossy, ECN+DCQCN", 1, 0, 1, 1);
    run("incast, PFC, no ECN/DCQCN", 1, 1, 0, 0);
    run("incast, PFC + ECN/DCQCN", 1, 1, 1, 1);
    return 0;
}
