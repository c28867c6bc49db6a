/* The per-step program of the serving engine: the stage list of a step (per layer compute,
 * all-to-all dispatch/combine or ring all-reduce, the LM head), and its execution on every GPU:
 * compute as a timed busy period on the GPU's timeline (two chains interleave with overlap),
 * communication as messages through the message API; a rank's next stage waits on the messages
 * it needs. Routing and all-to-all plans are drawn per EP group, MoE layer and chain; sampled
 * fidelity replays the latest simulated phase's per-rank latency after the barrier.
 * Leaves out: stragglers between EP groups (all instances of an engine start a step together
 * and the step ends when every GPU of the engine is done), token-count signals of DeepEP (a
 * receiver waits for every rank of its group to reach the phase, modelled as a barrier without
 * latency; only payload messages cross the network). Zero-token ranks still take part in every
 * all-to-all (idle DP ranks run empty batches, as in SGLang). */
#include "workload/serving/internal.h"

void ifb_sv_build_program(ifb_sv_eng *s)
{
    const ifb_model *m = s->m;
    int L = (int)m->layers, mtp = s->cfg.mtp ? 1 : 0, P = s->P;
    s->layers_run = L + mtp;
    s->st = ifb_xcalloc((size_t)(s->layers_run * 4 + 2 + P), sizeof *s->st,
                        "the step program's stages");
    s->gate_k = ifb_xcalloc((size_t)P, sizeof *s->gate_k, "the pipeline gates");
    int k = 0, mi = 0, prev = 0;
    if (P > 1)
        s->st[k++] = (stage){ST_PP, 0, 0, -1, 0, -1}; /* stage 0's gate */
    for (int l = 0; l < s->layers_run; l++) {
        int moe = l < L ? (m->experts && m->layer_is_moe[l]) : (m->experts > 0);
        int ps = 0;
        while (l < L && ps + 1 < P && l >= s->par.pp_first[ps + 1])
            ps++;
        if (l >= L)
            ps = P - 1; /* the MTP module runs with the LM head, on the last stage */
        if (ps != prev) {
            s->st[k++] = (stage){ST_PP, 0, l, -1, 0, prev};
            s->gate_k[ps] = k - 1;
            prev = ps;
        }
        if (s->par.layout == IFB_LAYOUT_DP_EP) {
            s->st[k++] = (stage){ST_COMP, PART_PRE, l, moe ? mi : -1, 0, ps};
            if (moe) {
                s->st[k++] = (stage){ST_A2A, 0, l, mi, 0, ps};
                s->st[k++] = (stage){ST_COMP, PART_EXPERT, l, mi, 0, ps};
                s->st[k++] = (stage){ST_A2A, 0, l, mi, 1, ps};
                mi++;
            }
        } else if (s->par.layout == IFB_LAYOUT_DP_TP) {
            s->st[k++] = (stage){ST_COMP, PART_PRE, l, moe ? mi : -1, 0, ps};
            if (moe) { /* all-gather, the split MoE on every token of the group, reduce-scatter */
                s->st[k++] = (stage){ST_RING, 1, l, mi, 0, ps};
                s->st[k++] = (stage){ST_COMP, PART_TPMOE, l, mi, 0, ps};
                s->st[k++] = (stage){ST_RING, 1, l, mi, 1, ps};
                mi++;
            }
        } else {
            s->st[k++] = (stage){ST_COMP, PART_PRE, l, -1, 0, ps};
            s->st[k++] = (stage){ST_RING, 0, l, -1, 0, ps};
            s->st[k++] = (stage){ST_COMP, PART_MLP, l, moe ? mi : -1, 0, ps};
            s->st[k++] = (stage){ST_RING, 0, l, -1, 1, ps};
            if (moe)
                mi++;
        }
    }
    s->st[k++] = (stage){ST_COMP, PART_LM, L, -1, 0, P - 1};
    s->st[k++] = (stage){ST_DONE, 0, L, -1, 0, P - 1};
    s->K = k;
    s->nmoe = mi;
    s->moe_pp =
        ifb_xcalloc((size_t)(mi ? mi : 1), sizeof *s->moe_pp, "the MoE layers' pipeline stages");
    for (int j = 0; j < k; j++)
        if (s->st[j].moe >= 0)
            s->moe_pp[s->st[j].moe] = s->st[j].pp;
}

