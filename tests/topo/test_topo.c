/* Topology graph core: node and port bookkeeping, connect, find, and ECMP routing on small
 * hand-built graphs (parallel links, disconnected parts, back-to-back hosts). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "topo_check.h"

#define G400 400000000000ULL

static int sw(ifb_topo *t, const char *name, int ports, int tier)
{
    int id = ifb_topo_add_node(t, IFB_NODE_SWITCH, name, ports, tier);
    assert_true(id >= 0);
    return id;
}

static int host(ifb_topo *t, const char *name)
{
    int id = ifb_topo_add_node(t, IFB_NODE_HOST, name, 1, 5);
    assert_true(id >= 0);
    return id;
}

static void link_ok(ifb_topo *t, int a, int b)
{
    ifb_err e = {{0}};
    assert_true(ifb_topo_connect(t, a, b, G400, 500 * IFB_NS, &e) >= 0);
}

static void test_add_node(void **state)
{
    (void)state;
    ifb_topo t;
    ifb_topo_init(&t);
    int s0 = sw(&t, "leaf0", 4, 0);
    int h0 = host(&t, "h0");
    int s1 = sw(&t, "spine0", 8, 1);
    int h1 = host(&t, "h1");
    assert_int_equal(t.nnodes, 4);
    assert_int_equal(t.nhosts, 2);
    assert_int_equal(t.nswitches, 2);
    assert_int_equal(t.nports, 4 + 1 + 8 + 1);
    assert_int_equal(t.nodes[s0].host, 0);
    assert_int_equal(t.nodes[s1].host, 1);
    assert_int_equal(t.nodes[h0].host, 0);
    assert_int_equal(t.nodes[h1].host, 1);
    assert_int_equal(t.host_node[1], h1);
    assert_int_equal(t.switch_node[1], s1);
    assert_int_equal(t.nodes[h0].tier, -1); /* hosts ignore the tier */
    assert_int_equal(t.nodes[h0].server, -1);
    assert_int_equal(t.nodes[s1].tier, 1);
    assert_int_equal(t.nodes[s1].first_port, 5);
    assert_string_equal(t.nodes[s1].name, "spine0");
    check_symmetric(&t);
    /* Many nodes: arrays grow and stay consistent. */
    char name[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(name, sizeof name, "x%d", i);
        assert_true(ifb_topo_add_node(&t, i % 2 ? IFB_NODE_HOST : IFB_NODE_SWITCH, name, 3, 0) >=
                    0);
    }
    assert_int_equal(t.nnodes, 1004);
    assert_int_equal(t.nhosts, 502);
    assert_int_equal(t.host_node[501], 1003);
    assert_int_equal(ifb_topo_find_node(&t, "x999"), 1003);
    assert_int_equal(ifb_topo_find_node(&t, "spine0"), s1);
    assert_int_equal(ifb_topo_find_node(&t, "nope"), -1);
    check_symmetric(&t);
    /* Invalid input. */
    assert_int_equal(
        ifb_topo_add_node(&t, IFB_NODE_SWITCH, "0123456789012345678901234567890123", 4, 0), -1);
    assert_int_equal(ifb_topo_add_node(&t, IFB_NODE_SWITCH, "neg", -1, 0), -1);
    assert_int_equal(ifb_topo_add_node(&t, IFB_NODE_SWITCH, NULL, 1, 0), -1);
    assert_int_equal(t.nnodes, 1004);
    ifb_topo_free(&t);
    assert_int_equal(t.nnodes, 0);
    assert_null(t.nodes);
    ifb_topo_free(&t); /* twice is harmless */
}

