/* Results of the serving engine: per-request TTFT, TPOT and E2E, ITL over tokens, TGR and
 * request throughput over the measurement window, time-weighted requests in the system, step
 * means (compute-only, communication, exposed communication, GPU busy), bytes per traffic class
 * and message completion times; with a deployment, per instance group (steps, busy fractions,
 * the tokens it delivered: a decode group's TGR) and, disaggregated, the KV transfer (time per
 * request, bytes, waits for decode memory and admission) and the occupancy of each stage
 * (prefill, transfer, decode) for Little's law per stage; written as requests.csv, steps.csv and
 * a summary JSON object.
 * Leaves out: percentiles per instance, and any figure outside the measurement window except
 * the totals of bytes, steps and requests. */
#include <math.h>

#include "workload/serving/internal.h"

static double ps_to_s(ifb_time t)
{
    return (double)t / (double)IFB_SEC;
}

/* Per group: steps ending in the window, the part of each step inside it, tokens. */
static void finish_groups(ifb_serving *s, ifb_serving_result *r, double win)
{
    int ng = s->cfg.deploy.ngroups;
    free(s->groups_res);
    s->groups_res = ifb_xcalloc((size_t)ng, sizeof *s->groups_res, "the per-group results");
    double *busy = ifb_xcalloc((size_t)ng, sizeof *busy, "the groups' busy times");
    double *inside = ifb_xcalloc((size_t)ng, sizeof *inside, "the groups' in-window times");
    for (int k = 0; k < s->neng; k++) {
        const ifb_sv_eng *en = &s->eng[k];
        ifb_serving_group_result *g = &s->groups_res[en->group];
        const ifb_group_cfg *gc = &s->cfg.deploy.groups[en->group];
        g->name = gc->name;
        g->role = gc->role;
        g->gpu = gc->gpu->name;
        g->engines++;
        g->instances += en->par.dp;
        g->gpus += en->R;
        g->kv_tokens = en->par.kv_tokens;
        g->weight_bytes = en->par.weight_bytes;
        g->tokens += en->win_tokens;
        g->prefill_tokens += en->win_prefill_tok;
    }
    for (size_t i = 0; i < s->nsteps; i++) {
        const ifb_serving_step *p = &s->steps[i];
        const ifb_sv_eng *en = &s->eng[p->engine];
        ifb_time a = p->start > r->window_start ? p->start : r->window_start;
        ifb_time b = p->end < r->window_end ? p->end : r->window_end;
        if (p->end > r->window_start && p->end <= r->window_end)
            s->groups_res[en->group].steps++;
        if (b <= a)
            continue;
        double d = ps_to_s(b - a);
        inside[en->group] += d;
        busy[en->group] += p->gpu_busy * d * en->R;
    }
    for (int i = 0; i < ng; i++) {
        ifb_serving_group_result *g = &s->groups_res[i];
        g->step_busy = win > 0 && g->engines ? inside[i] / (win * g->engines) : NAN;
        g->gpu_busy = win > 0 && g->gpus ? busy[i] / (win * g->gpus) : NAN;
        g->tgr = win > 0 ? (double)g->tokens / win : NAN;
        g->prefill_tps = win > 0 ? (double)g->prefill_tokens / win : NAN;
    }
    free(busy);
    free(inside);
    r->ngroups = ng;
    r->groups = s->groups_res;
}

