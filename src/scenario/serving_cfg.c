/* The serving workload's keys (see serving_cfg.h); their documentation, IFB_SERVING_KEYS_DOC,
 * is in serving_keys_doc.c (pasted into docs/scenario.md).
 * Leaves out: checks that need the topology (ifb_serving_create does them). */
#include "scenario/serving_cfg.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/embedded.h"

/* A trace named without a folder that is not a file here is one of the traces shipped with
 * infabric (data/traces): looked up in the installed data folder, then in the source tree the
 * binary was built from. NULL: use the name as given (its error names it). */
static char *find_trace(const char *name)
{
    if (strchr(name, '/') || access(name, R_OK) == 0)
        return NULL;
    const char *const dirs[] = {IFB_DATA_DIR "/traces", IFB_SOURCE_DIR "/data/traces"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        size_t n = strlen(dirs[i]) + 1 + strlen(name) + 1;
        char *p = ifb_xmalloc(n, "a trace's path");
        snprintf(p, n, "%s/%s", dirs[i], name);
        if (access(p, R_OK) == 0)
            return p;
        free(p);
    }
    return NULL;
}

/* workload.trace_speed: a replay `speed` times as fast. Arrival times stay below 10^6 s of
 * simulated time (10^18 ps of the 1.8 x 10^19 a 64-bit time holds), so a replay slowed down
 * many times cannot wrap the clock. */
static int scale_arrivals(ifb_trace *t, double speed)
{
    for (size_t i = 0; i < t->n; i++) {
        double a = (double)t->rows[i].arrival / speed;
        if (a > 1e6 * (double)IFB_SEC)
            return -1;
        t->rows[i].arrival = (ifb_time)llround(a);
    }
    return 0;
}

static const char *kp(char *buf, size_t n, const char *prefix, const char *k)
{
    if (prefix && *prefix)
        snprintf(buf, n, "%s.%s", prefix, k);
    else
        snprintf(buf, n, "%s", k);
    return buf;
}

static int parse_len(ifb_cfg *c, const char *path, const char *s, ifb_len_dist *d, ifb_err *e)
{
    char *end;
    if (!strcmp(s, "trace")) {
        *d = (ifb_len_dist){IFB_LEN_TRACE, 0, 0};
        return 0;
    }
    if (!strncmp(s, "uniform:", 8)) {
        errno = 0;
        long long a = strtoll(s + 8, &end, 10);
        if (end != s + 8 && *end == '-') {
            const char *b0 = end + 1;
            long long b = strtoll(b0, &end, 10);
            if (end != b0 && !*end && !errno && a >= 1 && b >= a && b <= 100000000) {
                *d = (ifb_len_dist){IFB_LEN_UNIFORM, a, b};
                return 0;
            }
        }
    } else {
        errno = 0;
        long long a = strtoll(s, &end, 10);
        if (end != s && !*end && !errno && a >= 1 && a <= 100000000) {
            *d = (ifb_len_dist){IFB_LEN_FIXED, a, a};
            return 0;
        }
    }
    return ifb_cfg_errf(c, path, e, "a token count N >= 1, uniform:A-B with 1 <= A <= B, or trace",
                        "'%s'", s);
}

static int get_dtype(ifb_cfg *c, const char *path, ifb_dtype def, ifb_dtype *out, ifb_err *e)
{
    const char *s;
    if (ifb_cfg_get_string(c, path, NULL, &s, e))
        return -1;
    if (!s) {
        *out = def;
        return 0;
    }
    ifb_err tmp;
    if (ifb_dtype_parse(s, path, out, &tmp))
        return ifb_cfg_errf(c, path, e, "fp8, bf16, fp16 or fp32", "'%s'", s);
    return 0;
}

static int load_model(ifb_cfg *c, const char *path, const char *name, ifb_model *m, ifb_err *e)
{
    FILE *f = fopen(name, "rb");
    if (f) {
        fclose(f);
        if (ifb_model_load(m, name, e) == 0)
            return 0;
        char msg[sizeof e->msg];
        snprintf(msg, sizeof msg, "%s", e->msg);
        return ifb_cfg_errf(c, path, e, "a valid model config", "%s", msg);
    }
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    const char *text = ifb_embedded_file(base);
    if (!text)
        return ifb_cfg_errf(c, path, e,
                            "a config.json path or a shipped model (deepseek-r1-config.json, "
                            "qwen3-235b-a22b-config.json, mixtral-8x7b-v0.1-config.json)",
                            "'%s' (no such file)", name);
    if (ifb_model_load_string(m, text, base, e)) {
        char msg[sizeof e->msg];
        snprintf(msg, sizeof msg, "%s", e->msg);
        return ifb_cfg_errf(c, path, e, "a valid model config", "%s", msg);
    }
    return 0;
}

