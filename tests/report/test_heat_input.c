/* The heat map reads the busiest run's runs/NNN-util.csv: a file whose port column is not a
 * number (hand-edited, or cut) leaves the figure out with the reason, instead of dividing by the
 * zero bins it yields (a crash before); a well-formed file gives its ports x bins exactly. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "report/analysis.h"
#include "report/report_int.h"

static json_t *one_run(void)
{
    json_t *j = json_object();
    json_object_set_new(j, "scenario", json_string("s"));
    json_object_set_new(j, "fabric", json_string("roce"));
    json_object_set_new(j, "sweep", json_object());
    json_object_set_new(j, "seed", json_integer(1));
    json_object_set_new(j, "status", json_string("complete"));
    json_t *m = json_object();
    json_object_set_new(m, "output_throughput", json_real(100));
    json_object_set_new(m, "link_util_mean", json_real(0.5));
    json_object_set_new(m, "completed", json_integer(10));
    json_object_set_new(j, "metrics", m);
    return j;
}

static void figs_with(const char *csv, ifb_figs *g, ifb_analysis *a, json_t **run, char *dir)
{
    strcpy(dir, "/tmp/ifb_heat_XXXXXX");
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/000-util.csv", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(csv, f);
    fclose(f);
    *run = one_run();
    ifb_err e = {{0}};
    assert_int_equal(ifb_analysis_build(a, run, 1, &e), 0);
    static ifb_report_opts o;
    o = (ifb_report_opts){.outdir = dir, .runs_dir = dir};
    memset(g, 0, sizeof *g);
    assert_int_equal(ifb_figs_prepare(g, a, &o, &e), 0);
}

static void done(ifb_figs *g, ifb_analysis *a, json_t *run, const char *dir)
{
    ifb_figs_free(g);
    ifb_analysis_free(a);
    json_decref(run);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static const char HDR[] = "port,node,index,t_start_us,t_end_us,util\n";

static void test_bad_port_column(void **state)
{
    (void)state;
    char csv[256], dir[32];
    snprintf(csv, sizeof csv, "%sx,sw0,1,0,10,0.5\nx,sw0,1,10,20,0.7\n", HDR);
    ifb_figs g;
    ifb_analysis a;
    json_t *run;
    figs_with(csv, &g, &a, &run, dir);
    assert_false(g.present[FIG_HEATMAP]);
    assert_non_null(strstr(g.why[FIG_HEATMAP], "util.csv"));
    done(&g, &a, run, dir);
}

static void test_good_series(void **state)
{
    (void)state;
    char csv[512], dir[32];
    snprintf(csv, sizeof csv,
             "%s0,sw0,1,0,10,0.5\n0,sw0,1,10,20,0.7\n1,sw0,2,0,10,0.1\n1,sw0,2,10,20,0.3\n"
             "2,s0n0,0,0,10,0.9\n2,s0n0,0,10,20,0.2\n",
             HDR);
    ifb_figs g;
    ifb_analysis a;
    json_t *run;
    figs_with(csv, &g, &a, &run, dir);
    assert_true(g.present[FIG_HEATMAP]);
    assert_int_equal(g.heat_nrows, 3);
    assert_int_equal(g.heat_ncols, 2);
    done(&g, &a, run, dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_port_column),
        cmocka_unit_test(test_good_series),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
