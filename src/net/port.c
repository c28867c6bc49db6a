/* Egress ports, links and switch forwarding.
 *
 * A port owns eight egress queues, a scheduler (strict priority above deficit-weighted round
 * robin) and the link toward its peer. Transmission is store-and-forward at the sender: a frame
 * is serialized at the port rate, then spends the propagation delay on the link. Frames on the
 * link sit in the port's own FIFO (`pipe`) and one event delivers the head, so a port never has
 * more than two events pending (end of serialization, next delivery) however busy it is.
 * Switch port-to-port latency is folded into the delivery time: from the first bit's arrival
 * (cut-through) or the last bit's (store-and-forward). Cut-through assumes the egress is not
 * faster than the ingress, which holds in every topology the builders make.
 * Switch admission: one shared buffer per switch, dynamic threshold per egress queue
 * (queue bytes + frame <= alpha x free shared buffer), drop-tail otherwise; with PFC on,
 * lossless queues are admitted by their ingress priority group instead (pfc.c) and the shared
 * buffer excludes every port's reserve and headroom.
 * ECN: RED-like marking per egress queue (no mark up to kmin bytes queued, probability rising
 * linearly to pmax at kmax, every ECT packet above), drawn from the switch's own generator.
 * The default marks at dequeue, against the bytes the packet leaves behind in its queue: the
 * mark then reports the queue as it is when the packet leaves rather than when it arrived, a
 * queueing delay sooner, which is what DCQCN's loop wants (HPCC ns-3 and ConnectX-era switch
 * practice mark at egress too); cfg.ecn_at_enqueue marks on arrival against the queue it joins.
 * PFC frames leave ahead of any data and travel in their own link FIFO (`pfc_pipe`): they reach
 * the peer's MAC after serialization and propagation only, with no switch or NIC latency.
 * InfiniBand: credit-based flow control per VL. A transmitter holds credits (64-byte blocks) for
 * the receive buffer at the other end of its link; a VL whose credits cannot cover the largest
 * packet stops (it is marked in `paused`, as a PFC-paused priority would be) until credits come
 * back. Credits return when a packet leaves the receive buffer (forwarded out of the switch, or
 * consumed by the NIC) and take the link's delay to arrive, so nothing is ever dropped for lack
 * of buffer. Switch egress picks among VLs with the IBA two-priority weighted arbiter. */
#include "net/fabric_int.h"
#include "net/pcap.h"
#include "net/wire.h"

enum { EV_TX_DONE = 0, EV_DELIVER = 1, EV_DELIVER_PFC = 2, EV_CREDIT = 3 };

static void port_event(ifb_sim *sim, void *obj, uint64_t arg);

void ifb_port_queue_change(ifb_port *p, ifb_time now)
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

static uint32_t quantum(const ifb_fabric *f, int q)
{
    uint32_t w = f->cfg.queue[q].weight ? f->cfg.queue[q].weight : 1;
    return w * (f->cfg.mtu + 256);
}

/* InfiniBand: the VL arbiter picks among VLs with a packet and the credits to send it. */
static ifb_pkt *sched_next_ib(ifb_port *p)
{
    const ifb_fabric *f = p->f;
    uint32_t eligible = 0, head[IFB_NQUEUES] = {0};
    for (int i = 0; i < IFB_NQUEUES; i++)
        if (p->q[i].n && !(p->paused & (1u << i))) {
            eligible |= 1u << i;
            head[i] = p->q[i].head->wire;
        }
    int vl = ifb_vlarb_pick(&p->vlarb, &f->cfg.ib_vlarb, eligible, head);
    return vl >= 0 ? ifb_fifo_pop(&p->q[vl]) : NULL;
}

