/* Fabric construction from a topology, the message API over it, and the NVLink crossbar.
 * Endpoints are GPUs; a GPU reaches the network through its affine NIC (topology gpu_nic).
 * Each (source GPU, destination GPU, traffic class) gets its own connection of qps_per_conn
 * QPs (or the class's own count, tclass[].qps: the KV transfer engine's connections), created
 * on first use, as NCCL and DeepEP create theirs at setup.
 * NVLink is modelled per message: the source GPU's egress and the destination GPU's ingress are
 * serializers at the NVLink port rate, plus a fixed latency; messages on one port do not
 * interleave. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "net/fabric_int.h"
#include "net/lb.h"
#include "net/pfc.h"
#include "net/wire.h"

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
     * paths' delay difference (net/ooo.c), so that reordering alone never causes a resend. */
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

ifb_pkt *ifb_fabric_new_pkt(ifb_fabric *f)
{
    ifb_pkt *pk = ifb_pool_get(&f->sim->pkt_pool);
    pk->id = ++f->pkt_seq;
    f->cnt.pkts_created++;
    return pk;
}

void ifb_fabric_free_pkt(ifb_fabric *f, ifb_pkt *pk)
{
    f->cnt.pkts_consumed++;
    ifb_pool_put(&f->sim->pkt_pool, pk);
}

void ifb_fabric_drop_pkt(ifb_fabric *f, ifb_port *at, ifb_pkt *pk)
{
    f->cnt.pkts_dropped++;
    if (at) {
        at->st.drops++;
        at->st.drop_bytes += pk->wire;
    }
    ifb_pool_put(&f->sim->pkt_pool, pk);
}

static void record(ifb_fabric *f, const ifb_msg_info *info)
{
    if (info->done > f->last_done)
        f->last_done = info->done;
    if (!f->cfg.record_messages)
        return;
    f->recs = ifb_xgrow(f->recs, &f->recs_cap, f->nrecs, sizeof *f->recs, 1024, "message records");
    ifb_msg_rec *rec = &f->recs[f->nrecs++];
    memset(rec, 0, sizeof *rec); /* padding too: records are compared and copied as bytes */
    rec->id = info->id;
    rec->src = info->src;
    rec->dst = info->dst;
    rec->tclass = info->tclass;
    rec->bytes = info->bytes;
    rec->start = info->start;
    rec->done = info->done;
}

static void complete(ifb_fabric *f, const ifb_msg *m)
{
    ifb_msg_info info = {m->id, m->bytes, m->src, m->dst, m->tclass, m->start, f->sim->now, 0};
    record(f, &info);
    if (m->cb)
        m->cb(f->sim, m->ctx, &info);
}

void ifb_fabric_msg_delivered(ifb_fabric *f, ifb_msg *m)
{
    m->delivered = 1;
    complete(f, m);
}

void ifb_fabric_msg_failed(ifb_fabric *f, ifb_msg *m)
{
    int why = m->qp && m->qp->nic->port->down ? IFB_MSG_SRC_DOWN : IFB_MSG_DST_UNREACHABLE;
    ifb_msg_info info = {m->id, m->bytes, m->src, m->dst, m->tclass, m->start, f->sim->now, why};
    record(f, &info);
    if (m->cb)
        m->cb(f->sim, m->ctx, &info);
}

static void nvlink_done(ifb_sim *sim, void *obj, uint64_t arg)
{
    (void)arg;
    ifb_fabric *f = sim->fabric;
    ifb_msg *m = obj;
    f->cnt.msgs_done++;
    sim->progress++; /* for the watchdog: data was delivered */
    ifb_sim_work_end(sim);
    complete(f, m);
    ifb_pool_put(&f->msg_pool, m);
}

static ifb_conn *conn_get(ifb_fabric *f, int src, int dst, int tclass)
{
    uint64_t key = ((uint64_t)src * (uint64_t)f->nendpoints + (uint64_t)dst) * IFB_TC_COUNT +
                   (uint64_t)tclass + 1;
    if ((f->nconns + 1) * 2 > f->conns_cap) {
        size_t cap = f->conns_cap ? f->conns_cap * 2 : 1024; /* < nconns * 4: cannot wrap */
        ifb_conn *n = ifb_xcalloc(cap, sizeof *n, "the connection table");
        for (size_t i = 0; i < f->conns_cap; i++) {
            if (!f->conns[i].key)
                continue;
            size_t j = ifb_hash64(f->conns[i].key) & (cap - 1);
            while (n[j].key)
                j = (j + 1) & (cap - 1);
            n[j] = f->conns[i];
        }
        free(f->conns);
        f->conns = n;
        f->conns_cap = cap;
    }
    size_t j = ifb_hash64(key) & (f->conns_cap - 1);
    while (f->conns[j].key && f->conns[j].key != key)
        j = (j + 1) & (f->conns_cap - 1);
    ifb_conn *c = &f->conns[j];
    if (c->key)
        return c;
    /* Set up the connection: QP pairs between the two GPUs' affine NICs. */
    const ifb_topo *t = f->topo;
    int G = t->gpus_per_server, M = t->nics_per_server;
    int sh = t->server_host[(src / G) * M + t->gpu_nic[src % G]];
    int dh = t->server_host[(dst / G) * M + t->gpu_nic[dst % G]];
    c->key = key;
    const ifb_class_cfg *cc = &f->cfg.tclass[tclass];
    c->nqp = cc->qps ? cc->qps : (uint32_t)f->cfg.qps_per_conn;
    c->qps = ifb_xcalloc(c->nqp, sizeof *c->qps, "a connection's QPs");
    for (uint32_t i = 0; i < c->nqp; i++) {
        ifb_qp *s = ifb_nic_new_qp(&f->nics[sh]);
        ifb_qp *r = ifb_nic_new_qp(&f->nics[dh]);
        s->dqpn = r->qpn;
        r->dqpn = s->qpn;
        s->peer_host = dh;
        r->peer_host = sh;
        s->sport = r->sport = ifb_roce_sport(s->qpn, r->qpn);
        s->queue = r->queue = f->ib ? f->cfg.ib_sl2vl[cc->sl & 15] : cc->queue;
        s->dscp = r->dscp = cc->dscp;
        c->qps[i] = s;
    }
    f->nconns++;
    return c;
}

