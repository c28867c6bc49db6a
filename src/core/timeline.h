/* A run's timeline for looking rather than reading: Chrome Trace Event JSON (the format
 * Perfetto's UI and chrome://tracing open), written as the run goes. Tracks are (pid, tid)
 * pairs the caller names; the writer knows nothing about GPUs or ports.
 * Slices are complete events ("X", start and duration, written when they end), counters are
 * "C" events, flows are an "s"/"f" pair binding the sender's and the receiver's slices.
 * The file is bounded: only events lying wholly inside the time window [from, to) are kept
 * (so a slice kept whole never loses its parent to clipping, and slices on one track keep
 * nesting), and at most max_events of them; what the bounds left out is counted and written in
 * the file's metadata and returned by ifb_tl_dropped. Timestamps are microseconds with
 * picosecond resolution (6 decimals). Left out: async ("b"/"e") events, instant events, and
 * the protobuf trace format. */
#ifndef IFB_TIMELINE_H
#define IFB_TIMELINE_H
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"
#include "core/time.h"

typedef struct ifb_timeline ifb_timeline;

typedef struct ifb_tl_cfg {
    ifb_time from, to;   /* window of simulated time; to = 0: no end */
    uint64_t max_events; /* 0: no cap */
} ifb_tl_cfg;

/* Default cap: an event takes 80 to 140 bytes, so a default file stays under 30 MB. */
#define IFB_TL_DEFAULT_MAX_EVENTS 200000u

/* Opens path for writing (truncates). NULL with e filled when it cannot. */
ifb_timeline *ifb_tl_open(const char *path, const ifb_tl_cfg *cfg, ifb_err *e);
/* Names a process (a group of tracks) and a thread (one track); sort orders the processes
 * in the viewer. Metadata is never dropped by the bounds. */
void ifb_tl_name_process(ifb_timeline *t, int pid, const char *name, int sort);
void ifb_tl_name_thread(ifb_timeline *t, int pid, int tid, const char *name);
/* Whether an event lying in [start, end] would be kept: lets callers skip work. */
int ifb_tl_wants(const ifb_timeline *t, ifb_time start, ifb_time end);
/* A slice [start, end) named name (category cat) on track (pid, tid); an optional integer
 * argument (arg_name NULL: none). */
void ifb_tl_slice(ifb_timeline *t, int pid, int tid, const char *name, const char *cat,
                  ifb_time start, ifb_time end, const char *arg_name, uint64_t arg);
/* A counter series `name` on process pid: value at time at. */
void ifb_tl_counter(ifb_timeline *t, int pid, const char *name, ifb_time at, double value);
/* A flow arrow from track (spid, stid) at time from to track (dpid, dtid) at time to, bound to
 * the slices enclosing those points. Kept only when both ends are. */
void ifb_tl_flow(ifb_timeline *t, const char *name, const char *cat, int spid, int stid,
                 ifb_time from, int dpid, int dtid, ifb_time to);
ifb_time ifb_tl_from(const ifb_timeline *t);    /* the window's start */
uint64_t ifb_tl_events(const ifb_timeline *t);  /* events written (metadata left out) */
uint64_t ifb_tl_dropped(const ifb_timeline *t); /* events the bounds left out */
/* Writes the metadata and the closing bracket and closes the file (also when t saw a write
 * error). Returns 0, or -1 with e naming the file when any write failed. t is freed. */
int ifb_tl_close(ifb_timeline *t, ifb_err *e);

#endif
