/* GPU catalogue, roofline time and HBM fit check (see gpu.h).
 * Peaks are dense (no 2:4 sparsity): vendors often quote the sparse figure, twice as large.
 * Capacities: hbm_gb is the marketed size; hbm_bytes is what nvidia-smi reports as total memory,
 * which is what an engine can allocate from (H20: 97,871 MiB = 102.6 GB for "96 GB"). */
#include "workload/gpu.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MIB (1024.0 * 1024.0)
#define GIB (1024.0 * 1024.0 * 1024.0)

static const ifb_gpu catalogue[] = {
    {"H20", 296, 148, 96, 97871 * MIB, 4.0, 900, 78,
     "FLOPS, HBM, NVLink: LMSYS blog 2025-09-26 'SGLang on H20' spec table; SMs: alibaba/InferSim "
     "hardware/gpu.py; 97,871 MiB: nvidia-smi output in public issue logs"},
    /* The 141 GB H20 variant; compute assumed equal to the 96 GB part (no datasheet found). */
    {"H20-3e", 296, 148, 141, 141 * GIB, 4.8, 900, 78,
     "141 GB / 4.8 TB/s: sglang PR #6835; compute assumed as H20; capacity assumed 141 GiB"},
    {"H800", 1979, 989, 80, 81559 * MIB, 3.35, 400, 132,
     "LMSYS blog 2025-09-26 spec table; SMs: alibaba/InferSim; 81,559 MiB: nvidia-smi logs"},
    {"H100-SXM", 1979, 989, 80, 81559 * MIB, 3.35, 900, 132,
     "NVIDIA H100 datasheet (SXM5: 3,958 TFLOPS FP8 with sparsity, half dense); 81,559 MiB: "
     "nvidia-smi logs"},
    {"H200", 1979, 989, 141, 143771 * MIB, 4.8, 900, 132,
     "NVIDIA H200 datasheet (same GH100 compute as H100 SXM, 141 GB HBM3e 4.8 TB/s); 143,771 "
     "MiB: nvidia-smi logs"},
    {"B200", 4500, 2250, 180, 183359 * MIB, 8.0, 1800, 148,
     "NVIDIA HGX/DGX B200 datasheet (1,000 W: FP8 9 PFLOPS sparse, 4.5 dense; 1,440 GB and 64 "
     "TB/s per 8 GPUs; NVLink 5 1.8 TB/s); 183,359 MiB: nvidia-smi logs"},
};

size_t ifb_gpu_count(void)
{
    return sizeof catalogue / sizeof catalogue[0];
}

const ifb_gpu *ifb_gpu_at(size_t i)
{
    return i < ifb_gpu_count() ? &catalogue[i] : NULL;
}

const ifb_gpu *ifb_gpu_find(const char *name, ifb_err *e)
{
    if (name) {
        for (size_t i = 0; i < ifb_gpu_count(); i++)
            if (strcasecmp(name, catalogue[i].name) == 0)
                return &catalogue[i];
        /* "H100" on its own means the SXM part, the one serving clusters use. */
        if (strcasecmp(name, "H100") == 0 || strcasecmp(name, "H100SXM") == 0 ||
            strcasecmp(name, "H100_SXM") == 0)
            return ifb_gpu_find("H100-SXM", e);
    }
    char known[256] = "";
    size_t off = 0;
    for (size_t i = 0; i < ifb_gpu_count() && off < sizeof known; i++)
        off += (size_t)snprintf(known + off, sizeof known - off, "%s%s", i ? ", " : "",
                                catalogue[i].name);
    char expected[300];
    snprintf(expected, sizeof expected, "one of %s", known);
    ifb_err_set(e, NULL, 0, "gpu", expected, "\"%s\"", name ? name : "(null)");
    return NULL;
}

int ifb_dtype_bytes(ifb_dtype d)
{
    switch (d) {
    case IFB_DTYPE_FP8:
        return 1;
    case IFB_DTYPE_BF16:
    case IFB_DTYPE_FP16:
        return 2;
    case IFB_DTYPE_FP32:
        return 4;
    }
    return 0;
}

const char *ifb_dtype_name(ifb_dtype d)
{
    switch (d) {
    case IFB_DTYPE_FP8:
        return "fp8";
    case IFB_DTYPE_BF16:
        return "bf16";
    case IFB_DTYPE_FP16:
        return "fp16";
    case IFB_DTYPE_FP32:
        return "fp32";
    }
    return "?";
}

