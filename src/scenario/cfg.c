/* Configuration tree (see cfg.h): libyaml events are turned into a small tree of nodes that
 * keep file and line; getters walk dotted paths, parse units with exact integer arithmetic
 * (no floating point, so 2.5us is exactly 2500000 ps on every machine) and mark what they
 * read so unread keys can be reported. Left out: anchors, aliases, merge keys, several
 * documents per file, non-scalar keys (all rejected), tags (ignored). */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/alloc.h"
#include "scenario/cfg.h"
#include "scenario/cfg_int.h"

const char ifb_cfgi_set_file[] = "--set";

/* ---- Nodes ---------------------------------------------------------------------------------- */

node *ifb_cfgi_node_new(ifb_cfg_kind kind, const char *file, int line)
{
    node *n = ifb_xcalloc(1, sizeof *n, "a settings node");
    n->kind = kind;
    n->file = file;
    n->line = line;
    return n;
}

void ifb_cfgi_node_free(node *n)
{
    if (!n)
        return;
    for (int i = 0; i < n->n; i++)
        ifb_cfgi_node_free(n->kids[i]);
    for (int i = 0; i < n->nknown; i++)
        free(n->known[i]);
    free(n->kids);
    free(n->known);
    free(n->key);
    free(n->text);
    free(n);
}

void ifb_cfgi_node_append(node *parent, node *kid)
{
    if (parent->n == parent->cap) {
        int cap = parent->cap ? parent->cap * 2 : 4;
        parent->kids =
            ifb_xrealloc(parent->kids, (size_t)cap, sizeof *parent->kids, "a settings map or list");
        parent->cap = cap;
    }
    parent->kids[parent->n++] = kid;
}

node *ifb_cfgi_map_find(const node *m, const char *key, size_t klen)
{
    for (int i = 0; i < m->n; i++)
        if (strlen(m->kids[i]->key) == klen && memcmp(m->kids[i]->key, key, klen) == 0)
            return m->kids[i];
    return NULL;
}

/* Remembers that the program asked for `key` in map m (for suggestions). */
void ifb_cfgi_note_known(node *m, const char *key, size_t klen)
{
    for (int i = 0; i < m->nknown; i++)
        if (strlen(m->known[i]) == klen && memcmp(m->known[i], key, klen) == 0)
            return;
    if (m->nknown == m->capknown) {
        int cap = m->capknown ? m->capknown * 2 : 4;
        m->known = ifb_xrealloc(m->known, (size_t)cap, sizeof *m->known, "known settings keys");
        m->capknown = cap;
    }
    m->known[m->nknown++] = ifb_xstrndup(key, klen, "a known settings key");
}

void ifb_cfgi_mark_tree(node *n)
{
    n->used = true;
    for (int i = 0; i < n->n; i++)
        ifb_cfgi_mark_tree(n->kids[i]);
}

bool ifb_cfgi_is_null(const node *n)
{
    if (n->kind != IFB_CFG_SCALAR || !n->plain)
        return false;
    const char *t = n->text;
    return !*t || !strcmp(t, "~") || !strcmp(t, "null") || !strcmp(t, "Null") || !strcmp(t, "NULL");
}

/* What the user wrote, for the "found" part of messages. */
void ifb_cfgi_describe(const node *n, char *buf, size_t cap)
{
    if (n->kind == IFB_CFG_MAP)
        snprintf(buf, cap, "a map");
    else if (n->kind == IFB_CFG_SEQ)
        snprintf(buf, cap, "a sequence");
    else if (ifb_cfgi_is_null(n))
        snprintf(buf, cap, "an empty value");
    else if (strlen(n->text) > SHOW_CAP)
        snprintf(buf, cap, "'%.*s...'", (int)SHOW_CAP, n->text);
    else
        snprintf(buf, cap, "'%s'", n->text);
}

/* Collections are reported at their key ("fabric:" line) rather than at their first entry. */
int ifb_cfgi_node_line(const node *n)
{
    if (n->kind != IFB_CFG_SCALAR && n->key_line > 0)
        return n->key_line;
    return n->line;
}

/* All messages about a node go through here so --set nodes read "--set key.path: ...". */
int ifb_cfgi_verr_at(ifb_err *e, const char *file, int line, const char *path, const char *expected,
                     const char *fmt, va_list ap)
{
    char found[700];
    vsnprintf(found, sizeof found, fmt, ap);
    if (file == ifb_cfgi_set_file) {
        char key[PATH_CAP + 8];
        snprintf(key, sizeof key, "--set %s", path ? path : "");
        return ifb_err_set(e, NULL, 0, key, expected, "%s", found);
    }
    return ifb_err_set(e, file, line, path && *path ? path : NULL, expected, "%s", found);
}

