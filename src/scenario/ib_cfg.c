/* Reading InfiniBand adaptive routing (fabric.ib.ar) and congestion control (fabric.ib.cc)
 * from the scenario into the plain configuration of net/base/cfg.h (the models: net/switch/
 * ib_ar.h, net/switch/fecn.c, net/nic/ibcc.c). Errors name FILE:LINE and the key. Keys and
 * defaults: docs/scenario.md ("InfiniBand: fabric.ib"). Leaves out: checks that need the
 * routed topology (`ar` on a fabric with one path: scenario/lb_cfg.c). */
#include "scenario/ib_cfg.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* A list of SLs 0..15 at path into a mask (absent: *mask unchanged). */
static int get_sls(ifb_cfg *c, const char *path, uint16_t *mask, ifb_err *e)
{
    int n;
    if (ifb_cfg_seq_len(c, path, &n, e))
        return -1;
    if (n < 0)
        return 0;
    uint16_t m = 0;
    for (int i = 0; i < n; i++) {
        char k[96];
        int64_t sl;
        snprintf(k, sizeof k, "%s[%d]", path, i);
        if (ifb_cfg_get_int(c, k, 0, 0, 15, &sl, e))
            return -1;
        m |= (uint16_t)(1u << sl);
    }
    *mask = m;
    return 0;
}

static int load_ar(ifb_cfg *c, ifb_fabric_cfg *f, ifb_err *e)
{
    ifb_ib_ar_cfg *a = &f->ib_ar;
    bool shield = a->shield, arn = a->arn;
    if (get_sls(c, "fabric.ib.ar.sls", &a->sl_mask, e) ||
        ifb_cfg_get_bool(c, "fabric.ib.ar.shield", shield, &shield, e) ||
        ifb_cfg_get_bool(c, "fabric.ib.ar.arn", arn, &arn, e) ||
        ifb_cfg_get_bytes(c, "fabric.ib.ar.arn_threshold", a->arn_threshold, &a->arn_threshold,
                          e) ||
        ifb_cfg_get_time(c, "fabric.ib.ar.arn_life", a->arn_life, &a->arn_life, e) ||
        ifb_cfg_get_time(c, "fabric.ib.ar.fault_detect", a->fault_detect, &a->fault_detect, e))
        return -1;
    a->shield = shield;
    a->arn = arn;
    if (!a->arn_life)
        return ifb_cfg_errf(c, "fabric.ib.ar.arn_life", e, "a time above 0", "0");
    return 0;
}

/* "SHIFT:MULTIPLIER" (shift 0..3, multiplier 0..16383), the CCT entry format OpenSM reads. */
static int get_cct(ifb_cfg *c, ifb_ibcc_cfg *cc, ifb_err *e)
{
    int n;
    if (ifb_cfg_seq_len(c, "fabric.ib.cc.cct", &n, e))
        return -1;
    if (n < 0)
        return 0;
    if (n < 1 || n > IFB_IBCC_CCT_MAX)
        return ifb_cfg_errf(c, "fabric.ib.cc.cct", e, "1 to 128 entries", "%d", n);
    for (int i = 0; i < n; i++) {
        char k[64];
        const char *v;
        snprintf(k, sizeof k, "fabric.ib.cc.cct[%d]", i);
        if (ifb_cfg_get_string(c, k, "", &v, e))
            return -1;
        unsigned sh, mu;
        char extra;
        if (sscanf(v, "%u:%u%c", &sh, &mu, &extra) != 2 || sh > 3 || mu > 0x3fff)
            return ifb_cfg_errf(c, k, e,
                                "SHIFT:MULTIPLIER with a shift of 0..3 and a multiplier of "
                                "0..16383 (IBA A10 CCT entry)",
                                "'%s'", v);
        cc->cct[i] = (uint16_t)(sh << 14 | mu);
    }
    cc->ncct = n;
    if (!ifb_cfg_has(c, "fabric.ib.cc.ccti_limit"))
        cc->ccti_limit = (uint16_t)(n - 1);
    return 0;
}

