/* Tests for report/html: the document is well-formed (as XML) and self-contained (no scripts,
 * no external resources), text is escaped, each figure id appears once with its SVG and
 * caption, misuse (bad or duplicate ids, content inside a figure, an unclosed figure, links to
 * the network) is a sticky error reported by ifb_html_end, and equal calls give equal bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/html.h"
#include "report/svg.h"
#include "xml_check.h"

static void assert_wellformed(const char *doc)
{
    char msg[256];
    const char *e = xml_check(doc, msg);
    if (e)
        fail_msg("not well-formed: %s\n%s", e, doc);
}

/* Nothing the browser would fetch or run. Plain links (<a href>) are allowed: they are only
 * followed when clicked. */
static void assert_self_contained(const char *doc)
{
    static const char *const bad[] = {"<script", "<link", "<img", "<iframe", "<object",
                                      "<embed",  " src=", "url(", "@import", "javascript:"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (strstr(doc, bad[i]))
            fail_msg("document contains '%s'", bad[i]);
}

/* The full sequence of calls a report makes; returns the document. */
static char *render_report(void)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    ifb_html h;
    ifb_err err = {{0}};
    assert_int_equal(ifb_html_begin(&h, f, "Reference experiment: RoCE vs IB"), 0);
    assert_int_equal(ifb_html_para(&h, "First paragraph\nstill first.\n\nSecond <b>not bold</b> & "
                                       "\"quoted\".\n\n\n"),
                     0);
    assert_int_equal(ifb_html_heading(&h, 2, "results", "Results"), 0);
    const char *const hdr[] = {"fabric", "concurrency", "TGR", "ratio"};
    const char *const cells[] = {"RoCE", "100", "3800.5", "+27.5%", "IB", "100", "3000", NULL};
    assert_int_equal(ifb_html_table(&h, "tab-summary", "Summary", hdr, 4, cells, 2), 0);
    const double x[] = {20, 40, 60}, y[] = {1, 2, 3};
    ifb_svg_series s[] = {{.name = "RoCE", .x = x, .y = y, .n = 3}};
    ifb_svg_line_chart lc = {.title = "TGR", .series = s, .nseries = 1};
    assert_int_equal(ifb_html_figure_begin(&h, "fig-tgr", "TGR vs concurrency <per fabric>"), 0);
    assert_int_equal(ifb_svg_line(h.f, &lc, &err), 0);
    assert_int_equal(ifb_html_figure_end(&h), 0);
    const char *const cats[] = {"a", "b"}, *const comps[] = {"compute", "comm"};
    const double v[] = {1, 2, 3, 4};
    ifb_svg_bar_chart bc = {
        .categories = cats, .ncat = 2, .series = comps, .nseries = 2, .values = v};
    assert_int_equal(ifb_html_figure_begin(&h, "fig-breakdown", NULL), 0);
    assert_int_equal(ifb_svg_stacked_bars(h.f, &bc, &err), 0);
    assert_int_equal(ifb_html_figure_end(&h), 0);
    assert_int_equal(ifb_html_heading(&h, 3, NULL, "Files"), 0);
    const char *const items[] = {"one", "two & three"};
    assert_int_equal(ifb_html_list(&h, items, 2), 0);
    const char *const hrefs[] = {"summary.json", "tables/runs.csv", "https://example.com/a?b&c"};
    const char *const labels[] = {"summary (JSON)", NULL, "datasheet"};
    assert_int_equal(ifb_html_links(&h, hrefs, labels, 3), 0);
    if (ifb_html_end(&h, &err) != 0)
        fail_msg("ifb_html_end: %s", err.msg);
    char *doc = read_all(f, NULL);
    fclose(f);
    assert_non_null(doc);
    return doc;
}

