/* PFC (802.1Qbb) on the switch shared buffer, and the pause state of every port.
 *
 * Accounting follows the HPCC ns-3 switch MMU: each (ingress port, lossless priority) group
 * holds a reserved part (cfg.pfc_reserved), a part of the shared pool and a headroom part
 * (cfg.pfc_headroom, by default the mlx5 formula for the port's rate and cable). The shared pool
 * is the switch buffer less every port's reserve and headroom; lossy queues draw on it through
 * the egress dynamic threshold, lossless groups through the ingress threshold alpha x (free
 * shared) (or a static cfg.pfc_xoff). A packet goes to the reserve while it fits, else to the
 * shared pool while the group stays under the threshold, else to headroom; only when headroom
 * is full too is it dropped (counted as a lossless drop: the headroom was too small).
 * XOFF goes out when the group's headroom is in use or its shared part reaches the threshold;
 * XON once headroom is empty and shared + xon_offset <= threshold (or shared <= cfg.pfc_xon).
 * Pause frames queue ahead of data on the ingress port's own egress side (never paused, never
 * buffered in the shared pool) and reach the peer's MAC after serialization and propagation.
 * The paused port finishes the frame it is sending, then skips the priority until XON or until
 * the pause time runs out; the switch refreshes XOFF every half pause time while it holds.
 *
 * Timers (pause expiry, refresh) are daemon events: XON always follows through ordinary events
 * once the buffer drains, so they never need to keep a run alive. A PFC deadlock (a cycle of
 * paused ports) shows as a pause refreshed forever: the paused port counts a pause storm after
 * cfg.pfc_storm_time and stops the run with a report after cfg.pfc_deadlock_time.
 * Misbehaving NICs (cfg.pfc_storms, net/nic/storm.c) send XOFF through ifb_pfc_queue, on the
 * same pause-frame path. The switch-side PFC watchdog (cfg.pfcwd_detect, as SONiC pfcwd with action
 * "drop", Mellanox/Broadcom PFC watchdogs alike): an egress queue of a lossless priority paused
 * continuously for the detection time is in a storm: its queued packets are dropped, pause
 * frames on that priority are ignored and packets routed to it are dropped at admission, until
 * no pause frame has arrived for the restoration time. Detection is checked when a pause frame
 * arrives (every refresh), not by a polling timer, so it is exact to the refresh period rather
 * than to SONiC's polling interval.
 * A pause received at a NIC port stops the NIC's QPs of the priority; its end resumes them
 * through f->nic_unpause, the one way from here into net/nic (given by the assembly).
 * The pfc-state invariant (ifb_pfc_check_state, --check) re-derives from the egress queues what
 * every priority group must hold and checks the XOFF state against it.
 * Left out: NICs never send PFC for their own buffer (infinite receive buffer); per-port alpha
 * scaling by speed; pfcwd actions other than drop (forward, alert). */
#include "net/switch/pfc.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/alloc.h"
#include "net/switch/switch.h"
#include "net/wire/wire.h"

uint64_t ifb_pfc_headroom(uint64_t rate_bps, uint64_t cable_mm, uint32_t mtu)
{
    double gbps = (double)rate_bps / 1e9, m = (double)cable_mm / 1000.0;
    double x = (301.0 + 2.16 * m) * gbps + 2.72 * (double)mtu;
    uint64_t b = (uint64_t)x;
    return (double)b < x ? b + 1 : b;
}

uint64_t ifb_pfc_quanta_time(uint32_t quanta, uint64_t rate_bps)
{
    return ifb_tx_time((uint64_t)quanta * 64u, rate_bps); /* 512 bits = 64 bytes */
}

/* Largest frame a port can be sending when the pause arrives: a full MTU WRITE_FIRST. */
static uint32_t max_frame(const ifb_fabric *f)
{
    ifb_pkt p = {.kind = IFB_PK_DATA,
                 .opcode = IFB_OP_WRITE_FIRST,
                 .flags = (uint8_t)(IFB_PF_FIRST | (f->cfg.vlan ? IFB_PF_VLAN : 0)),
                 .payload = f->cfg.mtu,
                 .l2 = (uint8_t)f->cfg.l2};
    return ifb_wire_len(&p);
}

