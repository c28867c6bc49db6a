/* Experiment summary (see summary.h). Run objects are embedded in summary.json verbatim, in job
 * order, so equal runs give a byte-identical summary whatever order the workers finished in. A
 * run without an object (its worker was killed, or never started) gets one made here from what
 * the parent knows: scenario, sweep point, status and why. */
#include "report/summary.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "report/html.h"
#include "report/out.h"
#include "report/svg.h"

#define MAX_RUNS 4096

typedef struct run_rec {
    char *text; /* the object as written by the worker (or made here) */
    json_t *j;  /* parsed, for the table */
} run_rec;

/* "complete", "partial", "failed" or "not-run". */
static const char *status(const json_t *j)
{
    const json_t *v = json_object_get(j, "status");
    if (v && json_is_string(v))
        return json_string_value(v);
    return json_is_true(json_object_get(j, "partial")) ? "partial" : "complete";
}

/* Only complete and partial runs measured anything. */
static int measured(const json_t *j)
{
    return j && json_object_get(j, "metrics") != NULL;
}

/* The run's error message cut to at most cap - 1 bytes ("..." when cut). */
static void error_short(const json_t *j, char *buf, size_t cap)
{
    const json_t *v = json_object_get(j, "error");
    const char *s = v && json_is_string(v) ? json_string_value(v) : "";
    size_t n = strlen(s);
    if (n < cap) {
        snprintf(buf, cap, "%s", s);
        return;
    }
    size_t k = cap > 4 ? cap - 4 : 0;
    while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
        k--;
    snprintf(buf, cap, "%.*s...", (int)k, s);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) != 0) {
        fclose(f);
        return NULL;
    }
    long n = ftell(f);
    rewind(f);
    char *buf = n >= 0 ? ifb_xmalloc((size_t)n + 1, "a run's result file") : NULL;
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (buf)
        buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Number at a dotted path inside a run object, NaN if absent. */
static double num(const json_t *j, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    const json_t *cur = j;
    for (char *save = NULL, *t = strtok_r(buf, ".", &save); t && cur;
         t = strtok_r(NULL, ".", &save))
        cur = json_object_get(cur, t);
    return cur && json_is_number(cur) ? json_number_value(cur) : NAN;
}

static const char *str(const json_t *j, const char *key)
{
    const json_t *v = json_object_get(j, key);
    return v && json_is_string(v) ? json_string_value(v) : "";
}

/* The run's sweep point as "k=v k=v". */
static void sweep_label(const json_t *j, char *buf, size_t cap)
{
    buf[0] = '\0';
    const json_t *sw = json_object_get(j, "sweep");
    const char *k;
    const json_t *v;
    size_t n = 0;
    json_object_foreach((json_t *)sw, k, v)
    {
        const char *dot = strrchr(k, '.');
        n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, "%s%s=%s", n ? " " : "",
                              dot ? dot + 1 : k, json_is_string(v) ? json_string_value(v) : "?");
        if (n >= cap)
            break;
    }
}

/* A table cell: the number in `fmt`, or "n/a" for a figure that was not measured (NaN: null in
 * summary.json, empty in runs.csv). */
static const char *cell(char *buf, size_t cap, const char *fmt, double v)
{
    if (isnan(v))
        snprintf(buf, cap, "n/a");
    else
        snprintf(buf, cap, fmt, v);
    return buf;
}

