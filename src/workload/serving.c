/* The serving engine (see serving.h): configuration, per-instance continuous batching, the
 * layer-by-layer step program on every GPU, and the metrics.
 * Leaves out: prefix caching, speculative decoding other than MTP with one draft token,
 * per-request sampling cost, CPU-side scheduling beyond a fixed step gap, stragglers between EP
 * groups (all instances start a step together and the step ends when every GPU is done),
 * token-count signals of DeepEP (a receiver waits for every rank of its group to reach the
 * phase, modelled as a barrier without latency; only payload messages cross the network), and
 * attention load imbalance inside a rank beyond the token counts. Zero-token ranks still take
 * part in every all-to-all (idle DP ranks run empty batches, as in SGLang). */
#include "workload/serving.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/embedded.h"
#include "core/rng.h"
#include "workload/kernels.h"

const char IFB_SERVING_KEYS_DOC[] =
    "workload:                     # the serving workload (src/workload/serving.h)\n"
    "  model: deepseek-r1-config.json  # Hugging Face config.json: a file path, or the name of a\n"
    "                              # copy shipped in data/models (deepseek-r1-config.json,\n"
    "                              # qwen3-235b-a22b-config.json, mixtral-8x7b-v0.1-config.json)\n"
    "  gpu: H20                    # GPU catalogue name: H20, H20-3e, H800, H100-SXM, H200, B200\n"
    "  weight_dtype: <checkpoint>  # fp8 | bf16 | fp16 | fp32; default: the checkpoint's (R1: "
    "fp8)\n"
    "  kv_dtype: bf16              # KV-cache values\n"
    "  dispatch_dtype: fp8         # EP dispatch payload (R1: 7392 B per token copy)\n"
    "  combine_dtype: bf16         # EP combine payload (R1: 14336 B per token copy)\n"
    "  reserve: 8GB                # HBM per GPU kept for activations, DeepEP buffers, CUDA\n"
    "                              # context; the KV cache gets what weights and this leave\n"
    "  parallel:\n"
    "    layout: dp-ep             # dp-ep: attention data parallel on every GPU + expert\n"
    "                              # parallel (DeepEP); tp: tensor parallel groups, ring "
    "all-reduce\n"
    "    tp: 1                     # dp-ep: must be 1; tp: GPUs per group (default: all GPUs)\n"
    "    dp: <derived>             # instances: GPUs (dp-ep) or GPUs / tp (tp); checked if given\n"
    "    ep: <all GPUs>            # dp-ep: EP group size; divides the GPUs and the experts\n"
    "    placement: round-robin    # expert e on EP rank e % ep | contiguous: e / (experts / ep)\n"
    "    a2a: auto                 # auto: low-latency for decode-only steps, normal "
    "(deduplicated\n"
    "                              # per node) when a GPU prefills | low-latency | normal\n"
    "    overlap: false            # two micro-batches: one's communication hides behind the\n"
    "                              # other's compute on the same GPU\n"
    "    mtp: false                # multi-token prediction, one draft token per step\n"
    "    accept_length: 1.8        # tokens gained per decode step with mtp, in [1, 2]\n"
    "  arrival: closed             # closed: fixed concurrency, a finished request is replaced at\n"
    "                              # once | poisson: open loop at `rate` | trace: the trace's "
    "times\n"
    "  concurrency: 64             # closed loop: requests in the system (>= 1)\n"
    "  rate: 1                     # poisson: requests per second (> 0)\n"
    "  trace: <none>               # request trace: Azure CSV (TIMESTAMP,ContextTokens,\n"
    "                              # GeneratedTokens) or Mooncake JSONL (timestamp in ms,\n"
    "                              # input_length, output_length)\n"
    "  trace_format: auto          # auto | azure | mooncake\n"
    "  input_len: uniform:512-1536 # prompt tokens: N | uniform:A-B (integers, both included) |\n"
    "                              # trace (the trace's rows in order, cycling); mean 1024, "
    "spread\n"
    "                              # so closed-loop requests do not run in lock-step. With a\n"
    "                              # trace: trace, the default; any other value is an error\n"
    "                              # (the trace's lengths would be silently ignored)\n"
    "  output_len: uniform:128-384 # generated tokens, same forms (mean 256)\n"
    "  max_batch: 256              # running requests per instance\n"
    "  token_budget: 8192          # tokens per instance per step (decode + prefill chunks)\n"
    "  chunk: 4096                 # chunked prefill: prompt tokens per request per step\n"
    "  requests: <derived>         # requests measured after warm-up; default 2 x concurrency\n"
    "                              # (closed), 200 (poisson), every trace row (trace)\n"
    "  warmup: <derived>           # requests that finish before measuring; default concurrency\n"
    "                              # (closed), 0 (open loop)\n"
    "  duration: 0s                # open loop: no arrivals after this simulated time (0: none)\n"
    "  routing: uniform            # expert choice per token: uniform | zipf:S (skew S > 0);\n"
    "                              # group-limited routing of the model honoured\n"
    "  seed: 0                     # workload random stream; 0 = the scenario seed\n"
    "  compute:\n"
    "    kernel_tables: true       # use the measured kernel tables of data/kernels for the GPU\n"
    "                              # (FP8 GEMMs, grouped GEMMs, MLA decode) where they exist\n"
    "    eff_compute: 0.6          # roofline efficiency of compute where no table applies\n"
    "    eff_memory: 0.8           # roofline efficiency of HBM where no table applies\n"
    "    step_overhead: 0us        # gap between steps (scheduler, kernel launch)\n"
    "    layer_overhead: 0us       # per layer: element-wise kernels (norms, RoPE, activations)\n"
    "  fidelity: full              # full: every all-to-all message goes through the network |\n"
    "                              # sample:K: only one MoE layer in K (always the first of a\n"
    "                              # step, and the MTP layer) is sent; the others complete each\n"
    "                              # GPU's phase after the barrier with that GPU's latency in the\n"
    "                              # latest sent phase of the same kind (bytes still counted)\n";

/* ---- Configuration ------------------------------------------------------------------------ */

void ifb_serving_cfg_default(ifb_serving_cfg *o)
{
    memset(o, 0, sizeof *o);
    snprintf(o->key, sizeof o->key, "workload");
    o->weight_dtype = IFB_DTYPE_FP8;
    o->kv_dtype = IFB_DTYPE_BF16;
    o->dispatch_dtype = IFB_DTYPE_FP8;
    o->combine_dtype = IFB_DTYPE_BF16;
    o->reserve_bytes = 8e9;
    o->par.layout = IFB_LAYOUT_DP_EP;
    o->par.tp = 1;
    o->a2a = IFB_A2A_AUTO;
    o->accept_length = 1.8;
    o->arrival = IFB_ARRIVAL_CLOSED;
    o->concurrency = 64;
    o->rate = 1;
    o->input = (ifb_len_dist){IFB_LEN_UNIFORM, 512, 1536};
    o->output = (ifb_len_dist){IFB_LEN_UNIFORM, 128, 384};
    o->max_batch = 256;
    o->token_budget = 8192;
    o->chunk = 4096;
    o->requests = 0;
    o->warmup = -1;
    o->routing = IFB_ROUTE_UNIFORM;
    o->zipf_s = 1;
    o->kernel_tables = 1;
    o->eff_compute = 0.6;
    o->eff_memory = 0.8;
    o->sample_every = 1;
}

void ifb_serving_cfg_free(ifb_serving_cfg *cfg)
{
    if (cfg)
        ifb_trace_free(&cfg->trace);
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

    static const char *const layouts[] = {"dp-ep", "tp", NULL};
    static const char *const places[] = {"round-robin", "contiguous", NULL};
    static const char *const a2as[] = {"auto", "low-latency", "normal", NULL};
    int v;
    int64_t iv;
    bool bv;
    if (ifb_cfg_get_enum(c, K("parallel.layout"), layouts, 0, &v, e))
        goto fail;
    o->par.layout = (ifb_layout)v;
    if (ifb_cfg_get_int(c, K("parallel.tp"), o->par.layout == IFB_LAYOUT_TP ? 0 : 1, 1, 1 << 20,
                        &iv, e))
        goto fail;
    o->par.tp = (int)iv;
    if (ifb_cfg_get_int(c, K("parallel.dp"), 0, 1, 1 << 20, &iv, e))
        goto fail;
    o->par.dp = (int)iv;
    if (ifb_cfg_get_int(c, K("parallel.ep"), 0, 1, 1 << 20, &iv, e))
        goto fail;
    o->par.ep = (int)iv;
    if (ifb_cfg_get_enum(c, K("parallel.placement"), places, 0, &v, e))
        goto fail;
    o->par.placement = (ifb_placement)v;
    if (ifb_cfg_get_enum(c, K("parallel.a2a"), a2as, 0, &v, e))
        goto fail;
    o->a2a = (ifb_a2a_mode)v;
    if (ifb_cfg_get_bool(c, K("parallel.overlap"), false, &bv, e))
        goto fail;
    o->overlap = bv;
    if (ifb_cfg_get_bool(c, K("parallel.mtp"), false, &bv, e))
        goto fail;
    o->mtp = bv;
    if (ifb_cfg_get_double(c, K("parallel.accept_length"), 1.8, 1.0, 2.0, &o->accept_length, e))
        goto fail;
    if (o->mtp && o->model.mtp_layers < 1) {
        ifb_cfg_errf(c, K("parallel.mtp"), e, "false for a model without MTP layers",
                     "true (%s has num_nextn_predict_layers 0)", o->model.name);
        goto fail;
    }

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
        if (ifb_trace_load(&o->trace, trace, tf, rows, e)) {
            char msg[sizeof e->msg];
            snprintf(msg, sizeof msg, "%s", e->msg);
            ifb_cfg_errf(c, trace_key, e, "a readable request trace", "%s", msg);
            goto fail;
        }
    }
    if (ifb_cfg_get_string(c, K("routing"), "uniform", &s, e))
        goto fail;
    if (!strcmp(s, "uniform")) {
        o->routing = IFB_ROUTE_UNIFORM;
    } else if (!strncmp(s, "zipf", 4) && (s[4] == 0 || s[4] == ':')) {
        o->routing = IFB_ROUTE_ZIPF;
        o->zipf_s = 1;
        if (s[4] == ':') {
            char *end;
            errno = 0;
            double z = strtod(s + 5, &end);
            if (end == s + 5 || *end || errno || !(z > 0) || z > 100) {
                ifb_cfg_errf(c, p, e, "uniform or zipf:S with 0 < S <= 100", "'%s'", s);
                goto fail;
            }
            o->zipf_s = z;
        }
    } else {
        ifb_cfg_errf(c, p, e, "uniform or zipf:S with 0 < S <= 100", "'%s'", s);
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
#undef K
    return 0;
fail:
    ifb_trace_free(&o->trace);
    return -1;
}

/* ---- Engine state ------------------------------------------------------------------------- */

enum { ST_COMP = 0, ST_A2A, ST_RING, ST_DONE };
enum { PART_PRE = 0, PART_EXPERT, PART_MLP, PART_LM };
enum { RS_WAIT = 0, RS_PREFILL, RS_DECODE, RS_DONE };

typedef struct stage {
    uint8_t kind, part;
    int layer; /* model layer (layers = the MTP layer) */
    int moe;   /* index of the MoE layer (plans, routing), -1 if none */
    int combine;
} stage;

typedef struct slot {
    ifb_serving *s;
    int k, r, c, final;
} slot;

/* Work of one rank's chain (micro-batch) in a step. */
typedef struct tokset {
    int64_t nd, q, ctx_sum; /* decoding sequences, tokens each, cached tokens in total */
    int64_t pf, pf_seqs;    /* prefill tokens and chunks */
    int64_t pf_prefix;      /* cached tokens before the chunks, summed */
    double pf_pairs;        /* sum over chunks of n x prefix + n(n+1)/2 (attention pairs) */
} tokset;

