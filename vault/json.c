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

#include "crypto.h"

#include <stdlib.h>

/* Most texts (a record's metadata, a log entry) fit this: one pass. */
#define FIRST_TRY 1024

char *
ev_json_dumps(const json_t *j, size_t flags)
{
    char *s = malloc(FIRST_TRY);
    size_t n;

    if (s == NULL) {
        return NULL;
    }
    n = json_dumpb(j, s, FIRST_TRY, flags);
    if (n > 0 && n < FIRST_TRY) {
        s[n] = '\0';
        return s;
    }
    /* Too long (or failed): what was written may be secret. */
    ev_wipe(s, FIRST_TRY);
    free(s);
    if (n == 0) {
        return NULL;
    }
    s = malloc(n + 1);
    if (s == NULL) {
        return NULL;
    }
    if (json_dumpb(j, s, n, flags) != n) {
        ev_wipe(s, n);
        free(s);
        return NULL;
    }
    s[n] = '\0';
    return s;
}
