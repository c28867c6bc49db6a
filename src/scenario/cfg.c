/* Configuration tree (see cfg.h): libyaml events are turned into a small tree of nodes that
 * keep file and line; getters walk dotted paths, parse units with exact integer arithmetic
 * (no floating point, so 2.5us is exactly 2500000 ps on every machine) and mark what they
 * read so unread keys can be reported. Left out: anchors, aliases, merge keys, several
 * documents per file, non-scalar keys (all rejected), tags (ignored). */
#include "scenario/cfg.h"

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

/* Nodes created by ifb_cfg_set point at this file name; the pointer identifies them. */
static const char SET_FILE[] = "--set";

/* Deeper nesting than this is surely a mistake and would only risk the C stack. */
enum { MAX_DEPTH = 64, MAX_STEPS = 64, PATH_CAP = 512, SHOW_CAP = 160 };

typedef struct node {
    ifb_cfg_kind kind;
    const char *file; /* owning ifb_cfg's name or SET_FILE */
    int line;         /* line where the value starts; 0 for --set */
    int key_line;     /* line of the key when this is a map value; 0 otherwise */
    bool used;
    bool plain; /* scalar written without quotes (so `~`, `null` and nothing are null) */
    char *key;  /* key when this node is a map value */
    char *text; /* scalar text */
    struct node **kids;
    int n, cap;
    char **known; /* keys the program looked up in this map (for suggestions) */
    int nknown, capknown;
} node;

struct ifb_cfg {
    node *root;
    char *name;
    char **asked; /* every path the program looked up, present or not (ifb_cfg_asked) */
    size_t nasked, capasked;
};

/* ---- Nodes ---------------------------------------------------------------------------------- */

static node *node_new(ifb_cfg_kind kind, const char *file, int line)
{
    node *n = ifb_xcalloc(1, sizeof *n, "a settings node");
    n->kind = kind;
    n->file = file;
    n->line = line;
    return n;
}

static void node_free(node *n)
{
    if (!n)
        return;
    for (int i = 0; i < n->n; i++)
        node_free(n->kids[i]);
    for (int i = 0; i < n->nknown; i++)
        free(n->known[i]);
    free(n->kids);
    free(n->known);
    free(n->key);
    free(n->text);
    free(n);
}

static void node_append(node *parent, node *kid)
{
    if (parent->n == parent->cap) {
        int cap = parent->cap ? parent->cap * 2 : 4;
        parent->kids =
            ifb_xrealloc(parent->kids, (size_t)cap, sizeof *parent->kids, "a settings map or list");
        parent->cap = cap;
    }
    parent->kids[parent->n++] = kid;
}

static node *map_find(const node *m, const char *key, size_t klen)
{
    for (int i = 0; i < m->n; i++)
        if (strlen(m->kids[i]->key) == klen && memcmp(m->kids[i]->key, key, klen) == 0)
            return m->kids[i];
    return NULL;
}

/* Remembers that the program asked for `key` in map m (for suggestions). */
static void note_known(node *m, const char *key, size_t klen)
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

static void mark_tree(node *n)
{
    n->used = true;
    for (int i = 0; i < n->n; i++)
        mark_tree(n->kids[i]);
}

static bool is_null(const node *n)
{
    if (n->kind != IFB_CFG_SCALAR || !n->plain)
        return false;
    const char *t = n->text;
    return !*t || !strcmp(t, "~") || !strcmp(t, "null") || !strcmp(t, "Null") || !strcmp(t, "NULL");
}

/* What the user wrote, for the "found" part of messages. */
static void describe(const node *n, char *buf, size_t cap)
{
    if (n->kind == IFB_CFG_MAP)
        snprintf(buf, cap, "a map");
    else if (n->kind == IFB_CFG_SEQ)
        snprintf(buf, cap, "a sequence");
    else if (is_null(n))
        snprintf(buf, cap, "an empty value");
    else if (strlen(n->text) > SHOW_CAP)
        snprintf(buf, cap, "'%.*s...'", (int)SHOW_CAP, n->text);
    else
        snprintf(buf, cap, "'%s'", n->text);
}

/* Collections are reported at their key ("fabric:" line) rather than at their first entry. */
static int node_line(const node *n)
{
    if (n->kind != IFB_CFG_SCALAR && n->key_line > 0)
        return n->key_line;
    return n->line;
}

/* All messages about a node go through here so --set nodes read "--set key.path: ...". */
static int verr_at(ifb_err *e, const char *file, int line, const char *path, const char *expected,
                   const char *fmt, va_list ap)
{
    char found[700];
    vsnprintf(found, sizeof found, fmt, ap);
    if (file == SET_FILE) {
        char key[PATH_CAP + 8];
        snprintf(key, sizeof key, "--set %s", path ? path : "");
        return ifb_err_set(e, NULL, 0, key, expected, "%s", found);
    }
    return ifb_err_set(e, file, line, path && *path ? path : NULL, expected, "%s", found);
}

