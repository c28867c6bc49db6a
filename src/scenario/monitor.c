/* The run monitor (see monitor.h). Bins hold transmitted wire bytes per connected port; the bin
 * width doubles whenever the series fills, so memory and the number of monitor events are
 * bounded (IFB_MON_BINS + IFB_MON_BINS/2 per doubling). */
#include "scenario/monitor.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "report/out.h"

struct ifb_monitor {
    ifb_sim *sim;
    const ifb_fabric *fab;
    const ifb_serving *sv;
    ifb_run_progress *prog;
    int np;          /* connected ports */
    int *port;       /* their topology port ids */
    uint64_t *last;  /* tx_bytes at the last tick, per connected port */
    uint64_t *bytes; /* (IFB_MON_BINS + 1) x np: bins, then the partial last bin */
    int nbins;       /* full bins */
    ifb_time t0, width;
    ifb_time partial_end; /* end of the partial bin, 0 if none */
    uint64_t events;
    int done;
};

static void tick(ifb_sim *sim, void *obj, uint64_t arg);

static void schedule(ifb_monitor *m)
{
    ifb_time next = m->t0 + (ifb_time)(m->nbins + 1) * m->width;
    ifb_sim_at_daemon(m->sim, next, tick, m, 0);
}

/* Adds the bytes sent since the last tick to bin k. */
static void collect(ifb_monitor *m, int k)
{
    uint64_t *row = m->bytes + (size_t)k * (size_t)m->np;
    for (int i = 0; i < m->np; i++) {
        uint64_t tx = ifb_fabric_port_stats(m->fab, m->port[i])->tx_bytes;
        row[i] += tx - m->last[i];
        m->last[i] = tx;
    }
}

static void publish(ifb_monitor *m)
{
    if (!m->prog)
        return;
    size_t n;
    const ifb_serving_req *q = ifb_serving_requests(m->sv, &n);
    uint64_t fin = 0;
    for (size_t i = 0; i < n; i++)
        fin += q[i].finish != IFB_TIME_NEVER;
    atomic_store_explicit(&m->prog->events, m->sim->events - m->events, memory_order_relaxed);
    atomic_store_explicit(&m->prog->sim_ps, m->sim->now, memory_order_relaxed);
    atomic_store_explicit(&m->prog->finished, fin, memory_order_relaxed);
}

static void tick(ifb_sim *sim, void *obj, uint64_t arg)
{
    (void)arg;
    ifb_monitor *m = obj;
    m->events++;
    collect(m, m->nbins++);
    if (m->nbins == IFB_MON_BINS) { /* full: merge neighbours, double the width */
        for (int k = 0; k < IFB_MON_BINS / 2; k++)
            for (int i = 0; i < m->np; i++)
                m->bytes[(size_t)k * (size_t)m->np + (size_t)i] =
                    m->bytes[(size_t)(2 * k) * (size_t)m->np + (size_t)i] +
                    m->bytes[(size_t)(2 * k + 1) * (size_t)m->np + (size_t)i];
        memset(m->bytes + (size_t)(IFB_MON_BINS / 2) * (size_t)m->np, 0,
               (size_t)(IFB_MON_BINS / 2) * (size_t)m->np * sizeof *m->bytes);
        m->nbins = IFB_MON_BINS / 2;
        m->width *= 2;
    }
    publish(m);
    /* as the fabric's own sampler: only while something else is going on, so the run ends */
    if (sim->pending > sim->daemons || sim->work)
        schedule(m);
}

ifb_monitor *ifb_monitor_start(ifb_sim *sim, const ifb_fabric *fab, const ifb_serving *sv,
                               ifb_time interval, uint64_t target, ifb_run_progress *prog)
{
    ifb_monitor *m = ifb_xcalloc(1, sizeof *m, "the run monitor");
    int n = ifb_fabric_nports(fab);
    m->port = ifb_xcalloc((size_t)n, sizeof *m->port, "the monitored ports");
    m->last = ifb_xcalloc((size_t)n, sizeof *m->last, "the monitored ports' byte counts");
    for (int p = 0; p < n; p++)
        if (ifb_fabric_port_rate(fab, p))
            m->port[m->np++] = p;
    /* a constant times an int: fits in a 64-bit size_t, only the byte count needs checking */
    m->bytes = ifb_xcalloc((size_t)(IFB_MON_BINS + 1) * (size_t)m->np, sizeof *m->bytes,
                           "the link utilization series");
    m->sim = sim;
    m->fab = fab;
    m->sv = sv;
    m->prog = prog;
    m->t0 = sim->now;
    m->width = interval ? interval : IFB_MS;
    for (int i = 0; i < m->np; i++)
        m->last[i] = ifb_fabric_port_stats(fab, m->port[i])->tx_bytes;
    if (prog) {
        atomic_store_explicit(&prog->target, target, memory_order_relaxed);
        atomic_store_explicit(&prog->state, IFB_PROGRESS_RUNNING, memory_order_relaxed);
    }
    schedule(m);
    return m;
}

void ifb_monitor_finish(ifb_monitor *m)
{
    if (!m || m->done)
        return;
    m->done = 1;
    ifb_time start = m->t0 + (ifb_time)m->nbins * m->width;
    if (m->sim->now > start) {
        collect(m, IFB_MON_BINS); /* the partial bin, after the full ones */
        m->partial_end = m->sim->now;
    }
    publish(m);
    if (m->prog)
        atomic_store_explicit(&m->prog->state, IFB_PROGRESS_DONE, memory_order_relaxed);
}

uint64_t ifb_monitor_events(const ifb_monitor *m)
{
    return m ? m->events : 0;
}

int ifb_monitor_write_util_csv(const ifb_monitor *m, FILE *f, ifb_err *e)
{
    static const char *const cols[] = {"port", "node", "index", "t_start_us", "t_end_us", "util"};
    ifb_csv c;
    ifb_csv_init(&c, f);
    ifb_csv_header(&c, cols, sizeof cols / sizeof *cols);
    const ifb_topo *t = ifb_fabric_topo(m->fab);
    int nb = m->nbins + (m->partial_end ? 1 : 0);
    for (int i = 0; i < m->np; i++) {
        int p = m->port[i];
        double rate = (double)ifb_fabric_port_rate(m->fab, p);
        for (int k = 0; k < nb; k++) {
            int part = k == m->nbins;
            ifb_time a = m->t0 + (ifb_time)k * m->width;
            ifb_time b = part ? m->partial_end : a + m->width;
            const uint64_t *row = m->bytes + (size_t)(part ? IFB_MON_BINS : k) * (size_t)m->np;
            ifb_csv_int(&c, p);
            ifb_csv_str(&c, t->nodes[t->ports[p].node].name);
            ifb_csv_int(&c, t->ports[p].index);
            ifb_csv_double(&c, ifb_time_to_us(a));
            ifb_csv_double(&c, ifb_time_to_us(b));
            ifb_csv_double(&c, (double)row[i] * 8.0 / (rate * ifb_time_to_s(b - a)));
            ifb_csv_end_row(&c);
        }
    }
    return ifb_csv_finish(&c, e);
}

void ifb_monitor_destroy(ifb_monitor *m)
{
    if (!m)
        return;
    free(m->port);
    free(m->last);
    free(m->bytes);
    free(m);
}
