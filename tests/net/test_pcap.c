/* pcap writer: file and record headers byte by byte, snap length, errors that name the path, and
 * (when tshark is installed) what an independent dissector makes of the frames: BTH opcode, dest
 * QP and PSN of RoCEv2 and InfiniBand packets, PFC class vector and pause times, an INT-carrying
 * packet's UDP framing, good FCS and IPv4 checksums, and no malformed packets.
 *
 * tshark 4.0 cannot check the ICRC or VCRC (the InfiniBand dissector only displays them; test_wire
 * checks both against independent CRC code), has no INT dissector (an INT packet shows as UDP
 * data, so only its framing is checked here), and names opcode 0x81 "Unknown OpCode" (CNP is
 * newer than its opcode table). tshark options used:
 *   -o eth.fcs:Always -o eth.check_fcs:TRUE   the frames end in an FCS; verify it
 *   -o ip.check_checksum:TRUE                 verify IPv4 header checksums
 *   --disable-protocol rpcordma               its heuristic throws "malformed" on an empty SEND
 *   -o 'uat:user_dlts:"User 0 (DLT=147)","infiniband","0","","0",""'   IB captures (see pcap.h) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "net/wire/pcap.h"
#include "net/wire/wire.h"

typedef struct big_pkt {
    ifb_pkt p;
    ifb_int_hop hops[IFB_INT_MAX_HOPS];
} big_pkt;

static char tmpdir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ifb_pcap_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static const char *const files[] = {"a.pcap",    "snap.pcap", "ib.pcap",  "err.pcap",
                                    "roce.pcap", "pfc.pcap",  "int.pcap", "ibts.pcap"};

static int teardown(void **state)
{
    (void)state;
    char path[128];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", tmpdir, files[i]);
        unlink(path);
    }
    return rmdir(tmpdir);
}

static void path_of(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "%s/%s", tmpdir, name);
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static uint8_t buf[1 << 20];
    *len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    return buf;
}

static uint32_t le32(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static void roce_data(big_pkt *b, uint8_t op, uint32_t dqpn, uint32_t psn, uint32_t payload)
{
    memset(b, 0, sizeof *b);
    b->p.l2 = IFB_L2_ROCEV2;
    b->p.kind = IFB_PK_DATA;
    b->p.src = 3;
    b->p.dst = 0x010207;
    b->p.sqpn = 0x11;
    b->p.dqpn = dqpn;
    b->p.psn = psn;
    b->p.opcode = op;
    b->p.payload = payload;
    b->p.sport = ifb_roce_sport(0x11, dqpn);
    b->p.dscp = 26;
    b->p.ecn = IFB_ECN_ECT0;
    b->p.tc = 3;
    if (op == IFB_OP_WRITE_FIRST || op == IFB_OP_WRITE_ONLY || op == IFB_OP_SEND_FIRST ||
        op == IFB_OP_SEND_ONLY) {
        b->p.flags |= IFB_PF_FIRST;
        b->p.raddr = 0x7f0000001000ull;
        b->p.dmalen = 65536;
    }
    if (op == IFB_OP_WRITE_LAST || op == IFB_OP_WRITE_ONLY || op == IFB_OP_SEND_LAST ||
        op == IFB_OP_SEND_ONLY)
        b->p.flags |= IFB_PF_LAST | IFB_PF_ACKREQ;
}

static int have_tshark(void)
{
    if (system("command -v tshark >/dev/null 2>&1") == 0)
        return 1;
    printf("NOTE: tshark not on PATH; skipping the tshark cross-check\n");
    return 0;
}

/* Runs tshark with `args` on `file` and returns its stdout lines (stderr discarded). */
static int run_tshark(const char *args, const char *file, char lines[][512], int max)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "tshark -n -r '%s' %s 2>/dev/null", file, args);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    int n = 0;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (getenv("IFB_TEST_VERBOSE"))
            printf("tshark: %s\n", line);
        if (n < max)
            snprintf(lines[n], 512, "%s", line);
        n++;
    }
    assert_int_equal(pclose(f), 0);
    return n;
}

