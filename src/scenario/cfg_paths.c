/* Configuration tree, paths and --set (see cfg.h): dotted paths with [i] indexes resolved in the
 * tree, collection sizes and keys, defaults merged from one subtree into another, and --set
 * KEY=VALUE applied (indexed into existing sequences, padded where the docs allow). */
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
int ifb_cfgi_lookup(ifb_cfg *c, const char *path, node **out, node **nearest, ifb_err *e)
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
                ifb_cfgi_describe(cur, found, sizeof found);
                return ifb_cfgi_err_node(e, cur, pre, "a map (to look up key)", "%s", found);
            }
            ifb_cfgi_note_known(cur, st[i].key, st[i].klen);
            cur = ifb_cfgi_map_find(cur, st[i].key, st[i].klen);
        } else {
            if (cur->kind != IFB_CFG_SEQ) {
                ifb_cfgi_describe(cur, found, sizeof found);
                return ifb_cfgi_err_node(e, cur, pre, "a sequence (a list such as [a, b])", "%s",
                                         found);
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
    if (ifb_cfgi_lookup(c, path, &n, &near, NULL) || !n)
        return IFB_CFG_ABSENT;
    return n->kind;
}

int ifb_cfg_where(ifb_cfg *c, const char *path, const char **file)
{
    node *n, *near;
    if (ifb_cfgi_lookup(c, path, &n, &near, NULL) || !n)
        return -1;
    if (file)
        *file = n->file;
    return ifb_cfgi_node_line(n);
}

int ifb_cfg_errf(ifb_cfg *c, const char *path, ifb_err *e, const char *expected,
                 const char *found_fmt, ...)
{
    node *n, *near;
    ifb_cfgi_lookup(c, path, &n, &near, NULL);
    if (!n)
        n = near;
    va_list ap;
    va_start(ap, found_fmt);
    ifb_cfgi_verr_at(e, n->file, ifb_cfgi_node_line(n), path, expected, found_fmt, ap);
    va_end(ap);
    return -1;
}

/* A copy of n and everything below it, unread, keeping file and lines. */
static node *node_copy(const node *n)
{
    node *m = ifb_cfgi_node_new(n->kind, n->file, n->line);
    m->key_line = n->key_line;
    m->plain = n->plain;
    if (n->key)
        m->key = ifb_xstrdup(n->key, "a settings key");
    if (n->text)
        m->text = ifb_xstrdup(n->text, "a settings value");
    for (int i = 0; i < n->n; i++)
        ifb_cfgi_node_append(m, node_copy(n->kids[i]));
    return m;
}

static void merge_missing(const node *from, node *to)
{
    for (int i = 0; i < from->n; i++) {
        const node *k = from->kids[i];
        node *have = ifb_cfgi_map_find(to, k->key, strlen(k->key));
        if (have) {
            if (have->kind == IFB_CFG_MAP && k->kind == IFB_CFG_MAP)
                merge_missing(k, have);
            continue; /* what `to` says itself wins */
        }
        ifb_cfgi_node_append(to, node_copy(k));
    }
}

int ifb_cfg_merge_missing(ifb_cfg *c, const char *from, const char *to, ifb_err *e)
{
    node *f, *t, *near;
    if (ifb_cfgi_lookup(c, from, &f, &near, e) || ifb_cfgi_lookup(c, to, &t, &near, e))
        return -1;
    if (!f)
        return 0;
    if (f->kind != IFB_CFG_MAP) {
        char found[SHOW_CAP + 8];
        ifb_cfgi_describe(f, found, sizeof found);
        return ifb_cfgi_err_node(e, f, from, "a map of keys", "%s", found);
    }
    if (!t || t->kind != IFB_CFG_MAP)
        return ifb_err_msg(e, "internal error: %s is not a map", to);
    ifb_cfgi_mark_tree(f);
    merge_missing(f, t);
    return 0;
}

void ifb_cfg_mark_used(ifb_cfg *c, const char *path)
{
    node *n, *near;
    if (!ifb_cfgi_lookup(c, path, &n, &near, NULL) && n)
        ifb_cfgi_mark_tree(n);
}

static int coll_len(ifb_cfg *c, const char *path, ifb_cfg_kind kind, int *len, ifb_err *e)
{
    node *n, *near;
    if (ifb_cfgi_lookup(c, path, &n, &near, e))
        return -1;
    if (!n) {
        *len = -1;
        return 0;
    }
    if (n->kind != kind) {
        char found[SHOW_CAP + 8];
        ifb_cfgi_describe(n, found, sizeof found);
        return ifb_cfgi_err_node(e, n, path,
                                 kind == IFB_CFG_SEQ
                                     ? "a sequence (a list such as [a, b] or '- item' lines)"
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
    if (ifb_cfgi_lookup(c, path, &n, &near, NULL) || !n || n->kind != IFB_CFG_MAP || i < 0 ||
        i >= n->n)
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
        ifb_cfgi_node_append(seq, ifb_cfgi_node_new(IFB_CFG_MAP, ifb_cfgi_set_file, 0));
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
                return ifb_cfgi_err_at(
                    e, ifb_cfgi_set_file, 0, path,
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
                ifb_cfgi_describe(cur, found, sizeof found);
                char at[300] = "";
                if (cur->file != ifb_cfgi_set_file)
                    snprintf(at, sizeof at, " (from %s:%d)", cur->file, ifb_cfgi_node_line(cur));
                return ifb_cfgi_err_at(e, ifb_cfgi_set_file, 0, path,
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
                return ifb_cfgi_err_at(
                    e, ifb_cfgi_set_file, 0, path,
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
        node *nn = last ? val
                        : ifb_cfgi_node_new(st[i + 1].is_idx ? IFB_CFG_SEQ : IFB_CFG_MAP,
                                            ifb_cfgi_set_file, 0);
        if (slot) { /* replace the last node, keeping its key and position */
            nn->key = (*slot)->key;
            (*slot)->key = NULL;
            ifb_cfgi_node_free(*slot);
            *slot = nn;
        } else {
            if (s->is_idx)
                pad_seq(cur, s->idx);
            else
                nn->key = ifb_xstrndup(s->key, s->klen, "a settings key");
            ifb_cfgi_node_append(cur, nn);
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
        if (ifb_cfgi_parse_text(text, strlen(text), ifb_cfgi_set_file, text, path, &val, e))
            goto out;
        if (!val) {
            ifb_cfgi_err_at(e, ifb_cfgi_set_file, 0, path, "a YAML value", "'%s'", text);
            goto out;
        }
    } else {
        /* Plain text is kept as written: "20,40,60" or "a: b" stay one scalar. */
        val = ifb_cfgi_node_new(IFB_CFG_SCALAR, ifb_cfgi_set_file, 0);
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
    ifb_cfgi_node_free(val);
    free(path);
    free(text);
    return r;
}
