/* JSON and CSV writers and number formatting (see report/out.h; the atomic output files and
 * folders are in outfile.c). Only the C library; nothing here keeps global state. */
#include "report/out.h"

#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- Numbers ---------------------------------------------------------------------------- */

/* Prints v with p significant digits into e; true if that text reads back as v. */
static int round_trips(char *e, size_t cap, int p, double v)
{
    (void)snprintf(e, cap, "%.*e", p - 1, v);
    return strtod(e, NULL) == v;
}

int ifb_fmt_double(char buf[IFB_DOUBLE_BUFSZ], double v)
{
    if (isnan(v))
        return snprintf(buf, IFB_DOUBLE_BUFSZ, "nan");
    if (isinf(v))
        return snprintf(buf, IFB_DOUBLE_BUFSZ, v < 0 ? "-inf" : "inf");
    if (v == 0.0)
        return snprintf(buf, IFB_DOUBLE_BUFSZ, signbit(v) ? "-0" : "0");

    /* Shortest precision that reads back exactly. %e gives the digits and exponent in a form
     * that is easy to take apart; printf and strtod are correctly rounded in glibc and musl.
     * Shortcut with the same result as trying 1..17 in turn (that costs ~14 us a number): for
     * a normal double, every decimal of at most 15 digits that reads back to v equals v printed
     * with 15 digits (DBL_DIG), so if those 15 digits read back, stripping their trailing zeros
     * gives the shortest form, and if they do not, the answer has 16 or 17 digits.
     * Subnormals have fewer significant bits, so they take the long way. */
    char e[48];
    if (fabs(v) >= DBL_MIN) {
        if (!round_trips(e, sizeof e, 15, v) && !round_trips(e, sizeof e, 16, v))
            round_trips(e, sizeof e, 17, v);
    } else {
        for (int p = 1; p <= 17; p++)
            if (round_trips(e, sizeof e, p, v))
                break;
    }
    const char *s = e;
    int neg = 0;
    if (*s == '-') {
        neg = 1;
        s++;
    }
    char digits[20];
    int k = 0;
    for (; *s && *s != 'e' && *s != 'E'; s++)
        if (*s >= '0' && *s <= '9' && k < 19)
            digits[k++] = *s; /* skips the decimal point, whatever the locale spells it */
    if (k == 0)
        digits[k++] = '0'; /* cannot happen for a finite non-zero v; keeps the layout defined */
    while (k > 1 && digits[k - 1] == '0')
        k--;
    int x = (*s == 'e' || *s == 'E') ? atoi(s + 1) : 0;
    int n = x + 1; /* position of the decimal point relative to the digits */

    /* Layout of ECMAScript Number::toString (ECMA-262, 6.1.6.1.20). */
    char *o = buf;
    if (neg)
        *o++ = '-';
    if (k <= n && n <= 21) {
        memcpy(o, digits, (size_t)k);
        o += k;
        for (int i = 0; i < n - k; i++)
            *o++ = '0';
    } else if (0 < n && n <= 21) {
        memcpy(o, digits, (size_t)n);
        o += n;
        *o++ = '.';
        memcpy(o, digits + n, (size_t)(k - n));
        o += k - n;
    } else if (-6 < n && n <= 0) {
        *o++ = '0';
        *o++ = '.';
        for (int i = 0; i < -n; i++)
            *o++ = '0';
        memcpy(o, digits, (size_t)k);
        o += k;
    } else {
        *o++ = digits[0];
        if (k > 1) {
            *o++ = '.';
            memcpy(o, digits + 1, (size_t)(k - 1));
            o += k - 1;
        }
        o += snprintf(o, 8, "e%c%d", n - 1 < 0 ? '-' : '+', abs(n - 1));
    }
    *o = '\0';
    return (int)(o - buf);
}

/* ---- JSON ------------------------------------------------------------------------------- */

/* Writes to the FILE are not checked one by one ((void) casts): the stream's error flag is
 * sticky, and ifb_json_finish / ifb_csv_finish / ifb_ofile_commit check it once. */

