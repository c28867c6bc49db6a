/* The report's figures (see report.h): their data, gathered once from the analysis and the
 * per-run CSVs, and their drawing (report/svg.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "report/csvread.h"
#include "report/out.h"
#include "report/report_int.h"
#include "report/svg.h"

const char *const IFB_FIG_IDS[FIG_COUNT] = {[FIG_TRADEOFF] = "fig-tradeoff",
                                            [FIG_TGR] = "fig-tgr",
                                            [FIG_TTFT] = "fig-ttft",
                                            [FIG_TPOT] = "fig-tpot",
                                            [FIG_ITL] = "fig-itl",
                                            [FIG_E2E] = "fig-e2e",
                                            [FIG_RATIO] = "fig-ratio",
                                            [FIG_CDF_TTFT] = "fig-cdf-ttft",
                                            [FIG_CDF_TPOT] = "fig-cdf-tpot",
                                            [FIG_CDF_E2E] = "fig-cdf-e2e",
                                            [FIG_BREAKDOWN] = "fig-breakdown",
                                            [FIG_BYTES] = "fig-bytes",
                                            [FIG_KV] = "fig-kv",
                                            [FIG_UTIL] = "fig-util",
                                            [FIG_HEATMAP] = "fig-heatmap"};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Mean over a point's measured runs of a number at a dotted path of the run object. */
static double point_mean(const ifb_analysis *a, const ifb_an_point *p, const char *path)
{
    double s = 0;
    int n = 0;
    for (int i = 0; i < p->nruns; i++) {
        double v = ifb_an_num(a->runs[p->runs[i]], path);
        if (isfinite(v) && json_object_get(a->runs[p->runs[i]], "metrics")) {
            s += v;
            n++;
        }
    }
    return n ? s / n : NAN;
}

/* Which configurations the CDFs show: (series, x) pairs. */
static int cdf_curves(const ifb_analysis *a, int *cs, int *cx, char *at, size_t cap)
{
    int n = 0;
    if (a->mode == IFB_CMP_SERIES) {
        int x = a->nx - 1; /* the heaviest load, or the last value swept */
        for (int s = 0; s < a->ns && n < IFB_FIG_MAX_CURVES; s++, n++)
            cs[n] = s, cx[n] = x;
        if (a->xkey[0])
            snprintf(at, cap, "at %.63s = %.90s", a->xname, a->x[x].label);
        else
            at[0] = '\0';
    } else {
        for (int x = 0; x < a->nx && n < IFB_FIG_MAX_CURVES; x++, n++)
            cs[n] = 0, cx[n] = x;
        snprintf(at, cap, "for each value of %s", a->xkey[0] ? a->xname : "the run");
    }
    return n;
}

/* Appends v to a growing array (doubling). */
static void push(double **a, size_t *n, size_t *cap, double v, const char *what)
{
    *a = ifb_xgrow(*a, cap, *n, sizeof **a, 256, what);
    (*a)[(*n)++] = v;
}

/* One curve's requests.csv rows: the measured requests' TTFT, TPOT and E2E, in ms. */
typedef struct cdf_rows {
    ifb_fig_cdf *cdf; /* the three figures' data */
    int curve;
    size_t cap[3];
    int col[3], meas;
} cdf_rows;

static int cdf_row(void *ctx, size_t row, char **f, size_t n)
{
    cdf_rows *x = ctx;
    static const char *const col[3] = {"ttft_us", "tpot_us", "e2e_us"};
    if (row == 0) {
        x->meas = ifb_csv_find(f, n, "measured");
        for (int m = 0; m < 3; m++)
            x->col[m] = ifb_csv_find(f, n, col[m]);
        return 0;
    }
    if (x->meas < 0 || ifb_csv_num(f[x->meas]) != 1)
        return 0;
    for (int m = 0; m < 3; m++) {
        double v = x->col[m] >= 0 ? ifb_csv_num(f[x->col[m]]) : NAN;
        ifb_fig_cdf *d = &x->cdf[m];
        if (isfinite(v))
            push(&d->v[x->curve], &d->n[x->curve], &x->cap[m], v / 1e3, "a CDF's values");
    }
    return 0;
}