static uint64_t fabric_send(ifb_net *net, int src, int dst, uint64_t bytes, int tclass,
                            ifb_msg_cb cb, void *ctx)
{
    ifb_fabric *f = net->impl;
    if (src < 0 || dst < 0 || src >= f->nendpoints || dst >= f->nendpoints || tclass < 0 ||
        tclass >= IFB_TC_COUNT)
        return 0;
    ifb_sim *sim = f->sim;
    ifb_msg *m = ifb_pool_get(&f->msg_pool);
    m->id = ++f->msg_seq;
    m->bytes = bytes;
    m->src = src;
    m->dst = dst;
    m->tclass = tclass;
    m->start = sim->now;
    m->cb = cb;
    m->ctx = ctx;
    f->cnt.msgs_posted++;
    ifb_sim_work_begin(sim);
    const ifb_topo *t = f->topo;
    int G = t->gpus_per_server;
    if (src / G == dst / G) {
        f->cnt.nvlink_msgs++;
        ifb_time done = sim->now;
        if (src != dst) {
            ifb_time ser = ifb_tx_time(bytes, t->nvlink_bps);
            ifb_time s0 = f->nvl_tx_free[src] > sim->now ? f->nvl_tx_free[src] : sim->now;
            f->nvl_tx_free[src] = s0 + ser;
            ifb_time arr = s0 + t->nvlink_latency;
            ifb_time r0 = f->nvl_rx_free[dst] > arr ? f->nvl_rx_free[dst] : arr;
            f->nvl_rx_free[dst] = r0 + ser;
            done = r0 + ser;
        }
        ifb_sim_at(sim, done, nvlink_done, m, 0);
        return m->id;
    }
    ifb_conn *c = conn_get(f, src, dst, tclass);
    ifb_qp *qp = c->qps[c->next];
    c->next = (c->next + 1) % c->nqp;
    ifb_nic_post(qp->nic, qp, m);
    return m->id;
}

static void sampler(ifb_sim *sim, void *obj, uint64_t arg)
{
    (void)arg;
    ifb_fabric *f = obj;
    f->sampler_armed = 0;
    f->samples = ifb_xgrow(f->samples, &f->samples_cap, f->nsamples,
                           (size_t)f->nports * sizeof *f->samples, 64, "utilization samples");
    uint64_t *row = f->samples + f->nsamples * (size_t)f->nports;
    for (int i = 0; i < f->nports; i++) {
        row[i] = f->ports[i].st.tx_bytes - f->ports[i].sampled_bytes;
        f->ports[i].sampled_bytes = f->ports[i].st.tx_bytes;
    }
    f->nsamples++;
    /* Keep sampling only while something else is going on, so the run can end. */
    if (sim->pending > sim->daemons || sim->work) {
        f->sampler_armed = 1;
        ifb_sim_at_daemon(sim, sim->now + f->cfg.sample_interval, sampler, f, 0);
    }
}

/* Consistency of the ECN, PFC and DCQCN settings (the scenario loader reports the same
 * problems against its keys; this guards the C API). */
static int check_cc(const ifb_fabric_cfg *c, ifb_err *e)
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

/* Per-switch PFC headroom and shared pool, ECN generators, per-NIC DCQCN steps. */
static int setup_cc(ifb_fabric *f, ifb_err *e)
{
    const ifb_fabric_cfg *c = &f->cfg;
    uint8_t lossless = 0;
    for (int q = 0; q < IFB_NQUEUES; q++) {
        if (c->queue[q].lossless)
            lossless |= (uint8_t)(1u << q);
        if (c->queue[q].ecn) {
            if (c->ecn_at_enqueue)
                f->ecn_enq_mask |= (uint8_t)(1u << q);
            else
                f->ecn_deq_mask |= (uint8_t)(1u << q);
        }
    }
    f->pfc_mask = c->pfc ? (c->pfc_prios ? c->pfc_prios : lossless) : 0;
    int nl = 0;
    for (int q = 0; q < IFB_NQUEUES; q++)
        nl += (f->pfc_mask >> q) & 1;
    int warned = 0;
    for (int i = 0; i < f->nswitches; i++) {
        ifb_switch *sw = &f->switches[i];
        ifb_rng_seed(&sw->rng, f->sim->seed, 0xEC40000000ull + (uint64_t)sw->idx);
        uint64_t held = 0;
        for (int k = 0; k < sw->nports && nl; k++) {
            ifb_port *p = &sw->ports[k];
            if (!p->peer)
                continue;
            p->headroom = c->pfc_headroom == IFB_PFC_AUTO
                              ? ifb_pfc_headroom(p->rate, p->delay / 5, c->mtu) /* 5 ns/m */
                              : c->pfc_headroom;
            uint64_t need = ifb_pfc_need(f, p);
            if (p->headroom < need && !warned) {
                warned = 1;
                const ifb_topo_node *n = &f->topo->nodes[sw->node];
                fprintf(stderr,
                        "infabric: warning: PFC headroom %llu B on %s:%d is below the %llu B its "
                        "link round trip can deliver after XOFF; lossless queues may drop\n",
                        (unsigned long long)p->headroom, n->name, p->index,
                        (unsigned long long)need);
            }
            held += (uint64_t)nl * (p->headroom + c->pfc_reserved);
        }
        if (nl && held >= c->switch_buffer)
            return ifb_err_msg(e,
                               "fabric: switch %s: PFC headroom and reserve take %llu B of its "
                               "%llu B buffer, leaving no shared pool; raise the switch buffer or "
                               "lower the PFC headroom",
                               f->topo->nodes[sw->node].name, (unsigned long long)held,
                               (unsigned long long)c->switch_buffer);
        sw->shared_size = c->switch_buffer - held;
    }
    const ifb_dcqcn_params *dp = &c->dcqcn_p;
    for (int i = 0; i < f->nhosts; i++) {
        ifb_nic *nic = &f->nics[i];
        double scale = dp->scale_ai ? (double)nic->port->rate / 25e9 : 1.0;
        nic->ai = (uint64_t)((double)dp->rate_ai * scale);
        nic->hai = (uint64_t)((double)dp->rate_hai * scale);
        nic->thr_wake_at = IFB_TIME_NEVER;
    }
    return 0;
}

