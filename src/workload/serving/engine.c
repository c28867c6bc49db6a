/* Lifecycle of the serving engine (see serving.h): placing the deployment's instance groups on
 * the topology's GPUs (each group's GPUs split into `count` engines), building each engine's
 * layout and checking its memory, allocating the step programs' state, seeding the random
 * streams, scheduling the first arrivals, and freeing it all. Without a deployment there is one
 * mixed engine on every GPU, built from the workload keys exactly as before groups existed.
 * Leaves out: any model of its own; the parts are in cost.c, sched.c, step.c, kv.c and
 * metrics.c. */
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

/* The GPUs (endpoints) of engine `part` of a group: its share of the group's servers x GPUs,
 * server-major, and the engine's servers x GPUs-per-server shape. */
static int place(const ifb_group_cfg *g, int part, int topo_servers, int topo_gps, int *ids,
                 int *nserv, int *gps, ifb_err *e)
{
    int ng = g->gpus ? g->ngpus : topo_gps;
    for (int i = 0; i < g->nservers; i++)
        if (g->servers[i] < 0 || g->servers[i] >= topo_servers) {
            char k[256];
            snprintf(k, sizeof k, "%s.servers", g->key);
            return ifb_err_set(e, NULL, 0, k, "servers of the topology",
                               "server %d (the topology has servers 0..%d)", g->servers[i],
                               topo_servers - 1);
        }
    for (int i = 0; g->gpus && i < g->ngpus; i++)
        if (g->gpus[i] < 0 || g->gpus[i] >= topo_gps) {
            char k[256];
            snprintf(k, sizeof k, "%s.gpus", g->key);
            return ifb_err_set(e, NULL, 0, k, "GPUs of a server", "GPU %d (servers have 0..%d)",
                               g->gpus[i], topo_gps - 1);
        }
    int total = g->nservers * ng, per = total / g->count;
    char k[256];
    snprintf(k, sizeof k, "%s.count", g->key);
    if (per < 1 || total % g->count || (per >= ng ? per % ng != 0 : ng % per != 0))
        return ifb_err_set(e, NULL, 0, k,
                           "a count that splits the group's GPUs into equal engines of whole "
                           "servers or equal parts of one server",
                           "%d for %d servers x %d GPUs", g->count, g->nservers, ng);
    *nserv = per >= ng ? per / ng : 1;
    *gps = per >= ng ? ng : per;
    for (int r = 0; r < per; r++) {
        int x = part * per + r;
        ids[r] = g->servers[x / ng] * topo_gps + (g->gpus ? g->gpus[x % ng] : x % ng);
    }
    return 0;
}

/* Deployment checks that need no topology: roles that can serve a request, and groups that
 * do not share a GPU. */
static int check_deploy(const ifb_serving_cfg *cfg, int topo_gps, ifb_err *e)
{
    const ifb_deploy_cfg *d = &cfg->deploy;
    int np = 0, nd = 0, nm = 0;
    for (int i = 0; i < d->ngroups; i++) {
        np += d->groups[i].role == IFB_ROLE_PREFILL;
        nd += d->groups[i].role == IFB_ROLE_DECODE;
        nm += d->groups[i].role == IFB_ROLE_MIXED;
    }
    char k[256];
    snprintf(k, sizeof k, "%s%sdeployment.groups", cfg->key, cfg->key[0] ? "." : "");
    if ((np > 0) != (nd > 0))
        return ifb_err_set(e, NULL, 0, k, "prefill and decode groups together (or only mixed)",
                           "%d prefill and %d decode groups", np, nd);
    if (nm && np)
        return ifb_err_set(e, NULL, 0, k, "either mixed groups or prefill + decode groups",
                           "%d mixed with %d prefill and %d decode groups", nm, np, nd);
    for (int i = 0; i < d->ngroups; i++)
        for (int j = 0; j < i; j++) {
            const ifb_group_cfg *a = &d->groups[i], *b = &d->groups[j];
            for (int x = 0; x < a->nservers; x++)
                for (int y = 0; y < b->nservers; y++) {
                    if (a->servers[x] != b->servers[y])
                        continue;
                    int na = a->gpus ? a->ngpus : topo_gps, nb = b->gpus ? b->ngpus : topo_gps;
                    for (int u = 0; u < na; u++)
                        for (int v = 0; v < nb; v++) {
                            int ga = a->gpus ? a->gpus[u] : u, gb = b->gpus ? b->gpus[v] : v;
                            if (ga == gb) {
                                char kk[256];
                                snprintf(kk, sizeof kk, "%s.servers", a->key);
                                return ifb_err_set(e, NULL, 0, kk, "GPUs no other group uses",
                                                   "server %d GPU %d, also in %s ('%s')",
                                                   a->servers[x], ga, b->key, b->name);
                            }
                        }
                }
        }
    return 0;
}

