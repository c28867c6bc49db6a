/* The packet-level fabric: ports with per-class egress queues, links, switches with a shared
 * buffer, and NICs running the RoCEv2 RC transport, instantiated from a topology description.
 * It implements the message API (net/net.h): messages between GPUs on one server cross the
 * NVLink crossbar model, others go through each GPU's affine NIC as RDMA WRITEs.
 *
 * Lossless Ethernet (net/pfc.c, net/dcqcn.c): RED-like ECN marking per egress queue, 802.1Qbb
 * PFC with per (ingress port, priority) shared-buffer accounting, and DCQCN at the NICs.
 *
 * Path selection, INT and failures live in net/lb.c, net/int.c and net/failure.c. NICs honour PFC
 * but never send it (their receive buffer is infinite), except the misbehaving NICs of
 * cfg.pfc_storms. The NVLink crossbar is a message-level model (per-GPU egress and ingress
 * serializers). */
#ifndef IFB_FABRIC_H
#define IFB_FABRIC_H
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"
#include "core/sim.h"
#include "net/dcqcn.h"
#include "net/ib.h"
#include "net/net.h"
#include "net/pkt.h"
#include "topo/topo.h"

#define IFB_NQUEUES 8

typedef enum ifb_sched_kind { IFB_SCHED_STRICT = 0, IFB_SCHED_DWRR = 1 } ifb_sched_kind;

struct ifb_lb_cfg;

/* How one workload traffic class is carried. */
typedef struct ifb_class_cfg {
    uint8_t dscp;
    uint8_t queue; /* egress queue / priority 0..7 (RoCEv2) */
    uint8_t sl;    /* InfiniBand service level 0..15; the VL is ib_sl2vl[sl] */
    uint16_t qps;  /* QPs per (source GPU, destination GPU) of this class; 0 = qps_per_conn */
} ifb_class_cfg;

typedef struct ifb_queue_cfg {
    uint8_t sched;     /* ifb_sched_kind */
    uint32_t weight;   /* DWRR weight (quantum = weight x MTU-sized frame) */
    uint8_t lossless;  /* PFC pauses this priority instead of dropping (when cfg.pfc is on) */
    uint8_t ecn;       /* RED-like ECN marking of ECT packets on this queue */
    uint64_t ecn_kmin; /* bytes queued below which nothing is marked */
    uint64_t ecn_kmax; /* bytes queued above which every ECT packet is marked */
    double ecn_pmax;   /* marking probability at kmax (linear from 0 at kmin) */
} ifb_queue_cfg;

/* cfg.reorder_window value asking for the bound derived from the fabric (net/ooo.c). */
#define IFB_REORDER_AUTO IFB_TIME_NEVER

/* cfg.pfc_headroom value asking for the mlx5 driver formula per port (net/pfc.h). */
#define IFB_PFC_AUTO UINT64_MAX

/* In-band network telemetry, INT-MD over UDP (net/int.h). */
typedef struct ifb_int_cfg {
    int on;
    uint8_t queues;          /* egress queues whose data packets carry INT (bit q = queue q) */
    uint8_t max_hops;        /* hop records one packet carries at most, 1..IFB_INT_MAX_HOPS */
    uint8_t source_nic;      /* the sending NIC inserts the INT header (else the first switch) */
    uint8_t sink_nic;        /* the receiving NIC strips it and reports (else the last switch) */
    uint32_t report_every;   /* the sink reports one INT packet in this many (1 = every one) */
    ifb_time util_interval;  /* egress tx-utilization sampling period for the hop record */
    ifb_time feedback_age;   /* INT-driven routing forgets a remote path figure this old */
    uint64_t path_margin;    /* bytes a path must be worse than the best before it is avoided */
    uint32_t eth_mtu;        /* largest Ethernet frame, FCS included: the INT stack must fit */
    ifb_time probe_interval; /* every ToR probes every path to every other ToR this often; 0 off */
    int8_t probe_queue;      /* egress queue of the probes; -1: the expert all-to-all class's */
} ifb_int_cfg;