typedef struct batch_ent {
    int req, chain;
    int64_t pf, prefix; /* prefill tokens of this step and the cached prefix */
    int decode;         /* 1: decodes this step */
} batch_ent;

typedef struct instq {
    int *wait;
    size_t wn, wcap;
    int *run;
    size_t rn, rcap;
    int64_t kv_used;
    int64_t in_system;
} instq;

typedef struct memo_ent {
    uint64_t key;
    ifb_time v;
} memo_ent;
#define MEMO_SIZE (1u << 15)

enum { KT_GEMM = 0, KT_GGD, KT_GGP, KT_MLA, KT_N };

struct ifb_serving {
    ifb_serving_cfg cfg;
    const ifb_model *m;
    ifb_parallel par;
    ifb_sim *sim;
    ifb_net *net;
    uint64_t seed;
    ifb_rng rng_len, rng_arr;

    ifb_kernel_table kt[KT_N];
    int have_kt[KT_N];
    memo_ent *memo;
    size_t memo_n;
    double a_dec, a_pre;   /* attention core FLOPs per (token x cached token), one layer */
    double kv_layer_bytes; /* KV bytes per token per layer on one GPU */
    int64_t dbytes, cbytes;

    /* requests */
    ifb_serving_req *req;
    size_t nreq, req_cap;
    size_t arrivals_max; /* open loop: requests to generate */
    size_t trace_next;   /* next trace row for lengths/arrivals */
    instq *inst;
    uint64_t admit_seq;
    int64_t in_system;
    uint64_t finished, target;
    int done, idle, running_step;
    ifb_time t_window;
    int window_open;
    uint64_t tokens_emitted, tokens_at_window;
    ifb_time window_end;
    uint64_t window_tokens;
    int64_t min_sys, max_sys;
    double sys_area; /* in-system x ps over the window */
    ifb_time sys_last;
    uint64_t preemptions;
    ifb_samples itl;
    int *itl_req; /* inter-token gaps: request and gap, filtered at the end */
    ifb_time *itl_gap;
    size_t nitl, itl_cap;

    /* step program */
    int R, C, ngroups, gsz; /* ranks, chains, EP/TP groups and their size */
    stage *st;
    int K, nmoe, layers_run;
    ifb_time *dur; /* [(k * R + r) * C + c] */
    slot *slot0, *slotf;
    int *pos;                                  /* [r * C + c] current stage */
    int *recv0, *recvf, *ready, *sent, *donek; /* [(k * R + r) * C + c] */
    int *readycnt;                             /* [(k * ngroups + g) * C + c] */
    int *gpu_busy;                             /* [r] */
    int *gpu_q;                                /* [r * 2 .. +1] queued chains, -1 empty */
    ifb_time *busy_acc;
    ifb_xplan *plans; /* [((g * nmoe + mi) * 2 + combine) * C + c] */
    tokset *ts;       /* [r * C + c] */
    tokset *ts_mtp;
    int *experts; /* routing scratch */
    size_t experts_cap;
    int *recv_copies; /* [(mi * R + r) * C + c] */
    ifb_router router;
    batch_ent *ents;
    size_t nents, ents_cap;
    int chains_done;
    int normal_step;
    unsigned char *replay;     /* [k]: this step replays stage k */
    ifb_time *barrier;         /* [(k * ngroups + g) * C + c] time the group met */
    ifb_time *delta;           /* [((kind * R) + r) * C + c]: latency after the barrier, kind =
                                  combine + 2 x normal */
    unsigned char *have_delta; /* [kind] */
    ifb_time step_start;
    int inflight;
    ifb_time comm_start, comm_acc;
    ifb_serving_step cur;
    ifb_serving_step *steps;
    size_t nsteps, steps_cap;
    ifb_serving_result res;
    ifb_summary msg_time[IFB_TC_COUNT]; /* message completion times, ps */

    /* failed messages and instances down */
    int *rank_of_ep; /* [endpoint] -> rank, -1 if none */
    int nep;
    uint32_t *fail_score;     /* [rank]: this step's failed messages touching it, 2 as dst */
    unsigned char *rank_down; /* [rank] */
    unsigned char *inst_down; /* [instance] */
    int ninst_down, fail_pending;
    uint64_t nfailed; /* requests failed */
};

/* Allocations that cannot fail quietly (core/alloc.h); `what` names them in the report. */
#define xcalloc(n, sz) ifb_xcalloc((n), (sz), "the serving engine's state")

/* ---- Compute costs ------------------------------------------------------------------------ */

enum {
    G_QA = 1,
    G_QB,
    G_QP,
    G_KVA,
    G_UK,
    G_UV,
    G_KVB,
    G_O,
    G_QKV,
    G_FU,
    G_FD,
    G_RT,
    G_SU,
    G_SD,
    G_LM,
    G_EH,
    X_GG,
    X_GGP,
    X_MLA,
    X_ROUTED_TP,
    X_ROUTED_TPP
};

static int memo_get(ifb_serving *s, uint64_t key, ifb_time *v)
{
    key++;
    size_t i = ifb_hash64(key) & (MEMO_SIZE - 1);
    while (s->memo[i].key) {
        if (s->memo[i].key == key) {
            *v = s->memo[i].v;
            return 1;
        }
        i = (i + 1) & (MEMO_SIZE - 1);
    }
    return 0;
}

static void memo_put(ifb_serving *s, uint64_t key, ifb_time v)
{
    if (s->memo_n * 10 > MEMO_SIZE * 7) {
        memset(s->memo, 0, MEMO_SIZE * sizeof *s->memo);
        s->memo_n = 0;
    }
    key++;
    size_t i = ifb_hash64(key) & (MEMO_SIZE - 1);
    while (s->memo[i].key && s->memo[i].key != key)
        i = (i + 1) & (MEMO_SIZE - 1);
    if (!s->memo[i].key)
        s->memo_n++;
    s->memo[i].key = key;
    s->memo[i].v = v;
}

static ifb_dtype compute_dtype(ifb_dtype d)
{
    return d == IFB_DTYPE_FP8 ? d : IFB_DTYPE_BF16;
}

static ifb_time roof(ifb_serving *s, double flops, double bytes, ifb_dtype dt)
{
    return ifb_gpu_op_time(s->cfg.gpu, flops, bytes, compute_dtype(dt), s->cfg.eff_compute,
                           s->cfg.eff_memory);
}

static ifb_time gemm(ifb_serving *s, int id, int64_t m, int64_t k, int64_t n)
{
    if (m <= 0 || k <= 0 || n <= 0)
        return 0;
    uint64_t key = ((uint64_t)id << 56) | (uint64_t)m;
    ifb_time v;
    if (memo_get(s, key, &v))
        return v;
    ifb_dtype wdt = s->cfg.weight_dtype;
    v = IFB_TIME_NEVER;
    if (s->have_kt[KT_GEMM] && wdt == IFB_DTYPE_FP8) {
        ifb_kernel_shape sh = ifb_kshape_gemm((double)m, (double)k, (double)n);
        ifb_kernel_result r;
        ifb_err e;
        if (ifb_kernel_time(&s->kt[KT_GEMM], &sh, &r, &e) == 0)
            v = r.time;
    }
    if (v == IFB_TIME_NEVER) {
        double wb = ifb_dtype_bytes(wdt), ab = wdt == IFB_DTYPE_FP8 ? 1 : 2;
        v = roof(s, 2.0 * m * k * n, (double)k * n * wb + (double)m * k * ab + (double)m * n * 2,
                 wdt);
    }
    memo_put(s, key, v);
    return v;
}

/* Routed experts of one GPU: `copies` token copies received (dp-ep), or `tokens` tokens with
 * every expert split tp ways (tp). */
static ifb_time routed_time(ifb_serving *s, int64_t copies, int prefill)
{
    if (copies <= 0)
        return 0;
    const ifb_model *m = s->m;
    int tpl = s->par.layout == IFB_LAYOUT_TP;
    int id = tpl ? (prefill ? X_ROUTED_TPP : X_ROUTED_TP) : (prefill ? X_GGP : X_GG);
    uint64_t key = ((uint64_t)id << 56) | (uint64_t)copies;
    ifb_time v;
    if (memo_get(s, key, &v))
        return v;
    double E = (double)m->experts, K = (double)m->experts_per_tok, h = (double)m->hidden;
    double inter = (double)m->moe_ffn_dim / (tpl ? s->par.tp : 1);
    double gpus = tpl ? 1 : s->par.ep;
    double tokens = tpl ? (double)copies : (double)copies / K;
    v = IFB_TIME_NEVER;
    int kt = prefill && s->have_kt[KT_GGP] ? KT_GGP : KT_GGD;
    if (s->have_kt[kt] && s->cfg.weight_dtype == IFB_DTYPE_FP8) {
        ifb_kernel_kind kind =
            kt == KT_GGP ? IFB_KERNEL_GROUPED_GEMM_PREFILL : IFB_KERNEL_GROUPED_GEMM_DECODE;
        ifb_time tot = 0;
        int ok = 1;
        for (int proj = 0; proj < 2 && ok; proj++) {
            ifb_kernel_shape sh = ifb_kshape_grouped(kind, proj, E, gpus, K, h, inter, tokens);
            ifb_kernel_result r;
            ifb_err e;
            if (ifb_kernel_time(&s->kt[kt], &sh, &r, &e) == 0)
                tot += r.time;
            else
                ok = 0;
        }
        if (ok)
            v = tot;
    }
    if (v == IFB_TIME_NEVER) {
        double local = E / gpus;
        double cp = tpl ? tokens * K : (double)copies;
        double touched = local * (1 - pow(1 - 1 / local, cp));
        double wb = ifb_dtype_bytes(s->cfg.weight_dtype);
        v = roof(s, 2.0 * cp * 3 * h * inter, touched * 3 * h * inter * wb + cp * h * 4,
                 s->cfg.weight_dtype);
    }
    memo_put(s, key, v);
    return v;
}

static ifb_time mla_core_decode(ifb_serving *s, int64_t batch, int64_t ctx_sum, int64_t q)
{
    if (batch <= 0)
        return 0;
    int64_t kvlen = (ctx_sum + batch - 1) / batch;
    if (kvlen < 1)
        kvlen = 1;
    uint64_t key = ((uint64_t)X_MLA << 56) | ((uint64_t)(batch * q) << 28) | (uint64_t)kvlen;
    ifb_time v;
    if (memo_get(s, key, &v))
        return v;
    v = IFB_TIME_NEVER;
    if (s->have_kt[KT_MLA]) {
        ifb_kernel_shape sh = ifb_kshape_mla_decode(IFB_DTYPE_BF16, s->cfg.kv_dtype,
                                                    (double)(batch * q), (double)kvlen);
        ifb_kernel_result r;
        ifb_err e;
        if (ifb_kernel_time(&s->kt[KT_MLA], &sh, &r, &e) == 0)
            v = r.time;
    }
    if (v == IFB_TIME_NEVER)
        v = roof(s, s->a_dec * (double)ctx_sum * (double)q / s->par.tp,
                 (double)ctx_sum * s->kv_layer_bytes, IFB_DTYPE_BF16);
    memo_put(s, key, v);
    return v;
}

