/* The experiment summary: merges the per-run result objects written by `infabric run` workers
 * into summary.json and runs.csv, prints the summary table (with Ethernet / InfiniBand ratios
 * when both fabrics ran at the same sweep point) and renders report.html with its plots. Every
 * planned run keeps a row with its status ("complete", "partial", "failed", "not-run") and, when
 * it failed, the error; only complete and partial runs have figures. */
#ifndef IFB_SUMMARY_H
#define IFB_SUMMARY_H
#include <stdio.h>

#include "core/err.h"

typedef enum ifb_run_state {
    IFB_RUN_NOT_STARTED, /* interrupted before its worker started */
    IFB_RUN_RUNNING,     /* started, never reaped (should not be left so) */
    IFB_RUN_EXITED,      /* its worker exited with `code` */
    IFB_RUN_KILLED,      /* its worker was killed by signal `code` */
} ifb_run_state;

/* One planned run, as the parent knows it. */
typedef struct ifb_summary_run {
    const char *scenario;     /* as given on the command line */
    const char *const *sweep; /* its sweep point, "KEY=VALUE" each */
    int nsweep;
    ifb_run_state state;
    int code;
    int seed_offset; /* --seeds: which of the point's seeds (0 .. seeds - 1) */
} ifb_summary_run;

typedef struct ifb_summary_opts {
    const char *outdir;
    const char *runs_dir;        /* holds NNN.json, one per started run */
    const ifb_summary_run *runs; /* nplanned of them, in job order */
    int nplanned;
    int partial;
    int reference; /* the embedded reference experiment (adds the vendor's claims) */
    int seeds;     /* runs per point (--seeds) */
    FILE *print;   /* where the table goes (NULL: nowhere) */
    FILE *errors;  /* where the list of failed runs goes (NULL: nowhere) */
} ifb_summary_opts;

/* Writes runs.csv, the figures and report.html, then summary.json last (each atomically), then
 * prints the table. Returns 0 or -1 with e naming the file that could not be written; when any
 * file fails, summary.json is not written. */
int ifb_summary_write(const ifb_summary_opts *o, ifb_err *e);

#endif
