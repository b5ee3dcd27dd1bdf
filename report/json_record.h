/* The result record as a jansson object, shared by the json and jsonl
 * writers: keys are the field names in the field table's order, lists are
 * arrays, absent values are null, times are ISO 8601 UTC strings. */
#ifndef CS_JSON_RECORD_H
#define CS_JSON_RECORD_H

#include <jansson.h>

#include "scanner/result.h"

/* A new reference, or NULL when out of memory.  A string that is not valid
   UTF-8 is kept, with each invalid byte replaced by U+FFFD. */
json_t *cs__json_record(const struct cs_result *r);

/* json_string() that never rejects a string for bad UTF-8 (see above); JSON
   null for s == NULL; NULL only when out of memory. */
json_t *cs__json_string(const char *s);

#endif
