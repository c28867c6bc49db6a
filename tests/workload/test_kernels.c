/* Tests for the kernel tables (workload/kernels.c). The CSVs are re-read here by an independent
 * reader; every row of all seven shipped tables must come back exactly as "measured"; between
 * adjacent samples of a series the answer must be "interpolated", lie between the two samples and
 * move monotonically (checked at 31 points per gap, bilinear for MLA in both directions); outside
 * the measured range or for an unmeasured key it must be "roofline" and continue the nearest
 * sample's efficiency; derived efficiencies must reproduce the published mfu columns (GEMM, MLA);
 * malformed files must be rejected with file, line, row and column. FlashMLA's FP8 path is the
 * BF16 table's time at every sample scaled by the ratio of the two kernels' rooflines, worked out
 * here from the datasheets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload/kernels.h"

#define KDIR IFB_SOURCE_DIR "/data/kernels/"

static const char *const tables[] = {
    "gemm_h20_data.csv",
    "gemm_h800_data.csv",
    "grouped_gemm_decode_h20_data.csv",
    "grouped_gemm_decode_h800_data.csv",
    "grouped_gemm_decode_h20_deepgemm-pr192.csv",
    "grouped_gemm_prefill_h20_data.csv",
    "mla_decode_h20_128-512-64.csv",
    "mla_decode_h800_128-512-64.csv",
};
#define NTABLES (sizeof tables / sizeof tables[0])

static void assert_contains(const char *msg, const char *part)
{
    if (!strstr(msg, part))
        fail_msg("message \"%s\" does not contain \"%s\"", msg, part);
}

static void load(ifb_kernel_table *t, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, KDIR "%s", name);
    ifb_err e = {{0}};
    if (ifb_kernel_table_load(t, path, NULL, &e) != 0)
        fail_msg("%s", e.msg);
}

/* ---- an independent CSV reader: rows of doubles (dtype columns read as 0) ---- */

typedef struct csv {
    char cols[16][32];
    int ncol;
    double (*v)[16];
    int n, dups;
} csv;

static void csv_read(csv *c, const char *name)
{
    char path[512], line[1024];
    snprintf(path, sizeof path, KDIR "%s", name);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    memset(c, 0, sizeof *c);
    c->v = calloc(1024, sizeof *c->v);
    assert_non_null(c->v);
    int first = 1;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!*line)
            continue;
        int k = 0;
        for (char *p = line, *q; p; p = q ? q + 1 : NULL, k++) {
            q = strchr(p, ',');
            if (q)
                *q = '\0';
            if (first)
                snprintf(c->cols[k], sizeof c->cols[k], "%.31s", p);
            else
                c->v[c->n][k] = strtod(p, NULL);
        }
        if (first) {
            c->ncol = k;
            first = 0;
            continue;
        }
        assert_int_equal(k, c->ncol);
        /* Rows repeated verbatim are one sample (gemm_h20_data.csv has 22). */
        int dup = 0;
        for (int r = 0; r < c->n && !dup; r++)
            dup = memcmp(c->v[r], c->v[c->n], sizeof c->v[r]) == 0;
        if (dup) {
            memset(c->v[c->n], 0, sizeof c->v[c->n]);
            c->dups++;
        } else {
            c->n++;
        }
    }
    fclose(f);
}

static int col(const csv *c, const char *name)
{
    for (int i = 0; i < c->ncol; i++)
        if (strcmp(c->cols[i], name) == 0)
            return i;
    fail_msg("no column %s", name);
    return -1;
}

/* Shape of row r of a table, for kernel o (grouped: 0 up, 1 down), and its latency. */
static ifb_kernel_shape row_shape(const ifb_kernel_table *t, const csv *c, int r, int o, double *us)
{
    const double *v = c->v[r];
    ifb_kernel_shape s;
    switch (t->kind) {
    case IFB_KERNEL_GEMM:
        s = ifb_kshape_gemm(v[col(c, "m")], v[col(c, "k")], v[col(c, "n")]);
        *us = v[col(c, "latency_us")];
        break;
    case IFB_KERNEL_MLA_DECODE:
        s = ifb_kshape_mla_decode(IFB_DTYPE_BF16, IFB_DTYPE_BF16, v[col(c, "batch_size")],
                                  v[col(c, "kv_len")]);
        *us = v[col(c, "latency_us")];
        break;
    default:
        s = ifb_kshape_grouped(
            t->kind, o, v[col(c, "num_experts")], v[col(c, "num_gpus")], v[col(c, "topk")],
            v[col(c, "hidden_size")], v[col(c, "intermediate_size")],
            v[col(c, t->kind == IFB_KERNEL_GROUPED_GEMM_DECODE ? "batch_size_per_gpu"
                                                               : "seq_len_per_gpu")]);
        s.local_experts = v[col(c, "num_local_experts")];
        *us = v[col(c, o == 0 ? "up_proj_us" : "down_proj_us")];
        break;
    }
    return s;
}

