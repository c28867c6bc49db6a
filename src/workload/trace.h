/* Request traces: arrival time, input (prompt) length and output length per request, read from
 * the two public schemas in ../shared/data/traces:
 *   Azure LLM inference CSV   TIMESTAMP,ContextTokens,GeneratedTokens
 *                             (TIMESTAMP "YYYY-MM-DD HH:MM:SS[.fraction]", UTC)
 *   Mooncake JSON Lines       {"timestamp": ms, "input_length": n, "output_length": n, ...}
 * Arrival times are made relative to the first row (so a trace starts at 0) and must not go
 * backwards. Lengths must be whole numbers, input >= 1 and output >= 1 (a request that
 * generates nothing has no first token: it is rejected rather than silently skipped).
 * A UTF-8 byte order mark before the first line is skipped. A Mooncake row is a JSON object
 * whose keys must each appear once (a duplicate "input_length" would make the row ambiguous).
 * Bounds: a line of at most IFB_TRACE_MAX_LINE bytes, at most IFB_TRACE_MAX_ROWS rows, no NUL
 * byte; beyond them the load fails naming the file and line, so a binary or endless file
 * (/dev/zero) is refused after reading one line's worth.
 * Mooncake rows may carry "hash_ids", the ids of the prompt's 512-token blocks (equal ids: equal
 * prefixes), kept for the prefix cache: an array of whole numbers below 2^53, at most one per
 * started block of the input (more would name blocks the prompt does not have).
 * Leaves out: any other column. */
#ifndef IFB_WORKLOAD_TRACE_H
#define IFB_WORKLOAD_TRACE_H
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/time.h"

#define IFB_TRACE_MAX_LINE 65536     /* bytes per line (Mooncake rows: 2.7 KB at most) */
#define IFB_TRACE_MAX_ROWS 10000000u /* requests (240 MB of rows; the shipped traces: 19,366) */

typedef enum ifb_trace_format {
    IFB_TRACE_AUTO = 0, /* by content: a first line starting with '{' is Mooncake, else Azure */
    IFB_TRACE_AZURE,
    IFB_TRACE_MOONCAKE
} ifb_trace_format;

typedef struct ifb_trace_row {
    ifb_time arrival; /* relative to the first row */
    int64_t input, output;
    uint32_t hash_off, nhash; /* its block ids: hashes[hash_off .. hash_off + nhash) */
} ifb_trace_row;

typedef struct ifb_trace {
    char name[256];
    ifb_trace_format format;
    ifb_trace_row *rows;
    size_t n;
    uint64_t *hashes; /* block ids of every row, one after another */
    size_t nhashes;
} ifb_trace;

/* Reads at most max_rows rows (0 = all), streaming: the file is read no further than the line
 * holding the last row wanted. Errors name the file and the row ("FILE:ROW: column: expected
 * ..., found '...'"), where ROW is the 1-based line number in the file and the token found is
 * echoed as it appears there (cut at 80 characters). */
int ifb_trace_load(ifb_trace *t, const char *path, ifb_trace_format fmt, size_t max_rows,
                   ifb_err *e);
/* Same from text; name stands for the file name in messages. */
int ifb_trace_load_string(ifb_trace *t, const char *text, const char *name, ifb_trace_format fmt,
                          size_t max_rows, ifb_err *e);
void ifb_trace_free(ifb_trace *t);
const char *ifb_trace_format_name(ifb_trace_format f); /* "auto", "azure", "mooncake" */

#endif