/* Bytes that can still arrive at switch port p after it decides XOFF: a frame being sent ahead
 * of the pause, the pause frame, the propagation there and back, the frame the upstream is
 * sending, and what the switch's own latency pipeline holds (counted at arrival + latency). */
uint64_t ifb_pfc_need(const ifb_fabric *f, const ifb_port *p)
{
    ifb_pkt pf = {.kind = IFB_PK_PFC, .l2 = IFB_L2_ROCEV2};
    ifb_time t = 2 * p->delay + f->cfg.switch_latency;
    uint64_t inflight = (uint64_t)((double)p->rate * ifb_time_to_s(t) / 8.0);
    return inflight + 2ull * max_frame(f) + ifb_wire_len(&pf);
}

static uint64_t shared_used(const ifb_switch *sw)
{
    return sw->buf_used - sw->hdrm_used - sw->rsv_used;
}

static double threshold(const ifb_fabric *f, const ifb_switch *sw)
{
    if (f->cfg.pfc_xoff)
        return (double)f->cfg.pfc_xoff;
    int64_t free_b = (int64_t)sw->shared_size - (int64_t)shared_used(sw);
    return free_b > 0 ? f->cfg.pfc_alpha * (double)free_b : 0.0;
}

static uint64_t pg_shared(const ifb_fabric *f, const ifb_port *in, int prio)
{
    uint64_t b = in->pg_bytes[prio], r = f->cfg.pfc_reserved;
    return b > r ? b - r : 0;
}

static void pfc_event(ifb_sim *sim, void *obj, uint64_t arg);
enum { EV_EXPIRE = 0, EV_REFRESH = 1 };

static void arm(ifb_port *p, int kind, ifb_time at)
{
    /* the event carries its due time: an event no longer matching the port's is stale */
    ifb_sim_at_daemon(p->f->sim, at, pfc_event, p, (uint64_t)kind | (at << 1));
}

/* Queues a PFC frame pausing `xoff` and resuming `xon` priorities on port p (toward its peer),
 * ahead of data, without starting it. */
void ifb_pfc_queue(ifb_port *p, uint8_t xoff, uint8_t xon)
{
    ifb_fabric *f = p->f;
    ifb_pkt *pk = ifb_fabric_new_pkt(f);
    pk->kind = IFB_PK_PFC;
    pk->l2 = IFB_L2_ROCEV2;
    pk->src = (uint32_t)p->id; /* a switch port's MAC: 02:00:00 + its topology port id */
    pk->dst = pk->src;
    pk->tc = 7;
    pk->pfc_vec = (uint16_t)(xoff | xon);
    for (int i = 0; i < IFB_NQUEUES; i++) {
        if (xoff & (1u << i)) {
            pk->pfc_quanta[i] = f->cfg.pfc_quanta;
            p->cc.pause_tx[i]++;
        } else if (xon & (1u << i)) {
            p->cc.xon_tx[i]++;
        }
    }
    if (xoff)
        f->cnt.pfc_xoff_sent++;
    else
        f->cnt.pfc_xon_sent++;
    pk->wire = ifb_wire_len(pk);
    ifb_fifo_push(&p->pfcq, pk);
}

/* The same from switch port p, sent as soon as the link is free. */
static void pfc_send(ifb_port *p, uint8_t xoff, uint8_t xon)
{
    ifb_pfc_queue(p, xoff, xon);
    ifb_switch_kick(p);
}

