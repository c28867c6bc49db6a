/* The serving engine's side of the run timeline (core/timeline.h): what every GPU does, as
 * tracks of one process per GPU (process id 1 + the GPU's fabric endpoint):
 *   "steps"          one slice per engine step (the same interval on every GPU of the engine);
 *   "compute"        one slice per busy period of the GPU (a layer part, or an SBO stage's side
 *                    compute); the GPU runs one at a time, so these never overlap;
 *   "micro-batch C"  per chain of the step: a slice per layer, holding the chain's
 *                    communication stages (dispatch, combine, all-reduce, PP send) from the
 *                    moment the chain entered the stage to the moment it left it;
 *   "KV out/in N"    KV-cache chunk messages, each on the first lane free at its start, so
 *                    concurrent chunks never overlap on a track (at most IFB_SV_TL_LANES lanes:
 *                    a chunk finding none is left out and counted by the writer's bounds).
 * Flows: every KV chunk (sender's lane to receiver's lane), and the all-to-all messages the
 * first GPU of each EP group sends in a step's first MoE layer (dispatch and combine) — all
 * of them would be tens of thousands per step and bury the file.
 * The timeline only reads the model's state: the run's results are the same with and without
 * it. Left out: per-kernel slices inside a layer part, NIC-side WQE posting, host (scheduler)
 * time as a slice of its own (it shows as the gap between steps). */
#include <stdio.h>

#include "workload/serving/internal.h"

#define TID_STEPS 0
#define TID_COMPUTE 1
#define TID_CHAIN 2
#define TID_KV_OUT 100
#define TID_KV_IN 200

static int pid_of_ep(int ep)
{
    return 1 + ep;
}

static const char *stage_name(const stage *st)
{
    switch (st->kind) {
    case ST_COMP:
        switch (st->part) {
        case PART_PRE:
            return st->pass >= 0 ? "MTP attention" : "attention";
        case PART_EXPERT:
            return st->pass >= 0 ? "MTP experts" : "experts";
        case PART_MLP:
            return "dense MLP";
        case PART_LM:
            return st->pass >= 0 ? "MTP LM head" : "LM head";
        default:
            return "MoE (TP)";
        }
    case ST_A2A:
        return st->combine ? "combine" : "dispatch";
    case ST_RING:
        return "all-reduce";
    case ST_PP:
        return "PP send";
    default:
        return "done";
    }
}

void ifb_serving_timeline(ifb_serving *sv, ifb_timeline *tl)
{
    sv->tl = tl;
    int nep = 0;
    for (int e = 0; e < sv->neng; e++) {
        ifb_sv_eng *s = &sv->eng[e];
        size_t rc = (size_t)s->R * (size_t)s->C;
        s->tl_enter = ifb_xcalloc(rc, sizeof *s->tl_enter, "the timeline's stage entries");
        s->tl_layer_t = ifb_xcalloc(rc, sizeof *s->tl_layer_t, "the timeline's layer starts");
        s->tl_layer = ifb_xcalloc(rc, sizeof *s->tl_layer, "the timeline's layers");
        s->tl_gpu_t = ifb_xcalloc((size_t)s->R, sizeof *s->tl_gpu_t, "the timeline's GPUs");
        for (size_t i = 0; i < rc; i++)
            s->tl_layer[i] = -1;
        for (int r = 0; r < s->R; r++) {
            int ep = s->par.endpoint[r];
            char name[128];
            snprintf(name, sizeof name, "GPU %d (%s group %d, rank %d)", ep,
                     s->role == IFB_ROLE_PREFILL  ? "prefill"
                     : s->role == IFB_ROLE_DECODE ? "decode"
                                                  : "mixed",
                     s->group, r);
            ifb_tl_name_process(tl, pid_of_ep(ep), name, ep);
            ifb_tl_name_thread(tl, pid_of_ep(ep), TID_STEPS, "steps");
            ifb_tl_name_thread(tl, pid_of_ep(ep), TID_COMPUTE, "compute");
            for (int c = 0; c < s->C; c++) {
                snprintf(name, sizeof name, "micro-batch %d", c);
                ifb_tl_name_thread(tl, pid_of_ep(ep), TID_CHAIN + c, name);
            }
            if (ep + 1 > nep)
                nep = ep + 1;
        }
    }
    sv->tl_nep = nep;
    size_t lanes = (size_t)nep * IFB_SV_TL_LANES * 2;
    sv->tl_lane_end = ifb_xcalloc(lanes, sizeof *sv->tl_lane_end, "the timeline's KV lanes");
    sv->tl_lane_named = ifb_xcalloc(lanes, 1, "the timeline's KV lane names");
}

void ifb_sv_tl_compute(ifb_sv_eng *s, int r, int k)
{
    ifb_time now = s->sim->now;
    const stage *st = &s->st[k];
    ifb_tl_slice(s->sv->tl, pid_of_ep(s->par.endpoint[r]), TID_COMPUTE, stage_name(st),
                 st->kind == ST_A2A ? "sbo side compute" : "compute", s->tl_gpu_t[r], now, "layer",
                 (uint64_t)st->layer);
}

