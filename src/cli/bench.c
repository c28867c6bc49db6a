/* `infabric bench` and `infabric check`: microbenchmarks on a scenario's fabric, printed as a
 * nccl-tests style table (or JSON), with the run's outputs written to an output folder
 * (docs/outputs.md). Each message size runs on a fresh simulation, with the scenario's
 * `failures:` scheduled on it. A message the network gives up on fails its size's row (no
 * figures, exit status 1); the others still run. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/bench.h"
#include "cli/cli.h"
#include "core/alloc.h"
#include "net/fabric/fabric.h"
#include "net/fail/failure.h"
#include "net/wire/pcap.h"
#include "report/out.h"
#include "scenario/experiment.h"
#include "scenario/scenario.h"
#include "scenario/serving_cfg.h"
#include "workload/microbench.h"

static void bench_usage(FILE *f)
{
    fputs("usage: infabric bench [SCENARIO] [options]\n"
          "  -p, --pattern NAME   pingpong | bw | incast | permutation | alltoall | allreduce |\n"
          "                       deepep-dispatch | deepep-combine (default alltoall); deepep-*:\n"
          "                       one DeepEP phase as the workload's deepep keys describe it\n"
          "  -s, --sizes LIST     message sizes, e.g. 64B,4KiB,1MiB (per pattern defaults;\n"
          "                       alltoall: bytes per pair)\n"
          "  -b, --minbytes SIZE  nccl-tests' size range: from SIZE (8, 4K, 128M, 1G or\n"
          "  -e, --maxbytes SIZE  4KiB...) to SIZE, multiplying by -f (default 2) or adding\n"
          "  -f, --stepfactor N   -i; sizes are nccl-tests' \"size\" (alltoall: bytes per\n"
          "  -i, --stepbytes SIZE rank, split over the ranks); at most 64 sizes\n"
          "  -n, --iters N        pingpong round trips / bw messages (default 100 / 64)\n"
          "                       pingpong prints perftest's latency columns: t_min, t_max,\n"
          "                       t_typical (median), t_avg, t_stdev, 99% and 99.9% percentile\n"
          "      --depth N        bw: messages outstanding (default 128)\n"
          "      --ranks N        participants (default: every endpoint; incast: all but dst)\n"
          "      --stride N       use every N-th endpoint (e.g. 2 = one GPU per shared NIC)\n"
          "      --src A --dst B  endpoints for pingpong/bw; --dst is the incast receiver\n"
          "      --seed N         override the scenario seed\n"
          "      --set KEY=VALUE  override a scenario value (repeatable)\n"
          "  -o, --out DIR        write summary.json, messages.csv, ports.csv, qps.csv,\n"
          "                       queues.csv, util.csv\n"
          "      --json           the summary.json document on stdout instead of the table\n"
          "      --check          verify invariants while running (slower)\n"
          "      --max-events N   stop each run after N events (partial results)\n"
          "      --max-wall S     stop each run after S seconds of wall time (partial)\n"
          "      --max-memory SIZE  refuse a run estimated to need more (default: the\n"
          "                       machine's memory)\n"
          "      --watchdog TIME  stop if nothing is delivered for TIME of simulated time\n"
          "                       while messages are outstanding (default 2 x rto + 50ms,\n"
          "                       with failures (retry_cnt + 2) x rto + 50ms; 0 = off)\n"
          "Endpoints are GPUs, numbered server * gpus_per_server + gpu.\n"
          "Exit status: 0 every size measured, 1 a run failed (a message the network gave up\n"
          "on: that size's row says FAILED, its figures are missing), 2 bad input (nothing\n"
          "run), 3 interrupted or stopped by a limit (partial results kept).\n",
          f);
}

static int parse_sizes(ifb_bench_opts *o, const char *s)
{
    char *buf = ifb_xstrdup(s, "the --sizes list");
    int rc = 0;
    o->nsizes = 0;
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t && !rc;
         t = strtok_r(NULL, ",", &save)) {
        if (o->nsizes == IFB_BENCH_MAX_SIZES || ifb_parse_bytes(t, &o->sizes[o->nsizes]))
            rc = -1;
        else
            o->nsizes++;
    }
    free(buf);
    return rc || !o->nsizes ? -1 : 0;
}

/* A size as nccl-tests takes it (8, 4K, 128M, 1G: K, M, G are powers of 1024) or with a unit
 * (4KiB, 16MB). Returns 0 or -1. */
