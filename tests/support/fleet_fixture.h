/* The setup most fleet suites share: our fleet server on loopback and a
 * fresh temporary directory, started before each test and removed after it,
 * even when the test fails.  Built into each test program (it asserts with
 * criterion), not into the support library. */
#ifndef CS_TEST_FLEET_FIXTURE_H
#define CS_TEST_FLEET_FIXTURE_H

#include "tests/support/fleet.h"

extern struct fleet *fx_fleet; /* the running fleet */
extern char *fx_dir;           /* the test's own directory */

/* .init: the fleet with its default options, and the directory. */
void fx_setup(void);
/* The same with other fleet options (a suite's own .init calls it). */
void fx_setup_with(const struct fleet_options *opts);
/* .fini: stops the fleet and removes the directory; safe after a failed
   setup. */
void fx_teardown(void);

#endif
