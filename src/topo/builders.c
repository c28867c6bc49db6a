/* Topology builders: single switch, 2-tier leaf-spine, 3-tier k-ary fat tree, rail-optimized.
 * Each validates the whole shape first (so a bad count fails with one clear message before
 * anything is built), then adds switches, then servers' NICs, then links in a fixed order, so
 * port numbers and indices are reproducible. Left out: multi-plane fabrics, rail groups larger
 * than one switch, cable lengths (every fabric link gets the same delay). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "topo/topo.h"

/* Port numbers travel in packets as 16-bit values. */
#define MAX_PORTS 65535
#define MAX_NICS 64
#define MAX_GPUS 1024
/* Keeps host counts (and the route table, switches x hosts) far from int overflow. */
#define MAX_HOSTS (1 << 22)

static int check_spec(const char *what, const ifb_server_spec *s, ifb_err *e)
{
    if (!s)
        return ifb_err_msg(e, "%s: no server description given", what);
    if (s->gpus_per_server < 1 || s->gpus_per_server > MAX_GPUS)
        return ifb_err_msg(e, "%s: GPUs per server must be 1..%d, got %d", what, MAX_GPUS,
                           s->gpus_per_server);
    if (s->nics_per_server < 1 || s->nics_per_server > MAX_NICS)
        return ifb_err_msg(e, "%s: NICs per server must be 1..%d, got %d", what, MAX_NICS,
                           s->nics_per_server);
    if (s->nic_bps == 0)
        return ifb_err_msg(e, "%s: NIC rate must be above 0 bps", what);
    if (s->gpu_nic)
        for (int g = 0; g < s->gpus_per_server; g++)
            if (s->gpu_nic[g] < 0 || s->gpu_nic[g] >= s->nics_per_server)
                return ifb_err_msg(e, "%s: GPU %d uses NIC %d, but servers have NICs 0..%d", what,
                                   g, s->gpu_nic[g], s->nics_per_server - 1);
    return 0;
}

static int check_count(const char *what, const char *name, int v, int min, ifb_err *e)
{
    if (v < min)
        return ifb_err_msg(e, "%s: %s must be at least %d, got %d", what, name, min, v);
    return 0;
}

static int check_empty(const char *what, const ifb_topo *t, ifb_err *e)
{
    if (t->nnodes != 0)
        return ifb_err_msg(e, "%s: the topology is not empty (%d nodes)", what, t->nnodes);
    return 0;
}

static int check_ports(const char *what, int switch_ports, ifb_err *e)
{
    if (switch_ports < 1 || switch_ports > MAX_PORTS)
        return ifb_err_msg(e, "%s: switch ports must be 1..%d, got %d", what, MAX_PORTS,
                           switch_ports);
    return 0;
}

/* ifb_topo_add_node refuses only a bad name or a port count past INT_MAX, which the shape
 * checks rule out: reaching this is a builder bug, reported rather than built around. */
static int add_failed(const char *what, const char *name, ifb_err *e)
{
    return ifb_err_msg(e, "%s: internal error: cannot add node %s", what, name);
}

/* Adds a switch named fmt(a, b); returns its node id or -1. */
static int add_switch(ifb_topo *t, const char *what, int nports, int tier, ifb_err *e,
                      const char *fmt, int a, int b)
{
    char name[32];
    snprintf(name, sizeof name, fmt, a, b);
    int id = ifb_topo_add_node(t, IFB_NODE_SWITCH, name, nports, tier);
    if (id < 0)
        return add_failed(what, name, e);
    return id;
}

/* Adds nservers servers' NICs as hosts "s<server>n<nic>" and fills the server layout. Returns
 * the node id of the first host (hosts are consecutive), or -1. */
static int add_servers(ifb_topo *t, const char *what, int nservers, const ifb_server_spec *s,
                       ifb_err *e)
{
    int nics = s->nics_per_server, gpus = s->gpus_per_server;
    t->nservers = nservers;
    t->gpus_per_server = gpus;
    t->nics_per_server = nics;
    t->nvlink_bps = s->nvlink_bps;
    t->nvlink_latency = s->nvlink_latency;
    t->server_host =
        ifb_xcalloc((size_t)nservers * (size_t)nics, sizeof *t->server_host, "the servers' NICs");
    t->gpu_nic = ifb_xcalloc((size_t)gpus, sizeof *t->gpu_nic, "the GPU-NIC map");
    for (int g = 0; g < gpus; g++)
        t->gpu_nic[g] = s->gpu_nic ? s->gpu_nic[g] : (int)((long)g * nics / gpus);
    int first = t->nnodes;
    for (int srv = 0; srv < nservers; srv++)
        for (int i = 0; i < nics; i++) {
            char name[32];
            snprintf(name, sizeof name, "s%dn%d", srv, i);
            int id = ifb_topo_add_node(t, IFB_NODE_HOST, name, 1, -1);
            if (id < 0)
                return add_failed(what, name, e);
            t->nodes[id].server = srv;
            t->server_host[srv * nics + i] = t->nodes[id].host;
        }
    return first;
}

