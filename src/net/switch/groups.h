/* Per-class routing at the switches (groups.c): each workload class (a2a, kv, pp, coll) may have
 * its own path-selection mode and its own ECMP group, a subset of every group's members named by
 * the next-hop switches they lead to (spines 0-3 for kv, all spines for a2a, a plane's spines),
 * with its own WCMP weights. A switch tells the classes apart by the packet's DSCP (RoCEv2) or
 * SL (InfiniBand). The routing pass's groups stay what they are; a class's group is their
 * intersection with the class's members, kept per (switch, topology group), and after a
 * detected failure further intersected with the live members per destination, so a class's
 * group shrinks with the fabric's ("rebuilt on failures like today's groups"); a class whose
 * members all lost the destination uses the group's live members. Internal to net/switch.
 * Left out: per-class groups chosen by anything but the next hop (a port list per switch). */
#ifndef IFB_NET_SWITCH_GROUPS_H
#define IFB_NET_SWITCH_GROUPS_H
#include "net/switch/lb_state.h"

typedef struct lb_class {
    ifb_lb_qcfg q;      /* the class's path selection: its own, its queue's or the fallback */
    uint8_t restricted; /* it has a member list */
    uint8_t own_tab;    /* it has its own WCMP tables */
    uint32_t *gidx;     /* per (switch, topology group): offset of its members in pool
                         * (count, then member indices) or IFB_LIVE_ALL: the whole group */
    uint16_t *pool;
    size_t npool, pool_cap;
    uint32_t *widx;  /* per (switch, destination host): its WCMP table, when own_tab */
    uint8_t *in_set; /* per switch index: a switch of its member list */
    double *fac;     /* per switch index: its WCMP weight factor */
} lb_class;

typedef struct lb_classes {
    int8_t of[80]; /* DSCP 0..63, then 64 + SL: the class that routes on its own, or -1 */
    int ngroups;
    lb_class c[IFB_TC_COUNT];
} lb_classes;

/* The path selection of packet pk at switch sw in group g when its class routes on its own:
 * narrows the candidates c to the class's members (both: scratch for the intersection with the
 * live members) and points them at the class's WCMP tables. Returns qc otherwise. */
static inline const ifb_lb_qcfg *ifb_lb_class_of(const lb_shared *sh, const ifb_switch *sw,
                                                 const ifb_topo_group *g, const ifb_pkt *pk,
                                                 const ifb_lb_qcfg *qc, lb_cands *c, uint16_t *both)
{
    const lb_classes *cs = sh->cls;
    int k = cs->of[sh->f->ib ? 64 + (pk->sl & 15) : (pk->dscp & 63)];
    if (k < 0)
        return qc;
    const lb_class *cl = &cs->c[k];
    if (cl->own_tab)
        c->widx = cl->widx + (size_t)sw->idx * (size_t)sh->t->nhosts;
    if (cl->restricted) {
        uint32_t o = cl->gidx[(size_t)sw->idx * (size_t)cs->ngroups + (size_t)(g - sh->t->groups)];
        if (o != IFB_LIVE_ALL) {
            const uint16_t *M = cl->pool + o;
            if (!c->L) {
                c->L = M;
                c->n = M[0];
            } else {
                int n = 0;
                for (int i = 1; i <= M[0]; i++)
                    for (int j = 1; j <= c->L[0]; j++)
                        if (c->L[j] == M[i]) {
                            both[1 + n++] = M[i];
                            break;
                        }
                if (n) { /* else: its members lost the destination, the live group it is */
                    both[0] = (uint16_t)n;
                    c->L = both;
                    c->n = n;
                }
            }
        }
    }
    return &cl->q;
}

/* groups.c. Set-up at attach, after the queues' modes are known and before the WCMP tables are
 * built: resolves every class's mode, its member lists and whether it needs WCMP tables (sets
 * sh->use_wcmp); fails naming the key on a member that is not a switch, a member list that
 * names no next hop of any switch with a choice, or two classes that share a DSCP (an SL) but
 * route differently. NULL sh->cls when no class routes on its own. */
int ifb_lb_classes_setup(lb_shared *sh, ifb_err *e);
/* The classes' own WCMP tables from the fabric's (after every build and rebuild of those). */
int ifb_lb_classes_tables(lb_shared *sh, ifb_err *e);
void ifb_lb_classes_free(lb_shared *sh);

/* lb_setup.c, for the above: the state a mode needs (flowlet table, quality, group memory,
 * INT feedback, WCMP tables) noted in sh; a WCMP table with `n` members apportioned to the
 * weights w, shared with every identical one (its index). */
void ifb_lb_note_mode(lb_shared *sh, const ifb_lb_qcfg *qc);
uint32_t ifb_lb_table(lb_shared *sh, const double *w, int n);

#endif