static void enter_stage(ifb_sv_eng *s, int r, int c);

static void advance(ifb_sv_eng *s, int r, int c)
{
    s->pos[r * s->C + c]++;
    enter_stage(s, r, c);
}

static void gpu_done_ev(ifb_sim *sim, void *obj, uint64_t arg);

static void gpu_start(ifb_sv_eng *s, int r, int c)
{
    int k = s->pos[r * s->C + c];
    ifb_time d = s->dur[idx3(s, k, r, c)];
    s->gpu_busy[r] = 1;
    s->busy_acc[r] += d;
    ifb_sim_after(s->sim, d, gpu_done_ev, s, (uint64_t)r * (uint64_t)s->C + (uint64_t)c);
}

static void gpu_done_ev(ifb_sim *sim, void *obj, uint64_t arg)
{
    sim->progress++; /* compute finishing is progress too, for the watchdog */
    (void)sim;
    ifb_sv_eng *s = obj;
    int r = (int)(arg / (uint64_t)s->C), c = (int)(arg % (uint64_t)s->C);
    s->gpu_busy[r] = 0;
    if (s->gpu_q[r * 2] >= 0) {
        int nc = s->gpu_q[r * 2];
        s->gpu_q[r * 2] = s->gpu_q[r * 2 + 1];
        s->gpu_q[r * 2 + 1] = -1;
        gpu_start(s, r, nc);
    }
    advance(s, r, c);
}

static void gpu_submit(ifb_sv_eng *s, int r, int c)
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

static void post(ifb_sv_eng *s, int src, int dst, uint64_t bytes, int tclass, slot *sl)
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

static ifb_xplan *plan_of(ifb_sv_eng *s, int g, const stage *st, int c)
{
    return &s->plans[(((size_t)g * s->nmoe + st->moe) * 2 + st->combine) * s->C + c];
}

static void post_stage(ifb_sv_eng *s, int k, int r, int c, int stage_no)
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

static void a2a_check(ifb_sv_eng *s, int k, int r, int c)
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
    ifb_sv_eng *s = sl->s;
    if (--s->inflight == 0)
        s->comm_acc += s->sim->now - s->comm_start;
    s->donek[idx3(s, sl->k, sl->r, sl->c)] = 1;
    advance(s, sl->r, sl->c);
}

/* Counts the bytes a replayed phase stands for, as if sent. */
static void account_replay(ifb_sv_eng *s, int k, int r, int c)
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

