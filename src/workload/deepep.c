/* DeepEP's kernels as one benchmarked phase (see deepep.h): routing drawn as DeepEP's tests draw
 * it, the phase's messages through the message API, and each rank's kernel time from its send
 * start to the end of its receive work. The low-latency mode posts one message per token copy
 * (per_token) at the GPU's WQE rate, or one per rank pair completed no earlier than the last WQE
 * (the serving engine's equivalent); the normal mode runs the two-stage plan of workload/traffic.h
 * with the relay hops cut into `chunks` pieces that relays forward as they arrive. */
#include "workload/deepep.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/rng.h"
#include "workload/traffic.h"

void ifb_deepep_cfg_defaults(ifb_deepep_cfg *o)
{
    o->gpu_work = 1;
    o->mem_eff = 0.63; /* ASSUMPTION: as the element-wise kernels (serving/overheads.c) */
    /* ASSUMPTION: 330 M WQEs/s, ConnectX-7's quoted message rate; the GPU posts through IBGDA
     * and is not slower than the NIC (no public figure for IBGDA posting rates found) */
    o->wqe_rate = 330e6;
    o->signals = 1;
    o->signal_bytes = 16; /* an 8-byte count per (expert, rank) pair, rounded up (ASSUMPTION) */
    o->chunks = 8;        /* ASSUMPTION: simulation granularity of the chunked forwarding */
    o->kernel_launch = 0; /* inside a CUDA graph the graph gap covers it */
}

typedef struct dstate dstate;
typedef struct rank rank;

typedef struct dslot {
    rank *x;
    int final;
} dslot;

/* One rank. */
struct rank {
    dstate *d;
    int r;
    dslot s0, sf;
    int exp0, expf; /* pieces expected: relay hops (normal), final messages */
    int got0, gotf; /* received */
    int fwd;        /* normal: forwarding pieces posted */
    ifb_time done;  /* its receive work ended (IFB_TIME_NEVER: not yet) */
    ifb_time gate;  /* per-pair low latency: its messages complete no earlier */
    ifb_time pack;  /* its GPU work before the first send */
    uint64_t recv_copies, sent_dedup, remote_copies;
    uint64_t dedup_in; /* (token, this GPU) pairs of the dispatch: tokens it holds once each */
};

struct dstate {
    ifb_sim *sim;
    ifb_net *net;
    const ifb_deepep_bench *b;
    const int *ep;
    int n, G;
    rank *rk;
    ifb_xplan plan;
    int err;
    uint64_t msgs, failed, copies;
    int *dst;        /* low latency: [r * T * topk + i] rank of copy i of rank r (-1 masked) */
    uint64_t *npair; /* [s * n + t] copies s sends t (low latency) */
};

static double hbm(const dstate *d)
{
    return d->b->hbm_bps * d->b->cfg.mem_eff;
}

static ifb_time secs(double s)
{
    return (ifb_time)llround(s * 1e12);
}

static void recv_done(dstate *d, rank *x)
{
    const ifb_deepep_bench *b = d->b;
    double by = 0;
    if (b->cfg.gpu_work) /* unpack into the experts' layout, or the combine's reduction */
        by = b->combine
                 ? (double)x->recv_copies * (double)b->cbytes + (double)b->tokens * 2.0 * b->hidden
                 : (double)x->recv_copies * 2.0 * (double)b->dbytes;
    /* normal mode copies each forwarded piece as it lands: only the last piece's share is
     * left after the data (low latency: the count signals come after all the data) */
    if (b->normal)
        by /= b->cfg.chunks;
    x->done = d->sim->now + (by > 0 ? secs(by / hbm(d)) + b->cfg.kernel_launch : 0);
}

static void on_msg(ifb_sim *sim, void *ctx, const ifb_msg_info *info);

static void send(dstate *d, int s, int t, uint64_t bytes, int final)
{
    rank *x = &d->rk[t];
    if (!ifb_net_send(d->net, d->ep[s], d->ep[t], bytes, IFB_TC_A2A, on_msg,
                      final ? &x->sf : &x->s0))
        d->err = 1;
}

static uint64_t piece(uint64_t b, int n, int j)
{
    uint64_t q = b / (uint64_t)n, rem = b % (uint64_t)n, v = q + ((uint64_t)j < rem ? 1 : 0);
    return v ? v : 1;
}