static void rate_sampler(ifb_sim *sim, void *obj, uint64_t arg)
{
    (void)arg;
    ifb_fabric *f = obj;
    for (int h = 0; h < f->nhosts; h++) {
        const ifb_nic *nic = &f->nics[h];
        for (uint32_t j = 0; j < nic->nqps; j++) {
            const ifb_qp *qp = nic->qps[j];
            if (!qp->limited && qp->una >= qp->psn_end)
                continue;
            f->rsamples = ifb_xgrow(f->rsamples, &f->rsamples_cap, f->nrsamples,
                                    sizeof *f->rsamples, 1024, "DCQCN rate samples");
            f->rsamples[f->nrsamples++] =
                (ifb_rate_sample){sim->now, h, qp->qpn, qp->limited ? qp->rc : nic->port->rate};
        }
    }
    if (sim->pending > sim->daemons || sim->work)
        ifb_sim_at_daemon(sim, sim->now + f->cfg.rate_sample_interval, rate_sampler, f, 0);
}

/* --check invariants (core/sim.h): run every few thousand events when sim->check is on. */
static int check_conservation_inv(ifb_sim *sim, void *ctx, char *msg, size_t cap)
{
    (void)sim;
    return ifb_fabric_check_conservation(ctx, msg, cap);
}

static int check_buffers_inv(ifb_sim *sim, void *ctx, char *msg, size_t cap)
{
    (void)sim;
    const ifb_fabric *f = ctx;
    for (int i = 0; i < f->nports; i++) {
        const ifb_port *p = &f->ports[i];
        uint64_t sum = 0;
        for (int q = 0; q < IFB_NQUEUES; q++)
            sum += p->q[q].bytes;
        if (p->sw && sum != p->qbytes) {
            snprintf(msg, cap, "port %d (%s:%d): queues hold %llu B but the port counts %llu B", i,
                     f->topo->nodes[f->topo->ports[i].node].name, p->index, (unsigned long long)sum,
                     (unsigned long long)p->qbytes);
            return -1;
        }
    }
    for (int s = 0; s < f->nswitches; s++)
        if (f->switches[s].buf_used > f->cfg.switch_buffer) {
            snprintf(msg, cap, "switch %s: %llu B in use of a %llu B buffer",
                     f->topo->nodes[f->switches[s].node].name,
                     (unsigned long long)f->switches[s].buf_used,
                     (unsigned long long)f->cfg.switch_buffer);
            return -1;
        }
    return 0;
}

static int check_credits_inv(ifb_sim *sim, void *ctx, char *msg, size_t cap)
{
    (void)sim;
    const ifb_fabric *f = ctx;
    for (int i = 0; i < f->nports; i++)
        for (int v = 0; v < f->cfg.ib_vls; v++) {
            const ifb_port *p = &f->ports[i];
            if (p->credits[v] > f->ib_credits || p->ibuf[v] > f->ib_credits) {
                snprintf(msg, cap,
                         "port %d (%s:%d) VL %d: %u credits held, %u blocks buffered, limit %u", i,
                         f->topo->nodes[f->topo->ports[i].node].name, p->index, v, p->credits[v],
                         p->ibuf[v], f->ib_credits);
                return -1;
            }
        }
    return 0;
}

static int check_pfc_state_inv(ifb_sim *sim, void *ctx, char *msg, size_t cap)
{
    (void)sim;
    return ifb_pfc_check_state(ctx, msg, cap);
}

static int check_messages_inv(ifb_sim *sim, void *ctx, char *msg, size_t cap);
static void watchdog_diag(ifb_sim *sim, void *ctx, char *msg, size_t cap);

static int add_checkers(ifb_fabric *f, ifb_err *e)
{
    static const struct {
        const char *name;
        ifb_check_fn fn;
    } all[] = {{"packet-conservation", check_conservation_inv},
               {"buffer-accounting", check_buffers_inv},
               {"ib-credits", check_credits_inv},
               {"pfc-state", check_pfc_state_inv},
               {"message-completion", check_messages_inv}};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        if ((all[i].fn == check_credits_inv && !f->ib) ||
            (all[i].fn == check_pfc_state_inv && !f->pfc_mask))
            continue;
        if (ifb_sim_add_checker(f->sim, all[i].name, all[i].fn, f))
            return ifb_err_msg(e,
                               "fabric: no room for the %s invariant checker (%d of %d checker "
                               "slots of the simulation already in use)",
                               all[i].name, f->sim->ncheckers, IFB_MAX_CHECKERS);
    }
    return 0;
}

