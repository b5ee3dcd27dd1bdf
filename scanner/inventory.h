/* CSV inventories (-f hosts.csv): a header row naming the columns, then one
 * target a row, read with libcsv one row at a time as the scan asks for
 * more.  This reader splits rows into cells and checks their sizes; what a
 * row means (a target, its labels) is decided in targets.c. */
#ifndef CS_INVENTORY_H
#define CS_INVENTORY_H

#include <stddef.h>
#include <stdint.h>

#define CS_INV_ROW_MAX 4096 /* bytes of one row, as in a targets file's line */

/* The columns an inventory may name (case-insensitive); any other is a label. */
enum cs_inv_col { CS_INV_HOST, CS_INV_PORT, CS_INV_SNI, CS_INV_PROTOCOL, CS_INV_ADDRESS, CS_INV_N };

/* The next byte of the input, or -1 at its end (or on a read error). */
typedef int (*cs_inv_byte_fn)(void *arg);

struct cs_inventory;

/* One row.  Everything points into the reader and stays valid until the
   next call. */
struct cs_inv_row {
    uint64_t line;             /* the line the row starts on (the header is line 1) */
    const char *bad;           /* why the row cannot be a target, or NULL */
    const char *text;          /* the row as read, cut at CS_INV_ROW_MAX: for a bad record */
    size_t text_len;           /* bytes of text */
    const char *col[CS_INV_N]; /* each known column's cell; NULL when the inventory has no
                                  such column or the cell is empty */
    const char *const *label;  /* one value per label column (cs_inventory_labels), "" when
                                  the cell is empty */
};

/* Reads the header row.  Returns the reader, or NULL and why in err ("the
   header row has no 'host' column ...").  An input with no row at all is a
   reader with no rows. */
struct cs_inventory *cs_inventory_open(cs_inv_byte_fn next, void *arg, char *err, size_t errlen);
/* The label columns' names, in column order. */
size_t cs_inventory_labels(const struct cs_inventory *inv, const char *const **names);
/* The next row that is not blank: 1 and *row filled, or 0 at the end. */
int cs_inventory_next(struct cs_inventory *inv, struct cs_inv_row *row);
/* Lines read so far. */
uint64_t cs_inventory_lines(const struct cs_inventory *inv);
void cs_inventory_close(struct cs_inventory *inv);

#endif
