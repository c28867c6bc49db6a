/* Topology builders: node, port and link counts, port symmetry, server layout, ECMP group sizes,
 * every path shortest, group deduplication bounds, and input errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "topo_check.h"

#define G400 400000000000ULL
#define G200 200000000000ULL

/* The reference server: 8 GPUs (H20) and 4 x 400G ConnectX-7. */
static ifb_server_spec ref_spec(void)
{
    ifb_server_spec s = {
        .gpus_per_server = 8,
        .nics_per_server = 4,
        .gpu_nic = NULL,
        .nic_bps = G400,
        .host_delay = 25 * IFB_NS,
        .nvlink_bps = 450000000000ULL * 8,
        .nvlink_latency = 1 * IFB_US,
    };
    return s;
}

static int count_tier(const ifb_topo *t, int tier)
{
    int n = 0;
    for (int i = 0; i < t->nswitches; i++)
        n += t->nodes[t->switch_node[i]].tier == tier;
    return n;
}

static void route_ok(ifb_topo *t)
{
    ifb_err e = {{0}};
    int rc = ifb_topo_route(t, &e);
    if (rc)
        fail_msg("route: %s", e.msg);
}

static void test_single_switch(void **state)
{
    (void)state;
    ifb_server_spec s = ref_spec();
    ifb_topo t;
    ifb_topo_init(&t);
    ifb_err e = {{0}};
    assert_int_equal(ifb_topo_single_switch(&t, 4, &s, 32, &e), 0);
    assert_int_equal(t.nhosts, 16);
    assert_int_equal(t.nswitches, 1);
    assert_int_equal(t.nlinks, 16);
    assert_string_equal(t.nodes[t.switch_node[0]].name, "sw0");
    assert_int_equal(t.nodes[t.switch_node[0]].nports, 32);
    assert_int_equal(check_symmetric(&t), 32);
    route_ok(&t);
    assert_int_equal(t.ngroups, 16); /* one single-port group per host */
    assert_int_equal(walk_all_pairs(&t), 16 * 15);
    ifb_topo_free(&t);

    ifb_topo_init(&t);
    assert_int_equal(ifb_topo_single_switch(&t, 9, &s, 32, &e), -1);
    assert_string_equal(
        e.msg, "single switch: 36 hosts (9 servers x 4 NICs) need 36 ports, switch has 32");
    ifb_topo_free(&t);
    ifb_topo_init(&t);
    assert_int_equal(ifb_topo_single_switch(&t, 0, &s, 32, &e), -1);
    assert_string_equal(e.msg, "single switch: servers must be at least 1, got 0");
    ifb_topo_free(&t);
}

/* Names, server_host, gpu_nic (default and given), NVLink, host->server. */
static void test_server_layout(void **state)
{
    (void)state;
    ifb_server_spec s = ref_spec();
    ifb_topo t;
    ifb_topo_init(&t);
    ifb_err e = {{0}};
    assert_int_equal(ifb_topo_single_switch(&t, 4, &s, 64, &e), 0);
    assert_int_equal(t.nservers, 4);
    assert_int_equal(t.gpus_per_server, 8);
    assert_int_equal(t.nics_per_server, 4);
    static const int expect[8] = {0, 0, 1, 1, 2, 2, 3, 3};
    assert_memory_equal(t.gpu_nic, expect, sizeof expect);
    assert_true(t.nvlink_bps == s.nvlink_bps);
    assert_true(t.nvlink_latency == s.nvlink_latency);
    int n = ifb_topo_find_node(&t, "s3n1");
    assert_true(n >= 0);
    assert_int_equal(t.nodes[n].kind, IFB_NODE_HOST);
    assert_int_equal(t.nodes[n].server, 3);
    assert_int_equal(t.nodes[n].nports, 1);
    assert_int_equal(t.nodes[n].host, 3 * 4 + 1);
    assert_int_equal(t.server_host[3 * 4 + 1], t.nodes[n].host);
    for (int i = 0; i < 16; i++)
        assert_int_equal(t.nodes[t.host_node[t.server_host[i]]].server, i / 4);
    ifb_topo_free(&t);

    /* 8 GPUs on 3 NICs: 0,0,0,1,1,1,2,2. */
    s.nics_per_server = 3;
    ifb_topo_init(&t);
    assert_int_equal(ifb_topo_single_switch(&t, 2, &s, 64, &e), 0);
    static const int expect3[8] = {0, 0, 0, 1, 1, 1, 2, 2};
    assert_memory_equal(t.gpu_nic, expect3, sizeof expect3);
    ifb_topo_free(&t);

    /* Given mapping. */
    static const int given[8] = {3, 2, 1, 0, 0, 1, 2, 3};
    s = ref_spec();
    s.gpu_nic = given;
    ifb_topo_init(&t);
    assert_int_equal(ifb_topo_single_switch(&t, 2, &s, 64, &e), 0);
    assert_memory_equal(t.gpu_nic, given, sizeof given);
    ifb_topo_free(&t);

    static const int bad[8] = {0, 1, 2, 3, 4, 0, 0, 0};
    s.gpu_nic = bad;
    ifb_topo_init(&t);
    assert_int_equal(ifb_topo_single_switch(&t, 2, &s, 64, &e), -1);
    assert_string_equal(e.msg, "single switch: GPU 4 uses NIC 4, but servers have NICs 0..3");
    ifb_topo_free(&t);
}

