/* Trace readers for the Azure CSV and Mooncake JSONL request traces (see trace.h). Rows are
 * parsed by hand (no JSON library per line) because the traces have tens of thousands of rows
 * and only three fields matter; anything that does not look exactly like the schema is an
 * error naming the row. */
#include "workload/trace.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *ifb_trace_format_name(ifb_trace_format f)
{
    switch (f) {
    case IFB_TRACE_AUTO:
        return "auto";
    case IFB_TRACE_AZURE:
        return "azure";
    case IFB_TRACE_MOONCAKE:
        return "mooncake";
    }
    return "?";
}

void ifb_trace_free(ifb_trace *t)
{
    if (!t)
        return;
    free(t->rows);
    t->rows = NULL;
    t->n = 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int parse_digits(const char **p, int n, int64_t *out)
{
    int64_t v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

/* "YYYY-MM-DD HH:MM:SS[.fffffff]" -> whole seconds since the epoch and the fraction in ps
 * (apart, because picoseconds since 1970 do not fit in 64 bits). */
static int parse_datetime(const char *s, const char *end, int64_t *sec, ifb_time *frac)
{
    const char *p = s;
    int64_t y, mo, d, h, mi, se;
    if (end - p < 19 || parse_digits(&p, 4, &y) || *p++ != '-' || parse_digits(&p, 2, &mo) ||
        *p++ != '-' || parse_digits(&p, 2, &d) || (*p != ' ' && *p != 'T'))
        return -1;
    p++;
    if (parse_digits(&p, 2, &h) || *p++ != ':' || parse_digits(&p, 2, &mi) || *p++ != ':' ||
        parse_digits(&p, 2, &se))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
        return -1;
    uint64_t frac_ps = 0;
    if (p < end && *p == '.') {
        p++;
        uint64_t scale = IFB_SEC / 10;
        int nd = 0;
        while (p < end && isdigit((unsigned char)*p)) {
            frac_ps += (uint64_t)(*p - '0') * scale; /* digits past the 12th add 0 */
            scale /= 10;
            p++;
            nd++;
        }
        if (nd == 0)
            return -1;
    }
    if (p != end)
        return -1;
    *sec = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
    *frac = frac_ps;
    return 0;
}

static int parse_len(const char *s, const char *end, int64_t *out)
{
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        end--;
    if (s == end || end - s > 12)
        return -1;
    int64_t v = 0;
    for (const char *p = s; p < end; p++) {
        if (!isdigit((unsigned char)*p))
            return -1;
        v = v * 10 + (*p - '0');
    }
    *out = v;
    return 0;
}

static int push_row(ifb_trace *t, size_t *cap, ifb_trace_row r)
{
    if (t->n == *cap) {
        size_t c = *cap ? *cap * 2 : 1024;
        ifb_trace_row *n = realloc(t->rows, c * sizeof *n);
        if (!n)
            abort();
        t->rows = n;
        *cap = c;
    }
    t->rows[t->n++] = r;
    return 0;
}

static int row_err(ifb_err *e, const ifb_trace *t, long line, const char *col, const char *exp,
                   const char *s, const char *end)
{
    int len = (int)(end - s);
    if (len > 80)
        len = 80;
    return ifb_err_set(e, t->name, (int)line, col, exp, "'%.*s' (row %ld)", len, s, line);
}

/* Finds "key": in a JSON object line and returns a pointer after the colon, or NULL. */
static const char *json_field(const char *s, const char *end, const char *key)
{
    size_t kl = strlen(key);
    for (const char *p = s; p + kl + 2 < end; p++) {
        if (*p == '"' && !strncmp(p + 1, key, kl) && p[kl + 1] == '"') {
            const char *q = p + kl + 2;
            while (q < end && (*q == ' ' || *q == '\t'))
                q++;
            if (q < end && *q == ':')
                return q + 1;
            return NULL;
        }
    }
    return NULL;
}

/* Number (digits, optional fraction) after a JSON colon: end of the token in *tok_end. */
static int json_number(const char *p, const char *end, double *out, const char **tok_end,
                       int integer)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    const char *q = p;
    while (q < end && (isdigit((unsigned char)*q) ||
                       (!integer && (*q == '.' || *q == 'e' || *q == 'E' || *q == '+'))))
        q++;
    *tok_end = q;
    if (q == p)
        return -1;
    const char *r = q;
    while (r < end && (*r == ' ' || *r == '\t'))
        r++;
    if (r < end && *r != ',' && *r != '}')
        return -1;
    char buf[48];
    size_t n = (size_t)(q - p);
    if (n >= sizeof buf)
        return -1;
    memcpy(buf, p, n);
    buf[n] = 0;
    char *ep;
    errno = 0;
    double v = strtod(buf, &ep);
    if (*ep || errno || !(v >= 0) || v > 9e15)
        return -1;
    *out = v;
    return 0;
}

int ifb_trace_load_string(ifb_trace *t, const char *text, const char *name, ifb_trace_format fmt,
                          size_t max_rows, ifb_err *e)
{
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name ? name : "<trace>");
    const char *p = text;
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    if (fmt == IFB_TRACE_AUTO)
        fmt = *p == '{' ? IFB_TRACE_MOONCAKE : IFB_TRACE_AZURE;
    t->format = fmt;
    size_t cap = 0;
    long line = 0;
    int header = fmt == IFB_TRACE_AZURE;
    ifb_time first = 0, prev = 0;
    int64_t sec0 = 0;
    /* Relative times must stay within ifb_time's range with a margin: 10^7 s (115 days). */
    const int64_t max_span_s = 10000000;
    const char *s = text;
    while (*s && (!max_rows || t->n < max_rows)) {
        const char *end = strchr(s, '\n');
        if (!end)
            end = s + strlen(s);
        const char *next = *end ? end + 1 : end;
        line++;
        const char *le = end;
        if (le > s && le[-1] == '\r')
            le--;
        if (le == s) { /* blank line */
            s = next;
            continue;
        }
        ifb_trace_row r = {0};
        ifb_time at;
        if (fmt == IFB_TRACE_AZURE) {
            if (header) {
                header = 0;
                const char *h = "TIMESTAMP,ContextTokens,GeneratedTokens";
                if ((size_t)(le - s) != strlen(h) || strncmp(s, h, strlen(h))) {
                    ifb_trace_free(t);
                    return row_err(e, t, line, "header",
                                   "the Azure header TIMESTAMP,ContextTokens,GeneratedTokens", s,
                                   le);
                }
                s = next;
                continue;
            }
            const char *c1 = memchr(s, ',', (size_t)(le - s));
            const char *c2 = c1 ? memchr(c1 + 1, ',', (size_t)(le - c1 - 1)) : NULL;
            if (!c1 || !c2 || memchr(c2 + 1, ',', (size_t)(le - c2 - 1))) {
                ifb_trace_free(t);
                return row_err(e, t, line, "row", "3 comma-separated columns", s, le);
            }
            int64_t sec;
            ifb_time frac;
            if (parse_datetime(s, c1, &sec, &frac)) {
                ifb_trace_free(t);
                return row_err(e, t, line, "TIMESTAMP", "a time like 2023-11-16 18:17:03.97", s,
                               c1);
            }
            if (t->n == 0)
                sec0 = sec;
            if (sec < sec0 || sec - sec0 >= max_span_s) {
                ifb_trace_free(t);
                return row_err(e, t, line, "TIMESTAMP",
                               sec < sec0 ? "times that do not go backwards"
                                          : "times within 10^7 s of the first row",
                               s, c1);
            }
            at = (ifb_time)(sec - sec0) * IFB_SEC + frac;
            if (parse_len(c1 + 1, c2, &r.input)) {
                ifb_trace_free(t);
                return row_err(e, t, line, "ContextTokens", "a whole number of tokens", c1 + 1, c2);
            }
            if (parse_len(c2 + 1, le, &r.output)) {
                ifb_trace_free(t);
                return row_err(e, t, line, "GeneratedTokens", "a whole number of tokens", c2 + 1,
                               le);
            }
        } else {
            const char *a = s, *b = le;
            while (a < b && (*a == ' ' || *a == '\t'))
                a++;
            while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
                b--;
            if (a == b || *a != '{' || b[-1] != '}') {
                ifb_trace_free(t);
                return row_err(e, t, line, "row", "a JSON object on one line", s, le);
            }
            static const char *const keys[3] = {"timestamp", "input_length", "output_length"};
            double v[3];
            for (int k = 0; k < 3; k++) {
                const char *f = json_field(a, b, keys[k]), *te;
                if (!f) {
                    ifb_trace_free(t);
                    char exp[64];
                    snprintf(exp, sizeof exp, "a \"%s\" field", keys[k]);
                    return row_err(e, t, line, keys[k], exp, s, le);
                }
                if (json_number(f, b, &v[k], &te, k > 0)) {
                    ifb_trace_free(t);
                    return row_err(e, t, line, keys[k],
                                   k ? "a whole number of tokens" : "milliseconds (>= 0)", f,
                                   te > f ? te : b);
                }
            }
            if (v[0] >= (double)max_span_s * 1000) {
                ifb_trace_free(t);
                return row_err(e, t, line, "timestamp", "milliseconds below 10^10", s, le);
            }
            at = (ifb_time)(v[0] * (double)IFB_MS + 0.5);
            r.input = (int64_t)v[1];
            r.output = (int64_t)v[2];
        }
        if (r.input < 1 || r.output < 1) {
            ifb_trace_free(t);
            const char *col = fmt == IFB_TRACE_AZURE
                                  ? (r.input < 1 ? "ContextTokens" : "GeneratedTokens")
                                  : (r.input < 1 ? "input_length" : "output_length");
            return row_err(e, t, line, col, "at least 1 token", s, le);
        }
        if (t->n == 0)
            first = prev = at;
        if (at < prev) {
            ifb_trace_free(t);
            return row_err(e, t, line, fmt == IFB_TRACE_AZURE ? "TIMESTAMP" : "timestamp",
                           "times that do not go backwards", s, le);
        }
        prev = at;
        r.arrival = at - first;
        push_row(t, &cap, r);
        s = next;
    }
    if (t->n == 0) {
        ifb_err_set(e, t->name, (int)line, "rows", "at least one request", "none");
        ifb_trace_free(t);
        return -1;
    }
    return 0;
}

int ifb_trace_load(ifb_trace *t, const char *path, ifb_trace_format fmt, size_t max_rows,
                   ifb_err *e)
{
    memset(t, 0, sizeof *t);
    FILE *f = fopen(path, "rb");
    if (!f)
        return ifb_err_msg(e, "cannot open trace %s: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    if (!buf)
        abort();
    for (;;) {
        if (n + 1 >= cap) {
            cap *= 2;
            char *nb = realloc(buf, cap);
            if (!nb)
                abort();
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    int err = ferror(f);
    fclose(f);
    if (err) {
        free(buf);
        return ifb_err_msg(e, "cannot read trace %s", path);
    }
    buf[n] = 0;
    if (memchr(buf, 0, n)) {
        free(buf);
        return ifb_err_set(e, path, 0, "trace", "a text file", "a NUL byte");
    }
    int rc = ifb_trace_load_string(t, buf, path, fmt, max_rows, e);
    free(buf);
    return rc;
}