/* Splits a comma-separated tshark line into at most max fields (empty fields kept). */
static int split(char *line, char **out, int max)
{
    int n = 0;
    char *s = line;
    while (n < max) {
        out[n++] = s;
        char *c = strchr(s, ',');
        if (!c)
            break;
        *c = '\0';
        s = c + 1;
    }
    return n;
}

static unsigned long num(const char *s)
{
    assert_true(s[0] != '\0');
    char *end;
    unsigned long v = strtoul(s, &end, 0);
    assert_true(*end == '\0');
    return v;
}

/* ---- tests --------------------------------------------------------------------------------- */

static void test_file_and_record_headers(void **state)
{
    (void)state;
    char path[128];
    path_of(path, sizeof path, "a.pcap");
    ifb_err err = {{0}};
    ifb_pcap *pc = ifb_pcap_open(path, IFB_L2_ROCEV2, 0, &err);
    assert_non_null(pc);
    big_pkt b[3];
    roce_data(&b[0], IFB_OP_WRITE_FIRST, 0x000100, 0, 1024);
    roce_data(&b[1], IFB_OP_WRITE_MIDDLE, 0x000100, 1, 1024);
    roce_data(&b[2], IFB_OP_SEND_ONLY, 0xabcdef, 0xffffff, 13);
    /* 3 s + 123456789012 ps -> 3 s and 123456789 ns (truncated, not rounded). */
    const ifb_time t[3] = {0, 999, 3 * IFB_SEC + 123456789012ull};
    for (int i = 0; i < 3; i++)
        assert_int_equal(ifb_pcap_write_pkt(pc, t[i], &b[i].p), 0);
    assert_int_equal(ifb_pcap_records(pc), 3);
    assert_null(ifb_pcap_error(pc));
    assert_int_equal(ifb_pcap_close(pc, &err), 0);

    size_t len;
    const uint8_t *f = slurp(path, &len);
    const uint8_t hdr[24] = {0x4d, 0x3c, 0xb2, 0xa1, 2,    0,    4,    0, 0, 0, 0, 0,
                             0,    0,    0,    0,    0x40, 0x00, 0x01, 0, 1, 0, 0, 0};
    assert_memory_equal(f, hdr, sizeof hdr); /* magic (ns), 2.4, zone 0, snaplen 65600, Ethernet */
    size_t o = 24;
    const uint32_t sec[3] = {0, 0, 3}, nsec[3] = {0, 0, 123456789};
    uint8_t frame[IFB_PCAP_MAX_FRAME];
    for (int i = 0; i < 3; i++) {
        size_t n = ifb_wire_encode(&b[i].p, frame, sizeof frame);
        assert_true(o + 16 + n <= len);
        assert_int_equal(le32(f + o), sec[i]);
        assert_int_equal(le32(f + o + 4), nsec[i]);
        assert_int_equal(le32(f + o + 8), n);
        assert_int_equal(le32(f + o + 12), n);
        assert_memory_equal(f + o + 16, frame, n);
        o += 16 + n;
    }
    assert_int_equal(o, len);
    assert_int_equal(le32(f + 24 + 8), 1102); /* WRITE_FIRST 1024: 14+20+8+12+16+1024+4+4 */
}

static void test_snaplen_and_ib_linktype(void **state)
{
    (void)state;
    char path[128];
    ifb_err err = {{0}};
    path_of(path, sizeof path, "snap.pcap");
    ifb_pcap *pc = ifb_pcap_open(path, IFB_L2_ROCEV2, 128, &err);
    assert_non_null(pc);
    big_pkt b;
    roce_data(&b, IFB_OP_WRITE_MIDDLE, 5, 6, 4096);
    assert_int_equal(ifb_pcap_write_pkt(pc, IFB_US, &b.p), 0);
    assert_int_equal(ifb_pcap_close(pc, &err), 0);
    size_t len;
    const uint8_t *f = slurp(path, &len);
    assert_int_equal(le32(f + 16), 128);
    assert_int_equal(len, 24 + 16 + 128);
    assert_int_equal(le32(f + 24 + 4), 1000);  /* 1 us */
    assert_int_equal(le32(f + 24 + 8), 128);   /* captured */
    assert_int_equal(le32(f + 24 + 12), 4158); /* on the wire */

    path_of(path, sizeof path, "ib.pcap");
    pc = ifb_pcap_open(path, IFB_L2_IB, 0, &err);
    assert_non_null(pc);
    b.p.l2 = IFB_L2_IB;
    b.p.dst = 7; /* LIDs stop at 0xBFFF */
    assert_int_equal(ifb_pcap_write_pkt(pc, 0, &b.p), 0);
    assert_int_equal(ifb_pcap_close(pc, &err), 0);
    f = slurp(path, &len);
    assert_int_equal(le32(f + 20), 147);
    assert_int_equal(le32(f + 24 + 12), 8 + 12 + 4096 + 4 + 2);
}