static void test_connect(void **state)
{
    (void)state;
    ifb_topo t;
    ifb_topo_init(&t);
    int a = sw(&t, "leaf3", 2, 0), b = sw(&t, "spine0", 4, 1), h = host(&t, "s0n0");
    ifb_err e = {{0}};
    assert_int_equal(ifb_topo_connect(&t, h, a, G400, IFB_US, &e), 0);
    assert_int_equal(ifb_topo_connect(&t, a, b, G400, IFB_US, &e), 1);
    const ifb_topo_link *l = &t.links[1];
    assert_int_equal(l->a_node, a);
    assert_int_equal(l->a_port, 1); /* port 0 went to the host */
    assert_int_equal(l->b_node, b);
    assert_int_equal(l->b_port, 0);
    assert_true(l->rate_bps == G400);
    assert_true(l->delay == IFB_US);
    check_symmetric(&t);
    /* leaf3 is full now. */
    assert_int_equal(ifb_topo_connect(&t, b, a, G400, IFB_US, &e), -1);
    assert_string_equal(e.msg, "switch leaf3 has no free port (2 ports)");
    int h2 = host(&t, "s0n1");
    assert_int_equal(ifb_topo_connect(&t, b, h, G400, IFB_US, &e), -1);
    assert_string_equal(e.msg, "host s0n0 has no free port (1 port)");
    assert_int_equal(ifb_topo_connect(&t, b, b, G400, IFB_US, &e), -1);
    assert_non_null(strstr(e.msg, "spine0 cannot be linked to itself"));
    assert_int_equal(ifb_topo_connect(&t, b, h2, 0, IFB_US, &e), -1);
    assert_non_null(strstr(e.msg, "rate"));
    assert_int_equal(ifb_topo_connect(&t, b, 99, G400, IFB_US, &e), -1);
    assert_non_null(strstr(e.msg, "out of range"));
    assert_int_equal(t.nlinks, 2); /* failures add nothing */
    check_symmetric(&t);
    ifb_topo_free(&t);
}

/* Two leaves, two spines; leaf0-spine0 has two parallel links. */
static void test_route_parallel_links(void **state)
{
    (void)state;
    ifb_topo t;
    ifb_topo_init(&t);
    int l0 = sw(&t, "leaf0", 8, 0), l1 = sw(&t, "leaf1", 8, 0);
    int sp0 = sw(&t, "spine0", 8, 1), sp1 = sw(&t, "spine1", 8, 1);
    int h0 = host(&t, "h0"), h1 = host(&t, "h1"), h2 = host(&t, "h2");
    link_ok(&t, h0, l0);  /* leaf0 port 0 */
    link_ok(&t, h1, l0);  /* leaf0 port 1 */
    link_ok(&t, h2, l1);  /* leaf1 port 0 */
    link_ok(&t, l0, sp0); /* leaf0 port 2 */
    link_ok(&t, l0, sp1); /* leaf0 port 3 */
    link_ok(&t, l0, sp0); /* leaf0 port 4: parallel to port 2 */
    link_ok(&t, l1, sp0);
    link_ok(&t, l1, sp1);
    ifb_err e = {{0}};
    assert_int_equal(ifb_topo_route(&t, &e), 0);
    const ifb_topo_group *g = ifb_topo_route_group(&t, t.nodes[l0].host, t.nodes[h2].host);
    assert_int_equal(g->count, 3);
    assert_int_equal(t.group_ports[g->first + 0], 2);
    assert_int_equal(t.group_ports[g->first + 1], 3);
    assert_int_equal(t.group_ports[g->first + 2], 4);
    g = ifb_topo_route_group(&t, t.nodes[l0].host, t.nodes[h1].host);
    assert_int_equal(g->count, 1);
    assert_int_equal(t.group_ports[g->first], 1);
    /* spine0 reaches leaf0 over two parallel links. */
    assert_int_equal(group_size(&t, "spine0", "h0"), 2);
    assert_int_equal(group_size(&t, "spine1", "h0"), 1);
    assert_int_equal(group_size(&t, "leaf1", "h0"), 2);
    /* h0->h2: via spine0 (2 links up, 1 down) or spine1 (1 up, 1 down). */
    assert_int_equal(walk_all_pairs(&t),
                     3 /* h0->h2 */ + 3 /* h1->h2 */ + 3 /* h2->h0 */ + 3 /* h2->h1 */ + 1 + 1);
    /* Routing again gives the same tables. */
    int ngroups = t.ngroups;
    int *copy = malloc((size_t)t.nswitches * (size_t)t.nhosts * sizeof *copy);
    memcpy(copy, t.route, (size_t)t.nswitches * (size_t)t.nhosts * sizeof *copy);
    assert_int_equal(ifb_topo_route(&t, &e), 0);
    assert_int_equal(t.ngroups, ngroups);
    assert_memory_equal(copy, t.route, (size_t)t.nswitches * (size_t)t.nhosts * sizeof *copy);
    free(copy);
    ifb_topo_free(&t);
}