/* Attention of one layer (projections + core) for one chain of one GPU. */
static ifb_time attn_time(ifb_serving *s, const tokset *t)
{
    const ifb_model *m = s->m;
    int64_t td = t->nd * t->q, T = td + t->pf;
    if (T == 0)
        return 0;
    int64_t tp = s->par.tp, h = m->hidden, H = m->heads / tp;
    ifb_time v = s->cfg.layer_overhead;
    if (m->attn == IFB_ATTN_MLA) {
        int64_t qk = m->qk_nope_dim + m->qk_rope_dim, kvl = m->kv_lora_rank;
        if (m->q_lora_rank > 0)
            v += gemm(s, G_QA, T, h, m->q_lora_rank) + gemm(s, G_QB, T, m->q_lora_rank, H * qk);
        else
            v += gemm(s, G_QP, T, h, H * qk);
        v += gemm(s, G_KVA, T, h, kvl + m->qk_rope_dim);
        if (td) {
            v += gemm(s, G_UK, td, m->qk_nope_dim, H * kvl) +
                 gemm(s, G_UV, td, kvl, H * m->v_head_dim);
            v += mla_core_decode(s, t->nd, t->ctx_sum, t->q);
        }
        if (t->pf) {
            v += gemm(s, G_KVB, t->pf + t->pf_prefix, kvl, H * (m->qk_nope_dim + m->v_head_dim));
            v += roof(s, s->a_pre * t->pf_pairs / tp, (double)t->pf_prefix * s->kv_layer_bytes,
                      IFB_DTYPE_BF16);
        }
        v += gemm(s, G_O, T, H * m->v_head_dim, h);
    } else {
        int64_t kvh = m->kv_heads > 0 ? m->kv_heads : m->heads;
        int64_t kvh_gpu = (kvh + tp - 1) / tp;
        v += gemm(s, G_QKV, T, h, (H + 2 * kvh_gpu) * m->head_dim);
        v += gemm(s, G_O, T, H * m->head_dim, h);
        if (td)
            v += roof(s, s->a_dec * (double)t->ctx_sum * (double)t->q / tp,
                      (double)t->ctx_sum * s->kv_layer_bytes, IFB_DTYPE_BF16);
        if (t->pf)
            v += roof(s, s->a_pre * t->pf_pairs / tp, (double)t->pf_prefix * s->kv_layer_bytes,
                      IFB_DTYPE_BF16);
    }
    return v;
}

static int64_t tok_total(const tokset *t)
{
    return t->nd * t->q + t->pf;
}

static ifb_time ffn_time(ifb_serving *s, int64_t T)
{
    int64_t f = s->m->ffn_dim / s->par.tp;
    return gemm(s, G_FU, T, s->m->hidden, 2 * f) + gemm(s, G_FD, T, f, s->m->hidden);
}

static ifb_time shared_time(ifb_serving *s, int64_t T)
{
    const ifb_model *m = s->m;
    if (!m->shared_experts)
        return 0;
    int64_t f = m->shared_experts * m->moe_ffn_dim / s->par.tp;
    return gemm(s, G_SU, T, m->hidden, 2 * f) + gemm(s, G_SD, T, f, m->hidden);
}

/* ---- Requests and scheduling -------------------------------------------------------------- */

static int64_t draw_len(ifb_serving *s, const ifb_len_dist *d, int output, size_t row)
{
    if (d->kind == IFB_LEN_FIXED)
        return d->lo;
    if (d->kind == IFB_LEN_UNIFORM)
        return d->lo + (int64_t)ifb_rng_below(&s->rng_len, (uint64_t)(d->hi - d->lo + 1));
    const ifb_trace *t = &s->cfg.trace;
    const ifb_trace_row *r = &t->rows[row % t->n];
    return output ? r->output : r->input;
}

static void sys_account(ifb_serving *s)
{
    ifb_time now = s->sim->now;
    /* min/max over values held for a positive time: a finished request and its replacement
     * in one event do not count as a dip */
    if (s->window_open && now > s->sys_last) {
        s->sys_area += (double)s->in_system * (double)(now - s->sys_last);
        if (s->in_system < s->min_sys)
            s->min_sys = s->in_system;
        if (s->in_system > s->max_sys)
            s->max_sys = s->in_system;
    }
    s->sys_last = now;
}

/* The live instance with the fewest requests, -1 if every instance is down. */
static int pick_instance(ifb_serving *s)
{
    int best = -1;
    for (int i = 0; i < s->par.dp; i++)
        if ((!s->inst_down || !s->inst_down[i]) &&
            (best < 0 || s->inst[i].in_system < s->inst[best].in_system))
            best = i;
    return best;
}

/* Requests that ended, finished or failed: what the run's end conditions count. */
static uint64_t ended(const ifb_serving *s)
{
    return s->finished + s->nfailed;
}

static void push_int(int **a, size_t *n, size_t *cap, int v)
{
    *a = ifb_xgrow(*a, cap, *n, sizeof **a, 64, "a serving instance's request queue");
    (*a)[(*n)++] = v;
}

static void start_step(ifb_serving *s);
static void finish_run(ifb_serving *s);

static void new_request(ifb_serving *s)
{
    s->req = ifb_xgrow(s->req, &s->req_cap, s->nreq, sizeof *s->req, 1024, "the requests");
    size_t row = s->trace_next++;
    ifb_serving_req *r = &s->req[s->nreq];
    memset(r, 0, sizeof *r);
    r->id = (int64_t)s->nreq;
    r->input = draw_len(s, &s->cfg.input, 0, row);
    r->output = draw_len(s, &s->cfg.output, 1, row);
    r->arrival = s->sim->now;
    r->first = r->last = r->finish = IFB_TIME_NEVER;
    r->prefill_target = r->input;
    r->state = RS_WAIT;
    r->instance = pick_instance(s);
    if (r->instance < 0) { /* no live instance left: the request fails on arrival */
        r->instance = 0;
        r->state = RS_DONE;
        r->failed = 1;
        r->finish = s->sim->now;
        s->nreq++;
        s->nfailed++;
        return;
    }
    instq *q = &s->inst[r->instance];
    push_int(&q->wait, &q->wn, &q->wcap, (int)s->nreq);
    q->in_system++;
    s->nreq++;
    sys_account(s);
    s->in_system++;
}

static void arrival_ev(ifb_sim *sim, void *obj, uint64_t arg);

static void schedule_arrival(ifb_serving *s)
{
    if (s->cfg.arrival == IFB_ARRIVAL_CLOSED || s->nreq >= s->arrivals_max)
        return;
    ifb_time at;
    if (s->cfg.arrival == IFB_ARRIVAL_TRACE) {
        at = s->cfg.trace.rows[s->nreq % s->cfg.trace.n].arrival;
        if (at < s->sim->now)
            at = s->sim->now;
    } else {
        double dt = ifb_rng_exp(&s->rng_arr, 1.0 / s->cfg.rate);
        at = s->sim->now + (ifb_time)(dt * (double)IFB_SEC);
    }
    if (s->cfg.duration && at > s->cfg.duration) {
        s->arrivals_max = s->nreq; /* no more arrivals: the run drains */
        if (s->idle && ended(s) >= s->nreq)
            finish_run(s);
        return;
    }
    ifb_sim_at(s->sim, at, arrival_ev, s, 0);
}

static void finish_run(ifb_serving *s)
{
    if (s->done)
        return;
    sys_account(s);
    s->done = 1;
    s->window_end = s->sim->now;
    s->window_tokens = s->tokens_emitted - s->tokens_at_window;
}

static void arrival_ev(ifb_sim *sim, void *obj, uint64_t arg)
{
    (void)sim;
    (void)arg;
    ifb_serving *s = obj;
    if (s->done)
        return;
    new_request(s);
    schedule_arrival(s);
    if (s->idle)
        start_step(s);
}

/* KV cache per instance: a request holds prefilled + generated-after-prefill tokens. */
static void preempt(ifb_serving *s, instq *q, int ri)
{
    ifb_serving_req *r = &s->req[ri];
    q->kv_used -= r->kv;
    r->kv = 0;
    r->prefilled = 0;
    r->prefill_target = r->input + r->generated;
    r->state = RS_WAIT;
    r->preemptions++;
    s->preemptions++;
    /* back to the head of the queue */
    push_int(&q->wait, &q->wn, &q->wcap, ri);
    memmove(q->wait + 1, q->wait, (q->wn - 1) * sizeof *q->wait);
    q->wait[0] = ri;
}

static void add_ent(ifb_serving *s, batch_ent e)
{
    s->ents = ifb_xgrow(s->ents, &s->ents_cap, s->nents, sizeof *s->ents, 256, "a step's batch");
    s->ents[s->nents++] = e;
}

/* Builds one instance's batch for this step. */
static void schedule_instance(ifb_serving *s, int ii, int64_t q_tokens)
{
    instq *q = &s->inst[ii];
    int64_t cap = s->par.kv_tokens;
    /* Decode: running requests past prefill; make room for their new tokens. */
    for (;;) {
        int64_t need = 0;
        for (size_t i = 0; i < q->rn; i++)
            if (s->req[q->run[i]].state == RS_DECODE)
                need += q_tokens;
        if (q->kv_used + need <= cap || q->rn == 0)
            break;
        /* preempt the most recently admitted request */
        size_t victim = 0;
        for (size_t i = 1; i < q->rn; i++)
            if (s->req[q->run[i]].admit_seq > s->req[q->run[victim]].admit_seq)
                victim = i;
        int ri = q->run[victim];
        q->run[victim] = q->run[--q->rn];
        preempt(s, q, ri);
    }
    int64_t budget = s->cfg.token_budget;
    size_t nb = 0;
    /* keep admission order: run[] is in admission order except after preemption swaps */
    for (size_t i = 0; i < q->rn && nb < (size_t)s->cfg.max_batch; i++) {
        ifb_serving_req *r = &s->req[q->run[i]];
        if (r->state != RS_DECODE || budget < q_tokens)
            continue;
        add_ent(s, (batch_ent){q->run[i], 0, 0, 0, 1});
        budget -= q_tokens;
        nb++;
    }
    /* Prefill: chunks of requests already admitted, then new admissions in FIFO order. */
    for (size_t i = 0; i < q->rn && budget > 0; i++) {
        ifb_serving_req *r = &s->req[q->run[i]];
        if (r->state != RS_PREFILL)
            continue;
        int64_t n = r->prefill_target - r->prefilled;
        if (n > s->cfg.chunk)
            n = s->cfg.chunk;
        if (n > budget)
            n = budget;
        add_ent(s, (batch_ent){q->run[i], 0, n, r->prefilled, 0});
        budget -= n;
    }
    size_t w = 0;
    while (w < q->wn && budget > 0 && q->rn < (size_t)s->cfg.max_batch) {
        int ri = q->wait[w];
        ifb_serving_req *r = &s->req[ri];
        int64_t need = r->prefill_target + 1;
        if (q->kv_used + need > cap)
            break;
        w++;
        r->state = RS_PREFILL;
        r->admit_seq = ++s->admit_seq;
        r->kv = r->prefill_target; /* reserve the whole prompt at admission */
        q->kv_used += r->kv;
        push_int(&q->run, &q->rn, &q->rcap, ri);
        int64_t n = r->prefill_target;
        if (n > s->cfg.chunk)
            n = s->cfg.chunk;
        if (n > budget)
            n = budget;
        add_ent(s, (batch_ent){ri, 0, n, 0, 0});
        budget -= n;
    }
    if (w) {
        memmove(q->wait, q->wait + w, (q->wn - w) * sizeof *q->wait);
        q->wn -= w;
    }
}

/* ---- Step program ------------------------------------------------------------------------- */