static void test_errors_name_the_path(void **state)
{
    (void)state;
    ifb_err err = {{0}};
    const char *bad = "/nonexistent-ifb-dir/x.pcap";
    assert_null(ifb_pcap_open(bad, IFB_L2_ROCEV2, 0, &err));
    assert_non_null(strstr(err.msg, bad));

    /* A packet of the other link layer, then an unencodable one: the first error sticks and is
     * reported, with the path, when the file is closed. */
    char path[128];
    path_of(path, sizeof path, "err.pcap");
    ifb_pcap *pc = ifb_pcap_open(path, IFB_L2_ROCEV2, 0, &err);
    assert_non_null(pc);
    big_pkt b;
    roce_data(&b, IFB_OP_WRITE_MIDDLE, 5, 6, 100);
    assert_int_equal(ifb_pcap_write_pkt(pc, 0, &b.p), 0);
    b.p.l2 = IFB_L2_IB;
    assert_int_equal(ifb_pcap_write_pkt(pc, 0, &b.p), -1);
    assert_non_null(ifb_pcap_error(pc));
    assert_non_null(strstr(ifb_pcap_error(pc), path));
    b.p.l2 = IFB_L2_ROCEV2;
    assert_int_equal(ifb_pcap_write_pkt(pc, 0, &b.p), -1); /* sticky */
    assert_int_equal(ifb_pcap_records(pc), 1);
    memset(&err, 0, sizeof err);
    assert_int_equal(ifb_pcap_close(pc, &err), -1);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "other link layer"));

    pc = ifb_pcap_open(path, IFB_L2_ROCEV2, 0, &err);
    assert_non_null(pc);
    roce_data(&b, IFB_OP_WRITE_FIRST, 5, 6, 100);
    b.p.flags = 0; /* WRITE_FIRST without FIRST: no consistent encoding */
    assert_int_equal(ifb_pcap_write_pkt(pc, 0, &b.p), -1);
    assert_int_equal(ifb_pcap_close(pc, &err), -1);
    assert_non_null(strstr(err.msg, "cannot be encoded"));

    /* A device that refuses the bytes: the failure surfaces by close at the latest. */
    if (access("/dev/full", W_OK) == 0) {
        pc = ifb_pcap_open("/dev/full", IFB_L2_ROCEV2, 0, &err);
        if (pc) {
            roce_data(&b, IFB_OP_WRITE_MIDDLE, 5, 6, 100);
            for (int i = 0; i < 100; i++)
                ifb_pcap_write_pkt(pc, 0, &b.p);
            memset(&err, 0, sizeof err);
            assert_int_equal(ifb_pcap_close(pc, &err), -1);
            assert_non_null(strstr(err.msg, "/dev/full"));
        } else {
            assert_non_null(strstr(err.msg, "/dev/full"));
        }
    }
    assert_int_equal(ifb_pcap_close(NULL, &err), 0);
}

