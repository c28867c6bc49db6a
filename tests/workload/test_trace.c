/* Request traces: both schemas parse to the expected arrivals and lengths, and malformed rows are
 * rejected with the file and row named. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "workload/trace.h"

#define DATA IFB_TEST_DIR "/workload/data/"

static void test_azure_rows(void **state)
{
    (void)state;
    ifb_trace t;
    ifb_err e = {{0}};
    assert_int_equal(ifb_trace_load(&t, DATA "azure_small.csv", IFB_TRACE_AUTO, 0, &e), 0);
    assert_int_equal(t.format, IFB_TRACE_AZURE);
    assert_int_equal(t.n, 3);
    assert_int_equal(t.rows[0].arrival, 0);
    assert_int_equal(t.rows[0].input, 4808);
    assert_int_equal(t.rows[0].output, 10);
    /* 04.0319600 - 03.9799600 = 52 ms exactly */
    assert_int_equal(t.rows[1].arrival, 52 * IFB_MS);
    assert_int_equal(t.rows[1].input, 3180);
    assert_int_equal(t.rows[2].arrival, 1520040 * IFB_US);
    assert_int_equal(t.rows[2].output, 27);
    ifb_trace_free(&t);
}

static void test_mooncake_rows(void **state)
{
    (void)state;
    ifb_trace t;
    ifb_err e = {{0}};
    assert_int_equal(ifb_trace_load(&t, DATA "mooncake_small.jsonl", IFB_TRACE_AUTO, 0, &e), 0);
    assert_int_equal(t.format, IFB_TRACE_MOONCAKE);
    assert_int_equal(t.n, 3);
    assert_int_equal(t.rows[1].arrival, 27 * IFB_MS);
    assert_int_equal(t.rows[1].input, 7322);
    assert_int_equal(t.rows[1].output, 490);
    assert_int_equal(t.rows[2].arrival, 3 * IFB_SEC);
    assert_int_equal(t.rows[2].output, 5);
    /* max_rows */
    ifb_trace_free(&t);
    assert_int_equal(ifb_trace_load(&t, DATA "mooncake_small.jsonl", IFB_TRACE_MOONCAKE, 2, &e), 0);
    assert_int_equal(t.n, 2);
    ifb_trace_free(&t);
}

static void expect_error(const char *path, ifb_trace_format f, const char *needle1,
                         const char *needle2)
{
    ifb_trace t;
    ifb_err e = {{0}};
    assert_int_equal(ifb_trace_load(&t, path, f, 0, &e), -1);
    if (!strstr(e.msg, needle1) || !strstr(e.msg, needle2))
        fail_msg("message '%s' lacks '%s' or '%s'", e.msg, needle1, needle2);
    assert_null(t.rows);
}

static void test_malformed_rows(void **state)
{
    (void)state;
    expect_error(DATA "azure_bad.csv", IFB_TRACE_AUTO, "azure_bad.csv:3", "ContextTokens");
    expect_error(DATA "azure_bad.csv", IFB_TRACE_AUTO, "row 3", "31x80");
    expect_error(DATA "mooncake_bad.jsonl", IFB_TRACE_AUTO, "mooncake_bad.jsonl:3",
                 "output_length");
    expect_error(DATA "no_such_trace.csv", IFB_TRACE_AUTO, "cannot open", "no_such_trace");
}

static void expect_string_error(const char *text, ifb_trace_format f, const char *needle)
{
    ifb_trace t;
    ifb_err e = {{0}};
    assert_int_equal(ifb_trace_load_string(&t, text, "x.trace", f, 0, &e), -1);
    if (!strstr(e.msg, needle))
        fail_msg("message '%s' lacks '%s'", e.msg, needle);
}

static void test_malformed_strings(void **state)
{
    (void)state;
    expect_string_error("a,b,c\n", IFB_TRACE_AZURE, "x.trace:1");
    expect_string_error("TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:17:03,1\n",
                        IFB_TRACE_AZURE, "x.trace:2");
    expect_string_error("TIMESTAMP,ContextTokens,GeneratedTokens\n2023-13-16 18:17:03,1,2\n",
                        IFB_TRACE_AZURE, "TIMESTAMP");
    expect_string_error("TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:17:03,5,0\n",
                        IFB_TRACE_AZURE, "at least 1 token");
    expect_string_error("TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:17:03,5,2\n"
                        "2023-11-16 18:17:02,5,2\n",
                        IFB_TRACE_AZURE, "x.trace:3");
    expect_string_error("{\"timestamp\": 0, \"input_length\": -4, \"output_length\": 2}\n",
                        IFB_TRACE_MOONCAKE, "input_length");
    expect_string_error("{\"timestamp\": 0, \"input_length\": 4, \"output_length\": 2}\n"
                        "not json\n",
                        IFB_TRACE_MOONCAKE, "x.trace:2");
    expect_string_error("", IFB_TRACE_AUTO, "at least one request");
}

/* The shared traces, when present: every row parses and the counts match the reference. */
static void test_shared_traces(void **state)
{
    (void)state;
    const char *path = "/work/shared/data/traces/AzureLLMInferenceTrace_code.csv";
    FILE *f = fopen(path, "r");
    if (!f)
        skip();
    fclose(f);
    ifb_trace t;
    ifb_err e = {{0}};
    assert_int_equal(ifb_trace_load(&t, path, IFB_TRACE_AUTO, 0, &e), 0);
    assert_int_equal(t.n, 8819);
    ifb_trace_free(&t);
    assert_int_equal(ifb_trace_load(&t, "/work/shared/data/traces/mooncake_synthetic_trace.jsonl",
                                    IFB_TRACE_AUTO, 0, &e),
                     0);
    assert_int_equal(t.n, 3993);
    ifb_trace_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_azure_rows),     cmocka_unit_test(test_mooncake_rows),
        cmocka_unit_test(test_malformed_rows), cmocka_unit_test(test_malformed_strings),
        cmocka_unit_test(test_shared_traces),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
