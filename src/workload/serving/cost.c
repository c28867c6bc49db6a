/* The compute cost model of the serving engine: time of each kernel of a layer on one GPU, from
 * the measured kernel tables of data/kernels (FP8 GEMMs, grouped GEMMs of the routed experts in
 * decode and prefill, MLA decode attention) where one applies, else a roofline with the
 * configured efficiencies; memoized per kernel and shape. Every lookup of a dense GEMM, the
 * routed experts and MLA decode is counted by where its time came from (a table's sample or
 * interpolation, a table's nearest efficiency on the roofline outside its samples, or the
 * configured roofline), so the summary says which terms were extrapolated. A decode grouped-GEMM
 * table at the model's own routed-expert shape (KT_GGD_X) is used before the main table.
 * FP8 KV (kv_dtype fp8) runs MLA decode as FlashMLA's FP8 path (deepseek-ai/FlashMLA #54, #82:
 * Q and KV in FP8, FP8 WGMMA, the RoPE part of QK^T in BF16): its time is its own roofline (FP8
 * KV bytes, FP8 peak for the latent part, BF16 peak for the RoPE part) divided by the BF16
 * table's roofline efficiency at the same batch and context (ASSUMPTION: the FP8 kernel reaches
 * the same fraction of its roofline as the BF16 kernel does; no public FP8 table was found).
 * Element-wise kernels, launch gaps and sampling are in overheads.c.
 * Leaves out: CPU-side work, and attention load imbalance inside a rank beyond the token
 * counts. */
#include <math.h>

#include "core/embedded.h"
#include "core/rng.h"
#include "workload/serving/internal.h"

static int memo_get(ifb_sv_eng *s, uint64_t key, ifb_time *v)
{
    key++;
    size_t i = ifb_hash64(key) & (MEMO_SIZE - 1);
    while (s->memo[i].key) {
        if (s->memo[i].key == key) {
            *v = s->memo[i].v;
            s->last_src = s->memo[i].src;
            return 1;
        }
        i = (i + 1) & (MEMO_SIZE - 1);
    }
    return 0;
}

static void memo_put(ifb_sv_eng *s, uint64_t key, ifb_time v)
{
    if (s->memo_n * 10 > MEMO_SIZE * 7) {
        memset(s->memo, 0, MEMO_SIZE * sizeof *s->memo);
        s->memo_n = 0;
    }
    key++;
    size_t i = ifb_hash64(key) & (MEMO_SIZE - 1);
    while (s->memo[i].key && s->memo[i].key != key)
        i = (i + 1) & (MEMO_SIZE - 1);
    if (!s->memo[i].key)
        s->memo_n++;
    s->memo[i].key = key;
    s->memo[i].v = v;
    s->memo[i].src = s->last_src;
}

static uint8_t src_of(const ifb_kernel_result *r)
{
    return r->source == IFB_KSRC_ROOFLINE ? KSRC_EXTRAP : KSRC_TABLE;
}

static ifb_dtype compute_dtype(ifb_dtype d)
{
    return d == IFB_DTYPE_FP8 ? d : IFB_DTYPE_BF16;
}

static ifb_time roof(ifb_sv_eng *s, double flops, double bytes, ifb_dtype dt)
{
    return ifb_gpu_op_time(s->cfg.gpu, flops, bytes, compute_dtype(dt), s->cfg.eff_compute,
                           s->cfg.eff_memory);
}

ifb_time ifb_sv_gemm(ifb_sv_eng *s, int id, int64_t m, int64_t k, int64_t n)
{
    if (m <= 0 || k <= 0 || n <= 0)
        return 0;
    s->kcount++;
    uint64_t key = ((uint64_t)id << 56) | (uint64_t)m;
    ifb_time v;
    if (!memo_get(s, key, &v)) {
        ifb_dtype wdt = s->cfg.weight_dtype;
        v = IFB_TIME_NEVER;
        s->last_src = KSRC_ROOF;
        if (s->have_kt[KT_GEMM] && wdt == IFB_DTYPE_FP8) {
            ifb_kernel_shape sh = ifb_kshape_gemm((double)m, (double)k, (double)n);
            ifb_kernel_result r;
            ifb_err e;
            if (ifb_kernel_time(&s->kt[KT_GEMM], &sh, &r, &e) == 0) {
                v = r.time;
                s->last_src = src_of(&r);
            }
        }
        if (v == IFB_TIME_NEVER) {
            double wb = ifb_dtype_bytes(wdt), ab = wdt == IFB_DTYPE_FP8 ? 1 : 2;
            v = roof(s, 2.0 * m * k * n,
                     (double)k * n * wb + (double)m * k * ab + (double)m * n * 2, wdt);
        }
        memo_put(s, key, v);
    }
    s->ksrc[KS_GEMM][s->last_src]++;
    return v;
}