/* Groups are shared between switches and destinations with the same port list. */
static void test_route_dedup(void **state)
{
    (void)state;
    ifb_topo t;
    ifb_topo_init(&t);
    int l[4], s[2];
    char name[32];
    for (int i = 0; i < 4; i++) {
        snprintf(name, sizeof name, "leaf%d", i);
        l[i] = sw(&t, name, 8, 0);
    }
    for (int i = 0; i < 2; i++) {
        snprintf(name, sizeof name, "spine%d", i);
        s[i] = sw(&t, name, 8, 1);
    }
    for (int i = 0; i < 16; i++) {
        snprintf(name, sizeof name, "h%d", i);
        link_ok(&t, host(&t, name), l[i / 4]);
    }
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 2; j++)
            link_ok(&t, l[i], s[j]);
    ifb_err e = {{0}};
    assert_int_equal(ifb_topo_route(&t, &e), 0);
    /* {0},{1},{2},{3} (host ports and spine downlinks) + {4,5} (uplinks of every leaf). */
    assert_int_equal(t.ngroups, 5);
    assert_int_equal(t.ngroup_ports, 6);
    assert_int_equal(t.route[0 * 16 + 15], t.route[3 * 16 + 0]); /* leaf0->h15 == leaf3->h0 */
    walk_all_pairs(&t);
    ifb_topo_free(&t);
}

static void test_route_disconnected(void **state)
{
    (void)state;
    ifb_topo t;
    ifb_topo_init(&t);
    int a = sw(&t, "leafA", 4, 0), b = sw(&t, "leafB", 4, 0);
    link_ok(&t, host(&t, "hostA"), a);
    link_ok(&t, host(&t, "hostB"), b);
    ifb_err e = {{0}};
    assert_int_equal(ifb_topo_route(&t, &e), -1);
    assert_non_null(strstr(e.msg, "hostA"));
    assert_non_null(strstr(e.msg, "hostB"));
    assert_non_null(strstr(e.msg, "cannot reach"));
    assert_null(t.route); /* nothing half-built left behind */
    /* Joining the leaves fixes it. */
    link_ok(&t, a, b);
    assert_int_equal(ifb_topo_route(&t, &e), 0);
    assert_int_equal(walk_all_pairs(&t), 2);
    /* A spare switch linked to nothing cannot route. */
    sw(&t, "spare", 4, 1);
    assert_int_equal(ifb_topo_route(&t, &e), -1);
    assert_non_null(strstr(e.msg, "switch spare cannot reach host"));
    ifb_topo_free(&t);
}

static void test_route_unlinked_host(void **state)
{
    (void)state;
    ifb_topo t;
    ifb_topo_init(&t);
    int a = sw(&t, "leaf0", 4, 0);
    link_ok(&t, host(&t, "h0"), a);
    host(&t, "lonely");
    ifb_err e = {{0}};
    assert_int_equal(ifb_topo_route(&t, &e), -1);
    assert_non_null(strstr(e.msg, "lonely"));
    assert_non_null(strstr(e.msg, "h0"));
    ifb_topo_free(&t);

    ifb_topo_init(&t);
    assert_int_equal(ifb_topo_route(&t, &e), -1);
    assert_non_null(strstr(e.msg, "no hosts"));
    ifb_topo_free(&t);
}

