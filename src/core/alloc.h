/* The one way infabric allocates memory. A simulation cannot carry on without the memory it
 * asks for, and a half-built model gives wrong answers, so every allocation either succeeds or
 * reports what it was for and how much it asked ("infabric: out of memory allocating N bytes
 * for WHAT") and aborts. Sizes are multiplied and doubled with overflow checks: a count times
 * an element size that does not fit in size_t is reported the same way instead of wrapping to a
 * small buffer. Allocation sizes of zero are served as one byte so that NULL always means
 * failure (and is never returned). */
#ifndef IFB_ALLOC_H
#define IFB_ALLOC_H
#include <stddef.h>

/* a * b into *out; returns 0, or -1 (and leaves *out alone) when it does not fit in size_t. */
static inline int ifb_size_mul(size_t a, size_t b, size_t *out)
{
    size_t r;
    if (__builtin_mul_overflow(a, b, &r))
        return -1;
    *out = r;
    return 0;
}
/* a + b into *out; returns 0, or -1 when it does not fit. */
static inline int ifb_size_add(size_t a, size_t b, size_t *out)
{
    size_t r;
    if (__builtin_add_overflow(a, b, &r))
        return -1;
    *out = r;
    return 0;
}

/* `what` names the object in the report (e.g. "the trace rows"); it may not be NULL. */
void *ifb_xmalloc(size_t bytes, const char *what);
void *ifb_xcalloc(size_t count, size_t size, const char *what);
/* Resizes p to count * size bytes (checked). */
void *ifb_xrealloc(void *p, size_t count, size_t size, const char *what);
char *ifb_xstrdup(const char *s, const char *what);
/* The first n bytes of s (fewer if s ends sooner), NUL-terminated. */
char *ifb_xstrndup(const char *s, size_t n, const char *what);
/* Room for element `n` of a doubling array of `elem`-byte elements (capacity *cap, `first` on
 * the first call): returns the array, moved if it had to grow, with *cap updated. The doubling
 * and the byte count are checked. */
void *ifb_xgrow(void *arr, size_t *cap, size_t n, size_t elem, size_t first, const char *what);
/* Reports and aborts (for allocations made by other means, e.g. aligned_alloc). */
_Noreturn void ifb_oom(size_t count, size_t size, const char *what);

#endif