int ifb_fabric_create(ifb_fabric **out, ifb_sim *sim, const ifb_topo *t, const ifb_fabric_cfg *cfg,
                      ifb_err *e)
{
    *out = NULL;
    if (!t->route)
        return ifb_err_msg(e, "fabric: the topology has no routes (ifb_topo_route not run)");
    if (t->nservers <= 0 || t->gpus_per_server <= 0 || t->nics_per_server <= 0)
        return ifb_err_msg(e, "fabric: the topology has no servers");
    if (cfg->mtu == 0 || cfg->qps_per_conn <= 0 || cfg->ack_every == 0)
        return ifb_err_msg(e, "fabric: mtu, qps_per_conn and ack_every must be positive");
    for (int c = 0; c < IFB_TC_COUNT; c++)
        if (cfg->tclass[c].queue >= IFB_NQUEUES)
            return ifb_err_msg(e, "fabric: traffic class %d maps to queue %u (0..7 exist)", c,
                               cfg->tclass[c].queue);
    if (check_cc(cfg, e))
        return -1;
    uint32_t ib_credits = 0, ib_max_blocks = 0;
    if (cfg->l2 == IFB_L2_IB) {
        if (cfg->ib_vls < 1 || cfg->ib_vls > IFB_IB_MAX_VLS)
            return ifb_err_msg(e, "fabric.ib.vls: expected 1..%d data VLs, found %d",
                               IFB_IB_MAX_VLS, cfg->ib_vls);
        static const char *const cname[IFB_TC_COUNT] = {"a2a", "kv", "pp", "coll"};
        for (int c = 0; c < IFB_TC_COUNT; c++) {
            int sl = cfg->tclass[c].sl;
            if (sl > 15 || cfg->ib_sl2vl[sl] >= cfg->ib_vls)
                return ifb_err_msg(e,
                                   "fabric.classes.%s.sl: expected an SL mapped to one of the "
                                   "%d VLs, found SL %d mapped to VL %d",
                                   cname[c], cfg->ib_vls, sl, sl > 15 ? -1 : cfg->ib_sl2vl[sl]);
        }
        if (cfg->ctrl_queue >= cfg->ib_vls)
            return ifb_err_msg(e, "fabric.ctrl_queue: expected a VL below %d for ACKs, found %u",
                               cfg->ib_vls, cfg->ctrl_queue);
        ib_credits = (uint32_t)(cfg->ib_vl_buffer / IFB_IB_CREDIT_BYTES);
        ib_max_blocks =
            ifb_ib_blocks(IFB_IB_LRH + IFB_BTH + IFB_RETH + cfg->mtu + 3 + IFB_ICRC + IFB_IB_VCRC);
        if (ib_credits < ib_max_blocks)
            return ifb_err_msg(e,
                               "fabric.ib.vl_buffer: expected room for at least one MTU packet "
                               "(%u credits of 64 B), found %llu B (%u credits)",
                               ib_max_blocks, (unsigned long long)cfg->ib_vl_buffer, ib_credits);
    }
    /* INT hop records live after the packet; a pool made for smaller packets cannot hold them */
    /* INT record space: max_hops 0 means the topology's longest up-down path, 2 x the top tier
     * + 1 switches (5 if some switch has no tier), so a 2-tier fabric's packets carry room for
     * 3 records, not 8 */
    int int_hops = cfg->intc.max_hops;
    if (cfg->intc.on && !int_hops) {
        int top = 0;
        for (int i = 0; i < t->nswitches && top >= 0; i++) {
            int tier = t->nodes[t->switch_node[i]].tier;
            top = tier < 0 ? -1 : tier > top ? tier : top;
        }
        int_hops = top < 0 ? 5 : 2 * top + 1;
        if (int_hops > IFB_INT_MAX_HOPS)
            int_hops = IFB_INT_MAX_HOPS;
    }
    size_t pkt_size = sizeof(ifb_pkt) + (cfg->intc.on ? (size_t)int_hops * sizeof(ifb_int_hop) : 0);
    if (cfg->intc.on && (int_hops < 1 || int_hops > IFB_INT_MAX_HOPS))
        return ifb_err_set(e, NULL, 0, "fabric.int.max_hops", "0 (auto) to 8 hop records", "%d",
                           int_hops);
    if (sim->pkt_pool.obj_size && sim->pkt_pool.obj_size < pkt_size)
        return ifb_err_msg(e, "fabric: the simulation's packet pool was made without room for "
                              "INT hop records; create the INT fabric first");
    ifb_fabric *f = ifb_xcalloc(1, sizeof *f, "the fabric");
    f->sim = sim;
    f->topo = t;
    f->cfg = *cfg;
    f->cfg.intc.max_hops = (uint8_t)int_hops;
    f->ib = cfg->l2 == IFB_L2_IB;
    f->ib_credits = ib_credits;
    f->ib_max_blocks = ib_max_blocks;
    sim->fabric = f;
    f->net = (ifb_net){.impl = f, .send = fabric_send};
    f->nendpoints = t->nservers * t->gpus_per_server;
    f->net.nendpoints = f->nendpoints;
    if (!sim->pkt_pool.obj_size) {
        ifb_pool_init(&sim->pkt_pool, pkt_size, 4096);
        sim->pkt_pool.zero_size = sizeof(ifb_pkt); /* hop records are written before read */
    }
    ifb_pool_init(&f->msg_pool, sizeof(ifb_msg), 1024);
    ifb_pool_init(&f->qp_pool, sizeof(ifb_qp), 256);
    f->nports = t->nports;
    f->ports = ifb_xcalloc((size_t)t->nports, sizeof *f->ports, "the fabric's ports");
    f->nswitches = t->nswitches;
    f->switches = ifb_xcalloc((size_t)t->nswitches, sizeof *f->switches, "the fabric's switches");
    f->nhosts = t->nhosts;
    f->nics = ifb_xcalloc((size_t)t->nhosts, sizeof *f->nics, "the fabric's NICs");
    f->nvl_tx_free = ifb_xcalloc((size_t)f->nendpoints, sizeof(ifb_time), "NVLink ports");
    f->nvl_rx_free = ifb_xcalloc((size_t)f->nendpoints, sizeof(ifb_time), "NVLink ports");
    for (int i = 0; i < t->nports; i++) {
        ifb_port *p = &f->ports[i];
        const ifb_topo_port *tp = &t->ports[i];
        p->f = f;
        p->id = i;
        p->index = tp->index;
        if (tp->link >= 0) {
            const ifb_topo_link *l = &t->links[tp->link];
            p->rate = l->rate_bps;
            p->delay = l->delay;
            p->peer = &f->ports[t->nodes[tp->peer_node].first_port + tp->peer_port];
        }
    }
    for (int n = 0; n < t->nnodes; n++) {
        const ifb_topo_node *tn = &t->nodes[n];
        if (tn->kind == IFB_NODE_SWITCH) {
            ifb_switch *sw = &f->switches[tn->host];
            sw->node = n;
            sw->idx = tn->host;
            sw->seed = ifb_hash64(sim->seed ^ ifb_hash64(0x5eed0000ull + (uint64_t)n));
            sw->ports = &f->ports[tn->first_port];
            sw->nports = tn->nports;
            sw->route = t->route + (size_t)tn->host * (size_t)t->nhosts;
            for (int k = 0; k < tn->nports; k++)
                sw->ports[k].sw = sw;
        } else {
            ifb_nic *nic = &f->nics[tn->host];
            nic->f = f;
            nic->host = tn->host;
            nic->port = &f->ports[tn->first_port];
            nic->port->nic = nic;
            if (!nic->port->peer) {
                ifb_fabric_destroy(f);
                return ifb_err_msg(e, "fabric: host %s is not connected", tn->name);
            }
        }
    }
    if (setup_cc(f, e)) {
        ifb_fabric_destroy(f);
        return -1;
    }
    ifb_ooo_bounds(f, &f->reorder_wnd, &f->renak_wnd);
    for (int i = 0; cfg->port_loss && i < f->nports; i++) {
        f->ports[i].loss = cfg->port_loss[i];
        ifb_rng_seed(&f->ports[i].loss_rng, sim->seed, 0x1055000000ull + (uint64_t)i);
    }
    if (cfg->queue_bins && cfg->queue_bin) {
        f->qhist = ifb_xcalloc((size_t)f->nports, (size_t)cfg->queue_bins * sizeof *f->qhist,
                               "queue-length histograms");
        for (int i = 0; i < f->nports; i++)
            if (f->ports[i].sw)
                f->ports[i].qhist = f->qhist + (size_t)i * cfg->queue_bins;
    }
    if (f->ib) {
        for (int i = 0; i < f->nports; i++)
            for (int v = 0; v < IFB_NQUEUES; v++) {
                f->ports[i].credits[v] = v < cfg->ib_vls ? f->ib_credits : 0;
                if (v >= cfg->ib_vls)
                    f->ports[i].paused |= (uint8_t)(1u << v);
            }
    }
    /* Every step that can fail comes before the first event is scheduled: a fabric destroyed
     * after scheduling would leave events pointing at freed memory. The invariant checkers come
     * first (ifb_fabric_destroy unregisters them); ifb_int_setup schedules its probes only once
     * nothing in it can fail any more. */
    if (add_checkers(f, e) || (cfg->lb && ifb_lb_attach(f, cfg->lb, e)) || ifb_int_setup(f, e)) {
        ifb_fabric_destroy(f);
        return -1;
    }
    if (cfg->sample_interval) {
        f->sampler_armed = 1;
        ifb_sim_at_daemon(sim, ifb_time_add_sat(sim->now, cfg->sample_interval), sampler, f, 0);
    }
    if (cfg->rate_sample_interval)
        ifb_sim_at_daemon(sim, ifb_time_add_sat(sim->now, cfg->rate_sample_interval), rate_sampler,
                          f, 0);
    ifb_pfc_start_storms(f);
    if (!sim->diag) { /* the watchdog's report says what is stuck in this fabric */
        sim->diag = watchdog_diag;
        sim->diag_ctx = f;
    }
    *out = f;
    return 0;
}

