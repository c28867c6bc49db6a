/* Scenario loading, outputs and faults: the output section (sampling, pcap capture ports),
 * link loss and corruption, PFC storms, and scheduled link/switch/NIC failures. */
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

int ifb_sc_load_output(ifb_scenario *sc, ifb_err *e)
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
    if (pf && strlen(pf) >= sizeof sc->pcap_file)
        return ifb_cfg_errf(c, "output.pcap.file", e, "a path of at most 511 bytes", "%zu bytes",
                            strlen(pf));
    if (pf)
        snprintf(sc->pcap_file, sizeof sc->pcap_file, "%s", pf);
    if (n > 0 && !pf)
        return ifb_cfg_errf(c, "output.pcap", e, "output.pcap.file with the ports", "none");
    /* a file and nothing to capture would be written empty (or not at all): say so */
    if (pf && n <= 0)
        return ifb_cfg_errf(c, "output.pcap.file", e,
                            "output.pcap.ports with it: the ports to capture, NODE or NODE:PORT",
                            "%s", n == 0 ? "an empty list" : "no ports");
    return 0;
}

/* faults[i]: {pfc_storm: HOST, priority: P, start: T, duration: D} — the NIC of HOST sends PFC
 * XOFF on priority P toward its switch from T for D (net/switch/pfc.c). */
static int load_pfc_storm(ifb_scenario *sc, int i, int nfaults, ifb_err *e)
{
    ifb_cfg *c = sc->cfg;
    ifb_fabric_cfg *f = &sc->fab;
    char kh[64], kp[64], ks[64], kd[64];
    snprintf(kh, sizeof kh, "faults[%d].pfc_storm", i);
    snprintf(kp, sizeof kp, "faults[%d].priority", i);
    snprintf(ks, sizeof ks, "faults[%d].start", i);
    snprintf(kd, sizeof kd, "faults[%d].duration", i);
    const char *host = NULL;
    int64_t prio;
    ifb_time start, dur;
    if (ifb_cfg_get_string(c, kh, NULL, &host, e) ||
        ifb_cfg_get_int(c, kp, 3, 0, IFB_NQUEUES - 1, &prio, e) ||
        ifb_cfg_get_time(c, ks, 0, &start, e) || ifb_cfg_get_time(c, kd, 0, &dur, e))
        return -1;
    int node = host ? ifb_topo_find_node(&sc->topo, host) : -1;
    if (node < 0 || sc->topo.nodes[node].kind == IFB_NODE_SWITCH)
        return ifb_cfg_errf(c, kh, e, "the name of a host (a NIC) in the topology", "'%s'%s",
                            host ? host : "", node >= 0 ? ", a switch" : "");
    uint8_t lossless = 0;
    for (int q = 0; q < IFB_NQUEUES; q++)
        lossless |= (uint8_t)(f->queue[q].lossless << q);
    uint8_t mask = f->pfc ? (f->pfc_prios ? f->pfc_prios : lossless) : 0;
    if (!(mask & (1u << prio)))
        return ifb_cfg_errf(c, kp, e,
                            "a priority PFC acts on (fabric.pfc.enable and a lossless queue)",
                            "priority %d%s", (int)prio, f->pfc ? "" : " with PFC off");
    if (!dur)
        return ifb_cfg_errf(c, kd, e, "a storm duration above 0", "0");
    if (!f->pfc_storms) {
        f->pfc_storms = ifb_xcalloc((size_t)nfaults, sizeof *f->pfc_storms, "the PFC storms");
    }
    ifb_pfc_storm *st = (ifb_pfc_storm *)&f->pfc_storms[f->npfc_storms++];
    *st = (ifb_pfc_storm){sc->topo.nodes[node].host, (int)prio, start, dur};
    return 0;
}

/* faults: [{link: NODE[:PORT], loss: P}] — frames crossing that link in either direction are
 * corrupted with probability P (FCS errors); the transport recovers them. */
int ifb_sc_load_faults(ifb_scenario *sc, ifb_err *e)
{
    ifb_cfg *c = sc->cfg;
    int n = -1;
    if (ifb_cfg_seq_len(c, "faults", &n, e))
        return -1;
    for (int i = 0; i < n; i++) {
        char kl[64], kp[64];
        snprintf(kl, sizeof kl, "faults[%d].pfc_storm", i);
        if (ifb_cfg_has(c, kl)) {
            if (load_pfc_storm(sc, i, n, e))
                return -1;
            continue;
        }
        snprintf(kl, sizeof kl, "faults[%d].link", i);
        snprintf(kp, sizeof kp, "faults[%d].loss", i);
        const char *spec;
        double loss;
        if (ifb_cfg_get_string(c, kl, NULL, &spec, e) ||
            ifb_cfg_get_double(c, kp, 0, 0, 1, &loss, e))
            return -1;
        if (!spec)
            return ifb_cfg_errf(c, kl, e, "the link as NODE or NODE:PORT", "none");
        int p = find_port(&sc->topo, spec);
        if (p < 0 || sc->topo.ports[p].link < 0)
            return ifb_cfg_errf(c, kl, e, "a connected port as NODE or NODE:PORT", "'%s'", spec);
        if (!sc->port_loss) {
            sc->port_loss =
                ifb_xcalloc((size_t)sc->topo.nports, sizeof *sc->port_loss, "the port loss rates");
        }
        const ifb_topo_port *tp = &sc->topo.ports[p];
        sc->port_loss[p] = loss;
        sc->port_loss[sc->topo.nodes[tp->peer_node].first_port + tp->peer_port] = loss;
    }
    sc->fab.port_loss = sc->port_loss;
    return 0;
}

