/* DCQCN end to end on one 400G switch: two long flows sharing the receiver's link converge to
 * an equal share under each named profile (measured over the second half of their common
 * time), the bottleneck queue stays near the ECN marking band, the per-QP rate trace shows the
 * sawtooth, CNPs are paced per QP, ECN marking is deterministic, and a run with DCQCN on ends
 * when its last flow ends (no timer keeps it alive), here and on the 128-host reference
 * leaf-spine. Every run checks packet conservation and ends with nothing in flight. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/fabric/fabric.h"
#include "net/fabric/fabric_int.h" /* the state-machine test drives one QP directly */
#include "net/wire/wire.h"
#include "topo/topo.h"
#include "workload/microbench.h"

#include "net_world.h"

static void dcqcn_cfg(ifb_fabric_cfg *cfg, int profile)
{
    ifb_fabric_cfg_default(cfg);
    cfg->queue[3].ecn = 1; /* 100 KB / 400 KB / 0.2 */
    cfg->dcqcn = 1;
    assert_int_equal(ifb_dcqcn_profile(profile, &cfg->dcqcn_p), 0);
    cfg->rate_sample_interval = 2 * IFB_US;
}

typedef struct done_rec {
    ifb_time t[2];
    int n;
} done_rec;

static void on_done(ifb_sim *sim, void *ctx, const ifb_msg_info *info)
{
    (void)sim;
    done_rec *d = ctx;
    d->t[info->src] = info->done;
    d->n++;
}

static void post_b(ifb_sim *sim, void *obj, uint64_t arg)
{
    (void)arg;
    done_rec *d = sim->user;
    ifb_net *net = obj;
    assert_true(ifb_net_send(net, 1, 2, 128ull << 20, IFB_TC_A2A, on_done, d) > 0);
}

#define SLICE (10 * IFB_US)
#define MAXS 4096

typedef struct trace {
    int n;
    ifb_time t[MAXS];
    uint64_t a[MAXS], b[MAXS]; /* payload bytes sent by flow A's and B's NIC */
    double qint[MAXS];         /* bottleneck queue integral, bytes x ps */
} trace;

/* Flow A (host 0 -> 2) starts at 0, flow B (1 -> 2) 200 us later, 128 MiB each; the run is
 * cut into 10 us slices to read the senders' bytes and the bottleneck's queue. */
static void run_two_flows(world *w, trace *tr, done_rec *d)
{
    ifb_net *net = ifb_fabric_net(w->fab);
    memset(d, 0, sizeof *d);
    w->sim.user = d;
    assert_true(ifb_net_send(net, 0, 2, 128ull << 20, IFB_TC_A2A, on_done, d) > 0);
    ifb_sim_at(&w->sim, 200 * IFB_US, post_b, net, 0);
    int pa = host_port(&w->topo, 0), pb = host_port(&w->topo, 1);
    int bn = peer_port(&w->topo, host_port(&w->topo, 2));
    tr->n = 0;
    for (;;) {
        w->sim.until = w->sim.now + SLICE;
        ifb_stop st = ifb_sim_run(&w->sim);
        assert_true(tr->n < MAXS);
        const ifb_port_stats *s = ifb_fabric_port_stats(w->fab, bn);
        tr->t[tr->n] = w->sim.now;
        tr->a[tr->n] = ifb_fabric_port_stats(w->fab, pa)->tx_payload;
        tr->b[tr->n] = ifb_fabric_port_stats(w->fab, pb)->tx_payload;
        tr->qint[tr->n] = s->queue_byte_ps + (double)ifb_fabric_port_queue_bytes(w->fab, bn) *
                                                 (double)(w->sim.now - s->last_change);
        tr->n++;
        if (st == IFB_STOP_EMPTY)
            break;
        assert_int_equal(st, IFB_STOP_TIME);
    }
    assert_int_equal(d->n, 2);
}

