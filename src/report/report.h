/* report.html and its figures (fig-*.svg next to it) for `infabric run`, from the analysis of
 * the runs (report/analysis.h) and the per-run tables the runs wrote (runs/NNN-requests.csv,
 * NNN-util.csv). The page opens with the answer: the verdict paragraph and the headline figures
 * of each compared configuration side by side with their 95% intervals and ratios; then the
 * figures; then every run. The figures (ids as in the page and file names):
 *   fig-tradeoff   output tok/s per GPU against tok/s per user, one curve per series
 *   fig-tgr        output token throughput against x
 *   fig-ttft, fig-tpot, fig-itl, fig-e2e   P50, P90 and P99 against x
 *   fig-ratio      each configuration / the baseline, headline metrics, with intervals
 *   fig-cdf-ttft, fig-cdf-tpot, fig-cdf-e2e   CDFs over measured requests (seeds pooled)
 *   fig-breakdown  mean step time: compute and exposed communication
 *   fig-bytes      bytes per traffic class over the run
 *   fig-kv         KV-cache transfer times (only when runs made KV transfers)
 *   fig-util       link utilization, max and mean
 *   fig-heatmap    link utilization over time, busiest run (from its util.csv)
 * A figure whose data is missing (e.g. no ratio without two configurations) is left out and the
 * page says why. */
#ifndef IFB_REPORT_REPORT_H
#define IFB_REPORT_REPORT_H
#include "core/err.h"
#include "report/analysis.h"

typedef struct ifb_report_opts {
    const char *outdir;
    const char *runs_dir;
    int reference; /* the embedded reference experiment: its description and the vendor's
                      claimed points on the ratio figure */
    int partial;
} ifb_report_opts;

/* Writes the fig-*.svg files and report.html into outdir (each atomically). Returns 0 or -1
 * with e naming the file. */
int ifb_report_write(const ifb_report_opts *o, const ifb_analysis *a, ifb_err *e);

/* The run's sweep point as "k=v k=v" (last key components), never cut (malloc'ed; never
 * NULL). */
char *ifb_report_sweep_label(const json_t *run);

#endif
