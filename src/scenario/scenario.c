/* Scenario loading: topology and fabric sections (see scenario.h, docs/scenario.md). */
#include "scenario/scenario.h"

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

/* Light travels 5 ns per metre in fibre and copper twinax alike, near enough. */
#define PS_PER_MM 5

static const char *const topo_kinds[] = {"single", "leaf-spine", "fat-tree", "rail", "file", NULL};
enum { TK_SINGLE, TK_LEAF_SPINE, TK_FAT_TREE, TK_RAIL, TK_FILE };

static int load_topology_graph(ifb_scenario *sc, ifb_err *e);

static int get_i(ifb_cfg *c, const char *path, int64_t def, int64_t lo, int64_t hi, int *out,
                 ifb_err *e)
{
    int64_t v;
    if (ifb_cfg_get_int(c, path, def, lo, hi, &v, e))
        return -1;
    *out = (int)v;
    return 0;
}

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

static int load_topology(ifb_scenario *sc, ifb_err *e)
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
static int route_topology(ifb_scenario *sc, uint64_t limit, ifb_err *e)
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

static const char *const l2_names[] = {"roce", "infiniband", NULL};
static const char *const sched_names[] = {"strict", "dwrr", NULL};
static const char *const switch_modes[] = {"store-and-forward", "cut-through", NULL};
static const char *const class_names[IFB_TC_COUNT] = {"a2a", "kv", "pp", "coll"};

/* ECN and PFC settings of one queue (fabric.queues[i]): lossless, ecn, ecn_kmin/kmax/pmax.
 * Giving any of kmin/kmax/pmax turns marking on unless `ecn: false` says otherwise. */
static int load_queue_cc(ifb_cfg *c, const char *k, ifb_queue_cfg *qc, int *ecn_set, ifb_err *e)
{
    char kl[80], ke[80], kmin[80], kmax[80], kp[80];
    snprintf(kl, sizeof kl, "%s.lossless", k);
    snprintf(ke, sizeof ke, "%s.ecn", k);
    snprintf(kmin, sizeof kmin, "%s.ecn_kmin", k);
    snprintf(kmax, sizeof kmax, "%s.ecn_kmax", k);
    snprintf(kp, sizeof kp, "%s.ecn_pmax", k);
    bool lossless = qc->lossless, ecn = qc->ecn;
    if (ifb_cfg_get_bool(c, kl, lossless, &lossless, e) ||
        ifb_cfg_get_bytes(c, kmin, qc->ecn_kmin, &qc->ecn_kmin, e) ||
        ifb_cfg_get_bytes(c, kmax, qc->ecn_kmax, &qc->ecn_kmax, e) ||
        ifb_cfg_get_double(c, kp, qc->ecn_pmax, 0, 1, &qc->ecn_pmax, e))
        return -1;
    if (ifb_cfg_has(c, kmin) || ifb_cfg_has(c, kmax) || ifb_cfg_has(c, kp)) {
        ecn = true;
        *ecn_set = 1;
    }
    if (ifb_cfg_has(c, ke)) {
        if (ifb_cfg_get_bool(c, ke, ecn, &ecn, e))
            return -1;
        *ecn_set = 1;
    }
    qc->lossless = lossless;
    qc->ecn = ecn;
    if (ecn && qc->ecn_kmax < qc->ecn_kmin)
        return ifb_cfg_errf(c, kmax, e, "ecn_kmax at least ecn_kmin", "%llu B < %llu B",
                            (unsigned long long)qc->ecn_kmax, (unsigned long long)qc->ecn_kmin);
    if (ecn && qc->ecn_pmax <= 0)
        return ifb_cfg_errf(c, kp, e, "a marking probability above 0", "%g", qc->ecn_pmax);
    return 0;
}

static const char *const mark_points[] = {"dequeue", "enqueue", NULL};

/* fabric.pfc.watchdog: {detect, restore} turns the switches' PFC watchdog on, with SONiC's
 * pfcwd defaults (200 ms each; action drop). */
static int load_pfcwd(ifb_cfg *c, ifb_fabric_cfg *f, bool pfc, ifb_err *e)
{
    if (!pfc)
        return ifb_cfg_errf(c, "fabric.pfc.watchdog", e, "fabric.pfc.enable: true with it",
                            "PFC off");
    if (ifb_cfg_get_time(c, "fabric.pfc.watchdog.detect", 200 * IFB_MS, &f->pfcwd_detect, e) ||
        ifb_cfg_get_time(c, "fabric.pfc.watchdog.restore", 200 * IFB_MS, &f->pfcwd_restore, e))
        return -1;
    if (!f->pfcwd_detect)
        return ifb_cfg_errf(c, "fabric.pfc.watchdog.detect", e, "a detection time above 0", "0");
    /* the deadlock stop must come after the watchdog has had its chance: unless set, it moves */
    if (f->pfc_deadlock_time && f->pfcwd_detect >= f->pfc_deadlock_time &&
        !ifb_cfg_has(c, "fabric.pfc.deadlock_time"))
        f->pfc_deadlock_time = 2 * f->pfcwd_detect;
    if (f->pfc_deadlock_time && f->pfcwd_detect >= f->pfc_deadlock_time)
        return ifb_cfg_errf(c, "fabric.pfc.watchdog.detect", e,
                            "a detection time below fabric.pfc.deadlock_time, which would stop "
                            "the run first",
                            "%.3f ms, deadlock_time %.3f ms", ifb_time_to_s(f->pfcwd_detect) * 1e3,
                            ifb_time_to_s(f->pfc_deadlock_time) * 1e3);
    return 0;
}