static int slice_at(const trace *tr, ifb_time t)
{
    int i = 0;
    while (i + 1 < tr->n && tr->t[i] < t)
        i++;
    return i;
}

static void converge(int profile)
{
    ifb_fabric_cfg cfg;
    dcqcn_cfg(&cfg, profile);
    world w;
    make_single(&w, 1, 3, &cfg);
    trace *tr = calloc(1, sizeof *tr);
    done_rec d;
    run_two_flows(&w, tr, &d);
    const ifb_fabric_counters *c = ifb_fabric_counts(w.fab);
    /* both flows share [200 us, first completion]; measure its second half */
    ifb_time first = d.t[0] < d.t[1] ? d.t[0] : d.t[1];
    ifb_time t0 = 200 * IFB_US + (first - 200 * IFB_US) / 2;
    int i0 = slice_at(tr, t0), i1 = slice_at(tr, first) - 1;
    assert_true(i1 > i0 + 10);
    double dt = ifb_time_to_s(tr->t[i1] - tr->t[i0]);
    double ra = (double)(tr->a[i1] - tr->a[i0]) / dt, rb = (double)(tr->b[i1] - tr->b[i0]) / dt;
    double fair = (ra + rb) / 2;
    ifb_pkt p = {.kind = IFB_PK_DATA, .opcode = IFB_OP_WRITE_MIDDLE, .payload = 4096};
    double goodput = 400e9 / 8 * 4096.0 / ifb_wire_len(&p);
    /* time to converge: first 50 us window after B's start with both within 10% */
    ifb_time conv = 0;
    for (int i = slice_at(tr, 200 * IFB_US); i + 5 < tr->n && !conv; i++) {
        double a = (double)(tr->a[i + 5] - tr->a[i]), b = (double)(tr->b[i + 5] - tr->b[i]);
        if (a > 0 && b > 0 && fabs(a - b) / ((a + b) / 2) < 0.1)
            conv = tr->t[i + 5] - 200 * IFB_US;
    }
    double qavg = (tr->qint[i1] - tr->qint[i0]) / (double)(tr->t[i1] - tr->t[i0]);

    printf("  %s: A %.1f Gb/s, B %.1f Gb/s (%.1f%% of goodput), converged %.0f us after B "
           "started, bottleneck queue %.0f KB avg, %llu marks, %llu CNPs, %llu decreases, "
           "%llu increases\n",
           ifb_dcqcn_profile_names[profile], ra * 8 / 1e9, rb * 8 / 1e9, 100 * (ra + rb) / goodput,
           ifb_time_to_us(conv), qavg / 1e3, (unsigned long long)c->ecn_marks,
           (unsigned long long)c->cnps_sent, (unsigned long long)c->dcqcn_decreases,
           (unsigned long long)c->dcqcn_increases);
    assert_true(fabs(ra - fair) / fair < 0.10);
    assert_true(fabs(rb - fair) / fair < 0.10);
    const ifb_dcqcn_params *P = &cfg.dcqcn_p;
    const double C = 400e9, g = 4096.0 / ifb_wire_len(&p); /* line rate; payload per wire byte */
    /* The rate limiters, from the 2 us rate trace: each sender's payload over the window is its
     * limiter's rate integrated (pacing), and the bottleneck is busy whenever the two together
     * offer at least the line rate, so its throughput lies between the time-average of
     * min(C, RA + RB) (the queue only fills the troughs) and of RA + RB (it cannot send more
     * than arrives, the queue being ~30 KB against the ~125 MB the window carries). */
    size_t ns;
    const ifb_rate_sample *rs = ifb_fabric_rate_samples(w.fab, &ns);
    double ia = 0, ib = 0, imin = 0, isum = 0, cur[2] = {0, 0};
    double step = ifb_time_to_s(cfg.rate_sample_interval);
    ifb_time last_t = 0;
    for (size_t i = 0; i < ns; i++) {
        if (rs[i].t <= tr->t[i0] || rs[i].t > tr->t[i1] || rs[i].host > 1)
            continue;
        if (last_t && rs[i].t != last_t) { /* both flows' samples of the previous instant */
            imin += fmin(C, cur[0] + cur[1]) * step;
            isum += (cur[0] + cur[1]) * step;
        }
        last_t = rs[i].t;
        cur[rs[i].host] = (double)rs[i].rate_bps;
        *(rs[i].host ? &ib : &ia) += (double)rs[i].rate_bps * step;
    }
    double sent_a = (double)(tr->a[i1] - tr->a[i0]), sent_b = (double)(tr->b[i1] - tr->b[i0]);
    double util = (ra + rb) / goodput, u_lo = imin / (C * dt), u_hi = isum / (C * dt);
    printf("  pacing: A sent %.4f, B %.4f of its limiter's integral; utilization %.4f, limiters "
           "offer min(C, sum) %.4f, sum %.4f\n",
           sent_a / (ia / 8 * g), sent_b / (ib / 8 * g), util, u_lo, u_hi);
    assert_true(fabs(sent_a / (ia / 8 * g) - 1) < 0.01);
    assert_true(fabs(sent_b / (ib / 8 * g) - 1) < 0.01);
    assert_true(util > u_lo - 0.005 && util < u_hi + 0.005);
    /* DCQCN's operating point is the link kept full (Zhu et al.: the fluid model's fixed point
     * has the rates summing to C): at least 95% here, the troughs after each cut included. */
    assert_true(util > 0.95);
    /* Convergence. B's first CNP comes microseconds after it starts (the queue reaches kmin =
     * 100 KB at 400 Gb/s of excess in 2 us), and each QP's first CNP sets it to
     * L (1 - alpha_init / 2), the same for both: what separates them afterwards are the marks
     * each draws. A gap is halved by every increase event (fast recovery: RC <- (RT + RC) / 2),
     * and one comes inc_timer after a cut (or inc_bytes of sending at the fair rate, if
     * sooner); a cut of at most max_dec = 50% is within 10% after 3 halvings (6.25%). So the
     * flows are within 10% over a 50 us window by 3 increase periods + that window. */
    double t_inc = ifb_time_to_s(P->inc_timer);
    if (P->inc_bytes)
        t_inc = fmin(t_inc, (double)P->inc_bytes / (C / 2 / 8));
    ifb_time conv_max = (ifb_time)(3 * t_inc * 1e12) + 5 * SLICE;
    if (!(conv > 0 && conv <= conv_max))
        fail_msg("converged %.0f us after B started, bound %.0f us", ifb_time_to_us(conv),
                 ifb_time_to_us(conv_max));
    /* The queue's average stays below the depth at which the RED curve gives each QP one mark
     * per reaction period (the CNP interval or the decrease period, whichever is longer) at
     * the fair rate: above it every QP is cut once a period, by far more than the increases
     * (one per inc_timer >> the period) put back, so the queue cannot settle there.
     * nvidia-cx and hpcc-ns3: 4 us, 24 packets, p = 1/24: 162 KB; dcqcn-paper: 50 us, 300
     * packets: 105 KB (kmin 100 KB, kmax 400 KB, pmax 0.2). Above zero: the increases push
     * the sum past C between cuts, and marks happen (checked below) only above kmin. */
    const ifb_queue_cfg *qc = &cfg.queue[3];
    double period =
        ifb_time_to_s(P->cnp_interval > P->dec_period ? P->cnp_interval : P->dec_period);
    double per_period = C / 2 / 8 * period / ifb_wire_len(&p);
    double q_max = (double)qc->ecn_kmin +
                   (1 / per_period) / qc->ecn_pmax * (double)(qc->ecn_kmax - qc->ecn_kmin);
    printf("  queue bound %.0f KB, convergence bound %.0f us\n", q_max / 1e3,
           ifb_time_to_us(conv_max));
    assert_true(qavg > 0.1 * qc->ecn_kmin);
    assert_true(qavg < q_max);
    assert_true(c->ecn_marks > 0 && c->cnps_sent > 0 && c->dcqcn_decreases > 0);
    assert_int_equal(c->cnps_sent, c->cnps_rcvd);
    assert_int_equal(c->pkts_dropped, 0);
    /* sawtooth: flow A's sampled rate goes down and up repeatedly while the flows share */
    int up = 0, down = 0;
    uint64_t prev = 0;
    for (size_t i = 0; i < ns; i++) {
        if (rs[i].host != 0 || rs[i].t < 200 * IFB_US || rs[i].t > first)
            continue;
        if (prev && rs[i].rate_bps > prev)
            up++;
        if (prev && rs[i].rate_bps < prev)
            down++;
        prev = rs[i].rate_bps;
    }
    printf("  rate trace of A: %d decreases, %d increases between samples\n", down, up);
    assert_true(up >= 3);
    assert_true(down >= 3);
    /* the run ended with the last flow, not a timer later */
    ifb_time last = d.t[0] > d.t[1] ? d.t[0] : d.t[1];
    assert_true(w.sim.now >= last);
    assert_true(w.sim.now - last < 5 * IFB_US);
    check_conservation(&w);
    free(tr);
    destroy(&w);
}