static int err_at(ifb_err *e, const char *file, int line, const char *path, const char *expected,
                  const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static int err_at(ifb_err *e, const char *file, int line, const char *path, const char *expected,
                  const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = verr_at(e, file, line, path, expected, fmt, ap);
    va_end(ap);
    return r;
}

static int err_node(ifb_err *e, const node *n, const char *path, const char *expected,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int err_node(ifb_err *e, const node *n, const char *path, const char *expected,
                    const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = verr_at(e, n->file, node_line(n), path, expected, fmt, ap);
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
    int r = verr_at(b->e, b->file, line, b->path, expected, fmt, ap);
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
        node_append(n, kid);
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
    node *dup = map_find(m, k, klen);
    if (dup) {
        size_t old = path_push(b, "%s%s", b->plen ? "." : "", k);
        int r;
        if (dup->file == SET_FILE || dup->key_line == 0)
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
        node_append(n, kid);
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
        n = node_new(IFB_CFG_SCALAR, b->file, line);
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
        n = node_new(seq ? IFB_CFG_SEQ : IFB_CFG_MAP, b->file, line);
        yaml_event_delete(ev);
        b->depth++;
        r = seq ? build_seq(b, n) : build_map(b, n);
        b->depth--;
        if (r) {
            node_free(n);
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
        node_free(n);
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
    node_free(*root);
    *root = NULL;
    return -1;
}

static int parse_text(const char *text, size_t len, const char *file, const char *set_text,
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
    if (parse_text(text, len, c->name, NULL, NULL, &root, e)) {
        ifb_cfg_free(c);
        return NULL;
    }
    if (root && is_null(root)) {
        node_free(root);
        root = NULL;
    }
    if (!root)
        root = node_new(IFB_CFG_MAP, c->name, 1);
    if (root->kind != IFB_CFG_MAP) {
        char found[SHOW_CAP + 8];
        describe(root, found, sizeof found);
        err_at(e, c->name, root->line, NULL, "a map of settings ('key: value' lines) at the top",
               "%s", found);
        node_free(root);
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
    node_free(c->root);
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

/* ---- Paths ---------------------------------------------------------------------------------- */

typedef struct step {
    bool is_idx;
    int idx;
    const char *key;
    size_t klen;
    size_t end; /* offset in the path just after this step (for naming the prefix) */
} step;

/* Splits a path into steps; -1 on bad syntax. */
static int path_split(const char *path, step *st, int max)
{
    int ns = 0;
    size_t i = 0;
    while (path[i]) {
        if (ns == max)
            return -1;
        step *s = &st[ns];
        memset(s, 0, sizeof *s);
        if (path[i] == '[') {
            i++;
            if (!isdigit((unsigned char)path[i]))
                return -1;
            long v = 0;
            while (isdigit((unsigned char)path[i])) {
                v = v * 10 + (path[i++] - '0');
                if (v > INT_MAX / 2)
                    return -1;
            }
            if (path[i++] != ']')
                return -1;
            s->is_idx = true;
            s->idx = (int)v;
        } else {
            if (i > 0 && path[i++] != '.')
                return -1;
            size_t b = i;
            while (path[i] && !strchr(".[]=", path[i]))
                i++;
            if (i == b)
                return -1;
            s->key = path + b;
            s->klen = i - b;
        }
        s->end = i;
        ns++;
    }
    return ns;
}

/* Finds the node at path, marking every node on the way as used and noting looked-up keys.
 * 0: *out is the node, or NULL if absent (then *nearest is the deepest existing node).
 * -1: bad path syntax or a prefix of the wrong shape (e filled, *nearest set). */
static int lookup(ifb_cfg *c, const char *path, node **out, node **nearest, ifb_err *e)
{
    step st[MAX_STEPS];
    node *cur = c->root;
    *out = NULL;
    *nearest = cur;
    int ns = path_split(path, st, MAX_STEPS);
    if (ns < 0)
        return ifb_err_msg(e, "internal error: invalid setting path '%s'", path);
    if (ns > 0) { /* duplicates are folded when the list is read */
        c->asked = ifb_xgrow(c->asked, &c->capasked, c->nasked, sizeof *c->asked, 64,
                             "the configuration's looked-up paths");
        c->asked[c->nasked++] = ifb_xstrdup(path, "the configuration's looked-up paths");
    }
    char pre[PATH_CAP];
    for (int i = 0; i < ns; i++) {
        size_t plen = i ? st[i - 1].end : 0;
        snprintf(pre, sizeof pre, "%.*s", (int)plen, path);
        char found[SHOW_CAP + 8];
        if (!st[i].is_idx) {
            if (cur->kind != IFB_CFG_MAP) {
                describe(cur, found, sizeof found);
                return err_node(e, cur, pre, "a map (to look up key)", "%s", found);
            }
            note_known(cur, st[i].key, st[i].klen);
            cur = map_find(cur, st[i].key, st[i].klen);
        } else {
            if (cur->kind != IFB_CFG_SEQ) {
                describe(cur, found, sizeof found);
                return err_node(e, cur, pre, "a sequence (a list such as [a, b])", "%s", found);
            }
            cur = st[i].idx < cur->n ? cur->kids[st[i].idx] : NULL;
        }
        if (!cur)
            return 0;
        cur->used = true;
        *nearest = cur;
    }
    *out = cur;
    return 0;
}

ifb_cfg_kind ifb_cfg_type(ifb_cfg *c, const char *path)
{
    node *n, *near;
    if (lookup(c, path, &n, &near, NULL) || !n)
        return IFB_CFG_ABSENT;
    return n->kind;
}

int ifb_cfg_where(ifb_cfg *c, const char *path, const char **file)
{
    node *n, *near;
    if (lookup(c, path, &n, &near, NULL) || !n)
        return -1;
    if (file)
        *file = n->file;
    return node_line(n);
}

int ifb_cfg_errf(ifb_cfg *c, const char *path, ifb_err *e, const char *expected,
                 const char *found_fmt, ...)
{
    node *n, *near;
    lookup(c, path, &n, &near, NULL);
    if (!n)
        n = near;
    va_list ap;
    va_start(ap, found_fmt);
    verr_at(e, n->file, node_line(n), path, expected, found_fmt, ap);
    va_end(ap);
    return -1;
}

/* A copy of n and everything below it, unread, keeping file and lines. */
static node *node_copy(const node *n)
{
    node *m = node_new(n->kind, n->file, n->line);
    m->key_line = n->key_line;
    m->plain = n->plain;
    if (n->key)
        m->key = ifb_xstrdup(n->key, "a settings key");
    if (n->text)
        m->text = ifb_xstrdup(n->text, "a settings value");
    for (int i = 0; i < n->n; i++)
        node_append(m, node_copy(n->kids[i]));
    return m;
}

static void merge_missing(const node *from, node *to)
{
    for (int i = 0; i < from->n; i++) {
        const node *k = from->kids[i];
        node *have = map_find(to, k->key, strlen(k->key));
        if (have) {
            if (have->kind == IFB_CFG_MAP && k->kind == IFB_CFG_MAP)
                merge_missing(k, have);
            continue; /* what `to` says itself wins */
        }
        node_append(to, node_copy(k));
    }
}

int ifb_cfg_merge_missing(ifb_cfg *c, const char *from, const char *to, ifb_err *e)
{
    node *f, *t, *near;
    if (lookup(c, from, &f, &near, e) || lookup(c, to, &t, &near, e))
        return -1;
    if (!f)
        return 0;
    if (f->kind != IFB_CFG_MAP) {
        char found[SHOW_CAP + 8];
        describe(f, found, sizeof found);
        return err_node(e, f, from, "a map of keys", "%s", found);
    }
    if (!t || t->kind != IFB_CFG_MAP)
        return ifb_err_msg(e, "internal error: %s is not a map", to);
    mark_tree(f);
    merge_missing(f, t);
    return 0;
}

void ifb_cfg_mark_used(ifb_cfg *c, const char *path)
{
    node *n, *near;
    if (!lookup(c, path, &n, &near, NULL) && n)
        mark_tree(n);
}

static int coll_len(ifb_cfg *c, const char *path, ifb_cfg_kind kind, int *len, ifb_err *e)
{
    node *n, *near;
    if (lookup(c, path, &n, &near, e))
        return -1;
    if (!n) {
        *len = -1;
        return 0;
    }
    if (n->kind != kind) {
        char found[SHOW_CAP + 8];
        describe(n, found, sizeof found);
        return err_node(e, n, path,
                        kind == IFB_CFG_SEQ ? "a sequence (a list such as [a, b] or '- item' lines)"
                                            : "a map ('key: value' lines)",
                        "%s", found);
    }
    *len = n->n;
    return 0;
}

int ifb_cfg_seq_len(ifb_cfg *c, const char *path, int *n, ifb_err *e)
{
    return coll_len(c, path, IFB_CFG_SEQ, n, e);
}

int ifb_cfg_map_len(ifb_cfg *c, const char *path, int *n, ifb_err *e)
{
    return coll_len(c, path, IFB_CFG_MAP, n, e);
}

const char *ifb_cfg_map_key(ifb_cfg *c, const char *path, int i, int *line)
{
    node *n, *near;
    if (lookup(c, path, &n, &near, NULL) || !n || n->kind != IFB_CFG_MAP || i < 0 || i >= n->n)
        return NULL;
    if (line)
        *line = n->kids[i]->key_line;
    return n->kids[i]->key;
}

/* ---- --set ---------------------------------------------------------------------------------- */

static char *trim_dup(const char *s, size_t len)
{
    while (len && isspace((unsigned char)*s))
        s++, len--;
    while (len && isspace((unsigned char)s[len - 1]))
        len--;
    return ifb_xstrndup(s, len, "a --set assignment");
}

/* --set into element i of a sequence that has fewer elements: allowed when the element is a map
 * (`fabric.queues[3].lossless=true`), the elements before it padded with empty maps, which
 * read as "every key at its default"; a scalar or sequence element has no such neutral value.
 * Bounded, so that a typo such as [30000000] is an error rather than a huge allocation. */
#define SET_PAD_MAX 1024

static int pad_ok(const step *st, int i, int ns)
{
    return i + 1 < ns && !st[i + 1].is_idx && st[i].idx < SET_PAD_MAX;
}

static void pad_seq(node *seq, int upto)
{
    while (seq->n < upto)
        node_append(seq, node_new(IFB_CFG_MAP, SET_FILE, 0));
}

/* Walks/creates the path for an assignment. With apply false it only checks that the
 * assignment can be made (so a failed --set leaves the tree untouched). */
static int set_walk(ifb_cfg *c, const char *path, const step *st, int ns, node *val, bool apply,
                    ifb_err *e)
{
    node *cur = c->root;
    bool creating = false; /* below here nothing exists yet */
    for (int i = 0; i < ns; i++) {
        const step *s = &st[i];
        bool last = i == ns - 1;
        char pre[PATH_CAP];
        snprintf(pre, sizeof pre, "%.*s", (int)(i ? st[i - 1].end : 0), path);
        if (creating) {
            if (s->is_idx && s->idx != 0 && !pad_ok(st, i, ns))
                return err_at(e, SET_FILE, 0, path,
                              "index [0] for a new sequence (or, for a map element such as "
                              "[3].key, an index below 1024)",
                              "[%d]", s->idx);
            if (!apply)
                continue;
        }
        node **slot = NULL;
        if (!creating) {
            char found[SHOW_CAP + 8];
            if (cur->kind != (s->is_idx ? IFB_CFG_SEQ : IFB_CFG_MAP)) {
                describe(cur, found, sizeof found);
                char at[300] = "";
                if (cur->file != SET_FILE)
                    snprintf(at, sizeof at, " (from %s:%d)", cur->file, node_line(cur));
                return err_at(e, SET_FILE, 0, path,
                              s->is_idx ? "a sequence at the indexed part"
                                        : "a map at every part but the last",
                              "%s is %s%s", *pre ? pre : "the top level", found, at);
            }
            if (!s->is_idx) {
                for (int j = 0; j < cur->n; j++)
                    if (strlen(cur->kids[j]->key) == s->klen &&
                        !memcmp(cur->kids[j]->key, s->key, s->klen))
                        slot = &cur->kids[j];
            } else if (s->idx < cur->n) {
                slot = &cur->kids[s->idx];
            } else if (s->idx > cur->n && !pad_ok(st, i, ns)) {
                return err_at(e, SET_FILE, 0, path,
                              "an index of an existing element or one past the end (or, for a "
                              "map element such as [3].key, an index below 1024)",
                              "[%d] with %d elements", s->idx, cur->n);
            }
            if (!slot)
                creating = true;
            if (!apply && !slot)
                continue;
        }
        if (!apply || (slot && !last)) {
            cur = *slot; /* existing node: descend */
            continue;
        }
        node *nn = last ? val : node_new(st[i + 1].is_idx ? IFB_CFG_SEQ : IFB_CFG_MAP, SET_FILE, 0);
        if (slot) { /* replace the last node, keeping its key and position */
            nn->key = (*slot)->key;
            (*slot)->key = NULL;
            node_free(*slot);
            *slot = nn;
        } else {
            if (s->is_idx)
                pad_seq(cur, s->idx);
            else
                nn->key = ifb_xstrndup(s->key, s->klen, "a settings key");
            node_append(cur, nn);
        }
        cur = nn;
    }
    return 0;
}

/* Strict UTF-8: no overlong forms, surrogates or code points above U+10FFFF, so that whatever
 * --set stores can be dumped and read back by libyaml. */
static int utf8_valid(const unsigned char *p)
{
    while (*p) {
        unsigned c = *p;
        int n = c < 0x80             ? 0
                : (c & 0xe0) == 0xc0 ? 1
                : (c & 0xf0) == 0xe0 ? 2
                : (c & 0xf8) == 0xf0 ? 3
                                     : -1;
        if (n < 0)
            return 0;
        uint32_t cp = n == 0 ? c : n == 1 ? c & 0x1f : n == 2 ? c & 0x0f : c & 0x07;
        for (int i = 1; i <= n; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (p[i] & 0x3f);
        }
        static const uint32_t min[4] = {0, 0x80, 0x800, 0x10000};
        if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        p += n + 1;
    }
    return 1;
}

int ifb_cfg_set(ifb_cfg *c, const char *assign, ifb_err *e)
{
    if (!utf8_valid((const unsigned char *)assign))
        return ifb_err_set(e, NULL, 0, "--set", "an assignment in UTF-8 text",
                           "invalid UTF-8 bytes");
    const char *eq = strchr(assign, '=');
    if (!eq)
        return ifb_err_set(e, NULL, 0, "--set",
                           "an assignment KEY.PATH=VALUE such as fabric.rate=400Gbps", "'%s'",
                           assign);
    char *path = trim_dup(assign, (size_t)(eq - assign));
    char *text = trim_dup(eq + 1, strlen(eq + 1));
    node *val = NULL;
    int r = -1;
    step st[MAX_STEPS];
    int ns = path_split(path, st, MAX_STEPS);
    if (ns <= 0 || st[0].is_idx) {
        ifb_err_set(e, NULL, 0, "--set", "a setting path such as fabric.links[2].rate",
                    "'%s' before '='", path);
        goto out;
    }
    if (strchr("[{\"'", text[0]) && text[0]) {
        if (parse_text(text, strlen(text), SET_FILE, text, path, &val, e))
            goto out;
        if (!val) {
            err_at(e, SET_FILE, 0, path, "a YAML value", "'%s'", text);
            goto out;
        }
    } else {
        /* Plain text is kept as written: "20,40,60" or "a: b" stay one scalar. */
        val = node_new(IFB_CFG_SCALAR, SET_FILE, 0);
        val->text = text;
        val->plain = true;
        text = NULL;
    }
    if (set_walk(c, path, st, ns, val, false, e))
        goto out;
    if (set_walk(c, path, st, ns, val, true, e))
        goto out;
    val = NULL;
    r = 0;
out:
    node_free(val);
    free(path);
    free(text);
    return r;
}

/* ---- Units ---------------------------------------------------------------------------------- */

typedef enum { U_RATE, U_TIME, U_BYTES, U_DIST } ukind;

typedef enum {
    P_OK,
    P_EMPTY,
    P_NOTNUM,
    P_NOUNIT,
    P_BADUNIT,
    P_NEG,
    P_ZERO,
    P_RANGE,
    P_FRAC,
    P_DIGITS,
} pres;

typedef struct unitdef {
    const char *name;
    uint64_t factor; /* base units per unit; all below 2^46 so M * factor fits in 128 bits */
} unitdef;

static const unitdef time_units[] = {
    {"ps", 1},
    {"ns", 1000},
    {"us", 1000000},
    {"\xc2\xb5s", 1000000},
    {"\xce\xbcs", 1000000},
    {"ms", 1000000000},
    {"s", 1000000000000ull},
    {NULL, 0},
};
static const unitdef dist_units[] = {
    {"mm", 1}, {"cm", 10}, {"m", 1000}, {"km", 1000000}, {NULL, 0},
};
static const unitdef byte_units[] = {
    {"B", 1},
    {"kB", 1000},
    {"KB", 1000},
    {"MB", 1000000},
    {"GB", 1000000000},
    {"TB", 1000000000000ull},
    {"KiB", 1ull << 10},
    {"MiB", 1ull << 20},
    {"GiB", 1ull << 30},
    {"TiB", 1ull << 40},
    {NULL, 0},
};

static bool find_unit(const unitdef *t, const char *u, uint64_t *f)
{
    for (; t->name; t++)
        if (!strcmp(t->name, u)) {
            *f = t->factor;
            return true;
        }
    return false;
}

/* Rates: decimal prefix + bits (bps, b/s, or the bare prefix) or bytes (Bps, B/s, x8);
 * binary prefixes only for byte rates (GiB/s). */
static bool rate_unit(const char *u, uint64_t *f)
{
    static const unitdef pre[] = {
        {"", 1},        {"k", 1000},       {"K", 1000},
        {"M", 1000000}, {"G", 1000000000}, {"T", 1000000000000ull},
        {NULL, 0},
    };
    static const unitdef bpre[] = {
        {"Ki", 1ull << 10}, {"Mi", 1ull << 20}, {"Gi", 1ull << 30}, {"Ti", 1ull << 40}, {NULL, 0},
    };
    for (const unitdef *p = pre; p->name; p++) {
        size_t pl = strlen(p->name);
        if (strncmp(u, p->name, pl))
            continue;
        const char *r = u + pl;
        if (!strcmp(r, "bps") || !strcmp(r, "b/s") || (pl && !*r)) {
            *f = p->factor;
            return true;
        }
        if (!strcmp(r, "Bps") || !strcmp(r, "B/s")) {
            *f = p->factor * 8;
            return true;
        }
    }
    for (const unitdef *p = bpre; p->name; p++)
        if (!strncmp(u, p->name, 2) && (!strcmp(u + 2, "Bps") || !strcmp(u + 2, "B/s"))) {
            *f = p->factor * 8;
            return true;
        }
    return false;
}

/* "<decimal>[e<exp>] <unit>" -> whole base units, computed exactly in integers. */
static pres parse_unit(const char *s, ukind kind, uint64_t *out, char *unit, size_t unitcap)
{
    unit[0] = '\0';
    while (isspace((unsigned char)*s))
        s++;
    if (!*s)
        return P_EMPTY;
    bool neg = false;
    if (*s == '-' || *s == '+')
        neg = *s++ == '-';
    unsigned __int128 m = 0; /* significant digits */
    int sig = 0, exp10 = 0, ndig = 0;
    bool dot = false;
    for (;; s++) {
        if (*s == '.' && !dot) {
            dot = true;
            continue;
        }
        if (!isdigit((unsigned char)*s))
            break;
        ndig++;
        int d = *s - '0';
        if (sig < 20) {
            m = m * 10 + (unsigned)d;
            if (m)
                sig++;
            if (dot)
                exp10--;
        } else if (d != 0) {
            return P_DIGITS;
        } else if (!dot) {
            exp10++; /* trailing integer zero beyond 20 digits */
        }
    }
    if (!ndig)
        return P_NOTNUM;
    if ((*s == 'e' || *s == 'E') &&
        (isdigit((unsigned char)s[1]) ||
         ((s[1] == '-' || s[1] == '+') && isdigit((unsigned char)s[2])))) {
        s++;
        int es = 1;
        if (*s == '-' || *s == '+')
            es = *s++ == '-' ? -1 : 1;
        long ev = 0;
        while (isdigit((unsigned char)*s)) {
            if (ev < 100000)
                ev = ev * 10 + (*s - '0');
            s++;
        }
        exp10 += (int)(es * ev);
    }
    while (isspace((unsigned char)*s))
        s++;
    size_t ul = strlen(s);
    while (ul && isspace((unsigned char)s[ul - 1]))
        ul--;
    snprintf(unit, unitcap, "%.*s", (int)ul, s);
    if (!ul)
        return P_NOUNIT;
    uint64_t f = 0;
    bool ok = kind == U_RATE    ? rate_unit(unit, &f)
              : kind == U_TIME  ? find_unit(time_units, unit, &f)
              : kind == U_BYTES ? find_unit(byte_units, unit, &f)
                                : find_unit(dist_units, unit, &f);
    if (!ok)
        return P_BADUNIT;
    unsigned __int128 x = m * f;
    if (x == 0) {
        if (kind == U_RATE)
            return P_ZERO;
        *out = 0;
        return P_OK;
    }
    if (neg)
        return P_NEG;
    if (exp10 >= 0) {
        for (int i = 0; i < exp10; i++) {
            x *= 10;
            if (x > UINT64_MAX)
                return P_RANGE;
        }
    } else {
        if (exp10 < -38)
            return P_FRAC;
        unsigned __int128 d = 1;
        for (int i = 0; i < -exp10; i++)
            d *= 10;
        if (x % d)
            return P_FRAC;
        x /= d;
    }
    if (x > UINT64_MAX)
        return P_RANGE;
    *out = (uint64_t)x;
    return P_OK;
}

static const char *const unit_expected[] = {
    [U_RATE] = "a rate with a unit such as 400Gbps, 400G, 400 Gb/s or 25GB/s",
    [U_TIME] = "a time with a unit such as 560ns, 1us, 2.5ms or 100ps",
    [U_BYTES] = "a size with a unit such as 4096B, 4KiB, 16MB or 1GiB",
    [U_DIST] = "a length with a unit such as 40cm, 5m or 1km",
};
static const char *const unit_base[] = {
    [U_RATE] = "bits/s",
    [U_TIME] = "picoseconds",
    [U_BYTES] = "bytes",
    [U_DIST] = "millimetres",
};

int ifb_parse_rate(const char *s, uint64_t *bps)
{
    char u[64];
    return parse_unit(s, U_RATE, bps, u, sizeof u) == P_OK ? 0 : -1;
}

int ifb_parse_time(const char *s, ifb_time *ps)
{
    char u[64];
    return parse_unit(s, U_TIME, ps, u, sizeof u) == P_OK ? 0 : -1;
}

int ifb_parse_bytes(const char *s, uint64_t *bytes)
{
    char u[64];
    return parse_unit(s, U_BYTES, bytes, u, sizeof u) == P_OK ? 0 : -1;
}

int ifb_parse_distance(const char *s, uint64_t *mm)
{
    char u[64];
    return parse_unit(s, U_DIST, mm, u, sizeof u) == P_OK ? 0 : -1;
}

/* ---- Getters -------------------------------------------------------------------------------- */

/* 0 with *out = scalar node or NULL (absent); -1 if not a usable scalar. */
static int get_scalar(ifb_cfg *c, const char *path, const char *expected, node **out, ifb_err *e)
{
    node *near;
    if (lookup(c, path, out, &near, e))
        return -1;
    node *n = *out;
    if (n && (n->kind != IFB_CFG_SCALAR || is_null(n))) {
        char found[SHOW_CAP + 8];
        describe(n, found, sizeof found);
        return err_node(e, n, path, expected, "%s", found);
    }
    return 0;
}

static int get_unit(ifb_cfg *c, const char *path, ukind kind, uint64_t def, uint64_t *out,
                    ifb_err *e)
{
    node *n;
    const char *exp = unit_expected[kind];
    if (get_scalar(c, path, exp, &n, e))
        return -1;
    if (!n) {
        *out = def;
        return 0;
    }
    char unit[64];
    uint64_t v = 0;
    const char *t = n->text;
    int sh = (int)SHOW_CAP;
    switch (parse_unit(t, kind, &v, unit, sizeof unit)) {
    case P_OK:
        *out = v;
        return 0;
    case P_EMPTY:
        return err_node(e, n, path, exp, "an empty value");
    case P_NOTNUM:
        return err_node(e, n, path, exp, "'%.*s' (not a number followed by a unit)", sh, t);
    case P_NOUNIT:
        return err_node(e, n, path, exp, "'%.*s' (missing unit)", sh, t);
    case P_BADUNIT:
        return err_node(e, n, path, exp, "'%.*s' (unknown unit '%s')", sh, t, unit);
    case P_NEG:
        return err_node(e, n, path, exp, "'%.*s' (negative)", sh, t);
    case P_ZERO:
        return err_node(e, n, path, exp, "'%.*s' (a rate must be above zero)", sh, t);
    case P_RANGE:
        return err_node(e, n, path, exp, "'%.*s' (too large for 64 bits of %s)", sh, t,
                        unit_base[kind]);
    case P_FRAC:
        return err_node(e, n, path, exp, "'%.*s' (not a whole number of %s)", sh, t,
                        unit_base[kind]);
    case P_DIGITS:
        return err_node(e, n, path, exp, "'%.*s' (more than 20 significant digits)", sh, t);
    }
    return -1;
}

int ifb_cfg_get_rate(ifb_cfg *c, const char *path, uint64_t def, uint64_t *out, ifb_err *e)
{
    return get_unit(c, path, U_RATE, def, out, e);
}

int ifb_cfg_get_time(ifb_cfg *c, const char *path, ifb_time def, ifb_time *out, ifb_err *e)
{
    if (get_unit(c, path, U_TIME, def, out, e))
        return -1;
    /* bounded so that sums of configured times (latencies along a path, start + duration,
     * timeouts x retries) cannot overflow 64-bit picoseconds (core/time.h) */
    node *n = NULL;
    if (*out > IFB_TIME_CFG_MAX && !get_scalar(c, path, "", &n, e) && n)
        return err_node(e, n, path, "a time of at most 3600s (one hour of simulated time)",
                        "'%.*s'", (int)SHOW_CAP, n->text);
    return 0;
}

int ifb_cfg_get_distance(ifb_cfg *c, const char *path, uint64_t def_mm, uint64_t *out_mm,
                         ifb_err *e)
{
    return get_unit(c, path, U_DIST, def_mm, out_mm, e);
}

int ifb_cfg_get_bytes(ifb_cfg *c, const char *path, uint64_t def, uint64_t *out, ifb_err *e)
{
    return get_unit(c, path, U_BYTES, def, out, e);
}

int ifb_cfg_get_int(ifb_cfg *c, const char *path, int64_t def, int64_t min, int64_t max,
                    int64_t *out, ifb_err *e)
{
    char exp[96];
    if (min == INT64_MIN && max == INT64_MAX)
        snprintf(exp, sizeof exp, "an integer");
    else if (max == INT64_MAX)
        snprintf(exp, sizeof exp, "an integer of at least %lld", (long long)min);
    else
        snprintf(exp, sizeof exp, "an integer from %lld to %lld", (long long)min, (long long)max);
    node *n;
    if (get_scalar(c, path, exp, &n, e))
        return -1;
    if (!n) {
        *out = def;
        return 0;
    }
    const char *t = n->text;
    const char *d = t + (*t == '-' || *t == '+');
    bool digits = *d != '\0';
    for (const char *p = d; *p; p++)
        digits = digits && isdigit((unsigned char)*p);
    if (!digits)
        return err_node(e, n, path, exp, "'%.*s'", (int)SHOW_CAP, t);
    errno = 0;
    long long v = strtoll(t, NULL, 10);
    if (errno == ERANGE || v < min || v > max)
        return err_node(e, n, path, exp, "'%.*s' (out of range)", (int)SHOW_CAP, t);
    *out = v;
    return 0;
}

int ifb_cfg_get_double(ifb_cfg *c, const char *path, double def, double min, double max,
                       double *out, ifb_err *e)
{
    char exp[96];
    snprintf(exp, sizeof exp, "a number from %g to %g", min, max);
    node *n;
    if (get_scalar(c, path, exp, &n, e))
        return -1;
    if (!n) {
        *out = def;
        return 0;
    }
    const char *t = n->text;
    /* Decimal only: strtod would also take hex floats, "inf" and "nan". */
    bool ok = *t != '\0' && strspn(t, "0123456789+-.eE") == strlen(t);
    char *end = NULL;
    double v = ok ? strtod(t, &end) : 0;
    if (!ok || *end || !isfinite(v))
        return err_node(e, n, path, exp, "'%.*s'", (int)SHOW_CAP, t);
    if (v < min || v > max)
        return err_node(e, n, path, exp, "'%.*s' (out of range)", (int)SHOW_CAP, t);
    *out = v;
    return 0;
}

static bool ieq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
            return false;
    return *a == *b;
}

int ifb_cfg_get_bool(ifb_cfg *c, const char *path, bool def, bool *out, ifb_err *e)
{
    const char *exp = "true or false (or yes/no, on/off)";
    node *n;
    if (get_scalar(c, path, exp, &n, e))
        return -1;
    if (!n) {
        *out = def;
        return 0;
    }
    const char *t = n->text;
    if (ieq(t, "true") || ieq(t, "yes") || ieq(t, "on")) {
        *out = true;
        return 0;
    }
    if (ieq(t, "false") || ieq(t, "no") || ieq(t, "off")) {
        *out = false;
        return 0;
    }
    return err_node(e, n, path, exp, "'%.*s'", (int)SHOW_CAP, t);
}

int ifb_cfg_get_string(ifb_cfg *c, const char *path, const char *def, const char **out, ifb_err *e)
{
    node *n;
    if (get_scalar(c, path, "a text value", &n, e))
        return -1;
    *out = n ? n->text : def;
    return 0;
}

/* Edit distance (case-insensitive) for "did you mean"; long strings are not compared. */
static int edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63)
        return INT_MAX;
    int row[64];
    for (size_t j = 0; j <= lb; j++)
        row[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int diag = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int up = row[j];
            int cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
            int v = diag + cost;
            if (row[j] + 1 < v)
                v = row[j] + 1;
            if (row[j - 1] + 1 < v)
                v = row[j - 1] + 1;
            row[j] = v;
            diag = up;
        }
    }
    return row[lb];
}

/* Closest candidate within a small distance, or NULL. Ties go to the earlier candidate. */
static const char *closest(const char *word, const char *const *cand, int n)
{
    int len = (int)strlen(word);
    int limit = len <= 2 ? 1 : (len + 2) / 3;
    if (limit > 3)
        limit = 3;
    const char *best = NULL;
    int bestd = limit + 1;
    for (int i = 0; i < n; i++) {
        int d = edit_distance(word, cand[i]);
        if (d < bestd && strcmp(word, cand[i])) {
            bestd = d;
            best = cand[i];
        }
    }
    return best;
}

/* "a, b, c" into buf (truncated with "..."). */
static void join_names(char *buf, size_t cap, const char *const *names, int n)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < n; i++) {
        int w = snprintf(buf + len, cap - len, "%s%s", i ? ", " : "", names[i]);
        if (w < 0 || (size_t)w >= cap - len) {
            if (cap > 4)
                strcpy(buf + cap - 4, "...");
            return;
        }
        len += (size_t)w;
    }
}

