/* Tests for report/svg: every chart is well-formed XML with the documented elements (one
 * series path per non-empty series, one point per finite value, one bar per finite value),
 * text is escaped, equal inputs give equal bytes, NaN/inf never reach the output, and the edge
 * cases (empty, single point, all-equal, negative values, long labels, many series) still give
 * a sane picture with every coordinate on the canvas. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/svg.h"
#include "xml_check.h"

/* ---- helpers ---- */

typedef int (*bar_fn)(FILE *, const ifb_svg_bar_chart *, ifb_err *);

static char *render_line(const ifb_svg_line_chart *c)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    ifb_err err = {{0}};
    int rc = ifb_svg_line(f, c, &err);
    if (rc != 0)
        fail_msg("ifb_svg_line: %s", err.msg);
    char *s = read_all(f, NULL);
    fclose(f);
    assert_non_null(s);
    return s;
}

static char *render_bars(bar_fn fn, const ifb_svg_bar_chart *c)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    ifb_err err = {{0}};
    int rc = fn(f, c, &err);
    if (rc != 0)
        fail_msg("bar chart: %s", err.msg);
    char *s = read_all(f, NULL);
    fclose(f);
    assert_non_null(s);
    return s;
}

static void assert_wellformed(const char *doc)
{
    char msg[256];
    const char *e = xml_check(doc, msg);
    if (e)
        fail_msg("not well-formed: %s\n%s", e, doc);
}

static void assert_no_nonfinite(const char *doc)
{
    assert_int_equal(count_istr(doc, "nan"), 0);
    assert_int_equal(count_istr(doc, "inf"), 0);
}

/* Every numeric coordinate attribute (x, y, cx, cy, x1, y1, x2, y2, width, height) lies on
 * the canvas; catches broken scaling (a zero range, a NaN turned into a huge number). */
static void assert_coords_on_canvas(const char *doc, double w, double h)
{
    static const char *const xs[] = {" x=\"", " cx=\"", " x1=\"", " x2=\"", " width=\""};
    static const char *const ys[] = {" y=\"", " cy=\"", " y1=\"", " y2=\"", " height=\""};
    for (int axis = 0; axis < 2; axis++) {
        const char *const *keys = axis ? ys : xs;
        double lim = axis ? h : w;
        for (int k = 0; k < 5; k++) {
            for (const char *p = strstr(doc, keys[k]); p; p = strstr(p + 1, keys[k])) {
                char *end;
                double v = strtod(p + strlen(keys[k]), &end);
                if (*end != '"')
                    fail_msg("non-numeric %s...", keys[k]);
                if (!(v >= -0.01 && v <= lim + 0.01))
                    fail_msg("%s%g\" is off the %gx%g canvas", keys[k], v, w, h);
            }
        }
    }
}

/* Tick labels of the y axis, in document order, from <text ... class="tick"> inside the
 * "axis y" group. Returns how many were found. */
static int y_ticks(const char *doc, double *vals, int max)
{
    const char *g = strstr(doc, "<g class=\"axis y\"");
    assert_non_null(g);
    const char *gend = strstr(g, "</g>");
    int n = 0;
    for (const char *p = strstr(g, "class=\"tick\">"); p && p < gend && n < max;
         p = strstr(p + 1, "class=\"tick\">"))
        vals[n++] = strtod(p + strlen("class=\"tick\">"), NULL);
    return n;
}

typedef struct bar {
    double x, y, w, h;
} bar;

static int parse_bars(const char *doc, bar *out, int max)
{
    int n = 0;
    for (const char *p = strstr(doc, "<rect class=\"bar\""); p && n < max;
         p = strstr(p + 1, "<rect class=\"bar\"")) {
        bar b;
        if (sscanf(p,
                   "<rect class=\"bar\" data-s=\"%*d\" x=\"%lf\" y=\"%lf\" width=\"%lf\" "
                   "height=\"%lf\"",
                   &b.x, &b.y, &b.w, &b.h) != 4)
            fail_msg("unparsable bar: %.120s", p);
        out[n++] = b;
    }
    return n;
}

/* ---- line chart ---- */

static const double X5[] = {20, 40, 60, 80, 100};

