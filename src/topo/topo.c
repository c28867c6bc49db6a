/* Topology graph (nodes, ports, links) and shortest-path ECMP routing.
 *
 * Routing metric is hop count; hosts never forward, so only switches are transit nodes. For a
 * destination host h, a switch's ECMP group is every egress port whose peer is one hop closer to
 * h; parallel links are separate members, ports in ascending order. Groups are deduplicated by
 * their port list, so the whole table needs few groups (all uplinks of every leaf share one).
 * Hosts attached to the same set of switches see the same switch distances, so one BFS serves
 * all of them (one BFS per leaf rather than per host).
 * Left out: weighted metrics, non-minimal paths, link failures (edit the graph and route again). */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "topo/topo.h"

void ifb_topo_init(ifb_topo *t)
{
    memset(t, 0, sizeof *t);
}

static void free_route(ifb_topo *t)
{
    free(t->route);
    free(t->groups);
    free(t->group_ports);
    t->route = NULL;
    t->groups = NULL;
    t->group_ports = NULL;
    t->ngroups = t->groups_cap = 0;
    t->ngroup_ports = t->group_ports_cap = 0;
}

void ifb_topo_free(ifb_topo *t)
{
    free_route(t);
    free(t->nodes);
    free(t->ports);
    free(t->links);
    free(t->host_node);
    free(t->switch_node);
    free(t->server_host);
    free(t->gpu_nic);
    ifb_topo_progress_fn fn = t->progress;
    void *ctx = t->progress_ctx;
    ifb_topo_init(t);
    t->progress = fn;
    t->progress_ctx = ctx;
}

/* Grows *p (elements of elem bytes, capacity *cap) to hold at least need elements. The
 * capacity doubles, up to INT_MAX (the counts are ints). */
static void grow(void **p, int *cap, int need, size_t elem, const char *what)
{
    if (need <= *cap)
        return;
    int nc = *cap > 0 ? *cap : 16;
    while (nc < need)
        nc = nc > INT_MAX / 2 ? INT_MAX : nc * 2;
    *p = ifb_xrealloc(*p, (size_t)nc, elem, what);
    *cap = nc;
}

int ifb_topo_add_node(ifb_topo *t, ifb_node_kind kind, const char *name, int nports, int tier)
{
    if (!name || strlen(name) >= sizeof t->nodes[0].name || nports < 0 ||
        (kind != IFB_NODE_HOST && kind != IFB_NODE_SWITCH) || nports > INT_MAX - t->nports)
        return -1;
    if (t->nnodes == t->nodes_cap) {
        int cap = t->nodes_cap;
        grow((void **)&t->nodes, &cap, t->nnodes + 1, sizeof *t->nodes, "topology nodes");
        /* host_node and switch_node share the node capacity (each holds at most nnodes). */
        t->host_node =
            ifb_xrealloc(t->host_node, (size_t)cap, sizeof *t->host_node, "the topology's hosts");
        t->switch_node = ifb_xrealloc(t->switch_node, (size_t)cap, sizeof *t->switch_node,
                                      "the topology's switches");
        t->nodes_cap = cap;
    }
    grow((void **)&t->ports, &t->ports_cap, t->nports + nports, sizeof *t->ports, "topology ports");
    int id = t->nnodes++;
    ifb_topo_node *n = &t->nodes[id];
    memset(n, 0, sizeof *n);
    n->kind = kind;
    strcpy(n->name, name);
    n->nports = nports;
    n->first_port = t->nports;
    n->server = -1;
    if (kind == IFB_NODE_HOST) {
        n->tier = -1;
        n->host = t->nhosts;
        t->host_node[t->nhosts++] = id;
    } else {
        n->tier = tier;
        n->host = t->nswitches;
        t->switch_node[t->nswitches++] = id;
    }
    for (int i = 0; i < nports; i++) {
        ifb_topo_port *p = &t->ports[t->nports++];
        p->node = id;
        p->index = i;
        p->link = -1;
        p->peer_node = -1;
        p->peer_port = -1;
    }
    return id;
}

static const char *kind_name(ifb_node_kind k)
{
    return k == IFB_NODE_HOST ? "host" : "switch";
}

/* Returns the first unconnected port number of node, or -1. Links are only ever added, each on
 * the first free port, so the ports below the hint stay linked and the scan starts there: linking
 * a switch's N ports is O(N), not O(N^2) (a 12,800-port leaf of a file topology took 1.3e9 port
 * reads). */