/* The parallel-layout keys under `base` (e.g. "workload.parallel"). A group's keys default to
 * the workload's (`def`); when its layout differs, tp/dp/ep take that layout's defaults. */
typedef struct par_keys {
    ifb_par_cfg par;
    ifb_a2a_mode a2a;
    ifb_overlap overlap;
    ifb_mtp_cfg mtp;
} par_keys;

static const char *const layouts[] = {"dp-ep", "tp", "dp-tp", NULL};

static int load_parallel(ifb_cfg *c, const char *base, const par_keys *def, int inherit,
                         const ifb_model *m, par_keys *o, ifb_err *e)
{
    static const char *const places[] = {"round-robin", "contiguous", "load", NULL};
    static const char *const a2as[] = {"auto", "low-latency", "normal", NULL};
    char p[320];
#define PK(k) (snprintf(p, sizeof p, "%s.%s", base, k), p)
    par_keys r = *def;
    int v;
    int64_t iv;
    bool bv;
    if (ifb_cfg_get_enum(c, PK("layout"), layouts, def->par.layout, &v, e))
        return -1;
    r.par.layout = (ifb_layout)v;
    int same = inherit && r.par.layout == def->par.layout;
    if (ifb_cfg_get_int(c, PK("tp"),
                        same                               ? def->par.tp
                        : r.par.layout == IFB_LAYOUT_DP_EP ? 1
                                                           : 0,
                        1, 1 << 20, &iv, e))
        return -1;
    r.par.tp = (int)iv;
    if (ifb_cfg_get_int(c, PK("dp"), same ? def->par.dp : 0, 1, 1 << 20, &iv, e))
        return -1;
    r.par.dp = (int)iv;
    if (ifb_cfg_get_int(c, PK("ep"), same ? def->par.ep : 0, 1, 1 << 20, &iv, e))
        return -1;
    r.par.ep = (int)iv;
    if (ifb_cfg_get_enum(c, PK("placement"), places, def->par.placement, &v, e))
        return -1;
    r.par.placement = (ifb_placement)v;
    if (ifb_cfg_get_int(c, PK("redundant_experts"), def->par.redundant, 0, 1 << 16, &iv, e))
        return -1;
    r.par.redundant = (int)iv;
    if (ifb_cfg_get_int(c, PK("pp"), def->par.pp > 1 ? def->par.pp : 1, 1, IFB_PP_MAX, &iv, e))
        return -1;
    r.par.pp = (int)iv;
    if (ifb_cfg_get_int(c, PK("micro_batches"), def->par.micro_batches, 1, 1024, &iv, e))
        return -1;
    r.par.micro_batches = (int)iv;
    int nl;
    if (ifb_cfg_seq_len(c, PK("pp_layers"), &nl, e))
        return -1;
    if (nl >= 0) {
        char lp[320];
        snprintf(lp, sizeof lp, "%s", p);
        if (nl != r.par.pp)
            return ifb_cfg_errf(c, lp, e, "one layer count per pipeline stage (parallel.pp)",
                                "%d counts for %d stages", nl, r.par.pp);
        memset(r.par.pp_layers, 0, sizeof r.par.pp_layers);
        for (int i = 0; i < nl; i++) {
            char k[340];
            snprintf(k, sizeof k, "%s[%d]", lp, i);
            if (ifb_cfg_get_int(c, k, 0, 1, 1 << 20, &iv, e))
                return -1;
            r.par.pp_layers[i] = (int)iv;
        }
        int sum = 0;
        for (int i = 0; i < nl; i++)
            sum += r.par.pp_layers[i];
        if (sum != m->layers)
            return ifb_cfg_errf(c, lp, e, "counts summing to the model's layers",
                                "a sum of %d for %lld layers", sum, (long long)m->layers);
    } else if (r.par.pp != def->par.pp) {
        memset(r.par.pp_layers, 0, sizeof r.par.pp_layers); /* another stage count: even split */
    }
    if (ifb_cfg_get_enum(c, PK("a2a"), a2as, def->a2a, &v, e))
        return -1;
    r.a2a = (ifb_a2a_mode)v;
    /* false | true (= tbo, two micro-batches) | none | tbo | sbo */
    static const char *const overlaps[] = {"false", "true", "none", "tbo", "sbo", NULL};
    static const ifb_overlap ov_of[] = {IFB_OVERLAP_NONE, IFB_OVERLAP_TBO, IFB_OVERLAP_NONE,
                                        IFB_OVERLAP_TBO, IFB_OVERLAP_SBO};
    int ovdef = def->overlap == IFB_OVERLAP_TBO ? 3 : def->overlap == IFB_OVERLAP_SBO ? 4 : 0;
    if (ifb_cfg_get_enum(c, PK("overlap"), overlaps, ovdef, &v, e))
        return -1;
    r.overlap = ov_of[v];
    if (ifb_cfg_get_bool(c, PK("mtp"), def->mtp.on, &bv, e))
        return -1;
    r.mtp.on = bv;
    if (ifb_cfg_get_int(c, PK("mtp_steps"), def->mtp.steps, 1, 16, &iv, e))
        return -1;
    r.mtp.steps = (int)iv;
    if (ifb_cfg_get_int(c, PK("mtp_topk"), def->mtp.topk, 1, 16, &iv, e))
        return -1;
    r.mtp.topk = (int)iv;
    /* SGLang: num_draft_tokens defaults to steps x topk + 1 (a chain of `steps` drafts) */
    int dflt = ifb_cfg_has(c, PK("mtp_steps")) || ifb_cfg_has(c, PK("mtp_topk"))
                   ? r.mtp.steps * r.mtp.topk + 1
                   : def->mtp.draft_tokens;
    if (ifb_cfg_get_int(c, PK("mtp_draft_tokens"), dflt, 2, r.mtp.steps * r.mtp.topk + 1, &iv, e))
        return -1;
    r.mtp.draft_tokens = (int)iv;
    int depth = r.mtp.steps < r.mtp.draft_tokens - 1 ? r.mtp.steps : r.mtp.draft_tokens - 1;
    double adef = def->mtp.accept_length > depth + 1 ? depth + 1 : def->mtp.accept_length;
    if (ifb_cfg_get_double(c, PK("accept_length"), adef, 1.0, depth + 1.0, &r.mtp.accept_length, e))
        return -1;
    if (r.overlap != IFB_OVERLAP_NONE && r.par.pp > 1)
        return ifb_cfg_errf(c, PK("overlap"), e, "false with pipeline stages (pp > 1)", "%s",
                            ifb_overlap_name(r.overlap));
    if (r.overlap == IFB_OVERLAP_SBO && r.par.layout != IFB_LAYOUT_DP_EP)
        return ifb_cfg_errf(c, PK("overlap"), e,
                            "sbo only with layout dp-ep (it overlaps the EP all-to-all)", "sbo");
    if (r.mtp.on && m->mtp_layers < 1)
        return ifb_cfg_errf(c, PK("mtp"), e, "false for a model without MTP layers",
                            "true (%s has num_nextn_predict_layers 0)", m->name);
#undef PK
    *o = r;
    return 0;
}

