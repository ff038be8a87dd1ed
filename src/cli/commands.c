#include "cli/cli.h"

#include <string.h>

/* one line per subcommand; keep in the order `genwave help` shows them */
static const gw_cli_command table[] = {
    {NULL, NULL, NULL},
};

const gw_cli_command *gw_cli_find(const char *name) {
    for (const gw_cli_command *c = table; c->name; c++)
        if (!strcmp(c->name, name)) return c;
    return NULL;
}

void gw_cli_list_commands(FILE *out) {
    for (const gw_cli_command *c = table; c->name; c++)
        fprintf(out, "  %-14s %s\n", c->name, c->summary);
}