static void test_line_structure(void **state)
{
    (void)state;
    const double roce[] = {1000, 1900, 2700, 3300, 3800};
    const double ib[] = {1010, 1880, NAN, 3250, 3700};
    ifb_svg_series s[] = {
        {.name = "RoCE (CX864E)", .x = X5, .y = roce, .n = 5},
        {.name = "IB (QM9700)", .x = X5, .y = ib, .n = 5},
        {.name = "empty", .x = X5, .y = NULL, .n = 0},
    };
    ifb_svg_marker m[] = {{100, 4200, "+27.5% TGR @100"}, {NAN, 1, "skipped"}};
    ifb_svg_line_chart c = {.title = "TGR vs concurrency",
                            .x_title = "concurrent requests",
                            .y_title = "tokens/s",
                            .series = s,
                            .nseries = 3,
                            .markers = m,
                            .nmarkers = 2,
                            .y_from_zero = true};
    char *doc = render_line(&c);
    assert_wellformed(doc);
    assert_no_nonfinite(doc);
    assert_coords_on_canvas(doc, IFB_SVG_WIDTH, IFB_SVG_HEIGHT);
    assert_int_equal(strncmp(doc, "<svg xmlns=\"http://www.w3.org/2000/svg\"", 39), 0);
    assert_non_null(strstr(doc, "width=\"720\" height=\"420\" viewBox=\"0 0 720 420\""));
    assert_int_equal(count_str(doc, "<path class=\"series\""), 2);
    assert_int_equal(count_str(doc, "class=\"pt\""), 9);
    assert_int_equal(count_str(doc, "<path class=\"marker\""), 1);
    assert_int_equal(count_str(doc, "<g class=\"legend-item\">"), 3);
    assert_int_equal(count_str(doc, "class=\"ref\""), 0);
    assert_non_null(strstr(doc, ">+27.5% TGR @100</text>"));
    assert_null(strstr(doc, "skipped</text>"));
    /* the NaN splits the InfiniBand line into two pieces: two moves in its path */
    const char *ibp =
        strstr(doc, "<path class=\"series\" data-s=\"1\" fill=\"none\" stroke=\"#D55E00\"");
    assert_non_null(ibp);
    const char *d = strstr(ibp, " d=\"");
    const char *dend = strchr(d + 4, '"');
    int moves = 0;
    for (const char *p = d + 4; p < dend; p++)
        moves += *p == 'M';
    assert_int_equal(moves, 2);
    /* y starts at 0 and the ticks are evenly spaced nice numbers up to at least the marker */
    double t[32];
    int nt = y_ticks(doc, t, 32);
    assert_true(nt >= 3);
    assert_true(t[0] == 0);
    assert_true(t[nt - 1] >= 4200);
    for (int i = 2; i < nt; i++)
        assert_true(fabs((t[i] - t[i - 1]) - (t[1] - t[0])) < 1e-9);
    /* the x ticks are the concurrency levels */
    assert_non_null(strstr(doc, "class=\"tick\">20</text>"));
    assert_non_null(strstr(doc, "class=\"tick\">100</text>"));
    free(doc);
}

static void test_line_ratio_markers_and_ref(void **state)
{
    (void)state;
    const double tgr[] = {1.01, 1.0, 0.99, 1.02, 1.01};
    const double p90[] = {0.98, 1.0, 1.01, 0.99, 1.0};
    ifb_svg_series s[] = {{.name = "TGR ratio", .x = X5, .y = tgr, .n = 5},
                          {.name = "P90 ratio", .x = X5, .y = p90, .n = 5}};
    ifb_svg_marker m[] = {{100, 1.275, "+27.5% TGR @100"},
                          {50, 0.796,
                           "\xE2\x88\x92"
                           "20.4% P90 @50"}};
    ifb_svg_line_chart c = {.title = "Ethernet / InfiniBand",
                            .series = s,
                            .nseries = 2,
                            .markers = m,
                            .nmarkers = 2,
                            .has_ref = true,
                            .ref_y = 1.0,
                            .ref_label = "parity"};
    char *doc = render_line(&c);
    assert_wellformed(doc);
    assert_coords_on_canvas(doc, IFB_SVG_WIDTH, IFB_SVG_HEIGHT);
    assert_int_equal(count_str(doc, "<line class=\"ref\""), 1);
    assert_int_equal(count_str(doc, "<path class=\"marker\""), 2);
    assert_non_null(strstr(doc, "\xE2\x88\x92"
                                "20.4% P90 @50</text>"));
    assert_non_null(strstr(doc, "<g class=\"legend-ref\">"));
    assert_non_null(strstr(doc, ">parity</text></g>"));
    double t[32];
    int nt = y_ticks(doc, t, 32);
    assert_true(t[0] <= 0.796 && t[nt - 1] >= 1.275); /* the claims are in range */
    assert_true(t[0] > 0.3);                          /* and 0 is not forced in */
    /* the tick labels print the step's decimals, not float noise */
    assert_null(strstr(doc, "0000001"));
    assert_null(strstr(doc, "9999999"));
    free(doc);
}