/* A list of small integers: N, "A-B" (both included), or a sequence of integers. */
static int parse_list(ifb_cfg *c, const char *path, int **out, int *n, ifb_err *e)
{
    *out = NULL;
    *n = 0;
    ifb_cfg_kind kind = ifb_cfg_type(c, path);
    const char *want = "N, A-B (a range, both included) or a list [a, b, ...] of numbers >= 0";
    if (kind == IFB_CFG_SCALAR) {
        const char *s;
        if (ifb_cfg_get_string(c, path, NULL, &s, e))
            return -1;
        char *end;
        errno = 0;
        long a = strtol(s, &end, 10), b = a;
        if (end != s && *end == '-') {
            const char *b0 = end + 1;
            b = strtol(b0, &end, 10);
            if (end == b0)
                b = -1;
        }
        if (end == s || *end || errno || a < 0 || b < a || b > 1 << 20)
            return ifb_cfg_errf(c, path, e, want, "'%s'", s);
        *n = (int)(b - a + 1);
        *out = ifb_xcalloc((size_t)*n, sizeof **out, "a list of numbers");
        for (int i = 0; i < *n; i++)
            (*out)[i] = (int)a + i;
        return 0;
    }
    int len;
    if (kind != IFB_CFG_SEQ || ifb_cfg_seq_len(c, path, &len, e))
        return kind == IFB_CFG_SEQ ? -1 : ifb_cfg_errf(c, path, e, want, "a map");
    if (len == 0)
        return ifb_cfg_errf(c, path, e, "at least one entry (a group with no GPUs)", "[]");
    *out = ifb_xcalloc((size_t)len, sizeof **out, "a list of numbers");
    for (int i = 0; i < len; i++) {
        char k[224];
        snprintf(k, sizeof k, "%s[%d]", path, i);
        int64_t x;
        if (ifb_cfg_get_int(c, k, -1, 0, 1 << 20, &x, e)) {
            free(*out);
            *out = NULL;
            return -1;
        }
        for (int j = 0; j < i; j++)
            if ((*out)[j] == (int)x) {
                free(*out);
                *out = NULL;
                return ifb_cfg_errf(c, k, e, "each number once", "%lld twice", (long long)x);
            }
        (*out)[i] = (int)x;
    }
    *n = len;
    return 0;
}

