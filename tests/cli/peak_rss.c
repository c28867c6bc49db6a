/* peak_rss CMD [ARG...]: runs CMD and prints the peak resident set size of it and everything it
 * waited for, "peak_rss_kib N" on stderr; exits with CMD's status. For tests/cli/memory_flat.sh:
 * a script cannot measure this itself, because a process forked from Python (or any large
 * interpreter) starts with the interpreter's pages counted in its peak, which survives exec.
 * This launcher is a few hundred KiB, below anything infabric uses. */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: peak_rss CMD [ARG...]\n");
        return 2;
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("peak_rss: fork");
        return 2;
    }
    if (pid == 0) {
        execvp(argv[1], argv + 1);
        perror("peak_rss: exec");
        _exit(127);
    }
    int st;
    struct rusage ru;
    if (wait4(pid, &st, 0, &ru) != pid) {
        perror("peak_rss: wait4");
        return 2;
    }
    fprintf(stderr, "peak_rss_kib %ld\n", ru.ru_maxrss);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