static int parse_nccl_size(const char *s, uint64_t *out)
{
    if (!ifb_parse_bytes(s, out))
        return 0;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || s[0] == '-' || errno)
        return -1;
    uint64_t mul = 1;
    if (*end) {
        const char *u = "KMGT";
        const char *k = strchr(u, end[0] >= 'a' ? end[0] - 32 : end[0]);
        if (!k || end[1])
            return -1;
        for (long i = 0; i <= k - u; i++)
            mul *= 1024;
    }
    if (v > UINT64_MAX / mul)
        return -1;
    *out = v * mul;
    return 0;
}

/* -b MIN -e MAX with -f FACTOR or -i STEP, as nccl-tests generates its sizes. */
static int range_sizes(ifb_bench_opts *o, uint64_t lo, uint64_t hi, uint64_t factor, uint64_t step,
                       char *why, size_t cap)
{
    if (!lo || hi < lo) {
        snprintf(why, cap, "-b/-e: expected 1 <= minbytes <= maxbytes, found %llu and %llu",
                 (unsigned long long)lo, (unsigned long long)hi);
        return -1;
    }
    o->nsizes = 0;
    for (uint64_t v = lo;;) {
        if (o->nsizes == IFB_BENCH_MAX_SIZES) {
            snprintf(why, cap,
                     "-b/-e/-f/-i: expected at most %d sizes, found more (from %llu to %llu)",
                     IFB_BENCH_MAX_SIZES, (unsigned long long)lo, (unsigned long long)hi);
            return -1;
        }
        o->sizes[o->nsizes++] = v;
        uint64_t next = step ? v + step : v * factor;
        if (next <= v || next > hi || (step && next < v) || (!step && next / factor != v))
            break;
        v = next;
    }
    o->nccl_sizes = 1;
    return 0;
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
static int parse_opts(int argc, char **argv, ifb_bench_opts *o, int bench)
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
        O_MAXMEM,
        O_LISTKEYS
    };
    uint64_t minb = 0, maxb = 0, factor = 0, stepb = 0;
    int have_range = 0;
    static const struct option longs[] = {{"pattern", required_argument, 0, 'p'},
                                          {"sizes", required_argument, 0, 's'},
                                          {"minbytes", required_argument, 0, 'b'},
                                          {"maxbytes", required_argument, 0, 'e'},
                                          {"stepfactor", required_argument, 0, 'f'},
                                          {"stepbytes", required_argument, 0, 'i'},
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
                                          {"list-keys", no_argument, 0, O_LISTKEYS},
                                          {0, 0, 0, 0}};
    memset(o, 0, sizeof *o);
    o->kind = IFB_MB_ALLTOALL;
    o->seed = -1;
    o->dst = -1;
    o->watchdog = IFB_TIME_NEVER; /* auto: longer than the retransmission timeout */
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, bench ? "p:s:n:o:b:e:f:i:h" : "h", longs, NULL)) != -1) {
        const char *bad = NULL;
        switch (c) {
        case 'p':
            o->kind = ifb_mb_kind_parse(optarg);
            if (o->kind < 0)
                bad = "--pattern: expected pingpong, bw, incast, permutation, alltoall, "
                      "allreduce, deepep-dispatch or deepep-combine";
            break;
        case 's':
            if (parse_sizes(o, optarg))
                bad = "--sizes: expected a comma-separated list of sizes with units, e.g. "
                      "64B,4KiB,1MiB";
            break;
        case 'b':
        case 'e':
        case 'i':
            if (parse_nccl_size(optarg, c == 'b'   ? &minb
                                        : c == 'e' ? &maxb
                                                   : &stepb) ||
                (c != 'i' && !(c == 'b' ? minb : maxb)) || (c == 'i' && !stepb))
                bad = c == 'b'   ? "-b/--minbytes: expected a size such as 8, 4K, 128M or 1GiB"
                      : c == 'e' ? "-e/--maxbytes: expected a size such as 8, 4K, 128M or 1GiB"
                                 : "-i/--stepbytes: expected a size above 0, e.g. 1M";
            have_range = 1;
            break;
        case 'f': {
            int fv;
            if (parse_int(optarg, 2, 1 << 20, &fv))
                bad = "-f/--stepfactor: expected an integer factor of at least 2";
            factor = (uint64_t)fv;
            have_range = 1;
            break;
        }
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
            if (o->nsets == IFB_BENCH_MAX_SETS)
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
        case O_LISTKEYS:
            if (bench)
                bad = "--list-keys: an option of `infabric check`";
            o->list_keys = 1;
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
            if (!strcmp(optarg, "0")) /* "0 = off" needs no unit */
                o->watchdog = 0;
            else if (ifb_parse_time(optarg, &o->watchdog))
                bad = "--watchdog: expected a time with a unit, e.g. 10ms, or 0 (off)";
            break;
        case 'h':
            return 1;
        default: {
            char show[IFB_CLI_SHOW_BUFSZ];
            fprintf(stderr, "infabric %s: unknown or incomplete option '%s'\n",
                    bench ? "bench" : "check", ifb_cli_show(argv[optind - 1], show));
            return -1;
        }
        }
        if (bad) {
            char show[IFB_CLI_SHOW_BUFSZ];
            fprintf(stderr, "infabric %s: %s, found '%s'\n", bench ? "bench" : "check", bad,
                    ifb_cli_show(optarg, show));
            return -1;
        }
    }
    if (have_range) {
        char why[200];
        if (o->nsizes) {
            fprintf(stderr, "infabric bench: expected either --sizes or -b/-e/-f/-i, found both\n");
            return -1;
        }
        if (factor && stepb) {
            fprintf(stderr, "infabric bench: expected either -f or -i, found both\n");
            return -1;
        }
        if (!minb)
            minb = maxb;
        if (!maxb)
            maxb = minb;
        if (!minb) {
            fprintf(stderr, "infabric bench: -f/-i: expected -b and/or -e with them\n");
            return -1;
        }
        if (range_sizes(o, minb, maxb, factor ? factor : 2, stepb, why, sizeof why)) {
            fprintf(stderr, "infabric bench: %s\n", why);
            return -1;
        }
    }
    if (optind < argc)
        o->scenario = argv[optind++];
    if (optind < argc) {
        char show[IFB_CLI_SHOW_BUFSZ];
        fprintf(stderr, "infabric: unexpected argument '%s'\n", ifb_cli_show(argv[optind], show));
        return -1;
    }
    return 0;
}

