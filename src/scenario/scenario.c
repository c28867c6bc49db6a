/* Scenario loading (see scenario.h, docs/scenario.md): the file or embedded scenario and its
 * --set overrides, then the sections in order (topology: scenario_topo.c, fabric:
 * scenario_fabric.c, load balancing: lb_cfg.c, outputs and faults: scenario_faults.c), and the
 * warnings for combinations a deployment would not run. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/embedded.h"
#include "net/fail/failure.h"
#include "net/wire/wire.h"
#include "scenario/ib_cfg.h"
#include "scenario/lb_cfg.h"
#include "scenario/scenario.h"
#include "scenario/scenario_int.h"

static void warn(ifb_scenario *sc, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void warn(ifb_scenario *sc, const char *key, const char *fmt, ...)
{
    if (sc->nwarnings == IFB_MAX_WARNINGS)
        return;
    char *w = sc->warnings[sc->nwarnings++];
    size_t cap = sizeof sc->warnings[0];
    const char *file = NULL;
    int line = ifb_cfg_where(sc->cfg, key, &file);
    int k;
    if (line > 0)
        k = snprintf(w, cap, "%s:%d: %s: ", file, line, key);
    else if (line == 0)
        k = snprintf(w, cap, "--set %s: ", key);
    else
        k = snprintf(w, cap, "%s: %s: ", sc->source, key);
    va_list ap;
    va_start(ap, fmt);
    if (k >= 0 && (size_t)k < cap)
        vsnprintf(w + k, cap - (size_t)k, fmt, ap);
    va_end(ap);
}

void ifb_scenario_print_warnings(const ifb_scenario *sc, FILE *out)
{
    for (int i = 0; i < sc->nwarnings; i++)
        fprintf(out, "infabric: warning: %s\n", sc->warnings[i]);
}

/* Queue q's path selection sends the packets of one QP down several paths. */
static int per_packet(const ifb_lb_qcfg *q)
{
    return q->mode == IFB_LBA_SPRAY || q->mode == IFB_LBA_AR ||
           ((q->mode == IFB_LBA_ADAPTIVE || q->mode == IFB_LBA_INT_ADAPTIVE) &&
            q->unit == IFB_LB_UNIT_PACKET);
}

/* Combinations the loader accepts but a deployment would not run, said loudly (docs/scenario.md
 * calls them wrong): they run, and the figures show what they cost. */
static void check_combinations(ifb_scenario *sc)
{
    const ifb_fabric_cfg *f = &sc->fab;
    int multipath = 0; /* some switch has a choice to make: there per-packet modes reorder */
    for (int g = 0; g < sc->topo.ngroups && !multipath; g++)
        multipath = sc->topo.groups[g].count > 1;
    char which[160] = "";
    int nq = 0, mode = -1;
    for (int t = 0; t < IFB_TC_COUNT && multipath; t++) {
        int q = f->l2 == IFB_L2_IB ? f->ib_sl2vl[f->tclass[t].sl & 15] : f->tclass[t].queue;
        const ifb_lb_qcfg *qc = sc->lb.cls[t].has_mode ? &sc->lb.cls[t].q : &sc->lb.q[q];
        if (ifb_class_ooo(f, t) || !per_packet(qc))
            continue;
        size_t len = strlen(which);
        snprintf(which + len, sizeof which - len, "%s%s (queue %d)", nq ? ", " : "",
                 ifb_sc_class_names[t], q);
        nq++;
        if (mode < 0)
            mode = qc->mode;
    }
    if (nq && sc->lb.ooo_fallback)
        warn(sc, "fabric.load_balancing",
             "per-packet path selection (%s) for class%s %s, whose receivers place in order only "
             "(fabric.nic.ooo or fabric.classes.<c>.ooo false): the switches choose per flowlet "
             "for %s instead (load_balancing.ooo_fallback; false keeps per-packet choice and "
             "every reordering costs a go-back-N resend)",
             ifb_lb_algo_name(mode), nq > 1 ? "es" : "", which, nq > 1 ? "them" : "it");
    else if (nq)
        warn(sc, "fabric.load_balancing",
             "per-packet path selection (%s) for class%s %s reorders a QP's packets, but "
             "fabric.nic.ooo is false: a go-back-N receiver drops every packet behind a reordered "
             "one and the sender resends them all; per-packet modes need out-of-order placement "
             "(fabric.nic.ooo: true)",
             ifb_lb_algo_name(mode), nq > 1 ? "es" : "", which);
    if (f->l2 != IFB_L2_ROCEV2 || sc->topo.nswitches < 2)
        return;
    for (int t = 0; t < IFB_TC_COUNT; t++) {
        int q = f->tclass[t].queue;
        if ((f->pfc && f->queue[q].lossless) || ifb_class_ooo(f, t))
            continue;
        warn(sc, f->pfc ? "fabric.queues" : "fabric.pfc.enable",
             "a lossy RoCE fabric of %d switches: class %s on queue %d is %s and the NICs are "
             "go-back-N (fabric.nic.ooo false), so every drop makes the sender resend all it sent "
             "after it; RoCE deployments run PFC on the RDMA priority with ECN and DCQCN "
             "(fabric.pfc.enable, fabric.queues[%d].lossless, fabric.dcqcn.enable; see "
             "scenarios/large-rail.yaml), or selective repeat (fabric.nic.ooo: true)",
             sc->topo.nswitches, ifb_sc_class_names[t], q,
             f->pfc ? "not lossless" : "lossy (PFC off)", q);
        break;
    }
}