static void test_leaf_spine_16x8(void **state)
{
    (void)state;
    ifb_server_spec s = ref_spec();
    ifb_topo t;
    ifb_topo_init(&t);
    ifb_err e = {{0}};
    /* 32 servers x 4 NICs = 128 hosts, 2 servers (8 hosts) per leaf. */
    assert_int_equal(ifb_topo_leaf_spine(&t, 32, &s, 16, 8, 1, G400, IFB_US, 64, &e), 0);
    assert_int_equal(t.nhosts, 128);
    assert_int_equal(t.nswitches, 24);
    assert_int_equal(count_tier(&t, 0), 16);
    assert_int_equal(count_tier(&t, 1), 8);
    assert_int_equal(t.nlinks, 128 + 128);
    assert_int_equal(t.nports, 128 + 24 * 64);
    assert_int_equal(check_symmetric(&t), 2 * 256);
    assert_int_equal(t.nodes[ifb_topo_find_node(&t, "s5n2")].tier, -1);
    assert_true(ifb_topo_find_node(&t, "leaf15") >= 0);
    assert_true(ifb_topo_find_node(&t, "spine7") >= 0);
    /* Host s5n2 is on leaf2 (servers 4, 5), port 1*4+2 = 6. */
    int h = ifb_topo_find_node(&t, "s5n2");
    assert_int_equal(t.ports[t.nodes[h].first_port].peer_node, ifb_topo_find_node(&t, "leaf2"));
    assert_int_equal(t.ports[t.nodes[h].first_port].peer_port, 6);
    route_ok(&t);
    assert_int_equal(group_size(&t, "leaf0", "s5n2"), 8); /* all uplinks */
    assert_int_equal(group_size(&t, "leaf2", "s5n2"), 1); /* its own host */
    for (int sp = 0; sp < 8; sp++) {
        char name[32];
        snprintf(name, sizeof name, "spine%d", sp);
        for (int x = 0; x < t.nhosts; x++)
            assert_int_equal(
                ifb_topo_route_group(&t, t.nodes[ifb_topo_find_node(&t, name)].host, x)->count, 1);
    }
    /* Dedup: singleton groups {0}..{15} (leaf host ports 0-7, spine downlinks 0-15) plus one
     * uplink group {8..15} shared by every leaf and remote destination. */
    assert_int_equal(t.ngroups, 17);
    /* Every path is shortest: 8 per pair on different leaves, 1 on the same leaf. */
    long same = 128L * 7, other = 128L * 120;
    assert_int_equal(walk_all_pairs(&t), same + other * 8);
    ifb_topo_free(&t);
}