static void default_sizes(ifb_bench_opts *o)
{
    if (o->nsizes)
        return;
    if (o->kind == IFB_MB_DEEPEP_DISPATCH || o->kind == IFB_MB_DEEPEP_COMBINE) {
        o->sizes[0] = 0; /* one run: the kernel's size is the workload's (deepep.bench) */
        o->nsizes = 1;
        return;
    }
    static const uint64_t lat[] = {2, 64, 512, 4096};
    static const uint64_t bw[] = {4096, 65536, 1 << 20, 8 << 20};
    static const uint64_t coll[] = {1024, 16384, 262144, 1 << 20};
    /* allreduce up to the sizes tensor parallelism reduces (a layer's activations) */
    static const uint64_t ar[] = {1024, 65536, 1 << 20, 16 << 20, 128 << 20};
    const uint64_t *src = o->kind == IFB_MB_PINGPONG    ? lat
                          : o->kind == IFB_MB_ALLTOALL  ? coll
                          : o->kind == IFB_MB_ALLREDUCE ? ar
                                                        : bw;
    int n = o->kind == IFB_MB_ALLREDUCE ? 5 : 4;
    for (int i = 0; i < n; i++)
        o->sizes[i] = src[i];
    o->nsizes = n;
}

static void progress(int i, int n, uint64_t bytes)
{
    if (isatty(2))
        fprintf(stderr, "\rbench: size %d/%d (%" PRIu64 " B)   ", i + 1, n, bytes);
}

