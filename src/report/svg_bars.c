/* The bar charts (see svg.h): stacked and grouped bars over named categories, labels rotated
 * when they do not fit their band. */
#include <math.h>
#include <string.h>

#include "report/svg_int.h"

/* ---- Bar charts --------------------------------------------------------------------------- */

static int check_bars(FILE *f, const ifb_svg_bar_chart *c, int *w, int *h, ifb_err *err)
{
    if (!f || !c)
        return ifb_err_msg(err, "bar chart: NULL argument");
    if (ifb_sv_check_canvas(w, h, err) < 0)
        return -1;
    if (c->ncat && !c->categories)
        return ifb_err_set(err, NULL, 0, "categories", "an array", "NULL with %zu categories",
                           c->ncat);
    if (c->nseries && !c->series)
        return ifb_err_set(err, NULL, 0, "series", "an array", "NULL with %zu series", c->nseries);
    if (c->ncat > 100000 || c->nseries > 1000)
        return ifb_err_set(err, NULL, 0, "bar chart size", "at most 100000 x 1000 bars",
                           "%zu x %zu", c->ncat, c->nseries);
    if (c->ncat && c->nseries && !c->values)
        return ifb_err_set(err, NULL, 0, "values", "an array", "NULL with %zu x %zu values",
                           c->ncat, c->nseries);
    return 0;
}

/* Frame for a bar chart whose values span [lo, hi] (0 included by the caller). Category
 * labels are rotated when they do not fit their band; the bottom margin grows to hold them. */
static ifb_sv_frame bar_frame(const ifb_svg_bar_chart *c, int w, int h, double lo, double hi,
                              bool *rotate)
{
    ifb_sv_frame fr = {.w = w, .h = h};
    fr.y0 = c->title && *c->title ? 40 : 16;
    double widest = 0;
    for (size_t i = 0; i < c->nseries; i++)
        widest = fmax(widest, ifb_sv_text_w(c->series[i], IFB_SV_FONT));
    fr.x1 = w - ifb_sv_legend_w(widest, c->nseries, w);
    double maxlab = 0;
    for (size_t i = 0; i < c->ncat; i++)
        maxlab = fmax(maxlab, ifb_sv_text_w(c->categories[i], IFB_SV_FONT));
    /* a first estimate of the left margin to decide on rotation; refined below */
    double band = (fr.x1 - 80) / (double)(c->ncat ? c->ncat : 1);
    *rotate = maxlab > band - 6;
    double below = *rotate ? fmin(maxlab * 0.58 + 14, h * 0.3) : 20;
    fr.y1 = h - (below + 30);
    fr.ya = ifb_sv_make_axis(lo, hi, (int)fmax(3, (fr.y1 - fr.y0) / 55));
    fr.x0 = (c->y_title && *c->y_title ? 30 : 8) + ifb_sv_ytick_w(&fr.ya) + 8;
    if (fr.x1 < fr.x0 + 40)
        fr.x1 = fr.x0 + 40;
    fr.xin = 0;
    return fr;
}

static void draw_categories(FILE *f, const ifb_sv_frame *fr, const ifb_svg_bar_chart *c,
                            bool rotate)
{
    double band = (fr->x1 - fr->x0) / (double)c->ncat;
    fputs("<g class=\"axis x\" fill=\"#333333\">\n", f);
    fprintf(f, "<line x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" stroke=\"#333333\"/>\n",
            ifb_sv_px(fr->x0).s, ifb_sv_px(fr->y1).s, ifb_sv_px(fr->x1).s, ifb_sv_px(fr->y1).s);
    for (size_t i = 0; i < c->ncat; i++) {
        double x = fr->x0 + band * ((double)i + 0.5);
        if (rotate) {
            double y = fr->y1 + 14;
            fprintf(f,
                    "<text class=\"tick\" x=\"%s\" y=\"%s\" text-anchor=\"end\" "
                    "transform=\"rotate(-35 %s %s)\">",
                    ifb_sv_px(x).s, ifb_sv_px(y).s, ifb_sv_px(x).s, ifb_sv_px(y).s);
            ifb_xml_escape(f, c->categories[i]);
            fputs("</text>\n", f);
        } else {
            ifb_sv_write_text(f, x, fr->y1 + 18, "middle", "class=\"tick\"", c->categories[i]);
        }
    }
    fputs("</g>\n", f);
}

static void draw_zero_line(FILE *f, const ifb_sv_frame *fr)
{
    if (fr->ya.lo < 0 && fr->ya.hi > 0) {
        double y = ifb_sv_map_y(fr, 0);
        fprintf(f,
                "<line class=\"zero\" x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" "
                "stroke=\"#333333\"/>\n",
                ifb_sv_px(fr->x0).s, ifb_sv_px(y).s, ifb_sv_px(fr->x1).s, ifb_sv_px(y).s);
    }
}

/* The bar of value v = to - from (v passed as given, so the tooltip shows the input). */
static void bar_rect(FILE *f, const ifb_sv_frame *fr, const ifb_svg_bar_chart *c, size_t cat,
                     size_t s, double x, double bw, double from, double to, double v)
{
    double ya = ifb_sv_map_y(fr, from), yb = ifb_sv_map_y(fr, to);
    double top = fmin(ya, yb), hgt = fabs(ya - yb);
    fprintf(f,
            "<rect class=\"bar\" data-s=\"%zu\" x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\" "
            "fill=\"%s\"><title>",
            s, ifb_sv_px(x).s, ifb_sv_px(top).s, ifb_sv_px(bw).s, ifb_sv_px(hgt).s,
            ifb_svg_color(s));
    ifb_xml_escape(f, c->categories[cat]);
    fputs(" / ", f);
    ifb_xml_escape(f, c->series[s]);
    fprintf(f, ": %s</title></rect>\n", ifb_sv_val(v).s);
}

