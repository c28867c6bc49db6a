/* Experiment summary (see summary.h). Run objects are embedded in summary.json verbatim, in job
 * order, so equal runs give a byte-identical summary whatever order the workers finished in. A
 * run without an object (its worker was killed, or never started) gets one made here from what
 * the parent knows: scenario, sweep point, status and why. */
#include "report/summary.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "report/analysis.h"
#include "report/out.h"
#include "report/report.h"

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
    if (n < 0) {
        fclose(f);
        return NULL;
    }
    char *buf = ifb_xmalloc((size_t)n + 1, "a run's result");
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    } else {
        buf[n] = '\0';
    }
    fclose(f);
    return buf;
}

static const char *str(const json_t *j, const char *key)
{
    const json_t *v = json_object_get(j, key);
    return v && json_is_string(v) ? json_string_value(v) : "";
}

/* ---- the printed table -------------------------------------------------------------------- */

#define TAB_MAX_COLS 16

/* Rows of cells printed with each column as wide as its widest cell, so no value is cut
 * (column widths count UTF-8 characters). */
typedef struct ptab {
    char **rows;         /* nrows x ncols */
    unsigned char *span; /* per row: cell 3 is a message over the remaining columns */
    int nrows, cap, ncols;
    int right[TAB_MAX_COLS]; /* right-aligned */
} ptab;