static void test_tshark_roce_bth(void **state)
{
    (void)state;
    if (!have_tshark())
        skip(); /* shows as skipped in CTest (tests/run_cmocka.sh) */
    char path[128];
    path_of(path, sizeof path, "roce.pcap");
    ifb_err err = {{0}};
    ifb_pcap *pc = ifb_pcap_open(path, IFB_L2_ROCEV2, 0, &err);
    assert_non_null(pc);
    enum { N = 9 };
    big_pkt b[N];
    roce_data(&b[0], IFB_OP_WRITE_FIRST, 0x000012, 0, 4096);
    roce_data(&b[1], IFB_OP_WRITE_MIDDLE, 0x000012, 1, 4096);
    roce_data(&b[2], IFB_OP_WRITE_LAST, 0x000012, 2, 1001);
    roce_data(&b[3], IFB_OP_WRITE_ONLY, 0xfedcba, 0xffffff, 64);
    roce_data(&b[4], IFB_OP_SEND_ONLY, 0x800001, 0x123456, 0);
    roce_data(&b[5], IFB_OP_SEND_FIRST, 0x000777, 100, 256);
    b[5].p.flags |= IFB_PF_VLAN;
    roce_data(&b[6], IFB_OP_ACK, 0x000012, 2, 0);
    b[6].p.kind = IFB_PK_ACK;
    roce_data(&b[7], IFB_OP_ACK, 0x000012, 7, 0);
    b[7].p.kind = IFB_PK_NAK;
    roce_data(&b[8], IFB_OP_CNP, 0x000345, 0, 0);
    b[8].p.kind = IFB_PK_CNP;
    for (int i = 0; i < N; i++)
        assert_int_equal(ifb_pcap_write_pkt(pc, (ifb_time)i * IFB_US, &b[i].p), 0);
    assert_int_equal(ifb_pcap_close(pc, &err), 0);

    static char lines[16][512];
    int n = run_tshark("--disable-protocol rpcordma -o eth.fcs:Always -o eth.check_fcs:TRUE "
                       "-o ip.check_checksum:TRUE -T fields -E separator=, "
                       "-e infiniband.bth.opcode -e infiniband.bth.destqp -e infiniband.bth.psn "
                       "-e infiniband.bth.padcnt -e infiniband.reth.dmalen "
                       "-e infiniband.aeth.syndrome -e eth.fcs.status -e ip.checksum.status "
                       "-e udp.dstport -e vlan.priority -e frame.len -e _ws.malformed "
                       "-e _ws.expert",
                       path, lines, 16);
    assert_int_equal(n, N);
    for (int i = 0; i < N; i++) {
        char *f[13] = {0};
        assert_int_equal(split(lines[i], f, 13), 13);
        const ifb_pkt *p = &b[i].p;
        uint32_t op = p->kind == IFB_PK_ACK || p->kind == IFB_PK_NAK ? IFB_OP_ACK
                      : p->kind == IFB_PK_CNP                        ? IFB_OP_CNP
                                                                     : p->opcode;
        assert_int_equal(num(f[0]), op);
        assert_int_equal(num(f[1]), p->dqpn);
        assert_int_equal(num(f[2]), p->psn);
        assert_int_equal(num(f[3]), ifb_wire_pad(p));
        if (op == IFB_OP_WRITE_FIRST || op == IFB_OP_WRITE_ONLY)
            assert_int_equal(num(f[4]), p->dmalen);
        else
            assert_string_equal(f[4], "");
        if (p->kind == IFB_PK_ACK)
            assert_int_equal(num(f[5]), 0x1f);
        else if (p->kind == IFB_PK_NAK)
            assert_int_equal(num(f[5]), 0x60);
        else
            assert_string_equal(f[5], "");
        assert_int_equal(num(f[6]), 1); /* FCS good */
        assert_int_equal(num(f[7]), 1); /* IPv4 header checksum good */
        assert_int_equal(num(f[8]), 4791);
        if (p->flags & IFB_PF_VLAN)
            assert_int_equal(num(f[9]), 3);
        assert_int_equal(num(f[10]), ifb_wire_frame_len(p));
        assert_string_equal(f[11], ""); /* not malformed */
        assert_string_equal(f[12], ""); /* no expert notes at all */
    }
}

