/* Run-time safety nets of the engine: invariant checkers (--check), the progress watchdog,
 * the zero-delay loop detector and the wall-time limit each stop a run with a message that
 * names what fired, instead of bending a result or hanging. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/sim.h"

/* A retransmission loop that never succeeds: keeps the run alive, delivers nothing. */
static void futile_retry(ifb_sim *sim, void *obj, uint64_t arg)
{
    (void)obj;
    ifb_sim_after(sim, 10 * IFB_US, futile_retry, NULL, arg + 1);
}

static void diag(ifb_sim *sim, void *ctx, char *msg, size_t cap)
{
    (void)sim;
    snprintf(msg, cap, "stuck: %s", (const char *)ctx);
}

static void test_watchdog_fires_on_no_progress(void **state)
{
    (void)state;
    ifb_sim sim;
    ifb_sim_init(&sim, 1);
    sim.watchdog = IFB_MS;
    sim.diag = diag;
    sim.diag_ctx = "port sw0:3 paused on priority 3";
    ifb_sim_work_begin(&sim); /* one message outstanding, never completed */
    ifb_sim_at(&sim, 0, futile_retry, NULL, 0);
    ifb_sim_start_watchdog(&sim);
    assert_int_equal(ifb_sim_run(&sim), IFB_STOP_ERROR);
    assert_non_null(strstr(sim.error, "watchdog"));
    assert_non_null(strstr(sim.error, "1 messages are outstanding"));
    assert_non_null(strstr(sim.error, "port sw0:3 paused on priority 3"));
    /* fired after one to two watchdog intervals, not at once and not never */
    assert_true(sim.now >= IFB_MS && sim.now <= 2 * IFB_MS + 10 * IFB_US);
    ifb_sim_destroy(&sim);
}

static void progress_then_done(ifb_sim *sim, void *obj, uint64_t arg)
{
    (void)obj;
    if (arg < 50) {
        sim->progress++;
        ifb_sim_after(sim, 100 * IFB_US, progress_then_done, NULL, arg + 1);
    } else {
        ifb_sim_work_end(sim);
    }
}

static void test_watchdog_quiet_while_progressing(void **state)
{
    (void)state;
    ifb_sim sim;
    ifb_sim_init(&sim, 1);
    sim.watchdog = IFB_MS;
    ifb_sim_work_begin(&sim);
    ifb_sim_at(&sim, 0, progress_then_done, NULL, 0);
    ifb_sim_start_watchdog(&sim);
    /* 5 ms of slow but steady progress: no false alarm, and the watchdog (a daemon) does not
     * keep the run alive after the work ends */
    assert_int_equal(ifb_sim_run(&sim), IFB_STOP_EMPTY);
    assert_int_equal(sim.now, 50 * 100 * IFB_US);
    ifb_sim_destroy(&sim);
}

static void zero_delay_loop(ifb_sim *sim, void *obj, uint64_t arg)
{
    (void)obj;
    ifb_sim_after(sim, 0, zero_delay_loop, NULL, arg + 1);
}

static void test_stall_detector(void **state)
{
    (void)state;
    ifb_sim sim;
    ifb_sim_init(&sim, 1);
    sim.stall_events = 100000;
    ifb_sim_at(&sim, 5 * IFB_US, zero_delay_loop, NULL, 0);
    assert_int_equal(ifb_sim_run(&sim), IFB_STOP_ERROR);
    assert_non_null(strstr(sim.error, "without simulated time advancing"));
    assert_int_equal(sim.now, 5 * IFB_US);
    assert_true(sim.events <= 100002);
    ifb_sim_destroy(&sim);
}

typedef struct counter {
    int64_t value;
} counter;

static void decrement(ifb_sim *sim, void *obj, uint64_t arg)
{
    counter *c = obj;
    c->value--; /* a deliberately broken component: the counter goes negative */
    if (arg < 10)
        ifb_sim_after(sim, IFB_NS, decrement, obj, arg + 1);
}

static int never_negative(ifb_sim *sim, void *ctx, char *msg, size_t cap)
{
    (void)sim;
    const counter *c = ctx;
    if (c->value >= 0)
        return 0;
    snprintf(msg, cap, "buffer counter is %lld", (long long)c->value);
    return -1;
}

static void test_checker_trips(void **state)
{
    (void)state;
    ifb_sim sim;
    ifb_sim_init(&sim, 1);
    counter c = {3};
    sim.check = 1;
    sim.check_every = 1;
    assert_int_equal(ifb_sim_add_checker(&sim, "buffer-non-negative", never_negative, &c), 0);
    ifb_sim_at(&sim, 0, decrement, &c, 0);
    assert_int_equal(ifb_sim_run(&sim), IFB_STOP_ERROR);
    assert_non_null(strstr(sim.error, "invariant buffer-non-negative violated"));
    assert_non_null(strstr(sim.error, "buffer counter is -1"));
    assert_int_equal(c.value, -1); /* stopped at the first violation */
    ifb_sim_destroy(&sim);
}

static void test_checker_off_by_default(void **state)
{
    (void)state;
    ifb_sim sim;
    ifb_sim_init(&sim, 1);
    counter c = {3};
    assert_int_equal(ifb_sim_add_checker(&sim, "buffer-non-negative", never_negative, &c), 0);
    ifb_sim_at(&sim, 0, decrement, &c, 0);
    assert_int_equal(ifb_sim_run(&sim), IFB_STOP_EMPTY);
    assert_int_equal(c.value, 3 - 11);
    ifb_sim_destroy(&sim);
}

static void busy(ifb_sim *sim, void *obj, uint64_t arg)
{
    (void)obj;
    ifb_sim_after(sim, 1, busy, NULL, arg + 1);
}

static void test_max_wall(void **state)
{
    (void)state;
    ifb_sim sim;
    ifb_sim_init(&sim, 1);
    sim.max_wall = 0.2;
    ifb_sim_at(&sim, 0, busy, NULL, 0);
    assert_int_equal(ifb_sim_run(&sim), IFB_STOP_WALL);
    assert_string_equal(ifb_stop_name(IFB_STOP_WALL), "wall-limit");
    ifb_sim_destroy(&sim);
}

static void nothing(ifb_sim *sim, void *obj, uint64_t arg)
{
    (void)sim;
    (void)obj;
    (void)arg;
}

/* A broken component that turns the clock back (here: an event slipped into the queue behind
 * the current time) stops the run with the event-time invariant. */
static void test_event_time_trips(void **state)
{
    (void)state;
    ifb_sim sim;
    ifb_sim_init(&sim, 1);
    ifb_sim_at(&sim, 5 * IFB_NS, nothing, NULL, 0);
    sim.now = 10 * IFB_NS; /* injected: time moved past a pending event */
    assert_int_equal(ifb_sim_run(&sim), IFB_STOP_ERROR);
    assert_non_null(strstr(sim.error, "invariant event-time violated"));
    assert_non_null(strstr(sim.error, "5000 ps after 10000 ps"));
    ifb_sim_destroy(&sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_watchdog_fires_on_no_progress),
        cmocka_unit_test(test_watchdog_quiet_while_progressing),
        cmocka_unit_test(test_stall_detector),
        cmocka_unit_test(test_checker_trips),
        cmocka_unit_test(test_checker_off_by_default),
        cmocka_unit_test(test_max_wall),
        cmocka_unit_test(test_event_time_trips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
