/* INT-MD source, transit, sink and collector (see int.h for what is modelled and left out).
 *
 * Every INT operation happens when a switch dequeues the packet for its egress link (or when the
 * destination NIC takes it): that is where the spec has transit hops push, and the values a
 * record holds (queue left behind, egress time, utilization) only exist then. The bytes the
 * stack adds or removes change the frame's serialization on the next link; the switch's buffer
 * accounting keeps the size the packet was admitted with (switch.c).
 *
 * Egress utilization is an EWMA (weight 1/2) of the bytes the port sent per util_interval,
 * sampled lazily at push time like the adaptive-routing quality (lb.c): intervals nobody looked
 * at share the bytes sent meanwhile evenly. */
#include "net/switch/int.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/pool.h"
#include "net/switch/lb.h"
#include "net/switch/switch.h"
#include "net/wire/wire.h"

/* Egress utilization of one port, sampled once per util_interval. */
typedef struct int_util {
    uint64_t k;    /* interval last folded in */
    uint64_t mark; /* tx_bytes at its start */
    double ewma;   /* bytes per interval */
    ifb_time next; /* start of the next interval: the figure holds until then */
    uint32_t ppm;
} int_util;

/* The key next to the index, so a probe touches the table only, not the path records. */
struct ptab_ent {
    uint64_t key;
    uint32_t idx; /* index + 1 into paths, 0 = empty */
};

struct ifb_int {
    ifb_fabric *f;
    ifb_int_stats st;
    int_util *util; /* per port */
    ifb_int_path *paths;
    size_t npaths, paths_cap;
    struct ptab_ent *ptab; /* open addressing on the path key; idx 0 = empty */
    size_t ptab_cap;
    uint64_t seen; /* sink packets, for report_every */
    ifb_int_observer obs;
    void *obs_ctx;
    /* probes: the ToRs (switch indices) and, per switch, the host a probe to it is addressed
     * to (its first host; -1 for switches without hosts) */
    int *tors, ntors;
    int *probe_host;
    uint8_t probe_queue;
    uint64_t probe_seq;
};

static void probe_tick(ifb_sim *sim, void *obj, uint64_t arg);

static uint32_t int_overhead(const ifb_pkt *pk)
{
    return IFB_INT_SHIM + IFB_INT_MD_HDR + (uint32_t)pk->int_n * IFB_INT_HOP_BYTES;
}

int ifb_int_setup(ifb_fabric *f, ifb_err *e)
{
    const ifb_int_cfg *c = &f->cfg.intc;
    if (!c->on)
        return 0;
    if (f->ib)
        return ifb_err_set(e, NULL, 0, "fabric.int.enable",
                           "INT on a RoCEv2 fabric (INT-MD over UDP has no InfiniBand encoding)",
                           "an InfiniBand fabric");
    /* the shim's length is one byte of 4-byte words: header and stack must fit in 255 words */
    int proto_max = (255 - IFB_INT_MD_HDR / 4) / (IFB_INT_HOP_BYTES / 4);
    if (c->max_hops < 1 || c->max_hops > IFB_INT_MAX_HOPS)
        return ifb_err_set(e, NULL, 0, "fabric.int.max_hops",
                           c->max_hops > proto_max
                               ? "a hop count within INT-MD's limit (the 8-bit shim length allows "
                                 "36 records of 7 words) and this simulator's 8"
                               : "1 to 8 hop records (this simulator's limit)",
                           "%u", c->max_hops);
    /* the largest data frame with a full stack must still be one Ethernet frame */
    uint32_t frame = IFB_ETH_HDR + (f->cfg.vlan ? IFB_VLAN_TAG : 0) + IFB_IPV4_HDR + IFB_UDP_HDR +
                     IFB_BTH + IFB_RETH + f->cfg.mtu + 3 + IFB_ICRC + IFB_FCS + IFB_INT_SHIM +
                     IFB_INT_MD_HDR + (uint32_t)c->max_hops * IFB_INT_HOP_BYTES;
    if (frame > c->eth_mtu)
        return ifb_err_set(e, NULL, 0, "fabric.int.eth_mtu",
                           "an Ethernet MTU holding an MTU packet with a full INT stack",
                           "%u B, but %u B of payload and %u hop records make %u B frames",
                           c->eth_mtu, f->cfg.mtu, c->max_hops, frame);
    if (!c->report_every || !c->util_interval)
        return ifb_err_set(
            e, NULL, 0, !c->report_every ? "fabric.int.report_every" : "fabric.int.util_interval",
            "a value above 0", "0");
    struct ifb_int *m = ifb_xcalloc(1, sizeof *m, "the INT state");
    m->util = ifb_xcalloc((size_t)f->nports, sizeof *m->util, "INT link utilization");
    m->f = f;
    for (int i = 0; i < f->nports; i++) {
        m->util[i].k = f->sim->now / c->util_interval;
        m->util[i].next = (m->util[i].k + 1) * c->util_interval;
    }
    f->intm = m;
    if (c->probe_interval) {
        int q = c->probe_queue < 0 ? f->cfg.tclass[IFB_TC_A2A].queue : c->probe_queue;
        if (q >= IFB_NQUEUES)
            return ifb_err_set(e, NULL, 0, "fabric.int.probe_queue",
                               "an egress queue 0 to 7 (or -1: the all-to-all class's)", "%d", q);
        m->probe_queue = (uint8_t)q;
        m->probe_host = ifb_xcalloc((size_t)f->nswitches, sizeof *m->probe_host, "INT probe hosts");
        m->tors = ifb_xcalloc((size_t)f->nswitches, sizeof *m->tors, "INT probe ToRs");
        for (int i = 0; i < f->nswitches; i++)
            m->probe_host[i] = -1;
        for (int h = 0; h < f->nhosts; h++) {
            const ifb_port *up = ifb_host_port(f, h)->peer;
            if (!up || !up->sw || m->probe_host[up->sw->idx] >= 0)
                continue;
            m->probe_host[up->sw->idx] = h;
            m->tors[m->ntors++] = up->sw->idx;
        }
        ifb_sim_at_daemon(f->sim, f->sim->now + c->probe_interval, probe_tick, m, 0);
    }
    return 0;
}

