/* The serving engine: requests arrive (closed loop at a fixed concurrency, open-loop Poisson, or
 * a replayed trace), each serving instance batches them continuously (chunked prefill within a
 * token budget, decode of running requests up to a batch limit, KV-cache capacity with
 * preemption by recomputation), and every step runs layer by layer on each GPU: compute from
 * the kernel tables or the roofline, communication as messages through the message API
 * (net/net.h), the next dependent compute waiting on their completion. All ranks of an EP group
 * meet at each all-to-all, so the slowest rank and the network gate the step.
 * A deployment (workload.deployment) splits the GPUs into instance groups, each `count` engines
 * stepping on their own; with prefill and decode groups a request's KV cache moves from its
 * prefill instance to a decode instance over the network (class kv, kv.c).
 * Metrics: per request arrival, first token, finish, TTFT, TPOT, E2E; ITL over tokens; TGR;
 * per step compute-only time, communication time, exposed communication, GPU busy fraction and
 * bytes per traffic class; per group and for the KV transfer with a deployment.
 *
 * Model of a step (what is left out is listed in each .c file's header):
 *   dp-ep  each GPU is an instance. Per layer: [attention (+ dense FFN, or router)] on each GPU
 *          -> EP dispatch -> [shared + routed experts] -> EP combine. Low-latency all-to-all
 *          for decode-only steps, normal (node-deduplicated) when any GPU prefills (`a2a: auto`).
 *   tp     each TP group is an instance. Per layer: attention -> ring all-reduce -> FFN or MoE
 *          (experts split tp ways) -> ring all-reduce.
 *   dp-tp  each GPU is an instance. Per MoE layer: attention on each GPU -> all-gather of the
 *          group's tokens -> [router + shared + routed experts split tp ways] -> reduce-scatter.
 *   pp     (with any) stages of layers on whole servers, micro-batches forwarded stage to stage.
 *   All end with the LM head. With MTP, each decode request verifies 1 + 1 draft tokens per
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
 * Files (src/workload/serving/): config.h/.c the plain configuration struct; cost.c the compute
 * cost model; sched.c arrivals, the request router and the per-instance scheduler; step.c the
 * per-step program of compute and communication stages; metrics.c results, CSV and summary;
 * engine.c create/start/destroy; internal.h the state they share. Configuration keys: see
 * IFB_SERVING_KEYS_DOC in src/scenario/serving_keys_doc.c (pasted into docs/scenario.md). */
#ifndef IFB_WORKLOAD_SERVING_SERVING_H
#define IFB_WORKLOAD_SERVING_SERVING_H
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"
#include "core/sim.h"
#include "core/stats.h"
#include "core/timeline.h"
#include "net/net.h"
#include "report/out.h"
#include "workload/parallel.h"
#include "workload/serving/config.h"

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
    uint64_t admit_seq;
    int failed; /* its instance went down (a message it needed failed); finish = that time */
    int eng;    /* engine it is on (scheduler state) */
    /* disaggregated deployments (IFB_TIME_NEVER / -1 when not reached) */
    int p_inst, d_inst;    /* global instance numbers of its prefill and decode */
    ifb_time prefill_end;  /* its prefill's last step ended */
    ifb_time kv_start;     /* a decode instance had room: the transfer started */
    ifb_time kv_done;      /* the last byte of its KV cache was placed */
    ifb_time decode_start; /* its first decode step started */
    uint64_t kv_bytes;     /* KV-cache bytes sent for it */
    int64_t pkv;           /* KV tokens it holds on the prefill instance while transferring */
    int held;              /* tokens produced but not yet delivered (the prefill's token) */
    /* prefix cache: its trace row (-1 none), tokens it found cached, leading blocks it holds
     * and where */
    int64_t row, pc_hit;
    int pc_ref, pc_eng, pc_inst;
} ifb_serving_req;

/* Terms of a step's compute (steps.csv and the summary's step_breakdown): each rank's compute
 * split by what it is; a step reports the terms of its busiest rank. */