static int init_router_into(ifb_sv_eng *s, ifb_router *r, uint64_t seed, ifb_err *e)
{
    const ifb_serving_cfg *cfg = &s->cfg;
    if (cfg->routing == IFB_ROUTE_FILE)
        return ifb_router_init_loads(r, s->m, s->nmoe, cfg->routes.load, cfg->routes.layers, seed,
                                     e);
    return ifb_router_init(r, s->m, s->nmoe, cfg->routing, cfg->zipf_s, seed, e);
}

static int init_router(ifb_sv_eng *s, uint64_t seed, ifb_err *e)
{
    return init_router_into(s, &s->router, seed, e);
}

/* Redundant experts, an EP size that does not divide the experts, or placement by load: the
 * slots of every MoE layer, from the router's expected loads (known once it is seeded). */
static int place_experts(ifb_sv_eng *s, uint64_t seed, ifb_err *e)
{
    const ifb_parallel *p = &s->par;
    if (p->layout != IFB_LAYOUT_DP_EP || !p->experts || s->nmoe == 0 ||
        (!p->redundant && p->placement != IFB_PLACE_LOAD && p->experts % p->ep == 0))
        return 0;
    s->eplb = ifb_xcalloc((size_t)s->nmoe, sizeof *s->eplb, "the expert placements");
    double *w = ifb_xcalloc((size_t)p->experts, sizeof *w, "the expected expert loads");
    /* Expected loads: exact for uniform routing; otherwise the marginal of the router itself
     * (group-limited routing folded in), estimated from EST tokens per layer drawn on a copy
     * with its own stream, so the run's routing draws are untouched. */
    enum { EST = 8192 };
    ifb_router est;
    int sample = s->cfg.routing != IFB_ROUTE_UNIFORM;
    int *ex = sample ? ifb_xcalloc((size_t)EST * (size_t)s->m->experts_per_tok, sizeof *ex,
                                   "the routing estimate's samples")
                     : NULL;
    if (sample && init_router_into(s, &est, seed, e)) { /* the same popularity */
        free(w);
        free(ex);
        return -1;
    }
    if (sample)
        ifb_rng_seed(&est.rng, seed, 0x65706c62ull); /* its own draws */
    int rc = 0;
    for (int mi = 0; mi < s->nmoe && !rc; mi++) {
        if (sample) {
            memset(w, 0, (size_t)p->experts * sizeof *w);
            ifb_router_route(&est, mi, EST, ex);
            for (size_t i = 0; i < (size_t)EST * (size_t)s->m->experts_per_tok; i++)
                w[ex[i]] += 1;
        } else {
            ifb_router_expected(&s->router, mi, w);
        }
        rc = ifb_eplb_place(&s->eplb[mi], p->experts, p->redundant, p->ep, p->placement, w, e);
    }
    if (sample)
        ifb_router_free(&est);
    free(ex);
    free(w);
    if (rc)
        return -1;
    free(s->slot_cnt);
    s->slot_cnt =
        ifb_xcalloc((size_t)s->eplb[0].slots, sizeof *s->slot_cnt, "the expert slots' copy counts");
    return 0;
}

/* One engine: the run's configuration with the group's settings, its layout on `ids`, its
 * memory check, kernel tables and step program. */
