/* LLM architecture model: reads a Hugging Face config.json and derives what serving needs.
 * Models: parameter counts (total, active per token, per layer part), weight bytes by dtype
 * (FP8 with 128x128 block scales, or BF16), KV-cache bytes per token (MLA latent or GQA K/V),
 * expert-parallel dispatch/combine payload per token copy, FLOPs per token per layer part for
 * prefill and decode as a function of context length, and bytes read per decode step.
 * Architectures: DeepSeek-V3/R1 (deepseek_v3, MLA + MoE + MTP), Qwen3-MoE (qwen3_moe), Mixtral
 * (mixtral), dense Llama-style (llama).
 * Leaves out: element-wise work (norms, RoPE, activations, softmax), which costs no matmul FLOPs;
 * biases in FLOPs; quantisation of activations; sliding-window attention (Mixtral's config has
 * none); vision towers and anything else a config may carry that is not a decoder layer.
 *
 * Counting conventions (they reproduce DeepSeek's 671 B total / 37 B active):
 * - total_params and active_params are the main model: embedding + lm_head + final norm + all
 *   decoder layers. The multi-token-prediction (MTP) module is NOT included; it is mtp_params
 *   (DeepSeek-V3's model card: 671 B main model + 14 B MTP module = 685 B on Hugging Face; the 14 B
 *   counts the MTP's own copies of embedding and head, which share weights and are not counted
 *   here, so mtp_params is 11.6 B for R1).
 * - Active per token counts embedding and lm_head in full (as DeepSeek does), attention of every
 *   layer, the dense FFNs, and in each MoE layer the router, the shared experts and top-k routed
 *   experts. DeepSeek-R1: 671,026,419,200 total and 37,552,297,472 active.
 * - Norm weights (and DeepSeek's router bias) are counted in parameters; they are 0.002% of R1. */
#ifndef IFB_WORKLOAD_MODEL_H
#define IFB_WORKLOAD_MODEL_H
#include <stdint.h>

#include "core/err.h"
#include "workload/gpu.h"

#define IFB_MODEL_MAX_LAYERS 1024

typedef enum ifb_arch {
    IFB_ARCH_DEEPSEEK_V3,
    IFB_ARCH_QWEN3_MOE,
    IFB_ARCH_MIXTRAL,
    IFB_ARCH_LLAMA
} ifb_arch;

typedef enum ifb_attn_kind { IFB_ATTN_GQA, IFB_ATTN_MLA } ifb_attn_kind;

/* Prefill: the attention runs in its expanded (MHA) form; decode: MLA runs absorbed (see
 * ifb_model_token_flops). */
typedef enum ifb_phase { IFB_PHASE_PREFILL, IFB_PHASE_DECODE } ifb_phase;

/* Parameters of one decoder layer, by part. */
typedef struct ifb_layer_params {
    int64_t attn;      /* projections (+ biases) + MLA's q_a/kv_a norms or Qwen3's q/k norms */
    int64_t norms;     /* input and post-attention RMSNorm weights */
    int64_t dense_ffn; /* gate + up + down of a dense layer's MLP */
    int64_t expert;    /* one routed expert: gate + up + down */
    int64_t shared;    /* all shared experts of one MoE layer together */
    int64_t router;    /* gate matrix (experts x hidden), plus DeepSeek's per-expert score bias */
} ifb_layer_params;

typedef struct ifb_model {
    char name[256];      /* file path, or the name given to ifb_model_load_string */
    char model_type[32]; /* as in the config */
    ifb_arch arch;
    ifb_attn_kind attn;
    int64_t hidden, layers, vocab;
    int64_t heads, kv_heads, head_dim; /* GQA (MLA: heads only) */
    int64_t q_lora_rank, kv_lora_rank, qk_rope_dim, qk_nope_dim, v_head_dim; /* MLA */
    int64_t ffn_dim;             /* dense MLP intermediate size */
    int64_t moe_ffn_dim;         /* per-expert intermediate size */
    int64_t experts;             /* routed experts per MoE layer; 0 for a dense model */
    int64_t shared_experts;      /* shared experts per MoE layer (DeepSeek: 1) */
    int64_t experts_per_tok;     /* top-k */
    int64_t n_group, topk_group; /* group-limited routing; 1 and 1 when the config has none */
    int64_t dense_layers, moe_layers, mtp_layers;
    int attn_bias, mlp_bias, qk_norm, tie_embeddings;
    ifb_dtype weight_dtype; /* the checkpoint's: FP8 if quantization_config says fp8, else BF16 */
    int64_t quant_block;    /* FP8 weight block edge (128 for DeepSeek); 0 if not quantised */
    unsigned char layer_is_moe[IFB_MODEL_MAX_LAYERS];
    ifb_layer_params lp;
    int64_t embed_params, lm_head_params, final_norm_params;
    int64_t mtp_params;    /* all MTP modules, without the shared embedding and head */
    int64_t total_params;  /* main model, see the counting conventions above */
    int64_t active_params; /* per token, main model */
} ifb_model;

/* Loads a Hugging Face config.json. Returns 0, or -1 with e naming the file, the key, what was
 * expected and what was found (the line is known only for JSON syntax errors). */
int ifb_model_load(ifb_model *m, const char *path, ifb_err *e);
/* Same, from a JSON text; name stands for the file name in messages. */
int ifb_model_load_string(ifb_model *m, const char *json, const char *name, ifb_err *e);

const char *ifb_arch_name(ifb_arch a);