static void print_table(FILE *out, run_rec *r, int n, int reference, int partial)
{
    int nc = 0, np = 0, nf = 0, nn = 0;
    for (int i = 0; i < n; i++) {
        const char *st = r[i].j ? status(r[i].j) : "failed";
        nc += !strcmp(st, "complete");
        np += !strcmp(st, "partial");
        nf += !strcmp(st, "failed");
        nn += !strcmp(st, "not-run");
    }
    if (nc == n)
        fprintf(out, "# infabric run: %d run(s)%s\n", n, partial ? " (PARTIAL)" : "");
    else
        fprintf(out,
                "# infabric run: %d run(s) (PARTIAL): %d complete, %d partial, %d failed, "
                "%d not run\n",
                n, nc, np, nf, nn);
    fprintf(out, "%-22s %-11s %-18s %10s %9s %9s %9s %8s %8s\n", "scenario", "fabric", "sweep",
            "TGR tok/s", "TTFT p90", "TPOT p90", "E2E p90", "net%", "retx");
    fprintf(out, "%-22s %-11s %-18s %10s %9s %9s %9s %8s %8s\n", "", "", "", "", "ms", "ms", "s",
            "of step", "pkts");
    for (int i = 0; i < n; i++) {
        if (!r[i].j)
            continue;
        char sw[128];
        sweep_label(r[i].j, sw, sizeof sw);
        if (!measured(r[i].j)) {
            char why[64];
            error_short(r[i].j, why, sizeof why);
            const char *st = status(r[i].j);
            if (!strcmp(st, "not-run"))
                continue; /* counted in the header; listed in summary.json and runs.csv */
            fprintf(out, "%-22.22s %-11.11s %-18.18s %s%s%s\n", str(r[i].j, "scenario"),
                    str(r[i].j, "fabric")[0] ? str(r[i].j, "fabric") : "-", sw,
                    !strcmp(st, "failed") ? "FAILED" : st, why[0] ? ": " : "", why);
            continue;
        }
        char c[6][32];
        fprintf(out, "%-22.22s %-11.11s %-18.18s %10s %9s %9s %9s %8s %8.0f%s%s\n",
                str(r[i].j, "scenario"), str(r[i].j, "fabric"), sw,
                cell(c[0], 32, "%.1f", num(r[i].j, "metrics.tgr_tok_s")),
                cell(c[1], 32, "%.1f", num(r[i].j, "metrics.ttft_ms.p90")),
                cell(c[2], 32, "%.2f", num(r[i].j, "metrics.tpot_ms.p90")),
                cell(c[3], 32, "%.2f", num(r[i].j, "metrics.e2e_ms.p90") / 1000.0),
                cell(c[4], 32, "%.1f%%", 100.0 * num(r[i].j, "metrics.network_share")),
                num(r[i].j, "metrics.retransmitted_pkts"),
                json_is_true(json_object_get(r[i].j, "partial")) ? " partial" : "",
                json_is_true(json_object_get(r[i].j, "faults_outside_window"))
                    ? " fault-outside-window"
                    : "");
    }
    for (int i = 0; i < n; i++) /* why a run's figures are n/a */
        if (r[i].j &&
            json_is_string(json_object_get(json_object_get(r[i].j, "metrics"), "unmeasured")))
            fprintf(out, "# %s %s: n/a: %s\n", str(r[i].j, "scenario"), str(r[i].j, "fabric"),
                    json_string_value(
                        json_object_get(json_object_get(r[i].j, "metrics"), "unmeasured")));
    /* Ethernet / InfiniBand at equal sweep points. */
    int header = 0;
    for (int i = 0; i < n; i++) {
        if (!measured(r[i].j) || strcmp(str(r[i].j, "fabric"), "roce"))
            continue;
        char a[128], b[128];
        sweep_label(r[i].j, a, sizeof a);
        for (int k = 0; k < n; k++) {
            if (!measured(r[k].j) || strcmp(str(r[k].j, "fabric"), "infiniband"))
                continue;
            sweep_label(r[k].j, b, sizeof b);
            if (strcmp(a, b))
                continue;
            if (!header) {
                fprintf(out, "\n# Ethernet (RoCEv2) / InfiniBand%s\n",
                        reference ? " — vendor claims: TGR +27.5% at 100, P90 latency -20.4% at 50"
                                  : "");
                fprintf(out, "%-18s %12s %14s %14s\n", "sweep", "TGR ratio", "TPOT p90 ratio",
                        "E2E p90 ratio");
                header = 1;
            }
            fprintf(out, "%-18.18s %11.3fx %13.3fx %13.3fx\n", a,
                    num(r[i].j, "metrics.tgr_tok_s") / num(r[k].j, "metrics.tgr_tok_s"),
                    num(r[i].j, "metrics.tpot_ms.p90") / num(r[k].j, "metrics.tpot_ms.p90"),
                    num(r[i].j, "metrics.e2e_ms.p90") / num(r[k].j, "metrics.e2e_ms.p90"));
            break;
        }
    }
}

