/* Internal to the configuration tree (cfg.c: nodes, YAML building, loading; cfg_paths.c:
 * paths and --set; cfg_units.c: values with units; cfg_get.c: getters, unknown keys, dump).
 * Nothing outside src/scenario/cfg*.c includes it. */
#ifndef IFB_CFG_INT_H
#define IFB_CFG_INT_H
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "scenario/cfg.h"

/* Nodes created by ifb_cfg_set point at this file name; the pointer identifies them (one
 * definition, in cfg.c). */
extern const char ifb_cfgi_set_file[];

/* Deeper nesting than this is surely a mistake and would only risk the C stack. */
enum { MAX_DEPTH = 64, MAX_STEPS = 64, PATH_CAP = 512, SHOW_CAP = 160 };

typedef struct node {
    ifb_cfg_kind kind;
    const char *file; /* owning ifb_cfg's name or ifb_cfgi_set_file */
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

/* Nodes */
node *ifb_cfgi_node_new(ifb_cfg_kind kind, const char *file, int line);
void ifb_cfgi_node_free(node *n);
void ifb_cfgi_node_append(node *parent, node *kid);
node *ifb_cfgi_map_find(const node *m, const char *key, size_t klen);
/* Records that the program looked up key in map m (for did-you-mean suggestions). */
void ifb_cfgi_note_known(node *m, const char *key, size_t klen);
void ifb_cfgi_mark_tree(node *n);
bool ifb_cfgi_is_null(const node *n);
/* "a map", "a list of N", or the scalar's text cut to fit: what an error says it found. */
void ifb_cfgi_describe(const node *n, char *buf, size_t cap);
int ifb_cfgi_node_line(const node *n);
/* Errors: "FILE:LINE: PATH: expected EXPECTED, found ..."; return -1. */
int ifb_cfgi_verr_at(ifb_err *e, const char *file, int line, const char *path, const char *expected,
                     const char *fmt, va_list ap);
int ifb_cfgi_err_at(ifb_err *e, const char *file, int line, const char *path, const char *expected,
                    const char *fmt, ...) __attribute__((format(printf, 6, 7)));
int ifb_cfgi_err_node(ifb_err *e, const node *n, const char *path, const char *expected,
                      const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Parses YAML text into a tree (set_text/set_path: a --set value, for its error messages). */
int ifb_cfgi_parse_text(const char *text, size_t len, const char *file, const char *set_text,
                        const char *set_path, node **root, ifb_err *e);
/* Paths: the node at path (*out NULL when absent; *nearest the deepest existing ancestor). */
int ifb_cfgi_lookup(ifb_cfg *c, const char *path, node **out, node **nearest, ifb_err *e);
/* Units: the value of s in base units of kind (ps, bit/s, bytes, mm); unit gets the unit. */
pres ifb_cfgi_parse_unit(const char *s, ukind kind, uint64_t *out, char *unit, size_t unitcap);

#endif
