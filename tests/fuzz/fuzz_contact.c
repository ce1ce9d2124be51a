/*
 * fuzz_contact.c - a contact file from a partner (`evault contact add
 * --file`): the "evault contact v1" lines, then the age recipient and
 * minisign key they carry, then the fingerprint.  A parsed contact must
 * hold NUL-terminated fields within their arrays.
 */
#include "evault.h"
#include "fuzz.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ev_contact c;

    if (ev_contact_parse((const char *)data, size, &c) == EV_OK) {
        if (memchr(c.name, '\0', sizeof c.name) == NULL ||
            memchr(c.age, '\0', sizeof c.age) == NULL ||
            memchr(c.minisign, '\0', sizeof c.minisign) == NULL ||
            memchr(c.fingerprint, '\0', sizeof c.fingerprint) == NULL ||
            c.name[0] == '\0') {
            abort();
        }
    }
    return 0;
}
