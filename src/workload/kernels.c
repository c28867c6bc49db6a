/* Kernel latency tables: CSV loading, efficiency derivation, interpolation and roofline
 * extrapolation (see kernels.h). Tables are small (hundreds of rows), so lookups scan linearly. */
#include "workload/kernels.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "workload/kernels_int.h"

const char *ifb_kernel_source_name(ifb_kernel_source s)
{
    switch (s) {
    case IFB_KSRC_MEASURED:
        return "measured";
    case IFB_KSRC_INTERPOLATED:
        return "interpolated";
    case IFB_KSRC_ROOFLINE:
        return "roofline";
    }
    return "?";
}

ifb_kernel_shape ifb_kshape_gemm(double m, double k, double n)
{
    ifb_kernel_shape s;
    memset(&s, 0, sizeof s);
    s.kind = IFB_KERNEL_GEMM;
    s.m = m;
    s.k = k;
    s.n = n;
    return s;
}

ifb_kernel_shape ifb_kshape_grouped(ifb_kernel_kind kind, int proj, double experts, double gpus,
                                    double topk, double hidden, double inter, double tokens_per_gpu)
{
    ifb_kernel_shape s;
    memset(&s, 0, sizeof s);
    s.kind = kind;
    s.proj = proj;
    s.experts = experts;
    s.gpus = gpus;
    s.local_experts = gpus > 0 ? experts / gpus : 0;
    s.topk = topk;
    s.hidden = hidden;
    s.inter = inter;
    s.tokens = tokens_per_gpu;
    return s;
}

ifb_kernel_shape ifb_kshape_mla_decode(ifb_dtype dtype, ifb_dtype kv_dtype, double batch,
                                       double kv_len)
{
    ifb_kernel_shape s;
    memset(&s, 0, sizeof s);
    s.kind = IFB_KERNEL_MLA_DECODE;
    s.dtype = dtype;
    s.kv_dtype = kv_dtype;
    s.batch = batch;
    s.kv_len = kv_len;
    return s;
}

/* ---- work model ---- */

static int positive(double x)
{
    return x > 0 && isfinite(x);
}

int ifb_kernel_work(const ifb_kernel_table *t, const ifb_kernel_shape *s, double *flops,
                    double *bytes, ifb_dtype *dtype)
{
    switch (s->kind) {
    case IFB_KERNEL_GEMM: {
        if (!positive(s->m) || !positive(s->k) || !positive(s->n))
            return -1;
        double kb = ceil(s->k / 128), nb = ceil(s->n / 128);
        *flops = 2 * s->m * s->k * s->n;
        /* FP8 A with per-token 1x128 scales, FP8 B with 128x128 block scales, BF16 D. */
        *bytes = s->m * s->k + 4 * s->m * kb + s->k * s->n + 4 * kb * nb + 2 * s->m * s->n;
        *dtype = IFB_DTYPE_FP8;
        return 0;
    }
    case IFB_KERNEL_GROUPED_GEMM_DECODE:
    case IFB_KERNEL_GROUPED_GEMM_PREFILL: {
        if (!positive(s->experts) || !positive(s->gpus) || !positive(s->local_experts) ||
            !positive(s->topk) || !positive(s->hidden) || !positive(s->inter) ||
            !positive(s->tokens) || (s->proj != IFB_KPROJ_UP && s->proj != IFB_KPROJ_DOWN))
            return -1;
        /* Token copies this GPU's experts receive under uniform routing (benchmark: batch x topk
         * when local_experts = experts / gpus). */
        double tok = s->tokens * s->topk * s->gpus * s->local_experts / s->experts;
        double n = s->proj == IFB_KPROJ_UP ? 2 * s->inter : s->hidden;
        double k = s->proj == IFB_KPROJ_UP ? s->hidden : s->inter;
        double kb = ceil(k / 128), nb = ceil(n / 128);
        *flops = 2 * tok * n * k;
        /* Every local expert's FP8 weights (+ block scales), FP8 activations in, BF16 out. */
        *bytes = s->local_experts * (n * k + 4 * nb * kb) + tok * (k + 4 * kb) + 2 * tok * n;
        *dtype = IFB_DTYPE_FP8;
        return 0;
    }
    case IFB_KERNEL_MLA_DECODE: {
        if (!positive(s->batch) || !positive(s->kv_len) || ifb_dtype_bytes(s->dtype) == 0 ||
            ifb_dtype_bytes(s->kv_dtype) == 0)
            return -1;
        double H = t->mla_heads, L = t->mla_kv_lora, R = t->mla_rope;
        /* Absorbed MLA: scores over latent + rope (L + R), context over the latent (L). */
        *flops = 2 * s->batch * H * s->kv_len * (L + R) + 2 * s->batch * H * s->kv_len * L;
        *bytes = s->batch * s->kv_len * (L + R) * ifb_dtype_bytes(s->kv_dtype) +
                 s->batch * H * (L + R) * ifb_dtype_bytes(s->dtype) + 2 * s->batch * H * L;
        *dtype = s->dtype;
        return 0;
    }
    }
    return -1;
}

