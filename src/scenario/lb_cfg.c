/* Reading the load-balancing keys (fabric.load_balancing) from the scenario's YAML tree into
 * the plain path-selection configuration of net/switch/lb.h: per-queue modes, flowlet and WCMP
 * tables, the adaptive-routing quality profile, explicit WCMP weights and per-class overrides.
 * Errors name FILE:LINE and the key. Keys: docs/scenario.md (load_balancing).
 * Leaves out: checks that need the fabric (a weight naming a missing switch or port, an
 * all-zero group: ifb_lb_attach does them). */
#include "scenario/lb_cfg.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

static const char *const pick_names[] = {"random", "least_loaded", NULL};
static const char *const spray_names[] = {"random", "round_robin", "drill", NULL};
static const char *const unit_names[] = {"flowlet", "packet", NULL};
static const char *const wsrc_names[] = {"capacity", "link_rate", NULL};

static int get_enum8(ifb_cfg *c, const char *path, const char *const *names, uint8_t *v, ifb_err *e)
{
    int x;
    if (ifb_cfg_get_enum(c, path, names, *v, &x, e))
        return -1;
    *v = (uint8_t)x;
    return 0;
}

/* The per-queue keys at `base` (the prefix itself or one per_class entry). */
static int load_qcfg(ifb_cfg *c, const char *base, ifb_lb_qcfg *q, ifb_err *e)
{
    char k[160];
#define KEY(name) (snprintf(k, sizeof k, "%s.%s", base, name), k)
    if (get_enum8(c, KEY("mode"), ifb_lb_mode_names, &q->mode, e) ||
        get_enum8(c, KEY("flowlet_pick"), pick_names, &q->flowlet_pick, e) ||
        get_enum8(c, KEY("spray"), spray_names, &q->spray, e) ||
        get_enum8(c, KEY("adaptive"), unit_names, &q->unit, e) ||
        ifb_cfg_get_time(c, KEY("flowlet_gap"), q->flowlet_gap, &q->flowlet_gap, e))
        return -1;
#undef KEY
    return 0;
}

