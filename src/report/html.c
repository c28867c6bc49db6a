/* Self-contained HTML report writer (see html.h). Text goes through ifb_xml_escape; the only
 * state is the list of ids written (to refuse duplicates) and the open figure's caption. */
#include "report/html.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "report/svg.h"

/* Kept short and without '<' or '&' so the document stays well-formed XML. */
static const char CSS[] =
    "body{font-family:sans-serif;max-width:62rem;margin:2rem auto;padding:0 1rem;color:#222;"
    "line-height:1.45}\n"
    "h1{font-size:1.6rem}\n"
    "h2{font-size:1.3rem;margin-top:2.2rem;border-bottom:1px solid #ddd}\n"
    "h3{font-size:1.1rem;margin-top:1.6rem}\n"
    "table{border-collapse:collapse;margin:1rem 0;font-size:.9rem}\n"
    "th,td{border:1px solid #ccc;padding:.25rem .55rem;text-align:left;vertical-align:top}\n"
    "th{background:#f2f2f2}\n"
    "td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
    "caption{caption-side:top;text-align:left;font-weight:bold;padding:.3rem 0}\n"
    "figure{margin:1.5rem 0}\n"
    "figure svg{display:block;max-width:100%;height:auto;border:1px solid #eee}\n"
    "figcaption{font-size:.9rem;color:#444;margin-top:.4rem;max-width:720px}\n";

