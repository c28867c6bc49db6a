/* Out of memory and size overflow: every allocation of the project goes through core/alloc.h,
 * which either returns usable memory or reports what it was for and how much was asked, then
 * aborts. A count times an element size that wraps around size_t must never turn into a small
 * buffer that is then written as if it were large (the pool's chunk size and the doubling array
 * did exactly that). Each case runs in a child process: the parent checks that the child died
 * of SIGABRT and what it wrote to stderr. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/pool.h"

/* Under AddressSanitizer a failed allocation must come back as NULL (as from glibc) for the
 * project's own report to be tested. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "allocator_may_return_null=1";
}

/* Runs fn in a child with stderr captured; returns what it wrote, *sig the signal that ended it
 * (0 if it exited) and *code its exit status. */
static char *in_child(void (*fn)(void), int *sig, int *code)
{
    int fd[2];
    assert_int_equal(pipe(fd), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fd[0]);
        dup2(fd[1], 2);
        alarm(20); /* a size loop that never ends shows up as SIGALRM */
        fn();
        _exit(0);
    }
    close(fd[1]);
    static char buf[4096];
    size_t n = 0;
    ssize_t got;
    while (n + 1 < sizeof buf && (got = read(fd[0], buf + n, sizeof buf - 1 - n)) > 0)
        n += (size_t)got;
    buf[n] = 0;
    close(fd[0]);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    *sig = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
    *code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return buf;
}

static void expect_report(void (*fn)(void), const char *needle)
{
    int sig, code;
    const char *err = in_child(fn, &sig, &code);
    if (sig != SIGABRT || !strstr(err, needle))
        fail_msg("expected SIGABRT and a report containing \"%s\"; got signal %d, exit %d, "
                 "stderr \"%s\"",
                 needle, sig, code, err);
}

/* A doubling array asked for an element whose byte offset does not fit in size_t. */
static void grow_past_size_max(void)
{
    size_t cap = 0;
    char *a = ifb_grow(NULL, &cap, SIZE_MAX / 8, 16, 64);
    a[(SIZE_MAX / 8) * 16 % 4096] = 1; /* what a caller would do next */
    free(a);
}

static void test_grow_overflow_reported(void **state)
{
    (void)state;
    expect_report(grow_past_size_max, "infabric: out of memory allocating");
}

/* The doubling itself near SIZE_MAX: the capacity must not wrap to 0 and loop forever. */
static void grow_doubling_wraps(void)
{
    size_t cap = (SIZE_MAX >> 1) + 1; /* as if an array of that many bytes existed */
    ifb_grow(NULL, &cap, SIZE_MAX - 1, 1, 64);
}

static void test_grow_doubling_reported(void **state)
{
    (void)state;
    expect_report(grow_doubling_wraps, "out of memory allocating");
}

/* A pool whose chunk (object size x objects per chunk) does not fit in size_t. */
static void pool_chunk_wraps(void)
{
    ifb_pool p;
    ifb_pool_init(&p, SIZE_MAX / 512, 1024);
    memset(ifb_pool_get(&p), 0xff, 64);
    ifb_pool_destroy(&p);
}

static void test_pool_overflow_reported(void **state)
{
    (void)state;
    expect_report(pool_chunk_wraps, "for a pool chunk");
}

static void malloc_too_much(void)
{
    ifb_xmalloc(SIZE_MAX / 2, "the test's huge buffer");
}

static void calloc_wraps(void)
{
    ifb_xcalloc(SIZE_MAX / 4, 16, "the test's rows");
}

static void realloc_wraps(void)
{
    ifb_xrealloc(NULL, 3, SIZE_MAX / 2, "the test's table");
}

/* The report says how much and for what, so a user can tell a too-large input from a bug. */
static void test_reports_name_size_and_object(void **state)
{
    (void)state;
    char want[128];
    snprintf(want, sizeof want, "out of memory allocating %zu bytes for the test's huge buffer",
             SIZE_MAX / 2);
    expect_report(malloc_too_much, want);
    snprintf(want, sizeof want, "allocating %zu x 16 bytes", SIZE_MAX / 4);
    expect_report(calloc_wraps, want);
    expect_report(calloc_wraps, "for the test's rows");
    expect_report(realloc_wraps, "for the test's table");
}

static void test_checked_arithmetic(void **state)
{
    (void)state;
    size_t r = 7;
    assert_int_equal(ifb_size_mul(SIZE_MAX / 2, 3, &r), -1);
    assert_int_equal(r, 7); /* untouched on overflow */
    assert_int_equal(ifb_size_mul(1u << 20, 1u << 10, &r), 0);
    assert_int_equal(r, (size_t)1 << 30);
    assert_int_equal(ifb_size_add(SIZE_MAX, 1, &r), -1);
    assert_int_equal(ifb_size_add(SIZE_MAX - 1, 1, &r), 0);
    assert_true(r == SIZE_MAX);
}

/* The ordinary path still works: growth keeps the contents, zero sizes give usable pointers. */
static void test_ordinary_growth(void **state)
{
    (void)state;
    size_t cap = 0;
    int *a = NULL;
    for (size_t i = 0; i < 1000; i++) {
        a = ifb_xgrow(a, &cap, i, sizeof *a, 4, "test ints");
        a[i] = (int)i;
    }
    assert_true(cap >= 1000 && cap < 2048);
    for (size_t i = 0; i < 1000; i++)
        assert_int_equal(a[i], (int)i);
    free(a);
    void *z = ifb_xcalloc(0, 8, "nothing");
    assert_non_null(z);
    free(z);
    char *d = ifb_xstrdup("abc", "a string");
    assert_string_equal(d, "abc");
    free(d);
    d = ifb_xstrndup("abcdef", 3, "a prefix");
    assert_string_equal(d, "abc");
    free(d);
    d = ifb_xstrndup("ab", 5, "a short string");
    assert_string_equal(d, "ab");
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grow_overflow_reported),
        cmocka_unit_test(test_grow_doubling_reported),
        cmocka_unit_test(test_pool_overflow_reported),
        cmocka_unit_test(test_reports_name_size_and_object),
        cmocka_unit_test(test_checked_arithmetic),
        cmocka_unit_test(test_ordinary_growth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