/* Roofline time (seconds) at full peak and bandwidth. */
/* ---- lookup ---- */

static int shape_keys(const ifb_kernel_table *t, const ifb_kernel_shape *s, double *key,
                      double *size, int *o)
{
    memset(key, 0, IFB_KERNEL_MAX_KEYS * sizeof *key);
    size[0] = size[1] = 0;
    *o = 0;
    switch (t->kind) {
    case IFB_KERNEL_GEMM:
        key[0] = s->k;
        key[1] = s->n;
        size[0] = s->m;
        return 0;
    case IFB_KERNEL_GROUPED_GEMM_DECODE:
    case IFB_KERNEL_GROUPED_GEMM_PREFILL:
        key[0] = s->experts;
        key[1] = s->gpus;
        key[2] = s->local_experts;
        key[3] = s->topk;
        key[4] = s->hidden;
        key[5] = s->inter;
        size[0] = s->tokens;
        *o = s->proj;
        return 0;
    case IFB_KERNEL_MLA_DECODE:
        key[0] = (double)s->dtype + 1;
        key[1] = (double)s->kv_dtype + 1;
        size[0] = s->batch;
        size[1] = s->kv_len;
        return 0;
    }
    return -1;
}

static double log_dist2(const double *a, const double *b, int n)
{
    double d = 0;
    for (int i = 0; i < n; i++) {
        double x = log(a[i] / b[i]);
        d += x * x;
    }
    return d;
}

/* Nearest sample of series k to `size` (log distance over the size dimensions). */
static size_t nearest_in_series(const ifb_kernel_table *t, size_t k, const double *size)
{
    size_t best = t->series[k];
    double bd = INFINITY;
    for (size_t i = t->series[k]; i < t->series[k + 1]; i++) {
        double d = log_dist2(t->s[i].size, size, t->nsize);
        if (d < bd) {
            bd = d;
            best = i;
        }
    }
    return best;
}

/* Locates x along size dimension d within s[a..b) (sorted by it). Returns 0 with *i exact,
 * 1 with x strictly between s[*i] and s[*i + 1], -1 if outside. */
static int locate(const ifb_kernel_sample *s, size_t a, size_t b, int d, double x, size_t *i)
{
    if (b <= a || x < s[a].size[d] || x > s[b - 1].size[d])
        return -1;
    for (size_t j = a; j < b; j++) {
        if (s[j].size[d] == x) {
            *i = j;
            return 0;
        }
        if (j + 1 < b && x < s[j + 1].size[d]) {
            *i = j;
            return 1;
        }
    }
    return -1;
}

/* Value at x along dimension d within a run; sets lines used. Returns the locate() code. */
static int run_value(const ifb_kernel_sample *s, size_t a, size_t b, int d, double x, int o,
                     double *us, int *lo, int *hi)
{
    size_t i;
    int r = locate(s, a, b, d, x, &i);
    if (r == 0) {
        *us = s[i].us[o];
        *lo = *hi = s[i].line;
    } else if (r == 1) {
        double x0 = s[i].size[d], x1 = s[i + 1].size[d];
        double w = (x - x0) / (x1 - x0);
        *us = s[i].us[o] + w * (s[i + 1].us[o] - s[i].us[o]);
        *lo = s[i].line;
        *hi = s[i + 1].line;
    }
    return r;
}

/* Fills the derived figures; -1 when degenerate table values (e.g. subnormal sizes) gave a
 * time that is not a finite non-negative number. */
