/* Microbenchmark patterns (see microbench.h). Bus bandwidth follows nccl-tests' definitions:
 * alltoall busbw = algbw x (n-1)/n, allreduce busbw = algbw x 2(n-1)/n. */
#include "workload/microbench.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/rng.h"

const char *const ifb_mb_names[IFB_MB_COUNT] = {
    "pingpong", "bw",        "incast",          "permutation",
    "alltoall", "allreduce", "deepep-dispatch", "deepep-combine"};

int ifb_mb_kind_parse(const char *name)
{
    for (int i = 0; i < IFB_MB_COUNT; i++)
        if (!strcmp(name, ifb_mb_names[i]))
            return i;
    return -1;
}

typedef struct mb_state {
    ifb_sim *sim;
    ifb_net *net;
    const ifb_mb_spec *s;
    int n;           /* ranks */
    int *ep;         /* rank -> endpoint */
    int left;        /* pingpong: legs left; bw: messages left to post */
    uint64_t done;   /* deliveries */
    uint64_t failed; /* messages the network gave up on */
    ifb_time t0, last, first_done;
    ifb_time *flow_done; /* per sender (incast, permutation) */
    /* allreduce */
    int *step; /* per rank: chunks received */
    uint64_t chunk;
    /* pingpong: when the current round trip began, and each one's one-way latency (ps) */
    ifb_time rt_start;
    double *rt;
    int nrt;
    int err;
} mb_state;

static void on_done(ifb_sim *sim, void *ctx, const ifb_msg_info *info);

static uint64_t post(mb_state *st, int src, int dst, uint64_t bytes)
{
    uint64_t id = ifb_net_send(st->net, src, dst, bytes, st->s->tclass, on_done, st);
    if (!id)
        st->err = 1;
    return id;
}

static int rank_of(const mb_state *st, int ep)
{
    for (int i = 0; i < st->n; i++)
        if (st->ep[i] == ep)
            return i;
    return -1;
}

