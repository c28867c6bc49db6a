/* Deterministic SVG charts (see svg.h). Layout is computed from the canvas size and the
 * character counts of the labels (no font metrics: an average glyph width is assumed), then
 * everything is written with fprintf in a fixed order. Nothing here keeps global state. */
#include "report/svg.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "report/out.h"

/* ---- Small formatting helpers ----------------------------------------------------------- */

/* Okabe & Ito (2008), "Color Universal Design": distinguishable under the common colour-vision
 * deficiencies. Yellow is late because it is faint on white. */
static const char *const palette[IFB_SVG_NCOLORS] = {"#0072B2", "#D55E00", "#009E73", "#E69F00",
                                                     "#CC79A7", "#56B4E9", "#F0E442", "#000000"};
/* Once the colours run out, lines repeat them with these dash patterns. */
static const char *const dashes[] = {NULL, "7 3", "2 3", "9 3 2 3"};

const char *ifb_svg_color(size_t i)
{
    return palette[i % IFB_SVG_NCOLORS];
}

static const char *series_dash(size_t i)
{
    return dashes[(i / IFB_SVG_NCOLORS) % (sizeof dashes / sizeof dashes[0])];
}

static const double FONT = 12.0;   /* px, the base font size */
static const double GLYPH_W = 6.7; /* px, average sans-serif glyph width at FONT */

typedef struct numstr {
    char s[40];
} numstr;

/* Pixel coordinate: two decimals, trailing zeros dropped, never "-0". Huge values are clamped
 * so a wild marker cannot produce an unreadable file. */
static numstr px(double v)
{
    numstr n;
    if (!isfinite(v))
        v = 0;
    if (v > 1e7)
        v = 1e7;
    if (v < -1e7)
        v = -1e7;
    double r = round(v * 100.0) / 100.0;
    if (r == 0)
        r = 0; /* turns -0 into 0 */
    snprintf(n.s, sizeof n.s, "%.2f", r);
    for (char *p = n.s; *p; p++)
        if (*p == ',')
            *p = '.'; /* a locale with a decimal comma */
    char *dot = strchr(n.s, '.');
    if (dot) {
        char *end = n.s + strlen(n.s);
        while (end > dot + 1 && end[-1] == '0')
            *--end = '\0';
        if (end == dot + 1)
            *dot = '\0';
    }
    return n;
}

/* Data value in a tooltip: the shortest round-trip text. */
static numstr val(double v)
{
    numstr n;
    ifb_fmt_double(n.s, v);
    return n;
}

/* Tick label for v on an axis with the given step: at most as many decimals as the step needs
 * and no trailing zeros, so 0.25-steps print "0", "0.25", "0.5" and 20-steps print "20", "40"
 * (never float noise such as 0.30000000000000004). Far outside the range
 * where fixed notation reads well, %g with as many digits as the step needs. */
static numstr tick_label(double v, double step)
{
    numstr n;
    if (fabs(v) < fabs(step) * 1e-9)
        v = 0;
    if (fabs(step) >= 1e-4 && fabs(v) < 1e9) {
        int dec = 0;
        double s = fabs(step);
        while (dec < 6 && fabs(s - round(s)) > 1e-9 * fmax(1.0, s)) {
            s *= 10;
            dec++;
        }
        snprintf(n.s, sizeof n.s, "%.*f", dec, v);
        char *dot = strpbrk(n.s, ".,");
        if (dot) { /* "7.50" -> "7.5", "10.0" -> "10": fewer digits, same value */
            char *end = n.s + strlen(n.s);
            while (end > dot + 1 && end[-1] == '0')
                *--end = '\0';
            if (end == dot + 1)
                *dot = '\0';
        }
    } else {
        /* enough significant digits that neighbouring ticks differ (1e12 + k * 2000) */
        double ratio = fmax(fabs(v), fabs(step)) / fabs(step);
        int sig = (int)ceil(log10(ratio)) + 2;
        snprintf(n.s, sizeof n.s, "%.*g", sig < 3 ? 3 : sig > 17 ? 17 : sig, v);
    }
    for (char *p = n.s; *p; p++)
        if (*p == ',')
            *p = '.';
    if (n.s[0] == '-' && strspn(n.s + 1, "0.") == strlen(n.s + 1))
        memmove(n.s, n.s + 1, strlen(n.s)); /* "-0.00" -> "0.00" */
    return n;
}