/* Stacked bars list the top component first, so the legend reads like the bars. */
static void draw_bar_legend(FILE *f, const ifb_sv_frame *fr, const ifb_svg_bar_chart *c,
                            bool reverse)
{
    if (c->nseries == 0)
        return;
    fputs("<g class=\"legend\">\n", f);
    for (size_t j = 0; j < c->nseries; j++) {
        size_t i = reverse ? c->nseries - 1 - j : j;
        ifb_sv_legend_item(f, fr, j, NULL, ifb_svg_color(i), c->series[i]);
    }
    fputs("</g>\n", f);
}

static void bars_common_open(FILE *f, const ifb_sv_frame *fr, const ifb_svg_bar_chart *c,
                             bool rotate)
{
    ifb_sv_open(f, fr, c->title);
    ifb_sv_draw_y_axis(f, fr, c->y_title);
    if (c->ncat)
        draw_categories(f, fr, c, rotate);
    else
        fprintf(f, "<line x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" stroke=\"#333333\"/>\n",
                ifb_sv_px(fr->x0).s, ifb_sv_px(fr->y1).s, ifb_sv_px(fr->x1).s, ifb_sv_px(fr->y1).s);
    ifb_sv_draw_x_title(f, fr, c->x_title);
}

int ifb_svg_stacked_bars(FILE *f, const ifb_svg_bar_chart *c, ifb_err *err)
{
    int w = c ? c->width : 0, h = c ? c->height : 0;
    if (check_bars(f, c, &w, &h, err) < 0)
        return -1;
    double lo = 0, hi = 0;
    size_t nvals = 0;
    for (size_t i = 0; i < c->ncat; i++) {
        double pos = 0, neg = 0;
        for (size_t s = 0; s < c->nseries; s++) {
            double v = c->values[i * c->nseries + s];
            if (!isfinite(v))
                continue;
            nvals++;
            if (v >= 0)
                pos += v;
            else
                neg += v;
        }
        ifb_sv_widen(&lo, &hi, pos);
        ifb_sv_widen(&lo, &hi, neg);
    }
    bool rotate;
    ifb_sv_frame fr = bar_frame(c, w, h, lo, hi, &rotate);
    bars_common_open(f, &fr, c, rotate);
    if (c->ncat) {
        double band = (fr.x1 - fr.x0) / (double)c->ncat;
        double bw = band * 0.62;
        fputs("<g class=\"bars\">\n", f);
        for (size_t i = 0; i < c->ncat; i++) {
            double x = fr.x0 + band * (double)i + (band - bw) / 2;
            double pos = 0, neg = 0;
            for (size_t s = 0; s < c->nseries; s++) {
                double v = c->values[i * c->nseries + s];
                if (!isfinite(v))
                    continue;
                if (v >= 0) {
                    bar_rect(f, &fr, c, i, s, x, bw, pos, pos + v, v);
                    pos += v;
                } else {
                    bar_rect(f, &fr, c, i, s, x, bw, neg, neg + v, v);
                    neg += v;
                }
            }
        }
        fputs("</g>\n", f);
    }
    draw_zero_line(f, &fr);
    draw_bar_legend(f, &fr, c, true);
    if (nvals == 0)
        ifb_sv_draw_no_data(f, &fr);
    return ifb_sv_finish(f, err);
}

int ifb_svg_grouped_bars(FILE *f, const ifb_svg_bar_chart *c, ifb_err *err)
{
    int w = c ? c->width : 0, h = c ? c->height : 0;
    if (check_bars(f, c, &w, &h, err) < 0)
        return -1;
    double lo = 0, hi = 0;
    size_t nvals = 0;
    for (size_t i = 0; i < c->ncat * c->nseries; i++)
        if (isfinite(c->values[i])) {
            ifb_sv_widen(&lo, &hi, c->values[i]);
            nvals++;
        }
    bool rotate;
    ifb_sv_frame fr = bar_frame(c, w, h, lo, hi, &rotate);
    bars_common_open(f, &fr, c, rotate);
    if (c->ncat && c->nseries) {
        double band = (fr.x1 - fr.x0) / (double)c->ncat;
        double gw = band * 0.8;
        double bw = gw / (double)c->nseries;
        double gap = bw > 6 ? 1 : 0; /* a hairline between neighbouring bars */
        fputs("<g class=\"bars\">\n", f);
        for (size_t i = 0; i < c->ncat; i++) {
            double x = fr.x0 + band * (double)i + (band - gw) / 2;
            for (size_t s = 0; s < c->nseries; s++) {
                double v = c->values[i * c->nseries + s];
                if (isfinite(v))
                    bar_rect(f, &fr, c, i, s, x + bw * (double)s + gap / 2, bw - gap, 0, v, v);
            }
        }
        fputs("</g>\n", f);
    }
    draw_zero_line(f, &fr);
    draw_bar_legend(f, &fr, c, false);
    if (nvals == 0)
        ifb_sv_draw_no_data(f, &fr);
    return ifb_sv_finish(f, err);
}
