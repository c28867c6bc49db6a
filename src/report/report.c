/* report.html (see report.h): the answer first (verdict, side-by-side headline figures with
 * intervals and ratios), then the figures, then every run. */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "report/html.h"
#include "report/out.h"
#include "report/report_int.h"

/* Table cells, each malloc'ed. A cell vsnprintf cannot format (longer than INT_MAX bytes:
 * EOVERFLOW) is left empty and reported at the end. */
typedef struct ctab {
    char **v;
    size_t n, cap;
    int bad;
} ctab;

static void cadd(ctab *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void cadd(ctab *t, const char *fmt, ...)
{
    t->v = ifb_xgrow(t->v, &t->cap, t->n, sizeof *t->v, 64, "a report table's cells");
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = ifb_xmalloc(n >= 0 ? (size_t)n + 1 : 1, "a report table cell");
    s[0] = '\0';
    if (n >= 0) {
        va_start(ap, fmt);
        vsnprintf(s, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    t->bad |= n < 0;
    t->v[t->n++] = s;
}

static void cfree(ctab *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->v[i]);
    free(t->v);
    memset(t, 0, sizeof *t);
}

char *ifb_report_sweep_label(const json_t *run)
{
    /* two passes over the members: the length, then the text */
    char *text = NULL;
    size_t n = 0;
    for (int pass = 0; pass < 2; pass++) {
        if (pass)
            text = ifb_xmalloc(n + 1, "a run's sweep label");
        n = 0;
        const char *k;
        const json_t *v;
        json_object_foreach(json_object_get(run, "sweep"), k, v)
        {
            const char *dot = strrchr(k, '.');
            const char *key = dot ? dot + 1 : k;
            const char *val = json_is_string(v) ? json_string_value(v) : "?";
            size_t kl = strlen(key), vl = strlen(val), at = n ? n + 1 : 0; /* after a space */
            if (pass) {
                if (n)
                    text[n] = ' ';
                memcpy(text + at, key, kl);
                text[at + kl] = '=';
                memcpy(text + at + kl + 1, val, vl);
            }
            n = at + kl + 1 + vl;
        }
    }
    text[n] = '\0';
    return text;
}

/* "569.2 ± 1.3" (mean and interval half-width), "569.2" with one seed, "n/a" when missing. */
static void add_stat(ctab *t, const ifb_stat *s, int dec)
{
    if (!s->n || !isfinite(s->mean))
        cadd(t, "n/a");
    else if (s->n >= 2 && isfinite(s->lo))
        cadd(t, "%.*f \xC2\xB1 %.*f", dec, s->mean, dec, (s->hi - s->lo) / 2);
    else
        cadd(t, "%.*f", dec, s->mean);
}

static void add_ratio(ctab *t, const ifb_an_ratio *r, ifb_mx k)
{
    const ifb_stat *s = &r->r[k];
    if (!s->n || !isfinite(s->mean))
        cadd(t, "n/a");
    else if (r->exceeds[k] >= 0)
        cadd(t, "%.3fx [%.3f, %.3f]%s", s->mean, s->lo, s->hi, r->exceeds[k] ? " *" : "");
    else
        cadd(t, "%.3fx", s->mean);
}

static int decimals(ifb_mx k)
{
    return k == IFB_MX_COMPLETED ? 0 : !strcmp(ifb_mx_defs[k].unit, "ms") ? 2 : 1;
}

static const ifb_an_ratio *find_ratio(const ifb_analysis *a, int s, int x)
{
    for (int i = 0; i < a->nr; i++)
        if (a->r[i].num_s == s && a->r[i].num_x == x)
            return &a->r[i];
    return NULL;
}

/* The answer table: configurations side by side, one row per headline metric (per x). */
static int answer_table(ifb_html *h, const ifb_analysis *a)
{
    ifb_mx rows[IFB_MX_COUNT];
    int nm = 0;
    for (int k = 0; k < IFB_MX_COUNT; k++)
        if (ifb_mx_defs[k].headline)
            rows[nm++] = (ifb_mx)k;
    rows[nm++] = IFB_MX_COMPLETED;
    ctab hd = {0}, c = {0};
    int by_x = a->mode == IFB_CMP_X;
    int ncfg = by_x ? a->nx : a->ns;
    int groups = by_x ? 1 : a->nx;
    int lead = by_x || a->nx <= 1 ? 0 : 1; /* an x column */
    if (lead)
        cadd(&hd, "%s", a->xname);
    cadd(&hd, "metric");
    for (int i = 0; i < ncfg; i++) {
        if (by_x)
            cadd(&hd, "%s=%s", a->xname, a->x[i].label);
        else
            cadd(&hd, "%s", a->s[i].name);
    }
    int nratio = a->mode == IFB_CMP_NONE ? 0 : ncfg - 1;
    for (int i = 0; i < ncfg && nratio; i++)
        if (i != a->baseline) {
            if (by_x)
                cadd(&hd, "%s / %s (95%% CI)", a->x[i].label, a->x[a->baseline].label);
            else
                cadd(&hd, "%s / %s (95%% CI)", a->s[i].name, a->s[a->baseline].name);
        }
    size_t ncols = hd.n;
    int nrows = 0;
    for (int gi = 0; gi < groups; gi++)
        for (int m = 0; m < nm; m++, nrows++) {
            if (lead)
                cadd(&c, "%s", m == 0 ? a->x[gi].label : "");
            const ifb_mx_def *d = &ifb_mx_defs[rows[m]];
            if (*d->unit)
                cadd(&c, "%s (%s)", d->label, d->unit);
            else
                cadd(&c, "%s per run", d->label);
            for (int i = 0; i < ncfg; i++) {
                const ifb_an_point *p = by_x ? ifb_an_point_at(a, 0, i) : ifb_an_point_at(a, i, gi);
                add_stat(&c, &p->m[rows[m]], decimals(rows[m]));
            }
            for (int i = 0; i < ncfg && nratio; i++) {
                if (i == a->baseline)
                    continue;
                const ifb_an_ratio *r = by_x ? find_ratio(a, 0, i) : find_ratio(a, i, gi);
                if (!r || rows[m] == IFB_MX_COMPLETED)
                    cadd(&c, "%s", r ? "" : "n/a");
                else
                    add_ratio(&c, r, rows[m]);
            }
        }
    char caption[400];
    if (a->seeds > 1)
        snprintf(caption, sizeof caption,
                 "Headline figures: mean \xC2\xB1 half-width of the Student-t 95%% confidence "
                 "interval over %d seeds; ratios per seed to the baseline (same seed, same "
                 "requests), mean [95%% CI], * where the interval excludes 1 (beyond run-to-run "
                 "noise). Latencies in ms.",
                 a->seeds);
    else
        snprintf(caption, sizeof caption,
                 "Headline figures of one seed per point (no interval: run with --seeds N for "
                 "95%% confidence intervals). Latencies in ms.");
    int rc = ifb_html_table(h, "tab-answer", caption, (const char *const *)hd.v, ncols,
                            (const char *const *)c.v, (size_t)nrows);
    int bad = hd.bad || c.bad;
    cfree(&hd);
    cfree(&c);
    return rc || bad ? -1 : 0;
}

static const char *status_of(const json_t *j)
{
    const json_t *v = json_object_get(j, "status");
    return v && json_is_string(v) ? json_string_value(v) : "failed";
}

/* Every planned run: what it was, its status, its headline figures. */
static int runs_table(ifb_html *h, const ifb_analysis *a)
{
    static const char *const hdr[] = {"run",
                                      "scenario",
                                      "fabric",
                                      "sweep",
                                      "seed",
                                      "output tok/s",
                                      "P90 TTFT (ms)",
                                      "P90 TPOT (ms)",
                                      "P90 ITL (ms)",
                                      "P90 E2E (ms)",
                                      "requests measured",
                                      "network share",
                                      "corrupted / dropped",
                                      "retransmitted (timeouts)"};
    enum { NC = sizeof hdr / sizeof hdr[0] };
    ctab c = {0};
    int rows = 0;
    for (int i = 0; i < a->nruns; i++) {
        const json_t *j = a->runs[i];
        if (!j)
            continue;
        char *sw = ifb_report_sweep_label(j);
        const json_t *sc = json_object_get(j, "scenario"), *fb = json_object_get(j, "fabric");
        cadd(&c, "%03d", i);
        cadd(&c, "%s", json_is_string(sc) ? json_string_value(sc) : "");
        cadd(&c, "%s", json_is_string(fb) ? json_string_value(fb) : "-");
        cadd(&c, "%s", sw);
        free(sw);
        double seed = ifb_an_num(j, "seed");
        if (isfinite(seed))
            cadd(&c, "%.0f", seed);
        else
            cadd(&c, "-");
        if (!json_object_get(j, "metrics")) {
            const json_t *er = json_object_get(j, "error");
            cadd(&c, "%s%s%.120s", strcmp(status_of(j), "not-run") ? "FAILED" : "not run",
                 json_is_string(er) ? ": " : "", json_is_string(er) ? json_string_value(er) : "");
            for (int k = 6; k < NC; k++)
                cadd(&c, "-");
            rows++;
            continue;
        }
        static const ifb_mx m[] = {IFB_MX_OUTPUT_THROUGHPUT, IFB_MX_P90_TTFT, IFB_MX_P90_TPOT,
                                   IFB_MX_P90_ITL,           IFB_MX_P90_E2E,  IFB_MX_COMPLETED};
        for (size_t k = 0; k < sizeof m / sizeof m[0]; k++) {
            double v = ifb_an_run_metric(j, m[k]);
            if (isfinite(v))
                cadd(&c, "%.*f", decimals(m[k]), v);
            else
                cadd(&c, "n/a");
        }
        double ns = ifb_an_run_metric(j, IFB_MX_NETWORK_SHARE);
        if (isfinite(ns))
            cadd(&c, "%.1f%%", 100 * ns);
        else
            cadd(&c, "n/a");
        cadd(&c, "%.0f / %.0f", ifb_an_num(j, "metrics.fcs_drops"), ifb_an_num(j, "metrics.drops"));
        cadd(&c, "%.0f (%.0f)", ifb_an_num(j, "metrics.retransmitted_pkts"),
             ifb_an_num(j, "metrics.timeouts"));
        rows++;
    }
    int rc = ifb_html_table(h, "tab-summary", "Every run (latencies in ms)", hdr, NC,
                            (const char *const *)c.v, (size_t)rows);
    int bad = c.bad;
    cfree(&c);
    return rc || bad ? -1 : 0;
}

static const char *const CAPTIONS[FIG_COUNT] = {
    [FIG_TRADEOFF] = "Throughput-latency trade-off (the Pareto view): output tokens per second per "
                     "GPU against what one user sees while decoding (1 / mean TPOT), one curve per "
                     "configuration through its load points; up and to the right is better.",
    [FIG_TGR] = "Output token throughput (tokens per second over the measurement window).",
    [FIG_TTFT] = "TTFT percentiles over measured requests: P50 solid, P90 dashed, P99 dotted.",
    [FIG_TPOT] = "TPOT percentiles over measured requests (mean time between a request's output "
                 "tokens after the first): P50 solid, P90 dashed, P99 dotted.",
    [FIG_ITL] = "Inter-token latency percentiles over output tokens: P50 solid, P90 dashed, P99 "
                "dotted.",
    [FIG_E2E] = "End-to-end latency percentiles over measured requests: P50 solid, P90 dashed, "
                "P99 dotted.",
    [FIG_RATIO] = "Each configuration over the baseline, per headline metric, paired by seed "
                  "(bars: 95% interval); the dashed line is parity.",
    [FIG_CDF_TTFT] = "CDF of TTFT over measured requests, seeds pooled.",
    [FIG_CDF_TPOT] = "CDF of TPOT over measured requests, seeds pooled.",
    [FIG_CDF_E2E] = "CDF of end-to-end latency over measured requests, seeds pooled.",
    [FIG_BREAKDOWN] = "Mean step time split into compute (the step with an infinitely fast "
                      "network) and exposed communication (the rest: network time not hidden "
                      "behind compute, PFC pauses and retransmissions included).",
    [FIG_BYTES] = "Bytes sent per traffic class over the whole run (warm-up included).",
    [FIG_KV] = "KV-cache transfer times (post to last byte placed), mean and maximum.",
    [FIG_UTIL] = "Maximum and mean utilization of the fabric's links over each run.",
    [FIG_HEATMAP] = "Link utilization over time.",
};

/* Opens DIR/NAME as an atomic output file. */
static int open_in(ifb_ofile *f, const char *dir, const char *name, ifb_err *e)
{
    char *path = ifb_path_printf(e, "%s/%s", dir, name);
    int rc = path ? ifb_ofile_open(f, path, e) : -1;
    free(path);
    return rc;
}

static int write_svg(const ifb_figs *g, int k, ifb_err *e)
{
    char name[64];
    snprintf(name, sizeof name, "%s.svg", IFB_FIG_IDS[k]);
    ifb_ofile f;
    if (open_in(&f, g->o->outdir, name, e))
        return -1;
    if (ifb_figs_draw(g, k, f.f, e))
        return ifb_ofile_fail(&f, e);
    return ifb_ofile_commit(&f, e);
}

static const char REFERENCE[] =
    "DeepSeek-R1 671B served on 2 servers x 8 NVIDIA H20 (4 x 400G ConnectX-7 per server) "
    "through one 51.2T Ethernet switch running RoCEv2 (CX864E-N class, 560 ns) and, as the "
    "baseline, one NDR InfiniBand switch (QM9700 class), at increasing numbers of concurrent "
    "requests (closed loop). Every figure is predicted from the scenario files' parameters; none "
    "is fitted to the vendor's claims, which are marked on the ratio figure for comparison. "
    "docs/reference-experiment.md explains where a difference between the fabrics can and "
    "cannot come from.";

static const char DEFINITIONS[] =
    "Metrics are named as sglang.bench_serving prints them. Output token throughput (TGR) is "
    "output tokens per second over the measurement window (after the warm-up requests); TTFT, "
    "TPOT and E2E latency percentiles are over the requests measured in the window, ITL over "
    "their output tokens; latencies in ms. Exposed communication is the part of a step's "
    "network time not hidden behind compute: where it is a small share of the step, no fabric "
    "can change the throughput much.";

int ifb_report_write(const ifb_report_opts *o, const ifb_analysis *a, ifb_err *e)
{
    ifb_figs g;
    int rc = ifb_figs_prepare(&g, a, o, e);
    for (int k = 0; k < FIG_COUNT && !rc; k++)
        if (g.present[k])
            rc = write_svg(&g, k, e);
    ifb_ofile f;
    if (!rc)
        rc = open_in(&f, o->outdir, "report.html", e);
    if (rc) {
        ifb_figs_free(&g);
        return rc;
    }
    ifb_html h;
    ifb_html_begin(&h, f.f,
                   o->reference ? "infabric: the reference experiment"
                                : "infabric: experiment report");
    ifb_html_heading(&h, 2, "answer", "The answer");
    ifb_html_para(&h, a->verdict);
    if (o->partial)
        ifb_html_para(&h, "PARTIAL: the experiment was interrupted or a run failed; the figures "
                          "show the runs that measured something, the last table lists every "
                          "planned run with its status.");
    int bad = answer_table(&h, a) < 0;
    if (o->reference)
        ifb_html_para(&h, REFERENCE);
    ifb_html_para(&h, DEFINITIONS);
    ifb_html_heading(&h, 2, "figures", "Figures");
    for (int k = 0; k < FIG_COUNT; k++) {
        char cap[700];
        const char *base = g.caption[k][0] ? g.caption[k] : CAPTIONS[k];
        if (k >= FIG_CDF_TTFT && k <= FIG_CDF_E2E && g.cdf_at[0])
            snprintf(cap, sizeof cap, "%s Shown %s.", base, g.cdf_at);
        else
            snprintf(cap, sizeof cap, "%s", base);
        if (!g.present[k]) {
            char para[400];
            snprintf(para, sizeof para, "%s: not drawn: %s.", IFB_FIG_IDS[k], g.why[k]);
            ifb_html_para(&h, para);
            continue;
        }
        if (ifb_html_figure_begin(&h, IFB_FIG_IDS[k], cap) == 0 && ifb_figs_draw(&g, k, h.f, e))
            bad = 1;
        ifb_html_figure_end(&h);
    }
    ifb_html_heading(&h, 2, "runs", "Every run");
    bad |= runs_table(&h, a) < 0;
    ifb_html_heading(&h, 2, "files", "Files");
    const char *const hrefs[] = {"summary.json", "runs.csv", "runs/"};
    ifb_html_links(&h, hrefs, NULL, 3);
    rc = ifb_html_end(&h, e);
    if (!rc && bad)
        rc = ifb_err_msg(e, "report.html: a table or a figure failed");
    if (rc)
        ifb_ofile_fail(&f, e);
    else
        rc = ifb_ofile_commit(&f, e);
    ifb_figs_free(&g);
    return rc;
}
