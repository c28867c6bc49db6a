/* Deterministic SVG charts (see svg.h). Layout is computed from the canvas size and the
 * character counts of the labels (no font metrics: an average glyph width is assumed), then
 * everything is written with fprintf in a fixed order. Nothing here keeps global state. */
#include "report/svg_int.h"

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

/* Pixel coordinate: two decimals, trailing zeros dropped, never "-0". Huge values are clamped
 * so a wild marker cannot produce an unreadable file. */
ifb_sv_num ifb_sv_px(double v)
{
    ifb_sv_num n;
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
ifb_sv_num ifb_sv_val(double v)
{
    ifb_sv_num n;
    ifb_fmt_double(n.s, v);
    return n;
}

/* Tick label for v on an axis with the given step: at most as many decimals as the step needs
 * and no trailing zeros, so 0.25-steps print "0", "0.25", "0.5" and 20-steps print "20", "40"
 * (never float noise such as 0.30000000000000004). Far outside the range
 * where fixed notation reads well, %g with as many digits as the step needs. */
ifb_sv_num ifb_sv_tick_label(double v, double step)
{
    ifb_sv_num n;
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
double ifb_sv_text_w(const char *s, double size)
{
    if (!s)
        return 0;
    size_t count = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p & 0xC0) != 0x80)
            count++;
    return (double)count * IFB_SV_GLYPH_W * size / IFB_SV_FONT;
}

/* ---- Axes --------------------------------------------------------------------------------- */

/* A "nice" step (1, 2, 2.5 or 5 times a power of ten) giving about `target` intervals. */
double ifb_sv_nice_step(double range, int target)
{
    double raw = range / (target > 0 ? target : 1);
    double mag = pow(10.0, floor(log10(raw)));
    double f = raw / mag;
    double nf = f < 1.5 ? 1 : f < 2.25 ? 2 : f < 3.5 ? 2.5 : f < 7.5 ? 5 : 10;
    return nf * mag;
}

/* Fixes lo < hi, then widens the range to whole steps. A zero or negligible range (a single
 * point, all-equal values, a spread below 1e-9 of the magnitude, which would only show float
 * noise) is padded by 10% of the value, or to 0..1 when everything is 0. */
ifb_sv_axis ifb_sv_make_axis(double lo, double hi, int target)
{
    ifb_sv_axis a;
    lo = fmin(fmax(lo, -IFB_SV_AXIS_MAX), IFB_SV_AXIS_MAX);
    hi = fmin(fmax(hi, -IFB_SV_AXIS_MAX), IFB_SV_AXIS_MAX);
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
    a.step = ifb_sv_nice_step(hi - lo, target);
    a.k0 = (long)floor(lo / a.step + 1e-9);
    a.k1 = (long)ceil(hi / a.step - 1e-9);
    if (a.k1 <= a.k0)
        a.k1 = a.k0 + 1;
    a.lo = (double)a.k0 * a.step;
    a.hi = (double)a.k1 * a.step;
    return a;
}

double ifb_sv_map_x(const ifb_sv_frame *fr, double v)
{
    if (fr->xlog)
        v = v > 0 ? log2(v) : fr->xa.lo;
    double a = fr->x0 + fr->xin, b = fr->x1 - fr->xin;
    return a + (v - fr->xa.lo) / (fr->xa.hi - fr->xa.lo) * (b - a);
}

double ifb_sv_map_y(const ifb_sv_frame *fr, double v)
{
    return fr->y1 - (v - fr->ya.lo) / (fr->ya.hi - fr->ya.lo) * (fr->y1 - fr->y0);
}

/* Widest y tick label in px, to size the left margin. */
double ifb_sv_ytick_w(const ifb_sv_axis *a)
{
    double w = 0;
    for (long k = a->k0; k <= a->k1; k++)
        w = fmax(w, ifb_sv_text_w(ifb_sv_tick_label((double)k * a->step, a->step).s, IFB_SV_FONT));
    return w;
}

void ifb_sv_write_text(FILE *f, double x, double y, const char *anchor, const char *extra,
                       const char *s)
{
    fprintf(f, "<text x=\"%s\" y=\"%s\" text-anchor=\"%s\"%s%s>", ifb_sv_px(x).s, ifb_sv_px(y).s,
            anchor, extra && *extra ? " " : "", extra ? extra : "");
    ifb_xml_escape(f, s);
    fputs("</text>\n", f);
}

