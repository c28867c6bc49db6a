/* Requests and scheduling in the serving engine: arrivals (closed loop, Poisson, trace), the
 * router that assigns an arriving request to a live prefill (or mixed) instance and, in a
 * disaggregated deployment, a prefilled one to a decode instance with room for its KV cache
 * (least-requests by default: fewest requests waiting or running; or round-robin, least
 * queued tokens, least KV in use), and each instance's continuous batching: decode of running
 * requests within max_batch and the token budget, chunked prefill of admitted requests then FIFO
 * admission while the KV cache has room, preemption by recomputation (the most recently admitted
 * request) when decode tokens do not fit. At a step's end: tokens emitted (MTP accept length
 * accumulated per request), requests finished or failed, the closed loop refilled, the measurement
 * window opened or the run ended. Prefix caching (prefix.c): an admitted prompt skips its cached
 * leading blocks, and its full blocks are cached when its prefill ends. With MTP a decoding request
 * gains 1 + a random number of accepted drafts per step (ifb_mtp_cfg: truncated geometric, drawn
 * per step and request from the run's own stream). Leaves out: speculative decoding other than MTP,
 * CPU-side scheduling beyond the host gap between steps, and priorities or SLO-aware admission. */
#include <math.h>

#include "core/rng.h"
#include "workload/serving/internal.h"

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

void ifb_sv_sys_account(ifb_serving *s)
{
    if (s->done)
        return; /* transfers still landing after the end stay out of the window */
    ifb_time now = s->sim->now;
    /* min/max over values held for a positive time: a finished request and its replacement
     * in one event do not count as a dip */
    if (s->window_open && now > s->sys_last) {
        s->sys_area += (double)s->in_system * (double)(now - s->sys_last);
        for (int k = 0; k < SG_N; k++)
            s->stage_area[k] += (double)s->in_stage[k] * (double)(now - s->sys_last);
        if (s->in_system < s->min_sys)
            s->min_sys = s->in_system;
        if (s->in_system > s->max_sys)
            s->max_sys = s->in_system;
    }
    s->sys_last = now;
}

/* Stage counts only matter (and are only kept) in a disaggregated deployment, so a mixed run's
 * in-system integral sees exactly the calls it always did. */
void ifb_sv_stage_move(ifb_serving *sv, int from, int to)
{
    if (!sv->disagg)
        return;
    ifb_sv_sys_account(sv);
    if (from >= 0)
        sv->in_stage[from]--;
    if (to >= 0)
        sv->in_stage[to]++;
}

static double route_load(const ifb_serving *sv, const ifb_sv_eng *en, const instq *q)
{
    switch (sv->cfg.deploy.router) {
    case IFB_ROUTER_LEAST_TOKENS:
        return (double)q->queued_tokens + (double)q->rn;
    case IFB_ROUTER_LEAST_KV:
        return en->par.kv_tokens > 0 ? (double)q->kv_used / (double)en->par.kv_tokens : 0;
    default:
        return (double)q->in_system;
    }
}

int ifb_sv_route(ifb_serving *sv, int decode, int64_t need, int *inst)
{
    int best_e = -1, best_i = -1;
    double best = 0;
    int rr = sv->cfg.deploy.router == IFB_ROUTER_ROUND_ROBIN;
    int n = 0; /* candidates seen, in global instance order */
    int first_e = -1, first_i = -1, rr_e = -1, rr_i = -1;
    for (int k = 0; k < sv->neng; k++) {
        ifb_sv_eng *en = &sv->eng[k];
        if (decode ? en->role != IFB_ROLE_DECODE : en->role == IFB_ROLE_DECODE)
            continue;
        for (int i = 0; i < en->par.dp; i++) {
            const instq *q = &en->inst[i];
            if (en->inst_down && en->inst_down[i])
                continue;
            if (decode && q->kv_used + need > en->par.kv_tokens)
                continue;
            n++;
            if (rr) {
                int g = en->inst_base + i;
                if (first_e < 0)
                    first_e = k, first_i = i;
                if (rr_e < 0 && (unsigned)g >= sv->rr_next[decode])
                    rr_e = k, rr_i = i;
                continue;
            }
            double l = route_load(sv, en, q);
            if (best_e < 0 || l < best)
                best_e = k, best_i = i, best = l;
        }
    }
    if (rr && n) {
        if (rr_e < 0)
            rr_e = first_e, rr_i = first_i;
        best_e = rr_e, best_i = rr_i;
        sv->rr_next[decode] = (unsigned)(sv->eng[best_e].inst_base + best_i + 1);
    }
    *inst = best_i;
    return best_e;
}

