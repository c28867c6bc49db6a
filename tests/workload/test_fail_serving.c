/* Serving when messages fail: a network (a custom ifb_net wrapping the ideal one) fails every
 * message to or from one GPU once a given number of messages has been sent, after a delay that
 * stands for the transport's retries. The requests of that GPU's instance are reported failed,
 * the other instances keep decoding and finish theirs, new requests go to live instances only,
 * nothing more is sent to the dead GPU, and the run ends by itself. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/ideal.h"
#include "scenario/serving_cfg.h"
#include "workload/serving/serving.h"

/* ---- a network that loses one endpoint ----------------------------------------------------- */

typedef struct failnet {
    ifb_net net;
    ifb_net *inner;
    ifb_sim *sim;
    int dead;            /* endpoint that becomes unreachable */
    uint64_t fail_after; /* messages sent before it does */
    ifb_time fail_delay; /* retries before the failure is reported */
    uint64_t sent, failed;
    ifb_time last_dead_send; /* last message posted to or from the dead endpoint */
    uint64_t next_id;
} failnet;

typedef struct failmsg {
    ifb_msg_cb cb;
    void *ctx;
    ifb_msg_info info;
} failmsg;

static void report_failure(ifb_sim *sim, void *obj, uint64_t arg)
{
    (void)arg;
    failmsg *m = obj;
    m->info.done = sim->now;
    m->cb(sim, m->ctx, &m->info);
    free(m);
}

static uint64_t failnet_send(ifb_net *net, int src, int dst, uint64_t bytes, int tclass,
                             ifb_msg_cb cb, void *ctx)
{
    failnet *n = net->impl;
    n->sent++;
    int touches = src == n->dead || dst == n->dead;
    if (touches)
        n->last_dead_send = n->sim->now;
    if (!touches || n->sent <= n->fail_after)
        return ifb_net_send(n->inner, src, dst, bytes, tclass, cb, ctx);
    failmsg *m = calloc(1, sizeof *m);
    assert_non_null(m);
    m->cb = cb;
    m->ctx = ctx;
    m->info = (ifb_msg_info){.id = ++n->next_id,
                             .bytes = bytes,
                             .src = src,
                             .dst = dst,
                             .tclass = tclass,
                             .start = n->sim->now,
                             .failed = 1};
    n->failed++;
    ifb_sim_after(n->sim, n->fail_delay, report_failure, m, 0);
    return m->info.id;
}

/* ---- the run ------------------------------------------------------------------------------- */

static const char *const YAML = "workload:\n"
                                "  model: mixtral-8x7b-v0.1-config.json\n"
                                "  parallel:\n"
                                "    layout: dp-ep\n"
                                "  concurrency: 16\n"
                                "  input_len: uniform:16-64\n"
                                "  output_len: uniform:20-40\n"
                                "  requests: 120\n"
                                "  warmup: 0\n";

typedef struct run {
    ifb_sim sim;
    ifb_ideal *ideal;
    failnet fn;
    ifb_serving *s;
    ifb_serving_cfg cfg;
    const ifb_serving_result *res;
} run;

static void run_fail(run *w, uint64_t fail_after)
{
    memset(w, 0, sizeof *w);
    ifb_err e = {{0}};
    ifb_cfg *c = ifb_cfg_load_string(YAML, "test.yaml", &e);
    assert_non_null(c);
    if (ifb_serving_cfg_load(c, "workload", &w->cfg, &e))
        fail_msg("config: %s", e.msg);
    ifb_cfg_free(c);
    if (ifb_serving_create(&w->s, &w->cfg, 1, 8, &e))
        fail_msg("create: %s", e.msg);
    ifb_sim_init(&w->sim, 1);
    ifb_ideal_cfg ic = ifb_ideal_cfg_zero(8, 8);
    ic.local_rate_bps = 3600000000000ull;
    ic.local_latency = IFB_US;
    assert_int_equal(ifb_ideal_create(&w->ideal, &w->sim, &ic, &e), 0);
    w->fn = (failnet){.inner = ifb_ideal_net(w->ideal),
                      .sim = &w->sim,
                      .dead = 3,
                      .fail_after = fail_after,
                      .fail_delay = 100 * IFB_US};
    w->fn.net = (ifb_net){.impl = &w->fn, .nendpoints = 8, .send = failnet_send};
    if (ifb_serving_start(w->s, &w->sim, &w->fn.net, &e))
        fail_msg("start: %s", e.msg);
    ifb_stop st = ifb_sim_run(&w->sim);
    if (st != IFB_STOP_EMPTY)
        fail_msg("run stopped: %s %s", ifb_stop_name(st), w->sim.error);
    w->res = ifb_serving_finish(w->s);
}

