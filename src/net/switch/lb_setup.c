/* Path-selection set-up (see lb.h): WCMP slot tables, weighted by the capacity each member
 * leads to (or its link rate, or explicit weights) and apportioned by largest remainder, shared
 * by every switch and group with the same weights; the ToR tables of INT-driven routing; attach,
 * detach and rebuild after a link failure; the configuration defaults. */
#include "net/switch/lb.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/rng.h"
#include "net/switch/groups.h"
#include "net/switch/lb_state.h"

/* ---- WCMP tables ---------------------------------------------------------------------------- */

/* What the table build reads of every port, by topology port id, in a few compact arrays: the
 * port records are 1.7 KB each, and reading rate, peer and state through them for every (host,
 * switch, member) was nine tenths of building the fabric at 8,192 hosts (a cache miss each). */
typedef struct wcmp_ports {
    double *rate; /* link rate, 0 when the link is dead (a failed link carries nothing) */
    int *peer_sw; /* dense index of the switch at the other end, or -1 */
    int *first;   /* topology id of each switch's first port, by switch index */
} wcmp_ports;

/* Capacity from switch index si to host h along shortest paths: the sum over members of
 * min(member link rate, capacity beyond it). memo[si] = -1 until computed. */
static double capacity_to(const ifb_fabric *f, const wcmp_ports *wp, int si, int h, double *memo,
                          int depth)
{
    if (memo[si] >= 0)
        return memo[si];
    const ifb_topo *t = f->topo;
    const ifb_topo_group *g = &t->groups[f->switches[si].route[h]];
    double sum = 0;
    for (int i = 0; i < g->count; i++) {
        int id = wp->first[si] + t->group_ports[g->first + i];
        double r = wp->rate[id];
        if (wp->peer_sw[id] >= 0 && depth < f->nswitches) {
            double beyond = capacity_to(f, wp, wp->peer_sw[id], h, memo, depth + 1);
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

uint32_t ifb_lb_table(lb_shared *sh, const double *w, int n)
{
    uint16_t tab[65536];
    apportion(w, n, sh->cfg.wcmp_width, tab);
    return intern_table(sh, tab);
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
    wcmp_ports wp = {
        .rate = ifb_xcalloc((size_t)t->nports, sizeof *wp.rate, "WCMP port rates"),
        .peer_sw = ifb_xcalloc((size_t)t->nports, sizeof *wp.peer_sw, "WCMP port peers"),
        .first = ifb_xcalloc((size_t)f->nswitches, sizeof *wp.first, "WCMP switch ports"),
    };
    for (int i = 0; i < t->nports; i++) {
        const ifb_port *p = &f->ports[i];
        wp.rate[i] = p->dead ? 0 : (double)p->rate;
        wp.peer_sw[i] = p->peer && p->peer->sw ? p->peer->sw->idx : -1;
    }
    for (int s = 0; s < f->nswitches; s++)
        wp.first[s] = (int)(f->switches[s].ports - f->ports);
    /* each switch's last group, weights and table: consecutive hosts mostly repeat them (the
     * hosts of one leaf, seen from anywhere else), and then the table is the same one */
    int *last_g = ifb_xcalloc((size_t)f->nswitches, sizeof *last_g, "WCMP last groups");
    uint32_t *last_tab = ifb_xcalloc((size_t)f->nswitches, sizeof *last_tab, "WCMP last tables");
    double *last_w =
        ifb_xcalloc((size_t)f->nswitches * IFB_LB_MAX_MEMBERS, sizeof *last_w, "WCMP last weights");
    for (int s = 0; s < f->nswitches; s++)
        last_g[s] = -1;
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
                int id = wp.first[s] + t->group_ports[g->first + i];
                double w = wp.rate[id];
                if (w > 0 && c->wcmp_source == IFB_LB_W_CAPACITY && wp.peer_sw[id] >= 0) {
                    double beyond = capacity_to(f, &wp, wp.peer_sw[id], h, memo, 1);
                    if (beyond < w)
                        w = beyond;
                }
                w /= 1e9; /* computed weights in Gb/s, the unit explicit weights are given in */
                if (!isnan(ovr[id]))
                    w = ovr[id];
                if (wp.rate[id] == 0 && f->ports[id].dead)
                    w = 0;
                wv[i] = w;
                sum += w;
            }
            if (!(sum > 0) && f->links_failed) {
                /* failures left no usable member: the switch drops these packets before
                 * selecting (net/fail/failure.c), the table only has to be valid */
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
            double *lw = last_w + (size_t)s * IFB_LB_MAX_MEMBERS;
            uint32_t ti;
            if (last_g[s] == (int)sw->route[h] && !memcmp(lw, wv, (size_t)g->count * sizeof *wv)) {
                ti = last_tab[s];
            } else {
                apportion(wv, g->count, c->wcmp_width, tab);
                ti = intern_table(sh, tab);
                last_g[s] = (int)sw->route[h];
                memcpy(lw, wv, (size_t)g->count * sizeof *wv);
                last_tab[s] = ti;
            }
            sh->idx[(size_t)s * (size_t)t->nhosts + (size_t)h] = ti;
        }
    }
    free(wp.rate);
    free(wp.peer_sw);
    free(wp.first);
    free(last_g);
    free(last_tab);
    free(last_w);
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
        const ifb_port *up = ifb_host_port(f, h)->peer;
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
    ifb_lb_classes_free(sh);
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
    if (build_wcmp(sh, e) || ifb_lb_classes_tables(sh, e))
        return -1;
    for (int i = 0; i < f->nswitches; i++)
        ((lb_sw *)f->switches[i].lb)->widx = sh->idx + (size_t)i * (size_t)sh->t->nhosts;
    return 0;
}

void ifb_lb_note_mode(lb_shared *sh, const ifb_lb_qcfg *qc)
{
    sh->use_int |= qc->mode == IFB_LBA_INT_ADAPTIVE;
    sh->use_wcmp |= qc->mode == IFB_LBA_WCMP;
    int adaptive = qc->mode == IFB_LBA_ADAPTIVE || qc->mode == IFB_LBA_INT_ADAPTIVE;
    sh->use_flowlet |= qc->mode == IFB_LBA_FLOWLET || (adaptive && qc->unit == IFB_LB_UNIT_FLOWLET);
    sh->use_quality |= adaptive;
    sh->use_group_mem |= qc->mode == IFB_LBA_SPRAY || qc->mode == IFB_LBA_INT_ADAPTIVE;
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
                               "ecmp, wcmp, flowlet, spray, adaptive, dmodk, int_adaptive or ar",
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
        ifb_lb_note_mode(sh, qc);
    }
    if (ifb_lb_classes_setup(sh, e) || (sh->use_wcmp && build_wcmp(sh, e)) ||
        ifb_lb_classes_tables(sh, e)) {
        ifb_lb_classes_free(sh);
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
    "ecmp", "wcmp", "flowlet", "spray", "adaptive", "dmodk", "int_adaptive", "ar", NULL};

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