static int eng_create(ifb_serving *sv, ifb_sv_eng *s, const ifb_group_cfg *g, int nserv, int gps,
                      const int *ids, int topo_gps, ifb_err *e)
{
    s->sv = sv;
    s->cfg = sv->cfg;
    s->m = &sv->cfg.model;
    s->role = g ? g->role : IFB_ROLE_MIXED;
    ifb_serving_cfg *cfg = &s->cfg;
    if (g) {
        snprintf(cfg->key, sizeof cfg->key, "%s", g->key);
        cfg->gpu = g->gpu;
        cfg->reserve_bytes = g->reserve_bytes;
        cfg->par = g->par;
        cfg->a2a = g->a2a;
        cfg->overlap = g->overlap;
        cfg->mtp = g->mtp;
        cfg->accept_length = g->accept_length;
        cfg->max_batch = g->max_batch;
        cfg->token_budget = g->token_budget;
        cfg->chunk = g->chunk;
    }
    char pkey[256];
    snprintf(pkey, sizeof pkey, "%s%sparallel", cfg->key, cfg->key[0] ? "." : "");
    ifb_par_cfg pc = cfg->par;
    pc.key = pkey;
    if (ifb_parallel_build(&s->par, s->m, &pc, nserv, gps, e))
        return -1;
    if (ids) {
        for (int r = 0; r < s->par.nranks; r++)
            s->par.endpoint[r] = ids[r];
        s->par.topo_gpus_per_server = topo_gps;
    }
    int64_t longest = len_max(cfg, &cfg->input, 0) + len_max(cfg, &cfg->output, 1) + 2;
    if (ifb_parallel_memory(&s->par, s->m, cfg->gpu, cfg->weight_dtype, cfg->kv_dtype, cfg->mtp,
                            cfg->reserve_bytes, longest, e)) {
        if (g) {
            char msg[sizeof e->msg];
            snprintf(msg, sizeof msg, "%s", e->msg);
            ifb_err_msg(e, "%s (group '%s', %s): %s", g->key, g->name, ifb_role_name(g->role), msg);
        }
        return -1;
    }
    s->R = s->par.nranks;
    s->P = s->par.pp;
    s->Rs = s->par.stage_ranks;
    s->C = s->P > 1 ? s->par.micro_batches : cfg->overlap ? 2 : 1;
    s->gsz = s->par.layout == IFB_LAYOUT_DP_EP   ? s->par.ep
             : s->par.layout == IFB_LAYOUT_DP_TP ? s->par.moe_tp
                                                 : s->par.tp;
    s->ngroups = s->R / s->gsz;
    s->memo = ifb_xcalloc(MEMO_SIZE, sizeof *s->memo, "the compute-cost memo");
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
    if (m->experts && init_router(s, 1, e))
        return -1;
    size_t n3 = (size_t)s->K * s->R * s->C;
    s->dur = ifb_xcalloc(n3, sizeof *s->dur, "the stage durations");
    s->slot0 = ifb_xcalloc(n3, sizeof *s->slot0, "the stage events");
    s->slotf = ifb_xcalloc(n3, sizeof *s->slotf, "the final-stage events");
    for (int k = 0; k < s->K; k++)
        for (int r = 0; r < s->R; r++)
            for (int c = 0; c < s->C; c++) {
                size_t i = idx3(s, k, r, c);
                s->slot0[i] = (slot){s, k, r, c, 0};
                s->slotf[i] = (slot){s, k, r, c, 1};
            }
    s->recv0 = ifb_xcalloc(n3, sizeof(int), "the stages' receive counts");
    s->recvf = ifb_xcalloc(n3, sizeof(int), "the final stages' receive counts");
    s->ready = ifb_xcalloc(n3, sizeof(int), "the stages' ready flags");
    s->sent = ifb_xcalloc(n3, sizeof(int), "the stages' sent counts");
    s->donek = ifb_xcalloc(n3, sizeof(int), "the stages' done flags");
    s->readycnt =
        ifb_xcalloc((size_t)s->K * s->ngroups * s->C, sizeof(int), "the groups' ready counts");
    s->replay = ifb_xcalloc((size_t)s->K, 1, "the stages' replay flags");
    s->barrier = ifb_xcalloc((size_t)s->K * s->ngroups * s->C, sizeof(ifb_time),
                             "the groups' barrier times");
    s->delta =
        ifb_xcalloc((size_t)4 * s->R * s->C, sizeof(ifb_time), "the latencies after a barrier");
    s->have_delta = ifb_xcalloc(4, 1, "the barrier latency flags");
    s->pos = ifb_xcalloc((size_t)s->R * s->C, sizeof(int), "the chains' current stages");
    s->gpu_busy = ifb_xcalloc((size_t)s->R, sizeof(int), "the GPUs' busy flags");
    s->gpu_q = ifb_xcalloc((size_t)s->R * 2, sizeof(int), "the GPUs' queued chains");
    for (int i = 0; i < s->R * 2; i++)
        s->gpu_q[i] = -1;
    s->busy_acc = ifb_xcalloc((size_t)s->R, sizeof(ifb_time), "the GPUs' busy times");
    s->ts = ifb_xcalloc((size_t)s->R * s->C, sizeof *s->ts, "the chains' token sets");
    s->ts_mtp = ifb_xcalloc((size_t)s->R * s->C, sizeof *s->ts_mtp, "the chains' MTP token sets");
    size_t nplans = (size_t)s->ngroups * (size_t)(s->nmoe ? s->nmoe : 1) * 2 * s->C;
    s->plans = ifb_xcalloc(nplans, sizeof *s->plans, "the all-to-all plans");
    s->recv_copies = ifb_xcalloc((size_t)(s->nmoe ? s->nmoe : 1) * s->R * s->C, sizeof(int),
                                 "the all-to-all receive copies");
    s->inst = ifb_xcalloc((size_t)s->par.dp, sizeof *s->inst, "the instance queues");
    s->a2a_recv = ifb_xcalloc((size_t)s->R, sizeof *s->a2a_recv, "the ranks' dispatch bytes");
    s->own_done = ifb_xcalloc((size_t)s->R * s->C, 1, "the chains' own-stage flags");
    s->pp_t =
        ifb_xcalloc((size_t)s->P * s->C, sizeof *s->pp_t, "the pipeline stages' compute times");
    s->grp_tok = ifb_xcalloc((size_t)2 * s->ngroups * s->C * 2, sizeof *s->grp_tok,
                             "the groups' token counts");
    return 0;
}

