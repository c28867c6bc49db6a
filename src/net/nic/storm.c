/* Misbehaving NICs (cfg.pfc_storms, the classic pause storm of a stuck NIC or driver): from the
 * storm's start for its duration, a NIC sends XOFF on one priority toward its switch every half
 * pause time, through its port's pause-frame path (net/switch/pfc.c builds the frame). What the
 * switch does about it (pause, storm counting, the PFC watchdog) is the switch's business.
 * Left out: a NIC pausing for its own receive buffer (NICs here never run out), storms of
 * several priorities from one fault entry (one entry per priority). */
#include "net/nic/nic.h"
#include "net/switch/pfc.h"

/* Misbehaving NIC: one XOFF on the storm's priority every half pause time (what keeps the
 * switch port paused without a gap, as a switch refreshing XOFF does) until the storm ends.
 * The event's argument is the priority. */
static void storm_tick(ifb_sim *sim, void *obj, uint64_t arg)
{
    ifb_port *p = obj;
    ifb_fabric *f = p->f;
    int prio = (int)arg;
    uint8_t bit = (uint8_t)(1u << prio);
    if (sim->now >= p->storm_end[prio]) {
        p->storm_tx &= (uint8_t)~bit;
        return;
    }
    p->storm_tx |= bit;
    f->cnt.pfc_storm_frames++;
    ifb_pfc_queue(p, bit, 0);
    ifb_nic_kick(p->nic);
    ifb_time half = ifb_pfc_quanta_time(f->cfg.pfc_quanta, p->rate) / 2;
    ifb_time next = sim->now + (half ? half : 1);
    ifb_sim_at_daemon(sim, next < p->storm_end[prio] ? next : p->storm_end[prio], storm_tick, p,
                      arg);
}

void ifb_nic_start_storms(ifb_fabric *f)
{
    for (int i = 0; i < f->cfg.npfc_storms; i++) {
        const ifb_pfc_storm *st = &f->cfg.pfc_storms[i];
        if (st->host < 0 || st->host >= f->nhosts || st->prio < 0 || st->prio >= IFB_NQUEUES ||
            !st->duration)
            continue; /* validated by the scenario loader */
        ifb_port *p = f->nics[st->host].port;
        ifb_time end = st->start + st->duration;
        if (end > p->storm_end[st->prio])
            p->storm_end[st->prio] = end;
        ifb_sim_at_daemon(f->sim, st->start, storm_tick, p, (uint64_t)st->prio);
    }
}
