/* Output plumbing for reports: atomic output files, a streaming JSON writer and a CSV writer,
 * both printing numbers deterministically so equal runs give byte-identical files.
 * Atomic files: written to "PATH.tmp.<pid>" and renamed over PATH on commit, so a crash never
 * leaves a truncated file that looks complete (the data is fsync'ed before the rename). The
 * first failing write's errno is kept, so a full disk is reported with the file it hit.
 * Output folders: validated, created and locked before a command does any work.
 * Doubles: the shortest decimal that reads back to the same double (the smallest precision
 * 1..17 for which strtod round-trips), laid out as ECMAScript's Number.prototype.toString does
 * (0.1, 100, 1.5e-7, 1e+21), except that -0 keeps its sign. JSON prints non-finite values as
 * null. The text never depends on the locale (a ',' decimal point is mapped back to '.').
 * Left out: reading JSON/CSV (tests use jansson), pretty-printing short arrays on one line. */
#ifndef IFB_OUT_H
#define IFB_OUT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"
#include "core/stats.h"

/* ---- Atomic output files ---------------------------------------------------------------- */

typedef struct ifb_ofile {
    FILE *f; /* write here between open and commit/abort */
    char *path;
    char *tmp;
    void *sink; /* the file descriptor under f and the first write error */
} ifb_ofile;

/* A malloc'ed path built like printf, or NULL with err when it does not fit the system's limit
 * (PATH_MAX, terminator included) or vsnprintf cannot format it (EOVERFLOW): paths are never
 * cut short. Out of memory aborts (core/alloc.h). */