void ifb_fabric_destroy(ifb_fabric *f)
{
    if (!f)
        return;
    ifb_lb_detach(f);
    ifb_int_free(f);
    ifb_sim *sim = f->sim;
    int kept = 0; /* drop this fabric's invariant checkers */
    for (int i = 0; i < sim->ncheckers; i++)
        if (sim->checker_ctx[i] != f) {
            sim->checkers[kept] = sim->checkers[i];
            sim->checker_ctx[kept] = sim->checker_ctx[i];
            sim->checker_name[kept] = sim->checker_name[i];
            kept++;
        }
    sim->ncheckers = kept;
    for (size_t i = 0; i < f->conns_cap; i++)
        free(f->conns ? f->conns[i].qps : NULL);
    free(f->conns);
    for (int i = 0; i < f->nhosts; i++) {
        for (uint32_t k = 0; k < f->nics[i].nqps; k++) {
            free(f->nics[i].qps[k]->ooo_bits);
            free(f->nics[i].qps[k]->pend);
        }
        free(f->nics[i].qps);
        free(f->nics[i].thr);
    }
    free(f->rsamples);
    ifb_fail_free(f);
    ifb_pool_destroy(&f->msg_pool);
    ifb_pool_destroy(&f->qp_pool);
    free(f->qhist);
    free(f->ports);
    free(f->switches);
    free(f->nics);
    free(f->nvl_tx_free);
    free(f->nvl_rx_free);
    free(f->recs);
    free(f->samples);
    if (f->sim->fabric == f)
        f->sim->fabric = NULL;
    if (f->sim->diag_ctx == f) {
        f->sim->diag = NULL;
        f->sim->diag_ctx = NULL;
    }
    free(f);
}

