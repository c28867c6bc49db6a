/* The fabric's configuration as plain data: what every component of the packet-level fabric
 * reads (queues and scheduling, classes, ECN, PFC, DCQCN, InfiniBand, INT, failures), with the
 * parameter types of the parts that need their own (the DCQCN profile values, the InfiniBand VL
 * arbitration tables). Values and defaults: ifb_fabric_cfg_default (net/fabric/fabric.h) and
 * docs/scenario.md. Nothing here runs: the state machines live in the components named beside
 * each field. Left out: per-switch or per-port configuration (one value for the whole fabric,
 * except where a per-port array is given). */
#ifndef IFB_NET_BASE_CFG_H
#define IFB_NET_BASE_CFG_H
#include <stdint.h>

#include "core/time.h"
#include "net/net.h"
#include "net/wire/pkt.h"

/* The fabric (net/base/ctx.h); the public API only ever holds a pointer. */
typedef struct ifb_fabric ifb_fabric;

/* ---- InfiniBand VL arbitration tables (the arbiter: net/link/ib.h) --------------------------- */

#define IFB_IB_MAX_VLS 8 /* data VLs modelled; NVIDIA NICs default to 4 */
#define IFB_IB_CREDIT_BYTES 64u
#define IFB_IB_VLARB_ENTRIES 64

typedef struct ifb_vlarb_entry {
    uint8_t vl;
    uint8_t weight; /* in 64-byte units; 0 = entry unused */
} ifb_vlarb_entry;

typedef struct ifb_vlarb_cfg {
    ifb_vlarb_entry high[IFB_IB_VLARB_ENTRIES], low[IFB_IB_VLARB_ENTRIES];
    int nhigh, nlow;
    /* High Limit: after high_limit x 4096 bytes of high-priority data, one low-priority packet
     * may go if one is waiting; 255 = unlimited (low priority only when high is idle). */
    uint8_t high_limit;
} ifb_vlarb_cfg;

/* ---- DCQCN parameters (the reaction point: net/nic/dcqcn.c; profiles: net/nic/dcqcn.h) ------- */

typedef struct ifb_dcqcn_params {
    /* notification point (receiver) */
    ifb_time cnp_interval; /* at most one CNP per QP per interval (0: one per marked packet) */
    uint8_t cnp_dscp;      /* CNP DSCP (CNP_DSCP 48) */
    uint8_t cnp_prio;      /* CNP priority / egress queue (CNP_802P_PRIO 6), strict */
    /* reaction point (sender), per QP */
    double g;              /* alpha gain */
    double alpha_init;     /* alpha when a rate limiter is set up on the first CNP */
    ifb_time alpha_period; /* alpha update period (K; DCE_TCP_RTT) */
    uint8_t alpha_on_cnp;  /* 1: alpha += g at each CNP and the period restarts (paper);
                              0: alpha updated once per period from "a CNP came" (ConnectX) */
    ifb_time dec_period;   /* minimum time between decreases (RATE_REDUCE_MONITOR_PERIOD); 0 =
                              decrease at every CNP */
    ifb_time inc_timer;    /* rate-increase timer (RPG_TIME_RESET) */
    uint64_t inc_bytes;    /* rate-increase byte counter (RPG_BYTE_RESET), 0 = none */
    uint32_t F;            /* fast-recovery stages (RPG_THRESHOLD) */
    uint64_t rate_ai;      /* additive increase, bits/s (RPG_AI_RATE) */
    uint64_t rate_hai;     /* hyper increase, bits/s (RPG_HAI_RATE) */
    uint8_t scale_ai;      /* 1: rate_ai and rate_hai are per 25 Gb/s of NIC rate (HPCC ns-3) */
    uint64_t min_rate;     /* bits/s (RPG_MIN_RATE) */
    double max_dec;        /* largest fractional decrease per event (RPG_MIN_DEC_FAC 50 %) */
    double first_rate;     /* rate set on the first CNP, fraction of line rate (0 = line rate) */
    uint8_t clamp_target;  /* 1: RT <- RC at every decrease; 0: only after an increase */
} ifb_dcqcn_params;

/* ---- The fabric ------------------------------------------------------------------------------ */

#define IFB_NQUEUES 8

typedef enum ifb_sched_kind { IFB_SCHED_STRICT = 0, IFB_SCHED_DWRR = 1 } ifb_sched_kind;

struct ifb_lb_cfg;

/* ifb_class_cfg.ooo: whether the class's receivers place out of order. */
enum { IFB_OOO_INHERIT = 0, IFB_OOO_OFF = 1, IFB_OOO_ON = 2 };

