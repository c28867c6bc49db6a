/* Out-of-order placement at the RC responder (ConnectX-5 and later; what per-packet path modes
 * and InfiniBand adaptive routing need), and when a hole in the PSN sequence is called a loss.
 *
 * A packet ahead of the expected PSN (epsn) is placed in a bitmap window instead of dropped;
 * messages complete in PSN order as RC completions do. A hole at epsn is NAKed (the requester
 * then resends that PSN alone, selective repeat) only once it has been open longer than the
 * reorder window W since the first packet beyond it arrived: a time rule, as RACK's (RFC 8985:
 * a packet is lost once a packet sent after it was delivered a reordering window ago; DupAck
 * counting "does not work well with reordering"), not a count of later packets. A count is the
 * wrong unit: how many packets overtake a late one is the queueing-delay difference between
 * the paths times the line rate, so a threshold that fits a microbenchmark (256 packets) is
 * exceeded by serving bursts (measured: per-packet adaptive routing on a 2-tier serving run put
 * a hole 1,356 packets behind, and the old rule resent 243,596 packets with no drop).
 *
 * W defaults to a bound on that delay difference: a packet and any packet sent after it cross
 * the same first and last links, and may differ on the 2 x top tier switch-to-switch hops in
 * between (2 on a leaf-spine, 4 on a 3-tier fat tree); on each, the most one can wait more than
 * the other is a full egress queue, which the switch buffer bounds (lossy: alpha / (1 + alpha)
 * of the shared buffer under the dynamic threshold; lossless or InfiniBand: every ingress's
 * share), plus any difference in the links' delays. With no loss the rule then never NAKs: a
 * selective-repeat receiver causes no resend. The price is recovery time: a real loss waits W
 * (milliseconds with 200 MB buffers) instead of one round trip. IRN (Mittal et al., SIGCOMM'18)
 * NAKs at the first out-of-order packet and assumes per-flow paths; RACK starts at min_RTT/4
 * and widens on each spurious retransmission it detects, trading a few resends for speed;
 * fabric.nic.reorder_window sets W explicitly for that trade (docs/scenario.md).
 * A hole still open W after its NAK is NAKed again (the NAK or the resend may be lost), by a
 * timer per QP, so a hole with nothing arriving behind it is not left to the 67 ms timeout.
 *
 * When the first packet beyond a hole arrived is kept per 64-PSN word of the window (the
 * earliest arrival of the packets placed in it), so the next hole is timed from the packets
 * actually beyond it: consuming a word's packet sets its time to now, which can only make the
 * rule later, never earlier. Left out: a SACK bitmap in the NAK (one hole per round trip). */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "net/nic/nic.h"
#include "net/wire/wire.h"

static void reo_timer(ifb_sim *sim, void *obj, uint64_t arg);

static void arm(ifb_fabric *f, ifb_qp *qp, ifb_time t)
{
    if (qp->reo_armed && t >= qp->reo_at)
        return;
    qp->reo_armed = 1;
    qp->reo_at = t;
    ifb_sim_at_daemon(f->sim, t, reo_timer, qp, 0);
}

static void nak(ifb_nic *nic, ifb_qp *qp)
{
    ifb_fabric *f = nic->f;
    qp->nak_sent = 1;
    qp->nak_at = f->sim->now;
    ifb_nic_send_ctrl(nic, qp, IFB_PK_NAK, qp->epsn);
    arm(f, qp, f->sim->now + f->renak_wnd);
}

/* NAKs the hole at epsn if it is due: open for W since the first packet beyond it arrived, and,
 * after a NAK, unanswered for the re-NAK interval; otherwise makes sure a timer will look. */
static void check_hole(ifb_nic *nic, ifb_qp *qp)
{
    ifb_fabric *f = nic->f;
    if (qp->hole_t == IFB_TIME_NEVER)
        return;
    ifb_time due = qp->nak_sent ? qp->nak_at + f->renak_wnd : qp->hole_t + f->reorder_wnd;
    if (f->sim->now >= due)
        nak(nic, qp);
    else
        arm(f, qp, due);
}

static void reo_timer(ifb_sim *sim, void *obj, uint64_t arg)
{
    (void)arg;
    ifb_qp *qp = obj;
    if (!qp->reo_armed || sim->now != qp->reo_at)
        return; /* superseded by an earlier timer, which has run */
    qp->reo_armed = 0;
    check_hole(qp->nic, qp);
}

static inline uint32_t word_of(const ifb_fabric *f, uint32_t psn)
{
    return (psn % f->cfg.ooo_window) / 64;
}

/* epsn moved to a new hole with packets placed beyond it: the hole's evidence is the earliest
 * arrival among them, read from the words covering (epsn, ooo_hi). */