typedef struct runs_ctx {
    run_rec *r;
    int n;
} runs_ctx;

static void rows_runs(ifb_csv *c, const void *ctx)
{
    const runs_ctx *x = ctx;
    static const char *const keys[] = {
        "metrics.tgr_tok_s",      "metrics.ttft_ms.p50",   "metrics.ttft_ms.p90",
        "metrics.ttft_ms.p99",    "metrics.tpot_ms.p50",   "metrics.tpot_ms.p90",
        "metrics.tpot_ms.p99",    "metrics.e2e_ms.p50",    "metrics.e2e_ms.p90",
        "metrics.e2e_ms.p99",     "metrics.network_share", "metrics.link_util_max",
        "metrics.link_util_mean", "metrics.pfc_pauses",    "metrics.drops"};
    for (int i = 0; i < x->n; i++) {
        const json_t *j = x->r[i].j;
        if (!j)
            continue;
        char sw[256];
        sweep_label(j, sw, sizeof sw);
        ifb_csv_int(c, i);
        ifb_csv_str(c, str(j, "scenario"));
        ifb_csv_str(c, str(j, "fabric"));
        ifb_csv_str(c, sw);
        ifb_csv_int(c, json_is_true(json_object_get(j, "partial")));
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
            ifb_csv_double(c, num(j, keys[k]));
        ifb_csv_str(c, status(j));
        ifb_csv_str(c, str(j, "error"));
        ifb_csv_end_row(c);
    }
}

static int write_csv(const char *path, run_rec *r, int n, ifb_err *e)
{
    static const char *const hdr[] = {
        "run",           "scenario",      "fabric",         "sweep",       "partial",
        "tgr_tok_s",     "ttft_p50_ms",   "ttft_p90_ms",    "ttft_p99_ms", "tpot_p50_ms",
        "tpot_p90_ms",   "tpot_p99_ms",   "e2e_p50_ms",     "e2e_p90_ms",  "e2e_p99_ms",
        "network_share", "link_util_max", "link_util_mean", "pfc_pauses",  "drops",
        "status",        "error"};
    runs_ctx x = {r, n};
    return ifb_csv_write_file(path, hdr, sizeof hdr / sizeof hdr[0], rows_runs, &x, e);
}

/* ---- report.html and its figures ---------------------------------------------------------- */

#define MAX_SERIES 16

typedef struct series_data {
    char name[96];
    char fabric[16];
    int n;
    double x[256];
    double tgr[256], tpot90[256], e2e90[256];
} series_data;

typedef struct report_data {
    series_data s[MAX_SERIES];
    int ns;
    char xname[64];
    int reference;
    /* per run, for the bar charts */
    int nr;
    char (*label)[64];
    const char **labels;
    double *breakdown; /* nr x 3: compute, exposed communication, rest of the step */
    double *util;      /* nr x 2: max, mean */
    /* ratios */
    double rx[256], rtgr[256], rp90[256];
    int nratio;
} report_data;

static double sweep_x(const json_t *j, char *name, size_t cap)
{
    const json_t *sw = json_object_get(j, "sweep");
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)sw, k, v)
    {
        if (!json_is_string(v))
            continue;
        char *end;
        double x = strtod(json_string_value(v), &end);
        if (end != json_string_value(v) && !*end) {
            const char *dot = strrchr(k, '.');
            snprintf(name, cap, "%s", dot ? dot + 1 : k);
            return x;
        }
    }
    return NAN;
}

