/* Microbenchmarks on any fabric, modelled on perftest and nccl-tests, driven only through the
 * message API (net/net.h): pingpong (ib_write_lat), bw (ib_write_bw), incast (N->1),
 * permutation, alltoall and ring allreduce. Compute is free: these measure the network alone.
 * Each call runs one size on a fresh simulation the caller created. */
#ifndef IFB_MICROBENCH_H
#define IFB_MICROBENCH_H
#include <stdint.h>

#include "core/err.h"
#include "core/sim.h"
#include "net/net.h"
#include "workload/deepep.h"

typedef enum ifb_mb_kind {
    IFB_MB_PINGPONG,
    IFB_MB_BW,
    IFB_MB_INCAST,
    IFB_MB_PERMUTATION,
    IFB_MB_ALLTOALL,
    IFB_MB_ALLREDUCE,
    IFB_MB_DEEPEP_DISPATCH, /* one DeepEP dispatch phase (workload/deepep.h), `deepep` below */
    IFB_MB_DEEPEP_COMBINE,
    IFB_MB_COUNT
} ifb_mb_kind;

extern const char *const ifb_mb_names[IFB_MB_COUNT];

typedef struct ifb_mb_spec {
    ifb_mb_kind kind;
    uint64_t bytes; /* pingpong/bw/incast/permutation: per message; alltoall: per ordered pair;
                       allreduce: per rank buffer */
    int iters;      /* pingpong round trips, bw messages */
    int depth;      /* bw: messages outstanding (perftest tx-depth) */
    int src, dst;   /* pingpong, bw: endpoints; incast: dst is the receiver */
    int nranks;     /* participants 0..nranks-1 (0 = every endpoint); incast: senders */
    int stride;     /* take every stride-th endpoint (e.g. one GPU per NIC), default 1 */
    int tclass;
    uint64_t seed; /* permutation draw */
    /* deepep-dispatch / deepep-combine: the kernel (bytes is unused); the ranks' servers from
     * gpus_per_server */
    const ifb_deepep_bench *deepep;
    int gpus_per_server;
} ifb_mb_spec;

typedef struct ifb_mb_result {
    ifb_time time;               /* first post to last delivery; deepep: mean kernel time */
    double size_bytes;           /* the nccl-tests "size" column */
    double algbw;                /* bytes/s; deepep: its RDMA figure (deduplicated per server) */
    double busbw;                /* bytes/s; deepep: bytes a rank receives / kernel time */
    double lat_us;               /* pingpong: one-way latency */
    uint64_t msgs;               /* messages delivered */
    uint64_t msgs_failed;        /* messages the network gave up on (ifb_msg_info.failed); when any
                                    did, the pattern could not be measured: algbw, busbw, lat_us and
                                    jain are NaN, and no message is posted after the first failure in
                                    patterns that chain (pingpong, bw, allreduce), as a real QP in the
                                    error state flushes its later work requests */
    ifb_time min_done, max_done; /* per-flow completion spread (incast/permutation) */
    double jain;                 /* fairness of per-sender completion rates (incast/permutation) */
    /* pingpong, as perftest's ib_write_lat reports them: per round trip, half its time (the
     * one-way latency), in microseconds; t_typical is the median, the percentiles are of the
     * iterations (linear interpolation, numpy's default). NaN for other patterns and when a
     * message failed. */
    double t_min_us, t_max_us, t_typical_us, t_avg_us, t_stdev_us, t_p99_us, t_p999_us;
    uint64_t lat_iters; /* round trips the figures rest on */
} ifb_mb_result;

/* Checks the spec against a network of `nendpoints` endpoints without running anything:
 * enough ranks (alltoall, allreduce and permutation need two: with one there is nothing to
 * send), endpoints in range. Returns 0 or -1 with e. */
int ifb_mb_check(const ifb_mb_spec *s, int nendpoints, ifb_err *e);
/* Posts the pattern on `net`, runs `sim` to completion and fills r. Returns -1 with e when the
 * spec is bad (ifb_mb_check) or the run ended by itself with messages neither delivered nor
 * failed; failed messages are not an error here (r->msgs_failed says so). */
int ifb_mb_run(ifb_sim *sim, ifb_net *net, const ifb_mb_spec *s, ifb_mb_result *r, ifb_err *e);
/* The permutation pattern's destinations: perm[i] = the rank rank i sends to, a random
 * derangement of 0..n-1 in one cycle (Sattolo's algorithm) drawn from the seed's own stream, so
 * a benchmark can tell which flows a run has without running it. */
void ifb_mb_permutation(uint64_t seed, int n, int *perm);
int ifb_mb_kind_parse(const char *name);
/* The participants the spec has on a network of `nendpoints` endpoints (ifb_mb_spec.nranks,
 * the stride, and for incast all but the receiver). */
int ifb_mb_ranks(const ifb_mb_spec *s, int nendpoints);

#endif
