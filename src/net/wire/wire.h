/* Wire formats: how many bytes each packet occupies on the wire, and (wire.c) the real bytes
 * of a packet for pcap capture and the decoder used to read captures back.
 *
 * RoCEv2 frame: Ethernet II (14) [+ 802.1Q (4)] + IPv4 (20) + UDP (8) + BTH (12) [+ RETH (16)
 * on the first packet of a WRITE] [+ AETH (4) on ACK/NAK] + payload + pad + ICRC (4) + FCS (4),
 * padded to the 64-byte Ethernet minimum; on the wire add preamble+SFD (8) and the inter-frame
 * gap (12). "pad" is the BTH pad (0-3 bytes) that IBA requires to make the payload a whole number
 * of 4-byte words (BTH PadCnt); without it an InfiniBand LRH, whose length is in words, could not
 * describe the packet. InfiniBand: LRH (8) + BTH (12) [+ RETH] [+ AETH] + payload + pad + ICRC (4)
 * + VCRC (2); the physical layer's start/end delimiters and idles are not modelled. INT-MD adds a
 * 4-byte shim, a 12-byte metadata header and the per-hop stack (RoCEv2 only). */
#ifndef IFB_WIRE_H
#define IFB_WIRE_H
#include <stddef.h>
#include <stdint.h>

#include "net/wire/pkt.h"

enum {
    IFB_ETH_PREAMBLE = 8,
    IFB_ETH_IFG = 12,
    IFB_ETH_HDR = 14,
    IFB_VLAN_TAG = 4,
    IFB_IPV4_HDR = 20,
    IFB_UDP_HDR = 8,
    IFB_BTH = 12,
    IFB_RETH = 16,
    IFB_AETH = 4,
    IFB_ICRC = 4,
    IFB_FCS = 4,
    IFB_ETH_MIN_FRAME = 64,
    IFB_CNP_PAD = 16,
    IFB_IB_LRH = 8,
    IFB_IB_VCRC = 2,
    IFB_INT_SHIM = 4,
    IFB_INT_MD_HDR = 12,
    IFB_INT_HOP_BYTES = 28, /* 7 words: node, ports, latency, queue, egress ts (2), tx util */
    IFB_ROCE_UDP_PORT = 4791,
    IFB_PFC_ETHERTYPE = 0x8808,
    IFB_PFC_OPCODE = 0x0101,
    /* UDP destination port announcing INT over UDP (INT spec v2.1 "INT_TBD", NPT=1: the shim keeps
     * the original port 4791). Neither IANA nor the P4 INT examples fix a value (the p4lang
     * examples signal INT with a DSCP value instead), so this is our choice: a port from the
     * dynamic range, which IANA never assigns and which tshark decodes as plain data. */
    IFB_INT_UDP_PORT = 0xD171,
};

/* BTH pad bytes after the payload (PadCnt): the payload is padded to a multiple of 4. */
static inline uint32_t ifb_wire_pad(const ifb_pkt *p)
{
    return (4u - (p->payload & 3u)) & 3u;
}

/* Bytes of transport headers (BTH and extensions) of a packet, ICRC excluded. */
static inline uint32_t ifb_wire_transport_hdr(const ifb_pkt *p)
{
    uint32_t n = IFB_BTH;
    if (p->kind == IFB_PK_DATA && (p->flags & IFB_PF_FIRST) &&
        (p->opcode == IFB_OP_WRITE_FIRST || p->opcode == IFB_OP_WRITE_ONLY))
        n += IFB_RETH;
    if (p->kind == IFB_PK_ACK || p->kind == IFB_PK_NAK)
        n += IFB_AETH;
    if (p->kind == IFB_PK_CNP)
        n += IFB_CNP_PAD;
    return n;
}

/* Bytes of the layer-2 frame (FCS included, preamble/IFG excluded). */
static inline uint32_t ifb_wire_frame_len(const ifb_pkt *p)
{
    if (p->l2 == IFB_L2_IB)
        return IFB_IB_LRH + ifb_wire_transport_hdr(p) + p->payload + ifb_wire_pad(p) + IFB_ICRC +
               IFB_IB_VCRC;
    uint32_t n = IFB_ETH_HDR + ((p->flags & IFB_PF_VLAN) ? IFB_VLAN_TAG : 0);
    if (p->kind == IFB_PK_PFC) {
        n += 2 + 2 + 16; /* opcode, class-enable vector, 8 pause times */
    } else {
        n += IFB_IPV4_HDR + IFB_UDP_HDR + ifb_wire_transport_hdr(p) + p->payload + ifb_wire_pad(p) +
             IFB_ICRC;
        if (p->int_on)
            n += IFB_INT_SHIM + IFB_INT_MD_HDR + (uint32_t)p->int_n * IFB_INT_HOP_BYTES;
    }
    n += IFB_FCS;
    return n < IFB_ETH_MIN_FRAME ? IFB_ETH_MIN_FRAME : n;
}

