/* Request traces as a hostile or careless user supplies them: an endless or binary file, a line
 * without end, a NUL byte, a UTF-8 byte order mark, a malformed value that must be echoed as it
 * is, a key given twice, a key hidden inside a string; and a scenario that sets lengths of its
 * own next to a trace. Each is either read correctly or refused naming the file and line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "scenario/cfg.h"
#include "scenario/serving_cfg.h"
#include "workload/serving/serving.h"
#include "workload/trace.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

static char tmpdir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ifb_trace_input_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *write_file(const char *name, const char *text, size_t n)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
    return path;
}

static void expect_load_error(const char *path, const char *n1, const char *n2)
{
    ifb_trace t;
    ifb_err e = {{0}};
    assert_int_equal(ifb_trace_load(&t, path, IFB_TRACE_AUTO, 0, &e), -1);
    if (!strstr(e.msg, n1) || (n2 && !strstr(e.msg, n2)))
        fail_msg("message '%s' lacks '%s' / '%s'", e.msg, n1, n2 ? n2 : "");
    assert_null(t.rows);
}

static void expect_string_error(const char *text, const char *n1, const char *n2)
{
    ifb_trace t;
    ifb_err e = {{0}};
    assert_int_equal(ifb_trace_load_string(&t, text, "x.jsonl", IFB_TRACE_AUTO, 0, &e), -1);
    if (!strstr(e.msg, n1) || (n2 && !strstr(e.msg, n2)))
        fail_msg("message '%s' lacks '%s' / '%s'", e.msg, n1, n2 ? n2 : "");
}

/* /dev/zero under a memory limit: refused with the file and line after one line's worth, in a
 * child so that a loader that reads on without bound fails the test instead of the machine. */
