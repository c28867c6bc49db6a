/* Tests for the model reader (workload/model.c): parameter counts of DeepSeek-R1, Qwen3-235B-A22B,
 * Mixtral-8x7B and a Llama-3-8B-shaped config against published figures and hand-written
 * formulas; KV-cache, dispatch and combine bytes; weight bytes; FLOPs in prefill and decode; bytes
 * per decode step; and error messages for unknown architectures, missing keys, wrong types,
 * contradictions and malformed JSON (every key of every shipped config is corrupted in turn). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload/model.h"

#define R1 IFB_SOURCE_DIR "/data/models/deepseek-r1-config.json"
#define QWEN IFB_SOURCE_DIR "/data/models/qwen3-235b-a22b-config.json"
#define MIXTRAL IFB_SOURCE_DIR "/data/models/mixtral-8x7b-v0.1-config.json"

static void load_ok(ifb_model *m, const char *path)
{
    ifb_err e = {{0}};
    int rc = ifb_model_load(m, path, &e);
    if (rc != 0)
        fail_msg("%s: %s", path, e.msg);
}

static void assert_within(double x, double ref, double rel)
{
    if (!(fabs(x - ref) <= rel * ref))
        fail_msg("%.6g is not within %.3g%% of %.6g", x, rel * 100, ref);
}

static void assert_contains(const char *msg, const char *part)
{
    if (!strstr(msg, part))
        fail_msg("message \"%s\" does not contain \"%s\"", msg, part);
}

/* ---- DeepSeek-R1 ---- */

static void test_r1_totals(void **state)
{
    (void)state;
    ifb_model m;
    load_ok(&m, R1);
    assert_int_equal(m.arch, IFB_ARCH_DEEPSEEK_V3);
    assert_int_equal(m.attn, IFB_ATTN_MLA);
    assert_within((double)m.total_params, 671.0e9, 0.005);
    assert_within((double)m.active_params, 37.6e9, 0.005);
    /* Exact values of the counting documented in model.h. */
    assert_true(m.total_params == INT64_C(671026419200));
    assert_true(m.active_params == INT64_C(37552297472));
    /* The MTP module is outside the 671 B: with it the model would be 682.6 B. */
    assert_true(m.mtp_layers == 1);
    assert_true(m.total_params + m.mtp_params > INT64_C(682000000000));
    assert_true(m.dense_layers == 3 && m.moe_layers == 58 && m.layers == 61);
    for (int i = 0; i < 61; i++)
        assert_int_equal(m.layer_is_moe[i], i >= 3);
    assert_int_equal(m.weight_dtype, IFB_DTYPE_FP8);
    assert_true(m.quant_block == 128);
}

static void test_r1_layer_parts(void **state)
{
    (void)state;
    ifb_model m;
    load_ok(&m, R1);
    assert_true(m.lp.expert == INT64_C(3) * 7168 * 2048);
    assert_true(m.lp.shared == INT64_C(3) * 7168 * 2048);
    assert_true(m.lp.dense_ffn == INT64_C(3) * 7168 * 18432);
    assert_true(m.lp.router == INT64_C(256) * 7168 + 256);
    int64_t attn = INT64_C(7168) * 1536 + 1536        /* q_a_proj + q_a_layernorm */
                   + INT64_C(1536) * 128 * (128 + 64) /* q_b_proj */
                   + INT64_C(7168) * (512 + 64) + 512 /* kv_a_proj_with_mqa + kv_a_layernorm */
                   + INT64_C(512) * 128 * (128 + 128) /* kv_b_proj */
                   + INT64_C(128) * 128 * 7168;       /* o_proj */
    assert_true(m.lp.attn == attn);
    assert_true(m.embed_params == INT64_C(129280) * 7168);
    assert_true(m.lm_head_params == INT64_C(129280) * 7168);
    /* Dense layer 0 and MoE layer 3, one token. */
    assert_true(ifb_model_layer_active_params(&m, 0) == attn + 2 * 7168 + m.lp.dense_ffn);
    assert_true(ifb_model_layer_active_params(&m, 3) ==
                attn + 2 * 7168 + m.lp.router + 9 * m.lp.expert);
    assert_true(ifb_model_layer_params(&m, 60) ==
                attn + 2 * 7168 + m.lp.router + 257 * m.lp.expert);
    assert_true(ifb_model_layer_params(&m, 61) == 0);
    assert_true(ifb_model_layer_params(&m, -1) == 0);
}

