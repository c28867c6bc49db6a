/* InfiniBand adaptive routing (see ib_ar.h for the model and what it leaves out).
 *
 * State: per port, whether the switch at that end knows its link is down (after fault_detect);
 * per (switch, destination switch), whether the switch has lost every member toward it (what
 * a fault notification reports); and the notification masks a switch holds, keyed by (switch,
 * egress port, destination switch) with the time they lapse (never, for a fault), in a small
 * open-addressing table: notifications are rare, and the per-packet path looks the table up
 * only while it holds a live entry. Notifications are daemon events one link delay long, so a
 * run still ends when its last message does. */
#include "net/switch/ib_ar.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

typedef struct ifb_ar {
    ifb_fabric *f;
    ifb_ib_ar_cfg c;
    uint64_t starved; /* bytes a credit-starved VL counts as: its whole buffer */
    uint8_t *down;    /* per port id: known down at its switch */
    int ndown;
    int ntor;
    int *tor_of_sw, *host_tor, *tor_host; /* dense destination-switch index; a host of each */
    uint8_t *lost;                        /* per (switch, tor): no usable member toward it */
    uint64_t *mkey;                       /* masks: key (0 = empty) ... */
    ifb_time *muntil;                     /* ... and when it lapses (0: cleared) */
    size_t mcap, mused;
    size_t nlive; /* entries set at least once and not cleared (looked up only when > 0) */
    ifb_ar_stats st;
} ifb_ar;

enum { EV_ARN = 0, EV_FRN_SET = 1, EV_FRN_CLEAR = 2, EV_DETECT = 3 };

static uint64_t mask_key(int sw, int port, int tor)
{
    return ((uint64_t)(sw + 1) << 40) | ((uint64_t)port << 24) | (uint64_t)tor;
}

static size_t mask_slot(const ifb_ar *ar, uint64_t key)
{
    size_t i = (size_t)(key * 0x9e3779b97f4a7c15ull >> 17) & (ar->mcap - 1);
    while (ar->mkey[i] && ar->mkey[i] != key)
        i = (i + 1) & (ar->mcap - 1);
    return i;
}

static ifb_time mask_get(const ifb_ar *ar, int sw, int port, int tor)
{
    if (!ar->nlive)
        return 0;
    size_t i = mask_slot(ar, mask_key(sw, port, tor));
    return ar->mkey[i] ? ar->muntil[i] : 0;
}

static void mask_set(ifb_ar *ar, int sw, int port, int tor, ifb_time until)
{
    if (2 * (ar->mused + 1) > ar->mcap) {
        size_t cap = ar->mcap ? 2 * ar->mcap : 256;
        uint64_t *ok = ar->mkey;
        ifb_time *ou = ar->muntil;
        size_t ocap = ar->mcap;
        ar->mkey = ifb_xcalloc(cap, sizeof *ar->mkey, "the AR notification masks");
        ar->muntil = ifb_xcalloc(cap, sizeof *ar->muntil, "the AR notification masks");
        ar->mcap = cap;
        for (size_t i = 0; i < ocap; i++)
            if (ok[i]) {
                size_t j = mask_slot(ar, ok[i]);
                ar->mkey[j] = ok[i];
                ar->muntil[j] = ou[i];
            }
        free(ok);
        free(ou);
    }
    uint64_t key = mask_key(sw, port, tor);
    size_t i = mask_slot(ar, key);
    if (!ar->mkey[i]) {
        ar->mkey[i] = key;
        ar->mused++;
    }
    if (!ar->muntil[i] && until)
        ar->nlive++;
    else if (ar->muntil[i] && !until)
        ar->nlive--;
    ar->muntil[i] = until;
}

static int queue_uses_ar(const lb_shared *sh)
{
    for (int q = 0; q < IFB_NQUEUES; q++)
        if (sh->cfg.q[q].mode == IFB_LBA_AR)
            return 1;
    for (int k = 0; k < IFB_TC_COUNT; k++)
        if (sh->cfg.cls[k].has_mode && sh->cfg.cls[k].q.mode == IFB_LBA_AR)
            return 1;
    return 0;
}