static void test_leaf_spine_parallel_uplinks(void **state)
{
    (void)state;
    ifb_server_spec s = ref_spec();
    s.nics_per_server = 2;
    ifb_topo t;
    ifb_topo_init(&t);
    ifb_err e = {{0}};
    /* 10 servers over 4 leaves: 3,3,3,1 servers; 6 host ports per leaf; 2 spines x 3 links. */
    assert_int_equal(ifb_topo_leaf_spine(&t, 10, &s, 4, 2, 3, G400, IFB_US, 16, &e), 0);
    assert_int_equal(t.nhosts, 20);
    assert_int_equal(t.nlinks, 20 + 4 * 2 * 3);
    check_symmetric(&t);
    assert_int_equal(ifb_topo_find_node(&t, "leaf3"),
                     t.ports[t.nodes[ifb_topo_find_node(&t, "s9n1")].first_port].peer_node);
    route_ok(&t);
    assert_int_equal(group_size(&t, "leaf0", "s9n0"), 6);
    assert_int_equal(group_size(&t, "spine1", "s9n0"), 3);
    assert_int_equal(group_size(&t, "leaf3", "s9n0"), 1);
    /* Spine 1's links to leaf 2 are its ports 6, 7, 8. */
    int sp = ifb_topo_find_node(&t, "spine1");
    const ifb_topo_group *g =
        ifb_topo_route_group(&t, t.nodes[sp].host, t.nodes[ifb_topo_find_node(&t, "s6n0")].host);
    assert_int_equal(g->count, 3);
    assert_int_equal(t.group_ports[g->first], 6);
    assert_int_equal(t.group_ports[g->first + 2], 8);
    /* Host-port singletons {0}..{5}, leaf uplinks {6..11} for full leaves and {2..7} for leaf3
     * (one server, so its uplinks start at port 2), spine triples {0,1,2}..{9,10,11}. */
    assert_int_equal(t.ngroups, 6 + 2 + 4);
    walk_all_pairs(&t);
    ifb_topo_free(&t);
}

/* 16 hosts x 400G per leaf against 2 spines x 1 x 200G: 16:1 oversubscription still builds. */
static void test_leaf_spine_oversubscribed(void **state)
{
    (void)state;
    ifb_server_spec s = ref_spec();
    ifb_topo t;
    ifb_topo_init(&t);
    ifb_err e = {{0}};
    assert_int_equal(ifb_topo_leaf_spine(&t, 16, &s, 4, 2, 1, G200, IFB_US, 18, &e), 0);
    assert_int_equal(t.nhosts, 64);
    assert_int_equal(t.nswitches, 6);
    check_symmetric(&t);
    route_ok(&t);
    assert_int_equal(group_size(&t, "leaf0", "s15n3"), 2);
    for (int i = 0; i < t.nlinks; i++) {
        int host_link = t.nodes[t.links[i].a_node].kind == IFB_NODE_HOST ||
                        t.nodes[t.links[i].b_node].kind == IFB_NODE_HOST;
        assert_true(t.links[i].rate_bps == (host_link ? G400 : G200));
        assert_true(t.links[i].delay == (host_link ? 25 * IFB_NS : IFB_US));
    }
    walk_all_pairs(&t);
    ifb_topo_free(&t);
}

static void expect_ls_error(int nservers, const ifb_server_spec *s, int leaves, int spines,
                            int uplinks, uint64_t bps, int ports, const char *msg)
{
    ifb_topo t;
    ifb_topo_init(&t);
    ifb_err e = {{0}};
    assert_int_equal(
        ifb_topo_leaf_spine(&t, nservers, s, leaves, spines, uplinks, bps, IFB_US, ports, &e), -1);
    assert_string_equal(e.msg, msg);
    ifb_topo_free(&t);
}

