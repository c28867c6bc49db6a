/* Fuzz target: the scenario layer as a whole (scenario/scenario.c) on top of the YAML parser:
 * topology builders and files, fabric keys (queues, classes, PFC, DCQCN, InfiniBand, INT, load
 * balancing), faults and failures, output keys, the serving workload keys, and then building the
 * fabric the scenario describes and scheduling its failures.
 *
 * Input: scenario YAML, optionally followed by a NUL byte and NUL-separated --set overrides
 * (KEY.PATH=VALUE), applied in order as the command line would. The text goes into an in-memory
 * file (memfd) opened through /proc/self/fd/N, since scenarios load from a path.
 * Invariants (a violation traps): every failing call fills its ifb_err; a scenario that loads
 * builds a fabric or fails with a message, and its failures schedule or fail with a message.
 * Scenarios whose topology is too large to build within the fuzzer's time limit are skipped
 * before loading (building is linear in hosts, routing quadratic: not a bug). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memfd_create */
#endif
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/sim.h"
#include "fuzz.h"
#include "net/fabric/fabric.h"
#include "net/fail/failure.h"
#include "scenario/cfg.h"
#include "scenario/scenario.h"
#include "scenario/serving_cfg.h"
#include "workload/serving/serving.h"

enum { MAX_SETS = 8, SIZE_MAX_ANY = 64 };

static int scen_fd = -1;
static char scen_path[64];

/* Any size key of the topology above the bound: skip (checked on a parse of its own). */
static int too_large(const char *text)
{
    ifb_err e;
    ifb_cfg *c = ifb_cfg_load_string(text, "fuzz", &e);
    if (!c)
        return 0; /* the scenario loader reports it */
    static const char *const keys[] = {"topology.servers",
                                       "topology.nics_per_server",
                                       "topology.gpus_per_server",
                                       "topology.switch_ports",
                                       "topology.leaves",
                                       "topology.spines",
                                       "topology.uplinks_per_spine",
                                       "topology.k"};
    int big = ifb_cfg_has(c, "topology.file"); /* files are the topo target's */
    for (size_t i = 0; i < sizeof keys / sizeof keys[0] && !big; i++) {
        int64_t v;
        if (ifb_cfg_get_int(c, keys[i], 0, INT64_MIN, INT64_MAX, &v, &e) == 0)
            big = v > (i == 3 ? 256 : SIZE_MAX_ANY);
    }
    ifb_cfg_free(c);
    return big;
}

int ifb_fuzz_scenario(const uint8_t *data, size_t size)
{
    if (scen_fd < 0) {
        scen_fd = memfd_create("ifb-fuzz-scenario", 0);
        if (scen_fd < 0)
            return 0;
        snprintf(scen_path, sizeof scen_path, "/proc/self/fd/%d", scen_fd);
    }
    size_t ylen = ifb_fuzz_find(data, size, 0);
    char *text = ifb_fuzz_strndup(data, ylen);
    if (too_large(text)) {
        free(text);
        return 0;
    }
    if (ftruncate(scen_fd, 0) || pwrite(scen_fd, text, ylen, 0) != (ssize_t)ylen) {
        free(text);
        return 0;
    }
    free(text);
    char *sets[MAX_SETS];
    int nsets = 0;
    for (size_t o = ylen + 1; o < size && nsets < MAX_SETS;) {
        size_t n = ifb_fuzz_find(data + o, size - o, 0);
        sets[nsets++] = ifb_fuzz_strndup(data + o, n);
        o += n + 1;
    }
    ifb_scenario sc;
    ifb_err e;
    e.msg[0] = '\0';
    if (ifb_scenario_load(&sc, scen_path, (const char *const *)sets, nsets, &e)) {
        IFB_FUZZ_CHECK(e.msg[0] != '\0');
        ifb_scenario_free(&sc);
    } else {
        ifb_serving_cfg scfg;
        e.msg[0] = '\0';
        if (ifb_serving_cfg_load(sc.cfg, "workload", &scfg, &e) == 0)
            ifb_serving_cfg_free(&scfg);
        else
            IFB_FUZZ_CHECK(e.msg[0] != '\0');
        e.msg[0] = '\0';
        if (ifb_scenario_check_unused(&sc, &e))
            IFB_FUZZ_CHECK(e.msg[0] != '\0');
        ifb_sim sim;
        ifb_sim_init(&sim, sc.seed);
        ifb_fabric *f = NULL;
        e.msg[0] = '\0';
        if (ifb_fabric_create(&f, &sim, &sc.topo, &sc.fab, &e) == 0) {
            e.msg[0] = '\0';
            if (ifb_fail_schedule(f, sc.failures, sc.nfailures, &e))
                IFB_FUZZ_CHECK(e.msg[0] != '\0');
            ifb_fabric_destroy(f);
        } else {
            IFB_FUZZ_CHECK(e.msg[0] != '\0');
        }
        ifb_sim_destroy(&sim);
        ifb_scenario_free(&sc);
    }
    for (int i = 0; i < nsets; i++)
        free(sets[i]);
    return 0;
}

#ifndef IFB_FUZZ_NO_ENTRY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return ifb_fuzz_scenario(data, size);
}
#endif