static void test_converge_nvidia_cx(void **state)
{
    (void)state;
    converge(IFB_DCQCN_NVIDIA_CX);
}

static void test_converge_paper(void **state)
{
    (void)state;
    converge(IFB_DCQCN_PAPER);
}

static void test_converge_hpcc(void **state)
{
    (void)state;
    converge(IFB_DCQCN_HPCC_NS3);
}

/* The rate CSV has a header and one line per sample. */
static void test_rate_csv(void **state)
{
    (void)state;
    ifb_fabric_cfg cfg;
    dcqcn_cfg(&cfg, IFB_DCQCN_NVIDIA_CX);
    world w;
    make_single(&w, 1, 3, &cfg);
    ifb_mb_spec s = {.kind = IFB_MB_INCAST, .bytes = 4 << 20, .dst = 2, .nranks = 2};
    ifb_mb_result r;
    ifb_err e;
    assert_int_equal(ifb_mb_run(&w.sim, ifb_fabric_net(w.fab), &s, &r, &e), 0);
    size_t n;
    ifb_fabric_rate_samples(w.fab, &n);
    assert_true(n > 10);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(ifb_fabric_write_rate_csv(w.fab, f), 0);
    fclose(f);
    assert_true(!strncmp(buf, "time_us,host,qpn,rate_gbps\n", 27));
    size_t lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += buf[i] == '\n';
    assert_int_equal(lines, n + 1);
    free(buf);
    check_conservation(&w);
    destroy(&w);
}

