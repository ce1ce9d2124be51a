/*
 * fuzz_age_keys.c - age key text from outside: recipients ("age1...", in
 * contact files and `key member add --age`), identities
 * ("AGE-SECRET-KEY-1...") and identity files (`--identity FILE`): Bech32
 * decoding, checksums, lengths, case rules, comment and line handling.
 * A decoded key must encode back to the same text (case folded as the
 * spec says).
 */
#include "age.h"
#include "fuzz.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1), out[128];
    uint8_t k[32];

    if (s == NULL) {
        return 0;
    }
    memcpy(s, data, size);
    s[size] = '\0';
    if (ev_age_recipient_decode(k, s) == 0) {
        if (ev_age_recipient_encode(out, sizeof out, k) != 0 ||
            strcmp(out, s) != 0) {
            abort();
        }
    }
    if (ev_age_identity_decode(k, s) == 0) {
        if (ev_age_identity_encode(out, sizeof out, k) != 0 ||
            strcmp(out, s) != 0) {
            abort();
        }
    }
    (void)ev_age_identity_file_parse(k, s, size);
    free(s);
    return 0;
}
