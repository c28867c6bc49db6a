/* Internal to src/scenario: the sections of the scenario loader, one file each (scenario.c
 * calls them in order). Each returns 0, or -1 with e naming file, line and key. */
#ifndef IFB_SCENARIO_INT_H
#define IFB_SCENARIO_INT_H
#include <stdint.h>

#include "core/err.h"
#include "scenario/scenario.h"

/* The traffic classes' names in keys (fabric.classes.<name>), in ifb_tclass order. */
extern const char *const ifb_sc_class_names[IFB_TC_COUNT];

int ifb_sc_load_topology(ifb_scenario *sc, ifb_err *e);
/* After the fabric: routes the graph, refusing a topology whose tables exceed `limit` bytes
 * (0: the machine's memory) before building them. */
int ifb_sc_route_topology(ifb_scenario *sc, uint64_t limit, ifb_err *e);
int ifb_sc_load_fabric(ifb_scenario *sc, ifb_err *e);
int ifb_sc_load_output(ifb_scenario *sc, ifb_err *e);
int ifb_sc_load_faults(ifb_scenario *sc, ifb_err *e);
int ifb_sc_load_failures(ifb_scenario *sc, ifb_err *e);

#endif
