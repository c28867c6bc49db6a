/* Fuzz target: Hugging Face config.json (workload/model.h): the JSON parse, the per-architecture
 * key checks, and every derived figure a run computes from an accepted model (parameters, weight
 * and KV bytes, FLOPs, decode bytes).
 *
 * Input: the JSON text. Invariants (a violation traps): a failure fills its ifb_err; an accepted
 * model's totals add up from its parts as model.h documents (total = embedding + lm_head + final
 * norm + every layer), active <= total, and every derived figure is finite and not negative. */
#include <math.h>

#include "fuzz.h"
#include "workload/model.h"

static void check_flops(const ifb_flops *f)
{
    IFB_FUZZ_CHECK(isfinite(f->total) && f->total >= 0);
}

static void derived(const ifb_model *m)
{
    int64_t sum = m->embed_params + m->lm_head_params + m->final_norm_params;
    for (int i = 0; i < m->layers; i++) {
        int64_t all = ifb_model_layer_params(m, i), act = ifb_model_layer_active_params(m, i);
        IFB_FUZZ_CHECK(all > 0 && act > 0 && act <= all);
        sum += all;
    }
    IFB_FUZZ_CHECK(sum == m->total_params);
    IFB_FUZZ_CHECK(m->active_params > 0 && m->active_params <= m->total_params);
    IFB_FUZZ_CHECK(m->dense_layers + m->moe_layers == m->layers);
    IFB_FUZZ_CHECK(ifb_model_layer_params(m, -1) == 0 &&
                   ifb_model_layer_params(m, (int)m->layers) == 0);

    static const ifb_dtype dt[] = {IFB_DTYPE_FP8, IFB_DTYPE_BF16};
    for (int k = 0; k < 2; k++) {
        ifb_weight_bytes w;
        ifb_model_weight_bytes(m, dt[k], k, &w);
        IFB_FUZZ_CHECK(isfinite(w.total) && w.total > 0);
        double eb = ifb_model_expert_bytes(m, dt[k]);
        IFB_FUZZ_CHECK(isfinite(eb) && eb >= 0);
        IFB_FUZZ_CHECK(ifb_model_kv_bytes_per_token_layer(m, dt[k]) > 0);
        IFB_FUZZ_CHECK(ifb_model_kv_bytes_per_token(m, dt[k]) > 0);
    }
    ifb_flops f;
    for (int ph = 0; ph < 2; ph++) {
        int last = (int)m->layers - 1;
        IFB_FUZZ_CHECK(ifb_model_token_flops(m, 0, (ifb_phase)ph, 1, &f) == 0);
        check_flops(&f);
        IFB_FUZZ_CHECK(ifb_model_token_flops(m, last, (ifb_phase)ph, 131072, &f) == 0);
        check_flops(&f);
        IFB_FUZZ_CHECK(ifb_model_token_flops(m, last + 1, (ifb_phase)ph, 1, &f) == -1);
        IFB_FUZZ_CHECK(ifb_model_token_flops(m, 0, (ifb_phase)ph, 0, &f) == -1);
        IFB_FUZZ_CHECK(ifb_model_chunk_flops(m, (ifb_phase)ph, 4096, 8192, &f) == 0);
        check_flops(&f);
        IFB_FUZZ_CHECK(ifb_model_chunk_flops(m, (ifb_phase)ph, 0, 0, &f) == -1);
    }
    double t = ifb_model_experts_touched(m, 256);
    IFB_FUZZ_CHECK(isfinite(t) && t >= 0 && t <= (double)m->experts);
    ifb_step_bytes sb;
    if (ifb_model_decode_bytes(m, 64, 4096, IFB_DTYPE_FP8, IFB_DTYPE_BF16, &sb) == 0)
        IFB_FUZZ_CHECK(isfinite(sb.total) && sb.total > 0);
    IFB_FUZZ_CHECK(ifb_arch_name(m->arch) != NULL);
}

int ifb_fuzz_model(const uint8_t *data, size_t size)
{
    char *json = ifb_fuzz_strndup(data, size);
    ifb_model *m = ifb_xmalloc(sizeof *m, "a model");
    {
        ifb_err e;
        e.msg[0] = '\0';
        if (ifb_model_load_string(m, json, "config.json", &e) == 0)
            derived(m);
        else
            IFB_FUZZ_CHECK(e.msg[0] != '\0');
        free(m);
    }
    free(json);
    return 0;
}

#ifndef IFB_FUZZ_NO_ENTRY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return ifb_fuzz_model(data, size);
}
#endif
