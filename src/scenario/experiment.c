/* One experiment run (see experiment.h): scenario -> fabric + serving workload -> engine ->
 * metrics. The result object holds the sweep point, the serving metrics the summary table and
 * plots use, and the fabric's counters, so a reader can tell where a difference comes from. */
#include "scenario/experiment.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "net/fabric/fabric.h"
#include "net/fail/failure.h"
#include "net/switch/int.h"
#include "report/out.h"
#include "scenario/scenario.h"
#include "scenario/serving_cfg.h"
#include "workload/serving/serving.h"

typedef struct loaded {
    ifb_scenario sc;
    ifb_serving_cfg scfg;
    int have_scfg;
} loaded;

static void unload(loaded *l)
{
    if (l->have_scfg)
        ifb_serving_cfg_free(&l->scfg);
    ifb_scenario_free(&l->sc);
}

static int load(const ifb_job *job, loaded *l, ifb_err *e)
{
    memset(l, 0, sizeof *l);
    if (ifb_scenario_load_limit(&l->sc, job->scenario, job->sets, job->nsets, job->max_memory, e))
        return -1;
    if (job->seed >= 0)
        l->sc.seed = (uint64_t)job->seed;
    l->sc.seed += (uint64_t)job->seed_offset;
    if (ifb_serving_cfg_load(l->sc.cfg, "workload", &l->scfg, e))
        return -1;
    l->have_scfg = 1;
    if (l->scfg.seed) /* a workload with its own seed: --seeds varies it too */
        l->scfg.seed += (uint64_t)job->seed_offset;
    return ifb_scenario_check_unused(&l->sc, e);
}

int ifb_experiment_check(const ifb_job *job, ifb_err *e)
{
    loaded l;
    int rc = load(job, &l, e);
    if (!rc) {
        /* the layout and the memory check too: parallelism that does not divide, a model
         * that does not fit */
        ifb_serving *sv = NULL;
        uint64_t eps = (uint64_t)l.sc.topo.nservers * (uint64_t)l.sc.topo.gpus_per_server;
        uint64_t reqs = (uint64_t)(l.scfg.concurrency > 0 ? l.scfg.concurrency : 1) * 4 +
                        (uint64_t)(l.scfg.requests > 0 ? l.scfg.requests : 0);
        ifb_mem_demand dm;
        ifb_mem_demand_serving(&dm, &l.sc, reqs * 2048 + eps * 65536);
        rc = ifb_scenario_check_memory(&l.sc, &dm, job->max_memory, e);
        if (!rc)
            rc = ifb_serving_create(&sv, &l.scfg, l.sc.topo.nservers, l.sc.topo.gpus_per_server, e);
        if (sv)
            ifb_serving_destroy(sv);
    }
    unload(&l);
    return rc;
}

/* mean_NAME_ms, median_NAME_ms, p90_NAME_ms, p99_NAME_ms (sglang.bench_serving's names, with
 * P90 added) from a digest in seconds, and NAME_samples: how many values they rest on. */
static void pctl_ms(ifb_json *j, const char *name, const ifb_pctl *p)
{
    static const char *const pre[] = {"mean", "median", "p90", "p99"};
    const double v[] = {p->mean, p->p50, p->p90, p->p99};
    char key[64];
    for (int i = 0; i < 4; i++) {
        snprintf(key, sizeof key, "%s_%s_ms", pre[i], name);
        ifb_json_kdouble(j, key, v[i] * 1e3);
    }
    snprintf(key, sizeof key, "%s_samples", name);
    ifb_json_kuint(j, key, p->n);
}

/* Requests a serving run ends at (warm-up + measured), for the progress line's ETA: the
 * engine's defaults as docs/scenario.md gives them (workload.requests, workload.warmup);
 * 0 when the run ends by time instead (open loop with a duration). */
static uint64_t request_target(const ifb_serving_cfg *c)
{
    int64_t warm = c->warmup, req = c->requests;
    if (c->arrival == IFB_ARRIVAL_CLOSED) {
        warm = warm < 0 ? c->concurrency : warm;
        req = req ? req : 2 * c->concurrency;
    } else {
        if (c->duration)
            return 0;
        warm = warm < 0 ? 0 : warm;
        req = req ? req : c->arrival == IFB_ARRIVAL_TRACE ? (int64_t)c->trace.n : 200;
    }
    return (uint64_t)(warm + req);
}

