/* Scenario loading, the topology section: the built-in shapes (single, leaf-spine, fat tree,
 * rail) and topology files into the graph, link delays from delays or cable lengths, and the
 * routing pass once the fabric is known (with the memory check before it and progress on a
 * terminal). Leaves out: everything about the fabric's behaviour (scenario_fabric.c). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/embedded.h"
#include "net/fail/failure.h"
#include "net/wire/wire.h"
#include "scenario/ib_cfg.h"
#include "scenario/lb_cfg.h"
#include "scenario/scenario.h"
#include "scenario/scenario_int.h"

/* Light travels 5 ns per metre in fibre and copper twinax alike, near enough. */
#define PS_PER_MM 5

static const char *const topo_kinds[] = {"single", "leaf-spine", "fat-tree", "rail", "file", NULL};
enum { TK_SINGLE, TK_LEAF_SPINE, TK_FAT_TREE, TK_RAIL, TK_FILE };

static int get_i(ifb_cfg *c, const char *path, int64_t def, int64_t lo, int64_t hi, int *out,
                 ifb_err *e)
{
    int64_t v;
    if (ifb_cfg_get_int(c, path, def, lo, hi, &v, e))
        return -1;
    *out = (int)v;
    return 0;
}

static int load_topology_graph(ifb_scenario *sc, ifb_err *e);

/* A link's propagation delay from either `<prefix>_delay` or `<prefix>_cable` (length). */
static int get_delay(ifb_cfg *c, const char *prefix, ifb_time def, ifb_time *out, ifb_err *e)
{
    char kd[96], kc[96];
    snprintf(kd, sizeof kd, "topology.%s_delay", prefix);
    snprintf(kc, sizeof kc, "topology.%s_cable", prefix);
    if (ifb_cfg_has(c, kd) && ifb_cfg_has(c, kc))
        return ifb_cfg_errf(c, kc, e, "either a cable length or a delay", "both %s and %s", kd, kc);
    if (ifb_cfg_has(c, kc)) {
        uint64_t mm;
        if (ifb_cfg_get_distance(c, kc, 0, &mm, e))
            return -1;
        if (mm > IFB_TIME_CFG_MAX / PS_PER_MM) /* a delay bounded like any time (core/time.h) */
            return ifb_cfg_errf(c, kc, e, "a cable of at most 720000000km (1 h of delay)",
                                "%llu mm", (unsigned long long)mm);
        *out = (ifb_time)mm * PS_PER_MM;
        return 0;
    }
    return ifb_cfg_get_time(c, kd, def, out, e);
}

/* Progress of a long topology load or routing pass on stderr, when stderr is a terminal and the
 * work has taken more than a second (a million-node file takes seconds): one line, rewritten in
 * place, cleared when done. Nothing in a pipe or a log file. */
typedef struct progress_state {
    double t0, last;
    int shown;
} progress_state;

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void show_progress(void *ctx, const char *what, uint64_t done, uint64_t total)
{
    progress_state *p = ctx;
    double now = wall_now();
    if (now - p->t0 < 1.0 || now - p->last < 0.25)
        return;
    p->last = now;
    p->shown = 1;
    if (total)
        fprintf(stderr, "\r\033[Kinfabric: %s: %.0f%%", what, 100.0 * (double)done / (double)total);
    else
        fprintf(stderr, "\r\033[Kinfabric: %s: %llu", what, (unsigned long long)done);
    fflush(stderr);
}

static void progress_on(ifb_scenario *sc, progress_state *ps)
{
    *ps = (progress_state){wall_now(), 0, 0};
    if (isatty(2)) {
        sc->topo.progress = show_progress;
        sc->topo.progress_ctx = ps;
    }
}

static void progress_off(ifb_scenario *sc, const progress_state *ps)
{
    if (ps->shown)
        fputs("\r\033[K", stderr);
    sc->topo.progress = NULL;
    sc->topo.progress_ctx = NULL;
}

int ifb_sc_load_topology(ifb_scenario *sc, ifb_err *e)
{
    progress_state ps;
    progress_on(sc, &ps);
    int rc = load_topology_graph(sc, e);
    progress_off(sc, &ps);
    return rc;
}

