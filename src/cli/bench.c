/* `infabric bench` and `infabric check`: microbenchmarks on a scenario's fabric, printed as a
 * nccl-tests style table (or JSON), with the run's outputs written to an output folder
 * (docs/outputs.md). Each message size runs on a fresh simulation. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "net/fabric.h"
#include "net/pcap.h"
#include "report/out.h"
#include "scenario/experiment.h"
#include "scenario/scenario.h"
#include "workload/microbench.h"

#define MAX_SETS 256
#define MAX_SIZES 64

typedef struct bench_opts {
    const char *scenario;
    const char *sets[MAX_SETS];
    int nsets;
    int kind;
    uint64_t sizes[MAX_SIZES];
    int nsizes;
    int iters, depth, ranks, stride, src, dst;
    int json;
    int check;
    uint64_t max_events;
    double max_wall;
    uint64_t max_memory;
    ifb_time watchdog;
    const char *outdir;
    int64_t seed; /* -1: the scenario's */
} bench_opts;

typedef struct bench_row {
    uint64_t bytes;
    ifb_mb_result r;
    ifb_fabric_counters cnt;
    ifb_time sim_end;
    uint64_t events;
    ifb_stop stop;
} bench_row;

static void bench_usage(FILE *f)
{
    fputs("usage: infabric bench [SCENARIO] [options]\n"
          "  -p, --pattern NAME   pingpong | bw | incast | permutation | alltoall | allreduce\n"
          "                       (default alltoall)\n"
          "  -s, --sizes LIST     message sizes, e.g. 64B,4KiB,1MiB (per pattern defaults)\n"
          "  -n, --iters N        pingpong round trips / bw messages (default 100 / 64)\n"
          "      --depth N        bw: messages outstanding (default 128)\n"
          "      --ranks N        participants (default: every endpoint; incast: all but dst)\n"
          "      --stride N       use every N-th endpoint (e.g. 2 = one GPU per shared NIC)\n"
          "      --src A --dst B  endpoints for pingpong/bw; --dst is the incast receiver\n"
          "      --seed N         override the scenario seed\n"
          "      --set KEY=VALUE  override a scenario value (repeatable)\n"
          "  -o, --out DIR        write summary.json, messages.csv, ports.csv, qps.csv,\n"
          "                       queues.csv, util.csv\n"
          "      --json           JSON on stdout instead of the table\n"
          "      --check          verify invariants while running (slower)\n"
          "      --max-events N   stop each run after N events (partial results)\n"
          "      --max-wall S     stop each run after S seconds of wall time (partial)\n"
          "      --max-memory SIZE  refuse a run estimated to need more (default: the\n"
          "                       machine's memory)\n"
          "      --watchdog TIME  stop if nothing is delivered for TIME of simulated time\n"
          "                       while messages are outstanding (default 2 x rto + 50ms,\n"
          "                       0 = off)\n"
          "Endpoints are GPUs, numbered server * gpus_per_server + gpu.\n",
          f);
}

static int parse_sizes(bench_opts *o, const char *s)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", s);
    o->nsizes = 0;
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (o->nsizes == MAX_SIZES)
            return -1;
        if (ifb_parse_bytes(t, &o->sizes[o->nsizes]))
            return -1;
        o->nsizes++;
    }
    return o->nsizes ? 0 : -1;
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

