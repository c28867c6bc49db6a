/* Classic pcap writer with nanosecond timestamps (see pcap.h). All header fields are written
 * little-endian whatever the host, so files are byte-identical across machines; readers detect
 * the byte order from the magic number. Left out: pcapng, reading, rotation of large files. */
#include "net/wire/pcap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "net/wire/wire.h"

enum { PATH_CAP = 512 };

struct ifb_pcap {
    FILE *f;
    char path[PATH_CAP];
    ifb_l2 l2;
    uint32_t snaplen;
    uint64_t records;
    int failed;
    char error[sizeof(((ifb_err *)0)->msg)];
    uint8_t scratch[IFB_PCAP_MAX_FRAME]; /* one encoded frame at a time */
};

static void le16(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)v;
    b[1] = (uint8_t)(v >> 8);
}

static void le32(uint8_t *b, uint32_t v)
{
    le16(b, v);
    le16(b + 2, v >> 16);
}

/* Keeps the first error only: later ones are usually consequences of it. */
static int fail(ifb_pcap *pc, const char *what, int errnum)
{
    if (!pc->failed) {
        pc->failed = 1;
        if (errnum)
            snprintf(pc->error, sizeof pc->error, "%s: %s: %s", pc->path, what, strerror(errnum));
        else
            snprintf(pc->error, sizeof pc->error, "%s: %s", pc->path, what);
    }
    return -1;
}

ifb_pcap *ifb_pcap_open(const char *path, ifb_l2 l2, uint32_t snaplen, ifb_err *err)
{
    if (!path || !*path) {
        ifb_err_set(err, NULL, 0, "pcap", "a file path", "an empty path");
        return NULL;
    }
    if (l2 != IFB_L2_ROCEV2 && l2 != IFB_L2_IB) {
        ifb_err_set(err, path, 0, "pcap link type", "RoCEv2 or InfiniBand", "%d", (int)l2);
        return NULL;
    }
    if (strlen(path) >= PATH_CAP) {
        ifb_err_set(err, NULL, 0, "pcap", "a path shorter than 512 bytes", "%.60s...", path);
        return NULL;
    }
    ifb_pcap *pc = ifb_xcalloc(1, sizeof *pc, "a pcap writer");
    memcpy(pc->path, path, strlen(path) + 1);
    pc->l2 = l2;
    pc->snaplen = snaplen ? snaplen : IFB_PCAP_MAX_FRAME;
    pc->f = fopen(path, "wb");
    if (!pc->f) {
        ifb_err_msg(err, "%s: cannot open pcap file for writing: %s", path, strerror(errno));
        free(pc);
        return NULL;
    }
    uint8_t h[IFB_PCAP_FILE_HDR];
    le32(h, IFB_PCAP_MAGIC_NS);
    le16(h + 4, 2); /* version 2.4 */
    le16(h + 6, 4);
    le32(h + 8, 0);  /* thiszone: timestamps are UTC-less simulated time */
    le32(h + 12, 0); /* sigfigs */
    le32(h + 16, pc->snaplen);
    le32(h + 20, l2 == IFB_L2_IB ? IFB_PCAP_LINKTYPE_IB : IFB_PCAP_LINKTYPE_ETHERNET);
    if (fwrite(h, sizeof h, 1, pc->f) != 1) {
        ifb_err_msg(err, "%s: cannot write pcap header: %s", path, strerror(errno));
        fclose(pc->f);
        free(pc);
        return NULL;
    }
    return pc;
}

int ifb_pcap_write(ifb_pcap *pc, ifb_time t, const uint8_t *frame, size_t len)
{
    if (!pc)
        return -1;
    if (pc->failed)
        return -1;
    if (len > IFB_PCAP_MAX_FRAME)
        return fail(pc, "frame longer than the pcap writer accepts", 0);
    uint32_t cap = len < pc->snaplen ? (uint32_t)len : pc->snaplen;
    uint8_t h[IFB_PCAP_REC_HDR];
    le32(h, (uint32_t)(t / IFB_SEC));
    le32(h + 4, (uint32_t)(t % IFB_SEC / IFB_NS));
    le32(h + 8, cap);
    le32(h + 12, (uint32_t)len);
    if (fwrite(h, sizeof h, 1, pc->f) != 1 || (cap && fwrite(frame, cap, 1, pc->f) != 1))
        return fail(pc, "cannot write pcap record", errno);
    pc->records++;
    return 0;
}

int ifb_pcap_write_pkt(ifb_pcap *pc, ifb_time t, const ifb_pkt *p)
{
    if (!pc || !p)
        return -1;
    if (pc->failed)
        return -1;
    if (p->l2 != pc->l2)
        return fail(pc, "packet of the other link layer than the capture's", 0);
    size_t n = ifb_wire_encode(p, pc->scratch, sizeof pc->scratch);
    if (!n) {
        char what[128];
        snprintf(what, sizeof what, "packet %llu (kind %u, opcode 0x%02x) cannot be encoded",
                 (unsigned long long)p->id, (unsigned)p->kind, (unsigned)p->opcode);
        return fail(pc, what, 0);
    }
    return ifb_pcap_write(pc, t, pc->scratch, n);
}

uint64_t ifb_pcap_records(const ifb_pcap *pc)
{
    return pc ? pc->records : 0;
}

const char *ifb_pcap_error(const ifb_pcap *pc)
{
    return pc && pc->failed ? pc->error : NULL;
}

int ifb_pcap_close(ifb_pcap *pc, ifb_err *err)
{
    if (!pc)
        return 0;
    int rc = 0;
    if (pc->failed) {
        ifb_err_msg(err, "%s", pc->error);
        rc = -1;
    }
    if (fclose(pc->f) != 0 && rc == 0) {
        ifb_err_msg(err, "%s: cannot finish pcap file: %s", pc->path, strerror(errno));
        rc = -1;
    }
    free(pc);
    return rc;
}