static int finish(const ifb_kernel_table *t, double fl, double by, ifb_dtype dt,
                  ifb_kernel_result *r)
{
    if (!isfinite(r->us) || r->us < 0)
        return -1;
    double sec = r->us * 1e-6, peak = ifb_gpu_peak_flops(&t->gpu, dt);
    r->mfu = peak > 0 && sec > 0 ? fl / (sec * peak) : 0;
    r->roof_eff = sec > 0 ? ifb_kernel_bound_s(t, fl, by, dt) / sec : 0;
    if (isnan(r->mfu) || isnan(r->roof_eff))
        return -1;
    double ps = r->us * 1e6;
    /* llround's long long ends at 9.2e18 ps (107 days): beyond is "never" */
    r->time = ps < 9.2e18 ? (ifb_time)llround(ps) : IFB_TIME_NEVER;
    return 0;
}

int ifb_kernel_time(const ifb_kernel_table *t, const ifb_kernel_shape *s, ifb_kernel_result *r,
                    ifb_err *e)
{
    memset(r, 0, sizeof *r);
    if (!t || !t->s || t->n == 0)
        return ifb_err_msg(e, "kernel time: no table loaded");
    if (s->kind != t->kind) {
        char expected[96];
        snprintf(expected, sizeof expected, "a %s shape", ifb_kernel_kind_name(t->kind));
        return ifb_err_set(e, t->name, 0, "shape kind", expected, "a %s shape",
                           ifb_kernel_kind_name(s->kind));
    }
    double fl, by;
    ifb_dtype dt;
    if (ifb_kernel_work(t, s, &fl, &by, &dt) < 0)
        return ifb_err_set(e, t->name, 0, "shape",
                           "positive finite dimensions (and proj 0 = up or 1 = down)",
                           "a zero, negative or non-finite one");
    double key[IFB_KERNEL_MAX_KEYS], size[2];
    int o;
    shape_keys(t, s, key, size, &o);

    /* The series measured with exactly these key columns, if any. */
    ifb_kernel_sample probe;
    memset(&probe, 0, sizeof probe);
    memcpy(probe.key, key, sizeof key);
    size_t k = t->nseries;
    for (size_t j = 0; j < t->nseries; j++)
        if (ifb_kernel_same_key(&t->s[t->series[j]], &probe, t->nkey)) {
            k = j;
            break;
        }

    if (k < t->nseries) {
        size_t a = t->series[k], b = t->series[k + 1];
        if (t->nsize == 1) {
            int c = run_value(t->s, a, b, 0, size[0], o, &r->us, &r->line_lo, &r->line_hi);
            if (c >= 0) {
                r->source = c == 0 ? IFB_KSRC_MEASURED : IFB_KSRC_INTERPOLATED;
                if (finish(t, fl, by, dt, r))
                    return ifb_err_set(e, t->name, 0, "shape", "a finite kernel time",
                                       "a non-finite one (degenerate table values)");
                return 0;
            }
        } else {
            /* Rows of equal batch are contiguous; find the row at, or the rows around, batch. */
            size_t lo_a = b, lo_b = b, hi_a = b, hi_b = b;
            for (size_t i = a; i < b;) {
                size_t j = i;
                while (j < b && t->s[j].size[0] == t->s[i].size[0])
                    j++;
                if (t->s[i].size[0] <= size[0]) {
                    lo_a = i;
                    lo_b = j;
                } else if (hi_a == b) {
                    hi_a = i;
                    hi_b = j;
                }
                i = j;
            }
            double u0, u1;
            int l0, h0, l1, h1;
            if (lo_a < b && t->s[lo_a].size[0] == size[0]) {
                int c =
                    run_value(t->s, lo_a, lo_b, 1, size[1], o, &r->us, &r->line_lo, &r->line_hi);
                if (c >= 0) {
                    r->source = c == 0 ? IFB_KSRC_MEASURED : IFB_KSRC_INTERPOLATED;
                    if (finish(t, fl, by, dt, r))
                        return ifb_err_set(e, t->name, 0, "shape", "a finite kernel time",
                                           "a non-finite one (degenerate table values)");
                    return 0;
                }
            } else if (lo_a < b && hi_a < b &&
                       run_value(t->s, lo_a, lo_b, 1, size[1], o, &u0, &l0, &h0) >= 0 &&
                       run_value(t->s, hi_a, hi_b, 1, size[1], o, &u1, &l1, &h1) >= 0) {
                double b0 = t->s[lo_a].size[0], b1 = t->s[hi_a].size[0];
                double w = (size[0] - b0) / (b1 - b0);
                r->us = u0 + w * (u1 - u0);
                r->line_lo = l0 < l1 ? l0 : l1;
                r->line_hi = h0 > h1 ? h0 : h1;
                r->source = IFB_KSRC_INTERPOLATED;
                if (finish(t, fl, by, dt, r))
                    return ifb_err_set(e, t->name, 0, "shape", "a finite kernel time",
                                       "a non-finite one (degenerate table values)");
                return 0;
            }
        }
    } else {
        /* Unmeasured key: the series whose key is nearest in log space. */
        double bd = INFINITY;
        for (size_t j = 0; j < t->nseries; j++) {
            double d = log_dist2(t->s[t->series[j]].key, key, t->nkey);
            if (d < bd) {
                bd = d;
                k = j;
            }
        }
    }
    size_t near = nearest_in_series(t, k, size);
    double eff = t->s[near].roof_eff[o];
    r->us = ifb_kernel_bound_s(t, fl, by, dt) / eff * 1e6;
    r->line_lo = r->line_hi = t->s[near].line;
    r->source = IFB_KSRC_ROOFLINE;
    if (finish(t, fl, by, dt, r))
        return ifb_err_set(e, t->name, 0, "shape", "a finite kernel time",
                           "a non-finite one (degenerate table values)");
    return 0;
}