ifb_net *ifb_fabric_net(ifb_fabric *f)
{
    return &f->net;
}
const ifb_fabric_counters *ifb_fabric_counts(const ifb_fabric *f)
{
    return &f->cnt;
}
int ifb_fabric_nports(const ifb_fabric *f)
{
    return f->nports;
}
const ifb_port_stats *ifb_fabric_port_stats(const ifb_fabric *f, int port)
{
    return &f->ports[port].st;
}
uint64_t ifb_fabric_port_rate(const ifb_fabric *f, int port)
{
    return f->ports[port].rate;
}
const ifb_topo *ifb_fabric_topo(const ifb_fabric *f)
{
    return f->topo;
}
ifb_time ifb_fabric_last_done(const ifb_fabric *f)
{
    return f->last_done;
}

const ifb_msg_rec *ifb_fabric_messages(const ifb_fabric *f, size_t *n)
{
    *n = f->nrecs;
    return f->recs;
}

const uint64_t *ifb_fabric_util_samples(const ifb_fabric *f, size_t *nsamples)
{
    *nsamples = f->nsamples;
    return f->samples;
}

size_t ifb_fabric_qp_retx(const ifb_fabric *f, uint64_t *per_qp, size_t cap)
{
    size_t k = 0;
    for (int i = 0; i < f->nhosts; i++)
        for (uint32_t j = 0; j < f->nics[i].nqps; j++, k++)
            if (k < cap)
                per_qp[k] = f->nics[i].qps[j]->retx;
    return k;
}

uint64_t ifb_fabric_inflight(const ifb_fabric *f)
{
    uint64_t n = 0;
    for (int i = 0; i < f->nports; i++) {
        const ifb_port *p = &f->ports[i];
        for (int q = 0; q < IFB_NQUEUES; q++)
            for (const ifb_pkt *pk = p->q[q].head; pk; pk = pk->next)
                n++;
        for (const ifb_pkt *pk = p->pipe.head; pk; pk = pk->next)
            n++;
        for (const ifb_pkt *pk = p->pfcq.head; pk; pk = pk->next)
            n++;
        for (const ifb_pkt *pk = p->pfc_pipe.head; pk; pk = pk->next)
            n++;
    }
    return n;
}

static const char *pkt_kind_name(int kind)
{
    static const char *const names[] = {"data", "ACK", "NAK", "CNP", "PFC", "probe"};
    return kind >= 0 && kind < (int)(sizeof names / sizeof names[0]) ? names[kind] : "?";
}

static void port_name(const ifb_fabric *f, const ifb_port *p, char *out, size_t cap)
{
    snprintf(out, cap, "%s:%d", f->topo->nodes[f->topo->ports[p->id].node].name, p->index);
}

/* Packets nothing will ever move: queued on an InfiniBand VL the port does not have (never
 * served), or, once the run has ended by itself (no event left that could move them), anywhere
 * at all. Counted by walking the queues; the first one found is described in `where`. */
static uint64_t stuck_pkts(const ifb_fabric *f, int ended, char *where, size_t cap)
{
    uint64_t n = 0;
    where[0] = '\0';
    for (int i = 0; i < f->nports; i++) {
        const ifb_port *p = &f->ports[i];
        const ifb_fifo *fifos[IFB_NQUEUES + 3];
        int nf = 0;
        for (int q = 0; q < IFB_NQUEUES; q++)
            fifos[nf++] = &p->q[q];
        fifos[nf++] = &p->pipe;
        fifos[nf++] = &p->pfcq;
        fifos[nf++] = &p->pfc_pipe;
        for (int k = 0; k < nf; k++) {
            int novl = f->ib && k < IFB_NQUEUES && k >= f->cfg.ib_vls;
            if (!fifos[k]->head || !(novl || ended))
                continue;
            n += fifos[k]->n;
            if (where[0])
                continue;
            const ifb_pkt *pk = fifos[k]->head;
            char pn[64];
            port_name(f, p, pn, sizeof pn);
            if (k < IFB_NQUEUES)
                snprintf(where, cap, "%s from host %u to host %u in queue %d of %s%s",
                         pkt_kind_name(pk->kind), pk->src, pk->dst, k, pn,
                         novl ? ", a VL this InfiniBand fabric does not have" : "");
            else
                snprintf(where, cap, "%s from host %u to host %u %s %s", pkt_kind_name(pk->kind),
                         pk->src, pk->dst,
                         k == IFB_NQUEUES + 1 ? "in the PFC queue of" : "on the link from", pn);
        }
    }
    return n;
}

