/* Event loop on a 4-ary min-heap of events stored by value (see sim.h). */
#include "core/sim.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

ifb_stop ifb_sim_run(ifb_sim *sim)
{
    sim->stop = IFB_STOP_NONE;
    while (sim->stop == IFB_STOP_NONE) {
        if (sim->heap_n == sim->daemons && sim->work == 0) {
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
        sim->now = ev.t;
        sim->events++;
        ev.fn(sim, ev.obj, ev.arg);
    }
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
                                        "interrupted", "requested", "error"};
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}
