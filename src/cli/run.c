/* `infabric run`: runs scenarios, sweeps over any key, in parallel worker processes, and writes
 * the experiment's summary and report. With no scenario it runs the embedded reference
 * experiment: the Ethernet and InfiniBand reference scenarios at 20..100 concurrent requests.
 *
 * Each run is a forked child that writes its result object to DIR/runs/NNN.json (atomically);
 * the parent merges the objects in job order, so the summary does not depend on which worker
 * finished first. The output folder is locked for the whole command (report/out.h), so two
 * commands never mix their files. Signals (SIGINT, SIGTERM, SIGHUP) are caught from the start:
 * during validation the command stops at once; while workers run, the parent keeps the signals
 * blocked except inside sigsuspend, so one that arrives at any moment (even between fork() and
 * waiting) is seen and passed to every live worker; workers stop after their current event and
 * write partial objects; the parent keeps every finished run, writes a summary marked partial
 * and exits with status 3. A run that fails keeps its row (status and error). */
/* MAP_ANONYMOUS (not in POSIX 2008, in every Linux and BSD libc) for the progress counters the
 * workers share with the parent. */
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/progress.h"
#include "core/alloc.h"
#include "report/out.h"
#include "report/summary.h"
#include "scenario/cfg.h"
#include "scenario/experiment.h"

#define MAX_JOBS 4096
#define MAX_SWEEPS 8
#define MAX_VALUES 64
#define MAX_SCENARIOS 64

typedef struct sweep {
    char *key;
    char *values[MAX_VALUES];
    int nvalues;
    char *buf; /* the values, split in place */
} sweep;

typedef struct run_opts {
    const char *scenarios[MAX_SCENARIOS];
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
    int seeds;             /* --seeds N: each point with seeds seed .. seed + N - 1 */
    double progress_every; /* seconds between progress lines on a non-terminal */
    char requests_set[48]; /* --requests N as "workload.requests=N", or "" */
} run_opts;

static void run_usage(FILE *f)
{
    fputs("usage: infabric run [SCENARIO...] [options]\n"
          "Runs each scenario (default: the reference experiment, reference-roce.yaml and\n"
          "reference-ib.yaml at workload.concurrency = 20,40,60,80,100), writes the summary,\n"
          "CSV tables, SVG plots and report.html, and prints the summary table.\n"
          "  -o, --out DIR          output folder (default: results); locked while the command\n"
          "                         runs, so a second command into it is refused\n"
          "      --set KEY=VALUE    override a scenario value (repeatable)\n"
          "      --sweep KEY=V1,V2  run once per value (repeatable: the cartesian product;\n"
          "                         at most 8 sweeps of 64 values and 4096 runs)\n"
          "      --seed N           override the scenario seed\n"
          "      --seeds N          run each point N times, with seeds SEED .. SEED+N-1, and\n"
          "                         report means with Student-t 95% confidence intervals\n"
          "      --requests N       measure N requests per run after the warm-up (sets\n"
          "                         workload.requests; default 2 x concurrency, 200 open loop)\n"
          "  -j, --jobs N           runs in parallel (default: the number of cores)\n"
          "      --check            verify invariants while running (slower)\n"
          "      --max-wall S       stop each run after S seconds of wall time (partial)\n"
          "      --watchdog TIME    stop a run if nothing is delivered for TIME of simulated\n"
          "                         time while messages are outstanding (0 = off; default:\n"
          "                         2 x fabric.nic.rto + 50ms, longer with failures)\n"
          "      --max-memory SIZE  refuse runs estimated to need more (default: the machine's\n"
          "                         memory)\n"
          "  -q, --quiet            no progress line (on a terminal it is redrawn in place,\n"
          "                         elsewhere a line is written to stderr every 5 s)\n"
          "      --progress-every S seconds between progress lines when stderr is not a\n"
          "                         terminal (default 5)\n"
          "Exit status: 0 every run complete, 1 a run failed (its row says why), 2 bad input\n"
          "(nothing run), 3 interrupted or stopped by a limit (partial results kept).\n",
          f);
}

static void sweep_free(sweep *s)
{
    free(s->key);
    free(s->buf);
    memset(s, 0, sizeof *s);
}

