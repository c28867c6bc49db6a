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
#include "workload/deepep.h"
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

/* How communication hides behind compute inside a step. */
typedef enum ifb_overlap {
    IFB_OVERLAP_NONE = 0,
    IFB_OVERLAP_TBO, /* two micro-batches interleaved on each GPU (SGLang two-batch overlap) */
    IFB_OVERLAP_SBO  /* one batch: the shared experts run while the dispatch is in flight and the
                        combine sends each part of the routed experts' output as the down GEMM
                        produces it (SGLang single-batch overlap, PR #9660) */
} ifb_overlap;

/* Multi-token prediction as SGLang's EAGLE-style speculative decoding with the model's MTP
 * layer as the draft: `steps` draft passes of `topk` tokens each per request, a verify pass of
 * `draft_tokens` tokens per request in the main model, and one draft-extend pass over the
 * verified tokens. Accepted tokens per step and request: 1 + a geometric number of accepted
 * drafts truncated at `draft_tokens - 1` (each draft accepted with probability p, given its
 * predecessor was), p solved so that the mean is `accept_length`. */
typedef struct ifb_mtp_cfg {
    int on;
    int steps, topk, draft_tokens;
    double accept_length; /* mean tokens gained per decode step, in [1, draft_tokens] */
} ifb_mtp_cfg;

/* Overheads of a production engine around the kernels (overheads.c): per-layer element-wise
 * kernels costed by bytes at HBM x elem_eff (never below kernel_min each), a gap per kernel of a
 * replayed CUDA graph (decode batches up to cuda_graph_max_bs) or the host launch cost of an
 * eager launch (prefill and larger batches), the sampler's passes over the logits, and host time
 * per step that the overlap scheduler does not hide. */
typedef struct ifb_overhead_cfg {
    int on;                    /* 0: kernels only (the terms below are all zero) */
    ifb_time host_step;        /* GPU idle between steps: host work not overlapped */
    int cuda_graph;            /* decode-only batches replay a CUDA graph */
    int64_t cuda_graph_max_bs; /* largest decode batch (requests per instance) in a graph */
    ifb_time graph_gap;        /* per kernel of a replayed graph */
    ifb_time launch;           /* host cost of one eager launch (the GPU waits when shorter) */
    ifb_time kernel_min;       /* shortest duration of a small element-wise kernel */
    double elem_eff;           /* HBM efficiency of memory-bound element-wise kernels */
    int sampling_passes;       /* passes of the sampler over the FP32 logits */
} ifb_overhead_cfg;

/* DeepEP kernels around the bytes: ifb_deepep_cfg in workload/deepep.h. */

/* A prefix (radix) cache of 512-token blocks per instance, in KV memory the running requests
 * leave free (prefix.c): a prompt whose leading blocks are cached computes only the rest. Block
 * ids come from the trace's hash_ids (Mooncake); without them, `hit_rate` (a deployment's stated
 * hit rate) gives every prompt that share of cached tokens. */
typedef struct ifb_prefix_cfg {
    int on;
    int64_t block;   /* tokens per block (Mooncake traces: 512) */
    double hit_rate; /* < 0: from hash_ids; else the fixed share of every prompt */
} ifb_prefix_cfg;

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
    ifb_overlap overlap;
    ifb_mtp_cfg mtp;
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
    ifb_overlap overlap;
    ifb_mtp_cfg mtp;
    ifb_arrival_kind arrival;
    int64_t concurrency;
    double rate;     /* requests/s, Poisson */
    ifb_trace trace; /* loaded when arrival = trace or a length is "trace" */
    ifb_len_dist input, output;
    int64_t max_batch;    /* running requests per instance */
    int64_t token_budget; /* tokens per instance per step (prefill + decode) */
    int64_t chunk;        /* prefill chunk per request per step */
    int64_t requests;     /* measured requests (after warm-up) */
    int prefilled;        /* decode-only: a prompt's KV is in place when it is admitted (its
                             prefill ran elsewhere, not simulated; its first token with it) */
    int64_t warmup;       /* requests finished before measuring */
    ifb_time duration;    /* open loop: no arrivals after this time (0 = no limit) */
    ifb_route_kind routing;
    double zipf_s;
    ifb_routing_file routes; /* routing: file:PATH */
    uint64_t seed;           /* 0 = the simulation's seed */
    int kernel_tables;
    double eff_compute, eff_memory; /* roofline efficiencies where no kernel table applies */
    ifb_time step_overhead;         /* extra fixed gap between steps (on top of `ovh`) */
    ifb_time layer_overhead;        /* extra fixed time per layer (on top of `ovh`) */
    ifb_overhead_cfg ovh;
    ifb_deepep_cfg deepep;
    ifb_prefix_cfg prefix;
    /* `infabric bench -p deepep-*`: the phase benchmarked (deepep.bench.*) */
    struct {
        int normal, tokens, masked, per_token, topk_groups;
    } dbench;
    int sample_every; /* fidelity: 0/1 = every all-to-all at packet level; K = one MoE layer in
                         K (the first of each step included), the others replay the latest
                         simulated phase's per-rank latency after the barrier */
    ifb_deploy_cfg deploy;
} ifb_serving_cfg;

/* Documented defaults (no model loaded: the scenario layer's ifb_serving_cfg_load, in
 * scenario/serving_cfg.h, loads it). */
void ifb_serving_cfg_default(ifb_serving_cfg *out);
void ifb_overhead_cfg_defaults(ifb_overhead_cfg *o);
void ifb_serving_cfg_free(ifb_serving_cfg *cfg);
/* Deep copy (trace rows and deployment groups); free with ifb_serving_cfg_free. */
void ifb_serving_cfg_copy(ifb_serving_cfg *dst, const ifb_serving_cfg *src);
const char *ifb_role_name(ifb_role r);            /* "mixed", "prefill", "decode" */
const char *ifb_router_name(ifb_router_policy p); /* "least-requests", ... */
const char *ifb_overlap_name(ifb_overlap o);      /* "none", "tbo", "sbo" */
/* The DeepEP kernel the configuration describes, for `infabric bench -p deepep-*`: the model's
 * hidden size, experts and top-k, the dispatch/combine bytes per copy, the GPU's HBM, the deepep
 * keys and deepep.bench. */
void ifb_serving_deepep_bench(const ifb_serving_cfg *c, uint64_t seed, ifb_deepep_bench *b);
/* Per-draft acceptance probability p of the truncated geometric whose mean accepted length
 * 1 + p + ... + p^d (d = draft_tokens - 1) is `mean`; 0 for mean 1, 1 for mean d + 1. */
double ifb_mtp_accept_p(double mean, int depth);

#endif