static void xoff_on(ifb_port *in, int prio)
{
    ifb_fabric *f = in->f;
    in->xoff |= (uint8_t)(1u << prio);
    ifb_time half = ifb_pfc_quanta_time(f->cfg.pfc_quanta, in->rate) / 2;
    in->xoff_next[prio] = f->sim->now + (half ? half : 1);
    pfc_send(in, (uint8_t)(1u << prio), 0);
    if (!in->refresh_armed) {
        in->refresh_armed = 1;
        arm(in, EV_REFRESH, in->xoff_next[prio]);
    }
}

/* Watchdog "drop" action at admission: the packet is routed to an egress queue in a storm.
 * Only single-member route groups are looked at: a storming queue faces a host, and a host's
 * switch reaches it over one port. */
static int wd_dropping(ifb_fabric *f, const ifb_switch *sw, const ifb_pkt *pk)
{
    const ifb_topo *t = f->topo;
    const ifb_topo_group *g = &t->groups[sw->route[pk->dst]];
    if (g->count != 1 || !(sw->ports[t->group_ports[g->first]].wd_storm & (1u << pk->tc)))
        return 0;
    f->cnt.pfcwd_drops++;
    return 1;
}

int ifb_pfc_admit(ifb_switch *sw, ifb_port *in, ifb_pkt *pk)
{
    ifb_fabric *f = in->f;
    int prio = pk->tc;
    if (sw->wd_active && wd_dropping(f, sw, pk))
        return -1;
    uint64_t w = pk->wire, r = f->cfg.pfc_reserved;
    uint64_t b = in->pg_bytes[prio];
    uint64_t sh0 = b > r ? b - r : 0, sh1 = b + w > r ? b + w - r : 0;
    uint64_t rsv0 = b < r ? b : r, rsv1 = b + w < r ? b + w : r;
    if (sh1 == 0 ||
        ((double)sh1 <= threshold(f, sw) && shared_used(sw) + (sh1 - sh0) <= sw->shared_size)) {
        in->pg_bytes[prio] = b + w;
        sw->rsv_used += rsv1 - rsv0;
    } else if (in->pg_hdrm[prio] + w <= in->headroom) {
        in->pg_hdrm[prio] += w;
        sw->hdrm_used += w;
    } else {
        in->cc.lossless_drops++;
        f->cnt.lossless_drops++;
        return -1;
    }
    sw->buf_used += w;
    if (!(in->xoff & (1u << prio)) &&
        (in->pg_hdrm[prio] || (double)pg_shared(f, in, prio) >= threshold(f, sw)))
        xoff_on(in, prio);
    return 0;
}

void ifb_pfc_release(ifb_switch *sw, ifb_pkt *pk)
{
    ifb_port *in = &sw->ports[pk->in_port];
    ifb_fabric *f = in->f;
    int prio = pk->tc;
    uint64_t w = pk->wire, r = f->cfg.pfc_reserved;
    uint64_t h = in->pg_hdrm[prio] < w ? in->pg_hdrm[prio] : w;
    in->pg_hdrm[prio] -= h;
    sw->hdrm_used -= h;
    uint64_t b = in->pg_bytes[prio], nb = b - (w - h);
    sw->rsv_used -= (b < r ? b : r) - (nb < r ? nb : r);
    in->pg_bytes[prio] = nb;
    sw->buf_used -= w;
    if (!(in->xoff & (1u << prio)) || in->pg_hdrm[prio])
        return;
    uint64_t sh = pg_shared(f, in, prio);
    int resume = f->cfg.pfc_xoff
                     ? sh <= f->cfg.pfc_xon
                     : (sh == 0 || (double)(sh + f->cfg.pfc_xon_offset) <= threshold(f, sw));
    if (resume) {
        in->xoff &= (uint8_t) ~(1u << prio);
        pfc_send(in, 0, (uint8_t)(1u << prio));
    }
}

static void unpause(ifb_port *p, int prio)
{
    ifb_time now = p->f->sim->now;
    p->paused &= (uint8_t) ~(1u << prio);
    p->storm &= (uint8_t) ~(1u << prio);
    p->cc.paused[prio] += now - p->paused_since[prio];
    if (p->nic) /* the NIC resumes its QPs of the priority (net/nic, given by the assembly) */
        p->f->nic_unpause(p->nic, prio);
    else
        ifb_switch_kick(p);
}