/* Closes chain (r, c)'s open layer slice at now. */
static void close_layer(ifb_sv_eng *s, int r, int c)
{
    size_t i = (size_t)r * (size_t)s->C + (size_t)c;
    if (s->tl_layer[i] < 0)
        return;
    char name[32];
    snprintf(name, sizeof name, "layer %d", s->tl_layer[i]);
    ifb_tl_slice(s->sv->tl, pid_of_ep(s->par.endpoint[r]), TID_CHAIN + c, name, "layer",
                 s->tl_layer_t[i], s->sim->now, NULL, 0);
    s->tl_layer[i] = -1;
}

void ifb_sv_tl_enter(ifb_sv_eng *s, int r, int c, int k)
{
    size_t i = (size_t)r * (size_t)s->C + (size_t)c;
    const stage *st = &s->st[k];
    s->tl_enter[i] = s->sim->now;
    if (st->kind == ST_DONE) {
        close_layer(s, r, c);
        return;
    }
    if (st->layer != s->tl_layer[i]) {
        close_layer(s, r, c);
        s->tl_layer[i] = st->layer;
        s->tl_layer_t[i] = s->sim->now;
    }
}

void ifb_sv_tl_leave(ifb_sv_eng *s, int r, int c, int k)
{
    const stage *st = &s->st[k];
    if (st->kind == ST_COMP || st->kind == ST_DONE)
        return;
    size_t i = (size_t)r * (size_t)s->C + (size_t)c;
    ifb_tl_slice(s->sv->tl, pid_of_ep(s->par.endpoint[r]), TID_CHAIN + c, stage_name(st),
                 "communication", s->tl_enter[i], s->sim->now, "layer", (uint64_t)st->layer);
}

void ifb_sv_tl_step(ifb_sv_eng *s)
{
    const ifb_serving_step *cur = &s->cur;
    char name[48];
    snprintf(name, sizeof name, "step %llu", (unsigned long long)cur->index);
    for (int r = 0; r < s->R; r++)
        ifb_tl_slice(s->sv->tl, pid_of_ep(s->par.endpoint[r]), TID_STEPS, name, "step", cur->start,
                     cur->end, "engine", (uint64_t)s->index);
}

void ifb_sv_tl_a2a_msg(ifb_sv_eng *s, const slot *sl, const ifb_msg_info *info)
{
    const stage *st = &s->st[sl->k];
    int src = info->src >= 0 && info->src < s->nep ? s->rank_of_ep[info->src] : -1;
    if (st->kind != ST_A2A || st->moe != 0 || st->pass >= 0 || src < 0 ||
        src != group_of(s, src) * s->gsz || info->src == info->dst)
        return;
    ifb_tl_flow(s->sv->tl, stage_name(st), "a2a", pid_of_ep(info->src), TID_CHAIN + sl->c,
                info->start, pid_of_ep(info->dst), TID_CHAIN + sl->c, info->done);
}

/* The first lane of endpoint ep (direction dir: 0 out, 1 in) free at start; -1 if none. */
static int lane(ifb_serving *sv, int ep, int dir, ifb_time start, ifb_time end)
{
    size_t base = ((size_t)ep * 2 + (size_t)dir) * IFB_SV_TL_LANES;
    for (int l = 0; l < IFB_SV_TL_LANES; l++) {
        if (sv->tl_lane_end[base + (size_t)l] > start)
            continue;
        sv->tl_lane_end[base + (size_t)l] = end;
        if (!sv->tl_lane_named[base + (size_t)l]) {
            char name[32];
            snprintf(name, sizeof name, "KV %s %d", dir ? "in" : "out", l);
            ifb_tl_name_thread(sv->tl, pid_of_ep(ep), (dir ? TID_KV_IN : TID_KV_OUT) + l, name);
            sv->tl_lane_named[base + (size_t)l] = 1;
        }
        return l;
    }
    return -1;
}

void ifb_sv_tl_kv_msg(ifb_serving *sv, int req, const ifb_msg_info *info)
{
    if (info->src < 0 || info->dst < 0 || info->src >= sv->tl_nep || info->dst >= sv->tl_nep ||
        !ifb_tl_wants(sv->tl, info->start, info->done))
        return;
    int lo = lane(sv, info->src, 0, info->start, info->done);
    int li = lane(sv, info->dst, 1, info->start, info->done);
    if (lo < 0 || li < 0)
        return;
    char name[48];
    snprintf(name, sizeof name, "KV request %d", req);
    ifb_tl_slice(sv->tl, pid_of_ep(info->src), TID_KV_OUT + lo, name, "kv", info->start, info->done,
                 "bytes", info->bytes);
    ifb_tl_slice(sv->tl, pid_of_ep(info->dst), TID_KV_IN + li, name, "kv", info->start, info->done,
                 "bytes", info->bytes);
    ifb_tl_flow(sv->tl, "KV", "kv", pid_of_ep(info->src), TID_KV_OUT + lo, info->start,
                pid_of_ep(info->dst), TID_KV_IN + li, info->done);
}
