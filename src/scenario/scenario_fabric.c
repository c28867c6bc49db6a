/* Scenario loading, the fabric section: kind and its defaults, queues and classes, PFC, ECN,
 * DCQCN, the PFC watchdog, InfiniBand VLs and credits, INT, per-class routing checks, into the
 * plain ifb_fabric_cfg the network layer takes. Leaves out: the load-balancing keys
 * (lb_cfg.c), InfiniBand AR/CC keys (ib_cfg.c). */
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

static const char *const l2_names[] = {"roce", "infiniband", NULL};
static const char *const sched_names[] = {"strict", "dwrr", NULL};
static const char *const switch_modes[] = {"store-and-forward", "cut-through", NULL};
const char *const ifb_sc_class_names[IFB_TC_COUNT] = {"a2a", "kv", "pp", "coll"};

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
                                "ar for class %s", ifb_sc_class_names[t]);
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
                                ifb_lb_algo_name(m), ifb_sc_class_names[t], q);
    }
    return 0;
}

int ifb_sc_load_fabric(ifb_scenario *sc, ifb_err *e)
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
        snprintf(kd, sizeof kd, "fabric.classes.%s.dscp", ifb_sc_class_names[t]);
        snprintf(kq, sizeof kq, "fabric.classes.%s.queue", ifb_sc_class_names[t]);
        char ksl[64];
        snprintf(ksl, sizeof ksl, "fabric.classes.%s.sl", ifb_sc_class_names[t]);
        char ko[64];
        snprintf(ko, sizeof ko, "fabric.classes.%s.ooo", ifb_sc_class_names[t]);
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