/* fabric.ecn, fabric.pfc and fabric.dcqcn, and their consistency with the queues. */
static int load_lossless(ifb_cfg *c, ifb_fabric_cfg *f, const int *ecn_set, ifb_err *e)
{
    int mark = f->ecn_at_enqueue;
    if (ifb_cfg_get_enum(c, "fabric.ecn.mark_at", mark_points, mark, &mark, e))
        return -1;
    f->ecn_at_enqueue = mark;
    /* PFC */
    bool pfc = f->pfc;
    int64_t quanta = f->pfc_quanta;
    if (ifb_cfg_get_bool(c, "fabric.pfc.enable", pfc, &pfc, e) ||
        ifb_cfg_get_bytes(c, "fabric.pfc.reserved", f->pfc_reserved, &f->pfc_reserved, e) ||
        ifb_cfg_get_double(c, "fabric.pfc.alpha", f->pfc_alpha, 1.0 / 128, 128, &f->pfc_alpha, e) ||
        ifb_cfg_get_bytes(c, "fabric.pfc.xoff", f->pfc_xoff, &f->pfc_xoff, e) ||
        ifb_cfg_get_bytes(c, "fabric.pfc.xon", f->pfc_xon, &f->pfc_xon, e) ||
        ifb_cfg_get_bytes(c, "fabric.pfc.xon_offset", f->pfc_xon_offset, &f->pfc_xon_offset, e) ||
        ifb_cfg_get_int(c, "fabric.pfc.quanta", quanta, 1, 65535, &quanta, e) ||
        ifb_cfg_get_time(c, "fabric.pfc.storm_time", f->pfc_storm_time, &f->pfc_storm_time, e) ||
        ifb_cfg_get_time(c, "fabric.pfc.deadlock_time", f->pfc_deadlock_time, &f->pfc_deadlock_time,
                         e))
        return -1;
    if (pfc && f->l2 == IFB_L2_IB)
        return ifb_cfg_errf(c, "fabric.pfc.enable", e,
                            "PFC on a RoCEv2 fabric (InfiniBand is lossless by credit flow "
                            "control, fabric.ib)",
                            "fabric.kind infiniband");
    f->pfc = pfc;
    f->pfc_quanta = (uint16_t)quanta;
    if (ifb_cfg_has(c, "fabric.pfc.headroom")) {
        const char *hs = NULL;
        if (ifb_cfg_type(c, "fabric.pfc.headroom") == IFB_CFG_SCALAR &&
            ifb_cfg_get_string(c, "fabric.pfc.headroom", "auto", &hs, e) == 0 &&
            !strcmp(hs, "auto"))
            f->pfc_headroom = IFB_PFC_AUTO;
        else if (ifb_cfg_get_bytes(c, "fabric.pfc.headroom", 0, &f->pfc_headroom, e))
            return -1;
    }
    uint8_t lossless = 0;
    for (int q = 0; q < IFB_NQUEUES; q++)
        if (f->queue[q].lossless)
            lossless |= (uint8_t)(1u << q);
    int np = -1;
    if (ifb_cfg_seq_len(c, "fabric.pfc.priorities", &np, e))
        return -1;
    f->pfc_prios = 0;
    for (int i = 0; i < np; i++) {
        char k[64];
        int64_t pr;
        snprintf(k, sizeof k, "fabric.pfc.priorities[%d]", i);
        if (ifb_cfg_get_int(c, k, 0, 0, IFB_NQUEUES - 1, &pr, e))
            return -1;
        if (pfc && !(lossless & (1u << pr)))
            return ifb_cfg_errf(c, k, e,
                                "a priority whose queue is lossless (fabric.queues[N]."
                                "lossless: true)",
                                "priority %d, a lossy queue", (int)pr);
        f->pfc_prios |= (uint8_t)(1u << pr);
    }
    if (pfc) {
        if (!lossless)
            return ifb_cfg_errf(c, "fabric.pfc.enable", e,
                                "at least one queue with lossless: true when PFC is on",
                                "no lossless queue");
        for (int q = 0; q < IFB_NQUEUES; q++)
            if (np >= 0 && (lossless & (1u << q)) && !(f->pfc_prios & (1u << q))) {
                char k[64];
                snprintf(k, sizeof k, "fabric.queues[%d].lossless", q);
                return ifb_cfg_errf(c, k, e, "a lossless queue listed in fabric.pfc.priorities",
                                    "queue %d missing from the list", q);
            }
        if (f->pfc_headroom == 0)
            return ifb_cfg_errf(c, "fabric.pfc.headroom", e,
                                "headroom above 0 for the lossless queues (or auto)", "0 B");
        if (f->pfc_xon && !f->pfc_xoff)
            return ifb_cfg_errf(c, "fabric.pfc.xon", e,
                                "fabric.pfc.xoff with it (a static threshold pair)", "xon alone");
        if (f->pfc_xoff && f->pfc_xon > f->pfc_xoff)
            return ifb_cfg_errf(c, "fabric.pfc.xon", e, "an XON threshold at or below xoff",
                                "%llu B above xoff %llu B", (unsigned long long)f->pfc_xon,
                                (unsigned long long)f->pfc_xoff);
    }
    if (ifb_cfg_has(c, "fabric.pfc.watchdog") && load_pfcwd(c, f, pfc, e))
        return -1;
    /* DCQCN: a profile, then overrides key by key */
    bool dcqcn = f->dcqcn;
    int prof = IFB_DCQCN_NVIDIA_CX;
    if (ifb_cfg_get_bool(c, "fabric.dcqcn.enable", dcqcn, &dcqcn, e) ||
        ifb_cfg_get_enum(c, "fabric.dcqcn.profile", ifb_dcqcn_profile_names, prof, &prof, e))
        return -1;
    /* CNPs are RoCEv2 packets on an Ethernet priority (6 on ConnectX): on InfiniBand they
     * would go to a VL that may not exist, and IB has its own congestion control (FECN/BECN,
     * IBA Annex A10) */
    if (dcqcn && f->l2 == IFB_L2_IB)
        return ifb_cfg_errf(c, "fabric.dcqcn.enable", e,
                            "DCQCN on a RoCEv2 fabric (InfiniBand has its own congestion "
                            "control: FECN/BECN)",
                            "fabric.kind infiniband");
    f->dcqcn = dcqcn;
    ifb_dcqcn_params *p = &f->dcqcn_p;
    ifb_dcqcn_profile(prof, p);
    int64_t dscp = p->cnp_dscp, prio = p->cnp_prio, F = p->F;
    bool aoc = p->alpha_on_cnp, scale = p->scale_ai, clamp = p->clamp_target;
    if (ifb_cfg_get_time(c, "fabric.dcqcn.cnp_interval", p->cnp_interval, &p->cnp_interval, e) ||
        ifb_cfg_get_int(c, "fabric.dcqcn.cnp_dscp", dscp, 0, 63, &dscp, e) ||
        ifb_cfg_get_int(c, "fabric.dcqcn.cnp_priority", prio, 0, IFB_NQUEUES - 1, &prio, e) ||
        ifb_cfg_get_double(c, "fabric.dcqcn.g", p->g, 1e-6, 0.999999, &p->g, e) ||
        ifb_cfg_get_double(c, "fabric.dcqcn.alpha_init", p->alpha_init, 0, 1, &p->alpha_init, e) ||
        ifb_cfg_get_time(c, "fabric.dcqcn.alpha_period", p->alpha_period, &p->alpha_period, e) ||
        ifb_cfg_get_bool(c, "fabric.dcqcn.alpha_on_cnp", aoc, &aoc, e) ||
        ifb_cfg_get_time(c, "fabric.dcqcn.rate_decrease_period", p->dec_period, &p->dec_period,
                         e) ||
        ifb_cfg_get_time(c, "fabric.dcqcn.rate_increase_timer", p->inc_timer, &p->inc_timer, e) ||
        ifb_cfg_get_bytes(c, "fabric.dcqcn.byte_counter", p->inc_bytes, &p->inc_bytes, e) ||
        ifb_cfg_get_int(c, "fabric.dcqcn.fast_recovery", F, 0, 1000, &F, e) ||
        ifb_cfg_get_rate(c, "fabric.dcqcn.rate_ai", p->rate_ai, &p->rate_ai, e) ||
        ifb_cfg_get_rate(c, "fabric.dcqcn.rate_hai", p->rate_hai, &p->rate_hai, e) ||
        ifb_cfg_get_bool(c, "fabric.dcqcn.rate_scaled", scale, &scale, e) ||
        ifb_cfg_get_rate(c, "fabric.dcqcn.min_rate", p->min_rate, &p->min_rate, e) ||
        ifb_cfg_get_double(c, "fabric.dcqcn.max_decrease", p->max_dec, 0.001, 1, &p->max_dec, e) ||
        ifb_cfg_get_double(c, "fabric.dcqcn.first_cnp_rate", p->first_rate, 0, 1, &p->first_rate,
                           e) ||
        ifb_cfg_get_bool(c, "fabric.dcqcn.clamp_target", clamp, &clamp, e) ||
        ifb_cfg_get_time(c, "output.rate_sample_interval", f->rate_sample_interval,
                         &f->rate_sample_interval, e))
        return -1;
    p->cnp_dscp = (uint8_t)dscp;
    p->cnp_prio = (uint8_t)prio;
    p->F = (uint32_t)F;
    p->alpha_on_cnp = aoc;
    p->scale_ai = scale;
    p->clamp_target = clamp;
    if (!p->alpha_period)
        return ifb_cfg_errf(c, "fabric.dcqcn.alpha_period", e, "a period above 0", "0");
    if (!p->inc_timer)
        return ifb_cfg_errf(c, "fabric.dcqcn.rate_increase_timer", e, "a period above 0", "0");
    if (dcqcn && pfc && (f->pfc_prios ? f->pfc_prios : lossless) & (1u << p->cnp_prio))
        return ifb_cfg_errf(c, "fabric.dcqcn.cnp_priority", e,
                            "a lossy strict-priority queue for CNPs", "lossless priority %u",
                            p->cnp_prio);
    /* DCQCN needs marks: queues carrying a workload class mark unless told otherwise */
    if (dcqcn)
        for (int t = 0; t < IFB_TC_COUNT; t++)
            if (!ecn_set[f->tclass[t].queue])
                f->queue[f->tclass[t].queue].ecn = 1;
    return 0;
}

