/* The probe registry: one line per protocol. */
#include <string.h>

#include "probe.h"

static const struct cs_probe *const probes[] = {
    &cs_probe_direct,
};

const struct cs_probe *cs_probe_by_name(const char *name)
{
    for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
        if (strcmp(probes[i]->name, name) == 0)
            return probes[i];
    return NULL;
}

void cs_probe_list(FILE *out)
{
    for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
        fprintf(out, "  %-8s port %-5u %s\n", probes[i]->name, probes[i]->default_port,
                probes[i]->helptext);
}
