/* Reading the load-balancing keys (fabric.load_balancing) from the scenario's YAML tree into
 * the plain path-selection configuration of net/switch/lb.h: per-queue modes, flowlet and WCMP
 * tables, the adaptive-routing quality profile, explicit WCMP weights and per-class overrides.
 * Errors name FILE:LINE and the key. Keys: docs/scenario.md (load_balancing).
 * Leaves out: checks that need the fabric (a weight naming a missing switch or port, an
 * all-zero group: ifb_lb_attach does them). */
#include "scenario/lb_cfg.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

static const char *const pick_names[] = {"random", "least_loaded", NULL};
static const char *const spray_names[] = {"random", "round_robin", "drill", NULL};
static const char *const unit_names[] = {"flowlet", "packet", NULL};
static const char *const wsrc_names[] = {"capacity", "link_rate", NULL};

static const char *const class_keys[IFB_TC_COUNT] = {"a2a", "kv", "pp", "coll"};

static int get_enum8(ifb_cfg *c, const char *path, const char *const *names, uint8_t *v, ifb_err *e)
{
    int x;
    if (ifb_cfg_get_enum(c, path, names, *v, &x, e))
        return -1;
    *v = (uint8_t)x;
    return 0;
}

/* The per-queue keys at `base` (the prefix itself or one per_class entry); *given (if not
 * NULL) says whether any of them is there. */
static int load_qcfg_given(ifb_cfg *c, const char *base, ifb_lb_qcfg *q, int *given, ifb_err *e)
{
    char k[160];
#define KEY(name) (snprintf(k, sizeof k, "%s.%s", base, name), k)
    static const char *const names[] = {"mode", "flowlet_pick", "spray", "adaptive", "flowlet_gap"};
    for (int i = 0; given && i < 5; i++)
        *given |= ifb_cfg_has(c, KEY(names[i]));
    if (get_enum8(c, KEY("mode"), ifb_lb_mode_names, &q->mode, e) ||
        get_enum8(c, KEY("flowlet_pick"), pick_names, &q->flowlet_pick, e) ||
        get_enum8(c, KEY("spray"), spray_names, &q->spray, e) ||
        get_enum8(c, KEY("adaptive"), unit_names, &q->unit, e) ||
        ifb_cfg_get_time(c, KEY("flowlet_gap"), q->flowlet_gap, &q->flowlet_gap, e))
        return -1;
#undef KEY
    return 0;
}

static int load_qcfg(ifb_cfg *c, const char *base, ifb_lb_qcfg *q, ifb_err *e)
{
    return load_qcfg_given(c, base, q, NULL, e);
}

/* A name list entry (a switch name) into dst, or -1 naming the key. */
static int get_name(ifb_cfg *c, const char *path, char *dst, size_t cap, ifb_err *e)
{
    const char *v = NULL;
    if (ifb_cfg_get_string(c, path, NULL, &v, e))
        return -1;
    if (!v || !*v || strlen(v) >= cap)
        return ifb_cfg_errf(c, path, e, "a switch name of 1 to 31 bytes", "'%s'", v ? v : "");
    snprintf(dst, cap, "%s", v);
    return 0;
}

/* per_class.<class>: a mode name, or a map of the per-queue keys plus `group` (the next-hop
 * switches the class may use) and `weights` (switch -> factor on the WCMP weight). */
