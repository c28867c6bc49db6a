/* Shared checks for the topology tests: port symmetry, an independent reference BFS, walking
 * every ECMP path, and comparing two topologies. Included by tests/topo/test_*.c after cmocka. */
#ifndef IFB_TOPO_CHECK_H
#define IFB_TOPO_CHECK_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topo/topo.h"

/* Every linked port's peer points back at it, links agree with both ports, free ports have no
 * peer, every node's ports are contiguous. Returns the number of linked ports. */
static inline int check_symmetric(const ifb_topo *t)
{
    int linked = 0, next = 0;
    for (int n = 0; n < t->nnodes; n++) {
        assert_int_equal(t->nodes[n].first_port, next);
        next += t->nodes[n].nports;
    }
    assert_int_equal(next, t->nports);
    for (int i = 0; i < t->nports; i++) {
        const ifb_topo_port *p = &t->ports[i];
        assert_int_equal(t->nodes[p->node].first_port + p->index, i);
        if (p->link < 0) {
            assert_int_equal(p->peer_node, -1);
            continue;
        }
        linked++;
        assert_true(p->peer_node >= 0 && p->peer_node < t->nnodes);
        assert_true(p->peer_port >= 0 && p->peer_port < t->nodes[p->peer_node].nports);
        const ifb_topo_port *q = &t->ports[t->nodes[p->peer_node].first_port + p->peer_port];
        assert_int_equal(q->peer_node, p->node);
        assert_int_equal(q->peer_port, p->index);
        assert_int_equal(q->link, p->link);
        const ifb_topo_link *l = &t->links[p->link];
        int a_side = l->a_node == p->node && l->a_port == p->index;
        int b_side = l->b_node == p->node && l->b_port == p->index;
        assert_true(a_side != b_side);
    }
    assert_int_equal(linked, 2 * t->nlinks);
    return linked;
}

/* Reference hop distance from every node to host node dst (hosts do not forward); -1 if none. */
static inline void ref_dist(const ifb_topo *t, int dst, int *dist)
{
    int *q = malloc((size_t)t->nnodes * sizeof *q);
    int qh = 0, qt = 0;
    for (int i = 0; i < t->nnodes; i++)
        dist[i] = -1;
    dist[dst] = 0;
    q[qt++] = dst;
    while (qh < qt) {
        int u = q[qh++];
        if (u != dst && t->nodes[u].kind == IFB_NODE_HOST)
            continue;
        for (int i = 0; i < t->nodes[u].nports; i++) {
            int v = t->ports[t->nodes[u].first_port + i].peer_node;
            if (v >= 0 && dist[v] < 0) {
                dist[v] = dist[u] + 1;
                q[qt++] = v;
            }
        }
    }
    free(q);
}

/* Follows every member of every group from switch sw (reached after `hops` links) toward host
 * node dst; every path must arrive after exactly `expect` links. Returns the number of paths. */
static inline long walk_paths(const ifb_topo *t, int sw, int dst, int hops, int expect)
{
    assert_true(hops < expect);
    const ifb_topo_node *n = &t->nodes[sw];
    assert_int_equal(n->kind, IFB_NODE_SWITCH);
    const ifb_topo_group *g = ifb_topo_route_group(t, n->host, t->nodes[dst].host);
    assert_true(g->count > 0);
    long paths = 0;
    for (int m = 0; m < g->count; m++) {
        int p = t->group_ports[g->first + m];
        if (m > 0)
            assert_true(p > t->group_ports[g->first + m - 1]); /* ascending, distinct */
        assert_true(p >= 0 && p < n->nports);
        int v = t->ports[n->first_port + p].peer_node;
        assert_true(v >= 0);
        if (v == dst) {
            assert_int_equal(hops + 1, expect);
            paths++;
        } else {
            paths += walk_paths(t, v, dst, hops + 1, expect);
        }
    }
    return paths;
}

