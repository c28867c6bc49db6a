/* Links, ports, queues and scheduling: the part of the packet-level fabric that switch ports
 * and NIC ports share. A port owns eight egress queues (FIFOs of packets), a scheduler (strict
 * priority above deficit-weighted round robin, or the InfiniBand VL arbiter) and the link toward
 * its peer: a frame is serialized at the port rate, then spends the propagation delay on the
 * link in the port's own FIFO (`pipe`), whose head one event delivers. InfiniBand credits and
 * PFC pause stop a queue the same way (its bit in `paused`).
 *
 * What a frame does when it arrives, and where a port's next frame comes from, is its owner's
 * business: a switch port's events go to net/switch/switch.c, a NIC port's to net/nic/nic.c,
 * through the two handlers the assembly puts in the fabric context (f->ev_switch, f->ev_nic).
 * This component calls nothing above it. What every packet-hop runs is static inline here, so
 * that each owner's handler inlines it, as the single net/port.c it came from did.
 * Left out: link-level retry, FEC, a transmit pipeline inside the port (the NIC and switch
 * latencies are folded into the delivery time). */
#ifndef IFB_NET_LINK_H
#define IFB_NET_LINK_H
#include <stddef.h>

#include "core/rng.h"
#include "net/base/ctx.h"
#include "net/link/ib.h"

/* A port's events (the argument of its owner's handler). EV_DELIVER and EV_DELIVER_PFC are
 * scheduled on the sending port and handled by the receiving port's owner; the others by the
 * port's own. EV_CREDIT carries the VL in bits 8-15 and the blocks from bit 16. */
enum { IFB_EV_TX_DONE = 0, IFB_EV_DELIVER = 1, IFB_EV_DELIVER_PFC = 2, IFB_EV_CREDIT = 3 };

typedef struct ifb_fifo {
    ifb_pkt *head, *tail;
    uint32_t n;
    uint64_t bytes;
} ifb_fifo;

static inline void ifb_fifo_push(ifb_fifo *q, ifb_pkt *p)
{
    p->next = NULL;
    if (q->tail)
        q->tail->next = p;
    else
        q->head = p;
    q->tail = p;
    q->n++;
    q->bytes += p->wire;
}

static inline ifb_pkt *ifb_fifo_pop(ifb_fifo *q)
{
    ifb_pkt *p = q->head;
    if (p) {
        q->head = p->next;
        if (!q->head)
            q->tail = NULL;
        else /* the next pop reads it: start the cache miss now, not then */
            __builtin_prefetch(q->head);
        q->n--;
        q->bytes -= p->wire;
        p->next = NULL;
    }
    return p;
}