static void on_done(ifb_sim *sim, void *ctx, const ifb_msg_info *info)
{
    mb_state *st = ctx;
    const ifb_mb_spec *s = st->s;
    if (info->failed) {
        /* not a completion: nothing arrived, so nothing that depends on it is posted */
        st->failed++;
        return;
    }
    st->done++;
    st->last = sim->now;
    if (!st->first_done)
        st->first_done = sim->now;
    switch (s->kind) {
    case IFB_MB_PINGPONG:
        /* a round trip ends when the reply arrives back at src: every second delivery */
        if (info->dst == s->src) {
            st->rt[st->nrt++] = (double)(sim->now - st->rt_start) / 2.0;
            st->rt_start = sim->now;
        }
        if (--st->left > 0)
            post(st, info->dst, info->src, s->bytes);
        break;
    case IFB_MB_BW:
        if (st->left > 0 && !st->failed) {
            st->left--;
            post(st, s->src, s->dst, s->bytes);
        }
        break;
    case IFB_MB_INCAST:
    case IFB_MB_PERMUTATION: {
        int r = rank_of(st, info->src);
        if (r >= 0)
            st->flow_done[r] = sim->now;
        break;
    }
    case IFB_MB_ALLREDUCE: {
        /* Ring: rank r sends chunk k to r+1; after receiving its k-th chunk a rank forwards. */
        int r = rank_of(st, info->dst);
        if (r < 0)
            break;
        int k = ++st->step[r];
        if (k < 2 * (st->n - 1) && !st->failed)
            post(st, st->ep[r], st->ep[(r + 1) % st->n], st->chunk);
        break;
    }
    default:
        break;
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Percentile p of sorted v[0..n) with linear interpolation between closest ranks (numpy's
 * default, as core/stats.h's samples). */
static double pctl_sorted(const double *v, int n, double p)
{
    double h = (n - 1) * p / 100.0;
    int lo = (int)floor(h);
    if (lo >= n - 1)
        return v[n - 1];
    return v[lo] + (h - lo) * (v[lo + 1] - v[lo]);
}

/* The perftest latency columns from the round trips' one-way latencies (ps). */
static void lat_figures(ifb_mb_result *r, double *rt, int n)
{
    r->lat_iters = (uint64_t)n;
    if (n == 0)
        return;
    qsort(rt, (size_t)n, sizeof *rt, cmp_double);
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += rt[i];
    double mean = sum / n, ss = 0;
    for (int i = 0; i < n; i++)
        ss += (rt[i] - mean) * (rt[i] - mean);
    r->t_min_us = rt[0] / 1e6;
    r->t_max_us = rt[n - 1] / 1e6;
    r->t_typical_us = pctl_sorted(rt, n, 50) / 1e6;
    r->t_avg_us = mean / 1e6;
    r->t_stdev_us = sqrt(ss / n) / 1e6; /* perftest divides by the count */
    r->t_p99_us = pctl_sorted(rt, n, 99) / 1e6;
    r->t_p999_us = pctl_sorted(rt, n, 99.9) / 1e6;
}

static double jain(const ifb_time *t, int n, ifb_time t0, uint64_t bytes)
{
    double sum = 0, sq = 0;
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (t[i] <= t0)
            continue;
        double rate = (double)bytes / (double)(t[i] - t0);
        sum += rate;
        sq += rate * rate;
        k++;
    }
    return k && sq > 0 ? sum * sum / (k * sq) : 0;
}

void ifb_mb_permutation(uint64_t seed, int n, int *perm)
{
    /* no rank sends to itself: Sattolo's shuffle makes one cycle */
    for (int i = 0; i < n; i++)
        perm[i] = i;
    ifb_rng rng;
    ifb_rng_seed(&rng, seed, 0x9e37);
    for (int i = n - 1; i > 0; i--) {
        int j = (int)ifb_rng_below(&rng, (uint64_t)i);
        int tmp = perm[i];
        perm[i] = perm[j];
        perm[j] = tmp;
    }
}

/* Participants of the pattern (see ifb_mb_spec.nranks), and the endpoints available. */
static int ranks_of(const ifb_mb_spec *s, int nendpoints, int *avail)
{
    int stride = s->stride > 0 ? s->stride : 1;
    *avail = (nendpoints + stride - 1) / stride;
    if (s->kind == IFB_MB_INCAST)
        return s->nranks > 0 ? s->nranks : *avail - 1;
    return s->nranks > 0 ? s->nranks : *avail;
}

int ifb_mb_ranks(const ifb_mb_spec *s, int nendpoints)
{
    int avail;
    return ranks_of(s, nendpoints, &avail);
}

int ifb_mb_check(const ifb_mb_spec *s, int nendpoints, ifb_err *e)
{
    int avail, n = ranks_of(s, nendpoints, &avail);
    const char *at = s->stride > 1 ? " at this stride" : "";
    if (n > avail || n < 1)
        return ifb_err_msg(e, "bench %s: %d ranks requested, the fabric has %d endpoints%s",
                           ifb_mb_names[s->kind], n, avail, at);
    if (n < 2 && (s->kind == IFB_MB_ALLTOALL || s->kind == IFB_MB_ALLREDUCE ||
                  s->kind == IFB_MB_PERMUTATION || s->kind == IFB_MB_DEEPEP_DISPATCH ||
                  s->kind == IFB_MB_DEEPEP_COMBINE))
        return ifb_err_msg(e,
                           "bench %s: --ranks: expected at least 2 ranks (with one there is "
                           "nothing to send), found %d%s",
                           ifb_mb_names[s->kind], n, avail < 2 ? " (every endpoint)" : "");
    if ((s->kind == IFB_MB_PINGPONG || s->kind == IFB_MB_BW || s->kind == IFB_MB_INCAST) &&
        (s->dst < 0 || s->dst >= nendpoints || s->src < 0 || s->src >= nendpoints))
        return ifb_err_msg(e, "bench %s: endpoint out of range (the fabric has %d endpoints)",
                           ifb_mb_names[s->kind], nendpoints);
    return 0;
}

/* One DeepEP phase over the participants (workload/deepep.h). */
static int run_deepep(ifb_sim *sim, ifb_net *net, const ifb_mb_spec *s, ifb_mb_result *r,
                      ifb_err *e)
{
    if (!s->deepep)
        return ifb_err_msg(e, "bench %s: no kernel description (the scenario's workload keys)",
                           ifb_mb_names[s->kind]);
    int stride = s->stride > 0 ? s->stride : 1, avail;
    int n = ranks_of(s, net->nendpoints, &avail);
    int *ep = ifb_xcalloc((size_t)n, sizeof *ep, "benchmark endpoints");
    for (int i = 0; i < n; i++)
        ep[i] = i * stride;
    ifb_deepep_bench b = *s->deepep;
    b.combine = s->kind == IFB_MB_DEEPEP_COMBINE;
    ifb_deepep_result dr;
    int G = s->gpus_per_server > 0 ? s->gpus_per_server / stride : n;
    int rc = ifb_deepep_bench_run(sim, net, &b, ep, n, G > 0 ? G : 1, &dr, e);
    free(ep);
    if (rc)
        return -1;
    r->time = dr.mean;
    r->size_bytes = (double)dr.copies * (double)(b.combine ? b.cbytes : b.dbytes) / n;
    r->algbw = dr.rdma_bps;
    r->busbw = dr.nvl_bps;
    r->msgs = dr.msgs;
    r->msgs_failed = dr.failed;
    r->min_done = dr.mean;
    r->max_done = dr.max;
    if (dr.failed)
        r->algbw = r->busbw = r->lat_us = r->jain = NAN;
    return 0;
}

int ifb_mb_run(ifb_sim *sim, ifb_net *net, const ifb_mb_spec *s, ifb_mb_result *r, ifb_err *e)
{
    memset(r, 0, sizeof *r);
    r->t_min_us = r->t_max_us = r->t_typical_us = r->t_avg_us = r->t_stdev_us = r->t_p99_us =
        r->t_p999_us = NAN;
    if (ifb_mb_check(s, net->nendpoints, e))
        return -1;
    if (s->kind == IFB_MB_DEEPEP_DISPATCH || s->kind == IFB_MB_DEEPEP_COMBINE)
        return run_deepep(sim, net, s, r, e);
    mb_state st = {.sim = sim, .net = net, .s = s};
    int stride = s->stride > 0 ? s->stride : 1;
    int avail;
    st.n = ranks_of(s, net->nendpoints, &avail);
    st.ep = ifb_xcalloc((size_t)st.n + 1, sizeof *st.ep, "benchmark endpoints");
    st.flow_done = ifb_xcalloc((size_t)st.n + 1, sizeof *st.flow_done, "benchmark flows");
    st.step = ifb_xcalloc((size_t)st.n + 1, sizeof *st.step, "benchmark flows");
    st.t0 = sim->now;
    int n = st.n;
    switch (s->kind) {
    case IFB_MB_PINGPONG:
        st.n = 0;
        st.left = 2 * (s->iters > 0 ? s->iters : 1);
        st.rt = ifb_xcalloc((size_t)(s->iters > 0 ? s->iters : 1), sizeof *st.rt,
                            "pingpong round trips");
        st.rt_start = sim->now;
        post(&st, s->src, s->dst, s->bytes);
        break;
    case IFB_MB_BW: {
        st.n = 0;
        int iters = s->iters > 0 ? s->iters : 1;
        int depth = s->depth > 0 ? s->depth : 128;
        int first = depth < iters ? depth : iters;
        st.left = iters - first;
        for (int i = 0; i < first; i++)
            post(&st, s->src, s->dst, s->bytes);
        break;
    }
    case IFB_MB_INCAST: {
        int k = 0;
        for (int i = 0; k < n && i < avail; i++)
            if (i * stride != s->dst)
                st.ep[k++] = i * stride;
        st.n = k;
        for (int i = 0; i < k; i++)
            post(&st, st.ep[i], s->dst, s->bytes);
        break;
    }
    case IFB_MB_PERMUTATION: {
        for (int i = 0; i < n; i++)
            st.ep[i] = i * stride;
        int *perm = ifb_xcalloc((size_t)n, sizeof *perm, "a permutation");
        ifb_mb_permutation(s->seed, n, perm);
        for (int i = 0; i < n && n > 1; i++)
            post(&st, st.ep[i], st.ep[perm[i]], s->bytes);
        free(perm);
        break;
    }
    case IFB_MB_ALLTOALL:
        for (int i = 0; i < n; i++)
            st.ep[i] = i * stride;
        /* Staggered order (i sends to i+1, i+2, ...) as NCCL's alltoall posts its peers. */
        for (int d = 1; d < n; d++)
            for (int i = 0; i < n; i++)
                post(&st, st.ep[i], st.ep[(i + d) % n], s->bytes);
        break;
    case IFB_MB_ALLREDUCE:
        for (int i = 0; i < n; i++)
            st.ep[i] = i * stride;
        st.chunk = (s->bytes + (uint64_t)n - 1) / (uint64_t)n;
        if (n > 1)
            for (int i = 0; i < n; i++)
                post(&st, st.ep[i], st.ep[(i + 1) % n], st.chunk);
        break;
    default:
        break;
    }
    if (st.err) {
        free(st.ep);
        free(st.flow_done);
        free(st.step);
        free(st.rt);
        return ifb_err_msg(e, "bench %s: the network refused a message", ifb_mb_names[s->kind]);
    }
    ifb_sim_run(sim);
    r->time = st.last > st.t0 ? st.last - st.t0 : 0;
    r->msgs = st.done;
    r->msgs_failed = st.failed;
    double secs = ifb_time_to_s(r->time);
    switch (s->kind) {
    case IFB_MB_PINGPONG:
        r->size_bytes = (double)s->bytes;
        r->lat_us = ifb_time_to_us(r->time) / (2.0 * (s->iters > 0 ? s->iters : 1));
        if (!st.failed)
            lat_figures(r, st.rt, st.nrt);
        r->algbw = r->busbw = secs > 0 ? (double)s->bytes * (double)st.done / secs : 0;
        break;
    case IFB_MB_BW:
        r->size_bytes = (double)s->bytes;
        r->algbw = r->busbw = secs > 0 ? (double)s->bytes * (double)st.done / secs : 0;
        break;
    case IFB_MB_INCAST:
    case IFB_MB_PERMUTATION:
        r->size_bytes = (double)s->bytes;
        r->algbw = secs > 0 ? (double)s->bytes * st.n / secs : 0;
        r->busbw = r->algbw;
        r->min_done = IFB_TIME_NEVER;
        for (int i = 0; i < st.n; i++) {
            ifb_time d = st.flow_done[i] - st.t0;
            if (d < r->min_done)
                r->min_done = d;
            if (d > r->max_done)
                r->max_done = d;
        }
        r->jain = jain(st.flow_done, st.n, st.t0, s->bytes);
        break;
    case IFB_MB_ALLTOALL:
        r->size_bytes = (double)s->bytes * n;
        r->algbw = secs > 0 ? r->size_bytes / secs : 0;
        r->busbw = r->algbw * (n - 1) / n;
        break;
    case IFB_MB_ALLREDUCE:
        r->size_bytes = (double)s->bytes;
        r->algbw = secs > 0 ? r->size_bytes / secs : 0;
        r->busbw = r->algbw * 2.0 * (n - 1) / n;
        break;
    default:
        break;
    }
    int incomplete = 0;
    if (s->kind == IFB_MB_PINGPONG)
        incomplete = st.left > 0;
    else if (s->kind == IFB_MB_BW)
        incomplete = st.done < (uint64_t)(s->iters > 0 ? s->iters : 1);
    else if (s->kind == IFB_MB_ALLTOALL)
        incomplete = st.done < (uint64_t)n * (uint64_t)(n - 1);
    else if (s->kind == IFB_MB_ALLREDUCE)
        incomplete = n > 1 && st.done < (uint64_t)n * 2u * (uint64_t)(n - 1);
    else
        incomplete = st.done < (uint64_t)st.n;
    free(st.ep);
    free(st.flow_done);
    free(st.step);
    free(st.rt);
    if (st.failed) {
        /* what was measured is not the pattern: report it as missing, never as a figure */
        r->algbw = r->busbw = r->lat_us = r->jain = NAN;
        r->min_done = r->max_done = 0;
        return 0;
    }
    if (incomplete && sim->stop == IFB_STOP_EMPTY)
        return ifb_err_msg(e, "bench %s: the run ended with messages not delivered",
                           ifb_mb_names[s->kind]);
    return 0;
}
