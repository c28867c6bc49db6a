/* Real bytes of simulated packets (for pcap capture) and the decoder that reads them back.
 *
 * What is modelled: RoCEv2 over Ethernet II [802.1Q] / IPv4 / UDP with BTH, RETH, AETH, CNP, BTH
 * pad, the real RoCEv2 ICRC and the Ethernet FCS; 802.1Qbb PFC frames; INT-MD over UDP (spec
 * v2.1, NPT=1) between UDP and BTH; InfiniBand local packets LRH / BTH ... ICRC / VCRC.
 *
 * Fields ifb_pkt has no source for, and what is written instead:
 * - IPv4: identification 0, DF set, no options; TTL = 64 - pkt->hops (routers decrement it, so a
 *   capture shows how far the packet came; decode gives hops back); UDP checksum 0 (RoCEv2 allows).
 * - BTH: SE 0, MigReq 1 (the "migrated" state of a QP without path migration), P_Key 0xffff
 *   (default partition), TVer 0. The reserved byte before the dest QP (resv8a) is 0 for RoCEv2;
 *   on InfiniBand it carries FECN (bit 7) and BECN (bit 6) from the packet flags.
 * - RETH R_Key 0 (no memory registration is modelled); AETH MSN 0 (no message sequence number is
 *   kept per QP); ACK syndrome 0x1f (ACK, credit count "invalid": end-to-end credits unused), NAK
 *   syndrome 0x60 (NAK code 0, PSN sequence error).
 * - 802.1Q tag: PCP = pkt->tc, DEI 0, VID 0 (priority tag).
 * - Payload bytes: a deterministic pattern of the PSN and offset, so CRCs cover non-zero data.
 * - INT: remaining hop count = IFB_INT_MAX_HOPS - hops pushed; queue occupancy saturates at
 *   0xffffff (24 bits); the D (discard at sink) bit marks IFB_PK_PROBE packets, which is how
 *   decode tells a probe from data (a probe without INT decodes as DATA).
 *   pkt->int_hops[0] is the first switch traversed; the wire stack carries the newest hop first.
 *
 * CRCs. RoCEv2 ICRC as Linux rxe computes it (rxe_icrc.c): CRC-32 (IEEE) over 8 bytes of 0xff (in
 * place of the absent LRH; rxe starts from the equivalent register 0xdebb20e3), the IPv4 header
 * with TOS, TTL and checksum set to all ones, the UDP header with the checksum set to all ones, the
 * BTH with resv8a set to all ones, then the extension headers, payload and pad; the inverted CRC is
 * stored least significant byte first (rxe writes the CPU-order u32 on a little-endian host).
 * With INT the ICRC is the one the RoCE NIC computed before INT was inserted: IP total length and
 * UDP length without the INT bytes and UDP port 4791, since transit switches push INT without
 * touching the end-to-end ICRC and the sink restores that packet. InfiniBand ICRC: the same CRC
 * over the LRH with VL set to ones and the BTH with resv8a set to ones (IBA 7.8.1, local packet).
 * VCRC: CRC-16 polynomial 0x100B, reflected, initial value and final inversion 0xffff, over the
 * LRH through the ICRC, stored least significant byte first like the ICRC (the byte order is our
 * reading of IBA; tshark shows but does not check either CRC). Ethernet FCS: CRC-32 stored least
 * significant byte first.
 *
 * Left out: GRH/IPv6, IP options, immediate data and other opcodes, UD/UC/XRC transports, RNR
 * NAKs, INT over other encapsulations. Decode accepts only what encode can write and checks every
 * length against the buffer before reading, then the CRCs last (so a fuzzer reaches the parsers).
 */
#include "net/wire/wire.h"

#include <string.h>

enum {
    ETH_TYPE_VLAN = 0x8100,
    ETH_TYPE_IPV4 = 0x0800,
    IPV4_DF = 0x4000,
    IPV4_PROTO_UDP = 17,
    IPV4_TTL = 64,
    BTH_MIGREQ = 0x40,
    BTH_FECN = 0x80,
    BTH_BECN = 0x40,
    BTH_ACKREQ = 0x80,
    PKEY_DEFAULT = 0xffff,
    AETH_ACK = 0x1f,
    AETH_NAK_PSN = 0x60,
    AETH_KIND_MASK = 0x60, /* syndrome bits 6:5: 00 ACK, 01 RNR NAK, 10 reserved, 11 NAK */
    INT_TYPE_MD = 1,
    INT_NPT_UDP_PORT = 1, /* original UDP payload follows, the shim keeps the original dport */
    INT_VERSION = 2,
    INT_HOP_WORDS = IFB_INT_HOP_BYTES / 4,
    INT_BITMAP = 0xF500,     /* instruction bits 0,1,2,3,5,7 (bit 0 = most significant) */
    INT_MD_DISCARD = 0x0800, /* D bit in the first 16 bits of the metadata header */
    INT_MAX_WIRE_HOPS = (255 - IFB_INT_MD_HDR / 4) / INT_HOP_WORDS, /* shim length is 8 bits */
    IB_LNH_LOCAL = 2,         /* LRH next header: IBA transport, no GRH */
    IB_MAX_LID = 0xBFFF,      /* last unicast LID */
    IB_MAX_WORDS = 0x7FF,     /* LRH packet length is 11 bits of 4-byte words */
    HOST_MAX_ROCE = 0xFFFFFF, /* three address bytes */
    MAX_PAYLOAD = 65535,
};

