/* The message API over the fabric (net/net.h), and the NVLink crossbar. Endpoints are GPUs; a
 * GPU reaches the network through its affine NIC (topology gpu_nic). Each (source GPU,
 * destination GPU, traffic class) gets its own connection of qps_per_conn QPs (or the class's
 * own count, tclass[].qps: the KV transfer engine's connections), created on first use, as NCCL
 * and DeepEP create theirs at setup; messages round-robin over them. The transport (net/nic)
 * completes a message through f->msg_done, which keeps the record and runs the callback.
 * NVLink is modelled per message: the source GPU's egress and the destination GPU's ingress are
 * serializers at the NVLink port rate, plus a fixed latency; messages on one port do not
 * interleave. Left out: NVLink packets, NVSwitch contention beyond the two serializers. */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/rng.h"
#include "net/fabric/fabric_int.h"
#include "net/wire/wire.h"

static void record(ifb_fabric *f, const ifb_msg_info *info)
{
    if (info->done > f->last_done)
        f->last_done = info->done;
    if (!f->cfg.record_messages)
        return;
    f->recs = ifb_xgrow(f->recs, &f->recs_cap, f->nrecs, sizeof *f->recs, 1024, "message records");
    ifb_msg_rec *rec = &f->recs[f->nrecs++];
    memset(rec, 0, sizeof *rec); /* padding too: records are compared and copied as bytes */
    rec->id = info->id;
    rec->src = info->src;
    rec->dst = info->dst;
    rec->tclass = info->tclass;
    rec->bytes = info->bytes;
    rec->start = info->start;
    rec->done = info->done;
}

static void complete(ifb_fabric *f, const ifb_msg *m)
{
    ifb_msg_info info = {m->id, m->bytes, m->src, m->dst, m->tclass, m->start, f->sim->now, 0};
    record(f, &info);
    if (m->cb)
        m->cb(f->sim, m->ctx, &info);
}

/* f->msg_done: the transport delivered m (failed 0: its last byte is placed) or gave up on it
 * (its QP exhausted its retries): the callback runs with failed set to why. */
void ifb_fabric_msg_done(ifb_fabric *f, ifb_msg *m, int failed)
{
    if (!failed) {
        complete(f, m);
        return;
    }
    int why = m->qp && m->qp->nic->port->down ? IFB_MSG_SRC_DOWN : IFB_MSG_DST_UNREACHABLE;
    ifb_msg_info info = {m->id, m->bytes, m->src, m->dst, m->tclass, m->start, f->sim->now, why};
    record(f, &info);
    if (m->cb)
        m->cb(f->sim, m->ctx, &info);
}

void ifb_fabric_nvlink_done(ifb_sim *sim, void *obj, uint64_t arg)
{
    (void)arg;
    ifb_fabric *f = sim->fabric;
    ifb_msg *m = obj;
    f->cnt.msgs_done++;
    sim->progress++; /* for the watchdog: data was delivered */
    ifb_sim_work_end(sim);
    complete(f, m);
    ifb_pool_put(&f->msg_pool, m);
}

