/* Internal structures of the packet-level fabric, shared by fabric.c (construction, message
 * API, NVLink), port.c (egress queues, scheduling, links, switching) and nic.c (RoCEv2 RC
 * transport). Not part of the public API. */
#ifndef IFB_FABRIC_INT_H
#define IFB_FABRIC_INT_H
#include "core/pool.h"
#include "core/rng.h"
#include "net/fabric.h"

typedef struct ifb_fifo {
    ifb_pkt *head, *tail;
    uint32_t n;
    uint64_t bytes;
} ifb_fifo;

static inline void ifb_fifo_push(ifb_fifo *q, ifb_pkt *p)
{
    p->next = NULL;
    if (q->tail)
        q->tail->next = p;
    else
        q->head = p;
    q->tail = p;
    q->n++;
    q->bytes += p->wire;
}

static inline ifb_pkt *ifb_fifo_pop(ifb_fifo *q)
{
    ifb_pkt *p = q->head;
    if (p) {
        q->head = p->next;
        if (!q->head)
            q->tail = NULL;
        else /* the next pop reads it: start the cache miss now, not then */
            __builtin_prefetch(q->head);
        q->n--;
        q->bytes -= p->wire;
        p->next = NULL;
    }
    return p;
}

typedef struct ifb_switch ifb_switch;
typedef struct ifb_nic ifb_nic;
typedef struct ifb_qp ifb_qp;
typedef struct ifb_msg ifb_msg;

typedef struct ifb_port {
    /* what every packet through the port touches, first: a few cache lines instead of the
     * whole record (which the IB, PFC and watchdog state below make about 1.7 KB) */
    ifb_fabric *f;
    ifb_switch *sw; /* owner when on a switch */
    ifb_nic *nic;   /* owner when on a host */
    struct ifb_port *peer;
    uint64_t rate;
    ifb_time delay;
    /* end of the frame being serialized; a switch port with nothing queued behind it arms no
     * end-of-serialization event (busy stays 0) until a frame arrives before this time */
    ifb_time free_at;
    uint64_t qbytes; /* bytes in all egress queues */
    ifb_fifo pipe;   /* frames on the link toward the peer, in arrival order */
    uint8_t busy, pipe_armed, rr, rr_credited;
    uint8_t paused; /* bitmask of paused priorities (PFC) or credit-starved VLs (IB) */
    /* failures (failure.c): causes holding the link down now, and as routing sees it (after
     * the detection delay); frames at the head of `pipe` that were on the link when it failed */
    uint8_t down, dead;
    uint32_t doomed;
    double loss; /* probability a frame sent here arrives corrupted */
    struct ifb_pcap *pcap;
    uint64_t *qhist; /* time-weighted occupancy histogram (cfg.queue_bins), ps per bin */
    ifb_port_stats st;
    ifb_fifo pfcq; /* PFC frames to send, ahead of data */
    int32_t deficit[IFB_NQUEUES];
    ifb_fifo q[IFB_NQUEUES];
    int id;    /* topology port id */
    int index; /* port number on its node */
    ifb_rng loss_rng;
    uint32_t credits[IFB_NQUEUES]; /* IB: 64-byte blocks free in the peer's buffer per VL */
    uint32_t ibuf[IFB_NQUEUES];    /* IB: blocks held in this port's receive buffer per VL */
    uint32_t ibuf_max[IFB_NQUEUES];
    ifb_vlarb vlarb;
    uint64_t sampled_bytes;
    /* PFC, egress side: pause frames on the link, which reach the peer's MAC without the
     * switch/NIC latency data frames have */
    ifb_fifo pfc_pipe;
    uint8_t pfc_pipe_armed, pause_armed, refresh_armed, storm;
    ifb_time pause_until[IFB_NQUEUES], paused_since[IFB_NQUEUES];
    ifb_time pause_timer_at;
    /* PFC, ingress side (switch ports): this port's priority groups in the shared buffer */
    uint64_t pg_bytes[IFB_NQUEUES];  /* reserved + shared part */
    uint64_t pg_hdrm[IFB_NQUEUES];   /* headroom part */
    uint64_t headroom;               /* per lossless priority */
    uint8_t xoff;                    /* priorities this port has paused upstream */
    ifb_time xoff_next[IFB_NQUEUES]; /* refresh due */
    ifb_port_cc_stats cc;
    /* PFC watchdog (switch egress side): priorities in a detected storm, pause frames ignored
     * and packets dropped until no pause frame has come for cfg.pfcwd_restore */
    uint8_t wd_storm, wd_armed;
    ifb_time wd_last_rx[IFB_NQUEUES];
    /* misbehaving NIC (cfg.pfc_storms): priorities it is pausing and when each storm ends */
    uint8_t storm_tx;
    ifb_time storm_end[IFB_NQUEUES];
} ifb_port;

