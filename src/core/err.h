/* Error reports for bad input. Every message names where (file:line), which key,
 * what was expected and what was found, so a user can fix the input without reading code.
 * Functions that can fail on input return int (0 ok, negative error) and fill an ifb_err. */
#ifndef IFB_ERR_H
#define IFB_ERR_H
#include <stdarg.h>

enum { IFB_EXIT_OK = 0, IFB_EXIT_FAIL = 1, IFB_EXIT_INPUT = 2, IFB_EXIT_INTERRUPTED = 3 };

typedef struct ifb_err {
    char msg[1024];
} ifb_err;

/* Formats "FILE:LINE: KEY: expected EXPECTED, found FOUND". file may be NULL and line 0 when
 * unknown (for --set overrides the file is "--set"). Returns -1 for convenient `return
 * ifb_err_set(...)`. */
int ifb_err_set(ifb_err *e, const char *file, int line, const char *key, const char *expected,
                const char *found_fmt, ...) __attribute__((format(printf, 6, 7)));
/* Free-form message; returns -1. */
int ifb_err_msg(ifb_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
