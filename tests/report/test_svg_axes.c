/* The chart features the report needs beyond plain lines and bars (report/svg.h): coinciding
 * series stay visible (shrinking widths and markers of other shapes), categorical x axes show
 * the swept values as labels, log2 axes with size labels for message sizes, error bars, step
 * functions for CDFs, and the heat map (merged cells, colour bar, refused bad input). Each
 * assertion is about a property the old charts lacked (the RoCE line hidden exactly under the
 * InfiniBand one, ticks 0..1 for a categorical sweep). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/svg.h"
#include "xml_check.h"

static char *render(int (*fn)(FILE *, const void *, ifb_err *), const void *c)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    ifb_err err = {{0}};
    if (fn(f, c, &err))
        fail_msg("chart: %s", err.msg);
    char *s = read_all(f, NULL);
    fclose(f);
    assert_non_null(s);
    char msg[256];
    const char *bad = xml_check(s, msg);
    if (bad)
        fail_msg("not well-formed: %s", bad);
    return s;
}

static int line_fn(FILE *f, const void *c, ifb_err *e)
{
    return ifb_svg_line(f, c, e);
}

static int heat_fn(FILE *f, const void *c, ifb_err *e)
{
    return ifb_svg_heat(f, c, e);
}

/* The value of attribute `name` in the element starting at p. */
static double attr(const char *p, const char *name)
{
    char key[32];
    snprintf(key, sizeof key, " %s=\"", name);
    const char *end = strchr(p, '>');
    const char *a = strstr(p, key);
    assert_true(a && a < end);
    return strtod(a + strlen(key), NULL);
}

static const char *element_of_series(const char *doc, const char *cls, int s)
{
    char key[64];
    snprintf(key, sizeof key, "class=\"%s\" data-s=\"%d\"", cls, s);
    const char *p = strstr(doc, key);
    assert_non_null(p);
    while (p > doc && *p != '<')
        p--;
    return p;
}

static const double X4[] = {20, 40, 60, 80};

static void test_identical_series_stay_visible(void **state)
{
    (void)state;
    const double y[] = {569.2, 851.5, 1107.9, 1215.5};
    ifb_svg_series s[] = {{.name = "RoCE", .x = X4, .y = y, .n = 4},
                          {.name = "IB", .x = X4, .y = y, .n = 4}};
    ifb_svg_line_chart c = {.series = s, .nseries = 2};
    char *doc = render(line_fn, &c);
    /* the later (upper) series is narrower, so the earlier one shows on both sides */
    double w0 = attr(element_of_series(doc, "series", 0), "stroke-width");
    double w1 = attr(element_of_series(doc, "series", 1), "stroke-width");
    assert_true(w0 - w1 >= 1.5);
    /* and its markers are smaller squares over larger circles */
    const char *m0 = element_of_series(doc, "pt", 0), *m1 = element_of_series(doc, "pt", 1);
    assert_int_equal(strncmp(m0, "<circle", 7), 0);
    assert_int_equal(strncmp(m1, "<rect", 5), 0);
    double r0 = attr(m0, "r"), half1 = attr(m1, "width") / 2;
    assert_true(half1 < r0 - 1);
    /* the two are drawn in different colours */
    assert_true(strstr(m0, "#0072B2") && strstr(m1, "#D55E00"));
    assert_int_equal(count_str(doc, "class=\"pt\""), 8);
    free(doc);
}