static void collect(report_data *d, run_rec *r, int n)
{
    snprintf(d->xname, sizeof d->xname, "run");
    for (int i = 0; i < n; i++) {
        if (!measured(r[i].j))
            continue;
        char xn[64] = "";
        double x = sweep_x(r[i].j, xn, sizeof xn);
        if (isnan(x))
            x = i;
        else
            snprintf(d->xname, sizeof d->xname, "%s", xn);
        const char *name = str(r[i].j, "scenario");
        int k = 0;
        while (k < d->ns && strcmp(d->s[k].name, name))
            k++;
        if (k == d->ns) {
            if (d->ns == MAX_SERIES)
                continue;
            snprintf(d->s[k].name, sizeof d->s[k].name, "%s", name);
            snprintf(d->s[k].fabric, sizeof d->s[k].fabric, "%s", str(r[i].j, "fabric"));
            d->ns++;
        }
        series_data *sd = &d->s[k];
        if (sd->n == 256)
            continue;
        sd->x[sd->n] = x;
        sd->tgr[sd->n] = num(r[i].j, "metrics.tgr_tok_s");
        sd->tpot90[sd->n] = num(r[i].j, "metrics.tpot_ms.p90");
        sd->e2e90[sd->n] = num(r[i].j, "metrics.e2e_ms.p90") / 1000.0;
        sd->n++;
        int m = d->nr++;
        snprintf(d->label[m], 64, "%s %g", sd->fabric, x);
        d->labels[m] = d->label[m];
        double step = num(r[i].j, "metrics.step_ms"), comp = num(r[i].j, "metrics.compute_ms");
        double exp_ = num(r[i].j, "metrics.exposed_comm_ms");
        d->breakdown[3 * m] = comp;
        d->breakdown[3 * m + 1] = exp_;
        double rest = step - comp - exp_;
        d->breakdown[3 * m + 2] = rest > 0 ? rest : 0;
        d->util[2 * m] = num(r[i].j, "metrics.link_util_max");
        d->util[2 * m + 1] = num(r[i].j, "metrics.link_util_mean");
    }
    /* Ethernet / InfiniBand at equal x, first series of each fabric */
    const series_data *e = NULL, *ib = NULL;
    for (int k = 0; k < d->ns; k++) {
        if (!e && !strcmp(d->s[k].fabric, "roce"))
            e = &d->s[k];
        if (!ib && !strcmp(d->s[k].fabric, "infiniband"))
            ib = &d->s[k];
    }
    for (int a = 0; e && ib && a < e->n; a++)
        for (int b = 0; b < ib->n; b++)
            if (e->x[a] == ib->x[b] && d->nratio < 256) {
                d->rx[d->nratio] = e->x[a];
                d->rtgr[d->nratio] = e->tgr[a] / ib->tgr[b];
                d->rp90[d->nratio] = e->tpot90[a] / ib->tpot90[b];
                d->nratio++;
            }
}

typedef enum fig_kind {
    FIG_TGR,
    FIG_P90,
    FIG_E2E,
    FIG_RATIO,
    FIG_BREAKDOWN,
    FIG_UTIL,
    FIG_N
} fig_kind;

static const struct {
    const char *id, *caption;
} FIGS[FIG_N] = {
    {"fig-tgr", "Token generation rate (output tokens/s over the measurement window) per fabric."},
    {"fig-p90", "P90 time per output token (TPOT, over requests) per fabric."},
    {"fig-e2e", "P90 end-to-end request latency per fabric."},
    {"fig-ratio", "Ethernet (RoCEv2) / InfiniBand ratios of TGR and P90 TPOT at equal load; the "
                  "vendor's two claimed points are marked, the dashed line is parity."},
    {"fig-breakdown", "Mean step time split into compute, exposed communication (network time "
                      "not hidden behind compute) and the rest (synchronisation, queueing)."},
    {"fig-util", "Maximum and mean utilization of the fabric's links over each run."},
};

