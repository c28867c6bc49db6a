/* Expert placement with redundant experts (EPLB) and recorded expert loads.
 * An EP group of `ep` ranks holds S = experts + redundant expert slots; a rank holds S / ep slots
 * (the first S mod ep ranks one more), so EP sizes that do not divide the experts build. Which
 * expert each slot holds and where it sits:
 *   round-robin  slot s holds expert s mod E, on rank s mod ep (no redundancy: expert e on rank
 *                e mod ep, as before);
 *   contiguous   slot s holds expert s mod E, ranks take consecutive slots (expert e on rank
 *                e / (E / ep) without redundancy);
 *   load         DeepSeek's EPLB idea: the redundant slots go one by one to the expert with the
 *                highest expected load per replica, then replicas are packed, heaviest first,
 *                onto the rank with the least expected load that still has a free slot and does
 *                not yet hold that expert (ties: the lowest rank). Expected loads come from the
 *                routing distribution (Zipf weights) or a routing file.
 * A token's copy for an expert with several replicas goes to one of them (serving/step.c): a
 * replica on the sender's own server if there is one, else any; among those, the one that got
 * the fewest copies so far in this phase (ties: the lowest slot).
 * Routing file (text): '#' starts a comment; one line per MoE layer in order, "L: c0 c1 ... cE-1"
 * with L the 0-based MoE layer and cX the token copies routed to expert X in a recorded
 * interval (any non-negative numbers; only their ratios matter). It must list every MoE layer
 * of the model (the MTP layer, if not listed, uses the last row).
 * Leaves out: EPLB's hierarchical (node-level, then GPU-level) grouping and periodic
 * re-balancing; replicas are placed once per run. */
#ifndef IFB_WORKLOAD_EPLB_H
#define IFB_WORKLOAD_EPLB_H
#include <stdio.h>

#include "core/err.h"
#include "workload/parallel.h"

typedef struct ifb_eplb {
    int experts, slots, ep;
    int *slot_expert;  /* [slot] */
    int *slot_rank;    /* [slot] rank within the EP group */
    int *rep_off;      /* [expert .. expert + 1]: its slots in rep[] */
    int *rep;          /* slots grouped by expert, ascending */
    double *rank_load; /* [rank] expected share of the token copies (loads normalized to 1),
                          each expert's load split evenly over its replicas */
    int max_replicas;  /* of any expert */
    int max_slots;     /* of any rank */
} ifb_eplb;

/* Slots of rank r out of `slots` over `ep` ranks. */
int ifb_eplb_rank_slots(int slots, int ep, int r);
/* Places experts + redundant slots on ep ranks. load[experts] (NULL: uniform) drives the `load`
 * placement and rank_load. Fails if there are fewer slots than ranks. */
int ifb_eplb_place(ifb_eplb *p, int experts, int redundant, int ep, ifb_placement kind,
                   const double *load, ifb_err *e);
void ifb_eplb_free(ifb_eplb *p);

/* Expert loads per MoE layer, as in a routing file. */
typedef struct ifb_routing_file {
    char name[256];
    int layers, experts;
    double *load; /* [layer * experts + expert] */
} ifb_routing_file;

/* Reads a routing file for a model with `experts` routed experts and `layers_min` to
 * `layers_max` MoE layers. Errors name the file and line and say what was expected and found. */
int ifb_routing_file_load(ifb_routing_file *r, const char *path, int experts, int layers_min,
                          int layers_max, ifb_err *e);
int ifb_routing_file_write(const ifb_routing_file *r, FILE *f, ifb_err *e);
void ifb_routing_file_free(ifb_routing_file *r);

#endif