static void test_categorical_axis(void **state)
{
    (void)state;
    const char *const lab[] = {"ecmp", "spray"};
    const double x[] = {0, 1}, y[] = {100, 104};
    ifb_svg_series s[] = {{.name = "a", .x = x, .y = y, .n = 2}};
    ifb_svg_line_chart c = {.series = s, .nseries = 1, .x_labels = lab, .nx_labels = 2};
    char *doc = render(line_fn, &c);
    const char *ax = strstr(doc, "<g class=\"axis x\"");
    assert_non_null(ax);
    const char *end = strstr(ax, "</g>");
    /* one tick per category, labelled with the value; no numeric ticks such as 0.2 */
    int ticks = 0;
    for (const char *p = strstr(ax, "class=\"tick\""); p && p < end;
         p = strstr(p + 1, "class=\"tick\""))
        ticks++;
    assert_int_equal(ticks, 2);
    const char *e = strstr(ax, ">ecmp</text>"), *sp = strstr(ax, ">spray</text>");
    assert_true(e && e < end && sp && sp < end);
    assert_null(strstr(doc, ">0.2</text>"));
    /* the two points sit in the middle of their halves of the plot */
    const char *p0 = element_of_series(doc, "pt", 0);
    const char *p1 = strstr(strchr(p0, '>'), "class=\"pt\"");
    assert_non_null(p1);
    while (*p1 != '<')
        p1--;
    double x0 = attr(p0, "cx"), x1 = attr(p1, "cx");
    assert_true(x1 > x0 + 100);
    /* a value off the categories is not drawn */
    const double bad_x[] = {0, 2.5};
    s[0].x = bad_x;
    char *doc2 = render(line_fn, &c);
    assert_int_equal(count_str(doc2, "class=\"pt\""), 1);
    free(doc);
    free(doc2);
}

static void test_log_axis_for_sizes(void **state)
{
    (void)state;
    const double x[] = {8, 64, 512, 4096, 32768, 262144, 2097152};
    const double y[] = {1, 2, 3, 4, 5, 6, 7};
    ifb_svg_series s[] = {{.name = "busbw", .x = x, .y = y, .n = 7}};
    ifb_svg_line_chart c = {.series = s, .nseries = 1, .x_log = true, .x_bytes = true};
    char *doc = render(line_fn, &c);
    assert_non_null(strstr(doc, ">4 KiB</text>"));
    assert_non_null(strstr(doc, ">2 MiB</text>"));
    /* sizes growing 8x apart are evenly spaced */
    double cx[7];
    const char *p = doc;
    for (int i = 0; i < 7; i++) {
        p = strstr(p, "class=\"pt\"");
        assert_non_null(p);
        const char *el = p;
        while (*el != '<')
            el--;
        cx[i] = attr(el, "cx");
        p++;
    }
    for (int i = 2; i < 7; i++)
        assert_true(fabs((cx[i] - cx[i - 1]) - (cx[1] - cx[0])) < 0.02);
    /* a size of 0 cannot be drawn on a log axis and is skipped */
    const double x0[] = {0, 64};
    ifb_svg_series s0[] = {{.name = "z", .x = x0, .y = y, .n = 2}};
    c.series = s0;
    char *doc0 = render(line_fn, &c);
    assert_int_equal(count_str(doc0, "class=\"pt\""), 1);
    free(doc);
    free(doc0);
}

/* Dodging: series in one slot share an offset, slots sit `dodge` px apart around the x. */
static void test_dodge_slots(void **state)
{
    (void)state;
    const double y[] = {10, 20, 30, 40};
    ifb_svg_series s[] = {{.name = "a P50", .x = X4, .y = y, .n = 4, .group = 1},
                          {.name = "a P90", .x = X4, .y = y, .n = 4, .group = 1},
                          {.name = "b P50", .x = X4, .y = y, .n = 4, .group = 2}};
    ifb_svg_line_chart c = {.series = s, .nseries = 3, .dodge = 6};
    char *doc = render(line_fn, &c);
    /* markers by index: a circle (cx), a square (x + width / 2), a triangle (its path starts
     * at the apex, straight above the point) */
    double x0 = attr(element_of_series(doc, "pt", 0), "cx");
    const char *m1 = element_of_series(doc, "pt", 1), *m2 = element_of_series(doc, "pt", 2);
    double x1 = attr(m1, "x") + attr(m1, "width") / 2;
    const char *d = strstr(m2, " d=\"M");
    assert_non_null(d);
    double x2 = strtod(d + 5, NULL);
    assert_true(fabs(x0 - x1) < 0.02);
    assert_true(fabs((x2 - x0) - 6) < 0.02);
    free(doc);
    /* a slot beyond the series count is refused */
    s[2].group = 9;
    FILE *f = tmpfile();
    ifb_err err = {{0}};
    assert_int_equal(ifb_svg_line(f, &c, &err), -1);
    fclose(f);
}