static void build_program(ifb_serving *s)
{
    const ifb_model *m = s->m;
    int L = (int)m->layers, mtp = s->cfg.mtp ? 1 : 0;
    s->layers_run = L + mtp;
    s->st = xcalloc((size_t)(s->layers_run * 4 + 2), sizeof *s->st);
    int k = 0, mi = 0;
    for (int l = 0; l < s->layers_run; l++) {
        int moe = l < L ? (m->experts && m->layer_is_moe[l]) : (m->experts > 0);
        if (s->par.layout == IFB_LAYOUT_DP_EP) {
            s->st[k++] = (stage){ST_COMP, PART_PRE, l, moe ? mi : -1, 0};
            if (moe) {
                s->st[k++] = (stage){ST_A2A, 0, l, mi, 0};
                s->st[k++] = (stage){ST_COMP, PART_EXPERT, l, mi, 0};
                s->st[k++] = (stage){ST_A2A, 0, l, mi, 1};
                mi++;
            }
        } else {
            s->st[k++] = (stage){ST_COMP, PART_PRE, l, -1, 0};
            s->st[k++] = (stage){ST_RING, 0, l, -1, 0};
            s->st[k++] = (stage){ST_COMP, PART_MLP, l, moe ? mi : -1, 0};
            s->st[k++] = (stage){ST_RING, 0, l, -1, 1};
            if (moe)
                mi++;
        }
    }
    s->st[k++] = (stage){ST_COMP, PART_LM, L, -1, 0};
    s->st[k++] = (stage){ST_DONE, 0, L, -1, 0};
    s->K = k;
    s->nmoe = mi;
}

static size_t idx3(const ifb_serving *s, int k, int r, int c)
{
    return ((size_t)k * (size_t)s->R + (size_t)r) * (size_t)s->C + (size_t)c;
}

static int group_of(const ifb_serving *s, int r)
{
    return r / s->gsz;
}

static void enter_stage(ifb_serving *s, int r, int c);

static void advance(ifb_serving *s, int r, int c)
{
    s->pos[r * s->C + c]++;
    enter_stage(s, r, c);
}

static void gpu_done_ev(ifb_sim *sim, void *obj, uint64_t arg);

static void gpu_start(ifb_serving *s, int r, int c)
{
    int k = s->pos[r * s->C + c];
    ifb_time d = s->dur[idx3(s, k, r, c)];
    s->gpu_busy[r] = 1;
    s->busy_acc[r] += d;
    ifb_sim_after(s->sim, d, gpu_done_ev, s, (uint64_t)r * 2 + (uint64_t)c);
}

static void gpu_done_ev(ifb_sim *sim, void *obj, uint64_t arg)
{
    sim->progress++; /* compute finishing is progress too, for the watchdog */
    (void)sim;
    ifb_serving *s = obj;
    int r = (int)(arg / 2), c = (int)(arg % 2);
    s->gpu_busy[r] = 0;
    if (s->gpu_q[r * 2] >= 0) {
        int nc = s->gpu_q[r * 2];
        s->gpu_q[r * 2] = s->gpu_q[r * 2 + 1];
        s->gpu_q[r * 2 + 1] = -1;
        gpu_start(s, r, nc);
    }
    advance(s, r, c);
}

static void gpu_submit(ifb_serving *s, int r, int c)
{
    if (!s->gpu_busy[r]) {
        gpu_start(s, r, c);
        return;
    }
    if (s->gpu_q[r * 2] < 0)
        s->gpu_q[r * 2] = c;
    else
        s->gpu_q[r * 2 + 1] = c;
}

static void msg_cb(ifb_sim *sim, void *ctx, const ifb_msg_info *info);

static void skipped_ev(ifb_sim *sim, void *obj, uint64_t arg)
{
    (void)arg;
    msg_cb(sim, obj, NULL);
}

static void post(ifb_serving *s, int src, int dst, uint64_t bytes, int tclass, slot *sl)
{
    if (s->inflight++ == 0)
        s->comm_start = s->sim->now;
    if (s->rank_down[src] || s->rank_down[dst]) {
        /* a GPU that is down: nothing is sent, the phase goes on without it (ASSUMPTION) */
        ifb_sim_after(s->sim, 0, skipped_ev, sl, 0);
        return;
    }
    s->cur.bytes[tclass] += bytes;
    s->cur.msgs++;
    if (ifb_parallel_server(&s->par, src) == ifb_parallel_server(&s->par, dst))
        s->cur.nvlink_bytes += bytes;
    else
        s->cur.nic_bytes += bytes;
    if (!ifb_net_send(s->net, s->par.endpoint[src], s->par.endpoint[dst], bytes, tclass, msg_cb,
                      sl)) {
        ifb_sim_request_stop(s->sim, IFB_STOP_ERROR, "serving: network refused a message %d->%d",
                             src, dst);
    }
}

static ifb_xplan *plan_of(ifb_serving *s, int g, const stage *st, int c)
{
    return &s->plans[(((size_t)g * s->nmoe + st->moe) * 2 + st->combine) * s->C + c];
}

static void post_stage(ifb_serving *s, int k, int r, int c, int stage_no)
{
    const stage *st = &s->st[k];
    int g = group_of(s, r), base = g * s->gsz, gr = r - base;
    ifb_xplan *p = plan_of(s, g, st, c);
    for (size_t i = p->first[gr * 2 + stage_no]; i < p->first[gr * 2 + stage_no + 1]; i++) {
        const ifb_xfer *x = &p->x[i];
        slot *sl = x->final ? &s->slotf[idx3(s, k, base + x->dst, c)]
                            : &s->slot0[idx3(s, k, base + x->dst, c)];
        post(s, r, base + x->dst, x->bytes, IFB_TC_A2A, sl);
    }
}

static void a2a_check(ifb_serving *s, int k, int r, int c)
{
    size_t i = idx3(s, k, r, c);
    if (!s->ready[i] || s->donek[i])
        return;
    const stage *st = &s->st[k];
    int g = group_of(s, r), gr = r - g * s->gsz;
    ifb_xplan *p = plan_of(s, g, st, c);
    if (s->sent[i] == 0 && s->recv0[i] == p->exp0[gr]) {
        s->sent[i] = 1;
        post_stage(s, k, r, c, 1);
    }
    size_t gi = ((size_t)k * s->ngroups + g) * s->C + c;
    if (s->recv0[i] == p->exp0[gr] && s->recvf[i] == p->expf[gr] && s->readycnt[gi] == s->gsz) {
        s->donek[i] = 1;
        int kind = st->combine + 2 * s->normal_step;
        s->delta[((size_t)kind * s->R + r) * s->C + c] = s->sim->now - s->barrier[gi];
        s->have_delta[kind] = 1;
        advance(s, r, c);
    }
}

static void replay_ev(ifb_sim *sim, void *obj, uint64_t arg)
{
    (void)sim;
    (void)arg;
    slot *sl = obj;
    ifb_serving *s = sl->s;
    if (--s->inflight == 0)
        s->comm_acc += s->sim->now - s->comm_start;
    s->donek[idx3(s, sl->k, sl->r, sl->c)] = 1;
    advance(s, sl->r, sl->c);
}

/* Counts the bytes a replayed phase stands for, as if sent. */
static void account_replay(ifb_serving *s, int k, int r, int c)
{
    const stage *st = &s->st[k];
    int g = group_of(s, r), base = g * s->gsz, gr = r - base;
    ifb_xplan *p = plan_of(s, g, st, c);
    for (size_t i = p->first[gr * 2]; i < p->first[gr * 2 + 2]; i++) {
        const ifb_xfer *x = &p->x[i];
        s->cur.bytes[IFB_TC_A2A] += x->bytes;
        if (ifb_parallel_server(&s->par, r) == ifb_parallel_server(&s->par, base + x->dst))
            s->cur.nvlink_bytes += x->bytes;
        else
            s->cur.nic_bytes += x->bytes;
    }
}

static void ring_try(ifb_serving *s, int k, int r, int c)
{
    size_t i = idx3(s, k, r, c);
    int n = s->gsz, steps = 2 * (n - 1);
    if (!s->ready[i] || s->donek[i])
        return;
    int g = group_of(s, r), base = g * n;
    int next = base + (r - base + 1) % n;
    const tokset *t = &s->ts[r * s->C + c];
    uint64_t bytes = (uint64_t)tok_total(t) * (uint64_t)s->m->hidden * 2;
    /* Every rank of a TP group has the same tokens: with none, there is nothing to reduce. */
    while (bytes && s->sent[i] < steps && s->sent[i] <= s->recvf[i]) {
        s->sent[i]++;
        post(s, r, next, ifb_ring_step_bytes(bytes, n), IFB_TC_COLL,
             &s->slotf[idx3(s, k, next, c)]);
    }
    if (!bytes || (s->recvf[i] == steps && s->sent[i] == steps)) {
        s->donek[i] = 1;
        advance(s, r, c);
    }
}

/* A failed message names the GPU that cannot be reached: its destination, or its source when the
 * source's own NIC is down (ifb_msg_fail). A network that cannot tell (any other non-zero code)
 * has both ends scored, the destination twice; the dead GPU is the one the step's failures have
 * in common. */
static void note_failure(ifb_serving *s, const ifb_msg_info *info)
{
    int src = info->src >= 0 && info->src < s->nep ? s->rank_of_ep[info->src] : -1;
    int dst = info->dst >= 0 && info->dst < s->nep ? s->rank_of_ep[info->dst] : -1;
    int ws = 1, wd = 2;
    if (info->failed == IFB_MSG_DST_UNREACHABLE)
        ws = 0;
    else if (info->failed == IFB_MSG_SRC_DOWN)
        ws = 2, wd = 0;
    if (src >= 0)
        s->fail_score[src] += (uint32_t)ws;
    if (dst >= 0)
        s->fail_score[dst] += (uint32_t)wd;
    s->fail_pending = 1;
}

static void msg_cb(ifb_sim *sim, void *ctx, const ifb_msg_info *info)
{
    (void)sim;
    (void)info;
    slot *sl = ctx;
    ifb_serving *s = sl->s;
    if (info && info->failed) {
        /* counted as done so the step ends; step_end marks the instance down */
        note_failure(s, info);
    } else if (info && info->tclass >= 0 && info->tclass < IFB_TC_COUNT) {
        ifb_summary_add(&s->msg_time[info->tclass], (double)(info->done - info->start));
    }
    if (--s->inflight == 0)
        s->comm_acc += s->sim->now - s->comm_start;
    size_t i = idx3(s, sl->k, sl->r, sl->c);
    if (sl->final)
        s->recvf[i]++;
    else
        s->recv0[i]++;
    if (s->pos[sl->r * s->C + sl->c] != sl->k)
        return; /* the receiver has not reached this phase yet */
    if (s->st[sl->k].kind == ST_RING)
        ring_try(s, sl->k, sl->r, sl->c);
    else
        a2a_check(s, sl->k, sl->r, sl->c);
}

static void step_end(ifb_serving *s);

static void enter_stage(ifb_serving *s, int r, int c)
{
    int k = s->pos[r * s->C + c];
    const stage *st = &s->st[k];
    size_t i = idx3(s, k, r, c);
    switch (st->kind) {
    case ST_COMP:
        gpu_submit(s, r, c);
        return;
    case ST_A2A: {
        s->ready[i] = 1;
        int g = group_of(s, r);
        size_t gi = ((size_t)k * s->ngroups + g) * s->C + c;
        int *cnt = &s->readycnt[gi];
        if (s->replay[k]) {
            account_replay(s, k, r, c);
            if (++*cnt < s->gsz)
                return;
            int kind = st->combine + 2 * s->normal_step;
            for (int q = g * s->gsz; q < (g + 1) * s->gsz; q++) {
                if (s->inflight++ == 0)
                    s->comm_start = s->sim->now;
                ifb_sim_after(s->sim, s->delta[((size_t)kind * s->R + q) * s->C + c], replay_ev,
                              &s->slotf[idx3(s, k, q, c)], 0);
            }
            return;
        }
        post_stage(s, k, r, c, 0);
        if (++*cnt == s->gsz) {
            s->barrier[gi] = s->sim->now;
            for (int q = g * s->gsz; q < (g + 1) * s->gsz; q++)
                if (s->pos[q * s->C + c] == k)
                    a2a_check(s, k, q, c);
        } else {
            a2a_check(s, k, r, c);
        }
        return;
    }
    case ST_RING:
        s->ready[i] = 1;
        ring_try(s, k, r, c);
        return;
    default:
        if (++s->chains_done == s->R * s->C)
            step_end(s);
        return;
    }
}