static int first_free_port(ifb_topo *t, int node)
{
    ifb_topo_node *n = &t->nodes[node];
    for (int i = n->free_hint; i < n->nports; i++)
        if (t->ports[n->first_port + i].link < 0) {
            n->free_hint = i + 1;
            return i;
        }
    n->free_hint = n->nports;
    return -1;
}

int ifb_topo_connect(ifb_topo *t, int a_node, int b_node, uint64_t rate_bps, ifb_time delay,
                     ifb_err *e)
{
    if (a_node < 0 || a_node >= t->nnodes || b_node < 0 || b_node >= t->nnodes)
        return ifb_err_msg(e, "link: node id %d or %d out of range (%d nodes)", a_node, b_node,
                           t->nnodes);
    const ifb_topo_node *a = &t->nodes[a_node], *b = &t->nodes[b_node];
    if (a_node == b_node)
        return ifb_err_msg(e, "link: %s %s cannot be linked to itself", kind_name(a->kind),
                           a->name);
    if (rate_bps == 0)
        return ifb_err_msg(e, "link %s - %s: rate must be above 0 bps", a->name, b->name);
    int pa = first_free_port(t, a_node);
    if (pa < 0)
        return ifb_err_msg(e, "%s %s has no free port (%d port%s)", kind_name(a->kind), a->name,
                           a->nports, a->nports == 1 ? "" : "s");
    int pb = first_free_port(t, b_node);
    if (pb < 0)
        return ifb_err_msg(e, "%s %s has no free port (%d port%s)", kind_name(b->kind), b->name,
                           b->nports, b->nports == 1 ? "" : "s");
    grow((void **)&t->links, &t->links_cap, t->nlinks + 1, sizeof *t->links, "topology links");
    int id = t->nlinks++;
    ifb_topo_link *l = &t->links[id];
    l->a_node = a_node;
    l->a_port = pa;
    l->b_node = b_node;
    l->b_port = pb;
    l->rate_bps = rate_bps;
    l->delay = delay;
    ifb_topo_port *p = &t->ports[a->first_port + pa], *q = &t->ports[b->first_port + pb];
    p->link = q->link = id;
    p->peer_node = b_node;
    p->peer_port = pb;
    q->peer_node = a_node;
    q->peer_port = pa;
    return id;
}

int ifb_topo_find_node(const ifb_topo *t, const char *name)
{
    for (int i = 0; i < t->nnodes; i++)
        if (strcmp(t->nodes[i].name, name) == 0)
            return i;
    return -1;
}

/* ---- routing ---- */

/* Open-addressing set of groups keyed by their port list (values are group indices). */
typedef struct group_set {
    int *slot;  /* -1 = empty */
    size_t cap; /* power of two */
} group_set;

static uint64_t hash_ports(const int *p, int n)
{
    uint64_t h = 1469598103934665603ULL ^ (uint64_t)n;
    for (int i = 0; i < n; i++) {
        h ^= (uint64_t)(uint32_t)p[i];
        h *= 1099511628211ULL;
    }
    return h ^ (h >> 29);
}

static void set_resize(group_set *s, const ifb_topo *t, size_t cap)
{
    int *slot = ifb_xcalloc(cap, sizeof *slot, "the routing group set");
    for (size_t i = 0; i < cap; i++)
        slot[i] = -1;
    for (int g = 0; g < t->ngroups; g++) {
        const ifb_topo_group *gr = &t->groups[g];
        size_t i = hash_ports(&t->group_ports[gr->first], gr->count) & (cap - 1);
        while (slot[i] >= 0)
            i = (i + 1) & (cap - 1);
        slot[i] = g;
    }
    free(s->slot);
    s->slot = slot;
    s->cap = cap;
}

/* Returns the index of the group with exactly these ports, adding it if new. */
static int intern_group(ifb_topo *t, group_set *s, const int *p, int n)
{
    if ((size_t)(t->ngroups + 1) * 2 > s->cap)
        set_resize(s, t, s->cap ? s->cap * 2 : 64);
    size_t i = hash_ports(p, n) & (s->cap - 1);
    for (; s->slot[i] >= 0; i = (i + 1) & (s->cap - 1)) {
        const ifb_topo_group *g = &t->groups[s->slot[i]];
        if (g->count == n && memcmp(&t->group_ports[g->first], p, (size_t)n * sizeof *p) == 0)
            return s->slot[i];
    }
    grow((void **)&t->groups, &t->groups_cap, t->ngroups + 1, sizeof *t->groups, "routing groups");
    grow((void **)&t->group_ports, &t->group_ports_cap, t->ngroup_ports + n, sizeof *t->group_ports,
         "routing group members");
    int g = t->ngroups++;
    t->groups[g].first = t->ngroup_ports;
    t->groups[g].count = n;
    memcpy(&t->group_ports[t->ngroup_ports], p, (size_t)n * sizeof *p);
    t->ngroup_ports += n;
    s->slot[i] = g;
    return g;
}