static void test_error_bars_and_steps(void **state)
{
    (void)state;
    const double y[] = {10, 20, 30, 40}, lo[] = {9, 18, NAN, 38}, hi[] = {11, 22, 33, 42};
    ifb_svg_series s[] = {{.name = "ci", .x = X4, .y = y, .n = 4, .ylo = lo, .yhi = hi},
                          {.name = "cdf", .x = X4, .y = y, .n = 4, .step = true, .mark_every = 2}};
    ifb_svg_line_chart c = {.series = s, .nseries = 2};
    char *doc = render(line_fn, &c);
    assert_int_equal(count_str(doc, "class=\"err\""), 3); /* the NaN bound draws none */
    /* the step series goes along, then up: an H before each L */
    const char *st = element_of_series(doc, "series", 1);
    const char *d = strstr(st, " d=\"");
    const char *dend = strchr(d + 4, '"');
    int h = 0;
    for (const char *q = d; q < dend; q++)
        h += *q == 'H';
    assert_int_equal(h, 3);
    /* markers on every second point and the last: 0, 2, 3 */
    int marks = 0;
    for (const char *q = strstr(doc, "class=\"pt\" data-s=\"1\""); q;
         q = strstr(q + 1, "class=\"pt\" data-s=\"1\""))
        marks++;
    assert_int_equal(marks, 3);
    free(doc);
}

static void test_heat_map(void **state)
{
    (void)state;
    const char *const rows[] = {"sw0:0", "sw0:1"};
    const double edges[] = {0, 1, 2, 3, 4};
    const double v[] = {0, 0, 1, 1, 0.5, NAN, 0.5, 0.5};
    ifb_svg_heatmap c = {.title = "util",
                         .rows = rows,
                         .nrows = 2,
                         .edges = edges,
                         .ncols = 4,
                         .values = v,
                         .vmin = 0,
                         .vmax = 1};
    char *doc = render(heat_fn, &c);
    /* equal neighbours merge: row 0 is two runs, row 1 a lone cell, a gap and a run of two */
    assert_int_equal(count_str(doc, "<rect class=\"cell\""), 4);
    assert_non_null(strstr(doc, "<g class=\"colorbar\""));
    assert_non_null(strstr(doc, ">sw0:1</text>"));
    /* the lowest and the highest values take the ends of the scale */
    assert_non_null(strstr(doc, "fill=\"#440154\""));
    assert_non_null(strstr(doc, "fill=\"#fde725\""));
    free(doc);
    /* edges that do not increase are refused, and nothing is written */
    const double bad[] = {0, 1, 1, 3, 4};
    c.edges = bad;
    FILE *f = tmpfile();
    ifb_err err = {{0}};
    assert_int_equal(ifb_svg_heat(f, &c, &err), -1);
    assert_non_null(strstr(err.msg, "increasing"));
    assert_int_equal(ftell(f), 0);
    fclose(f);
    /* all missing: axes and a no-data note */
    const double nan8[] = {NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN};
    c.edges = edges;
    c.values = nan8;
    char *empty = render(heat_fn, &c);
    assert_int_equal(count_str(empty, "<rect class=\"cell\""), 0);
    assert_non_null(strstr(empty, "class=\"no-data\""));
    free(empty);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identical_series_stay_visible),
        cmocka_unit_test(test_categorical_axis),
        cmocka_unit_test(test_log_axis_for_sizes),
        cmocka_unit_test(test_dodge_slots),
        cmocka_unit_test(test_error_bars_and_steps),
        cmocka_unit_test(test_heat_map),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