/* InfiniBand keys: VLs, per-VL buffer (credits), SL-to-VL table, VL arbitration tables. */
static int load_ib(ifb_cfg *c, ifb_fabric_cfg *f, ifb_err *e)
{
    int64_t vls;
    if (ifb_cfg_get_int(c, "fabric.ib.vls", f->ib_vls, 1, IFB_IB_MAX_VLS, &vls, e) ||
        ifb_cfg_get_bytes(c, "fabric.ib.vl_buffer", f->ib_vl_buffer, &f->ib_vl_buffer, e))
        return -1;
    f->ib_vls = (int)vls;
    for (int i = 0; i < 16; i++)
        f->ib_sl2vl[i] = (uint8_t)(i % f->ib_vls);
    ifb_vlarb_cfg_default(&f->ib_vlarb, f->ib_vls);
    int n = -1;
    if (ifb_cfg_seq_len(c, "fabric.ib.sl2vl", &n, e))
        return -1;
    if (n > 16)
        return ifb_cfg_errf(c, "fabric.ib.sl2vl", e, "at most 16 entries (SL 0..15)", "%d", n);
    for (int i = 0; i < n; i++) {
        char k[64];
        int64_t vl;
        snprintf(k, sizeof k, "fabric.ib.sl2vl[%d]", i);
        if (ifb_cfg_get_int(c, k, 0, 0, 15, &vl, e))
            return -1;
        if (vl >= f->ib_vls)
            return ifb_cfg_errf(c, k, e, "a VL that exists (fabric.ib.vls)", "VL %lld",
                                (long long)vl);
        f->ib_sl2vl[i] = (uint8_t)vl;
    }
    /* VL arbitration: lists of "VL:WEIGHT" (weight in 64-byte units) */
    static const char *const tabs[2] = {"fabric.ib.vlarb_high", "fabric.ib.vlarb_low"};
    for (int t = 0; t < 2; t++) {
        if (ifb_cfg_seq_len(c, tabs[t], &n, e))
            return -1;
        if (n < 0)
            continue;
        if (n > IFB_IB_VLARB_ENTRIES)
            return ifb_cfg_errf(c, tabs[t], e, "at most 64 entries", "%d", n);
        ifb_vlarb_entry *ent = t ? f->ib_vlarb.low : f->ib_vlarb.high;
        for (int i = 0; i < n; i++) {
            char k[80];
            const char *v;
            snprintf(k, sizeof k, "%s[%d]", tabs[t], i);
            if (ifb_cfg_get_string(c, k, "", &v, e))
                return -1;
            unsigned vl, w;
            char extra;
            if (sscanf(v, "%u:%u%c", &vl, &w, &extra) != 2 || vl >= (unsigned)f->ib_vls || w > 255)
                return ifb_cfg_errf(c, k, e, "VL:WEIGHT with an existing VL and weight 0..255",
                                    "'%s'", v);
            ent[i] = (ifb_vlarb_entry){(uint8_t)vl, (uint8_t)w};
        }
        if (t)
            f->ib_vlarb.nlow = n;
        else
            f->ib_vlarb.nhigh = n;
    }
    int64_t hl;
    if (ifb_cfg_get_int(c, "fabric.ib.high_limit", f->ib_vlarb.high_limit, 0, 255, &hl, e) ||
        ifb_ib_cfg_load(c, f, e))
        return -1;
    f->ib_vlarb.high_limit = (uint8_t)hl;
    if (f->l2 == IFB_L2_IB) {
        static const char *const cname[IFB_TC_COUNT] = {"a2a", "kv", "pp", "coll"};
        for (int t = 0; t < IFB_TC_COUNT; t++)
            if (f->ib_sl2vl[f->tclass[t].sl] >= f->ib_vls) {
                char k[64];
                snprintf(k, sizeof k, "fabric.classes.%s.sl", cname[t]);
                return ifb_cfg_errf(c, k, e, "an SL mapped to an existing VL", "SL %u",
                                    f->tclass[t].sl);
            }
        if (f->ib_vl_buffer / IFB_IB_CREDIT_BYTES <
            ifb_ib_blocks(IFB_IB_LRH + IFB_BTH + IFB_RETH + f->mtu + 3 + IFB_ICRC + IFB_IB_VCRC))
            return ifb_cfg_errf(c, "fabric.ib.vl_buffer", e,
                                "credits for at least one MTU-sized packet", "%llu B",
                                (unsigned long long)f->ib_vl_buffer);
        if (f->ctrl_queue >= f->ib_vls)
            return ifb_cfg_errf(c, "fabric.ctrl_queue", e, "a VL that exists for ACKs", "%u",
                                f->ctrl_queue);
    }
    return 0;
}

static int get_u32_bytes(ifb_cfg *c, const char *path, uint32_t *v, ifb_err *e)
{
    uint64_t b;
    if (ifb_cfg_get_bytes(c, path, *v, &b, e))
        return -1;
    if (b == 0 || b > UINT32_MAX)
        return ifb_cfg_errf(c, path, e, "a size from 1B to 4GiB", "%llu B", (unsigned long long)b);
    *v = (uint32_t)b;
    return 0;
}

static int get_u32_int(ifb_cfg *c, const char *path, uint32_t *v, ifb_err *e)
{
    int64_t n;
    if (ifb_cfg_get_int(c, path, *v, 0, 1 << 16, &n, e))
        return -1;
    *v = (uint32_t)n;
    return 0;
}

