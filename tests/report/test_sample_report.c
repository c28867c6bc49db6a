/* A sample report with synthetic numbers, in the shape of the reference experiment's
 * report.html (TGR and P90 vs concurrency per fabric, the Ethernet/IB ratio with the vendor's
 * two claimed points, the step-time breakdown, link utilization, a summary table), written
 * through the real writers (report/html, report/svg, atomic report/out files).
 * Two uses: as a cmocka test it renders into a temporary folder twice and checks the files
 * (present, well-formed, each figure once, byte-identical); as a driver, `--out DIR` only
 * renders into DIR, which is how tests/cli/report_chromium.sh gets a page for headless
 * Chromium before `infabric run` writes real reports. The numbers are made up: they test the
 * renderer, not the simulator. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report/html.h"
#include "report/out.h"
#include "report/svg.h"
#include "xml_check.h"

enum { NC = 5 };
static const double CONC[NC] = {20, 40, 60, 80, 100};
static const double TGR_ROCE[NC] = {1250, 2280, 3120, 3790, 4310};
static const double TGR_IB[NC] = {1262, 2291, 3118, 3772, 4275};
static const double P90_ROCE[NC] = {14.2, 15.6, 17.3, 19.4, 21.9};
static const double P90_IB[NC] = {14.0, 15.5, 17.4, 19.6, 22.3};

/* One figure: id, caption, and how to draw it (fills the spec each time, so the standalone
 * .svg and the inline copy come from the same code). */
typedef struct figure {
    const char *id;
    const char *caption;
    int (*draw)(FILE *f, ifb_err *err);
} figure;

static int draw_tgr(FILE *f, ifb_err *err)
{
    ifb_svg_series s[] = {{.name = "RoCE (CX864E-N)", .x = CONC, .y = TGR_ROCE, .n = NC},
                          {.name = "IB (QM9700)", .x = CONC, .y = TGR_IB, .n = NC}};
    ifb_svg_line_chart c = {.title = "Token generation rate",
                            .x_title = "concurrent requests",
                            .y_title = "output tokens/s",
                            .series = s,
                            .nseries = 2,
                            .y_from_zero = true};
    return ifb_svg_line(f, &c, err);
}

static int draw_p90(FILE *f, ifb_err *err)
{
    ifb_svg_series s[] = {{.name = "RoCE (CX864E-N)", .x = CONC, .y = P90_ROCE, .n = NC},
                          {.name = "IB (QM9700)", .x = CONC, .y = P90_IB, .n = NC}};
    ifb_svg_line_chart c = {.title = "P90 end-to-end latency",
                            .x_title = "concurrent requests",
                            .y_title = "seconds",
                            .series = s,
                            .nseries = 2,
                            .y_from_zero = true};
    return ifb_svg_line(f, &c, err);
}

static int draw_ratio(FILE *f, ifb_err *err)
{
    double tgr[NC], p90[NC];
    for (int i = 0; i < NC; i++) {
        tgr[i] = TGR_ROCE[i] / TGR_IB[i];
        p90[i] = P90_ROCE[i] / P90_IB[i];
    }
    ifb_svg_series s[] = {{.name = "TGR RoCE/IB", .x = CONC, .y = tgr, .n = NC},
                          {.name = "P90 RoCE/IB", .x = CONC, .y = p90, .n = NC}};
    ifb_svg_marker m[] = {{100, 1.275, "vendor: +27.5% TGR @100"},
                          {50, 0.796,
                           "vendor: \xE2\x88\x92"
                           "20.4% P90 @50"}};
    ifb_svg_line_chart c = {.title = "Ethernet / InfiniBand ratio",
                            .x_title = "concurrent requests",
                            .y_title = "ratio",
                            .series = s,
                            .nseries = 2,
                            .markers = m,
                            .nmarkers = 2,
                            .has_ref = true,
                            .ref_y = 1.0,
                            .ref_label = "parity"};
    return ifb_svg_line(f, &c, err);
}