static size_t u8len(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static void prow_(ptab *t, int span, va_list ap)
{
    if (t->nrows == t->cap) { /* two ints' product fits in a 64-bit size_t */
        int cap = t->cap ? t->cap * 2 : 32;
        t->rows = ifb_xrealloc(t->rows, (size_t)cap * (size_t)t->ncols, sizeof *t->rows,
                               "the summary table's cells");
        t->span = ifb_xrealloc(t->span, (size_t)cap, sizeof *t->span, "the summary table's rows");
        t->cap = cap;
    }
    t->span[t->nrows] = (unsigned char)span;
    for (int c = 0; c < t->ncols; c++) {
        const char *v = span && c > 3 ? NULL : va_arg(ap, const char *);
        t->rows[t->nrows * t->ncols + c] = ifb_xstrdup(v ? v : "", "a summary table cell");
    }
    t->nrows++;
}

static void prow(ptab *t, ...)
{
    va_list ap;
    va_start(ap, t);
    prow_(t, 0, ap);
    va_end(ap);
}

/* scenario, fabric, sweep and a message in place of the figures */
static void prow_msg(ptab *t, ...)
{
    va_list ap;
    va_start(ap, t);
    prow_(t, 1, ap);
    va_end(ap);
}

static void pprint(FILE *out, ptab *t, int header_rows)
{
    size_t w[TAB_MAX_COLS] = {0};
    (void)header_rows;
    for (int r = 0; r < t->nrows; r++)
        for (int c = 0; c < t->ncols && !(t->span[r] && c >= 3); c++) {
            const char *v = t->rows[r * t->ncols + c];
            size_t n = v ? u8len(v) : 0;
            w[c] = n > w[c] ? n : w[c];
        }
    for (int r = 0; r < t->nrows; r++) {
        for (int c = 0; c < t->ncols; c++) {
            const char *v = t->rows[r * t->ncols + c];
            v = v ? v : "";
            if (t->span[r] && c >= 3) { /* the message, unpadded, then the row ends */
                fprintf(out, "  %s", v);
                break;
            }
            int pad = (int)(w[c] - u8len(v));
            int right = t->right[c];
            fprintf(out, "%s%*s%s%*s", c ? "  " : "", right ? pad : 0, "", v,
                    right || c == t->ncols - 1 ? 0 : pad, "");
        }
        fputc('\n', out);
    }
    for (int i = 0; i < t->nrows * t->ncols; i++)
        free(t->rows[i]);
    free(t->rows);
    free(t->span);
    t->rows = NULL;
    t->span = NULL;
    t->nrows = t->cap = 0;
}

/* "569.2", or "569.2±1.3" with an interval. */
static void fstat(char *buf, size_t cap, const ifb_stat *s, int dec)
{
    if (!s->n || !isfinite(s->mean))
        snprintf(buf, cap, "n/a");
    else if (s->n >= 2 && isfinite(s->lo))
        snprintf(buf, cap, "%.*f\xC2\xB1%.*f", dec, s->mean, dec, (s->hi - s->lo) / 2);
    else
        snprintf(buf, cap, "%.*f", dec, s->mean);
}

/* One value of a single run. */
static void fone(char *buf, size_t cap, double v, int dec)
{
    if (isfinite(v))
        snprintf(buf, cap, "%.*f", dec, v);
    else
        snprintf(buf, cap, "n/a");
}

/* Wraps text at `width` columns. */
static void print_wrapped(FILE *out, const char *text, size_t width)
{
    const char *p = text;
    while (*p) {
        size_t n = strlen(p);
        if (n <= width) {
            fprintf(out, "%s\n", p);
            break;
        }
        size_t cut = width;
        while (cut > 0 && p[cut] != ' ')
            cut--;
        if (!cut)
            cut = strcspn(p, " ");
        fprintf(out, "%.*s\n", (int)cut, p);
        p += cut;
        while (*p == ' ')
            p++;
    }
}

static const ifb_mx TABLE_MX[] = {IFB_MX_OUTPUT_THROUGHPUT, IFB_MX_P90_TTFT, IFB_MX_P90_TPOT,
                                  IFB_MX_P90_ITL, IFB_MX_P90_E2E};
#define NTABLE_MX ((int)(sizeof TABLE_MX / sizeof TABLE_MX[0]))

static void print_table(FILE *out, run_rec *r, int n, const ifb_analysis *a, int reference,
                        int partial)
{
    int nc = 0, np = 0, nf = 0, nn = 0;
    for (int i = 0; i < n; i++) {
        const char *st = r[i].j ? status(r[i].j) : "failed";
        nc += !strcmp(st, "complete");
        np += !strcmp(st, "partial");
        nf += !strcmp(st, "failed");
        nn += !strcmp(st, "not-run");
    }
    char seeds[96] = "";
    if (a->seeds > 1)
        snprintf(seeds, sizeof seeds,
                 ", %d seeds per point: mean\xC2\xB1half-width of the 95%% interval", a->seeds);
    if (nc == n)
        fprintf(out, "# infabric run: %d run(s)%s%s\n", n, seeds, partial ? " (PARTIAL)" : "");
    else
        fprintf(out,
                "# infabric run: %d run(s)%s (PARTIAL): %d complete, %d partial, %d failed, "
                "%d not run\n",
                n, seeds, nc, np, nf, nn);
    ptab t = {.ncols = 11};
    for (int c = 3; c < t.ncols; c++)
        t.right[c] = 1;
    prow(&t, "scenario", "fabric", "sweep", "output tok/s", "P90 TTFT", "P90 TPOT", "P90 ITL",
         "P90 E2E", "requests", "network", "retx");
    prow(&t, "", "", "", "(TGR)", "ms", "ms", "ms", "ms", "per run", "of step", "pkts");
    char v[NTABLE_MX + 3][48];
    if (a->seeds > 1) {
        /* one row per point: scenario and sweep of its first run */
        for (int q = 0; q < a->ns * a->nx; q++) {
            const ifb_an_point *p = &a->p[q];
            if (!p->nruns)
                continue;
            const json_t *j = r[p->runs[0]].j;
            char *sw = ifb_report_sweep_label(j);
            if (!p->measured) {
                char why[96];
                error_short(r[p->runs[0]].j, why, sizeof why);
                char msg[128];
                snprintf(msg, sizeof msg, "%s%s%s",
                         !strcmp(status(j), "not-run") ? "not run" : "FAILED", why[0] ? ": " : "",
                         why);
                prow_msg(&t, str(j, "scenario"), str(j, "fabric")[0] ? str(j, "fabric") : "-", sw,
                         msg);
                free(sw);
                continue;
            }
            for (int k = 0; k < NTABLE_MX; k++)
                fstat(v[k], sizeof v[k], &p->m[TABLE_MX[k]], k ? 2 : 1);
            fstat(v[NTABLE_MX], sizeof v[0], &p->m[IFB_MX_COMPLETED], 0);
            double ns = p->m[IFB_MX_NETWORK_SHARE].mean;
            if (isfinite(ns))
                snprintf(v[NTABLE_MX + 1], sizeof v[0], "%.1f%%", 100 * ns);
            else
                snprintf(v[NTABLE_MX + 1], sizeof v[0], "n/a");
            fone(v[NTABLE_MX + 2], sizeof v[0], p->m[IFB_MX_RETX].mean, 0);
            char st[64];
            snprintf(st, sizeof st, "%s%s", sw,
                     p->measured < p->nruns ? " (some seeds failed)" : "");
            prow(&t, str(j, "scenario"), str(j, "fabric"), st, v[0], v[1], v[2], v[3], v[4], v[5],
                 v[6], v[7]);
            free(sw);
        }
    } else {
        for (int i = 0; i < n; i++) {
            const json_t *j = r[i].j;
            if (!j || !strcmp(status(j), "not-run"))
                continue; /* counted in the header; listed in summary.json and runs.csv */
            char *sw = ifb_report_sweep_label(j);
            if (!measured(j)) {
                char why[96];
                error_short(j, why, sizeof why);
                char msg[128];
                snprintf(msg, sizeof msg, "%s%s%s",
                         !strcmp(status(j), "failed") ? "FAILED" : status(j), why[0] ? ": " : "",
                         why);
                prow_msg(&t, str(j, "scenario"), str(j, "fabric")[0] ? str(j, "fabric") : "-", sw,
                         msg);
                free(sw);
                continue;
            }
            for (int k = 0; k < NTABLE_MX; k++)
                fone(v[k], sizeof v[k], ifb_an_run_metric(j, TABLE_MX[k]), k ? 2 : 1);
            fone(v[NTABLE_MX], sizeof v[0], ifb_an_run_metric(j, IFB_MX_COMPLETED), 0);
            double ns = ifb_an_run_metric(j, IFB_MX_NETWORK_SHARE);
            if (isfinite(ns))
                snprintf(v[NTABLE_MX + 1], sizeof v[0], "%.1f%%", 100 * ns);
            else
                snprintf(v[NTABLE_MX + 1], sizeof v[0], "n/a");
            fone(v[NTABLE_MX + 2], sizeof v[0], ifb_an_run_metric(j, IFB_MX_RETX), 0);
            char st[300];
            snprintf(st, sizeof st, "%s%s%s", sw,
                     json_is_true(json_object_get(j, "partial")) ? " partial" : "",
                     json_is_true(json_object_get(j, "faults_outside_window"))
                         ? " fault-outside-window"
                         : "");
            prow(&t, str(j, "scenario"), str(j, "fabric"), st, v[0], v[1], v[2], v[3], v[4], v[5],
                 v[6], v[7]);
            free(sw);
        }
    }
    pprint(out, &t, 2);
    for (int i = 0; i < n; i++) /* why a run's figures are n/a */
        if (r[i].j &&
            json_is_string(json_object_get(json_object_get(r[i].j, "metrics"), "unmeasured")))
            fprintf(out, "# %s %s: n/a: %s\n", str(r[i].j, "scenario"), str(r[i].j, "fabric"),
                    json_string_value(
                        json_object_get(json_object_get(r[i].j, "metrics"), "unmeasured")));
    /* ratios to the baseline */
    if (a->nr) {
        char what[400];
        if (a->mode == IFB_CMP_X)
            snprintf(what, sizeof what, "%s: each value / %s=%s", a->s[0].name, a->xname,
                     a->x[a->baseline].label);
        else if (reference)
            snprintf(what, sizeof what, "Ethernet (RoCEv2) / InfiniBand");
        else
            snprintf(what, sizeof what, "each configuration / %s", a->s[a->baseline].name);
        fprintf(out, "\n# %s%s%s\n", what,
                a->seeds > 1 ? ", paired by seed: mean [95% interval], * beyond run-to-run noise"
                             : " (one seed: no interval)",
                reference ? "; vendor claims: TGR +27.5% at 100, P90 latency -20.4% at 50" : "");
        ptab rt = {.ncols = 2 + NTABLE_MX};
        for (int c = 2; c < rt.ncols; c++)
            rt.right[c] = 1;
        char h[NTABLE_MX][64];
        for (int k = 0; k < NTABLE_MX; k++)
            snprintf(h[k], sizeof h[k], "%s ratio",
                     k ? ifb_mx_defs[TABLE_MX[k]].label : "output tok/s");
        prow(&rt, a->mode == IFB_CMP_X ? a->xname : "configuration",
             a->mode == IFB_CMP_X ? ""
             : a->xkey[0]         ? a->xname
                                  : "",
             h[0], h[1], h[2], h[3], h[4]);
        for (int i = 0; i < a->nr; i++) {
            const ifb_an_ratio *q = &a->r[i];
            char c[NTABLE_MX][64];
            for (int k = 0; k < NTABLE_MX; k++) {
                const ifb_stat *s = &q->r[TABLE_MX[k]];
                if (!s->n || !isfinite(s->mean))
                    snprintf(c[k], sizeof c[k], "n/a");
                else if (q->exceeds[TABLE_MX[k]] >= 0)
                    snprintf(c[k], sizeof c[k], "%.3fx [%.3f, %.3f]%s", s->mean, s->lo, s->hi,
                             q->exceeds[TABLE_MX[k]] ? "*" : " ");
                else
                    snprintf(c[k], sizeof c[k], "%.3fx", s->mean);
            }
            if (a->mode == IFB_CMP_X)
                prow(&rt, a->x[q->num_x].label, "", c[0], c[1], c[2], c[3], c[4]);
            else
                prow(&rt, a->s[q->num_s].name, a->xkey[0] ? a->x[q->num_x].label : "", c[0], c[1],
                     c[2], c[3], c[4]);
        }
        pprint(out, &rt, 1);
    }
    fputc('\n', out);
    print_wrapped(out, a->verdict, 100);
}

/* ---- runs.csv ------------------------------------------------------------------------------ */

/* runs.csv's figure columns: the metrics' own names (docs/outputs.md). */
static const char *const CSV_KEYS[] = {"output_throughput",
                                       "tgr_tok_s",
                                       "request_throughput",
                                       "mean_ttft_ms",
                                       "median_ttft_ms",
                                       "p90_ttft_ms",
                                       "p99_ttft_ms",
                                       "mean_tpot_ms",
                                       "median_tpot_ms",
                                       "p90_tpot_ms",
                                       "p99_tpot_ms",
                                       "mean_itl_ms",
                                       "median_itl_ms",
                                       "p90_itl_ms",
                                       "p99_itl_ms",
                                       "mean_e2e_latency_ms",
                                       "median_e2e_latency_ms",
                                       "p90_e2e_latency_ms",
                                       "p99_e2e_latency_ms",
                                       "completed",
                                       "network_share",
                                       "link_util_max",
                                       "link_util_mean",
                                       "pfc_pauses",
                                       "drops",
                                       "retransmitted_pkts"};
#define NCSV_KEYS (sizeof CSV_KEYS / sizeof CSV_KEYS[0])

typedef struct runs_ctx {
    run_rec *r;
    int n;
} runs_ctx;

static void rows_runs(ifb_csv *c, const void *ctx)
{
    const runs_ctx *x = ctx;
    for (int i = 0; i < x->n; i++) {
        const json_t *j = x->r[i].j;
        if (!j)
            continue;
        char *sw = ifb_report_sweep_label(j);
        ifb_csv_int(c, i);
        ifb_csv_str(c, str(j, "scenario"));
        ifb_csv_str(c, str(j, "fabric"));
        ifb_csv_str(c, sw);
        free(sw);
        ifb_csv_double(c, ifb_an_num(j, "seed"));
        ifb_csv_int(c, json_is_true(json_object_get(j, "partial")));
        const json_t *m = json_object_get(j, "metrics");
        for (size_t k = 0; k < NCSV_KEYS; k++) {
            const json_t *v = m ? json_object_get(m, CSV_KEYS[k]) : NULL;
            ifb_csv_double(c, v && json_is_number(v) ? json_number_value(v) : NAN);
        }
        ifb_csv_str(c, status(j));
        ifb_csv_str(c, str(j, "error"));
        ifb_csv_end_row(c);
    }
}

static int write_csv(const char *path, run_rec *r, int n, ifb_err *e)
{
    const char *hdr[6 + NCSV_KEYS + 2] = {"run", "scenario", "fabric", "sweep", "seed", "partial"};
    for (size_t k = 0; k < NCSV_KEYS; k++)
        hdr[6 + k] = CSV_KEYS[k];
    hdr[6 + NCSV_KEYS] = "status";
    hdr[7 + NCSV_KEYS] = "error";
    runs_ctx x = {r, n};
    return ifb_csv_write_file(path, hdr, sizeof hdr / sizeof hdr[0], rows_runs, &x, e);
}

/* ---- summary.json: the analysis after the runs --------------------------------------------- */

static void stat_json(ifb_json *j, const char *key, const ifb_stat *s)
{
    ifb_json_kobj_begin(j, key);
    ifb_json_kdouble(j, "mean", s->mean);
    ifb_json_kdouble(j, "ci95_low", s->lo);
    ifb_json_kdouble(j, "ci95_high", s->hi);
    ifb_json_kint(j, "n", s->n);
    ifb_json_obj_end(j);
}

/* "x", "points", "comparisons" and "verdict" as members of the top-level object: written as an
 * object of their own, whose braces the caller strips. NULL when open_memstream (which has no
 * allocation hook) runs out of memory. */
static char *analysis_json(const ifb_analysis *a, run_rec *r)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return NULL;
    static const char *const kinds[] = {"none", "numeric", "size", "categorical"};
    static const char *const modes[] = {"none", "series", "x"};
    ifb_json j;
    ifb_json_init(&j, f, 2);
    ifb_json_obj_begin(&j);
    ifb_json_kobj_begin(&j, "x");
    ifb_json_kstr(&j, "key", a->xkey);
    ifb_json_kstr(&j, "kind", kinds[a->xkind]);
    ifb_json_karr_begin(&j, "values");
    for (int x = 0; x < a->nx; x++)
        ifb_json_str(&j, a->x[x].label);
    ifb_json_arr_end(&j);
    ifb_json_obj_end(&j);
    ifb_json_kstr(&j, "compared", modes[a->mode]);
    if (a->mode == IFB_CMP_SERIES)
        ifb_json_kstr(&j, "baseline", a->s[a->baseline].name);
    else if (a->mode == IFB_CMP_X)
        ifb_json_kstr(&j, "baseline", a->x[a->baseline].label);
    ifb_json_karr_begin(&j, "points");
    for (int q = 0; q < a->ns * a->nx; q++) {
        const ifb_an_point *p = &a->p[q];
        if (!p->nruns)
            continue;
        ifb_json_obj_begin(&j);
        ifb_json_kstr(&j, "series", a->s[p->series].name);
        ifb_json_kstr(&j, "scenario", a->s[p->series].scenario);
        ifb_json_kstr(&j, "x", a->x[p->x].label);
        ifb_json_karr_begin(&j, "runs");
        for (int i = 0; i < p->nruns; i++)
            ifb_json_int(&j, p->runs[i]);
        ifb_json_arr_end(&j);
        ifb_json_kint(&j, "measured", p->measured);
        ifb_json_kobj_begin(&j, "metrics");
        for (int k = 0; k < IFB_MX_COUNT; k++)
            stat_json(&j, ifb_mx_defs[k].key, &p->m[k]);
        ifb_json_obj_end(&j);
        ifb_json_obj_end(&j);
    }
    ifb_json_arr_end(&j);
    ifb_json_karr_begin(&j, "comparisons");
    for (int i = 0; i < a->nr; i++) {
        const ifb_an_ratio *q = &a->r[i];
        char nb[200], db[200];
        if (a->mode == IFB_CMP_X) {
            snprintf(nb, sizeof nb, "%s=%s", a->xname, a->x[q->num_x].label);
            snprintf(db, sizeof db, "%s=%s", a->xname, a->x[q->den_x].label);
        } else {
            snprintf(nb, sizeof nb, "%s", a->s[q->num_s].name);
            snprintf(db, sizeof db, "%s", a->s[q->den_s].name);
        }
        ifb_json_obj_begin(&j);
        ifb_json_kstr(&j, "numerator", nb);
        ifb_json_kstr(&j, "denominator", db);
        ifb_json_kstr(&j, "x", a->x[q->num_x].label);
        ifb_json_kobj_begin(&j, "ratios");
        for (int k = 0; k < IFB_MX_COUNT; k++) {
            if (!ifb_mx_defs[k].headline && k != IFB_MX_STEP && k != IFB_MX_EXPOSED &&
                k != IFB_MX_REQUEST_THROUGHPUT)
                continue;
            ifb_json_kobj_begin(&j, ifb_mx_defs[k].key);
            ifb_json_kdouble(&j, "mean", q->r[k].mean);
            ifb_json_kdouble(&j, "ci95_low", q->r[k].lo);
            ifb_json_kdouble(&j, "ci95_high", q->r[k].hi);
            ifb_json_kint(&j, "n", q->r[k].n);
            if (q->exceeds[k] < 0)
                ifb_json_knull(&j, "beyond_noise");
            else
                ifb_json_kbool(&j, "beyond_noise", q->exceeds[k]);
            ifb_json_obj_end(&j);
        }
        ifb_json_obj_end(&j);
        ifb_json_obj_end(&j);
    }
    ifb_json_arr_end(&j);
    ifb_json_kstr(&j, "verdict", a->verdict);
    ifb_json_obj_end(&j);
    (void)r;
    ifb_err e;
    int rc = ifb_json_finish(&j, &e);
    if (fclose(f) != 0 || rc) {
        free(text);
        return NULL;
    }
    return text;
}

