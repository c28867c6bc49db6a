/* A step's program and its preparation: the stage list (per layer compute, EP all-to-all or ring
 * collectives, pipeline boundaries, the MTP draft passes, the LM head), the routing and
 * all-to-all plans of a step, and the duration of every compute stage on every rank, split into
 * the terms of the step breakdown (ifb_serving_step.term). The execution is in step.c.
 * MTP (ifb_mtp_cfg): the main model verifies draft_tokens tokens per decoding request; after it
 * run `steps` draft passes of the model's MTP layer (topk tokens per request each) and one
 * draft-extend pass over draft_tokens tokens per request (and over the prefill chunks, as
 * SGLang's draft extend does after a prefill), each with its own MoE all-to-alls and LM head.
 * Single-batch overlap (SBO, low-latency steps of dp-ep): the shared experts are the side
 * compute of the dispatch stage, the routed experts' down GEMM (and the combine's send copy)
 * the side compute of the combine stage, whose messages go out in pieces as it progresses; the
 * expert stage holds the gate/up GEMM and the activation.
 * Leaves out: draft positions beyond the request's context in the draft passes' attention (a
 * few tokens), and tree attention masks with topk > 1 (a pass of topk tokens per request). */
#include "workload/serving/internal.h"

const char *const ifb_serving_term_names[IFB_TERM_N] = {
    "attention", "dense_ffn",   "router",      "shared_experts", "routed_experts", "lm_head",
    "mtp_draft", "elementwise", "launch_gaps", "sampling",       "deepep_gpu",     "fixed"};

