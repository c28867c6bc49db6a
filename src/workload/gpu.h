/* GPU catalogue and roofline compute model.
 * Models: datasheet peaks (dense tensor-core FP8/BF16 FLOP/s), HBM capacity and bandwidth, NVLink
 * bandwidth and SM count of the GPUs the serving scenarios use; the time of one operation as
 * max(compute time, memory time) at caller-given efficiencies; whether weights + KV cache +
 * activations fit in HBM.
 * Leaves out: clocks and power capping, L2 cache reuse, sparsity (all peaks are dense), overlap of
 * several kernels on one GPU, and the memory the CUDA context and communication buffers take
 * (callers pass that as part of the activation bytes). */
#ifndef IFB_WORKLOAD_GPU_H
#define IFB_WORKLOAD_GPU_H
#include <stddef.h>

#include "core/err.h"
#include "core/time.h"

/* Numeric formats of weights, KV cache and messages. FP8 is e4m3. */
typedef enum ifb_dtype { IFB_DTYPE_FP8, IFB_DTYPE_BF16, IFB_DTYPE_FP16, IFB_DTYPE_FP32 } ifb_dtype;

/* Bytes per element (1, 2, 2, 4); 0 for an out-of-range value. */
int ifb_dtype_bytes(ifb_dtype d);
/* "fp8", "bf16", "fp16", "fp32"; "?" for an out-of-range value. */
const char *ifb_dtype_name(ifb_dtype d);
/* Accepts fp8, e4m3, float8_e4m3fn, bf16, bfloat16, fp16, float16, half, fp32, float32, float
 * (case-insensitive). Returns 0, or -1 with e naming key (may be NULL) and the accepted names. */
int ifb_dtype_parse(const char *s, const char *key, ifb_dtype *out, ifb_err *e);

typedef struct ifb_gpu {
    const char *name;         /* catalogue name, e.g. "H20" */
    double fp8_tflops;        /* dense tensor-core FP8, 10^12 FLOP/s */
    double bf16_tflops;       /* dense tensor-core BF16 (FP16 is the same on these parts) */
    double hbm_gb;            /* datasheet capacity as marketed, "GB" */
    double hbm_bytes;         /* capacity the driver reports (nvidia-smi MiB x 2^20) */
    double hbm_tbps;          /* HBM bandwidth, 10^12 B/s */
    double nvlink_gbps_bidir; /* NVLink per GPU, 10^9 B/s, both directions added (half each way) */
    int sms;                  /* streaming multiprocessors */
    const char *source;       /* where the figures come from */
} ifb_gpu;

/* Catalogue: H20, H20-3e, H800, H100-SXM, H200, B200. */
size_t ifb_gpu_count(void);
const ifb_gpu *ifb_gpu_at(size_t i);
/* Case-insensitive lookup; "H100" is accepted for H100-SXM. NULL with e listing the known names. */
const ifb_gpu *ifb_gpu_find(const char *name, ifb_err *e);

/* Peak dense FLOP/s for a compute dtype; FP8 and BF16/FP16 only (FP32 has no tensor-core entry: 0).
 */
double ifb_gpu_peak_flops(const ifb_gpu *g, ifb_dtype d);
/* HBM bandwidth in B/s. */
double ifb_gpu_hbm_bw(const ifb_gpu *g);
/* NVLink bandwidth in one direction, B/s (half the bidirectional figure). */
double ifb_gpu_nvlink_bw_per_dir(const ifb_gpu *g);

/* Roofline: max(flops / (peak(dtype) x eff_compute), bytes / (hbm_bw x eff_memory)), rounded up to
 * a whole picosecond. Efficiencies must be in (0, 1]; flops and bytes >= 0. Invalid arguments, or
 * flops > 0 in a dtype without a peak, give IFB_TIME_NEVER. */
ifb_time ifb_gpu_op_time(const ifb_gpu *g, double flops, double bytes, ifb_dtype dtype,
                         double eff_compute, double eff_memory);

/* Checks weight_bytes + kv_bytes + activation_bytes (per GPU) against g->hbm_bytes. Returns 0 if
 * they fit; otherwise -1 with e saying each part and by how many GB (10^9 B) the sum misses. */
int ifb_gpu_memory_check(const ifb_gpu *g, double weight_bytes, double kv_bytes,
                         double activation_bytes, ifb_err *e);

#endif