static int draw_breakdown(FILE *f, ifb_err *err)
{
    const char *const cats[] = {"RoCE 20", "IB 20", "RoCE 60", "IB 60", "RoCE 100", "IB 100"};
    const char *const comps[] = {"compute", "exposed communication", "queueing"};
    const double v[] = {41.0, 3.1, 0.2, 41.0, 2.9, 0.2, 52.5, 4.0, 0.9,
                        52.5, 3.8, 1.0, 63.0, 5.2, 2.4, 63.0, 5.0, 2.6};
    ifb_svg_bar_chart c = {.title = "Decode step time",
                           .x_title = "fabric and concurrency",
                           .y_title = "ms per step",
                           .categories = cats,
                           .ncat = 6,
                           .series = comps,
                           .nseries = 3,
                           .values = v};
    return ifb_svg_stacked_bars(f, &c, err);
}

static int draw_util(FILE *f, ifb_err *err)
{
    const char *const cats[] = {"20", "40", "60", "80", "100"};
    const char *const ser[] = {"RoCE max", "RoCE mean", "IB max", "IB mean"};
    const double v[] = {0.21, 0.06, 0.22, 0.06, 0.34, 0.10, 0.35, 0.10, 0.45, 0.14,
                        0.46, 0.14, 0.52, 0.17, 0.53, 0.17, 0.58, 0.19, 0.58, 0.19};
    ifb_svg_bar_chart c = {.title = "Link utilization",
                           .x_title = "concurrent requests",
                           .y_title = "fraction of line rate",
                           .categories = cats,
                           .ncat = 5,
                           .series = ser,
                           .nseries = 4,
                           .values = v};
    return ifb_svg_grouped_bars(f, &c, err);
}

static const figure FIGS[] = {
    {"fig-tgr", "Token generation rate vs concurrency, per fabric.", draw_tgr},
    {"fig-p90", "P90 end-to-end latency vs concurrency, per fabric.", draw_p90},
    {"fig-ratio",
     "RoCE/IB ratios with the vendor's two claimed points (diamonds); the dashed line is "
     "parity.",
     draw_ratio},
    {"fig-breakdown", "Decode step time split into compute, exposed communication and queueing.",
     draw_breakdown},
    {"fig-util", "Maximum and mean link utilization.", draw_util},
};
enum { NFIGS = sizeof FIGS / sizeof FIGS[0] };

static int write_file(const char *dir, const char *name, int (*body)(FILE *, ifb_err *),
                      ifb_err *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    ifb_ofile o;
    if (ifb_ofile_open(&o, path, err) < 0)
        return -1;
    if (body(o.f, err) < 0) {
        ifb_ofile_abort(&o);
        return -1;
    }
    return ifb_ofile_commit(&o, err);
}