static double time_us(const ifb_kernel_table *t, ifb_kernel_shape s, ifb_kernel_source *src)
{
    ifb_kernel_result r;
    ifb_err e = {{0}};
    if (ifb_kernel_time(t, &s, &r, &e) != 0)
        fail_msg("%s", e.msg);
    if (src)
        *src = r.source;
    return r.us;
}

/* ---- tests ---- */

static void test_load_all(void **state)
{
    (void)state;
    const ifb_kernel_kind kinds[] = {IFB_KERNEL_GEMM,
                                     IFB_KERNEL_GEMM,
                                     IFB_KERNEL_GROUPED_GEMM_DECODE,
                                     IFB_KERNEL_GROUPED_GEMM_DECODE,
                                     IFB_KERNEL_GROUPED_GEMM_DECODE,
                                     IFB_KERNEL_GROUPED_GEMM_PREFILL,
                                     IFB_KERNEL_MLA_DECODE,
                                     IFB_KERNEL_MLA_DECODE};
    for (size_t i = 0; i < NTABLES; i++) {
        ifb_kernel_table t;
        load(&t, tables[i]);
        csv c;
        csv_read(&c, tables[i]);
        assert_int_equal(t.kind, kinds[i]);
        assert_string_equal(t.gpu.name, strstr(tables[i], "h800") ? "H800" : "H20");
        assert_int_equal((int)t.rows, c.n + c.dups);
        assert_int_equal((int)t.n, c.n);
        assert_int_equal((int)t.duplicates, c.dups);
        free(c.v);
        ifb_kernel_table_free(&t);
    }
    ifb_kernel_table t;
    load(&t, "gemm_h20_data.csv");
    assert_int_equal((int)t.duplicates, 22); /* lines 354-375 repeat lines 244-265 */
    ifb_kernel_table_free(&t);
    load(&t, "mla_decode_h20_128-512-64.csv");
    assert_true(t.mla_heads == 128 && t.mla_kv_lora == 512 && t.mla_rope == 64);
    ifb_kernel_table_free(&t);
}

static void test_exact_at_every_row(void **state)
{
    (void)state;
    int checked = 0;
    for (size_t i = 0; i < NTABLES; i++) {
        ifb_kernel_table t;
        load(&t, tables[i]);
        csv c;
        csv_read(&c, tables[i]);
        for (int r = 0; r < c.n; r++)
            for (int o = 0; o < t.nout; o++) {
                double us;
                ifb_kernel_shape s = row_shape(&t, &c, r, o, &us);
                ifb_kernel_result res;
                ifb_err e = {{0}};
                assert_int_equal(ifb_kernel_time(&t, &s, &res, &e), 0);
                if (res.us != us || res.source != IFB_KSRC_MEASURED)
                    fail_msg("%s row %d kernel %d: %.17g us (%s), table %.17g", tables[i], r + 1, o,
                             res.us, ifb_kernel_source_name(res.source), us);
                assert_true(res.time == (ifb_time)llround(us * 1e6));
                char buf[256], want[160];
                ifb_kernel_describe(&t, &res, buf, sizeof buf);
                snprintf(want, sizeof want, "measured: %s", tables[i]);
                assert_string_equal(buf, want);
                checked++;
            }
        free(c.v);
        ifb_kernel_table_free(&t);
    }
    assert_true(checked > 1400);
}

/* Key columns and size coordinates of row r (the series a row belongs to, and where in it). */
static int row_key(const ifb_kernel_table *t, const csv *c, int r, double *key, double *x)
{
    const double *v = c->v[r];
    memset(key, 0, 6 * sizeof *key);
    x[1] = 0;
    switch (t->kind) {
    case IFB_KERNEL_GEMM:
        key[0] = v[col(c, "k")];
        key[1] = v[col(c, "n")];
        x[0] = v[col(c, "m")];
        return 1;
    case IFB_KERNEL_MLA_DECODE:
        x[0] = v[col(c, "batch_size")];
        x[1] = v[col(c, "kv_len")];
        return 2;
    default: {
        const char *names[] = {"num_experts", "num_gpus",    "num_local_experts",
                               "topk",        "hidden_size", "intermediate_size"};
        for (int i = 0; i < 6; i++)
            key[i] = v[col(c, names[i])];
        x[0] = v[col(c, t->kind == IFB_KERNEL_GROUPED_GEMM_DECODE ? "batch_size_per_gpu"
                                                                  : "seq_len_per_gpu")];
        return 1;
    }
    }
}

