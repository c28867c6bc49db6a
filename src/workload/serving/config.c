/* Defaults of the serving configuration (see config.h). The values are documented with the
 * keys in src/scenario/serving_cfg.c (IFB_SERVING_KEYS_DOC).
 * Leaves out: loading the model and the trace (the scenario layer does). */
#include "workload/serving/config.h"

#include <stdio.h>
#include <string.h>

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
}

void ifb_serving_cfg_free(ifb_serving_cfg *cfg)
{
    if (cfg)
        ifb_trace_free(&cfg->trace);
}