/* A host's key: the sorted, distinct switches it is linked to. */
typedef struct host_key {
    int host;
    int n;
    const int *sw; /* node ids */
} host_key;

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static int cmp_key(const void *a, const void *b)
{
    const host_key *x = a, *y = b;
    if (x->n != y->n)
        return x->n < y->n ? -1 : 1;
    for (int i = 0; i < x->n; i++)
        if (x->sw[i] != y->sw[i])
            return x->sw[i] < y->sw[i] ? -1 : 1;
    return (x->host > y->host) - (x->host < y->host);
}

static int same_key(const host_key *x, const host_key *y)
{
    return x->n == y->n && memcmp(x->sw, y->sw, (size_t)x->n * sizeof *x->sw) == 0;
}

typedef struct route_work {
    int *key_sw; /* concatenated keys */
    host_key *keys;
    int *run_of; /* per host: index of its key run */
    int *dist;   /* per switch index: hops from the destination host */
    int *queue;
    int nruns;
    int *cols; /* [switch index * nruns + run]: group, or DIRECT */
    int *buf;  /* port list being built */
    group_set set;
    /* per host, for the switch being filled: its ports to the host (a counting sort) */
    int *cnt, *start, *hosts;
    /* the switch-to-switch links alone, per switch index in port order (CSR): a run's BFS and
     * its groups walk these, not the host-facing ports, so routing costs O(runs x fabric links)
     * rather than O(runs x every port) */
    int *adj_first, *adj_port, *adj_peer;
    int all_connected; /* every host has a switch in one switch component: no per-run check */
} route_work;

/* The switch is linked to the destination: its group depends on the host (filled per host). */
#define DIRECT (-2)

static void work_free(route_work *w)
{
    free(w->key_sw);
    free(w->keys);
    free(w->run_of);
    free(w->dist);
    free(w->queue);
    free(w->cols);
    free(w->buf);
    free(w->set.slot);
    free(w->cnt);
    free(w->start);
    free(w->hosts);
    free(w->adj_first);
    free(w->adj_port);
    free(w->adj_peer);
}

static void build_adjacency(const ifb_topo *t, route_work *w)
{
    size_t ns = (size_t)t->nswitches, ne = 0;
    for (size_t si = 0; si < ns; si++) {
        const ifb_topo_node *n = &t->nodes[t->switch_node[si]];
        for (int i = 0; i < n->nports; i++) {
            int v = t->ports[n->first_port + i].peer_node;
            ne += v >= 0 && t->nodes[v].kind == IFB_NODE_SWITCH;
        }
    }
    w->adj_first = ifb_xcalloc(ns + 1, sizeof *w->adj_first, "the switch adjacency");
    w->adj_port = ifb_xcalloc(ne + 1, sizeof *w->adj_port, "the switch adjacency");
    w->adj_peer = ifb_xcalloc(ne + 1, sizeof *w->adj_peer, "the switch adjacency");
    int k = 0;
    for (size_t si = 0; si < ns; si++) {
        const ifb_topo_node *n = &t->nodes[t->switch_node[si]];
        w->adj_first[si] = k;
        for (int i = 0; i < n->nports; i++) {
            int v = t->ports[n->first_port + i].peer_node;
            if (v >= 0 && t->nodes[v].kind == IFB_NODE_SWITCH) {
                w->adj_port[k] = i;
                w->adj_peer[k++] = t->nodes[v].host;
            }
        }
    }
    w->adj_first[ns] = k;
}

/* Hop distances (w->dist, per switch index) from the switches in sw[0..n) (node ids), which
 * are at distance 1 from the destination. */
static void bfs(const ifb_topo *t, route_work *w, const int *sw, int n)
{
    const int INF = INT_MAX;
    for (int i = 0; i < t->nswitches; i++)
        w->dist[i] = INF;
    int qh = 0, qt = 0;
    for (int i = 0; i < n; i++) {
        int si = t->nodes[sw[i]].host;
        if (w->dist[si] == INF) {
            w->dist[si] = 1;
            w->queue[qt++] = si;
        }
    }
    while (qh < qt) {
        int u = w->queue[qh++];
        for (int k = w->adj_first[u]; k < w->adj_first[u + 1]; k++) {
            int v = w->adj_peer[k];
            if (w->dist[v] == INF) {
                w->dist[v] = w->dist[u] + 1;
                w->queue[qt++] = v;
            }
        }
    }
}