static int parse_sweep(sweep *s, const char *arg)
{
    sweep_free(s);
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg || !eq[1])
        return -1;
    s->key = ifb_xstrndup(arg, (size_t)(eq - arg), "a --sweep key");
    s->buf = ifb_xstrdup(eq + 1, "a --sweep value list");
    for (char *save = NULL, *t = strtok_r(s->buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (s->nvalues == MAX_VALUES)
            return -1;
        s->values[s->nvalues++] = t;
    }
    return s->nvalues ? 0 : -1;
}

static int parse_run_opts(int argc, char **argv, run_opts *o)
{
    enum {
        O_SET = 256,
        O_SWEEP,
        O_SEED,
        O_SEEDS,
        O_REQUESTS,
        O_CHECK,
        O_MAXWALL,
        O_MAXMEM,
        O_WATCHDOG,
        O_PROGRESS
    };
    static const struct option longs[] = {{"out", required_argument, 0, 'o'},
                                          {"set", required_argument, 0, O_SET},
                                          {"sweep", required_argument, 0, O_SWEEP},
                                          {"seed", required_argument, 0, O_SEED},
                                          {"seeds", required_argument, 0, O_SEEDS},
                                          {"requests", required_argument, 0, O_REQUESTS},
                                          {"jobs", required_argument, 0, 'j'},
                                          {"check", no_argument, 0, O_CHECK},
                                          {"max-wall", required_argument, 0, O_MAXWALL},
                                          {"max-memory", required_argument, 0, O_MAXMEM},
                                          {"watchdog", required_argument, 0, O_WATCHDOG},
                                          {"quiet", no_argument, 0, 'q'},
                                          {"progress-every", required_argument, 0, O_PROGRESS},
                                          {"help", no_argument, 0, 'h'},
                                          {0, 0, 0, 0}};
    o->outdir = "results";
    o->seed = -1;
    o->seeds = 1;
    o->progress_every = IFB_PROGRESS_EVERY;
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
            if (o->nsets == IFB_JOB_MAX_SETS - MAX_SWEEPS - 1) /* room for --requests */
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
        case O_SEEDS: {
            long v = strtol(optarg, &end, 10);
            if (!*optarg || *end || v < 1 || v > 1000)
                bad = "--seeds: expected an integer from 1 to 1000";
            o->seeds = (int)v;
            break;
        }
        case O_REQUESTS: {
            long long v = strtoll(optarg, &end, 10);
            if (!*optarg || *end || v < 1 || v > 1000000000)
                bad = "--requests: expected a number of requests from 1 to 1000000000";
            else
                snprintf(o->requests_set, sizeof o->requests_set, "workload.requests=%lld", v);
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
        case O_PROGRESS: {
            double v = strtod(optarg, &end);
            if (!*optarg || *end || !(v >= 0.1 && v <= 86400))
                bad = "--progress-every: expected seconds from 0.1 to 86400";
            o->progress_every = v;
            break;
        }
        case 'h':
            return 1;
        default: {
            char show[IFB_CLI_SHOW_BUFSZ];
            fprintf(stderr, "infabric run: unknown or incomplete option '%s'\n",
                    ifb_cli_show(argv[optind - 1], show));
            return -1;
        }
        }
        if (bad) {
            char show[IFB_CLI_SHOW_BUFSZ];
            fprintf(stderr, "infabric run: %s, found '%s'\n", bad, ifb_cli_show(optarg, show));
            return -1;
        }
    }
    while (optind < argc) {
        if (o->nscenarios == MAX_SCENARIOS) {
            fprintf(stderr, "infabric run: expected at most %d scenarios, found %d\n",
                    MAX_SCENARIOS, o->nscenarios + (argc - optind));
            return -1;
        }
        o->scenarios[o->nscenarios++] = argv[optind++];
    }
    return 0;
}

static volatile sig_atomic_t alarm_rang;
static void on_alarm(int sig)
{
    (void)sig;
    alarm_rang = 1;
}

static char *xprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) { /* only text longer than INT_MAX bytes */
        fprintf(stderr, "infabric: cannot format '%s': %s\n", fmt, strerror(errno));
        exit(IFB_EXIT_FAIL);
    }
    char *s = ifb_xmalloc((size_t)n + 1, "a run's text");
    va_start(ap, fmt);
    (void)vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

