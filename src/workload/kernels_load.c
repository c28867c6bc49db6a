/* Kernel latency tables, loading (see kernels.h): InferSim-format CSV tables parsed, checked
 * and indexed (rows sorted by their key columns, series located, duplicate points refused), with
 * the GPU and MLA dimensions taken from the file name. Lookup and interpolation are in
 * kernels.c. Leaves out: other CSV dialects (quoted fields, other separators). */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "workload/kernels.h"
#include "workload/kernels_int.h"
#define MAX_COLS 32

/* Column names of each table kind. */
typedef struct layout {
    const char *kind_name;
    int nkey, nsize, nout;
    const char *key[IFB_KERNEL_MAX_KEYS];
    const char *size[2];
    const char *us[2];
    const char *mfu[2];
} layout;

static const layout layouts[] = {
    [IFB_KERNEL_GEMM] = {"gemm", 2, 1, 1, {"k", "n"}, {"m"}, {"latency_us"}, {"mfu"}},
    [IFB_KERNEL_GROUPED_GEMM_DECODE] = {"grouped_gemm_decode",
                                        6,
                                        1,
                                        2,
                                        {"num_experts", "num_gpus", "num_local_experts", "topk",
                                         "hidden_size", "intermediate_size"},
                                        {"batch_size_per_gpu"},
                                        {"up_proj_us", "down_proj_us"},
                                        {"up_mfu", "down_mfu"}},
    [IFB_KERNEL_GROUPED_GEMM_PREFILL] = {"grouped_gemm_prefill",
                                         6,
                                         1,
                                         2,
                                         {"num_experts", "num_gpus", "num_local_experts", "topk",
                                          "hidden_size", "intermediate_size"},
                                         {"seq_len_per_gpu"},
                                         {"up_proj_us", "down_proj_us"},
                                         {"up_mfu", "down_mfu"}},
    [IFB_KERNEL_MLA_DECODE] = {"mla_decode",
                               2,
                               2,
                               1,
                               {"dtype", "kv_dtype"},
                               {"batch_size", "kv_len"},
                               {"latency_us"},
                               {"mfu"}},
};

const char *ifb_kernel_kind_name(ifb_kernel_kind k)
{
    return (unsigned)k < sizeof layouts / sizeof layouts[0] ? layouts[k].kind_name : "?";
}

#define HEADERS_EXPECTED                                                                           \
    "an InferSim header: m,k,n,latency_us,mfu (GEMM); num_experts,num_gpus,num_local_experts,"     \
    "topk,hidden_size,intermediate_size,batch_size_per_gpu|seq_len_per_gpu,tokens_per_expert,"     \
    "up_proj_us,up_mfu,down_proj_us,down_mfu (grouped GEMM); or dtype,kv_dtype,batch_size,kv_len," \
    "latency_us,mfu (MLA decode)"
/* ---- CSV loading ---- */

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* Splits in place on commas; returns the field count (at most max, -1 if more). */
static int split(char *line, char **f, int max)
{
    int n = 0;
    for (char *p = line;;) {
        char *c = strchr(p, ',');
        if (n == max)
            return -1;
        if (c)
            *c = '\0';
        f[n++] = trim(p);
        if (!c)
            return n;
        p = c + 1;
    }
}

static int parse_num(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

static int find_col(char **names, int n, const char *want)
{
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], want) == 0)
            return i;
    return -1;
}

static void base_name(const char *path, char *out, size_t n)
{
    const char *b = strrchr(path, '/');
    snprintf(out, n, "%s", b ? b + 1 : path);
}

/* GPU from a file name token such as "h20" in "gemm_h20_data.csv". */
static const ifb_gpu *gpu_from_name(const char *name)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", name);
    char *save = NULL;
    for (char *tok = strtok_r(buf, "_.-", &save); tok; tok = strtok_r(NULL, "_.-", &save)) {
        const ifb_gpu *g = ifb_gpu_find(tok, NULL);
        if (g)
            return g;
    }
    return NULL;
}

/* MLA dims from "<anything>_<heads>-<kv_lora_rank>-<rope_dim>.csv". */
static int mla_dims_from_name(const char *name, int *h, int *l, int *r)
{
    const char *u = strrchr(name, '_');
    const char *p = u ? u + 1 : name;
    char tail[16] = "";
    int n = sscanf(p, "%d-%d-%d%15s", h, l, r, tail);
    if (n < 3 || *h <= 0 || *l <= 0 || *r <= 0 || *h > 65536 || *l > 65536 || *r > 65536)
        return -1;
    return (n == 3 || strcmp(tail, ".csv") == 0) ? 0 : -1;
}