static void print_header(const ifb_bench_opts *o)
{
    if (o->kind == IFB_MB_PINGPONG) /* perftest's ib_write_lat columns, then the fabric's */
        printf("# %8s %11s %14s %14s %16s %14s %14s %21s %23s %6s %6s %6s %6s\n", "#bytes",
               "#iterations", "t_min[usec]", "t_max[usec]", "t_typical[usec]", "t_avg[usec]",
               "t_stdev[usec]", "99% percentile[usec]", "99.9% percentile[usec]", "drops", "retx",
               "pauses", "marks");
    else
        printf("# %12s %12s %11s %11s %10s %8s %7s %7s %7s %7s\n", "size(B)", "time(us)",
               "algbw(GB/s)", "busbw(GB/s)", "lat(us)", "msgs", "drops", "retx", "pauses", "marks");
}

static void print_row(const ifb_bench_opts *o, const ifb_bench_row *r)
{
    if (isatty(2))
        fputs("\r\033[K", stderr);
    if (r->r.msgs_failed) {
        printf("  %12.0f %12s %11s %11s %10s %8" PRIu64 " %7" PRIu64 " %7" PRIu64 " %7" PRIu64
               " %7" PRIu64 "  FAILED: %" PRIu64 " message(s) not delivered\n",
               (double)r->bytes, "-", "-", "-", "-", r->r.msgs, r->cnt.pkts_dropped,
               r->cnt.retx_pkts, r->cnt.pfc_xoff_sent, r->cnt.ecn_marks, r->r.msgs_failed);
        fflush(stdout);
        return;
    }
    const char *stopped = r->stop == IFB_STOP_EMPTY ? "" : "  (stopped)";
    if (o->kind == IFB_MB_PINGPONG) {
        printf("  %8.0f %11" PRIu64 " %14.3f %14.3f %16.3f %14.3f %14.3f %21.3f %23.3f %6" PRIu64
               " %6" PRIu64 " %6" PRIu64 " %6" PRIu64 "%s\n",
               r->r.size_bytes, r->r.lat_iters, r->r.t_min_us, r->r.t_max_us, r->r.t_typical_us,
               r->r.t_avg_us, r->r.t_stdev_us, r->r.t_p99_us, r->r.t_p999_us, r->cnt.pkts_dropped,
               r->cnt.retx_pkts, r->cnt.pfc_xoff_sent, r->cnt.ecn_marks, stopped);
        fflush(stdout);
        return;
    }
    printf("  %12.0f %12.3f %11.2f %11.2f %10s %8" PRIu64 " %7" PRIu64 " %7" PRIu64 " %7" PRIu64
           " %7" PRIu64 "%s\n",
           r->r.size_bytes, ifb_time_to_us(r->r.time), r->r.algbw / 1e9, r->r.busbw / 1e9, "-",
           r->r.msgs, r->cnt.pkts_dropped, r->cnt.retx_pkts, r->cnt.pfc_xoff_sent, r->cnt.ecn_marks,
           stopped);
    fflush(stdout);
}

/* The pattern of size i. A -b/-e size is nccl-tests' "size": for alltoall, a rank's buffer,
 * of which each peer gets an equal part (at least a byte). */
