/* Parallel layout and per-GPU memory (see parallel.h). */
#include "workload/parallel.h"

#include "workload/eplb.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

const char *ifb_layout_name(ifb_layout l)
{
    return l == IFB_LAYOUT_TP ? "tp" : l == IFB_LAYOUT_DP_TP ? "dp-tp" : "dp-ep";
}

void ifb_parallel_free(ifb_parallel *p)
{
    if (!p)
        return;
    free(p->endpoint);
    free(p->expert_rank);
    p->endpoint = p->expert_rank = NULL;
}

static int bad(ifb_err *e, const ifb_par_cfg *c, const char *k, const char *expected,
               const char *fmt, long v, long w)
{
    char key[128];
    snprintf(key, sizeof key, "%s.%s", c->key ? c->key : "parallel", k);
    char found[128];
    snprintf(found, sizeof found, fmt, v, w);
    return ifb_err_set(e, NULL, 0, key, expected, "%s", found);
}

static int build_stage(ifb_parallel *p, const ifb_model *m, const ifb_par_cfg *c, int nservers,
                       int gpus_per_server, ifb_err *e);

/* Pipeline stages: the layout of one stage on nservers / pp servers, repeated pp times. */
int ifb_parallel_build(ifb_parallel *p, const ifb_model *m, const ifb_par_cfg *c, int nservers,
                       int gpus_per_server, ifb_err *e)
{
    int pp = c->pp > 1 ? c->pp : 1;
    char exp[160];
    if (pp > 1) {
        memset(p, 0, sizeof *p);
        if (pp > IFB_PP_MAX)
            return bad(e, c, "pp", "at most 16 pipeline stages", "%ld", pp, 0);
        if (nservers % pp) {
            snprintf(exp, sizeof exp, "a divisor of the %d servers (each stage whole servers)",
                     nservers);
            return bad(e, c, "pp", exp, "%ld", pp, 0);
        }
        if (pp > m->layers)
            return bad(e, c, "pp", "at most one stage per layer", "%ld", pp, 0);
    }
    if (build_stage(p, m, c, nservers / pp, gpus_per_server, e))
        return -1;
    p->pp = pp;
    p->stage_ranks = p->nranks;
    p->micro_batches = pp > 1 ? (c->micro_batches > 0 ? c->micro_batches : pp) : 1;
    int given = 0, sum = 0;
    for (int i = 0; i < pp; i++) {
        given |= c->pp_layers[i] != 0;
        sum += c->pp_layers[i];
    }
    if (given) {
        for (int i = 0; i < pp; i++)
            if (c->pp_layers[i] < 1) {
                ifb_parallel_free(p);
                return bad(e, c, "pp_layers", "at least one layer per stage", "%ld",
                           c->pp_layers[i], 0);
            }
        if (sum != m->layers) {
            ifb_parallel_free(p);
            snprintf(exp, sizeof exp, "one count per stage summing to the model's %lld layers",
                     (long long)m->layers);
            return bad(e, c, "pp_layers", exp, "a sum of %ld", sum, 0);
        }
    }
    p->pp_first[0] = 0;
    for (int i = 0; i < pp; i++) {
        int n = given ? c->pp_layers[i] : (int)(m->layers / pp + (i < m->layers % pp ? 1 : 0));
        p->pp_first[i + 1] = p->pp_first[i] + n;
    }
    if (pp > 1) {
        int Rs = p->nranks, G = Rs * pp;
        int *ep = ifb_xcalloc((size_t)G, sizeof *ep, "the pipeline stages' endpoints");
        for (int s = 0; s < pp; s++)
            for (int r = 0; r < Rs; r++)
                ep[s * Rs + r] = s * Rs + p->endpoint[r];
        free(p->endpoint);
        p->endpoint = ep;
        p->nranks = G;
        p->nservers = nservers;
    }
    return 0;
}

