/* The line chart (see svg.h): numeric, log2 or categorical x axis, series with shrinking
 * widths and markers so coinciding series stay visible, optional error bars, labelled markers
 * and a reference line. */
#include <math.h>
#include <string.h>

#include "report/svg_int.h"

/* x of point k of series s as drawn: its value, or NaN when it cannot be drawn (not finite,
 * not positive on a log axis, not a category index on a categorical axis). */
static double xval(const ifb_svg_line_chart *c, const ifb_svg_series *s, size_t k)
{
    double x = s->x[k];
    if (!isfinite(x) || !isfinite(s->y[k]))
        return NAN;
    if (c->x_labels && (x < 0 || x > (double)c->nx_labels - 1 || x != floor(x)))
        return NAN;
    if (!c->x_labels && c->x_log && !(x > 0))
        return NAN;
    return x;
}

/* Dodge slot of series i, and the number of slots. */
static size_t slot_of(const ifb_svg_line_chart *c, size_t i)
{
    return c->series[i].group > 0 ? (size_t)(c->series[i].group - 1) : i;
}

static size_t nslots(const ifb_svg_line_chart *c)
{
    size_t n = 0;
    for (size_t i = 0; i < c->nseries; i++)
        n = slot_of(c, i) + 1 > n ? slot_of(c, i) + 1 : n;
    return n;
}

/* How far the outermost dodged series sits from its x, px. */
static double dodge_half(const ifb_svg_line_chart *c)
{
    size_t n = nslots(c);
    return c->dodge > 0 && n > 1 ? (double)(n - 1) / 2 * c->dodge : 0;
}

/* The x axis: line, ticks and labels (rotated when categories do not fit their band). */
static void draw_x_axis(FILE *f, const ifb_sv_frame *fr, const ifb_svg_line_chart *c)
{
    fputs("<g class=\"axis x\" fill=\"#333333\">\n", f);
    fprintf(f, "<line x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" stroke=\"#333333\"/>\n",
            ifb_sv_px(fr->x0).s, ifb_sv_px(fr->y1).s, ifb_sv_px(fr->x1).s, ifb_sv_px(fr->y1).s);
    double band = c->x_labels && c->nx_labels ? (fr->x1 - fr->x0) / (double)c->nx_labels : 0;
    double widest = 0;
    for (size_t i = 0; c->x_labels && i < c->nx_labels; i++)
        widest = fmax(widest, ifb_sv_text_w(c->x_labels[i], IFB_SV_FONT));
    bool rotate = c->x_labels && widest > band - 6;
    for (long k = fr->xa.k0; k <= fr->xa.k1; k++) {
        double v = (double)k * fr->xa.step;
        ifb_sv_num lab;
        if (c->x_labels) {
            if (v < 0 || v > (double)c->nx_labels - 1 || v != floor(v))
                continue;
            snprintf(lab.s, sizeof lab.s, "%s", "");
        } else if (fr->xlog) {
            double p = exp2(v);
            lab = c->x_bytes ? ifb_sv_bytes_label(p) : ifb_sv_tick_label(p, p);
        } else {
            lab = ifb_sv_tick_label(v, fr->xa.step);
        }
        double x = ifb_sv_map_x(fr, fr->xlog ? exp2(v) : v);
        fprintf(f, "<line x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" stroke=\"#333333\"/>\n",
                ifb_sv_px(x).s, ifb_sv_px(fr->y1).s, ifb_sv_px(x).s, ifb_sv_px(fr->y1 + 5).s);
        const char *text = c->x_labels ? c->x_labels[(size_t)v] : lab.s;
        if (rotate) {
            double y = fr->y1 + 14;
            fprintf(f,
                    "<text class=\"tick\" x=\"%s\" y=\"%s\" text-anchor=\"end\" "
                    "transform=\"rotate(-35 %s %s)\">",
                    ifb_sv_px(x).s, ifb_sv_px(y).s, ifb_sv_px(x).s, ifb_sv_px(y).s);
            ifb_xml_escape(f, text);
            fputs("</text>\n", f);
        } else {
            ifb_sv_write_text(f, x, fr->y1 + 18, "middle", "class=\"tick\"", text);
        }
    }
    fputs("</g>\n", f);
}