/* Piece j (of C) of rank r's messages of one stage, destinations staggered from r + 1 (as
 * DeepEP's channels and NCCL spread senders over receivers). */
static void post_stage_piece(dstate *d, int r, int stage, int j, int C)
{
    const ifb_xplan *p = &d->plan;
    size_t a = p->first[r * 2 + stage], b = p->first[r * 2 + stage + 1], i0 = a;
    while (i0 < b && p->x[i0].dst <= r)
        i0++;
    for (size_t k = 0; k < b - a; k++) {
        const ifb_xfer *m = &p->x[a + (i0 - a + k) % (b - a)];
        send(d, r, m->dst, piece(m->bytes, C, j), m->final);
    }
}

/* Normal mode: a relay forwards piece j of its stage-1 messages once j pieces' worth of its
 * relay hops arrived. */
static void forward(dstate *d, rank *x)
{
    int C = d->b->cfg.chunks;
    int hops = x->exp0 / C; /* relay hops it receives, uncut */
    while (x->fwd < C && x->got0 >= (x->fwd + 1) * hops)
        post_stage_piece(d, x->r, 1, x->fwd++, C);
}

static void check(dstate *d, rank *x)
{
    if (d->b->normal && x->done == IFB_TIME_NEVER && x->pack <= d->sim->now)
        forward(d, x);
    if (x->done == IFB_TIME_NEVER && x->got0 == x->exp0 && x->gotf == x->expf)
        recv_done(d, x);
}

static void arrive_ev(ifb_sim *sim, void *obj, uint64_t arg)
{
    (void)sim;
    (void)arg;
    dslot *sl = obj;
    rank *x = sl->x;
    if (sl->final)
        x->gotf++;
    else
        x->got0++;
    check(x->d, x);
}

static void on_msg(ifb_sim *sim, void *ctx, const ifb_msg_info *info)
{
    dslot *sl = ctx;
    dstate *d = sl->x->d;
    if (info->failed)
        d->failed++;
    else
        d->msgs++;
    /* per-pair low latency: not complete before the sender posted its last WQE */
    int src = -1;
    for (int i = 0; i < d->n && src < 0; i++)
        if (d->ep[i] == info->src)
            src = i;
    if (!d->b->normal && !d->b->per_token && src >= 0 && d->rk[src].gate > sim->now) {
        ifb_sim_at(sim, d->rk[src].gate, arrive_ev, sl, 0);
        return;
    }
    arrive_ev(sim, sl, 0);
}

/* Low latency, per token: one token copy from rank x to rank arg. */
static void copy_ev(ifb_sim *sim, void *obj, uint64_t arg)
{
    (void)sim;
    rank *x = obj;
    send(x->d, x->r, (int)arg, x->d->b->combine ? x->d->b->cbytes : x->d->b->dbytes, 1);
}

static void signal_ev(ifb_sim *sim, void *obj, uint64_t arg)
{
    (void)sim;
    rank *x = obj;
    send(x->d, x->r, (int)arg, x->d->b->cfg.signal_bytes, 1);
}

/* Per-pair low latency, or normal mode: rank r's stage-0 messages. */
static void post_pairs_ev(ifb_sim *sim, void *obj, uint64_t arg)
{
    (void)sim;
    (void)arg;
    rank *x = obj;
    dstate *d = x->d;
    const ifb_deepep_bench *b = d->b;
    if (!b->normal) {
        int sig = b->cfg.signals;
        for (int k = 1; k < d->n; k++) { /* staggered from r + 1 */
            int t = (x->r + k) % d->n;
            uint64_t c = d->npair[(size_t)x->r * d->n + t];
            if (!c && !sig)
                continue;
            send(d, x->r, t,
                 c * (b->combine ? b->cbytes : b->dbytes) + (sig ? b->cfg.signal_bytes : 0), 1);
        }
        return;
    }
    (void)x; /* normal mode posts every rank's pieces at once: post_rounds_ev */
}

/* Normal mode: every rank's stage-0 pieces, round by round (piece j of every sender before
 * piece j + 1), destinations staggered: the posting order of concurrent senders that a
 * receiver's link would interleave (the NVLink model places a receiver's messages in posting
 * order). */