/* A live instance that takes arrivals remains. */
static int entry_alive(const ifb_serving *sv)
{
    for (int k = 0; k < sv->neng; k++)
        if (sv->eng[k].role != IFB_ROLE_DECODE && sv->eng[k].ninst_down < sv->eng[k].par.dp)
            return 1;
    return 0;
}

static void push_int(int **a, size_t *n, size_t *cap, int v)
{
    *a = ifb_xgrow(*a, cap, *n, sizeof **a, 64, "a serving instance's request queue");
    (*a)[(*n)++] = v;
}

void ifb_sv_new_request(ifb_serving *s)
{
    s->req = ifb_xgrow(s->req, &s->req_cap, s->nreq, sizeof *s->req, 1024, "the requests");
    size_t row = s->trace_next++;
    ifb_serving_req *r = &s->req[s->nreq];
    memset(r, 0, sizeof *r);
    r->id = (int64_t)s->nreq;
    r->input = draw_len(s, &s->cfg.input, 0, row);
    r->row = s->cfg.input.kind == IFB_LEN_TRACE ? (int64_t)(row % s->cfg.trace.n) : -1;
    r->output = draw_len(s, &s->cfg.output, 1, row);
    r->arrival = s->sim->now;
    r->first = r->last = r->finish = IFB_TIME_NEVER;
    r->prefill_end = r->kv_start = r->kv_done = r->decode_start = IFB_TIME_NEVER;
    r->p_inst = r->d_inst = -1;
    r->prefill_target = r->input;
    r->state = RS_WAIT;
    r->eng = ifb_sv_route(s, 0, 0, &r->instance);
    if (r->eng < 0) { /* no live instance left: the request fails on arrival */
        r->eng = 0;
        r->instance = 0;
        r->state = RS_DONE;
        r->failed = 1;
        r->finish = s->sim->now;
        s->nreq++;
        s->nfailed++;
        return;
    }
    ifb_sv_eng *en = &s->eng[r->eng];
    r->p_inst = en->inst_base + r->instance;
    instq *q = &en->inst[r->instance];
    push_int(&q->wait, &q->wn, &q->wcap, (int)s->nreq);
    q->in_system++;
    q->queued_tokens += r->prefill_target;
    s->nreq++;
    ifb_sv_sys_account(s);
    s->in_system++;
    ifb_sv_stage_move(s, -1, SG_PREFILL);
}

static int all_idle(const ifb_serving *sv)
{
    for (int k = 0; k < sv->neng; k++)
        if (!sv->eng[k].idle)
            return 0;
    return sv->kv_inflight == 0;
}

void ifb_sv_check_idle(ifb_serving *s)
{
    if (s->done || !all_idle(s))
        return;
    if (s->ninst_down == s->ninst) {
        ifb_sv_finish_run(s); /* every instance is down: nothing can run any more */
    } else if (s->cfg.arrival == IFB_ARRIVAL_CLOSED ||
               (s->nreq >= s->arrivals_max && ended(s) < s->nreq)) {
        /* requests wait but none can be admitted: stop rather than spin */
        int64_t cap = INT64_MAX;
        for (int k = 0; k < s->neng; k++)
            if (s->eng[k].par.kv_tokens < cap)
                cap = s->eng[k].par.kv_tokens;
        ifb_sim_request_stop(s->sim, IFB_STOP_ERROR,
                             "serving: %lld requests wait but none fits the KV cache "
                             "(%lld tokens per instance)",
                             (long long)(s->nreq - ended(s)), (long long)cap);
        ifb_sv_finish_run(s);
    } else if (s->nreq >= s->arrivals_max) {
        ifb_sv_finish_run(s);
    }
}

static void arrival_ev(ifb_sim *sim, void *obj, uint64_t arg);

void ifb_sv_schedule_arrival(ifb_serving *s)
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
        if (all_idle(s) && ended(s) >= s->nreq)
            ifb_sv_finish_run(s);
        return;
    }
    ifb_sim_at(s->sim, at, arrival_ev, s, 0);
}

void ifb_sv_finish_run(ifb_serving *s)
{
    if (s->done)
        return;
    ifb_sv_sys_account(s);
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
    ifb_sv_new_request(s);
    ifb_sv_schedule_arrival(s);
    ifb_sv_eng *en = &s->eng[s->req[s->nreq - 1].eng];
    if (en->idle)
        ifb_sv_start_step(en);
}

