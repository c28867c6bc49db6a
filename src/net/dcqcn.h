/* DCQCN (Zhu et al., SIGCOMM 2015) parameters and named profiles. The notification point (the
 * receiving NIC) turns ECN-CE marks into CNPs, at most one per QP per CNP interval; the reaction
 * point (the sending NIC) keeps a per-QP rate limiter driven by the state machine in dcqcn.c:
 * multiplicative decrease by alpha/2 on CNPs, alpha EWMA, then fast recovery, additive and hyper
 * increase on a timer and a byte counter. Values and their sources: shared reference
 * dataplane.md section 3.1.
 *
 * Left out: the original ns-3 code's "RT /= 8 on the first stage if RT > 10 RC" quirk, the
 * ConnectX rate-limiter pool (every QP can get a limiter), NP-side coalescing of CNPs across QPs.
 */
#ifndef IFB_DCQCN_H
#define IFB_DCQCN_H
#include <stdint.h>

#include "core/time.h"

typedef struct ifb_dcqcn_params {
    /* notification point (receiver) */
    ifb_time cnp_interval; /* at most one CNP per QP per interval (0: one per marked packet) */
    uint8_t cnp_dscp;      /* CNP DSCP (CNP_DSCP 48) */
    uint8_t cnp_prio;      /* CNP priority / egress queue (CNP_802P_PRIO 6), strict */
    /* reaction point (sender), per QP */
    double g;              /* alpha gain */
    double alpha_init;     /* alpha when a rate limiter is set up on the first CNP */
    ifb_time alpha_period; /* alpha update period (K; DCE_TCP_RTT) */
    uint8_t alpha_on_cnp;  /* 1: alpha += g at each CNP and the period restarts (paper);
                              0: alpha updated once per period from "a CNP came" (ConnectX) */
    ifb_time dec_period;   /* minimum time between decreases (RATE_REDUCE_MONITOR_PERIOD); 0 =
                              decrease at every CNP */
    ifb_time inc_timer;    /* rate-increase timer (RPG_TIME_RESET) */
    uint64_t inc_bytes;    /* rate-increase byte counter (RPG_BYTE_RESET), 0 = none */
    uint32_t F;            /* fast-recovery stages (RPG_THRESHOLD) */
    uint64_t rate_ai;      /* additive increase, bits/s (RPG_AI_RATE) */
    uint64_t rate_hai;     /* hyper increase, bits/s (RPG_HAI_RATE) */
    uint8_t scale_ai;      /* 1: rate_ai and rate_hai are per 25 Gb/s of NIC rate (HPCC ns-3) */
    uint64_t min_rate;     /* bits/s (RPG_MIN_RATE) */
    double max_dec;        /* largest fractional decrease per event (RPG_MIN_DEC_FAC 50 %) */
    double first_rate;     /* rate set on the first CNP, fraction of line rate (0 = line rate) */
    uint8_t clamp_target;  /* 1: RT <- RC at every decrease; 0: only after an increase */
} ifb_dcqcn_params;

enum { IFB_DCQCN_NVIDIA_CX = 0, IFB_DCQCN_PAPER, IFB_DCQCN_HPCC_NS3, IFB_DCQCN_NPROFILES };
/* "nvidia-cx", "dcqcn-paper", "hpcc-ns3", NULL */
extern const char *const ifb_dcqcn_profile_names[IFB_DCQCN_NPROFILES + 1];
/* Fills p with the named profile (index into ifb_dcqcn_profile_names). Returns -1 if unknown. */
int ifb_dcqcn_profile(int profile, ifb_dcqcn_params *p);
int ifb_dcqcn_profile_find(const char *name);

#endif