/* Strict-priority queues first, highest index first; then DWRR among the rest. */
static ifb_pkt *sched_next(ifb_port *p)
{
    const ifb_fabric *f = p->f;
    if (f->ib)
        return sched_next_ib(p);
    for (int i = IFB_NQUEUES - 1; i >= 0; i--)
        if (p->q[i].n && f->cfg.queue[i].sched == IFB_SCHED_STRICT && !(p->paused & (1u << i)))
            return ifb_fifo_pop(&p->q[i]);
    for (int n = 0; n < 2 * IFB_NQUEUES; n++) {
        int i = p->rr;
        ifb_fifo *q = &p->q[i];
        if (q->n && f->cfg.queue[i].sched == IFB_SCHED_DWRR && !(p->paused & (1u << i))) {
            if (!p->rr_credited) {
                p->deficit[i] += (int32_t)quantum(f, i);
                p->rr_credited = 1;
            }
            if ((int32_t)q->head->wire <= p->deficit[i]) {
                p->deficit[i] -= (int32_t)q->head->wire;
                ifb_pkt *pk = ifb_fifo_pop(q);
                if (!q->n) {
                    p->deficit[i] = 0;
                    p->rr = (uint8_t)((i + 1) % IFB_NQUEUES);
                    p->rr_credited = 0;
                }
                return pk;
            }
        } else {
            p->deficit[i] = 0;
        }
        p->rr = (uint8_t)((i + 1) % IFB_NQUEUES);
        p->rr_credited = 0;
    }
    return NULL;
}

static void start_tx(ifb_port *p, ifb_pkt *pk)
{
    ifb_fabric *f = p->f;
    ifb_sim *sim = f->sim;
    ifb_time now = sim->now;
    ifb_time ser = ifb_tx_time(pk->wire, p->rate);
    ifb_time first = now + p->delay;
    if (p->peer->sw)
        pk->t = (f->cfg.cut_through ? first : first + ser) + f->cfg.switch_latency;
    else
        pk->t = first + ser + f->cfg.nic_rx_latency;
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
            ifb_sim_at(sim, pk->t, port_event, p, EV_DELIVER_PFC);
        }
        ifb_sim_at(sim, now + ser, port_event, p, EV_TX_DONE);
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
            ifb_sim_at(sim, first + ser + p->delay, port_event, p,
                       EV_CREDIT | (uint64_t)pk->tc << 8 | (uint64_t)blocks << 16);
    }
    ifb_fifo_push(&p->pipe, pk);
    if (!p->pipe_armed) {
        p->pipe_armed = 1;
        ifb_sim_at(sim, pk->t, port_event, p, EV_DELIVER);
    }
    p->free_at = now + ser;
    if (p->sw && !p->qbytes && !p->pfcq.n) {
        /* nothing waits behind this frame: skip the end-of-serialization event, one per
         * packet-hop on an uncongested port; ifb_port_kick arms it if a frame comes first */
        p->busy = 0;
        return;
    }
    ifb_sim_at(sim, now + ser, port_event, p, EV_TX_DONE);
}

static void ecn_mark(ifb_port *p, ifb_pkt *pk, uint64_t qlen)
{
    ifb_fabric *f = p->f;
    const ifb_queue_cfg *qc = &f->cfg.queue[pk->tc];
    if (qlen <= qc->ecn_kmin || pk->ecn == IFB_ECN_NOT_ECT || pk->ecn == IFB_ECN_CE)
        return;
    if (qlen <= qc->ecn_kmax) {
        double prob =
            qc->ecn_pmax * (double)(qlen - qc->ecn_kmin) / (double)(qc->ecn_kmax - qc->ecn_kmin);
        if (ifb_rng_double(&p->sw->rng) >= prob)
            return;
    }
    pk->ecn = IFB_ECN_CE;
    p->cc.ecn_marks++;
    f->cnt.ecn_marks++;
}

