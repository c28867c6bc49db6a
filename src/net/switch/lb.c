/* Path selection inside an ECMP group (see lb.h for the modes and what is left out).
 *
 * Per-flow ECMP hashes the 5-tuple with a per-switch seed (RoCEv2's only per-connection entropy
 * is the UDP source port: the destination port is always 4791), so every packet of a QP takes
 * the same path, and seeds differ per switch so tiers do not polarize. The other modes keep
 * their state behind ifb_switch.lb: a flowlet table, per-group round-robin/DRILL memory, a
 * lazily sampled quality per egress port, and WCMP slot tables shared by every switch (a table
 * holds member indices, so groups with the same weights share one).
 *
 * Quality follows the SAI ARS profile: at every sampling boundary a port's EWMA of transmitted
 * bytes ("past load") and of queued bytes ("future load") is updated, weighted, normalized to
 * the bytes the link carries in one interval, and quantized into equal-width bands (band 0 =
 * idle). Sampling is done lazily when a packet asks for the quality, from the port's byte
 * counter and queue; intervals nobody looked at share the bytes sent meanwhile evenly, which is
 * what a periodic sampler would have seen on average. Lower band is better; ties are broken at
 * random, so a switch with no load information yet behaves like random choice. */
#include "net/switch/lb.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/rng.h"
#include "net/switch/groups.h"
#include "net/switch/ib_ar.h"
#include "net/switch/lb_state.h"
#include "net/wire/wire.h"

uint32_t ifb_flow_hash(const ifb_switch *sw, const ifb_pkt *pk)
{
    uint64_t x = sw->seed ^ ((uint64_t)pk->src << 32 | pk->dst);
    x ^= ((uint64_t)pk->sport << 16 | IFB_ROCE_UDP_PORT) * 0x9e3779b97f4a7c15ULL;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return (uint32_t)x;
}

static inline int ecmp_pick(uint32_t h, int count)
{
    return (int)(((uint64_t)h * (uint64_t)count) >> 32);
}

/* ---- Quality -------------------------------------------------------------------------------- */

static void quality_update(const lb_shared *sh, lb_quality *q, const ifb_port *p, ifb_time now)
{
    const ifb_lb_cfg *c = &sh->cfg;
    uint64_t k = now / c->quality_interval;
    if (k == q->k)
        return;
    uint64_t n = k - q->k;
    double s_tx = (double)(p->st.tx_bytes - q->tx_mark) / (double)n;
    double s_q = (double)p->qbytes;
    double keep = n == 1 ? 1.0 - c->quality_ewma : pow(1.0 - c->quality_ewma, (double)n);
    q->ewma_tx = s_tx + (q->ewma_tx - s_tx) * keep;
    q->ewma_q = s_q + (q->ewma_q - s_q) * keep;
    q->k = k;
    q->tx_mark = p->st.tx_bytes;
    /* bytes the link carries in one interval: the unit both loads are measured in */
    double cap = (double)p->rate / 8.0 * ifb_time_to_s(c->quality_interval);
    double m =
        cap > 0 ? (c->quality_tx_weight * q->ewma_tx + c->quality_q_weight * q->ewma_q) / cap : 1e9;
    double b = m * (double)c->quality_bands;
    q->band = (uint8_t)(b >= (double)(c->quality_bands - 1) ? c->quality_bands - 1 : (int)b);
}

static inline ifb_port *member_port(ifb_switch *sw, const ifb_topo *t, const ifb_topo_group *g,
                                    int i)
{
    return &sw->ports[t->group_ports[g->first + i]];
}

/* Instantaneous load: bytes queued; a port busy serializing counts one more byte, so that
 * packets arriving together at idle ports still spread. */
static inline uint64_t inst_load(const ifb_port *p)
{
    return p->qbytes + (p->busy || p->f->sim->now < p->free_at ? 1u : 0u);
}

/* The candidates of a choice (lb_cands, net/switch/lb_state.h). */
typedef lb_cands cands;

static inline int cand(const cands *c, int i)
{
    return c->L ? c->L[1 + i] : i;
}