void ifb_int_free(ifb_fabric *f)
{
    struct ifb_int *m = f->intm;
    if (!m)
        return;
    free(m->util);
    free(m->paths);
    free(m->ptab);
    free(m->tors);
    free(m->probe_host);
    free(m);
    f->intm = NULL;
}

static uint32_t tx_util_ppm(struct ifb_int *m, const ifb_port *p, ifb_time now)
{
    int_util *u = &m->util[p->id];
    if (now < u->next)
        return u->ppm; /* same interval: the figure a sampler would hold */
    ifb_time iv = m->f->cfg.intc.util_interval;
    uint64_t k = now / iv;
    uint64_t n = k - u->k;
    double s = (double)(p->st.tx_bytes - u->mark) / (double)n;
    double keep = n == 1 ? 0.5 : pow(0.5, (double)n);
    u->ewma = s + (u->ewma - s) * keep;
    u->k = k;
    u->mark = p->st.tx_bytes;
    u->next = (k + 1) * iv;
    double cap = (double)p->rate / 8.0 * ifb_time_to_s(iv);
    double x = cap > 0 ? u->ewma / cap : 0;
    u->ppm = x >= 1.0 ? 1000000u : (uint32_t)(x * 1e6);
    return u->ppm;
}

/* ---- collector --------------------------------------------------------------------------------
 */

static uint64_t path_key(const ifb_pkt *pk)
{
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < pk->int_n; i++) {
        x ^= (uint64_t)pk->int_hops[i].node_id << 16 | pk->int_hops[i].out_port;
        x *= 0xff51afd7ed558ccdull;
        x ^= x >> 33;
    }
    x *= 0xc4ceb9fe1a85ec53ull; /* the murmur finalizer: low bits index the table */
    x ^= x >> 33;
    return x;
}

static int same_path(const ifb_int_path *p, const ifb_pkt *pk)
{
    if (p->nhops != pk->int_n)
        return 0;
    for (uint32_t i = 0; i < p->nhops; i++)
        if (p->node[i] != pk->int_hops[i].node_id || p->out_port[i] != pk->int_hops[i].out_port)
            return 0;
    return 1;
}

static void ptab_insert(struct ifb_int *m, size_t idx)
{
    uint64_t key = m->paths[idx].key;
    size_t mask = m->ptab_cap - 1, h = (size_t)key & mask;
    while (m->ptab[h].idx)
        h = (h + 1) & mask;
    m->ptab[h] = (struct ptab_ent){key, (uint32_t)idx + 1};
}

