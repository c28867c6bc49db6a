/* Reading the serving workload's keys from the scenario's YAML tree into the plain
 * configuration struct of the serving engine (workload/serving/config.h): the model from a file
 * or the embedded data/models copy, the GPU from the catalogue, the request trace, and every
 * documented key under a prefix (e.g. "workload"). Errors name FILE:LINE and the key.
 * Leaves out: the checks that need the topology (layout and memory: ifb_serving_create). */
#ifndef IFB_SCENARIO_SERVING_CFG_H
#define IFB_SCENARIO_SERVING_CFG_H
#include "core/err.h"
#include "scenario/cfg.h"
#include "workload/serving/config.h"

/* Reads every key under `prefix` (e.g. "workload"); absent keys take the defaults. Errors name
 * FILE:LINE and the key (through the cfg getters). The model is loaded from a file path or, if
 * no such file exists, from the embedded data/models copy of that name. */
int ifb_serving_cfg_load(ifb_cfg *c, const char *prefix, ifb_serving_cfg *out, ifb_err *e);
/* The documentation of every key, for docs/scenario.md. */
extern const char IFB_SERVING_KEYS_DOC[];

#endif