static int port_name(const ifb_fabric *f, const ifb_port *p, char *buf, size_t cap)
{
    const ifb_topo_port *tp = &f->topo->ports[p->id];
    int w = snprintf(buf, cap, "%s:%d", f->topo->nodes[tp->node].name, tp->index);
    return w < 0 ? 0 : (w >= (int)cap ? (int)cap - 1 : w);
}

/* Follows the pause dependency from paused egress port p: its peer switch holds the priority's
 * XOFF because its buffer holds packets that wait in egress queues of that priority; if one of
 * those queues is itself paused, follow it. Coming back to a port already on the path is a
 * cyclic buffer dependency (a PFC deadlock); reaching a queue that is free to drain is not.
 * Writes the cycle (or the whole chain) into buf; returns 1 on a cycle. */
static int find_cycle(const ifb_fabric *f, const ifb_port *p, int prio, char *buf, size_t cap)
{
    enum { MAXPATH = 64 };
    const ifb_port *path[MAXPATH];
    int n = 0, start = -1;
    uint8_t bit = (uint8_t)(1u << prio);
    for (const ifb_port *cur = p; cur && n < MAXPATH && start < 0;) {
        for (int i = 0; i < n; i++)
            if (path[i] == cur)
                start = i;
        if (start >= 0)
            break;
        path[n++] = cur;
        const ifb_port *in = cur->peer, *next = NULL;
        if (!in || !in->sw || !(in->xoff & bit))
            break;
        for (int k = 0; k < in->sw->nports && !next; k++) {
            const ifb_port *e = &in->sw->ports[k];
            if (e->q[prio].n && (e->paused & bit))
                next = e;
        }
        cur = next;
    }
    size_t o = 0;
    buf[0] = '\0';
    for (int i = start >= 0 ? start : 0; i < n && o + 24 < cap; i++) {
        if (o)
            o += (size_t)snprintf(buf + o, cap - o, " -> ");
        o += (size_t)port_name(f, path[i], buf + o, cap - o);
    }
    if (start >= 0 && o + 24 < cap) {
        o += (size_t)snprintf(buf + o, cap - o, " -> ");
        port_name(f, path[start], buf + o, cap - o);
    }
    return start >= 0;
}

static void storm_check(ifb_port *p, int prio)
{
    ifb_fabric *f = p->f;
    ifb_time dur = f->sim->now - p->paused_since[prio];
    if (f->cfg.pfc_storm_time && dur >= f->cfg.pfc_storm_time && !(p->storm & (1u << prio))) {
        p->storm |= (uint8_t)(1u << prio);
        p->cc.storms++;
        f->cnt.pfc_storms++;
    }
    if (f->cfg.pfc_deadlock_time && dur >= f->cfg.pfc_deadlock_time) {
        ifb_paused_port pp[4];
        ifb_time floor = f->cfg.pfc_storm_time && f->cfg.pfc_storm_time < f->cfg.pfc_deadlock_time
                             ? f->cfg.pfc_storm_time
                             : f->cfg.pfc_deadlock_time;
        int n = ifb_link_paused_ports(f, floor, pp, 4);
        char list[192], path[256];
        size_t o = 0;
        list[0] = '\0';
        for (int i = 0; i < n && i < 4 && o + 16 < sizeof list; i++) {
            if (i)
                o += (size_t)snprintf(list + o, sizeof list - o, ", ");
            o += (size_t)port_name(f, &f->ports[pp[i].port], list + o, sizeof list - o);
            o += (size_t)snprintf(list + o, sizeof list - o, " prio %d", pp[i].prio);
        }
        int cyc = find_cycle(f, p, prio, path, sizeof path);
        ifb_sim_request_stop(f->sim, IFB_STOP_ERROR,
                             "PFC deadlock or pause storm: %d port/priority pairs paused "
                             "continuously for over %.1f us (%s%s); %s: %s; see "
                             "fabric.pfc.deadlock_time",
                             n, ifb_time_to_us(f->cfg.pfc_deadlock_time), list,
                             n > 4 ? ", ..." : "",
                             cyc ? "cyclic buffer dependency" : "no cycle, pause chain", path);
    }
}