/* How one workload traffic class is carried. */
typedef struct ifb_class_cfg {
    uint8_t dscp;
    uint8_t queue; /* egress queue / priority 0..7 (RoCEv2) */
    uint8_t sl;    /* InfiniBand service level 0..15; the VL is ib_sl2vl[sl] */
    uint8_t ooo;   /* IFB_OOO_*: the class's QPs place out of order; INHERIT: cfg.ooo */
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

/* cfg.reorder_window value asking for the bound derived from the fabric (net/nic/ooo.c). */
#define IFB_REORDER_AUTO IFB_TIME_NEVER

/* cfg.pfc_headroom value asking for the mlx5 driver formula per port (net/switch/pfc.h). */
#define IFB_PFC_AUTO UINT64_MAX

/* In-band network telemetry, INT-MD over UDP (net/switch/int.h). */
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

/* InfiniBand adaptive routing as NVIDIA's switches and subnet manager run it (net/switch/ib_ar.h):
 * the load_balancing mode `ar` on the SLs of sl_mask (OpenSM ar_sl_mask), SHIELD (fast link
 * fault recovery and fault notifications to upstream switches) and adaptive routing
 * notifications. */
typedef struct ifb_ib_ar_cfg {
    uint16_t sl_mask;       /* SLs routed adaptively (bit s); the others by the LFT (d-mod-k) */
    uint8_t shield;         /* FLFR at the switch, FLFN/pFRN to upstream switches */
    uint8_t arn;            /* adaptive routing notifications from a congested switch */
    uint64_t arn_threshold; /* bytes queued at an egress port above which a switch notifies */
    ifb_time arn_life;      /* how long a notified switch avoids the port for that destination */
    ifb_time fault_detect;  /* a link's failure to the switch at its end knowing of it */
} ifb_ib_ar_cfg;

/* InfiniBand congestion control (IBA annex A10; net/switch/ibcc.c, net/nic/ibcc.c): switches
 * mark FECN above a queue threshold, the destination returns BECN, the source's CCTI indexes
 * the congestion control table of inter-packet delays; parameters per SL as OpenSM sets them. */
#define IFB_IBCC_CCT_MAX 128
typedef struct ifb_ibcc_cfg {
    int on;
    uint16_t sl_mask;      /* SLs whose QPs react (CACongestionSetting control_map) */
    uint8_t threshold;     /* 1..15 (0 = no marking): marking above (16 - t) / 16 of a VL buffer */
    uint16_t marking_rate; /* packets between two marks while above threshold (0: every one) */
    uint16_t packet_size;  /* smallest packet marked, in 64-byte credits */
    /* per SL (CACongestionSetting entries): */
    ifb_time ccti_timer[16];    /* CCTI decrements by one each period (1.024 us units in OpenSM) */
    uint16_t ccti_increase[16]; /* added to the CCTI per BECN */
    uint16_t ccti_min[16];      /* the CCTI never goes below */
    uint16_t ccti_limit;        /* ... nor above: the last CCT entry used */
    int ncct;
    uint16_t cct[IFB_IBCC_CCT_MAX]; /* entries: shift (2 bits) : multiplier (14 bits) */
} ifb_ibcc_cfg;

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
    const struct ifb_lb_cfg *lb; /* path selection (net/switch/lb.h); NULL: per-flow ECMP */
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
    ifb_time reorder_window; /* OOO: a hole open this long is a loss (net/nic/ooo.c); AUTO: the
                              * bound on the paths' delay difference */
    /* InfiniBand (l2 = IFB_L2_IB) */
    int ib_vls;             /* data VLs, 1..8 (NVIDIA default 4) */
    uint64_t ib_vl_buffer;  /* receive buffer per (port, VL), bytes; credits = this / 64 */
    uint8_t ib_sl2vl[16];   /* SL -> VL */
    ifb_vlarb_cfg ib_vlarb; /* VL arbitration tables */
    ifb_ib_ar_cfg ib_ar;    /* adaptive routing (load_balancing mode `ar`) */
    ifb_ibcc_cfg ib_cc;     /* congestion control (off by default) */
    /* PFC storm faults (misbehaving NICs) and the switches' PFC watchdog (net/switch/pfc.c) */
    const struct ifb_pfc_storm *pfc_storms;
    int npfc_storms;
    ifb_time pfcwd_detect;  /* paused this long: the queue ignores pause and drops; 0 = off */
    ifb_time pfcwd_restore; /* no pause frame for this long: back to normal */
    /* Link failures (net/fail/failure.h) */
    uint32_t retry_cnt;      /* timeouts in a row a QP retries before its messages fail */
    ifb_time fail_detection; /* link state change to every switch's routing reacting */
    ifb_time goodput_bin;    /* delivered-goodput series bin, 0 = off (failures turn it on) */
} ifb_fabric_cfg;

/* Whether class t's receivers place out of order (an OOO QP is a per-QP attribute of the HCA,
 * so classes can differ: the KV transfer engine's QPs and DeepEP's need not agree). */
static inline int ifb_class_ooo(const ifb_fabric_cfg *c, int t)
{
    return c->tclass[t].ooo ? c->tclass[t].ooo == IFB_OOO_ON : c->ooo;
}

/* A NIC that sends PFC XOFF on one priority toward its switch from `start` for `duration`
 * (a stuck NIC or driver: the classic pause storm). */
typedef struct ifb_pfc_storm {
    int host; /* topology host (NIC) index */
    int prio;
    ifb_time start, duration;
} ifb_pfc_storm;

#endif