static ifb_mb_spec make_spec(const ifb_bench_opts *o, int i, uint64_t seed, int nep)
{
    ifb_mb_spec s = {.kind = (ifb_mb_kind)o->kind,
                     .bytes = o->sizes[i],
                     .iters = o->iters ? o->iters : (o->kind == IFB_MB_PINGPONG ? 100 : 64),
                     .depth = o->depth,
                     .src = o->src,
                     .dst = o->dst,
                     .nranks = o->ranks,
                     .stride = o->stride,
                     .tclass = IFB_TC_COLL,
                     .seed = seed,
                     .deepep = &o->deepep};
    if (o->nccl_sizes && o->kind == IFB_MB_ALLTOALL) {
        uint64_t n = (uint64_t)ifb_mb_ranks(&s, nep);
        s.bytes = n && o->sizes[i] / n ? o->sizes[i] / n : 1;
    }
    return s;
}

/* The scenario's `workload:` block is not used by bench, but it is read as `infabric run`
 * reads it, so a wrong key or value there is refused here too instead of ignored. */
static int check_workload(ifb_scenario *sc, ifb_bench_opts *o, ifb_err *e)
{
    int deepep = o->kind == IFB_MB_DEEPEP_DISPATCH || o->kind == IFB_MB_DEEPEP_COMBINE;
    if (!ifb_cfg_has(sc->cfg, "workload") && !deepep)
        return 0;
    ifb_serving_cfg scfg;
    int rc = ifb_serving_cfg_load(sc->cfg, "workload", &scfg, e);
    if (!rc && deepep) /* the DeepEP kernel the workload describes */
        ifb_serving_deepep_bench(&scfg, o->seed >= 0 ? (uint64_t)o->seed : sc->seed, &o->deepep);
    if (!rc)
        ifb_serving_cfg_free(&scfg);
    return rc;
}

static int bench_main(ifb_bench_opts *o, ifb_scenario *sc, ifb_outdir *od);

int ifb_cmd_bench(int argc, char **argv)
{
    ifb_cli_install_signals();
    ifb_bench_opts o;
    int pr = parse_opts(argc, argv, &o, 1);
    if (pr == 1) {
        bench_usage(stdout);
        return 0;
    }
    if (pr < 0)
        return IFB_EXIT_INPUT;
    ifb_err e = {{0}};
    /* The output folder first: checked, created and locked before any work. */
    ifb_outdir od = {NULL, -1};
    if (o.outdir && ifb_outdir_open(&od, o.outdir, sizeof "/messages.csv.tmp.4294967295", &e)) {
        fprintf(stderr, "infabric bench: %s\n", e.msg);
        return IFB_EXIT_INPUT;
    }
    ifb_scenario sc;
    int status = IFB_EXIT_INPUT;
    if (ifb_scenario_load_limit(&sc, o.scenario, o.sets, o.nsets, o.max_memory, &e) ||
        check_workload(&sc, &o, &e) || ifb_scenario_check_unused(&sc, &e)) {
        fprintf(stderr, "infabric: %s\n", e.msg);
    } else {
        ifb_scenario_print_warnings(&sc, stderr);
        status = bench_main(&o, &sc, &od);
    }
    ifb_scenario_free(&sc);
    ifb_outdir_close(&od);
    return status;
}