static int cmp_sample(const void *pa, const void *pb)
{
    const ifb_kernel_sample *a = pa, *b = pb;
    for (int i = 0; i < IFB_KERNEL_MAX_KEYS; i++)
        if (a->key[i] != b->key[i])
            return a->key[i] < b->key[i] ? -1 : 1;
    for (int i = 0; i < 2; i++)
        if (a->size[i] != b->size[i])
            return a->size[i] < b->size[i] ? -1 : 1;
    return a->line - b->line;
}

static int same_point(const ifb_kernel_sample *a, const ifb_kernel_sample *b, int nkey)
{
    return ifb_kernel_same_key(a, b, nkey) && a->size[0] == b->size[0] && a->size[1] == b->size[1];
}

/* The shape a sample row measured. */
static ifb_kernel_shape sample_shape(const ifb_kernel_table *t, const ifb_kernel_sample *s, int o)
{
    ifb_kernel_shape sh;
    memset(&sh, 0, sizeof sh);
    sh.kind = t->kind;
    switch (t->kind) {
    case IFB_KERNEL_GEMM:
        sh = ifb_kshape_gemm(s->size[0], s->key[0], s->key[1]);
        break;
    case IFB_KERNEL_GROUPED_GEMM_DECODE:
    case IFB_KERNEL_GROUPED_GEMM_PREFILL:
        sh = ifb_kshape_grouped(t->kind, o, s->key[0], s->key[1], s->key[3], s->key[4], s->key[5],
                                s->size[0]);
        sh.local_experts = s->key[2];
        break;
    case IFB_KERNEL_MLA_DECODE:
        sh = ifb_kshape_mla_decode((ifb_dtype)(s->key[0] - 1), (ifb_dtype)(s->key[1] - 1),
                                   s->size[0], s->size[1]);
        break;
    }
    return sh;
}

/* Where a row's column goes and how it is checked. */
typedef struct field {
    int col;
    double *dst;
    int dtype;  /* parse as a dtype name */
    int allow0; /* mfu may be 0 */
} field;