void ifb_sv_build_program(ifb_sv_eng *s)
{
    const ifb_model *m = s->m;
    int L = (int)m->layers, P = s->P;
    s->npass = s->cfg.mtp.on ? s->cfg.mtp.steps + 1 : 0;
    s->layers_run = L + s->npass;
    s->st = ifb_xcalloc((size_t)(s->layers_run * 4 + 2 + P), sizeof *s->st,
                        "the step program's stages");
    s->gate_k = ifb_xcalloc((size_t)P, sizeof *s->gate_k, "the pipeline gates");
    int k = 0, mi = 0, prev = 0;
    if (P > 1)
        s->st[k++] = (stage){ST_PP, 0, -1, 0, -1, 0, -1}; /* stage 0's gate */
    for (int l = 0; l < s->layers_run; l++) {
        int moe = l < L ? (m->experts && m->layer_is_moe[l]) : (m->experts > 0);
        int8_t pass = (int8_t)(l < L ? -1 : l - L);
        if (l == L)
            s->nmoe_main = mi;
        int ps = 0;
        while (l < L && ps + 1 < P && l >= s->par.pp_first[ps + 1])
            ps++;
        if (l >= L)
            ps = P - 1; /* the MTP module runs with the LM head, on the last stage */
        if (ps != prev) {
            s->st[k++] = (stage){ST_PP, 0, pass, l, -1, 0, prev};
            s->gate_k[ps] = k - 1;
            prev = ps;
        }
        if (s->par.layout == IFB_LAYOUT_DP_EP) {
            s->st[k++] = (stage){ST_COMP, PART_PRE, pass, l, moe ? mi : -1, 0, ps};
            if (moe) {
                s->st[k++] = (stage){ST_A2A, 0, pass, l, mi, 0, ps};
                s->st[k++] = (stage){ST_COMP, PART_EXPERT, pass, l, mi, 0, ps};
                s->st[k++] = (stage){ST_A2A, 0, pass, l, mi, 1, ps};
                mi++;
            }
        } else if (s->par.layout == IFB_LAYOUT_DP_TP) {
            s->st[k++] = (stage){ST_COMP, PART_PRE, pass, l, moe ? mi : -1, 0, ps};
            if (moe) { /* all-gather, the split MoE on every token of the group, reduce-scatter */
                s->st[k++] = (stage){ST_RING, 1, pass, l, mi, 0, ps};
                s->st[k++] = (stage){ST_COMP, PART_TPMOE, pass, l, mi, 0, ps};
                s->st[k++] = (stage){ST_RING, 1, pass, l, mi, 1, ps};
                mi++;
            }
        } else {
            s->st[k++] = (stage){ST_COMP, PART_PRE, pass, l, -1, 0, ps};
            s->st[k++] = (stage){ST_RING, 0, pass, l, -1, 0, ps};
            s->st[k++] = (stage){ST_COMP, PART_MLP, pass, l, moe ? mi : -1, 0, ps};
            s->st[k++] = (stage){ST_RING, 0, pass, l, -1, 1, ps};
            if (moe)
                mi++;
        }
    }
    if (!s->npass)
        s->nmoe_main = mi;
    s->st[k++] = (stage){ST_COMP, PART_LM, -1, L, -1, 0, P - 1};
    s->st[k++] = (stage){ST_DONE, 0, -1, L, -1, 0, P - 1};
    s->K = k;
    s->nmoe = mi;
    s->moe_pp =
        ifb_xcalloc((size_t)(mi ? mi : 1), sizeof *s->moe_pp, "the MoE layers' pipeline stages");
    for (int j = 0; j < k; j++)
        if (s->st[j].moe >= 0)
            s->moe_pp[s->st[j].moe] = s->st[j].pp;
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

/* Routing and all-to-all plans per EP group, MoE layer and chain (dp-ep). */
static void plan_all_to_alls(ifb_sv_eng *s, int normal)
{
    const ifb_model *m = s->m;
    int R = s->R, C = s->C, n = s->gsz, topk = (int)m->experts_per_tok;
    int *ntok = ifb_xcalloc((size_t)n, sizeof *ntok, "an EP group's token counts");
    for (int g = 0; g < s->ngroups; g++) {
        ifb_ep_group grp = {n, g * n, s->par.gpus_per_server, s->par.expert_rank};
        for (int mi = 0; mi < s->nmoe; mi++) {
            if (s->P > 1 && s->moe_pp[mi] != g * n / s->Rs)
                continue; /* another pipeline stage's layer */
            int pass = mi >= s->nmoe_main ? mi - s->nmoe_main : -1;
            for (int c = 0; c < C; c++) {
                size_t tot = 0;
                for (int q = 0; q < n; q++) {
                    ntok[q] = (int)tok_total(ts_of(s, pass, g * n + q, c));
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
                size_t pi = (((size_t)g * s->nmoe + mi) * 2) * C + c;
                ifb_xplan *pd = &s->plans[pi], *pc = &s->plans[pi + C];
                ifb_ep_count(pd, &grp, normal ? IFB_A2A_NORMAL : IFB_A2A_LOW_LATENCY, topk, ntok,
                             s->experts);
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

typedef struct terms {
    ifb_time t[IFB_TERM_N];
} terms;

static ifb_time terms_sum(const terms *x)
{
    ifb_time v = 0;
    for (int i = 0; i < IFB_TERM_N; i++)
        v += x->t[i];
    return v;
}

/* The LM head and sampler of MTP pass p: topk logits per request in a draft step, one (the next
 * draft's first) after the extend pass; the draft's sampler is a top-k (one pass). */
static ifb_time draft_lm(ifb_sv_eng *s, const tokset *tm, int p, int *nk)
{
    if (!tm->nd)
        return 0;
    int64_t rows = tm->nd * (p < s->cfg.mtp.steps ? s->cfg.mtp.topk : 1);
    return ifb_sv_gemm(s, G_LM, rows, s->m->hidden, s->m->vocab / s->par.tp) +
           ifb_sv_sampling(s, rows, 1, nk);
}

/* Terms of stage k (a compute stage, or an SBO all-to-all's side compute) for chain c of rank r;
 * graph: this rank replays a CUDA graph. */
static void stage_terms(ifb_sv_eng *s, int k, int r, int c, int normal, int graph, terms *x)
{
    const ifb_model *m = s->m;
    const stage *st = &s->st[k];
    int mtp = st->pass >= 0, sbo = s->cfg.overlap == IFB_OVERLAP_SBO && !normal;
    const tokset *t = ts_of(s, st->pass, r, c);
    int64_t T = tok_total(t);
    int prefill = s->ts[r * s->C + c].pf > 0;
    int nk = 0;
    memset(x, 0, sizeof *x);
    s->kcount = 0;
    int dpep = s->par.layout == IFB_LAYOUT_DP_EP;
    if (st->kind == ST_A2A) {
        if (!sbo)
            return;
        int64_t cp = s->recv_copies[((size_t)st->moe * s->R + r) * s->C + c];
        if (!st->combine) {
            x->t[IFB_TERM_SHARED] = ifb_sv_shared_time(s, T);
        } else {
            ifb_time up, down, before, after;
            ifb_sv_routed_parts(s, cp, 0, &up, &down);
            x->t[IFB_TERM_ROUTED] = down;
            ifb_sv_deepep_gpu(s, 1, T, cp, T * m->experts_per_tok, &before, &after);
            x->t[IFB_TERM_DEEPEP] = before;
        }
    } else if (st->part == PART_PRE) {
        x->t[IFB_TERM_ATTN] = ifb_sv_attn_time(s, t);
        x->t[IFB_TERM_ELEMENTWISE] = ifb_sv_elem_attn(s, T, &nk);
        if (mtp) { /* eh_proj over [embedding; hidden] with its two RMSNorms */
            x->t[IFB_TERM_ATTN] += ifb_sv_gemm(s, G_EH, T, 2 * m->hidden, m->hidden);
            x->t[IFB_TERM_ELEMENTWISE] += 2 * ifb_sv_elem_norm(s, T, m->hidden, &nk);
            if (st->pass > 0) /* the previous pass's LM head */
                x->t[IFB_TERM_LM_HEAD] +=
                    draft_lm(s, ts_of(s, st->pass - 1, r, c), st->pass - 1, &nk);
        }
        if (dpep || s->par.layout == IFB_LAYOUT_DP_TP) {
            if (st->moe < 0) { /* a dense layer in full on this rank */
                x->t[IFB_TERM_DENSE] = ifb_sv_ffn_time(s, T);
                x->t[IFB_TERM_ELEMENTWISE] += ifb_sv_elem_ffn(s, T, 0, 0, &nk);
            } else if (dpep) {
                x->t[IFB_TERM_ROUTER] = ifb_sv_gemm(s, G_RT, T, m->hidden, m->experts);
            }
        }
        if (dpep && st->moe >= 0) { /* DeepEP's cast and packing before the dispatch */
            int64_t cp = s->recv_copies[((size_t)st->moe * s->R + r) * s->C + c];
            ifb_time before, after;
            ifb_sv_deepep_gpu(s, 0, T, T * m->experts_per_tok, cp, &before, &after);
            x->t[IFB_TERM_DEEPEP] = before;
        }
    } else if (st->part == PART_EXPERT) {
        int64_t cp = s->recv_copies[((size_t)st->moe * s->R + r) * s->C + c];
        ifb_time up, down, before, after, cb, ca;
        ifb_sv_routed_parts(s, cp, prefill && normal, &up, &down);
        ifb_sv_deepep_gpu(s, 0, T, T * m->experts_per_tok, cp, &before, &after);
        ifb_sv_deepep_gpu(s, 1, T, cp, T * m->experts_per_tok, &cb, &ca);
        x->t[IFB_TERM_DEEPEP] = after + (sbo ? 0 : cb);
        /* a pipeline boundary right after the combine: its reduction is costed here */
        if (k + 2 < s->K && s->st[k + 2].kind != ST_COMP)
            x->t[IFB_TERM_DEEPEP] += ca;
        x->t[IFB_TERM_ROUTED] = up + (sbo ? 0 : down);
        x->t[IFB_TERM_SHARED] = sbo ? 0 : ifb_sv_shared_time(s, T);
        x->t[IFB_TERM_ELEMENTWISE] = ifb_sv_elem_ffn(s, T, 1, cp, &nk);
    } else if (st->part == PART_TPMOE) {
        int g = group_of(s, r);
        int64_t gt = s->grp_tok[((size_t)((st->pass + 1) * s->ngroups + g) * s->C + c) * 2];
        ifb_time rt = gt > 0 ? ifb_sv_gemm(s, G_RT, gt, m->hidden, m->experts) : 0;
        x->t[IFB_TERM_ROUTER] = rt;
        x->t[IFB_TERM_ROUTED] = ifb_sv_tpmoe_time(s, gt, prefill) - rt;
        x->t[IFB_TERM_ELEMENTWISE] = ifb_sv_elem_ffn(s, gt, 1, gt * m->experts_per_tok, &nk);
    } else if (st->part == PART_MLP) {
        if (st->moe >= 0) {
            x->t[IFB_TERM_ROUTER] = ifb_sv_gemm(s, G_RT, T, m->hidden, m->experts);
            x->t[IFB_TERM_SHARED] = ifb_sv_shared_time(s, T);
            x->t[IFB_TERM_ROUTED] = ifb_sv_routed_time(s, T, prefill);
            x->t[IFB_TERM_ELEMENTWISE] = ifb_sv_elem_ffn(s, T, 1, T * m->experts_per_tok, &nk);
        } else {
            x->t[IFB_TERM_DENSE] = ifb_sv_ffn_time(s, T);
            x->t[IFB_TERM_ELEMENTWISE] = ifb_sv_elem_ffn(s, T, 0, 0, &nk);
        }
    } else if (st->part == PART_LM) {
        const tokset *t0 = &s->ts[r * s->C + c];
        int64_t nout = t0->nd * t0->q + t0->pf_seqs;
        x->t[IFB_TERM_LM_HEAD] = ifb_sv_gemm(s, G_LM, nout, m->hidden, m->vocab / s->par.tp);
        x->t[IFB_TERM_SAMPLING] = ifb_sv_sampling(s, nout, s->cfg.ovh.sampling_passes, &nk);
        if (s->npass) { /* the last pass's LM head is the draft's */
            int p = s->npass - 1;
            x->t[IFB_TERM_DRAFT] = draft_lm(s, ts_of(s, p, r, c), p, &nk);
        }
    }
    /* the combine's reduction lands on the stage after it */
    if (dpep && k > 0 && st->kind == ST_COMP && s->st[k - 1].kind == ST_A2A &&
        s->st[k - 1].combine && T > 0) {
        int mi = s->st[k - 1].moe;
        int64_t cp = s->recv_copies[((size_t)mi * s->R + r) * s->C + c];
        const tokset *tp = ts_of(s, s->st[k - 1].pass, r, c);
        ifb_time before, after;
        ifb_sv_deepep_gpu(s, 1, tok_total(tp), cp, tok_total(tp) * m->experts_per_tok, &before,
                          &after);
        if (s->st[k - 1].pass >= 0 && !mtp)
            x->t[IFB_TERM_DRAFT] += after;
        else
            x->t[IFB_TERM_DEEPEP] += after;
    }
    if (st->kind == ST_COMP && st->part == PART_PRE && T > 0)
        x->t[IFB_TERM_FIXED] = s->cfg.layer_overhead;
    /* DeepEP's send and receive kernels: the dispatch's with the stage before it, the
     * combine's with the expert stage */
    int dk = dpep && st->kind == ST_COMP && st->moe >= 0 &&
                     (st->part == PART_PRE || st->part == PART_EXPERT)
                 ? 2
                 : 0;
    ifb_time busy = terms_sum(x);
    x->t[IFB_TERM_LAUNCH] = ifb_sv_launch_gaps(s, busy, s->kcount + nk + dk, graph);
    if (mtp) { /* the whole draft pass is its own term */
        ifb_time all = terms_sum(x);
        memset(x, 0, sizeof *x);
        x->t[IFB_TERM_DRAFT] = all;
    }
}

void ifb_sv_prepare_step(ifb_sv_eng *s)
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
    if (s->par.layout == IFB_LAYOUT_DP_EP && s->nmoe)
        plan_all_to_alls(s, normal);
    /* dp-tp: tokens of each group (the MoE runs on all of them), and its largest rank's */
    if (s->par.layout == IFB_LAYOUT_DP_TP) {
        for (int mt = 0; mt < 1 + s->npass; mt++)
            for (int g = 0; g < s->ngroups; g++)
                for (int c = 0; c < C; c++) {
                    int64_t sum = 0, mx = 0;
                    for (int r = g * s->gsz; r < (g + 1) * s->gsz; r++) {
                        int64_t v = tok_total(ts_of(s, mt - 1, r, c));
                        sum += v;
                        mx = v > mx ? v : mx;
                    }
                    int64_t *o = &s->grp_tok[((size_t)(mt * s->ngroups + g) * C + c) * 2];
                    o[0] = sum;
                    o[1] = mx;
                }
    }
    memset(s->term_acc, 0, (size_t)R * IFB_TERM_N * sizeof *s->term_acc);
    s->cur.graph = 0;
    for (int r = 0; r < R; r++) {
        int64_t nd = 0, pf = 0;
        for (int c = 0; c < C; c++) {
            nd += s->ts[r * C + c].nd;
            pf += s->ts[r * C + c].pf;
        }
        int graph = s->cfg.ovh.cuda_graph && pf == 0 && nd <= s->cfg.ovh.cuda_graph_max_bs;
        s->cur.graph += graph;
        for (int c = 0; c < C; c++) {
            for (int k = 0; k < s->K; k++) {
                const stage *st = &s->st[k];
                ifb_time d = 0;
                if (st->kind == ST_COMP || (st->kind == ST_A2A && s->C == 1)) {
                    terms x;
                    stage_terms(s, k, r, c, normal, graph, &x);
                    for (int i = 0; i < IFB_TERM_N; i++)
                        s->term_acc[(size_t)r * IFB_TERM_N + i] += x.t[i];
                    d = terms_sum(&x);
                }
                s->dur[idx3(s, k, r, c)] = d;
            }
        }
    }
    (void)m;
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

/* Critical path of the step with an infinitely fast network and no overlap (an SBO stage's side
 * compute counts as compute). Also fills the step's terms from its busiest rank. */
ifb_time ifb_sv_compute_only(ifb_sv_eng *s, ifb_serving_step *cur)
{
    int best = 0;
    ifb_time bsum = -1;
    for (int r = 0; r < s->R; r++) {
        ifb_time v = 0;
        for (int i = 0; i < IFB_TERM_N; i++)
            v += s->term_acc[(size_t)r * IFB_TERM_N + i];
        if (v > bsum)
            bsum = v, best = r;
    }
    for (int i = 0; i < IFB_TERM_N; i++)
        cur->term[i] = s->term_acc[(size_t)best * IFB_TERM_N + i];
    if (s->P > 1)
        return compute_only_pp(s, cur);
    ifb_time worst = 0;
    for (int g = 0; g < s->ngroups; g++) {
        ifb_time t = 0;
        for (int k = 0; k < s->K; k++) {
            ifb_time mx = 0;
            for (int r = g * s->gsz; r < (g + 1) * s->gsz; r++) {
                ifb_time sum = 0;
                for (int c = 0; c < s->C; c++)
                    sum += s->dur[idx3(s, k, r, c)];
                if (sum > mx)
                    mx = sum;
            }
            t += mx;
        }
        if (t > worst)
            worst = t;
    }
    return worst;
}