static int json_fail(ifb_json *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int json_fail(ifb_json *j, const char *fmt, ...)
{
    if (!j->error[0]) {
        va_list ap;
        va_start(ap, fmt);
        (void)vsnprintf(j->error, sizeof j->error, fmt, ap);
        va_end(ap);
    }
    return -1;
}

void ifb_json_init(ifb_json *j, FILE *f, int indent)
{
    memset(j, 0, sizeof *j);
    j->f = f;
    j->indent = indent < 0 ? 0 : indent;
}

static void json_newline(ifb_json *j, int depth)
{
    if (!j->indent)
        return;
    (void)fputc('\n', j->f);
    for (int i = 0; i < depth * j->indent; i++)
        (void)fputc(' ', j->f);
}

/* Everything a value needs written before it: separator, newline, indentation. */
static int json_before_value(ifb_json *j)
{
    if (j->error[0])
        return -1;
    if (j->depth == 0) {
        if (j->nonempty[0])
            (void)fputc('\n', j->f);
        j->nonempty[0] = 1;
        j->top_values++;
        return 0;
    }
    if (j->is_obj[j->depth - 1]) {
        if (!j->have_key)
            return json_fail(j, "value without a key inside an object (depth %d)", j->depth);
        j->have_key = 0;
        return 0;
    }
    if (j->nonempty[j->depth])
        (void)fputc(',', j->f);
    json_newline(j, j->depth);
    j->nonempty[j->depth] = 1;
    return 0;
}

static int json_begin(ifb_json *j, int obj)
{
    if (j->error[0])
        return -1;
    if (j->depth >= IFB_JSON_MAX_DEPTH)
        return json_fail(j, "nesting deeper than %d levels", IFB_JSON_MAX_DEPTH);
    if (json_before_value(j))
        return -1;
    (void)fputc(obj ? '{' : '[', j->f);
    j->is_obj[j->depth] = (unsigned char)obj;
    j->depth++;
    j->nonempty[j->depth] = 0;
    return 0;
}

static int json_end(ifb_json *j, int obj)
{
    if (j->error[0])
        return -1;
    if (j->depth == 0 || j->is_obj[j->depth - 1] != obj)
        return json_fail(j, "%s closed but %s", obj ? "object" : "array",
                         j->depth == 0             ? "nothing is open"
                         : j->is_obj[j->depth - 1] ? "an object is open"
                                                   : "an array is open");
    if (j->have_key)
        return json_fail(j, "object closed right after a key (missing value)");
    if (j->nonempty[j->depth])
        json_newline(j, j->depth - 1);
    j->depth--;
    (void)fputc(obj ? '}' : ']', j->f);
    return 0;
}

int ifb_json_obj_begin(ifb_json *j)
{
    return json_begin(j, 1);
}
int ifb_json_obj_end(ifb_json *j)
{
    return json_end(j, 1);
}
int ifb_json_arr_begin(ifb_json *j)
{
    return json_begin(j, 0);
}
int ifb_json_arr_end(ifb_json *j)
{
    return json_end(j, 0);
}

/* Length of the valid UTF-8 sequence at s (RFC 3629: no overlongs, no surrogates, at most
 * U+10FFFF), or 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t avail)
{
    unsigned c = s[0];
    size_t n;
    unsigned lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0;
        if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;
        if (c == 0xF4)
            hi = 0x8F;
    } else
        return 0;
    if (avail < n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return n;
}

static void json_write_string(FILE *f, const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    (void)fputc('"', f);
    size_t run = 0; /* start of bytes not yet written */
    for (size_t i = 0; i < len;) {
        unsigned c = s[i];
        const char *esc = NULL;
        char ubuf[8];
        size_t adv = 1;
        if (c == '"')
            esc = "\\\"";
        else if (c == '\\')
            esc = "\\\\";
        else if (c == '\n')
            esc = "\\n";
        else if (c == '\r')
            esc = "\\r";
        else if (c == '\t')
            esc = "\\t";
        else if (c == '\b')
            esc = "\\b";
        else if (c == '\f')
            esc = "\\f";
        else if (c < 0x20) {
            (void)snprintf(ubuf, sizeof ubuf, "\\u%04x", c);
            esc = ubuf;
        } else if (c >= 0x80) {
            adv = utf8_len(s + i, len - i);
            if (adv == 0) {
                esc = "\\ufffd";
                adv = 1;
            }
        }
        if (esc) {
            (void)fwrite(s + run, 1, i - run, f);
            (void)fputs(esc, f);
            run = i + adv;
        }
        i += adv;
    }
    (void)fwrite(s + run, 1, len - run, f);
    (void)fputc('"', f);
}

