/* Configuration tree: the one place every module reads its parameters from.
 *
 * A scenario file (YAML, one document, a map at the top) is loaded into a tree of maps,
 * sequences and scalars. Every node remembers its source file and 1-based line, so any
 * complaint about a value can point at it. Command-line `--set key.path=value` overrides edit
 * the same tree (their nodes report file "--set", line 0, and messages say `--set key.path`).
 * Modules read values through typed getters that understand units (400Gbps, 560ns, 4KiB, 5m)
 * and mark what they read; afterwards ifb_cfg_check_unused() reports any key nobody read,
 * which catches typos such as `swich:` that would otherwise be silently ignored.
 *
 * Paths: dotted keys with sequence indexes, e.g. "fabric.links[2].rate", "workload.concurrency".
 * "" is the top-level map. Because '.', '[' and ']' separate path parts (and '=' ends the path
 * in --set), map keys containing any of them are rejected when the file is loaded.
 *
 * Left out on purpose: anchors/aliases (&x, *x), merge keys, multiple documents and non-scalar
 * map keys are rejected with a clear message; tags (!!str) are ignored. No global state; a tree
 * is not thread-safe (getters mark nodes). */
#ifndef IFB_CFG_H
#define IFB_CFG_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/time.h"

typedef struct ifb_cfg ifb_cfg;

typedef enum ifb_cfg_kind {
    IFB_CFG_ABSENT = 0,
    IFB_CFG_SCALAR,
    IFB_CFG_SEQ,
    IFB_CFG_MAP,
} ifb_cfg_kind;

/* ---- Loading ---------------------------------------------------------------------------- */

/* Parses a YAML file. Returns NULL with e filled on a missing/unreadable file ("cannot open
 * FILE: reason"), malformed YAML (file, line, column and libyaml's problem), duplicate keys,
 * anchors/aliases, a second document, or a top level that is not a map. An empty file gives an
 * empty map. */
ifb_cfg *ifb_cfg_load_file(const char *path, ifb_err *e);
/* Same for text in memory; `name` is used as the file name in messages
 * (e.g. "<embedded reference>"). */
ifb_cfg *ifb_cfg_load_string(const char *text, const char *name, ifb_err *e);
void ifb_cfg_free(ifb_cfg *c);
/* The file name given at load time. */
const char *ifb_cfg_name(const ifb_cfg *c);

/* Applies one command-line override "key.path=value". Intermediate maps are created as needed;
 * an index may address an existing element or append one (index == length). The value is a
 * scalar (stored as written, surrounding spaces trimmed, so "20,40,60" stays one string for the
 * caller to split), a quoted YAML scalar, or a YAML flow collection ("[a, b]", "{k: v}").
 * The new node replaces any previous value at that path and starts unread. */
int ifb_cfg_set(ifb_cfg *c, const char *assign, ifb_err *e);

/* ---- Typed getters -----------------------------------------------------------------------
 * Each returns 0 when the path is absent (*out = default) or holds a valid value (*out = value),
 * and -1 with e filled when the value is present but invalid, or when a path prefix has the
 * wrong shape (e.g. "fabric.rate" where `fabric` is a scalar). *out is untouched on error.
 * Reading marks the node (and the keys leading to it) as used. A null value (`key:` with
 * nothing, or `~`) counts as present and invalid for every getter, so a forgotten value never
 * silently becomes the default.
 *
 * Unit values are decimal numbers (fraction and exponent allowed, e.g. 1.6Tbps, 2.5us, 1e3ns),
 * optional spaces, then a unit. The unit is required: a bare number is an error for all of
 * them, bytes included (counts such as `messages: 4096` use ifb_cfg_get_int). The result must
 * be a whole number of the base unit and fit in 64 bits; negative values are rejected. */

/* bits/s, > 0. Units: bps b/s Kbps kbps Mbps Gbps Tbps (and Kb/s.. Tb/s), bare K k M G T
 * (bits), byte rates Bps B/s KB/s kB/s MB/s GB/s TB/s KBps..TBps, KiB/s MiB/s GiB/s TiB/s. */
int ifb_cfg_get_rate(ifb_cfg *c, const char *path, uint64_t def, uint64_t *out, ifb_err *e);
/* Picoseconds, >= 0. Units: ps ns us µs μs ms s. "0.5ps" is rejected (not a whole ps). */
int ifb_cfg_get_time(ifb_cfg *c, const char *path, ifb_time def, ifb_time *out, ifb_err *e);
/* Millimetres, >= 0. Units: mm cm m km. */
int ifb_cfg_get_distance(ifb_cfg *c, const char *path, uint64_t def_mm, uint64_t *out_mm,
                         ifb_err *e);
/* Bytes, >= 0. Units: B; decimal kB KB MB GB TB (KB = 1000); binary KiB MiB GiB TiB. */
int ifb_cfg_get_bytes(ifb_cfg *c, const char *path, uint64_t def, uint64_t *out, ifb_err *e);
/* Decimal integer (optional sign) within [min, max]. */
int ifb_cfg_get_int(ifb_cfg *c, const char *path, int64_t def, int64_t min, int64_t max,
                    int64_t *out, ifb_err *e);
