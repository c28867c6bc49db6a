/* Link and switch failures (see failure.h for what is modelled and what is left out): the
 * controller on top of the fabric. It changes the state of the components below (a port's
 * `down` and `dead`, a switch's live-member lists, the WCMP tables, a NIC's link) and they act
 * on it: the switches' forwarding with failures in mind is in net/switch/switch.c.
 *
 * The physical state of a link and the state routing acts on are two counters per port
 * (`down`, `dead`): a count rather than a flag so that a link inside a failed switch that also
 * fails on its own comes back only when both causes end. `dead` follows `down` exactly one
 * detection delay later, event for event, so routing sees the physical history delayed.
 *
 * Frames on the wire when a link fails stay in the port's `pipe` (its delivery event is already
 * armed) and are counted in `doomed`: the delivery discards that many from the head, so packet
 * conservation holds with no event to cancel. Queued frames are flushed at once through the
 * same accounting the scheduler uses when it sends (shared buffer, PFC priority groups, IB
 * credits), as a switch flushes the queues of a port whose link went down.
 *
 * Reachability per (switch, destination host) is recomputed at each detection: a member is
 * usable if its link is not dead and the switch behind it can still reach the host. Lists of
 * usable members are kept only for the (switch, host) pairs that lost some; the rest are
 * IFB_LIVE_ALL and the selection runs unchanged. */
#include "net/fail/failure.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "net/fabric/fabric_int.h"
#include "net/switch/ib_ar.h"
#include "net/switch/lb.h"

typedef struct ifb_fail_state {
    ifb_time t_first; /* first link down */
    int8_t *reach;    /* scratch: per switch, toward the host being computed */
    /* scratch: what reach() reads of each port, by topology port id (PORT_*), and each
     * switch's first port id: compact, where the 1.7 KB port records cost a cache miss each */
    int *to, *first;
    uint32_t *idx; /* per (switch, host): offset in pool or IFB_LIVE_ALL */
    uint16_t *pool;
    size_t npool, pool_cap;
} ifb_fail_state;

enum { EV_UP = 1, EV_DETECT = 2, EV_SWITCH = 4, EV_SHIFT = 3 };

/* f->fail_free, called by ifb_fabric_destroy. */
static void fail_free(ifb_fabric *f)
{
    ifb_fail_state *fs = f->fail;
    if (fs) {
        free(fs->reach);
        free(fs->to);
        free(fs->first);
        free(fs->idx);
        free(fs->pool);
        free(fs);
        f->fail = NULL;
    }
}

static ifb_fail_state *state(ifb_fabric *f)
{
    if (!f->fail) {
        ifb_fail_state *fs = ifb_xcalloc(1, sizeof *fs, "the failure state");
        fs->t_first = f->sim->now;
        f->fail = fs;
        f->fail_free = fail_free;
        f->links_failed = 1; /* the switches forward with failures in mind from now on */
    }
    return f->fail;
}

/* ---- Data plane ----------------------------------------------------------------------------- */

static void lost(ifb_fabric *f, ifb_port *at, ifb_pkt *pk)
{
    f->cnt.link_down_drops++;
    ifb_fabric_drop_pkt(f, at, pk);
}

/* Empties the egress side of a port whose link just failed. */
static void flush(ifb_port *p)
{
    ifb_fabric *f = p->f;
    ifb_pkt *pk;
    while ((pk = ifb_fifo_pop(&p->pfcq)))
        lost(f, p, pk);
    if (p->sw && p->qbytes)
        ifb_port_queue_change(p, f->sim->now);
    for (int q = 0; q < IFB_NQUEUES; q++) {
        while ((pk = ifb_port_qpop(p, q))) {
            if (p->sw) {
                uint8_t bit = (uint8_t)(1u << pk->tc);
                p->qbytes -= pk->wire;
                if (f->ib)
                    ifb_port_return_credits(&p->sw->ports[pk->in_port], pk);
                if (f->pfc_mask & bit)
                    ifb_pfc_release(p->sw, pk);
                else
                    p->sw->buf_used -= pk->wire;
            }
            lost(f, p, pk);
        }
        p->deficit[q] = 0;
    }
}