static int cand_has(const cands *c, int m)
{
    for (int i = 1; c->L && i <= c->L[0]; i++)
        if (c->L[i] == m)
            return 1;
    return !c->L;
}

/* Member with the best quality band; ties at random, or (quality_ties: least_loaded) by the
 * instantaneous load and then at random. */
static int pick_quality(lb_sw *s, ifb_switch *sw, const ifb_topo_group *g, const cands *c,
                        ifb_time now)
{
    const lb_shared *sh = s->sh;
    uint16_t ties[IFB_LB_MAX_MEMBERS];
    int nt = 0, best = 256;
    int by_load = sh->cfg.quality_ties == IFB_LB_PICK_LEAST_LOADED;
    uint64_t bl = UINT64_MAX;
    for (int i = 0; i < c->n; i++) {
        int m = cand(c, i);
        int pi = sh->t->group_ports[g->first + m];
        lb_quality *q = &s->pq[pi];
        quality_update(sh, q, &sw->ports[pi], now);
        uint64_t l = by_load ? inst_load(&sw->ports[pi]) : 0;
        if (q->band < best || (q->band == best && l < bl)) {
            best = q->band;
            bl = l;
            nt = 0;
        }
        if (q->band == best && l == bl)
            ties[nt++] = (uint16_t)m;
    }
    return nt == 1 ? ties[0] : ties[ifb_rng_below(&s->rng, (uint64_t)nt)];
}

static int pick_least_loaded(lb_sw *s, ifb_switch *sw, const ifb_topo_group *g, const cands *c)
{
    uint16_t ties[IFB_LB_MAX_MEMBERS];
    int nt = 0;
    uint64_t best = UINT64_MAX;
    for (int i = 0; i < c->n; i++) {
        int m = cand(c, i);
        uint64_t l = inst_load(member_port(sw, s->sh->t, g, m));
        if (l < best) {
            best = l;
            nt = 0;
        }
        if (l == best)
            ties[nt++] = (uint16_t)m;
    }
    return nt == 1 ? ties[0] : ties[ifb_rng_below(&s->rng, (uint64_t)nt)];
}

/* A uniformly random candidate or, with `weighted`, a random slot of the group's WCMP table, so
 * random choices follow the weights on asymmetric fabrics (recomputed tables give dead members
 * no slot). */
static int random_member(lb_sw *s, const ifb_topo_group *g, const cands *c, const ifb_pkt *pk)
{
    const lb_shared *sh = s->sh;
    if (c->widx && sh->cfg.weighted) {
        const uint16_t *tab = sh->tables + (size_t)c->widx[pk->dst] * sh->cfg.wcmp_width;
        int m = tab[ifb_rng_below(&s->rng, sh->cfg.wcmp_width)];
        if (m < g->count && cand_has(c, m))
            return m;
    }
    return cand(c, (int)ifb_rng_below(&s->rng, (uint64_t)c->n));
}

/* DRILL: d random samples, then the remembered best only if strictly better (so ties keep
 * spreading instead of sticking to one port). cost(m) is what is compared. */
#define DRILL_PICK(s, g, c, pk, cost)                                                              \
    do {                                                                                           \
        lb_group_mem *gm_ = &(s)->gm[(g) - (s)->sh->t->groups];                                    \
        int best_ = -1;                                                                            \
        uint64_t bc_ = UINT64_MAX;                                                                 \
        for (int i_ = 0; i_ < (s)->sh->cfg.drill_choices; i_++) {                                  \
            int m_ = random_member((s), (g), (c), (pk));                                           \
            uint64_t c_ = cost(m_);                                                                \
            if (c_ < bc_) {                                                                        \
                bc_ = c_;                                                                          \
                best_ = m_;                                                                        \
            }                                                                                      \
        }                                                                                          \
        if (gm_->best < (g)->count && cand_has((c), gm_->best) && cost(gm_->best) < bc_)           \
            best_ = gm_->best;                                                                     \
        gm_->best = (uint16_t)best_;                                                               \
        return best_;                                                                              \
    } while (0)