int ifb_serving_create(ifb_serving **out, const ifb_serving_cfg *cfg, int nservers,
                       int gpus_per_server, ifb_err *e)
{
    *out = NULL;
    ifb_serving *s = ifb_xcalloc(1, sizeof *s, "the serving engine");
    ifb_serving_cfg_copy(&s->cfg, cfg); /* own copy of the trace and the groups */
    s->m = &s->cfg.model;
    for (int c = 0; c < IFB_TC_COUNT; c++)
        ifb_summary_init(&s->msg_time[c]);
    ifb_samples_init(&s->itl);
    ifb_pool_init(&s->kvx_pool, sizeof(kvx), 256);
    int *ids = NULL;
    if (!cfg->gpu) {
        ifb_err_msg(e, "serving: no GPU given");
        goto fail;
    }
    if (cfg->concurrency < 1 && cfg->arrival == IFB_ARRIVAL_CLOSED) {
        char k[256];
        snprintf(k, sizeof k, "%s%sconcurrency", cfg->key, cfg->key[0] ? "." : "");
        ifb_err_set(e, NULL, 0, k, "at least 1 request", "%lld", (long long)cfg->concurrency);
        goto fail;
    }
    const ifb_deploy_cfg *d = &s->cfg.deploy;
    if (d->ngroups && check_deploy(&s->cfg, gpus_per_server, e))
        goto fail;
    if (nservers < 1 || gpus_per_server < 1) {
        ifb_err_set(e, NULL, 0, "topology", "at least one server with one GPU",
                    "%d servers x %d GPUs", nservers, gpus_per_server);
        goto fail;
    }
    int neng = 0;
    for (int i = 0; i < d->ngroups; i++)
        neng += d->groups[i].count;
    s->neng = d->ngroups ? neng : 1;
    s->eng = ifb_xcalloc((size_t)s->neng, sizeof *s->eng, "the serving engines");
    ids = ifb_xcalloc((size_t)nservers * (size_t)gpus_per_server, sizeof *ids, "the GPU ids");
    for (int gi = 0, k = 0; gi < (d->ngroups ? d->ngroups : 1); gi++) {
        const ifb_group_cfg *g = d->ngroups ? &d->groups[gi] : NULL;
        for (int part = 0; part < (g ? g->count : 1); part++, k++) {
            ifb_sv_eng *en = &s->eng[k];
            en->index = k;
            en->group = gi;
            int ns = nservers, gps = gpus_per_server;
            if (g && place(g, part, nservers, gpus_per_server, ids, &ns, &gps, e))
                goto fail;
            if (eng_create(s, en, g, ns, gps, g ? ids : NULL, gpus_per_server, e))
                goto fail;
            en->inst_base = s->ninst;
            s->ninst += en->par.dp;
            s->disagg |= en->role == IFB_ROLE_PREFILL;
        }
    }
    free(ids);
    ids = NULL;
    if (s->disagg && ifb_sv_kv_check(s, e))
        goto fail;
    if ((cfg->input.kind == IFB_LEN_TRACE || cfg->output.kind == IFB_LEN_TRACE ||
         cfg->arrival == IFB_ARRIVAL_TRACE) &&
        cfg->trace.n == 0) {
        ifb_err_msg(e, "serving: a trace is needed (arrival or lengths say trace) but none loaded");
        goto fail;
    }
    *out = s;
    return 0;
fail:
    free(ids);
    ifb_serving_destroy(s);
    return -1;
}