static void test_endless_file(void **state)
{
    (void)state;
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(30);
        if (!UNDER_ASAN) { /* ASan reserves terabytes of address space up front */
            struct rlimit rl = {256u << 20, 256u << 20};
            setrlimit(RLIMIT_AS, &rl);
        }
        ifb_trace t;
        ifb_err e = {{0}};
        int rc = ifb_trace_load(&t, "/dev/zero", IFB_TRACE_AUTO, 0, &e);
        _exit(rc == -1 && strstr(e.msg, "/dev/zero:1:") &&
                      strstr(e.msg, "a line of at most 65536 bytes")
                  ? 0
                  : 1);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("loading /dev/zero: %s %d", WIFSIGNALED(st) ? "killed by signal" : "exit status",
                 WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
}

static void test_long_line_and_nul(void **state)
{
    (void)state;
    /* a valid header and row, then a line without end in sight */
    size_t n = 200000;
    char *text = malloc(n);
    const char *head = "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.68,374,44\n";
    memset(text, 'x', n);
    memcpy(text, head, strlen(head));
    expect_load_error(write_file("long.csv", text, n), "long.csv:3:", "at most 65536 bytes");
    /* a NUL byte on line 3, named with its line */
    static const char nul[] = "TIMESTAMP,ContextTokens,GeneratedTokens\n"
                              "2023-11-16 18:15:46.68,374,44\n"
                              "2023-11-16 18:15:47.00,3\0"
                              "74,44\n";
    expect_load_error(write_file("nul.csv", nul, sizeof nul - 1), "nul.csv:3:", "NUL byte");
    /* a line at the limit is still read */
    size_t m = strlen(head) + IFB_TRACE_MAX_LINE + 1;
    char *ok = malloc(m);
    memcpy(ok, head, strlen(head));
    memset(ok + strlen(head), ' ', IFB_TRACE_MAX_LINE);
    ok[m - 1] = '\n';
    ifb_trace t;
    ifb_err e = {{0}};
    assert_int_equal(ifb_trace_load(&t, write_file("edge.csv", ok, m), IFB_TRACE_AUTO, 0, &e), 0);
    assert_int_equal(t.n, 1); /* the blank 64 KiB line is skipped */
    ifb_trace_free(&t);
    free(ok);
    free(text);
}

/* Rows past max_rows are not read: a broken row 5 does not matter to a 3-row replay, and the
 * file is read only as far as needed. */
static void test_stream_stops_at_max_rows(void **state)
{
    (void)state;
    static const char text[] = "{\"timestamp\": 0, \"input_length\": 5, \"output_length\": 2}\n"
                               "{\"timestamp\": 1, \"input_length\": 6, \"output_length\": 2}\n"
                               "{\"timestamp\": 2, \"input_length\": 7, \"output_length\": 2}\n"
                               "{\"timestamp\": 3, \"input_length\": 8, \"output_length\": 2}\n"
                               "garbage\n";
    const char *path = write_file("five.jsonl", text, sizeof text - 1);
    ifb_trace t;
    ifb_err e = {{0}};
    assert_int_equal(ifb_trace_load(&t, path, IFB_TRACE_AUTO, 3, &e), 0);
    assert_int_equal(t.n, 3);
    assert_int_equal(t.rows[2].input, 7);
    ifb_trace_free(&t);
    expect_load_error(path, "five.jsonl:5:", "a JSON object on one line");
}

/* A UTF-8 byte order mark before the header (Azure) or the first object (Mooncake). */
static void test_bom_accepted(void **state)
{
    (void)state;
    static const char az[] = "\xEF\xBB\xBFTIMESTAMP,ContextTokens,GeneratedTokens\n"
                             "2023-11-16 18:15:46.6805900,374,44\n"
                             "2023-11-16 18:15:50.9951690,396,109\n";
    ifb_trace t;
    ifb_err e = {{0}};
    if (ifb_trace_load(&t, write_file("bom.csv", az, sizeof az - 1), IFB_TRACE_AUTO, 0, &e))
        fail_msg("%s", e.msg);
    assert_int_equal(t.format, IFB_TRACE_AZURE);
    assert_int_equal(t.n, 2);
    assert_int_equal(t.rows[1].arrival, 4314579000000ull);
    assert_int_equal(t.rows[1].output, 109);
    ifb_trace_free(&t);
    static const char mc[] = "\xEF\xBB\xBF{\"timestamp\": 0, \"input_length\": 9, "
                             "\"output_length\": 3}\n";
    if (ifb_trace_load(&t, write_file("bom.jsonl", mc, sizeof mc - 1), IFB_TRACE_AUTO, 0, &e))
        fail_msg("%s", e.msg);
    assert_int_equal(t.format, IFB_TRACE_MOONCAKE);
    assert_int_equal(t.rows[0].input, 9);
    ifb_trace_free(&t);
    /* only at the start: a BOM in the middle of the file is an error on its line */
    expect_string_error(
        "{\"timestamp\": 0, \"input_length\": 9, \"output_length\": 3}\n"
        "\xEF\xBB\xBF{\"timestamp\": 1, \"input_length\": 9, \"output_length\": 3}\n",
        "x.jsonl:2:", NULL);
}

/* The offending token is echoed as it stands in the file. */
static void test_echo_faithful(void **state)
{
    (void)state;
    expect_string_error("{\"timestamp\": 0, \"input_length\": NaN, \"output_length\": 3}\n",
                        "input_length", "found 'NaN' (row 1)");
    expect_string_error("{\"timestamp\": 0, \"input_length\": 9, \"output_length\": 10.5}\n",
                        "output_length", "found '10.5' (row 1)");
    expect_string_error("{\"timestamp\": -3, \"input_length\": 9, \"output_length\": 1}\n",
                        "timestamp", "found '-3' (row 1)");
    expect_string_error("{\"timestamp\": 0, \"input_length\": \"12\", \"output_length\": 1}\n",
                        "input_length", "found '\"12\"'");
    ifb_trace t;
    ifb_err e = {{0}};
    assert_int_equal(ifb_trace_load_string(&t,
                                           "TIMESTAMP,ContextTokens,GeneratedTokens\n"
                                           "2023-11-16 18:15:46.68, NaN ,44\n",
                                           "x.csv", IFB_TRACE_AUTO, 0, &e),
                     -1);
    if (!strstr(e.msg, "ContextTokens") || !strstr(e.msg, "found 'NaN' (row 2)"))
        fail_msg("%s", e.msg);
}

/* Keys: each once per row; a key name inside a string value is not a key. */
static void test_keys(void **state)
{
    (void)state;
    expect_string_error("{\"timestamp\": 0, \"input_length\": 5, \"output_length\": 2, "
                        "\"input_length\": 100000000}\n",
                        "x.jsonl:1:", "every key once per row");
    expect_string_error("{\"timestamp\": 0, \"timestamp\": 9, \"input_length\": 5, "
                        "\"output_length\": 2}\n",
                        "every key once", "'\"timestamp\"'");
    ifb_trace t;
    ifb_err e = {{0}};
    const char *hidden = "{\"note\": \"\\\"input_length\\\": 7\", \"timestamp\": 0, "
                         "\"input_length\": 5, \"output_length\": 2, \"hash_ids\": [1]}\n";
    if (ifb_trace_load_string(&t, hidden, "x.jsonl", IFB_TRACE_AUTO, 0, &e))
        fail_msg("%s", e.msg);
    assert_int_equal(t.rows[0].input, 5);
    ifb_trace_free(&t);
    expect_string_error("{\"timestamp\": 0, \"input_length\": 5}\n", "output_length",
                        "a \"output_length\" field");
    expect_string_error("{\"timestamp\": 0, \"input_length\": 5, \"output_length\": 2,}\n",
                        "x.jsonl:1:", "\"key\": value");
}

/* A scenario's own input_len/output_len next to a trace: refused, naming the key and its line;
 * without them the trace's lengths are used. */
static int load_serving(const char *yaml, ifb_serving_cfg *out, ifb_err *e)
{
    ifb_cfg *c = ifb_cfg_load_string(yaml, "mix.yaml", e);
    assert_non_null(c);
    int rc = ifb_serving_cfg_load(c, "workload", out, e);
    ifb_cfg_free(c);
    return rc;
}

static void test_trace_lengths_win_or_refused(void **state)
{
    (void)state;
    static const char rows[] = "TIMESTAMP,ContextTokens,GeneratedTokens\n"
                               "2023-11-16 18:15:46.68,100000000,44\n"
                               "2023-11-16 18:15:47.68,300,7\n";
    const char *path = write_file("mix.csv", rows, sizeof rows - 1);
    char yaml[512];
    ifb_serving_cfg cfg;
    ifb_err e = {{0}};
    const char *arr[] = {"trace", "closed", "poisson"};
    for (int a = 0; a < 3; a++) {
        snprintf(yaml, sizeof yaml, "workload:\n  arrival: %s\n  trace: %s\n  input_len: 1024\n",
                 arr[a], path);
        assert_int_equal(load_serving(yaml, &cfg, &e), -1);
        if (!strstr(e.msg, "mix.yaml:4: workload.input_len") ||
            !strstr(e.msg, "trace or no value when a trace is given") || !strstr(e.msg, "'1024'"))
            fail_msg("%s", e.msg);
        snprintf(yaml, sizeof yaml,
                 "workload:\n  arrival: %s\n  trace: %s\n  output_len: uniform:5-9\n", arr[a],
                 path);
        assert_int_equal(load_serving(yaml, &cfg, &e), -1);
        if (!strstr(e.msg, "mix.yaml:4: workload.output_len"))
            fail_msg("%s", e.msg);
        /* absent or `trace`: the trace's lengths */
        snprintf(yaml, sizeof yaml, "workload:\n  arrival: %s\n  trace: %s\n  output_len: trace\n",
                 arr[a], path);
        if (load_serving(yaml, &cfg, &e))
            fail_msg("%s", e.msg);
        assert_int_equal(cfg.input.kind, IFB_LEN_TRACE);
        assert_int_equal(cfg.output.kind, IFB_LEN_TRACE);
        ifb_serving_cfg_free(&cfg);
    }
    /* the 100M-token row then runs as itself: it cannot fit, and says so */
    snprintf(yaml, sizeof yaml, "workload:\n  arrival: trace\n  trace: %s\n", path);
    assert_int_equal(load_serving(yaml, &cfg, &e), 0);
    ifb_serving *s = NULL;
    assert_int_equal(ifb_serving_create(&s, &cfg, 2, 8, &e), -1);
    if (!strstr(e.msg, "KV cache"))
        fail_msg("%s", e.msg);
    ifb_serving_cfg_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_endless_file),
        cmocka_unit_test(test_long_line_and_nul),
        cmocka_unit_test(test_stream_stops_at_max_rows),
        cmocka_unit_test(test_bom_accepted),
        cmocka_unit_test(test_echo_faithful),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_trace_lengths_win_or_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