/* "run N (SCENARIO KEY=V ...)", the run's name in messages. */
static char *run_label(const ifb_job *job, int i)
{
    size_t cap = strlen(job->scenario) + 32;
    for (int k = job->nsets - job->nswept; k < job->nsets; k++)
        cap += strlen(job->sets[k]) + 1;
    char *s = ifb_xmalloc(cap, "a run's label");
    size_t n = (size_t)snprintf(s, cap, "run %d (%s", i, job->scenario);
    for (int k = job->nsets - job->nswept; k < job->nsets; k++)
        n += (size_t)snprintf(s + n, cap - n, " %s", job->sets[k]);
    snprintf(s + n, cap - n, ")");
    return s;
}

/* "run N (K=V ... seed S)" for the progress line: the sweep point with the last key
 * component only, and the seed index with --seeds. */
static char *short_label(const ifb_job *job, int i, int seeds, int scenarios)
{
    char buf[160];
    size_t n = (size_t)snprintf(buf, sizeof buf, "run %d", i);
    const char *sep = " (";
    if (scenarios > 1) { /* which scenario: its file name without the folder and ".yaml" */
        const char *b = strrchr(job->scenario, '/');
        b = b ? b + 1 : job->scenario;
        size_t len = strlen(b);
        if (len > 5 && !strcmp(b + len - 5, ".yaml"))
            len -= 5;
        n += (size_t)snprintf(buf + n, sizeof buf - n, " (%.*s", (int)(len < 60 ? len : 60), b);
        sep = " ";
    }
    for (int k = job->nsets - job->nswept; k < job->nsets && n < sizeof buf; k++) {
        const char *kv = job->sets[k], *eq = strchr(kv, '=');
        const char *dot = kv;
        for (const char *c = kv; eq && c < eq; c++)
            if (*c == '.')
                dot = c + 1;
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%.40s", sep, dot);
        sep = " ";
    }
    if (seeds > 1 && n < sizeof buf) {
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%sseed +%d", sep, job->seed_offset);
        sep = " ";
    }
    if (strcmp(sep, " (") && n < sizeof buf)
        snprintf(buf + n, sizeof buf - n, ")");
    return xprintf("%s", buf);
}

/* Runs one job in this (child) process; exit status as ifb_experiment_run's. */
static int child_run(ifb_job *job, const char *runs_dir, int i, ifb_run_progress *slot)
{
    job->progress = slot;
    ifb_err e = {{0}};
    char *path = ifb_path_printf(&e, "%s/%03d.json", runs_dir, i);
    char *prefix = path ? ifb_path_printf(&e, "%s/%03d", runs_dir, i) : NULL;
    char *label = run_label(job, i);
    ifb_ofile f;
    if (!prefix || ifb_ofile_open(&f, path, &e)) {
        fprintf(stderr, "infabric: %s: %s\n", label, e.msg);
        return IFB_EXIT_FAIL;
    }
    job->csv_prefix = prefix;
    int object = 0;
    int rc = ifb_experiment_run(job, f.f, &ifb_cli_interrupted, &object, &e);
    if (!object) { /* an output error: the message names the file (ifb_ofile_fail) */
        ifb_ofile_fail(&f, &e);
        fprintf(stderr, "infabric: %s failed: %s\n", label, e.msg);
        return rc == IFB_EXIT_INPUT ? rc : IFB_EXIT_FAIL;
    }
    if (rc == IFB_EXIT_INPUT || rc == IFB_EXIT_FAIL)
        fprintf(stderr, "infabric: %s failed: %s\n", label, e.msg);
    if (ifb_ofile_commit(&f, &e)) {
        fprintf(stderr, "infabric: %s: %s\n", label, e.msg);
        return IFB_EXIT_FAIL;
    }
    return rc;
}

/* Removes what an earlier command left in the folder that this one would not overwrite or
 * that would make a folder look complete: summary.json first (its presence says complete), the
 * per-run files (NNN.json, NNN-*.csv) and temporary files of workers that were killed. The
 * folder is locked, so nothing else writes there. */
