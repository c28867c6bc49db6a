/* Scenario loading (scenario/scenario.h) where it decides more than one key: a fabric kind's
 * defaults and its own section, configurations refused because a kind does not have the
 * mechanism (DCQCN and PFC on InfiniBand, a 5-tuple hash on InfiniBand), combinations that run
 * but are warned about (a lossy multi-switch RoCE fabric with go-back-N NICs, per-packet paths
 * without out-of-order placement), and the shipped multi-switch scenarios configured as RoCE
 * deployments run (PFC on the RDMA priority, ECN, DCQCN, CNPs strict on their own priority). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/scenario.h"

#define TMP IFB_BIN_DIR "/test_scenario_tmp.yaml"
#define SCEN IFB_TEST_DIR "/../scenarios/"

static void write_file(const char *text)
{
    FILE *f = fopen(TMP, "w");
    assert_non_null(f);
    assert_true(fputs(text, f) >= 0);
    assert_int_equal(fclose(f), 0);
}

static void load_ok(ifb_scenario *sc, const char *path, const char *const *sets, int nsets)
{
    ifb_err e = {{0}};
    if (ifb_scenario_load(sc, path, sets, nsets, &e))
        fail_msg("load failed: %s", e.msg);
}

/* Fails unless loading fails with every needle in the message. */
static void load_fails(const char *path, const char *const *sets, int nsets, ...)
{
    ifb_scenario sc;
    ifb_err e = {{0}};
    if (!ifb_scenario_load(&sc, path, sets, nsets, &e))
        fail_msg("load of %s succeeded", path);
    va_list ap;
    va_start(ap, nsets);
    const char *needle;
    while ((needle = va_arg(ap, const char *)))
        if (!strstr(e.msg, needle))
            fail_msg("message \"%s\" lacks \"%s\"", e.msg, needle);
    va_end(ap);
    ifb_scenario_free(&sc);
}

static int warned(const ifb_scenario *sc, const char *needle)
{
    for (int i = 0; i < sc->nwarnings; i++)
        if (strstr(sc->warnings[i], needle))
            return 1;
    return 0;
}

static const char LEAF_SPINE[] = "topology:\n" /* 1 */
                                 "  kind: leaf-spine\n"
                                 "  servers: 4\n"
                                 "  gpus_per_server: 1\n"
                                 "  nics_per_server: 1\n" /* 5 */
                                 "  leaves: 2\n"
                                 "  spines: 2\n";

/* ---- Item 13: DCQCN (and PFC) on InfiniBand ------------------------------------------------ */

static void test_roce_mechanisms_refused_on_ib(void **state)
{
    (void)state;
    char text[512];
    snprintf(text, sizeof text,
             "%sfabric:\n" /* 8 */
             "  kind: infiniband\n"
             "  dcqcn:\n" /* 10 */
             "    enable: true\n",
             LEAF_SPINE);
    write_file(text);
    load_fails(TMP, NULL, 0, TMP ":11:", "fabric.dcqcn.enable", "DCQCN on a RoCEv2 fabric",
               "found fabric.kind infiniband", NULL);
    /* the reference IB scenario with DCQCN switched on, the case of the issue */
    const char *const dc[] = {"fabric.dcqcn.enable=true"};
    load_fails("reference-ib.yaml", dc, 1, "--set fabric.dcqcn.enable", "InfiniBand", NULL);
    const char *const pfc[] = {"fabric.queues[3].lossless=true", "fabric.pfc.enable=true"};
    load_fails("reference-ib.yaml", pfc, 2, "fabric.pfc.enable", "credit flow control", NULL);
    /* RoCE keeps both */
    const char *const roce[] = {"fabric.kind=roce", "fabric.dcqcn.enable=true"};
    ifb_scenario sc;
    load_ok(&sc, "reference-ib.yaml", roce, 2);
    assert_true(sc.fab.dcqcn);
    ifb_scenario_free(&sc);
}

/* ---- Item 23: a fabric kind brings its defaults -------------------------------------------- */

static void expect_kind(const ifb_scenario *sc, int ib)
{
    assert_int_equal(sc->fab.l2, ib ? IFB_L2_IB : IFB_L2_ROCEV2);
    /* IB: the QM9700 ASSUMPTION of 300 ns; RoCE: the CX864E-N's 560 ns */
    assert_int_equal(sc->fab.switch_latency, (ib ? 300 : 560) * IFB_NS);
    for (int q = 0; q < IFB_NQUEUES; q++)
        assert_int_equal(sc->lb.q[q].mode, ib ? IFB_LBA_DMODK : IFB_LBA_ECMP);
    assert_int_equal(sc->fab.ctrl_queue, ib ? 0 : 6);
    assert_int_equal(sc->fab.mtu, 4096);
}