static int util_csv(const void *mon, FILE *out, ifb_err *e)
{
    return ifb_monitor_write_util_csv(mon, out, e);
}

/* One per-run CSV, <csv_prefix><suffix>, written atomically by fn. */
typedef int (*csv_writer)(const void *obj, FILE *out, ifb_err *e);

static int write_csv(const ifb_job *job, const char *suffix, csv_writer fn, const void *obj,
                     ifb_err *e)
{
    if (!job->csv_prefix)
        return 0;
    char *path = ifb_path_printf(e, "%s%s", job->csv_prefix, suffix);
    ifb_ofile f;
    int rc = !path || ifb_ofile_open(&f, path, e) ? -1 : 0;
    free(path);
    if (rc)
        return -1;
    if (fn(obj, f.f, e))
        return ifb_ofile_fail(&f, e);
    return ifb_ofile_commit(&f, e);
}

static int requests_csv(const void *sv, FILE *out, ifb_err *e)
{
    return ifb_serving_write_requests_csv((ifb_serving *)sv, out, e);
}

static int steps_csv(const void *sv, FILE *out, ifb_err *e)
{
    return ifb_serving_write_steps_csv((ifb_serving *)sv, out, e);
}

static int int_paths_csv(const void *fab, FILE *out, ifb_err *e)
{
    return ifb_fabric_write_int_csv(fab, out) ? ifb_err_msg(e, "INT path table: write error") : 0;
}

/* "fault_timing": where each scheduled failure and PFC storm fell relative to the measurement
 * window. Returns 1 when one began outside it (the headline figures do not measure it: the run
 * is flagged rather than its window moved). */
static int fault_timing(ifb_json *j, const ifb_scenario *sc, const ifb_serving_result *r)
{
    if (!sc->nfailures && !sc->fab.npfc_storms)
        return 0;
    int outside = 0;
    ifb_json_karr_begin(j, "fault_timing");
    for (int i = 0; i < sc->nfailures + sc->fab.npfc_storms; i++) {
        ifb_time a, b;
        char what[64];
        if (i < sc->nfailures) {
            const ifb_failure *x = &sc->failures[i];
            a = x->down;
            b = x->flap_count
                    ? x->down + (ifb_time)(x->flap_count - 1) * x->flap_period + x->flap_down
                    : x->up;
            snprintf(what, sizeof what, "failures[%d]", i);
        } else {
            const ifb_pfc_storm *st = &sc->fab.pfc_storms[i - sc->nfailures];
            a = st->start;
            b = st->start + st->duration;
            snprintf(what, sizeof what, "pfc_storm (faults) %d", i - sc->nfailures);
        }
        int measured;
        const char *when = ifb_serving_fault_timing(r, a, b, &measured);
        outside |= !measured;
        ifb_json_obj_begin(j);
        ifb_json_kstr(j, "fault", what);
        ifb_json_kdouble(j, "start_s", ifb_time_to_s(a));
        ifb_json_kdouble(j, "end_s", b == IFB_TIME_NEVER ? NAN : ifb_time_to_s(b));
        ifb_json_kstr(j, "timing", when);
        ifb_json_kbool(j, "measured", measured);
        ifb_json_obj_end(j);
    }
    ifb_json_arr_end(j);
    return outside;
}

/* "sweep": {KEY: VALUE} of the job's sweep point. */
static void sweep_obj(ifb_json *j, const ifb_job *job)
{
    ifb_json_kobj_begin(j, "sweep");
    for (int i = job->nsets - job->nswept; i < job->nsets; i++) {
        const char *eq = strchr(job->sets[i], '=');
        if (!eq)
            continue;
        char *key = ifb_xstrndup(job->sets[i], (size_t)(eq - job->sets[i]), "a sweep key");
        ifb_json_kstr(j, key, eq + 1);
        free(key);
    }
    ifb_json_obj_end(j);
}

/* The object of a run that failed: what it was, why, and how far the simulation got (sim may be
 * NULL when it never started). No metrics: a failed run measured nothing. */
