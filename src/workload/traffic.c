/* Expert routing, EP all-to-all message plans and ring all-reduce sizes (see traffic.h). All
 * scratch memory lives in the router and plan objects, so a step allocates nothing once they
 * have grown to the largest batch. */
#include "workload/traffic.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

/* zeroed scratch memory of routers and plans (core/alloc.h: reports and aborts on failure) */
static void *xalloc(size_t n)
{
    return ifb_xcalloc(n, 1, "expert routing and all-to-all plans");
}

int ifb_router_init(ifb_router *r, const ifb_model *m, int nlayers, ifb_route_kind kind,
                    double zipf_s, uint64_t seed, ifb_err *e)
{
    memset(r, 0, sizeof *r);
    if (m->experts < 1 || m->experts_per_tok < 1)
        return ifb_err_set(e, m->name, 0, "routing", "a model with routed experts", "%lld experts",
                           (long long)m->experts);
    r->experts = (int)m->experts;
    r->topk = (int)m->experts_per_tok;
    r->n_group = m->n_group > 0 ? (int)m->n_group : 1;
    r->topk_group = m->topk_group > 0 ? (int)m->topk_group : r->n_group;
    if (r->experts % r->n_group || r->topk_group > r->n_group)
        return ifb_err_set(e, m->name, 0, "n_group", "a divisor of the experts, >= topk_group",
                           "n_group %d, topk_group %d, %d experts", r->n_group, r->topk_group,
                           r->experts);
    r->gsize = r->experts / r->n_group;
    if (r->topk > r->topk_group * r->gsize || r->topk > r->experts)
        return ifb_err_set(e, m->name, 0, "num_experts_per_tok",
                           "at most the experts of topk_group groups", "%d > %d", r->topk,
                           r->topk_group * r->gsize);
    if (kind == IFB_ROUTE_ZIPF && !(zipf_s > 0))
        return ifb_err_set(e, NULL, 0, "routing", "zipf:S with S > 0", "%g", zipf_s);
    r->kind = kind;
    r->zipf_s = zipf_s;
    r->nlayers = nlayers > 0 ? nlayers : 1;
    ifb_rng_seed(&r->rng, seed, 0x726f757465ull);
    r->cand = xalloc((size_t)r->experts * sizeof *r->cand);
    r->cand_w = xalloc((size_t)r->experts * sizeof *r->cand_w);
    r->groups = xalloc((size_t)r->n_group * sizeof *r->groups);
    if (kind == IFB_ROUTE_ZIPF) {
        /* Popularity order per layer: a seeded shuffle, so hot experts differ between layers. */
        r->w = xalloc((size_t)r->nlayers * (size_t)r->experts * sizeof *r->w);
        ifb_rng pr;
        ifb_rng_seed(&pr, seed, 0x7a697066ull);
        int *perm = r->cand;
        for (int l = 0; l < r->nlayers; l++) {
            for (int x = 0; x < r->experts; x++)
                perm[x] = x;
            for (int x = r->experts - 1; x > 0; x--) {
                int j = (int)ifb_rng_below(&pr, (uint64_t)x + 1);
                int t = perm[x];
                perm[x] = perm[j];
                perm[j] = t;
            }
            for (int i = 0; i < r->experts; i++)
                r->w[(size_t)l * r->experts + perm[i]] = pow((double)(i + 1), -zipf_s);
        }
    }
    return 0;
}

int ifb_router_init_loads(ifb_router *r, const ifb_model *m, int nlayers, const double *loads,
                          int rows, uint64_t seed, ifb_err *e)
{
    if (ifb_router_init(r, m, nlayers, IFB_ROUTE_UNIFORM, 0, seed, e))
        return -1;
    if (rows < 1)
        return ifb_err_set(e, NULL, 0, "routing", "a routing file with at least one layer",
                           "%d rows", rows);
    r->kind = IFB_ROUTE_FILE;
    r->w = xalloc((size_t)r->nlayers * (size_t)r->experts * sizeof *r->w);
    for (int l = 0; l < r->nlayers; l++) {
        const double *src = loads + (size_t)(l < rows ? l : rows - 1) * r->experts;
        double tot = 0;
        for (int x = 0; x < r->experts; x++)
            tot += src[x];
        double floor_w = (tot > 0 ? tot / r->experts : 1) * 1e-9;
        for (int x = 0; x < r->experts; x++)
            r->w[(size_t)l * r->experts + x] = src[x] > floor_w ? src[x] : floor_w;
    }
    return 0;
}

