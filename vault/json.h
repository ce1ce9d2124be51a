/*
 * json.h - JSON text from jansson values, safe when memory runs out.
 */
#ifndef EV_JSON_H
#define EV_JSON_H

#include <jansson.h>

/* Like json_dumps: malloc'd, NUL-terminated text, or NULL (out of
 * memory).  Never a text with a member left out. */
char *ev_json_dumps(const json_t *j, size_t flags);

#endif
