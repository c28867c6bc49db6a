/* Path-selection state (lb.c selects, lb_setup.c builds the tables and attaches): what a
 * switch keeps behind ifb_switch.lb. Internal to net/switch. */
#ifndef IFB_NET_SWITCH_LB_STATE_H
#define IFB_NET_SWITCH_LB_STATE_H
#include "core/rng.h"
#include "net/switch/lb.h"
#include "net/switch/switch.h"

/* The members a choice may take: the whole group, or a list L (L[0] = count >= 1, then member
 * indices) of the live ones after a detected failure (net/fail/failure.c) or of a class's own
 * group (net/switch/groups.c); and the WCMP table row (per destination host) picks use. Every
 * mode picks among its candidates the way it would among a smaller group. */
typedef struct lb_cands {
    const uint16_t *L; /* NULL: every member of the group */
    int n;
    const uint32_t *widx; /* this switch's WCMP table index row, or NULL */
} lb_cands;

struct lb_classes; /* per-class routing (net/switch/groups.h) */

typedef struct lb_shared {
    ifb_lb_cfg cfg;
    ifb_fabric *f;
    const ifb_topo *t;
    int use_wcmp, use_flowlet, use_quality, use_group_mem;
    struct lb_classes *cls; /* NULL: every class routes by its egress queue's mode */
    /* slots of member i in WCMP table t, at [t * IFB_LB_MAX_MEMBERS + i]: INT-driven choice
     * weighs a member's cost by its capacity share (net/switch/groups.c); NULL when unused */
    uint16_t *tshare;
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

static inline lb_shared *ifb_lb_shared_of(const ifb_fabric *f)
{
    return f->nswitches && f->switches[0].lb ? (lb_shared *)((lb_sw *)f->switches[0].lb)->sh : NULL;
}

#endif
