/* Scenario loading: topology and fabric sections (see scenario.h, docs/scenario.md). */
#include "scenario/scenario.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/embedded.h"

/* Light travels 5 ns per metre in fibre and copper twinax alike, near enough. */
#define PS_PER_MM 5

static const char *const topo_kinds[] = {"single", "leaf-spine", "fat-tree", "rail", "file", NULL};
enum { TK_SINGLE, TK_LEAF_SPINE, TK_FAT_TREE, TK_RAIL, TK_FILE };

static int get_i(ifb_cfg *c, const char *path, int64_t def, int64_t lo, int64_t hi, int *out,
                 ifb_err *e)
{
    int64_t v;
    if (ifb_cfg_get_int(c, path, def, lo, hi, &v, e))
        return -1;
    *out = (int)v;
    return 0;
}

/* A link's propagation delay from either `<prefix>_delay` or `<prefix>_cable` (length). */
static int get_delay(ifb_cfg *c, const char *prefix, ifb_time def, ifb_time *out, ifb_err *e)
{
    char kd[96], kc[96];
    snprintf(kd, sizeof kd, "topology.%s_delay", prefix);
    snprintf(kc, sizeof kc, "topology.%s_cable", prefix);
    if (ifb_cfg_has(c, kd) && ifb_cfg_has(c, kc))
        return ifb_cfg_errf(c, kc, e, "either a cable length or a delay", "both %s and %s", kd, kc);
    if (ifb_cfg_has(c, kc)) {
        uint64_t mm;
        if (ifb_cfg_get_distance(c, kc, 0, &mm, e))
            return -1;
        *out = (ifb_time)mm * PS_PER_MM;
        return 0;
    }
    return ifb_cfg_get_time(c, kd, def, out, e);
}

