/* The fabric's invariants (--check, core/sim.h): packet conservation (every packet created was
 * consumed, dropped or is in flight, found by walking every queue and link, and none in flight
 * is stuck where nothing will move it), buffer accounting, InfiniBand credits, the PFC state
 * (net/switch/pfc.c) and message completion; and the watchdog's diagnosis of a run that stopped
 * making progress. They read every component's state and change none. Left out: invariants of
 * the path-selection and INT state (their tests check them directly). */
#include <inttypes.h>
#include <stdio.h>

#include "net/fabric/fabric_int.h"
#include "net/wire/wire.h"

uint64_t ifb_fabric_inflight(const ifb_fabric *f)
{
    uint64_t n = 0;
    for (int i = 0; i < f->nports; i++) {
        const ifb_port *p = &f->ports[i];
        for (int q = 0; q < IFB_NQUEUES; q++)
            for (const ifb_pkt *pk = p->q[q].head; pk; pk = pk->next)
                n++;
        for (const ifb_pkt *pk = p->pipe.head; pk; pk = pk->next)
            n++;
        for (const ifb_pkt *pk = p->pfcq.head; pk; pk = pk->next)
            n++;
        for (const ifb_pkt *pk = p->pfc_pipe.head; pk; pk = pk->next)
            n++;
    }
    return n;
}

/* Packets nothing will ever move: queued on an InfiniBand VL the port does not have (never
 * served), or, once the run has ended by itself (no event left that could move them), anywhere
 * at all. Counted by walking the queues; the first one found is described in `where`. */
static uint64_t stuck_pkts(const ifb_fabric *f, int ended, char *where, size_t cap)
{
    uint64_t n = 0;
    where[0] = '\0';
    for (int i = 0; i < f->nports; i++) {
        const ifb_port *p = &f->ports[i];
        const ifb_fifo *fifos[IFB_NQUEUES + 3];
        int nf = 0;
        for (int q = 0; q < IFB_NQUEUES; q++)
            fifos[nf++] = &p->q[q];
        fifos[nf++] = &p->pipe;
        fifos[nf++] = &p->pfcq;
        fifos[nf++] = &p->pfc_pipe;
        for (int k = 0; k < nf; k++) {
            int novl = f->ib && k < IFB_NQUEUES && k >= f->cfg.ib_vls;
            if (!fifos[k]->head || !(novl || ended))
                continue;
            n += fifos[k]->n;
            if (where[0])
                continue;
            const ifb_pkt *pk = fifos[k]->head;
            char pn[64];
            ifb_port_name(f, p, pn, sizeof pn);
            if (k < IFB_NQUEUES)
                snprintf(where, cap, "%s from host %u to host %u in queue %d of %s%s",
                         ifb_pkt_kind_name(pk->kind), pk->src, pk->dst, k, pn,
                         novl ? ", a VL this InfiniBand fabric does not have" : "");
            else
                snprintf(where, cap, "%s from host %u to host %u %s %s",
                         ifb_pkt_kind_name(pk->kind), pk->src, pk->dst,
                         k == IFB_NQUEUES + 1 ? "in the PFC queue of" : "on the link from", pn);
        }
    }
    return n;
}

int ifb_fabric_check_conservation(const ifb_fabric *f, char *msg, size_t cap)
{
    uint64_t inflight = ifb_fabric_inflight(f);
    const ifb_fabric_counters *c = &f->cnt;
    if (c->pkts_created != c->pkts_consumed + c->pkts_dropped + inflight ||
        inflight != f->sim->pkt_pool.live) {
        if (msg)
            snprintf(msg, cap,
                     "packet conservation violated: created %" PRIu64 " != consumed %" PRIu64
                     " + dropped %" PRIu64 " + in flight %" PRIu64 " (pool live %" PRIu64 ")",
                     c->pkts_created, c->pkts_consumed, c->pkts_dropped, inflight,
                     f->sim->pkt_pool.live);
        return -1;
    }
    /* in flight only counts if it can still arrive: a packet parked where nothing serves it
     * is as lost as one that vanished, only quieter */
    char where[300];
    uint64_t stuck = stuck_pkts(f, f->sim->stop == IFB_STOP_EMPTY, where, sizeof where);
    if (!stuck)
        return 0;
    if (msg)
        snprintf(msg, cap,
                 "packet conservation violated: %" PRIu64 " of the %" PRIu64
                 " packets in flight can never be delivered or dropped (%s); first: %s",
                 stuck, inflight,
                 f->sim->stop == IFB_STOP_EMPTY ? "the run ended with nothing left to move them"
                                                : "queued where nothing serves them",
                 where);
    return -1;
}

