/* Fleet targets files and their pins (see fleet_targets.h). */
#include "tests/support/fleet_targets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fleet_args_add(struct fleet_args *a, const char *arg)
{
    a->v = realloc(a->v, (a->n + 1) * sizeof(*a->v));
    if (!a->v)
        abort();
    a->v[a->n] = strdup(arg);
    if (!a->v[a->n])
        abort();
    a->n++;
}

void fleet_args_free(struct fleet_args *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->v[i]);
    free(a->v);
    memset(a, 0, sizeof(*a));
}

char *fleet_targets_write(const struct fleet *f, const char *dir,
                          bool (*pick)(const struct fleet_scenario *), const char *extra,
                          struct fleet_args *pins)
{
    char *path;
    if (asprintf(&path, "%s/targets.txt", dir) < 0)
        return NULL;
    FILE *out = fopen(path, "w");
    if (!out) {
        free(path);
        return NULL;
    }
    static const char *const dead[] = {"ocsp.fleet.test:80:127.0.0.1",
                                       "crl.fleet.test:80:127.0.0.1"};
    for (size_t i = 0; i < 2; i++) {
        fleet_args_add(pins, "--resolve");
        fleet_args_add(pins, dead[i]);
    }
    for (size_t i = 0; i < fleet_count(f); i++) {
        const struct fleet_scenario *s = fleet_at(f, i);
        if (pick && !pick(s))
            continue;
        char pin[512];
        fprintf(out, "%s:%u\n", s->host, s->port);
        snprintf(pin, sizeof(pin), "%s:%u:127.0.0.1", s->host, s->port);
        fleet_args_add(pins, "--resolve");
        fleet_args_add(pins, pin);
    }
    if (extra)
        fputs(extra, out);
    if (fclose(out) != 0) {
        free(path);
        return NULL;
    }
    return path;
}

const char **fleet_args_join(const char *const *fixed, size_t n, const struct fleet_args *pins,
                             const char *const *more)
{
    size_t n_more = 0;
    while (more != NULL && more[n_more] != NULL)
        n_more++;
    const char **argv = calloc(n + pins->n + n_more + 1, sizeof(*argv));
    if (argv == NULL)
        abort();
    size_t a = 0;
    for (size_t i = 0; i < n; i++)
        argv[a++] = fixed[i];
    for (size_t i = 0; i < pins->n; i++)
        argv[a++] = pins->v[i];
    for (size_t i = 0; i < n_more; i++)
        argv[a++] = more[i];
    return argv;
}
