/* Overheads of a production serving engine around its GEMMs and attention kernels
 * (ifb_overhead_cfg; sources in docs/serving-model.md):
 *  - element-wise kernels of every layer, as SGLang's DeepSeek-V3 forward runs them (fused
 *    residual add + RMSNorm before attention and before the FFN, FP8 quantization of each FP8
 *    GEMM's input, the q_a/kv_a RMSNorms of MLA, RoPE of the query and key, the KV-cache store,
 *    the router's grouped top-k, the experts' SiLU-and-multiply with its FP8 cast, and the add of
 *    the shared experts' output to the combined routed output): memory-bound, each costed by its
 *    bytes at HBM bandwidth x elem_eff and never below kernel_min (a small kernel's fixed time);
 *  - launch gaps: between the kernels of a replayed CUDA graph (decode batches up to
 *    cuda_graph_max_bs per instance) a fixed gap each; eager launches (prefill, larger batches)
 *    cost the host `launch` each, and the GPU waits when its kernels are shorter than that;
 *  - sampling: the final RMSNorm and `sampling_passes` passes over each row's FP32 logits;
 *  - DeepEP's GPU-side work (the FP8 cast and packing of dispatched tokens, unpacking on
 *    receipt, the combine's send-buffer copy and weighted reduction), at HBM x deepep.mem_eff.
 * Host time between steps is added by the scheduler (sched.c).
 * Leaves out: kernels that overlap each other on side streams, and any data-dependent kernel
 * time beyond bytes (an element-wise kernel's time does not depend on the values). */
#include <math.h>

#include "workload/serving/internal.h"

/* One memory-bound kernel of `bytes` (0 bytes: no kernel). */
static ifb_time elem(const ifb_sv_eng *s, double bytes, int *nk)
{
    if (bytes <= 0)
        return 0;
    const ifb_overhead_cfg *o = &s->cfg.ovh;
    double sec = bytes / (ifb_gpu_hbm_bw(s->cfg.gpu) * o->elem_eff);
    ifb_time t = (ifb_time)llround(sec * 1e12);
    (*nk)++;
    return t > o->kernel_min ? t : o->kernel_min;
}

/* FP8 cast of n values with one FP32 scale per 128 (per-token-group quantization). */
static double quant_bytes(double n)
{
    return 2 * n + n + 4 * ceil(n / 128);
}

ifb_time ifb_sv_elem_norm(ifb_sv_eng *s, int64_t T, int64_t width, int *nk)
{
    if (!s->cfg.ovh.on || T <= 0)
        return 0;
    return elem(s, 4.0 * (double)T * (double)width, nk);
}

ifb_time ifb_sv_elem_attn(ifb_sv_eng *s, int64_t T, int *nk)
{
    if (!s->cfg.ovh.on || T <= 0)
        return 0;
    const ifb_model *m = s->m;
    double t = (double)T, h = (double)m->hidden;
    double H = (double)(m->heads / s->par.tp);
    int fp8 = s->cfg.weight_dtype == IFB_DTYPE_FP8;
    double kvb = ifb_dtype_bytes(s->cfg.kv_dtype);
    ifb_time v = elem(s, 4 * t * h * 2, nk); /* residual add + RMSNorm: two in, two out */
    if (fp8)
        v += elem(s, quant_bytes(t * h), nk);
    if (m->attn == IFB_ATTN_MLA) {
        double ql = (double)m->q_lora_rank, kl = (double)m->kv_lora_rank;
        double r = (double)m->qk_rope_dim, vd = (double)m->v_head_dim;
        if (ql > 0) {
            v += elem(s, 4 * t * ql, nk); /* q_a_layernorm */
            if (fp8)
                v += elem(s, quant_bytes(t * ql), nk);
        }
        v += elem(s, 4 * t * kl, nk);                            /* kv_a_layernorm */
        v += elem(s, 4 * t * (H + 1) * r, nk);                   /* RoPE of q_pe and k_pe */
        v += elem(s, 2 * t * (kl + r) + t * (kl + r) * kvb, nk); /* KV-cache store */
        if (fp8)
            v += elem(s, quant_bytes(t * H * vd), nk); /* o_proj input */
    } else {
        double hd = (double)m->head_dim;
        double kvh =
            (double)((m->kv_heads > 0 ? m->kv_heads : m->heads) + s->par.tp - 1) / s->par.tp;
        v += elem(s, 4 * t * (H + kvh) * hd, nk);                        /* RoPE of q and k */
        v += elem(s, 2 * t * 2 * kvh * hd + t * 2 * kvh * hd * kvb, nk); /* KV store */
        if (fp8)
            v += elem(s, quant_bytes(t * H * hd), nk);
    }
    return v;
}

