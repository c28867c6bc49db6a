/* Traffic of one layer of one serving step, as messages between ranks.
 * Expert routing: each token picks top-k distinct routed experts, uniformly or with Zipf-skewed
 * expert popularity (a different popularity order per layer, from the seed), honouring
 * DeepSeek's group-limited routing: the experts are split into n_group equal groups, a token
 * first picks topk_group groups (by summed popularity for Zipf, uniformly otherwise) and then
 * its k experts inside them. Draws are deterministic for a seed and call sequence.
 * Expert-parallel all-to-all in DeepEP's two styles, over one EP group of n ranks:
 *   low-latency  one message per (source rank, destination rank) carrying every token copy
 *                routed there (a token with two experts on one rank is sent twice, as the LL
 *                kernels do per expert); combine sends the same copies back.
 *   normal       deduplicated per node: a token crosses to a remote node once, to the GPU with
 *                the same local index (the relay), which forwards it over NVLink once to every
 *                GPU of that node holding one of its experts; GPUs of the sender's own node get
 *                it directly, once each. Combine reverses it: expert GPUs send partial results
 *                to the relay over NVLink, the relay reduces and sends one copy back.
 * Copies for the sender's own GPU stay local (counted in `self_bytes`, no message).
 * TP all-reduce: a ring of n ranks, 2(n-1) steps of ceil(S/n) bytes to the next rank.
 * With redundant experts (EPLB) the caller passes slot numbers instead of expert numbers and a
 * slot -> rank map as `expert_rank`.
 * Leaves out: DeepEP's per-message headers and token-count signals. */
#ifndef IFB_WORKLOAD_TRAFFIC_H
#define IFB_WORKLOAD_TRAFFIC_H
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/rng.h"
#include "workload/model.h"

typedef enum ifb_route_kind {
    IFB_ROUTE_UNIFORM = 0,
    IFB_ROUTE_ZIPF = 1,
    IFB_ROUTE_FILE = 2 /* expert popularity per layer from recorded loads (workload/eplb.h) */
} ifb_route_kind;

typedef struct ifb_router {
    int experts, topk, n_group, topk_group, gsize, nlayers;
    ifb_route_kind kind;
    double zipf_s;
    double *w; /* Zipf: [layer * experts + e] popularity weights */
    double *cand_w;
    int *cand, *groups;
    ifb_rng rng;
} ifb_router;

/* nlayers: MoE layers that will be routed (layer indexes 0..nlayers-1). Fails if the model has
 * no experts or its groups cannot hold top-k experts. */
int ifb_router_init(ifb_router *r, const ifb_model *m, int nlayers, ifb_route_kind kind,
                    double zipf_s, uint64_t seed, ifb_err *e);
/* Popularity from loads[layer * experts + expert] for `rows` layers (layers beyond use the last
 * row). An expert with load 0 keeps a weight of 1e-9 of the layer's mean, so a token always
 * finds top-k distinct experts inside its groups. */
int ifb_router_init_loads(ifb_router *r, const ifb_model *m, int nlayers, const double *loads,
                          int rows, uint64_t seed, ifb_err *e);
/* Expected share of the copies of MoE layer `layer` going to each expert (uniform, the Zipf
 * weights or the loads, normalized): out[experts]. Group-limited routing is not folded in. */
void ifb_router_expected(const ifb_router *r, int layer, double *out);
void ifb_router_free(ifb_router *r);
/* Experts of n tokens in MoE layer `layer`: out[t * topk + j]. */
void ifb_router_route(ifb_router *r, int layer, int n, int *out);

typedef enum ifb_a2a_style { IFB_A2A_LOW_LATENCY = 0, IFB_A2A_NORMAL = 1 } ifb_a2a_style;

/* One EP group: ranks 0..n-1 of the group are endpoints first .. first + n - 1. */
typedef struct ifb_ep_group {
    int n;
    int first;           /* endpoint of group rank 0 */
    int gpus_per_server; /* servers = endpoint / gpus_per_server */
    const int *expert_rank;
} ifb_ep_group;

/* One message of a communication phase (ranks are group ranks). Stage 0 is posted when the
 * sender reaches the phase; stage 1 (normal-style forwarding) when the sender has also received
 * all its stage-0 non-final messages. A receiver is done when it has all its final messages. */
typedef struct ifb_xfer {
    int src, dst;
    uint64_t bytes;
    uint8_t stage, final;
} ifb_xfer;

typedef struct ifb_xplan {
    int n;       /* group ranks */
    ifb_xfer *x; /* sorted by (src, stage, dst) */
    size_t nx, cap;
    size_t *first;        /* [src * 2 + stage] .. [src * 2 + stage + 1]: messages of that sender */
    int *exp0;            /* [rank] stage-0 non-final messages it receives */
    int *expf;            /* [rank] final messages it receives */
    uint64_t *recv;       /* [rank] payload bytes arriving at it, own copies included */
    uint64_t *mat;        /* scratch n x n x 3 */
    int *node;            /* scratch: server of each rank */
    uint32_t *seen;       /* scratch: per-token stamps of ranks and servers */
    uint64_t total_bytes; /* payload of every message plus self copies */
    uint64_t self_bytes, nvlink_bytes, nic_bytes;
    uint64_t max_recv;
} ifb_xplan;

void ifb_xplan_init(ifb_xplan *p);
void ifb_xplan_free(ifb_xplan *p);

/* Copy matrix: copies[s * n + d] = token copies of rank s routed to experts on rank d, for
 * ntok[s] tokens of each rank whose experts are experts[] (ranks' tokens one after another,
 * topk per token). Pure function. */
void ifb_ep_copies(const ifb_ep_group *g, int topk, const int *ntok, const int *experts,
                   uint64_t *copies);
/* Builds the messages of one dispatch (combine = 0) or combine (combine = 1) phase. */
void ifb_ep_plan(ifb_xplan *p, const ifb_ep_group *g, ifb_a2a_style style, int combine, int topk,
                 const int *ntok, const int *experts, uint64_t bytes_per_copy);
/* The two halves of ifb_ep_plan, so dispatch and combine share one count: ifb_ep_count fills
 * the plan's copy-count matrices from the routing; ifb_ep_emit turns them into the messages of
 * the dispatch (combine = 0) or the combine (1) with bytes_per_copy each; ifb_ep_copy_counts
 * copies the counts of one plan into another. */
void ifb_ep_count(ifb_xplan *p, const ifb_ep_group *g, ifb_a2a_style style, int topk,
                  const int *ntok, const int *experts);
void ifb_ep_emit(ifb_xplan *p, const ifb_ep_group *g, int combine, uint64_t bytes_per_copy);
void ifb_ep_copy_counts(ifb_xplan *dst, const ifb_xplan *src, int topk);
/* Bytes of one step of a ring all-reduce of `bytes` over n ranks: ceil(bytes / n). */
uint64_t ifb_ring_step_bytes(uint64_t bytes, int n);

#endif