static void set_size(const ifb_kernel_table *t, ifb_kernel_shape *s, int d, double x)
{
    if (t->kind == IFB_KERNEL_GEMM)
        s->m = x;
    else if (t->kind == IFB_KERNEL_MLA_DECODE)
        *(d == 0 ? &s->batch : &s->kv_len) = x;
    else
        s->tokens = x;
}

/* Checks 31 interior points of the gap from row r to row q along size dimension d. */
static int check_gap(const ifb_kernel_table *t, const csv *c, int r, int q, int d, int o)
{
    double ua, ub, xr[2], xq[2], key[6];
    ifb_kernel_shape a = row_shape(t, c, r, o, &ua);
    row_shape(t, c, q, o, &ub);
    row_key(t, c, r, key, xr);
    row_key(t, c, q, key, xq);
    double prev = ua, lo = fmin(ua, ub), hi = fmax(ua, ub);
    int up = ub >= ua;
    for (int j = 1; j <= 31; j++) {
        double x = xr[d] + (xq[d] - xr[d]) * j / 32.0;
        ifb_kernel_shape s = a;
        set_size(t, &s, d, x);
        ifb_kernel_source src;
        double u = time_us(t, s, &src);
        if (src != IFB_KSRC_INTERPOLATED)
            fail_msg("%s: point %g between lines %d and %d is %s", t->name, x, r + 2, q + 2,
                     ifb_kernel_source_name(src));
        if (u < lo - 1e-9 || u > hi + 1e-9)
            fail_msg("%s: %g us at %g outside [%g, %g]", t->name, u, x, lo, hi);
        if (up ? u < prev - 1e-9 : u > prev + 1e-9)
            fail_msg("%s: not monotone at %g (%g after %g)", t->name, x, u, prev);
        prev = u;
    }
    return up;
}

static void test_monotone_between_samples(void **state)
{
    (void)state;
    int gaps = 0, rising = 0;
    size_t decreasing = 0, loader_decreasing = 0;
    for (size_t i = 0; i < NTABLES; i++) {
        ifb_kernel_table t;
        load(&t, tables[i]);
        csv c;
        csv_read(&c, tables[i]);
        double kr[6], kq[6], kz[6], xr[2], xq[2], xz[2];
        for (int r = 0; r < c.n; r++)
            for (int q = 0; q < c.n; q++) {
                int nd = row_key(&t, &c, r, kr, xr);
                row_key(&t, &c, q, kq, xq);
                if (memcmp(kr, kq, sizeof kr) != 0)
                    continue;
                for (int d = 0; d < nd; d++) {
                    int other = 1 - d;
                    if (xq[d] <= xr[d] || (nd == 2 && xq[other] != xr[other]))
                        continue;
                    /* adjacent: no row of the series strictly between along d */
                    int between = 0;
                    for (int z = 0; z < c.n && !between; z++) {
                        row_key(&t, &c, z, kz, xz);
                        between = memcmp(kz, kr, sizeof kr) == 0 &&
                                  (nd == 1 || xz[other] == xr[other]) && xz[d] > xr[d] &&
                                  xz[d] < xq[d];
                    }
                    if (between)
                        continue;
                    for (int o = 0; o < t.nout; o++) {
                        int up = check_gap(&t, &c, r, q, d, o);
                        gaps++;
                        rising += up;
                        decreasing += !up;
                    }
                }
            }
        loader_decreasing += t.decreasing;
        free(c.v);
        ifb_kernel_table_free(&t);
    }
    /* About 1,300 gaps with 31 points each; the loader counts the same falling pairs. */
    assert_true(gaps > 1200);
    assert_true(rising > 1000);
    assert_int_equal((int)decreasing, (int)loader_decreasing);
    assert_int_equal((int)decreasing, 132);
}