/* 8->1 incast: CNPs per QP are at least one interval apart, so fewer than the marks. */
static void test_cnp_paced(void **state)
{
    (void)state;
    for (int prof = 0; prof < IFB_DCQCN_NPROFILES; prof++) {
        ifb_fabric_cfg cfg;
        dcqcn_cfg(&cfg, prof);
        cfg.rate_sample_interval = 0;
        world w;
        make_single(&w, 1, 9, &cfg);
        ifb_mb_spec s = {.kind = IFB_MB_INCAST, .bytes = 8 << 20, .dst = 8, .nranks = 8};
        ifb_mb_result r;
        ifb_err e;
        assert_int_equal(ifb_mb_run(&w.sim, ifb_fabric_net(w.fab), &s, &r, &e), 0);
        const ifb_fabric_counters *c = ifb_fabric_counts(w.fab);
        ifb_time iv = cfg.dcqcn_p.cnp_interval;
        assert_true(c->ecn_marks > 0);
        assert_int_equal(c->cnps_sent, c->cnps_rcvd);
        if (iv) {
            /* one per QP per interval at most, over the run */
            uint64_t bound = 8 * (w.sim.now / iv + 1);
            assert_true(c->cnps_sent <= bound);
            assert_true(c->cnps_sent < c->ecn_marks);
        } else {
            assert_int_equal(c->cnps_sent, c->ecn_marks); /* hpcc-ns3: one per marked packet */
        }
        check_conservation(&w);
        destroy(&w);
    }
}