static void test_structure(void **state)
{
    (void)state;
    char *doc = render_report();
    assert_wellformed(doc);
    assert_self_contained(doc);
    assert_int_equal(strncmp(doc, "<!DOCTYPE html>\n<html lang=\"en\">", 31), 0);
    assert_non_null(strstr(doc, "<meta charset=\"utf-8\" />"));
    assert_int_equal(count_str(doc, "<style>"), 1);
    assert_non_null(strstr(doc, "<title>Reference experiment: RoCE vs IB</title>"));
    assert_non_null(strstr(doc, "<h1>Reference experiment: RoCE vs IB</h1>"));
    /* blank lines split paragraphs; single newlines stay inside one */
    assert_int_equal(count_str(doc, "<p>"), 2);
    assert_non_null(strstr(doc, "<p>First paragraph\nstill first.</p>"));
    assert_non_null(strstr(doc, "<h2 id=\"results\">Results</h2>"));
    assert_non_null(strstr(doc, "<h3>Files</h3>"));
    /* table: header, numeric cells right-aligned, words and empty cells not */
    assert_non_null(strstr(doc, "<table id=\"tab-summary\">\n<caption>Summary</caption>"));
    assert_int_equal(count_str(doc, "<th>"), 4);
    assert_int_equal(count_str(doc, "<tr>"), 3);
    assert_non_null(strstr(doc, "<td class=\"n\">+27.5%</td>"));
    assert_non_null(strstr(doc, "<td class=\"n\">3800.5</td>"));
    assert_non_null(strstr(doc, "<td>RoCE</td>"));
    assert_non_null(strstr(doc, "<td></td></tr>"));
    /* figures: each id once, holding one svg, caption after it */
    assert_int_equal(count_str(doc, "id=\"fig-tgr\""), 1);
    assert_int_equal(count_str(doc, "id=\"fig-breakdown\""), 1);
    assert_int_equal(count_str(doc, "<figure "), 2);
    assert_int_equal(count_str(doc, "<svg "), 2);
    const char *fig = strstr(doc, "<figure id=\"fig-tgr\">\n<svg ");
    assert_non_null(fig);
    const char *cap = strstr(fig, "<figcaption>TGR vs concurrency &lt;per fabric&gt;</figcaption>");
    assert_non_null(cap);
    assert_true(cap > strstr(fig, "</svg>"));
    assert_true(cap < strstr(fig, "</figure>"));
    assert_int_equal(count_str(doc, "<figcaption>"), 1); /* no caption: none written */
    /* lists and links */
    assert_non_null(strstr(doc, "<li>two &amp; three</li>"));
    assert_non_null(strstr(doc, "<li><a href=\"summary.json\">summary (JSON)</a></li>"));
    assert_non_null(strstr(doc, "<li><a href=\"tables/runs.csv\">tables/runs.csv</a></li>"));
    assert_non_null(
        strstr(doc, "<li><a href=\"https://example.com/a?b&amp;c\">datasheet</a></li>"));
    const char *tail = "</body>\n</html>\n";
    assert_string_equal(doc + strlen(doc) - strlen(tail), tail);
    free(doc);
}

static void test_escaping(void **state)
{
    (void)state;
    char *doc = render_report();
    assert_non_null(
        strstr(doc, "<p>Second &lt;b&gt;not bold&lt;/b&gt; &amp; &quot;quoted&quot;.</p>"));
    assert_null(strstr(doc, "<b>"));
    free(doc);
    FILE *f = tmpfile();
    ifb_html h;
    ifb_err err = {{0}};
    assert_int_equal(ifb_html_begin(&h, f, "<script>alert(1)</script> & \xFF"), 0);
    const char *const hdr[] = {"a<b"};
    const char *const cells[] = {"</td><script>"};
    assert_int_equal(ifb_html_table(&h, NULL, "c&d", hdr, 1, cells, 1), 0);
    assert_int_equal(ifb_html_end(&h, &err), 0);
    doc = read_all(f, NULL);
    fclose(f);
    assert_wellformed(doc);
    assert_self_contained(doc);
    assert_non_null(
        strstr(doc, "<title>&lt;script&gt;alert(1)&lt;/script&gt; &amp; \xEF\xBF\xBD</title>"));
    assert_non_null(strstr(doc, "<th>a&lt;b</th>"));
    assert_non_null(strstr(doc, "<caption>c&amp;d</caption>"));
    free(doc);
}

static void test_deterministic(void **state)
{
    (void)state;
    char *a = render_report();
    char *b = render_report();
    assert_string_equal(a, b);
    free(a);
    free(b);
}

/* Runs `misuse` on a fresh document and checks that it and everything after it fail, that
 * ifb_html_end reports `expect`, and that the failure happened before any bytes of the bad
 * element were written where that is checkable. */
typedef void (*misuse_fn)(ifb_html *h);