/* fabric.int: INT-MD (net/switch/int.h). Checked here so a message names the file and line. */
static int load_int(ifb_cfg *c, ifb_fabric_cfg *f, ifb_err *e)
{
    ifb_int_cfg *ic = &f->intc;
    bool on = ic->on, src_nic = ic->source_nic, sink_nic = ic->sink_nic;
    int64_t hops, every, pq;
    uint64_t mtu = ic->eth_mtu;
    static const char *const ends[] = {"switch", "nic", NULL};
    int src = src_nic, snk = sink_nic;
    if (ifb_cfg_get_bool(c, "fabric.int.enable", on, &on, e) ||
        ifb_cfg_get_int(c, "fabric.int.max_hops", ic->max_hops, INT64_MIN, INT64_MAX, &hops, e) ||
        ifb_cfg_get_enum(c, "fabric.int.source", ends, src, &src, e) ||
        ifb_cfg_get_enum(c, "fabric.int.sink", ends, snk, &snk, e) ||
        ifb_cfg_get_int(c, "fabric.int.report_every", ic->report_every, 1, 1 << 30, &every, e) ||
        ifb_cfg_get_time(c, "fabric.int.util_interval", ic->util_interval, &ic->util_interval, e) ||
        ifb_cfg_get_time(c, "fabric.int.feedback_age", ic->feedback_age, &ic->feedback_age, e) ||
        ifb_cfg_get_bytes(c, "fabric.int.eth_mtu", mtu, &mtu, e) ||
        ifb_cfg_get_time(c, "fabric.int.probe_interval", ic->probe_interval, &ic->probe_interval,
                         e) ||
        ifb_cfg_get_int(c, "fabric.int.probe_queue", ic->probe_queue, -1, IFB_NQUEUES - 1, &pq, e))
        return -1;
    ic->probe_queue = (int8_t)pq;
    /* INT-MD's shim length is 8 bits of 4-byte words: the 3-word metadata header and 7-word hop
     * records leave room for 36 hops; the remaining hop count (8 bits) allows more */
    if (hops > 36)
        return ifb_cfg_errf(c, "fabric.int.max_hops", e,
                            "at most 36 hops (INT-MD's 8-bit shim length in words holds 36 "
                            "7-word records)",
                            "%lld", (long long)hops);
    if (hops < 0 || hops > IFB_INT_MAX_HOPS)
        return ifb_cfg_errf(c, "fabric.int.max_hops", e,
                            "0 (the topology's longest path) or 1 to 8 hops (this simulator's "
                            "limit)",
                            "%lld", (long long)hops);
    if (!ic->util_interval)
        return ifb_cfg_errf(c, "fabric.int.util_interval", e, "a period above 0", "0");
    int nq = -1;
    if (ifb_cfg_seq_len(c, "fabric.int.queues", &nq, e))
        return -1;
    if (nq >= 0) {
        ic->queues = 0;
        for (int i = 0; i < nq; i++) {
            char k[64];
            int64_t q;
            snprintf(k, sizeof k, "fabric.int.queues[%d]", i);
            if (ifb_cfg_get_int(c, k, 0, 0, IFB_NQUEUES - 1, &q, e))
                return -1;
            ic->queues |= (uint8_t)(1u << q);
        }
    }
    ic->on = on;
    ic->max_hops = (uint8_t)hops;
    ic->source_nic = (uint8_t)src;
    ic->sink_nic = (uint8_t)snk;
    ic->report_every = (uint32_t)every;
    ic->eth_mtu = mtu > UINT32_MAX ? UINT32_MAX : (uint32_t)mtu;
    for (int q = 0; f->lb && !on && q < IFB_NQUEUES; q++)
        if (f->lb->q[q].mode == IFB_LBA_INT_ADAPTIVE)
            return ifb_cfg_errf(c, "fabric.load_balancing", e,
                                "int_adaptive with INT on (fabric.int.enable: true)",
                                "int_adaptive on queue %d with INT off", q);
    if (on && f->l2 == IFB_L2_IB)
        return ifb_cfg_errf(c, "fabric.int.enable", e,
                            "INT on a RoCEv2 fabric (INT-MD over UDP has no InfiniBand encoding)",
                            "fabric.kind infiniband");
    uint32_t frame = IFB_ETH_HDR + (f->vlan ? IFB_VLAN_TAG : 0) + IFB_IPV4_HDR + IFB_UDP_HDR +
                     IFB_BTH + IFB_RETH + f->mtu + 3 + IFB_ICRC + IFB_FCS + IFB_INT_SHIM +
                     IFB_INT_MD_HDR +
                     (uint32_t)(hops ? hops : IFB_INT_MAX_HOPS) * IFB_INT_HOP_BYTES;
    if (on && frame > ic->eth_mtu)
        return ifb_cfg_errf(c, "fabric.int.eth_mtu", e,
                            "room for an MTU packet with a full INT stack",
                            "%u B, but fabric.mtu %u B with %lld hop records makes %u B frames",
                            ic->eth_mtu, f->mtu, (long long)hops, frame);
    return 0;
}

/* A fabric kind brings its own defaults; a key the scenario sets wins over them. InfiniBand:
 * static routing by linear forwarding tables (OpenSM lays them out destination modulo the group,
 * d-mod-k), the switch latency of the reference IB switch, ACKs on VL 0. Both kinds default to
 * 4096 B, the largest IB path MTU and what ConnectX uses for RoCE. */
static void kind_defaults_ib(ifb_fabric_cfg *f, int *lb_mode)
{
    *lb_mode = IFB_LBA_DMODK;
    /* ASSUMPTION: NVIDIA publishes no port-to-port latency for the QM9700 (Quantum-2);
     * third-party pages say < 150 ns, ~330 ns and < 400 ns (hardware.md): 300 ns, swept in
     * docs/reference-experiment.md */
    f->switch_latency = 300 * IFB_NS;
    f->ctrl_queue = 0; /* ACKs on VL 0 */
    f->mtu = 4096;
}

/* InfiniBand forwards by destination LID: there is no 5-tuple (no IP, no UDP source port) for
 * ecmp, wcmp or flowlet hashing to read. Only the modes IB switches have are accepted: dmodk
 * (the LFT), and the per-packet choices that stand for adaptive routing (spray, adaptive). */
static int check_ib_routing(ifb_cfg *c, const ifb_fabric_cfg *f, ifb_err *e)
{
    for (int t = 0; f->l2 != IFB_L2_IB && t < IFB_TC_COUNT; t++) {
        const ifb_lb_class *cl = &f->lb->cls[t];
        int m = cl->has_mode ? cl->q.mode : f->lb->q[f->tclass[t].queue].mode;
        /* dmodk stays: on Ethernet it stands for static deterministic routing (policy routes
         * per destination, no hash) */
        if (m == IFB_LBA_AR)
            return ifb_cfg_errf(c, cl->has_mode ? cl->key : "fabric.load_balancing", e,
                                "a RoCE mode (ar is NVIDIA's InfiniBand adaptive routing; "
                                "RoCE's adaptive routing is adaptive or int_adaptive)",
                                "ar for class %s", class_names[t]);
    }
    if (f->l2 != IFB_L2_IB)
        return 0;
    for (int t = 0; t < IFB_TC_COUNT; t++) {
        int q = f->ib_sl2vl[f->tclass[t].sl & 15];
        const ifb_lb_class *cl = &f->lb->cls[t];
        int m = cl->has_mode ? cl->q.mode : f->lb->q[q].mode;
        if (m == IFB_LBA_ECMP || m == IFB_LBA_WCMP || m == IFB_LBA_FLOWLET)
            return ifb_cfg_errf(c, "fabric.load_balancing", e,
                                "a mode InfiniBand switches have: dmodk (linear forwarding "
                                "tables, the default), ar (adaptive routing, with fabric.nic.ooo), "
                                "or the Ethernet per-packet modes spray and adaptive",
                                "%s for class %s (VL %d): IB has no 5-tuple to hash",
                                ifb_lb_algo_name(m), class_names[t], q);
    }
    return 0;
}

