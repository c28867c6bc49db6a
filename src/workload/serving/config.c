/* Defaults of the serving configuration (see config.h). The values are documented with the
 * keys in src/scenario/serving_keys_doc.c (IFB_SERVING_KEYS_DOC).
 * Leaves out: loading the model and the trace (the scenario layer does). */
#include "workload/serving/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

void ifb_serving_cfg_default(ifb_serving_cfg *o)
{
    memset(o, 0, sizeof *o);
    snprintf(o->key, sizeof o->key, "workload");
    o->weight_dtype = IFB_DTYPE_FP8;
    o->kv_dtype = IFB_DTYPE_BF16;
    o->dispatch_dtype = IFB_DTYPE_FP8;
    o->combine_dtype = IFB_DTYPE_BF16;
    o->reserve_bytes = 8e9;
    o->par.layout = IFB_LAYOUT_DP_EP;
    o->par.tp = 1;
    o->a2a = IFB_A2A_AUTO;
    /* SGLang's DeepSeek MTP recipe: one draft step, top-1, two tokens verified per request
     * (speculative_num_steps 1, eagle_topk 1, num_draft_tokens 2); accept length 1.8 at that
     * setting (LMSYS H20 blog 2025-09-26: 1.8-1.9; shared/reference/workload.md). */
    o->mtp = (ifb_mtp_cfg){0, 1, 1, 2, 1.8};
    o->arrival = IFB_ARRIVAL_CLOSED;
    o->concurrency = 64;
    o->rate = 1;
    o->input = (ifb_len_dist){IFB_LEN_UNIFORM, 512, 1536};
    o->output = (ifb_len_dist){IFB_LEN_UNIFORM, 128, 384};
    o->max_batch = 256;
    o->token_budget = 8192;
    o->chunk = 4096;
    o->requests = 0;
    o->warmup = -1;
    o->routing = IFB_ROUTE_UNIFORM;
    o->zipf_s = 1;
    o->kernel_tables = 1;
    o->eff_compute = 0.6;
    o->eff_memory = 0.8;
    o->sample_every = 1;
    ifb_overhead_cfg_defaults(&o->ovh);
    ifb_deepep_cfg_defaults(&o->deepep);
    o->prefix = (ifb_prefix_cfg){0, 512, -1};
    /* DeepEP tests/test_low_latency.py: 128 tokens per rank, 10 copies masked */
    o->dbench.normal = 0;
    o->dbench.tokens = 128;
    o->dbench.masked = 10;
    o->dbench.per_token = 1;
    o->dbench.topk_groups = 4; /* tests/test_internode.py: min(nodes, 4) groups */
    o->deploy.router = IFB_ROUTER_LEAST_REQUESTS;
    /* Mooncake Transfer Engine defaults: slice_size 65536 B, num_qp_per_ep 2
     * (kvcache-ai/Mooncake, mooncake-transfer-engine/include/config.h, GlobalConfig). */
    o->deploy.kv.chunk = 65536;
    o->deploy.kv.connections = 2;
}

/* The sources of these values are in docs/serving-model.md (one line each there). */
void ifb_overhead_cfg_defaults(ifb_overhead_cfg *o)
{
    o->on = 1;
    /* ASSUMPTION: 0.5 ms of host time per step the overlap scheduler does not hide; measured
     * figures span 0.2-2 ms (RTP-LLM DeepSeek report: ~1.5 ms between steps, <0.2 ms targeted;
     * sglang #5593: ~2 ms GPU bubble before each graph replay), swept in validation. */
    o->host_step = 500 * IFB_US;
    o->cuda_graph = 1;
    o->cuda_graph_max_bs = 160; /* SGLang's default --cuda-graph-max-bs on large GPUs */
    /* ~0.3-0.6 us between the nodes of a replayed graph: sglang #29960 (GPU span minus
     * union-busy over 2,876 nodes, 0.29 us each); a launch probe, ocannl #488 (0.58 us). */
    o->graph_gap = 500 * IFB_NS;
    o->launch = 5 * IFB_US; /* ~5 us per cudaLaunchKernel on the host (nsys guides; 6.4 us
                               measured in ocannl #488) */
    /* fused RMSNorm + FP8 quant of 512 x 4096 tokens: 2.8 us on B200 (sglang #32994); at
     * 16,384 tokens 40 us = 0.63 of B200's 8 TB/s */
    o->kernel_min = 2 * IFB_US;
    o->elem_eff = 0.63;
    o->sampling_passes = 3; /* ASSUMPTION: softmax/temperature, top-k/top-p filter, draw */
}