static int load_class(ifb_cfg *c, const char *base, const ifb_lb_qcfg *top, ifb_lb_class *cl,
                      ifb_err *e)
{
    char k[320];
    cl->q = *top;
    snprintf(cl->key, sizeof cl->key, "%s", base);
    cl->line = ifb_cfg_where(c, base, NULL);
    if (cl->line < 0)
        cl->line = 0;
    if (ifb_cfg_type(c, base) == IFB_CFG_SCALAR) {
        cl->has_mode = 1;
        return get_enum8(c, base, ifb_lb_mode_names, &cl->q.mode, e);
    }
    if (ifb_cfg_type(c, base) != IFB_CFG_MAP)
        return ifb_cfg_errf(c, base, e, "a mode name or a map of per-class keys", "a sequence");
    int given = 0;
    if (load_qcfg_given(c, base, &cl->q, &given, e))
        return -1;
    cl->has_mode = (uint8_t)given;
    int n;
    snprintf(k, sizeof k, "%s.group", base);
    if (ifb_cfg_seq_len(c, k, &n, e))
        return -1;
    if (n == 0)
        return ifb_cfg_errf(c, k, e,
                            "at least one next-hop switch (leave `group` out for every member)",
                            "an empty group");
    if (n > IFB_LB_MAX_CLASS_MEMBERS)
        return ifb_cfg_errf(c, k, e, "at most 64 switches", "%d", n);
    for (int i = 0; i < n; i++) {
        snprintf(k, sizeof k, "%s.group[%d]", base, i);
        if (get_name(c, k, cl->members[i], sizeof cl->members[i], e))
            return -1;
        for (int j = 0; j < i; j++)
            if (!strcmp(cl->members[i], cl->members[j]))
                return ifb_cfg_errf(c, k, e, "each switch once", "'%s' twice", cl->members[i]);
        cl->nmembers = i + 1;
    }
    snprintf(k, sizeof k, "%s.weights", base);
    if (ifb_cfg_map_len(c, k, &n, e))
        return -1;
    if (n > IFB_LB_MAX_CLASS_MEMBERS)
        return ifb_cfg_errf(c, k, e, "at most 64 weights", "%d", n);
    for (int i = 0; i < n; i++) {
        char wk[256];
        snprintf(wk, sizeof wk, "%s.weights", base);
        const char *name = ifb_cfg_map_key(c, wk, i, NULL);
        if (!name || strlen(name) >= sizeof cl->wsw[i])
            return ifb_cfg_errf(c, wk, e, "switch names of 1 to 31 bytes", "'%s'",
                                name ? name : "");
        snprintf(k, sizeof k, "%s.weights.%s", base, name);
        double w;
        if (ifb_cfg_get_double(c, k, 1, 1e-6, 1e6, &w, e))
            return -1;
        snprintf(cl->wsw[i], sizeof cl->wsw[i], "%s", name);
        cl->wfac[i] = w;
        cl->nweights = i + 1;
    }
    return 0;
}