static int prepare_cdfs(ifb_figs *g, ifb_err *e)
{
    const ifb_analysis *a = g->a;
    int cs[IFB_FIG_MAX_CURVES], cx[IFB_FIG_MAX_CURVES];
    int nc = cdf_curves(a, cs, cx, g->cdf_at, sizeof g->cdf_at);
    for (int c = 0; c < nc; c++) {
        const ifb_an_point *p = ifb_an_point_at(a, cs[c], cx[c]);
        for (int m = 0; m < 3; m++) {
            ifb_fig_cdf *d = &g->cdf[m];
            if (a->mode == IFB_CMP_SERIES)
                snprintf(d->name[c], sizeof d->name[c], "%s", a->s[cs[c]].name);
            else
                snprintf(d->name[c], sizeof d->name[c], "%s=%s", a->xkey[0] ? a->xname : "run",
                         a->x[cx[c]].label);
            d->ncurves = nc;
        }
        cdf_rows x = {.cdf = g->cdf, .curve = c};
        for (int i = 0; i < p->nruns; i++) {
            if (!json_object_get(a->runs[p->runs[i]], "metrics"))
                continue;
            char *path = ifb_path_printf(e, "%s/%03d-requests.csv", g->o->runs_dir, p->runs[i]);
            if (!path)
                return -1;
            ifb_err ce;
            /* a run without its table adds nothing to the curve */
            (void)ifb_csv_each(path, cdf_row, &x, &ce);
            free(path);
        }
        for (int m = 0; m < 3; m++) {
            ifb_fig_cdf *d = &g->cdf[m];
            if (!d->n[c])
                continue;
            qsort(d->v[c], d->n[c], sizeof *d->v[c], cmp_double);
            d->p[c] = ifb_xcalloc(d->n[c], sizeof *d->p[c], "a CDF's fractions");
            for (size_t k = 0; k < d->n[c]; k++)
                d->p[c][k] = (double)(k + 1) / (double)d->n[c];
        }
    }
    return 0;
}

/* util.csv, streamed: ports in order, each with its bins; the first port's bins give the
 * columns. */
typedef struct heat_rows {
    int cp, cn, ci, ca, cb, cu;
    double *v; /* nports x nb utilizations */
    size_t nv, vcap;
    double *edges;
    size_t nedges, ecap;
    char (*lab)[48]; /* per port */
    size_t nports, lcap;
    double first_port, end;
} heat_rows;

static int heat_row(void *ctx, size_t row, char **f, size_t n)
{
    heat_rows *h = ctx;
    if (row == 0) {
        h->cp = ifb_csv_find(f, n, "port");
        h->cn = ifb_csv_find(f, n, "node");
        h->ci = ifb_csv_find(f, n, "index");
        h->ca = ifb_csv_find(f, n, "t_start_us");
        h->cb = ifb_csv_find(f, n, "t_end_us");
        h->cu = ifb_csv_find(f, n, "util");
        return h->cp < 0 || h->cn < 0 || h->ci < 0 || h->ca < 0 || h->cb < 0 || h->cu < 0;
    }
    double port = ifb_csv_num(f[h->cp]);
    if (!isfinite(port))
        return 1; /* not a port number: not a utilization series (no figure, no crash) */
    if (row == 1)
        h->first_port = port;
    if (port == h->first_port) { /* the first port's bins are the columns */
        push(&h->edges, &h->nedges, &h->ecap, ifb_csv_num(f[h->ca]) / 1e6, "the utilization bins");
        h->end = ifb_csv_num(f[h->cb]) / 1e6;
    }
    size_t nb = h->nedges;
    if (h->nv % nb == 0) { /* a new port */
        h->lab = ifb_xgrow(h->lab, &h->lcap, h->nports, sizeof *h->lab, 64, "the port labels");
        snprintf(h->lab[h->nports++], sizeof h->lab[0], "%.30s:%.10s", f[h->cn], f[h->ci]);
    }
    push(&h->v, &h->nv, &h->vcap, ifb_csv_num(f[h->cu]), "the utilization series");
    return 0;
}

