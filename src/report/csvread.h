/* A reader for the CSV files infabric itself writes (report/out.h's writer: RFC 4180, '\n'
 * line ends, quoted fields only when they hold a comma, quote or line break), for the report's
 * figures that need per-request or per-bin data (runs/NNN-requests.csv, NNN-util.csv). The
 * whole file is read into memory; a file that is missing or not of that form is refused (the
 * report then says the figure has no data rather than guessing). Left out: other dialects. */
#ifndef IFB_REPORT_CSVREAD_H
#define IFB_REPORT_CSVREAD_H
#include <stddef.h>

#include "core/err.h"

typedef struct ifb_csvtab {
    char *buf;    /* the file, fields unescaped and terminated in place */
    char **cells; /* (nrows + 1) x ncols: the header row first */
    size_t nrows, ncols;
} ifb_csvtab;

/* Reads path. Returns 0, or -1 with e (missing file, a row with another number of fields). */
int ifb_csvtab_load(ifb_csvtab *t, const char *path, ifb_err *e);
/* Column index of `name` in the header, -1 if absent. */
int ifb_csvtab_col(const ifb_csvtab *t, const char *name);
/* Cell of data row r (0-based, the header excluded). */
const char *ifb_csvtab_cell(const ifb_csvtab *t, size_t r, int col);
/* The cell as a number; NaN when empty or not a number (a missing figure). */
double ifb_csvtab_num(const ifb_csvtab *t, size_t r, int col);
void ifb_csvtab_free(ifb_csvtab *t);

#endif
