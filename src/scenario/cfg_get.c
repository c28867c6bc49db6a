/* Configuration getters (see cfg.h): typed reads of scalars with bounds, enums with a
 * did-you-mean suggestion, the report of keys nothing read, and the dump of the tree as YAML. */
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

/* ---- Getters -------------------------------------------------------------------------------- */

/* 0 with *out = scalar node or NULL (absent); -1 if not a usable scalar. */
static int get_scalar(ifb_cfg *c, const char *path, const char *expected, node **out, ifb_err *e)
{
    node *near;
    if (ifb_cfgi_lookup(c, path, out, &near, e))
        return -1;
    node *n = *out;
    if (n && (n->kind != IFB_CFG_SCALAR || ifb_cfgi_is_null(n))) {
        char found[SHOW_CAP + 8];
        ifb_cfgi_describe(n, found, sizeof found);
        return ifb_cfgi_err_node(e, n, path, expected, "%s", found);
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
    switch (ifb_cfgi_parse_unit(t, kind, &v, unit, sizeof unit)) {
    case P_OK:
        *out = v;
        return 0;
    case P_EMPTY:
        return ifb_cfgi_err_node(e, n, path, exp, "an empty value");
    case P_NOTNUM:
        return ifb_cfgi_err_node(e, n, path, exp, "'%.*s' (not a number followed by a unit)", sh,
                                 t);
    case P_NOUNIT:
        return ifb_cfgi_err_node(e, n, path, exp, "'%.*s' (missing unit)", sh, t);
    case P_BADUNIT:
        return ifb_cfgi_err_node(e, n, path, exp, "'%.*s' (unknown unit '%s')", sh, t, unit);
    case P_NEG:
        return ifb_cfgi_err_node(e, n, path, exp, "'%.*s' (negative)", sh, t);
    case P_ZERO:
        return ifb_cfgi_err_node(e, n, path, exp, "'%.*s' (a rate must be above zero)", sh, t);
    case P_RANGE:
        return ifb_cfgi_err_node(e, n, path, exp, "'%.*s' (too large for 64 bits of %s)", sh, t,
                                 unit_base[kind]);
    case P_FRAC:
        return ifb_cfgi_err_node(e, n, path, exp, "'%.*s' (not a whole number of %s)", sh, t,
                                 unit_base[kind]);
    case P_DIGITS:
        return ifb_cfgi_err_node(e, n, path, exp, "'%.*s' (more than 20 significant digits)", sh,
                                 t);
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
        return ifb_cfgi_err_node(e, n, path, "a time of at most 3600s (one hour of simulated time)",
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
        return ifb_cfgi_err_node(e, n, path, exp, "'%.*s'", (int)SHOW_CAP, t);
    errno = 0;
    long long v = strtoll(t, NULL, 10);
    if (errno == ERANGE || v < min || v > max)
        return ifb_cfgi_err_node(e, n, path, exp, "'%.*s' (out of range)", (int)SHOW_CAP, t);
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
        return ifb_cfgi_err_node(e, n, path, exp, "'%.*s'", (int)SHOW_CAP, t);
    if (v < min || v > max)
        return ifb_cfgi_err_node(e, n, path, exp, "'%.*s' (out of range)", (int)SHOW_CAP, t);
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
    return ifb_cfgi_err_node(e, n, path, exp, "'%.*s'", (int)SHOW_CAP, t);
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
        return ifb_cfgi_err_node(e, n, path, exp, "'%.*s' (did you mean '%s'?)", (int)SHOW_CAP,
                                 n->text, near);
    return ifb_cfgi_err_node(e, n, path, exp, "'%.*s'", (int)SHOW_CAP, n->text);
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
        ifb_cfgi_describe(k, found, sizeof found);
        return ifb_cfgi_err_at(e, k->file, line, sc.path,
                               "only entries the simulator reads (this one was ignored)", "%s%s",
                               found, more);
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
    return ifb_cfgi_err_at(e, k->file, line, sc.path, exp, "unknown key '%s'%s", k->key, more);
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