struct ifb_switch {
    int node;
    int idx;       /* dense switch index */
    uint64_t seed; /* ECMP hash seed */
    uint64_t buf_used;
    ifb_port *ports; /* first of its ports in ifb_fabric.ports */
    int nports;
    const int *route;             /* route row: destination host -> group */
    void *lb;                     /* path-selection state (net/lb.c), NULL for plain ECMP */
    ifb_rng rng;                  /* ECN marking draws */
    uint64_t shared_size;         /* buffer less every port's headroom and reserve (PFC) */
    uint64_t hdrm_used, rsv_used; /* bytes in headroom / reserved space */
    int wd_active;                /* ports with a PFC watchdog storm in progress */
    /* failures (failure.c): per destination host, offset in live_pool of the usable members
     * (count, then member indices) or IFB_LIVE_ALL; NULL until a failure is detected */
    const uint32_t *live_idx;
    const uint16_t *live_pool;
};

struct ifb_msg {
    ifb_msg *next;
    uint64_t id;
    uint64_t bytes;
    int src, dst, tclass;
    ifb_time start;
    uint32_t psn0, npkts;
    ifb_msg_cb cb;
    void *ctx;
    ifb_qp *qp;
    uint8_t delivered; /* the callback ran: a later QP failure must not run it again */
};

struct ifb_qp {
    /* first line: what a packet arriving for the QP reads (responder state, ACK header) */
    ifb_nic *nic;
    uint32_t qpn, dqpn;
    int peer_host;
    uint8_t queue, dscp;
    uint16_t sport;
    uint32_t epsn, since_ack;
    uint8_t nak_sent;
    uint8_t sel;        /* out-of-order receivers: a NAKed PSN to resend alone, ahead of snd_nxt */
    uint32_t ooo_hi;    /* out-of-order receiver: highest PSN placed + 1 */
    uint64_t *ooo_bits; /* bit i = PSN epsn + 1 + i arrived (ring of words) */
    uint32_t npend;
    uint32_t ooo_base; /* word index of PSN epsn + 1 in the ring */
    /* second line: the requester's sending and acknowledgement state */
    ifb_msg *head, *tail; /* messages not yet fully acknowledged, in PSN order */
    ifb_msg *snd_msg;     /* message holding snd_nxt */
    uint32_t snd_nxt, una, psn_end, max_sent;
    ifb_qp *rr_next, *pend_next;
    uint8_t rto_armed, in_rr, in_pend, win_blocked;
    /* DCQCN: reaction point (requester); the NIC skips the QP until next_tx */
    uint8_t in_thr, in_plist; /* in the NIC's throttled heap / a paused-priority list */
    uint8_t limited;          /* a rate limiter is active (after the first CNP) */
    uint8_t cnp_any;          /* DCQCN notification point (responder) */
    ifb_time last_progress;
    ifb_time ready_at; /* activation time (doorbell + NIC latency) while pending */
    uint64_t retx;
    struct ifb_ooo_pend *pend; /* messages whose last packet arrived early, in PSN order */
    size_t pend_cap;
    ifb_time cnp_last;
    uint8_t inc_armed, dec_armed, dec_pending, cnp_in_period;
    uint32_t t_stage, bc_stage;
    uint64_t rc, rt; /* current and target rate, bits/s */
    double alpha;
    ifb_time alpha_t; /* alpha is current as of this time */
    ifb_time inc_deadline, last_dec, next_tx;
    ifb_time pace_base; /* the last packet's slot start: next_tx = it + wire / RC */
    uint32_t pace_wire, thr_idx;
    uint64_t bc_bytes;
    uint32_t nto;     /* consecutive retransmission timeouts without progress */
    uint32_t sel_psn; /* the PSN `sel` resends */
    /* out-of-order receiver (ooo.c): per 64-PSN word of the window, the earliest arrival of the
     * packets placed in it (after the bits, one block); when the hole at epsn opened (the first
     * packet beyond it arrived; IFB_TIME_NEVER: no hole), when it was last NAKed, and the
     * hole timer */
    ifb_time *ooo_t;
    ifb_time hole_t, nak_at, reo_at;
    uint8_t reo_armed;
};

