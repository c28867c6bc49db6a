/* Out of memory inside open_memstream, the one allocator the report uses that core/alloc.h
 * cannot wrap: its failure (NULL from open_memstream, or a write or fclose that fails because
 * the buffer cannot grow) must reach the caller as an error, never as output with a piece
 * missing. The test's own open_memstream (found before libc's when the report calls it) fails
 * the n-th call after it is armed, either way, and passes every other call on. Two places used
 * to swallow the failure: the verdict dropped a comparison's details when their stream failed
 * and kept the rest of the paragraph, and the summary left a run without an object (one that
 * never started) out of summary.json and runs.csv. */
#define _GNU_SOURCE /* RTLD_NEXT, fopencookie */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report/analysis.h"
#include "report/summary.h"

static int fail_at;     /* the call (1 = the next) that fails; 0: none */
static int fail_writes; /* 0: that call returns NULL; 1: its stream's writes fail */

static ssize_t full_write(void *cookie, const char *buf, size_t n)
{
    (void)cookie;
    (void)buf;
    (void)n;
    errno = ENOMEM;
    return -1;
}

FILE *open_memstream(char **ptr, size_t *size)
{
    static FILE *(*real)(char **, size_t *);
    if (!real) {
        void *sym = dlsym(RTLD_NEXT, "open_memstream");
        memcpy(&real, &sym, sizeof real);
    }
    if (fail_at && --fail_at == 0) {
        if (fail_writes) { /* a memstream whose buffer cannot grow: fclose reports it */
            *ptr = NULL;
            *size = 0;
            return fopencookie(NULL, "w", (cookie_io_functions_t){.write = full_write});
        }
        errno = ENOMEM;
        return NULL;
    }
    return real(ptr, size);
}

/* A complete run object with the metrics the analysis reads. */
static json_t *run(const char *scenario, const char *fabric, const char *x, double tput)
{
    json_t *j = json_object();
    json_object_set_new(j, "scenario", json_string(scenario));
    json_object_set_new(j, "fabric", json_string(fabric));
    json_t *sw = json_object();
    json_object_set_new(sw, "workload.concurrency", json_string(x));
    json_object_set_new(j, "sweep", sw);
    json_object_set_new(j, "seed", json_integer(1));
    json_object_set_new(j, "status", json_string("complete"));
    json_t *m = json_object();
    json_object_set_new(m, "output_throughput", json_real(tput));
    json_object_set_new(m, "p90_tpot_ms", json_real(40));
    json_object_set_new(m, "p90_ttft_ms", json_real(300));
    json_object_set_new(m, "p90_e2e_latency_ms", json_real(9000));
    json_object_set_new(m, "step_ms", json_real(40));
    json_object_set_new(m, "compute_ms", json_real(36));
    json_object_set_new(m, "exposed_comm_ms", json_real(4));
    json_object_set_new(m, "completed", json_integer(40));
    json_object_set_new(j, "metrics", m);
    return j;
}

/* Ethernet 10% faster than InfiniBand at two loads: one comparison, with details. */
static void make_runs(json_t **r)
{
    r[0] = run("eth", "roce", "20", 1100);
    r[1] = run("eth", "roce", "40", 2200);
    r[2] = run("ib", "infiniband", "20", 1000);
    r[3] = run("ib", "infiniband", "40", 2000);
}

static void test_verdict_details_lost(void **state)
{
    (void)state;
    json_t *r[4];
    make_runs(r);
    ifb_analysis a;
    ifb_err e = {{0}};
    assert_int_equal(ifb_analysis_build(&a, r, 4, &e), 0);
    /* the whole verdict has a headline and the details after it */
    assert_non_null(strstr(a.verdict, "Verdict: eth is better than ib"));
    assert_non_null(strstr(a.verdict, "Output token throughput: eth is 10.0% higher"));
    /* the paragraph's own stream is the first call, the comparison's details the second; they
     * fail to open or fail when closed */
    for (fail_writes = 0; fail_writes < 2; fail_writes++) {
        fail_at = 2;
        char *v = ifb_an_verdict(&a);
        int left = fail_at;
        fail_at = 0;
        assert_int_equal(left, 0); /* the failure was injected */
        if (v)
            fail_msg("the verdict came back without its details: \"%s\"", v);
    }
    ifb_analysis_free(&a);
    /* and the analysis reports it */
    fail_at = 2;
    fail_writes = 1;
    int rc = ifb_analysis_build(&a, r, 4, &e);
    fail_at = 0;
    fail_writes = 0;
    assert_int_equal(rc, -1);
    assert_non_null(strstr(e.msg, "verdict"));
    for (int i = 0; i < 4; i++)
        json_decref(r[i]);
}

static char dir[1024];

static void rm_rf(const char *path)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    assert_int_equal(system(cmd), 0);
}

static void test_made_object_lost(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "%s/memstream_oom_XXXXXX", IFB_BIN_DIR);
    assert_non_null(mkdtemp(dir));
    char runs[1100], summary[1100];
    snprintf(runs, sizeof runs, "%s/runs", dir);
    snprintf(summary, sizeof summary, "%s/summary.json", dir);
    assert_int_equal(mkdir(runs, 0777), 0);
    /* one run, interrupted before its worker started: its object is made by the summary */
    const char *sweep[] = {"workload.concurrency=20"};
    ifb_summary_run planned = {.scenario = "x.yaml", .sweep = sweep, .nsweep = 1};
    ifb_summary_opts o = {.outdir = dir, .runs_dir = runs, .runs = &planned, .nplanned = 1};
    ifb_err e = {{0}};
    fail_at = 1; /* the made object's stream: the first the summary opens */
    int rc = ifb_summary_write(&o, &e);
    int left = fail_at;
    fail_at = 0;
    assert_int_equal(left, 0);
    struct stat st;
    int written = stat(summary, &st) == 0;
    if (rc == 0 && written)
        fail_msg("summary.json was written without the run (rc 0)");
    assert_int_equal(rc, -1);
    assert_false(written);
    assert_non_null(strstr(e.msg, "out of memory"));
    /* without the failure the same run is listed as not run */
    assert_int_equal(ifb_summary_write(&o, &e), 0);
    FILE *f = fopen(summary, "r");
    assert_non_null(f);
    char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    assert_non_null(strstr(buf, "\"status\": \"not-run\""));
    rm_rf(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verdict_details_lost),
        cmocka_unit_test(test_made_object_lost),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
