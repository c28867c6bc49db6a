/* Link and switch failures in the packet-level fabric, and how the fabric recovers from them.
 *
 * A failed link drops, in both directions, every frame queued at its two ends, being serialized
 * or on the wire, and sends nothing until it is back up (a whole switch fails as all its links).
 * Switches react after one detection delay (cfg.fail_detection): until then traffic hashed to
 * the dead member is black-holed; afterwards every path-selection mode picks among the members
 * that still lead to the destination (per switch and destination host, recomputed at each
 * detection), WCMP weights are recomputed with the dead link at 0, and packets with no usable
 * member are dropped. The RC transport recovers losses (go-back-N, timeouts); after
 * cfg.retry_cnt consecutive timeouts a QP's messages complete with failed = 1.
 *
 * Left out: per-switch detection times (every switch learns at the same moment, as with a
 * fast fault notification; real BGP convergence is slower and staggered), routing loops or
 * transient inconsistency during convergence, link flap dampening, the QP error state (a failed
 * QP is back in service at once, as if reconnected), PFC pause state cleared by the link going
 * down (pauses expire by their quanta), IB subnet-manager rerouting (the same member pruning is
 * applied to InfiniBand). */
#ifndef IFB_FAILURE_H
#define IFB_FAILURE_H
#include <stdint.h>

#include "core/err.h"
#include "core/time.h"
#include "net/fabric/fabric.h"
#include "net/nic/goodput.h"

/* One scheduled failure: a link (the topology port at one end) or a switch (every link). */
typedef struct ifb_failure {
    int port;             /* topology port at one end of the link, or -1 */
    int sw;               /* topology node of the switch, or -1 */
    ifb_time down;        /* first time it goes down */
    ifb_time up;          /* back up; IFB_TIME_NEVER: stays down (ignored when flapping) */
    ifb_time flap_period; /* flapping: down at down + k x period, k < flap_count ... */
    ifb_time flap_down;   /* ... each time for flap_down (< period) */
    int flap_count;       /* 0: no flapping */
} ifb_failure;

/* Default bin of the goodput series when failures are scheduled and cfg.goodput_bin is 0. */
#define IFB_GOODPUT_BIN_DEFAULT (10 * IFB_US)

/* Schedules the failures (simulated times, absolute). Validates them first: a port with a link,
 * a switch node, up after down, 0 < flap_down < flap_period. Turns the goodput series on. */
int ifb_fail_schedule(ifb_fabric *f, const ifb_failure *fl, int n, ifb_err *e);
/* Takes a link (the topology port at one end) or a switch (topology node) down or up now. */
void ifb_fail_link(ifb_fabric *f, int port, int up);
void ifb_fail_switch(ifb_fabric *f, int node, int up);

/* The goodput series the recovery is computed from: net/nic/goodput.h. */

/* Recovery of delivered goodput from the first failure (docs/outputs.md, failures). */
typedef struct ifb_recovery {
    int any;           /* a link went down in this run (the rest is meaningless otherwise) */
    ifb_time t_fail;   /* first link down */
    ifb_time bin;      /* goodput bin */
    double pre_gbps;   /* mean goodput before the failure; NaN: no bin before it */
    double dip;        /* lowest bin after the failure over pre mean; NaN: no bin after it */
    ifb_time recovery; /* failure to goodput back at >= 90%; IFB_TIME_NEVER: not in the window */
    uint64_t lost;     /* link_down_drops + unroutable_drops */
    uint64_t retx, timeouts, msgs_failed;
} ifb_recovery;
/* Computes the recovery over the bins before `until` (e.g. the end of the steady state: the
 * first flow completion of a permutation, or the end of the run). */
void ifb_fail_recovery(const ifb_fabric *f, ifb_time until, ifb_recovery *out);

#endif
