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
#include "net/lb.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/rng.h"
#include "net/fabric_int.h"
#include "net/wire.h"

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

/* ---- State ---------------------------------------------------------------------------------- */

typedef struct lb_shared {
    ifb_lb_cfg cfg;
    ifb_fabric *f;
    const ifb_topo *t;
    int use_wcmp, use_flowlet, use_quality, use_group_mem;
    /* WCMP: ntables tables of cfg.wcmp_width member indices; idx[switch * nhosts + host] */
    uint16_t *tables;
    uint32_t ntables;
    size_t tables_cap;
    uint32_t *idx;
    /* INT-driven routing: path figures per (source ToR, destination ToR, source egress port) */
    int use_int;
    int ntor, maxports;
    int *tor_of_sw, *host_tor; /* dense ToR index of a switch / of a host's switch, or -1 */
    struct lb_remote *rem;
} lb_shared;

/* A path figure as the source switch sees it. A sink's update is in flight for one forward
 * delay: it waits in `pend` until pend_at and is taken in by whoever reads the entry first, so
 * feedback costs no event. A newer update sent while one is in flight rides with it (it lands at
 * the earlier time, up to one delay early, rather than being held back behind it). */
typedef struct lb_remote {
    uint32_t fig, sent_fig, pend_fig; /* bytes: applied / last sent by a sink / in flight */
    uint8_t set, sent, pend;
    ifb_time at, sent_at, pend_at;
} lb_remote;

typedef struct lb_flowlet {
    ifb_time last; /* arrival of the flow's latest packet */
    uint32_t tag;  /* flow hash of the last owner (statistics only: hardware keeps no tag) */
    uint16_t member;
    uint8_t live;
} lb_flowlet;

typedef struct lb_quality {
    uint64_t k;       /* index of the last sampling interval folded in */
    uint64_t tx_mark; /* port tx_bytes at that boundary */
    double ewma_tx, ewma_q;
    uint8_t band;
} lb_quality;

typedef struct lb_group_mem {
    uint16_t rr;   /* next member for round robin */
    uint16_t best; /* DRILL's remembered best member */
} lb_group_mem;

typedef struct lb_sw {
    const lb_shared *sh;
    ifb_rng rng;
    lb_flowlet *fl;       /* cfg.flowlet_table entries, or NULL */
    lb_quality *pq;       /* one per port of the switch, or NULL */
    lb_group_mem *gm;     /* one per topology group, or NULL */
    const uint32_t *widx; /* this switch's row of sh->idx, or NULL */
    int tor;              /* dense ToR index (INT-driven routing), -1 if no host attaches */
    ifb_lb_stats st;
} lb_sw;

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

/* The members a choice may take: the whole group or, after a detected failure, the live ones
 * (net/failure.c keeps a list L per switch and destination: L[0] = count >= 1, then member
 * indices). Every mode picks among its candidates the way it would among a smaller group. */