static void ring_try(ifb_sv_eng *s, int k, int r, int c)
{
    size_t i = idx3(s, k, r, c);
    int n = s->gsz, steps = 2 * (n - 1);
    if (!s->ready[i] || s->donek[i])
        return;
    int g = group_of(s, r), base = g * n;
    int next = base + (r - base + 1) % n;
    const tokset *t = &s->ts[r * s->C + c];
    uint64_t bytes = (uint64_t)tok_total(t) * (uint64_t)s->m->hidden * 2;
    if (s->st[k].part == 1) {
        /* dp-tp all-gather or reduce-scatter: n - 1 steps of one rank's share, every rank's
         * tokens padded to the group's largest (SGLang's DP-attention gather pads) */
        int mtp = s->st[k].layer >= s->m->layers;
        steps = n - 1;
        bytes = (uint64_t)s->grp_tok[((size_t)(mtp * s->ngroups + g) * s->C + c) * 2 + 1] *
                (uint64_t)s->m->hidden * 2 * (uint64_t)n;
    }
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

/* A pipeline boundary passes when the activations arrived (not at stage 0's gate) and this
 * rank's previous micro-batch has left its stage: micro-batches run one after another per
 * stage, as an inference pipeline schedules them (forward only). */
static void pp_try(ifb_sv_eng *s, int k, int r, int c)
{
    size_t i = idx3(s, k, r, c);
    if (!s->ready[i] || s->donek[i])
        return;
    if (s->recvf[i] < (s->st[k].pp >= 0 ? 1 : 0))
        return;
    if (c > 0 && !s->own_done[r * s->C + c - 1])
        return;
    s->donek[i] = 1;
    advance(s, r, c);
}

static void pp_own_done(ifb_sv_eng *s, int r, int c)
{
    s->own_done[r * s->C + c] = 1;
    if (c + 1 < s->C) {
        int k = s->gate_k[r / s->Rs];
        if (s->pos[r * s->C + c + 1] == k)
            pp_try(s, k, r, c + 1);
    }
}

/* Activations of one micro-batch to the same rank of the next stage: tokens x hidden x 2 B
 * (BF16); every TP rank holds the whole hidden state after the all-reduce and sends it to its
 * peer (ASSUMPTION: no scatter/gather split of the send). */
static void pp_send(ifb_sv_eng *s, int k, int r, int c)
{
    int peer = r + s->Rs;
    uint64_t bytes = (uint64_t)tok_total(&s->ts[r * s->C + c]) * (uint64_t)s->m->hidden * 2;
    if (bytes) {
        post(s, r, peer, bytes, IFB_TC_PP, &s->slotf[idx3(s, k, peer, c)]);
        return;
    }
    s->recvf[idx3(s, k, peer, c)]++; /* an empty micro-batch: nothing to send */
    if (s->pos[peer * s->C + c] == k)
        pp_try(s, k, peer, c);
}

/* Moves chain c of rank r past the stages other pipeline stages run and through boundaries;
 * returns 1 if the chain now waits at a boundary, 0 if its current stage is for the normal
 * path (one of its own, or the end). */
static int pp_pass(ifb_sv_eng *s, int r, int c)
{
    int p = r / s->Rs;
    for (;;) {
        int k = s->pos[r * s->C + c];
        const stage *st = &s->st[k];
        if (st->kind == ST_DONE) {
            if (p == s->P - 1)
                pp_own_done(s, r, c);
            return 0;
        }
        if (st->kind == ST_PP) {
            if (st->pp == p) {
                pp_send(s, k, r, c);
                pp_own_done(s, r, c);
            } else if (st->pp == p - 1) {
                s->ready[idx3(s, k, r, c)] = 1;
                pp_try(s, k, r, c);
                return 1;
            }
        } else if (st->pp == p) {
            return 0;
        }
        s->pos[r * s->C + c]++;
    }
}

/* A failed message names the GPU that cannot be reached: its destination, or its source when the
 * source's own NIC is down (ifb_msg_fail). A network that cannot tell (any other non-zero code)
 * has both ends scored, the destination twice; the dead GPU is the one the step's failures have
 * in common. */
static void note_failure(ifb_sv_eng *s, const ifb_msg_info *info)
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
    ifb_sv_eng *s = sl->s;
    if (info && info->failed) {
        /* counted as done so the step ends; ifb_sv_step_end marks the instance down */
        note_failure(s, info);
    } else if (info && info->tclass >= 0 && info->tclass < IFB_TC_COUNT) {
        ifb_summary_add(&s->sv->msg_time[info->tclass], (double)(info->done - info->start));
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
    else if (s->st[sl->k].kind == ST_PP)
        pp_try(s, sl->k, sl->r, sl->c);
    else
        a2a_check(s, sl->k, sl->r, sl->c);
}

static void enter_stage(ifb_sv_eng *s, int r, int c)
{
    if (s->P > 1 && pp_pass(s, r, c))
        return;
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
            ifb_sv_step_end(s);
        return;
    }
}

/* Redundant experts: each token copy (expert ids in s->experts, the EP group's ranks from
 * `first`, ntok[] tokens each) goes to one replica of its expert: one on the sender's server if
 * any, else any; among those the one with the fewest copies so far (ties: the lowest slot). */