/* ECN draws come from the per-switch generators: same seed, same marks; marks without DCQCN
 * change nothing else. */
static void test_ecn_deterministic(void **state)
{
    (void)state;
    uint64_t marks[3];
    ifb_time end[3];
    for (int k = 0; k < 3; k++) {
        ifb_fabric_cfg cfg;
        ifb_fabric_cfg_default(&cfg);
        cfg.queue[3].ecn = 1;
        world w;
        make_single(&w, k == 2 ? 7 : 1, 5, &cfg);
        ifb_mb_spec s = {.kind = IFB_MB_INCAST, .bytes = 2 << 20, .dst = 4, .nranks = 4};
        ifb_mb_result r;
        ifb_err e;
        assert_int_equal(ifb_mb_run(&w.sim, ifb_fabric_net(w.fab), &s, &r, &e), 0);
        marks[k] = ifb_fabric_counts(w.fab)->ecn_marks;
        end[k] = w.sim.now;
        assert_int_equal(ifb_fabric_counts(w.fab)->cnps_sent, 0);
        check_conservation(&w);
        destroy(&w);
    }
    assert_true(marks[0] > 0);
    assert_int_equal(marks[0], marks[1]);
    assert_true(marks[2] != marks[0]); /* another seed draws differently */
    assert_int_equal(end[0], end[2]);  /* and only the marks differ */
}

/* ECN marking at enqueue works the same way (marks, CNPs, no drops). */
static void test_ecn_at_enqueue(void **state)
{
    (void)state;
    ifb_fabric_cfg cfg;
    dcqcn_cfg(&cfg, IFB_DCQCN_NVIDIA_CX);
    cfg.ecn_at_enqueue = 1;
    world w;
    make_single(&w, 1, 5, &cfg);
    ifb_mb_spec s = {.kind = IFB_MB_INCAST, .bytes = 4 << 20, .dst = 4, .nranks = 4};
    ifb_mb_result r;
    ifb_err e;
    assert_int_equal(ifb_mb_run(&w.sim, ifb_fabric_net(w.fab), &s, &r, &e), 0);
    const ifb_fabric_counters *c = ifb_fabric_counts(w.fab);
    assert_true(c->ecn_marks > 0 && c->cnps_rcvd > 0 && c->dcqcn_decreases > 0);
    assert_int_equal(c->pkts_dropped, 0);
    check_conservation(&w);
    destroy(&w);
}

typedef struct later {
    ifb_net *net;
    ifb_fabric *f;
    uint32_t qpn;
    uint64_t rate_before, rate_after;
} later;

static void post_later(ifb_sim *sim, void *obj, uint64_t arg)
{
    (void)sim;
    (void)arg;
    later *l = obj;
    l->rate_before = ifb_fabric_qp_rate(l->f, 0, l->qpn);
    assert_true(ifb_net_send(l->net, 0, 4, 1 << 20, IFB_TC_A2A, NULL, NULL) > 0);
    l->rate_after = ifb_fabric_qp_rate(l->f, 0, l->qpn);
}

/* A rate-limited QP that goes idle stops its timers (the run ends with its flow, few daemon
 * events left); when it gets work 20 ms later the skipped timer increases are replayed. */
