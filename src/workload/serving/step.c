/* Execution of a step's program (prepare.c builds it) on every GPU of an engine: compute as a
 * timed busy period on the GPU's timeline (two chains interleave with two-batch overlap),
 * communication as messages through the message API; a rank's next stage waits on the messages
 * it needs. DeepEP's kernels (ifb_deepep_cfg): in low-latency mode every rank sends each rank of
 * its group its token copies and a count signal (folded into the data message's last packet
 * when there is data, alone otherwise), a receiver is done when it has one message from every
 * rank, and a message is not complete before the sender's GPU has posted every WQE of the phase
 * (one per remote token copy at wqe_rate: the per-token RDMA writes as an equivalent gate on the
 * aggregated message, whose bytes are the same); in normal mode a relay forwards over NVLink in
 * `chunks` pieces as the RDMA pieces arrive. With single-batch overlap an all-to-all stage runs
 * a side compute on the GPU (the shared experts during the dispatch, the down GEMM during the
 * combine, whose messages leave in sbo_parts pieces as it progresses) and ends when both are
 * done. Sampled fidelity replays the latest simulated phase's per-rank latency after the
 * barrier.
 * Leaves out: stragglers between EP groups (all instances of an engine start a step together
 * and the step ends when every GPU of the engine is done), the normal kernels' count exchange
 * before the data (its latency is small against a prefill step; the barrier stands for it), and
 * DeepEP's per-message headers. Zero-token ranks still take part in every all-to-all (idle DP
 * ranks run empty batches, as in SGLang). */
#include <math.h>

#include "workload/serving/internal.h"

static void enter_stage(ifb_sv_eng *s, int r, int c);

static void advance(ifb_sv_eng *s, int r, int c)
{
    if (s->sv->tl)
        ifb_sv_tl_leave(s, r, c, s->pos[r * s->C + c]);
    s->pos[r * s->C + c]++;
    enter_stage(s, r, c);
}

static void gpu_done_ev(ifb_sim *sim, void *obj, uint64_t arg);
static void a2a_check(ifb_sv_eng *s, int k, int r, int c);
static void replay_try(ifb_sv_eng *s, int k, int r, int c);

static void gpu_start(ifb_sv_eng *s, int r, int c)
{
    int k = s->pos[r * s->C + c];
    ifb_time d = s->dur[idx3(s, k, r, c)];
    s->gpu_busy[r] = 1;
    s->busy_acc[r] += d;
    if (s->sv->tl)
        s->tl_gpu_t[r] = s->sim->now;
    ifb_sim_after(s->sim, d, gpu_done_ev, s, (uint64_t)r * (uint64_t)s->C + (uint64_t)c);
}