static int write_html(FILE *f, ifb_err *err)
{
    ifb_html h;
    ifb_html_begin(&h, f, "infabric sample report (synthetic numbers)");
    ifb_html_para(&h, "This page is rendered from made-up numbers to test the report renderer. "
                      "It has the layout of the reference experiment's report: DeepSeek-R1 on "
                      "2 x 8 H20, one RoCE switch against one InfiniBand switch, 20 to 100 "
                      "concurrent requests.\n\nNothing here is a prediction.");
    ifb_html_heading(&h, 2, "summary", "Summary");
    enum { NCOL = 6 };
    const char *const hdr[NCOL] = {"concurrency", "TGR RoCE",     "TGR IB",
                                   "TGR ratio",   "P90 RoCE (s)", "P90 IB (s)"};
    char buf[NC][NCOL][IFB_DOUBLE_BUFSZ];
    const char *cells[NC * NCOL];
    for (int i = 0; i < NC; i++) {
        const double row[NCOL] = {CONC[i],     TGR_ROCE[i], TGR_IB[i], TGR_ROCE[i] / TGR_IB[i],
                                  P90_ROCE[i], P90_IB[i]};
        for (int c = 0; c < NCOL; c++) {
            if (c == 3)
                snprintf(buf[i][c], IFB_DOUBLE_BUFSZ, "%+.1f%%", (row[c] - 1) * 100);
            else
                ifb_fmt_double(buf[i][c], row[c]);
            cells[i * NCOL + c] = buf[i][c];
        }
    }
    ifb_html_table(&h, "tab-summary", "Per concurrency (synthetic)", hdr, NCOL, cells, NC);
    ifb_html_heading(&h, 2, "figures", "Figures");
    for (int i = 0; i < NFIGS; i++) {
        if (ifb_html_figure_begin(&h, FIGS[i].id, FIGS[i].caption) == 0 &&
            FIGS[i].draw(h.f, err) < 0) {
            ifb_err ignored; /* keep the chart's error; end only frees */
            ifb_html_end(&h, &ignored);
            return -1;
        }
        ifb_html_figure_end(&h);
    }
    ifb_html_heading(&h, 2, "files", "Files");
    const char *const hrefs[] = {"fig-tgr.svg", "fig-p90.svg", "fig-ratio.svg", "fig-breakdown.svg",
                                 "fig-util.svg"};
    ifb_html_links(&h, hrefs, NULL, 5);
    return ifb_html_end(&h, err);
}

/* Writes report.html and one .svg per figure into dir. */
static int render_sample(const char *dir, ifb_err *err)
{
    for (int i = 0; i < NFIGS; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s.svg", FIGS[i].id);
        if (write_file(dir, name, FIGS[i].draw, err) < 0)
            return -1;
    }
    return write_file(dir, "report.html", write_html, err);
}

/* ---- the test ---- */

static char *slurp(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("missing %s", path);
    char *s = read_all(f, NULL);
    fclose(f);
    assert_non_null(s);
    return s;
}

static void test_sample_report(void **state)
{
    (void)state;
    char dirs[2][64];
    char *html[2];
    for (int k = 0; k < 2; k++) {
        snprintf(dirs[k], sizeof dirs[k], "/tmp/ifb_sample_XXXXXX");
        assert_non_null(mkdtemp(dirs[k]));
        ifb_err err = {{0}};
        if (render_sample(dirs[k], &err) < 0)
            fail_msg("render_sample: %s", err.msg);
        html[k] = slurp(dirs[k], "report.html");
    }
    assert_string_equal(html[0], html[1]);
    char msg[256];
    const char *e = xml_check(html[0], msg);
    if (e)
        fail_msg("report.html: %s", e);
    assert_null(strstr(html[0], "<script"));
    for (int i = 0; i < NFIGS; i++) {
        char needle[80];
        snprintf(needle, sizeof needle, "<figure id=\"%s\">\n<svg ", FIGS[i].id);
        assert_int_equal(count_str(html[0], needle), 1);
        snprintf(needle, sizeof needle, "%s.svg", FIGS[i].id);
        char *a = slurp(dirs[0], needle), *b = slurp(dirs[1], needle);
        assert_string_equal(a, b);
        e = xml_check(a, msg);
        if (e)
            fail_msg("%s: %s", needle, e);
        assert_non_null(strstr(html[0], a)); /* the inline copy is the same chart */
        free(a);
        free(b);
    }
    for (int k = 0; k < 2; k++) {
        for (int i = 0; i < NFIGS; i++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s.svg", dirs[k], FIGS[i].id);
            unlink(path);
        }
        char path[4096];
        snprintf(path, sizeof path, "%s/report.html", dirs[k]);
        unlink(path);
        assert_int_equal(rmdir(dirs[k]), 0); /* no temp files left behind */
        free(html[k]);
    }
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--out") == 0) {
        ifb_err err = {{0}};
        if (render_sample(argv[2], &err) < 0) {
            fprintf(stderr, "sample report: %s\n", err.msg);
            return 1;
        }
        return 0;
    }
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_sample_report)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
