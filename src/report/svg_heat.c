/* The heat map (see svg.h): rows x columns of cells coloured on 16 levels of a viridis-like
 * scale (perceptually ordered and readable with the common colour-vision deficiencies), equal
 * neighbours in a row merged into one rect so a long series stays small. */
#include <math.h>
#include <string.h>

#include "report/svg_int.h"

#define LEVELS 16

/* Viridis (matplotlib's default sequential map) at 16 evenly spaced points. */
static const char *const VIRIDIS[LEVELS] = {
    "#440154", "#481a6c", "#472f7d", "#414487", "#39568c", "#31688e", "#2a788e", "#23888e",
    "#1f988b", "#22a884", "#35b779", "#54c568", "#7ad151", "#a5db36", "#d2e21b", "#fde725"};

static int level(double v, double lo, double hi)
{
    int k = (int)floor((v - lo) / (hi - lo) * LEVELS);
    return k < 0 ? 0 : k >= LEVELS ? LEVELS - 1 : k;
}

int ifb_svg_heat(FILE *f, const ifb_svg_heatmap *c, ifb_err *err)
{
    if (!f || !c)
        return ifb_err_msg(err, "ifb_svg_heat: NULL argument");
    int w = c->width, h = c->height;
    if (ifb_sv_check_canvas(&w, &h, err) < 0)
        return -1;
    if (c->nrows > 10000 || c->ncols > 100000)
        return ifb_err_set(err, NULL, 0, "heat map size", "at most 10000 x 100000 cells",
                           "%zu x %zu", c->nrows, c->ncols);
    if ((c->nrows && !c->rows) || (c->ncols && (!c->edges || (c->nrows && !c->values))))
        return ifb_err_set(err, NULL, 0, "heat map arrays", "arrays", "NULL with %zu x %zu",
                           c->nrows, c->ncols);
    for (size_t k = 0; c->ncols && k < c->ncols; k++)
        if (!(c->edges[k + 1] > c->edges[k]))
            return ifb_err_set(err, NULL, 0, "heat map edges", "increasing values",
                               "edges[%zu] = %g after %g", k + 1, c->edges[k + 1], c->edges[k]);
    double lo = c->vmin, hi = c->vmax;
    size_t ncells = 0;
    if (!(hi > lo)) {
        lo = 0, hi = 0;
        for (size_t i = 0; i < c->nrows * c->ncols; i++)
            if (isfinite(c->values[i])) {
                ifb_sv_widen(&lo, &hi, c->values[i]);
                ncells++;
            }
        if (!(hi > lo))
            hi = lo + 1;
    } else {
        for (size_t i = 0; i < c->nrows * c->ncols; i++)
            ncells += isfinite(c->values[i]) != 0;
    }
    ifb_sv_frame fr = {.w = w, .h = h};
    fr.y0 = c->title && *c->title ? 40 : 16;
    fr.y1 = h - 48.0;
    double widest = 0;
    for (size_t r = 0; r < c->nrows; r++)
        widest = fmax(widest, ifb_sv_text_w(c->rows[r], 11));
    fr.x0 = fmin(widest + 14, w * 0.3);
    fr.x1 = w - 90;
    if (fr.x1 < fr.x0 + 40)
        fr.x1 = fr.x0 + 40;
    fr.xin = 0;
    double t0 = c->ncols ? c->edges[0] : 0, t1 = c->ncols ? c->edges[c->ncols] : 1;
    fr.xa = ifb_sv_make_axis(t0, t1, (int)fmax(2, (fr.x1 - fr.x0) / 90));
    /* the cells span exactly the data: the axis maps t0..t1 onto the plot */
    fr.xa.lo = t0;
    fr.xa.hi = t1 > t0 ? t1 : t0 + 1;
    ifb_sv_open(f, &fr, c->title);
    double rh = c->nrows ? (fr.y1 - fr.y0) / (double)c->nrows : 0;
    fputs("<g class=\"rows\" fill=\"#333333\" font-size=\"11\">\n", f);
    for (size_t r = 0; r < c->nrows && rh >= 6; r++)
        ifb_sv_write_text(f, fr.x0 - 6, fr.y0 + rh * ((double)r + 0.5) + 4, "end", "class=\"row\"",
                          c->rows[r]);
    fputs("</g>\n<g class=\"cells\">\n", f);
    for (size_t r = 0; r < c->nrows; r++) {
        const double *row = c->values + r * c->ncols;
        for (size_t k = 0; k < c->ncols;) {
            if (!isfinite(row[k])) {
                k++;
                continue;
            }
            int lv = level(row[k], lo, hi);
            size_t e = k + 1;
            double sum = row[k];
            while (e < c->ncols && isfinite(row[e]) && level(row[e], lo, hi) == lv)
                sum += row[e++];
            double xa = ifb_sv_map_x(&fr, c->edges[k]), xb = ifb_sv_map_x(&fr, c->edges[e]);
            fprintf(f,
                    "<rect class=\"cell\" data-s=\"0\" x=\"%s\" y=\"%s\" width=\"%s\" "
                    "height=\"%s\" fill=\"%s\"><title>",
                    ifb_sv_px(xa).s, ifb_sv_px(fr.y0 + rh * (double)r).s, ifb_sv_px(xb - xa).s,
                    ifb_sv_px(rh).s, VIRIDIS[lv]);
            ifb_xml_escape(f, c->rows[r]);
            fprintf(f, ", %s to %s: %s</title></rect>\n", ifb_sv_val(c->edges[k]).s,
                    ifb_sv_val(c->edges[e]).s, ifb_sv_val(sum / (double)(e - k)).s);
            k = e;
        }
    }
    fputs("</g>\n<g class=\"axis x\" fill=\"#333333\">\n", f);
    fprintf(f, "<line x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" stroke=\"#333333\"/>\n",
            ifb_sv_px(fr.x0).s, ifb_sv_px(fr.y1).s, ifb_sv_px(fr.x1).s, ifb_sv_px(fr.y1).s);
    for (long k = fr.xa.k0; k <= fr.xa.k1; k++) {
        double v = (double)k * fr.xa.step;
        if (v < fr.xa.lo - 1e-9 * fabs(fr.xa.step) || v > fr.xa.hi + 1e-9 * fabs(fr.xa.step))
            continue;
        double x = ifb_sv_map_x(&fr, v);
        fprintf(f, "<line x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" stroke=\"#333333\"/>\n",
                ifb_sv_px(x).s, ifb_sv_px(fr.y1).s, ifb_sv_px(x).s, ifb_sv_px(fr.y1 + 5).s);
        ifb_sv_write_text(f, x, fr.y1 + 18, "middle", "class=\"tick\"",
                          ifb_sv_tick_label(v, fr.xa.step).s);
    }
    fputs("</g>\n", f);
    ifb_sv_draw_x_title(f, &fr, c->x_title);
    /* the colour bar: LEVELS boxes bottom-up, the range's ends and middle labelled */
    double bx = fr.x1 + 16, bh = (fr.y1 - fr.y0) / LEVELS;
    fputs("<g class=\"colorbar\" fill=\"#333333\">\n", f);
    for (int k = 0; k < LEVELS; k++)
        fprintf(f, "<rect x=\"%s\" y=\"%s\" width=\"14\" height=\"%s\" fill=\"%s\"/>\n",
                ifb_sv_px(bx).s, ifb_sv_px(fr.y1 - bh * (k + 1)).s, ifb_sv_px(bh + 0.5).s,
                VIRIDIS[k]);
    double step = ifb_sv_nice_step(hi - lo, 4);
    ifb_sv_write_text(f, bx + 18, fr.y1 + 4, "start", NULL, ifb_sv_tick_label(lo, step).s);
    ifb_sv_write_text(f, bx + 18, (fr.y0 + fr.y1) / 2 + 4, "start", NULL,
                      ifb_sv_tick_label((lo + hi) / 2, step / 2).s);
    ifb_sv_write_text(f, bx + 18, fr.y0 + 4, "start", NULL, ifb_sv_tick_label(hi, step).s);
    if (c->value_title && *c->value_title)
        ifb_sv_write_text(f, bx, fr.y0 - 8, "start", "font-size=\"11\"", c->value_title);
    fputs("</g>\n", f);
    if (!ncells)
        ifb_sv_draw_no_data(f, &fr);
    return ifb_sv_finish(f, err);
}