/* Links every host i (node first_host + i) to switch node sw_of[i / per_switch]. */
static int link_hosts(ifb_topo *t, int first_host, int nhosts, const int *sw_nodes,
                      int hosts_per_switch, const ifb_server_spec *s, ifb_err *e)
{
    for (int h = 0; h < nhosts; h++)
        if (ifb_topo_connect(t, first_host + h, sw_nodes[h / hosts_per_switch], s->nic_bps,
                             s->host_delay, e) < 0)
            return -1;
    return 0;
}

int ifb_topo_single_switch(ifb_topo *t, int nservers, const ifb_server_spec *s, int switch_ports,
                           ifb_err *e)
{
    const char *what = "single switch";
    if (check_empty(what, t, e) || check_spec(what, s, e) ||
        check_count(what, "servers", nservers, 1, e) || check_ports(what, switch_ports, e))
        return -1;
    long nhosts = (long)nservers * s->nics_per_server;
    if (nhosts > switch_ports)
        return ifb_err_msg(e, "%s: %ld hosts (%d servers x %d NICs) need %ld ports, switch has %d",
                           what, nhosts, nservers, s->nics_per_server, nhosts, switch_ports);
    int sw = add_switch(t, what, switch_ports, 0, e, "sw%d", 0, 0);
    if (sw < 0)
        return -1;
    int first = add_servers(t, what, nservers, s, e);
    if (first < 0)
        return -1;
    return link_hosts(t, first, (int)nhosts, &sw, (int)nhosts, s, e);
}

/* Links every lower switch to every upper switch with `uplinks` parallel links, lower-major, so
 * a lower switch's uplinks toward one upper switch are consecutive ports. */
static int link_full_mesh(ifb_topo *t, const int *lower, int nlower, const int *upper, int nupper,
                          int uplinks, uint64_t bps, ifb_time delay, ifb_err *e)
{
    for (int l = 0; l < nlower; l++)
        for (int u = 0; u < nupper; u++)
            for (int k = 0; k < uplinks; k++)
                if (ifb_topo_connect(t, lower[l], upper[u], bps, delay, e) < 0)
                    return -1;
    return 0;
}

static int check_fabric(const char *what, int spines, int uplinks, uint64_t fabric_bps,
                        int switch_ports, ifb_err *e)
{
    if (check_count(what, "spines", spines, 1, e) ||
        check_count(what, "uplinks per spine", uplinks, 1, e) || check_ports(what, switch_ports, e))
        return -1;
    if (fabric_bps == 0)
        return ifb_err_msg(e, "%s: fabric link rate must be above 0 bps", what);
    return 0;
}

int ifb_topo_leaf_spine(ifb_topo *t, int nservers, const ifb_server_spec *s, int leaves, int spines,
                        int uplinks_per_spine, uint64_t fabric_bps, ifb_time fabric_delay,
                        int switch_ports, ifb_err *e)
{
    const char *what = "leaf-spine";
    if (check_empty(what, t, e) || check_spec(what, s, e) ||
        check_count(what, "servers", nservers, 1, e) || check_count(what, "leaves", leaves, 1, e) ||
        check_fabric(what, spines, uplinks_per_spine, fabric_bps, switch_ports, e))
        return -1;
    int nics = s->nics_per_server;
    long per_leaf = ((long)nservers + leaves - 1) / leaves;
    long hpl = per_leaf * nics;
    long up = (long)spines * uplinks_per_spine;
    if (hpl + up > switch_ports)
        return ifb_err_msg(e, "%s: %ld hosts per leaf + %ld uplinks need %ld ports, switch has %d",
                           what, hpl, up, hpl + up, switch_ports);
    if ((long)nservers * nics > MAX_HOSTS)
        return ifb_err_msg(e, "%s: %d servers x %d NICs is more than %d hosts", what, nservers,
                           nics, MAX_HOSTS);
    long down = (long)leaves * uplinks_per_spine;
    if (down > switch_ports)
        return ifb_err_msg(e,
                           "%s: %d leaves x %d uplinks per spine need %ld ports on each spine, "
                           "switch has %d",
                           what, leaves, uplinks_per_spine, down, switch_ports);
    int *leaf = ifb_xcalloc((size_t)leaves, sizeof *leaf, "the leaves"),
        *spine = ifb_xcalloc((size_t)spines, sizeof *spine, "the spines");
    int rc = -1;
    for (int i = 0; i < leaves; i++)
        if ((leaf[i] = add_switch(t, what, switch_ports, 0, e, "leaf%d", i, 0)) < 0)
            goto out;
    for (int j = 0; j < spines; j++)
        if ((spine[j] = add_switch(t, what, switch_ports, 1, e, "spine%d", j, 0)) < 0)
            goto out;
    int first = add_servers(t, what, nservers, s, e);
    if (first < 0 || link_hosts(t, first, nservers * nics, leaf, (int)hpl, s, e) ||
        link_full_mesh(t, leaf, leaves, spine, spines, uplinks_per_spine, fabric_bps, fabric_delay,
                       e))
        goto out;
    rc = 0;
out:
    free(leaf);
    free(spine);
    return rc;
}

