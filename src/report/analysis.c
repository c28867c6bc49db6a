/* Experiment analysis (see analysis.h): points, intervals, paired ratios. The verdict text is
 * in verdict.c. */
#include "report/analysis.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

const ifb_mx_def ifb_mx_defs[IFB_MX_COUNT] = {
    [IFB_MX_OUTPUT_THROUGHPUT] = {"output_throughput", "output token throughput", "tok/s", 1, 1},
    [IFB_MX_REQUEST_THROUGHPUT] = {"request_throughput", "request throughput", "req/s", 1, 0},
    [IFB_MX_PER_GPU] = {"output_throughput_per_gpu", "output tok/s per GPU", "tok/s", 1, 0},
    [IFB_MX_PER_USER] = {"tok_s_per_user", "tok/s per user", "tok/s", 1, 0},
    [IFB_MX_MEDIAN_TTFT] = {"median_ttft_ms", "median TTFT", "ms", -1, 0},
    [IFB_MX_P90_TTFT] = {"p90_ttft_ms", "P90 TTFT", "ms", -1, 1},
    [IFB_MX_P99_TTFT] = {"p99_ttft_ms", "P99 TTFT", "ms", -1, 0},
    [IFB_MX_MEDIAN_TPOT] = {"median_tpot_ms", "median TPOT", "ms", -1, 0},
    [IFB_MX_P90_TPOT] = {"p90_tpot_ms", "P90 TPOT", "ms", -1, 1},
    [IFB_MX_P99_TPOT] = {"p99_tpot_ms", "P99 TPOT", "ms", -1, 0},
    [IFB_MX_MEDIAN_ITL] = {"median_itl_ms", "median ITL", "ms", -1, 0},
    [IFB_MX_P90_ITL] = {"p90_itl_ms", "P90 ITL", "ms", -1, 0},
    [IFB_MX_P99_ITL] = {"p99_itl_ms", "P99 ITL", "ms", -1, 0},
    [IFB_MX_MEDIAN_E2E] = {"median_e2e_latency_ms", "median E2E latency", "ms", -1, 0},
    [IFB_MX_P90_E2E] = {"p90_e2e_latency_ms", "P90 E2E latency", "ms", -1, 1},
    [IFB_MX_P99_E2E] = {"p99_e2e_latency_ms", "P99 E2E latency", "ms", -1, 0},
    [IFB_MX_STEP] = {"step_ms", "step time", "ms", -1, 0},
    [IFB_MX_COMPUTE] = {"compute_ms", "compute per step", "ms", -1, 0},
    [IFB_MX_EXPOSED] = {"exposed_comm_ms", "exposed communication per step", "ms", -1, 0},
    [IFB_MX_NETWORK_SHARE] = {"network_share", "network share of the step", "", -1, 0},
    [IFB_MX_COMPLETED] = {"completed", "requests measured", "", 0, 0},
    [IFB_MX_PFC_PAUSES] = {"pfc_pauses", "PFC pause frames", "", -1, 0},
    [IFB_MX_PFC_PAUSED] = {"pfc_paused_ms", "time paused by PFC", "ms", -1, 0},
    [IFB_MX_RETX] = {"retransmitted_pkts", "retransmitted packets", "", -1, 0},
    [IFB_MX_TIMEOUTS] = {"timeouts", "retransmission timeouts", "", -1, 0},
    [IFB_MX_LINK_UTIL_MEAN] = {"link_util_mean", "mean link utilization", "", 0, 0},
};

/* t(0.975, df), df = 1..30 (standard tables). */
static const double T95[31] = {NAN,   12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365,
                               2.306, 2.262,  2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
                               2.120, 2.110,  2.101, 2.093, 2.086, 2.080, 2.074, 2.069,
                               2.064, 2.060,  2.056, 2.052, 2.048, 2.045, 2.042};

