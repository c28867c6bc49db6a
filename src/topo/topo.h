/* Topology description: a graph of hosts (one host = one NIC port), switches and the links
 * between their ports, plus the server layout (GPUs, NICs, GPU->NIC affinity, NVLink domain).
 * This is a plain description built by the builders or read from a file; net/fabric.c
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
    int tier;        /* switches: 0 = leaf/ToR, 1 = spine, 2 = core; hosts: -1 */
    int nports;
    int first_port;  /* index of its port 0 in ifb_topo.ports */
    int host;        /* hosts: dense host index; switches: dense switch index */
    int server;      /* hosts: server it belongs to, or -1 */
} ifb_topo_node;

typedef struct ifb_topo_port {
    int node;        /* owner */
    int index;       /* port number on the owner */
    int link;        /* link index, -1 if unconnected */
    int peer_node, peer_port;
} ifb_topo_port;

typedef struct ifb_topo_link {
    int a_node, a_port, b_node, b_port;
    uint64_t rate_bps;
    ifb_time delay;  /* one-way propagation */
} ifb_topo_link;

typedef struct ifb_topo_group {
    int first;       /* into ifb_topo.group_ports */
    int count;
} ifb_topo_group;

typedef struct ifb_topo {
    int nnodes, nodes_cap;
    ifb_topo_node *nodes;
    int nports, ports_cap;
    ifb_topo_port *ports;
    int nlinks, links_cap;
    ifb_topo_link *links;
    int nhosts;      /* host nodes, dense index order = host index */
    int *host_node;  /* host index -> node id */
    int nswitches;
    int *switch_node;

    /* Servers: each has gpus_per_server GPUs and nics_per_server NICs (hosts). */
    int nservers, gpus_per_server, nics_per_server;
    int *server_host;   /* [server * nics_per_server + i] -> host index */
    int *gpu_nic;       /* [g] for g in 0..gpus_per_server-1 -> NIC index within the server */
    uint64_t nvlink_bps;   /* per-GPU NVLink port rate, each direction */
    ifb_time nvlink_latency;

    /* Routing (ifb_topo_route): route[switch index * nhosts + host index] -> group index. */
    int *route;
    int ngroups, groups_cap;
    ifb_topo_group *groups;
    int ngroup_ports, group_ports_cap;
    int *group_ports;   /* egress port numbers on the switch */
} ifb_topo;

void ifb_topo_init(ifb_topo *t);
void ifb_topo_free(ifb_topo *t);
/* Adds a node with nports ports; returns its id. */
int ifb_topo_add_node(ifb_topo *t, ifb_node_kind kind, const char *name, int nports, int tier);
/* Connects a_node's first free port to b_node's first free port. Returns the link index, or -1
 * with e filled when a node has no free port. */
int ifb_topo_connect(ifb_topo *t, int a_node, int b_node, uint64_t rate_bps, ifb_time delay,
                     ifb_err *e);
int ifb_topo_find_node(const ifb_topo *t, const char *name);
/* Computes ECMP groups for every switch and destination host; fails if some host cannot reach
 * another. */
int ifb_topo_route(ifb_topo *t, ifb_err *e);

/* Builders. Each fills an empty ifb_topo, lays out servers (gpus, nics per server) and
 * connects every NIC; they fail with e filled when the shape cannot be built. */
typedef struct ifb_server_spec {
    int gpus_per_server;
    int nics_per_server;
    const int *gpu_nic;       /* NULL: GPU g uses NIC g * nics / gpus */
    uint64_t nic_bps;         /* host link rate */
    ifb_time host_delay;      /* host-leaf propagation */
    uint64_t nvlink_bps;
    ifb_time nvlink_latency;
} ifb_server_spec;

/* nservers servers on one switch with switch_ports ports. */
int ifb_topo_single_switch(ifb_topo *t, int nservers, const ifb_server_spec *s, int switch_ports,
                           ifb_err *e);
/* 2-tier leaf-spine: `leaves` leaves with hosts_per_leaf hosts each (servers fill leaves in
 * order), `spines` spines, `uplinks_per_spine` parallel links leaf->each spine at fabric_bps. */
int ifb_topo_leaf_spine(ifb_topo *t, int nservers, const ifb_server_spec *s, int leaves,
                        int spines, int uplinks_per_spine, uint64_t fabric_bps,
                        ifb_time fabric_delay, int switch_ports, ifb_err *e);
/* 3-tier k-ary fat tree (k pods, k^3/4 hosts). */
int ifb_topo_fat_tree(ifb_topo *t, int k, const ifb_server_spec *s, uint64_t fabric_bps,
                      ifb_time fabric_delay, ifb_err *e);
/* Rail-optimized: NIC i of every server on leaf (rail) i; each rail leaf connects to every
 * spine with uplinks_per_spine links. */
int ifb_topo_rail(ifb_topo *t, int nservers, const ifb_server_spec *s, int spines,
                  int uplinks_per_spine, uint64_t fabric_bps, ifb_time fabric_delay,
                  int switch_ports, ifb_err *e);
/* Reads a topology file (format in docs/scenario.md). */
int ifb_topo_load(ifb_topo *t, const char *path, const ifb_server_spec *s, ifb_err *e);

#endif
