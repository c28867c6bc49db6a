/* The output folder of `infabric bench` (docs/outputs.md): summary.json and the CSV tables, one
 * row block per message size, each file written atomically and summary.json last. */
#include <stdlib.h>

#include "cli/bench.h"
#include "core/alloc.h"
#include "report/out.h"

int ifb_bench_write_summary(FILE *f, const ifb_bench_opts *o, const ifb_scenario *sc,
                            const ifb_bench_row *rows, int nrows, int partial, ifb_err *e)
{
    ifb_json j;
    ifb_json_init(&j, f, 2);
    ifb_json_obj_begin(&j);
    ifb_json_kstr(&j, "tool", "infabric bench");
    ifb_json_kstr(&j, "scenario", sc->name);
    ifb_json_kstr(&j, "source", sc->source);
    ifb_json_kstr(&j, "pattern", ifb_mb_names[o->kind]);
    ifb_json_kuint(&j, "seed", o->seed >= 0 ? (uint64_t)o->seed : sc->seed);
    ifb_json_kbool(&j, "partial", partial);
    ifb_json_karr_begin(&j, "runs");
    for (int i = 0; i < nrows; i++) {
        const ifb_bench_row *r = &rows[i];
        int failed = r->r.msgs_failed > 0;
        ifb_json_obj_begin(&j);
        ifb_json_kuint(&j, "bytes", r->bytes);
        ifb_json_kbool(&j, "complete", r->stop == IFB_STOP_EMPTY && !failed);
        ifb_json_kstr(&j, "status",
                      failed                      ? "failed"
                      : r->stop == IFB_STOP_EMPTY ? "complete"
                                                  : "partial");
        ifb_json_kstr(&j, "stop", ifb_stop_name(r->stop));
        if (failed)
            ifb_json_kstr(&j, "error",
                          "messages failed (the transport gave up after fabric.nic.retry_cnt "
                          "retries): the pattern was not measured");
        ifb_json_kdouble(&j, "size_bytes", r->r.size_bytes);
        if (failed)
            ifb_json_knull(&j, "time_ps");
        else
            ifb_json_kuint(&j, "time_ps", r->r.time);
        ifb_json_kdouble(&j, "algbw_Bps", r->r.algbw);
        ifb_json_kdouble(&j, "busbw_Bps", r->r.busbw);
        ifb_json_kdouble(&j, "lat_us", r->r.lat_us);
        if (o->kind == IFB_MB_PINGPONG) { /* perftest's latency columns */
            ifb_json_kuint(&j, "iterations", r->r.lat_iters);
            ifb_json_kdouble(&j, "t_min_us", r->r.t_min_us);
            ifb_json_kdouble(&j, "t_max_us", r->r.t_max_us);
            ifb_json_kdouble(&j, "t_typical_us", r->r.t_typical_us);
            ifb_json_kdouble(&j, "t_avg_us", r->r.t_avg_us);
            ifb_json_kdouble(&j, "t_stdev_us", r->r.t_stdev_us);
            ifb_json_kdouble(&j, "t_p99_us", r->r.t_p99_us);
            ifb_json_kdouble(&j, "t_p999_us", r->r.t_p999_us);
        }
        ifb_json_kdouble(&j, "jain", r->r.jain);
        ifb_json_kuint(&j, "msgs", r->r.msgs);
        ifb_json_kuint(&j, "msgs_failed", r->r.msgs_failed);
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
    return ifb_json_finish(&j, e);
}

static int write_summary(const char *path, const ifb_bench_opts *o, const ifb_scenario *sc,
                         const ifb_bench_row *rows, int nrows, int partial, ifb_err *e)
{
    ifb_ofile f;
    if (ifb_ofile_open(&f, path, e))
        return -1;
    if (ifb_bench_write_summary(f.f, o, sc, rows, nrows, partial, e))
        return ifb_ofile_fail(&f, e);
    return ifb_ofile_commit(&f, e);
}

/* What the CSV row writers need. */
typedef struct out_ctx {
    const ifb_scenario *sc;
    const ifb_bench_row *rows;
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
        size_t n = ifb_fabric_qp_retx(x->fabs[i], NULL, 0);
        uint64_t *retx = ifb_xcalloc(n, sizeof *retx, "per-QP retransmission counts");
        ifb_fabric_qp_retx(x->fabs[i], retx, n);
        for (size_t k = 0; k < n; k++) {
            ifb_csv_uint(c, x->rows[i].bytes);
            ifb_csv_uint(c, k);
            ifb_csv_uint(c, retx[k]);
            ifb_csv_end_row(c);
        }
        free(retx);
    }
}

int ifb_bench_write_outputs(const ifb_bench_opts *o, const ifb_scenario *sc,
                            const ifb_bench_row *rows, int nrows, ifb_fabric **fabs, int partial,
                            ifb_err *e)
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
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char *p = ifb_path_printf(e, "%s/%s", o->outdir, files[i].name);
        int rc = !p || ifb_csv_write_file(p, files[i].hdr, files[i].n, files[i].rows, &x, e);
        free(p);
        if (rc)
            return -1;
    }
    /* The summary last: its presence says the folder is complete (or marked partial). */
    char *p = ifb_path_printf(e, "%s/summary.json", o->outdir);
    int rc = p ? write_summary(p, o, sc, rows, nrows, partial, e) : -1;
    free(p);
    return rc;
}