static void pick_replicas(ifb_sv_eng *s, const ifb_eplb *pl, int first, const int *ntok, int n,
                          int topk)
{
    int G = s->par.gpus_per_server;
    memset(s->slot_cnt, 0, (size_t)pl->slots * sizeof *s->slot_cnt);
    size_t x = 0;
    for (int q = 0; q < n; q++) {
        int node = (first + q) / G;
        for (size_t end = x + (size_t)ntok[q] * (size_t)topk; x < end; x++) {
            int ex = s->experts[x], best = -1, best_local = 0;
            for (int i = pl->rep_off[ex]; i < pl->rep_off[ex + 1]; i++) {
                int sl = pl->rep[i];
                int local = (first + pl->slot_rank[sl]) / G == node;
                if (best < 0 || local > best_local ||
                    (local == best_local && s->slot_cnt[sl] < s->slot_cnt[best]))
                    best = sl, best_local = local;
            }
            s->slot_cnt[best]++;
            s->experts[x] = best;
        }
    }
}

/* Routing, plans and durations of every stage for the batch in s->ts. */
static void prepare_step(ifb_sv_eng *s)
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
        int *ntok = ifb_xcalloc((size_t)n, sizeof *ntok, "an EP group's token counts");
        for (int g = 0; g < s->ngroups; g++) {
            ifb_ep_group grp = {n, g * n, s->par.gpus_per_server, s->par.expert_rank};
            for (int mi = 0; mi < s->nmoe; mi++) {
                if (s->P > 1 && s->moe_pp[mi] != g * n / s->Rs)
                    continue; /* another pipeline stage's layer */
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
                    const int *map = s->par.expert_rank;
                    if (s->eplb) { /* expert -> one of its replicas' slots */
                        map = grp.expert_rank = s->eplb[mi].slot_rank;
                        pick_replicas(s, &s->eplb[mi], g * n, ntok, n, topk);
                    }
                    for (int q = 0; q < n; q++)
                        s->recv_copies[((size_t)mi * R + g * n + q) * C + c] = 0;
                    for (size_t x = 0; x < tot * (size_t)topk; x++)
                        s->recv_copies[((size_t)mi * R + g * n + map[s->experts[x]]) * C + c]++;
                    ifb_xplan *pd = &s->plans[(((size_t)g * s->nmoe + mi) * 2) * C + c];
                    ifb_xplan *pc = &s->plans[(((size_t)g * s->nmoe + mi) * 2 + 1) * C + c];
                    ifb_ep_count(pd, &grp, normal ? IFB_A2A_NORMAL : IFB_A2A_LOW_LATENCY, topk,
                                 ntok, s->experts);
                    ifb_ep_emit(pd, &grp, 0, (uint64_t)s->dbytes);
                    for (int q = 0; q < n; q++)
                        s->a2a_recv[g * n + q] += pd->recv[q];
                    ifb_ep_copy_counts(pc, pd, topk);
                    ifb_ep_emit(pc, &grp, 1, (uint64_t)s->cbytes);
                }
            }
        }
        free(ntok);
    }
    /* dp-tp: tokens of each group (the MoE runs on all of them), and its largest rank's */
    if (s->par.layout == IFB_LAYOUT_DP_TP) {
        for (int mt = 0; mt < 2; mt++)
            for (int g = 0; g < s->ngroups; g++)
                for (int c = 0; c < C; c++) {
                    int64_t sum = 0, mx = 0;
                    for (int r = g * s->gsz; r < (g + 1) * s->gsz; r++) {
                        int64_t v = tok_total(mt ? &s->ts_mtp[r * C + c] : &s->ts[r * C + c]);
                        sum += v;
                        mx = v > mx ? v : mx;
                    }
                    int64_t *o = &s->grp_tok[((size_t)(mt * s->ngroups + g) * C + c) * 2];
                    o[0] = sum;
                    o[1] = mx;
                }
    }
    /* Durations. */
    for (int r = 0; r < R; r++) {
        for (int c = 0; c < C; c++) {
            const tokset *t = &s->ts[r * C + c];
            const tokset *tm = &s->ts_mtp[r * C + c];
            int64_t T = tok_total(t), Tm = tok_total(tm);
            ifb_time at = ifb_sv_attn_time(s, t), atm = s->cfg.mtp ? ifb_sv_attn_time(s, tm) : 0;
            ifb_time ffn = ifb_sv_ffn_time(s, T);
            ifb_time sh = ifb_sv_shared_time(s, T), shm = ifb_sv_shared_time(s, Tm);
            ifb_time rt = m->experts ? ifb_sv_gemm(s, G_RT, T, m->hidden, m->experts) : 0;
            ifb_time rtm = m->experts ? ifb_sv_gemm(s, G_RT, Tm, m->hidden, m->experts) : 0;
            int prefill = t->pf > 0;
            for (int k = 0; k < s->K; k++) {
                const stage *st = &s->st[k];
                int is_mtp = st->layer >= m->layers && st->part != PART_LM;
                ifb_time d = 0;
                if (st->kind == ST_COMP) {
                    switch (st->part) {
                    case PART_PRE:
                        if (is_mtp) /* MTP module: eh_proj, attention, then its MoE */
                            d = atm + ifb_sv_gemm(s, G_EH, Tm, 2 * m->hidden, m->hidden) +
                                (s->par.layout == IFB_LAYOUT_DP_EP ? rtm : 0);
                        else if (s->par.layout == IFB_LAYOUT_TP)
                            d = at;
                        else if (s->par.layout == IFB_LAYOUT_DP_TP)
                            d = at + (st->moe >= 0 ? 0 : ffn);
                        else
                            d = at + (st->moe >= 0 ? rt : ffn);
                        break;
                    case PART_TPMOE: {
                        int g = group_of(s, r);
                        int64_t gt = s->grp_tok[((size_t)(is_mtp * s->ngroups + g) * C + c) * 2];
                        d = ifb_sv_tpmoe_time(s, gt, prefill);
                        break;
                    }
                    case PART_EXPERT: {
                        int64_t cp = s->recv_copies[((size_t)st->moe * R + r) * C + c];
                        d = (is_mtp ? shm : sh) + ifb_sv_routed_time(s, cp, prefill && normal);
                        break;
                    }
                    case PART_MLP:
                        if (st->moe >= 0)
                            d = (is_mtp ? rtm + shm : rt + sh) +
                                ifb_sv_routed_time(s, is_mtp ? Tm : T, prefill);
                        else
                            d = ffn;
                        break;
                    case PART_LM: {
                        int64_t nout = t->nd * t->q + t->pf_seqs;
                        d = ifb_sv_gemm(s, G_LM, nout, m->hidden, m->vocab / s->par.tp);
                        if (s->cfg.mtp)
                            d += ifb_sv_gemm(s, G_LM, tm->nd, m->hidden, m->vocab / s->par.tp);
                        break;
                    }
                    }
                }
                s->dur[idx3(s, k, r, c)] = d;
            }
        }
    }
}

