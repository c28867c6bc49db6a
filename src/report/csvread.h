/* A streaming reader for the CSV files infabric itself writes (report/out.h's writer: RFC 4180,
 * '\n' line ends, quoted fields only when they hold a comma or a quote; none of them holds a
 * line break), for the report's figures that need per-request or per-bin data
 * (runs/NNN-requests.csv, NNN-util.csv). One line is in memory at a time, so reading a long
 * run's table costs no more than a short one's. A file that is missing or not of that form is
 * refused (the report then says the figure has no data rather than guessing). Left out: other
 * dialects, fields with line breaks. */
#ifndef IFB_REPORT_CSVREAD_H
#define IFB_REPORT_CSVREAD_H
#include <stddef.h>

#include "core/err.h"

#define IFB_CSV_MAX_FIELDS 64

/* Called for the header (row 0) and every data row: n fields, unescaped. A non-zero return
 * stops the reading and is returned by ifb_csv_each. */
typedef int (*ifb_csv_row_fn)(void *ctx, size_t row, char **fields, size_t n);

/* Reads path row by row. Returns 0, the callback's non-zero return, or -1 with e (missing file,
 * a row with another number of fields than the header, more than IFB_CSV_MAX_FIELDS). */
int ifb_csv_each(const char *path, ifb_csv_row_fn fn, void *ctx, ifb_err *e);
/* Index of `name` among the header's fields, -1 if absent. */
int ifb_csv_find(char **fields, size_t n, const char *name);
/* A field as a number; NaN when empty or not a number (a missing figure). */
double ifb_csv_num(const char *s);

#endif