/* --check invariants (core/sim.h): run every few thousand events when sim->check is on. */
static int check_conservation_inv(ifb_sim *sim, void *ctx, char *msg, size_t cap)
{
    (void)sim;
    return ifb_fabric_check_conservation(ctx, msg, cap);
}

static int check_buffers_inv(ifb_sim *sim, void *ctx, char *msg, size_t cap)
{
    (void)sim;
    const ifb_fabric *f = ctx;
    for (int i = 0; i < f->nports; i++) {
        const ifb_port *p = &f->ports[i];
        uint64_t sum = 0;
        for (int q = 0; q < IFB_NQUEUES; q++)
            sum += p->q[q].bytes;
        if (p->sw && sum != p->qbytes) {
            snprintf(msg, cap, "port %d (%s:%d): queues hold %llu B but the port counts %llu B", i,
                     f->topo->nodes[f->topo->ports[i].node].name, p->index, (unsigned long long)sum,
                     (unsigned long long)p->qbytes);
            return -1;
        }
    }
    for (int s = 0; s < f->nswitches; s++)
        if (f->switches[s].buf_used > f->cfg.switch_buffer) {
            snprintf(msg, cap, "switch %s: %llu B in use of a %llu B buffer",
                     f->topo->nodes[f->switches[s].node].name,
                     (unsigned long long)f->switches[s].buf_used,
                     (unsigned long long)f->cfg.switch_buffer);
            return -1;
        }
    return 0;
}

static int check_credits_inv(ifb_sim *sim, void *ctx, char *msg, size_t cap)
{
    (void)sim;
    const ifb_fabric *f = ctx;
    for (int i = 0; i < f->nports; i++)
        for (int v = 0; v < f->cfg.ib_vls; v++) {
            const ifb_port *p = &f->ports[i];
            if (p->credits[v] > f->ib_credits || p->ibuf[v] > f->ib_credits) {
                snprintf(msg, cap,
                         "port %d (%s:%d) VL %d: %u credits held, %u blocks buffered, limit %u", i,
                         f->topo->nodes[f->topo->ports[i].node].name, p->index, v, p->credits[v],
                         p->ibuf[v], f->ib_credits);
                return -1;
            }
        }
    return 0;
}

static int check_pfc_state_inv(ifb_sim *sim, void *ctx, char *msg, size_t cap)
{
    (void)sim;
    return ifb_pfc_check_state(ctx, msg, cap);
}

/* The message-completion invariant (--check): every message posted was completed, failed or is
 * still outstanding, where outstanding is counted by walking every QP's list of messages not yet
 * acknowledged and the NVLink completions pending in the event queue, independently of the
 * counters; and when a run ended by itself (nothing left to do: not stopped, not partial),
 * nothing is outstanding. A message leaked by the transport breaks the first; one whose work
 * item was ended without completing it breaks the second. Either names the oldest message. */
static void oldest_msg(const ifb_msg *m, const ifb_msg **old)
{
    if (!*old || m->start < (*old)->start)
        *old = m;
}

/* Messages on every QP's list of those not yet acknowledged; the oldest into *old. */
static uint64_t qp_outstanding(const ifb_fabric *f, const ifb_msg **old)
{
    uint64_t out = 0;
    for (int h = 0; h < f->nhosts; h++)
        for (uint32_t k = 0; k < f->nics[h].nqps; k++)
            for (const ifb_msg *m = f->nics[h].qps[k]->head; m; m = m->next) {
                out++;
                oldest_msg(m, old);
            }
    return out;
}

/* NVLink messages in flight are pending completion events, not QP entries. */
struct nvl_scan {
    uint64_t n;
    const ifb_msg *old;
};

static void nvlink_pending(const ifb_event *ev, void *ctx)
{
    struct nvl_scan *s = ctx;
    if (ev->fn == ifb_fabric_nvlink_done) {
        s->n++;
        oldest_msg(ev->obj, &s->old);
    }
}

