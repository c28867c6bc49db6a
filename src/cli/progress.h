/* The progress line of `infabric run`: per running run, requests finished of the run's target,
 * simulated time reached, events per second and an ETA; for the whole command, runs done and an
 * ETA. On a terminal the line is redrawn in place; on anything else (a pipe, a log file) a
 * plain line is written every `every` seconds (default IFB_PROGRESS_EVERY), so a long command
 * is never silent.
 * The workers publish their counters in shared memory (scenario/monitor.h); this module only
 * reads them. ETAs are estimates: a run's from its finished-request rate so far (none before its
 * first request finishes), the command's from the runs still to go at the mean duration of the
 * runs done (or the estimates of the running ones), spread over the parallel workers. */
#ifndef IFB_CLI_PROGRESS_H
#define IFB_CLI_PROGRESS_H
#include <stdio.h>

#include "scenario/monitor.h"

#define IFB_PROGRESS_EVERY 5.0 /* seconds between lines on a non-terminal */

typedef struct ifb_progress {
    FILE *out;
    int tty;
    int njobs, parallel;
    ifb_run_progress *slot;    /* njobs, shared with the workers */
    double *start, *end;       /* wall time each job started / ended, 0 = not yet */
    const char *const *labels; /* per job: short name for the line */
    double t0;
    double every; /* seconds between lines on a non-terminal */
    double last_line;
    int drawn; /* a terminal line is on screen */
} ifb_progress;

/* Wall-clock seconds (monotonic). */
double ifb_progress_now(void);
/* Draws the line now (tty) or when `every` has passed since the last one (force: at once). */
void ifb_progress_show(ifb_progress *p, int force);
/* Clears the terminal line (before the table is printed). */
void ifb_progress_clear(ifb_progress *p);

#endif
