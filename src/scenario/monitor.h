/* A serving run's monitor: a daemon event that, at intervals of simulated time, (1) adds each
 * connected port's transmitted bytes to a bounded utilization series (at most IFB_MON_BINS
 * bins: when the series is full, neighbouring bins merge and the interval doubles, so a run of
 * any length keeps IFB_MON_BINS x ports counters), written as the run's util.csv, and (2)
 * publishes the run's progress (events, simulated time, requests finished of the run's target)
 * to a slot the parent `infabric run` reads for its progress line.
 * The monitor only reads the model's state: its events are daemon events (they never keep a run
 * alive), it reschedules itself only while other work is pending, and it touches nothing the
 * model reads, so the model's results are the same with and without it. It runs in simulated
 * time, never wall time, so its own event count is deterministic; the run's reported event
 * count leaves it out (ifb_monitor_events). Left out: per-priority or per-class utilization. */
#ifndef IFB_SCENARIO_MONITOR_H
#define IFB_SCENARIO_MONITOR_H
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"
#include "core/sim.h"
#include "net/fabric/fabric.h"
#include "workload/serving/serving.h"

#define IFB_MON_BINS 256

/* One run's progress, in memory the parent shares with the worker (MAP_SHARED): written by
 * the worker's monitor, read by the parent at any time (relaxed atomics: each field is whole,
 * the fields together are a recent snapshot, not a consistent one). */
typedef struct ifb_run_progress {
    _Atomic uint64_t events;   /* model events processed */
    _Atomic uint64_t sim_ps;   /* simulated time reached */
    _Atomic uint64_t finished; /* requests finished */
    _Atomic uint64_t target;   /* requests the run ends at (warm-up + measured); 0 = unknown */
    _Atomic int state;         /* IFB_PROGRESS_* */
} ifb_run_progress;

enum { IFB_PROGRESS_WAITING = 0, IFB_PROGRESS_RUNNING, IFB_PROGRESS_DONE };

typedef struct ifb_monitor ifb_monitor;

/* Starts the monitor on sim: first interval `interval` (0: 1 ms). prog may be NULL (no
 * progress published). target: requests the run ends at, 0 if unknown. Allocates everything it
 * will ever use here (out of memory aborts, core/alloc.h); never returns NULL. */
ifb_monitor *ifb_monitor_start(ifb_sim *sim, const ifb_fabric *fab, const ifb_serving *sv,
                               ifb_time interval, uint64_t target, ifb_run_progress *prog);
/* After the run: closes the last (partial) bin at sim->now and marks the progress done. */
void ifb_monitor_finish(ifb_monitor *m);
/* Events the monitor itself processed (to leave out of the run's event count). */
uint64_t ifb_monitor_events(const ifb_monitor *m);
/* util.csv: port, node, index, t_start_us, t_end_us, util (wire bits sent in the bin / (rate x
 * bin length)), one row per connected port and bin, ports in topology order. */
int ifb_monitor_write_util_csv(const ifb_monitor *m, FILE *f, ifb_err *e);
void ifb_monitor_destroy(ifb_monitor *m);

#endif