static int parse_rows(ifb_kernel_table *t, char *text, const ifb_gpu *g, ifb_err *e)
{
    const char *file = t->name;
    char *cols[MAX_COLS], *f[MAX_COLS];
    int ncol = 0, header_line = 0;
    int ci_key[IFB_KERNEL_MAX_KEYS], ci_size[2], ci_us[2], ci_mfu[2];
    size_t cap = 0;
    int line = 0;
    char *save = text;
    while (save) {
        char *ln = save;
        char *nl = strchr(ln, '\n');
        save = nl ? nl + 1 : NULL;
        if (nl)
            *nl = '\0';
        line++;
        char *body = trim(ln);
        if (*body == '\0')
            continue;
        if (!header_line) {
            char hdr[512];
            snprintf(hdr, sizeof hdr, "%s", body);
            ncol = split(body, cols, MAX_COLS);
            header_line = line;
            if (ncol < 0)
                return ifb_err_set(e, file, line, "header", HEADERS_EXPECTED,
                                   "more than %d columns", MAX_COLS);
            int kind = -1;
            if (find_col(cols, ncol, "m") >= 0)
                kind = IFB_KERNEL_GEMM;
            else if (find_col(cols, ncol, "batch_size_per_gpu") >= 0)
                kind = IFB_KERNEL_GROUPED_GEMM_DECODE;
            else if (find_col(cols, ncol, "seq_len_per_gpu") >= 0)
                kind = IFB_KERNEL_GROUPED_GEMM_PREFILL;
            else if (find_col(cols, ncol, "kv_len") >= 0)
                kind = IFB_KERNEL_MLA_DECODE;
            if (kind < 0)
                return ifb_err_set(e, file, line, "header", HEADERS_EXPECTED, "\"%.200s\"", hdr);
            const layout *L = &layouts[kind];
            t->kind = (ifb_kernel_kind)kind;
            t->nkey = L->nkey;
            t->nsize = L->nsize;
            t->nout = L->nout;
            const char *missing = NULL;
            for (int i = 0; i < L->nkey && !missing; i++)
                if ((ci_key[i] = find_col(cols, ncol, L->key[i])) < 0)
                    missing = L->key[i];
            for (int i = 0; i < L->nsize && !missing; i++)
                if ((ci_size[i] = find_col(cols, ncol, L->size[i])) < 0)
                    missing = L->size[i];
            for (int i = 0; i < L->nout && !missing; i++) {
                if ((ci_us[i] = find_col(cols, ncol, L->us[i])) < 0)
                    missing = L->us[i];
                else if ((ci_mfu[i] = find_col(cols, ncol, L->mfu[i])) < 0)
                    missing = L->mfu[i];
            }
            if (missing) {
                char expected[128];
                snprintf(expected, sizeof expected, "a column \"%s\" (%s table)", missing,
                         L->kind_name);
                return ifb_err_set(e, file, line, "header", expected, "\"%.200s\"", hdr);
            }
            if (t->kind == IFB_KERNEL_MLA_DECODE &&
                mla_dims_from_name(t->name, &t->mla_heads, &t->mla_kv_lora, &t->mla_rope) < 0)
                return ifb_err_set(e, file, 0, "file name",
                                   "an MLA table named ..._<heads>-<kv_lora_rank>-<rope_dim>.csv "
                                   "(e.g. mla_decode_h20_128-512-64.csv)",
                                   "\"%s\"", t->name);
            continue;
        }
        /* A data row. */
        int row = (int)t->rows + 1;
        int nf = split(body, f, MAX_COLS);
        if (nf != ncol) {
            char key[32], expected[64];
            snprintf(key, sizeof key, "row %d", row);
            snprintf(expected, sizeof expected, "%d comma-separated fields as in the header", ncol);
            if (nf < 0)
                return ifb_err_set(e, file, line, key, expected, "more than %d", MAX_COLS);
            return ifb_err_set(e, file, line, key, expected, "%d", nf);
        }
        ifb_kernel_sample s;
        memset(&s, 0, sizeof s);
        s.line = line;
        const layout *L = &layouts[t->kind];
        field want[IFB_KERNEL_MAX_KEYS + 6];
        int nw = 0;
        for (int i = 0; i < L->nkey; i++)
            want[nw++] = (field){ci_key[i], &s.key[i], t->kind == IFB_KERNEL_MLA_DECODE, 0};
        for (int i = 0; i < L->nsize; i++)
            want[nw++] = (field){ci_size[i], &s.size[i], 0, 0};
        for (int i = 0; i < L->nout; i++) {
            want[nw++] = (field){ci_us[i], &s.us[i], 0, 0};
            want[nw++] = (field){ci_mfu[i], &s.mfu_file[i], 0, 1};
        }
        for (int w = 0; w < nw; w++) {
            const char *v = f[want[w].col];
            char key[96];
            snprintf(key, sizeof key, "%s (row %d)", cols[want[w].col], row);
            if (want[w].dtype) {
                ifb_dtype d;
                if (ifb_dtype_parse(v, key, &d, NULL) < 0)
                    return ifb_err_set(e, file, line, key, "a dtype (bf16, fp8, fp16, fp32)",
                                       "\"%.60s\"", v);
                *want[w].dst = (double)d + 1; /* keys are positive: log distances need it */
                continue;
            }
            double x;
            if (parse_num(v, &x) < 0 || (want[w].allow0 ? x < 0 : x <= 0) || x > 1e15)
                return ifb_err_set(e, file, line, key,
                                   want[w].allow0 ? "a number >= 0" : "a positive number",
                                   "\"%.60s\"", v);
            *want[w].dst = x;
        }
        t->s = ifb_xgrow(t->s, &cap, t->n, sizeof *t->s, 64, "kernel table rows");
        t->s[t->n++] = s;
        t->rows++;
    }
    if (!header_line)
        return ifb_err_set(e, file, 0, "header", HEADERS_EXPECTED, "an empty file");
    if (t->n == 0)
        return ifb_err_set(e, file, 0, "rows", "at least one data row", "none");

    if (!g && !(g = gpu_from_name(t->name)))
        return ifb_err_set(e, file, 0, "gpu",
                           "a GPU given by the caller or named in the file name, e.g. _h20_",
                           "none in \"%s\"", t->name);
    t->gpu = *g;
    return 0;
}

