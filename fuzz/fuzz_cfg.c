/* Fuzz target: the scenario YAML parser and everything a program does with the tree
 * (scenario/cfg.h): loading, --set overrides, every typed getter, the structure queries,
 * mark_used, check_unused and dump.
 *
 * Input: YAML text, optionally followed by a NUL byte and NUL-separated operations, applied in
 * order (so the fuzzer derives the paths and overrides from its own bytes):
 *   's' KEY.PATH=VALUE   ifb_cfg_set
 *   'm' PATH             ifb_cfg_mark_used
 *   anything else        PATH read with every getter and structure query
 * A seed corpus of plain scenario files starts with no operations.
 *
 * Invariants (a violation traps): every failing call fills its ifb_err; the dump of a loaded
 * tree loads again and dumps to the same text (what --dump-config promises a user who feeds it
 * back); after every node has been visited through the public API (map keys, sequence indexes,
 * getters), check_unused finds no unread key. Left out: the scenario layer on top
 * (scenario.c), which only reads this tree. */
#include <stdbool.h>
#include <stdio.h>

#include "fuzz.h"
#include "scenario/cfg.h"

enum { WALK_NODES = 1500, FUZZ_PATH = 600 };

static const char *const enum_names[] = {"roce", "ib", "dcqcn", "none", NULL};

/* ifb_err is reset before each call so a failure that forgets to fill it is seen. */
#define CALL_FAILS_WITH_MESSAGE(call)                                                              \
    do {                                                                                           \
        e.msg[0] = '\0';                                                                           \
        int r_ = (call);                                                                           \
        IFB_FUZZ_CHECK(r_ == 0 || r_ == -1);                                                       \
        IFB_FUZZ_CHECK(r_ == 0 || e.msg[0] != '\0');                                               \
    } while (0)

/* Every getter and query on one path. */
static void read_all(ifb_cfg *c, const char *path)
{
    ifb_err e;
    uint64_t u;
    ifb_time t;
    int64_t i;
    double d;
    bool b;
    const char *s = NULL;
    int k, n, line;
    CALL_FAILS_WITH_MESSAGE(ifb_cfg_get_rate(c, path, 1, &u, &e));
    CALL_FAILS_WITH_MESSAGE(ifb_cfg_get_time(c, path, 0, &t, &e));
    CALL_FAILS_WITH_MESSAGE(ifb_cfg_get_distance(c, path, 0, &u, &e));
    CALL_FAILS_WITH_MESSAGE(ifb_cfg_get_bytes(c, path, 0, &u, &e));
    CALL_FAILS_WITH_MESSAGE(ifb_cfg_get_int(c, path, 0, INT64_MIN, INT64_MAX, &i, &e));
    CALL_FAILS_WITH_MESSAGE(ifb_cfg_get_int(c, path, 1, 1, 64, &i, &e));
    CALL_FAILS_WITH_MESSAGE(ifb_cfg_get_double(c, path, 0, -1e300, 1e300, &d, &e));
    CALL_FAILS_WITH_MESSAGE(ifb_cfg_get_bool(c, path, false, &b, &e));
    e.msg[0] = '\0';
    if (ifb_cfg_get_string(c, path, "default", &s, &e) == 0)
        IFB_FUZZ_CHECK(s != NULL);
    else
        IFB_FUZZ_CHECK(e.msg[0] != '\0');
    e.msg[0] = '\0';
    if (ifb_cfg_get_enum(c, path, enum_names, 1, &k, &e) == 0)
        IFB_FUZZ_CHECK(k >= 0 && k < 4);
    else
        IFB_FUZZ_CHECK(e.msg[0] != '\0');
    ifb_cfg_kind kind = ifb_cfg_type(c, path);
    e.msg[0] = '\0';
    if (ifb_cfg_seq_len(c, path, &n, &e) == 0)
        IFB_FUZZ_CHECK(kind == IFB_CFG_SEQ ? n >= 0 : n == -1);
    e.msg[0] = '\0';
    if (ifb_cfg_map_len(c, path, &n, &e) == 0) {
        IFB_FUZZ_CHECK(kind == IFB_CFG_MAP ? n >= 0 : n == -1);
        for (int j = -1; j <= n && j < 4; j++) {
            const char *key = ifb_cfg_map_key(c, path, j, &line);
            IFB_FUZZ_CHECK((key != NULL) == (j >= 0 && j < n));
        }
    }
    const char *file = NULL;
    line = ifb_cfg_where(c, path, &file);
    IFB_FUZZ_CHECK((line >= 0) == (kind != IFB_CFG_ABSENT));
    e.msg[0] = '\0';
    IFB_FUZZ_CHECK(ifb_cfg_errf(c, path, &e, "something", "%s", "fuzz") == -1 && e.msg[0]);
}

/* Visits every node below path through the public API. *complete turns false when a path does
 * not fit or the node budget runs out (then unread keys may legitimately remain). */