int ifb_cfg_get_enum(ifb_cfg *c, const char *path, const char *const *names, int def, int *out,
                     ifb_err *e)
{
    int count = 0;
    while (names[count])
        count++;
    char list[400], exp[420];
    join_names(list, sizeof list, names, count);
    snprintf(exp, sizeof exp, "one of: %s", list);
    node *n;
    if (get_scalar(c, path, exp, &n, e))
        return -1;
    if (!n) {
        *out = def;
        return 0;
    }
    for (int i = 0; i < count; i++)
        if (!strcmp(n->text, names[i])) {
            *out = i;
            return 0;
        }
    const char *near = closest(n->text, names, count);
    if (near)
        return err_node(e, n, path, exp, "'%.*s' (did you mean '%s'?)", (int)SHOW_CAP, n->text,
                        near);
    return err_node(e, n, path, exp, "'%.*s'", (int)SHOW_CAP, n->text);
}

/* ---- Unknown keys --------------------------------------------------------------------------- */

typedef struct scan {
    const node *first, *parent;
    char path[PATH_CAP];
    int count;
} scan;

static void scan_unused(const node *n, char *path, size_t plen, scan *sc)
{
    for (int i = 0; i < n->n; i++) {
        const node *k = n->kids[i];
        size_t len = plen;
        int w = k->key ? snprintf(path + plen, PATH_CAP - plen, "%s%s", plen ? "." : "", k->key)
                       : snprintf(path + plen, PATH_CAP - plen, "[%d]", i);
        if (w > 0)
            len = plen + (size_t)w < PATH_CAP ? plen + (size_t)w : PATH_CAP - 1;
        if (!k->used) {
            if (!sc->count++) {
                sc->first = k;
                sc->parent = n;
                memcpy(sc->path, path, len + 1);
            }
        } else if (k->kind != IFB_CFG_SCALAR) {
            scan_unused(k, path, len, sc);
        }
        path[plen] = '\0';
    }
}