/* Routing, plans and durations of every stage for the batch in s->ts. */
static void prepare_step(ifb_serving *s)
{
    const ifb_model *m = s->m;
    int R = s->R, C = s->C;
    int normal = 0;
    if (s->cfg.a2a == IFB_A2A_MODE_NORMAL)
        normal = 1;
    else if (s->cfg.a2a == IFB_A2A_AUTO)
        for (int i = 0; i < R * C; i++)
            normal |= s->ts[i].pf > 0;
    s->normal_step = normal;
    int topk = (int)m->experts_per_tok;
    /* Routing and plans per EP group, MoE layer and chain (dp-ep only). */
    if (s->par.layout == IFB_LAYOUT_DP_EP && s->nmoe) {
        int n = s->gsz;
        int *ntok = xcalloc((size_t)n, sizeof *ntok);
        for (int g = 0; g < s->ngroups; g++) {
            ifb_ep_group grp = {n, g * n, s->par.gpus_per_server, s->par.expert_rank};
            for (int mi = 0; mi < s->nmoe; mi++) {
                int is_mtp = s->cfg.mtp && mi == s->nmoe - 1;
                for (int c = 0; c < C; c++) {
                    size_t tot = 0;
                    for (int q = 0; q < n; q++) {
                        const tokset *t =
                            is_mtp ? &s->ts_mtp[(g * n + q) * C + c] : &s->ts[(g * n + q) * C + c];
                        ntok[q] = (int)tok_total(t);
                        tot += (size_t)ntok[q];
                    }
                    if (tot * (size_t)topk > s->experts_cap) /* tokens of a step: no wrap */
                        s->experts = ifb_xgrow(s->experts, &s->experts_cap, tot * (size_t)topk,
                                               sizeof *s->experts, 1024, "expert choices");
                    ifb_router_route(&s->router, mi, (int)tot, s->experts);
                    for (int q = 0; q < n; q++)
                        s->recv_copies[((size_t)mi * R + g * n + q) * C + c] = 0;
                    for (size_t x = 0; x < tot * (size_t)topk; x++)
                        s->recv_copies[((size_t)mi * R + g * n +
                                        s->par.expert_rank[s->experts[x]]) *
                                           C +
                                       c]++;
                    ifb_xplan *pd = &s->plans[(((size_t)g * s->nmoe + mi) * 2) * C + c];
                    ifb_xplan *pc = &s->plans[(((size_t)g * s->nmoe + mi) * 2 + 1) * C + c];
                    ifb_ep_count(pd, &grp, normal ? IFB_A2A_NORMAL : IFB_A2A_LOW_LATENCY, topk,
                                 ntok, s->experts);
                    ifb_ep_emit(pd, &grp, 0, (uint64_t)s->dbytes);
                    ifb_ep_copy_counts(pc, pd, topk);
                    ifb_ep_emit(pc, &grp, 1, (uint64_t)s->cbytes);
                }
            }
        }
        free(ntok);
    }
    /* Durations. */
    for (int r = 0; r < R; r++) {
        for (int c = 0; c < C; c++) {
            const tokset *t = &s->ts[r * C + c];
            const tokset *tm = &s->ts_mtp[r * C + c];
            int64_t T = tok_total(t), Tm = tok_total(tm);
            ifb_time at = attn_time(s, t), atm = s->cfg.mtp ? attn_time(s, tm) : 0;
            ifb_time ffn = ffn_time(s, T);
            ifb_time sh = shared_time(s, T), shm = shared_time(s, Tm);
            ifb_time rt = m->experts ? gemm(s, G_RT, T, m->hidden, m->experts) : 0;
            ifb_time rtm = m->experts ? gemm(s, G_RT, Tm, m->hidden, m->experts) : 0;
            int prefill = t->pf > 0;
            for (int k = 0; k < s->K; k++) {
                const stage *st = &s->st[k];
                int is_mtp = st->layer >= m->layers && st->part != PART_LM;
                ifb_time d = 0;
                if (st->kind == ST_COMP) {
                    switch (st->part) {
                    case PART_PRE:
                        if (is_mtp) /* MTP module: eh_proj, attention, then its MoE */
                            d = atm + gemm(s, G_EH, Tm, 2 * m->hidden, m->hidden) +
                                (s->par.layout == IFB_LAYOUT_DP_EP ? rtm : 0);
                        else if (s->par.layout == IFB_LAYOUT_TP)
                            d = at;
                        else
                            d = at + (st->moe >= 0 ? rt : ffn);
                        break;
                    case PART_EXPERT: {
                        int64_t cp = s->recv_copies[((size_t)st->moe * R + r) * C + c];
                        d = (is_mtp ? shm : sh) + routed_time(s, cp, prefill && normal);
                        break;
                    }
                    case PART_MLP:
                        if (st->moe >= 0)
                            d = (is_mtp ? rtm + shm : rt + sh) +
                                routed_time(s, is_mtp ? Tm : T, prefill);
                        else
                            d = ffn;
                        break;
                    case PART_LM: {
                        int64_t nout = t->nd * t->q + t->pf_seqs;
                        d = gemm(s, G_LM, nout, m->hidden, m->vocab / s->par.tp);
                        if (s->cfg.mtp)
                            d += gemm(s, G_LM, tm->nd, m->hidden, m->vocab / s->par.tp);
                        break;
                    }
                    }
                }
                s->dur[idx3(s, k, r, c)] = d;
            }
        }
    }
}

/* Critical path of the step with an infinitely fast network and no overlap. */
static ifb_time compute_only(ifb_serving *s)
{
    ifb_time worst = 0;
    for (int g = 0; g < s->ngroups; g++) {
        ifb_time t = 0;
        int k = 0;
        while (k < s->K) {
            ifb_time mx = 0;
            if (s->st[k].kind == ST_COMP) {
                for (int r = g * s->gsz; r < (g + 1) * s->gsz; r++) {
                    ifb_time sum = 0;
                    for (int c = 0; c < s->C; c++)
                        sum += s->dur[idx3(s, k, r, c)];
                    if (sum > mx)
                        mx = sum;
                }
            }
            t += mx;
            k++;
        }
        if (t > worst)
            worst = t;
    }
    return worst;
}

static void step_ev(ifb_sim *sim, void *obj, uint64_t arg)
{
    (void)sim;
    (void)arg;
    start_step(obj);
}

static void start_step(ifb_serving *s)
{
    if (s->done)
        return;
    int R = s->R, C = s->C;
    int64_t q_tokens = s->cfg.mtp ? 2 : 1;
    s->nents = 0;
    for (int i = 0; i < s->par.dp; i++) {
        size_t first = s->nents;
        schedule_instance(s, i, q_tokens);
        /* chains: alternate decode requests, prefill chunks to the lighter chain */
        int64_t load[2] = {0, 0};
        int alt = 0;
        for (size_t e = first; e < s->nents; e++) {
            batch_ent *b = &s->ents[e];
            if (C == 1)
                b->chain = 0;
            else if (b->decode)
                b->chain = alt++ & 1;
            else
                b->chain = load[1] < load[0];
            load[b->chain] += b->decode ? q_tokens : b->pf;
        }
    }
    if (s->nents == 0) {
        s->idle = 1;
        if (s->ninst_down == s->par.dp) {
            finish_run(s); /* every instance is down: nothing can run any more */
        } else if (s->cfg.arrival == IFB_ARRIVAL_CLOSED ||
                   (s->nreq >= s->arrivals_max && ended(s) < s->nreq)) {
            /* requests wait but none can be admitted: stop rather than spin */
            ifb_sim_request_stop(s->sim, IFB_STOP_ERROR,
                                 "serving: %lld requests wait but none fits the KV cache "
                                 "(%lld tokens per instance)",
                                 (long long)(s->nreq - ended(s)), (long long)s->par.kv_tokens);
            finish_run(s);
        } else if (s->nreq >= s->arrivals_max) {
            finish_run(s);
        }
        return;
    }
    s->idle = 0;
    memset(s->ts, 0, (size_t)R * C * sizeof *s->ts);
    memset(s->ts_mtp, 0, (size_t)R * C * sizeof *s->ts_mtp);
    ifb_serving_step *cur = &s->cur;
    memset(cur, 0, sizeof *cur);
    for (size_t e = 0; e < s->nents; e++) {
        const batch_ent *b = &s->ents[e];
        const ifb_serving_req *rq = &s->req[b->req];
        int inst = rq->instance;
        for (int r = inst * s->par.tp; r < (inst + 1) * s->par.tp; r++) {
            tokset *t = &s->ts[r * C + b->chain];
            if (b->decode) {
                int64_t ctx = rq->input + rq->generated;
                t->nd++;
                t->q = q_tokens;
                t->ctx_sum += ctx;
                tokset *tm = &s->ts_mtp[r * C + b->chain];
                tm->nd++;
                tm->q = 1;
                tm->ctx_sum += ctx;
            } else {
                t->pf += b->pf;
                t->pf_seqs++;
                t->pf_prefix += b->prefix;
                t->pf_pairs +=
                    (double)b->pf * (double)b->prefix + (double)b->pf * (double)(b->pf + 1) / 2;
            }
        }
        if (b->decode) {
            cur->decode_tokens += q_tokens;
            cur->decode_seqs++;
        } else {
            cur->prefill_tokens += b->pf;
        }
    }
    for (int i = 0; i < R * C; i++)
        if (!s->ts[i].q)
            s->ts[i].q = q_tokens;
    prepare_step(s);
    /* Fidelity: which all-to-all phases run on the network this step. */
    for (int k = 0; k < s->K; k++) {
        const stage *st = &s->st[k];
        int kind = st->combine + 2 * s->normal_step;
        int mtp_layer = s->cfg.mtp && st->moe == s->nmoe - 1;
        s->replay[k] = st->kind == ST_A2A && s->cfg.sample_every > 1 &&
                       st->moe % s->cfg.sample_every != 0 && !mtp_layer && s->have_delta[kind];
        if (st->kind == ST_A2A) {
            cur->replayed_a2a += s->replay[k] ? C : 0;
            cur->simulated_a2a += s->replay[k] ? 0 : C;
        }
    }
    cur->index = s->nsteps;
    cur->start = s->sim->now;
    cur->normal_a2a = s->normal_step;
    cur->compute_only = compute_only(s);
    for (int i = 0; i < s->par.dp; i++)
        cur->running += (int64_t)s->inst[i].rn;
    size_t n3 = (size_t)s->K * R * C;
    memset(s->recv0, 0, n3 * sizeof *s->recv0);
    memset(s->recvf, 0, n3 * sizeof *s->recvf);
    memset(s->ready, 0, n3 * sizeof *s->ready);
    memset(s->sent, 0, n3 * sizeof *s->sent);
    memset(s->donek, 0, n3 * sizeof *s->donek);
    memset(s->readycnt, 0, (size_t)s->K * s->ngroups * C * sizeof *s->readycnt);
    memset(s->pos, 0, (size_t)R * C * sizeof *s->pos);
    memset(s->busy_acc, 0, (size_t)R * sizeof *s->busy_acc);
    s->chains_done = 0;
    s->comm_acc = 0;
    s->step_start = s->sim->now;
    s->running_step = 1;
    for (int r = 0; r < R; r++)
        for (int c = 0; c < C; c++)
            enter_stage(s, r, c);
}

