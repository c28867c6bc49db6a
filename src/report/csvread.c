/* Streaming CSV reader for infabric's own files (see csvread.h). */
#include "report/csvread.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

/* Splits line (no newline) into fields in place, unescaping quoted ones. Returns the count, or
 * (size_t)-1 when there are more than cap. */
static size_t split(char *line, char **f, size_t cap)
{
    size_t n = 0;
    char *r = line, *w = line;
    for (;;) {
        if (n == cap)
            return (size_t)-1;
        f[n++] = w;
        if (*r == '"') {
            r++;
            while (*r && !(*r == '"' && r[1] != '"'))
                *w++ = *r == '"' ? (r += 2, '"') : *r++;
            if (*r == '"')
                r++;
        } else {
            while (*r && *r != ',')
                *w++ = *r++;
        }
        char sep = *r;
        *w++ = '\0';
        if (sep != ',')
            return n;
        r++;
    }
}

int ifb_csv_each(const char *path, ifb_csv_row_fn fn, void *ctx, ifb_err *e)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return ifb_err_msg(e, "cannot read '%s'", path);
    char *line = NULL, *fields[IFB_CSV_MAX_FIELDS];
    size_t cap = 0, ncols = 0, row = 0;
    ssize_t len;
    int rc = 0;
    while (!rc && (len = getline(&line, &cap, f)) >= 0) {
        if (len && line[len - 1] == '\n')
            line[--len] = '\0';
        size_t n = split(line, fields, IFB_CSV_MAX_FIELDS);
        if (n == (size_t)-1)
            rc = ifb_err_msg(e, "'%s' line %zu: more than %d fields", path, row + 1,
                             IFB_CSV_MAX_FIELDS);
        else if (row == 0)
            ncols = n;
        else if (n != ncols)
            rc = ifb_err_msg(e, "'%s' line %zu: %zu fields, the header has %zu", path, row + 1, n,
                             ncols);
        if (!rc)
            rc = fn(ctx, row, fields, n);
        row++;
    }
    if (!rc && ferror(f))
        rc = ifb_err_msg(e, "cannot read '%s'", path);
    else if (!rc && !feof(f)) /* getline could not grow its buffer (ENOMEM) */
        ifb_oom(cap, 2, "a CSV line");
    if (!rc && row == 0)
        rc = ifb_err_msg(e, "'%s' is empty", path);
    free(line);
    fclose(f);
    return rc;
}

int ifb_csv_find(char **fields, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(fields[i], name))
            return (int)i;
    return -1;
}

double ifb_csv_num(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    return *s && !*end ? v : NAN;
}