static int draw(FILE *f, const report_data *d, fig_kind k, ifb_err *e)
{
    ifb_svg_series s[MAX_SERIES];
    int ns = 0;
    if (k == FIG_TGR || k == FIG_P90 || k == FIG_E2E) {
        for (int i = 0; i < d->ns; i++)
            s[ns++] = (ifb_svg_series){d->s[i].name, d->s[i].x,
                                       k == FIG_TGR   ? d->s[i].tgr
                                       : k == FIG_P90 ? d->s[i].tpot90
                                                      : d->s[i].e2e90,
                                       (size_t)d->s[i].n};
        ifb_svg_line_chart c = {.title = FIGS[k].caption,
                                .x_title = d->xname,
                                .y_title = k == FIG_TGR   ? "output tokens/s"
                                           : k == FIG_P90 ? "P90 TPOT (ms)"
                                                          : "P90 E2E (s)",
                                .series = s,
                                .nseries = (size_t)ns,
                                .y_from_zero = true};
        c.title = k == FIG_TGR   ? "Token generation rate"
                  : k == FIG_P90 ? "P90 time per output token"
                                 : "P90 end-to-end latency";
        return ifb_svg_line(f, &c, e);
    }
    if (k == FIG_RATIO) {
        ifb_svg_series rs[2] = {{"TGR Ethernet/IB", d->rx, d->rtgr, (size_t)d->nratio},
                                {"P90 TPOT Ethernet/IB", d->rx, d->rp90, (size_t)d->nratio}};
        ifb_svg_marker m[2] = {{100, 1.275, "vendor: +27.5% TGR @100"},
                               {50, 0.796, "vendor: -20.4% P90 latency @50"}};
        ifb_svg_line_chart c = {.title = "Ethernet / InfiniBand",
                                .x_title = d->xname,
                                .y_title = "ratio",
                                .series = rs,
                                .nseries = 2,
                                .markers = d->reference ? m : NULL,
                                .nmarkers = d->reference ? 2 : 0,
                                .has_ref = true,
                                .ref_y = 1.0,
                                .ref_label = "parity"};
        return ifb_svg_line(f, &c, e);
    }
    if (k == FIG_BREAKDOWN) {
        static const char *const comps[] = {"compute", "exposed communication", "other"};
        ifb_svg_bar_chart c = {.title = "Mean step time",
                               .x_title = "run",
                               .y_title = "ms per step",
                               .categories = d->labels,
                               .ncat = (size_t)d->nr,
                               .series = comps,
                               .nseries = 3,
                               .values = d->breakdown};
        return ifb_svg_stacked_bars(f, &c, e);
    }
    static const char *const ser[] = {"max", "mean"};
    ifb_svg_bar_chart c = {.title = "Link utilization",
                           .x_title = "run",
                           .y_title = "fraction of line rate",
                           .categories = d->labels,
                           .ncat = (size_t)d->nr,
                           .series = ser,
                           .nseries = 2,
                           .values = d->util};
    return ifb_svg_grouped_bars(f, &c, e);
}

/* Opens DIR/NAME as an atomic output file. */
static int open_in(ifb_ofile *f, const char *dir, const char *name, ifb_err *e)
{
    char *path = ifb_path_printf(e, "%s/%s", dir, name);
    int rc = path ? ifb_ofile_open(f, path, e) : -1;
    free(path);
    return rc;
}

static int write_svg(const char *dir, const report_data *d, fig_kind k, ifb_err *e)
{
    char name[64];
    snprintf(name, sizeof name, "%s.svg", FIGS[k].id);
    ifb_ofile f;
    if (open_in(&f, dir, name, e))
        return -1;
    if (draw(f.f, d, k, e))
        return ifb_ofile_fail(&f, e);
    return ifb_ofile_commit(&f, e);
}

