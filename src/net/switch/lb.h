/* Switch-side path selection inside an ECMP group, per egress queue (traffic class): per-flow
 * hash (ECMP), weighted slot tables (WCMP), flowlet switching, per-packet spray (random,
 * round-robin, DRILL), adaptive routing on a per-port quality quantized into bands, as the
 * SAI adaptive-routing (ARS) model describes switch silicon, and INT-driven adaptive routing:
 * the local queue plus the congestion figure INT sinks feed back per (source ToR, destination
 * ToR, uplink) path (net/switch/int.h). After a detected link failure (net/fail/failure.h) every
 * mode picks among the live members only and WCMP tables are rebuilt with the dead links at weight
 * 0.
 *
 * Paths without data traffic carry no figure unless INT probes are on (net/switch/int.h); an unused
 * path's figure ages out after `feedback_age` and the path is tried again.
 *
 * Left out: end-to-end figures beyond the source ToR's choice (in a
 * 3-tier fabric the aggregation switches decide locally); WCMP weight reduction (the EuroSys'14
 * table-size algorithms); primary/alternate member sets of SAI ARS.
 *
 * Usage: ifb_fabric_create, then ifb_lb_attach(fabric, cfg); call ifb_lb_detach before
 * ifb_fabric_destroy (the fabric does not free this state). Without attach every queue uses the
 * foundation's per-flow ECMP hash. */
#ifndef IFB_LB_H
#define IFB_LB_H
#include <stdint.h>

#include "core/err.h"
#include "core/time.h"
#include "net/base/cfg.h"

typedef enum ifb_lb_algo {
    IFB_LBA_ECMP = 0,     /* hash of the 5-tuple: one member per flow (QP) */
    IFB_LBA_WCMP,         /* hash into a weighted slot table: one member per flow, by weight */
    IFB_LBA_FLOWLET,      /* flowlet table: a flow keeps its member until idle > gap */
    IFB_LBA_SPRAY,        /* a member per packet */
    IFB_LBA_ADAPTIVE,     /* best quality band, per flowlet or per packet */
    IFB_LBA_DMODK,        /* InfiniBand static routing: destination modulo the group size */
    IFB_LBA_INT_ADAPTIVE, /* adaptive on local quality and INT path feedback, end to end */
    IFB_LBA_AR,           /* InfiniBand adaptive routing, NVIDIA's (net/switch/ib_ar.h) */
    IFB_LBA_COUNT
} ifb_lb_algo;

typedef enum ifb_lb_pick {
    IFB_LB_PICK_RANDOM = 0,   /* uniform among members (LetFlow) */
    IFB_LB_PICK_LEAST_LOADED, /* fewest bytes queued now (a busy port counts one byte) */
} ifb_lb_pick;

typedef enum ifb_lb_spray {
    IFB_LB_SPRAY_RANDOM = 0,
    IFB_LB_SPRAY_ROUND_ROBIN, /* per switch and group */
    IFB_LB_SPRAY_DRILL,       /* least queued of d random members and the last best */
} ifb_lb_spray;

typedef enum ifb_lb_unit {
    IFB_LB_UNIT_FLOWLET = 0, /* SAI FLOWLET_QUALITY */
    IFB_LB_UNIT_PACKET,      /* SAI PER_PACKET_QUALITY */
} ifb_lb_unit;

/* Path selection of one egress queue. */
typedef struct ifb_lb_qcfg {
    uint8_t mode;         /* ifb_lb_algo */
    uint8_t flowlet_pick; /* ifb_lb_pick: how a new flowlet picks in `flowlet` mode */
    uint8_t spray;        /* ifb_lb_spray */
    uint8_t unit;         /* ifb_lb_unit: granularity of `adaptive` */
    ifb_time flowlet_gap; /* idle time that ends a flowlet (flowlet, adaptive per flowlet) */
} ifb_lb_qcfg;

/* An explicit WCMP weight for one egress port of one switch (replaces the computed weight). */
typedef struct ifb_lb_weight {
    char sw[32];
    int port;
    uint64_t weight;
    int line; /* source line, for messages */
} ifb_lb_weight;

typedef enum ifb_lb_wsrc {
    IFB_LB_W_CAPACITY = 0, /* min(member link rate, capacity beyond the next switch) */
    IFB_LB_W_LINK_RATE,    /* member link rate only */
} ifb_lb_wsrc;

#define IFB_LB_MAX_WEIGHTS 256
#define IFB_LB_MAX_MEMBERS 256
#define IFB_LB_MAX_CLASS_MEMBERS 64