/* ---- byte helpers ------------------------------------------------------------------------ */

static void put16(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)(v >> 8);
    b[1] = (uint8_t)v;
}
static void put24(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)(v >> 16);
    b[1] = (uint8_t)(v >> 8);
    b[2] = (uint8_t)v;
}
static void put32(uint8_t *b, uint32_t v)
{
    put16(b, v >> 16);
    put16(b + 2, v);
}
static void put64(uint8_t *b, uint64_t v)
{
    put32(b, (uint32_t)(v >> 32));
    put32(b + 4, (uint32_t)v);
}
static void put32le(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)v;
    b[1] = (uint8_t)(v >> 8);
    b[2] = (uint8_t)(v >> 16);
    b[3] = (uint8_t)(v >> 24);
}
static uint32_t get16(const uint8_t *b)
{
    return (uint32_t)b[0] << 8 | b[1];
}
static uint32_t get24(const uint8_t *b)
{
    return (uint32_t)b[0] << 16 | get16(b + 1);
}
static uint32_t get32(const uint8_t *b)
{
    return get16(b) << 16 | get16(b + 2);
}
static uint64_t get64(const uint8_t *b)
{
    return (uint64_t)get32(b) << 32 | get32(b + 4);
}
static uint32_t get32le(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* ---- CRCs --------------------------------------------------------------------------------- */

/* Reflected CRCs four bits at a time: 16-entry constant tables keep the file free of lazily built
 * global state, and capture is not on the simulation's hot path. Raw registers: callers apply the
 * initial value and the final inversion. */
static const uint32_t crc32_nib[16] = {
    0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4, 0x4db26158, 0x5005713c,
    0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c, 0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c};
static const uint16_t crc16_ib_nib[16] = {0x0000, 0x1a01, 0x3402, 0x2e03, 0x6804, 0x7205,
                                          0x5c06, 0x4607, 0xd008, 0xca09, 0xe40a, 0xfe0b,
                                          0xb80c, 0xa20d, 0x8c0e, 0x960f};

static uint32_t crc32_upd(uint32_t c, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        c = (c >> 4) ^ crc32_nib[c & 15];
        c = (c >> 4) ^ crc32_nib[c & 15];
    }
    return c;
}

static uint16_t crc16_ib_upd(uint16_t c, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        c = (uint16_t)((c >> 4) ^ crc16_ib_nib[c & 15]);
        c = (uint16_t)((c >> 4) ^ crc16_ib_nib[c & 15]);
    }
    return c;
}

static uint32_t eth_fcs(const uint8_t *b, size_t n)
{
    return ~crc32_upd(0xffffffffu, b, n);
}

static uint16_t ib_vcrc(const uint8_t *b, size_t n)
{
    return (uint16_t)~crc16_ib_upd(0xffff, b, n);
}

/* Tail of the ICRC: BTH with resv8a masked, then everything up to the ICRC. */
static uint32_t icrc_tail(uint32_t c, const uint8_t *bth, size_t rest)
{
    uint8_t m[IFB_BTH];
    memcpy(m, bth, sizeof m);
    m[4] = 0xff;
    c = crc32_upd(c, m, sizeof m);
    return crc32_upd(c, bth + IFB_BTH, rest);
}

/* RoCEv2 ICRC of the datagram whose IPv4 header is at ip (total length read from it); int_bytes of
 * INT between UDP and BTH are skipped and undone in the lengths and port (see the file comment).
 * The caller guarantees 20 + 8 + int_bytes + 12 + 4 <= total length <= the buffer. */
static uint32_t roce_icrc(const uint8_t *ip, uint32_t int_bytes)
{
    uint8_t ph[8 + IFB_IPV4_HDR + IFB_UDP_HDR];
    uint8_t *iph = ph + 8, *udp = ph + 8 + IFB_IPV4_HDR;
    uint32_t tot = get16(ip + 2);
    memset(ph, 0xff, 8);
    memcpy(iph, ip, IFB_IPV4_HDR + IFB_UDP_HDR);
    iph[1] = 0xff;                   /* TOS: DSCP and ECN change in flight */
    iph[8] = 0xff;                   /* TTL */
    iph[10] = iph[11] = 0xff;        /* header checksum */
    put16(iph + 2, tot - int_bytes); /* as the NIC sent it */
    put16(udp + 4, get16(udp + 4) - int_bytes);
    if (int_bytes)
        put16(udp + 2, IFB_ROCE_UDP_PORT);
    udp[6] = udp[7] = 0xff; /* UDP checksum */
    uint32_t c = crc32_upd(0xffffffffu, ph, sizeof ph);
    const uint8_t *bth = ip + IFB_IPV4_HDR + IFB_UDP_HDR + int_bytes;
    size_t rest = tot - (IFB_IPV4_HDR + IFB_UDP_HDR + int_bytes + IFB_BTH + IFB_ICRC);
    return ~icrc_tail(c, bth, rest);
}

