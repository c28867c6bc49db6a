/* Internal to the report writer: the figures' data (report_figs.c) for the page (report.c). */
#ifndef IFB_REPORT_REPORT_INT_H
#define IFB_REPORT_REPORT_INT_H
#include <stdio.h>

#include "report/report.h"

enum {
    FIG_TRADEOFF,
    FIG_TGR,
    FIG_TTFT,
    FIG_TPOT,
    FIG_ITL,
    FIG_E2E,
    FIG_RATIO,
    FIG_CDF_TTFT,
    FIG_CDF_TPOT,
    FIG_CDF_E2E,
    FIG_BREAKDOWN,
    FIG_BYTES,
    FIG_KV,
    FIG_UTIL,
    FIG_HEATMAP,
    FIG_COUNT
};

#define IFB_FIG_MAX_CURVES 16
#define IFB_FIG_MAX_ROWS 32

typedef struct ifb_fig_cdf {
    char name[IFB_FIG_MAX_CURVES][200];
    double *v[IFB_FIG_MAX_CURVES]; /* sorted, ms */
    double *p[IFB_FIG_MAX_CURVES]; /* cumulative fraction */
    size_t n[IFB_FIG_MAX_CURVES];
    int ncurves;
} ifb_fig_cdf;

typedef struct ifb_figs {
    const ifb_analysis *a;
    const ifb_report_opts *o;
    int present[FIG_COUNT];
    char why[FIG_COUNT][200]; /* why a figure is left out */
    char caption[FIG_COUNT][400];
    /* the x axis of the "against x" figures */
    double *xv;
    const char **xlab;
    int xcat, xlog, xbytes;
    char xtitle[160];
    /* bars: one category per point with figures */
    int nbar;
    char (*barlab)[240];
    const char **barlabs;
    int *barpt; /* point index of each category */
    ifb_fig_cdf cdf[3];
    char cdf_at[160]; /* which point the CDFs show */
    /* the heat map */
    char heat_title[300];
    char (*heat_rowlab)[48];
    const char **heat_rows;
    double *heat_edges, *heat_values;
    size_t heat_nrows, heat_ncols;
} ifb_figs;

extern const char *const IFB_FIG_IDS[FIG_COUNT];

/* Gathers every figure's data (reads the per-run CSVs; a run whose CSV is missing or
 * malformed adds nothing to them). Returns 0, or -1 with e when a CSV's path cannot be built. */
int ifb_figs_prepare(ifb_figs *g, const ifb_analysis *a, const ifb_report_opts *o, ifb_err *e);
/* Draws figure k (present) as one <svg>. */
int ifb_figs_draw(const ifb_figs *g, int k, FILE *f, ifb_err *e);
void ifb_figs_free(ifb_figs *g);

#endif