/* INT-driven choice. A member's cost is the bytes queued at this switch's port (fresh) plus the
 * figure the sinks last reported for the path behind it toward the destination's ToR: the
 * worst remote hop's queue plus its utilization times the bytes the link carries in one INT
 * sampling interval, so that a saturated link weighs like a queue of that size and idle paths
 * are preferred. Figures older than feedback_age are forgotten (an idle path is tried again).
 * Per packet, the choice is DRILL's: d random members and the last best, so a stale figure
 * cannot herd every packet onto one member; a new flowlet compares every member. Away from a
 * source ToR, or toward a host on this ToR, only the local queue is known. */
static lb_remote *remote_row(const lb_sw *s, const ifb_pkt *pk)
{
    const lb_shared *sh = s->sh;
    if (s->tor < 0)
        return NULL;
    int dt = sh->host_tor[pk->dst];
    if (dt < 0 || dt == s->tor)
        return NULL;
    return sh->rem + ((size_t)s->tor * (size_t)sh->ntor + (size_t)dt) * (size_t)sh->maxports;
}

/* The figure of a path now: 0 when none is known or it is older than age. */
static inline uint64_t remote_fig(lb_remote *r, ifb_time now, ifb_time age)
{
    if (r->pend && r->pend_at <= now) {
        r->fig = r->pend_fig;
        r->at = r->pend_at;
        r->set = 1;
        r->pend = 0;
    }
    return r->set && now - r->at <= age ? r->fig : 0;
}

/* Remote part of a member's cost: its path figure beyond the best member's plus the margin. */
static inline uint64_t remote_cost(lb_remote *row, int pi, ifb_time now, ifb_time age,
                                   uint64_t floor)
{
    uint64_t r = row ? remote_fig(&row[pi], now, age) : 0;
    return r > floor ? r - floor : 0;
}

/* With `weighted`, a member's cost is per unit of its WCMP capacity share: bytes waiting times
 * the mean share over the member's, so a member carrying twice the capacity may hold twice the
 * queue before it looks as loaded (a drain-time comparison); a member with no slot is never
 * chosen. Equal weights leave every cost as it is. */
static inline uint64_t per_share(const uint16_t *ws, int m, uint64_t cost, uint32_t width, int n)
{
    if (!ws)
        return cost;
    if (!ws[m])
        return UINT64_MAX / 2;
    return cost * width / ((uint64_t)ws[m] * (uint64_t)n);
}

static int pick_int(lb_sw *s, ifb_switch *sw, const ifb_topo_group *g, const cands *c,
                    const ifb_pkt *pk, ifb_time now, int per_packet)
{
    const lb_shared *sh = s->sh;
    const uint16_t *ws =
        sh->tshare && c->widx ? sh->tshare + (size_t)c->widx[pk->dst] * IFB_LB_MAX_MEMBERS : NULL;
    uint32_t width = sh->cfg.wcmp_width;
    lb_remote *row = remote_row(s, pk);
    ifb_time age = sh->f->cfg.intc.feedback_age;
    uint64_t floor = UINT64_MAX;
    if (row) {
        for (int i = 0; i < c->n; i++) {
            uint64_t r = remote_fig(&row[sh->t->group_ports[g->first + cand(c, i)]], now, age);
            if (r < floor)
                floor = r;
        }
        floor += sh->f->cfg.intc.path_margin;
    }
#define COST(m)                                                                                    \
    per_share(ws, (m),                                                                             \
              inst_load(&sw->ports[sh->t->group_ports[g->first + (m)]]) +                          \
                  remote_cost(row, sh->t->group_ports[g->first + (m)], now, age, floor),           \
              width, g->count)
    if (per_packet)
        DRILL_PICK(s, g, c, pk, COST);
    uint16_t ties[IFB_LB_MAX_MEMBERS];
    int nt = 0;
    uint64_t bc = UINT64_MAX;
    for (int i = 0; i < c->n; i++) {
        int m = cand(c, i);
        uint64_t cost = COST(m);
        if (cost < bc) {
            bc = cost;
            nt = 0;
        }
        if (cost == bc)
            ties[nt++] = (uint16_t)m;
    }
#undef COST
    if (nt > 1 && ws) { /* ties (an idle fabric) split by capacity share, as WCMP would */
        uint64_t tot = 0;
        for (int i = 0; i < nt; i++)
            tot += ws[ties[i]];
        uint64_t r = tot ? ifb_rng_below(&s->rng, tot) : 0;
        for (int i = 0; i < nt; i++) {
            if (r < ws[ties[i]])
                return ties[i];
            r -= ws[ties[i]];
        }
    }
    return nt == 1 ? ties[0] : ties[ifb_rng_below(&s->rng, (uint64_t)nt)];
}

