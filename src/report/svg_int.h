/* Internal to the SVG chart writers (svg.c: text, numbers, axes, frame and legend helpers;
 * svg_line.c, svg_bars.c, svg_heat.c: the charts). Not for other modules: report/svg.h is the
 * interface. */
#ifndef IFB_REPORT_SVG_INT_H
#define IFB_REPORT_SVG_INT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "report/svg.h"

#define IFB_SV_FONT 12.0   /* px, the base font size */
#define IFB_SV_GLYPH_W 6.7 /* px, average sans-serif glyph width at IFB_SV_FONT */
/* Axis values are limited to this magnitude: beyond it a chart says nothing anyway, and the
 * limit keeps tick indices (value / step) well inside a long. */
#define IFB_SV_AXIS_MAX 1e15

typedef struct ifb_sv_num {
    char s[40];
} ifb_sv_num;

typedef struct ifb_sv_axis {
    double lo, hi; /* data range shown, a whole number of steps */
    double step;
    long k0, k1; /* ticks at k * step for k0 <= k <= k1 */
} ifb_sv_axis;

/* The plot frame: canvas size, plot rectangle and the two axes mapped onto it. With xlog the x
 * axis maps log2 of the values (xa holds log2 values). */
typedef struct ifb_sv_frame {
    double w, h;
    double x0, x1; /* plot area left/right in px */
    double y0, y1; /* plot area top/bottom in px (y1 > y0) */
    double xin;    /* horizontal inset of data inside the plot area */
    ifb_sv_axis xa, ya;
    bool xlog;
} ifb_sv_frame;

/* How a series is drawn (line charts and their legend). */
typedef struct ifb_sv_style {
    const char *color;
    const char *dash; /* NULL: solid */
    double width;     /* line width, px */
    double r;         /* marker half-size, px */
    int shape;        /* 0 circle, 1 square, 2 triangle, 3 diamond */
} ifb_sv_style;

/* Pixel coordinate: two decimals, trailing zeros dropped, never "-0"; clamped to +-1e7. */
ifb_sv_num ifb_sv_px(double v);
/* Data value in a tooltip: the shortest round-trip text. */
ifb_sv_num ifb_sv_val(double v);
/* Tick label for v on an axis with the given step (no float noise, no trailing zeros). */
ifb_sv_num ifb_sv_tick_label(double v, double step);
/* Display width estimate of s in px at font size `size`. */
double ifb_sv_text_w(const char *s, double size);
double ifb_sv_nice_step(double range, int target);
ifb_sv_axis ifb_sv_make_axis(double lo, double hi, int target);
double ifb_sv_map_x(const ifb_sv_frame *fr, double v);
double ifb_sv_map_y(const ifb_sv_frame *fr, double v);
double ifb_sv_ytick_w(const ifb_sv_axis *a);
void ifb_sv_write_text(FILE *f, double x, double y, const char *anchor, const char *extra,
                       const char *s);
/* <svg ...> with a white background and the title. */
void ifb_sv_open(FILE *f, const ifb_sv_frame *fr, const char *title);
/* Horizontal grid lines with y tick labels, the y axis and its title. */
void ifb_sv_draw_y_axis(FILE *f, const ifb_sv_frame *fr, const char *y_title);
void ifb_sv_draw_x_title(FILE *f, const ifb_sv_frame *fr, const char *x_title);
void ifb_sv_draw_no_data(FILE *f, const ifb_sv_frame *fr);
/* The style of series i of n (see svg.h, "Overlapping series"). */
ifb_sv_style ifb_sv_series_style(const ifb_svg_series *s, size_t i, size_t n);
/* A marker of style st centred at (x, y); attrs (may be NULL) go into the element (class,
 * data-s); with a title the element holds it as a tooltip, else it is self-closed. */
void ifb_sv_marker(FILE *f, double x, double y, const ifb_sv_style *st, const char *attrs,
                   const char *title);
/* One legend row (row j) to the right of the plot: a line swatch with a marker of style st,
 * or (st NULL) a filled box of colour `color`. */
void ifb_sv_legend_item(FILE *f, const ifb_sv_frame *fr, size_t j, const ifb_sv_style *st,
                        const char *color, const char *name);
/* Legend width from the widest name (at most 35% of the canvas). */
double ifb_sv_legend_w(double widest, size_t n, double canvas_w);
/* Applies the default canvas size and checks the limits. */
int ifb_sv_check_canvas(int *w, int *h, ifb_err *err);
/* </svg> and the FILE's error state. */
int ifb_sv_finish(FILE *f, ifb_err *err);
void ifb_sv_widen(double *lo, double *hi, double v);
/* "512 B", "4 KiB", "1 GiB": a power-of-two size for axis labels. */
ifb_sv_num ifb_sv_bytes_label(double v);

#endif