int ifb_scenario_load(ifb_scenario *sc, const char *path, const char *const *sets, int nsets,
                      ifb_err *e)
{
    return ifb_scenario_load_limit(sc, path, sets, nsets, 0, e);
}

int ifb_scenario_load_limit(ifb_scenario *sc, const char *path, const char *const *sets, int nsets,
                            uint64_t limit, ifb_err *e)
{
    memset(sc, 0, sizeof *sc);
    ifb_topo_init(&sc->topo);
    const char *name = path ? path : IFB_DEFAULT_SCENARIO;
    if (path && access(path, F_OK) == 0) {
        if (strlen(path) >= sizeof sc->source) /* its folder locates a relative topology file */
            return ifb_err_msg(
                e, "%.120s...: expected a scenario path of at most %zu bytes, found %zu", path,
                sizeof sc->source - 1, strlen(path));
        sc->cfg = ifb_cfg_load_file(path, e);
        snprintf(sc->source, sizeof sc->source, "%s", path);
    } else {
        const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
        const char *text = ifb_embedded_file(base);
        char withext[256];
        if (!text && !strchr(base, '.') &&
            snprintf(withext, sizeof withext, "%s.yaml", base) < (int)sizeof withext &&
            (text = ifb_embedded_file(withext)))
            base = withext; /* `infabric check reference-ib`: the suffix is optional */
        if (!text) {
            char list[512] = "";
            size_t n = 0;
            for (int i = 0; ifb_embedded_name(i) && n < sizeof list; i++) {
                const char *en = ifb_embedded_name(i);
                size_t l = strlen(en);
                if (l > 5 && !strcmp(en + l - 5, ".yaml"))
                    n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", n ? ", " : "", en);
            }
            return ifb_err_msg(e,
                               "cannot open %.300s: no such file, and no embedded scenario of "
                               "that name (embedded: %s)",
                               path, list);
        }
        snprintf(sc->source, sizeof sc->source, "<embedded %s>", base);
        sc->cfg = ifb_cfg_load_string(text, sc->source, e);
    }
    if (!sc->cfg)
        return -1;
    for (int i = 0; i < nsets; i++)
        if (ifb_cfg_set(sc->cfg, sets[i], e))
            return -1;
    const char *nm = NULL;
    int64_t seed;
    if (ifb_cfg_get_string(sc->cfg, "name", name, &nm, e) ||
        ifb_cfg_get_int(sc->cfg, "seed", 1, 0, INT64_MAX, &seed, e))
        return -1;
    snprintf(sc->name, sizeof sc->name, "%s", nm);
    sc->seed = (uint64_t)seed;
    if (ifb_sc_load_topology(sc, e) || ifb_sc_load_fabric(sc, e) ||
        ifb_sc_route_topology(sc, limit, e) ||
        ifb_lb_cfg_check(sc->cfg, "fabric.load_balancing", &sc->lb, &sc->fab, &sc->topo, e) ||
        ifb_sc_load_output(sc, e) || ifb_sc_load_faults(sc, e) || ifb_sc_load_failures(sc, e))
        return -1;
    check_combinations(sc);
    return 0;
}

int ifb_scenario_check_unused(ifb_scenario *sc, ifb_err *e)
{
    return ifb_cfg_check_unused(sc->cfg, e);
}

void ifb_scenario_free(ifb_scenario *sc)
{
    free(sc->port_loss);
    free(sc->failures);
    free((void *)sc->fab.pfc_storms); /* allocated by load_pfc_storm */
    ifb_cfg_free(sc->cfg);
    ifb_topo_free(&sc->topo);
    memset(sc, 0, sizeof *sc);
}