static void wd_event(ifb_sim *sim, void *obj, uint64_t arg)
{
    (void)arg;
    ifb_port *p = obj;
    ifb_fabric *f = p->f;
    ifb_time next = IFB_TIME_NEVER;
    p->wd_armed = 0;
    for (int i = 0; i < IFB_NQUEUES; i++) {
        uint8_t bit = (uint8_t)(1u << i);
        if (!(p->wd_storm & bit))
            continue;
        ifb_time due = p->wd_last_rx[i] + f->cfg.pfcwd_restore;
        if (due <= sim->now) {
            p->wd_storm &= (uint8_t)~bit;
            p->sw->wd_active--;
            f->cnt.pfcwd_restored++;
        } else if (due < next) {
            next = due;
        }
    }
    if (next != IFB_TIME_NEVER) {
        p->wd_armed = 1;
        ifb_sim_at_daemon(sim, next, wd_event, p, 0);
    }
}

/* The watchdog found egress port p paused on prio for the detection time: drop what waits in
 * the queue (releasing its priority-group accounting, so the ingress ports resume), resume the
 * queue, and ignore pause on it from now on until the storm has been over for restore time. */
static void wd_detect(ifb_port *p, int prio)
{
    ifb_fabric *f = p->f;
    ifb_time now = f->sim->now;
    uint8_t bit = (uint8_t)(1u << prio);
    p->wd_storm |= bit;
    p->wd_last_rx[prio] = now;
    p->sw->wd_active++;
    f->cnt.pfcwd_storms++;
    if (p->q[prio].n)
        ifb_port_queue_change(p, now);
    for (ifb_pkt *pk; (pk = ifb_port_qpop(p, prio)) != NULL;) {
        p->qbytes -= pk->wire;
        ifb_pfc_release(p->sw, pk);
        f->cnt.pfcwd_drops++;
        ifb_fabric_drop_pkt(f, p, pk);
    }
    unpause(p, prio);
    if (!p->wd_armed) {
        p->wd_armed = 1;
        ifb_sim_at_daemon(f->sim, now + f->cfg.pfcwd_restore, wd_event, p, 0);
    }
}

void ifb_pfc_receive(ifb_port *p, ifb_pkt *pk)
{
    ifb_fabric *f = p->f;
    ifb_time now = f->sim->now;
    f->cnt.pfc_rcvd++;
    for (int i = 0; i < IFB_NQUEUES; i++) {
        uint8_t bit = (uint8_t)(1u << i);
        if (!(pk->pfc_vec & bit))
            continue;
        if (pk->pfc_quanta[i] == 0) {
            p->cc.xon_rx[i]++;
            if (p->paused & bit)
                unpause(p, i);
            continue;
        }
        p->cc.pause_rx[i]++;
        if (p->wd_storm & bit) { /* the watchdog ignores pause on a storming queue */
            p->wd_last_rx[i] = now;
            continue;
        }
        ifb_time until = now + ifb_pfc_quanta_time(pk->pfc_quanta[i], p->rate);
        if (!(p->paused & bit)) {
            p->paused |= bit;
            p->paused_since[i] = now;
        } else {
            storm_check(p, i);
            if (p->sw && f->cfg.pfcwd_detect && (f->pfc_mask & bit) &&
                now - p->paused_since[i] >= f->cfg.pfcwd_detect) {
                wd_detect(p, i);
                continue;
            }
        }
        p->pause_until[i] = until;
        if (!p->pause_armed || until < p->pause_timer_at) {
            p->pause_armed = 1;
            p->pause_timer_at = until;
            arm(p, EV_EXPIRE, until);
        }
    }
    ifb_fabric_free_pkt(f, pk);
}