struct ifb_port {
    /* what every packet through the port touches, first: a few cache lines instead of the
     * whole record (which the IB, PFC and watchdog state below make about 1.7 KB) */
    ifb_fabric *f;
    ifb_switch *sw; /* owner when on a switch */
    ifb_nic *nic;   /* owner when on a host */
    struct ifb_port *peer;
    uint64_t rate;
    ifb_time delay;
    /* end of the frame being serialized; a switch port with nothing queued behind it arms no
     * end-of-serialization event (busy stays 0) until a frame arrives before this time */
    ifb_time free_at;
    uint64_t qbytes; /* bytes in all egress queues */
    ifb_fifo pipe;   /* frames on the link toward the peer, in arrival order */
    uint8_t busy, pipe_armed, rr, rr_credited;
    uint8_t paused; /* bitmask of paused priorities (PFC) or credit-starved VLs (IB) */
    uint8_t qmask;  /* bitmask of the egress queues holding packets (ifb_port_qpush/qpop) */
    /* failures (net/fail): causes holding the link down now, and as routing sees it (after
     * the detection delay); frames at the head of `pipe` that were on the link when it failed */
    uint8_t down, dead;
    uint32_t doomed;
    uint32_t ps_per_byte; /* ifb_ps_per_byte(rate): serialization without a divide, or 0 */
    double loss;          /* probability a frame sent here arrives corrupted */
    struct ifb_pcap *pcap;
    uint64_t *qhist; /* time-weighted occupancy histogram (cfg.queue_bins), ps per bin */
    ifb_port_stats st;
    ifb_fifo pfcq; /* PFC frames to send, ahead of data */
    int32_t deficit[IFB_NQUEUES];
    ifb_fifo q[IFB_NQUEUES];
    int id;    /* topology port id */
    int index; /* port number on its node */
    ifb_rng loss_rng;
    uint32_t credits[IFB_NQUEUES]; /* IB: 64-byte blocks free in the peer's buffer per VL */
    uint32_t ibuf[IFB_NQUEUES];    /* IB: blocks held in this port's receive buffer per VL */
    uint32_t ibuf_max[IFB_NQUEUES];
    ifb_vlarb vlarb;
    uint64_t sampled_bytes;
    /* PFC, egress side: pause frames on the link, which reach the peer's MAC without the
     * switch/NIC latency data frames have */
    ifb_fifo pfc_pipe;
    uint8_t pfc_pipe_armed, pause_armed, refresh_armed, storm;
    ifb_time pause_until[IFB_NQUEUES], paused_since[IFB_NQUEUES];
    ifb_time pause_timer_at;
    /* PFC, ingress side (switch ports): this port's priority groups in the shared buffer */
    uint64_t pg_bytes[IFB_NQUEUES];  /* reserved + shared part */
    uint64_t pg_hdrm[IFB_NQUEUES];   /* headroom part */
    uint64_t headroom;               /* per lossless priority */
    uint8_t xoff;                    /* priorities this port has paused upstream */
    ifb_time xoff_next[IFB_NQUEUES]; /* refresh due */
    ifb_port_cc_stats cc;
    /* PFC watchdog (switch egress side): priorities in a detected storm, pause frames ignored
     * and packets dropped until no pause frame has come for cfg.pfcwd_restore */
    uint8_t wd_storm, wd_armed;
    ifb_time wd_last_rx[IFB_NQUEUES];
    /* misbehaving NIC (cfg.pfc_storms): priorities it is pausing and when each storm ends */
    uint8_t storm_tx;
    ifb_time storm_end[IFB_NQUEUES];
};

/* The handler for events of port p (its owner's). */
static inline ifb_event_fn ifb_port_ev(const ifb_port *p)
{
    return p->sw ? p->f->ev_switch : p->f->ev_nic;
}

/* Egress queue i of port p gains pk / gives up its head: the only ways its queues change, so that
 * qmask (what the scheduler reads instead of the eight queues) stays true. */
static inline void ifb_port_qpush(ifb_port *p, int i, ifb_pkt *pk)
{
    ifb_fifo_push(&p->q[i], pk);
    p->qmask |= (uint8_t)(1u << i);
}

static inline ifb_pkt *ifb_port_qpop(ifb_port *p, int i)
{
    ifb_pkt *pk = ifb_fifo_pop(&p->q[i]);
    if (!p->q[i].n)
        p->qmask &= (uint8_t) ~(1u << i);
    return pk;
}

/* Serialization time of `bytes` at port p's rate (ifb_tx_time, exactly). */
static inline ifb_time ifb_port_tx_time(const ifb_port *p, uint32_t bytes)
{
    return p->ps_per_byte ? (ifb_time)bytes * p->ps_per_byte : ifb_tx_time(bytes, p->rate);
}

/* The port of host h (its first, the one its NIC uses). */
static inline ifb_port *ifb_host_port(const ifb_fabric *f, int h)
{
    return &f->ports[f->topo->nodes[f->topo->host_node[h]].first_port];
}

/* The port's queued bytes change now: the span of the old value goes into its statistics. */
static inline void ifb_port_queue_change(ifb_port *p, ifb_time now)
{
    ifb_time dt = now - p->st.last_change;
    p->st.queue_byte_ps += (double)p->qbytes * (double)dt;
    if (p->qhist) {
        const ifb_fabric_cfg *c = &p->f->cfg;
        uint64_t bin = p->qbytes / c->queue_bin;
        p->qhist[bin < c->queue_bins ? bin : c->queue_bins - 1] += dt;
    }
    p->st.last_change = now;
}

static inline uint32_t ifb_link_quantum(const ifb_fabric *f, int q)
{
    uint32_t w = f->cfg.queue[q].weight ? f->cfg.queue[q].weight : 1;
    return w * (f->cfg.mtu + 256);
}

