/* Peak-memory estimate of a run (scenario.h): what the topology, the fabric and the workload
 * actually allocate, from the sizes of the run-time objects (net/fabric/fabric_int.h,
 * net/switch/lb.c, net/switch/int.c, core/pool.c) and what the pattern or workload creates: the
 * connections it opens (a QP pair each per qps_per_conn, only between GPUs on different servers:
 * NVLink needs none), the messages it has outstanding at once, the packets those can put in flight
 * (never more than the switch buffers and links can hold), the records a benchmark keeps. Every
 * term is an upper bound on its allocation (growth by doubling counted at its worst), so the sum
 * bounds the peak resident size; it stays within a small factor of it because no term counts what
 * the run does not create (the old estimate charged every host pair a connection: 3,363 GB for a
 * pingpong that runs in 604 MB). Left out: allocator overhead below 64 bytes per block, the YAML
 * tree (in `base`), per-path INT statistics (they grow with the paths actually used). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "net/fabric/fabric_int.h"
#include "net/switch/int.h"
#include "scenario/scenario.h"
#include "workload/microbench.h"

/* Process, libraries, the simulation context and the configuration tree: 5.3 MB measured for a
 * two-server pingpong; rounded up. */
#define BASE_BYTES 8e6
/* What a bytes-per-element figure is charged for an array grown by doubling (ifb_grow, the
 * connection table kept at most half full): twice the elements, plus the old copy while
 * growing. */
#define GROWN 3.0
#define EVENT_SLACK 8.0

static double frame_bytes(const ifb_fabric_cfg *f)
{
    return (double)f->mtu + 100.0; /* headers, preamble and gap of the largest frame, rounded */
}

static int lb_uses(const ifb_lb_cfg *lb, int mode, int unit)
{
    for (int q = 0; q < IFB_NQUEUES; q++)
        if (lb->q[q].mode == mode && (unit < 0 || lb->q[q].unit == unit))
            return 1;
    return 0;
}

void ifb_scenario_estimate_graph(const ifb_scenario *sc, ifb_mem_estimate *m)
{
    const ifb_topo *t = &sc->topo;
    const ifb_fabric_cfg *f = &sc->fab;
    double S = t->nswitches, H = t->nhosts, P = t->nports;
    double sw_ports = P - H; /* every host is one port */
    m->base = BASE_BYTES;
    m->topology = (double)t->nodes_cap * sizeof(ifb_topo_node) +
                  (double)t->ports_cap * sizeof(ifb_topo_port) +
                  (double)t->links_cap * sizeof(ifb_topo_link) + 2.0 * t->nodes_cap * sizeof(int);
    /* the table (switches x hosts), its groups, and routing's scratch: a column per run of hosts
     * with the same switches (at most one per switch) and per-host work arrays */
    m->routing = S * H * sizeof(int) + S * S * sizeof(int) + H * 48.0 + P * 16.0;
    /* fabric ports (the whole record: an ifb_port is touched at creation), queue histograms
     * (one block for every port), switches, NICs, NVLink serializers */
    m->ports = P * sizeof(ifb_port) + P * 8.0 * f->queue_bins + S * sizeof(ifb_switch) +
               H * sizeof(ifb_nic) + 16.0 * t->nservers * t->gpus_per_server;
    /* path selection (net/switch/lb.c): flowlet tables, port quality, per-group memory, WCMP slot
     * indices (a table the size of the routes), INT-driven remote path figures per (ToR, ToR,
     * port) */
    const ifb_lb_cfg *lb = &sc->lb;
    double l = 0;
    if (lb_uses(lb, IFB_LBA_FLOWLET, -1) || lb_uses(lb, IFB_LBA_ADAPTIVE, IFB_LB_UNIT_FLOWLET) ||
        lb_uses(lb, IFB_LBA_INT_ADAPTIVE, IFB_LB_UNIT_FLOWLET))
        l += S * lb->flowlet_table * 16.0;
    if (lb_uses(lb, IFB_LBA_ADAPTIVE, -1) || lb_uses(lb, IFB_LBA_INT_ADAPTIVE, -1))
        l += sw_ports * 48.0;
    if (lb_uses(lb, IFB_LBA_SPRAY, -1) || lb_uses(lb, IFB_LBA_INT_ADAPTIVE, -1))
        l += S * (S + 2.0) * 4.0; /* groups <= about one per (switch, destination switch) */
    if (lb_uses(lb, IFB_LBA_WCMP, -1) || lb->weighted)
        l += S * H * 4.0 + S * S * lb->wcmp_width * 2.0;
    if (lb_uses(lb, IFB_LBA_INT_ADAPTIVE, -1)) {
        double tors = 0, maxp = 0;
        for (int i = 0; i < t->nswitches; i++) {
            const ifb_topo_node *n = &t->nodes[t->switch_node[i]];
            tors += n->tier <= 0;
            maxp = n->nports > maxp ? n->nports : maxp;
        }
        l += tors * tors * maxp * 40.0;
    }
    if (f->intc.on)
        l += P * 40.0;
    if (sc->nfailures) /* live member lists once a failure is detected */
        l += S * H * 8.0;
    m->lb = l;
}

