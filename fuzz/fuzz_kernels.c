/* Fuzz target: measured kernel tables (workload/kernels.h), the CSV parse and the lookups a run
 * makes on an accepted table (exact samples, interpolation between them, roofline outside).
 *
 * Input: the first line is the file name (it selects the GPU, "_h20_", and for MLA tables the
 * dimensions, "..._128-512-64.csv"), the rest is the CSV text. The seeds are the real tables
 * with their real names.
 * Invariants (a violation traps): a failure fills its ifb_err; a query at a measured sample
 * answers "measured" with that sample's latency; every answer is finite, not negative, and its
 * time in picoseconds is the latency (or IFB_TIME_NEVER when it does not fit); every
 * description fits its buffer. */
#include <math.h>
#include <stdio.h>

#include "fuzz.h"
#include "workload/kernels.h"

/* The shape whose keys and size dimensions are those given (the inverse of kernels.c's
 * shape_keys), for output o. */
static ifb_kernel_shape shape_at(const ifb_kernel_table *t, const double *key, const double *size,
                                 int o)
{
    ifb_kernel_shape s;
    memset(&s, 0, sizeof s);
    s.kind = t->kind;
    switch (t->kind) {
    case IFB_KERNEL_GEMM:
        s.k = key[0];
        s.n = key[1];
        s.m = size[0];
        break;
    case IFB_KERNEL_GROUPED_GEMM_DECODE:
    case IFB_KERNEL_GROUPED_GEMM_PREFILL:
        s.experts = key[0];
        s.gpus = key[1];
        s.local_experts = key[2];
        s.topk = key[3];
        s.hidden = key[4];
        s.inter = key[5];
        s.tokens = size[0];
        s.proj = o;
        break;
    case IFB_KERNEL_MLA_DECODE:
        s.dtype = (ifb_dtype)((int)key[0] - 1);
        s.kv_dtype = (ifb_dtype)((int)key[1] - 1);
        s.batch = size[0];
        s.kv_len = size[1];
        break;
    }
    return s;
}

static void check_answer(const ifb_kernel_table *t, const ifb_kernel_result *r)
{
    IFB_FUZZ_CHECK(isfinite(r->us) && r->us >= 0);
    IFB_FUZZ_CHECK(!isnan(r->mfu) && r->mfu >= 0 && !isnan(r->roof_eff) && r->roof_eff >= 0);
    double ps = r->us * 1e6;
    if (r->time != IFB_TIME_NEVER && fabs((double)r->time - ps) > 0.5 + 1e-12 * ps) {
        fprintf(stderr, "fuzz_kernels: %.17g us gave time %llu ps\n", r->us,
                (unsigned long long)r->time);
        __builtin_trap();
    }
    char buf[256];
    int n = ifb_kernel_describe(t, r, buf, sizeof buf);
    IFB_FUZZ_CHECK(n > 0);
}

static void query(const ifb_kernel_table *t, const ifb_kernel_sample *smp, int o, double scale0,
                  double scale1, int exact)
{
    double size[2] = {smp->size[0] * scale0, smp->size[1] * scale1};
    ifb_kernel_shape s = shape_at(t, smp->key, size, o);
    ifb_kernel_result r;
    ifb_err e;
    e.msg[0] = '\0';
    if (ifb_kernel_time(t, &s, &r, &e) != 0) {
        IFB_FUZZ_CHECK(e.msg[0] != '\0');
        IFB_FUZZ_CHECK(!exact);
        return;
    }
    check_answer(t, &r);
    if (exact) {
        IFB_FUZZ_CHECK(r.source == IFB_KSRC_MEASURED);
        IFB_FUZZ_CHECK(r.us == smp->us[o]);
    }
    double fl, by;
    ifb_dtype dt;
    if (ifb_kernel_work(t, &s, &fl, &by, &dt) == 0)
        IFB_FUZZ_CHECK(!isnan(fl) && fl >= 0 && !isnan(by) && by >= 0);
}

int ifb_fuzz_kernels(const uint8_t *data, size_t size)
{
    size_t nl = ifb_fuzz_find(data, size, '\n');
    char *name = ifb_fuzz_strndup(data, nl);
    char *csv = ifb_fuzz_strndup(data + (nl < size ? nl + 1 : size), nl < size ? size - nl - 1 : 0);
    ifb_kernel_table *t = ifb_xmalloc(sizeof *t, "a kernel table");
    {
        ifb_err e;
        e.msg[0] = '\0';
        if (ifb_kernel_table_load_string(t, csv, name, NULL, &e) == 0) {
            IFB_FUZZ_CHECK(t->n > 0 && t->nseries > 0 && t->series[t->nseries] == t->n);
            IFB_FUZZ_CHECK(t->nout >= 1 && t->nout <= 2);
            /* A few samples spread over the table: exact, between, below, above. */
            size_t step = t->n / 16 + 1;
            for (size_t i = 0; i < t->n; i += step) {
                const ifb_kernel_sample *smp = &t->s[i];
                for (int o = 0; o < t->nout; o++) {
                    query(t, smp, o, 1, 1, 1);
                    query(t, smp, o, 0.5, 1, 0);
                    query(t, smp, o, 1.5, 0.75, 0);
                    query(t, smp, o, 1e3, 1e3, 0);
                }
            }
            ifb_kernel_table_free(t);
        } else {
            IFB_FUZZ_CHECK(e.msg[0] != '\0');
            IFB_FUZZ_CHECK(t->s == NULL && t->series == NULL);
        }
    }
    free(t);
    free(csv);
    free(name);
    return 0;
}

#ifndef IFB_FUZZ_NO_ENTRY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return ifb_fuzz_kernels(data, size);
}
#endif