int ifb_lb_cfg_load(ifb_cfg *c, const char *prefix, int default_mode, ifb_lb_cfg *out, ifb_err *e)
{
    ifb_lb_cfg *r = ifb_xmalloc(sizeof *r, "the load-balancing configuration");
    ifb_lb_cfg_default(r);
    for (int q = 0; q < IFB_NQUEUES; q++)
        r->q[q].mode = (uint8_t)default_mode;
    const char *file = NULL;
    int line = ifb_cfg_where(c, prefix, &file);
    if (file)
        snprintf(r->src_file, sizeof r->src_file, "%s", file);
    snprintf(r->weights_key, sizeof r->weights_key, "%s.wcmp_weights", prefix);
    r->weights_line = line > 0 ? line : 0;
    int rc = -1;
    char k[192];
    ifb_cfg_kind kind = ifb_cfg_type(c, prefix);
    if (kind == IFB_CFG_SCALAR) {
        /* `load_balancing: spray` is the mode of every queue, all else default */
        uint8_t m = (uint8_t)default_mode;
        if (get_enum8(c, prefix, ifb_lb_mode_names, &m, e))
            goto out;
        for (int q = 0; q < IFB_NQUEUES; q++)
            r->q[q].mode = m;
        *out = *r;
        rc = 0;
        goto out;
    }
    if (kind == IFB_CFG_ABSENT) {
        *out = *r;
        rc = 0;
        goto out;
    }
    if (kind != IFB_CFG_MAP) {
        ifb_cfg_errf(c, prefix, e, "a map of load-balancing keys or a mode name", "a sequence");
        goto out;
    }
    int64_t ft, ww, dc, nb;
    bool weighted = false;
#define KEY(name) (snprintf(k, sizeof k, "%s.%s", prefix, name), k)
    if (load_qcfg(c, prefix, &r->q[0], e) ||
        ifb_cfg_get_int(c, KEY("flowlet_table"), r->flowlet_table, INT64_MIN, INT64_MAX, &ft, e) ||
        ifb_cfg_get_int(c, KEY("wcmp_width"), r->wcmp_width, INT64_MIN, INT64_MAX, &ww, e) ||
        get_enum8(c, KEY("wcmp_weights"), wsrc_names, &r->wcmp_source, e) ||
        ifb_cfg_get_int(c, KEY("drill_choices"), r->drill_choices, 1, IFB_LB_MAX_MEMBERS, &dc, e) ||
        ifb_cfg_get_time(c, KEY("quality_interval"), r->quality_interval, &r->quality_interval,
                         e) ||
        ifb_cfg_get_double(c, KEY("quality_ewma"), r->quality_ewma, 1e-6, 1.0, &r->quality_ewma,
                           e) ||
        ifb_cfg_get_double(c, KEY("quality_tx_weight"), r->quality_tx_weight, 0, 1e6,
                           &r->quality_tx_weight, e) ||
        ifb_cfg_get_double(c, KEY("quality_queue_weight"), r->quality_q_weight, 0, 1e6,
                           &r->quality_q_weight, e) ||
        ifb_cfg_get_int(c, KEY("quality_bands"), r->quality_bands, 1, 8, &nb, e) ||
        get_enum8(c, KEY("quality_ties"), pick_names, &r->quality_ties, e) ||
        ifb_cfg_get_bool(c, KEY("weighted"), false, &weighted, e))
        goto out;
    if (ft < 1 || ft > (1 << 24)) {
        ifb_cfg_errf(c, KEY("flowlet_table"), e,
                     "a flowlet table of 1 to 16777216 entries per switch", "%lld", (long long)ft);
        goto out;
    }
    if (ww < 1 || ww > 65536) {
        ifb_cfg_errf(c, KEY("wcmp_width"), e, "1 to 65536 slots per group", "%lld", (long long)ww);
        goto out;
    }
    if (r->quality_interval == 0) {
        ifb_cfg_errf(c, KEY("quality_interval"), e, "a sampling interval above 0", "0");
        goto out;
    }
    r->weighted = weighted;
    r->flowlet_table = (uint32_t)ft;
    r->wcmp_width = (uint32_t)ww;
    r->drill_choices = (int)dc;
    r->quality_bands = (int)nb;
    for (int q = 1; q < IFB_NQUEUES; q++)
        r->q[q] = r->q[0];

    /* explicit WCMP weights */
    int nw;
    if (ifb_cfg_seq_len(c, KEY("weights"), &nw, e))
        goto out;
    if (nw > IFB_LB_MAX_WEIGHTS) {
        ifb_cfg_errf(c, KEY("weights"), e, "at most 256 explicit weights", "%d", nw);
        goto out;
    }
    if (nw >= 0) {
        snprintf(r->weights_key, sizeof r->weights_key, "%s.weights", prefix);
        r->weights_line = ifb_cfg_where(c, k, NULL);
        if (r->weights_line < 0)
            r->weights_line = 0;
    }
    for (int i = 0; i < nw; i++) {
        char ks[224], kp[224], kw[224];
        snprintf(ks, sizeof ks, "%s.weights[%d].switch", prefix, i);
        snprintf(kp, sizeof kp, "%s.weights[%d].port", prefix, i);
        snprintf(kw, sizeof kw, "%s.weights[%d].weight", prefix, i);
        const char *name = NULL;
        int64_t port = -1;
        double w = -1;
        if (ifb_cfg_get_string(c, ks, NULL, &name, e) ||
            ifb_cfg_get_int(c, kp, -1, 0, 1 << 16, &port, e) ||
            ifb_cfg_get_double(c, kw, -1, 0, 1e12, &w, e))
            goto out;
        if (!name || port < 0 || w < 0) {
            ifb_cfg_errf(c,
                         !name      ? ks
                         : port < 0 ? kp
                                    : kw,
                         e, "switch, port and weight in every weights entry", "a missing key");
            goto out;
        }
        if (strlen(name) >= sizeof r->weights[i].sw) {
            ifb_cfg_errf(c, ks, e, "a switch name shorter than 32 bytes", "'%s'", name);
            goto out;
        }
        ifb_lb_weight *wt = &r->weights[i];
        snprintf(wt->sw, sizeof wt->sw, "%s", name);
        wt->port = (int)port;
        wt->weight = (uint64_t)w;
        if ((double)wt->weight != w) {
            ifb_cfg_errf(c, kw, e, "a whole number weight", "%g", w);
            goto out;
        }
        wt->line = ifb_cfg_where(c, ks, NULL);
        r->nweights = i + 1;
    }

    /* per-class (per egress queue) overrides */
    int nc;
    if (ifb_cfg_map_len(c, KEY("per_class"), &nc, e))
        goto out;
    for (int i = 0; i < nc; i++) {
        snprintf(k, sizeof k, "%s.per_class", prefix);
        const char *qk = ifb_cfg_map_key(c, k, i, NULL);
        char *end;
        long qn = qk ? strtol(qk, &end, 10) : -1;
        char base[224];
        snprintf(base, sizeof base, "%s.per_class.%s", prefix, qk ? qk : "?");
        if (!qk || *end || end == qk || qn < 0 || qn >= IFB_NQUEUES) {
            ifb_cfg_errf(c, base, e, "an egress queue number 0..7 as the key", "'%s'",
                         qk ? qk : "?");
            goto out;
        }
        ifb_lb_qcfg *q = &r->q[qn];
        if (ifb_cfg_type(c, base) == IFB_CFG_SCALAR) {
            if (get_enum8(c, base, ifb_lb_mode_names, &q->mode, e))
                goto out;
        } else if (ifb_cfg_type(c, base) == IFB_CFG_MAP) {
            if (load_qcfg(c, base, q, e))
                goto out;
        } else {
            ifb_cfg_errf(c, base, e, "a mode name or a map of per-queue keys", "a sequence");
            goto out;
        }
    }
#undef KEY
    *out = *r;
    rc = 0;
out:
    free(r);
    return rc;
}