/* ---- Link state ----------------------------------------------------------------------------- */

static void link_change(ifb_fabric *f, ifb_port *p, int up)
{
    ifb_port *end[2] = {p, p->peer};
    int changed[2] = {0, 0};
    if (!up) {
        state(f);
        for (int i = 0; i < 2; i++)
            if (end[i]->down++ == 0) {
                changed[i] = 1;
                end[i]->doomed = end[i]->pipe.n;
                flush(end[i]);
            }
    } else {
        for (int i = 0; i < 2; i++)
            if (end[i]->down && --end[i]->down == 0)
                changed[i] = 1;
    }
    for (int i = 0; i < 2; i++) {
        if (!changed[i])
            continue;
        if (end[i]->nic)
            ifb_nic_link_change(end[i]->nic, up);
        else if (up)
            ifb_switch_kick(end[i]);
        ifb_ar_link_change(f, end[i], up); /* SHIELD: the switch at this end reacts itself */
    }
}

void ifb_fail_link(ifb_fabric *f, int port, int up)
{
    if (port >= 0 && port < f->nports && f->ports[port].peer)
        link_change(f, &f->ports[port], up);
}

void ifb_fail_switch(ifb_fabric *f, int node, int up)
{
    const ifb_topo_node *n = &f->topo->nodes[node];
    for (int k = 0; k < n->nports; k++)
        ifb_fail_link(f, n->first_port + k, up);
}

/* ---- Routing after detection ---------------------------------------------------------------- */

/* ifb_fail_state.to[port]: the switch index behind a live link, PORT_NONE for a dead or
 * unconnected port, PORT_HOST(h) for the link to host h's NIC */
enum { PORT_NONE = -1 };
#define PORT_HOST(h) (-2 - (h))

static int reach(const ifb_fabric *f, const ifb_fail_state *fs, int8_t *r, int s, int h, int depth);

static int usable(const ifb_fabric *f, const ifb_fail_state *fs, int8_t *r, int id, int h,
                  int depth)
{
    int to = fs->to[id];
    if (to == PORT_NONE)
        return 0;
    if (to < PORT_NONE)
        return to == PORT_HOST(h);
    return reach(f, fs, r, to, h, depth + 1);
}

/* Whether switch s can still reach host h (memo in r: -1 unknown). Routes are shortest paths,
 * so the recursion ends; the depth bound and the provisional 0 guard a malformed table. */
static int reach(const ifb_fabric *f, const ifb_fail_state *fs, int8_t *r, int s, int h, int depth)
{
    if (r[s] >= 0)
        return r[s];
    r[s] = 0;
    if (depth > f->nswitches)
        return 0;
    const ifb_topo *t = f->topo;
    const ifb_topo_group *g = &t->groups[f->switches[s].route[h]];
    for (int i = 0; i < g->count; i++)
        if (usable(f, fs, r, fs->first[s] + t->group_ports[g->first + i], h, depth)) {
            r[s] = 1;
            break;
        }
    return r[s];
}