static void test_mla_bilinear(void **state)
{
    (void)state;
    ifb_kernel_table t;
    load(&t, "mla_decode_h20_128-512-64.csv");
    /* Between batch rows 16 and 32 and kv 1024..4096: the corners are 57.674, 214.107 (b=16)
     * and 94.874, 413.85 (b=32). At the centre: the mean of the four. */
    double u = time_us(&t, ifb_kshape_mla_decode(IFB_DTYPE_BF16, IFB_DTYPE_BF16, 24, 2560), NULL);
    assert_true(fabs(u - (57.674 + 214.107 + 94.874 + 413.85) / 4) < 1e-9);
    /* Monotone along both axes over a grid inside the measured square batch 1..128, kv ..65536. */
    double prev_row[64] = {0};
    for (int bi = 0; bi < 40; bi++) {
        double b = 1 + (128.0 - 1) * bi / 39.0, prev = 0;
        for (int ki = 0; ki < 64; ki++) {
            double kv = 1024 + (65536.0 - 1024) * ki / 63.0;
            double v =
                time_us(&t, ifb_kshape_mla_decode(IFB_DTYPE_BF16, IFB_DTYPE_BF16, b, kv), NULL);
            assert_true(v >= prev - 1e-9);
            assert_true(v >= prev_row[ki] - 1e-9);
            prev = prev_row[ki] = v;
        }
    }
    ifb_kernel_table_free(&t);
}

static void test_roofline_outside(void **state)
{
    (void)state;
    ifb_kernel_table t;
    load(&t, "gemm_h20_data.csv");
    ifb_kernel_result r, last;
    ifb_err e = {{0}};
    /* k=2048, n=6144 is measured for m = 16..32768 (32768: 3015 us). */
    ifb_kernel_shape s = ifb_kshape_gemm(32768, 2048, 6144);
    assert_int_equal(ifb_kernel_time(&t, &s, &last, &e), 0);
    assert_true(last.us == 3015);
    s.m = 65536;
    assert_int_equal(ifb_kernel_time(&t, &s, &r, &e), 0);
    assert_int_equal(r.source, IFB_KSRC_ROOFLINE);
    /* Compute-bound: twice the FLOPs at the last sample's efficiency is about twice the time. */
    assert_true(r.us > 2 * 3015 * 0.99 && r.us < 2 * 3015 * 1.01);
    assert_true(fabs(r.roof_eff - last.roof_eff) < 1e-12);
    char buf[256];
    ifb_kernel_describe(&t, &r, buf, sizeof buf);
    assert_contains(buf, "roofline");
    assert_contains(buf, "gemm_h20_data.csv");
    /* Continuous at the end of the series. */
    s.m = 32768 * (1 + 1e-9);
    assert_int_equal(ifb_kernel_time(&t, &s, &r, &e), 0);
    assert_true(fabs(r.us - 3015) < 1e-3);
    /* Below the first sample (m=16: 10.63 us, memory-bound): not more than it. */
    s.m = 4;
    assert_int_equal(ifb_kernel_time(&t, &s, &r, &e), 0);
    assert_int_equal(r.source, IFB_KSRC_ROOFLINE);
    assert_true(r.us <= 10.63 && r.us > 5);
    /* An unmeasured key takes the nearest series' efficiency. */
    s = ifb_kshape_gemm(1024, 7168, 2112);
    assert_int_equal(ifb_kernel_time(&t, &s, &r, &e), 0);
    assert_int_equal(r.source, IFB_KSRC_ROOFLINE);
    assert_true(r.roof_eff > 0.05 && r.roof_eff < 1);
    ifb_kernel_table_free(&t);

    /* DeepSeek-R1 decode experts on 16 H800s: batch 48 lies between the measured 32 and 64. */
    load(&t, "grouped_gemm_decode_h800_data.csv");
    s = ifb_kshape_grouped(IFB_KERNEL_GROUPED_GEMM_DECODE, IFB_KPROJ_UP, 256, 16, 8, 7168, 2048,
                           48);
    assert_int_equal(ifb_kernel_time(&t, &s, &r, &e), 0);
    assert_int_equal(r.source, IFB_KSRC_INTERPOLATED);
    assert_true(fabs(r.us - (171.219 + 171.529) / 2) < 1e-9);
    ifb_kernel_describe(&t, &r, buf, sizeof buf);
    assert_string_equal(buf, "interpolated: grouped_gemm_decode_h800_data.csv");
    ifb_kernel_table_free(&t);
}

