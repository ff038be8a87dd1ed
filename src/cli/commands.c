#include "cli/cli.h"

#include <string.h>

int gw_cmd_dataset(int argc, char **argv);
int gw_cmd_spectrogram(int argc, char **argv);

/* one line per subcommand; keep in the order `genwave help` shows them */
static const gw_cli_command table[] = {
    {"dataset", "scan a folder of sounds and report what training would use", gw_cmd_dataset},
    {"spectrogram", "draw a log-mel (or linear) spectrogram of a sound as PNG", gw_cmd_spectrogram},
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