/* KV transfer figures over the measured requests, and the time-weighted stage occupancy. */
static void finish_kv(ifb_serving *s, ifb_serving_result *r, double win)
{
    ifb_samples x, w, a, b;
    ifb_samples_init(&x);
    ifb_samples_init(&w);
    ifb_samples_init(&a);
    ifb_samples_init(&b);
    for (size_t i = 0; i < s->nreq; i++) {
        const ifb_serving_req *q = &s->req[i];
        r->kv_requests += q->kv_start != IFB_TIME_NEVER;
        if (!q->measured || q->kv_done == IFB_TIME_NEVER)
            continue;
        ifb_samples_add(&x, ps_to_s(q->kv_done - q->kv_start));
        ifb_samples_add(&w, ps_to_s(q->kv_start - q->prefill_end));
        if (q->decode_start != IFB_TIME_NEVER)
            ifb_samples_add(&a, ps_to_s(q->decode_start - q->kv_done));
        ifb_samples_add(&b, (double)q->kv_bytes);
    }
    ifb_samples_pctl(&x, &r->kv_xfer);
    ifb_samples_pctl(&w, &r->kv_wait);
    ifb_samples_pctl(&a, &r->admit_wait);
    ifb_samples_pctl(&b, &r->kv_req_bytes);
    ifb_samples_destroy(&x);
    ifb_samples_destroy(&w);
    ifb_samples_destroy(&a);
    ifb_samples_destroy(&b);
    r->disaggregated = 1;
    for (int k = 0; k < SG_N; k++)
        r->mean_in_stage[k] = win > 0 ? s->stage_area[k] / (win * (double)IFB_SEC) : NAN;
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
    r->kv_tokens = s->eng[0].par.kv_tokens;
    r->weight_bytes = s->eng[0].par.weight_bytes;
    r->failed = s->nfailed;
    r->instances_down = s->ninst_down;
    uint64_t rsum = 0, rn = 0;
    for (int k = 0; k < s->neng; k++)
        for (int q = 0; q < s->eng[k].R; q++) {
            uint64_t v = s->eng[k].a2a_recv[q];
            rsum += v;
            rn++;
            if (v > r->a2a_recv_max)
                r->a2a_recv_max = v;
        }
    r->a2a_recv_mean = rn ? rsum / rn : 0;
    r->bytes[IFB_TC_KV] += s->kv_bytes;
    r->nic_bytes += s->kv_nic_bytes;
    r->nvlink_bytes += s->kv_nvlink_bytes;
    r->msgs += s->kv_msgs;
    if (s->cfg.deploy.ngroups)
        finish_groups(s, r, win);
    if (s->disagg)
        finish_kv(s, r, win);
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
    char why[200] = "no step runs and no arrival is due";
    for (int k = 0; k < s->neng; k++) {
        const ifb_sv_eng *g = &s->eng[k];
        if (g->running_step && g->inflight) {
            snprintf(why, sizeof why,
                     "engine %d's step %llu waits for %d messages the network neither completed "
                     "nor holds as outstanding",
                     k, (unsigned long long)g->cur.index, g->inflight);
            break;
        }
        if (g->running_step)
            snprintf(why, sizeof why, "engine %d runs a step with nothing left to do", k);
    }
    if (s->kv_inflight)
        snprintf(why + strlen(why), sizeof why - strlen(why), "; %zu KV transfers unfinished",
                 s->kv_inflight);
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
    return &s->eng[0].par;
}

static double us_or_nan(ifb_time t, ifb_time base)
{
    return t == IFB_TIME_NEVER ? NAN : ifb_time_to_us(t - base);
}