int ifb_cfg_check_unused(ifb_cfg *c, ifb_err *e)
{
    scan sc;
    memset(&sc, 0, sizeof sc);
    char path[PATH_CAP] = "";
    scan_unused(c->root, path, 0, &sc);
    if (!sc.count)
        return 0;
    const node *k = sc.first, *p = sc.parent;
    char more[48] = "";
    if (sc.count > 1)
        snprintf(more, sizeof more, " (and %d more)", sc.count - 1);
    int line = k->key_line ? k->key_line : k->line;
    if (!k->key) {
        char found[SHOW_CAP + 8];
        describe(k, found, sizeof found);
        return err_at(e, k->file, line, sc.path,
                      "only entries the simulator reads (this one was ignored)", "%s%s", found,
                      more);
    }
    char exp[700], list[400] = "", hint[120] = "";
    const char *near = closest(k->key, (const char *const *)p->known, p->nknown);
    if (near)
        snprintf(hint, sizeof hint, "did you mean '%s'? ", near);
    if (p->nknown) {
        join_names(list, sizeof list, (const char *const *)p->known, p->nknown);
        snprintf(exp, sizeof exp, "a key documented in docs/scenario.md (%skeys read here: %s)",
                 hint, list);
    } else {
        snprintf(exp, sizeof exp, "a key documented in docs/scenario.md");
    }
    return err_at(e, k->file, line, sc.path, exp, "unknown key '%s'%s", k->key, more);
}