int ifb_lb_int_wanted(const ifb_fabric *f)
{
    const lb_shared *sh = ifb_lb_shared_of(f);
    return sh && sh->use_int;
}

int ifb_lb_int_feedback(ifb_fabric *f, int src_sw, int dst_sw, int port, uint32_t fig,
                        ifb_time delay)
{
    lb_shared *sh = ifb_lb_shared_of(f);
    if (!sh || !sh->use_int)
        return 0;
    int st = sh->tor_of_sw[src_sw], dt = sh->tor_of_sw[dst_sw];
    if (st < 0 || dt < 0 || st == dt || port < 0 || port >= sh->maxports)
        return 0;
    size_t idx = ((size_t)st * (size_t)sh->ntor + (size_t)dt) * (size_t)sh->maxports + (size_t)port;
    lb_remote *r = &sh->rem[idx];
    /* one update per MTU-sized change or per sampling interval: the reverse traffic a real
     * switch piggybacks on is finite too */
    ifb_time now = f->sim->now;
    uint32_t d = fig > r->sent_fig ? fig - r->sent_fig : r->sent_fig - fig;
    if (r->sent && d < f->cfg.mtu && now - r->sent_at < sh->cfg.quality_interval)
        return 0;
    r->sent = 1;
    r->sent_fig = fig;
    r->sent_at = now;
    remote_fig(r, now, 0); /* take in the one that has landed before replacing it */
    /* one still in flight keeps its landing time but carries the newer figure: updates closer
     * together than the delay would otherwise keep pushing the landing out and never land */
    if (!r->pend || r->pend_at > now + delay)
        r->pend_at = now + delay;
    r->pend = 1;
    r->pend_fig = fig;
    return 1;
}

enum { PICK_RANDOM, PICK_LEAST, PICK_QUALITY, PICK_INT };

static int pick_new(lb_sw *s, ifb_switch *sw, const ifb_topo_group *g, const cands *c,
                    const ifb_pkt *pk, int how, ifb_time now)
{
    switch (how) {
    case PICK_LEAST:
        return pick_least_loaded(s, sw, g, c);
    case PICK_QUALITY:
        return pick_quality(s, sw, g, c, now);
    case PICK_INT:
        return pick_int(s, sw, g, c, pk, now, 0);
    default:
        return random_member(s, g, c, pk);
    }
}

/* A flow keeps its member while its packets are at most `gap` apart. The table is indexed by the
 * flow hash without a tag, as in switch silicon: flows that share an entry share a member. A
 * flowlet whose member died moves at once: waiting for the gap would black-hole it. */
static int flowlet_select(lb_sw *s, ifb_switch *sw, const ifb_topo_group *g, const cands *c,
                          const ifb_pkt *pk, ifb_time gap, int how)
{
    ifb_time now = s->sh->f->sim->now;
    uint32_t h = ifb_flow_hash(sw, pk);
    lb_flowlet *fe = &s->fl[((uint64_t)h * s->sh->cfg.flowlet_table) >> 32];
    if (fe->live && now - fe->last <= gap && fe->member < g->count && cand_has(c, fe->member)) {
        if (fe->tag != h)
            s->st.collisions++;
        fe->last = now;
        fe->tag = h;
        return fe->member;
    }
    int m = pick_new(s, sw, g, c, pk, how, now);
    s->st.flowlets++;
    fe->live = 1;
    fe->last = now;
    fe->tag = h;
    fe->member = (uint16_t)m;
    return m;
}

