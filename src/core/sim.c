/* Event loop on a 4-ary min-heap of events stored by value (see sim.h). */
#include "core/sim.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void ifb_sim_init(ifb_sim *sim, uint64_t seed)
{
    memset(sim, 0, sizeof *sim);
    sim->seed = seed;
    sim->until = IFB_TIME_NEVER;
    sim->heap_cap = 1024;
    sim->heap = malloc(sim->heap_cap * sizeof *sim->heap);
    if (!sim->heap)
        abort();
}

void ifb_sim_destroy(ifb_sim *sim)
{
    free(sim->heap);
    ifb_pool_destroy(&sim->pkt_pool);
    sim->heap = NULL;
}

static inline int before(const ifb_event *a, const ifb_event *b)
{
    return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static void push(ifb_sim *sim, ifb_time t, ifb_event_fn fn, void *obj, uint64_t arg,
                 uint64_t daemon)
{
    if (t < sim->now)
        t = sim->now; /* never schedule into the past; callers computing with rounding stay safe */
    if (sim->heap_n == sim->heap_cap) {
        size_t cap = sim->heap_cap * 2;
        ifb_event *h = realloc(sim->heap, cap * sizeof *h);
        if (!h) {
            fputs("infabric: out of memory growing the event queue\n", stderr);
            abort();
        }
        sim->heap = h;
        sim->heap_cap = cap;
    }
    ifb_event ev = {t, (sim->seq++ << 1) | daemon, fn, obj, arg};
    sim->daemons += daemon;
    size_t i = sim->heap_n++;
    ifb_event *h = sim->heap;
    while (i > 0) {
        size_t parent = (i - 1) / 4;
        if (!before(&ev, &h[parent]))
            break;
        h[i] = h[parent];
        i = parent;
    }
    h[i] = ev;
    if (sim->heap_n > sim->heap_peak)
        sim->heap_peak = sim->heap_n;
}

void ifb_sim_at(ifb_sim *sim, ifb_time t, ifb_event_fn fn, void *obj, uint64_t arg)
{
    push(sim, t, fn, obj, arg, 0);
}

void ifb_sim_at_daemon(ifb_sim *sim, ifb_time t, ifb_event_fn fn, void *obj, uint64_t arg)
{
    push(sim, t, fn, obj, arg, 1);
}

/* Removes the minimum. Floyd's bottom-up variant: the hole left at the root walks down along the
 * smallest children to a leaf without comparing against the displaced last element, which
 * nearly always belongs near the bottom, and that element then sifts up from there. This saves
 * about a third of the comparisons of the textbook sift-down. */
static void pop(ifb_sim *sim, ifb_event *out)
{
    ifb_event *h = sim->heap;
    *out = h[0];
    sim->daemons -= out->seq & 1;
    size_t n = --sim->heap_n;
    if (!n)
        return;
    size_t i = 0;
    for (;;) {
        size_t c = 4 * i + 1;
        if (c >= n)
            break;
        size_t best = c;
        size_t end = c + 4 < n ? c + 4 : n;
        for (size_t k = c + 1; k < end; k++)
            if (before(&h[k], &h[best]))
                best = k;
        h[i] = h[best];
        i = best;
    }
    ifb_event last = h[n];
    while (i > 0) {
        size_t parent = (i - 1) / 4;
        if (!before(&last, &h[parent]))
            break;
        h[i] = h[parent];
        i = parent;
    }
    h[i] = last;
}

int ifb_sim_add_checker(ifb_sim *sim, const char *name, ifb_check_fn fn, void *ctx)
{
    if (sim->ncheckers == IFB_MAX_CHECKERS)
        return -1;
    sim->checker_name[sim->ncheckers] = name;
    sim->checker_ctx[sim->ncheckers] = ctx;
    sim->checkers[sim->ncheckers++] = fn;
    return 0;
}

int ifb_sim_check_now(ifb_sim *sim)
{
    for (int i = 0; i < sim->ncheckers; i++) {
        char msg[700];
        msg[0] = '\0';
        if (sim->checkers[i](sim, sim->checker_ctx[i], msg, sizeof msg)) {
            sim->stop = IFB_STOP_ERROR;
            snprintf(sim->error, sizeof sim->error, "invariant %s violated at t=%.6f us: %s",
                     sim->checker_name[i], ifb_time_to_us(sim->now), msg);
            return -1;
        }
    }
    return 0;
}

static void watchdog_tick(ifb_sim *sim, void *obj, uint64_t last_progress)
{
    (void)obj;
    if (sim->work && sim->progress == last_progress) {
        char diag[700] = "";
        if (sim->diag)
            sim->diag(sim, sim->diag_ctx, diag, sizeof diag);
        ifb_sim_request_stop(sim, IFB_STOP_ERROR,
                             "watchdog: nothing delivered for %.3f us of simulated time while "
                             "%llu messages are outstanding (deadlock, routing loop or black "
                             "hole?) %s",
                             ifb_time_to_us(sim->watchdog), (unsigned long long)sim->work, diag);
        return;
    }
    ifb_sim_at_daemon(sim, sim->now + sim->watchdog, watchdog_tick, NULL, sim->progress);
}

void ifb_sim_start_watchdog(ifb_sim *sim)
{
    if (sim->watchdog)
        ifb_sim_at_daemon(sim, sim->now + sim->watchdog, watchdog_tick, NULL, sim->progress);
}

static double wall_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

ifb_stop ifb_sim_run(ifb_sim *sim)
{
    sim->stop = IFB_STOP_NONE;
    double wall0 = sim->max_wall > 0 ? wall_seconds() : 0;
    uint64_t check_every = sim->check_every ? sim->check_every : 4096;
    ifb_time last_t = sim->now;
    uint64_t same_t = 0;
    while (sim->stop == IFB_STOP_NONE) {
        /* nothing scheduled at all ends the run even with work outstanding: nothing could ever
         * finish it, and the end-of-run checks (message-completion) name what was left */
        if (sim->heap_n == 0 || (sim->heap_n == sim->daemons && sim->work == 0)) {
            sim->stop = IFB_STOP_EMPTY;
            break;
        }
        if (sim->heap[0].t > sim->until) {
            if (sim->until > sim->now)
                sim->now = sim->until;
            sim->stop = IFB_STOP_TIME;
            break;
        }
        if (sim->max_events && sim->events >= sim->max_events) {
            sim->stop = IFB_STOP_EVENTS;
            break;
        }
        if (sim->interrupt && *sim->interrupt) {
            sim->stop = IFB_STOP_INTERRUPT;
            break;
        }
        ifb_event ev;
        pop(sim, &ev);
        if (ev.t < sim->now) { /* cannot happen by construction; --check proves it */
            ifb_sim_request_stop(sim, IFB_STOP_ERROR,
                                 "invariant event-time violated: event at %llu ps after %llu ps",
                                 (unsigned long long)ev.t, (unsigned long long)sim->now);
            break;
        }
        sim->now = ev.t;
        sim->events++;
        if (sim->heap_n) /* the next event's component, fetched while this one runs */
            __builtin_prefetch(sim->heap[0].obj);
        ev.fn(sim, ev.obj, ev.arg);
        if ((sim->events & 0xffff) == 0 && sim->max_wall > 0 &&
            wall_seconds() - wall0 > sim->max_wall) {
            ifb_sim_request_stop(sim, IFB_STOP_WALL, "stopped after %.1f s of wall time",
                                 sim->max_wall);
        }
        if (sim->stall_events) {
            if (sim->now != last_t) {
                last_t = sim->now;
                same_t = 0;
            } else if (++same_t > sim->stall_events) {
                ifb_sim_request_stop(sim, IFB_STOP_ERROR,
                                     "watchdog: %llu events without simulated time advancing "
                                     "at t=%.6f us (a zero-delay event loop)",
                                     (unsigned long long)same_t, ifb_time_to_us(sim->now));
            }
        }
        if (sim->check && sim->ncheckers && sim->events % check_every == 0)
            ifb_sim_check_now(sim);
    }
    if (sim->check && sim->ncheckers && sim->stop != IFB_STOP_ERROR)
        ifb_sim_check_now(sim);
    return sim->stop;
}

void ifb_sim_request_stop(ifb_sim *sim, ifb_stop why, const char *fmt, ...)
{
    if (sim->stop != IFB_STOP_NONE && sim->stop != IFB_STOP_REQUESTED)
        return;
    sim->stop = why;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(sim->error, sizeof sim->error, fmt, ap);
        va_end(ap);
    }
}

const char *ifb_stop_name(ifb_stop s)
{
    static const char *const names[] = {"none",        "done",      "time-limit", "event-limit",
                                        "interrupted", "requested", "error",      "wall-limit"};
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}