/* Whether every host has a switch in the component of the first host's switches: then every
 * host reaches every other through switches, and the runs need no host-by-host check. */
static int hosts_connected(const ifb_topo *t, route_work *w)
{
    if (!t->nhosts || !w->keys[0].n)
        return 0;
    bfs(t, w, w->keys[0].sw, w->keys[0].n);
    for (int h = 0; h < t->nhosts; h++) {
        const host_key *k = &w->keys[h];
        int in = 0;
        for (int i = 0; i < k->n && !in; i++)
            in = w->dist[t->nodes[k->sw[i]].host] != INT_MAX;
        if (!in)
            return 0;
    }
    return 1;
}

static int linked_directly(const ifb_topo *t, int a_node, int b_node)
{
    const ifb_topo_node *a = &t->nodes[a_node];
    for (int i = 0; i < a->nports; i++)
        if (t->ports[a->first_port + i].peer_node == b_node)
            return 1;
    return 0;
}

/* The ports of switch node sw toward each host it is linked to: w->buf[w->start[h] ..
 * + w->cnt[h]) ascending, for the w->hosts[0..returned) it has, from one pass over its ports
 * (looking them up host by host was O(hosts x ports) per switch: 2.6e9 port reads for 16
 * leaves of 12,800 hosts). */
static int direct_ports(const ifb_topo *t, route_work *w, int sw)
{
    const ifb_topo_node *n = &t->nodes[sw];
    int np = 0; /* the host-facing ports, grouped by host (counting sort keeps port order) */
    for (int i = 0; i < n->nports; i++) {
        int v = t->ports[n->first_port + i].peer_node;
        if (v >= 0 && t->nodes[v].kind == IFB_NODE_HOST) {
            int h = t->nodes[v].host;
            if (w->cnt[h]++ == 0)
                w->hosts[np++] = h;
        }
    }
    int at = 0;
    for (int k = 0; k < np; k++) {
        int h = w->hosts[k];
        w->start[h] = at;
        at += w->cnt[h];
        w->cnt[h] = 0;
    }
    for (int i = 0; i < n->nports; i++) {
        int v = t->ports[n->first_port + i].peer_node;
        if (v >= 0 && t->nodes[v].kind == IFB_NODE_HOST) {
            int h = t->nodes[v].host;
            w->buf[w->start[h] + w->cnt[h]++] = i;
        }
    }
    return np;
}

/* Fills run `run` of w->cols: every switch's group toward the hosts keys[lo..hi) (all linked
 * to the same switches, so they see the same switch distances). */
static int route_key_run(ifb_topo *t, route_work *w, int run, int lo, int hi, ifb_err *e)
{
    const host_key *k = &w->keys[lo];
    const int INF = INT_MAX;
    bfs(t, w, k->sw, k->n);
    /* Every host must reach every destination of this run: through a switch that reaches the
     * destination, or over a direct host-host cable (checked host by host only when the
     * switches do not already connect every host) */
    for (int s = 0; s < t->nhosts && !w->all_connected; s++) {
        int sn = t->host_node[s];
        const ifb_topo_node *n = &t->nodes[sn];
        int via_switch = 0;
        for (int i = 0; i < n->nports && !via_switch; i++) {
            int v = t->ports[n->first_port + i].peer_node;
            via_switch =
                v >= 0 && t->nodes[v].kind == IFB_NODE_SWITCH && w->dist[t->nodes[v].host] != INF;
        }
        if (via_switch)
            continue;
        for (int j = lo; j < hi; j++) {
            int dn = t->host_node[w->keys[j].host];
            if (dn != sn && !linked_directly(t, sn, dn))
                return ifb_err_msg(e,
                                   "routing: host %s cannot reach host %s (no path through "
                                   "switches)",
                                   n->name, t->nodes[dn].name);
        }
    }
    for (int si = 0; si < t->nswitches; si++) {
        int sw = t->switch_node[si];
        int d = w->dist[si];
        if (d == INF)
            return ifb_err_msg(e,
                               "routing: switch %s cannot reach host %s (it is not connected "
                               "to the hosts' fabric)",
                               t->nodes[sw].name, t->nodes[t->host_node[k->host]].name);
        if (d == 1) {
            w->cols[(size_t)si * (size_t)w->nruns + (size_t)run] = DIRECT;
            continue;
        }
        int c = 0;
        for (int a = w->adj_first[si]; a < w->adj_first[si + 1]; a++)
            if (w->dist[w->adj_peer[a]] == d - 1)
                w->buf[c++] = w->adj_port[a];
        w->cols[(size_t)si * (size_t)w->nruns + (size_t)run] = intern_group(t, &w->set, w->buf, c);
    }
    return 0;
}