static int load_topology(ifb_scenario *sc, ifb_err *e)
{
    ifb_cfg *c = sc->cfg;
    int kind;
    if (ifb_cfg_get_enum(c, "topology.kind", topo_kinds, TK_SINGLE, &kind, e))
        return -1;
    int servers, gpus, nics, ports;
    if (get_i(c, "topology.servers", 2, 1, 1 << 20, &servers, e) ||
        get_i(c, "topology.gpus_per_server", 8, 1, 1024, &gpus, e) ||
        get_i(c, "topology.nics_per_server", 4, 1, 1024, &nics, e) ||
        get_i(c, "topology.switch_ports", 128, 1, 1 << 16, &ports, e))
        return -1;
    char want[96];
    if (nics > gpus) {
        snprintf(want, sizeof want, "at most one NIC per GPU (gpus_per_server = %d)", gpus);
        return ifb_cfg_errf(c, "topology.nics_per_server", e, want, "%d", nics);
    }
    ifb_server_spec s = {.gpus_per_server = gpus, .nics_per_server = nics};
    int gpu_nic[1024];
    int n = -1;
    if (ifb_cfg_seq_len(c, "topology.gpu_nic", &n, e))
        return -1;
    if (n >= 0) {
        if (n != gpus) {
            snprintf(want, sizeof want, "one NIC index per GPU (%d entries)", gpus);
            return ifb_cfg_errf(c, "topology.gpu_nic", e, want, "%d entries", n);
        }
        for (int i = 0; i < n; i++) {
            char k[64];
            snprintf(k, sizeof k, "topology.gpu_nic[%d]", i);
            if (get_i(c, k, 0, 0, nics - 1, &gpu_nic[i], e))
                return -1;
        }
        s.gpu_nic = gpu_nic;
    }
    if (ifb_cfg_get_rate(c, "topology.nic_rate", 400000000000ull, &s.nic_bps, e) ||
        get_delay(c, "host", 25 * IFB_NS, &s.host_delay, e) ||
        ifb_cfg_get_rate(c, "topology.nvlink_rate", 3600000000000ull, &s.nvlink_bps, e) ||
        ifb_cfg_get_time(c, "topology.nvlink_latency", IFB_US, &s.nvlink_latency, e))
        return -1;
    uint64_t fabric_bps;
    ifb_time fabric_delay;
    int leaves, spines, uplinks, k;
    if (ifb_cfg_get_rate(c, "topology.fabric_rate", s.nic_bps, &fabric_bps, e) ||
        get_delay(c, "fabric", 1500 * IFB_NS, &fabric_delay, e) ||
        get_i(c, "topology.leaves", 2, 1, 1 << 16, &leaves, e) ||
        get_i(c, "topology.spines", 2, 1, 1 << 16, &spines, e) ||
        get_i(c, "topology.uplinks_per_spine", 1, 1, 1024, &uplinks, e) ||
        get_i(c, "topology.k", 4, 2, 256, &k, e))
        return -1;
    const char *file = NULL;
    if (ifb_cfg_get_string(c, "topology.file", NULL, &file, e))
        return -1;
    ifb_err be = {{0}};
    int rc = 0;
    switch (kind) {
    case TK_SINGLE:
        rc = ifb_topo_single_switch(&sc->topo, servers, &s, ports, &be);
        break;
    case TK_LEAF_SPINE:
        rc = ifb_topo_leaf_spine(&sc->topo, servers, &s, leaves, spines, uplinks, fabric_bps,
                                 fabric_delay, ports, &be);
        break;
    case TK_FAT_TREE:
        rc = ifb_topo_fat_tree(&sc->topo, k, &s, fabric_bps, fabric_delay, &be);
        break;
    case TK_RAIL:
        rc = ifb_topo_rail(&sc->topo, servers, &s, spines, uplinks, fabric_bps, fabric_delay, ports,
                           &be);
        break;
    case TK_FILE:
        if (!file)
            return ifb_cfg_errf(c, "topology", e, "a topology.file for kind: file", "none");
        {
            /* A relative topology file is found next to the scenario file. */
            char full[1024];
            const char *slash = strrchr(sc->source, '/');
            if (file[0] != '/' && slash && sc->source[0] != '<')
                snprintf(full, sizeof full, "%.*s/%s", (int)(slash - sc->source), sc->source, file);
            else
                snprintf(full, sizeof full, "%s", file);
            rc = ifb_topo_load(&sc->topo, full, &s, &be);
        }
        if (rc) {
            snprintf(e->msg, sizeof e->msg, "%s", be.msg);
            return -1;
        }
        break;
    default:
        break;
    }
    if (rc)
        return ifb_cfg_errf(c, "topology.kind", e, "a topology that can be built", "%s", be.msg);
    if (ifb_topo_route(&sc->topo, &be))
        return ifb_cfg_errf(c, "topology", e, "every host reachable from every other", "%s",
                            be.msg);
    return 0;
}

static const char *const l2_names[] = {"roce", "infiniband", NULL};
static const char *const sched_names[] = {"strict", "dwrr", NULL};
static const char *const switch_modes[] = {"store-and-forward", "cut-through", NULL};
static const char *const lb_names[] = {"ecmp", NULL};
static const char *const class_names[IFB_TC_COUNT] = {"a2a", "kv", "pp", "coll"};