double ifb_t95(int df)
{
    if (df < 1)
        return NAN;
    if (df <= 30)
        return T95[df];
    /* Cornish-Fisher expansion of the t quantile around the normal one */
    double z = 1.959963984540054, v = (double)df;
    double z3 = z * z * z, z5 = z3 * z * z, z7 = z5 * z * z;
    return z + (z3 + z) / (4 * v) + (5 * z5 + 16 * z3 + 3 * z) / (96 * v * v) +
           (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * v * v * v);
}

void ifb_stat_of(const double *v, int n, ifb_stat *out)
{
    double sum = 0;
    int k = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(v[i])) {
            sum += v[i];
            k++;
        }
    out->n = k;
    out->mean = k ? sum / k : NAN;
    out->lo = out->hi = out->sd = NAN;
    if (k < 2)
        return;
    double ss = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(v[i]))
            ss += (v[i] - out->mean) * (v[i] - out->mean);
    out->sd = sqrt(ss / (k - 1));
    double hw = ifb_t95(k - 1) * out->sd / sqrt((double)k);
    out->lo = out->mean - hw;
    out->hi = out->mean + hw;
}

double ifb_an_num(const json_t *j, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    const json_t *cur = j;
    for (char *save = NULL, *t = strtok_r(buf, ".", &save); t && cur;
         t = strtok_r(NULL, ".", &save))
        cur = json_object_get(cur, t);
    return cur && json_is_number(cur) ? json_number_value(cur) : NAN;
}

double ifb_an_run_metric(const json_t *run, ifb_mx k)
{
    const json_t *m = run ? json_object_get(run, "metrics") : NULL;
    const json_t *v = m ? json_object_get(m, ifb_mx_defs[k].key) : NULL;
    return v && json_is_number(v) ? json_number_value(v) : NAN;
}

static const char *jstr(const json_t *j, const char *key)
{
    const json_t *v = json_object_get(j, key);
    return v && json_is_string(v) ? json_string_value(v) : "";
}

/* "4KiB", "64 MB", "1GiB" as bytes; -1 when s is not a size with a unit. */
static double parse_size(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || !(v >= 0))
        return -1;
    while (*end == ' ')
        end++;
    static const struct {
        const char *u;
        double m;
    } units[] = {{"B", 1},      {"KB", 1e3},       {"MB", 1e6},         {"GB", 1e9},
                 {"KiB", 1024}, {"MiB", 1048576.}, {"GiB", 1073741824.}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (!strcmp(end, units[i].u))
            return v * units[i].m;
    return -1;
}

static int is_load_key(const char *k)
{
    return !strcmp(k, "workload.concurrency") || !strcmp(k, "workload.rate");
}

/* The run's value of sweep key `key`, "" if it has none. */
static const char *sweep_value(const json_t *run, const char *key)
{
    const json_t *v = json_object_get(json_object_get(run, "sweep"), key);
    return v && json_is_string(v) ? json_string_value(v) : "";
}

/* The x key: a swept load key first, else the first swept key of the first run that has one. */
static void pick_xkey(ifb_analysis *a)
{
    for (int i = 0; i < a->nruns && !a->xkey[0]; i++) {
        const json_t *sw = a->runs[i] ? json_object_get(a->runs[i], "sweep") : NULL;
        const char *k;
        const json_t *v;
        json_object_foreach((json_t *)sw, k, v)
        {
            if (is_load_key(k)) {
                snprintf(a->xkey, sizeof a->xkey, "%s", k);
                break;
            }
        }
    }
    for (int i = 0; i < a->nruns && !a->xkey[0]; i++) {
        const json_t *sw = a->runs[i] ? json_object_get(a->runs[i], "sweep") : NULL;
        const char *k;
        const json_t *v;
        json_object_foreach((json_t *)sw, k, v)
        {
            snprintf(a->xkey, sizeof a->xkey, "%s", k);
            break;
        }
    }
    const char *dot = strrchr(a->xkey, '.');
    snprintf(a->xname, sizeof a->xname, "%.63s", dot ? dot + 1 : a->xkey);
    a->xload = is_load_key(a->xkey);
}