static void test_r1_bytes_per_token(void **state)
{
    (void)state;
    ifb_model m;
    load_ok(&m, R1);
    assert_true(ifb_model_kv_bytes_per_token(&m, IFB_DTYPE_BF16) == 70272);
    assert_true(ifb_model_kv_bytes_per_token(&m, IFB_DTYPE_FP8) == 35136);
    assert_true(ifb_model_kv_bytes_per_token_layer(&m, IFB_DTYPE_BF16) == 1152);
    assert_true(ifb_model_dispatch_bytes(&m, IFB_DTYPE_FP8) == 7392);
    assert_true(ifb_model_dispatch_bytes(&m, IFB_DTYPE_BF16) == 14336);
    assert_true(ifb_model_combine_bytes(&m, IFB_DTYPE_BF16) == 14336);
}

static void test_r1_weight_bytes(void **state)
{
    (void)state;
    ifb_model m;
    load_ok(&m, R1);
    ifb_weight_bytes fp8, bf16, mtp;
    ifb_model_weight_bytes(&m, IFB_DTYPE_FP8, 0, &fp8);
    ifb_model_weight_bytes(&m, IFB_DTYPE_BF16, 0, &bf16);
    ifb_model_weight_bytes(&m, IFB_DTYPE_FP8, 1, &mtp);
    /* BF16: two bytes per parameter, no scales. */
    assert_true(bf16.scales == 0);
    assert_true(bf16.total == 2.0 * (double)m.total_params);
    /* FP8: the matrices at one byte, the rest (embedding, head, norms, routers) at two. */
    assert_true(fp8.linear == bf16.linear / 2);
    assert_true(fp8.other == bf16.other);
    assert_within(fp8.other, 2.0 * (2.0 * 129280 * 7168 + 58 * (256.0 * 7168 + 256)), 0.001);
    /* One FP32 scale per 128x128 block: about 4 / 16384 of the FP8 bytes. */
    assert_within(fp8.scales, fp8.linear * 4 / 16384, 0.02);
    assert_within(fp8.total, 673.15e9, 0.001);
    assert_true(mtp.total > fp8.total + 11e9 && mtp.total < fp8.total + 12e9);
    /* One expert: 3 x 7168 x 2048 bytes + 3 x 16 x 56 scales. */
    assert_true(ifb_model_expert_bytes(&m, IFB_DTYPE_FP8) == 3.0 * 7168 * 2048 + 3 * 16 * 56 * 4);
}