/* Pipeline: micro-batch c's compute on stage p (per stage of the step program, the slowest
 * rank of that stage), then the forward schedule's critical path with an infinitely fast
 * network: f[p][c] = max(f[p][c - 1], f[p - 1][c]) + t[p][c]. Fills the step's per-stage
 * maxima and bubble. */
static ifb_time compute_only_pp(ifb_sv_eng *s, ifb_serving_step *cur)
{
    int P = s->P, C = s->C;
    memset(s->pp_t, 0, (size_t)P * C * sizeof *s->pp_t);
    for (int k = 0; k < s->K; k++) {
        const stage *st = &s->st[k];
        if (st->kind != ST_COMP)
            continue;
        for (int c = 0; c < C; c++) {
            ifb_time mx = 0;
            for (int r = st->pp * s->Rs; r < (st->pp + 1) * s->Rs; r++)
                if (s->dur[idx3(s, k, r, c)] > mx)
                    mx = s->dur[idx3(s, k, r, c)];
            s->pp_t[st->pp * C + c] += mx;
        }
    }
    ifb_time f[IFB_PP_MAX] = {0}, sum = 0;
    for (int c = 0; c < C; c++) {
        ifb_time mx = 0;
        for (int p = 0; p < P; p++) {
            ifb_time t = s->pp_t[p * C + c];
            f[p] = (p && f[p - 1] > f[p] ? f[p - 1] : f[p]) + t;
            if (t > mx)
                mx = t;
            if (t > cur->pp_stage[p])
                cur->pp_stage[p] = t;
        }
        sum += mx;
    }
    cur->pp_bubble = f[P - 1] - sum;
    return f[P - 1];
}