static ifb_conn *conn_get(ifb_fabric *f, int src, int dst, int tclass)
{
    uint64_t key = ((uint64_t)src * (uint64_t)f->nendpoints + (uint64_t)dst) * IFB_TC_COUNT +
                   (uint64_t)tclass + 1;
    if ((f->nconns + 1) * 2 > f->conns_cap) {
        size_t cap = f->conns_cap ? f->conns_cap * 2 : 1024; /* < nconns * 4: cannot wrap */
        ifb_conn *n = ifb_xcalloc(cap, sizeof *n, "the connection table");
        for (size_t i = 0; i < f->conns_cap; i++) {
            if (!f->conns[i].key)
                continue;
            size_t j = ifb_hash64(f->conns[i].key) & (cap - 1);
            while (n[j].key)
                j = (j + 1) & (cap - 1);
            n[j] = f->conns[i];
        }
        free(f->conns);
        f->conns = n;
        f->conns_cap = cap;
    }
    size_t j = ifb_hash64(key) & (f->conns_cap - 1);
    while (f->conns[j].key && f->conns[j].key != key)
        j = (j + 1) & (f->conns_cap - 1);
    ifb_conn *c = &f->conns[j];
    if (c->key)
        return c;
    /* Set up the connection: QP pairs between the two GPUs' affine NICs. */
    const ifb_topo *t = f->topo;
    int G = t->gpus_per_server, M = t->nics_per_server;
    int sh = t->server_host[(src / G) * M + t->gpu_nic[src % G]];
    int dh = t->server_host[(dst / G) * M + t->gpu_nic[dst % G]];
    c->key = key;
    const ifb_class_cfg *cc = &f->cfg.tclass[tclass];
    c->nqp = cc->qps ? cc->qps : (uint32_t)f->cfg.qps_per_conn;
    c->qps = ifb_xcalloc(c->nqp, sizeof *c->qps, "a connection's QPs");
    for (uint32_t i = 0; i < c->nqp; i++) {
        ifb_qp *s = ifb_nic_new_qp(&f->nics[sh]);
        ifb_qp *r = ifb_nic_new_qp(&f->nics[dh]);
        s->dqpn = r->qpn;
        r->dqpn = s->qpn;
        s->peer_host = dh;
        r->peer_host = sh;
        s->sport = r->sport = ifb_roce_sport(s->qpn, r->qpn);
        s->queue = r->queue = f->ib ? f->cfg.ib_sl2vl[cc->sl & 15] : cc->queue;
        s->dscp = r->dscp = cc->dscp;
        s->sl = r->sl = f->ib ? cc->sl : 0;
        s->ooo = r->ooo = (uint8_t)ifb_class_ooo(&f->cfg, tclass);
        c->qps[i] = s;
    }
    f->nconns++;
    return c;
}

uint64_t ifb_fabric_send(ifb_net *net, int src, int dst, uint64_t bytes, int tclass, ifb_msg_cb cb,
                         void *ctx)
{
    ifb_fabric *f = net->impl;
    if (src < 0 || dst < 0 || src >= f->nendpoints || dst >= f->nendpoints || tclass < 0 ||
        tclass >= IFB_TC_COUNT)
        return 0;
    ifb_sim *sim = f->sim;
    ifb_msg *m = ifb_pool_get(&f->msg_pool);
    m->id = ++f->msg_seq;
    m->bytes = bytes;
    m->src = src;
    m->dst = dst;
    m->tclass = tclass;
    m->start = sim->now;
    m->cb = cb;
    m->ctx = ctx;
    f->cnt.msgs_posted++;
    ifb_sim_work_begin(sim);
    const ifb_topo *t = f->topo;
    int G = t->gpus_per_server;
    if (src / G == dst / G) {
        f->cnt.nvlink_msgs++;
        ifb_time done = sim->now;
        if (src != dst) {
            ifb_time ser = ifb_tx_time(bytes, t->nvlink_bps);
            ifb_time s0 = f->nvl_tx_free[src] > sim->now ? f->nvl_tx_free[src] : sim->now;
            f->nvl_tx_free[src] = s0 + ser;
            ifb_time arr = s0 + t->nvlink_latency;
            ifb_time r0 = f->nvl_rx_free[dst] > arr ? f->nvl_rx_free[dst] : arr;
            f->nvl_rx_free[dst] = r0 + ser;
            done = r0 + ser;
        }
        ifb_sim_at(sim, done, ifb_fabric_nvlink_done, m, 0);
        return m->id;
    }
    ifb_conn *c = conn_get(f, src, dst, tclass);
    ifb_qp *qp = c->qps[c->next];
    c->next = (c->next + 1) % c->nqp;
    ifb_nic_post(qp->nic, qp, m);
    return m->id;
}