static void test_kind_brings_defaults(void **state)
{
    (void)state;
    char text[512];
    snprintf(text, sizeof text, "%sfabric:\n  kind: infiniband\n", LEAF_SPINE);
    write_file(text);
    ifb_scenario sc;
    load_ok(&sc, TMP, NULL, 0);
    expect_kind(&sc, 1);
    ifb_scenario_free(&sc);
    /* a sweep over fabric.kind is one --set per run: each run gets its own kind's defaults */
    snprintf(text, sizeof text, "%sfabric:\n  mtu: 4096B\n", LEAF_SPINE);
    write_file(text);
    for (int ib = 0; ib < 2; ib++) {
        const char *const set[] = {ib ? "fabric.kind=infiniband" : "fabric.kind=roce"};
        load_ok(&sc, TMP, set, 1);
        expect_kind(&sc, ib);
        ifb_scenario_free(&sc);
    }
    /* keys the scenario sets win over the kind's */
    const char *const expl[] = {"fabric.kind=infiniband",      "fabric.switch.latency=130ns",
                                "fabric.load_balancing=spray", "fabric.nic.ooo=true",
                                "fabric.ctrl_queue=1",         "fabric.mtu=2048B"};
    load_ok(&sc, TMP, expl, 6);
    assert_int_equal(sc.fab.switch_latency, 130 * IFB_NS);
    assert_int_equal(sc.lb.q[3].mode, IFB_LBA_SPRAY);
    assert_int_equal(sc.fab.ctrl_queue, 1);
    assert_int_equal(sc.fab.mtu, 2048);
    ifb_scenario_free(&sc);
    /* a map without `mode` inherits the kind's mode for the queues it does not name */
    const char *const map[] = {"fabric.kind=infiniband",
                               "fabric.load_balancing={per_class: {1: spray}}"};
    load_ok(&sc, TMP, map, 2);
    assert_int_equal(sc.lb.q[3].mode, IFB_LBA_DMODK);
    assert_int_equal(sc.lb.q[1].mode, IFB_LBA_SPRAY);
    ifb_scenario_free(&sc);
    /* a 5-tuple hash does not exist on InfiniBand; neither does an MTU above 4096 B */
    const char *const ecmp[] = {"fabric.kind=infiniband", "fabric.load_balancing=ecmp"};
    load_fails(TMP, ecmp, 2, "fabric.load_balancing", "dmodk", "ecmp for class a2a", "no 5-tuple",
               NULL);
    const char *const flowlet[] = {"fabric.kind=infiniband",
                                   "fabric.load_balancing={per_class: {3: flowlet}}"};
    load_fails(TMP, flowlet, 2, "flowlet for class a2a (VL 3)", NULL);
    const char *const mtu[] = {"fabric.kind=infiniband", "fabric.mtu=8192B"};
    load_fails(TMP, mtu, 2, "fabric.mtu", "an InfiniBand MTU", "8192 B", NULL);
    const char *const mtu3[] = {"fabric.kind=infiniband", "fabric.mtu=3000B"};
    load_fails(TMP, mtu3, 2, "fabric.mtu", "3000 B", NULL);
}

/* The kind's own section fills in what fabric leaves out, only for that kind; fabric's own keys
 * win; a typo in it is reported at its line. */
static void test_kind_sections(void **state)
{
    (void)state;
    char text[1024];
    snprintf(text, sizeof text,
             "%sfabric:\n"                    /* 8 */
             "  nic: {rto: 1ms}\n"            /* 9 */
             "  roce:\n"                      /* 10 */
             "    switch: {latency: 400ns}\n" /* 11 */
             "    nic: {rto: 2ms, ack_every: 8}\n"
             "  infiniband:\n" /* 13 */
             "    switch: {latency: 200ns}\n"
             "    nic: {ack_every: 4}\n",
             LEAF_SPINE);
    write_file(text);
    ifb_scenario sc;
    load_ok(&sc, TMP, NULL, 0);
    assert_int_equal(sc.fab.switch_latency, 400 * IFB_NS);
    assert_int_equal(sc.fab.rto, IFB_MS); /* fabric.nic.rto wins over fabric.roce.nic.rto */
    assert_int_equal(sc.fab.ack_every, 8);
    assert_int_equal(ifb_scenario_check_unused(&sc, &(ifb_err){{0}}), 0);
    ifb_scenario_free(&sc);
    const char *const ib[] = {"fabric.kind=infiniband"};
    load_ok(&sc, TMP, ib, 1);
    assert_int_equal(sc.fab.switch_latency, 200 * IFB_NS);
    assert_int_equal(sc.fab.ack_every, 4);
    assert_int_equal(sc.lb.q[3].mode, IFB_LBA_DMODK);
    assert_int_equal(ifb_scenario_check_unused(&sc, &(ifb_err){{0}}), 0);
    ifb_scenario_free(&sc);
    /* --set on the top-level key beats the section */
    const char *const top[] = {"fabric.switch.latency=100ns"};
    load_ok(&sc, TMP, top, 1);
    assert_int_equal(sc.fab.switch_latency, 100 * IFB_NS);
    ifb_scenario_free(&sc);
    /* a typo in the active section: unknown key at its line */
    const char *const typo[] = {"fabric.roce.nic.ack_evry=2"};
    load_ok(&sc, TMP, typo, 1);
    ifb_err e = {{0}};
    assert_int_equal(ifb_scenario_check_unused(&sc, &e), -1);
    assert_non_null(strstr(e.msg, "ack_evry"));
    ifb_scenario_free(&sc);
    const char *const kind[] = {"fabric.roce.kind=infiniband"};
    load_fails(TMP, kind, 1, "fabric.roce.kind", NULL);
    const char *const scalar[] = {"fabric.roce=1"};
    load_fails(TMP, scalar, 1, "fabric.roce", "a map of keys", NULL);
}