/* One workload class's own routing (net/switch/groups.c): its path-selection mode and its own
 * ECMP group, a subset of each group's members named by the next-hop switches they lead to,
 * with its own WCMP weights. Switches tell the classes apart by the packet's DSCP (RoCEv2) or
 * SL (InfiniBand), as a classifier feeding an ECMP-group selection does. */
typedef struct ifb_lb_class {
    uint8_t has_mode; /* q replaces the mode of the class's egress queue */
    ifb_lb_qcfg q;
    int nmembers; /* 0: every member of every group */
    char members[IFB_LB_MAX_CLASS_MEMBERS][32];
    /* WCMP weights: the fabric's computed (or explicit) weight of a member times the factor of
     * the switch it leads to (1 when not listed) */
    int nweights;
    char wsw[IFB_LB_MAX_CLASS_MEMBERS][32];
    double wfac[IFB_LB_MAX_CLASS_MEMBERS];
    char key[232]; /* where it was given, for messages (e.g. load_balancing.per_class.kv) */
    int line;
} ifb_lb_class;

/* Whether two classes name the same group: the same members and WCMP weight factors, in order. */
int ifb_lb_class_same_group(const ifb_lb_class *x, const ifb_lb_class *y);

typedef struct ifb_lb_cfg {
    ifb_lb_qcfg q[IFB_NQUEUES];
    uint32_t flowlet_table;    /* flowlet entries per switch (shared by all queues) */
    uint32_t wcmp_width;       /* slots per weighted group */
    uint8_t wcmp_source;       /* ifb_lb_wsrc */
    int drill_choices;         /* d of DRILL */
    ifb_time quality_interval; /* sampling period of the port quality */
    double quality_ewma;       /* weight of the newest sample */
    double quality_tx_weight;  /* weight of transmitted bytes ("past load") */
    double quality_q_weight;   /* weight of queued bytes ("future load") */
    int quality_bands;         /* 1..8 */
    uint8_t quality_ties;      /* ifb_lb_pick: among members of the best band */
    uint8_t weighted; /* random picks (flowlet, spray, DRILL samples) follow WCMP weights */
    /* a class whose receivers place in order only (ifb_class_cfg.ooo) gets the per-flowlet form
     * of a per-packet mode (spray, adaptive or int_adaptive per packet) at every switch */
    uint8_t ooo_fallback;
    ifb_lb_class cls[IFB_TC_COUNT]; /* per workload class (ifb_tc); all zero: none */
    int nweights;
    ifb_lb_weight weights[IFB_LB_MAX_WEIGHTS];
    /* where the weights came from, for messages at attach time */
    char src_file[128];
    char weights_key[96];
    int weights_line;
} ifb_lb_cfg;

/* Defaults: every queue ecmp; flowlet gap 50 us, 4096-entry flowlet table, random new
 * flowlets; WCMP 256 slots with capacity weights; spray random, DRILL d = 2; quality sampled
 * every 16 us, EWMA weight 1/2, tx and queue weights 1, 8 bands. */
void ifb_lb_cfg_default(ifb_lb_cfg *c);
/* Reading the keys from a scenario: ifb_lb_cfg_load in scenario/lb_cfg.h. */
/* Mode names as the scenario spells them, indexed by ifb_lb_algo, NULL-terminated. */
extern const char *const ifb_lb_mode_names[IFB_LBA_COUNT + 1];
/* Short names for reports. */
const char *ifb_lb_algo_name(int algo);

/* Allocates path-selection state for every switch of f (replacing any earlier attach). Fails,
 * naming the key, on an all-zero weighted group, a weight naming a missing switch or port, or a
 * group wider than the WCMP table. */
int ifb_lb_attach(ifb_fabric *f, const ifb_lb_cfg *cfg, ifb_err *e);
/* Rebuilds the WCMP tables from the current link rates and routes (after a link changed). */
int ifb_lb_recompute(ifb_fabric *f, ifb_err *e);
void ifb_lb_detach(ifb_fabric *f);

/* Counters of one attach, summed over switches. */
typedef struct ifb_lb_stats {
    uint64_t selects;    /* ifb_lb_select calls that reached a multi-member group */
    uint64_t flowlets;   /* new flowlets started (flowlet and adaptive-flowlet) */
    uint64_t collisions; /* flowlet entries found live but owned by another flow's hash */
} ifb_lb_stats;
void ifb_lb_get_stats(const ifb_fabric *f, ifb_lb_stats *out);

#endif