static int load_fabric(ifb_scenario *sc, ifb_err *e)
{
    ifb_cfg *c = sc->cfg;
    ifb_fabric_cfg *f = &sc->fab;
    ifb_fabric_cfg_default(f);
    int l2 = (int)f->l2, ct = f->cut_through;
    bool vlan = f->vlan;
    int64_t qps, ackev, win, ctrl, oow;
    bool ooo = f->ooo;
    if (ifb_cfg_get_enum(c, "fabric.kind", l2_names, l2, &l2, e))
        return -1;
    /* the chosen kind's own section (fabric.roce, fabric.infiniband) fills in what the fabric
     * section leaves out; the other kind's is not read */
    char own[32];
    snprintf(own, sizeof own, "fabric.%s", l2_names[l2]);
    if (ifb_cfg_type(c, own) != IFB_CFG_ABSENT && ifb_cfg_type(c, "fabric") == IFB_CFG_MAP) {
        char kk[48];
        snprintf(kk, sizeof kk, "%s.kind", own);
        if (ifb_cfg_has(c, kk))
            return ifb_cfg_errf(c, kk, e, "the kind in fabric.kind, not in a kind's own section",
                                "%s", kk);
        if (ifb_cfg_merge_missing(c, own, "fabric", e))
            return -1;
    }
    for (int k = 0; l2_names[k]; k++) {
        snprintf(own, sizeof own, "fabric.%s", l2_names[k]);
        ifb_cfg_mark_used(c, own);
    }
    int lb_default = IFB_LBA_ECMP;
    if (l2 == IFB_L2_IB)
        kind_defaults_ib(f, &lb_default);
    uint64_t mtu = f->mtu;
    if (ifb_cfg_get_bytes(c, "fabric.mtu", mtu, &mtu, e) ||
        ifb_cfg_get_bool(c, "fabric.vlan", vlan, &vlan, e) ||
        ifb_cfg_get_time(c, "fabric.switch.latency", f->switch_latency, &f->switch_latency, e) ||
        ifb_cfg_get_enum(c, "fabric.switch.mode", switch_modes, ct, &ct, e) ||
        ifb_cfg_get_bytes(c, "fabric.switch.buffer", f->switch_buffer, &f->switch_buffer, e) ||
        ifb_cfg_get_double(c, "fabric.switch.alpha", f->dt_alpha, 1.0 / 128, 128, &f->dt_alpha,
                           e) ||
        ifb_cfg_get_time(c, "fabric.nic.tx_latency", f->nic_tx_latency, &f->nic_tx_latency, e) ||
        ifb_cfg_get_time(c, "fabric.nic.rx_latency", f->nic_rx_latency, &f->nic_rx_latency, e) ||
        ifb_cfg_get_int(c, "fabric.nic.qps_per_conn", f->qps_per_conn, 1, 256, &qps, e) ||
        ifb_cfg_get_int(c, "fabric.nic.ack_every", f->ack_every, 1, 1 << 16, &ackev, e) ||
        ifb_cfg_get_time(c, "fabric.nic.rto", f->rto, &f->rto, e) ||
        ifb_cfg_get_int(c, "fabric.nic.window", f->window, 0, 1 << 24, &win, e) ||
        ifb_cfg_get_bool(c, "fabric.nic.ooo", ooo, &ooo, e) ||
        ifb_cfg_get_int(c, "fabric.nic.ooo_window", f->ooo_window, 64, 1 << 20, &oow, e) ||
        ifb_lb_cfg_load(c, "fabric.load_balancing", lb_default, &sc->lb, e) ||
        ifb_cfg_get_int(c, "fabric.ctrl_queue", f->ctrl_queue, 0, IFB_NQUEUES - 1, &ctrl, e) ||
        ifb_cfg_get_time(c, "output.sample_interval", f->sample_interval, &f->sample_interval, e) ||
        get_u32_bytes(c, "output.queue_bin", &f->queue_bin, e) ||
        get_u32_int(c, "output.queue_bins", &f->queue_bins, e))
        return -1;
    if (ifb_cfg_has(c, "fabric.nic.ooo_nak_gap"))
        return ifb_cfg_errf(c, "fabric.nic.ooo_nak_gap", e,
                            "fabric.nic.reorder_window, a time (a hole is a loss once open that "
                            "long; a count of later packets is not a reordering bound)",
                            "ooo_nak_gap, replaced");
    if (ifb_cfg_has(c, "fabric.nic.reorder_window")) {
        const char *rw = NULL;
        if (ifb_cfg_type(c, "fabric.nic.reorder_window") == IFB_CFG_SCALAR &&
            ifb_cfg_get_string(c, "fabric.nic.reorder_window", "auto", &rw, e) == 0 &&
            !strcmp(rw, "auto"))
            f->reorder_window = IFB_REORDER_AUTO;
        else if (ifb_cfg_get_time(c, "fabric.nic.reorder_window", 0, &f->reorder_window, e))
            return -1;
        else if (f->reorder_window == IFB_REORDER_AUTO)
            f->reorder_window--; /* a time that large is "never", not "auto" */
    }
    if (mtu < 256 || mtu > 9000)
        return ifb_cfg_errf(c, "fabric.mtu", e, "a payload MTU between 256B and 9000B", "%llu B",
                            (unsigned long long)mtu);
    if (l2 == IFB_L2_IB && (mtu > 4096 || (mtu & (mtu - 1))))
        return ifb_cfg_errf(c, "fabric.mtu", e,
                            "an InfiniBand MTU: 256B, 512B, 1024B, 2048B or 4096B (IBA PMTU)",
                            "%llu B", (unsigned long long)mtu);
    if (oow % 64)
        return ifb_cfg_errf(c, "fabric.nic.ooo_window", e, "a multiple of 64 packets", "%lld",
                            (long long)oow);
    f->ooo = ooo;
    f->ooo_window = (uint32_t)oow;
    f->l2 = (ifb_l2)l2;
    f->mtu = (uint32_t)mtu;
    f->vlan = vlan;
    f->cut_through = ct;
    f->lb = &sc->lb;
    f->qps_per_conn = (int)qps;
    f->ack_every = (uint32_t)ackev;
    f->window = (uint32_t)win;
    f->ctrl_queue = (uint8_t)ctrl;
    if (f->switch_buffer == 0)
        return ifb_cfg_errf(c, "fabric.switch.buffer", e, "a buffer size above zero", "0");
    int ecn_set[IFB_NQUEUES] = {0};
    for (int q = 0; q < IFB_NQUEUES; q++) {
        char k[64];
        snprintf(k, sizeof k, "fabric.queues[%d]", q);
        if (!ifb_cfg_has(c, k))
            continue;
        char ks[80], kw[80];
        snprintf(ks, sizeof ks, "%s.sched", k);
        snprintf(kw, sizeof kw, "%s.weight", k);
        int sched = f->queue[q].sched;
        int64_t w = f->queue[q].weight;
        if (ifb_cfg_get_enum(c, ks, sched_names, sched, &sched, e) ||
            ifb_cfg_get_int(c, kw, w, 1, 1000, &w, e))
            return -1;
        f->queue[q].sched = (uint8_t)sched;
        f->queue[q].weight = (uint32_t)w;
        if (load_queue_cc(c, k, &f->queue[q], &ecn_set[q], e))
            return -1;
    }
    int nq = -1;
    if (ifb_cfg_seq_len(c, "fabric.queues", &nq, e))
        return -1;
    if (nq > IFB_NQUEUES)
        return ifb_cfg_errf(c, "fabric.queues", e, "at most 8 queues", "%d", nq);
    for (int t = 0; t < IFB_TC_COUNT; t++) {
        char kd[64], kq[64];
        snprintf(kd, sizeof kd, "fabric.classes.%s.dscp", class_names[t]);
        snprintf(kq, sizeof kq, "fabric.classes.%s.queue", class_names[t]);
        char ksl[64];
        snprintf(ksl, sizeof ksl, "fabric.classes.%s.sl", class_names[t]);
        char ko[64];
        snprintf(ko, sizeof ko, "fabric.classes.%s.ooo", class_names[t]);
        int64_t dscp = f->tclass[t].dscp, q = f->tclass[t].queue, sl;
        bool cooo = ooo;
        if (ifb_cfg_get_int(c, kd, dscp, 0, 63, &dscp, e) ||
            ifb_cfg_get_int(c, kq, q, 0, IFB_NQUEUES - 1, &q, e) ||
            ifb_cfg_get_int(c, ksl, q, 0, 15, &sl, e) || ifb_cfg_get_bool(c, ko, ooo, &cooo, e))
            return -1;
        f->tclass[t] = (ifb_class_cfg){.dscp = (uint8_t)dscp,
                                       .queue = (uint8_t)q,
                                       .sl = (uint8_t)sl,
                                       .ooo = (uint8_t)(!ifb_cfg_has(c, ko) ? IFB_OOO_INHERIT
                                                        : cooo              ? IFB_OOO_ON
                                                                            : IFB_OOO_OFF)};
    }
    if (load_ib(c, f, e) || load_int(c, f, e) || check_ib_routing(c, f, e))
        return -1;
    return load_lossless(c, f, ecn_set, e);
}