void ifb_scenario_estimate_memory(const ifb_scenario *sc, const ifb_mem_demand *d,
                                  ifb_mem_estimate *m)
{
    const ifb_topo *t = &sc->topo;
    const ifb_fabric_cfg *f = &sc->fab;
    ifb_scenario_estimate_graph(sc, m);
    double nf = d->fabrics > 0 ? d->fabrics : 1;
    /* the per-fabric parts are allocated once per fabric alive */
    m->ports *= nf;
    m->lb *= nf;
    /* a connection: its slot in the open-addressed table and its QP array, and per QP pair two
     * pooled QPs, their entries in both NICs' QP and throttle arrays, and the receiver's
     * out-of-order bitmap (allocated on the first packet ahead) */
    double qp = 2.0 * (sizeof(ifb_qp) + 16) + 2.0 * 16.0 * GROWN +
                (f->ooo ? f->ooo_window / 8.0 + 64.0 : 0);
    m->conns = (double)d->conns *
               (24.0 * GROWN + 8.0 * f->qps_per_conn + 32.0 + (double)f->qps_per_conn * qp);
    /* packets: what the pattern can have in flight, capped by what every switch buffer and link
     * can hold (the NICs make data packets just in time and queue only ACKs and CNPs); one pool
     * per simulation, grown in 2 MiB chunks */
    double cap = (double)t->nswitches * (double)f->switch_buffer;
    for (int i = 0; i < t->nlinks; i++)
        cap += 2.0 * (double)t->links[i].rate_bps / 8.0 *
               ifb_time_to_s(t->links[i].delay + f->switch_latency);
    double cap_pkts = cap / frame_bytes(f) * (1.0 + 2.0 / f->ack_every) * nf;
    double pkts = d->pkts ? (double)d->pkts : cap_pkts;
    if (pkts > cap_pkts)
        pkts = cap_pkts;
    double pkt = sizeof(ifb_pkt) + (f->intc.on ? IFB_INT_MAX_HOPS * sizeof(ifb_int_hop) : 0);
    m->packets = pkts * (pkt + 16.0) + nf * (2 << 20);
    /* messages outstanding (pooled) and the records of finished ones */
    m->msgs = (double)d->msgs * (sizeof(ifb_msg) + 16.0) + (double)d->records * 48.0 * GROWN;
    /* pending events: at most three per port (end of serialization, next delivery, next pause
     * frame), a timer per QP, one per InfiniBand packet on a link (its credit return), one per
     * NVLink message in flight (its completion). The radix heap's 257 buckets (core/sim.c) each
     * keep the largest size they ever reached, doubled, and peak at different times: their
     * capacities added up to 5.9 times this bound on an 8,192-host permutation (valgrind
     * massif); EVENT_SLACK allows 8 */
    double qps = (double)d->conns * f->qps_per_conn * 2.0;
    m->events = (3.0 * t->nports * nf + qps + (f->l2 == IFB_L2_IB ? pkts : 0) + (double)d->msgs) *
                sizeof(ifb_event) * EVENT_SLACK;
    m->workload = (double)d->workload;
    m->total = m->base + m->topology + m->routing + m->ports + m->lb + m->conns + m->packets +
               m->msgs + m->events + m->workload;
}