int ifb_lb_cfg_load(ifb_cfg *c, const char *prefix, int default_mode, ifb_lb_cfg *out, ifb_err *e)
{
    ifb_lb_cfg *r = ifb_xmalloc(sizeof *r, "the load-balancing configuration");
    ifb_lb_cfg_default(r);
    for (int q = 0; q < IFB_NQUEUES; q++)
        r->q[q].mode = (uint8_t)default_mode;
    const char *file = NULL;
    int line = ifb_cfg_where(c, prefix, &file);
    if (file)
        snprintf(r->src_file, sizeof r->src_file, "%s", file);
    snprintf(r->weights_key, sizeof r->weights_key, "%s.wcmp_weights", prefix);
    r->weights_line = line > 0 ? line : 0;
    int rc = -1;
    char k[192];
    ifb_cfg_kind kind = ifb_cfg_type(c, prefix);
    if (kind == IFB_CFG_SCALAR) {
        /* `load_balancing: spray` is the mode of every queue, all else default */
        uint8_t m = (uint8_t)default_mode;
        if (get_enum8(c, prefix, ifb_lb_mode_names, &m, e))
            goto out;
        for (int q = 0; q < IFB_NQUEUES; q++)
            r->q[q].mode = m;
        *out = *r;
        rc = 0;
        goto out;
    }
    if (kind == IFB_CFG_ABSENT) {
        *out = *r;
        rc = 0;
        goto out;
    }
    if (kind != IFB_CFG_MAP) {
        ifb_cfg_errf(c, prefix, e, "a map of load-balancing keys or a mode name", "a sequence");
        goto out;
    }
    int64_t ft, ww, dc, nb;
    bool weighted = false, fallback = true;
#define KEY(name) (snprintf(k, sizeof k, "%s.%s", prefix, name), k)
    if (load_qcfg(c, prefix, &r->q[0], e) ||
        ifb_cfg_get_int(c, KEY("flowlet_table"), r->flowlet_table, INT64_MIN, INT64_MAX, &ft, e) ||
        ifb_cfg_get_int(c, KEY("wcmp_width"), r->wcmp_width, INT64_MIN, INT64_MAX, &ww, e) ||
        get_enum8(c, KEY("wcmp_weights"), wsrc_names, &r->wcmp_source, e) ||
        ifb_cfg_get_int(c, KEY("drill_choices"), r->drill_choices, 1, IFB_LB_MAX_MEMBERS, &dc, e) ||
        ifb_cfg_get_time(c, KEY("quality_interval"), r->quality_interval, &r->quality_interval,
                         e) ||
        ifb_cfg_get_double(c, KEY("quality_ewma"), r->quality_ewma, 1e-6, 1.0, &r->quality_ewma,
                           e) ||
        ifb_cfg_get_double(c, KEY("quality_tx_weight"), r->quality_tx_weight, 0, 1e6,
                           &r->quality_tx_weight, e) ||
        ifb_cfg_get_double(c, KEY("quality_queue_weight"), r->quality_q_weight, 0, 1e6,
                           &r->quality_q_weight, e) ||
        ifb_cfg_get_int(c, KEY("quality_bands"), r->quality_bands, 1, 8, &nb, e) ||
        get_enum8(c, KEY("quality_ties"), pick_names, &r->quality_ties, e) ||
        ifb_cfg_get_bool(c, KEY("weighted"), false, &weighted, e) ||
        ifb_cfg_get_bool(c, KEY("ooo_fallback"), true, &fallback, e))
        goto out;
    if (ft < 1 || ft > (1 << 24)) {
        ifb_cfg_errf(c, KEY("flowlet_table"), e,
                     "a flowlet table of 1 to 16777216 entries per switch", "%lld", (long long)ft);
        goto out;
    }
    if (ww < 1 || ww > 65536) {
        ifb_cfg_errf(c, KEY("wcmp_width"), e, "1 to 65536 slots per group", "%lld", (long long)ww);
        goto out;
    }
    if (r->quality_interval == 0) {
        ifb_cfg_errf(c, KEY("quality_interval"), e, "a sampling interval above 0", "0");
        goto out;
    }
    r->weighted = weighted;
    r->ooo_fallback = fallback;
    r->flowlet_table = (uint32_t)ft;
    r->wcmp_width = (uint32_t)ww;
    r->drill_choices = (int)dc;
    r->quality_bands = (int)nb;
    for (int q = 1; q < IFB_NQUEUES; q++)
        r->q[q] = r->q[0];

    /* explicit WCMP weights */
    int nw;
    if (ifb_cfg_seq_len(c, KEY("weights"), &nw, e))
        goto out;
    if (nw > IFB_LB_MAX_WEIGHTS) {
        ifb_cfg_errf(c, KEY("weights"), e, "at most 256 explicit weights", "%d", nw);
        goto out;
    }
    if (nw >= 0) {
        snprintf(r->weights_key, sizeof r->weights_key, "%s.weights", prefix);
        r->weights_line = ifb_cfg_where(c, k, NULL);
        if (r->weights_line < 0)
            r->weights_line = 0;
    }
    for (int i = 0; i < nw; i++) {
        char ks[224], kp[224], kw[224];
        snprintf(ks, sizeof ks, "%s.weights[%d].switch", prefix, i);
        snprintf(kp, sizeof kp, "%s.weights[%d].port", prefix, i);
        snprintf(kw, sizeof kw, "%s.weights[%d].weight", prefix, i);
        const char *name = NULL;
        int64_t port = -1;
        double w = -1;
        if (ifb_cfg_get_string(c, ks, NULL, &name, e) ||
            ifb_cfg_get_int(c, kp, -1, 0, 1 << 16, &port, e) ||
            ifb_cfg_get_double(c, kw, -1, 0, 1e12, &w, e))
            goto out;
        if (!name || port < 0 || w < 0) {
            ifb_cfg_errf(c,
                         !name      ? ks
                         : port < 0 ? kp
                                    : kw,
                         e, "switch, port and weight in every weights entry", "a missing key");
            goto out;
        }
        if (strlen(name) >= sizeof r->weights[i].sw) {
            ifb_cfg_errf(c, ks, e, "a switch name shorter than 32 bytes", "'%s'", name);
            goto out;
        }
        ifb_lb_weight *wt = &r->weights[i];
        snprintf(wt->sw, sizeof wt->sw, "%s", name);
        wt->port = (int)port;
        wt->weight = (uint64_t)w;
        if ((double)wt->weight != w) {
            ifb_cfg_errf(c, kw, e, "a whole number weight", "%g", w);
            goto out;
        }
        wt->line = ifb_cfg_where(c, ks, NULL);
        r->nweights = i + 1;
    }

    /* per-class (per egress queue) overrides */
    int nc;
    if (ifb_cfg_map_len(c, KEY("per_class"), &nc, e))
        goto out;
    for (int i = 0; i < nc; i++) {
        snprintf(k, sizeof k, "%s.per_class", prefix);
        const char *qk = ifb_cfg_map_key(c, k, i, NULL);
        char *end;
        long qn = qk ? strtol(qk, &end, 10) : -1;
        char base[224];
        snprintf(base, sizeof base, "%s.per_class.%s", prefix, qk ? qk : "?");
        int cls = -1;
        for (int t = 0; qk && t < IFB_TC_COUNT; t++)
            if (!strcmp(qk, class_keys[t]))
                cls = t;
        if (cls >= 0) {
            if (load_class(c, base, &r->q[0], &r->cls[cls], e))
                goto out;
            continue;
        }
        if (!qk || *end || end == qk || qn < 0 || qn >= IFB_NQUEUES) {
            ifb_cfg_errf(c, base, e,
                         "an egress queue number 0..7 or a class (a2a, kv, pp, coll) as the key",
                         "'%s'", qk ? qk : "?");
            goto out;
        }
        ifb_lb_qcfg *q = &r->q[qn];
        if (ifb_cfg_type(c, base) == IFB_CFG_SCALAR) {
            if (get_enum8(c, base, ifb_lb_mode_names, &q->mode, e))
                goto out;
        } else if (ifb_cfg_type(c, base) == IFB_CFG_MAP) {
            if (load_qcfg(c, base, q, e))
                goto out;
        } else {
            ifb_cfg_errf(c, base, e, "a mode name or a map of per-queue keys", "a sequence");
            goto out;
        }
    }
#undef KEY
    *out = *r;
    rc = 0;
out:
    free(r);
    return rc;
}