static int load_fabric(ifb_scenario *sc, ifb_err *e)
{
    ifb_cfg *c = sc->cfg;
    ifb_fabric_cfg *f = &sc->fab;
    ifb_fabric_cfg_default(f);
    int l2 = (int)f->l2, ct = f->cut_through, lb = (int)f->lb;
    uint64_t mtu = f->mtu;
    bool vlan = f->vlan;
    int64_t qps, ackev, win, ctrl;
    if (ifb_cfg_get_enum(c, "fabric.kind", l2_names, l2, &l2, e) ||
        ifb_cfg_get_bytes(c, "fabric.mtu", mtu, &mtu, e) ||
        ifb_cfg_get_bool(c, "fabric.vlan", vlan, &vlan, e) ||
        ifb_cfg_get_time(c, "fabric.switch.latency", f->switch_latency, &f->switch_latency, e) ||
        ifb_cfg_get_enum(c, "fabric.switch.mode", switch_modes, ct, &ct, e) ||
        ifb_cfg_get_bytes(c, "fabric.switch.buffer", f->switch_buffer, &f->switch_buffer, e) ||
        ifb_cfg_get_double(c, "fabric.switch.alpha", f->dt_alpha, 1.0 / 128, 128, &f->dt_alpha,
                           e) ||
        ifb_cfg_get_time(c, "fabric.nic.tx_latency", f->nic_tx_latency, &f->nic_tx_latency, e) ||
        ifb_cfg_get_time(c, "fabric.nic.rx_latency", f->nic_rx_latency, &f->nic_rx_latency, e) ||
        ifb_cfg_get_int(c, "fabric.nic.qps_per_conn", f->qps_per_conn, 1, 256, &qps, e) ||
        ifb_cfg_get_int(c, "fabric.nic.ack_every", f->ack_every, 1, 1 << 16, &ackev, e) ||
        ifb_cfg_get_time(c, "fabric.nic.rto", f->rto, &f->rto, e) ||
        ifb_cfg_get_int(c, "fabric.nic.window", f->window, 0, 1 << 24, &win, e) ||
        ifb_cfg_get_enum(c, "fabric.load_balancing", lb_names, lb, &lb, e) ||
        ifb_cfg_get_int(c, "fabric.ctrl_queue", f->ctrl_queue, 0, IFB_NQUEUES - 1, &ctrl, e) ||
        ifb_cfg_get_time(c, "output.sample_interval", f->sample_interval, &f->sample_interval, e))
        return -1;
    if (mtu < 256 || mtu > 9000)
        return ifb_cfg_errf(c, "fabric.mtu", e, "a payload MTU between 256B and 9000B", "%llu B",
                            (unsigned long long)mtu);
    if (l2 == IFB_L2_IB)
        return ifb_cfg_errf(c, "fabric.kind", e, "roce (the InfiniBand fabric is not built yet)",
                            "infiniband");
    f->l2 = (ifb_l2)l2;
    f->mtu = (uint32_t)mtu;
    f->vlan = vlan;
    f->cut_through = ct;
    f->lb = (ifb_lb_mode)lb;
    f->qps_per_conn = (int)qps;
    f->ack_every = (uint32_t)ackev;
    f->window = (uint32_t)win;
    f->ctrl_queue = (uint8_t)ctrl;
    if (f->switch_buffer == 0)
        return ifb_cfg_errf(c, "fabric.switch.buffer", e, "a buffer size above zero", "0");
    for (int q = 0; q < IFB_NQUEUES; q++) {
        char k[64];
        snprintf(k, sizeof k, "fabric.queues[%d]", q);
        if (!ifb_cfg_has(c, k))
            continue;
        char ks[80], kw[80];
        snprintf(ks, sizeof ks, "%s.sched", k);
        snprintf(kw, sizeof kw, "%s.weight", k);
        int sched = f->queue[q].sched;
        int64_t w = f->queue[q].weight;
        if (ifb_cfg_get_enum(c, ks, sched_names, sched, &sched, e) ||
            ifb_cfg_get_int(c, kw, w, 1, 1000, &w, e))
            return -1;
        f->queue[q] = (ifb_queue_cfg){.sched = (uint8_t)sched, .weight = (uint32_t)w};
    }
    int nq = -1;
    if (ifb_cfg_seq_len(c, "fabric.queues", &nq, e))
        return -1;
    if (nq > IFB_NQUEUES)
        return ifb_cfg_errf(c, "fabric.queues", e, "at most 8 queues", "%d", nq);
    for (int t = 0; t < IFB_TC_COUNT; t++) {
        char kd[64], kq[64];
        snprintf(kd, sizeof kd, "fabric.classes.%s.dscp", class_names[t]);
        snprintf(kq, sizeof kq, "fabric.classes.%s.queue", class_names[t]);
        int64_t dscp = f->tclass[t].dscp, q = f->tclass[t].queue;
        if (ifb_cfg_get_int(c, kd, dscp, 0, 63, &dscp, e) ||
            ifb_cfg_get_int(c, kq, q, 0, IFB_NQUEUES - 1, &q, e))
            return -1;
        f->tclass[t] = (ifb_class_cfg){.dscp = (uint8_t)dscp, .queue = (uint8_t)q};
    }
    return 0;
}