/* Walks all paths between every pair of hosts; returns the total number of paths. */
static inline long walk_all_pairs(const ifb_topo *t)
{
    int *dist = malloc((size_t)t->nnodes * sizeof *dist);
    long total = 0;
    for (int d = 0; d < t->nhosts; d++) {
        int dn = t->host_node[d];
        ref_dist(t, dn, dist);
        for (int s = 0; s < t->nhosts; s++) {
            if (s == d)
                continue;
            int sn = t->host_node[s];
            assert_true(dist[sn] > 0);
            const ifb_topo_node *h = &t->nodes[sn];
            long paths = 0;
            for (int i = 0; i < h->nports; i++) {
                int v = t->ports[h->first_port + i].peer_node;
                if (v == dn)
                    paths++;
                else if (v >= 0 && dist[v] == dist[sn] - 1)
                    paths += walk_paths(t, v, dn, 1, dist[sn]);
            }
            assert_true(paths > 0);
            total += paths;
        }
    }
    free(dist);
    return total;
}

/* Group size of the switch named sw toward the host named host. */
static inline int group_size(const ifb_topo *t, const char *sw, const char *host)
{
    int s = ifb_topo_find_node(t, sw), h = ifb_topo_find_node(t, host);
    assert_true(s >= 0 && h >= 0);
    return ifb_topo_route_group(t, t->nodes[s].host, t->nodes[h].host)->count;
}

/* Same graph, names, server layout and routing (group contents per switch and host). */
static inline void assert_same_topo(const ifb_topo *a, const ifb_topo *b)
{
    assert_int_equal(a->nnodes, b->nnodes);
    assert_int_equal(a->nports, b->nports);
    assert_int_equal(a->nlinks, b->nlinks);
    assert_int_equal(a->nhosts, b->nhosts);
    assert_int_equal(a->nswitches, b->nswitches);
    for (int i = 0; i < a->nnodes; i++) {
        assert_int_equal(a->nodes[i].kind, b->nodes[i].kind);
        assert_string_equal(a->nodes[i].name, b->nodes[i].name);
        assert_int_equal(a->nodes[i].nports, b->nodes[i].nports);
        assert_int_equal(a->nodes[i].tier, b->nodes[i].tier);
        assert_int_equal(a->nodes[i].host, b->nodes[i].host);
        assert_int_equal(a->nodes[i].server, b->nodes[i].server);
    }
    for (int i = 0; i < a->nports; i++)
        assert_memory_equal(&a->ports[i], &b->ports[i], sizeof a->ports[i]);
    for (int i = 0; i < a->nlinks; i++) {
        assert_int_equal(a->links[i].a_node, b->links[i].a_node);
        assert_int_equal(a->links[i].a_port, b->links[i].a_port);
        assert_int_equal(a->links[i].b_node, b->links[i].b_node);
        assert_int_equal(a->links[i].b_port, b->links[i].b_port);
        assert_true(a->links[i].rate_bps == b->links[i].rate_bps);
        assert_true(a->links[i].delay == b->links[i].delay);
    }
    assert_int_equal(a->nservers, b->nservers);
    assert_int_equal(a->gpus_per_server, b->gpus_per_server);
    assert_int_equal(a->nics_per_server, b->nics_per_server);
    assert_memory_equal(a->server_host, b->server_host,
                        (size_t)a->nservers * (size_t)a->nics_per_server * sizeof(int));
    assert_memory_equal(a->gpu_nic, b->gpu_nic, (size_t)a->gpus_per_server * sizeof(int));
    assert_true(a->nvlink_bps == b->nvlink_bps);
    assert_true(a->nvlink_latency == b->nvlink_latency);
    assert_int_equal(a->ngroups, b->ngroups);
    for (int s = 0; s < a->nswitches; s++)
        for (int h = 0; h < a->nhosts; h++) {
            const ifb_topo_group *ga = ifb_topo_route_group(a, s, h);
            const ifb_topo_group *gb = ifb_topo_route_group(b, s, h);
            assert_int_equal(ga->count, gb->count);
            assert_memory_equal(&a->group_ports[ga->first], &b->group_ports[gb->first],
                                (size_t)ga->count * sizeof(int));
        }
}

#endif
