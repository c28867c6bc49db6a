/* InfiniBand congestion marking at the switches (IBA annex A10 SwitchCongestionSetting, as
 * OpenSM sets it; the reaction at the channel adapters: net/nic/ibcc.c). An egress port whose
 * VL queue holds more than the threshold is the root of congestion and marks FECN on data
 * packets leaving it: one in marking_rate + 1 of those at least packet_size credits long.
 * The 4-bit threshold's meaning in bytes is the switch's own (the spec says 0 = no marking,
 * 15 = most aggressive): ASSUMPTION, a linear scale of the VL's buffer, (16 - threshold) / 16
 * x fabric.ib.vl_buffer (64 KiB of the default 128 KiB at the default 8, 8 KiB at 15). A port
 * whose VL queue built up because it ran out of credits is a victim of congestion further on
 * and does not mark (victim_mask off, OpenSM's default): a VL that stalled for credits since
 * its queue was last at or below the threshold is a victim until it drains to the threshold
 * again. Marking happens when a packet leaves, against the bytes it leaves behind in its VL,
 * as ECN marking does (net/switch/switch.c calls this in its place on InfiniBand). Left out:
 * victim marking, credit-starvation marking, per-port settings. */
#include <stdlib.h>

#include "core/alloc.h"
#include "net/switch/switch.h"

typedef struct ifb_fecn {
    uint64_t thr;     /* bytes queued above which a VL marks */
    uint16_t *cnt;    /* per (port, VL): packets since the last mark */
    uint64_t *stalls; /* per (port, VL): its credit-stall count when last at the threshold */
} ifb_fecn;

int ifb_fecn_setup(ifb_fabric *f)
{
    const ifb_ibcc_cfg *c = &f->cfg.ib_cc;
    if (!f->ib || !c->on || !c->threshold)
        return 0;
    ifb_fecn *m = ifb_xcalloc(1, sizeof *m, "the FECN marking state");
    m->thr = (uint64_t)(16 - c->threshold) * f->cfg.ib_vl_buffer / 16;
    m->cnt = ifb_xcalloc((size_t)f->nports * IFB_NQUEUES, sizeof *m->cnt, "the FECN counters");
    m->stalls = ifb_xcalloc((size_t)f->nports * IFB_NQUEUES, sizeof *m->stalls, "FECN state");
    f->fecn = m;
    return 1;
}

void ifb_fecn_free(ifb_fabric *f)
{
    if (f->fecn) {
        free(f->fecn->cnt);
        free(f->fecn->stalls);
        free(f->fecn);
        f->fecn = NULL;
    }
}

void ifb_fecn_mark(ifb_port *p, ifb_pkt *pk, uint64_t qlen)
{
    ifb_fabric *f = p->f;
    const ifb_ibcc_cfg *c = &f->cfg.ib_cc;
    ifb_fecn *m = f->fecn;
    int vl = pk->tc & 7;
    size_t i = (size_t)p->id * IFB_NQUEUES + (size_t)vl;
    if (!m)
        return;
    if (qlen <= m->thr) {
        m->stalls[i] = p->cc.credit_stalls[vl];
        return;
    }
    if (pk->kind != IFB_PK_DATA || (pk->flags & IFB_PF_FECN) ||
        m->stalls[i] != p->cc.credit_stalls[vl] || ifb_ib_blocks(pk->wire) < c->packet_size)
        return; /* ... or a victim: its queue grew while it waited for credits */
    uint16_t *n = &m->cnt[i];
    if (*n < c->marking_rate) {
        (*n)++;
        return;
    }
    *n = 0;
    pk->flags |= IFB_PF_FECN;
    f->cnt.fecn_marks++;
}