/* InfiniBand ICRC of a local packet of `words` 4-byte words (LRH packet length). */
static uint32_t ib_icrc(const uint8_t *lrh, uint32_t words)
{
    uint8_t m[IFB_IB_LRH];
    memcpy(m, lrh, sizeof m);
    m[0] |= 0xf0; /* VL: switches remap it */
    uint32_t c = crc32_upd(0xffffffffu, m, sizeof m);
    size_t rest = (size_t)words * 4 - (IFB_IB_LRH + IFB_BTH + IFB_ICRC);
    return ~icrc_tail(c, lrh + IFB_IB_LRH, rest);
}

static uint16_t ipv4_sum(const uint8_t *h)
{
    uint32_t s = 0;
    for (int i = 0; i < IFB_IPV4_HDR; i += 2)
        s += get16(h + i);
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)s;
}

/* ---- shared transport rules --------------------------------------------------------------- */

static int is_data_opcode(uint32_t op)
{
    switch (op) {
    case IFB_OP_SEND_FIRST:
    case IFB_OP_SEND_MIDDLE:
    case IFB_OP_SEND_LAST:
    case IFB_OP_SEND_ONLY:
    case IFB_OP_WRITE_FIRST:
    case IFB_OP_WRITE_MIDDLE:
    case IFB_OP_WRITE_LAST:
    case IFB_OP_WRITE_ONLY:
        return 1;
    default:
        return 0;
    }
}

static int reth_opcode(uint32_t op)
{
    return op == IFB_OP_WRITE_FIRST || op == IFB_OP_WRITE_ONLY;
}

static int first_opcode(uint32_t op)
{
    return op == IFB_OP_SEND_FIRST || op == IFB_OP_SEND_ONLY || reth_opcode(op);
}

static int last_opcode(uint32_t op)
{
    return op == IFB_OP_SEND_LAST || op == IFB_OP_SEND_ONLY || op == IFB_OP_WRITE_LAST ||
           op == IFB_OP_WRITE_ONLY;
}

/* The BTH opcode to write, or -1 if the packet has no encoding consistent with
 * ifb_wire_transport_hdr (which decides the RETH from kind, flag and opcode). */
static int wire_opcode(const ifb_pkt *p)
{
    switch (p->kind) {
    case IFB_PK_DATA:
    case IFB_PK_PROBE:
        if (!is_data_opcode(p->opcode))
            return -1;
        /* A WRITE_FIRST/ONLY opcode promises a RETH that the length accounting left out. */
        if (reth_opcode(p->opcode) && (p->kind != IFB_PK_DATA || !(p->flags & IFB_PF_FIRST)))
            return -1;
        return p->opcode;
    case IFB_PK_ACK:
    case IFB_PK_NAK:
        return p->payload ? -1 : IFB_OP_ACK;
    case IFB_PK_CNP:
        return p->payload ? -1 : IFB_OP_CNP;
    default:
        return -1;
    }
}

/* Writes BTH, extension headers, payload and pad; returns the bytes written. */
static size_t put_transport(const ifb_pkt *p, int op, uint8_t *b, int ib)
{
    uint32_t pad = ifb_wire_pad(p);
    b[0] = (uint8_t)op;
    b[1] = (uint8_t)(BTH_MIGREQ | pad << 4);
    put16(b + 2, PKEY_DEFAULT);
    b[4] = 0;
    if (ib)
        b[4] = (uint8_t)(((p->flags & IFB_PF_FECN) ? BTH_FECN : 0) |
                         ((p->flags & IFB_PF_BECN) ? BTH_BECN : 0));
    put24(b + 5, p->dqpn);
    b[8] = (p->flags & IFB_PF_ACKREQ) ? BTH_ACKREQ : 0;
    put24(b + 9, p->psn);
    size_t o = IFB_BTH;
    if (reth_opcode((uint32_t)op)) {
        put64(b + o, p->raddr);
        put32(b + o + 8, 0); /* R_Key */
        put32(b + o + 12, p->dmalen);
        o += IFB_RETH;
    }
    if (p->kind == IFB_PK_ACK || p->kind == IFB_PK_NAK) {
        b[o] = p->kind == IFB_PK_NAK ? AETH_NAK_PSN : AETH_ACK;
        put24(b + o + 1, 0); /* MSN */
        o += IFB_AETH;
    }
    if (p->kind == IFB_PK_CNP) {
        memset(b + o, 0, IFB_CNP_PAD);
        o += IFB_CNP_PAD;
    }
    for (uint32_t i = 0; i < p->payload; i++)
        b[o + i] = (uint8_t)(i + p->psn * 7u);
    o += p->payload;
    memset(b + o, 0, pad);
    return o + pad;
}