/* The busiest run (highest mean link utilization) and its utilization series. */
static int prepare_heat(ifb_figs *g, ifb_err *e)
{
    const ifb_analysis *a = g->a;
    int best = -1;
    double bu = -1;
    for (int i = 0; i < a->nruns; i++) {
        double u = ifb_an_run_metric(a->runs[i], IFB_MX_LINK_UTIL_MEAN);
        if (isfinite(u) && u > bu)
            bu = u, best = i;
    }
    if (best < 0) {
        snprintf(g->why[FIG_HEATMAP], sizeof g->why[0], "no run measured link utilization");
        return 0;
    }
    char *path = ifb_path_printf(e, "%s/%03d-util.csv", g->o->runs_dir, best);
    if (!path)
        return -1;
    heat_rows h = {0};
    ifb_err ce;
    int rc = ifb_csv_each(path, heat_row, &h, &ce);
    free(path);
    size_t nb = h.nedges, nports = nb ? h.nv / nb : 0;
    int ok = rc == 0 && nports && h.nv == nports * nb && h.nports == nports;
    if (!ok) {
        snprintf(g->why[FIG_HEATMAP], sizeof g->why[0],
                 "the busiest run (run %d) has no utilization series (runs/%03d-util.csv)", best,
                 best);
        free(h.v);
        free(h.edges);
        free(h.lab);
        return 0;
    }
    double *mean = ifb_xcalloc(nports, sizeof *mean, "the ports' mean utilization");
    size_t *order = ifb_xcalloc(nports, sizeof *order, "the ports' order");
    size_t nr = nports < IFB_FIG_MAX_ROWS ? nports : IFB_FIG_MAX_ROWS;
    g->heat_edges = ifb_xcalloc(nb + 1, sizeof *g->heat_edges, "the heat map's bin edges");
    g->heat_rowlab = ifb_xcalloc(nr, sizeof *g->heat_rowlab, "the heat map's row labels");
    g->heat_rows = ifb_xcalloc(nr, sizeof *g->heat_rows, "the heat map's rows");
    g->heat_values = ifb_xcalloc(nr * nb, sizeof *g->heat_values, "the heat map's cells");
    memcpy(g->heat_edges, h.edges, nb * sizeof *h.edges);
    g->heat_edges[nb] = h.end;
    for (size_t p = 0; p < nports; p++) {
        for (size_t k = 0; k < nb; k++)
            mean[p] += h.v[p * nb + k] / (double)nb;
        order[p] = p;
    }
    /* the busiest IFB_FIG_MAX_ROWS ports (ties: the lower port), shown in topology order */
    for (size_t i = 0; i < nr; i++)
        for (size_t j = i + 1; j < nports; j++)
            if (mean[order[j]] > mean[order[i]] ||
                (mean[order[j]] == mean[order[i]] && order[j] < order[i])) {
                size_t tmp = order[i];
                order[i] = order[j];
                order[j] = tmp;
            }
    for (size_t i = 0; i < nr; i++)
        for (size_t j = i + 1; j < nr; j++)
            if (order[j] < order[i]) {
                size_t tmp = order[i];
                order[i] = order[j];
                order[j] = tmp;
            }
    for (size_t i = 0; i < nr; i++) {
        snprintf(g->heat_rowlab[i], sizeof g->heat_rowlab[i], "%s", h.lab[order[i]]);
        g->heat_rows[i] = g->heat_rowlab[i];
        memcpy(g->heat_values + i * nb, h.v + order[i] * nb, nb * sizeof *h.v);
    }
    g->heat_nrows = nr;
    g->heat_ncols = nb;
    char *sw = ifb_report_sweep_label(a->runs[best]);
    snprintf(g->heat_title, sizeof g->heat_title, "Link utilization, run %d (%s%s%s)", best,
             json_string_value(json_object_get(a->runs[best], "scenario")), *sw ? " " : "", sw);
    free(sw);
    snprintf(g->caption[FIG_HEATMAP], sizeof g->caption[0],
             "Utilization of the %zu busiest of %zu links (egress ports) over the run, in the "
             "busiest run (highest mean link utilization, %.1f%%): wire bits sent per bin / line "
             "rate. Bins widen as the run goes on, so a run of any length keeps at most 256.",
             nr, nports, 100 * bu);
    free(mean);
    free(order);
    free(h.v);
    free(h.edges);
    free(h.lab);
    g->present[FIG_HEATMAP] = 1;
    return 0;
}

