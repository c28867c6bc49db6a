/* The KV-cache transfer of a disaggregated (prefill/decode) deployment, class kv.
 * When a request's prefill ends, the router picks a decode instance with room for its KV
 * cache; the room is reserved there at once (the decode side allocates the destination pages
 * before the prefill side writes, as in SGLang's PD flow with Mooncake or NIXL), and the
 * request waits in FIFO order while no decode instance has room. The prefill instance then
 * writes the cache with RDMA WRITEs from each of its GPUs through that GPU's own NIC
 * (GPUDirect) to the decode GPUs, in chunks of `kv_transfer.chunk` bytes (Mooncake Transfer
 * Engine: 64 KiB slices, spread over the QPs of a GPU pair: `kv_transfer.connections`, set as
 * the fabric's QP count for class kv); GPUs that share a server use NVLink (the fabric's
 * business). Byte counts follow the two layouts: MLA's latent KV is the same on every TP rank,
 * so each destination rank gets one full copy (from source rank j mod tp); GQA/MHA KV is split
 * by KV heads across TP ranks (replicated when there are fewer heads than ranks), and each
 * destination rank receives its heads from a source rank holding them. Per request:
 * prompt tokens x layers (+ the MTP layer when the decode group runs MTP) x bytes per token and
 * layer in the KV dtype, per (source, destination) pair. When the last chunk has been placed
 * the prefill instance frees its copy and the decode instance admits the request at its next
 * step.
 * Leaves out: layer-by-layer transfer overlapping the prefill compute (the whole cache moves
 * after the prefill), the control messages of the transfer engine (bootstrap, completion
 * notifications), page-granular scatter (chunks are contiguous), and transfer retries: a
 * failed chunk fails the request (ASSUMPTION). */
#include "workload/serving/internal.h"

int64_t ifb_sv_kv_layers(const ifb_sv_eng *de)
{
    const ifb_model *m = de->m;
    return m->layers + (de->cfg.mtp.on ? m->mtp_layers : 0);
}

/* KV heads [lo, hi) on rank j of n (GQA); fewer heads than ranks: one head, replicated. */
static void heads_of(int64_t H, int n, int j, int64_t *lo, int64_t *hi)
{
    if (n <= H) {
        *lo = (int64_t)j * H / n;
        *hi = (int64_t)(j + 1) * H / n;
    } else {
        *lo = (int64_t)j * H / n;
        *hi = *lo + 1;
    }
}

static int add_pair(ifb_kv_pair *out, int n, int cap, int src, int dst, uint64_t b)
{
    for (int i = 0; i < n; i++)
        if (out[i].src == src && out[i].dst == dst) {
            out[i].bytes_per_token += b;
            return n;
        }
    if (n < cap)
        out[n++] = (ifb_kv_pair){src, dst, b};
    return n;
}

/* The pairs of one layer held on stage ps of the prefill engine and stage ds of the decode. */
static int layer_pairs(const ifb_sv_eng *pe, int pi, int ps, const ifb_sv_eng *de, int di, int ds,
                       ifb_kv_pair *out, int n, int cap)
{
    const ifb_model *m = pe->m;
    int ns = pe->par.tp, nd = de->par.tp;
    int s0 = ps * pe->Rs + pi * ns, d0 = ds * de->Rs + di * nd;
    uint64_t lb = (uint64_t)ifb_model_kv_bytes_per_token_layer(m, pe->cfg.kv_dtype);
    if (m->attn == IFB_ATTN_MLA) {
        for (int j = 0; j < nd; j++)
            n = add_pair(out, n, cap, s0 + j % ns, d0 + j, lb);
        return n;
    }
    int64_t H = m->kv_heads > 0 ? m->kv_heads : m->heads;
    uint64_t hb = lb / (uint64_t)H;
    for (int j = 0; j < nd; j++) {
        int64_t lo, hi;
        heads_of(H, nd, j, &lo, &hi);
        for (int64_t h = lo; h < hi; h++) {
            /* source ranks holding head h: [a, b) */
            int a, b;
            if (ns <= H) {
                a = (int)(h * ns / H);
                b = a + 1;
            } else {
                a = (int)((h * ns + H - 1) / H);
                b = (int)(((h + 1) * ns + H - 1) / H);
            }
            n = add_pair(out, n, cap, s0 + a + j % (b - a), d0 + j, hb);
        }
    }
    return n;
}

/* Pipeline stage of layer l (the MTP layer and beyond: the last stage). */
static int stage_of(const ifb_sv_eng *s, int64_t l)
{
    int p = 0;
    while (p + 1 < s->P && l >= s->par.pp_first[p + 1])
        p++;
    return l >= s->m->layers ? s->P - 1 : p;
}