static void test_r1_flops(void **state)
{
    (void)state;
    ifb_model m;
    load_ok(&m, R1);
    ifb_flops d, p;
    assert_int_equal(ifb_model_token_flops(&m, 10, IFB_PHASE_DECODE, 4096, &d), 0);
    assert_int_equal(ifb_model_token_flops(&m, 10, IFB_PHASE_PREFILL, 4096, &p), 0);
    /* Absorbed MLA decode: 2 x 128 x 576 x ctx scores + 2 x 128 x 512 x ctx context. */
    assert_true(d.attn_core == (2.0 * 128 * 576 + 2.0 * 128 * 512) * 4096);
    /* Expanded prefill: 2 x 128 x 192 x ctx + 2 x 128 x 128 x ctx. */
    assert_true(p.attn_core == (2.0 * 128 * 192 + 2.0 * 128 * 128) * 4096);
    assert_true(d.routed == 2.0 * 8 * 3 * 7168 * 2048);
    assert_true(d.shared == 2.0 * 3 * 7168 * 2048);
    assert_true(d.router == 2.0 * 256 * 7168);
    assert_true(d.dense_ffn == 0);
    assert_true(d.attn_proj == p.attn_proj);
    ifb_flops dense;
    assert_int_equal(ifb_model_token_flops(&m, 0, IFB_PHASE_DECODE, 1, &dense), 0);
    assert_true(dense.dense_ffn == 2.0 * 3 * 7168 * 18432 && dense.routed == 0);
    assert_int_equal(ifb_model_token_flops(&m, 61, IFB_PHASE_DECODE, 1, &dense), -1);
    assert_int_equal(ifb_model_token_flops(&m, 0, IFB_PHASE_DECODE, 0, &dense), -1);

    /* One decode token = sum of its layers + lm_head; linear FLOPs = 2 x active params minus
     * what costs no matmul (embedding lookup, norms, MLA norms, router bias). */
    ifb_flops c;
    assert_int_equal(ifb_model_chunk_flops(&m, IFB_PHASE_DECODE, 1, 4095, &c), 0);
    double sum = 0;
    for (int i = 0; i < 61; i++) {
        ifb_flops l;
        ifb_model_token_flops(&m, i, IFB_PHASE_DECODE, 4096, &l);
        sum += l.total;
    }
    assert_true(fabs(c.total - (sum + 2.0 * 7168 * 129280)) <= 1e-9 * c.total);
    double linear = c.total - c.attn_core;
    assert_within(linear, 2.0 * ((double)m.active_params - (double)m.embed_params), 0.0005);

    /* Prefill of 4 tokens: keys 1 + 2 + 3 + 4 per layer, logits for the last token only. */
    assert_int_equal(ifb_model_chunk_flops(&m, IFB_PHASE_PREFILL, 4, 0, &c), 0);
    assert_true(fabs(c.attn_core - 61 * (2.0 * 128 * 192 + 2.0 * 128 * 128) * 10) < 1);
    assert_true(c.lm_head == 2.0 * 7168 * 129280);
    /* Chunked prefill after 100 cached tokens: keys 4 x 100 + 10, and the prefix latents are
     * expanded by kv_b_proj once. */
    ifb_flops c2;
    ifb_model_chunk_flops(&m, IFB_PHASE_PREFILL, 4, 100, &c2);
    assert_true(fabs(c2.attn_core - 61 * (2.0 * 128 * 192 + 2.0 * 128 * 128) * 410) < 1);
    assert_true(fabs(c2.attn_proj - c.attn_proj - 61 * 2.0 * 512 * 128 * 256 * 100) < 1);
    assert_int_equal(ifb_model_chunk_flops(&m, IFB_PHASE_PREFILL, 0, 0, &c2), -1);
}

static void test_r1_decode_bytes(void **state)
{
    (void)state;
    ifb_model m;
    load_ok(&m, R1);
    ifb_step_bytes b;
    assert_int_equal(ifb_model_decode_bytes(&m, 1, 0, IFB_DTYPE_FP8, IFB_DTYPE_BF16, &b), 0);
    /* One token touches exactly top-k = 8 routed experts per MoE layer. */
    assert_true(fabs(b.experts_touched - 8) < 1e-9);
    assert_true(fabs(b.routed - 58 * 8 * ifb_model_expert_bytes(&m, IFB_DTYPE_FP8)) < 1);
    assert_true(b.kv_cache == 0);
    /* About the active parameters less the embedding table, at ~1 byte each (lm_head BF16). */
    assert_true(b.total > 34e9 && b.total < 39e9);
    ifb_step_bytes b2;
    ifb_model_decode_bytes(&m, 2, 1000, IFB_DTYPE_FP8, IFB_DTYPE_BF16, &b2);
    assert_true(b2.kv_cache == 2.0 * 1000 * 70272);
    /* A large batch touches almost all 256 experts, never more. */
    ifb_model_decode_bytes(&m, 4096, 0, IFB_DTYPE_FP8, IFB_DTYPE_BF16, &b2);
    assert_true(b2.experts_touched > 255.9 && b2.experts_touched <= 256);
    assert_true(ifb_model_experts_touched(&m, 0) == 0);
    assert_int_equal(ifb_model_decode_bytes(&m, 0, 0, IFB_DTYPE_FP8, IFB_DTYPE_BF16, &b2), -1);
}

