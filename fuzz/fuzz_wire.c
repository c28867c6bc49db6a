/* Fuzz target: the wire-format decoder used on pcap read-back (net/wire/wire.h), and the encoder
 * against it.
 *
 * Input: one mode byte, then the body.
 *   mode & 4 == 0: the body is a frame (mode & 1: InfiniBand, else RoCEv2/Ethernet). With
 *     mode & 2 the harness first repairs the IPv4 header checksum, the ICRC, the FCS or VCRC
 *     (computed here bit by bit, independently of wire.c's tables), so that mutated headers
 *     get past the CRC checks and reach the success path.
 *   mode & 4: the body fills an ifb_pkt field by field; it is encoded, decoded and re-encoded.
 * Invariants (a violation traps):
 *   - a decoded frame has the length the simulator charges for it (ifb_wire_frame_len) and
 *     pkt->wire == ifb_wire_len; encoding what was decoded gives a frame of that same length
 *     (decode accepts only what encode can write), which decodes to the same fields and encodes
 *     to the same bytes again;
 *   - an encoded packet has ifb_wire_frame_len bytes, decodes, keeps kind, addresses, PSN and
 *     payload, re-encodes to the same bytes, and any single flipped bit makes decode fail. */
#include <stdio.h>

#include "fuzz.h"
#include "net/wire/wire.h"

enum {
    FRAME_CAP = 72 * 1024,
    WIRE_HOPS = 36, /* the most INT hops a frame can carry (8-bit shim length) */
    INT_PORT = 0xD171,
};

static uint8_t frame_a[FRAME_CAP], frame_b[FRAME_CAP];

/* ---- reference CRCs, bit by bit --------------------------------------------------------- */

static uint32_t crc32_bits(uint32_t c, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
    }
    return c;
}

static uint16_t vcrc_bits(const uint8_t *p, size_t n)
{
    uint16_t c = 0xffff;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (uint16_t)((c & 1) ? (c >> 1) ^ 0xD008 : c >> 1);
    }
    return (uint16_t)~c;
}

static uint32_t be16(const uint8_t *b)
{
    return (uint32_t)b[0] << 8 | b[1];
}
static void wr16(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)(v >> 8);
    b[1] = (uint8_t)v;
}
static void wr32le(uint8_t *b, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(v >> (8 * i));
}

/* CRC over the BTH (resv8a as ones) and `rest` bytes after it. */
static uint32_t bth_tail(uint32_t c, const uint8_t *bth, size_t rest)
{
    uint8_t m[IFB_BTH];
    memcpy(m, bth, sizeof m);
    m[4] = 0xff;
    c = crc32_bits(c, m, sizeof m);
    return crc32_bits(c, bth + IFB_BTH, rest);
}

/* Makes the checksums of a RoCEv2/PFC frame right wherever its headers say where they are. */
static void repair_roce(uint8_t *b, size_t n)
{
    if (n < IFB_ETH_MIN_FRAME)
        return;
    size_t o = 12;
    uint32_t type = be16(b + o);
    o += 2;
    if (type == 0x8100) {
        type = be16(b + o + 2);
        o += IFB_VLAN_TAG;
    }
    if (type == 0x0800) {
        uint8_t *ip = b + o, *udp = ip + IFB_IPV4_HDR;
        ip[10] = ip[11] = 0;
        uint32_t s = 0;
        for (int i = 0; i < IFB_IPV4_HDR; i += 2)
            s += be16(ip + i);
        while (s >> 16)
            s = (s & 0xffff) + (s >> 16);
        wr16(ip + 10, ~s & 0xffff);
        size_t tot = be16(ip + 2);
        size_t min = IFB_IPV4_HDR + IFB_UDP_HDR + IFB_BTH + IFB_ICRC;
        if (tot >= min && o + tot + IFB_FCS <= n) {
            size_t int_bytes = 0;
            if (be16(udp + 2) == INT_PORT)
                int_bytes = IFB_INT_SHIM + (size_t)udp[IFB_UDP_HDR + 1] * 4;
            if (tot >= min + int_bytes) {
                uint8_t ph[8 + IFB_IPV4_HDR + IFB_UDP_HDR];
                uint8_t *iph = ph + 8, *uh = iph + IFB_IPV4_HDR;
                memset(ph, 0xff, 8);
                memcpy(iph, ip, IFB_IPV4_HDR + IFB_UDP_HDR);
                iph[1] = iph[8] = iph[10] = iph[11] = 0xff;
                wr16(iph + 2, (uint32_t)(tot - int_bytes));
                wr16(uh + 4, be16(uh + 4) - (uint32_t)int_bytes);
                if (int_bytes)
                    wr16(uh + 2, IFB_ROCE_UDP_PORT);
                uh[6] = uh[7] = 0xff;
                uint32_t c = crc32_bits(0xffffffffu, ph, sizeof ph);
                c = bth_tail(c, udp + IFB_UDP_HDR + int_bytes, tot - min - int_bytes);
                wr32le(ip + tot - IFB_ICRC, ~c);
            }
        }
    }
    wr32le(b + n - IFB_FCS, ~crc32_bits(0xffffffffu, b, n - IFB_FCS));
}