static const char *const roles[] = {"mixed", "prefill", "decode", NULL};
static const char *const routers[] = {"least-requests", "round-robin", "least-tokens", "least-kv",
                                      NULL};

/* workload.deployment: the router, the KV transfer and the instance groups. */
static int load_deployment(ifb_cfg *c, const char *prefix, ifb_serving_cfg *o, ifb_err *e)
{
    char base[96], p[320];
    snprintf(base, sizeof base, "%s%sdeployment", prefix && *prefix ? prefix : "",
             prefix && *prefix ? "." : "");
#define DK(k) (snprintf(p, sizeof p, "%s.%s", base, k), p)
    ifb_deploy_cfg *d = &o->deploy;
    if (!ifb_cfg_has(c, base))
        return 0;
    int v;
    int64_t iv;
    uint64_t bytes;
    if (ifb_cfg_get_enum(c, DK("router"), routers, IFB_ROUTER_LEAST_REQUESTS, &v, e))
        return -1;
    d->router = (ifb_router_policy)v;
    if (ifb_cfg_get_bytes(c, DK("kv_transfer.chunk"), d->kv.chunk, &bytes, e))
        return -1;
    if (bytes == 0)
        return ifb_cfg_errf(c, p, e, "a chunk of at least 1 byte (Mooncake: 64KiB)", "0");
    d->kv.chunk = bytes;
    if (ifb_cfg_get_int(c, DK("kv_transfer.connections"), d->kv.connections, 1, 256, &iv, e))
        return -1;
    d->kv.connections = (int)iv;
    static const char *const firsts[] = {"decode", "prefill", NULL};
    if (ifb_cfg_get_enum(c, DK("kv_transfer.first_token"), firsts, 0, &v, e))
        return -1;
    d->kv.first_token_prefill = v;
    int ng;
    if (ifb_cfg_seq_len(c, DK("groups"), &ng, e))
        return -1;
    if (ng <= 0)
        return ifb_cfg_errf(c, DK("groups"), e, "a list of at least one instance group",
                            ng == 0 ? "[]" : "no groups");
    d->groups = ifb_xcalloc((size_t)ng, sizeof *d->groups, "the deployment's instance groups");
    d->ngroups = ng;
    par_keys gdef = {.par = o->par, .a2a = o->a2a, .overlap = o->overlap, .mtp = o->mtp};
    for (int i = 0; i < ng; i++) {
        ifb_group_cfg *g = &d->groups[i];
        char gk[160];
        snprintf(gk, sizeof gk, "%s.groups[%d]", base, i);
        snprintf(g->key, sizeof g->key, "%s", gk);
#define GK(k) (snprintf(p, sizeof p, "%s.%s", gk, k), p)
        if (ifb_cfg_type(c, gk) != IFB_CFG_MAP)
            return ifb_cfg_errf(c, gk, e, "a map of group keys (role, servers, ...)",
                                "something else");
        if (ifb_cfg_get_enum(c, GK("role"), roles, IFB_ROLE_MIXED, &v, e))
            return -1;
        g->role = (ifb_role)v;
        const char *s;
        if (ifb_cfg_get_string(c, GK("name"), ifb_role_name(g->role), &s, e))
            return -1;
        if (!*s || strlen(s) >= sizeof g->name)
            return ifb_cfg_errf(c, p, e, "a name of 1 to 31 characters", "'%s'", s);
        snprintf(g->name, sizeof g->name, "%s", s);
        for (int j = 0; j < i; j++)
            if (!strcmp(d->groups[j].name, g->name))
                return ifb_cfg_errf(c, GK("name"), e, "a name no other group has (set `name`)",
                                    "'%s' twice", g->name);
        if (!ifb_cfg_has(c, GK("servers")))
            return ifb_cfg_errf(c, GK("servers"), e,
                                "the servers the group occupies (a group with no GPUs)",
                                "no servers");
        if (parse_list(c, GK("servers"), &g->servers, &g->nservers, e))
            return -1;
        if (ifb_cfg_has(c, GK("gpus")) && parse_list(c, GK("gpus"), &g->gpus, &g->ngpus, e))
            return -1;
        if (ifb_cfg_get_int(c, GK("count"), 1, 1, 1 << 16, &iv, e))
            return -1;
        g->count = (int)iv;
        if (ifb_cfg_get_string(c, GK("gpu"), NULL, &s, e))
            return -1;
        g->gpu = o->gpu;
        if (s) {
            ifb_err tmp;
            g->gpu = ifb_gpu_find(s, &tmp);
            if (!g->gpu)
                return ifb_cfg_errf(
                    c, p, e, "a catalogue GPU: H20, H20-3e, H800, H100-SXM, H200, B200", "'%s'", s);
        }
        uint64_t reserve;
        if (ifb_cfg_get_bytes(c, GK("reserve"), (uint64_t)o->reserve_bytes, &reserve, e))
            return -1;
        g->reserve_bytes = (double)reserve;
        par_keys pk;
        if (load_parallel(c, GK("parallel"), &gdef, 1, &o->model, &pk, e))
            return -1;
        g->par = pk.par;
        g->a2a = pk.a2a;
        g->overlap = pk.overlap;
        g->mtp = pk.mtp;
        if (o->model.experts == 0 && g->par.layout == IFB_LAYOUT_DP_EP && g->par.ep > 1)
            return ifb_cfg_errf(c, GK("parallel.ep"), e, "1 for a dense model", "%d", g->par.ep);
        if (ifb_cfg_get_int(c, GK("max_batch"), o->max_batch, 1, 1 << 24, &g->max_batch, e) ||
            ifb_cfg_get_int(c, GK("token_budget"), o->token_budget, 1, 1 << 30, &g->token_budget,
                            e) ||
            ifb_cfg_get_int(c, GK("chunk"), o->chunk, 1, 1 << 30, &g->chunk, e))
            return -1;
#undef GK
        /* no GPU in two groups: a group without `gpus` takes every GPU of its servers */
        for (int j = 0; j < i; j++) {
            const ifb_group_cfg *b = &d->groups[j];
            for (int x = 0; x < g->nservers; x++)
                for (int y = 0; y < b->nservers; y++) {
                    if (g->servers[x] != b->servers[y])
                        continue;
                    int gpu = -1;
                    for (int u = 0; gpu < 0 && u < (g->gpus ? g->ngpus : 1); u++)
                        for (int w = 0; gpu < 0 && w < (b->gpus ? b->ngpus : 1); w++)
                            if (!g->gpus || !b->gpus || g->gpus[u] == b->gpus[w])
                                gpu = g->gpus ? g->gpus[u] : b->gpus ? b->gpus[w] : 0;
                    if (gpu >= 0) {
                        snprintf(p, sizeof p, "%s.servers", g->key);
                        return ifb_cfg_errf(c, p, e, "GPUs no other group uses",
                                            "server %d GPU %d, also in %s ('%s')", g->servers[x],
                                            gpu, b->key, b->name);
                    }
                }
        }
    }
    int np = 0, nd = 0, nm = 0;
    for (int i = 0; i < ng; i++) {
        np += d->groups[i].role == IFB_ROLE_PREFILL;
        nd += d->groups[i].role == IFB_ROLE_DECODE;
        nm += d->groups[i].role == IFB_ROLE_MIXED;
    }
    if ((np > 0) != (nd > 0))
        return ifb_cfg_errf(c, DK("groups"), e,
                            "prefill and decode groups together (or only mixed)",
                            "%d prefill and %d decode groups", np, nd);
    if (nm && np)
        return ifb_cfg_errf(c, DK("groups"), e, "either mixed groups or prefill + decode groups",
                            "%d mixed with %d prefill and %d decode groups", nm, np, nd);
#undef DK
    return 0;
}