static void test_idle_timers_stop(void **state)
{
    (void)state;
    ifb_fabric_cfg cfg;
    dcqcn_cfg(&cfg, IFB_DCQCN_HPCC_NS3);
    cfg.rate_sample_interval = 0;
    world w;
    make_single(&w, 1, 5, &cfg);
    ifb_mb_spec s = {.kind = IFB_MB_INCAST, .bytes = 4 << 20, .dst = 4, .nranks = 4};
    ifb_mb_result r;
    ifb_err e;
    assert_int_equal(ifb_mb_run(&w.sim, ifb_fabric_net(w.fab), &s, &r, &e), 0);
    assert_true(w.sim.now - ifb_fabric_last_done(w.fab) < 5 * IFB_US);
    assert_true(w.sim.pending <= 16); /* no per-QP timer chains left running */
    /* host 0's sender QP is the first QP it created */
    uint32_t qpn = 0x100;
    uint64_t line = ifb_fabric_port_rate(w.fab, host_port(&w.topo, 0));
    uint64_t limited = ifb_fabric_qp_rate(w.fab, 0, qpn);
    later l = {ifb_fabric_net(w.fab), w.fab, qpn, 0, 0};
    ifb_sim_at(&w.sim, w.sim.now + 20 * IFB_MS, post_later, &l, 0);
    uint64_t ev0 = w.sim.events;
    assert_int_equal(ifb_sim_run(&w.sim), IFB_STOP_EMPTY);
    assert_true(w.sim.events - ev0 < 2000); /* ~260 packets and their ACKs, no idle ticking */
    assert_true(limited < line);            /* the incast left host 0's QP rate-limited */
    {
        /* nothing ran while idle; the new message replays the ~66 skipped timer increases
         * (hpcc-ns3: one HAI of 800 Mb/s each at 400G after the first two) */
        assert_true(l.rate_before < line);
        assert_true(l.rate_after >= l.rate_before + 60ull * 800000000 / 2);
    }
    assert_true(w.sim.now - ifb_fabric_last_done(w.fab) < 5 * IFB_US);
    check_conservation(&w);
    destroy(&w);
}

/* The reaction point step by step on one QP (nvidia-cx): limiter set up by the first CNP
 * (RC = L (1 - alpha_init / 2), RT kept at line rate: no increase yet), a CNP inside the 4 us
 * monitor period only remembered, alpha advanced lazily one EWMA step per elapsed 1 us period,
 * a byte-counter event doing fast recovery, and a decrease after it keeping the target. The clock
 * is moved by hand; the run is not resumed afterwards. */
static void test_rp_state_machine(void **state)
{
    (void)state;
    ifb_fabric_cfg cfg;
    dcqcn_cfg(&cfg, IFB_DCQCN_NVIDIA_CX);
    cfg.rate_sample_interval = 0;
    cfg.dcqcn_p.inc_bytes = 32767; /* the byte counter on, to drive one increase */
    world w;
    make_single(&w, 1, 2, &cfg);
    assert_true(ifb_net_send(ifb_fabric_net(w.fab), 0, 1, 64, IFB_TC_A2A, NULL, NULL) > 0);
    assert_int_equal(ifb_sim_run(&w.sim), IFB_STOP_EMPTY);
    ifb_fabric *f = w.fab;
    ifb_qp *qp = f->nics[0].qps[0];
    const ifb_dcqcn_params *P = &f->cfg.dcqcn_p;
    const double L = 400e9, g = P->g;
    ifb_time t0 = w.sim.now;
    ifb_dcqcn_on_cnp(f, qp);
    assert_true(qp->limited);
    double a = P->alpha_init;
    double rc = floor(L * (1 - a / 2));
    assert_int_equal(qp->rc, (uint64_t)rc);
    assert_int_equal(qp->rt, (uint64_t)L);
    assert_int_equal(ifb_fabric_qp_rate(f, 0, qp->qpn), qp->rc);
    /* 1 us later: inside the monitor period, remembered only; alpha took one period's step */
    w.sim.now = t0 + 1 * IFB_US;
    ifb_dcqcn_on_cnp(f, qp);
    assert_int_equal(qp->rc, (uint64_t)rc);
    assert_true(qp->dec_pending);
    a = (1 - g) * a + g;
    assert_true(fabs(qp->alpha - a) < 1e-12);
    /* 5 us: decrease; alpha: one step with the remembered CNP, three without */
    w.sim.now = t0 + 5 * IFB_US;
    ifb_dcqcn_on_cnp(f, qp);
    a = ((1 - g) * a + g) * pow(1 - g, 3);
    assert_true(fabs(qp->alpha - a) / a < 1e-12);
    rc = floor((double)(uint64_t)rc * (1 - a / 2));
    assert_true(fabs((double)qp->rc - rc) <= 1);
    assert_int_equal(qp->rt, (uint64_t)L); /* no increase in between: target kept */
    assert_false(qp->dec_pending);
    /* a byte-counter event (32767 B sent): fast recovery halfway to the target */
    uint64_t before = qp->rc;
    ifb_dcqcn_on_send(f, qp, 32767);
    assert_int_equal(qp->bc_stage, 1);
    assert_int_equal(qp->rc, (qp->rt + before + 1) / 2);
    /* the next decrease keeps the target: only a timer increase lets it follow the rate */
    w.sim.now = t0 + 10 * IFB_US;
    uint64_t rc_now = qp->rc;
    ifb_dcqcn_on_cnp(f, qp);
    assert_int_equal(qp->rt, (uint64_t)L);
    assert_true(qp->rc < rc_now);
    assert_int_equal(ifb_fabric_counts(f)->dcqcn_decreases, 3);
    check_conservation(&w);
    destroy(&w);
}

