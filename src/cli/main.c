/* infabric: the command-line entry point; dispatches to subcommands. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/err.h"

volatile sig_atomic_t ifb_cli_interrupted = 0;

static void on_signal(int sig)
{
    (void)sig;
    ifb_cli_interrupted = 1;
}

void ifb_cli_install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    struct sigaction hup;
    if (sigaction(SIGHUP, NULL, &hup) == 0 && hup.sa_handler != SIG_IGN)
        sigaction(SIGHUP, &sa, NULL); /* a hangup stops like SIGTERM, unless under nohup */
}

const char *ifb_cli_show(const char *s, char buf[IFB_CLI_SHOW_BUFSZ])
{
    size_t n = strlen(s);
    if (n <= IFB_CLI_SHOW_MAX) {
        snprintf(buf, IFB_CLI_SHOW_BUFSZ, "%s", s);
        return buf;
    }
    size_t k = IFB_CLI_SHOW_MAX;
    while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
        k--; /* s[k] is where the cut starts: not inside a multibyte character */
    snprintf(buf, IFB_CLI_SHOW_BUFSZ, "%.*s... (%zu bytes)", (int)k, s, n);
    return buf;
}

static void usage(FILE *f)
{
    fputs("usage: infabric <command> [options]\n"
          "\n"
          "A packet-level simulator of RoCEv2 and InfiniBand fabrics for MoE inference.\n"
          "\n"
          "commands:\n"
          "  run [SCENARIO...]  the serving experiment; with no scenario the reference\n"
          "                     experiment (RoCEv2 vs InfiniBand, 20..100 concurrent requests)\n"
          "  bench [SCENARIO]   microbenchmarks (pingpong, bw, incast, permutation, alltoall,\n"
          "                     allreduce) on a scenario's fabric, like perftest/nccl-tests\n"
          "  check SCENARIO     validate a scenario file without running it\n"
          "  help [COMMAND]     this text, or a command's options\n"
          "  version            print the version\n"
          "\n"
          "bench with no SCENARIO uses the embedded reference fabric "
          "(scenarios/reference-roce.yaml).\n"
          "Every scenario value can be overridden with --set key.path=value (docs/scenario.md).\n",
          f);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return IFB_EXIT_INPUT;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "bench"))
        return ifb_cmd_bench(argc - 1, argv + 1);
    if (!strcmp(cmd, "run"))
        return ifb_cmd_run(argc - 1, argv + 1);
    if (!strcmp(cmd, "check"))
        return ifb_cmd_check(argc - 1, argv + 1);
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("infabric %s (commit %s)\n", ifb_version(), ifb_version_commit());
        return 0;
    }
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        if (argc > 2 && !strcmp(argv[2], "bench")) {
            char *a[] = {"bench", "--help", NULL};
            return ifb_cmd_bench(2, a);
        }
        if (argc > 2 && !strcmp(argv[2], "run")) {
            char *a[] = {"run", "--help", NULL};
            return ifb_cmd_run(2, a);
        }
        if (argc > 2 && !strcmp(argv[2], "check")) {
            char *a[] = {"check", "--help", NULL};
            return ifb_cmd_check(2, a);
        }
        usage(stdout);
        return 0;
    }
    char show[IFB_CLI_SHOW_BUFSZ];
    fprintf(stderr, "infabric: unknown command '%s'\n\n", ifb_cli_show(cmd, show));
    usage(stderr);
    return IFB_EXIT_INPUT;
}