ifb_time ifb_sv_elem_ffn(ifb_sv_eng *s, int64_t T, int moe, int64_t copies, int *nk)
{
    if (!s->cfg.ovh.on || (T <= 0 && copies <= 0))
        return 0;
    const ifb_model *m = s->m;
    double t = (double)T, h = (double)m->hidden;
    int fp8 = s->cfg.weight_dtype == IFB_DTYPE_FP8;
    ifb_time v = 0;
    if (T > 0)
        v += elem(s, 4 * t * h * 2, nk); /* post-attention residual add + RMSNorm */
    if (!moe) {
        double f = (double)m->ffn_dim / s->par.tp;
        if (T > 0 && fp8)
            v += elem(s, quant_bytes(t * h), nk);
        if (T > 0) /* SiLU(gate) x up, with the down projection's FP8 cast */
            v += elem(s, t * 2 * f * 2 + (fp8 ? t * f + 4 * ceil(t * f / 128) : 2 * t * f), nk);
        return v;
    }
    if (T > 0) /* grouped top-k over the router's FP32 logits */
        v += elem(s, t * (double)m->experts * 4 + t * (double)m->experts_per_tok * 8, nk);
    if (T > 0 && m->shared_experts) {
        double f = (double)(m->shared_experts * m->moe_ffn_dim) / s->par.tp;
        if (fp8)
            v += elem(s, quant_bytes(t * h), nk);
        v += elem(s, t * 2 * f * 2 + (fp8 ? t * f + 4 * ceil(t * f / 128) : 2 * t * f), nk);
    }
    if (copies > 0) { /* the routed experts' activation between their two grouped GEMMs */
        double c = (double)copies;
        double f = (double)m->moe_ffn_dim / (s->par.layout == IFB_LAYOUT_DP_EP ? 1 : s->par.moe_tp);
        v += elem(s, c * 2 * f * 2 + (fp8 ? c * f + 4 * ceil(c * f / 128) : 2 * c * f), nk);
    }
    if (T > 0 && m->shared_experts) /* routed output + shared output */
        v += elem(s, 3 * t * h * 2, nk);
    return v;
}

ifb_time ifb_sv_sampling(ifb_sv_eng *s, int64_t rows, int passes, int *nk)
{
    if (!s->cfg.ovh.on || rows <= 0)
        return 0;
    double r = (double)rows, h = (double)s->m->hidden;
    double V = (double)s->m->vocab / s->par.tp;
    ifb_time v = elem(s, 4 * r * h, nk); /* final RMSNorm of the rows with logits */
    for (int i = 0; i < passes; i++)
        v += elem(s, r * V * 4, nk);
    return v;
}

ifb_time ifb_sv_launch_gaps(const ifb_sv_eng *s, ifb_time busy, int nk, int graph)
{
    const ifb_overhead_cfg *o = &s->cfg.ovh;
    if (!o->on || nk <= 0)
        return 0;
    if (graph)
        return (ifb_time)nk * o->graph_gap;
    ifb_time host = (ifb_time)nk * o->launch;
    return host > busy ? host - busy : 0;
}

void ifb_sv_deepep_gpu(const ifb_sv_eng *s, int combine, int64_t T, int64_t sent, int64_t recv,
                       ifb_time *before, ifb_time *after)
{
    int normal = s->normal_step;
    *before = *after = 0;
    const ifb_deepep_cfg *d = &s->cfg.deepep;
    if (!d->gpu_work)
        return;
    double bw = ifb_gpu_hbm_bw(s->cfg.gpu) * d->mem_eff;
    double h = (double)s->m->hidden, db = (double)s->dbytes, cb = (double)s->cbytes;
    double b0, b1;
    if (!combine) {
        /* cast each token to the dispatch dtype into the send buffer once (read BF16, write
         * the packed copy); on receipt copy each copy into the experts' layout */
        b0 = T > 0 ? (double)T * (2 * h + db) : 0;
        b1 = (double)recv * 2 * db;
    } else {
        /* expert outputs into the send buffer; on receipt read each token's copies and write the
         * weighted sum */
        b0 = (double)sent * 2 * cb;
        b1 = T > 0 ? (double)recv * cb + (double)T * 2 * h : 0;
    }
    /* as workload/deepep.h: the send side's copy runs ahead of its sends (1/chunks exposed);
     * normal mode's receive side follows each piece (1/chunks after the data) */
    b0 /= d->chunks;
    if (normal)
        b1 /= d->chunks;
    ifb_time k = d->kernel_launch;
    *before = (b0 > 0 ? k : 0) + (ifb_time)llround(b0 / bw * 1e12);
    *after = (b1 > 0 ? k : 0) + (ifb_time)llround(b1 / bw * 1e12);
}