static void draw_series(FILE *f, const ifb_sv_frame *fr, const ifb_svg_line_chart *c, size_t i)
{
    const ifb_svg_series *s = &c->series[i];
    ifb_sv_style st = ifb_sv_series_style(s, i, c->nseries);
    double off =
        c->dodge > 0 ? ((double)slot_of(c, i) - (double)(nslots(c) - 1) / 2) * c->dodge : 0;
    bool started = false, pen_down = false;
    for (size_t k = 0; k < s->n; k++) {
        double x = xval(c, s, k);
        if (isnan(x)) {
            pen_down = false; /* a gap in the line */
            continue;
        }
        if (!started) {
            fprintf(f,
                    "<path class=\"series\" data-s=\"%zu\" fill=\"none\" stroke=\"%s\" "
                    "stroke-width=\"%s\"",
                    i, st.color, ifb_sv_px(st.width).s);
            if (st.dash)
                fprintf(f, " stroke-dasharray=\"%s\"", st.dash);
            fputs(" stroke-linejoin=\"round\" d=\"", f);
            started = true;
        } else {
            fputc(' ', f);
        }
        double px = ifb_sv_map_x(fr, x) + off, py = ifb_sv_map_y(fr, s->y[k]);
        if (s->step && pen_down) /* along at the previous height, then up */
            fprintf(f, "H%s ", ifb_sv_px(px).s);
        fprintf(f, "%c%s %s", pen_down ? 'L' : 'M', ifb_sv_px(px).s, ifb_sv_px(py).s);
        pen_down = true;
    }
    if (started)
        fputs("\"/>\n", f);
    for (size_t k = 0; s->ylo && s->yhi && k < s->n; k++) {
        double x = xval(c, s, k);
        if (isnan(x) || !isfinite(s->ylo[k]) || !isfinite(s->yhi[k]))
            continue;
        double px = ifb_sv_map_x(fr, x) + off, a = ifb_sv_map_y(fr, s->ylo[k]);
        double b = ifb_sv_map_y(fr, s->yhi[k]);
        fprintf(f,
                "<path class=\"err\" data-s=\"%zu\" d=\"M%s %s L%s %s M%s %s L%s %s M%s %s L%s "
                "%s\" stroke=\"%s\" stroke-width=\"1.2\" fill=\"none\"/>\n",
                i, ifb_sv_px(px).s, ifb_sv_px(a).s, ifb_sv_px(px).s, ifb_sv_px(b).s,
                ifb_sv_px(px - 4).s, ifb_sv_px(a).s, ifb_sv_px(px + 4).s, ifb_sv_px(a).s,
                ifb_sv_px(px - 4).s, ifb_sv_px(b).s, ifb_sv_px(px + 4).s, ifb_sv_px(b).s, st.color);
    }
    size_t every = s->mark_every > 1 ? s->mark_every : 1;
    char attrs[48];
    snprintf(attrs, sizeof attrs, "class=\"pt\" data-s=\"%zu\"", i);
    for (size_t k = 0; k < s->n; k++) {
        double x = xval(c, s, k);
        if (isnan(x) || (k % every && k != s->n - 1))
            continue;
        char title[256];
        const char *xs = c->x_labels ? c->x_labels[(size_t)x] : NULL;
        snprintf(title, sizeof title, "%s: (%s, %s)", s->name ? s->name : "",
                 xs ? xs : ifb_sv_val(x).s, ifb_sv_val(s->y[k]).s);
        ifb_sv_marker(f, ifb_sv_map_x(fr, x) + off, ifb_sv_map_y(fr, s->y[k]), &st, attrs, title);
    }
}

static void draw_markers(FILE *f, const ifb_sv_frame *fr, const ifb_svg_line_chart *c)
{
    double xmid = (fr->x0 + fr->x1) / 2;
    for (size_t i = 0; i < c->nmarkers; i++) {
        const ifb_svg_marker *m = &c->markers[i];
        if (!(isfinite(m->x) && isfinite(m->y)) || (fr->xlog && !(m->x > 0)))
            continue;
        double x = ifb_sv_map_x(fr, m->x), y = ifb_sv_map_y(fr, m->y);
        fprintf(f,
                "<path class=\"marker\" d=\"M%s %s L%s %s L%s %s L%s %s Z\" fill=\"#222222\" "
                "stroke=\"#ffffff\" stroke-width=\"1\"><title>",
                ifb_sv_px(x).s, ifb_sv_px(y - 7).s, ifb_sv_px(x + 7).s, ifb_sv_px(y).s,
                ifb_sv_px(x).s, ifb_sv_px(y + 7).s, ifb_sv_px(x - 7).s, ifb_sv_px(y).s);
        ifb_xml_escape(f, m->label);
        fprintf(f, " (%s, %s)</title></path>\n", ifb_sv_val(m->x).s, ifb_sv_val(m->y).s);
        if (m->label && *m->label) {
            bool right = x > xmid;
            /* above the marker, unless that would run into the title: then below it */
            double ly = y - 10 < fr->y0 + 10 ? y + 20 : y - 10;
            ifb_sv_write_text(f, right ? x - 10 : x + 10, ly, right ? "end" : "start",
                              "class=\"marker-label\" font-weight=\"bold\" fill=\"#222222\" "
                              "stroke=\"#ffffff\" stroke-width=\"3\" paint-order=\"stroke\"",
                              m->label);
        }
    }
}