int ifb_topo_route(ifb_topo *t, ifb_err *e)
{
    free_route(t);
    if (t->nhosts == 0)
        return ifb_err_msg(e, "routing: the topology has no hosts");
    size_t ns = (size_t)t->nswitches, nh = (size_t)t->nhosts;
    size_t cells = ns * nh;
    if (ns > 0 && cells / ns != nh)
        return ifb_err_msg(e, "routing: %d switches x %d hosts is too large", t->nswitches,
                           t->nhosts);
    int maxports = 1;
    for (int i = 0; i < t->nnodes; i++)
        if (t->nodes[i].nports > maxports)
            maxports = t->nodes[i].nports;
    route_work w = {0};
    t->route = ifb_xcalloc(cells, sizeof *t->route, "the routing table");
    w.key_sw = ifb_xcalloc((size_t)t->nports + 1, sizeof *w.key_sw, "routing scratch");
    w.keys = ifb_xcalloc(nh, sizeof *w.keys, "routing scratch");
    w.run_of = ifb_xcalloc(nh, sizeof *w.run_of, "routing scratch");
    w.dist = ifb_xcalloc(ns + 1, sizeof *w.dist, "routing scratch");
    w.queue = ifb_xcalloc(ns + 1, sizeof *w.queue, "routing scratch");
    w.buf = ifb_xcalloc((size_t)maxports, sizeof *w.buf, "routing scratch");
    w.cnt = ifb_xcalloc(nh, sizeof *w.cnt, "routing scratch");
    w.start = ifb_xcalloc(nh, sizeof *w.start, "routing scratch");
    w.hosts = ifb_xcalloc(nh, sizeof *w.hosts, "routing scratch");
    build_adjacency(t, &w);
    int rc = 0;
    int used = 0;
    for (int h = 0; h < t->nhosts; h++) {
        const ifb_topo_node *n = &t->nodes[t->host_node[h]];
        int *sw = &w.key_sw[used];
        int c = 0;
        for (int i = 0; i < n->nports; i++) {
            int v = t->ports[n->first_port + i].peer_node;
            if (v >= 0 && t->nodes[v].kind == IFB_NODE_SWITCH)
                sw[c++] = v;
        }
        qsort(sw, (size_t)c, sizeof *sw, cmp_int);
        int u = 0;
        for (int i = 0; i < c; i++)
            if (u == 0 || sw[u - 1] != sw[i])
                sw[u++] = sw[i];
        w.keys[h] = (host_key){.host = h, .n = u, .sw = sw};
        used += u;
    }
    w.all_connected = hosts_connected(t, &w); /* before sorting: keys[h] is host h's */
    qsort(w.keys, nh, sizeof *w.keys, cmp_key);
    int nruns = 0;
    for (int i = 0; i < t->nhosts; i++) {
        if (i > 0 && !same_key(&w.keys[i - 1], &w.keys[i]))
            nruns++;
        w.run_of[w.keys[i].host] = nruns;
    }
    w.nruns = ++nruns;
    w.cols = ifb_xcalloc((size_t)nruns * ns + 1, sizeof *w.cols, "the routing columns");
    for (int lo = 0, run = 0; lo < t->nhosts; run++) {
        if (t->progress && !(run & 63))
            t->progress(t->progress_ctx, "routing", (uint64_t)lo, nh);
        int hi = lo + 1;
        while (hi < t->nhosts && same_key(&w.keys[lo], &w.keys[hi]))
            hi++;
        if ((rc = route_key_run(t, &w, run, lo, hi, e)) < 0)
            goto out;
        lo = hi;
    }
    /* Row by row (one switch at a time), as the fabric reads it. */
    for (size_t si = 0; si < ns; si++) {
        int *row = &t->route[si * nh];
        const int *col = &w.cols[si * (size_t)nruns];
        int nd = direct_ports(t, &w, t->switch_node[si]);
        for (size_t h = 0; h < nh; h++) {
            int g = col[w.run_of[h]];
            /* interned in host order, as ever: group numbers do not depend on port order */
            if (g == DIRECT)
                g = intern_group(t, &w.set, &w.buf[w.start[h]], w.cnt[h]);
            row[h] = g;
        }
        for (int k = 0; k < nd; k++)
            w.cnt[w.hosts[k]] = 0;
    }
out:
    work_free(&w);
    if (rc < 0)
        free_route(t);
    return rc;
}
