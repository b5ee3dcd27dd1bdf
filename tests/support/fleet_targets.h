/* A targets file for scanning the test fleet by name, and the --resolve
 * pins that send each name to its port on 127.0.0.1 (no scan of the fleet
 * needs DNS), for the suites that check what certsweep reports about it. */
#ifndef CS_TEST_FLEET_TARGETS_H
#define CS_TEST_FLEET_TARGETS_H

#include <stdbool.h>
#include <stddef.h>

#include "tests/support/fleet.h"

/* Arguments for certsweep: "--resolve", "HOST:PORT:127.0.0.1", ... */
struct fleet_args {
    char **v; /* owned */
    size_t n;
};

/* Writes dir/targets.txt: one line per scenario that pick accepts (NULL:
   every scenario), then the lines of extra (NULL: none), and adds the pins
   of the scenarios (and of the OCSP and CRL hosts of foreign issuers) to
   pins.  The file's path (the caller frees it), or NULL. */
char *fleet_targets_write(const struct fleet *f, const char *dir,
                          bool (*pick)(const struct fleet_scenario *), const char *extra,
                          struct fleet_args *pins);
void fleet_args_add(struct fleet_args *a, const char *arg);
void fleet_args_free(struct fleet_args *a);
/* certsweep's arguments: the n of fixed, then pins, then more (NULL-terminated,
   or NULL), NULL-terminated; the caller frees the array (not the strings). */
const char **fleet_args_join(const char *const *fixed, size_t n, const struct fleet_args *pins,
                             const char *const *more);

#endif