static void remove_stale(const char *outdir, const char *runs_dir, int temps_only)
{
    ifb_err e;
    char *p = ifb_path_printf(&e, "%s/summary.json", outdir);
    if (p && !temps_only)
        (void)remove(p);
    free(p);
    DIR *d = opendir(runs_dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *n = de->d_name;
        size_t k = strspn(n, "0123456789");
        int ours = k >= 3 && (n[k] == '.' || n[k] == '-');
        if (!ours || (temps_only && !strstr(n, ".tmp.")))
            continue;
        p = ifb_path_printf(&e, "%s/%s", runs_dir, n);
        if (p)
            (void)remove(p);
        free(p);
    }
    closedir(d);
}

static void on_child(int sig)
{
    (void)sig; /* only wakes sigsuspend */
}

int ifb_cmd_run(int argc, char **argv)
{
    /* First, so that a signal during the (possibly long) validation is not lost. */
    ifb_cli_install_signals();
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
    /* Jobs: scenarios x cartesian product of the sweeps, the last sweep varying fastest. The
     * count in 64 bits with checked products: 64 scenarios x 64^8 values fit, but refuse
     * anything over the limit before building or validating a single job. */
    uint64_t total = (uint64_t)o.nscenarios;
    int overflow = 0;
    for (int s = 0; s < o.nsweeps; s++)
        overflow |= __builtin_mul_overflow(total, (uint64_t)o.sweeps[s].nvalues, &total);
    overflow |= __builtin_mul_overflow(total, (uint64_t)o.seeds, &total);
    if (overflow || total > MAX_JOBS) {
        char how[256];
        size_t n = (size_t)snprintf(how, sizeof how, "%d scenario(s)", o.nscenarios);
        for (int s = 0; s < o.nsweeps && n < sizeof how; s++)
            n += (size_t)snprintf(how + n, sizeof how - n, " x %d", o.sweeps[s].nvalues);
        if (o.seeds > 1 && n < sizeof how)
            n += (size_t)snprintf(how + n, sizeof how - n, " x %d seeds", o.seeds);
        if (overflow)
            fprintf(stderr,
                    "infabric run: expected at most %d runs, found more than %" PRIu64 " (%s)\n",
                    MAX_JOBS, UINT64_MAX, how);
        else
            fprintf(stderr, "infabric run: expected at most %d runs, found %" PRIu64 " (%s)\n",
                    MAX_JOBS, total, how);
        return IFB_EXIT_INPUT;
    }
    int njobs = (int)total, points = njobs / o.nscenarios / o.seeds;
    /* The output folder: checked, created and locked before any work. The longest name put
     * under it: "/runs/NNNN-int-paths.csv.tmp.<pid>". */
    ifb_err e = {{0}};
    ifb_outdir od;
    int orc = ifb_outdir_open(&od, o.outdir, sizeof "/runs/4096-int-paths.csv.tmp.4294967295", &e);
    if (orc) {
        fprintf(stderr, "infabric run: %s\n", e.msg);
        return IFB_EXIT_INPUT;
    }
    int rc = IFB_EXIT_INPUT;
    char *dir = ifb_path_printf(&e, "%s/runs", o.outdir);
    ifb_job *jobs = ifb_xcalloc((size_t)njobs, sizeof *jobs, "the runs");
    ifb_summary_run *runs = ifb_xcalloc((size_t)njobs, sizeof *runs, "the runs' states");
    pid_t *pids = ifb_xcalloc((size_t)njobs, sizeof *pids, "the runs' workers");
    if (!dir) {
        fprintf(stderr, "infabric run: %s\n", e.msg);
        goto out;
    }
    /* job order: scenario, then sweep point, then seed */
    for (int sc = 0, k = 0; sc < o.nscenarios; sc++)
        for (int p = 0; p < points * o.seeds; p++, k++) {
            ifb_job *j = &jobs[k];
            j->scenario = o.scenarios[sc];
            for (int q = 0; q < o.nsets; q++)
                j->sets[j->nsets++] = o.sets[q];
            if (o.requests_set[0])
                j->sets[j->nsets++] = o.requests_set;
            char **pt = ifb_xcalloc(MAX_SWEEPS, sizeof *pt, "a run's sweep point");
            runs[k].sweep = (const char *const *)pt;
            int rem = p / o.seeds;
            for (int s = o.nsweeps - 1; s >= 0; s--) {
                const sweep *sw = &o.sweeps[s];
                pt[s] = xprintf("%s=%s", sw->key, sw->values[rem % sw->nvalues]);
                rem /= sw->nvalues;
            }
            for (int s = 0; s < o.nsweeps; s++)
                j->sets[j->nsets++] = pt[s];
            j->nswept = o.nsweeps;
            j->seed = o.seed;
            j->seed_offset = p % o.seeds;
            j->check = o.check;
            j->max_wall = o.max_wall;
            j->max_memory = o.max_memory;
            j->watchdog_given = o.watchdog_given;
            j->watchdog = o.watchdog;
            runs[k].scenario = j->scenario;
            runs[k].nsweep = o.nsweeps;
            runs[k].seed_offset = j->seed_offset;
            runs[k].state = IFB_RUN_NOT_STARTED;
        }
    /* Validate every job before running any: a bad key or value fails fast. */
    for (int i = 0; i < njobs && !ifb_cli_interrupted; i++) {
        if (ifb_experiment_check(&jobs[i], &e)) {
            fprintf(stderr, "infabric: %s\n", e.msg);
            goto out;
        }
    }
    remove_stale(o.outdir, dir, 0);
    if (ifb_mkdirs(dir, &e)) {
        fprintf(stderr, "infabric: %s\n", e.msg);
        rc = IFB_EXIT_FAIL;
        goto out;
    }
    /* Run the workers. Signals stay blocked except inside sigsuspend, so the check of the
     * interrupt flag and the wait cannot miss one. */
    sigset_t block, old, waitmask;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    sigaddset(&block, SIGCHLD);
    sigaddset(&block, SIGALRM);
    sigprocmask(SIG_BLOCK, &block, &old);
    waitmask = old;
    sigdelset(&waitmask, SIGINT);
    sigdelset(&waitmask, SIGTERM);
    sigdelset(&waitmask, SIGHUP);
    sigdelset(&waitmask, SIGCHLD);
    sigdelset(&waitmask, SIGALRM);
    struct sigaction sa, oldchld, oldalrm;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_child;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGCHLD, &sa, &oldchld);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, &oldalrm);
    /* Progress: the workers' counters in shared memory, a timer to redraw the line. Without
     * the memory (mmap failed) the runs go on without a progress line. */
    ifb_run_progress *slots = NULL;
    ifb_progress pg = {.out = stderr,
                       .tty = isatty(2),
                       .njobs = njobs,
                       .parallel = o.jobs,
                       .every = o.progress_every};
    char **labels = NULL;
    if (!o.quiet) {
        void *mem = mmap(NULL, (size_t)njobs * sizeof *slots, PROT_READ | PROT_WRITE,
                         MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        slots = mem == MAP_FAILED ? NULL : mem;
        if (slots) {
            pg.start = ifb_xcalloc((size_t)njobs, sizeof *pg.start, "the runs' start times");
            pg.end = ifb_xcalloc((size_t)njobs, sizeof *pg.end, "the runs' end times");
            labels = ifb_xcalloc((size_t)njobs, sizeof *labels, "the runs' progress labels");
            for (int i = 0; i < njobs; i++)
                labels[i] = short_label(&jobs[i], i, o.seeds, o.nscenarios);
            pg.slot = slots;
            pg.labels = (const char *const *)labels;
            pg.t0 = ifb_progress_now();
            pg.last_line = pg.t0;
            /* the timer wakes the parent often enough for either kind of line */
            long us = pg.tty || o.progress_every < 2 ? 250000 : 1000000;
            struct timeval tv = {us / 1000000, us % 1000000}; /* tv_usec < 1e6 */
            struct itimerval it = {tv, tv};
            if (setitimer(ITIMER_REAL, &it, NULL))
                fprintf(stderr, "infabric run: no progress line: setitimer: %s\n", strerror(errno));
        }
    }
    int next = 0, running = 0, done = 0, forwarded = 0;
    if (slots && pg.tty)
        ifb_progress_show(&pg, 1);
    for (;;) {
        if (ifb_cli_interrupted && !forwarded) {
            for (int i = 0; i < next; i++)
                if (pids[i] > 0)
                    kill(pids[i], SIGINT);
            forwarded = 1;
        }
        while (running < o.jobs && next < njobs && !ifb_cli_interrupted) {
            fflush(NULL);
            pid_t pid = fork();
            if (pid < 0) {
                fprintf(stderr, "infabric: fork: %s\n", strerror(errno));
                ifb_cli_interrupted = 1;
                break;
            }
            if (pid == 0) {
                sigaction(SIGCHLD, &oldchld, NULL);
                sigprocmask(SIG_SETMASK, &old, NULL);
                sigaction(SIGALRM, &oldalrm, NULL);
                _exit(child_run(&jobs[next], dir, next, slots ? &slots[next] : NULL));
            }
            runs[next].state = IFB_RUN_RUNNING;
            if (slots)
                pg.start[next] = ifb_progress_now();
            pids[next++] = pid;
            running++;
        }
        if (!running)
            break;
        int st;
        pid_t pid = waitpid(-1, &st, WNOHANG);
        if (pid == 0 || (pid < 0 && errno == EINTR)) {
            sigsuspend(&waitmask);
            if (alarm_rang && slots) {
                alarm_rang = 0;
                ifb_progress_show(&pg, 0);
            }
            continue;
        }
        if (pid < 0)
            break; /* ECHILD: cannot happen while running > 0 */
        for (int i = 0; i < next; i++)
            if (pids[i] == pid) {
                pids[i] = 0;
                if (WIFEXITED(st)) {
                    runs[i].state = IFB_RUN_EXITED;
                    runs[i].code = WEXITSTATUS(st);
                } else {
                    runs[i].state = IFB_RUN_KILLED;
                    runs[i].code = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
                }
                if (slots)
                    pg.end[i] = ifb_progress_now();
            }
        running--;
        done++;
        if (slots && pg.tty)
            ifb_progress_show(&pg, 1);
    }
    if (slots) {
        struct itimerval off = {{0, 0}, {0, 0}};
        setitimer(ITIMER_REAL, &off, NULL);
        ifb_progress_clear(&pg);
        munmap(slots, (size_t)njobs * sizeof *slots);
    }
    for (int i = 0; labels && i < njobs; i++)
        free(labels[i]);
    free(labels);
    free(pg.start);
    free(pg.end);
    sigaction(SIGALRM, &oldalrm, NULL);
    sigaction(SIGCHLD, &oldchld, NULL);
    /* A signal from here on still only sets the flag: the summary is written either way. */
    sigprocmask(SIG_SETMASK, &old, NULL);
    remove_stale(o.outdir, dir, 1);
    int partial = next < njobs || ifb_cli_interrupted;
    int failed = 0;
    for (int i = 0; i < next; i++) {
        if (runs[i].state == IFB_RUN_EXITED && runs[i].code == IFB_EXIT_INTERRUPTED)
            partial = 1;
        else if (runs[i].state != IFB_RUN_EXITED || runs[i].code != 0)
            failed = 1;
    }
    ifb_summary_opts so = {.outdir = o.outdir,
                           .runs_dir = dir,
                           .runs = runs,
                           .nplanned = njobs,
                           .partial = partial || failed,
                           .reference = reference,
                           .seeds = o.seeds,
                           .print = stdout,
                           .errors = stderr};
    if (ifb_summary_write(&so, &e)) {
        fprintf(stderr, "infabric: %s\n", e.msg);
        rc = IFB_EXIT_FAIL;
    } else {
        rc = failed ? IFB_EXIT_FAIL : partial ? IFB_EXIT_INTERRUPTED : 0;
    }
out:
    ifb_outdir_close(&od);
    for (int i = 0; runs && i < njobs; i++) {
        char **pt = (char **)runs[i].sweep;
        for (int s = 0; pt && s < MAX_SWEEPS; s++)
            free(pt[s]);
        free(pt);
    }
    free(runs);
    free(jobs);
    free(pids);
    free(dir);
    for (int s = 0; s < o.nsweeps; s++)
        sweep_free(&o.sweeps[s]);
    return rc;
}