static void emit_tokens(ifb_serving *s, ifb_serving_req *r, int64_t n)
{
    ifb_time now = s->sim->now;
    if (n <= 0)
        return;
    if (r->generated == 0) {
        r->first = now;
    } else {
        /* inter-token gaps of every request; the measured ones are picked at the end. With
         * MTP the extra tokens of one step arrive together (gap 0), as a streaming client
         * sees them. */
        for (int64_t i = 0; i < n; i++) {
            if (s->nitl == s->itl_cap) {
                s->itl_req = ifb_xgrow(s->itl_req, &s->itl_cap, s->nitl, sizeof *s->itl_req, 4096,
                                       "inter-token gaps");
                s->itl_gap =
                    ifb_xrealloc(s->itl_gap, s->itl_cap, sizeof *s->itl_gap, "inter-token gaps");
            }
            s->itl_req[s->nitl] = (int)r->id;
            s->itl_gap[s->nitl++] = i == 0 ? now - r->last : 0;
        }
    }
    r->generated += n;
    r->last = now;
    s->tokens_emitted += (uint64_t)n;
}

static void finish_request(ifb_serving *s, int ri)
{
    ifb_serving_req *r = &s->req[ri];
    instq *q = &s->inst[r->instance];
    r->state = RS_DONE;
    r->finish = s->sim->now;
    q->kv_used -= r->kv;
    r->kv = 0;
    for (size_t i = 0; i < q->rn; i++)
        if (q->run[i] == ri) {
            memmove(q->run + i, q->run + i + 1, (q->rn - i - 1) * sizeof *q->run);
            q->rn--;
            break;
        }
    q->in_system--;
    sys_account(s);
    s->in_system--;
    s->finished++;
    if (s->window_open)
        r->measured = 1;
}

static void fail_request(ifb_serving *s, int ri)
{
    ifb_serving_req *r = &s->req[ri];
    instq *q = &s->inst[r->instance];
    r->state = RS_DONE;
    r->failed = 1;
    r->finish = s->sim->now;
    q->kv_used -= r->kv;
    r->kv = 0;
    q->in_system--;
    sys_account(s);
    s->in_system--;
    s->nfailed++;
}

/* At the end of a step with failed messages: the ranks with the highest failure score are down,
 * with their whole instance; its running and queued requests fail. */
static void mark_down(ifb_serving *s)
{
    uint32_t best = 0;
    for (int r = 0; r < s->R; r++)
        if (s->fail_score[r] > best)
            best = s->fail_score[r];
    for (int r = 0; r < s->R && best; r++) {
        if (s->fail_score[r] != best)
            continue;
        int ii = r / s->par.tp;
        if (s->inst_down[ii])
            continue;
        s->inst_down[ii] = 1;
        s->ninst_down++;
        for (int q = ii * s->par.tp; q < (ii + 1) * s->par.tp; q++)
            s->rank_down[q] = 1;
        instq *q = &s->inst[ii];
        for (size_t i = 0; i < q->rn; i++)
            fail_request(s, q->run[i]);
        for (size_t i = 0; i < q->wn; i++)
            fail_request(s, q->wait[i]);
        q->rn = q->wn = 0;
    }
    memset(s->fail_score, 0, (size_t)s->R * sizeof *s->fail_score);
    s->fail_pending = 0;
}

static void open_window(ifb_serving *s)
{
    s->window_open = 1;
    s->t_window = s->sim->now;
    s->tokens_at_window = s->tokens_emitted;
    s->sys_last = s->sim->now;
    s->sys_area = 0;
    s->min_sys = INT64_MAX;
    s->max_sys = INT64_MIN;
}

static void step_end(ifb_serving *s)
{
    ifb_time now = s->sim->now;
    s->running_step = 0;
    ifb_serving_step *cur = &s->cur;
    cur->end = now;
    cur->comm = s->comm_acc;
    double busy = 0;
    for (int r = 0; r < s->R; r++)
        busy += (double)s->busy_acc[r];
    cur->gpu_busy = now > cur->start ? busy / ((double)s->R * (double)(now - cur->start)) : 0;
    s->steps = ifb_xgrow(s->steps, &s->steps_cap, s->nsteps, sizeof *s->steps, 1024, "the steps");
    s->steps[s->nsteps++] = *cur;
    if (s->fail_pending)
        mark_down(s);
    /* Tokens. Requests are visited in batch order, so results do not depend on addresses. */
    for (size_t e = 0; e < s->nents; e++) {
        const batch_ent *b = &s->ents[e];
        ifb_serving_req *r = &s->req[b->req];
        if (r->state == RS_DONE || r->state == RS_WAIT)
            continue;
        instq *q = &s->inst[r->instance];
        if (b->decode) {
            double acc = r->mtp_acc + (s->cfg.mtp ? s->cfg.accept_length : 1.0);
            int64_t n = (int64_t)floor(acc + 1e-9);
            r->mtp_acc = acc - (double)n;
            if (n < 1)
                n = 1;
            if (n > r->output - r->generated)
                n = r->output - r->generated;
            emit_tokens(s, r, n);
            r->kv += n;
            q->kv_used += n;
        } else {
            r->prefilled += b->pf;
            if (r->prefilled >= r->prefill_target) {
                r->state = RS_DECODE;
                if (r->generated < r->output)
                    emit_tokens(s, r, 1); /* the prefill's (or re-prefill's) own token */
            }
        }
        if (r->generated >= r->output)
            finish_request(s, b->req);
    }
    if (s->cfg.arrival == IFB_ARRIVAL_CLOSED) {
        while (!s->done && s->in_system < s->cfg.concurrency && s->ninst_down < s->par.dp)
            new_request(s);
    }
    sys_account(s);
    /* The window opens at the end of the step in which the warm-up-th request ended. */
    if (!s->window_open && ended(s) >= (uint64_t)s->cfg.warmup)
        open_window(s);
    if (s->ninst_down == s->par.dp)
        finish_run(s); /* every instance is down */
    else if (s->window_open && ended(s) >= s->target)
        finish_run(s);
    else if (s->cfg.arrival != IFB_ARRIVAL_CLOSED && s->nreq >= s->arrivals_max &&
             ended(s) >= s->nreq)
        finish_run(s);
    if (s->done)
        return;
    ifb_sim_after(s->sim, s->cfg.step_overhead, step_ev, s, 0);
}

/* ---- Lifecycle ---------------------------------------------------------------------------- */

static void load_tables(ifb_serving *s)
{
    if (!s->cfg.kernel_tables)
        return;
    char lname[32], name[128];
    size_t i = 0;
    for (const char *p = s->cfg.gpu->name; *p && i + 1 < sizeof lname; p++)
        lname[i++] = (char)((*p >= 'A' && *p <= 'Z') ? *p - 'A' + 'a' : *p);
    lname[i] = 0;
    const ifb_model *m = s->m;
    for (int k = 0; k < KT_N; k++) {
        switch (k) {
        case KT_GEMM:
            snprintf(name, sizeof name, "gemm_%s_data.csv", lname);
            break;
        case KT_GGD:
            snprintf(name, sizeof name, "grouped_gemm_decode_%s_data.csv", lname);
            break;
        case KT_GGP:
            snprintf(name, sizeof name, "grouped_gemm_prefill_%s_data.csv", lname);
            break;
        default:
            if (m->attn != IFB_ATTN_MLA)
                continue;
            snprintf(name, sizeof name, "mla_decode_%s_%lld-%lld-%lld.csv", lname,
                     (long long)(m->heads / s->par.tp), (long long)m->kv_lora_rank,
                     (long long)m->qk_rope_dim);
        }
        const char *text = ifb_embedded_file(name);
        if (!text)
            continue;
        ifb_err e;
        if (ifb_kernel_table_load_string(&s->kt[k], text, name, s->cfg.gpu, &e) == 0)
            s->have_kt[k] = 1;
    }
}

static int64_t len_max(const ifb_serving_cfg *c, const ifb_len_dist *d, int output)
{
    if (d->kind != IFB_LEN_TRACE)
        return d->hi;
    int64_t mx = 1;
    for (size_t i = 0; i < c->trace.n; i++) {
        int64_t v = output ? c->trace.rows[i].output : c->trace.rows[i].input;
        if (v > mx)
            mx = v;
    }
    return mx;
}

int ifb_serving_create(ifb_serving **out, const ifb_serving_cfg *cfg, int nservers,
                       int gpus_per_server, ifb_err *e)
{
    *out = NULL;
    ifb_serving *s = xcalloc(1, sizeof *s);
    s->cfg = *cfg;
    s->m = &s->cfg.model;
    /* own copy of the trace */
    if (cfg->trace.n) {
        s->cfg.trace.rows = xcalloc(cfg->trace.n, sizeof *cfg->trace.rows);
        memcpy(s->cfg.trace.rows, cfg->trace.rows, cfg->trace.n * sizeof *cfg->trace.rows);
    }
    char pkey[96];
    snprintf(pkey, sizeof pkey, "%s%sparallel", cfg->key, cfg->key[0] ? "." : "");
    ifb_par_cfg pc = cfg->par;
    pc.key = pkey;
    if (!cfg->gpu) {
        ifb_err_msg(e, "serving: no GPU given");
        goto fail;
    }
    if (cfg->concurrency < 1 && cfg->arrival == IFB_ARRIVAL_CLOSED) {
        char k[96];
        snprintf(k, sizeof k, "%s%sconcurrency", cfg->key, cfg->key[0] ? "." : "");
        ifb_err_set(e, NULL, 0, k, "at least 1 request", "%lld", (long long)cfg->concurrency);
        goto fail;
    }
    if (ifb_parallel_build(&s->par, s->m, &pc, nservers, gpus_per_server, e))
        goto fail;
    int64_t longest = len_max(cfg, &cfg->input, 0) + len_max(cfg, &cfg->output, 1) + 2;
    if (ifb_parallel_memory(&s->par, s->m, cfg->gpu, cfg->weight_dtype, cfg->kv_dtype, cfg->mtp,
                            cfg->reserve_bytes, longest, e))
        goto fail;
    if ((cfg->input.kind == IFB_LEN_TRACE || cfg->output.kind == IFB_LEN_TRACE ||
         cfg->arrival == IFB_ARRIVAL_TRACE) &&
        cfg->trace.n == 0) {
        ifb_err_msg(e, "serving: a trace is needed (arrival or lengths say trace) but none loaded");
        goto fail;
    }
    s->R = s->par.nranks;
    s->C = cfg->overlap ? 2 : 1;
    s->gsz = s->par.layout == IFB_LAYOUT_DP_EP ? s->par.ep : s->par.tp;
    s->ngroups = s->R / s->gsz;
    s->memo = xcalloc(MEMO_SIZE, sizeof *s->memo);
    load_tables(s);
    const ifb_model *m = s->m;
    ifb_flops f;
    int l0 = 0;
    ifb_model_token_flops(m, l0, IFB_PHASE_DECODE, 1, &f);
    s->a_dec = f.attn_core;
    ifb_model_token_flops(m, l0, IFB_PHASE_PREFILL, 1, &f);
    s->a_pre = f.attn_core;
    s->kv_layer_bytes = (double)ifb_model_kv_bytes_per_token_layer(m, cfg->kv_dtype);
    if (s->par.layout == IFB_LAYOUT_TP && m->attn == IFB_ATTN_GQA) {
        int64_t kvh = m->kv_heads > 0 ? m->kv_heads : m->heads;
        s->kv_layer_bytes *= (double)((kvh + s->par.tp - 1) / s->par.tp) / (double)kvh;
    }
    s->dbytes = ifb_model_dispatch_bytes(m, cfg->dispatch_dtype);
    s->cbytes = ifb_model_combine_bytes(m, cfg->combine_dtype);
    build_program(s);
    if (m->experts) {
        if (ifb_router_init(&s->router, m, s->nmoe, cfg->routing, cfg->zipf_s, 1, e))
            goto fail;
    }
    size_t n3 = (size_t)s->K * s->R * s->C;
    s->dur = xcalloc(n3, sizeof *s->dur);
    s->slot0 = xcalloc(n3, sizeof *s->slot0);
    s->slotf = xcalloc(n3, sizeof *s->slotf);
    for (int k = 0; k < s->K; k++)
        for (int r = 0; r < s->R; r++)
            for (int c = 0; c < s->C; c++) {
                size_t i = idx3(s, k, r, c);
                s->slot0[i] = (slot){s, k, r, c, 0};
                s->slotf[i] = (slot){s, k, r, c, 1};
            }
    s->recv0 = xcalloc(n3, sizeof(int));
    s->recvf = xcalloc(n3, sizeof(int));
    s->ready = xcalloc(n3, sizeof(int));
    s->sent = xcalloc(n3, sizeof(int));
    s->donek = xcalloc(n3, sizeof(int));
    s->readycnt = xcalloc((size_t)s->K * s->ngroups * s->C, sizeof(int));
    s->replay = xcalloc((size_t)s->K, 1);
    s->barrier = xcalloc((size_t)s->K * s->ngroups * s->C, sizeof(ifb_time));
    s->delta = xcalloc((size_t)4 * s->R * s->C, sizeof(ifb_time));
    s->have_delta = xcalloc(4, 1);
    s->pos = xcalloc((size_t)s->R * s->C, sizeof(int));
    s->gpu_busy = xcalloc((size_t)s->R, sizeof(int));
    s->gpu_q = xcalloc((size_t)s->R * 2, sizeof(int));
    for (int i = 0; i < s->R * 2; i++)
        s->gpu_q[i] = -1;
    s->busy_acc = xcalloc((size_t)s->R, sizeof(ifb_time));
    s->ts = xcalloc((size_t)s->R * s->C, sizeof *s->ts);
    s->ts_mtp = xcalloc((size_t)s->R * s->C, sizeof *s->ts_mtp);
    size_t nplans = (size_t)s->ngroups * (size_t)(s->nmoe ? s->nmoe : 1) * 2 * s->C;
    s->plans = xcalloc(nplans, sizeof *s->plans);
    s->recv_copies = xcalloc((size_t)(s->nmoe ? s->nmoe : 1) * s->R * s->C, sizeof(int));
    s->inst = xcalloc((size_t)s->par.dp, sizeof *s->inst);
    for (int c = 0; c < IFB_TC_COUNT; c++)
        ifb_summary_init(&s->msg_time[c]);
    ifb_samples_init(&s->itl);
    *out = s;
    return 0;
fail:
    ifb_serving_destroy(s);
    return -1;
}