/* Hosts do not forward: a path through a host is no path. */
static void test_route_hosts_do_not_forward(void **state)
{
    (void)state;
    ifb_topo t;
    ifb_topo_init(&t);
    int a = sw(&t, "leafA", 4, 0), b = sw(&t, "leafB", 4, 0);
    int m = ifb_topo_add_node(&t, IFB_NODE_HOST, "middle", 2, -1);
    link_ok(&t, host(&t, "hA"), a);
    link_ok(&t, host(&t, "hB"), b);
    link_ok(&t, a, m);
    link_ok(&t, m, b);
    ifb_err e = {{0}};
    assert_int_equal(ifb_topo_route(&t, &e), -1);
    assert_non_null(strstr(e.msg, "cannot reach"));
    ifb_topo_free(&t);
}

/* Non-bipartite graphs: a 6-switch ring (ties only toward the opposite switch) and a 5-switch
 * ring (no ties), each switch with one host, plus a chord. Links between switches at the same
 * distance must never be used. */
static void test_route_rings(void **state)
{
    (void)state;
    for (int n = 5; n <= 6; n++) {
        ifb_topo t;
        ifb_topo_init(&t);
        int s[6];
        char name[32];
        for (int i = 0; i < n; i++) {
            snprintf(name, sizeof name, "r%d", i);
            s[i] = sw(&t, name, 4, 0);
        }
        for (int i = 0; i < n; i++) {
            snprintf(name, sizeof name, "h%d", i);
            link_ok(&t, host(&t, name), s[i]); /* port 0 */
        }
        for (int i = 0; i < n; i++)
            link_ok(&t, s[i], s[(i + 1) % n]); /* r0: port 1 to r1, port 2 to r(n-1) */
        ifb_err e = {{0}};
        assert_int_equal(ifb_topo_route(&t, &e), 0);
        /* r0 toward h3: in the 6-ring both ways are 3 hops; in the 5-ring only via r4. */
        const ifb_topo_group *g = ifb_topo_route_group(&t, 0, 3);
        assert_int_equal(g->count, n == 6 ? 2 : 1);
        assert_int_equal(t.group_ports[g->first + g->count - 1], 2);
        /* r0 toward h1: one hop clockwise only. */
        g = ifb_topo_route_group(&t, 0, 1);
        assert_int_equal(g->count, 1);
        assert_int_equal(t.group_ports[g->first], 1);
        /* Paths: every pair 1, except opposite pairs in the 6-ring (2). */
        assert_int_equal(walk_all_pairs(&t), n * (n - 1) + (n == 6 ? 6 : 0));
        /* A chord r0-r2 (port 3 on both) makes r0->h2 direct and r1's neighbours r0 and r2
         * equally far from h2's switch: r1 must go straight to r2 only. */
        link_ok(&t, s[0], s[2]);
        assert_int_equal(ifb_topo_route(&t, &e), 0);
        g = ifb_topo_route_group(&t, 0, 2);
        assert_int_equal(g->count, 1);
        assert_int_equal(t.group_ports[g->first], 3);
        g = ifb_topo_route_group(&t, 1, 2);
        assert_int_equal(g->count, 1);
        assert_int_equal(t.group_ports[g->first], 2); /* r1: port 1 to r0, port 2 to r2 */
        walk_all_pairs(&t);
        ifb_topo_free(&t);
    }
}

/* Two hosts cabled back to back: no switch, nothing to route, but reachable. */
static void test_route_back_to_back(void **state)
{
    (void)state;
    ifb_topo t;
    ifb_topo_init(&t);
    link_ok(&t, host(&t, "a"), host(&t, "b"));
    ifb_err e = {{0}};
    assert_int_equal(ifb_topo_route(&t, &e), 0);
    assert_int_equal(t.ngroups, 0);
    ifb_topo_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_node),
        cmocka_unit_test(test_connect),
        cmocka_unit_test(test_route_parallel_links),
        cmocka_unit_test(test_route_dedup),
        cmocka_unit_test(test_route_disconnected),
        cmocka_unit_test(test_route_unlinked_host),
        cmocka_unit_test(test_route_hosts_do_not_forward),
        cmocka_unit_test(test_route_rings),
        cmocka_unit_test(test_route_back_to_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
