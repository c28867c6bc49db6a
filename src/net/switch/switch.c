/* Switch forwarding: a frame arriving at a switch port is routed to an egress queue (its ECMP
 * group's member picked by path selection, switch/lb.c), admitted to the shared buffer, and
 * leaves when the egress scheduler (net/link/link.h) picks it.
 * Admission: one shared buffer per switch, dynamic threshold per egress queue (queue bytes +
 * frame <= alpha x free shared buffer), drop-tail otherwise; with PFC on, lossless queues are
 * admitted by their ingress priority group instead (switch/pfc.c) and the shared buffer excludes
 * every port's reserve and headroom. InfiniBand: credits guarantee the room, nothing is dropped;
 * the credits of a packet go back upstream when it leaves the switch, and the egress picks
 * among VLs with the IBA two-priority weighted arbiter.
 * ECN: RED-like marking per egress queue (no mark up to kmin bytes queued, probability rising
 * linearly to pmax at kmax, every ECT packet above), drawn from the switch's own generator.
 * The default marks at dequeue, against the bytes the packet leaves behind in its queue: the
 * mark then reports the queue as it is when the packet leaves rather than when it arrived, a
 * queueing delay sooner, which is what DCQCN's loop wants (HPCC ns-3 and ConnectX-era switch
 * practice mark at egress too); cfg.ecn_at_enqueue marks on arrival against the queue it joins.
 * After a link failure (net/fail), forwarding picks among the members that still lead to the
 * destination and loses what it sends to a member whose failure is not detected yet.
 * Left out: ingress queueing and head-of-line blocking inside the switch, a per-switch
 * forwarding table lookup latency beyond cfg.switch_latency, multicast. */
#include "net/switch/switch.h"

#include "net/switch/ib_ar.h"

/* Every event of a switch port (f->ev_switch): its frame is serialized, credits came back, or
 * (on the sending port, whose peer this switch port is) a frame or a pause frame arrives. */
void ifb_switch_port_event(ifb_sim *sim, void *obj, uint64_t arg)
{
    ifb_port *p = obj;
    if ((arg & 0xff) == IFB_EV_CREDIT) {
        if (ifb_link_credit(p, (int)(arg >> 8 & 0xff), (uint32_t)(arg >> 16)))
            ifb_switch_kick(p);
        return;
    }
    if (arg == IFB_EV_TX_DONE) {
        p->busy = 0;
        ifb_switch_kick(p);
        return;
    }
    if (arg == IFB_EV_DELIVER_PFC) {
        ifb_pkt *pk = ifb_link_arrive_pfc(sim, p, ifb_switch_port_event);
        ifb_pfc_receive(p->peer, pk);
        return;
    }
    ifb_pkt *pk = ifb_link_arrive(sim, p, ifb_switch_port_event);
    if (pk)
        ifb_switch_receive(p->peer->sw, p->peer, pk);
}

static void ecn_mark(ifb_port *p, ifb_pkt *pk, uint64_t qlen)
{
    ifb_fabric *f = p->f;
    if (f->ib) { /* InfiniBand: FECN at the queue threshold (switch/fecn.c) */
        ifb_fecn_mark(p, pk, qlen);
        return;
    }
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

/* The egress scheduler: the next frame of port p leaves now if the link is free (pause frames
 * first, then the queues by their discipline), with ECN marking at dequeue, the IB credits of
 * the buffer it leaves, INT at egress and the buffer (or priority group) it gave back. */
void ifb_switch_kick(ifb_port *p)
{
    if (!ifb_link_ready(p, ifb_switch_port_event))
        return;
    if (p->pfcq.n) {
        ifb_link_start_tx(p, ifb_fifo_pop(&p->pfcq));
        return;
    }
    if (!p->qbytes)
        return;
    ifb_fabric *f = p->f;
    ifb_port_queue_change(p, f->sim->now);
    ifb_pkt *pk = ifb_link_sched(p);
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
    ifb_link_start_tx(p, pk);
    pk->wire = admitted;
    /* after start_tx: an XON this release sends must find this port busy */
    if (f->pfc_mask & bit)
        ifb_pfc_release(p->sw, pk);
    else
        p->sw->buf_used -= pk->wire;
    pk->wire = sent;
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
    ifb_port_qpush(p, pk->tc, pk);
    p->qbytes += pk->wire;
    if (p->qbytes > p->st.max_queue)
        p->st.max_queue = p->qbytes;
    ifb_switch_kick(p);
}

static void lost(ifb_fabric *f, ifb_port *at, ifb_pkt *pk)
{
    f->cnt.link_down_drops++;
    ifb_fabric_drop_pkt(f, at, pk);
}

static int live_has(const uint16_t *L, int m)
{
    for (int i = 1; i <= L[0]; i++)
        if (L[i] == m)
            return 1;
    return 0;
}

/* Forwarding once a link has failed (net/fail sets links_failed and, at each detection, the
 * live-member lists): live members only, and a black hole toward a member whose link is down
 * but not yet detected. */
static void forward_live(ifb_switch *sw, ifb_port *in, const ifb_topo_group *g, ifb_pkt *pk)
{
    ifb_fabric *f = in->f;
    const ifb_topo *t = f->topo;
    const uint16_t *L = NULL;
    if (sw->live_idx && sw->live_idx[pk->dst] != IFB_LIVE_ALL) {
        L = sw->live_pool + sw->live_idx[pk->dst];
        if (!L[0]) {
            f->cnt.unroutable_drops++;
            if (f->ib)
                ifb_port_return_credits(in, pk);
            ifb_fabric_drop_pkt(f, NULL, pk);
            return;
        }
    }
    int member = g->count > 1 ? ifb_lb_select(sw, g, pk) : 0;
    if (L && !live_has(L, member)) /* a mode lb.c does not prune: rehash among the live */
        member = L[1 + (int)(((uint64_t)ifb_flow_hash(sw, pk) * L[0]) >> 32)];
    ifb_port *out = &sw->ports[t->group_ports[g->first + member]];
    if (out->down) {
        /* not detected yet: the switch still sends there and the frame is lost */
        if (f->ib)
            ifb_port_return_credits(in, pk);
        lost(f, out, pk);
        return;
    }
    if (f->ar) /* adaptive routing notifications (net/switch/ib_ar.c) */
        ifb_ar_forwarded(sw, in, out, pk);
    ifb_port_enqueue(out, pk);
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
    if (f->links_failed) {
        forward_live(sw, in, g, pk);
        return;
    }
    int member = g->count > 1 ? ifb_lb_select(sw, g, pk) : 0;
    ifb_port *out = &sw->ports[t->group_ports[g->first + member]];
    ifb_port_enqueue(out, pk);
}
