/* The fabric's outputs: accessors of the counters and statistics every component keeps, the
 * port utilization and DCQCN rate samplers, and the rate trace as CSV. Left out: anything that
 * needs a component's private state (INT: net/switch/int.h; path selection: net/switch/lb.h;
 * goodput: net/nic/goodput.h). */
#include <inttypes.h>
#include <stdio.h>

#include "core/alloc.h"
#include "net/fabric/fabric_int.h"

void ifb_fabric_sampler(ifb_sim *sim, void *obj, uint64_t arg)
{
    (void)arg;
    ifb_fabric *f = obj;
    f->sampler_armed = 0;
    f->samples = ifb_xgrow(f->samples, &f->samples_cap, f->nsamples,
                           (size_t)f->nports * sizeof *f->samples, 64, "utilization samples");
    uint64_t *row = f->samples + f->nsamples * (size_t)f->nports;
    for (int i = 0; i < f->nports; i++) {
        row[i] = f->ports[i].st.tx_bytes - f->ports[i].sampled_bytes;
        f->ports[i].sampled_bytes = f->ports[i].st.tx_bytes;
    }
    f->nsamples++;
    /* Keep sampling only while something else is going on, so the run can end. */
    if (sim->pending > sim->daemons || sim->work) {
        f->sampler_armed = 1;
        ifb_sim_at_daemon(sim, sim->now + f->cfg.sample_interval, ifb_fabric_sampler, f, 0);
    }
}

void ifb_fabric_rate_sampler(ifb_sim *sim, void *obj, uint64_t arg)
{
    (void)arg;
    ifb_fabric *f = obj;
    for (int h = 0; h < f->nhosts; h++) {
        const ifb_nic *nic = &f->nics[h];
        for (uint32_t j = 0; j < nic->nqps; j++) {
            const ifb_qp *qp = nic->qps[j];
            if (!qp->limited && qp->una >= qp->psn_end)
                continue;
            f->rsamples = ifb_xgrow(f->rsamples, &f->rsamples_cap, f->nrsamples,
                                    sizeof *f->rsamples, 1024, "DCQCN rate samples");
            f->rsamples[f->nrsamples++] =
                (ifb_rate_sample){sim->now, h, qp->qpn, qp->limited ? qp->rc : nic->port->rate};
        }
    }
    if (sim->pending > sim->daemons || sim->work)
        ifb_sim_at_daemon(sim, sim->now + f->cfg.rate_sample_interval, ifb_fabric_rate_sampler, f,
                          0);
}

ifb_net *ifb_fabric_net(ifb_fabric *f)
{
    return &f->net;
}
const ifb_fabric_counters *ifb_fabric_counts(const ifb_fabric *f)
{
    return &f->cnt;
}
int ifb_fabric_nports(const ifb_fabric *f)
{
    return f->nports;
}
const ifb_port_stats *ifb_fabric_port_stats(const ifb_fabric *f, int port)
{
    return &f->ports[port].st;
}
uint64_t ifb_fabric_port_rate(const ifb_fabric *f, int port)
{
    return f->ports[port].rate;
}
const ifb_topo *ifb_fabric_topo(const ifb_fabric *f)
{
    return f->topo;
}
ifb_time ifb_fabric_last_done(const ifb_fabric *f)
{
    return f->last_done;
}

const ifb_msg_rec *ifb_fabric_messages(const ifb_fabric *f, size_t *n)
{
    *n = f->nrecs;
    return f->recs;
}

const uint64_t *ifb_fabric_util_samples(const ifb_fabric *f, size_t *nsamples)
{
    *nsamples = f->nsamples;
    return f->samples;
}

size_t ifb_fabric_qp_retx(const ifb_fabric *f, uint64_t *per_qp, size_t cap)
{
    size_t k = 0;
    for (int i = 0; i < f->nhosts; i++)
        for (uint32_t j = 0; j < f->nics[i].nqps; j++, k++)
            if (k < cap)
                per_qp[k] = f->nics[i].qps[j]->retx;
    return k;
}

void ifb_fabric_capture(ifb_fabric *f, int port, struct ifb_pcap *pcap)
{
    if (port >= 0 && port < f->nports)
        f->ports[port].pcap = pcap;
}

const ifb_port_cc_stats *ifb_fabric_port_cc(const ifb_fabric *f, int port)
{
    return &f->ports[port].cc;
}

ifb_time ifb_fabric_port_paused_time(const ifb_fabric *f, int port, int prio)
{
    const ifb_port *p = &f->ports[port];
    ifb_time t = p->cc.paused[prio];
    if (p->paused & (1u << prio))
        t += f->sim->now - p->paused_since[prio];
    return t;
}

uint64_t ifb_fabric_port_queue_bytes(const ifb_fabric *f, int port)
{
    const ifb_port *p = &f->ports[port];
    uint64_t b = 0;
    for (int q = 0; q < IFB_NQUEUES; q++)
        b += p->q[q].bytes;
    return b;
}

uint64_t ifb_fabric_port_headroom(const ifb_fabric *f, int port)
{
    return f->pfc_mask ? f->ports[port].headroom : 0;
}

int ifb_fabric_paused_ports(const ifb_fabric *f, ifb_time min_paused, ifb_paused_port *out, int cap)
{
    return ifb_link_paused_ports(f, min_paused, out, cap);
}

const ifb_rate_sample *ifb_fabric_rate_samples(const ifb_fabric *f, size_t *n)
{
    *n = f->nrsamples;
    return f->rsamples;
}

int ifb_fabric_write_rate_csv(const ifb_fabric *f, FILE *out)
{
    if (fprintf(out, "time_us,host,qpn,rate_gbps\n") < 0)
        return -1;
    for (size_t i = 0; i < f->nrsamples; i++) {
        const ifb_rate_sample *r = &f->rsamples[i];
        if (fprintf(out, "%.3f,%d,%" PRIu32 ",%.6f\n", ifb_time_to_us(r->t), r->host, r->qpn,
                    (double)r->rate_bps / 1e9) < 0)
            return -1;
    }
    return 0;
}

uint64_t ifb_fabric_qp_rate(const ifb_fabric *f, int host, uint32_t qpn)
{
    if (host < 0 || host >= f->nhosts)
        return 0;
    const ifb_nic *nic = &f->nics[host];
    for (uint32_t j = 0; j < nic->nqps; j++)
        if (nic->qps[j]->qpn == qpn)
            return nic->qps[j]->limited ? nic->qps[j]->rc : nic->port->rate;
    return 0;
}

uint32_t ifb_fabric_ib_max_held(const ifb_fabric *f)
{
    uint32_t m = 0;
    for (int i = 0; i < f->nports; i++)
        for (int v = 0; v < IFB_NQUEUES; v++)
            if (f->ports[i].ibuf_max[v] > m)
                m = f->ports[i].ibuf_max[v];
    return m;
}

uint32_t ifb_fabric_ib_credits(const ifb_fabric *f)
{
    return f->ib_credits;
}

const uint64_t *ifb_fabric_queue_hist(const ifb_fabric *f, int port, uint32_t *nbins,
                                      uint32_t *bin_bytes)
{
    *nbins = f->cfg.queue_bins;
    *bin_bytes = f->cfg.queue_bin;
    return port >= 0 && port < f->nports ? f->ports[port].qhist : NULL;
}