/* One projection of the routed experts of one GPU from table kt (IFB_TIME_NEVER: no answer). */
static ifb_time routed_table(ifb_sv_eng *s, int kt, int proj, double E, double gpus, double K,
                             double h, double inter, double tokens, uint8_t *src)
{
    ifb_kernel_kind kind =
        kt == KT_GGP ? IFB_KERNEL_GROUPED_GEMM_PREFILL : IFB_KERNEL_GROUPED_GEMM_DECODE;
    ifb_kernel_shape sh = ifb_kshape_grouped(kind, proj, E, gpus, K, h, inter, tokens);
    ifb_kernel_result r;
    ifb_err e;
    if (ifb_kernel_time(&s->kt[kt], &sh, &r, &e))
        return IFB_TIME_NEVER;
    *src = src_of(&r);
    return r.time;
}

/* Routed experts of one GPU: `copies` token copies received (dp-ep), or `tokens` tokens with
 * every expert split tp ways (tp). */
void ifb_sv_routed_parts(ifb_sv_eng *s, int64_t copies, int prefill, ifb_time *up, ifb_time *down)
{
    *up = *down = 0;
    if (copies <= 0)
        return;
    s->kcount += 2;
    const ifb_model *m = s->m;
    int tpl = s->par.layout != IFB_LAYOUT_DP_EP; /* experts split moe_tp ways (tp, dp-tp) */
    int id = tpl ? (prefill ? X_ROUTED_TPP : X_ROUTED_TP) : (prefill ? X_GGP : X_GG);
    uint64_t key = ((uint64_t)id << 56) | (uint64_t)copies;
    ifb_time v;
    uint64_t key_dn = key | (1ull << 55); /* the down projection's entry */
    ifb_time vd;
    if (memo_get(s, key, &v) && memo_get(s, key_dn, &vd)) {
        *up = v;
        *down = vd;
        s->ksrc[KS_ROUTED][s->last_src]++;
        return;
    }
    double E = (double)m->experts, K = (double)m->experts_per_tok, h = (double)m->hidden;
    double inter = (double)m->moe_ffn_dim / (tpl ? s->par.moe_tp : 1);
    double gpus = tpl ? 1 : s->par.ep;
    double tokens = tpl ? (double)copies : (double)copies / K;
    ifb_time t[2] = {IFB_TIME_NEVER, IFB_TIME_NEVER};
    uint8_t src = KSRC_ROOF;
    if (s->cfg.weight_dtype == IFB_DTYPE_FP8) {
        int kt = prefill && s->have_kt[KT_GGP] ? KT_GGP : KT_GGD;
        /* the table at the model's own shape first, when it measured this exact shape */
        if (!prefill && s->have_kt[KT_GGD_X]) {
            ifb_kernel_shape sh =
                ifb_kshape_grouped(IFB_KERNEL_GROUPED_GEMM_DECODE, 0, E, gpus, K, h, inter, tokens);
            if (ifb_kernel_has_series(&s->kt[KT_GGD_X], &sh))
                kt = KT_GGD_X;
        }
        for (int proj = 0; proj < 2 && s->have_kt[kt]; proj++)
            t[proj] = routed_table(s, kt, proj, E, gpus, K, h, inter, tokens, &src);
        if (t[0] == IFB_TIME_NEVER || t[1] == IFB_TIME_NEVER)
            src = KSRC_ROOF;
    }
    if (t[0] == IFB_TIME_NEVER || t[1] == IFB_TIME_NEVER) {
        double local = E / gpus;
        double cp = tpl ? tokens * K : (double)copies;
        double touched = local * (1 - pow(1 - 1 / local, cp));
        double wb = ifb_dtype_bytes(s->cfg.weight_dtype);
        /* gate+up: 2 x inter columns, down: inter -> hidden; 2/3 and 1/3 of the work */
        for (int proj = 0; proj < 2; proj++) {
            double share = proj ? 1.0 / 3 : 2.0 / 3;
            t[proj] = roof(s, share * 2.0 * cp * 3 * h * inter,
                           share * touched * 3 * h * inter * wb + cp * h * 2, s->cfg.weight_dtype);
        }
    }
    s->last_src = src;
    memo_put(s, key, t[0]);
    memo_put(s, key_dn, t[1]);
    s->ksrc[KS_ROUTED][src]++;
    *up = t[0];
    *down = t[1];
}