int ifb_ar_setup(ifb_fabric *f, ifb_err *e)
{
    const lb_shared *sh = ifb_lb_shared_of(f);
    if (!sh || !queue_uses_ar(sh))
        return 0;
    const ifb_topo *t = f->topo;
    const char *file = sh->cfg.src_file[0] ? sh->cfg.src_file : NULL;
    if (!f->ib)
        return ifb_err_set(e, file, 0, "load_balancing.mode",
                           "ar on an InfiniBand fabric (fabric.kind: infiniband): it is NVIDIA's "
                           "InfiniBand adaptive routing; on RoCE use adaptive or int_adaptive",
                           "ar on RoCE");
    ifb_ar *ar = ifb_xcalloc(1, sizeof *ar, "the adaptive-routing state");
    ar->f = f;
    ar->c = f->cfg.ib_ar;
    ar->starved = f->cfg.ib_vl_buffer;
    int *last = ifb_xmalloc((size_t)(t->ngroups ? t->ngroups : 1) * sizeof *last, "a scratch");
    for (int i = 0; i < t->ngroups; i++)
        last[i] = -1;
    for (int s = 0; s < f->nswitches; s++)
        for (int h = 0; h < t->nhosts; h++) {
            int gi = f->switches[s].route[h];
            if (last[gi] != s && t->groups[gi].count > 1)
                ar->st.ar_groups++;
            last[gi] = s;
        }
    free(last);
    if (!ar->st.ar_groups) {
        free(ar);
        return ifb_err_set(e, file, 0, "load_balancing.mode",
                           "ar (adaptive routing groups) on a fabric where some switch has a "
                           "choice of paths",
                           "a fabric with one path between every pair of hosts: no AR group "
                           "has two members");
    }
    ar->down = ifb_xcalloc((size_t)f->nports, 1, "the ports known down");
    ar->tor_of_sw = ifb_xcalloc((size_t)f->nswitches, sizeof *ar->tor_of_sw, "the AR ToR index");
    ar->host_tor = ifb_xcalloc((size_t)f->nhosts, sizeof *ar->host_tor, "the hosts' ToRs");
    ar->tor_host = ifb_xcalloc((size_t)f->nhosts, sizeof *ar->tor_host, "the ToRs' hosts");
    for (int s = 0; s < f->nswitches; s++)
        ar->tor_of_sw[s] = -1;
    for (int h = 0; h < f->nhosts; h++) {
        const ifb_port *upp = ifb_host_port(f, h)->peer;
        int si = upp && upp->sw ? upp->sw->idx : -1;
        if (si >= 0 && ar->tor_of_sw[si] < 0) {
            ar->tor_host[ar->ntor] = h;
            ar->tor_of_sw[si] = ar->ntor++;
        }
        ar->host_tor[h] = si >= 0 ? ar->tor_of_sw[si] : -1;
    }
    ar->lost = ifb_xcalloc((size_t)f->nswitches * (size_t)(ar->ntor ? ar->ntor : 1), 1,
                           "the AR reachability");
    f->ar = ar;
    /* the notifications ride the forwarding path that also handles failures */
    if (ar->c.arn)
        f->links_failed = 1;
    return 0;
}

void ifb_ar_free(ifb_fabric *f)
{
    ifb_ar *ar = f ? f->ar : NULL;
    if (!ar)
        return;
    free(ar->down);
    free(ar->tor_of_sw);
    free(ar->host_tor);
    free(ar->tor_host);
    free(ar->lost);
    free(ar->mkey);
    free(ar->muntil);
    free(ar);
    f->ar = NULL;
}

static inline int cand_at(const lb_cands *c, int i)
{
    return c->L ? c->L[1 + i] : i;
}

/* Usable for a packet to destination switch tor: not known down, not masked by a notification
 * (`masks` 0: masks ignored). */
static int usable(const ifb_ar *ar, const ifb_switch *sw, const ifb_port *p, int tor, int masks,
                  ifb_time now)
{
    if (ar->ndown && ar->down[p->id])
        return 0;
    if (!masks || tor < 0 || !ar->nlive)
        return 1;
    ifb_time u = mask_get(ar, sw->idx, p->index, tor);
    return !u || u <= now;
}

int ifb_ar_select(ifb_switch *sw, const ifb_topo_group *g, const lb_cands *c, const ifb_pkt *pk)
{
    ifb_fabric *f = sw->ports[0].f;
    ifb_ar *ar = f->ar;
    const ifb_topo *t = f->topo;
    int li = (int)(pk->dst % (uint32_t)c->n), lft = cand_at(c, li);
    int adaptive = ar->c.sl_mask >> (pk->sl & 15) & 1;
    if (!adaptive && !ar->ndown)
        return lft;
    ifb_time now = f->sim->now;
    int tor = ar->host_tor[pk->dst];
#define PORT(m) (&sw->ports[t->group_ports[g->first + (m)]])
    if (!adaptive) { /* the LFT port, or with FLFR the next one that is up */
        for (int i = 0; i < c->n; i++) {
            int m = cand_at(c, (li + i) % c->n);
            if (usable(ar, sw, PORT(m), tor, 0, now)) {
                if (i)
                    ar->st.local_reroutes++;
                return m;
            }
        }
        return lft;
    }
    int best = -1;
    for (int pass = 1; pass >= 0 && best < 0; pass--) { /* masks are advice: a last resort */
        uint64_t bl = UINT64_MAX;
        for (int i = 0; i < c->n; i++) {
            int m = cand_at(c, i);
            const ifb_port *p = PORT(m);
            if (!usable(ar, sw, p, tor, pass, now))
                continue;
            uint64_t l = p->qbytes + (p->busy || now < p->free_at ? 1u : 0u) +
                         ((p->paused >> (pk->tc & 7)) & 1u ? ar->starved : 0);
            if (l < bl || (l == bl && m == lft)) {
                bl = l;
                best = m;
            }
        }
    }
#undef PORT
    if (best < 0)
        return lft;
    if (best != lft)
        ar->st.moved++;
    return best;
}