int ifb_json_key(ifb_json *j, const char *key)
{
    if (j->error[0])
        return -1;
    if (j->depth == 0 || !j->is_obj[j->depth - 1])
        return json_fail(j, "key \"%s\" outside an object", key ? key : "(null)");
    if (j->have_key)
        return json_fail(j, "key \"%s\" right after another key", key ? key : "(null)");
    if (!key)
        return json_fail(j, "NULL key");
    if (j->nonempty[j->depth])
        (void)fputc(',', j->f);
    json_newline(j, j->depth);
    json_write_string(j->f, key, strlen(key));
    (void)fputs(j->indent ? ": " : ":", j->f);
    j->nonempty[j->depth] = 1;
    j->have_key = 1;
    return 0;
}

int ifb_json_strn(ifb_json *j, const char *s, size_t len)
{
    if (!s)
        return ifb_json_null(j);
    if (json_before_value(j))
        return -1;
    json_write_string(j->f, s, len);
    return 0;
}

int ifb_json_str(ifb_json *j, const char *s)
{
    return ifb_json_strn(j, s, s ? strlen(s) : 0);
}

int ifb_json_int(ifb_json *j, int64_t v)
{
    if (json_before_value(j))
        return -1;
    (void)fprintf(j->f, "%" PRId64, v);
    return 0;
}

int ifb_json_uint(ifb_json *j, uint64_t v)
{
    if (json_before_value(j))
        return -1;
    (void)fprintf(j->f, "%" PRIu64, v);
    return 0;
}

int ifb_json_double(ifb_json *j, double v)
{
    if (!isfinite(v))
        return ifb_json_null(j);
    if (json_before_value(j))
        return -1;
    char buf[IFB_DOUBLE_BUFSZ];
    (void)fwrite(buf, 1, (size_t)ifb_fmt_double(buf, v), j->f);
    return 0;
}

int ifb_json_bool(ifb_json *j, bool v)
{
    if (json_before_value(j))
        return -1;
    (void)fputs(v ? "true" : "false", j->f);
    return 0;
}

int ifb_json_null(ifb_json *j)
{
    if (json_before_value(j))
        return -1;
    (void)fputs("null", j->f);
    return 0;
}

int ifb_json_kobj_begin(ifb_json *j, const char *key)
{
    return ifb_json_key(j, key) ? -1 : ifb_json_obj_begin(j);
}
int ifb_json_karr_begin(ifb_json *j, const char *key)
{
    return ifb_json_key(j, key) ? -1 : ifb_json_arr_begin(j);
}
int ifb_json_kstr(ifb_json *j, const char *key, const char *s)
{
    return ifb_json_key(j, key) ? -1 : ifb_json_str(j, s);
}
int ifb_json_kint(ifb_json *j, const char *key, int64_t v)
{
    return ifb_json_key(j, key) ? -1 : ifb_json_int(j, v);
}
int ifb_json_kuint(ifb_json *j, const char *key, uint64_t v)
{
    return ifb_json_key(j, key) ? -1 : ifb_json_uint(j, v);
}
int ifb_json_kdouble(ifb_json *j, const char *key, double v)
{
    return ifb_json_key(j, key) ? -1 : ifb_json_double(j, v);
}
int ifb_json_kbool(ifb_json *j, const char *key, bool v)
{
    return ifb_json_key(j, key) ? -1 : ifb_json_bool(j, v);
}
int ifb_json_knull(ifb_json *j, const char *key)
{
    return ifb_json_key(j, key) ? -1 : ifb_json_null(j);
}

int ifb_json_kpctl(ifb_json *j, const char *key, const ifb_pctl *p, double scale)
{
    if (ifb_json_kobj_begin(j, key))
        return -1;
    (void)ifb_json_kuint(j, "n", p->n);
    (void)ifb_json_kdouble(j, "mean", p->mean * scale);
    (void)ifb_json_kdouble(j, "min", p->min * scale);
    (void)ifb_json_kdouble(j, "p50", p->p50 * scale);
    (void)ifb_json_kdouble(j, "p90", p->p90 * scale);
    (void)ifb_json_kdouble(j, "p99", p->p99 * scale);
    (void)ifb_json_kdouble(j, "max", p->max * scale);
    return ifb_json_obj_end(j);
}