static int fail(ifb_html *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(ifb_html *h, const char *fmt, ...)
{
    if (!h->error[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(h->error, sizeof h->error, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Checks the writer can take another element; figure-level content is allowed only when
 * `in_fig` matches (nothing but the SVG goes inside a figure). */
static int ready(ifb_html *h, const char *what)
{
    if (h->error[0])
        return -1;
    if (!h->f)
        return fail(h, "%s: the report was not begun", what);
    if (h->ended)
        return fail(h, "%s: the report was already ended", what);
    if (h->in_figure)
        return fail(h, "%s: inside an open figure", what);
    return 0;
}

static bool valid_id(const char *id)
{
    if (!id || !((id[0] >= 'a' && id[0] <= 'z') || (id[0] >= 'A' && id[0] <= 'Z')))
        return false;
    for (const char *p = id; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    return strlen(id) <= 100;
}

/* Records a new id; refuses invalid and duplicate ones. */
static int claim_id(ifb_html *h, const char *id, const char *what)
{
    if (!valid_id(id))
        return fail(h, "%s: id '%.60s' is not a letter followed by letters, digits, '-' or '_'",
                    what, id ? id : "(null)");
    for (size_t i = 0; i < h->nids; i++)
        if (strcmp(h->ids[i], id) == 0)
            return fail(h, "%s: id '%s' is used twice", what, id);
    h->ids = ifb_xgrow(h->ids, &h->cap, h->nids, sizeof *h->ids, 16, "the report's ids");
    h->ids[h->nids++] = ifb_xstrdup(id, "a report id");
    return 0;
}

static int io(ifb_html *h)
{
    if (ferror(h->f))
        return fail(h, "writing the HTML report: output error");
    return 0;
}

int ifb_html_begin(ifb_html *h, FILE *f, const char *title)
{
    memset(h, 0, sizeof *h);
    if (!f)
        return fail(h, "ifb_html_begin: no output file");
    h->f = f;
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\" />\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\" />\n<title>",
          f);
    ifb_xml_escape(f, title);
    fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<h1>", CSS);
    ifb_xml_escape(f, title);
    fputs("</h1>\n", f);
    return io(h);
}

int ifb_html_heading(ifb_html *h, int level, const char *id, const char *text)
{
    if (ready(h, "heading") < 0)
        return -1;
    if (level != 2 && level != 3)
        return fail(h, "heading: level %d, expected 2 or 3", level);
    if (id && claim_id(h, id, "heading") < 0)
        return -1;
    fprintf(h->f, "<h%d", level);
    if (id)
        fprintf(h->f, " id=\"%s\"", id);
    fputc('>', h->f);
    ifb_xml_escape(h->f, text);
    fprintf(h->f, "</h%d>\n", level);
    return io(h);
}

/* Writes s[0..n) escaped (ifb_xml_escape takes a terminated string, so copy in chunks). */
static void escape_n(FILE *f, const char *s, size_t n)
{
    char buf[512];
    while (n > 0) {
        size_t k = n < sizeof buf - 1 ? n : sizeof buf - 1;
        /* do not split a UTF-8 sequence across chunks: back up to a lead byte */
        if (k < n)
            while (k > 1 && ((unsigned char)s[k] & 0xC0) == 0x80)
                k--;
        memcpy(buf, s, k);
        buf[k] = '\0';
        ifb_xml_escape(f, buf);
        s += k;
        n -= k;
    }
}

int ifb_html_para(ifb_html *h, const char *text)
{
    if (ready(h, "paragraph") < 0)
        return -1;
    const char *p = text ? text : "";
    while (*p) {
        while (*p == '\n')
            p++; /* leading or extra blank lines */
        if (!*p)
            break;
        const char *end = strstr(p, "\n\n");
        size_t n = end ? (size_t)(end - p) : strlen(p);
        while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == ' '))
            n--;
        fputs("<p>", h->f);
        escape_n(h->f, p, n);
        fputs("</p>\n", h->f);
        p = end ? end + 2 : p + strlen(p);
    }
    return io(h);
}

int ifb_html_list(ifb_html *h, const char *const *items, size_t n)
{
    if (ready(h, "list") < 0)
        return -1;
    if (n && !items)
        return fail(h, "list: NULL items with n = %zu", n);
    fputs("<ul>\n", h->f);
    for (size_t i = 0; i < n; i++) {
        fputs("<li>", h->f);
        ifb_xml_escape(h->f, items[i]);
        fputs("</li>\n", h->f);
    }
    fputs("</ul>\n", h->f);
    return io(h);
}

int ifb_html_links(ifb_html *h, const char *const *hrefs, const char *const *labels, size_t n)
{
    if (ready(h, "links") < 0)
        return -1;
    if (n && !hrefs)
        return fail(h, "links: NULL hrefs with n = %zu", n);
    for (size_t i = 0; i < n; i++) {
        const char *u = hrefs[i] ? hrefs[i] : "";
        /* a relative file name or a web page (a citation); never a script or data URL.
         * Links are only followed when clicked, so the page still loads nothing. */
        bool web = strncmp(u, "https://", 8) == 0 || strncmp(u, "http://", 7) == 0;
        if (!web && (strchr(u, ':') || strncmp(u, "//", 2) == 0))
            return fail(h, "links: href '%.80s' is neither a relative file name nor http(s)", u);
    }
    fputs("<ul class=\"files\">\n", h->f);
    for (size_t i = 0; i < n; i++) {
        fputs("<li><a href=\"", h->f);
        ifb_xml_escape(h->f, hrefs[i]);
        fputs("\">", h->f);
        ifb_xml_escape(h->f, labels && labels[i] ? labels[i] : hrefs[i]);
        fputs("</a></li>\n", h->f);
    }
    fputs("</ul>\n", h->f);
    return io(h);
}

/* "12", "-3.5e-6", "+27.5%", "1,234" read as numbers; words and empty cells do not. The check
 * is by characters (no strtod), so it never depends on the locale. */
static bool looks_numeric(const char *s)
{
    if (!s)
        return false;
    bool digit = false;
    for (const char *p = s; *p; p++) {
        if (*p >= '0' && *p <= '9')
            digit = true;
        else if (!strchr("+-.,eE%x", *p))
            return false;
    }
    return digit;
}

int ifb_html_table(ifb_html *h, const char *id, const char *caption, const char *const *header,
                   size_t ncols, const char *const *cells, size_t nrows)
{
    if (ready(h, "table") < 0)
        return -1;
    if (nrows && ncols && !cells)
        return fail(h, "table: NULL cells with %zu x %zu", nrows, ncols);
    if (id && claim_id(h, id, "table") < 0)
        return -1;
    fputs("<table", h->f);
    if (id)
        fprintf(h->f, " id=\"%s\"", id);
    fputs(">\n", h->f);
    if (caption) {
        fputs("<caption>", h->f);
        ifb_xml_escape(h->f, caption);
        fputs("</caption>\n", h->f);
    }
    if (header && ncols) {
        fputs("<thead><tr>", h->f);
        for (size_t c = 0; c < ncols; c++) {
            fputs("<th>", h->f);
            ifb_xml_escape(h->f, header[c]);
            fputs("</th>", h->f);
        }
        fputs("</tr></thead>\n", h->f);
    }
    fputs("<tbody>\n", h->f);
    for (size_t r = 0; r < nrows && ncols; r++) {
        fputs("<tr>", h->f);
        for (size_t c = 0; c < ncols; c++) {
            const char *s = cells[r * ncols + c];
            fputs(looks_numeric(s) ? "<td class=\"n\">" : "<td>", h->f);
            ifb_xml_escape(h->f, s);
            fputs("</td>", h->f);
        }
        fputs("</tr>\n", h->f);
    }
    fputs("</tbody>\n</table>\n", h->f);
    return io(h);
}

int ifb_html_figure_begin(ifb_html *h, const char *id, const char *caption)
{
    if (ready(h, "figure") < 0)
        return -1;
    if (claim_id(h, id, "figure") < 0)
        return -1;
    if (caption) {
        h->caption = ifb_xstrdup(caption, "a figure caption");
    }
    h->in_figure = 1;
    fprintf(h->f, "<figure id=\"%s\">\n", id);
    return io(h);
}

int ifb_html_figure_end(ifb_html *h)
{
    if (h->error[0])
        return -1;
    if (!h->f || h->ended || !h->in_figure)
        return fail(h, "figure end: no figure is open");
    h->in_figure = 0;
    if (h->caption) {
        fputs("<figcaption>", h->f);
        ifb_xml_escape(h->f, h->caption);
        fputs("</figcaption>\n", h->f);
        free(h->caption);
        h->caption = NULL;
    }
    fputs("</figure>\n", h->f);
    return io(h);
}

int ifb_html_end(ifb_html *h, ifb_err *err)
{
    if (!h->error[0]) {
        if (h->in_figure)
            fail(h, "end: figure '%s' is still open", h->nids ? h->ids[h->nids - 1] : "");
        else if (h->ended)
            fail(h, "end: the report was already ended");
        else if (h->f) {
            fputs("</body>\n</html>\n", h->f);
            io(h);
        }
    }
    h->ended = 1;
    for (size_t i = 0; i < h->nids; i++)
        free(h->ids[i]);
    free(h->ids);
    free(h->caption);
    h->ids = NULL;
    h->caption = NULL;
    h->nids = h->cap = 0;
    if (h->error[0])
        return ifb_err_msg(err, "%s", h->error);
    return 0;
}
