/* State shared by the files of the serving engine (not a public header: only
 * src/workload/serving/ includes it). The engine object, the step program's stage list, the
 * per-chain token sets, the instance queues, the compute-cost memo, and the functions one file
 * calls in another. Dependencies between the files run engine -> sched -> step -> cost, with
 * one call back from the step program to the scheduler when a step ends (ifb_sv_step_end);
 * metrics only reads the state.
 * Leaves out: nothing of the model; it only declares. */
#ifndef IFB_WORKLOAD_SERVING_INTERNAL_H
#define IFB_WORKLOAD_SERVING_INTERNAL_H
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/pool.h"
#include "workload/kernels.h"
#include "workload/serving/serving.h"

/* ST_PP: a pipeline boundary (pp > 1): the ranks of stage `pp` send their micro-batch's
 * activations to the next stage, whose ranks wait for them (and for their previous micro-batch);
 * pp = -1 is the first stage's gate, which only waits for the previous micro-batch. */
enum { ST_COMP = 0, ST_A2A, ST_RING, ST_DONE, ST_PP };
enum { PART_PRE = 0, PART_EXPERT, PART_MLP, PART_LM, PART_TPMOE };
/* Request states: waiting for admission, prefilling, decoding, done; in a disaggregated
 * deployment RS_XFER between the end of the prefill and the arrival of the whole KV cache at
 * the decode instance (waiting for decode memory, then transferring). */
enum { RS_WAIT = 0, RS_PREFILL, RS_DECODE, RS_DONE, RS_XFER };
/* Stages a request is in, for the per-stage occupancy (Little's law per stage). */
enum { SG_PREFILL = 0, SG_XFER, SG_DECODE, SG_N };

typedef struct ifb_sv_eng ifb_sv_eng;

typedef struct stage {
    uint8_t kind, part;
    int layer; /* model layer (layers = the MTP layer) */
    int moe;   /* index of the MoE layer (plans, routing), -1 if none */
    int combine;
    int pp; /* pipeline stage whose ranks run it (0 without PP); ST_PP: the sending stage */
} stage;

typedef struct slot {
    ifb_sv_eng *s;
    int k, r, c, final;
} slot;

/* Work of one rank's chain (micro-batch) in a step. */
typedef struct tokset {
    int64_t nd, q, ctx_sum; /* decoding sequences, tokens each, cached tokens in total */
    int64_t pf, pf_seqs;    /* prefill tokens and chunks */
    int64_t pf_prefix;      /* cached tokens before the chunks, summed */
    double pf_pairs;        /* sum over chunks of n x prefix + n(n+1)/2 (attention pairs) */
} tokset;

typedef struct batch_ent {
    int req, chain;
    int64_t pf, prefix; /* prefill tokens of this step and the cached prefix */
    int decode;         /* 1: decodes this step */
} batch_ent;

typedef struct instq {
    int *wait;
    size_t wn, wcap;
    int *run;
    size_t rn, rcap;
    int64_t kv_used;
    int64_t in_system;
    int64_t queued_tokens; /* prompt tokens not yet prefilled of its waiting/prefilling requests */
} instq;

typedef struct memo_ent {
    uint64_t key;
    ifb_time v;
} memo_ent;
#define MEMO_SIZE (1u << 15)

enum { KT_GEMM = 0, KT_GGD, KT_GGP, KT_MLA, KT_N };

/* One engine: a set of GPUs that step together (one serving instance group's replica: an EP
 * group of DP-attention ranks, or TP groups), with its own layout, kernel tables, batching
 * limits and step program. A deployment without groups has one mixed engine on every GPU. */
struct ifb_sv_eng {
    ifb_serving *sv;
    int index;           /* in sv->eng */
    int group;           /* deployment group (0 without a deployment) */
    ifb_role role;       /* of the group */
    int inst_base;       /* global number of inst[0] (requests.csv instance) */
    ifb_serving_cfg cfg; /* the run's configuration with the group's settings applied; shares
                            the model, trace and groups of sv->cfg (never freed here) */
    const ifb_model *m;
    ifb_parallel par;
    ifb_sim *sim;
    ifb_net *net;

    ifb_kernel_table kt[KT_N];
    int have_kt[KT_N];
    memo_ent *memo;
    size_t memo_n;
    double a_dec, a_pre;   /* attention core FLOPs per (token x cached token), one layer */
    double kv_layer_bytes; /* KV bytes per token per layer on one GPU */
    int64_t dbytes, cbytes;

    instq *inst;
    int idle, running_step;