ifb_time ifb_sv_routed_time(ifb_sv_eng *s, int64_t copies, int prefill)
{
    ifb_time up, down;
    ifb_sv_routed_parts(s, copies, prefill, &up, &down);
    return up + down;
}

/* FlashMLA's FP8 path (kernels.h, ifb_kernel_mla_fp8); IFB_TIME_NEVER when the table has no
 * answer. */
static ifb_time mla_fp8(ifb_sv_eng *s, int64_t bq, int64_t kvlen, uint8_t *src)
{
    ifb_kernel_result r;
    ifb_err e;
    if (ifb_kernel_mla_fp8(&s->kt[KT_MLA], (double)bq, (double)kvlen, &r, &e))
        return IFB_TIME_NEVER;
    *src = src_of(&r);
    return r.time;
}

static ifb_time mla_core_decode(ifb_sv_eng *s, int64_t batch, int64_t ctx_sum, int64_t q)
{
    if (batch <= 0)
        return 0;
    s->kcount += 2; /* the kernel and its split-KV combine */
    int64_t kvlen = (ctx_sum + batch - 1) / batch;
    if (kvlen < 1)
        kvlen = 1;
    uint64_t key = ((uint64_t)X_MLA << 56) | ((uint64_t)(batch * q) << 28) | (uint64_t)kvlen;
    ifb_time v;
    if (!memo_get(s, key, &v)) {
        int fp8 = s->cfg.kv_dtype == IFB_DTYPE_FP8;
        v = IFB_TIME_NEVER;
        s->last_src = KSRC_ROOF;
        if (s->have_kt[KT_MLA]) {
            if (fp8) {
                uint8_t src = KSRC_ROOF;
                ifb_time t = mla_fp8(s, batch * q, kvlen, &src);
                if (t != IFB_TIME_NEVER) {
                    v = t;
                    s->last_src = src;
                }
            } else {
                ifb_kernel_shape sh = ifb_kshape_mla_decode(IFB_DTYPE_BF16, s->cfg.kv_dtype,
                                                            (double)(batch * q), (double)kvlen);
                ifb_kernel_result r;
                ifb_err e;
                if (ifb_kernel_time(&s->kt[KT_MLA], &sh, &r, &e) == 0) {
                    v = r.time;
                    s->last_src = src_of(&r);
                }
            }
        }
        if (v == IFB_TIME_NEVER)
            v = roof(s, s->a_dec * (double)ctx_sum * (double)q / s->par.tp,
                     (double)ctx_sum * s->kv_layer_bytes, fp8 ? IFB_DTYPE_FP8 : IFB_DTYPE_BF16);
        memo_put(s, key, v);
    }
    s->ksrc[KS_MLA][s->last_src]++;
    return v;
}

/* Attention of one layer (projections + core) for one chain of one GPU. */
ifb_time ifb_sv_attn_time(ifb_sv_eng *s, const tokset *t)
{
    const ifb_model *m = s->m;
    int64_t td = t->nd * t->q, T = td + t->pf;
    if (T == 0)
        return 0;
    int64_t tp = s->par.tp, h = m->hidden, H = m->heads / tp;
    ifb_time v = 0;
    if (m->attn == IFB_ATTN_MLA) {
        int64_t qk = m->qk_nope_dim + m->qk_rope_dim, kvl = m->kv_lora_rank;
        if (m->q_lora_rank > 0)
            v += ifb_sv_gemm(s, G_QA, T, h, m->q_lora_rank) +
                 ifb_sv_gemm(s, G_QB, T, m->q_lora_rank, H * qk);
        else
            v += ifb_sv_gemm(s, G_QP, T, h, H * qk);
        v += ifb_sv_gemm(s, G_KVA, T, h, kvl + m->qk_rope_dim);
        if (td) {
            v += ifb_sv_gemm(s, G_UK, td, m->qk_nope_dim, H * kvl) +
                 ifb_sv_gemm(s, G_UV, td, kvl, H * m->v_head_dim);
            v += mla_core_decode(s, t->nd, t->ctx_sum, t->q);
        }
        if (t->pf) {
            v += ifb_sv_gemm(s, G_KVB, t->pf + t->pf_prefix, kvl,
                             H * (m->qk_nope_dim + m->v_head_dim));
            v += roof(s, s->a_pre * t->pf_pairs / tp, (double)t->pf_prefix * s->kv_layer_bytes,
                      IFB_DTYPE_BF16);
            s->kcount++;
        }
        v += ifb_sv_gemm(s, G_O, T, H * m->v_head_dim, h);
    } else {
        int64_t kvh = m->kv_heads > 0 ? m->kv_heads : m->heads;
        int64_t kvh_gpu = (kvh + tp - 1) / tp;
        v += ifb_sv_gemm(s, G_QKV, T, h, (H + 2 * kvh_gpu) * m->head_dim);
        v += ifb_sv_gemm(s, G_O, T, H * m->head_dim, h);
        if (td)
            v += roof(s, s->a_dec * (double)t->ctx_sum * (double)t->q / tp,
                      (double)t->ctx_sum * s->kv_layer_bytes, IFB_DTYPE_BF16);
        if (t->pf)
            v += roof(s, s->a_pre * t->pf_pairs / tp, (double)t->pf_prefix * s->kv_layer_bytes,
                      IFB_DTYPE_BF16);
        s->kcount += (td > 0) + (t->pf > 0);
    }
    return v;
}

