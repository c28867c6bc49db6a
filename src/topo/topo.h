/* Topology description: a graph of hosts (one host = one NIC port), switches and the links
 * between their ports, plus the server layout (GPUs, NICs, GPU->NIC affinity, NVLink domain).
 * This is a plain description built by the builders or read from a file; net/fabric/fabric.c
 * instantiates ports, queues and NICs from it. Routing computes, for every switch and every
 * destination host, the set of egress ports on shortest paths (the ECMP group). */
#ifndef IFB_TOPO_H
#define IFB_TOPO_H
#include <stdint.h>

#include "core/err.h"
#include "core/time.h"

typedef enum ifb_node_kind { IFB_NODE_HOST = 0, IFB_NODE_SWITCH = 1 } ifb_node_kind;

typedef struct ifb_topo_node {
    ifb_node_kind kind;
    char name[32];
    int tier; /* switches: 0 = leaf/ToR, 1 = spine, 2 = core; hosts: -1 */
    int nports;
    int first_port; /* index of its port 0 in ifb_topo.ports */
    int host;       /* hosts: dense host index; switches: dense switch index */
    int server;     /* hosts: server it belongs to, or -1 */
    int free_hint;  /* ports below this are linked (links take the first free port, in order) */
} ifb_topo_node;

typedef struct ifb_topo_port {
    int node;  /* owner */
    int index; /* port number on the owner */
    int link;  /* link index, -1 if unconnected */
    int peer_node, peer_port;
} ifb_topo_port;

typedef struct ifb_topo_link {
    int a_node, a_port, b_node, b_port;
    uint64_t rate_bps;
    ifb_time delay; /* one-way propagation */
} ifb_topo_link;

typedef struct ifb_topo_group {
    int first; /* into ifb_topo.group_ports */
    int count;
} ifb_topo_group;

/* Progress of a long topology operation ("reading FILE", "routing"): done of total units.
 * Called every so often from ifb_topo_load and ifb_topo_route when set (ifb_topo.progress). */
typedef void (*ifb_topo_progress_fn)(void *ctx, const char *what, uint64_t done, uint64_t total);

typedef struct ifb_topo {
    /* optional progress report (the caller decides whether and where to show it) */
    ifb_topo_progress_fn progress;
    void *progress_ctx;
    int nnodes, nodes_cap;
    ifb_topo_node *nodes;
    int nports, ports_cap;
    ifb_topo_port *ports;
    int nlinks, links_cap;
    ifb_topo_link *links;
    int nhosts;     /* host nodes, dense index order = host index */
    int *host_node; /* host index -> node id */
    int nswitches;
    int *switch_node;

    /* Servers: each has gpus_per_server GPUs and nics_per_server NICs (hosts). */
    int nservers, gpus_per_server, nics_per_server;
    int *server_host;    /* [server * nics_per_server + i] -> host index */
    int *gpu_nic;        /* [g] for g in 0..gpus_per_server-1 -> NIC index within the server */
    uint64_t nvlink_bps; /* per-GPU NVLink port rate, each direction */
    ifb_time nvlink_latency;

    /* Routing (ifb_topo_route): route[switch index * nhosts + host index] -> group index.
     * After a successful ifb_topo_route every entry is a valid group (never -1). Groups are
     * shared: identical port lists (e.g. all uplinks of a leaf) are stored once. */
    int *route;
    int ngroups, groups_cap;
    ifb_topo_group *groups;
    int ngroup_ports, group_ports_cap;
    int *group_ports; /* egress port numbers on the switch, ascending within a group */
} ifb_topo;

void ifb_topo_init(ifb_topo *t);
/* Frees everything and leaves t empty (as after ifb_topo_init; the progress hook is kept). */
void ifb_topo_free(ifb_topo *t);
/* Adds a node with nports ports; returns its id. A host gets the next host index (appended to
 * host_node), a switch the next switch index; hosts get tier -1 and server -1. Returns -1 (no
 * error text) if name is NULL or 32 bytes or longer, nports < 0, or memory runs out. Names are
 * not checked for uniqueness here (the file loader does). */
int ifb_topo_add_node(ifb_topo *t, ifb_node_kind kind, const char *name, int nports, int tier);
/* Connects a_node's first free port to b_node's first free port. Returns the link index, or -1
 * with e filled when a node has no free port ("switch leaf3 has no free port (64 ports)"), the
 * two nodes are the same, an id is out of range or rate_bps is 0. */