void ifb_sv_open(FILE *f, const ifb_sv_frame *fr, const char *title)
{
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%s\" height=\"%s\" "
            "viewBox=\"0 0 %s %s\" font-family=\"sans-serif\" font-size=\"12\" role=\"img\"",
            ifb_sv_px(fr->w).s, ifb_sv_px(fr->h).s, ifb_sv_px(fr->w).s, ifb_sv_px(fr->h).s);
    if (title && *title) {
        fputs(" aria-label=\"", f);
        ifb_xml_escape(f, title);
        fputc('"', f);
    }
    fputs(">\n", f);
    fprintf(f, "<rect class=\"bg\" x=\"0\" y=\"0\" width=\"%s\" height=\"%s\" fill=\"#ffffff\"/>\n",
            ifb_sv_px(fr->w).s, ifb_sv_px(fr->h).s);
    if (title && *title)
        ifb_sv_write_text(f, fr->w / 2, 22, "middle", "font-size=\"15\" font-weight=\"bold\"",
                          title);
}

/* Horizontal grid lines with y tick labels, the y axis and its title. */
void ifb_sv_draw_y_axis(FILE *f, const ifb_sv_frame *fr, const char *y_title)
{
    const ifb_sv_axis *a = &fr->ya;
    fputs("<g class=\"grid\" stroke=\"#e3e3e3\" stroke-width=\"1\">\n", f);
    for (long k = a->k0; k <= a->k1; k++) {
        double y = ifb_sv_map_y(fr, (double)k * a->step);
        fprintf(f, "<line x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\"/>\n", ifb_sv_px(fr->x0).s,
                ifb_sv_px(y).s, ifb_sv_px(fr->x1).s, ifb_sv_px(y).s);
    }
    fputs("</g>\n<g class=\"axis y\" fill=\"#333333\">\n", f);
    for (long k = a->k0; k <= a->k1; k++) {
        double v = (double)k * a->step;
        double y = ifb_sv_map_y(fr, v);
        ifb_sv_write_text(f, fr->x0 - 6, y + 4, "end", "class=\"tick\"",
                          ifb_sv_tick_label(v, a->step).s);
    }
    fprintf(f, "<line x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" stroke=\"#333333\"/>\n",
            ifb_sv_px(fr->x0).s, ifb_sv_px(fr->y0).s, ifb_sv_px(fr->x0).s, ifb_sv_px(fr->y1).s);
    if (y_title && *y_title) {
        double x = 16, y = (fr->y0 + fr->y1) / 2;
        fprintf(f,
                "<text x=\"%s\" y=\"%s\" text-anchor=\"middle\" transform=\"rotate(-90 %s %s)\">",
                ifb_sv_px(x).s, ifb_sv_px(y).s, ifb_sv_px(x).s, ifb_sv_px(y).s);
        ifb_xml_escape(f, y_title);
        fputs("</text>\n", f);
    }
    fputs("</g>\n", f);
}

void ifb_sv_draw_x_title(FILE *f, const ifb_sv_frame *fr, const char *x_title)
{
    if (x_title && *x_title)
        ifb_sv_write_text(f, (fr->x0 + fr->x1) / 2, fr->h - 10, "middle", "class=\"axis-title\"",
                          x_title);
}

void ifb_sv_draw_no_data(FILE *f, const ifb_sv_frame *fr)
{
    ifb_sv_write_text(f, (fr->x0 + fr->x1) / 2, (fr->y0 + fr->y1) / 2, "middle",
                      "class=\"no-data\" fill=\"#777777\" font-size=\"14\"", "no data");
}

void ifb_sv_legend_item(FILE *f, const ifb_sv_frame *fr, size_t j, const ifb_sv_style *st,
                        const char *color, const char *name)
{
    double x = fr->x1 + 16, cy = fr->y0 + 4 + (double)j * 20;
    fputs("<g class=\"legend-item\">", f);
    if (st) {
        fprintf(f,
                "<line x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" stroke=\"%s\" "
                "stroke-width=\"%s\"%s%s%s/>",
                ifb_sv_px(x).s, ifb_sv_px(cy).s, ifb_sv_px(x + 22).s, ifb_sv_px(cy).s, st->color,
                ifb_sv_px(st->width).s, st->dash ? " stroke-dasharray=\"" : "",
                st->dash ? st->dash : "", st->dash ? "\"" : "");
        ifb_sv_marker(f, x + 11, cy, st, NULL, NULL);
    } else {
        fprintf(f, "<rect x=\"%s\" y=\"%s\" width=\"14\" height=\"14\" fill=\"%s\"/>",
                ifb_sv_px(x + 4).s, ifb_sv_px(cy - 7).s, color);
    }
    fprintf(f, "<text x=\"%s\" y=\"%s\">", ifb_sv_px(x + 28).s, ifb_sv_px(cy + 4).s);
    ifb_xml_escape(f, name);
    fputs("</text></g>\n", f);
}