static int find_port(const ifb_topo *t, const char *spec)
{
    char name[64];
    const char *colon = strchr(spec, ':');
    size_t len = colon ? (size_t)(colon - spec) : strlen(spec);
    if (len >= sizeof name)
        return -1;
    memcpy(name, spec, len);
    name[len] = '\0';
    int node = ifb_topo_find_node(t, name);
    if (node < 0)
        return -1;
    int port = 0;
    if (colon) {
        char *end;
        long v = strtol(colon + 1, &end, 10);
        if (*end || end == colon + 1 || v < 0 || v >= t->nodes[node].nports)
            return -1;
        port = (int)v;
    }
    return t->nodes[node].first_port + port;
}

static int load_output(ifb_scenario *sc, ifb_err *e)
{
    ifb_cfg *c = sc->cfg;
    const char *pf = NULL;
    if (ifb_cfg_get_string(c, "output.pcap.file", NULL, &pf, e))
        return -1;
    int n = -1;
    if (ifb_cfg_seq_len(c, "output.pcap.ports", &n, e))
        return -1;
    if (n > IFB_MAX_CAPTURE)
        return ifb_cfg_errf(c, "output.pcap.ports", e, "at most 16 ports", "%d", n);
    for (int i = 0; i < n; i++) {
        char k[64];
        const char *spec;
        snprintf(k, sizeof k, "output.pcap.ports[%d]", i);
        if (ifb_cfg_get_string(c, k, "", &spec, e))
            return -1;
        int p = find_port(&sc->topo, spec);
        if (p < 0)
            return ifb_cfg_errf(c, k, e, "a port as NODE or NODE:PORT of this topology", "'%s'",
                                spec);
        sc->capture_ports[sc->ncapture++] = p;
    }
    if (pf && strlen(pf) >= sizeof sc->pcap_file)
        return ifb_cfg_errf(c, "output.pcap.file", e, "a path of at most 511 bytes", "%zu bytes",
                            strlen(pf));
    if (pf)
        snprintf(sc->pcap_file, sizeof sc->pcap_file, "%s", pf);
    if (n > 0 && !pf)
        return ifb_cfg_errf(c, "output.pcap", e, "output.pcap.file with the ports", "none");
    /* a file and nothing to capture would be written empty (or not at all): say so */
    if (pf && n <= 0)
        return ifb_cfg_errf(c, "output.pcap.file", e,
                            "output.pcap.ports with it: the ports to capture, NODE or NODE:PORT",
                            "%s", n == 0 ? "an empty list" : "no ports");
    return 0;
}

/* faults[i]: {pfc_storm: HOST, priority: P, start: T, duration: D} — the NIC of HOST sends PFC
 * XOFF on priority P toward its switch from T for D (net/switch/pfc.c). */
static int load_pfc_storm(ifb_scenario *sc, int i, int nfaults, ifb_err *e)
{
    ifb_cfg *c = sc->cfg;
    ifb_fabric_cfg *f = &sc->fab;
    char kh[64], kp[64], ks[64], kd[64];
    snprintf(kh, sizeof kh, "faults[%d].pfc_storm", i);
    snprintf(kp, sizeof kp, "faults[%d].priority", i);
    snprintf(ks, sizeof ks, "faults[%d].start", i);
    snprintf(kd, sizeof kd, "faults[%d].duration", i);
    const char *host = NULL;
    int64_t prio;
    ifb_time start, dur;
    if (ifb_cfg_get_string(c, kh, NULL, &host, e) ||
        ifb_cfg_get_int(c, kp, 3, 0, IFB_NQUEUES - 1, &prio, e) ||
        ifb_cfg_get_time(c, ks, 0, &start, e) || ifb_cfg_get_time(c, kd, 0, &dur, e))
        return -1;
    int node = host ? ifb_topo_find_node(&sc->topo, host) : -1;
    if (node < 0 || sc->topo.nodes[node].kind == IFB_NODE_SWITCH)
        return ifb_cfg_errf(c, kh, e, "the name of a host (a NIC) in the topology", "'%s'%s",
                            host ? host : "", node >= 0 ? ", a switch" : "");
    uint8_t lossless = 0;
    for (int q = 0; q < IFB_NQUEUES; q++)
        lossless |= (uint8_t)(f->queue[q].lossless << q);
    uint8_t mask = f->pfc ? (f->pfc_prios ? f->pfc_prios : lossless) : 0;
    if (!(mask & (1u << prio)))
        return ifb_cfg_errf(c, kp, e,
                            "a priority PFC acts on (fabric.pfc.enable and a lossless queue)",
                            "priority %d%s", (int)prio, f->pfc ? "" : " with PFC off");
    if (!dur)
        return ifb_cfg_errf(c, kd, e, "a storm duration above 0", "0");
    if (!f->pfc_storms) {
        f->pfc_storms = ifb_xcalloc((size_t)nfaults, sizeof *f->pfc_storms, "the PFC storms");
    }
    ifb_pfc_storm *st = (ifb_pfc_storm *)&f->pfc_storms[f->npfc_storms++];
    *st = (ifb_pfc_storm){sc->topo.nodes[node].host, (int)prio, start, dur};
    return 0;
}

/* faults: [{link: NODE[:PORT], loss: P}] — frames crossing that link in either direction are
 * corrupted with probability P (FCS errors); the transport recovers them. */
