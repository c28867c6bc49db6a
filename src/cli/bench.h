/* What `infabric bench` measured and the writer of its output folder (bench.c runs the
 * benchmark, bench_out.c writes summary.json and the CSV tables of docs/outputs.md). */
#ifndef IFB_CLI_BENCH_H
#define IFB_CLI_BENCH_H
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"
#include "net/fabric/fabric.h"
#include "scenario/scenario.h"
#include "workload/microbench.h"

#define IFB_BENCH_MAX_SETS 256
#define IFB_BENCH_MAX_SIZES 64

typedef struct ifb_bench_opts {
    const char *scenario;
    const char *sets[IFB_BENCH_MAX_SETS];
    int nsets;
    int kind;
    uint64_t sizes[IFB_BENCH_MAX_SIZES];
    int nsizes;
    int nccl_sizes; /* the sizes came from -b/-e (nccl-tests "size": alltoall per rank) */
    int iters, depth, ranks, stride, src, dst;
    int json;
    int list_keys; /* check --list-keys */
    int check;
    uint64_t max_events;
    double max_wall;
    uint64_t max_memory;
    ifb_time watchdog;
    const char *outdir;
    int64_t seed; /* -1: the scenario's */
    /* deepep-dispatch / deepep-combine: the kernel, from the scenario's workload keys */
    ifb_deepep_bench deepep;
} ifb_bench_opts;

typedef struct ifb_bench_row {
    uint64_t bytes;
    ifb_mb_result r;
    ifb_fabric_counters cnt;
    ifb_time sim_end;
    uint64_t events;
    ifb_stop stop;
} ifb_bench_row;

/* The summary document (docs/outputs.md, `infabric bench`) to f: what summary.json holds and
 * `--json` prints. Returns 0 or -1 with e. */
int ifb_bench_write_summary(FILE *f, const ifb_bench_opts *o, const ifb_scenario *sc,
                            const ifb_bench_row *rows, int nrows, int partial, ifb_err *e);
/* Writes messages.csv, ports.csv, qps.csv, queues.csv, util.csv, then summary.json last, into
 * o->outdir. Returns 0 or -1 with e naming the file. */
int ifb_bench_write_outputs(const ifb_bench_opts *o, const ifb_scenario *sc,
                            const ifb_bench_row *rows, int nrows, ifb_fabric **fabs, int partial,
                            ifb_err *e);

#endif
