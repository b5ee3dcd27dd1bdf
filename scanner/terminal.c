/* The terminal's wishes: colour and width (terminal.h). */
#include "scanner/terminal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "scanner/options.h"

bool cs_terminal_color(unsigned when, int fd)
{
    if (when != CS_COLOR_AUTO)
        return when == CS_COLOR_ALWAYS; /* asked for on the command line: beats the environment */
    const char *no_color = getenv("NO_COLOR");
    if (no_color != NULL && no_color[0] != '\0')
        return false; /* set but empty means nothing, as no-color.org says */
    const char *term = getenv("TERM");
    if (term != NULL && strcmp(term, "dumb") == 0)
        return false;
    return isatty(fd) == 1;
}

/* COLUMNS as a width, or 0 when unset or not a sensible one. */
static unsigned terminal_env_columns(void)
{
    const char *s = getenv("COLUMNS");
    if (s == NULL || s[0] < '1' || s[0] > '9')
        return 0;
    unsigned n = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        n = n * 10 + (unsigned)(*s - '0');
        if (n > CS_TERMINAL_MAX_COLUMNS)
            return 0;
    }
    return *s == '\0' ? n : 0;
}

unsigned cs_terminal_columns(int fd)
{
    unsigned n = terminal_env_columns();
    if (n != 0)
        return n;
    struct winsize ws;
    if (fd >= 0 && isatty(fd) == 1 && ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    return 0;
}
