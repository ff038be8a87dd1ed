/* genwave command-line interface: parses arguments, calls the library, and is
 * the only place that prints errors and chooses exit codes. */
#include "base/gw_base.h"
#include "cli/cli.h"
#include "train/dist.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *out) {
    fprintf(out,
            "genwave %s - neural audio synthesizer and trainer\n\n"
            "usage: genwave <command> [options]\n\ncommands:\n",
            GW_VERSION_STRING);
    fprintf(out, "  %-14s %s\n", "help", "show this help");
    fprintf(out, "  %-14s %s\n", "--version", "print the version");
    gw_cli_list_commands(out);
    fprintf(out, "\nRun 'genwave <command> --help' for a command's options.\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
        printf("genwave %s\n", GW_VERSION_STRING);
        char mpi[256];
        printf("MPI: %s\n",
               gw_dist_compiled() ? gw_dist_library(mpi, sizeof mpi) : "not compiled in");
        return 0;
    }
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        usage(stdout);
        return 0;
    }
    const gw_cli_command *c = gw_cli_find(cmd);
    if (!c) {
        fprintf(stderr, "genwave: unknown command '%s' (try 'genwave help')\n", cmd);
        return 2;
    }
    return c->run(argc - 1, argv + 1);
}