static int build_stage(ifb_parallel *p, const ifb_model *m, const ifb_par_cfg *c, int nservers,
                       int gpus_per_server, ifb_err *e)
{
    memset(p, 0, sizeof *p);
    if (nservers < 1 || gpus_per_server < 1)
        return ifb_err_set(e, NULL, 0, "topology", "at least one server with one GPU",
                           "%d servers x %d GPUs", nservers, gpus_per_server);
    int G = nservers * gpus_per_server;
    p->layout = c->layout;
    p->nranks = G;
    p->nservers = nservers;
    p->gpus_per_server = gpus_per_server;
    p->topo_gpus_per_server = gpus_per_server;
    char exp[160];
    if (c->layout == IFB_LAYOUT_DP_EP) {
        if (c->tp != 1 && c->tp != 0)
            return bad(e, c, "tp", "1 with layout dp-ep (attention is data parallel)", "%ld", c->tp,
                       0);
        p->tp = 1;
        p->dp = G;
        p->moe_tp = 1;
        if (c->dp && c->dp != G) {
            snprintf(exp, sizeof exp, "%d (one instance per GPU with layout dp-ep) or absent", G);
            return bad(e, c, "dp", exp, "%ld", c->dp, 0);
        }
        p->ep = c->ep ? c->ep : G;
        if (p->ep < 1 || G % p->ep) {
            snprintf(exp, sizeof exp, "a divisor of the %d GPUs (%d servers x %d)", G, nservers,
                     gpus_per_server);
            return bad(e, c, "ep", exp, "%ld", p->ep, 0);
        }
        if (p->ep > gpus_per_server && p->ep % gpus_per_server) {
            snprintf(exp, sizeof exp, "whole servers (a multiple of %d) when larger than one",
                     gpus_per_server);
            return bad(e, c, "ep", exp, "%ld", p->ep, 0);
        }
        if (m->experts == 0 && p->ep > 1)
            return bad(e, c, "ep", "1 for a dense model (it has no experts)", "%ld", p->ep, 0);
        if (c->redundant && (m->experts == 0 || p->ep < 2))
            return bad(e, c, "redundant_experts",
                       "0 without expert parallelism (a dense model or ep 1)", "%ld", c->redundant,
                       0);
        if (m->experts && m->experts + c->redundant < p->ep) {
            snprintf(exp, sizeof exp,
                     "at most the model's %lld routed experts + %d redundant_experts (one slot "
                     "per rank at least)",
                     (long long)m->experts, c->redundant);
            return bad(e, c, "ep", exp, "%ld", p->ep, 0);
        }
    } else if (c->layout == IFB_LAYOUT_DP_TP) {
        /* attention data parallel per GPU; the MoE FFN tensor parallel over groups of `tp` */
        int g = c->tp ? c->tp : G;
        if (g < 1 || G % g) {
            snprintf(exp, sizeof exp, "a divisor of the %d GPUs (%d servers x %d)", G, nservers,
                     gpus_per_server);
            return bad(e, c, "tp", exp, "%ld", g, 0);
        }
        if (g > gpus_per_server && g % gpus_per_server) {
            snprintf(exp, sizeof exp, "whole servers (a multiple of %d) when larger than one",
                     gpus_per_server);
            return bad(e, c, "tp", exp, "%ld", g, 0);
        }
        if (m->moe_ffn_dim % g) {
            snprintf(exp, sizeof exp, "a divisor of the expert FFN size %lld",
                     (long long)m->moe_ffn_dim);
            return bad(e, c, "tp", exp, "%ld", g, 0);
        }
        if (c->ep > 1)
            return bad(e, c, "ep", "1 or absent with layout dp-tp (experts are split tp ways)",
                       "%ld", c->ep, 0);
        if (c->redundant)
            return bad(e, c, "redundant_experts",
                       "0 with layout dp-tp (it has no expert parallelism)", "%ld", c->redundant,
                       0);
        if (c->dp && c->dp != G) {
            snprintf(exp, sizeof exp, "%d (one instance per GPU with layout dp-tp) or absent", G);
            return bad(e, c, "dp", exp, "%ld", c->dp, 0);
        }
        p->tp = 1;
        p->dp = G;
        p->ep = 1;
        p->moe_tp = g;
    } else {
        p->tp = c->tp ? c->tp : G;
        if (p->tp < 1 || G % p->tp) {
            snprintf(exp, sizeof exp, "a divisor of the %d GPUs (%d servers x %d)", G, nservers,
                     gpus_per_server);
            return bad(e, c, "tp", exp, "%ld", p->tp, 0);
        }
        if (m->heads % p->tp) {
            snprintf(exp, sizeof exp, "a divisor of the model's %lld attention heads",
                     (long long)m->heads);
            return bad(e, c, "tp", exp, "%ld", p->tp, 0);
        }
        p->dp = G / p->tp;
        if (c->dp && c->dp != p->dp) {
            snprintf(exp, sizeof exp, "GPUs / tp = %d or absent", p->dp);
            return bad(e, c, "dp", exp, "%ld", c->dp, 0);
        }
        if (c->ep > 1)
            return bad(e, c, "ep", "1 or absent with layout tp (experts are split tp ways)", "%ld",
                       c->ep, 0);
        if (c->redundant)
            return bad(e, c, "redundant_experts", "0 with layout tp (it has no expert parallelism)",
                       "%ld", c->redundant, 0);
        p->ep = 1;
        p->moe_tp = p->tp;
    }
    p->endpoint = ifb_xcalloc((size_t)G, sizeof *p->endpoint, "the GPU endpoints");
    for (int r = 0; r < G; r++)
        p->endpoint[r] = r;
    p->experts = (int)m->experts;
    p->redundant = p->layout == IFB_LAYOUT_DP_EP ? c->redundant : 0;
    p->placement = c->placement;
    if (m->experts) {
        p->expert_rank =
            ifb_xcalloc((size_t)m->experts, sizeof *p->expert_rank, "the expert placement");
        /* the layer-independent map (uniform loads); `load` placement is redone per layer */
        ifb_eplb pl;
        if (ifb_eplb_place(&pl, (int)m->experts, p->redundant, p->ep, c->placement, NULL, e))
            return -1;
        for (int x = 0; x < (int)m->experts; x++)
            p->expert_rank[x] = pl.slot_rank[pl.rep[pl.rep_off[x]]];
        p->slots_per_rank = pl.max_slots;
        ifb_eplb_free(&pl);
    }
    return 0;
}

