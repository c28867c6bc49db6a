/* Links and ports (see link.h): putting a frame on the link, and the port-level helpers that
 * are not on every packet-hop (drops, names, the paused-port listing). The transmit side is
 * store-and-forward at the sender: a frame is serialized at the port rate, then spends the
 * propagation delay on the link, where it sits in the port's own FIFO (`pipe`) and one event
 * delivers the head, so a port never has more than two events pending (end of serialization,
 * next delivery) however busy it is. Switch port-to-port latency is folded into the delivery
 * time: from the first bit's arrival (cut-through) or the last bit's (store-and-forward).
 * Cut-through assumes the egress is not faster than the ingress, which holds in every topology
 * the builders make. PFC frames leave ahead of any data and travel in their own link FIFO
 * (`pfc_pipe`): they reach the peer's MAC after serialization and propagation only, with no
 * switch or NIC latency. InfiniBand: a transmitter holds credits (64-byte blocks) for the
 * receive buffer at the other end of its link; a VL whose credits cannot cover the largest
 * packet stops (marked in `paused`, as a PFC-paused priority would be) until credits come back.
 * Credits return when a packet leaves the receive buffer (forwarded out of the switch, or
 * consumed by the NIC) and take the link's delay to arrive, so nothing is ever dropped for lack
 * of buffer. Left out: as link.h says. */
#include "net/link/link.h"

#include <stdio.h>

#include "net/wire/pcap.h"
#include "net/wire/wire.h"

void ifb_link_start_tx(ifb_port *p, ifb_pkt *pk)
{
    ifb_fabric *f = p->f;
    ifb_sim *sim = f->sim;
    ifb_time now = sim->now;
    ifb_time ser = ifb_port_tx_time(p, pk->wire);
    ifb_time first = now + p->delay;
    ifb_event_fn rx; /* the receiving port's owner takes the deliveries */
    if (p->peer->sw) {
        pk->t = (f->cfg.cut_through ? first : first + ser) + f->cfg.switch_latency;
        rx = f->ev_switch;
    } else {
        pk->t = first + ser + f->cfg.nic_rx_latency;
        rx = f->ev_nic;
    }
    p->busy = 1;
    p->st.tx_bytes += pk->wire;
    p->st.tx_pkts++;
    if (pk->kind == IFB_PK_DATA)
        p->st.tx_payload += pk->payload;
    sim->pkt_hops++;
    if (p->pcap)
        ifb_pcap_write_pkt(p->pcap, now, pk);
    if (pk->kind == IFB_PK_PFC) {
        pk->t = first + ser;
        ifb_fifo_push(&p->pfc_pipe, pk);
        if (!p->pfc_pipe_armed) {
            p->pfc_pipe_armed = 1;
            ifb_sim_at(sim, pk->t, rx, p, IFB_EV_DELIVER_PFC);
        }
        ifb_sim_at(sim, now + ser, ifb_port_ev(p), p, IFB_EV_TX_DONE);
        return;
    }
    if (f->ib) {
        uint32_t blocks = ifb_ib_blocks(pk->wire);
        p->credits[pk->tc] -= blocks;
        if (p->credits[pk->tc] < f->ib_max_blocks && !(p->paused & (1u << pk->tc))) {
            p->paused |= (uint8_t)(1u << pk->tc);
            p->paused_since[pk->tc] = now;
            p->cc.credit_stalls[pk->tc]++;
        }
        /* An HCA frees its receive buffer as the frame lands (placement is pipelined behind
         * it), so the credits start back when the last bit arrives, not after rx latency. */
        if (p->peer->nic)
            ifb_sim_at(sim, first + ser + p->delay, ifb_port_ev(p), p,
                       IFB_EV_CREDIT | (uint64_t)pk->tc << 8 | (uint64_t)blocks << 16);
    }
    ifb_fifo_push(&p->pipe, pk);
    if (!p->pipe_armed) {
        p->pipe_armed = 1;
        ifb_sim_at(sim, pk->t, rx, p, IFB_EV_DELIVER);
    }
    p->free_at = now + ser;
    if (p->sw && !p->qbytes && !p->pfcq.n) {
        /* nothing waits behind this frame: skip the end-of-serialization event, one per
         * packet-hop on an uncongested port; ifb_link_ready arms it if a frame comes first */
        p->busy = 0;
        return;
    }
    ifb_sim_at(sim, now + ser, ifb_port_ev(p), p, IFB_EV_TX_DONE);
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

void ifb_port_name(const ifb_fabric *f, const ifb_port *p, char *out, size_t cap)
{
    snprintf(out, cap, "%s:%d", f->topo->nodes[f->topo->ports[p->id].node].name, p->index);
}

/* A packet for a queue its port does not have (an InfiniBand VL at or above fabric.ib.vls):
 * nothing would ever serve it. The loader refuses every configuration that sends a class there,
 * so this is a model bug: the packet is dropped (counted, so conservation still balances) and
 * the run stops with the invariant's name, whether --check is on or not. */
void ifb_fabric_no_queue(ifb_fabric *f, ifb_port *p, ifb_pkt *pk)
{
    char pn[64];
    ifb_port_name(f, p, pn, sizeof pn);
    f->cnt.no_queue_drops++;
    ifb_sim_request_stop(f->sim, IFB_STOP_ERROR,
                         "invariant queue-exists violated at t=%.6f us: %s packet from host %u "
                         "to host %u sent to VL %u of %s, which has %d data VLs (fabric.ib.vls): "
                         "nothing would ever serve it",
                         ifb_time_to_us(f->sim->now), ifb_pkt_kind_name(pk->kind), pk->src, pk->dst,
                         pk->tc, pn, f->cfg.ib_vls);
    ifb_fabric_drop_pkt(f, p, pk);
}

int ifb_link_paused_ports(const ifb_fabric *f, ifb_time min_paused, ifb_paused_port *out, int cap)
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
