/* The progress line of `infabric run` (see progress.h). */
#include "cli/progress.h"

#include <inttypes.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

double ifb_progress_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* "45 s", "3 min 05 s", "2 h 10 min": durations a reader takes in at a glance. */
static void dur(char *buf, size_t cap, double s)
{
    if (!(s >= 0))
        snprintf(buf, cap, "?");
    else if (s < 100)
        snprintf(buf, cap, "%.0f s", s);
    else if (s < 6000)
        snprintf(buf, cap, "%d min %02d s", (int)(s / 60), (int)s % 60);
    else
        snprintf(buf, cap, "%d h %02d min", (int)(s / 3600), (int)(s / 60) % 60);
}

/* Estimated wall seconds left for running job i: its elapsed time scaled by the requests it
 * still has to finish; negative when unknown. */
static double run_eta(const ifb_progress *p, int i, double now)
{
    uint64_t fin = atomic_load_explicit(&p->slot[i].finished, memory_order_relaxed);
    uint64_t tgt = atomic_load_explicit(&p->slot[i].target, memory_order_relaxed);
    double el = now - p->start[i];
    if (!fin || !tgt)
        return -1;
    if (fin >= tgt)
        return 0;
    return el * (double)(tgt - fin) / (double)fin;
}

void ifb_progress_show(ifb_progress *p, int force)
{
    double now = ifb_progress_now();
    if (!p->tty && !force && now - p->last_line < p->every)
        return;
    p->last_line = now;
    int done = 0, running = 0, waiting = 0;
    double done_wall = 0;
    for (int i = 0; i < p->njobs; i++) {
        if (p->end[i] > 0) {
            done++;
            done_wall += p->end[i] - p->start[i];
        } else if (p->start[i] > 0) {
            running++;
        } else {
            waiting++;
        }
    }
    /* what is left: running runs by their own estimate (or, before their first request
     * finishes, what the mean run still needs), waiting runs at the mean; unknown when
     * neither says */
    double mean = done ? done_wall / done : -1, left = 0;
    int unknown = 0;
    for (int i = 0; i < p->njobs; i++) {
        if (!(p->start[i] > 0) || p->end[i] > 0)
            continue;
        double eta = run_eta(p, i, now), el = now - p->start[i];
        if (eta >= 0)
            left += eta;
        else if (mean > el)
            left += mean - el;
        else
            unknown = 1;
        if (mean < 0 && eta >= 0)
            mean = el + eta; /* no run done yet: the running ones' estimates */
    }
    if (waiting && mean < 0)
        unknown = 1;
    left += waiting * (mean > 0 ? mean : 0);
    char all[32];
    if (unknown) {
        snprintf(all, sizeof all, "?");
    } else {
        int par = p->parallel < running + waiting ? p->parallel : running + waiting;
        dur(all, sizeof all, par > 0 ? left / par : 0);
    }
    /* the command first (so a narrow terminal still shows it), then each running run */
    char buf[2048];
    size_t n = 0;
    int width = 20, fill = p->njobs ? done * width / p->njobs : width;
    if (p->tty)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "\r[%.*s%*s] %d/%d runs, ETA %s", fill,
                              "####################", width - fill, "", done, p->njobs, all);
    else
        n += (size_t)snprintf(buf + n, sizeof buf - n,
                              "infabric run: %.0f s: %d/%d runs done, all runs ETA %s", now - p->t0,
                              done, p->njobs, all);
    for (int i = 0; i < p->njobs && n < sizeof buf - 300; i++) {
        if (!(p->start[i] > 0) || p->end[i] > 0)
            continue;
        const ifb_run_progress *s = &p->slot[i];
        uint64_t ev = atomic_load_explicit(&s->events, memory_order_relaxed);
        uint64_t ps = atomic_load_explicit(&s->sim_ps, memory_order_relaxed);
        uint64_t fin = atomic_load_explicit(&s->finished, memory_order_relaxed);
        uint64_t tgt = atomic_load_explicit(&s->target, memory_order_relaxed);
        double el = now - p->start[i];
        char eta[32], reqs[48], rate[32];
        dur(eta, sizeof eta, run_eta(p, i, now));
        /* nothing published yet (the run is setting up, or its monitor has not ticked): the
         * rate is unknown, not zero */
        double evs = el > 0 ? (double)ev / el : 0.0;
        if (ev == 0 || !(evs > 0))
            snprintf(rate, sizeof rate, "?");
        else if (evs < 1e5)
            snprintf(rate, sizeof rate, "%.0fk", evs < 1e3 ? 1.0 : evs * 1e-3);
        else
            snprintf(rate, sizeof rate, "%.1fM", evs * 1e-6);
        if (tgt)
            snprintf(reqs, sizeof reqs, "%" PRIu64 "/%" PRIu64 " req", fin, tgt);
        else
            snprintf(reqs, sizeof reqs, "%" PRIu64 " req", fin);
        n += (size_t)snprintf(buf + n, sizeof buf - n,
                              "%s %.200s: %s, %.3f s sim, %s ev/s, ETA %s", p->tty ? " |" : ";",
                              p->labels[i], reqs, (double)ps * 1e-12, rate, eta);
    }
    if (n >= sizeof buf)
        n = sizeof buf - 1;
    if (p->tty) {
        /* one screen line: cut at the terminal's width (the text is ASCII) */
        struct winsize ws;
        size_t cols = ioctl(fileno(p->out), TIOCGWINSZ, &ws) == 0 && ws.ws_col ? ws.ws_col : 100;
        if (n > cols) /* "\r" takes no column */
            n = cols;
        fwrite(buf, 1, n, p->out);
        fputs("\033[K", p->out);
        p->drawn = 1;
    } else {
        fprintf(p->out, "%.*s\n", (int)n, buf);
    }
    fflush(p->out);
}

void ifb_progress_clear(ifb_progress *p)
{
    if (p->tty && p->drawn) {
        fputs("\r\033[K", p->out);
        fflush(p->out);
    }
    p->drawn = 0;
}