static int bench_main(ifb_bench_opts *o, ifb_scenario *sc, ifb_outdir *od)
{
    ifb_err e = {{0}};
    default_sizes(o);
    int nep = sc->topo.nservers * sc->topo.gpus_per_server;
    if (o->dst < 0)
        o->dst = o->kind == IFB_MB_INCAST ? 0 : nep - 1;
    if (o->src >= nep || o->dst >= nep) {
        fprintf(stderr, "infabric bench: --src/--dst: expected an endpoint in 0..%d, found %d\n",
                nep - 1, o->src >= nep ? o->src : o->dst);
        return IFB_EXIT_INPUT;
    }
    if (o->kind == IFB_MB_PINGPONG || o->kind == IFB_MB_BW) {
        if (o->src == o->dst) {
            fprintf(stderr, "infabric bench: --src and --dst must differ, found both %d\n", o->src);
            return IFB_EXIT_INPUT;
        }
    }
    uint64_t seed = o->seed >= 0 ? (uint64_t)o->seed : sc->seed;
    ifb_mb_spec spec0 = make_spec(o, 0, seed, nep);
    spec0.gpus_per_server = sc->topo.gpus_per_server;
    if (ifb_mb_check(&spec0, nep, &e)) {
        fprintf(stderr, "infabric: %s\n", e.msg);
        return IFB_EXIT_INPUT;
    }
    ifb_mem_demand dm;
    ifb_mem_demand_bench(&dm, sc, &spec0, o->sizes, o->nsizes);
    if (ifb_scenario_check_memory(sc, &dm, o->max_memory, &e)) {
        fprintf(stderr, "infabric: %s\n", e.msg);
        return IFB_EXIT_INPUT;
    }
    if (od->path) { /* an earlier summary.json would say this folder is complete */
        char *p = ifb_path_printf(&e, "%s/summary.json", od->path);
        if (p)
            (void)remove(p);
        free(p);
    }
    ifb_bench_row rows[IFB_BENCH_MAX_SIZES];
    ifb_fabric *fabs[IFB_BENCH_MAX_SIZES] = {0};
    ifb_sim sims[IFB_BENCH_MAX_SIZES];
    int nrows = 0, status = 0, partial = 0, nfailed = 0;
    ifb_pcap *pcap = NULL;
    if (sc->pcap_file[0] && sc->ncapture) {
        pcap = ifb_pcap_open(sc->pcap_file, sc->fab.l2, 0, &e);
        if (!pcap) {
            fprintf(stderr, "infabric: %s\n", e.msg);
            return IFB_EXIT_INPUT;
        }
    }
    if (!o->json) {
        printf("# infabric bench %s on %s (%d endpoints, seed %" PRIu64 ")\n",
               ifb_mb_names[o->kind], sc->name, nep, seed);
        print_header(o);
        fflush(stdout);
    }
    for (int i = 0; i < o->nsizes; i++) {
        progress(i, o->nsizes, o->sizes[i]);
        ifb_sim *sim = &sims[i];
        ifb_sim_init(sim, seed);
        sim->interrupt = &ifb_cli_interrupted;
        sim->check = o->check;
        sim->max_events = o->max_events;
        sim->max_wall = o->max_wall;
        /* a lost packet's timeout is progress; with failures, an unreachable destination
         * retries retry_cnt times before its messages fail (as `infabric run`) */
        ifb_time wd =
            sc->nfailures ? (ifb_time)(sc->fab.retry_cnt + 2) * sc->fab.rto : 2 * sc->fab.rto;
        sim->watchdog = o->watchdog != IFB_TIME_NEVER ? o->watchdog : wd + 50 * IFB_MS;
        sim->stall_events = 10000000;
        if (ifb_fabric_create(&fabs[i], sim, &sc->topo, &sc->fab, &e) ||
            ifb_fail_schedule(fabs[i], sc->failures, sc->nfailures, &e)) {
            fprintf(stderr, "infabric: %s\n", e.msg);
            status = IFB_EXIT_INPUT;
            if (fabs[i])
                ifb_fabric_destroy(fabs[i]);
            fabs[i] = NULL;
            ifb_sim_destroy(sim);
            break;
        }
        for (int k = 0; pcap && k < sc->ncapture; k++)
            ifb_fabric_capture(fabs[i], sc->capture_ports[k], pcap);
        ifb_sim_start_watchdog(sim);
        ifb_mb_spec spec = make_spec(o, i, seed, nep);
        spec.gpus_per_server = sc->topo.gpus_per_server;
        ifb_bench_row *row = &rows[nrows];
        row->bytes = o->sizes[i];
        int rc = ifb_mb_run(sim, ifb_fabric_net(fabs[i]), &spec, &row->r, &e);
        nrows++;
        row->cnt = *ifb_fabric_counts(fabs[i]);
        row->sim_end = sim->now;
        row->events = sim->events;
        row->stop = sim->stop;
        if (!o->json) /* a row as soon as its size is done, as nccl-tests prints */
            print_row(o, row);
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
        if (row->r.msgs_failed) {
            fprintf(stderr,
                    "infabric: bench %s, size %" PRIu64 " B: %" PRIu64
                    " message(s) failed (the transport gave up after fabric.nic.retry_cnt "
                    "retries), %" PRIu64 " delivered: not measured\n",
                    ifb_mb_names[o->kind], row->bytes, row->r.msgs_failed, row->r.msgs);
            nfailed++;
        }
    }
    if (nfailed && !status)
        status = IFB_EXIT_FAIL;
    if (isatty(2))
        fputs("\r\033[K", stderr);
    if (pcap && ifb_pcap_close(pcap, &e)) {
        fprintf(stderr, "infabric: %s\n", e.msg);
        status = status ? status : IFB_EXIT_FAIL;
    }
    int nfab = nrows;
    if (!o->json && partial)
        printf("# PARTIAL: the last run was stopped early\n");
    if (!o->json && nfailed)
        printf("# FAILED: %d of %d size(s) had messages the network gave up on\n", nfailed, nrows);
    if (o->json &&
        ifb_bench_write_summary(stdout, o, sc, rows, nrows, partial || status != 0, &e)) {
        fprintf(stderr, "infabric: %s\n", e.msg);
        status = status ? status : IFB_EXIT_FAIL;
    }
    if (o->outdir && nrows &&
        ifb_bench_write_outputs(o, sc, rows, nrows, fabs, partial || status != 0, &e)) {
        fprintf(stderr, "infabric: %s\n", e.msg);
        status = status ? status : IFB_EXIT_FAIL;
    }
    for (int i = 0; i < nfab; i++) {
        ifb_fabric_destroy(fabs[i]);
        ifb_sim_destroy(&sims[i]);
    }
    return status;
}

