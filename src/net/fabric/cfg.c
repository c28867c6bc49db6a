/* The fabric's configuration: its defaults (each value's source is given beside it, or in
 * docs/scenario.md) and the consistency checks the C API gets (the scenario loader reports the
 * same problems against its keys). Left out: checks of values each component validates where it
 * uses them (INT at set-up, path selection at attach). */
#include <string.h>

#include "net/fabric/fabric_int.h"

void ifb_fabric_cfg_default(ifb_fabric_cfg *c)
{
    memset(c, 0, sizeof *c);
    c->l2 = IFB_L2_ROCEV2;
    c->mtu = 4096;
    c->vlan = 0;
    c->nic_tx_latency = 1 * IFB_US / 2;
    c->nic_rx_latency = 1 * IFB_US / 2;
    c->switch_latency = 560 * IFB_NS;
    c->cut_through = 1;
    c->switch_buffer = 200ull * 1000 * 1000;
    c->dt_alpha = 1.0;
    c->qps_per_conn = 1;
    c->ack_every = 16;
    /* Verbs QP timeout 14 (NCCL_IB_TIMEOUT's long-time default): 4.096 us x 2^14 = 67.1 ms. */
    c->rto = 4096 * IFB_NS << 14;
    c->window = 0;
    c->lb = NULL;
    /* INT off; when on, every data queue carries it, first switch inserts, last switch strips
     * and reports one packet in 16 to the collector (ASSUMPTION: the spec leaves which packets a
     * sink reports to the vendor; a report per packet would be a 322-byte frame per 4 KB packet,
     * 8% of the data rate, where sampled export keeps it near 0.5%; routing feedback still
     * reads every packet). Utilization sampled like the SAI ARS quality (16 us). The path
     * figure's lifetime is an ASSUMPTION: ~20 base round trips of a 2-tier fabric, long enough
     * to survive between packets of a busy path, short enough that a path nobody uses any more
     * is tried again within a flowlet gap or two. 9216 B: the jumbo frame switches ship with. */
    c->intc = (ifb_int_cfg){.queues = 0x3f,
                            .max_hops = 0, /* the topology's longest path (fabric_create) */
                            .report_every = 16,
                            .util_interval = 16 * IFB_US,
                            .feedback_age = 100 * IFB_US,
                            .path_margin = 256 * 1024,
                            .eth_mtu = 9216,
                            .probe_interval = 0,
                            .probe_queue = -1};
    /* RoCE on priority 3 (vendor practice), the workload classes kept apart so that each can
     * get its own queue; ACK/NAK/CNP strict on 6 like CNPs on ConnectX (CNP_802P_PRIO 6). */
    c->tclass[IFB_TC_A2A] = (ifb_class_cfg){.dscp = 26, .queue = 3};
    c->tclass[IFB_TC_KV] = (ifb_class_cfg){.dscp = 10, .queue = 1};
    c->tclass[IFB_TC_PP] = (ifb_class_cfg){.dscp = 18, .queue = 2};
    c->tclass[IFB_TC_COLL] = (ifb_class_cfg){.dscp = 26, .queue = 3};
    /* ECN off until asked for; when on, ConWeave's run.py band for every speed (100 KB / 400 KB
     * / 0.2: HPCC's rate-scaled band is "too large" at 400G by its own authors' follow-up). */
    for (int q = 0; q < IFB_NQUEUES; q++)
        c->queue[q] = (ifb_queue_cfg){.sched = IFB_SCHED_DWRR,
                                      .weight = 1,
                                      .ecn_kmin = 100000,
                                      .ecn_kmax = 400000,
                                      .ecn_pmax = 0.2};
    c->queue[6].sched = IFB_SCHED_STRICT;
    c->queue[7].sched = IFB_SCHED_STRICT;
    c->ctrl_queue = 6;
    c->sample_interval = 0;
    c->record_messages = 1;
    c->queue_bin = 4096;
    c->queue_bins = 64;
    c->ooo = 0;
    /* 4096 packets (16 MiB at the 4096 B MTU) ahead of the expected PSN: far above the
     * bandwidth-delay product, so it never limits a flow; 1024 left some flows of the failure
     * benchmark waiting for the timeout. A hole is NAKed once open longer than the bound on the
     * paths' delay difference (net/nic/ooo.c), so that reordering alone never causes a resend. */
    c->ooo_window = 4096;
    c->reorder_window = IFB_REORDER_AUTO;
    /* InfiniBand: 4 data VLs (ConnectX NUM_OF_VL default), identity SL-to-VL modulo the VLs,
     * every VL weight 64 in the low-priority table (OpenSM default). The per-VL receive buffer is
     * an ASSUMPTION: NVIDIA does not publish Quantum-2's; 128 KiB covers a port's credit loop
     * (link round trip plus switch latency) several times over at 400 Gb/s. */
    c->ib_vls = 4;
    c->ib_vl_buffer = 128 * 1024;
    for (int i = 0; i < 16; i++)
        c->ib_sl2vl[i] = (uint8_t)(i % 4);
    ifb_vlarb_cfg_default(&c->ib_vlarb, 4);
    /* Adaptive routing (load_balancing mode `ar`): NVIDIA's opensm.conf enables AR and SHIELD
     * by default (InfiniBand Cluster Bring-up Procedure: "Adaptive Routing", "SHIELD"); every SL
     * routed adaptively (ar_sl_mask) is an ASSUMPTION, as are the ARN threshold (half a 128 KiB
     * VL buffer), the notification's life and the switch's local fault detection. */
    c->ib_ar = (ifb_ib_ar_cfg){.sl_mask = 0xffff,
                               .shield = 1,
                               .arn = 1,
                               .arn_threshold = 64 * 1024,
                               .arn_life = 100 * IFB_US,
                               .fault_detect = 10 * IFB_US};
    /* Congestion control, off as in OpenSM (congestion_control FALSE). When on: the CCT that
     * LLNL's OpenSM CC study generates as the Mellanox default (128 entries, shift 0, multiplier
     * floor(7 i^2 / (95^2 x 0.218))), packet size 1 credit and CCTI increase 1 as in that study;
     * threshold 8 (half a VL buffer: 15 marks a 2-packet queue), marking every packet above it
     * and a 15 x 1.024 us CCTI timer are ASSUMPTIONs (the study swept thresholds 0-15, marking
     * rates 0-0x50 and timers of 2-8192 units; bench/RESULTS.md has this model's sweep). */
    c->ib_cc = (ifb_ibcc_cfg){.on = 0,
                              .sl_mask = 0xffff,
                              .threshold = 8,
                              .marking_rate = 0,
                              .packet_size = 1,
                              .ccti_limit = IFB_IBCC_CCT_MAX - 1,
                              .ncct = IFB_IBCC_CCT_MAX};
    for (int sl = 0; sl < 16; sl++) {
        c->ib_cc.ccti_timer[sl] = 15 * 1024 * IFB_NS;
        c->ib_cc.ccti_increase[sl] = 1;
    }
    for (int i = 0; i < IFB_IBCC_CCT_MAX; i++)
        c->ib_cc.cct[i] = (uint16_t)(7.0 * i * i / (95.0 * 95.0) / 0.218);
    for (int t = 0; t < IFB_TC_COUNT; t++)
        c->tclass[t].sl = c->tclass[t].queue;
    c->ecn_at_enqueue = 0;
    /* PFC off; when on, the SONiC lossless PG profile of a 400G Teralynx 10 switch (Asterfusion
     * CX864E-N: size 1518, dynamic_th 1 = alpha 2, xon_offset 9408) and mlx5 headroom. */
    c->pfc = 0;
    c->pfc_prios = 0;
    c->pfc_headroom = IFB_PFC_AUTO;
    c->pfc_reserved = 1518;
    c->pfc_alpha = 2.0;
    c->pfc_xoff = 0;
    c->pfc_xon = 0;
    c->pfc_xon_offset = 9408;
    c->pfc_quanta = 0xffff;
    c->pfc_storm_time = 1 * IFB_MS;
    c->pfc_deadlock_time = 100 * IFB_MS;
    c->dcqcn = 0;
    ifb_dcqcn_profile(IFB_DCQCN_NVIDIA_CX, &c->dcqcn_p);
    c->rate_sample_interval = 0;
    /* Unlimited retries here (microbenchmarks and tests use short timeouts under heavy loss);
     * scenarios default to IB's retry_cnt 7 (scenario.c, fabric.nic.retry_cnt). */
    c->retry_cnt = UINT32_MAX;
    /* ASSUMPTION (docs/scenario.md, failure_detection): loss of signal is seen by the PHY within
     * microseconds; the ECMP group update it triggers is what takes time. 100 us stands for
     * hardware-assisted failover (the switch prunes the member itself, and remote switches are
     * told by a fast notification rather than by BGP, whose convergence takes milliseconds to
     * seconds). */
    c->fail_detection = 100 * IFB_US;
    c->goodput_bin = 0;
}

