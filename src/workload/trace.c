/* Trace readers for the Azure CSV and Mooncake JSONL request traces (see trace.h). Rows are
 * parsed by hand (no JSON library per line) because the traces have tens of thousands of rows
 * and only three fields matter; anything that does not look exactly like the schema is an
 * error naming the row. A file is read line by line through a fixed buffer: a line longer than
 * IFB_TRACE_MAX_LINE, a NUL byte or more than IFB_TRACE_MAX_ROWS rows stop the load with the
 * file and line named, so an endless or binary file (/dev/zero) costs 64 KiB, not all memory. */
#include "workload/trace.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

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
    free(t->hashes);
    t->rows = NULL;
    t->hashes = NULL;
    t->n = t->nhashes = 0;
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

static int parse_digits(const char **p, const char *end, int n, int64_t *out)
{
    int64_t v = 0;
    if (end - *p < n)
        return -1;
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
    if (end - p < 19 || parse_digits(&p, end, 4, &y) || *p++ != '-' ||
        parse_digits(&p, end, 2, &mo) || *p++ != '-' || parse_digits(&p, end, 2, &d) ||
        (*p != ' ' && *p != 'T'))
        return -1;
    p++;
    if (parse_digits(&p, end, 2, &h) || *p++ != ':' || parse_digits(&p, end, 2, &mi) ||
        *p++ != ':' || parse_digits(&p, end, 2, &se))
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

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static void trim(const char **s, const char **end)
{
    while (*s < *end && is_blank(**s))
        (*s)++;
    while (*end > *s && (is_blank((*end)[-1]) || (*end)[-1] == '\r'))
        (*end)--;
}

/* A whole number of tokens: digits only, at most 12 of them (a trillion tokens is no request). */
static int parse_len(const char *s, const char *end, int64_t *out)
{
    trim(&s, &end);
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

/* The token s..end as found (blanks around it trimmed), cut at 80 characters with "...". */
static int row_err(ifb_err *e, const ifb_trace *t, long line, const char *col, const char *exp,
                   const char *s, const char *end)
{
    trim(&s, &end);
    int len = (int)(end - s), cut = len > 80;
    return ifb_err_set(e, t->name, (int)line, col, exp, "'%.*s'%s (row %ld)", cut ? 80 : len, s,
                       cut ? "..." : "", line);
}

/* ---- Mooncake rows: one JSON object per line ----------------------------------------------- */

/* End of the JSON string starting at p (at its opening quote): past the closing quote, or NULL
 * when the line ends first. */
static const char *json_string_end(const char *p, const char *end)
{
    for (p++; p < end; p++) {
        if (*p == '\\') {
            p++;
            continue;
        }
        if (*p == '"')
            return p + 1;
    }
    return NULL;
}

/* End of the JSON value starting at p: a string, an array or object (nesting and strings
 * inside skipped), or a bare token (number, true, false, null) up to the next , } ] or blank.
 * NULL when the line ends inside it. */
static const char *json_value_end(const char *p, const char *end)
{
    if (p >= end)
        return NULL;
    if (*p == '"')
        return json_string_end(p, end);
    if (*p == '[' || *p == '{') {
        int depth = 0;
        while (p < end) {
            if (*p == '"') {
                p = json_string_end(p, end);
                if (!p)
                    return NULL;
                continue;
            }
            if (*p == '[' || *p == '{')
                depth++;
            else if (*p == ']' || *p == '}') {
                if (--depth == 0)
                    return p + 1;
            }
            p++;
        }
        return NULL;
    }
    while (p < end && *p != ',' && *p != '}' && *p != ']' && !is_blank(*p))
        p++;
    return p;
}

/* A JSON number s..end: digits with an optional fraction and exponent (integer: digits only),
 * >= 0 and below 9e15. */
static int json_number(const char *s, const char *end, int integer, double *out)
{
    const char *p = s;
    while (p < end && isdigit((unsigned char)*p))
        p++;
    if (p == s)
        return -1;
    if (!integer) {
        if (p < end && *p == '.') {
            const char *q = ++p;
            while (p < end && isdigit((unsigned char)*p))
                p++;
            if (p == q)
                return -1;
        }
        if (p < end && (*p == 'e' || *p == 'E')) {
            p++;
            if (p < end && (*p == '+' || *p == '-'))
                p++;
            const char *q = p;
            while (p < end && isdigit((unsigned char)*p))
                p++;
            if (p == q)
                return -1;
        }
    }
    char buf[48];
    size_t n = (size_t)(end - s);
    if (p != end || n >= sizeof buf)
        return -1;
    memcpy(buf, s, n);
    buf[n] = 0;
    char *ep;
    errno = 0;
    double v = strtod(buf, &ep);
    if (*ep || errno || !(v >= 0) || v > 9e15)
        return -1;
    *out = v;
    return 0;
}

#define MAX_FIELDS 64

typedef struct span {
    const char *s, *end;
} span;

/* The values of timestamp, input_length and output_length of one row (a..b, an object); every
 * key must appear once at most. Returns 0 or -1 after filling e. */
static int mooncake_row(const ifb_trace *t, long line, const char *a, const char *b, double v[3],
                        span *hashes, ifb_err *e)
{
    static const char *const keys[4] = {"timestamp", "input_length", "output_length", "hash_ids"};
    span key[MAX_FIELDS], val[4] = {{NULL, NULL}, {NULL, NULL}, {NULL, NULL}, {NULL, NULL}};
    int nkeys = 0;
    const char *p = a + 1;
    for (;;) {
        while (p < b && is_blank(*p))
            p++;
        if (p < b && *p == '}' && nkeys == 0 && p + 1 == b)
            break; /* {} */
        if (p >= b || *p != '"')
            return row_err(e, t, line, "row", "a JSON object of \"key\": value fields", a, b);
        const char *ke = json_string_end(p, b);
        if (!ke)
            return row_err(e, t, line, "row", "a JSON object of \"key\": value fields", a, b);
        span k = {p + 1, ke - 1};
        for (int i = 0; i < nkeys; i++)
            if (key[i].end - key[i].s == k.end - k.s &&
                !memcmp(key[i].s, k.s, (size_t)(k.end - k.s)))
                return row_err(e, t, line, "row",
                               "every key once per row (a duplicate is ambiguous)", p, ke);
        if (nkeys == MAX_FIELDS)
            return row_err(e, t, line, "row", "at most 64 fields in a row", a, b);
        key[nkeys++] = k;
        p = ke;
        while (p < b && is_blank(*p))
            p++;
        if (p >= b || *p != ':')
            return row_err(e, t, line, "row", "a JSON object of \"key\": value fields", a, b);
        p++;
        while (p < b && is_blank(*p))
            p++;
        const char *ve = json_value_end(p, b);
        if (!ve || ve == p)
            return row_err(e, t, line, "row", "a JSON object of \"key\": value fields", a, b);
        for (int i = 0; i < 4; i++)
            if ((size_t)(k.end - k.s) == strlen(keys[i]) && !memcmp(k.s, keys[i], strlen(keys[i])))
                val[i] = (span){p, ve};
        p = ve;
        while (p < b && is_blank(*p))
            p++;
        if (p < b && *p == ',') {
            p++;
            continue;
        }
        if (p < b && *p == '}' && p + 1 == b)
            break;
        return row_err(e, t, line, "row", "a JSON object of \"key\": value fields", a, b);
    }
    for (int i = 0; i < 3; i++) {
        if (!val[i].s) {
            char exp[64];
            snprintf(exp, sizeof exp, "a \"%s\" field", keys[i]);
            return row_err(e, t, line, keys[i], exp, a, b);
        }
        if (json_number(val[i].s, val[i].end, i > 0, &v[i]))
            return row_err(e, t, line, keys[i],
                           i ? "a whole number of tokens" : "milliseconds (a number >= 0)",
                           val[i].s, val[i].end);
    }
    *hashes = val[3];
    return 0;
}

/* hash_ids: "[" whole numbers "," ... "]" into t->hashes; the row's offset and count. */
static int take_hashes(ifb_trace *t, size_t *cap, long line, span h, int64_t input,
                       ifb_trace_row *r, ifb_err *e)
{
    r->hash_off = (uint32_t)t->nhashes;
    r->nhash = 0;
    if (!h.s)
        return 0;
    const char *p = h.s, *end = h.end;
    const char *want = "an array of whole numbers below 2^53 (block ids)";
    if (p >= end || *p != '[' || end[-1] != ']')
        return row_err(e, t, line, "hash_ids", want, h.s, h.end);
    p++;
    end--;
    for (;;) {
        while (p < end && is_blank(*p))
            p++;
        if (p == end)
            break;
        const char *q = p;
        while (q < end && *q != ',' && !is_blank(*q))
            q++;
        double v;
        if (json_number(p, q, 1, &v) || v >= 9007199254740992.0)
            return row_err(e, t, line, "hash_ids", want, p, q);
        if (t->nhashes >= UINT32_MAX)
            return row_err(e, t, line, "hash_ids", "fewer than 2^32 block ids in a trace", p, q);
        t->hashes =
            ifb_xgrow(t->hashes, cap, t->nhashes, sizeof *t->hashes, 4096, "the trace's block ids");
        t->hashes[t->nhashes++] = (uint64_t)v;
        r->nhash++;
        p = q;
        while (p < end && is_blank(*p))
            p++;
        if (p < end && *p == ',') {
            p++;
            continue;
        }
        if (p != end)
            return row_err(e, t, line, "hash_ids", want, h.s, h.end);
    }
    /* a block per started 512 tokens at most: more ids than that name blocks it lacks */
    if ((int64_t)r->nhash > (input + 511) / 512)
        return row_err(e, t, line, "hash_ids",
                       "at most one id per 512 tokens of input_length (started blocks)", h.s,
                       h.end);
    return 0;
}

/* ---- Rows of either format ------------------------------------------------------------------ */

typedef struct loader {
    ifb_trace *t;
    ifb_trace_format fmt; /* AUTO until the first non-blank line */
    size_t max_rows, cap, hcap;
    int header; /* Azure: the header line is still to come */
    ifb_time first, prev;
    int64_t sec0;
} loader;

/* Relative times must stay within ifb_time's range with a margin: 10^7 s (115 days). */
static const int64_t max_span_s = 10000000;

/* One line (without its newline). Returns 0, 1 when max_rows rows are in, -1 on an error. */
static int take_line(loader *L, const char *s, size_t n, long line, ifb_err *e)
{
    ifb_trace *t = L->t;
    const char *le = s + n;
    if (memchr(s, 0, n))
        return ifb_err_set(e, t->name, (int)line, "trace", "a text file", "a NUL byte (row %ld)",
                           line);
    if (line == 1 && n >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3))
        s += 3; /* a UTF-8 byte order mark, as spreadsheet programs write */
    if (le > s && le[-1] == '\r')
        le--;
    const char *a = s, *b = le;
    trim(&a, &b);
    if (a == b) /* blank line */
        return 0;
    if (L->fmt == IFB_TRACE_AUTO) {
        L->fmt = *a == '{' ? IFB_TRACE_MOONCAKE : IFB_TRACE_AZURE;
        t->format = L->fmt;
        L->header = L->fmt == IFB_TRACE_AZURE;
    }
    ifb_trace_row r = {0};
    ifb_time at;
    if (L->fmt == IFB_TRACE_AZURE) {
        if (L->header) {
            L->header = 0;
            const char *h = "TIMESTAMP,ContextTokens,GeneratedTokens";
            if ((size_t)(le - s) != strlen(h) || strncmp(s, h, strlen(h)))
                return row_err(e, t, line, "header",
                               "the Azure header TIMESTAMP,ContextTokens,GeneratedTokens", s, le);
            return 0;
        }
        const char *c1 = memchr(s, ',', (size_t)(le - s));
        const char *c2 = c1 ? memchr(c1 + 1, ',', (size_t)(le - c1 - 1)) : NULL;
        if (!c1 || !c2 || memchr(c2 + 1, ',', (size_t)(le - c2 - 1)))
            return row_err(e, t, line, "row", "3 comma-separated columns", s, le);
        int64_t sec;
        ifb_time frac;
        if (parse_datetime(s, c1, &sec, &frac))
            return row_err(e, t, line, "TIMESTAMP", "a time like 2023-11-16 18:17:03.97", s, c1);
        if (t->n == 0)
            L->sec0 = sec;
        if (sec < L->sec0 || sec - L->sec0 >= max_span_s)
            return row_err(e, t, line, "TIMESTAMP",
                           sec < L->sec0 ? "times that do not go backwards"
                                         : "times within 10^7 s of the first row",
                           s, c1);
        at = (ifb_time)(sec - L->sec0) * IFB_SEC + frac;
        if (parse_len(c1 + 1, c2, &r.input))
            return row_err(e, t, line, "ContextTokens", "a whole number of tokens", c1 + 1, c2);
        if (parse_len(c2 + 1, le, &r.output))
            return row_err(e, t, line, "GeneratedTokens", "a whole number of tokens", c2 + 1, le);
    } else {
        if (*a != '{' || b[-1] != '}')
            return row_err(e, t, line, "row", "a JSON object on one line", s, le);
        double v[3];
        span hs;
        if (mooncake_row(t, line, a, b, v, &hs, e))
            return -1;
        if (v[0] >= (double)max_span_s * 1000)
            return row_err(e, t, line, "timestamp", "milliseconds below 10^10", s, le);
        at = (ifb_time)(v[0] * (double)IFB_MS + 0.5);
        r.input = (int64_t)v[1];
        r.output = (int64_t)v[2];
        size_t h0 = t->nhashes;
        if (r.input >= 1 && take_hashes(t, &L->hcap, line, hs, r.input, &r, e)) {
            t->nhashes = h0;
            return -1;
        }
    }
    if (r.input < 1 || r.output < 1) {
        const char *col = L->fmt == IFB_TRACE_AZURE
                              ? (r.input < 1 ? "ContextTokens" : "GeneratedTokens")
                              : (r.input < 1 ? "input_length" : "output_length");
        return row_err(e, t, line, col, "at least 1 token", s, le);
    }
    if (t->n == 0)
        L->first = L->prev = at;
    if (at < L->prev)
        return row_err(e, t, line, L->fmt == IFB_TRACE_AZURE ? "TIMESTAMP" : "timestamp",
                       "times that do not go backwards", s, le);
    if (t->n == IFB_TRACE_MAX_ROWS)
        return ifb_err_set(e, t->name, (int)line, "rows", "at most 10000000 requests",
                           "more (row %ld)", line);
    L->prev = at;
    r.arrival = at - L->first;
    t->rows = ifb_xgrow(t->rows, &L->cap, t->n, sizeof *t->rows, 1024, "the trace's rows");
    t->rows[t->n++] = r;
    return L->max_rows && t->n >= L->max_rows;
}

static void start(loader *L, ifb_trace *t, const char *name, ifb_trace_format fmt, size_t max_rows)
{
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name ? name : "<trace>");
    memset(L, 0, sizeof *L);
    L->t = t;
    L->fmt = fmt;
    L->max_rows = max_rows;
    t->format = fmt;
    L->header = fmt == IFB_TRACE_AZURE;
}