/* Bytes the packet occupies on the wire: what serialization time is computed from. */
static inline uint32_t ifb_wire_len(const ifb_pkt *p)
{
    uint32_t f = ifb_wire_frame_len(p);
    return p->l2 == IFB_L2_IB ? f : f + IFB_ETH_PREAMBLE + IFB_ETH_IFG;
}

/* The RoCEv2 UDP source port the Linux RDMA stack derives from the QP pair
 * (rdma_calc_flow_label + rdma_flow_label_to_udp_sport): constant per QP, in [0xC000, 0xFFFF]. */
static inline uint16_t ifb_roce_sport(uint32_t lqpn, uint32_t rqpn)
{
    uint64_t v = (uint64_t)lqpn * rqpn;
    v ^= v >> 20;
    v ^= v >> 40;
    uint32_t fl = (uint32_t)(v & 0xFFFFF);
    return (uint16_t)(((fl & 0x3FFF) ^ ((fl & 0xFC000) >> 14)) | 0xC000);
}

/* Addresses in real bytes: host h is IPv4 10.(h>>16).(h>>8).(h) and MAC
 * 02:00:00:(h>>16):(h>>8):(h); IB LIDs are h+1. */
/* "data", "ACK", "NAK", "CNP", "PFC", "probe" (ifb_pkt_kind), "?" for anything else. */
const char *ifb_pkt_kind_name(int kind);

/* Writes the frame's real bytes (FCS included) into buf; returns the length (always
 * ifb_wire_frame_len(p)) or 0 if cap is too small or the packet has no consistent encoding (host
 * index beyond the address plan, a DATA/PROBE packet whose opcode is not an RC SEND/WRITE opcode or
 * whose FIRST flag disagrees with a WRITE_FIRST/ONLY opcode, PFC over InfiniBand, over-long
 * packet). ICRC, FCS and VCRC are real CRCs; wire.c says which fields have no source in ifb_pkt. */
size_t ifb_wire_encode(const ifb_pkt *p, uint8_t *buf, size_t cap);
/* Parses a frame written by ifb_wire_encode back into header fields. Returns 0 on success,
 * -1 on a malformed or truncated frame or a bad CRC (never reads past len). hops may be NULL when
 * max_hops is 0; out->int_n is the number of INT hops on the wire, of which the first
 * min(int_n, max_hops) are stored in hops, in ifb_pkt.int_hops order (hops[0] = first switch
 * traversed; the wire stack carries the newest hop first). */
int ifb_wire_decode(const uint8_t *buf, size_t len, ifb_l2 l2, ifb_pkt *out, ifb_int_hop *hops,
                    int max_hops);

/* Telemetry Report v2.0 (INT-MD "stacked" report) a sink sends for packet p: Ethernet + IPv4 +
 * UDP to port IFB_INT_REPORT_UDP_PORT, the 8-byte group header, the 4-byte individual report
 * header (RepType INT, InType Ethernet), 8 bytes of INT main contents with no baseline metadata
 * (everything is in the embedded stack), then the original frame as it reached the sink, FCS
 * left off, truncated to IFB_INT_REPORT_TRUNC bytes and padded to a word, and the report's FCS.
 * The collector address is 10.255.255.254; the report comes from the sink, 10.254.(node). */
#define IFB_INT_REPORT_TRUNC 256
#define IFB_INT_REPORT_UDP_PORT 32766
uint32_t ifb_wire_int_report_len(const ifb_pkt *p);
/* Writes that report's bytes (cap >= ifb_wire_int_report_len(p)); node_id names the sink, seq is
 * the 22-bit report sequence number. Returns the length, or 0 if p has no encoding or cap is
 * too small. */
size_t ifb_wire_int_report(const ifb_pkt *p, uint32_t node_id, uint32_t seq, uint8_t *buf,
                           size_t cap);

#endif
