/* CSV reader for infabric's own files (see csvread.h). */
#include "report/csvread.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 65536 + 1 > cap) {
            size_t nc = cap ? cap * 2 : 65536 * 2;
            char *nb = realloc(buf, nc);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
            cap = nc;
        }
        size_t k = fread(buf + n, 1, 65536, f);
        n += k;
        if (k < 65536)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

int ifb_csvtab_load(ifb_csvtab *t, const char *path, ifb_err *e)
{
    memset(t, 0, sizeof *t);
    size_t len;
    t->buf = slurp(path, &len);
    if (!t->buf)
        return ifb_err_msg(e, "cannot read '%s'", path);
    size_t cap = 0, n = 0, row_start = 0;
    char *r = t->buf, *w = t->buf, *end = t->buf + len;
    while (r < end) {
        /* one field: unescape in place */
        char *field = w;
        if (*r == '"') {
            r++;
            while (r < end && !(*r == '"' && (r + 1 >= end || r[1] != '"')))
                *w++ = *r == '"' ? (r += 2, '"') : *r++;
            r++; /* the closing quote */
        } else {
            while (r < end && *r != ',' && *r != '\n')
                *w++ = *r++;
        }
        char sep = r < end ? *r : '\n';
        r++;
        *w++ = '\0';
        if (n == cap) {
            cap = cap ? cap * 2 : 1024;
            char **nc = realloc(t->cells, cap * sizeof *nc);
            if (!nc) {
                ifb_csvtab_free(t);
                return ifb_err_msg(e, "out of memory reading '%s'", path);
            }
            t->cells = nc;
        }
        t->cells[n++] = field;
        if (sep == '\n') {
            size_t fields = n - row_start;
            if (!t->ncols)
                t->ncols = fields;
            else if (fields != t->ncols) {
                size_t row = t->nrows + 1;
                ifb_csvtab_free(t);
                return ifb_err_msg(e, "'%s' line %zu: %zu fields, the header has %zu", path,
                                   row + 1, fields, t->ncols ? t->ncols : 0);
            }
            t->nrows++;
            row_start = n;
        } else if (sep != ',') {
            ifb_csvtab_free(t);
            return ifb_err_msg(e, "'%s': not a CSV file of infabric's form", path);
        }
    }
    if (!t->nrows) {
        ifb_csvtab_free(t);
        return ifb_err_msg(e, "'%s' is empty", path);
    }
    t->nrows--; /* the header */
    return 0;
}

int ifb_csvtab_col(const ifb_csvtab *t, const char *name)
{
    for (size_t c = 0; c < t->ncols; c++)
        if (!strcmp(t->cells[c], name))
            return (int)c;
    return -1;
}

const char *ifb_csvtab_cell(const ifb_csvtab *t, size_t r, int col)
{
    if (col < 0 || (size_t)col >= t->ncols || r >= t->nrows)
        return "";
    return t->cells[(r + 1) * t->ncols + (size_t)col];
}

double ifb_csvtab_num(const ifb_csvtab *t, size_t r, int col)
{
    const char *s = ifb_csvtab_cell(t, r, col);
    char *end;
    double v = strtod(s, &end);
    return *s && !*end ? v : NAN;
}

void ifb_csvtab_free(ifb_csvtab *t)
{
    free(t->buf);
    free(t->cells);
    memset(t, 0, sizeof *t);
}
