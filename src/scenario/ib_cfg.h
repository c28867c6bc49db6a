/* Reading fabric.ib.ar (adaptive routing) and fabric.ib.cc (congestion control) from the YAML
 * tree (see ib_cfg.c); the configuration itself is the plain data of net/base/cfg.h. */
#ifndef IFB_SCENARIO_IB_CFG_H
#define IFB_SCENARIO_IB_CFG_H
#include "core/err.h"
#include "net/base/cfg.h"
#include "scenario/cfg.h"

/* Reads the keys into f (defaults: ifb_fabric_cfg_default); f->l2 must already be set. */
int ifb_ib_cfg_load(ifb_cfg *c, ifb_fabric_cfg *f, ifb_err *e);

#endif