/* After the last line: at least one row, and a concrete format. */
static int finish(loader *L, long line, ifb_err *e)
{
    ifb_trace *t = L->t;
    if (t->n == 0) {
        ifb_err_set(e, t->name, (int)line, "rows", "at least one request", "none");
        ifb_trace_free(t);
        return -1;
    }
    return 0;
}

static int too_long(ifb_trace *t, long line, ifb_err *e)
{
    ifb_trace_free(t);
    return ifb_err_set(e, t->name, (int)line, "row", "a line of at most 65536 bytes",
                       "a longer one (row %ld; a binary or endless file?)", line);
}

int ifb_trace_load_string(ifb_trace *t, const char *text, const char *name, ifb_trace_format fmt,
                          size_t max_rows, ifb_err *e)
{
    loader L;
    start(&L, t, name, fmt, max_rows);
    long line = 0;
    for (const char *s = text; *s;) {
        const char *nl = strchr(s, '\n');
        size_t n = nl ? (size_t)(nl - s) : strlen(s);
        line++;
        if (n > IFB_TRACE_MAX_LINE)
            return too_long(t, line, e);
        int rc = take_line(&L, s, n, line, e);
        if (rc < 0) {
            ifb_trace_free(t);
            return -1;
        }
        if (rc > 0 || !nl)
            break;
        s = nl + 1;
    }
    return finish(&L, line, e);
}

