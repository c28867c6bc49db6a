/* The experiment summary: merges the per-run result objects written by `infabric run` workers
 * into summary.json and runs.csv, prints the summary table (with Ethernet / InfiniBand ratios
 * when both fabrics ran at the same sweep point) and renders report.html with its plots. */
#ifndef IFB_SUMMARY_H
#define IFB_SUMMARY_H
#include <stdio.h>

#include "core/err.h"

typedef struct ifb_summary_opts {
    const char *outdir;
    const char *runs_dir; /* holds NNN.json, one per run */
    int nruns;            /* runs started (NNN < nruns) */
    int nplanned;
    int partial;
    int reference; /* the embedded reference experiment (adds the vendor's claims) */
    FILE *print;   /* where the table goes (NULL: nowhere) */
} ifb_summary_opts;

int ifb_summary_write(const ifb_summary_opts *o, ifb_err *e);

#endif