static void test_efficiency(void **state)
{
    (void)state;
    /* The derived mfu reproduces the published one where the benchmark's FLOPs are
     * deterministic (GEMM, MLA); the columns have 3 to 6 decimals. */
    const char *det[] = {"gemm_h20_data.csv", "gemm_h800_data.csv", "mla_decode_h20_128-512-64.csv",
                         "mla_decode_h800_128-512-64.csv"};
    for (int i = 0; i < 4; i++) {
        ifb_kernel_table t;
        load(&t, det[i]);
        for (size_t j = 0; j < t.n; j++) {
            if (fabs(t.s[j].mfu[0] - t.s[j].mfu_file[0]) > 0.001)
                fail_msg("%s line %d: derived mfu %g, file %g", det[i], t.s[j].line, t.s[j].mfu[0],
                         t.s[j].mfu_file[0]);
            assert_true(t.s[j].roof_eff[0] >= t.s[j].mfu[0] * (1 - 1e-12));
            assert_true(t.s[j].roof_eff[0] > 0 && t.s[j].roof_eff[0] < 1);
        }
        ifb_kernel_table_free(&t);
    }
    /* Grouped GEMMs: positive efficiencies, the roofline one never below the compute one. */
    for (size_t i = 2; i < 5; i++) {
        ifb_kernel_table t;
        load(&t, tables[i]);
        for (size_t j = 0; j < t.n; j++)
            for (int o = 0; o < 2; o++)
                assert_true(t.s[j].mfu[o] > 0 && t.s[j].roof_eff[o] >= t.s[j].mfu[o] * (1 - 1e-12));
        ifb_kernel_table_free(&t);
    }
}

static void expect_csv_error(const char *text, const char *name, const char *const *parts)
{
    ifb_kernel_table t;
    ifb_err e = {{0}};
    const ifb_gpu *g = ifb_gpu_find("H20", NULL);
    if (ifb_kernel_table_load_string(&t, text, name, strstr(name, "nogpu") ? NULL : g, &e) != -1)
        fail_msg("%s was accepted", name);
    assert_null(t.s);
    for (; *parts; parts++)
        assert_contains(e.msg, *parts);
}

static void test_malformed(void **state)
{
    (void)state;
    const char *hdr = "m,k,n,latency_us,mfu\n";
    char buf[512];
    snprintf(buf, sizeof buf, "%s16,2048,6144,10.63,0.12\n32,2048,6144,abc,0.25\n", hdr);
    expect_csv_error(buf, "g.csv", (const char *[]){"g.csv:3:", "latency_us (row 2)", "abc", NULL});
    snprintf(buf, sizeof buf, "%s16,2048,6144,10.63\n", hdr);
    expect_csv_error(buf, "g.csv",
                     (const char *[]){"g.csv:2:", "row 1", "5 comma-separated", NULL});
    snprintf(buf, sizeof buf, "%s16,2048,6144,-1,0.1\n", hdr);
    expect_csv_error(buf, "g.csv", (const char *[]){"latency_us (row 1)", "positive", NULL});
    snprintf(buf, sizeof buf, "%s0,2048,6144,1,0.1\n", hdr);
    expect_csv_error(buf, "g.csv", (const char *[]){"m (row 1)", NULL});
    snprintf(buf, sizeof buf, "%s\n\n16,2048,6144,1,0.1\n16,2048,6144,2,0.1\n", hdr);
    expect_csv_error(buf, "g.csv", (const char *[]){"g.csv:5:", "line 4", NULL});
    expect_csv_error("a,b,c\n1,2,3\n", "g.csv",
                     (const char *[]){"g.csv:1:", "header", "a,b,c", NULL});
    expect_csv_error("m,k,n,latency_us\n1,2,3,4\n", "g.csv",
                     (const char *[]){"header", "\"mfu\"", NULL});
    expect_csv_error("", "g.csv", (const char *[]){"g.csv", "empty", NULL});
    expect_csv_error(hdr, "g.csv", (const char *[]){"g.csv", "data row", NULL});
    expect_csv_error("dtype,kv_dtype,batch_size,kv_len,latency_us,mfu\nbf16,bf16,1,1024,25,0.07\n",
                     "mla.csv", (const char *[]){"mla.csv", "file name", NULL});
    expect_csv_error("dtype,kv_dtype,batch_size,kv_len,latency_us,mfu\nbf17,bf16,1,1024,25,0.07\n",
                     "mla_h20_128-512-64.csv", (const char *[]){"dtype (row 1)", "bf17", NULL});
    snprintf(buf, sizeof buf, "%s16,2048,6144,10.63,0.12\n", hdr);
    expect_csv_error(buf, "nogpu.csv", (const char *[]){"gpu", NULL});
    ifb_kernel_table t;
    ifb_err e = {{0}};
    assert_int_equal(ifb_kernel_table_load(&t, KDIR "missing_h20.csv", NULL, &e), -1);
    assert_contains(e.msg, "missing_h20.csv");

    /* A good table loaded from text, then asked a shape of the wrong kind or a bad size. */
    assert_int_equal(ifb_kernel_table_load_string(&t, buf, "x_h20.csv", NULL, &e), 0);
    ifb_kernel_shape s = ifb_kshape_mla_decode(IFB_DTYPE_BF16, IFB_DTYPE_BF16, 1, 1);
    ifb_kernel_result r;
    assert_int_equal(ifb_kernel_time(&t, &s, &r, &e), -1);
    assert_contains(e.msg, "gemm");
    s = ifb_kshape_gemm(-1, 2048, 6144);
    assert_int_equal(ifb_kernel_time(&t, &s, &r, &e), -1);
    s = ifb_kshape_gemm(16, 2048, 6144);
    assert_int_equal(ifb_kernel_time(&t, &s, &r, &e), 0);
    assert_true(r.us == 10.63);
    ifb_kernel_table_free(&t);
}