int ifb_cfgi_err_at(ifb_err *e, const char *file, int line, const char *path, const char *expected,
                    const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = ifb_cfgi_verr_at(e, file, line, path, expected, fmt, ap);
    va_end(ap);
    return r;
}

int ifb_cfgi_err_node(ifb_err *e, const node *n, const char *path, const char *expected,
                      const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = ifb_cfgi_verr_at(e, n->file, ifb_cfgi_node_line(n), path, expected, fmt, ap);
    va_end(ap);
    return r;
}

/* libyaml allocates with its own malloc calls and reports a failure as an error code: the only
 * out-of-memory case not reported by the allocation wrapper (core/alloc.h). */
static int oom(ifb_err *e)
{
    return ifb_err_msg(e, "out of memory while reading settings");
}

/* ---- Building the tree from libyaml events -------------------------------------------------- */

typedef struct bld {
    yaml_parser_t p;
    const char *file;     /* stored in nodes */
    const char *set_text; /* non-NULL when parsing a --set value */
    const char *text;     /* the input, for hints about the character at an error */
    size_t len;
    ifb_err *e;
    char path[PATH_CAP];
    size_t plen;
    int depth;
} bld;

static size_t path_push(bld *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static size_t path_push(bld *b, const char *fmt, ...)
{
    size_t old = b->plen;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(b->path + old, sizeof b->path - old, fmt, ap);
    va_end(ap);
    b->plen = w < 0 ? old : old + (size_t)w;
    if (b->plen >= sizeof b->path)
        b->plen = sizeof b->path - 1;
    return old;
}

static void path_pop(bld *b, size_t old)
{
    b->plen = old;
    b->path[old] = '\0';
}

static int line_of(const bld *b, yaml_mark_t m)
{
    return b->set_text ? 0 : (int)m.line + 1;
}

static int bld_err(bld *b, int line, const char *expected, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int bld_err(bld *b, int line, const char *expected, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = ifb_cfgi_verr_at(b->e, b->file, line, b->path, expected, fmt, ap);
    va_end(ap);
    return r;
}

static int yaml_fail(bld *b)
{
    yaml_parser_t *p = &b->p;
    const char *prob = p->problem ? p->problem : "unknown problem";
    if (p->error == YAML_MEMORY_ERROR)
        return oom(b->e);
    if (b->set_text)
        return bld_err(b, 0, "a YAML value", "'%s' (%s)", b->set_text, prob);
    if (p->error == YAML_READER_ERROR)
        return ifb_err_set(b->e, b->file, 0, NULL, "UTF-8 text",
                           "invalid input at byte offset %zu (%s)", p->problem_offset, prob);
    char ctx[160] = "";
    if (p->context && p->context_mark.line != p->problem_mark.line)
        snprintf(ctx, sizeof ctx, " (%s that starts at line %d)", p->context,
                 (int)p->context_mark.line + 1);
    else if (p->context)
        snprintf(ctx, sizeof ctx, " (%s)", p->context);
    /* The most common cause of libyaml's "cannot start any token" is a tab. */
    const char *hint = "";
    if (p->problem_mark.index < b->len && b->text[p->problem_mark.index] == '\t')
        hint = "; indent YAML with spaces, not tabs";
    return ifb_err_set(b->e, b->file, (int)p->problem_mark.line + 1, NULL, "valid YAML",
                       "a syntax error at column %d: %s%s%s", (int)p->problem_mark.column + 1, prob,
                       ctx, hint);
}

static int next_event(bld *b, yaml_event_t *ev)
{
    return yaml_parser_parse(&b->p, ev) ? 0 : yaml_fail(b);
}

static int no_anchor(bld *b, const yaml_char_t *anchor, int line)
{
    if (!anchor)
        return 0;
    return bld_err(b, line, "plain values (anchors and aliases are not supported)", "anchor '&%s'",
                   (const char *)anchor);
}

static int build(bld *b, yaml_event_t *ev, node **out);

static int build_seq(bld *b, node *n)
{
    for (;;) {
        yaml_event_t ev;
        if (next_event(b, &ev))
            return -1;
        if (ev.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&ev);
            return 0;
        }
        size_t old = path_push(b, "[%d]", n->n);
        node *kid;
        int r = build(b, &ev, &kid);
        path_pop(b, old);
        if (r)
            return r;
        ifb_cfgi_node_append(n, kid);
    }
}

static int check_key(bld *b, node *m, const yaml_event_t *ev, int line)
{
    if (ev->type == YAML_ALIAS_EVENT)
        return bld_err(b, line, "plain values (anchors and aliases are not supported)",
                       "alias '*%s' used as a key", (const char *)ev->data.alias.anchor);
    if (ev->type != YAML_SCALAR_EVENT)
        return bld_err(b, line, "a plain key such as 'rate:'", "a %s used as a key",
                       ev->type == YAML_MAPPING_START_EVENT ? "map" : "sequence");
    if (no_anchor(b, ev->data.scalar.anchor, line))
        return -1;
    const char *k = (const char *)ev->data.scalar.value;
    size_t klen = ev->data.scalar.length;
    if (klen == 0 || strlen(k) != klen || strpbrk(k, ".[]="))
        return bld_err(b, line,
                       "a non-empty key without '.', '[', ']' or '=' (they separate the parts of "
                       "setting paths)",
                       "key '%s'", k);
    node *dup = ifb_cfgi_map_find(m, k, klen);
    if (dup) {
        size_t old = path_push(b, "%s%s", b->plen ? "." : "", k);
        int r;
        if (dup->file == ifb_cfgi_set_file || dup->key_line == 0)
            r = bld_err(b, line, "each key at most once per map", "'%s' a second time", k);
        else
            r = bld_err(b, line, "each key at most once per map",
                        "'%s' a second time (first at line %d)", k, dup->key_line);
        path_pop(b, old);
        return r;
    }
    return 0;
}

static int build_map(bld *b, node *n)
{
    for (;;) {
        yaml_event_t kev;
        if (next_event(b, &kev))
            return -1;
        if (kev.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&kev);
            return 0;
        }
        int kline = line_of(b, kev.start_mark);
        if (check_key(b, n, &kev, kline)) {
            yaml_event_delete(&kev);
            return -1;
        }
        char *key = ifb_xstrdup((const char *)kev.data.scalar.value, "a settings key");
        yaml_event_delete(&kev);
        yaml_event_t vev;
        if (next_event(b, &vev)) {
            free(key);
            return -1;
        }
        size_t old = path_push(b, "%s%s", b->plen ? "." : "", key);
        node *kid;
        int r = build(b, &vev, &kid);
        path_pop(b, old);
        if (r) {
            free(key);
            return r;
        }
        kid->key = key;
        kid->key_line = kline;
        ifb_cfgi_node_append(n, kid);
    }
}