static void put_mac(uint8_t *b, uint32_t h)
{
    b[0] = 0x02;
    b[1] = b[2] = 0;
    put24(b + 3, h);
}

/* ---- encode ------------------------------------------------------------------------------- */

static size_t put_int(const ifb_pkt *p, uint8_t *b)
{
    uint32_t n = p->int_n;
    uint32_t words = IFB_INT_MD_HDR / 4 + n * INT_HOP_WORDS;
    b[0] = (uint8_t)(INT_TYPE_MD << 4 | INT_NPT_UDP_PORT << 2);
    b[1] = (uint8_t)words;
    put16(b + 2, IFB_ROCE_UDP_PORT);
    uint8_t *md = b + IFB_INT_SHIM;
    uint32_t remaining = n < IFB_INT_MAX_HOPS ? IFB_INT_MAX_HOPS - n : 0;
    put16(md, INT_VERSION << 12 | (p->kind == IFB_PK_PROBE ? INT_MD_DISCARD : 0));
    put16(md + 2, INT_HOP_WORDS << 8 | remaining);
    put16(md + 4, INT_BITMAP);
    put16(md + 6, 0); /* domain specific ID */
    put32(md + 8, 0); /* DS instruction, DS flags */
    uint8_t *h = md + IFB_INT_MD_HDR;
    for (uint32_t i = 0; i < n; i++, h += IFB_INT_HOP_BYTES) {
        const ifb_int_hop *s = &p->int_hops[n - 1 - i];
        put32(h, s->node_id);
        put16(h + 4, s->in_port);
        put16(h + 6, s->out_port);
        put32(h + 8, s->hop_latency_ns);
        h[12] = s->queue_id;
        put24(h + 13, s->queue_occ > 0xffffff ? 0xffffff : s->queue_occ);
        put64(h + 16, s->egress_ts_ns);
        put32(h + 24, s->tx_util_ppm);
    }
    return IFB_INT_SHIM + (size_t)words * 4;
}

static size_t encode_roce(const ifb_pkt *p, uint8_t *b, size_t n)
{
    if (p->src > HOST_MAX_ROCE || p->dst > HOST_MAX_ROCE)
        return 0;
    int op = -1;
    if (p->kind != IFB_PK_PFC) {
        op = wire_opcode(p);
        if (op < 0 || (p->int_on && p->int_n > INT_MAX_WIRE_HOPS))
            return 0;
    }
    memset(b, 0, n);
    if (p->kind == IFB_PK_PFC) {
        static const uint8_t pfc_da[6] = {0x01, 0x80, 0xc2, 0x00, 0x00, 0x01};
        memcpy(b, pfc_da, sizeof pfc_da);
    } else {
        put_mac(b, p->dst);
    }
    put_mac(b + 6, p->src);
    size_t o = 12;
    if (p->flags & IFB_PF_VLAN) {
        put16(b + o, ETH_TYPE_VLAN);
        put16(b + o + 2, (uint32_t)(p->tc & 7) << 13);
        o += IFB_VLAN_TAG;
    }
    if (p->kind == IFB_PK_PFC) {
        put16(b + o, IFB_PFC_ETHERTYPE);
        put16(b + o + 2, IFB_PFC_OPCODE);
        put16(b + o + 4, p->pfc_vec & 0xff);
        for (int i = 0; i < 8; i++)
            put16(b + o + 6 + 2 * i, p->pfc_quanta[i]);
        o += 2 + 2 + 2 + 16;
    } else {
        put16(b + o, ETH_TYPE_IPV4);
        o += 2;
        uint8_t *ip = b + o, *udp = ip + IFB_IPV4_HDR;
        size_t int_bytes = p->int_on ? put_int(p, udp + IFB_UDP_HDR) : 0;
        size_t tr = put_transport(p, op, udp + IFB_UDP_HDR + int_bytes, 0);
        size_t tot = IFB_IPV4_HDR + IFB_UDP_HDR + int_bytes + tr + IFB_ICRC;
        if (tot > 0xffff)
            return 0;
        ip[0] = 0x45;
        ip[1] = (uint8_t)((p->dscp & 0x3f) << 2 | (p->ecn & 3));
        put16(ip + 2, (uint32_t)tot);
        put16(ip + 4, 0);
        put16(ip + 6, IPV4_DF);
        ip[8] = (uint8_t)(p->hops < IPV4_TTL ? IPV4_TTL - p->hops : 1);
        ip[9] = IPV4_PROTO_UDP;
        put32(ip + 12, 10u << 24 | p->src);
        put32(ip + 16, 10u << 24 | p->dst);
        put16(ip + 10, (uint16_t)~ipv4_sum(ip));
        put16(udp, p->sport);
        put16(udp + 2, p->int_on ? IFB_INT_UDP_PORT : IFB_ROCE_UDP_PORT);
        put16(udp + 4, (uint32_t)(tot - IFB_IPV4_HDR));
        put16(udp + 6, 0);
        put32le(ip + tot - IFB_ICRC, roce_icrc(ip, (uint32_t)int_bytes));
        o += tot;
    }
    /* Self-check against the length accounting the simulator charges on the wire. */
    if ((o + IFB_FCS < IFB_ETH_MIN_FRAME ? IFB_ETH_MIN_FRAME : o + IFB_FCS) != n)
        return 0;
    put32le(b + n - IFB_FCS, eth_fcs(b, n - IFB_FCS));
    return n;
}