int ifb_serving_write_requests_csv(const ifb_serving *s, FILE *f, ifb_err *e)
{
    ifb_csv c;
    ifb_csv_init(&c, f);
    static const char *const cols[] = {"id",
                                       "instance",
                                       "input",
                                       "output",
                                       "generated",
                                       "arrival_us",
                                       "first_us",
                                       "finish_us",
                                       "ttft_us",
                                       "tpot_us",
                                       "e2e_us",
                                       "preemptions",
                                       "measured",
                                       "failed",
                                       "group",
                                       "prefill_instance",
                                       "decode_instance",
                                       "prefill_end_us",
                                       "kv_start_us",
                                       "kv_done_us",
                                       "decode_start_us",
                                       "kv_bytes",
                                       "kv_transfer_us",
                                       "kv_wait_us",
                                       "admit_wait_us"};
    int dep = s->cfg.deploy.ngroups > 0;
    ifb_csv_header(&c, cols, dep ? sizeof cols / sizeof *cols : 14);
    for (size_t i = 0; i < s->nreq; i++) {
        const ifb_serving_req *q = &s->req[i];
        ifb_csv_int(&c, q->id);
        ifb_csv_int(&c, s->eng[q->eng].inst_base + q->instance);
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
        if (dep) {
            int d = q->kv_start != IFB_TIME_NEVER && q->kv_done != IFB_TIME_NEVER;
            ifb_csv_str(&c, s->cfg.deploy.groups[s->eng[q->eng].group].name);
            ifb_csv_int(&c, q->p_inst);
            ifb_csv_int(&c, q->d_inst);
            ifb_csv_double(&c, us_or_nan(q->prefill_end, 0));
            ifb_csv_double(&c, us_or_nan(q->kv_start, 0));
            ifb_csv_double(&c, us_or_nan(q->kv_done, 0));
            ifb_csv_double(&c, us_or_nan(q->decode_start, 0));
            ifb_csv_uint(&c, q->kv_bytes);
            ifb_csv_double(&c, d ? ifb_time_to_us(q->kv_done - q->kv_start) : NAN);
            ifb_csv_double(&c, q->kv_start != IFB_TIME_NEVER
                                   ? ifb_time_to_us(q->kv_start - q->prefill_end)
                                   : NAN);
            ifb_csv_double(&c, d && q->decode_start != IFB_TIME_NEVER
                                   ? ifb_time_to_us(q->decode_start - q->kv_done)
                                   : NAN);
        }
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
        "nvlink_bytes", "messages", "a2a_simulated",  "a2a_replayed",    "engine",
        "group",        "pp_bytes", "pp_bubble_us",   "pp_stage_max_us"};
    int dep = s->cfg.deploy.ngroups > 0, pp = 0;
    for (int k = 0; k < s->neng; k++)
        pp |= s->eng[k].P > 1;
    const char *hdr[sizeof cols / sizeof *cols];
    size_t nh = 0;
    for (size_t i = 0; i < sizeof cols / sizeof *cols; i++)
        if (i < 19 || (i < 21 && dep) || (i >= 21 && pp))
            hdr[nh++] = cols[i];
    ifb_csv_header(&c, hdr, nh);
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
        if (dep) {
            ifb_csv_int(&c, p->engine);
            ifb_csv_str(&c, s->cfg.deploy.groups[s->eng[p->engine].group].name);
        }
        if (pp) {
            ifb_time mx = 0;
            for (int q = 0; q < IFB_PP_MAX; q++)
                if (p->pp_stage[q] > mx)
                    mx = p->pp_stage[q];
            ifb_csv_uint(&c, p->bytes[IFB_TC_PP]);
            ifb_csv_double(&c, ifb_time_to_us(p->pp_bubble));
            ifb_csv_double(&c, ifb_time_to_us(mx));
        }
        ifb_csv_end_row(&c);
    }
    return ifb_csv_finish(&c, e);
}

