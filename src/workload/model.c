/* Hugging Face config.json reader and the derived figures of an LLM (see model.h).
 * Every count is first computed in double from validated integers; the loader rejects models whose
 * parameter count would exceed 1e15, so every intermediate product is an integer below 2^53 and
 * exact, and the int64 results never overflow however hostile the input. */
#include "workload/model.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define DIM_MAX 16777216.0 /* 2^24: no real dimension comes close */
#define PARAMS_MAX 1e15    /* keeps all arithmetic exact in double (2^53 = 9.0e15) */
#define SUPPORTED "one of deepseek_v3, qwen3_moe, mixtral, llama"

/* ---- JSON access with errors that name file and key ---- */

typedef struct cfg {
    const char *file;
    json_t *root;
    ifb_err *e;
} cfg;

static void describe(const json_t *v, char *buf, size_t n)
{
    if (!v) {
        snprintf(buf, n, "no such key");
        return;
    }
    switch (json_typeof(v)) {
    case JSON_STRING:
        snprintf(buf, n, "string \"%.60s\"", json_string_value(v));
        break;
    case JSON_INTEGER:
        snprintf(buf, n, "%lld", (long long)json_integer_value(v));
        break;
    case JSON_REAL:
        snprintf(buf, n, "%.17g", json_real_value(v));
        break;
    case JSON_TRUE:
        snprintf(buf, n, "true");
        break;
    case JSON_FALSE:
        snprintf(buf, n, "false");
        break;
    case JSON_NULL:
        snprintf(buf, n, "null");
        break;
    case JSON_ARRAY:
        snprintf(buf, n, "an array");
        break;
    case JSON_OBJECT:
        snprintf(buf, n, "an object");
        break;
    }
}

static int bad(const cfg *c, const char *key, const char *expected, const json_t *v)
{
    char found[160];
    describe(v, found, sizeof found);
    return ifb_err_set(c->e, c->file, 0, key, expected, "%s", found);
}

/* An integer (or an integral real such as 128.0) in [lo, hi]. */
static int as_int(const cfg *c, const char *key, const json_t *v, double lo, double hi,
                  int64_t *out)
{
    char expected[128];
    if (hi >= DIM_MAX)
        snprintf(expected, sizeof expected, "an integer >= %.0f", lo);
    else
        snprintf(expected, sizeof expected, "an integer in [%.0f, %.0f]", lo, hi);
    double x;
    if (json_is_integer(v))
        x = (double)json_integer_value(v);
    else if (json_is_real(v) && json_real_value(v) == floor(json_real_value(v)))
        x = json_real_value(v);
    else
        return bad(c, key, expected, v);
    if (!(x >= lo && x <= hi)) {
        if (x > hi && hi >= DIM_MAX)
            snprintf(expected, sizeof expected, "an integer in [%.0f, %.0f]", lo, hi);
        return bad(c, key, expected, v);
    }
    *out = (int64_t)x;
    return 0;
}

static int get_int(const cfg *c, const char *key, double lo, double hi, int64_t *out)
{
    return as_int(c, key, json_object_get(c->root, key), lo, hi, out);
}

/* Absent or null gives def. */
static int opt_int(const cfg *c, const char *key, double lo, double hi, int64_t def, int64_t *out)
{
    const json_t *v = json_object_get(c->root, key);
    if (!v || json_is_null(v)) {
        *out = def;
        return 0;
    }
    return as_int(c, key, v, lo, hi, out);
}

/* Key must be present; null gives 0 (DeepSeek-V2-Lite writes "q_lora_rank": null). */
static int get_int_or_null(const cfg *c, const char *key, double lo, double hi, int64_t *out)
{
    const json_t *v = json_object_get(c->root, key);
    if (json_is_null(v)) {
        *out = 0;
        return 0;
    }
    if (!v) {
        char expected[128];
        snprintf(expected, sizeof expected, "an integer >= %.0f or null", lo);
        return bad(c, key, expected, v);
    }
    return as_int(c, key, v, lo, hi, out);
}

