/* Event loop on a radix heap of events stored by value (see sim.h and settle()). */
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
}

void ifb_sim_destroy(ifb_sim *sim)
{
    for (int i = 0; i < IFB_EV_BUCKETS; i++) {
        free(sim->bucket[i].ev);
        sim->bucket[i] = (ifb_ev_bucket){0};
    }
    ifb_pool_destroy(&sim->pkt_pool);
}

/* The bucket of time t: 0 holds events at `last` itself; otherwise the bucket is named by the
 * highest 4-bit digit in which t differs from `last` (its position) and t's value of that
 * digit, in that order. Every pending time is >= last, so bucket order is time order between
 * buckets. Digits of 4 bits rather than single bits: an event is moved about log16 rather than
 * log2 of the number pending before it is due (a DES queue holds thousands of near-future events).
 */
static inline int bucket_of(ifb_time t, ifb_time last)
{
    if (t == last)
        return 0;
    int pos = (63 - __builtin_clzll(t ^ last)) / IFB_EV_DIGIT;
    return 1 + pos * (1 << IFB_EV_DIGIT) +
           (int)(t >> (pos * IFB_EV_DIGIT) & ((1 << IFB_EV_DIGIT) - 1));
}

static void append(ifb_sim *sim, int k, const ifb_event *ev)
{
    ifb_ev_bucket *b = &sim->bucket[k];
    if (b->n == b->cap)
        b->ev = ifb_xgrow(b->ev, &b->cap, b->n, sizeof *b->ev, 64, "the event queue");
    b->ev[b->n++] = *ev;
    sim->nonempty[k >> 6] |= 1ull << (k & 63);
}

static void push(ifb_sim *sim, ifb_time t, ifb_event_fn fn, void *obj, uint64_t arg,
                 uint64_t daemon)
{
    if (t < sim->now) {
        /* A model bug (or a time sum that wrapped around): the event cannot run when asked.
         * Stop the run naming it rather than quietly running it late; it is kept at `now` so
         * that the queue stays ordered until the loop stops after the current event. */
        ifb_sim_request_stop(sim, IFB_STOP_ERROR,
                             "invariant event-time violated: an event scheduled at %llu ps, "
                             "before the current time %llu ps (a model bug or a time sum "
                             "that overflowed)",
                             (unsigned long long)t, (unsigned long long)sim->now);
        t = sim->now;
    }
    if (t < sim->last)
        t = sim->last; /* only if a driver moved the clock back between runs */
    ifb_event ev = {t, (sim->seq++ << 1) | daemon, fn, obj, arg};
    sim->daemons += daemon;
    append(sim, bucket_of(t, sim->last), &ev);
    if (++sim->pending > sim->pending_peak)
        sim->pending_peak = sim->pending;
}

void ifb_sim_at(ifb_sim *sim, ifb_time t, ifb_event_fn fn, void *obj, uint64_t arg)
{
    push(sim, t, fn, obj, arg, 0);
}

void ifb_sim_at_daemon(ifb_sim *sim, ifb_time t, ifb_event_fn fn, void *obj, uint64_t arg)
{
    push(sim, t, fn, obj, arg, 1);
}

/* Makes the earliest pending events the contents of bucket 0 unless they lie beyond `until`;
 * returns 0 when bucket 0 then holds the next event, -1 when nothing is due by `until`.
 * A radix heap (Ahuja, Mehlhorn, Orlin and Tarjan): event times never precede the last one
 * taken, so the first non-empty bucket holds the minimum; its events are spread into earlier
 * buckets relative to that minimum, each event moving at most once per digit. Events of equal
 * time stay in scheduling order: a bucket is only refilled once empty and every later event
 * is appended behind, so every bucket holds equal times in sequence order. Insertion is O(1)
 * and branch-light, which is what a DES queue of short, near-future events wants. */
static int settle(ifb_sim *sim, ifb_time until)
{
    ifb_ev_bucket *b0 = &sim->bucket[0];
    if (sim->head0 < b0->n)
        return sim->last <= until ? 0 : -1;
    int k = -1;
    for (int w = 0; w < IFB_EV_WORDS; w++)
        if (sim->nonempty[w]) {
            k = w * 64 + __builtin_ctzll(sim->nonempty[w]);
            break;
        }
    if (k < 0)
        return -1;
    ifb_ev_bucket *b = &sim->bucket[k];
    ifb_time m = b->ev[0].t;
    for (uint32_t i = 1; i < b->n; i++)
        if (b->ev[i].t < m)
            m = b->ev[i].t;
    if (m > until)
        return -1;
    sim->last = m;
    sim->nonempty[k >> 6] &= ~(1ull << (k & 63));
    for (uint32_t i = 0; i < b->n; i++)
        append(sim, bucket_of(b->ev[i].t, m), &b->ev[i]);
    b->n = 0;
    return 0;
}

static void take(ifb_sim *sim, ifb_event *out)
{
    ifb_ev_bucket *b0 = &sim->bucket[0];
    *out = b0->ev[sim->head0++];
    if (sim->head0 == b0->n) {
        sim->head0 = b0->n = 0;
        sim->nonempty[0] &= ~1ull;
    } else /* the next event's component, fetched while this one runs */
        __builtin_prefetch(b0->ev[sim->head0].obj);
    sim->daemons -= out->seq & 1;
    sim->pending--;
}

void ifb_sim_each_pending(const ifb_sim *sim, void (*fn)(const ifb_event *ev, void *ctx), void *ctx)
{
    for (int k = 0; k < IFB_EV_BUCKETS; k++)
        for (uint32_t i = k ? 0 : sim->head0; i < sim->bucket[k].n; i++)
            fn(&sim->bucket[k].ev[i], ctx);
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
                             "watchdog: nothing delivered for %.3f us of simulated time (up to "
                             "t=%.6f s) while %llu messages are outstanding (deadlock, routing "
                             "loop or black hole?) %s",
                             ifb_time_to_us(sim->watchdog), ifb_time_to_s(sim->now),
                             (unsigned long long)sim->work, diag);
        return;
    }
    ifb_sim_at_daemon(sim, ifb_time_add_sat(sim->now, sim->watchdog), watchdog_tick, NULL,
                      sim->progress);
}

void ifb_sim_start_watchdog(ifb_sim *sim)
{
    if (sim->watchdog)
        ifb_sim_at_daemon(sim, ifb_time_add_sat(sim->now, sim->watchdog), watchdog_tick, NULL,
                          sim->progress);
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
        if (sim->pending == 0 || (sim->pending == sim->daemons && sim->work == 0)) {
            sim->stop = IFB_STOP_EMPTY;
            break;
        }
        if (settle(sim, sim->until)) {
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
        take(sim, &ev);
        if (ev.t < sim->now) { /* cannot happen by construction; --check proves it */
            ifb_sim_request_stop(sim, IFB_STOP_ERROR,
                                 "invariant event-time violated: event at %llu ps after %llu ps",
                                 (unsigned long long)ev.t, (unsigned long long)sim->now);
            break;
        }
        sim->now = ev.t;
        sim->events++;
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