static int write_failed(FILE *out, const ifb_job *job, const loaded *l, int loaded_ok,
                        const ifb_sim *sim, const char *msg, ifb_err *e)
{
    ifb_json j;
    ifb_json_init(&j, out, 2);
    ifb_json_obj_begin(&j);
    ifb_json_kstr(&j, "scenario", loaded_ok ? l->sc.name : job->scenario);
    if (loaded_ok) {
        ifb_json_kstr(&j, "source", l->sc.source);
        ifb_json_kstr(&j, "fabric", l->sc.fab.l2 == IFB_L2_IB ? "infiniband" : "roce");
    }
    sweep_obj(&j, job);
    if (loaded_ok)
        ifb_json_kuint(&j, "seed", l->sc.seed);
    ifb_json_kbool(&j, "partial", true);
    ifb_json_kstr(&j, "status", "failed");
    ifb_json_kstr(&j, "stop", sim ? ifb_stop_name(sim->stop) : "setup");
    ifb_json_kstr(&j, "error", msg);
    if (sim) {
        ifb_json_kobj_begin(&j, "simulation");
        ifb_json_kdouble(&j, "sim_time_s", ifb_time_to_s(sim->now));
        ifb_json_kuint(&j, "events", sim->events);
        ifb_json_obj_end(&j);
    }
    ifb_json_obj_end(&j);
    return ifb_json_finish(&j, e);
}

