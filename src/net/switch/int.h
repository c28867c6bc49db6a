/* In-band network telemetry: INT-MD v2.1 over UDP for RoCEv2, as switches of an AI fabric run it.
 *
 * The INT source (the first switch, or the sending NIC) inserts the 4-byte shim and the 12-byte
 * metadata header into data packets of the INT queues; every switch pushes a 28-byte hop record
 * at egress (node id, ingress/egress port, hop latency, queue id and occupancy, egress timestamp,
 * egress tx utilization) until the packet holds max_hops records; the sink (the last switch
 * before the destination, or the destination NIC) strips the stack and hands a Telemetry Report
 * v2.0 to a collector inside the simulation. The bytes are real: they lengthen serialization,
 * count against the Ethernet MTU (checked at set-up) and appear in pcap captures.
 *
 * The collector keeps per-path statistics (a path is the sequence of switches and egress ports
 * the hop records name) and writes them as CSV. When a queue routes with `int_adaptive`
 * (net/switch/lb.h), the sink also feeds each path's congestion back to the source switch, one
 * forward-path delay later, as if it rode on the next packet going back (CONGA's piggyback).
 *
 * Probes (optional, `probe_interval`): every ToR sends, each interval, one small INT packet
 * down every member of its group toward every other ToR (HULA's idea: path figures also for
 * paths no data uses at the moment, so a new flowlet is not sent blind into a congested path).
 * A probe is a RoCEv2-framed packet with no payload and the INT-MD D (discard) bit; it queues
 * with the data of its queue, collects hop records like data, and the destination ToR takes it
 * in at ingress, reports it (sampled like data) and feeds the path's figure back like a data
 * sink would.
 *
 * Left out: reports and feedback travel out of band (their bytes are counted, not put on the
 * fabric); INT-XD/MX modes, per-flow watchlists and event-triggered reporting (the sink reports
 * one INT packet in `report_every`, 16 by default, probes included); HULA's hop-by-hop best-path
 * tables (probes feed the source ToR's end-to-end figures instead); the hop latency assumes the
 * packet entered the switch one switch latency before it was queued (cut-through pipeline). A
 * probe enters its first egress queue as if it had come in on that same port (a switch's CPU
 * port has no ingress priority group here). */
#ifndef IFB_INT_H
#define IFB_INT_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/time.h"
#include "net/base/cfg.h"
#include "net/wire/pkt.h"

/* Statistics of one path as the collector saw it in telemetry reports. */
typedef struct ifb_int_path {
    uint64_t key;
    uint32_t nhops;
    uint32_t node[IFB_INT_MAX_HOPS];     /* topology node index of each switch */
    uint16_t out_port[IFB_INT_MAX_HOPS]; /* egress port number on that switch */
    uint64_t reports;
    double lat_sum_ns; /* sum over reports of the path's total hop latency */
    uint64_t lat_max_ns;
    double q_sum; /* sum over reports of the largest queue occupancy on the path */
    uint64_t q_max;
    double util_sum; /* sum over reports of the highest egress utilization on the path, ppm */
    uint32_t util_max;
    ifb_time first, last;
} ifb_int_path;

typedef struct ifb_int_stats {
    uint64_t pkts_marked;  /* packets an INT source inserted the header into */
    uint64_t hops_pushed;  /* hop records pushed */
    uint64_t hop_limit;    /* pushes refused because the packet held max_hops records */
    uint64_t sinks;        /* packets whose stack a sink stripped */
    uint64_t reports;      /* telemetry reports sent to the collector */
    uint64_t report_bytes; /* their size as Ethernet frames (headers, truncated packet, FCS) */
    uint64_t int_bytes;    /* INT bytes carried on links (shim, header and stack, every hop) */
    uint64_t feedback;     /* path-congestion updates sent back to source switches */
    uint64_t probes;       /* probes sent by ToRs (fabric.int.probe_interval) */
    uint64_t probe_bytes;  /* their frames as sent (before hop records), preamble and IFG in */
    uint64_t probes_sunk;  /* probes that reached their destination ToR and were reported */
} ifb_int_stats;

const ifb_int_stats *ifb_fabric_int_stats(const ifb_fabric *f);
/* The collector's paths, in the order first seen; NULL (n = 0) when INT is off. */
const ifb_int_path *ifb_fabric_int_paths(const ifb_fabric *f, size_t *n);
/* CSV, one row per path: "path,hops,reports,latency_mean_ns,latency_max_ns,queue_mean_bytes,
 * queue_max_bytes,util_mean_pct,util_max_pct,first_us,last_us". Returns 0, or -1 on a write
 * error. */
int ifb_fabric_write_int_csv(const ifb_fabric *f, FILE *out);

/* Test hook: called for every hop record as a switch pushes it. */
typedef void (*ifb_int_observer)(void *ctx, const ifb_pkt *pk, const ifb_int_hop *hop);
void ifb_fabric_int_observe(ifb_fabric *f, ifb_int_observer fn, void *ctx);

#endif
