/* The subcommand registry (one line per subcommand; each lives in a file of
 * its own). */
#include "scanner/commands.h"

#include <string.h>

extern const struct cs_command cs_command_diff, cs_command_history, cs_command_merge,
    cs_command_show;

static const struct cs_command *const commands[] = {
    &cs_command_diff,    /* cmd_diff.c */
    &cs_command_history, /* cmd_history.c */
    &cs_command_merge,   /* cmd_merge.c */
    &cs_command_show,    /* cmd_show.c */
    NULL,                /* the list ends here */
};

const struct cs_command *cs_command_find(const char *argv1)
{
    for (size_t i = 0; argv1 && commands[i]; i++)
        if (strcmp(argv1, commands[i]->name) == 0)
            return commands[i];
    return NULL;
}

const struct cs_command *cs_command_at(size_t i)
{
    for (size_t k = 0; commands[k]; k++)
        if (k == i)
            return commands[k];
    return NULL;
}

void cs_command_list(FILE *out)
{
    for (size_t i = 0; commands[i]; i++)
        fprintf(out, "  certsweep %s %s\n      %s\n", commands[i]->name, commands[i]->usage,
                commands[i]->summary);
}
