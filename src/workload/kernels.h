/* Measured GPU kernel latencies (alibaba/InferSim bench_data CSVs) turned into kernel times.
 * Models: four table kinds, told apart by their header -
 *   GEMM          m,k,n,latency_us,mfu (DeepGEMM FP8, BF16 out; size dimension m)
 *   grouped GEMM  num_experts,num_gpus,num_local_experts,topk,hidden_size,intermediate_size,
 *                 batch_size_per_gpu | seq_len_per_gpu,tokens_per_expert,up_proj_us,up_mfu,
 *                 down_proj_us,down_mfu (MoE experts of one GPU, decode "masked" or prefill
 *                 "contiguous" layout; size dimension = tokens per GPU; two kernels per row)
 *   MLA decode    dtype,kv_dtype,batch_size,kv_len,latency_us,mfu (FlashMLA, absorbed form; size
 *                 dimensions batch and kv_len; heads/kv_lora/rope from the file name H-L-R.csv)
 * A query with the key columns of a measured series (e.g. k and n) is exact at the series'
 * samples and piecewise-linear in the size dimension between them (bilinear for MLA), so it moves
 * monotonically from one sample to the next. Outside the measured range, or for a key that was
 * not measured, the time is the roofline of the shape divided by the roofline efficiency of the
 * nearest measured sample (nearest key in log space, then nearest size); that figure reports its
 * source as "roofline". At the end of a series this extrapolation is continuous.
 * Leaves out: run-to-run noise (each row is one measurement), load imbalance between experts
 * beyond what the benchmark had (DeepGEMM masked layout with +-30% random tokens per expert), and
 * any dependence on clocks. Some measured series are not monotone at small sizes (latency-bound
 * kernels where a larger m ran faster); the tables are used as measured and the count of such
 * decreasing pairs is reported in `decreasing`. */
#ifndef IFB_WORKLOAD_KERNELS_H
#define IFB_WORKLOAD_KERNELS_H
#include <stddef.h>

#include "core/err.h"
#include "core/time.h"
#include "workload/gpu.h"

typedef enum ifb_kernel_kind {
    IFB_KERNEL_GEMM,
    IFB_KERNEL_GROUPED_GEMM_DECODE,
    IFB_KERNEL_GROUPED_GEMM_PREFILL,
    IFB_KERNEL_MLA_DECODE
} ifb_kernel_kind;

/* Grouped GEMM kernels: gate+up projection (n = 2 x intermediate) or down projection. */
enum { IFB_KPROJ_UP = 0, IFB_KPROJ_DOWN = 1 };

typedef enum ifb_kernel_source {
    IFB_KSRC_MEASURED,     /* a sample of the table */
    IFB_KSRC_INTERPOLATED, /* between samples of one measured series */
    IFB_KSRC_ROOFLINE      /* roofline scaled by the nearest sample's efficiency */
} ifb_kernel_source;

typedef struct ifb_kernel_shape {
    ifb_kernel_kind kind;
    double m, k, n; /* GEMM: [m x k] . [k x n] */
    int proj;       /* grouped GEMM: IFB_KPROJ_UP or IFB_KPROJ_DOWN */
    double experts, gpus, local_experts, topk, hidden, inter;
    double tokens; /* grouped GEMM: batch_size_per_gpu (decode) or seq_len_per_gpu (prefill) */
    ifb_dtype dtype, kv_dtype; /* MLA */
    double batch, kv_len;      /* MLA */
} ifb_kernel_shape;

ifb_kernel_shape ifb_kshape_gemm(double m, double k, double n);
/* local_experts is set to experts / gpus, as in the benchmark. */
ifb_kernel_shape ifb_kshape_grouped(ifb_kernel_kind kind, int proj, double experts, double gpus,
                                    double topk, double hidden, double inter,
                                    double tokens_per_gpu);
ifb_kernel_shape ifb_kshape_mla_decode(ifb_dtype dtype, ifb_dtype kv_dtype, double batch,
                                       double kv_len);

#define IFB_KERNEL_MAX_KEYS 6

/* One measured row. Index [o] is the kernel: 0 for GEMM/MLA and grouped up_proj, 1 for down_proj.
 */
typedef struct ifb_kernel_sample {
    int line;                        /* line in the CSV file (the header is line 1) */
    double key[IFB_KERNEL_MAX_KEYS]; /* columns that must match (MLA dtypes as ifb_dtype + 1) */
    double size[2];                  /* interpolated columns */
    double us[2];                    /* latency, microseconds */
    double mfu_file[2];              /* the file's mfu column */
    double mfu[2];                   /* derived here: FLOPs / (latency x dense peak) */
    double roof_eff[2];              /* roofline time / latency (can exceed 1 where the model's
                                        work overestimates the run, e.g. experts left empty) */
} ifb_kernel_sample;

