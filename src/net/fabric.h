/* The packet-level fabric: ports with per-class egress queues, links, switches with a shared
 * buffer, and NICs running the RoCEv2 RC transport, instantiated from a topology description.
 * It implements the message API (net/net.h): messages between GPUs on one server cross the
 * NVLink crossbar model, others go through each GPU's affine NIC as RDMA WRITEs.
 *
 * Left out here (see the lossless and data-plane modules): PFC, ECN/DCQCN, adaptive routing,
 * INT. The NVLink crossbar is a message-level model (per-GPU egress and ingress serializers). */
#ifndef IFB_FABRIC_H
#define IFB_FABRIC_H
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"
#include "core/sim.h"
#include "net/net.h"
#include "net/pkt.h"
#include "topo/topo.h"

#define IFB_NQUEUES 8

typedef enum ifb_sched_kind { IFB_SCHED_STRICT = 0, IFB_SCHED_DWRR = 1 } ifb_sched_kind;

typedef enum ifb_lb_mode {
    IFB_LB_ECMP = 0, /* per-flow hash of the 5-tuple (RoCEv2 entropy = UDP source port) */
    IFB_LB_COUNT
} ifb_lb_mode;

/* How one workload traffic class is carried. */
typedef struct ifb_class_cfg {
    uint8_t dscp;
    uint8_t queue; /* egress queue / priority 0..7 */
} ifb_class_cfg;

typedef struct ifb_queue_cfg {
    uint8_t sched;   /* ifb_sched_kind */
    uint32_t weight; /* DWRR weight (quantum = weight x MTU-sized frame) */
} ifb_queue_cfg;

typedef struct ifb_fabric_cfg {
    ifb_l2 l2;
    uint32_t mtu;               /* payload bytes per packet */
    int vlan;                   /* carry an 802.1Q tag (PCP = queue) */
    ifb_time nic_tx_latency;    /* doorbell to first bit on the wire */
    ifb_time nic_rx_latency;    /* last bit in to data placed */
    ifb_time switch_latency;    /* port to port */
    int cut_through;            /* latency counted from the first bit (else from the last) */
    uint64_t switch_buffer;     /* shared buffer bytes per switch */
    double dt_alpha;            /* dynamic-threshold alpha for every egress queue */
    int qps_per_conn;           /* QPs per (src GPU, dst GPU, class); messages round-robin */
    uint32_t ack_every;         /* ACK coalescing: one ACK per this many packets (and at message end) */
    ifb_time rto;               /* retransmission timeout */
    uint32_t window;            /* max packets in flight per QP, 0 = unlimited */
    ifb_lb_mode lb;
    ifb_class_cfg tclass[IFB_TC_COUNT];
    ifb_queue_cfg queue[IFB_NQUEUES];
    uint8_t ctrl_queue;         /* queue for ACK/NAK/CNP */
    ifb_time sample_interval;   /* port utilization sampling, 0 = off */
    int record_messages;        /* keep a record per message for the outputs */
} ifb_fabric_cfg;

/* Defaults: RoCEv2, 4096 B MTU, no VLAN, 1 us NIC latency each way... documented in
 * docs/scenario.md. */
void ifb_fabric_cfg_default(ifb_fabric_cfg *c);

typedef struct ifb_fabric ifb_fabric;

typedef struct ifb_port_stats {
    uint64_t tx_bytes;    /* wire bytes transmitted */
    uint64_t tx_pkts;
    uint64_t tx_payload;  /* payload bytes of data packets transmitted */
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
    uint64_t pkts_created;   /* every packet a NIC or switch created (data, ACK, NAK, CNP, PFC) */
    uint64_t pkts_consumed;  /* packets that reached their destination and were freed */
    uint64_t pkts_dropped;
    uint64_t data_pkts_sent; /* data packets put on the wire by NICs, retransmissions included */
    uint64_t retx_pkts;
    uint64_t timeouts;
    uint64_t naks;
    uint64_t msgs_posted, msgs_done;
    uint64_t nvlink_msgs;
} ifb_fabric_counters;

int ifb_fabric_create(ifb_fabric **out, ifb_sim *sim, const ifb_topo *topo,
                      const ifb_fabric_cfg *cfg, ifb_err *e);
void ifb_fabric_destroy(ifb_fabric *f);
ifb_net *ifb_fabric_net(ifb_fabric *f);
const ifb_fabric_counters *ifb_fabric_counts(const ifb_fabric *f);

/* Packets currently inside the fabric, found by walking every queue, link and NIC
 * (independent of the counters, so the conservation check means something). */
uint64_t ifb_fabric_inflight(const ifb_fabric *f);
/* 0 if created == consumed + dropped + in flight, else -1 with a message. */
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
uint64_t ifb_fabric_qp_retx(const ifb_fabric *f, size_t *nqps, const uint64_t **per_qp);
/* Time at which the last message completed. */
ifb_time ifb_fabric_last_done(const ifb_fabric *f);

/* Capture every frame leaving the given topology ports to a pcap file (net/pcap.h). */
struct ifb_pcap;
void ifb_fabric_capture(ifb_fabric *f, int port, struct ifb_pcap *pcap);

#endif