int ifb_sv_kv_pairs(const ifb_sv_eng *pe, int pi, const ifb_sv_eng *de, int di, ifb_kv_pair *out,
                    int cap)
{
    int n = 0;
    int64_t L = ifb_sv_kv_layers(de);
    for (int64_t l = 0; l < L; l++)
        n = layer_pairs(pe, pi, stage_of(pe, l), de, di, stage_of(de, l), out, n, cap);
    return n;
}

int ifb_sv_kv_check(const ifb_serving *sv, ifb_err *e)
{
    const ifb_model *m = sv->m;
    const ifb_kv_cfg *kc = &sv->cfg.deploy.kv;
    if (kc->chunk == 0 || kc->connections < 1) {
        char k[256];
        snprintf(k, sizeof k, "%s%sdeployment.kv_transfer.%s", sv->cfg.key,
                 sv->cfg.key[0] ? "." : "", kc->chunk == 0 ? "chunk" : "connections");
        return ifb_err_set(e, NULL, 0, k, "at least 1", "0");
    }
    if (m->attn == IFB_ATTN_MLA)
        return 0;
    int64_t H = m->kv_heads > 0 ? m->kv_heads : m->heads;
    for (int k = 0; k < sv->neng; k++) {
        const ifb_sv_eng *en = &sv->eng[k];
        int tp = en->par.tp;
        if (H % tp && tp % H) {
            char key[256];
            snprintf(key, sizeof key, "%s.parallel.tp", en->cfg.key);
            return ifb_err_set(e, NULL, 0, key,
                               "a divisor or a multiple of the model's KV heads, so the KV cache "
                               "splits evenly for the transfer",
                               "%d with %lld KV heads", tp, (long long)H);
        }
    }
    return 0;
}

/* Engine and local instance of a global instance number. */
static ifb_sv_eng *inst_of(ifb_serving *sv, int g, int *local)
{
    for (int k = 0; k < sv->neng; k++) {
        ifb_sv_eng *en = &sv->eng[k];
        if (g >= en->inst_base && g < en->inst_base + en->par.dp) {
            *local = g - en->inst_base;
            return en;
        }
    }
    *local = 0;
    return NULL;
}

void ifb_sv_kv_prefilled(ifb_serving *sv, int ri)
{
    ifb_serving_req *r = &sv->req[ri];
    ifb_sv_eng *pe = &sv->eng[r->eng];
    instq *q = &pe->inst[r->instance];
    for (size_t i = 0; i < q->rn; i++)
        if (q->run[i] == ri) {
            memmove(q->run + i, q->run + i + 1, (q->rn - i - 1) * sizeof *q->run);
            q->rn--;
            break;
        }
    q->in_system--;
    r->pkv = r->kv; /* still held on the prefill instance until the last byte is placed */
    r->kv = 0;
    r->state = RS_XFER;
    r->prefill_end = sv->sim->now;
    ifb_sv_stage_move(sv, SG_PREFILL, SG_XFER);
    sv->kvwait = ifb_grow(sv->kvwait, &sv->kvwcap, sv->kvwn, sizeof *sv->kvwait, 64);
    sv->kvwait[sv->kvwn++] = ri;
}

static void arrive(ifb_serving *sv, kvx *x)
{
    ifb_serving_req *r = &sv->req[x->req];
    int failed = x->failed;
    ifb_pool_put(&sv->kvx_pool, x);
    sv->kv_inflight--;
    ifb_sv_eng *pe = &sv->eng[r->eng];
    if (failed) {
        ifb_sv_fail_request(sv, (int)r->id);
    } else {
        pe->inst[r->instance].kv_used -= r->pkv;
        r->pkv = 0;
        ifb_sv_pc_release(sv, r); /* the prefill side's cached blocks are no longer needed */
        int di;
        ifb_sv_eng *de = inst_of(sv, r->d_inst, &di);
        instq *dq = &de->inst[di];
        r->kv_done = sv->sim->now;
        r->state = RS_DECODE;
        r->eng = de->index;
        r->instance = di;
        r->admit_seq = ++sv->admit_seq;
        dq->run = ifb_grow(dq->run, &dq->rcap, dq->rn, sizeof *dq->run, 64);
        dq->run[dq->rn++] = (int)r->id;
        ifb_sv_stage_move(sv, SG_XFER, SG_DECODE);
        if (de->idle && !sv->done)
            ifb_sv_start_step(de);
    }
    /* the prefill side got memory back: it may admit what was waiting */
    if (pe->idle && !sv->done)
        ifb_sv_start_step(pe);
    ifb_sv_check_idle(sv);
}