int ifb_figs_prepare(ifb_figs *g, const ifb_analysis *a, const ifb_report_opts *o, ifb_err *e)
{
    memset(g, 0, sizeof *g);
    g->a = a;
    g->o = o;
    size_t nx = (size_t)a->nx, np = (size_t)a->ns * (size_t)a->nx;
    g->xv = ifb_xcalloc(nx, sizeof *g->xv, "the figures' x values");
    g->xlab = ifb_xcalloc(nx, sizeof *g->xlab, "the figures' x labels");
    g->barlab = ifb_xcalloc(np, sizeof *g->barlab, "the bar charts' labels");
    g->barlabs = ifb_xcalloc(np, sizeof *g->barlabs, "the bar charts' categories");
    g->barpt = ifb_xcalloc(np, sizeof *g->barpt, "the bar charts' points");
    g->xcat = a->xkind == IFB_X_CATEGORICAL || a->xkind == IFB_X_NONE;
    double lo = INFINITY, hi = 0;
    for (int x = 0; x < a->nx; x++) {
        g->xv[x] = g->xcat ? x : a->x[x].v;
        g->xlab[x] = a->xkey[0] ? a->x[x].label : "(no sweep)";
        lo = fmin(lo, a->x[x].v);
        hi = fmax(hi, a->x[x].v);
    }
    g->xbytes = a->xkind == IFB_X_SIZE;
    g->xlog = g->xbytes || (a->xkind == IFB_X_NUMERIC && lo > 0 && hi / lo >= 64);
    snprintf(g->xtitle, sizeof g->xtitle, "%s%s", a->xkey[0] ? a->xkey : "run",
             g->xlog ? " (log scale)" : "");
    int measured = 0;
    for (int q = 0; q < a->ns * a->nx; q++) {
        const ifb_an_point *p = &a->p[q];
        if (!p->measured)
            continue;
        measured = 1;
        const char *sn = a->ns > 1 || a->nx == 1 ? a->s[p->series].name : "";
        snprintf(g->barlab[g->nbar], sizeof g->barlab[0], "%.150s%s%.80s", sn,
                 *sn && a->nx > 1 ? " " : "", a->nx > 1 ? a->x[p->x].label : "");
        g->barlabs[g->nbar] = g->barlab[g->nbar];
        g->barpt[g->nbar++] = q;
    }
    for (int k = 0; k < FIG_COUNT; k++) {
        g->present[k] = measured;
        if (!measured)
            snprintf(g->why[k], sizeof g->why[0], "no run measured anything");
    }
    if (!measured)
        return 0;
    if (!a->nr) {
        g->present[FIG_RATIO] = 0;
        snprintf(g->why[FIG_RATIO], sizeof g->why[0],
                 "one configuration only: there is no ratio to draw");
    }
    int kv = 0;
    for (int i = 0; i < a->nruns && !kv; i++)
        kv = json_object_get(json_object_get(json_object_get(a->runs[i], "serving"), "message_us"),
                             "kv") != NULL;
    if (!kv) {
        g->present[FIG_KV] = 0;
        snprintf(g->why[FIG_KV], sizeof g->why[0], "no KV transfers in these runs");
    }
    g->present[FIG_HEATMAP] = 0;
    if (prepare_cdfs(g, e) || prepare_heat(g, e))
        return -1;
    return 0;
}