/* ---- Dump ----------------------------------------------------------------------------------- */

typedef struct outbuf {
    char *s;
    size_t len, cap;
} outbuf;

static int out_write(void *data, unsigned char *buf, size_t size)
{
    outbuf *o = data;
    /* room for size more bytes and the NUL (o->len counts bytes already held: no overflow) */
    o->s = ifb_xgrow(o->s, &o->cap, o->len + size, 1, 1024, "the settings dump");
    memcpy(o->s + o->len, buf, size);
    o->len += size;
    o->s[o->len] = '\0';
    return 1;
}

static int emit_scalar(yaml_emitter_t *em, const char *text, bool plain)
{
    yaml_event_t ev;
    if (!yaml_scalar_event_initialize(
            &ev, NULL, NULL, (yaml_char_t *)(uintptr_t)text, (int)strlen(text), 1, 1,
            plain ? YAML_ANY_SCALAR_STYLE : YAML_SINGLE_QUOTED_SCALAR_STYLE))
        return -1;
    return yaml_emitter_emit(em, &ev) ? 0 : -1;
}

static int emit_node(yaml_emitter_t *em, const node *n)
{
    yaml_event_t ev;
    if (n->kind == IFB_CFG_SCALAR)
        return emit_scalar(em, n->text, n->plain);
    bool seq = n->kind == IFB_CFG_SEQ;
    int ok =
        seq ? yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE)
            : yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
    if (!ok || !yaml_emitter_emit(em, &ev))
        return -1;
    for (int i = 0; i < n->n; i++) {
        if (!seq && emit_scalar(em, n->kids[i]->key, true))
            return -1;
        if (emit_node(em, n->kids[i]))
            return -1;
    }
    ok = seq ? yaml_sequence_end_event_initialize(&ev) : yaml_mapping_end_event_initialize(&ev);
    return ok && yaml_emitter_emit(em, &ev) ? 0 : -1;
}

char *ifb_cfg_dump(const ifb_cfg *c)
{
    yaml_emitter_t em;
    outbuf o = {0};
    if (!yaml_emitter_initialize(&em))
        return NULL;
    yaml_emitter_set_output(&em, out_write, &o);
    yaml_emitter_set_unicode(&em, 1);
    yaml_emitter_set_width(&em, -1);
    yaml_event_t ev;
    int ok = yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) &&
             yaml_emitter_emit(&em, &ev) &&
             yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) &&
             yaml_emitter_emit(&em, &ev) && !emit_node(&em, c->root) &&
             yaml_document_end_event_initialize(&ev, 1) && yaml_emitter_emit(&em, &ev) &&
             yaml_stream_end_event_initialize(&ev) && yaml_emitter_emit(&em, &ev) &&
             yaml_emitter_flush(&em);
    yaml_emitter_delete(&em);
    if (!ok) {
        free(o.s);
        return NULL;
    }
    return o.s;
}
