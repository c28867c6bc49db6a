/* Packet capture to classic pcap files (nanosecond-resolution variant), so that a port's traffic
 * can be opened in Wireshark/tshark. Frames are the real bytes from net/wire/wire.h, FCS included.
 *
 * Link types: RoCEv2 captures are LINKTYPE_ETHERNET (1). InfiniBand captures use the user link
 * type DLT_USER0 (147), which tshark does not decode by default; tell it to hand the frames to its
 * "infiniband" dissector (which starts at the LRH) with
 *     tshark -o 'uat:user_dlts:"User 0 (DLT=147)","infiniband","0","","0",""' -r FILE
 * (Wireshark GUI: Preferences > Protocols > DLT_USER, encapsulation 147 -> payload protocol
 * "infiniband"). Ethernet captures carry the FCS; tshark shows and checks it with
 *     -o eth.fcs:Always -o eth.check_fcs:TRUE
 * (tshark 4.0's RPC-over-RDMA heuristic reports a SEND with no payload as malformed; add
 * --disable-protocol rpcordma to silence it). tshark shows but cannot check ICRC/VCRC.
 *
 * Left out: pcapng, per-interface metadata, and reading files back (tests parse the bytes). The
 * writer is buffered through stdio; one fixed scratch buffer, allocated at open, holds each encoded
 * frame, so writing a packet allocates nothing. */
#ifndef IFB_PCAP_H
#define IFB_PCAP_H
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/time.h"
#include "net/wire/pkt.h"

#define IFB_PCAP_MAGIC_NS 0xa1b23c4du /* classic pcap with nanosecond timestamps */

enum {
    IFB_PCAP_LINKTYPE_ETHERNET = 1,
    IFB_PCAP_LINKTYPE_IB = 147, /* DLT_USER0, see the tshark option above */
    IFB_PCAP_FILE_HDR = 24,
    IFB_PCAP_REC_HDR = 16,
    IFB_PCAP_MAX_FRAME = 65536 + 64, /* larger than any frame ifb_wire_encode can produce */
};

typedef struct ifb_pcap ifb_pcap;

/* Creates (truncates) `path` and writes the file header for frames of link type `l2`.
 * snaplen 0 records whole frames; otherwise each record keeps at most snaplen bytes (the record
 * still states the frame's full length, as a capture with a snap length does).
 * Returns NULL and fills err (naming the path) if the file cannot be opened or written. */
ifb_pcap *ifb_pcap_open(const char *path, ifb_l2 l2, uint32_t snaplen, ifb_err *err);

/* Appends one frame captured at simulated time t (picoseconds; stored as seconds + nanoseconds,
 * truncated). Returns 0, or -1 after a write error or if the frame is longer than
 * IFB_PCAP_MAX_FRAME; the first error is kept and reported by ifb_pcap_close. */
int ifb_pcap_write(ifb_pcap *pc, ifb_time t, const uint8_t *frame, size_t len);

/* Encodes p with ifb_wire_encode into the writer's scratch buffer and appends it. -1 if the packet
 * cannot be encoded (e.g. an InfiniBand packet into an Ethernet capture) or on a write error. */
int ifb_pcap_write_pkt(ifb_pcap *pc, ifb_time t, const ifb_pkt *p);

/* Records written so far. */
uint64_t ifb_pcap_records(const ifb_pcap *pc);

/* The first error seen by a write, or NULL if none. */
const char *ifb_pcap_error(const ifb_pcap *pc);

/* Flushes, closes and frees the writer (NULL is accepted). Returns 0, or -1 with err filled if any
 * write failed or the final flush/close failed. */
int ifb_pcap_close(ifb_pcap *pc, ifb_err *err);

#endif
