/* InfiniBand adaptive routing as NVIDIA's switches and subnet manager run it (ib_ar.c), the
 * load_balancing mode `ar`:
 * - AR groups per destination: the subnet manager's TREE algorithm puts every min-hop port
 *   toward a destination in one AR group and points the destination's AR-LFT entry at it; the
 *   routing pass's ECMP groups are exactly those (shared when identical, as AR group tables
 *   are), and the static LFT port is the d-mod-k member;
 * - per-SL enable (OpenSM ar_sl_mask): a packet on an SL outside the mask takes the LFT port;
 * - the choice by output-port load at the switch, per packet: the member of the group with the
 *   fewest bytes queued (a port out of credits for the packet's VL counts as holding a whole VL
 *   buffer more), ties to the LFT port, so an idle fabric routes statically. Every member is
 *   compared; there is no sampling and no memory (it is not DRILL);
 * - SHIELD: a switch learns that one of its links failed `fault_detect` after it did and stops
 *   using it (fast link fault recovery, FLFR, for static SLs too); when that leaves it no member
 *   toward a destination switch it sends a fault routing notification (FLFN / pFRN) to every
 *   neighbour switch that routes there through it, which then avoids that port for that
 *   destination until the link is back (and notifies its own upstream if it is left with
 *   nothing); one link delay per hop;
 * - adaptive routing notifications (ARN): a switch forwarding a packet from another switch to a
 *   port queued above `arn_threshold` tells that switch to avoid its port toward it for the
 *   packet's destination switch for `arn_life` (at most one notification per port and
 *   destination switch per half life).
 * Adaptive per packet reorders: the receivers need out-of-order placement (classes whose QPs
 * are go-back-N take the LFT port with load_balancing.ooo_fallback). Left out: the LAG and
 * DF_PLUS group algorithms, AR modes other than free per-packet choice, the subnet manager's
 * own rerouting (fabric.failure_detection stands for it), masks clearing on their own
 * (pfrn_mask_clear_timeout is 90 minutes: they clear when the link comes back). Internal to
 * net/switch and its callers above (net/fail, net/fabric). */
#ifndef IFB_NET_SWITCH_IB_AR_H
#define IFB_NET_SWITCH_IB_AR_H
#include "net/switch/lb_state.h"

/* Counters of adaptive routing, for the outputs. */
typedef struct ifb_ar_stats {
    uint64_t ar_groups;          /* (switch, AR group) pairs with a choice of two members or more */
    uint64_t moved;              /* packets sent to another member than their LFT port */
    uint64_t arn_sent, frn_sent; /* notifications (each one to one neighbour switch) */
    uint64_t local_reroutes;     /* packets FLFR moved off a port known down */
} ifb_ar_stats;

/* Sets adaptive routing up when some queue (or class) routes with `ar`: fails on a fabric where
 * no switch has a choice of paths, and on RoCE. */
int ifb_ar_setup(ifb_fabric *f, ifb_err *e);
void ifb_ar_free(ifb_fabric *f);
/* The member packet pk takes in group g at switch sw among the candidates c. */
int ifb_ar_select(ifb_switch *sw, const ifb_topo_group *g, const lb_cands *c, const ifb_pkt *pk);
/* A packet forwarded from port `in` of sw to `out` (before it is queued there): ARN. */
void ifb_ar_forwarded(ifb_switch *sw, const ifb_port *in, const ifb_port *out, const ifb_pkt *pk);
/* The link of port p changed state now (net/fail): SHIELD's local detection and notifications. */
void ifb_ar_link_change(ifb_fabric *f, ifb_port *p, int up);
void ifb_ar_get_stats(const ifb_fabric *f, ifb_ar_stats *out);

#endif
