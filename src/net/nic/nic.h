/* The NIC and its RoCEv2 Reliable Connection transport, with out-of-order placement (ooo.c),
 * DCQCN (dcqcn.c), the delivered-goodput series (goodput.c) and misbehaving NICs that storm PFC
 * (storm.c). A NIC owns one port (a link port, net/link/link.h) whose events come to
 * ifb_nic_port_event, its QPs and the messages posted on them. Internal header of the
 * component: what the fabric assembly and the failure controller call. Not part of the public
 * API (that is dcqcn.h and goodput.h here). */
#ifndef IFB_NET_NIC_H
#define IFB_NET_NIC_H
#include "net/switch/switch.h"

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
    uint8_t ooo, sl; /* out-of-order placement (the class's, ifb_class_ooo); IB service level */
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
    uint32_t nto; /* consecutive retransmission timeouts without progress */
    /* InfiniBand CC (nic/ibcc.c): the congestion control table index and its timer; the
     * limiter (limited, rc, next_tx) is the one DCQCN uses on RoCE */
    uint16_t ccti;
    uint8_t cct_armed;
    uint32_t sel_psn; /* the PSN `sel` resends */
    /* out-of-order receiver (nic/ooo.c): per 64-PSN word of the window, the earliest arrival of the
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

typedef struct ifb_ooo_pend {
    uint32_t psn;
    uint64_t msg;
} ifb_ooo_pend;

/* m's last byte is placed at its destination: the message API completes it (f->msg_done, given
 * by net/fabric/msg.c); a QP that later fails must not complete it again. */
static inline void ifb_msg_delivered(ifb_fabric *f, ifb_msg *m)
{
    m->delivered = 1;
    f->msg_done(f, m, 0);
}

/* nic.c: the event handler of every NIC port (f->ev_nic); a NIC's port may send now (the
 * next frame from the control queues or the QP round robin) */
void ifb_nic_port_event(ifb_sim *sim, void *obj, uint64_t arg);
void ifb_nic_kick(ifb_nic *nic);
ifb_pkt *ifb_nic_next(ifb_nic *nic);
void ifb_nic_receive(ifb_nic *nic, ifb_pkt *pk);
void ifb_nic_post(ifb_nic *nic, ifb_qp *qp, ifb_msg *m);
ifb_qp *ifb_nic_new_qp(ifb_nic *nic);
/* nic.c: an ACK or NAK for psn from qp's NIC (on the control queue) */
void ifb_nic_send_ctrl(ifb_nic *nic, ifb_qp *qp, ifb_pkt_kind kind, uint32_t psn);
/* nic.c: a PFC resume of priority prio at the NIC's port (given to the switches' PFC as
 * f->nic_unpause, and called for a VL whose credits came back) */
void ifb_nic_unpause(ifb_nic *nic, int prio);
/* nic.c: qp's rate changed: re-space its next packet at the new rate (the limiter's gap) */
void ifb_nic_repace(ifb_nic *nic, ifb_qp *qp);
/* nic.c: the NIC's link changed state (net/fail) */
void ifb_nic_link_change(ifb_nic *nic, int up);
/* ooo.c: a data packet for qp at an out-of-order receiver; qp's receive state cleared (its
 * requester failed); the reorder window and re-NAK interval for fabric f */
void ifb_ooo_receive(ifb_nic *nic, ifb_qp *qp, const ifb_pkt *pk);
void ifb_ooo_reset(ifb_fabric *f, ifb_qp *qp);
void ifb_ooo_bounds(const ifb_fabric *f, ifb_time *reorder, ifb_time *renak);
/* ibcc.c: a BECN came back for qp (InfiniBand congestion control) */
void ifb_ibcc_becn(ifb_fabric *f, ifb_qp *qp);
/* dcqcn.c */
void ifb_dcqcn_on_cnp(ifb_fabric *f, ifb_qp *qp);
void ifb_dcqcn_on_send(ifb_fabric *f, ifb_qp *qp, uint32_t wire);
void ifb_dcqcn_resume(ifb_fabric *f, ifb_qp *qp);
/* goodput.c: bytes newly placed at a receiver, into the goodput series (cfg.goodput_bin) */
void ifb_goodput_add(ifb_fabric *f, int host, uint64_t bytes);
void ifb_goodput_free(ifb_fabric *f);
/* storm.c: schedules the misbehaving NICs of cfg.pfc_storms */
void ifb_nic_start_storms(ifb_fabric *f);

#endif
