/* A per-run CSV (requests.csv, util.csv) whose line does not fit in memory. getline() returns
 * -1 both at the end of the file and when it cannot grow its buffer (ENOMEM, neither feof nor
 * ferror set); the reader used to take the second for the first and hand the figures the rows
 * before that line as the whole table, a quiet wrong answer. It must report the allocation and
 * abort, as every out-of-memory does (core/alloc.h). The child runs under an address-space limit
 * a little above what it uses; the file has a header, a row, one line larger than the limit,
 * then another row. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "report/csvread.h"

/* Under AddressSanitizer a failed allocation must come back as NULL (as from glibc) for the
 * reader's own handling to be tested. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "allocator_may_return_null=1";
}

enum { BIG = 64 << 20, SLACK = 16 << 20 };

static char path[1024];

static void write_file(void)
{
    snprintf(path, sizeof path, "%s/csv_oom_XXXXXX", IFB_BIN_DIR);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    fputs("a,b\n1,2\n", f);
    static char chunk[1 << 16];
    memset(chunk, 'x', sizeof chunk);
    for (size_t n = 0; n < BIG; n += sizeof chunk)
        assert_int_equal(fwrite(chunk, 1, sizeof chunk, f), sizeof chunk);
    fputs(",y\n3,4\n", f);
    assert_int_equal(fclose(f), 0);
}

static int count_row(void *ctx, size_t row, char **fields, size_t n)
{
    (void)fields;
    (void)n;
    *(int *)ctx += row > 0;
    return 0;
}

/* The child: limits its address space to what it maps now plus SLACK (less than the line),
 * reads the file and exits with the number of data rows it got (3 = the whole file). */
static void child(void)
{
    long pages = 0;
    FILE *st = fopen("/proc/self/statm", "r");
    if (!st || fscanf(st, "%ld", &pages) != 1)
        _exit(100);
    fclose(st);
    rlim_t lim = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + SLACK;
    struct rlimit rl = {lim, lim};
    if (setrlimit(RLIMIT_AS, &rl))
        _exit(101);
    int rows = 0;
    ifb_err e = {{0}};
    if (ifb_csv_each(path, count_row, &rows, &e))
        _exit(102);
    _exit(rows);
}

static void test_line_beyond_memory_is_reported(void **state)
{
    (void)state;
    write_file();
    int fd[2];
    assert_int_equal(pipe(fd), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fd[0]);
        dup2(fd[1], 2);
        child();
    }
    close(fd[1]);
    char buf[4096];
    size_t n = 0;
    ssize_t got;
    while (n + 1 < sizeof buf && (got = read(fd[0], buf + n, sizeof buf - 1 - n)) > 0)
        n += (size_t)got;
    buf[n] = 0;
    close(fd[0]);
    int stw;
    assert_int_equal(waitpid(pid, &stw, 0), pid);
    unlink(path);
    if (WIFEXITED(stw))
        fail_msg("the read ended with exit %d (%s), stderr \"%s\"", WEXITSTATUS(stw),
                 WEXITSTATUS(stw) == 1     ? "1 row: the table was cut at the long line"
                 : WEXITSTATUS(stw) == 3   ? "3 rows: the limit did not bite"
                 : WEXITSTATUS(stw) == 102 ? "the reader refused the file"
                                           : "the test's own set-up failed",
                 buf);
    assert_true(WIFSIGNALED(stw));
    assert_int_equal(WTERMSIG(stw), SIGABRT);
    assert_non_null(strstr(buf, "out of memory allocating"));
    assert_non_null(strstr(buf, "a CSV line"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_beyond_memory_is_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