static void ar_event(ifb_sim *sim, void *obj, uint64_t arg);

static void notify(ifb_ar *ar, const ifb_port *via, int kind, int tor)
{
    /* via: the notifying switch's port toward the neighbour; the neighbour masks its own port
     * at the other end of that link */
    const ifb_port *up = via->peer;
    uint64_t arg = (uint64_t)kind | (uint64_t)(uint32_t)up->id << 2 | (uint64_t)tor << 34;
    ifb_sim_at_daemon(ar->f->sim, ar->f->sim->now + via->delay, ar_event, ar, arg);
}

/* Whether switch sw still has a usable member toward destination switch tor, and if that
 * changed, a fault notification to every neighbour switch that routes there through sw. */
static void frn_tor(ifb_ar *ar, ifb_switch *sw, int tor)
{
    ifb_fabric *f = ar->f;
    const ifb_topo *t = f->topo;
    if (ar->tor_of_sw[sw->idx] == tor)
        return; /* its own hosts: a host link down reroutes nothing */
    int h = ar->tor_host[tor];
    const ifb_topo_group *g = &t->groups[sw->route[h]];
    int reach = 0;
    for (int i = 0; i < g->count && !reach; i++)
        reach = usable(ar, sw, &sw->ports[t->group_ports[g->first + i]], tor, 1, f->sim->now);
    uint8_t *lost = &ar->lost[(size_t)sw->idx * (size_t)ar->ntor + (size_t)tor];
    if (*lost == !reach)
        return;
    *lost = (uint8_t)!reach;
    for (int k = 0; k < sw->nports; k++) {
        const ifb_port *q = &sw->ports[k];
        if (!q->peer || !q->peer->sw || (ar->ndown && ar->down[q->id]))
            continue;
        const ifb_switch *u = q->peer->sw;
        const ifb_topo_group *ug = &t->groups[u->route[h]];
        int via_me = 0;
        for (int i = 0; i < ug->count && !via_me; i++)
            via_me = t->group_ports[ug->first + i] == q->peer->index;
        if (!via_me)
            continue;
        notify(ar, q, reach ? EV_FRN_CLEAR : EV_FRN_SET, tor);
        ar->st.frn_sent++;
    }
}

static void ar_event(ifb_sim *sim, void *obj, uint64_t arg)
{
    ifb_ar *ar = obj;
    int kind = (int)(arg & 3);
    ifb_port *p = &ar->f->ports[(uint32_t)(arg >> 2)];
    int tor = (int)(arg >> 34);
    if (kind == EV_DETECT) {
        int up = tor;
        if (ar->down[p->id] == !up)
            return;
        ar->down[p->id] = (uint8_t)!up;
        ar->ndown += up ? -1 : 1;
        for (int d = 0; p->sw && d < ar->ntor; d++)
            frn_tor(ar, p->sw, d);
        return;
    }
    if (!p->sw)
        return;
    if (kind == EV_ARN) {
        mask_set(ar, p->sw->idx, p->index, tor, sim->now + ar->c.arn_life);
        return;
    }
    mask_set(ar, p->sw->idx, p->index, tor, kind == EV_FRN_SET ? IFB_TIME_NEVER : 0);
    frn_tor(ar, p->sw, tor); /* left with nothing toward it: its upstream is told in turn */
}

void ifb_ar_forwarded(ifb_switch *sw, const ifb_port *in, const ifb_port *out, const ifb_pkt *pk)
{
    (void)sw;
    ifb_ar *ar = in->f->ar;
    if (!ar->c.arn || pk->kind != IFB_PK_DATA || !(ar->c.sl_mask >> (pk->sl & 15) & 1) ||
        out->qbytes <= ar->c.arn_threshold)
        return;
    const ifb_port *up = in->peer; /* the upstream switch's port toward this one */
    int tor = ar->host_tor[pk->dst];
    if (!up || !up->sw || tor < 0)
        return;
    ifb_time now = in->f->sim->now;
    ifb_time u = mask_get(ar, up->sw->idx, up->index, tor);
    if (u && u > now + in->delay + ar->c.arn_life / 2)
        return; /* told recently enough */
    notify(ar, in, EV_ARN, tor);
    ar->st.arn_sent++;
}

void ifb_ar_link_change(ifb_fabric *f, ifb_port *p, int up)
{
    ifb_ar *ar = f->ar;
    if (!ar || !ar->c.shield || !p->sw)
        return;
    uint64_t arg = (uint64_t)EV_DETECT | (uint64_t)(uint32_t)p->id << 2 | (uint64_t)(up != 0) << 34;
    ifb_sim_at_daemon(f->sim, f->sim->now + ar->c.fault_detect, ar_event, ar, arg);
}

void ifb_ar_get_stats(const ifb_fabric *f, ifb_ar_stats *out)
{
    memset(out, 0, sizeof *out);
    if (f->ar)
        *out = f->ar->st;
}