/* ---- Item 14: the reorder window replaces the packet-count NAK threshold -----------------------
 */

static void test_reorder_window_key(void **state)
{
    (void)state;
    ifb_scenario sc;
    load_ok(&sc, "reference-roce.yaml", NULL, 0);
    assert_int_equal(sc.fab.reorder_window, IFB_REORDER_AUTO);
    ifb_scenario_free(&sc);
    const char *const t[] = {"fabric.nic.reorder_window=150us"};
    load_ok(&sc, "reference-roce.yaml", t, 1);
    assert_int_equal(sc.fab.reorder_window, 150 * IFB_US);
    ifb_scenario_free(&sc);
    const char *const a[] = {"fabric.nic.reorder_window=150us", "fabric.nic.reorder_window=auto"};
    load_ok(&sc, "reference-roce.yaml", a, 2);
    assert_int_equal(sc.fab.reorder_window, IFB_REORDER_AUTO);
    ifb_scenario_free(&sc);
    const char *const bad[] = {"fabric.nic.reorder_window=150"};
    load_fails("reference-roce.yaml", bad, 1, "fabric.nic.reorder_window", "'150'", NULL);
    const char *const old[] = {"fabric.nic.ooo_nak_gap=256"};
    load_fails("reference-roce.yaml", old, 1, "fabric.nic.ooo_nak_gap", "fabric.nic.reorder_window",
               "replaced", NULL);
}

/* ---- Item 17: pcap without ports ------------------------------------------------------------ */

static void test_pcap_file_needs_ports(void **state)
{
    (void)state;
    const char *const nop[] = {"output.pcap.file=/tmp/x.pcap"};
    load_fails("reference-roce.yaml", nop, 1, "--set output.pcap.file", "output.pcap.ports with it",
               "no ports", NULL);
    const char *const empty[] = {"output.pcap.file=/tmp/x.pcap", "output.pcap.ports=[]"};
    load_fails("reference-roce.yaml", empty, 2, "an empty list", NULL);
    const char *const ok[] = {"output.pcap.file=/tmp/x.pcap", "output.pcap.ports=[s0n0]"};
    ifb_scenario sc;
    load_ok(&sc, "reference-roce.yaml", ok, 2);
    assert_int_equal(sc.ncapture, 1);
    ifb_scenario_free(&sc);
}

/* ---- Items 17 and 18: warned combinations --------------------------------------------------- */