static void kv_cb(ifb_sim *sim, void *ctx, const ifb_msg_info *info)
{
    (void)sim;
    kvx *x = ctx;
    ifb_serving *sv = x->sv;
    if (info && info->failed)
        x->failed = 1;
    else if (info) {
        ifb_summary_add(&sv->msg_time[IFB_TC_KV], (double)(info->done - info->start));
        if (sv->tl)
            ifb_sv_tl_kv_msg(sv, x->req, info);
    }
    if (--x->left == 0)
        arrive(sv, x);
}

/* Posts every chunk of request ri's KV cache from its prefill instance to decode instance
 * (de, di). */
static void transfer(ifb_serving *sv, int ri, ifb_sv_eng *de, int di)
{
    ifb_serving_req *r = &sv->req[ri];
    ifb_sv_eng *pe = &sv->eng[r->eng];
    ifb_kv_pair pairs[512];
    int np = ifb_sv_kv_pairs(pe, r->instance, de, di, pairs, 512);
    uint64_t tl = (uint64_t)r->prefill_target;
    uint64_t chunk = sv->cfg.deploy.kv.chunk;
    kvx *x = ifb_pool_get(&sv->kvx_pool);
    x->sv = sv;
    x->req = ri;
    x->left = 1; /* held until every chunk is posted */
    sv->kv_inflight++;
    for (int p = 0; p < np; p++) {
        int src = pe->par.endpoint[pairs[p].src], dst = de->par.endpoint[pairs[p].dst];
        uint64_t bytes = tl * pairs[p].bytes_per_token;
        int local = src / pe->par.topo_gpus_per_server == dst / de->par.topo_gpus_per_server;
        r->kv_bytes += bytes;
        sv->kv_bytes += bytes;
        if (local)
            sv->kv_nvlink_bytes += bytes;
        else
            sv->kv_nic_bytes += bytes;
        for (uint64_t off = 0; off < bytes; off += chunk) {
            uint64_t b = bytes - off < chunk ? bytes - off : chunk;
            x->left++;
            sv->kv_msgs++;
            if (!ifb_net_send(sv->net, src, dst, b, IFB_TC_KV, kv_cb, x)) {
                ifb_sim_request_stop(sv->sim, IFB_STOP_ERROR,
                                     "serving: network refused a KV message %d->%d", src, dst);
                x->left--;
            }
        }
    }
    if (--x->left == 0) /* nothing to send (or nothing accepted): it arrives now */
        arrive(sv, x);
}

void ifb_sv_kv_dispatch(ifb_serving *sv)
{
    size_t w = 0;
    while (w < sv->kvwn && !sv->done) {
        int ri = sv->kvwait[w];
        ifb_serving_req *r = &sv->req[ri];
        int64_t need = r->prefill_target + 1;
        int di;
        int k = ifb_sv_route(sv, 1, need, &di);
        if (k < 0) {
            int live = 0;
            for (int j = 0; j < sv->neng; j++)
                live |=
                    sv->eng[j].role == IFB_ROLE_DECODE && sv->eng[j].ninst_down < sv->eng[j].par.dp;
            if (live)
                break; /* FIFO: it waits for memory, and so does everything behind it */
            w++;
            ifb_sv_fail_request(sv, ri); /* no decode instance is left */
            continue;
        }
        w++;
        ifb_sv_eng *de = &sv->eng[k];
        instq *dq = &de->inst[di];
        r->kv = r->prefill_target;
        dq->kv_used += r->kv;
        dq->in_system++;
        r->d_inst = de->inst_base + di;
        r->kv_start = sv->sim->now;
        transfer(sv, ri, de, di);
    }
    if (w) {
        memmove(sv->kvwait, sv->kvwait + w, (sv->kvwn - w) * sizeof *sv->kvwait);
        sv->kvwn -= w;
    }
}

int ifb_sv_kv_checker(ifb_sim *sim, void *ctx, char *msg, size_t cap)
{
    (void)sim;
    const ifb_serving *sv = ctx;
    for (size_t i = 0; i < sv->nreq; i++) {
        const ifb_serving_req *r = &sv->req[i];
        if (r->decode_start == IFB_TIME_NEVER)
            continue;
        if (r->kv_done == IFB_TIME_NEVER || r->kv_done > r->decode_start) {
            snprintf(msg, cap, "request %lld decodes at %.3f us before its KV cache arrived (%s)",
                     (long long)r->id, ifb_time_to_us(r->decode_start),
                     r->kv_done == IFB_TIME_NEVER ? "never" : "later");
            return -1;
        }
    }
    return 0;
}