void ifb_figs_free(ifb_figs *g)
{
    for (int m = 0; m < 3; m++)
        for (int c = 0; c < IFB_FIG_MAX_CURVES; c++) {
            free(g->cdf[m].v[c]);
            free(g->cdf[m].p[c]);
        }
    free(g->xv);
    free(g->xlab);
    free(g->barlab);
    free(g->barlabs);
    free(g->barpt);
    free(g->heat_rowlab);
    free(g->heat_rows);
    free(g->heat_edges);
    free(g->heat_values);
    memset(g, 0, sizeof *g);
}

/* ---- drawing ------------------------------------------------------------------------------ */

/* px between dodge slots (svg.h "dodge"): more than a marker's half-size, so coinciding
 * points of two configurations stand side by side, little enough not to suggest a difference
 * along x (3 px either side for two) */
#define DODGE 6.0

/* Arrays for up to ns x 3 series of nx points: y, lo, hi, and a copy of x. */
typedef struct series_buf {
    ifb_svg_series *s;
    double *y, *lo, *hi, *x;
    char (*name)[240];
    int n;
} series_buf;

/* Two ints' product fits in a 64-bit size_t: only the byte counts need checking. */
static void sb_alloc(series_buf *b, int nseries, int npts)
{
    memset(b, 0, sizeof *b);
    size_t ns = (size_t)nseries, nv = (size_t)nseries * (size_t)npts;
    b->s = ifb_xcalloc(ns, sizeof *b->s, "a figure's series");
    b->y = ifb_xcalloc(nv, sizeof *b->y, "a figure's values");
    b->lo = ifb_xcalloc(nv, sizeof *b->lo, "a figure's interval lows");
    b->hi = ifb_xcalloc(nv, sizeof *b->hi, "a figure's interval highs");
    b->x = ifb_xcalloc(nv, sizeof *b->x, "a figure's x values");
    b->name = ifb_xcalloc(ns, sizeof *b->name, "a figure's series names");
}

static void sb_free(series_buf *b)
{
    free(b->s);
    free(b->y);
    free(b->lo);
    free(b->hi);
    free(b->x);
    free(b->name);
}

static void axis_of(const ifb_figs *g, ifb_svg_line_chart *c)
{
    c->x_title = g->xtitle;
    if (g->xcat) {
        c->x_labels = g->xlab;
        c->nx_labels = (size_t)g->a->nx;
    }
    c->x_log = g->xlog;
    c->x_bytes = g->xbytes;
}

/* Metrics m[0..nm) of every series against x; series (s, j) coloured by s, dashed by j. */
static int draw_against_x(const ifb_figs *g, FILE *f, const char *title, const char *ytitle,
                          const ifb_mx *m, int nm, const char *const *suffix, ifb_err *e)
{
    const ifb_analysis *a = g->a;
    series_buf b;
    sb_alloc(&b, a->ns * nm, a->nx);
    static const char *const dash[] = {"", "7 3", "2 3"};
    for (int s = 0; s < a->ns; s++)
        for (int j = 0; j < nm; j++) {
            int i = b.n++;
            double *y = b.y + i * a->nx, *lo = b.lo + i * a->nx, *hi = b.hi + i * a->nx;
            for (int x = 0; x < a->nx; x++) {
                const ifb_stat *st = &ifb_an_point_at(a, s, x)->m[m[j]];
                y[x] = st->mean;
                lo[x] = st->lo;
                hi[x] = st->hi;
            }
            snprintf(b.name[i], sizeof b.name[0], "%s%s%s", a->s[s].name, suffix ? " " : "",
                     suffix ? suffix[j] : "");
            b.s[i] = (ifb_svg_series){.name = b.name[i],
                                      .x = g->xv,
                                      .y = y,
                                      .n = (size_t)a->nx,
                                      .ylo = lo,
                                      .yhi = hi,
                                      .color = s + 1,
                                      .dash = nm > 1 ? dash[j % 3] : NULL,
                                      .group = s + 1}; /* dodged by configuration */
        }
    ifb_svg_line_chart c = {.title = title,
                            .y_title = ytitle,
                            .series = b.s,
                            .nseries = (size_t)b.n,
                            .y_from_zero = true,
                            .height = nm > 1 ? 460 : 0,
                            .dodge = DODGE};
    axis_of(g, &c);
    int rc = ifb_svg_line(f, &c, e);
    sb_free(&b);
    return rc;
}