/* Decodes one UTF-8 sequence at s (len bytes left). Returns its length and the code point in
 * *cp, or 0 for an invalid sequence (overlong, surrogate, beyond U+10FFFF, truncated). */
static size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t n;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xE0) == 0xC0) {
        n = 2, v = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        n = 3, v = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        n = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (len < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return n;
}

int ifb_xml_escape(FILE *f, const char *s)
{
    if (!s)
        return 0;
    const unsigned char *p = (const unsigned char *)s;
    size_t len = strlen(s);
    size_t i = 0;
    while (i < len) {
        uint32_t cp;
        size_t n = utf8_decode(p + i, len - i, &cp);
        const char *rep = NULL;
        if (n == 0) {
            rep = "\xEF\xBF\xBD"; /* U+FFFD */
            n = 1;
        } else if (cp == '&') {
            rep = "&amp;";
        } else if (cp == '<') {
            rep = "&lt;";
        } else if (cp == '>') {
            rep = "&gt;";
        } else if (cp == '"') {
            rep = "&quot;";
        } else if (cp == '\'') {
            rep = "&#39;";
        } else if ((cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || cp == 0xFFFE ||
                   cp == 0xFFFF) {
            rep = "\xEF\xBF\xBD"; /* not allowed in XML 1.0 */
        }
        if (rep)
            fputs(rep, f);
        else
            fwrite(p + i, 1, n, f);
        i += n;
    }
    return ferror(f) ? -1 : 0;
}

/* Display width estimate of s in pixels at font size `size` (code points x average glyph). */
static double text_w(const char *s, double size)
{
    if (!s)
        return 0;
    size_t count = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p & 0xC0) != 0x80)
            count++;
    return (double)count * GLYPH_W * size / FONT;
}

/* ---- Axes --------------------------------------------------------------------------------- */

typedef struct axis {
    double lo, hi; /* data range shown, a whole number of steps */
    double step;
    long k0, k1; /* ticks at k * step for k0 <= k <= k1 */
} axis;

/* A "nice" step (1, 2, 2.5 or 5 times a power of ten) giving about `target` intervals. */
static double nice_step(double range, int target)
{
    double raw = range / (target > 0 ? target : 1);
    double mag = pow(10.0, floor(log10(raw)));
    double f = raw / mag;
    double nf = f < 1.5 ? 1 : f < 2.25 ? 2 : f < 3.5 ? 2.5 : f < 7.5 ? 5 : 10;
    return nf * mag;
}

/* Axis values are limited to this magnitude: beyond it a chart says nothing anyway, and the
 * limit keeps tick indices (value / step) well inside a long. */
#define AXIS_MAX 1e15

/* Fixes lo < hi, then widens the range to whole steps. A zero or negligible range (a single
 * point, all-equal values, a spread below 1e-9 of the magnitude, which would only show float
 * noise) is padded by 10% of the value, or to 0..1 when everything is 0. */
static axis make_axis(double lo, double hi, int target)
{
    axis a;
    lo = fmin(fmax(lo, -AXIS_MAX), AXIS_MAX);
    hi = fmin(fmax(hi, -AXIS_MAX), AXIS_MAX);
    double mag = fmax(fabs(lo), fabs(hi));
    if (!(hi - lo > 1e-9 * mag && hi - lo > 1e-200)) {
        double mid = lo / 2 + hi / 2;
        if (mag == 0) {
            lo = 0, hi = 1; /* all zero: show 0..1 rather than -1..1 */
        } else {
            double d = fabs(mid) * 0.1;
            if (!(d > 1e-200))
                d = 1; /* denormal-sized values: a unit range */
            lo = mid - d, hi = mid + d;
        }
    }
    a.step = nice_step(hi - lo, target);
    a.k0 = (long)floor(lo / a.step + 1e-9);
    a.k1 = (long)ceil(hi / a.step - 1e-9);
    if (a.k1 <= a.k0)
        a.k1 = a.k0 + 1;
    a.lo = (double)a.k0 * a.step;
    a.hi = (double)a.k1 * a.step;
    return a;
}

