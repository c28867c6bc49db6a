/* Subcommands of the `infabric` executable. Each returns the process exit status
 * (0 ok, 1 run failure, 2 bad input, 3 interrupted; core/err.h). */
#ifndef IFB_CLI_H
#define IFB_CLI_H
#include <signal.h>

int ifb_cmd_bench(int argc, char **argv);
int ifb_cmd_check(int argc, char **argv);
int ifb_cmd_run(int argc, char **argv);
/* The release and the git commit the binary was built from (generated, cmake/version.cmake). */
const char *ifb_version(void);
const char *ifb_version_commit(void);

/* Set by SIGINT/SIGTERM; the event loop polls it and stops after the current event. */
extern volatile sig_atomic_t ifb_cli_interrupted;
void ifb_cli_install_signals(void);

#endif
