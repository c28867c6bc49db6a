/* Fuzz target: request traces (workload/trace.h), Azure LLM inference CSV and Mooncake JSON
 * Lines.
 *
 * Input: one control byte, then the trace text. Control byte & 3 is the format asked for
 * (auto, azure, mooncake, and 3 = auto again); control byte >> 2 is max_rows (0 = all).
 * Invariants (a violation traps): a failure fills its ifb_err; an accepted trace has a concrete
 * format, at most max_rows rows, starts at time 0, never goes back in time, and has input and
 * output lengths of at least 1, as trace.h promises. */
#include "fuzz.h"
#include "workload/trace.h"

int ifb_fuzz_trace(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    ifb_trace_format fmt = (ifb_trace_format)((data[0] & 3) % 3);
    size_t max_rows = data[0] >> 2;
    char *text = ifb_fuzz_strndup(data + 1, size - 1);
    ifb_trace *t = ifb_xmalloc(sizeof *t, "a trace");
    {
        ifb_err e;
        e.msg[0] = '\0';
        if (ifb_trace_load_string(t, text, "fuzz.trace", fmt, max_rows, &e) == 0) {
            IFB_FUZZ_CHECK(t->format == IFB_TRACE_AZURE || t->format == IFB_TRACE_MOONCAKE);
            IFB_FUZZ_CHECK(fmt == IFB_TRACE_AUTO || t->format == fmt);
            IFB_FUZZ_CHECK(max_rows == 0 || t->n <= max_rows);
            IFB_FUZZ_CHECK(t->n == 0 || t->rows != NULL);
            for (size_t i = 0; i < t->n; i++) {
                const ifb_trace_row *r = &t->rows[i];
                IFB_FUZZ_CHECK(i > 0 || r->arrival == 0);
                IFB_FUZZ_CHECK(i == 0 || r->arrival >= t->rows[i - 1].arrival);
                IFB_FUZZ_CHECK(r->input >= 1 && r->output >= 1);
            }
            IFB_FUZZ_CHECK(ifb_trace_format_name(t->format) != NULL);
            ifb_trace_free(t);
        } else {
            /* trace.h asks no ifb_trace_free after a failure: whatever a failed load
             * allocated must be gone already (LeakSanitizer reports it otherwise). */
            IFB_FUZZ_CHECK(e.msg[0] != '\0');
        }
    }
    free(t);
    free(text);
    return 0;
}

#ifndef IFB_FUZZ_NO_ENTRY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return ifb_fuzz_trace(data, size);
}
#endif
