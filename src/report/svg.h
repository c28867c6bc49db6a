/* Deterministic SVG charts for the reports: a line chart (named x/y series with optional error
 * bars, labelled marker points and a horizontal reference line; a numeric, log2 or categorical
 * x axis), a stacked bar chart, a grouped bar chart and a heat map.
 * Every chart is one self-contained <svg> element (no XML declaration, no scripts, no external
 * fonts or styles), so the same bytes work as a standalone .svg file and inline in report.html.
 * Output is a pure function of the input: pixel coordinates print with two decimals, data values
 * with ifb_fmt_double, tick labels from "nice" steps (1, 2, 2.5, 5 x 10^k), so equal inputs give
 * byte-identical files on any machine and locale.
 * Colours come from the Okabe-Ito colour-blind-safe palette (series 8 and up reuse the colours
 * with a dash pattern); the heat map uses a viridis-like sequential scale.
 * Overlapping series stay visible: series i of n is drawn after series 0..i-1 with a thinner
 * line (3.5 px down to 1.5 px) and a smaller marker (half-size 5 down to 2.5 px) of another
 * shape (circle, square, triangle, diamond in turn), so two series with identical values show
 * as a wide line and marker with a narrower one inside. Every data element carries
 * data-s="SERIES" so a checker can tell which series is visible where.
 * NaN and infinite values are skipped (a gap in a line, a missing bar or cell) and never reach
 * the output; an empty chart still draws its axes with a "no data" note; a single point or
 * all-equal values get a padded range instead of a zero one; axes stop at +-1e15 (larger
 * values are drawn clamped to the canvas edge).
 * Text is escaped for XML; invalid UTF-8 and control characters become U+FFFD.
 * To get a chart as a string, write it to a FILE from open_memstream (POSIX 2008).
 * Left out: logarithmic y axes, time axes, text measurement (label widths are estimated from the
 * character count, so very long labels may overlap), interactivity beyond <title> tooltips. */
#ifndef IFB_SVG_H
#define IFB_SVG_H
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "core/err.h"

/* Default canvas size in pixels (used when a spec leaves width/height at 0). */
#define IFB_SVG_WIDTH 720
#define IFB_SVG_HEIGHT 420
/* Number of palette colours before colours repeat with a dash pattern. */
#define IFB_SVG_NCOLORS 8

/* Colour of series i as "#rrggbb" (Okabe-Ito order: blue, vermillion, bluish green, orange,
 * reddish purple, sky blue, yellow, black), cycling for i >= IFB_SVG_NCOLORS. */
const char *ifb_svg_color(size_t i);

/* Writes s escaped for XML text and attribute values (&amp; &lt; &gt; &quot; &#39;). Invalid
 * UTF-8 sequences and control characters other than tab/LF/CR become U+FFFD. NULL writes
 * nothing. Returns 0, or -1 if the FILE reports an error. */
int ifb_xml_escape(FILE *f, const char *s);

/* ---- Line chart ------------------------------------------------------------------------- */

typedef struct ifb_svg_series {
    const char *name; /* legend text */
    const double *x;  /* n values each; non-finite points are skipped (the line breaks there) */
    const double *y;
    size_t n;
    /* Optional (zero for the defaults): */
    const double *ylo, *yhi; /* n values each: an error bar from ylo to yhi (NULL: none) */
    int color;               /* palette index + 1 (0: by the series index) */
    const char *dash;        /* dash pattern, "" for solid (NULL: solid until colours repeat) */
    int shape;               /* marker shape + 1: 1 circle .. 4 diamond (0: by the index) */
    size_t mark_every;       /* a marker on every k-th point only (0 or 1: on every point) */
    bool step;               /* a step function (a CDF): flat to the next x, then up */
    int group;               /* dodge slot + 1: series sharing a slot share the offset (0:
                                its own slot, the series index) */
} ifb_svg_series;

/* A labelled point drawn on top of the data, e.g. a vendor's claim: {100, 1.275,
 * "+27.5% TGR @100"}. Non-finite coordinates are skipped. */
typedef struct ifb_svg_marker {
    double x, y;
    const char *label; /* may be NULL */
} ifb_svg_marker;