int ifb_experiment_run(const ifb_job *job, FILE *out, const volatile sig_atomic_t *interrupt,
                       int *object, ifb_err *e)
{
    *object = 0;
    loaded l;
    if (load(job, &l, e)) {
        ifb_err we;
        *object = write_failed(out, job, &l, 0, NULL, e->msg, &we) == 0;
        unload(&l);
        return 2;
    }
    /* no per-message records: a serving run sends millions, and memory must stay flat */
    l.sc.fab.record_messages = 0;
    ifb_scenario_print_warnings(&l.sc, stderr);
    /* the KV transfer engine's connections are the kv class's QPs (a disaggregated deployment) */
    if (l.scfg.deploy.ngroups && !l.sc.fab.tclass[IFB_TC_KV].qps)
        l.sc.fab.tclass[IFB_TC_KV].qps = (uint16_t)l.scfg.deploy.kv.connections;
    /* output.sample_interval is the first interval of the run monitor's utilization series,
     * which stays bounded however long the run; the fabric's own series would not */
    ifb_time interval = l.sc.fab.sample_interval;
    l.sc.fab.sample_interval = 0;
    ifb_sim sim;
    ifb_sim_init(&sim, l.sc.seed);
    sim.interrupt = interrupt;
    sim.check = job->check;
    sim.max_wall = job->max_wall;
    sim.watchdog = 2 * l.sc.fab.rto + 50 * IFB_MS; /* a lost packet's timeout is progress */
    if (l.sc.nfailures) /* an unreachable destination retries retry_cnt times, then fails */
        sim.watchdog = (ifb_time)(l.sc.fab.retry_cnt + 2) * l.sc.fab.rto + 50 * IFB_MS;
    if (job->watchdog_given) /* --watchdog (0 = off) */
        sim.watchdog = job->watchdog;
    sim.stall_events = 10000000;
    ifb_fabric *fab = NULL;
    ifb_serving *sv = NULL;
    ifb_monitor *mon = NULL;
    ifb_timeline *tl = NULL;
    int rc = 0;
    ifb_err we;
    if (ifb_fabric_create(&fab, &sim, &l.sc.topo, &l.sc.fab, e) ||
        ifb_serving_create(&sv, &l.scfg, l.sc.topo.nservers, l.sc.topo.gpus_per_server, e) ||
        ifb_fail_schedule(fab, l.sc.failures, l.sc.nfailures, e) ||
        ifb_serving_start(sv, &sim, ifb_fabric_net(fab), e)) {
        *object = write_failed(out, job, &l, 1, NULL, e->msg, &we) == 0;
        rc = 2;
        goto done;
    }
    /* the utilization series and the progress line; a run goes on without them when memory
     * for them runs out (util.csv is then not written) */
    mon = ifb_monitor_start(&sim, fab, sv, interval, request_target(&l.scfg), job->progress);
    /* the timeline only reads the model's state, through daemon events the monitor counts as
     * its own: the run's results are the same with and without it */
    if (job->timeline) {
        if (!(tl = ifb_tl_open(job->timeline, &job->timeline_cfg, e))) {
            *object = write_failed(out, job, &l, 1, NULL, e->msg, &we) == 0;
            rc = 1;
            goto done;
        }
        ifb_serving_timeline(sv, tl);
        ifb_monitor_timeline(mon, tl, job->timeline_sample);
    }
    ifb_sim_start_watchdog(&sim);
    ifb_stop stop = ifb_sim_run(&sim);
    ifb_monitor_finish(mon);
    const ifb_serving_result *r = ifb_serving_finish(sv);
    if (stop == IFB_STOP_ERROR) {
        ifb_err_msg(e, "%s", sim.error);
        *object = write_failed(out, job, &l, 1, &sim, sim.error, &we) == 0;
        rc = 1;
        goto done;
    }
    if (ifb_serving_check_end(sv, stop, e)) {
        rc = 1;
        goto done;
    }
    char cmsg[700]; /* always at the end, --check or not: a packet may not vanish quietly */
    if (ifb_fabric_check_conservation(fab, cmsg, sizeof cmsg)) {
        ifb_err_msg(e, "invariant packet-conservation violated at the end (t=%.6f us): %s",
                    ifb_time_to_us(sim.now), cmsg);
        rc = 1;
        goto done;
    }
    int partial = !r->done;
    /* link utilization over the whole run, fabric ports only */
    double umax = 0, usum = 0;
    int nu = 0;
    ifb_time end = sim.now ? sim.now : 1;
    uint64_t drops = 0;
    ifb_time paused = 0; /* port-priority time paused by PFC, summed over ports */
    for (int p = 0; p < ifb_fabric_nports(fab); p++) {
        uint64_t rate = ifb_fabric_port_rate(fab, p);
        if (!rate)
            continue;
        const ifb_port_stats *st = ifb_fabric_port_stats(fab, p);
        double u = (double)st->tx_bytes * 8.0 / ((double)rate * ifb_time_to_s(end));
        umax = u > umax ? u : umax;
        usum += u;
        nu++;
        drops += st->drops;
        const ifb_port_cc_stats *cc = ifb_fabric_port_cc(fab, p);
        for (int q = 0; q < IFB_NQUEUES; q++)
            paused += cc->paused[q];
    }
    const ifb_fabric_counters *c = ifb_fabric_counts(fab);
    ifb_json j;
    ifb_json_init(&j, out, 2);
    ifb_json_obj_begin(&j);
    ifb_json_kstr(&j, "scenario", l.sc.name);
    ifb_json_kstr(&j, "source", l.sc.source);
    ifb_json_kstr(&j, "fabric", l.sc.fab.l2 == IFB_L2_IB ? "infiniband" : "roce");
    sweep_obj(&j, job);
    ifb_json_kuint(&j, "seed", l.sc.seed);
    ifb_json_kbool(&j, "partial", partial);
    ifb_json_kstr(&j, "status", partial ? "partial" : "complete");
    ifb_json_kstr(&j, "stop", ifb_stop_name(stop));
    ifb_json_karr_begin(&j, "warnings");
    for (int i = 0; i < l.sc.nwarnings; i++)
        ifb_json_str(&j, l.sc.warnings[i]);
    ifb_json_arr_end(&j);
    ifb_json_kobj_begin(&j, "metrics");
    if (r->unmeasured[0]) /* the window figures below are null: why */
        ifb_json_kstr(&j, "unmeasured", r->unmeasured);
    /* sglang.bench_serving's names and units (docs/outputs.md): throughputs per second of the
     * measurement window, latencies in ms */
    int gpus = ifb_serving_layout(sv)->nranks;
    ifb_json_kdouble(&j, "output_throughput", r->tgr);
    ifb_json_kdouble(&j, "tgr_tok_s", r->tgr); /* the earlier name, kept as an alias */
    ifb_json_kdouble(&j, "request_throughput", r->req_throughput);
    ifb_json_kdouble(&j, "output_throughput_per_gpu", gpus > 0 ? r->tgr / gpus : NAN);
    /* what one user sees while decoding: tokens per second at the mean TPOT */
    ifb_json_kdouble(&j, "tok_s_per_user",
                     r->tpot.n && r->tpot.mean > 0 ? 1.0 / r->tpot.mean : NAN);
    ifb_json_kdouble(&j, "duration_s",
                     r->window ? ifb_time_to_s(r->window_end - r->window_start) : NAN);
    ifb_json_kuint(&j, "completed", r->measured);
    pctl_ms(&j, "ttft", &r->ttft);
    pctl_ms(&j, "tpot", &r->tpot);
    pctl_ms(&j, "itl", &r->itl);
    pctl_ms(&j, "e2e_latency", &r->e2e);
    ifb_json_kdouble(&j, "network_share", r->network_share);
    ifb_json_kdouble(&j, "step_ms", r->step_mean * 1e3);
    ifb_json_kdouble(&j, "compute_ms", r->compute_mean * 1e3);
    ifb_json_kdouble(&j, "comm_ms", r->comm_mean * 1e3);
    ifb_json_kdouble(&j, "exposed_comm_ms", r->exposed_mean * 1e3);
    ifb_json_kdouble(&j, "gpu_busy", r->gpu_busy);
    ifb_json_kdouble(&j, "link_util_max", umax);
    ifb_json_kdouble(&j, "link_util_mean", nu ? usum / nu : 0);
    ifb_json_kuint(&j, "drops", drops);
    ifb_json_kuint(&j, "retransmitted_pkts", c->retx_pkts);
    ifb_json_kuint(&j, "fcs_drops", c->fcs_drops);
    ifb_json_kuint(&j, "timeouts", c->timeouts);
    ifb_json_kuint(&j, "pfc_pauses", c->pfc_xoff_sent);
    ifb_json_kdouble(&j, "pfc_paused_ms", ifb_time_to_s(paused) * 1e3);
    ifb_json_kuint(&j, "ecn_marks", c->ecn_marks);
    ifb_json_kuint(&j, "cnps", c->cnps_sent);
    ifb_json_kuint(&j, "reorder_max_psn", c->reorder_max_psn); /* out-of-order receivers */
    ifb_json_kdouble(&j, "reorder_max_us", ifb_time_to_us(c->reorder_max_time));
    if (l.sc.fab.npfc_storms || l.sc.fab.pfcwd_detect) { /* faults: pfc_storm, pfc.watchdog */
        ifb_json_kuint(&j, "pfc_storm_frames", c->pfc_storm_frames);
        ifb_json_kuint(&j, "pfc_storms", c->pfc_storms);
        ifb_json_kuint(&j, "pfcwd_storms", c->pfcwd_storms);
        ifb_json_kuint(&j, "pfcwd_restored", c->pfcwd_restored);
        ifb_json_kuint(&j, "pfcwd_drops", c->pfcwd_drops);
    }
    ifb_json_obj_end(&j);
    if (fault_timing(&j, &l.sc, r))
        ifb_json_kbool(&j, "faults_outside_window", 1);
    if (l.sc.nfailures) {
        ifb_recovery rv;
        ifb_fail_recovery(fab, sim.now, &rv);
        ifb_json_kobj_begin(&j, "failures");
        ifb_json_kuint(&j, "scheduled", (uint64_t)l.sc.nfailures);
        ifb_json_kbool(&j, "happened", rv.any);
        ifb_json_kdouble(&j, "first_down_us", ifb_time_to_us(rv.t_fail));
        ifb_json_kdouble(&j, "goodput_bin_us", ifb_time_to_us(rv.bin));
        ifb_json_kdouble(&j, "pre_failure_goodput_gbps", rv.pre_gbps);
        ifb_json_kdouble(&j, "dip", rv.dip);
        ifb_json_kdouble(&j, "recovery_us",
                         rv.recovery == IFB_TIME_NEVER ? NAN : ifb_time_to_us(rv.recovery));
        if (isnan(rv.pre_gbps) || isnan(rv.dip) || rv.recovery == IFB_TIME_NEVER)
            ifb_json_kstr(
                &j, "recovery_note",
                isnan(rv.pre_gbps) ? "not measured: no goodput before the failure"
                : isnan(rv.dip)
                    ? "not measured: no goodput bin after the failure before the run ended"
                    : "not recovered: goodput stayed below 90% of the pre-failure mean "
                      "until the run ended");
        ifb_json_kuint(&j, "packets_lost", rv.lost);
        ifb_json_kuint(&j, "link_down_drops", c->link_down_drops);
        ifb_json_kuint(&j, "unroutable_drops", c->unroutable_drops);
        ifb_json_kuint(&j, "retransmitted_pkts", rv.retx);
        ifb_json_kuint(&j, "timeouts", rv.timeouts);
        ifb_json_kuint(&j, "msgs_failed", rv.msgs_failed);
        ifb_json_obj_end(&j);
    }
    if (l.sc.fab.intc.on) {
        const ifb_int_stats *is = ifb_fabric_int_stats(fab);
        size_t npaths;
        ifb_fabric_int_paths(fab, &npaths);
        ifb_json_kobj_begin(&j, "int");
        ifb_json_kuint(&j, "packets_marked", is->pkts_marked);
        ifb_json_kuint(&j, "hops_pushed", is->hops_pushed);
        ifb_json_kuint(&j, "hop_limit_reached", is->hop_limit);
        ifb_json_kuint(&j, "reports", is->reports);
        ifb_json_kuint(&j, "report_bytes", is->report_bytes);
        ifb_json_kuint(&j, "int_bytes_on_links", is->int_bytes);
        ifb_json_kuint(&j, "path_feedback", is->feedback);
        ifb_json_kuint(&j, "probes_sent", is->probes);
        ifb_json_kuint(&j, "probe_bytes", is->probe_bytes);
        ifb_json_kuint(&j, "probes_received", is->probes_sunk);
        ifb_json_kuint(&j, "paths", (uint64_t)npaths);
        ifb_json_obj_end(&j);
    }
    ifb_json_key(&j, "serving");
    ifb_serving_write_summary(sv, &j);
    ifb_json_kobj_begin(&j, "simulation");
    ifb_json_kdouble(&j, "sim_time_s", ifb_time_to_s(sim.now));
    ifb_json_kuint(&j, "events", sim.events - ifb_monitor_events(mon));
    ifb_json_kuint(&j, "packets", c->pkts_created);
    ifb_json_kuint(&j, "nvlink_msgs", c->nvlink_msgs);
    ifb_json_kuint(&j, "msgs", c->msgs_posted);
    ifb_json_obj_end(&j);
    ifb_json_obj_end(&j);
    if (ifb_json_finish(&j, e)) {
        rc = 1;
        goto done;
    }
    if (write_csv(job, "-requests.csv", requests_csv, sv, e) ||
        write_csv(job, "-steps.csv", steps_csv, sv, e) ||
        (mon && write_csv(job, "-util.csv", util_csv, mon, e)) ||
        (l.sc.fab.intc.on && write_csv(job, "-int-paths.csv", int_paths_csv, fab, e))) {
        rc = 1;
        goto done;
    }
    *object = 1;
    rc = partial ? 3 : 0;
done:
    if (tl) {
        ifb_err te;
        uint64_t kept = ifb_tl_events(tl), left = ifb_tl_dropped(tl);
        if (ifb_tl_close(tl, &te)) {
            if (rc == 0 || rc == 3) {
                ifb_err_msg(e, "%s", te.msg);
                rc = 1;
            } else {
                fprintf(stderr, "infabric: %s\n", te.msg);
            }
        } else {
            fprintf(stderr, "infabric: timeline %s: %llu events", job->timeline,
                    (unsigned long long)kept);
            if (left)
                fprintf(stderr, ", %llu more left out by its window or event cap",
                        (unsigned long long)left);
            fputc('\n', stderr);
        }
    }
    ifb_monitor_destroy(mon);
    if (sv)
        ifb_serving_destroy(sv);
    if (fab)
        ifb_fabric_destroy(fab);
    ifb_sim_destroy(&sim);
    unload(&l);
    return rc;
}