int ifb_fabric_check_conservation(const ifb_fabric *f, char *msg, size_t cap)
{
    uint64_t inflight = ifb_fabric_inflight(f);
    const ifb_fabric_counters *c = &f->cnt;
    if (c->pkts_created != c->pkts_consumed + c->pkts_dropped + inflight ||
        inflight != f->sim->pkt_pool.live) {
        if (msg)
            snprintf(msg, cap,
                     "packet conservation violated: created %" PRIu64 " != consumed %" PRIu64
                     " + dropped %" PRIu64 " + in flight %" PRIu64 " (pool live %" PRIu64 ")",
                     c->pkts_created, c->pkts_consumed, c->pkts_dropped, inflight,
                     f->sim->pkt_pool.live);
        return -1;
    }
    /* in flight only counts if it can still arrive: a packet parked where nothing serves it
     * is as lost as one that vanished, only quieter */
    char where[300];
    uint64_t stuck = stuck_pkts(f, f->sim->stop == IFB_STOP_EMPTY, where, sizeof where);
    if (!stuck)
        return 0;
    if (msg)
        snprintf(msg, cap,
                 "packet conservation violated: %" PRIu64 " of the %" PRIu64
                 " packets in flight can never be delivered or dropped (%s); first: %s",
                 stuck, inflight,
                 f->sim->stop == IFB_STOP_EMPTY ? "the run ended with nothing left to move them"
                                                : "queued where nothing serves them",
                 where);
    return -1;
}

/* A packet for a queue its port does not have (an InfiniBand VL at or above fabric.ib.vls):
 * nothing would ever serve it. The loader refuses every configuration that sends a class there,
 * so this is a model bug: the packet is dropped (counted, so conservation still balances) and
 * the run stops with the invariant's name, whether --check is on or not. */
void ifb_fabric_no_queue(ifb_fabric *f, ifb_port *p, ifb_pkt *pk)
{
    char pn[64];
    port_name(f, p, pn, sizeof pn);
    f->cnt.no_queue_drops++;
    ifb_sim_request_stop(f->sim, IFB_STOP_ERROR,
                         "invariant queue-exists violated at t=%.6f us: %s packet from host %u "
                         "to host %u sent to VL %u of %s, which has %d data VLs (fabric.ib.vls): "
                         "nothing would ever serve it",
                         ifb_time_to_us(f->sim->now), pkt_kind_name(pk->kind), pk->src, pk->dst,
                         pk->tc, pn, f->cfg.ib_vls);
    ifb_fabric_drop_pkt(f, p, pk);
}

void ifb_fabric_capture(ifb_fabric *f, int port, struct ifb_pcap *pcap)
{
    if (port >= 0 && port < f->nports)
        f->ports[port].pcap = pcap;
}

const ifb_port_cc_stats *ifb_fabric_port_cc(const ifb_fabric *f, int port)
{
    return &f->ports[port].cc;
}

ifb_time ifb_fabric_port_paused_time(const ifb_fabric *f, int port, int prio)
{
    const ifb_port *p = &f->ports[port];
    ifb_time t = p->cc.paused[prio];
    if (p->paused & (1u << prio))
        t += f->sim->now - p->paused_since[prio];
    return t;
}

uint64_t ifb_fabric_port_queue_bytes(const ifb_fabric *f, int port)
{
    const ifb_port *p = &f->ports[port];
    uint64_t b = 0;
    for (int q = 0; q < IFB_NQUEUES; q++)
        b += p->q[q].bytes;
    return b;
}

uint64_t ifb_fabric_port_headroom(const ifb_fabric *f, int port)
{
    return f->pfc_mask ? f->ports[port].headroom : 0;
}

int ifb_fabric_paused_ports(const ifb_fabric *f, ifb_time min_paused, ifb_paused_port *out, int cap)
{
    int n = 0;
    ifb_time now = f->sim->now;
    for (int i = 0; i < f->nports; i++) {
        const ifb_port *p = &f->ports[i];
        if (!p->paused)
            continue;
        for (int q = 0; q < IFB_NQUEUES; q++) {
            if (!(p->paused & (1u << q)) || now - p->paused_since[q] < min_paused)
                continue;
            if (n < cap)
                out[n] = (ifb_paused_port){i, q, p->paused_since[q]};
            n++;
        }
    }
    return n;
}

const ifb_rate_sample *ifb_fabric_rate_samples(const ifb_fabric *f, size_t *n)
{
    *n = f->nrsamples;
    return f->rsamples;
}

int ifb_fabric_write_rate_csv(const ifb_fabric *f, FILE *out)
{
    if (fprintf(out, "time_us,host,qpn,rate_gbps\n") < 0)
        return -1;
    for (size_t i = 0; i < f->nrsamples; i++) {
        const ifb_rate_sample *r = &f->rsamples[i];
        if (fprintf(out, "%.3f,%d,%" PRIu32 ",%.6f\n", ifb_time_to_us(r->t), r->host, r->qpn,
                    (double)r->rate_bps / 1e9) < 0)
            return -1;
    }
    return 0;
}

uint64_t ifb_fabric_qp_rate(const ifb_fabric *f, int host, uint32_t qpn)
{
    if (host < 0 || host >= f->nhosts)
        return 0;
    const ifb_nic *nic = &f->nics[host];
    for (uint32_t j = 0; j < nic->nqps; j++)
        if (nic->qps[j]->qpn == qpn)
            return nic->qps[j]->limited ? nic->qps[j]->rc : nic->port->rate;
    return 0;
}

