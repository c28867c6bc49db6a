/* Per-class routing at the switches (see groups.h): the classes' modes, member lists and WCMP
 * tables, built at attach and rebuilt with the fabric's WCMP tables after a failure.
 *
 * Composition rule (docs/scenario.md, "Mechanisms together"): a class's mode is its own
 * (load_balancing.per_class.<class>) or its egress queue's; a per-packet mode on a class whose
 * receivers place in order only falls back to its per-flowlet form when ooo_fallback is on
 * (spray random or round robin: flowlets picked at random, LetFlow; spray DRILL: flowlets on
 * the least-loaded member; adaptive and int_adaptive per packet: per flowlet; on InfiniBand,
 * which has no flow hash, the static linear forwarding table, d-mod-k); the candidates
 * are the class's members of the group (all of them without a member list), intersected with
 * the live members after a failure; random picks and WCMP hashing use the class's own table
 * when it has weights or a member list (weights: the fabric's WCMP weight of each member, i.e.
 * its capacity toward the destination, times the class's factor for the switch it leads to). */
#include "net/switch/groups.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

static const char *const cname[IFB_TC_COUNT] = {"a2a", "kv", "pp", "coll"};

static int per_packet(const ifb_lb_qcfg *q)
{
    return q->mode == IFB_LBA_SPRAY || q->mode == IFB_LBA_AR ||
           ((q->mode == IFB_LBA_ADAPTIVE || q->mode == IFB_LBA_INT_ADAPTIVE) &&
            q->unit == IFB_LB_UNIT_PACKET);
}

/* The per-flowlet form of a per-packet mode (the order a go-back-N receiver needs kept as long
 * as the flowlet gap exceeds the paths' delay difference). */
static ifb_lb_qcfg flowlet_form(const ifb_fabric *f, ifb_lb_qcfg q)
{
    if (f->ib) { /* no flow hash on InfiniBand: the linear forwarding table, as for QPs the
                  * subnet manager leaves out of adaptive routing */
        q.mode = IFB_LBA_DMODK;
    } else if (q.mode == IFB_LBA_SPRAY) {
        q.flowlet_pick =
            q.spray == IFB_LB_SPRAY_DRILL ? IFB_LB_PICK_LEAST_LOADED : IFB_LB_PICK_RANDOM;
        q.mode = IFB_LBA_FLOWLET;
    } else {
        q.unit = IFB_LB_UNIT_FLOWLET;
    }
    return q;
}

static int code_of(const ifb_fabric *f, int t)
{
    return f->ib ? 64 + (f->cfg.tclass[t].sl & 15) : f->cfg.tclass[t].dscp & 63;
}

static int queue_of(const ifb_fabric *f, int t)
{
    return f->ib ? f->cfg.ib_sl2vl[f->cfg.tclass[t].sl & 15] : f->cfg.tclass[t].queue;
}

static int same_qcfg(const ifb_lb_qcfg *a, const ifb_lb_qcfg *b)
{
    return a->mode == b->mode && a->flowlet_pick == b->flowlet_pick && a->spray == b->spray &&
           a->unit == b->unit && a->flowlet_gap == b->flowlet_gap;
}

int ifb_lb_class_same_group(const ifb_lb_class *x, const ifb_lb_class *y)
{
    if (x->nmembers != y->nmembers || x->nweights != y->nweights)
        return 0;
    for (int i = 0; i < x->nmembers; i++)
        if (strcmp(x->members[i], y->members[i]))
            return 0;
    for (int i = 0; i < x->nweights; i++)
        if (strcmp(x->wsw[i], y->wsw[i]) || x->wfac[i] != y->wfac[i])
            return 0;
    return 1;
}

/* Whether classes a and b route the same way (their modes resolved in q). */
static int same_routing(const ifb_lb_cfg *c, const ifb_lb_qcfg *q, int a, int b)
{
    return same_qcfg(&q[a], &q[b]) && ifb_lb_class_same_group(&c->cls[a], &c->cls[b]);
}

