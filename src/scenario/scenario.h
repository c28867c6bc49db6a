/* Scenario: a YAML file (or the embedded reference) plus --set overrides, turned into a built
 * topology and a fabric configuration. Every key, unit and default is documented in
 * docs/scenario.md. Sections other modules own (workload, serving) stay in the cfg tree for
 * them; ifb_scenario_check_unused() is called once every consumer has read its part. */
#ifndef IFB_SCENARIO_H
#define IFB_SCENARIO_H
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"
#include "net/fabric/fabric.h"
#include "net/switch/lb.h"
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
    struct ifb_failure *failures; /* failures: link and switch down/up times (net/fail/failure.h) */
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
/* Loads with a memory limit (bytes; 0: the machine's physical memory): before routing, the
 * graph's own needs (routing tables, fabric ports, path-selection state) are estimated and a
 * topology that cannot fit is refused, naming what does not fit, instead of failing inside
 * routing. ifb_scenario_load is this with limit 0. */
int ifb_scenario_load_limit(ifb_scenario *sc, const char *path, const char *const *sets, int nsets,
                            uint64_t limit, ifb_err *e);

/* What a run creates beyond the fabric (scenario/memory.c): totals over every fabric alive. */
typedef struct ifb_mem_demand {
    uint64_t conns;    /* connections (source GPU, destination GPU, class) over the NICs */
    uint64_t msgs;     /* messages outstanding at once */
    uint64_t pkts;     /* packets in flight at once; 0: bounded by the buffers and links only */
    uint64_t records;  /* per-message records kept (bench outputs) */
    int fabrics;       /* fabrics (each with its simulation) alive at once */
    uint64_t workload; /* bytes of workload state */
} ifb_mem_demand;

/* The estimate by part, bytes; every part an upper bound on what it allocates. */
typedef struct ifb_mem_estimate {
    double base, topology, routing, ports, lb, conns, packets, msgs, events, workload, total;
} ifb_mem_estimate;

struct ifb_mb_spec;
/* A microbenchmark's demand: the pattern's connections, messages and packets outstanding at
 * once and the records it keeps, for each of nsizes sizes (bench keeps every size's fabric). */
void ifb_mem_demand_bench(ifb_mem_demand *d, const ifb_scenario *sc, const struct ifb_mb_spec *s,
                          const uint64_t *sizes, int nsizes);
/* The serving experiment's: all-to-all between every pair of GPUs on different servers, a ring
 * neighbour each, and `workload` bytes of request state. */
void ifb_mem_demand_serving(ifb_mem_demand *d, const ifb_scenario *sc, uint64_t workload);
/* Fills m with the estimated peak memory of a run with demand d; m->total the sum. */
void ifb_scenario_estimate_memory(const ifb_scenario *sc, const ifb_mem_demand *d,
                                  ifb_mem_estimate *m);
/* The graph-only parts (base, topology, routing, ports, lb), as the pre-routing check uses. */
void ifb_scenario_estimate_graph(const ifb_scenario *sc, ifb_mem_estimate *m);
/* -1 with a message giving the estimate and its parts when it exceeds `limit` (0: the machine's
 * physical memory). */
int ifb_scenario_check_memory(const ifb_scenario *sc, const ifb_mem_demand *d, uint64_t limit,
                              ifb_err *e);
int ifb_scenario_check_graph_memory(const ifb_scenario *sc, uint64_t limit, ifb_err *e);

/* Writes each warning as "infabric: warning: ..." (for `check`, and at the start of a run). */
void ifb_scenario_print_warnings(const ifb_scenario *sc, FILE *out);

/* Reports keys that nobody read (typos). */
int ifb_scenario_check_unused(ifb_scenario *sc, ifb_err *e);
void ifb_scenario_free(ifb_scenario *sc);

#define IFB_DEFAULT_SCENARIO "reference-roce.yaml"

#endif