/* Builds the node that starts with *ev (consumed) and, for collections, the events up to its end.
 */
static int build(bld *b, yaml_event_t *ev, node **out)
{
    *out = NULL;
    int line = line_of(b, ev->start_mark);
    int r = 0;
    node *n = NULL;
    switch (ev->type) {
    case YAML_ALIAS_EVENT:
        r = bld_err(b, line, "plain values (anchors and aliases are not supported)", "alias '*%s'",
                    (const char *)ev->data.alias.anchor);
        break;
    case YAML_SCALAR_EVENT:
        if ((r = no_anchor(b, ev->data.scalar.anchor, line)))
            break;
        n = ifb_cfgi_node_new(IFB_CFG_SCALAR, b->file, line);
        n->text = ifb_xstrndup((const char *)ev->data.scalar.value, ev->data.scalar.length,
                               "a settings value");
        n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        break;
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT: {
        bool seq = ev->type == YAML_SEQUENCE_START_EVENT;
        const yaml_char_t *anchor =
            seq ? ev->data.sequence_start.anchor : ev->data.mapping_start.anchor;
        if ((r = no_anchor(b, anchor, line)))
            break;
        if (b->depth >= MAX_DEPTH) {
            r = bld_err(b, line, "at most 64 levels of nesting", "deeper nesting");
            break;
        }
        n = ifb_cfgi_node_new(seq ? IFB_CFG_SEQ : IFB_CFG_MAP, b->file, line);
        yaml_event_delete(ev);
        b->depth++;
        r = seq ? build_seq(b, n) : build_map(b, n);
        b->depth--;
        if (r) {
            ifb_cfgi_node_free(n);
            return r;
        }
        *out = n;
        return 0;
    }
    default:
        r = bld_err(b, line, "a value", "unexpected YAML event %d", (int)ev->type);
        break;
    }
    yaml_event_delete(ev);
    if (r) {
        ifb_cfgi_node_free(n);
        return r;
    }
    *out = n;
    return 0;
}

