/* The serving engine: requests arrive (closed loop at a fixed concurrency, open-loop Poisson, or
 * a replayed trace), each serving instance batches them continuously (chunked prefill within a
 * token budget, decode of running requests up to a batch limit, KV-cache capacity with
 * preemption by recomputation), and every step runs layer by layer on each GPU: compute from
 * the kernel tables or the roofline, communication as messages through the message API
 * (net/net.h), the next dependent compute waiting on their completion. All ranks of an EP group
 * meet at each all-to-all, so the slowest rank and the network gate the step.
 * Metrics: per request arrival, first token, finish, TTFT, TPOT, E2E; ITL over tokens; TGR;
 * per step compute-only time, communication time, exposed communication, GPU busy fraction and
 * bytes per traffic class.
 *
 * Model of a step (what is left out is listed in the .c file's header):
 *   dp-ep  each GPU is an instance. Per layer: [attention (+ dense FFN, or router)] on each GPU
 *          -> EP dispatch -> [shared + routed experts] -> EP combine. Low-latency all-to-all
 *          for decode-only steps, normal (node-deduplicated) when any GPU prefills (`a2a: auto`).
 *   tp     each TP group is an instance. Per layer: attention -> ring all-reduce -> FFN or MoE
 *          (experts split tp ways) -> ring all-reduce.
 *   Both end with the LM head. With MTP, each decode request verifies 1 + 1 draft tokens per
 *   step, the MTP module adds one more MoE layer run on one token per decoding request, and a
 *   request gains accept_length tokens per step on average (fractions accumulate per request).
 *   With `overlap`, each instance's batch is split into two micro-batches whose layer chains run
 *   interleaved on one GPU timeline, so one's communication hides behind the other's compute.
 *
 * Failed messages (ifb_msg_info.failed: the network gave up on an unreachable endpoint): a failed
 * message counts as done for the step, so the step ends; at the step's end the instance of the
 * GPU the step's failures point to is marked down, its running and queued requests fail, new
 * requests go to the live instances only, and nothing more is sent to or from its GPUs.
 * ASSUMPTION: the surviving ranks carry on without the dead rank's experts (as with redundant
 * experts at no cost); a real EP deployment without redundancy stops entirely.
 *
 * Configuration keys: see IFB_SERVING_KEYS_DOC in serving.c (pasted into docs/scenario.md). */
#ifndef IFB_WORKLOAD_SERVING_H
#define IFB_WORKLOAD_SERVING_H
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"
#include "core/sim.h"
#include "core/stats.h"
#include "net/net.h"
#include "report/out.h"
#include "scenario/cfg.h"
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

/* Documented defaults (no model loaded: call ifb_serving_cfg_load, which loads it). */
void ifb_serving_cfg_default(ifb_serving_cfg *out);
/* Reads every key under `prefix` (e.g. "workload"); absent keys take the defaults. Errors name
 * FILE:LINE and the key (through the cfg getters). The model is loaded from a file path or, if
 * no such file exists, from the embedded data/models copy of that name. */
int ifb_serving_cfg_load(ifb_cfg *c, const char *prefix, ifb_serving_cfg *out, ifb_err *e);
void ifb_serving_cfg_free(ifb_serving_cfg *cfg);
/* The documentation of every key, for docs/scenario.md. */
extern const char IFB_SERVING_KEYS_DOC[];

/* One request, as reported in requests.csv. Times in ps; IFB_TIME_NEVER when not reached. */
typedef struct ifb_serving_req {
    int64_t id;
    int instance;
    int64_t input, output;
    int64_t generated; /* output tokens produced so far */
    ifb_time arrival, first, last, finish;
    int preemptions;
    int measured; /* finished inside the measurement window */
    /* scheduler state */
    int state;
    int64_t prefill_target, prefilled, kv;
    double mtp_acc;
    uint64_t admit_seq;
    int failed; /* its instance went down (a message it needed failed); finish = that time */
} ifb_serving_req;

/* One step, as reported in steps.csv. */
typedef struct ifb_serving_step {
    uint64_t index;
    ifb_time start, end;
    ifb_time compute_only; /* the same step with an infinitely fast network, no overlap */
    ifb_time comm;         /* time with at least one message in flight */
    double gpu_busy;       /* mean over GPUs of compute time / step time */
    int64_t prefill_tokens, decode_tokens, decode_seqs, running;
    int normal_a2a;                  /* 1: normal (deduplicated) all-to-all, 0: low-latency */
    int simulated_a2a, replayed_a2a; /* all-to-all phases (per chain) run or replayed */
    uint64_t bytes[IFB_TC_COUNT];
    uint64_t nic_bytes, nvlink_bytes;
    uint64_t msgs;
} ifb_serving_step;