char *ifb_path_printf(ifb_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Like mkdir -p: creates path and its missing parents (mode 0777 & ~umask). An existing
 * directory is fine; an existing non-directory is an error. Returns 0 or -1 with err naming the
 * path and the system error. */
int ifb_mkdirs(const char *path, ifb_err *err);
/* Creates PATH's missing parent directories, then opens "PATH.tmp.<pid>" for writing (replacing
 * a stale one). PATH itself is not touched until commit. Returns 0 or -1 with err. One process
 * must not have the same PATH open twice at a time (the temp name would be shared). */
int ifb_ofile_open(ifb_ofile *o, const char *path, ifb_err *err);
/* Flushes, fsyncs, closes and renames the temp file to PATH. On any failure (e.g. disk full)
 * the temp file is removed, PATH keeps its previous state and -1 is returned with err.
 * Either way the ofile is closed afterwards. */
int ifb_ofile_commit(ifb_ofile *o, ifb_err *err);
/* Closes and removes the temp file. Safe to call after commit or a failed open (no-op), so
 * error paths can call it unconditionally. */
void ifb_ofile_abort(ifb_ofile *o);
/* For a writer that failed on o->f: when a write to the file failed, err is replaced by
 * "cannot write output file 'PATH': <system error>" (the first failing write's errno), so the
 * message names the file whatever the writer said; then the file is aborted. Returns -1. */
int ifb_ofile_fail(ifb_ofile *o, ifb_err *err);

/* ---- Output folders --------------------------------------------------------------------- */

/* The lock file every command holds in its output folder while it writes there. */
#define IFB_OUTDIR_LOCK ".infabric.lock"

typedef struct ifb_outdir {
    char *path;
    int fd; /* of the lock file, locked (flock) until ifb_outdir_close; -1 when closed */
} ifb_outdir;

/* Prepares the output folder of a command before it does any work: refuses an empty path, a
 * path so long that PATH + longest (the longest name the command will append, separator
 * included) would pass PATH_MAX, a path that is not a directory or cannot be created, and a
 * folder that cannot be written; creates it (like mkdir -p) and takes an exclusive lock on
 * PATH/.infabric.lock (flock; the file holds the owner's pid), so two commands can never write
 * into one folder at once. Forked children share the lock; it goes when the last holder closes
 * it or exits. Returns 0, -1 with err for a bad path, or -2 with err naming the folder and the
 * process holding it when another command holds the lock. */
int ifb_outdir_open(ifb_outdir *d, const char *path, size_t longest, ifb_err *err);
/* Releases the lock (the lock file stays). Safe on a closed or failed ifb_outdir. */
void ifb_outdir_close(ifb_outdir *d);

/* ---- Numbers ---------------------------------------------------------------------------- */

/* Enough for any output of ifb_fmt_double, terminator included. */
#define IFB_DOUBLE_BUFSZ 32
/* Writes the deterministic shortest round-trip text of v (see above) into buf and returns its
 * length. Non-finite values give "nan", "inf", "-inf" (callers pick their own spelling). */
int ifb_fmt_double(char buf[IFB_DOUBLE_BUFSZ], double v);

/* ---- Streaming JSON writer -------------------------------------------------------------- */

#define IFB_JSON_MAX_DEPTH 64

/* Writes as it goes and inserts commas, newlines and indentation itself. Misuse (a value
 * without a key inside an object, a key inside an array, mismatched end, nesting deeper than
 * IFB_JSON_MAX_DEPTH) puts the writer into a sticky error state: further calls write nothing,
 * return -1, and ifb_json_finish reports the first error. Output layout, with indent 2:
 *   {
 *     "a": 1,
 *     "b": [
 *       true,
 *       null
 *     ],
 *     "c": {}
 *   }
 * Several top-level values are separated by newlines (handy for JSON Lines with indent 0). */
typedef struct ifb_json {
    FILE *f;
    int indent; /* spaces per level; 0 = compact, one line */
    int depth;
    unsigned char is_obj[IFB_JSON_MAX_DEPTH];       /* kind of each open container */
    unsigned char nonempty[IFB_JSON_MAX_DEPTH + 1]; /* [depth]: a member was written there */
    int have_key;                                   /* a key was written and awaits its value */
    int top_values;
    char error[160];
} ifb_json;

/* indent: 2 for the project's layout, 0 for compact single-line output. */
void ifb_json_init(ifb_json *j, FILE *f, int indent);
int ifb_json_obj_begin(ifb_json *j);
int ifb_json_obj_end(ifb_json *j);
int ifb_json_arr_begin(ifb_json *j);
int ifb_json_arr_end(ifb_json *j);
int ifb_json_key(ifb_json *j, const char *key);
/* s == NULL writes null. Escapes '"', '\\' and control characters; invalid UTF-8 bytes are
 * replaced by U+FFFD so the output is always valid JSON. */
int ifb_json_str(ifb_json *j, const char *s);
int ifb_json_strn(ifb_json *j, const char *s, size_t len);
int ifb_json_int(ifb_json *j, int64_t v);
int ifb_json_uint(ifb_json *j, uint64_t v);
int ifb_json_double(ifb_json *j, double v);
int ifb_json_bool(ifb_json *j, bool v);
int ifb_json_null(ifb_json *j);
/* key + value in one call. */
int ifb_json_kobj_begin(ifb_json *j, const char *key);
int ifb_json_karr_begin(ifb_json *j, const char *key);
int ifb_json_kstr(ifb_json *j, const char *key, const char *s);
int ifb_json_kint(ifb_json *j, const char *key, int64_t v);
int ifb_json_kuint(ifb_json *j, const char *key, uint64_t v);
int ifb_json_kdouble(ifb_json *j, const char *key, double v);
int ifb_json_kbool(ifb_json *j, const char *key, bool v);
int ifb_json_knull(ifb_json *j, const char *key);
/* key: {"n": .., "mean": .., "min": .., "p50": .., "p90": .., "p99": .., "max": ..}, every value
 * but n multiplied by scale first (e.g. 1e-6 for ps -> us); NaN (empty digest) prints null.
 * One shape for every percentile digest in the reports. */
int ifb_json_kpctl(ifb_json *j, const char *key, const ifb_pctl *p, double scale);
/* Checks that every container is closed and nothing failed (including FILE errors), writes the
 * final newline. Returns 0 or -1 with err. Does not close the FILE. */
int ifb_json_finish(ifb_json *j, ifb_err *err);

/* ---- CSV writer ------------------------------------------------------------------------- */

/* RFC 4180 fields with '\n' line ends: a field is quoted when it contains a comma, a double
 * quote, CR or LF, and quotes inside are doubled. Doubles print as in JSON; NaN is an empty
 * field (missing), infinities are "inf" and "-inf" (read as such by pandas and numpy).
 * Every row must have as many fields as the header; a mismatch is a sticky error. */
typedef struct ifb_csv {
    FILE *f;
    size_t ncols; /* 0 until the header is written */
    size_t col;   /* fields written in the current row */
    uint64_t rows;
    char error[160];
} ifb_csv;

void ifb_csv_init(ifb_csv *c, FILE *f);
int ifb_csv_header(ifb_csv *c, const char *const *names, size_t n);
int ifb_csv_str(ifb_csv *c, const char *s); /* NULL: empty field */
int ifb_csv_int(ifb_csv *c, int64_t v);
int ifb_csv_uint(ifb_csv *c, uint64_t v);
int ifb_csv_double(ifb_csv *c, double v);
int ifb_csv_end_row(ifb_csv *c);
/* Checks that no row is half-written and nothing failed. Returns 0 or -1 with err. */
int ifb_csv_finish(ifb_csv *c, ifb_err *err);

/* A whole CSV file, atomically: the header, then rows(c, ctx) writes the rows. */
typedef void (*ifb_csv_rows_fn)(ifb_csv *c, const void *ctx);
int ifb_csv_write_file(const char *path, const char *const *header, size_t ncols,
                       ifb_csv_rows_fn rows, const void *ctx, ifb_err *err);

#endif
