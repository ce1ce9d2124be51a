/*
 * json.c - JSON text from jansson values (see json.h).
 *
 * Owns: the one way the library turns a jansson value into text.
 * Never: returns text that differs from what the value holds.
 *
 * jansson 2.14's json_dumps ignores a failure to write an object's key
 * (do_dump calls dump_string without checking it): when its buffer cannot
 * grow there, the text silently loses that key, and the result is not the
 * value it was given (found by tests/test_faults_alloc).  json_dumpb
 * writes into a buffer we size first, so no write can fail, and any
 * allocation that does fail (the sorted key list) fails the whole dump.
 */
#include "json.h"

#include <stdlib.h>

char *
ev_json_dumps(const json_t *j, size_t flags)
{
    size_t n = json_dumpb(j, NULL, 0, flags);
    char *s;

    if (n == 0) {
        return NULL;
    }
    s = malloc(n + 1);
    if (s == NULL) {
        return NULL;
    }
    if (json_dumpb(j, s, n, flags) != n) {
        free(s);
        return NULL;
    }
    s[n] = '\0';
    return s;
}