static void test_warnings(void **state)
{
    (void)state;
    char text[512];
    snprintf(text, sizeof text, "%sfabric:\n  kind: roce\n", LEAF_SPINE);
    write_file(text);
    ifb_scenario sc;
    /* lossy 2-tier RoCE with go-back-N NICs: the silent default of the issue */
    load_ok(&sc, TMP, NULL, 0);
    assert_int_equal(sc.nwarnings, 1);
    assert_true(warned(&sc, "fabric.pfc.enable: a lossy RoCE fabric of 4 switches"));
    assert_true(warned(&sc, "go-back-N"));
    ifb_scenario_free(&sc);
    /* lossless (every class on the lossless priority 3), or selective repeat: no warning */
    const char *const lossless[] = {
        "fabric.queues[3].lossless=true", "fabric.pfc.enable=true",
        "fabric.classes={a2a: {queue: 3}, kv: {queue: 3}, pp: {queue: 3}, coll: {queue: 3}}"};
    load_ok(&sc, TMP, lossless, 3);
    assert_int_equal(sc.nwarnings, 0);
    ifb_scenario_free(&sc);
    /* ... but one class left on a lossy queue is still lossy */
    load_ok(&sc, TMP, lossless, 2);
    assert_true(warned(&sc, "class kv on queue 1 is not lossless"));
    ifb_scenario_free(&sc);
    const char *const ooo[] = {"fabric.nic.ooo=true"};
    load_ok(&sc, TMP, ooo, 1);
    assert_int_equal(sc.nwarnings, 0);
    ifb_scenario_free(&sc);
    const char *const ib[] = {"fabric.kind=infiniband"};
    load_ok(&sc, TMP, ib, 1);
    assert_int_equal(sc.nwarnings, 0);
    ifb_scenario_free(&sc);
    /* one switch: nothing to warn about, even lossy */
    load_ok(&sc, "reference-roce.yaml", NULL, 0);
    assert_int_equal(sc.nwarnings, 0);
    ifb_scenario_free(&sc);
    /* spray (or adaptive per packet) without out-of-order placement where there are paths */
    const char *const spray[] = {"fabric.nic.ooo=false", "fabric.load_balancing=spray"};
    load_ok(&sc, TMP, spray, 2);
    assert_true(warned(&sc, "--set fabric.load_balancing: per-packet path selection (spray)"));
    assert_true(warned(&sc, "a2a (queue 3)"));
    ifb_scenario_free(&sc);
    const char *const adap[] = {"fabric.nic.ooo=true",
                                "fabric.load_balancing={mode: adaptive, adaptive: packet}"};
    load_ok(&sc, TMP, adap, 2);
    assert_int_equal(sc.nwarnings, 0);
    ifb_scenario_free(&sc);
    const char *const adapf[] = {"fabric.load_balancing={mode: adaptive, adaptive: flowlet}"};
    load_ok(&sc, TMP, adapf, 1);
    assert_false(warned(&sc, "per-packet"));
    ifb_scenario_free(&sc);
    const char *const single[] = {"fabric.load_balancing=spray"};
    load_ok(&sc, "reference-roce.yaml", single, 1);
    assert_int_equal(sc.nwarnings, 0); /* one path per pair: spray cannot reorder */
    ifb_scenario_free(&sc);
}

/* ---- Item 18: the shipped multi-switch RoCE scenarios as deployed -----------------------------
 */

static void expect_deployed(const ifb_scenario *sc)
{
    const ifb_fabric_cfg *f = &sc->fab;
    assert_int_equal(f->l2, IFB_L2_ROCEV2);
    assert_true(sc->topo.nswitches > 1);
    assert_true(f->pfc);
    assert_int_equal(f->pfc_headroom, IFB_PFC_AUTO);
    for (int t = 0; t < IFB_TC_COUNT; t++) {
        int q = f->tclass[t].queue;
        assert_int_equal(q, 3);
        assert_true(f->queue[q].lossless);
        assert_true(f->queue[q].ecn);
    }
    assert_int_equal(f->queue[3].ecn_kmin, 1048576);
    assert_int_equal(f->queue[3].ecn_kmax, 2097152);
    assert_true(f->dcqcn);
    ifb_dcqcn_params cx;
    ifb_dcqcn_profile(IFB_DCQCN_NVIDIA_CX, &cx);
    assert_memory_equal(&f->dcqcn_p, &cx, sizeof cx);
    assert_int_equal(f->dcqcn_p.cnp_prio, 6);
    assert_int_equal(f->queue[6].sched, IFB_SCHED_STRICT);
    assert_false(f->queue[6].lossless);
    assert_int_equal(sc->nwarnings, 0);
}

static void test_shipped_scenarios_deployed(void **state)
{
    (void)state;
    static const char *const files[] = {SCEN "large-rail.yaml", SCEN "bench-leafspine.yaml"};
    for (int i = 0; i < 2; i++) {
        ifb_scenario sc;
        load_ok(&sc, files[i], NULL, 0);
        expect_deployed(&sc);
        ifb_scenario_free(&sc);
        /* the InfiniBand variant loads, without the roce section and with its own defaults */
        const char *const ib[] = {"fabric.kind=infiniband"};
        load_ok(&sc, files[i], ib, 1);
        assert_false(sc.fab.pfc);
        assert_false(sc.fab.dcqcn);
        assert_int_equal(sc.lb.q[3].mode, IFB_LBA_DMODK);
        assert_int_equal(sc.nwarnings, 0);
        ifb_scenario_free(&sc);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roce_mechanisms_refused_on_ib),
        cmocka_unit_test(test_kind_brings_defaults),
        cmocka_unit_test(test_kind_sections),
        cmocka_unit_test(test_reorder_window_key),
        cmocka_unit_test(test_pcap_file_needs_ports),
        cmocka_unit_test(test_warnings),
        cmocka_unit_test(test_shipped_scenarios_deployed),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    remove(TMP);
    return rc;
}
