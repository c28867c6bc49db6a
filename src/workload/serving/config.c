/* Defaults of the serving configuration (see config.h). The values are documented with the
 * keys in src/scenario/serving_cfg.c (IFB_SERVING_KEYS_DOC).
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
    o->accept_length = 1.8;
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
    o->deploy.router = IFB_ROUTER_LEAST_REQUESTS;
    /* Mooncake Transfer Engine defaults: slice_size 65536 B, num_qp_per_ep 2
     * (kvcache-ai/Mooncake, mooncake-transfer-engine/include/config.h, GlobalConfig). */
    o->deploy.kv.chunk = 65536;
    o->deploy.kv.connections = 2;
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

const char *ifb_router_name(ifb_router_policy p)
{
    static const char *const n[] = {"least-requests", "round-robin", "least-tokens", "least-kv"};
    return p >= 0 && p <= IFB_ROUTER_LEAST_KV ? n[p] : "?";
}