    /* step program */
    int R, C, ngroups, gsz;  /* ranks, chains, EP/TP groups and their size */
    int P, Rs;               /* pipeline stages, ranks per stage (1, R without PP) */
    int *gate_k;             /* [p]: index of stage p's ST_PP gate */
    unsigned char *own_done; /* [r * C + c]: chain c has passed rank r's own stages */
    ifb_time *pp_t;          /* [p * C + c]: compute of micro-batch c on stage p (this step) */
    int *moe_pp;             /* [mi]: pipeline stage of MoE layer mi */
    int64_t *grp_tok;        /* dp-tp: [((mtp * ngroups + g) * C + c) * 2]: tokens, max per rank */
    stage *st;
    int K, nmoe, layers_run;
    ifb_time *dur; /* [(k * R + r) * C + c] */
    slot *slot0, *slotf;
    int *pos;                                  /* [r * C + c] current stage */
    int *recv0, *recvf, *ready, *sent, *donek; /* [(k * R + r) * C + c] */
    int *readycnt;                             /* [(k * ngroups + g) * C + c] */
    int *gpu_busy;                             /* [r] */
    int *gpu_q;                                /* [r * 2 .. +1] queued chains, -1 empty */
    ifb_time *busy_acc;
    ifb_xplan *plans; /* [((g * nmoe + mi) * 2 + combine) * C + c] */
    tokset *ts;       /* [r * C + c] */
    tokset *ts_mtp;
    int *experts; /* routing scratch */
    size_t experts_cap;
    int *recv_copies; /* [(mi * R + r) * C + c] */
    ifb_router router;
    ifb_eplb *eplb;     /* [nmoe] placement with replicas per MoE layer; NULL: par.expert_rank */
    int *slot_cnt;      /* [slots] copies per slot in the phase being planned */
    uint64_t *a2a_recv; /* [r] dispatch payload bytes received (own copies included), all steps */
    batch_ent *ents;
    size_t nents, ents_cap;
    int chains_done;
    int normal_step;
    unsigned char *replay;     /* [k]: this step replays stage k */
    ifb_time *barrier;         /* [(k * ngroups + g) * C + c] time the group met */
    ifb_time *delta;           /* [((kind * R) + r) * C + c]: latency after the barrier, kind =
                                  combine + 2 x normal */
    unsigned char *have_delta; /* [kind] */
    ifb_time step_start;
    int inflight;
    ifb_time comm_start, comm_acc;
    ifb_serving_step cur;

    /* failed messages and instances down */
    int *rank_of_ep; /* [endpoint] -> rank, -1 if none */
    int nep;
    uint32_t *fail_score;     /* [rank]: this step's failed messages touching it, 2 as dst */
    unsigned char *rank_down; /* [rank] */
    unsigned char *inst_down; /* [instance] */
    int ninst_down, fail_pending;

    /* totals for the per-group summary (inside the measurement window) */
    uint64_t win_tokens;      /* output tokens its steps delivered */
    uint64_t win_prefill_tok; /* prompt tokens it prefilled */
};

/* A KV-cache transfer in flight: every chunk message of one request points here. */
typedef struct kvx {
    ifb_serving *sv;
    int req;
    uint32_t left; /* messages not yet completed */
    int failed;
} kvx;

struct ifb_serving {
    ifb_serving_cfg cfg;
    const ifb_model *m;
    ifb_sim *sim;
    ifb_net *net;
    uint64_t seed;
    ifb_rng rng_len, rng_arr;
    ifb_sv_eng *eng;
    int neng;
    int ninst;  /* instances over every engine */
    int disagg; /* the deployment has prefill and decode groups */

    /* requests */
    ifb_serving_req *req;
    size_t nreq, req_cap;
    size_t arrivals_max; /* open loop: requests to generate */
    size_t trace_next;   /* next trace row for lengths/arrivals */
    uint64_t admit_seq;
    int64_t in_system;
    uint64_t finished, target;
    int done;
    ifb_time t_window;
    int window_open;
    uint64_t tokens_emitted, tokens_at_window;
    ifb_time window_end;
    uint64_t window_tokens;
    int64_t min_sys, max_sys;
    double sys_area; /* in-system x ps over the window */
    ifb_time sys_last;
    int64_t in_stage[SG_N];
    double stage_area[SG_N]; /* in-stage x ps over the window */
    uint64_t preemptions;
    ifb_samples itl;
    int *itl_req; /* inter-token gaps: request and gap, filtered at the end */
    ifb_time *itl_gap;
    size_t nitl, itl_cap;
    unsigned rr_next[2]; /* round-robin router: next entry / decode instance */

    /* KV transfers (disaggregated deployments) */
    int *kvwait; /* requests whose prefill ended, waiting for decode memory, FIFO */
    size_t kvwn, kvwcap;
    ifb_pool kvx_pool;
    uint64_t kv_bytes, kv_nic_bytes, kv_nvlink_bytes, kv_msgs;
    size_t kv_inflight;

    ifb_serving_step *steps;
    size_t nsteps, steps_cap;
    ifb_serving_result res;
    ifb_serving_group_result *groups_res;
    ifb_summary msg_time[IFB_TC_COUNT]; /* message completion times, ps */
    int ninst_down;
    uint64_t nfailed; /* requests failed */
};