/* The run's series name: scenario, then the other swept keys as key=value. */
static void series_name(const ifb_analysis *a, const json_t *run, char *buf, size_t cap)
{
    size_t n = (size_t)snprintf(buf, cap, "%s", jstr(run, "scenario"));
    const char *k;
    const json_t *v;
    json_object_foreach(json_object_get(run, "sweep"), k, v)
    {
        if (!strcmp(k, a->xkey) || !json_is_string(v) || n >= cap)
            continue;
        const char *dot = strrchr(k, '.');
        n += (size_t)snprintf(buf + n, cap - n, " %s=%s", dot ? dot + 1 : k, json_string_value(v));
    }
}

static int measured_run(const json_t *j)
{
    return j && json_object_get(j, "metrics") != NULL;
}

/* Ratios of every configuration to the baseline, paired by seed: the k-th run of each point. */
static void build_ratios(ifb_analysis *a)
{
    a->r = ifb_xcalloc((size_t)a->ns * (size_t)a->nx, sizeof *a->r, "the analysis' ratios");
    double *v = ifb_xcalloc((size_t)a->seeds, sizeof *v, "the analysis' paired ratios");
    for (int s = 0; s < a->ns; s++)
        for (int x = 0; x < a->nx; x++) {
            int ds = a->mode == IFB_CMP_SERIES ? a->baseline : s;
            int dx = a->mode == IFB_CMP_SERIES ? x : a->baseline;
            if (a->mode == IFB_CMP_SERIES ? s == ds : x == dx)
                continue;
            const ifb_an_point *pn = ifb_an_point_at(a, s, x), *pd = ifb_an_point_at(a, ds, dx);
            if (!pn->nruns || !pd->nruns)
                continue;
            ifb_an_ratio *r = &a->r[a->nr++];
            *r = (ifb_an_ratio){.num_s = s, .num_x = x, .den_s = ds, .den_x = dx};
            int n = pn->nruns < pd->nruns ? pn->nruns : pd->nruns;
            for (int k = 0; k < IFB_MX_COUNT; k++) {
                for (int i = 0; i < n; i++) {
                    double num = ifb_an_run_metric(a->runs[pn->runs[i]], (ifb_mx)k);
                    double den = ifb_an_run_metric(a->runs[pd->runs[i]], (ifb_mx)k);
                    v[i] = den != 0 ? num / den : NAN;
                }
                ifb_stat_of(v, n, &r->r[k]);
                r->exceeds[k] = r->r[k].n < 2 || isnan(r->r[k].lo) ? -1
                                : r->r[k].lo > 1 || r->r[k].hi < 1 ? 1
                                                                   : 0;
            }
        }
    free(v);
}