static void test_line_deterministic(void **state)
{
    (void)state;
    const double y[] = {0.1, 0.2, 0.30000000000000004, 1e-7, 12345.678};
    ifb_svg_series s[] = {{.name = "a", .x = X5, .y = y, .n = 5}};
    ifb_svg_line_chart c = {.title = "t", .series = s, .nseries = 1};
    char *a = render_line(&c);
    char *b = render_line(&c);
    assert_string_equal(a, b);
    /* a decimal-comma locale must not change the bytes */
    if (setlocale(LC_NUMERIC, "de_DE.UTF-8") || setlocale(LC_NUMERIC, "fr_FR.UTF-8")) {
        char *l = render_line(&c);
        setlocale(LC_NUMERIC, "C");
        assert_string_equal(a, l);
        free(l);
    }
    free(a);
    free(b);
}

static void test_line_escaping(void **state)
{
    (void)state;
    const double y[] = {1, 2};
    ifb_svg_series s[] = {{.name = "a<b & \"c\" 'd'", .x = X5, .y = y, .n = 2},
                          {.name = "bad \xFF\xC0 ctl\x01 ok", .x = X5, .y = y, .n = 2}};
    ifb_svg_marker m[] = {{20, 1, "</text><script>"}};
    ifb_svg_line_chart c = {.title = "T&T <1>",
                            .x_title = "x > y",
                            .y_title = "\"q\"",
                            .series = s,
                            .nseries = 2,
                            .markers = m,
                            .nmarkers = 1};
    char *doc = render_line(&c);
    assert_wellformed(doc);
    assert_non_null(strstr(doc, "a&lt;b &amp; &quot;c&quot; &#39;d&#39;"));
    assert_non_null(strstr(doc, "T&amp;T &lt;1&gt;"));
    assert_non_null(strstr(doc, "bad \xEF\xBF\xBD\xEF\xBF\xBD ctl\xEF\xBF\xBD ok"));
    assert_null(strstr(doc, "<script"));
    free(doc);
}

static void test_line_empty(void **state)
{
    (void)state;
    /* no series at all, an empty series, an all-NaN series: axes and "no data" only */
    const double nan2[] = {NAN, NAN};
    ifb_svg_series s[] = {{.name = "none", .x = X5, .y = NULL, .n = 0},
                          {.name = "nan", .x = X5, .y = nan2, .n = 2}};
    ifb_svg_line_chart c0 = {.title = "empty"};
    ifb_svg_line_chart c1 = {
        .title = "empty", .series = s, .nseries = 2, .has_ref = true, .ref_y = NAN};
    for (int k = 0; k < 2; k++) {
        char *doc = render_line(k ? &c1 : &c0);
        assert_wellformed(doc);
        assert_coords_on_canvas(doc, IFB_SVG_WIDTH, IFB_SVG_HEIGHT);
        assert_int_equal(count_str(doc, "<path class=\"series\""), 0);
        assert_int_equal(count_str(doc, "<circle class=\"pt\""), 0);
        assert_int_equal(count_str(doc, "class=\"ref\""), 0);
        assert_int_equal(count_str(doc, "class=\"no-data\""), 1);
        assert_int_equal(count_str(doc, "<g class=\"legend-item\">"), k ? 2 : 0);
        /* "nan" is a series name here, so look for it only in numbers */
        assert_null(strstr(doc, "=\"nan"));
        assert_null(strstr(doc, "=\"inf"));
        free(doc);
    }
}

