/* An ideal network behind the message API (net/net.h): every endpoint has one egress and one
 * ingress serializer of a given rate, plus a fixed latency, separately for messages inside a
 * server (NVLink-like) and between servers. A message of B bytes from A to C starts at
 * t0 = max(now, A's egress free) and holds A's egress for B / rate; its first byte reaches C at
 * t0 + latency, and C's ingress places it in B / rate from max(that, C's ingress free): done at
 * max(t0 + latency, ingress free) + B / rate (the two serializers pipeline, as the fabric's
 * NVLink model does). Rate 0 means infinitely fast: with both rates 0
 * and both latencies 0 every message completes at the instant it was sent (zero-time mode, the
 * compute-only baseline). Completion callbacks always run from an event, never from inside
 * ifb_net_send, so a caller may send from its callback.
 * Leaves out: packets, switches, queues, congestion, loss and any shared link between endpoints
 * (only the endpoints' own serializers contend). */
#ifndef IFB_NET_IDEAL_H
#define IFB_NET_IDEAL_H
#include <stdint.h>

#include "core/err.h"
#include "core/sim.h"
#include "net/net.h"

typedef struct ifb_ideal_cfg {
    int nendpoints;
    int gpus_per_server;     /* endpoints s*G .. s*G+G-1 share a server; 0 = one per server */
    uint64_t rate_bps;       /* per-endpoint rate between servers, each direction; 0 = infinite */
    ifb_time latency;        /* between servers */
    uint64_t local_rate_bps; /* inside a server; 0 = infinite */
    ifb_time local_latency;
} ifb_ideal_cfg;

typedef struct ifb_ideal ifb_ideal;

/* Zero-time configuration for n endpoints, G per server. */
ifb_ideal_cfg ifb_ideal_cfg_zero(int nendpoints, int gpus_per_server);
int ifb_ideal_create(ifb_ideal **out, ifb_sim *sim, const ifb_ideal_cfg *cfg, ifb_err *e);
void ifb_ideal_destroy(ifb_ideal *n);
ifb_net *ifb_ideal_net(ifb_ideal *n);
/* Messages sent and completed, bytes sent between servers and inside servers. */
typedef struct ifb_ideal_counters {
    uint64_t msgs_posted, msgs_done, remote_bytes, local_bytes;
} ifb_ideal_counters;
const ifb_ideal_counters *ifb_ideal_counts(const ifb_ideal *n);

#endif
