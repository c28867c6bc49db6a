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

#include "workload/kernels.h"
#include "workload/serving/serving.h"

enum { ST_COMP = 0, ST_A2A, ST_RING, ST_DONE };
enum { PART_PRE = 0, PART_EXPERT, PART_MLP, PART_LM };
enum { RS_WAIT = 0, RS_PREFILL, RS_DECODE, RS_DONE };

typedef struct stage {
    uint8_t kind, part;
    int layer; /* model layer (layers = the MTP layer) */
    int moe;   /* index of the MoE layer (plans, routing), -1 if none */
    int combine;
} stage;

typedef struct slot {
    ifb_serving *s;
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
} instq;

typedef struct memo_ent {
    uint64_t key;
    ifb_time v;
} memo_ent;
#define MEMO_SIZE (1u << 15)

enum { KT_GEMM = 0, KT_GGD, KT_GGP, KT_MLA, KT_N };

struct ifb_serving {
    ifb_serving_cfg cfg;
    const ifb_model *m;
    ifb_parallel par;
    ifb_sim *sim;
    ifb_net *net;
    uint64_t seed;
    ifb_rng rng_len, rng_arr;

    ifb_kernel_table kt[KT_N];
    int have_kt[KT_N];
    memo_ent *memo;
    size_t memo_n;
    double a_dec, a_pre;   /* attention core FLOPs per (token x cached token), one layer */
    double kv_layer_bytes; /* KV bytes per token per layer on one GPU */
    int64_t dbytes, cbytes;

    /* requests */
    ifb_serving_req *req;
    size_t nreq, req_cap;
    size_t arrivals_max; /* open loop: requests to generate */
    size_t trace_next;   /* next trace row for lengths/arrivals */
    instq *inst;
    uint64_t admit_seq;
    int64_t in_system;
    uint64_t finished, target;
    int done, idle, running_step;
    ifb_time t_window;
    int window_open;
    uint64_t tokens_emitted, tokens_at_window;
    ifb_time window_end;
    uint64_t window_tokens;
    int64_t min_sys, max_sys;
    double sys_area; /* in-system x ps over the window */
    ifb_time sys_last;
    uint64_t preemptions;
    ifb_samples itl;
    int *itl_req; /* inter-token gaps: request and gap, filtered at the end */
    ifb_time *itl_gap;
    size_t nitl, itl_cap;

    /* step program */
    int R, C, ngroups, gsz; /* ranks, chains, EP/TP groups and their size */
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
    ifb_serving_step *steps;
    size_t nsteps, steps_cap;
    ifb_serving_result res;
    ifb_summary msg_time[IFB_TC_COUNT]; /* message completion times, ps */

    /* failed messages and instances down */
    int *rank_of_ep; /* [endpoint] -> rank, -1 if none */
    int nep;
    uint32_t *fail_score;     /* [rank]: this step's failed messages touching it, 2 as dst */
    unsigned char *rank_down; /* [rank] */
    unsigned char *inst_down; /* [instance] */
    int ninst_down, fail_pending;
    uint64_t nfailed; /* requests failed */
};

static inline void *xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n ? n : 1, sz ? sz : 1);
    if (!p)
        abort();
    return p;
}

static inline void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        abort();
    return q;
}

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

static inline size_t idx3(const ifb_serving *s, int k, int r, int c)
{
    return ((size_t)k * (size_t)s->R + (size_t)r) * (size_t)s->C + (size_t)c;
}

static inline int group_of(const ifb_serving *s, int r)
{
    return r / s->gsz;
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
ifb_time ifb_sv_gemm(ifb_serving *s, int id, int64_t m, int64_t k, int64_t n);
ifb_time ifb_sv_routed_time(ifb_serving *s, int64_t copies, int prefill);
ifb_time ifb_sv_attn_time(ifb_serving *s, const tokset *t);
ifb_time ifb_sv_ffn_time(ifb_serving *s, int64_t T);
ifb_time ifb_sv_shared_time(ifb_serving *s, int64_t T);
void ifb_sv_load_tables(ifb_serving *s);

/* sched.c: requests, arrivals, the per-instance scheduler and the end of a step. */
void ifb_sv_sys_account(ifb_serving *s);
void ifb_sv_new_request(ifb_serving *s);
void ifb_sv_schedule_arrival(ifb_serving *s);
void ifb_sv_finish_run(ifb_serving *s);
void ifb_sv_schedule_instance(ifb_serving *s, int ii, int64_t q_tokens);
void ifb_sv_open_window(ifb_serving *s);
void ifb_sv_step_end(ifb_serving *s);

/* step.c: the stage list, and one step of every GPU. */
void ifb_sv_build_program(ifb_serving *s);
void ifb_sv_start_step(ifb_serving *s);
void ifb_sv_step_ev(ifb_sim *sim, void *obj, uint64_t arg);

#endif
