/* The verdict paragraph (see analysis.h): which configuration is better on which headline
 * metric, by how much, whether the difference exceeds run-to-run noise (the paired ratio's 95%
 * interval excludes 1), and the dominant reason from the step breakdown.
 * Rules, so that the text can be checked against the numbers:
 *   - a ratio within 0.05% of 1 reads "the same";
 *   - the reason for a difference is the larger of the per-step compute and exposed
 *     communication differences; exposed communication is further put down to PFC pauses or to
 *     retransmissions when the configuration with more of it also has more of them (and the
 *     other has fewer); queueing is named when P90 TTFT differs by more than twice the step
 *     time's relative difference plus 2 points (requests wait, not compute or the network);
 *   - with one seed per point, noise is not measured and the text says so. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/analysis.h"

/* The name of a compared configuration: a series, or x=value when the x values are compared. */
static const char *config_name(const ifb_analysis *a, int s, int x, char *buf, size_t cap)
{
    if (a->mode != IFB_CMP_X)
        return a->s[s].name;
    snprintf(buf, cap, "%s=%s", a->xname, a->x[x].label);
    return buf;
}

/* Percent difference of a ratio, signed. */
static double pct(double ratio)
{
    return (ratio - 1) * 100;
}

/* Means over the comparison's points of metric k for the numerator and the denominator. */
static void side_means(const ifb_analysis *a, const ifb_an_ratio *r, int nr, ifb_mx k, double *num,
                       double *den)
{
    double sn = 0, sd = 0;
    int c = 0;
    for (int i = 0; i < nr; i++) {
        double vn = ifb_an_point_at(a, r[i].num_s, r[i].num_x)->m[k].mean;
        double vd = ifb_an_point_at(a, r[i].den_s, r[i].den_x)->m[k].mean;
        if (isfinite(vn) && isfinite(vd)) {
            sn += vn;
            sd += vd;
            c++;
        }
    }
    *num = c ? sn / c : NAN;
    *den = c ? sd / c : NAN;
}