static const char *key_of(const ifb_lb_cfg *c, int k, char *buf, size_t cap)
{
    if (c->cls[k].key[0])
        return c->cls[k].key;
    snprintf(buf, cap, "load_balancing.per_class.%s", cname[k]);
    return buf;
}

/* The switch index of a member name, or -1 with e filled (key names the list entry). */
static int member_switch(const ifb_topo *t, const char *file, int line, const char *key,
                         const char *name, ifb_err *e)
{
    int n = ifb_topo_find_node(t, name);
    if (n < 0 || t->nodes[n].kind != IFB_NODE_SWITCH) {
        ifb_err_set(e, file, line, key, "the name of a switch of the topology", "'%s'%s", name,
                    n >= 0 ? " (a host)" : "");
        return -1;
    }
    return t->nodes[n].host;
}

/* The member lists of class k per (switch, topology group); 0, or -1 with e filled when a
 * name is not a switch or no switch with a choice of paths has a member in the list. */
static int build_members(lb_shared *sh, int k, lb_class *cl, ifb_err *e)
{
    const ifb_fabric *f = sh->f;
    const ifb_topo *t = sh->t;
    const ifb_lb_class *lc = &sh->cfg.cls[k];
    const char *file = sh->cfg.src_file[0] ? sh->cfg.src_file : NULL;
    char kb[96], key[320];
    const char *base = key_of(&sh->cfg, k, kb, sizeof kb);
    size_t ns = (size_t)f->nswitches, ng = (size_t)t->ngroups;
    cl->in_set = ifb_xcalloc(ns ? ns : 1, 1, "a class's member switches");
    cl->fac = ifb_xcalloc(ns ? ns : 1, sizeof *cl->fac, "a class's weight factors");
    for (size_t s = 0; s < ns; s++)
        cl->fac[s] = 1;
    for (int i = 0; i < lc->nmembers; i++) {
        snprintf(key, sizeof key, "%s.group[%d]", base, i);
        int s = member_switch(t, file, lc->line, key, lc->members[i], e);
        if (s < 0)
            return -1;
        cl->in_set[s] = 1;
    }
    for (int i = 0; i < lc->nweights; i++) {
        snprintf(key, sizeof key, "%s.weights.%s", base, lc->wsw[i]);
        int s = member_switch(t, file, lc->line, key, lc->wsw[i], e);
        if (s < 0)
            return -1;
        cl->fac[s] = lc->wfac[i];
    }
    if (!lc->nmembers)
        return 0;
    if (ns * ng > ((size_t)1 << 28))
        return ifb_err_set(e, file, lc->line, base,
                           "a fabric of at most 2^28 (switch, group) pairs",
                           "%zu switches x %zu groups", ns, ng);
    cl->gidx = ifb_xmalloc(ns * ng * sizeof *cl->gidx, "a class's group index");
    for (size_t i = 0; i < ns * ng; i++)
        cl->gidx[i] = IFB_LIVE_ALL;
    int *last = ifb_xmalloc((ng ? ng : 1) * sizeof *last, "the group scratch");
    for (size_t i = 0; i < ng; i++)
        last[i] = -1;
    int effective = 0;
    for (size_t s = 0; s < ns; s++) {
        const ifb_switch *sw = &f->switches[s];
        for (int h = 0; h < t->nhosts; h++) {
            int gi = sw->route[h];
            if (last[gi] == (int)s)
                continue;
            last[gi] = (int)s;
            const ifb_topo_group *g = &t->groups[gi];
            if (g->count < 2)
                continue;
            uint16_t M[IFB_LB_MAX_MEMBERS + 1];
            int n = 0;
            for (int i = 0; i < g->count && i < IFB_LB_MAX_MEMBERS; i++) {
                const ifb_port *p = &sw->ports[t->group_ports[g->first + i]];
                if (p->peer && p->peer->sw && cl->in_set[p->peer->sw->idx])
                    M[1 + n++] = (uint16_t)i;
            }
            if (!n)
                continue;
            effective = 1;
            if (n == g->count)
                continue;
            M[0] = (uint16_t)n;
            cl->pool = ifb_xgrow(cl->pool, &cl->pool_cap, cl->npool + (size_t)n + 1,
                                 sizeof *cl->pool, 256, "a class's member lists");
            memcpy(cl->pool + cl->npool, M, ((size_t)n + 1) * sizeof *M);
            cl->gidx[s * ng + (size_t)gi] = (uint32_t)cl->npool;
            cl->npool += (size_t)n + 1;
            cl->restricted = 1;
        }
    }
    free(last);
    if (!effective) {
        char names[256] = "";
        size_t len = 0;
        for (int i = 0; i < lc->nmembers && len < sizeof names - 40; i++)
            len += (size_t)snprintf(names + len, sizeof names - len, "%s%s", i ? ", " : "",
                                    lc->members[i]);
        snprintf(key, sizeof key, "%s.group", base);
        return ifb_err_set(e, file, lc->line, key,
                           "next-hop switches of some switch with a choice of paths (a class "
                           "group picks among a group's members)",
                           "[%s]: no switch has a member leading to one of them", names);
    }
    return 0;
}