/* ---- Checks that need the classes and the routed topology ---------------------------------- */

static int same_q(const ifb_lb_qcfg *a, const ifb_lb_qcfg *b)
{
    return a->mode == b->mode && a->flowlet_pick == b->flowlet_pick && a->spray == b->spray &&
           a->unit == b->unit && a->flowlet_gap == b->flowlet_gap;
}

static int has_entry(const ifb_lb_class *cl)
{
    return cl->has_mode || cl->nmembers || cl->nweights;
}

static int queue_of(const ifb_fabric_cfg *f, int t)
{
    return f->l2 == IFB_L2_IB ? f->ib_sl2vl[f->tclass[t].sl & 15] : f->tclass[t].queue;
}

/* The mode class t routes with, as the switches will resolve it (net/switch/groups.c). */
static ifb_lb_qcfg class_mode(const ifb_lb_cfg *lb, const ifb_fabric_cfg *f, int t)
{
    ifb_lb_qcfg q = lb->cls[t].has_mode ? lb->cls[t].q : lb->q[queue_of(f, t)];
    int pp = q.mode == IFB_LBA_SPRAY || q.mode == IFB_LBA_AR ||
             ((q.mode == IFB_LBA_ADAPTIVE || q.mode == IFB_LBA_INT_ADAPTIVE) &&
              q.unit == IFB_LB_UNIT_PACKET);
    if (lb->ooo_fallback && pp && !ifb_class_ooo(f, t)) {
        if (f->l2 == IFB_L2_IB)
            q.mode = IFB_LBA_DMODK;
        else if (q.mode == IFB_LBA_SPRAY) {
            q.flowlet_pick =
                q.spray == IFB_LB_SPRAY_DRILL ? IFB_LB_PICK_LEAST_LOADED : IFB_LB_PICK_RANDOM;
            q.mode = IFB_LBA_FLOWLET;
        } else
            q.unit = IFB_LB_UNIT_FLOWLET;
    }
    return q;
}

static int check_switch(ifb_cfg *c, const char *key, const ifb_topo *t, const char *name,
                        ifb_err *e)
{
    int n = ifb_topo_find_node(t, name);
    if (n < 0 || t->nodes[n].kind != IFB_NODE_SWITCH)
        return ifb_cfg_errf(c, key, e, "the name of a switch of the topology", "'%s'%s", name,
                            n >= 0 ? " (a host)" : "");
    return 0;
}

/* Some switch of t has a choice of paths toward some host with a member leading to a switch
 * named in cl's group. */
static int group_effective(const ifb_topo *t, const ifb_lb_class *cl)
{
    int *in = ifb_xcalloc((size_t)t->nnodes, sizeof *in, "a class's member switches");
    for (int i = 0; i < cl->nmembers; i++)
        in[ifb_topo_find_node(t, cl->members[i])] = 1;
    int found = 0;
    for (int s = 0; s < t->nswitches && !found; s++) {
        const ifb_topo_node *sn = &t->nodes[t->switch_node[s]];
        for (int h = 0; h < t->nhosts && !found; h++) {
            const ifb_topo_group *g = ifb_topo_route_group(t, s, h);
            for (int i = 0; g->count > 1 && i < g->count && !found; i++) {
                const ifb_topo_port *p = &t->ports[sn->first_port + t->group_ports[g->first + i]];
                found = p->link >= 0 && in[p->peer_node];
            }
        }
    }
    free(in);
    return found;
}