int ifb_topo_fat_tree(ifb_topo *t, int k, const ifb_server_spec *s, uint64_t fabric_bps,
                      ifb_time fabric_delay, ifb_err *e)
{
    const char *what = "fat tree";
    if (check_empty(what, t, e) || check_spec(what, s, e))
        return -1;
    if (k < 2 || k > 256 || k % 2 != 0)
        return ifb_err_msg(e, "%s: k must be an even number from 2 to 256, got %d", what, k);
    if (fabric_bps == 0)
        return ifb_err_msg(e, "%s: fabric link rate must be above 0 bps", what);
    int h = k / 2;
    int nhosts = k * h * h;
    int nics = s->nics_per_server;
    if (nhosts % nics != 0)
        return ifb_err_msg(e, "%s: k=%d has %d host ports, not a multiple of %d NICs per server",
                           what, k, nhosts, nics);
    int nedge = k * h, ncore = h * h;
    int *edge = ifb_xcalloc((size_t)nedge, sizeof *edge, "the edge switches");
    int *agg = ifb_xcalloc((size_t)nedge, sizeof *agg, "the aggregation switches");
    int *core = ifb_xcalloc((size_t)ncore, sizeof *core, "the core switches");
    int rc = -1;
    for (int p = 0; p < k; p++) {
        for (int i = 0; i < h; i++)
            if ((edge[p * h + i] = add_switch(t, what, k, 0, e, "edge%d_%d", p, i)) < 0)
                goto out;
        for (int i = 0; i < h; i++)
            if ((agg[p * h + i] = add_switch(t, what, k, 1, e, "agg%d_%d", p, i)) < 0)
                goto out;
    }
    for (int j = 0; j < ncore; j++)
        if ((core[j] = add_switch(t, what, k, 2, e, "core%d", j, 0)) < 0)
            goto out;
    int first = add_servers(t, what, nhosts / nics, s, e);
    if (first < 0 || link_hosts(t, first, nhosts, edge, h, s, e))
        goto out;
    for (int p = 0; p < k; p++)
        if (link_full_mesh(t, &edge[p * h], h, &agg[p * h], h, 1, fabric_bps, fabric_delay, e))
            goto out;
    for (int p = 0; p < k; p++)
        for (int i = 0; i < h; i++)
            if (link_full_mesh(t, &agg[p * h + i], 1, &core[i * h], h, 1, fabric_bps, fabric_delay,
                               e))
                goto out;
    rc = 0;
out:
    free(edge);
    free(agg);
    free(core);
    return rc;
}

int ifb_topo_rail(ifb_topo *t, int nservers, const ifb_server_spec *s, int spines,
                  int uplinks_per_spine, uint64_t fabric_bps, ifb_time fabric_delay,
                  int switch_ports, ifb_err *e)
{
    const char *what = "rail-optimized";
    if (check_empty(what, t, e) || check_spec(what, s, e) ||
        check_count(what, "servers", nservers, 1, e) ||
        check_fabric(what, spines, uplinks_per_spine, fabric_bps, switch_ports, e))
        return -1;
    int rails = s->nics_per_server;
    long up = (long)spines * uplinks_per_spine;
    if (nservers + up > switch_ports)
        return ifb_err_msg(e, "%s: %d servers per rail + %ld uplinks need %ld ports, switch has %d",
                           what, nservers, up, nservers + up, switch_ports);
    long down = (long)rails * uplinks_per_spine;
    if (down > switch_ports)
        return ifb_err_msg(e,
                           "%s: %d rails x %d uplinks per spine need %ld ports on each spine, "
                           "switch has %d",
                           what, rails, uplinks_per_spine, down, switch_ports);
    int *rail = ifb_xcalloc((size_t)rails, sizeof *rail, "the rail switches"),
        *spine = ifb_xcalloc((size_t)spines, sizeof *spine, "the spines");
    int rc = -1;
    for (int i = 0; i < rails; i++)
        if ((rail[i] = add_switch(t, what, switch_ports, 0, e, "rail%d", i, 0)) < 0)
            goto out;
    for (int j = 0; j < spines; j++)
        if ((spine[j] = add_switch(t, what, switch_ports, 1, e, "spine%d", j, 0)) < 0)
            goto out;
    int first = add_servers(t, what, nservers, s, e);
    if (first < 0)
        goto out;
    /* Rail-major so that rail i's port s is server s's NIC i. */
    for (int i = 0; i < rails; i++)
        for (int srv = 0; srv < nservers; srv++)
            if (ifb_topo_connect(t, first + srv * rails + i, rail[i], s->nic_bps, s->host_delay,
                                 e) < 0)
                goto out;
    if (link_full_mesh(t, rail, rails, spine, spines, uplinks_per_spine, fabric_bps, fabric_delay,
                       e))
        goto out;
    rc = 0;
out:
    free(rail);
    free(spine);
    return rc;
}
