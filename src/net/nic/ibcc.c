/* InfiniBand congestion control at the channel adapter (IBA annex A10, as OpenSM configures it
 * and as the hfi1 driver implements the reaction point): per QP (OpenSM's default port control,
 * QP based) with the parameters of the QP's SL. A BECN raises the QP's congestion control table
 * index by ccti_increase, up to ccti_limit, and starts its timer; each ccti_timer period the
 * index falls by one down to ccti_min, the timer stopping there. The table entry at the index,
 * shift:multiplier (2 + 14 bits), sets the inter-packet delay IPD = (max packet time >> shift)
 * x multiplier; the QP then sends at line x T / (T + IPD), T the time of a maximum-size packet
 * at line rate, through the rate limiter DCQCN uses on RoCE (nic.c paces by it). Index 0 (an
 * entry 0:0) is line rate: the limiter is released. The BECN itself comes back in an ACK the
 * responder sends at once for each FECN-marked packet (nic.c); switches mark FECN
 * (net/switch/fecn.c). Left out: SL/port-based control (one index per SL of the port, port
 * control bit 0 = 1), the trigger threshold's event log, and credit-starvation marking. */
#include "net/nic/nic.h"
#include "net/wire/wire.h"

static void cct_timer(ifb_sim *sim, void *obj, uint64_t arg);

static const ifb_ibcc_cfg *cc_of(const ifb_fabric *f)
{
    return &f->cfg.ib_cc;
}

/* The inter-packet delay of table entry e for packets of max_t at line rate. */
static ifb_time ipd_of(uint16_t e, ifb_time max_t)
{
    return (max_t >> (e >> 14)) * (ifb_time)(e & 0x3fff);
}

static void set_ccti(ifb_fabric *f, ifb_qp *qp, uint16_t ccti)
{
    const ifb_ibcc_cfg *c = cc_of(f);
    qp->ccti = ccti;
    if (ccti > f->cnt.ccti_max)
        f->cnt.ccti_max = ccti;
    uint64_t line = qp->nic->port->rate;
    uint32_t max_wire = IFB_IB_LRH + IFB_BTH + IFB_RETH + f->cfg.mtu + 3 + IFB_ICRC + IFB_IB_VCRC;
    ifb_time t = ifb_tx_time(max_wire, line);
    ifb_time ipd = ipd_of(c->cct[ccti < c->ncct ? ccti : c->ncct - 1], t);
    if (!ipd) {
        qp->limited = 0;
        qp->rc = line;
        return; /* the next packet goes at line rate; one already spaced keeps its slot */
    }
    uint64_t rc = (uint64_t)((double)line * (double)t / (double)(t + ipd));
    if (!qp->limited) {
        qp->limited = 1;
        if (qp->next_tx < f->sim->now)
            qp->next_tx = f->sim->now;
    }
    qp->rc = rc ? rc : 1;
    ifb_nic_repace(qp->nic, qp);
}

static void arm(ifb_fabric *f, ifb_qp *qp)
{
    if (qp->cct_armed)
        return;
    qp->cct_armed = 1;
    ifb_sim_at_daemon(f->sim, f->sim->now + cc_of(f)->ccti_timer[qp->sl & 15], cct_timer, qp, 0);
}

void ifb_ibcc_becn(ifb_fabric *f, ifb_qp *qp)
{
    const ifb_ibcc_cfg *c = cc_of(f);
    f->cnt.becns_rcvd++;
    if (!f->ib || !c->on || !(c->sl_mask >> (qp->sl & 15) & 1))
        return;
    uint32_t v = (uint32_t)qp->ccti + c->ccti_increase[qp->sl & 15];
    if (v > c->ccti_limit)
        v = c->ccti_limit;
    set_ccti(f, qp, (uint16_t)v);
    arm(f, qp);
}

static void cct_timer(ifb_sim *sim, void *obj, uint64_t arg)
{
    (void)sim;
    (void)arg;
    ifb_qp *qp = obj;
    ifb_fabric *f = qp->nic->f;
    uint16_t lo = cc_of(f)->ccti_min[qp->sl & 15];
    qp->cct_armed = 0;
    if (qp->ccti <= lo)
        return;
    set_ccti(f, qp, (uint16_t)(qp->ccti - 1));
    if (qp->ccti > lo)
        arm(f, qp);
}