typedef struct ifb_kernel_table {
    char name[128]; /* file name without directories, used in messages and sources */
    ifb_kernel_kind kind;
    ifb_gpu gpu; /* the spec used for efficiencies and the roofline */
    int nkey, nsize, nout;
    int mla_heads, mla_kv_lora, mla_rope;
    ifb_kernel_sample *s; /* sorted by key, then size */
    size_t n;
    size_t *series; /* series i is s[series[i]] .. s[series[i + 1] - 1] */
    size_t nseries;
    size_t rows;       /* data rows read */
    size_t duplicates; /* rows identical to an earlier one, dropped */
    size_t decreasing; /* adjacent sample pairs (per kernel) whose latency falls as size grows */
} ifb_kernel_table;

/* Loads a table. g gives the GPU the data was measured on; NULL infers it from the file name
 * (e.g. "_h20_"). Returns 0, or -1 with e naming file, line/row, column, expected and found. */
int ifb_kernel_table_load(ifb_kernel_table *t, const char *path, const ifb_gpu *g, ifb_err *e);
/* Same from CSV text; name stands for the file name (and is parsed for GPU and MLA dims). */
int ifb_kernel_table_load_string(ifb_kernel_table *t, const char *csv, const char *name,
                                 const ifb_gpu *g, ifb_err *e);
void ifb_kernel_table_free(ifb_kernel_table *t);

typedef struct ifb_kernel_result {
    ifb_time time; /* us rounded to the nearest picosecond */
    double us;
    ifb_kernel_source source;
    double mfu;           /* FLOPs / (time x peak) at this answer */
    double roof_eff;      /* roofline time / time */
    int line_lo, line_hi; /* CSV lines of the samples used (roofline: the nearest sample) */
} ifb_kernel_result;

/* Kernel time for a shape. Returns 0, or -1 with e if the shape does not fit the table's kind or
 * has a non-positive dimension. */
int ifb_kernel_time(const ifb_kernel_table *t, const ifb_kernel_shape *s, ifb_kernel_result *r,
                    ifb_err *e);

/* FLOPs and HBM bytes of a shape, and the dtype its FLOPs run in (FP8 for the GEMMs, the query
 * dtype for MLA): what the roofline and the efficiencies use. Returns -1 on a bad shape. */
int ifb_kernel_work(const ifb_kernel_table *t, const ifb_kernel_shape *s, double *flops,
                    double *bytes, ifb_dtype *dtype);

/* MLA decode in FlashMLA's FP8 path (deepseek-ai/FlashMLA #54, #82: Q and KV in FP8, FP8 WGMMA,
 * the RoPE part of QK^T in BF16) at (batch, kv_len), from an MLA table's BF16 series: the FP8
 * kernel's roofline (FP8 KV and Q bytes; the latent QK^T and PV at the FP8 peak, the RoPE part
 * at the BF16 peak) divided by the BF16 kernel's roofline efficiency at the same shape (its
 * sample, interpolation or nearest efficiency). ASSUMPTION: the FP8 kernel reaches the same
 * fraction of its roofline as the BF16 one (no public FP8 table found). r->source is the BF16
 * lookup's; r->roof_eff the BF16 efficiency used. */
int ifb_kernel_mla_fp8(const ifb_kernel_table *t, double batch, double kv_len, ifb_kernel_result *r,
                       ifb_err *e);
/* 1 if the table measured a series with exactly the shape's key columns (its size may still be
 * outside the measured range). */
int ifb_kernel_has_series(const ifb_kernel_table *t, const ifb_kernel_shape *s);
/* Roofline time in seconds of a shape at the table GPU's full peak and bandwidth (what a
 * result's roof_eff divides); NaN on a bad shape. */
double ifb_kernel_roofline_s(const ifb_kernel_table *t, const ifb_kernel_shape *s);

const char *
ifb_kernel_source_name(ifb_kernel_source s); /* "measured", "interpolated", "roofline" */
const char *ifb_kernel_kind_name(ifb_kernel_kind k);
/* "measured: gemm_h20_data.csv", "interpolated: gemm_h20_data.csv",
 * "roofline (efficiency 0.31 of gemm_h20_data.csv line 2)". Returns snprintf's count. */
int ifb_kernel_describe(const ifb_kernel_table *t, const ifb_kernel_result *r, char *buf, size_t n);

#endif