/* Parses options shared by bench and check. Returns 0, 1 for --help, -1 on error. */
static int parse_opts(int argc, char **argv, bench_opts *o, int bench)
{
    enum {
        O_DEPTH = 256,
        O_RANKS,
        O_STRIDE,
        O_SRC,
        O_DST,
        O_SEED,
        O_SET,
        O_JSON,
        O_CHECK,
        O_MAXEV,
        O_MAXWALL,
        O_WATCHDOG,
        O_MAXMEM
    };
    static const struct option longs[] = {{"pattern", required_argument, 0, 'p'},
                                          {"sizes", required_argument, 0, 's'},
                                          {"iters", required_argument, 0, 'n'},
                                          {"depth", required_argument, 0, O_DEPTH},
                                          {"ranks", required_argument, 0, O_RANKS},
                                          {"stride", required_argument, 0, O_STRIDE},
                                          {"src", required_argument, 0, O_SRC},
                                          {"dst", required_argument, 0, O_DST},
                                          {"seed", required_argument, 0, O_SEED},
                                          {"set", required_argument, 0, O_SET},
                                          {"out", required_argument, 0, 'o'},
                                          {"json", no_argument, 0, O_JSON},
                                          {"help", no_argument, 0, 'h'},
                                          {"check", no_argument, 0, O_CHECK},
                                          {"max-events", required_argument, 0, O_MAXEV},
                                          {"max-wall", required_argument, 0, O_MAXWALL},
                                          {"watchdog", required_argument, 0, O_WATCHDOG},
                                          {"max-memory", required_argument, 0, O_MAXMEM},
                                          {0, 0, 0, 0}};
    memset(o, 0, sizeof *o);
    o->kind = IFB_MB_ALLTOALL;
    o->seed = -1;
    o->dst = -1;
    o->watchdog = IFB_TIME_NEVER; /* auto: longer than the retransmission timeout */
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, bench ? "p:s:n:o:h" : "h", longs, NULL)) != -1) {
        const char *bad = NULL;
        switch (c) {
        case 'p':
            o->kind = ifb_mb_kind_parse(optarg);
            if (o->kind < 0)
                bad = "--pattern: expected pingpong, bw, incast, permutation, alltoall or "
                      "allreduce";
            break;
        case 's':
            if (parse_sizes(o, optarg))
                bad = "--sizes: expected a comma-separated list of sizes with units, e.g. "
                      "64B,4KiB,1MiB";
            break;
        case 'n':
            if (parse_int(optarg, 1, 100000000, &o->iters))
                bad = "--iters: expected a positive integer";
            break;
        case O_DEPTH:
            if (parse_int(optarg, 1, 1 << 20, &o->depth))
                bad = "--depth: expected a positive integer";
            break;
        case O_RANKS:
            if (parse_int(optarg, 1, 1 << 24, &o->ranks))
                bad = "--ranks: expected a positive integer";
            break;
        case O_STRIDE:
            if (parse_int(optarg, 1, 1 << 20, &o->stride))
                bad = "--stride: expected a positive integer";
            break;
        case O_SRC:
            if (parse_int(optarg, 0, 1 << 30, &o->src))
                bad = "--src: expected an endpoint number";
            break;
        case O_DST:
            if (parse_int(optarg, 0, 1 << 30, &o->dst))
                bad = "--dst: expected an endpoint number";
            break;
        case O_SEED: {
            char *end;
            long long v = strtoll(optarg, &end, 10);
            if (!*optarg || *end || v < 0)
                bad = "--seed: expected a non-negative integer";
            o->seed = v;
            break;
        }
        case O_SET:
            if (o->nsets == MAX_SETS)
                bad = "--set: too many overrides";
            else if (!strchr(optarg, '='))
                bad = "--set: expected KEY=VALUE";
            else
                o->sets[o->nsets++] = optarg;
            break;
        case 'o':
            o->outdir = optarg;
            break;
        case O_JSON:
            o->json = 1;
            break;
        case O_CHECK:
            o->check = 1;
            break;
        case O_MAXEV: {
            char *end;
            unsigned long long v = strtoull(optarg, &end, 10);
            if (!*optarg || *end || v == 0 || optarg[0] == '-')
                bad = "--max-events: expected a positive integer";
            o->max_events = v;
            break;
        }
        case O_MAXWALL: {
            char *end;
            double v = strtod(optarg, &end);
            if (!*optarg || *end || !(v > 0))
                bad = "--max-wall: expected a positive number of seconds";
            o->max_wall = v;
            break;
        }
        case O_MAXMEM:
            if (ifb_parse_bytes(optarg, &o->max_memory) || !o->max_memory)
                bad = "--max-memory: expected a size with a unit, e.g. 8GB";
            break;
        case O_WATCHDOG:
            if (ifb_parse_time(optarg, &o->watchdog))
                bad = "--watchdog: expected a time with a unit, e.g. 10ms";
            break;
        case 'h':
            return 1;
        default:
            fprintf(stderr, "infabric %s: unknown or incomplete option '%s'\n",
                    bench ? "bench" : "check", argv[optind - 1]);
            return -1;
        }
        if (bad) {
            fprintf(stderr, "infabric %s: %s, found '%s'\n", bench ? "bench" : "check", bad,
                    optarg);
            return -1;
        }
    }
    if (optind < argc)
        o->scenario = argv[optind++];
    if (optind < argc) {
        fprintf(stderr, "infabric: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    return 0;
}

static void default_sizes(bench_opts *o)
{
    if (o->nsizes)
        return;
    static const uint64_t lat[] = {2, 64, 512, 4096};
    static const uint64_t bw[] = {4096, 65536, 1 << 20, 8 << 20};
    static const uint64_t coll[] = {1024, 16384, 262144, 1 << 20};
    const uint64_t *src = o->kind == IFB_MB_PINGPONG                                    ? lat
                          : (o->kind == IFB_MB_ALLTOALL || o->kind == IFB_MB_ALLREDUCE) ? coll
                                                                                        : bw;
    for (int i = 0; i < 4; i++)
        o->sizes[i] = src[i];
    o->nsizes = 4;
}

static int write_outputs(const bench_opts *o, const ifb_scenario *sc, const bench_row *rows,
                         int nrows, ifb_fabric **fabs, int partial, ifb_err *e);

static void progress(int i, int n, uint64_t bytes)
{
    if (isatty(2))
        fprintf(stderr, "\rbench: size %d/%d (%" PRIu64 " B)   ", i + 1, n, bytes);
}

static void print_row(const bench_opts *o, const bench_row *r)
{
    if (isatty(2))
        fputs("\r\033[K", stderr);
    char lat[32] = "-";
    if (o->kind == IFB_MB_PINGPONG)
        snprintf(lat, sizeof lat, "%.3f", r->r.lat_us);
    printf("  %12.0f %12.3f %11.2f %11.2f %10s %8" PRIu64 " %7" PRIu64 " %7" PRIu64 " %7" PRIu64
           " %7" PRIu64 "%s\n",
           r->r.size_bytes, ifb_time_to_us(r->r.time), r->r.algbw / 1e9, r->r.busbw / 1e9, lat,
           r->r.msgs, r->cnt.pkts_dropped, r->cnt.retx_pkts, r->cnt.pfc_xoff_sent, r->cnt.ecn_marks,
           r->stop == IFB_STOP_EMPTY ? "" : "  (stopped)");
    fflush(stdout);
}

int ifb_cmd_bench(int argc, char **argv)
{
    bench_opts o;
    int pr = parse_opts(argc, argv, &o, 1);
    if (pr == 1) {
        bench_usage(stdout);
        return 0;
    }
    if (pr < 0)
        return IFB_EXIT_INPUT;
    ifb_err e = {{0}};
    ifb_scenario sc;
    if (ifb_scenario_load_limit(&sc, o.scenario, o.sets, o.nsets, o.max_memory, &e)) {
        fprintf(stderr, "infabric: %s\n", e.msg);
        ifb_scenario_free(&sc);
        return IFB_EXIT_INPUT;
    }
    ifb_cfg_mark_used(sc.cfg, "workload");
    ifb_cfg_mark_used(sc.cfg, "serving");
    if (ifb_scenario_check_unused(&sc, &e)) {
        fprintf(stderr, "infabric: %s\n", e.msg);
        ifb_scenario_free(&sc);
        return IFB_EXIT_INPUT;
    }
    ifb_scenario_print_warnings(&sc, stderr);
    default_sizes(&o);
    int nep = sc.topo.nservers * sc.topo.gpus_per_server;
    if (o.dst < 0)
        o.dst = o.kind == IFB_MB_INCAST ? 0 : nep - 1;
    if (o.src >= nep || o.dst >= nep) {
        fprintf(stderr, "infabric bench: --src/--dst: expected an endpoint in 0..%d, found %d\n",
                nep - 1, o.src >= nep ? o.src : o.dst);
        ifb_scenario_free(&sc);
        return IFB_EXIT_INPUT;
    }
    if (o.kind == IFB_MB_PINGPONG || o.kind == IFB_MB_BW) {
        if (o.src == o.dst) {
            fprintf(stderr, "infabric bench: --src and --dst must differ, found both %d\n", o.src);
            ifb_scenario_free(&sc);
            return IFB_EXIT_INPUT;
        }
    }
    ifb_mem_demand dm;
    ifb_mb_spec dspec = {.kind = (ifb_mb_kind)o.kind,
                         .iters = o.iters ? o.iters : (o.kind == IFB_MB_PINGPONG ? 100 : 64),
                         .depth = o.depth,
                         .src = o.src,
                         .dst = o.dst,
                         .nranks = o.ranks,
                         .stride = o.stride};
    ifb_mem_demand_bench(&dm, &sc, &dspec, o.sizes, o.nsizes);
    if (ifb_scenario_check_memory(&sc, &dm, o.max_memory, &e)) {
        fprintf(stderr, "infabric: %s\n", e.msg);
        ifb_scenario_free(&sc);
        return IFB_EXIT_INPUT;
    }
    uint64_t seed = o.seed >= 0 ? (uint64_t)o.seed : sc.seed;
    ifb_cli_install_signals();
    bench_row rows[MAX_SIZES];
    ifb_fabric *fabs[MAX_SIZES] = {0};
    ifb_sim sims[MAX_SIZES];
    int nrows = 0, status = 0, partial = 0;
    ifb_pcap *pcap = NULL;
    if (sc.pcap_file[0] && sc.ncapture) {
        pcap = ifb_pcap_open(sc.pcap_file, sc.fab.l2, 0, &e);
        if (!pcap) {
            fprintf(stderr, "infabric: %s\n", e.msg);
            ifb_scenario_free(&sc);
            return IFB_EXIT_INPUT;
        }
    }
    if (!o.json) {
        printf("# infabric bench %s on %s (%d endpoints, seed %" PRIu64 ")\n", ifb_mb_names[o.kind],
               sc.name, nep, seed);
        printf("# %12s %12s %11s %11s %10s %8s %7s %7s %7s %7s\n", "size(B)", "time(us)",
               "algbw(GB/s)", "busbw(GB/s)", "lat(us)", "msgs", "drops", "retx", "pauses", "marks");
        fflush(stdout);
    }
    for (int i = 0; i < o.nsizes; i++) {
        progress(i, o.nsizes, o.sizes[i]);
        ifb_sim *sim = &sims[i];
        ifb_sim_init(sim, seed);
        sim->interrupt = &ifb_cli_interrupted;
        sim->check = o.check;
        sim->max_events = o.max_events;
        sim->max_wall = o.max_wall;
        sim->watchdog = o.watchdog != IFB_TIME_NEVER ? o.watchdog : 2 * sc.fab.rto + 50 * IFB_MS;
        sim->stall_events = 10000000;
        if (ifb_fabric_create(&fabs[i], sim, &sc.topo, &sc.fab, &e)) {
            fprintf(stderr, "infabric: %s\n", e.msg);
            status = IFB_EXIT_INPUT;
            ifb_sim_destroy(sim);
            break;
        }
        for (int k = 0; pcap && k < sc.ncapture; k++)
            ifb_fabric_capture(fabs[i], sc.capture_ports[k], pcap);
        ifb_sim_start_watchdog(sim);
        ifb_mb_spec spec = {.kind = (ifb_mb_kind)o.kind,
                            .bytes = o.sizes[i],
                            .iters = o.iters ? o.iters : (o.kind == IFB_MB_PINGPONG ? 100 : 64),
                            .depth = o.depth,
                            .src = o.src,
                            .dst = o.dst,
                            .nranks = o.ranks,
                            .stride = o.stride,
                            .tclass = IFB_TC_COLL,
                            .seed = seed};
        bench_row *row = &rows[nrows];
        row->bytes = o.sizes[i];
        int rc = ifb_mb_run(sim, ifb_fabric_net(fabs[i]), &spec, &row->r, &e);
        nrows++;
        row->cnt = *ifb_fabric_counts(fabs[i]);
        row->sim_end = sim->now;
        row->events = sim->events;
        row->stop = sim->stop;
        if (!o.json) /* a row as soon as its size is done, as nccl-tests prints */
            print_row(&o, row);
        if (sim->stop == IFB_STOP_INTERRUPT || sim->stop == IFB_STOP_WALL ||
            sim->stop == IFB_STOP_EVENTS) {
            fprintf(stderr, "infabric: run stopped (%s) at t=%.3f us: results are partial\n",
                    ifb_stop_name(sim->stop), ifb_time_to_us(sim->now));
            partial = 1;
            status = IFB_EXIT_INTERRUPTED;
            break;
        }
        if (sim->stop == IFB_STOP_ERROR) {
            fprintf(stderr, "infabric: %s\n", sim->error);
            partial = 1;
            status = IFB_EXIT_FAIL;
            break;
        }
        if (rc) {
            fprintf(stderr, "infabric: %s\n", e.msg);
            status = IFB_EXIT_FAIL;
            break;
        }
        char msg[256];
        if (ifb_fabric_check_conservation(fabs[i], msg, sizeof msg)) {
            fprintf(stderr, "infabric: %s\n", msg);
            status = IFB_EXIT_FAIL;
            break;
        }
    }
    if (isatty(2))
        fputs("\r\033[K", stderr);
    if (pcap && ifb_pcap_close(pcap, &e)) {
        fprintf(stderr, "infabric: %s\n", e.msg);
        status = status ? status : IFB_EXIT_FAIL;
    }
    int nfab = nrows;
    if (!o.json && partial)
        printf("# PARTIAL: the last run was stopped early\n");
    if (o.json) {
        ifb_json j;
        ifb_json_init(&j, stdout, 2);
        ifb_json_arr_begin(&j);
        for (int i = 0; i < nrows; i++) {
            const bench_row *r = &rows[i];
            ifb_json_obj_begin(&j);
            ifb_json_kdouble(&j, "size_bytes", r->r.size_bytes);
            ifb_json_kdouble(&j, "time_us", ifb_time_to_us(r->r.time));
            ifb_json_kdouble(&j, "algbw_GBps", r->r.algbw / 1e9);
            ifb_json_kdouble(&j, "busbw_GBps", r->r.busbw / 1e9);
            if (o.kind == IFB_MB_PINGPONG)
                ifb_json_kdouble(&j, "lat_us", r->r.lat_us);
            ifb_json_kuint(&j, "msgs", r->r.msgs);
            ifb_json_kuint(&j, "drops", r->cnt.pkts_dropped);
            ifb_json_kuint(&j, "retx", r->cnt.retx_pkts);
            ifb_json_obj_end(&j);
        }
        ifb_json_arr_end(&j);
        ifb_json_finish(&j, &e);
    }
    if (o.outdir && nrows &&
        write_outputs(&o, &sc, rows, nrows, fabs, partial || status != 0, &e)) {
        fprintf(stderr, "infabric: %s\n", e.msg);
        status = status ? status : IFB_EXIT_FAIL;
    }
    for (int i = 0; i < nfab; i++) {
        ifb_fabric_destroy(fabs[i]);
        ifb_sim_destroy(&sims[i]);
    }
    ifb_scenario_free(&sc);
    return status;
}

static int write_summary(const char *path, const bench_opts *o, const ifb_scenario *sc,
                         const bench_row *rows, int nrows, int partial, ifb_err *e)
{
    ifb_ofile f;
    if (ifb_ofile_open(&f, path, e))
        return -1;
    ifb_json j;
    ifb_json_init(&j, f.f, 2);
    ifb_json_obj_begin(&j);
    ifb_json_kstr(&j, "tool", "infabric bench");
    ifb_json_kstr(&j, "scenario", sc->name);
    ifb_json_kstr(&j, "source", sc->source);
    ifb_json_kstr(&j, "pattern", ifb_mb_names[o->kind]);
    ifb_json_kuint(&j, "seed", o->seed >= 0 ? (uint64_t)o->seed : sc->seed);
    ifb_json_kbool(&j, "partial", partial);
    ifb_json_karr_begin(&j, "runs");
    for (int i = 0; i < nrows; i++) {
        const bench_row *r = &rows[i];
        ifb_json_obj_begin(&j);
        ifb_json_kuint(&j, "bytes", r->bytes);
        ifb_json_kbool(&j, "complete", r->stop == IFB_STOP_EMPTY);
        ifb_json_kstr(&j, "stop", ifb_stop_name(r->stop));
        ifb_json_kdouble(&j, "size_bytes", r->r.size_bytes);
        ifb_json_kuint(&j, "time_ps", r->r.time);
        ifb_json_kdouble(&j, "algbw_Bps", r->r.algbw);
        ifb_json_kdouble(&j, "busbw_Bps", r->r.busbw);
        ifb_json_kdouble(&j, "lat_us", r->r.lat_us);
        ifb_json_kdouble(&j, "jain", r->r.jain);
        ifb_json_kuint(&j, "msgs", r->r.msgs);
        ifb_json_kuint(&j, "sim_end_ps", r->sim_end);
        ifb_json_kuint(&j, "events", r->events);
        ifb_json_kobj_begin(&j, "packets");
        ifb_json_kuint(&j, "created", r->cnt.pkts_created);
        ifb_json_kuint(&j, "consumed", r->cnt.pkts_consumed);
        ifb_json_kuint(&j, "dropped", r->cnt.pkts_dropped);
        ifb_json_kuint(&j, "data_sent", r->cnt.data_pkts_sent);
        ifb_json_kuint(&j, "retransmitted", r->cnt.retx_pkts);
        ifb_json_kuint(&j, "timeouts", r->cnt.timeouts);
        ifb_json_kuint(&j, "naks", r->cnt.naks);
        ifb_json_kuint(&j, "ooo_placed", r->cnt.ooo_placed);
        ifb_json_obj_end(&j);
        ifb_json_kobj_begin(&j, "congestion");
        ifb_json_kuint(&j, "ecn_marks", r->cnt.ecn_marks);
        ifb_json_kuint(&j, "cnps_sent", r->cnt.cnps_sent);
        ifb_json_kuint(&j, "cnps_received", r->cnt.cnps_rcvd);
        ifb_json_kuint(&j, "pfc_xoff_sent", r->cnt.pfc_xoff_sent);
        ifb_json_kuint(&j, "pfc_xon_sent", r->cnt.pfc_xon_sent);
        ifb_json_kuint(&j, "pfc_received", r->cnt.pfc_rcvd);
        ifb_json_kuint(&j, "pfc_storms", r->cnt.pfc_storms);
        ifb_json_kuint(&j, "lossless_drops", r->cnt.lossless_drops);
        ifb_json_kuint(&j, "dcqcn_decreases", r->cnt.dcqcn_decreases);
        ifb_json_kuint(&j, "dcqcn_increases", r->cnt.dcqcn_increases);
        ifb_json_kuint(&j, "ib_credit_violations", r->cnt.ib_credit_violations);
        ifb_json_obj_end(&j);
        ifb_json_obj_end(&j);
    }
    ifb_json_arr_end(&j);
    ifb_json_obj_end(&j);
    if (ifb_json_finish(&j, e)) {
        ifb_ofile_abort(&f);
        return -1;
    }
    return ifb_ofile_commit(&f, e);
}

/* What the CSV row writers need. */
typedef struct out_ctx {
    const ifb_scenario *sc;
    const bench_row *rows;
    int nrows;
    ifb_fabric **fabs;
} out_ctx;

static void rows_messages(ifb_csv *c, const void *ctx)
{
    const out_ctx *x = ctx;
    for (int i = 0; i < x->nrows; i++) {
        size_t n;
        const ifb_msg_rec *m = ifb_fabric_messages(x->fabs[i], &n);
        for (size_t k = 0; k < n; k++) {
            ifb_csv_uint(c, x->rows[i].bytes);
            ifb_csv_uint(c, m[k].id);
            ifb_csv_int(c, m[k].src);
            ifb_csv_int(c, m[k].dst);
            ifb_csv_int(c, m[k].tclass);
            ifb_csv_uint(c, m[k].bytes);
            ifb_csv_uint(c, m[k].start);
            ifb_csv_uint(c, m[k].done);
            ifb_csv_double(c, ifb_time_to_us(m[k].done - m[k].start));
            ifb_csv_end_row(c);
        }
    }
}

static void rows_ports(ifb_csv *c, const void *ctx)
{
    const out_ctx *x = ctx;
    for (int i = 0; i < x->nrows; i++) {
        const ifb_topo *t = ifb_fabric_topo(x->fabs[i]);
        ifb_time end = x->rows[i].sim_end ? x->rows[i].sim_end : 1;
        for (int p = 0; p < ifb_fabric_nports(x->fabs[i]); p++) {
            const ifb_port_stats *st = ifb_fabric_port_stats(x->fabs[i], p);
            uint64_t rate = ifb_fabric_port_rate(x->fabs[i], p);
            if (!rate)
                continue;
            ifb_csv_uint(c, x->rows[i].bytes);
            ifb_csv_int(c, p);
            ifb_csv_str(c, t->nodes[t->ports[p].node].name);
            ifb_csv_int(c, t->ports[p].index);
            ifb_csv_uint(c, rate);
            ifb_csv_uint(c, st->tx_bytes);
            ifb_csv_uint(c, st->tx_pkts);
            ifb_csv_uint(c, st->tx_payload);
            ifb_csv_double(c, (double)st->tx_bytes * 8.0 / ((double)rate * ifb_time_to_s(end)));
            ifb_csv_double(c, st->queue_byte_ps / (double)end);
            ifb_csv_uint(c, st->max_queue);
            ifb_csv_uint(c, st->drops);
            const ifb_port_cc_stats *cc = ifb_fabric_port_cc(x->fabs[i], p);
            uint64_t ptx = 0, prx = 0, stalls = 0;
            ifb_time paused = 0, stalled = 0;
            for (int q = 0; q < IFB_NQUEUES; q++) {
                ptx += cc->pause_tx[q];
                prx += cc->pause_rx[q];
                paused += cc->paused[q];
                stalls += cc->credit_stalls[q];
                stalled += cc->credit_stall[q];
            }
            ifb_csv_uint(c, cc->ecn_marks);
            ifb_csv_uint(c, ptx);
            ifb_csv_uint(c, prx);
            ifb_csv_double(c, ifb_time_to_us(paused));
            ifb_csv_uint(c, stalls);
            ifb_csv_double(c, ifb_time_to_us(stalled));
            ifb_csv_end_row(c);
        }
    }
}

static void rows_util(ifb_csv *c, const void *ctx)
{
    const out_ctx *x = ctx;
    ifb_time dt = x->sc->fab.sample_interval;
    for (int i = 0; i < x->nrows && dt; i++) {
        size_t ns;
        const uint64_t *s = ifb_fabric_util_samples(x->fabs[i], &ns);
        int np = ifb_fabric_nports(x->fabs[i]);
        for (size_t k = 0; k < ns; k++)
            for (int p = 0; p < np; p++) {
                uint64_t rate = ifb_fabric_port_rate(x->fabs[i], p);
                if (!rate)
                    continue;
                ifb_csv_uint(c, x->rows[i].bytes);
                ifb_csv_double(c, ifb_time_to_us((ifb_time)(k + 1) * dt));
                ifb_csv_int(c, p);
                ifb_csv_double(c, (double)s[k * (size_t)np + (size_t)p] * 8.0 /
                                      ((double)rate * ifb_time_to_s(dt)));
                ifb_csv_end_row(c);
            }
    }
}

static void rows_queues(ifb_csv *c, const void *ctx)
{
    const out_ctx *x = ctx;
    for (int i = 0; i < x->nrows; i++) {
        for (int p = 0; p < ifb_fabric_nports(x->fabs[i]); p++) {
            uint32_t nb, bw;
            const uint64_t *h = ifb_fabric_queue_hist(x->fabs[i], p, &nb, &bw);
            if (!h)
                continue;
            /* after the port's last queue change its queue stayed empty until the end */
            const ifb_port_stats *st = ifb_fabric_port_stats(x->fabs[i], p);
            ifb_time rest =
                x->rows[i].sim_end > st->last_change ? x->rows[i].sim_end - st->last_change : 0;
            double total = (double)rest;
            for (uint32_t k = 0; k < nb; k++)
                total += (double)h[k];
            for (uint32_t k = 0; k < nb && total > 0; k++) {
                double t = (double)h[k] + (k == 0 ? (double)rest : 0);
                if (t <= 0)
                    continue;
                ifb_csv_uint(c, x->rows[i].bytes);
                ifb_csv_int(c, p);
                ifb_csv_uint(c, (uint64_t)k * bw);
                ifb_csv_double(c, t / total);
                ifb_csv_end_row(c);
            }
        }
    }
}

static void rows_qps(ifb_csv *c, const void *ctx)
{
    const out_ctx *x = ctx;
    for (int i = 0; i < x->nrows; i++) {
        size_t n;
        const uint64_t *retx;
        ifb_fabric_qp_retx(x->fabs[i], &n, &retx);
        for (size_t k = 0; k < n; k++) {
            ifb_csv_uint(c, x->rows[i].bytes);
            ifb_csv_uint(c, k);
            ifb_csv_uint(c, retx[k]);
            ifb_csv_end_row(c);
        }
    }
}

static int write_outputs(const bench_opts *o, const ifb_scenario *sc, const bench_row *rows,
                         int nrows, ifb_fabric **fabs, int partial, ifb_err *e)
{
    static const char *const h_msg[] = {"size",  "id",       "src",     "dst",   "tclass",
                                        "bytes", "start_ps", "done_ps", "fct_us"};
    static const char *const h_port[] = {"size",
                                         "port",
                                         "node",
                                         "index",
                                         "rate_bps",
                                         "tx_bytes",
                                         "tx_pkts",
                                         "tx_payload",
                                         "util",
                                         "mean_queue_bytes",
                                         "max_queue_bytes",
                                         "drops",
                                         "ecn_marks",
                                         "pfc_pause_tx",
                                         "pfc_pause_rx",
                                         "paused_us",
                                         "ib_credit_stalls",
                                         "ib_credit_stall_us"};
    static const char *const h_qp[] = {"size", "qp", "retransmitted_pkts"};
    static const char *const h_queue[] = {"size", "port", "bin_lo_bytes", "time_fraction"};
    static const char *const h_util[] = {"size", "t_us", "port", "util"};
    static const struct {
        const char *name;
        const char *const *hdr;
        size_t n;
        ifb_csv_rows_fn rows;
    } files[] = {{"messages.csv", h_msg, 9, rows_messages},
                 {"ports.csv", h_port, 18, rows_ports},
                 {"qps.csv", h_qp, 3, rows_qps},
                 {"queues.csv", h_queue, 4, rows_queues},
                 {"util.csv", h_util, 4, rows_util}};
    if (ifb_mkdirs(o->outdir, e))
        return -1;
    out_ctx x = {sc, rows, nrows, fabs};
    char p[1024];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", o->outdir, files[i].name);
        if (ifb_csv_write_file(p, files[i].hdr, files[i].n, files[i].rows, &x, e))
            return -1;
    }
    /* The summary last: its presence says the folder is complete (or marked partial). */
    snprintf(p, sizeof p, "%s/summary.json", o->outdir);
    return write_summary(p, o, sc, rows, nrows, partial, e);
}

