/* Checked allocation (see alloc.h). */
#include "core/alloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Noreturn void ifb_oom(size_t count, size_t size, const char *what)
{
    size_t bytes;
    if (ifb_size_mul(count, size, &bytes))
        (void)fprintf(stderr,
                      "infabric: out of memory allocating %zu x %zu bytes (more than the %zu "
                      "an address space holds) for %s\n",
                      count, size, (size_t)SIZE_MAX, what);
    else
        (void)fprintf(stderr, "infabric: out of memory allocating %zu bytes for %s\n", bytes, what);
    abort();
}

void *ifb_xmalloc(size_t bytes, const char *what)
{
    void *p = malloc(bytes ? bytes : 1);
    if (!p)
        ifb_oom(bytes, 1, what);
    return p;
}

void *ifb_xcalloc(size_t count, size_t size, const char *what)
{
    size_t bytes;
    if (ifb_size_mul(count, size, &bytes))
        ifb_oom(count, size, what);
    void *p = calloc(bytes ? count : 1, bytes ? size : 1);
    if (!p)
        ifb_oom(count, size, what);
    return p;
}

void *ifb_xrealloc(void *p, size_t count, size_t size, const char *what)
{
    size_t bytes;
    if (ifb_size_mul(count, size, &bytes))
        ifb_oom(count, size, what);
    void *q = realloc(p, bytes ? bytes : 1);
    if (!q)
        ifb_oom(count, size, what);
    return q;
}

char *ifb_xstrdup(const char *s, const char *what)
{
    size_t n = strlen(s) + 1;
    char *p = ifb_xmalloc(n, what);
    memcpy(p, s, n);
    return p;
}

char *ifb_xstrndup(const char *s, size_t n, const char *what)
{
    size_t len = strnlen(s, n);
    char *p = ifb_xmalloc(len + 1, what);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

void *ifb_xgrow(void *arr, size_t *cap, size_t n, size_t elem, size_t first, const char *what)
{
    if (n < *cap)
        return arr;
    size_t c = *cap ? *cap : (first ? first : 1);
    while (c <= n) {
        if (c > SIZE_MAX / 2) {
            c = n + 1 > n ? n + 1 : SIZE_MAX; /* past the last doubling: exactly enough */
            break;
        }
        c *= 2;
    }
    void *a = ifb_xrealloc(arr, c, elem, what);
    *cap = c;
    return a;
}