static int load_faults(ifb_scenario *sc, ifb_err *e)
{
    ifb_cfg *c = sc->cfg;
    int n = -1;
    if (ifb_cfg_seq_len(c, "faults", &n, e))
        return -1;
    for (int i = 0; i < n; i++) {
        char kl[64], kp[64];
        snprintf(kl, sizeof kl, "faults[%d].pfc_storm", i);
        if (ifb_cfg_has(c, kl)) {
            if (load_pfc_storm(sc, i, n, e))
                return -1;
            continue;
        }
        snprintf(kl, sizeof kl, "faults[%d].link", i);
        snprintf(kp, sizeof kp, "faults[%d].loss", i);
        const char *spec;
        double loss;
        if (ifb_cfg_get_string(c, kl, NULL, &spec, e) ||
            ifb_cfg_get_double(c, kp, 0, 0, 1, &loss, e))
            return -1;
        if (!spec)
            return ifb_cfg_errf(c, kl, e, "the link as NODE or NODE:PORT", "none");
        int p = find_port(&sc->topo, spec);
        if (p < 0 || sc->topo.ports[p].link < 0)
            return ifb_cfg_errf(c, kl, e, "a connected port as NODE or NODE:PORT", "'%s'", spec);
        if (!sc->port_loss) {
            sc->port_loss =
                ifb_xcalloc((size_t)sc->topo.nports, sizeof *sc->port_loss, "the port loss rates");
        }
        const ifb_topo_port *tp = &sc->topo.ports[p];
        sc->port_loss[p] = loss;
        sc->port_loss[sc->topo.nodes[tp->peer_node].first_port + tp->peer_port] = loss;
    }
    sc->fab.port_loss = sc->port_loss;
    return 0;
}

/* failures: [{link: NODE[:PORT] | switch: NAME, down: T, up: T, flap: {period, down_for,
 * count}}] plus fabric.failure_detection, fabric.nic.retry_cnt and fabric.goodput_bin
 * (net/fail/failure.h). */
static int load_failures(ifb_scenario *sc, ifb_err *e)
{
    ifb_cfg *c = sc->cfg;
    ifb_fabric_cfg *f = &sc->fab;
    int64_t retry;
    if (ifb_cfg_get_time(c, "fabric.failure_detection", f->fail_detection, &f->fail_detection, e) ||
        /* 7: the largest the 3-bit IB field takes, and what NCCL sets (NCCL_IB_RETRY_CNT) */
        ifb_cfg_get_int(c, "fabric.nic.retry_cnt", 7, 0, 7, &retry, e) ||
        ifb_cfg_get_time(c, "fabric.goodput_bin", f->goodput_bin, &f->goodput_bin, e))
        return -1;
    f->retry_cnt = (uint32_t)retry;
    int n = -1;
    if (ifb_cfg_seq_len(c, "failures", &n, e))
        return -1;
    if (n <= 0)
        return 0;
    sc->failures = ifb_xcalloc((size_t)n, sizeof *sc->failures, "the failure schedule");
    for (int i = 0; i < n; i++) {
        char kl[64], ks[64], kd[64], ku[64], kf[64], kp[80], kdf[80], kc[80];
        snprintf(kl, sizeof kl, "failures[%d].link", i);
        snprintf(ks, sizeof ks, "failures[%d].switch", i);
        snprintf(kd, sizeof kd, "failures[%d].down", i);
        snprintf(ku, sizeof ku, "failures[%d].up", i);
        snprintf(kf, sizeof kf, "failures[%d].flap", i);
        snprintf(kp, sizeof kp, "failures[%d].flap.period", i);
        snprintf(kdf, sizeof kdf, "failures[%d].flap.down_for", i);
        snprintf(kc, sizeof kc, "failures[%d].flap.count", i);
        ifb_failure *x = &sc->failures[i];
        *x = (ifb_failure){.port = -1, .sw = -1, .up = IFB_TIME_NEVER};
        const char *link = NULL, *swn = NULL;
        int64_t count = 0;
        if (ifb_cfg_get_string(c, kl, NULL, &link, e) || ifb_cfg_get_string(c, ks, NULL, &swn, e))
            return -1;
        if (!link == !swn)
            return ifb_cfg_errf(c, link ? ks : kl, e,
                                "exactly one of link (NODE or NODE:PORT) and switch (NAME)",
                                link ? "both" : "neither");
        if (link) {
            x->port = find_port(&sc->topo, link);
            if (x->port < 0 || sc->topo.ports[x->port].link < 0)
                return ifb_cfg_errf(c, kl, e, "a connected port as NODE or NODE:PORT", "'%s'",
                                    link);
        } else {
            x->sw = ifb_topo_find_node(&sc->topo, swn);
            if (x->sw < 0 || sc->topo.nodes[x->sw].kind != IFB_NODE_SWITCH)
                return ifb_cfg_errf(c, ks, e, "the name of a switch of the topology", "'%s'", swn);
        }
        if (!ifb_cfg_has(c, kd))
            return ifb_cfg_errf(c, kd, e, "the time the link or switch goes down", "none");
        if (ifb_cfg_get_time(c, kd, 0, &x->down, e))
            return -1;
        if (ifb_cfg_has(c, kf)) {
            if (ifb_cfg_has(c, ku))
                return ifb_cfg_errf(c, ku, e, "either up or flap, not both", "both");
            if (!ifb_cfg_has(c, kp) || !ifb_cfg_has(c, kdf) || !ifb_cfg_has(c, kc))
                return ifb_cfg_errf(c, kf, e, "flap with period, down_for and count",
                                    "a missing key");
            if (ifb_cfg_get_time(c, kp, 0, &x->flap_period, e) ||
                ifb_cfg_get_time(c, kdf, 0, &x->flap_down, e) ||
                ifb_cfg_get_int(c, kc, 0, 1, 1000000, &count, e))
                return -1;
            if (!(x->flap_down > 0 && x->flap_down < x->flap_period))
                return ifb_cfg_errf(c, kdf, e, "a down time above 0 and below the period",
                                    "%.3f us with a period of %.3f us",
                                    ifb_time_to_us(x->flap_down), ifb_time_to_us(x->flap_period));
            if ((uint64_t)count > IFB_TIME_CFG_MAX / x->flap_period) /* no wrapped flap times */
                return ifb_cfg_errf(c, kc, e, "count x period of at most 3600s", "%lld x %.3f us",
                                    (long long)count, ifb_time_to_us(x->flap_period));
            x->flap_count = (int)count;
        } else if (ifb_cfg_has(c, ku)) {
            if (ifb_cfg_get_time(c, ku, 0, &x->up, e))
                return -1;
            if (x->up <= x->down)
                return ifb_cfg_errf(c, ku, e, "a time after down", "%.3f us, down at %.3f us",
                                    ifb_time_to_us(x->up), ifb_time_to_us(x->down));
        }
        sc->nfailures = i + 1;
    }
    return 0;
}

