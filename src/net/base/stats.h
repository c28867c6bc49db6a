/* What the fabric counts and reports, as plain data: per-port statistics, the fabric-wide
 * counters, per-port congestion-control counters, message records, paused ports and DCQCN rate
 * samples. Every component adds to these; the accessors are in net/fabric/fabric.h. */
#ifndef IFB_NET_BASE_STATS_H
#define IFB_NET_BASE_STATS_H
#include <stdint.h>

#include "core/time.h"
#include "net/base/cfg.h"

typedef struct ifb_port_stats {
    uint64_t tx_bytes; /* wire bytes transmitted */
    uint64_t tx_pkts;
    uint64_t tx_payload; /* payload bytes of data packets transmitted */
    uint64_t drops;
    uint64_t drop_bytes;
    uint64_t max_queue;   /* peak queued bytes across the port's queues */
    double queue_byte_ps; /* integral of queued bytes over time (bytes x ps) */
    ifb_time last_change;
} ifb_port_stats;

typedef struct ifb_msg_rec {
    uint64_t id;
    int src, dst, tclass;
    uint64_t bytes;
    ifb_time start, done;
} ifb_msg_rec;

typedef struct ifb_fabric_counters {
    uint64_t pkts_created;  /* every packet a NIC or switch created (data, ACK, NAK, CNP, PFC) */
    uint64_t pkts_consumed; /* packets that reached their destination and were freed */
    uint64_t pkts_dropped;
    uint64_t ib_credit_violations; /* a receive buffer held more than its credits (never) */
    uint64_t ooo_placed;           /* packets placed out of order */
    uint64_t fcs_drops;            /* frames corrupted on a lossy link and discarded */
    uint64_t data_pkts_sent; /* data packets put on the wire by NICs, retransmissions included */
    uint64_t retx_pkts;
    uint64_t timeouts;
    uint64_t naks;
    uint64_t msgs_posted, msgs_done;
    uint64_t msgs_failed; /* completed with info.failed set (destination unreachable) */
    uint64_t nvlink_msgs;
    uint64_t ecn_marks; /* packets marked CE by switches */
    uint64_t cnps_sent, cnps_rcvd;
    uint64_t pfc_xoff_sent;  /* PFC frames pausing at least one priority (refreshes included) */
    uint64_t pfc_xon_sent;   /* PFC frames resuming (quanta 0) */
    uint64_t pfc_rcvd;       /* PFC frames received by any port */
    uint64_t lossless_drops; /* drops of lossless-class packets while PFC is on (headroom full) */
    uint64_t pfc_storms;     /* (port, priority) paused longer than pfc_storm_time */
    uint64_t dcqcn_decreases, dcqcn_increases;
    /* InfiniBand congestion control: packets marked FECN by switches, BECNs returned by
     * receivers and taken in by senders' QPs, the highest CCTI any QP reached */
    uint64_t fecn_marks, becns_sent, becns_rcvd;
    uint64_t ccti_max;
    uint64_t pfc_storm_frames; /* XOFF frames sent by misbehaving NICs (cfg.pfc_storms) */
    uint64_t pfcwd_storms;     /* PFC watchdog: (port, priority) storms detected */
    uint64_t pfcwd_restored;   /* ... and restored after the storm ended */
    uint64_t pfcwd_drops;      /* packets the watchdog dropped on a storming queue */
    uint64_t link_down_drops;  /* lost on a failed link: queued, being sent or on the wire */
    uint64_t unroutable_drops; /* no live member toward the destination after detection */
    uint64_t no_queue_drops;   /* sent to a queue (IB VL) that does not exist: a model bug */
    /* out-of-order receivers: the farthest a packet arrived ahead of the expected PSN, and the
     * longest a hole stayed open (from the first packet beyond it) before its original came */
    uint64_t reorder_max_psn;
    ifb_time reorder_max_time;
} ifb_fabric_counters;

/* Congestion-control counters of one port. "pause" counts XOFF frames (refreshes included),
 * "xon" frames with quanta 0, per priority. */
typedef struct ifb_port_cc_stats {
    uint64_t ecn_marks;      /* packets this egress port marked CE */
    uint64_t lossless_drops; /* lossless-class packets dropped that came in on this port */
    uint64_t pause_tx[IFB_NQUEUES], xon_tx[IFB_NQUEUES]; /* sent toward the peer */
    uint64_t pause_rx[IFB_NQUEUES], xon_rx[IFB_NQUEUES]; /* received from the peer */
    ifb_time paused[IFB_NQUEUES]; /* time this port could not send the priority (closed spans) */
    uint64_t storms;
    uint64_t credit_stalls[IFB_NQUEUES]; /* IB: times a VL ran out of credits at this port */
    ifb_time credit_stall[IFB_NQUEUES];  /* IB: time spent without credits (closed spans) */
} ifb_port_cc_stats;

/* One paused (port, priority): see ifb_fabric_paused_ports. */
typedef struct ifb_paused_port {
    int port, prio;
    ifb_time since;
} ifb_paused_port;

/* One sample of a QP's DCQCN rate (line rate while no limiter is active). */
typedef struct ifb_rate_sample {
    ifb_time t;
    int host;
    uint32_t qpn;
    uint64_t rate_bps;
} ifb_rate_sample;

#endif