static void run_free(run *w)
{
    ifb_serving_destroy(w->s);
    ifb_serving_cfg_free(&w->cfg);
    ifb_ideal_destroy(w->ideal);
    ifb_sim_destroy(&w->sim);
}

static void test_one_gpu_fails(void **state)
{
    (void)state;
    run w;
    run_fail(&w, 5000);
    const ifb_serving_result *r = w.res;
    assert_true(r->done);
    assert_true(w.fn.failed > 0);
    assert_int_equal(r->instances_down, 1);
    size_t n;
    const ifb_serving_req *q = ifb_serving_requests(w.s, &n);
    uint64_t failed = 0, finished = 0, after_down = 0;
    ifb_time t_down = IFB_TIME_NEVER;
    for (size_t i = 0; i < n; i++)
        if (q[i].failed && q[i].finish < t_down)
            t_down = q[i].finish;
    assert_true(t_down != IFB_TIME_NEVER);
    for (size_t i = 0; i < n; i++) {
        if (q[i].failed) {
            failed++;
            assert_int_equal(q[i].instance, 3); /* only the dead GPU's requests */
            assert_int_equal(q[i].finish, t_down);
            assert_false(q[i].measured);
        } else if (q[i].finish != IFB_TIME_NEVER) {
            finished++;
            assert_int_equal(q[i].generated, q[i].output);
        }
        if (q[i].arrival > t_down) {
            after_down++;
            assert_true(q[i].instance != 3); /* routed to live instances only */
        }
    }
    assert_int_equal(failed, r->failed);
    assert_true(failed > 0);
    assert_int_equal(finished, r->finished);
    assert_true(r->measured > 100);
    assert_true(after_down > 16); /* the closed loop went on after the failure */
    assert_true(r->tgr > 0 && isfinite(r->tgr));
    /* nothing was sent to or from the dead GPU after it was marked down */
    assert_true(w.fn.last_dead_send <= t_down);
    /* requests.csv carries the failed column */
    FILE *f = tmpfile();
    assert_non_null(f);
    ifb_err e;
    assert_int_equal(ifb_serving_write_requests_csv(w.s, f, &e), 0);
    rewind(f);
    char line[512];
    assert_non_null(fgets(line, sizeof line, f));
    assert_non_null(strstr(line, ",measured,failed"));
    int ones = 0;
    while (fgets(line, sizeof line, f)) {
        size_t len = strlen(line);
        ones += len >= 3 && strcmp(line + len - 3, ",1\n") == 0;
    }
    fclose(f);
    assert_int_equal((uint64_t)ones, failed);
    run_free(&w);
}

/* The same run without a failure: nothing fails, nothing is down. */
static void test_no_failure(void **state)
{
    (void)state;
    run w;
    run_fail(&w, UINT64_MAX);
    assert_true(w.res->done);
    assert_int_equal(w.fn.failed, 0);
    assert_int_equal(w.res->failed, 0);
    assert_int_equal(w.res->instances_down, 0);
    assert_true(w.res->measured >= 120);
    run_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_gpu_fails),
        cmocka_unit_test(test_no_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
