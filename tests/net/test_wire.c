/* Wire formats: frame lengths against the simulator's accounting, hand-computed sizes and UDP
 * source ports, checksums and CRCs recomputed here independently (bitwise, not the library's
 * tables), encode/decode round trips of every kind, and the decoder's rejection of every truncation
 * and of corrupted fields (with CRCs repaired, so that the field check itself is what rejects). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "net/wire/wire.h"

enum { BUF = 70000 };

/* A packet with room for INT hops behind the flexible array, as a large pool object has. */
typedef struct big_pkt {
    ifb_pkt p;
    ifb_int_hop hops[IFB_INT_MAX_HOPS];
} big_pkt;

static uint8_t frame[BUF];
static uint8_t frame2[BUF];

/* ---- independent reference implementations ------------------------------------------------ */

static uint32_t ref_crc32_raw(uint32_t c, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
    }
    return c;
}

static uint32_t ref_crc32(const uint8_t *p, size_t n)
{
    return ~ref_crc32_raw(~0u, p, n);
}

/* IBA VCRC: x^16 + x^12 + x^3 + x + 1 (0x100B), reflected (0xD008 = bit-reversed 0x100B), initial
 * value and final inversion 0xffff; bit by bit, unlike the library's nibble table. */
static uint16_t ref_vcrc(const uint8_t *p, size_t n)
{
    uint16_t c = 0xffff;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (uint16_t)((c & 1) ? (c >> 1) ^ 0xD008 : c >> 1); /* 0xD008 = bitrev16(0x100B) */
    }
    return (uint16_t)~c;
}

