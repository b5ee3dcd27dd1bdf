/* The shared fleet suite setup (see fleet_fixture.h). */
#include "tests/support/fleet_fixture.h"

#include <criterion/criterion.h>
#include <stdlib.h>

#include "tests/support/runner.h"

struct fleet *fx_fleet;
char *fx_dir;

void fx_setup_with(const struct fleet_options *opts)
{
    fx_fleet = fleet_start(opts);
    cr_assert_not_null(fx_fleet, "the test fleet did not start");
    fx_dir = temp_dir();
    cr_assert_not_null(fx_dir, "no temporary directory");
}

void fx_setup(void)
{
    fx_setup_with(&(struct fleet_options){0});
}

void fx_teardown(void)
{
    fleet_stop(fx_fleet);
    fx_fleet = NULL;
    if (fx_dir != NULL)
        remove_tree(fx_dir);
    free(fx_dir);
    fx_dir = NULL;
}
