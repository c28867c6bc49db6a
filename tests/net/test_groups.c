/* Per-class ECMP groups (net/switch/groups.h) on a 2-leaf, 4-spine fabric (4 hosts a leaf; on a
 * leaf ports 0..3 face hosts and 4 + j spine j): kv pinned to spines 0 and 1 puts its bytes on
 * those two uplinks only and a2a, on the fabric's whole group, on all four; together, each link
 * carries exactly what each class put there alone; after spine1 fails, kv is on spine0 only,
 * and with both its spines gone it uses the live group. A class's own WCMP weights shift its
 * bytes in their ratio; bad groups are refused naming the key. Exact byte counts: every host on
 * leaf0 sends data only to leaf1 (the ACKs come back on leaf1's uplinks), so leaf0's uplinks
 * carry data alone, and ECMP keeps each QP on one path whatever else is on the fabric. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "net/fabric/fabric_int.h"
#include "net/fail/failure.h"
#include "net/switch/lb.h"
#include "net_world.h"
#include "topo/topo.h"

enum { LEAVES = 2, PER_LEAF = 4, SPINES = 4, HOSTS = LEAVES * PER_LEAF };

typedef struct run_cfg {
    int kv, a2a;            /* classes sending */
    int kv_first;           /* post kv before a2a (a2a's QP numbers then change) */
    int fail_spines;        /* bit j: spine j is down from t = 0 */
    int kv_mode;            /* IFB_LBA_* for kv; -1: the queue's (ECMP) */
    const char *members[4]; /* kv's group */
    int nmembers;
    double w0, w1; /* kv's weight factors for spine0, spine1 (0: none given) */
} run_cfg;

typedef struct run_out {
    uint64_t up[SPINES]; /* bytes leaf0 sent to spine j */
    uint64_t host_tx;    /* bytes leaf0's hosts sent */
    uint64_t done;
} run_out;

typedef struct poster {
    world *w;
    const run_cfg *rc;
    uint64_t done;
} poster;

static void on_done(ifb_sim *sim, void *ctx, const ifb_msg_info *info)
{
    (void)sim;
    poster *p = ctx;
    assert_false(info->failed);
    p->done++;
}

static void post_class(poster *p, int tclass)
{
    for (int s = 0; s < PER_LEAF; s++)
        for (int d = PER_LEAF; d < HOSTS; d++)
            assert_true(
                ifb_net_send(ifb_fabric_net(p->w->fab), s, d, 96 * 1024, tclass, on_done, p) > 0);
}

static void post_all(ifb_sim *sim, void *obj, uint64_t arg)
{
    (void)sim;
    (void)arg;
    poster *p = obj;
    if (p->rc->kv_first && p->rc->kv)
        post_class(p, IFB_TC_KV);
    if (p->rc->a2a)
        post_class(p, IFB_TC_A2A);
    if (!p->rc->kv_first && p->rc->kv)
        post_class(p, IFB_TC_KV);
}