/* The reference benchmark (b: 128 hosts, 16,256 flows of 64 KiB) with PFC and DCQCN on
 * completes, drops nothing and ends when its last flow does. */
static void test_refbench_a2a_cc(void **state)
{
    (void)state;
    ifb_err e = {{0}};
    world w;
    ifb_sim_init(&w.sim, 1);
    ifb_topo_init(&w.topo);
    ifb_server_spec s = {.gpus_per_server = 1,
                         .nics_per_server = 1,
                         .nic_bps = G400,
                         .host_delay = IFB_US,
                         .nvlink_bps = 3600000000000ull,
                         .nvlink_latency = IFB_US};
    assert_int_equal(ifb_topo_leaf_spine(&w.topo, 128, &s, 16, 8, 1, G400, IFB_US, 64, &e), 0);
    assert_int_equal(ifb_topo_route(&w.topo, &e), 0);
    ifb_fabric_cfg cfg;
    ifb_fabric_cfg_default(&cfg);
    cfg.switch_latency = 0;
    cfg.record_messages = 1;
    cfg.queue[3].lossless = 1;
    cfg.queue[3].ecn = 1;
    cfg.pfc = 1;
    cfg.dcqcn = 1;
    if (ifb_fabric_create(&w.fab, &w.sim, &w.topo, &cfg, &e))
        fail_msg("%s", e.msg);
    ifb_mb_spec m = {.kind = IFB_MB_ALLTOALL, .bytes = 64 * 1024, .seed = 1};
    ifb_mb_result r;
    assert_int_equal(ifb_mb_run(&w.sim, ifb_fabric_net(w.fab), &m, &r, &e), 0);
    const ifb_fabric_counters *c = ifb_fabric_counts(w.fab);
    assert_int_equal(c->msgs_done, 128 * 127);
    assert_int_equal(c->pkts_dropped, 0);
    assert_true(c->cnps_sent > 0);
    assert_true(w.sim.now - ifb_fabric_last_done(w.fab) < 10 * IFB_US);
    check_conservation(&w);
    destroy(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_converge_nvidia_cx), cmocka_unit_test(test_converge_paper),
        cmocka_unit_test(test_converge_hpcc),      cmocka_unit_test(test_rate_csv),
        cmocka_unit_test(test_cnp_paced),          cmocka_unit_test(test_ecn_deterministic),
        cmocka_unit_test(test_ecn_at_enqueue),     cmocka_unit_test(test_idle_timers_stop),
        cmocka_unit_test(test_rp_state_machine),   cmocka_unit_test(test_refbench_a2a_cc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