int ifb_cmd_check(int argc, char **argv)
{
    bench_opts o;
    int pr = parse_opts(argc, argv, &o, 0);
    if (pr == 1) {
        puts("usage: infabric check SCENARIO [--set KEY=VALUE]...\n"
             "Loads and validates the scenario (topology built, routes computed, every key\n"
             "known) without running it. Exit status 0 if valid, 2 otherwise.");
        return 0;
    }
    if (pr < 0)
        return IFB_EXIT_INPUT;
    if (!o.scenario) {
        fputs("infabric check: expected a scenario file, found none\n", stderr);
        return IFB_EXIT_INPUT;
    }
    ifb_err e = {{0}};
    ifb_scenario sc;
    int rc = ifb_scenario_load(&sc, o.scenario, o.sets, o.nsets, &e);
    if (!rc && ifb_cfg_has(sc.cfg, "workload")) {
        /* the serving experiment's view: model, GPU, parallelism and memory checked too */
        ifb_job job = {.scenario = o.scenario, .nsets = o.nsets, .seed = -1};
        for (int i = 0; i < o.nsets; i++)
            job.sets[i] = o.sets[i];
        rc = ifb_experiment_check(&job, &e);
    } else if (!rc) {
        rc = ifb_scenario_check_unused(&sc, &e);
    }
    if (rc) {
        fprintf(stderr, "infabric: %s\n", e.msg);
        ifb_scenario_free(&sc);
        return IFB_EXIT_INPUT;
    }
    ifb_scenario_print_warnings(&sc, stderr);
    printf("%s: ok (%d servers, %d hosts, %d switches, %d links)\n", sc.source, sc.topo.nservers,
           sc.topo.nhosts, sc.topo.nswitches, sc.topo.nlinks);
    ifb_scenario_free(&sc);
    return 0;
}