static int write_report(const ifb_summary_opts *o, run_rec *r, int n, ifb_err *e)
{
    report_data *d = ifb_xcalloc(1, sizeof *d, "the report's data");
    int m = n ? n : 1;
    char(*label)[64] = ifb_xcalloc((size_t)m, sizeof *label, "the report's labels");
    const char **labels = ifb_xcalloc((size_t)m, sizeof *labels, "the report's labels");
    double *bd = ifb_xcalloc((size_t)m * 3, sizeof *bd, "the report's breakdown");
    double *ut = ifb_xcalloc((size_t)m * 2, sizeof *ut, "the report's utilization");
    d->label = label;
    d->labels = labels;
    d->breakdown = bd;
    d->util = ut;
    d->reference = o->reference;
    collect(d, r, n);
    int rc = 0;
    for (int k = 0; k < FIG_N && !rc; k++)
        rc = write_svg(o->outdir, d, (fig_kind)k, e);
    ifb_ofile f;
    if (!rc)
        rc = open_in(&f, o->outdir, "report.html", e);
    if (!rc) {
        ifb_html h;
        ifb_html_begin(&h, f.f,
                       o->reference ? "infabric: the reference experiment"
                                    : "infabric: experiment report");
        ifb_html_para(
            &h, o->reference
                    ? "DeepSeek-R1 671B served on 2 servers x 8 NVIDIA H20 (4 x 400G ConnectX-7 "
                      "per server) through one 51.2T Ethernet switch running RoCEv2 (CX864E-N "
                      "class, 560 ns) and, as the baseline, one NDR InfiniBand switch (QM9700 "
                      "class), at increasing numbers of concurrent requests (closed loop). Every "
                      "figure is predicted from the scenario files' parameters; none is fitted "
                      "to the vendor's claims, which are marked on the ratio plot for "
                      "comparison.\n\n"
                      "TGR is output tokens per second over the measurement window (after "
                      "warm-up). TPOT is the mean time between a request's output tokens; its "
                      "P90 is taken over requests. Exposed communication is the part of a "
                      "step's network time not hidden behind compute: where it is a small "
                      "share of the step, no fabric can change TGR much. "
                      "docs/reference-experiment.md explains where a difference between the "
                      "fabrics can and cannot come from."
                    : "Results of `infabric run`. TGR is output tokens per second over the "
                      "measurement window; TPOT and E2E percentiles are over requests.");
        if (o->partial)
            ifb_html_para(&h, "PARTIAL: the experiment was interrupted or a run failed; the "
                              "figures show the runs that measured something, the table lists "
                              "every planned run with its status.");
        ifb_html_heading(&h, 2, "summary", "Summary");
        enum { NCOL = 10 };
        const char *const hdr[NCOL] = {"scenario",
                                       "fabric",
                                       "sweep",
                                       "TGR (tok/s)",
                                       "TTFT p90 (ms)",
                                       "TPOT p90 (ms)",
                                       "E2E p90 (s)",
                                       "network share",
                                       "corrupted / dropped",
                                       "retransmitted (timeouts)"};
        char(*cellbuf)[NCOL][64] = ifb_xcalloc((size_t)m, sizeof *cellbuf, "the summary table");
        const char **cells = ifb_xcalloc((size_t)m * NCOL, sizeof *cells, "the summary table");
        int rows = 0;
        for (int i = 0; i < n; i++) {
            if (!r[i].j)
                continue;
            snprintf(cellbuf[rows][0], 64, "%s", str(r[i].j, "scenario"));
            snprintf(cellbuf[rows][1], 64, "%s", str(r[i].j, "fabric"));
            sweep_label(r[i].j, cellbuf[rows][2], 64);
            if (!measured(r[i].j)) {
                char why[48];
                error_short(r[i].j, why, sizeof why);
                snprintf(cellbuf[rows][3], 64, "%s%s%s",
                         !strcmp(status(r[i].j), "failed") ? "FAILED" : "not run",
                         why[0] ? ": " : "", why);
                for (int c = 4; c < NCOL; c++)
                    snprintf(cellbuf[rows][c], 64, "-");
                for (int c = 0; c < NCOL; c++)
                    cells[rows * NCOL + c] = cellbuf[rows][c];
                rows++;
                continue;
            }
            cell(cellbuf[rows][3], 64, "%.1f", num(r[i].j, "metrics.tgr_tok_s"));
            cell(cellbuf[rows][4], 64, "%.1f", num(r[i].j, "metrics.ttft_ms.p90"));
            cell(cellbuf[rows][5], 64, "%.2f", num(r[i].j, "metrics.tpot_ms.p90"));
            cell(cellbuf[rows][6], 64, "%.2f", num(r[i].j, "metrics.e2e_ms.p90") / 1000.0);
            cell(cellbuf[rows][7], 64, "%.1f%%", 100.0 * num(r[i].j, "metrics.network_share"));
            snprintf(cellbuf[rows][8], 64, "%.0f / %.0f", num(r[i].j, "metrics.fcs_drops"),
                     num(r[i].j, "metrics.drops"));
            snprintf(cellbuf[rows][9], 64, "%.0f (%.0f)", num(r[i].j, "metrics.retransmitted_pkts"),
                     num(r[i].j, "metrics.timeouts"));
            for (int c = 0; c < NCOL; c++)
                cells[rows * NCOL + c] = cellbuf[rows][c];
            rows++;
        }
        ifb_html_table(&h, "tab-summary", "Every run", hdr, NCOL, cells, (size_t)rows);
        free(cellbuf);
        free(cells);
        ifb_html_heading(&h, 2, "figures", "Figures");
        for (int k = 0; k < FIG_N; k++) {
            if (ifb_html_figure_begin(&h, FIGS[k].id, FIGS[k].caption) == 0)
                draw(h.f, d, (fig_kind)k, e);
            ifb_html_figure_end(&h);
        }
        ifb_html_heading(&h, 2, "files", "Files");
        const char *const hrefs[] = {"summary.json", "runs.csv", "runs/"};
        ifb_html_links(&h, hrefs, NULL, 3);
        rc = ifb_html_end(&h, e);
        if (rc)
            ifb_ofile_fail(&f, e);
        else
            rc = ifb_ofile_commit(&f, e);
    }
    free(d);
    free(label);
    free(labels);
    free(bd);
    free(ut);
    return rc;
}