/* Sorts, drops verbatim duplicates, groups series, derives efficiencies. */
static int index_rows(ifb_kernel_table *t, ifb_err *e)
{
    qsort(t->s, t->n, sizeof *t->s, cmp_sample);
    size_t w = 0;
    for (size_t i = 0; i < t->n; i++) {
        if (w > 0 && same_point(&t->s[w - 1], &t->s[i], t->nkey)) {
            const ifb_kernel_sample *a = &t->s[w - 1], *b = &t->s[i];
            if (a->us[0] == b->us[0] && a->us[1] == b->us[1]) {
                t->duplicates++;
                continue;
            }
            char expected[96];
            snprintf(expected, sizeof expected, "one latency per shape (line %d measured it too)",
                     a->line);
            return ifb_err_set(e, t->name, b->line, "latency", expected, "%g us against %g us",
                               b->us[0], a->us[0]);
        }
        t->s[w++] = t->s[i];
    }
    t->n = w;

    t->series = ifb_xcalloc(t->n + 1, sizeof *t->series, "kernel table series");
    t->nseries = 0;
    for (size_t i = 0; i < t->n; i++)
        if (i == 0 || !ifb_kernel_same_key(&t->s[i - 1], &t->s[i], t->nkey))
            t->series[t->nseries++] = i;
    t->series[t->nseries] = t->n;

    for (size_t i = 0; i < t->n; i++) {
        ifb_kernel_sample *s = &t->s[i];
        for (int o = 0; o < t->nout; o++) {
            ifb_kernel_shape sh = sample_shape(t, s, o);
            double fl, by;
            ifb_dtype dt;
            if (ifb_kernel_work(t, &sh, &fl, &by, &dt) < 0)
                return ifb_err_set(e, t->name, s->line, "row", "a valid kernel shape",
                                   "one the work model rejects");
            double sec = s->us[o] * 1e-6, peak = ifb_gpu_peak_flops(&t->gpu, dt);
            s->mfu[o] = peak > 0 ? fl / (sec * peak) : 0;
            s->roof_eff[o] = ifb_kernel_bound_s(t, fl, by, dt) / sec;
        }
    }

    /* Decreasing neighbours: along the last size dimension, and for MLA also along batch. */
    for (size_t k = 0; k < t->nseries; k++)
        for (size_t i = t->series[k]; i < t->series[k + 1]; i++)
            for (size_t j = i + 1; j < t->series[k + 1]; j++) {
                const ifb_kernel_sample *a = &t->s[i], *b = &t->s[j];
                int along_last = j == i + 1 && (t->nsize == 1 || a->size[0] == b->size[0]);
                int along_batch = 0;
                if (t->nsize == 2 && b->size[0] > a->size[0] && b->size[1] == a->size[1]) {
                    /* b must be in the next batch row. */
                    along_batch = 1;
                    for (size_t m = i + 1; m < j; m++)
                        if (t->s[m].size[0] > a->size[0] && t->s[m].size[0] < b->size[0])
                            along_batch = 0;
                }
                if (!along_last && !along_batch)
                    continue;
                for (int o = 0; o < t->nout; o++)
                    if (b->us[o] < a->us[o])
                        t->decreasing++;
            }
    return 0;
}

int ifb_kernel_table_load_string(ifb_kernel_table *t, const char *csv, const char *name,
                                 const ifb_gpu *g, ifb_err *e)
{
    memset(t, 0, sizeof *t);
    base_name(name ? name : "(string)", t->name, sizeof t->name);
    if (!csv)
        return ifb_err_msg(e, "%s: no CSV text given", t->name);
    char *text = ifb_xstrdup(csv, "a kernel table's text");
    int rc = parse_rows(t, text, g, e);
    free(text);
    if (rc == 0)
        rc = index_rows(t, e);
    if (rc < 0)
        ifb_kernel_table_free(t);
    return rc;
}

int ifb_kernel_table_load(ifb_kernel_table *t, const char *path, const ifb_gpu *g, ifb_err *e)
{
    memset(t, 0, sizeof *t);
    if (!path)
        return ifb_err_msg(e, "kernel table: no path given");
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return ifb_err_set(e, path, 0, "file", "a readable kernel table (CSV)",
                           "it cannot be opened");
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (cap - len < 4096) {
            size_t ncap = cap ? 2 * cap : 16384;
            if (ncap > (64u << 20)) {
                free(buf);
                fclose(fp);
                return ifb_err_set(e, path, 0, "file", "a kernel table under 64 MiB",
                                   "a larger file");
            }
            buf = ifb_xrealloc(buf, ncap, 1, "a kernel table file");
            cap = ncap;
        }
        size_t got = fread(buf + len, 1, cap - len - 1, fp);
        len += got;
        if (got == 0)
            break;
    }
    int rerr = ferror(fp);
    fclose(fp);
    if (rerr) {
        free(buf);
        return ifb_err_set(e, path, 0, "file", "a readable kernel table (CSV)", "a read error");
    }
    buf[len] = '\0';
    if (memchr(buf, '\0', len)) {
        free(buf);
        return ifb_err_set(e, path, 0, "file", "a text CSV file", "a NUL byte");
    }
    int rc = ifb_kernel_table_load_string(t, buf, path, g, e);
    free(buf);
    return rc;
}

void ifb_kernel_table_free(ifb_kernel_table *t)
{
    if (!t)
        return;
    free(t->s);
    free(t->series);
    t->s = NULL;
    t->series = NULL;
    t->n = t->nseries = 0;
}