typedef struct ifb_serving_result {
    int done;                          /* the run reached its end condition */
    int window;                        /* the measurement window opened (and has a length) */
    char unmeasured[192];              /* "" or why the window figures are missing (NaN / null) */
    uint64_t finished;                 /* requests finished, all */
    uint64_t measured;                 /* requests finished in the window */
    uint64_t tokens_emitted;           /* output tokens produced, all requests */
    uint64_t window_tokens;            /* output tokens produced inside the window */
    ifb_time window_start, window_end; /* meaningful only with `window` */
    double tgr;               /* window_tokens / window length, tokens/s; NaN without a window */
    double req_throughput;    /* measured / window length, requests/s */
    ifb_pctl ttft, tpot, e2e; /* over measured requests, seconds */
    ifb_pctl itl;             /* over output tokens of measured requests (after the first) */
    double mean_in_system;    /* time-weighted over the window */
    int64_t min_in_system, max_in_system; /* observed after the window opened */
    uint64_t steps, preemptions;
    double step_mean, compute_mean, comm_mean, exposed_mean, gpu_busy; /* seconds, fraction */
    double network_share; /* exposed communication / step time */
    uint64_t bytes[IFB_TC_COUNT];
    uint64_t nic_bytes, nvlink_bytes;
    uint64_t msgs;
    int64_t kv_tokens;   /* KV capacity per instance */
    double weight_bytes; /* per GPU */
    uint64_t failed;     /* requests failed: their instance went down */
    int instances_down;  /* instances marked down after failed messages */
} ifb_serving_result;

typedef struct ifb_serving ifb_serving;

/* Builds the layout for servers x gpus_per_server GPUs, checks memory, loads kernel tables.
 * cfg is copied (the trace too). */
int ifb_serving_create(ifb_serving **out, const ifb_serving_cfg *cfg, int nservers,
                       int gpus_per_server, ifb_err *e);
/* Schedules the first arrivals on sim; messages go through net (endpoints = GPU numbers). The
 * caller then runs ifb_sim_run(); the run ends by itself when the serving run is done. */
int ifb_serving_start(ifb_serving *s, ifb_sim *sim, ifb_net *net, ifb_err *e);
/* Computes the result after the run (also fine after an interrupted run: done = 0). A run
 * stopped before its measurement window opened has no window figures: TGR, request throughput
 * and the in-system figures are NaN and `unmeasured` says why (a figure measured over nothing
 * is not a figure); a partial run whose window opened is measured over what the window saw. */
const ifb_serving_result *ifb_serving_finish(ifb_serving *s);
/* Where a fault active over [start, end) (end IFB_TIME_NEVER: for good) falls relative to the
 * measurement window of result r, as a phrase for the summary; *measured = 1 only when it begins
 * inside the window, so that the headline figures include its onset and its impact. A fault in
 * the warm-up, or after the window, is not measured by them: callers flag it. */
const char *ifb_serving_fault_timing(const ifb_serving_result *r, ifb_time start, ifb_time end,
                                     int *measured);
/* After ifb_sim_run returned `stop`: -1 with a message when the run ended by itself
 * (IFB_STOP_EMPTY) although the serving run is not done, i.e. nothing was left that could ever
 * finish the requests in the system (a stall, reported instead of a quietly partial result). */
int ifb_serving_check_end(const ifb_serving *s, ifb_stop stop, ifb_err *e);
const ifb_serving_req *ifb_serving_requests(const ifb_serving *s, size_t *n);
const ifb_serving_step *ifb_serving_steps(const ifb_serving *s, size_t *n);
const ifb_parallel *ifb_serving_layout(const ifb_serving *s);
/* requests.csv and steps.csv (times in microseconds), and the summary as one JSON object
 * (written as the value of the current key or array slot). */
int ifb_serving_write_requests_csv(const ifb_serving *s, FILE *f, ifb_err *e);
int ifb_serving_write_steps_csv(const ifb_serving *s, FILE *f, ifb_err *e);
int ifb_serving_write_summary(ifb_serving *s, ifb_json *j);
void ifb_serving_destroy(ifb_serving *s);

#endif