/* Finite decimal number within [min, max]. */
int ifb_cfg_get_double(ifb_cfg *c, const char *path, double def, double min, double max,
                       double *out, ifb_err *e);
/* true/false, yes/no, on/off (any letter case). */
int ifb_cfg_get_bool(ifb_cfg *c, const char *path, bool def, bool *out, ifb_err *e);
/* Any scalar (a quoted "" is a valid empty string). The pointer stays valid until
 * ifb_cfg_free or an ifb_cfg_set that replaces this node. */
int ifb_cfg_get_string(ifb_cfg *c, const char *path, const char *def, const char **out, ifb_err *e);
/* One of `names` (NULL-terminated, exact match); *out = its index, or def when absent.
 * The message lists the allowed names and suggests the closest one. */
int ifb_cfg_get_enum(ifb_cfg *c, const char *path, const char *const *names, int def, int *out,
                     ifb_err *e);

/* ---- Structure ---------------------------------------------------------------------------- */

/* Kind of the node at path (IFB_CFG_ABSENT if missing or a prefix has the wrong shape). */
ifb_cfg_kind ifb_cfg_type(ifb_cfg *c, const char *path);
static inline bool ifb_cfg_has(ifb_cfg *c, const char *path)
{
    return ifb_cfg_type(c, path) != IFB_CFG_ABSENT;
}
/* Sequence length in *n, or *n = -1 if absent; -1 with e filled if present but not a sequence. */
int ifb_cfg_seq_len(ifb_cfg *c, const char *path, int *n, ifb_err *e);
/* Number of keys in *n, or *n = -1 if absent; -1 with e filled if present but not a map. */
int ifb_cfg_map_len(ifb_cfg *c, const char *path, int *n, ifb_err *e);
/* Key i (0-based, document order) of the map at path, or NULL if out of range / not a map.
 * *line (if non-NULL) gets the key's line (0 for --set). Build child paths with
 * snprintf("%s.%s", path, key): keys never contain '.', '[', ']' or '='. */
const char *ifb_cfg_map_key(ifb_cfg *c, const char *path, int i, int *line);
/* Line of the node at path (0 for --set nodes), -1 if absent; *file (if non-NULL) gets its file
 * name ("--set" for overrides). Use for messages about relations between values. */
int ifb_cfg_where(ifb_cfg *c, const char *path, const char **file);
/* Fills e like the getters do, located at the node at path (or, if absent, at its nearest
 * existing parent: handy for "required key missing"). Returns -1. */
int ifb_cfg_errf(ifb_cfg *c, const char *path, ifb_err *e, const char *expected,
                 const char *found_fmt, ...) __attribute__((format(printf, 5, 6)));

/* ---- Unknown keys ------------------------------------------------------------------------- */

/* Copies into the map at `to` every key of the map at `from` that `to` lacks (recursing into
 * maps both have: what `to` holds itself wins), e.g. a fabric kind's own section into the fabric
 * (`fabric.infiniband` into `fabric`). Copies keep their file and line and start unread, so a
 * typo in them is reported like any other; `from` is marked read. Absent `from`: nothing to do.
 * -1 with e filled if `from` is not a map. */
int ifb_cfg_merge_missing(ifb_cfg *c, const char *from, const char *to, ifb_err *e);
/* Marks the node at path and everything below it as used (sections a consumer skips on
 * purpose). Absent paths are ignored. */
void ifb_cfg_mark_used(ifb_cfg *c, const char *path);
/* Any lookup (getter, type, seq/map_len, where) marks the keys it passes through; a key never
 * looked up is unknown. Reports the first one in document order:
 *   "FILE:LINE: fabric.swich: expected a key documented in docs/scenario.md (did you mean
 *    'switch'? keys read here: links, switch), found unknown key 'swich' (and 1 more)"
 * Suggestions come from the keys the program asked for in that map. Returns 0 if none. */
int ifb_cfg_check_unused(ifb_cfg *c, ifb_err *e);

/* Every path the program looked up in this tree (getters, type and length queries), present in
 * the file or not, sorted, each once: the keys this program reads, for `check --list-keys` and
 * shell completion. The array stays valid until the next lookup or ifb_cfg_free. */
size_t ifb_cfg_asked(ifb_cfg *c, const char *const **out);

/* ---- Output ------------------------------------------------------------------------------- */

/* The tree (after --set) as block YAML, keys in document order; malloc'd, caller frees.
 * Deterministic: the same input and overrides give the same text. NULL if libyaml fails (its own
 * allocations run out, or it refuses the text). */
char *ifb_cfg_dump(const ifb_cfg *c);

/* ---- Unit parsing without a tree (command line) -------------------------------------------
 * Same syntax and rules as the getters above; 0 on success, -1 on any error. */
int ifb_parse_rate(const char *s, uint64_t *bps);
int ifb_parse_time(const char *s, ifb_time *ps);
int ifb_parse_bytes(const char *s, uint64_t *bytes);
int ifb_parse_distance(const char *s, uint64_t *mm);

#endif