void ifb_router_expected(const ifb_router *r, int layer, double *out)
{
    double tot = 0;
    if (layer < 0)
        layer = 0;
    layer %= r->nlayers;
    for (int x = 0; x < r->experts; x++) {
        out[x] = r->w ? r->w[(size_t)layer * r->experts + x] : 1;
        tot += out[x];
    }
    for (int x = 0; x < r->experts; x++)
        out[x] /= tot;
}

void ifb_router_free(ifb_router *r)
{
    if (!r)
        return;
    free(r->w);
    free(r->cand);
    free(r->cand_w);
    free(r->groups);
    memset(r, 0, sizeof *r);
}

/* Draws index i from weights w[0..n-1] (sum tot) and returns it. */
static int draw_weighted(ifb_rng *rng, const double *w, int n, double tot)
{
    double u = ifb_rng_double(rng) * tot;
    for (int i = 0; i < n; i++) {
        u -= w[i];
        if (u < 0 && w[i] > 0)
            return i;
    }
    for (int i = n - 1; i >= 0; i--) /* rounding at the end of the scan */
        if (w[i] > 0)
            return i;
    return 0;
}

void ifb_router_route(ifb_router *r, int layer, int n, int *out)
{
    int K = r->topk, NG = r->n_group, TG = r->topk_group, GS = r->gsize;
    if (layer < 0)
        layer = 0;
    layer %= r->nlayers;
    for (int t = 0; t < n; t++) {
        int *o = out + (size_t)t * K;
        if (r->kind == IFB_ROUTE_UNIFORM) {
            for (int g = 0; g < NG; g++)
                r->groups[g] = g;
            for (int i = 0; i < TG; i++) { /* partial Fisher-Yates over the groups */
                int j = i + (int)ifb_rng_below(&r->rng, (uint64_t)(NG - i));
                int tmp = r->groups[i];
                r->groups[i] = r->groups[j];
                r->groups[j] = tmp;
            }
            int pool = TG * GS;
            for (int k = 0; k < K; k++) {
                int x;
                for (;;) { /* rejection: k << pool */
                    int idx = (int)ifb_rng_below(&r->rng, (uint64_t)pool);
                    x = r->groups[idx / GS] * GS + idx % GS;
                    int dup = 0;
                    for (int q = 0; q < k; q++)
                        dup |= o[q] == x;
                    if (!dup)
                        break;
                }
                o[k] = x;
            }
        } else {
            const double *w = r->w + (size_t)layer * r->experts;
            double *gw = r->cand_w; /* group weights first */
            double gtot = 0;
            for (int g = 0; g < NG; g++) {
                double s = 0;
                for (int x = 0; x < GS; x++)
                    s += w[g * GS + x];
                gw[g] = s;
                gtot += s;
            }
            int nc = 0;
            for (int i = 0; i < TG; i++) {
                int g = draw_weighted(&r->rng, gw, NG, gtot);
                gtot -= gw[g];
                gw[g] = 0;
                for (int x = 0; x < GS; x++)
                    r->cand[nc++] = g * GS + x;
            }
            double tot = 0;
            for (int i = 0; i < nc; i++) {
                r->cand_w[i] = w[r->cand[i]];
                tot += r->cand_w[i];
            }
            for (int k = 0; k < K; k++) {
                int i = draw_weighted(&r->rng, r->cand_w, nc, tot);
                o[k] = r->cand[i];
                tot -= r->cand_w[i];
                r->cand_w[i] = 0;
                if (!(tot > 0)) { /* weights underflowed: recompute the remaining sum */
                    tot = 0;
                    for (int q = 0; q < nc; q++)
                        tot += r->cand_w[q];
                }
            }
        }
    }
}