static void recompute(ifb_fabric *f)
{
    ifb_fail_state *fs = state(f);
    const ifb_topo *t = f->topo;
    size_t ns = (size_t)f->nswitches, nh = (size_t)f->nhosts;
    if (!fs->idx) {
        fs->idx = ifb_xcalloc(ns * nh, sizeof *fs->idx, "the live-member index");
        fs->reach = ifb_xmalloc(ns, "the reachability scratch");
        fs->to = ifb_xcalloc((size_t)f->nports, sizeof *fs->to, "the port scratch");
        fs->first = ifb_xcalloc(ns, sizeof *fs->first, "the port scratch");
    }
    for (int i = 0; i < f->nports; i++) {
        const ifb_port *p = &f->ports[i];
        fs->to[i] = p->dead || !p->peer ? PORT_NONE
                    : p->peer->nic      ? PORT_HOST(p->peer->nic->host)
                                        : p->peer->sw->idx;
    }
    for (size_t s = 0; s < ns; s++)
        fs->first[s] = (int)(f->switches[s].ports - f->ports);
    fs->npool = 0;
    int any_dead = 0;
    for (int i = 0; i < f->nports && !any_dead; i++)
        any_dead = f->ports[i].dead > 0;
    for (size_t h = 0; h < nh; h++) {
        memset(fs->reach, -1, ns);
        for (size_t s = 0; s < ns; s++) {
            uint32_t *slot = &fs->idx[s * nh + h];
            *slot = IFB_LIVE_ALL;
            if (!any_dead)
                continue;
            const ifb_switch *sw = &f->switches[s];
            const ifb_topo_group *g = &t->groups[sw->route[h]];
            uint16_t L[IFB_LB_MAX_MEMBERS + 1];
            int n = 0;
            for (int i = 0; i < g->count && i < IFB_LB_MAX_MEMBERS; i++)
                if (usable(f, fs, fs->reach, fs->first[s] + t->group_ports[g->first + i], (int)h,
                           0))
                    L[1 + n++] = (uint16_t)i;
            if (n == g->count)
                continue;
            L[0] = (uint16_t)n;
            fs->pool = ifb_xgrow(fs->pool, &fs->pool_cap, fs->npool + (size_t)n, sizeof *fs->pool,
                                 1024, "the live-member lists");
            memcpy(fs->pool + fs->npool, L, (size_t)(n + 1) * sizeof *L);
            *slot = (uint32_t)fs->npool;
            fs->npool += (size_t)n + 1;
        }
    }
    for (size_t s = 0; s < ns; s++) {
        f->switches[s].live_idx = any_dead ? fs->idx + s * nh : NULL;
        f->switches[s].live_pool = fs->pool;
    }
    ifb_err e = {{0}};
    if (ifb_lb_recompute(f, &e))
        ifb_sim_request_stop(f->sim, IFB_STOP_ERROR, "failure: WCMP recompute: %s", e.msg);
}

static void detect(ifb_port *p, int up)
{
    ifb_port *end[2] = {p, p->peer};
    for (int i = 0; i < 2; i++) {
        if (!up)
            end[i]->dead++;
        else if (end[i]->dead)
            end[i]->dead--;
    }
}

static void fail_event(ifb_sim *sim, void *obj, uint64_t arg)
{
    ifb_fabric *f = obj;
    int up = (arg & EV_UP) != 0, target = (int)(arg >> EV_SHIFT);
    if (arg & EV_DETECT) {
        if (arg & EV_SWITCH) {
            const ifb_topo_node *n = &f->topo->nodes[target];
            for (int k = 0; k < n->nports; k++)
                if (f->ports[n->first_port + k].peer)
                    detect(&f->ports[n->first_port + k], up);
        } else {
            detect(&f->ports[target], up);
        }
        recompute(f);
        return;
    }
    if (arg & EV_SWITCH)
        ifb_fail_switch(f, target, up);
    else
        ifb_fail_link(f, target, up);
    ifb_sim_at_daemon(sim, sim->now + f->cfg.fail_detection, fail_event, f, arg | EV_DETECT);
}