static int eng_start(ifb_sv_eng *s, ifb_sim *sim, ifb_net *net, uint64_t seed, ifb_err *e)
{
    s->sim = sim;
    s->net = net;
    s->nep = 0;
    for (int r = 0; r < s->R; r++)
        if (s->par.endpoint[r] + 1 > s->nep)
            s->nep = s->par.endpoint[r] + 1;
    free(s->rank_of_ep);
    s->rank_of_ep = ifb_xcalloc((size_t)s->nep, sizeof *s->rank_of_ep, "the endpoints' ranks");
    for (int i = 0; i < s->nep; i++)
        s->rank_of_ep[i] = -1;
    for (int r = 0; r < s->R; r++)
        s->rank_of_ep[s->par.endpoint[r]] = r;
    free(s->fail_score);
    free(s->rank_down);
    free(s->inst_down);
    s->fail_score = ifb_xcalloc((size_t)s->R, sizeof *s->fail_score, "the ranks' failure scores");
    s->rank_down = ifb_xcalloc((size_t)s->R, 1, "the ranks' down flags");
    s->inst_down = ifb_xcalloc((size_t)s->par.dp, 1, "the instances' down flags");
    if (s->m->experts) {
        ifb_err tmp;
        ifb_router_free(&s->router);
        /* engine 0 draws the stream a single-engine run always drew */
        uint64_t rs = s->index ? ifb_hash64(seed ^ (0x656e67ull + (uint64_t)s->index)) : seed;
        if (init_router(s, rs, &tmp))
            return ifb_err_msg(e, "%s", tmp.msg);
        if (s->eplb) {
            for (int mi = 0; mi < s->nmoe; mi++)
                ifb_eplb_free(&s->eplb[mi]);
            free(s->eplb);
            s->eplb = NULL;
        }
        if (place_experts(s, rs, e))
            return -1;
    }
    return 0;
}

