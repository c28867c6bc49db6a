/* A self-contained HTML report writer: title, headings, paragraphs of plain text, bullet lists,
 * tables, links to the data files next to the report, and figures that hold inline SVG (written
 * by the caller between ifb_html_figure_begin and ifb_html_figure_end, e.g. with report/svg.h).
 * The page loads nothing: no scripts, no external CSS, fonts or images; a few lines of embedded
 * CSS only. All text is escaped (report/svg.h ifb_xml_escape), and the markup is also
 * well-formed XML (every element closed, void elements written as <meta ... />), so simple XML
 * tools can check it. Output is a pure function of the calls (no dates, no paths).
 * Errors are sticky, as in the JSON writer: misuse (a bad or duplicate id, a figure not closed,
 * a heading level out of range) makes later calls write nothing and return -1, and
 * ifb_html_end reports the first error. The caller opens the FILE, normally through ifb_ofile
 * so the report appears atomically, and commits it after ifb_html_end.
 * Left out: nested sections, rich text inside paragraphs (links, emphasis), table styling per
 * cell beyond right-aligning cells that look like numbers. */
#ifndef IFB_HTML_H
#define IFB_HTML_H
#include <stddef.h>
#include <stdio.h>

#include "core/err.h"

typedef struct ifb_html {
    FILE *f;    /* write the figure's SVG here between figure_begin and figure_end */
    char **ids; /* every id written so far, to refuse duplicates */
    size_t nids, cap;
    char *caption; /* of the open figure, written at figure_end */
    int in_figure;
    int ended;
    char error[200];
} ifb_html;

/* Writes the document head (charset, viewport, title, embedded CSS) and an <h1> with title.
 * Returns 0 or -1 (sticky error, see above). */
int ifb_html_begin(ifb_html *h, FILE *f, const char *title);
/* <h2> (level 2) or <h3> (level 3) with optional id (NULL for none). */
int ifb_html_heading(ifb_html *h, int level, const char *id, const char *text);
/* Plain text; blank lines ("\n\n") separate paragraphs, single newlines stay spaces. */
int ifb_html_para(ifb_html *h, const char *text);
/* Bullet list of plain-text items. */
int ifb_html_list(ifb_html *h, const char *const *items, size_t n);
/* Bullet list of links: files next to the report (relative hrefs such as "summary.json") or
 * web pages (http:// or https://, e.g. a cited datasheet). Other schemes (javascript:, data:,
 * file:) are refused. Links are written as given, escaped, and the page does not load them.
 * labels may be NULL (the href is shown). */
int ifb_html_links(ifb_html *h, const char *const *hrefs, const char *const *labels, size_t n);
/* Table with an optional id and caption (NULL for none): header has ncols names (may be
 * NULL for no header row), cells holds nrows * ncols strings row-major (NULL prints empty).
 * Cells that look like numbers ("12.5", "-3e-6", "+27.5%") are right-aligned. */
int ifb_html_table(ifb_html *h, const char *id, const char *caption, const char *const *header,
                   size_t ncols, const char *const *cells, size_t nrows);
/* Opens <figure id="ID">. id is required: a letter, then letters, digits, '-' or '_', and
 * unique within the document (e.g. "fig-tgr"). The caption (may be NULL) is copied and
 * written as <figcaption> by figure_end. Write one SVG chart to h->f in between. */
int ifb_html_figure_begin(ifb_html *h, const char *id, const char *caption);
int ifb_html_figure_end(ifb_html *h);
/* Closes the document, checks that nothing failed (including FILE errors) and frees the
 * writer's memory. Returns 0 or -1 with err. Call it once after every ifb_html_begin, also
 * when something failed, so memory is freed. Does not close the FILE. */
int ifb_html_end(ifb_html *h, ifb_err *err);

#endif
