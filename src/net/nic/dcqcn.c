/* DCQCN reaction point (per sender QP) and the named parameter profiles.
 *
 * A QP sends at line rate until its first CNP; then a rate limiter is set up (rate RC, target
 * RT, alpha) and the NIC's round robin skips the QP until its next transmit time
 * (nic.c). Decrease: RT <- RC (always with clamp_target, else only if a timer increase came
 * since the last decrease: ConnectX CLAMP_TGT_RATE 0 with CLAMP_TGT_RATE_AFTER_TIME_INC 1, and
 * HPCC ns-3's test on the timer stage), then RC <- RC (1 - alpha/2), at most once per dec_period
 * (CNPs in between are remembered and applied at the end of the period). Alpha: EWMA with gain g,
 * either once per alpha period from "did a CNP come" (ConnectX, HPCC) or at each CNP with a decay
 * per CNP-free period (paper); it is advanced lazily in closed form when needed, so it costs no
 * events. Increase events come from the timer (inc_timer) and the byte counter (inc_bytes): with T
 * timer and B byte events since the last decrease, fast recovery (RC <- (RT + RC) / 2) while max(T,
 * B) <= F, hyper increase by (min(T, B) - F) x HAI once both exceed F, additive increase by AI
 * otherwise. Without a byte counter (HPCC ns-3) the timer stage alone decides: fast recovery for
 * the first F events, additive at the next, hyper (one HAI) after. RC reaching line rate releases
 * the limiter.
 *
 * Timers are daemon events, one per QP at most for each of increase and delayed decrease, and
 * stop while the QP has nothing outstanding; a new message catches the timer up in a loop, so a
 * run ends when its last flow does. */
#include "net/nic/dcqcn.h"

#include <math.h>
#include <string.h>

#include "net/nic/nic.h"

const char *const ifb_dcqcn_profile_names[IFB_DCQCN_NPROFILES + 1] = {"nvidia-cx", "dcqcn-paper",
                                                                      "hpcc-ns3", NULL};

int ifb_dcqcn_profile(int profile, ifb_dcqcn_params *p)
{
    memset(p, 0, sizeof *p);
    p->cnp_dscp = 48; /* CNP_DSCP */
    p->cnp_prio = 6;  /* CNP_802P_PRIO */
    p->max_dec = 0.5; /* RPG_MIN_DEC_FAC 50 % */
    switch (profile) {
    case IFB_DCQCN_NVIDIA_CX: /* ConnectX firmware defaults (mlxconfig, NVIDIA DCQCN docs) */
        p->cnp_interval = 4 * IFB_US;  /* MIN_TIME_BETWEEN_CNPS (docs; 2 us on one dump) */
        p->g = 5.0 / 1024;             /* DCE_TCP_G 1019: alpha <- 1019/1024 alpha + 5/1024 */
        p->alpha_init = 1023.0 / 1024; /* INITIAL_ALPHA_VALUE 1023 */
        p->alpha_period = 1 * IFB_US;  /* DCE_TCP_RTT */
        p->alpha_on_cnp = 0;
        p->dec_period = 4 * IFB_US;  /* RATE_REDUCE_MONITOR_PERIOD */
        p->inc_timer = 300 * IFB_US; /* RPG_TIME_RESET */
        /* RPG_BYTE_RESET reads 32767, the largest value of its 15-bit field, in a unit the
         * documentation gives as bytes. Taken as 32 KB it fires every 0.65 us at 400G: fast
         * recovery then returns the rate to a target that only a timer increase may lower, and
         * the flows never slow down. HPCC's ConnectX model has no byte counter: off here too
         * (fabric.dcqcn.byte_counter turns it on). */
        p->inc_bytes = 0;
        p->F = 1;               /* RPG_THRESHOLD */
        p->rate_ai = 5000000;   /* RPG_AI_RATE 5 Mb/s */
        p->rate_hai = 50000000; /* RPG_HAI_RATE 50 Mb/s */
        p->min_rate = 1000000;  /* RPG_MIN_RATE 1 Mb/s */
        p->first_rate = 0;      /* RATE_TO_SET_ON_FIRST_CNP 0 = line rate */
        p->clamp_target = 0;    /* CLAMP_TGT_RATE 0, ..._AFTER_TIME_INC 1 */
        return 0;
    case IFB_DCQCN_PAPER: /* Zhu et al. 2015 and the authors' ns-3 configuration */
        p->cnp_interval = 50 * IFB_US;
        p->g = 1.0 / 256;
        p->alpha_init = 1.0;
        p->alpha_period = 55 * IFB_US;
        p->alpha_on_cnp = 1;
        p->dec_period = 0;
        p->inc_timer = 55 * IFB_US;
        p->inc_bytes = 10000000; /* B = 10 MB */
        p->F = 5;
        p->rate_ai = 40000000;   /* 40 Mb/s */
        p->rate_hai = 200000000; /* 200 Mb/s (authors' config) */
        p->min_rate = 100000000; /* 100 Mb/s */
        p->first_rate = 0;
        p->clamp_target = 1;
        return 0;
    case IFB_DCQCN_HPCC_NS3: /* HPCC simulator "Mellanox version" (CC_MODE 1, run.py) */
        p->cnp_interval = 0; /* a CNP flag on every marked packet's ACK */
        p->g = 1.0 / 256;
        p->alpha_init = 1.0;
        p->alpha_period = 1 * IFB_US; /* ALPHA_RESUME_INTERVAL */
        p->alpha_on_cnp = 0;
        p->dec_period = 4 * IFB_US;  /* RATE_DECREASE_INTERVAL */
        p->inc_timer = 300 * IFB_US; /* RP_TIMER */
        p->inc_bytes = 0;            /* no byte counter */
        p->F = 1;                    /* FAST_RECOVERY_TIMES */
        p->rate_ai = 5000000;        /* RATE_AI = 5 x bw/25 Mb/s */
        p->rate_hai = 50000000;      /* RATE_HAI = 50 x bw/25 Mb/s */
        p->scale_ai = 1;
        p->min_rate = 1000000000; /* MIN_RATE 1000 Mb/s */
        p->first_rate = 0;        /* RateOnFirstCnp 1.0 x current (line) rate */
        p->clamp_target = 0;
        return 0;
    default:
        return -1;
    }
}

