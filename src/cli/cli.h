/* Subcommands of the `infabric` executable. Each returns the process exit status
 * (0 ok, 1 run failure, 2 bad input, 3 interrupted; core/err.h). */
#ifndef IFB_CLI_H
#define IFB_CLI_H
#include <signal.h>
#include <stddef.h>

int ifb_cmd_bench(int argc, char **argv);
int ifb_cmd_check(int argc, char **argv);
int ifb_cmd_run(int argc, char **argv);
/* The release and the git commit the binary was built from (generated, cmake/version.cmake). */
const char *ifb_version(void);
const char *ifb_version_commit(void);

/* Set by SIGINT, SIGTERM and SIGHUP; the event loop polls it and stops after the current
 * event. */
extern volatile sig_atomic_t ifb_cli_interrupted;
/* Catches SIGINT, SIGTERM and SIGHUP (a SIGHUP ignored at start, as under nohup, stays
 * ignored). Commands call it before any work. */
void ifb_cli_install_signals(void);

/* Command-line input echoed in an error message is cut to this many bytes, so one bad value
 * cannot flood the terminal. */
#define IFB_CLI_SHOW_MAX 120
#define IFB_CLI_SHOW_BUFSZ (IFB_CLI_SHOW_MAX + 48)
/* s, or its first IFB_CLI_SHOW_MAX bytes (cut at a UTF-8 character boundary) followed by
 * "... (N bytes)", in buf; returns buf. */
const char *ifb_cli_show(const char *s, char buf[IFB_CLI_SHOW_BUFSZ]);

#endif
