/* The message API: the one way the workload reaches the network. A workload sends N bytes from
 * endpoint A to endpoint B (endpoints are GPUs, numbered server * gpus_per_server + gpu) in a
 * traffic class and is called back when the last byte has been placed at B. Whether the bytes
 * cross NVLink, a RoCEv2 fabric, an InfiniBand fabric or an ideal network is the
 * implementation's business: the workload never sees a NIC or a switch. */
#ifndef IFB_NET_H
#define IFB_NET_H
#include <stdint.h>

#include "core/sim.h"
#include "core/time.h"

/* Traffic classes the workload marks its messages with; the fabric maps each to DSCP, priority,
 * queue and path-selection mode (scenario `classes:`). */
typedef enum ifb_tclass {
    IFB_TC_A2A = 0,  /* MoE expert all-to-all (dispatch/combine) */
    IFB_TC_KV = 1,   /* prefill-to-decode KV-cache transfer */
    IFB_TC_PP = 2,   /* pipeline-parallel activations */
    IFB_TC_COLL = 3, /* collectives and anything else (all-reduce, benchmarks) */
    IFB_TC_COUNT = 4,
} ifb_tclass;

/* Why a message failed: the network names the end it could not reach. */
typedef enum ifb_msg_fail {
    IFB_MSG_OK = 0,
    IFB_MSG_DST_UNREACHABLE = 1, /* the destination (its NIC, its link, or every path to it) */
    IFB_MSG_SRC_DOWN = 2,        /* the source's own NIC link is down */
} ifb_msg_fail;

typedef struct ifb_msg_info {
    uint64_t id;
    uint64_t bytes;
    int src, dst; /* endpoints */
    int tclass;
    ifb_time start; /* when ifb_net_send was called */
    ifb_time done;  /* last byte placed at the destination */
    int failed;     /* 0, or why it could not be delivered: ifb_msg_fail */
} ifb_msg_info;

typedef void (*ifb_msg_cb)(ifb_sim *sim, void *ctx, const ifb_msg_info *info);

typedef struct ifb_net ifb_net;
struct ifb_net {
    void *impl;
    int nendpoints;
    /* Returns the message id (> 0), or 0 if src/dst are not valid endpoints. */
    uint64_t (*send)(ifb_net *net, int src, int dst, uint64_t bytes, int tclass, ifb_msg_cb cb,
                     void *ctx);
};

static inline uint64_t ifb_net_send(ifb_net *net, int src, int dst, uint64_t bytes, int tclass,
                                    ifb_msg_cb cb, void *ctx)
{
    return net->send(net, src, dst, bytes, tclass, cb, ctx);
}

#endif
