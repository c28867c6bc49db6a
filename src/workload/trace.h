/* Request traces: arrival time, input (prompt) length and output length per request, read from
 * the two public schemas in ../shared/data/traces:
 *   Azure LLM inference CSV   TIMESTAMP,ContextTokens,GeneratedTokens
 *                             (TIMESTAMP "YYYY-MM-DD HH:MM:SS[.fraction]", UTC)
 *   Mooncake JSON Lines       {"timestamp": ms, "input_length": n, "output_length": n, ...}
 * Arrival times are made relative to the first row (so a trace starts at 0) and must not go
 * backwards. Lengths must be whole numbers, input >= 1 and output >= 1 (a request that
 * generates nothing has no first token: it is rejected rather than silently skipped).
 * Leaves out: Mooncake's hash_ids (prefix-cache reuse is not modelled) and any other column. */
#ifndef IFB_WORKLOAD_TRACE_H
#define IFB_WORKLOAD_TRACE_H
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/time.h"

typedef enum ifb_trace_format {
    IFB_TRACE_AUTO = 0, /* by content: a first line starting with '{' is Mooncake, else Azure */
    IFB_TRACE_AZURE,
    IFB_TRACE_MOONCAKE
} ifb_trace_format;

typedef struct ifb_trace_row {
    ifb_time arrival; /* relative to the first row */
    int64_t input, output;
} ifb_trace_row;

typedef struct ifb_trace {
    char name[256];
    ifb_trace_format format;
    ifb_trace_row *rows;
    size_t n;
} ifb_trace;

/* Reads at most max_rows rows (0 = all). Errors name the file and the row ("FILE:ROW: column:
 * expected ..., found ..."), where ROW is the 1-based line number in the file. */
int ifb_trace_load(ifb_trace *t, const char *path, ifb_trace_format fmt, size_t max_rows,
                   ifb_err *e);
/* Same from text; name stands for the file name in messages. */
int ifb_trace_load_string(ifb_trace *t, const char *text, const char *name, ifb_trace_format fmt,
                          size_t max_rows, ifb_err *e);
void ifb_trace_free(ifb_trace *t);
const char *ifb_trace_format_name(ifb_trace_format f); /* "auto", "azure", "mooncake" */

#endif