static uint32_t le32_at(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}
static uint32_t be16_at(const uint8_t *b)
{
    return (uint32_t)b[0] << 8 | b[1];
}
static void put_le32(uint8_t *b, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t ones_sum(const uint8_t *b, size_t n)
{
    uint32_t s = 0;
    for (size_t i = 0; i + 1 < n; i += 2)
        s += be16_at(b + i);
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return s;
}

/* L2 header length of a RoCE frame (14 or 18). */
static size_t l2_len(const uint8_t *f)
{
    return be16_at(f + 12) == 0x8100 ? 18 : 14;
}

/* ICRC of a RoCE frame without INT, from the RoCEv2 annex rules, written out longhand. */
static uint32_t ref_roce_icrc(const uint8_t *f)
{
    size_t o = l2_len(f);
    size_t tot = be16_at(f + o + 2);
    uint8_t m[BUF];
    memset(m, 0xff, 8);
    memcpy(m + 8, f + o, tot - 4);
    uint8_t *ip = m + 8;
    ip[1] = 0xff;           /* TOS */
    ip[8] = 0xff;           /* TTL */
    ip[10] = ip[11] = 0xff; /* IP checksum */
    ip[26] = ip[27] = 0xff; /* UDP checksum */
    ip[28 + 4] = 0xff;      /* BTH resv8a */
    return ref_crc32(m, 8 + tot - 4);
}

/* Repairs IPv4 checksum, ICRC (frames without INT: INT is outside the ICRC) and FCS after a test
 * edits a field. */
static void fix_roce(uint8_t *f, size_t len)
{
    size_t o = l2_len(f);
    if (be16_at(f + o - 2) == 0x0800 && len >= o + 28) {
        uint8_t *ip = f + o;
        ip[10] = ip[11] = 0;
        uint32_t s = ~ones_sum(ip, 20) & 0xffff;
        ip[10] = (uint8_t)(s >> 8);
        ip[11] = (uint8_t)s;
        size_t tot = be16_at(ip + 2);
        if (tot >= 32 && o + tot + 4 <= len && be16_at(ip + 22) == 4791)
            put_le32(ip + tot - 4, ref_roce_icrc(f));
    }
    put_le32(f + len - 4, ref_crc32(f, len - 4));
}

/* ---- packet builders ----------------------------------------------------------------------- */

static void base(big_pkt *b, ifb_l2 l2)
{
    memset(b, 0, sizeof *b);
    b->p.l2 = (uint8_t)l2;
    b->p.src = 0x010203;
    b->p.dst = 0x000a0b;
    if (l2 == IFB_L2_IB) {
        b->p.src = 0x1234;
        b->p.dst = 0x0042;
    }
    b->p.dqpn = 0x00abcd;
    b->p.psn = 0x00fffe;
    b->p.sport = ifb_roce_sport(0x11, 0xabcd);
    b->p.dscp = 26;
    b->p.ecn = IFB_ECN_ECT0;
    b->p.tc = 3;
}

static void data(big_pkt *b, ifb_l2 l2, uint8_t op, uint32_t payload, uint8_t flags)
{
    base(b, l2);
    b->p.kind = IFB_PK_DATA;
    b->p.opcode = op;
    b->p.payload = payload;
    b->p.flags = flags;
    b->p.raddr = 0x0000123456789abcull;
    b->p.dmalen = 1u << 20;
}

static void ctrl(big_pkt *b, ifb_l2 l2, ifb_pkt_kind kind)
{
    base(b, l2);
    b->p.kind = (uint8_t)kind;
    b->p.opcode = kind == IFB_PK_CNP ? IFB_OP_CNP : IFB_OP_ACK;
}

static void pfc(big_pkt *b)
{
    base(b, IFB_L2_ROCEV2);
    b->p.kind = IFB_PK_PFC;
    b->p.pfc_vec = 0x18;
    for (int i = 0; i < 8; i++)
        b->p.pfc_quanta[i] = (uint16_t)(i == 3 || i == 4 ? 0xffff : i * 100);
}

static void with_int(big_pkt *b, int n)
{
    b->p.int_on = 1;
    b->p.int_n = (uint8_t)n;
    for (int i = 0; i < n; i++) {
        ifb_int_hop *h = &b->p.int_hops[i];
        h->node_id = 100u + (uint32_t)i;
        h->in_port = (uint16_t)(i * 3 + 1);
        h->out_port = (uint16_t)(i * 3 + 2);
        h->hop_latency_ns = 600u + (uint32_t)i;
        h->queue_id = (uint8_t)(i % 8);
        h->queue_occ = 0x10000u * (uint32_t)i + 0x123;
        h->egress_ts_ns = 0x100000000ull * (uint64_t)(i + 1) + 77;
        h->tx_util_ppm = 950000u - (uint32_t)i;
    }
}

static size_t enc(const big_pkt *b, uint8_t *out)
{
    size_t n = ifb_wire_encode(&b->p, out, BUF);
    assert_int_equal(n, ifb_wire_frame_len(&b->p));
    return n;
}

/* The set of packets every generic test runs over. */
enum { NSAMPLES = 40 };
static int samples(big_pkt *s)
{
    int n = 0;
    const uint8_t ops[8] = {IFB_OP_WRITE_FIRST, IFB_OP_WRITE_MIDDLE, IFB_OP_WRITE_LAST,
                            IFB_OP_WRITE_ONLY,  IFB_OP_SEND_FIRST,   IFB_OP_SEND_MIDDLE,
                            IFB_OP_SEND_LAST,   IFB_OP_SEND_ONLY};
    const uint32_t pay[8] = {1024, 4096, 1001, 64, 0, 1, 2, 3};
    for (int l2 = 0; l2 < 2; l2++) {
        for (int i = 0; i < 8; i++) {
            uint8_t f = 0;
            if (ops[i] == IFB_OP_WRITE_FIRST || ops[i] == IFB_OP_WRITE_ONLY ||
                ops[i] == IFB_OP_SEND_FIRST || ops[i] == IFB_OP_SEND_ONLY)
                f |= IFB_PF_FIRST;
            if (ops[i] == IFB_OP_WRITE_LAST || ops[i] == IFB_OP_WRITE_ONLY ||
                ops[i] == IFB_OP_SEND_LAST || ops[i] == IFB_OP_SEND_ONLY)
                f |= IFB_PF_LAST | IFB_PF_ACKREQ;
            if (l2 == IFB_L2_ROCEV2 && (i & 1))
                f |= IFB_PF_VLAN;
            if (l2 == IFB_L2_IB && i == 2)
                f |= IFB_PF_FECN;
            if (l2 == IFB_L2_IB && i == 5)
                f |= IFB_PF_BECN;
            data(&s[n++], (ifb_l2)l2, ops[i], pay[i], f);
        }
        for (int k = IFB_PK_ACK; k <= IFB_PK_CNP; k++) {
            ctrl(&s[n], (ifb_l2)l2, (ifb_pkt_kind)k);
            if (k == IFB_PK_ACK)
                s[n].p.psn = 0x7fffff;
            n++;
        }
    }
    for (int h = 0; h <= 5; h++) {
        data(&s[n], IFB_L2_ROCEV2, IFB_OP_WRITE_MIDDLE, 1000 + (uint32_t)h,
             h & 1 ? IFB_PF_VLAN : 0);
        with_int(&s[n++], h);
    }
    data(&s[n], IFB_L2_ROCEV2, IFB_OP_SEND_ONLY, 0, IFB_PF_FIRST | IFB_PF_LAST);
    s[n].p.kind = IFB_PK_PROBE;
    with_int(&s[n++], 3);
    ctrl(&s[n], IFB_L2_ROCEV2, IFB_PK_ACK);
    with_int(&s[n++], 2);
    pfc(&s[n++]);
    pfc(&s[n]);
    s[n++].p.flags |= IFB_PF_VLAN;
    data(&s[n], IFB_L2_ROCEV2, IFB_OP_WRITE_LAST, 4096, IFB_PF_LAST);
    s[n++].p.hops = 5;
    assert_true(n <= NSAMPLES);
    return n;
}

/* ---- tests --------------------------------------------------------------------------------- */

static void test_frame_len_every_kind(void **state)
{
    (void)state;
    static big_pkt s[NSAMPLES];
    int n = samples(s);
    for (int i = 0; i < n; i++) {
        size_t len = ifb_wire_encode(&s[i].p, frame, BUF);
        assert_int_not_equal(len, 0);
        assert_int_equal(len, ifb_wire_frame_len(&s[i].p));
        assert_true(len >= (s[i].p.l2 == IFB_L2_IB ? 26u : 64u));
        if (s[i].p.l2 == IFB_L2_ROCEV2)
            assert_int_equal(ifb_wire_len(&s[i].p), len + 20);
        else
            assert_int_equal(ifb_wire_len(&s[i].p), len);
        /* A buffer one byte short is refused rather than overrun. */
        assert_int_equal(ifb_wire_encode(&s[i].p, frame, len - 1), 0);
    }
}

static void test_known_lengths(void **state)
{
    (void)state;
    big_pkt b;
    /* 14 Eth + 20 IP + 8 UDP + 12 BTH + 4096 + 4 ICRC + 4 FCS = 4158; + 8 preamble + 12 IFG. */
    data(&b, IFB_L2_ROCEV2, IFB_OP_WRITE_MIDDLE, 4096, 0);
    assert_int_equal(enc(&b, frame), 4158);
    assert_int_equal(ifb_wire_len(&b.p), 4178);
    /* WRITE_ONLY, 64 B: 14 + 20 + 8 + 12 + 16 RETH + 64 + 4 + 4 = 142; with 802.1Q 146. */
    data(&b, IFB_L2_ROCEV2, IFB_OP_WRITE_ONLY, 64, IFB_PF_FIRST | IFB_PF_LAST);
    assert_int_equal(enc(&b, frame), 142);
    assert_int_equal(ifb_wire_len(&b.p), 162);
    b.p.flags |= IFB_PF_VLAN;
    assert_int_equal(enc(&b, frame), 146);
    /* Payload 1001 is padded to 1004 (PadCnt 3): 14 + 20 + 8 + 12 + 1004 + 4 + 4 = 1066. */
    data(&b, IFB_L2_ROCEV2, IFB_OP_WRITE_LAST, 1001, IFB_PF_LAST);
    assert_int_equal(enc(&b, frame), 1066);
    assert_int_equal((frame[14 + 28 + 1] >> 4) & 3, 3);
    /* ACK: 14 + 20 + 8 + 12 + 4 AETH + 4 + 4 = 66. CNP: 12 + 16 reserved: 78. */
    ctrl(&b, IFB_L2_ROCEV2, IFB_PK_ACK);
    assert_int_equal(enc(&b, frame), 66);
    ctrl(&b, IFB_L2_ROCEV2, IFB_PK_CNP);
    assert_int_equal(enc(&b, frame), 78);
    /* SEND_MIDDLE with no payload: 62 bytes of headers, padded to the 64-byte minimum. */
    data(&b, IFB_L2_ROCEV2, IFB_OP_SEND_MIDDLE, 0, 0);
    assert_int_equal(enc(&b, frame), 64);
    /* PFC: 14 + 2 opcode + 2 vector + 16 quanta + 4 FCS = 38 -> 64 (26 bytes of pad). */
    pfc(&b);
    assert_int_equal(enc(&b, frame), 64);
    assert_int_equal(ifb_wire_len(&b.p), 84);
    /* INT with 5 hops on a 4096 WRITE_MIDDLE: 4158 + 4 shim + 12 header + 5 x 28 = 4314. */
    data(&b, IFB_L2_ROCEV2, IFB_OP_WRITE_MIDDLE, 4096, 0);
    with_int(&b, 5);
    assert_int_equal(enc(&b, frame), 4314);
    /* IB: 8 LRH + 12 BTH + 4096 + 4 ICRC + 2 VCRC = 4122, no preamble/IFG added. */
    data(&b, IFB_L2_IB, IFB_OP_WRITE_MIDDLE, 4096, 0);
    assert_int_equal(enc(&b, frame), 4122);
    assert_int_equal(ifb_wire_len(&b.p), 4122);
    assert_int_equal(be16_at(frame + 4) & 0x7ff, (4122 - 2) / 4); /* LRH PktLen in words */
}

static void test_sport_linux_formula(void **state)
{
    (void)state;
    /* By hand from rdma_calc_flow_label + rdma_flow_label_to_udp_sport:
     * (1,1): v = 1, fl = 1, sport = (1 ^ 0) | 0xC000 = 0xC001.
     * (0x11,0x22): v = 0x242, fl = 0x242, hi = 0 -> 0xC242.
     * (1000,2000): v = 2000000 = 0x1E8480; v ^= v >> 20 -> 0x1E8481; v >> 40 = 0;
     *   fl = 0xE8481; lo = fl & 0x3FFF = 0x481; hi = fl >> 14 = 0x3A; 0x481 ^ 0x3A = 0x4BB ->
     * 0xC4BB. (0x123456,0xABCDEF): v = 0xC379A59BA4A; ^ v >> 20 (0xC379A5) -> 0xC379A9AC3EF; ^ v >>
     * 40 (0xC)
     *   -> 0xC379A9AC3E3; fl = 0xAC3E3; lo = 0x3E3, hi = 0x2B; 0x3E3 ^ 0x2B = 0x3C8 -> 0xC3C8.
     * (0xFFFFFF,0xFFFFFF): v = 0xFFFFFE000001 -> 0xFFFFF1FFFFE1 -> 0xFFFFF1FFFF1E; fl = 0xFFF1E;
     *   lo = 0x3F1E, hi = 0x3F; 0x3F1E ^ 0x3F = 0x3F21 -> 0xFF21. */
    assert_int_equal(ifb_roce_sport(1, 1), 0xC001);
    assert_int_equal(ifb_roce_sport(0x11, 0x22), 0xC242);
    assert_int_equal(ifb_roce_sport(1000, 2000), 0xC4BB);
    assert_int_equal(ifb_roce_sport(0x123456, 0xABCDEF), 0xC3C8);
    assert_int_equal(ifb_roce_sport(0xFFFFFF, 0xFFFFFF), 0xFF21);
    /* Symmetric in the QP pair (a product), always in [0xC000, 0xFFFF], and not constant. */
    assert_int_equal(ifb_roce_sport(2000, 1000), 0xC4BB);
    int distinct = 0;
    uint16_t prev = 0;
    for (uint32_t l = 1; l < 3000; l += 7) {
        for (uint32_t r = 0x10; r < 0xFFFFFF; r = r * 3 + 1) {
            uint16_t s = ifb_roce_sport(l, r);
            assert_true(s >= 0xC000);
            if (s != prev)
                distinct++;
            prev = s;
        }
    }
    assert_true(distinct > 1000);
    /* The encoder writes the packet's sport into the UDP header. */
    big_pkt b;
    data(&b, IFB_L2_ROCEV2, IFB_OP_WRITE_MIDDLE, 256, 0);
    b.p.sport = ifb_roce_sport(1000, 2000);
    enc(&b, frame);
    assert_int_equal(be16_at(frame + 34), 0xC4BB);
    assert_int_equal(be16_at(frame + 36), 4791);
}

static void test_ipv4_and_fcs(void **state)
{
    (void)state;
    static big_pkt s[NSAMPLES];
    int n = samples(s);
    int checked_ip = 0;
    for (int i = 0; i < n; i++) {
        if (s[i].p.l2 != IFB_L2_ROCEV2)
            continue;
        size_t len = enc(&s[i], frame);
        /* FCS: equal to an independent CRC-32 of the frame, and the CRC-32 residue over the
         * frame with its FCS is the constant 0x2144DF1C. */
        assert_int_equal(le32_at(frame + len - 4), ref_crc32(frame, len - 4));
        assert_int_equal(ref_crc32(frame, len), 0x2144DF1C);
        if (s[i].p.kind == IFB_PK_PFC)
            continue;
        size_t o = l2_len(frame);
        const uint8_t *ip = frame + o;
        assert_int_equal(ip[0], 0x45);
        assert_int_equal(ip[9], 17);
        assert_int_equal(ip[1], (26 << 2) | IFB_ECN_ECT0);
        assert_int_equal(ip[8], 64 - s[i].p.hops);
        /* Recomputing the header sum with the stored checksum gives 0 (all ones). */
        assert_int_equal(~ones_sum(ip, 20) & 0xffff, 0);
        assert_int_not_equal(be16_at(ip + 10), 0);
        assert_int_equal(be16_at(ip + 12), 0x0a01);
        assert_int_equal(be16_at(ip + 14), 0x0203);
        assert_int_equal(be16_at(ip + 2) + o + 4 <= len, 1);
        checked_ip++;
    }
    assert_true(checked_ip > 10);
    /* A corrupted byte anywhere breaks the FCS residue. */
    big_pkt b;
    data(&b, IFB_L2_ROCEV2, IFB_OP_WRITE_MIDDLE, 100, 0);
    size_t len = enc(&b, frame);
    frame[50] ^= 1;
    assert_int_not_equal(ref_crc32(frame, len), 0x2144DF1C);
}

static void test_icrc_and_vcrc(void **state)
{
    (void)state;
    big_pkt b;
    /* RoCE ICRC against the longhand annex computation, on several header stacks. */
    const uint8_t ops[3] = {IFB_OP_WRITE_FIRST, IFB_OP_SEND_LAST, IFB_OP_WRITE_MIDDLE};
    for (int i = 0; i < 3; i++) {
        data(&b, IFB_L2_ROCEV2, ops[i], 333, i == 0 ? IFB_PF_FIRST : IFB_PF_VLAN);
        size_t len = enc(&b, frame);
        size_t o = l2_len(frame);
        size_t tot = be16_at(frame + o + 2);
        assert_int_equal(le32_at(frame + o + tot - 4), ref_roce_icrc(frame));
        (void)len;
    }
    ctrl(&b, IFB_L2_ROCEV2, IFB_PK_NAK);
    enc(&b, frame);
    assert_int_equal(le32_at(frame + 14 + 20 + 8 + 16), ref_roce_icrc(frame));
    /* Fields the ICRC must not cover (TOS, TTL): changing them leaves the ICRC unchanged;
     * a covered field (PSN) changes it. */
    data(&b, IFB_L2_ROCEV2, IFB_OP_WRITE_MIDDLE, 512, 0);
    size_t len = enc(&b, frame);
    uint32_t icrc0 = le32_at(frame + len - 8);
    b.p.dscp = 48;
    b.p.ecn = IFB_ECN_CE;
    b.p.hops = 3;
    enc(&b, frame);
    assert_int_equal(le32_at(frame + len - 8), icrc0);
    b.p.psn++;
    enc(&b, frame);
    assert_int_not_equal(le32_at(frame + len - 8), icrc0);
    /* INT is inserted in the network: the ICRC is that of the packet without INT. */
    data(&b, IFB_L2_ROCEV2, IFB_OP_WRITE_MIDDLE, 512, 0);
    len = enc(&b, frame);
    icrc0 = le32_at(frame + len - 8);
    with_int(&b, 4);
    size_t len2 = enc(&b, frame2);
    assert_int_equal(len2, len + 16 + 4 * 28);
    assert_int_equal(le32_at(frame2 + len2 - 8), icrc0);
    assert_int_equal(be16_at(frame2 + 36), IFB_INT_UDP_PORT);
    assert_int_equal(be16_at(frame2 + 42 + 2), 4791); /* original port kept in the shim */

    /* IB: ICRC over LRH (VL masked) + BTH (resv8a masked) + rest; VCRC over LRH..ICRC. */
    data(&b, IFB_L2_IB, IFB_OP_WRITE_FIRST, 250, IFB_PF_FIRST | IFB_PF_FECN);
    b.p.sl = 5;
    len = enc(&b, frame);
    uint8_t m[BUF];
    memcpy(m, frame, len - 6);
    m[0] |= 0xf0;
    m[8 + 4] = 0xff;
    assert_int_equal(le32_at(frame + len - 6), ref_crc32(m, len - 6));
    uint16_t v = ref_vcrc(frame, len - 2);
    assert_int_equal(frame[len - 2] | frame[len - 1] << 8, v);
    assert_int_equal(frame[0] >> 4, 3);           /* VL = tc */
    assert_int_equal(frame[1], 5 << 4 | 2);       /* SL, LNH = IBA local */
    assert_int_equal(be16_at(frame + 2), 0x43);   /* DLID = dst + 1 */
    assert_int_equal(be16_at(frame + 6), 0x1235); /* SLID = src + 1 */
    assert_int_equal(frame[8 + 4], 0x80);         /* FECN */
    /* VL and FECN are variant: the ICRC ignores them, the VCRC does not. */
    uint32_t ib_icrc0 = le32_at(frame + len - 6);
    b.p.tc = 1;
    b.p.flags &= (uint8_t)~IFB_PF_FECN;
    enc(&b, frame2);
    assert_int_equal(le32_at(frame2 + len - 6), ib_icrc0);
    assert_int_not_equal(frame2[len - 2] | frame2[len - 1] << 8, v);
}

static void check_same(const ifb_pkt *a, const ifb_pkt *d, const ifb_int_hop *hops)
{
    assert_int_equal(d->kind, a->kind);
    assert_int_equal(d->l2, a->l2);
    assert_int_equal(d->src, a->src);
    if (a->kind == IFB_PK_PFC) {
        assert_int_equal(d->pfc_vec, a->pfc_vec);
        for (int i = 0; i < 8; i++)
            assert_int_equal(d->pfc_quanta[i], a->pfc_quanta[i]);
        assert_int_equal(d->flags & IFB_PF_VLAN, a->flags & IFB_PF_VLAN);
        return;
    }
    assert_int_equal(d->dst, a->dst);
    assert_int_equal(d->sqpn, 0);
    assert_int_equal(d->dqpn, a->dqpn);
    assert_int_equal(d->psn, a->psn);
    assert_int_equal(d->payload, a->payload);
    assert_int_equal(d->wire, ifb_wire_len(a));
    uint8_t mask = IFB_PF_ACKREQ | IFB_PF_VLAN | IFB_PF_FECN | IFB_PF_BECN;
    if (a->kind == IFB_PK_DATA || a->kind == IFB_PK_PROBE)
        mask |= IFB_PF_FIRST | IFB_PF_LAST;
    assert_int_equal(d->flags & mask, a->flags & mask);
    if (a->kind == IFB_PK_DATA || a->kind == IFB_PK_PROBE)
        assert_int_equal(d->opcode, a->opcode);
    else
        assert_int_equal(d->opcode, a->kind == IFB_PK_CNP ? IFB_OP_CNP : IFB_OP_ACK);
    if (a->kind == IFB_PK_DATA &&
        (a->opcode == IFB_OP_WRITE_FIRST || a->opcode == IFB_OP_WRITE_ONLY)) {
        assert_int_equal(d->raddr, a->raddr);
        assert_int_equal(d->dmalen, a->dmalen);
    } else {
        assert_int_equal(d->raddr, 0);
        assert_int_equal(d->dmalen, 0);
    }
    if (a->l2 == IFB_L2_IB) {
        assert_int_equal(d->tc, a->tc);
        assert_int_equal(d->sl, a->sl);
        assert_int_equal(d->int_on, 0);
        return;
    }
    assert_int_equal(d->sport, a->sport);
    assert_int_equal(d->dscp, a->dscp);
    assert_int_equal(d->ecn, a->ecn);
    assert_int_equal(d->hops, a->hops);
    assert_int_equal(d->tc, (a->flags & IFB_PF_VLAN) ? a->tc : 0);
    assert_int_equal(d->int_on, a->int_on);
    assert_int_equal(d->int_n, a->int_on ? a->int_n : 0);
    for (int i = 0; a->int_on && i < a->int_n; i++) {
        const ifb_int_hop *x = &a->int_hops[i], *y = &hops[i];
        assert_int_equal(y->node_id, x->node_id);
        assert_int_equal(y->in_port, x->in_port);
        assert_int_equal(y->out_port, x->out_port);
        assert_int_equal(y->hop_latency_ns, x->hop_latency_ns);
        assert_int_equal(y->queue_id, x->queue_id);
        assert_int_equal(y->queue_occ, x->queue_occ);
        assert_int_equal(y->egress_ts_ns, x->egress_ts_ns);
        assert_int_equal(y->tx_util_ppm, x->tx_util_ppm);
    }
}

static void test_roundtrip(void **state)
{
    (void)state;
    static big_pkt s[NSAMPLES];
    int n = samples(s);
    int kinds_seen = 0;
    for (int i = 0; i < n; i++) {
        size_t len = enc(&s[i], frame);
        big_pkt d;
        ifb_int_hop hops[IFB_INT_MAX_HOPS];
        memset(hops, 0xee, sizeof hops);
        assert_int_equal(
            ifb_wire_decode(frame, len, (ifb_l2)s[i].p.l2, &d.p, hops, IFB_INT_MAX_HOPS), 0);
        check_same(&s[i].p, &d.p, hops);
        kinds_seen |= 1 << s[i].p.kind;
        /* The wrong link type never parses. */
        ifb_l2 other = s[i].p.l2 == IFB_L2_IB ? IFB_L2_ROCEV2 : IFB_L2_IB;
        assert_int_equal(ifb_wire_decode(frame, len, other, &d.p, hops, IFB_INT_MAX_HOPS), -1);
    }
    assert_int_equal(kinds_seen, 0x3f); /* DATA, ACK, NAK, CNP, PFC, PROBE */

    /* INT stack order on the wire: newest hop (last switch) first. */
    big_pkt b;
    data(&b, IFB_L2_ROCEV2, IFB_OP_WRITE_MIDDLE, 64, 0);
    with_int(&b, 3);
    enc(&b, frame);
    const uint8_t *md = frame + 42 + 4;
    assert_int_equal(md[0] >> 4, 2);                                  /* version */
    assert_int_equal(md[2] & 0x1f, 7);                                /* hop ML */
    assert_int_equal(md[3], IFB_INT_MAX_HOPS - 3);                    /* remaining hop count */
    assert_int_equal(be16_at(md + 4), 0xF500);                        /* bits 0,1,2,3,5,7 */
    assert_int_equal(frame[42], 0x14);                                /* shim: type 1, NPT 1 */
    assert_int_equal(frame[43], 3 + 3 * 7);                           /* words after the shim */
    assert_int_equal(be16_at(md + 12) << 16 | be16_at(md + 14), 102); /* node of hop 3 */

    /* Fewer hop slots than hops: int_n tells the truth, only the first slots are written. */
    ifb_int_hop two[2];
    big_pkt d;
    assert_int_equal(ifb_wire_decode(frame, ifb_wire_frame_len(&b.p), IFB_L2_ROCEV2, &d.p, two, 2),
                     0);
    assert_int_equal(d.p.int_n, 3);
    assert_int_equal(two[0].node_id, 100);
    assert_int_equal(two[1].node_id, 101);
    assert_int_equal(ifb_wire_decode(frame, ifb_wire_frame_len(&b.p), IFB_L2_ROCEV2, &d.p, NULL, 5),
                     0);

    /* Queue occupancy beyond 24 bits saturates. */
    b.p.int_hops[0].queue_occ = 0x2000000;
    enc(&b, frame);
    ifb_int_hop h3[3];
    assert_int_equal(ifb_wire_decode(frame, ifb_wire_frame_len(&b.p), IFB_L2_ROCEV2, &d.p, h3, 3),
                     0);
    assert_int_equal(h3[0].queue_occ, 0xffffff);
}

static void test_encode_refuses_inconsistent(void **state)
{
    (void)state;
    big_pkt b;
    /* WRITE_FIRST without the FIRST flag: the length accounting has no RETH for it. */
    data(&b, IFB_L2_ROCEV2, IFB_OP_WRITE_FIRST, 100, 0);
    assert_int_equal(ifb_wire_encode(&b.p, frame, BUF), 0);
    data(&b, IFB_L2_ROCEV2, 0x1f, 100, 0); /* not an RC SEND/WRITE opcode */
    assert_int_equal(ifb_wire_encode(&b.p, frame, BUF), 0);
    data(&b, IFB_L2_ROCEV2, IFB_OP_WRITE_MIDDLE, 100, 0);
    b.p.dst = 1u << 24; /* beyond 10.x.y.z */
    assert_int_equal(ifb_wire_encode(&b.p, frame, BUF), 0);
    data(&b, IFB_L2_IB, IFB_OP_WRITE_MIDDLE, 100, 0);
    b.p.dst = 0xBFFF; /* LID 0xC000 is multicast */
    assert_int_equal(ifb_wire_encode(&b.p, frame, BUF), 0);
    data(&b, IFB_L2_IB, IFB_OP_WRITE_MIDDLE, 9000, 0); /* LRH length is 11 bits of words */
    assert_int_equal(ifb_wire_encode(&b.p, frame, BUF), 0);
    pfc(&b);
    b.p.l2 = IFB_L2_IB;
    assert_int_equal(ifb_wire_encode(&b.p, frame, BUF), 0);
    ctrl(&b, IFB_L2_ROCEV2, IFB_PK_ACK);
    b.p.payload = 8;
    assert_int_equal(ifb_wire_encode(&b.p, frame, BUF), 0);
    assert_int_equal(ifb_wire_encode(NULL, frame, BUF), 0);
}

static void test_truncations_rejected(void **state)
{
    (void)state;
    static big_pkt s[NSAMPLES];
    int n = samples(s);
    big_pkt d;
    ifb_int_hop hops[IFB_INT_MAX_HOPS];
    for (int i = 0; i < n; i++) {
        size_t len = enc(&s[i], frame);
        ifb_l2 l2 = (ifb_l2)s[i].p.l2;
        for (size_t k = 0; k < len; k++)
            assert_int_equal(ifb_wire_decode(frame, k, l2, &d.p, hops, IFB_INT_MAX_HOPS), -1);
        /* A trailing extra byte is not what encode writes either. */
        frame[len] = 0;
        assert_int_equal(ifb_wire_decode(frame, len + 1, l2, &d.p, hops, IFB_INT_MAX_HOPS), -1);
        assert_int_equal(ifb_wire_decode(frame, len, l2, &d.p, hops, IFB_INT_MAX_HOPS), 0);
    }
    assert_int_equal(ifb_wire_decode(NULL, 100, IFB_L2_ROCEV2, &d.p, hops, 1), -1);
}

static void test_bit_flips_rejected(void **state)
{
    (void)state;
    static big_pkt s[NSAMPLES];
    int n = samples(s);
    big_pkt d;
    ifb_int_hop hops[IFB_INT_MAX_HOPS];
    for (int i = 0; i < n; i++) {
        size_t len = enc(&s[i], frame);
        ifb_l2 l2 = (ifb_l2)s[i].p.l2;
        /* Every single-bit error is caught, by a field check or else by a CRC (the FCS or VCRC
         * cover every byte, the ICRC all but the variant fields and INT). */
        for (size_t k = 0; k < len && k < 300; k++) {
            for (int bit = 0; bit < 8; bit += 3) {
                frame[k] ^= (uint8_t)(1 << bit);
                if (ifb_wire_decode(frame, len, l2, &d.p, hops, IFB_INT_MAX_HOPS) != -1)
                    fail_msg("sample %d (kind %d, l2 %d): flip of bit %d of byte %zu accepted", i,
                             s[i].p.kind, s[i].p.l2, bit, k);
                frame[k] ^= (uint8_t)(1 << bit);
            }
        }
    }
}

/* Edits one field of a RoCE frame, repairs the checksums and expects decode to refuse it. */
static void expect_field_rejected(const big_pkt *b, size_t off, uint8_t val, const char *what)
{
    size_t len = enc(b, frame);
    big_pkt d;
    ifb_int_hop hops[IFB_INT_MAX_HOPS];
    fix_roce(frame, len); /* control: repairing an intact frame keeps it valid */
    assert_int_equal(ifb_wire_decode(frame, len, IFB_L2_ROCEV2, &d.p, hops, IFB_INT_MAX_HOPS), 0);
    frame[off] = val;
    fix_roce(frame, len);
    if (ifb_wire_decode(frame, len, IFB_L2_ROCEV2, &d.p, hops, IFB_INT_MAX_HOPS) != -1)
        fail_msg("decode accepted a frame with a bad %s", what);
}

static void test_corrupted_fields_rejected(void **state)
{
    (void)state;
    big_pkt b;
    data(&b, IFB_L2_ROCEV2, IFB_OP_WRITE_FIRST, 200, IFB_PF_FIRST);
    expect_field_rejected(&b, 12, 0x86, "EtherType");
    expect_field_rejected(&b, 14, 0x46, "IP header length");
    expect_field_rejected(&b, 14, 0x65, "IP version");
    expect_field_rejected(&b, 14 + 9, 6, "IP protocol");
    expect_field_rejected(&b, 14 + 6, 0x20, "fragment flags (MF)");
    expect_field_rejected(&b, 14 + 3, 0xff, "IP total length");
    expect_field_rejected(&b, 14 + 12, 11, "source network");
    expect_field_rejected(&b, 14 + 18, 0x7f, "destination address (MAC disagrees)");
    expect_field_rejected(&b, 34 + 2, 0x13, "UDP destination port");
    expect_field_rejected(&b, 34 + 5, 0x01, "UDP length");
    expect_field_rejected(&b, 42, 0x1f, "BTH opcode (reserved)");
    expect_field_rejected(&b, 42, 0x64, "BTH opcode (UD)");
    expect_field_rejected(&b, 42 + 1, 0x41, "BTH transport version");
    expect_field_rejected(&b, 34 + 6, 0x12, "UDP checksum (non-zero and wrong)");
    ctrl(&b, IFB_L2_ROCEV2, IFB_PK_ACK);
    expect_field_rejected(&b, 54, 0x20, "AETH syndrome (RNR NAK)");
    expect_field_rejected(&b, 42 + 1, 0x50, "pad count on an ACK");
    ctrl(&b, IFB_L2_ROCEV2, IFB_PK_CNP);
    expect_field_rejected(&b, 42, IFB_OP_ACK, "opcode (ACK with a CNP's length)");
    pfc(&b);
    expect_field_rejected(&b, 14 + 1, 0x02, "PFC opcode");
    expect_field_rejected(&b, 14 + 2, 0x01, "PFC class vector (reserved octet)");
    expect_field_rejected(&b, 5, 0x02, "PFC destination address");

    /* INT fields: the ICRC does not cover INT, so only the IP checksum and FCS need repair. */
    data(&b, IFB_L2_ROCEV2, IFB_OP_WRITE_MIDDLE, 200, 0);
    with_int(&b, 2);
    expect_field_rejected(&b, 42, 0x24, "INT shim type");
    expect_field_rejected(&b, 42, 0x18, "INT shim NPT");
    expect_field_rejected(&b, 43, 3 + 2 * 7 - 1, "INT shim length");
    expect_field_rejected(&b, 42 + 3, 0xb8, "INT original port");
    expect_field_rejected(&b, 46, 0x10, "INT version");
    expect_field_rejected(&b, 46 + 2, 6, "INT hop metadata length");
    expect_field_rejected(&b, 46 + 4, 0xf4, "INT instruction bitmap");

    /* IB: LNH with a GRH, LVer, DLID 0, a multicast SLID, PktLen, opcode; CRCs repaired. */
    const struct {
        size_t off;
        uint8_t val;
    } ib[] = {{1, 0x03}, {0, 0x31}, {3, 0x00}, {6, 0xc0}, {5, 0x02}, {8, 0x1f}};
    for (size_t i = 0; i < sizeof ib / sizeof ib[0]; i++) {
        data(&b, IFB_L2_IB, IFB_OP_WRITE_MIDDLE, 64, 0);
        size_t len = enc(&b, frame);
        frame[ib[i].off] = ib[i].val;
        uint8_t m[BUF];
        memcpy(m, frame, len - 6);
        m[0] |= 0xf0;
        m[12] = 0xff;
        put_le32(frame + len - 6, ref_crc32(m, len - 6));
        uint16_t v = ref_vcrc(frame, len - 2);
        frame[len - 2] = (uint8_t)v;
        frame[len - 1] = (uint8_t)(v >> 8);
        big_pkt d;
        assert_int_equal(ifb_wire_decode(frame, len, IFB_L2_IB, &d.p, NULL, 0), -1);
    }
}

static void test_garbage_never_crashes(void **state)
{
    (void)state;
    /* Random bytes, and valid frames with random byte runs overwritten (CRCs repaired), at random
     * lengths. Meant for the sanitizer build: any out-of-bounds read shows there. */
    uint64_t x = 0x9E3779B97F4A7C15ull;
    static big_pkt s[NSAMPLES];
    int n = samples(s);
    big_pkt d;
    ifb_int_hop hops[2];
    int accepted = 0;
    for (int it = 0; it < 20000; it++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        size_t len;
        ifb_l2 l2 = (ifb_l2)(x & 1);
        if (it & 1) {
            len = (size_t)(x >> 8) % 200;
            for (size_t k = 0; k < len; k++)
                frame[k] = (uint8_t)(x >> (k % 56));
        } else {
            const big_pkt *p = &s[(x >> 20) % (uint64_t)n];
            len = enc(p, frame);
            l2 = (ifb_l2)p->p.l2;
            size_t at = (size_t)(x >> 32) % len, run = 1 + (size_t)(x >> 48) % 4;
            for (size_t k = at; k < at + run && k < len; k++)
                frame[k] = (uint8_t)(x >> (8 * (k - at)));
            if (l2 == IFB_L2_ROCEV2 && len >= 64)
                fix_roce(frame, len);
        }
        if (ifb_wire_decode(frame, len, l2, &d.p, hops, 2) == 0)
            accepted++;
    }
    /* Some edited-but-repaired frames (payload bytes, ports, PSNs) are still valid. */
    assert_true(accepted > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frame_len_every_kind),
        cmocka_unit_test(test_known_lengths),
        cmocka_unit_test(test_sport_linux_formula),
        cmocka_unit_test(test_ipv4_and_fcs),
        cmocka_unit_test(test_icrc_and_vcrc),
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_encode_refuses_inconsistent),
        cmocka_unit_test(test_truncations_rejected),
        cmocka_unit_test(test_bit_flips_rejected),
        cmocka_unit_test(test_corrupted_fields_rejected),
        cmocka_unit_test(test_garbage_never_crashes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