static void *dup_array(const void *p, size_t n, size_t sz)
{
    if (!p || !n)
        return NULL;
    void *q = ifb_xcalloc(n, sz, "a copy of the serving configuration");
    memcpy(q, p, n * sz);
    return q;
}

void ifb_serving_cfg_free(ifb_serving_cfg *cfg)
{
    if (!cfg)
        return;
    ifb_trace_free(&cfg->trace);
    ifb_routing_file_free(&cfg->routes);
    for (int i = 0; i < cfg->deploy.ngroups; i++) {
        free(cfg->deploy.groups[i].servers);
        free(cfg->deploy.groups[i].gpus);
    }
    free(cfg->deploy.groups);
    cfg->deploy.groups = NULL;
    cfg->deploy.ngroups = 0;
}

void ifb_serving_cfg_copy(ifb_serving_cfg *dst, const ifb_serving_cfg *src)
{
    *dst = *src;
    dst->trace.rows = dup_array(src->trace.rows, src->trace.n, sizeof *src->trace.rows);
    dst->trace.hashes = dup_array(src->trace.hashes, src->trace.nhashes, sizeof *src->trace.hashes);
    dst->routes.load =
        dup_array(src->routes.load, (size_t)src->routes.layers * (size_t)src->routes.experts,
                  sizeof *src->routes.load);
    dst->deploy.groups =
        dup_array(src->deploy.groups, (size_t)src->deploy.ngroups, sizeof *src->deploy.groups);
    for (int i = 0; i < src->deploy.ngroups; i++) {
        ifb_group_cfg *g = &dst->deploy.groups[i];
        const ifb_group_cfg *o = &src->deploy.groups[i];
        g->servers = dup_array(o->servers, (size_t)o->nservers, sizeof *o->servers);
        g->gpus = dup_array(o->gpus, (size_t)o->ngpus, sizeof *o->gpus);
    }
}

const char *ifb_role_name(ifb_role r)
{
    return r == IFB_ROLE_PREFILL ? "prefill" : r == IFB_ROLE_DECODE ? "decode" : "mixed";
}

void ifb_serving_deepep_bench(const ifb_serving_cfg *c, uint64_t seed, ifb_deepep_bench *b)
{
    memset(b, 0, sizeof *b);
    b->normal = c->dbench.normal;
    b->tokens = c->dbench.tokens;
    b->masked = c->dbench.masked;
    b->per_token = c->dbench.per_token;
    b->topk_groups = c->dbench.topk_groups;
    b->topk = (int)c->model.experts_per_tok;
    b->experts = (int)c->model.experts;
    b->hidden = (int)c->model.hidden;
    b->dbytes = (uint64_t)ifb_model_dispatch_bytes(&c->model, c->dispatch_dtype);
    b->cbytes = (uint64_t)ifb_model_combine_bytes(&c->model, c->combine_dtype);
    b->hbm_bps = ifb_gpu_hbm_bw(c->gpu);
    b->cfg = c->deepep;
    b->seed = seed;
}

const char *ifb_overlap_name(ifb_overlap o)
{
    return o == IFB_OVERLAP_TBO ? "tbo" : o == IFB_OVERLAP_SBO ? "sbo" : "none";
}

double ifb_mtp_accept_p(double mean, int depth)
{
    if (depth < 1 || mean <= 1)
        return 0;
    if (mean >= depth + 1)
        return 1;
    /* f(p) = 1 + p + ... + p^depth is increasing on [0, 1]: bisection */
    double lo = 0, hi = 1;
    for (int it = 0; it < 200; it++) {
        double p = (lo + hi) / 2, f = 0, t = 1;
        for (int i = 0; i <= depth; i++, t *= p)
            f += t;
        if (f < mean)
            lo = p;
        else
            hi = p;
    }
    return (lo + hi) / 2;
}

const char *ifb_router_name(ifb_router_policy p)
{
    static const char *const n[] = {"least-requests", "round-robin", "least-tokens", "least-kv"};
    return p >= 0 && p <= IFB_ROUTER_LEAST_KV ? n[p] : "?";
}