static ifb_int_path *path_get(struct ifb_int *m, const ifb_pkt *pk)
{
    uint64_t key = path_key(pk);
    if (m->ptab_cap) {
        size_t mask = m->ptab_cap - 1;
        for (size_t h = (size_t)key & mask; m->ptab[h].idx; h = (h + 1) & mask) {
            if (m->ptab[h].key != key)
                continue;
            ifb_int_path *p = &m->paths[m->ptab[h].idx - 1];
            if (same_path(p, pk))
                return p;
        }
    }
    if (2 * (m->npaths + 1) > m->ptab_cap) { /* keep the table at most half full */
        free(m->ptab);
        m->ptab_cap = m->ptab_cap ? 2 * m->ptab_cap : 64;
        m->ptab = ifb_xcalloc(m->ptab_cap, sizeof *m->ptab, "the INT path table");
        for (size_t i = 0; i < m->npaths; i++)
            ptab_insert(m, i);
    }
    m->paths = ifb_xgrow(m->paths, &m->paths_cap, m->npaths, sizeof *m->paths, 64, "INT paths");
    ifb_int_path *p = &m->paths[m->npaths];
    memset(p, 0, sizeof *p);
    p->key = key;
    p->nhops = pk->int_n;
    for (int i = 0; i < pk->int_n; i++) {
        p->node[i] = pk->int_hops[i].node_id;
        p->out_port[i] = pk->int_hops[i].out_port;
    }
    p->first = m->f->sim->now;
    ptab_insert(m, m->npaths++);
    return p;
}

static void collect(struct ifb_int *m, const ifb_pkt *pk)
{
    ifb_int_path *p = path_get(m, pk);
    uint64_t lat = 0, q = 0;
    uint32_t u = 0;
    for (int i = 0; i < pk->int_n; i++) {
        const ifb_int_hop *h = &pk->int_hops[i];
        lat += h->hop_latency_ns;
        if (h->queue_occ > q)
            q = h->queue_occ;
        if (h->tx_util_ppm > u)
            u = h->tx_util_ppm;
    }
    p->reports++;
    p->lat_sum_ns += (double)lat;
    if (lat > p->lat_max_ns)
        p->lat_max_ns = lat;
    p->q_sum += (double)q;
    if (q > p->q_max)
        p->q_max = q;
    p->util_sum += u;
    if (u > p->util_max)
        p->util_max = u;
    p->last = m->f->sim->now;
}

/* The path's congestion as INT-driven routing at the source switch needs it: the hops between
 * the source switch and the sink (the source knows its own port, the last hop is the same on
 * every path), as the worst of queue bytes + utilization x bytes per sampling interval. Each
 * transit record's figure is folded into pk->int_fig as it is pushed (ifb_int_egress); a stack
 * cut short by the hop limit thus still counts its last record, which is a transit hop. */
static void feedback(struct ifb_int *m, const ifb_pkt *pk, int dst_node)
{
    ifb_fabric *f = m->f;
    const ifb_topo *t = f->topo;
    /* a data packet's stack ends with the last switch's record; a probe's, one hop earlier */
    if (pk->int_n < (pk->kind == IFB_PK_PROBE ? 2 : 3) || !ifb_lb_int_wanted(f))
        return;
    int src_sw = t->nodes[pk->int_hops[0].node_id].host;
    int dst_sw = t->nodes[dst_node].host;
    ifb_time delay = f->sim->now - pk->int_hops[0].egress_ts_ns * IFB_NS;
    if (ifb_lb_int_feedback(f, src_sw, dst_sw, pk->int_hops[0].out_port, pk->int_fig, delay))
        m->st.feedback++;
}

/* One packet in report_every, data and probes alike, becomes a report to the collector. */
static void maybe_report(struct ifb_int *m, const ifb_pkt *pk)
{
    if (m->seen++ % m->f->cfg.intc.report_every == 0) {
        m->st.reports++;
        m->st.report_bytes += ifb_wire_int_report_len(pk);
        collect(m, pk);
    }
}