/* compute.* overheads, deepep.* and prefix_cache.* (the components of docs/serving-model.md). */
static int load_components(ifb_cfg *c, const char *prefix, ifb_serving_cfg *o, ifb_err *e)
{
    char p[160];
#define K(k) kp(p, sizeof p, prefix, k)
    bool bv;
    int64_t iv;
    ifb_overhead_cfg *h = &o->ovh;
    if (ifb_cfg_get_bool(c, K("compute.overheads"), h->on, &bv, e))
        return -1;
    h->on = bv;
    if (ifb_cfg_get_time(c, K("compute.host_step"), h->host_step, &h->host_step, e) ||
        ifb_cfg_get_bool(c, K("compute.cuda_graph"), h->cuda_graph, &bv, e))
        return -1;
    h->cuda_graph = bv;
    if (ifb_cfg_get_int(c, K("compute.cuda_graph_max_bs"), h->cuda_graph_max_bs, 1, 1 << 20,
                        &h->cuda_graph_max_bs, e) ||
        ifb_cfg_get_time(c, K("compute.graph_gap"), h->graph_gap, &h->graph_gap, e) ||
        ifb_cfg_get_time(c, K("compute.launch"), h->launch, &h->launch, e) ||
        ifb_cfg_get_time(c, K("compute.kernel_min"), h->kernel_min, &h->kernel_min, e) ||
        ifb_cfg_get_double(c, K("compute.elementwise_eff"), h->elem_eff, 1e-3, 1, &h->elem_eff,
                           e) ||
        ifb_cfg_get_int(c, K("compute.sampling_passes"), h->sampling_passes, 0, 64, &iv, e))
        return -1;
    h->sampling_passes = (int)iv;
    ifb_deepep_cfg *d = &o->deepep;
    if (ifb_cfg_get_bool(c, K("deepep.gpu_work"), d->gpu_work, &bv, e))
        return -1;
    d->gpu_work = bv;
    if (ifb_cfg_get_double(c, K("deepep.mem_eff"), d->mem_eff, 1e-3, 1, &d->mem_eff, e) ||
        ifb_cfg_get_double(c, K("deepep.wqe_rate"), d->wqe_rate, 0, 1e12, &d->wqe_rate, e) ||
        ifb_cfg_get_bool(c, K("deepep.signals"), d->signals, &bv, e))
        return -1;
    d->signals = bv;
    uint64_t sb;
    if (ifb_cfg_get_bytes(c, K("deepep.signal_bytes"), d->signal_bytes, &sb, e))
        return -1;
    if (sb < 1 || sb > 4096)
        return ifb_cfg_errf(c, p, e, "1B to 4KiB", "%llu B", (unsigned long long)sb);
    d->signal_bytes = sb;
    if (ifb_cfg_get_int(c, K("deepep.chunks"), d->chunks, 1, 256, &iv, e) ||
        ifb_cfg_get_time(c, K("deepep.kernel_launch"), d->kernel_launch, &d->kernel_launch, e))
        return -1;
    d->chunks = (int)iv;
    static const char *const modes[] = {"low-latency", "normal", NULL};
    int mode;
    if (ifb_cfg_get_enum(c, K("deepep.bench.mode"), modes, o->dbench.normal, &mode, e))
        return -1;
    o->dbench.normal = mode;
    if (ifb_cfg_get_int(c, K("deepep.bench.tokens"), o->dbench.tokens, 1, 1 << 20, &iv, e))
        return -1;
    o->dbench.tokens = (int)iv;
    if (ifb_cfg_get_int(c, K("deepep.bench.masked"), o->dbench.masked, 0, 1 << 20, &iv, e))
        return -1;
    o->dbench.masked = (int)iv;
    if (ifb_cfg_get_bool(c, K("deepep.bench.per_token"), o->dbench.per_token, &bv, e))
        return -1;
    o->dbench.per_token = bv;
    if (ifb_cfg_get_int(c, K("deepep.bench.topk_groups"), o->dbench.topk_groups, 1, 64, &iv, e))
        return -1;
    o->dbench.topk_groups = (int)iv;
    ifb_prefix_cfg *x = &o->prefix;
    if (ifb_cfg_get_bool(c, K("prefix_cache.enable"), x->on, &bv, e))
        return -1;
    x->on = bv;
    if (ifb_cfg_get_int(c, K("prefix_cache.block"), x->block, 1, 1 << 20, &x->block, e))
        return -1;
    const char *hr;
    if (ifb_cfg_get_string(c, K("prefix_cache.hit_rate"), "trace", &hr, e))
        return -1;
    if (!strcmp(hr, "trace")) {
        x->hit_rate = -1;
    } else {
        char *end;
        errno = 0;
        double v = strtod(hr, &end);
        if (end == hr || *end || errno || !(v >= 0) || v >= 1)
            return ifb_cfg_errf(
                c, p, e, "trace (hits from the trace's hash_ids) or a share in [0, 1)", "'%s'", hr);
        x->hit_rate = v;
    }
#undef K
    return 0;
}