typedef struct ifb_fabric_cfg {
    ifb_l2 l2;
    uint32_t mtu;            /* payload bytes per packet */
    int vlan;                /* carry an 802.1Q tag (PCP = queue) */
    ifb_time nic_tx_latency; /* doorbell to first bit on the wire */
    ifb_time nic_rx_latency; /* last bit in to data placed */
    ifb_time switch_latency; /* port to port */
    int cut_through;         /* latency counted from the first bit (else from the last) */
    uint64_t switch_buffer;  /* shared buffer bytes per switch */
    double dt_alpha;         /* dynamic-threshold alpha for every egress queue */
    int qps_per_conn;        /* QPs per (src GPU, dst GPU, class); messages round-robin */
    uint32_t ack_every; /* ACK coalescing: one ACK per this many packets (and at message end) */
    ifb_time rto;       /* retransmission timeout */
    uint32_t window;    /* max packets in flight per QP, 0 = unlimited */
    const struct ifb_lb_cfg *lb; /* path selection (net/lb.h); NULL: per-flow ECMP */
    ifb_int_cfg intc;            /* INT (off by default) */
    ifb_class_cfg tclass[IFB_TC_COUNT];
    ifb_queue_cfg queue[IFB_NQUEUES];
    uint8_t ctrl_queue;       /* queue for ACK/NAK/CNP */
    ifb_time sample_interval; /* port utilization sampling, 0 = off */
    uint32_t queue_bin;       /* queue occupancy histogram: bin width in bytes */
    uint32_t queue_bins;      /* number of bins (the last is open-ended), 0 = off */
    int record_messages;      /* keep a record per message for the outputs */
    /* ECN (per queue settings in queue[]) */
    int ecn_at_enqueue; /* mark when a packet is queued (default: when it leaves) */
    /* PFC (802.1Qbb), lossless queues in queue[] */
    int pfc;                    /* on: lossless queues pause instead of dropping */
    uint8_t pfc_prios;          /* priorities PFC acts on; 0 = every lossless queue */
    uint64_t pfc_headroom;      /* bytes per (switch port, lossless priority); IFB_PFC_AUTO */
    uint64_t pfc_reserved;      /* bytes reserved per (ingress port, lossless priority) */
    double pfc_alpha;           /* dynamic shared threshold: alpha x free shared buffer */
    uint64_t pfc_xoff;          /* static shared threshold per PG instead (0 = dynamic) */
    uint64_t pfc_xon;           /* static resume threshold (with pfc_xoff) */
    uint64_t pfc_xon_offset;    /* dynamic: resume once shared use + offset <= threshold */
    uint16_t pfc_quanta;        /* pause time in XOFF frames, quanta of 512 bit times */
    ifb_time pfc_storm_time;    /* paused continuously this long: a pause storm (counted) */
    ifb_time pfc_deadlock_time; /* paused continuously this long: stop the run (0 = never) */
    /* DCQCN */
    int dcqcn;                     /* on: NICs send CNPs and rate-limit QPs */
    ifb_dcqcn_params dcqcn_p;      /* profile values (ifb_dcqcn_profile) with overrides */
    ifb_time rate_sample_interval; /* per-QP rate trace, 0 = off */
    /* Receiver: out-of-order placement (ConnectX-5 and later; needed for spray and IB adaptive
     * routing). Off: classic go-back-N, a packet out of sequence is dropped and NAKed. */
    const double *port_loss; /* per topology port: probability a frame it sends is corrupted
                              * (FCS error, discarded by the receiver); NULL = none */
    int ooo;
    uint32_t ooo_window;     /* packets beyond the expected PSN a QP can place */
    ifb_time reorder_window; /* OOO: a hole open this long is a loss (net/ooo.c); AUTO: the
                              * bound on the paths' delay difference */
    /* InfiniBand (l2 = IFB_L2_IB) */
    int ib_vls;             /* data VLs, 1..8 (NVIDIA default 4) */
    uint64_t ib_vl_buffer;  /* receive buffer per (port, VL), bytes; credits = this / 64 */
    uint8_t ib_sl2vl[16];   /* SL -> VL */
    ifb_vlarb_cfg ib_vlarb; /* VL arbitration tables */
    /* PFC storm faults (misbehaving NICs) and the switches' PFC watchdog (net/pfc.c) */
    const struct ifb_pfc_storm *pfc_storms;
    int npfc_storms;
    ifb_time pfcwd_detect;  /* paused this long: the queue ignores pause and drops; 0 = off */
    ifb_time pfcwd_restore; /* no pause frame for this long: back to normal */
    /* Link failures (net/failure.h) */
    uint32_t retry_cnt;      /* timeouts in a row a QP retries before its messages fail */
    ifb_time fail_detection; /* link state change to every switch's routing reacting */
    ifb_time goodput_bin;    /* delivered-goodput series bin, 0 = off (failures turn it on) */
} ifb_fabric_cfg;

/* A NIC that sends PFC XOFF on one priority toward its switch from `start` for `duration`
 * (a stuck NIC or driver: the classic pause storm). */
typedef struct ifb_pfc_storm {
    int host; /* topology host (NIC) index */
    int prio;
    ifb_time start, duration;
} ifb_pfc_storm;

/* Defaults: RoCEv2, 4096 B MTU, no VLAN, 1 us NIC latency each way... documented in
 * docs/scenario.md. */
