/* cli.h - the subcommand table. Each subcommand lives in its own cli/cmd_*.c
 * and is listed once in cli/commands.c. A command returns the process exit
 * code: 0 success, 1 failure (after printing one line "genwave: ..."),
 * 2 bad usage. */
#ifndef GW_CLI_H
#define GW_CLI_H

#include <stdio.h>

typedef struct gw_cli_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
} gw_cli_command;

const gw_cli_command *gw_cli_find(const char *name);
void gw_cli_list_commands(FILE *out);

#endif