int ifb_dcqcn_profile_find(const char *name)
{
    for (int i = 0; ifb_dcqcn_profile_names[i]; i++)
        if (!strcmp(ifb_dcqcn_profile_names[i], name))
            return i;
    return -1;
}

enum { EV_INC = 0, EV_DEC = 1 };
static void dcqcn_event(ifb_sim *sim, void *obj, uint64_t arg);

static uint64_t line_rate(const ifb_qp *qp)
{
    return qp->nic->port->rate;
}

static int idle(const ifb_qp *qp)
{
    return qp->una >= qp->psn_end;
}

static void alpha_advance(const ifb_dcqcn_params *P, ifb_qp *qp, ifb_time now)
{
    if (!P->alpha_period || now < qp->alpha_t + P->alpha_period)
        return;
    uint64_t n = (now - qp->alpha_t) / P->alpha_period;
    qp->alpha = (1 - P->g) * qp->alpha + (qp->cnp_in_period ? P->g : 0);
    qp->cnp_in_period = 0;
    if (n > 1)
        qp->alpha *= pow(1 - P->g, (double)(n - 1));
    qp->alpha_t += n * P->alpha_period;
}

static void arm_inc(ifb_fabric *f, ifb_qp *qp)
{
    if (qp->inc_armed || !qp->limited)
        return;
    qp->inc_armed = 1;
    ifb_sim_at_daemon(f->sim, qp->inc_deadline, dcqcn_event, qp, EV_INC);
}

static void release(ifb_qp *qp)
{
    qp->limited = 0;
    qp->rc = qp->rt = line_rate(qp);
    qp->dec_pending = 0;
}

static void decrease(ifb_fabric *f, ifb_qp *qp)
{
    const ifb_dcqcn_params *P = &f->cfg.dcqcn_p;
    ifb_time now = f->sim->now;
    alpha_advance(P, qp, now);
    if (P->clamp_target || qp->t_stage > 0)
        qp->rt = qp->rc;
    double fac = qp->alpha / 2;
    if (fac > P->max_dec)
        fac = P->max_dec;
    uint64_t rc = (uint64_t)((double)qp->rc * (1 - fac));
    qp->rc = rc < P->min_rate ? P->min_rate : rc;
    qp->t_stage = qp->bc_stage = 0;
    qp->bc_bytes = 0;
    qp->inc_deadline = now + P->inc_timer;
    qp->last_dec = now;
    qp->dec_pending = 0;
    f->cnt.dcqcn_decreases++;
    ifb_nic_repace(qp->nic, qp);
    arm_inc(f, qp);
}