static int check_messages_inv(ifb_sim *sim, void *ctx, char *msg, size_t cap)
{
    const ifb_fabric *f = ctx;
    const ifb_msg *old = NULL;
    uint64_t out = qp_outstanding(f, &old);
    struct nvl_scan scan = {0, NULL};
    ifb_sim_each_pending(sim, nvlink_pending, &scan);
    out += scan.n;
    if (scan.old)
        oldest_msg(scan.old, &old);
    const ifb_fabric_counters *c = &f->cnt;
    char who[200] = "";
    if (old)
        snprintf(who, sizeof who,
                 "; oldest outstanding: message %llu, endpoint %d -> %d, %llu B, "
                 "class %d, posted %.3f us ago",
                 (unsigned long long)old->id, old->src, old->dst, (unsigned long long)old->bytes,
                 old->tclass, ifb_time_to_us(sim->now - old->start));
    if (c->msgs_posted != c->msgs_done + c->msgs_failed + out) {
        snprintf(msg, cap,
                 "%llu messages posted but %llu completed + %llu failed + %llu outstanding (in QP "
                 "lists and NVLink transfers): %lld unaccounted for%s",
                 (unsigned long long)c->msgs_posted, (unsigned long long)c->msgs_done,
                 (unsigned long long)c->msgs_failed, (unsigned long long)out,
                 (long long)(c->msgs_posted - c->msgs_done - c->msgs_failed - out), who);
        return -1;
    }
    if (sim->stop == IFB_STOP_EMPTY && out) {
        snprintf(msg, cap,
                 "the run ended with nothing left to do but %llu messages were never completed "
                 "or failed%s",
                 (unsigned long long)out, who);
        return -1;
    }
    return 0;
}

int ifb_fabric_add_checkers(ifb_fabric *f, ifb_err *e)
{
    static const struct {
        const char *name;
        ifb_check_fn fn;
    } all[] = {{"packet-conservation", check_conservation_inv},
               {"buffer-accounting", check_buffers_inv},
               {"ib-credits", check_credits_inv},
               {"pfc-state", check_pfc_state_inv},
               {"message-completion", check_messages_inv}};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        if ((all[i].fn == check_credits_inv && !f->ib) ||
            (all[i].fn == check_pfc_state_inv && !f->pfc_mask))
            continue;
        if (ifb_sim_add_checker(f->sim, all[i].name, all[i].fn, f))
            return ifb_err_msg(e,
                               "fabric: no room for the %s invariant checker (%d of %d checker "
                               "slots of the simulation already in use)",
                               all[i].name, f->sim->ncheckers, IFB_MAX_CHECKERS);
    }
    return 0;
}

/* The watchdog's diagnosis: the oldest message still outstanding and the (port, priority) pairs
 * paused longest, which together say whether a black hole, a loss that is never repaired or a
 * PFC deadlock holds the run. */
void ifb_fabric_watchdog_diag(ifb_sim *sim, void *ctx, char *msg, size_t cap)
{
    const ifb_fabric *f = ctx;
    const ifb_msg *old = NULL;
    uint64_t out = qp_outstanding(f, &old);
    size_t w = 0;
    if (old)
        w += (size_t)snprintf(
            msg, cap,
            "oldest outstanding network message: %llu, endpoint %d -> %d, %llu B, "
            "posted %.3f us ago (%llu on NIC QPs)",
            (unsigned long long)old->id, old->src, old->dst, (unsigned long long)old->bytes,
            ifb_time_to_us(sim->now - old->start), (unsigned long long)out);
    else
        w += (size_t)snprintf(msg, cap, "no network message outstanding on any QP");
    ifb_paused_port pp[4];
    int n = ifb_fabric_paused_ports(f, 0, pp, 4);
    for (int i = 0; i < n && i < 4 && w < cap; i++) {
        const ifb_topo_port *tp = &f->topo->ports[pp[i].port];
        w += (size_t)snprintf(msg + w, cap - w, "%s%s:%d prio %d paused %.3f us",
                              i ? ", " : "; paused: ", f->topo->nodes[tp->node].name, tp->index,
                              pp[i].prio, ifb_time_to_us(sim->now - pp[i].since));
    }
    if (n > 4 && w < cap)
        snprintf(msg + w, cap - w, " and %d more", n - 4);
}