int ifb_trace_load(ifb_trace *t, const char *path, ifb_trace_format fmt, size_t max_rows,
                   ifb_err *e)
{
    loader L;
    start(&L, t, path, fmt, max_rows);
    FILE *f = fopen(path, "rb");
    if (!f)
        return ifb_err_msg(e, "cannot open trace %s: %s", path, strerror(errno));
    /* one line at a time: `line` holds at most IFB_TRACE_MAX_LINE bytes, `buf` what fread
     * brought in beyond it */
    enum { BUF = 1 << 16 };
    char *line = ifb_xmalloc(IFB_TRACE_MAX_LINE + 1, "a trace line");
    char *buf = ifb_xmalloc(BUF, "a trace read buffer");
    size_t pos = 0, len = 0, n = 0;
    long lineno = 0;
    int rc = 0, eof = 0;
    while (rc == 0) {
        if (pos == len && !eof) {
            len = fread(buf, 1, BUF, f);
            pos = 0;
            if (len == 0) {
                eof = 1;
                if (ferror(f)) {
                    rc = ifb_err_msg(e, "cannot read trace %s: %s", path, strerror(errno));
                    break;
                }
            }
        }
        const char *nl = pos < len ? memchr(buf + pos, '\n', len - pos) : NULL;
        size_t take = nl ? (size_t)(nl - (buf + pos)) : len - pos;
        if (n + take > IFB_TRACE_MAX_LINE) {
            rc = too_long(t, lineno + 1, e);
            break;
        }
        memcpy(line + n, buf + pos, take);
        n += take;
        pos += take + (nl ? 1 : 0);
        if (!nl && !eof)
            continue; /* the line goes on in the next read */
        if (!nl && n == 0)
            break; /* end of file right after a newline */
        lineno++;
        rc = take_line(&L, line, n, lineno, e);
        n = 0;
        if (rc > 0 || (!nl && eof))
            break;
    }
    free(line);
    free(buf);
    fclose(f);
    if (rc < 0) {
        ifb_trace_free(t);
        return -1;
    }
    return finish(&L, lineno, e);
}
