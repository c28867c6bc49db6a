/* Chrome Trace Event JSON writer (timeline.h). Events are streamed through stdio as they are
 * reported, so memory stays constant however long the run; the object is closed by
 * ifb_tl_close, which an interrupted run also reaches. */
#include "core/timeline.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

struct ifb_timeline {
    FILE *f;
    char path[512];
    ifb_tl_cfg cfg;
    uint64_t events, dropped, flows;
    int first; /* no event written yet: no comma before the next */
    int werr;  /* a write failed (errno kept) */
    int werrno;
};

static void put_time(FILE *f, const char *key, ifb_time t)
{
    /* microseconds with 6 decimals: integer arithmetic keeps every picosecond exact */
    fprintf(f, ",\"%s\":%llu.%06llu", key, (unsigned long long)(t / 1000000),
            (unsigned long long)(t % 1000000));
}

static void put_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

/* Opens one event object: the comma, ph, pid, tid. */
static void begin(ifb_timeline *t, const char *ph, int pid, int tid)
{
    fprintf(t->f, "%s\n{\"ph\":\"%s\",\"pid\":%d,\"tid\":%d", t->first ? "" : ",", ph, pid, tid);
    t->first = 0;
}

static void close_event(ifb_timeline *t)
{
    if (fputs("}", t->f) == EOF && !t->werr) {
        t->werr = 1;
        t->werrno = errno;
    }
}

ifb_timeline *ifb_tl_open(const char *path, const ifb_tl_cfg *cfg, ifb_err *e)
{
    if (cfg->to && cfg->to <= cfg->from) {
        ifb_err_set(e, "--timeline-window", 0, "timeline window", "an end after the start",
                    "[%.3f ms, %.3f ms)", cfg->from / 1e9, cfg->to / 1e9);
        return NULL;
    }
    FILE *f = fopen(path, "w");
    if (!f) {
        ifb_err_msg(e, "%s: cannot write the timeline: %s", path, strerror(errno));
        return NULL;
    }
    ifb_timeline *t = ifb_xcalloc(1, sizeof *t, "the timeline writer");
    t->f = f;
    snprintf(t->path, sizeof t->path, "%s", path);
    t->cfg = *cfg;
    t->first = 1;
    fputs("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[", f);
    return t;
}

void ifb_tl_name_process(ifb_timeline *t, int pid, const char *name, int sort)
{
    begin(t, "M", pid, 0);
    fputs(",\"ts\":0,\"name\":\"process_name\",\"args\":{\"name\":", t->f);
    put_str(t->f, name);
    fputs("}", t->f);
    close_event(t);
    begin(t, "M", pid, 0);
    fprintf(t->f, ",\"ts\":0,\"name\":\"process_sort_index\",\"args\":{\"sort_index\":%d}", sort);
    close_event(t);
}

void ifb_tl_name_thread(ifb_timeline *t, int pid, int tid, const char *name)
{
    begin(t, "M", pid, tid);
    fputs(",\"ts\":0,\"name\":\"thread_name\",\"args\":{\"name\":", t->f);
    put_str(t->f, name);
    fputs("}", t->f);
    close_event(t);
}

static int in_window(const ifb_timeline *t, ifb_time start, ifb_time stop)
{
    return start >= t->cfg.from && (!t->cfg.to || stop < t->cfg.to);
}

int ifb_tl_wants(const ifb_timeline *t, ifb_time start, ifb_time stop)
{
    return t && in_window(t, start, stop) && (!t->cfg.max_events || t->events < t->cfg.max_events);
}

/* Counts the event as kept or dropped; n events are about to be written. */
static int keep(ifb_timeline *t, ifb_time start, ifb_time stop, uint64_t n)
{
    if (!in_window(t, start, stop) || (t->cfg.max_events && t->events + n > t->cfg.max_events)) {
        t->dropped += n;
        return 0;
    }
    t->events += n;
    return 1;
}

void ifb_tl_slice(ifb_timeline *t, int pid, int tid, const char *name, const char *cat,
                  ifb_time start, ifb_time stop, const char *arg_name, uint64_t arg)
{
    if (stop < start || !keep(t, start, stop, 1))
        return;
    begin(t, "X", pid, tid);
    fputs(",\"name\":", t->f);
    put_str(t->f, name);
    fputs(",\"cat\":", t->f);
    put_str(t->f, cat);
    put_time(t->f, "ts", start);
    put_time(t->f, "dur", stop - start);
    if (arg_name) {
        fputs(",\"args\":{", t->f);
        put_str(t->f, arg_name);
        fprintf(t->f, ":%llu}", (unsigned long long)arg);
    }
    close_event(t);
}

void ifb_tl_counter(ifb_timeline *t, int pid, const char *name, ifb_time at, double value)
{
    if (!keep(t, at, at, 1))
        return;
    begin(t, "C", pid, 0);
    fputs(",\"name\":", t->f);
    put_str(t->f, name);
    put_time(t->f, "ts", at);
    fputs(",\"args\":{\"value\":", t->f);
    fprintf(t->f, "%.17g}", value);
    close_event(t);
}

void ifb_tl_flow(ifb_timeline *t, const char *name, const char *cat, int spid, int stid,
                 ifb_time from, int dpid, int dtid, ifb_time to)
{
    if (to < from || !keep(t, from, to, 2))
        return;
    uint64_t id = ++t->flows;
    for (int k = 0; k < 2; k++) {
        begin(t, k ? "f" : "s", k ? dpid : spid, k ? dtid : stid);
        fputs(",\"name\":", t->f);
        put_str(t->f, name);
        fputs(",\"cat\":", t->f);
        put_str(t->f, cat);
        fprintf(t->f, ",\"id\":%llu", (unsigned long long)id);
        put_time(t->f, "ts", k ? to : from);
        if (k)
            fputs(",\"bp\":\"e\"", t->f);
        close_event(t);
    }
}

ifb_time ifb_tl_from(const ifb_timeline *t)
{
    return t->cfg.from;
}

uint64_t ifb_tl_events(const ifb_timeline *t)
{
    return t->events;
}

uint64_t ifb_tl_dropped(const ifb_timeline *t)
{
    return t->dropped;
}

int ifb_tl_close(ifb_timeline *t, ifb_err *e)
{
    FILE *f = t->f;
    fprintf(f,
            "\n],\"otherData\":{\"generator\":\"infabric\",\"events\":%llu,"
            "\"dropped_by_bounds\":%llu,\"window_from_us\":%.6f,\"window_to_us\":",
            (unsigned long long)t->events, (unsigned long long)t->dropped, t->cfg.from / 1e6);
    if (t->cfg.to)
        fprintf(f, "%.6f", t->cfg.to / 1e6);
    else
        fputs("null", f);
    fprintf(f, ",\"max_events\":%llu}}\n", (unsigned long long)t->cfg.max_events);
    int bad = t->werr || ferror(f);
    int werrno = t->werr ? t->werrno : errno;
    if (fclose(f) != 0 && !bad) {
        bad = 1;
        werrno = errno;
    }
    if (bad)
        ifb_err_msg(e, "%s: writing the timeline failed: %s", t->path, strerror(werrno));
    free(t);
    return bad ? -1 : 0;
}