/* The object of a run without one: it never started, or its worker ended without writing it. */
static char *made_object(const ifb_summary_run *run)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return NULL;
    char why[160] = "";
    const char *st = "failed";
    if (run->state == IFB_RUN_NOT_STARTED)
        st = "not-run";
    else if (run->state == IFB_RUN_KILLED)
        snprintf(why, sizeof why, "its worker was killed by signal %d (%s) before writing a result",
                 run->code, strsignal(run->code));
    else if (run->state == IFB_RUN_EXITED)
        snprintf(why, sizeof why, "its worker exited with status %d without writing a result",
                 run->code);
    else
        snprintf(why, sizeof why, "its worker was never reaped");
    ifb_json j;
    ifb_json_init(&j, f, 2);
    ifb_json_obj_begin(&j);
    ifb_json_kstr(&j, "scenario", run->scenario);
    ifb_json_kobj_begin(&j, "sweep");
    for (int k = 0; k < run->nsweep; k++) {
        const char *eq = strchr(run->sweep[k], '=');
        if (!eq)
            continue;
        char *key = ifb_xstrndup(run->sweep[k], (size_t)(eq - run->sweep[k]), "a sweep key");
        ifb_json_kstr(&j, key, eq + 1);
        free(key);
    }
    ifb_json_obj_end(&j);
    ifb_json_kbool(&j, "partial", true);
    ifb_json_kstr(&j, "status", st);
    if (why[0])
        ifb_json_kstr(&j, "error", why);
    ifb_json_obj_end(&j);
    ifb_err e;
    int rc = ifb_json_finish(&j, &e);
    if (fclose(f) != 0 || rc) {
        free(text);
        return NULL;
    }
    return text;
}