typedef struct ifb_svg_line_chart {
    int width, height;   /* pixels; 0 = IFB_SVG_WIDTH x IFB_SVG_HEIGHT */
    const char *title;   /* drawn above the plot; may be NULL */
    const char *x_title; /* axis titles; may be NULL */
    const char *y_title;
    const ifb_svg_series *series;
    size_t nseries;
    const ifb_svg_marker *markers;
    size_t nmarkers;
    bool has_ref;          /* draw a dashed horizontal line at y = ref_y (e.g. ratio 1.0) */
    double ref_y;          /* ignored when not finite */
    const char *ref_label; /* legend text for the reference line; may be NULL */
    bool y_from_zero;      /* stretch the y range to include 0 (absolute quantities) */
    /* x axis: categorical when x_labels is set (series x values are indices 0..nx_labels-1,
     * one tick per label); else log2 when x_log (values <= 0 are skipped; with x_bytes the
     * ticks read "4 KiB"); else linear. */
    const char *const *x_labels;
    size_t nx_labels;
    bool x_log;
    bool x_bytes;
    double y_max; /* when finite and > 0, the y range stops there (a CDF's 1) */
    /* px between neighbouring dodge slots: a series in slot k of n is drawn shifted by
     * (k - (n-1)/2) x dodge px along x (points, error bars and line), so series with equal
     * values at the same x stand side by side; 0 = none */
    double dodge;
} ifb_svg_line_chart;

/* Structure of the output (what tests and the Chromium check rely on): root <svg> with
 * width/height/viewBox; one <path class="series" data-s="I"> per series that has a finite
 * point; one element of class "pt" (circle, rect or path, by shape) per marked finite point;
 * one <line class="err"> per error bar; one <path class="marker"> per finite marker; one
 * <line class="ref"> when the reference line is drawn (and a <g class="legend-ref"> naming it
 * when ref_label is set); one <g class="legend-item"> per series; x tick labels as <text
 * class="tick"> inside <g class="axis x">.
 * Returns 0, or -1 with err for an invalid spec (NULL arrays with a non-zero count, canvas
 * smaller than 200 x 150 or larger than 10000 x 10000) or a FILE error. An invalid spec writes
 * nothing. */
int ifb_svg_line(FILE *f, const ifb_svg_line_chart *c, ifb_err *err);

/* ---- Bar charts ------------------------------------------------------------------------- */

typedef struct ifb_svg_bar_chart {
    int width, height; /* pixels; 0 = IFB_SVG_WIDTH x IFB_SVG_HEIGHT */
    const char *title; /* may be NULL */
    const char *x_title;
    const char *y_title;
    const char *const *categories; /* ncat names along the x axis (NULL entries print empty) */
    size_t ncat;
    const char *const *series; /* nseries legend names: stacked components or groups */
    size_t nseries;
    const double *values; /* ncat * nseries, row-major: values[cat * nseries + series] */
} ifb_svg_bar_chart;

/* Bars are <rect class="bar" data-s="SERIES">. One bar per category, the series stacked bottom-up
 * in order (e.g. compute, exposed communication, queueing). Negative values stack downwards from 0,
 * separately from positive ones. One <rect class="bar"> per finite value (zero-height for 0), with
 * a <title> tooltip "category / series: value"; one <g class="legend-item"> per series. Errors as
 * ifb_svg_line. */
int ifb_svg_stacked_bars(FILE *f, const ifb_svg_bar_chart *c, ifb_err *err);

/* Per category, the series side by side (e.g. RoCE vs InfiniBand per concurrency). Bars start
 * at 0 and may go negative. Same output elements and errors as ifb_svg_stacked_bars. */
int ifb_svg_grouped_bars(FILE *f, const ifb_svg_bar_chart *c, ifb_err *err);

/* ---- Heat map --------------------------------------------------------------------------- */

typedef struct ifb_svg_heatmap {
    int width, height; /* pixels; 0 = IFB_SVG_WIDTH x IFB_SVG_HEIGHT */
    const char *title;
    const char *x_title;
    const char *value_title; /* the colour bar's legend, e.g. "utilization" */
    const char *const *rows; /* nrows labels, top to bottom */
    size_t nrows;
    const double *edges; /* ncols + 1 increasing x values: column c spans edges[c]..[c+1] */
    size_t ncols;
    const double *values; /* nrows x ncols, row-major; non-finite: no cell */
    double vmin, vmax;    /* colour range; vmax <= vmin: the data's range (0 included) */
} ifb_svg_heatmap;

/* One <rect class="cell"> per run of equal-coloured neighbouring cells in a row (16 colour
 * levels), each with a tooltip; row labels at the left, a numeric x axis below, a colour bar
 * (<g class="colorbar">) at the right. Errors as ifb_svg_line, plus edges not increasing. */
int ifb_svg_heat(FILE *f, const ifb_svg_heatmap *c, ifb_err *err);

#endif
