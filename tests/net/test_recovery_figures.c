/* The failure-recovery figures (net/fail/failure.h) are measured or missing, never made up: with no
 * goodput bin after the failure the dip is NaN (it read 1.0, "no dip", next to a recovery of
 * "never"), with no goodput before it the pre-failure mean and the dip are NaN (they read 0), and
 * with bins on both sides the figures are the analytic ones. One switch, four 400G hosts, one
 * 8 MB message 0 -> 1 (160 us at line rate); the link that fails is host 3's, which carries
 * nothing, so the true dip is none (1.0) and the recovery immediate (0). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "net/fail/failure.h"
#include "net_world.h"
#include "topo/topo.h"

static void run_until(world *w, ifb_time down, ifb_time until, ifb_recovery *rv)
{
    ifb_fabric_cfg cfg;
    ifb_fabric_cfg_default(&cfg);
    make_single(w, 1, 4, &cfg);
    ifb_err e = {{0}};
    ifb_failure f = {.port = w->topo.nodes[w->topo.host_node[3]].first_port,
                     .sw = -1,
                     .down = down,
                     .up = IFB_TIME_NEVER};
    if (ifb_fail_schedule(w->fab, &f, 1, &e))
        fail_msg("%s", e.msg);
    assert_true(ifb_net_send(ifb_fabric_net(w->fab), 0, 1, 8 << 20, IFB_TC_COLL, NULL, NULL) > 0);
    w->sim.until = until;
    ifb_sim_run(&w->sim);
    ifb_fail_recovery(w->fab, until, rv);
    assert_true(rv->any);
    assert_int_equal(rv->t_fail, down);
    assert_int_equal(rv->bin, IFB_GOODPUT_BIN_DEFAULT);
}

static void test_no_bin_after_failure(void **state)
{
    (void)state;
    world w;
    ifb_recovery rv;
    run_until(&w, 50 * IFB_US, 55 * IFB_US, &rv); /* the run ends inside the failure's bin */
    assert_true(rv.pre_gbps > 300 && rv.pre_gbps <= 400); /* measured: line rate, less headers */
    if (!isnan(rv.dip))
        fail_msg("dip %g without a bin after the failure", rv.dip);
    assert_true(rv.recovery == IFB_TIME_NEVER);
    destroy(&w);
}

static void test_no_bin_before_failure(void **state)
{
    (void)state;
    world w;
    ifb_recovery rv;
    run_until(&w, 0, 100 * IFB_US, &rv); /* down at once: no goodput before */
    if (!isnan(rv.pre_gbps) || !isnan(rv.dip))
        fail_msg("pre-failure goodput %g, dip %g with nothing before the failure", rv.pre_gbps,
                 rv.dip);
    destroy(&w);
}

static void test_both_sides_measured(void **state)
{
    (void)state;
    world w;
    ifb_recovery rv;
    run_until(&w, 50 * IFB_US, 120 * IFB_US, &rv);
    assert_true(rv.pre_gbps > 300 && rv.pre_gbps <= 400);
    /* an unused link: every later bin carries the same line-rate goodput */
    if (!(fabs(rv.dip - 1.0) < 0.02))
        fail_msg("dip %g on an unused link", rv.dip);
    assert_int_equal(rv.recovery, 0);
    destroy(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_bin_after_failure),
        cmocka_unit_test(test_no_bin_before_failure),
        cmocka_unit_test(test_both_sides_measured),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
