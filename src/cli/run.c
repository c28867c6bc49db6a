/* `infabric run`: runs scenarios, sweeps over any key, in parallel worker processes, and writes
 * the experiment's summary and report. With no scenario it runs the embedded reference
 * experiment: the Ethernet and InfiniBand reference scenarios at 20..100 concurrent requests.
 *
 * Each run is a forked child that writes its result object to DIR/runs/NNN.json (atomically);
 * the parent merges the objects in job order, so the summary does not depend on which worker
 * finished first. Ctrl-C: children stop after their current event and write partial objects;
 * the parent keeps every finished run and marks the summary partial (exit status 3). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "report/out.h"
#include "report/summary.h"
#include "scenario/cfg.h"
#include "scenario/experiment.h"

#define MAX_JOBS 4096
#define MAX_SWEEPS 8
#define MAX_VALUES 64

typedef struct sweep {
    char key[256];
    char *values[MAX_VALUES];
    int nvalues;
    char buf[2048];
} sweep;

typedef struct run_opts {
    const char *scenarios[64];
    int nscenarios;
    const char *sets[IFB_JOB_MAX_SETS];
    int nsets;
    sweep sweeps[MAX_SWEEPS];
    int nsweeps;
    const char *outdir;
    int jobs;
    int64_t seed;
    int check;
    double max_wall;
    int watchdog_given;
    ifb_time watchdog;
    uint64_t max_memory;
    int quiet;
} run_opts;

static void run_usage(FILE *f)
{
    fputs("usage: infabric run [SCENARIO...] [options]\n"
          "Runs each scenario (default: the reference experiment, reference-roce.yaml and\n"
          "reference-ib.yaml at workload.concurrency = 20,40,60,80,100), writes the summary,\n"
          "CSV tables, SVG plots and report.html, and prints the summary table.\n"
          "  -o, --out DIR          output folder (default: results)\n"
          "      --set KEY=VALUE    override a scenario value (repeatable)\n"
          "      --sweep KEY=V1,V2  run once per value (repeatable: the cartesian product)\n"
          "      --seed N           override the scenario seed\n"
          "  -j, --jobs N           runs in parallel (default: the number of cores)\n"
          "      --check            verify invariants while running (slower)\n"
          "      --max-wall S       stop each run after S seconds of wall time (partial)\n"
          "      --watchdog TIME    stop a run if nothing is delivered for TIME of simulated\n"
          "                         time while messages are outstanding (0 = off; default:\n"
          "                         2 x fabric.nic.rto + 50ms, longer with failures)\n"
          "      --max-memory SIZE  refuse runs estimated to need more (default: the machine's\n"
          "                         memory)\n"
          "  -q, --quiet            no progress bar\n",
          f);
}

static int parse_sweep(sweep *s, const char *arg)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof s->key || !eq[1])
        return -1;
    memcpy(s->key, arg, (size_t)(eq - arg));
    s->key[eq - arg] = '\0';
    snprintf(s->buf, sizeof s->buf, "%s", eq + 1);
    s->nvalues = 0;
    for (char *save = NULL, *t = strtok_r(s->buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (s->nvalues == MAX_VALUES)
            return -1;
        s->values[s->nvalues++] = t;
    }
    return s->nvalues ? 0 : -1;
}

static int parse_run_opts(int argc, char **argv, run_opts *o)
{
    enum { O_SET = 256, O_SWEEP, O_SEED, O_CHECK, O_MAXWALL, O_MAXMEM, O_WATCHDOG };
    static const struct option longs[] = {{"out", required_argument, 0, 'o'},
                                          {"set", required_argument, 0, O_SET},
                                          {"sweep", required_argument, 0, O_SWEEP},
                                          {"seed", required_argument, 0, O_SEED},
                                          {"jobs", required_argument, 0, 'j'},
                                          {"check", no_argument, 0, O_CHECK},
                                          {"max-wall", required_argument, 0, O_MAXWALL},
                                          {"max-memory", required_argument, 0, O_MAXMEM},
                                          {"watchdog", required_argument, 0, O_WATCHDOG},
                                          {"quiet", no_argument, 0, 'q'},
                                          {"help", no_argument, 0, 'h'},
                                          {0, 0, 0, 0}};
    memset(o, 0, sizeof *o);
    o->outdir = "results";
    o->seed = -1;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    o->jobs = ncpu > 0 ? (int)ncpu : 1;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "o:j:qh", longs, NULL)) != -1) {
        const char *bad = NULL;
        char *end;
        switch (c) {
        case 'o':
            o->outdir = optarg;
            break;
        case O_SET:
            if (o->nsets == IFB_JOB_MAX_SETS - MAX_SWEEPS)
                bad = "--set: too many overrides";
            else if (!strchr(optarg, '='))
                bad = "--set: expected KEY=VALUE";
            else
                o->sets[o->nsets++] = optarg;
            break;
        case O_SWEEP:
            if (o->nsweeps == MAX_SWEEPS || parse_sweep(&o->sweeps[o->nsweeps], optarg))
                bad = "--sweep: expected KEY=V1,V2,... (at most 8 sweeps of 64 values)";
            else
                o->nsweeps++;
            break;
        case O_SEED: {
            long long v = strtoll(optarg, &end, 10);
            if (!*optarg || *end || v < 0)
                bad = "--seed: expected a non-negative integer";
            o->seed = v;
            break;
        }
        case 'j': {
            long v = strtol(optarg, &end, 10);
            if (!*optarg || *end || v < 1 || v > 256)
                bad = "--jobs: expected an integer from 1 to 256";
            o->jobs = (int)v;
            break;
        }
        case O_CHECK:
            o->check = 1;
            break;
        case O_MAXWALL: {
            double v = strtod(optarg, &end);
            if (!*optarg || *end || !(v > 0))
                bad = "--max-wall: expected a positive number of seconds";
            o->max_wall = v;
            break;
        }
        case O_WATCHDOG:
            o->watchdog_given = 1;
            if (strcmp(optarg, "0") && ifb_parse_time(optarg, &o->watchdog))
                bad = "--watchdog: expected a time with a unit, e.g. 500ms, or 0 (off)";
            break;
        case O_MAXMEM:
            if (ifb_parse_bytes(optarg, &o->max_memory) || !o->max_memory)
                bad = "--max-memory: expected a size with a unit, e.g. 8GB";
            break;
        case 'q':
            o->quiet = 1;
            break;
        case 'h':
            return 1;
        default:
            fprintf(stderr, "infabric run: unknown or incomplete option '%s'\n", argv[optind - 1]);
            return -1;
        }
        if (bad) {
            fprintf(stderr, "infabric run: %s, found '%s'\n", bad, optarg);
            return -1;
        }
    }
    while (optind < argc) {
        if (o->nscenarios == 64) {
            fputs("infabric run: at most 64 scenarios\n", stderr);
            return -1;
        }
        o->scenarios[o->nscenarios++] = argv[optind++];
    }
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void progress(int done, int total, double t0, int quiet)
{
    if (quiet || !isatty(2))
        return;
    double el = now_s() - t0;
    double eta = done ? el / done * (total - done) : 0;
    int w = 30, fill = total ? done * w / total : w;
    fprintf(stderr, "\r[%.*s%*s] %d/%d runs  %.0fs elapsed  ETA %.0fs ", fill,
            "##############################", w - fill, "", done, total, el, eta);
    if (done == total)
        fputs("\r\033[K", stderr);
}

/* Runs one job in this (child) process; exit status as ifb_experiment_run's. */
static int child_run(ifb_job *job, const char *path)
{
    char prefix[1100];
    snprintf(prefix, sizeof prefix, "%.*s", (int)(strlen(path) - 5), path);
    job->csv_prefix = prefix;
    ifb_err e = {{0}};
    ifb_ofile f;
    if (ifb_ofile_open(&f, path, &e)) {
        fprintf(stderr, "infabric: %s\n", e.msg);
        return IFB_EXIT_FAIL;
    }
    int rc = ifb_experiment_run(job, f.f, &ifb_cli_interrupted, &e);
    if (rc == IFB_EXIT_INPUT || rc == IFB_EXIT_FAIL) {
        fprintf(stderr, "infabric: %s\n", e.msg);
        ifb_ofile_abort(&f);
        return rc;
    }
    if (ifb_ofile_commit(&f, &e)) {
        fprintf(stderr, "infabric: %s\n", e.msg);
        return IFB_EXIT_FAIL;
    }
    return rc;
}

