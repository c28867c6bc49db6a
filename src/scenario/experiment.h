/* One experiment run: a scenario plus overrides, simulated end to end (fabric + serving
 * workload), its results written as one JSON object. `infabric run` executes many of these,
 * one per forked worker, and merges their objects into the experiment's summary. */
#ifndef IFB_EXPERIMENT_H
#define IFB_EXPERIMENT_H
#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"
#include "core/time.h"
#include "core/timeline.h"
#include "scenario/monitor.h"

#define IFB_JOB_MAX_SETS 256

typedef struct ifb_job {
    const char *scenario;               /* path or embedded name */
    const char *sets[IFB_JOB_MAX_SETS]; /* --set overrides, sweep values last */
    int nsets;
    int nswept;                 /* the last nswept sets are this job's sweep point */
    int64_t seed;               /* -1: the scenario's */
    int seed_offset;            /* added to the seed (--seeds N: 0..N-1) */
    int check;                  /* --check */
    double max_wall;            /* seconds, 0 = none */
    uint64_t max_memory;        /* bytes, 0 = the machine's memory */
    int watchdog_given;         /* --watchdog: `watchdog` replaces the automatic window */
    ifb_time watchdog;          /* simulated time without delivery that stops a run; 0 = off */
    const char *csv_prefix;     /* per-run CSVs go to PREFIX-requests.csv etc. (or NULL) */
    ifb_run_progress *progress; /* where the run publishes its progress (or NULL) */
    const char *timeline;       /* --timeline: this run's Chrome trace file (or NULL) */
    ifb_tl_cfg timeline_cfg;    /* its window and event cap */
    ifb_time timeline_sample;   /* queue-depth sampling period on the timeline; 0: 10 us */
} ifb_job;

/* Loads and validates the job's scenario without running it (unknown keys included). */
int ifb_experiment_check(const ifb_job *job, ifb_err *e);
/* Runs the job and writes one JSON object describing it to `out` (indent 2). Its "status" is
 * "complete", "partial" (interrupted or stopped by a limit) or "failed" (the run stopped on an
 * error, e.g. a deadlock diagnosis, or the setup refused the job: "error" holds the message,
 * and no metrics are given: nothing was measured). Returns 0 when the run completed,
 * IFB_EXIT_INTERRUPTED when partial, 2 on bad input, 1 on a failed run; e holds the message
 * of a non-zero, non-3 return. *object is set to 1 when `out` holds a whole object, 0 when it
 * does not (an output error while writing it or the run's CSVs). */
int ifb_experiment_run(const ifb_job *job, FILE *out, const volatile sig_atomic_t *interrupt,
                       int *object, ifb_err *e);

#endif
