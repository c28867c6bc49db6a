/* Reading the load balancer's keys from the YAML tree (see lb_cfg.c); the configuration itself
 * is the plain struct of net/switch/lb.h.
 * Leaves out: checks that need the fabric (ifb_lb_attach). */
#ifndef IFB_SCENARIO_LB_CFG_H
#define IFB_SCENARIO_LB_CFG_H
#include "core/err.h"
#include "net/switch/lb.h"
#include "scenario/cfg.h"
#include "topo/topo.h"

/* Reads the keys under `prefix` (e.g. "fabric.load_balancing") into *out, starting from the
 * defaults with every queue in default_mode (ifb_lb_algo: the fabric kind's, ECMP on RoCE and
 * d-mod-k on InfiniBand). A scalar at `prefix` is read as the mode of every queue. Documented
 * keys: docs/scenario.md (load_balancing). */
int ifb_lb_cfg_load(ifb_cfg *c, const char *prefix, int default_mode, ifb_lb_cfg *out, ifb_err *e);

/* The checks of the per-class routing that need the classes' queues, DSCPs and SLs (f) and the
 * routed topology: a class entry that contradicts the entry of its queue, a group or weight
 * naming no switch, a group no switch with a choice of paths leads to, classes sharing the DSCP
 * (SL) the switches classify on but routing differently. Errors name FILE:LINE and the key. */
int ifb_lb_cfg_check(ifb_cfg *c, const char *prefix, const ifb_lb_cfg *lb, const ifb_fabric_cfg *f,
                     const ifb_topo *t, ifb_err *e);

#endif
