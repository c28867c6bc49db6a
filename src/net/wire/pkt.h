/* The simulated packet. A packet is a compact record of the header fields the fabric acts
 * on, not a byte buffer: real bytes are produced only when a port is captured to pcap
 * (net/wire/wire.h). Packets come from the simulation's pool and link into FIFOs through `next`. */
#ifndef IFB_PKT_H
#define IFB_PKT_H
#include <stdint.h>

#include "core/sim.h"
#include "core/time.h"

typedef enum ifb_pkt_kind {
    IFB_PK_DATA = 0, /* RoCEv2 / IB data (WRITE or SEND segment) */
    IFB_PK_ACK,      /* RC ACK (AETH) */
    IFB_PK_NAK,      /* RC NAK, PSN sequence error */
    IFB_PK_CNP,      /* RoCEv2 congestion notification packet */
    IFB_PK_PFC,      /* 802.1Qbb priority flow control frame */
    IFB_PK_PROBE,    /* telemetry probe */
} ifb_pkt_kind;

/* BTH opcodes, RC transport (IBA table 38). */
enum {
    IFB_OP_SEND_FIRST = 0x00,
    IFB_OP_SEND_MIDDLE = 0x01,
    IFB_OP_SEND_LAST = 0x02,
    IFB_OP_SEND_ONLY = 0x04,
    IFB_OP_WRITE_FIRST = 0x06,
    IFB_OP_WRITE_MIDDLE = 0x07,
    IFB_OP_WRITE_LAST = 0x08,
    IFB_OP_WRITE_ONLY = 0x0a,
    IFB_OP_ACK = 0x11,
    IFB_OP_CNP = 0x81,
};

enum {
    IFB_ECN_NOT_ECT = 0,
    IFB_ECN_ECT1 = 1,
    IFB_ECN_ECT0 = 2,
    IFB_ECN_CE = 3,
};

/* Link-layer flavour of a packet: decides the header stack and so the bytes on the wire. */
typedef enum ifb_l2 {
    IFB_L2_ROCEV2 = 0, /* Ethernet II [+802.1Q] / IPv4 / UDP 4791 / BTH ... ICRC / FCS */
    IFB_L2_IB = 1,     /* LRH / BTH ... ICRC / VCRC */
} ifb_l2;

enum {
    IFB_PF_FIRST = 1 << 0,  /* first packet of a message (carries RETH for WRITE) */
    IFB_PF_LAST = 1 << 1,   /* last packet of a message */
    IFB_PF_ACKREQ = 1 << 2, /* BTH A bit */
    IFB_PF_VLAN = 1 << 3,   /* carries an 802.1Q tag */
    IFB_PF_FECN = 1 << 4,   /* IB forward congestion notification */
    IFB_PF_BECN = 1 << 5,   /* IB backward congestion notification */
    IFB_PF_RETX = 1 << 6,   /* a retransmission */
};

#define IFB_INT_MAX_HOPS 8

/* One INT-MD hop record as this simulator fills it (instruction bits 0,1,2,3,5,7). */
typedef struct ifb_int_hop { /* ordered to pack into 32 bytes: it rides in every INT packet */
    uint32_t node_id;
    uint16_t in_port, out_port;
    uint32_t hop_latency_ns;
    uint32_t queue_occ; /* bytes, 24 bits on the wire (in 80-byte cells if larger) */
    uint64_t egress_ts_ns;
    uint32_t tx_util_ppm; /* egress utilization, parts per million */
    uint8_t queue_id;
} ifb_int_hop;

typedef struct ifb_pkt {
    /* first cache line: what every hop reads (queues, links, switch forwarding, NIC receive) */
    struct ifb_pkt *next;
    ifb_time t;        /* time the packet is due at the head of the FIFO it sits in */
    ifb_time enq_t;    /* time it entered the current queue (hop latency, INT) */
    uint32_t wire;     /* bytes occupied on the wire, preamble and IFG included */
    uint32_t src, dst; /* fabric host (NIC port) indices */
    uint32_t dqpn;
    uint32_t psn;     /* 24-bit PSN for data; for ACK/NAK the acknowledged/expected PSN */
    uint32_t payload; /* payload bytes */
    uint16_t sport;   /* RoCEv2 UDP source port (ECMP entropy) */
    uint16_t in_port; /* ingress port at the current switch */
    uint8_t kind;     /* ifb_pkt_kind */
    uint8_t l2;       /* ifb_l2 */
    uint8_t tc;       /* traffic class = queue index 0..7 (802.1p PCP / IB VL) */
    uint8_t ecn;
    uint8_t flags;
    uint8_t hops;     /* switches traversed */
    uint8_t int_n;    /* INT hop records carried (0 = no INT header) */
    uint8_t int_on;   /* INT header present */
    uint32_t int_fig; /* INT: worst transit-hop figure pushed so far (switch/int.c), bytes */
    /* second line: the ends and the wire encoder */
    uint64_t id; /* unique within the simulation */
    uint32_t sqpn;
    uint32_t dmalen; /* RETH DMA length: message bytes */
    uint64_t msg;    /* sender-side message handle (for completion bookkeeping) */
    uint64_t raddr;  /* RETH virtual address (byte offset inside the message) */
    uint8_t opcode;
    uint8_t dscp;
    uint8_t sl;       /* IB service level */
    uint16_t pfc_vec; /* PFC class-enable vector */
    uint16_t pfc_quanta[8];
    ifb_int_hop int_hops[]; /* flexible; only sized in when the pool object is large enough */
} ifb_pkt;

#endif