static int load_topology_graph(ifb_scenario *sc, ifb_err *e)
{
    ifb_cfg *c = sc->cfg;
    int kind;
    if (ifb_cfg_get_enum(c, "topology.kind", topo_kinds, TK_SINGLE, &kind, e))
        return -1;
    int servers, gpus, nics, ports;
    if (get_i(c, "topology.servers", 2, 1, 1 << 20, &servers, e) ||
        get_i(c, "topology.gpus_per_server", 8, 1, 1024, &gpus, e) ||
        get_i(c, "topology.nics_per_server", 4, 1, 1024, &nics, e) ||
        get_i(c, "topology.switch_ports", 128, 1, 1 << 16, &ports, e))
        return -1;
    char want[96];
    if (nics > gpus) {
        snprintf(want, sizeof want, "at most one NIC per GPU (gpus_per_server = %d)", gpus);
        return ifb_cfg_errf(c, "topology.nics_per_server", e, want, "%d", nics);
    }
    ifb_server_spec s = {.gpus_per_server = gpus, .nics_per_server = nics};
    int gpu_nic[1024];
    int n = -1;
    if (ifb_cfg_seq_len(c, "topology.gpu_nic", &n, e))
        return -1;
    if (n >= 0) {
        if (n != gpus) {
            snprintf(want, sizeof want, "one NIC index per GPU (%d entries)", gpus);
            return ifb_cfg_errf(c, "topology.gpu_nic", e, want, "%d entries", n);
        }
        for (int i = 0; i < n; i++) {
            char k[64];
            snprintf(k, sizeof k, "topology.gpu_nic[%d]", i);
            if (get_i(c, k, 0, 0, nics - 1, &gpu_nic[i], e))
                return -1;
        }
        s.gpu_nic = gpu_nic;
    }
    if (ifb_cfg_get_rate(c, "topology.nic_rate", 400000000000ull, &s.nic_bps, e) ||
        get_delay(c, "host", 25 * IFB_NS, &s.host_delay, e) ||
        ifb_cfg_get_rate(c, "topology.nvlink_rate", 3600000000000ull, &s.nvlink_bps, e) ||
        ifb_cfg_get_time(c, "topology.nvlink_latency", IFB_US, &s.nvlink_latency, e))
        return -1;
    /* NVLink protocol efficiency: SM-driven copies carry 128 B of payload per NVLink packet,
     * ~20 GB/s of a link's 25 GB/s line rate (NCCL maintainer, NVIDIA/nccl-tests #149); copy
     * engines measure 380 of 450 GB/s on H100 (NVIDIA/nccl #1264); DeepSeek measured 160 of
     * H800's 200 GB/s (DeepEP #16). The payload rate is rate x efficiency. */
    double nvl_eff;
    if (ifb_cfg_get_double(c, "topology.nvlink_efficiency", 0.8, 0.01, 1, &nvl_eff, e))
        return -1;
    s.nvlink_bps = (uint64_t)((double)s.nvlink_bps * nvl_eff + 0.5);
    uint64_t fabric_bps;
    ifb_time fabric_delay;
    int leaves, spines, uplinks, k;
    if (ifb_cfg_get_rate(c, "topology.fabric_rate", s.nic_bps, &fabric_bps, e) ||
        get_delay(c, "fabric", 1500 * IFB_NS, &fabric_delay, e) ||
        get_i(c, "topology.leaves", 2, 1, 1 << 16, &leaves, e) ||
        get_i(c, "topology.spines", 2, 1, 1 << 16, &spines, e) ||
        get_i(c, "topology.uplinks_per_spine", 1, 1, 1024, &uplinks, e) ||
        get_i(c, "topology.k", 4, 2, 256, &k, e))
        return -1;
    const char *file = NULL;
    if (ifb_cfg_get_string(c, "topology.file", NULL, &file, e))
        return -1;
    ifb_err be = {{0}};
    int rc = 0;
    switch (kind) {
    case TK_SINGLE:
        rc = ifb_topo_single_switch(&sc->topo, servers, &s, ports, &be);
        break;
    case TK_LEAF_SPINE:
        rc = ifb_topo_leaf_spine(&sc->topo, servers, &s, leaves, spines, uplinks, fabric_bps,
                                 fabric_delay, ports, &be);
        break;
    case TK_FAT_TREE:
        rc = ifb_topo_fat_tree(&sc->topo, k, &s, fabric_bps, fabric_delay, &be);
        break;
    case TK_RAIL:
        rc = ifb_topo_rail(&sc->topo, servers, &s, spines, uplinks, fabric_bps, fabric_delay, ports,
                           &be);
        break;
    case TK_FILE:
        if (!file)
            return ifb_cfg_errf(c, "topology", e, "a topology.file for kind: file", "none");
        {
            /* A relative topology file is found next to the scenario file. */
            char full[1024];
            const char *slash = strrchr(sc->source, '/');
            int len;
            if (file[0] != '/' && slash && sc->source[0] != '<')
                len = snprintf(full, sizeof full, "%.*s/%s", (int)(slash - sc->source), sc->source,
                               file);
            else
                len = snprintf(full, sizeof full, "%s", file);
            if (len < 0 || (size_t)len >= sizeof full) /* never open a cut-off path */
                return ifb_cfg_errf(c, "topology.file", e, "a path of at most 1023 bytes",
                                    "%d bytes (with the scenario's folder)", len);
            rc = ifb_topo_load(&sc->topo, full, &s, &be);
        }
        if (rc) {
            snprintf(e->msg, sizeof e->msg, "%s", be.msg);
            return -1;
        }
        break;
    default:
        break;
    }
    if (rc)
        return ifb_cfg_errf(c, "topology.kind", e, "a topology that can be built", "%s", be.msg);
    return 0;
}

/* Routes the graph once the fabric is known, after checking that the tables and the fabric's
 * ports fit (a k=128 fat tree needs 43 GB of routing tables: said here, not as "routing: out
 * of memory"). */
int ifb_sc_route_topology(ifb_scenario *sc, uint64_t limit, ifb_err *e)
{
    if (ifb_scenario_check_graph_memory(sc, limit, e))
        return -1;
    ifb_err be = {{0}};
    progress_state ps;
    progress_on(sc, &ps);
    int rc = ifb_topo_route(&sc->topo, &be);
    progress_off(sc, &ps);
    if (rc)
        return ifb_cfg_errf(sc->cfg, "topology", e, "every host reachable from every other", "%s",
                            be.msg);
    return 0;
}