struct ifb_nic {
    ifb_fabric *f;
    int host;
    ifb_port *port;
    ifb_qp **qps;
    uint32_t nqps, qps_cap;
    ifb_qp *rr_tail; /* circular list of QPs with packets to send */
    ifb_qp *pend_head, *pend_tail;
    uint8_t wake_armed;
    /* DCQCN: QPs waiting for their rate limiter (min-heap on next_tx) */
    ifb_qp **thr;
    uint32_t nthr, thr_cap;
    ifb_time thr_wake_at;       /* earliest armed wake-up, IFB_TIME_NEVER if none */
    ifb_qp *plist[IFB_NQUEUES]; /* QPs of a paused priority (linked through rr_next) */
    uint64_t ai, hai;           /* DCQCN increase steps at this NIC's rate */
};

#define IFB_LIVE_ALL UINT32_MAX

typedef struct ifb_conn {
    uint64_t key;
    ifb_qp **qps;
    uint32_t nqp, next;
} ifb_conn;

typedef struct ifb_ooo_pend {
    uint32_t psn;
    uint64_t msg;
} ifb_ooo_pend;

struct ifb_fabric {
    ifb_sim *sim;
    uint64_t *qhist;        /* every switch port's occupancy histogram, one block */
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
    struct ifb_int *intm; /* INT state (net/int.c), NULL when off */
    uint64_t pkt_seq, msg_seq;
    ifb_time last_done;
    ifb_time reorder_wnd, renak_wnd; /* out-of-order receivers (ooo.c): when a hole is a loss */
    /* connections: open addressing on key */
    ifb_conn *conns;
    size_t nconns, conns_cap;
    /* NVLink crossbar: per-GPU serializer free times */
    ifb_time *nvl_tx_free, *nvl_rx_free;
    /* outputs */
    ifb_msg_rec *recs;
    size_t nrecs, recs_cap;
    uint64_t *samples;
    size_t nsamples, samples_cap;
    uint8_t sampler_armed;
    /* lossless Ethernet */
    uint8_t pfc_mask;                   /* priorities PFC acts on (0 when off) */
    uint8_t ecn_deq_mask, ecn_enq_mask; /* queues marking at dequeue / enqueue */
    ifb_rate_sample *rsamples;
    size_t nrsamples, rsamples_cap;
    /* failures (failure.c): NULL until a link first goes down, so normal runs skip it all */
    struct ifb_fail_state *fail;
    uint64_t *gp;            /* delivered goodput per cfg.goodput_bin, bytes */
    const uint8_t *gp_hosts; /* receivers counted (per host), NULL = all */
    size_t ngp, gp_cap;
};

/* lb.c: picks the member of ECMP group g for packet pk at switch sw (default: 5-tuple hash). */
int ifb_lb_select(ifb_switch *sw, const ifb_topo_group *g, const ifb_pkt *pk);
uint32_t ifb_flow_hash(const ifb_switch *sw, const ifb_pkt *pk);
/* port.c */
void ifb_port_kick(ifb_port *p);
void ifb_port_enqueue(ifb_port *p, ifb_pkt *pk);
void ifb_switch_receive(ifb_switch *sw, ifb_port *in, ifb_pkt *pk);
void ifb_port_queue_change(ifb_port *p, ifb_time now);
/* IB: the packet left the receive buffer of port `in` (forwarded or consumed): its credits go
 * back to the transmitter at the other end of the link, arriving after the link delay. */
void ifb_port_return_credits(ifb_port *in, const ifb_pkt *pk);
/* nic.c */
ifb_pkt *ifb_nic_next(ifb_nic *nic);
void ifb_nic_receive(ifb_nic *nic, ifb_pkt *pk);
void ifb_nic_post(ifb_nic *nic, ifb_qp *qp, ifb_msg *m);
ifb_qp *ifb_nic_new_qp(ifb_nic *nic);
/* nic.c: an ACK or NAK for psn from qp's NIC (on the control queue) */
void ifb_nic_send_ctrl(ifb_nic *nic, ifb_qp *qp, ifb_pkt_kind kind, uint32_t psn);
/* ooo.c: a data packet for qp at an out-of-order receiver; qp's receive state cleared (its
 * requester failed); the reorder window and re-NAK interval for fabric f */
