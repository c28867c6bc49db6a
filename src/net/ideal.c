/* Ideal network: per-endpoint serializers and a fixed latency, or zero time (see ideal.h).
 * Message records come from a pool, so a run allocates only while its in-flight high-water mark
 * rises. */
#include "net/ideal.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/pool.h"

typedef struct ideal_msg {
    ifb_msg_info info;
    ifb_msg_cb cb;
    void *ctx;
} ideal_msg;

struct ifb_ideal {
    ifb_net net;
    ifb_sim *sim;
    ifb_ideal_cfg cfg;
    ifb_time *tx_free, *rx_free;   /* between servers */
    ifb_time *ltx_free, *lrx_free; /* inside a server */
    ifb_pool msgs;
    uint64_t seq;
    ifb_ideal_counters cnt;
};

ifb_ideal_cfg ifb_ideal_cfg_zero(int nendpoints, int gpus_per_server)
{
    ifb_ideal_cfg c = {.nendpoints = nendpoints, .gpus_per_server = gpus_per_server};
    return c;
}

/* The completion event's object: the message and the network it belongs to. */
typedef struct ideal_ev {
    ideal_msg m;
    ifb_ideal *net;
} ideal_ev;

static void ideal_fire(ifb_sim *sim, void *obj, uint64_t arg)
{
    (void)arg;
    ideal_ev *ev = obj;
    ifb_ideal *n = ev->net;
    ideal_msg m = ev->m;
    ifb_pool_put(&n->msgs, ev);
    m.info.done = sim->now;
    n->cnt.msgs_done++;
    ifb_sim_work_end(sim);
    if (m.cb)
        m.cb(sim, m.ctx, &m.info);
}

static ifb_time serial(uint64_t bytes, uint64_t rate)
{
    return rate ? ifb_tx_time(bytes, rate) : 0;
}

static uint64_t ideal_send(ifb_net *net, int src, int dst, uint64_t bytes, int tclass,
                           ifb_msg_cb cb, void *ctx)
{
    ifb_ideal *n = net->impl;
    if (src < 0 || dst < 0 || src >= n->cfg.nendpoints || dst >= n->cfg.nendpoints || tclass < 0 ||
        tclass >= IFB_TC_COUNT)
        return 0;
    ifb_sim *sim = n->sim;
    int G = n->cfg.gpus_per_server > 0 ? n->cfg.gpus_per_server : 1;
    int local = src / G == dst / G;
    ifb_time done = sim->now;
    if (src != dst) {
        uint64_t rate = local ? n->cfg.local_rate_bps : n->cfg.rate_bps;
        ifb_time lat = local ? n->cfg.local_latency : n->cfg.latency;
        ifb_time *txf = local ? n->ltx_free : n->tx_free;
        ifb_time *rxf = local ? n->lrx_free : n->rx_free;
        ifb_time ser = serial(bytes, rate);
        ifb_time s0 = txf[src] > sim->now ? txf[src] : sim->now;
        txf[src] = s0 + ser;
        ifb_time arr = s0 + lat;
        ifb_time r0 = rxf[dst] > arr ? rxf[dst] : arr;
        rxf[dst] = r0 + ser;
        done = r0 + ser;
        if (local)
            n->cnt.local_bytes += bytes;
        else
            n->cnt.remote_bytes += bytes;
    }
    ideal_ev *ev = ifb_pool_get(&n->msgs);
    ev->net = n;
    ev->m.info = (ifb_msg_info){.id = ++n->seq,
                                .bytes = bytes,
                                .src = src,
                                .dst = dst,
                                .tclass = tclass,
                                .start = sim->now};
    ev->m.cb = cb;
    ev->m.ctx = ctx;
    n->cnt.msgs_posted++;
    ifb_sim_work_begin(sim);
    ifb_sim_at(sim, done, ideal_fire, ev, 0);
    return ev->m.info.id;
}

int ifb_ideal_create(ifb_ideal **out, ifb_sim *sim, const ifb_ideal_cfg *cfg, ifb_err *e)
{
    *out = NULL;
    if (!cfg || cfg->nendpoints <= 0)
        return ifb_err_set(e, NULL, 0, "ideal network endpoints", "at least 1", "%d",
                           cfg ? cfg->nendpoints : 0);
    if (cfg->gpus_per_server < 0)
        return ifb_err_set(e, NULL, 0, "ideal network gpus_per_server", "0 or more", "%d",
                           cfg->gpus_per_server);
    ifb_ideal *n = ifb_xcalloc(1, sizeof *n, "the ideal network");
    size_t ne = (size_t)cfg->nendpoints;
    n->tx_free = ifb_xcalloc(ne * 4, sizeof(ifb_time), "the ideal network's serializers");
    n->rx_free = n->tx_free + ne;
    n->ltx_free = n->rx_free + ne;
    n->lrx_free = n->ltx_free + ne;
    n->sim = sim;
    n->cfg = *cfg;
    ifb_pool_init(&n->msgs, sizeof(ideal_ev), 1024);
    n->net = (ifb_net){.impl = n, .nendpoints = cfg->nendpoints, .send = ideal_send};
    *out = n;
    return 0;
}

void ifb_ideal_destroy(ifb_ideal *n)
{
    if (!n)
        return;
    ifb_pool_destroy(&n->msgs);
    free(n->tx_free);
    free(n);
}

ifb_net *ifb_ideal_net(ifb_ideal *n)
{
    return &n->net;
}

const ifb_ideal_counters *ifb_ideal_counts(const ifb_ideal *n)
{
    return &n->cnt;
}