int ifb_topo_connect(ifb_topo *t, int a_node, int b_node, uint64_t rate_bps, ifb_time delay,
                     ifb_err *e);
/* Node id by name (linear scan), or -1. */
int ifb_topo_find_node(const ifb_topo *t, const char *name);
/* Computes ECMP groups for every switch and destination host (shortest paths in hops; hosts do
 * not forward). Fails, naming the nodes, if some host cannot reach another or some switch cannot
 * reach a host. May be called again after editing the graph (the old tables are freed). */
int ifb_topo_route(ifb_topo *t, ifb_err *e);

/* The ECMP group of switch index sw toward host index host (after ifb_topo_route). */
static inline const ifb_topo_group *ifb_topo_route_group(const ifb_topo *t, int sw, int host)
{
    return &t->groups[t->route[(long)sw * t->nhosts + host]];
}

/* Builders. Each fills an empty ifb_topo, lays out servers (gpus, nics per server) and
 * connects every NIC; they fail with e filled when the shape cannot be built (t may then hold a
 * partial graph: ifb_topo_free it). They do not route: call ifb_topo_route afterwards.
 * Layout common to all builders: switches are added first (switch index order = the order
 * below), then hosts server by server, so host index = server * nics_per_server + nic; hosts
 * are named "s<server>n<nic>" and have one port. On a switch, host-facing ports come first
 * (in host order), then uplinks (per spine/upper switch, the parallel links together). */
typedef struct ifb_server_spec {
    int gpus_per_server;
    int nics_per_server;
    const int *gpu_nic;  /* NULL: GPU g uses NIC g * nics / gpus */
    uint64_t nic_bps;    /* host link rate */
    ifb_time host_delay; /* host-leaf propagation */
    uint64_t nvlink_bps;
    ifb_time nvlink_latency;
} ifb_server_spec;

/* nservers servers on one switch "sw0" (tier 0) with switch_ports ports. */
int ifb_topo_single_switch(ifb_topo *t, int nservers, const ifb_server_spec *s, int switch_ports,
                           ifb_err *e);
/* 2-tier leaf-spine: `leaves` leaves "leaf<i>" (tier 0) with hosts_per_leaf hosts each, `spines`
 * spines "spine<j>" (tier 1), `uplinks_per_spine` parallel links leaf->each spine at fabric_bps.
 * Whole servers fill leaves in order: ceil(nservers / leaves) servers per leaf (the last leaves
 * may hold fewer or none), hosts_per_leaf = that * nics_per_server. Every switch has
 * switch_ports ports; any oversubscription is allowed. */
int ifb_topo_leaf_spine(ifb_topo *t, int nservers, const ifb_server_spec *s, int leaves, int spines,
                        int uplinks_per_spine, uint64_t fabric_bps, ifb_time fabric_delay,
                        int switch_ports, ifb_err *e);
/* 3-tier k-ary fat tree (k even, 2..256): k pods of k/2 edge "edge<pod>_<i>" (tier 0) and k/2
 * aggregation "agg<pod>_<i>" (tier 1) switches, (k/2)^2 cores "core<j>" (tier 2), all with k
 * ports; agg i of every pod links to cores i*k/2 .. i*k/2+k/2-1. k^3/4 hosts: nservers =
 * k^3/4 / nics_per_server (must divide); servers fill edge switches in order (a server may
 * span two edge switches when k/2 is not a multiple of nics_per_server). */
int ifb_topo_fat_tree(ifb_topo *t, int k, const ifb_server_spec *s, uint64_t fabric_bps,
                      ifb_time fabric_delay, ifb_err *e);
/* Rail-optimized: NIC i of every server on leaf (rail) "rail<i>" (tier 0), server s on its port
 * s; each rail leaf connects to every spine "spine<j>" (tier 1) with uplinks_per_spine links. */
int ifb_topo_rail(ifb_topo *t, int nservers, const ifb_server_spec *s, int spines,
                  int uplinks_per_spine, uint64_t fabric_bps, ifb_time fabric_delay,
                  int switch_ports, ifb_err *e);
/* Reads a topology file (format in docs/topology-file.md) into an empty t. s gives the server
 * defaults (gpus, nics, gpu_nic, NIC rate, host link delay, NVLink); it may be NULL. Errors
 * name FILE:LINE; t may then hold part of the graph (ifb_topo_free it). Does not route: call
 * ifb_topo_route afterwards. */
int ifb_topo_load(ifb_topo *t, const char *path, const ifb_server_spec *s, ifb_err *e);

#endif