/* The plot frame: canvas size, plot rectangle and the two axes mapped onto it. */
typedef struct frame {
    double w, h;
    double x0, x1; /* plot area left/right in px */
    double y0, y1; /* plot area top/bottom in px (y1 > y0) */
    double xin;    /* horizontal inset of data inside the plot area */
    axis xa, ya;
} frame;

static double map_x(const frame *fr, double v)
{
    double a = fr->x0 + fr->xin, b = fr->x1 - fr->xin;
    return a + (v - fr->xa.lo) / (fr->xa.hi - fr->xa.lo) * (b - a);
}

static double map_y(const frame *fr, double v)
{
    return fr->y1 - (v - fr->ya.lo) / (fr->ya.hi - fr->ya.lo) * (fr->y1 - fr->y0);
}

/* Widest y tick label in px, to size the left margin. */
static double ytick_w(const axis *a)
{
    double w = 0;
    for (long k = a->k0; k <= a->k1; k++)
        w = fmax(w, text_w(tick_label((double)k * a->step, a->step).s, FONT));
    return w;
}

static void write_text(FILE *f, double x, double y, const char *anchor, const char *extra,
                       const char *s)
{
    fprintf(f, "<text x=\"%s\" y=\"%s\" text-anchor=\"%s\"%s%s>", px(x).s, px(y).s, anchor,
            extra && *extra ? " " : "", extra ? extra : "");
    ifb_xml_escape(f, s);
    fputs("</text>\n", f);
}

static void svg_open(FILE *f, const frame *fr, const char *title)
{
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%s\" height=\"%s\" "
            "viewBox=\"0 0 %s %s\" font-family=\"sans-serif\" font-size=\"12\" role=\"img\"",
            px(fr->w).s, px(fr->h).s, px(fr->w).s, px(fr->h).s);
    if (title && *title) {
        fputs(" aria-label=\"", f);
        ifb_xml_escape(f, title);
        fputc('"', f);
    }
    fputs(">\n", f);
    fprintf(f, "<rect class=\"bg\" x=\"0\" y=\"0\" width=\"%s\" height=\"%s\" fill=\"#ffffff\"/>\n",
            px(fr->w).s, px(fr->h).s);
    if (title && *title)
        write_text(f, fr->w / 2, 22, "middle", "font-size=\"15\" font-weight=\"bold\"", title);
}

/* Horizontal grid lines with y tick labels, the y axis and its title. */
static void draw_y_axis(FILE *f, const frame *fr, const char *y_title)
{
    const axis *a = &fr->ya;
    fputs("<g class=\"grid\" stroke=\"#e3e3e3\" stroke-width=\"1\">\n", f);
    for (long k = a->k0; k <= a->k1; k++) {
        double y = map_y(fr, (double)k * a->step);
        fprintf(f, "<line x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\"/>\n", px(fr->x0).s, px(y).s,
                px(fr->x1).s, px(y).s);
    }
    fputs("</g>\n<g class=\"axis y\" fill=\"#333333\">\n", f);
    for (long k = a->k0; k <= a->k1; k++) {
        double v = (double)k * a->step;
        double y = map_y(fr, v);
        write_text(f, fr->x0 - 6, y + 4, "end", "class=\"tick\"", tick_label(v, a->step).s);
    }
    fprintf(f, "<line x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" stroke=\"#333333\"/>\n", px(fr->x0).s,
            px(fr->y0).s, px(fr->x0).s, px(fr->y1).s);
    if (y_title && *y_title) {
        double x = 16, y = (fr->y0 + fr->y1) / 2;
        fprintf(f,
                "<text x=\"%s\" y=\"%s\" text-anchor=\"middle\" transform=\"rotate(-90 %s %s)\">",
                px(x).s, px(y).s, px(x).s, px(y).s);
        ifb_xml_escape(f, y_title);
        fputs("</text>\n", f);
    }
    fputs("</g>\n", f);
}

static void draw_x_title(FILE *f, const frame *fr, const char *x_title)
{
    if (x_title && *x_title)
        write_text(f, (fr->x0 + fr->x1) / 2, fr->h - 10, "middle", "class=\"axis-title\"", x_title);
}