static void increase(ifb_fabric *f, ifb_qp *qp, int timer)
{
    const ifb_dcqcn_params *P = &f->cfg.dcqcn_p;
    uint64_t L = line_rate(qp), ai = qp->nic->ai, hai = qp->nic->hai;
    if (timer)
        qp->t_stage++;
    else
        qp->bc_stage++;
    if (!P->inc_bytes) {
        uint32_t s = qp->t_stage - 1;
        if (s == P->F)
            qp->rt += ai;
        else if (s > P->F)
            qp->rt += hai;
    } else {
        uint32_t mx = qp->t_stage > qp->bc_stage ? qp->t_stage : qp->bc_stage;
        uint32_t mn = qp->t_stage < qp->bc_stage ? qp->t_stage : qp->bc_stage;
        if (mn > P->F)
            qp->rt += (uint64_t)(mn - P->F) * hai;
        else if (mx > P->F)
            qp->rt += ai;
    }
    if (qp->rt > L)
        qp->rt = L;
    qp->rc = (qp->rt + qp->rc + 1) / 2;
    f->cnt.dcqcn_increases++;
    if (qp->rc >= L)
        release(qp);
    ifb_nic_repace(qp->nic, qp);
}

void ifb_dcqcn_on_cnp(ifb_fabric *f, ifb_qp *qp)
{
    const ifb_dcqcn_params *P = &f->cfg.dcqcn_p;
    ifb_time now = f->sim->now;
    if (!qp->limited) {
        uint64_t L = line_rate(qp);
        qp->limited = 1;
        qp->alpha = P->alpha_init;
        qp->alpha_t = now;
        qp->cnp_in_period = !P->alpha_on_cnp;
        qp->rc = P->first_rate > 0 && P->first_rate < 1 ? (uint64_t)((double)L * P->first_rate) : L;
        qp->rt = qp->rc;
        qp->t_stage = qp->bc_stage = 0;
        qp->bc_bytes = 0;
        if (qp->next_tx < now)
            qp->next_tx = now;
        decrease(f, qp);
        return;
    }
    alpha_advance(P, qp, now);
    if (P->alpha_on_cnp) {
        qp->alpha = (1 - P->g) * qp->alpha + P->g;
        qp->alpha_t = now;
    } else {
        qp->cnp_in_period = 1;
    }
    if (!P->dec_period || now >= qp->last_dec + P->dec_period) {
        decrease(f, qp);
    } else if (!qp->dec_pending) {
        qp->dec_pending = 1;
        if (!qp->dec_armed) {
            qp->dec_armed = 1;
            ifb_sim_at_daemon(f->sim, qp->last_dec + P->dec_period, dcqcn_event, qp, EV_DEC);
        }
    }
}

void ifb_dcqcn_on_send(ifb_fabric *f, ifb_qp *qp, uint32_t wire)
{
    ifb_time now = f->sim->now;
    ifb_time base = qp->next_tx > now ? qp->next_tx : now;
    qp->pace_base = base;
    qp->pace_wire = wire;
    qp->next_tx = base + ifb_tx_time(wire, qp->rc);
    uint64_t B = f->cfg.dcqcn ? f->cfg.dcqcn_p.inc_bytes : 0; /* the limiter may be IB CC's */
    if (B) {
        qp->bc_bytes += wire;
        if (qp->bc_bytes >= B) {
            qp->bc_bytes -= B;
            increase(f, qp, 0);
        }
    }
}

void ifb_dcqcn_resume(ifb_fabric *f, ifb_qp *qp)
{
    if (!qp->limited || qp->inc_armed)
        return;
    ifb_time now = f->sim->now, T = f->cfg.dcqcn_p.inc_timer;
    /* catch up with the timer events the idle time skipped; the limiter is released within a
     * few hundred at most (hyper increase), so the bound is only a guard */
    for (int n = 0; qp->limited && qp->inc_deadline <= now; n++) {
        if (n == 100000) {
            release(qp);
            break;
        }
        increase(f, qp, 1);
        qp->inc_deadline += T;
    }
    arm_inc(f, qp);
}

static void dcqcn_event(ifb_sim *sim, void *obj, uint64_t arg)
{
    ifb_qp *qp = obj;
    ifb_fabric *f = qp->nic->f;
    if (arg == EV_DEC) {
        qp->dec_armed = 0;
        if (qp->limited && qp->dec_pending)
            decrease(f, qp);
        return;
    }
    qp->inc_armed = 0;
    if (!qp->limited)
        return;
    if (sim->now < qp->inc_deadline) {
        arm_inc(f, qp);
        return;
    }
    if (idle(qp))
        return; /* stopped: ifb_dcqcn_resume catches up when the QP has work again */
    increase(f, qp, 1);
    qp->inc_deadline += f->cfg.dcqcn_p.inc_timer;
    arm_inc(f, qp);
}