void ifb_fabric_cfg_default(ifb_fabric_cfg *c);

typedef struct ifb_fabric ifb_fabric;

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

int ifb_fabric_create(ifb_fabric **out, ifb_sim *sim, const ifb_topo *topo,
                      const ifb_fabric_cfg *cfg, ifb_err *e);
void ifb_fabric_destroy(ifb_fabric *f);
ifb_net *ifb_fabric_net(ifb_fabric *f);
const ifb_fabric_counters *ifb_fabric_counts(const ifb_fabric *f);

/* Packets currently inside the fabric, found by walking every queue, link and NIC
 * (independent of the counters, so the conservation check means something). */
uint64_t ifb_fabric_inflight(const ifb_fabric *f);
/* 0 if created == consumed + dropped + in flight, and no packet in flight is stuck where it can
 * never move (an InfiniBand VL the fabric does not have; anywhere, once the run has ended by
 * itself), else -1 with a message. */
int ifb_fabric_check_conservation(const ifb_fabric *f, char *msg, size_t cap);

/* Per-port statistics; ports are numbered as in the topology (ifb_topo.ports). */
int ifb_fabric_nports(const ifb_fabric *f);
const ifb_port_stats *ifb_fabric_port_stats(const ifb_fabric *f, int port);
uint64_t ifb_fabric_port_rate(const ifb_fabric *f, int port);
const ifb_topo *ifb_fabric_topo(const ifb_fabric *f);
/* Messages recorded (cfg.record_messages). */
const ifb_msg_rec *ifb_fabric_messages(const ifb_fabric *f, size_t *n);
/* Utilization samples: for each sample k and port p, bytes sent in that interval. */
const uint64_t *ifb_fabric_util_samples(const ifb_fabric *f, size_t *nsamples);
/* Packets each QP retransmitted, QPs in host order: fills the first min(cap, count) entries of
 * per_qp (which may be NULL when cap is 0) and returns the count of QPs. */
size_t ifb_fabric_qp_retx(const ifb_fabric *f, uint64_t *per_qp, size_t cap);
/* Time at which the last message completed. */
ifb_time ifb_fabric_last_done(const ifb_fabric *f);

/* Lossless Ethernet metrics. */
const ifb_port_cc_stats *ifb_fabric_port_cc(const ifb_fabric *f, int port);
/* Paused time of the port's priority up to now, the current span included. */
ifb_time ifb_fabric_port_paused_time(const ifb_fabric *f, int port, int prio);
/* Bytes queued in the port's egress queues now. */
uint64_t ifb_fabric_port_queue_bytes(const ifb_fabric *f, int port);
/* Headroom (bytes per lossless priority) the port's ingress reserves; 0 if PFC is off. */
uint64_t ifb_fabric_port_headroom(const ifb_fabric *f, int port);
/* The (port, priority) pairs paused now for at least min_paused; fills up to cap entries and
 * returns how many there are. A pair paused longer than pfc_storm_time is a pause storm (a PFC
 * deadlock if it never ends). */
int ifb_fabric_paused_ports(const ifb_fabric *f, ifb_time min_paused, ifb_paused_port *out,
                            int cap);
/* Per-QP DCQCN rate trace (cfg.rate_sample_interval): sender QPs with data outstanding or a
 * rate limiter active, sampled at each interval. */
const ifb_rate_sample *ifb_fabric_rate_samples(const ifb_fabric *f, size_t *n);
/* Writes the trace as CSV: "time_us,host,qpn,rate_gbps". Returns 0, or -1 on a write error. */
int ifb_fabric_write_rate_csv(const ifb_fabric *f, FILE *out);
/* Current DCQCN rate of QP qpn on host (line rate without a limiter, 0 if no such QP). */
uint64_t ifb_fabric_qp_rate(const ifb_fabric *f, int host, uint32_t qpn);

/* Time-weighted queue occupancy of a port: ps spent with [k*bin, (k+1)*bin) bytes queued
 * (last bin open-ended), up to the port's last queue change; NULL when off. */
const uint64_t *ifb_fabric_queue_hist(const ifb_fabric *f, int port, uint32_t *nbins,
                                      uint32_t *bin_bytes);

/* InfiniBand: the most 64-byte credits any switch receive buffer (port, VL) ever held, and the
 * credits each one has; the first never exceeds the second. */
uint32_t ifb_fabric_ib_max_held(const ifb_fabric *f);
uint32_t ifb_fabric_ib_credits(const ifb_fabric *f);

/* Capture every frame leaving the given topology ports to a pcap file (net/pcap.h). */
struct ifb_pcap;
void ifb_fabric_capture(ifb_fabric *f, int port, struct ifb_pcap *pcap);

#endif