enum {
    IFB_TERM_ATTN = 0,    /* attention: projections and the attention core */
    IFB_TERM_DENSE,       /* dense FFN layers */
    IFB_TERM_ROUTER,      /* the router's gate GEMM */
    IFB_TERM_SHARED,      /* shared experts */
    IFB_TERM_ROUTED,      /* routed experts' grouped GEMMs */
    IFB_TERM_LM_HEAD,     /* LM head of the main model */
    IFB_TERM_DRAFT,       /* every MTP draft pass (its layer, MoE, LM head, overheads) */
    IFB_TERM_ELEMENTWISE, /* norms, RoPE, activations, top-k, residual adds, quantization */
    IFB_TERM_LAUNCH,      /* CUDA-graph gaps between kernels or eager launches waited for */
    IFB_TERM_SAMPLING,    /* final norm and the sampler */
    IFB_TERM_DEEPEP,      /* DeepEP's GPU work: FP8 cast, packing, unpacking, combine reduce */
    IFB_TERM_FIXED,       /* compute.layer_overhead, a fixed time per layer */
    IFB_TERM_N
};
extern const char *const ifb_serving_term_names[IFB_TERM_N];

/* One step, as reported in steps.csv. */
typedef struct ifb_serving_step {
    uint64_t index;
    int engine; /* which engine stepped (0 without a deployment) */
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
    /* pipeline parallelism (0 without): per stage the longest micro-batch's compute, and the
     * bubble = compute_only - sum over micro-batches of the slowest stage's compute */
    ifb_time pp_stage[IFB_PP_MAX];
    ifb_time pp_bubble;
    ifb_time term[IFB_TERM_N]; /* the busiest rank's compute by term (sums to its compute) */
    ifb_time host_gap;         /* GPU idle after the step before the next (host time) */
    int graph;                 /* ranks that replayed a CUDA graph */
    int64_t prefix_hit_tokens; /* prompt tokens its prefills took from the prefix cache */
} ifb_serving_step;

/* One instance group of a deployment, over the measurement window. */
typedef struct ifb_serving_group_result {
    const char *name;
    ifb_role role;
    int engines, instances, gpus;
    const char *gpu;     /* GPU type */
    int64_t kv_tokens;   /* KV capacity per instance */
    double weight_bytes; /* per GPU */
    uint64_t steps;      /* steps that ended in the window */
    double step_busy;    /* time in steps / window, mean over its engines */
    double gpu_busy;     /* GPU compute time / (its GPUs x window) */
    double tgr;          /* output tokens its steps delivered / window, tokens/s */
    double prefill_tps;  /* prompt tokens it prefilled / window, tokens/s */
    uint64_t tokens, prefill_tokens;
} ifb_serving_group_result;

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
    /* deployments with groups */
    int ngroups;
    const ifb_serving_group_result *groups;
    int disaggregated;
    ifb_pctl kv_xfer;      /* KV transfer time (kv_done - kv_start), measured requests, s */
    ifb_pctl kv_wait;      /* waiting for decode memory (kv_start - prefill_end), s */
    ifb_pctl admit_wait;   /* KV arrived to first decode step (decode_start - kv_done), s */
    ifb_pctl kv_req_bytes; /* KV bytes per measured request */
    uint64_t kv_requests;  /* requests whose KV cache was sent (all) */
    uint64_t a2a_recv_max, a2a_recv_mean; /* dispatch payload bytes received per GPU (own copies
                                             included), the busiest GPU and the mean, run */
    double mean_in_stage[3]; /* time-weighted over the window: prefill (arrival to prefill end),
                                transfer (to KV arrival), decode (to finish) */
    double term_mean[IFB_TERM_N]; /* seconds per step, mean over steps */
    double host_gap_mean;         /* seconds */
    /* prefix cache (all requests): lookups, prompt tokens looked up, tokens hit, blocks evicted */
    uint64_t pc_lookups, pc_tokens, pc_hit_tokens, pc_evicted;
    /* MTP: decode steps of requests and tokens they accepted */
    uint64_t mtp_verifies, mtp_accepted;
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
/* Writes what every GPU does onto tl (timeline.c: steps, compute, layers, communication, KV
 * transfers, flows) for the rest of the run; call after ifb_serving_start, before the run.
 * tl outlives the engine's run; the results are the same with and without it. */
void ifb_serving_timeline(ifb_serving *sv, ifb_timeline *tl);
void ifb_serving_destroy(ifb_serving *s);

#endif