static void repair_ib(uint8_t *b, size_t n)
{
    size_t words = be16(b + 4) & 0x7ff;
    if (n < IFB_IB_LRH || words * 4 + IFB_IB_VCRC != n ||
        words * 4 < IFB_IB_LRH + IFB_BTH + IFB_ICRC)
        return;
    uint8_t m[IFB_IB_LRH];
    memcpy(m, b, sizeof m);
    m[0] |= 0xf0;
    uint32_t c = crc32_bits(0xffffffffu, m, sizeof m);
    c = bth_tail(c, b + IFB_IB_LRH, words * 4 - (IFB_IB_LRH + IFB_BTH + IFB_ICRC));
    wr32le(b + words * 4 - IFB_ICRC, ~c);
    uint16_t v = vcrc_bits(b, words * 4);
    b[words * 4] = (uint8_t)v;
    b[words * 4 + 1] = (uint8_t)(v >> 8);
}

/* ---- packets -------------------------------------------------------------------------------- */

static ifb_pkt *pkt_new(void)
{
    return ifb_xcalloc(1, sizeof(ifb_pkt) + WIRE_HOPS * sizeof(ifb_int_hop), "a packet");
}

static int decode(const uint8_t *b, size_t n, ifb_l2 l2, ifb_pkt *p)
{
    memset(p->int_hops, 0, WIRE_HOPS * sizeof(ifb_int_hop));
    return ifb_wire_decode(b, n, l2, p, p->int_hops, WIRE_HOPS);
}

static int same_fields(const ifb_pkt *a, const ifb_pkt *b)
{
    if (memcmp(a, b, sizeof *a) != 0)
        return 0;
    int n = a->int_n < WIRE_HOPS ? a->int_n : WIRE_HOPS;
    return memcmp(a->int_hops, b->int_hops, (size_t)n * sizeof(ifb_int_hop)) == 0;
}

/* A frame that decoded into p (len bytes): the round trip through encode is exact. */
static void check_decoded(const ifb_pkt *p, size_t len, ifb_pkt *q)
{
    IFB_FUZZ_CHECK(p->wire == ifb_wire_len(p));
    if (len != ifb_wire_frame_len(p)) {
        fprintf(stderr, "fuzz_wire: decoded %zu bytes, ifb_wire_frame_len says %u\n", len,
                ifb_wire_frame_len(p));
        __builtin_trap();
    }
    size_t n = ifb_wire_encode(p, frame_b, sizeof frame_b);
    if (n != len) {
        fprintf(stderr, "fuzz_wire: decoded a %zu-byte frame that encodes to %zu bytes\n", len, n);
        __builtin_trap();
    }
    IFB_FUZZ_CHECK(decode(frame_b, n, (ifb_l2)p->l2, q) == 0);
    if (!same_fields(p, q)) {
        fprintf(stderr,
                "fuzz_wire: decode(encode(decode(frame))) differs from decode(frame): "
                "kind %u/%u hops %u/%u tc %u/%u flags %#x/%#x\n",
                p->kind, q->kind, p->hops, q->hops, p->tc, q->tc, p->flags, q->flags);
        __builtin_trap();
    }
    size_t n2 = ifb_wire_encode(q, frame_a, sizeof frame_a);
    IFB_FUZZ_CHECK(n2 == n && memcmp(frame_a, frame_b, n) == 0);
}

static void raw_mode(uint8_t mode, const uint8_t *d, size_t size)
{
    if (size > sizeof frame_a)
        return;
    ifb_l2 l2 = (mode & 1) ? IFB_L2_IB : IFB_L2_ROCEV2;
    if (size)
        memcpy(frame_a, d, size);
    if (mode & 2)
        (l2 == IFB_L2_IB ? repair_ib : repair_roce)(frame_a, size);
    ifb_pkt *p = pkt_new(), *q = pkt_new();
    if (decode(frame_a, size, l2, p) == 0)
        check_decoded(p, size, q);
    /* Decoding with fewer hop slots than the frame carries must not write past them. */
    if (size) {
        ifb_int_hop few[2];
        (void)ifb_wire_decode(frame_a, size, l2, p, few, 2);
        (void)ifb_wire_decode(frame_a, size, l2, p, NULL, 0);
    }
    free(q);
    free(p);
}

/* Consumes bytes from the input, zero when it runs out. */
typedef struct reader {
    const uint8_t *d;
    size_t n, i;
} reader;

static uint32_t take(reader *r, int bytes)
{
    uint32_t v = 0;
    for (int k = 0; k < bytes; k++)
        v = v << 8 | (r->i < r->n ? r->d[r->i++] : 0);
    return v;
}