static void new_hole(ifb_nic *nic, ifb_qp *qp)
{
    ifb_fabric *f = nic->f;
    ifb_time t = IFB_TIME_NEVER;
    uint32_t nw = f->cfg.ooo_window / 64;
    uint32_t from = qp->epsn / 64, to = (qp->ooo_hi - 1) / 64;
    for (uint32_t k = from; k <= to && k - from < nw; k++) {
        ifb_time a = qp->ooo_t[k % nw];
        if (a < t)
            t = a;
    }
    qp->hole_t = t != IFB_TIME_NEVER ? t : f->sim->now;
    qp->nak_sent = 0;
    check_hole(nic, qp);
}

/* Accepts PSN qp->epsn (in order) and any packets placed early right behind it; delivers the
 * messages they complete, in PSN order as RC completions are; ACKs as the in-order path does. */
static void advance(ifb_nic *nic, ifb_qp *qp, const ifb_pkt *pk)
{
    ifb_fabric *f = nic->f;
    ifb_time now = f->sim->now;
    uint32_t w = f->cfg.ooo_window;
    int ack = 0, was_hole = qp->hole_t != IFB_TIME_NEVER;
    if (was_hole && !(pk->flags & IFB_PF_RETX)) {
        /* the original filled it: a reordering, as long as from its first later packet */
        ifb_time r = now - qp->hole_t;
        if (r > f->cnt.reorder_max_time)
            f->cnt.reorder_max_time = r;
    }
    qp->hole_t = IFB_TIME_NEVER;
    for (;;) {
        uint32_t psn = qp->epsn++;
        qp->since_ack++;
        f->sim->progress++;
        if (pk && (pk->flags & IFB_PF_LAST)) {
            ifb_msg_delivered(f, (ifb_msg *)(uintptr_t)pk->msg);
            ack = 1;
        } else if (qp->npend && qp->pend[0].psn == psn) {
            ifb_msg *m = (ifb_msg *)(uintptr_t)qp->pend[0].msg;
            memmove(qp->pend, qp->pend + 1, --qp->npend * sizeof *qp->pend);
            ifb_msg_delivered(f, m);
            ack = 1;
        }
        if (qp->ooo_t) {
            /* a word's time covers only the packets left in it: later, never earlier (now, if
             * some remain), and none once it is empty (a new arrival must not inherit it) */
            uint32_t k = word_of(f, psn);
            qp->ooo_t[k] = !qp->ooo_bits[k] || psn % 64 == 63 ? IFB_TIME_NEVER
                           : pk                               ? qp->ooo_t[k]
                                                              : now;
        }
        pk = NULL;
        if (qp->ooo_hi <= qp->epsn)
            break; /* nothing placed ahead: the bitmap (cold for most QPs) need not be read */
        uint32_t bit = qp->epsn % w;
        uint64_t *word = &qp->ooo_bits[bit / 64];
        if (!(*word >> (bit % 64) & 1u))
            break;
        *word &= ~(1ull << (bit % 64));
    }
    if (ack || qp->since_ack >= f->cfg.ack_every) {
        qp->since_ack = 0;
        ifb_nic_send_ctrl(nic, qp, IFB_PK_ACK, qp->epsn - 1);
    }
    qp->nak_sent = 0; /* the hole it may have NAKed is filled */
    if (qp->ooo_hi > qp->epsn)
        new_hole(nic, qp);
}

void ifb_ooo_receive(ifb_nic *nic, ifb_qp *qp, const ifb_pkt *pk)
{
    ifb_fabric *f = nic->f;
    uint32_t w = f->cfg.ooo_window;
    if (pk->psn == qp->epsn) {
        if (f->cfg.goodput_bin)
            ifb_goodput_add(f, nic->host, pk->payload);
        advance(nic, qp, pk);
        return;
    }
    if (pk->psn < qp->epsn) {
        if (pk->flags & IFB_PF_ACKREQ)
            ifb_nic_send_ctrl(nic, qp, IFB_PK_ACK, qp->epsn - 1);
        return;
    }
    if (pk->psn - qp->epsn >= w)
        return; /* beyond what the QP can track: dropped, the timeout resends it */
    if (!qp->ooo_bits) {
        /* on the first packet ahead: a QP that only sends, or only ever receives in order,
         * never needs one (half the QPs of an all-to-all are requesters only); the words'
         * arrival times after the bits, in one block */
        qp->ooo_bits =
            ifb_xcalloc(w / 64, sizeof *qp->ooo_bits + sizeof *qp->ooo_t, "a reorder window");
        qp->ooo_t = (ifb_time *)(qp->ooo_bits + w / 64);
        for (uint32_t k = 0; k < w / 64; k++)
            qp->ooo_t[k] = IFB_TIME_NEVER;
    }
    uint32_t bit = pk->psn % w;
    uint64_t *word = &qp->ooo_bits[bit / 64];
    if (*word >> (bit % 64) & 1u)
        return; /* duplicate */
    *word |= 1ull << (bit % 64);
    f->cnt.ooo_placed++;
    ifb_time now = f->sim->now;
    if (qp->ooo_t[bit / 64] > now)
        qp->ooo_t[bit / 64] = now;
    if (pk->psn - qp->epsn > f->cnt.reorder_max_psn)
        f->cnt.reorder_max_psn = pk->psn - qp->epsn;
    if (pk->psn + 1 > qp->ooo_hi)
        qp->ooo_hi = pk->psn + 1;
    if (qp->hole_t == IFB_TIME_NEVER) { /* the first packet beyond epsn: the hole opens now */
        qp->hole_t = now;
        qp->nak_sent = 0;
    }
    check_hole(nic, qp);
    if (f->cfg.goodput_bin)
        ifb_goodput_add(f, nic->host, pk->payload);
    if (!(pk->flags & IFB_PF_LAST))
        return;
    qp->pend =
        ifb_xgrow(qp->pend, &qp->pend_cap, qp->npend, sizeof *qp->pend, 8, "early message ends");
    uint32_t i = qp->npend++;
    while (i > 0 && qp->pend[i - 1].psn > pk->psn) {
        qp->pend[i] = qp->pend[i - 1];
        i--;
    }
    qp->pend[i] = (ifb_ooo_pend){pk->psn, pk->msg};
}

