/* IBA 7.6.9 VL arbitration (see ib.h). Each table is walked round robin; an entry may send
 * packets of its VL while its weight (in 64-byte units) lasts, and a packet larger than what is
 * left still goes (the weight is then used up), as the spec allows. */
#include "net/link/ib.h"

#include <string.h>

void ifb_vlarb_cfg_default(ifb_vlarb_cfg *c, int nvls)
{
    memset(c, 0, sizeof *c);
    if (nvls > IFB_IB_MAX_VLS)
        nvls = IFB_IB_MAX_VLS;
    for (int v = 0; v < nvls; v++)
        c->low[v] = (ifb_vlarb_entry){.vl = (uint8_t)v, .weight = 64};
    c->nlow = nvls;
    c->high_limit = 255;
}

/* Weighted round robin over one table: serve the current entry while it has weight left and
 * its VL is eligible, otherwise move on; one full lap without a candidate means none. */
static int table_pick(const ifb_vlarb_entry *t, int n, int *idx, int32_t *left, uint32_t eligible,
                      const uint32_t *head_bytes)
{
    if (n <= 0)
        return -1;
    for (int lap = 0; lap <= n; lap++) {
        const ifb_vlarb_entry *en = &t[*idx];
        if (en->weight && (eligible >> en->vl & 1u)) {
            if (*left <= 0)
                *left = (int32_t)en->weight * (int32_t)IFB_IB_CREDIT_BYTES;
            *left -= (int32_t)head_bytes[en->vl];
            int vl = en->vl;
            if (*left <= 0)
                *idx = (*idx + 1) % n;
            return vl;
        }
        *left = 0;
        *idx = (*idx + 1) % n;
    }
    return -1;
}

static int any_in(const ifb_vlarb_entry *t, int n, uint32_t eligible)
{
    for (int i = 0; i < n; i++)
        if (t[i].weight && (eligible >> t[i].vl & 1u))
            return 1;
    return 0;
}

int ifb_vlarb_pick(ifb_vlarb *st, const ifb_vlarb_cfg *cfg, uint32_t eligible,
                   const uint32_t *head_bytes)
{
    if (!eligible)
        return -1;
    int low_waiting = any_in(cfg->low, cfg->nlow, eligible);
    int high_waiting = any_in(cfg->high, cfg->nhigh, eligible);
    int limit_hit = cfg->high_limit != 255 && st->hi_since_low >= (uint64_t)cfg->high_limit * 4096u;
    if (high_waiting && !(limit_hit && low_waiting)) {
        int vl = table_pick(cfg->high, cfg->nhigh, &st->hi_idx, &st->hi_left, eligible, head_bytes);
        if (vl >= 0) {
            st->hi_since_low += head_bytes[vl];
            return vl;
        }
    }
    int vl = table_pick(cfg->low, cfg->nlow, &st->lo_idx, &st->lo_left, eligible, head_bytes);
    if (vl >= 0)
        st->hi_since_low = 0;
    return vl;
}