int ifb_serving_start(ifb_serving *s, ifb_sim *sim, ifb_net *net, ifb_err *e)
{
    int gpus = 0, maxep = 0;
    for (int k = 0; k < s->neng; k++) {
        gpus += s->eng[k].R;
        for (int r = 0; r < s->eng[k].R; r++)
            if (s->eng[k].par.endpoint[r] + 1 > maxep)
                maxep = s->eng[k].par.endpoint[r] + 1;
    }
    if (net->nendpoints && net->nendpoints < maxep)
        return ifb_err_set(e, NULL, 0, "network endpoints", "at least one per GPU",
                           "%d endpoints for %d GPUs", net->nendpoints, s->neng > 1 ? maxep : gpus);
    s->sim = sim;
    s->net = net;
    s->seed = s->cfg.seed ? s->cfg.seed : sim->seed;
    ifb_rng_seed(&s->rng_len, s->seed, 0x6c656eull);
    ifb_rng_seed(&s->rng_arr, s->seed, 0x617272ull);
    for (int k = 0; k < s->neng; k++)
        if (eng_start(&s->eng[k], sim, net, s->seed, e))
            return -1;
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
    for (int k = 0; k < s->neng; k++) {
        s->eng[k].cfg.warmup = c->warmup;
        s->eng[k].cfg.requests = c->requests;
    }
    s->target = (uint64_t)(c->warmup + c->requests);
    s->sys_last = sim->now;
    if (c->warmup == 0)
        ifb_sv_open_window(s);
    /* No unit of outstanding work (ifb_sim_work_begin) is held for the engine itself: the
     * watchdog reads outstanding work without progress as a hang, and an open-loop system idle
     * between arrivals is not one. What keeps the run alive is always a scheduled event (the
     * next arrival, step or compute) or a message in flight, which holds its own work unit;
     * an engine left with neither is a bug that ifb_serving_check_end reports. */
    if (s->disagg && sim->check &&
        ifb_sim_add_checker(sim, "serving kv before decode", ifb_sv_kv_checker, s))
        return ifb_err_msg(e, "serving: the simulation's table of invariant checkers is full");
    if (c->arrival == IFB_ARRIVAL_CLOSED) {
        for (int64_t i = 0; i < c->concurrency; i++)
            ifb_sv_new_request(s);
        ifb_sv_sys_account(s);
        for (int k = 0; k < s->neng; k++)
            ifb_sim_at(sim, sim->now, ifb_sv_step_ev, &s->eng[k], 0);
    } else {
        for (int k = 0; k < s->neng; k++)
            s->eng[k].idle = 1;
        ifb_sv_schedule_arrival(s);
    }
    return 0;
}

static void eng_destroy(ifb_sv_eng *s)
{
    for (int k = 0; k < KT_N; k++)
        if (s->have_kt[k])
            ifb_kernel_table_free(&s->kt[k]);
    free(s->memo);
    if (s->inst)
        for (int i = 0; i < s->par.dp; i++) {
            free(s->inst[i].wait);
            free(s->inst[i].run);
        }
    free(s->inst);
    ifb_router_free(&s->router);
    if (s->eplb)
        for (int mi = 0; mi < s->nmoe; mi++)
            ifb_eplb_free(&s->eplb[mi]);
    free(s->eplb);
    free(s->slot_cnt);
    free(s->a2a_recv);
    free(s->own_done);
    free(s->pp_t);
    free(s->gate_k);
    free(s->moe_pp);
    free(s->grp_tok);
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
    free(s->rank_of_ep);
    free(s->fail_score);
    free(s->rank_down);
    free(s->inst_down);
    ifb_parallel_free(&s->par);
}

void ifb_serving_destroy(ifb_serving *s)
{
    if (!s)
        return;
    for (int k = 0; k < s->neng; k++)
        eng_destroy(&s->eng[k]);
    free(s->eng);
    free(s->req);
    free(s->steps);
    free(s->groups_res);
    ifb_samples_destroy(&s->itl);
    free(s->itl_req);
    free(s->itl_gap);
    free(s->kvwait);
    ifb_pool_destroy(&s->kvx_pool);
    ifb_serving_cfg_free(&s->cfg);
    free(s);
}