static void test_leaf_spine_errors(void **state)
{
    (void)state;
    ifb_server_spec s = ref_spec();
    s.nics_per_server = 1;
    expect_ls_error(18, &s, 2, 8, 1, G400, 16,
                    "leaf-spine: 9 hosts per leaf + 8 uplinks need 17 ports, switch has 16");
    expect_ls_error(32, &s, 32, 4, 1, G400, 16,
                    "leaf-spine: 32 leaves x 1 uplinks per spine need 32 ports on each spine, "
                    "switch has 16");
    expect_ls_error(4, &s, 0, 2, 1, G400, 16, "leaf-spine: leaves must be at least 1, got 0");
    expect_ls_error(4, &s, 2, -1, 1, G400, 16, "leaf-spine: spines must be at least 1, got -1");
    expect_ls_error(4, &s, 2, 2, 0, G400, 16,
                    "leaf-spine: uplinks per spine must be at least 1, got 0");
    expect_ls_error(-3, &s, 2, 2, 1, G400, 16, "leaf-spine: servers must be at least 1, got -3");
    expect_ls_error(4, &s, 2, 2, 1, 0, 16, "leaf-spine: fabric link rate must be above 0 bps");
    expect_ls_error(4, &s, 2, 2, 1, G400, 0, "leaf-spine: switch ports must be 1..65535, got 0");
    ifb_server_spec bad = s;
    bad.gpus_per_server = 0;
    expect_ls_error(4, &bad, 2, 2, 1, G400, 16,
                    "leaf-spine: GPUs per server must be 1..1024, got 0");
    bad = s;
    bad.nics_per_server = -2;
    expect_ls_error(4, &bad, 2, 2, 1, G400, 16,
                    "leaf-spine: NICs per server must be 1..64, got -2");
    bad = s;
    bad.nic_bps = 0;
    expect_ls_error(4, &bad, 2, 2, 1, G400, 16, "leaf-spine: NIC rate must be above 0 bps");
    expect_ls_error(4, NULL, 2, 2, 1, G400, 16, "leaf-spine: no server description given");

    /* A builder refuses a topology that already has nodes. */
    ifb_topo t;
    ifb_topo_init(&t);
    ifb_err e = {{0}};
    assert_int_equal(ifb_topo_leaf_spine(&t, 4, &s, 2, 2, 1, G400, IFB_US, 16, &e), 0);
    assert_int_equal(ifb_topo_leaf_spine(&t, 4, &s, 2, 2, 1, G400, IFB_US, 16, &e), -1);
    assert_non_null(strstr(e.msg, "not empty"));
    ifb_topo_free(&t);
}

static void test_fat_tree_k4(void **state)
{
    (void)state;
    ifb_server_spec s = ref_spec();
    ifb_topo t;
    ifb_topo_init(&t);
    ifb_err e = {{0}};
    assert_int_equal(ifb_topo_fat_tree(&t, 4, &s, G400, IFB_US, &e), 0);
    assert_int_equal(t.nhosts, 16);
    assert_int_equal(t.nservers, 4);
    assert_int_equal(t.nswitches, 20);
    assert_int_equal(count_tier(&t, 0), 8);
    assert_int_equal(count_tier(&t, 1), 8);
    assert_int_equal(count_tier(&t, 2), 4);
    assert_int_equal(t.nlinks, 48);
    assert_int_equal(check_symmetric(&t), 96);
    /* Every switch port is used. */
    for (int i = 0; i < t.nports; i++)
        assert_true(t.ports[i].link >= 0);
    route_ok(&t);
    /* s0n0 and s0n1 are on edge0_0; s3n3 (host 15) on edge3_1. */
    assert_int_equal(t.ports[t.nodes[ifb_topo_find_node(&t, "s3n3")].first_port].peer_node,
                     ifb_topo_find_node(&t, "edge3_1"));
    assert_int_equal(group_size(&t, "edge0_0", "s3n3"), 2); /* both aggs */
    assert_int_equal(group_size(&t, "edge0_0", "s0n3"), 2); /* same pod, other edge */
    assert_int_equal(group_size(&t, "edge0_0", "s0n1"), 1); /* own host */
    assert_int_equal(group_size(&t, "agg0_1", "s3n3"), 2);  /* both of its cores */
    assert_int_equal(group_size(&t, "agg0_1", "s0n3"), 1);  /* down to edge0_1 */
    assert_int_equal(group_size(&t, "agg3_0", "s3n3"), 1);  /* down to edge3_1 */
    for (int c = 0; c < 4; c++) {
        char name[32];
        snprintf(name, sizeof name, "core%d", c);
        for (int h = 0; h < 16; h++)
            assert_int_equal(
                ifb_topo_route_group(&t, t.nodes[ifb_topo_find_node(&t, name)].host, h)->count, 1);
    }
    /* Core j links to agg j/2 of every pod, pod p on its port p. */
    int core3 = ifb_topo_find_node(&t, "core3");
    assert_int_equal(t.ports[t.nodes[core3].first_port + 2].peer_node,
                     ifb_topo_find_node(&t, "agg2_1"));
    /* Dedup: singletons {0}..{3} plus the uplink pair {2,3}: k + 1 groups. */
    assert_int_equal(t.ngroups, 5);
    /* Paths: same edge 1; same pod 2; other pod 2 aggs x 2 cores = 4. */
    assert_int_equal(walk_all_pairs(&t), 16 * (1 * 1 + 2 * 2 + 12 * 4));
    ifb_topo_free(&t);
}