uint32_t ifb_fabric_ib_max_held(const ifb_fabric *f)
{
    uint32_t m = 0;
    for (int i = 0; i < f->nports; i++)
        for (int v = 0; v < IFB_NQUEUES; v++)
            if (f->ports[i].ibuf_max[v] > m)
                m = f->ports[i].ibuf_max[v];
    return m;
}

uint32_t ifb_fabric_ib_credits(const ifb_fabric *f)
{
    return f->ib_credits;
}

const uint64_t *ifb_fabric_queue_hist(const ifb_fabric *f, int port, uint32_t *nbins,
                                      uint32_t *bin_bytes)
{
    *nbins = f->cfg.queue_bins;
    *bin_bytes = f->cfg.queue_bin;
    return port >= 0 && port < f->nports ? f->ports[port].qhist : NULL;
}

/* The message-completion invariant (--check): every message posted was completed, failed or is
 * still outstanding, where outstanding is counted by walking every QP's list of messages not yet
 * acknowledged and the NVLink completions pending in the event queue, independently of the
 * counters; and when a run ended by itself (nothing left to do: not stopped, not partial),
 * nothing is outstanding. A message leaked by the transport breaks the first; one whose work
 * item was ended without completing it breaks the second. Either names the oldest message. */
static void oldest_msg(const ifb_msg *m, const ifb_msg **old)
{
    if (!*old || m->start < (*old)->start)
        *old = m;
}

/* NVLink messages in flight are pending completion events, not QP entries. */
struct nvl_scan {
    uint64_t n;
    const ifb_msg *old;
};

static void nvlink_pending(const ifb_event *ev, void *ctx)
{
    struct nvl_scan *s = ctx;
    if (ev->fn == nvlink_done) {
        s->n++;
        oldest_msg(ev->obj, &s->old);
    }
}

static int check_messages_inv(ifb_sim *sim, void *ctx, char *msg, size_t cap)
{
    const ifb_fabric *f = ctx;
    uint64_t out = 0;
    const ifb_msg *old = NULL;
    for (int h = 0; h < f->nhosts; h++)
        for (uint32_t k = 0; k < f->nics[h].nqps; k++)
            for (const ifb_msg *m = f->nics[h].qps[k]->head; m; m = m->next) {
                out++;
                oldest_msg(m, &old);
            }
    struct nvl_scan scan = {0, NULL};
    ifb_sim_each_pending(sim, nvlink_pending, &scan);
    out += scan.n;
    if (scan.old)
        oldest_msg(scan.old, &old);
    const ifb_fabric_counters *c = &f->cnt;
    char who[200] = "";
    if (old)
        snprintf(who, sizeof who,
                 "; oldest outstanding: message %llu, endpoint %d -> %d, %llu B, "
                 "class %d, posted %.3f us ago",
                 (unsigned long long)old->id, old->src, old->dst, (unsigned long long)old->bytes,
                 old->tclass, ifb_time_to_us(sim->now - old->start));
    if (c->msgs_posted != c->msgs_done + c->msgs_failed + out) {
        snprintf(msg, cap,
                 "%llu messages posted but %llu completed + %llu failed + %llu outstanding (in QP "
                 "lists and NVLink transfers): %lld unaccounted for%s",
                 (unsigned long long)c->msgs_posted, (unsigned long long)c->msgs_done,
                 (unsigned long long)c->msgs_failed, (unsigned long long)out,
                 (long long)(c->msgs_posted - c->msgs_done - c->msgs_failed - out), who);
        return -1;
    }
    if (sim->stop == IFB_STOP_EMPTY && out) {
        snprintf(msg, cap,
                 "the run ended with nothing left to do but %llu messages were never completed "
                 "or failed%s",
                 (unsigned long long)out, who);
        return -1;
    }
    return 0;
}

/* The watchdog's diagnosis: the oldest message still outstanding and the (port, priority) pairs
 * paused longest, which together say whether a black hole, a loss that is never repaired or a
 * PFC deadlock holds the run. */
static void watchdog_diag(ifb_sim *sim, void *ctx, char *msg, size_t cap)
{
    const ifb_fabric *f = ctx;
    uint64_t out = 0;
    const ifb_msg *old = NULL;
    for (int h = 0; h < f->nhosts; h++)
        for (uint32_t k = 0; k < f->nics[h].nqps; k++)
            for (const ifb_msg *m = f->nics[h].qps[k]->head; m; m = m->next) {
                out++;
                oldest_msg(m, &old);
            }
    size_t w = 0;
    if (old)
        w += (size_t)snprintf(
            msg, cap,
            "oldest outstanding network message: %llu, endpoint %d -> %d, %llu B, "
            "posted %.3f us ago (%llu on NIC QPs)",
            (unsigned long long)old->id, old->src, old->dst, (unsigned long long)old->bytes,
            ifb_time_to_us(sim->now - old->start), (unsigned long long)out);
    else
        w += (size_t)snprintf(msg, cap, "no network message outstanding on any QP");
    ifb_paused_port pp[4];
    int n = ifb_fabric_paused_ports(f, 0, pp, 4);
    for (int i = 0; i < n && i < 4 && w < cap; i++) {
        const ifb_topo_port *tp = &f->topo->ports[pp[i].port];
        w += (size_t)snprintf(msg + w, cap - w, "%s%s:%d prio %d paused %.3f us",
                              i ? ", " : "; paused: ", f->topo->nodes[tp->node].name, tp->index,
                              pp[i].prio, ifb_time_to_us(sim->now - pp[i].since));
    }
    if (n > 4 && w < cap)
        snprintf(msg + w, cap - w, " and %d more", n - 4);
}