int ifb_serving_cfg_load(ifb_cfg *c, const char *prefix, ifb_serving_cfg *o, ifb_err *e)
{
    ifb_serving_cfg_default(o);
    snprintf(o->key, sizeof o->key, "%s", prefix ? prefix : "");
    char p[160];
#define K(k) kp(p, sizeof p, prefix, k)
    const char *s;
    if (ifb_cfg_get_string(c, K("model"), "deepseek-r1-config.json", &s, e) ||
        load_model(c, p, s, &o->model, e))
        goto fail;
    if (ifb_cfg_get_string(c, K("gpu"), "H20", &s, e))
        goto fail;
    {
        ifb_err tmp;
        o->gpu = ifb_gpu_find(s, &tmp);
        if (!o->gpu) {
            ifb_cfg_errf(c, p, e, "a catalogue GPU: H20, H20-3e, H800, H100-SXM, H200, B200",
                         "'%s'", s);
            goto fail;
        }
    }
    if (get_dtype(c, K("weight_dtype"), o->model.weight_dtype, &o->weight_dtype, e) ||
        get_dtype(c, K("kv_dtype"), IFB_DTYPE_BF16, &o->kv_dtype, e) ||
        get_dtype(c, K("dispatch_dtype"), IFB_DTYPE_FP8, &o->dispatch_dtype, e) ||
        get_dtype(c, K("combine_dtype"), IFB_DTYPE_BF16, &o->combine_dtype, e))
        goto fail;
    uint64_t reserve;
    if (ifb_cfg_get_bytes(c, K("reserve"), 8000000000ull, &reserve, e))
        goto fail;
    o->reserve_bytes = (double)reserve;

    int v;
    int64_t iv;
    bool bv;
    par_keys pk = {.par = o->par, .a2a = o->a2a, .mtp = o->mtp};
    if (load_parallel(c, K("parallel"), &pk, 0, &o->model, &pk, e))
        goto fail;
    o->par = pk.par;
    o->a2a = pk.a2a;
    o->overlap = pk.overlap;
    o->mtp = pk.mtp;

    static const char *const arrivals[] = {"closed", "poisson", "trace", NULL};
    if (ifb_cfg_get_enum(c, K("arrival"), arrivals, 0, &v, e))
        goto fail;
    o->arrival = (ifb_arrival_kind)v;
    if (ifb_cfg_get_int(c, K("concurrency"), 64, 1, 100000000, &o->concurrency, e) ||
        ifb_cfg_get_double(c, K("rate"), 1, 1e-9, 1e12, &o->rate, e))
        goto fail;
    const char *trace;
    if (ifb_cfg_get_string(c, K("trace"), NULL, &trace, e))
        goto fail;
    char trace_key[160];
    snprintf(trace_key, sizeof trace_key, "%s", p);
    static const char *const tfmts[] = {"auto", "azure", "mooncake", NULL};
    if (ifb_cfg_get_enum(c, K("trace_format"), tfmts, 0, &v, e))
        goto fail;
    ifb_trace_format tf = (ifb_trace_format)v;
    double speed;
    if (ifb_cfg_get_double(c, K("trace_speed"), 1, 1e-6, 1e6, &speed, e))
        goto fail;
    /* A trace's rows carry their own lengths. With a trace the lengths are the trace's, and a
     * length set to anything else is refused: with both, one of the two would be silently
     * ignored (a 100M-token row run as ~1k tokens). */
    static const char *const len_keys[2] = {"input_len", "output_len"};
    static const char *const len_defs[2] = {"uniform:512-1536", "uniform:128-384"};
    ifb_len_dist *lens[2] = {&o->input, &o->output};
    for (int k = 0; k < 2; k++) {
        const char *defl = trace || o->arrival == IFB_ARRIVAL_TRACE ? "trace" : len_defs[k];
        if (ifb_cfg_get_string(c, K(len_keys[k]), defl, &s, e) || parse_len(c, p, s, lens[k], e))
            goto fail;
        if (trace && lens[k]->kind != IFB_LEN_TRACE) {
            ifb_cfg_errf(c, p, e,
                         "trace or no value when a trace is given (its rows carry the lengths; "
                         "drop the trace to draw lengths)",
                         "'%s'", s);
            goto fail;
        }
    }
    int need_trace = o->arrival == IFB_ARRIVAL_TRACE || o->input.kind == IFB_LEN_TRACE ||
                     o->output.kind == IFB_LEN_TRACE;
    if (need_trace && !trace) {
        ifb_cfg_errf(c, trace_key, e, "a trace file (arrival or a length says trace)", "no trace");
        goto fail;
    }
    if (ifb_cfg_get_bool(c, K("prefilled"), false, &bv, e))
        goto fail;
    o->prefilled = bv;
    if (ifb_cfg_get_int(c, K("max_batch"), 256, 1, 1 << 24, &o->max_batch, e) ||
        ifb_cfg_get_int(c, K("token_budget"), 8192, 1, 1 << 30, &o->token_budget, e) ||
        ifb_cfg_get_int(c, K("chunk"), 4096, 1, 1 << 30, &o->chunk, e) ||
        ifb_cfg_get_int(c, K("requests"), 0, 1, 1000000000, &o->requests, e) ||
        ifb_cfg_get_int(c, K("warmup"), -1, 0, 1000000000, &o->warmup, e) ||
        ifb_cfg_get_time(c, K("duration"), 0, &o->duration, e))
        goto fail;
    if (trace) {
        /* a replay of the first rows reads no further into the file than it needs */
        size_t rows = o->arrival == IFB_ARRIVAL_TRACE && o->requests > 0
                          ? (size_t)(o->requests + (o->warmup > 0 ? o->warmup : 0))
                          : 0;
        char *found = find_trace(trace);
        int rc = ifb_trace_load(&o->trace, found ? found : trace, tf, rows, e);
        free(found);
        if (rc) {
            char msg[sizeof e->msg];
            snprintf(msg, sizeof msg, "%s", e->msg);
            ifb_cfg_errf(c, trace_key, e, "a readable request trace", "%s", msg);
            goto fail;
        }
        if (speed != 1 && scale_arrivals(&o->trace, speed)) {
            ifb_cfg_errf(c, K("trace_speed"), e,
                         "a speed that keeps the replay's arrival times below 10^6 s", "%g", speed);
            goto fail;
        }
    } else if (ifb_cfg_has(c, K("trace_speed"))) {
        ifb_cfg_errf(c, K("trace_speed"), e, "trace_speed only with a trace", "no trace");
        goto fail;
    }
    if (ifb_cfg_get_string(c, K("routing"), "uniform", &s, e))
        goto fail;
    if (!strncmp(s, "file:", 5)) {
        o->routing = IFB_ROUTE_FILE;
        int ml = (int)o->model.moe_layers;
        if (ifb_routing_file_load(&o->routes, s + 5, (int)o->model.experts, ml,
                                  ml + (int)o->model.mtp_layers, e)) {
            char msg[sizeof e->msg];
            snprintf(msg, sizeof msg, "%s", e->msg);
            ifb_cfg_errf(c, p, e, "a readable routing file (docs/scenario.md)", "%s", msg);
            goto fail;
        }
    } else if (!strcmp(s, "uniform")) {
        o->routing = IFB_ROUTE_UNIFORM;
    } else if (!strncmp(s, "zipf", 4) && (s[4] == 0 || s[4] == ':')) {
        o->routing = IFB_ROUTE_ZIPF;
        o->zipf_s = 1;
        if (s[4] == ':') {
            char *end;
            errno = 0;
            double z = strtod(s + 5, &end);
            if (end == s + 5 || *end || errno || !(z > 0) || z > 100) {
                ifb_cfg_errf(c, p, e, "uniform, zipf:S with 0 < S <= 100, or file:PATH", "'%s'", s);
                goto fail;
            }
            o->zipf_s = z;
        }
    } else {
        ifb_cfg_errf(c, p, e, "uniform, zipf:S with 0 < S <= 100, or file:PATH", "'%s'", s);
        goto fail;
    }
    if (o->model.experts == 0 && o->par.layout == IFB_LAYOUT_DP_EP && o->par.ep > 1) {
        ifb_cfg_errf(c, K("parallel.ep"), e, "1 for a dense model", "%d", o->par.ep);
        goto fail;
    }
    if (ifb_cfg_get_int(c, K("seed"), 0, 0, INT64_MAX, &iv, e))
        goto fail;
    o->seed = (uint64_t)iv;
    if (ifb_cfg_get_bool(c, K("compute.kernel_tables"), true, &bv, e) ||
        ifb_cfg_get_double(c, K("compute.eff_compute"), 0.6, 1e-6, 1, &o->eff_compute, e) ||
        ifb_cfg_get_double(c, K("compute.eff_memory"), 0.8, 1e-6, 1, &o->eff_memory, e) ||
        ifb_cfg_get_time(c, K("compute.step_overhead"), 0, &o->step_overhead, e) ||
        ifb_cfg_get_time(c, K("compute.layer_overhead"), 0, &o->layer_overhead, e))
        goto fail;
    o->kernel_tables = bv;
    if (load_components(c, prefix, o, e))
        goto fail;
    if (ifb_cfg_get_string(c, K("fidelity"), "full", &s, e))
        goto fail;
    if (!strcmp(s, "full")) {
        o->sample_every = 1;
    } else {
        char *end;
        long kk = !strncmp(s, "sample:", 7) ? strtol(s + 7, &end, 10) : 0;
        if (kk < 1 || kk > 1000000 || *end) {
            ifb_cfg_errf(c, p, e, "full or sample:K with K >= 1", "'%s'", s);
            goto fail;
        }
        o->sample_every = (int)kk;
    }
    if (load_deployment(c, prefix, o, e))
        goto fail;
#undef K
    return 0;
fail:
    ifb_serving_cfg_free(o);
    return -1;
}