/* Critical path of the step with an infinitely fast network and no overlap. */
static ifb_time compute_only(ifb_sv_eng *s)
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

void ifb_sv_step_ev(ifb_sim *sim, void *obj, uint64_t arg)
{
    (void)sim;
    (void)arg;
    ifb_sv_start_step(obj);
}

void ifb_sv_start_step(ifb_sv_eng *s)
{
    if (s->sv->done)
        return;
    int R = s->R, C = s->C;
    int64_t q_tokens = s->cfg.mtp ? 2 : 1;
    s->nents = 0;
    for (int i = 0; i < s->par.dp; i++) {
        size_t first = s->nents;
        ifb_sv_schedule_instance(s, i, q_tokens);
        /* chains: alternate decode requests, prefill chunks to the lighter chain */
        int64_t load[2] = {0, 0};
        int alt = 0;
        for (size_t e = first; e < s->nents && C <= 2; e++) {
            batch_ent *b = &s->ents[e];
            if (C == 1)
                b->chain = 0;
            else if (b->decode)
                b->chain = alt++ & 1;
            else
                b->chain = load[1] < load[0];
            load[b->chain] += b->decode ? q_tokens : b->pf;
        }
        /* micro-batches of a pipeline: decode requests in turn, prefill chunks to the lightest */
        if (C > 2) {
            int64_t *ml = (int64_t *)s->pp_t; /* scratch: C loads */
            memset(ml, 0, (size_t)C * sizeof *ml);
            for (size_t e = first; e < s->nents; e++) {
                batch_ent *b = &s->ents[e];
                if (b->decode) {
                    b->chain = alt++ % C;
                } else {
                    b->chain = 0;
                    for (int x = 1; x < C; x++)
                        if (ml[x] < ml[b->chain])
                            b->chain = x;
                }
                ml[b->chain] += b->decode ? q_tokens : b->pf;
            }
        }
    }
    if (s->nents == 0) {
        s->idle = 1;
        ifb_sv_check_idle(s->sv);
        return;
    }
    s->idle = 0;
    memset(s->ts, 0, (size_t)R * C * sizeof *s->ts);
    memset(s->ts_mtp, 0, (size_t)R * C * sizeof *s->ts_mtp);
    ifb_serving_step *cur = &s->cur;
    memset(cur, 0, sizeof *cur);
    for (size_t e = 0; e < s->nents; e++) {
        const batch_ent *b = &s->ents[e];
        ifb_serving_req *rq = &s->sv->req[b->req];
        if (b->decode && rq->decode_start == IFB_TIME_NEVER && s->role == IFB_ROLE_DECODE)
            rq->decode_start = s->sim->now;
        int inst = rq->instance;
        for (int x = 0; x < s->P * s->par.tp; x++) {
            int r = (x / s->par.tp) * s->Rs + inst * s->par.tp + x % s->par.tp;
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
    cur->index = s->sv->nsteps;
    cur->engine = s->index;
    cur->start = s->sim->now;
    cur->normal_a2a = s->normal_step;
    cur->compute_only = s->P > 1 ? compute_only_pp(s, cur) : compute_only(s);
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
    memset(s->own_done, 0, (size_t)R * C);
    memset(s->busy_acc, 0, (size_t)R * sizeof *s->busy_acc);
    s->chains_done = 0;
    s->comm_acc = 0;
    s->step_start = s->sim->now;
    s->running_step = 1;
    for (int r = 0; r < R; r++)
        for (int c = 0; c < C; c++)
            enter_stage(s, r, c);
}