void ifb_port_kick(ifb_port *p)
{
    if (p->busy || !p->peer || p->down)
        return;
    if (p->f->sim->now < p->free_at) { /* still serializing, with no event armed: arm it */
        p->busy = 1;
        ifb_sim_at(p->f->sim, p->free_at, port_event, p, EV_TX_DONE);
        return;
    }
    ifb_pkt *pk;
    if (p->pfcq.n) {
        pk = ifb_fifo_pop(&p->pfcq);
    } else if (p->nic) {
        pk = ifb_nic_next(p->nic);
    } else {
        if (!p->qbytes)
            return;
        ifb_fabric *f = p->f;
        ifb_port_queue_change(p, f->sim->now);
        pk = sched_next(p);
        if (!pk)
            return;
        uint8_t bit = (uint8_t)(1u << pk->tc);
        p->qbytes -= pk->wire;
        if (f->ecn_deq_mask & bit)
            ecn_mark(p, pk, p->q[pk->tc].bytes);
        if (f->ib)
            ifb_port_return_credits(&p->sw->ports[pk->in_port], pk);
        /* INT changes the frame's length at egress; the buffer gives back what it admitted */
        uint32_t admitted = pk->wire;
        if (f->intm && (pk->kind == IFB_PK_DATA || pk->kind == IFB_PK_PROBE))
            ifb_int_egress(p, pk);
        uint32_t sent = pk->wire;
        start_tx(p, pk);
        pk->wire = admitted;
        /* after start_tx: an XON this release sends must find this port busy */
        if (f->pfc_mask & bit)
            ifb_pfc_release(p->sw, pk);
        else
            p->sw->buf_used -= pk->wire;
        pk->wire = sent;
        return;
    }
    if (pk)
        start_tx(p, pk);
}

void ifb_port_return_credits(ifb_port *in, const ifb_pkt *pk)
{
    ifb_fabric *f = in->f;
    uint32_t blocks = ifb_ib_blocks(pk->wire);
    if (in->sw)
        in->ibuf[pk->tc] -= blocks;
    ifb_sim_at(f->sim, f->sim->now + in->delay, port_event, in->peer,
               EV_CREDIT | (uint64_t)pk->tc << 8 | (uint64_t)blocks << 16);
}

static void credit_arrives(ifb_port *p, int vl, uint32_t blocks)
{
    const ifb_fabric *f = p->f;
    p->credits[vl] += blocks;
    if ((p->paused & (1u << vl)) && p->credits[vl] >= f->ib_max_blocks) {
        p->paused &= (uint8_t) ~(1u << vl);
        p->cc.credit_stall[vl] += f->sim->now - p->paused_since[vl];
        if (p->nic)
            ifb_nic_unpause(p->nic, vl);
        else
            ifb_port_kick(p);
    }
}

static void port_event(ifb_sim *sim, void *obj, uint64_t arg)
{
    ifb_port *p = obj;
    if ((arg & 0xff) == EV_CREDIT) {
        credit_arrives(p, (int)(arg >> 8 & 0xff), (uint32_t)(arg >> 16));
        return;
    }
    if (arg == EV_TX_DONE) {
        p->busy = 0;
        ifb_port_kick(p);
        return;
    }
    if (arg == EV_DELIVER_PFC) {
        ifb_pkt *pk = ifb_fifo_pop(&p->pfc_pipe);
        if (p->pfc_pipe.head)
            ifb_sim_at(sim, p->pfc_pipe.head->t, port_event, p, EV_DELIVER_PFC);
        else
            p->pfc_pipe_armed = 0;
        ifb_pfc_receive(p->peer, pk);
        return;
    }
    ifb_pkt *pk = ifb_fifo_pop(&p->pipe);
    if (p->pipe.head) {
        ifb_sim_at(sim, p->pipe.head->t, port_event, p, EV_DELIVER);
        /* the next delivery reads the new head's successor's time */
        if (p->pipe.head->next)
            __builtin_prefetch(p->pipe.head->next);
    } else
        p->pipe_armed = 0;
    ifb_port *peer = p->peer;
    if (p->doomed) {
        /* on the link (or being serialized) when it failed: lost (net/failure.c) */
        ifb_fabric *f = p->f;
        p->doomed--;
        f->cnt.link_down_drops++;
        if (f->ib && peer->sw)
            ifb_sim_at(sim, sim->now + p->delay, port_event, p,
                       EV_CREDIT | (uint64_t)pk->tc << 8 | (uint64_t)ifb_ib_blocks(pk->wire) << 16);
        ifb_fabric_drop_pkt(f, p, pk);
        return;
    }
    if (p->loss > 0 && ifb_rng_double(&p->loss_rng) < p->loss) {
        /* corrupted on the wire: the receiver's MAC fails the FCS and discards the frame */
        ifb_fabric *f = p->f;
        f->cnt.fcs_drops++;
        if (f->ib && peer->sw) /* its buffer space is free again at once */
            ifb_sim_at(sim, sim->now + p->delay, port_event, p,
                       EV_CREDIT | (uint64_t)pk->tc << 8 | (uint64_t)ifb_ib_blocks(pk->wire) << 16);
        ifb_fabric_drop_pkt(f, peer, pk);
        return;
    }
    if (peer->sw)
        ifb_switch_receive(peer->sw, peer, pk);
    else
        ifb_nic_receive(peer->nic, pk);
}

