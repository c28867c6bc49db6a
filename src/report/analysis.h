/* What an experiment's runs say, for the summary table, summary.json and report.html: the runs
 * grouped into points (a configuration at one value of the x key, over its seeds), each metric's
 * mean with a Student-t 95% confidence interval over the seeds, the ratios of each
 * configuration to the baseline paired by seed (same seed = same request sequence), and a
 * verdict paragraph computed from them.
 *
 * Definitions (docs/outputs.md gives them to the reader):
 *   x key         the swept load key (workload.concurrency or workload.rate) when one is swept,
 *                 else the first swept key; its values are numbers, sizes ("4KiB": drawn on a
 *                 log axis) or categories (drawn as labels).
 *   series        a scenario with the values of the swept keys other than x: one curve.
 *   configuration what the verdict compares: the series when there are several; with one
 *                 series and a non-load x key (e.g. fabric.load_balancing=ecmp,spray), the x
 *                 values.
 *   baseline      the first configuration on InfiniBand, else the first configuration.
 *   interval      mean +- t(0.975, n-1) s / sqrt(n) over the n measured seeds; none for n < 2.
 *   ratio         per seed, configuration / baseline at the same point and seed; its mean and
 *                 interval over the seeds (a paired comparison). It "exceeds run-to-run noise"
 *                 when the interval excludes 1; with one seed that is not known.
 * Runs that measured nothing (failed, not run, no measurement window) count in a point's
 * planned runs but in none of its figures. */
#ifndef IFB_REPORT_ANALYSIS_H
#define IFB_REPORT_ANALYSIS_H
#include <jansson.h>

#include "core/err.h"

typedef enum ifb_mx {
    IFB_MX_OUTPUT_THROUGHPUT,
    IFB_MX_REQUEST_THROUGHPUT,
    IFB_MX_PER_GPU,
    IFB_MX_PER_USER,
    IFB_MX_MEDIAN_TTFT,
    IFB_MX_P90_TTFT,
    IFB_MX_P99_TTFT,
    IFB_MX_MEDIAN_TPOT,
    IFB_MX_P90_TPOT,
    IFB_MX_P99_TPOT,
    IFB_MX_MEDIAN_ITL,
    IFB_MX_P90_ITL,
    IFB_MX_P99_ITL,
    IFB_MX_MEDIAN_E2E,
    IFB_MX_P90_E2E,
    IFB_MX_P99_E2E,
    IFB_MX_STEP,
    IFB_MX_COMPUTE,
    IFB_MX_EXPOSED,
    IFB_MX_NETWORK_SHARE,
    IFB_MX_COMPLETED,
    IFB_MX_PFC_PAUSES,
    IFB_MX_PFC_PAUSED,
    IFB_MX_RETX,
    IFB_MX_TIMEOUTS,
    IFB_MX_LINK_UTIL_MEAN,
    IFB_MX_COUNT
} ifb_mx;

typedef struct ifb_mx_def {
    const char *key;   /* in a run's "metrics" */
    const char *label; /* for people: "P90 TTFT" */
    const char *unit;  /* "ms", "tok/s", "" */
    int higher_better; /* 1: more is better, -1: less is better, 0: neither */
    int headline;      /* in the answer table, the ratio table and the verdict */
} ifb_mx_def;

extern const ifb_mx_def ifb_mx_defs[IFB_MX_COUNT];

/* Mean and 95% interval of n values (NaN values skipped). lo/hi are NaN when n < 2. */
typedef struct ifb_stat {
    double mean, lo, hi, sd;
    int n;
} ifb_stat;

/* Two-sided 95% Student-t critical value t(0.975, df): a table for df <= 30, the
 * Cornish-Fisher expansion above (within 1e-4); NaN for df < 1. */
double ifb_t95(int df);
void ifb_stat_of(const double *v, int n, ifb_stat *out);

typedef enum ifb_xkind { IFB_X_NONE, IFB_X_NUMERIC, IFB_X_SIZE, IFB_X_CATEGORICAL } ifb_xkind;

typedef struct ifb_an_x {
    char label[96]; /* the value as swept */
    double v;       /* numeric value (bytes for sizes); NaN for categories */
} ifb_an_x;

typedef struct ifb_an_series {
    char name[192];    /* scenario, then the other swept keys' key=value (last key component) */
    char scenario[96]; /* scenario name */
    char fabric[16];   /* "roce", "infiniband" or "" (no run says) */
} ifb_an_series;

typedef struct ifb_an_point {
    int series, x;
    int nruns;    /* planned */
    int measured; /* runs with figures */
    int *runs;    /* nruns indices into the run array, in seed order */
    ifb_stat m[IFB_MX_COUNT];
    int unmeasured; /* a measured run has "metrics.unmeasured": no window figures */
} ifb_an_point;

/* configuration `num` / configuration `den` at x (mode series) or the two x values (mode x). */
typedef struct ifb_an_ratio {
    int num_s, num_x, den_s, den_x;
    ifb_stat r[IFB_MX_COUNT];
    int exceeds[IFB_MX_COUNT]; /* 1 the interval excludes 1, 0 it includes 1, -1 unknown */
} ifb_an_ratio;

typedef struct ifb_analysis {
    int nruns;
    json_t *const *runs; /* not owned */
    char xkey[128];      /* "" when nothing is swept */
    char xname[64];      /* its last component, e.g. "concurrency" */
    ifb_xkind xkind;
    int xload; /* the x key is a load key */
    ifb_an_x *x;
    int nx;
    ifb_an_series *s;
    int ns;
    ifb_an_point *p; /* ns x nx, p[series * nx + x]; a point with nruns 0 has no runs */
    int seeds;       /* most runs of any point */
    int mode;        /* IFB_CMP_* */
    int baseline;    /* series (IFB_CMP_SERIES) or x index (IFB_CMP_X) */
    ifb_an_ratio *r;
    int nr;
    char *verdict; /* the paragraph (malloc'ed) */
} ifb_analysis;

enum { IFB_CMP_NONE, IFB_CMP_SERIES, IFB_CMP_X };

/* Groups runs[0..n) (run objects as summary.json holds them, NULL entries skipped). Returns 0,
 * or -1 with e when the verdict's text could not be written (open_memstream ran out of memory:
 * it has no allocation hook); every other allocation goes through core/alloc.h. */
int ifb_analysis_build(ifb_analysis *a, json_t *const *runs, int n, ifb_err *e);
void ifb_analysis_free(ifb_analysis *a);
const ifb_an_point *ifb_an_point_at(const ifb_analysis *a, int series, int x);
/* The run's value of metric k: NaN when absent, null or the run measured nothing. */
double ifb_an_run_metric(const json_t *run, ifb_mx k);
/* Number at a dotted path ("serving.bytes.a2a"), NaN if absent. */
double ifb_an_num(const json_t *j, const char *path);
/* The verdict paragraph of a, malloc'ed (called by ifb_analysis_build; exposed for tests).
 * NULL when open_memstream runs out of memory. */
char *ifb_an_verdict(const ifb_analysis *a);

#endif
