/* InfiniBand link-level pieces that do not depend on the packet path: SL-to-VL mapping, the
 * two-priority weighted VL arbiter of IBA 7.6.9, and credit arithmetic (a credit is a 64-byte
 * block of the receiver's per-VL buffer). The fabric uses them when `fabric.kind: infiniband`.
 * Left out: VL15 (subnet management), credit-limit packets as real frames (credit updates
 * cross the link as events with the link's latency), link-level retry. The arbitration tables
 * (ifb_vlarb_cfg) and the credit size are in net/base/cfg.h with the fabric's configuration. */
#ifndef IFB_IB_H
#define IFB_IB_H
#include <stdint.h>

#include "net/base/cfg.h"

static inline uint32_t ifb_ib_blocks(uint32_t bytes)
{
    return (bytes + IFB_IB_CREDIT_BYTES - 1) / IFB_IB_CREDIT_BYTES;
}

typedef struct ifb_vlarb {
    int hi_idx, lo_idx;
    int32_t hi_left, lo_left; /* bytes left in the current entry's weight */
    uint64_t hi_since_low;    /* high-priority bytes since the last low-priority packet */
} ifb_vlarb;

/* OpenSM-like default: every VL in the low table with weight 64, empty high table. */
void ifb_vlarb_cfg_default(ifb_vlarb_cfg *c, int nvls);
/* Picks the VL to send next among `eligible` (bit v set: VL v has a packet that may go now,
 * credits included); head_bytes[v] is its head packet's size. Charges the choice to the
 * arbiter's state. Returns the VL, or -1 if nothing is eligible. */
int ifb_vlarb_pick(ifb_vlarb *st, const ifb_vlarb_cfg *cfg, uint32_t eligible,
                   const uint32_t *head_bytes);

#endif