static void post_rounds_ev(ifb_sim *sim, void *obj, uint64_t arg)
{
    (void)sim;
    (void)arg;
    dstate *d = obj;
    int C = d->b->cfg.chunks;
    for (int j = 0; j < C; j++)
        for (int r = 0; r < d->n; r++)
            post_stage_piece(d, r, 0, j, C);
    for (int r = 0; r < d->n; r++)
        check(d, &d->rk[r]); /* a relay with nothing to wait for forwards now */
}

/* Experts of one token: topk distinct of E, uniformly; normal mode first picks g of the nodes
 * (group-limited routing, groups = servers) and draws inside them. */
static void route_token(ifb_rng *rng, const ifb_deepep_bench *b, int nodes, int *out)
{
    int E = b->experts,
        g = b->normal && b->topk_groups > 0 && nodes > b->topk_groups ? b->topk_groups : nodes;
    int per_node = E / nodes;
    int pick[64];
    int np = 0;
    if (g < nodes) { /* g distinct nodes */
        while (np < g) {
            int v = (int)ifb_rng_below(rng, (uint64_t)nodes), dup = 0;
            for (int i = 0; i < np; i++)
                dup |= pick[i] == v;
            if (!dup)
                pick[np++] = v;
        }
    }
    for (int k = 0; k < b->topk; k++) {
        for (;;) {
            int e = g < nodes ? pick[ifb_rng_below(rng, (uint64_t)g)] * per_node +
                                    (int)ifb_rng_below(rng, (uint64_t)per_node)
                              : (int)ifb_rng_below(rng, (uint64_t)E);
            int dup = 0;
            for (int i = 0; i < k; i++)
                dup |= out[i] == e;
            if (!dup) {
                out[k] = e;
                break;
            }
        }
    }
}

