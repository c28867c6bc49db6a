/* Internal to the kernel tables (kernels.c lookup, kernels_load.c loading): the helpers both
 * halves use. */
#ifndef IFB_KERNELS_INT_H
#define IFB_KERNELS_INT_H
#include "workload/kernels.h"

/* The roofline bound in seconds: the larger of compute at the GPU's peak for dt and memory
 * traffic at its HBM bandwidth. */
static inline double ifb_kernel_bound_s(const ifb_kernel_table *t, double flops, double bytes,
                                        ifb_dtype dt)
{
    double peak = ifb_gpu_peak_flops(&t->gpu, dt);
    double tc = peak > 0 ? flops / peak : 0, tm = bytes / ifb_gpu_hbm_bw(&t->gpu);
    return tc > tm ? tc : tm;
}

/* Two samples of one series: the same key columns. */
static inline int ifb_kernel_same_key(const ifb_kernel_sample *a, const ifb_kernel_sample *b,
                                      int nkey)
{
    for (int i = 0; i < nkey; i++)
        if (a->key[i] != b->key[i])
            return 0;
    return 1;
}

#endif