static int write_json(const ifb_summary_opts *o, run_rec *r, int n, const int count[4], int partial,
                      ifb_err *e)
{
    ifb_ofile f;
    if (open_in(&f, o->outdir, "summary.json", e))
        return -1;
    fprintf(f.f,
            "{\n  \"tool\": \"infabric run\",\n  \"partial\": %s,\n  \"planned\": %d,\n"
            "  \"completed\": %d,\n  \"partial_runs\": %d,\n  \"failed\": %d,\n"
            "  \"not_run\": %d,\n  \"runs\": [",
            partial ? "true" : "false", o->nplanned, count[0], count[1], count[2], count[3]);
    int first = 1;
    for (int i = 0; i < n; i++) {
        if (!r[i].text)
            continue;
        size_t len = strlen(r[i].text);
        while (len && (r[i].text[len - 1] == '\n' || r[i].text[len - 1] == ' '))
            len--;
        fprintf(f.f, "%s\n", first ? "" : ",");
        fwrite(r[i].text, 1, len, f.f);
        first = 0;
    }
    fputs(first ? "]\n}\n" : "\n  ]\n}\n", f.f);
    return ifb_ofile_commit(&f, e);
}

int ifb_summary_write(const ifb_summary_opts *o, ifb_err *e)
{
    int n = o->nplanned;
    run_rec *r = ifb_xcalloc((size_t)n, sizeof *r, "the runs' results");
    int count[4] = {0}; /* complete, partial, failed, not run */
    for (int i = 0; i < n; i++) {
        if (o->runs[i].state != IFB_RUN_NOT_STARTED) {
            char *path = ifb_path_printf(e, "%s/%03d.json", o->runs_dir, i);
            r[i].text = path ? slurp(path) : NULL;
            free(path);
        }
        if (r[i].text) {
            json_error_t je;
            r[i].j = json_loads(r[i].text, 0, &je);
            if (!r[i].j || !json_is_object(r[i].j)) {
                json_decref(r[i].j);
                r[i].j = NULL;
                free(r[i].text);
                r[i].text = NULL;
            }
        }
        if (!r[i].text) {
            r[i].text = made_object(&o->runs[i]);
            json_error_t je;
            r[i].j = r[i].text ? json_loads(r[i].text, 0, &je) : NULL;
        }
        const char *st = r[i].j ? status(r[i].j) : "failed";
        count[!strcmp(st, "complete")  ? 0
              : !strcmp(st, "partial") ? 1
              : !strcmp(st, "failed")  ? 2
                                       : 3]++;
    }
    int partial = o->partial || count[0] < n;
    /* summary.json last: its presence says every other file of the folder is whole */
    char *path = ifb_path_printf(e, "%s/runs.csv", o->outdir);
    int rc = path ? write_csv(path, r, n, e) : -1;
    free(path);
    if (!rc)
        rc = write_report(o, r, n, e);
    if (!rc)
        rc = write_json(o, r, n, count, partial, e);
    if (!rc && o->print)
        print_table(o->print, r, n, o->reference, partial);
    if (!rc && o->errors && count[2]) {
        fprintf(o->errors,
                "infabric: %d of %d runs failed (their rows in summary.json and "
                "runs.csv hold the error):\n",
                count[2], n);
        for (int i = 0; i < n; i++) {
            if (!r[i].j || strcmp(status(r[i].j), "failed"))
                continue;
            char why[200];
            error_short(r[i].j, why, sizeof why);
            fprintf(o->errors, "  run %d (%s", i, o->runs[i].scenario);
            for (int k = 0; k < o->runs[i].nsweep; k++)
                fprintf(o->errors, " %s", o->runs[i].sweep[k]);
            fprintf(o->errors, "): %s\n", why);
        }
    }
    for (int i = 0; i < n; i++) {
        free(r[i].text);
        if (r[i].j)
            json_decref(r[i].j);
    }
    free(r);
    return rc;
}