enum {
    G_QA = 1,
    G_QB,
    G_QP,
    G_KVA,
    G_UK,
    G_UV,
    G_KVB,
    G_O,
    G_QKV,
    G_FU,
    G_FD,
    G_RT,
    G_SU,
    G_SD,
    G_LM,
    G_EH,
    X_GG,
    X_GGP,
    X_MLA,
    X_ROUTED_TP,
    X_ROUTED_TPP
};

static inline size_t idx3(const ifb_sv_eng *s, int k, int r, int c)
{
    return ((size_t)k * (size_t)s->R + (size_t)r) * (size_t)s->C + (size_t)c;
}

static inline int group_of(const ifb_sv_eng *s, int r)
{
    return r / s->gsz;
}

/* The instance (DP rank or TP group) a rank belongs to, in every pipeline stage. */
static inline int inst_of_rank(const ifb_sv_eng *s, int r)
{
    return (r % s->Rs) / s->par.tp;
}

static inline int64_t tok_total(const tokset *t)
{
    return t->nd * t->q + t->pf;
}

/* Requests that ended, finished or failed: what the run's end conditions count. */
static inline uint64_t ended(const ifb_serving *s)
{
    return s->finished + s->nfailed;
}

/* cost.c: compute time of one GPU's kernels (memoized per shape). */
ifb_time ifb_sv_gemm(ifb_sv_eng *s, int id, int64_t m, int64_t k, int64_t n);
ifb_time ifb_sv_routed_time(ifb_sv_eng *s, int64_t copies, int prefill);
ifb_time ifb_sv_attn_time(ifb_sv_eng *s, const tokset *t);
ifb_time ifb_sv_ffn_time(ifb_sv_eng *s, int64_t T);
ifb_time ifb_sv_shared_time(ifb_sv_eng *s, int64_t T);
ifb_time ifb_sv_tpmoe_time(ifb_sv_eng *s, int64_t T, int prefill);
void ifb_sv_load_tables(ifb_sv_eng *s);

/* sched.c: requests, arrivals, the router, the per-instance scheduler and the end of a step. */
void ifb_sv_sys_account(ifb_serving *sv);
void ifb_sv_new_request(ifb_serving *sv);
void ifb_sv_schedule_arrival(ifb_serving *sv);
void ifb_sv_finish_run(ifb_serving *sv);
void ifb_sv_schedule_instance(ifb_sv_eng *s, int ii, int64_t q_tokens);
void ifb_sv_open_window(ifb_serving *sv);
void ifb_sv_step_end(ifb_sv_eng *s);
/* Picks a live instance of an engine with the given role (decode: one with room for `need` KV
 * tokens) by the router's policy; returns its engine, -1 if none, and the instance in *inst. */
int ifb_sv_route(ifb_serving *sv, int decode, int64_t need, int *inst);
void ifb_sv_stage_move(ifb_serving *sv, int from, int to); /* -1: entering/leaving the system */
void ifb_sv_fail_request(ifb_serving *sv, int ri);
/* Every engine idle and nothing in flight: ends the run, or stops it with an error when
 * requests remain that nothing can admit. */
void ifb_sv_check_idle(ifb_serving *sv);

/* step.c: the stage list, and one step of every GPU of an engine. */
void ifb_sv_build_program(ifb_sv_eng *s);
void ifb_sv_start_step(ifb_sv_eng *s);
void ifb_sv_step_ev(ifb_sim *sim, void *obj, uint64_t arg);

/* kv.c: the KV-cache transfer of a disaggregated deployment. */
/* Bytes one request's KV cache puts on the wire from prefill instance (pe, pi) to decode
 * instance (de, di), per (source rank, destination rank) pair, over every layer (each held by
 * its pipeline stage on either side): returns the pairs in out[] (at most cap) with their bytes
 * per prompt token, and the number of pairs. */
typedef struct ifb_kv_pair {
    int src, dst;             /* ranks of the prefill and the decode engine */
    uint64_t bytes_per_token; /* summed over the layers: bytes per prompt token */
} ifb_kv_pair;
int ifb_sv_kv_pairs(const ifb_sv_eng *pe, int pi, const ifb_sv_eng *de, int di, ifb_kv_pair *out,
                    int cap);
int64_t ifb_sv_kv_layers(const ifb_sv_eng *de);
/* The prefill of request ri ended on its prefill instance: queue it for a decode instance. */
void ifb_sv_kv_prefilled(ifb_serving *sv, int ri);
/* Starts the transfers of waiting requests that now fit a decode instance (FIFO). */
void ifb_sv_kv_dispatch(ifb_serving *sv);
/* Layout pairs whose KV cache cannot be split between them (create time). */
int ifb_sv_kv_check(const ifb_serving *sv, ifb_err *e);
/* --check: every request's KV cache arrived before its first decode step. */
int ifb_sv_kv_checker(ifb_sim *sim, void *ctx, char *msg, size_t cap);

#endif