static size_t encode_ib(const ifb_pkt *p, uint8_t *b, size_t n)
{
    if (p->kind == IFB_PK_PFC || p->src >= IB_MAX_LID || p->dst >= IB_MAX_LID)
        return 0;
    int op = wire_opcode(p);
    if (op < 0 || n - IFB_IB_VCRC > (size_t)IB_MAX_WORDS * 4)
        return 0;
    memset(b, 0, n);
    b[0] = (uint8_t)((p->tc & 0xf) << 4); /* VL, LVer 0 */
    b[1] = (uint8_t)((p->sl & 0xf) << 4 | IB_LNH_LOCAL);
    put16(b + 2, p->dst + 1);
    size_t tr = put_transport(p, op, b + IFB_IB_LRH, 1);
    size_t words = (IFB_IB_LRH + tr + IFB_ICRC) / 4;
    put16(b + 4, (uint32_t)words);
    put16(b + 6, p->src + 1);
    if (words * 4 + IFB_IB_VCRC != n)
        return 0;
    put32le(b + IFB_IB_LRH + tr, ib_icrc(b, (uint32_t)words));
    uint16_t v = ib_vcrc(b, words * 4);
    b[words * 4] = (uint8_t)v;
    b[words * 4 + 1] = (uint8_t)(v >> 8);
    return n;
}

size_t ifb_wire_encode(const ifb_pkt *p, uint8_t *buf, size_t cap)
{
    if (!p || !buf || p->payload > MAX_PAYLOAD || p->l2 > IFB_L2_IB)
        return 0;
    size_t n = ifb_wire_frame_len(p);
    if (n > cap)
        return 0;
    return p->l2 == IFB_L2_IB ? encode_ib(p, buf, n) : encode_roce(p, buf, n);
}

/* ---- decode ------------------------------------------------------------------------------- */

/* Parses BTH and what follows it up to the ICRC at b[end]; t is the BTH offset. */
static int parse_transport(const uint8_t *b, size_t t, size_t end, int ib, ifb_pkt *out)
{
    if (t > end || end - t < IFB_BTH)
        return -1;
    const uint8_t *bth = b + t;
    uint32_t op = bth[0];
    uint32_t pad = (bth[1] >> 4) & 3;
    if ((bth[1] & 0x0f) != 0) /* TVer */
        return -1;
    out->opcode = (uint8_t)op;
    out->dqpn = get24(bth + 5);
    out->psn = get24(bth + 9);
    if (bth[8] & BTH_ACKREQ)
        out->flags |= IFB_PF_ACKREQ;
    if (ib) {
        if (bth[4] & BTH_FECN)
            out->flags |= IFB_PF_FECN;
        if (bth[4] & BTH_BECN)
            out->flags |= IFB_PF_BECN;
    }
    size_t o = t + IFB_BTH;
    if (is_data_opcode(op)) {
        if (out->kind != IFB_PK_PROBE)
            out->kind = IFB_PK_DATA;
        if (first_opcode(op))
            out->flags |= IFB_PF_FIRST;
        if (last_opcode(op))
            out->flags |= IFB_PF_LAST;
        if (reth_opcode(op)) {
            if (out->kind != IFB_PK_DATA || end - o < IFB_RETH)
                return -1;
            out->raddr = get64(b + o);
            out->dmalen = get32(b + o + 12);
            o += IFB_RETH;
        }
        size_t raw = end - o;
        if (raw % 4 != 0 || pad > raw || raw - pad > MAX_PAYLOAD)
            return -1;
        out->payload = (uint32_t)(raw - pad);
        return 0;
    }
    if (out->kind == IFB_PK_PROBE || pad)
        return -1;
    if (op == IFB_OP_ACK) {
        if (end - o != IFB_AETH)
            return -1;
        uint32_t syn = b[o] & AETH_KIND_MASK;
        if (syn == 0)
            out->kind = IFB_PK_ACK;
        else if (syn == AETH_NAK_PSN)
            out->kind = IFB_PK_NAK;
        else
            return -1; /* RNR NAK or reserved: never written */
        return 0;
    }
    if (op == IFB_OP_CNP) {
        if (end - o != IFB_CNP_PAD)
            return -1;
        out->kind = IFB_PK_CNP;
        return 0;
    }
    return -1;
}