void ifb_xplan_init(ifb_xplan *p)
{
    memset(p, 0, sizeof *p);
}

void ifb_xplan_free(ifb_xplan *p)
{
    if (!p)
        return;
    free(p->x);
    free(p->first);
    free(p->exp0);
    free(p->expf);
    free(p->recv);
    free(p->mat);
    free(p->node);
    free(p->seen);
    memset(p, 0, sizeof *p);
}

void ifb_ep_copies(const ifb_ep_group *g, int topk, const int *ntok, const int *experts,
                   uint64_t *copies)
{
    int n = g->n;
    memset(copies, 0, (size_t)n * (size_t)n * sizeof *copies);
    size_t c = 0;
    for (int s = 0; s < n; s++)
        for (int t = 0; t < ntok[s]; t++)
            for (int k = 0; k < topk; k++)
                copies[(size_t)s * n + g->expert_rank[experts[c++]]]++;
}

uint64_t ifb_ring_step_bytes(uint64_t bytes, int n)
{
    return n > 0 ? (bytes + (uint64_t)n - 1) / (uint64_t)n : bytes;
}

static void resize(ifb_xplan *p, int n, int topk)
{
    (void)topk; /* scratch no longer depends on it */
    if (p->n == n && p->node)
        return;
    free(p->first);
    free(p->exp0);
    free(p->expf);
    free(p->recv);
    free(p->mat);
    free(p->node);
    free(p->seen);
    p->n = n;
    p->first = xalloc(((size_t)n * 2 + 1) * sizeof *p->first);
    p->exp0 = xalloc((size_t)n * sizeof *p->exp0);
    p->expf = xalloc((size_t)n * sizeof *p->expf);
    p->recv = xalloc((size_t)n * sizeof *p->recv);
    p->mat = xalloc((size_t)n * (size_t)n * 3 * sizeof *p->mat);
    p->node = xalloc((size_t)n * sizeof *p->node);
    p->seen = xalloc((size_t)n * 2 * sizeof *p->seen);
}

static void push(ifb_xplan *p, int s, int d, uint64_t b, int stage, int final)
{
    p->x = ifb_xgrow(p->x, &p->cap, p->nx, sizeof *p->x, 256, "an all-to-all plan");
    p->x[p->nx++] = (ifb_xfer){s, d, b, (uint8_t)stage, (uint8_t) final};
}

/* Counts token copies into the three dispatch-direction matrices (see ifb_ep_count). */
void ifb_ep_count(ifb_xplan *p, const ifb_ep_group *g, ifb_a2a_style style, int topk,
                  const int *ntok, const int *experts)
{
    int n = g->n, G = g->gpus_per_server > 0 ? g->gpus_per_server : n;
    resize(p, n, topk);
    size_t nn = (size_t)n * (size_t)n;
    /* mat[0]: stage 0 final (direct), mat[1]: stage 0 to a relay (non-final), mat[2]: stage 1
     * final (forwarded), each [s * n + d] in the dispatch direction, in token copies */
    uint64_t *m0 = p->mat, *m1 = p->mat + nn, *m2 = p->mat + 2 * nn;
    memset(p->mat, 0, 3 * nn * sizeof *p->mat);
    size_t c = 0;
    const int *er = g->expert_rank;
    /* Server of each rank and per-token "seen" stamps: no division or quadratic scan per copy. */
    int *node = p->node;
    uint32_t *seen_r = p->seen, *seen_n = p->seen + n;
    for (int r = 0; r < n; r++)
        node[r] = (g->first + r) / G;
    memset(p->seen, 0, 2 * (size_t)n * sizeof *p->seen);
    uint32_t stamp = 0;
    for (int s = 0; s < n; s++) {
        int snode = node[s], sloc = (g->first + s) % G;
        uint64_t *row0 = m0 + (size_t)s * n;
        if (style == IFB_A2A_LOW_LATENCY) {
            size_t end = c + (size_t)ntok[s] * (size_t)topk;
            for (; c < end; c++)
                row0[er[experts[c]]]++;
            continue;
        }
        for (int t = 0; t < ntok[s]; t++, c += (size_t)topk) {
            stamp++;
            for (int k = 0; k < topk; k++) {
                int d = er[experts[c + (size_t)k]];
                if (seen_r[d] == stamp)
                    continue; /* one copy per destination GPU */
                seen_r[d] = stamp;
                int dnode = node[d];
                int relay = dnode * G + sloc - g->first;
                if (dnode == snode || relay < 0 || relay >= n) {
                    row0[d]++;
                    continue;
                }
                /* one relay hop per destination server, then NVLink to each GPU */
                int dn = dnode - node[0];
                if (seen_n[dn] != stamp) {
                    seen_n[dn] = stamp;
                    m1[(size_t)s * n + relay]++;
                }
                if (d != relay) /* the relay's own copy came with the relay hop */
                    m2[(size_t)relay * n + d]++;
            }
        }
    }
}

