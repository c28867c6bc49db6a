/* Scenario: a YAML file (or the embedded reference) plus --set overrides, turned into a built
 * topology and a fabric configuration. Every key, unit and default is documented in
 * docs/scenario.md. Sections other modules own (workload, serving) stay in the cfg tree for
 * them; ifb_scenario_check_unused() is called once every consumer has read its part. */
#ifndef IFB_SCENARIO_H
#define IFB_SCENARIO_H
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"
#include "net/fabric.h"
#include "net/lb.h"
#include "scenario/cfg.h"
#include "topo/topo.h"

#define IFB_MAX_CAPTURE 16
#define IFB_MAX_WARNINGS 8

typedef struct ifb_scenario {
    ifb_cfg *cfg;
    char name[128];
    char source[512]; /* file path or "<embedded NAME>" */
    uint64_t seed;
    ifb_topo topo;
    ifb_fabric_cfg fab;
    ifb_lb_cfg lb;       /* fab.lb points here */
    char pcap_file[512]; /* empty = no capture */
    int capture_ports[IFB_MAX_CAPTURE];
    int ncapture;
    double *port_loss;            /* faults: per topology port, fab.port_loss points here */
    struct ifb_failure *failures; /* failures: link and switch down/up times (net/failure.h) */
    int nfailures;
    /* Combinations that run but are not what a deployment would do (a lossy multi-switch RoCE
     * fabric with go-back-N NICs, spray without out-of-order placement): "FILE:LINE: key: ..." */
    char warnings[IFB_MAX_WARNINGS][480];
    int nwarnings;
} ifb_scenario;

/* Loads `path` (NULL = the embedded reference fabric) and applies the overrides in order.
 * A path that does not exist but names an embedded scenario ("reference-roce.yaml") loads it. */
int ifb_scenario_load(ifb_scenario *sc, const char *path, const char *const *sets, int nsets,
                      ifb_err *e);
/* Estimated peak memory of a run of this scenario, in bytes: routing tables, ports and
 * queues, packets the switch buffers and links can hold, QPs for `pairs` communicating endpoint
 * pairs, and `per_run` bytes of workload state. Returns -1 with a message giving the estimate and
 * its parts when it exceeds `limit` (0: the machine's physical memory). */
int ifb_scenario_check_memory(const ifb_scenario *sc, uint64_t pairs, uint64_t per_run,
                              uint64_t limit, ifb_err *e);

/* Writes each warning as "infabric: warning: ..." (for `check`, and at the start of a run). */
void ifb_scenario_print_warnings(const ifb_scenario *sc, FILE *out);

/* Reports keys that nobody read (typos). */
int ifb_scenario_check_unused(ifb_scenario *sc, ifb_err *e);
void ifb_scenario_free(ifb_scenario *sc);

#define IFB_DEFAULT_SCENARIO "reference-roce.yaml"

#endif