static int host_from_mac(const uint8_t *m, uint32_t *h)
{
    if (m[0] != 0x02 || m[1] != 0 || m[2] != 0)
        return -1;
    *h = get24(m + 3);
    return 0;
}

static int decode_pfc(const uint8_t *b, size_t len, size_t o, ifb_pkt *out)
{
    static const uint8_t pfc_da[6] = {0x01, 0x80, 0xc2, 0x00, 0x00, 0x01};
    size_t body = o + 2 + 2 + 16;
    size_t want = body + IFB_FCS < IFB_ETH_MIN_FRAME ? IFB_ETH_MIN_FRAME : body + IFB_FCS;
    if (len != want || memcmp(b, pfc_da, sizeof pfc_da) != 0)
        return -1;
    if (host_from_mac(b + 6, &out->src) != 0)
        return -1;
    if (get16(b + o) != IFB_PFC_OPCODE)
        return -1;
    uint32_t vec = get16(b + o + 2);
    if (vec & 0xff00) /* 802.1Qbb: the upper octet is reserved, zero */
        return -1;
    out->kind = IFB_PK_PFC;
    out->pfc_vec = (uint16_t)vec;
    for (int i = 0; i < 8; i++)
        out->pfc_quanta[i] = (uint16_t)get16(b + o + 4 + 2 * i);
    return get32le(b + len - IFB_FCS) == eth_fcs(b, len - IFB_FCS) ? 0 : -1;
}

/* INT shim + metadata header + stack at b[t], with the ICRC at b[end]. Returns the INT bytes, or
 * -1. */
static long parse_int(const uint8_t *b, size_t t, size_t end, ifb_pkt *out, ifb_int_hop *hops,
                      int max_hops)
{
    if (t > end || end - t < IFB_INT_SHIM + IFB_INT_MD_HDR)
        return -1;
    const uint8_t *s = b + t;
    if (s[0] >> 4 != INT_TYPE_MD || ((s[0] >> 2) & 3) != INT_NPT_UDP_PORT)
        return -1;
    if (get16(s + 2) != IFB_ROCE_UDP_PORT)
        return -1;
    size_t bytes = IFB_INT_SHIM + (size_t)s[1] * 4;
    if (s[1] < IFB_INT_MD_HDR / 4 || end - t < bytes)
        return -1;
    const uint8_t *md = s + IFB_INT_SHIM;
    if (md[0] >> 4 != INT_VERSION || (md[2] & 0x1f) != INT_HOP_WORDS || get16(md + 4) != INT_BITMAP)
        return -1;
    size_t stack = bytes - IFB_INT_SHIM - IFB_INT_MD_HDR;
    if (stack % IFB_INT_HOP_BYTES != 0)
        return -1;
    size_t n = stack / IFB_INT_HOP_BYTES;
    if (get16(md) & INT_MD_DISCARD)
        out->kind = IFB_PK_PROBE;
    out->int_on = 1;
    out->int_n = (uint8_t)n; /* n <= 36: the shim length is one byte */
    const uint8_t *h = md + IFB_INT_MD_HDR;
    for (size_t i = 0; i < n; i++, h += IFB_INT_HOP_BYTES) {
        size_t k = n - 1 - i; /* the wire has the newest hop first */
        if (k >= (size_t)max_hops)
            continue;
        ifb_int_hop *d = &hops[k];
        d->node_id = get32(h);
        d->in_port = (uint16_t)get16(h + 4);
        d->out_port = (uint16_t)get16(h + 6);
        d->hop_latency_ns = get32(h + 8);
        d->queue_id = h[12];
        d->queue_occ = get24(h + 13);
        d->egress_ts_ns = get64(h + 16);
        d->tx_util_ppm = get32(h + 24);
    }
    return (long)bytes;
}