int ifb_serving_start(ifb_serving *s, ifb_sim *sim, ifb_net *net, ifb_err *e)
{
    if (net->nendpoints && net->nendpoints < s->R)
        return ifb_err_set(e, NULL, 0, "network endpoints", "at least one per GPU",
                           "%d endpoints for %d GPUs", net->nendpoints, s->R);
    s->sim = sim;
    s->net = net;
    s->nep = 0;
    for (int r = 0; r < s->R; r++)
        if (s->par.endpoint[r] + 1 > s->nep)
            s->nep = s->par.endpoint[r] + 1;
    free(s->rank_of_ep);
    s->rank_of_ep = xcalloc((size_t)s->nep, sizeof *s->rank_of_ep);
    for (int i = 0; i < s->nep; i++)
        s->rank_of_ep[i] = -1;
    for (int r = 0; r < s->R; r++)
        s->rank_of_ep[s->par.endpoint[r]] = r;
    free(s->fail_score);
    free(s->rank_down);
    free(s->inst_down);
    s->fail_score = xcalloc((size_t)s->R, sizeof *s->fail_score);
    s->rank_down = xcalloc((size_t)s->R, 1);
    s->inst_down = xcalloc((size_t)s->par.dp, 1);
    s->seed = s->cfg.seed ? s->cfg.seed : sim->seed;
    ifb_rng_seed(&s->rng_len, s->seed, 0x6c656eull);
    ifb_rng_seed(&s->rng_arr, s->seed, 0x617272ull);
    if (s->m->experts) {
        ifb_err tmp;
        ifb_router_free(&s->router);
        if (ifb_router_init(&s->router, s->m, s->nmoe, s->cfg.routing, s->cfg.zipf_s, s->seed,
                            &tmp))
            return ifb_err_msg(e, "%s", tmp.msg);
    }
    ifb_serving_cfg *c = &s->cfg;
    if (c->arrival == IFB_ARRIVAL_CLOSED) {
        if (c->warmup < 0)
            c->warmup = c->concurrency;
        if (!c->requests)
            c->requests = 2 * c->concurrency;
    } else {
        if (c->warmup < 0)
            c->warmup = 0;
        if (!c->requests)
            c->requests = c->arrival == IFB_ARRIVAL_TRACE ? (int64_t)c->trace.n : 200;
        s->arrivals_max = (size_t)(c->warmup + c->requests);
        if (c->arrival == IFB_ARRIVAL_TRACE && s->arrivals_max > c->trace.n)
            s->arrivals_max = c->trace.n;
    }
    s->target = (uint64_t)(c->warmup + c->requests);
    s->sys_last = sim->now;
    if (c->warmup == 0)
        open_window(s);
    /* No unit of outstanding work (ifb_sim_work_begin) is held for the engine itself: the
     * watchdog reads outstanding work without progress as a hang, and an open-loop system idle
     * between arrivals is not one. What keeps the run alive is always a scheduled event (the
     * next arrival, step or compute) or a message in flight, which holds its own work unit;
     * an engine left with neither is a bug that ifb_serving_check_end reports. */
    if (c->arrival == IFB_ARRIVAL_CLOSED) {
        for (int64_t i = 0; i < c->concurrency; i++)
            new_request(s);
        sys_account(s);
        ifb_sim_at(sim, sim->now, step_ev, s, 0);
    } else {
        s->idle = 1;
        schedule_arrival(s);
    }
    return 0;
}

static double ps_to_s(ifb_time t)
{
    return (double)t / (double)IFB_SEC;
}

const ifb_serving_result *ifb_serving_finish(ifb_serving *s)
{
    ifb_serving_result *r = &s->res;
    memset(r, 0, sizeof *r);
    r->done = s->done;
    r->finished = s->finished;
    r->tokens_emitted = s->tokens_emitted;
    r->window_start = s->t_window;
    r->window_end = s->done ? s->window_end : (s->sim ? s->sim->now : 0);
    r->window_tokens =
        s->done ? s->window_tokens : s->tokens_emitted - (s->window_open ? s->tokens_at_window : 0);
    double win = ps_to_s(r->window_end - r->window_start);
    ifb_samples ttft, tpot, e2e;
    ifb_samples_init(&ttft);
    ifb_samples_init(&tpot);
    ifb_samples_init(&e2e);
    ifb_samples_clear(&s->itl);
    for (size_t i = 0; i < s->nreq; i++) {
        const ifb_serving_req *q = &s->req[i];
        if (!q->measured)
            continue;
        r->measured++;
        ifb_samples_add(&ttft, ps_to_s(q->first - q->arrival));
        ifb_samples_add(&e2e, ps_to_s(q->finish - q->arrival));
        if (q->output > 1) {
            double tp = ps_to_s(q->finish - q->first) / (double)(q->output - 1);
            ifb_samples_add(&tpot, tp);
        }
    }
    ifb_samples_pctl(&ttft, &r->ttft);
    ifb_samples_pctl(&tpot, &r->tpot);
    ifb_samples_pctl(&e2e, &r->e2e);
    ifb_samples_destroy(&ttft);
    ifb_samples_destroy(&tpot);
    ifb_samples_destroy(&e2e);
    for (size_t i = 0; i < s->nitl; i++)
        if (s->req[s->itl_req[i]].measured)
            ifb_samples_add(&s->itl, ps_to_s(s->itl_gap[i]));
    ifb_samples_pctl(&s->itl, &r->itl);
    r->window = s->window_open && r->window_end > r->window_start;
    if (!s->window_open) {
        snprintf(r->unmeasured, sizeof r->unmeasured,
                 "the measurement window never opened: %llu of the %lld warm-up requests ended "
                 "before the run %s",
                 (unsigned long long)ended(s), (long long)s->cfg.warmup,
                 s->done ? "ended (every instance down)" : "was stopped");
        r->window_tokens = 0;
    } else if (!r->window) {
        snprintf(r->unmeasured, sizeof r->unmeasured,
                 "the measurement window has no length (it opened at t=%.6f s, when the run "
                 "stopped)",
                 ifb_time_to_s(r->window_start));
    }
    r->tgr = r->window ? (double)r->window_tokens / win : NAN;
    r->req_throughput = r->window ? (double)r->measured / win : NAN;
    r->mean_in_system = r->window ? s->sys_area / (double)(r->window_end - r->window_start) : NAN;
    r->min_in_system = s->window_open ? s->min_sys : 0;
    r->max_in_system = s->window_open ? s->max_sys : 0;
    r->steps = s->nsteps;
    r->preemptions = s->preemptions;
    double st = 0, co = 0, cm = 0, ex = 0, busy = 0;
    for (size_t i = 0; i < s->nsteps; i++) {
        const ifb_serving_step *p = &s->steps[i];
        double d = ps_to_s(p->end - p->start);
        st += d;
        co += ps_to_s(p->compute_only);
        cm += ps_to_s(p->comm);
        ex += d - ps_to_s(p->compute_only);
        busy += p->gpu_busy * d;
        for (int c = 0; c < IFB_TC_COUNT; c++)
            r->bytes[c] += p->bytes[c];
        r->nic_bytes += p->nic_bytes;
        r->nvlink_bytes += p->nvlink_bytes;
        r->msgs += p->msgs;
    }
    double n = s->nsteps ? (double)s->nsteps : NAN;
    r->step_mean = st / n;
    r->compute_mean = co / n;
    r->comm_mean = cm / n;
    r->exposed_mean = ex / n;
    r->gpu_busy = st > 0 ? busy / st : NAN;
    r->network_share = st > 0 ? ex / st : NAN;
    r->kv_tokens = s->par.kv_tokens;
    r->weight_bytes = s->par.weight_bytes;
    r->failed = s->nfailed;
    r->instances_down = s->ninst_down;
    return r;
}

const char *ifb_serving_fault_timing(const ifb_serving_result *r, ifb_time start, ifb_time end,
                                     int *measured)
{
    *measured = 0;
    if (!r->window)
        return "no measurement window: nothing measured";
    if (end <= r->window_start)
        return "in the warm-up, over before the measurement window opened: not in the headline "
               "figures";
    if (start < r->window_start)
        return "began in the warm-up and lasted into the measurement window: the headline figures "
               "measure the state it left, not its onset";
    if (start < r->window_end) {
        *measured = 1;
        return "inside the measurement window";
    }
    return "after the measurement window closed: not in the headline figures";
}

int ifb_serving_check_end(const ifb_serving *s, ifb_stop stop, ifb_err *e)
{
    if (stop != IFB_STOP_EMPTY || s->done || !s->sim)
        return 0;
    char why[160];
    if (s->running_step && s->inflight)
        snprintf(why, sizeof why,
                 "step %llu waits for %d messages the network neither completed nor holds as "
                 "outstanding",
                 (unsigned long long)s->cur.index, s->inflight);
    else
        snprintf(why, sizeof why, "%s and no arrival is due",
                 s->running_step ? "a step is running with nothing left to do" : "no step runs");
    return ifb_err_msg(e,
                       "serving: the simulation ran out of events at t=%.6f s with %llu of %llu "
                       "requests unfinished: %s (a model bug: nothing left could finish them)",
                       ifb_time_to_s(s->sim->now), (unsigned long long)(s->nreq - ended(s)),
                       (unsigned long long)s->nreq, why);
}