static void pfc_event(ifb_sim *sim, void *obj, uint64_t arg)
{
    ifb_port *p = obj;
    ifb_fabric *f = p->f;
    ifb_time at = arg >> 1, now = sim->now;
    if ((arg & 1) == EV_EXPIRE) {
        if (!p->pause_armed || at != p->pause_timer_at)
            return; /* superseded by an earlier expiry */
        p->pause_armed = 0;
        ifb_time next = IFB_TIME_NEVER;
        for (int i = 0; i < IFB_NQUEUES; i++) {
            if (!(p->paused & (1u << i)))
                continue;
            if (p->pause_until[i] <= now)
                unpause(p, i);
            else if (p->pause_until[i] < next)
                next = p->pause_until[i];
        }
        if (next != IFB_TIME_NEVER && !p->pause_armed) {
            p->pause_armed = 1;
            p->pause_timer_at = next;
            arm(p, EV_EXPIRE, next);
        }
        return;
    }
    /* refresh every XOFF still held whose refresh is due, in one frame */
    p->refresh_armed = 0;
    uint8_t due = 0;
    ifb_time next = IFB_TIME_NEVER;
    ifb_time half = ifb_pfc_quanta_time(f->cfg.pfc_quanta, p->rate) / 2;
    for (int i = 0; i < IFB_NQUEUES; i++) {
        if (!(p->xoff & (1u << i)))
            continue;
        if (p->xoff_next[i] <= now) {
            due |= (uint8_t)(1u << i);
            p->xoff_next[i] = now + (half ? half : 1);
        }
        if (p->xoff_next[i] < next)
            next = p->xoff_next[i];
    }
    if (due)
        pfc_send(p, due, 0);
    if (next != IFB_TIME_NEVER) {
        p->refresh_armed = 1;
        arm(p, EV_REFRESH, next);
    }
}

/* What the code in this file maintains for every switch ingress port p and priority q (sh =
 * shared part of the group = pg_bytes - reserve, clamped at 0; thr = the XOFF threshold):
 *  - the group holds exactly the bytes of the packets in the switch's egress queues that came in
 *    on p with priority q (pg_bytes + pg_hdrm), and the switch's sums match: headroom bytes =
 *    hdrm_used, reserved bytes = rsv_used, every queued byte = buf_used;
 *  - pg_hdrm <= the port's headroom, pg_bytes <= reserve + shared pool (so neither wrapped);
 *  - headroom in use => XOFF asserted (a packet only goes to headroom past the threshold);
 *  - XOFF asserted => the group is not empty (its last release re-evaluates and resumes) and,
 *    with static thresholds, headroom is in use or sh > xon or sh >= xoff (hysteresis: between
 *    xon and xoff the state is whichever was crossed last);
 *  - XOFF clear => sh < xoff or sh <= xon (static); with the dynamic threshold alpha x (free
 *    shared), which other groups move, sh == 0 or sh <= alpha x (shared pool - sh): the group
 *    was under the threshold when it last grew or resumed, and its own shared bytes were not
 *    free then. Priorities PFC does not act on hold nothing and are never XOFF. */