static int load_cc(ifb_cfg *c, ifb_fabric_cfg *f, ifb_err *e)
{
    ifb_ibcc_cfg *cc = &f->ib_cc;
    bool on = cc->on;
    int64_t th, mr, ps, inc, lo, lim;
    ifb_time timer = cc->ccti_timer[0];
    if (ifb_cfg_get_bool(c, "fabric.ib.cc.enable", on, &on, e) ||
        get_sls(c, "fabric.ib.cc.sls", &cc->sl_mask, e) ||
        ifb_cfg_get_int(c, "fabric.ib.cc.threshold", cc->threshold, INT64_MIN, INT64_MAX, &th, e) ||
        ifb_cfg_get_int(c, "fabric.ib.cc.marking_rate", cc->marking_rate, 0, 65535, &mr, e) ||
        ifb_cfg_get_int(c, "fabric.ib.cc.packet_size", cc->packet_size, 0, 255, &ps, e) ||
        ifb_cfg_get_time(c, "fabric.ib.cc.ccti_timer", timer, &timer, e) ||
        ifb_cfg_get_int(c, "fabric.ib.cc.ccti_increase", cc->ccti_increase[0], 0, 255, &inc, e) ||
        ifb_cfg_get_int(c, "fabric.ib.cc.ccti_min", cc->ccti_min[0], 0, 16383, &lo, e) ||
        get_cct(c, cc, e) ||
        ifb_cfg_get_int(c, "fabric.ib.cc.ccti_limit", cc->ccti_limit, 0, 16383, &lim, e))
        return -1;
    if (th < 0 || th > 15)
        return ifb_cfg_errf(c, "fabric.ib.cc.threshold", e,
                            "0 (no marking) to 15 (the most aggressive): IBA A10's 4-bit "
                            "threshold",
                            "%lld", (long long)th);
    if (!timer)
        return ifb_cfg_errf(c, "fabric.ib.cc.ccti_timer", e, "a period above 0", "0");
    if (lim >= cc->ncct)
        return ifb_cfg_errf(c, "fabric.ib.cc.ccti_limit", e,
                            "an index of the congestion control table", "%lld (%d entries)",
                            (long long)lim, cc->ncct);
    if (lo > lim)
        return ifb_cfg_errf(c, "fabric.ib.cc.ccti_min", e, "at most ccti_limit",
                            "%lld (ccti_limit %lld)", (long long)lo, (long long)lim);
    cc->on = on;
    cc->threshold = (uint8_t)th;
    cc->marking_rate = (uint16_t)mr;
    cc->packet_size = (uint16_t)ps;
    cc->ccti_limit = (uint16_t)lim;
    for (int sl = 0; sl < 16; sl++) {
        cc->ccti_timer[sl] = timer;
        cc->ccti_increase[sl] = (uint16_t)inc;
        cc->ccti_min[sl] = (uint16_t)lo;
    }
    /* per SL: fabric.ib.cc.per_sl.<SL>: {ccti_timer, ccti_increase, ccti_min} */
    int n;
    if (ifb_cfg_map_len(c, "fabric.ib.cc.per_sl", &n, e))
        return -1;
    for (int i = 0; i < n; i++) {
        const char *key = ifb_cfg_map_key(c, "fabric.ib.cc.per_sl", i, NULL);
        char base[96], kt[128], ki[128], km[128];
        snprintf(base, sizeof base, "fabric.ib.cc.per_sl.%s", key ? key : "?");
        int sl = -1;
        char extra;
        if (!key || sscanf(key, "%d%c", &sl, &extra) != 1 || sl < 0 || sl > 15)
            return ifb_cfg_errf(c, base, e, "an SL 0..15 as the key", "'%s'", key ? key : "?");
        snprintf(kt, sizeof kt, "%s.ccti_timer", base);
        snprintf(ki, sizeof ki, "%s.ccti_increase", base);
        snprintf(km, sizeof km, "%s.ccti_min", base);
        int64_t v1, v2;
        if (ifb_cfg_get_time(c, kt, timer, &cc->ccti_timer[sl], e) ||
            ifb_cfg_get_int(c, ki, inc, 0, 255, &v1, e) ||
            ifb_cfg_get_int(c, km, lo, 0, 16383, &v2, e))
            return -1;
        if (!cc->ccti_timer[sl])
            return ifb_cfg_errf(c, kt, e, "a period above 0", "0");
        if (v2 > lim)
            return ifb_cfg_errf(c, km, e, "at most ccti_limit", "%lld (ccti_limit %lld)",
                                (long long)v2, (long long)lim);
        cc->ccti_increase[sl] = (uint16_t)v1;
        cc->ccti_min[sl] = (uint16_t)v2;
    }
    if (on && f->l2 != IFB_L2_IB)
        return ifb_cfg_errf(c, "fabric.ib.cc.enable", e,
                            "InfiniBand congestion control on an InfiniBand fabric (RoCE's is "
                            "ECN with DCQCN: fabric.dcqcn)",
                            "fabric.kind roce");
    return 0;
}

int ifb_ib_cfg_load(ifb_cfg *c, ifb_fabric_cfg *f, ifb_err *e)
{
    return load_ar(c, f, e) || load_cc(c, f, e) ? -1 : 0;
}