int ifb_lb_classes_setup(lb_shared *sh, ifb_err *e)
{
    const ifb_fabric *f = sh->f;
    const ifb_lb_cfg *cfg = &sh->cfg;
    const char *file = cfg->src_file[0] ? cfg->src_file : NULL;
    ifb_lb_qcfg q[IFB_TC_COUNT];
    int active[IFB_TC_COUNT], any = 0;
    char kb[96];
    for (int k = 0; k < IFB_TC_COUNT; k++) {
        const ifb_lb_class *lc = &cfg->cls[k];
        const ifb_lb_qcfg *qq = &cfg->q[queue_of(f, k) & (IFB_NQUEUES - 1)];
        q[k] = lc->has_mode ? lc->q : *qq;
        if (cfg->ooo_fallback && !ifb_class_ooo(&f->cfg, k) && per_packet(&q[k]))
            q[k] = flowlet_form(f, q[k]);
        active[k] = lc->nmembers || lc->nweights || !same_qcfg(&q[k], qq);
        any |= active[k];
        if (q[k].mode >= IFB_LBA_COUNT)
            return ifb_err_set(e, file, lc->line, key_of(cfg, k, kb, sizeof kb), "a mode",
                               "mode %d", q[k].mode);
        if (active[k] && q[k].mode == IFB_LBA_INT_ADAPTIVE && !f->cfg.intc.on)
            return ifb_err_set(e, file, lc->line, key_of(cfg, k, kb, sizeof kb),
                               "int_adaptive with INT on (fabric.int.enable: true)",
                               "int_adaptive for class %s with INT off", cname[k]);
    }
    if (!any)
        return 0;
    /* what a switch classifies on must decide the routing: one way per DSCP (SL) */
    for (int a = 0; a < IFB_TC_COUNT; a++)
        for (int b = a + 1; b < IFB_TC_COUNT; b++)
            if ((active[a] || active[b]) && code_of(f, a) == code_of(f, b) &&
                !same_routing(cfg, q, a, b)) {
                int k = active[a] ? a : b;
                return ifb_err_set(e, file, cfg->cls[k].line, key_of(cfg, k, kb, sizeof kb),
                                   f->ib ? "classes that route differently on SLs of their own "
                                           "(fabric.classes.<c>.sl)"
                                         : "classes that route differently on DSCPs of their own "
                                           "(fabric.classes.<c>.dscp)",
                                   "classes %s and %s share %s %d, which the switches classify on",
                                   cname[a], cname[b], f->ib ? "SL" : "DSCP",
                                   f->ib ? code_of(f, a) - 64 : code_of(f, a));
            }
    lb_classes *cs = ifb_xcalloc(1, sizeof *cs, "the per-class routing");
    sh->cls = cs;
    cs->ngroups = sh->t->ngroups;
    memset(cs->of, -1, sizeof cs->of);
    for (int k = IFB_TC_COUNT - 1; k >= 0; k--) {
        if (!active[k])
            continue;
        lb_class *cl = &cs->c[k];
        cl->q = q[k];
        cs->of[code_of(f, k)] = (int8_t)k;
        ifb_lb_note_mode(sh, &cl->q);
        if (build_members(sh, k, cl, e))
            return -1; /* ifb_lb_classes_free releases what was built */
        cl->own_tab = cfg->cls[k].nweights ||
                      (cl->restricted && (cl->q.mode == IFB_LBA_WCMP || cfg->weighted));
        sh->use_wcmp |= cl->own_tab;
    }
    return 0;
}