/* Series styles: the palette colour (or the caller's), a dash pattern once the colours repeat
 * (or the caller's), and a line width and marker size that shrink with the series index, with
 * the marker shape cycling, so that series drawn later (on top) are thinner and smaller and
 * the earlier ones still show around them where two coincide. */
ifb_sv_style ifb_sv_series_style(const ifb_svg_series *s, size_t i, size_t n)
{
    ifb_sv_style st;
    size_t c = s && s->color ? (size_t)(s->color - 1) : i;
    st.color = ifb_svg_color(c);
    st.dash = s && s->dash ? (*s->dash ? s->dash : NULL) : series_dash(c);
    double t = n > 1 ? (double)i / (double)(n - 1) : 0;
    st.width = 3.5 - 2.0 * t;
    st.r = 5.0 - 2.5 * t;
    st.shape = s && s->shape ? s->shape - 1 : (int)(i % 4);
    return st;
}

void ifb_sv_marker(FILE *f, double x, double y, const ifb_sv_style *st, const char *attrs,
                   const char *title)
{
    const char *a = attrs ? attrs : "", *sp = attrs ? " " : "";
    double r = st->r;
    const char *tag;
    if (st->shape == 1) {
        tag = "rect";
        /* a square of the circle's area would look larger: the same half-size minus a bit */
        double h = r * 0.85;
        fprintf(f, "<rect%s%s x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\" fill=\"%s\"", sp, a,
                ifb_sv_px(x - h).s, ifb_sv_px(y - h).s, ifb_sv_px(2 * h).s, ifb_sv_px(2 * h).s,
                st->color);
    } else if (st->shape == 2 || st->shape == 3) {
        tag = "path";
        if (st->shape == 2)
            fprintf(f, "<path%s%s d=\"M%s %s L%s %s L%s %s Z\" fill=\"%s\"", sp, a, ifb_sv_px(x).s,
                    ifb_sv_px(y - r * 1.1).s, ifb_sv_px(x + r).s, ifb_sv_px(y + r * 0.8).s,
                    ifb_sv_px(x - r).s, ifb_sv_px(y + r * 0.8).s, st->color);
        else
            fprintf(f, "<path%s%s d=\"M%s %s L%s %s L%s %s L%s %s Z\" fill=\"%s\"", sp, a,
                    ifb_sv_px(x).s, ifb_sv_px(y - r * 1.15).s, ifb_sv_px(x + r * 1.15).s,
                    ifb_sv_px(y).s, ifb_sv_px(x).s, ifb_sv_px(y + r * 1.15).s,
                    ifb_sv_px(x - r * 1.15).s, ifb_sv_px(y).s, st->color);
    } else {
        tag = "circle";
        fprintf(f, "<circle%s%s cx=\"%s\" cy=\"%s\" r=\"%s\" fill=\"%s\"", sp, a, ifb_sv_px(x).s,
                ifb_sv_px(y).s, ifb_sv_px(r).s, st->color);
    }
    if (!title) {
        fputs("/>", f);
        return;
    }
    fputs("><title>", f);
    ifb_xml_escape(f, title);
    fprintf(f, "</title></%s>\n", tag);
}

ifb_sv_num ifb_sv_bytes_label(double v)
{
    static const char *const u[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    ifb_sv_num n;
    int k = 0;
    while (k < 5 && fabs(v) >= 1024) {
        v /= 1024;
        k++;
    }
    snprintf(n.s, sizeof n.s, "%g %s", v, u[k]);
    for (char *p = n.s; *p; p++)
        if (*p == ',')
            *p = '.';
    return n;
}

/* Legend width from the widest name: room for the swatch, the text and a margin, but never
 * more than a third of the canvas (longer names run past the edge). */
double ifb_sv_legend_w(double widest, size_t n, double canvas_w)
{
    if (n == 0)
        return 16;
    return fmin(fmax(widest + 28 + 16 + 12, 90), canvas_w * 0.35);
}

int ifb_sv_check_canvas(int *w, int *h, ifb_err *err)
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

int ifb_sv_finish(FILE *f, ifb_err *err)
{
    fputs("</svg>\n", f);
    if (ferror(f))
        return ifb_err_msg(err, "writing SVG chart: output error");
    return 0;
}

void ifb_sv_widen(double *lo, double *hi, double v)
{
    if (!isfinite(v))
        return;
    if (v < *lo)
        *lo = v;
    if (v > *hi)
        *hi = v;
}