static void test_line_single_and_equal(void **state)
{
    (void)state;
    const double one_x[] = {60}, one_y[] = {7.5};
    const double eq[] = {5, 5, 5, 5, 5};
    const double zero[] = {0, 0, 0, 0, 0};
    const double same_x[] = {3, 3, 3, 3, 3};
    ifb_svg_series cases[][1] = {{{.name = "single", .x = one_x, .y = one_y, .n = 1}},
                                 {{.name = "equal", .x = X5, .y = eq, .n = 5}},
                                 {{.name = "zero", .x = X5, .y = zero, .n = 5}},
                                 {{.name = "vertical", .x = same_x, .y = X5, .n = 5}}};
    for (size_t k = 0; k < 4; k++) {
        ifb_svg_line_chart c = {.series = cases[k], .nseries = 1};
        char *doc = render_line(&c);
        assert_wellformed(doc);
        assert_no_nonfinite(doc);
        assert_coords_on_canvas(doc, IFB_SVG_WIDTH, IFB_SVG_HEIGHT);
        assert_int_equal(count_str(doc, "<path class=\"series\""), 1);
        double t[32];
        int nt = y_ticks(doc, t, 32);
        assert_true(nt >= 2);
        assert_true(t[nt - 1] > t[0]); /* a real range */
        double y = cases[k][0].y[0];
        assert_true(t[0] <= y && y <= t[nt - 1]);
        /* points are inside the plot, not on its border */
        const char *pt = strstr(doc, "<circle class=\"pt\" data-s=\"0\" cx=\"");
        double cx, cy;
        assert_int_equal(
            sscanf(pt, "<circle class=\"pt\" data-s=\"0\" cx=\"%lf\" cy=\"%lf\"", &cx, &cy), 2);
        assert_true(cx > 10 && cx < IFB_SVG_WIDTH - 10);
        assert_true(cy > 10 && cy < IFB_SVG_HEIGHT - 10);
        free(doc);
    }
}

static void test_line_negative(void **state)
{
    (void)state;
    const double y[] = {-3.5, -1, 0.5, 2, -0.25};
    const double x[] = {-10, -5, 0, 5, 10};
    ifb_svg_series s[] = {{.name = "neg", .x = x, .y = y, .n = 5}};
    ifb_svg_line_chart c = {.series = s, .nseries = 1, .y_title = "delta"};
    char *doc = render_line(&c);
    assert_wellformed(doc);
    assert_coords_on_canvas(doc, IFB_SVG_WIDTH, IFB_SVG_HEIGHT);
    double t[32];
    int nt = y_ticks(doc, t, 32);
    assert_true(t[0] <= -3.5 && t[nt - 1] >= 2);
    assert_non_null(strstr(doc, "class=\"tick\">-10</text>"));
    assert_null(strstr(doc, ">-0<")); /* zero prints unsigned */
    free(doc);
}

/* Extreme magnitudes must not break the scale (no NaN ticks, no overflowing tick indices). */
static void test_line_extremes(void **state)
{
    (void)state;
    const double x2[] = {0, 1};
    const double cases[][2] = {
        {1e300, -1e300}, {5e-324, 0},      {1e20, 1e20 + 1e5},         {1e15, 1e15 + 0.5},
        {-1e308, 1e308}, {1e-300, 2e-300}, {123.456, 123.456000000001}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        ifb_svg_series s[] = {{.name = "extreme", .x = x2, .y = cases[k], .n = 2}};
        ifb_svg_line_chart c = {
            .series = s, .nseries = 1, .width = 200, .height = 150, .y_title = "a long axis title"};
        char *doc = render_line(&c);
        assert_wellformed(doc);
        assert_no_nonfinite(doc);
        double t[64];
        int nt = y_ticks(doc, t, 64);
        assert_true(nt >= 2 && nt < 64);
        for (int i = 1; i < nt; i++)
            assert_true(t[i] > t[i - 1]);
        free(doc);
    }
}