static int opt_bool(const cfg *c, const char *key, int def, int *out)
{
    const json_t *v = json_object_get(c->root, key);
    if (!v || json_is_null(v)) {
        *out = def;
        return 0;
    }
    if (!json_is_boolean(v))
        return bad(c, key, "true or false", v);
    *out = json_is_true(v);
    return 0;
}

/* Absent or null gives NULL. */
static int opt_string(const cfg *c, const char *key, const char **out)
{
    const json_t *v = json_object_get(c->root, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return bad(c, key, "a string", v);
    *out = json_string_value(v);
    return 0;
}

static int contradiction(const cfg *c, const char *key, const char *expected_fmt, double a,
                         double found)
{
    char expected[200];
    snprintf(expected, sizeof expected, expected_fmt, a);
    return ifb_err_set(c->e, c->file, 0, key, expected, "%.0f", found);
}

/* ---- parameter arithmetic (doubles holding exact integers) ---- */

typedef struct part {
    double lin;    /* elements of the matrices that are stored in the weight dtype */
    double blocks; /* quantisation blocks of those matrices (one FP32 scale each in FP8) */
    double other;  /* BF16 elements: norms, biases, router */
} part;

/* Adds a rows x cols matrix; FP8 checkpoints keep one scale per edge x edge block of it. */
static void add_mat(const ifb_model *m, part *p, double rows, double cols)
{
    double edge = m->quant_block > 0 ? (double)m->quant_block : 128.0;
    p->lin += rows * cols;
    p->blocks += ceil(rows / edge) * ceil(cols / edge);
}

static part attn_part(const ifb_model *m)
{
    part p = {0, 0, 0};
    double h = (double)m->hidden, H = (double)m->heads;
    if (m->attn == IFB_ATTN_MLA) {
        double qk = (double)(m->qk_nope_dim + m->qk_rope_dim);
        if (m->q_lora_rank > 0) {
            add_mat(m, &p, (double)m->q_lora_rank, h);
            add_mat(m, &p, H * qk, (double)m->q_lora_rank);
            p.other += (double)m->q_lora_rank; /* q_a_layernorm */
        } else {
            add_mat(m, &p, H * qk, h);
        }
        add_mat(m, &p, (double)(m->kv_lora_rank + m->qk_rope_dim), h); /* kv_a_proj_with_mqa */
        p.other += (double)m->kv_lora_rank;                            /* kv_a_layernorm */
        add_mat(m, &p, H * (double)(m->qk_nope_dim + m->v_head_dim), (double)m->kv_lora_rank);
        add_mat(m, &p, h, H * (double)m->v_head_dim); /* o_proj */
    } else {
        double hd = (double)m->head_dim, kv = (double)m->kv_heads;
        add_mat(m, &p, H * hd, h);
        add_mat(m, &p, kv * hd, h);
        add_mat(m, &p, kv * hd, h);
        add_mat(m, &p, h, H * hd);
        if (m->attn_bias)
            p.other += H * hd + 2 * kv * hd + h;
        if (m->qk_norm)
            p.other += 2 * hd;
    }
    return p;
}

static part mlp_part(const ifb_model *m, double inter, int bias)
{
    part p = {0, 0, 0};
    double h = (double)m->hidden;
    add_mat(m, &p, inter, h); /* gate */
    add_mat(m, &p, inter, h); /* up */
    add_mat(m, &p, h, inter); /* down */
    if (bias)
        p.other += 2 * inter + h;
    return p;
}

static part dense_part(const ifb_model *m)
{
    return mlp_part(m, (double)m->ffn_dim, m->mlp_bias);
}
static part expert_part(const ifb_model *m)
{
    return mlp_part(m, (double)m->moe_ffn_dim, 0);
}

/* DeepSeek's shared experts form one MLP of n_shared x moe_intermediate_size. */
static part shared_part(const ifb_model *m)
{
    part p = {0, 0, 0};
    if (m->shared_experts > 0)
        p = mlp_part(m, (double)(m->shared_experts * m->moe_ffn_dim), 0);
    return p;
}

static double router_params(const ifb_model *m, int score_bias)
{
    return (double)m->experts * (double)m->hidden + (score_bias ? (double)m->experts : 0);
}

static double part_params(part p)
{
    return p.lin + p.other;
}

/* ---- loading ---- */

static int parse_gqa_heads(const cfg *c, ifb_model *m, int kv_required, int head_dim_required)
{
    if (get_int(c, "num_attention_heads", 1, DIM_MAX, &m->heads))
        return -1;
    if (kv_required) {
        if (get_int(c, "num_key_value_heads", 1, DIM_MAX, &m->kv_heads))
            return -1;
    } else if (opt_int(c, "num_key_value_heads", 1, DIM_MAX, m->heads, &m->kv_heads)) {
        return -1;
    }
    if (m->kv_heads > m->heads || m->heads % m->kv_heads != 0)
        return contradiction(c, "num_key_value_heads", "a divisor of num_attention_heads (%.0f)",
                             (double)m->heads, (double)m->kv_heads);
    if (head_dim_required) {
        if (get_int(c, "head_dim", 1, DIM_MAX, &m->head_dim))
            return -1;
    } else {
        if (opt_int(c, "head_dim", 1, DIM_MAX, 0, &m->head_dim))
            return -1;
        if (m->head_dim == 0) {
            if (m->hidden % m->heads != 0)
                return contradiction(c, "num_attention_heads",
                                     "a divisor of hidden_size (%.0f) when head_dim is absent",
                                     (double)m->hidden, (double)m->heads);
            m->head_dim = m->hidden / m->heads;
        }
    }
    return 0;
}

static int check_topk(const cfg *c, ifb_model *m, const char *experts_key)
{
    if (m->experts_per_tok > m->experts) {
        char expected[128];
        snprintf(expected, sizeof expected, "at most %s (%lld)", experts_key,
                 (long long)m->experts);
        return ifb_err_set(c->e, c->file, 0, "num_experts_per_tok", expected, "%lld",
                           (long long)m->experts_per_tok);
    }
    return 0;
}

static int parse_deepseek(const cfg *c, ifb_model *m)
{
    m->attn = IFB_ATTN_MLA;
    int64_t first_k = 0, freq = 1;
    if (get_int(c, "num_attention_heads", 1, DIM_MAX, &m->heads) ||
        opt_int(c, "num_key_value_heads", 1, DIM_MAX, m->heads, &m->kv_heads) ||
        get_int_or_null(c, "q_lora_rank", 1, DIM_MAX, &m->q_lora_rank) ||
        get_int(c, "kv_lora_rank", 1, DIM_MAX, &m->kv_lora_rank) ||
        get_int(c, "qk_rope_head_dim", 1, DIM_MAX, &m->qk_rope_dim) ||
        get_int(c, "qk_nope_head_dim", 1, DIM_MAX, &m->qk_nope_dim) ||
        get_int(c, "v_head_dim", 1, DIM_MAX, &m->v_head_dim) ||
        get_int(c, "intermediate_size", 1, DIM_MAX, &m->ffn_dim) ||
        get_int(c, "moe_intermediate_size", 1, DIM_MAX, &m->moe_ffn_dim) ||
        get_int(c, "n_routed_experts", 1, 65536, &m->experts) ||
        get_int(c, "n_shared_experts", 0, 64, &m->shared_experts) ||
        get_int(c, "num_experts_per_tok", 1, 65536, &m->experts_per_tok) ||
        get_int(c, "first_k_dense_replace", 0, (double)m->layers, &first_k) ||
        get_int(c, "n_group", 1, 65536, &m->n_group) ||
        get_int(c, "topk_group", 1, 65536, &m->topk_group) ||
        opt_int(c, "moe_layer_freq", 1, (double)m->layers, 1, &freq) ||
        opt_int(c, "num_nextn_predict_layers", 0, 16, 0, &m->mtp_layers))
        return -1;
    m->head_dim = m->qk_nope_dim + m->qk_rope_dim;
    if (check_topk(c, m, "n_routed_experts"))
        return -1;
    if (m->topk_group > m->n_group)
        return contradiction(c, "topk_group", "at most n_group (%.0f)", (double)m->n_group,
                             (double)m->topk_group);
    if (m->experts % m->n_group != 0)
        return contradiction(c, "n_group", "a divisor of n_routed_experts (%.0f)",
                             (double)m->experts, (double)m->n_group);
    int64_t reachable = m->topk_group * (m->experts / m->n_group);
    if (m->experts_per_tok > reachable) {
        char expected[160];
        snprintf(expected, sizeof expected,
                 "at most topk_group x experts per group (%lld x %lld = %lld)",
                 (long long)m->topk_group, (long long)(m->experts / m->n_group),
                 (long long)reachable);
        return ifb_err_set(c->e, c->file, 0, "num_experts_per_tok", expected, "%lld",
                           (long long)m->experts_per_tok);
    }
    for (int64_t i = 0; i < m->layers; i++)
        m->layer_is_moe[i] = (i >= first_k && i % freq == 0);

    /* FP8 checkpoints: quantization_config {quant_method: fp8, weight_block_size: [128, 128]}. */
    const json_t *q = json_object_get(c->root, "quantization_config");
    if (q && !json_is_null(q)) {
        if (!json_is_object(q))
            return bad(c, "quantization_config", "an object", q);
        const json_t *meth = json_object_get(q, "quant_method");
        if (meth && !json_is_string(meth))
            return bad(c, "quantization_config.quant_method", "a string", meth);
        if (meth && strcmp(json_string_value(meth), "fp8") == 0) {
            m->weight_dtype = IFB_DTYPE_FP8;
            m->quant_block = 128;
            const json_t *bs = json_object_get(q, "weight_block_size");
            if (bs) {
                int64_t b0 = 0, b1 = 0;
                cfg qc = {c->file, (json_t *)q, c->e};
                if (!json_is_array(bs) || json_array_size(bs) != 2)
                    return bad(c, "quantization_config.weight_block_size",
                               "an array of two equal integers", bs);
                if (as_int(&qc, "quantization_config.weight_block_size[0]", json_array_get(bs, 0),
                           1, 65536, &b0) ||
                    as_int(&qc, "quantization_config.weight_block_size[1]", json_array_get(bs, 1),
                           1, 65536, &b1))
                    return -1;
                if (b0 != b1)
                    return contradiction(c, "quantization_config.weight_block_size[1]",
                                         "equal to weight_block_size[0] (%.0f)", (double)b0,
                                         (double)b1);
                m->quant_block = b0;
            }
        }
    }
    return 0;
}

static int parse_qwen3_moe(const cfg *c, ifb_model *m)
{
    m->qk_norm = 1;
    int64_t step = 1;
    if (parse_gqa_heads(c, m, 1, 1) || get_int(c, "num_experts", 1, 65536, &m->experts) ||
        get_int(c, "num_experts_per_tok", 1, 65536, &m->experts_per_tok) ||
        get_int(c, "moe_intermediate_size", 1, DIM_MAX, &m->moe_ffn_dim) ||
        opt_int(c, "decoder_sparse_step", 1, (double)m->layers, 1, &step) ||
        opt_bool(c, "attention_bias", 0, &m->attn_bias))
        return -1;
    if (check_topk(c, m, "num_experts"))
        return -1;
    for (int64_t i = 0; i < m->layers; i++)
        m->layer_is_moe[i] = ((i + 1) % step == 0);
    const json_t *only = json_object_get(c->root, "mlp_only_layers");
    if (only && !json_is_null(only)) {
        if (!json_is_array(only))
            return bad(c, "mlp_only_layers", "an array of layer indices", only);
        for (size_t k = 0; k < json_array_size(only); k++) {
            char key[64];
            int64_t idx;
            snprintf(key, sizeof key, "mlp_only_layers[%zu]", k);
            if (as_int(c, key, json_array_get(only, k), 0, (double)m->layers - 1, &idx))
                return -1;
            m->layer_is_moe[idx] = 0;
        }
    }
    int any_dense = 0;
    for (int64_t i = 0; i < m->layers; i++)
        any_dense |= !m->layer_is_moe[i];
    /* The dense MLP size matters only if some layer is dense. */
    if (any_dense)
        return get_int(c, "intermediate_size", 1, DIM_MAX, &m->ffn_dim);
    return opt_int(c, "intermediate_size", 1, DIM_MAX, 0, &m->ffn_dim);
}

static int parse_mixtral(const cfg *c, ifb_model *m)
{
    if (parse_gqa_heads(c, m, 1, 0) || get_int(c, "num_local_experts", 1, 65536, &m->experts) ||
        get_int(c, "num_experts_per_tok", 1, 65536, &m->experts_per_tok) ||
        get_int(c, "intermediate_size", 1, DIM_MAX, &m->moe_ffn_dim))
        return -1;
    if (check_topk(c, m, "num_local_experts"))
        return -1;
    for (int64_t i = 0; i < m->layers; i++)
        m->layer_is_moe[i] = 1;
    return 0;
}

static int parse_llama(const cfg *c, ifb_model *m)
{
    return parse_gqa_heads(c, m, 0, 0) ||
                   get_int(c, "intermediate_size", 1, DIM_MAX, &m->ffn_dim) ||
                   opt_bool(c, "attention_bias", 0, &m->attn_bias) ||
                   opt_bool(c, "mlp_bias", 0, &m->mlp_bias)
               ? -1
               : 0;
}

/* Fills the derived counts; returns -1 if the model is implausibly large. */
static int derive(const cfg *c, ifb_model *m)
{
    int bias = m->arch == IFB_ARCH_DEEPSEEK_V3;
    double h = (double)m->hidden;
    double attn = part_params(attn_part(m)), norms = 2 * h;
    double dense = m->ffn_dim > 0 ? part_params(dense_part(m)) : 0;
    double expert = m->experts > 0 ? part_params(expert_part(m)) : 0;
    double shared = part_params(shared_part(m));
    double router = m->experts > 0 ? router_params(m, bias) : 0;
    double embed = (double)m->vocab * h, head = m->tie_embeddings ? 0 : (double)m->vocab * h;
    double moe_all = router + (double)m->experts * expert + shared;
    double moe_act = router + (double)m->experts_per_tok * expert + shared;
    double total = embed + head + h, active = total;
    for (int64_t i = 0; i < m->layers; i++) {
        total += attn + norms + (m->layer_is_moe[i] ? moe_all : dense);
        active += attn + norms + (m->layer_is_moe[i] ? moe_act : dense);
    }
    /* One MTP module: enorm, hnorm, eh_proj (2h -> h), one MoE decoder layer, shared_head.norm. */
    double mtp = (double)m->mtp_layers * (3 * h + 2 * h * h + attn + norms + moe_all);
    if (!(total + mtp <= PARAMS_MAX))
        return ifb_err_set(c->e, c->file, 0, "(model size)",
                           "at most 1e15 parameters (the sizes look wrong)", "%.3g", total + mtp);
    m->lp.attn = (int64_t)attn;
    m->lp.norms = (int64_t)norms;
    m->lp.dense_ffn = (int64_t)dense;
    m->lp.expert = (int64_t)expert;
    m->lp.shared = (int64_t)shared;
    m->lp.router = (int64_t)router;
    m->embed_params = (int64_t)embed;
    m->lm_head_params = (int64_t)head;
    m->final_norm_params = m->hidden;
    m->mtp_params = (int64_t)mtp;
    m->total_params = (int64_t)total;
    m->active_params = (int64_t)active;
    m->dense_layers = m->moe_layers = 0;
    for (int64_t i = 0; i < m->layers; i++)
        *(m->layer_is_moe[i] ? &m->moe_layers : &m->dense_layers) += 1;
    return 0;
}

static int load_root(ifb_model *m, json_t *root, const char *file, ifb_err *e)
{
    cfg c = {file, root, e};
    memset(m, 0, sizeof *m);
    snprintf(m->name, sizeof m->name, "%s", file);
    m->n_group = m->topk_group = 1;
    m->weight_dtype = IFB_DTYPE_BF16;
    if (!json_is_object(root))
        return bad(&c, "(top level)", "a JSON object", root);

    const json_t *mt = json_object_get(root, "model_type");
    if (!json_is_string(mt))
        return bad(&c, "model_type", "a string, " SUPPORTED, mt);
    const char *type = json_string_value(mt);
    static const struct {
        const char *name;
        ifb_arch arch;
    } archs[] = {{"deepseek_v3", IFB_ARCH_DEEPSEEK_V3},
                 {"qwen3_moe", IFB_ARCH_QWEN3_MOE},
                 {"mixtral", IFB_ARCH_MIXTRAL},
                 {"llama", IFB_ARCH_LLAMA}};
    int found = -1;
    for (int i = 0; i < 4; i++)
        if (strcmp(type, archs[i].name) == 0)
            found = i;
    if (found < 0)
        return bad(&c, "model_type", SUPPORTED, mt);
    m->arch = archs[found].arch;
    snprintf(m->model_type, sizeof m->model_type, "%s", type);

    const char *torch_dtype;
    if (get_int(&c, "hidden_size", 1, DIM_MAX, &m->hidden) ||
        get_int(&c, "num_hidden_layers", 1, IFB_MODEL_MAX_LAYERS, &m->layers) ||
        get_int(&c, "vocab_size", 1, DIM_MAX, &m->vocab) ||
        opt_bool(&c, "tie_word_embeddings", 0, &m->tie_embeddings) ||
        opt_string(&c, "torch_dtype", &torch_dtype))
        return -1;
    if (torch_dtype && ifb_dtype_parse(torch_dtype, "torch_dtype", &m->weight_dtype, e) < 0)
        return ifb_err_set(e, file, 0, "torch_dtype", "bfloat16, float16 or float32",
                           "string \"%.60s\"", torch_dtype);

    int rc = 0;
    switch (m->arch) {
    case IFB_ARCH_DEEPSEEK_V3:
        rc = parse_deepseek(&c, m);
        break;
    case IFB_ARCH_QWEN3_MOE:
        rc = parse_qwen3_moe(&c, m);
        break;
    case IFB_ARCH_MIXTRAL:
        rc = parse_mixtral(&c, m);
        break;
    case IFB_ARCH_LLAMA:
        rc = parse_llama(&c, m);
        break;
    }
    if (rc)
        return -1;
    return derive(&c, m);
}

static int json_fail(const json_error_t *je, const char *file, ifb_err *e)
{
    if (json_error_code(je) == json_error_cannot_open_file)
        return ifb_err_set(e, file, 0, "file", "a readable config.json", "%s", je->text);
    return ifb_err_set(e, file, je->line > 0 ? je->line : 0, "JSON", "a valid JSON document",
                       "%s (column %d)", je->text, je->column);
}

int ifb_model_load(ifb_model *m, const char *path, ifb_err *e)
{
    if (!path)
        return ifb_err_msg(e, "model: no config path given");
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return json_fail(&je, path, e);
    int rc = load_root(m, root, path, e);
    json_decref(root);
    return rc;
}

int ifb_model_load_string(ifb_model *m, const char *json, const char *name, ifb_err *e)
{
    const char *file = name ? name : "(string)";
    if (!json)
        return ifb_err_msg(e, "%s: no JSON text given", file);
    json_error_t je;
    json_t *root = json_loads(json, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return json_fail(&je, file, e);
    int rc = load_root(m, root, file, e);
    json_decref(root);
    return rc;
}

const char *ifb_arch_name(ifb_arch a)
{
    switch (a) {
    case IFB_ARCH_DEEPSEEK_V3:
        return "deepseek_v3";
    case IFB_ARCH_QWEN3_MOE:
        return "qwen3_moe";
    case IFB_ARCH_MIXTRAL:
        return "mixtral";
    case IFB_ARCH_LLAMA:
        return "llama";
    }
    return "?";
}

/* ---- derived figures ---- */

static int layer_ok(const ifb_model *m, int layer)
{
    return layer >= 0 && layer < m->layers;
}

int64_t ifb_model_layer_active_params(const ifb_model *m, int layer)
{
    if (!layer_ok(m, layer))
        return 0;
    int64_t p = m->lp.attn + m->lp.norms;
    if (m->layer_is_moe[layer])
        return p + m->lp.router + m->experts_per_tok * m->lp.expert + m->lp.shared;
    return p + m->lp.dense_ffn;
}

int64_t ifb_model_layer_params(const ifb_model *m, int layer)
{
    if (!layer_ok(m, layer))
        return 0;
    int64_t p = m->lp.attn + m->lp.norms;
    if (m->layer_is_moe[layer])
        return p + m->lp.router + m->experts * m->lp.expert + m->lp.shared;
    return p + m->lp.dense_ffn;
}

/* Bytes of a part whose matrices are stored in dtype d (plus FP8 block scales) and whose other
 * elements are BF16. */
static double part_bytes(part p, ifb_dtype d)
{
    double scales = d == IFB_DTYPE_FP8 ? 4 * p.blocks : 0;
    return p.lin * ifb_dtype_bytes(d) + scales + 2 * p.other;
}

double ifb_model_expert_bytes(const ifb_model *m, ifb_dtype dtype)
{
    return m->experts > 0 ? part_bytes(expert_part(m), dtype) : 0;
}

void ifb_model_weight_bytes(const ifb_model *m, ifb_dtype linear_dtype, int include_mtp,
                            ifb_weight_bytes *out)
{
    part a = attn_part(m), d = dense_part(m), x = expert_part(m), s = shared_part(m);
    part sum = {0, 0, 0};
    double layers_all = (double)m->layers + (include_mtp ? (double)m->mtp_layers : 0);
    double moe_all = (double)m->moe_layers + (include_mtp ? (double)m->mtp_layers : 0);
    sum.lin = layers_all * a.lin + (double)m->dense_layers * d.lin +
              moe_all * ((double)m->experts * x.lin + s.lin);
    sum.blocks = layers_all * a.blocks + (double)m->dense_layers * d.blocks +
                 moe_all * ((double)m->experts * x.blocks + s.blocks);
    double all_params = (double)m->total_params + (include_mtp ? (double)m->mtp_params : 0);
    out->linear = sum.lin * ifb_dtype_bytes(linear_dtype);
    out->scales = part_bytes((part){0, sum.blocks, 0}, linear_dtype);
    out->other = 2 * (all_params - sum.lin);
    out->total = out->linear + out->scales + out->other;
}

int64_t ifb_model_kv_bytes_per_token_layer(const ifb_model *m, ifb_dtype kv_dtype)
{
    int64_t values =
        m->attn == IFB_ATTN_MLA ? m->kv_lora_rank + m->qk_rope_dim : 2 * m->kv_heads * m->head_dim;
    return values * ifb_dtype_bytes(kv_dtype);
}

int64_t ifb_model_kv_bytes_per_token(const ifb_model *m, ifb_dtype kv_dtype)
{
    return ifb_model_kv_bytes_per_token_layer(m, kv_dtype) * m->layers;
}

int64_t ifb_model_dispatch_bytes(const ifb_model *m, ifb_dtype dtype)
{
    if (dtype == IFB_DTYPE_FP8)
        return m->hidden + (m->hidden + 127) / 128 * 4; /* one FP32 scale per 128 values */
    return m->hidden * ifb_dtype_bytes(dtype);
}

int64_t ifb_model_combine_bytes(const ifb_model *m, ifb_dtype dtype)
{
    return ifb_model_dispatch_bytes(m, dtype);
}

static void flops_total(ifb_flops *f)
{
    f->total =
        f->attn_proj + f->attn_core + f->dense_ffn + f->routed + f->shared + f->router + f->lm_head;
}

/* Attention-core FLOPs for `keys` query-key pairs summed over the queries. */
static double core_flops(const ifb_model *m, ifb_phase phase, double keys)
{
    double H = (double)m->heads;
    if (m->attn == IFB_ATTN_GQA)
        return 4 * H * (double)m->head_dim * keys;
    if (phase == IFB_PHASE_DECODE) /* absorbed: scores over latent + rope, context over latent */
        return 2 * H * (double)(m->kv_lora_rank + m->qk_rope_dim) * keys +
               2 * H * (double)m->kv_lora_rank * keys;
    return 2 * H * (double)(m->qk_nope_dim + m->qk_rope_dim) * keys +
           2 * H * (double)m->v_head_dim * keys;
}

/* Per-token matmul FLOPs of a layer other than the attention core. */
static void layer_linear_flops(const ifb_model *m, int layer, ifb_flops *f)
{
    f->attn_proj = 2 * attn_part(m).lin;
    if (m->layer_is_moe[layer]) {
        f->routed = 2 * (double)m->experts_per_tok * expert_part(m).lin;
        f->shared = 2 * shared_part(m).lin;
        f->router = 2 * (double)m->experts * (double)m->hidden;
    } else {
        f->dense_ffn = 2 * dense_part(m).lin;
    }
}

int ifb_model_token_flops(const ifb_model *m, int layer, ifb_phase phase, double ctx,
                          ifb_flops *out)
{
    memset(out, 0, sizeof *out);
    if (!layer_ok(m, layer) || !(ctx >= 1))
        return -1;
    layer_linear_flops(m, layer, out);
    out->attn_core = core_flops(m, phase, ctx);
    flops_total(out);
    return 0;
}

int ifb_model_chunk_flops(const ifb_model *m, ifb_phase phase, double n, double prefix,
                          ifb_flops *out)
{
    memset(out, 0, sizeof *out);
    if (!(n >= 1) || !(prefix >= 0))
        return -1;
    double keys = n * prefix + n * (n + 1) / 2;
    for (int i = 0; i < m->layers; i++) {
        ifb_flops l = {0};
        layer_linear_flops(m, i, &l);
        out->attn_proj += n * l.attn_proj;
        out->dense_ffn += n * l.dense_ffn;
        out->routed += n * l.routed;
        out->shared += n * l.shared;
        out->router += n * l.router;
        out->attn_core += core_flops(m, phase, keys);
        if (m->attn == IFB_ATTN_MLA && phase == IFB_PHASE_PREFILL)
            out->attn_proj += 2 * (double)m->kv_lora_rank * (double)m->heads *
                              (double)(m->qk_nope_dim + m->v_head_dim) * prefix;
    }
    out->lm_head = (phase == IFB_PHASE_PREFILL ? 1 : n) * 2 * (double)m->hidden * (double)m->vocab;
    flops_total(out);
    return 0;
}

double ifb_model_experts_touched(const ifb_model *m, double tokens)
{
    if (m->experts == 0 || !(tokens > 0))
        return 0;
    double E = (double)m->experts, k = (double)m->experts_per_tok;
    return E * (1 - pow(1 - k / E, tokens));
}

int ifb_model_decode_bytes(const ifb_model *m, double batch, double ctx, ifb_dtype weight_dtype,
                           ifb_dtype kv_dtype, ifb_step_bytes *out)
{
    memset(out, 0, sizeof *out);
    if (!(batch >= 1) || !(ctx >= 0))
        return -1;
    double L = (double)m->layers, M = (double)m->moe_layers, h = (double)m->hidden;
    out->experts_touched = ifb_model_experts_touched(m, batch);
    out->attn = L * (part_bytes(attn_part(m), weight_dtype) + 2 * (double)m->lp.norms);
    out->dense_ffn = (double)m->dense_layers * part_bytes(dense_part(m), weight_dtype);
    out->routed = M * out->experts_touched * ifb_model_expert_bytes(m, weight_dtype);
    out->shared = M * part_bytes(shared_part(m), weight_dtype);
    out->router = M * 2 * (double)m->lp.router;
    /* lm_head is read whole; the embedding only for the batch's rows; BF16 as in checkpoints. */
    out->embed_lm_head =
        2 *
        ((m->tie_embeddings ? (double)m->embed_params : (double)m->lm_head_params) + batch * h + h);
    out->kv_cache = batch * ctx * (double)ifb_model_kv_bytes_per_token(m, kv_dtype);
    out->total = out->attn + out->dense_ffn + out->routed + out->shared + out->router +
                 out->embed_lm_head + out->kv_cache;
    return 0;
}
