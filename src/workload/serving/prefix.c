/* The prefix cache of a serving instance (ifb_prefix_cfg), as SGLang's radix cache holds it:
 * blocks of `block` prompt tokens (Mooncake's hash_ids: a block id stands for the whole prefix up
 * to its block) in the instance's KV memory. At admission a prompt looks up its leading block
 * ids: the run of them found is its hit (whole blocks of at most input - 1 tokens, since the last
 * position must be computed to produce logits), computed prefill shrinks by it, and the hit blocks
 * are pinned while the request holds them. When its prefill ends the prompt's full blocks enter the
 * cache (memory moves from the request to the cache; a block some other request cached meanwhile is
 * shared instead). Blocks no running request holds stay cached until memory is needed: then the
 * least recently released go first (LRU eviction, SGLang's default policy). The cache's blocks
 * and the requests' own tokens share the instance's KV capacity.
 * With a fixed hit rate (prefix_cache.hit_rate, for a deployment whose stated hit rate comes from
 * a cache outside this model, e.g. DeepSeek's disk KV cache) every prompt skips that share of its
 * tokens and its KV is allocated in full (loaded, not computed); no blocks are kept.
 * Leaves out: radix-tree matching below block granularity, and the cost of loading cached KV
 * from outside HBM in the fixed mode. */
#include "workload/serving/internal.h"

static size_t slot_of(uint64_t id, size_t cap)
{
    return ifb_hash64(id + 1) & (cap - 1);
}

/* Index of block `id` in the pool, -1 if absent; *at gets its table slot or the empty slot. */
static int find(const ifb_pcache *c, uint64_t id, size_t *at)
{
    if (!c->tcap)
        return -1;
    size_t i = slot_of(id, c->tcap);
    while (c->tab[i] >= 0) {
        if (c->e[c->tab[i]].id == id) {
            *at = i;
            return c->tab[i];
        }
        i = (i + 1) & (c->tcap - 1);
    }
    *at = i;
    return -1;
}

static void lru_unlink(ifb_pcache *c, int x)
{
    pc_ent *e = &c->e[x];
    if (e->prev >= 0)
        c->e[e->prev].next = e->next;
    else if (c->lru_head == x)
        c->lru_head = e->next;
    if (e->next >= 0)
        c->e[e->next].prev = e->prev;
    else if (c->lru_tail == x)
        c->lru_tail = e->prev;
    e->prev = e->next = -1;
}

static void lru_push(ifb_pcache *c, int x) /* most recently released last */
{
    pc_ent *e = &c->e[x];
    e->prev = c->lru_tail;
    e->next = -1;
    if (c->lru_tail >= 0)
        c->e[c->lru_tail].next = x;
    else
        c->lru_head = x;
    c->lru_tail = x;
}

static void tab_grow(ifb_pcache *c)
{
    size_t cap = c->tcap ? c->tcap * 2 : 1024;
    int *t = ifb_xcalloc(cap, sizeof *t, "a prefix cache's index");
    for (size_t i = 0; i < cap; i++)
        t[i] = -1;
    for (size_t i = 0; i < c->tcap; i++)
        if (c->tab[i] >= 0) {
            size_t j = slot_of(c->e[c->tab[i]].id, cap);
            while (t[j] >= 0)
                j = (j + 1) & (cap - 1);
            t[j] = c->tab[i];
        }
    free(c->tab);
    c->tab = t;
    c->tcap = cap;
}

static int insert(ifb_pcache *c, uint64_t id)
{
    if ((c->tn + 1) * 2 > c->tcap)
        tab_grow(c);
    size_t at = 0;
    find(c, id, &at);
    int x;
    if (c->nfree) {
        x = c->freel[--c->nfree];
    } else {
        c->e = ifb_xgrow(c->e, &c->ecap, c->ne, sizeof *c->e, 1024, "a prefix cache's blocks");
        x = (int)c->ne++;
    }
    c->e[x] = (pc_ent){id, 1, -1, -1};
    c->tab[at] = x;
    c->tn++;
    c->blocks++;
    return x;
}

/* Removes block x (unreferenced) from the table: backward-shift deletion of linear probing. */
static void evict_one(ifb_pcache *c, int x)
{
    lru_unlink(c, x);
    size_t i = 0;
    find(c, c->e[x].id, &i);
    size_t j = i;
    for (;;) {
        j = (j + 1) & (c->tcap - 1);
        if (c->tab[j] < 0)
            break;
        size_t k = slot_of(c->e[c->tab[j]].id, c->tcap);
        /* the entry at j stays when its home k lies cyclically in (i, j], else it fills i */
        int stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
        if (!stays) {
            c->tab[i] = c->tab[j];
            i = j;
        }
    }
    c->tab[i] = -1;
    c->tn--;
    c->blocks--;
    c->evicted++;
    c->freel = ifb_xgrow(c->freel, &c->freecap, c->nfree, sizeof *c->freel, 256,
                         "a prefix cache's free blocks");
    c->freel[c->nfree++] = x;
}

void ifb_pc_free(ifb_pcache *c)
{
    free(c->e);
    free(c->tab);
    free(c->freel);
    memset(c, 0, sizeof *c);
    c->lru_head = c->lru_tail = -1;
}

void ifb_pc_init(ifb_pcache *c)
{
    memset(c, 0, sizeof *c);
    c->lru_head = c->lru_tail = -1;
}

int ifb_pc_lookup(ifb_pcache *c, const uint64_t *ids, int n)
{
    int k = 0;
    for (; k < n; k++) {
        size_t at;
        int x = find(c, ids[k], &at);
        if (x < 0)
            break;
        if (c->e[x].ref++ == 0)
            lru_unlink(c, x);
    }
    return k;
}