void ifb_ep_emit(ifb_xplan *p, const ifb_ep_group *g, int combine, uint64_t bpc)
{
    int n = g->n, G = g->gpus_per_server > 0 ? g->gpus_per_server : n;
    size_t nn = (size_t)n * (size_t)n;
    p->total_bytes = p->self_bytes = p->nvlink_bytes = p->nic_bytes = p->max_recv = 0;
    memset(p->recv, 0, (size_t)n * sizeof *p->recv);
    memset(p->exp0, 0, (size_t)n * sizeof *p->exp0);
    memset(p->expf, 0, (size_t)n * sizeof *p->expf);
    p->nx = 0;
    /* Combine runs the dispatch backwards: direct copies return directly, forwarded ones go
     * back to the relay over NVLink (stage 0, non-final), relay hops return from the relay
     * (stage 1, final). kind: 0 = stage 0 final, 1 = stage 0 non-final, 2 = stage 1 final. */
    static const int src_kind[2][3] = {{0, 1, 2}, {0, 2, 1}};
    for (int s = 0; s < n; s++) {
        for (int stage = 0; stage < 2; stage++) {
            p->first[s * 2 + stage] = p->nx;
            for (int d = 0; d < n; d++) {
                for (int kind = 0; kind < 3; kind++) {
                    if ((kind == 2) != (stage == 1))
                        continue;
                    const uint64_t *m = p->mat + (size_t)src_kind[combine][kind] * nn;
                    uint64_t cnt = combine ? m[(size_t)d * n + s] : m[(size_t)s * n + d];
                    if (!cnt)
                        continue;
                    uint64_t b = cnt * bpc;
                    p->total_bytes += b;
                    p->recv[d] += b;
                    if (s == d) {
                        p->self_bytes += b;
                        continue;
                    }
                    if ((g->first + s) / G == (g->first + d) / G)
                        p->nvlink_bytes += b;
                    else
                        p->nic_bytes += b;
                    int final = kind != 1;
                    push(p, s, d, b, stage, final);
                    if (final)
                        p->expf[d]++;
                    else
                        p->exp0[d]++;
                }
            }
        }
    }
    p->first[(size_t)n * 2] = p->nx;
    for (int d = 0; d < n; d++)
        if (p->recv[d] > p->max_recv)
            p->max_recv = p->recv[d];
}

void ifb_ep_plan(ifb_xplan *p, const ifb_ep_group *g, ifb_a2a_style style, int combine, int topk,
                 const int *ntok, const int *experts, uint64_t bpc)
{
    ifb_ep_count(p, g, style, topk, ntok, experts);
    ifb_ep_emit(p, g, combine, bpc);
}

void ifb_ep_copy_counts(ifb_xplan *dst, const ifb_xplan *src, int topk)
{
    resize(dst, src->n, topk);
    memcpy(dst->mat, src->mat, (size_t)src->n * (size_t)src->n * 3 * sizeof *src->mat);
}