/* The deployment's part of the summary: router, groups, and the KV transfer. */
static void write_groups(ifb_serving *s, ifb_json *j)
{
    const ifb_serving_result *r = &s->res;
    const ifb_deploy_cfg *d = &s->cfg.deploy;
    ifb_json_kobj_begin(j, "deployment");
    ifb_json_kstr(j, "router", ifb_router_name(d->router));
    ifb_json_kbool(j, "disaggregated", s->disagg);
    ifb_json_kstr(j, "first_token", d->kv.first_token_prefill ? "prefill" : "decode");
    ifb_json_kuint(j, "kv_chunk_bytes", d->kv.chunk);
    ifb_json_kint(j, "kv_connections", d->kv.connections);
    ifb_json_obj_end(j);
    ifb_json_karr_begin(j, "groups");
    for (int i = 0; i < r->ngroups; i++) {
        const ifb_serving_group_result *g = &r->groups[i];
        const ifb_sv_eng *en = NULL;
        for (int k = 0; k < s->neng && !en; k++)
            if (s->eng[k].group == i)
                en = &s->eng[k];
        ifb_json_obj_begin(j);
        ifb_json_kstr(j, "name", g->name);
        ifb_json_kstr(j, "role", ifb_role_name(g->role));
        ifb_json_kstr(j, "gpu", g->gpu);
        ifb_json_kstr(j, "layout", ifb_layout_name(en->par.layout));
        ifb_json_kint(j, "engines", g->engines);
        ifb_json_kint(j, "instances", g->instances);
        ifb_json_kint(j, "gpus", g->gpus);
        ifb_json_kint(j, "tp", en->par.tp);
        ifb_json_kint(j, "ep", en->par.ep);
        ifb_json_kdouble(j, "weight_gb_per_gpu", g->weight_bytes / 1e9);
        ifb_json_kint(j, "kv_tokens_per_instance", g->kv_tokens);
        ifb_json_kuint(j, "steps", g->steps);
        ifb_json_kdouble(j, "step_busy", g->step_busy);
        ifb_json_kdouble(j, "gpu_busy", g->gpu_busy);
        ifb_json_kuint(j, "window_output_tokens", g->tokens);
        ifb_json_kdouble(j, "tgr_tokens_per_s", g->tgr);
        ifb_json_kdouble(j, "prefill_tokens_per_s", g->prefill_tps);
        ifb_json_obj_end(j);
    }
    ifb_json_arr_end(j);
    if (!s->disagg)
        return;
    ifb_json_kobj_begin(j, "kv_transfer");
    ifb_json_kuint(j, "requests", r->kv_requests);
    ifb_json_kuint(j, "bytes", s->kv_bytes);
    ifb_json_kuint(j, "messages", s->kv_msgs);
    ifb_json_kpctl(j, "bytes_per_request", &r->kv_req_bytes, 1);
    ifb_json_kpctl(j, "transfer_ms", &r->kv_xfer, 1e3);
    ifb_json_kpctl(j, "wait_for_decode_memory_ms", &r->kv_wait, 1e3);
    ifb_json_kpctl(j, "wait_for_decode_step_ms", &r->admit_wait, 1e3);
    ifb_json_obj_end(j);
    ifb_json_kobj_begin(j, "mean_in_stage");
    ifb_json_kdouble(j, "prefill", r->mean_in_stage[SG_PREFILL]);
    ifb_json_kdouble(j, "transfer", r->mean_in_stage[SG_XFER]);
    ifb_json_kdouble(j, "decode", r->mean_in_stage[SG_DECODE]);
    ifb_json_obj_end(j);
}

int ifb_serving_write_summary(ifb_serving *s, ifb_json *j)
{
    const ifb_serving_result *r = &s->res;
    const ifb_serving_cfg *c = &s->cfg;
    ifb_json_obj_begin(j);
    ifb_json_kstr(j, "model", c->model.name);
    ifb_json_kstr(j, "gpu", c->gpu->name);
    const ifb_parallel *par = &s->eng[0].par;
    ifb_json_kstr(j, "layout", ifb_layout_name(par->layout));
    ifb_json_kint(j, "gpus", par->nranks);
    ifb_json_kint(j, "tp", par->tp);
    ifb_json_kint(j, "dp", par->dp);
    ifb_json_kint(j, "ep", par->ep);
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
    const ifb_sv_eng *ee = NULL; /* the first engine with a slot placement */
    for (int k = 0; k < s->neng && !ee; k++)
        if (s->eng[k].eplb)
            ee = &s->eng[k];
    if (ee) {
        static const char *const pl[] = {"round-robin", "contiguous", "load"};
        ifb_json_kobj_begin(j, "eplb");
        if (s->cfg.deploy.ngroups)
            ifb_json_kstr(j, "group", s->cfg.deploy.groups[ee->group].name);
        ifb_json_kint(j, "redundant_experts", ee->par.redundant);
        ifb_json_kstr(j, "placement", pl[ee->par.placement]);
        ifb_json_kint(j, "slots_per_gpu_max", ee->par.slots_per_rank);
        ifb_json_kuint(j, "a2a_recv_bytes_max_gpu", r->a2a_recv_max);
        ifb_json_kuint(j, "a2a_recv_bytes_mean_gpu", r->a2a_recv_mean);
        ifb_json_obj_end(j);
    }
    if (s->cfg.deploy.ngroups)
        write_groups(s, j);
    return ifb_json_obj_end(j);
}