/* The sink: stack off, report to the collector, path figure back to the source. */
static void sink(struct ifb_int *m, ifb_pkt *pk, int sink_node)
{
    m->st.sinks++;
    maybe_report(m, pk);
    if (sink_node >= 0 && pk->kind == IFB_PK_DATA)
        feedback(m, pk, sink_node);
    pk->wire -= int_overhead(pk);
    pk->int_on = 0;
    pk->int_n = 0;
    pk->int_fig = 0;
}

/* ---- data path --------------------------------------------------------------------------------
 */

void ifb_int_egress(ifb_port *p, ifb_pkt *pk)
{
    struct ifb_int *m = p->f->intm;
    ifb_fabric *f = p->f;
    const ifb_int_cfg *c = &f->cfg.intc;
    ifb_switch *sw = p->sw;
    ifb_time now = f->sim->now;
    if (!pk->int_on) {
        /* source: the first switch, for data of an INT queue coming from a host */
        if (c->source_nic || pk->kind != IFB_PK_DATA || !(c->queues >> pk->tc & 1) ||
            !sw->ports[pk->in_port].peer || !sw->ports[pk->in_port].peer->nic)
            return;
        pk->int_on = 1;
        pk->wire += IFB_INT_SHIM + IFB_INT_MD_HDR;
        m->st.pkts_marked++;
    }
    if (pk->int_n < c->max_hops) {
        ifb_int_hop *h = &pk->int_hops[pk->int_n];
        h->node_id = (uint32_t)sw->node;
        h->in_port = pk->in_port;
        h->out_port = (uint16_t)p->index;
        h->hop_latency_ns = (uint32_t)((now - pk->enq_t + f->cfg.switch_latency) / IFB_NS);
        h->queue_id = pk->tc;
        h->queue_occ =
            (uint32_t)(p->q[pk->tc].bytes > UINT32_MAX ? UINT32_MAX : p->q[pk->tc].bytes);
        h->egress_ts_ns = now / IFB_NS;
        h->tx_util_ppm = tx_util_ppm(m, p, now);
        if (pk->int_n && p->peer && p->peer->sw) {
            /* a transit hop (not the source switch, not the last before the host): its
             * figure, worked out here where the port's rate is at hand, so the sink need not
             * look every record's port up again; the sink's result is the same */
            double fig = (double)h->queue_occ + (double)h->tx_util_ppm / 1e6 * (double)p->rate /
                                                    8.0 * ifb_time_to_s(c->util_interval);
            uint32_t v = fig >= 4e9 ? 4000000000u : (uint32_t)fig;
            if (v > pk->int_fig)
                pk->int_fig = v;
        }
        pk->int_n++;
        pk->wire += IFB_INT_HOP_BYTES;
        m->st.hops_pushed++;
        if (m->obs)
            m->obs(m->obs_ctx, pk, h);
    } else {
        m->st.hop_limit++;
    }
    if (!c->sink_nic && p->peer && p->peer->nic)
        sink(m, pk, sw->node);
    else
        m->st.int_bytes += int_overhead(pk);
}

void ifb_int_nic_sink(ifb_fabric *f, ifb_pkt *pk)
{
    struct ifb_int *m = f->intm;
    if (!m)
        return;
    /* the last hop record names the switch in front of this NIC */
    int last = pk->int_n ? (int)pk->int_hops[pk->int_n - 1].node_id : -1;
    sink(m, pk, last);
}

void ifb_int_nic_source(ifb_fabric *f, ifb_pkt *pk)
{
    struct ifb_int *m = f->intm;
    if (m && f->cfg.intc.source_nic && (f->cfg.intc.queues >> pk->tc & 1)) {
        pk->int_on = 1;
        m->st.pkts_marked++;
        m->st.int_bytes += IFB_INT_SHIM + IFB_INT_MD_HDR;
    }
}

/* ---- probes ----------------------------------------------------------------------------------
 */

static void send_probe(struct ifb_int *m, ifb_port *out, int src, int dst)
{
    ifb_fabric *f = m->f;
    ifb_pkt *pk = ifb_fabric_new_pkt(f);
    pk->kind = IFB_PK_PROBE;
    pk->l2 = IFB_L2_ROCEV2;
    pk->opcode = IFB_OP_SEND_ONLY;
    pk->flags = f->cfg.vlan ? IFB_PF_VLAN : 0;
    pk->src = (uint32_t)src;
    pk->dst = (uint32_t)dst;
    pk->psn = (uint32_t)(m->probe_seq & 0xffffff);
    pk->sport = (uint16_t)(0xC000 | (m->probe_seq & 0x3fff)); /* entropy beyond the first hop */
    m->probe_seq++;
    pk->tc = m->probe_queue;
    pk->ecn = IFB_ECN_NOT_ECT;
    pk->int_on = 1;
    pk->in_port = (uint16_t)out->index;
    pk->hops = 1;
    pk->wire = ifb_wire_len(pk);
    m->st.probes++;
    m->st.probe_bytes += pk->wire;
    ifb_port_enqueue(out, pk);
}