static uint64_t machine_memory(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
    return pages > 0 && psz > 0 ? (uint64_t)pages * (uint64_t)psz : UINT64_MAX;
}

static void fmt_bytes(char *out, size_t cap, double b)
{
    if (b >= 1e9)
        snprintf(out, cap, "%.2f GB", b / 1e9);
    else
        snprintf(out, cap, "%.1f MB", b / 1e6);
}

int ifb_scenario_check_graph_memory(const ifb_scenario *sc, uint64_t limit, ifb_err *e)
{
    ifb_mem_estimate m = {0};
    ifb_scenario_estimate_graph(sc, &m);
    double total = m.base + m.topology + m.routing + m.ports + m.lb;
    if (!limit)
        limit = machine_memory();
    if (total <= (double)limit)
        return 0;
    char tot[32], rt[32], po[32], lim[32];
    fmt_bytes(tot, sizeof tot, total);
    fmt_bytes(rt, sizeof rt, m.routing);
    fmt_bytes(po, sizeof po, m.ports + m.lb);
    fmt_bytes(lim, sizeof lim, (double)limit);
    return ifb_err_msg(e,
                       "%s: the topology does not fit before any traffic: %d switches x %d hosts "
                       "need about %s (routing tables %s, fabric ports and path-selection state "
                       "%s), more than the %s limit (--max-memory, or the machine's memory); "
                       "nothing was routed: shrink the topology",
                       sc->source, sc->topo.nswitches, sc->topo.nhosts, tot, rt, po, lim);
}

int ifb_scenario_check_memory(const ifb_scenario *sc, const ifb_mem_demand *d, uint64_t limit,
                              ifb_err *e)
{
    ifb_mem_estimate m;
    ifb_scenario_estimate_memory(sc, d, &m);
    if (!limit)
        limit = machine_memory();
    if (m.total <= (double)limit)
        return 0;
    char s[10][32];
    const double parts[10] = {m.total,   m.routing, m.ports,  m.lb,       m.conns,
                              m.packets, m.msgs,    m.events, m.workload, (double)limit};
    for (int i = 0; i < 10; i++)
        fmt_bytes(s[i], sizeof s[i], parts[i]);
    return ifb_err_msg(e,
                       "%s: this run needs about %s (routing tables %s, ports %s, path selection "
                       "%s, %llu connections %s, packets in flight %s, messages %s, events %s, "
                       "workload %s), more than the %s limit (--max-memory, or the machine's "
                       "memory): shrink the topology or the workload",
                       sc->source, s[0], s[1], s[2], s[3], (unsigned long long)d->conns, s[4], s[5],
                       s[6], s[7], s[8], s[9]);
}

/* ---- Demands ----------------------------------------------------------------------------------
 */

static uint64_t pkts_of(uint64_t bytes, uint32_t mtu, uint32_t ack_every)
{
    uint64_t n = bytes ? (bytes + mtu - 1) / mtu : 1;
    return n + n / ack_every + 2; /* data, coalesced ACKs, the last ACK and a NAK or CNP */
}

