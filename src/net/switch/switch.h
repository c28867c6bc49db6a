/* Switches: forwarding with path selection, shared-buffer admission and PFC, and INT transit.
 * A switch owns a shared buffer, a route row (destination host -> ECMP group) and the state
 * of its path selection (switch/lb.c); its ports are link ports (net/link/link.h) whose events
 * come to ifb_switch_port_event. Internal header of the component: the functions the fabric
 * assembly, the NIC transport (INT at the NIC, pause frames received at a NIC port) and the
 * failure controller call. Not part of the public API (that is lb.h, pfc.h, int.h here). */
#ifndef IFB_NET_SWITCH_H
#define IFB_NET_SWITCH_H
#include "core/err.h"
#include "core/rng.h"
#include "net/link/link.h"

struct ifb_switch {
    int node;
    int idx;       /* dense switch index */
    uint64_t seed; /* ECMP hash seed */
    uint64_t buf_used;
    ifb_port *ports; /* first of its ports in ifb_fabric.ports */
    int nports;
    const int *route;             /* route row: destination host -> group */
    void *lb;                     /* path-selection state (switch/lb.c), NULL for plain ECMP */
    ifb_rng rng;                  /* ECN marking draws */
    uint64_t shared_size;         /* buffer less every port's headroom and reserve (PFC) */
    uint64_t hdrm_used, rsv_used; /* bytes in headroom / reserved space */
    int wd_active;                /* ports with a PFC watchdog storm in progress */
    /* failures (set by net/fail): per destination host, offset in live_pool of the usable
     * members (count, then member indices) or IFB_LIVE_ALL; NULL until a failure is detected */
    const uint32_t *live_idx;
    const uint16_t *live_pool;
};

#define IFB_LIVE_ALL UINT32_MAX

/* switch.c: the event handler of every switch port (f->ev_switch); the egress scheduler's
 * kick (a frame may leave now); admission to an egress queue; a frame arriving at a switch */
void ifb_switch_port_event(ifb_sim *sim, void *obj, uint64_t arg);
void ifb_switch_kick(ifb_port *p);
void ifb_port_enqueue(ifb_port *p, ifb_pkt *pk);
void ifb_switch_receive(ifb_switch *sw, ifb_port *in, ifb_pkt *pk);

/* lb.c: picks the member of ECMP group g for packet pk at switch sw (default: 5-tuple hash). */
int ifb_lb_select(ifb_switch *sw, const ifb_topo_group *g, const ifb_pkt *pk);
uint32_t ifb_flow_hash(const ifb_switch *sw, const ifb_pkt *pk);
/* lb.c, INT-driven routing: whether any queue routes on INT, and the path figure (bytes) a sink
 * sends back to the source switch, applied after `delay`; returns 1 if it was sent (updates are
 * rate-limited per path). */
int ifb_lb_int_wanted(const ifb_fabric *f);
int ifb_lb_int_feedback(ifb_fabric *f, int src_sw, int dst_sw, int port, uint32_t fig,
                        ifb_time delay);

/* pfc.c: the bytes switch port p must be able to take after XOFF; admission of a lossless
 * packet by its ingress priority group (-1: dropped) and its release at egress; a pause frame
 * arriving at port p (a switch port or a NIC port); a pause frame queued ahead of data on p
 * without kicking it (the caller does: a misbehaving NIC, net/nic/storm.c) */
uint64_t ifb_pfc_need(const ifb_fabric *f, const ifb_port *p);
int ifb_pfc_admit(ifb_switch *sw, ifb_port *in, ifb_pkt *pk);
void ifb_pfc_release(ifb_switch *sw, ifb_pkt *pk);
void ifb_pfc_receive(ifb_port *p, ifb_pkt *pk);
void ifb_pfc_queue(ifb_port *p, uint8_t xoff, uint8_t xon);
/* pfc.c: the pfc-state invariant (--check): XOFF state agrees with priority-group occupancy */
int ifb_pfc_check_state(const ifb_fabric *f, char *msg, size_t cap);

/* fecn.c: InfiniBand congestion marking; setup returns 1 when marking is on (the egress then
 * calls ifb_fecn_mark where RoCE marks ECN) */
int ifb_fecn_setup(ifb_fabric *f);
void ifb_fecn_free(ifb_fabric *f);
void ifb_fecn_mark(ifb_port *p, ifb_pkt *pk, uint64_t qlen);

/* int.c */
int ifb_int_setup(ifb_fabric *f, ifb_err *e);
void ifb_int_free(ifb_fabric *f);
/* a switch dequeued pk for egress port p: INT source, hop push and sink as configured */
void ifb_int_egress(ifb_port *p, ifb_pkt *pk);
/* the destination NIC received an INT packet (sink at the NIC) */
void ifb_int_nic_sink(ifb_fabric *f, ifb_pkt *pk);
/* a probe arrived at switch sw: returns 1 if sw is its destination ToR and took it in */
int ifb_int_probe_arrives(ifb_switch *sw, ifb_pkt *pk);
/* a NIC built data packet pk: INT header when the NIC is the source (before its wire size) */
void ifb_int_nic_source(ifb_fabric *f, ifb_pkt *pk);

#endif