/* ---- other architectures ---- */

static void test_qwen3(void **state)
{
    (void)state;
    ifb_model m;
    load_ok(&m, QWEN);
    assert_int_equal(m.arch, IFB_ARCH_QWEN3_MOE);
    assert_within((double)m.total_params, 235e9, 0.01);
    assert_within((double)m.active_params, 22e9, 0.01);
    assert_true(m.moe_layers == 94 && m.dense_layers == 0);
    assert_true(m.lp.expert == INT64_C(3) * 4096 * 1536);
    /* q, k, v, o + q_norm, k_norm */
    assert_true(m.lp.attn == INT64_C(4096) * 8192 * 2 + INT64_C(4096) * 512 * 2 + 256);
    assert_true(ifb_model_kv_bytes_per_token(&m, IFB_DTYPE_BF16) == 2 * 4 * 128 * 94 * 2);
    assert_int_equal(m.weight_dtype, IFB_DTYPE_BF16);
    ifb_flops f;
    ifb_model_token_flops(&m, 0, IFB_PHASE_DECODE, 100, &f);
    assert_true(f.attn_core == 4.0 * 64 * 128 * 100);
}

static void test_mixtral(void **state)
{
    (void)state;
    ifb_model m;
    load_ok(&m, MIXTRAL);
    assert_int_equal(m.arch, IFB_ARCH_MIXTRAL);
    assert_within((double)m.total_params, 46.7e9, 0.01);
    assert_within((double)m.active_params, 12.9e9, 0.01);
    assert_true(m.head_dim == 128 && m.kv_heads == 8 && m.experts == 8 && m.experts_per_tok == 2);
    assert_true(m.lp.expert == INT64_C(3) * 4096 * 14336);
    assert_true(ifb_model_kv_bytes_per_token(&m, IFB_DTYPE_BF16) == 2 * 8 * 128 * 32 * 2);
}

static const char *llama3_8b =
    "{\"model_type\": \"llama\", \"hidden_size\": 4096, \"num_hidden_layers\": 32,"
    " \"num_attention_heads\": 32, \"num_key_value_heads\": 8, \"intermediate_size\": 14336,"
    " \"vocab_size\": 128256, \"tie_word_embeddings\": false, \"torch_dtype\": \"bfloat16\"}";

static void test_llama_dense(void **state)
{
    (void)state;
    ifb_model m;
    ifb_err e = {{0}};
    assert_int_equal(ifb_model_load_string(&m, llama3_8b, "llama3-8b.json", &e), 0);
    /* Meta's Llama-3-8B: 8,030,261,248 parameters; dense, so all are active. */
    assert_true(m.total_params == INT64_C(8030261248));
    assert_true(m.active_params == m.total_params);
    assert_true(m.experts == 0 && m.moe_layers == 0 && m.dense_layers == 32);
    assert_true(ifb_model_dispatch_bytes(&m, IFB_DTYPE_FP8) == 4096 + 32 * 4);
    ifb_step_bytes b;
    ifb_model_decode_bytes(&m, 8, 0, IFB_DTYPE_BF16, IFB_DTYPE_BF16, &b);
    assert_true(b.routed == 0 && b.experts_touched == 0);
}