/* InfiniBand: the VL arbiter picks among VLs with a packet and the credits to send it. */
static inline ifb_pkt *ifb_link_sched_ib(ifb_port *p)
{
    const ifb_fabric *f = p->f;
    uint32_t eligible = p->qmask & (uint8_t)~p->paused, head[IFB_NQUEUES] = {0};
    for (uint32_t m = eligible; m; m &= m - 1) {
        int i = __builtin_ctz(m);
        head[i] = p->q[i].head->wire;
    }
    int vl = ifb_vlarb_pick(&p->vlarb, &f->cfg.ib_vlarb, eligible, head);
    return vl >= 0 ? ifb_port_qpop(p, vl) : NULL;
}

/* Strict-priority queues first, highest index first; then deficit-weighted round robin among
 * the rest: from queue rr on, a queue that holds packets and is not paused gets its quantum once
 * per visit (rr_credited: already given on this visit) and sends its head if the deficit covers
 * it; every queue passed over without sending loses its deficit when it is empty or paused, and
 * at most 2 x 8 queues are visited. The visits to queues that cannot send are skipped by the
 * masks (f->dwrr_mask: DWRR queues) with the same effect as walking through them. */
static inline ifb_pkt *ifb_link_sched(ifb_port *p)
{
    const ifb_fabric *f = p->f;
    if (f->ib)
        return ifb_link_sched_ib(p);
    uint32_t ready = p->qmask & (uint8_t)~p->paused;
    uint32_t strict = ready & f->strict_mask;
    if (strict)
        return ifb_port_qpop(p, 31 - __builtin_clz(strict));
    uint32_t elig = ready & f->dwrr_mask;
    int left = 2 * IFB_NQUEUES, i = p->rr;
    while (left > 0) {
        /* distance to the next eligible queue from i (all visits if there is none) */
        int d = elig ? __builtin_ctz(((elig | elig << IFB_NQUEUES) >> i) & 0xffu) : left;
        if (d >= left)
            d = left;
        if (d > 0) {
            for (int k = 0; k < d && k < IFB_NQUEUES; k++)
                p->deficit[(i + k) % IFB_NQUEUES] = 0;
            i = (i + d) % IFB_NQUEUES;
            left -= d;
            p->rr = (uint8_t)i;
            p->rr_credited = 0;
            if (!left)
                break;
        }
        ifb_fifo *q = &p->q[i];
        if (!p->rr_credited) {
            p->deficit[i] += (int32_t)f->quantum[i];
            p->rr_credited = 1;
        }
        if ((int32_t)q->head->wire <= p->deficit[i]) {
            p->deficit[i] -= (int32_t)q->head->wire;
            ifb_pkt *pk = ifb_port_qpop(p, i);
            if (!q->n) {
                p->deficit[i] = 0;
                p->rr = (uint8_t)((i + 1) % IFB_NQUEUES);
                p->rr_credited = 0;
            }
            return pk;
        }
        i = (i + 1) % IFB_NQUEUES;
        left--;
        p->rr = (uint8_t)i;
        p->rr_credited = 0;
    }
    return NULL;
}

/* IB: the packet left the receive buffer of port `in` (forwarded or consumed): its credits go
 * back to the transmitter at the other end of the link, arriving after the link delay. */
static inline void ifb_port_return_credits(ifb_port *in, const ifb_pkt *pk)
{
    ifb_fabric *f = in->f;
    uint32_t blocks = ifb_ib_blocks(pk->wire);
    if (in->sw)
        in->ibuf[pk->tc] -= blocks;
    ifb_sim_at(f->sim, f->sim->now + in->delay, ifb_port_ev(in->peer), in->peer,
               IFB_EV_CREDIT | (uint64_t)pk->tc << 8 | (uint64_t)blocks << 16);
}

/* IB: credits for `blocks` of VL vl's buffer came back to port p. Returns 1 if that lifts the
 * VL's stall (the owner then resumes it: a NIC its paused QPs, a switch its scheduler). */
static inline int ifb_link_credit(ifb_port *p, int vl, uint32_t blocks)
{
    const ifb_fabric *f = p->f;
    p->credits[vl] += blocks;
    if ((p->paused & (1u << vl)) && p->credits[vl] >= f->ib_max_blocks) {
        p->paused &= (uint8_t) ~(1u << vl);
        p->cc.credit_stall[vl] += f->sim->now - p->paused_since[vl];
        return 1;
    }
    return 0;
}

