/* Open-loop serving (Poisson and trace arrivals) against the run's safety nets. An open-loop
 * system sits idle between arrivals, often for longer than the progress watchdog's window; that
 * is not a hang and must not stop the run. A real hang (a message that is never delivered) must
 * still stop it with the watchdog's diagnosis, and a serving engine left with nothing that could
 * finish its requests must be reported rather than end as a quietly partial result. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/fabric/fabric.h"
#include "scenario/serving_cfg.h"
#include "topo/topo.h"
#include "workload/serving/serving.h"

#define TRACE500 IFB_SOURCE_DIR "/data/traces/AzureLLMInferenceTrace_conv_500.csv"

typedef struct run {
    ifb_sim sim;
    ifb_topo topo;
    ifb_fabric *fab;
    ifb_serving *s;
    ifb_serving_cfg cfg;
    ifb_stop stop;
} run;

static void load(const char *yaml, ifb_serving_cfg *out)
{
    ifb_err e = {{0}};
    ifb_cfg *c = ifb_cfg_load_string(yaml, "test.yaml", &e);
    assert_non_null(c);
    if (ifb_serving_cfg_load(c, "workload", out, &e))
        fail_msg("config: %s", e.msg);
    ifb_cfg_free(c);
}

/* 2 servers x 8 GPUs, 4 x 400G NICs each, on one switch; the watchdog armed as `infabric run`
 * arms it (twice the retransmission timeout plus 50 ms: 184.2 ms with the default 67.1 ms). */
static void start(run *w, const char *yaml, double loss_host0)
{
    memset(w, 0, sizeof *w);
    ifb_err e = {{0}};
    load(yaml, &w->cfg);
    if (ifb_serving_create(&w->s, &w->cfg, 2, 8, &e))
        fail_msg("create: %s", e.msg);
    ifb_sim_init(&w->sim, 1);
    ifb_topo_init(&w->topo);
    ifb_server_spec sp = {.gpus_per_server = 8,
                          .nics_per_server = 4,
                          .nic_bps = 400000000000ull,
                          .host_delay = 25 * IFB_NS,
                          .nvlink_bps = 3600000000000ull,
                          .nvlink_latency = IFB_US};
    assert_int_equal(ifb_topo_single_switch(&w->topo, 2, &sp, 64, &e), 0);
    assert_int_equal(ifb_topo_route(&w->topo, &e), 0);
    ifb_fabric_cfg fc;
    ifb_fabric_cfg_default(&fc);
    fc.record_messages = 0;
    double *loss = calloc((size_t)w->topo.nports, sizeof *loss);
    loss[w->topo.nodes[w->topo.host_node[0]].first_port] = loss_host0;
    fc.port_loss = loss;
    assert_int_equal(ifb_fabric_create(&w->fab, &w->sim, &w->topo, &fc, &e), 0);
    free(loss); /* copied into the ports */
    w->sim.watchdog = 2 * fc.rto + 50 * IFB_MS;
    if (ifb_serving_start(w->s, &w->sim, ifb_fabric_net(w->fab), &e))
        fail_msg("start: %s", e.msg);
    ifb_sim_start_watchdog(&w->sim);
    w->stop = ifb_sim_run(&w->sim);
}

static void run_free(run *w)
{
    ifb_serving_destroy(w->s);
    ifb_serving_cfg_free(&w->cfg);
    ifb_fabric_destroy(w->fab);
    ifb_topo_free(&w->topo);
    ifb_sim_destroy(&w->sim);
}

/* The longest time the system held no request at all between two arrivals. */
static ifb_time longest_idle(const ifb_serving *s)
{
    size_t n;
    const ifb_serving_req *q = ifb_serving_requests(s, &n);
    ifb_time busy_until = 0, idle = 0;
    for (size_t i = 0; i < n; i++) { /* requests are in arrival order */
        if (q[i].arrival > busy_until && q[i].arrival - busy_until > idle)
            idle = q[i].arrival - busy_until;
        if (q[i].finish != IFB_TIME_NEVER && q[i].finish > busy_until)
            busy_until = q[i].finish;
    }
    return idle;
}

static void expect_all_done(run *w, uint64_t n)
{
    if (w->stop != IFB_STOP_EMPTY)
        fail_msg("the run stopped (%s) at %.3f s: %s", ifb_stop_name(w->stop),
                 ifb_time_to_s(w->sim.now), w->sim.error);
    const ifb_serving_result *r = ifb_serving_finish(w->s);
    assert_true(r->done);
    assert_int_equal(r->finished, n);
    assert_int_equal(r->measured, n);
    assert_int_equal(r->failed, 0);
    ifb_err e;
    assert_int_equal(ifb_serving_check_end(w->s, w->stop, &e), 0);
    /* the point of the test: the system sat idle for longer than the watchdog's window */
    ifb_time idle = longest_idle(w->s);
    if (idle <= w->sim.watchdog)
        fail_msg("no idle gap longer than the watchdog (%.3f ms <= %.3f ms): test proves nothing",
                 ifb_time_to_s(idle) * 1e3, ifb_time_to_s(w->sim.watchdog) * 1e3);
    assert_int_equal(w->sim.work, 0); /* nothing outstanding once done */
}