typedef struct cands {
    const uint16_t *L; /* NULL: every member of the group */
    int n;
} cands;

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
    if (s->widx && sh->cfg.weighted) {
        const uint16_t *tab = sh->tables + (size_t)s->widx[pk->dst] * sh->cfg.wcmp_width;
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

static int pick_int(lb_sw *s, ifb_switch *sw, const ifb_topo_group *g, const cands *c,
                    const ifb_pkt *pk, ifb_time now, int per_packet)
{
    const lb_shared *sh = s->sh;
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
    (inst_load(&sw->ports[sh->t->group_ports[g->first + (m)]]) +                                   \
     remote_cost(row, sh->t->group_ports[g->first + (m)], now, age, floor))
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
    return nt == 1 ? ties[0] : ties[ifb_rng_below(&s->rng, (uint64_t)nt)];
}

static lb_shared *shared_of(const ifb_fabric *f)
{
    return f->nswitches && f->switches[0].lb ? (lb_shared *)((lb_sw *)f->switches[0].lb)->sh : NULL;
}

int ifb_lb_int_wanted(const ifb_fabric *f)
{
    const lb_shared *sh = shared_of(f);
    return sh && sh->use_int;
}

int ifb_lb_int_feedback(ifb_fabric *f, int src_sw, int dst_sw, int port, uint32_t fig,
                        ifb_time delay)
{
    lb_shared *sh = shared_of(f);
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
    cands c = {NULL, g->count};
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
    s->st.selects++;
    switch (qc->mode) {
    case IFB_LBA_WCMP: {
        const uint16_t *tab = sh->tables + (size_t)s->widx[pk->dst] * sh->cfg.wcmp_width;
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
    case IFB_LBA_DMODK:
        /* InfiniBand static routing as OpenSM's up/down and fat-tree engines lay out linear
         * forwarding tables: destination modulo the number of uplinks, so destinations spread
         * evenly and deterministically (d-mod-k). */
        return cand(&c, (int)(pk->dst % (uint32_t)c.n));
    default:
        return cand(&c, ecmp_pick(ifb_flow_hash(sw, pk), c.n));
    }
}

/* ---- WCMP tables ---------------------------------------------------------------------------- */

/* Capacity from switch index si to host h along shortest paths: the sum over members of
 * min(member link rate, capacity beyond it). memo[si] = -1 until computed. */
static double capacity_to(const ifb_fabric *f, int si, int h, double *memo, int depth)
{
    if (memo[si] >= 0)
        return memo[si];
    const ifb_topo *t = f->topo;
    const ifb_switch *sw = &f->switches[si];
    const ifb_topo_group *g = &t->groups[sw->route[h]];
    double sum = 0;
    for (int i = 0; i < g->count; i++) {
        const ifb_port *p = &sw->ports[t->group_ports[g->first + i]];
        double r = p->dead ? 0 : (double)p->rate; /* a failed link carries nothing */
        if (p->peer && p->peer->sw && depth < f->nswitches) {
            double beyond = capacity_to(f, p->peer->sw->idx, h, memo, depth + 1);
            if (beyond < r)
                r = beyond;
        }
        sum += r;
    }
    memo[si] = sum;
    return sum;
}

static uint32_t intern_table(lb_shared *sh, const uint16_t *tab)
{
    size_t w = sh->cfg.wcmp_width;
    for (uint32_t i = 0; i < sh->ntables; i++)
        if (!memcmp(sh->tables + (size_t)i * w, tab, w * sizeof *tab))
            return i;
    sh->tables =
        ifb_xgrow(sh->tables, &sh->tables_cap, sh->ntables, w * sizeof *tab, 16, "WCMP tables");
    memcpy(sh->tables + (size_t)sh->ntables * w, tab, w * sizeof *tab);
    return sh->ntables++;
}

/* Largest-remainder apportionment of `width` slots to weights; every member with a positive
 * weight keeps at least one slot (as WCMP replicates each next hop at least once). */
static void apportion(const double *w, int n, uint32_t width, uint16_t *tab)
{
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += w[i];
    uint32_t slots[IFB_LB_MAX_MEMBERS];
    double frac[IFB_LB_MAX_MEMBERS];
    uint32_t used = 0;
    for (int i = 0; i < n; i++) {
        double q = w[i] * (double)width / sum;
        slots[i] = (uint32_t)q;
        frac[i] = q - (double)slots[i];
        used += slots[i];
    }
    while (used < width) {
        int bi = 0;
        for (int i = 1; i < n; i++)
            if (frac[i] > frac[bi])
                bi = i;
        slots[bi]++;
        frac[bi] = -1;
        used++;
    }
    for (int i = 0; i < n; i++) {
        if (w[i] > 0 && slots[i] == 0) {
            int big = 0;
            for (int j = 1; j < n; j++)
                if (slots[j] > slots[big])
                    big = j;
            slots[big]--;
            slots[i] = 1;
        }
    }
    uint32_t k = 0;
    for (int i = 0; i < n; i++)
        for (uint32_t j = 0; j < slots[i]; j++)
            tab[k++] = (uint16_t)i;
}

static int build_wcmp(lb_shared *sh, ifb_err *e)
{
    ifb_fabric *f = sh->f;
    const ifb_topo *t = sh->t;
    const ifb_lb_cfg *c = &sh->cfg;
    const char *file = c->src_file[0] ? c->src_file : NULL;
    /* explicit weights per topology port id, NAN where none */
    double *ovr = ifb_xcalloc((size_t)t->nports, sizeof *ovr, "WCMP port weights");
    double *memo = ifb_xcalloc((size_t)f->nswitches, sizeof *memo, "WCMP capacities");
    uint16_t *tab = ifb_xcalloc(c->wcmp_width, sizeof *tab, "a WCMP table");
    free(sh->idx);
    sh->idx = ifb_xcalloc((size_t)f->nswitches * (size_t)t->nhosts, sizeof *sh->idx,
                          "the WCMP table index");
    sh->ntables = 0;
    int rc = 0;
    for (int i = 0; i < t->nports; i++)
        ovr[i] = NAN;
    for (int i = 0; i < c->nweights && !rc; i++) {
        const ifb_lb_weight *w = &c->weights[i];
        char key[160];
        int n = ifb_topo_find_node(t, w->sw);
        if (n < 0 || t->nodes[n].kind != IFB_NODE_SWITCH) {
            snprintf(key, sizeof key, "%s[%d].switch", c->weights_key, i);
            rc = ifb_err_set(e, file, w->line, key, "the name of a switch of the topology", "'%s'",
                             w->sw);
        } else if (w->port < 0 || w->port >= t->nodes[n].nports) {
            snprintf(key, sizeof key, "%s[%d].port", c->weights_key, i);
            rc = ifb_err_set(e, file, w->line, key, "a port number of the switch",
                             "%d (switch %s has ports 0..%d)", w->port, w->sw,
                             t->nodes[n].nports - 1);
        } else {
            ovr[t->nodes[n].first_port + w->port] = (double)w->weight;
        }
    }
    double wv[IFB_LB_MAX_MEMBERS];
    for (int h = 0; h < t->nhosts && !rc; h++) {
        for (int s = 0; s < f->nswitches; s++)
            memo[s] = -1;
        for (int s = 0; s < f->nswitches && !rc; s++) {
            const ifb_switch *sw = &f->switches[s];
            const ifb_topo_group *g = &t->groups[sw->route[h]];
            if (g->count > IFB_LB_MAX_MEMBERS) {
                rc = ifb_err_msg(e,
                                 "load balancing: switch %s has a group of %d members toward "
                                 "host %s; at most %d are supported",
                                 t->nodes[sw->node].name, g->count, t->nodes[t->host_node[h]].name,
                                 IFB_LB_MAX_MEMBERS);
                break;
            }
            if ((uint32_t)g->count > c->wcmp_width) {
                rc = ifb_err_set(e, file, 0, "load_balancing.wcmp_width",
                                 "at least as many slots as the widest group",
                                 "%u slots for %d members (switch %s)", c->wcmp_width, g->count,
                                 t->nodes[sw->node].name);
                break;
            }
            double sum = 0;
            for (int i = 0; i < g->count; i++) {
                const ifb_port *p = &sw->ports[t->group_ports[g->first + i]];
                double w = (double)p->rate;
                if (c->wcmp_source == IFB_LB_W_CAPACITY && p->peer && p->peer->sw) {
                    double beyond = capacity_to(f, p->peer->sw->idx, h, memo, 1);
                    if (beyond < w)
                        w = beyond;
                }
                w /= 1e9; /* computed weights in Gb/s, the unit explicit weights are given in */
                if (!isnan(ovr[p->id]))
                    w = ovr[p->id];
                if (p->dead)
                    w = 0;
                wv[i] = w;
                sum += w;
            }
            if (!(sum > 0) && f->fail) {
                /* failures left no usable member: the switch drops these packets before
                 * selecting (net/failure.c), the table only has to be valid */
                for (int i = 0; i < g->count; i++)
                    wv[i] = 1;
                sum = g->count;
            }
            if (!(sum > 0)) {
                char ports[256] = "";
                size_t len = 0;
                for (int i = 0; i < g->count && len < sizeof ports - 8; i++)
                    len += (size_t)snprintf(ports + len, sizeof ports - len, "%s%d", i ? ", " : "",
                                            t->group_ports[g->first + i]);
                rc = ifb_err_set(e, file, c->weights_line, c->weights_key,
                                 "at least one member with a weight above 0 in every group",
                                 "switch %s toward host %s: all %d members (ports %s) weigh 0",
                                 t->nodes[sw->node].name, t->nodes[t->host_node[h]].name, g->count,
                                 ports);
                break;
            }
            apportion(wv, g->count, c->wcmp_width, tab);
            sh->idx[(size_t)s * (size_t)t->nhosts + (size_t)h] = intern_table(sh, tab);
        }
    }
    free(ovr);
    free(memo);
    free(tab);
    return rc;
}

/* ---- Attach --------------------------------------------------------------------------------- */

/* ToRs are the switches hosts attach to; INT-driven routing keeps path figures between them. */
static void int_tables(lb_shared *sh)
{
    const ifb_fabric *f = sh->f;
    sh->tor_of_sw = ifb_xcalloc((size_t)f->nswitches, sizeof *sh->tor_of_sw, "the ToR index");
    sh->host_tor = ifb_xcalloc((size_t)f->nhosts, sizeof *sh->host_tor, "the hosts' ToRs");
    for (int i = 0; i < f->nswitches; i++) {
        sh->tor_of_sw[i] = -1;
        if (f->switches[i].nports > sh->maxports)
            sh->maxports = f->switches[i].nports;
    }
    for (int h = 0; h < f->nhosts; h++) {
        const ifb_port *up = f->nics[h].port->peer;
        int si = up && up->sw ? up->sw->idx : -1;
        if (si >= 0 && sh->tor_of_sw[si] < 0)
            sh->tor_of_sw[si] = sh->ntor++;
        sh->host_tor[h] = si >= 0 ? sh->tor_of_sw[si] : -1;
    }
    size_t n = (size_t)sh->ntor * (size_t)sh->ntor * (size_t)sh->maxports;
    sh->rem = ifb_xcalloc(n, sizeof *sh->rem, "INT path figures");
}

void ifb_lb_detach(ifb_fabric *f)
{
    if (!f || !f->nswitches || !f->switches[0].lb)
        return;
    lb_sw *s0 = f->switches[0].lb;
    lb_shared *sh = (lb_shared *)s0->sh;
    for (int i = 0; i < f->nswitches; i++) {
        lb_sw *s = f->switches[i].lb;
        if (s) {
            free(s->fl);
            free(s->pq);
            free(s->gm);
            free(s);
        }
        f->switches[i].lb = NULL;
    }
    free(sh->tables);
    free(sh->idx);
    free(sh->tor_of_sw);
    free(sh->host_tor);
    free(sh->rem);
    free(sh);
}

int ifb_lb_recompute(ifb_fabric *f, ifb_err *e)
{
    if (!f->nswitches || !f->switches[0].lb)
        return 0;
    lb_shared *sh = (lb_shared *)((lb_sw *)f->switches[0].lb)->sh;
    if (!sh->use_wcmp)
        return 0;
    if (build_wcmp(sh, e))
        return -1;
    for (int i = 0; i < f->nswitches; i++)
        ((lb_sw *)f->switches[i].lb)->widx = sh->idx + (size_t)i * (size_t)sh->t->nhosts;
    return 0;
}

int ifb_lb_attach(ifb_fabric *f, const ifb_lb_cfg *cfg, ifb_err *e)
{
    ifb_lb_detach(f);
    const ifb_topo *t = f->topo;
    if (cfg->flowlet_table == 0)
        return ifb_err_set(e, cfg->src_file[0] ? cfg->src_file : NULL, 0,
                           "load_balancing.flowlet_table", "a flowlet table of at least 1 entry",
                           "0");
    if (cfg->wcmp_width == 0 || cfg->wcmp_width > 65536)
        return ifb_err_set(e, NULL, 0, "load_balancing.wcmp_width", "1 to 65536 slots", "%u",
                           cfg->wcmp_width);
    if (cfg->quality_interval == 0 || cfg->quality_bands < 1 || cfg->quality_bands > 8 ||
        !(cfg->quality_ewma > 0 && cfg->quality_ewma <= 1) || cfg->drill_choices < 1)
        return ifb_err_msg(e, "load balancing: quality_interval must be above 0, quality_bands "
                              "1..8, quality_ewma in (0, 1], drill_choices >= 1");
    if (!f->nswitches)
        return 0; /* hosts only: nothing ever selects */
    lb_shared *sh = ifb_xcalloc(1, sizeof *sh, "the path-selection state");
    sh->cfg = *cfg;
    sh->f = f;
    sh->t = t;
    sh->use_wcmp = cfg->weighted;
    for (int q = 0; q < IFB_NQUEUES; q++) {
        const ifb_lb_qcfg *qc = &cfg->q[q];
        if (qc->mode >= IFB_LBA_COUNT) {
            free(sh);
            return ifb_err_set(e, NULL, 0, "load_balancing.mode",
                               "ecmp, wcmp, flowlet, spray, adaptive, dmodk or int_adaptive",
                               "mode %d for queue %d", qc->mode, q);
        }
        /* a queue without INT (fabric.int.queues) routes int_adaptive on its local figures
         * and whatever the INT queues' traffic reports for the same paths */
        if (qc->mode == IFB_LBA_INT_ADAPTIVE && !f->cfg.intc.on) {
            free(sh);
            return ifb_err_set(e, cfg->src_file[0] ? cfg->src_file : NULL, 0, "load_balancing.mode",
                               "int_adaptive with INT on (fabric.int.enable: true)",
                               "int_adaptive on queue %d with INT off", q);
        }
        sh->use_int |= qc->mode == IFB_LBA_INT_ADAPTIVE;
        sh->use_wcmp |= qc->mode == IFB_LBA_WCMP;
        int adaptive = qc->mode == IFB_LBA_ADAPTIVE || qc->mode == IFB_LBA_INT_ADAPTIVE;
        sh->use_flowlet |=
            qc->mode == IFB_LBA_FLOWLET || (adaptive && qc->unit == IFB_LB_UNIT_FLOWLET);
        sh->use_quality |= adaptive;
        sh->use_group_mem |= qc->mode == IFB_LBA_SPRAY || qc->mode == IFB_LBA_INT_ADAPTIVE;
    }
    if (sh->use_wcmp && build_wcmp(sh, e)) {
        free(sh->tables);
        free(sh->idx);
        free(sh);
        return -1;
    }
    if (sh->use_int)
        int_tables(sh);
    ifb_time now = f->sim->now;
    for (int i = 0; i < f->nswitches; i++) {
        ifb_switch *sw = &f->switches[i];
        lb_sw *s = ifb_xcalloc(1, sizeof *s, "a switch's path-selection state");
        s->sh = sh;
        ifb_rng_seed(&s->rng, f->sim->seed, 0x1b5e1ec700000000ull + (uint64_t)sw->idx);
        if (sh->use_flowlet) {
            s->fl = ifb_xcalloc(cfg->flowlet_table, sizeof *s->fl, "a flowlet table");
        }
        if (sh->use_quality) {
            s->pq = ifb_xcalloc((size_t)sw->nports, sizeof *s->pq, "path quality");
            for (int k = 0; k < sw->nports; k++) {
                s->pq[k].k = now / cfg->quality_interval;
                s->pq[k].tx_mark = sw->ports[k].st.tx_bytes;
            }
        }
        if (sh->use_group_mem) {
            s->gm = ifb_xcalloc((size_t)t->ngroups, sizeof *s->gm, "adaptive group memory");
        }
        if (sh->use_wcmp)
            s->widx = sh->idx + (size_t)i * (size_t)t->nhosts;
        s->tor = sh->use_int ? sh->tor_of_sw[i] : -1;
        sw->lb = s;
    }
    return 0;
}

void ifb_lb_get_stats(const ifb_fabric *f, ifb_lb_stats *out)
{
    memset(out, 0, sizeof *out);
    for (int i = 0; i < f->nswitches; i++) {
        const lb_sw *s = f->switches[i].lb;
        if (!s)
            continue;
        out->selects += s->st.selects;
        out->flowlets += s->st.flowlets;
        out->collisions += s->st.collisions;
    }
}

/* ---- Configuration (the plain struct; src/scenario/lb_cfg.c reads the YAML keys) ----------- */

const char *const ifb_lb_mode_names[IFB_LBA_COUNT + 1] = {
    "ecmp", "wcmp", "flowlet", "spray", "adaptive", "dmodk", "int_adaptive", NULL};

const char *ifb_lb_algo_name(int algo)
{
    return algo >= 0 && algo < IFB_LBA_COUNT ? ifb_lb_mode_names[algo] : "?";
}

void ifb_lb_cfg_default(ifb_lb_cfg *c)
{
    memset(c, 0, sizeof *c);
    for (int q = 0; q < IFB_NQUEUES; q++)
        c->q[q] = (ifb_lb_qcfg){.mode = IFB_LBA_ECMP,
                                .flowlet_pick = IFB_LB_PICK_RANDOM,
                                .spray = IFB_LB_SPRAY_RANDOM,
                                .unit = IFB_LB_UNIT_FLOWLET,
                                /* The gap must exceed the largest queueing-delay
                                 * difference between two paths or a new flowlet overtakes the
                                 * old one (a NAK and a go-back-N resend on today's NICs). In a
                                 * 2-tier fabric two hops queue; with ECN-managed RoCE queues
                                 * (Kmax ~1 MB: SONiC 2 MB, ConWeave 400 KB) that is <= 2 MB =
                                 * 40 us at 400 Gb/s, 20 us at 800 Gb/s. 50 us allows 2.5 MB,
                                 * twice ConWeave's 100 us at 100 Gb/s (1.25 MB); SAI's 256 us
                                 * (12.8 MB at 400 G) would almost never re-path RDMA. */
                                .flowlet_gap = 50 * IFB_US};
    c->flowlet_table = 4096;
    c->wcmp_width = 256;
    c->wcmp_source = IFB_LB_W_CAPACITY;
    c->drill_choices = 2;
    c->quality_interval = 16 * IFB_US; /* SAI ARS SAMPLING_INTERVAL default */
    c->quality_ewma = 0.5;
    c->quality_tx_weight = 1.0;
    c->quality_q_weight = 1.0;
    c->quality_bands = 8;
    snprintf(c->weights_key, sizeof c->weights_key, "load_balancing.wcmp_weights");
}
