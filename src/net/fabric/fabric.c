/* Fabric assembly: a packet-level fabric built from a topology. Every topology port becomes a
 * link port, every switch node a switch with its shared buffer (PFC headroom and reserve set
 * aside when PFC is on), every host a NIC; the components are wired together here (the event
 * handlers of switch and NIC ports, the few upward callbacks: net/README.md), then path
 * selection, INT, the invariant checkers, the samplers and PFC storms are set up. Every step
 * that can fail comes before the first event is scheduled. Left out: building a fabric from
 * anything but a routed topology (ifb_topo_route), changing it once built (failures aside). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/rng.h"
#include "net/fabric/fabric_int.h"
#include "net/switch/ib_ar.h"
#include "net/switch/lb.h"
#include "net/switch/pfc.h"
#include "net/wire/wire.h"

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
    for (int q = 0; q < IFB_NQUEUES; q++) {
        if (c->queue[q].sched == IFB_SCHED_STRICT)
            f->strict_mask |= (uint8_t)(1u << q);
        else if (c->queue[q].sched == IFB_SCHED_DWRR)
            f->dwrr_mask |= (uint8_t)(1u << q);
        f->quantum[q] = ifb_link_quantum(f, q);
    }
    if (f->ib) /* ECN is RoCE's: on InfiniBand the egress marks FECN when IB CC is on */
        f->ecn_deq_mask = f->ecn_enq_mask = 0;
    if (ifb_fecn_setup(f))
        f->ecn_deq_mask = (uint8_t)((1u << c->ib_vls) - 1);
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
    if (ifb_fabric_check_cfg(cfg, e))
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
    /* the ways the components are wired together (net/README.md) */
    f->ev_switch = ifb_switch_port_event;
    f->ev_nic = ifb_nic_port_event;
    f->nic_unpause = ifb_nic_unpause;
    f->msg_done = ifb_fabric_msg_done;
    f->topo = t;
    f->cfg = *cfg;
    f->cfg.intc.max_hops = (uint8_t)int_hops;
    f->ib = cfg->l2 == IFB_L2_IB;
    f->ib_credits = ib_credits;
    f->ib_max_blocks = ib_max_blocks;
    sim->fabric = f;
    f->net = (ifb_net){.impl = f, .send = ifb_fabric_send};
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
            p->ps_per_byte = ifb_ps_per_byte(p->rate);
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
    if (ifb_fabric_add_checkers(f, e) || (cfg->lb && ifb_lb_attach(f, cfg->lb, e)) ||
        ifb_ar_setup(f, e) || ifb_int_setup(f, e)) {
        ifb_fabric_destroy(f);
        return -1;
    }
    if (cfg->sample_interval) {
        f->sampler_armed = 1;
        ifb_sim_at_daemon(sim, ifb_time_add_sat(sim->now, cfg->sample_interval), ifb_fabric_sampler,
                          f, 0);
    }
    if (cfg->rate_sample_interval)
        ifb_sim_at_daemon(sim, ifb_time_add_sat(sim->now, cfg->rate_sample_interval),
                          ifb_fabric_rate_sampler, f, 0);
    ifb_nic_start_storms(f);
    if (!sim->diag) { /* the watchdog's report says what is stuck in this fabric */
        sim->diag = ifb_fabric_watchdog_diag;
        sim->diag_ctx = f;
    }
    *out = f;
    return 0;
}

void ifb_fabric_destroy(ifb_fabric *f)
{
    if (!f)
        return;
    ifb_ar_free(f);
    ifb_fecn_free(f);
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
    if (f->fail_free) /* the failure controller's state (net/fail) */
        f->fail_free(f);
    ifb_goodput_free(f);
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