void ifb_ooo_receive(ifb_nic *nic, ifb_qp *qp, const ifb_pkt *pk);
void ifb_ooo_reset(ifb_fabric *f, ifb_qp *qp);
void ifb_ooo_bounds(const ifb_fabric *f, ifb_time *reorder, ifb_time *renak);
/* nic.c: a PFC resume of priority prio at the NIC's port */
void ifb_nic_unpause(ifb_nic *nic, int prio);
/* nic.c: qp's rate changed: re-space its next packet at the new rate (the limiter's gap) */
void ifb_nic_repace(ifb_nic *nic, ifb_qp *qp);
/* pfc.c */
uint64_t ifb_pfc_need(const ifb_fabric *f, const ifb_port *p);
int ifb_pfc_admit(ifb_switch *sw, ifb_port *in, ifb_pkt *pk);
void ifb_pfc_release(ifb_switch *sw, ifb_pkt *pk);
void ifb_pfc_receive(ifb_port *p, ifb_pkt *pk);
/* pfc.c: schedules the misbehaving NICs of cfg.pfc_storms */
void ifb_pfc_start_storms(ifb_fabric *f);
/* pfc.c: the pfc-state invariant (--check): XOFF state agrees with priority-group occupancy */
int ifb_pfc_check_state(const ifb_fabric *f, char *msg, size_t cap);
/* dcqcn.c */
void ifb_dcqcn_on_cnp(ifb_fabric *f, ifb_qp *qp);
void ifb_dcqcn_on_send(ifb_fabric *f, ifb_qp *qp, uint32_t wire);
void ifb_dcqcn_resume(ifb_fabric *f, ifb_qp *qp);
/* int.c */
int ifb_int_setup(ifb_fabric *f, ifb_err *e);
void ifb_int_free(ifb_fabric *f);
/* a switch dequeued pk for egress port p: INT source, hop push and sink as configured */
void ifb_int_egress(ifb_port *p, ifb_pkt *pk);
/* the destination NIC received an INT packet (sink at the NIC) */
void ifb_int_nic_sink(ifb_nic *nic, ifb_pkt *pk);
/* a probe arrived at switch sw: returns 1 if sw is its destination ToR and took it in */
int ifb_int_probe_arrives(ifb_switch *sw, ifb_pkt *pk);
/* a NIC built data packet pk: INT header when the NIC is the source (before its wire size) */
void ifb_int_nic_source(ifb_fabric *f, ifb_pkt *pk);
/* lb.c, INT-driven routing: whether any queue routes on INT, and the path figure (bytes) a sink
 * sends back to the source switch, applied after `delay`; returns 1 if it was sent (updates are
 * rate-limited per path). */
int ifb_lb_int_wanted(const ifb_fabric *f);
int ifb_lb_int_feedback(ifb_fabric *f, int src_sw, int dst_sw, int port, uint32_t fig,
                        ifb_time delay);
/* fabric.c */
ifb_pkt *ifb_fabric_new_pkt(ifb_fabric *f);
void ifb_fabric_free_pkt(ifb_fabric *f, ifb_pkt *pk);
void ifb_fabric_drop_pkt(ifb_fabric *f, ifb_port *at, ifb_pkt *pk);
/* fabric.c: pk was sent to a queue port p does not have (an InfiniBand VL at or above
 * cfg.ib_vls): dropped, counted, and the run stops with the queue-exists invariant */
void ifb_fabric_no_queue(ifb_fabric *f, ifb_port *p, ifb_pkt *pk);
static inline int ifb_queue_missing(const ifb_fabric *f, const ifb_pkt *pk)
{
    return f->ib && pk->tc >= f->cfg.ib_vls;
}
void ifb_fabric_msg_delivered(ifb_fabric *f, ifb_msg *m);
/* fabric.c: m completes in error (its QP exhausted its retries): callback with failed = 1 */
void ifb_fabric_msg_failed(ifb_fabric *f, ifb_msg *m);
/* failure.c: forwarding once a link has failed (live members only, black hole before
 * detection) and the goodput series; nic.c: the NIC's link changed state */
void ifb_fail_forward(ifb_switch *sw, ifb_port *in, const ifb_topo_group *g, ifb_pkt *pk);
void ifb_goodput_add(ifb_fabric *f, int host, uint64_t bytes);
void ifb_fail_free(ifb_fabric *f);
void ifb_nic_link_change(ifb_nic *nic, int up);

#endif