static void test_tshark_pfc(void **state)
{
    (void)state;
    if (!have_tshark())
        skip(); /* shows as skipped in CTest (tests/run_cmocka.sh) */
    char path[128];
    path_of(path, sizeof path, "pfc.pcap");
    ifb_err err = {{0}};
    ifb_pcap *pc = ifb_pcap_open(path, IFB_L2_ROCEV2, 0, &err);
    assert_non_null(pc);
    big_pkt b;
    memset(&b, 0, sizeof b);
    b.p.kind = IFB_PK_PFC;
    b.p.src = 9;
    b.p.pfc_vec = 0x18; /* priorities 3 and 4 */
    b.p.pfc_quanta[3] = 0xffff;
    b.p.pfc_quanta[4] = 1234;
    assert_int_equal(ifb_pcap_write_pkt(pc, 0, &b.p), 0);
    b.p.pfc_quanta[3] = 0; /* XON */
    b.p.pfc_vec = 0x08;
    assert_int_equal(ifb_pcap_write_pkt(pc, IFB_US, &b.p), 0);
    assert_int_equal(ifb_pcap_close(pc, &err), 0);

    static char lines[4][512];
    int n = run_tshark("-o eth.fcs:Always -o eth.check_fcs:TRUE -T fields -E separator=, "
                       "-e eth.dst -e macc.opcode -e macc.cbfc.enbv -e macc.cbfc.pause_time.c3 "
                       "-e macc.cbfc.pause_time.c4 -e macc.cbfc.pause_time.c0 -e eth.fcs.status "
                       "-e frame.len -e _ws.malformed -e _ws.expert",
                       path, lines, 4);
    assert_int_equal(n, 2);
    char *f[10] = {0};
    assert_int_equal(split(lines[0], f, 10), 10);
    assert_string_equal(f[0], "01:80:c2:00:00:01");
    assert_int_equal(num(f[1]), 0x0101);
    assert_int_equal(num(f[2]), 0x18);
    assert_int_equal(num(f[3]), 0xffff);
    assert_int_equal(num(f[4]), 1234);
    assert_int_equal(num(f[5]), 0);
    assert_int_equal(num(f[6]), 1);
    assert_int_equal(num(f[7]), 64);
    assert_string_equal(f[8], "");
    assert_string_equal(f[9], "");
    assert_int_equal(split(lines[1], f, 10), 10);
    assert_int_equal(num(f[2]), 0x08);
    assert_int_equal(num(f[3]), 0);
    assert_int_equal(num(f[6]), 1);
}

static void test_tshark_int(void **state)
{
    (void)state;
    if (!have_tshark())
        skip(); /* shows as skipped in CTest (tests/run_cmocka.sh) */
    char path[128];
    path_of(path, sizeof path, "int.pcap");
    ifb_err err = {{0}};
    ifb_pcap *pc = ifb_pcap_open(path, IFB_L2_ROCEV2, 0, &err);
    assert_non_null(pc);
    big_pkt b;
    roce_data(&b, IFB_OP_WRITE_MIDDLE, 0x12, 5, 512);
    b.p.int_on = 1;
    b.p.int_n = 3;
    for (int i = 0; i < 3; i++)
        b.p.int_hops[i].node_id = 10u + (uint32_t)i;
    assert_int_equal(ifb_pcap_write_pkt(pc, 0, &b.p), 0);
    assert_int_equal(ifb_pcap_close(pc, &err), 0);

    /* No INT dissector in tshark: the INT packet is UDP to IFB_INT_UDP_PORT carrying data whose
     * length is shim + header + 3 hops + BTH + payload + ICRC; the first data bytes are the shim.
     */
    static char lines[4][512];
    int n = run_tshark("-o eth.fcs:Always -o eth.check_fcs:TRUE -o ip.check_checksum:TRUE "
                       "-T fields -E separator=, -e udp.dstport -e udp.length -e data.len "
                       "-e eth.fcs.status -e ip.checksum.status -e frame.len -e _ws.malformed "
                       "-e frame.protocols",
                       path, lines, 4);
    assert_int_equal(n, 1);
    char *f[8] = {0};
    assert_int_equal(split(lines[0], f, 8), 8);
    assert_int_equal(num(f[0]), IFB_INT_UDP_PORT);
    uint32_t data = 4 + 12 + 3 * 28 + 12 + 512 + 4;
    assert_int_equal(num(f[1]), 8 + data);
    assert_int_equal(num(f[2]), data);
    assert_int_equal(num(f[3]), 1);
    assert_int_equal(num(f[4]), 1);
    assert_int_equal(num(f[5]), ifb_wire_frame_len(&b.p));
    assert_string_equal(f[6], "");
    assert_string_equal(f[7], "eth:ethertype:ip:udp:data");
}