/* Parses one whole stream; *root is NULL for an empty stream. */
static int build_stream(bld *b, node **root)
{
    *root = NULL;
    yaml_event_t ev;
    if (next_event(b, &ev)) /* stream start */
        return -1;
    yaml_event_delete(&ev);
    if (next_event(b, &ev))
        return -1;
    if (ev.type == YAML_STREAM_END_EVENT) {
        yaml_event_delete(&ev);
        return 0;
    }
    yaml_event_delete(&ev); /* document start */
    if (next_event(b, &ev) || build(b, &ev, root))
        return -1;
    if (next_event(b, &ev)) /* document end */
        goto fail;
    yaml_event_delete(&ev);
    if (next_event(b, &ev))
        goto fail;
    if (ev.type == YAML_DOCUMENT_START_EVENT) {
        int line = line_of(b, ev.start_mark);
        yaml_event_delete(&ev);
        bld_err(b, line, "a single YAML document", "a second document");
        goto fail;
    }
    yaml_event_delete(&ev);
    return 0;
fail:
    ifb_cfgi_node_free(*root);
    *root = NULL;
    return -1;
}

int ifb_cfgi_parse_text(const char *text, size_t len, const char *file, const char *set_text,
                        const char *set_path, node **root, ifb_err *e)
{
    bld b;
    memset(&b, 0, sizeof b);
    b.file = file;
    b.set_text = set_text;
    b.text = text;
    b.len = len;
    b.e = e;
    if (set_path)
        path_push(&b, "%s", set_path);
    if (!yaml_parser_initialize(&b.p))
        return oom(e);
    yaml_parser_set_input_string(&b.p, (const unsigned char *)text, len);
    int r = build_stream(&b, root);
    yaml_parser_delete(&b.p);
    return r;
}

static ifb_cfg *load(const char *text, size_t len, const char *name, ifb_err *e)
{
    ifb_cfg *c = ifb_xcalloc(1, sizeof *c, "the settings");
    c->name = ifb_xstrdup(name ? name : "<string>", "the settings' file name");
    node *root;
    if (ifb_cfgi_parse_text(text, len, c->name, NULL, NULL, &root, e)) {
        ifb_cfg_free(c);
        return NULL;
    }
    if (root && ifb_cfgi_is_null(root)) {
        ifb_cfgi_node_free(root);
        root = NULL;
    }
    if (!root)
        root = ifb_cfgi_node_new(IFB_CFG_MAP, c->name, 1);
    if (root->kind != IFB_CFG_MAP) {
        char found[SHOW_CAP + 8];
        ifb_cfgi_describe(root, found, sizeof found);
        ifb_cfgi_err_at(e, c->name, root->line, NULL,
                        "a map of settings ('key: value' lines) at the top", "%s", found);
        ifb_cfgi_node_free(root);
        ifb_cfg_free(c);
        return NULL;
    }
    root->used = true;
    c->root = root;
    return c;
}

ifb_cfg *ifb_cfg_load_string(const char *text, const char *name, ifb_err *e)
{
    return load(text ? text : "", text ? strlen(text) : 0, name, e);
}

ifb_cfg *ifb_cfg_load_file(const char *path, ifb_err *e)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        ifb_err_msg(e, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        buf = ifb_xgrow(buf, &cap, len, 1, 8192, "a settings file");
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        int err = errno;
        free(buf);
        fclose(f);
        ifb_err_msg(e, "cannot read %s: %s", path, strerror(err));
        return NULL;
    }
    fclose(f);
    ifb_cfg *c = load(buf, len, path, e);
    free(buf);
    return c;
}

void ifb_cfg_free(ifb_cfg *c)
{
    if (!c)
        return;
    ifb_cfgi_node_free(c->root);
    free(c->name);
    for (size_t i = 0; i < c->nasked; i++)
        free(c->asked[i]);
    free(c->asked);
    free(c);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

size_t ifb_cfg_asked(ifb_cfg *c, const char *const **out)
{
    if (c->nasked > 1) {
        qsort(c->asked, c->nasked, sizeof *c->asked, cmp_str);
        size_t k = 1;
        for (size_t i = 1; i < c->nasked; i++) {
            if (strcmp(c->asked[i], c->asked[k - 1]))
                c->asked[k++] = c->asked[i];
            else
                free(c->asked[i]);
        }
        c->nasked = k;
    }
    *out = (const char *const *)c->asked;
    return c->nasked;
}

const char *ifb_cfg_name(const ifb_cfg *c)
{
    return c->name;
}