static void draw_no_data(FILE *f, const frame *fr)
{
    write_text(f, (fr->x0 + fr->x1) / 2, (fr->y0 + fr->y1) / 2, "middle",
               "class=\"no-data\" fill=\"#777777\" font-size=\"14\"", "no data");
}

/* One legend row (row j, colour of series i) to the right of the plot. kind 0: a line swatch
 * with a point; 1: a filled box. */
static void legend_item(FILE *f, const frame *fr, size_t j, size_t i, const char *name, int kind)
{
    double x = fr->x1 + 16, cy = fr->y0 + 4 + (double)j * 20;
    fputs("<g class=\"legend-item\">", f);
    if (kind == 0) {
        const char *d = series_dash(i);
        fprintf(f,
                "<line x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" stroke=\"%s\" "
                "stroke-width=\"2\"%s%s%s/>",
                px(x).s, px(cy).s, px(x + 22).s, px(cy).s, ifb_svg_color(i),
                d ? " stroke-dasharray=\"" : "", d ? d : "", d ? "\"" : "");
        fprintf(f, "<circle cx=\"%s\" cy=\"%s\" r=\"3.5\" fill=\"%s\"/>", px(x + 11).s, px(cy).s,
                ifb_svg_color(i));
    } else {
        fprintf(f, "<rect x=\"%s\" y=\"%s\" width=\"14\" height=\"14\" fill=\"%s\"/>", px(x + 4).s,
                px(cy - 7).s, ifb_svg_color(i));
    }
    fprintf(f, "<text x=\"%s\" y=\"%s\">", px(x + 28).s, px(cy + 4).s);
    ifb_xml_escape(f, name);
    fputs("</text></g>\n", f);
}

/* Legend width from the widest name: room for the swatch, the text and a margin, but never
 * more than a third of the canvas (longer names run past the edge). */
static double legend_w(double widest, size_t n, double canvas_w)
{
    if (n == 0)
        return 16;
    return fmin(fmax(widest + 28 + 16 + 12, 90), canvas_w * 0.35);
}

static int check_canvas(int *w, int *h, ifb_err *err)
{
    if (*w == 0)
        *w = IFB_SVG_WIDTH;
    if (*h == 0)
        *h = IFB_SVG_HEIGHT;
    if (*w < 200 || *h < 150 || *w > 10000 || *h > 10000)
        return ifb_err_set(err, NULL, 0, "chart size", "200x150 .. 10000x10000 pixels", "%dx%d", *w,
                           *h);
    return 0;
}

static int finish(FILE *f, ifb_err *err)
{
    fputs("</svg>\n", f);
    if (ferror(f))
        return ifb_err_msg(err, "writing SVG chart: output error");
    return 0;
}

/* ---- Line chart --------------------------------------------------------------------------- */

static void widen(double *lo, double *hi, double v)
{
    if (!isfinite(v))
        return;
    if (v < *lo)
        *lo = v;
    if (v > *hi)
        *hi = v;
}

