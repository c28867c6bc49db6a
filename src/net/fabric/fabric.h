/* The packet-level fabric's public API: ports with per-class egress queues, links, switches
 * with a shared buffer, and NICs running the RoCEv2 RC transport, instantiated from a topology
 * description. It implements the message API (net/net.h): messages between GPUs on one server
 * cross the NVLink crossbar model, others go through each GPU's affine NIC as RDMA WRITEs.
 *
 * Lossless Ethernet (net/switch/pfc.c, net/nic/dcqcn.c): RED-like ECN marking per egress
 * queue, 802.1Qbb PFC with per (ingress port, priority) shared-buffer accounting, and DCQCN at
 * the NICs. Path selection and INT live in net/switch (lb.h, int.h), failures in net/fail; the
 * configuration and counter types in net/base (cfg.h, stats.h). NICs honour PFC but never send
 * it (their receive buffer is infinite), except the misbehaving NICs of cfg.pfc_storms. The
 * NVLink crossbar is a message-level model (per-GPU egress and ingress serializers). How the
 * components fit together: net/README.md. */
#ifndef IFB_FABRIC_H
#define IFB_FABRIC_H
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"
#include "core/sim.h"
#include "net/base/cfg.h"
#include "net/base/stats.h"
#include "net/link/ib.h"
#include "net/net.h"
#include "net/nic/dcqcn.h"
#include "net/wire/pkt.h"
#include "topo/topo.h"

/* Defaults: RoCEv2, 4096 B MTU, no VLAN, 1 us NIC latency each way... documented in
 * docs/scenario.md. */
void ifb_fabric_cfg_default(ifb_fabric_cfg *c);

int ifb_fabric_create(ifb_fabric **out, ifb_sim *sim, const ifb_topo *topo,
                      const ifb_fabric_cfg *cfg, ifb_err *e);
void ifb_fabric_destroy(ifb_fabric *f);
ifb_net *ifb_fabric_net(ifb_fabric *f);
const ifb_fabric_counters *ifb_fabric_counts(const ifb_fabric *f);

/* Packets currently inside the fabric, found by walking every queue, link and NIC
 * (independent of the counters, so the conservation check means something). */
uint64_t ifb_fabric_inflight(const ifb_fabric *f);
/* 0 if created == consumed + dropped + in flight, and no packet in flight is stuck where it can
 * never move (an InfiniBand VL the fabric does not have; anywhere, once the run has ended by
 * itself), else -1 with a message. */
int ifb_fabric_check_conservation(const ifb_fabric *f, char *msg, size_t cap);

/* Per-port statistics; ports are numbered as in the topology (ifb_topo.ports). */
int ifb_fabric_nports(const ifb_fabric *f);
const ifb_port_stats *ifb_fabric_port_stats(const ifb_fabric *f, int port);
uint64_t ifb_fabric_port_rate(const ifb_fabric *f, int port);
const ifb_topo *ifb_fabric_topo(const ifb_fabric *f);
/* Messages recorded (cfg.record_messages). */
const ifb_msg_rec *ifb_fabric_messages(const ifb_fabric *f, size_t *n);
/* Utilization samples: for each sample k and port p, bytes sent in that interval. */
const uint64_t *ifb_fabric_util_samples(const ifb_fabric *f, size_t *nsamples);
/* Packets each QP retransmitted, QPs in host order: fills the first min(cap, count) entries of
 * per_qp (which may be NULL when cap is 0) and returns the count of QPs. */
size_t ifb_fabric_qp_retx(const ifb_fabric *f, uint64_t *per_qp, size_t cap);
/* Time at which the last message completed. */
ifb_time ifb_fabric_last_done(const ifb_fabric *f);

/* Lossless Ethernet metrics. */
const ifb_port_cc_stats *ifb_fabric_port_cc(const ifb_fabric *f, int port);
/* Paused time of the port's priority up to now, the current span included. */
ifb_time ifb_fabric_port_paused_time(const ifb_fabric *f, int port, int prio);
/* Bytes queued in the port's egress queues now. */
uint64_t ifb_fabric_port_queue_bytes(const ifb_fabric *f, int port);
/* Headroom (bytes per lossless priority) the port's ingress reserves; 0 if PFC is off. */
uint64_t ifb_fabric_port_headroom(const ifb_fabric *f, int port);
/* The (port, priority) pairs paused now for at least min_paused; fills up to cap entries and
 * returns how many there are. A pair paused longer than pfc_storm_time is a pause storm (a PFC
 * deadlock if it never ends). */
int ifb_fabric_paused_ports(const ifb_fabric *f, ifb_time min_paused, ifb_paused_port *out,
                            int cap);
/* Per-QP DCQCN rate trace (cfg.rate_sample_interval): sender QPs with data outstanding or a
 * rate limiter active, sampled at each interval. */
const ifb_rate_sample *ifb_fabric_rate_samples(const ifb_fabric *f, size_t *n);
/* Writes the trace as CSV: "time_us,host,qpn,rate_gbps". Returns 0, or -1 on a write error. */
int ifb_fabric_write_rate_csv(const ifb_fabric *f, FILE *out);
/* Current DCQCN rate of QP qpn on host (line rate without a limiter, 0 if no such QP). */
uint64_t ifb_fabric_qp_rate(const ifb_fabric *f, int host, uint32_t qpn);

/* Time-weighted queue occupancy of a port: ps spent with [k*bin, (k+1)*bin) bytes queued
 * (last bin open-ended), up to the port's last queue change; NULL when off. */
const uint64_t *ifb_fabric_queue_hist(const ifb_fabric *f, int port, uint32_t *nbins,
                                      uint32_t *bin_bytes);

/* InfiniBand: the most 64-byte credits any switch receive buffer (port, VL) ever held, and the
 * credits each one has; the first never exceeds the second. */
uint32_t ifb_fabric_ib_max_held(const ifb_fabric *f);
uint32_t ifb_fabric_ib_credits(const ifb_fabric *f);

/* Capture every frame leaving the given topology ports to a pcap file (net/wire/pcap.h). */
struct ifb_pcap;
void ifb_fabric_capture(ifb_fabric *f, int port, struct ifb_pcap *pcap);

#endif