/* check --list-keys: the paths the scenario layer and the serving workload looked up. */
static int list_keys(const ifb_bench_opts *o)
{
    ifb_err e = {{0}};
    ifb_scenario sc;
    ifb_bench_opts lo = *o; /* check_workload fills the DeepEP kernel of a deepep-* pattern */
    if (ifb_scenario_load(&sc, o->scenario ? o->scenario : "reference-roce.yaml", o->sets, o->nsets,
                          &e) ||
        check_workload(&sc, &lo, &e)) {
        fprintf(stderr, "infabric: %s\n", e.msg);
        ifb_scenario_free(&sc);
        return IFB_EXIT_INPUT;
    }
    const char *const *keys;
    size_t n = ifb_cfg_asked(sc.cfg, &keys);
    for (size_t i = 0; i < n; i++)
        puts(keys[i]);
    ifb_scenario_free(&sc);
    return 0;
}

int ifb_cmd_check(int argc, char **argv)
{
    ifb_bench_opts o;
    int pr = parse_opts(argc, argv, &o, 0);
    if (pr == 1) {
        puts("usage: infabric check SCENARIO [--set KEY=VALUE]... [--list-keys]\n"
             "Loads and validates the scenario (topology built, routes computed, every key\n"
             "known) without running it. Exit status 0 if valid, 2 otherwise.\n"
             "  --list-keys  print every key the program reads for the scenario (default: the\n"
             "               reference), one per line, whether the file sets it or not (for\n"
             "               --set, --sweep and shell completion)");
        return 0;
    }
    if (pr < 0)
        return IFB_EXIT_INPUT;
    if (o.list_keys)
        return list_keys(&o);
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