static void walk(ifb_cfg *c, const char *path, int depth, int *budget, bool *complete)
{
    if (--*budget < 0 || depth > 80) {
        *complete = false;
        return;
    }
    read_all(c, path);
    ifb_err e;
    int n;
    char child[FUZZ_PATH];
    ifb_cfg_kind kind = ifb_cfg_type(c, path);
    if (kind == IFB_CFG_MAP) {
        IFB_FUZZ_CHECK(ifb_cfg_map_len(c, path, &n, &e) == 0 && n >= 0);
        for (int i = 0; i < n; i++) {
            const char *key = ifb_cfg_map_key(c, path, i, NULL);
            IFB_FUZZ_CHECK(key != NULL);
            /* The contract: keys never contain a path separator. */
            IFB_FUZZ_CHECK(!strpbrk(key, ".[]="));
            int len = path[0] ? snprintf(child, sizeof child, "%s.%s", path, key)
                              : snprintf(child, sizeof child, "%s", key);
            if (len < 0 || (size_t)len >= sizeof child) {
                *complete = false;
                continue;
            }
            walk(c, child, depth + 1, budget, complete);
        }
    } else if (kind == IFB_CFG_SEQ) {
        IFB_FUZZ_CHECK(ifb_cfg_seq_len(c, path, &n, &e) == 0 && n >= 0);
        for (int i = 0; i < n; i++) {
            int len = snprintf(child, sizeof child, "%s[%d]", path, i);
            if (len < 0 || (size_t)len >= sizeof child) {
                *complete = false;
                continue;
            }
            walk(c, child, depth + 1, budget, complete);
        }
    }
}

/* The dump loads again and is a fixed point. */
static void check_dump(const ifb_cfg *c)
{
    /* cfg.h: NULL only when libyaml fails, and the tree holds only text it can emit. */
    char *d1 = ifb_cfg_dump(c);
    if (!d1) {
        fprintf(stderr, "fuzz_cfg: ifb_cfg_dump returned NULL\n");
        __builtin_trap();
    }
    ifb_err e;
    e.msg[0] = '\0';
    ifb_cfg *c2 = ifb_cfg_load_string(d1, "<dump>", &e);
    if (!c2) {
        fprintf(stderr, "fuzz_cfg: dump does not load: %s\n--- dump ---\n%s\n", e.msg, d1);
        __builtin_trap();
    }
    char *d2 = ifb_cfg_dump(c2);
    IFB_FUZZ_CHECK(d2 != NULL);
    if (strcmp(d1, d2) != 0) {
        fprintf(stderr, "fuzz_cfg: dump not a fixed point\n--- 1 ---\n%s\n--- 2 ---\n%s\n", d1, d2);
        __builtin_trap();
    }
    free(d2);
    ifb_cfg_free(c2);
    free(d1);
}

int ifb_fuzz_cfg(const uint8_t *data, size_t size)
{
    size_t ylen = ifb_fuzz_find(data, size, 0);
    char *text = ifb_fuzz_strndup(data, ylen);
    ifb_err e;
    e.msg[0] = '\0';
    ifb_cfg *c = ifb_cfg_load_string(text, "fuzz.yaml", &e);
    free(text);
    if (!c) {
        IFB_FUZZ_CHECK(e.msg[0] != '\0');
        return 0;
    }
    IFB_FUZZ_CHECK(ifb_cfg_type(c, "") == IFB_CFG_MAP);
    /* Operations. */
    size_t pos = ylen + 1;
    while (pos < size) {
        size_t n = ifb_fuzz_find(data + pos, size - pos, 0);
        char *op = ifb_fuzz_strndup(data + pos, n);
        pos += n + 1;
        if (op[0] == 's') {
            e.msg[0] = '\0';
            int r = ifb_cfg_set(c, op + 1, &e);
            IFB_FUZZ_CHECK(r == 0 || (r == -1 && e.msg[0] != '\0'));
        } else if (op[0] == 'm') {
            ifb_cfg_mark_used(c, op + 1);
        } else {
            read_all(c, op);
        }
        free(op);
    }
    /* What the program reports about the keys read so far. */
    e.msg[0] = '\0';
    int r = ifb_cfg_check_unused(c, &e);
    IFB_FUZZ_CHECK(r == 0 || (r == -1 && e.msg[0] != '\0'));
    check_dump(c);
    /* Reading everything leaves no key unread. */
    bool complete = true;
    int budget = WALK_NODES;
    walk(c, "", 0, &budget, &complete);
    if (complete) {
        e.msg[0] = '\0';
        if (ifb_cfg_check_unused(c, &e) != 0) {
            fprintf(stderr, "fuzz_cfg: unread key after visiting every node: %s\n", e.msg);
            __builtin_trap();
        }
    }
    ifb_cfg_free(c);
    return 0;
}

#ifndef IFB_FUZZ_NO_ENTRY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return ifb_fuzz_cfg(data, size);
}
#endif
