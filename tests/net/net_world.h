/* Shared set-up for the fabric tests in tests/net: a world (simulation, topology, fabric) on one
 * switch, the end-of-run conservation check, and port lookups. Functions are static inline so a
 * test that uses only some of them compiles warning-free. */
#ifndef IFB_TEST_NET_WORLD_H
#define IFB_TEST_NET_WORLD_H
#include "net/fabric/fabric.h"
#include "net/switch/lb.h"
#include "topo/topo.h"

static const uint64_t G400 = 400000000000ull;

typedef struct world {
    ifb_sim sim;
    ifb_topo topo;
    ifb_fabric *fab;
    ifb_lb_cfg lb; /* for tests that route with net/switch/lb.h: cfg.lb may point here */
} world;

/* Servers of one GPU and one 400G NIC each; host links of `delay`. */
static inline ifb_server_spec one_nic_server(ifb_time delay)
{
    return (ifb_server_spec){.gpus_per_server = 1,
                             .nics_per_server = 1,
                             .nic_bps = G400,
                             .host_delay = delay,
                             .nvlink_bps = 3600000000000ull,
                             .nvlink_latency = IFB_US};
}

/* nservers such servers on one switch, host links of host_delay. */
static inline void make_single_delay(world *w, uint64_t seed, int nservers,
                                     const ifb_fabric_cfg *cfg, ifb_time host_delay)
{
    ifb_err e = {{0}};
    ifb_sim_init(&w->sim, seed);
    ifb_topo_init(&w->topo);
    ifb_server_spec s = one_nic_server(host_delay);
    assert_int_equal(ifb_topo_single_switch(&w->topo, nservers, &s, 64, &e), 0);
    assert_int_equal(ifb_topo_route(&w->topo, &e), 0);
    if (ifb_fabric_create(&w->fab, &w->sim, &w->topo, cfg, &e))
        fail_msg("%s", e.msg);
}

static inline void make_single(world *w, uint64_t seed, int nservers, const ifb_fabric_cfg *cfg)
{
    make_single_delay(w, seed, nservers, cfg, 25 * IFB_NS);
}

/* `leaves` leaves of `per_leaf` single-NIC servers (hosts 0..per_leaf-1 on leaf0, ...) and
 * `spines` spines; fabric links at fab_bps, hosts at 400G; links of `delay`. */
static inline void make_leaf_spine(world *w, uint64_t seed, int leaves, int per_leaf, int spines,
                                   uint64_t fab_bps, ifb_time delay, const ifb_fabric_cfg *cfg)
{
    ifb_err e = {{0}};
    ifb_sim_init(&w->sim, seed);
    ifb_topo_init(&w->topo);
    ifb_server_spec s = one_nic_server(delay);
    assert_int_equal(ifb_topo_leaf_spine(&w->topo, leaves * per_leaf, &s, leaves, spines, 1,
                                         fab_bps, delay, 64, &e),
                     0);
    assert_int_equal(ifb_topo_route(&w->topo, &e), 0);
    if (ifb_fabric_create(&w->fab, &w->sim, &w->topo, cfg, &e))
        fail_msg("%s", e.msg);
}

static inline void check_conservation(world *w)
{
    char msg[256];
    if (ifb_fabric_check_conservation(w->fab, msg, sizeof msg))
        fail_msg("%s", msg);
    assert_int_equal(ifb_fabric_inflight(w->fab), 0);
}

static inline void destroy(world *w)
{
    ifb_fabric_destroy(w->fab);
    ifb_topo_free(&w->topo);
    ifb_sim_destroy(&w->sim);
}

static inline int host_port(const ifb_topo *t, int host)
{
    for (int n = 0; n < t->nnodes; n++)
        if (t->nodes[n].kind != IFB_NODE_SWITCH && t->nodes[n].host == host)
            return t->nodes[n].first_port;
    return -1;
}

/* Topology port of `node` whose link leads to node `peer` (by name). */
static inline int port_to(const ifb_topo *t, const char *node, const char *peer)
{
    int n = ifb_topo_find_node(t, node), pn = ifb_topo_find_node(t, peer);
    assert_true(n >= 0 && pn >= 0);
    for (int k = 0; k < t->nodes[n].nports; k++) {
        int p = t->nodes[n].first_port + k;
        if (t->ports[p].link >= 0 && t->ports[p].peer_node == pn)
            return p;
    }
    fail_msg("no port from %s to %s", node, peer);
    return -1;
}

static inline int peer_port(const ifb_topo *t, int port)
{
    return t->nodes[t->ports[port].peer_node].first_port + t->ports[port].peer_port;
}

#endif