static int draw_tradeoff(const ifb_figs *g, FILE *f, ifb_err *e)
{
    const ifb_analysis *a = g->a;
    series_buf b;
    sb_alloc(&b, a->ns, a->nx);
    for (int s = 0; s < a->ns; s++) {
        double *x = b.x + s * a->nx, *y = b.y + s * a->nx;
        double *lo = b.lo + s * a->nx, *hi = b.hi + s * a->nx;
        for (int k = 0; k < a->nx; k++) {
            const ifb_an_point *p = ifb_an_point_at(a, s, k);
            x[k] = p->m[IFB_MX_PER_USER].mean;
            y[k] = p->m[IFB_MX_PER_GPU].mean;
            lo[k] = p->m[IFB_MX_PER_GPU].lo;
            hi[k] = p->m[IFB_MX_PER_GPU].hi;
        }
        b.s[s] = (ifb_svg_series){
            .name = a->s[s].name, .x = x, .y = y, .n = (size_t)a->nx, .ylo = lo, .yhi = hi};
    }
    ifb_svg_line_chart c = {.title = "Throughput-latency trade-off",
                            .x_title = "tok/s per user (1 / mean TPOT)",
                            .y_title = "output tok/s per GPU",
                            .series = b.s,
                            .nseries = (size_t)a->ns,
                            .y_from_zero = true,
                            .dodge = DODGE};
    int rc = ifb_svg_line(f, &c, e);
    sb_free(&b);
    return rc;
}

static int draw_ratio(const ifb_figs *g, FILE *f, ifb_err *e)
{
    const ifb_analysis *a = g->a;
    int nh = 0;
    ifb_mx hm[IFB_MX_COUNT];
    for (int k = 0; k < IFB_MX_COUNT; k++)
        if (ifb_mx_defs[k].headline)
            hm[nh++] = (ifb_mx)k;
    series_buf b;
    sb_alloc(&b, a->nr * nh, a->nr);
    const char *const *labels = NULL;
    size_t nlabels = 0;
    /* mode series: one curve per (configuration, metric) against x; mode x: one per metric
     * against the configurations */
    for (int i = 0; i < a->nr;) {
        int j = i;
        while (j < a->nr && a->r[j].num_s == a->r[i].num_s)
            j++;
        for (int h = 0; h < nh; h++) {
            int k = b.n++;
            double *x = b.x + k * a->nr, *y = b.y + k * a->nr;
            double *lo = b.lo + k * a->nr, *hi = b.hi + k * a->nr;
            for (int q = i; q < j; q++) {
                const ifb_an_ratio *r = &a->r[q];
                x[q - i] = a->mode == IFB_CMP_SERIES ? g->xv[r->num_x] : q - i;
                y[q - i] = r->r[hm[h]].mean;
                lo[q - i] = r->r[hm[h]].lo;
                hi[q - i] = r->r[hm[h]].hi;
            }
            /* the baseline is in the title; several compared series: named after the metric */
            if (a->mode == IFB_CMP_SERIES && a->ns > 2)
                snprintf(b.name[k], sizeof b.name[0], "%s: %.150s", ifb_mx_defs[hm[h]].label,
                         a->s[a->r[i].num_s].name);
            else
                snprintf(b.name[k], sizeof b.name[0], "%s", ifb_mx_defs[hm[h]].label);
            b.s[k] = (ifb_svg_series){
                .name = b.name[k], .x = x, .y = y, .n = (size_t)(j - i), .ylo = lo, .yhi = hi};
        }
        i = j;
    }
    /* mode x: the compared values are the categories */
    const char **xl = NULL;
    if (a->mode == IFB_CMP_X) {
        xl = ifb_xcalloc((size_t)a->nr, sizeof *xl, "the ratio figure's categories");
        for (int q = 0; q < a->nr; q++)
            xl[q] = a->x[a->r[q].num_x].label;
        labels = xl;
        nlabels = (size_t)a->nr;
    }
    ifb_svg_marker vm[2] = {{100, 1.275, "vendor: +27.5% TGR @100"},
                            {50, 0.796, "vendor: -20.4% P90 latency @50"}};
    int ref = g->o->reference && a->mode == IFB_CMP_SERIES && !g->xcat && !g->xlog;
    char title[240];
    if (a->mode == IFB_CMP_SERIES && a->ns == 2)
        snprintf(title, sizeof title, "%.100s / %.100s", a->s[1 - a->baseline].name,
                 a->s[a->baseline].name);
    else if (a->mode == IFB_CMP_SERIES)
        snprintf(title, sizeof title, "Ratios to %.150s", a->s[a->baseline].name);
    else
        snprintf(title, sizeof title, "Ratios to %.60s=%.100s", a->xname, a->x[a->baseline].label);
    ifb_svg_line_chart c = {.title = title,
                            .y_title = "ratio",
                            .series = b.s,
                            .nseries = (size_t)b.n,
                            .markers = ref ? vm : NULL,
                            .nmarkers = ref ? 2 : 0,
                            .has_ref = true,
                            .ref_y = 1.0,
                            .ref_label = "parity",
                            .height = 460,
                            .dodge = DODGE};
    if (a->mode == IFB_CMP_SERIES) {
        axis_of(g, &c);
    } else {
        c.x_title = a->xkey;
        c.x_labels = labels;
        c.nx_labels = nlabels;
    }
    int rc = ifb_svg_line(f, &c, e);
    free(xl);
    sb_free(&b);
    return rc;
}

