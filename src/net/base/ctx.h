/* The fabric's shared context: the one record every component of the packet-level fabric
 * reaches through its ports (p->f), holding the simulation, the configuration, the counters and
 * the arrays of ports, switches and NICs, plus the handful of functions a lower component is
 * given to reach a higher one (the order and the rules: net/README.md). The component types
 * are only named here; each is defined by its component (net/link/link.h, net/switch/switch.h,
 * net/nic/nic.h). Packet allocation lives here because every component makes or frees packets.
 * Not part of the public API. */
#ifndef IFB_NET_BASE_CTX_H
#define IFB_NET_BASE_CTX_H
#include "core/pool.h"
#include "core/sim.h"
#include "net/base/cfg.h"
#include "net/base/stats.h"
#include "net/net.h"
#include "topo/topo.h"

typedef struct ifb_port ifb_port;     /* net/link/link.h */
typedef struct ifb_switch ifb_switch; /* net/switch/switch.h */
typedef struct ifb_nic ifb_nic;       /* net/nic/nic.h */
typedef struct ifb_qp ifb_qp;         /* net/nic/nic.h */
typedef struct ifb_msg ifb_msg;       /* net/nic/nic.h */
typedef struct ifb_conn ifb_conn;     /* net/fabric/fabric_int.h */

struct ifb_fabric {
    ifb_sim *sim;
    /* the event handlers of switch ports and NIC ports (net/switch/switch.c, net/nic/nic.c),
     * given by the assembly: the link layer schedules a port's events with its owner's */
    ifb_event_fn ev_switch, ev_nic;
    int ib;                 /* InfiniBand: credit flow control, VL arbitration, no drops */
    uint32_t ib_credits;    /* credits per (port, VL) */
    uint32_t ib_max_blocks; /* blocks of the largest packet */
    const ifb_topo *topo;
    ifb_fabric_cfg cfg;
    ifb_net net;
    int nports;
    ifb_port *ports;
    int nswitches;
    ifb_switch *switches;
    int nhosts;
    ifb_nic *nics;
    int nendpoints;
    ifb_pool msg_pool;
    ifb_pool qp_pool;
    ifb_fabric_counters cnt;
    struct ifb_int *intm;  /* INT state (net/switch/int.c), NULL when off */
    struct ifb_ar *ar;     /* InfiniBand adaptive routing (net/switch/ib_ar.c), NULL when off */
    struct ifb_fecn *fecn; /* InfiniBand congestion marking (net/switch/fecn.c), NULL when off */
    uint64_t pkt_seq, msg_seq;
    ifb_time last_done;
    ifb_time reorder_wnd, renak_wnd; /* out-of-order receivers (nic/ooo.c): when a hole is a loss */
    /* connections: open addressing on key */
    ifb_conn *conns;
    size_t nconns, conns_cap;
    /* NVLink crossbar: per-GPU serializer free times */
    ifb_time *nvl_tx_free, *nvl_rx_free;
    /* outputs */
    uint64_t *qhist; /* every switch port's occupancy histogram, one block */
    ifb_msg_rec *recs;
    size_t nrecs, recs_cap;
    uint64_t *samples;
    size_t nsamples, samples_cap;
    uint8_t sampler_armed;
    /* lossless Ethernet */
    uint8_t pfc_mask;                   /* priorities PFC acts on (0 when off) */
    uint8_t ecn_deq_mask, ecn_enq_mask; /* queues marking at dequeue / enqueue */
    /* the egress scheduler's view of cfg.queue[] (net/link/link.h): strict and DWRR queues, and
     * each queue's DWRR quantum */
    uint8_t strict_mask, dwrr_mask;
    uint32_t quantum[IFB_NQUEUES];
    ifb_rate_sample *rsamples;
    size_t nrsamples, rsamples_cap;
    /* failures (net/fail): the controller's state, NULL until a link first goes down, and the
     * flag the switches' forwarding reads (set at the same moment), so normal runs skip it all */
    struct ifb_fail_state *fail;
    uint8_t links_failed;
    uint64_t *gp;            /* delivered goodput per cfg.goodput_bin, bytes (net/nic/goodput.c) */
    const uint8_t *gp_hosts; /* receivers counted (per host), NULL = all */
    size_t ngp, gp_cap;
    /* the few ways up, each given by the component above (rare events, never per packet-hop):
     * a PFC resume at a NIC port (net/switch/pfc.c -> net/nic), a message the transport
     * completed or failed (net/nic -> the message API, net/fabric/msg.c), and freeing the
     * failure controller's state (net/fabric -> net/fail) */
    void (*nic_unpause)(ifb_nic *nic, int prio);
    void (*msg_done)(ifb_fabric *f, ifb_msg *m, int failed);
    void (*fail_free)(ifb_fabric *f);
};

static inline ifb_pkt *ifb_fabric_new_pkt(ifb_fabric *f)
{
    ifb_pkt *pk = ifb_pool_get(&f->sim->pkt_pool);
    pk->id = ++f->pkt_seq;
    f->cnt.pkts_created++;
    return pk;
}

/* pk reached its destination: freed and counted as consumed. */
static inline void ifb_fabric_free_pkt(ifb_fabric *f, ifb_pkt *pk)
{
    f->cnt.pkts_consumed++;
    ifb_pool_put(&f->sim->pkt_pool, pk);
}

/* pk is for a queue its ports do not have (an InfiniBand VL at or above cfg.ib_vls). */
static inline int ifb_queue_missing(const ifb_fabric *f, const ifb_pkt *pk)
{
    return f->ib && pk->tc >= f->cfg.ib_vls;
}

#endif
