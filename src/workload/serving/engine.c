/* Lifecycle of the serving engine (see serving.h): building the layout and checking memory,
 * allocating the step program's state, seeding the random streams, scheduling the first
 * arrivals, and freeing it all.
 * Leaves out: any model of its own; the parts are in cost.c, sched.c, step.c and metrics.c. */
#include <math.h>

#include "core/rng.h"
#include "workload/serving/internal.h"

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
    ifb_sv_load_tables(s);
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
    ifb_sv_build_program(s);
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
        ifb_sv_open_window(s);
    ifb_sim_work_begin(sim);
    if (c->arrival == IFB_ARRIVAL_CLOSED) {
        for (int64_t i = 0; i < c->concurrency; i++)
            ifb_sv_new_request(s);
        ifb_sv_sys_account(s);
        ifb_sim_at(sim, sim->now, ifb_sv_step_ev, s, 0);
    } else {
        s->idle = 1;
        ifb_sv_schedule_arrival(s);
    }
    return 0;
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