/* One configuration against the baseline: the ratios r[0..nr) share num and den. */
static void compare(FILE *f, const ifb_analysis *a, const ifb_an_ratio *r, int nr, int *better,
                    int *worse, double *largest)
{
    char nb[200], db[200];
    const char *num = config_name(a, r[0].num_s, r[0].num_x, nb, sizeof nb);
    const char *den = config_name(a, r[0].den_s, r[0].den_x, db, sizeof db);
    if (a->mode == IFB_CMP_SERIES && a->xkey[0] && a->nx > 1)
        fprintf(f,
                "%s against the baseline %s, at %d values of %s (%s to %s), %d seed%s per point. ",
                num, den, a->nx, a->xname, a->x[0].label, a->x[a->nx - 1].label, a->seeds,
                a->seeds == 1 ? "" : "s");
    else
        fprintf(f, "%s against the baseline %s, %d seed%s per point. ", num, den, a->seeds,
                a->seeds == 1 ? "" : "s");
    for (int k = 0; k < IFB_MX_COUNT; k++) {
        if (!ifb_mx_defs[k].headline)
            continue;
        double lo = INFINITY, hi = -INFINITY, sum = 0;
        int c = 0, known = 0, exc = 0;
        for (int i = 0; i < nr; i++) {
            double m = r[i].r[k].mean;
            if (!isfinite(m))
                continue;
            lo = fmin(lo, m);
            hi = fmax(hi, m);
            sum += m;
            c++;
            known += r[i].exceeds[k] >= 0;
            exc += r[i].exceeds[k] == 1;
        }
        if (!c) {
            fprintf(f, "%s: not measured. ", ifb_mx_defs[k].label);
            continue;
        }
        double mean = sum / c, d = pct(mean);
        int hb = ifb_mx_defs[k].higher_better;
        char label[64];
        snprintf(label, sizeof label, "%s", ifb_mx_defs[k].label);
        label[0] = (char)toupper((unsigned char)label[0]);
        if (fabs(d) < 0.05) {
            fprintf(f, "%s: the same (ratio %.3fx", label, mean);
        } else {
            int good = d * hb > 0;
            fprintf(f, "%s: %s is %.1f%% %s (%s; ratio %.3fx", label, num, fabs(d),
                    d > 0 ? "higher" : "lower", good ? "better" : "worse", mean);
            /* a difference counts for the conclusion when noise does not explain it, or
             * when noise is unknown */
            if (!known || exc) {
                *(good ? better : worse) += 1;
                *largest = fmax(*largest, fabs(d));
            }
        }
        if (c > 1 && fabs(hi - lo) >= 0.0005)
            fprintf(f, ", from %.3fx to %.3fx over the %d points", lo, hi, c);
        else if (c > 1)
            fprintf(f, " at each of the %d points", c);
        fputs(")", f);
        if (!known)
            fputs(", noise not measured", f);
        else if (exc == 0)
            fprintf(f, ", within run-to-run noise%s", c > 1 ? " at every point" : "");
        else if (exc == known)
            fprintf(f, ", beyond run-to-run noise%s", c > 1 ? " at every point" : "");
        else
            fprintf(f, ", beyond run-to-run noise at %d of %d points", exc, known);
        fputs(". ", f);
    }
    /* the reason, from the step breakdown */
    double sn, sd, cn, cd, en, ed, tn, td;
    side_means(a, r, nr, IFB_MX_STEP, &sn, &sd);
    side_means(a, r, nr, IFB_MX_COMPUTE, &cn, &cd);
    side_means(a, r, nr, IFB_MX_EXPOSED, &en, &ed);
    side_means(a, r, nr, IFB_MX_P90_TTFT, &tn, &td);
    if (!isfinite(sn) || !isfinite(sd) || !(sd > 0) || !isfinite(cn) || !isfinite(en)) {
        fputs("The step breakdown was not measured. ", f);
        return;
    }
    double dc = cn - cd, de = en - ed, ds = sn - sd;
    fprintf(f,
            "The step is %.0f%% compute and %.0f%% exposed communication for %s (%.0f%% and "
            "%.0f%% for %s); per step, ",
            100 * cn / sn, 100 * en / sn, num, 100 * cd / sd, 100 * ed / sd, den);
    double pn, pd, xn, xd, on, od;
    side_means(a, r, nr, IFB_MX_PFC_PAUSED, &pn, &pd);
    side_means(a, r, nr, IFB_MX_RETX, &xn, &xd);
    side_means(a, r, nr, IFB_MX_TIMEOUTS, &on, &od);
    const char *more = de > 0 ? num : den;
    double more_p = de > 0 ? pn : pd, less_p = de > 0 ? pd : pn;
    double more_x = de > 0 ? xn : xd, less_x = de > 0 ? xd : xn;
    fprintf(f, "compute differs by %+.3f ms and exposed communication by %+.3f ms, so ", dc, de);
    if (fabs(ds) < 1e-6 * sd)
        fputs("the step time is the same", f);
    else if (fabs(de) >= fabs(dc) && more_x > less_x && more_x > 0)
        fprintf(f,
                "the dominant reason is retransmissions (%s: %.0f packets retransmitted, %.0f "
                "timeouts, per run)",
                more, more_x, de > 0 ? on : od);
    else if (fabs(de) >= fabs(dc) && more_p > less_p && more_p > 0)
        fprintf(f, "the dominant reason is PFC pauses (%s: %.1f ms paused per run)", more, more_p);
    else if (fabs(de) >= fabs(dc))
        fputs("the dominant reason is exposed communication", f);
    else
        fputs("the dominant reason is compute", f);
    if (isfinite(tn) && isfinite(td) && td > 0) {
        double rt = (tn - td) / td, rs = ds / sd;
        if (fabs(rt) > 2 * fabs(rs) + 0.02)
            fprintf(f,
                    "; P90 TTFT differs by %+.1f%% while the step differs by %+.1f%%: queueing "
                    "(requests waiting for their first step) dominates the latency difference",
                    100 * rt, 100 * rs);
    }
    fputs(". ", f);
    if (xn + xd == 0 && pn + pd == 0)
        fputs("Neither had PFC pauses or retransmissions. ", f);
}