void ifb_mem_demand_bench(ifb_mem_demand *d, const ifb_scenario *sc, const ifb_mb_spec *s,
                          const uint64_t *sizes, int nsizes)
{
    const ifb_topo *t = &sc->topo;
    const ifb_fabric_cfg *f = &sc->fab;
    int G = t->gpus_per_server, eps = t->nservers * G;
    int stride = s->stride > 0 ? s->stride : 1;
    int avail = (eps + stride - 1) / stride;
    int n = s->nranks > 0 ? s->nranks : s->kind == IFB_MB_INCAST ? avail - 1 : avail;
    if (n > avail)
        n = avail;
    if (n < 1)
        n = 1;
    /* connections (pairs on different servers) and messages outstanding at once */
    uint64_t conns = 0, outstanding = 0, total = 0;
    switch (s->kind) {
    case IFB_MB_PINGPONG:
    case IFB_MB_BW:
        conns = s->src / G != s->dst / G ? 1 : 0;
        outstanding = s->kind == IFB_MB_BW ? (uint64_t)(s->depth > 0 ? s->depth : 128) : 1;
        total = (uint64_t)(s->iters > 0 ? s->iters : 1) * (s->kind == IFB_MB_PINGPONG ? 2 : 1);
        if (outstanding > total)
            outstanding = total;
        break;
    case IFB_MB_INCAST:
    case IFB_MB_PERMUTATION:
    case IFB_MB_ALLREDUCE:
        conns = outstanding = (uint64_t)n;
        total = s->kind == IFB_MB_ALLREDUCE ? 2ull * (uint64_t)(n - 1) * (uint64_t)n : (uint64_t)n;
        break;
    case IFB_MB_ALLTOALL: {
        /* ordered pairs less those on one server: ranks are every stride-th endpoint */
        uint64_t same = 0;
        for (int sv = 0; sv < t->nservers; sv++) {
            uint64_t m = 0;
            for (int g = 0; g < G; g++)
                m += (uint64_t)(sv * G + g) % (uint64_t)stride == 0 &&
                     (uint64_t)(sv * G + g) / (uint64_t)stride < (uint64_t)n;
            same += m * (m ? m - 1 : 0);
        }
        outstanding = total = (uint64_t)n * (uint64_t)(n - 1);
        conns = total - same;
        break;
    }
    case IFB_MB_DEEPEP_DISPATCH:
    case IFB_MB_DEEPEP_COMBINE: /* every pair, one message per token copy at most */
        conns = (uint64_t)n * (uint64_t)(n - 1);
        outstanding = total =
            s->deepep ? (uint64_t)n * (uint64_t)s->deepep->tokens * (uint64_t)s->deepep->topk
                      : conns;
        break;
    default:
        break;
    }
    memset(d, 0, sizeof *d);
    d->fabrics = nsizes; /* bench keeps every size's fabric and simulation to the end */
    for (int i = 0; i < nsizes; i++) {
        uint64_t bytes =
            s->kind == IFB_MB_ALLREDUCE ? (sizes[i] + (uint64_t)n - 1) / (uint64_t)n : sizes[i];
        d->conns += conns;
        d->msgs += outstanding;
        d->records += total;
        d->pkts += outstanding * pkts_of(bytes, f->mtu, f->ack_every);
    }
    /* the pattern's own per-rank arrays and per-size rows */
    d->workload = (uint64_t)n * 64 + (uint64_t)nsizes * 4096;
}

void ifb_mem_demand_serving(ifb_mem_demand *d, const ifb_scenario *sc, uint64_t workload)
{
    const ifb_topo *t = &sc->topo;
    uint64_t G = (uint64_t)t->gpus_per_server, eps = (uint64_t)t->nservers * G;
    memset(d, 0, sizeof *d);
    d->fabrics = 1;
    /* expert all-to-all between every pair of GPUs on different servers (an EP group of every
     * GPU: the most it can be), ring collectives to a neighbour */
    d->conns = eps * (eps - G) + eps;
    d->msgs = eps * (eps > 1 ? eps - 1 : 1) + eps;
    d->pkts = 0; /* the buffers and links bound what a step can have in flight */
    d->workload = workload;
}