/* ---- errors ---- */

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = calloc(1, 1 << 16);
    assert_non_null(buf);
    size_t n = fread(buf, 1, (1 << 16) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Loads `path`, applies `edit` to one key (set to v, or removed if v is NULL), and loads it back.
 */
static int load_edited(const char *path, const char *key, json_t *v, ifb_err *e)
{
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    assert_non_null(root);
    if (v)
        json_object_set_new(root, key, v);
    else
        json_object_del(root, key);
    char *text = json_dumps(root, 0);
    json_decref(root);
    ifb_model m;
    int rc = ifb_model_load_string(&m, text, "edited.json", e);
    free(text);
    return rc;
}

static void expect_error(const char *path, const char *key, json_t *v, const char *part)
{
    ifb_err e = {{0}};
    int rc = load_edited(path, key, v, &e);
    if (rc != -1)
        fail_msg("editing %s did not fail", key);
    assert_contains(e.msg, "edited.json");
    assert_contains(e.msg, part);
}

static void test_errors_unknown_arch(void **state)
{
    (void)state;
    ifb_err e = {{0}};
    ifb_model m;
    assert_int_equal(ifb_model_load_string(&m, "{\"model_type\": \"gpt2\"}", "x.json", &e), -1);
    assert_contains(e.msg, "x.json");
    assert_contains(e.msg, "model_type");
    assert_contains(e.msg, "gpt2");
    assert_contains(e.msg, "deepseek_v3, qwen3_moe, mixtral, llama");
    expect_error(R1, "model_type", json_string("deepseek_v2"), "deepseek_v2");
    expect_error(R1, "model_type", NULL, "model_type");
    expect_error(R1, "model_type", json_integer(3), "model_type");
}

static void test_errors_fields(void **state)
{
    (void)state;
    /* Missing */
    expect_error(R1, "kv_lora_rank", NULL,
                 "kv_lora_rank: expected an integer >= 1, found no such key");
    expect_error(QWEN, "num_experts", NULL, "num_experts");
    expect_error(MIXTRAL, "num_local_experts", NULL, "num_local_experts");
    expect_error(R1, "q_lora_rank", NULL, "q_lora_rank");
    /* Wrong type */
    expect_error(R1, "hidden_size", json_string("7168"),
                 "hidden_size: expected an integer >= 1, found string \"7168\"");
    expect_error(R1, "num_hidden_layers", json_real(61.5), "num_hidden_layers");
    expect_error(MIXTRAL, "tie_word_embeddings", json_string("no"),
                 "tie_word_embeddings: expected true or false");
    expect_error(QWEN, "mlp_only_layers", json_integer(3), "mlp_only_layers");
    /* Zero and negative sizes */
    expect_error(R1, "moe_intermediate_size", json_integer(0),
                 "moe_intermediate_size: expected an integer >= 1, found 0");
    expect_error(R1, "num_hidden_layers", json_integer(-1), "num_hidden_layers");
    expect_error(QWEN, "head_dim", json_integer(-128), "head_dim");
    /* Contradictions */
    expect_error(R1, "num_experts_per_tok", json_integer(300),
                 "num_experts_per_tok: expected at most n_routed_experts (256), found 300");
    expect_error(R1, "topk_group", json_integer(9),
                 "topk_group: expected at most n_group (8), found 9");
    expect_error(R1, "n_group", json_integer(7),
                 "n_group: expected a divisor of n_routed_experts (256)");
    expect_error(R1, "n_group", json_integer(256),
                 "num_experts_per_tok: expected at most topk_group x experts per group (4 x 1 = "
                 "4), found 8");
    expect_error(R1, "first_k_dense_replace", json_integer(62), "first_k_dense_replace");
    expect_error(MIXTRAL, "num_experts_per_tok", json_integer(9),
                 "num_experts_per_tok: expected at most num_local_experts (8)");
    expect_error(QWEN, "num_key_value_heads", json_integer(5),
                 "num_key_value_heads: expected a divisor of num_attention_heads (64)");
    expect_error(QWEN, "mlp_only_layers", json_pack("[i]", 94), "mlp_only_layers[0]");
    /* Absurd sizes are refused before any arithmetic could overflow. */
    expect_error(R1, "vocab_size", json_integer(INT64_C(1) << 40), "vocab_size");
    ifb_err e = {{0}};
    ifb_model m;
    const char *huge =
        "{\"model_type\": \"llama\", \"hidden_size\": 16777216, \"num_hidden_layers\": "
        "1024, \"num_attention_heads\": 1, \"intermediate_size\": 16777216,"
        " \"vocab_size\": 16777216}";
    assert_int_equal(ifb_model_load_string(&m, huge, "huge.json", &e), -1);
    assert_contains(e.msg, "model size");
}

static void test_errors_json(void **state)
{
    (void)state;
    ifb_err e = {{0}};
    ifb_model m;
    assert_int_equal(ifb_model_load_string(&m, "{\n\"model_type\": \"llama\",\n\"hidden_size\": 40",
                                           "bad.json", &e),
                     -1);
    assert_contains(e.msg, "bad.json:3:");
    assert_contains(e.msg, "JSON");
    assert_int_equal(ifb_model_load_string(&m, "[1, 2]", "arr.json", &e), -1);
    assert_contains(e.msg, "a JSON object");
    assert_int_equal(ifb_model_load_string(&m, "{\"a\": 1, \"a\": 2}", "dup.json", &e), -1);
    assert_contains(e.msg, "dup.json");
    assert_int_equal(ifb_model_load(&m, IFB_SOURCE_DIR "/data/models/no-such.json", &e), -1);
    assert_contains(e.msg, "no-such.json");
    assert_int_equal(ifb_model_load_string(&m, NULL, "null.json", &e), -1);
}

/* Every key of every shipped config, replaced by a string, removed, set to 0 or to -7: the loader
 * either accepts the result (the key is optional or unused) or names that key in its message. */
static void test_errors_every_key(void **state)
{
    (void)state;
    const char *paths[] = {R1, QWEN, MIXTRAL};
    int failures_seen = 0;
    for (int p = 0; p < 3; p++) {
        char *text = slurp(paths[p]);
        json_error_t je;
        json_t *root = json_loads(text, 0, &je);
        assert_non_null(root);
        const char *key;
        json_t *val;
        json_object_foreach(root, key, val)
        {
            json_t *subs[] = {json_string("bogus"), NULL, json_integer(0), json_integer(-7)};
            for (int s = 0; s < 4; s++) {
                ifb_err e = {{0}};
                int rc = load_edited(paths[p], key, subs[s], &e);
                if (rc == 0)
                    continue;
                failures_seen++;
                if (!strstr(e.msg, key) &&
                    /* a contradiction reported on the partner key is fine */
                    !strstr(e.msg, "num_experts_per_tok") && !strstr(e.msg, "model size"))
                    fail_msg("%s: editing \"%s\" (variant %d) gave \"%s\"", paths[p], key, s,
                             e.msg);
            }
        }
        json_decref(root);
        free(text);
    }
    assert_true(failures_seen > 60);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_r1_totals),
        cmocka_unit_test(test_r1_layer_parts),
        cmocka_unit_test(test_r1_bytes_per_token),
        cmocka_unit_test(test_r1_weight_bytes),
        cmocka_unit_test(test_r1_flops),
        cmocka_unit_test(test_r1_decode_bytes),
        cmocka_unit_test(test_qwen3),
        cmocka_unit_test(test_mixtral),
        cmocka_unit_test(test_llama_dense),
        cmocka_unit_test(test_errors_unknown_arch),
        cmocka_unit_test(test_errors_fields),
        cmocka_unit_test(test_errors_json),
        cmocka_unit_test(test_errors_every_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