static void dup_figure(ifb_html *h)
{
    assert_int_equal(ifb_html_figure_begin(h, "fig-a", NULL), 0);
    assert_int_equal(ifb_html_figure_end(h), 0);
    assert_int_equal(ifb_html_figure_begin(h, "fig-a", NULL), -1);
}
static void dup_table_heading(ifb_html *h)
{
    assert_int_equal(ifb_html_heading(h, 2, "x", "X"), 0);
    assert_int_equal(ifb_html_table(h, "x", NULL, NULL, 0, NULL, 0), -1);
}
static void bad_id_digit(ifb_html *h)
{
    assert_int_equal(ifb_html_figure_begin(h, "1fig", NULL), -1);
}
static void bad_id_space(ifb_html *h)
{
    assert_int_equal(ifb_html_figure_begin(h, "a b", NULL), -1);
}
static void bad_id_quote(ifb_html *h)
{
    assert_int_equal(ifb_html_figure_begin(h, "a\"onload=\"x", NULL), -1);
}
static void null_id(ifb_html *h)
{
    assert_int_equal(ifb_html_figure_begin(h, NULL, "c"), -1);
}
static void para_in_figure(ifb_html *h)
{
    assert_int_equal(ifb_html_figure_begin(h, "f", NULL), 0);
    assert_int_equal(ifb_html_para(h, "x"), -1);
}
static void unclosed_figure(ifb_html *h)
{
    assert_int_equal(ifb_html_figure_begin(h, "f", "leaks unless end frees it"), 0);
}
static void end_without_figure(ifb_html *h)
{
    assert_int_equal(ifb_html_figure_end(h), -1);
}
static void bad_level(ifb_html *h)
{
    assert_int_equal(ifb_html_heading(h, 1, NULL, "x"), -1);
}
static void data_link(ifb_html *h)
{
    const char *const hrefs[] = {"ok.csv", "data:text/html,x"};
    assert_int_equal(ifb_html_links(h, hrefs, NULL, 2), -1);
}
static void file_link(ifb_html *h)
{
    const char *const hrefs[] = {"//host/share/x"};
    assert_int_equal(ifb_html_links(h, hrefs, NULL, 1), -1);
}
static void js_link(ifb_html *h)
{
    const char *const hrefs[] = {"javascript:alert(1)"};
    assert_int_equal(ifb_html_links(h, hrefs, NULL, 1), -1);
}
static void null_cells(ifb_html *h)
{
    assert_int_equal(ifb_html_table(h, NULL, NULL, NULL, 2, NULL, 2), -1);
}

static void test_misuse(void **state)
{
    (void)state;
    const struct {
        misuse_fn fn;
        const char *expect;
        int found_at_end; /* only ifb_html_end can see it: skip the sticky check */
    } cases[] = {
        {dup_figure, "id 'fig-a' is used twice", 0},
        {dup_table_heading, "id 'x' is used twice", 0},
        {bad_id_digit, "id '1fig' is not", 0},
        {bad_id_space, "id 'a b' is not", 0},
        {bad_id_quote, "is not a letter", 0},
        {null_id, "id '(null)'", 0},
        {para_in_figure, "paragraph: inside an open figure", 0},
        {unclosed_figure, "figure 'f' is still open", 1},
        {end_without_figure, "no figure is open", 0},
        {bad_level, "level 1", 0},
        {data_link, "neither a relative file name nor http(s)", 0},
        {file_link, "neither a relative file name nor http(s)", 0},
        {js_link, "neither a relative file name nor http(s)", 0},
        {null_cells, "NULL cells", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        FILE *f = tmpfile();
        ifb_html h;
        ifb_err err = {{0}};
        assert_int_equal(ifb_html_begin(&h, f, "t"), 0);
        cases[i].fn(&h);
        if (!cases[i].found_at_end) {
            /* sticky: later calls write nothing */
            long pos = ftell(f);
            assert_int_equal(ifb_html_para(&h, "after"), -1);
            assert_int_equal(ifb_html_heading(&h, 2, NULL, "after"), -1);
            assert_int_equal(ftell(f), pos);
        }
        assert_int_equal(ifb_html_end(&h, &err), -1);
        if (!strstr(err.msg, cases[i].expect))
            fail_msg("case %zu: '%s' does not mention '%s'", i, err.msg, cases[i].expect);
        assert_null(strstr(err.msg, "after"));
        fclose(f);
    }
    /* begin without a FILE, and end twice */
    ifb_html h;
    ifb_err err = {{0}};
    assert_int_equal(ifb_html_begin(&h, NULL, "t"), -1);
    assert_int_equal(ifb_html_end(&h, &err), -1);
    assert_non_null(strstr(err.msg, "no output file"));
    FILE *f = tmpfile();
    assert_int_equal(ifb_html_begin(&h, f, "t"), 0);
    assert_int_equal(ifb_html_end(&h, &err), 0);
    assert_int_equal(ifb_html_end(&h, &err), -1);
    assert_int_equal(ifb_html_para(&h, "late"), -1);
    fclose(f);
}

static void test_write_error(void **state)
{
    (void)state;
    FILE *f = fopen("/dev/full", "w");
    if (!f)
        skip();
    setvbuf(f, NULL, _IONBF, 0); /* make the failure show at once */
    ifb_html h;
    ifb_err err = {{0}};
    (void)ifb_html_begin(&h, f, "t");
    (void)ifb_html_para(&h, "x");
    assert_int_equal(ifb_html_end(&h, &err), -1);
    assert_non_null(strstr(err.msg, "output error"));
    fclose(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_structure),     cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_deterministic), cmocka_unit_test(test_misuse),
        cmocka_unit_test(test_write_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