static int draw_cdf(const ifb_figs *g, FILE *f, int m, ifb_err *e)
{
    static const char *const titles[3] = {"CDF of TTFT", "CDF of TPOT", "CDF of E2E latency"};
    static const char *const xt[3] = {"TTFT (ms)", "TPOT (ms)", "E2E latency (ms)"};
    const ifb_fig_cdf *d = &g->cdf[m];
    ifb_svg_series s[IFB_FIG_MAX_CURVES];
    int n = 0;
    for (int c = 0; c < d->ncurves; c++)
        if (d->n[c])
            s[n++] = (ifb_svg_series){.name = d->name[c],
                                      .x = d->v[c],
                                      .y = d->p[c],
                                      .n = d->n[c],
                                      .mark_every = d->n[c] > 20 ? d->n[c] / 10 : 1,
                                      .step = true};
    ifb_svg_line_chart c = {.title = titles[m],
                            .x_title = xt[m],
                            .y_title = "fraction of measured requests",
                            .series = s,
                            .nseries = (size_t)n,
                            .y_from_zero = true,
                            .y_max = 1};
    return ifb_svg_line(f, &c, e);
}

/* Stacked or grouped bars, one category per point, values from fn. */
static int draw_bars(const ifb_figs *g, FILE *f, const char *title, const char *ytitle,
                     const char *const *names, int nv, const char *const *paths, double scale,
                     int stacked, ifb_err *e)
{
    const ifb_analysis *a = g->a;
    double *v = ifb_xcalloc((size_t)g->nbar * (size_t)nv, sizeof *v, "a bar chart's values");
    for (int i = 0; i < g->nbar; i++)
        for (int k = 0; k < nv; k++)
            v[i * nv + k] = point_mean(a, &a->p[g->barpt[i]], paths[k]) * scale;
    ifb_svg_bar_chart c = {.title = title,
                           .x_title = a->ns > 1 && a->nx > 1 ? "configuration and x" : "run",
                           .y_title = ytitle,
                           .categories = g->barlabs,
                           .ncat = (size_t)g->nbar,
                           .series = names,
                           .nseries = (size_t)nv,
                           .values = v};
    int rc = stacked ? ifb_svg_stacked_bars(f, &c, e) : ifb_svg_grouped_bars(f, &c, e);
    free(v);
    return rc;
}

