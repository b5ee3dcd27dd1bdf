/* What the terminal the scan prints on wants: colour or not, and how many
 * columns the text table may take.  Read from the environment and the
 * output descriptor; nothing is printed. */
#ifndef CS_TERMINAL_H
#define CS_TERMINAL_H

#include <stdbool.h>

/* Whether the text table on fd is coloured (no-color.org): --color always
   and never decide; auto colours a terminal unless NO_COLOR is set and not
   empty or TERM is "dumb". */
bool cs_terminal_color(unsigned when, int fd);

/* The columns a table on fd fits in: COLUMNS when it is a whole number from
   1 to CS_TERMINAL_MAX_COLUMNS, else the width of fd when it is a terminal
   (fd -1: a file, never), else 0 (unknown: the writer's default). */
#define CS_TERMINAL_MAX_COLUMNS 10000
unsigned cs_terminal_columns(int fd);

#endif