/* Opens DIR/NAME as an atomic output file. */
static int open_in(ifb_ofile *f, const char *dir, const char *name, ifb_err *e)
{
    char *path = ifb_path_printf(e, "%s/%s", dir, name);
    int rc = path ? ifb_ofile_open(f, path, e) : -1;
    free(path);
    return rc;
}

/* The object of a run without one: it never started, or its worker ended without writing it.
 * NULL with e when it cannot be written: open_memstream has no allocation hook, so running out
 * of memory there comes back as NULL rather than through core/alloc.h. */
static char *made_object(const ifb_summary_run *run, const char *name, const char *fabric,
                         ifb_err *e)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) {
        ifb_err_msg(e, "summary.json: out of memory writing a run's object");
        return NULL;
    }
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
    ifb_json_kstr(&j, "scenario", name ? name : run->scenario);
    if (fabric && *fabric)
        ifb_json_kstr(&j, "fabric", fabric);
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
    int rc = ifb_json_finish(&j, e);
    if (fclose(f) != 0 || rc) {
        if (!rc)
            ifb_err_msg(e, "summary.json: out of memory writing a run's object");
        free(text);
        return NULL;
    }
    return text;
}

static int write_json(const ifb_summary_opts *o, run_rec *r, int n, const int count[4], int partial,
                      const char *analysis, ifb_err *e)
{
    ifb_ofile f;
    if (open_in(&f, o->outdir, "summary.json", e))
        return -1;
    fprintf(f.f,
            "{\n  \"tool\": \"infabric run\",\n  \"partial\": %s,\n  \"planned\": %d,\n"
            "  \"completed\": %d,\n  \"partial_runs\": %d,\n  \"failed\": %d,\n"
            "  \"not_run\": %d,\n  \"seeds\": %d,\n  \"runs\": [",
            partial ? "true" : "false", o->nplanned, count[0], count[1], count[2], count[3],
            o->seeds > 0 ? o->seeds : 1);
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
    fputs(first ? "]" : "\n  ]", f.f);
    /* the analysis' members: its object without the outer braces */
    size_t len = strlen(analysis);
    if (len > 4 && analysis[0] == '{' && analysis[1] == '\n') {
        size_t end = len;
        while (end > 2 && analysis[end - 1] != '}')
            end--;
        fputs(",\n", f.f);
        fwrite(analysis + 2, 1, end - 1 - 2, f.f); /* up to the newline before the brace */
    } else {
        fputc('\n', f.f);
    }
    fputs("}\n", f.f);
    return ifb_ofile_commit(&f, e);
}