/* Poisson at 1 request/s: a few short requests, seconds apart. */
static void test_poisson_idle_is_not_a_hang(void **state)
{
    (void)state;
    run w;
    start(&w,
          "workload:\n  arrival: poisson\n  rate: 1\n  requests: 6\n  input_len: 32\n"
          "  output_len: 4\n  seed: 3\n",
          0);
    expect_all_done(&w, 6);
    run_free(&w);
}

/* The first 24 rows of the Azure conversation trace at their own times and lengths. */
static void test_trace_idle_is_not_a_hang(void **state)
{
    (void)state;
    run w;
    start(&w,
          "workload:\n  arrival: trace\n  trace: " TRACE500 "\n  requests: 24\n"
          "  fidelity: sample:8\n",
          0);
    expect_all_done(&w, 24);
    size_t n;
    const ifb_serving_req *q = ifb_serving_requests(w.s, &n);
    assert_int_equal(n, 24);
    /* row 2 of the file (the first request): 2023-11-16 18:15:46.6805900,374,44; row 3 at
     * 18:15:50.9951690: 4.3145790 s later */
    assert_int_equal(q[0].arrival, 0);
    assert_int_equal(q[0].input, 374);
    assert_int_equal(q[0].output, 44);
    assert_int_equal(q[1].arrival, 4314579000000ull);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(q[i].generated, q[i].output);
    run_free(&w);
}

/* A real hang among idle gaps: host 0's NIC corrupts every frame it sends and the transport
 * retries forever (the C API's default), so the messages of GPUs 0 and 1 are never delivered.
 * The watchdog stops the run with its diagnosis naming the oldest stuck message. */
static void test_black_hole_still_caught(void **state)
{
    (void)state;
    run w;
    start(&w,
          "workload:\n  arrival: poisson\n  rate: 1\n  requests: 6\n  input_len: 32\n"
          "  output_len: 4\n  seed: 3\n",
          1.0);
    assert_int_equal(w.stop, IFB_STOP_ERROR);
    if (!strstr(w.sim.error, "watchdog: nothing delivered for 184217.728 us") ||
        !strstr(w.sim.error, "oldest outstanding network message") ||
        (!strstr(w.sim.error, "endpoint 0 ->") && !strstr(w.sim.error, "endpoint 1 ->")))
        fail_msg("unexpected report: %s", w.sim.error);
    assert_true(w.sim.work > 0);
    assert_false(ifb_serving_finish(w.s)->done);
    run_free(&w);
}

/* A network that accepts messages and never delivers them. `hold` says whether it counts them
 * as outstanding work, as a real network does; without that, nothing at all is left to run. */
typedef struct swallow {
    ifb_sim *sim;
    int hold;
    uint64_t n;
} swallow;

static uint64_t swallow_send(ifb_net *net, int src, int dst, uint64_t bytes, int tclass,
                             ifb_msg_cb cb, void *ctx)
{
    (void)src;
    (void)dst;
    (void)bytes;
    (void)tclass;
    (void)cb;
    (void)ctx;
    swallow *sw = net->impl;
    if (sw->hold)
        ifb_sim_work_begin(sw->sim);
    return ++sw->n;
}

static void run_swallow(int hold, ifb_stop *stop, char *err, size_t cap, ifb_err *end)
{
    ifb_serving_cfg cfg;
    load("workload:\n  arrival: poisson\n  rate: 1\n  requests: 3\n  input_len: 32\n"
         "  output_len: 4\n",
         &cfg);
    ifb_serving *s;
    ifb_err e = {{0}};
    if (ifb_serving_create(&s, &cfg, 2, 8, &e))
        fail_msg("create: %s", e.msg);
    ifb_sim sim;
    ifb_sim_init(&sim, 1);
    swallow sw = {&sim, hold, 0};
    ifb_net net = {.impl = &sw, .nendpoints = 16, .send = swallow_send};
    sim.watchdog = 10 * IFB_MS;
    assert_int_equal(ifb_serving_start(s, &sim, &net, &e), 0);
    ifb_sim_start_watchdog(&sim);
    *stop = ifb_sim_run(&sim);
    snprintf(err, cap, "%s", sim.error);
    ifb_serving_finish(s);
    end->msg[0] = 0;
    ifb_serving_check_end(s, *stop, end);
    assert_true(sw.n > 0);
    ifb_serving_destroy(s);
    ifb_serving_cfg_free(&cfg);
    ifb_sim_destroy(&sim);
}

static void test_stall_reported(void **state)
{
    (void)state;
    ifb_stop stop;
    char err[1024];
    ifb_err end;
    /* outstanding messages that never complete: the watchdog */
    run_swallow(1, &stop, err, sizeof err, &end);
    assert_int_equal(stop, IFB_STOP_ERROR);
    if (!strstr(err, "watchdog: nothing delivered for 10000.000 us"))
        fail_msg("unexpected report: %s", err);
    /* nothing outstanding and nothing scheduled, requests unfinished: the end-of-run check */
    run_swallow(0, &stop, err, sizeof err, &end);
    assert_int_equal(stop, IFB_STOP_EMPTY);
    if (!strstr(end.msg, "ran out of events") || !strstr(end.msg, "3 of 3 requests unfinished") ||
        !strstr(end.msg, "step 0 waits for"))
        fail_msg("unexpected report: '%s'", end.msg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_poisson_idle_is_not_a_hang),
        cmocka_unit_test(test_trace_idle_is_not_a_hang),
        cmocka_unit_test(test_black_hole_still_caught),
        cmocka_unit_test(test_stall_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