static void test_fat_tree_k8(void **state)
{
    (void)state;
    ifb_server_spec s = ref_spec();
    s.nics_per_server = 8; /* 16 servers of 8 NICs */
    ifb_topo t;
    ifb_topo_init(&t);
    ifb_err e = {{0}};
    assert_int_equal(ifb_topo_fat_tree(&t, 8, &s, G400, IFB_US, &e), 0);
    assert_int_equal(t.nhosts, 128);
    assert_int_equal(t.nservers, 16);
    assert_int_equal(t.nswitches, 80);
    assert_int_equal(t.nlinks, 128 + 8 * 16 + 8 * 4 * 4);
    check_symmetric(&t);
    route_ok(&t);
    assert_int_equal(group_size(&t, "edge0_0", "s15n7"), 4);
    assert_int_equal(group_size(&t, "agg0_0", "s15n7"), 4);
    assert_int_equal(group_size(&t, "core15", "s15n7"), 1);
    assert_int_equal(t.ngroups, 8 + 1);
    /* same edge: 3 others x 1; same pod: 12 x 4 aggs; other pods: 112 x 4 x 4. */
    assert_int_equal(walk_all_pairs(&t), 128L * (3 + 12 * 4 + 112 * 16));
    ifb_topo_free(&t);
}

static void test_fat_tree_errors(void **state)
{
    (void)state;
    ifb_server_spec s = ref_spec();
    ifb_topo t;
    ifb_err e = {{0}};
    ifb_topo_init(&t);
    assert_int_equal(ifb_topo_fat_tree(&t, 5, &s, G400, IFB_US, &e), -1);
    assert_string_equal(e.msg, "fat tree: k must be an even number from 2 to 256, got 5");
    assert_int_equal(ifb_topo_fat_tree(&t, 0, &s, G400, IFB_US, &e), -1);
    assert_int_equal(ifb_topo_fat_tree(&t, -4, &s, G400, IFB_US, &e), -1);
    s.nics_per_server = 3;
    assert_int_equal(ifb_topo_fat_tree(&t, 4, &s, G400, IFB_US, &e), -1);
    assert_string_equal(e.msg,
                        "fat tree: k=4 has 16 host ports, not a multiple of 3 NICs per server");
    s.nics_per_server = 4;
    assert_int_equal(ifb_topo_fat_tree(&t, 4, &s, 0, IFB_US, &e), -1);
    assert_string_equal(e.msg, "fat tree: fabric link rate must be above 0 bps");
    assert_int_equal(t.nnodes, 0);
    /* k = 2: 2 pods of one edge and one agg, one core, 2 hosts (1 NIC per server). */
    s.nics_per_server = 1;
    assert_int_equal(ifb_topo_fat_tree(&t, 2, &s, G400, IFB_US, &e), 0);
    assert_int_equal(t.nhosts, 2);
    assert_int_equal(t.nswitches, 5);
    route_ok(&t);
    assert_int_equal(walk_all_pairs(&t), 2);
    ifb_topo_free(&t);
}