/* KV cache per instance: a request holds prefilled + generated-after-prefill tokens. */
static void preempt(ifb_serving *s, instq *q, int ri)
{
    ifb_serving_req *r = &s->req[ri];
    ifb_sv_pc_release(s, r);
    q->kv_used -= r->kv;
    q->queued_tokens -= r->prefill_target - r->prefilled;
    r->kv = 0;
    r->prefilled = 0;
    r->prefill_target = r->input + r->generated;
    q->queued_tokens += r->prefill_target;
    r->state = RS_WAIT;
    r->preemptions++;
    s->preemptions++;
    /* back to the head of the queue */
    push_int(&q->wait, &q->wn, &q->wcap, ri);
    memmove(q->wait + 1, q->wait, (q->wn - 1) * sizeof *q->wait);
    q->wait[0] = ri;
}

static void add_ent(ifb_sv_eng *s, batch_ent e)
{
    s->ents = ifb_xgrow(s->ents, &s->ents_cap, s->nents, sizeof *s->ents, 256, "a step's batch");
    s->ents[s->nents++] = e;
}

/* Builds one instance's batch for this step. */
void ifb_sv_schedule_instance(ifb_sv_eng *s, int ii, int64_t q_tokens)
{
    ifb_serving *sv = s->sv;
    ifb_serving_req *req = sv->req;
    instq *q = &s->inst[ii];
    int64_t cap = s->par.kv_tokens;
    /* Decode: running requests past prefill; make room for their new tokens. */
    for (;;) {
        int64_t need = 0;
        for (size_t i = 0; i < q->rn; i++)
            if (req[q->run[i]].state == RS_DECODE)
                need += q_tokens;
        if (ifb_sv_pc_room(s, ii, need) || q->rn == 0)
            break;
        /* preempt the most recently admitted request */
        size_t victim = 0;
        for (size_t i = 1; i < q->rn; i++)
            if (req[q->run[i]].admit_seq > req[q->run[victim]].admit_seq)
                victim = i;
        int ri = q->run[victim];
        q->run[victim] = q->run[--q->rn];
        preempt(sv, q, ri);
    }
    int64_t budget = s->cfg.token_budget;
    size_t nb = 0;
    /* keep admission order: run[] is in admission order except after preemption swaps */
    for (size_t i = 0; i < q->rn && nb < (size_t)s->cfg.max_batch; i++) {
        ifb_serving_req *r = &req[q->run[i]];
        if (r->state != RS_DECODE || budget < q_tokens)
            continue;
        add_ent(s, (batch_ent){q->run[i], 0, 0, 0, 1});
        budget -= q_tokens;
        nb++;
    }
    /* Prefill: chunks of requests already admitted, then new admissions in FIFO order. */
    for (size_t i = 0; i < q->rn && budget > 0; i++) {
        ifb_serving_req *r = &req[q->run[i]];
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
        ifb_serving_req *r = &req[ri];
        /* prefix cache: its cached leading blocks are pinned and not computed; with blocks
         * shared in HBM (trace mode) they need no memory of its own */
        if (s->cfg.prefilled && r->prefill_target == r->input && r->generated == 0) {
            /* decode-only: its KV cache is in place (prefilled elsewhere) with its first
             * token, which the decode steps' throughput does not count */
            if (!ifb_sv_pc_room(s, ii, r->input + 1))
                break;
            w++;
            r->state = RS_DECODE;
            r->admit_seq = ++sv->admit_seq;
            r->prefilled = r->prefill_target;
            r->kv = r->input + 1;
            q->kv_used += r->kv;
            q->queued_tokens -= r->input;
            r->first = r->last = sv->sim->now;
            r->generated = 1;
            push_int(&q->run, &q->rn, &q->rcap, ri);
            if (r->generated >= r->output) /* nothing left to decode */
                r->output = r->generated + 1;
            if (budget >= q_tokens && nb < (size_t)s->cfg.max_batch) { /* decodes at once */
                add_ent(s, (batch_ent){ri, 0, 0, 0, 1});
                budget -= q_tokens;
                nb++;
            }
            continue;
        }
        int64_t hit = ifb_sv_pc_admit(s, ii, r);
        int shared = s->cfg.prefix.on && s->cfg.prefix.hit_rate < 0;
        int64_t own = r->prefill_target - (shared ? hit : 0);
        int64_t need = own + 1;
        if (!ifb_sv_pc_room(s, ii, need)) {
            ifb_sv_pc_release(sv, r);
            break;
        }
        (void)cap;
        ifb_sv_pc_count(s, r);
        w++;
        r->state = RS_PREFILL;
        r->admit_seq = ++sv->admit_seq;
        r->kv = own; /* reserve the whole prompt at admission */
        q->kv_used += r->kv;
        r->prefilled = hit;
        q->queued_tokens -= hit;
        push_int(&q->run, &q->rn, &q->rcap, ri);
        int64_t n = r->prefill_target - hit;
        if (n > s->cfg.chunk)
            n = s->cfg.chunk;
        if (n > budget)
            n = budget;
        add_ent(s, (batch_ent){ri, 0, n, hit, 0});
        budget -= n;
    }
    if (w) {
        memmove(q->wait, q->wait + w, (q->wn - w) * sizeof *q->wait);
        q->wn -= w;
    }
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
    instq *q = &s->eng[r->eng].inst[r->instance];
    ifb_sv_pc_release(s, r);
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
    ifb_sv_sys_account(s);
    s->in_system--;
    s->finished++;
    if (s->window_open)
        r->measured = 1;
    ifb_sv_stage_move(s, s->eng[r->eng].role == IFB_ROLE_PREFILL ? SG_PREFILL : SG_DECODE, -1);
}