int ifb_analysis_build(ifb_analysis *a, json_t *const *runs, int n, ifb_err *e)
{
    memset(a, 0, sizeof *a);
    a->runs = runs;
    a->nruns = n;
    pick_xkey(a);
    size_t m = (size_t)n;
    a->x = ifb_xcalloc(m, sizeof *a->x, "the analysis' x values");
    a->s = ifb_xcalloc(m, sizeof *a->s, "the analysis' series");
    int *rs = ifb_xcalloc(m, sizeof *rs, "the runs' series");
    int *rx = ifb_xcalloc(m, sizeof *rx, "the runs' x values");
    /* x values in first-seen order; series likewise */
    for (int i = 0; i < n; i++) {
        rs[i] = rx[i] = -1;
        if (!runs[i])
            continue;
        const char *xv = a->xkey[0] ? sweep_value(runs[i], a->xkey) : "";
        int x = 0;
        while (x < a->nx && strcmp(a->x[x].label, xv))
            x++;
        if (x == a->nx)
            snprintf(a->x[a->nx++].label, sizeof a->x[0].label, "%s", xv);
        char name[192];
        series_name(a, runs[i], name, sizeof name);
        int s = 0;
        while (s < a->ns && strcmp(a->s[s].name, name))
            s++;
        if (s == a->ns) {
            snprintf(a->s[s].name, sizeof a->s[s].name, "%s", name);
            snprintf(a->s[s].scenario, sizeof a->s[s].scenario, "%s", jstr(runs[i], "scenario"));
            a->ns++;
        }
        if (!a->s[s].fabric[0])
            snprintf(a->s[s].fabric, sizeof a->s[s].fabric, "%s", jstr(runs[i], "fabric"));
        rs[i] = s;
        rx[i] = x;
    }
    /* the kind of x: numbers, sizes, or categories */
    int nums = 0, sizes = 0;
    for (int x = 0; x < a->nx; x++) {
        char *end;
        double v = strtod(a->x[x].label, &end);
        if (end != a->x[x].label && !*end && isfinite(v)) {
            a->x[x].v = v;
            nums++;
        } else if ((v = parse_size(a->x[x].label)) >= 0) {
            a->x[x].v = v;
            sizes++;
        } else {
            a->x[x].v = NAN;
        }
    }
    a->xkind = !a->xkey[0]             ? IFB_X_NONE
               : nums == a->nx         ? IFB_X_NUMERIC
               : nums + sizes == a->nx ? IFB_X_SIZE
                                       : IFB_X_CATEGORICAL;
    if (a->xkind == IFB_X_CATEGORICAL || a->xkind == IFB_X_NONE)
        for (int x = 0; x < a->nx; x++)
            a->x[x].v = NAN;
    /* points */
    a->p = ifb_xcalloc((size_t)a->ns * (size_t)a->nx, sizeof *a->p, "the analysis' points");
    for (int s = 0; s < a->ns; s++)
        for (int x = 0; x < a->nx; x++) {
            ifb_an_point *p = &a->p[s * a->nx + x];
            p->series = s;
            p->x = x;
            p->runs = ifb_xcalloc(m, sizeof *p->runs, "a point's runs");
        }
    for (int i = 0; i < n; i++)
        if (rs[i] >= 0) {
            ifb_an_point *p = &a->p[rs[i] * a->nx + rx[i]];
            p->runs[p->nruns++] = i;
            p->measured += measured_run(runs[i]);
            if (measured_run(runs[i]) &&
                json_is_string(json_object_get(json_object_get(runs[i], "metrics"), "unmeasured")))
                p->unmeasured = 1;
        }
    double *v = ifb_xcalloc(m, sizeof *v, "a point's values");
    for (int q = 0; q < a->ns * a->nx; q++) {
        ifb_an_point *p = &a->p[q];
        if (p->nruns > a->seeds)
            a->seeds = p->nruns;
        for (int k = 0; k < IFB_MX_COUNT; k++) {
            for (int i = 0; i < p->nruns; i++)
                v[i] = ifb_an_run_metric(runs[p->runs[i]], (ifb_mx)k);
            ifb_stat_of(v, p->nruns, &p->m[k]);
        }
    }
    free(v);
    /* what is compared, against what */
    a->mode = a->ns > 1 ? IFB_CMP_SERIES : a->nx > 1 && !a->xload ? IFB_CMP_X : IFB_CMP_NONE;
    a->baseline = 0;
    if (a->mode == IFB_CMP_SERIES)
        for (int s = a->ns - 1; s >= 0; s--)
            if (!strcmp(a->s[s].fabric, "infiniband"))
                a->baseline = s;
    if (a->mode != IFB_CMP_NONE)
        build_ratios(a);
    free(rs);
    free(rx);
    /* open_memstream has no allocation hook: its failure comes back as NULL */
    a->verdict = ifb_an_verdict(a);
    if (!a->verdict) {
        ifb_analysis_free(a);
        return ifb_err_msg(e, "out of memory writing the verdict");
    }
    return 0;
}

const ifb_an_point *ifb_an_point_at(const ifb_analysis *a, int series, int x)
{
    return &a->p[series * a->nx + x];
}

void ifb_analysis_free(ifb_analysis *a)
{
    for (int q = 0; a->p && q < a->ns * a->nx; q++)
        free(a->p[q].runs);
    free(a->p);
    free(a->x);
    free(a->s);
    free(a->r);
    free(a->verdict);
    memset(a, 0, sizeof *a);
}