int ifb_lb_cfg_check(ifb_cfg *c, const char *prefix, const ifb_lb_cfg *lb, const ifb_fabric_cfg *f,
                     const ifb_topo *t, ifb_err *e)
{
    char k[320];
    for (int a = 0; a < IFB_TC_COUNT; a++) {
        const ifb_lb_class *cl = &lb->cls[a];
        if (!has_entry(cl))
            continue;
        /* a class entry and an entry for its queue are two maps for the same traffic */
        int q = queue_of(f, a);
        snprintf(k, sizeof k, "%s.per_class.%d", prefix, q);
        if (cl->has_mode && ifb_cfg_has(c, k) && !same_q(&cl->q, &lb->q[q])) {
            char want[192];
            snprintf(want, sizeof want,
                     "one path selection per class: per_class.%d and per_class.%s overlap "
                     "(class %s is on queue %d) and must agree",
                     q, class_keys[a], class_keys[a], q);
            return ifb_cfg_errf(c, cl->key, e, want, "%s for per_class.%d, %s for per_class.%s",
                                ifb_lb_algo_name(lb->q[q].mode), q, ifb_lb_algo_name(cl->q.mode),
                                class_keys[a]);
        }
        for (int i = 0; i < cl->nmembers; i++) {
            snprintf(k, sizeof k, "%s.group[%d]", cl->key, i);
            if (check_switch(c, k, t, cl->members[i], e))
                return -1;
        }
        for (int i = 0; i < cl->nweights; i++) {
            snprintf(k, sizeof k, "%s.weights.%s", cl->key, cl->wsw[i]);
            if (check_switch(c, k, t, cl->wsw[i], e))
                return -1;
        }
        if (cl->nmembers && !group_effective(t, cl)) {
            snprintf(k, sizeof k, "%s.group", cl->key);
            return ifb_cfg_errf(c, k, e,
                                "next-hop switches of some switch with a choice of paths (a class "
                                "group picks among a group's members)",
                                "%d switch%s none of which a switch with a choice leads to",
                                cl->nmembers, cl->nmembers > 1 ? "es" : "");
        }
    }
    /* the switches classify on DSCP (SL): classes sharing one must route the same way */
    for (int a = 0; a < IFB_TC_COUNT; a++)
        for (int b = a + 1; b < IFB_TC_COUNT; b++) {
            int ib = f->l2 == IFB_L2_IB;
            int ca = ib ? f->tclass[a].sl : f->tclass[a].dscp;
            int cb = ib ? f->tclass[b].sl : f->tclass[b].dscp;
            if (ca != cb)
                continue;
            ifb_lb_qcfg qa = class_mode(lb, f, a), qb = class_mode(lb, f, b);
            if (same_q(&qa, &qb) && ifb_lb_class_same_group(&lb->cls[a], &lb->cls[b]))
                continue;
            int w = has_entry(&lb->cls[a]) ? a : has_entry(&lb->cls[b]) ? b : -1;
            if (w < 0) { /* only the fallback tells them apart: their OOO settings differ */
                snprintf(k, sizeof k, "fabric.classes.%s.ooo", class_keys[b]);
            } else {
                snprintf(k, sizeof k, "%s", lb->cls[w].key);
            }
            return ifb_cfg_errf(c, k, e,
                                ib ? "classes that route differently on SLs of their own "
                                     "(fabric.classes.<c>.sl)"
                                   : "classes that route differently on DSCPs of their own "
                                     "(fabric.classes.<c>.dscp)",
                                "classes %s and %s share %s %d, which the switches classify on, "
                                "but route %s and %s",
                                class_keys[a], class_keys[b], ib ? "SL" : "DSCP", ca,
                                ifb_lb_algo_name(qa.mode), ifb_lb_algo_name(qb.mode));
        }
    /* adaptive routing needs an AR group of two members somewhere (net/switch/ib_ar.c refuses
     * it too; here it is bad input with the key, before any run) */
    int multi = 0;
    for (int s = 0; s < t->nswitches && !multi; s++)
        for (int h = 0; h < t->nhosts && !multi; h++)
            multi = ifb_topo_route_group(t, s, h)->count > 1;
    for (int a = 0; !multi && a < IFB_TC_COUNT; a++) {
        if (class_mode(lb, f, a).mode != IFB_LBA_AR)
            continue;
        const char *key = lb->cls[a].has_mode ? lb->cls[a].key : prefix;
        return ifb_cfg_errf(c, key, e,
                            "ar (adaptive routing groups) on a fabric where some switch has a "
                            "choice of paths",
                            "ar for class %s on a fabric with one path between every pair of "
                            "hosts (%d switch%s)",
                            class_keys[a], t->nswitches, t->nswitches == 1 ? "" : "es");
    }
    return 0;
}