ifb_time ifb_sv_ffn_time(ifb_sv_eng *s, int64_t T)
{
    int64_t f = s->m->ffn_dim / s->par.tp;
    return ifb_sv_gemm(s, G_FU, T, s->m->hidden, 2 * f) + ifb_sv_gemm(s, G_FD, T, f, s->m->hidden);
}

ifb_time ifb_sv_shared_time(ifb_sv_eng *s, int64_t T)
{
    const ifb_model *m = s->m;
    if (!m->shared_experts)
        return 0;
    int64_t f = m->shared_experts * m->moe_ffn_dim / s->par.tp;
    return ifb_sv_gemm(s, G_SU, T, m->hidden, 2 * f) + ifb_sv_gemm(s, G_SD, T, f, m->hidden);
}

void ifb_sv_load_tables(ifb_sv_eng *s)
{
    if (!s->cfg.kernel_tables)
        return;
    char lname[32], name[128];
    size_t i = 0;
    for (const char *p = s->cfg.gpu->name; *p && i + 1 < sizeof lname; p++)
        lname[i++] = (char)((*p >= 'A' && *p <= 'Z') ? *p - 'A' + 'a' : *p);
    lname[i] = 0;
    const ifb_model *m = s->m;
    for (int k = 0; k < KT_N; k++) {
        switch (k) {
        case KT_GEMM:
            snprintf(name, sizeof name, "gemm_%s_data.csv", lname);
            break;
        case KT_GGD:
            snprintf(name, sizeof name, "grouped_gemm_decode_%s_data.csv", lname);
            break;
        case KT_GGP:
            snprintf(name, sizeof name, "grouped_gemm_prefill_%s_data.csv", lname);
            break;
        case KT_GGD_X:
            snprintf(name, sizeof name, "grouped_gemm_decode_%s_deepgemm-pr192.csv", lname);
            break;
        case KT_MLA:
        default:
            if (m->attn != IFB_ATTN_MLA)
                continue;
            snprintf(name, sizeof name, "mla_decode_%s_%lld-%lld-%lld.csv", lname,
                     (long long)(m->heads / s->par.tp), (long long)m->kv_lora_rank,
                     (long long)m->qk_rope_dim);
        }
        const char *text = ifb_embedded_file(name);
        if (!text)
            continue;
        ifb_err e;
        if (ifb_kernel_table_load_string(&s->kt[k], text, name, s->cfg.gpu, &e) == 0)
            s->have_kt[k] = 1;
    }
}

/* dp-tp: the MoE layer of the gathered tokens of a group, every expert split moe_tp ways: the
 * router, the shared experts and the routed experts. */
ifb_time ifb_sv_tpmoe_time(ifb_sv_eng *s, int64_t T, int prefill)
{
    const ifb_model *m = s->m;
    if (T <= 0)
        return 0;
    ifb_time v = ifb_sv_gemm(s, G_RT, T, m->hidden, m->experts);
    int64_t f = m->shared_experts * m->moe_ffn_dim / s->par.moe_tp;
    if (f)
        v += ifb_sv_gemm(s, G_SU, T, m->hidden, 2 * f) + ifb_sv_gemm(s, G_SD, T, f, m->hidden);
    return v + ifb_sv_routed_time(s, T, prefill);
}