int ifb_fail_schedule(ifb_fabric *f, const ifb_failure *fl, int n, ifb_err *e)
{
    const ifb_topo *t = f->topo;
    for (int i = 0; i < n; i++) {
        const ifb_failure *x = &fl[i];
        if ((x->port < 0) == (x->sw < 0))
            return ifb_err_msg(e, "failure %d: exactly one of a link and a switch", i);
        if (x->port >= 0 && (x->port >= f->nports || !f->ports[x->port].peer))
            return ifb_err_msg(e, "failure %d: port %d is not a connected port", i, x->port);
        if (x->sw >= 0 && (x->sw >= t->nnodes || t->nodes[x->sw].kind != IFB_NODE_SWITCH))
            return ifb_err_msg(e, "failure %d: node %d is not a switch", i, x->sw);
        if (x->flap_count < 0 ||
            (x->flap_count > 0 && !(x->flap_down > 0 && x->flap_down < x->flap_period)))
            return ifb_err_msg(e, "failure %d: flapping needs 0 < down time < period", i);
        if (!x->flap_count && x->up <= x->down)
            return ifb_err_msg(e, "failure %d: up at %.3f us is not after down at %.3f us", i,
                               ifb_time_to_us(x->up), ifb_time_to_us(x->down));
        if (x->down < f->sim->now)
            return ifb_err_msg(e, "failure %d: down at %.3f us is in the past", i,
                               ifb_time_to_us(x->down));
    }
    if (n > 0 && !f->cfg.goodput_bin)
        f->cfg.goodput_bin = IFB_GOODPUT_BIN_DEFAULT;
    for (int i = 0; i < n; i++) {
        const ifb_failure *x = &fl[i];
        uint64_t base =
            x->port >= 0 ? (uint64_t)x->port << EV_SHIFT : (uint64_t)x->sw << EV_SHIFT | EV_SWITCH;
        int k = x->flap_count ? x->flap_count : 1;
        for (int j = 0; j < k; j++) {
            ifb_time d = x->down + (ifb_time)j * x->flap_period;
            ifb_time u = x->flap_count ? d + x->flap_down : x->up;
            /* daemons: a failure after the work is done must not keep the run going */
            ifb_sim_at_daemon(f->sim, d, fail_event, f, base);
            if (u != IFB_TIME_NEVER)
                ifb_sim_at_daemon(f->sim, u, fail_event, f, base | EV_UP);
        }
    }
    return 0;
}

/* ---- Goodput and recovery ------------------------------------------------------------------- */

void ifb_fail_recovery(const ifb_fabric *f, ifb_time until, ifb_recovery *out)
{
    memset(out, 0, sizeof *out);
    const ifb_fabric_counters *c = &f->cnt;
    out->lost = c->link_down_drops + c->unroutable_drops;
    out->retx = c->retx_pkts;
    out->timeouts = c->timeouts;
    out->msgs_failed = c->msgs_failed;
    out->bin = f->cfg.goodput_bin;
    out->recovery = IFB_TIME_NEVER;
    if (!f->fail || !out->bin)
        return;
    out->any = 1;
    out->t_fail = f->fail->t_first;
    size_t bf = (size_t)(out->t_fail / out->bin), end = (size_t)(until / out->bin);
    if (end > f->ngp)
        end = f->ngp;
    /* pre-failure window: from the first bin with goodput, itself excluded (a partial ramp),
     * to the bin the failure falls in, excluded */
    size_t b0 = 0;
    while (b0 < bf && b0 < f->ngp && !f->gp[b0])
        b0++;
    double sum = 0;
    size_t npre = 0;
    for (size_t b = b0 + 1; b < bf && b < f->ngp; b++, npre++)
        sum += (double)f->gp[b];
    if (!npre) { /* nothing to compare with: neither figure is measured */
        out->pre_gbps = out->dip = NAN;
        return;
    }
    double mean = sum / (double)npre;
    out->pre_gbps = mean * 8.0 / ifb_time_to_s(out->bin) / 1e9;
    double lo = -1;
    size_t below = 0;
    int dipped = 0;
    for (size_t b = bf + 1; b < end; b++) {
        double v = (double)f->gp[b];
        if (lo < 0 || v < lo)
            lo = v;
        if (!dipped && v < 0.9 * mean) {
            dipped = 1;
            below = b;
        }
        if (dipped && b > below && v >= 0.9 * mean && out->recovery == IFB_TIME_NEVER)
            out->recovery = (ifb_time)(b + 1) * out->bin - out->t_fail;
    }
    out->dip = lo < 0 ? NAN : lo / mean; /* no bin after the failure: not measured */
    if (!dipped && end > bf + 1)
        out->recovery = 0;
}
