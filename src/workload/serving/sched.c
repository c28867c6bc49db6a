/* Requests and scheduling in the serving engine: arrivals (closed loop, Poisson, trace), the
 * router that assigns a request to the live instance with the fewest requests, and each
 * instance's continuous batching: decode of running requests within max_batch and the token
 * budget, chunked prefill of admitted requests then FIFO admission while the KV cache has room,
 * preemption by recomputation (the most recently admitted request) when decode tokens do not
 * fit. At a step's end: tokens emitted (MTP accept length accumulated per request), requests
 * finished or failed, the closed loop refilled, the measurement window opened or the run ended.
 * Leaves out: prefix caching, speculative decoding other than MTP with one draft token,
 * CPU-side scheduling beyond a fixed step gap, and priorities or SLO-aware admission. */
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

static void push_int(int **a, size_t *n, size_t *cap, int v)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        *a = xrealloc(*a, *cap * sizeof **a);
    }
    (*a)[(*n)++] = v;
}

void ifb_sv_new_request(ifb_serving *s)
{
    if (s->nreq == s->req_cap) {
        s->req_cap = s->req_cap ? s->req_cap * 2 : 1024;
        s->req = xrealloc(s->req, s->req_cap * sizeof *s->req);
    }
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
    ifb_sv_sys_account(s);
    s->in_system++;
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
        if (s->idle && ended(s) >= s->nreq)
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
    ifb_sim_work_end(s->sim);
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
    if (s->idle)
        ifb_sv_start_step(s);
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
    if (s->nents == s->ents_cap) {
        s->ents_cap = s->ents_cap ? s->ents_cap * 2 : 256;
        s->ents = xrealloc(s->ents, s->ents_cap * sizeof *s->ents);
    }
    s->ents[s->nents++] = e;
}

/* Builds one instance's batch for this step. */
void ifb_sv_schedule_instance(ifb_serving *s, int ii, int64_t q_tokens)
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
                s->itl_cap = s->itl_cap ? s->itl_cap * 2 : 4096;
                s->itl_req = xrealloc(s->itl_req, s->itl_cap * sizeof *s->itl_req);
                s->itl_gap = xrealloc(s->itl_gap, s->itl_cap * sizeof *s->itl_gap);
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
    ifb_sv_sys_account(s);
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
    ifb_sv_sys_account(s);
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

void ifb_sv_open_window(ifb_serving *s)
{
    s->window_open = 1;
    s->t_window = s->sim->now;
    s->tokens_at_window = s->tokens_emitted;
    s->sys_last = s->sim->now;
    s->sys_area = 0;
    s->min_sys = INT64_MAX;
    s->max_sys = INT64_MIN;
}

void ifb_sv_step_end(ifb_serving *s)
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
    if (s->nsteps == s->steps_cap) {
        s->steps_cap = s->steps_cap ? s->steps_cap * 2 : 1024;
        s->steps = xrealloc(s->steps, s->steps_cap * sizeof *s->steps);
    }
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
            ifb_sv_new_request(s);
    }
    ifb_sv_sys_account(s);
    /* The window opens at the end of the step in which the warm-up-th request ended. */
    if (!s->window_open && ended(s) >= (uint64_t)s->cfg.warmup)
        ifb_sv_open_window(s);
    if (s->ninst_down == s->par.dp)
        ifb_sv_finish_run(s); /* every instance is down */
    else if (s->window_open && ended(s) >= s->target)
        ifb_sv_finish_run(s);
    else if (s->cfg.arrival != IFB_ARRIVAL_CLOSED && s->nreq >= s->arrivals_max &&
             ended(s) >= s->nreq)
        ifb_sv_finish_run(s);
    if (s->done)
        return;
    ifb_sim_after(s->sim, s->cfg.step_overhead, ifb_sv_step_ev, s, 0);
}
