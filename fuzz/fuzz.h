/* Fuzz targets: one entry function per parser of outside input. Each fuzz_<target>.c defines
 * ifb_fuzz_<target>() and, unless IFB_FUZZ_NO_ENTRY is defined, the libFuzzer entry point that
 * calls it. tests/fuzz/test_regress.c includes the same files with IFB_FUZZ_NO_ENTRY and replays
 * fuzz/regress/<target>/ and fuzz/corpus/<target>/ through these functions, so a crash found by
 * the fuzzer stays a test in the ordinary (gcc, and ASan) builds.
 * An entry function returns 0 whatever the input; a broken invariant is __builtin_trap() (the
 * fuzzer reports it as a crash, the regression test dies with SIGILL), never a return code. */
#ifndef IFB_FUZZ_H
#define IFB_FUZZ_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

int ifb_fuzz_cfg(const uint8_t *data, size_t size);
int ifb_fuzz_model(const uint8_t *data, size_t size);
int ifb_fuzz_kernels(const uint8_t *data, size_t size);
int ifb_fuzz_topo(const uint8_t *data, size_t size);
int ifb_fuzz_wire(const uint8_t *data, size_t size);
int ifb_fuzz_trace(const uint8_t *data, size_t size);
int ifb_fuzz_scenario(const uint8_t *data, size_t size);

/* A broken invariant: the parser accepted something it should not have, or gave back values
 * that contradict its own contract. The condition is printed first, since inlining can leave
 * the stack trace without a line number. */
#define IFB_FUZZ_CHECK(cond)                                                                       \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond);           \
            __builtin_trap();                                                                      \
        }                                                                                          \
    } while (0)

/* NUL-terminated copy of n bytes, NULs inside included (the parsers take C strings). Harness
 * allocations go through core/alloc.h like the library's: under the fuzzer a failed allocation
 * is a finding (libFuzzer's -malloc_limit_mb and ASan report it before any NULL comes back), so
 * there is no input to skip. */
static inline char *ifb_fuzz_strndup(const uint8_t *d, size_t n)
{
    char *s = ifb_xmalloc(n + 1, "a fuzz input");
    if (n)
        memcpy(s, d, n);
    s[n] = '\0';
    return s;
}

/* Offset of the first byte equal to c in d[0..n), or n. */
static inline size_t ifb_fuzz_find(const uint8_t *d, size_t n, uint8_t c)
{
    const uint8_t *p = n ? memchr(d, c, n) : NULL;
    return p ? (size_t)(p - d) : n;
}

#endif