/* Roofline seconds of MLA decode (128 heads, latent 512, RoPE 64) at (b, kv): BF16 (Q and KV
 * BF16, every FLOP at the BF16 peak) or FlashMLA's FP8 path (Q and KV FP8, the latent QK^T and PV
 * at the FP8 peak, the RoPE part at the BF16 peak). */
static double mla_roof(double b, double kv, int fp8, double p8, double p16, double bw)
{
    double H = 128, L = 512, R = 64;
    double bytes =
        b * kv * (L + R) * (fp8 ? 1 : 2) + b * H * (L + R) * (fp8 ? 1 : 2) + 2 * b * H * L;
    double tc = fp8 ? 4 * b * H * kv * L / p8 + 2 * b * H * kv * R / p16
                    : (2 * b * H * kv * (L + R) + 2 * b * H * kv * L) / p16;
    double tm = bytes / bw;
    return tc > tm ? tc : tm;
}

static void test_mla_fp8(void **state)
{
    (void)state;
    /* H20: 296 / 148 TFLOPS, 4.0 TB/s; H800: 1979 / 989, 3.35 TB/s (the catalogue's sheets) */
    static const struct {
        const char *name;
        double p8, p16, bw;
    } g[] = {{"mla_decode_h20_128-512-64.csv", 296e12, 148e12, 4.0e12},
             {"mla_decode_h800_128-512-64.csv", 1979e12, 989e12, 3.35e12}};
    for (int i = 0; i < 2; i++) {
        ifb_kernel_table t;
        load(&t, g[i].name);
        csv c;
        csv_read(&c, g[i].name);
        double minr = 1e9, maxr = 0;
        for (int r = 0; r < c.n; r++) {
            double b = c.v[r][col(&c, "batch_size")], kv = c.v[r][col(&c, "kv_len")];
            double us = c.v[r][col(&c, "latency_us")];
            double want = us * mla_roof(b, kv, 1, g[i].p8, g[i].p16, g[i].bw) /
                          mla_roof(b, kv, 0, g[i].p8, g[i].p16, g[i].bw);
            ifb_kernel_result res;
            ifb_err e = {{0}};
            if (ifb_kernel_mla_fp8(&t, b, kv, &res, &e))
                fail_msg("%s", e.msg);
            if (fabs(res.us - want) > 1e-6 * want)
                fail_msg("%s b=%g kv=%g: FP8 %.4f us, expected %.4f (BF16 %.3f)", g[i].name, b, kv,
                         res.us, want, us);
            assert_int_equal(res.source, IFB_KSRC_MEASURED);
            double ratio = us / res.us;
            minr = ratio < minr ? ratio : minr;
            maxr = ratio > maxr ? ratio : maxr;
        }
        /* compute-bound H20: the latent part runs twice as fast, the RoPE part does not */
        printf("  %s: FP8 speed-up %.3f .. %.3f over BF16\n", g[i].name, minr, maxr);
        assert_true(minr > 1 && maxr < 2);
        free(c.v);
        ifb_kernel_table_free(&t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_all),
        cmocka_unit_test(test_exact_at_every_row),
        cmocka_unit_test(test_monotone_between_samples),
        cmocka_unit_test(test_mla_bilinear),
        cmocka_unit_test(test_roofline_outside),
        cmocka_unit_test(test_efficiency),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_mla_fp8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
