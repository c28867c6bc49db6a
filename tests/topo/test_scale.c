/* Topology construction and routing scale with the graph, not with its square (issue 12 item
 * 21: `check` of a million-node topology file took 237 s). Two switches of 60,000 hosts each
 * were quadratic twice over: each link scanned its switch's ports for the first free one
 * (3.6e9 port reads in all), and routing looked up the ports toward each host by scanning
 * every port again (7.2e9): 6.7 s of CPU before, 0.035 s now. The bound (1 s) sits far from
 * both; the routes are checked too. The progress hook is called while routing, with done never
 * above total. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "topo/topo.h"

enum { HOSTS = 120000, SPINES = 4 };

typedef struct calls {
    int n;
    uint64_t last, total;
    int bad;
} calls;

static void count_progress(void *ctx, const char *what, uint64_t done, uint64_t total)
{
    calls *c = ctx;
    c->n++;
    c->bad |= done > total || done < c->last || strcmp(what, "routing") != 0;
    c->last = done;
    c->total = total;
}

static void test_wide_switch_links_and_routes_in_linear_time(void **state)
{
    (void)state;
    ifb_topo t;
    ifb_topo_init(&t);
    ifb_err e = {{0}};
    clock_t c0 = clock();
    /* two leaves of HOSTS/2 hosts, each leaf linked to every spine */
    int leaf[2], spine[SPINES];
    for (int i = 0; i < 2; i++) {
        char name[32];
        snprintf(name, sizeof name, "leaf%d", i);
        leaf[i] = ifb_topo_add_node(&t, IFB_NODE_SWITCH, name, HOSTS / 2 + SPINES, 0);
        assert_true(leaf[i] >= 0);
    }
    for (int j = 0; j < SPINES; j++) {
        char name[32];
        snprintf(name, sizeof name, "spine%d", j);
        spine[j] = ifb_topo_add_node(&t, IFB_NODE_SWITCH, name, 2, 1);
        assert_true(spine[j] >= 0);
    }
    for (int h = 0; h < HOSTS; h++) {
        char name[32];
        snprintf(name, sizeof name, "h%d", h);
        int n = ifb_topo_add_node(&t, IFB_NODE_HOST, name, 1, -1);
        assert_true(n >= 0);
        assert_true(ifb_topo_connect(&t, n, leaf[h % 2], 400000000000ull, 1000, &e) >= 0);
    }
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < SPINES; j++)
            assert_true(ifb_topo_connect(&t, leaf[i], spine[j], 400000000000ull, 1000, &e) >= 0);
    calls c = {0};
    t.progress = count_progress;
    t.progress_ctx = &c;
    if (ifb_topo_route(&t, &e))
        fail_msg("%s", e.msg);
    double cpu = (double)(clock() - c0) / CLOCKS_PER_SEC;
    printf("%d hosts on 2 leaves: linked and routed in %.3f s of CPU\n", HOSTS, cpu);
    assert_true(cpu < 1.0);
    /* the progress hook ran (2 runs of hosts: called at the first), sanely */
    assert_true(c.n >= 1);
    assert_false(c.bad);
    assert_int_equal(c.total, HOSTS);
    /* routes: each leaf reaches its own hosts on their one port (port h/2 on leaf h%2), the
     * other leaf's over its SPINES uplinks; a spine reaches host h on its port h%2 */
    for (int h = 0; h < HOSTS; h += 997) {
        int own = t.nodes[leaf[h % 2]].host, other = t.nodes[leaf[1 - h % 2]].host;
        const ifb_topo_group *g = ifb_topo_route_group(&t, own, h);
        assert_int_equal(g->count, 1);
        assert_int_equal(t.group_ports[g->first], h / 2);
        g = ifb_topo_route_group(&t, other, h);
        assert_int_equal(g->count, SPINES);
        for (int j = 0; j < SPINES; j++)
            assert_int_equal(t.group_ports[g->first + j], HOSTS / 2 + j);
        for (int j = 0; j < SPINES; j++) {
            g = ifb_topo_route_group(&t, t.nodes[spine[j]].host, h);
            assert_int_equal(g->count, 1);
            assert_int_equal(t.group_ports[g->first], h % 2);
        }
    }
    /* a full switch still says so */
    int extra = ifb_topo_add_node(&t, IFB_NODE_HOST, "extra", 1, -1);
    assert_int_equal(ifb_topo_connect(&t, extra, leaf[0], 400000000000ull, 1000, &e), -1);
    assert_non_null(strstr(e.msg, "leaf0 has no free port"));
    ifb_topo_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wide_switch_links_and_routes_in_linear_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