static void test_line_many_series_and_size(void **state)
{
    (void)state;
    enum { N = 11 };
    double ys[N][5];
    ifb_svg_series s[N];
    char names[N][16];
    for (int i = 0; i < N; i++) {
        for (int k = 0; k < 5; k++)
            ys[i][k] = i * 10 + k;
        snprintf(names[i], sizeof names[i], "series %d", i);
        s[i] = (ifb_svg_series){.name = names[i], .x = X5, .y = ys[i], .n = 5};
    }
    ifb_svg_line_chart c = {.width = 1000, .height = 600, .series = s, .nseries = N};
    char *doc = render_line(&c);
    assert_wellformed(doc);
    assert_coords_on_canvas(doc, 1000, 600);
    assert_non_null(strstr(doc, "width=\"1000\" height=\"600\""));
    assert_int_equal(count_str(doc, "<path class=\"series\""), N);
    assert_int_equal(count_str(doc, "<g class=\"legend-item\">"), N);
    /* series 8.. reuse the palette with dashes, so no two series look the same */
    const char *s8 =
        strstr(doc, "<path class=\"series\" data-s=\"8\" fill=\"none\" stroke=\"#0072B2\"");
    assert_non_null(s8);
    const char *end8 = strchr(s8, '>');
    const char *dash8 = strstr(s8, "stroke-dasharray=\"7 3\"");
    assert_true(dash8 && dash8 < end8);
    assert_string_equal(ifb_svg_color(0), ifb_svg_color(IFB_SVG_NCOLORS));
    free(doc);
}

static void test_line_bad_spec(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    ifb_err err = {{0}};
    ifb_svg_line_chart c = {.nseries = 2};
    assert_int_equal(ifb_svg_line(f, &c, &err), -1);
    assert_non_null(strstr(err.msg, "series"));
    ifb_svg_series s[] = {{.name = "x", .x = NULL, .y = NULL, .n = 3}};
    ifb_svg_line_chart c2 = {.series = s, .nseries = 1};
    assert_int_equal(ifb_svg_line(f, &c2, &err), -1);
    assert_non_null(strstr(err.msg, "series 0"));
    ifb_svg_line_chart c3 = {.width = 50, .height = 50};
    assert_int_equal(ifb_svg_line(f, &c3, &err), -1);
    assert_non_null(strstr(err.msg, "50x50"));
    ifb_svg_line_chart c4 = {.nmarkers = 1};
    assert_int_equal(ifb_svg_line(f, &c4, &err), -1);
    assert_int_equal(ifb_svg_line(NULL, &c3, &err), -1);
    assert_int_equal(ftell(f), 0); /* nothing written on error */
    fclose(f);
}

static void test_xml_escape(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    assert_int_equal(ifb_xml_escape(f, "<a href=\"x\">&'\t\n\x7f \xE2\x88\x92 \xED\xA0\x80</a>"),
                     0);
    assert_int_equal(ifb_xml_escape(f, NULL), 0);
    char *s = read_all(f, NULL);
    assert_string_equal(s, "&lt;a href=&quot;x&quot;&gt;&amp;&#39;\t\n\x7f \xE2\x88\x92 "
                           "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD&lt;/a&gt;");
    free(s);
    fclose(f);
}

/* ---- bar charts ---- */

static const char *const CATS3[] = {"RoCE c=20", "IB c=20", "RoCE c=100"};
static const char *const COMP3[] = {"compute", "exposed comm", "queueing"};

static void test_stacked_structure(void **state)
{
    (void)state;
    const double v[] = {10, 2, 1, /**/ 10, 3, NAN, /**/ 12, 4, 6};
    ifb_svg_bar_chart c = {.title = "Step time",
                           .y_title = "ms",
                           .categories = CATS3,
                           .ncat = 3,
                           .series = COMP3,
                           .nseries = 3,
                           .values = v};
    char *doc = render_bars(ifb_svg_stacked_bars, &c);
    assert_wellformed(doc);
    assert_no_nonfinite(doc);
    assert_coords_on_canvas(doc, IFB_SVG_WIDTH, IFB_SVG_HEIGHT);
    assert_int_equal(count_str(doc, "<rect class=\"bar\""), 8);
    assert_int_equal(count_str(doc, "<g class=\"legend-item\">"), 3);
    assert_int_equal(count_str(doc, "class=\"zero\""), 0);
    assert_non_null(strstr(doc, "<title>IB c=20 / exposed comm: 3</title>"));
    bar b[16];
    int n = parse_bars(doc, b, 16);
    assert_int_equal(n, 8);
    /* category 0: stacked bottom-up, touching, heights proportional to 10:2:1 */
    assert_true(fabs(b[0].y - (b[1].y + b[1].h)) < 0.02);
    assert_true(fabs(b[1].y - (b[2].y + b[2].h)) < 0.02);
    assert_true(fabs(b[0].h / b[2].h - 10) < 0.05);
    assert_true(fabs(b[0].x - b[1].x) < 0.01 && fabs(b[0].w - b[1].w) < 0.01);
    /* category 2 (22 total) is the tallest stack and fits under the top tick */
    double top2 = b[7].y, top0 = b[2].y;
    assert_true(top2 < top0);
    double t[32];
    int nt = y_ticks(doc, t, 32);
    assert_true(t[0] == 0 && t[nt - 1] >= 22);
    /* stacked legends list the top component first */
    assert_true(strstr(doc, ">queueing</text></g>") < strstr(doc, ">compute</text></g>"));
    free(doc);
}

