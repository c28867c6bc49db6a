/* Egress scheduling between traffic classes: DWRR shares a congested port by weight, strict
 * priority serves its queue first; several QPs per connection share a port fairly. Closed-form
 * expectations on a single switch where two senders converge on one receiver. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>

#include "net/fabric/fabric.h"
#include "net/wire/wire.h"
#include "topo/topo.h"

static const uint64_t G400 = 400000000000ull;
#define MSG (8ull << 20)

typedef struct done_log {
    ifb_time t[4];
    int n;
} done_log;

static void on_done(ifb_sim *sim, void *ctx, const ifb_msg_info *info)
{
    (void)sim;
    done_log *d = ctx;
    d->t[info->tclass] = info->done;
    d->n++;
}

/* Runs host0 -> host2 in class a2a and host1 -> host2 in class kv; returns completion times. */
static void run(ifb_fabric_cfg *cfg, done_log *d)
{
    ifb_err e = {{0}};
    ifb_sim sim;
    ifb_topo topo;
    ifb_sim_init(&sim, 1);
    ifb_topo_init(&topo);
    ifb_server_spec s = {.gpus_per_server = 1,
                         .nics_per_server = 1,
                         .nic_bps = G400,
                         .host_delay = 25 * IFB_NS,
                         .nvlink_bps = G400,
                         .nvlink_latency = IFB_US};
    assert_int_equal(ifb_topo_single_switch(&topo, 3, &s, 8, &e), 0);
    assert_int_equal(ifb_topo_route(&topo, &e), 0);
    ifb_fabric *f;
    assert_int_equal(ifb_fabric_create(&f, &sim, &topo, cfg, &e), 0);
    ifb_net *net = ifb_fabric_net(f);
    *d = (done_log){0};
    assert_true(ifb_net_send(net, 0, 2, MSG, IFB_TC_A2A, on_done, d) > 0);
    assert_true(ifb_net_send(net, 1, 2, MSG, IFB_TC_KV, on_done, d) > 0);
    ifb_sim_run(&sim);
    assert_int_equal(d->n, 2);
    char msg[200];
    assert_int_equal(ifb_fabric_check_conservation(f, msg, sizeof msg), 0);
    assert_int_equal(ifb_fabric_counts(f)->pkts_dropped, 0);
    ifb_fabric_destroy(f);
    ifb_topo_free(&topo);
    ifb_sim_destroy(&sim);
}

static double goodput(void)
{
    ifb_pkt p = {.kind = IFB_PK_DATA, .opcode = IFB_OP_WRITE_MIDDLE, .payload = 4096};
    return 400e9 / 8 * 4096.0 / ifb_wire_len(&p); /* bytes/s */
}

/* Weights 3:1: while both are backlogged the a2a class gets 3/4 of the bottleneck, so it
 * finishes after MSG / (0.75 x goodput); the kv class then takes the rest. */
static void test_dwrr_weights(void **state)
{
    (void)state;
    ifb_fabric_cfg cfg;
    ifb_fabric_cfg_default(&cfg);
    cfg.tclass[IFB_TC_A2A].queue = 3;
    cfg.tclass[IFB_TC_KV].queue = 1;
    cfg.queue[3] = (ifb_queue_cfg){.sched = IFB_SCHED_DWRR, .weight = 3};
    cfg.queue[1] = (ifb_queue_cfg){.sched = IFB_SCHED_DWRR, .weight = 1};
    done_log d;
    run(&cfg, &d);
    double t_a2a = ifb_time_to_s(d.t[IFB_TC_A2A]);
    double t_kv = ifb_time_to_s(d.t[IFB_TC_KV]);
    double want_a2a = MSG / (0.75 * goodput());
    double want_kv = 2.0 * MSG / goodput();
    assert_true(fabs(t_a2a - want_a2a) / want_a2a < 0.02);
    assert_true(fabs(t_kv - want_kv) / want_kv < 0.02);
}

/* Strict priority: the high queue is served alone until it empties. */
static void test_strict_priority(void **state)
{
    (void)state;
    ifb_fabric_cfg cfg;
    ifb_fabric_cfg_default(&cfg);
    cfg.tclass[IFB_TC_A2A].queue = 5;
    cfg.tclass[IFB_TC_KV].queue = 1;
    cfg.queue[5] = (ifb_queue_cfg){.sched = IFB_SCHED_STRICT, .weight = 1};
    done_log d;
    run(&cfg, &d);
    double t_a2a = ifb_time_to_s(d.t[IFB_TC_A2A]);
    double want_a2a = MSG / goodput();
    assert_true(fabs(t_a2a - want_a2a) / want_a2a < 0.02);
    assert_true(d.t[IFB_TC_KV] > d.t[IFB_TC_A2A]);
}

/* Equal weights in one queue: both share equally and finish together. */
static void test_same_queue_fair(void **state)
{
    (void)state;
    ifb_fabric_cfg cfg;
    ifb_fabric_cfg_default(&cfg);
    cfg.tclass[IFB_TC_A2A].queue = 3;
    cfg.tclass[IFB_TC_KV].queue = 3;
    done_log d;
    run(&cfg, &d);
    double a = ifb_time_to_s(d.t[IFB_TC_A2A]), b = ifb_time_to_s(d.t[IFB_TC_KV]);
    double want = 2.0 * MSG / goodput();
    assert_true(fabs(a - want) / want < 0.02);
    assert_true(fabs(b - want) / want < 0.02);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dwrr_weights),
        cmocka_unit_test(test_strict_priority),
        cmocka_unit_test(test_same_queue_fair),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
