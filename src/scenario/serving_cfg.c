/* The serving workload's keys (see serving_cfg.h); IFB_SERVING_KEYS_DOC is pasted into
 * docs/scenario.md.
 * Leaves out: checks that need the topology (ifb_serving_create does them). */
#include "scenario/serving_cfg.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/embedded.h"

const char IFB_SERVING_KEYS_DOC[] =
    "workload:                     # the serving workload (src/workload/serving/)\n"
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
    "                              # so closed-loop requests do not run in lock-step; default\n"
    "                              # trace when arrival is trace\n"
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
    const char *defl = o->arrival == IFB_ARRIVAL_TRACE ? "trace" : "uniform:512-1536";
    if (ifb_cfg_get_string(c, K("input_len"), defl, &s, e) || parse_len(c, p, s, &o->input, e))
        goto fail;
    defl = o->arrival == IFB_ARRIVAL_TRACE ? "trace" : "uniform:128-384";
    if (ifb_cfg_get_string(c, K("output_len"), defl, &s, e) || parse_len(c, p, s, &o->output, e))
        goto fail;
    int need_trace = o->arrival == IFB_ARRIVAL_TRACE || o->input.kind == IFB_LEN_TRACE ||
                     o->output.kind == IFB_LEN_TRACE;
    if (need_trace && !trace) {
        ifb_cfg_errf(c, trace_key, e, "a trace file (arrival or a length says trace)", "no trace");
        goto fail;
    }
    if (trace) {
        if (ifb_trace_load(&o->trace, trace, tf, 0, e)) {
            char msg[sizeof e->msg];
            snprintf(msg, sizeof msg, "%s", e->msg);
            ifb_cfg_errf(c, trace_key, e, "a readable request trace", "%s", msg);
            goto fail;
        }
    }
    if (ifb_cfg_get_int(c, K("max_batch"), 256, 1, 1 << 24, &o->max_batch, e) ||
        ifb_cfg_get_int(c, K("token_budget"), 8192, 1, 1 << 30, &o->token_budget, e) ||
        ifb_cfg_get_int(c, K("chunk"), 4096, 1, 1 << 30, &o->chunk, e) ||
        ifb_cfg_get_int(c, K("requests"), 0, 1, 1000000000, &o->requests, e) ||
        ifb_cfg_get_int(c, K("warmup"), -1, 0, 1000000000, &o->warmup, e) ||
        ifb_cfg_get_time(c, K("duration"), 0, &o->duration, e))
        goto fail;
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
