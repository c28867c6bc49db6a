/* DCQCN (Zhu et al., SIGCOMM 2015) named parameter profiles (the parameter record itself,
 * ifb_dcqcn_params, is in net/base/cfg.h with the rest of the fabric's configuration). The
 * notification point (the receiving NIC) turns ECN-CE marks into CNPs, at most one per QP per CNP
 * interval; the reaction point (the sending NIC) keeps a per-QP rate limiter driven by the state
 * machine in dcqcn.c: multiplicative decrease by alpha/2 on CNPs, alpha EWMA, then fast recovery,
 * additive and hyper increase on a timer and a byte counter. Values and their sources: shared
 * reference dataplane.md section 3.1.
 *
 * Left out: the original ns-3 code's "RT /= 8 on the first stage if RT > 10 RC" quirk, the
 * ConnectX rate-limiter pool (every QP can get a limiter), NP-side coalescing of CNPs across QPs.
 */
#ifndef IFB_DCQCN_H
#define IFB_DCQCN_H
#include <stdint.h>

#include "core/time.h"
#include "net/base/cfg.h"

enum { IFB_DCQCN_NVIDIA_CX = 0, IFB_DCQCN_PAPER, IFB_DCQCN_HPCC_NS3, IFB_DCQCN_NPROFILES };
/* "nvidia-cx", "dcqcn-paper", "hpcc-ns3", NULL */
extern const char *const ifb_dcqcn_profile_names[IFB_DCQCN_NPROFILES + 1];
/* Fills p with the named profile (index into ifb_dcqcn_profile_names). Returns -1 if unknown. */
int ifb_dcqcn_profile(int profile, ifb_dcqcn_params *p);
int ifb_dcqcn_profile_find(const char *name);

#endif