char *ifb_an_verdict(const ifb_analysis *a)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return NULL;
    int measured = 0;
    for (int q = 0; q < a->ns * a->nx; q++)
        measured += a->p[q].measured;
    if (!measured) {
        fputs("No run measured anything: there is no verdict (the table lists why).", f);
    } else if (a->mode == IFB_CMP_NONE) {
        const ifb_an_point *p = ifb_an_point_at(a, 0, 0);
        fprintf(f, "One configuration (%s): nothing to compare", a->s[0].name);
        if (a->nx > 1)
            fprintf(f, " across %d values of %s; the figures show how it scales", a->nx, a->xname);
        else
            fprintf(f, "; output token throughput %.1f tok/s, P90 TPOT %.2f ms",
                    p->m[IFB_MX_OUTPUT_THROUGHPUT].mean, p->m[IFB_MX_P90_TPOT].mean);
        fputs(". ", f);
    } else {

        /* one comparison per numerator configuration (consecutive ratios share it) */
        for (int i = 0; i < a->nr;) {
            int j = i;
            while (j < a->nr && a->r[j].num_s == a->r[i].num_s &&
                   (a->mode == IFB_CMP_SERIES || a->r[j].num_x == a->r[i].num_x))
                j++;
            int b = 0, w = 0;
            double big = 0;
            /* the details first into their own buffer: the verdict opens the paragraph */
            char *det = NULL;
            size_t dlen = 0;
            FILE *df = open_memstream(&det, &dlen);
            if (!df) {
                fclose(f);
                free(text);
                return NULL;
            }
            compare(df, a, a->r + i, j - i, &b, &w, &big);
            if (fclose(df) != 0) { /* the details are part of the verdict: none without them */
                free(det);
                fclose(f);
                free(text);
                return NULL;
            }
            char nb[200], db[200];
            const char *num = config_name(a, a->r[i].num_s, a->r[i].num_x, nb, sizeof nb);
            const char *den = config_name(a, a->r[i].den_s, a->r[i].den_x, db, sizeof db);
            if (!b && !w)
                fprintf(f, "Verdict: %s and %s are equal on every headline metric%s. ", num, den,
                        a->seeds > 1 ? " within run-to-run noise" : "");
            else if (b && !w)
                fprintf(f,
                        "Verdict: %s is better than %s on %d headline metric%s%s, by at most "
                        "%.1f%%. ",
                        num, den, b, b == 1 ? "" : "s",
                        a->seeds > 1 ? ", beyond run-to-run noise" : "", big);
            else if (w && !b)
                fprintf(f,
                        "Verdict: %s is better than %s on %d headline metric%s%s, by at most "
                        "%.1f%%. ",
                        den, num, w, w == 1 ? "" : "s",
                        a->seeds > 1 ? ", beyond run-to-run noise" : "", big);
            else
                fprintf(f,
                        "Verdict: %s is better on %d headline metric%s and worse on %d, by at "
                        "most %.1f%%. ",
                        num, b, b == 1 ? "" : "s", w, big);
            fputs(det, f);
            free(det);
            i = j;
        }
        if (a->seeds < 2)
            fputs("One seed per point: run-to-run noise is not measured, so small differences "
                  "may be noise (run with --seeds 3 for 95% confidence intervals). ",
                  f);
    }
    /* what the percentiles rest on */
    double lo = INFINITY, hi = -INFINITY;
    for (int q = 0; q < a->ns * a->nx; q++) {
        const ifb_an_point *p = &a->p[q];
        for (int i = 0; i < p->nruns; i++) {
            double c = ifb_an_run_metric(a->runs[p->runs[i]], IFB_MX_COMPLETED);
            if (isfinite(c)) {
                lo = fmin(lo, c);
                hi = fmax(hi, c);
            }
        }
    }
    if (isfinite(lo)) {
        if (lo == hi)
            fprintf(f, "Each run's percentiles rest on %.0f measured requests", lo);
        else
            fprintf(f, "Each run's percentiles rest on %.0f to %.0f measured requests", lo, hi);
        if (lo < 100)
            fputs(" (a P99 over fewer than 100 requests lies between the two slowest: --requests "
                  "measures more)",
                  f);
        fputs(".", f);
    }
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    /* no trailing space */
    while (len && text[len - 1] == ' ')
        text[--len] = '\0';
    return text;
}
