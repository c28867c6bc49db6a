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

typedef struct ifb_serving_cfg {
    char key[64]; /* config prefix, e.g. "workload" */
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
    uint64_t seed; /* 0 = the simulation's seed */
    int kernel_tables;
    double eff_compute, eff_memory; /* roofline efficiencies where no kernel table applies */
    ifb_time step_overhead;         /* scheduler/launch gap between steps */
    ifb_time layer_overhead;        /* element-wise kernels per layer */
    int sample_every; /* fidelity: 0/1 = every all-to-all at packet level; K = one MoE layer in
                         K (the first of each step included), the others replay the latest
                         simulated phase's per-rank latency after the barrier */
} ifb_serving_cfg;

/* Documented defaults (no model loaded: the scenario layer's ifb_serving_cfg_load, in
 * scenario/serving_cfg.h, loads it). */
void ifb_serving_cfg_default(ifb_serving_cfg *out);
void ifb_serving_cfg_free(ifb_serving_cfg *cfg);

#endif