static void packet_mode(const uint8_t *d, size_t size)
{
    static const uint8_t ops[] = {IFB_OP_SEND_FIRST, IFB_OP_SEND_MIDDLE, IFB_OP_SEND_LAST,
                                  IFB_OP_SEND_ONLY,  IFB_OP_WRITE_FIRST, IFB_OP_WRITE_MIDDLE,
                                  IFB_OP_WRITE_LAST, IFB_OP_WRITE_ONLY,  IFB_OP_ACK,
                                  IFB_OP_CNP};
    reader r = {d, size, 0};
    ifb_pkt *p = pkt_new(), *q = pkt_new();
    uint32_t sel = take(&r, 1);
    p->kind = (uint8_t)(sel % 6);
    p->l2 = (uint8_t)((sel >> 3) & 1);
    uint32_t op = take(&r, 1);
    p->opcode = (op & 0x80) ? (uint8_t)op : ops[op % sizeof ops];
    p->flags = (uint8_t)take(&r, 1);
    uint32_t addr = take(&r, 1);
    p->src = (addr & 0x80) ? take(&r, 4) : take(&r, 1);
    p->dst = (addr & 0x40) ? take(&r, 4) : take(&r, 1);
    uint32_t pl = take(&r, 2);
    p->payload = (addr & 0x20) ? pl | (take(&r, 1) << 16) : pl % 1100;
    p->psn = take(&r, 4);
    p->sqpn = take(&r, 3);
    p->dqpn = take(&r, 4);
    p->raddr = (uint64_t)take(&r, 4) << 32 | take(&r, 4);
    p->dmalen = take(&r, 4);
    p->sport = (uint16_t)take(&r, 2);
    p->tc = (uint8_t)take(&r, 1);
    p->dscp = (uint8_t)take(&r, 1);
    p->ecn = (uint8_t)take(&r, 1);
    p->hops = (uint8_t)take(&r, 1);
    p->sl = (uint8_t)take(&r, 1);
    uint32_t in = take(&r, 1);
    p->int_on = (uint8_t)(in >> 7);
    p->int_n = (uint8_t)(in & 0x7f);
    if (p->int_n > WIRE_HOPS + 1)
        p->int_n = WIRE_HOPS + 1; /* one past what fits: encode must refuse it */
    for (int h = 0; h < WIRE_HOPS; h++) {
        ifb_int_hop *x = &p->int_hops[h];
        x->node_id = take(&r, 2);
        x->in_port = (uint16_t)take(&r, 1);
        x->out_port = (uint16_t)take(&r, 1);
        x->hop_latency_ns = take(&r, 2);
        x->queue_id = (uint8_t)take(&r, 1);
        x->queue_occ = take(&r, 4);
        x->egress_ts_ns = take(&r, 4);
        x->tx_util_ppm = take(&r, 3);
        if (r.i >= r.n)
            break;
    }
    p->pfc_vec = (uint16_t)take(&r, 2);
    for (int i = 0; i < 8; i++)
        p->pfc_quanta[i] = (uint16_t)take(&r, 2);
    uint32_t flip = take(&r, 3);

    size_t n = ifb_wire_encode(p, frame_a, sizeof frame_a);
    if (n == 0)
        goto out;
    IFB_FUZZ_CHECK(n == ifb_wire_frame_len(p));
    if (p->l2 == IFB_L2_ROCEV2 && p->kind != IFB_PK_PFC && p->int_on && p->int_n > WIRE_HOPS)
        __builtin_trap(); /* more hops than the 8-bit shim length can describe */
    if (decode(frame_a, n, (ifb_l2)p->l2, q) != 0) {
        fprintf(stderr,
                "fuzz_wire: an encoded frame (kind %u, l2 %u, opcode %#x) does not decode\n",
                p->kind, p->l2, p->opcode);
        __builtin_trap();
    }
    /* INT exists on RoCEv2 only, and a probe is told from data by its INT header. */
    int with_int = p->l2 == IFB_L2_ROCEV2 && p->int_on;
    uint8_t kind = p->kind == IFB_PK_PROBE && !with_int ? IFB_PK_DATA : p->kind;
    IFB_FUZZ_CHECK(q->kind == kind && q->l2 == p->l2 && q->src == p->src);
    if (p->kind != IFB_PK_PFC)
        IFB_FUZZ_CHECK(q->dst == p->dst && q->psn == (p->psn & 0xffffff) &&
                       q->payload == p->payload && q->int_n == (with_int ? p->int_n : 0));
    check_decoded(q, n, p);
    /* One flipped bit anywhere: the FCS (or VCRC) catches it. frame_b holds encode(q). */
    size_t bit = flip % (n * 8);
    memcpy(frame_a, frame_b, n);
    frame_a[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    if (decode(frame_a, n, (ifb_l2)q->l2, p) == 0) {
        fprintf(stderr, "fuzz_wire: frame with bit %zu flipped still decodes\n", bit);
        __builtin_trap();
    }
out:
    free(q);
    free(p);
}

int ifb_fuzz_wire(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if (data[0] & 4)
        packet_mode(data + 1, size - 1);
    else
        raw_mode(data[0], data + 1, size - 1);
    return 0;
}

#ifndef IFB_FUZZ_NO_ENTRY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return ifb_fuzz_wire(data, size);
}
#endif