int ifb_svg_line(FILE *f, const ifb_svg_line_chart *c, ifb_err *err)
{
    if (!f || !c)
        return ifb_err_msg(err, "ifb_svg_line: NULL argument");
    int w = c->width, h = c->height;
    if (ifb_sv_check_canvas(&w, &h, err) < 0)
        return -1;
    if (c->nseries && !c->series)
        return ifb_err_set(err, NULL, 0, "series", "an array", "NULL with %zu series", c->nseries);
    if (c->nmarkers && !c->markers)
        return ifb_err_set(err, NULL, 0, "markers", "an array", "NULL with %zu markers",
                           c->nmarkers);
    if (!(c->dodge >= 0 && c->dodge <= 50))
        return ifb_err_set(err, NULL, 0, "dodge", "0 to 50 px", "%g", c->dodge);
    for (size_t i = 0; i < c->nseries; i++)
        if (c->series[i].group < 0 || (size_t)c->series[i].group > c->nseries)
            return ifb_err_set(err, NULL, 0, "series group", "0 to the number of series",
                               "%d in series %zu", c->series[i].group, i);
    if (c->nx_labels > 100000)
        return ifb_err_set(err, NULL, 0, "x_labels", "at most 100000 categories", "%zu",
                           c->nx_labels);
    for (size_t i = 0; i < c->nseries; i++)
        if (c->series[i].n && (!c->series[i].x || !c->series[i].y))
            return ifb_err_set(err, NULL, 0, "series x/y", "arrays", "NULL in series %zu ('%s')", i,
                               c->series[i].name ? c->series[i].name : "");
    bool xlog = !c->x_labels && c->x_log;
    double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
    size_t npoints = 0;
    for (size_t i = 0; i < c->nseries; i++) {
        const ifb_svg_series *s = &c->series[i];
        for (size_t k = 0; k < s->n; k++) {
            double x = xval(c, s, k);
            if (isnan(x))
                continue;
            ifb_sv_widen(&xlo, &xhi, xlog ? log2(x) : x);
            ifb_sv_widen(&ylo, &yhi, s->y[k]);
            if (s->ylo && s->yhi) {
                ifb_sv_widen(&ylo, &yhi, s->ylo[k]);
                ifb_sv_widen(&ylo, &yhi, s->yhi[k]);
            }
            npoints++;
        }
    }
    for (size_t i = 0; i < c->nmarkers; i++)
        if (isfinite(c->markers[i].x) && isfinite(c->markers[i].y) &&
            (!xlog || c->markers[i].x > 0)) {
            ifb_sv_widen(&xlo, &xhi, xlog ? log2(c->markers[i].x) : c->markers[i].x);
            ifb_sv_widen(&ylo, &yhi, c->markers[i].y);
            npoints++;
        }
    bool ref = c->has_ref && isfinite(c->ref_y);
    bool no_data = npoints == 0;
    if (no_data)
        xlo = xhi = ylo = yhi = 0;
    if (ref)
        ifb_sv_widen(&ylo, &yhi, c->ref_y);
    if (c->y_from_zero)
        ifb_sv_widen(&ylo, &yhi, 0);
    if (isfinite(c->y_max) && c->y_max > 0 && yhi > c->y_max && ylo < c->y_max)
        yhi = c->y_max;
    if (c->x_labels && c->nx_labels) { /* every category, whether or not it has data */
        xlo = 0;
        xhi = (double)c->nx_labels - 1;
    }

    ifb_sv_frame fr = {.w = w, .h = h, .xlog = xlog};
    fr.y0 = c->title && *c->title ? 40 : 16;
    fr.y1 = h - 48.0;
    double widest_cat = 0;
    for (size_t i = 0; c->x_labels && i < c->nx_labels; i++)
        widest_cat = fmax(widest_cat, ifb_sv_text_w(c->x_labels[i], IFB_SV_FONT));
    fr.ya = ifb_sv_make_axis(ylo, yhi, (int)fmax(3, (fr.y1 - fr.y0) / 55));
    fr.x0 = (c->y_title && *c->y_title ? 30 : 8) + ifb_sv_ytick_w(&fr.ya) + 8;
    double widest = 0;
    for (size_t i = 0; i < c->nseries; i++)
        widest = fmax(widest, ifb_sv_text_w(c->series[i].name, IFB_SV_FONT));
    bool ref_named = ref && c->ref_label && *c->ref_label;
    if (ref_named)
        widest = fmax(widest, ifb_sv_text_w(c->ref_label, IFB_SV_FONT));
    fr.x1 = w - ifb_sv_legend_w(widest, c->nseries + (ref_named ? 1 : 0), w);
    if (fr.x1 < fr.x0 + 40)
        fr.x1 = fr.x0 + 40; /* a tiny canvas with wide labels: keep a plot at all */
    if (c->x_labels && c->nx_labels) {
        /* categories: one tick each, in the middle of its band */
        double band = (fr.x1 - fr.x0) / (double)c->nx_labels;
        if (widest_cat > band - 6) { /* rotated labels need room below */
            fr.y1 = h - (fmin(widest_cat * 0.58 + 14, h * 0.3) + 30);
            fr.ya = ifb_sv_make_axis(ylo, yhi, (int)fmax(3, (fr.y1 - fr.y0) / 55));
        }
        (void)band;
        fr.xin = 0;
        fr.xa = (ifb_sv_axis){.lo = -0.5,
                              .hi = (double)c->nx_labels - 0.5,
                              .step = 1,
                              .k0 = 0,
                              .k1 = (long)c->nx_labels - 1};
        fr.xin = fmax(fr.xin, dodge_half(c));
    } else if (xlog) {
        /* whole powers of two, every k-th so that about 8 ticks show */
        double a = floor(xlo), b = ceil(xhi);
        if (b <= a)
            a -= 1, b += 1;
        double k = ceil((b - a) / 8);
        a = floor(a / k) * k;
        b = ceil(b / k) * k;
        fr.xin = 10;
        fr.xa =
            (ifb_sv_axis){.lo = a, .hi = b, .step = k, .k0 = (long)(a / k), .k1 = (long)(b / k)};
    } else {
        fr.xin = 10 + dodge_half(c);
        fr.xa = ifb_sv_make_axis(xlo, xhi, (int)fmax(2, (fr.x1 - fr.x0) / 90));
    }

    ifb_sv_open(f, &fr, c->title);
    ifb_sv_draw_y_axis(f, &fr, c->y_title);
    draw_x_axis(f, &fr, c);
    ifb_sv_draw_x_title(f, &fr, c->x_title);
    if (ref) {
        double y = ifb_sv_map_y(&fr, c->ref_y);
        fprintf(f,
                "<line class=\"ref\" x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" stroke=\"#555555\" "
                "stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>\n",
                ifb_sv_px(fr.x0).s, ifb_sv_px(y).s, ifb_sv_px(fr.x1).s, ifb_sv_px(y).s);
    }
    for (size_t i = 0; i < c->nseries; i++)
        draw_series(f, &fr, c, i);
    draw_markers(f, &fr, c);

    if (c->nseries || ref_named) {
        fputs("<g class=\"legend\">\n", f);
        for (size_t i = 0; i < c->nseries; i++) {
            ifb_sv_style st = ifb_sv_series_style(&c->series[i], i, c->nseries);
            ifb_sv_legend_item(f, &fr, i, &st, NULL, c->series[i].name);
        }
        if (ref_named) {
            /* the reference line is named in the legend, not next to the line: data near
             * the reference (a ratio close to 1) would cover a label there */
            double x = fr.x1 + 16, cy = fr.y0 + 4 + (double)c->nseries * 20;
            fprintf(f,
                    "<g class=\"legend-ref\"><line x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" "
                    "stroke=\"#555555\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>"
                    "<text x=\"%s\" y=\"%s\">",
                    ifb_sv_px(x).s, ifb_sv_px(cy).s, ifb_sv_px(x + 22).s, ifb_sv_px(cy).s,
                    ifb_sv_px(x + 28).s, ifb_sv_px(cy + 4).s);
            ifb_xml_escape(f, c->ref_label);
            fputs("</text></g>\n", f);
        }
        fputs("</g>\n", f);
    }
    if (no_data)
        ifb_sv_draw_no_data(f, &fr);
    return ifb_sv_finish(f, err);
}