/* Consistency of the ECN, PFC and DCQCN settings (the scenario loader reports the same
 * problems against its keys; this guards the C API). */
int ifb_fabric_check_cfg(const ifb_fabric_cfg *c, ifb_err *e)
{
    uint8_t lossless = 0;
    for (int q = 0; q < IFB_NQUEUES; q++) {
        const ifb_queue_cfg *qc = &c->queue[q];
        if (qc->lossless)
            lossless |= (uint8_t)(1u << q);
        if (qc->ecn && (qc->ecn_kmax < qc->ecn_kmin || !(qc->ecn_pmax > 0 && qc->ecn_pmax <= 1)))
            return ifb_err_msg(e, "fabric: queue %d ECN needs kmin <= kmax and 0 < pmax <= 1", q);
    }
    if (c->pfc) {
        uint8_t prios = c->pfc_prios ? c->pfc_prios : lossless;
        if (!lossless)
            return ifb_err_msg(e, "fabric: PFC is on but no queue is lossless");
        if (c->l2 == IFB_L2_IB)
            return ifb_err_msg(e, "fabric: PFC is an Ethernet mechanism (InfiniBand uses credits)");
        for (int q = 0; q < IFB_NQUEUES; q++) {
            if ((prios & (1u << q)) && !(lossless & (1u << q)))
                return ifb_err_msg(e, "fabric: PFC pauses priority %d, which is not lossless", q);
            if (!(prios & (1u << q)) && (lossless & (1u << q)))
                return ifb_err_msg(e, "fabric: lossless queue %d is not a PFC priority", q);
        }
        if (c->pfc_headroom == 0)
            return ifb_err_msg(e, "fabric: lossless queues with no PFC headroom");
        if (c->pfc_xoff && c->pfc_xon > c->pfc_xoff)
            return ifb_err_msg(e, "fabric: PFC XON threshold %llu B above XOFF %llu B",
                               (unsigned long long)c->pfc_xon, (unsigned long long)c->pfc_xoff);
        if (!c->pfc_xoff && !(c->pfc_alpha > 0))
            return ifb_err_msg(e, "fabric: PFC dynamic threshold alpha must be positive");
        if (c->pfc_quanta == 0)
            return ifb_err_msg(e, "fabric: PFC pause quanta must be positive (0 means XON)");
    }
    const ifb_ibcc_cfg *cc = &c->ib_cc;
    if (cc->on && c->l2 != IFB_L2_IB)
        return ifb_err_msg(e, "fabric: InfiniBand congestion control (FECN/BECN) on a RoCE "
                              "fabric (RoCE's is ECN with DCQCN)");
    if (cc->on) {
        if (cc->threshold > 15)
            return ifb_err_msg(e, "fabric.ib.cc.threshold: expected 0 to 15, found %u",
                               cc->threshold);
        if (cc->ncct < 1 || cc->ncct > IFB_IBCC_CCT_MAX || cc->ccti_limit >= cc->ncct)
            return ifb_err_msg(e,
                               "fabric.ib.cc: expected a table of 1 to %d entries and a "
                               "ccti_limit below its length, found %d entries, limit %u",
                               IFB_IBCC_CCT_MAX, cc->ncct, cc->ccti_limit);
        for (int sl = 0; sl < 16; sl++)
            if (!cc->ccti_timer[sl] || cc->ccti_min[sl] > cc->ccti_limit)
                return ifb_err_msg(e,
                                   "fabric.ib.cc: SL %d: expected a CCTI timer above 0 and "
                                   "ccti_min at most ccti_limit %u, found %.3f us and %u",
                                   sl, cc->ccti_limit, ifb_time_to_us(cc->ccti_timer[sl]),
                                   cc->ccti_min[sl]);
    }
    if (c->dcqcn && c->l2 == IFB_L2_IB)
        return ifb_err_msg(e, "fabric: DCQCN is a RoCEv2 mechanism (InfiniBand has its own "
                              "congestion control, FECN/BECN)");
    if (c->dcqcn) {
        const ifb_dcqcn_params *p = &c->dcqcn_p;
        if (p->cnp_prio >= IFB_NQUEUES || p->cnp_dscp > 63)
            return ifb_err_msg(e, "fabric: DCQCN CNP priority %u / DSCP %u out of range",
                               p->cnp_prio, p->cnp_dscp);
        if (!(p->g > 0 && p->g < 1) || !(p->alpha_init >= 0 && p->alpha_init <= 1) ||
            !p->alpha_period || !p->inc_timer || !p->min_rate ||
            !(p->max_dec > 0 && p->max_dec <= 1) || !(p->first_rate >= 0 && p->first_rate <= 1))
            return ifb_err_msg(e, "fabric: DCQCN parameters out of range (0 < g < 1, alpha in "
                                  "[0,1], positive periods and min rate, 0 < max_dec <= 1)");
    }
    return 0;
}