/* A kick's first step: 1 if port p may start its next frame now. A port still serializing
 * with no end-of-serialization event armed (a switch port skips it when nothing waits, see
 * ifb_link_start_tx) gets it armed here, on its owner's handler `self`. */
static inline int ifb_link_ready(ifb_port *p, ifb_event_fn self)
{
    if (p->busy || !p->peer || p->down)
        return 0;
    if (p->f->sim->now < p->free_at) { /* still serializing, with no event armed: arm it */
        p->busy = 1;
        ifb_sim_at(p->f->sim, p->free_at, self, p, IFB_EV_TX_DONE);
        return 0;
    }
    return 1;
}

void ifb_fabric_drop_pkt(ifb_fabric *f, ifb_port *at, ifb_pkt *pk);

/* EV_DELIVER on port p, in the handler `self` of p's peer: the frame at the head of p's link
 * arrives at the peer. Returns it, or NULL when it was lost on the way (on the link when it
 * failed, or corrupted and discarded by the receiving MAC: dropped and counted here). */
static inline ifb_pkt *ifb_link_arrive(ifb_sim *sim, ifb_port *p, ifb_event_fn self)
{
    ifb_pkt *pk = ifb_fifo_pop(&p->pipe);
    if (p->pipe.head) {
        ifb_sim_at(sim, p->pipe.head->t, self, p, IFB_EV_DELIVER);
        /* the next delivery reads the new head's successor's time */
        if (p->pipe.head->next)
            __builtin_prefetch(p->pipe.head->next);
    } else
        p->pipe_armed = 0;
    ifb_port *peer = p->peer;
    if (p->doomed) {
        /* on the link (or being serialized) when it failed: lost (net/fail/failure.c) */
        ifb_fabric *f = p->f;
        p->doomed--;
        f->cnt.link_down_drops++;
        if (f->ib && peer->sw)
            ifb_sim_at(sim, sim->now + p->delay, ifb_port_ev(p), p,
                       IFB_EV_CREDIT | (uint64_t)pk->tc << 8 |
                           (uint64_t)ifb_ib_blocks(pk->wire) << 16);
        ifb_fabric_drop_pkt(f, p, pk);
        return NULL;
    }
    if (p->loss > 0 && ifb_rng_double(&p->loss_rng) < p->loss) {
        /* corrupted on the wire: the receiver's MAC fails the FCS and discards the frame */
        ifb_fabric *f = p->f;
        f->cnt.fcs_drops++;
        if (f->ib && peer->sw) /* its buffer space is free again at once */
            ifb_sim_at(sim, sim->now + p->delay, ifb_port_ev(p), p,
                       IFB_EV_CREDIT | (uint64_t)pk->tc << 8 |
                           (uint64_t)ifb_ib_blocks(pk->wire) << 16);
        ifb_fabric_drop_pkt(f, peer, pk);
        return NULL;
    }
    return pk;
}

/* EV_DELIVER_PFC on port p, in the handler `self` of p's peer: the pause frame at the head of
 * p's pause-frame link arrives (PFC frames reach the peer's MAC with no switch or NIC latency). */
static inline ifb_pkt *ifb_link_arrive_pfc(ifb_sim *sim, ifb_port *p, ifb_event_fn self)
{
    ifb_pkt *pk = ifb_fifo_pop(&p->pfc_pipe);
    if (p->pfc_pipe.head)
        ifb_sim_at(sim, p->pfc_pipe.head->t, self, p, IFB_EV_DELIVER_PFC);
    else
        p->pfc_pipe_armed = 0;
    return pk;
}

/* Puts pk on port p's link: serialization at the port rate, then the propagation delay
 * (link.c). */
void ifb_link_start_tx(ifb_port *p, ifb_pkt *pk);
/* pk was sent to a queue port p does not have (an InfiniBand VL at or above cfg.ib_vls):
 * dropped, counted, and the run stops with the queue-exists invariant */
void ifb_fabric_no_queue(ifb_fabric *f, ifb_port *p, ifb_pkt *pk);
/* "node:index" of port p, for messages. */
void ifb_port_name(const ifb_fabric *f, const ifb_port *p, char *out, size_t cap);
/* The (port, priority) pairs paused now for at least min_paused (ifb_fabric_paused_ports). */
int ifb_link_paused_ports(const ifb_fabric *f, ifb_time min_paused, ifb_paused_port *out, int cap);

#endif