static void test_rail(void **state)
{
    (void)state;
    ifb_server_spec s = ref_spec();
    ifb_topo t;
    ifb_topo_init(&t);
    ifb_err e = {{0}};
    assert_int_equal(ifb_topo_rail(&t, 8, &s, 2, 2, G400, IFB_US, 16, &e), 0);
    assert_int_equal(t.nhosts, 32);
    assert_int_equal(t.nswitches, 6);
    assert_int_equal(count_tier(&t, 0), 4);
    assert_int_equal(t.nlinks, 32 + 4 * 2 * 2);
    check_symmetric(&t);
    /* NIC i of every server on rail i, server s on port s. */
    for (int srv = 0; srv < 8; srv++)
        for (int i = 0; i < 4; i++) {
            char name[32], rail[32];
            snprintf(name, sizeof name, "s%dn%d", srv, i);
            snprintf(rail, sizeof rail, "rail%d", i);
            const ifb_topo_port *p = &t.ports[t.nodes[ifb_topo_find_node(&t, name)].first_port];
            assert_int_equal(p->peer_node, ifb_topo_find_node(&t, rail));
            assert_int_equal(p->peer_port, srv);
        }
    route_ok(&t);
    assert_int_equal(group_size(&t, "rail1", "s7n1"), 1);  /* same rail: one hop */
    assert_int_equal(group_size(&t, "rail1", "s0n2"), 4);  /* other rail: 2 spines x 2 */
    assert_int_equal(group_size(&t, "spine0", "s0n2"), 2); /* 2 parallel links down */
    /* Same rail: 7 peers x 1 path; other rails: 24 peers x 4 x 2. */
    assert_int_equal(walk_all_pairs(&t), 32L * (7 + 24 * 8));
    /* Groups: 8 host singletons + 1 uplink group (ports 8-11) + 4 spine pairs. */
    assert_true(t.ngroups <= 8 + 1 + 4);
    ifb_topo_free(&t);

    ifb_topo_init(&t);
    assert_int_equal(ifb_topo_rail(&t, 13, &s, 2, 2, G400, IFB_US, 16, &e), -1);
    assert_string_equal(
        e.msg, "rail-optimized: 13 servers per rail + 4 uplinks need 17 ports, switch has 16");
    assert_int_equal(ifb_topo_rail(&t, 4, &s, 0, 2, G400, IFB_US, 16, &e), -1);
    assert_string_equal(e.msg, "rail-optimized: spines must be at least 1, got 0");
    assert_int_equal(ifb_topo_rail(&t, 4, &s, 2, 5, G400, IFB_US, 16, &e), -1);
    assert_string_equal(e.msg, "rail-optimized: 4 rails x 5 uplinks per spine need 20 ports on "
                               "each spine, switch has 16");
    ifb_topo_free(&t);
}

/* A bigger fabric routes quickly: one BFS per leaf, not per host. */
static void test_fat_tree_k16_scale(void **state)
{
    (void)state;
    ifb_server_spec s = ref_spec();
    ifb_topo t;
    ifb_topo_init(&t);
    ifb_err e = {{0}};
    assert_int_equal(ifb_topo_fat_tree(&t, 16, &s, G400, IFB_US, &e), 0);
    assert_int_equal(t.nhosts, 1024);
    assert_int_equal(t.nswitches, 16 * 16 + 64);
    route_ok(&t);
    assert_int_equal(t.ngroups, 17);
    assert_int_equal(group_size(&t, "edge0_0", "s255n3"), 8);
    ifb_topo_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_switch),
        cmocka_unit_test(test_server_layout),
        cmocka_unit_test(test_leaf_spine_16x8),
        cmocka_unit_test(test_leaf_spine_parallel_uplinks),
        cmocka_unit_test(test_leaf_spine_oversubscribed),
        cmocka_unit_test(test_leaf_spine_errors),
        cmocka_unit_test(test_fat_tree_k4),
        cmocka_unit_test(test_fat_tree_k8),
        cmocka_unit_test(test_fat_tree_errors),
        cmocka_unit_test(test_rail),
        cmocka_unit_test(test_fat_tree_k16_scale),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
