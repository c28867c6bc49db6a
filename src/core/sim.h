/* The simulation context and its event loop (a flat loop dispatching through callbacks, as
 * ROSS does). Events are ordered by (time, insertion sequence), so equal-time events run in the
 * order they were scheduled and every run is deterministic. Components follow htsim's design:
 * each busy component (egress port, link, NIC) keeps its own FIFO and holds at most one pending
 * event here, so the queue stays small however many packets are in flight.
 * All mutable state of a run lives in one ifb_sim: several simulations can share a process. */
#ifndef IFB_SIM_H
#define IFB_SIM_H
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "core/pool.h"
#include "core/time.h"

typedef struct ifb_sim ifb_sim;
typedef void (*ifb_event_fn)(ifb_sim *sim, void *obj, uint64_t arg);

typedef struct ifb_event {
    ifb_time t;
    uint64_t seq; /* insertion sequence << 1 | daemon (does not keep the run alive) */
    ifb_event_fn fn;
    void *obj;
    uint64_t arg;
} ifb_event;

typedef struct ifb_ev_bucket {
    ifb_event *ev;
    uint32_t n; /* a bucket never holds more than the pending events (well below 2^32) */
    size_t cap;
} ifb_ev_bucket;
#define IFB_EV_DIGIT 4 /* bits per radix-heap digit (sim.c) */
#define IFB_EV_BUCKETS (1 + (64 / IFB_EV_DIGIT << IFB_EV_DIGIT))
#define IFB_EV_WORDS ((IFB_EV_BUCKETS + 63) / 64)

typedef enum ifb_stop {
    IFB_STOP_NONE = 0,
    IFB_STOP_EMPTY,     /* no event left: the run ended by itself */
    IFB_STOP_TIME,      /* reached the time limit */
    IFB_STOP_EVENTS,    /* reached --max-events */
    IFB_STOP_INTERRUPT, /* SIGINT/SIGTERM */
    IFB_STOP_REQUESTED, /* a component asked to stop (e.g. all work done) */
    IFB_STOP_ERROR,     /* an invariant or watchdog fired; see sim->error */
    IFB_STOP_WALL,      /* reached --max-wall */
} ifb_stop;

/* A run-time invariant checker (--check): returns 0, or -1 after writing what is wrong into
 * msg. Checkers are called every `check_every` events and once when the run ends. */
typedef int (*ifb_check_fn)(ifb_sim *sim, void *ctx, char *msg, size_t cap);
/* Watchdog diagnosis: writes what is stuck where (paused ports, pending messages). */
typedef void (*ifb_diag_fn)(ifb_sim *sim, void *ctx, char *msg, size_t cap);
#define IFB_MAX_CHECKERS 16

struct ifb_sim {
    ifb_time now;
    uint64_t seq;
    uint64_t events; /* events processed */
    /* pending events: a radix heap keyed on time (sim.c) */
    ifb_ev_bucket bucket[IFB_EV_BUCKETS];
    uint64_t nonempty[IFB_EV_WORDS]; /* bit k set when bucket k holds events */
    uint32_t head0;                  /* next event of bucket 0 (all at time `last`) */
    ifb_time last;                   /* time of the last event taken: no pending event is earlier */
    size_t pending;                  /* events scheduled and not yet run */
    size_t pending_peak;
    size_t daemons; /* daemon events pending */
    uint64_t work;  /* outstanding work items (e.g. messages in flight) */
    uint64_t seed;
    ifb_time until;      /* stop before processing an event later than this */
    uint64_t max_events; /* 0 = no limit */
    ifb_stop stop;
    const volatile sig_atomic_t *interrupt; /* optional: non-zero stops the loop */
    int check;                              /* run-time invariant checks on (--check) */
    uint64_t check_every;                   /* events between checks (default 4096) */
    ifb_check_fn checkers[IFB_MAX_CHECKERS];
    void *checker_ctx[IFB_MAX_CHECKERS];
    const char *checker_name[IFB_MAX_CHECKERS];
    int ncheckers;
    double max_wall; /* seconds of wall time, 0 = no limit */
    /* Watchdog: `progress` is bumped by components whenever something is delivered. If work is
     * outstanding and progress has not moved for `watchdog` of simulated time, or simulated time
     * has not moved for `stall_events` events, the run stops with a diagnosis. */
    uint64_t progress;
    ifb_time watchdog;     /* 0 = off */
    uint64_t stall_events; /* 0 = off */
    ifb_diag_fn diag;
    void *diag_ctx;
    char error[1024];

    ifb_pool pkt_pool; /* all packets of this simulation */
    uint64_t pkt_hops; /* packet transmissions over any link (speed metric) */

    void *fabric; /* the fabric of this run (net/fabric/fabric.h) */
    void *user;   /* free for the driver (workload, bench) */
};

void ifb_sim_init(ifb_sim *sim, uint64_t seed);
void ifb_sim_destroy(ifb_sim *sim);
/* Schedules fn(sim, obj, arg) at absolute time t. t before now is a model bug: the run stops
 * with IFB_STOP_ERROR naming t and now (the event is kept at now until the loop stops). */
void ifb_sim_at(ifb_sim *sim, ifb_time t, ifb_event_fn fn, void *obj, uint64_t arg);
static inline void ifb_sim_after(ifb_sim *sim, ifb_time dt, ifb_event_fn fn, void *obj,
                                 uint64_t arg)
{
    ifb_sim_at(sim, ifb_time_add_sat(sim->now, dt), fn, obj, arg);
}
/* A daemon event: a timer or sampler that must not keep the run alive by itself. The run ends
 * when only daemon events remain and no work is outstanding (ifb_sim_work_begin/end), so a
 * retransmission timer still fires while a message is in flight, but no timer keeps the clock
 * running after the last one completes. */
void ifb_sim_at_daemon(ifb_sim *sim, ifb_time t, ifb_event_fn fn, void *obj, uint64_t arg);
static inline void ifb_sim_work_begin(ifb_sim *sim)
{
    sim->work++;
}
static inline void ifb_sim_work_end(ifb_sim *sim)
{
    sim->work--;
    sim->progress++;
}
/* Runs until the queue empties (daemons aside), time passes sim->until, or a stop condition.
 * Returns why. */
ifb_stop ifb_sim_run(ifb_sim *sim);
/* Stops the loop after the current event. */
void ifb_sim_request_stop(ifb_sim *sim, ifb_stop why, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
const char *ifb_stop_name(ifb_stop s);
/* Registers an invariant checker; returns -1 (registering nothing) when IFB_MAX_CHECKERS are
 * registered already: callers must check, an invariant silently not checked proves nothing. */
int ifb_sim_add_checker(ifb_sim *sim, const char *name, ifb_check_fn fn, void *ctx)
    __attribute__((warn_unused_result));
/* Runs every checker now; on a violation stops the run with IFB_STOP_ERROR and returns -1. */
int ifb_sim_check_now(ifb_sim *sim);
/* Calls fn on every pending event, in no particular order (diagnosis and invariants). */
void ifb_sim_each_pending(const ifb_sim *sim, void (*fn)(const ifb_event *ev, void *ctx),
                          void *ctx);
/* Arms the progress watchdog (call after setting sim->watchdog, before running). */
void ifb_sim_start_watchdog(ifb_sim *sim);

#endif