int ifb_dtype_parse(const char *s, const char *key, ifb_dtype *out, ifb_err *e)
{
    static const struct {
        const char *name;
        ifb_dtype d;
    } names[] = {
        {"fp8", IFB_DTYPE_FP8},      {"e4m3", IFB_DTYPE_FP8},      {"float8_e4m3fn", IFB_DTYPE_FP8},
        {"bf16", IFB_DTYPE_BF16},    {"bfloat16", IFB_DTYPE_BF16}, {"fp16", IFB_DTYPE_FP16},
        {"float16", IFB_DTYPE_FP16}, {"half", IFB_DTYPE_FP16},     {"fp32", IFB_DTYPE_FP32},
        {"float32", IFB_DTYPE_FP32}, {"float", IFB_DTYPE_FP32},
    };
    if (s)
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
            if (strcasecmp(s, names[i].name) == 0) {
                *out = names[i].d;
                return 0;
            }
    return ifb_err_set(e, NULL, 0, key ? key : "dtype",
                       "one of fp8 (e4m3, float8_e4m3fn), bf16 (bfloat16), fp16 (float16, half), "
                       "fp32 (float32, float)",
                       "\"%s\"", s ? s : "(null)");
}

double ifb_gpu_peak_flops(const ifb_gpu *g, ifb_dtype d)
{
    switch (d) {
    case IFB_DTYPE_FP8:
        return g->fp8_tflops * 1e12;
    case IFB_DTYPE_BF16:
    case IFB_DTYPE_FP16:
        return g->bf16_tflops * 1e12;
    case IFB_DTYPE_FP32:
        return 0;
    }
    return 0;
}

double ifb_gpu_hbm_bw(const ifb_gpu *g)
{
    return g->hbm_tbps * 1e12;
}

double ifb_gpu_nvlink_bw_per_dir(const ifb_gpu *g)
{
    return g->nvlink_gbps_bidir * 1e9 / 2;
}

/* Seconds to picoseconds, rounded up; anything beyond the ifb_time range saturates to NEVER. */
static ifb_time seconds_to_time(double s)
{
    double ps = ceil(s * (double)IFB_SEC);
    if (!(ps >= 0) || ps >= 1.8e19)
        return IFB_TIME_NEVER;
    return (ifb_time)ps;
}

ifb_time ifb_gpu_op_time(const ifb_gpu *g, double flops, double bytes, ifb_dtype dtype,
                         double eff_compute, double eff_memory)
{
    /* The negated comparisons also reject NaN. */
    if (!g || !(flops >= 0) || !(bytes >= 0) || !(eff_compute > 0) || !(eff_compute <= 1) ||
        !(eff_memory > 0) || !(eff_memory <= 1))
        return IFB_TIME_NEVER;
    double peak = ifb_gpu_peak_flops(g, dtype);
    if (flops > 0 && !(peak > 0))
        return IFB_TIME_NEVER;
    double tc = flops > 0 ? flops / (peak * eff_compute) : 0;
    double tm = bytes > 0 ? bytes / (ifb_gpu_hbm_bw(g) * eff_memory) : 0;
    return seconds_to_time(tc > tm ? tc : tm);
}

int ifb_gpu_memory_check(const ifb_gpu *g, double weight_bytes, double kv_bytes,
                         double activation_bytes, ifb_err *e)
{
    if (!g)
        return ifb_err_msg(e, "memory check: no GPU given");
    if (!(weight_bytes >= 0) || !(kv_bytes >= 0) || !(activation_bytes >= 0))
        return ifb_err_set(e, NULL, 0, "memory", "non-negative byte counts",
                           "weights %g, KV cache %g, activations %g", weight_bytes, kv_bytes,
                           activation_bytes);
    double need = weight_bytes + kv_bytes + activation_bytes;
    if (need <= g->hbm_bytes)
        return 0;
    char key[64], expected[160];
    snprintf(key, sizeof key, "%s memory", g->name);
    snprintf(expected, sizeof expected, "at most %.2f GB per GPU (%.0f MiB, marketed %.0f GB)",
             g->hbm_bytes / 1e9, g->hbm_bytes / MIB, g->hbm_gb);
    return ifb_err_set(e, NULL, 0, key, expected,
                       "%.2f GB weights + %.2f GB KV cache + %.2f GB activations = %.2f GB: does "
                       "not fit, misses by %.2f GB",
                       weight_bytes / 1e9, kv_bytes / 1e9, activation_bytes / 1e9, need / 1e9,
                       (need - g->hbm_bytes) / 1e9);
}