/* Parameters of layer i (0-based) that one token uses; 0 for i out of range. */
int64_t ifb_model_layer_active_params(const ifb_model *m, int layer);
/* All parameters of layer i. */
int64_t ifb_model_layer_params(const ifb_model *m, int layer);

/* Weight storage. Matrices of attention, dense FFN and experts (routed and shared) are stored in
 * the given dtype; with FP8 each matrix also carries one FP32 scale per 128x128 block (counted
 * in `scales`, rounded up per matrix). Embedding, lm_head, norms, router and MTP's eh_proj stay
 * BF16 (`other`), as in DeepSeek's FP8 checkpoint. */
typedef struct ifb_weight_bytes {
    double linear, scales, other, total;
} ifb_weight_bytes;
void ifb_model_weight_bytes(const ifb_model *m, ifb_dtype linear_dtype, int include_mtp,
                            ifb_weight_bytes *out);
/* Bytes of one routed expert in the given dtype, scales included for FP8. */
double ifb_model_expert_bytes(const ifb_model *m, ifb_dtype dtype);

/* KV cache per token. MLA: (kv_lora_rank + qk_rope_head_dim) values per layer (the compressed
 * latent and the shared RoPE key); GQA: 2 x kv_heads x head_dim. FP8 counts one byte per value
 * and no scales. The per-token figure covers the main layers; an MTP layer adds one more layer. */
int64_t ifb_model_kv_bytes_per_token_layer(const ifb_model *m, ifb_dtype kv_dtype);
int64_t ifb_model_kv_bytes_per_token(const ifb_model *m, ifb_dtype kv_dtype);

/* Expert-parallel payload of one token copy. Dispatch in FP8: hidden bytes + one FP32 scale per
 * 128 values (R1: 7168 + 56 x 4 = 7392 B); in BF16/FP16: 2 x hidden; FP32: 4 x hidden. Combine uses
 * the same rule (BF16 in practice: 14,336 B for R1). Payload only: DeepEP's low-latency kernels
 * add a 16-byte header (source index) per message, the normal kernels carry top-k indices and
 * weights separately; transport headers belong to the network model. */
int64_t ifb_model_dispatch_bytes(const ifb_model *m, ifb_dtype dtype);
int64_t ifb_model_combine_bytes(const ifb_model *m, ifb_dtype dtype);

/* Matmul FLOPs (2 per multiply-add), by part. */
typedef struct ifb_flops {
    double
        attn_proj; /* q/k/v/o projections (MLA: q_a, q_b, kv_a, kv_b or its absorbed halves, o) */
    double attn_core; /* Q.K^T and P.V over the context */
    double dense_ffn;
    double routed; /* the top-k routed experts */
    double shared;
    double router;
    double lm_head;
    double total;
} ifb_flops;

/* FLOPs of one token in layer `layer` that attends to `ctx` keys (its own included, ctx >= 1).
 * GQA: core = 4 x heads x head_dim x ctx in either phase.
 * MLA prefill (expanded/MHA form, what FlashAttention-style prefill kernels run): kv_b_proj
 * expands the token's latent to per-head K_nope and V; core = 2 x heads x (nope + rope) x ctx +
 * 2 x heads x v_head_dim x ctx.
 * MLA decode (absorbed form, what FlashMLA runs): W_UK is folded into the query and W_UV applied
 * after attention, so attention runs over the cached latent itself:
 * core = 2 x heads x (kv_lora + rope) x ctx + 2 x heads x kv_lora x ctx (R1: 278,528 x ctx per
 * layer); the absorbed W_UK/W_UV products cost the same FLOPs as kv_b_proj.
 * lm_head is 0 here. Returns 0, or -1 for a layer out of range or ctx < 1 (out zeroed). */
int ifb_model_token_flops(const ifb_model *m, int layer, ifb_phase phase, double ctx,
                          ifb_flops *out);

/* Whole forward pass of `n` new tokens of one sequence that follow `prefix` cached tokens:
 * token j (1..n) attends to prefix + j keys, so core work grows with n x prefix + n(n+1)/2.
 * In prefill with MLA, the prefix's cached latents are expanded by kv_b_proj once per chunk
 * (counted in attn_proj). lm_head runs for 1 token in prefill (only the last position needs
 * logits) and for all n in decode (n > 1 with speculative/MTP verification). MTP layers are not
 * included. Returns 0, or -1 if n < 1 or prefix < 0 (out zeroed). */
int ifb_model_chunk_flops(const ifb_model *m, ifb_phase phase, double n, double prefix,
                          ifb_flops *out);

/* Expected number of distinct routed experts of one MoE layer that `tokens` tokens select,
 * with independent uniform top-k routing: E x (1 - (1 - k/E)^tokens). Group limits ignored. */
double ifb_model_experts_touched(const ifb_model *m, double tokens);

/* HBM bytes read by one decode step of `batch` sequences, each with `ctx` cached tokens: the
 * weights of every part used (attention, dense FFN, shared experts, routers, lm_head, the touched
 * routed experts, embedding rows) and the KV cache, on one model replica. */
typedef struct ifb_step_bytes {
    double attn, dense_ffn, routed, shared, router, embed_lm_head, kv_cache, total;
    double experts_touched; /* per MoE layer */
} ifb_step_bytes;
int ifb_model_decode_bytes(const ifb_model *m, double batch, double ctx, ifb_dtype weight_dtype,
                           ifb_dtype kv_dtype, ifb_step_bytes *out);

#endif