int ifb_deepep_bench_run(ifb_sim *sim, ifb_net *net, const ifb_deepep_bench *b, const int *ep,
                         int n, int gpus_per_server, ifb_deepep_result *r, ifb_err *e)
{
    memset(r, 0, sizeof *r);
    int G = gpus_per_server > 0 ? gpus_per_server : n;
    if (n < 2 || b->tokens < 1 || b->topk < 1 || b->experts < b->topk || b->experts % n ||
        b->topk > 64 || n % G || b->masked < 0 || (b->normal && b->cfg.chunks < 1))
        return ifb_err_msg(e,
                           "deepep bench: expected at least 2 ranks dividing the %d experts, "
                           "whole servers of %d GPUs, tokens >= 1 and top-k <= 64 <= experts, "
                           "found %d ranks, %d tokens, top-%d",
                           b->experts, G, n, b->tokens, b->topk);
    int nodes = n / G, T = b->tokens, K = b->topk, L = b->experts / n;
    if (b->normal && b->experts % nodes)
        return ifb_err_msg(e, "deepep bench: %d experts do not split over %d servers", b->experts,
                           nodes);
    dstate d = {.sim = sim, .net = net, .b = b, .ep = ep, .n = n, .G = G};
    d.rk = ifb_xcalloc((size_t)n, sizeof *d.rk, "the benchmark's ranks");
    size_t per = (size_t)T * (size_t)K;
    int *experts = ifb_xcalloc((size_t)n * per, sizeof *experts, "the benchmark's routing");
    d.dst = ifb_xcalloc((size_t)n * per, sizeof *d.dst, "the benchmark's routing");
    d.npair = ifb_xcalloc((size_t)n * (size_t)n, sizeof *d.npair, "the benchmark's routing");
    int *expert_rank = ifb_xcalloc((size_t)b->experts, sizeof *expert_rank, "expert placement");
    int *ntok = ifb_xcalloc((size_t)n, sizeof *ntok, "the benchmark's tokens");
    for (int x = 0; x < b->experts; x++)
        expert_rank[x] = x / L;
    ifb_rng rng;
    ifb_rng_seed(&rng, b->seed, 0x64656570ull);
    for (int s = 0; s < n; s++) {
        ntok[s] = T;
        for (int t = 0; t < T; t++)
            route_token(&rng, b, nodes, &experts[(size_t)s * per + (size_t)t * K]);
        for (size_t i = 0; i < per; i++)
            d.dst[(size_t)s * per + i] = expert_rank[experts[(size_t)s * per + i]];
        for (int m = 0; m < b->masked && m < (int)per; m++) { /* masked copies: not sent */
            size_t i;
            do
                i = (size_t)ifb_rng_below(&rng, per);
            while (d.dst[(size_t)s * per + i] < 0);
            d.dst[(size_t)s * per + i] = -1;
        }
    }
    for (int s = 0; s < n; s++) {
        rank *x = &d.rk[s];
        x->d = &d;
        x->r = s;
        x->s0 = (dslot){x, 0};
        x->sf = (dslot){x, 1};
        x->done = IFB_TIME_NEVER;
        /* per-server deduplicated tokens it sends, its own server included (DeepEP's RDMA
         * figure) */
        for (int t = 0; t < T; t++) {
            unsigned long long seen = 0;
            for (int k = 0; k < K; k++) {
                int q = d.dst[(size_t)s * per + (size_t)t * K + k];
                if (q >= 0 && !(seen >> (q / G % 64) & 1ull)) {
                    seen |= 1ull << (q / G % 64);
                    x->sent_dedup++;
                }
                int dup = 0; /* this GPU already among the token's earlier experts */
                for (int kk = 0; kk < k && q >= 0; kk++)
                    dup |= d.dst[(size_t)s * per + (size_t)t * K + kk] == q;
                if (q >= 0 && !dup)
                    d.rk[q].dedup_in++;
            }
        }
    }
    /* copies per pair (the combine sends back what the dispatch brought) */
    for (int s = 0; s < n; s++)
        for (size_t i = 0; i < per; i++) {
            int q = d.dst[(size_t)s * per + i];
            if (q < 0)
                continue;
            d.copies++;
            if (b->combine) {
                d.npair[(size_t)q * n + s]++;
                d.rk[s].recv_copies++;
            } else {
                d.npair[(size_t)s * n + q]++;
                d.rk[q].recv_copies++;
            }
        }
    uint64_t bpc = b->combine ? b->cbytes : b->dbytes;
    if (b->normal) {
        ifb_xplan_init(&d.plan);
        ifb_ep_group grp = {n, ep[0], G, expert_rank};
        /* masked copies: route them to the sender's own rank (a local copy, no message) */
        for (int s = 0; s < n; s++)
            for (size_t i = 0; i < per; i++)
                if (d.dst[(size_t)s * per + i] < 0)
                    experts[(size_t)s * per + i] = s * L;
        ifb_ep_count(&d.plan, &grp, IFB_A2A_NORMAL, K, ntok, experts);
        ifb_ep_emit(&d.plan, &grp, b->combine, bpc);
        int C = b->cfg.chunks;
        for (int q = 0; q < n; q++) { /* every message in C pieces */
            d.rk[q].exp0 = d.plan.exp0[q] * C;
            d.rk[q].expf = d.plan.expf[q] * C;
            d.rk[q].recv_copies = d.plan.recv[q] / bpc;
        }
    } else {
        for (int q = 0; q < n; q++) {
            int ef = 0;
            for (int s = 0; s < n; s++) {
                if (s == q)
                    continue;
                uint64_t c = d.npair[(size_t)s * n + q];
                ef += b->per_token ? (int)c : (c || b->cfg.signals);
                if (b->per_token && b->cfg.signals)
                    ef++;
            }
            d.rk[q].expf = ef;
        }
    }
    /* GPU work before sending, then the posts */
    ifb_time t0 = sim->now;
    for (int s = 0; s < n; s++) {
        rank *x = &d.rk[s];
        double by = 0;
        uint64_t held = 0; /* combine: the copies its experts computed, sent back */
        for (int q = 0; q < n; q++)
            held += d.npair[(size_t)s * n + q];
        if (b->cfg.gpu_work)
            by = b->combine ? 2.0 * (double)held * (double)b->cbytes
                            : (double)T * (2.0 * b->hidden + (double)b->dbytes);
        /* the send side's cast/copy runs ahead of the sends it feeds: the first piece of it
         * is exposed (ASSUMPTION: 1/chunks of it) */
        by /= b->cfg.chunks;
        x->pack = t0 + (by > 0 ? secs(by / hbm(&d)) + b->cfg.kernel_launch : 0);
        double rate = b->cfg.wqe_rate;
        if (!b->normal && b->per_token) {
            /* token order (the combine: the held copies, sender by sender); a copy to another
             * server is a WQE, one to this server an NVLink store by the GPU (no WQE) */
            uint64_t w = 0;
            if (!b->combine) {
                for (size_t i = 0; i < per; i++) {
                    int q = d.dst[(size_t)s * per + i];
                    if (q < 0 || q == s)
                        continue;
                    int remote = q / G != s / G;
                    w += (uint64_t)remote;
                    ifb_time at = x->pack + (remote && rate > 0 ? secs((double)w / rate) : 0);
                    ifb_sim_at(sim, at, copy_ev, x, (uint64_t)q);
                }
            } else {
                /* the held copies go back round robin over their owners from s + 1 (the order
                 * they arrived in, interleaved), not owner after owner */
                uint64_t *left = ifb_xcalloc((size_t)n, sizeof *left, "combine order");
                uint64_t total = 0;
                for (int q = 0; q < n; q++)
                    if (q != s)
                        total += left[q] = d.npair[(size_t)s * n + q];
                for (int k = 1; total; k = k % (n - 1) + 1) {
                    int q = (s + k) % n;
                    if (!left[q])
                        continue;
                    left[q]--;
                    total--;
                    int remote = q / G != s / G;
                    w += (uint64_t)remote;
                    ifb_time at = x->pack + (remote && rate > 0 ? secs((double)w / rate) : 0);
                    ifb_sim_at(sim, at, copy_ev, x, (uint64_t)q);
                }
                free(left);
            }
            x->remote_copies = w;
            if (b->cfg.signals) /* after the copies, a count signal to every rank */
                for (int q = 0; q < n; q++)
                    if (q != s) {
                        w += (uint64_t)(q / G != s / G);
                        ifb_sim_at(sim, x->pack + (rate > 0 ? secs((double)w / rate) : 0),
                                   signal_ev, x, (uint64_t)q);
                    }
        } else {
            uint64_t w = 0;
            for (int q = 0; q < n && !b->normal; q++)
                if (q / G != s / G)
                    w += d.npair[(size_t)s * n + q];
            x->remote_copies = w;
            x->gate = x->pack + (rate > 0 && !b->normal ? secs((double)w / rate) : 0);
            if (!b->normal)
                ifb_sim_at(sim, x->pack, post_pairs_ev, x, 0);
        }
    }
    if (b->normal) { /* after the slowest rank's packing */
        ifb_time at = t0;
        for (int q = 0; q < n; q++)
            at = d.rk[q].pack > at ? d.rk[q].pack : at;
        ifb_sim_at(sim, at, post_rounds_ev, &d, 0);
    }
    ifb_sim_run(sim);
    int rc = 0;
    if (d.err)
        rc = ifb_err_msg(e, "deepep bench: the network refused a message");
    double tsum = 0, rsum = 0, vsum = 0;
    for (int s = 0; s < n && !rc; s++) {
        rank *x = &d.rk[s];
        if (x->done == IFB_TIME_NEVER) {
            if (!d.failed)
                rc = ifb_err_msg(e, "deepep bench: rank %d did not receive everything", s);
            continue;
        }
        ifb_time k = x->done - t0;
        tsum += (double)k;
        if (k > r->max)
            r->max = k;
        rsum += (double)x->sent_dedup * (double)bpc;
        /* DeepEP's NVLink figure: the dispatch's bytes received, the combine's bytes sent back
         * (the same tokens); normal mode holds each token once per GPU, low latency per copy */
        uint64_t held = 0;
        for (int q = 0; q < n; q++)
            held += d.npair[(size_t)s * n + q];
        uint64_t tok = b->normal ? x->dedup_in : b->combine ? held : x->recv_copies;
        vsum += (double)tok * (double)bpc;
    }
    if (!rc) {
        r->mean = (ifb_time)llround(tsum / n);
        double sec = tsum / n * 1e-12;
        r->rdma_bps = d.failed || sec <= 0 ? NAN : rsum / n / sec;
        r->nvl_bps = d.failed || sec <= 0 ? NAN : vsum / n / sec;
    }
    r->msgs = d.msgs;
    r->failed = d.failed;
    r->copies = d.copies;
    if (b->normal)
        ifb_xplan_free(&d.plan);
    free(experts);
    free(d.dst);
    free(d.npair);
    free(expert_rank);
    free(ntok);
    free(d.rk);
    return rc;
}