static void test_stacked_negative(void **state)
{
    (void)state;
    const char *const cats[] = {"a", "b"};
    const char *const comps[] = {"gain", "loss"};
    const double v[] = {5, -2, 3, -4};
    ifb_svg_bar_chart c = {
        .categories = cats, .ncat = 2, .series = comps, .nseries = 2, .values = v};
    char *doc = render_bars(ifb_svg_stacked_bars, &c);
    assert_wellformed(doc);
    assert_coords_on_canvas(doc, IFB_SVG_WIDTH, IFB_SVG_HEIGHT);
    assert_int_equal(count_str(doc, "class=\"zero\""), 1);
    double zy;
    const char *z = strstr(doc, "<line class=\"zero\"");
    assert_int_equal(sscanf(z, "<line class=\"zero\" x1=\"%*f\" y1=\"%lf\"", &zy), 1);
    bar b[4];
    assert_int_equal(parse_bars(doc, b, 4), 4);
    assert_true(fabs(b[0].y + b[0].h - zy) < 0.02); /* positive: ends at zero */
    assert_true(fabs(b[1].y - zy) < 0.02);          /* negative: starts at zero */
    assert_true(fabs(b[3].y - zy) < 0.02);
    free(doc);
}

static void test_grouped_structure(void **state)
{
    (void)state;
    const char *const cats[] = {"20", "40", "60", "80"};
    const char *const fabs_[] = {"RoCE", "IB"};
    const double v[] = {0.3, 0.31, 0.5, NAN, -0.2, 0.6, 0, 0.9};
    ifb_svg_bar_chart c = {.title = "Link utilization",
                           .x_title = "concurrency",
                           .categories = cats,
                           .ncat = 4,
                           .series = fabs_,
                           .nseries = 2,
                           .values = v};
    char *doc = render_bars(ifb_svg_grouped_bars, &c);
    assert_wellformed(doc);
    assert_no_nonfinite(doc);
    assert_coords_on_canvas(doc, IFB_SVG_WIDTH, IFB_SVG_HEIGHT);
    assert_int_equal(count_str(doc, "<rect class=\"bar\""), 7);
    assert_int_equal(count_str(doc, "class=\"zero\""), 1);
    bar b[8];
    assert_int_equal(parse_bars(doc, b, 8), 7);
    assert_true(b[1].x > b[0].x);                                  /* side by side */
    assert_true(fabs(b[0].y + b[0].h - (b[1].y + b[1].h)) < 0.02); /* same baseline */
    assert_true(b[5].h < 0.01);                                    /* the 0 value: a flat bar */
    /* legend in input order for grouped bars */
    assert_true(strstr(doc, ">RoCE</text></g>") < strstr(doc, ">IB</text></g>"));
    free(doc);
}

static void test_bars_edge_cases(void **state)
{
    (void)state;
    bar_fn fns[] = {ifb_svg_stacked_bars, ifb_svg_grouped_bars};
    const char *const cats[] = {"x", NULL};
    const char *const ser[] = {"s"};
    const double zeros[] = {0, 0};
    const double nans[] = {NAN, INFINITY};
    const double one[] = {42, NAN};
    for (int k = 0; k < 2; k++) {
        ifb_svg_bar_chart empty = {.title = "nothing"};
        ifb_svg_bar_chart no_series = {.categories = cats, .ncat = 2};
        ifb_svg_bar_chart allzero = {
            .categories = cats, .ncat = 2, .series = ser, .nseries = 1, .values = zeros};
        ifb_svg_bar_chart allnan = {
            .categories = cats, .ncat = 2, .series = ser, .nseries = 1, .values = nans};
        ifb_svg_bar_chart single = {
            .categories = cats, .ncat = 2, .series = ser, .nseries = 1, .values = one};
        const ifb_svg_bar_chart *cs[] = {&empty, &no_series, &allzero, &allnan, &single};
        const int bars[] = {0, 0, 2, 0, 1};
        const int nodata[] = {1, 1, 0, 1, 0};
        for (int i = 0; i < 5; i++) {
            char *doc = render_bars(fns[k], cs[i]);
            assert_wellformed(doc);
            assert_no_nonfinite(doc);
            assert_coords_on_canvas(doc, IFB_SVG_WIDTH, IFB_SVG_HEIGHT);
            assert_int_equal(count_str(doc, "<rect class=\"bar\""), bars[i]);
            assert_int_equal(count_str(doc, "class=\"no-data\""), nodata[i]);
            double t[32];
            int nt = y_ticks(doc, t, 32);
            assert_true(nt >= 2 && t[nt - 1] > t[0]);
            free(doc);
        }
    }
}