int ifb_cmd_run(int argc, char **argv)
{
    static run_opts o;
    int pr = parse_run_opts(argc, argv, &o);
    if (pr == 1) {
        run_usage(stdout);
        return 0;
    }
    if (pr < 0)
        return IFB_EXIT_INPUT;
    int reference = o.nscenarios == 0;
    if (reference) {
        o.scenarios[o.nscenarios++] = "reference-roce.yaml";
        o.scenarios[o.nscenarios++] = "reference-ib.yaml";
        if (!o.nsweeps)
            parse_sweep(&o.sweeps[o.nsweeps++], "workload.concurrency=20,40,60,80,100");
    }
    /* Jobs: scenarios x cartesian product of the sweeps, the last sweep varying fastest. */
    static ifb_job jobs[MAX_JOBS];
    static char setbuf[MAX_JOBS][MAX_SWEEPS][320];
    int njobs = 0;
    int points = 1;
    for (int s = 0; s < o.nsweeps; s++)
        points *= o.sweeps[s].nvalues;
    if ((long)points * o.nscenarios > MAX_JOBS) {
        fprintf(stderr, "infabric run: %d runs requested, at most %d\n", points * o.nscenarios,
                MAX_JOBS);
        return IFB_EXIT_INPUT;
    }
    for (int sc = 0; sc < o.nscenarios; sc++)
        for (int p = 0; p < points; p++) {
            ifb_job *j = &jobs[njobs];
            memset(j, 0, sizeof *j);
            j->scenario = o.scenarios[sc];
            for (int k = 0; k < o.nsets; k++)
                j->sets[j->nsets++] = o.sets[k];
            int rem = p;
            for (int s = o.nsweeps - 1; s >= 0; s--) {
                const sweep *sw = &o.sweeps[s];
                int v = rem % sw->nvalues;
                rem /= sw->nvalues;
                snprintf(setbuf[njobs][s], sizeof setbuf[njobs][s], "%s=%s", sw->key,
                         sw->values[v]);
            }
            for (int s = 0; s < o.nsweeps; s++)
                j->sets[j->nsets++] = setbuf[njobs][s];
            j->nswept = o.nsweeps;
            j->seed = o.seed;
            j->check = o.check;
            j->max_wall = o.max_wall;
            j->max_memory = o.max_memory;
            j->watchdog_given = o.watchdog_given;
            j->watchdog = o.watchdog;
            njobs++;
        }
    /* Validate every job before running any: a bad key or value fails fast. */
    for (int i = 0; i < njobs; i++) {
        ifb_err e = {{0}};
        if (ifb_experiment_check(&jobs[i], &e)) {
            fprintf(stderr, "infabric: %s\n", e.msg);
            return IFB_EXIT_INPUT;
        }
    }
    ifb_err e = {{0}};
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/runs", o.outdir);
    if (ifb_mkdirs(dir, &e)) {
        fprintf(stderr, "infabric: %s\n", e.msg);
        return IFB_EXIT_INPUT;
    }
    ifb_cli_install_signals();
    static pid_t pids[MAX_JOBS];
    static int status[MAX_JOBS];
    int next = 0, running = 0, done = 0;
    double t0 = now_s();
    progress(0, njobs, t0, o.quiet);
    while (done < njobs) {
        while (running < o.jobs && next < njobs && !ifb_cli_interrupted) {
            char path[1100];
            snprintf(path, sizeof path, "%s/%03d.json", dir, next);
            fflush(NULL);
            pid_t pid = fork();
            if (pid < 0) {
                fprintf(stderr, "infabric: fork: %s\n", strerror(errno));
                ifb_cli_interrupted = 1;
                break;
            }
            if (pid == 0)
                _exit(child_run(&jobs[next], path));
            pids[next++] = pid;
            running++;
        }
        if (!running)
            break;
        int st;
        pid_t pid = wait(&st);
        if (pid < 0) {
            if (errno == EINTR) {
                for (int i = 0; i < next; i++)
                    if (pids[i] > 0)
                        kill(pids[i], SIGINT);
                continue;
            }
            break;
        }
        for (int i = 0; i < next; i++)
            if (pids[i] == pid) {
                status[i] = WIFEXITED(st) ? WEXITSTATUS(st) : IFB_EXIT_FAIL;
                pids[i] = 0;
            }
        running--;
        done++;
        progress(done, njobs, t0, o.quiet);
    }
    int partial = next < njobs || ifb_cli_interrupted;
    int failed = 0;
    for (int i = 0; i < next; i++) {
        if (status[i] == IFB_EXIT_INTERRUPTED)
            partial = 1;
        else if (status[i] != 0)
            failed = 1;
    }
    ifb_summary_opts so = {.outdir = o.outdir,
                           .runs_dir = dir,
                           .nruns = next,
                           .nplanned = njobs,
                           .partial = partial || failed,
                           .reference = reference,
                           .print = stdout};
    int rc = ifb_summary_write(&so, &e);
    if (rc) {
        fprintf(stderr, "infabric: %s\n", e.msg);
        return IFB_EXIT_FAIL;
    }
    if (failed)
        return IFB_EXIT_FAIL;
    return partial ? IFB_EXIT_INTERRUPTED : 0;
}
