/* DeepEP's expert-parallel kernels (deepseek-ai/DeepEP) as the serving engine and `infabric
 * bench` model them:
 *  - low-latency (decode): every token copy is its own RDMA write to the expert's GPU (one WQE,
 *    posted by the GPU through IBGDA at `wqe_rate`; NVLink inside a server), followed by a count
 *    signal to every rank; a receiver is done when it has the signals of every rank;
 *  - normal (prefill): a token crosses to another server once, to the GPU with the same local
 *    index, which forwards it over NVLink to the GPUs holding its experts; RDMA and forwarding
 *    are pipelined in `chunks` pieces (a relay forwards piece j once j pieces of its RDMA
 *    traffic have arrived);
 *  - GPU-side work: the FP8 cast and packing of the tokens before a dispatch, the copy into the
 *    experts' layout after it, the combine's copy into its send buffer and its weighted
 *    reduction on receipt, all memory-bound at HBM bandwidth x mem_eff. The send side's copy
 *    feeds the sends as it goes: 1/chunks of it comes before the first send (ASSUMPTION). The
 *    receive side's follows the count signals in low-latency mode (all of it after the data);
 *    in normal mode it follows each forwarded piece (1/chunks of it after the data).
 * This header also holds the one-phase benchmark of the kernels (tests/test_low_latency.py and
 * tests/test_internode.py of DeepEP as `infabric bench -p deepep-dispatch|deepep-combine`).
 * Leaves out: the normal kernels' count exchange before the data, the SMs the kernels take from
 * concurrent compute, and DeepEP's per-message headers. */
#ifndef IFB_WORKLOAD_DEEPEP_H
#define IFB_WORKLOAD_DEEPEP_H
#include <stdint.h>

#include "core/err.h"
#include "core/sim.h"
#include "core/time.h"
#include "net/net.h"

typedef struct ifb_deepep_cfg {
    int gpu_work;           /* 1: pack/cast/unpack/reduce on the GPU, bytes at HBM x mem_eff */
    double mem_eff;         /* HBM efficiency of those copy kernels */
    double wqe_rate;        /* WQEs a GPU posts per second (low-latency mode); 0: no limit */
    int signals;            /* 1: every rank sends a count signal to every rank of its group */
    uint64_t signal_bytes;  /* bytes of one count signal */
    int chunks;             /* normal mode: pieces a relay forwards as they arrive (1: after all) */
    ifb_time kernel_launch; /* fixed time per DeepEP kernel half (send or receive) */
} ifb_deepep_cfg;

void ifb_deepep_cfg_defaults(ifb_deepep_cfg *o);

/* One dispatch or combine phase over n ranks, as DeepEP's tests run it: `tokens` per rank, each
 * routed to `topk` distinct experts of `experts` (uniformly; normal mode group-limited to at
 * most topk_groups servers, as test_internode.py), `masked` token copies per rank dropped
 * (test_low_latency.py masks 10), experts contiguous per rank (expert e on rank e / (experts /
 * n)). Bytes per copy: dbytes dispatched, cbytes combined; hidden is the BF16 input's width. */
typedef struct ifb_deepep_bench {
    int normal, combine;
    int tokens, masked, topk, experts, topk_groups, hidden;
    uint64_t dbytes, cbytes;
    int per_token;  /* low latency: one message per token copy (1) or per rank pair (0) */
    double hbm_bps; /* the GPU's HBM bandwidth, bytes/s */
    ifb_deepep_cfg cfg;
    uint64_t seed;
} ifb_deepep_bench;

typedef struct ifb_deepep_result {
    ifb_time mean, max;    /* kernel time per rank (send start to receive end): mean, max */
    double rdma_bps;       /* DeepEP's RDMA figure: bytes of per-server deduplicated tokens a
                              rank sends (its own server included) / its kernel time, mean */
    double nvl_bps;        /* DeepEP's NVLink figure: the dispatch's bytes a rank receives (the
                              combine's it sends back), its own included, / kernel time */
    uint64_t msgs, failed; /* messages delivered, given up on */
    uint64_t copies;       /* token copies moved (all ranks) */
} ifb_deepep_result;

/* Runs the phase on net (endpoints ep[0..n-1], gpus_per_server per server) to completion.
 * Returns -1 with e on a bad spec or a run that ended with messages undelivered. */
int ifb_deepep_bench_run(ifb_sim *sim, ifb_net *net, const ifb_deepep_bench *b, const int *ep,
                         int n, int gpus_per_server, ifb_deepep_result *r, ifb_err *e);

#endif