static int decode_roce(const uint8_t *b, size_t len, ifb_pkt *out, ifb_int_hop *hops, int max_hops)
{
    if (len < IFB_ETH_MIN_FRAME)
        return -1;
    size_t o = 12;
    uint32_t type = get16(b + o);
    o += 2;
    if (type == ETH_TYPE_VLAN) {
        out->flags |= IFB_PF_VLAN;
        out->tc = (uint8_t)(b[o] >> 5);
        type = get16(b + o + 2);
        o += IFB_VLAN_TAG;
    }
    if (type == IFB_PFC_ETHERTYPE)
        return decode_pfc(b, len, o, out);
    if (type != ETH_TYPE_IPV4)
        return -1;
    /* len >= 64 covers the IPv4 and UDP headers after the largest L2 header (18 bytes). */
    const uint8_t *ip = b + o, *udp = ip + IFB_IPV4_HDR;
    size_t tot = get16(ip + 2);
    if (ip[0] != 0x45 || ip[9] != IPV4_PROTO_UDP || (get16(ip + 6) & 0x3fff) != 0)
        return -1;
    if (tot < IFB_IPV4_HDR + IFB_UDP_HDR + IFB_BTH + IFB_ICRC || tot > len - o - IFB_FCS)
        return -1;
    size_t want = o + tot + IFB_FCS < IFB_ETH_MIN_FRAME ? IFB_ETH_MIN_FRAME : o + tot + IFB_FCS;
    if (len != want || ipv4_sum(ip) != 0xffff)
        return -1;
    if (ip[12] != 10 || ip[16] != 10)
        return -1;
    out->src = get24(ip + 13);
    out->dst = get24(ip + 17);
    uint32_t msrc, mdst;
    if (host_from_mac(b, &mdst) || host_from_mac(b + 6, &msrc) || msrc != out->src ||
        mdst != out->dst)
        return -1;
    out->dscp = ip[1] >> 2;
    out->ecn = ip[1] & 3;
    /* encode writes TTL 1 for 63 hops or more: TTL 0 reads back the same, a fixed point */
    out->hops = (uint8_t)(ip[8] <= IPV4_TTL ? IPV4_TTL - (ip[8] ? ip[8] : 1) : 0);
    if (get16(udp + 4) != tot - IFB_IPV4_HDR)
        return -1;
    out->sport = (uint16_t)get16(udp);
    uint32_t dport = get16(udp + 2);
    size_t t = o + IFB_IPV4_HDR + IFB_UDP_HDR;
    size_t end = o + tot - IFB_ICRC; /* ICRC offset */
    size_t int_bytes = 0;
    if (dport == IFB_INT_UDP_PORT) {
        long r = parse_int(b, t, end, out, hops, max_hops);
        if (r < 0)
            return -1;
        int_bytes = (size_t)r;
        t += int_bytes;
    } else if (dport != IFB_ROCE_UDP_PORT) {
        return -1;
    }
    if (parse_transport(b, t, end, 0, out) != 0)
        return -1;
    if (get16(udp + 6) != 0) {
        /* A non-zero UDP checksum must be right: pseudo header + UDP datagram. */
        uint32_t s = get16(ip + 12) + get16(ip + 14) + get16(ip + 16) + get16(ip + 18) +
                     IPV4_PROTO_UDP + (uint32_t)(tot - IFB_IPV4_HDR);
        for (size_t i = 0; i < tot - IFB_IPV4_HDR; i += 2)
            s += i + 1 < tot - IFB_IPV4_HDR ? get16(udp + i) : (uint32_t)udp[i] << 8;
        while (s >> 16)
            s = (s & 0xffff) + (s >> 16);
        if (s != 0xffff)
            return -1;
    }
    if (get32le(b + end) != roce_icrc(ip, (uint32_t)int_bytes))
        return -1;
    if (get32le(b + len - IFB_FCS) != eth_fcs(b, len - IFB_FCS))
        return -1;
    return 0;
}

static int decode_ib(const uint8_t *b, size_t len, ifb_pkt *out)
{
    if (len < IFB_IB_LRH + IFB_BTH + IFB_ICRC + IFB_IB_VCRC)
        return -1;
    if ((b[0] & 0x0f) != 0 || (b[1] & 3) != IB_LNH_LOCAL)
        return -1;
    uint32_t dlid = get16(b + 2), slid = get16(b + 6);
    size_t words = get16(b + 4) & IB_MAX_WORDS;
    if (dlid == 0 || dlid > IB_MAX_LID || slid == 0 || slid > IB_MAX_LID)
        return -1;
    if (words * 4 + IFB_IB_VCRC != len)
        return -1;
    out->tc = b[0] >> 4;
    out->sl = b[1] >> 4;
    out->dst = dlid - 1;
    out->src = slid - 1;
    size_t end = words * 4 - IFB_ICRC;
    if (parse_transport(b, IFB_IB_LRH, end, 1, out) != 0)
        return -1;
    if (get32le(b + end) != ib_icrc(b, (uint32_t)words))
        return -1;
    uint16_t v = ib_vcrc(b, words * 4);
    if (b[words * 4] != (uint8_t)v || b[words * 4 + 1] != (uint8_t)(v >> 8))
        return -1;
    return 0;
}