void ifb_port_enqueue(ifb_port *p, ifb_pkt *pk)
{
    ifb_fabric *f = p->f;
    ifb_switch *sw = p->sw;
    ifb_fifo *q = &p->q[pk->tc];
    uint8_t bit = (uint8_t)(1u << pk->tc);
    if (f->ib) {
        if (ifb_queue_missing(f, pk)) {
            ifb_fabric_no_queue(f, p, pk);
            return;
        }
        sw->buf_used += pk->wire; /* credits guarantee the room: never dropped */
    } else if (f->pfc_mask & bit) {
        /* lossless: admitted by its ingress priority group (accounts buf_used itself) */
        if (ifb_pfc_admit(sw, &sw->ports[pk->in_port], pk)) {
            ifb_fabric_drop_pkt(f, p, pk);
            return;
        }
    } else {
        /* the shared pool: the buffer less reserve and headroom (all of it without PFC). Signed
         * throughout (buffer sizes are far below 2^63): the pool's use must not wrap to a huge
         * unsigned value if headroom and reserve ever exceed what is buffered */
        int64_t shared_used =
            (int64_t)sw->buf_used - (int64_t)sw->hdrm_used - (int64_t)sw->rsv_used;
        int64_t free_bytes = (int64_t)sw->shared_size - shared_used;
        if (free_bytes < 0 ||
            (double)(q->bytes + pk->wire) > f->cfg.dt_alpha * (double)free_bytes) {
            ifb_fabric_drop_pkt(f, p, pk);
            return;
        }
        sw->buf_used += pk->wire;
    }
    if (f->ecn_enq_mask & bit)
        ecn_mark(p, pk, q->bytes);
    ifb_port_queue_change(p, f->sim->now);
    pk->enq_t = f->sim->now;
    ifb_fifo_push(q, pk);
    p->qbytes += pk->wire;
    if (p->qbytes > p->st.max_queue)
        p->st.max_queue = p->qbytes;
    ifb_port_kick(p);
}

void ifb_switch_receive(ifb_switch *sw, ifb_port *in, ifb_pkt *pk)
{
    ifb_fabric *f = in->f;
    pk->in_port = (uint16_t)in->index;
    pk->hops++;
    if (pk->kind == IFB_PK_PROBE && ifb_int_probe_arrives(sw, pk))
        return;
    if (f->ib) {
        uint32_t *b = &in->ibuf[pk->tc];
        *b += ifb_ib_blocks(pk->wire);
        if (*b > in->ibuf_max[pk->tc])
            in->ibuf_max[pk->tc] = *b;
        if (*b > f->ib_credits)
            f->cnt.ib_credit_violations++;
    }
    const ifb_topo *t = f->topo;
    const ifb_topo_group *g = &t->groups[sw->route[pk->dst]];
    if (f->fail) {
        ifb_fail_forward(sw, in, g, pk);
        return;
    }
    int member = g->count > 1 ? ifb_lb_select(sw, g, pk) : 0;
    ifb_port *out = &sw->ports[t->group_ports[g->first + member]];
    ifb_port_enqueue(out, pk);
}