static void run(const run_cfg *rc, run_out *out)
{
    world w;
    ifb_fabric_cfg cfg;
    ifb_fabric_cfg_default(&cfg);
    cfg.qps_per_conn = 4; /* 4 QPs a pair: 64 flows a class, some on every spine */
    cfg.fail_detection = 10 * IFB_US;
    ifb_lb_cfg_default(&w.lb);
    ifb_lb_class *kv = &w.lb.cls[IFB_TC_KV];
    for (int i = 0; i < rc->nmembers; i++)
        snprintf(kv->members[i], sizeof kv->members[i], "%s", rc->members[i]);
    kv->nmembers = rc->nmembers;
    if (rc->w0 > 0) {
        snprintf(kv->wsw[0], sizeof kv->wsw[0], "spine0");
        snprintf(kv->wsw[1], sizeof kv->wsw[1], "spine1");
        kv->wfac[0] = rc->w0;
        kv->wfac[1] = rc->w1;
        kv->nweights = 2;
    }
    if (rc->kv_mode >= 0) {
        kv->has_mode = 1;
        kv->q = w.lb.q[1];
        kv->q.mode = (uint8_t)rc->kv_mode;
    }
    cfg.lb = &w.lb;
    make_leaf_spine(&w, 7, LEAVES, PER_LEAF, SPINES, G400, IFB_US, &cfg);
    w.sim.check = 1;
    w.sim.check_every = 64;
    const ifb_topo *t = &w.topo;
    for (int j = 0; j < SPINES; j++)
        if (rc->fail_spines >> j & 1) {
            char name[16];
            snprintf(name, sizeof name, "spine%d", j);
            ifb_failure f = {
                .port = -1, .sw = ifb_topo_find_node(t, name), .down = 0, .up = IFB_TIME_NEVER};
            ifb_err e = {{0}};
            if (ifb_fail_schedule(w.fab, &f, 1, &e))
                fail_msg("%s", e.msg);
        }
    poster p = {&w, rc, 0};
    /* after the failures are detected: nothing is black-holed, so every count is exact */
    ifb_sim_at(&w.sim, 50 * IFB_US, post_all, &p, 0);
    ifb_stop st = ifb_sim_run(&w.sim);
    if (st == IFB_STOP_ERROR)
        fail_msg("%s", w.sim.error);
    check_conservation(&w);
    assert_int_equal(ifb_fabric_counts(w.fab)->pkts_dropped, 0);
    assert_int_equal(ifb_fabric_counts(w.fab)->retx_pkts, 0);
    memset(out, 0, sizeof *out);
    for (int j = 0; j < SPINES; j++) {
        char name[16];
        snprintf(name, sizeof name, "spine%d", j);
        if (rc->fail_spines >> j & 1)
            continue; /* its links are down: port_to still finds them */
        out->up[j] = ifb_fabric_port_stats(w.fab, port_to(t, "leaf0", name))->tx_bytes;
    }
    for (int h = 0; h < PER_LEAF; h++)
        out->host_tx += ifb_fabric_port_stats(w.fab, host_port(t, h))->tx_bytes;
    out->done = p.done;
    destroy(&w);
}

static uint64_t sum_up(const run_out *o)
{
    uint64_t s = 0;
    for (int j = 0; j < SPINES; j++)
        s += o->up[j];
    return s;
}

static void test_kv_pinned_a2a_everywhere(void **state)
{
    (void)state;
    run_out kv, a2a, both;
    run(&(run_cfg){.kv = 1, .kv_mode = -1, .members = {"spine0", "spine1"}, .nmembers = 2}, &kv);
    assert_int_equal(kv.done, 16);
    assert_true(kv.up[0] > 0 && kv.up[1] > 0);
    assert_int_equal(kv.up[2], 0);
    assert_int_equal(kv.up[3], 0);
    assert_int_equal(kv.up[0] + kv.up[1], kv.host_tx);
    run(&(run_cfg){.a2a = 1, .kv_mode = -1, .members = {"spine0", "spine1"}, .nmembers = 2}, &a2a);
    for (int j = 0; j < SPINES; j++)
        assert_true(a2a.up[j] > 0);
    assert_int_equal(sum_up(&a2a), a2a.host_tx);
    /* together (a2a posted first, so its QPs and paths are those of its run alone): spines 2
     * and 3 carry exactly a2a's bytes, spines 0 and 1 a2a's plus every byte of kv */
    run(
        &(run_cfg){
            .kv = 1, .a2a = 1, .kv_mode = -1, .members = {"spine0", "spine1"}, .nmembers = 2},
        &both);
    assert_int_equal(both.done, 32);
    assert_int_equal(both.up[2], a2a.up[2]);
    assert_int_equal(both.up[3], a2a.up[3]);
    uint64_t kv_bytes = both.host_tx - a2a.host_tx;
    assert_int_equal(kv_bytes, kv.host_tx); /* the same messages, the same wire bytes */
    assert_int_equal(both.up[0] + both.up[1], a2a.up[0] + a2a.up[1] + kv_bytes);
}