/* Each table's slots per member, for INT-driven choice weighed by capacity. */
static void table_shares(lb_shared *sh)
{
    free(sh->tshare);
    sh->tshare = NULL;
    if (!sh->use_int || !sh->cfg.weighted || !sh->ntables)
        return;
    uint32_t width = sh->cfg.wcmp_width;
    sh->tshare = ifb_xcalloc((size_t)sh->ntables * IFB_LB_MAX_MEMBERS, sizeof *sh->tshare,
                             "the WCMP member shares");
    for (uint32_t t = 0; t < sh->ntables; t++)
        for (uint32_t i = 0; i < width; i++) {
            uint16_t m = sh->tables[(size_t)t * width + i];
            if (m < IFB_LB_MAX_MEMBERS)
                sh->tshare[(size_t)t * IFB_LB_MAX_MEMBERS + m]++;
        }
}

int ifb_lb_classes_tables(lb_shared *sh, ifb_err *e)
{
    (void)e;
    lb_classes *cs = sh->cls;
    if (!cs) {
        table_shares(sh);
        return 0;
    }
    const ifb_fabric *f = sh->f;
    const ifb_topo *t = sh->t;
    size_t ns = (size_t)f->nswitches, nh = (size_t)t->nhosts, ng = (size_t)cs->ngroups;
    uint32_t width = sh->cfg.wcmp_width;
    for (int k = 0; k < IFB_TC_COUNT; k++) {
        lb_class *cl = &cs->c[k];
        if (!cl->own_tab)
            continue;
        free(cl->widx);
        cl->widx = ifb_xmalloc(ns * nh * sizeof *cl->widx, "a class's WCMP table index");
        for (size_t s = 0; s < ns; s++) {
            const ifb_switch *sw = &f->switches[s];
            for (size_t h = 0; h < nh; h++) {
                int gi = sw->route[h];
                const ifb_topo_group *g = &t->groups[gi];
                const uint16_t *base = sh->tables + (size_t)sh->idx[s * nh + h] * width;
                double slots[IFB_LB_MAX_MEMBERS] = {0}, w[IFB_LB_MAX_MEMBERS];
                for (uint32_t i = 0; i < width; i++)
                    if (base[i] < g->count)
                        slots[base[i]]++;
                uint32_t o = cl->gidx ? cl->gidx[s * ng + (size_t)gi] : IFB_LIVE_ALL;
                const uint16_t *M = o == IFB_LIVE_ALL ? NULL : cl->pool + o;
                double sum = 0;
                for (int i = 0; i < g->count; i++) {
                    const ifb_port *p = &sw->ports[t->group_ports[g->first + i]];
                    int in = !M;
                    for (int j = 1; M && j <= M[0]; j++)
                        in |= M[j] == i;
                    w[i] = in ? slots[i] * (p->peer && p->peer->sw ? cl->fac[p->peer->sw->idx] : 1)
                              : 0;
                    sum += w[i];
                }
                if (!(sum > 0)) /* its members lost the destination: the fabric's weights */
                    memcpy(w, slots, (size_t)g->count * sizeof *w);
                cl->widx[s * nh + h] = ifb_lb_table(sh, w, g->count);
            }
        }
    }
    table_shares(sh);
    return 0;
}

void ifb_lb_classes_free(lb_shared *sh)
{
    free(sh->tshare);
    sh->tshare = NULL;
    lb_classes *cs = sh->cls;
    if (!cs)
        return;
    for (int k = 0; k < IFB_TC_COUNT; k++) {
        lb_class *cl = &cs->c[k];
        free(cl->gidx);
        free(cl->pool);
        free(cl->widx);
        free(cl->in_set);
        free(cl->fac);
    }
    free(cs);
    sh->cls = NULL;
}
