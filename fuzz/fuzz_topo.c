/* Fuzz target: topology files (topo/load.c) and routing of what they describe.
 *
 * Input: the topology text. ifb_topo_load reads only from a path, so the text goes into an
 * in-memory file (memfd) that is opened through /proc/self/fd/N; one memfd serves every run.
 * The server defaults are those of the tests (8 GPUs, 2 NICs of 400 Gb/s, 1 us host links).
 * Invariants (a violation traps): a failure fills its ifb_err; an accepted graph is consistent
 * (each link's two ports point at the link and at each other, hosts and switches are indexed
 * densely, server NICs are hosts); when routing succeeds, every switch has a group toward every
 * host whose ports exist, are connected and ascend. Routing is skipped for graphs too large to
 * route within the fuzzer's time limit (it is quadratic by nature, not a bug). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memfd_create */
#endif
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "topo/topo.h"

enum { ROUTE_WORK_MAX = 4000000 };

/* The memfd and its path; created on first use and kept for the process's life (one per
 * fuzzing process, closed by exit). */
static int topo_fd = -1;
static char topo_path[64];

static void check_graph(const ifb_topo *t)
{
    int hosts = 0, switches = 0;
    for (int n = 0; n < t->nnodes; n++) {
        const ifb_topo_node *nd = &t->nodes[n];
        IFB_FUZZ_CHECK(nd->nports >= 0 && nd->first_port >= 0 &&
                       nd->first_port + nd->nports <= t->nports);
        if (nd->kind == IFB_NODE_HOST) {
            IFB_FUZZ_CHECK(nd->host == hosts && t->host_node[hosts] == n);
            hosts++;
        } else {
            IFB_FUZZ_CHECK(nd->host == switches && t->switch_node[switches] == n);
            switches++;
        }
    }
    IFB_FUZZ_CHECK(hosts == t->nhosts && switches == t->nswitches);
    for (int l = 0; l < t->nlinks; l++) {
        const ifb_topo_link *k = &t->links[l];
        IFB_FUZZ_CHECK(k->a_node >= 0 && k->a_node < t->nnodes && k->b_node >= 0 &&
                       k->b_node < t->nnodes && k->a_node != k->b_node);
        IFB_FUZZ_CHECK(k->rate_bps > 0);
        const ifb_topo_port *a = &t->ports[t->nodes[k->a_node].first_port + k->a_port];
        const ifb_topo_port *b = &t->ports[t->nodes[k->b_node].first_port + k->b_port];
        IFB_FUZZ_CHECK(k->a_port >= 0 && k->a_port < t->nodes[k->a_node].nports);
        IFB_FUZZ_CHECK(k->b_port >= 0 && k->b_port < t->nodes[k->b_node].nports);
        IFB_FUZZ_CHECK(a->link == l && b->link == l);
        IFB_FUZZ_CHECK(a->peer_node == k->b_node && a->peer_port == k->b_port);
        IFB_FUZZ_CHECK(b->peer_node == k->a_node && b->peer_port == k->a_port);
    }
    if (t->nservers > 0) {
        IFB_FUZZ_CHECK(t->nics_per_server > 0 && t->gpus_per_server > 0);
        for (int i = 0; i < t->nservers * t->nics_per_server; i++)
            IFB_FUZZ_CHECK(t->server_host[i] >= 0 && t->server_host[i] < t->nhosts);
        for (int g = 0; g < t->gpus_per_server; g++)
            IFB_FUZZ_CHECK(t->gpu_nic[g] >= 0 && t->gpu_nic[g] < t->nics_per_server);
    }
}

static void check_routes(const ifb_topo *t)
{
    for (int sw = 0; sw < t->nswitches; sw++) {
        const ifb_topo_node *nd = &t->nodes[t->switch_node[sw]];
        for (int h = 0; h < t->nhosts; h++) {
            int gi = t->route[(long)sw * t->nhosts + h];
            IFB_FUZZ_CHECK(gi >= 0 && gi < t->ngroups);
            const ifb_topo_group *g = &t->groups[gi];
            IFB_FUZZ_CHECK(g->count > 0 && g->first >= 0 && g->first + g->count <= t->ngroup_ports);
            for (int i = 0; i < g->count; i++) {
                int p = t->group_ports[g->first + i];
                IFB_FUZZ_CHECK(p >= 0 && p < nd->nports);
                IFB_FUZZ_CHECK(t->ports[nd->first_port + p].link >= 0);
                IFB_FUZZ_CHECK(i == 0 || p > t->group_ports[g->first + i - 1]);
            }
        }
    }
}

int ifb_fuzz_topo(const uint8_t *data, size_t size)
{
    if (topo_fd < 0) {
        topo_fd = memfd_create("fuzz.topo", 0);
        if (topo_fd < 0)
            __builtin_trap(); /* the harness cannot work at all */
        snprintf(topo_path, sizeof topo_path, "/proc/self/fd/%d", topo_fd);
    }
    if (ftruncate(topo_fd, 0) != 0 || (size && pwrite(topo_fd, data, size, 0) != (ssize_t)size))
        __builtin_trap();
    static const ifb_server_spec spec = {
        .gpus_per_server = 8,
        .nics_per_server = 2,
        .nic_bps = 400000000000ull,
        .host_delay = 1000000,
        .nvlink_bps = 3600000000000ull,
        .nvlink_latency = 500000,
    };
    ifb_topo t;
    ifb_topo_init(&t);
    ifb_err e;
    e.msg[0] = '\0';
    if (ifb_topo_load(&t, topo_path, &spec, &e) == 0) {
        check_graph(&t);
        long work = (long)t.nhosts * (t.nnodes + t.nlinks);
        if (work <= ROUTE_WORK_MAX) {
            e.msg[0] = '\0';
            if (ifb_topo_route(&t, &e) == 0)
                check_routes(&t);
            else
                IFB_FUZZ_CHECK(e.msg[0] != '\0');
        }
    } else {
        IFB_FUZZ_CHECK(e.msg[0] != '\0');
    }
    ifb_topo_free(&t);
    return 0;
}

#ifndef IFB_FUZZ_NO_ENTRY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return ifb_fuzz_topo(data, size);
}
#endif
