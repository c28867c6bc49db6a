/* Parallel layout of one model on the GPUs of a topology: which GPU endpoint each rank is, how
 * ranks form serving instances, tensor-parallel (TP) rings and expert-parallel (EP) groups,
 * where each routed expert lives, and what one GPU must hold in memory.
 * Layouts:
 *   dp-ep  attention data parallel on every GPU (each GPU is one serving instance with its own
 *          requests and KV cache) and expert parallel over groups of `ep` consecutive ranks for
 *          the MoE layers (DeepSeek/SGLang "DP attention + DeepEP"). Dense FFN layers run
 *          replicated on each GPU (moe-dense-tp-size 1). tp must be 1.
 *   tp     tensor parallel over groups of `tp` consecutive ranks: each group is one instance;
 *          attention heads, dense FFN and every expert's intermediate dimension are split tp
 *          ways, with a ring all-reduce after attention and after the FFN/MoE of every layer.
 * Rank r is GPU endpoint r (server r / gpus_per_server, GPU r % gpus_per_server), so ranks
 * follow the topology's GPU -> NIC affinity; a caller placing the layout on a subset of the
 * topology's GPUs (an instance group) rewrites endpoint[] and topo_gpus_per_server. Expert e lives
 * on EP rank e % ep (round-robin) or e / (experts / ep) (contiguous). Leaves out: pipeline
 * parallelism, prefill-decode disaggregation, redundant experts (EPLB), attention TP inside a dp-ep
 * instance. */
#ifndef IFB_WORKLOAD_PARALLEL_H
#define IFB_WORKLOAD_PARALLEL_H
#include <stdint.h>

#include "core/err.h"
#include "workload/gpu.h"
#include "workload/model.h"

typedef enum ifb_layout {
    IFB_LAYOUT_DP_EP = 0,
    IFB_LAYOUT_TP = 1,
    IFB_LAYOUT_DP_TP = 2 /* DP attention + tensor-parallel MoE */
} ifb_layout;
#define IFB_PP_MAX 16 /* pipeline stages at most */
typedef enum ifb_placement {
    IFB_PLACE_ROUND_ROBIN = 0,
    IFB_PLACE_CONTIGUOUS = 1,
    IFB_PLACE_LOAD = 2 /* by expected load, per MoE layer (workload/eplb.h) */
} ifb_placement;

typedef struct ifb_par_cfg {
    ifb_layout layout;
    int tp; /* ranks per instance (tp layout); 1 for dp-ep */
    int dp; /* instances; 0 = derive (GPUs / tp) */
    int ep; /* EP group size (dp-ep); 0 = every GPU */
    ifb_placement placement;
    int redundant;             /* extra expert slots per EP group (EPLB), dp-ep only */
    int pp;                    /* pipeline stages (0/1: none); each stage whole servers */
    int pp_layers[IFB_PP_MAX]; /* layers of each stage; all 0 = an even split */
    int micro_batches;         /* with pp > 1: micro-batches per step (0: pp) */
    const char *key;           /* config prefix for messages, e.g. "workload.parallel" */
} ifb_par_cfg;

typedef struct ifb_parallel {
    ifb_layout layout;
    int nranks, nservers, gpus_per_server;
    int topo_gpus_per_server; /* of the topology the endpoints number (server = endpoint / it) */
    int tp, dp, ep;           /* ep = 1 for the tp layout */
    int moe_tp;       /* ranks each expert is split over: tp (tp), the group (dp-tp), 1 (dp-ep) */
    int *endpoint;    /* [rank] -> GPU endpoint */
    int *expert_rank; /* [expert] -> EP rank of its first replica (0..ep-1); NULL if dense */
    int experts;
    int redundant;      /* redundant expert slots per EP group */
    int slots_per_rank; /* routed expert slots of the fullest rank (experts / ep without EPLB) */
    ifb_placement placement;
    /* Pipeline parallelism: pp stages of stage_ranks ranks each (rank r is in stage
     * r / stage_ranks, peer of rank r + stage_ranks in the next); the layout above (tp, dp, ep,
     * instances) is that of one stage, repeated; stage p runs layers [pp_first[p],
     * pp_first[p + 1]). pp = 1: one stage holding every layer. */
    int pp, stage_ranks, micro_batches;
    int pp_first[IFB_PP_MAX + 1];
    /* Memory, per GPU (ifb_parallel_memory). */
    double weight_bytes;       /* weights held by one GPU */
    double kv_bytes_per_token; /* KV cache one GPU holds per token of one of its requests */
    double reserve_bytes;      /* activations, buffers, CUDA context */
    double kv_bytes;           /* HBM left for the KV cache */
    int64_t kv_tokens;         /* KV capacity of one instance, tokens */
} ifb_parallel;

static inline int ifb_parallel_server(const ifb_parallel *p, int rank)
{
    return p->endpoint[rank] / p->topo_gpus_per_server;
}

/* Checks the layout against the GPUs (servers x gpus_per_server) and the model: tp, dp and ep
 * must divide the GPUs, ep the routed experts, tp the attention heads. Errors name the key
 * (cfg->key + ".tp" etc.), what was expected and what was found. */
int ifb_parallel_build(ifb_parallel *p, const ifb_model *m, const ifb_par_cfg *c, int nservers,
                       int gpus_per_server, ifb_err *e);
/* Fills the memory fields: weights per GPU (weights in wdt; MTP module included when mtp),
 * KV cache per token, and the KV capacity left after weights and `reserve` bytes. Fails
 * through ifb_gpu_memory_check when weights + reserve + the KV cache of `min_tokens` tokens
 * (the longest request) do not fit. */
int ifb_parallel_memory(ifb_parallel *p, const ifb_model *m, const ifb_gpu *g, ifb_dtype wdt,
                        ifb_dtype kvdt, int mtp, double reserve, int64_t min_tokens, ifb_err *e);
void ifb_parallel_free(ifb_parallel *p);
const char *ifb_layout_name(ifb_layout l); /* "dp-ep", "tp" */

#endif