static void test_rebuilt_after_spine_failure(void **state)
{
    (void)state;
    run_out kv, a2a, gone;
    /* spine1 down: kv is left with spine0 */
    run(&(run_cfg){.kv = 1,
                   .fail_spines = 1 << 1,
                   .kv_mode = -1,
                   .members = {"spine0", "spine1"},
                   .nmembers = 2},
        &kv);
    assert_int_equal(kv.done, 16);
    assert_int_equal(kv.up[0], kv.host_tx);
    assert_int_equal(kv.up[2] + kv.up[3], 0);
    /* a2a: every live spine */
    run(&(run_cfg){.a2a = 1,
                   .fail_spines = 1 << 1,
                   .kv_mode = -1,
                   .members = {"spine0", "spine1"},
                   .nmembers = 2},
        &a2a);
    assert_true(a2a.up[0] > 0 && a2a.up[2] > 0 && a2a.up[3] > 0);
    assert_int_equal(a2a.up[0] + a2a.up[2] + a2a.up[3], a2a.host_tx);
    /* both of kv's spines down: it takes the group's live members instead of black-holing */
    run(&(run_cfg){.kv = 1,
                   .fail_spines = 3,
                   .kv_mode = -1,
                   .members = {"spine0", "spine1"},
                   .nmembers = 2},
        &gone);
    assert_int_equal(gone.done, 16);
    assert_true(gone.up[2] > 0 && gone.up[3] > 0);
    assert_int_equal(gone.up[2] + gone.up[3], gone.host_tx);
}

/* kv in WCMP mode on its own weights (spine0 x3, spine1 x1), pinned to those two: per-QP
 * hashing into a 3:1 table puts about three quarters of its 64 flows (of equal size) on
 * spine0. Binomial(64, 3/4): 48 +- 3.5; the bounds are 5 sigma. */
static void test_class_weights(void **state)
{
    (void)state;
    run_out o;
    run(&(run_cfg){.kv = 1,
                   .kv_mode = IFB_LBA_WCMP,
                   .members = {"spine0", "spine1"},
                   .nmembers = 2,
                   .w0 = 3,
                   .w1 = 1},
        &o);
    assert_int_equal(o.up[2] + o.up[3], 0);
    assert_int_equal(o.up[0] + o.up[1], o.host_tx);
    double share = (double)o.up[0] / (double)o.host_tx;
    assert_true(share > 30.0 / 64 && share < 64.0 / 64);
    assert_true(share > 0.5); /* equal weights would give about a half */
}

static void expect_attach_fails(ifb_lb_cfg *lb, const char *needle)
{
    world w;
    ifb_err e = {{0}};
    ifb_fabric_cfg cfg;
    ifb_fabric_cfg_default(&cfg);
    ifb_sim_init(&w.sim, 1);
    ifb_topo_init(&w.topo);
    ifb_server_spec s = one_nic_server(IFB_US);
    assert_int_equal(
        ifb_topo_leaf_spine(&w.topo, HOSTS, &s, LEAVES, SPINES, 1, G400, IFB_US, 64, &e), 0);
    assert_int_equal(ifb_topo_route(&w.topo, &e), 0);
    cfg.lb = lb;
    assert_int_equal(ifb_fabric_create(&w.fab, &w.sim, &w.topo, &cfg, &e), -1);
    if (!strstr(e.msg, needle))
        fail_msg("'%s' does not name '%s'", e.msg, needle);
    ifb_topo_free(&w.topo);
    ifb_sim_destroy(&w.sim);
}

static void test_bad_groups(void **state)
{
    (void)state;
    ifb_lb_cfg lb;
    ifb_lb_cfg_default(&lb);
    snprintf(lb.cls[IFB_TC_KV].members[0], 32, "spine9");
    lb.cls[IFB_TC_KV].nmembers = 1;
    expect_attach_fails(&lb, "per_class.kv.group[0]");
    ifb_lb_cfg_default(&lb);
    snprintf(lb.cls[IFB_TC_KV].members[0], 32, "leaf0"); /* no switch chooses among leaves */
    lb.cls[IFB_TC_KV].nmembers = 1;
    expect_attach_fails(&lb, "no switch has a member leading to one of them");
    /* a2a and coll share DSCP 26: one of them cannot route on its own */
    ifb_lb_cfg_default(&lb);
    snprintf(lb.cls[IFB_TC_COLL].members[0], 32, "spine0");
    lb.cls[IFB_TC_COLL].nmembers = 1;
    expect_attach_fails(&lb, "classes a2a and coll share DSCP 26");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kv_pinned_a2a_everywhere),
        cmocka_unit_test(test_rebuilt_after_spine_failure),
        cmocka_unit_test(test_class_weights),
        cmocka_unit_test(test_bad_groups),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