int ifb_pfc_check_state(const ifb_fabric *f, char *msg, size_t cap)
{
    uint64_t r = f->cfg.pfc_reserved;
    for (int s = 0; s < f->nswitches; s++) {
        const ifb_switch *sw = &f->switches[s];
        const char *swn = f->topo->nodes[sw->node].name;
        uint64_t(*held)[IFB_NQUEUES] =
            ifb_xcalloc((size_t)sw->nports, sizeof *held, "the pfc-state check");
        uint64_t total = 0, hdrm = 0, rsv = 0;
        for (int k = 0; k < sw->nports; k++)
            for (int q = 0; q < IFB_NQUEUES; q++)
                for (const ifb_pkt *pk = sw->ports[k].q[q].head; pk; pk = pk->next) {
                    total += pk->wire;
                    if ((f->pfc_mask >> pk->tc & 1) && pk->in_port < sw->nports)
                        held[pk->in_port][pk->tc] += pk->wire;
                }
        int bad = 0;
        for (int k = 0; k < sw->nports && !bad; k++) {
            const ifb_port *p = &sw->ports[k];
            for (int q = 0; q < IFB_NQUEUES && !bad; q++) {
                uint64_t b = p->pg_bytes[q], h = p->pg_hdrm[q], sh = b > r ? b - r : 0;
                int on = p->xoff >> q & 1;
                double thr = 0, xon = 0;
                if (f->cfg.pfc_xoff) {
                    thr = (double)f->cfg.pfc_xoff;
                    xon = (double)f->cfg.pfc_xon;
                } else {
                    int64_t fr = (int64_t)sw->shared_size - (int64_t)shared_used(sw);
                    thr = fr > 0 ? f->cfg.pfc_alpha * (double)fr : 0.0;
                    xon = thr - (double)f->cfg.pfc_xon_offset;
                }
                const char *why = NULL;
                if (!(f->pfc_mask >> q & 1)) {
                    if (b || h || on)
                        why = "a priority PFC does not act on holds bytes or XOFF";
                } else if (held[k][q] != b + h) {
                    why = "the group's bytes differ from what its packets in the egress queues "
                          "hold";
                } else if (h > p->headroom || b > r + sw->shared_size) {
                    why = "the group holds more than reserve + shared + headroom";
                } else if (h && !on) {
                    why = "headroom in use without XOFF asserted";
                } else if (on && !b && !h) {
                    why = "XOFF asserted on an empty priority group";
                } else if (on && f->cfg.pfc_xoff && !h && sh <= f->cfg.pfc_xon &&
                           sh < f->cfg.pfc_xoff) {
                    why = "XOFF asserted at or below the XON threshold";
                } else if (!on && f->cfg.pfc_xoff && sh >= f->cfg.pfc_xoff && sh > f->cfg.pfc_xon) {
                    why = "XOFF not asserted at or above the XOFF threshold";
                } else if (!on && !f->cfg.pfc_xoff && sh &&
                           (double)sh > f->cfg.pfc_alpha * ((double)sw->shared_size - (double)sh)) {
                    why = "XOFF not asserted with the group above the dynamic threshold it can "
                          "have";
                }
                if (why) {
                    const ifb_topo_port *tp = &f->topo->ports[p->id];
                    snprintf(msg, cap,
                             "switch %s port %d (%s:%d) priority %d: %s: XOFF %s, queued %llu B, "
                             "group %llu B (shared %llu B) + headroom %llu B of %llu B, reserve "
                             "%llu B, XOFF threshold %.0f B, XON %.0f B",
                             swn, k, f->topo->nodes[tp->node].name, tp->index, q, why,
                             on ? "asserted" : "clear", (unsigned long long)held[k][q],
                             (unsigned long long)b, (unsigned long long)sh, (unsigned long long)h,
                             (unsigned long long)p->headroom, (unsigned long long)r, thr,
                             xon < 0 ? 0 : xon);
                    bad = 1;
                }
                hdrm += h;
                rsv += b < r ? b : r;
            }
        }
        free(held);
        if (bad)
            return -1;
        if (hdrm != sw->hdrm_used || rsv != sw->rsv_used || total != sw->buf_used) {
            snprintf(msg, cap,
                     "switch %s: priority groups hold %llu B of headroom and %llu B of reserve, "
                     "egress queues %llu B, but the switch counts %llu B headroom, %llu B "
                     "reserve, %llu B in use",
                     swn, (unsigned long long)hdrm, (unsigned long long)rsv,
                     (unsigned long long)total, (unsigned long long)sw->hdrm_used,
                     (unsigned long long)sw->rsv_used, (unsigned long long)sw->buf_used);
            return -1;
        }
    }
    return 0;
}