/* Its instance went down (or, disaggregated, its KV transfer failed or no decode instance is
 * left): it ends without finishing. In the transfer it holds memory on both sides. */
void ifb_sv_fail_request(ifb_serving *s, int ri)
{
    ifb_serving_req *r = &s->req[ri];
    int st = r->state;
    ifb_sv_pc_release(s, r);
    if (st == RS_XFER) {
        instq *pq = &s->eng[r->eng].inst[r->instance];
        pq->kv_used -= r->pkv;
        r->pkv = 0;
        if (r->d_inst >= 0 && r->kv_start != IFB_TIME_NEVER) {
            for (int k = 0; k < s->neng; k++) {
                ifb_sv_eng *en = &s->eng[k];
                if (r->d_inst >= en->inst_base && r->d_inst < en->inst_base + en->par.dp) {
                    en->inst[r->d_inst - en->inst_base].kv_used -= r->kv;
                    en->inst[r->d_inst - en->inst_base].in_system--;
                }
            }
        }
    } else {
        instq *q = &s->eng[r->eng].inst[r->instance];
        q->kv_used -= r->kv;
        q->in_system--;
    }
    r->state = RS_DONE;
    r->failed = 1;
    r->finish = s->sim->now;
    r->kv = 0;
    ifb_sv_sys_account(s);
    s->in_system--;
    s->nfailed++;
    ifb_sv_stage_move(s,
                      st == RS_XFER                            ? SG_XFER
                      : s->eng[r->eng].role == IFB_ROLE_DECODE ? SG_DECODE
                                                               : SG_PREFILL,
                      -1);
}

/* At the end of a step with failed messages: the ranks with the highest failure score are down,
 * with their whole instance; its running and queued requests fail. */
static void mark_down(ifb_sv_eng *s)
{
    uint32_t best = 0;
    for (int r = 0; r < s->R; r++)
        if (s->fail_score[r] > best)
            best = s->fail_score[r];
    for (int r = 0; r < s->R && best; r++) {
        if (s->fail_score[r] != best)
            continue;
        int ii = inst_of_rank(s, r);
        if (s->inst_down[ii])
            continue;
        s->inst_down[ii] = 1;
        s->ninst_down++;
        s->sv->ninst_down++;
        for (int x = 0; x < s->P * s->par.tp; x++)
            s->rank_down[(x / s->par.tp) * s->Rs + ii * s->par.tp + x % s->par.tp] = 1;
        instq *q = &s->inst[ii];
        for (size_t i = 0; i < q->rn; i++)
            ifb_sv_fail_request(s->sv, q->run[i]);
        for (size_t i = 0; i < q->wn; i++)
            ifb_sv_fail_request(s->sv, q->wait[i]);
        q->rn = q->wn = 0;
    }
    memset(s->fail_score, 0, (size_t)s->R * sizeof *s->fail_score);
    s->fail_pending = 0;
}

void ifb_sv_open_window(ifb_serving *s)
{
    s->window_open = 1;
    s->t_window = s->sim->now;
    s->tokens_at_window = s->tokens_emitted;
    s->sys_last = s->sim->now;
    s->sys_area = 0;
    for (int k = 0; k < SG_N; k++)
        s->stage_area[k] = 0;
    s->min_sys = INT64_MAX;
    s->max_sys = INT64_MIN;
}

/* Tokens a step delivers to a request (its held prefill token first). */
static void deliver(ifb_sv_eng *en, ifb_serving_req *r, int64_t n)
{
    ifb_serving *s = en->sv;
    uint64_t before = s->tokens_emitted;
    if (r->held) {
        /* the prefill's token reaches the client with the first decode step's tokens */
        r->generated -= r->held;
        int64_t h = r->held;
        r->held = 0;
        emit_tokens(s, r, h);
    }
    emit_tokens(s, r, n);
    if (s->window_open)
        en->win_tokens += s->tokens_emitted - before;
}