/* failures: [{link: NODE[:PORT] | switch: NAME, down: T, up: T, flap: {period, down_for,
 * count}}] plus fabric.failure_detection, fabric.nic.retry_cnt and fabric.goodput_bin
 * (net/fail/failure.h). */
int ifb_sc_load_failures(ifb_scenario *sc, ifb_err *e)
{
    ifb_cfg *c = sc->cfg;
    ifb_fabric_cfg *f = &sc->fab;
    int64_t retry;
    if (ifb_cfg_get_time(c, "fabric.failure_detection", f->fail_detection, &f->fail_detection, e) ||
        /* 7: the largest the 3-bit IB field takes, and what NCCL sets (NCCL_IB_RETRY_CNT) */
        ifb_cfg_get_int(c, "fabric.nic.retry_cnt", 7, 0, 7, &retry, e) ||
        ifb_cfg_get_time(c, "fabric.goodput_bin", f->goodput_bin, &f->goodput_bin, e))
        return -1;
    f->retry_cnt = (uint32_t)retry;
    int n = -1;
    if (ifb_cfg_seq_len(c, "failures", &n, e))
        return -1;
    if (n <= 0)
        return 0;
    sc->failures = ifb_xcalloc((size_t)n, sizeof *sc->failures, "the failure schedule");
    for (int i = 0; i < n; i++) {
        char kl[64], ks[64], kd[64], ku[64], kf[64], kp[80], kdf[80], kc[80];
        snprintf(kl, sizeof kl, "failures[%d].link", i);
        snprintf(ks, sizeof ks, "failures[%d].switch", i);
        snprintf(kd, sizeof kd, "failures[%d].down", i);
        snprintf(ku, sizeof ku, "failures[%d].up", i);
        snprintf(kf, sizeof kf, "failures[%d].flap", i);
        snprintf(kp, sizeof kp, "failures[%d].flap.period", i);
        snprintf(kdf, sizeof kdf, "failures[%d].flap.down_for", i);
        snprintf(kc, sizeof kc, "failures[%d].flap.count", i);
        ifb_failure *x = &sc->failures[i];
        *x = (ifb_failure){.port = -1, .sw = -1, .up = IFB_TIME_NEVER};
        const char *link = NULL, *swn = NULL;
        int64_t count = 0;
        if (ifb_cfg_get_string(c, kl, NULL, &link, e) || ifb_cfg_get_string(c, ks, NULL, &swn, e))
            return -1;
        if (!link == !swn)
            return ifb_cfg_errf(c, link ? ks : kl, e,
                                "exactly one of link (NODE or NODE:PORT) and switch (NAME)",
                                link ? "both" : "neither");
        if (link) {
            x->port = find_port(&sc->topo, link);
            if (x->port < 0 || sc->topo.ports[x->port].link < 0)
                return ifb_cfg_errf(c, kl, e, "a connected port as NODE or NODE:PORT", "'%s'",
                                    link);
        } else {
            x->sw = ifb_topo_find_node(&sc->topo, swn);
            if (x->sw < 0 || sc->topo.nodes[x->sw].kind != IFB_NODE_SWITCH)
                return ifb_cfg_errf(c, ks, e, "the name of a switch of the topology", "'%s'", swn);
        }
        if (!ifb_cfg_has(c, kd))
            return ifb_cfg_errf(c, kd, e, "the time the link or switch goes down", "none");
        if (ifb_cfg_get_time(c, kd, 0, &x->down, e))
            return -1;
        if (ifb_cfg_has(c, kf)) {
            if (ifb_cfg_has(c, ku))
                return ifb_cfg_errf(c, ku, e, "either up or flap, not both", "both");
            if (!ifb_cfg_has(c, kp) || !ifb_cfg_has(c, kdf) || !ifb_cfg_has(c, kc))
                return ifb_cfg_errf(c, kf, e, "flap with period, down_for and count",
                                    "a missing key");
            if (ifb_cfg_get_time(c, kp, 0, &x->flap_period, e) ||
                ifb_cfg_get_time(c, kdf, 0, &x->flap_down, e) ||
                ifb_cfg_get_int(c, kc, 0, 1, 1000000, &count, e))
                return -1;
            if (!(x->flap_down > 0 && x->flap_down < x->flap_period))
                return ifb_cfg_errf(c, kdf, e, "a down time above 0 and below the period",
                                    "%.3f us with a period of %.3f us",
                                    ifb_time_to_us(x->flap_down), ifb_time_to_us(x->flap_period));
            if ((uint64_t)count > IFB_TIME_CFG_MAX / x->flap_period) /* no wrapped flap times */
                return ifb_cfg_errf(c, kc, e, "count x period of at most 3600s", "%lld x %.3f us",
                                    (long long)count, ifb_time_to_us(x->flap_period));
            x->flap_count = (int)count;
        } else if (ifb_cfg_has(c, ku)) {
            if (ifb_cfg_get_time(c, ku, 0, &x->up, e))
                return -1;
            if (x->up <= x->down)
                return ifb_cfg_errf(c, ku, e, "a time after down", "%.3f us, down at %.3f us",
                                    ifb_time_to_us(x->up), ifb_time_to_us(x->down));
        }
        sc->nfailures = i + 1;
    }
    return 0;
}