static void warn(ifb_scenario *sc, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void warn(ifb_scenario *sc, const char *key, const char *fmt, ...)
{
    if (sc->nwarnings == IFB_MAX_WARNINGS)
        return;
    char *w = sc->warnings[sc->nwarnings++];
    size_t cap = sizeof sc->warnings[0];
    const char *file = NULL;
    int line = ifb_cfg_where(sc->cfg, key, &file);
    int k;
    if (line > 0)
        k = snprintf(w, cap, "%s:%d: %s: ", file, line, key);
    else if (line == 0)
        k = snprintf(w, cap, "--set %s: ", key);
    else
        k = snprintf(w, cap, "%s: %s: ", sc->source, key);
    va_list ap;
    va_start(ap, fmt);
    if (k >= 0 && (size_t)k < cap)
        vsnprintf(w + k, cap - (size_t)k, fmt, ap);
    va_end(ap);
}

void ifb_scenario_print_warnings(const ifb_scenario *sc, FILE *out)
{
    for (int i = 0; i < sc->nwarnings; i++)
        fprintf(out, "infabric: warning: %s\n", sc->warnings[i]);
}

/* Queue q's path selection sends the packets of one QP down several paths. */
static int per_packet(const ifb_lb_qcfg *q)
{
    return q->mode == IFB_LBA_SPRAY || q->mode == IFB_LBA_AR ||
           ((q->mode == IFB_LBA_ADAPTIVE || q->mode == IFB_LBA_INT_ADAPTIVE) &&
            q->unit == IFB_LB_UNIT_PACKET);
}

/* Combinations the loader accepts but a deployment would not run, said loudly (docs/scenario.md
 * calls them wrong): they run, and the figures show what they cost. */
static void check_combinations(ifb_scenario *sc)
{
    const ifb_fabric_cfg *f = &sc->fab;
    int multipath = 0; /* some switch has a choice to make: there per-packet modes reorder */
    for (int g = 0; g < sc->topo.ngroups && !multipath; g++)
        multipath = sc->topo.groups[g].count > 1;
    char which[160] = "";
    int nq = 0, mode = -1;
    for (int t = 0; t < IFB_TC_COUNT && multipath; t++) {
        int q = f->l2 == IFB_L2_IB ? f->ib_sl2vl[f->tclass[t].sl & 15] : f->tclass[t].queue;
        const ifb_lb_qcfg *qc = sc->lb.cls[t].has_mode ? &sc->lb.cls[t].q : &sc->lb.q[q];
        if (ifb_class_ooo(f, t) || !per_packet(qc))
            continue;
        size_t len = strlen(which);
        snprintf(which + len, sizeof which - len, "%s%s (queue %d)", nq ? ", " : "", class_names[t],
                 q);
        nq++;
        if (mode < 0)
            mode = qc->mode;
    }
    if (nq && sc->lb.ooo_fallback)
        warn(sc, "fabric.load_balancing",
             "per-packet path selection (%s) for class%s %s, whose receivers place in order only "
             "(fabric.nic.ooo or fabric.classes.<c>.ooo false): the switches choose per flowlet "
             "for %s instead (load_balancing.ooo_fallback; false keeps per-packet choice and "
             "every reordering costs a go-back-N resend)",
             ifb_lb_algo_name(mode), nq > 1 ? "es" : "", which, nq > 1 ? "them" : "it");
    else if (nq)
        warn(sc, "fabric.load_balancing",
             "per-packet path selection (%s) for class%s %s reorders a QP's packets, but "
             "fabric.nic.ooo is false: a go-back-N receiver drops every packet behind a reordered "
             "one and the sender resends them all; per-packet modes need out-of-order placement "
             "(fabric.nic.ooo: true)",
             ifb_lb_algo_name(mode), nq > 1 ? "es" : "", which);
    if (f->l2 != IFB_L2_ROCEV2 || sc->topo.nswitches < 2)
        return;
    for (int t = 0; t < IFB_TC_COUNT; t++) {
        int q = f->tclass[t].queue;
        if ((f->pfc && f->queue[q].lossless) || ifb_class_ooo(f, t))
            continue;
        warn(sc, f->pfc ? "fabric.queues" : "fabric.pfc.enable",
             "a lossy RoCE fabric of %d switches: class %s on queue %d is %s and the NICs are "
             "go-back-N (fabric.nic.ooo false), so every drop makes the sender resend all it sent "
             "after it; RoCE deployments run PFC on the RDMA priority with ECN and DCQCN "
             "(fabric.pfc.enable, fabric.queues[%d].lossless, fabric.dcqcn.enable; see "
             "scenarios/large-rail.yaml), or selective repeat (fabric.nic.ooo: true)",
             sc->topo.nswitches, class_names[t], q, f->pfc ? "not lossless" : "lossy (PFC off)", q);
        break;
    }
}

int ifb_scenario_load(ifb_scenario *sc, const char *path, const char *const *sets, int nsets,
                      ifb_err *e)
{
    return ifb_scenario_load_limit(sc, path, sets, nsets, 0, e);
}

int ifb_scenario_load_limit(ifb_scenario *sc, const char *path, const char *const *sets, int nsets,
                            uint64_t limit, ifb_err *e)
{
    memset(sc, 0, sizeof *sc);
    ifb_topo_init(&sc->topo);
    const char *name = path ? path : IFB_DEFAULT_SCENARIO;
    if (path && access(path, F_OK) == 0) {
        if (strlen(path) >= sizeof sc->source) /* its folder locates a relative topology file */
            return ifb_err_msg(
                e, "%.120s...: expected a scenario path of at most %zu bytes, found %zu", path,
                sizeof sc->source - 1, strlen(path));
        sc->cfg = ifb_cfg_load_file(path, e);
        snprintf(sc->source, sizeof sc->source, "%s", path);
    } else {
        const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
        const char *text = ifb_embedded_file(base);
        char withext[256];
        if (!text && !strchr(base, '.') &&
            snprintf(withext, sizeof withext, "%s.yaml", base) < (int)sizeof withext &&
            (text = ifb_embedded_file(withext)))
            base = withext; /* `infabric check reference-ib`: the suffix is optional */
        if (!text) {
            char list[512] = "";
            size_t n = 0;
            for (int i = 0; ifb_embedded_name(i) && n < sizeof list; i++) {
                const char *en = ifb_embedded_name(i);
                size_t l = strlen(en);
                if (l > 5 && !strcmp(en + l - 5, ".yaml"))
                    n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", n ? ", " : "", en);
            }
            return ifb_err_msg(e,
                               "cannot open %.300s: no such file, and no embedded scenario of "
                               "that name (embedded: %s)",
                               path, list);
        }
        snprintf(sc->source, sizeof sc->source, "<embedded %s>", base);
        sc->cfg = ifb_cfg_load_string(text, sc->source, e);
    }
    if (!sc->cfg)
        return -1;
    for (int i = 0; i < nsets; i++)
        if (ifb_cfg_set(sc->cfg, sets[i], e))
            return -1;
    const char *nm = NULL;
    int64_t seed;
    if (ifb_cfg_get_string(sc->cfg, "name", name, &nm, e) ||
        ifb_cfg_get_int(sc->cfg, "seed", 1, 0, INT64_MAX, &seed, e))
        return -1;
    snprintf(sc->name, sizeof sc->name, "%s", nm);
    sc->seed = (uint64_t)seed;
    if (load_topology(sc, e) || load_fabric(sc, e) || route_topology(sc, limit, e) ||
        ifb_lb_cfg_check(sc->cfg, "fabric.load_balancing", &sc->lb, &sc->fab, &sc->topo, e) ||
        load_output(sc, e) || load_faults(sc, e) || load_failures(sc, e))
        return -1;
    check_combinations(sc);
    return 0;
}

int ifb_scenario_check_unused(ifb_scenario *sc, ifb_err *e)
{
    return ifb_cfg_check_unused(sc->cfg, e);
}

void ifb_scenario_free(ifb_scenario *sc)
{
    free(sc->port_loss);
    free(sc->failures);
    free((void *)sc->fab.pfc_storms); /* allocated by load_pfc_storm */
    ifb_cfg_free(sc->cfg);
    ifb_topo_free(&sc->topo);
    memset(sc, 0, sizeof *sc);
}