int ifb_kernel_mla_fp8(const ifb_kernel_table *t, double batch, double kv_len, ifb_kernel_result *r,
                       ifb_err *e)
{
    if (!t || t->kind != IFB_KERNEL_MLA_DECODE)
        return ifb_err_msg(e, "FP8 MLA: expected an MLA decode table");
    ifb_kernel_shape sh = ifb_kshape_mla_decode(IFB_DTYPE_BF16, IFB_DTYPE_BF16, batch, kv_len);
    if (ifb_kernel_time(t, &sh, r, e))
        return -1;
    if (!(r->roof_eff > 0))
        return ifb_err_msg(e, "%s: no roofline efficiency at batch %g, kv_len %g", t->name, batch,
                           kv_len);
    double H = t->mla_heads, L = t->mla_kv_lora, R = t->mla_rope;
    double fl8 = 4 * batch * H * kv_len * L;  /* latent QK^T and PV */
    double fl16 = 2 * batch * H * kv_len * R; /* the RoPE part of QK^T */
    double by = batch * kv_len * (L + R) + batch * H * (L + R) + 2 * batch * H * L;
    double tc = fl8 / ifb_gpu_peak_flops(&t->gpu, IFB_DTYPE_FP8) +
                fl16 / ifb_gpu_peak_flops(&t->gpu, IFB_DTYPE_BF16);
    double tm = by / ifb_gpu_hbm_bw(&t->gpu);
    r->us = (tc > tm ? tc : tm) / r->roof_eff * 1e6;
    double ps = r->us * 1e6;
    r->time = ps < 9.2e18 ? (ifb_time)llround(ps) : IFB_TIME_NEVER;
    r->mfu = (fl8 + fl16) / (r->us * 1e-6 * ifb_gpu_peak_flops(&t->gpu, IFB_DTYPE_FP8));
    return 0;
}

int ifb_kernel_has_series(const ifb_kernel_table *t, const ifb_kernel_shape *s)
{
    if (!t || !t->s || s->kind != t->kind)
        return 0;
    double key[IFB_KERNEL_MAX_KEYS], size[2];
    int o;
    shape_keys(t, s, key, size, &o);
    ifb_kernel_sample probe;
    memset(&probe, 0, sizeof probe);
    memcpy(probe.key, key, sizeof key);
    for (size_t j = 0; j < t->nseries; j++)
        if (ifb_kernel_same_key(&t->s[t->series[j]], &probe, t->nkey))
            return 1;
    return 0;
}

double ifb_kernel_roofline_s(const ifb_kernel_table *t, const ifb_kernel_shape *s)
{
    double fl, by;
    ifb_dtype dt;
    if (!t || ifb_kernel_work(t, s, &fl, &by, &dt) < 0)
        return NAN;
    return ifb_kernel_bound_s(t, fl, by, dt);
}

int ifb_kernel_describe(const ifb_kernel_table *t, const ifb_kernel_result *r, char *buf, size_t n)
{
    if (r->source == IFB_KSRC_ROOFLINE) {
        /* The efficiency used is the nearest sample's, i.e. the answer's own roof_eff. */
        return snprintf(buf, n, "roofline (efficiency %.3f of %s line %d)", r->roof_eff, t->name,
                        r->line_lo);
    }
    return snprintf(buf, n, "%s: %s", ifb_kernel_source_name(r->source), t->name);
}