static int spray_select(lb_sw *s, ifb_switch *sw, const ifb_topo_group *g, const cands *c,
                        const ifb_pkt *pk, int kind)
{
    const lb_shared *sh = s->sh;
    lb_group_mem *gm = &s->gm[g - sh->t->groups];
    switch (kind) {
    case IFB_LB_SPRAY_ROUND_ROBIN: {
        int i = gm->rr < c->n ? gm->rr : 0;
        gm->rr = (uint16_t)(i + 1 == c->n ? 0 : i + 1);
        return cand(c, i);
    }
    case IFB_LB_SPRAY_DRILL:
#define LOAD(m) inst_load(member_port(sw, sh->t, g, (m)))
        DRILL_PICK(s, g, c, pk, LOAD);
#undef LOAD
    default:
        return random_member(s, g, c, pk);
    }
}

int ifb_lb_select(ifb_switch *sw, const ifb_topo_group *g, const ifb_pkt *pk)
{
    cands c = {NULL, g->count, NULL};
    if (sw->live_idx && sw->live_idx[pk->dst] != IFB_LIVE_ALL) {
        c.L = sw->live_pool + sw->live_idx[pk->dst];
        c.n = c.L[0];
        if (!c.n)
            return 0; /* nothing reaches the destination: ifb_fail_forward drops the packet */
    }
    lb_sw *s = sw->lb;
    if (!s)
        return cand(&c, ecmp_pick(ifb_flow_hash(sw, pk), c.n));
    const lb_shared *sh = s->sh;
    const ifb_lb_qcfg *qc = &sh->cfg.q[pk->tc & (IFB_NQUEUES - 1)];
    c.widx = s->widx;
    uint16_t both[IFB_LB_MAX_MEMBERS + 1];
    if (sh->cls) /* a class with its own mode or group (net/switch/groups.h) */
        qc = ifb_lb_class_of(sh, sw, g, pk, qc, &c, both);
    s->st.selects++;
    switch (qc->mode) {
    case IFB_LBA_WCMP: {
        const uint16_t *tab = sh->tables + (size_t)c.widx[pk->dst] * sh->cfg.wcmp_width;
        uint32_t h = ifb_flow_hash(sw, pk);
        int m = tab[((uint64_t)h * sh->cfg.wcmp_width) >> 32];
        /* a route changed without ifb_lb_recompute: stay inside the group */
        return m < g->count && cand_has(&c, m) ? m : cand(&c, ecmp_pick(h, c.n));
    }
    case IFB_LBA_FLOWLET:
        return flowlet_select(s, sw, g, &c, pk, qc->flowlet_gap,
                              qc->flowlet_pick == IFB_LB_PICK_LEAST_LOADED ? PICK_LEAST
                                                                           : PICK_RANDOM);
    case IFB_LBA_SPRAY:
        return spray_select(s, sw, g, &c, pk, qc->spray);
    case IFB_LBA_ADAPTIVE:
        if (qc->unit == IFB_LB_UNIT_PACKET)
            return pick_quality(s, sw, g, &c, sh->f->sim->now);
        return flowlet_select(s, sw, g, &c, pk, qc->flowlet_gap, PICK_QUALITY);
    case IFB_LBA_INT_ADAPTIVE:
        if (qc->unit == IFB_LB_UNIT_PACKET)
            return pick_int(s, sw, g, &c, pk, sh->f->sim->now, 1);
        return flowlet_select(s, sw, g, &c, pk, qc->flowlet_gap, PICK_INT);
    case IFB_LBA_AR:
        return ifb_ar_select(sw, g, &c, pk);
    case IFB_LBA_DMODK:
        /* InfiniBand static routing as OpenSM's up/down and fat-tree engines lay out linear
         * forwarding tables: destination modulo the number of uplinks, so destinations spread
         * evenly and deterministically (d-mod-k). */
        return cand(&c, (int)(pk->dst % (uint32_t)c.n));
    default:
        return cand(&c, ecmp_pick(ifb_flow_hash(sw, pk), c.n));
    }
}