static void test_bars_long_labels_rotate(void **state)
{
    (void)state;
    const char *const cats[] = {"attention-DP16 + EP16, concurrency 20",
                                "attention-DP16 + EP16, concurrency 40",
                                "TP16, concurrency 20",
                                "TP16, concurrency 40",
                                "TP16, concurrency 60",
                                "TP16, concurrency 80"};
    const char *const ser[] = {"compute", "comm"};
    const double v[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    ifb_svg_bar_chart c = {.categories = cats, .ncat = 6, .series = ser, .nseries = 2, .values = v};
    char *doc = render_bars(ifb_svg_stacked_bars, &c);
    assert_wellformed(doc);
    assert_coords_on_canvas(doc, IFB_SVG_WIDTH, IFB_SVG_HEIGHT);
    assert_int_equal(count_str(doc, "transform=\"rotate(-35 "), 6);
    free(doc);
    /* short labels stay horizontal */
    const char *const shortc[] = {"20", "40", "60", "80", "100", "120"};
    c.categories = shortc;
    doc = render_bars(ifb_svg_stacked_bars, &c);
    assert_int_equal(count_str(doc, "rotate(-35"), 0);
    free(doc);
}

static void test_bars_deterministic_and_bad(void **state)
{
    (void)state;
    const double v[] = {1.5, 2.25, 3.125, 0.1, 0.2, 0.3, 7, 8, 9};
    ifb_svg_bar_chart c = {
        .categories = CATS3, .ncat = 3, .series = COMP3, .nseries = 3, .values = v};
    char *a = render_bars(ifb_svg_grouped_bars, &c);
    char *b = render_bars(ifb_svg_grouped_bars, &c);
    assert_string_equal(a, b);
    free(a);
    free(b);
    FILE *f = tmpfile();
    ifb_err err = {{0}};
    ifb_svg_bar_chart bad = {.categories = CATS3, .ncat = 3, .series = COMP3, .nseries = 3};
    assert_int_equal(ifb_svg_stacked_bars(f, &bad, &err), -1);
    assert_non_null(strstr(err.msg, "values"));
    ifb_svg_bar_chart bad2 = {.ncat = 3};
    assert_int_equal(ifb_svg_grouped_bars(f, &bad2, &err), -1);
    assert_non_null(strstr(err.msg, "categories"));
    assert_int_equal(ifb_svg_grouped_bars(f, NULL, &err), -1);
    assert_int_equal(ftell(f), 0);
    fclose(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_structure),
        cmocka_unit_test(test_line_ratio_markers_and_ref),
        cmocka_unit_test(test_line_deterministic),
        cmocka_unit_test(test_line_escaping),
        cmocka_unit_test(test_line_empty),
        cmocka_unit_test(test_line_single_and_equal),
        cmocka_unit_test(test_line_negative),
        cmocka_unit_test(test_line_extremes),
        cmocka_unit_test(test_line_many_series_and_size),
        cmocka_unit_test(test_line_bad_spec),
        cmocka_unit_test(test_xml_escape),
        cmocka_unit_test(test_stacked_structure),
        cmocka_unit_test(test_stacked_negative),
        cmocka_unit_test(test_grouped_structure),
        cmocka_unit_test(test_bars_edge_cases),
        cmocka_unit_test(test_bars_long_labels_rotate),
        cmocka_unit_test(test_bars_deterministic_and_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
