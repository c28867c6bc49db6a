/* Configuration of the serving engine as a plain struct: the model, the GPU, dtypes, the
 * parallel layout, arrivals and request lengths, batching limits, the compute-cost knobs and
 * the fidelity. Nothing here reads a file: src/scenario/serving_cfg.c fills it from the YAML
 * tree (the keys are documented there and in docs/scenario.md); a test or another front end can
 * fill it directly after ifb_serving_cfg_default.
 * Leaves out: validation against a topology (ifb_serving_create checks the layout and the
 * memory). */
#ifndef IFB_WORKLOAD_SERVING_CONFIG_H
#define IFB_WORKLOAD_SERVING_CONFIG_H
#include <stdint.h>

#include "core/time.h"
#include "workload/eplb.h"
#include "workload/gpu.h"
#include "workload/model.h"
#include "workload/parallel.h"
#include "workload/trace.h"
#include "workload/traffic.h"

typedef enum ifb_arrival_kind {
    IFB_ARRIVAL_CLOSED = 0, /* fixed concurrency, a finished request is replaced at once */
    IFB_ARRIVAL_POISSON,    /* open loop at `rate` requests/s */
    IFB_ARRIVAL_TRACE       /* open loop at the trace's timestamps */
} ifb_arrival_kind;

typedef enum ifb_len_kind { IFB_LEN_FIXED = 0, IFB_LEN_UNIFORM, IFB_LEN_TRACE } ifb_len_kind;

typedef struct ifb_len_dist {
    ifb_len_kind kind;
    int64_t lo, hi; /* fixed: lo == hi; uniform: integers in [lo, hi] */
} ifb_len_dist;

typedef enum ifb_a2a_mode { IFB_A2A_AUTO = 0, IFB_A2A_MODE_LL, IFB_A2A_MODE_NORMAL } ifb_a2a_mode;

/* Role of an instance group in a deployment. */
typedef enum ifb_role {
    IFB_ROLE_MIXED = 0, /* prefill chunks and decode in one batch (no disaggregation) */
    IFB_ROLE_PREFILL,   /* prefill only; the KV cache then moves to a decode instance */
    IFB_ROLE_DECODE     /* decode only; admits a request once its KV cache has arrived */
} ifb_role;

/* How the request router picks an instance (for arrivals: among prefill or mixed instances;
 * after prefill: among decode instances with room for the request's KV cache). */
typedef enum ifb_router_policy {
    IFB_ROUTER_LEAST_REQUESTS = 0, /* fewest requests waiting or running (the default) */
    IFB_ROUTER_ROUND_ROBIN,        /* the next instance in turn */
    IFB_ROUTER_LEAST_TOKENS,       /* fewest queued tokens (prompt tokens still to prefill,
                                      plus one per decoding request) */
    IFB_ROUTER_LEAST_KV            /* least KV cache in use, as a fraction of capacity */
} ifb_router_policy;

/* One instance group: `count` engines of the same layout, each stepping on its own GPUs. */
typedef struct ifb_group_cfg {
    char name[32];
    char key[160]; /* config path for messages, e.g. "workload.deployment.groups[1]" */
    ifb_role role;
    int count;    /* engines; the group's GPUs are split into `count` equal consecutive parts */
    int *servers; /* topology servers the group occupies, in order */
    int nservers;
    int *gpus; /* GPUs of each of those servers it uses; NULL = all */
    int ngpus;
    const ifb_gpu *gpu; /* the GPU type of these servers */
    double reserve_bytes;
    ifb_par_cfg par;
    ifb_a2a_mode a2a;
    int overlap, mtp;
    double accept_length;
    int64_t max_batch, token_budget, chunk;
} ifb_group_cfg;

/* The KV-cache transfer from a prefill to a decode instance (class kv). */
typedef struct ifb_kv_cfg {
    uint64_t chunk;          /* bytes per RDMA WRITE (a transfer engine's slice) */
    int connections;         /* QPs per (source GPU, destination GPU) for class kv */
    int first_token_prefill; /* 1: a request's first token counts when its prefill ends;
                                0: when its first decode step ends (TTFT includes the transfer) */
} ifb_kv_cfg;

typedef struct ifb_deploy_cfg {
    int ngroups; /* 0: one mixed group on every GPU, with the workload's own keys */
    ifb_group_cfg *groups;
    ifb_router_policy router;
    ifb_kv_cfg kv;
} ifb_deploy_cfg;

typedef struct ifb_serving_cfg {
    char key[160]; /* config prefix, e.g. "workload" */
    ifb_model model;
    const ifb_gpu *gpu;
    ifb_dtype weight_dtype, kv_dtype, dispatch_dtype, combine_dtype;
    double reserve_bytes; /* HBM kept for activations, communication buffers, CUDA context */
    ifb_par_cfg par;
    ifb_a2a_mode a2a;
    int overlap; /* two micro-batches */
    int mtp;
    double accept_length;
    ifb_arrival_kind arrival;
    int64_t concurrency;
    double rate;     /* requests/s, Poisson */
    ifb_trace trace; /* loaded when arrival = trace or a length is "trace" */
    ifb_len_dist input, output;
    int64_t max_batch;    /* running requests per instance */
    int64_t token_budget; /* tokens per instance per step (prefill + decode) */
    int64_t chunk;        /* prefill chunk per request per step */
    int64_t requests;     /* measured requests (after warm-up) */
    int64_t warmup;       /* requests finished before measuring */
    ifb_time duration;    /* open loop: no arrivals after this time (0 = no limit) */
    ifb_route_kind routing;
    double zipf_s;
    ifb_routing_file routes; /* routing: file:PATH */
    uint64_t seed;           /* 0 = the simulation's seed */
    int kernel_tables;
    double eff_compute, eff_memory; /* roofline efficiencies where no kernel table applies */
    ifb_time step_overhead;         /* scheduler/launch gap between steps */
    ifb_time layer_overhead;        /* element-wise kernels per layer */
    int sample_every; /* fidelity: 0/1 = every all-to-all at packet level; K = one MoE layer in
                         K (the first of each step included), the others replay the latest
                         simulated phase's per-rank latency after the barrier */
    ifb_deploy_cfg deploy;
} ifb_serving_cfg;

/* Documented defaults (no model loaded: the scenario layer's ifb_serving_cfg_load, in
 * scenario/serving_cfg.h, loads it). */
void ifb_serving_cfg_default(ifb_serving_cfg *out);
void ifb_serving_cfg_free(ifb_serving_cfg *cfg);
/* Deep copy (trace rows and deployment groups); free with ifb_serving_cfg_free. */
void ifb_serving_cfg_copy(ifb_serving_cfg *dst, const ifb_serving_cfg *src);
const char *ifb_role_name(ifb_role r);            /* "mixed", "prefill", "decode" */
const char *ifb_router_name(ifb_router_policy p); /* "least-requests", ... */

#endif