int ifb_svg_line(FILE *f, const ifb_svg_line_chart *c, ifb_err *err)
{
    if (!f || !c)
        return ifb_err_msg(err, "ifb_svg_line: NULL argument");
    int w = c->width, h = c->height;
    if (check_canvas(&w, &h, err) < 0)
        return -1;
    if (c->nseries && !c->series)
        return ifb_err_set(err, NULL, 0, "series", "an array", "NULL with %zu series", c->nseries);
    if (c->nmarkers && !c->markers)
        return ifb_err_set(err, NULL, 0, "markers", "an array", "NULL with %zu markers",
                           c->nmarkers);
    for (size_t i = 0; i < c->nseries; i++)
        if (c->series[i].n && (!c->series[i].x || !c->series[i].y))
            return ifb_err_set(err, NULL, 0, "series x/y", "arrays", "NULL in series %zu ('%s')", i,
                               c->series[i].name ? c->series[i].name : "");

    double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
    size_t npoints = 0;
    for (size_t i = 0; i < c->nseries; i++)
        for (size_t k = 0; k < c->series[i].n; k++) {
            double x = c->series[i].x[k], y = c->series[i].y[k];
            if (isfinite(x) && isfinite(y)) {
                widen(&xlo, &xhi, x);
                widen(&ylo, &yhi, y);
                npoints++;
            }
        }
    for (size_t i = 0; i < c->nmarkers; i++)
        if (isfinite(c->markers[i].x) && isfinite(c->markers[i].y)) {
            widen(&xlo, &xhi, c->markers[i].x);
            widen(&ylo, &yhi, c->markers[i].y);
            npoints++;
        }
    bool ref = c->has_ref && isfinite(c->ref_y);
    bool no_data = npoints == 0;
    if (no_data)
        xlo = xhi = ylo = yhi = 0;
    if (ref)
        widen(&ylo, &yhi, c->ref_y);
    if (c->y_from_zero)
        widen(&ylo, &yhi, 0);

    frame fr = {.w = w, .h = h};
    fr.y0 = c->title && *c->title ? 40 : 16;
    fr.y1 = h - 48.0;
    fr.ya = make_axis(ylo, yhi, (int)fmax(3, (fr.y1 - fr.y0) / 55));
    fr.x0 = (c->y_title && *c->y_title ? 30 : 8) + ytick_w(&fr.ya) + 8;
    double widest = 0;
    for (size_t i = 0; i < c->nseries; i++)
        widest = fmax(widest, text_w(c->series[i].name, FONT));
    bool ref_named = ref && c->ref_label && *c->ref_label;
    if (ref_named)
        widest = fmax(widest, text_w(c->ref_label, FONT));
    fr.x1 = w - legend_w(widest, c->nseries + (ref_named ? 1 : 0), w);
    if (fr.x1 < fr.x0 + 40)
        fr.x1 = fr.x0 + 40; /* a tiny canvas with wide labels: keep a plot at all */
    fr.xin = 10;
    fr.xa = make_axis(xlo, xhi, (int)fmax(2, (fr.x1 - fr.x0) / 90));

    svg_open(f, &fr, c->title);
    draw_y_axis(f, &fr, c->y_title);
    /* x axis: line, ticks, labels */
    fputs("<g class=\"axis x\" fill=\"#333333\">\n", f);
    fprintf(f, "<line x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" stroke=\"#333333\"/>\n", px(fr.x0).s,
            px(fr.y1).s, px(fr.x1).s, px(fr.y1).s);
    for (long k = fr.xa.k0; k <= fr.xa.k1; k++) {
        double v = (double)k * fr.xa.step, x = map_x(&fr, v);
        fprintf(f, "<line x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" stroke=\"#333333\"/>\n", px(x).s,
                px(fr.y1).s, px(x).s, px(fr.y1 + 5).s);
        write_text(f, x, fr.y1 + 18, "middle", "class=\"tick\"", tick_label(v, fr.xa.step).s);
    }
    fputs("</g>\n", f);
    draw_x_title(f, &fr, c->x_title);

    if (ref) {
        double y = map_y(&fr, c->ref_y);
        fprintf(f,
                "<line class=\"ref\" x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" stroke=\"#555555\" "
                "stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>\n",
                px(fr.x0).s, px(y).s, px(fr.x1).s, px(y).s);
    }

    for (size_t i = 0; i < c->nseries; i++) {
        const ifb_svg_series *s = &c->series[i];
        const char *col = ifb_svg_color(i), *d = series_dash(i);
        bool started = false, pen_down = false;
        for (size_t k = 0; k < s->n; k++) {
            if (!(isfinite(s->x[k]) && isfinite(s->y[k]))) {
                pen_down = false; /* a gap in the line */
                continue;
            }
            if (!started) {
                fprintf(f, "<path class=\"series\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"",
                        col);
                if (d)
                    fprintf(f, " stroke-dasharray=\"%s\"", d);
                fputs(" stroke-linejoin=\"round\" d=\"", f);
                started = true;
            } else {
                fputc(' ', f);
            }
            fprintf(f, "%c%s %s", pen_down ? 'L' : 'M', px(map_x(&fr, s->x[k])).s,
                    px(map_y(&fr, s->y[k])).s);
            pen_down = true;
        }
        if (started)
            fputs("\"/>\n", f);
        for (size_t k = 0; k < s->n; k++) {
            if (!(isfinite(s->x[k]) && isfinite(s->y[k])))
                continue;
            fprintf(f, "<circle class=\"pt\" cx=\"%s\" cy=\"%s\" r=\"3.5\" fill=\"%s\"><title>",
                    px(map_x(&fr, s->x[k])).s, px(map_y(&fr, s->y[k])).s, col);
            ifb_xml_escape(f, s->name);
            fprintf(f, ": (%s, %s)</title></circle>\n", val(s->x[k]).s, val(s->y[k]).s);
        }
    }

    double xmid = (fr.x0 + fr.x1) / 2;
    for (size_t i = 0; i < c->nmarkers; i++) {
        const ifb_svg_marker *m = &c->markers[i];
        if (!(isfinite(m->x) && isfinite(m->y)))
            continue;
        double x = map_x(&fr, m->x), y = map_y(&fr, m->y);
        fprintf(f,
                "<path class=\"marker\" d=\"M%s %s L%s %s L%s %s L%s %s Z\" fill=\"#222222\" "
                "stroke=\"#ffffff\" stroke-width=\"1\"><title>",
                px(x).s, px(y - 7).s, px(x + 7).s, px(y).s, px(x).s, px(y + 7).s, px(x - 7).s,
                px(y).s);
        ifb_xml_escape(f, m->label);
        fprintf(f, " (%s, %s)</title></path>\n", val(m->x).s, val(m->y).s);
        if (m->label && *m->label) {
            bool right = x > xmid;
            /* above the marker, unless that would run into the title: then below it */
            double ly = y - 10 < fr.y0 + 10 ? y + 20 : y - 10;
            write_text(f, right ? x - 10 : x + 10, ly, right ? "end" : "start",
                       "class=\"marker-label\" font-weight=\"bold\" fill=\"#222222\" "
                       "stroke=\"#ffffff\" stroke-width=\"3\" paint-order=\"stroke\"",
                       m->label);
        }
    }

    bool ref_entry = ref && c->ref_label && *c->ref_label;
    if (c->nseries || ref_entry) {
        fputs("<g class=\"legend\">\n", f);
        for (size_t i = 0; i < c->nseries; i++)
            legend_item(f, &fr, i, i, c->series[i].name, 0);
        if (ref_entry) {
            /* the reference line is named in the legend, not next to the line: data near
             * the reference (a ratio close to 1) would cover a label there */
            double x = fr.x1 + 16, cy = fr.y0 + 4 + (double)c->nseries * 20;
            fprintf(f,
                    "<g class=\"legend-ref\"><line x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" "
                    "stroke=\"#555555\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>"
                    "<text x=\"%s\" y=\"%s\">",
                    px(x).s, px(cy).s, px(x + 22).s, px(cy).s, px(x + 28).s, px(cy + 4).s);
            ifb_xml_escape(f, c->ref_label);
            fputs("</text></g>\n", f);
        }
        fputs("</g>\n", f);
    }
    if (no_data)
        draw_no_data(f, &fr);
    return finish(f, err);
}