static int find_port(const ifb_topo *t, const char *spec)
{
    char name[64];
    const char *colon = strchr(spec, ':');
    size_t len = colon ? (size_t)(colon - spec) : strlen(spec);
    if (len >= sizeof name)
        return -1;
    memcpy(name, spec, len);
    name[len] = '\0';
    int node = ifb_topo_find_node(t, name);
    if (node < 0)
        return -1;
    int port = 0;
    if (colon) {
        char *end;
        long v = strtol(colon + 1, &end, 10);
        if (*end || end == colon + 1 || v < 0 || v >= t->nodes[node].nports)
            return -1;
        port = (int)v;
    }
    return t->nodes[node].first_port + port;
}

static int load_output(ifb_scenario *sc, ifb_err *e)
{
    ifb_cfg *c = sc->cfg;
    const char *pf = NULL;
    if (ifb_cfg_get_string(c, "output.pcap.file", NULL, &pf, e))
        return -1;
    int n = -1;
    if (ifb_cfg_seq_len(c, "output.pcap.ports", &n, e))
        return -1;
    if (n > IFB_MAX_CAPTURE)
        return ifb_cfg_errf(c, "output.pcap.ports", e, "at most 16 ports", "%d", n);
    for (int i = 0; i < n; i++) {
        char k[64];
        const char *spec;
        snprintf(k, sizeof k, "output.pcap.ports[%d]", i);
        if (ifb_cfg_get_string(c, k, "", &spec, e))
            return -1;
        int p = find_port(&sc->topo, spec);
        if (p < 0)
            return ifb_cfg_errf(c, k, e, "a port as NODE or NODE:PORT of this topology", "'%s'",
                                spec);
        sc->capture_ports[sc->ncapture++] = p;
    }
    if (pf)
        snprintf(sc->pcap_file, sizeof sc->pcap_file, "%s", pf);
    if (n > 0 && !pf)
        return ifb_cfg_errf(c, "output.pcap", e, "output.pcap.file with the ports", "none");
    return 0;
}

int ifb_scenario_load(ifb_scenario *sc, const char *path, const char *const *sets, int nsets,
                      ifb_err *e)
{
    memset(sc, 0, sizeof *sc);
    ifb_topo_init(&sc->topo);
    const char *name = path ? path : IFB_DEFAULT_SCENARIO;
    if (path && access(path, F_OK) == 0) {
        sc->cfg = ifb_cfg_load_file(path, e);
        snprintf(sc->source, sizeof sc->source, "%s", path);
    } else {
        const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
        const char *text = ifb_embedded_file(base);
        if (!text)
            return ifb_err_msg(e,
                               "cannot open %s: no such file, and no embedded scenario of "
                               "that name",
                               path);
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
    if (load_topology(sc, e) || load_fabric(sc, e) || load_output(sc, e))
        return -1;
    return 0;
}

int ifb_scenario_check_unused(ifb_scenario *sc, ifb_err *e)
{
    return ifb_cfg_check_unused(sc->cfg, e);
}

void ifb_scenario_free(ifb_scenario *sc)
{
    ifb_cfg_free(sc->cfg);
    ifb_topo_free(&sc->topo);
    memset(sc, 0, sizeof *sc);
}