int ifb_pc_insert(ifb_pcache *c, const uint64_t *ids, int from, int n, int *added)
{
    *added = 0;
    for (int k = from; k < n; k++) {
        size_t at;
        int x = find(c, ids[k], &at);
        if (x >= 0) {
            if (c->e[x].ref++ == 0)
                lru_unlink(c, x);
        } else {
            insert(c, ids[k]);
            (*added)++;
        }
    }
    return n - from;
}

void ifb_pc_release(ifb_pcache *c, const uint64_t *ids, int n)
{
    for (int k = 0; k < n; k++) {
        size_t at;
        int x = find(c, ids[k], &at);
        if (x >= 0 && c->e[x].ref > 0 && --c->e[x].ref == 0)
            lru_push(c, x);
    }
}

int64_t ifb_pc_evict(ifb_pcache *c, int64_t blocks)
{
    int64_t n = 0;
    while (n < blocks && c->lru_head >= 0) {
        evict_one(c, c->lru_head);
        n++;
    }
    return n;
}

/* ---- the serving engine's use of it ------------------------------------------------------- */

static const uint64_t *ids_of(const ifb_serving *sv, const ifb_serving_req *r, int *n)
{
    const ifb_trace *t = &sv->cfg.trace;
    *n = 0;
    if (!t->n || !t->hashes || r->row < 0)
        return NULL;
    const ifb_trace_row *w = &t->rows[(size_t)r->row % t->n];
    *n = (int)w->nhash;
    return t->hashes + w->hash_off;
}

int64_t ifb_sv_pc_admit(ifb_sv_eng *s, int ii, ifb_serving_req *r)
{
    ifb_serving *sv = s->sv;
    const ifb_prefix_cfg *pc = &s->cfg.prefix;
    r->pc_ref = 0;
    r->pc_hit = 0;
    if (!pc->on || s->role == IFB_ROLE_DECODE || r->prefill_target != r->input)
        return 0; /* a re-prefill after preemption recomputes its generated tokens too */
    int64_t h = 0;
    if (pc->hit_rate >= 0) {
        h = (int64_t)((double)r->input * pc->hit_rate);
    } else {
        int n;
        const uint64_t *ids = ids_of(sv, r, &n);
        /* whole blocks only, and never the prompt's last token (its logits are computed) */
        int64_t full = (r->input - 1) / pc->block;
        if (n > full)
            n = (int)full;
        if (ids && n > 0) {
            instq *q = &s->inst[ii];
            int k = ifb_pc_lookup(&q->pc, ids, n);
            r->pc_ref = k;
            h = (int64_t)k * pc->block;
        }
    }
    if (h > r->input - 1)
        h = r->input - 1;
    if (h < 0)
        h = 0;
    r->pc_hit = h;
    r->pc_eng = s->index;
    r->pc_inst = ii;
    return h;
}

void ifb_sv_pc_count(ifb_sv_eng *s, const ifb_serving_req *r)
{
    if (!s->cfg.prefix.on || s->role == IFB_ROLE_DECODE)
        return;
    s->sv->pc_lookups++;
    s->sv->pc_tokens += (uint64_t)r->input;
    s->sv->pc_hit_tokens += (uint64_t)r->pc_hit;
    s->pc_step_hits += r->pc_hit;
}

int64_t ifb_sv_pc_prefilled(ifb_sv_eng *s, int ii, ifb_serving_req *r)
{
    const ifb_prefix_cfg *pc = &s->cfg.prefix;
    if (!pc->on || pc->hit_rate >= 0 || s->role == IFB_ROLE_DECODE)
        return 0;
    int n;
    const uint64_t *ids = ids_of(s->sv, r, &n);
    int64_t full = r->input / pc->block;
    if (n > full)
        n = (int)full;
    if (!ids || n <= r->pc_ref)
        return 0;
    instq *q = &s->inst[ii];
    int added;
    int took = ifb_pc_insert(&q->pc, ids, r->pc_ref, n, &added);
    r->pc_ref = n;
    r->pc_eng = s->index;
    r->pc_inst = ii;
    /* every one of its new full blocks leaves its own allocation: into the cache (added) or
     * shared with the copy some other request cached meanwhile */
    int64_t moved = (int64_t)took * pc->block;
    q->pc_tokens += (int64_t)added * pc->block;
    return moved;
}

void ifb_sv_pc_release(ifb_serving *sv, ifb_serving_req *r)
{
    if (r->pc_ref <= 0)
        return;
    int n;
    const uint64_t *ids = ids_of(sv, r, &n);
    ifb_sv_eng *s = &sv->eng[r->pc_eng];
    if (ids)
        ifb_pc_release(&s->inst[r->pc_inst].pc, ids, r->pc_ref < n ? r->pc_ref : n);
    r->pc_ref = 0;
}

int ifb_sv_pc_room(ifb_sv_eng *s, int ii, int64_t need)
{
    instq *q = &s->inst[ii];
    int64_t cap = s->par.kv_tokens, B = s->cfg.prefix.block;
    int64_t over = q->kv_used + q->pc_tokens + need - cap;
    if (over > 0 && q->pc.blocks) {
        int64_t ev = ifb_pc_evict(&q->pc, (over + B - 1) / B);
        q->pc_tokens -= ev * B;
        s->sv->pc_evicted += (uint64_t)ev;
    }
    return q->kv_used + q->pc_tokens + need <= cap;
}