/* A scenario's name as its runs report it ("reference-roce" for "reference-roce.yaml"), from
 * another run of the same command-line scenario that wrote an object; NULL if none did. */
static const char *known_name(const ifb_summary_opts *o, const run_rec *r, int i, const char **fab)
{
    for (int k = 0; k < o->nplanned; k++)
        if (k != i && r[k].j && r[k].text && json_object_get(r[k].j, "source") &&
            !strcmp(o->runs[k].scenario, o->runs[i].scenario)) {
            *fab = str(r[k].j, "fabric");
            return str(r[k].j, "scenario");
        }
    return NULL;
}

int ifb_summary_write(const ifb_summary_opts *o, ifb_err *e)
{
    int n = o->nplanned;
    run_rec *r = ifb_xcalloc((size_t)n, sizeof *r, "the runs' results");
    json_t **objs = ifb_xcalloc((size_t)n, sizeof *objs, "the runs' objects");
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
    }
    int rc = 0;
    for (int i = 0; i < n; i++) {
        if (!r[i].text) {
            const char *fab = NULL, *name = known_name(o, r, i, &fab);
            r[i].text = made_object(&o->runs[i], name, fab, e);
            if (!r[i].text) { /* the run would be missing from summary.json */
                rc = -1;
                break;
            }
            json_error_t je;
            r[i].j = json_loads(r[i].text, 0, &je); /* NULL only if jansson runs out */
        }
        objs[i] = r[i].j;
        const char *st = r[i].j ? status(r[i].j) : "failed";
        count[!strcmp(st, "complete")  ? 0
              : !strcmp(st, "partial") ? 1
              : !strcmp(st, "failed")  ? 2
                                       : 3]++;
    }
    int partial = o->partial || count[0] < n;
    ifb_analysis an = {0};
    if (!rc)
        rc = ifb_analysis_build(&an, objs, n, e);
    char *ajson = rc ? NULL : analysis_json(&an, r);
    if (!rc && !ajson)
        rc = ifb_err_msg(e, "out of memory writing the analysis");
    /* summary.json last: its presence says every other file of the folder is whole */
    char *path = rc ? NULL : ifb_path_printf(e, "%s/runs.csv", o->outdir);
    if (!rc)
        rc = path ? write_csv(path, r, n, e) : -1;
    free(path);
    if (!rc) {
        ifb_report_opts ro = {.outdir = o->outdir,
                              .runs_dir = o->runs_dir,
                              .reference = o->reference,
                              .partial = partial};
        rc = ifb_report_write(&ro, &an, e);
    }
    if (!rc)
        rc = write_json(o, r, n, count, partial, ajson, e);
    if (!rc && o->print)
        print_table(o->print, r, n, &an, o->reference, partial);
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
    free(ajson);
    if (an.p || an.x)
        ifb_analysis_free(&an);
    for (int i = 0; i < n; i++) {
        free(r[i].text);
        if (r[i].j)
            json_decref(r[i].j);
    }
    free(r);
    free(objs);
    return rc;
}