void ifb_sv_step_end(ifb_sv_eng *s)
{
    ifb_serving *sv = s->sv;
    ifb_time now = s->sim->now;
    s->running_step = 0;
    ifb_serving_step *cur = &s->cur;
    cur->end = now;
    cur->comm = s->comm_acc;
    if (sv->tl)
        ifb_sv_tl_step(s);
    /* host time before the next step: what the overlap scheduler does not hide */
    cur->host_gap = s->cfg.step_overhead + (s->cfg.ovh.on ? s->cfg.ovh.host_step : 0);
    double busy = 0;
    for (int r = 0; r < s->R; r++)
        busy += (double)s->busy_acc[r];
    cur->gpu_busy = now > cur->start ? busy / ((double)s->R * (double)(now - cur->start)) : 0;
    sv->steps =
        ifb_xgrow(sv->steps, &sv->steps_cap, sv->nsteps, sizeof *sv->steps, 1024, "the steps");
    sv->steps[sv->nsteps++] = *cur;
    if (s->fail_pending)
        mark_down(s);
    /* Tokens. Requests are visited in batch order, so results do not depend on addresses. */
    for (size_t e = 0; e < s->nents; e++) {
        const batch_ent *b = &s->ents[e];
        ifb_serving_req *r = &sv->req[b->req];
        if (r->state == RS_DONE || r->state == RS_WAIT)
            continue;
        instq *q = &s->inst[r->instance];
        if (b->decode) {
            int64_t n = 1;
            if (s->cfg.mtp.on) {
                /* each draft accepted with probability p given the one before it was */
                for (int d = 0; d < s->acc_depth && ifb_rng_double(&sv->rng_acc) < s->acc_p; d++)
                    n++;
                sv->mtp_verifies++;
                sv->mtp_accepted += (uint64_t)n;
            }
            if (n > r->output - r->generated)
                n = r->output - r->generated;
            deliver(s, r, n);
            r->kv += n;
            q->kv_used += n;
        } else {
            r->prefilled += b->pf;
            q->queued_tokens -= b->pf;
            if (sv->window_open)
                s->win_prefill_tok += (uint64_t)b->pf;
            if (r->prefilled >= r->prefill_target) {
                int pd = s->role == IFB_ROLE_PREFILL;
                int64_t moved = ifb_sv_pc_prefilled(s, r->instance, r);
                r->kv -= moved;
                q->kv_used -= moved;
                r->state = RS_DECODE;
                if (r->generated < r->output) {
                    if (pd && !sv->cfg.deploy.kv.first_token_prefill) {
                        r->generated++; /* the prefill's token, delivered by the decode side */
                        r->held = 1;
                    } else {
                        deliver(s, r, 1); /* the prefill's (or re-prefill's) own token */
                    }
                }
                if (pd && (r->held || r->generated < r->output)) {
                    ifb_sv_kv_prefilled(sv, b->req);
                    continue;
                }
            }
        }
        if (r->generated >= r->output && !r->held)
            finish_request(sv, b->req);
    }
    if (sv->cfg.arrival == IFB_ARRIVAL_CLOSED) {
        while (!sv->done && sv->in_system < sv->cfg.concurrency && sv->ninst_down < sv->ninst &&
               entry_alive(sv))
            ifb_sv_new_request(sv);
    }
    ifb_sv_sys_account(sv);
    /* The window opens at the end of the step in which the warm-up-th request ended. */
    if (!sv->window_open && ended(sv) >= (uint64_t)sv->cfg.warmup)
        ifb_sv_open_window(sv);
    if (sv->ninst_down == sv->ninst)
        ifb_sv_finish_run(sv); /* every instance is down */
    else if (sv->window_open && ended(sv) >= sv->target)
        ifb_sv_finish_run(sv);
    else if (sv->cfg.arrival != IFB_ARRIVAL_CLOSED && sv->nreq >= sv->arrivals_max &&
             ended(sv) >= sv->nreq)
        ifb_sv_finish_run(sv);
    if (sv->done)
        return;
    if (sv->disagg)
        ifb_sv_kv_dispatch(sv);
    ifb_sim_after(s->sim, cur->host_gap, ifb_sv_step_ev, s, 0);
    /* closed-loop replacements may have gone to an engine that sits idle */
    for (int k = 0; k < sv->neng && sv->neng > 1; k++)
        if (&sv->eng[k] != s && sv->eng[k].idle && !sv->done)
            ifb_sv_start_step(&sv->eng[k]);
}
