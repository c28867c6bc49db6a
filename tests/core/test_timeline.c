/* The timeline writer: the file is JSON a parser accepts, every event carries the fields the
 * Trace Event format needs for its phase, times are exact to the picosecond, the window and
 * the event cap keep what they promise and count what they leave out, and a write error on
 * the file is reported rather than lost. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/timeline.h"

static char path[64];

static int setup(void **state)
{
    (void)state;
    snprintf(path, sizeof path, "/tmp/ifb-tl-%d.json", (int)getpid());
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    return 0;
}

static json_t *load(void)
{
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (!j)
        fprintf(stderr, "%s:%d: %s\n", path, je.line, je.text);
    assert_non_null(j);
    return j;
}

static json_t *events_of(json_t *root)
{
    json_t *ev = json_object_get(root, "traceEvents");
    assert_true(json_is_array(ev));
    return ev;
}

static size_t count_ph(json_t *ev, const char *ph)
{
    size_t n = 0, i;
    json_t *x;
    json_array_foreach(ev, i, x) n += strcmp(json_string_value(json_object_get(x, "ph")), ph) == 0;
    return n;
}

static void test_schema_and_exact_times(void **state)
{
    (void)state;
    ifb_err e;
    ifb_tl_cfg c = {0, 0, 0};
    ifb_timeline *t = ifb_tl_open(path, &c, &e);
    assert_non_null(t);
    ifb_tl_name_process(t, 3, "GPU \"3\"\n", 3);
    ifb_tl_name_thread(t, 3, 1, "compute");
    /* 1.000001 us start, 2.5 us long: both need picosecond digits */
    ifb_tl_slice(t, 3, 1, "attn", "compute", 1000001, 3500001, "layer", 7);
    ifb_tl_counter(t, 9, "queue_bytes", 4000000, 4096);
    ifb_tl_flow(t, "kv", "kv", 3, 1, 1000001, 4, 1, 9000000);
    assert_int_equal(ifb_tl_events(t), 4);
    assert_int_equal(ifb_tl_close(t, &e), 0);

    json_t *root = load();
    json_t *ev = events_of(root);
    size_t i;
    json_t *x;
    json_array_foreach(ev, i, x)
    {
        const char *ph = json_string_value(json_object_get(x, "ph"));
        assert_non_null(ph);
        assert_true(json_is_integer(json_object_get(x, "pid")));
        assert_true(json_is_integer(json_object_get(x, "tid")));
        assert_true(json_is_number(json_object_get(x, "ts")));
        if (strcmp(ph, "X") == 0) {
            assert_true(json_is_number(json_object_get(x, "dur")));
            assert_true(json_number_value(json_object_get(x, "ts")) == 1.000001);
            assert_true(json_number_value(json_object_get(x, "dur")) == 2.5);
            assert_int_equal(
                json_integer_value(json_object_get(json_object_get(x, "args"), "layer")), 7);
        }
        if (strcmp(ph, "s") == 0 || strcmp(ph, "f") == 0)
            assert_int_equal(json_integer_value(json_object_get(x, "id")), 1);
        if (strcmp(ph, "M") == 0 &&
            strcmp(json_string_value(json_object_get(x, "name")), "process_name") == 0)
            assert_string_equal(
                json_string_value(json_object_get(json_object_get(x, "args"), "name")),
                "GPU \"3\"\n");
    }
    assert_int_equal(count_ph(ev, "M"), 3);
    assert_int_equal(count_ph(ev, "X"), 1);
    assert_int_equal(count_ph(ev, "C"), 1);
    assert_int_equal(count_ph(ev, "s"), 1);
    assert_int_equal(count_ph(ev, "f"), 1);
    json_decref(root);
}

static void test_window_and_cap(void **state)
{
    (void)state;
    ifb_err e;
    ifb_tl_cfg c = {10000000, 20000000, 3}; /* [10 us, 20 us), at most 3 events */
    ifb_timeline *t = ifb_tl_open(path, &c, &e);
    assert_non_null(t);
    ifb_tl_slice(t, 0, 0, "before", "c", 9999999, 12000000, NULL, 0); /* starts before */
    ifb_tl_slice(t, 0, 0, "after", "c", 15000000, 20000000, NULL, 0); /* ends at the end */
    assert_true(ifb_tl_wants(t, 10000000, 19999999));
    assert_false(ifb_tl_wants(t, 10000000, 20000000));
    ifb_tl_slice(t, 0, 0, "in", "c", 10000000, 19999999, NULL, 0);
    ifb_tl_flow(t, "f", "c", 0, 0, 11000000, 1, 0, 12000000); /* 2 events: 3 in all */
    ifb_tl_counter(t, 0, "q", 13000000, 1);                   /* over the cap */
    assert_false(ifb_tl_wants(t, 10000000, 11000000));
    assert_int_equal(ifb_tl_events(t), 3);
    assert_int_equal(ifb_tl_dropped(t), 3);
    assert_int_equal(ifb_tl_close(t, &e), 0);
    json_t *root = load();
    json_t *ev = events_of(root);
    assert_int_equal(json_array_size(ev), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(ev, 0), "name")), "in");
    json_t *od = json_object_get(root, "otherData");
    assert_int_equal(json_integer_value(json_object_get(od, "dropped_by_bounds")), 3);
    json_decref(root);
}

static void test_bad_window_and_unwritable(void **state)
{
    (void)state;
    ifb_err e;
    ifb_tl_cfg c = {5, 5, 0};
    assert_null(ifb_tl_open(path, &c, &e));
    assert_non_null(strstr(e.msg, "an end after the start"));
    ifb_tl_cfg ok = {0, 0, 0};
    assert_null(ifb_tl_open("/nonexistent-dir/x.json", &ok, &e));
    assert_non_null(strstr(e.msg, "/nonexistent-dir/x.json"));
    /* a full disk: every write fails, and close says so */
    if (access("/dev/full", W_OK) == 0) {
        ifb_timeline *t = ifb_tl_open("/dev/full", &ok, &e);
        assert_non_null(t);
        for (int i = 0; i < 10000; i++)
            ifb_tl_slice(t, 0, 0, "x", "c", (ifb_time)i, (ifb_time)i + 1, NULL, 0);
        assert_int_equal(ifb_tl_close(t, &e), -1);
        assert_non_null(strstr(e.msg, "/dev/full"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_schema_and_exact_times, setup, teardown),
        cmocka_unit_test_setup_teardown(test_window_and_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_window_and_unwritable, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