static void test_tshark_ib(void **state)
{
    (void)state;
    if (!have_tshark())
        skip(); /* shows as skipped in CTest (tests/run_cmocka.sh) */
    char path[128];
    path_of(path, sizeof path, "ibts.pcap");
    ifb_err err = {{0}};
    ifb_pcap *pc = ifb_pcap_open(path, IFB_L2_IB, 0, &err);
    assert_non_null(pc);
    enum { N = 4 };
    big_pkt b[N];
    roce_data(&b[0], IFB_OP_WRITE_FIRST, 0x000042, 10, 2048);
    roce_data(&b[1], IFB_OP_WRITE_LAST, 0x000042, 11, 998);
    roce_data(&b[2], IFB_OP_SEND_ONLY, 0xabcdef, 0xfffffe, 32);
    roce_data(&b[3], IFB_OP_ACK, 0x000042, 11, 0);
    b[3].p.kind = IFB_PK_ACK;
    for (int i = 0; i < N; i++) {
        b[i].p.l2 = IFB_L2_IB;
        b[i].p.src = 4;
        b[i].p.dst = 0x1ff;
        b[i].p.sl = (uint8_t)(i + 1);
        b[i].p.tc = (uint8_t)i;
        assert_int_equal(ifb_pcap_write_pkt(pc, (ifb_time)i * IFB_NS, &b[i].p), 0);
    }
    assert_int_equal(ifb_pcap_close(pc, &err), 0);

    static char lines[8][512];
    int n =
        run_tshark("--disable-protocol rpcordma "
                   "-o 'uat:user_dlts:\"User 0 (DLT=147)\",\"infiniband\",\"0\",\"\",\"0\",\"\"' "
                   "-T fields -E separator=, -e infiniband.bth.opcode -e infiniband.bth.destqp "
                   "-e infiniband.bth.psn -e infiniband.lrh.vl -e infiniband.lrh.sl "
                   "-e infiniband.lrh.lnh -e infiniband.lrh.dlid -e infiniband.lrh.slid "
                   "-e infiniband.lrh.pktlen -e infiniband.variant.crc -e _ws.malformed "
                   "-e _ws.expert",
                   path, lines, 8);
    assert_int_equal(n, N);
    for (int i = 0; i < N; i++) {
        char *f[12] = {0};
        assert_int_equal(split(lines[i], f, 12), 12);
        const ifb_pkt *p = &b[i].p;
        assert_int_equal(num(f[0]), p->kind == IFB_PK_ACK ? IFB_OP_ACK : p->opcode);
        assert_int_equal(num(f[1]), p->dqpn);
        assert_int_equal(num(f[2]), p->psn);
        assert_int_equal(num(f[3]), p->tc);
        assert_int_equal(num(f[4]), p->sl);
        assert_int_equal(num(f[5]), 2);
        assert_int_equal(num(f[6]), 0x200);
        assert_int_equal(num(f[7]), 5);
        assert_int_equal(num(f[8]) * 4 + 2, ifb_wire_frame_len(p));
        assert_string_not_equal(f[9], ""); /* the VCRC is where the dissector expects it */
        assert_string_equal(f[10], "");
        assert_string_equal(f[11], "");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_and_record_headers),
        cmocka_unit_test(test_snaplen_and_ib_linktype),
        cmocka_unit_test(test_errors_name_the_path),
        cmocka_unit_test(test_tshark_roce_bth),
        cmocka_unit_test(test_tshark_pfc),
        cmocka_unit_test(test_tshark_int),
        cmocka_unit_test(test_tshark_ib),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