/* Every ToR, down every live member toward every other ToR, while messages are in flight: with
 * nothing outstanding no path needs a figure, and probes (ordinary packets) must not keep a
 * finished run going. */
static void probe_tick(ifb_sim *sim, void *obj, uint64_t arg)
{
    (void)arg;
    struct ifb_int *m = obj;
    ifb_fabric *f = m->f;
    const ifb_topo *t = f->topo;
    for (int a = 0; sim->work && a < m->ntors; a++) {
        ifb_switch *sw = &f->switches[m->tors[a]];
        for (int b = 0; b < m->ntors; b++) {
            if (b == a)
                continue;
            int dst = m->probe_host[m->tors[b]];
            const ifb_topo_group *g = &t->groups[sw->route[dst]];
            for (int k = 0; k < g->count; k++) {
                ifb_port *out = &sw->ports[t->group_ports[g->first + k]];
                if (out->peer && out->peer->sw && !out->down)
                    send_probe(m, out, m->probe_host[m->tors[a]], dst);
            }
        }
    }
    ifb_sim_at_daemon(sim, sim->now + f->cfg.intc.probe_interval, probe_tick, m, 0);
}

int ifb_int_probe_arrives(ifb_switch *sw, ifb_pkt *pk)
{
    ifb_fabric *f = sw->ports[0].f;
    struct ifb_int *m = f->intm;
    const ifb_port *tor = ifb_host_port(f, (int)pk->dst)->peer;
    if (!m || !tor || tor->sw != sw)
        return 0;
    m->st.probes_sunk++;
    maybe_report(m, pk);
    feedback(m, pk, sw->node);
    ifb_fabric_free_pkt(f, pk);
    return 1;
}

/* ---- outputs ----------------------------------------------------------------------------------
 */

static const ifb_int_stats no_stats;

const ifb_int_stats *ifb_fabric_int_stats(const ifb_fabric *f)
{
    return f->intm ? &f->intm->st : &no_stats;
}

const ifb_int_path *ifb_fabric_int_paths(const ifb_fabric *f, size_t *n)
{
    *n = f->intm ? f->intm->npaths : 0;
    return f->intm ? f->intm->paths : NULL;
}

void ifb_fabric_int_observe(ifb_fabric *f, ifb_int_observer fn, void *ctx)
{
    if (f->intm) {
        f->intm->obs = fn;
        f->intm->obs_ctx = ctx;
    }
}

int ifb_fabric_write_int_csv(const ifb_fabric *f, FILE *out)
{
    const ifb_topo *t = f->topo;
    fprintf(out, "path,hops,reports,latency_mean_ns,latency_max_ns,queue_mean_bytes,"
                 "queue_max_bytes,util_mean_pct,util_max_pct,first_us,last_us\n");
    size_t n;
    const ifb_int_path *ps = ifb_fabric_int_paths(f, &n);
    for (size_t i = 0; i < n; i++) {
        const ifb_int_path *p = &ps[i];
        fputc('"', out);
        for (uint32_t k = 0; k < p->nhops; k++)
            fprintf(out, "%s%s:%u", k ? " > " : "", t->nodes[p->node[k]].name, p->out_port[k]);
        double r = (double)(p->reports ? p->reports : 1);
        fprintf(out, "\",%u,%" PRIu64 ",%.1f,%" PRIu64 ",%.0f,%" PRIu64 ",%.2f,%.2f,%.3f,%.3f\n",
                p->nhops, p->reports, p->lat_sum_ns / r, p->lat_max_ns, p->q_sum / r, p->q_max,
                p->util_sum / r / 1e4, p->util_max / 1e4, ifb_time_to_us(p->first),
                ifb_time_to_us(p->last));
    }
    return ferror(out) ? -1 : 0;
}