int ifb_json_finish(ifb_json *j, ifb_err *err)
{
    if (j->error[0])
        return ifb_err_msg(err, "JSON writer: %s", j->error);
    if (j->have_key)
        return ifb_err_msg(err, "JSON writer: key without a value at the end");
    if (j->depth)
        return ifb_err_msg(err, "JSON writer: %d container(s) left open", j->depth);
    if (j->top_values)
        (void)fputc('\n', j->f);
    if (fflush(j->f) != 0 || ferror(j->f))
        return ifb_err_msg(err, "JSON writer: write error: %s", strerror(errno));
    return 0;
}

/* ---- CSV -------------------------------------------------------------------------------- */

static int csv_fail(ifb_csv *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int csv_fail(ifb_csv *c, const char *fmt, ...)
{
    if (!c->error[0]) {
        va_list ap;
        va_start(ap, fmt);
        (void)vsnprintf(c->error, sizeof c->error, fmt, ap);
        va_end(ap);
    }
    return -1;
}

void ifb_csv_init(ifb_csv *c, FILE *f)
{
    memset(c, 0, sizeof *c);
    c->f = f;
}

static void csv_write_field(FILE *f, const char *s)
{
    if (!s)
        return;
    if (!strpbrk(s, ",\"\r\n")) {
        (void)fputs(s, f);
        return;
    }
    (void)fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            (void)fputc('"', f);
        (void)fputc(*s, f);
    }
    (void)fputc('"', f);
}

int ifb_csv_header(ifb_csv *c, const char *const *names, size_t n)
{
    if (c->error[0])
        return -1;
    if (c->ncols)
        return csv_fail(c, "header written twice");
    if (n == 0)
        return csv_fail(c, "header without columns");
    for (size_t i = 0; i < n; i++) {
        if (i)
            (void)fputc(',', c->f);
        csv_write_field(c->f, names[i]);
    }
    (void)fputc('\n', c->f);
    c->ncols = n;
    return 0;
}

static int csv_sep(ifb_csv *c)
{
    if (c->error[0])
        return -1;
    if (!c->ncols)
        return csv_fail(c, "field before the header");
    if (c->col >= c->ncols)
        return csv_fail(c, "row %" PRIu64 " has more than %zu fields", c->rows + 1, c->ncols);
    if (c->col)
        (void)fputc(',', c->f);
    c->col++;
    return 0;
}

int ifb_csv_str(ifb_csv *c, const char *s)
{
    if (csv_sep(c))
        return -1;
    csv_write_field(c->f, s);
    return 0;
}

int ifb_csv_int(ifb_csv *c, int64_t v)
{
    if (csv_sep(c))
        return -1;
    (void)fprintf(c->f, "%" PRId64, v);
    return 0;
}

int ifb_csv_uint(ifb_csv *c, uint64_t v)
{
    if (csv_sep(c))
        return -1;
    (void)fprintf(c->f, "%" PRIu64, v);
    return 0;
}

int ifb_csv_double(ifb_csv *c, double v)
{
    if (csv_sep(c))
        return -1;
    if (isnan(v))
        return 0; /* missing value */
    char buf[IFB_DOUBLE_BUFSZ];
    (void)fwrite(buf, 1, (size_t)ifb_fmt_double(buf, v), c->f);
    return 0;
}

int ifb_csv_end_row(ifb_csv *c)
{
    if (c->error[0])
        return -1;
    if (c->col != c->ncols)
        return csv_fail(c, "row %" PRIu64 " has %zu fields, the header has %zu", c->rows + 1,
                        c->col, c->ncols);
    (void)fputc('\n', c->f);
    c->col = 0;
    c->rows++;
    return 0;
}

int ifb_csv_finish(ifb_csv *c, ifb_err *err)
{
    if (c->error[0])
        return ifb_err_msg(err, "CSV writer: %s", c->error);
    if (c->col)
        return ifb_err_msg(err, "CSV writer: row %" PRIu64 " left unfinished", c->rows + 1);
    if (fflush(c->f) != 0 || ferror(c->f))
        return ifb_err_msg(err, "CSV writer: write error: %s", strerror(errno));
    return 0;
}

int ifb_csv_write_file(const char *path, const char *const *header, size_t ncols,
                       ifb_csv_rows_fn rows, const void *ctx, ifb_err *err)
{
    ifb_ofile o;
    if (ifb_ofile_open(&o, path, err))
        return -1;
    ifb_csv c;
    ifb_csv_init(&c, o.f);
    ifb_csv_header(&c, header, ncols);
    rows(&c, ctx);
    if (ifb_csv_finish(&c, err))
        return ifb_ofile_fail(&o, err);
    return ifb_ofile_commit(&o, err);
}