const ifb_serving_req *ifb_serving_requests(const ifb_serving *s, size_t *n)
{
    *n = s->nreq;
    return s->req;
}

const ifb_serving_step *ifb_serving_steps(const ifb_serving *s, size_t *n)
{
    *n = s->nsteps;
    return s->steps;
}

const ifb_parallel *ifb_serving_layout(const ifb_serving *s)
{
    return &s->par;
}

static double us_or_nan(ifb_time t, ifb_time base)
{
    return t == IFB_TIME_NEVER ? NAN : ifb_time_to_us(t - base);
}

int ifb_serving_write_requests_csv(const ifb_serving *s, FILE *f, ifb_err *e)
{
    ifb_csv c;
    ifb_csv_init(&c, f);
    static const char *const cols[] = {
        "id",        "instance", "input",   "output", "generated",   "arrival_us", "first_us",
        "finish_us", "ttft_us",  "tpot_us", "e2e_us", "preemptions", "measured",   "failed"};
    ifb_csv_header(&c, cols, sizeof cols / sizeof *cols);
    for (size_t i = 0; i < s->nreq; i++) {
        const ifb_serving_req *q = &s->req[i];
        ifb_csv_int(&c, q->id);
        ifb_csv_int(&c, q->instance);
        ifb_csv_int(&c, q->input);
        ifb_csv_int(&c, q->output);
        ifb_csv_int(&c, q->generated);
        ifb_csv_double(&c, ifb_time_to_us(q->arrival));
        ifb_csv_double(&c, us_or_nan(q->first, 0));
        ifb_csv_double(&c, us_or_nan(q->finish, 0));
        ifb_csv_double(&c,
                       q->first == IFB_TIME_NEVER ? NAN : ifb_time_to_us(q->first - q->arrival));
        ifb_csv_double(&c, q->finish == IFB_TIME_NEVER || q->output < 2 || q->failed
                               ? NAN
                               : ifb_time_to_us(q->finish - q->first) / (double)(q->output - 1));
        ifb_csv_double(&c, q->finish == IFB_TIME_NEVER || q->failed
                               ? NAN
                               : ifb_time_to_us(q->finish - q->arrival));
        ifb_csv_int(&c, q->preemptions);
        ifb_csv_int(&c, q->measured);
        ifb_csv_int(&c, q->failed);
        ifb_csv_end_row(&c);
    }
    return ifb_csv_finish(&c, e);
}

int ifb_serving_write_steps_csv(const ifb_serving *s, FILE *f, ifb_err *e)
{
    ifb_csv c;
    ifb_csv_init(&c, f);
    static const char *const cols[] = {
        "step",         "start_us", "duration_us",    "compute_only_us", "comm_us",
        "exposed_us",   "gpu_busy", "prefill_tokens", "decode_tokens",   "decode_seqs",
        "running",      "a2a",      "a2a_bytes",      "coll_bytes",      "nic_bytes",
        "nvlink_bytes", "messages", "a2a_simulated",  "a2a_replayed"};
    ifb_csv_header(&c, cols, sizeof cols / sizeof *cols);
    for (size_t i = 0; i < s->nsteps; i++) {
        const ifb_serving_step *p = &s->steps[i];
        ifb_time d = p->end - p->start;
        ifb_csv_uint(&c, p->index);
        ifb_csv_double(&c, ifb_time_to_us(p->start));
        ifb_csv_double(&c, ifb_time_to_us(d));
        ifb_csv_double(&c, ifb_time_to_us(p->compute_only));
        ifb_csv_double(&c, ifb_time_to_us(p->comm));
        ifb_csv_double(&c, ifb_time_to_us(d) - ifb_time_to_us(p->compute_only));
        ifb_csv_double(&c, p->gpu_busy);
        ifb_csv_int(&c, p->prefill_tokens);
        ifb_csv_int(&c, p->decode_tokens);
        ifb_csv_int(&c, p->decode_seqs);
        ifb_csv_int(&c, p->running);
        ifb_csv_str(&c, p->normal_a2a ? "normal" : "low-latency");
        ifb_csv_uint(&c, p->bytes[IFB_TC_A2A]);
        ifb_csv_uint(&c, p->bytes[IFB_TC_COLL]);
        ifb_csv_uint(&c, p->nic_bytes);
        ifb_csv_uint(&c, p->nvlink_bytes);
        ifb_csv_uint(&c, p->msgs);
        ifb_csv_int(&c, p->simulated_a2a);
        ifb_csv_int(&c, p->replayed_a2a);
        ifb_csv_end_row(&c);
    }
    return ifb_csv_finish(&c, e);
}

int ifb_serving_write_summary(ifb_serving *s, ifb_json *j)
{
    const ifb_serving_result *r = &s->res;
    const ifb_serving_cfg *c = &s->cfg;
    ifb_json_obj_begin(j);
    ifb_json_kstr(j, "model", c->model.name);
    ifb_json_kstr(j, "gpu", c->gpu->name);
    ifb_json_kstr(j, "layout", ifb_layout_name(s->par.layout));
    ifb_json_kint(j, "gpus", s->par.nranks);
    ifb_json_kint(j, "tp", s->par.tp);
    ifb_json_kint(j, "dp", s->par.dp);
    ifb_json_kint(j, "ep", s->par.ep);
    ifb_json_kbool(j, "overlap", c->overlap);
    ifb_json_kbool(j, "mtp", c->mtp);
    if (c->sample_every > 1) {
        char fid[32];
        snprintf(fid, sizeof fid, "sample:%d", c->sample_every);
        ifb_json_kstr(j, "fidelity", fid);
    } else {
        ifb_json_kstr(j, "fidelity", "full");
    }
    if (c->mtp)
        ifb_json_kdouble(j, "accept_length", c->accept_length);
    static const char *const arr[] = {"closed", "poisson", "trace"};
    ifb_json_kstr(j, "arrival", arr[c->arrival]);
    if (c->arrival == IFB_ARRIVAL_CLOSED)
        ifb_json_kint(j, "concurrency", c->concurrency);
    else if (c->arrival == IFB_ARRIVAL_POISSON)
        ifb_json_kdouble(j, "rate", c->rate);
    ifb_json_kdouble(j, "weight_gb_per_gpu", r->weight_bytes / 1e9);
    ifb_json_kint(j, "kv_tokens_per_instance", r->kv_tokens);
    ifb_json_kbool(j, "complete", r->done);
    ifb_json_kuint(j, "requests_finished", r->finished);
    ifb_json_kuint(j, "requests_measured", r->measured);
    ifb_json_kuint(j, "requests_failed", r->failed);
    ifb_json_kint(j, "instances_down", r->instances_down);
    /* without a window its figures are null, and "unmeasured" says why */
    if (r->unmeasured[0])
        ifb_json_kstr(j, "unmeasured", r->unmeasured);
    ifb_json_kdouble(j, "window_start_s", r->window ? ps_to_s(r->window_start) : NAN);
    ifb_json_kdouble(j, "window_end_s", r->window ? ps_to_s(r->window_end) : NAN);
    if (r->window)
        ifb_json_kuint(j, "window_output_tokens", r->window_tokens);
    else
        ifb_json_knull(j, "window_output_tokens");
    ifb_json_kdouble(j, "tgr_tokens_per_s", r->tgr);
    ifb_json_kdouble(j, "requests_per_s", r->req_throughput);
    ifb_json_kdouble(j, "mean_in_system", r->mean_in_system);
    if (r->window) {
        ifb_json_kint(j, "min_in_system", r->min_in_system);
        ifb_json_kint(j, "max_in_system", r->max_in_system);
    } else {
        ifb_json_knull(j, "min_in_system");
        ifb_json_knull(j, "max_in_system");
    }
    ifb_json_kpctl(j, "ttft_ms_over_requests", &r->ttft, 1e3);
    ifb_json_kpctl(j, "tpot_ms_over_requests", &r->tpot, 1e3);
    ifb_json_kpctl(j, "e2e_s_over_requests", &r->e2e, 1);
    ifb_json_kpctl(j, "itl_ms_over_tokens", &r->itl, 1e3);
    ifb_json_kuint(j, "steps", r->steps);
    ifb_json_kdouble(j, "step_ms_mean", r->step_mean * 1e3);
    ifb_json_kdouble(j, "compute_only_ms_mean", r->compute_mean * 1e3);
    ifb_json_kdouble(j, "comm_ms_mean", r->comm_mean * 1e3);
    ifb_json_kdouble(j, "exposed_comm_ms_mean", r->exposed_mean * 1e3);
    ifb_json_kdouble(j, "network_share", r->network_share);
    ifb_json_kdouble(j, "gpu_busy", r->gpu_busy);
    ifb_json_kuint(j, "preemptions", r->preemptions);
    ifb_json_kobj_begin(j, "bytes");
    ifb_json_kuint(j, "a2a", r->bytes[IFB_TC_A2A]);
    ifb_json_kuint(j, "kv", r->bytes[IFB_TC_KV]);
    ifb_json_kuint(j, "pp", r->bytes[IFB_TC_PP]);
    ifb_json_kuint(j, "coll", r->bytes[IFB_TC_COLL]);
    ifb_json_kuint(j, "nic", r->nic_bytes);
    ifb_json_kuint(j, "nvlink", r->nvlink_bytes);
    ifb_json_obj_end(j);
    ifb_json_kuint(j, "messages", r->msgs);
    /* message completion time (post to last byte placed) per traffic class, microseconds */
    static const char *const cls[IFB_TC_COUNT] = {"a2a", "kv", "pp", "coll"};
    ifb_json_kobj_begin(j, "message_us");
    for (int k = 0; k < IFB_TC_COUNT; k++) {
        const ifb_summary *m = &s->msg_time[k];
        if (!m->n)
            continue;
        ifb_json_kobj_begin(j, cls[k]);
        ifb_json_kuint(j, "n", m->n);
        ifb_json_kdouble(j, "mean", ifb_summary_mean(m) / 1e6);
        ifb_json_kdouble(j, "max", ifb_summary_max(m) / 1e6);
        ifb_json_obj_end(j);
    }
    ifb_json_obj_end(j);
    return ifb_json_obj_end(j);
}

void ifb_serving_destroy(ifb_serving *s)
{
    if (!s)
        return;
    for (int k = 0; k < KT_N; k++)
        if (s->have_kt[k])
            ifb_kernel_table_free(&s->kt[k]);
    free(s->memo);
    ifb_parallel_free(&s->par);
    ifb_router_free(&s->router);
    free(s->req);
    if (s->inst)
        for (int i = 0; i < s->par.dp; i++) {
            free(s->inst[i].wait);
            free(s->inst[i].run);
        }
    free(s->inst);
    free(s->st);
    free(s->dur);
    free(s->slot0);
    free(s->slotf);
    free(s->recv0);
    free(s->recvf);
    free(s->ready);
    free(s->sent);
    free(s->donek);
    free(s->readycnt);
    free(s->replay);
    free(s->barrier);
    free(s->delta);
    free(s->have_delta);
    free(s->pos);
    free(s->gpu_busy);
    free(s->gpu_q);
    free(s->busy_acc);
    if (s->plans) {
        size_t nplans = (size_t)s->ngroups * (size_t)(s->nmoe ? s->nmoe : 1) * 2 * s->C;
        for (size_t i = 0; i < nplans; i++)
            ifb_xplan_free(&s->plans[i]);
    }
    free(s->plans);
    free(s->ts);
    free(s->ts_mtp);
    free(s->experts);
    free(s->recv_copies);
    free(s->ents);
    free(s->steps);
    ifb_samples_destroy(&s->itl);
    free(s->itl_req);
    free(s->itl_gap);
    ifb_trace_free(&s->cfg.trace);
    free(s->rank_of_ep);
    free(s->fail_score);
    free(s->rank_down);
    free(s->inst_down);
    free(s);
}