static void gpu_done_ev(ifb_sim *sim, void *obj, uint64_t arg)
{
    sim->progress++; /* compute finishing is progress too, for the watchdog */
    (void)sim;
    ifb_sv_eng *s = obj;
    int r = (int)(arg / (uint64_t)s->C), c = (int)(arg % (uint64_t)s->C);
    s->gpu_busy[r] = 0;
    if (s->sv->tl)
        ifb_sv_tl_compute(s, r, s->pos[r * s->C + c]);
    if (s->gpu_q[r * 2] >= 0) {
        int nc = s->gpu_q[r * 2];
        s->gpu_q[r * 2] = s->gpu_q[r * 2 + 1];
        s->gpu_q[r * 2 + 1] = -1;
        gpu_start(s, r, nc);
    }
    int k = s->pos[r * s->C + c];
    if (s->st[k].kind == ST_A2A) { /* an SBO stage's side compute */
        s->sidedone[idx3(s, k, r, c)] = 1;
        if (s->replay[k])
            replay_try(s, k, r, c);
        else
            a2a_check(s, k, r, c);
        return;
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

/* Returns 1 when the message went onto the network, 0 when it was skipped (a GPU down). */
static int post(ifb_sv_eng *s, int src, int dst, uint64_t bytes, int tclass, slot *sl)
{
    if (s->inflight++ == 0)
        s->comm_start = s->sim->now;
    if (s->rank_down[src] || s->rank_down[dst]) {
        /* a GPU that is down: nothing is sent, the phase goes on without it (ASSUMPTION) */
        ifb_sim_after(s->sim, 0, skipped_ev, sl, 0);
        return 0;
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
    return 1;
}

static ifb_xplan *plan_of(ifb_sv_eng *s, int g, const stage *st, int c)
{
    return &s->plans[(((size_t)g * s->nmoe + st->moe) * 2 + st->combine) * s->C + c];
}

/* Pieces a message of stage k is cut into: normal mode's relay hops and forwards, an SBO
 * combine's low-latency messages. */
static int pieces(const ifb_sv_eng *s, const stage *st)
{
    if (s->normal_step)
        return s->cfg.deepep.chunks;
    return s->cfg.overlap == IFB_OVERLAP_SBO && st->combine ? s->sbo_parts : 1;
}

static uint64_t piece_bytes(uint64_t b, int n, int j)
{
    uint64_t q = b / (uint64_t)n, rem = b % (uint64_t)n;
    uint64_t v = q + ((uint64_t)j < rem ? 1 : 0);
    return v ? v : 1;
}

/* Low-latency: messages and count signals each rank receives from the others. */
static int ll_expected(const ifb_sv_eng *s, const ifb_xplan *p, int gr, int parts)
{
    int e = p->expf[gr] * parts;
    if (s->cfg.deepep.signals)
        e += s->gsz - 1 - p->expf[gr];
    return e;
}

/* Piece j (of n) of rank r's messages of stage_no, destinations in staggered order (r + 1, r + 2,
 * ...: senders do not all start on the same receiver, as NCCL and DeepEP's channels spread
 * them); the last piece of a low-latency phase also carries the count signals (and sends them
 * alone to ranks that get no data). */
static int post_piece(ifb_sv_eng *s, int k, int r, int c, int stage_no, int j, int n)
{
    int sent = 0;
    const stage *st = &s->st[k];
    int g = group_of(s, r), base = g * s->gsz, gr = r - base;
    ifb_xplan *p = plan_of(s, g, st, c);
    int ll = !s->normal_step, sig = ll && s->cfg.deepep.signals && j == n - 1;
    uint64_t sb = s->cfg.deepep.signal_bytes;
    size_t a = p->first[gr * 2 + stage_no], b = p->first[gr * 2 + stage_no + 1], i0 = a;
    while (i0 < b && p->x[i0].dst <= gr)
        i0++;
    size_t m = b - a, done = 0;
    if (!ll) { /* normal mode: every message in staggered order (a combine's stage 0 can hold a
                  direct copy and a relay hop to one rank) */
        for (size_t t = 0; t < m; t++) {
            const ifb_xfer *x = &p->x[a + (i0 - a + t) % m];
            slot *sl = x->final ? &s->slotf[idx3(s, k, base + x->dst, c)]
                                : &s->slot0[idx3(s, k, base + x->dst, c)];
            sent += post(s, r, base + x->dst, piece_bytes(x->bytes, n, j), IFB_TC_A2A, sl);
        }
        return sent;
    }
    for (int step = 1; step < s->gsz; step++) { /* low latency: at most one message per rank */
        int q = (gr + step) % s->gsz;
        const ifb_xfer *x = NULL;
        if (done < m) {
            size_t i = a + (i0 - a + done) % (m ? m : 1);
            if (p->x[i].dst == q) {
                x = &p->x[i];
                done++;
            }
        }
        if (x) {
            slot *sl =
                x->final ? &s->slotf[idx3(s, k, base + q, c)] : &s->slot0[idx3(s, k, base + q, c)];
            sent +=
                post(s, r, base + q, piece_bytes(x->bytes, n, j) + (sig ? sb : 0), IFB_TC_A2A, sl);
        } else if (sig) {
            sent += post(s, r, base + q, sb, IFB_TC_A2A, &s->slotf[idx3(s, k, base + q, c)]);
        }
    }
    return sent;
}

/* WQE posting gate of a low-latency phase: rank r's messages complete no earlier than the time
 * its GPU has posted one WQE per token copy to another server. */
static void set_gate(ifb_sv_eng *s, int k, int r, int c)
{
    if (!(s->cfg.deepep.wqe_rate > 0)) { /* 0: posting is free */
        s->gate_t[idx3(s, k, r, c)] = 0;
        return;
    }
    const stage *st = &s->st[k];
    int g = group_of(s, r), base = g * s->gsz, gr = r - base;
    ifb_xplan *p = plan_of(s, g, st, c);
    uint64_t bpc = (uint64_t)(st->combine ? s->cbytes : s->dbytes), copies = 0;
    for (size_t i = p->first[gr * 2]; i < p->first[gr * 2 + 1]; i++)
        if (ifb_parallel_server(&s->par, r) != ifb_parallel_server(&s->par, base + p->x[i].dst))
            copies += p->x[i].bytes / bpc;
    s->gate_t[idx3(s, k, r, c)] =
        s->sim->now + (ifb_time)llround((double)copies / s->cfg.deepep.wqe_rate * 1e12);
}

static void sbo_release_ev(ifb_sim *sim, void *obj, uint64_t arg)
{
    (void)sim;
    ifb_sv_eng *s = obj;
    size_t i = (size_t)(arg >> 9);
    int j = (int)(arg & 511);
    int c = (int)(i % (size_t)s->C), r = (int)(i / (size_t)s->C % (size_t)s->R);
    int k = (int)(i / ((size_t)s->C * (size_t)s->R));
    post_piece(s, k, r, c, 0, j, s->sbo_parts);
}

/* Normal mode: rank r posts its next rounds of pieces while at most two rounds are in flight
 * (DeepEP's chunked send/receive buffers hold several chunks; ASSUMPTION: three rounds), so a
 * sender does not reserve its receivers' links far ahead of the other senders. */
static void rounds_more(ifb_sv_eng *s, int k, int r, int c)
{
    size_t i = idx3(s, k, r, c);
    int n = pieces(s, &s->st[k]);
    while (s->rounds[i] < n && s->outmsgs[i] <= 2 * s->per_round[i]) {
        int m = post_piece(s, k, r, c, 0, s->rounds[i]++, n);
        s->per_round[i] = m;
        s->outmsgs[i] += m;
    }
}

/* A normal-mode message of rank src's phase k arrived (or failed). */
static void round_done(ifb_sv_eng *s, int k, int src, int c)
{
    size_t i = idx3(s, k, src, c);
    s->outmsgs[i]--;
    rounds_more(s, k, src, c);
}

/* A rank reaches a (not replayed) all-to-all stage: its stage-0 messages go out. */
static void a2a_start(ifb_sv_eng *s, int k, int r, int c)
{
    const stage *st = &s->st[k];
    size_t i = idx3(s, k, r, c);
    int n = pieces(s, st);
    if (!s->normal_step)
        set_gate(s, k, r, c);
    if (!s->normal_step && n > 1) { /* SBO combine: pieces as the down GEMM produces them */
        ifb_time d = s->dur[i];
        for (int j = 0; j < n; j++)
            ifb_sim_after(s->sim, d * (ifb_time)(j + 1) / n, sbo_release_ev, s,
                          ((uint64_t)i << 9) | (uint64_t)j);
        return;
    }
    /* normal mode: one round of pieces (one to every destination) at a time, the next when the
     * sender's messages of this phase are all through: a sender does not reserve its
     * receivers' links far ahead of the other senders (DeepEP's chunked buffers) */
    s->rounds[i] = 0;
    s->outmsgs[i] = 0;
    rounds_more(s, k, r, c);
}

static void a2a_check(ifb_sv_eng *s, int k, int r, int c)
{
    size_t i = idx3(s, k, r, c);
    if (!s->ready[i] || s->donek[i])
        return;
    const stage *st = &s->st[k];
    int g = group_of(s, r), gr = r - g * s->gsz;
    ifb_xplan *p = plan_of(s, g, st, c);
    int n = pieces(s, st);
    int e0, ef;
    if (s->normal_step) {
        /* the relay forwards piece j once j pieces' worth of the RDMA hops arrived */
        while (s->sent[i] < n && s->recv0[i] >= (s->sent[i] + 1) * p->exp0[gr])
            s->outmsgs[i] += post_piece(s, k, r, c, 1, s->sent[i]++, n);
        e0 = p->exp0[gr] * n;
        ef = p->expf[gr] * n; /* direct copies and forwards, each in n pieces */
    } else {
        e0 = 0;
        ef = ll_expected(s, p, gr, n);
    }
    size_t gi = ((size_t)k * s->ngroups + g) * s->C + c;
    if (s->recv0[i] == e0 && s->recvf[i] == ef && s->readycnt[gi] == s->gsz) {
        int kind = st->combine + 2 * s->normal_step;
        if (s->sent[i] >= 0) { /* the communication's own latency, once */
            s->delta[((size_t)kind * s->R + r) * s->C + c] = s->sim->now - s->barrier[gi];
            s->have_delta[kind] = 1;
            s->sent[i] = -1;
        }
        if (s->dur[i] > 0 && !s->sidedone[i])
            return; /* the side compute is still running */
        s->donek[i] = 1;
        advance(s, r, c);
    }
}

/* A replayed phase is done when its latency has passed and its side compute is over. */
static void replay_try(ifb_sv_eng *s, int k, int r, int c)
{
    size_t i = idx3(s, k, r, c);
    if (s->donek[i] || s->sent[i] != -1 || (s->dur[i] > 0 && !s->sidedone[i]))
        return;
    s->donek[i] = 1;
    advance(s, r, c);
}

static void replay_ev(ifb_sim *sim, void *obj, uint64_t arg)
{
    (void)sim;
    (void)arg;
    slot *sl = obj;
    ifb_sv_eng *s = sl->s;
    if (--s->inflight == 0)
        s->comm_acc += s->sim->now - s->comm_start;
    s->sent[idx3(s, sl->k, sl->r, sl->c)] = -1;
    replay_try(s, sl->k, sl->r, sl->c);
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
    if (!s->normal_step && s->cfg.deepep.signals) /* a count signal to every other rank */
        for (int q = base; q < base + s->gsz; q++) {
            if (q == r)
                continue;
            uint64_t sb = s->cfg.deepep.signal_bytes;
            s->cur.bytes[IFB_TC_A2A] += sb;
            if (ifb_parallel_server(&s->par, r) == ifb_parallel_server(&s->par, q))
                s->cur.nvlink_bytes += sb;
            else
                s->cur.nic_bytes += sb;
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
    const tokset *t = ts_of(s, s->st[k].pass, r, c);
    uint64_t bytes = (uint64_t)tok_total(t) * (uint64_t)s->m->hidden * 2;
    if (s->st[k].part == 1) {
        /* dp-tp all-gather or reduce-scatter: n - 1 steps of one rank's share, every rank's
         * tokens padded to the group's largest (SGLang's DP-attention gather pads) */
        int pi = s->st[k].pass + 1;
        steps = n - 1;
        bytes = (uint64_t)s->grp_tok[((size_t)(pi * s->ngroups + g) * s->C + c) * 2 + 1] *
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

static void arrive(ifb_sv_eng *s, slot *sl)
{
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

static void gated_ev(ifb_sim *sim, void *obj, uint64_t arg)
{
    (void)sim;
    (void)arg;
    slot *sl = obj;
    arrive(sl->s, sl);
}

static void msg_cb(ifb_sim *sim, void *ctx, const ifb_msg_info *info)
{
    (void)sim;
    slot *sl = ctx;
    ifb_sv_eng *s = sl->s;
    if (info && info->failed) {
        /* counted as done so the step ends; ifb_sv_step_end marks the instance down */
        note_failure(s, info);
        int src = info->src >= 0 && info->src < s->nep ? s->rank_of_ep[info->src] : -1;
        if (info->tclass == IFB_TC_A2A && s->normal_step && src >= 0 &&
            s->st[sl->k].kind == ST_A2A && !s->replay[sl->k])
            round_done(s, sl->k, src, sl->c);
    } else if (info && info->tclass >= 0 && info->tclass < IFB_TC_COUNT) {
        ifb_summary_add(&s->sv->msg_time[info->tclass], (double)(info->done - info->start));
        if (s->sv->tl && info->tclass == IFB_TC_A2A)
            ifb_sv_tl_a2a_msg(s, sl, info);
        /* low latency: not complete before the sender has posted the phase's WQEs */
        int src = info->src >= 0 && info->src < s->nep ? s->rank_of_ep[info->src] : -1;
        if (info->tclass == IFB_TC_A2A && s->normal_step && src >= 0 &&
            s->st[sl->k].kind == ST_A2A && !s->replay[sl->k])
            round_done(s, sl->k, src, sl->c);
        if (info->tclass == IFB_TC_A2A && !s->normal_step && src >= 0 &&
            s->st[sl->k].kind == ST_A2A) {
            ifb_time gate = s->gate_t[idx3(s, sl->k, src, sl->c)];
            if (gate > s->sim->now) {
                ifb_sim_at(s->sim, gate, gated_ev, sl, 0);
                return;
            }
        }
    }
    arrive(s, sl);
}

static void enter_stage(ifb_sv_eng *s, int r, int c)
{
    if (s->P > 1 && pp_pass(s, r, c))
        return;
    int k = s->pos[r * s->C + c];
    const stage *st = &s->st[k];
    size_t i = idx3(s, k, r, c);
    if (s->sv->tl)
        ifb_sv_tl_enter(s, r, c, k);
    switch (st->kind) {
    case ST_COMP:
        gpu_submit(s, r, c);
        return;
    case ST_A2A: {
        s->ready[i] = 1;
        int g = group_of(s, r);
        size_t gi = ((size_t)k * s->ngroups + g) * s->C + c;
        int *cnt = &s->readycnt[gi];
        if (s->dur[i] > 0) /* SBO: the side compute starts with the phase */
            gpu_submit(s, r, c);
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
        a2a_start(s, k, r, c);
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
    int64_t q_tokens = s->q_dec;
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
    if (s->npass)
        memset(s->ts_mtp, 0, (size_t)s->npass * R * C * sizeof *s->ts_mtp);
    ifb_serving_step *cur = &s->cur;
    memset(cur, 0, sizeof *cur);
    cur->prefix_hit_tokens = s->pc_step_hits;
    s->pc_step_hits = 0;
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
                /* draft steps: topk tokens per request; the extend pass: the verified ones */
                for (int p = 0; p < s->npass; p++) {
                    tokset *tm = &s->ts_mtp[((size_t)p * R + r) * C + b->chain];
                    tm->nd++;
                    tm->q = p < s->npass - 1 ? s->cfg.mtp.topk : q_tokens;
                    tm->ctx_sum += ctx;
                }
            } else {
                double pairs =
                    (double)b->pf * (double)b->prefix + (double)b->pf * (double)(b->pf + 1) / 2;
                t->pf += b->pf;
                t->pf_seqs++;
                t->pf_prefix += b->prefix;
                t->pf_pairs += pairs;
                if (s->npass) { /* the draft extends over the prefilled chunk too */
                    tokset *tm = &s->ts_mtp[((size_t)(s->npass - 1) * R + r) * C + b->chain];
                    tm->pf += b->pf;
                    tm->pf_seqs++;
                    tm->pf_prefix += b->prefix;
                    tm->pf_pairs += pairs;
                }
            }
        }
        if (b->decode) {
            cur->decode_tokens += q_tokens;
            cur->decode_seqs++;
        } else {
            cur->prefill_tokens += b->pf;
        }
    }
    for (int i = 0; i < R * C; i++) {
        if (!s->ts[i].q)
            s->ts[i].q = q_tokens;
        for (int p = 0; p < s->npass; p++) {
            tokset *tm = &s->ts_mtp[(size_t)p * R * C + i];
            if (!tm->q)
                tm->q = p < s->npass - 1 ? s->cfg.mtp.topk : q_tokens;
        }
    }
    ifb_sv_prepare_step(s);
    /* Fidelity: which all-to-all phases run on the network this step. */
    for (int k = 0; k < s->K; k++) {
        const stage *st = &s->st[k];
        int kind = st->combine + 2 * s->normal_step;
        int mtp_layer = st->moe >= s->nmoe_main;
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
    cur->compute_only = ifb_sv_compute_only(s, cur);
    for (int i = 0; i < s->par.dp; i++)
        cur->running += (int64_t)s->inst[i].rn;
    size_t n3 = (size_t)s->K * R * C;
    memset(s->recv0, 0, n3 * sizeof *s->recv0);
    memset(s->recvf, 0, n3 * sizeof *s->recvf);
    memset(s->ready, 0, n3 * sizeof *s->ready);
    memset(s->sent, 0, n3 * sizeof *s->sent);
    memset(s->donek, 0, n3 * sizeof *s->donek);
    memset(s->sidedone, 0, n3);
    memset(s->rounds, 0, n3 * sizeof *s->rounds);
    memset(s->outmsgs, 0, n3 * sizeof *s->outmsgs);
    memset(s->per_round, 0, n3 * sizeof *s->per_round);
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