/* ---- Bar charts --------------------------------------------------------------------------- */

static int check_bars(FILE *f, const ifb_svg_bar_chart *c, int *w, int *h, ifb_err *err)
{
    if (!f || !c)
        return ifb_err_msg(err, "bar chart: NULL argument");
    if (check_canvas(w, h, err) < 0)
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
static frame bar_frame(const ifb_svg_bar_chart *c, int w, int h, double lo, double hi, bool *rotate)
{
    frame fr = {.w = w, .h = h};
    fr.y0 = c->title && *c->title ? 40 : 16;
    double widest = 0;
    for (size_t i = 0; i < c->nseries; i++)
        widest = fmax(widest, text_w(c->series[i], FONT));
    fr.x1 = w - legend_w(widest, c->nseries, w);
    double maxlab = 0;
    for (size_t i = 0; i < c->ncat; i++)
        maxlab = fmax(maxlab, text_w(c->categories[i], FONT));
    /* a first estimate of the left margin to decide on rotation; refined below */
    double band = (fr.x1 - 80) / (double)(c->ncat ? c->ncat : 1);
    *rotate = maxlab > band - 6;
    double below = *rotate ? fmin(maxlab * 0.58 + 14, h * 0.3) : 20;
    fr.y1 = h - (below + 30);
    fr.ya = make_axis(lo, hi, (int)fmax(3, (fr.y1 - fr.y0) / 55));
    fr.x0 = (c->y_title && *c->y_title ? 30 : 8) + ytick_w(&fr.ya) + 8;
    if (fr.x1 < fr.x0 + 40)
        fr.x1 = fr.x0 + 40;
    fr.xin = 0;
    return fr;
}

static void draw_categories(FILE *f, const frame *fr, const ifb_svg_bar_chart *c, bool rotate)
{
    double band = (fr->x1 - fr->x0) / (double)c->ncat;
    fputs("<g class=\"axis x\" fill=\"#333333\">\n", f);
    fprintf(f, "<line x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" stroke=\"#333333\"/>\n", px(fr->x0).s,
            px(fr->y1).s, px(fr->x1).s, px(fr->y1).s);
    for (size_t i = 0; i < c->ncat; i++) {
        double x = fr->x0 + band * ((double)i + 0.5);
        if (rotate) {
            double y = fr->y1 + 14;
            fprintf(f,
                    "<text class=\"tick\" x=\"%s\" y=\"%s\" text-anchor=\"end\" "
                    "transform=\"rotate(-35 %s %s)\">",
                    px(x).s, px(y).s, px(x).s, px(y).s);
            ifb_xml_escape(f, c->categories[i]);
            fputs("</text>\n", f);
        } else {
            write_text(f, x, fr->y1 + 18, "middle", "class=\"tick\"", c->categories[i]);
        }
    }
    fputs("</g>\n", f);
}

static void draw_zero_line(FILE *f, const frame *fr)
{
    if (fr->ya.lo < 0 && fr->ya.hi > 0) {
        double y = map_y(fr, 0);
        fprintf(f,
                "<line class=\"zero\" x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" "
                "stroke=\"#333333\"/>\n",
                px(fr->x0).s, px(y).s, px(fr->x1).s, px(y).s);
    }
}

/* The bar of value v = to - from (v passed as given, so the tooltip shows the input). */
static void bar_rect(FILE *f, const frame *fr, const ifb_svg_bar_chart *c, size_t cat, size_t s,
                     double x, double bw, double from, double to, double v)
{
    double ya = map_y(fr, from), yb = map_y(fr, to);
    double top = fmin(ya, yb), hgt = fabs(ya - yb);
    fprintf(f,
            "<rect class=\"bar\" x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\" fill=\"%s\"><title>",
            px(x).s, px(top).s, px(bw).s, px(hgt).s, ifb_svg_color(s));
    ifb_xml_escape(f, c->categories[cat]);
    fputs(" / ", f);
    ifb_xml_escape(f, c->series[s]);
    fprintf(f, ": %s</title></rect>\n", val(v).s);
}

/* Stacked bars list the top component first, so the legend reads like the bars. */
static void draw_bar_legend(FILE *f, const frame *fr, const ifb_svg_bar_chart *c, bool reverse)
{
    if (c->nseries == 0)
        return;
    fputs("<g class=\"legend\">\n", f);
    for (size_t j = 0; j < c->nseries; j++) {
        size_t i = reverse ? c->nseries - 1 - j : j;
        legend_item(f, fr, j, i, c->series[i], 1);
    }
    fputs("</g>\n", f);
}

static void bars_common_open(FILE *f, const frame *fr, const ifb_svg_bar_chart *c, bool rotate)
{
    svg_open(f, fr, c->title);
    draw_y_axis(f, fr, c->y_title);
    if (c->ncat)
        draw_categories(f, fr, c, rotate);
    else
        fprintf(f, "<line x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" stroke=\"#333333\"/>\n",
                px(fr->x0).s, px(fr->y1).s, px(fr->x1).s, px(fr->y1).s);
    draw_x_title(f, fr, c->x_title);
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
        widen(&lo, &hi, pos);
        widen(&lo, &hi, neg);
    }
    bool rotate;
    frame fr = bar_frame(c, w, h, lo, hi, &rotate);
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
        draw_no_data(f, &fr);
    return finish(f, err);
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
            widen(&lo, &hi, c->values[i]);
            nvals++;
        }
    bool rotate;
    frame fr = bar_frame(c, w, h, lo, hi, &rotate);
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
        draw_no_data(f, &fr);
    return finish(f, err);
}