int ifb_wire_decode(const uint8_t *buf, size_t len, ifb_l2 l2, ifb_pkt *out, ifb_int_hop *hops,
                    int max_hops)
{
    if (!buf || !out)
        return -1;
    memset(out, 0, sizeof *out);
    if (!hops || max_hops < 0)
        max_hops = 0;
    out->l2 = (uint8_t)l2;
    int r;
    if (l2 == IFB_L2_ROCEV2)
        r = decode_roce(buf, len, out, hops, max_hops);
    else if (l2 == IFB_L2_IB)
        r = decode_ib(buf, len, out);
    else
        r = -1;
    if (r != 0)
        return -1;
    out->wire = ifb_wire_len(out);
    return 0;
}

/* ---- telemetry report ----------------------------------------------------------------------- */

enum {
    REP_GROUP_HDR = 8,
    REP_INDIV_HDR = 4,
    REP_MAIN = 8,
    REP_TYPE_INT = 1,
    REP_IN_ETH = 3,
    REP_FLAG_F = 0x2, /* tracked flow: every INT packet of a watched class is reported */
};

static uint32_t report_trunc(const ifb_pkt *p)
{
    uint32_t orig = ifb_wire_frame_len(p) - IFB_FCS;
    uint32_t t = orig < IFB_INT_REPORT_TRUNC ? orig : IFB_INT_REPORT_TRUNC;
    return (t + 3u) & ~3u;
}

uint32_t ifb_wire_int_report_len(const ifb_pkt *p)
{
    uint32_t n = IFB_ETH_HDR + IFB_IPV4_HDR + IFB_UDP_HDR + REP_GROUP_HDR + REP_INDIV_HDR +
                 REP_MAIN + report_trunc(p) + IFB_FCS;
    return n < IFB_ETH_MIN_FRAME ? IFB_ETH_MIN_FRAME : n;
}

size_t ifb_wire_int_report(const ifb_pkt *p, uint32_t node_id, uint32_t seq, uint8_t *buf,
                           size_t cap)
{
    uint32_t n = ifb_wire_int_report_len(p);
    uint32_t flen = ifb_wire_frame_len(p);
    uint8_t orig[16384];
    if (p->l2 != IFB_L2_ROCEV2 || cap < n || flen > sizeof orig || !ifb_wire_encode(p, orig, flen))
        return 0;
    memset(buf, 0, n);
    static const uint8_t collector_mac[6] = {0x02, 0xff, 0xff, 0xff, 0xff, 0xfe};
    memcpy(buf, collector_mac, sizeof collector_mac);
    buf[6] = 0x02;
    buf[7] = 0xfe;
    put32(buf + 8, node_id);
    put16(buf + 12, ETH_TYPE_IPV4);
    uint8_t *ip = buf + IFB_ETH_HDR, *udp = ip + IFB_IPV4_HDR, *g = udp + IFB_UDP_HDR;
    uint32_t trunc = report_trunc(p);
    uint32_t tot = IFB_IPV4_HDR + IFB_UDP_HDR + REP_GROUP_HDR + REP_INDIV_HDR + REP_MAIN + trunc;
    ip[0] = 0x45;
    put16(ip + 2, tot);
    put16(ip + 6, IPV4_DF);
    ip[8] = IPV4_TTL;
    ip[9] = IPV4_PROTO_UDP;
    put32(ip + 12, 10u << 24 | 254u << 16 | (node_id & 0xffff));
    put32(ip + 16, 0x0afffffe);
    put16(ip + 10, (uint16_t)~ipv4_sum(ip));
    put16(udp, 0xC000 | (p->sport & 0x3fff)); /* the inner flow's entropy */
    put16(udp + 2, IFB_INT_REPORT_UDP_PORT);
    put16(udp + 4, tot - IFB_IPV4_HDR);
    /* group header: Ver 2 | hw_id 0 | 22-bit sequence, then the node id */
    put32(g, 2u << 28 | (seq & 0x3fffff));
    put32(g + 4, node_id);
    uint8_t *r = g + REP_GROUP_HDR;
    r[0] = REP_TYPE_INT << 4 | REP_IN_ETH;
    r[1] = (uint8_t)((REP_MAIN + trunc) / 4); /* report length after this header, words */
    r[2] = REP_MAIN / 4;                      /* metadata length, words */
    r[3] = REP_FLAG_F << 4;
    /* main contents: RepMdBits 0 and domain 0, DSMdBits/status 0 (8 bytes of zeros) */
    uint32_t copy = flen - IFB_FCS < trunc ? flen - IFB_FCS : trunc;
    memcpy(r + REP_INDIV_HDR + REP_MAIN, orig, copy);
    put32le(buf + n - IFB_FCS, eth_fcs(buf, n - IFB_FCS));
    return n;
}

const char *ifb_pkt_kind_name(int kind)
{
    static const char *const names[] = {"data", "ACK", "NAK", "CNP", "PFC", "probe"};
    return kind >= 0 && kind < (int)(sizeof names / sizeof names[0]) ? names[kind] : "?";
}