int ifb_parallel_memory(ifb_parallel *p, const ifb_model *m, const ifb_gpu *g, ifb_dtype wdt,
                        ifb_dtype kvdt, int mtp, double reserve, int64_t min_tokens, ifb_err *e)
{
    ifb_weight_bytes wb;
    ifb_model_weight_bytes(m, wdt, mtp, &wb);
    double routed = 0;
    if (m->experts) {
        double moe_layers = (double)m->moe_layers + (mtp ? (double)m->mtp_layers : 0);
        routed = moe_layers * (double)m->experts * ifb_model_expert_bytes(m, wdt);
    }
    double kvtok = (double)ifb_model_kv_bytes_per_token(m, kvdt);
    if (mtp && m->mtp_layers)
        kvtok += (double)m->mtp_layers * (double)ifb_model_kv_bytes_per_token_layer(m, kvdt);
    if (p->layout == IFB_LAYOUT_DP_TP) {
        /* every GPU holds attention and dense layers whole, its 1/tp of every expert (routed
         * and shared) */
        double shared = m->experts ? ((double)m->moe_layers + (mtp ? (double)m->mtp_layers : 0)) *
                                         (double)m->lp.shared * (double)ifb_dtype_bytes(wdt)
                                   : 0;
        if (shared > wb.total - routed)
            shared = 0;
        p->weight_bytes = wb.total - (routed + shared) + (routed + shared) / p->moe_tp;
    } else if (p->layout == IFB_LAYOUT_DP_EP) {
        if (!p->redundant && m->experts % p->ep == 0)
            p->weight_bytes = wb.total - routed + routed / p->ep;
        else /* the fullest rank's slots */
            p->weight_bytes =
                wb.total - routed + routed / (double)m->experts * (double)p->slots_per_rank;
    } else {
        p->weight_bytes = wb.total / p->tp;
        if (m->attn == IFB_ATTN_GQA) {
            /* K/V heads split tp ways, replicated when there are fewer heads than ranks. */
            int64_t kvh = m->kv_heads > 0 ? m->kv_heads : m->heads;
            double per = ceil((double)kvh / p->tp) / (double)kvh;
            kvtok *= per;
        } /* MLA: the single latent "head" is replicated on every TP rank */
    }
    if (p->pp > 1) {
        /* a GPU holds its stage's layers; the embedding and LM head (on the first and last
         * stage) are both counted, the worst case */
        int lmax = 0;
        for (int i = 0; i < p->pp; i++) {
            int n = p->pp_first[i + 1] - p->pp_first[i] + (i == p->pp - 1 && mtp ? 1 : 0);
            if (n > lmax)
                lmax = n;
        }
        double all = (double)m->layers + (mtp ? (double)m->mtp_layers : 0);
        double nonlayer = (double)(m->embed_params + m->lm_head_params + m->final_norm_params) *
                          2.0 / (p->layout == IFB_LAYOUT_TP ? p->tp : 1);
        p->weight_bytes = (p->weight_bytes - nonlayer) * lmax / all + nonlayer;
        kvtok *= lmax / all;
    }
    p->kv_bytes_per_token = kvtok;
    p->reserve_bytes = reserve;
    if (ifb_gpu_memory_check(g, p->weight_bytes, (double)min_tokens * kvtok, reserve, e)) {
        char msg[sizeof e->msg];
        snprintf(msg, sizeof msg, "%s", e->msg);
        char lay[64];
        if (p->layout == IFB_LAYOUT_DP_EP)
            snprintf(lay, sizeof lay, "dp-ep with ep %d", p->ep);
        else
            snprintf(lay, sizeof lay, "tp %d", p->tp);
        return ifb_err_msg(e,
                           "%s (%s weights) on %d GPUs as %s, with a KV cache for the longest "
                           "request (%lld tokens) and the activation reserve: %s",
                           m->name, ifb_dtype_name(wdt), p->nranks, lay, (long long)min_tokens,
                           msg);
    }
    p->kv_bytes = g->hbm_bytes - p->weight_bytes - reserve;
    p->kv_tokens = (int64_t)floor(p->kv_bytes / kvtok);
    return 0;
}