void ifb_ooo_reset(ifb_fabric *f, ifb_qp *qp)
{
    uint32_t nw = f->cfg.ooo_window / 64;
    if (qp->ooo_bits) {
        memset(qp->ooo_bits, 0, nw * sizeof *qp->ooo_bits);
        for (uint32_t k = 0; k < nw; k++)
            qp->ooo_t[k] = IFB_TIME_NEVER;
    }
    qp->hole_t = IFB_TIME_NEVER;
    qp->nak_sent = 0;
}

void ifb_ooo_bounds(const ifb_fabric *f, ifb_time *reorder, ifb_time *renak)
{
    const ifb_fabric_cfg *c = &f->cfg;
    const ifb_topo *t = f->topo;
    /* switch-to-switch hops on the longest up-down path: 2 x the top tier (4 if a file
     * topology leaves tiers out, as for INT's record space) */
    int top = 0;
    for (int i = 0; i < t->nswitches && top >= 0; i++) {
        int tier = t->nodes[t->switch_node[i]].tier;
        top = tier < 0 ? -1 : tier > top ? tier : top;
    }
    int hops = top < 0 ? 4 : 2 * top;
    ifb_time qwait = 0;                       /* the longest a full egress queue takes */
    ifb_time dmin = IFB_TIME_NEVER, dmax = 0; /* switch-to-switch link delays */
    ifb_time hostd = 0, ser = 0;
    for (int i = 0; i < f->nhosts; i++) { /* host links: in every path, differ in none */
        const ifb_port *p = f->nics[i].port;
        hostd = p->delay > hostd ? p->delay : hostd;
        ifb_time s = p->rate ? ifb_tx_time(c->mtu + 100, p->rate) : 0;
        ser = s > ser ? s : ser;
    }
    for (int i = 0; i < f->nswitches; i++) {
        const ifb_switch *sw = &f->switches[i];
        int linked = 0;
        for (int k = 0; k < sw->nports; k++)
            linked += sw->ports[k].peer != NULL;
        double q;  /* the most one egress queue of this switch can hold */
        if (f->ib) /* every ingress VL buffer of the switch can feed one egress */
            q = (double)linked * (double)c->ib_vl_buffer;
        else if (f->pfc_mask) /* lossless: the ingress groups together, up to the buffer */
            q = (double)c->switch_buffer;
        else
            q = c->dt_alpha / (1.0 + c->dt_alpha) * (double)sw->shared_size;
        for (int k = 0; k < sw->nports; k++) {
            const ifb_port *p = &sw->ports[k];
            if (!p->peer || !p->rate)
                continue;
            ifb_time s = ifb_tx_time(c->mtu + 100, p->rate);
            ser = s > ser ? s : ser;
            if (!p->peer->sw)
                continue;
            dmin = p->delay < dmin ? p->delay : dmin;
            dmax = p->delay > dmax ? p->delay : dmax;
            ifb_time w = ifb_tx_time((uint64_t)q, p->rate);
            qwait = w > qwait ? w : qwait;
        }
    }
    if (dmin == IFB_TIME_NEVER) { /* one switch (or none): a single path, nothing reorders */
        dmin = dmax = 0;
        hops = 0;
    }
    ifb_time w = (ifb_time)hops * (qwait + dmax - dmin);
    *reorder = c->reorder_window == IFB_REORDER_AUTO ? w : c->reorder_window;
    /* re-NAK after the reorder window again, and at least a base round trip (the resend's) */
    ifb_time rtt = 2 * ((ifb_time)(hops + 2) * (dmax + ser + c->switch_latency) + 2 * hostd +
                        c->nic_tx_latency + c->nic_rx_latency);
    *renak = *reorder > rtt ? *reorder : rtt;
}