int ifb_figs_draw(const ifb_figs *g, int k, FILE *f, ifb_err *e)
{
    static const char *const pct[3] = {"P50", "P90", "P99"};
    switch (k) {
    case FIG_TRADEOFF:
        return draw_tradeoff(g, f, e);
    case FIG_TGR: {
        ifb_mx m[1] = {IFB_MX_OUTPUT_THROUGHPUT};
        return draw_against_x(g, f, "Output token throughput", "output tok/s", m, 1, NULL, e);
    }
    case FIG_TTFT: {
        ifb_mx m[3] = {IFB_MX_MEDIAN_TTFT, IFB_MX_P90_TTFT, IFB_MX_P99_TTFT};
        return draw_against_x(g, f, "Time to first token", "TTFT (ms)", m, 3, pct, e);
    }
    case FIG_TPOT: {
        ifb_mx m[3] = {IFB_MX_MEDIAN_TPOT, IFB_MX_P90_TPOT, IFB_MX_P99_TPOT};
        return draw_against_x(g, f, "Time per output token", "TPOT (ms)", m, 3, pct, e);
    }
    case FIG_ITL: {
        ifb_mx m[3] = {IFB_MX_MEDIAN_ITL, IFB_MX_P90_ITL, IFB_MX_P99_ITL};
        return draw_against_x(g, f, "Inter-token latency", "ITL (ms)", m, 3, pct, e);
    }
    case FIG_E2E: {
        ifb_mx m[3] = {IFB_MX_MEDIAN_E2E, IFB_MX_P90_E2E, IFB_MX_P99_E2E};
        return draw_against_x(g, f, "End-to-end latency", "E2E latency (ms)", m, 3, pct, e);
    }
    case FIG_RATIO:
        return draw_ratio(g, f, e);
    case FIG_CDF_TTFT:
    case FIG_CDF_TPOT:
    case FIG_CDF_E2E:
        return draw_cdf(g, f, k - FIG_CDF_TTFT, e);
    case FIG_BREAKDOWN: {
        static const char *const n[] = {"compute", "exposed communication"};
        static const char *const p[] = {"metrics.compute_ms", "metrics.exposed_comm_ms"};
        return draw_bars(g, f, "Mean step time", "ms per step", n, 2, p, 1, 1, e);
    }
    case FIG_BYTES: {
        static const char *const n[] = {"all-to-all", "KV cache", "pipeline", "collectives"};
        static const char *const p[] = {"serving.bytes.a2a", "serving.bytes.kv", "serving.bytes.pp",
                                        "serving.bytes.coll"};
        return draw_bars(g, f, "Bytes per traffic class", "GB over the run", n, 4, p, 1e-9, 1, e);
    }
    case FIG_KV: {
        static const char *const n[] = {"mean", "max"};
        static const char *const p[] = {"serving.message_us.kv.mean", "serving.message_us.kv.max"};
        return draw_bars(g, f, "KV-cache transfer time", "ms per transfer", n, 2, p, 1e-3, 0, e);
    }
    case FIG_UTIL: {
        static const char *const n[] = {"max", "mean"};
        static const char *const p[] = {"metrics.link_util_max", "metrics.link_util_mean"};
        return draw_bars(g, f, "Link utilization over the run", "fraction of line rate", n, 2, p, 1,
                         0, e);
    }
    case FIG_HEATMAP: {
        ifb_svg_heatmap c = {.title = g->heat_title,
                             .x_title = "simulated time (s)",
                             .value_title = "utilization",
                             .rows = g->heat_rows,
                             .nrows = g->heat_nrows,
                             .edges = g->heat_edges,
                             .ncols = g->heat_ncols,
                             .values = g->heat_values,
                             .vmin = 0,
                             .vmax = 0, /* 0 to the busiest bin */
                             .height = (int)(120 + 14 * (g->heat_nrows < 16 ? 16 : g->heat_nrows))};
        return ifb_svg_heat(f, &c, e);
    }
    default:
        return ifb_err_msg(e, "no figure %d", k);
    }
}
