/* Error message formatting for input errors (see err.h). */
#include "core/err.h"

#include <stdio.h>

int ifb_err_set(ifb_err *e, const char *file, int line, const char *key, const char *expected,
                const char *found_fmt, ...)
{
    if (!e)
        return -1;
    char found[512];
    va_list ap;
    va_start(ap, found_fmt);
    vsnprintf(found, sizeof found, found_fmt, ap);
    va_end(ap);
    char where[300];
    if (file && line > 0)
        snprintf(where, sizeof where, "%s:%d: ", file, line);
    else if (file)
        snprintf(where, sizeof where, "%s: ", file);
    else
        where[0] = '\0';
    snprintf(e->msg, sizeof e->msg, "%s%s%sexpected %s, found %s", where, key ? key : "",
             key ? ": " : "", expected, found);
    return -1;
}

int ifb_err_msg(ifb_err *e, const char *fmt, ...)
{
    if (!e)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return -1;
}
